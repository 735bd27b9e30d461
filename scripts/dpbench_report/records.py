"""Tidy records: one flat record per point, whatever file or machine it came from.

Plots, tables and compare all work on these records rather than on raw documents, so that several files
(different machines, different days) can be laid side by side.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Sequence, TypeVar, cast

from .load import ResultsFile
from .median_ci import median_ci

# Display order of axes: the order dpbench declares a command's axes in, which a results file
# states as "axis_order" (older files: the order of the point's id, see axis_order_of_point); axes
# not listed follow alphabetically. There is no copy of that order here.

# Axes that always follow from others (devices from ranks, count from bytes / dtype) and so never
# define a series or a figure of their own. Which batch axis follows depends on the scaling mode:
# see derived_axes.
DERIVED_AXES: frozenset[str] = frozenset({"devices", "count"})

# Figures that mean something only between two or more ranks: at one rank there is no bus traffic
# and no all-reduce to hide, and the 0 (busbw) or 1 (overlap) a record holds would read as a result.
MULTI_RANK_METRICS: frozenset[str] = frozenset({"busbw", "overlap_fraction"})

# Where a record states the median's interval itself (the C++ side adds it); else it is computed.
_MEDIAN_CI_KEYS: tuple[tuple[str, str], ...] = (("median_ci95_low", "median_ci95_high"),
                                               ("ci95_median_low", "ci95_median_high"))

# The leading columns of PointRecord.row(): which point of which file, and how it ended.
ROW_IDENTITY: tuple[str, ...] = ("file", "machine", "command", "backend", "id", "kind", "status", "reason")

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class PointRecord:
    """One point of one results file, flattened."""

    file: str
    file_index: int
    machine: str
    command: str
    backend: str
    id: str
    kind: str
    status: str
    reason: str | None
    axes: dict[str, Any]  # in display order (axis_order, then the rest alphabetically)
    axis_order: tuple[str, ...] = ()
    medians: dict[str, float] = field(default_factory=dict)
    ci95: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)  # of the mean
    median_ci95: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    stat_units: dict[str, str] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)
    metric_units: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def axis(self, name: str, default: Any = None) -> Any:
        return self.axes.get(name, default)

    def metric(self, name: str) -> float | None:
        return self.metrics.get(name)

    def median(self, name: str) -> float | None:
        return self.medians.get(name)

    @property
    def ranks(self) -> int | None:
        ranks = self.axes.get("ranks")
        return ranks if isinstance(ranks, int) and not isinstance(ranks, bool) else None

    def shown_metric(self, name: str) -> float | None:
        """The metric as tables, plots and exports show it: None where it has no meaning (one rank)."""
        if name in MULTI_RANK_METRICS and self.ranks == 1:
            return None
        return self.metrics.get(name)

    def row(self) -> dict[str, Any]:
        """One flat row for tables and exports (CSV, Parquet).

        Columns: file/machine/command/backend/id/kind/status/reason; axis.<name> (lists as "0,1,2");
        per statistic <stat>.median, .median_ci95_low/high, .mean, .ci95_low/high (of the mean), .min,
        .max, .p10, .p90, .stddev, .count, .unit; per metric metric.<name> (as shown_metric) and .unit.
        """
        out: dict[str, Any] = {name: getattr(self, name) for name in ROW_IDENTITY}
        for name in self.axes:
            out[f"axis.{name}"] = axis_text(self.axes[name]) if isinstance(self.axes[name], list) else self.axes[name]
        raw_stats = self.raw.get("stats") or {}
        for name, value in self.medians.items():
            stats = raw_stats.get(name) or {}
            out[f"{name}.median"] = value
            out[f"{name}.median_ci95_low"], out[f"{name}.median_ci95_high"] = self.median_ci95.get(name, (None, None))
            out[f"{name}.mean"] = _number(stats.get("mean"))
            out[f"{name}.ci95_low"], out[f"{name}.ci95_high"] = self.ci95.get(name, (None, None))
            for key in ("min", "max", "p10", "p90", "stddev"):
                out[f"{name}.{key}"] = _number(stats.get(key))
            out[f"{name}.count"] = stats.get("count")
            out[f"{name}.unit"] = self.stat_units.get(name, "")
        for name in self.metrics:
            out[f"metric.{name}"] = self.shown_metric(name)
            out[f"metric.{name}.unit"] = self.metric_units.get(name, "")
        return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _median_interval(stats: dict[str, Any], samples: list[float]) -> tuple[float | None, float | None]:
    """The record's own interval of the median when it has one, else order statistics of its samples."""
    for low_key, high_key in _MEDIAN_CI_KEYS:
        low, high = _number(stats.get(low_key)), _number(stats.get(high_key))
        if low is not None and high is not None:
            return low, high
    interval = median_ci(samples)
    return interval if interval is not None else (None, None)


def axis_order_from_id(point_id: str) -> tuple[str, ...]:
    """The axis names of a point id ("<kind>/<axis>=<value>/..."), in its order.

    dpbench builds ids from the same ordered axis list it writes as axis_order (axes at their default
    are left out of the id and so follow alphabetically), which makes this the fallback for files
    written before axis_order existed.
    """
    return tuple(part.split("=", 1)[0] for part in point_id.split("/")[1:] if "=" in part)


def axis_order_of_point(results: ResultsFile, point: dict[str, Any]) -> tuple[str, ...]:
    """The file's axis_order, else (older files) the order of the point's id."""
    order = results.axis_order
    return order if order is not None else axis_order_from_id(str(point.get("id", "")))


def record_from_point(results: ResultsFile, index: int, point: dict[str, Any]) -> PointRecord:
    medians: dict[str, float] = {}
    ci95: dict[str, tuple[float | None, float | None]] = {}
    median_ci95: dict[str, tuple[float | None, float | None]] = {}
    units: dict[str, str] = {}
    samples: dict[str, list[float]] = {}
    for name, stats in (point.get("stats") or {}).items():
        median = _number(stats.get("median"))
        if median is not None:
            medians[name] = median
        ci95[name] = (_number(stats.get("ci95_low")), _number(stats.get("ci95_high")))
        units[name] = str(stats.get("unit", ""))
        samples[name] = [float(x) for x in stats.get("samples") or []]
        median_ci95[name] = _median_interval(stats, samples[name])
    metrics: dict[str, float | None] = {}
    metric_units: dict[str, str] = {}
    for name, metric in (point.get("metrics") or {}).items():
        metrics[name] = _number(metric.get("value"))
        metric_units[name] = str(metric.get("unit", ""))
    order = axis_order_of_point(results, point)
    axes = point.get("axes") or {}
    return PointRecord(
        file=str(results.path), file_index=index, machine=results.machine, command=results.command,
        backend=str(results.system.get("backend", "")), id=str(point["id"]), kind=str(point["kind"]),
        status=str(point["status"]), reason=point.get("reason"),
        axes={name: axes[name] for name in ordered_axes(axes, order)}, axis_order=order,
        medians=medians, ci95=ci95, median_ci95=median_ci95, stat_units=units, samples=samples, metrics=metrics,
        metric_units=metric_units, raw=point,
    )


def to_records(files: Sequence[ResultsFile]) -> list[PointRecord]:
    """Every point of every file, in file order then point order."""
    return [record_from_point(f, i, p) for i, f in enumerate(files) for p in f.points]


def ordered_axes(axes: Iterable[str], order: Sequence[str]) -> list[str]:
    """The names in `order`'s order, names it does not list after them alphabetically."""
    names = list(axes)
    rank = {n: i for i, n in enumerate(order)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def merged_axis_order(records: Iterable[PointRecord]) -> tuple[str, ...]:
    """The records' axis orders as one: each file's order, names first seen earlier kept first."""
    return tuple(dict.fromkeys(name for r in records for name in r.axis_order))


def axis_text(value: Any) -> str:
    """Short text for an axis value: lists joined by commas, booleans as on/off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ",".join(axis_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def hashable(value: Any) -> Hashable:
    """A hashable stand-in for a JSON value (lists and objects become tuples)."""
    if isinstance(value, list):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, hashable(v)) for k, v in value.items()))
    return cast(Hashable, value)


def derived_axes(records: Iterable[PointRecord]) -> frozenset[str]:
    """Axes of these records that follow from others and so never split figures or series.

    Weak scaling fixes the per-rank batch: global_batch = batch x ranks follows. Strong scaling
    (`--global-batch`) fixes the global batch: batch = global_batch / ranks follows, and treating it
    as fixed would cut a rank sweep into one-point figures.
    """
    modes = {r.axes.get("scaling") for r in records}
    return DERIVED_AXES | {"batch" if mode == "strong" else "global_batch" for mode in modes}


def varying_axes(records: Iterable[PointRecord], ignore: Iterable[str] | None = None) -> list[str]:
    """Axes whose value differs between the records (absent counts as a value), display-ordered.

    ignore defaults to the records' derived axes.
    """
    recs = list(records)
    skip = set(derived_axes(recs) if ignore is None else ignore)
    values: dict[str, set[Hashable]] = defaultdict(set)
    names = {n for r in recs for n in r.axes}
    for r in recs:
        for n in names:
            values[n].add(hashable(r.axes.get(n)))
    return ordered_axes((n for n in names if n not in skip and len(values[n]) > 1), merged_axis_order(recs))


def constant_axes(records: Iterable[PointRecord], ignore: Iterable[str] | None = None) -> dict[str, Any]:
    """Axes with one value across all records (and present in all of them); ignore as in varying_axes."""
    recs = list(records)
    if not recs:
        return {}
    skip = set(derived_axes(recs) if ignore is None else ignore)
    out: dict[str, Any] = {}
    for name in ordered_axes(recs[0].axes, merged_axis_order(recs)):
        if name in skip:
            continue
        first = recs[0].axes[name]
        if all(name in r.axes and hashable(r.axes[name]) == hashable(first) for r in recs):
            out[name] = first
    return out


def describe_axes(axes: dict[str, Any], names: Iterable[str] | None = None, sep: str = ", ") -> str:
    """'algo=p2p-ring, ranks=4' for the named axes (all axes, in their order, when names is None).

    A record's axes and constant_axes' result are in display order already.
    """
    keys = list(axes) if names is None else [n for n in names if n in axes]
    return sep.join(f"{n}={axis_text(axes[n])}" for n in keys)


def group_by(items: Iterable[T], key: Callable[[T], Hashable]) -> dict[Hashable, list[T]]:
    """Stable grouping: groups in first-seen order, items in input order."""
    groups: dict[Hashable, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def sort_key(value: Any) -> tuple[int, Any]:
    """Orders mixed axis values: numbers numerically, then everything else as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, axis_text(value))

"""Regression verdicts between two results files (baseline and contender).

Points are matched by id, then by kind + axes. The primary statistic's medians are compared and a
two-sided Mann-Whitney U test on the raw samples decides whether the difference is more than noise.
A regression is a slowdown beyond the threshold with p < alpha; an improvement is the mirror image.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Hashable, cast

from scipy.stats import mannwhitneyu

from .load import ResultsFile
from .records import PointRecord, hashable, to_records

# kind -> (statistic, True when lower is better)
PRIMARY_STATISTIC: dict[str, tuple[str, bool]] = {"train": ("step", True), "allreduce": ("time", True)}
# Metrics whose change is reported beside the verdict (informational; they follow from the statistic).
SECONDARY_METRICS: dict[str, tuple[str, ...]] = {"allreduce": ("busbw",), "train": ("samples_per_s",)}
MIN_SAMPLES = 5
DEFAULT_THRESHOLD_PCT = 5.0
DEFAULT_ALPHA = 0.05

REGRESSION, IMPROVEMENT, UNCHANGED = "regression", "improvement", "unchanged"
SLOWER_NS, FASTER_NS, NOT_COMPARED = "slower (not significant)", "faster (not significant)", "not compared"
# A point that was ok in the baseline and failed, was skipped or timed out in the contender: CI fails.
NEWLY_FAILING = "newly failing"


@dataclass
class PointRef:
    """A point present on one side only, or the side of a comparison it came from."""

    id: str
    kind: str
    status: str
    axes: dict[str, Any]
    reason: str | None = None


@dataclass
class MetricChange:
    name: str
    unit: str
    baseline: float | None
    contender: float | None
    change_pct: float | None


@dataclass
class Comparison:
    """The verdict for one matched pair of points."""

    id: str
    kind: str
    matched_by: str
    axes: dict[str, Any]
    verdict: str
    statistic: str | None = None
    unit: str = ""
    lower_is_better: bool = True
    baseline_median: float | None = None
    contender_median: float | None = None
    change_pct: float | None = None
    p_value: float | None = None
    n_baseline: int = 0
    n_contender: int = 0
    baseline_status: str = "ok"
    contender_status: str = "ok"
    notes: list[str] = field(default_factory=list)
    metrics: list[MetricChange] = field(default_factory=list)
    contender_id: str | None = None


@dataclass
class CompareResult:
    baseline: str
    contender: str
    baseline_machine: str
    contender_machine: str
    threshold_pct: float
    alpha: float
    comparisons: list[Comparison]
    only_in_baseline: list[PointRef]
    only_in_contender: list[PointRef]

    def with_verdict(self, verdict: str) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == verdict]

    @property
    def regressions(self) -> list[Comparison]:
        return self.with_verdict(REGRESSION) + self.with_verdict(NEWLY_FAILING)

    @property
    def improvements(self) -> list[Comparison]:
        return self.with_verdict(IMPROVEMENT)

    def counts(self) -> dict[str, int]:
        verdicts = (REGRESSION, NEWLY_FAILING, IMPROVEMENT, UNCHANGED, SLOWER_NS, FASTER_NS, NOT_COMPARED)
        out = {v: len(self.with_verdict(v)) for v in verdicts}
        out["only in baseline"] = len(self.only_in_baseline)
        out["only in contender"] = len(self.only_in_contender)
        return out

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["summary"] = self.counts()
        return cast(dict[str, Any], _finite(doc))


def _finite(value: Any) -> Any:
    """JSON has no NaN/inf: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def samples_needed(alpha: float, limit: int = 64) -> int:
    """Smallest n (per side, equal sizes) for which an exact two-sided U test can reach p < alpha."""
    for n in range(1, limit + 1):
        if 2.0 / math.comb(2 * n, n) < alpha:
            return n
    return limit


def change_pct(baseline: float | None, contender: float | None) -> float | None:
    if baseline is None or contender is None or baseline == 0:
        return None
    return (contender - baseline) / abs(baseline) * 100.0


def u_test(a: list[float], b: list[float]) -> float | None:
    """Two-sided Mann-Whitney U p-value, or None where it cannot be computed."""
    if not a or not b:
        return None
    if len(set(a) | set(b)) == 1:
        return 1.0  # every sample identical on both sides: no evidence of a difference
    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return None if math.isnan(p) else p


def _ref(r: PointRecord) -> PointRef:
    return PointRef(id=r.id, kind=r.kind, status=r.status, axes=r.axes, reason=r.reason)


def _axes_key(r: PointRecord) -> Hashable:
    return (r.kind, hashable(r.axes))


def match_points(base: list[PointRecord], cont: list[PointRecord]
                 ) -> tuple[list[tuple[PointRecord, PointRecord, str]], list[PointRecord], list[PointRecord]]:
    """Pairs by id, then by kind + axes among the leftovers; then what is left on each side."""
    cont_by_id: dict[str, PointRecord] = {}
    for r in cont:
        cont_by_id[r.id] = r  # a resumed file may repeat an id: the last record wins, as on disk
    pairs: list[tuple[PointRecord, PointRecord, str]] = []
    used: set[int] = set()
    seen_base: set[str] = set()
    left_base: list[PointRecord] = []
    for r in reversed(base):
        if r.id in seen_base:
            continue  # an earlier record of an id repeated later in the file
        seen_base.add(r.id)
        other = cont_by_id.get(r.id)
        if other is not None:
            pairs.append((r, other, "id"))
            used.add(id(other))
        else:
            left_base.append(r)
    pairs.reverse()
    left_base.reverse()
    left_cont = [r for r in cont_by_id.values() if id(r) not in used]
    by_axes: dict[Hashable, PointRecord] = {_axes_key(r): r for r in left_cont}
    still_base: list[PointRecord] = []
    for r in left_base:
        other = by_axes.pop(_axes_key(r), None)
        if other is not None:
            pairs.append((r, other, "axes"))
            used.add(id(other))
        else:
            still_base.append(r)
    still_cont = [r for r in left_cont if id(r) not in used]
    return pairs, still_base, still_cont


def compare_pair(b: PointRecord, c: PointRecord, matched_by: str, threshold_pct: float, alpha: float) -> Comparison:
    out = Comparison(id=b.id, kind=b.kind, matched_by=matched_by, axes=b.axes, verdict=NOT_COMPARED,
                     baseline_status=b.status, contender_status=c.status,
                     contender_id=c.id if c.id != b.id else None)
    if not (b.ok and c.ok):
        for side, r in (("baseline", b), ("contender", c)):
            if not r.ok:
                out.notes.append(f"{side} {r.status}: {r.reason or 'no reason recorded'}")
        if b.ok:
            out.verdict = NEWLY_FAILING
        return out
    if b.kind != c.kind:
        out.notes.append(f"kinds differ: {b.kind} vs {c.kind}")
        return out
    primary = PRIMARY_STATISTIC.get(b.kind)
    if primary is None:
        out.notes.append(f"no primary statistic for {b.kind} points")
        return out
    stat, lower_is_better = primary
    out.statistic, out.lower_is_better = stat, lower_is_better
    out.unit = b.stat_units.get(stat) or c.stat_units.get(stat, "")
    out.baseline_median, out.contender_median = b.median(stat), c.median(stat)
    for name in SECONDARY_METRICS.get(b.kind, ()):
        if name in b.metrics or name in c.metrics:
            out.metrics.append(MetricChange(name=name, unit=b.metric_units.get(name) or c.metric_units.get(name, ""),
                                            baseline=b.metric(name), contender=c.metric(name),
                                            change_pct=change_pct(b.metric(name), c.metric(name))))
    if out.baseline_median is None or out.contender_median is None:
        side = "baseline" if out.baseline_median is None else "contender"
        out.notes.append(f"statistic {stat} missing on the {side} side")
        return out
    out.change_pct = change_pct(out.baseline_median, out.contender_median)
    sa, sc = b.samples.get(stat, []), c.samples.get(stat, [])
    out.n_baseline, out.n_contender = len(sa), len(sc)
    out.p_value = u_test(sa, sc)
    needed = max(MIN_SAMPLES, samples_needed(alpha))
    if min(len(sa), len(sc)) < needed:
        out.notes.append(f"too few samples for significance at alpha={alpha:g} "
                         f"({len(sa)} vs {len(sc)}; want at least {needed} per side)")
    out.verdict = verdict(out.change_pct, out.p_value, lower_is_better, threshold_pct, alpha)
    return out


def verdict(change: float | None, p: float | None, lower_is_better: bool, threshold_pct: float, alpha: float) -> str:
    if change is None:
        return UNCHANGED
    worse = change if lower_is_better else -change
    significant = p is not None and p < alpha
    if worse > threshold_pct:
        return REGRESSION if significant else SLOWER_NS
    if worse < -threshold_pct:
        return IMPROVEMENT if significant else FASTER_NS
    return UNCHANGED


def compare_files(baseline: ResultsFile, contender: ResultsFile, threshold_pct: float = DEFAULT_THRESHOLD_PCT,
                  alpha: float = DEFAULT_ALPHA) -> CompareResult:
    """Compare every point of two results files."""
    if not (threshold_pct >= 0 and math.isfinite(threshold_pct)):
        raise ValueError(f"threshold must be a non-negative percentage, got {threshold_pct}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    base, cont = to_records([baseline]), to_records([contender])
    pairs, only_b, only_c = match_points(base, cont)
    comparisons = [compare_pair(b, c, how, threshold_pct, alpha) for b, c, how in pairs]
    return CompareResult(baseline=str(baseline.path), contender=str(contender.path),
                         baseline_machine=baseline.machine, contender_machine=contender.machine,
                         threshold_pct=threshold_pct, alpha=alpha, comparisons=comparisons,
                         only_in_baseline=[_ref(r) for r in only_b], only_in_contender=[_ref(r) for r in only_c])


def dump_json(result: CompareResult) -> str:
    return json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n"

"""The report's tables as data: cells, tables and definition lists that the Jinja2 templates render.

Nothing here writes markup. Every string from a results file stays plain text until a template
(autoescaped) places it, so escaping happens in one place; numbers are formatted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from .load import ResultsFile
from .records import MULTI_RANK_METRICS, PointRecord, axis_text, constant_axes, describe_axes, varying_axes
from .units import fmt_num, human_bytes

STATUSES: tuple[str, ...] = ("ok", "failed", "skipped", "timeout")
MISSING = "—"


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, an optional second line in small type, and how to set it off."""

    text: str
    note: str = ""
    css: str = ""  # class of a span around the text: status-<status>, bad
    code: bool = False
    bold: bool = False


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    css: str = ""


@dataclass(frozen=True)
class Matrix:
    """A measured matrix (p2p bandwidth, latency) of one point, as a numeric table."""

    name: str
    unit: str
    point_id: str
    description: str
    table: Table
    summary: str


@dataclass(frozen=True)
class PointsTable:
    """Every point of one file, with the axes shared by all of them stated once above the table."""

    fixed: str
    table: Table | None
    notes: list[str] = field(default_factory=list)


def text(value: Any) -> str:
    return MISSING if value is None else str(value)


def gib(n: Any) -> str:
    if isinstance(n, int) and not isinstance(n, bool):
        return f"{n / (1 << 30):.1f} GiB"
    return MISSING


def status_cell(status: str) -> Cell:
    return Cell(status, css=f"status-{status}")


def host_items(f: ResultsFile) -> list[tuple[str, str]]:
    host = f.system["host"]
    return [("hostname", text(host.get("hostname"))), ("OS", text(host.get("os"))),
            ("kernel", text(host.get("kernel"))), ("CPU", text(host.get("cpu_model"))),
            ("logical cores", text(host.get("cpu_logical_cores"))), ("memory", gib(host.get("memory_bytes"))),
            ("backend", text(f.system.get("backend")))]


def version_items(f: ResultsFile) -> list[tuple[str, str]]:
    build, runtime = f.dpbench, f.system.get("runtime") or {}
    return [("dpbench", text(build.get("version"))), ("git revision", text(build.get("git_revision"))),
            ("backends compiled", ", ".join(str(b) for b in build.get("backends_compiled") or [])),
            ("CUDA (build)", text(build.get("cuda_build_version"))),
            ("NCCL (build)", text(build.get("nccl_build_version"))),
            ("CUDA driver", text(runtime.get("cuda_driver_version"))),
            ("CUDA runtime", text(runtime.get("cuda_runtime_version"))),
            ("NCCL (loaded)", text(runtime.get("nccl_version"))), ("NVML", text(runtime.get("nvml")))]


def run_items(f: ResultsFile) -> list[tuple[str, str]]:
    inv = f.invocation
    complete = inv.get("complete")
    complete_text = "yes" if complete is True else "no (interrupted or still running)" if complete is False else MISSING
    return [("command", f.command), ("started", text(inv.get("started_at"))),
            ("last written", text(inv.get("updated_at"))), ("complete", complete_text)]


def devices_table(devices: Sequence[dict[str, Any]]) -> Table | None:
    if not devices:
        return None
    rows = [[Cell(text(d.get("index"))), Cell(text(d.get("name"))), Cell(text(d.get("kind"))),
             Cell(gib(d.get("memory_bytes"))), Cell(d.get("compute_capability") or MISSING),
             Cell(fmt_num(d.get("sm_count"))), Cell(fmt_num(d.get("clock_mhz"))),
             Cell(d.get("pci_bus_id") or MISSING), Cell(d.get("uuid") or MISSING)] for d in devices]
    return Table(["#", "name", "kind", "memory", "compute capability", "SMs", "clock (MHz)", "PCI bus", "UUID"],
                 rows)


def peers_table(peers: Sequence[dict[str, Any]]) -> Table | None:
    """Ordered pairs as a matrix: cell = link (or access / no access)."""
    if not peers:
        return None
    ids = sorted({int(p["src"]) for p in peers} | {int(p["dst"]) for p in peers})
    cell = {(int(p["src"]), int(p["dst"])): p for p in peers}
    rows = []
    for s in ids:
        row = [Cell(str(s), bold=True)]
        for d in ids:
            p = cell.get((s, d))
            if s == d or p is None:
                row.append(Cell(MISSING))
                continue
            label = p.get("link") or ("access" if p.get("access_supported") else "no access")
            row.append(Cell(str(label), css="" if p.get("access_supported") else "bad"))
        rows.append(row)
    return Table(["src \\ dst"] + [str(d) for d in ids], rows, "matrix")


def _stat_cell(r: PointRecord, name: str) -> Cell:
    median = r.medians.get(name)
    if median is None:
        return Cell(MISSING)
    low, high = r.median_ci95.get(name, (None, None))
    n = len(r.samples.get(name, []))
    ci = f"[{fmt_num(low)}, {fmt_num(high)}]" if low is not None and high is not None else f"[{MISSING}]"
    return Cell(fmt_num(median), note=f"{ci} n={n}")


def _check_cell(r: PointRecord) -> Cell:
    check = r.raw.get("check")
    if not check:
        return Cell(MISSING)
    wrong, checked = check.get("wrong_elements"), check.get("checked_elements")
    return Cell(f"{wrong} / {checked} wrong", css="bad" if wrong else "")


def _axis_cell(name: str, value: Any) -> Cell:
    if name == "bytes" and isinstance(value, int) and not isinstance(value, bool):
        return Cell(human_bytes(value), note=str(value))
    return Cell(axis_text(value)) if value is not None else Cell(MISSING)


def _with_unit(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


def _host_bound(r: PointRecord) -> bool:
    extra = r.raw.get("extra") or {}
    return bool(extra.get("host_bound", False))


def _status_or_host_bound(r: PointRecord) -> Cell:
    """The status, with "host-bound" beside it where the record says the host limited the point."""
    if r.ok and _host_bound(r):
        return Cell(f"{r.status} (host-bound)", css=f"status-{r.status}")
    return status_cell(r.status)


def points_table(recs: Sequence[PointRecord]) -> PointsTable:
    """Every point of one file: id, status, varying axes, stat medians with their 95% CI, metrics, check."""
    if not recs:
        return PointsTable(fixed="", table=None)
    shown = varying_axes(recs, ignore=())
    stat_names = list(dict.fromkeys(n for r in recs for n in r.medians))
    metric_names = list(dict.fromkeys(n for r in recs for n in r.metrics))
    has_check = any(r.raw.get("check") for r in recs)
    stat_units = {n: next((r.stat_units[n] for r in recs if r.stat_units.get(n)), "") for n in stat_names}
    metric_units = {n: next((r.metric_units[n] for r in recs if r.metric_units.get(n)), "") for n in metric_names}
    headers = (["id", "status"] + shown
               + [_with_unit(f"{n} median", stat_units[n]) + " [95% CI]" for n in stat_names]
               + [_with_unit(n, metric_units[n]) for n in metric_names]
               + (["check"] if has_check else []))
    rows = []
    for r in recs:
        row = [Cell(r.id, code=True), _status_or_host_bound(r)]
        row += [_axis_cell(a, r.axes.get(a)) for a in shown]
        row += [_stat_cell(r, n) for n in stat_names]
        row += [Cell(fmt_num(r.shown_metric(n))) for n in metric_names]
        if has_check:
            row.append(_check_cell(r))
        rows.append(row)
    notes = ["Medians with the 95% confidence interval of the median: as recorded by dpbench where the record "
             "states it, else from the order statistics of the stored samples (distribution-free); "
             "n = raw samples stored."]
    if any(_host_bound(r) for r in recs):
        notes.append("host-bound: the host's time to enqueue a call (or step) reached the device time, so the "
                     "device time shows how fast the host fed the device (extra.host_bound).")
    undefined = [n for n in metric_names if n in MULTI_RANK_METRICS]
    if undefined and any(r.ranks == 1 for r in recs):
        notes.append(f"{' and '.join(undefined)}: not defined at one rank (no bus traffic, nothing to overlap), "
                     f"shown as {MISSING}.")
    return PointsTable(fixed=describe_axes(constant_axes(recs)), table=Table(headers, rows, "points"), notes=notes)


def problems_table(recs: Sequence[PointRecord]) -> Table | None:
    """Points that did not produce a measurement, with their reasons; None when every point completed."""
    bad = [r for r in recs if not r.ok]
    if not bad:
        return None
    rows = [[Cell(r.id, code=True), status_cell(r.status), Cell(describe_axes(r.axes)),
             Cell(r.reason or "(no reason recorded)")] for r in bad]
    return Table(["id", "status", "axes", "reason"], rows, "problems")


def status_counts(recs: Sequence[PointRecord]) -> list[tuple[str, int]]:
    counts = [(s, sum(1 for r in recs if r.status == s)) for s in STATUSES]
    return [(s, n) for s, n in counts if n]


def matrices(recs: Sequence[PointRecord]) -> list[Matrix]:
    """Each measured matrix as a numeric table (the heat maps show the same numbers)."""
    out = []
    for r in recs:
        for m in r.raw.get("matrices") or []:
            devices = list(m.get("devices") or [])
            values = m.get("values") or []
            cols = max((len(v) for v in values), default=0)
            col_ids = [devices[j] if j < len(devices) else j for j in range(cols)]
            rows = [[Cell(str(devices[i] if i < len(devices) else i), bold=True)] + [Cell(fmt_num(v)) for v in row]
                    for i, row in enumerate(values)]
            summary = ", ".join(f"{k} {fmt_num(m.get(k))}" for k in ("sum", "min", "max", "average")
                                if m.get(k) is not None)
            out.append(Matrix(name=text(m.get("name")), unit=text(m.get("unit")), point_id=r.id,
                              description=str(m.get("description") or ""),
                              table=Table(["row \\ column"] + [str(c) for c in col_ids], rows, "matrix"),
                              summary=summary))
    return out

"""HTML fragments for the report: system summary, point tables, problems, matrices.

Every string that comes from a results file goes through `esc` (html.escape with quotes) before it is
placed in markup or an attribute; numbers are formatted here, never inserted raw.
"""

from __future__ import annotations

import html
from typing import Any, Iterable, Sequence

from .load import ResultsFile
from .records import DERIVED_AXES, PointRecord, axis_text, constant_axes, describe_axes, varying_axes
from .units import fmt_num, human_bytes

STATUSES: tuple[str, ...] = ("ok", "failed", "skipped", "timeout")


def esc(value: Any) -> str:
    """Escaped text for HTML content and quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """A table from already-escaped cells (headers are escaped here)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cls_attr = f' class="{esc(cls)}"' if cls else ""
    return (f'<div class="scroll"><table{cls_attr}>\n<thead><tr>{head}</tr></thead>\n'
            f"<tbody>\n{body}\n</tbody></table></div>")


def definition_list(items: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v if v is not None else '—')}</dd>" for k, v in items)
    return f"<dl>{rows}</dl>"


def gib(n: Any) -> str:
    if isinstance(n, int) and not isinstance(n, bool):
        return f"{n / (1 << 30):.1f} GiB"
    return "—"


def system_section(f: ResultsFile) -> str:
    """Host, devices, peers, runtime versions and the dpbench build of one file."""
    system, host = f.system, f.system["host"]
    runtime = system.get("runtime") or {}
    build = f.dpbench
    inv = f.invocation
    parts = [
        "<h4>Host</h4>",
        definition_list([
            ("hostname", host.get("hostname")), ("OS", host.get("os")), ("kernel", host.get("kernel")),
            ("CPU", host.get("cpu_model")), ("logical cores", host.get("cpu_logical_cores")),
            ("memory", gib(host.get("memory_bytes"))), ("backend", system.get("backend")),
        ]),
        "<h4>Versions</h4>",
        definition_list([
            ("dpbench", build.get("version")), ("git revision", build.get("git_revision")),
            ("backends compiled", ", ".join(str(b) for b in build.get("backends_compiled") or [])),
            ("CUDA (build)", build.get("cuda_build_version")), ("NCCL (build)", build.get("nccl_build_version")),
            ("CUDA driver", runtime.get("cuda_driver_version")), ("CUDA runtime", runtime.get("cuda_runtime_version")),
            ("NCCL (loaded)", runtime.get("nccl_version")), ("NVML", runtime.get("nvml")),
        ]),
        "<h4>Devices</h4>",
        devices_table(system.get("devices") or []),
    ]
    peers = system.get("peers") or []
    if peers:
        parts += ["<h4>Peer access</h4>", peers_table(peers)]
    parts += [
        "<h4>Run</h4>",
        definition_list([
            ("command", f.command), ("started", inv.get("started_at")), ("last written", inv.get("updated_at")),
            ("complete", _complete_text(inv.get("complete"))),
        ]),
        "<h4>Command line</h4>",
        f'<pre class="cmd"><code>{esc(inv.get("command_line"))}</code></pre>',
    ]
    return "\n".join(parts)


def _complete_text(complete: Any) -> str:
    if complete is True:
        return "yes"
    if complete is False:
        return "no (interrupted or still running)"
    return "—"


def devices_table(devices: Sequence[dict[str, Any]]) -> str:
    if not devices:
        return "<p>No devices recorded.</p>"
    rows = [[esc(d.get("index")), esc(d.get("name")), esc(d.get("kind")), esc(gib(d.get("memory_bytes"))),
             esc(d.get("compute_capability") or "—"), esc(fmt_num(d.get("sm_count"))),
             esc(fmt_num(d.get("clock_mhz"))), esc(d.get("pci_bus_id") or "—"), esc(d.get("uuid") or "—")]
            for d in devices]
    return table(["#", "name", "kind", "memory", "compute capability", "SMs", "clock (MHz)", "PCI bus", "UUID"], rows)


def peers_table(peers: Sequence[dict[str, Any]]) -> str:
    """Ordered pairs as a matrix: cell = link (or 'yes'/'no' for access)."""
    ids = sorted({int(p["src"]) for p in peers} | {int(p["dst"]) for p in peers})
    cell = {(int(p["src"]), int(p["dst"])): p for p in peers}
    rows = []
    for s in ids:
        row = [f"<b>{esc(s)}</b>"]
        for d in ids:
            p = cell.get((s, d))
            if s == d or p is None:
                row.append("—")
            else:
                text = p.get("link") or ("access" if p.get("access_supported") else "no access")
                row.append(esc(text) if p.get("access_supported") else f'<span class="bad">{esc(text)}</span>')
        rows.append(row)
    return table(["src \\ dst"] + [str(d) for d in ids], rows, "matrix")


def _stat_cell(r: PointRecord, name: str) -> str:
    median = r.medians.get(name)
    if median is None:
        return "—"
    low, high = r.ci95.get(name, (None, None))
    n = len(r.samples.get(name, []))
    ci = f"[{fmt_num(low)}, {fmt_num(high)}]" if low is not None and high is not None else "[—]"
    return f'{esc(fmt_num(median))}<br><small>{esc(ci)} n={n}</small>'


def _check_cell(r: PointRecord) -> str:
    check = r.raw.get("check")
    if not check:
        return "—"
    wrong, checked = check.get("wrong_elements"), check.get("checked_elements")
    text = f"{wrong} / {checked} wrong"
    return f'<span class="bad">{esc(text)}</span>' if wrong else esc(text)


def _axis_cell(name: str, value: Any) -> str:
    if name == "bytes" and isinstance(value, int):
        return f'{esc(human_bytes(value))}<br><small>{esc(value)}</small>'
    return esc(axis_text(value)) if value is not None else "—"


def points_table(recs: Sequence[PointRecord]) -> str:
    """Every point of one file: id, status, varying axes, stat medians with 95% CI, metrics, check."""
    if not recs:
        return "<p>No points.</p>"
    shown = varying_axes(recs, ignore=())
    fixed = constant_axes(recs, ignore=DERIVED_AXES)
    stat_names = list(dict.fromkeys(n for r in recs for n in r.medians))
    metric_names = list(dict.fromkeys(n for r in recs for n in r.metrics))
    has_check = any(r.raw.get("check") for r in recs)
    stat_units = {n: next((r.stat_units[n] for r in recs if r.stat_units.get(n)), "") for n in stat_names}
    metric_units = {n: next((r.metric_units[n] for r in recs if r.metric_units.get(n)), "") for n in metric_names}
    headers = (["id", "status"] + shown
               + [f"{n} median ({stat_units[n]}) [95% CI]" if stat_units[n] else f"{n} median [95% CI]"
                  for n in stat_names]
               + [f"{n} ({metric_units[n]})" if metric_units[n] else n for n in metric_names]
               + (["check"] if has_check else []))
    rows = []
    for r in recs:
        row = [f"<code>{esc(r.id)}</code>", f'<span class="status-{esc(r.status)}">{esc(r.status)}</span>']
        row += [_axis_cell(a, r.axes.get(a)) for a in shown]
        row += [_stat_cell(r, n) for n in stat_names]
        row += [esc(fmt_num(r.metrics.get(n))) for n in metric_names]
        if has_check:
            row.append(_check_cell(r))
        rows.append(row)
    intro = f"<p>Same for every point: {esc(describe_axes(fixed))}.</p>" if fixed else ""
    note = ("<p class=\"note\">Medians with the 95% confidence interval of the mean as recorded by dpbench; "
            "n = raw samples stored.</p>")
    return intro + table(headers, rows, "points") + note


def problems_table(recs: Sequence[PointRecord]) -> str:
    """Points that did not produce a measurement, with their reasons."""
    bad = [r for r in recs if not r.ok]
    if not bad:
        return "<p>Every point completed.</p>"
    rows = [[f"<code>{esc(r.id)}</code>", f'<span class="status-{esc(r.status)}">{esc(r.status)}</span>',
             esc(describe_axes(r.axes)), esc(r.reason or "(no reason recorded)")] for r in bad]
    return table(["id", "status", "axes", "reason"], rows, "problems")


def status_counts(recs: Sequence[PointRecord]) -> str:
    counts = {s: sum(1 for r in recs if r.status == s) for s in STATUSES}
    return ", ".join(f'<span class="status-{s}">{n} {s}</span>' for s, n in counts.items() if n) or "no points"


def matrices_section(recs: Sequence[PointRecord]) -> str:
    """Each measured matrix as a numeric table (the heat maps show the same numbers)."""
    parts = []
    for r in recs:
        for m in r.raw.get("matrices") or []:
            devices = list(m.get("devices") or [])
            values = m.get("values") or []
            cols = max((len(v) for v in values), default=0)
            col_ids = [devices[j] if j < len(devices) else j for j in range(cols)]
            rows = [[f"<b>{esc(devices[i] if i < len(devices) else i)}</b>"] + [esc(fmt_num(v)) for v in row]
                    for i, row in enumerate(values)]
            summary = ", ".join(f"{k} {fmt_num(m.get(k))}" for k in ("sum", "min", "max", "average")
                                if m.get(k) is not None)
            parts.append(f"<h4>{esc(m.get('name'))} ({esc(m.get('unit'))}) — <code>{esc(r.id)}</code></h4>"
                         + (f"<p>{esc(m.get('description'))}</p>" if m.get("description") else "")
                         + table(["row \\ column"] + [str(c) for c in col_ids], rows, "matrix")
                         + (f"<p>{esc(summary)}</p>" if summary else ""))
    return "\n".join(parts)

"""Markdown summary of a history, fit for a CI comment: flagged steps first, then the runs it read."""

from __future__ import annotations

import os
from pathlib import Path

from .compare_format import md, md_code
from .history import History, Series
from .regression_stats import REGRESSION
from .units import fmt_num, fmt_pct


def _short(revision: str) -> str:
    return revision[:12]


def _change_row(h: History, s: Series, out_dir: Path) -> str:
    c = s.change
    assert c is not None
    label = "**slower**" if c.verdict == REGRESSION else "faster"
    plot = f"[plot]({Path(os.path.relpath(s.plot, out_dir)).as_posix()})" if s.plot else "—"
    entry = h.entries[c.index]
    cells = [label, md_code(s.id), f"{md_code(_short(c.revision))} ({md(entry.started_at)})",
             f"{fmt_num(c.before)} {md(s.unit)}", f"{fmt_num(c.after)} {md(s.unit)}", fmt_pct(c.change_pct, 1),
             f"±{s.noise_pct:.1f}%", f"{abs(c.t_stat):.1f}", plot]
    return "| " + " | ".join(cells) + " |"


def to_markdown(h: History, out_dir: Path) -> str:
    changes = sorted(h.changes, key=lambda s: (s.change.verdict != REGRESSION if s.change else True,
                                              -abs(s.change.change_pct) if s.change else 0.0))
    slower = [s for s in changes if s.change and s.change.verdict == REGRESSION]
    first, last = (h.entries[0].started_at, h.entries[-1].started_at) if h.entries else ("", "")
    lines = [
        "## dpbench history", "",
        f"{len(h.entries)} revisions ({sum(len(e.files) for e in h.entries)} results files) from {md(first)} "
        f"to {md(last)} · {len(h.series)} points.", "",
        f"**{len(changes)} change point{'s' if len(changes) != 1 else ''}** ({len(slower)} slower, "
        f"{len(changes) - len(slower)} faster). A step is flagged when it exceeds {h.threshold_pct:g}% and "
        f"|t| > {h.critical_t:.2f} (all steps of all points together at {(1 - h.alpha) * 100:g}%), "
        f"against each point's run-to-run noise (never below {h.noise_floor_pct:g}%).", "",
    ]
    lines += [f"> {md(n)}" for n in h.notes] + ([""] if h.notes else [])
    if changes:
        lines += ["| direction | point | from revision | before | after | change | noise | abs(t) | trend |",
                  "|---|---|---|---:|---:|---:|---:|---:|---|"]
        lines += [_change_row(h, s, out_dir) for s in changes] + [""]
    lines += ["### Runs", "", "| # | started | revision | version | files |", "|---:|---|---|---|---|"]
    for i, e in enumerate(h.entries):
        names = ", ".join(md(Path(f).name) for f in e.files)
        lines.append(f"| {i} | {md(e.started_at)} | {md_code(_short(e.revision))} | {md(e.version)} | {names} |")
    lines.append("")
    return "\n".join(lines)

"""Markdown rendering of a comparison, for a CI job summary and the terminal."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .compare import (
    FASTER_NS, IMPROVEMENT, NEWLY_FAILING, NOT_COMPARED, REGRESSION, SLOWER_NS, UNCHANGED, CompareResult, Comparison, PointRef,
)
from .records import describe_axes
from .units import fmt_num, fmt_p, fmt_pct

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|#"})
_ORDER = {REGRESSION: 0, NEWLY_FAILING: 0, IMPROVEMENT: 1, SLOWER_NS: 2, FASTER_NS: 3, UNCHANGED: 4, NOT_COMPARED: 5}
_LABEL = {REGRESSION: "**REGRESSION**", NEWLY_FAILING: "**NEWLY FAILING**", IMPROVEMENT: "improvement", SLOWER_NS: "slower (n.s.)",
          FASTER_NS: "faster (n.s.)", UNCHANGED: "unchanged", NOT_COMPARED: "not compared"}


def md(value: Any) -> str:
    """Untrusted text made inert in markdown (and in the HTML a job summary may contain): one line."""
    text = html.escape("" if value is None else str(value), quote=False)
    return " ".join(text.split()).translate(_MD_SPECIAL)


def md_code(value: Any) -> str:
    """Untrusted text as an inline code span (literal when rendered); falls back to md() if it holds a backtick."""
    text = " ".join(("" if value is None else str(value)).split())
    if "`" in text or not text:
        return md(text)
    return "`" + text.replace("|", "\\|") + "`"


def _metric_text(c: Comparison) -> str:
    parts = [f"{m.name} {fmt_pct(m.change_pct)}" for m in c.metrics if m.change_pct is not None]
    return ", ".join(parts) or "—"


def _row(c: Comparison) -> str:
    stat = f"{c.statistic} ({c.unit})" if c.unit else (c.statistic or "—")
    cells = [_LABEL[c.verdict], md_code(c.id), md(stat), fmt_num(c.baseline_median), fmt_num(c.contender_median),
             fmt_pct(c.change_pct), fmt_p(c.p_value), f"{c.n_baseline}/{c.n_contender}", md(_metric_text(c))]
    return "| " + " | ".join(cells) + " |"


def _ref_line(r: PointRef) -> str:
    extra = f" — {md(r.status)}: {md(r.reason)}" if r.status != "ok" else ""
    return f"- {md_code(r.id)} ({md(r.kind)}; {md(describe_axes(r.axes))}){extra}"


def to_markdown(result: CompareResult) -> str:
    counts = result.counts()
    compared = [c for c in result.comparisons if c.verdict != NOT_COMPARED]
    compared.sort(key=lambda c: (_ORDER[c.verdict], -(abs(c.change_pct or 0.0))))
    lines = [
        "## dpbench compare",
        "",
        f"Baseline: {md(Path(result.baseline).name)} ({md(result.baseline_machine)}) · "
        f"Contender: {md(Path(result.contender).name)} ({md(result.contender_machine)})",
        "",
        f"A regression is a slowdown of the median beyond {result.threshold_pct:g}% with p < {result.alpha:g} "
        "(two-sided Mann-Whitney U test on the raw samples).",
        "",
        f"**{counts[REGRESSION]} regression{'s' if counts[REGRESSION] != 1 else ''}**, "
        f"{counts[IMPROVEMENT]} improvement{'s' if counts[IMPROVEMENT] != 1 else ''}, "
        f"{counts[UNCHANGED]} unchanged, {counts[SLOWER_NS] + counts[FASTER_NS]} changed but not significant, "
        f"{counts[NOT_COMPARED]} not compared, {counts['only in baseline']} only in baseline, "
        f"{counts['only in contender']} only in contender.",
        "",
    ]
    if compared:
        lines += ["| verdict | point | statistic | baseline median | contender median | change | p-value "
                  "| samples (base/cont) | other metrics |",
                  "|---|---|---|---:|---:|---:|---:|---:|---|"]
        lines += [_row(c) for c in compared]
        lines.append("")
    not_compared = [c for c in result.comparisons if c.verdict == NOT_COMPARED]
    if not_compared:
        lines += ["### Not compared", ""]
        lines += [f"- {md_code(c.id)}: {md('; '.join(c.notes) or 'no comparable statistic')}" for c in not_compared]
        lines.append("")
    for title, refs in (("Only in baseline", result.only_in_baseline), ("Only in contender", result.only_in_contender)):
        if refs:
            lines += [f"### {title}", ""] + [_ref_line(r) for r in refs] + [""]
    warned = [c for c in compared if c.notes]
    if warned:
        lines += ["### Warnings", ""]
        lines += [f"- {md_code(c.id)}: {md('; '.join(c.notes))}" for c in warned]
        lines.append("")
    by_axes = [c for c in result.comparisons if c.matched_by == "axes"]
    if by_axes:
        lines += ["### Matched by axes (ids differ)", ""]
        lines += [f"- {md_code(c.id)} ↔ {md_code(c.contender_id)}" for c in by_axes]
        lines.append("")
    return "\n".join(lines)

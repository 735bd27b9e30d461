"""A standalone HTML page of a comparison: the same verdicts, reasons and numbers as the markdown."""

from __future__ import annotations

import html

from .compare_result import (
    IMPROVEMENT, INCONCLUSIVE, NEWLY_FAILING, NOT_COMPARED, REGRESSION, UNCHANGED, CompareResult, Comparison,
)
from .compare_format import RERUN_HINT, headline, method_text, rerun_lines, side_files_text
from .units import fmt_num
from .verdict_text import fmt_change

_ORDER = {REGRESSION: 0, NEWLY_FAILING: 0, IMPROVEMENT: 1, INCONCLUSIVE: 2, UNCHANGED: 3, NOT_COMPARED: 4}
_COLOUR = {REGRESSION: "#f8d0d0", NEWLY_FAILING: "#f8d0d0", IMPROVEMENT: "#d4f0d4", INCONCLUSIVE: "#f4ecc8",
           UNCHANGED: "#ffffff", NOT_COMPARED: "#eeeeee"}
_STYLE = ("body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:0.9em}"
          "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}td.n{text-align:right;white-space:nowrap}"
          "code{font-size:0.85em}")


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _row(c: Comparison) -> str:
    stat = f"{c.statistic} ({c.unit})" if c.unit else (c.statistic or "—")
    ci = f"{fmt_change(c.ci_low_pct)} … {fmt_change(c.ci_high_pct)}" if c.ci_low_pct is not None else "—"
    cells = [f"<b>{_e(c.verdict)}</b>", f"<code>{_e(c.id)}</code>", _e(stat)]
    numbers = [fmt_num(c.baseline_center), fmt_num(c.contender_center), fmt_change(c.change_pct), ci,
               f"{c.repeats_baseline}/{c.repeats_contender}"]
    body = "".join(f"<td>{x}</td>" for x in cells) + "".join(f'<td class="n">{_e(x)}</td>' for x in numbers)
    return f'<tr style="background:{_COLOUR[c.verdict]}">{body}<td>{_e(c.reason)}</td></tr>'


def _table(title: str, rows: list[Comparison]) -> list[str]:
    if not rows:
        return []
    head = ("<tr><th>verdict</th><th>point</th><th>statistic</th><th>baseline</th><th>contender</th>"
            "<th>change</th><th>interval</th><th>repeats (base/cont)</th><th>reason</th></tr>")
    return [f"<h2>{_e(title)}</h2>", "<table>", head, *[_row(c) for c in rows], "</table>"]


def to_html(result: CompareResult) -> str:
    points = sorted(result.comparisons, key=lambda c: (_ORDER[c.verdict], -abs(c.change_pct or 0.0)))
    names = side_files_text(result)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8"><title>dpbench compare</title>',
             f"<style>{_STYLE}</style></head><body>", "<h1>dpbench compare</h1>",
             f"<p>Baseline: {_e(names[0])} ({_e(result.baseline_machine)}) · "
             f"Contender: {_e(names[1])} ({_e(result.contender_machine)})</p>",
             f"<p><b>{_e(headline(result).replace('**', ''))}</b></p>"]
    parts += [f"<p>⚠ {_e(w)}</p>" for w in result.warnings]
    parts.append(f"<p>{_e(method_text(result))}</p>")
    parts += _table("Overall", result.overall) + _table("Points", points)
    if result.rerun:
        parts += ["<h2>Rerun before deciding</h2>", f"<p>{_e(RERUN_HINT)}</p>", "<ul>",
                  *[f"<li><code>{_e(point)}</code>: {_e(why)}</li>" for point, why in rerun_lines(result)], "</ul>"]
    for title, refs in (("Only in baseline", result.only_in_baseline), ("Only in contender", result.only_in_contender)):
        if refs:
            parts += [f"<h2>{_e(title)}</h2>", "<ul>", *[f"<li><code>{_e(r.id)}</code> {_e(r.status)}</li>"
                                                         for r in refs], "</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

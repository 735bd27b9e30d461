"""Markdown rendering of a comparison, for a CI job summary, a pull-request comment and the terminal."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .compare_result import (
    IMPROVEMENT, INCONCLUSIVE, NEWLY_FAILING, NOT_COMPARED, REGRESSION, UNCHANGED, CompareResult, Comparison, PointRef,
)
from .records import describe_axes
from .units import fmt_num, fmt_pct
from .verdict_text import fmt_change

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|#"})
_ORDER = {REGRESSION: 0, NEWLY_FAILING: 0, IMPROVEMENT: 1, INCONCLUSIVE: 2, UNCHANGED: 3, NOT_COMPARED: 4}
_LABEL = {REGRESSION: "**REGRESSION**", NEWLY_FAILING: "**NEWLY FAILING**", IMPROVEMENT: "improvement",
          INCONCLUSIVE: "inconclusive", UNCHANGED: "unchanged", NOT_COMPARED: "not compared"}


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
    ci = f"{fmt_change(c.ci_low_pct)} … {fmt_change(c.ci_high_pct)}" if c.ci_low_pct is not None else "—"
    cells = [_LABEL[c.verdict], md_code(c.id), md(stat), fmt_num(c.baseline_center), fmt_num(c.contender_center),
             fmt_change(c.change_pct), ci, f"{c.repeats_baseline}/{c.repeats_contender}", md(c.reason),
             md(_metric_text(c))]
    return "| " + " | ".join(cells) + " |"


def _ref_line(r: PointRef) -> str:
    extra = f" — {md(r.status)}: {md(r.reason)}" if r.status != "ok" else ""
    return f"- {md_code(r.id)} ({md(r.kind)}; {md(describe_axes(r.axes))}){extra}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def headline(result: CompareResult) -> str:
    """The sentence a CI reader sees first; its count of failures is the count behind the exit status."""
    n = result.counts()
    failing = len(result.regressions)
    overall_bad = len([c for c in result.overall if c.verdict == REGRESSION])
    verdict = f"**FAIL: {failing} failing CI**" if failing else "**PASS**"
    parts = [_plural(n[REGRESSION], "regression"), f"{n[NEWLY_FAILING]} newly failing",
             _plural(n[IMPROVEMENT], "improvement"), f"{n[INCONCLUSIVE]} inconclusive", f"{n[UNCHANGED]} unchanged",
             f"{n[NOT_COMPARED]} not compared", f"{n['only in baseline']} only in baseline",
             f"{n['only in contender']} only in contender"]
    if overall_bad:
        parts.insert(0, _plural(overall_bad, "overall regression"))
    return f"{verdict} — " + ", ".join(parts) + "."


def side_files_text(result: CompareResult) -> tuple[str, str]:
    """Each side's files in a line: the first few names of the sweep's, then how many more and how many
    reruns of single points (markdown and HTML share it)."""
    def one(paths: list[str], reruns: int) -> str:
        sweep = paths[:len(paths) - reruns]
        text = ", ".join(Path(p).name for p in sweep[:4]) + (f" (+{len(sweep) - 4} more)" if len(sweep) > 4 else "")
        return text + (f"; {reruns} reruns of single points" if reruns else "")
    return one(result.baseline, result.rerun_files[0]), one(result.contender, result.rerun_files[1])


def _sides(result: CompareResult) -> str:
    b, c = (md(text) for text in side_files_text(result))
    return (f"Baseline: {b} ({md(result.baseline_machine)}) · "
            f"Contender: {c} ({md(result.contender_machine)})")


def method_text(result: CompareResult) -> str:
    """How the verdicts were reached, in two or three plain sentences (markdown and HTML share it)."""
    prior = result.noise_prior
    text = (f"Each point's change is judged on repeat medians (one per file per in-file repeat) with an interval "
            f"of {result.confidence_per_point * 100:.2f}% or more per quiet point (all points and overall rows "
            f"together: {(1 - result.alpha) * 100:g}%). A regression's whole interval lies beyond "
            f"{result.threshold_pct:g}%; unchanged lies within ±{result.threshold_pct:g}%; anything else is "
            f"inconclusive. Typical run-to-run noise here: ±{prior['sd_pct']:.1f}% per repeat ({prior['source']})")
    if prior.get("noisy_points"):
        text += (f"; {prior['quiet_points']} quiet points ±{prior['quiet_sd_pct']:.1f}%, {prior['noisy_points']} "
                 f"noisy points ±{prior['noisy_sd_pct']:.1f}% (each class pools its own noise)")
    text += (f"; noise floor {result.noise_floor_pct:g}%. The baseline and contender columns are geometric means "
             "of the repeats judged (bursts set aside; the sweep's, not reruns alone).")
    if result.looks > 1:
        text += (f" Look {result.look} of {result.looks} of a sequential gate: each look spends 1/{result.looks} "
                 "of alpha" + ("; the undecided points that lean slower are listed for a rerun." if result.look == 1
                               else "; a point rerun alone is compared with the other side's runs alone, and "
                                    "that comparison is combined with the first look's."))
    if prior.get("set_aside"):
        text += (f" {prior['set_aside']} repeats were set aside as interference bursts (over "
                 f"{result.burst_pct:g}% slower than the typical repeat of both sides).")
    return text


def rerun_lines(result: CompareResult) -> list[tuple[str, str]]:
    """(point id, why) per point listed for a rerun (markdown and HTML share them)."""
    return [(str(e["id"]), f"{fmt_change(e['change_pct'])} so far; {e['rounds']} rounds alone would likely settle it")
            for e in result.rerun]


RERUN_HINT = ("Undecided, leaning slower: rerun these points (`dpbench_report rerun --from COMPARE.json`) and "
              "compare again with --looks 2 on all the files.")


def _method(result: CompareResult) -> str:
    return md(method_text(result))


def to_markdown(result: CompareResult) -> str:
    compared = [c for c in result.comparisons if c.verdict != NOT_COMPARED]
    compared.sort(key=lambda c: (_ORDER[c.verdict], -(abs(c.change_pct or 0.0))))
    lines = ["## dpbench compare", "", _sides(result), "", headline(result), ""]
    if result.warnings:
        lines += [f"> ⚠ {md(w)}" for w in result.warnings] + [""]
    if "single repeats" in str(result.noise_prior.get("source")):
        lines += ["> One repeat per side: run-to-run noise cannot be seen, so it is assumed (at least "
                  f"{result.single_run_noise_pct:g}%) and verdicts are conservative. Compare 3 or more repeats "
                  "per side (`dpbench_report ab --rounds 3`).", ""]
    lines += [_method(result), ""]
    header = ["| verdict | point | statistic | baseline | contender | change | interval | repeats (base/cont) "
              "| reason | other metrics |", "|---|---|---|---:|---:|---:|---:|---:|---|---|"]
    if result.overall:
        lines += ["### Overall", ""] + header + [_row(c) for c in result.overall] + [""]
    if compared:
        lines += ["### Points", ""] + header + [_row(c) for c in compared] + [""]
    if result.rerun:
        lines += ["### Rerun before deciding", "", RERUN_HINT, ""]
        lines += [f"- {md_code(point)}: {md(why)}" for point, why in rerun_lines(result)]
        lines.append("")
    not_compared = [c for c in result.comparisons if c.verdict == NOT_COMPARED]
    if not_compared:
        lines += ["### Not compared", ""]
        lines += [f"- {md_code(c.id)}: {md(c.reason or '; '.join(c.notes))}" for c in not_compared]
        lines.append("")
    for title, refs in (("Only in baseline", result.only_in_baseline), ("Only in contender", result.only_in_contender)):
        if refs:
            lines += [f"### {title}", ""] + [_ref_line(r) for r in refs] + [""]
    by_axes = [c for c in result.comparisons if c.matched_by == "axes"]
    if by_axes:
        lines += ["### Matched by axes (ids differ)", ""]
        lines += [f"- {md_code(c.id)} ↔ {md_code(c.contender_id)}" for c in by_axes]
        lines.append("")
    return "\n".join(lines)

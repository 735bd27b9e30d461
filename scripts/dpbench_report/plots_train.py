"""Plots of `dpbench train` points: scaling efficiency, throughput, step-time breakdown, step vs bucket size."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from matplotlib.axes import Axes

from .plot_common import (
    FORMATS, Facet, PlotOutput, color_for, facets, legend, mpl_text, new_figure, panel_title, pick_axis,
    save, skip, style_axes, subtitle_for,
)
from .records import PointRecord, axis_text, derived_axes, describe_axes, group_by, sort_key, varying_axes

BREAKDOWN_STATS: tuple[str, ...] = ("forward", "backward", "exposed_comm", "optimizer")
_BREAKDOWN_COLORS = ("#4c72b0", "#55a868", "#c44e52", "#8172b2")
_MAX_BARS = 30


def _train_ok(records: Sequence[PointRecord]) -> list[PointRecord]:
    return [r for r in records if r.ok and r.kind == "train"]


def _unit(records: Sequence[PointRecord], metric: str, default: str) -> str:
    for r in records:
        unit = r.metric_units.get(metric) or r.stat_units.get(metric)
        if unit:
            return unit
    return default


def _description(facet: Facet, metric: str, default: str) -> str:
    """The metric's definition as the records state it (weak and strong scaling define efficiency apart)."""
    for _, lines in facet.panels:
        for recs in lines.values():
            for r in recs:
                text = ((r.raw.get("metrics") or {}).get(metric) or {}).get("description")
                if text:
                    return str(text)
    return default


def _log2_x(ax: Axes, values: Sequence[Any]) -> None:
    """log2 x axis with a tick at every value present (ranks 1,2,4,8; buckets 1,4,25 MB)."""
    xs = sorted({float(v) for v in values if isinstance(v, (int, float)) and v > 0})
    if not xs:
        return
    if xs[-1] / xs[0] >= 4:
        ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [axis_text(int(v) if v.is_integer() else v) for v in xs])
    ax.minorticks_off()


def _lines(facet: Facet, metric_of: Callable[[PointRecord], float | None], ax_for_panel: list[Axes], algos: list[Any],
           xlabel: str, ylabel: str) -> list[tuple[Axes, dict[Any, tuple[list[float], list[float]]]]]:
    """Draw one line per series in each panel; returns the plotted (x, y) per series for overlays."""
    drawn = []
    for ax, (panel_value, lines) in zip(ax_for_panel, facet.panels, strict=True):
        series: dict[Any, tuple[list[float], list[float]]] = {}
        xs_all: list[Any] = []
        for line_value, recs in lines.items():
            xs: list[float] = []
            ys: list[float] = []
            for r in recs:
                x, y = r.axis(facet.x), metric_of(r)
                if isinstance(x, (int, float)) and y is not None:
                    xs.append(float(x))
                    ys.append(y)
            if not xs:
                continue
            ax.plot(xs, ys, marker="o", color=color_for(line_value, algos),
                    label=mpl_text(axis_text(line_value)))
            series[line_value] = (xs, ys)
            xs_all.extend(xs)
        _log2_x(ax, xs_all)
        style_axes(ax, xlabel, ylabel, panel_title(facet, panel_value))
        drawn.append((ax, series))
    return drawn


def scaling_efficiency(records: Sequence[PointRecord], outdir: Path,
                       formats: Sequence[str] = FORMATS) -> list[PlotOutput]:
    """metrics.scaling_efficiency against ranks, one line per algo, one panel per precision (or bucket_mb)."""
    kind = "scaling-efficiency"
    recs = [r for r in _train_ok(records) if r.metric("scaling_efficiency") is not None and r.axis("ranks") is not None]
    if not recs:
        return skip(kind, "no ok train point has metrics.scaling_efficiency")
    algos = [r.axis("algo") for r in recs]
    out: list[PlotOutput] = []
    for facet in facets(recs, x="ranks", line="algo", panel=pick_axis(recs, ("precision", "bucket_mb"))):
        fig, grid = new_figure(len(facet.panels))
        unit = _unit(recs, "scaling_efficiency", "ratio")
        top = 1.1
        for ax, series in _lines(facet, lambda r: r.metric("scaling_efficiency"), grid[0], algos,
                                 "ranks", f"scaling efficiency ({unit})"):
            ax.axhline(1.0, linestyle="--", color="0.4", linewidth=1, label="ideal (1.0)")
            top = max([top] + [max(ys) * 1.05 for _, ys in series.values()])
            legend(ax)
        for ax in grid[0]:
            ax.set_ylim(0, top)
        out.append(save(fig, kind, f"Scaling efficiency — {facet.machine}",
                        subtitle_for(facet, _description(facet, "scaling_efficiency",
                                                         "throughput per rank / 1-rank throughput")), outdir,
                        (facet.file, describe_axes(facet.fixed, sep="-")), formats))
    return out


def _one_rank_baseline(lines: dict[Any, list[PointRecord]], line_value: Any) -> float | None:
    """samples_per_s at 1 rank: same algo if it has one, else any 1-rank point of the panel."""
    for candidates in (lines.get(line_value, []), [r for recs in lines.values() for r in recs]):
        for r in candidates:
            if r.axis("ranks") == 1 and r.metric("samples_per_s") is not None:
                return r.metric("samples_per_s")
    return None


def throughput(records: Sequence[PointRecord], outdir: Path,
               formats: Sequence[str] = FORMATS) -> list[PlotOutput]:
    """samples_per_s against ranks per algo, with ideal linear scaling from the 1-rank point (dashed)."""
    kind = "throughput"
    recs = [r for r in _train_ok(records) if r.metric("samples_per_s") is not None and r.axis("ranks") is not None]
    if not recs:
        return skip(kind, "no ok train point has metrics.samples_per_s")
    algos = [r.axis("algo") for r in recs]
    unit = _unit(recs, "samples_per_s", "samples/s")
    out: list[PlotOutput] = []
    for facet in facets(recs, x="ranks", line="algo", panel=pick_axis(recs, ("precision", "bucket_mb"))):
        fig, grid = new_figure(len(facet.panels))
        drawn = _lines(facet, lambda r: r.metric("samples_per_s"), grid[0], algos, "ranks", f"throughput ({unit})")
        for (ax, series), (_, lines) in zip(drawn, facet.panels, strict=True):
            for line_value, (xs, _) in series.items():
                base = _one_rank_baseline(lines, line_value)
                if base is None:
                    continue
                ideal_x = sorted(set([1.0] + xs))
                ax.plot(ideal_x, [base * x for x in ideal_x], linestyle="--", linewidth=1,
                        color=color_for(line_value, algos), alpha=0.7,
                        label=mpl_text(f"{axis_text(line_value)} ideal"))
            ax.set_ylim(bottom=0)
            legend(ax)
        out.append(save(fig, kind, f"Training throughput — {facet.machine}",
                        subtitle_for(facet, "dashed: ideal linear scaling from the 1-rank point"), outdir,
                        (facet.file, describe_axes(facet.fixed, sep="-")), formats))
    return out


def step_vs_bucket(records: Sequence[PointRecord], outdir: Path,
                   formats: Sequence[str] = FORMATS) -> list[PlotOutput]:
    """Median step time against bucket_mb, one line per algo; panels per ranks (or precision)."""
    kind = "step-vs-bucket"
    recs = [r for r in _train_ok(records) if r.median("step") is not None and r.axis("bucket_mb") is not None]
    if not recs:
        return skip(kind, "no ok train point has a step time and a bucket_mb axis")
    algos = [r.axis("algo") for r in recs]
    unit = _unit(recs, "step", "ms")
    out: list[PlotOutput] = []
    for facet in facets(recs, x="bucket_mb", line="algo", panel=pick_axis(recs, ("ranks", "precision"))):
        sizes = {r.axis("bucket_mb") for _, lines in facet.panels for rs in lines.values() for r in rs}
        if len(sizes) < 2:
            skip(kind, f"{facet.file}: only one bucket size in {describe_axes(facet.fixed) or 'this run'}")
            continue
        fig, grid = new_figure(len(facet.panels))
        for ax, series in _lines(facet, lambda r: r.median("step"), grid[0], algos, "bucket size (MB)",
                                 f"step time, median ({unit})"):
            ax.set_ylim(0, max([1e-9] + [max(ys) for _, ys in series.values()]) * 1.15)
            legend(ax)
        out.append(save(fig, kind, f"Step time vs gradient bucket size — {facet.machine}",
                        subtitle_for(facet), outdir, (facet.file, describe_axes(facet.fixed, sep="-")), formats))
    return out


def step_breakdown(records: Sequence[PointRecord], outdir: Path,
                   formats: Sequence[str] = FORMATS) -> list[PlotOutput]:
    """Stacked bars of forward, backward, exposed_comm and optimizer medians per point; step median marked."""
    kind = "step-breakdown"
    recs = [r for r in _train_ok(records) if any(r.median(s) is not None for s in BREAKDOWN_STATS)]
    if not recs:
        return skip(kind, "no ok train point has forward/backward/exposed_comm/optimizer statistics")
    unit = next((r.stat_units[s] for r in recs for s in BREAKDOWN_STATS if r.stat_units.get(s)), "ms")
    out: list[PlotOutput] = []
    for file_recs in group_by(recs, lambda r: r.file_index).values():
        shown = varying_axes(file_recs)
        ordered = sorted(file_recs, key=lambda r: [sort_key(r.axis(a)) for a in shown])
        chunks = [ordered[i:i + _MAX_BARS] for i in range(0, len(ordered), _MAX_BARS)]
        for n, chunk in enumerate(chunks, start=1):
            out.append(_breakdown_figure(chunk, shown, unit, outdir, formats, n, len(chunks)))
    return out


def _breakdown_figure(recs: list[PointRecord], shown: list[str], unit: str, outdir: Path,
                      formats: Sequence[str], part: int, parts: int) -> PlotOutput:
    fig, grid = new_figure(1, panel_width=9.0, height=1.6 + 0.32 * len(recs))
    ax = grid[0][0]
    y = np.arange(len(recs))
    left = np.zeros(len(recs))
    for name, color in zip(BREAKDOWN_STATS, _BREAKDOWN_COLORS, strict=True):
        widths = np.array([r.median(name) or 0.0 for r in recs])
        if not widths.any():
            continue
        ax.barh(y, widths, left=left, color=color, label=name, height=0.7)
        left += widths
    steps = [(i, step) for i, r in enumerate(recs) if (step := r.median("step")) is not None]
    if steps:
        ax.scatter([s for _, s in steps], [i for i, _ in steps], marker="|", s=160, color="black", zorder=3,
                   label="step (median)")
    labels = [" / ".join(axis_text(r.axis(a)) for a in shown) or r.id for r in recs]
    ax.set_yticks(y, [mpl_text(label) for label in labels])
    ax.invert_yaxis()
    style_axes(ax, f"median time per step ({unit})", " / ".join(shown) or "point")
    fig.legend(loc="outside lower center", ncols=5, frameon=False)
    derived = derived_axes(recs)
    fixed = {k: v for k, v in recs[0].axes.items() if k not in shown and k not in derived}
    facet = Facet(file=recs[0].file, machine=recs[0].machine, fixed=fixed, x="", panel_axis=None, panels=[])
    suffix = f" (part {part} of {parts})" if parts > 1 else ""
    return save(fig, "step-breakdown", f"Step-time breakdown — {recs[0].machine}{suffix}",
                subtitle_for(facet, "medians; stages need not add up to the step median"), outdir,
                (recs[0].file, f"part{part}"), formats)

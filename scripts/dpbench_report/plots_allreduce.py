"""Plots of `dpbench allreduce` points: busbw and algbw against message size, nccl-tests style."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from matplotlib.axes import Axes

from .plot_common import (
    FORMATS, PlotOutput, color_for, facets, legend, mpl_text, new_figure, panel_title, pick_axis, save, skip,
    style_axes, subtitle_for,
)
from .records import MULTI_RANK_METRICS, PointRecord, axis_text, describe_axes
from .units import human_bytes

BANDWIDTHS: tuple[tuple[str, str], ...] = (("busbw", "bus bandwidth"), ("algbw", "algorithm bandwidth"))
_MAX_TICKS = 12


def _bytes_ticks(ax: Axes, sizes: Sequence[float]) -> None:
    xs = sorted({s for s in sizes if s > 0})
    if not xs:
        return
    ax.set_xscale("log", base=2)
    step = max(1, -(-len(xs) // _MAX_TICKS))
    ticks = xs[::step]
    ax.set_xticks(ticks, [human_bytes(t) for t in ticks], rotation=45)
    ax.minorticks_off()


def bandwidth(records: Sequence[PointRecord], outdir: Path,
              formats: Sequence[str] = FORMATS) -> list[PlotOutput]:
    """busbw (top row) and algbw (bottom row) in GB/s against bytes, one line per algo, one column per dtype."""
    kind = "allreduce-bandwidth"
    recs = [r for r in records
            if r.ok and r.kind == "allreduce" and isinstance(r.axis("bytes"), (int, float))
            and any(r.shown_metric(m) is not None for m, _ in BANDWIDTHS)]
    if not recs:
        return skip(kind, "no ok allreduce point has a bytes axis and busbw/algbw metrics")
    algos = [r.axis("algo") for r in recs]
    out: list[PlotOutput] = []
    for facet in facets(recs, x="bytes", line="algo", panel=pick_axis(recs, ("dtype",))):
        fig, grid = new_figure(len(facet.panels), rows=len(BANDWIDTHS), height=3.4)
        for col, (panel_value, lines) in enumerate(facet.panels):
            for row, (metric, label) in enumerate(BANDWIDTHS):
                ax = grid[row][col]
                sizes: list[float] = []
                unit = "GB/s"
                for algo, rs in lines.items():
                    pts = [(float(r.axis("bytes")), value) for r in rs if (value := r.shown_metric(metric)) is not None]
                    if not pts:
                        continue
                    unit = rs[0].metric_units.get(metric) or unit
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3,
                            color=color_for(algo, algos), label=mpl_text(axis_text(algo)))
                    sizes.extend(p[0] for p in pts)
                if not sizes:
                    ax.text(0.5, 0.5, mpl_text(f"no {metric} at one rank" if metric in MULTI_RANK_METRICS
                                                else f"no {metric}"),
                            transform=ax.transAxes, ha="center", va="center", color="0.4")
                _bytes_ticks(ax, sizes)
                ax.set_ylim(bottom=0)
                title = panel_title(facet, panel_value) if row == 0 else ""
                style_axes(ax, "message size (bytes)", f"{metric}, {label} ({unit})", title)
                legend(ax)
        out.append(save(fig, kind, f"All-reduce bandwidth — {facet.machine}",
                        subtitle_for(facet, "busbw = algbw x 2(n-1)/n; GB = 1e9 bytes"), outdir,
                        (facet.file, describe_axes(facet.fixed, sep="-")), formats))
    return out

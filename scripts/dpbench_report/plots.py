"""All plots for a set of records: runs every plot kind, each skipping itself when it has no data."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from . import plots_allreduce, plots_convergence, plots_p2p, plots_train
from .plot_common import FORMATS, PlotOutput, style
from .records import PointRecord

PlotFunction = Callable[[Sequence[PointRecord], Path, Sequence[str]], list[PlotOutput]]

# Report order: what a reader asks first (does it scale?) before why (breakdown, bandwidth, topology).
PLOT_KINDS: dict[str, PlotFunction] = {
    "scaling-efficiency": plots_train.scaling_efficiency,
    "throughput": plots_train.throughput,
    "step-breakdown": plots_train.step_breakdown,
    "step-vs-bucket": plots_train.step_vs_bucket,
    "time-to-target": plots_convergence.time_to_target,
    "steps-to-target": plots_convergence.steps_to_target,
    "goodput": plots_convergence.goodput,
    "efficiency-vs-accum": plots_convergence.efficiency_vs_accum,
    "efficiency-vs-comm-dtype": plots_convergence.efficiency_vs_comm_dtype,
    "allreduce-bandwidth": plots_allreduce.bandwidth,
    "p2p-matrix": plots_p2p.heatmaps,
}


def make_plots(records: Sequence[PointRecord], outdir: Path, formats: Sequence[str] = FORMATS,
               kinds: Sequence[str] | None = None) -> list[PlotOutput]:
    """Write every plot the records support into outdir; returns them in report order."""
    unknown = [k for k in (kinds or []) if k not in PLOT_KINDS]
    if unknown:
        raise ValueError(f"unknown plot kind(s): {', '.join(unknown)}; known: {', '.join(PLOT_KINDS)}")
    out: list[PlotOutput] = []
    with style():
        for kind, plot in PLOT_KINDS.items():
            if kinds is None or kind in kinds:
                out.extend(plot(records, outdir, formats))
    return out

"""Plots of convergence and sync-frequency points (`dpbench train --target-loss`, --accum, --comm-dtype):
time-to-target vs GPUs, steps-to-target vs samples per update with the critical batch marked,
goodput vs samples per update, and efficiency vs accumulation steps and vs communication dtype."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Callable, Hashable, Sequence

from matplotlib.axes import Axes

from .plot_common import FORMATS, PlotOutput, color_for, legend, mpl_text, new_figure, save, skip, style_axes
from .records import PointRecord, axis_text, sort_key

Series = dict[Hashable, list[tuple[float, float]]]


def _samples_per_update(r: PointRecord) -> float | None:
    g = r.axis("global_batch")
    a = r.axis("accum", 1)
    return float(g * a) if isinstance(g, int) and isinstance(a, int) else None


def _train(records: Sequence[PointRecord], metric: str) -> list[PointRecord]:
    return [r for r in records if r.ok and r.kind == "train" and r.metric(metric) is not None]


def _by_file(records: Sequence[PointRecord]) -> dict[str, list[PointRecord]]:
    out: dict[str, list[PointRecord]] = defaultdict(list)
    for r in records:
        out[r.file].append(r)
    return out


def _series(records: Sequence[PointRecord], x: Callable[[PointRecord], float | None],
            y: Callable[[PointRecord], float | None], line: Callable[[PointRecord], Hashable]) -> Series:
    out: Series = defaultdict(list)
    for r in records:
        xv, yv = x(r), y(r)
        if xv is not None and yv is not None:
            out[line(r)].append((xv, yv))
    return {k: sorted(v) for k, v in sorted(out.items(), key=lambda kv: sort_key(kv[0]))}


def _draw(ax: Axes, series: Series, label: str) -> None:
    universe = list(series)
    for key, points in series.items():
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=color_for(key, universe),
                label=mpl_text(f"{label} {axis_text(key)}"))


def _one_plot(records: Sequence[PointRecord], outdir: Path, formats: Sequence[str], kind: str, metric: str,
              title: str, x: Callable[[PointRecord], float | None], xlabel: str, ylabel: str,
              line: Callable[[PointRecord], Hashable], line_label: str,
              after: Callable[[Axes, list[PointRecord]], str] | None = None) -> list[PlotOutput]:
    recs = _train(records, metric)
    if not recs:
        return skip(kind, f"no ok train point has metrics.{metric}")
    out = []
    for file, frecs in _by_file(recs).items():
        fig, grid = new_figure(1)
        ax = grid[0][0]
        _draw(ax, _series(frecs, x, lambda r: r.metric(metric), line), line_label)
        note = after(ax, frecs) if after else ""
        style_axes(ax, xlabel, ylabel)
        if ax.get_xlim()[1] / max(ax.get_xlim()[0], 1e-9) > 8:
            ax.set_xscale("log", base=2)
        legend(ax)
        out.append(save(fig, kind, title, " · ".join(p for p in (Path(file).name, note) if p), outdir,
                        (file, kind), formats))
    return out


def _mark_critical_batch(ax: Axes, recs: list[PointRecord]) -> str:
    values = sorted(v for r in recs if (v := r.metric("critical_batch")) is not None)
    if not values:
        return "no critical-batch estimate (needs 2+ ranks)"
    b = values[len(values) // 2]
    ax.axvline(b, linestyle="--", color="0.4", linewidth=1, label=mpl_text(f"B_crit ~ {b:.0f} (median estimate)"))
    return "dashed: critical batch B_noise estimated from gradient norms (McCandlish et al. 2018)"


def time_to_target(records: Sequence[PointRecord], outdir: Path,
                   formats: Sequence[str] = FORMATS) -> list[PlotOutput]:
    return _one_plot(records, outdir, formats, "time-to-target", "time_to_target_s", "Time to target loss vs GPUs",
                     lambda r: float(r.ranks) if r.ranks else None, "ranks", "time to target (s)",
                     lambda r: _samples_per_update(r), "samples/update")


def steps_to_target(records: Sequence[PointRecord], outdir: Path,
                    formats: Sequence[str] = FORMATS) -> list[PlotOutput]:
    return _one_plot(records, outdir, formats, "steps-to-target", "steps_to_target",
                     "Steps to target vs samples per update", _samples_per_update, "samples per update",
                     "steps to target", lambda r: r.axis("lr_scaling", "none"), "lr scaling",
                     after=_mark_critical_batch)


def goodput(records: Sequence[PointRecord], outdir: Path, formats: Sequence[str] = FORMATS) -> list[PlotOutput]:
    return _one_plot(records, outdir, formats, "goodput", "goodput", "Goodput (Pollux model) vs samples per update",
                     _samples_per_update, "samples per update", "goodput (samples/s, model)",
                     lambda r: r.ranks, "ranks", after=_mark_critical_batch)


def efficiency_vs_accum(records: Sequence[PointRecord], outdir: Path,
                        formats: Sequence[str] = FORMATS) -> list[PlotOutput]:
    recs = [r for r in records if r.axis("accum", 1) != 1 or any(o.axis("accum", 1) != 1 for o in records)]
    return _one_plot(recs, outdir, formats, "efficiency-vs-accum", "scaling_efficiency",
                     "Scaling efficiency vs accumulation steps", lambda r: float(r.axis("accum", 1)),
                     "accum (micro-batches per all-reduce)", "scaling efficiency", lambda r: r.ranks, "ranks")


def efficiency_vs_comm_dtype(records: Sequence[PointRecord], outdir: Path,
                             formats: Sequence[str] = FORMATS) -> list[PlotOutput]:
    order = {"fp32": 0.0, "bf16": 1.0, "fp16": 2.0}
    recs = [r for r in records if len({o.axis("comm_dtype") for o in records if o.kind == "train"}) > 1]
    out = _one_plot(recs, outdir, formats, "efficiency-vs-comm-dtype", "scaling_efficiency",
                    "Scaling efficiency vs all-reduce dtype (x: fp32, bf16, fp16)",
                    lambda r: order.get(str(r.axis("comm_dtype", r.axis("precision"))), None),
                    "comm dtype (0 fp32, 1 bf16, 2 fp16)", "scaling efficiency", lambda r: r.ranks, "ranks")
    return out

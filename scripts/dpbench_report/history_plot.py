"""Trend plot of one point's history: repeats as dots, centres as a line, the noise band per level."""

from __future__ import annotations

import math
from pathlib import Path

from .history import History, Series
from .plot_common import new_figure, save, style_axes


def _levels(s: Series) -> list[tuple[int, int, float]]:
    """(first index, end index, geometric-mean level) of each segment: one, or two around the step."""
    cuts = [0, s.change.index, len(s.values)] if s.change else [0, len(s.values)]
    out = []
    for a, b in zip(cuts, cuts[1:]):
        logs = [math.log(x) for v in s.values[a:b] for x in v]
        if logs:
            out.append((a, b, sum(logs) / len(logs)))
    return out


def plot_series(h: History, s: Series, outdir: Path) -> Path:
    """Write one PNG; the band is the segment's level times/divided by (1 + 2 x noise)."""
    fig, axes = new_figure(1, panel_width=6.5, height=3.4)
    ax = axes[0][0]
    xs = list(range(len(h.entries)))
    for x, values in zip(xs, s.values):
        ax.plot([x] * len(values), values, "o", color="#1f77b4", alpha=0.45, markersize=4)
    centres = s.centres()
    ax.plot([x for x, c in zip(xs, centres) if c], [c for c in centres if c], "-", color="#1f77b4", label="centre")
    band = math.log1p(2 * s.noise_pct / 100.0)
    for a, b, level in _levels(s):
        lo, hi = math.exp(level - band), math.exp(level + band)
        ax.fill_between([a - 0.4, b - 0.6], lo, hi, color="#7f7f7f", alpha=0.2, linewidth=0)
        ax.hlines(math.exp(level), a - 0.4, b - 0.6, colors="#7f7f7f", linestyles="dashed")
    for x, status in zip(xs, s.statuses):
        if status not in ("ok", "absent"):
            ax.axvline(x, color="#d62728", alpha=0.3)
    if s.change:
        ax.axvline(s.change.index - 0.5, color="#d62728", linestyle=":", label=f"step {s.change.change_pct:+.1f}%")
        ax.legend(loc="best", fontsize=8)
    ax.set_xticks(xs, [e.revision[:8] for e in h.entries], rotation=45, fontsize=7)
    style_axes(ax, "revision (by start time)", f"{s.statistic} ({s.unit})")
    out = save(fig, "history", s.id, f"noise ±{s.noise_pct:.1f}% per run; band = level ±2 noise",
               outdir, ("trend", s.id), formats=("png",))
    return out.files["png"]

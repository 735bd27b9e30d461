"""Plots of `dpbench p2p` points: each device-by-device matrix as an annotated heat map."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import matplotlib
import numpy as np

from .plot_common import FORMATS, PlotOutput, mpl_text, new_figure, save, skip, style_axes
from .records import PointRecord
from .units import fmt_num


def _grid(values: list[list[Any]]) -> np.ndarray:
    rows = len(values)
    cols = max((len(r) for r in values), default=0)
    grid = np.full((rows, cols), np.nan)
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                grid[i, j] = float(v)
    return grid


def _summary(matrix: dict[str, Any]) -> str:
    parts = [f"{k} {fmt_num(matrix.get(k))}" for k in ("sum", "min", "max", "average") if matrix.get(k) is not None]
    return ", ".join(parts)


def heatmaps(records: Sequence[PointRecord], outdir: Path,
             formats: Sequence[str] = FORMATS) -> list[PlotOutput]:
    """One annotated heat map per matrix of every ok point (rows and columns labelled by device index)."""
    kind = "p2p-matrix"
    pairs = [(r, m) for r in records if r.ok for m in (r.raw.get("matrices") or []) if m.get("values")]
    if not pairs:
        return skip(kind, "no ok point carries a matrix")
    out: list[PlotOutput] = []
    for record, matrix in pairs:
        grid = _grid(matrix["values"])
        if grid.size == 0 or np.isnan(grid).all():
            skip(kind, f"{record.id}: matrix {matrix.get('name')} has no measured value")
            continue
        n_rows, n_cols = grid.shape
        size = max(n_rows, n_cols)
        fig, axes = new_figure(1, panel_width=min(3.0 + 0.75 * size, 14.0), height=min(2.6 + 0.6 * size, 13.0))
        ax = axes[0][0]
        cmap = matplotlib.colormaps[_colormap(str(matrix.get("unit", "")))].with_extremes(bad="#e0e0e0")
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="equal")
        unit = str(matrix.get("unit", ""))
        fig.colorbar(image, ax=ax, label=mpl_text(unit), shrink=0.85)
        _annotate(ax, grid, image)
        devices = list(matrix.get("devices") or [])
        ticks_r = [str(devices[i]) if i < len(devices) else str(i) for i in range(n_rows)]
        ticks_c = [str(devices[j]) if j < len(devices) else str(j) for j in range(n_cols)]
        ax.set_xticks(range(n_cols), [mpl_text(t) for t in ticks_c])
        ax.set_yticks(range(n_rows), [mpl_text(t) for t in ticks_r])
        ax.grid(False)
        style_axes(ax, "device (column)", "device (row)")
        name = str(matrix.get("name", "matrix"))
        description = str(matrix.get("description") or "")
        subtitle = " · ".join(p for p in (Path(record.file).name, record.id, description, _summary(matrix)) if p)
        out.append(save(fig, kind, f"{name} ({unit}) — {record.machine}", subtitle, outdir,
                        (record.file, f"{record.id}-{name}"), formats))
    return out


def _colormap(unit: str) -> str:
    # Bandwidth: brighter is faster. Latency (time units): reversed, so brighter is still better.
    return "viridis_r" if unit.strip().lower() in {"us", "ms", "ns", "s"} else "viridis"


def _annotate(ax: Any, grid: np.ndarray, image: Any) -> None:
    n_rows, n_cols = grid.shape
    fontsize = 9 if max(n_rows, n_cols) <= 8 else 6
    for i in range(n_rows):
        for j in range(n_cols):
            v = grid[i, j]
            if math.isnan(v):
                ax.text(j, i, "—", ha="center", va="center", fontsize=fontsize, color="0.35")
                continue
            r, g, b, _ = image.cmap(image.norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(j, i, fmt_num(float(v), 3), ha="center", va="center", fontsize=fontsize,
                    color="white" if dark else "black")

"""What every plot shares: the Agg backend, faceting records into figures/panels/lines, titles, saving.

Figures are built with matplotlib's object API (no pyplot state), so plotting is safe to call repeatedly
from tests and needs no display.
"""

from __future__ import annotations

import hashlib
import logging
import re
import textwrap
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable, Iterable, Sequence, cast

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .records import (  # noqa: E402
    PointRecord, axis_text, constant_axes, derived_axes, describe_axes, group_by, hashable, sort_key, varying_axes,
)

log = logging.getLogger("dpbench_report")

FORMATS: tuple[str, ...] = ("png", "svg")
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
            "#7f7f7f", "#bcbd22")
RC: dict[str, Any] = {
    "svg.fonttype": "path", "figure.dpi": 100, "savefig.dpi": 110, "axes.grid": True, "grid.alpha": 0.3,
    "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8,
}


@dataclass(frozen=True)
class PlotOutput:
    """One written figure: what it shows and where its files are."""

    kind: str
    title: str
    subtitle: str
    files: dict[str, Path]

    @property
    def png(self) -> Path | None:
        return self.files.get("png")


@dataclass
class Facet:
    """The records of one figure: one file, fixed values of the axes that split figures, then panels."""

    file: str
    machine: str
    fixed: dict[str, Any]
    x: str
    panel_axis: str | None
    panels: list[tuple[Any, dict[Any, list[PointRecord]]]]


def style() -> AbstractContextManager[None]:
    """The report's matplotlib settings, for the duration of a with-block."""
    return matplotlib.rc_context(cast(Any, RC))


def mpl_text(text: Any) -> str:
    """Text for matplotlib from untrusted input: '$' would start mathtext (and can raise).

    With every '$' escaped the text has no math, and matplotlib then shows each '\\$' as '$'.
    """
    return str(text).replace("$", r"\$")


def slug(text: str, unique: str | None = None, limit: int = 60) -> str:
    """File-name-safe form of text (never a path separator), plus a short hash of `unique` (default: text)."""
    base = re.sub(r"[^A-Za-z0-9._=-]+", "-", text).strip("-.")[:limit].strip("-.") or "plot"
    digest = hashlib.sha1((text if unique is None else unique).encode("utf-8")).hexdigest()[:8]
    return f"{base}-{digest}"


def pick_axis(records: Sequence[PointRecord], candidates: Iterable[str]) -> str | None:
    """The first candidate axis whose value varies across the records."""
    varying = set(varying_axes(records))
    for name in candidates:
        if name in varying:
            return name
    return None


def facets(records: Sequence[PointRecord], x: str, line: str, panel: str | None,
           ignore: Iterable[str] = ()) -> list[Facet]:
    """Split records into figures (per file and per value of every other varying axis), then panels, then lines.

    Weak and strong scaling points of one file are faceted apart, each with its own derived batch axis.
    """
    plotted = {x, line} | ({panel} if panel else set()) | set(ignore)
    out: list[Facet] = []
    groups = group_by(records, lambda r: (r.file_index, hashable(r.axes.get("scaling"))))
    for group in groups.values():
        used = derived_axes(group) | plotted
        split = varying_axes(group, used)
        def figure_key(r: PointRecord, split: list[str] = split) -> tuple[Hashable, ...]:
            return tuple(hashable(r.axes.get(a)) for a in split)

        for recs in group_by(group, figure_key).values():
            fixed = constant_axes(recs, used)
            panel_groups = group_by(
                sorted(recs, key=lambda r: sort_key(r.axes.get(panel)) if panel else (0, 0)),
                lambda r: hashable(r.axes.get(panel)) if panel else None)
            panels = [(value, group_by(sorted(prs, key=lambda r: sort_key(r.axes.get(x))),
                                       lambda r: hashable(r.axes.get(line))))
                      for value, prs in panel_groups.items()]
            out.append(Facet(file=recs[0].file, machine=recs[0].machine, fixed=fixed, x=x, panel_axis=panel,
                             panels=panels))
    return out


def color_for(value: Hashable, universe: Sequence[Hashable]) -> str:
    """A stable colour per series value (e.g. per algo) across all figures of a report."""
    ordered = sorted(set(universe), key=sort_key)
    index = ordered.index(value) if value in ordered else len(ordered)
    return _PALETTE[index % len(_PALETTE)]


def new_figure(panels: int, panel_width: float = 4.6, height: float = 3.8,
               rows: int = 1) -> tuple[Figure, list[list[Axes]]]:
    """A figure with rows x panels axes (always a 2-D list), constrained layout."""
    cols = max(1, panels)
    with style():
        fig = Figure(figsize=(max(5.5, panel_width * cols), height * rows), layout="constrained")
        grid = fig.subplots(rows, cols, squeeze=False)
    return fig, [list(row) for row in grid]


def subtitle_for(facet: Facet, extra: str = "") -> str:
    parts = [Path(facet.file).name]
    if facet.fixed:
        parts.append(describe_axes(facet.fixed))
    if extra:
        parts.append(extra)
    return " · ".join(parts)


def panel_title(facet: Facet, value: Any) -> str:
    if facet.panel_axis is None:
        return ""
    return f"{facet.panel_axis} = {axis_text(value)}"


def save(fig: Figure, kind: str, title: str, subtitle: str, outdir: Path, key: tuple[str, str],
         formats: Sequence[str] = FORMATS) -> PlotOutput:
    """Title the figure (untrusted text escaped for mathtext) and write it once per format.

    key is (results file, what in it): the file name stays readable, the rest only needs to be unique.
    """
    with style():
        width = max(40, int(fig.get_figwidth() * 10.5))
        lines = textwrap.wrap(title, width) + textwrap.wrap(subtitle, width)
        fig.suptitle(mpl_text("\n".join(lines)), fontsize=10)
        outdir.mkdir(parents=True, exist_ok=True)
        name = f"{kind}-{slug(Path(key[0]).stem + '-' + key[1], '|'.join(key))}"
        files: dict[str, Path] = {}
        for fmt in formats:
            path = outdir / f"{name}.{fmt}"
            fig.savefig(path, format=fmt, metadata=_metadata(fmt))
            files[fmt] = path
    log.debug("plot %s: %s", kind, ", ".join(str(p) for p in files.values()))
    return PlotOutput(kind=kind, title=title, subtitle=subtitle, files=files)


def _metadata(fmt: str) -> dict[str, Any]:
    # Reproducible files: no creation date, no software stamp that changes across matplotlib releases.
    if fmt == "svg":
        return {"Date": None, "Creator": None}
    if fmt == "png":
        return {"Software": None}
    return {}


def style_axes(ax: Axes, xlabel: str, ylabel: str, title: str = "") -> None:
    ax.set_xlabel(mpl_text(xlabel))
    ax.set_ylabel(mpl_text(ylabel))
    if title:
        ax.set_title(mpl_text(title))


def legend(ax: Axes) -> None:
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="best", frameon=False)


def skip(kind: str, why: str) -> list[PlotOutput]:
    log.info("plot %s skipped: %s", kind, why)
    return []

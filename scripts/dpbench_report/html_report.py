"""The HTML report: one self-contained file (plots inlined as base64 PNG) per set of results files.

The page is rendered from the Jinja2 templates in templates/ (package data, also reachable as
reports/templates/) with autoescaping on, so nothing a results file holds can become markup. This
module only gathers what the templates show.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import jinja2

from . import __version__
from .load import ResultsFile
from .outputs import write_atomic
from .plot_common import FORMATS, PlotOutput
from .plots import make_plots
from .records import PointRecord, group_by, to_records
from .report_tables import (
    Matrix, PointsTable, Table, devices_table, host_items, matrices, peers_table, points_table, problems_table,
    run_items, status_counts, version_items,
)

log = logging.getLogger("dpbench_report")


@dataclass(frozen=True)
class PlotView:
    kind: str
    title: str
    subtitle: str
    png_base64: str
    links: list[tuple[str, str]]  # (format, href)


@dataclass(frozen=True)
class FileView:
    """What the report shows of one results file."""

    anchor: str
    name: str
    path: str
    command: str
    machine: str
    started: str
    revision: str
    command_line: str
    status_counts: list[tuple[str, int]]
    host: list[tuple[str, str]]
    versions: list[tuple[str, str]]
    devices: Table | None
    peers: Table | None
    run: list[tuple[str, str]]
    points: PointsTable
    problems: Table | None
    matrices: list[Matrix]


def _autoescape(name: str | None) -> bool:
    # Everything is escaped except the stylesheet: it is ours, holds no data, and entities are not
    # decoded inside <style>, so escaping would break its quoted font names.
    return not (name or "").endswith(".css")


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The templates shipped with the package, autoescaped; undefined names fail loudly."""
    return jinja2.Environment(loader=jinja2.PackageLoader("dpbench_report", "templates"), autoescape=_autoescape,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _plot_view(plot: PlotOutput, plots_href: str | None) -> PlotView | None:
    png = plot.png
    if png is None or not png.exists():
        return None
    links = [(fmt, f"{plots_href}/{p.name}") for fmt, p in plot.files.items()] if plots_href is not None else []
    return PlotView(kind=plot.kind, title=plot.title, subtitle=plot.subtitle,
                    png_base64=base64.b64encode(png.read_bytes()).decode("ascii"), links=links)


def _file_view(index: int, f: ResultsFile, recs: Sequence[PointRecord]) -> FileView:
    return FileView(
        anchor=f"file-{index + 1}", name=f.name, path=str(f.path), command=f.command, machine=f.machine,
        started=str(f.invocation.get("started_at") or ""), revision=f.revision,
        command_line=str(f.invocation.get("command_line") or ""), status_counts=status_counts(recs),
        host=host_items(f), versions=version_items(f), devices=devices_table(f.system.get("devices") or []),
        peers=peers_table(f.system.get("peers") or []), run=run_items(f), points=points_table(recs),
        problems=problems_table(recs), matrices=matrices([r for r in recs if r.ok]),
    )


def build_html(files: Sequence[ResultsFile], records: Sequence[PointRecord], plots: Sequence[PlotOutput],
               plots_href: str | None = "plots", title: str = "dpbench report", model_summary: str | None = None) -> str:
    """The whole page as a string. plots_href: where the PNG/SVG files sit relative to the page (or None).
    model_summary: a cost model's markdown summary (`model fit`), shown in its own section headed modelled."""
    by_file = group_by(records, lambda r: r.file_index)
    views = [v for p in plots if (v := _plot_view(p, plots_href)) is not None]
    return environment().get_template("report.html.j2").render(
        title=title, version=__version__, generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        files=[_file_view(i, f, by_file.get(i, [])) for i, f in enumerate(files)], plots=views,
        model_summary=model_summary)


def write_report(files: Sequence[ResultsFile], out_dir: Path, formats: Sequence[str] = FORMATS,
                 title: str = "dpbench report", model_summary: str | None = None) -> Path:
    """Write out_dir/plots/* and out_dir/report.html; returns the report's path."""
    if "png" not in formats:
        formats = ("png", *formats)  # the page inlines PNGs
    records = to_records(files)
    plots = make_plots(records, out_dir / "plots", formats)
    page = build_html(files, records, plots, plots_href="plots", title=title, model_summary=model_summary)
    path = out_dir / "report.html"
    write_atomic(path, page)
    log.info("report: %s (%d plots)", path, len(plots))
    return path

"""The HTML report: one self-contained file (plots inlined as base64 PNG) per set of results files."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from pathlib import Path
from typing import Sequence

from . import __version__
from .html_tables import (
    esc, matrices_section, points_table, problems_table, status_counts, system_section, table,
)
from .load import ResultsFile
from .plot_common import FORMATS, PlotOutput
from .plots import make_plots
from .records import PointRecord, group_by, to_records

log = logging.getLogger("dpbench_report")

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1280px;
       padding: 1rem 1.5rem; color: #1b1f23; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid #d0d7de; padding-bottom: 0.2rem; margin-top: 2rem; }
h3 { margin-top: 1.5rem; } h4 { margin: 1rem 0 0.3rem; }
.meta, .note { color: #57606a; font-size: 0.9rem; }
.scroll { overflow-x: auto; margin: 0.4rem 0 0.8rem; }
table { border-collapse: collapse; font-size: 0.82rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #fafbfc; }
td small { color: #57606a; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.8rem; overflow-wrap: anywhere; }
table.points td:first-child, table.problems td:first-child { min-width: 18rem; }
pre.cmd { background: #f6f8fa; border: 1px solid #d0d7de; padding: 0.6rem; white-space: pre-wrap;
          word-break: break-all; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.1rem 1rem; margin: 0; font-size: 0.9rem; }
dt { color: #57606a; } dd { margin: 0; }
figure { margin: 1rem 0 2rem; } figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { font-size: 0.85rem; color: #57606a; }
.status-ok { color: #1a7f37; } .status-failed, .bad { color: #cf222e; font-weight: 600; }
.status-skipped { color: #9a6700; } .status-timeout { color: #bc4c00; font-weight: 600; }
nav ul { columns: 2; font-size: 0.9rem; }
"""


def _figure(plot: PlotOutput, plots_href: str | None) -> str:
    png = plot.png
    if png is None or not png.exists():
        return ""
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    links = ""
    if plots_href is not None:
        links = " · ".join(f'<a href="{esc(plots_href + "/" + p.name)}">{esc(fmt)}</a>'
                           for fmt, p in plot.files.items())
        links = f" ({links})"
    return (f'<figure class="plot plot-{esc(plot.kind)}">'
            f'<img src="data:image/png;base64,{data}" alt="{esc(plot.title)}">'
            f"<figcaption><b>{esc(plot.title)}</b><br>{esc(plot.subtitle)}{links}</figcaption></figure>")


def _file_anchor(index: int) -> str:
    return f"file-{index + 1}"


def build_html(files: Sequence[ResultsFile], records: Sequence[PointRecord], plots: Sequence[PlotOutput],
               plots_href: str | None = "plots", title: str = "dpbench report") -> str:
    """The whole page as a string. plots_href: where the PNG/SVG files sit relative to the page (or None)."""
    by_file = group_by(records, lambda r: r.file_index)
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    summary_rows = [[f'<a href="#{_file_anchor(i)}">{esc(f.name)}</a>', esc(f.command), esc(f.machine),
                     esc(f.invocation.get("started_at")), esc(f.revision),
                     status_counts(by_file.get(i, []))] for i, f in enumerate(files)]
    toc = ["<li><a href=\"#plots\">Plots</a></li>"] + [
        f'<li><a href="#{_file_anchor(i)}">{esc(f.name)} — {esc(f.command)} on {esc(f.machine)}</a></li>'
        for i, f in enumerate(files)]
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">Generated {esc(generated)} by dpbench_report {esc(__version__)} '
        f"from {len(files)} results file{'s' if len(files) != 1 else ''}.</p>",
        "<nav><ul>" + "".join(toc) + "</ul></nav>",
        "<h2 id=\"files\">Results files</h2>",
        table(["file", "command", "machine", "started", "build", "points"], summary_rows),
        "<h2 id=\"plots\">Plots</h2>",
    ]
    figures = [_figure(p, plots_href) for p in plots]
    body += [f for f in figures if f] or ["<p>No plottable data in these files.</p>"]
    for i, f in enumerate(files):
        recs = by_file.get(i, [])
        body += [
            f'<h2 id="{_file_anchor(i)}">{esc(f.name)}: {esc(f.command)} on {esc(f.machine)}</h2>',
            f'<p class="meta">{esc(str(f.path))}</p>',
            "<h3>System</h3>", system_section(f),
            "<h3>Points</h3>", points_table(recs),
            "<h3>Failed, skipped and timed-out points</h3>", problems_table(recs),
        ]
        matrices = matrices_section([r for r in recs if r.ok])
        if matrices:
            body += ["<h3>Matrices</h3>", matrices]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def write_report(files: Sequence[ResultsFile], out_dir: Path, formats: Sequence[str] = FORMATS,
                 title: str = "dpbench report") -> Path:
    """Write out_dir/plots/* and out_dir/report.html; returns the report's path."""
    if "png" not in formats:
        formats = ("png", *formats)  # the page inlines PNGs
    records = to_records(files)
    plots = make_plots(records, out_dir / "plots", formats)
    page = build_html(files, records, plots, plots_href="plots", title=title)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    log.info("report: %s (%d plots)", path, len(plots))
    return path

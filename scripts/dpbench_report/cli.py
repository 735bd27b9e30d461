"""Command line: report, plot, compare, validate and export subcommands (dpbench-report, python -m dpbench_report).

Exit codes: 0 success; 1 compare found a regression; 2 bad input (unreadable or invalid results file,
bad option).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from .load import ResultsFileError, load_many

EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT = 0, 1, 2
log = logging.getLogger("dpbench_report")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="store_true", help="log every file written")
    p.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad or not formats:
        raise argparse.ArgumentTypeError(f"formats are png, svg, pdf (comma-separated), got {text!r}")
    return formats


def _add_compare_args(p: argparse.ArgumentParser) -> None:
    from .compare import DEFAULT_ALPHA, DEFAULT_THRESHOLD_PCT
    p.add_argument("baseline", help="results file of the baseline run")
    p.add_argument("contender", help="results file of the run under test")
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD_PCT, metavar="PCT",
                   help="slowdown of the median (percent) beyond which a significant change is a regression "
                        "(default %(default)s)")
    p.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                   help="significance level of the Mann-Whitney U test (default %(default)s)")
    p.add_argument("--markdown", type=Path, metavar="FILE", help="also write the markdown table here")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the full comparison as JSON here")
    p.add_argument("--no-print", action="store_true", help="do not print the markdown to stdout")
    _add_common(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dpbench-report", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="{report,plot,compare,validate,export}")

    p = sub.add_parser("report", help="write DIR/report.html and DIR/plots/* from results files")
    p.add_argument("results", nargs="+", help="dpbench results files (JSON)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    p.add_argument("--title", default="dpbench report", help="page title")
    p.add_argument("--formats", type=_formats, default=("png", "svg"), help="plot formats (default png,svg)")
    _add_common(p)

    p = sub.add_parser("plot", help="write plots only (PNG and SVG) into DIR")
    p.add_argument("results", nargs="+", help="dpbench results files (JSON)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    p.add_argument("--formats", type=_formats, default=("png", "svg"), help="plot formats (default png,svg)")
    p.add_argument("--kind", action="append", metavar="KIND",
                   help="only this plot kind (repeatable): scaling-efficiency, throughput, step-breakdown, "
                        "step-vs-bucket, allreduce-bandwidth, p2p-matrix")
    _add_common(p)

    p = sub.add_parser("compare", help="compare two results files; exit 1 on a regression")
    _add_compare_args(p)

    p = sub.add_parser("validate", help="check results files against the schema")
    p.add_argument("results", nargs="+", help="dpbench results files (JSON)")
    _add_common(p)

    p = sub.add_parser("export", help="write one row per point as CSV (and Parquet, with pyarrow)")
    p.add_argument("results", nargs="+", help="dpbench results files (JSON)")
    p.add_argument("--csv", metavar="FILE", help="CSV file to write ('-': standard output)")
    p.add_argument("--parquet", metavar="FILE", help="Parquet file to write (needs the [parquet] extra: pyarrow)")
    _add_common(p)
    return parser


def _setup_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def _report(args: argparse.Namespace) -> int:
    files = load_many(args.results)  # before importing matplotlib: bad input fails fast
    from .html_report import write_report
    path = write_report(files, args.out, formats=args.formats, title=args.title)
    print(f"report: {path}")
    print(f"plots:  {args.out / 'plots'}")
    return EXIT_OK


def _plot(args: argparse.Namespace) -> int:
    files = load_many(args.results)
    from .plots import make_plots
    from .records import to_records
    outputs = make_plots(to_records(files), args.out, formats=args.formats, kinds=args.kind)
    for out in outputs:
        for path in out.files.values():
            print(path)
    if not outputs:
        log.warning("no plottable data in %s", ", ".join(args.results))
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    from .compare import compare_files, dump_json
    from .compare_format import to_markdown
    baseline, contender = load_many([args.baseline, args.contender])
    result = compare_files(baseline, contender, threshold_pct=args.threshold, alpha=args.alpha)
    markdown = to_markdown(result)
    if not args.no_print:
        print(markdown)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown, encoding="utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(dump_json(result), encoding="utf-8")
    if result.regressions:
        log.warning("%d regression(s): %s", len(result.regressions), ", ".join(c.id for c in result.regressions))
        return EXIT_REGRESSION
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    for f in load_many(args.results):
        print(f"{f.path}: ok ({f.command}, {len(f.points)} points)")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from .export import export
    from .records import to_records
    for written in export(to_records(load_many(args.results)), csv_path=args.csv, parquet_path=args.parquet):
        log.info("export: %s", written)  # stderr: the CSV may be on stdout
    return EXIT_OK


_COMMANDS = {"report": _report, "plot": _plot, "compare": _compare, "validate": _validate, "export": _export}


def _run(args: argparse.Namespace) -> int:
    _setup_logging(args)
    try:
        return _COMMANDS[args.command](args)
    except ResultsFileError as e:
        print(f"dpbench_report: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as e:
        print(f"dpbench_report: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m dpbench_report` and the dpbench-report console script."""
    return _run(build_parser().parse_args(argv))


def compare_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the dpbench-compare console script: dpbench-compare BASE CONT [options]."""
    parser = argparse.ArgumentParser(prog="dpbench-compare",
                                     description="Compare two dpbench results files; exit 1 on a regression.")
    _add_compare_args(parser)
    args = parser.parse_args(argv)
    args.command = "compare"
    return _run(args)

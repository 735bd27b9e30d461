"""Command line: report, plot, compare, ab, history, validate, export and model (dpbench-report, python -m dpbench_report).

Exit codes: 0 success; 1 compare/ab found a regression (see compare_cli); 2 bad input (unreadable or
invalid results file, bad option, results that cannot be compared, unwritable output).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Callable, Sequence

from .compare_cli import REGRESSION_COMMANDS, add_compare_args, add_regression_commands
from .load import ResultsFileError, load_many
from .model_cli import add_model_commands, run_model

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dpbench-report", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="{report,plot,compare,ab,history,validate,export,model}")

    p = sub.add_parser("report", help="write DIR/report.html and DIR/plots/* from results files")
    p.add_argument("results", nargs="+", help="dpbench results files (JSON)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    p.add_argument("--title", default="dpbench report", help="page title")
    p.add_argument("--model", type=Path, metavar="MODEL", help="add a cost model's summary (from `model fit`)")
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

    add_regression_commands(sub, _add_common)

    p = sub.add_parser("validate", help="check results files against the schema")
    p.add_argument("results", nargs="+", help="dpbench results files (JSON)")
    _add_common(p)

    p = sub.add_parser("export", help="write one row per point as CSV (and Parquet, with pyarrow)")
    p.add_argument("results", nargs="+", help="dpbench results files (JSON)")
    p.add_argument("--csv", metavar="FILE", help="CSV file to write ('-': standard output)")
    p.add_argument("--parquet", metavar="FILE", help="Parquet file to write (needs the [parquet] extra: pyarrow)")
    _add_common(p)

    add_model_commands(sub, _add_common)
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
    from .model_output import markdown, read_model
    summary = markdown(read_model(args.model)) if args.model else None
    from .html_report import write_report
    path = write_report(files, args.out, formats=args.formats, title=args.title, model_summary=summary)
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


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"report": _report, "plot": _plot, "validate": _validate,
                                                             "export": _export, "model": run_model,
                                                             **REGRESSION_COMMANDS}


def _run(args: argparse.Namespace) -> int:
    _setup_logging(args)
    try:
        return _COMMANDS[args.command](args)
    except ResultsFileError as e:
        print(f"dpbench_report: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ValueError, OSError) as e:
        print(f"dpbench_report: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m dpbench_report` and the dpbench-report console script."""
    return _run(build_parser().parse_args(argv))


def compare_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the dpbench-compare console script: dpbench-compare BASE CONT [options]."""
    parser = argparse.ArgumentParser(prog="dpbench-compare",
                                     description="Compare two dpbench results files; exit 1 on a regression.")
    add_compare_args(parser)
    _add_common(parser)
    args = parser.parse_args(argv)
    args.command = "compare"
    return _run(args)

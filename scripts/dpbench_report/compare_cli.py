"""The regression-tracking subcommands: compare, ab, rerun and history (arguments and handlers).

Kept apart from cli.py so that the general command line stays small; cli.py only registers these.
Exit codes: 0 no regression; 1 a regression or a newly failing point (compare, ab) or a flagged change
point (history with --fail-on-change); 2 anything that cannot be judged (bad input, not comparable,
unwritable output).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Callable

from . import regression_stats as rs
from .ab import add_ab_args, run_ab
from .history import add_history_args, run_history
from .load import load_many
from .outputs import write_atomic
from .rerun import add_rerun_args, run_rerun

EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT = 0, 1, 2
log = logging.getLogger("dpbench_report")


class OutputError(ValueError):
    """An output file that cannot be written; one line, exit 2."""


def write_text(path: Path, text: str, what: str) -> None:
    """Write one output file, turning any OS error into one clear line."""
    try:
        write_atomic(Path(path), text)
    except OSError as e:
        raise OutputError(f"cannot write {what} {path}: {e.strerror or e}") from None


def add_judgement_args(p: argparse.ArgumentParser) -> None:
    """Options shared by compare and ab: what a verdict depends on, and where it is written."""
    p.add_argument("--threshold", type=float, default=rs.DEFAULT_THRESHOLD_PCT, metavar="PCT",
                   help="change (percent) that matters: a regression's whole interval lies beyond it "
                        "(default %(default)s)")
    p.add_argument("--alpha", type=float, default=rs.DEFAULT_ALPHA,
                   help="chance of any false verdict among all points together (default %(default)s)")
    p.add_argument("--noise-floor", type=float, default=rs.DEFAULT_NOISE_FLOOR_PCT, metavar="PCT",
                   help="least run-to-run noise (percent per repeat) ever assumed (default %(default)s)")
    p.add_argument("--single-run-noise", type=float, default=rs.DEFAULT_SINGLE_RUN_NOISE_PCT, metavar="PCT",
                   help="run-to-run noise assumed where no point has two repeats on a side (default %(default)s)")
    p.add_argument("--burst", type=float, default=rs.DEFAULT_BURST_PCT, metavar="PCT",
                   help="set aside a repeat more than PCT slower than the typical repeat of both sides, as "
                        "interference (with 3+ repeats per side; 0 keeps every repeat; default %(default)s)")
    p.add_argument("--looks", type=int, default=1, choices=(1, 2),
                   help="2: a sequential gate. Each look spends alpha/2; the first lists the undecided points "
                        "that lean slower with their rerun rounds (JSON 'rerun'), `rerun` measures them again, "
                        "alone, and compare on all the files is the second look, which combines each rerun "
                        "point's reruns with the first look. Give the same value on both looks (default "
                        "%(default)s)")
    p.add_argument("--markdown", type=Path, metavar="FILE", help="also write the markdown here")
    p.add_argument("--html", type=Path, metavar="FILE", help="also write a standalone HTML page here")
    p.add_argument("--json", "--out", dest="json", type=Path, metavar="FILE",
                   help="write the full comparison as JSON here")
    p.add_argument("--no-print", action="store_true", help="do not print the markdown to stdout")


def add_compare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="BASELINE CONTENDER (one file each); use --baseline/--contender for repeats")
    p.add_argument("--baseline", nargs="+", metavar="FILE", help="results files of the baseline (one per repeat)")
    p.add_argument("--contender", nargs="+", metavar="FILE", help="results files under test (one per repeat)")
    add_judgement_args(p)


def settings_from(args: argparse.Namespace) -> rs.Settings:
    return rs.Settings(args.threshold, args.alpha, args.noise_floor, args.single_run_noise, args.burst, args.looks)


def sides_from(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    if args.baseline or args.contender:
        if args.files:
            raise ValueError("give either two files (BASELINE CONTENDER) or --baseline/--contender, not both")
        if not (args.baseline and args.contender):
            raise ValueError("--baseline and --contender go together: each needs at least one file")
        return list(args.baseline), list(args.contender)
    if len(args.files) != 2:
        raise ValueError(f"compare needs a baseline and a contender file (got {len(args.files)} files); "
                         "for repeats use --baseline A1 A2 ... --contender B1 B2 ...")
    return [args.files[0]], [args.files[1]]


def judge_and_report(baseline: list[str], contender: list[str], args: argparse.Namespace,
                     rerun_hint: bool = True) -> int:
    """Load, compare, write markdown/JSON, print; exit 1 only when something fails CI. rerun_hint: say how
    to run the second look when the first lists points (ab runs it itself)."""
    from .compare import compare_files
    from .compare_result import dump_json
    from .compare_format import headline, to_markdown
    settings = settings_from(args)
    settings.check()
    base_files, cont_files = load_many(baseline), load_many(contender)
    result = compare_files(base_files, cont_files, settings.threshold_pct, settings.alpha,
                           settings.noise_floor_pct, settings.single_run_noise_pct, settings.burst_pct,
                           settings.looks)
    markdown = to_markdown(result)
    if args.markdown:
        write_text(args.markdown, markdown, "--markdown")
    if args.html:
        from .compare_html import to_html
        write_text(args.html, to_html(result), "--html")
    if args.json:
        write_text(args.json, dump_json(result), "--json")
    if not args.no_print:
        print(markdown)
    for warning in result.warnings:
        log.warning("warning: %s", warning)
    failing = result.regressions
    log.warning("%s", headline(result).replace("**", ""))
    if failing:
        log.warning("failing CI: %s", ", ".join(c.id for c in failing))
        return EXIT_REGRESSION
    if result.rerun and rerun_hint:
        log.warning("look %d of %d: %d undecided points lean slower; rerun them (dpbench_report rerun --from "
                    "the --json of this comparison) and compare again with them", result.look, result.looks,
                    len(result.rerun))
    return EXIT_OK


def run_compare(args: argparse.Namespace) -> int:
    baseline, contender = sides_from(args)
    return judge_and_report(baseline, contender, args)


def add_regression_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]",
                            add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register compare, ab and history (their handlers are in REGRESSION_COMMANDS)."""
    p = sub.add_parser("compare", help="compare baseline and contender repeats; exit 1 on a regression")
    add_compare_args(p)
    add_common(p)
    p = sub.add_parser("ab", help="run two dpbench binaries in alternating rounds, then compare; "
                                  "exit 1 on a regression")
    add_ab_args(p)
    add_judgement_args(p)
    add_common(p)
    p = sub.add_parser("rerun", help="second look of a sequential gate: run the points a compare --looks 2 "
                                     "listed as undecided again, alone, in alternating rounds")
    add_rerun_args(p)
    add_common(p)
    p = sub.add_parser("history", help="trend plots and change points over a series of runs")
    add_history_args(p)
    add_common(p)


REGRESSION_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "compare": run_compare, "ab": run_ab, "rerun": run_rerun, "history": run_history}

"""Interleaved A/B: run a baseline and a contender dpbench binary in alternating rounds, then compare.

Why interleave: on a shared machine the load drifts over minutes. Running all baseline repeats and then
all contender repeats turns that drift into a fake change; alternating rounds hits both sides equally.
Rounds alternate ABBA (baseline first in odd rounds, contender first in even ones) so that a steady
drift also cancels within each pair of rounds. Every run writes its own results file, one repeat, named
base-rN.json or cont-rN.json: the two arms' command lines have the same length, because the size of argv
and the environment shifts the stack and can change timings by itself (Mytkowicz et al., "Producing wrong
data without doing anything obviously wrong", ASPLOS 2009).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

log = logging.getLogger("dpbench_report")
DEFAULT_ROUNDS = 3
FILE_STEM = {"baseline": "base", "contender": "cont"}  # equal lengths on purpose (see above)


class AbError(ValueError):
    """A run that could not be made (bad binary, bad dpbench options, no results file); exit 2."""


@dataclass(frozen=True)
class Arm:
    """One side of the A/B: its binary and the extra dpbench options it alone gets."""

    name: str
    binary: str
    extra: tuple[str, ...]


def round_order(round_index: int, baseline: Arm, contender: Arm) -> tuple[Arm, Arm]:
    """ABBA: baseline first in rounds 1, 3, 5...; contender first in rounds 2, 4, 6..."""
    return (baseline, contender) if round_index % 2 == 1 else (contender, baseline)


def make_out_dir(where: Path) -> None:
    """Creates an output folder (and its parents), or one AbError naming it."""
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AbError(f"cannot create --out-dir {where}: {e.strerror or e}") from None


def results_path(out_dir: Path, arm: Arm, round_index: int) -> Path:
    return out_dir / f"{FILE_STEM.get(arm.name, arm.name)}-r{round_index}.json"


def run_once(arm: Arm, dpbench_args: Sequence[str], out: Path, timeout_s: float | None) -> None:
    """One dpbench run writing `out`. dpbench exits 1 when a point failed: that is data, not an error."""
    argv = [arm.binary, *dpbench_args, *arm.extra, "--out", str(out)]
    log.info("ab: %s", shlex.join(argv))
    log_path = out.with_suffix(".log")
    try:
        with open(log_path, "w", encoding="utf-8") as sink:
            proc = subprocess.run(argv, stdout=sink, stderr=subprocess.STDOUT, timeout=timeout_s, check=False)
    except FileNotFoundError:
        raise AbError(f"{arm.name} binary not found: {arm.binary}") from None
    except PermissionError:
        raise AbError(f"{arm.name} binary is not executable: {arm.binary}") from None
    except subprocess.TimeoutExpired:
        raise AbError(f"{arm.name} run exceeded {timeout_s:g} s: {shlex.join(argv)} (log: {log_path})") from None
    if proc.returncode not in (0, 1) or not out.is_file():
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise AbError(f"{arm.name} run failed (exit {proc.returncode}, log {log_path}): {tail[0]}")


def run_rounds(baseline: Arm, contender: Arm, dpbench_args: Sequence[str], rounds: int, out_dir: Path,
               timeout_s: float | None = None) -> tuple[list[Path], list[Path]]:
    """Run `rounds` ABBA rounds; return the baseline and the contender results files."""
    if rounds < 1:
        raise AbError(f"--rounds must be at least 1, got {rounds}")
    every_arg = (*dpbench_args, *baseline.extra, *contender.extra)
    if any(a == "--out" or a.startswith("--out=") or a == "-o" for a in every_arg):
        raise AbError("do not pass --out to dpbench: ab names each round's results file itself")
    make_out_dir(out_dir)
    files: dict[str, list[Path]] = {baseline.name: [], contender.name: []}
    for r in range(1, rounds + 1):
        for arm in round_order(r, baseline, contender):
            path = results_path(out_dir, arm, r)
            run_once(arm, dpbench_args, path, timeout_s)
            files[arm.name].append(path)
    return files[baseline.name], files[contender.name]


def add_ab_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--baseline-bin", required=True, metavar="BIN", help="dpbench binary of the baseline")
    p.add_argument("--contender-bin", required=True, metavar="BIN", help="dpbench binary under test")
    p.add_argument("--baseline-args", default="", metavar="ARGS",
                   help="extra dpbench options for the baseline only (one shell-quoted string)")
    p.add_argument("--contender-args", default="", metavar="ARGS",
                   help="extra dpbench options for the contender only, e.g. --contender-args='--chunk-bytes 64K' "
                        "(write = when the value starts with - and has no space)")
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="rounds; each runs both binaries once "
                   "(default %(default)s)")
    p.add_argument("--out-dir", type=Path, required=True, metavar="DIR",
                   help="where the results files (base-rN.json, cont-rN.json), logs and the comparison "
                        "(compare.md, compare.json, compare.html) go")
    p.add_argument("--timeout", type=float, metavar="S", help="limit for each dpbench run in seconds")
    p.add_argument("--no-compare", action="store_true", help="only run the rounds")
    p.add_argument("dpbench_args", nargs=argparse.REMAINDER, metavar="-- DPBENCH_ARGS",
                   help="the dpbench command and options both sides run, after --")


def run_ab(args: argparse.Namespace) -> int:
    from .compare_cli import EXIT_OK, judge_and_report
    dpbench_args = list(args.dpbench_args)
    if dpbench_args[:1] == ["--"]:
        dpbench_args = dpbench_args[1:]
    if not dpbench_args:
        raise AbError("give the dpbench command after --, e.g. -- allreduce --backend cpu --gpus 2,4")
    baseline = Arm("baseline", args.baseline_bin, tuple(shlex.split(args.baseline_args)))
    contender = Arm("contender", args.contender_bin, tuple(shlex.split(args.contender_args)))
    base_files, cont_files = run_rounds(baseline, contender, dpbench_args, args.rounds, args.out_dir, args.timeout)
    if args.no_compare:
        return EXIT_OK
    args.markdown = args.markdown or args.out_dir / "compare.md"
    args.json = args.json or args.out_dir / "compare.json"
    args.html = args.html or args.out_dir / "compare.html"
    code = judge_and_report([str(p) for p in base_files], [str(p) for p in cont_files], args, rerun_hint=False)
    if code != EXIT_OK or args.looks < 2:
        return code
    return second_look(args, baseline, contender, dpbench_args, base_files, cont_files)


def second_look(args: argparse.Namespace, baseline: Arm, contender: Arm, dpbench_args: Sequence[str],
                base_files: list[Path], cont_files: list[Path]) -> int:
    """The second look of `ab --looks 2`: when the first lists undecided points, keep its comparison as
    compare-look1.json, rerun those points alone (OUT_DIR/rerun, rerun.py) and judge all the files."""
    from .compare_cli import EXIT_OK, judge_and_report, write_text
    from .rerun import listed_points, run_reruns
    points = listed_points(Path(args.json))
    if not points:
        return EXIT_OK
    write_text(args.out_dir / "compare-look1.json", Path(args.json).read_text(encoding="utf-8"), "compare-look1.json")
    log.warning("look 1 of 2: %d undecided points lean slower; rerunning them alone (%s rounds)", len(points),
                ", ".join(str(p.get("rounds")) for p in points))
    rb, rc = run_reruns(baseline, contender, dpbench_args, points, None, args.out_dir / "rerun", args.timeout)
    return judge_and_report([str(p) for p in base_files + rb], [str(p) for p in cont_files + rc], args)

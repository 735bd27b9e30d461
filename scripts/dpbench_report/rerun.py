"""The second look of a sequential gate: rerun only the points the first look left undecided.

`compare --looks 2 --json look1.json` lists in `rerun` the inconclusive points whose change leans towards
a regression, each with the rounds that would likely settle it. This measures each of them again, alone
(the sweep's options narrowed to that one point), for its rounds of interleaved ABBA, one results file per
run:
DIR/pNN/base-rK.json and DIR/pNN/cont-rK.json. compare on the first look's files plus these is the
second look. A run of one point takes a fraction of a second (process start included) where the whole
sweep takes seconds to minutes, so a gate can afford many more repeats of the few points that need them.

The second look combines the reruns with the first look by a test whose level does not depend on how many
reruns there were (second_look.py), so the rounds may follow the first look's numbers, and `--rounds`
may override them. Rounds go over all listed points before the next round starts (a point whose rounds
are done drops out), so a change in load reaches every point's baseline and contender alike.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
from pathlib import Path
from typing import Any, Sequence

from .ab import AbError, Arm, make_out_dir, results_path, round_order, run_once
from .second_look import PLANNED_RERUN_ROUNDS

log = logging.getLogger("dpbench_report")
# allreduce options that choose the points of a sweep: (names, takes a value).
_SWEEP_OPTIONS: tuple[tuple[tuple[str, ...], bool], ...] = (
    (("-g", "--gpus", "--ranks"), True), (("--devices",), True), (("-b", "--minbytes"), True),
    (("-e", "--maxbytes"), True), (("--algo",), True), (("-d", "--dtype", "--precision"), True),
    (("-G", "--graph"), True), (("--inplace",), False), (("--out-of-place",), False))


def _strip_sweep(args: Sequence[str]) -> tuple[list[str], set[str]]:
    """The dpbench arguments without the options that choose points, and which of those were given."""
    out: list[str] = []
    given: set[str] = set()
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0] if arg.startswith("--") else arg
        match = next(((names, value) for names, value in _SWEEP_OPTIONS if name in names), None)
        if match is None:
            out.append(arg)
            i += 1
            continue
        given.add(match[0][0])
        i += 2 if match[1] and "=" not in arg else 1
    return out, given


def narrowed_args(sweep_args: Sequence[str], axes: dict[str, Any]) -> list[str]:
    """The sweep's dpbench arguments narrowed to the one all-reduce point with these axes."""
    if not sweep_args or sweep_args[0] != "allreduce":
        raise AbError("rerun narrows allreduce sweeps to one point; for other commands rerun the whole sweep "
                      "(dpbench_report ab --rounds)")
    missing = [k for k in ("algo", "dtype", "ranks", "bytes", "in_place") if k not in axes]
    if missing:
        raise AbError(f"rerun: the point's axes lack {', '.join(missing)}; was the comparison of an allreduce sweep?")
    rest, given = _strip_sweep(sweep_args)
    size = str(int(axes["bytes"]))
    out = [*rest, "--gpus", str(int(axes["ranks"])), "--algo", str(axes["algo"]), "-d", str(axes["dtype"]),
           "-b", size, "-e", size, "--inplace" if axes["in_place"] else "--out-of-place"]
    if "--devices" in given and axes.get("devices"):
        out += ["--devices", ",".join(str(int(d)) for d in axes["devices"])]
    if "-G" in given or int(axes.get("graph") or 0):
        out += ["-G", str(int(axes.get("graph") or 0))]
    return out


def listed_points(path: Path) -> list[dict[str, Any]]:
    """The `rerun` list of a comparison's JSON (compare --json)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AbError(f"--from {path}: cannot read the comparison JSON: {e}") from None
    listed = doc.get("rerun") if isinstance(doc, dict) else None
    if not isinstance(listed, list):
        raise AbError(f"--from {path}: no 'rerun' list (is it the --json of compare --looks 2?)")
    return listed


def point_rounds(point: dict[str, Any], rounds: int | None) -> int:
    """A listed point's rerun rounds: `rounds` when given, else its listing's (older listings: the planned)."""
    n = rounds if rounds is not None else point.get("rounds", PLANNED_RERUN_ROUNDS)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise AbError(f"rerun rounds of {point.get('id', 'a listed point')} must be a whole number of at least 1, "
                      f"got {n!r}")
    return n


def point_dir(out_dir: Path, index: int) -> Path:
    """The folder of the index-th listed point's reruns (from 1): out_dir/pNN."""
    return out_dir / f"p{index:02d}"


def run_reruns(baseline: Arm, contender: Arm, sweep_args: Sequence[str], points: Sequence[dict[str, Any]],
               rounds: int | None, out_dir: Path, timeout_s: float | None = None, first: int = 1
               ) -> tuple[list[Path], list[Path]]:
    """ABBA rounds over the listed points (into out_dir/pNN, NN from `first`), each point for its own rounds
    (point_rounds); return the baseline and the contender results files."""
    if rounds is not None and rounds < 1:
        raise AbError(f"--rounds must be at least 1, got {rounds}")
    counts = [point_rounds(p, rounds) for p in points]
    every_arg = (*sweep_args, *baseline.extra, *contender.extra)
    if any(a == "--out" or a.startswith("--out=") or a == "-o" for a in every_arg):
        raise AbError("do not pass --out to dpbench: rerun names each run's results file itself")
    narrowed = [(point_dir(out_dir, i), narrowed_args(sweep_args, p["axes"])) for i, p in enumerate(points, first)]
    files: dict[str, list[Path]] = {baseline.name: [], contender.name: []}
    for where, _ in narrowed:
        make_out_dir(where)
    for r in range(1, max(counts, default=0) + 1):
        for (where, args), n in zip(narrowed, counts):
            if r > n:
                continue
            for arm in round_order(r, baseline, contender):
                path = results_path(where, arm, r)
                run_once(arm, args, path, timeout_s)
                files[arm.name].append(path)
    return files[baseline.name], files[contender.name]


def add_rerun_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="from_json", type=Path, required=True, metavar="JSON",
                   help="the first look's comparison (compare --looks 2 --json): its 'rerun' list")
    p.add_argument("--baseline-bin", required=True, metavar="BIN", help="dpbench binary of the baseline")
    p.add_argument("--contender-bin", required=True, metavar="BIN", help="dpbench binary under test")
    p.add_argument("--baseline-args", default="", metavar="ARGS", help="extra dpbench options, baseline only")
    p.add_argument("--contender-args", default="", metavar="ARGS", help="extra dpbench options, contender only")
    p.add_argument("--rounds", type=int, metavar="N",
                   help="ABBA rounds for every listed point (default: each point's own, from the listing)")
    p.add_argument("--out-dir", type=Path, required=True, metavar="DIR",
                   help="where DIR/pNN/base-rK.json and DIR/pNN/cont-rK.json go")
    p.add_argument("--timeout", type=float, metavar="S", help="limit for each dpbench run in seconds")
    p.add_argument("dpbench_args", nargs=argparse.REMAINDER, metavar="-- DPBENCH_ARGS",
                   help="the sweep's dpbench command and options, as given to ab, after --")


def run_rerun(args: argparse.Namespace) -> int:
    sweep_args = list(args.dpbench_args)
    if sweep_args[:1] == ["--"]:
        sweep_args = sweep_args[1:]
    points = listed_points(args.from_json)
    if not points:
        log.warning("rerun: nothing listed in %s; nothing to rerun", args.from_json)
        return 0
    baseline = Arm("baseline", args.baseline_bin, tuple(shlex.split(args.baseline_args)))
    contender = Arm("contender", args.contender_bin, tuple(shlex.split(args.contender_args)))
    base, cont = run_reruns(baseline, contender, sweep_args, points, args.rounds, args.out_dir, args.timeout)
    log.warning("rerun: %d points, %d runs written under %s", len(points), len(base) + len(cont), args.out_dir)
    return 0 if base and cont else 2

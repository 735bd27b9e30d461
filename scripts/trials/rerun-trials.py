"""Collects the second look of the sequential gate for the trials that run-trials.sh collected.

    PYTHONPATH=scripts python scripts/trials/rerun-trials.py OUT_DIR [--rounds N] [--dpbench OUT_DIR/dpbench]

For each trial it does what the CI recipe (scripts/CI-RECIPE.md) does after the first look: every
comparison judge.py makes of the trial at look 1 (A/A, planted x1.3 and x1.1 for aa-t; chunk for chunk-t)
that has no regression but lists undecided points leaning slower, has those points rerun; the trial's
rerun set is the union of its comparisons' lists, each point for the most rounds any of them asks for,
measured with `dpbench_report rerun` (each point alone, ABBA rounds, the same binary and options as the
trial's sides) into OUT_DIR/<trial>/rerun/pNN/. The
relabelled A/A comparisons use whatever reruns this collected (judge.py says when a listed point has
none). A point rerun before (rerun/done.json) for at least the rounds now asked is kept; a newly listed
one, or one rerun for fewer rounds (by an earlier rule, or cut short), is measured afresh in its pNN, so a
run resumes and a changed rule adds what it needs. done.json is rewritten after every point.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from judge import (RERUN_DIR, compare_paths, planted, quietest_point, rounds_done, side_files,  # noqa: E402
                   trial_dirs)

from dpbench_report.ab import Arm  # noqa: E402
from dpbench_report.outputs import write_atomic  # noqa: E402
from dpbench_report.rerun import point_dir, run_reruns  # noqa: E402


def sweep_args(results: Path) -> list[str]:
    """The dpbench command and options of a results file, without the binary and --out."""
    argv = json.loads(results.read_text(encoding="utf-8"))["invocation"]["argv"][1:]
    out = []
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a in ("--out", "-o"):
            skip = True
        elif not a.startswith("--out="):
            out.append(a)
    return out


def needed(d: Path, tmp: Path) -> dict[str, dict[str, Any]]:
    """The points any look-1 comparison of this trial lists for a rerun (when it found no regression)."""
    base, cont = side_files(d, "baseline"), side_files(d, "contender")
    contenders = [cont]
    if d.name.startswith("aa-"):
        victim, _ = quietest_point(base)
        contenders += [planted(cont, victim, factor, tmp) for factor in (1.3, 1.1)]
    out: dict[str, dict[str, Any]] = {}
    for c in contenders:
        r = compare_paths(base, c)
        if not r.regressions:
            for e in r.rerun:
                if e["id"] not in out or e["rounds"] > out[e["id"]]["rounds"]:
                    out[e["id"]] = e
    return out


def plan(index: dict[str, int], wanted: dict[str, dict[str, Any]], rounds: int | None,
         done: Callable[[int], int]) -> list[tuple[int, dict[str, Any], int]]:
    """(pNN index, listing, rounds) of each wanted point to measure: a new one gets the next index (added to
    index), one measured before for fewer rounds than asked (done(index) < rounds) is measured again."""
    todo = []
    for pid, p in wanted.items():
        n = rounds or p["rounds"]
        if pid in index and done(index[pid]) >= n:
            continue
        index.setdefault(pid, len(index) + 1)
        todo.append((index[pid], p, n))
    return todo


def collect(d: Path, binary: str, rounds: int | None, tmp: Path) -> None:
    """Rerun what this trial's look-1 comparisons list and the rerun directory lacks."""
    target = d / RERUN_DIR
    done = target / "done.json"
    if not done.is_file() and target.exists():
        shutil.rmtree(target)  # an interrupted first point: start this trial again
    have: list[str] = json.loads(done.read_text(encoding="utf-8"))["points"] if done.is_file() else []
    index = {pid: i for i, pid in enumerate(have, 1)}
    todo = plan(index, needed(d, tmp), rounds, lambda i: rounds_done(point_dir(target, i)))
    base_args = sweep_args(side_files(d, "baseline")[0])
    cont_args = sweep_args(side_files(d, "contender")[0])
    # ab puts a side's own options after the shared ones
    extra = cont_args[len(base_args):] if cont_args[:len(base_args)] == base_args else []
    start = time.monotonic()
    for i, p, n in todo:
        where = point_dir(target, i)
        if where.exists():
            shutil.rmtree(where)
        run_reruns(Arm("baseline", binary, ()), Arm("contender", binary, tuple(extra)), base_args, [p], n, target,
                   first=i)
        write_done(done, index, target, extra)
    if not todo:  # a trial with nothing to rerun still gets its listing (write_atomic makes the folder)
        write_done(done, index, target, extra)
    print(f"{d.name}: {len(todo)} points rerun, rounds {[n for _, _, n in todo]} ({len(index) - len(todo)} kept), "
          f"{time.monotonic() - start:.0f} s", flush=True)


def write_done(done: Path, index: dict[str, int], target: Path, extra: list[str]) -> None:
    """The trial's rerun directory listing: points in pNN order, the rounds each has, the contender's options."""
    points = sorted(index, key=index.__getitem__)
    rounds = {pid: rounds_done(point_dir(target, index[pid])) for pid in points}
    write_atomic(done, json.dumps({"points": points, "rounds": rounds, "contender_extra": extra}, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="directory written by run-trials.sh")
    parser.add_argument("--rounds", type=int, help="rerun rounds of every point (default: each listing's own)")
    parser.add_argument("--dpbench", type=Path, help="binary (default: OUT/dpbench, the one the trials ran)")
    args = parser.parse_args(argv)
    binary = str(args.dpbench or args.out / "dpbench")
    with tempfile.TemporaryDirectory() as tmp_name:
        for d in trial_dirs(args.out, "aa") + trial_dirs(args.out, "chunk"):
            collect(d, binary, args.rounds, Path(tmp_name))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Judges the trials collected by run-trials.sh and prints the counts the regression gate must meet.

    PYTHONPATH=scripts python scripts/trials/judge.py OUT_DIR [--json FILE] [--relabelled N]

For each trial t (OUT_DIR/aa-t and OUT_DIR/chunk-t):
  A/A            aa-t baseline repeats vs contender repeats: must give no regression (exit 0).
  A/A single     the first baseline file vs the first contender file (two runs, one repeat each): no regression.
  A/A relabelled other interleaved A/A comparisons of aa-t: in each round either run may be called the
                 baseline (up to 2^(rounds-1) - 1 more per trial, --relabelled of them, not independent of
                 each other): no regression.
  chunk          chunk-t (contender with 16x smaller --chunk-bytes): must be caught (exit 1).
  planted x1.3   aa-t with one point's samples x1.3 in every contender file: that point must be a regression.
  planted x1.1   the same with x1.1 (a 10% slowdown, threshold 5%): regression or inconclusive, never unchanged.
  ... @N% noise  the A/A and planted trials again on repeats of the trial's first file with a controlled
                 run-to-run noise of N% (what the gate does on a quieter machine).
The planted point is chosen from the baseline alone, before anything is planted: the point whose repeat
medians agree best across the baseline files (a gate can only promise to see changes larger than a
point's noise; the noise of each point is printed beside the verdict). Planting multiplies that point's
samples, summaries and per-round repeat summaries in every contender file, so compare sees exactly
what a slower binary would have written.

Every comparison is the sequential gate of scripts/CI-RECIPE.md (compare --looks 2): look 1 on the
trial's rounds; when it finds no regression but lists undecided points leaning slower, look 2 adds those
points' reruns, collected by rerun-trials.py into OUT_DIR/<trial>/rerun/ (planted slowdowns are planted
into the contender's reruns too; relabelled comparisons relabel the rerun rounds with the same flips,
cyclically). Each line says which look decided. Exceptions: "A/A single" is one run per side, judged at
full alpha with no second look; the controlled-noise rows have no reruns and stop at look 1 (alpha/2).

It also prints, per A/A trial, the noise structure behind the choice of analysis: the noise of one
repeat unpaired (spread of each side's repeats), paired by round (spread of the per-round log ratio,
over sqrt 2), paired after dividing each run by its geometric mean over all points, and after setting
interference bursts aside.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dpbench_report.ab import FILE_STEM
from dpbench_report.compare import compare_files
from dpbench_report.compare_result import REGRESSION, UNCHANGED, CompareResult
from dpbench_report.interference import DEFAULT_BURST_PCT, set_aside
from dpbench_report.load import load_many

STAT = "time"
LOOKS = 2           # the sequential gate of scripts/CI-RECIPE.md (each look spends alpha/2)
RERUN_DIR = "rerun"
CONTROLLED_NOISE_PCT = (2.0, 5.0)


def side_files(d: Path, side: str) -> list[Path]:
    """The results files of one side of an ab directory (base-rN.json; baseline-rN.json before)."""
    files = list(d.glob(f"{FILE_STEM[side]}-r*.json")) or list(d.glob(f"{side}-r*.json"))
    return sorted(files, key=lambda p: int(p.stem.split("-r")[-1]))


def rounds_done(where: Path) -> int:
    """Complete ABBA rounds in a point's rerun directory (a round's baseline and contender files)."""
    return min(len(side_files(where, "baseline")), len(side_files(where, "contender"))) if where.is_dir() else 0


def trial_dirs(out: Path, kind: str) -> list[Path]:
    dirs = [d for d in out.glob(f"{kind}-*") if d.is_dir() and side_files(d, "contender")]
    return sorted(dirs, key=lambda d: int(d.name.split("-")[-1]))


def compare_paths(base: list[Path], cont: list[Path], looks: int = LOOKS) -> CompareResult:
    return compare_files(load_many(base), load_many(cont), looks=looks)


def rerun_dirs(d: Path) -> dict[str, Path]:
    """point id -> its rerun directory (OUT_DIR/<trial>/rerun/pNN, written by rerun-trials.py)."""
    out = {}
    for p in sorted((d / RERUN_DIR).glob("p*")):
        files = side_files(p, "baseline")
        if files and side_files(p, "contender"):
            out[json.loads(files[0].read_text(encoding="utf-8"))["points"][0]["id"]] = p
    return out


Files = list[Path]


def sequential(d: Path, base: Files, cont: Files, plant: Callable[[Files], Files] = lambda f: f,
               flips: tuple[bool, ...] = ()) -> tuple[CompareResult, str]:
    """The gate of scripts/CI-RECIPE.md: look 1 on the rounds; when it fails nothing but lists points, look 2
    with those points' reruns added (plant: what the contender's files get; flips: relabel rerun rounds
    as the main rounds were). Returns the result and which look decided ('look 1', 'look 2 (N points)',
    or 'look 1, no reruns collected' when rerun-trials.py did not run for these points)."""
    r1 = compare_paths(base, plant(cont))
    if r1.regressions or not r1.rerun:
        return r1, "look 1"
    have = rerun_dirs(d)
    listed = [e["id"] for e in r1.rerun]
    dirs = [have[i] for i in listed if i in have]
    if len(dirs) < len(listed):
        return r1, f"look 1, reruns of {len(listed) - len(dirs)} of {len(listed)} listed points not collected"
    rb: Files = []
    rc: Files = []
    for p in dirs:
        for k, (b, c) in enumerate(zip(side_files(p, "baseline"), side_files(p, "contender"))):
            swap = bool(flips) and flips[k % len(flips)]
            rb.append(c if swap else b)
            rc.append(b if swap else c)
    asked = {e["id"]: e["rounds"] for e in r1.rerun}
    short = [i for i in listed if rounds_done(have[i]) < asked[i]]
    note = f", {len(short)} of them for fewer rounds than look 1 asked" if short else ""
    return compare_paths(base + rb, cont_plus(plant, cont, rc)), f"look 2 ({len(dirs)} points rerun{note})"


def cont_plus(plant: Callable[[Files], Files], cont: Files, rerun: Files) -> Files:
    return plant(cont) + plant(rerun)


def quietest_point(base: list[Path]) -> tuple[str, float]:
    """The ok point whose log medians vary least across the baseline files, and that spread (percent)."""
    medians: dict[str, list[float]] = {}
    for path in base:
        for p in json.loads(path.read_text(encoding="utf-8"))["points"]:
            if p["status"] == "ok":
                medians.setdefault(p["id"], []).append(float(p["stats"][STAT]["median"]))
    spread = {i: float(np.std(np.log(v), ddof=1)) for i, v in medians.items() if len(v) == len(base)}
    best = min(spread, key=lambda i: spread[i])
    return best, (math.exp(spread[best]) - 1) * 100


def log_medians(files: list[Path]) -> dict[str, list[float]]:
    """point id -> log repeat median per file, for points ok in every file."""
    out: dict[str, list[float]] = {}
    for path in files:
        for p in json.loads(path.read_text(encoding="utf-8"))["points"]:
            if p["status"] == "ok":
                out.setdefault(p["id"], []).append(math.log(float(p["stats"][STAT]["median"])))
    return {i: v for i, v in out.items() if len(v) == len(files)}


def noise_structure(base: list[Path], cont: list[Path]) -> dict[str, float]:
    """Median over points of the noise of one repeat (percent), analysed four ways (see the docstring)."""
    b, c = log_medians(base), log_medians(cont)
    ids = [i for i in b if i in c]
    lb, lc = np.array([b[i] for i in ids]), np.array([c[i] for i in ids])
    d = lc - lb                                     # points x rounds
    normalised = d - np.median(d, axis=0)           # each round's run-wide speed factor removed
    unpaired = np.sqrt((lb.var(axis=1, ddof=1) + lc.var(axis=1, ddof=1)) / 2)
    kept_sd = []
    for row_b, row_c in zip(np.exp(lb), np.exp(lc)):
        k = set_aside(list(row_b), list(row_c), DEFAULT_BURST_PCT)
        parts = [np.log(np.asarray(x)) for x in (k.baseline, k.contender) if len(x) > 1]
        dof = sum(len(x) - 1 for x in parts)
        kept_sd.append(math.sqrt(sum(float(((x - x.mean()) ** 2).sum()) for x in parts) / dof) if dof else math.nan)
    def p(values: np.ndarray) -> float:
        return round((math.exp(float(np.nanmedian(values))) - 1) * 100, 1)
    return {"unpaired": p(unpaired), "paired": p(d.std(axis=1, ddof=1) / math.sqrt(2)),
            "paired_normalised": p(normalised.std(axis=1, ddof=1) / math.sqrt(2)),
            "bursts_set_aside": p(np.asarray(kept_sd))}


def relabelled(base: list[Path], cont: list[Path], most: int
               ) -> list[tuple[list[Path], list[Path], tuple[bool, ...]]]:
    """Other assignments of each round's two runs to the sides (round 1 fixed: the mirror is the same);
    at most `most` of them, spread evenly over all 2^(rounds-1) - 1. The flips (per round, True: swapped)
    come along: a second look relabels the rerun rounds the same way, cyclically."""
    out = []
    for flips in itertools.product((False, True), repeat=len(base) - 1):
        if any(flips):
            every = (False, *flips)
            pairs = [(b, c) if not f else (c, b) for b, c, f in zip(base, cont, every)]
            out.append(([x for x, _ in pairs], [y for _, y in pairs], every))
    step = max(1, math.ceil(len(out) / most)) if most > 0 else len(out) + 1
    return out[::step][:most] if most > 0 else []


def scale_stats(stats: dict[str, Any], factor: float) -> None:
    """Every time figure of a stats block x factor (a slowdown planted in the measurement itself)."""
    for key in ("median", "mean", "min", "max", "stddev", "p10", "p90", "ci95_low", "ci95_high"):
        if isinstance(stats.get(key), (int, float)):
            stats[key] *= factor
    stats["samples"] = [x * factor for x in stats.get("samples", [])]
    for rep in stats.get("repeats") or []:
        for key in ("median", "mean"):
            rep[key] *= factor


def planted(cont: list[Path], point_id: str, factor: float, tmp: Path) -> list[Path]:
    out = []
    for path in cont:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for p in doc["points"]:
            if p["id"] == point_id:
                scale_stats(p["stats"][STAT], factor)
                for name in ("busbw", "algbw"):
                    metric = (p.get("metrics") or {}).get(name)
                    if metric and isinstance(metric.get("value"), (int, float)):
                        metric["value"] /= factor
        target = tmp / f"{path.parent.name}-x{factor:g}-{path.name}"
        target.write_text(json.dumps(doc), encoding="utf-8")
        out.append(target)
    return out


def renoised(template: Path, n: int, sigma: float, seed: int, factors: dict[str, float], tmp: Path,
             tag: str) -> list[Path]:
    """n repeats of one real results file, each point at its level x lognormal(sigma) x its factor.

    The machine's own noise is what the trials above measure; this shows what the same gate does at a
    controlled run-to-run noise (a quiet GPU node is 1-3%), on files with the real structure.
    """
    rng = np.random.default_rng(seed)
    out = []
    for r in range(n):
        doc = json.loads(template.read_text(encoding="utf-8"))
        for p in doc["points"]:
            if p["status"] == "ok":
                scale_stats(p["stats"][STAT], math.exp(rng.normal(0.0, sigma)) * factors.get(p["id"], 1.0))
        target = tmp / f"{template.parent.name}-{tag}-s{sigma:g}-r{r}.json"
        target.write_text(json.dumps(doc), encoding="utf-8")
        out.append(target)
    return out


def verdict_of(result: CompareResult, point_id: str) -> tuple[str, str]:
    c = next(c for c in result.comparisons if c.id == point_id)
    return c.verdict, c.reason


def controlled(d: Path, base: list[Path], victim: str, tmp: Path, record: Callable[[str, bool, dict[str, Any]], None]
               ) -> None:
    """The A/A and planted trials again, at controlled noise around the levels of the trial's first file."""
    seed = int(d.name.split("-")[-1])
    for pct in CONTROLLED_NOISE_PCT:
        sigma = math.log1p(pct / 100)
        b = renoised(base[0], len(base), sigma, 1000 + seed, {}, tmp, "b")
        r = compare_paths(b, renoised(base[0], len(base), sigma, 2000 + seed, {}, tmp, "c"))
        record(f"A/A @{pct:g}% noise", not r.regressions, {"trial": d.name, "summary": r.counts(),
                                                           "what": f"{len(r.regressions)} failing CI"})
        for factor, kind in ((1.3, "planted x1.3"), (1.1, "planted x1.1")):
            c = renoised(base[0], len(base), sigma, 3000 + seed, {victim: factor}, tmp, f"x{factor:g}")
            v, why = verdict_of(compare_paths(b, c), victim)
            ok = v == REGRESSION if factor == 1.3 else v != UNCHANGED
            record(f"{kind} @{pct:g}% noise", ok, {"trial": d.name, "verdict": v, "reason": why,
                                                    "what": f"{v}: {why}"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="directory written by run-trials.sh")
    parser.add_argument("--json", type=Path, help="also write the counts and per-trial verdicts here")
    parser.add_argument("--relabelled", type=int, default=7, metavar="N",
                        help="relabelled A/A comparisons per trial (default %(default)s; 0: none)")
    args = parser.parse_args(argv)
    kinds = ["A/A", "A/A single", "A/A relabelled", "chunk", "planted x1.3", "planted x1.1"]
    kinds += [f"{k} @{s:g}% noise" for s in CONTROLLED_NOISE_PCT for k in ("A/A", "planted x1.3", "planted x1.1")]
    counts: dict[str, dict[str, int]] = {k: {"trials": 0, "pass": 0} for k in kinds}
    trials: list[dict[str, Any]] = []

    def record(kind: str, ok: bool, detail: dict[str, Any]) -> None:
        counts[kind]["trials"] += 1
        counts[kind]["pass"] += int(ok)
        trials.append({"kind": kind, "pass": ok, **detail})
        print(f"{kind:13s} {detail['trial']:10s} {'pass' if ok else 'FAIL'}  {detail.get('what', '')}", flush=True)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for d in trial_dirs(args.out, "aa"):
            base, cont = side_files(d, "baseline"), side_files(d, "contender")
            r, look = sequential(d, base, cont)
            n = r.counts()
            structure = noise_structure(base, cont)
            what = (f"{look}: {n[REGRESSION]} regressions, {n['improvement']} improvements, "
                    f"{n['inconclusive']} inconclusive, {n[UNCHANGED]} unchanged; {r.noise_prior['set_aside']} repeats set aside; median noise per "
                    "repeat: " + ", ".join(f"{k} ±{v:g}%" for k, v in structure.items()))
            record("A/A", not r.regressions, {"trial": d.name, "summary": n, "noise": r.noise_prior,
                                              "noise_structure": structure, "look": look, "what": what})
            for rb, rc, flips in relabelled(base, cont, args.relabelled):
                rr, look = sequential(d, rb, rc, flips=flips)
                record("A/A relabelled", not rr.regressions, {"trial": d.name, "summary": rr.counts(), "look": look,
                                                              "what": f"{look}: {len(rr.regressions)} failing CI, "
                                                                      f"{len(rr.improvements)} improvements"})
            r1 = compare_paths(base[:1], cont[:1], looks=1)
            record("A/A single", not r1.regressions, {"trial": d.name, "summary": r1.counts(),
                                                      "what": f"{len(r1.regressions)} failing CI"})
            victim, spread = quietest_point(base)
            for factor, kind in ((1.3, "planted x1.3"), (1.1, "planted x1.1")):
                def plant(files: Files, factor: float = factor) -> Files:
                    return planted(files, victim, factor, tmp)
                rp, look = sequential(d, base, cont, plant)
                v, why = verdict_of(rp, victim)
                ok = v == REGRESSION if factor == 1.3 else v != UNCHANGED
                record(kind, ok, {"trial": d.name, "point": victim, "point_noise_pct": spread, "verdict": v,
                                  "reason": why, "look": look,
                                  "what": f"{look}: {v} (point noise ±{spread:.1f}%): {why}"})
            controlled(d, base, victim, tmp, record)
        for d in trial_dirs(args.out, "chunk"):
            r, look = sequential(d, side_files(d, "baseline"), side_files(d, "contender"))
            n = r.counts()
            overall = "; ".join(f"{c.id} {c.verdict} {c.change_pct:+.0f}%"
                                for c in r.overall if c.change_pct is not None)
            record("chunk", bool(r.regressions), {"trial": d.name, "summary": n, "look": look,
                                                  "overall": [c.verdict for c in r.overall],
                                                  "what": f"{look}: {n[REGRESSION]} regressions, {n['inconclusive']} "
                                                          f"inconclusive; {overall}"})
    print()
    for kind, c in counts.items():
        verdicts = [t["verdict"] for t in trials if t["kind"] == kind and "verdict" in t]
        tally = ", ".join(f"{v}: {verdicts.count(v)}" for v in sorted(set(verdicts)))
        print(f"{kind:13s} {c['pass']} of {c['trials']} trials pass" + (f" (planted point {tally})" if tally else ""))
    for kind in counts:
        looks = [t.get("look", "look 1") for t in trials if t["kind"] == kind]
        second = [x for x in looks if x.startswith("look 2")]
        missing = [x for x in looks if "not collected" in x]
        if second or missing:
            print(f"{kind:13s} decided at look 2: {len(second)} of {len(looks)}"
                  + (f"; reruns missing: {len(missing)}" if missing else ""))
    structures = [t["noise_structure"] for t in trials if "noise_structure" in t]
    if structures:
        print("median noise of one repeat over the A/A trials: " + ", ".join(
            f"{k} ±{float(np.median([s[k] for s in structures])):.1f}%" for k in structures[0]))
    if args.json:
        args.json.write_text(json.dumps({"counts": counts, "trials": trials}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

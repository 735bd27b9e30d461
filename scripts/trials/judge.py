"""Judges the trials collected by run-trials.sh and prints the counts the regression gate must meet.

    PYTHONPATH=scripts python scripts/trials/judge.py OUT_DIR [--json FILE]

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
from dpbench_report.compare import REGRESSION, UNCHANGED, CompareResult, compare_files
from dpbench_report.interference import DEFAULT_BURST_PCT, set_aside
from dpbench_report.load import load_many

STAT = "time"
CONTROLLED_NOISE_PCT = (2.0, 5.0)


def side_files(d: Path, side: str) -> list[Path]:
    """The results files of one side of an ab directory (base-rN.json; baseline-rN.json before)."""
    files = list(d.glob(f"{FILE_STEM[side]}-r*.json")) or list(d.glob(f"{side}-r*.json"))
    return sorted(files, key=lambda p: int(p.stem.split("-r")[-1]))


def trial_dirs(out: Path, kind: str) -> list[Path]:
    dirs = [d for d in out.glob(f"{kind}-*") if d.is_dir() and side_files(d, "contender")]
    return sorted(dirs, key=lambda d: int(d.name.split("-")[-1]))


def compare_paths(base: list[Path], cont: list[Path]) -> CompareResult:
    return compare_files(load_many(base), load_many(cont))


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


def relabelled(base: list[Path], cont: list[Path], most: int) -> list[tuple[list[Path], list[Path]]]:
    """Other assignments of each round's two runs to the sides (round 1 fixed: the mirror is the same);
    at most `most` of them, spread evenly over all 2^(rounds-1) - 1."""
    out = []
    for flips in itertools.product((False, True), repeat=len(base) - 1):
        if any(flips):
            pairs = [(b, c) if not f else (c, b) for b, c, f in zip(base, cont, (False, *flips))]
            out.append(([x for x, _ in pairs], [y for _, y in pairs]))
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
            r = compare_paths(base, cont)
            n = r.counts()
            structure = noise_structure(base, cont)
            what = (f"{n[REGRESSION]} regressions, {n['improvement']} improvements, {n['inconclusive']} inconclusive, "
                    f"{n[UNCHANGED]} unchanged; {r.noise_prior['set_aside']} repeats set aside; median noise per "
                    "repeat: " + ", ".join(f"{k} ±{v:g}%" for k, v in structure.items()))
            record("A/A", not r.regressions, {"trial": d.name, "summary": n, "noise": r.noise_prior,
                                              "noise_structure": structure, "what": what})
            for rb, rc in relabelled(base, cont, args.relabelled):
                rr = compare_paths(rb, rc)
                record("A/A relabelled", not rr.regressions, {"trial": d.name, "summary": rr.counts(),
                                                              "what": f"{len(rr.regressions)} failing CI, "
                                                                      f"{len(rr.improvements)} improvements"})
            r1 = compare_paths(base[:1], cont[:1])
            record("A/A single", not r1.regressions, {"trial": d.name, "summary": r1.counts(),
                                                      "what": f"{len(r1.regressions)} failing CI"})
            victim, spread = quietest_point(base)
            for factor, kind in ((1.3, "planted x1.3"), (1.1, "planted x1.1")):
                rp = compare_paths(base, planted(cont, victim, factor, tmp))
                v, why = verdict_of(rp, victim)
                ok = v == REGRESSION if factor == 1.3 else v != UNCHANGED
                record(kind, ok, {"trial": d.name, "point": victim, "point_noise_pct": spread, "verdict": v,
                                  "reason": why, "what": f"{v} (point noise ±{spread:.1f}%): {why}"})
            controlled(d, base, victim, tmp, record)
        for d in trial_dirs(args.out, "chunk"):
            r = compare_paths(side_files(d, "baseline"), side_files(d, "contender"))
            n = r.counts()
            overall = "; ".join(f"{c.id} {c.verdict} {c.change_pct:+.0f}%"
                                for c in r.overall if c.change_pct is not None)
            record("chunk", bool(r.regressions), {"trial": d.name, "summary": n,
                                                  "overall": [c.verdict for c in r.overall],
                                                  "what": f"{n[REGRESSION]} regressions, {n['inconclusive']} "
                                                          f"inconclusive; {overall}"})
    print()
    for kind, c in counts.items():
        verdicts = [t["verdict"] for t in trials if t["kind"] == kind and "verdict" in t]
        tally = ", ".join(f"{v}: {verdicts.count(v)}" for v in sorted(set(verdicts)))
        print(f"{kind:13s} {c['pass']} of {c['trials']} trials pass" + (f" (planted point {tally})" if tally else ""))
    structures = [t["noise_structure"] for t in trials if "noise_structure" in t]
    if structures:
        print("median noise of one repeat over the A/A trials: " + ", ".join(
            f"{k} ±{float(np.median([s[k] for s in structures])):.1f}%" for k in structures[0]))
    if args.json:
        args.json.write_text(json.dumps({"counts": counts, "trials": trials}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Regression verdicts between a baseline and a contender, each one or more results files (repeats).

Points are matched by id, then by kind + axes. Each matched point gets one of: regression, improvement,
unchanged, inconclusive (the statistics are in regression_stats), or newly failing (ok in the baseline,
failed/skipped/timed out in the contender: CI fails) or not compared (failing in the baseline). An overall
row per kind judges the geometric mean over all points, because a broad slowdown can be certain for the
sweep while every single point is still inside its own noise.

A sequential gate (`looks=2`, regression_stats explains the statistics) judges twice: the first look
lists the undecided points that lean towards a regression, each with the rerun rounds that would likely
settle it (`rerun`), `dpbench_report rerun` measures only those again, each alone (rerun.py), and the
second look judges the sweep's files as the first did and combines each rerun point's two stages
(second_look.py). A results file of one point is a rerun (ALONE); files of several are the sweep's.
"""

from __future__ import annotations

import math
from typing import Any, Hashable, Sequence

import numpy as np

from . import regression_stats as rs
from .comparable import NotComparableError, check_overlap, check_sides, system_warnings
from .compare_result import (
    IMPROVEMENT, INCONCLUSIVE, NEWLY_FAILING, NOT_COMPARED, REGRESSION, CompareResult, Comparison, MetricChange,
    PointRef,
)
from .interference import burst_limit, is_burst, set_aside
from .load import ResultsFile
from .repeats import PRIMARY_STATISTIC, Side, SidePoint, build_side
from .second_look import Stage, Weights, combine, rerun_rounds
from .verdict_text import look2_reason, reason_for

DEFAULT_THRESHOLD_PCT, DEFAULT_ALPHA = rs.DEFAULT_THRESHOLD_PCT, rs.DEFAULT_ALPHA
SECONDARY_METRICS: dict[str, tuple[str, ...]] = {"allreduce": ("busbw",), "train": ("samples_per_s",)}
OVERALL_ID = "overall"
# Measurement contexts of a results file: one point (a rerun, judged as a second stage) or a sweep of several.
ALONE, SWEEP = "alone", "sweep"


def change_pct(baseline: float | None, contender: float | None) -> float | None:
    if baseline is None or contender is None or baseline == 0:
        return None
    return (contender - baseline) / abs(baseline) * 100.0


def _ref(p: SidePoint) -> PointRef:
    failing = p.failures
    r = failing[-1] if failing else p.first
    return PointRef(id=p.id, kind=p.kind, status=r.status, axes=p.axes, reason=r.reason)


Pair = tuple[SidePoint, SidePoint, str]


def match_points(base: Side, cont: Side) -> tuple[list[Pair], list[SidePoint], list[SidePoint]]:
    """Pairs by id, then by kind + axes among the leftovers; then what is left on each side."""
    pairs = [(b, cont.points[i], "id") for i, b in base.points.items() if i in cont.points]
    left_b = [b for i, b in base.points.items() if i not in cont.points]
    by_axes: dict[Hashable, SidePoint] = {c.axes_key: c for i, c in cont.points.items() if i not in base.points}
    still_b: list[SidePoint] = []
    for b in left_b:
        other = by_axes.pop(b.axes_key, None)
        if other is None:
            still_b.append(b)
        else:
            pairs.append((b, other, "axes"))
    return pairs, still_b, list(by_axes.values())


def _geomean_of(values: Sequence[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def _metrics(b: SidePoint, c: SidePoint) -> list[MetricChange]:
    out = []
    for name in SECONDARY_METRICS.get(b.kind, ()):
        vb, vc = b.first.metric(name), c.first.metric(name)
        if vb is not None or vc is not None:
            unit = b.first.metric_units.get(name) or c.first.metric_units.get(name, "")
            out.append(MetricChange(name=name, unit=unit, baseline=vb, contender=vc, change_pct=change_pct(vb, vc)))
    return out


def _status_only(b: SidePoint, c: SidePoint, matched_by: str) -> Comparison | None:
    """The verdict when either side failed: newly failing (CI fails) or not compared."""
    if b.ok and c.ok:
        return None
    out = Comparison(id=b.id, kind=b.kind, matched_by=matched_by, axes=b.axes, verdict=NOT_COMPARED,
                     baseline_status=b.failures[-1].status if b.failures else "ok",
                     contender_status=c.failures[-1].status if c.failures else "ok",
                     contender_id=c.id if c.id != b.id else None)
    for label, p in (("baseline", b), ("contender", c)):
        for r in p.failures:
            out.notes.append(f"{label} {r.status} in {r.file}: {r.reason or 'no reason recorded'}")
    if b.ok:
        out.verdict = NEWLY_FAILING
        why = c.failures[-1].reason or "no reason recorded"
        out.reason = f"ok in the baseline, {out.contender_status} in the contender: {why}"
    else:
        out.reason = f"{out.baseline_status} in the baseline: nothing to compare against"
    return out


def _kept(out: Comparison, baseline: Sequence[float], contender: Sequence[float], settings: rs.Settings
          ) -> rs.PointInput:
    """The repeats judged: interference bursts set aside (interference.py), counted on the comparison."""
    kept = set_aside(baseline, contender, settings.burst_pct, out.lower_is_better)
    out.set_aside_baseline += len(kept.aside_baseline)
    out.set_aside_contender += len(kept.aside_contender)
    return rs.PointInput(kept.baseline, kept.contender)


def _contexts(*sides: Side) -> dict[str, str]:
    """file -> ALONE (a results file of one point: a rerun) or SWEEP."""
    return {str(f.path): ALONE if len(f.points) == 1 else SWEEP for side in sides for f in side.files}


def _worse(e: rs.Estimate, lower_is_better: bool) -> Stage:
    """Look 1's estimate as a stage of the two-stage test, signed so that positive is worse."""
    sign = 1.0 if lower_is_better else -1.0
    return Stage(sign * e.log_change, e.se, e.df, e.sd)


def _rerun_entry(c: Comparison, e: rs.Estimate, n_tests: float, settings: rs.Settings) -> dict[str, Any] | None:
    """The listing of an undecided point leaning worse that a rerun of a bounded size would likely settle
    (second_look.rerun_rounds), or None. A point leaning the other way cannot fail CI."""
    if c.verdict != INCONCLUSIVE or c.change_pct is None or not math.isfinite(c.change_pct):
        return None
    seen = c.repeats_baseline + c.repeats_contender
    aside = (c.set_aside_baseline + c.set_aside_contender) / seen if seen else 0.0
    rounds = rerun_rounds(_worse(e, c.lower_is_better), math.log1p(settings.threshold_pct / 100.0),
                          settings.alpha / n_tests, Weights.planned(min(c.repeats_baseline, c.repeats_contender)),
                          aside)
    if rounds is None:
        return None
    return {"id": c.id, "kind": c.kind, "axes": c.axes, "change_pct": c.change_pct,
            "repeats_needed": c.repeats_needed, "rounds": rounds}


def _judged(out: Comparison, point: rs.PointInput, prior: rs.Prior, n_tests: float, settings: rs.Settings
            ) -> rs.Estimate:
    """Judge one point (fills out) and return the estimate behind the verdict."""
    # the columns a reader sets beside the change: the repeats judged, bursts set aside
    out.baseline_center, out.contender_center = _geomean_of(point.baseline), _geomean_of(point.contender)
    e = rs.estimate(point, prior, n_tests, settings)
    out.change_pct = e.change_pct
    out.ci_low_pct, out.ci_high_pct = e.ci_pct
    out.noise_pct, out.noise_source = e.noise_pct, e.noise_source
    out.verdict = rs.decide(e, out.lower_is_better, settings)
    fewest = min(len(point.baseline), len(point.contender))
    if fewest < rs.MIN_REPEATS_FOR_VERDICT and out.verdict in (REGRESSION, IMPROVEMENT):
        out.verdict = INCONCLUSIVE
        out.repeats_needed = max(rs.repeats_needed(e, settings, n_tests, prior.df) or rs.MIN_REPEATS_FOR_VERDICT,
                                 rs.MIN_REPEATS_FOR_VERDICT)
        runs = "one run" if fewest == 1 else f"{fewest} runs"
        if out.set_aside_baseline or out.set_aside_contender:
            runs += " left after setting bursts aside"
        out.reason = (f"{reason_for(out, settings).split(' straddles')[0]} is beyond ±{settings.threshold_pct:g}%, "
                      f"but {runs} per side cannot tell a change from a burst of interference; "
                      f"about {out.repeats_needed} repeats per side would settle it")
        return e
    if out.verdict == INCONCLUSIVE:
        out.repeats_needed = rs.repeats_needed(e, settings, n_tests, prior.df)
    out.reason = reason_for(out, settings)
    return e


def compare_sides(baseline: Side, contender: Side, settings: rs.Settings = rs.Settings()) -> CompareResult:
    """Judge every matched point and the sweep as a whole; raise NotComparableError when it cannot.

    Files of both kinds (the sweep's and reruns of one point) make this the second look of a sequential
    gate: the sweep's files are judged as the first look judged them, and each rerun point's two stages
    are combined (second_look.py)."""
    settings.check()
    check_sides(baseline, contender)
    context = _contexts(baseline, contender)
    if len(set(context.values())) < 2:
        return _first_look(baseline, contender, settings)[0]
    sweep, alone = ([build_side(s.label, [f for f in s.files if context[str(f.path)] == where])
                     for s in (baseline, contender)] for where in (SWEEP, ALONE))
    for side in sweep:
        if not side.files:
            raise NotComparableError(f"the {side.label} side has only results files of one point (reruns): a second "
                                     "look needs the sweep's files of both sides as well")
    result, estimates = _first_look(sweep[0], sweep[1], settings)
    pairs, _, _ = match_points(alone[0], alone[1])
    reruns = {b.id: (b, c, how) for b, c, how in pairs}
    for i, out in enumerate(result.comparisons):
        if out.id in reruns and out.id in estimates:
            b, c, how = reruns[out.id]
            result.comparisons[i] = _status_only(b, c, how) or _second_stage(out, b, c, *estimates[out.id], settings)
    result.baseline, result.contender = (sweep[i].names + alone[i].names for i in (0, 1))
    result.rerun_files = [len(alone[0].files), len(alone[1].files)]
    result.look, result.rerun = 2, []
    result.warnings = system_warnings(baseline, contender)
    if settings.looks < 2:
        result.warnings.append("reruns of single points were judged as a second look, but the first look spent "
                               "all of alpha (--looks 1): give --looks 2 to both looks of a sequential gate")
    return result


def _second_stage(out: Comparison, b: SidePoint, c: SidePoint, first: rs.Estimate, n_tests: float,
                  settings: rs.Settings) -> Comparison:
    """A rerun point at the second look: its reruns alone (bursts set aside within them) combined with
    look 1's estimate by the inverse normal combination test at the point's look-1 share of alpha."""
    look1_rounds = min(out.repeats_baseline, out.repeats_contender)
    out.repeats_baseline += len(b.repeats)
    out.repeats_contender += len(c.repeats)
    point = _kept(out, [r.median for r in b.repeats], [r.median for r in c.repeats], settings)
    kept = min(len(point.baseline), len(point.contender))
    if kept < rs.MIN_REPEATS_FOR_VERDICT:
        out.notes.append(f"reruns alone: {kept} kept on a side, too few to judge; the first look's verdict stands")
        return out
    second = rs.estimate(point, rs.Prior(0.0, 0.0, "reruns alone"), 1.0, settings)
    w = Weights.planned(look1_rounds)
    both = combine(Stage(first.log_change, first.se, first.df, first.sd),
                   Stage(second.log_change, second.se, second.df, second.sd), w, settings.alpha / n_tests)
    e = rs.Estimate(both.log_change, both.log_low, both.log_high, second.sd, second.df, both.z_crit,
                    "reruns alone, combined with the first look")
    out.look2 = {"first_change_pct": out.change_pct, "first_ci_pct": [out.ci_low_pct, out.ci_high_pct],
                 "first_verdict": out.verdict, "rerun_change_pct": second.change_pct,
                 "rerun_noise_pct": second.noise_pct, "reruns_kept": [len(point.baseline), len(point.contender)],
                 "weights": [w.first, w.second]}
    out.change_pct = e.change_pct
    out.ci_low_pct, out.ci_high_pct = e.ci_pct
    out.noise_pct, out.noise_source = e.noise_pct, e.noise_source
    out.verdict = rs.decide(e, out.lower_is_better, settings)
    out.repeats_needed = None
    out.reason = look2_reason(out, settings, kept)
    return out


def _first_look(baseline: Side, contender: Side, settings: rs.Settings
                ) -> tuple[CompareResult, dict[str, tuple[rs.Estimate, float]]]:
    """The comparison of the sweep's files, and per judged point its estimate and Bonferroni divisor."""
    pairs, only_b, only_c = match_points(baseline, contender)
    check_overlap(len(pairs), baseline, contender)
    comparisons: list[Comparison] = []
    judged: list[tuple[Comparison, rs.PointInput, SidePoint, SidePoint]] = []
    for b, c, how in pairs:
        failed = _status_only(b, c, how)
        if failed is not None:
            comparisons.append(failed)
            continue
        stat, lower_is_better = PRIMARY_STATISTIC[b.kind]
        out = Comparison(id=b.id, kind=b.kind, matched_by=how, axes=b.axes, verdict=INCONCLUSIVE, statistic=stat,
                         unit=b.first.stat_units.get(stat) or c.first.stat_units.get(stat, ""),
                         lower_is_better=lower_is_better, repeats_baseline=len(b.repeats),
                         repeats_contender=len(c.repeats), metrics=_metrics(b, c),
                         contender_id=c.id if c.id != b.id else None)
        comparisons.append(out)
        kept = _kept(out, [r.median for r in b.repeats], [r.median for r in c.repeats], settings)
        judged.append((out, kept, b, c))
    inputs = [j[1] for j in judged]
    priors = rs.fit_priors(inputs, settings)
    overall_inputs = _overall_inputs(judged, settings.burst_pct)
    # alpha is shared: half across the points, half across the overall rows. Within the points, weighted
    # Bonferroni: point i has level alpha/2 * w_i / sum(w), a noisy point a smaller share (regression_stats).
    # A sequential gate spends alpha/looks on each look (regression_stats).
    share = (2.0 if overall_inputs else 1.0) * settings.looks
    weights = [rs.weight(p, priors) for p in inputs]
    total = sum(weights)
    estimates: dict[str, tuple[rs.Estimate, float]] = {}
    for (out, point, _, _), w in zip(judged, weights):
        out.noise_class = "noisy" if w < 1.0 else "quiet"
        n_tests = share * total / w
        estimates[out.id] = (_judged(out, point, priors.of(point), n_tests, settings), n_tests)
    overall = [_overall(kind, point, comps, settings, 2.0 * len(overall_inputs) * settings.looks)
               for kind, (point, comps) in overall_inputs.items()]
    # Nothing to rerun once CI fails anyway, or with a gate of one look (a second look would break its
    # error rate).
    failing = any(c.verdict in (REGRESSION, NEWLY_FAILING) for c in comparisons + overall)
    listed = [] if failing or settings.looks < 2 else \
        [_rerun_entry(c, *estimates[c.id], settings) for c, _, _, _ in judged]
    first_b, first_c = baseline.files[0], contender.files[0]
    return CompareResult(
        baseline=baseline.names, contender=contender.names, baseline_machine=first_b.machine,
        contender_machine=first_c.machine, command=first_b.command, threshold_pct=settings.threshold_pct,
        alpha=settings.alpha, noise_floor_pct=settings.noise_floor_pct,
        single_run_noise_pct=settings.single_run_noise_pct, burst_pct=settings.burst_pct,
        looks=settings.looks, look=1, confidence_per_point=1.0 - settings.alpha / max(share * total, 1.0),
        noise_prior=_noise_summary(priors, [c for c, _, _, _ in judged]),
        comparisons=comparisons, overall=overall, only_in_baseline=[_ref(p) for p in only_b],
        only_in_contender=[_ref(p) for p in only_c], warnings=system_warnings(baseline, contender),
        rerun=[e for e in listed if e is not None]), estimates


def _noise_summary(priors: rs.Priors, judged: Sequence[Comparison]) -> dict[str, Any]:
    """The typical noise per repeat, overall and per class, as the JSON and the markdown report it."""
    def sd(p: rs.Prior) -> float:
        return rs.pct(math.sqrt(p.variance))
    return {"sd_pct": sd(priors.all), "df": priors.all.df, "source": priors.all.source,
            "quiet_sd_pct": sd(priors.quiet), "noisy_sd_pct": sd(priors.noisy),
            "quiet_points": len([c for c in judged if c.noise_class == "quiet"]),
            "noisy_points": len([c for c in judged if c.noise_class == "noisy"]),
            "set_aside": sum(c.set_aside_baseline + c.set_aside_contender for c in judged)}


def _overall_inputs(judged: Sequence[tuple[Comparison, rs.PointInput, SidePoint, SidePoint]], burst_pct: float
                    ) -> dict[str, tuple[rs.PointInput, list[Comparison]]]:
    """Per kind: the sweep's level in each run, the geometric mean over the compared points.

    A point's repeats set aside as bursts are left out of their run's mean; to keep runs that miss
    different points comparable, each point enters as its log deviation from its baseline centre (the
    mean of its kept baseline repeats), and the mean of the centres is added back. A run counts when at
    least half of the points are in it (a second look passes only the sweep's files: a rerun holds one point).
    """
    out: dict[str, tuple[rs.PointInput, list[Comparison]]] = {}
    for kind in sorted({j[0].kind for j in judged}):
        rows = [j for j in judged if j[0].kind == kind]
        runs: tuple[dict[tuple[str, int], list[float]], dict[tuple[str, int], list[float]]] = ({}, {})
        centres = []
        for comp, kept, b, c in rows:
            limit = burst_limit([r.median for r in b.repeats], [r.median for r in c.repeats], burst_pct,
                                comp.lower_is_better)
            if not kept.baseline:
                continue
            centre = float(np.mean(np.log(kept.baseline)))
            centres.append(centre)
            for side, repeats in zip(runs, (b.repeats, c.repeats)):
                for r in repeats:
                    if not is_burst(r.median, limit, comp.lower_is_better):
                        side.setdefault((r.file, r.round), []).append(math.log(r.median) - centre)
        level = float(np.mean(centres)) if centres else 0.0
        sides = [[math.exp(level + sum(v) / len(v)) for v in side.values() if 2 * len(v) >= len(rows)]
                 for side in runs]
        # With one repeat per side the sweep's run-to-run noise is not seen at all: no overall verdict.
        if len(rows) >= 2 and sides[0] and sides[1] and len(sides[0]) + len(sides[1]) > 2:
            out[kind] = (rs.PointInput(sides[0], sides[1]), [j[0] for j in rows])
    return out


def _overall(kind: str, point: rs.PointInput, comps: list[Comparison], settings: rs.Settings,
             n_tests: float) -> Comparison:
    stat, lower_is_better = PRIMARY_STATISTIC[kind]
    out = Comparison(id=f"{OVERALL_ID}/{kind}", kind=kind, matched_by=OVERALL_ID, axes={}, verdict=INCONCLUSIVE,
                     statistic=f"geomean {stat} over {len(comps)} points, bursts set aside", unit=comps[0].unit,
                     lower_is_better=lower_is_better,
                     repeats_baseline=len(point.baseline), repeats_contender=len(point.contender))
    # Its own repeats only (there are at least three in all): the point-level prior describes points, not
    # sweep averages. A run whose whole sweep was slowed by interference is set aside like a point's burst.
    prior = rs.Prior(0.0, 0.0, "repeats of the sweep")
    _judged(out, _kept(out, point.baseline, point.contender, settings), prior, n_tests, settings)
    return out


def compare_files(baseline: ResultsFile | Sequence[ResultsFile], contender: ResultsFile | Sequence[ResultsFile],
                  threshold_pct: float = DEFAULT_THRESHOLD_PCT, alpha: float = DEFAULT_ALPHA,
                  noise_floor_pct: float = rs.DEFAULT_NOISE_FLOOR_PCT,
                  single_run_noise_pct: float = rs.DEFAULT_SINGLE_RUN_NOISE_PCT,
                  burst_pct: float = rs.DEFAULT_BURST_PCT, looks: int = 1) -> CompareResult:
    """Compare a baseline and a contender, each one results file or a list of repeats."""
    sides = [build_side(label, [f] if isinstance(f, ResultsFile) else list(f))
             for label, f in (("baseline", baseline), ("contender", contender))]
    return compare_sides(sides[0], sides[1], rs.Settings(threshold_pct, alpha, noise_floor_pct, single_run_noise_pct,
                                                         burst_pct, looks))

"""The statistics behind a regression verdict: repeat-level noise, a confidence interval, a verdict.

Why repeat medians and not per-iteration samples: on a shared machine the median of one run moves by far
more from run to run (other jobs, frequency, placement) than its iterations scatter around it, so a test
that treats iterations as independent (Mann-Whitney U on samples) calls most of an A/A comparison
significant. The unit of replication is therefore the repeat: one median per results file per in-file
repeat. Each repeat median already carries its within-run sampling noise.

Why interference bursts are set aside first (interference.py): interference only adds time, and on a
loaded runner a few repeats of a point are 1.3x-5x slower while the rest agree within a few percent.
Such a repeat is not noise to average over; kept in, it makes every point look ±30-50% noisy.

Why a moderated t interval on log medians rather than a bootstrap: CI jobs run 3-6 repeats per side. A
bootstrap over 4 repeats has few distinct resamples and understates the spread; a t interval on the log
ratio with the variance of each point *moderated* toward the variance typical of similar points
(empirical Bayes, Smyth 2004, the "limma" method) borrows strength across the dozens of points of a
sweep. Two refinements, both because a loaded machine is not one noise scale:
- Two noise classes. After bursts are set aside, points are either quiet (a few percent: small
  messages, two threads) or noisy (15-40%: large messages, more threads than cores). A point is
  moderated toward the noise of its own class (NOISY_PCT splits them); pooled over both, the prior is
  so spread that it gives a quiet point almost no extra degrees of freedom.
- Robust fitting. The prior's scale comes from the median and MAD of the log variances, and a point
  whose variance is far above its class (upper 5% of the prior's F distribution) keeps its own variance
  (Phipson et al. 2016, "robust hyperparameter estimation").

Why intervals are simultaneous (weighted Bonferroni): a CI gate makes one decision per run, not one per
point. `alpha` is the chance of any false verdict among all points and overall rows together. Each test
gets a share of alpha; a noisy point (which can only show a very large change anyway) gets NOISY_WEIGHT
of a quiet point's share, so the quiet points, where a 30% change is visible, are tested at a less
extreme level. The weights depend on the noise only, never on the change, so the family-wise error
stays at most alpha (Bourgon et al. 2010 on filtering by a statistic independent of the test).

Why pairing by round is not used: in interleaved A/B the two runs of a round are seconds apart, so a
slow drift is shared, but on the loaded runner the noise is bursts shorter than one run: paired
log-ratios per round were about as noisy as unpaired repeats (±47% vs ±50% per repeat, trials in
scripts/trials/README.md), and dividing each run by its geometric mean over all points removed almost
nothing (±46%); setting bursts aside left ±12%. The ABBA order
already balances a drift between the sides; the analysis compares the sides' repeats unpaired.

Why fewer than three (kept) repeats per side is never a regression (MIN_REPEATS_FOR_VERDICT): single-run
A/A trials on a shared runner had a point 10x slower in one of two identical runs while the bulk agreed
within 10%. One run per side cannot tell a regression from such a burst, whatever noise is assumed; the
verdict is then inconclusive and says so (a point that newly fails still fails CI).

Why four verdicts: a change is a regression only when the whole interval lies beyond the threshold, and
unchanged only when the whole interval lies inside it. Everything else is inconclusive, with the number
of repeats per side that would likely settle it: noise is reported, never hidden as "unchanged".

Why a second look (`looks=2`, a two-stage sequential gate): with 6 rounds on the loaded 2-core runner, a
planted 30% slowdown was caught in 9 trials of 10. In the miss (trial aa-4 of the second session) 3 of
the point's 6 contender runs were real bursts (2.5-3.5x, in the A/A data before anything was planted)
and the 3 left spread ±12% and overlapped the baseline: no test at a family-wise level could call it on
those numbers. Only more repeats of that point can decide it. A CI gate cannot afford more rounds of the
whole sweep on every change, so the first look lists the points that are inconclusive and lean towards a
regression (the estimate itself beyond the threshold; a point leaning the other way cannot fail CI), each
with the number of rerun rounds that would likely settle it; `dpbench_report rerun` measures only those,
alone (a fraction of a second per run), and the second look combines each rerun point's two stages
(second_look.py: the inverse normal combination test, which keeps its level whatever rerun size look 1's
numbers chose). Each look spends alpha/2 (Bonferroni over the two looks), so the chance of any false
verdict over both is at most alpha; points not rerun keep their look-1 verdict, and there is no third look
(the JSON of the last look lists nothing). The price is a slightly wider interval at look 1 (alpha/2
instead of alpha: at 40 points the critical t grows by 5% with many degrees of freedom, 10% with 10).

Known limit: a point whose time is bimodal (each run lands in a fast or a slow mode) can, by chance,
land slow in every baseline run and fast in every contender run; a handful of numbers cannot tell that
from a change. For one such point that takes about 2^-(2n-1) with n rounds: 1 in 128 with 4, 1 in 2048
with 6 (the trials' relabelled A/A comparisons met it 3 times in 70 with 4 rounds, 2 in 110 with 6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.special import digamma, polygamma
from scipy.stats import f as f_dist
from scipy.stats import t as student_t

from .interference import DEFAULT_BURST_PCT

REGRESSION, IMPROVEMENT, UNCHANGED, INCONCLUSIVE = "regression", "improvement", "unchanged", "inconclusive"

# Fewest repeats per side for a regression or improvement verdict. An A/A comparison of 2 rounds per side
# on a loaded 2-core runner called a point a regression (one burst of interference on one side); with one
# or two repeats a burst and a change look alike, so such points are inconclusive and say how many
# repeats would settle them.
MIN_REPEATS_FOR_VERDICT = 3

DEFAULT_THRESHOLD_PCT = 5.0
DEFAULT_ALPHA = 0.05
# Smallest run-to-run noise (relative SD of one repeat median) ever assumed. Two runs agreeing more closely
# than this is luck, not evidence: even a dedicated GPU node drifts by about a percent between runs.
DEFAULT_NOISE_FLOOR_PCT = 1.0
# Run-to-run noise assumed when no side has two repeats of a point: it cannot be seen, so assume a lot.
# 25%: single-run A/A trials on a shared 2-core runner had points 3x slower in one run of two while the
# bulk agreed within 10%; the spread of the change across all points is used instead when larger.
DEFAULT_SINGLE_RUN_NOISE_PCT = 25.0
# Degrees of freedom given to that assumed noise. Run-to-run noise on shared machines has outliers (a run
# 5x slower while a build links) that a Gaussian scale underrates; a t with few degrees of freedom keeps
# single-run verdicts to changes far outside the bulk of the points.
SINGLE_RUN_PRIOR_DF = 6.0
MAX_REPEATS_SUGGESTED = 100
# Noise (relative SD of one kept repeat) above which a point is in the noisy class: moderated toward the
# noisy points' noise and given NOISY_WEIGHT of a quiet point's share of alpha. 15% = 3x the default
# threshold: such a point can only show a change several times larger than the threshold anyway.
NOISY_PCT = 15.0
NOISY_WEIGHT = 0.25
# A point's variance above this upper quantile of its class prior's F distribution is its own (robust fit).
OUTLIER_P = 0.05
# Looks of a sequential gate: the first, and one after rerunning the undecided points (each spends alpha/2).
MAX_LOOKS = 2
# Fewest points with seen noise to fit a class of its own; fewer share the prior of all points.
MIN_CLASS_POINTS = 5


@dataclass(frozen=True)
class Settings:
    """What a verdict depends on besides the data."""

    threshold_pct: float = DEFAULT_THRESHOLD_PCT
    alpha: float = DEFAULT_ALPHA
    noise_floor_pct: float = DEFAULT_NOISE_FLOOR_PCT
    single_run_noise_pct: float = DEFAULT_SINGLE_RUN_NOISE_PCT
    burst_pct: float = DEFAULT_BURST_PCT
    looks: int = 1  # looks of a sequential gate at growing data (see the module docstring); each spends alpha/looks

    def check(self) -> None:
        if isinstance(self.looks, bool) or not isinstance(self.looks, int) or not 1 <= self.looks <= MAX_LOOKS:
            raise ValueError(f"looks must be a whole number from 1 to {MAX_LOOKS}, got {self.looks}")
        if not (math.isfinite(self.threshold_pct) and self.threshold_pct >= 0):
            raise ValueError(f"threshold must be a non-negative percentage, got {self.threshold_pct}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha}")
        for name, value in (("noise floor", self.noise_floor_pct), ("single-run noise", self.single_run_noise_pct),
                            ("burst", self.burst_pct)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a non-negative percentage, got {value}")


@dataclass(frozen=True)
class Prior:
    """Noise typical of this comparison: log-scale variance s0^2 worth d0 degrees of freedom (d0 may be inf)."""

    variance: float
    df: float
    source: str
    seen: bool = True  # False: no point was repeated on a side, the noise is assumed


@dataclass(frozen=True)
class PointInput:
    """Repeat medians of one point measured in one context, both sides (positive, finite)."""

    baseline: Sequence[float]
    contender: Sequence[float]


@dataclass(frozen=True)
class Estimate:
    """A change in log space with its interval and the noise it rests on."""

    log_change: float
    log_low: float
    log_high: float
    sd: float          # moderated SD of one repeat's log median
    df: float
    t_crit: float
    noise_source: str
    se: float = math.nan  # standard error of log_change (sd / sqrt(W))

    @property
    def change_pct(self) -> float:
        return pct(self.log_change)

    @property
    def ci_pct(self) -> tuple[float, float]:
        return pct(self.log_low), pct(self.log_high)

    @property
    def noise_pct(self) -> float:
        return pct(self.sd)


def pct(log_ratio: float) -> float:
    """A log ratio as a percent change (an interval end beyond e^700 is +inf, written as null in JSON)."""
    return math.expm1(log_ratio) * 100.0 if log_ratio < 700.0 else math.inf


def _own_variance(p: PointInput) -> tuple[float, int]:
    """Pooled within-side variance of log repeat medians and its degrees of freedom (0 when unseen)."""
    ss, df = 0.0, 0
    for side in (p.baseline, p.contender):
        if len(side) > 1:
            y = np.log(np.asarray(side, dtype=float))
            ss += float(((y - y.mean()) ** 2).sum())
            df += len(side) - 1
    return (ss / df if df else math.nan), df


def log_change(p: PointInput) -> tuple[float, float]:
    """Log change (mean log repeat, contender minus baseline) and W = 1/(1/nb + 1/nc) (its variance is
    noise / W); nan and 0 when a side is empty."""
    nb, nc = len(p.baseline), len(p.contender)
    if not nb or not nc:
        return math.nan, 0.0
    change = float(np.mean(np.log(np.asarray(p.contender, dtype=float))) -
                   np.mean(np.log(np.asarray(p.baseline, dtype=float))))
    return change, 1.0 / (1.0 / nb + 1.0 / nc)


def _trigamma_inverse(x: float) -> float:
    """y with trigamma(y) = x (Newton's method, as limma's trigammaInverse)."""
    if x > 1e7:
        return 1.0 / math.sqrt(x)
    if x < 1e-6:
        return 1.0 / x
    y = 0.5 + 1.0 / x
    for _ in range(50):
        tri = float(polygamma(1, y))
        step = tri * (1.0 - tri / x) / float(polygamma(2, y))
        y += step
        if -step / y < 1e-8:
            break
    return y


def _single_run_prior(points: Sequence[PointInput], settings: Settings) -> Prior:
    """No point seen twice on a side: the spread of the change across points stands in (robust: most
    points of a comparison do not change), never below the single-run floor."""
    changes = [log_change(p)[0] for p in points]
    spread = 0.0
    if len(changes) >= 5:
        c = np.asarray(changes)
        mad = float(np.median(np.abs(c - np.median(c)))) * 1.4826
        spread = mad / math.sqrt(2.0)  # the change of one repeat per side carries two repeats' noise
    floor = math.log1p(settings.single_run_noise_pct / 100.0)
    if spread > floor:
        return Prior(spread ** 2, SINGLE_RUN_PRIOR_DF, "spread of the change across points, single repeats",
                     seen=False)
    return Prior(floor ** 2, SINGLE_RUN_PRIOR_DF, f"assumed {settings.single_run_noise_pct:g}%, single repeats",
                 seen=False)


def _seen_variances(points: Sequence[PointInput], settings: Settings) -> list[tuple[float, int]]:
    # Variances below the floor count as the floor (they are floored later anyway); this keeps log s^2
    # finite when repeats agree exactly.
    tiny = max(math.log1p(settings.noise_floor_pct / 100.0), 1e-6) ** 2
    return [(max(v, tiny), d) for v, d in (_own_variance(p) for p in points) if d > 0]


def _fit(seen: Sequence[tuple[float, int]], source: str) -> Prior:
    """Scaled inverse-chi-square prior from (variance, df) pairs: median and MAD of the bias-corrected log
    variances (Smyth 2004's moments, made robust: a few burst-ridden points do not set the scale)."""
    dfs = np.asarray([d for _, d in seen], dtype=float)
    e = np.log(np.asarray([v for v, _ in seen])) - digamma(dfs / 2) + np.log(dfs / 2)
    center = float(np.median(e))
    spread = 1.4826 * float(np.median(np.abs(e - center)))
    excess = spread ** 2 - float(np.mean(polygamma(1, dfs / 2)))
    if excess > 0:
        d0 = 2.0 * _trigamma_inverse(excess)
        return Prior(math.exp(center + float(digamma(d0 / 2)) - math.log(d0 / 2)), d0, source)
    return Prior(math.exp(center), math.inf, source)


def fit_prior(points: Sequence[PointInput], settings: Settings) -> Prior:
    """Empirical-Bayes prior for the per-point variances of all points (robust moments on log s^2).

    Heterogeneous noise across points gives a small d0 (each point mostly trusts its own repeats); similar
    noise gives a large d0 (a point with 3 repeats borrows the precision of all of them). With fewer than
    three points seen twice on a side, the single-run prior (assumed noise) stands in.
    """
    seen = _seen_variances(points, settings)
    if len(seen) < 3:
        return _single_run_prior(points, settings)
    return _fit(seen, "repeats of all points")


@dataclass(frozen=True)
class Priors:
    """The noise of the quiet and the noisy class of points (see NOISY_PCT), and of all points."""

    all: Prior
    quiet: Prior
    noisy: Prior

    def of(self, p: PointInput) -> Prior:
        var, df = _own_variance(p)
        if df == 0 or not self.all.seen:
            return self.all
        return self.noisy if is_noisy(var) else self.quiet


def is_noisy(variance: float) -> bool:
    return math.sqrt(variance) > math.log1p(NOISY_PCT / 100.0)


def fit_priors(points: Sequence[PointInput], settings: Settings) -> Priors:
    """One prior per noise class; a class with fewer than MIN_CLASS_POINTS points uses the prior of all."""
    everything = fit_prior(points, settings)
    if not everything.seen:
        return Priors(everything, everything, everything)
    seen = _seen_variances(points, settings)
    classes = []
    for noisy, label in ((False, "quiet"), (True, "noisy")):
        members = [x for x in seen if is_noisy(x[0]) == noisy]
        classes.append(_fit(members, f"repeats of the {label} points") if len(members) >= MIN_CLASS_POINTS
                       else everything)
    return Priors(everything, classes[0], classes[1])


def weight(p: PointInput, priors: Priors) -> float:
    """A point's share of alpha relative to a quiet point's: NOISY_WEIGHT for a noisy one."""
    var, df = _own_variance(p)
    return NOISY_WEIGHT if df > 0 and priors.all.seen and is_noisy(var) else 1.0


def estimate(p: PointInput, prior: Prior, n_points: float, settings: Settings) -> Estimate:
    """Log change of the geometric mean of repeat medians, with a simultaneous interval.

    n_points is the Bonferroni divisor of this test: alpha / n_points is its level (with weights, the
    sum of all weights over this test's weight).
    """
    change, w = log_change(p)
    var, df = _own_variance(p)
    if df == 0:  # this point was never seen twice on a side: the prior is all there is
        post, post_df, source = prior.variance, (prior.df if prior.df > 0 else math.inf), prior.source
    elif prior.df <= 0:
        post, post_df, source = var, float(df), "repeats"
    elif var / prior.variance > float(f_dist.ppf(1.0 - OUTLIER_P, df, min(prior.df, 1e6))):
        # far noisier than its class: its own repeats only (a robust prior does not vouch for it)
        post, post_df, source = var, float(df), "repeats (noisier than its class)"
    elif math.isinf(prior.df):
        post, post_df, source = prior.variance, math.inf, prior.source
    else:
        post = (prior.df * prior.variance + df * var) / (prior.df + df)
        post_df, source = prior.df + df, "repeats (moderated)"
    floor = math.log1p(settings.noise_floor_pct / 100.0)
    sd = max(math.sqrt(post), floor)
    if sd == floor and floor > 0 and math.sqrt(post) < floor:
        source = f"noise floor {settings.noise_floor_pct:g}%"
    t_crit = critical_t(settings.alpha, n_points, post_df)
    half = t_crit * sd / math.sqrt(w)
    return Estimate(change, change - half, change + half, sd, post_df, t_crit, source, sd / math.sqrt(w))


def critical_t(alpha: float, n_points: float, df: float) -> float:
    """Two-sided Student t quantile at the per-test (Bonferroni) level alpha / n_points."""
    level = 1.0 - alpha / max(n_points, 1) / 2.0
    return float(student_t.ppf(level, df)) if math.isfinite(df) else float(student_t.ppf(level, 1e9))


def decide(e: Estimate, lower_is_better: bool, settings: Settings) -> str:
    """Regression when the whole interval is worse than the threshold, unchanged when it is inside it."""
    tau = math.log1p(settings.threshold_pct / 100.0)
    low, high = (e.log_low, e.log_high) if lower_is_better else (-e.log_high, -e.log_low)
    if low > tau:
        return REGRESSION
    if high < -tau:
        return IMPROVEMENT
    if -tau <= low and high <= tau:
        return UNCHANGED
    return INCONCLUSIVE


def repeats_needed(e: Estimate, settings: Settings, n_points: float, prior_df: float) -> int | None:
    """Repeats per side at which the interval would clear the threshold it straddles (same change and noise).

    prior_df is what the noise estimate gets besides the repeats themselves (0 for an overall row, inf for
    an assumed noise). None when no number up to MAX_REPEATS_SUGGESTED would (the change sits near the
    threshold, or the noise is large).
    """
    tau = math.log1p(settings.threshold_pct / 100.0)
    gap = min(abs(e.log_change - b) for b in (tau, -tau))
    if gap <= 0:
        return None
    for k in range(2, MAX_REPEATS_SUGGESTED + 1):
        df = (prior_df if math.isfinite(prior_df) else 1e9) + 2 * k - 2
        if critical_t(settings.alpha, n_points, df) * e.sd * math.sqrt(2.0 / k) < gap:
            return k
    return None

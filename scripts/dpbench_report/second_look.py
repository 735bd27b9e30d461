"""The second look of the sequential gate: an adaptive two-stage test per rerun point.

Look 1 judges the sweep's rounds. A point it leaves undecided while leaning slower is listed with a
number of rerun rounds chosen from what look 1 saw (`rerun_rounds`); `dpbench_report rerun` measures it
alone that many ABBA rounds, and look 2 combines the two stages of each rerun point with the inverse
normal combination test (Bauer & Koehne 1994; Lehmacher & Wassmer 1999):

    Z(d) = w1 * z1(d) + w2 * z2(d),   w1^2 + w2^2 = 1, the weights fixed by the design (never by data)

where z_k(d) is the normal score of stage k's one-sided p-value for "the change is d" (a Student t on the
stage's own log repeat medians: look 1's moderated estimate for stage 1, the reruns' own spread for
stage 2). Under a true change d the reruns are new runs, so whatever number of them look 1's numbers
asked for, z2(d) is standard normal given stage 1, Z(d) is standard normal, and the interval {d : |Z(d)|
<= z_crit} covers d at the point's level. That is what lets the rerun size follow the data: a point
whose noise or change needs 60 reruns gets 60 while an almost-decided one gets 10, and the chance of any
false verdict over both looks stays at most alpha (each look spends alpha/2, the points' shares as at
look 1). Pooling the reruns with look 1's repeats instead would give a test whose level depends on how
the rerun size was chosen; a fixed size (the previous gate, 20 rounds) kept the level but left the
points that needed 30 undecided.

The two stages stay separate anyway: a point run alone (a cold process, no neighbouring points) need not
take the time it takes within its sweep, so each stage compares the sides within its own context.

The rerun size: enough rounds that, if the change and the noise are what look 1 saw, the combined test
calls the regression with probability TARGET_POWER (conditional power; Mehta & Pocock 2011), bursts set
aside at the rate look 1 saw, between MIN_RERUN_ROUNDS and MAX_RERUN_ROUNDS. A point that would need
more than MAX_RERUN_ROUNDS even for an even chance is not listed: it stays inconclusive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq
from scipy.stats import norm
from scipy.stats import t as student_t

# The rerun size the stage weights are planned for: w1^2 = n1 / (n1 + PLANNED_RERUN_ROUNDS) with n1 look
# 1's rounds per side. Fixed in advance; the actual size may differ (the test stays valid, only the weights
# are then not the most efficient ones). 40: the size the points listed on the loaded trial runner asked
# for most often (their runs alone were as noisy as within the sweep, ±15-50% per run before bursts went).
PLANNED_RERUN_ROUNDS = 40
# Bounds of the rerun size. Fewer than 10 rounds leave a burst too much weight; 80 rounds of one point take
# about a minute on the loaded 2-core runner (two runs of 0.2-0.5 s each per round).
MIN_RERUN_ROUNDS = 10
MAX_RERUN_ROUNDS = 80
TARGET_POWER = 0.8
# Normal scores beyond this are clipped (p-values below about 1e-300 are all "certain").
_Z_CLIP = 37.0


@dataclass(frozen=True)
class Stage:
    """One stage's estimate of the log change: value, standard error, degrees of freedom, noise per repeat."""

    log_change: float
    se: float
    df: float
    sd: float

    def z(self, d: float) -> float:
        """Normal score of the one-sided p-value against 'the change is d' (large: the change is above d)."""
        t = (self.log_change - d) / self.se
        df = self.df if math.isfinite(self.df) else 1e9
        score = float(norm.isf(student_t.sf(t, df))) if t >= 0 else -float(norm.isf(student_t.cdf(t, df)))
        return max(-_Z_CLIP, min(_Z_CLIP, score))


@dataclass(frozen=True)
class Weights:
    first: float
    second: float

    @staticmethod
    def planned(look1_rounds: int) -> "Weights":
        """The design's weights for a point with look1_rounds repeats per side at look 1."""
        n1 = max(look1_rounds, 1)
        w1 = math.sqrt(n1 / (n1 + PLANNED_RERUN_ROUNDS))
        return Weights(w1, math.sqrt(1.0 - w1 * w1))


@dataclass(frozen=True)
class Combined:
    """Look 2's estimate of one point: the median-unbiased change (Z = 0) and the interval."""

    log_change: float
    log_low: float
    log_high: float
    z_crit: float


def critical_z(level: float) -> float:
    """Two-sided normal quantile at this per-test level (the interval's level)."""
    return float(norm.isf(level / 2.0))


def combine(first: Stage, second: Stage, w: Weights, level: float) -> Combined:
    """The combination test's estimate and two-sided interval at this per-test level."""
    crit = critical_z(level)

    def score(d: float) -> float:
        return w.first * first.z(d) + w.second * second.z(d)

    spread = max(first.se, second.se)
    lo = min(first.log_change, second.log_change) - 60.0 * spread
    hi = max(first.log_change, second.log_change) + 60.0 * spread
    roots = [float(brentq(lambda d, c=c: score(d) - c, lo, hi, xtol=1e-10)) for c in (crit, 0.0, -crit)]
    return Combined(log_change=roots[1], log_low=roots[0], log_high=roots[2], z_crit=crit)


def rerun_rounds(first: Stage, tau: float, level: float, w: Weights, aside_fraction: float) -> int | None:
    """Rerun rounds for a point look 1 saw change by first.log_change > tau (see the module docstring).

    None when even MAX_RERUN_ROUNDS would give the combined test less than an even chance.
    """
    gap = first.log_change - tau
    if gap <= 0 or not math.isfinite(gap) or first.sd <= 0:
        return None
    crit = critical_z(level)
    z1 = first.z(tau)
    keep = 1.0 - min(max(aside_fraction, 0.0), 0.5)

    def kept_needed(power_z: float) -> float:
        need = (crit - w.first * z1) / w.second + power_z  # the mean z2 must have
        return 2.0 * (first.sd * need / gap) ** 2 / keep if need > 0 else 0.0

    if kept_needed(0.0) > MAX_RERUN_ROUNDS:
        return None
    target = kept_needed(float(norm.ppf(TARGET_POWER)))
    return int(min(MAX_RERUN_ROUNDS, max(MIN_RERUN_ROUNDS, math.ceil(target))))

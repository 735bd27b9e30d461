"""Interference bursts: repeats a shared machine slowed, set aside before a point is judged.

What the noise looks like on a loaded runner (A/A trials on the 2-core build machine, load 3 to 9): most
repeats of a point agree within a few percent, and a few are 1.3x to 5x slower, hitting a run of
neighbouring points in one process while a compiler or linker held the cores. Interference only ever
adds time, so such a repeat is not a sample of the point's noise: it is a different measurement. Left in,
one burst among four repeats makes the point's spread 30-50% and no change short of 2x can be shown.

The rule: with at least MIN_REPEATS repeats on each side, a repeat more than `burst_pct` slower than the
median of *both* sides (the larger of the two medians) is set aside. Why both sides:

- A real slowdown moves every contender repeat, so it never sets aside the contender's own repeats
  (they are not slower than their own median), and a baseline burst smaller than the change stays in.
- Some points are bimodal (a 4 MiB all-reduce takes 1.0 or 1.6 ms, by run, in tight modes). Measured
  against its own side only, a baseline of 1.0, 1.0, 1.0, 1.6 would drop its 1.6 as a burst and look
  quiet, and a contender of 1.6 x 4 would be a "regression": relabelling the rounds of the A/A trials
  produced exactly that in 6 of 21 comparisons. The slow mode appears on the other side too, so against
  the larger median it stays in, the point keeps its spread, and the verdict is inconclusive.

Bursts go only while they are a minority of their side: when half of a side's repeats or more are above
the limit, that side keeps them all. The premise of setting aside is that interference is the exception;
when the slow runs are as common as the fast ones they are a mode of the point on that side (or the
interference is the condition of the whole measurement), and which half is "true" is a coin flip. The
third session's trials met both ways that flip goes wrong, each with exactly half of a side set aside:
- identical code called 75% slower: a 64 KiB point at 11-13 or ~108 us by run in the baseline, 20-23 or
  ~105 us in the contender; with the slow half of each side gone, 11 was compared with 20;
- a real 30% slowdown eaten: the contender's runs of the point were in two modes (0.65 and 0.81-0.89 ms,
  the baseline 0.78-0.88), and x1.3 moved the upper mode past the limit; the lower mode alone was +1%.
Kept, such a point is noisy and inconclusive (and, leaning slower, rerun by a sequential gate), which is
the honest verdict. So the bulk of a side is never set aside, whatever the other side does.

Because the rule is the same for both sides, an A/A comparison stays symmetric: setting aside cannot make
identical code look slower or faster on average. Fewer than half of a side's repeats are ever set aside;
a point left with fewer than three repeats on a side cannot be a regression
(regression_stats.MIN_REPEATS_FOR_VERDICT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Fewest repeats per side before anything is set aside: with two, a burst and a bimodal point look alike.
MIN_REPEATS = 3
# Default: a repeat 10% slower than the typical repeat of both sides is interference. The quiet points
# of a loaded 2-core runner agree within 1-5%; bursts are 30% to 400%.
DEFAULT_BURST_PCT = 10.0


@dataclass(frozen=True)
class Kept:
    """The repeats of one point that are judged, and what was set aside (values, per side)."""

    baseline: list[float]
    contender: list[float]
    aside_baseline: list[float]
    aside_contender: list[float]

    @property
    def set_aside(self) -> int:
        return len(self.aside_baseline) + len(self.aside_contender)


def burst_limit(baseline: Sequence[float], contender: Sequence[float], burst_pct: float,
                lower_is_better: bool = True) -> float | None:
    """The signed log value above which a repeat is set aside (sign * log x > limit), or None: keep all.

    For a statistic where higher is better (a rate), interference lowers it: sign is -1 and the rule mirrors.
    """
    if burst_pct <= 0 or min(len(baseline), len(contender)) < MIN_REPEATS:
        return None
    sign = 1.0 if lower_is_better else -1.0
    medians = [float(np.median(sign * np.log(np.asarray(side, dtype=float)))) for side in (baseline, contender)]
    return max(medians) + math.log1p(burst_pct / 100.0)


def is_burst(value: float, limit: float | None, lower_is_better: bool = True) -> bool:
    return limit is not None and (1.0 if lower_is_better else -1.0) * math.log(value) > limit


def _split(side: Sequence[float], limit: float | None, lower_is_better: bool) -> tuple[list[float], list[float]]:
    """(kept, set aside) of one side: bursts go only while they are a minority of the side's runs."""
    aside = [x for x in side if is_burst(x, limit, lower_is_better)]
    if 2 * len(aside) >= len(side):
        return list(side), []
    return [x for x in side if not is_burst(x, limit, lower_is_better)], aside


def set_aside(baseline: Sequence[float], contender: Sequence[float], burst_pct: float,
              lower_is_better: bool = True) -> Kept:
    """Split each side's repeats into kept and set aside (see the module docstring)."""
    limit = burst_limit(baseline, contender, burst_pct, lower_is_better)
    b, ab = _split(baseline, limit, lower_is_better)
    c, ac = _split(contender, limit, lower_is_better)
    return Kept(b, c, ab, ac)

"""A 95% confidence interval of the median from raw samples, by order statistics.

dpbench reports medians, but the results file's `ci95_low/high` bound the *mean*; on skewed timing
samples the median can lie outside that interval. The distribution-free interval here needs nothing
but the samples the record already stores: the number of samples below the true median is
Binomial(n, 1/2), so the j-th smallest and j-th largest samples bracket the median with probability
1 - 2 P(B <= j - 1). This is what the report shows when a record has no median interval of its own.
"""

from __future__ import annotations

from typing import Sequence

from scipy.stats import binom

CONFIDENCE = 0.95


def median_ci(samples: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """(low, high) with at least `confidence` coverage, or None when too few samples (n < 6 at 95%)."""
    n = len(samples)
    tail = (1.0 - confidence) / 2.0
    if n == 0 or binom.cdf(0, n, 0.5) > tail:
        return None
    # Largest j with P(B <= j) <= tail; the interval is [x_(j+1), x_(n-j)] in 1-based order statistics.
    j = int(binom.ppf(tail, n, 0.5))
    while j > 0 and binom.cdf(j, n, 0.5) > tail:
        j -= 1
    ordered = sorted(samples)
    return ordered[j], ordered[n - 1 - j]

"""The 95% CI of the median: order statistics of the stored samples, or the record's own interval."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from conftest import FIXTURE_NAMES, fixture_doc, fixture_path
from scipy.stats import binom

from dpbench_report import load_many, load_results, to_records
from dpbench_report.median_ci import median_ci


def test_too_few_samples_have_no_interval() -> None:
    assert median_ci([]) is None
    assert median_ci([1.0, 2.0, 3.0, 4.0, 5.0]) is None  # 2 * 0.5**5 > 5%: no order statistics reach 95%
    assert median_ci([float(x) for x in range(6)]) == (0.0, 5.0)  # n = 6: min and max, 96.9% coverage


def test_interval_is_the_textbook_order_statistics() -> None:
    # n = 10: P(B <= 1) = 0.0107 <= 2.5% < P(B <= 2): the 2nd smallest and 2nd largest samples.
    samples = [9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0, 10.0]
    assert median_ci(samples) == (2.0, 9.0)
    for n in (6, 10, 25, 100, 1000):
        low, high = median_ci([float(x) for x in range(n)]) or (None, None)
        assert low is not None and high == n - 1 - low
        j = int(low)
        assert 1 - 2 * binom.cdf(j, n, 0.5) >= 0.95  # covers at least 95% ...
        assert 1 - 2 * binom.cdf(j + 1, n, 0.5) < 0.95  # ... and is the narrowest that does


def test_coverage_on_skewed_samples() -> None:
    """Lognormal 'timings': the interval holds the true median about 95% of the time (never the mean's job)."""
    rng = np.random.default_rng(1)
    true_median = 1.0  # exp(0)
    hits = 0
    trials = 1000
    for _ in range(trials):
        low, high = median_ci(list(rng.lognormal(0.0, 1.0, size=40))) or (np.nan, np.nan)
        hits += low <= true_median <= high
    assert 0.93 <= hits / trials <= 0.995


def test_every_fixture_median_lies_in_its_interval() -> None:
    records = to_records(load_many([fixture_path(n) for n in FIXTURE_NAMES]))
    checked = 0
    for r in records:
        for name, median in r.medians.items():
            low, high = r.median_ci95[name]
            if len(r.samples[name]) >= 6:
                assert low is not None and high is not None and low <= median <= high, (r.id, name)
                checked += 1
    assert checked > 100


def test_fixture_shows_why_the_mean_interval_was_wrong() -> None:
    """The allreduce fixture has points whose median lies outside the mean's CI; the median's CI holds it."""
    records = to_records([load_results(fixture_path("allreduce_cpu"))])
    outside = [r for r in records if (lo := r.ci95["time"][0]) is not None and not lo <= r.medians["time"] <= r.ci95["time"][1]]
    assert outside, "fixture no longer shows the skew this test is about"
    for r in outside:
        low, high = r.median_ci95["time"]
        assert low is not None and high is not None and low <= r.medians["time"] <= high


def test_interval_recorded_by_dpbench_wins(make_file: Callable[..., Path]) -> None:
    doc = fixture_doc("allreduce_cpu")
    stats = doc["points"][0]["stats"]["time"]
    stats["median_ci95_low"], stats["median_ci95_high"] = stats["median"] - 0.125, stats["median"] + 0.25
    record = to_records([load_results(make_file("with_median_ci.json", doc))])[0]  # still valid
    assert record.median_ci95["time"] == (stats["median"] - 0.125, stats["median"] + 0.25)
    row = record.row()
    assert row["time.median_ci95_low"] == stats["median_ci95_low"]
    assert row["time.ci95_low"] == stats["ci95_low"]  # the mean's interval stays available, named apart

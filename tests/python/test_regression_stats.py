"""The statistics behind a verdict: intervals, the four verdicts, the noise prior, repeats needed."""

from __future__ import annotations

import math

import pytest

from dpbench_report import regression_stats as rs

S = rs.Settings()


def est(change_pct: float, half_pct: float, sd_pct: float = 2.0) -> rs.Estimate:
    c = math.log1p(change_pct / 100)
    return rs.Estimate(c, c - math.log1p(half_pct / 100), c + math.log1p(half_pct / 100),
                       math.log1p(sd_pct / 100), 10.0, 3.0, "repeats")


@pytest.mark.parametrize("change, half, lower_is_better, expected", [
    (30, 10, True, rs.REGRESSION),      # whole interval beyond +5%
    (-30, 10, True, rs.IMPROVEMENT),
    (-30, 10, False, rs.REGRESSION),    # higher is better: a drop is worse
    (1, 2, True, rs.UNCHANGED),         # whole interval inside ±5%
    (8, 6, True, rs.INCONCLUSIVE),      # significant, but not surely beyond 5%
    (0, 20, True, rs.INCONCLUSIVE),     # noise too large for the threshold
])
def test_verdicts(change: float, half: float, lower_is_better: bool, expected: str) -> None:
    assert rs.decide(est(change, half), lower_is_better, S) == expected


def test_interval_widens_with_noise_and_points() -> None:
    prior = rs.Prior(0.0001, math.inf, "test")
    p = rs.PointInput([100, 101, 99], [110, 111, 109])
    one, many = rs.estimate(p, prior, 1, S), rs.estimate(p, prior, 1000, S)
    assert one.change_pct == pytest.approx(10, abs=0.1)
    assert many.log_high - many.log_low > one.log_high - one.log_low  # simultaneous over 1000 points


def test_noise_floor_applies() -> None:
    p = rs.PointInput([100, 100, 100], [100, 100, 100])
    e = rs.estimate(p, rs.fit_prior([p] * 5, S), 5, S)
    assert e.sd == pytest.approx(math.log1p(S.noise_floor_pct / 100), rel=0.2)  # never below the floor
    assert e.sd >= math.log1p(S.noise_floor_pct / 100)
    assert rs.decide(e, True, S) == rs.UNCHANGED


def test_single_repeats_assume_noise() -> None:
    points = [rs.PointInput([100.0], [100.0 * (1 + 0.001 * i)]) for i in range(10)]
    prior = rs.fit_prior(points, S)
    assert "single repeats" in prior.source
    assert math.sqrt(prior.variance) == pytest.approx(math.log1p(S.single_run_noise_pct / 100))


def test_prior_borrows_strength_when_points_agree() -> None:
    import numpy as np
    rng = np.random.default_rng(3)
    points = [rs.PointInput(list(100 * np.exp(rng.normal(0, 0.05, 3))), list(100 * np.exp(rng.normal(0, 0.05, 3))))
              for _ in range(60)]
    prior = rs.fit_prior(points, S)
    assert prior.df > 10 and math.sqrt(prior.variance) == pytest.approx(0.05, rel=0.25)


def test_repeats_needed() -> None:
    e = est(20, 30, sd_pct=10)
    k = rs.repeats_needed(e, S, 40, 4.0)
    assert k is not None and k > 3
    assert rs.repeats_needed(est(5, 30, sd_pct=10), S, 40, 4.0) is None  # sits on the threshold


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        rs.Settings(threshold_pct=-1).check()
    with pytest.raises(ValueError):
        rs.Settings(alpha=0).check()

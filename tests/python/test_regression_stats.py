"""The statistics behind a verdict: intervals, the four verdicts, the noise prior, repeats needed."""

from __future__ import annotations

import math

import numpy as np
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


def _points(rng: "np.random.Generator", sds: list[float], n: int = 4) -> list[rs.PointInput]:
    return [rs.PointInput(list(100 * np.exp(rng.normal(0, s, n))), list(100 * np.exp(rng.normal(0, s, n))))
            for s in sds]


def test_two_noise_classes_each_pool_their_own_noise() -> None:
    rng = np.random.default_rng(5)
    points = _points(rng, [0.02] * 20 + [0.35] * 20)
    priors = rs.fit_priors(points, S)
    assert math.sqrt(priors.quiet.variance) == pytest.approx(0.02, rel=0.4)
    assert math.sqrt(priors.noisy.variance) == pytest.approx(0.35, rel=0.4)
    assert priors.quiet.df > priors.all.df  # one class is far more alike than both together
    quiet, noisy = points[0], points[-1]
    assert priors.of(quiet) is priors.quiet and priors.of(noisy) is priors.noisy
    assert rs.weight(quiet, priors) == 1.0 and rs.weight(noisy, priors) == rs.NOISY_WEIGHT


def test_a_class_too_small_shares_the_prior_of_all() -> None:
    rng = np.random.default_rng(6)
    points = _points(rng, [0.02] * 20 + [0.35] * 2)
    priors = rs.fit_priors(points, S)
    assert priors.noisy is priors.all and priors.quiet is not priors.all


def test_a_point_far_noisier_than_its_class_keeps_its_own_variance() -> None:
    prior = rs.Prior(0.02 ** 2, 20.0, "test")
    wild = rs.PointInput([100, 100, 160, 100], [100, 150, 100, 100])
    e = rs.estimate(wild, prior, 40, S)
    assert e.noise_source == "repeats (noisier than its class)" and e.df == 6
    tame = rs.PointInput([100, 101, 99, 100], [100, 102, 99, 101])
    assert rs.estimate(tame, prior, 40, S).noise_source == "repeats (moderated)"


def test_noisy_points_get_a_smaller_share_of_alpha() -> None:
    p = rs.PointInput([100, 101, 99, 100], [120, 121, 119, 120])
    prior = rs.Prior(0.01 ** 2, 10.0, "test")
    quiet, noisy = rs.estimate(p, prior, 40, S), rs.estimate(p, prior, 40 / rs.NOISY_WEIGHT, S)
    assert noisy.t_crit > quiet.t_crit

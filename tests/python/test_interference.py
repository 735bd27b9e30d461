"""Interference bursts set aside before a point is judged: what is a burst, and what is not."""

from __future__ import annotations

from dpbench_report.interference import set_aside


def test_a_burst_on_either_side_is_set_aside() -> None:
    k = set_aside([10.0, 10.1, 31.0, 9.9], [10.2, 9.8, 10.0, 25.0], 10.0)
    assert k.baseline == [10.0, 10.1, 9.9] and k.aside_baseline == [31.0]
    assert k.contender == [10.2, 9.8, 10.0] and k.aside_contender == [25.0]
    assert k.set_aside == 2


def test_a_real_slowdown_is_never_set_aside() -> None:
    base, cont = [10.0, 10.1, 9.9, 10.0], [13.0, 13.1, 12.9, 13.2]
    k = set_aside(base, cont, 10.0)
    assert k.set_aside == 0 and k.contender == cont
    # a baseline burst smaller than the change stays in: it is not slower than the contender's typical run
    assert set_aside([10.0, 10.1, 9.9, 13.5], cont, 10.0).set_aside == 0


def test_a_slow_mode_seen_on_the_other_side_is_kept() -> None:
    # a bimodal point (1.0 or 1.6 by run): against its own side only, the baseline's 1.6 would look like a
    # burst and the baseline would look quiet; the contender shows the same slow mode, so it stays in
    k = set_aside([1.0, 1.0, 1.0, 1.6], [1.6, 1.6, 1.6, 1.6], 10.0)
    assert k.set_aside == 0


def test_too_few_repeats_or_zero_threshold_keep_everything() -> None:
    assert set_aside([10.0, 50.0], [10.0, 10.0], 10.0).set_aside == 0
    assert set_aside([10.0, 10.0, 50.0], [10.0, 10.0, 10.0], 0.0).set_aside == 0


def test_higher_is_better_mirrors() -> None:
    # a rate: interference lowers it
    k = set_aside([100.0, 101.0, 30.0, 99.0], [100.0, 100.0, 99.0, 101.0], 10.0, lower_is_better=False)
    assert k.aside_baseline == [30.0] and k.set_aside == 1


def test_bursts_are_set_aside_only_while_a_minority_of_a_side() -> None:
    # half of a side above the limit is a mode of the point, not interference: which half is "true" is a
    # coin flip. A/A on the loaded runner (third session, aa-3): a 64 KiB point at 11-13 us or ~108 us
    # by run in the baseline, 20-23 us or ~105 us in the contender. Setting aside the slow half of each
    # side compared 11 with 20 and called identical code 75% slower.
    base, cont = [11.0, 11.0, 13.0, 108.0, 62.0, 108.0], [20.0, 23.0, 107.0, 104.0, 20.0, 106.0]
    k = set_aside(base, cont, 10.0)
    assert k.set_aside == 0 and k.contender == cont and k.baseline == base  # 3 of 6 above the limit on each side
    # a real 30% slowdown of a point whose contender runs were in two modes (third session, aa-1): the
    # shifted slow mode is half of the contender's runs and must not be eaten as a burst
    b = [0.878, 0.836, 0.818, 0.783, 0.855, 0.849]
    c = [1.3 * x for x in (0.827, 0.889, 0.65, 0.653, 0.806, 0.654)]
    assert set_aside(b, c, 10.0).aside_contender == []
    # a minority of bursts still goes
    assert set_aside([10.0] * 6, [10.0, 10.1, 9.9, 10.0, 30.0, 31.0], 10.0).aside_contender == [30.0, 31.0]

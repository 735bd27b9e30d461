"""The one-line reason behind each verdict, in words a reader of a CI comment understands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .regression_stats import IMPROVEMENT, INCONCLUSIVE, MAX_REPEATS_SUGGESTED, REGRESSION, UNCHANGED, Settings
from .units import fmt_pct

if TYPE_CHECKING:
    from .compare_result import Comparison


def fmt_change(value: float | None) -> str:
    """A percent change; beyond +1000% only the bound (a +2e9% interval end says no more than that)."""
    if value is not None and value >= 1000.0:
        return "≥+1000%"
    return fmt_pct(value, 1)


def _change(c: "Comparison") -> str:
    return f"{fmt_change(c.change_pct)} (CI {fmt_change(c.ci_low_pct)} to {fmt_change(c.ci_high_pct)})"


def _noise(c: "Comparison") -> str:
    where = f", {c.noise_source}" if c.noise_source and c.noise_source.startswith(("assumed", "spread")) else ""
    return f"run-to-run noise ±{c.noise_pct:.1f}% per repeat{where}"


def _aside(c: "Comparison", settings: Settings) -> str:
    """'; set aside 1 of 4 contender runs (interference: over 10% slower than both sides' typical run)'."""
    parts = [f"{n} of {total} {side} run{'s' if total != 1 else ''}"
             for n, total, side in ((c.set_aside_baseline, c.repeats_baseline, "baseline"),
                                    (c.set_aside_contender, c.repeats_contender, "contender")) if n]
    if not parts:
        return ""
    worse = "slower" if c.lower_is_better else "lower"
    return (f"; set aside {' and '.join(parts)} as interference (over {settings.burst_pct:g}% {worse} than "
            "both sides' typical run)")


def reason_for(c: "Comparison", settings: Settings) -> str:
    """Why this verdict: the change, its interval, what the threshold or the noise made of it, and which
    repeats were set aside as interference."""
    return _verdict_reason(c, settings) + _aside(c, settings)


def _verdict_reason(c: "Comparison", settings: Settings) -> str:
    limit = f"{settings.threshold_pct:g}%"
    worse = "slower" if c.lower_is_better else "lower"
    better = "faster" if c.lower_is_better else "higher"
    if c.verdict == REGRESSION:
        return f"{worse}: {_change(c)}, the whole interval beyond the {limit} threshold"
    if c.verdict == IMPROVEMENT:
        return f"{better}: {_change(c)}, the whole interval beyond the {limit} threshold"
    if c.verdict == UNCHANGED:
        return f"change {_change(c)} lies within ±{limit}"
    if c.verdict == INCONCLUSIVE:
        if c.repeats_needed is None:
            settle = f"more than {MAX_REPEATS_SUGGESTED} repeats per side would be needed"
        else:
            settle = f"about {c.repeats_needed} repeats per side would settle it"
        return f"change {_change(c)} straddles ±{limit}: {_noise(c)}; {settle}"
    return c.reason


def look2_reason(c: "Comparison", settings: Settings, reruns: int) -> str:
    """Why this verdict at the second look of a sequential gate, where the reruns alone were combined with
    the first look (the last look: an undecided point stays undecided)."""
    both = f"the first look and {reruns} reruns alone per side combined"
    if c.verdict == INCONCLUSIVE:
        why = (f"change {_change(c)} straddles ±{settings.threshold_pct:g}% with {both} "
               f"({_noise(c)} alone); this was the last look")
    else:
        why = f"{_verdict_reason(c, settings)}; {both}"
    return why + _aside(c, settings)

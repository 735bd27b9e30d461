"""The one-line reason behind each verdict, in words a reader of a CI comment understands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .regression_stats import IMPROVEMENT, INCONCLUSIVE, MAX_REPEATS_SUGGESTED, REGRESSION, UNCHANGED, Settings
from .units import fmt_pct

if TYPE_CHECKING:
    from .compare import Comparison


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


def reason_for(c: "Comparison", settings: Settings) -> str:
    """Why this verdict: the change, its interval, and what the threshold or the noise made of it."""
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

"""Formatting numbers and sizes for plots, tables and markdown."""

from __future__ import annotations

import math
from typing import Any

_BINARY = (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10))


def human_bytes(n: float) -> str:
    """Byte counts the way nccl-tests sizes are given: 8, 1K, 128M, 1.5G (binary multiples)."""
    for suffix, size in _BINARY:
        if abs(n) >= size:
            value = n / size
            return f"{value:.0f}{suffix}" if float(value).is_integer() else f"{value:.3g}{suffix}"
    return f"{n:.0f}"


def fmt_num(value: Any, digits: int = 4) -> str:
    """A number with `digits` significant digits; '—' for missing, text for anything else."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        magnitude = abs(value)
        if value != 0 and (magnitude >= 1e9 or magnitude < 1e-3):
            return f"{value:.{digits - 1}e}"
        if magnitude >= 10 ** digits:
            return f"{value:.0f}"  # 24113 rather than 2.411e+04
        return f"{value:.{digits}g}"
    return str(value)


def fmt_pct(value: float | None, digits: int = 2) -> str:
    """Signed percentage, e.g. '+10.00%'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:+.{digits}f}%"


def fmt_p(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.4f}" if value >= 1e-4 else f"{value:.1e}"

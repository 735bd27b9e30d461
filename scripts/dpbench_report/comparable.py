"""What compare refuses, and what it only warns about.

Refusing is a feature: a CI gate that quietly compares an allreduce sweep with a train sweep, or a
contender that measured nothing, says "0 regressions" and is believed. Each refusal is one line naming
the files and the problem; the command line turns it into exit status 2.
"""

from __future__ import annotations

import math
from typing import Iterable

from .load import ResultsFile
from .repeats import PRIMARY_STATISTIC, Side, bad_medians


class NotComparableError(ValueError):
    """Two sides that cannot be compared; the message is one line saying why."""


def _names(files: Iterable[ResultsFile]) -> str:
    return ", ".join(f.name for f in files)


def check_sides(baseline: Side, contender: Side) -> None:
    """Raise NotComparableError for anything compare cannot judge honestly."""
    for side in (baseline, contender):
        if not side.files:
            raise NotComparableError(f"the {side.label} side has no results file")
    commands = sorted({f.command for f in baseline.files + contender.files})
    if len(commands) > 1:
        per_side = "; ".join(f"{s.label}: {', '.join(sorted({f.command for f in s.files}))} ({_names(s.files)})"
                             for s in (baseline, contender))
        raise NotComparableError(f"different commands cannot be compared ({per_side})")
    if commands[0] not in PRIMARY_STATISTIC:
        raise NotComparableError(f"'{commands[0]}' results have no timing statistic to compare "
                                 f"(compare handles {', '.join(sorted(PRIMARY_STATISTIC))})")
    for side in (baseline, contender):
        if not side.points:
            raise NotComparableError(f"the {side.label} has no points ({_names(side.files)}): nothing was measured")
    for side in (baseline, contender):
        bad = bad_medians(side)
        if bad:
            more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
            raise NotComparableError(f"the {side.label} has a median that is not a positive finite number: "
                                     f"{bad[0]}{more}")
        missing = [p.id for p in side.points.values() if p.ok and not p.repeats]
        if missing:
            stat = PRIMARY_STATISTIC[commands[0]][0]
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise NotComparableError(f"the {side.label} has an ok point without statistics.{stat}.median: "
                                     f"{missing[0]}{more}")


def check_overlap(n_matched: int, baseline: Side, contender: Side) -> None:
    if n_matched == 0:
        raise NotComparableError(f"no point in common between the baseline ({_names(baseline.files)}) and the "
                                 f"contender ({_names(contender.files)}): different sweeps?")


def _system_facts(f: ResultsFile) -> dict[str, str]:
    devices = f.system.get("devices") or []
    names = sorted({str(d.get("name")) for d in devices if isinstance(d, dict)})
    return {"host": f.hostname, "backend": str(f.system.get("backend", "")),
            "devices": f"{len(devices)} x {' + '.join(names)}" if names else "none"}


def system_warnings(baseline: Side, contender: Side) -> list[str]:
    """One line per fact (host, backend, devices) that differs between any two files of the comparison."""
    files = baseline.files + contender.files
    warnings: list[str] = []
    facts = [(f, _system_facts(f)) for f in files]
    for key in ("host", "backend", "devices"):
        values: dict[str, list[str]] = {}
        for f, fact in facts:
            values.setdefault(fact[key], []).append(f.name)
        if len(values) > 1:
            listing = "; ".join(f"{value!s} ({', '.join(names)})" for value, names in values.items())
            warnings.append(f"systems differ in {key}: {listing} — a change may be the machine, not the code")
    return warnings


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)

"""What a comparison produces: the verdicts, one Comparison per matched point or overall row, and the
CompareResult that the markdown, HTML and JSON are written from (its JSON is the comparison file's
contract). The judging is in compare.py."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from . import regression_stats as rs

REGRESSION, IMPROVEMENT, UNCHANGED, INCONCLUSIVE = rs.REGRESSION, rs.IMPROVEMENT, rs.UNCHANGED, rs.INCONCLUSIVE
NEWLY_FAILING, NOT_COMPARED = "newly failing", "not compared"
VERDICTS = (REGRESSION, NEWLY_FAILING, IMPROVEMENT, INCONCLUSIVE, UNCHANGED, NOT_COMPARED)


@dataclass
class PointRef:
    """A point present on one side only."""

    id: str
    kind: str
    status: str
    axes: dict[str, Any]
    reason: str | None = None


@dataclass
class MetricChange:
    name: str
    unit: str
    baseline: float | None
    contender: float | None
    change_pct: float | None


@dataclass
class Comparison:
    """The verdict for one matched point (or one overall row) with the one-line reason behind it."""

    id: str
    kind: str
    matched_by: str
    axes: dict[str, Any]
    verdict: str
    reason: str = ""
    statistic: str | None = None
    unit: str = ""
    lower_is_better: bool = True
    baseline_center: float | None = None
    contender_center: float | None = None
    change_pct: float | None = None
    ci_low_pct: float | None = None
    ci_high_pct: float | None = None
    noise_pct: float | None = None
    noise_source: str | None = None
    repeats_baseline: int = 0
    repeats_contender: int = 0
    repeats_needed: int | None = None
    set_aside_baseline: int = 0
    set_aside_contender: int = 0
    noise_class: str | None = None
    baseline_status: str = "ok"
    contender_status: str = "ok"
    notes: list[str] = field(default_factory=list)
    metrics: list[MetricChange] = field(default_factory=list)
    contender_id: str | None = None
    look2: dict[str, Any] | None = None  # a rerun point at the second look: its two stages (second_look.py)


@dataclass
class CompareResult:
    baseline: list[str]
    contender: list[str]
    baseline_machine: str
    contender_machine: str
    command: str
    threshold_pct: float
    alpha: float
    noise_floor_pct: float
    single_run_noise_pct: float
    burst_pct: float
    looks: int
    look: int
    confidence_per_point: float
    noise_prior: dict[str, Any]
    comparisons: list[Comparison]
    overall: list[Comparison]
    only_in_baseline: list[PointRef]
    only_in_contender: list[PointRef]
    warnings: list[str]
    rerun: list[dict[str, Any]] = field(default_factory=list)
    # files of single points (reruns, look 2) at the end of baseline / contender
    rerun_files: list[int] = field(default_factory=lambda: [0, 0])

    def with_verdict(self, verdict: str) -> list[Comparison]:
        return [c for c in self.comparisons + self.overall if c.verdict == verdict]

    @property
    def regressions(self) -> list[Comparison]:
        """Everything that fails CI: regressions (points and overall rows) and newly failing points."""
        return self.with_verdict(REGRESSION) + self.with_verdict(NEWLY_FAILING)

    @property
    def improvements(self) -> list[Comparison]:
        return self.with_verdict(IMPROVEMENT)

    def counts(self) -> dict[str, int]:
        out = {v: len([c for c in self.comparisons if c.verdict == v]) for v in VERDICTS}
        out["only in baseline"] = len(self.only_in_baseline)
        out["only in contender"] = len(self.only_in_contender)
        out["failing CI"] = len(self.regressions)
        return out

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["summary"] = self.counts()
        doc["exit_status"] = 1 if self.regressions else 0
        return cast(dict[str, Any], json_safe(doc))


def json_safe(value: Any) -> Any:
    """JSON has no NaN/inf: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def dump_json(result: CompareResult) -> str:
    return json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n"

"""One side of a comparison (baseline or contender): its files, and each point's repeat medians.

A side is one or more results files. Each file is one repeat of the sweep, and a point inside a file may
carry in-file repeats of its own (`stats.<statistic>.repeats`, a list of {round, median, mean, count},
written by `dpbench ... --repeats R`). Either way the unit of comparison is one repeat's median: the
in-file repeats when present, else the point's median.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

from .load import ResultsFile
from .records import PointRecord, hashable, record_from_point

# kind -> (statistic, True when lower is better)
PRIMARY_STATISTIC: dict[str, tuple[str, bool]] = {"train": ("step", True), "allreduce": ("time", True)}


@dataclass(frozen=True)
class Repeat:
    """One repeat's median of a point's primary statistic."""

    file: str
    round: int
    median: float
    count: int | None


@dataclass
class SidePoint:
    """A point as seen across all files of one side: its records and repeats of the primary statistic."""

    id: str
    kind: str
    axes: dict[str, Any]
    records: list[PointRecord] = field(default_factory=list)
    repeats: list[Repeat] = field(default_factory=list)

    @property
    def first(self) -> PointRecord:
        return self.records[0]

    @property
    def failures(self) -> list[PointRecord]:
        """Records of this point that are not ok (failed, skipped, timed out), in file order."""
        return [r for r in self.records if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def axes_key(self) -> Hashable:
        return (self.kind, hashable(self.axes))


def repeats_of(record: PointRecord, statistic: str) -> list[Repeat]:
    """The repeat medians of one record: in-file repeats when recorded, else the median itself."""
    stats = (record.raw.get("stats") or {}).get(statistic) or {}
    listed = stats.get("repeats")
    if isinstance(listed, list) and listed:
        out = []
        for i, rep in enumerate(listed):
            median = rep.get("median") if isinstance(rep, dict) else None
            if isinstance(median, bool) or not isinstance(median, (int, float)):
                raise ValueError(f"{record.file}: point {record.id}: stats.{statistic}.repeats[{i}] "
                                 "has no numeric median")
            count = rep.get("count")
            out.append(Repeat(file=record.file, round=int(rep.get("round", i)), median=float(median),
                              count=count if isinstance(count, int) else None))
        return out
    median = stats.get("median")
    if isinstance(median, bool) or not isinstance(median, (int, float)):
        return []
    return [Repeat(file=record.file, round=0, median=float(median), count=stats.get("count"))]


@dataclass
class Side:
    """The files of one side and its points, keyed by id in first-seen order."""

    label: str
    files: list[ResultsFile]
    points: dict[str, SidePoint]

    @property
    def names(self) -> list[str]:
        return [str(f.path) for f in self.files]

    @property
    def command(self) -> str:
        return self.files[0].command if self.files else ""

    def repeat_count(self) -> int:
        """Most repeats any point has on this side."""
        return max((len(p.repeats) for p in self.points.values()), default=0)


def _last_per_id(f: ResultsFile) -> list[tuple[int, dict[str, Any]]]:
    """A resumed file may repeat an id: the last record wins, as on disk."""
    by_id: dict[str, tuple[int, dict[str, Any]]] = {}
    for i, point in enumerate(f.points):
        by_id.pop(str(point["id"]), None)
        by_id[str(point["id"])] = (i, point)
    return list(by_id.values())


def build_side(label: str, files: Sequence[ResultsFile]) -> Side:
    """Gather the points of every file of a side; a point's repeats come from every file that has it ok."""
    points: dict[str, SidePoint] = {}
    for index, f in enumerate(files):
        for _, raw in _last_per_id(f):
            record = record_from_point(f, index, raw)
            sp = points.setdefault(record.id, SidePoint(id=record.id, kind=record.kind, axes=record.axes))
            sp.records.append(record)
            primary = PRIMARY_STATISTIC.get(record.kind)
            if record.ok and primary is not None:
                sp.repeats.extend(repeats_of(record, primary[0]))
    return Side(label=label, files=list(files), points=points)


def bad_medians(side: Side) -> list[str]:
    """'file: point' for every repeat median that is NaN, infinite or not positive."""
    return [f"{r.file}: {p.id} (median {r.median})" for p in side.points.values() for r in p.repeats
            if not (math.isfinite(r.median) and r.median > 0)]

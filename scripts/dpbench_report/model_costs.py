"""Step and byte counts of each all-reduce algorithm: the x-axis of the latency-bandwidth model.

The model is T(S) = steps * alpha + wire_bytes(S) / beta. Fitting alpha and beta is only meaningful if
steps and wire bytes follow the algorithm that actually ran, so the counts live here, once, and both
the fit and the what-if use them. Where a record carries the schedule's own counts (dpbench writes
`schedule: {messages_per_rank, wire_bytes_per_rank}` for p2p points and buckets, from count_schedule
of the schedule that ran: chunks, coalescing and all), those are used; the textbook counts (FACTS.md,
"Cost model") stand in for NCCL, whose schedules dpbench cannot see, and for the what-if.
"""

from __future__ import annotations

import math
from typing import Any

#: (latency-bearing steps, wire bytes per rank) of one all-reduce, counted from the schedule that ran.
Counted = tuple[float, float]

#: Algorithm names as dpbench writes them, mapped to the schedule shape whose counts apply.
#: nccl-auto is fitted as ring: NCCL picks ring for most sizes and we cannot see its choice.
ALGO_SHAPE: dict[str, str] = {
    "p2p-ring": "ring", "nccl-ring": "ring", "nccl-auto": "ring", "ring": "ring",
    "p2p-tree": "tree", "nccl-tree": "tree", "tree": "tree",
    "p2p-direct": "direct", "direct": "direct",
    "hierarchical": "hierarchical",
}


def shape_of(algo: str) -> str:
    """The schedule shape of an algorithm name; ValueError (exit 2) for a name we cannot count."""
    try:
        return ALGO_SHAPE[algo]
    except KeyError:
        raise ValueError(f"unknown all-reduce algorithm {algo!r} (known: {', '.join(sorted(ALGO_SHAPE))})") from None


def steps(algo: str, ranks: int) -> float:
    """Sequential latency-bearing steps per rank."""
    shape = shape_of(algo)
    if ranks <= 1:
        return 1.0  # a local copy (or nothing, in place): one launch
    if shape == "ring":
        return 2.0 * (ranks - 1)
    if shape == "tree":
        return 2.0 * math.log2(ranks)
    if shape == "direct":
        return 2.0
    raise ValueError(f"{algo}: steps need a topology (use the what-if)")


def wire_bytes(algo: str, ranks: int, size: float, in_place: bool) -> float:
    """Bytes one rank sends over its link for an all-reduce of `size` bytes."""
    shape = shape_of(algo)
    if ranks <= 1:
        return 0.0 if in_place else float(size)
    if shape in ("ring", "direct"):
        return 2.0 * (ranks - 1) / ranks * size
    if shape == "tree":
        return float(size)
    raise ValueError(f"{algo}: bytes need a topology (use the what-if)")


def counted_from(record: dict[str, Any] | None) -> Counted | None:
    """The schedule's own counts from a record's (or bucket's) `schedule` object, if it has one."""
    if not record or not isinstance(record.get("schedule"), dict):
        return None
    sched = record["schedule"]
    return float(sched["messages_per_rank"]), float(sched["wire_bytes_per_rank"])


def costs(algo: str, ranks: int, size: float, in_place: bool, counted: Counted | None = None) -> Counted:
    """(steps, wire bytes) of one all-reduce: the schedule's own counts where known, else the textbook's."""
    if counted is not None:
        return counted
    return steps(algo, ranks), wire_bytes(algo, ranks, size, in_place)

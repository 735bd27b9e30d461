"""Step and byte counts of each all-reduce algorithm: the x-axis of the latency-bandwidth model.

The model is T(S) = steps * alpha + wire_bytes(S) / beta. Fitting alpha and beta is only meaningful if
steps and wire bytes follow the algorithm that actually ran, so the counts live here, once, and both
the fit and the what-if use them. Counts are the textbook ones (FACTS.md, "Cost model").
"""

from __future__ import annotations

import math

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

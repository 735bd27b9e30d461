"""What-if: all-reduce time (and DDP efficiency) at rank counts and topologies this machine lacks.

A topology is GPUs per node over a fast link (intra: bandwidth GB/s, latency us) and nodes over a
network (inter). Flat ring and tree are bound by their slowest hop; hierarchical is intra-node
reduce-scatter, inter-node ring all-reduce of each GPU's 1/g shard (one NIC per GPU, g rings in
parallel), intra-node all-gather. Every number produced here is modelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from .model_predict import StepShape, modelled_step

WHATIF_ALGOS = ("ring", "tree", "hierarchical")


@dataclass(frozen=True)
class Link:
    """A link class: bandwidth in GB/s (1e9 bytes/s) and per-step latency in us."""

    gbps: float
    lat_us: float

    def us(self, nbytes: float) -> float:
        """Time to move nbytes over the link, us (no latency)."""
        return nbytes / (self.gbps * 1e3)


def parse_link(text: str, flag: str) -> Link:
    """'BW,LAT' (GB/s, us) -> Link; ValueError naming the flag otherwise."""
    parts = text.split(",")
    try:
        bw, lat = (float(x) for x in parts)
    except ValueError:
        raise ValueError(f"{flag} must be BW,LAT (GB/s, us), e.g. 300,2; got {text!r}") from None
    if not (bw > 0 and lat >= 0 and math.isfinite(bw) and math.isfinite(lat)):
        raise ValueError(f"{flag} needs bandwidth > 0 and latency >= 0; got {text!r}")
    return Link(bw, lat)


def allreduce_us(algo: str, gpus: int, per_node: int, size: float, intra: Link, inter: Link | None) -> float:
    """Modelled all-reduce time (us) of `size` bytes over `gpus` GPUs, `per_node` per node."""
    g = min(per_node, gpus)
    nodes = math.ceil(gpus / g)
    if nodes > 1 and inter is None:
        raise ValueError(f"{gpus} GPUs at {per_node} per node span {nodes} nodes: give --inter BW,LAT")
    if gpus <= 1:
        return intra.lat_us
    slow = intra if nodes == 1 or inter is None else Link(min(intra.gbps, inter.gbps), max(intra.lat_us, inter.lat_us))
    if algo == "ring":
        return 2 * (gpus - 1) * slow.lat_us + slow.us(2 * (gpus - 1) / gpus * size)
    if algo == "tree":
        return 2 * math.log2(gpus) * slow.lat_us + slow.us(size)
    if algo == "hierarchical":
        t = 2 * (g - 1) * intra.lat_us + intra.us(2 * (g - 1) / g * size)
        if nodes > 1 and inter is not None:
            t += 2 * (nodes - 1) * inter.lat_us + inter.us(2 * (nodes - 1) / nodes * size / g)
        return t
    raise ValueError(f"unknown what-if algorithm {algo!r} (known: {', '.join(WHATIF_ALGOS)})")


def whatif(gpus: Sequence[int], algos: Sequence[str], sizes: Sequence[int], per_node: int, intra: Link,
           inter: Link | None, shapes: Sequence[tuple[str, StepShape]] = ()) -> dict[str, Any]:
    """All-reduce rows per (algo, gpus, size), and, per train shape given, modelled step and efficiency."""
    for a in algos:
        if a not in WHATIF_ALGOS:
            raise ValueError(f"unknown what-if algorithm {a!r} (known: {', '.join(WHATIF_ALGOS)})")
    rows: list[dict[str, Any]] = [{"algo": a, "gpus": n, "nodes": math.ceil(n / min(per_node, n)), "bytes": s,
             "time_us": allreduce_us(a, n, per_node, s, intra, inter),
             "busbw_gbps": None, "source": "model"} for a in algos for n in gpus for s in sizes]
    for r in rows:
        n = r["gpus"]
        r["busbw_gbps"] = r["bytes"] / (r["time_us"] * 1e3) * (2 * (n - 1) / n) if n > 1 else None
    train: list[dict[str, Any]] = []
    for label, shape in shapes:
        one, _ = modelled_step(shape, [0.0] * len(shape.bucket_bytes))
        for a in algos:
            for n in gpus:
                comm = [allreduce_us(a, n, per_node, b, intra, inter) for b in shape.bucket_bytes]
                step, exposed = modelled_step(shape, comm)
                train.append({"train_point": label, "algo": a, "gpus": n, "step_ms": step, "exposed_comm_ms": exposed,
                              "scaling_efficiency": one / step, "source": "model"})
    return {"per_node": per_node, "intra": {"gbps": intra.gbps, "lat_us": intra.lat_us},
            "inter": None if inter is None else {"gbps": inter.gbps, "lat_us": inter.lat_us},
            "allreduce": rows, "train": train, "source": "model"}

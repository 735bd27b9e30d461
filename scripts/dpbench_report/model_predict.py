"""Predict a DDP step from the measured compute and the fitted all-reduce model.

Compute (forward, backward, optimizer, and the rest of the step: the measured step less its measured
exposed communication) is taken as measured; only communication is modelled. Each
bucket becomes ready where the run shows it (its all-reduce span's start, or the backward's end, on
the latest rank, as a collective waits for every rank), and buckets run one after another on one comm
stream, each starting at max(ready, previous end) -- the overlap DDP gets. The optimizer follows the
later of backward and the last bucket. A residual larger than the error the model admits (the fit's
own worst relative error on the modelled communication, plus the step's measurement noise) is an
anomaly: something the latency-bandwidth picture does not explain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .load import ResultsFile
from .model_costs import Counted, counted_from

if TYPE_CHECKING:  # the fit pulls in numpy/scipy; the what-if needs only the step arithmetic here
    from .model_fit import Fit

log = logging.getLogger("dpbench_report")


@dataclass(frozen=True)
class StepShape:
    """What the model keeps from a measured train point: compute medians (ms) and bucket ready fractions."""

    forward_ms: float
    backward_ms: float
    optimizer_ms: float
    bucket_bytes: tuple[int, ...]
    ready_frac: tuple[float, ...]  # of the backward, 0..1, per bucket
    other_ms: float = 0.0  # measured step - measured exposed comm - forward - backward - optimizer
    bucket_counts: tuple[Counted | None, ...] = ()  # per bucket: its schedule's own counts (p2p)


def _span(timeline: Sequence[dict[str, Any]], name: str, rank: int) -> dict[str, Any] | None:
    return next((s for s in timeline if s["name"] == name and s["rank"] == rank), None)


def step_shape(point: dict[str, Any]) -> StepShape:
    """Compute medians and, per bucket, how far into the backward it became ready (latest rank)."""
    st = point["stats"]
    timeline = point.get("timeline") or []
    buckets = sorted(point.get("buckets") or [], key=lambda b: b["index"])
    ranks = sorted({s["rank"] for s in timeline}) or [0]
    fracs: list[float] = []
    for b in buckets:
        worst = 1.0 if not timeline else 0.0
        for r in ranks:
            back = _span(timeline, "backward", r)
            ar = _span(timeline, f"allreduce[{b['index']}]", r)
            if back is None:
                worst = 1.0
                continue
            dur = max(back["end_ms"] - back["start_ms"], 1e-9)
            ready = min(ar["start_ms"], back["end_ms"]) if ar else back["end_ms"]
            worst = max(worst, min(max((ready - back["start_ms"]) / dur, 0.0), 1.0))
        fracs.append(worst)
    fwd, bwd, opt = (float(st[k]["median"]) for k in ("forward", "backward", "optimizer"))
    exposed = float(st["exposed_comm"]["median"]) if "exposed_comm" in st else 0.0
    other = float(st["step"]["median"]) - exposed - fwd - bwd - opt
    return StepShape(fwd, bwd, opt, tuple(int(b.get("comm_bytes", b["bytes"])) for b in buckets), tuple(fracs), other,
                     tuple(counted_from(b) for b in buckets))


def modelled_step(shape: StepShape, comm_us: Sequence[float]) -> tuple[float, float]:
    """(step ms, exposed communication ms) for these per-bucket all-reduce times."""
    t = 0.0  # time since backward start, ms
    for frac, c in zip(shape.ready_frac, comm_us):
        t = max(frac * shape.backward_ms, t) + c / 1e3
    tail = max(t, shape.backward_ms)
    return shape.forward_ms + tail + shape.optimizer_ms + shape.other_ms, tail - shape.backward_ms


def _config_key(axes: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((k, str(v)) for k, v in axes.items() if k not in ("ranks", "devices", "global_batch")))


def predict_train(files: Iterable[ResultsFile], fits: dict[tuple[str, int], Fit],
                  pooled: dict[str, Fit]) -> list[dict[str, Any]]:
    """One prediction per ok train point whose algorithm the fit knows; efficiency against 1 rank."""
    rows: list[dict[str, Any]] = []
    for f in files:
        for p in f.points:
            if p.get("kind") != "train" or p.get("status") != "ok":
                continue
            ax = p["axes"]
            algo, ranks = str(ax["algo"]), int(ax["ranks"])
            fit = fits.get((algo, ranks)) or pooled.get(algo)  # as model_fit.fit_for
            if fit is None:
                log.warning("%s: no all-reduce fit for %s; not predicted", p["id"], algo)
                continue
            shape = step_shape(p)
            counts = shape.bucket_counts or (None,) * len(shape.bucket_bytes)
            comm = [fit.predict(algo, ranks, b, True, c) for b, c in zip(shape.bucket_bytes, counts)]
            step_ms, exposed_ms = modelled_step(shape, comm)
            st = p["stats"]["step"]
            measured = float(st["median"])
            noise = max(float(st.get("ci95_high", measured)) - measured, measured - float(st.get("ci95_low", measured)))
            allowed = fit.rel_resid_max * sum(comm) / 1e3 + noise
            eff = p.get("metrics", {}).get("scaling_efficiency", {}).get("value")
            rows.append({"file": str(f.path), "id": p["id"], "algo": algo, "ranks": ranks, "key": _config_key(ax),
                         "fit": "own" if (algo, ranks) in fits else "pooled",
                         "measured": {"step_ms": measured, "scaling_efficiency": eff, "source": "measured"},
                         "model": {"step_ms": step_ms, "exposed_comm_ms": exposed_ms,
                                   "bucket_allreduce_us": comm, "source": "model"},
                         "residual_ms": measured - step_ms, "residual_rel": (measured - step_ms) / measured,
                         "allowed_ms": allowed, "anomaly": abs(measured - step_ms) > allowed, "source": "model"})
    _efficiency(rows)
    for r in rows:
        r.pop("key")
    return rows


def _efficiency(rows: list[dict[str, Any]]) -> None:
    """Modelled scaling efficiency: modelled step at 1 rank / modelled step at N (same configuration)."""
    base = {(r["file"], r["key"]): r["model"]["step_ms"] for r in rows if r["ranks"] == 1}
    for r in rows:
        one = base.get((r["file"], r["key"]))
        r["model"]["scaling_efficiency"] = one / r["model"]["step_ms"] if one else None

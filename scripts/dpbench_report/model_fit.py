"""Fit T(S) = steps*alpha + wire_bytes/beta to measured all-reduce medians, and score it on held-out points.

Sizes are log-spaced, so ordinary least squares would let the largest sizes decide everything; the fit
weights each point by 1/T (least squares on relative error) and keeps alpha, 1/beta >= 0 (NNLS), so it
recovers parameters exactly from data the model itself generated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
from scipy.optimize import nnls

from .load import ResultsFile
from .model_costs import Counted, costs, counted_from, shape_of


@dataclass(frozen=True)
class ArPoint:
    """One measured all-reduce median (us)."""

    algo: str
    ranks: int
    size: int
    in_place: bool
    dtype: str
    time_us: float
    source_file: str
    counted: Counted | None = None  # the schedule's own (steps, wire bytes), p2p records only


@dataclass(frozen=True)
class Fit:
    """alpha in us per step; inv_beta in us per byte (beta in GB/s = 1e-3 / inv_beta)."""

    algo: str
    ranks: tuple[int, ...]
    alpha_us: float
    inv_beta_us_per_byte: float
    n_points: int
    r2: float
    rel_resid_median: float
    rel_resid_max: float

    @property
    def beta_gbps(self) -> float | None:
        return None if self.inv_beta_us_per_byte <= 0 else 1e-3 / self.inv_beta_us_per_byte

    def predict(self, algo: str, ranks: int, size: float, in_place: bool, counted: Counted | None = None) -> float:
        """Modelled time (us) of one all-reduce (with the schedule's own counts where known)."""
        n_steps, wire = costs(algo, ranks, size, in_place, counted)
        return n_steps * self.alpha_us + wire * self.inv_beta_us_per_byte

    def to_json(self) -> dict[str, Any]:
        return {"algo": self.algo, "ranks": list(self.ranks), "alpha_us": self.alpha_us,
                "beta_gbps": self.beta_gbps, "points": self.n_points, "r2": self.r2,
                "rel_residual_median": self.rel_resid_median, "rel_residual_max": self.rel_resid_max,
                "source": "model"}


def allreduce_points(files: Iterable[ResultsFile], dtype: str | None = None) -> list[ArPoint]:
    """Every ok all-reduce point (status ok, positive median), optionally one dtype only."""
    out: list[ArPoint] = []
    for f in files:
        for p in f.points:
            if p.get("kind") != "allreduce" or p.get("status") != "ok":
                continue
            ax = p["axes"]
            t = p.get("stats", {}).get("time", {}).get("median")
            if t is None or t <= 0 or (dtype and ax.get("dtype") != dtype):
                continue
            shape_of(str(ax["algo"]))  # unknown algorithm: exit 2 here, not later
            out.append(ArPoint(str(ax["algo"]), int(ax["ranks"]), int(ax["bytes"]), bool(ax.get("in_place")),
                               str(ax.get("dtype", "")), float(t), str(f.path), counted_from(p.get("extra"))))
    return out


def _design(points: Sequence[ArPoint]) -> np.ndarray:
    return np.array([list(costs(p.algo, p.ranks, p.size, p.in_place, p.counted)) for p in points])


def fit_points(algo: str, points: Sequence[ArPoint]) -> Fit:
    """Weighted (1/T) non-negative least squares for alpha and 1/beta over these points."""
    if not points:
        raise ValueError(f"{algo}: no all-reduce points to fit")
    x = _design(points)
    t = np.array([p.time_us for p in points])
    w = 1.0 / t
    xw = x * w[:, None]
    if not np.any(x[:, 1] > 0):  # only in-place single-rank points: bandwidth is not observable
        coef = np.array([float(np.sum(x[:, 0] * w) / np.sum((x[:, 0] * w) ** 2)), 0.0])
    else:
        coef, _ = nnls(xw, np.ones_like(t))
    pred = x @ coef
    rel = np.abs(pred - t) / t
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    r2 = 1.0 - float(np.sum((t - pred) ** 2)) / ss_tot if ss_tot > 0 else 1.0
    return Fit(algo, tuple(sorted({p.ranks for p in points})), float(coef[0]), float(coef[1]), len(points),
               r2, float(np.median(rel)), float(rel.max()))


def fit_all(points: Sequence[ArPoint]) -> dict[tuple[str, int], Fit]:
    """One fit per (algorithm, rank count)."""
    keys = sorted({(p.algo, p.ranks) for p in points})
    return {k: fit_points(k[0], [p for p in points if (p.algo, p.ranks) == k]) for k in keys}


def fit_pooled(points: Sequence[ArPoint]) -> dict[str, Fit]:
    """One fit per algorithm over its multi-rank points (single-rank copies if that is all there is):
    alpha and beta belong to the links, so they carry across rank counts; this is what predicts a rank
    count the fit never saw."""
    out: dict[str, Fit] = {}
    for algo in sorted({p.algo for p in points}):
        mine = [p for p in points if p.algo == algo]
        multi = [p for p in mine if p.ranks > 1]
        out[algo] = fit_points(algo, multi or mine)
    return out


def parse_holdout(text: str | None) -> tuple[str, frozenset[int]] | None:
    """--holdout even|odd|ranks=1,2 -> ('even'|'odd'|'ranks', ranks used for fitting)."""
    if not text:
        return None
    if text in ("even", "odd"):
        return text, frozenset()
    if text.startswith("ranks="):
        try:
            ranks = frozenset(int(r) for r in text[6:].split(",") if r.strip())
        except ValueError:
            ranks = frozenset()
        if ranks:
            return "ranks", ranks
    raise ValueError(f"--holdout must be even, odd or ranks=N[,N...], got {text!r}")


def split(points: Sequence[ArPoint], holdout: tuple[str, frozenset[int]]) -> tuple[list[ArPoint], list[ArPoint]]:
    """(fit set, held-out set). even/odd index the sorted distinct sizes: 'even' fits sizes 0, 2, 4..."""
    mode, ranks = holdout
    if mode == "ranks":
        return [p for p in points if p.ranks in ranks], [p for p in points if p.ranks not in ranks]
    sizes = sorted({p.size for p in points})
    keep = {s for i, s in enumerate(sizes) if (i % 2 == 0) == (mode == "even")}
    return [p for p in points if p.size in keep], [p for p in points if p.size not in keep]


def fit_for(fits: dict[tuple[str, int], Fit], pooled: dict[str, Fit], algo: str, ranks: int) -> Fit | None:
    """The fit to predict (algo, ranks) with: its own, else the algorithm's pooled one."""
    return fits.get((algo, ranks)) or pooled.get(algo)


def score(points: Sequence[ArPoint], fits: dict[tuple[str, int], Fit], pooled: dict[str, Fit]) -> dict[str, Any]:
    """Predict each point; absolute relative errors, their median and worst, and the rows themselves."""
    rows: list[dict[str, Any]] = []
    for p in points:
        fit = fit_for(fits, pooled, p.algo, p.ranks)
        if fit is None:
            continue
        pred = fit.predict(p.algo, p.ranks, p.size, p.in_place, p.counted)
        rows.append({"algo": p.algo, "ranks": p.ranks, "bytes": p.size, "in_place": p.in_place, "dtype": p.dtype,
                     "measured_us": p.time_us, "predicted_us": pred, "rel_error": (pred - p.time_us) / p.time_us,
                     "fit": "own" if (p.algo, p.ranks) in fits else "pooled", "source": "model"})
    groups = []
    for algo, ranks in sorted({(r["algo"], r["ranks"]) for r in rows}):
        e = [abs(r["rel_error"]) for r in rows if (r["algo"], r["ranks"]) == (algo, ranks)]
        groups.append({"algo": algo, "ranks": ranks, "points": len(e), "abs_rel_error_median": float(np.median(e)),
                       "abs_rel_error_max": max(e), "source": "model"})
    errs = [abs(r["rel_error"]) for r in rows]
    return {"points": len(rows), "abs_rel_error_median": float(np.median(errs)) if errs else None,
            "abs_rel_error_max": max(errs) if errs else None, "by_group": groups, "rows": rows, "source": "model"}

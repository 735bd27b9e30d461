"""Repeats made from the real fixtures: each repeat is the fixture with its primary statistic's samples
moved to a chosen level, so tests plant known noise and known changes into what dpbench really writes."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
from conftest import fixture_doc, write_doc

from dpbench_report.repeats import PRIMARY_STATISTIC

SAMPLES = 15


def set_samples(stats: dict[str, Any], samples: np.ndarray) -> None:
    """Rewrite a stats block from its samples, as dpbench computes it."""
    n = len(samples)
    mean, sd = float(samples.mean()), float(samples.std(ddof=1))
    half = 1.96 * sd / math.sqrt(n)
    stats.update(count=n, median=float(np.median(samples)), mean=mean, min=float(samples.min()),
                 max=float(samples.max()), stddev=sd, p10=float(np.percentile(samples, 10)),
                 p90=float(np.percentile(samples, 90)), ci95_low=mean - half, ci95_high=mean + half,
                 rel_stderr=sd / math.sqrt(n) / mean, samples=[float(x) for x in samples])


def comparable(point: dict[str, Any]) -> bool:
    primary = PRIMARY_STATISTIC.get(point["kind"])
    return point["status"] == "ok" and primary is not None and primary[0] in (point.get("stats") or {})


def stats_of(point: dict[str, Any]) -> dict[str, Any]:
    return point["stats"][PRIMARY_STATISTIC[point["kind"]][0]]


def comparable_ids(doc: dict[str, Any]) -> list[str]:
    return [p["id"] for p in doc["points"] if comparable(p)]


def target_id(doc: dict[str, Any]) -> str:
    """A comparable point to plant changes in: prefer one with more than one rank."""
    ids = [p for p in doc["points"] if comparable(p)]
    return next((p["id"] for p in ids if (p["axes"].get("ranks") or 1) > 1), ids[0]["id"])


def repeat_doc(name: str, seed: int, run_noise: float = 0.01, factors: dict[str, float] | None = None,
               all_factor: float = 1.0, noisy: dict[str, float] | None = None) -> dict[str, Any]:
    """One repeat of fixture `name`: every comparable point's level x lognormal(run_noise) x its factor.

    noisy maps point ids to a larger run-to-run noise for just those points.
    """
    doc = fixture_doc(name)
    rng = np.random.default_rng(seed)
    for point in doc["points"]:
        if not comparable(point):
            continue
        stats = stats_of(point)
        sd = (noisy or {}).get(point["id"], run_noise)
        old = stats["median"]
        level = old * math.exp(rng.normal(0.0, sd)) * (factors or {}).get(point["id"], 1.0) * all_factor
        set_samples(stats, level * (1 + rng.normal(0.0, 0.01, SAMPLES)))
        for metric_name in ("busbw", "algbw", "samples_per_s"):
            metric = (point.get("metrics") or {}).get(metric_name)
            if metric and isinstance(metric.get("value"), (int, float)):
                metric["value"] = metric["value"] * old / level  # rates move opposite to times
    return doc


def write_repeats(directory: Path, prefix: str, docs: list[dict[str, Any]]) -> list[Path]:
    return [write_doc(directory, f"{prefix}{i + 1}.json", d) for i, d in enumerate(docs)]


def side(directory: Path, prefix: str, name: str, seeds: range, **kw: Any) -> list[Path]:
    return write_repeats(directory, prefix, [repeat_doc(name, s, **kw) for s in seeds])


def with_in_file_repeats(doc: dict[str, Any], levels: Callable[[str, float], list[float]]) -> dict[str, Any]:
    """Copy of doc whose comparable points carry stats.<stat>.repeats as dpbench --repeats writes them."""
    out = copy.deepcopy(doc)
    for point in out["points"]:
        if comparable(point):
            stats = stats_of(point)
            meds = levels(point["id"], stats["median"])
            stats["repeats"] = [{"round": i, "median": m, "mean": m, "count": 10} for i, m in enumerate(meds, start=1)]
    return out

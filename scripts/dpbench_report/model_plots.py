"""Plots of the cost model: measured vs modelled all-reduce curves, DDP step residuals, what-if curves.

Modelled lines are dashed and labelled "model" (what-if: "modelled"), so a plot never passes a
modelled number off as a measurement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402



def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def fit_plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """One panel per algorithm: measured medians (solid, markers; held-out points hollow) and the model
    (dashed, labelled "model") per rank count and placement."""
    algos = sorted({r["algo"] for r in rows})
    fig = Figure(figsize=(6 * len(algos), 4.5))
    for ai, algo in enumerate(algos):
        ax = fig.add_subplot(1, len(algos), ai + 1)
        keys = sorted({(r["ranks"], r["in_place"]) for r in rows if r["algo"] == algo})
        for i, k in enumerate(keys):
            mine = sorted((r for r in rows if r["algo"] == algo and (r["ranks"], r["in_place"]) == k),
                          key=lambda r: r["bytes"])
            label = f"n={k[0]}{' in-place' if k[1] else ''}"
            colour = f"C{i % 10}"
            ax.plot([r["bytes"] for r in mine], [r["measured_us"] for r in mine], "-", color=colour,
                    label=f"{label} measured")
            held = [r for r in mine if r.get("held_out")]
            ax.plot([r["bytes"] for r in mine if not r.get("held_out")],
                    [r["measured_us"] for r in mine if not r.get("held_out")], "o", color=colour, ms=3)
            if held:
                ax.plot([r["bytes"] for r in held], [r["measured_us"] for r in held], "o", mfc="none",
                        color=colour, ms=5)
            ax.plot([r["bytes"] for r in mine], [r["predicted_us"] for r in mine], "--", color=colour,
                    label=f"{label} model")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("bytes")
        ax.set_ylabel("all-reduce time (us)")
        ax.set_title(f"{algo}: measured (solid) vs model (dashed)", fontsize=9)
        ax.legend(fontsize=6, ncol=2)
    if any(r.get("held_out") for r in rows):
        fig.suptitle("hollow markers: held out of the fit", fontsize=8)
    return _save(fig, path)


def train_plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """Measured vs modelled step per train point; anomalies marked."""
    fig = Figure(figsize=(max(6, 0.5 * len(rows)), 4))
    ax = fig.add_subplot()
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r["measured"]["step_ms"] for r in rows], 0.4, label="measured")
    ax.bar([x + 0.2 for x in xs], [r["model"]["step_ms"] for r in rows], 0.4, hatch="//", fill=False, label="model")
    for x, r in zip(xs, rows):
        if r["anomaly"]:
            ax.annotate("anomaly", (x, r["measured"]["step_ms"]), ha="center", va="bottom", fontsize=7, color="red")
    ax.set_xticks(list(xs), [f"{r['algo']} n={r['ranks']}\n#{i}" for i, r in enumerate(rows)], fontsize=6)
    ax.set_ylabel("step (ms)")
    ax.set_title("DDP step: measured vs model")
    ax.legend()
    return _save(fig, path)


def whatif_plot(wi: dict[str, Any], path: Path) -> Path:
    """Modelled all-reduce time vs bytes per (algo, GPUs): every line dashed and labelled modelled."""
    fig = Figure(figsize=(8, 5))
    ax = fig.add_subplot()
    keys = sorted({(r["algo"], r["gpus"]) for r in wi["allreduce"]})
    for i, k in enumerate(keys):
        mine = sorted((r for r in wi["allreduce"] if (r["algo"], r["gpus"]) == k), key=lambda r: r["bytes"])
        ax.plot([r["bytes"] for r in mine], [r["time_us"] for r in mine], "--", marker=".", color=f"C{i % 10}",
                label=f"{k[0]} {k[1]} GPUs (modelled)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("bytes")
    ax.set_ylabel("all-reduce time (us), modelled")
    ax.set_title(f"what-if (modelled): {wi['per_node']} GPUs/node")
    ax.legend(fontsize=7)
    return _save(fig, path)

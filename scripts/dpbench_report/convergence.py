"""Time-to-target and critical-batch tables from `dpbench train --target-loss` points (issue 13).

Reads only what dpbench recorded: steps/samples/time to target (measured), the gradient noise scale
and critical batch (derived from measured gradient norms), statistical efficiency and goodput
(Pollux's model, "source": "model").

    python -m dpbench_report.convergence results.json   # prints the markdown table
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Sequence

from .load import load_many
from .records import PointRecord, to_records


@dataclass(frozen=True)
class ConvergenceRow:
    ranks: int
    batch: int
    accum: int
    samples_per_update: int
    comm_dtype: str
    lr_scaling: str
    steps_to_target: float | None
    samples_to_target: float | None
    time_to_target_s: float | None
    critical_batch: float | None
    statistical_efficiency: float | None
    goodput: float | None
    samples_per_s: float | None


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def convergence_rows(records: Sequence[PointRecord]) -> list[ConvergenceRow]:
    """One row per ok train point that ran to a target, ordered by samples per update then ranks."""
    rows = []
    for r in records:
        if not (r.ok and r.kind == "train" and "steps_to_target" in r.metrics):
            continue
        accum = _int(r.axis("accum"), 1)
        global_batch = _int(r.axis("global_batch"), 0)
        rows.append(ConvergenceRow(
            ranks=r.ranks or 0, batch=_int(r.axis("batch"), 0), accum=accum,
            samples_per_update=global_batch * accum,
            comm_dtype=str(r.axis("comm_dtype", r.axis("precision", ""))),
            lr_scaling=str(r.axis("lr_scaling", "none")),
            steps_to_target=r.metric("steps_to_target"), samples_to_target=r.metric("samples_to_target"),
            time_to_target_s=r.metric("time_to_target_s"), critical_batch=r.metric("critical_batch"),
            statistical_efficiency=r.metric("statistical_efficiency"), goodput=r.metric("goodput"),
            samples_per_s=r.metric("samples_per_s")))
    return sorted(rows, key=lambda x: (x.samples_per_update, x.ranks, x.comm_dtype, x.lr_scaling))


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def markdown_table(rows: Sequence[ConvergenceRow]) -> str:
    head = ("| ranks | batch/rank | accum | samples/update | comm | lr scaling | steps to target | samples to target "
            "| time to target (s) | B_crit est. | stat. eff. (model) | goodput (model, samples/s) |")
    lines = [head, "|" + "|".join(["---"] * 12) + "|"]
    for x in rows:
        lines.append(
            f"| {x.ranks} | {x.batch} | {x.accum} | {x.samples_per_update} | {x.comm_dtype} | {x.lr_scaling} "
            f"| {_fmt(x.steps_to_target, '.0f')} | {_fmt(x.samples_to_target, '.0f')} "
            f"| {_fmt(x.time_to_target_s, '.2f')} | {_fmt(x.critical_batch, '.0f')} "
            f"| {_fmt(x.statistical_efficiency, '.2f')} | {_fmt(x.goodput, '.0f')} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("usage: python -m dpbench_report.convergence RESULTS.json...", file=sys.stderr)
        return 2
    rows = convergence_rows(to_records(load_many(paths)))
    if not rows:
        print("no train points with --target-loss in " + ", ".join(paths), file=sys.stderr)
        return 1
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

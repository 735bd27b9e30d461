"""Convergence table and plots from a results file dpbench wrote with --target-loss, --accum and --comm-dtype
(tests/fixtures/train_convergence_cpu.json, made by scripts/make-fixtures.sh)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import fixture_path

from dpbench_report import PointRecord, load_results, to_records
from dpbench_report.convergence import convergence_rows, main, markdown_table
from dpbench_report.plots import make_plots

NAME = "train_convergence_cpu"


def _records() -> list[PointRecord]:
    return to_records([load_results(fixture_path(NAME))])


def test_fixture_validates_and_carries_the_new_axes() -> None:
    records = _records()
    assert records and all(r.kind == "train" for r in records)
    assert {r.axis("accum") for r in records} == {1, 2}
    assert {r.axis("comm_dtype") for r in records} == {"fp32", "bf16"}
    for r in records:
        for name in ("steps_to_target", "time_to_target_s", "param_count", "tensor_count", "flops_per_sample",
                     "allreduce_calls_per_sample"):
            assert name in r.metrics, name
        assert r.raw["convergence"]["target_loss"] > 0


def test_accumulation_divides_allreduce_calls_per_sample() -> None:
    records = _records()
    for r in records:
        if r.axis("accum") != 2:
            continue
        twin = [o for o in records if o.axis("accum") == 1 and o.axis("batch") == r.axis("batch")
                and o.ranks == r.ranks and o.axis("comm_dtype") == r.axis("comm_dtype")]
        assert twin
        one, two = twin[0].metric("allreduce_calls_per_sample"), r.metric("allreduce_calls_per_sample")
        assert one is not None and two is not None
        assert abs(one / two - 2.0) < 1e-9


def test_rows_and_markdown_table() -> None:
    rows = convergence_rows(_records())
    assert len(rows) == len(_records())
    assert [r.samples_per_update for r in rows] == sorted(r.samples_per_update for r in rows)
    multi = [r for r in rows if r.ranks > 1]
    assert multi and all(r.critical_batch is None or r.critical_batch > 0 for r in multi)
    assert all(r.critical_batch is None for r in rows if r.ranks == 1)  # needs two batch sizes
    text = markdown_table(rows)
    assert text.splitlines()[0].startswith("| ranks |")
    assert len(text.splitlines()) == len(rows) + 2


def test_cli_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(fixture_path(NAME))]) == 0
    assert "steps to target" in capsys.readouterr().out


def test_convergence_plots_are_written(tmp_path: Path) -> None:
    kinds = ["time-to-target", "steps-to-target", "goodput", "efficiency-vs-accum", "efficiency-vs-comm-dtype"]
    out = make_plots(_records(), tmp_path, formats=["png"], kinds=kinds)
    assert {p.kind for p in out} == set(kinds)
    for p in out:
        assert p.files["png"].stat().st_size > 1000

"""Strong scaling (--global-batch) is plotted as rank sweeps, not cut into one-point figures by the per-rank batch."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from conftest import fixture_doc, fixture_path

from dpbench_report import load_results, to_records
from dpbench_report.plot_common import facets
from dpbench_report.plots_train import scaling_efficiency, throughput
from dpbench_report.records import derived_axes


def _ranks_per_line(records: list, x: str = "ranks") -> list[set[int]]:
    return [{r.axis(x) for r in recs} for f in facets(records, x=x, line="algo", panel="precision")
            for _, lines in f.panels for recs in lines.values()]


def test_the_batch_that_follows_from_the_ranks_is_derived() -> None:
    weak = to_records([load_results(fixture_path("train_cpu"))])
    strong = to_records([load_results(fixture_path("train_strong_cpu"))])
    assert {r.axis("scaling") for r in strong} == {"strong"}
    assert len({r.axis("global_batch") for r in strong}) == 1 and len({r.axis("batch") for r in strong}) > 1
    assert "batch" in derived_axes(strong) and "global_batch" not in derived_axes(strong)
    assert "global_batch" in derived_axes(weak) and "batch" not in derived_axes(weak)


def test_strong_scaling_is_one_figure_of_full_rank_sweeps(tmp_path: Path) -> None:
    records = to_records([load_results(fixture_path("train_strong_cpu"))])
    all_ranks = {r.axis("ranks") for r in records if r.ok}
    assert len(all_ranks) > 1
    figures = facets(records, x="ranks", line="algo", panel=None)
    assert len(figures) == 1
    assert figures[0].fixed.get("global_batch") == records[0].axis("global_batch")
    assert "batch" not in figures[0].fixed
    assert all(ranks == all_ranks for ranks in _ranks_per_line(records))
    for plot in (scaling_efficiency, throughput):
        outputs = plot(records, tmp_path)
        assert len(outputs) == 1, [o.subtitle for o in outputs]
    assert "same global batch" in scaling_efficiency(records, tmp_path)[0].subtitle  # the record's definition


def test_weak_and_strong_in_one_file_are_faceted_apart(make_file: Callable[..., Path], tmp_path: Path) -> None:
    doc = fixture_doc("train_cpu")
    doc["points"] += fixture_doc("train_strong_cpu")["points"]
    records = to_records([load_results(make_file("mixed.json", doc))])
    figures = facets(records, x="ranks", line="algo", panel="precision")
    assert sorted(f.fixed["scaling"] for f in figures) == ["strong", "weak"]
    all_ranks = {r.axis("ranks") for r in records}
    assert all(ranks == all_ranks for ranks in _ranks_per_line(records))
    assert len(scaling_efficiency(records, tmp_path)) == 2

"""Every plot kind is produced from the fixtures; plots skip cleanly and survive hostile labels."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pytest
from conftest import fixture_doc, fixture_path
from matplotlib.image import imread

from dpbench_report import PointRecord, load_many, load_results, to_records
from dpbench_report.plot_common import PlotOutput
from dpbench_report.plots import PLOT_KINDS, make_plots
from dpbench_report.plots_train import BREAKDOWN_STATS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def expected_kinds(records: Sequence[PointRecord]) -> set[str]:
    """Which plot kinds the data supports, decided from the records themselves."""
    ok = [r for r in records if r.ok]
    train = [r for r in ok if r.kind == "train"]
    kinds = set()
    if any(r.metric("scaling_efficiency") is not None for r in train):
        kinds.add("scaling-efficiency")
    if any(r.metric("samples_per_s") is not None for r in train):
        kinds.add("throughput")
    if any(r.median(s) is not None for r in train for s in BREAKDOWN_STATS):
        kinds.add("step-breakdown")
    if len({r.axis("bucket_mb") for r in train if r.median("step") is not None and r.axis("bucket_mb")}) > 1:
        kinds.add("step-vs-bucket")
    if any(r.kind == "allreduce" and (r.metric("busbw") is not None or r.metric("algbw") is not None) for r in ok):
        kinds.add("allreduce-bandwidth")
    if expected_matrices(records):
        kinds.add("p2p-matrix")
    return kinds


def expected_matrices(records: Sequence[PointRecord]) -> int:
    return sum(1 for r in records if r.ok for m in r.raw.get("matrices") or []
               if any(v is not None for row in m["values"] for v in row))


def assert_nontrivial(outputs: Sequence[PlotOutput], outdir: Path) -> None:
    for out in outputs:
        assert set(out.files) == {"png", "svg"}
        png, svg = out.files["png"], out.files["svg"]
        assert png.parent == outdir and svg.parent == outdir
        data = png.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 8_000, png
        pixels = imread(png)
        assert pixels.ndim == 3 and float(np.std(pixels[..., :3])) > 0.01, f"{png} is blank"
        text = svg.read_text(encoding="utf-8")
        assert "<svg" in text and len(text) > 8_000, svg


@pytest.fixture(scope="module")
def fixture_plots(tmp_path_factory: pytest.TempPathFactory, fixture_paths: list[Path]
                  ) -> tuple[list[PointRecord], list[PlotOutput], Path]:
    records = to_records(load_many(fixture_paths))
    outdir = tmp_path_factory.mktemp("plots")
    return records, make_plots(records, outdir), outdir


def test_every_supported_plot_kind_is_written(fixture_plots: tuple[list[PointRecord], list[PlotOutput], Path]) -> None:
    records, outputs, outdir = fixture_plots
    kinds = {o.kind for o in outputs}
    assert kinds == expected_kinds(records)
    assert kinds, "the fixtures should support at least one plot"
    assert_nontrivial(outputs, outdir)
    assert sum(1 for o in outputs if o.kind == "p2p-matrix") == expected_matrices(records)
    assert set(PLOT_KINDS) >= kinds


def test_titles_name_the_machine_and_file(fixture_plots: tuple[list[PointRecord], list[PlotOutput], Path]) -> None:
    records, outputs, _ = fixture_plots
    machines = {r.machine for r in records}
    files = {Path(r.file).name for r in records}
    for out in outputs:
        assert any(m in out.title for m in machines), out.title
        assert any(f in out.subtitle for f in files), out.subtitle


def test_no_data_means_no_plot_and_a_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    records = to_records([load_results(fixture_path("info_cpu"))])
    with caplog.at_level(logging.INFO, logger="dpbench_report"):
        assert make_plots(records, tmp_path / "plots") == []
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == len(PLOT_KINDS)
    assert not (tmp_path / "plots").exists() or not any((tmp_path / "plots").iterdir())


def _small_train_doc() -> dict:
    """The train fixture cut down to the ok points of one algo (keeps these tests fast)."""
    doc = fixture_doc("train_cpu")
    ok = [p for p in doc["points"] if p["status"] == "ok"]
    algo = ok[0]["axes"].get("algo")
    doc["points"] = [p for p in ok if p["axes"].get("algo") == algo]
    return doc


def test_missing_scaling_efficiency_skips_only_that_plot(make_file: Callable[..., Path], tmp_path: Path) -> None:
    doc = _small_train_doc()
    for p in doc["points"]:
        if "scaling_efficiency" in p.get("metrics", {}):
            p["metrics"]["scaling_efficiency"]["value"] = None
    records = to_records([load_results(make_file("no_eff.json", doc))])
    outputs = make_plots(records, tmp_path / "plots", kinds=["scaling-efficiency", "throughput"])
    assert [o.kind for o in outputs if o.kind == "scaling-efficiency"] == []
    assert any(o.kind == "throughput" for o in outputs)


def test_hostile_labels_neither_crash_nor_escape_the_output_dir(make_file: Callable[..., Path],
                                                              tmp_path: Path) -> None:
    doc = _small_train_doc()
    doc["system"]["host"]["hostname"] = "../../etc/$x^_{y}$ $\\frac{1}{0}$ <b>"
    doc["system"]["devices"][0]["name"] = "/dev/null $"
    for p in doc["points"]:
        p["axes"]["algo"] = "$\\alpha$/../ring"
        p["axes"]["model"] = "m$"
    path = make_file("hostile.json", doc)
    outdir = tmp_path / "plots"
    outputs = make_plots(to_records([load_results(path)]), outdir, kinds=["throughput", "step-breakdown"])
    assert {o.kind for o in outputs} == {"throughput", "step-breakdown"}
    for out in outputs:
        for file in out.files.values():
            assert file.resolve().parent == outdir.resolve()
    assert_nontrivial(outputs, outdir)


def test_matrices_with_only_nulls_are_skipped(make_file: Callable[..., Path], tmp_path: Path) -> None:
    doc = fixture_doc("p2p_cpu")
    points = [p for p in doc["points"] if p.get("matrices")]
    if not points:
        pytest.skip("p2p fixture has no matrices")
    for m in points[0]["matrices"]:
        m["values"] = [[None for _ in row] for row in m["values"]]
    records = to_records([load_results(make_file("nulls.json", doc))])
    outputs = make_plots(records, tmp_path / "plots", kinds=["p2p-matrix"])
    assert len(outputs) == expected_matrices(records)

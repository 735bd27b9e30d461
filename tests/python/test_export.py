"""dpbench-report export: one row per point, as CSV (always) and Parquet (with the optional pyarrow)."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
from conftest import FIXTURE_NAMES, fixture_path, run_module

from dpbench_report import load_many, to_records
from dpbench_report.export import columns, export, rows

PATHS = [fixture_path(n) for n in FIXTURE_NAMES]


def _records() -> list:
    return to_records(load_many(PATHS))


def test_columns_group_identity_axes_statistics_metrics() -> None:
    cols = columns(rows(_records()))
    assert cols[:8] == ["file", "machine", "command", "backend", "id", "kind", "status", "reason"]
    kinds = ["axis" if c.startswith("axis.") else "metric" if c.startswith("metric.") else "stat"
             for c in cols[8:]]
    assert kinds == sorted(kinds, key=["axis", "stat", "metric"].index)
    for stat in ("time", "step"):
        for part in ("median", "median_ci95_low", "median_ci95_high", "mean", "ci95_low", "p90", "count", "unit"):
            assert f"{stat}.{part}" in cols
    assert {"axis.ranks", "axis.algo", "axis.bytes", "axis.global_batch", "metric.busbw"} <= set(cols)


def test_csv_has_one_row_per_point_with_status_axes_and_statistics(tmp_path: Path) -> None:
    out = tmp_path / "points.csv"
    proc = run_module("export", *map(str, PATHS), "--csv", str(out))
    assert proc.returncode == 0, proc.stderr
    with open(out, encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    records = _records()
    assert len(table) == len(records)
    for r, row in zip(records, table, strict=True):
        assert row["id"] == r.id and row["status"] == r.status and row["command"] == r.command
        assert row["axis.ranks"] == ("" if r.axis("ranks") is None else str(r.axis("ranks")))
        if "time" in r.medians:
            assert float(row["time.median"]) == r.medians["time"]
        if r.axis("ranks") == 1 and "busbw" in r.metrics:
            assert row["metric.busbw"] == ""  # not defined at one rank
        elif r.metrics.get("busbw") is not None:
            assert float(row["metric.busbw"]) == r.metrics["busbw"]


def test_csv_to_standard_output_loads_in_pandas() -> None:
    pd = pytest.importorskip("pandas")
    proc = run_module("export", str(fixture_path("allreduce_cpu")), "--csv", "-")
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_csv(io.StringIO(proc.stdout))
    assert len(frame) == len(to_records(load_many([fixture_path("allreduce_cpu")])))
    assert frame["time.median"].dtype.kind == "f" and frame["axis.ranks"].dtype.kind == "i"
    assert (frame["time.median_ci95_low"].dropna() <= frame.loc[frame["time.median_ci95_low"].notna(),
                                                                  "time.median"]).all()


def test_parquet_round_trip(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "points.parquet"
    proc = run_module("export", *map(str, PATHS), "--parquet", str(out), "--csv", str(tmp_path / "p.csv"))
    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(out)
    records = _records()
    assert table.num_rows == len(records)
    assert table.column("id").to_pylist() == [r.id for r in records]
    assert table.column_names == columns(rows(records))


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    with pytest.raises(ValueError, match=r"dpbench-report\[parquet\]"):
        export(_records(), parquet_path=tmp_path / "x.parquet", csv_path=tmp_path / "x.csv")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_export_without_an_output_is_bad_input() -> None:
    proc = run_module("export", str(fixture_path("train_cpu")))
    assert proc.returncode == 2
    assert "--csv" in proc.stderr

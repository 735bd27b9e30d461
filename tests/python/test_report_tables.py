"""What the report's tables show: the median's CI, '—' for figures undefined at one rank."""

from __future__ import annotations

from conftest import fixture_path

from dpbench_report import PointRecord, load_results, to_records
from dpbench_report.report_tables import MISSING, PointsTable, points_table
from dpbench_report.units import fmt_num


def _table(name: str) -> tuple[list[PointRecord], PointsTable]:
    records = to_records([load_results(fixture_path(name))])
    return records, points_table(records)


def _column(t: PointsTable, header_start: str) -> int:
    assert t.table is not None
    return next(i for i, h in enumerate(t.table.headers) if h.startswith(header_start))


def test_time_column_shows_the_ci_of_the_median() -> None:
    records, t = _table("allreduce_cpu")
    assert t.table is not None
    col = _column(t, "time median (us) [95% CI]")
    for r, row in zip(records, t.table.rows, strict=True):
        low, high = r.median_ci95["time"]
        cell = row[col]
        assert cell.text == fmt_num(r.medians["time"])
        interval = f"[{fmt_num(low)}, {fmt_num(high)}]" if low is not None else f"[{MISSING}]"  # n < 6: none
        assert cell.note == f"{interval} n={len(r.samples['time'])}", (cell.note, r.ci95["time"])
    assert any("interval of the median" in note for note in t.notes)


def test_one_rank_points_show_no_busbw() -> None:
    records, t = _table("allreduce_cpu")
    assert t.table is not None
    busbw, algbw = _column(t, "busbw"), _column(t, "algbw")
    one_rank = [row for r, row in zip(records, t.table.rows, strict=True) if r.axis("ranks") == 1]
    more = [row for r, row in zip(records, t.table.rows, strict=True) if r.axis("ranks", 0) > 1]
    assert one_rank and more
    assert all(row[busbw].text == MISSING for row in one_rank)
    assert all(row[algbw].text != MISSING for row in one_rank)  # algbw is defined at one rank
    assert all(row[busbw].text != MISSING for row in more)


def test_one_rank_train_points_show_no_overlap() -> None:
    for name in ("train_cpu", "train_strong_cpu"):
        records, t = _table(name)
        assert t.table is not None
        col = _column(t, "overlap_fraction")
        for r, row in zip(records, t.table.rows, strict=True):
            assert (row[col].text == MISSING) == (r.axis("ranks") == 1), (r.id, row[col].text)
            assert r.metric("overlap_fraction") is not None  # the record keeps what dpbench wrote

"""Points as a flat table for pandas, spreadsheets and notebooks: CSV, and Parquet where pyarrow is installed.

One row per point of every file (failed and skipped points too, with their reason), the columns of
PointRecord.row(): file and point identity, status, axis.<name>, per statistic its median with the
median's 95% CI, mean with the mean's CI, min/max/p10/p90/stddev/count and unit, per metric its value.
Raw samples stay in the JSON. Parquet is an optional extra (`pip install 'dpbench-report[parquet]'`)
so the package needs no Arrow to install.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any, Sequence

from .outputs import write_atomic
from .records import ROW_IDENTITY, PointRecord

STDOUT = "-"


def rows(records: Sequence[PointRecord]) -> list[dict[str, Any]]:
    return [r.row() for r in records]


def columns(table: Sequence[dict[str, Any]]) -> list[str]:
    """Every column of every row: identity first, then axes in display order, statistics, metrics.

    Rows hold their axes in their file's order (PointRecord.row), so first-seen order is that order,
    with axes only later files have after those of earlier ones.
    """
    seen = list(dict.fromkeys(k for row in table for k in row))
    axes = [k.removeprefix("axis.") for k in seen if k.startswith("axis.")]
    metrics = [k for k in seen if k.startswith("metric.")]
    stats = [k for k in seen if k not in ROW_IDENTITY and not k.startswith(("axis.", "metric."))]
    return list(ROW_IDENTITY) + [f"axis.{a}" for a in axes] + stats + metrics


def _csv_text(table: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns(table), restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue()


def write_csv(records: Sequence[PointRecord], path: str | Path) -> None:
    """CSV with a header row; missing values are empty cells. path '-' is standard output."""
    text = _csv_text(rows(records))
    if str(path) == STDOUT:
        sys.stdout.write(text)
        return
    write_atomic(Path(path), text)


def _column_values(values: list[Any]) -> list[Any]:
    """One Arrow type per column: a column whose values mix kinds across files becomes text."""
    kinds = {type(v) for v in values if v is not None}
    if kinds == {int, float}:
        return [None if v is None else float(v) for v in values]
    if len(kinds) <= 1:
        return values
    return [None if v is None else str(v) for v in values]


def write_parquet(records: Sequence[PointRecord], path: str | Path) -> None:
    """Parquet through pyarrow (the optional `parquet` extra); ValueError naming the extra when absent."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("--parquet needs pyarrow: pip install 'dpbench-report[parquet]'") from None
    table = rows(records)
    names = columns(table)
    data = {name: _column_values([row.get(name) for row in table]) for name in names}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(data), str(path))


def export(records: Sequence[PointRecord], csv_path: str | Path | None = None,
           parquet_path: str | Path | None = None) -> list[str]:
    """Write the requested files; returns what was written."""
    if csv_path is None and parquet_path is None:
        raise ValueError("export needs --csv FILE and/or --parquet FILE")
    written = []
    if parquet_path is not None:  # first: a missing pyarrow fails before anything is written
        write_parquet(records, parquet_path)
        written.append(str(parquet_path))
    if csv_path is not None:
        write_csv(records, csv_path)
        written.append("standard output" if str(csv_path) == STDOUT else str(csv_path))
    return written

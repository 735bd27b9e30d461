"""The HTML report marks points whose host enqueue time reached the device time (extra.host_bound)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from dpbench_report.load import load_results
from dpbench_report.records import to_records
from dpbench_report.report_tables import points_table

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_host_bound_points_are_marked_and_explained(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "allreduce_cpu.json").read_text())
    marked = copy.deepcopy(doc)
    first_ok = next(p for p in marked["points"] if p["status"] == "ok")
    first_ok.setdefault("extra", {})["host_bound"] = True
    path = tmp_path / "marked.json"
    path.write_text(json.dumps(marked))
    table = points_table(to_records([load_results(path)]))
    assert table.table is not None
    statuses = [row[1].text for row in table.table.rows]
    assert statuses.count("ok (host-bound)") == 1
    assert any("host-bound" in n for n in table.notes)


def test_no_mark_without_the_flag() -> None:
    table = points_table(to_records([load_results(FIXTURES / "allreduce_cpu.json")]))
    assert table.table is not None
    assert not any("host-bound" in row[1].text for row in table.table.rows)
    assert not any("host-bound" in n for n in table.notes)

"""Loading and validating results files; tidy records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import FIXTURE_NAMES, fixture_doc, fixture_path, run_module

from dpbench_report import ResultsFileError, load_many, load_results, to_records
from dpbench_report.load import SCHEMA_ENV, schema_path


def test_schema_is_found_relative_to_the_package() -> None:
    path = schema_path()
    assert path.is_file(), path
    assert path.name == "dpbench-results.schema.json"


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_fixture_validates(name: str) -> None:
    results = load_results(fixture_path(name))
    doc = fixture_doc(name)
    assert results.command == doc["command"]
    assert len(results.points) == len(doc["points"])


def test_records_are_one_per_point_with_machine_label_axes_and_medians() -> None:
    paths = [fixture_path(n) for n in FIXTURE_NAMES]
    files = load_many(paths)
    records = to_records(files)
    docs = [fixture_doc(n) for n in FIXTURE_NAMES]
    assert len(records) == sum(len(d["points"]) for d in docs)
    for rec in records:
        doc = docs[rec.file_index]
        point = next(p for p in doc["points"] if p["id"] == rec.id)
        host = doc["system"]["host"]["hostname"]
        assert rec.machine.startswith(host)
        if doc["system"]["devices"]:
            assert rec.machine == f"{host} / {doc['system']['devices'][0]['name']}"
        assert rec.command == doc["command"]
        assert rec.status == point["status"]
        assert rec.axes == point["axes"]
        for stat, summary in (point.get("stats") or {}).items():
            assert rec.medians[stat] == pytest.approx(summary["median"])
            assert rec.samples[stat] == pytest.approx(summary["samples"])
        for metric, entry in (point.get("metrics") or {}).items():
            assert rec.metrics[metric] == entry["value"]
        row = rec.row()
        assert row["id"] == rec.id and row["file"] == rec.file
        for axis in point["axes"]:
            assert f"axis.{axis}" in row
        for stat in rec.medians:
            assert row[f"{stat}.median"] == rec.medians[stat]


def _first_problem(path: Path) -> ResultsFileError:
    with pytest.raises(ResultsFileError) as info:
        load_results(path)
    return info.value


def _doc_with_a_point() -> tuple[str, dict[str, Any]]:
    for name in FIXTURE_NAMES:
        doc = fixture_doc(name)
        if doc["points"]:
            return name, doc
    pytest.fail("no fixture has points")


def test_invalid_status_names_the_file_and_the_path(make_file: Callable[..., Path]) -> None:
    name, doc = _doc_with_a_point()
    doc["points"][0]["status"] = "bogus"
    path = make_file("bad_status.json", doc)
    error = _first_problem(path)
    assert str(path) in str(error)
    assert "/points/0/status" in str(error)
    assert "bogus" in str(error)


def test_missing_required_block_is_reported(make_file: Callable[..., Path]) -> None:
    doc = fixture_doc("info_cpu")
    del doc["system"]
    error = _first_problem(make_file("no_system.json", doc))
    assert "'system' is a required property" in str(error)


def test_wrong_type_deep_inside_a_point(make_file: Callable[..., Path]) -> None:
    doc = fixture_doc("train_cpu")
    index = next(i for i, p in enumerate(doc["points"]) if p.get("stats"))
    stat = next(iter(doc["points"][index]["stats"]))
    doc["points"][index]["stats"][stat]["median"] = "fast"
    error = _first_problem(make_file("bad_median.json", doc))
    assert f"/points/{index}/stats/{stat}/median" in str(error)


def test_not_json_and_missing_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "dpbench-results", ', encoding="utf-8")
    assert "not valid JSON" in str(_first_problem(broken))
    assert "no such file" in str(_first_problem(tmp_path / "absent.json"))


def test_schema_override_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    schema["properties"]["format_version"] = {"const": 2}
    stricter = tmp_path / "v2.schema.json"
    stricter.write_text(json.dumps(schema), encoding="utf-8")
    monkeypatch.setenv(SCHEMA_ENV, str(stricter))
    error = _first_problem(fixture_path("info_cpu"))
    assert "/format_version" in str(error)
    monkeypatch.setenv(SCHEMA_ENV, str(tmp_path / "nowhere.json"))
    error = _first_problem(fixture_path("info_cpu"))
    assert "schema file not found" in str(error) and SCHEMA_ENV in str(error)


def test_cli_exits_2_with_one_clear_error(make_file: Callable[..., Path]) -> None:
    name, doc = _doc_with_a_point()
    doc["points"][0]["status"] = "bogus"
    path = make_file("bad.json", doc)
    for command in (["validate", str(path)], ["report", str(path), "--out", str(path.parent / "out")]):
        proc = run_module(*command)
        assert proc.returncode == 2, proc.stderr
        errors = [line for line in proc.stderr.splitlines() if "error" in line]
        assert len(errors) == 1, proc.stderr
        assert str(path) in errors[0] and "/points/0/status" in errors[0]
    assert not (path.parent / "out").exists()
    ok = run_module("validate", *(str(fixture_path(n)) for n in FIXTURE_NAMES))
    assert ok.returncode == 0 and ok.stdout.count(": ok (") == len(FIXTURE_NAMES)

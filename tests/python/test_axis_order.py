"""Axis display order comes from the results file, never from a copy of it in Python.

dpbench writes each command's axes, in the order it declares them, as the file's "axis_order"; files
written before that hold no such list, and the order of each point's id (built from the same ordered
list) stands in for it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import fixture_doc

from dpbench_report import load_results, to_records
from dpbench_report.export import columns, rows
from dpbench_report.records import axis_order_from_id, constant_axes, describe_axes, varying_axes

MakeFile = Callable[[str, dict[str, Any]], Path]


def records_of(path: Path) -> list[Any]:
    return to_records([load_results(path)])


def test_the_order_of_an_id() -> None:
    assert axis_order_from_id("allreduce/algo=p2p-ring/dtype=fp32/ranks=2/devices=0,1/bytes=4096/in_place=0/graph=0") == (
        "algo", "dtype", "ranks", "devices", "bytes", "in_place", "graph")
    assert axis_order_from_id("p2p") == ()


def test_files_without_axis_order_follow_their_ids(make_file: MakeFile) -> None:
    doc = fixture_doc("allreduce_cpu")
    assert "axis_order" not in doc  # written before axis_order existed
    recs = records_of(make_file("old.json", doc))
    for rec in recs:
        id_order = list(axis_order_from_id(rec.id))
        assert list(rec.axes)[:len(id_order)] == id_order
        assert list(rec.axes)[len(id_order):] == ["count"]  # not in the id: after, alphabetically
        assert rec.axes == next(p["axes"] for p in doc["points"] if p["id"] == rec.id)
    expected = list(axis_order_from_id(recs[0].id)) + ["count"]
    shown = varying_axes(recs, ignore=())
    assert shown == [n for n in expected if n in shown] and "bytes" in shown


def test_the_files_axis_order_is_the_display_order(make_file: MakeFile) -> None:
    doc = fixture_doc("train_cpu")
    order = ["optimizer", "ranks", "precision", "algo", "model"]  # any order the file states
    doc["axis_order"] = order
    recs = records_of(make_file("new.json", doc))
    for rec in recs:
        assert list(rec.axes)[:len(order)] == order
        rest = list(rec.axes)[len(order):]
        assert rest == sorted(rest)
        assert rec.axis_order == tuple(order)
        assert list(rec.row())[8:8 + len(order)] == [f"axis.{n}" for n in order]
    assert varying_axes(recs) == ["ranks", "precision", "algo"]
    assert list(constant_axes(recs))[:2] == ["optimizer", "model"]
    assert describe_axes(recs[0].axes).startswith(f"optimizer={recs[0].axes['optimizer']}, ranks=1, ")
    axis_columns = [c for c in columns(rows(recs)) if c.startswith("axis.")]
    assert axis_columns[:len(order)] == [f"axis.{n}" for n in order]


def test_files_of_two_commands_merge_their_orders(make_file: MakeFile) -> None:
    train = fixture_doc("train_cpu")
    train["axis_order"] = ["model", "algo", "precision", "ranks"]
    allreduce = fixture_doc("allreduce_cpu")
    allreduce["axis_order"] = ["algo", "dtype", "ranks", "bytes"]
    recs = to_records([load_results(make_file("t.json", train)), load_results(make_file("a.json", allreduce))])
    shown = varying_axes(recs, ignore=())
    known = [n for n in ("model", "algo", "precision", "ranks", "dtype", "bytes") if n in shown]
    assert shown[:len(known)] == known


def test_a_malformed_axis_order_is_refused(make_file: MakeFile) -> None:
    doc = fixture_doc("train_cpu")
    doc["axis_order"] = "model,algo"
    with pytest.raises(Exception, match="axis_order"):
        load_results(make_file("bad.json", doc))


def _binary() -> str:
    path = os.environ.get("DPBENCH_BIN")
    if not path:
        pytest.skip("DPBENCH_BIN is not set: point it at the built dpbench binary to run this test")
    return path


@pytest.mark.parametrize("command", [
    ["allreduce", "--gpus", "2", "-b", "4K", "-e", "8K", "--iters", "2", "--warmup", "1"],
    ["train", "--gpus", "1,2", "--model", "16,16,4", "--accum", "1,2", "--iters", "1", "--warmup", "1"],
])
def test_dpbench_writes_the_order_of_its_ids(tmp_path: Path, command: list[str]) -> None:
    out = tmp_path / "r.json"
    proc = subprocess.run([_binary(), *command, "--backend", "cpu", "--cpu-devices", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    order = doc["axis_order"]
    for point in doc["points"]:
        assert sorted(order) == sorted(point["axes"]), "axis_order names every axis of every point"
        id_order = list(axis_order_from_id(point["id"]))
        assert [n for n in order if n in id_order] == id_order, "ids follow axis_order"
    recs = records_of(out)
    assert all(list(r.axes) == order for r in recs)

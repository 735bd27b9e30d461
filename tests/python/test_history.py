"""history: runs ordered by date, repeats grouped by revision, one flagged step, plots and markdown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import fixture_doc, fixture_path, write_doc
from repeat_docs import repeat_doc, target_id

from dpbench_report.cli import main

REVISIONS = ["aaaa111", "bbbb222", "cccc333", "dddd444", "eeee555", "ffff666"]


def run_doc(rev_index: int, repeat: int, factors: dict[str, float] | None = None) -> dict[str, Any]:
    doc = repeat_doc("train_cpu", 100 * rev_index + repeat, factors=factors)
    doc["dpbench"]["git_revision"] = REVISIONS[rev_index]
    doc["invocation"]["started_at"] = f"2026-11-{10 + rev_index:02d}T0{repeat}:00:00Z"
    return doc


def write_history(tmp_path: Path, step_at: int | None, victim: str, factor: float = 1.3) -> list[Path]:
    paths = []
    for i in reversed(range(len(REVISIONS))):  # written out of order on purpose: history sorts by date
        for r in range(2):
            factors = {victim: factor} if step_at is not None and i >= step_at else None
            paths.append(write_doc(tmp_path, f"run-{REVISIONS[i]}-{r}.json", run_doc(i, r, factors)))
    return paths


def history(tmp_path: Path, paths: list[Path], *extra: str) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "hist"
    code = main(["history", *map(str, paths), "--out", str(out), "--no-print", "-q", *extra])
    doc = json.loads((out / "history.json").read_text(encoding="utf-8")) if (out / "history.json").exists() else {}
    md = (out / "history.md").read_text(encoding="utf-8") if (out / "history.md").exists() else ""
    return code, doc, md


def test_step_is_flagged_at_its_revision(tmp_path: Path) -> None:
    victim = target_id(fixture_doc("train_cpu"))
    code, doc, md = history(tmp_path, write_history(tmp_path, 3, victim), "--plots", "changed")
    assert code == 0
    assert [e["revision"] for e in doc["entries"]] == REVISIONS
    assert all(len(e["files"]) == 2 for e in doc["entries"])
    flagged = [s for s in doc["series"] if s["change"]]
    assert [s["id"] for s in flagged] == [victim]
    change = flagged[0]["change"]
    assert change["index"] == 3 and change["revision"] == "dddd444" and change["verdict"] == "regression"
    assert change["change_pct"] == pytest.approx(30, abs=4)
    assert Path(flagged[0]["plot"]).is_file() and Path(flagged[0]["plot"]).suffix == ".png"
    assert "**1 change point**" in md and "dddd444" in md and victim in md and "[plot](plots/" in md


def test_steady_history_flags_nothing_and_fail_option(tmp_path: Path) -> None:
    victim = target_id(fixture_doc("train_cpu"))
    code, doc, md = history(tmp_path, write_history(tmp_path, None, victim), "--plots", "none",
                            "--fail-on-regression")
    assert code == 0 and not [s for s in doc["series"] if s["change"]]
    assert "**0 change points**" in md
    code, _, _ = history(tmp_path, write_history(tmp_path, 2, victim), "--plots", "none", "--fail-on-regression")
    assert code == 1


def test_all_plots_written(tmp_path: Path) -> None:
    victim = target_id(fixture_doc("train_cpu"))
    code, doc, _ = history(tmp_path, write_history(tmp_path, 4, victim, 0.7))
    assert code == 0
    ok_series = [s for s in doc["series"] if any(s["values"])]
    assert all(s["plot"] and Path(s["plot"]).is_file() for s in ok_series)
    assert next(s for s in doc["series"] if s["id"] == victim)["change"]["verdict"] == "improvement"


def test_mixed_commands_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["history", str(fixture_path("train_cpu")), str(fixture_path("allreduce_cpu")),
                 "--out", str(tmp_path / "h")])
    assert code == 2 and "one command" in capsys.readouterr().err


def test_too_few_revisions_say_so(tmp_path: Path) -> None:
    code, doc, md = history(tmp_path, [fixture_path("train_cpu")], "--plots", "none")
    assert code == 0 and "at least 3 are needed" in md and doc["notes"]

"""The statistical trials' rerun collection (scripts/trials/rerun-trials.py): what it measures again."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

TRIALS = Path(__file__).resolve().parents[2] / "scripts" / "trials"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), TRIALS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rerun_plan_keeps_enough_remeasures_short_and_appends_new() -> None:
    rerun_trials = load("rerun-trials")
    index = {"kept": 1, "short": 2}
    done = {1: 30, 2: 20}
    wanted = {"kept": {"id": "kept", "rounds": 30}, "short": {"id": "short", "rounds": 29},
              "new": {"id": "new", "rounds": 12}}
    todo = rerun_trials.plan(index, wanted, None, lambda i: done.get(i, 0))
    assert [(i, p["id"], n) for i, p, n in todo] == [(2, "short", 29), (3, "new", 12)]
    assert index == {"kept": 1, "short": 2, "new": 3}
    # --rounds overrides every listing: 25 is short of nothing measured for 30, longer than 20
    index = {"kept": 1, "short": 2}
    todo = rerun_trials.plan(index, wanted, 25, lambda i: done.get(i, 0))
    assert [(i, p["id"], n) for i, p, n in todo] == [(2, "short", 25), (3, "new", 25)]


def test_rounds_done_counts_complete_rounds(tmp_path: Path) -> None:
    rerun_trials = load("rerun-trials")
    assert rerun_trials.rounds_done(tmp_path / "absent") == 0
    for name in ("base-r1.json", "cont-r1.json", "base-r2.json"):  # round 2 cut short
        (tmp_path / name).write_text("{}", encoding="utf-8")
    assert rerun_trials.rounds_done(tmp_path) == 1

"""Output files are written whole or not at all (dpbench_report.outputs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dpbench_report.outputs import write_atomic


def test_write_creates_the_folder_and_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "compare.json"
    write_atomic(path, "one")
    write_atomic(path, "two")
    assert path.read_text(encoding="utf-8") == "two" and [p.name for p in path.parent.iterdir()] == ["compare.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "compare.json"
    write_atomic(path, "good")

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="No space"):
        write_atomic(path, "half")
    assert path.read_text(encoding="utf-8") == "good" and [p.name for p in tmp_path.iterdir()] == ["compare.json"]

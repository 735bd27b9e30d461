"""Every results file the dpbench binary writes validates against the results schema.

The schema's one copy is the reporting package's data (scripts/dpbench_report/schema/); this test reads
it by path, independently of the package's loader.

Runs the built binary (path from the DPBENCH_BIN environment variable; skipped with a message when
unset) on the cpu backend. allreduce always; info, p2p and train when their `--help` shows the flags
used here (those commands are written separately and may not accept them yet).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "scripts" / "dpbench_report" / "schema" / "dpbench-results.schema.json"
FIXTURES = REPO / "tests" / "fixtures"


def binary() -> str:
    path = os.environ.get("DPBENCH_BIN")
    if not path:
        pytest.skip("DPBENCH_BIN is not set: point it at the built dpbench binary to run these tests")
    if not os.access(path, os.X_OK):
        pytest.fail(f"DPBENCH_BIN={path} is not an executable file")
    return path


@pytest.fixture(scope="module")
def validator():
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate_file(validator, path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:20])
    return doc


def help_text(command: str) -> str:
    proc = subprocess.run([binary(), command, "--help"], capture_output=True, text=True, timeout=60)
    return proc.stdout + proc.stderr


def require_flags(command: str, flags: list[str]) -> None:
    text = help_text(command)
    missing = [f for f in flags if f not in text]
    if missing:
        pytest.skip(f"`dpbench {command}` does not accept {', '.join(missing)} yet")


def run(args: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([binary(), *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"dpbench {' '.join(args)} exited {proc.returncode}\n{proc.stderr}"
    return proc


def test_allreduce_file_validates(validator, tmp_path):
    out = tmp_path / "allreduce.json"
    run(["allreduce", "--backend", "cpu", "--cpu-devices", "4", "--gpus", "1,2,4",
         "--algo", "p2p-ring,p2p-tree,p2p-direct", "--dtype", "fp32,fp16,bf16",
         "-b", "1K", "-e", "16K", "-f", "4", "--warmup", "1", "--max-time", "0.02", "--out", str(out)])
    doc = validate_file(validator, out)
    assert doc["command"] == "allreduce"
    assert doc["invocation"]["complete"] is True
    assert len(doc["points"]) == 3 * 3 * 3 * 3 * 2
    assert all(p["status"] == "ok" and p["check"]["wrong_elements"] == 0 for p in doc["points"])
    assert {d["kind"] for d in doc["system"]["devices"]} == {"cpu-simulated"}


def test_allreduce_file_with_a_failed_point_validates(validator, tmp_path):
    # A resumed file, and one whose run had points of every shape, must stay valid too.
    out = tmp_path / "allreduce.json"
    base = ["allreduce", "--backend", "cpu", "--gpus", "2", "--algo", "p2p-ring", "--iters", "2",
            "--warmup", "0", "--out", str(out)]
    run(base + ["-b", "1K", "-e", "1K"])
    # Other sizes than the file's need --resume-force (plain --resume is strict about options).
    run(base + ["-b", "1K", "-e", "4K", "--resume-force", "--inplace"])
    doc = validate_file(validator, out)
    assert len(doc["invocation"]["resumed"]) == 1
    assert doc["invocation"]["resumed"][0]["forced"] is True


def test_info_file_validates(validator, tmp_path):
    require_flags("info", ["--out", "--backend"])
    out = tmp_path / "info.json"
    run(["info", "--backend", "cpu", "--out", str(out)])
    assert validate_file(validator, out)["command"] == "info"


def test_p2p_file_validates(validator, tmp_path):
    require_flags("p2p", ["--out", "--backend", "--size", "--devices"])
    out = tmp_path / "p2p.json"
    run(["p2p", "--backend", "cpu", "--devices", "0,1,2", "--size", "64K", "--out", str(out)])
    assert validate_file(validator, out)["command"] == "p2p"


def test_p2p_file_with_a_repeated_device_validates(validator, tmp_path):
    require_flags("p2p", ["--out", "--backend", "--size", "--devices", "--repeats"])
    out = tmp_path / "p2p.json"
    run(["p2p", "--backend", "cpu", "--cpu-devices", "3", "--devices", "0,1,1", "--size", "64K", "--repeats", "2",
         "--out", str(out)])
    assert validate_file(validator, out)["command"] == "p2p"


def test_the_schema_catches_a_broken_file(validator, tmp_path):
    require_flags("p2p", ["--out", "--backend", "--size", "--repeats"])
    out = tmp_path / "p2p.json"
    run(["p2p", "--backend", "cpu", "--cpu-devices", "2", "--size", "4K", "--repeats", "1", "--out", str(out)])
    doc = json.loads(out.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(doc))
    broken["points"][0]["matrices"][0]["values"][0][1] = "fast"
    del broken["points"][0]["status"]
    assert len(list(validator.iter_errors(broken))) == 2
    doc["points"][0]["status"] = "failed"  # a failed point must say why
    assert len(list(validator.iter_errors(doc))) == 1
    doc["points"][0]["reason"] = "link down"
    assert not list(validator.iter_errors(doc))


def test_train_file_validates(validator, tmp_path):
    require_flags("train", ["--out", "--backend", "--model", "--gpus", "--iters", "--warmup"])
    out = tmp_path / "train.json"
    run(["train", "--backend", "cpu", "--model", "small", "--gpus", "1,2", "--algo", "p2p-ring",
         "--warmup", "1", "--iters", "2", "--out", str(out)], timeout=600)
    assert validate_file(validator, out)["command"] == "train"


@pytest.mark.parametrize("name", ["allreduce_cpu", "train_cpu", "p2p_cpu", "info_cpu", "train_strong_cpu"])
def test_committed_fixtures_validate(validator, name):
    path = FIXTURES / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path} is not committed")
    validate_file(validator, path)

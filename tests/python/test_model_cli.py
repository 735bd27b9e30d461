"""`dpbench-report model fit|whatif`: outputs labelled modelled, and one clear line with exit 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import fixture_path
from dpbench_report.cli import main

AR, TRAIN = str(fixture_path("allreduce_cpu")), str(fixture_path("train_cpu"))


def _modelled_dicts(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict holding a modelled number (a prediction, a fit parameter, a what-if time)."""
    if isinstance(node, dict):
        if {"predicted_us", "alpha_us", "time_us", "exposed_comm_ms", "residual_ms"} & node.keys():
            yield node
        for v in node.values():
            yield from _modelled_dicts(v)
    elif isinstance(node, list):
        for v in node:
            yield from _modelled_dicts(v)


@pytest.fixture
def fitted(tmp_path: Path) -> Path:
    out = tmp_path / "m" / "model.json"
    assert main(["model", "fit", AR, TRAIN, "--holdout", "even", "--out", str(out), "-q"]) == 0
    return out


def test_fit_writes_model_markdown_and_plots(fitted: Path) -> None:
    doc = json.loads(fitted.read_text())
    assert doc["format"] == "dpbench-model" and doc["format_version"] == 1 and doc["source"] == "model"
    assert [i["path"] for i in doc["inputs"]] == [AR, TRAIN] and all("system" in i for i in doc["inputs"])
    assert doc["fits"] and doc["train"] and doc["holdout"]["score"]["points"] > 0
    found = list(_modelled_dicts(doc))
    assert found and all(d.get("source") == "model" for d in found)
    assert all(r["model"]["source"] == "model" for r in doc["train"])
    assert "modelled" in fitted.with_suffix(".md").read_text()
    plots = fitted.parent / "model_plots"
    assert (plots / "allreduce_model.png").stat().st_size > 0 and (plots / "train_model.png").exists()


def test_whatif(fitted: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.json"
    assert main(["model", "whatif", "--from", str(fitted), "--gpus", "8,16,64", "--intra", "300,2",
                 "--inter", "50,8", "--bytes", "25M", "--train", TRAIN, "--out", str(out), "-q"]) == 0
    doc = json.loads(out.read_text())
    wi = doc["whatif"]
    assert {r["algo"] for r in wi["allreduce"]} == {"ring", "tree", "hierarchical"}
    assert {r["bytes"] for r in wi["allreduce"]} == {25 << 20}
    assert wi["train"] and all(r["source"] == "model" for r in wi["allreduce"] + wi["train"])
    assert all(d.get("source") == "model" for d in _modelled_dicts(doc))
    assert (tmp_path / "w_plots" / "whatif.png").exists()
    # default intra: the fitted ring
    assert main(["model", "whatif", "--from", str(fitted), "--gpus", "2,4", "--out", str(out), "-q"]) == 0


@pytest.mark.parametrize("argv, message", [
    (["model", "fit", TRAIN, "--out", "{tmp}/m.json"], "no ok all-reduce points"),
    (["model", "fit", AR, "--holdout", "sometimes", "--out", "{tmp}/m.json"], "--holdout"),
    (["model", "whatif", "--from", "{model}", "--gpus", "16", "--algo", "ring,magic", "--inter", "1,1",
      "--out", "{tmp}/w.json"], "unknown what-if algorithm"),
    (["model", "whatif", "--from", "{model}", "--gpus", "16", "--intra", "fast", "--out", "{tmp}/w.json"], "--intra"),
    (["model", "whatif", "--from", "{model}", "--gpus", "16", "--intra", "300,2", "--out", "{tmp}/w.json"], "--inter"),
    (["model", "whatif", "--from", AR, "--gpus", "16", "--out", "{tmp}/w.json"], "not a dpbench-model"),
])
def test_bad_input_is_exit_2_with_one_line(argv: list[str], message: str, fitted: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    args = [a.format(tmp=tmp_path, model=fitted) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_unknown_algorithm_in_results_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(Path(AR).read_text())
    doc["points"][0]["axes"]["algo"] = "p2p-magic"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    code = main(["model", "fit", str(bad), "--out", str(tmp_path / "m.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and ("p2p-magic" in err[0]), err


def test_report_carries_the_model_summary_headed_modelled(fitted: Path, tmp_path: Path) -> None:
    assert main(["report", AR, "--model", str(fitted), "--out", str(tmp_path / "r"), "--formats", "png", "-q"]) == 0
    page = (tmp_path / "r" / "report.html").read_text()
    assert "Cost model (modelled, not measured)" in page and "source: model" in page
    assert main(["report", AR, "--out", str(tmp_path / "r2"), "--formats", "png", "-q"]) == 0
    assert "Cost model" not in (tmp_path / "r2" / "report.html").read_text()


def _dpbench_model(args: list[str], tmp_path: Path) -> "subprocess.CompletedProcess[str]":
    """`dpbench model` (the C++ front) with the report command of this interpreter's environment."""
    binary = os.environ.get("DPBENCH_BIN")
    if not binary:
        pytest.skip("DPBENCH_BIN is not set: point it at the built dpbench binary")
    tool = Path(sys.executable).parent / "dpbench-report"
    if not tool.exists():
        pytest.skip(f"{tool} is not installed (pip install ./scripts)")
    env = dict(os.environ, DPBENCH_REPORT=str(tool))
    return subprocess.run([str(Path(binary).resolve()), "model", *args], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)


def test_dpbench_model_fits_predicts_and_extrapolates(tmp_path: Path) -> None:
    proc = _dpbench_model(["--from", AR, TRAIN, "--out", "m", "--holdout", "even", "--gpus", "16,64",
                           "--inter", "50,10", "--algo", "ring,hierarchical"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    model = json.loads((tmp_path / "m" / "model.json").read_text())
    whatif = json.loads((tmp_path / "m" / "whatif.json").read_text())
    for doc in (model, whatif):
        found = list(_modelled_dicts(doc))
        assert found and all(d.get("source") == "model" for d in found)


@pytest.mark.parametrize("args, needle", [
    (["--from", "missing.json", "--out", "m"], "cannot read missing.json"),
    (["--from", TRAIN, "--out", "m"], "no allreduce results"),
    (["--from", AR, "--out", "m", "--gpus", "16", "--inter", "5"], "--inter: expected BW,LAT"),
])
def test_dpbench_model_refuses_bad_input_in_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = _dpbench_model(args, tmp_path)
    assert proc.returncode == 2
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m" / "model.json").exists()

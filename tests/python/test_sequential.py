"""The sequential gate: look 1 lists undecided points leaning slower, `rerun` measures them alone, look 2
judges everything with the reruns as their own block (fixtures written by dpbench; the end-to-end rerun
runs the built binary, DPBENCH_BIN)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import fixture_doc, write_doc
from repeat_docs import comparable_ids, repeat_doc, target_id, write_repeats
from test_compare import entry, run_compare

from dpbench_report import regression_stats as rs
from dpbench_report.ab import AbError
from dpbench_report.cli import main
from dpbench_report.compare import INCONCLUSIVE, REGRESSION
from dpbench_report.rerun import narrowed_args

NAME = "allreduce_cpu"
VICTIM = target_id(fixture_doc(NAME))


def _sweep(seeds: range, victim_noise: float, factor: float = 1.0, bursts: dict[int, float] | None = None
           ) -> list[dict[str, Any]]:
    """Repeats of the whole fixture sweep; the victim at its own noise, x factor, some runs x a burst."""
    docs = []
    for i, seed in enumerate(seeds):
        f = factor * (bursts or {}).get(i, 1.0)
        docs.append(repeat_doc(NAME, seed, factors={VICTIM: f}, noisy={VICTIM: victim_noise}))
    return docs


def _alone(seeds: range, level: float, factor: float = 1.0, noise: float = 0.03) -> list[dict[str, Any]]:
    """Reruns of the victim alone (a results file of that one point), at their own level."""
    docs = []
    for seed in seeds:
        doc = repeat_doc(NAME, seed, factors={VICTIM: level * factor}, noisy={VICTIM: noise})
        doc["points"] = [p for p in doc["points"] if p["id"] == VICTIM]
        docs.append(doc)
    return docs


BURSTS = {0: 2.5, 3: 3.0}


def _look1(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    """A 30% slowdown of a point ±10% noisy, whose contender had two bursts in six runs (as in the trials
    on the loaded runner): the four runs left cannot show it at look 1."""
    base = write_repeats(tmp_path, "b", _sweep(range(1, 7), 0.1))
    cont = write_repeats(tmp_path, "c", _sweep(range(11, 17), 0.1, 1.3, bursts=BURSTS))
    return base, cont


def test_look_one_lists_the_undecided_point_for_a_rerun(tmp_path: Path) -> None:
    base, cont = _look1(tmp_path)
    page = tmp_path / "look1.html"
    code, markdown, result = run_compare(tmp_path, base, cont, "--looks", "2", "--html", str(page))
    assert code == 0
    c = entry(result, VICTIM)
    assert c["verdict"] == INCONCLUSIVE and c["change_pct"] > 5.0 and c["set_aside_contender"] == 2
    assert result["look"] == 1 and result["looks"] == 2
    assert VICTIM in [e["id"] for e in result["rerun"]]
    assert all(entry(result, e["id"])["change_pct"] > 5.0 for e in result["rerun"])
    assert "### Rerun before deciding" in markdown and VICTIM in markdown.split("### Rerun before deciding")[1]
    assert "Rerun before deciding" in page.read_text(encoding="utf-8")
    # a gate of one look lists nothing: a second look at full alpha would break its error rate
    code, markdown, single = run_compare(tmp_path, base, cont)
    assert code == 0 and single["rerun"] == [] and "Rerun before deciding" not in markdown


def test_look_two_with_reruns_alone_catches_it(tmp_path: Path) -> None:
    base, cont = _look1(tmp_path)
    # alone, the point runs at 0.6 of its time within the sweep: a level of its own, on both sides
    rb = write_repeats(tmp_path, "rb", _alone(range(21, 31), 0.6))
    rc = write_repeats(tmp_path, "rc", _alone(range(31, 41), 0.6, 1.3))
    code, markdown, result = run_compare(tmp_path, base + rb, cont + rc, "--looks", "2")
    assert code == 1 and result["look"] == 2 and result["rerun"] == []
    c = entry(result, VICTIM)
    assert c["verdict"] == REGRESSION and c["reason"].startswith("slower:")
    assert c["change_pct"] == pytest.approx(30.0, abs=8.0)
    assert [x["id"] for x in result["comparisons"] if x["verdict"] == REGRESSION] == [VICTIM]
    assert "Look 2 of 2" in markdown


def test_reruns_alone_are_their_own_block(tmp_path: Path) -> None:
    """A/A where the runs alone sit at 0.6 of the sweep's level, 10 on one side and 2 on the other: pooling
    them with the sweep's runs would show a change of about +20%; compared within blocks there is none."""
    base = write_repeats(tmp_path, "b", _sweep(range(1, 7), 0.02))
    cont = write_repeats(tmp_path, "c", _sweep(range(11, 17), 0.02))
    rb = write_repeats(tmp_path, "rb", _alone(range(21, 31), 0.6, noise=0.02))
    rc = write_repeats(tmp_path, "rc", _alone(range(31, 33), 0.6, noise=0.02))
    code, _, result = run_compare(tmp_path, base + rb, cont + rc, "--looks", "2")
    assert code == 0 and result["summary"][REGRESSION] == 0
    c = entry(result, VICTIM)
    assert abs(c["change_pct"]) < 4.0 and c["repeats_baseline"] == 16 and c["repeats_contender"] == 8
    # the overall rows count only runs of the sweep
    assert result["overall"][0]["repeats_baseline"] == 6


def test_each_look_spends_half_of_alpha(tmp_path: Path) -> None:
    base = write_repeats(tmp_path, "b", _sweep(range(1, 5), 0.05))
    cont = write_repeats(tmp_path, "c", _sweep(range(11, 15), 0.05))
    _, _, one = run_compare(tmp_path, base, cont)
    _, _, two = run_compare(tmp_path, base, cont, "--looks", "2")
    assert two["confidence_per_point"] > one["confidence_per_point"]
    for i in comparable_ids(fixture_doc(NAME)):
        a, b = entry(one, i), entry(two, i)
        assert b["ci_high_pct"] - b["ci_low_pct"] > a["ci_high_pct"] - a["ci_low_pct"]


def test_stratified_change_compares_within_blocks() -> None:
    p = rs.PointInput.of_blocks([([100.0, 102.0, 98.0], [130.0, 132.0, 128.0]), ([60.0] * 8, [78.0, 78.5])])
    change, w = rs.stratified_change(p)
    assert change == pytest.approx(0.2624, abs=0.003) and w == pytest.approx(1.5 + 1.6)
    pooled = rs.PointInput(p.baseline, p.contender)
    assert rs.stratified_change(pooled)[0] > 0.4  # mostly the levels, not the change
    e = rs.estimate(p, rs.Prior(0.0, 0.0, "none"), 40, rs.Settings())
    assert rs.decide(e, True, rs.Settings()) == REGRESSION


SWEEP = ["allreduce", "--backend", "cpu", "--gpus", "2,4", "--algo", "p2p-ring,p2p-tree", "-b", "64K", "-e",
         "16M", "-f", "4", "--max-time", "0.1"]


def test_narrowed_args_select_one_point() -> None:
    axes = {"algo": "p2p-tree", "bytes": 262144, "devices": [0, 1, 2, 3], "dtype": "fp32", "graph": 0,
            "in_place": False, "ranks": 4}
    assert narrowed_args(SWEEP, axes) == [
        "allreduce", "--backend", "cpu", "-f", "4", "--max-time", "0.1", "--gpus", "4", "--algo", "p2p-tree",
        "-d", "fp32", "-b", "262144", "-e", "262144", "--out-of-place"]
    with_devices = narrowed_args([*SWEEP, "--devices=0,0,1,1", "--inplace"], {**axes, "in_place": True,
                                                                               "devices": [0, 0, 1, 1]})
    assert with_devices[-3:] == ["--inplace", "--devices", "0,0,1,1"] and "--devices=0,0,1,1" not in with_devices
    with pytest.raises(AbError, match="allreduce"):
        narrowed_args(["train", "--backend", "cpu"], axes)


def test_rerun_with_nothing_listed_runs_nothing(tmp_path: Path) -> None:
    listing = write_doc(tmp_path, "look1.json", {"rerun": []})
    assert main(["rerun", "--from", str(listing), "--baseline-bin", "/nonexistent", "--contender-bin",
                 "/nonexistent", "--out-dir", str(tmp_path / "rr"), "-q", "--", *SWEEP]) == 0
    assert not (tmp_path / "rr").exists()
    bad = write_doc(tmp_path, "other.json", {"points": []})
    assert main(["rerun", "--from", str(bad), "--baseline-bin", "x", "--contender-bin", "x",
                 "--out-dir", str(tmp_path / "rr"), "-q", "--", *SWEEP]) == 2


def test_rerun_end_to_end_with_dpbench(tmp_path: Path) -> None:
    binary = os.environ.get("DPBENCH_BIN")
    if not binary or not Path(binary).is_file():
        pytest.skip("DPBENCH_BIN is not set: point it at the built dpbench binary")
    sweep = ["allreduce", "--backend", "cpu", "--gpus", "2", "--algo", "p2p-ring", "-b", "64K", "-e", "1M", "-f",
             "4", "--max-time", "0.02"]
    ab = tmp_path / "ab"
    assert main(["ab", "--baseline-bin", binary, "--contender-bin", binary, "--rounds", "3", "--out-dir", str(ab),
                 "--no-compare", "-q", "--", *sweep]) == 0
    first = json.loads((ab / "base-r1.json").read_text(encoding="utf-8"))
    listed = [{"id": p["id"], "kind": p["kind"], "axes": copy.deepcopy(p["axes"]), "change_pct": 9.0,
               "repeats_needed": None} for p in first["points"][1:3]]
    listing = write_doc(tmp_path, "look1.json", {"rerun": listed})
    rr = tmp_path / "rr"
    assert main(["rerun", "--from", str(listing), "--baseline-bin", binary, "--contender-bin", binary,
                 "--rounds", "2", "--out-dir", str(rr), "-q", "--", *sweep]) == 0
    for i, point in enumerate(listed, start=1):
        for stem in ("base", "cont"):
            for r in (1, 2):
                doc = json.loads((rr / f"p{i:02d}" / f"{stem}-r{r}.json").read_text(encoding="utf-8"))
                assert [p["id"] for p in doc["points"]] == [point["id"]]
    base = sorted(ab.glob("base-r*.json")) + sorted(rr.glob("p*/base-r*.json"))
    cont = sorted(ab.glob("cont-r*.json")) + sorted(rr.glob("p*/cont-r*.json"))
    code, _, result = run_compare(tmp_path, base, cont, "--looks", "2")
    assert code in (0, 1) and result["look"] == 2
    assert entry(result, listed[0]["id"])["repeats_baseline"] == 5


def test_nothing_is_rerun_once_ci_fails(tmp_path: Path) -> None:
    other = next(i for i in comparable_ids(fixture_doc(NAME)) if i != VICTIM)
    base, _ = _look1(tmp_path)
    docs = _sweep(range(11, 17), 0.1, 1.3, bursts=BURSTS)
    for doc in docs:  # another point clearly 2x slower: look 1 fails CI already
        for p in doc["points"]:
            if p["id"] == other:
                p["stats"]["time"]["median"] *= 2.0
                p["stats"]["time"]["samples"] = [x * 2.0 for x in p["stats"]["time"]["samples"]]
    cont = write_repeats(tmp_path, "c", docs)
    code, markdown, result = run_compare(tmp_path, base, cont, "--looks", "2")
    assert code == 1 and entry(result, other)["verdict"] == REGRESSION
    assert result["rerun"] == [] and "Rerun before deciding" not in markdown

"""The sequential gate: look 1 lists undecided points leaning slower, `rerun` measures them alone, look 2
judges everything with the reruns as their own block (fixtures written by dpbench; the end-to-end rerun
runs the built binary, DPBENCH_BIN)."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import fixture_doc, write_doc
from repeat_docs import comparable_ids, repeat_doc, target_id, write_repeats
from test_compare import entry, run_compare

from dpbench_report.ab import AbError
from dpbench_report.cli import main
from dpbench_report.compare_result import INCONCLUSIVE, REGRESSION
from dpbench_report.rerun import narrowed_args
from dpbench_report.second_look import (MAX_RERUN_ROUNDS, MIN_RERUN_ROUNDS, PLANNED_RERUN_ROUNDS, Stage, Weights,
                                        combine, critical_z, rerun_rounds)
from scipy.stats import t as student_t

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
    assert all(MIN_RERUN_ROUNDS <= e["rounds"] <= MAX_RERUN_ROUNDS for e in result["rerun"])
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
    assert "the first look and 10 reruns alone per side combined" in c["reason"]
    assert c["change_pct"] == pytest.approx(30.0, abs=8.0)
    assert c["look2"]["first_verdict"] == INCONCLUSIVE and c["look2"]["reruns_kept"] == [10, 10]
    assert c["look2"]["rerun_change_pct"] == pytest.approx(30.0, abs=5.0)
    assert [x["id"] for x in result["comparisons"] if x["verdict"] == REGRESSION] == [VICTIM]
    assert "Look 2 of 2" in markdown
    # the sides line names a few of the sweep's files and counts the reruns, on the page as in the markdown
    assert result["rerun_files"] == [10, 10]
    assert f"{Path(base[0]).name}, " in markdown and "(+2 more); 10 reruns of single points" in markdown
    page = tmp_path / "look2.html"
    assert run_compare(tmp_path, base + rb, cont + rc, "--looks", "2", "--html", str(page))[0] == 1
    assert "(+2 more); 10 reruns of single points" in page.read_text(encoding="utf-8")


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


def _stage(rng: np.random.Generator, change: float, n: int, sd: float = 0.2) -> Stage:
    """A stage's Student t estimate from n log repeats per side with this true change."""
    b, c = rng.normal(0.0, sd, n), rng.normal(change, sd, n)
    s = math.sqrt((b.var(ddof=1) + c.var(ddof=1)) / 2.0)
    return Stage(float(c.mean() - b.mean()), s * math.sqrt(2.0 / n), 2.0 * n - 2.0, s)


def test_combination_keeps_its_level_when_the_rerun_size_follows_the_first_look() -> None:
    """At a true change exactly at the threshold, a rerun size chosen from the first look's numbers to make a
    false regression likely (few reruns when look 1 leans far, many when it is near the edge) leaves the
    combined test at its level; pooling the two stages' repeats into one t test does not."""
    rng = np.random.default_rng(12)
    tau, level, trials = math.log1p(0.05), 0.1, 4000
    w = Weights.planned(6)
    crit = critical_z(level)
    combined = pooled = 0
    for _ in range(trials):
        first = _stage(rng, tau, 6)
        n2 = 3 if first.z(tau) > 1.0 else 60
        second = _stage(rng, tau, n2)
        combined += w.first * first.z(tau) + w.second * second.z(tau) > crit
        pool_change = (6 * first.log_change + n2 * second.log_change) / (6 + n2)
        pool_sd = math.sqrt((10 * first.sd ** 2 + (2 * n2 - 2) * second.sd ** 2) / (2 * n2 + 8))
        t = (pool_change - tau) / (pool_sd * math.sqrt(2.0 / (6 + n2)))
        pooled += t > float(student_t.isf(level / 2, 2 * n2 + 8))
    assert combined / trials < level / 2 * 1.2  # 0.05 at most, with Monte Carlo error
    assert pooled / trials > level / 2 * 1.3    # the adaptive size breaks the pooled test


def test_combined_interval_agrees_with_the_test() -> None:
    first, second = Stage(0.25, 0.08, 10.0, 0.15), Stage(0.2, 0.03, 58.0, 0.12)
    w = Weights.planned(6)
    assert w.first ** 2 == pytest.approx(6 / (6 + PLANNED_RERUN_ROUNDS)) and w.first ** 2 + w.second ** 2 == pytest.approx(1.0)
    both = combine(first, second, w, 0.001)
    assert first.log_change > both.log_change > second.log_change
    assert both.log_low < second.log_change < both.log_high
    score = w.first * first.z(both.log_low) + w.second * second.z(both.log_low)
    assert score == pytest.approx(both.z_crit, abs=1e-6)
    # the interval's lower end is above d exactly when the combined test rejects "the change is d"
    for d in (both.log_low - 0.01, both.log_low + 0.01):
        assert (w.first * first.z(d) + w.second * second.z(d) > both.z_crit) == (d < both.log_low)


def test_rerun_rounds_follow_the_noise_and_stay_bounded() -> None:
    tau, level, w = math.log1p(0.05), 0.05 / 160, Weights.planned(6)
    quiet = rerun_rounds(Stage(0.3, 0.12, 10.0, 0.2), tau, level, w, 0.0)
    noisy = rerun_rounds(Stage(0.3, 0.2, 10.0, 0.35), tau, level, w, 0.0)
    assert quiet is not None and noisy is not None and MIN_RERUN_ROUNDS <= quiet < noisy <= MAX_RERUN_ROUNDS
    with_bursts = rerun_rounds(Stage(0.3, 0.2, 10.0, 0.35), tau, level, w, 0.3)
    assert with_bursts is not None and with_bursts >= noisy
    assert rerun_rounds(Stage(0.04, 0.1, 10.0, 0.2), tau, level, w, 0.0) is None  # not beyond the threshold
    assert rerun_rounds(Stage(0.06, 0.2, 10.0, 0.5), tau, level, w, 0.0) is None  # hopeless within the cap


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
               "repeats_needed": None, "rounds": rounds} for p, rounds in zip(first["points"][1:3], (4, 2))]
    listing = write_doc(tmp_path, "look1.json", {"rerun": listed})
    rr = tmp_path / "rr"
    assert main(["rerun", "--from", str(listing), "--baseline-bin", binary, "--contender-bin", binary,
                 "--out-dir", str(rr), "-q", "--", *sweep]) == 0
    for i, point in enumerate(listed, start=1):  # each point for its own rounds
        for stem in ("base", "cont"):
            assert len(list((rr / f"p{i:02d}").glob(f"{stem}-r*.json"))) == point["rounds"]
            for r in range(1, point["rounds"] + 1):
                doc = json.loads((rr / f"p{i:02d}" / f"{stem}-r{r}.json").read_text(encoding="utf-8"))
                assert [p["id"] for p in doc["points"]] == [point["id"]]
    base = sorted(ab.glob("base-r*.json")) + sorted(rr.glob("p*/base-r*.json"))
    cont = sorted(ab.glob("cont-r*.json")) + sorted(rr.glob("p*/cont-r*.json"))
    code, _, result = run_compare(tmp_path, base, cont, "--looks", "2")
    assert code in (0, 1) and result["look"] == 2
    assert entry(result, listed[0]["id"])["repeats_baseline"] == 7
    # bursts go only while a minority of a side: at least 3 of 4 reruns a side are kept
    assert min(entry(result, listed[0]["id"])["look2"]["reruns_kept"]) >= 3
    # two reruns a side are too few for a second stage: the first look's verdict stands, with a note
    assert entry(result, listed[1]["id"])["look2"] is None and entry(result, listed[1]["id"])["notes"]
    assert main(["rerun", "--from", str(listing), "--baseline-bin", binary, "--contender-bin", binary,
                 "--rounds", "0", "--out-dir", str(tmp_path / "r0"), "-q", "--", *sweep]) == 2


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


def test_a_rerun_that_fails_in_the_contender_fails_ci(tmp_path: Path) -> None:
    base, cont = _look1(tmp_path)
    rb = write_repeats(tmp_path, "rb", _alone(range(21, 26), 0.6))
    docs = _alone(range(31, 36), 0.6)
    docs[2]["points"][0].update(status="failed", reason="wrong result at element 7")
    rc = write_repeats(tmp_path, "rc", docs)
    code, _, result = run_compare(tmp_path, base + rb, cont + rc, "--looks", "2")
    assert code == 1 and entry(result, VICTIM)["verdict"] == "newly failing"
    assert "wrong result at element 7" in entry(result, VICTIM)["reason"]


def test_reruns_without_the_sweep_on_one_side_are_refused(tmp_path: Path) -> None:
    base, _ = _look1(tmp_path)
    rb = write_repeats(tmp_path, "rb", _alone(range(21, 26), 0.6))
    rc = write_repeats(tmp_path, "rc", _alone(range(31, 36), 0.6))
    code, _, result = run_compare(tmp_path, base + rb, rc, "--looks", "2")
    assert code == 2 and result == {}

"""compare: every verdict on repeats made from real fixtures, and on real repeats written by dpbench."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import fixture_doc, fixture_path
from repeat_docs import comparable_ids, repeat_doc, side, target_id, with_in_file_repeats

from dpbench_report import load_results
from dpbench_report.cli import compare_main, main
from dpbench_report.compare import compare_files
from dpbench_report.compare_result import (
    IMPROVEMENT, INCONCLUSIVE, NEWLY_FAILING, NOT_COMPARED, REGRESSION, UNCHANGED,
)


def run_compare(tmp_path: Path, base: list[Path], cont: list[Path], *extra: str) -> tuple[int, str, dict[str, Any]]:
    md, js = tmp_path / "cmp.md", tmp_path / "cmp.json"
    args = ["compare", "--baseline", *map(str, base), "--contender", *map(str, cont),
            "--markdown", str(md), "--json", str(js), "-q", *extra]
    code = main(args)
    result = json.loads(js.read_text(encoding="utf-8")) if js.exists() else {}
    return code, md.read_text(encoding="utf-8") if md.exists() else "", result


def entry(result: dict[str, Any], point_id: str) -> dict[str, Any]:
    return next(c for c in result["comparisons"] if c["id"] == point_id)


@pytest.mark.parametrize("name", ["train_cpu", "allreduce_cpu"])
def test_aa_repeats_are_unchanged(name: str, tmp_path: Path) -> None:
    base = side(tmp_path, "a", name, range(1, 4))
    cont = side(tmp_path, "b", name, range(11, 14))
    code, markdown, result = run_compare(tmp_path, base, cont)
    assert code == 0
    assert result["summary"][REGRESSION] == 0 and result["summary"][IMPROVEMENT] == 0
    n = len(comparable_ids(fixture_doc(name)))
    assert result["summary"][UNCHANGED] + result["summary"][INCONCLUSIVE] == n
    assert result["summary"][UNCHANGED] >= 0.8 * n  # 1% noise, 3 repeats: most intervals fit inside ±5%
    assert all(c["repeats_baseline"] == 3 and c["repeats_contender"] == 3 for c in result["comparisons"]
               if c["verdict"] == UNCHANGED)
    assert "**PASS**" in markdown and "lies within ±5%" in markdown
    assert [c["verdict"] for c in result["overall"]] == [UNCHANGED]


@pytest.mark.parametrize("name", ["train_cpu", "allreduce_cpu"])
def test_planted_slowdown_is_a_regression_with_interval_and_reason(name: str, tmp_path: Path) -> None:
    victim = target_id(fixture_doc(name))
    base = side(tmp_path, "a", name, range(1, 4))
    cont = side(tmp_path, "b", name, range(11, 14), factors={victim: 1.3})
    code, markdown, result = run_compare(tmp_path, base, cont)
    assert code == 1
    assert [c["id"] for c in result["comparisons"] if c["verdict"] == REGRESSION] == [victim]
    c = entry(result, victim)
    assert c["change_pct"] == pytest.approx(30.0, abs=4.0)
    assert 5.0 < c["ci_low_pct"] < c["change_pct"] < c["ci_high_pct"]
    assert c["reason"].startswith("slower:") and "threshold" in c["reason"]
    assert "**FAIL: 1 failing CI**" in markdown and "**REGRESSION**" in markdown and victim in markdown
    assert result["exit_status"] == 1
    if name == "allreduce_cpu":
        busbw = {m["name"]: m for m in c["metrics"]}["busbw"]
        assert busbw["change_pct"] == pytest.approx(100 / 1.3 - 100, abs=3.0)


def test_improvement_passes(tmp_path: Path) -> None:
    victim = target_id(fixture_doc("train_cpu"))
    base = side(tmp_path, "a", "train_cpu", range(1, 4))
    cont = side(tmp_path, "b", "train_cpu", range(11, 14), factors={victim: 0.7})
    code, markdown, result = run_compare(tmp_path, base, cont)
    assert code == 0
    assert [c["id"] for c in result["comparisons"] if c["verdict"] == IMPROVEMENT] == [victim]
    assert entry(result, victim)["reason"].startswith("faster:")
    assert "improvement" in markdown


def test_noisy_point_is_inconclusive_and_says_how_many_repeats(tmp_path: Path) -> None:
    victim = target_id(fixture_doc("train_cpu"))
    noisy = {victim: 0.15}
    base = side(tmp_path, "a", "train_cpu", range(1, 4), noisy=noisy)
    cont = side(tmp_path, "b", "train_cpu", range(11, 14), noisy=noisy, factors={victim: 1.1})
    code, markdown, result = run_compare(tmp_path, base, cont)
    assert code == 0
    c = entry(result, victim)
    assert c["verdict"] == INCONCLUSIVE  # a 10% slowdown in 15% noise: never "unchanged"
    assert c["ci_low_pct"] < 5.0 < c["ci_high_pct"] or c["ci_low_pct"] < -5.0
    assert "straddles ±5%" in c["reason"] and "repeats per side" in c["reason"]
    assert c["repeats_needed"] is None or c["repeats_needed"] > 3
    assert "inconclusive" in markdown


def test_broad_slowdown_fails_the_overall_row(tmp_path: Path) -> None:
    base = side(tmp_path, "a", "allreduce_cpu", range(1, 4))
    cont = side(tmp_path, "b", "allreduce_cpu", range(11, 14), all_factor=1.25)
    code, markdown, result = run_compare(tmp_path, base, cont)
    assert code == 1
    assert result["overall"][0]["verdict"] == REGRESSION and result["overall"][0]["id"] == "overall/allreduce"
    assert "### Overall" in markdown and "overall regression" in markdown


def test_in_file_repeats_are_the_unit(tmp_path: Path, make_file: Callable[..., Path]) -> None:
    doc = fixture_doc("train_cpu")
    victim = target_id(doc)
    base = make_file("base.json", with_in_file_repeats(doc, lambda i, m: [m * 0.99, m, m * 1.01]))
    cont = make_file("cont.json", with_in_file_repeats(
        doc, lambda i, m: [x * (1.3 if i == victim else 1.0) for x in (m * 1.005, m * 0.995, m * 1.01)]))
    code, _, result = run_compare(tmp_path, [base], [cont])
    assert code == 1
    c = entry(result, victim)
    assert c["verdict"] == REGRESSION and c["repeats_baseline"] == 3 and c["repeats_contender"] == 3
    others = [x for x in result["comparisons"] if x["id"] != victim and x["verdict"] != NOT_COMPARED]
    assert others and all(x["verdict"] == UNCHANGED for x in others)


def test_single_repeat_is_conservative_and_says_so(tmp_path: Path) -> None:
    path = fixture_path("allreduce_cpu")
    code, markdown, result = run_compare(tmp_path, [path], [path])
    assert code == 0
    assert result["summary"][REGRESSION] == 0
    assert result["summary"][INCONCLUSIVE] == len(comparable_ids(fixture_doc("allreduce_cpu")))
    assert "single repeats" in result["noise_prior"]["source"] and "One repeat per side" in markdown
    assert result["overall"] == []  # the sweep's run-to-run noise is not seen at all


def test_real_repeats_written_by_dpbench_pass(tmp_path: Path) -> None:
    reps = [fixture_path(f"allreduce_repeat{i}") for i in (1, 2, 3)]
    code, _, result = run_compare(tmp_path, reps[:1], reps[1:])
    assert code == 0 and result["summary"][REGRESSION] == 0
    code, _, result = run_compare(tmp_path, reps[:2], reps[2:])
    assert code == 0 and result["summary"][REGRESSION] == 0


def test_two_positional_files_still_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(fixture_path("allreduce_cpu"))
    assert main(["compare", path, path]) == 0
    assert "dpbench compare" in capsys.readouterr().out
    assert compare_main([path, path, "-q"]) == 0


def test_point_failing_only_in_contender_fails_ci(tmp_path: Path, make_file: Callable[..., Path]) -> None:
    base_doc = repeat_doc("train_cpu", 1)
    cont_doc = repeat_doc("train_cpu", 2)
    victim = next(p for p in cont_doc["points"] if p["id"] == target_id(base_doc))
    victim.update(status="failed", reason="rank 1: all-reduce diverged")
    victim.pop("stats", None)
    code, markdown, result = run_compare(tmp_path, [make_file("b.json", base_doc)], [make_file("c.json", cont_doc)])
    assert code == 1
    c = entry(result, victim["id"])
    assert c["verdict"] == NEWLY_FAILING and c["contender_status"] == "failed"
    assert "all-reduce diverged" in markdown and "1 newly failing" in markdown
    for p in base_doc["points"]:
        if p["status"] != "ok":
            assert entry(result, p["id"])["verdict"] == NOT_COMPARED


def test_all_failed_contender_headline_counts_every_failure(tmp_path: Path, make_file: Callable[..., Path],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    base_doc = fixture_doc("allreduce_cpu")
    cont_doc = fixture_doc("allreduce_cpu")
    for p in cont_doc["points"]:
        p.update(status="failed", reason="device lost")
        p.pop("stats", None)
    n = len(comparable_ids(base_doc))
    code, markdown, result = run_compare(tmp_path, [make_file("b.json", base_doc)], [make_file("c.json", cont_doc)])
    assert code == 1
    assert f"**FAIL: {n} failing CI**" in markdown and f"{n} newly failing" in markdown
    assert result["summary"]["failing CI"] == n
    err = capsys.readouterr().err
    assert f"FAIL: {n} failing CI" in err


def _refused(tmp_path: Path, base: list[Path], cont: list[Path], capsys: pytest.CaptureFixture[str],
             *extra: str) -> str:
    code = main(["compare", "--baseline", *map(str, base), "--contender", *map(str, cont), "--no-print", *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dpbench_report: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_refuses_different_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = _refused(tmp_path, [fixture_path("allreduce_cpu")], [fixture_path("train_cpu")], capsys)
    assert "different commands" in line and "allreduce" in line and "train" in line


def test_refuses_nothing_in_common(tmp_path: Path, make_file: Callable[..., Path],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    doc = fixture_doc("allreduce_cpu")
    for i, p in enumerate(doc["points"]):
        p["id"] = f"other/{i}"
        p["axes"]["bytes"] = 3 + i
    line = _refused(tmp_path, [fixture_path("allreduce_cpu")], [make_file("c.json", doc)], capsys)
    assert "no point in common" in line


def test_refuses_empty_contender(tmp_path: Path, make_file: Callable[..., Path],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    doc = fixture_doc("allreduce_cpu")
    doc["points"] = []
    line = _refused(tmp_path, [fixture_path("allreduce_cpu")], [make_file("c.json", doc)], capsys)
    assert "contender has no points" in line


def test_refuses_missing_statistics(tmp_path: Path, make_file: Callable[..., Path],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    doc = fixture_doc("allreduce_cpu")
    victim = next(p for p in doc["points"] if p["status"] == "ok")
    victim["stats"].pop("time")
    line = _refused(tmp_path, [fixture_path("allreduce_cpu")], [make_file("c.json", doc)], capsys)
    assert "without statistics.time.median" in line and victim["id"] in line


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_refuses_nan_and_inf_medians(bad: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = fixture_doc("allreduce_cpu")
    victim = next(p for p in doc["points"] if p["status"] == "ok")
    victim["stats"]["time"]["median"] = bad
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc), encoding="utf-8")  # NaN / Infinity literals, as a broken writer would
    line = _refused(tmp_path, [fixture_path("allreduce_cpu")], [path], capsys)
    assert "not a positive finite number" in line and victim["id"] in line


def test_refuses_results_without_timing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = _refused(tmp_path, [fixture_path("p2p_cpu")], [fixture_path("p2p_cpu")], capsys)
    assert "no timing statistic" in line


@pytest.mark.parametrize("option", ["--markdown", "--json", "--out"])
def test_unwritable_output_is_one_clear_error(option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    path = fixture_path("allreduce_cpu")
    line = _refused(tmp_path, [path], [path], capsys, option, str(blocker / "sub" / "out.md"))
    assert "cannot write" in line and str(blocker) in line
    line = _refused(tmp_path, [path], [path], capsys, option, str(tmp_path))  # a directory
    assert "cannot write" in line


def test_bad_command_lines_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(fixture_path("allreduce_cpu"))
    assert main(["compare", path]) == 2
    assert "needs a baseline and a contender" in capsys.readouterr().err
    assert main(["compare", path, path, "--baseline", path, "--contender", path]) == 2
    assert main(["compare", "--baseline", path]) == 2
    assert main(["compare", path, path, "--threshold", "-1"]) == 2
    assert main(["compare", path, path, "--alpha", "2"]) == 2


def test_invalid_file_exits_2(make_file: Callable[..., Path], tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    doc = fixture_doc("train_cpu")
    doc["format_version"] = 99
    bad = make_file("bad.json", doc)
    assert main(["compare", str(fixture_path("train_cpu")), str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "/format_version" in err
    assert compare_main([str(fixture_path("train_cpu")), str(tmp_path / "absent.json")]) == 2


def test_differing_systems_warn_and_are_recorded(tmp_path: Path, make_file: Callable[..., Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    base = side(tmp_path, "a", "allreduce_cpu", range(1, 3))
    cont_doc = repeat_doc("allreduce_cpu", 7)
    cont_doc["system"]["host"]["hostname"] = "other-node"
    cont_doc["system"]["devices"][0]["name"] = "NVIDIA H100 80GB HBM3"
    code, markdown, result = run_compare(tmp_path, base, [make_file("c.json", cont_doc)])
    assert code == 0
    kinds = " | ".join(result["warnings"])
    assert "systems differ in host" in kinds and "other-node" in kinds and "systems differ in devices" in kinds
    assert "⚠" in markdown and "other-node" in markdown
    assert "systems differ in host" in capsys.readouterr().err


def test_api_matches_cli(tmp_path: Path) -> None:
    base = side(tmp_path, "a", "allreduce_cpu", range(1, 3))
    result = compare_files([load_results(p) for p in base], [load_results(p) for p in base])
    assert not result.regressions
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["alpha"] == 0.05 and doc["exit_status"] == 0


def test_single_run_burst_is_inconclusive_not_a_regression(tmp_path: Path, make_file: Callable[..., Path]) -> None:
    base_doc = repeat_doc("allreduce_cpu", 1)
    victim = target_id(base_doc)
    cont_doc = repeat_doc("allreduce_cpu", 2, factors={victim: 10.0})  # a burst, or a regression: one run can't tell
    code, markdown, result = run_compare(tmp_path, [make_file("b.json", base_doc)], [make_file("c.json", cont_doc)])
    assert code == 0
    c = entry(result, victim)
    assert c["verdict"] == INCONCLUSIVE and c["ci_low_pct"] > 5.0
    assert "one run per side cannot tell" in c["reason"] and c["repeats_needed"] >= 2


def _repeats(name: str, seeds: range, factors: dict[str, float] | None = None,
             bursts: dict[int, dict[str, float]] | None = None) -> list[dict[str, Any]]:
    docs = []
    for i, seed in enumerate(seeds):
        f = dict(factors or {})
        for point, extra in (bursts or {}).get(i, {}).items():
            f[point] = f.get(point, 1.0) * extra
        docs.append(repeat_doc(name, seed, factors=f))
    return docs


def test_bursts_are_set_aside_and_a_planted_slowdown_still_caught(tmp_path: Path) -> None:
    from repeat_docs import write_repeats
    doc = fixture_doc("allreduce_cpu")
    victim, others = target_id(doc), [i for i in comparable_ids(doc) if i != target_id(doc)]
    # interference: the victim 3x slower in one baseline run, 2.5x more in one contender run, and bursts
    # on other points on both sides
    base = write_repeats(tmp_path, "a", _repeats("allreduce_cpu", range(1, 5), bursts={
        1: {victim: 3.0, others[0]: 4.0}, 3: {others[1]: 2.0}}))
    cont = write_repeats(tmp_path, "b", _repeats("allreduce_cpu", range(11, 15), factors={victim: 1.3}, bursts={
        2: {victim: 2.5, others[0]: 5.0}, 0: {others[2]: 1.8}}))
    code, markdown, result = run_compare(tmp_path, base, cont)
    assert code == 1
    assert [c["id"] for c in result["comparisons"] if c["verdict"] == REGRESSION] == [victim]
    c = entry(result, victim)
    assert c["set_aside_baseline"] == 1 and c["set_aside_contender"] == 1
    assert c["change_pct"] == pytest.approx(30.0, abs=4.0)
    # the baseline and contender columns are the runs judged: their ratio agrees with the change, where the
    # geometric mean over every run (a 3x and a 2.5x burst in) would not
    assert 100.0 * (c["contender_center"] / c["baseline_center"] - 1.0) == pytest.approx(c["change_pct"], abs=4.0)
    assert c["reason"].startswith("slower:")
    assert "set aside 1 of 4 baseline runs and 1 of 4 contender runs" in c["reason"]
    assert entry(result, others[0])["set_aside_baseline"] == 1 and entry(result, others[0])["set_aside_contender"] == 1
    assert result["noise_prior"]["set_aside"] >= 5
    assert "set aside as interference" in markdown


def test_aa_with_bursts_passes(tmp_path: Path) -> None:
    from repeat_docs import write_repeats
    ids = comparable_ids(fixture_doc("allreduce_cpu"))
    bursts_b = {i % 4: {p: 2.0 + i} for i, p in enumerate(ids[::3])}
    bursts_c = {(i + 1) % 4: {p: 1.5 + i} for i, p in enumerate(ids[1::3])}
    base = write_repeats(tmp_path, "a", _repeats("allreduce_cpu", range(1, 5), bursts=bursts_b))
    cont = write_repeats(tmp_path, "b", _repeats("allreduce_cpu", range(11, 15), bursts=bursts_c))
    code, _, result = run_compare(tmp_path, base, cont)
    assert code == 0 and result["summary"][REGRESSION] == 0 and result["summary"][IMPROVEMENT] == 0
    assert result["noise_prior"]["set_aside"] == len(bursts_b) + len(bursts_c)
    # without setting bursts aside the same files leave those points inconclusive, not unchanged
    code, _, kept_all = run_compare(tmp_path, base, cont, "--burst", "0")
    assert code == 0 and kept_all["noise_prior"]["set_aside"] == 0
    assert kept_all["summary"][UNCHANGED] < result["summary"][UNCHANGED]


def test_noisy_points_form_their_own_class(tmp_path: Path) -> None:
    doc = fixture_doc("allreduce_cpu")
    ids = comparable_ids(doc)
    noisy = {i: 0.4 for i in ids[: len(ids) // 2]}
    base = side(tmp_path, "a", "allreduce_cpu", range(1, 5), noisy=noisy)
    cont = side(tmp_path, "b", "allreduce_cpu", range(11, 15), noisy=noisy)
    code, markdown, result = run_compare(tmp_path, base, cont, "--burst", "0")
    assert code == 0
    classes = {c["id"]: c["noise_class"] for c in result["comparisons"] if c["noise_class"]}
    assert sum(1 for i in ids if classes.get(i) == "noisy") >= len(noisy) - 2
    assert all(classes[i] == "quiet" for i in ids[len(ids) // 2:])
    prior = result["noise_prior"]
    assert prior["quiet_sd_pct"] < 3.0 < 20.0 < prior["noisy_sd_pct"]
    assert "noisy points" in markdown


def test_html_page_has_every_verdict_with_its_reason(tmp_path: Path) -> None:
    import html as html_mod
    victim = target_id(fixture_doc("allreduce_cpu"))
    base = side(tmp_path, "a", "allreduce_cpu", range(1, 4))
    cont = side(tmp_path, "b", "allreduce_cpu", range(11, 14), factors={victim: 1.3})
    page = tmp_path / "cmp.html"
    code, _, result = run_compare(tmp_path, base, cont, "--html", str(page))
    assert code == 1
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "FAIL: 1 failing CI" in text
    for c in result["comparisons"] + result["overall"]:
        assert c["reason"] and html_mod.escape(c["reason"]) in text


def test_overall_row_leaves_bursts_out_of_each_run(tmp_path: Path) -> None:
    from repeat_docs import write_repeats
    ids = comparable_ids(fixture_doc("allreduce_cpu"))
    # a broad 12% slowdown, and one run per side where a third of the points were hit by interference
    burst_b = {0: {p: 3.0 for p in ids[::3]}}
    burst_c = {2: {p: 4.0 for p in ids[1::3]}}
    base = write_repeats(tmp_path, "a", _repeats("allreduce_cpu", range(1, 5), bursts=burst_b))
    cont = write_repeats(tmp_path, "b", _repeats("allreduce_cpu", range(11, 15),
                                                 factors={p: 1.12 for p in ids}, bursts=burst_c))
    code, _, result = run_compare(tmp_path, base, cont)
    row = result["overall"][0]
    assert "bursts set aside" in row["statistic"]
    assert row["change_pct"] == pytest.approx(12.0, abs=2.0)  # the bursts do not move the sweep's level
    assert row["verdict"] == REGRESSION and code == 1

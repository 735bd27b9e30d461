"""compare: identical runs pass, a planted 10% regression is caught, noise is not, and so on."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from conftest import fixture_doc, fixture_path

from dpbench_report import load_results
from dpbench_report.cli import compare_main, main
from dpbench_report.compare import (
    IMPROVEMENT, NEWLY_FAILING, NOT_COMPARED, PRIMARY_STATISTIC, REGRESSION, SLOWER_NS, UNCHANGED, compare_files,
    samples_needed, verdict,
)

SAMPLES = 24


def _set_samples(stats: dict[str, Any], samples: np.ndarray) -> None:
    """Rewrite a stats block from its samples, as dpbench computes it."""
    n = len(samples)
    mean, sd = float(samples.mean()), float(samples.std(ddof=1))
    half = 1.96 * sd / math.sqrt(n)
    stats.update(count=n, median=float(np.median(samples)), mean=mean, min=float(samples.min()),
                 max=float(samples.max()), stddev=sd, p10=float(np.percentile(samples, 10)),
                 p90=float(np.percentile(samples, 90)), ci95_low=mean - half, ci95_high=mean + half,
                 rel_stderr=sd / math.sqrt(n) / mean, samples=[float(x) for x in samples])


def _comparable(point: dict[str, Any]) -> bool:
    primary = PRIMARY_STATISTIC.get(point["kind"])
    return point["status"] == "ok" and primary is not None and primary[0] in (point.get("stats") or {})


def baseline_doc(name: str, seed: int = 1) -> dict[str, Any]:
    """The fixture with SAMPLES samples (1% noise around each recorded median) for every primary statistic."""
    doc = fixture_doc(name)
    rng = np.random.default_rng(seed)
    for point in doc["points"]:
        if _comparable(point):
            stats = point["stats"][PRIMARY_STATISTIC[point["kind"]][0]]
            _set_samples(stats, stats["median"] * (1 + rng.normal(0.0, 0.01, SAMPLES)))
    return doc


def scaled(doc: dict[str, Any], point_id: str, factor: float) -> dict[str, Any]:
    """Copy of doc with one point's primary samples and stats multiplied by factor (bandwidths divided)."""
    out = json.loads(json.dumps(doc))
    point = next(p for p in out["points"] if p["id"] == point_id)
    stats = point["stats"][PRIMARY_STATISTIC[point["kind"]][0]]
    _set_samples(stats, np.asarray(stats["samples"]) * factor)
    for name in ("busbw", "algbw", "samples_per_s"):
        metric = (point.get("metrics") or {}).get(name)
        if metric and metric.get("value") is not None:
            metric["value"] /= factor
    return out


def reshuffled(doc: dict[str, Any], seed: int = 2, spread: float = 0.005) -> dict[str, Any]:
    """Copy of doc whose samples are reordered and perturbed by at most +-spread."""
    out = json.loads(json.dumps(doc))
    rng = np.random.default_rng(seed)
    for point in out["points"]:
        if _comparable(point):
            stats = point["stats"][PRIMARY_STATISTIC[point["kind"]][0]]
            samples = np.asarray(stats["samples"]) * (1 + rng.uniform(-spread, spread, len(stats["samples"])))
            rng.shuffle(samples)
            _set_samples(stats, samples)
    return out


def target_id(doc: dict[str, Any]) -> str:
    """A comparable point to plant changes in: prefer one with more than one rank."""
    candidates = [p for p in doc["points"] if _comparable(p)]
    assert candidates, "fixture has no comparable point"
    return next((p["id"] for p in candidates if (p["axes"].get("ranks") or 1) > 1), candidates[0]["id"])


def run_compare(base: Path, cont: Path, tmp_path: Path, *extra: str) -> tuple[int, str, dict[str, Any]]:
    md, js = tmp_path / "cmp.md", tmp_path / "cmp.json"
    code = main(["compare", str(base), str(cont), "--markdown", str(md), "--json", str(js), "-q", *extra])
    result = json.loads(js.read_text(encoding="utf-8")) if js.exists() else {}
    return code, md.read_text(encoding="utf-8") if md.exists() else "", result


@pytest.mark.parametrize("name", ["train_cpu", "allreduce_cpu"])
def test_identical_inputs_pass(name: str, make_file: Callable[..., Path], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    path = make_file("base.json", baseline_doc(name))
    code, markdown, result = run_compare(path, path, tmp_path)
    assert code == 0
    assert result["summary"][REGRESSION] == 0 and result["summary"][IMPROVEMENT] == 0
    ok_points = [p for p in fixture_doc(name)["points"] if _comparable(p)]
    assert result["summary"][UNCHANGED] == len(ok_points)
    assert "| verdict | point |" in markdown
    assert markdown in capsys.readouterr().out  # the table is printed too


@pytest.mark.parametrize("name", ["train_cpu", "allreduce_cpu"])
def test_planted_ten_percent_regression_is_caught(name: str, make_file: Callable[..., Path], tmp_path: Path) -> None:
    base = baseline_doc(name)
    victim = target_id(base)
    code, markdown, result = run_compare(make_file("base.json", base),
                                         make_file("cont.json", scaled(reshuffled(base), victim, 1.10)), tmp_path)
    assert code == 1
    regressions = [c for c in result["comparisons"] if c["verdict"] == REGRESSION]
    assert [c["id"] for c in regressions] == [victim]
    assert regressions[0]["change_pct"] == pytest.approx(10.0, abs=1.0)
    assert regressions[0]["p_value"] < 0.05
    assert victim in markdown and "REGRESSION" in markdown
    if name == "allreduce_cpu":
        busbw = {m["name"]: m for m in regressions[0]["metrics"]}["busbw"]
        assert busbw["change_pct"] == pytest.approx(100 / 1.1 - 100, abs=0.5)


def test_noise_is_not_flagged(make_file: Callable[..., Path], tmp_path: Path) -> None:
    base = baseline_doc("train_cpu")
    code, _, result = run_compare(make_file("base.json", base), make_file("cont.json", reshuffled(base)), tmp_path)
    assert code == 0
    assert not [c for c in result["comparisons"] if c["verdict"] in (REGRESSION, IMPROVEMENT)]


def test_improvement_is_reported_and_passes(make_file: Callable[..., Path], tmp_path: Path) -> None:
    base = baseline_doc("train_cpu")
    victim = target_id(base)
    code, markdown, result = run_compare(make_file("base.json", base),
                                         make_file("cont.json", scaled(base, victim, 0.90)), tmp_path)
    assert code == 0
    assert [c["id"] for c in result["comparisons"] if c["verdict"] == IMPROVEMENT] == [victim]
    assert "improvement" in markdown


def test_threshold_and_alpha_options(make_file: Callable[..., Path], tmp_path: Path) -> None:
    base = baseline_doc("train_cpu")
    victim = target_id(base)
    base_path, cont_path = make_file("base.json", base), make_file("cont.json", scaled(base, victim, 1.10))
    code, _, result = run_compare(base_path, cont_path, tmp_path, "--threshold", "15")
    assert code == 0 and result["threshold_pct"] == 15
    code, _, _ = run_compare(base_path, cont_path, tmp_path, "--alpha", "1e-30")
    assert code == 0  # significant at no level that strict: slower, not a regression


def test_missing_extra_and_renamed_points_are_listed(make_file: Callable[..., Path], tmp_path: Path) -> None:
    base = baseline_doc("train_cpu")
    cont = json.loads(json.dumps(base))
    comparable = [p for p in cont["points"] if _comparable(p)]
    dropped, renamed, template = comparable[0], comparable[1], comparable[2]
    cont["points"].remove(dropped)
    renamed["id"] = renamed["id"] + "/renamed"
    extra = json.loads(json.dumps(template))
    extra["id"] = "train/extra-point"
    extra["axes"]["ranks"] = 64
    cont["points"].append(extra)
    code, markdown, result = run_compare(make_file("base.json", base), make_file("cont.json", cont), tmp_path)
    assert code == 0
    assert [p["id"] for p in result["only_in_baseline"]] == [dropped["id"]]
    assert [p["id"] for p in result["only_in_contender"]] == ["train/extra-point"]
    by_axes = [c for c in result["comparisons"] if c["matched_by"] == "axes"]
    assert [(c["id"], c["contender_id"]) for c in by_axes] == [(renamed["id"][: -len("/renamed")], renamed["id"])]
    assert "Only in baseline" in markdown and "Only in contender" in markdown
    assert dropped["id"] in markdown and "train/extra-point" in markdown


def test_point_failing_only_in_contender_fails_ci(make_file: Callable[..., Path], tmp_path: Path) -> None:
    base = baseline_doc("train_cpu")
    cont = json.loads(json.dumps(base))
    victim = next(p for p in cont["points"] if p["id"] == target_id(base))
    victim.update(status="failed", reason="rank 1: all-reduce diverged")
    victim.pop("stats", None)
    code, markdown, result = run_compare(make_file("base.json", base), make_file("cont.json", cont), tmp_path)
    assert code == 1
    entry = next(c for c in result["comparisons"] if c["id"] == victim["id"])
    assert entry["verdict"] == NEWLY_FAILING and entry["contender_status"] == "failed"
    assert "all-reduce diverged" in markdown
    skipped_in_fixture = [p for p in base["points"] if p["status"] != "ok"]
    for p in skipped_in_fixture:
        assert next(c for c in result["comparisons"] if c["id"] == p["id"])["verdict"] == NOT_COMPARED


def test_too_few_samples_warns_and_never_flags(make_file: Callable[..., Path], tmp_path: Path) -> None:
    base = baseline_doc("train_cpu")
    for p in base["points"]:
        if _comparable(p):
            stats = p["stats"]["step"]
            _set_samples(stats, np.asarray(stats["samples"][:3]))
    victim = target_id(base)
    code, markdown, result = run_compare(make_file("base.json", base),
                                         make_file("cont.json", scaled(base, victim, 1.10)), tmp_path)
    assert code == 0
    entry = next(c for c in result["comparisons"] if c["id"] == victim)
    assert entry["verdict"] == SLOWER_NS
    assert any("too few samples" in note for note in entry["notes"])
    assert "Warnings" in markdown


def test_bad_input_exits_2(make_file: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = fixture_doc("train_cpu")
    doc["format_version"] = 99
    bad = make_file("bad.json", doc)
    assert main(["compare", str(fixture_path("train_cpu")), str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "/format_version" in err
    assert compare_main([str(fixture_path("train_cpu")), str(tmp_path / "absent.json")]) == 2


def test_console_entry_point_compares(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(fixture_path("allreduce_cpu"))
    assert compare_main([path, path]) == 0
    assert "dpbench compare" in capsys.readouterr().out


def test_verdict_rules() -> None:
    assert samples_needed(0.05) == 4  # 2 / C(8, 4) = 0.029 < 0.05 <= 2 / C(6, 3)
    assert verdict(10.0, 0.001, True, 5.0, 0.05) == REGRESSION
    assert verdict(10.0, 0.2, True, 5.0, 0.05) == SLOWER_NS
    assert verdict(-10.0, 0.001, True, 5.0, 0.05) == IMPROVEMENT
    assert verdict(-10.0, 0.001, False, 5.0, 0.05) == REGRESSION  # higher is better: a drop is worse
    assert verdict(2.0, 0.001, True, 5.0, 0.05) == UNCHANGED


def test_api_matches_cli(tmp_path: Path, make_file: Callable[..., Path]) -> None:
    base = baseline_doc("allreduce_cpu")
    result = compare_files(load_results(make_file("b.json", base)), load_results(make_file("c.json", base)))
    assert not result.regressions
    assert json.loads(json.dumps(result.to_json()))["alpha"] == 0.05

"""Cost-model fit and DDP step prediction: exact recovery on model-generated data, hold-out scoring."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import fixture_doc, fixture_path
from dpbench_report.load import ResultsFile, load_results
from dpbench_report.model_costs import steps, wire_bytes
from dpbench_report.model_fit import (
    ArPoint, Fit, allreduce_points, fit_all, fit_pooled, parse_holdout, score, split,
)
from dpbench_report.model_predict import StepShape, modelled_step, predict_train

ALPHA_US, BETA_GBPS = 7.5, 12.0


def synthetic_file(alpha: float = ALPHA_US, beta: float = BETA_GBPS) -> ResultsFile:
    """The allreduce fixture with every median replaced by the model's own time (exact data)."""
    doc = fixture_doc("allreduce_cpu")
    for p in doc["points"]:
        ax = p["axes"]
        p["stats"]["time"]["median"] = (steps(ax["algo"], ax["ranks"]) * alpha
                                        + wire_bytes(ax["algo"], ax["ranks"], ax["bytes"], ax["in_place"]) / (beta * 1e3))
    return ResultsFile(Path("synthetic.json"), doc)


def test_textbook_counts() -> None:
    assert steps("p2p-ring", 4) == 6 and wire_bytes("p2p-ring", 4, 1000, False) == 1500
    assert steps("nccl-tree", 8) == 6 and wire_bytes("p2p-tree", 8, 1000, True) == 1000
    assert steps("p2p-direct", 4) == 2 and wire_bytes("p2p-direct", 4, 1000, True) == 1500
    assert steps("nccl-auto", 2) == 2  # fitted as ring
    assert steps("p2p-ring", 1) == 1 and wire_bytes("p2p-ring", 1, 1000, False) == 1000
    assert wire_bytes("p2p-ring", 1, 1000, True) == 0
    with pytest.raises(ValueError, match="unknown all-reduce algorithm"):
        steps("magic", 4)


def test_fit_recovers_alpha_beta_exactly() -> None:
    points = allreduce_points([synthetic_file()])
    assert points
    for key, fit in fit_all(points).items():
        assert fit.alpha_us == pytest.approx(ALPHA_US, rel=1e-9), key
        assert fit.beta_gbps == pytest.approx(BETA_GBPS, rel=1e-9), key
        assert fit.r2 == pytest.approx(1.0, abs=1e-12) and fit.rel_resid_max < 1e-9
    for fit in fit_pooled(points).values():
        assert fit.alpha_us == pytest.approx(ALPHA_US, rel=1e-9)
        assert fit.beta_gbps == pytest.approx(BETA_GBPS, rel=1e-9)


def test_pooled_fit_predicts_unseen_rank_count_exactly() -> None:
    points = allreduce_points([synthetic_file()])
    fit_set, held = split(points, ("ranks", frozenset({1, 2})))
    assert {p.ranks for p in held} == {4}
    s = score(held, {}, fit_pooled(fit_set))
    assert s["points"] == len(held) and s["abs_rel_error_max"] < 1e-9


def _pt(size: int, t: float) -> ArPoint:
    return ArPoint("p2p-ring", 2, size, False, "fp32", t, "x.json")


def test_holdout_split_and_score_by_hand() -> None:
    pts = [_pt(1000, 10.0), _pt(2000, 10.0), _pt(4000, 10.0), _pt(8000, 10.0)]
    fit_set, held = split(pts, ("even", frozenset()))
    assert [p.size for p in fit_set] == [1000, 4000] and [p.size for p in held] == [2000, 8000]
    odd_fit, odd_held = split(pts, ("odd", frozenset()))
    assert [p.size for p in odd_fit] == [2000, 8000] and [p.size for p in odd_held] == [1000, 4000]
    # alpha 2 us/step (2 ranks: 2 steps -> 4 us), 1/beta 0.001 us/B (wire bytes = S): T = 4 + S/1000
    fit = Fit("p2p-ring", (2,), 2.0, 0.001, 0, 1.0, 0.0, 0.0)
    s = score(held, {("p2p-ring", 2): fit}, {})
    errs = [abs(r["rel_error"]) for r in s["rows"]]
    assert errs == pytest.approx([abs(6.0 - 10) / 10, abs(12.0 - 10) / 10])  # 2000 -> 6 us, 8000 -> 12 us
    assert s["abs_rel_error_median"] == pytest.approx(0.3) and s["abs_rel_error_max"] == pytest.approx(0.4)
    assert all(r["source"] == "model" for r in s["rows"])


@pytest.mark.parametrize("text", ["evens", "ranks=", "ranks=a", ""])
def test_bad_holdout(text: str) -> None:
    if not text:
        assert parse_holdout(text) is None
        return
    with pytest.raises(ValueError, match="--holdout"):
        parse_holdout(text)


def test_modelled_step_overlap_by_hand() -> None:
    # forward 1, backward 10, optimizer 2 ms; buckets ready at 30% and 100% of the backward.
    shape = StepShape(1.0, 10.0, 2.0, (100, 200), (0.3, 1.0))
    # bucket 0: 3 -> 5 ms; bucket 1: max(10, 5) -> 14 ms; exposed 4 ms
    step, exposed = modelled_step(shape, [2000.0, 4000.0])
    assert (step, exposed) == pytest.approx((1 + 14 + 2, 4.0))
    # long first bucket delays the second: 3 -> 11, then 11 -> 12; exposed 2
    assert modelled_step(shape, [8000.0, 1000.0]) == pytest.approx((1 + 12 + 2, 2.0))
    # all hidden
    assert modelled_step(shape, [100.0, 0.0]) == pytest.approx((13.0, 0.0))


def test_train_prediction_on_fixture_is_labelled_model() -> None:
    ar = load_results(fixture_path("allreduce_cpu"))
    train = load_results(fixture_path("train_cpu"))
    pts = allreduce_points([ar])
    rows = predict_train([train], fit_all(pts), fit_pooled(pts))
    fitted = {p.algo for p in pts}
    ok = [p for p in train.points if p["status"] == "ok" and p["axes"]["algo"] in fitted]
    assert ok and len(rows) == len(ok)  # a train algorithm the fit never saw is not predicted
    for r in rows:
        assert r["source"] == "model" and r["model"]["source"] == "model" and r["measured"]["source"] == "measured"
        assert math.isfinite(r["model"]["step_ms"]) and r["model"]["step_ms"] > 0
        assert r["residual_ms"] == pytest.approx(r["measured"]["step_ms"] - r["model"]["step_ms"])
        assert isinstance(r["anomaly"], bool)
        if r["ranks"] == 1:
            assert r["model"]["scaling_efficiency"] == pytest.approx(1.0)


def test_anomaly_flag_follows_the_fit_error_and_step_noise() -> None:
    """A step whose exposed communication the model cannot account for is an anomaly; a matching one is not."""
    from dpbench_report.load import load_results as load
    train = load(fixture_path("train_cpu"))
    pts = allreduce_points([synthetic_file()])
    fits, pooled = fit_all(pts), fit_pooled(pts)  # exact fits: allowed error = step noise only
    doc = fixture_doc("train_cpu")
    p = next(q for q in doc["points"] if q["axes"]["ranks"] == 2 and q["axes"]["algo"] == "p2p-ring")
    st = p["stats"]["step"]
    st["ci95_low"] = st["ci95_high"] = st["median"]  # no measurement noise
    p["stats"]["exposed_comm"]["median"] = 0.0
    quiet = ResultsFile(Path("t.json"), {**doc, "points": [p]})
    row = predict_train([quiet], fits, pooled)[0]
    # the model adds its own exposed communication on top of the measured compute: residual <= 0 and tiny
    assert row["allowed_ms"] == pytest.approx(0.0) and row["residual_ms"] <= 0
    st["median"] += 50.0  # 50 ms of waiting for communication that the model cannot explain
    p["stats"]["exposed_comm"]["median"] = 50.0
    st["ci95_low"] = st["ci95_high"] = st["median"]
    row = predict_train([ResultsFile(Path("t.json"), {**doc, "points": [p]})], fits, pooled)[0]
    assert row["anomaly"] and row["residual_ms"] > 49
    assert train.points  # the fixture itself loads and validates


def test_fit_uses_the_schedules_own_counts_where_the_record_has_them() -> None:
    """p2p records carry count_schedule's figures (chunked schedules send many more messages than the
    textbook's 2(n-1) steps); data generated from those counts is recovered exactly only through them."""
    doc = fixture_doc("allreduce_cpu")
    counted = 0
    for p in doc["points"]:
        ax = p["axes"]
        # Pipelined: one message per 64 KiB chunk per step, as the real builders send.
        messages = steps(ax["algo"], ax["ranks"]) * (1 + ax["bytes"] // 65536)
        wire = wire_bytes(ax["algo"], ax["ranks"], ax["bytes"], ax["in_place"])
        p.setdefault("extra", {})["schedule"] = {"messages_per_rank": int(messages), "wire_bytes_per_rank": int(wire),
                                                 "source": "count_schedule"}
        p["stats"]["time"]["median"] = int(messages) * ALPHA_US + int(wire) / (BETA_GBPS * 1e3)
        counted += 1
    points = allreduce_points([ResultsFile(Path("counted.json"), doc)])
    assert counted and all(p.counted is not None for p in points)
    for key, fit in fit_all(points).items():
        assert fit.alpha_us == pytest.approx(ALPHA_US, rel=1e-6), key
        assert fit.beta_gbps == pytest.approx(BETA_GBPS, rel=1e-6), key
    # Without the counts (textbook steps and bytes) the same data does not fit exactly.
    textbook = [ArPoint(p.algo, p.ranks, p.size, p.in_place, p.dtype, p.time_us, p.source_file) for p in points]
    assert max(f.rel_resid_max for f in fit_all(textbook).values()) > 1e-3

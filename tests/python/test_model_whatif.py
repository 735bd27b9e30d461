"""What-if formulas against hand-computed values."""

from __future__ import annotations

import pytest

from dpbench_report.model_predict import StepShape
from dpbench_report.model_whatif import Link, allreduce_us, parse_link, whatif

S = 100e6  # bytes
INTRA, INTER = Link(100.0, 2.0), Link(25.0, 10.0)  # GB/s, us


def test_ring_single_node() -> None:
    # 8 GPUs: 14 steps * 2 us + 2*7/8 * 1e8 B / (100e3 B/us) = 28 + 1750
    assert allreduce_us("ring", 8, 8, S, INTRA, None) == pytest.approx(28 + 1750)


def test_ring_and_tree_across_nodes_use_the_slowest_link() -> None:
    # 16 GPUs, 2 nodes: 30 steps * 10 us + 2*15/16 * 1e8 / 25e3 = 300 + 7500
    assert allreduce_us("ring", 16, 8, S, INTRA, INTER) == pytest.approx(300 + 7500)
    # tree: 2*log2(16) = 8 steps * 10 us + 1e8 / 25e3 = 80 + 4000
    assert allreduce_us("tree", 16, 8, S, INTRA, INTER) == pytest.approx(80 + 4000)


def test_hierarchical() -> None:
    # 64 GPUs, 8 per node, 8 nodes. intra RS+AG: 2*7*2 us + 2*7/8*1e8/1e5 = 28 + 1750
    # inter ring over 8 nodes on S/8: 2*7*10 + 2*7/8 * 1.25e7 / 25e3 = 140 + 875
    assert allreduce_us("hierarchical", 64, 8, S, INTRA, INTER) == pytest.approx(28 + 1750 + 140 + 875)
    # one node: hierarchical is the intra ring
    assert allreduce_us("hierarchical", 8, 8, S, INTRA, None) == pytest.approx(allreduce_us("ring", 8, 8, S, INTRA, None))


def test_needs_inter_across_nodes_and_bad_input() -> None:
    with pytest.raises(ValueError, match="--inter"):
        allreduce_us("ring", 16, 8, S, INTRA, None)
    with pytest.raises(ValueError, match="unknown what-if algorithm"):
        whatif([8], ["bogus"], [1000], 8, INTRA, None)
    for bad in ("300", "a,b", "0,1", "300,-1", "1,2,3"):
        with pytest.raises(ValueError, match="--intra"):
            parse_link(bad, "--intra")
    assert parse_link("300,2.5", "--intra") == Link(300.0, 2.5)


def test_whatif_rows_are_modelled_and_efficiency_by_hand() -> None:
    shape = StepShape(1.0, 10.0, 2.0, (int(S),), (1.0,))
    wi = whatif([8, 16], ["ring", "hierarchical"], [int(S)], 8, INTRA, INTER, [("p", shape)])
    assert wi["source"] == "model" and len(wi["allreduce"]) == 4 and len(wi["train"]) == 4
    assert all(r["source"] == "model" for r in wi["allreduce"] + wi["train"])
    ring8 = next(r for r in wi["train"] if r["algo"] == "ring" and r["gpus"] == 8)
    # compute-only step 13 ms; ring at 8 GPUs adds 1.778 ms after the backward
    assert ring8["step_ms"] == pytest.approx(13 + 1.778)
    assert ring8["scaling_efficiency"] == pytest.approx(13 / (13 + 1.778))


def test_link_time_units() -> None:
    # 1 GB/s moves 1000 bytes per us
    assert Link(1.0, 0.0).us(1000) == pytest.approx(1.0)
    assert allreduce_us("ring", 1, 8, S, INTRA, None) == INTRA.lat_us

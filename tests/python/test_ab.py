"""ab: alternating rounds of two binaries (here a stand-in for dpbench that writes a real fixture), then compare."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest
from conftest import fixture_path

from dpbench_report.ab import Arm, round_order
from dpbench_report.cli import main

FAKE = """#!{python}
# Stand-in for dpbench: writes the fixture to --out with 1% noise per run; '--slow' makes every time x1.3;
# '--victim-noise S' gives the first point S of noise per run, '--victim-slow F' makes it xF; a sweep
# narrowed to one point (-b SIZE -e SIZE --gpus N --algo A -d D) writes that point alone, as dpbench does.
import json, os, random, sys
argv = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write({name!r} + " " + " ".join(argv) + "\\n")
if "--bad-option" in argv:
    print("dpbench: unknown option --bad-option", file=sys.stderr)
    sys.exit(2)
def opt(name, default=None):
    return argv[argv.index(name) + 1] if name in argv else default
out = opt("--out")
doc = json.load(open({fixture!r}))
victim = doc["points"][0]["id"]
if opt("-b") is not None:
    want = dict(bytes=int(opt("-b")), ranks=int(opt("--gpus")), algo=opt("--algo"), dtype=opt("-d"),
                in_place=int("--inplace" in argv))
    doc["points"] = [p for p in doc["points"] if all(p["axes"][k] == v for k, v in want.items())]
rng = random.Random(os.path.basename(os.path.dirname(out)) + "/" + os.path.basename(out))
factor = 1.3 if "--slow" in argv else 1.0
for p in doc["points"]:
    s = (p.get("stats") or {{}}).get("time")
    if p["status"] == "ok" and s:
        f = factor * (1 + rng.gauss(0, 0.01))
        if p["id"] == victim:
            f *= float(opt("--victim-slow", 1.0)) * (1 + abs(rng.gauss(0, float(opt("--victim-noise", 0.0)))))
        for k in ("median", "mean", "min", "max", "p10", "p90", "ci95_low", "ci95_high", "stddev"):
            if k in s:
                s[k] *= f
        s["samples"] = [x * f for x in s["samples"]]
json.dump(doc, open(out, "w"))
sys.exit(1 if any(p["status"] != "ok" for p in doc["points"]) else 0)
"""


def fake_binary(tmp_path: Path, name: str, log: Path) -> Path:
    path = tmp_path / name
    path.write_text(FAKE.format(python=sys.executable, log=str(log), name=name,
                                fixture=str(fixture_path("allreduce_cpu"))), encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def ab(tmp_path: Path, *extra: str, rounds: int = 3) -> tuple[int, Path, list[str]]:
    log = tmp_path / "calls.log"
    base, cont = fake_binary(tmp_path, "base-bin", log), fake_binary(tmp_path, "cont-bin", log)
    out = tmp_path / "ab"
    code = main(["ab", "--baseline-bin", str(base), "--contender-bin", str(cont), "--rounds", str(rounds),
                 "--out-dir", str(out), "-q", "--no-print", *extra, "--", "allreduce", "--backend", "cpu"])
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return code, out, calls


def test_rounds_alternate_abba() -> None:
    a, b = Arm("baseline", "a", ()), Arm("contender", "b", ())
    assert [tuple(x.name for x in round_order(r, a, b)) for r in (1, 2, 3)] == [
        ("baseline", "contender"), ("contender", "baseline"), ("baseline", "contender")]


def test_aa_passes_and_writes_one_file_per_round(tmp_path: Path) -> None:
    code, out, calls = ab(tmp_path)
    assert code == 0
    assert [c.split()[0] for c in calls] == ["base-bin", "cont-bin", "cont-bin", "base-bin", "base-bin", "cont-bin"]
    assert all("allreduce --backend cpu --out" in c for c in calls)
    for side in ("base", "cont"):  # equal lengths: argv size alone can shift timings
        assert sorted(p.name for p in out.glob(f"{side}-r*.json")) == [f"{side}-r{r}.json" for r in (1, 2, 3)]
    result = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert len(result["baseline"]) == 3 and result["summary"]["regression"] == 0
    assert (out / "compare.md").read_text(encoding="utf-8").startswith("## dpbench compare")


def test_contender_slowdown_exits_1(tmp_path: Path) -> None:
    code, out, calls = ab(tmp_path, "--contender-args=--slow")
    assert code == 1
    assert all(("--slow" in c) == c.startswith("cont-bin") for c in calls)
    result = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert result["overall"][0]["verdict"] == "regression" and result["summary"]["regression"] > 0


def test_no_compare_only_runs(tmp_path: Path) -> None:
    code, out, calls = ab(tmp_path, "--no-compare", rounds=1)
    assert code == 0 and len(calls) == 2 and not (out / "compare.json").exists()


@pytest.mark.parametrize("extra, message", [
    (("--contender-args=--bad-option",), "contender run failed (exit 2"),
    (("--rounds", "0"), "--rounds must be at least 1"),
    (("--baseline-args", "--out x.json"), "do not pass --out"),
])
def test_runs_that_cannot_be_made_exit_2(extra: tuple[str, ...], message: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = ab(tmp_path, *extra)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_binary_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ab", "--baseline-bin", str(tmp_path / "nope"), "--contender-bin", str(tmp_path / "nope"),
                 "--out-dir", str(tmp_path / "ab"), "--", "allreduce"])
    assert code == 2 and "binary not found" in capsys.readouterr().err


def test_two_looks_rerun_the_listed_points_alone_and_judge_again(tmp_path: Path) -> None:
    """ab --looks 2 is the whole sequential gate: look 1 on the rounds lists the noisy victim (x1.5, but
    30% of noise per run hides it in 3 rounds), ab reruns it alone for its listed rounds and look 2 combines
    both stages."""
    log = tmp_path / "calls.log"
    base, cont = fake_binary(tmp_path, "base-bin", log), fake_binary(tmp_path, "cont-bin", log)
    out = tmp_path / "ab"
    code = main(["ab", "--baseline-bin", str(base), "--contender-bin", str(cont), "--rounds", "3", "--looks", "2",
                 "--out-dir", str(out), "-q", "--no-print", "--contender-args=--victim-slow 1.5", "--",
                 "allreduce", "--backend", "cpu", "--victim-noise", "0.3"])
    look1 = json.loads((out / "compare-look1.json").read_text(encoding="utf-8"))
    victim = json.loads(fixture_path("allreduce_cpu").read_text(encoding="utf-8"))["points"][0]["id"]
    assert look1["look"] == 1 and [e["id"] for e in look1["rerun"]] == [victim]
    rounds = look1["rerun"][0]["rounds"]
    for side in ("base", "cont"):
        files = sorted((out / "rerun" / "p01").glob(f"{side}-r*.json"))
        assert len(files) == rounds
        assert [p["id"] for p in json.loads(files[0].read_text(encoding="utf-8"))["points"]] == [victim]
    final = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    row = next(c for c in final["comparisons"] if c["id"] == victim)
    assert final["look"] == 2 and final["rerun"] == [] and row["look2"] is not None
    assert code == 1 and row["verdict"] == "regression"

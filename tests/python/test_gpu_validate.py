"""scripts/gpu-validate.sh, scripts/gpu-bundle.sh's archive and scripts/gpu-validate-report.py,
checked where there is no GPU: the one-line refusal, the plan, the bundle's manifest (skipped when no
bundle was built), the nccl-tests comparison and the summary."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VALIDATE = REPO / "scripts" / "gpu-validate.sh"
REPORT = REPO / "scripts" / "gpu-validate-report.py"
BUNDLE = Path(os.environ.get("DPBENCH_GPU_BUNDLE", REPO / ".gpu-bundle" / "dpbench-gpu-bundle.tar.xz"))
ALLOWED_NEEDS = {"libcublas.so.13", "libcublasLt.so.13", "libnccl.so.2", "libstdc++.so.6", "libm.so.6",
                 "libgcc_s.so.1", "libc.so.6", "ld-linux-x86-64.so.2", "librt.so.1", "libpthread.so.0",
                 "libdl.so.2"}


def run_validate(*args: str, smi: str | None = "/bin/false", tmp: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("OUT", None)
    if smi is not None:
        env["GPU_VALIDATE_NVIDIA_SMI"] = smi
    return subprocess.run(["bash", str(VALIDATE), *args], cwd=tmp or REPO, env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("args", [(), ("--bundle", "no-such-bundle.tar.xz"), ("--phase", "2", "--build-dir", "build")])
def test_refuses_without_gpu_in_one_line_with_exit_2(args):
    r = run_validate(*args)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("gpu-validate: no GPU visible")


def test_refusal_holds_when_nvidia_smi_is_missing():
    r = run_validate("--bundle", "x", smi="no-such-nvidia-smi-command")
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1 and "no GPU visible" in r.stderr


def fake_smi(tmp_path: Path) -> str:
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\n[ \"$1\" = -L ] && echo 'GPU 0: NVIDIA H200 (UUID: GPU-fake)'\nexit 0\n")
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    return str(smi)


def test_with_a_gpu_a_missing_bundle_is_refused_in_one_line(tmp_path):
    r = run_validate("--bundle", str(tmp_path / "absent.tar.xz"), smi=fake_smi(tmp_path))
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1 and "no bundle at" in r.stderr


@pytest.mark.parametrize("args,needle", [(("--phase", "3"), "--phase"), (("--frobnicate",), "unknown argument"),
                                         (("--bundle", "a", "--build-dir", "b"), "exclude each other")])
def test_bad_arguments_are_refused_in_one_line(args, needle):
    r = run_validate(*args)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and needle in r.stderr


def test_a_phase_budget_over_seven_minutes_is_refused():
    env = dict(os.environ, GPU_VALIDATE_BUDGET1="500")
    r = subprocess.run(["bash", str(VALIDATE), "--plan"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "420" in r.stderr


def test_plan_prints_both_phases_without_a_gpu():
    r = run_validate("--plan")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "phase 1 (budget 360 s)" in out and "phase 2 (budget 150 s)" in out
    for needle in ("tests-gpu", "--devices 0,0,0,0", "-e 1G", "p2p-ring,p2p-tree,p2p-direct",
                   "nccl-ring,nccl-tree,nccl-auto", "nccl-tests-compare", "train --backend cuda",
                   "NCCL_MULTI_RANK_GPU_ENABLE=1", "compute-sanitizer --tool memcheck", "--tool racecheck",
                   "nvidia/cu13/lib", "nvidia/nccl/lib"):
        assert needle in out, needle
    assert (REPO / "reports" / "gpu" / "<date>-<bundle hash>").exists() is False


def test_plan_of_one_phase_prints_only_that_phase():
    out = run_validate("--plan", "--phase", "2").stdout
    assert "phase 2" in out and "phase 1" not in out


# ---- the bundle ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundle():
    if not BUNDLE.is_file():
        pytest.skip(f"no bundle at {BUNDLE} (scripts/gpu-bundle.sh makes it)")
    with tarfile.open(BUNDLE, "r:xz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        read = {name: tar.extractfile(m).read() for name, m in members.items() if m.isfile()}
    return read


def test_bundle_is_under_16_mb():
    if not BUNDLE.is_file():
        pytest.skip(f"no bundle at {BUNDLE}")
    assert BUNDLE.stat().st_size < 16 * 1000 * 1000


def test_bundle_manifest_lists_what_the_gpu_run_needs(bundle):
    prefix = "dpbench-gpu-bundle/"
    manifest = json.loads(bundle[prefix + "MANIFEST.json"])
    assert manifest["format"] == "dpbench-gpu-bundle"
    listed = {f["path"]: f for f in manifest["files"]}
    for needed in ("bin/dpbench", "bin/dpbench_gpu_tests", "gpu-tests.txt", "gpu-filter.txt", "bundle.env"):
        assert needed in listed, needed
        assert prefix + needed in bundle, needed
    for path, entry in listed.items():
        data = bundle[prefix + path]
        assert entry["bytes"] == len(data), path
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), path
        if path.startswith("bin/"):
            assert set(entry["needs"]) <= ALLOWED_NEEDS, (path, entry["needs"])
    for lib in ("libcublas.so.13", "libnccl.so.2"):
        assert lib in listed["bin/dpbench"]["needs"]
    tests = bundle[prefix + "gpu-tests.txt"].decode().split()
    assert manifest["gpu_tests"]["count"] == len(tests) > 0
    assert all("." in t for t in tests)
    env = dict(l.split("=", 1) for l in bundle[prefix + "bundle.env"].decode().splitlines() if "=" in l)
    assert env["COMPILED_DPBENCH_BINARY"] == manifest["compiled_paths"]["dpbench_binary"]
    assert "cuda" in manifest["dpbench_version"] or "CUDA" in manifest["built_against"]
    if manifest["nccl_tests"] is not None:
        assert "bin/all_reduce_perf" in listed
        assert "libnccl.so.2" in listed["bin/all_reduce_perf"]["needs"]
    sums = bundle[prefix + "SHA256SUMS"].decode()
    assert "bin/dpbench" in sums and "MANIFEST.json" in sums


# ---- gpu-validate-report.py ----------------------------------------------------------------------
NCCL_TESTS_LOG = """\
# nccl-tests version 2.19.6 nccl-headers=22809 nccl-library=23203
# Collective test starting: all_reduce_perf
#
#                                                              out-of-place                       in-place
#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   busbw  #wrong
#        (B)    (elements)                               (us)  (GB/s)  (GB/s)             (us)  (GB/s)  (GB/s)
        1024           256     float     sum      -1     5.00    0.20    0.00       0     4.00    0.26    0.00       0
    16777216       4194304     float     sum      -1    10.00  1677.72    0.00       0     3.00  5592.41    0.00       0
  1073741824     268435456     float     sum      -1   500.00  2147.48    0.00       0     3.00  357913.94    0.00       0
# Out of bounds values : 0 OK
# Avg bus bandwidth    : 0
"""


def dpbench_doc(times: dict[tuple[int, bool], float]) -> dict:
    points = []
    for (size, in_place), t in times.items():
        points.append({"kind": "allreduce", "status": "ok",
                       "axes": {"algo": "nccl-auto", "dtype": "fp32", "bytes": size, "in_place": in_place, "ranks": 1},
                       "stats": {"time": {"mean": t, "median": t}},
                       "metrics": {"algbw": {"value": size / t / 1e3}, "busbw": {"value": 0.0}},
                       "check": {"wrong_elements": 0}})
    return {"command": "allreduce", "system": {"runtime": {"nccl_version": "2.32.3"}}, "points": points}


def run_report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPORT), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("big_time,expect_rc,word", [(510.0, 0, "agree"), (600.0, 1, "differ")])
def test_compare_decides_on_large_sizes_only(tmp_path, big_time, expect_rc, word):
    log = tmp_path / "nt.log"
    log.write_text(NCCL_TESTS_LOG)
    # Small sizes and in-place rows far apart (latency-bound, informational); only 1G out-of-place
    # (500 us in nccl-tests) decides: 16M takes 10 us there.
    times = {(1024, False): 9.0, (1024, True): 1.0, (16777216, False): 14.0, (16777216, True): 6.0,
             (1073741824, False): big_time, (1073741824, True): 6.0}
    doc = tmp_path / "dp.json"
    doc.write_text(json.dumps(dpbench_doc(times)))
    r = run_report("compare", "--nccl-tests", str(log), "--dpbench", str(doc), "--out", str(tmp_path / "compare"))
    assert r.returncode == expect_rc, r.stdout + r.stderr
    result = json.loads((tmp_path / "compare.json").read_text())
    assert word in result["verdict"]
    assert result["nccl_tests"]["nccl_library"] == 23203
    assert len(result["rows"]) == 6
    assert [r["decides"] for r in result["rows"]] == [False, False, False, False, True, False]
    row = next(x for x in result["rows"] if x["bytes"] == 1073741824 and x["placement"] == "out-of-place")
    assert row["time_diff_pct"] == pytest.approx(100 * (big_time - 500) / 500)
    md = (tmp_path / "compare.md").read_text()
    assert "| 1G | out-of-place | 500.00 |" in md and "(info)" in md


def test_compare_without_data_fails(tmp_path):
    r = run_report("compare", "--nccl-tests", str(tmp_path / "none.log"), "--dpbench", str(tmp_path / "none.json"),
                   "--out", str(tmp_path / "c"))
    assert r.returncode == 1
    assert "no data" in json.loads((tmp_path / "c.json").read_text())["verdict"]


def write_status(run: Path, name: str, result: str, secs: int, phase: int) -> None:
    (run / "steps").mkdir(parents=True, exist_ok=True)
    (run / "steps" / f"{name}.status").write_text(f"{result}\t{secs}\t{phase}\tcmd --x\n")


def test_summary_and_verdict(tmp_path):
    run = tmp_path / "20261202-abc"
    write_status(run, "loader", "pass", 0, 1)
    write_status(run, "allreduce-nccl-2rank-1gpu", "pass", 12, 1)
    write_status(run, "nccl-tests-compare", "skipped (the bundle has no all_reduce_perf)", 0, 1)
    (run / "env.txt").write_text("date=2026-12-02T15:00:00Z\ngpu=0, NVIDIA H200, 580.159.04, 143771 MiB\nnccl_loaded=2.32.3\n")
    assert run_report("summary", "--run", str(run)).returncode == 0
    md = (run / "summary.md").read_text()
    assert "NVIDIA H200" in md and "NCCL loaded: 2.32.3" in md
    assert "functional only" in md
    assert "| 1 | nccl-tests-compare | skipped (the bundle has no all_reduce_perf) | 0 |" in md
    s = json.loads((run / "summary.json").read_text())
    assert s["all_ok"] is True
    assert run_report("verdict", "--run", str(run)).returncode == 0
    write_status(run, "sanitizer-memcheck-train", "skipped (phase 2 budget spent)", 0, 2)
    write_status(run, "train-nccl", "FAIL (exit 1)", 3, 1)
    r = run_report("verdict", "--run", str(run))
    assert r.returncode == 1 and "2 of 5" in r.stdout and "train-nccl" in r.stdout


@pytest.mark.parametrize("have,need,ok", [("2.32.3", "2.30", True), ("2.30.0", "2.30", True),
                                          ("2.28.9", "2.30", False), ("unknown", "2.30", False)])
def test_version_at_least(have, need, ok):
    assert (run_report("version-at-least", have, need).returncode == 0) is ok


# ---- gpu-bundle.sh and gpu-nccl-tests.sh refuse bad input in one line ------------------------------
@pytest.mark.parametrize("script,args,needle", [
    ("gpu-bundle.sh", ("--frobnicate",), "unknown argument"),
    ("gpu-bundle.sh", ("--nccl-tests", "maybe"), "expected auto, build or skip"),
    ("gpu-nccl-tests.sh", ("--src", "/no/such/nccl-tests"), "no nccl-tests source"),
])
def test_bundle_scripts_refuse_bad_input_in_one_line(script, args, needle):
    r = subprocess.run(["bash", str(REPO / "scripts" / script), *args], cwd=REPO, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1 and needle in r.stderr

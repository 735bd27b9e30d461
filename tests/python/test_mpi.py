"""A process per rank under MPI: `mpirun -np N dpbench allreduce ...` (bench/cli_world.h).

Runs the built binary (DPBENCH_BIN) under mpirun on the cpu backend, where the processes share
memory through POSIX shared memory. Skipped with a message where mpirun is missing or the binary
was built without MPI (-DDPBENCH_MPI=AUTO found none).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "scripts" / "dpbench_report" / "schema" / "dpbench-results.schema.json"
MPIRUN = shutil.which("mpirun")


def binary() -> str:
    path = os.environ.get("DPBENCH_BIN")
    if not path:
        pytest.skip("DPBENCH_BIN is not set: point it at the built dpbench binary to run these tests")
    return path


def mpirun(n: int) -> list[str]:
    if not MPIRUN:
        pytest.skip("mpirun not found: install an MPI (scripts/setup.sh installs Debian's Open MPI)")
    cmd = [MPIRUN, "-np", str(n)]
    if "Open MPI" in subprocess.run([MPIRUN, "--version"], capture_output=True, text=True).stdout:
        cmd += ["--oversubscribe", "--allow-run-as-root"]
    return cmd


def run_mpi(n: int, args: list[str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(mpirun(n) + [binary()] + args, capture_output=True, text=True, timeout=timeout)
    if "built without MPI" in proc.stderr:
        pytest.skip("this dpbench was built without MPI")
    return proc


def validate(path: Path) -> dict:
    doc = json.loads(path.read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text())).validate(doc)
    return doc


QUICK = ["--backend", "cpu", "--warmup", "1", "--iters", "3"]


def shm_segments() -> set[str]:
    return {f for f in os.listdir("/dev/shm") if f.startswith("dpbench-")} if os.path.isdir("/dev/shm") else set()


@pytest.mark.parametrize("ranks", [2, 4])
def test_allreduce_process_per_rank(tmp_path: Path, ranks: int) -> None:
    out = tmp_path / "mpi.json"
    segments_before = shm_segments()
    algos = "p2p-ring,p2p-tree,p2p-direct,mpi"
    proc = run_mpi(ranks, ["allreduce", *QUICK, "--algo", algos, "-b", "1K", "-e", "256K", "-f", "4",
                           "--out", str(out)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = validate(out)
    assert doc["invocation"]["complete"] is True
    points = doc["points"]
    assert len(points) == 4 * 5 * 2  # algorithms x sizes (1K..256K by 4) x placements, once (rank 0 writes alone)
    for p in points:
        assert p["status"] == "ok", p
        assert p["axes"]["ranks"] == ranks
        assert p["check"]["wrong_elements"] == 0
        assert p["check"]["checked_elements"] == ranks * p["axes"]["count"]
        m = p["metrics"]
        assert m["rank_time_min"]["value"] <= m["rank_time_avg"]["value"] <= m["rank_time_max"]["value"]
        assert 0 <= p["extra"]["slowest_rank"] < ranks
        assert p["extra"]["launch"] == "process-per-rank"
    system = doc["system"]
    assert [r["rank"] for r in system["ranks"]] == list(range(ranks))
    assert len(system["hosts"]) == 1 and system["launch"] == "process-per-rank"
    # Every shared-memory segment was unlinked once mapped.
    assert shm_segments() <= segments_before


TRAIN = ["train", "--backend", "cpu", "--global-batch", "64", "--warmup", "1", "--iters", "6"]


def final_state(path: Path) -> dict[str, tuple[float, float, str]]:
    """Per algorithm: the last measured loss, the final weights' sum and hash."""
    out = {}
    for p in validate(path)["points"]:
        assert p["status"] == "ok", p
        out[p["axes"]["algo"]] = (p["metrics"]["loss_last"]["value"], p["metrics"]["weights_sum"]["value"],
                                  p["extra"]["weights_hash"])
    return out


def test_train_process_per_rank_matches_one_process(tmp_path: Path) -> None:
    """mpirun -np 2 dpbench train ends where one process does: bit-identical to 2 ranks as threads
    (same schedule, same sums), and within fp32 rounding of 1 rank on the whole global batch."""
    out = tmp_path / "mpi-train.json"
    proc = run_mpi(2, TRAIN + ["--algo", "p2p-ring,mpi", "--out", str(out)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = validate(out)
    assert doc["system"]["launch"] == "process-per-rank"
    for p in doc["points"]:
        assert p["axes"]["ranks"] == 2 and p["extra"]["launch"] == "process-per-rank"
        assert p["extra"]["replicas_identical"] is True
        m = p["metrics"]
        assert m["rank_step_min"]["value"] <= m["rank_step_avg"]["value"] <= m["rank_step_max"]["value"]
        assert 0 <= p["extra"]["slowest_rank"] < 2
    mpi = final_state(out)
    threads = tmp_path / "threads.json"
    one = tmp_path / "one.json"
    for path, gpus in ((threads, "2"), (one, "1")):
        proc = subprocess.run([binary(), *TRAIN, "--gpus", gpus, "--algo", "p2p-ring", "--out", str(path)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert mpi["p2p-ring"] == final_state(threads)["p2p-ring"]
    loss1, sum1, _ = final_state(one)["p2p-ring"]
    for algo, (loss, wsum, _) in mpi.items():
        # fp32 reassociation only (tests/test_train_equivalence.cpp derives the bound per weight);
        # a missing 1/N or a wrong shard moves the loss by ~1e-2.
        assert abs(loss - loss1) <= 1e-6 * abs(loss1), algo
        assert abs(wsum - sum1) <= 1e-3, algo


def test_mpi_algorithm_needs_mpirun() -> None:
    proc = subprocess.run([binary(), "allreduce", *QUICK, "--algo", "mpi", "-b", "1K", "-e", "1K"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "mpirun" in proc.stderr


def test_killed_rank_stops_the_job_and_resume_completes(tmp_path: Path) -> None:
    out = tmp_path / "kill.json"
    args = ["allreduce", "--backend", "cpu", "--warmup", "1", "--iters", "20", "--algo", "p2p-ring,mpi",
            "-b", "1K", "-e", "4M", "--timeout", "20", "--out", str(out)]
    job = subprocess.Popen(mpirun(2) + [binary()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and job.poll() is None:
            if out.exists() and len(json.loads(out.read_text()).get("points", [])) >= 4:
                break
            time.sleep(0.2)
        if job.poll() is not None:
            _, err = job.communicate()
            if "built without MPI" in err:
                pytest.skip("this dpbench was built without MPI")
            pytest.fail("the sweep ended before a rank could be killed: " + err)
        ranks = subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True, text=True).stdout.split()
        assert ranks, "no rank processes found under mpirun"
        os.kill(int(ranks[-1]), signal.SIGKILL)
        started = time.monotonic()
        job.communicate(timeout=60)
        assert time.monotonic() - started < 20  # every rank ended within --timeout
        assert job.returncode != 0
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    doc = validate(out)  # whole, not complete
    assert doc["invocation"]["complete"] is False
    done = len(doc["points"])
    proc = run_mpi(2, args + ["--resume"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = validate(out)
    assert doc["invocation"]["complete"] is True
    assert len(doc["points"]) == 2 * 13 * 2 and done < len(doc["points"])

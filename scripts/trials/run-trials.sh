#!/usr/bin/env bash
# Collects the statistical trials of the regression gate: interleaved A/B rounds of one cpu sweep.
#   scripts/trials/run-trials.sh OUT_DIR [TRIALS=10] [ROUNDS=6] [DPBENCH=build/bench/dpbench]
# For each trial t it writes OUT_DIR/aa-t (the same binary and options on both sides: A/A) and
# OUT_DIR/chunk-t (the contender with a 16x smaller --chunk-bytes: a real slowdown of the large
# messages), each with ROUNDS results files per side. scripts/trials/judge.py then compares them and
# plants slowdowns into copies of the A/A contenders. Runs under nice: it shares the machine. The binary
# is copied first (a rebuild in the middle must not change the code under test); a trial whose files are
# all there already is kept, so an interrupted collection resumes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:?usage: run-trials.sh OUT_DIR [TRIALS] [ROUNDS] [DPBENCH]}"
trials="${2:-10}"
rounds="${3:-6}"
bin="${4:-$root/build/bench/dpbench}"
python="${PYTHON:-$root/build/venv/bin/python}"
# 2 rank counts x 2 algorithms x 5 sizes x in/out of place = 40 points, about 7 s per run on 2 cores
# (10 s at load 8): 10 trials x 6 rounds take about 40 minutes there, 10 x 4 about 27.
sweep=(allreduce --backend cpu --gpus 2,4 --algo p2p-ring,p2p-tree -b 64K -e 16M -f 4 --max-time 0.1)
export PYTHONPATH="$root/scripts${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$out"
[ -x "$out/dpbench" ] || cp "$bin" "$out/dpbench"
ab() { nice "$python" -m dpbench_report ab --baseline-bin "$out/dpbench" --contender-bin "$out/dpbench" \
         --rounds "$rounds" --no-compare -q "$@"; }
done_already() { [ -f "$1/cont-r$rounds.json" ] && [ -f "$1/base-r$rounds.json" ]; }
for t in $(seq 1 "$trials"); do
  done_already "$out/aa-$t" || ab --out-dir "$out/aa-$t" -- "${sweep[@]}"
  done_already "$out/chunk-$t" || ab --out-dir "$out/chunk-$t" --contender-args "--chunk-bytes 64K" -- "${sweep[@]}"
  echo "trial $t of $trials collected ($(date -u +%H:%M:%S))"
done

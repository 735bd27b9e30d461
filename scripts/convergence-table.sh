#!/usr/bin/env bash
# Time-to-target over rank counts and global batches on the cpu backend (issue 13): for 1, 2 and 4
# ranks and global batches 32..8192 (strong scaling: N ranks share the global batch), each point
# first trains the 64,128,10 MLP on the teacher-student data until the held-out loss reaches the
# target, recording steps/samples/time to target and the gradient noise scale (critical batch);
# then prints the table. lr scaling none vs linear (Goyal et al.: base lr 0.05 at 32 samples, 20
# warm-up steps). Takes well under a minute on 2 cores.
#   scripts/convergence-table.sh [OUT_JSON]      (default: out/convergence-table.json)
# Needs a build (scripts/build.sh) and the report venv (scripts/setup.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
out="${1:-$root/out/convergence-table.json}"
mkdir -p "$(dirname "$out")"
rm -f "$out"
"$build/bench/dpbench" train --backend cpu --model 64,128,10 --gpus 1,2,4 \
  --global-batch 32,128,512,2048,8192 --optimizer sgd --lr 0.05 --lr-scaling none,linear --lr-base-batch 32 \
  --warmup-steps 20 --target-loss 1.0 --target-max-steps 2000 --eval-every 1 --eval-samples 1024 \
  --probe-every 2 --iters 5 --warmup 1 --out "$out" >/dev/null 2>"${out%.json}.log"
PYTHONPATH="$root/scripts" "$build/venv/bin/python" -m dpbench_report.convergence "$out"

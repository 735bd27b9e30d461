#!/usr/bin/env bash
# Time-to-target over rank counts and global batches on the cpu backend (issue 13). For 1, 2 and 4
# ranks and global batches 32..8192 (strong scaling: N ranks share the global batch), each point
# first trains the 64,128,10 MLP on the teacher-student data until the loss on a fixed held-out set
# (1024 samples) reaches 1.0, recording steps/samples/time to target and the gradient noise scale
# (critical batch estimate, needs 2+ ranks); then the usual step-time measurement.
#   table 1: SGD base lr 0.05 at 32 samples; lr scaling none vs linear with 20 warm-up steps
#   table 2: linear scaling without warm-up (Goyal et al.'s failure mode at large batch)
# Takes about two minutes on 2 cores (a point that never reaches the target stops after 300 steps).
#   scripts/convergence-table.sh [OUT_DIR]      (default: out/convergence-table)
# Needs a build (scripts/build.sh) and the report venv (scripts/setup.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
out="${1:-$root/out/convergence-table}"
mkdir -p "$out"
common=(train --backend cpu --model 64,128,10 --gpus 1,2,4 --global-batch 32,128,512,2048,8192 --optimizer sgd
        --lr 0.05 --lr-base-batch 32 --target-loss 1.0 --target-max-steps 300 --eval-every 1 --eval-samples 1024
        --probe-every 2 --iters 5 --warmup 1)
rm -f "$out/warmup.json" "$out/no-warmup.json"
"$build/bench/dpbench" "${common[@]}" --lr-scaling none,linear --warmup-steps 20 --out "$out/warmup.json" \
  >/dev/null 2>"$out/warmup.log"
"$build/bench/dpbench" "${common[@]}" --lr-scaling linear --warmup-steps 0 --out "$out/no-warmup.json" \
  >/dev/null 2>"$out/no-warmup.log"
report=(env PYTHONPATH="$root/scripts" "$build/venv/bin/python" -m dpbench_report.convergence)
echo "## lr scaling none vs linear, 20 warm-up steps"
"${report[@]}" "$out/warmup.json"
echo
echo "## linear lr scaling, no warm-up"
"${report[@]}" "$out/no-warmup.json"

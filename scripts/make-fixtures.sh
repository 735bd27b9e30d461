#!/usr/bin/env bash
# Rewrites the pytest fixtures under tests/fixtures/ from real dpbench runs on the cpu backend, so
# the reporting package is tested on what the C++ side actually writes.
#   scripts/make-fixtures.sh [BUILD_DIR]      (default: build; run scripts/build.sh first)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$root/build}/bench/dpbench"
dir="$root/tests/fixtures"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$bin" info --backend cpu --out "$tmp/info_cpu.json" >/dev/null
"$bin" p2p --backend cpu --devices 0,1,2,3 --size 4M --repeats 3 --out "$tmp/p2p_cpu.json" >/dev/null
"$bin" allreduce --backend cpu --gpus 1,2,4 --algo p2p-ring,p2p-direct --dtype fp32,bf16 -b 4K -e 1M -f 4 \
  --max-time 0.1 --out "$tmp/allreduce_cpu.json" >/dev/null
"$bin" train --backend cpu --gpus 1,2,4 --algo p2p-ring,p2p-tree --precision fp32,bf16 --bucket-mb 1 \
  --model small --max-time 0.3 --out "$tmp/train_cpu.json" >/dev/null
# Strong scaling: the global batch is the fixed axis and the per-rank batch follows from the rank count.
"$bin" train --backend cpu --gpus 1,2,4 --global-batch 64 --algo p2p-ring,p2p-tree --bucket-mb 1 \
  --model small --max-time 0.1 --out "$tmp/train_strong_cpu.json" >/dev/null
# Three repeats of one small sweep: the regression tests compare real run-to-run noise.
for r in 1 2 3; do
  "$bin" allreduce --backend cpu --gpus 2 --algo p2p-ring,p2p-tree -b 64K -e 1M -f 4 --max-time 0.05 \
    --out "$tmp/allreduce_repeat$r.json" >/dev/null
done
# Convergence and sync axes (issue 13): time-to-target, noise scale, accumulation, bf16 communication.
"$bin" train --backend cpu --gpus 1,2 --global-batch 64,256 --model 64,128,10 --optimizer sgd --lr 0.05 \
  --lr-scaling linear --accum 1,2 --comm-dtype fp32,bf16 --target-loss 1.2 --target-max-steps 500 --eval-every 2 \
  --eval-samples 256 --iters 3 --warmup 1 --out "$tmp/train_convergence_cpu.json" >/dev/null
cp "$tmp"/*.json "$dir/"
echo "fixtures rewritten in $dir"

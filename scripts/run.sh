#!/usr/bin/env bash
# The main job: set-up, build, then the default suite on whatever hardware is present, and a report.
#   scripts/run.sh [OUT_DIR]        (default: out/<UTC timestamp>)
# With GPUs: every GPU count that is a power of two up to the GPUs present, every algorithm, the
# medium model. With one GPU the custom algorithms run four ranks on it (--devices 0,0,0,0).
# Without a GPU: the cpu backend's simulated devices, the custom algorithms, the small model.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build"
out="${1:-$root/out/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
"$root/scripts/setup.sh" "$build"
"$root/scripts/build.sh" "$build"
bin="$build/bench/dpbench"

gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then gpus="$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)"; fi

if [ "$gpus" -ge 2 ]; then
  counts="1"; n=2; while [ "$n" -le "$gpus" ]; do counts="$counts,$n"; n=$((n * 2)); done
  rank_args=(--gpus "$counts")
  p2p_devices="$(seq -s, 0 $((gpus - 1)))"
  algos="nccl-ring,nccl-tree,nccl-auto,p2p-ring,p2p-tree,p2p-direct"
  ar_sizes=(-b 8 -e 1G -f 4); model=medium; precisions=fp32,fp16,bf16
elif [ "$gpus" -eq 1 ]; then
  rank_args=(--gpus 1,2,4 --devices 0,0,0,0)
  p2p_devices="0,0"
  algos="p2p-ring,p2p-tree,p2p-direct"
  ar_sizes=(-b 8 -e 1G -f 4); model=medium; precisions=fp32,fp16,bf16
else
  rank_args=(--gpus 1,2,4)
  p2p_devices="0,1,2,3"
  algos="p2p-ring,p2p-tree,p2p-direct"
  ar_sizes=(-b 1K -e 16M -f 4); model=small; precisions=fp32,bf16
fi

set -x
"$bin" info --out "$out/info.json"
"$bin" p2p --devices "$p2p_devices" --out "$out/p2p.json"
"$bin" allreduce "${rank_args[@]}" --algo "$algos" --dtype fp32,bf16 "${ar_sizes[@]}" --out "$out/allreduce.json"
"$bin" train "${rank_args[@]}" --algo "$algos" --precision "$precisions" --bucket-mb 1,25 --model "$model" \
  --out "$out/train.json"
if [ "$gpus" -eq 1 ]; then
  # NCCL refuses two ranks on one GPU: its algorithms run at one rank here.
  "$bin" allreduce --gpus 1 --algo nccl-ring,nccl-tree,nccl-auto --dtype fp32,bf16 "${ar_sizes[@]}" \
    --out "$out/allreduce-nccl.json"
fi
set +x
PYTHONPATH="$root/scripts" "$build/venv/bin/dpbench-report" report "$out"/*.json --out "$out/report"
echo "main job: results in $out, report at $out/report/report.html"

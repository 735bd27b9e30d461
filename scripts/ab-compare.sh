#!/usr/bin/env bash
# Interleaved A/B regression check: runs two dpbench binaries in alternating rounds over the same
# arguments, then compares the rounds (exit 0 pass, 1 regression, 2 nothing could be judged).
#   scripts/ab-compare.sh BASELINE_BIN CONTENDER_BIN [ab options] -- DPBENCH_ARGS...
#   e.g. scripts/ab-compare.sh base/build/bench/dpbench build/bench/dpbench --rounds 6 --looks 2 --out-dir ab \
#          -- allreduce --gpus 2,4 --algo p2p-ring -b 1M -e 64M -f 4
# A thin wrapper over `python -m dpbench_report ab`; see scripts/CI-RECIPE.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 2 ]; then
  sed -n '2,6p' "$0" >&2
  exit 2
fi
python="${PYTHON:-$root/build/venv/bin/python}"
export PYTHONPATH="$root/scripts${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m dpbench_report ab --baseline-bin "$1" --contender-bin "$2" "${@:3}"

#!/usr/bin/env bash
# Runs every test on this machine: set-up, build (the CUDA sources too where nvcc exists), the
# GoogleTest suite through ctest (gpu-labelled tests skip with a message where no GPU is visible),
# and the Python reporting package's pytest suite. Non-zero exit on any failure.
#   scripts/test.sh [--tsan]     --tsan also builds the tsan preset and runs its tests
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build"
"$root/scripts/setup.sh" "$build"
"$root/scripts/build.sh" "$build"

echo "== ctest (GoogleTest) =="
(cd "$build" && ctest --output-on-failure -j 2 --timeout 600)

echo "== pytest (scripts/ package and results-file checks) =="
DPBENCH_BIN="$build/bench/dpbench" PYTHONPATH="$root/scripts" \
  "$build/venv/bin/python" -m pytest -q "$root/tests/python"

if [ "${1:-}" = "--tsan" ]; then
  echo "== tsan preset =="
  (cd "$root" && cmake --preset tsan >/dev/null && cmake --build --preset tsan -j "$(nproc)" && ctest --preset tsan)
fi

#!/usr/bin/env bash
# Runs every test on this machine: set-up, build (the CUDA sources too where nvcc exists), the
# GoogleTest suite through ctest (gpu-labelled tests skip with a message where no GPU is visible),
# the Python reporting package's pytest suite and mypy, then the tsan preset (the cpu backend's worker
# threads and everything built on them under ThreadSanitizer). Non-zero exit on any failure.
#   scripts/test.sh [--no-tsan]     --no-tsan skips the ThreadSanitizer build and run
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

echo "== mypy (the reporting package's type hints) =="
(cd "$root/scripts" && "$build/venv/bin/python" -m mypy --cache-dir "$build/mypy-cache" dpbench_report)

if [ "${1:-}" != "--no-tsan" ]; then
  echo "== tsan preset (ThreadSanitizer, cpu-labelled tests) =="
  (cd "$root" && cmake --preset tsan >/dev/null && cmake --build --preset tsan -j "$(nproc)" >/dev/null &&
    ctest --preset tsan -L cpu -j 2 --timeout 600)
fi

#!/usr/bin/env bash
# One command that validates dpbench on a machine with one or more GPUs:
#   build (or take a build directory), the gpu-labelled tests, a short info, p2p, allreduce (every
#   algorithm, fp32/fp16/bf16, CUDA graphs), train (small and medium model, every algorithm and
#   precision), compute-sanitizer memcheck and racecheck on a short allreduce and a short train,
#   and a pass/fail table at the end. Budget: about 8 minutes on one H100 with a prebuilt tree.
#
#   scripts/gpu-validate.sh [BUILD_DIR | --build-dir BUILD_DIR] [--out OUT_DIR]
#
# BUILD_DIR (default: ./build-gpu-validate) is built when it holds no dpbench binary. All output
# goes under OUT_DIR (default: ./gpu-validate-out/<UTC timestamp>): one log per step, the results
# files, summary.txt and summary.json. With one GPU the custom p2p-* algorithms run several ranks on
# it (--devices 0,0,0,0); NCCL refuses two ranks on one GPU, so nccl-* run at one rank there.
# Without a GPU it says so and exits 2. Exit status: 0 when every step passed, 1 otherwise.
# shellcheck disable=SC2054  # commas inside arguments are dpbench's list syntax, not array separators
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=""
out=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --build-dir) build="${2:?--build-dir needs a directory}"; shift 2 ;;
    --build-dir=*) build="${1#*=}"; shift ;;
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    --out=*) out="${1#*=}"; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "gpu-validate: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) build="$1"; shift ;;
  esac
done
build="${build:-$PWD/build-gpu-validate}"
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
out="${out:-$PWD/gpu-validate-out/$(date -u +%Y%m%dT%H%M%SZ)}"

# ---- is there a GPU? ---------------------------------------------------------------------------
gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then
  gpus="$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)"
fi
if [ "${gpus:-0}" -lt 1 ]; then
  echo "gpu-validate: no GPU found (nvidia-smi is missing or lists no GPU); this script validates the CUDA" >&2
  echo "gpu-validate: path and needs at least one GPU. On this machine run scripts/test.sh instead." >&2
  exit 2
fi
mkdir -p "$out" || { echo "gpu-validate: cannot create '$out'" >&2; exit 2; }
echo "gpu-validate: $gpus GPU(s); output in $out"
nvidia-smi -L > "$out/gpus.txt" 2>&1

# ---- step runner ---------------------------------------------------------------------------------
names=(); results=(); seconds=()
# step NAME TIMEOUT_S COMMAND...: runs with a time limit, logs to $out/NAME.log, records pass/fail.
step() {
  local name="$1" limit="$2"; shift 2
  local log="$out/$name.log" t0 rc
  t0=$(date +%s)
  echo "--- $name: $*" | tee "$log"
  timeout --kill-after=10 "$limit" "$@" >> "$log" 2>&1
  rc=$?
  local dt=$(( $(date +%s) - t0 ))
  names+=("$name"); seconds+=("$dt")
  if [ "$rc" -eq 0 ]; then
    results+=("pass")
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    results+=("FAIL (timed out after ${limit}s)")
  else
    results+=("FAIL (exit $rc)")
  fi
  echo "    ${results[-1]} in ${dt}s (log: $log)"
}

summary() {
  local failed=0 i
  for i in "${!results[@]}"; do [ "${results[$i]}" = "pass" ] || failed=$((failed + 1)); done
  {
    printf '%-34s %-30s %8s\n' "step" "result" "seconds"
    for i in "${!names[@]}"; do
      printf '%-34s %-30s %8s\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}"
    done
    echo
    if [ "$failed" -eq 0 ]; then echo "gpu-validate: all ${#names[@]} steps passed"; else echo "gpu-validate: $failed of ${#names[@]} steps FAILED"; fi
  } | tee "$out/summary.txt"
  {
    echo "{\"gpus\": $gpus, \"steps\": ["
    for i in "${!names[@]}"; do
      [ "$i" -gt 0 ] && echo ","
      printf '  {"name": "%s", "result": "%s", "seconds": %s}' "${names[$i]}" "${results[$i]}" "${seconds[$i]}"
    done
    echo; echo "]}"
  } > "$out/summary.json"
  [ "$failed" -eq 0 ]
}

# ---- build ---------------------------------------------------------------------------------------
bin="$build/bench/dpbench"
tests_bin="$build/tests/dpbench_tests"
if [ ! -x "$bin" ]; then
  step build 900 bash -c "cmake -S '$root' -B '$build' -DCMAKE_BUILD_TYPE=Release -DDPBENCH_BUILD_BENCHMARKS=OFF && cmake --build '$build' -j '$(nproc)'"
fi
if [ ! -x "$bin" ]; then
  echo "gpu-validate: no dpbench binary at $bin after the build" >&2
  summary; exit 1
fi
if ! "$bin" --version | grep -qi cuda; then
  echo "gpu-validate: $bin was built without the CUDA backend" >&2
fi

# ---- gpu-labelled tests --------------------------------------------------------------------------
if [ -x "$tests_bin" ]; then
  # ctest when the build directory is where it was configured; else the binary with ctest's filter.
  if grep -qs "$build" "$build/tests/CTestTestfile.cmake" && command -v ctest >/dev/null 2>&1; then
    # One process per test (as ctest runs them), several at once: they share the GPU(s) fine.
    step tests-gpu 300 ctest --test-dir "$build" -L gpu --output-on-failure --timeout 300 -j 8
  else
    step tests-gpu 300 "$tests_bin" --gtest_filter='*cuda*:*Cuda*:*CUDA*:*Gpu*:*GPU*:*nccl*:*Nccl*'
  fi
else
  names+=("tests-gpu"); results+=("FAIL (no test binary at $tests_bin)"); seconds+=(0)
fi

# ---- devices per step ----------------------------------------------------------------------------
custom="p2p-ring,p2p-tree,p2p-direct"
nccl="nccl-ring,nccl-tree,nccl-auto"
if [ "$gpus" -ge 2 ]; then
  n=$(( gpus < 8 ? gpus : 8 ))
  all="$(seq -s, 0 $((n - 1)))"
  counts="1"; k=2; while [ "$k" -le "$n" ]; do counts="$counts,$k"; k=$((k * 2)); done
  p2p_devices="$all"
  custom_ranks=(--gpus "$counts" --devices "$all")
  nccl_ranks=(--gpus "$counts" --devices "$all")
  train_custom=(--gpus "$counts" --devices "$all")
  train_nccl=(--gpus "$counts" --devices "$all")
else
  p2p_devices="0,0"
  custom_ranks=(--gpus 1,2,4 --devices 0,0,0,0)
  nccl_ranks=(--gpus 1 --devices 0)
  train_custom=(--gpus 1,2 --devices 0,0)
  train_nccl=(--gpus 1 --devices 0)
fi
quick_ar=(-b 8 -e 64M -f 16 --warmup 2 --min-iters 3 --max-iters 50 --max-time 0.05)
quick_train=(--warmup 1 --iters 3 --timeout 120)

# ---- info, p2p -----------------------------------------------------------------------------------
step info 60 "$bin" info --backend cuda --out "$out/info.json"
step p2p 120 "$bin" p2p --backend cuda --devices "$p2p_devices" --size 32M --repeats 5 --out "$out/p2p.json"

# ---- allreduce -----------------------------------------------------------------------------------
step allreduce-custom 180 "$bin" allreduce --backend cuda "${custom_ranks[@]}" --algo "$custom" \
  --dtype fp32,fp16,bf16 "${quick_ar[@]}" --out "$out/allreduce-custom.json"
step allreduce-nccl 180 "$bin" allreduce --backend cuda "${nccl_ranks[@]}" --algo "$nccl" \
  --dtype fp32,fp16,bf16 "${quick_ar[@]}" --out "$out/allreduce-nccl.json"
quick_graph=(--dtype fp32,bf16 -b 1K -e 4M -f 64 --graph 10 --iters 5 --warmup 1)
step allreduce-graph-nccl 120 "$bin" allreduce --backend cuda "${nccl_ranks[@]}" --algo nccl-auto "${quick_graph[@]}" \
  --out "$out/allreduce-graph-nccl.json"
step allreduce-graph-custom 120 "$bin" allreduce --backend cuda "${custom_ranks[@]}" --algo "$custom" \
  "${quick_graph[@]}" --out "$out/allreduce-graph-custom.json"

# ---- train ---------------------------------------------------------------------------------------
for model in small medium; do
  step "train-$model-custom" 180 "$bin" train --backend cuda --model "$model" "${train_custom[@]}" --algo "$custom" \
    --precision fp32,fp16,bf16 "${quick_train[@]}" --out "$out/train-$model-custom.json"
  step "train-$model-nccl" 180 "$bin" train --backend cuda --model "$model" "${train_nccl[@]}" --algo "$nccl" \
    --precision fp32,fp16,bf16 "${quick_train[@]}" --out "$out/train-$model-nccl.json"
done

# ---- compute-sanitizer ---------------------------------------------------------------------------
sanitizer="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
if [ -x "$sanitizer" ]; then
  sz_ar=(allreduce --backend cuda --gpus 1,2 --devices 0,0 --algo p2p-ring,p2p-tree --dtype fp32,bf16 -b 1K -e 64K -f 64
         --warmup 1 --iters 2)
  sz_train=(train --backend cuda --model small --gpus 2 --devices 0,0 --algo p2p-ring --precision fp32,fp16
            --warmup 1 --iters 2)
  for tool in memcheck racecheck; do
    step "sanitizer-$tool-allreduce" 240 "$sanitizer" --tool "$tool" --error-exitcode 1 "$bin" "${sz_ar[@]}"
    step "sanitizer-$tool-train" 240 "$sanitizer" --tool "$tool" --error-exitcode 1 "$bin" "${sz_train[@]}"
  done
  # NCCL's own kernels under memcheck, one rank (fast enough; racecheck on NCCL is far too slow).
  step sanitizer-memcheck-nccl 240 "$sanitizer" --tool memcheck --error-exitcode 1 "$bin" allreduce --backend cuda \
    --gpus 1 --devices 0 --algo nccl-auto --dtype fp32 -b 1K -e 64K -f 64 --warmup 1 --iters 2
else
  names+=("compute-sanitizer"); results+=("FAIL (compute-sanitizer not found)"); seconds+=(0)
fi

echo
summary

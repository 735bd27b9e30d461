#!/usr/bin/env bash
# Validates dpbench on a machine with a GPU, from a bundle made by scripts/gpu-bundle.sh (no compiler,
# no CMake, no network needed there), in phases that each end inside their time budget:
#
#   phase 1 (<= 6 min): loader check, info, the gpu-labelled tests (4 shards at once), all-reduce
#            sweeps to 1 GiB (p2p-ring/tree/direct on 1, 2 and 4 ranks of one GPU with --devices
#            0,0,0,0; nccl-ring/tree/auto on one rank per GPU), fp16/bf16 and CUDA-graph runs, the
#            nccl-tests all_reduce_perf vs `dpbench allreduce --algo nccl-auto` comparison on the
#            same sizes, 2 NCCL ranks on one GPU where NCCL >= 2.30 (functional only), train, p2p
#   phase 2 (<= 2.5 min): compute-sanitizer memcheck/racecheck on two gpu tests and short runs
#
#   scripts/gpu-validate.sh --bundle FILE [--phase 1|2|all] [--export DIR] [--run-id ID] [--force]
#   scripts/gpu-validate.sh --build-dir DIR [...]     binaries of an existing build tree (no build)
#   scripts/gpu-validate.sh --plan [--bundle FILE]    print the phases and commands; run nothing
#
# Results: reports/gpu/<run-id>/ (summary.md, summary.json, env.txt, logs/, results/, steps/).
# --export DIR (default: $OUT when set) also writes there summary.md, summary.json and
# gpu-<run-id>.tar.xz (the whole run folder) after each phase: what the device tool brings back.
# Re-running with the same --run-id (default: UTC date + bundle hash) skips the steps that passed
# (--force runs them again), so a phase cut short can be resumed on a warm machine.
# Budgets: GPU_VALIDATE_BUDGET1 (default 360 s), GPU_VALIDATE_BUDGET2 (150 s); no phase over 420 s.
# Without a GPU it refuses in one line with exit 2. Exit status: 0 all steps passed, 1 otherwise,
# 2 refused (bad arguments, no GPU, unusable bundle).
# shellcheck disable=SC2054  # commas inside arguments are dpbench's list syntax, not array separators
set -euo pipefail

self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
root="$(cd "$(dirname "$self")/.." && pwd)"
refuse() { echo "gpu-validate: $*" >&2; exit 2; }
# xz may be absent from a slim image: Python's lzma module does the same job.
unxz_to_stdout() {
  if command -v xz >/dev/null 2>&1; then xz -dc "$1"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi
}
xz_from_stdin() {
  if command -v xz >/dev/null 2>&1; then xz -6 -T0 > "$1"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(sys.stdin.buffer, lzma.open(sys.argv[1], "wb", preset=6))' "$1"; fi
}

# ==== internal step bodies (the script calls itself so that `timeout` can bound them) ============
# They read the GV_* variables exported below.
if [ "${1:-}" = "--internal" ]; then
  what="${2:?}"; shift 2
  case "$what" in
    tests-gpu)
      # The gpu tests in $GV_SHARDS shards at once (one process each, like ctest -j).
      shards="$GV_SHARDS"
      filter="$(paste -sd: "$GV_TEST_LIST")"
      # A gtest filter is one argument: fall back to the label's pattern if the list is too long.
      [ "${#filter}" -lt 100000 ] || filter="$(cat "$GV_TEST_FILTER")"
      pids=()
      for ((i = 0; i < shards; i++)); do
        GTEST_TOTAL_SHARDS="$shards" GTEST_SHARD_INDEX="$i" "$GV_TESTS_BIN" --gtest_filter="$filter" \
          --gtest_output="json:$GV_RUN/results/tests-gpu.shard$i.json" > "$GV_RUN/logs/tests-gpu.shard$i.log" 2>&1 &
        pids+=("$!")
      done
      rc=0
      for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || rc=1
      done
      for ((i = 0; i < shards; i++)); do
        echo "shard $i: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ test' "$GV_RUN/logs/tests-gpu.shard$i.log" | tr '\n' ' ')"
        grep -E '^\[  FAILED  \] [^0-9]' "$GV_RUN/logs/tests-gpu.shard$i.log" || true
      done
      exit "$rc"
      ;;
    nccl-tests-compare)
      # nccl-tests and dpbench nccl-auto, one rank on GPU 0, fp32 sum, the same sizes; then the table.
      sizes=(-b 1K -e 1G -f 4)
      rc=0
      echo "--- $GV_NT_BIN -g 1 ${sizes[*]} -d float -o sum -w 10 -n 50 -c 1"
      "$GV_NT_BIN" -g 1 "${sizes[@]}" -d float -o sum -w 10 -n 50 -c 1 > "$GV_RUN/logs/nccl-tests-all_reduce_perf.log" 2>&1 || rc=1
      cat "$GV_RUN/logs/nccl-tests-all_reduce_perf.log"
      echo "--- dpbench allreduce --algo nccl-auto --gpus 1 --devices 0 --dtype fp32 ${sizes[*]} --warmup 10 --iters 50"
      "$GV_BIN" allreduce --backend cuda --gpus 1 --devices 0 --algo nccl-auto --dtype fp32 "${sizes[@]}" \
        --warmup 10 --iters 50 --out "$GV_RUN/results/compare-dpbench-nccl-auto.json" || rc=1
      python3 "$GV_REPORT_PY" compare --nccl-tests "$GV_RUN/logs/nccl-tests-all_reduce_perf.log" \
        --dpbench "$GV_RUN/results/compare-dpbench-nccl-auto.json" --out "$GV_RUN/compare" || rc=1
      exit "$rc"
      ;;
    loader)
      # Every library each binary needs resolves; prints where each came from.
      rc=0
      for f in "$@"; do
        [ -x "$f" ] || { echo "$f: absent"; continue; }
        echo "$f:"; ldd "$f" | sed 's/^/  /'
        if ldd "$f" | grep -q 'not found'; then
          echo "gpu-validate: $(basename "$f") cannot load: $(ldd "$f" | awk '/not found/{print $1}' | tr '\n' ' ')(LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-})"
          rc=1
        fi
      done
      exit "$rc"
      ;;
    *) echo "gpu-validate: unknown internal step '$what'" >&2; exit 2 ;;
  esac
fi

# ==== arguments ====================================================================================
bundle=""; build_dir=""; phase="all"; run_id=""; export_dir="${OUT:-}"; plan=0; force=0
budget1="${GPU_VALIDATE_BUDGET1:-360}"; budget2="${GPU_VALIDATE_BUDGET2:-150}"
while [ "$#" -gt 0 ]; do
  case "$1" in
    --bundle) bundle="${2:-}"; [ -n "$bundle" ] || refuse "--bundle needs a file"; shift 2 ;;
    --bundle=*) bundle="${1#*=}"; shift ;;
    --build-dir) build_dir="${2:-}"; [ -n "$build_dir" ] || refuse "--build-dir needs a directory"; shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    --phase) phase="${2:-}"; shift 2 ;;
    --phase=*) phase="${1#*=}"; shift ;;
    --export) export_dir="${2:-}"; [ -n "$export_dir" ] || refuse "--export needs a directory"; shift 2 ;;
    --export=*) export_dir="${1#*=}"; shift ;;
    --run-id) run_id="${2:-}"; shift 2 ;;
    --run-id=*) run_id="${1#*=}"; shift ;;
    --force) force=1; shift ;;
    --plan|--dry-run) plan=1; shift ;;
    -h|--help) awk 'NR > 1 && /^# shellcheck/ {exit} NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$self"; exit 0 ;;
    *) refuse "unknown argument '$1' (see --help)" ;;
  esac
done
case "$phase" in 1|2|all) ;; *) refuse "--phase: expected 1, 2 or all, got '$phase'" ;; esac
[ -n "$bundle" ] && [ -n "$build_dir" ] && refuse "--bundle and --build-dir exclude each other"
case "$run_id" in ''|*[!A-Za-z0-9._-]*) [ -z "$run_id" ] || refuse "--run-id: letters, digits, '.', '_' and '-' only" ;; esac
for b in "$budget1" "$budget2"; do
  case "$b" in ''|*[!0-9]*) refuse "GPU_VALIDATE_BUDGET1/2 must be whole seconds, got '$b'" ;; esac
  [ "$b" -le 420 ] || refuse "a phase may take at most 420 s (7 min), got a budget of $b s"
done

# ==== is there a GPU? ===========================================================================
# GPU_VALIDATE_NVIDIA_SMI names the nvidia-smi to ask (tests point it at a stand-in).
gpus=0
if [ "$plan" -eq 0 ]; then
  smi="${GPU_VALIDATE_NVIDIA_SMI:-nvidia-smi}"
  if command -v "$smi" >/dev/null 2>&1; then
    gpus="$("$smi" -L 2>/dev/null | grep -c '^GPU' || true)"
  fi
  [ "${gpus:-0}" -ge 1 ] ||
    refuse "no GPU visible (nvidia-smi missing or lists none); run this on the GPU machine (reports/gpu/README.md), here run scripts/test.sh"
fi
[ "$plan" -eq 1 ] || [ -n "$bundle" ] || [ -n "$build_dir" ] ||
  refuse "needs --bundle FILE (made by scripts/gpu-bundle.sh) or --build-dir DIR; see --help"

# ==== binaries: from the bundle (primary) or an existing build tree ==============================
bundle_sha=""
if [ -n "$bundle" ] && [ "$plan" -eq 0 ]; then
  [ -f "$bundle" ] || refuse "no bundle at '$bundle' (make it with scripts/gpu-bundle.sh and carry it)"
  bundle_sha="$(sha256sum "$bundle" | cut -c1-12)"
  unpack="$root/.gpu-run/bundle-$bundle_sha"
  if [ ! -f "$unpack/.ok" ]; then
    rm -rf "$unpack"; mkdir -p "$unpack"
    unxz_to_stdout "$bundle" | tar -x -C "$unpack" || refuse "cannot unpack '$bundle' (not an xz tar?)"
    (cd "$unpack/dpbench-gpu-bundle" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1 ||
      refuse "bundle '$bundle' fails its SHA256SUMS check"
    touch "$unpack/.ok"
  fi
  B="$unpack/dpbench-gpu-bundle"
  bin="$B/bin/dpbench"; tests_bin="$B/bin/dpbench_gpu_tests"; nt_bin="$B/bin/all_reduce_perf"
  test_list="$B/gpu-tests.txt"; test_filter="$B/gpu-filter.txt"
  compiled_bin="$(sed -n 's/^COMPILED_DPBENCH_BINARY=//p' "$B/bundle.env")"
  compiled_src="$(sed -n 's/^COMPILED_SOURCE_DIR=//p' "$B/bundle.env")"
  run_id="${run_id:-$(date -u +%Y%m%d)-$bundle_sha}"
elif [ -n "$build_dir" ] && [ "$plan" -eq 0 ]; then
  case "$build_dir" in /*) ;; *) build_dir="$PWD/$build_dir" ;; esac
  bin="$build_dir/bench/dpbench"; tests_bin="$build_dir/tests/dpbench_gpu_tests"
  nt_bin="$root/.nccl-tests/build/all_reduce_perf"
  [ -x "$bin" ] || refuse "no dpbench binary at $bin (build it first: cmake --build $build_dir)"
  mkdir -p "$root/.gpu-run"
  test_filter="$root/.gpu-run/gpu-filter.txt"; test_list="$root/.gpu-run/gpu-tests.txt"
  echo '*' > "$test_filter"  # the gpu test binary holds only gpu tests (tests/CMakeLists.txt)
  if [ -x "$tests_bin" ]; then
    "$tests_bin" --gtest_list_tests --gtest_filter="$(cat "$test_filter")" |
      awk '/^[^ ]/{suite=$1; next} /^  /{sub(/^  /,""); sub(/ +#.*$/,""); print suite $0}' > "$test_list"
  fi
  compiled_bin=""; compiled_src=""
  run_id="${run_id:-$(date -u +%Y%m%d)-build}"
else
  # --plan: placeholders; nothing is read or run.
  B='<bundle>/dpbench-gpu-bundle'
  bin="$B/bin/dpbench"; tests_bin="$B/bin/dpbench_gpu_tests"; nt_bin="$B/bin/all_reduce_perf"
  test_list="$B/gpu-tests.txt"; test_filter="$B/gpu-filter.txt"
  compiled_bin=""; compiled_src=""
  run_id="${run_id:-<date>-<bundle hash>}"
fi
run="$root/reports/gpu/$run_id"

# ==== step runner =================================================================================
phase_now=0; deadline=0
begin_phase() {  # begin_phase N BUDGET_S
  phase_now="$1"; deadline=$(( $(date +%s) + $2 ))
  if [ "$plan" -eq 1 ]; then echo; echo "phase $1 (budget $2 s):"; else echo "=== phase $1 (budget $2 s) ==="; fi
}
# record NAME RESULT SECONDS COMMAND...: one status file per step.
record() {
  local name="$1" result="$2" secs="$3"; shift 3
  printf '%s\t%s\t%s\t%s\n' "$result" "$secs" "$phase_now" "$*" > "$run/steps/$name.status"
}
# step NAME LIMIT_S COMMAND...: runs with min(LIMIT, time left in the phase), logs to logs/NAME.log.
step() {
  local name="$1" limit="$2"; shift 2
  if [ "$plan" -eq 1 ]; then printf '  %-28s <= %3ss  %s\n' "$name" "$limit" "$*"; return 0; fi
  local st="$run/steps/$name.status"
  if [ "$force" -eq 0 ] && [ -f "$st" ] && [ "$(cut -f1 "$st")" = pass ]; then
    echo "--- $name: passed in an earlier run of $run_id; skipped (--force reruns it)"; return 0
  fi
  local left=$(( deadline - $(date +%s) ))
  if [ "$left" -lt 15 ]; then
    record "$name" "skipped (phase $phase_now budget spent)" 0 "$@"; echo "--- $name: skipped (phase budget spent)"; return 0
  fi
  [ "$limit" -le "$left" ] || limit="$left"
  local log="$run/logs/$name.log" t0 rc result
  t0=$(date +%s)
  echo "--- $name (<= ${limit}s): $*" | tee "$log"
  if timeout --kill-after=10 "$limit" "$@" >> "$log" 2>&1; then rc=0; else rc=$?; fi
  local dt=$(( $(date +%s) - t0 ))
  if [ "$rc" -eq 0 ]; then result=pass
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then result="FAIL (timed out after ${limit}s)"
  else result="FAIL (exit $rc)"; fi
  record "$name" "$result" "$dt" "$@"
  echo "    $result in ${dt}s"
  [ "$rc" -eq 0 ] || tail -n 6 "$log" | cut -c1-200 | sed 's/^/    | /'
}
# outf NAME FILE: sets o=(--out FILE), plus --resume when an earlier run of the step timed out and
# left FILE (dpbench rewrites it atomically after every point), so a rerun only adds missing points.
o=()
outf() {
  o=(--out "$2")
  if [ "$plan" -eq 0 ] && [ "$force" -eq 0 ] && [ -s "$2" ] && grep -qs 'timed out' "$run/steps/$1.status"; then
    o+=(--resume)
  fi
}
# skip NAME REASON: a step that cannot run here, with the reason in the record.
skip() {
  if [ "$plan" -eq 1 ]; then printf '  %-28s skipped when: %s\n' "$1" "$2"; return 0; fi
  record "$1" "skipped ($2)" 0 -; echo "--- $1: skipped ($2)"
}
# note NAME TEXT: in --plan, a condition on the next step.
note() { if [ "$plan" -eq 1 ]; then printf '  %-28s (%s)\n' "" "$*"; fi; }

export_results() {
  python3 "$root/scripts/gpu-validate-report.py" summary --run "$run" || true
  [ -n "$export_dir" ] || return 0
  mkdir -p "$export_dir"
  cp "$run/summary.md" "$run/summary.json" "$export_dir/" 2>/dev/null || true
  local tarball="$export_dir/gpu-$run_id.tar.xz"
  tar -C "$root" -cf - "reports/gpu/$run_id" | xz_from_stdin "$tarball.tmp" && mv "$tarball.tmp" "$tarball"
  # The device tool brings back files of at most 16 MiB: past 15 MiB, leave the results files out.
  if [ "$(stat -c %s "$tarball")" -gt $((15 * 1024 * 1024)) ]; then
    tar -C "$root" --exclude='*/results/*' -cf - "reports/gpu/$run_id" | xz_from_stdin "$tarball"
    echo "gpu-validate: $tarball left out results/ to stay under 16 MiB" >&2
  fi
}

# ==== environment: loader paths, links, facts ===================================================
# The binaries need libcublas.so.13, libcublasLt.so.13 and libnccl.so.2. On the GPU machine they
# come from PyTorch's wheels: site-packages/nvidia/cu13/lib (cuBLAS, runtime) and nvidia/nccl/lib.
lib_dirs=()
discover_libs() {
  local py d
  if [ -n "${DPBENCH_LIB_DIRS:-}" ]; then IFS=: read -r -a lib_dirs <<<"$DPBENCH_LIB_DIRS"; return 0; fi
  for py in /opt/torch/.venv/bin/python3 python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    while IFS= read -r d; do [ -n "$d" ] && lib_dirs+=("$d"); done < <("$py" - 2>/dev/null <<'EOF' || true
import os
try:
    import nvidia
except Exception:
    raise SystemExit(0)
for base in list(getattr(nvidia, "__path__", [])):
    for sub in ("cu13/lib", "nccl/lib", "cublas/lib", "cuda_runtime/lib"):
        d = os.path.join(base, sub)
        if os.path.isdir(d):
            print(d)
EOF
)
    [ "${#lib_dirs[@]}" -gt 0 ] && return 0
  done
  # No importable `nvidia` package: look for the wheels' libraries under the usual venvs.
  while IFS= read -r d; do lib_dirs+=("$d"); done < <(find /opt/torch/.venv /usr/local/lib /usr/lib/python3* \
      -path '*/site-packages/nvidia/*' \( -name 'libnccl.so.2' -o -name 'libcublas.so.13' \) -printf '%h\n' 2>/dev/null | sort -u)
}

if [ "$plan" -eq 0 ]; then
  mkdir -p "$run/steps" "$run/logs" "$run/results"
  discover_libs
  if [ "${#lib_dirs[@]}" -gt 0 ]; then
    LD_LIBRARY_PATH="$(IFS=:; echo "${lib_dirs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export LD_LIBRARY_PATH
  fi
  # The test binary runs the dpbench binary and reads the schema at the paths it was built with.
  # The source dir first: the binary's build folder usually lies inside it.
  if [ -n "$compiled_src" ] && [ ! -e "$compiled_src" ]; then
    mkdir -p "$(dirname "$compiled_src")" 2>/dev/null && ln -sfn "$root" "$compiled_src" 2>/dev/null ||
      echo "gpu-validate: warning: cannot link $compiled_src to $root" >&2
  fi
  if [ -n "$compiled_bin" ] && [ "$compiled_bin" != "$bin" ]; then
    if [ ! -e "$compiled_bin" ] || [ -L "$compiled_bin" ]; then
      mkdir -p "$(dirname "$compiled_bin")" 2>/dev/null && ln -sfn "$bin" "$compiled_bin" 2>/dev/null ||
        echo "gpu-validate: warning: cannot link $compiled_bin (the CLI tests will fail)" >&2
    fi
  fi
  {
    echo "run_id=$run_id"
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host=$(hostname 2>/dev/null || echo unknown)"
    echo "kernel=$(uname -r)"
    echo "bundle=${bundle:-}"
    echo "bundle_sha256_12=$bundle_sha"
    [ -n "$bundle" ] && sed 's/^/bundle./' "$B/bundle.env"
    echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
    echo "gpus=$gpus"
    "${GPU_VALIDATE_NVIDIA_SMI:-nvidia-smi}" --query-gpu=index,name,driver_version,memory.total,clocks.sm,clocks.mem \
      --format=csv,noheader 2>/dev/null | sed 's/^/gpu=/'
    for f in "$bin" "$tests_bin" "$nt_bin"; do
      [ -x "$f" ] || continue
      ldd "$f" 2>&1 | awk -v b="$(basename "$f")" '/=>/{print "ldd." b "." $1 "=" $3}'
    done
    echo "compute_sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || echo none)"
  } > "$run/env.txt" 2>&1
  echo "gpu-validate: $gpus GPU(s); run $run_id in $run"
  echo "gpu-validate: LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
fi

# ==== phase 1 =====================================================================================
custom="p2p-ring,p2p-tree,p2p-direct"
nccl="nccl-ring,nccl-tree,nccl-auto"
if [ "$gpus" -ge 2 ]; then
  n=$(( gpus < 4 ? gpus : 4 )); devs="$(seq -s, 0 $((n - 1)))"
  custom_ranks=(--gpus "$(seq -s, 1 "$n")" --devices "$devs"); nccl_ranks=("${custom_ranks[@]}")
else
  custom_ranks=(--gpus 1,2,4 --devices 0,0,0,0); nccl_ranks=(--gpus 1 --devices 0)
fi
stop=(--warmup 2 --min-iters 3 --max-iters 50 --max-time 0.05)

phase1() {
  begin_phase 1 "$budget1"
  # The loader: every library each binary needs resolves (ldd), else nothing below can run.
  step loader 20 bash "$self" --internal loader "$bin" "$tests_bin" "$nt_bin"
  step info 60 "$bin" info --backend cuda --out "$run/results/info.json"
  step tests-gpu 170 env GV_SHARDS=4 GV_TESTS_BIN="$tests_bin" GV_TEST_LIST="$test_list" GV_TEST_FILTER="$test_filter" \
    GV_RUN="$run" bash "$self" --internal tests-gpu
  outf allreduce-p2p-1g "$run/results/allreduce-p2p-1g.json"
  step allreduce-p2p-1g 150 "$bin" allreduce --backend cuda "${custom_ranks[@]}" --algo "$custom" --dtype fp32 \
    -b 1K -e 1G -f 32 "${stop[@]}" "${o[@]}"
  outf allreduce-nccl-1g "$run/results/allreduce-nccl-1g.json"
  step allreduce-nccl-1g 90 "$bin" allreduce --backend cuda "${nccl_ranks[@]}" --algo "$nccl" --dtype fp32,bf16 \
    -b 1K -e 1G -f 32 "${stop[@]}" "${o[@]}"
  note "needs bin/all_reduce_perf in the bundle (scripts/gpu-nccl-tests.sh)"
  if [ "$plan" -eq 1 ] || [ -x "$nt_bin" ]; then
    step nccl-tests-compare 90 env GV_NT_BIN="$nt_bin" GV_BIN="$bin" GV_RUN="$run" \
      GV_REPORT_PY="$root/scripts/gpu-validate-report.py" bash "$self" --internal nccl-tests-compare
  else
    skip nccl-tests-compare "the bundle has no all_reduce_perf"
  fi
  outf allreduce-p2p-dtypes "$run/results/allreduce-p2p-dtypes.json"
  step allreduce-p2p-dtypes 60 "$bin" allreduce --backend cuda "${custom_ranks[@]}" --algo "$custom" --dtype fp16,bf16 \
    -b 1K -e 16M -f 16 "${stop[@]}" "${o[@]}"
  # NCCL >= 2.30 may put 2 ranks on one GPU (NCCL_MULTI_RANK_GPU_ENABLE=1): functional only.
  note "needs one GPU, a loaded NCCL >= 2.30 and a dpbench option naming multi-rank"
  local mr_flag="" nccl_version=""
  if [ "$plan" -eq 0 ]; then
    mr_flag="$("$bin" allreduce --help 2>/dev/null | grep -oE -- '--[a-z0-9-]*multi-rank[a-z0-9-]*' | head -n1 || true)"
    nccl_version="$(python3 "$root/scripts/gpu-validate-report.py" nccl-version --info "$run/results/info.json" 2>/dev/null || true)"
    echo "nccl_loaded=${nccl_version:-unknown}" >> "$run/env.txt"
  fi
  if [ "$plan" -eq 1 ]; then
    step allreduce-nccl-2rank-1gpu 60 env NCCL_MULTI_RANK_GPU_ENABLE=1 "$bin" allreduce --backend cuda --gpus 2 \
      --devices 0,0 "<multi-rank option>" --algo "$nccl" --dtype fp32 -b 1K -e 256M -f 16 "${stop[@]}" \
      --out "$run/results/allreduce-nccl-2rank-1gpu.json"
  elif [ "$gpus" -ge 2 ]; then
    skip allreduce-nccl-2rank-1gpu "several GPUs: NCCL runs one rank per GPU above"
  elif ! python3 "$root/scripts/gpu-validate-report.py" version-at-least "${nccl_version:-0}" 2.30 2>/dev/null; then
    skip allreduce-nccl-2rank-1gpu "loaded NCCL ${nccl_version:-unknown} < 2.30 refuses two ranks on one GPU"
  elif [ -z "$mr_flag" ]; then
    skip allreduce-nccl-2rank-1gpu "NCCL $nccl_version >= 2.30, but dpbench allreduce has no multi-rank option yet"
  else
    step allreduce-nccl-2rank-1gpu 60 env NCCL_MULTI_RANK_GPU_ENABLE=1 "$bin" allreduce --backend cuda --gpus 2 \
      --devices 0,0 "$mr_flag" --algo "$nccl" --dtype fp32 -b 1K -e 256M -f 16 "${stop[@]}" \
      --out "$run/results/allreduce-nccl-2rank-1gpu.json"
  fi
  outf train-custom "$run/results/train-custom.json"
  step train-custom 90 "$bin" train --backend cuda --model medium "${custom_ranks[@]}" --algo "$custom" \
    --precision fp32,bf16 --warmup 1 --iters 3 --timeout 60 "${o[@]}"
  outf train-nccl "$run/results/train-nccl.json"
  step train-nccl 60 "$bin" train --backend cuda --model medium "${nccl_ranks[@]}" --algo nccl-auto \
    --precision fp32,fp16,bf16 --warmup 1 --iters 3 --timeout 60 "${o[@]}"
  step allreduce-graph 60 "$bin" allreduce --backend cuda "${custom_ranks[@]}" --algo "p2p-ring,p2p-direct" \
    --dtype fp32 -b 1K -e 4M -f 64 --graph 10 --iters 5 --warmup 1 --out "$run/results/allreduce-graph-p2p.json"
  step allreduce-graph-nccl 45 "$bin" allreduce --backend cuda "${nccl_ranks[@]}" --algo nccl-auto \
    --dtype fp32 -b 1K -e 4M -f 64 --graph 10 --iters 5 --warmup 1 --out "$run/results/allreduce-graph-nccl.json"
  step p2p 45 "$bin" p2p --backend cuda --devices "$( [ "$gpus" -ge 2 ] && seq -s, 0 $((gpus < 4 ? gpus - 1 : 3)) || echo 0,0)" \
    --size 256M --repeats 5 --out "$run/results/p2p.json"
  [ "$plan" -eq 1 ] || export_results
}

# ==== phase 2 =====================================================================================
phase2() {
  begin_phase 2 "$budget2"
  local san
  san="$(command -v compute-sanitizer || true)"
  [ -n "$san" ] || [ ! -x /usr/local/cuda/bin/compute-sanitizer ] || san=/usr/local/cuda/bin/compute-sanitizer
  [ "$plan" -eq 0 ] || san=compute-sanitizer
  if [ -z "$san" ]; then
    skip sanitizer "compute-sanitizer not found"
  else
    # Two gpu tests: one of the CUDA backend, one p2p all-reduce with 4 ranks on one GPU.
    local t1="" t2=""
    if [ "$plan" -eq 0 ]; then
      t1="$(grep -m1 -E '^CudaBackend\.' "$test_list" || grep -m1 -E 'Cuda' "$test_list" || true)"
      # 4 p2p ranks sharing GPU 0 with an odd count: peer copies, signals and reduce kernels.
      t2="$(grep -m1 -E 'p2p_ring_4ranks_997_fp32.*onedevice' "$test_list" || grep -m1 -E 'p2p_ring|P2p|Signal' "$test_list" || true)"
    fi
    local k=0 t
    for t in "${t1:-<first CudaBackend test>}" "${t2:-<first p2p_ring_4ranks_997 onedevice test>}"; do
      k=$((k + 1))
      case "$t" in '<'*) [ "$plan" -eq 1 ] || { skip "sanitizer-memcheck-test$k" "no such gpu test in the list"; continue; } ;; esac
      step "sanitizer-memcheck-test$k" 60 "$san" --tool memcheck --error-exitcode 1 "$tests_bin" --gtest_filter="$t"
    done
    local ar=(allreduce --backend cuda --gpus 2 --devices 0,0 --algo p2p-ring,p2p-tree --dtype fp32,bf16
              -b 1K -e 64K -f 64 --warmup 1 --iters 2)
    [ "$gpus" -lt 2 ] || ar=(allreduce --backend cuda --gpus 2 --devices 0,1 --algo p2p-ring,p2p-tree --dtype fp32,bf16
              -b 1K -e 64K -f 64 --warmup 1 --iters 2)
    step sanitizer-memcheck-allreduce 60 "$san" --tool memcheck --error-exitcode 1 "$bin" "${ar[@]}"
    step sanitizer-racecheck-allreduce 60 "$san" --tool racecheck --error-exitcode 1 "$bin" "${ar[@]}"
    step sanitizer-memcheck-nccl 45 "$san" --tool memcheck --error-exitcode 1 "$bin" allreduce --backend cuda \
      --gpus 1 --devices 0 --algo nccl-auto --dtype fp32 -b 1K -e 64K -f 64 --warmup 1 --iters 2
    step sanitizer-memcheck-train 60 "$san" --tool memcheck --error-exitcode 1 "$bin" train --backend cuda \
      --model small --gpus 2 --devices "${ar[6]}" --algo p2p-ring --precision fp32,bf16 --warmup 1 --iters 2
  fi
  [ "$plan" -eq 1 ] || export_results
}

if [ "$plan" -eq 1 ]; then
  echo "gpu-validate plan (run $run_id; results in reports/gpu/$run_id/; nothing runs):"
  echo "  loader: LD_LIBRARY_PATH gets site-packages/nvidia/cu13/lib and nvidia/nccl/lib, found through python3's"
  echo "  'nvidia' package (/opt/torch/.venv first), else by a find under the venvs; DPBENCH_LIB_DIRS overrides"
fi
case "$phase" in
  1) phase1 ;;
  2) phase2 ;;
  all) phase1; phase2 ;;
esac
[ "$plan" -eq 0 ] || exit 0

echo
cat "$run/summary.md"
python3 "$root/scripts/gpu-validate-report.py" verdict --run "$run"

#!/usr/bin/env bash
# Builds dpbench and its test binary HERE and packs what scripts/gpu-validate.sh needs on the GPU
# machine (which has no compiler toolchain for this project: no Debian packages, no network) into
# one xz-compressed archive under 16 MB:
#
#   dpbench-gpu-bundle/bin/dpbench           the CLI (CUDA backend built in; static cudart, OpenBLAS)
#   dpbench-gpu-bundle/bin/dpbench_gpu_tests the GoogleTest binary of the tests labelled `gpu`
#   dpbench-gpu-bundle/bin/all_reduce_perf   nccl-tests, when .nccl-tests/ holds a build
#                                            (scripts/gpu-nccl-tests.sh; built here on request)
#   dpbench-gpu-bundle/gpu-tests.txt         the ctest tests labelled `gpu`, one gtest name a line
#   dpbench-gpu-bundle/gpu-filter.txt        the gtest filter that selects them all ("*": the binary
#                                            holds only gpu tests, tests/CMakeLists.txt)
#   dpbench-gpu-bundle/bundle.env            KEY=value facts the validation script reads
#   dpbench-gpu-bundle/MANIFEST.json         files, sizes, sha256, needed libraries, build facts
#
#   scripts/gpu-bundle.sh [--build-dir DIR] [--out FILE] [--no-build] [--nccl-tests auto|build|skip]
#                         [--nccl-tests-dir DIR]
#
# --build-dir  default <repo>/build (configured with CMake's defaults when it holds no CMakeCache.txt)
# --out        default <repo>/.gpu-bundle/dpbench-gpu-bundle.tar.xz (git-ignored: carry it, never commit)
# --no-build   take the binaries as they are in the build directory
# --nccl-tests auto (default): include .nccl-tests/build/all_reduce_perf, building it first when its
#              source is at hand; build: fail when it cannot be built; skip: leave it out
# --nccl-tests-dir  where scripts/gpu-nccl-tests.sh builds (default <repo>/.nccl-tests; another
#              checkout's .nccl-tests works too)
# Exit status: 0 written, 1 build/packing failed or archive too large, 2 bad arguments.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build"
out="$root/.gpu-bundle/dpbench-gpu-bundle.tar.xz"
do_build=1
nt_dir="$root/.nccl-tests"
nccl_tests=auto
max_bytes=$((16 * 1000 * 1000))   # "under 16 MB"; also under the 16 MiB a device file may have
die() { echo "gpu-bundle: $*" >&2; exit "${2:-2}"; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --build-dir) build="${2:?--build-dir needs a directory}"; shift 2 ;;
    --out) out="${2:?--out needs a file}"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --nccl-tests) nccl_tests="${2:?--nccl-tests needs auto, build or skip}"; shift 2 ;;
    --nccl-tests-dir) nt_dir="${2:?--nccl-tests-dir needs a directory}"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case "$nccl_tests" in auto|build|skip) ;; *) die "--nccl-tests: expected auto, build or skip, got '$nccl_tests'" ;; esac
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
command -v xz >/dev/null || die "xz is not installed (apt-get install xz-utils)"

# ---- build -----------------------------------------------------------------------------------------
if [ "$do_build" -eq 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then
    echo "gpu-bundle: configuring $build (Release)"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null || die "cmake configure failed" 1
  fi
  echo "gpu-bundle: building dpbench and dpbench_gpu_tests in $build"
  nice cmake --build "$build" -j "$(nproc)" --target dpbench dpbench_gpu_tests >/dev/null ||
    die "build failed (run: cmake --build $build --target dpbench dpbench_gpu_tests)" 1
fi
bin="$build/bench/dpbench"
tests_bin="$build/tests/dpbench_gpu_tests"
[ -x "$bin" ] || die "no dpbench binary at $bin" 1
[ -x "$tests_bin" ] || die "no test binary at $tests_bin" 1
version_text="$("$bin" --version 2>&1)" || die "$bin --version failed" 1
grep -q '^backends:.*cuda' <<<"$version_text" ||
  die "$bin has no CUDA backend (built without nvcc?): $(tr '\n' ' ' <<<"$version_text")" 1
# The paths compiled into the test binary (tests/CMakeLists.txt: DPBENCH_BINARY, DPBENCH_TEST_SOURCE_DIR);
# the validation script recreates them as links on the GPU machine.
compiled_bin="$(cd "$(dirname "$bin")" && pwd)/dpbench"
compiled_src="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")"
compiled_src="${compiled_src:-$root}"
# Only tests that run the CLI hold the binary's path; the gpu tests run none today, so then there is
# nothing to link on the GPU machine.
grep -aqF "$compiled_bin" "$tests_bin" || compiled_bin=""

# ---- nccl-tests ----------------------------------------------------------------------------------
case "$nt_dir" in /*) ;; *) nt_dir="$PWD/$nt_dir" ;; esac
if [ "$nccl_tests" != skip ]; then
  if [ "$nccl_tests" = build ] || [ ! -x "$nt_dir/build/all_reduce_perf" ]; then
    if ! "$root/scripts/gpu-nccl-tests.sh" --dir "$nt_dir"; then
      [ "$nccl_tests" = build ] && die "nccl-tests could not be built" 1
      echo "gpu-bundle: warning: no nccl-tests build; the bundle leaves all_reduce_perf out" >&2
    fi
  fi
fi

# ---- the gpu test list ---------------------------------------------------------------------------
# Every test of the gpu test binary is labelled gpu (tests/CMakeLists.txt).
filter_line="*"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
b="$stage/dpbench-gpu-bundle"
mkdir -p "$b/bin"
list_source=""
if command -v ctest >/dev/null && [ -f "$build/tests/CTestTestfile.cmake" ] &&
   ctest --test-dir "$build" -L gpu --show-only=json-v1 > "$stage/ctest.json" 2>/dev/null; then
  # gtest_discover_tests appends "  # GetParam() = ..." to parameterised names: keep the gtest name.
  python3 -c 'import json,re,sys; [print(re.sub(r"\s+#.*$", "", t["name"])) for t in json.load(open(sys.argv[1]))["tests"]]' \
    "$stage/ctest.json" > "$b/gpu-tests.txt"
  list_source="ctest -L gpu"
fi
if [ ! -s "$b/gpu-tests.txt" ]; then
  # Not discovered by ctest (yet): the same names from the binary.
  "$tests_bin" --gtest_list_tests --gtest_filter="$filter_line" |
    awk '/^[^ ]/{suite=$1; next} /^  /{sub(/^  /,""); sub(/ +#.*$/,""); print suite $0}' > "$b/gpu-tests.txt"
  list_source="dpbench_gpu_tests --gtest_list_tests"
fi
[ -s "$b/gpu-tests.txt" ] || die "no gpu tests found" 1
printf '%s\n' "$filter_line" > "$b/gpu-filter.txt"
gpu_test_count="$(wc -l < "$b/gpu-tests.txt")"

# ---- stage, manifest, pack -------------------------------------------------------------------------
cp "$bin" "$b/bin/dpbench"
cp "$tests_bin" "$b/bin/dpbench_gpu_tests"
nt_version=""
if [ "$nccl_tests" != skip ] && [ -x "$nt_dir/build/all_reduce_perf" ]; then
  cp "$nt_dir/build/all_reduce_perf" "$b/bin/all_reduce_perf"
  cp "$nt_dir/VERSION" "$b/nccl-tests.VERSION"
  nt_version="$(sed -n 's/^version=//p' "$nt_dir/VERSION")"
fi
# Symbols stay (sanitizer backtraces name host frames); debug sections, if any, go.
strip --strip-debug "$b"/bin/*

git_commit="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
git_dirty="$( [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ] && echo true || echo false)"
cuda_archs="$(sed -n 's/^CMAKE_CUDA_ARCHITECTURES:[A-Z]*=//p' "$build/CMakeCache.txt")"
{
  echo "BUNDLE_FORMAT=1"
  echo "CREATED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "GIT_COMMIT=$git_commit"
  echo "GIT_DIRTY=$git_dirty"
  echo "COMPILED_DPBENCH_BINARY=$compiled_bin"
  echo "COMPILED_SOURCE_DIR=$compiled_src"
  echo "CUDA_ARCHITECTURES=$cuda_archs"
  echo "GPU_TESTS=$gpu_test_count"
  echo "NCCL_TESTS_VERSION=$nt_version"
  echo "DPBENCH_VERSION=$(head -n1 <<<"$version_text")"
  echo "BUILT_AGAINST=$(sed -n 's/^built against: //p' <<<"$version_text")"
} > "$b/bundle.env"

python3 - "$b" "$list_source" <<'EOF'
import hashlib, json, os, re, subprocess, sys
b, list_source = sys.argv[1], sys.argv[2]
env = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(b, "bundle.env")) if "=" in l)
def needs(path):
    try:
        out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    except Exception:
        return []
    return re.findall(r"\(NEEDED\).*\[(.+?)\]", out)
def glibc(path):
    try:
        out = subprocess.run(["objdump", "-T", path], capture_output=True, text=True, check=True).stdout
    except Exception:
        return None
    vs = {tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", out)}
    return ".".join(map(str, max(vs))) if vs else None
files = []
for dirpath, _, names in os.walk(b):
    for n in sorted(names):
        p = os.path.join(dirpath, n)
        rel = os.path.relpath(p, b)
        h = hashlib.sha256(open(p, "rb").read()).hexdigest()
        entry = {"path": rel, "bytes": os.path.getsize(p), "sha256": h}
        if rel.startswith("bin/"):
            entry["needs"] = needs(p)
            entry["max_glibc"] = glibc(p)
        files.append(entry)
files.sort(key=lambda f: f["path"])
manifest = {
    "format": "dpbench-gpu-bundle", "format_version": int(env["BUNDLE_FORMAT"]),
    "created_at": env["CREATED_AT"], "git_commit": env["GIT_COMMIT"], "git_dirty": env["GIT_DIRTY"] == "true",
    "dpbench_version": env["DPBENCH_VERSION"], "built_against": env["BUILT_AGAINST"],
    "cuda_architectures": env["CUDA_ARCHITECTURES"],
    "compiled_paths": {"dpbench_binary": env["COMPILED_DPBENCH_BINARY"], "source_dir": env["COMPILED_SOURCE_DIR"]},
    "gpu_tests": {"count": int(env["GPU_TESTS"]), "file": "gpu-tests.txt", "filter_file": "gpu-filter.txt",
                  "listed_by": list_source},
    "nccl_tests": ({"binary": "bin/all_reduce_perf", "version": env["NCCL_TESTS_VERSION"],
                    "facts": "nccl-tests.VERSION"} if env["NCCL_TESTS_VERSION"] else None),
    "files": files,
}
with open(os.path.join(b, "MANIFEST.json"), "w") as f:
    json.dump(manifest, f, indent=1)
    f.write("\n")
EOF
(cd "$b" && sha256sum bin/* gpu-tests.txt gpu-filter.txt bundle.env MANIFEST.json > SHA256SUMS)

mkdir -p "$(dirname "$out")"
tmp_out="$out.tmp.$$"
tar -C "$stage" --owner=0 --group=0 -cf - dpbench-gpu-bundle | xz -9 -T"$(nproc)" > "$tmp_out" ||
  { rm -f "$tmp_out"; die "packing failed" 1; }
size="$(stat -c %s "$tmp_out")"
if [ "$size" -ge "$max_bytes" ]; then
  rm -f "$tmp_out"
  die "archive would be $size bytes, not under $max_bytes (16 MB)" 1
fi
mv "$tmp_out" "$out"
# What a device call carries: tracked and untracked-not-ignored files plus the carried bundle (64 MiB).
tree_bytes="$(cd "$root" && git ls-files -z --cached --others --exclude-standard 2>/dev/null |
  du -cb --files0-from=- 2>/dev/null | tail -n1 | cut -f1 || echo 0)"
carry_total=$(( ${tree_bytes:-0} + size ))
if [ "$carry_total" -gt $((60 * 1024 * 1024)) ]; then
  echo "gpu-bundle: warning: working tree ($tree_bytes bytes) plus bundle is $carry_total bytes, near or over the 64 MiB a device call carries" >&2
fi
echo "gpu-bundle: wrote $out ($size bytes; $gpu_test_count gpu tests; nccl-tests: ${nt_version:-none}; commit ${git_commit:0:12}$([ "$git_dirty" = true ] && echo ' +local changes'); tree + bundle $carry_total bytes of the 64 MiB a device call carries)"

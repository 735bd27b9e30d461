#!/usr/bin/env bash
# Builds nccl-tests' all_reduce_perf HERE (sm_90, static cudart, dynamic libnccl.so.2) from a copy
# of github:NVIDIA/nccl-tests fetched beforehand, so that scripts/gpu-bundle.sh can carry it to the
# GPU machine (which has nvcc but no NCCL headers and no network). Nothing is downloaded here either:
# the source is a git directory (the agents' `fetch` tool puts one at
# /work/.mirror/NVIDIA+nccl-tests/repo) or an unpacked source tree. The copy and the build live in
# the git-ignored folder .nccl-tests/ and are never committed.
#
#   scripts/gpu-nccl-tests.sh [--src GIT_DIR_OR_SOURCE_TREE] [--dir DIR]
#
# --src  default: $NCCL_TESTS_SRC, else /work/.mirror/NVIDIA+nccl-tests/repo
# --dir  default: <repo>/.nccl-tests   (result: DIR/build/all_reduce_perf and DIR/VERSION)
# Exit status: 0 built (or already up to date), 1 build failed, 2 bad arguments or no source.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="${NCCL_TESTS_SRC:-/work/.mirror/NVIDIA+nccl-tests/repo}"
dir="$root/.nccl-tests"
die() { echo "gpu-nccl-tests: $*" >&2; exit 2; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --src) src="${2:?--src needs a path}"; shift 2 ;;
    --dir) dir="${2:?--dir needs a path}"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
[ -e "$src" ] || die "no nccl-tests source at '$src' (fetch github:NVIDIA/nccl-tests first, or pass --src)"
cuda="${CUDA_HOME:-/usr/local/cuda}"
[ -x "$cuda/bin/nvcc" ] || die "no nvcc at $cuda/bin/nvcc (set CUDA_HOME)"
[ -f "$cuda/include/nccl.h" ] || [ -f /usr/include/nccl.h ] || [ -f /usr/local/include/nccl.h ] ||
  die "no nccl.h under $cuda/include, /usr/include or /usr/local/include"

# The source: a git directory (bare or not) is exported at HEAD; a source tree is copied.
if git --git-dir="$src" rev-parse --verify -q HEAD >/dev/null 2>&1; then
  rev="$(git --git-dir="$src" rev-parse HEAD)"
  kind=git
elif [ -f "$src/src/all_reduce.cu" ]; then
  rev="tree:$(cd "$src" && find src verifiable os -type f -printf '%P %s\n' 2>/dev/null |
               sort | sha256sum | cut -c1-16)"
  kind=tree
else
  die "'$src' is neither a git directory nor an nccl-tests source tree (no src/all_reduce.cu)"
fi
bin="$dir/build/all_reduce_perf"
if [ -x "$bin" ] && [ "$(sed -n 's/^source_commit=//p' "$dir/VERSION" 2>/dev/null)" = "$rev" ]; then
  echo "gpu-nccl-tests: up to date: $bin ($rev)"
  exit 0
fi

rm -rf "$dir/src" "$dir/build"
mkdir -p "$dir/src"
if [ "$kind" = git ]; then
  git --git-dir="$src" archive --format=tar HEAD | tar -x -C "$dir/src"
else
  cp -a "$src/." "$dir/src/"
fi
# A guard in case the folder is used outside this repository's .gitignore.
printf '*\n' > "$dir/.gitignore"

version="$(sed -n 's/.*NCCL_TESTS_VERSION[^0-9]*\([0-9][0-9.]*\).*/\1/p' "$dir/src/src/common.h" | head -n1)"
echo "gpu-nccl-tests: building all_reduce_perf ${version:+$version }($rev) in $dir/build"
jobs="$(nproc 2>/dev/null || echo 2)"
# Only Hopper (the GPU machine's H200): one gencode keeps the build short and the binary small.
# Static cudart: the binary then needs only libnccl.so.2 (from the nvidia-nccl-cu13 wheel there).
if ! nice make -C "$dir/src/src" -j "$jobs" \
     CUDA_HOME="$cuda" BUILDDIR="$dir/build" NCCL_HOME="" CUDARTLIB=cudart_static \
     NVCC_GENCODE="-gencode=arch=compute_90,code=sm_90" "$bin" > "$dir/build.log" 2>&1; then
  tail -n 20 "$dir/build.log" >&2
  echo "gpu-nccl-tests: build failed (full log: $dir/build.log)" >&2
  exit 1
fi
strip --strip-debug "$bin"
headers="$(sed -n 's/^#define NCCL_VERSION_CODE *\([0-9]*\).*/\1/p' "$cuda/include/nccl.h" 2>/dev/null | head -n1)"
{
  echo "name=nccl-tests"
  echo "version=$version"
  echo "source_commit=$rev"
  echo "source=$src"
  echo "nccl_headers=$headers"
  echo "gencode=sm_90"
  echo "cudart=static"
  echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > "$dir/VERSION"
echo "gpu-nccl-tests: built $bin ($(du -h "$bin" | cut -f1)); needs: $(ldd "$bin" 2>/dev/null | awk '/=>/{print $1}' | tr '\n' ' ')"

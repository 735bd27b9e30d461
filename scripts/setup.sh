#!/usr/bin/env bash
# Installs what dpbench needs on a fresh Debian machine, idempotently: Debian packages with apt-get
# (only when something is missing) and the Python reporting package (editable, with its test extra)
# into a venv under the build tree (only when scripts/pyproject.toml, which lists its dependencies,
# changed). Fast when all is present.
#   scripts/setup.sh [BUILD_DIR]      (default: build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac

packages=(cmake make g++ git pkg-config python3 python3-venv libgtest-dev libbenchmark-dev
          nlohmann-json3-dev libcli11-dev libopenblas-dev chromium
          openmpi-bin libopenmpi-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The CUDA toolkit is not a Debian package here; put its nvcc on PATH where it is installed.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  echo "setup: CUDA toolkit found at /usr/local/cuda (add /usr/local/cuda/bin to PATH to use nvcc directly)"
fi

venv="$build/venv"
stamp="$venv/.pyproject.sha256"
want="$(sha256sum "$root/scripts/pyproject.toml" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating Python venv in $venv"
  mkdir -p "$build"
  python3 -m venv "$venv"
  # Editable: the venv's dpbench-report runs this checkout's code, templates and schema.
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$root/scripts[test]"
  echo "$want" >"$stamp"
fi
echo "setup: ok (build tree $build)"

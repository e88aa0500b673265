#!/usr/bin/env bash
# Set-up for a fresh Debian machine: installs the Debian packages typegrad needs (as root, with
# apt-get; through sudo when not root), then configures and builds typegrad (Release) in build/.
# Run by scripts/run.sh and scripts/test.sh; safe to run again (does only what is missing).
#   scripts/bootstrap.sh                   # builds everything: tests, benchmarks, the CLI
#   scripts/bootstrap.sh typegrad_cli      # builds only the targets named (and what they need)
# scripts/run.sh names only the CLI: the README's first command then trains after building the
# CLI alone, not the whole test suite and the benchmarks first (issue 22, item 5).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TYPEGRAD_BUILD_DIR:-$root/build}"

# libpng-dev: `typegrad predict` reads PNG; libonnx-dev, libprotobuf-dev: `typegrad export -o
# FILE.onnx` (optional for CMake: without them the build has no ONNX export and says so).
# libssl-dev: the SHA-256 that checks a compiled network before it is loaded (src/cli/cache.hpp).
# libopenmpi-dev, openmpi-bin: `mpirun -np P typegrad train` (optional for CMake too).
# wamerican: the English word list of issue 21's character model (scripts/wamerican21.py).
packages=(g++ make cmake pkg-config xtensor-dev libxsimd-dev catch2 libcli11-dev zlib1g-dev libbenchmark-dev gnuplot-nox
          libpng-dev libssl-dev libonnx-dev libprotobuf-dev libopenmpi-dev openmpi-bin wamerican libdeflate-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "typegrad: installing missing Debian packages: ${missing[*]}" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "typegrad: error: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

jobs="$(nproc 2>/dev/null || echo 2)"
# Configure every time, with the options stated: an existing build/ whose cache turned the tests
# or the CLI off (or BUILD_TESTING) would otherwise build and run only part of the suite, and
# pass. Re-running cmake on an up-to-date cache takes a second.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DTYPEGRAD_BUILD_TESTS=ON -DTYPEGRAD_BUILD_CLI=ON -DBUILD_TESTING=ON >&2
if [ $# -gt 0 ]; then
    cmake --build "$build" --parallel "$jobs" --target "$@" >&2
else
    cmake --build "$build" --parallel "$jobs" >&2
fi

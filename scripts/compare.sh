#!/usr/bin/env bash
# End-to-end speed comparison on MNIST: typegrad vs the article's numpy code vs PyTorch (CPU).
# Installs what is missing (python3-numpy and python3-torch from Debian, as root with apt-get;
# through sudo when not root), builds typegrad (scripts/bootstrap.sh), then runs
# scripts/compare.py with Debian's Python and the given arguments, e.g.
#   scripts/compare.sh                          # data from ../shared/mnist (relative to the repo root)
#   scripts/compare.sh --data DIR --markdown    # see scripts/compare.py --help
# Only this script needs numpy/torch; the build and the test suite do not.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TYPEGRAD_BUILD_DIR:-$root/build}"

packages=(python3 python3-numpy python3-torch)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "compare: installing missing Debian packages: ${missing[*]}" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "compare: error: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    # python3-torch is large; if it cannot be installed, compare.py skips the PyTorch rows.
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
        echo "compare: warning: apt-get install ${missing[*]} failed; rows whose library is missing are skipped" >&2
    fi
fi

"$root/scripts/bootstrap.sh"
# fma_peak is part of the default build; build it explicitly in case benchmarks were turned off.
if [ ! -x "$build/benchmarks/fma_peak" ]; then
    cmake --build "$build" --target fma_peak >&2 || true
fi

# Debian's interpreter: the python3-* packages are installed for it (python3 on PATH may be another).
python=/usr/bin/python3
[ -x "$python" ] || python="$(command -v python3)"

cmdline="scripts/compare.sh"
for a in "$@"; do cmdline+=" $(printf '%q' "$a")"; done
export TYPEGRAD_COMPARE_CMD="$cmdline"
exec "$python" "$root/scripts/compare.py" --build "$build" "$@"

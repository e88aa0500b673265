#!/usr/bin/env bash
# End-to-end speed comparison of LeNet-5 on MNIST: typegrad vs PyTorch (CPU), batch 10 and 64.
# Installs what is missing (python3-numpy and python3-torch from Debian, as root with apt-get;
# through sudo when not root), builds typegrad (scripts/bootstrap.sh), then runs
# scripts/compare_cnn.py with Debian's Python and the given arguments, e.g.
#   scripts/compare_cnn.sh                          # data from ../shared/mnist (relative to the repo root)
#   scripts/compare_cnn.sh --data DIR --markdown    # see scripts/compare_cnn.py --help
# Only this script (and scripts/compare.sh) needs numpy/torch; the build and the tests do not.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TYPEGRAD_BUILD_DIR:-$root/build}"

# libopenblas0-pthread: PyTorch's linear layers call whatever libblas.so.3 is; without OpenBLAS that
# is the reference BLAS, ~10x slower, and the comparison would flatter typegrad (issue 22, item 3)
packages=(python3 python3-numpy python3-torch libopenblas0-pthread)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "compare_cnn: installing missing Debian packages: ${missing[*]}" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "compare_cnn: error: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    # python3-torch is large; if it cannot be installed, compare_cnn.py skips the PyTorch rows.
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
        echo "compare_cnn: warning: apt-get install ${missing[*]} failed; the PyTorch rows are skipped" >&2
    fi
fi

"$root/scripts/bootstrap.sh"

# Debian's interpreter: the python3-* packages are installed for it (python3 on PATH may be another).
python=/usr/bin/python3
[ -x "$python" ] || python="$(command -v python3)"

cmdline="scripts/compare_cnn.sh"
for a in "$@"; do cmdline+=" $(printf '%q' "$a")"; done
export TYPEGRAD_COMPARE_CMD="$cmdline"
exec "$python" "$root/scripts/compare_cnn.py" --build "$build" "$@"

#!/bin/bash
# Issue 20's acceptance: a float .npz of Fashion-MNIST (x of shape (N, 1, 28, 28) in float32, the
# bytes / 255; y the labels) trains LeNet to the same accuracy as the IDX files — the same
# epoch, bit for bit, since b / 255 in float is what the IDX reader makes of a byte.
# Needs a python with numpy (Debian's /usr/bin/python3) and the Fashion-MNIST IDX files:
# $TYPEGRAD_FASHION_DIR, else fashion-mnist beside $TYPEGRAD_MNIST_DIR; skipped (77) otherwise.
# Usage: fashion_npz20.sh TYPEGRAD WORKDIR
set -u
cli=$1
work=$2
source "$(dirname "$0")/expect.sh"
fashion=${TYPEGRAD_FASHION_DIR:-}
if [ -z "$fashion" ] && [ -n "${TYPEGRAD_MNIST_DIR:-}" ]; then fashion=$TYPEGRAD_MNIST_DIR/../fashion-mnist; fi
if [ -z "$fashion" ] || [ ! -e "$fashion/train-images-idx3-ubyte.gz" ]; then
    echo "skipped: no Fashion-MNIST (set TYPEGRAD_FASHION_DIR, or TYPEGRAD_MNIST_DIR with fashion-mnist beside it)"
    exit 77
fi
fashion=$(realpath "$fashion")
python=""
for p in /usr/bin/python3 python3; do
    if "$p" -c "import numpy" 2>/dev/null; then python=$p; break; fi
done
[ -n "$python" ] || { echo "skipped: no python with numpy (apt-get install python3-numpy)"; exit 77; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

"$python" - "$fashion" <<'PY' || fail "writing the .npz files"
import gzip, sys
import numpy as np
d = sys.argv[1]
def idx(name, offset):
    with gzip.open(f"{d}/{name}.gz", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
for part, prefix in (("train", "train"), ("test", "t10k")):
    x = idx(f"{prefix}-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28)
    y = idx(f"{prefix}-labels-idx1-ubyte", 8)
    np.savez(f"{part}.npz", x=x.astype(np.float32) / np.float32(255), y=y)
PY

"$cli" train --net lenet --data "$fashion" --epochs 1 --quiet > idx.out 2> idx.err || { cat idx.err; fail "LeNet on the IDX files"; }
"$cli" train --net lenet --data train.npz --test test.npz --epochs 1 --quiet > npz.out 2> npz.err ||
    { cat npz.err; fail "LeNet on the .npz files"; }
expect npz.out "data: 60000 examples of 28x28 floats, class labels$"
expect idx.out "data: 60000 examples of 28x28 bytes, class labels$"
strip() { grep -E "^epoch" "$1" | sed -E 's/  [0-9.]+ s  [0-9]+ examples\/s//'; }
diff <(strip idx.out) <(strip npz.out) || fail "LeNet on the float .npz differs from LeNet on the IDX files"
expect npz.out "^epoch 1/1  test accuracy 0\.[7-9][0-9]{3} "
grep -E "^epoch" npz.out
echo "fashion_npz20: the same accuracy from the .npz as from the IDX files"

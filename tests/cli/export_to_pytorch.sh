#!/usr/bin/env bash
# typegrad export → PyTorch: a network trained on MNIST (784-30-10 with cross-entropy, LeNet-5 on a
# part of the training set, an MLP with GELU, SiLU and leaky ReLU, a residual MLP, a CNN of
# concatenated branches, an MLP with layer normalisation) is saved, evaluated by `typegrad
# eval`, exported to .npz and evaluated again by PyTorch (scripts/npz_to_torch.py): the test
# accuracies must be equal, digit for digit. Skips (exit 77) without TYPEGRAD_MNIST_DIR or without
# a python3 that imports torch and numpy (Debian: python3-torch).
# Usage: export_to_pytorch.sh TYPEGRAD_EXE SOURCE_DIR WORK_DIR
set -euo pipefail
exe="$1"; src="$2"; work="$3"
if [ -z "${TYPEGRAD_MNIST_DIR:-}" ]; then echo "TYPEGRAD_MNIST_DIR is not set: skipping"; exit 77; fi
source "$src/tests/cli/find_python.sh"
find_python python3-torch torch numpy
rm -rf "$work"; mkdir -p "$work"; cd "$work"
check() {  # NAME, train arguments...
    local name="$1"; shift
    "$exe" train "$@" --data "$TYPEGRAD_MNIST_DIR" --quiet --save "$name.tgck" > /dev/null
    local ours theirs
    # eval's line goes on with the test cost, which the script does not print
    ours="$("$exe" eval --model "$name.tgck" --data "$TYPEGRAD_MNIST_DIR" 2>/dev/null | grep -Eo '^test accuracy [0-9.]+ \([0-9/]+\)')"
    "$exe" export --model "$name.tgck" -o "$name.npz"
    theirs="$("$python" "$src/scripts/npz_to_torch.py" "$name.npz" "$TYPEGRAD_MNIST_DIR" | grep '^test accuracy')"
    echo "$name: typegrad: $ours; PyTorch: $theirs"
    [ "$ours" = "$theirs" ] || { echo "FAILED: the accuracies differ"; exit 1; }
}
check network2 --net 784-30-10 --cost cross-entropy --init network2 --eta 0.5 --epochs 1
check lenet --net lenet --epochs 1 --limit 3000
check activations --net 784-32:gelu-16:silu-16:leakyrelu-10:softmax --epochs 1 --limit 3000  # issue 19
# issue 19: a residual block and concatenated branches, as the script's Residual and Concat modules
check residual --net '784-16:relu-res(16:relu-16:linear)-relu-10:softmax' --epochs 1 --limit 3000
check concat --net '1x28x28-cat(conv4k3p1:relu|conv2k5p2:tanh)-maxpool2-10:softmax' --epochs 1 --limit 3000
# issue 19: layer normalisation, at the top level and inside a residual block, as nn.LayerNorm(16)
check layernorm --net '784-16:relu-res(layernorm-16:gelu-16:linear)-layernorm-10:softmax' --epochs 1 --limit 3000
check batchnorm --net '1x28x28-conv4k3p1:linear-batchnorm-relu-res(conv4k3p1:linear-batchnorm-relu-conv4k3p1:linear-batchnorm)-relu-maxpool2-10:softmax' --epochs 1 --limit 3000 --eta 0.01  # issue 19: BatchNorm2d with its running statistics
echo "exported networks reproduce typegrad's test accuracy in PyTorch"

#!/usr/bin/env bash
# typegrad export → ONNX: networks trained briefly on the synthetic digits (784-30-10 sigmoid,
# 784-100:relu-10:softmax, LeNet-5, an MLP with GELU, SiLU and leaky ReLU, a residual MLP, a CNN
# of concatenated branches, an MLP with layer normalisation, a residual CNN with batch
# normalisation) are exported to .onnx;
# onnx.checker validates each file and tests/cli/onnx_reference.py (a numpy interpreter of the ops
# typegrad writes) runs it on 1000 images — MNIST's first 1000 test digits when TYPEGRAD_MNIST_DIR
# is set, else digit-like strokes drawn by image_files.py — which `typegrad predict` classifies
# too: the classes must be equal and the outputs agree within 2e-5. Skips (exit 77) without a
# python3 that imports onnx and numpy (Debian: python3-onnx) or a typegrad built without ONNX
# support.
# Usage: export_to_onnx.sh TYPEGRAD_EXE SOURCE_DIR WORK_DIR
set -euo pipefail
exe="$1"; src="$2"; work="$3"
source "$src/tests/cli/find_python.sh"
find_python python3-onnx onnx numpy
rm -rf "$work"; mkdir -p "$work"; cd "$work"

"$exe" train --epochs 1 --limit 100 --test-limit 10 --quiet --save probe.tgck > /dev/null
if ! "$exe" export --model probe.tgck -o probe.onnx 2> probe.err; then
    if grep -q "has no ONNX support" probe.err; then cat probe.err; echo "skipping"; exit 77; fi
    cat probe.err; exit 1
fi

"$python" "$src/tests/cli/image_files.py" many images 1000 ${TYPEGRAD_MNIST_DIR:+"$TYPEGRAD_MNIST_DIR"}
check() {  # NAME, train arguments...
    local name="$1"; shift
    "$exe" train "$@" --test-limit 100 --quiet --save "$name.tgck" > /dev/null
    "$exe" export --model "$name.tgck" -o "$name.onnx"
    "$exe" predict --model "$name.tgck" images/*.pgm > "$name.predictions"
    "$python" "$src/tests/cli/onnx_reference.py" "$name.onnx" "$name.predictions"
}
check mlp --net 784-30-10 --epochs 1 --limit 3000
# The control: one class changed in predict's output must make the comparison fail.
c="$(sed -n 2p mlp.predictions | sed -E 's/^.*: ([0-9])  .*$/\1/')"
sed -E "2s/: $c  /: $(( (c + 1) % 10 ))  /" mlp.predictions > wrong.predictions
if "$python" "$src/tests/cli/onnx_reference.py" mlp.onnx wrong.predictions > /dev/null 2>&1; then
    echo "FAILED: onnx_reference.py accepted a changed class"; exit 1
fi
check relu --net 784-100:relu-10:softmax --epochs 1 --limit 3000
check lenet --net lenet --epochs 1 --limit 6000
# issue 19: exact GELU (Div, Erf, Add, Mul), SiLU (Sigmoid, Mul) and LeakyRelu (alpha 0.01)
check activations --net 784-32:gelu-16:silu-16:leakyrelu-10:softmax --epochs 1 --limit 1000
# issue 19: a residual block (the block's input read by the body and by an Add) and branches
# joined by Concat along the channels
check residual --net '784-16:relu-res(16:relu-16:linear)-relu-10:softmax' --epochs 1 --limit 1000
check concat --net '1x28x28-cat(conv4k3p1:relu|conv2k5p2:tanh)-maxpool2-10:softmax' --epochs 1 --limit 1000
# issue 19: layer normalisation, at the top level and inside a residual block, as ReduceMean, Sub,
# Mul, ReduceMean, Add ε, Sqrt, Div, Mul γ, Add β (LayerNormalization is opset 17)
check layernorm --net '784-16:relu-res(layernorm-16:gelu-16:linear)-layernorm-10:softmax' --epochs 1 --limit 1000
# issue 19: batch normalisation (BatchNormalization with the running statistics) on images, at
# the top level and inside a residual block
check batchnorm --net '1x28x28-conv4k3p1:linear-batchnorm-relu-res(conv4k3p1:linear-batchnorm-relu-conv4k3p1:linear-batchnorm)-relu-maxpool2-10:softmax' --epochs 1 --limit 1000 --eta 0.01
echo "the exported ONNX graphs compute what typegrad computes"

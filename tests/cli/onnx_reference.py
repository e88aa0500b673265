#!/usr/bin/env python3
"""Checks a .onnx file written by `typegrad export` against `typegrad predict`, independently of
typegrad: onnx.checker validates the model, then a small numpy interpreter of exactly the ops
typegrad writes (Gemm, Conv, MaxPool, AveragePool, Flatten, Sigmoid, Tanh, Relu, LeakyRelu,
Softmax, Identity, Dropout, the Add, Mul, Div and Erf of GELU and SiLU, the ReduceMean, Sub,
Mul, Add, Sqrt and Div of a layer normalisation, and the Add of a residual block or a branch sum
and the Concat of branches, and for sequences (issue 21) the Cast and Gather of an embedding and
the MatMul, Slice, Reshape and Transpose of attention, each with the attributes ONNX defines for
it) runs the graph in float64 (integer initializers kept as int64) on
the images `typegrad predict` classified. tests/io/onnx_gpt21.py uses its `run` for the sequence
networks. Every image's class must equal typegrad's and every
output must agree within 2e-5: typegrad computes in float32 and predict prints 6 decimals; a
brief ReLU classifier's logits reach 110, where float32 alone moves a softmax output by 6e-6
(measured with numpy in float32), while a wrong layout or op moves outputs by 1e-2 and more.

    onnx_reference.py MODEL.onnx PREDICTIONS.txt     (PREDICTIONS.txt: the output of predict)

An op outside this list, or an attribute this interpreter does not implement, is an error: the
test cannot pass by skipping what it does not understand.
"""
import math
import sys

import numpy as np
import onnx
from onnx import numpy_helper

TOLERANCE = 2e-5


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def expect_only(node, attrs, allowed):
    unknown = set(attrs) - set(allowed)
    if unknown:
        raise ValueError(f"{node.op_type} {node.name}: attributes {sorted(unknown)} are not implemented here")


def windows(x, k, stride, pads):
    """(N, C, H, W) -> (N, C, OH, OW, kh, kw) views of the zero-padded input."""
    top, left, bottom, right = pads
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, c, h, w = x.shape
    oh, ow = (h - k[0]) // stride[0] + 1, (w - k[1]) // stride[1] + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, c, oh, ow, k[0], k[1]), (s[0], s[1], s[2] * stride[0], s[3] * stride[1], s[2], s[3]), writeable=False)


def conv(node, x, w, b=None):
    a = attributes(node)
    expect_only(node, a, {"kernel_shape", "strides", "pads", "dilations", "group"})
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise ValueError("Conv: only group 1 and dilation 1 are implemented here")
    k = a.get("kernel_shape", list(w.shape[2:]))
    if list(k) != list(w.shape[2:]):
        raise ValueError("Conv: kernel_shape differs from the weights' shape")
    p = a.get("pads", [0, 0, 0, 0])
    y = np.einsum("nchwij,ocij->nohw", windows(x, k, a.get("strides", [1, 1]), (p[0], p[1], p[2], p[3])), w)
    return y if b is None else y + b[None, :, None, None]


def pool(node, x, reduce):
    a = attributes(node)
    expect_only(node, a, {"kernel_shape", "strides", "pads"})
    k = a["kernel_shape"]
    p = a.get("pads", [0, 0, 0, 0])
    if any(p):
        raise ValueError(f"{node.op_type}: padding is not implemented here")
    return reduce(windows(x, k, a.get("strides", [1, 1]), (0, 0, 0, 0)), axis=(4, 5))


def gemm(node, x, w, c=None):
    a = attributes(node)
    expect_only(node, a, {"alpha", "beta", "transA", "transB"})
    if a.get("transA", 0):
        x = x.T
    if a.get("transB", 0):
        w = w.T
    y = a.get("alpha", 1.0) * (x @ w)
    return y if c is None else y + a.get("beta", 1.0) * c


def flatten(node, x):
    a = attributes(node)
    expect_only(node, a, {"axis"})
    axis = a.get("axis", 1)
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


def softmax(node, x):
    a = attributes(node)
    expect_only(node, a, {"axis"})
    axis = a.get("axis", -1)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def leaky_relu(node, x):
    a = attributes(node)
    expect_only(node, a, {"alpha"})
    return np.where(x > 0, x, a.get("alpha", 0.01) * x)


def concat(node, *xs):
    a = attributes(node)
    expect_only(node, a, {"axis"})
    if "axis" not in a:
        raise ValueError("Concat: the axis attribute is required")
    return np.concatenate(xs, axis=a["axis"])


def reduce_mean(node, x):
    """Opset 13's ReduceMean: the axes an attribute (every axis without it), keepdims 1 by default."""
    a = attributes(node)
    expect_only(node, a, {"axes", "keepdims"})
    axes = tuple(a["axes"]) if "axes" in a else None
    return np.mean(x, axis=axes, keepdims=bool(a.get("keepdims", 1)))


def batch_normalization(node, x, scale, bias, mean, var):
    """Inference: (x - mean) / sqrt(var + epsilon) * scale + bias, per channel (axis 1)."""
    a = attributes(node)
    expect_only(node, a, {"epsilon"})
    shape = (1, -1) + (1,) * (x.ndim - 2)
    eps = a.get("epsilon", 1e-5)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * scale.reshape(shape) + bias.reshape(shape)


def slice_(node, x, starts, ends, axes=None, steps=None):
    """Opset 13's Slice: starts, ends, axes and steps are int64 inputs (axes may be negative)."""
    expect_only(node, attributes(node), set())
    axes = range(len(starts)) if axes is None else [int(a) % x.ndim for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    for a, start, end, step in zip(axes, starts, ends, steps):
        index[a] = slice(int(start), int(end), int(step))
    return x[tuple(index)]


def reshape(node, x, shape):
    """Opset 13's Reshape: 0 copies the input's extent, -1 is inferred."""
    a = attributes(node)
    expect_only(node, a, {"allowzero"})
    if a.get("allowzero", 0):
        raise ValueError("Reshape: allowzero is not implemented here")
    dims = [x.shape[i] if int(d) == 0 else int(d) for i, d in enumerate(shape)]
    return x.reshape(dims)


def transpose(node, x):
    a = attributes(node)
    expect_only(node, a, {"perm"})
    return np.transpose(x, a.get("perm"))


def cast(node, x):
    """Cast to int64 (an embedding's ids, which must be whole numbers) or to a float type."""
    a = attributes(node)
    expect_only(node, a, {"to"})
    if a["to"] == onnx.TensorProto.INT64:
        if not np.array_equal(x, np.trunc(x)):
            raise ValueError("Cast: ids that are not whole numbers")
        return x.astype(np.int64)
    if a["to"] in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE):
        return x.astype(np.float64)
    raise ValueError(f"Cast: to {a['to']} is not implemented here")


def gather(node, data, indices):
    a = attributes(node)
    expect_only(node, a, {"axis"})
    if indices.dtype.kind not in "iu":
        raise ValueError("Gather: the indices must be integers")
    return np.take(data, indices, axis=a.get("axis", 0))


def plain(node, f):
    a = attributes(node)
    expect_only(node, a, set())
    return f


OPS = {
    "Gemm": gemm,
    "Conv": conv,
    "MaxPool": lambda n, x: pool(n, x, np.max),
    "AveragePool": lambda n, x: pool(n, x, np.mean),
    "Flatten": flatten,
    "Softmax": softmax,
    "Sigmoid": lambda n, x: plain(n, 1.0 / (1.0 + np.exp(-x))),
    "Tanh": lambda n, x: plain(n, np.tanh(x)),
    "Relu": lambda n, x: plain(n, np.maximum(x, 0.0)),
    "LeakyRelu": leaky_relu,
    "Erf": lambda n, x: plain(n, np.vectorize(math.erf, otypes=[np.float64])(x)),
    "Add": lambda n, a, b: plain(n, a + b),  # numpy broadcasting is ONNX's (multidirectional)
    "Mul": lambda n, a, b: plain(n, a * b),
    "Div": lambda n, a, b: plain(n, a / b),
    "Sub": lambda n, a, b: plain(n, a - b),
    "Sqrt": lambda n, x: plain(n, np.sqrt(x)),
    "ReduceMean": reduce_mean,
    "Concat": concat,
    "BatchNormalization": batch_normalization,
    "MatMul": lambda n, a, b: plain(n, np.matmul(a, b)),
    "Slice": slice_,
    "Reshape": reshape,
    "Transpose": transpose,
    "Cast": cast,
    "Gather": gather,
    "Identity": lambda n, x: plain(n, x),
    "Dropout": lambda n, x, *rest: x,  # inference: the identity
}


def run(model, x):
    """The graph's single output for input x (float64)."""
    values = {}
    for t in model.graph.initializer:
        a = numpy_helper.to_array(t)
        values[t.name] = a if a.dtype.kind in "iu" else a.astype(np.float64)
    values[model.graph.input[0].name] = x
    for node in model.graph.node:
        if node.op_type not in OPS:
            raise ValueError(f"op {node.op_type} is not implemented here")
        values[node.output[0]] = OPS[node.op_type](node, *(values[i] for i in node.input if i))
    return values[model.graph.output[0].name]


def check_interface(model):
    """opset >= 13, input "input" [batch, ...] and output "output" [batch, classes]."""
    opset = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    assert opset and opset[0] >= 13, f"opset {opset}"
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == "input" and out.name == "output", (inp.name, out.name)
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert dims[0] == "batch" and dims[1:] in ([784], [1, 28, 28]), dims
    return dims[1:]


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    header = data.split(b"\n", 4)
    assert header[0] == b"P5" and header[2] == b"28 28" and header[3] == b"255", path
    return np.frombuffer(header[4][:784], dtype=np.uint8)


def main(model_path, predictions_path):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    shape = check_interface(model)
    lines = open(predictions_path, encoding="utf-8").read().splitlines()[1:]  # after the header
    files, classes, outputs = [], [], []
    for line in lines:
        file, rest = line.rsplit(": ", 1)
        fields = rest.split()
        files.append(file)
        classes.append(int(fields[0]))
        outputs.append([float(v) for v in fields[1:]])
    x = np.stack([read_pgm(f) for f in files]).astype(np.float32) / np.float32(255)  # as data::unit_pixel
    y = run(model, x.astype(np.float64).reshape([len(files)] + shape))
    ours = np.array(outputs)
    if y.shape != ours.shape:
        sys.exit(f"FAILED: the ONNX output has shape {y.shape}, typegrad printed {ours.shape}")
    diff = np.abs(y - ours).max()
    # A class differs if ONNX's output for typegrad's class is below its best by more than the
    # tolerance (two outputs within it are a tie: their order is rounding, either is right).
    rows = np.arange(len(files))
    differ = y.max(axis=1) - y[rows, np.array(classes)] > TOLERANCE
    disagree = int(differ.sum())
    ties = int(((y.argmax(axis=1) != np.array(classes)) & ~differ).sum())
    print(f"{model_path}: {len(files)} images, classes differ on {disagree} ({ties} ties within the tolerance), "
          f"largest output difference {diff:.2e} (tolerance {TOLERANCE:g})")
    if disagree or not diff <= TOLERANCE:
        sys.exit("FAILED: the ONNX graph does not compute what typegrad computes")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

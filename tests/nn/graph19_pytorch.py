#!/usr/bin/env python3
"""The networks of tests/nn/test_graph19.cpp in PyTorch, from the parameters and the batch the C++
test wrote, in float64 with torch.autograd: prints the cost summed over the batch, then every
gradient flattened, one tensor per line, in typegrad's parameter order (a block's inner layers in
order; typegrad's dense W is (n_in, n_out), nn.Linear's (out, in): transposed in and out; a
convolution's W is (C_out, C_in, K, K) in both).

  residual_mlp  6 -> Linear 5 -> tanh -> x + block(x) -> tanh -> x + block(x) -> Linear 3 -> sigmoid,
                block = Linear 5 -> tanh -> Linear 5 (two blocks, each its own weights); ½‖a − y‖²
  branches      6 -> [Linear 4 -> tanh; Linear 3 -> sigmoid; Linear 2] -> tanh
                -> (Linear 4 -> tanh) + Linear 4 -> Linear 3 -> softmax; −Σ y log a
  residual_cnn  2x6x6 -> Conv 3 k3 p1 -> tanh -> x + tanh(Conv 3 k3 p1 (x))
                -> [Conv 2 k3 p1; sigmoid(Conv 1 k1)] (channels) -> flatten -> Linear 3 -> sigmoid; ½‖a − y‖²

Usage: graph19_pytorch.py MODEL DIR BATCH   (DIR holds x.f64, y.f64, p0.f64 ...)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    print(f"graph19_pytorch.py: cannot import numpy/torch ({e}); install python3-torch", file=sys.stderr)
    sys.exit(3)


class Params:
    """typegrad's tensors p0, p1, … in order, made into PyTorch's layers."""

    def __init__(self, d: Path):
        self.d, self.k, self.order = d, 0, []

    def take(self, shape):
        t = torch.from_numpy(np.fromfile(self.d / f"p{self.k}.f64", dtype="<f8").reshape(shape).copy())
        self.k += 1
        return t

    def linear(self, n_in, n_out):
        lin = nn.Linear(n_in, n_out)
        with torch.no_grad():
            lin.weight.copy_(self.take((n_in, n_out)).T)
            lin.bias.copy_(self.take((n_out,)))
        self.order += [(lin.weight, True), (lin.bias, False)]
        return lin

    def conv(self, c_in, c_out, k, padding):
        conv = nn.Conv2d(c_in, c_out, k, padding=padding)
        with torch.no_grad():
            conv.weight.copy_(self.take((c_out, c_in, k, k)))
            conv.bias.copy_(self.take((c_out,)))
        self.order += [(conv.weight, False), (conv.bias, False)]
        return conv


def residual_mlp(p: Params):
    first = p.linear(6, 5)
    blocks = [(p.linear(5, 5), p.linear(5, 5)) for _ in range(2)]
    last = p.linear(5, 3)

    def net(x):
        a = torch.tanh(first(x))
        a = a + blocks[0][1](torch.tanh(blocks[0][0](a)))
        a = torch.tanh(a)
        a = a + blocks[1][1](torch.tanh(blocks[1][0](a)))
        return torch.sigmoid(last(a))

    return net, lambda a, y: 0.5 * ((a - y) ** 2).sum()


def branches(p: Params):
    b1, b2, b3 = p.linear(6, 4), p.linear(6, 3), p.linear(6, 2)
    s1, s2 = p.linear(9, 4), p.linear(9, 4)
    last = p.linear(4, 3)

    def net(x):
        a = torch.tanh(torch.cat([torch.tanh(b1(x)), torch.sigmoid(b2(x)), b3(x)], dim=1))
        a = torch.tanh(s1(a)) + s2(a)
        return torch.softmax(last(a), dim=1)

    return net, lambda a, y: -(y * torch.log(a)).sum()


def residual_cnn(p: Params):
    c0 = p.conv(2, 3, 3, 1)
    c1 = p.conv(3, 3, 3, 1)
    ca, cb = p.conv(3, 2, 3, 1), p.conv(3, 1, 1, 0)
    last = p.linear(3 * 6 * 6, 3)

    def net(x):
        a = torch.tanh(c0(x))
        a = a + torch.tanh(c1(a))
        a = torch.cat([ca(a), torch.sigmoid(cb(a))], dim=1)
        return torch.sigmoid(last(a.flatten(1)))

    return net, lambda a, y: 0.5 * ((a - y) ** 2).sum()


MODELS = {"residual_mlp": (residual_mlp, (6,), 3), "branches": (branches, (6,), 3),
          "residual_cnn": (residual_cnn, (2, 6, 6), 3)}


def main() -> int:
    name, d, batch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    torch.set_default_dtype(torch.float64)
    build, in_shape, outputs = MODELS[name]
    p = Params(d)
    net, cost = build(p)
    x = torch.from_numpy(np.fromfile(d / "x.f64", dtype="<f8").reshape((batch,) + in_shape).copy())
    y = torch.from_numpy(np.fromfile(d / "y.f64", dtype="<f8").reshape((batch, outputs)).copy())
    loss = cost(net(x), y)
    loss.backward()
    print(repr(loss.item()))
    for t, transposed in p.order:
        g = t.grad.T if transposed else t.grad
        print(" ".join(repr(v) for v in g.contiguous().reshape(-1).tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

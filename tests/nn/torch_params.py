"""What the PyTorch cross-checks of tests/nn/ share (graph19_pytorch.py, shared19_pytorch.py):
typegrad's parameters, written by the C++ test as raw float64 files p0, p1, …, made into PyTorch
layers in order, and a main that runs one network on the test's batch with torch.autograd and
prints the cost summed over the batch, then every gradient flattened, one tensor per line, in
typegrad's parameter order (typegrad's dense W is (n_in, n_out), nn.Linear's weight (out, in):
transposed in and out; a convolution's W is (C_out, C_in, K, K) in both).

Usage of a script built on it: SCRIPT MODEL DIR BATCH   (DIR holds x.f64, y.f64, p0.f64 ...)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    print(f"{Path(sys.argv[0]).name}: cannot import numpy/torch ({e}); install python3-torch", file=sys.stderr)
    sys.exit(3)


class Params:
    """typegrad's tensors p0, p1, … in order, made into PyTorch's layers and parameters."""

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

    def bias(self, n):
        b = nn.Parameter(self.take((n,)))
        self.order.append((b, False))
        return b


def quadratic(a, y):
    return 0.5 * ((a - y) ** 2).sum()


def log_likelihood(a, y):
    return -(y * torch.log(a)).sum()


def main(models) -> int:
    """models: name -> (build(Params) -> (net, cost), input shape, outputs)."""
    name, d, batch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    torch.set_default_dtype(torch.float64)
    build, in_shape, outputs = models[name]
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

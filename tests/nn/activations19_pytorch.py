#!/usr/bin/env python3
"""The network of tests/nn/test_activations19.cpp in PyTorch, from the parameters and the example
the C++ test wrote: 7 -> Linear 6 -> GELU (exact) -> Linear 5 -> SiLU -> Linear 4 -> LeakyReLU(0.01)
-> Linear 3 -> Sigmoid, cost 0.5 * ||a - y||^2, in float64 with torch.autograd. Prints the cost,
then every gradient flattened, one tensor per line, in typegrad's parameter order (W0, b0, W1, ...;
typegrad's dense W is (n_in, n_out), transposed here into nn.Linear's (out, in) and back).

Usage: activations19_pytorch.py DIR   (DIR holds x.f64, y.f64, p0.f64 ... p7.f64)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    print(f"activations19_pytorch.py: cannot import numpy/torch ({e}); install python3-torch", file=sys.stderr)
    sys.exit(3)

WIDTHS = [7, 6, 5, 4, 3]


def load(d: Path, name: str, shape):
    return torch.from_numpy(np.fromfile(d / f"{name}.f64", dtype="<f8").reshape(shape).copy())


def main() -> int:
    d = Path(sys.argv[1])
    torch.set_default_dtype(torch.float64)
    linears = [nn.Linear(WIDTHS[i], WIDTHS[i + 1]) for i in range(4)]
    net = nn.Sequential(linears[0], nn.GELU(), linears[1], nn.SiLU(), linears[2], nn.LeakyReLU(0.01), linears[3],
                        nn.Sigmoid())
    with torch.no_grad():
        for i, lin in enumerate(linears):
            lin.weight.copy_(load(d, f"p{2 * i}", (WIDTHS[i], WIDTHS[i + 1])).T)
            lin.bias.copy_(load(d, f"p{2 * i + 1}", (WIDTHS[i + 1],)))
    x = load(d, "x", (1, WIDTHS[0]))
    y = load(d, "y", (1, WIDTHS[-1]))
    loss = 0.5 * ((net(x) - y) ** 2).sum()
    loss.backward()
    print(repr(loss.item()))
    for lin in linears:
        for g in (lin.weight.grad.T, lin.bias.grad):
            print(" ".join(repr(v) for v in g.contiguous().reshape(-1).tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

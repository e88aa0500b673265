#!/usr/bin/env python3
"""The network of tests/nn/test_layer_norm19.cpp in PyTorch, from the parameters and the examples
the C++ test wrote: 8 -> Linear 6 -> LayerNorm(6) (eps 1e-5) -> GELU (exact) -> Linear 3 -> softmax,
cost -sum(y * log softmax(z)) summed over the examples, in float64 with torch.autograd. Prints the
cost, the outputs (softmax, every example flattened), then every gradient flattened, one tensor per
line, in typegrad's parameter order (W0, b0, gamma1, beta1, W2, b2; typegrad's dense W is
(n_in, n_out), transposed here into nn.Linear's (out, in) and back).

Usage: layer_norm19_pytorch.py DIR B   (DIR holds x.f64 (B, 8), y.f64 (B, 3), p0.f64 ... p5.f64)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    print(f"layer_norm19_pytorch.py: cannot import numpy/torch ({e}); install python3-torch", file=sys.stderr)
    sys.exit(3)


def load(d: Path, name: str, shape):
    return torch.from_numpy(np.fromfile(d / f"{name}.f64", dtype="<f8").reshape(shape).copy())


def main() -> int:
    d = Path(sys.argv[1])
    batch = int(sys.argv[2])
    torch.set_default_dtype(torch.float64)
    first, norm, last = nn.Linear(8, 6), nn.LayerNorm(6, eps=1e-5), nn.Linear(6, 3)
    net = nn.Sequential(first, norm, nn.GELU(), last)  # the logits; softmax and the cost below
    with torch.no_grad():
        first.weight.copy_(load(d, "p0", (8, 6)).T)
        first.bias.copy_(load(d, "p1", (6,)))
        norm.weight.copy_(load(d, "p2", (6,)))
        norm.bias.copy_(load(d, "p3", (6,)))
        last.weight.copy_(load(d, "p4", (6, 3)).T)
        last.bias.copy_(load(d, "p5", (3,)))
    x = load(d, "x", (batch, 8))
    y = load(d, "y", (batch, 3))
    z = net(x)
    loss = -(y * torch.log_softmax(z, dim=-1)).sum()
    loss.backward()
    print(repr(loss.item()))
    print(" ".join(repr(v) for v in torch.softmax(z, dim=-1).detach().reshape(-1).tolist()))
    for g in (first.weight.grad.T, first.bias.grad, norm.weight.grad, norm.bias.grad, last.weight.grad.T,
              last.bias.grad):
        print(" ".join(repr(v) for v in g.contiguous().reshape(-1).tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

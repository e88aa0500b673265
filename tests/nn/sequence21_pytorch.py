#!/usr/bin/env python3
"""The sequence network of tests/nn/test_sequence21.cpp in PyTorch, from the parameters and examples
the C++ test wrote. x is (B, 5, 4), a sequence of 5 positions of 4 features per example:
Linear(4, 6) at every position -> GELU (exact) -> h + tanh(Linear(6, 6)(LayerNorm(6)(h))) ->
LayerNorm(6) -> flatten (B, 30) -> Linear(30, 3) -> softmax, cost -sum(y * log softmax(z)) summed
over the examples, in float64 with torch.autograd. Prints the cost, the outputs (softmax, every
example), then every gradient flattened, one tensor per line, in typegrad's parameter order
(W0, b0, gamma, beta, W, b of the block, gamma, beta, W, b; typegrad's W is (n_in, n_out),
transposed here into nn.Linear's (out, in) and back).

Usage: sequence21_pytorch.py DIR B   (DIR holds x.f64 (B, 5, 4), y.f64 (B, 3), p0.f64 ... p9.f64)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    print(f"sequence21_pytorch.py: cannot import numpy/torch ({e}); install python3-torch", file=sys.stderr)
    sys.exit(3)


def load(d: Path, name: str, shape):
    return torch.from_numpy(np.fromfile(d / f"{name}.f64", dtype="<f8").reshape(shape).copy())


def main() -> int:
    d = Path(sys.argv[1])
    batch = int(sys.argv[2])
    torch.set_default_dtype(torch.float64)
    first, block_norm, block_dense = nn.Linear(4, 6), nn.LayerNorm(6, eps=1e-5), nn.Linear(6, 6)
    norm, last = nn.LayerNorm(6, eps=1e-5), nn.Linear(30, 3)
    with torch.no_grad():
        first.weight.copy_(load(d, "p0", (4, 6)).T)
        first.bias.copy_(load(d, "p1", (6,)))
        block_norm.weight.copy_(load(d, "p2", (6,)))
        block_norm.bias.copy_(load(d, "p3", (6,)))
        block_dense.weight.copy_(load(d, "p4", (6, 6)).T)
        block_dense.bias.copy_(load(d, "p5", (6,)))
        norm.weight.copy_(load(d, "p6", (6,)))
        norm.bias.copy_(load(d, "p7", (6,)))
        last.weight.copy_(load(d, "p8", (30, 3)).T)
        last.bias.copy_(load(d, "p9", (3,)))
    x = load(d, "x", (batch, 5, 4))
    y = load(d, "y", (batch, 3))
    h = nn.functional.gelu(first(x))                 # (B, 5, 6): Linear on the last axis
    h = h + torch.tanh(block_dense(block_norm(h)))   # the residual block, position by position
    z = last(torch.flatten(norm(h), 1))              # (B, 30) -> (B, 3)
    loss = -(y * torch.log_softmax(z, dim=-1)).sum()
    loss.backward()
    print(repr(loss.item()))
    print(" ".join(repr(v) for v in torch.softmax(z, dim=-1).detach().reshape(-1).tolist()))
    for g in (first.weight.grad.T, first.bias.grad, block_norm.weight.grad, block_norm.bias.grad,
              block_dense.weight.grad.T, block_dense.bias.grad, norm.weight.grad, norm.bias.grad,
              last.weight.grad.T, last.bias.grad):
        print(" ".join(repr(v) for v in g.contiguous().reshape(-1).tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

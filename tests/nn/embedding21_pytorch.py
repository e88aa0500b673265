#!/usr/bin/env python3
"""The token network of tests/nn/test_embedding21.cpp in PyTorch, from the parameters and examples
the C++ test wrote. x is (B, 6) token ids in [0, 10) (stored as float64): nn.Embedding(10, 4) ->
+ a learned position table P (6, 4) -> Linear(4, 5) at every position -> GELU (exact) ->
LayerNorm(5) -> flatten (B, 30) -> Linear(30, 3) -> softmax, cost -sum(y * log softmax(z)) summed
over the examples, in float64 with torch.autograd. Prints the cost, the outputs, then every
gradient flattened, one tensor per line, in typegrad's parameter order (E, P, W, b, gamma, beta,
W, b; typegrad's W is (n_in, n_out), transposed here into nn.Linear's (out, in) and back).

Usage: embedding21_pytorch.py DIR B   (DIR holds x.f64 (B, 6), y.f64 (B, 3), p0.f64 ... p7.f64)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    print(f"embedding21_pytorch.py: cannot import numpy/torch ({e}); install python3-torch", file=sys.stderr)
    sys.exit(3)


def load(d: Path, name: str, shape):
    return torch.from_numpy(np.fromfile(d / f"{name}.f64", dtype="<f8").reshape(shape).copy())


def main() -> int:
    d = Path(sys.argv[1])
    batch = int(sys.argv[2])
    torch.set_default_dtype(torch.float64)
    tokens, dense, norm, last = nn.Embedding(10, 4), nn.Linear(4, 5), nn.LayerNorm(5, eps=1e-5), nn.Linear(30, 3)
    positions = nn.Parameter(load(d, "p1", (6, 4)))
    with torch.no_grad():
        tokens.weight.copy_(load(d, "p0", (10, 4)))
        dense.weight.copy_(load(d, "p2", (4, 5)).T)
        dense.bias.copy_(load(d, "p3", (5,)))
        norm.weight.copy_(load(d, "p4", (5,)))
        norm.bias.copy_(load(d, "p5", (5,)))
        last.weight.copy_(load(d, "p6", (30, 3)).T)
        last.bias.copy_(load(d, "p7", (3,)))
    ids = load(d, "x", (batch, 6)).long()
    y = load(d, "y", (batch, 3))
    h = tokens(ids) + positions                       # (B, 6, 4)
    h = norm(nn.functional.gelu(dense(h)))            # (B, 6, 5)
    z = last(torch.flatten(h, 1))
    loss = -(y * torch.log_softmax(z, dim=-1)).sum()
    loss.backward()
    print(repr(loss.item()))
    print(" ".join(repr(v) for v in torch.softmax(z, dim=-1).detach().reshape(-1).tolist()))
    for g in (tokens.weight.grad, positions.grad, dense.weight.grad.T, dense.bias.grad, norm.weight.grad,
              norm.bias.grad, last.weight.grad.T, last.bias.grad):
        print(" ".join(repr(v) for v in g.contiguous().reshape(-1).tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The attention network of tests/nn/test_attention21.cpp in PyTorch, from the parameters and
examples the C++ test wrote. x is (B, 4, 6): nn.MultiheadAttention(6, 2, batch_first=True) with a
causal mask (position i attends to j <= i) inside a residual block after LayerNorm(6) ->
flatten (B, 24) -> Linear(24, 3) -> softmax, cost -sum(y * log softmax(z)) summed over the
examples, in float64 with torch.autograd. Prints the cost, the outputs, then every gradient
flattened, one tensor per line, in typegrad's parameter order (gamma, beta, W (6, 18) =
in_proj_weight transposed, b = in_proj_bias, Wo = out_proj.weight transposed, bo, then the Linear's
W, b).

Usage: attention21_pytorch.py DIR B   (DIR holds x.f64 (B, 4, 6), y.f64 (B, 3), p0.f64 ... p7.f64)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    print(f"attention21_pytorch.py: cannot import numpy/torch ({e}); install python3-torch", file=sys.stderr)
    sys.exit(3)


def load(d: Path, name: str, shape):
    return torch.from_numpy(np.fromfile(d / f"{name}.f64", dtype="<f8").reshape(shape).copy())


def main() -> int:
    d = Path(sys.argv[1])
    batch = int(sys.argv[2])
    torch.set_default_dtype(torch.float64)
    norm, mha, last = nn.LayerNorm(6, eps=1e-5), nn.MultiheadAttention(6, 2, batch_first=True), nn.Linear(24, 3)
    with torch.no_grad():
        norm.weight.copy_(load(d, "p0", (6,)))
        norm.bias.copy_(load(d, "p1", (6,)))
        mha.in_proj_weight.copy_(load(d, "p2", (6, 18)).T)
        mha.in_proj_bias.copy_(load(d, "p3", (18,)))
        mha.out_proj.weight.copy_(load(d, "p4", (6, 6)).T)
        mha.out_proj.bias.copy_(load(d, "p5", (6,)))
        last.weight.copy_(load(d, "p6", (24, 3)).T)
        last.bias.copy_(load(d, "p7", (3,)))
    x = load(d, "x", (batch, 4, 6))
    y = load(d, "y", (batch, 3))
    mask = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)  # True: not attended
    h = norm(x)
    h = x + mha(h, h, h, attn_mask=mask, need_weights=False)[0]
    z = last(torch.flatten(h, 1))
    loss = -(y * torch.log_softmax(z, dim=-1)).sum()
    loss.backward()
    print(repr(loss.item()))
    print(" ".join(repr(v) for v in torch.softmax(z, dim=-1).detach().reshape(-1).tolist()))
    for g in (norm.weight.grad, norm.bias.grad, mha.in_proj_weight.grad.T, mha.in_proj_bias.grad,
              mha.out_proj.weight.grad.T, mha.out_proj.bias.grad, last.weight.grad.T, last.bias.grad):
        print(" ".join(repr(v) for v in g.contiguous().reshape(-1).tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

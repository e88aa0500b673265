#!/usr/bin/env python3
"""The small GPT-style network of tests/nn/test_gpt21.cpp in PyTorch, from the parameters and
examples the C++ test wrote. x is (B, 6) token ids in [0, 10): nn.Embedding(10, 8) + a learned
position table (6, 8) -> one transformer block, h + MHA(LN(h)) with the causal mask, then
h + Linear(32, 8)(GELU(Linear(8, 32)(LN(h)))) -> LayerNorm(8) -> Linear(8, 10) at every position ->
softmax over the vocabulary at every position; y (B, 6, 10) one-hot next tokens; cost
-sum(y * log softmax(z)) over examples and positions, in float64 with torch.autograd. Prints the
cost, the outputs, then every gradient flattened, one tensor per line, in typegrad's parameter
order (typegrad's W is (n_in, n_out), transposed here into nn.Linear's (out, in) and back).

Usage: gpt21_pytorch.py DIR B   (DIR holds x.f64 (B, 6), y.f64 (B, 6, 10), p0.f64 ... p17.f64)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    print(f"gpt21_pytorch.py: cannot import numpy/torch ({e}); install python3-torch", file=sys.stderr)
    sys.exit(3)


def load(d: Path, name: str, shape):
    return torch.from_numpy(np.fromfile(d / f"{name}.f64", dtype="<f8").reshape(shape).copy())


def linear(d: Path, w: str, b: str, n_in: int, n_out: int) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    with torch.no_grad():
        layer.weight.copy_(load(d, w, (n_in, n_out)).T)
        layer.bias.copy_(load(d, b, (n_out,)))
    return layer


def norm(d: Path, g: str, b: str) -> nn.LayerNorm:
    layer = nn.LayerNorm(8, eps=1e-5)
    with torch.no_grad():
        layer.weight.copy_(load(d, g, (8,)))
        layer.bias.copy_(load(d, b, (8,)))
    return layer


def main() -> int:
    d = Path(sys.argv[1])
    batch = int(sys.argv[2])
    torch.set_default_dtype(torch.float64)
    tokens = nn.Embedding(10, 8)
    with torch.no_grad():
        tokens.weight.copy_(load(d, "p0", (10, 8)))
    positions = nn.Parameter(load(d, "p1", (6, 8)))
    ln1 = norm(d, "p2", "p3")
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(load(d, "p4", (8, 24)).T)
        mha.in_proj_bias.copy_(load(d, "p5", (24,)))
        mha.out_proj.weight.copy_(load(d, "p6", (8, 8)).T)
        mha.out_proj.bias.copy_(load(d, "p7", (8,)))
    ln2 = norm(d, "p8", "p9")
    up, down = linear(d, "p10", "p11", 8, 32), linear(d, "p12", "p13", 32, 8)
    ln3 = norm(d, "p14", "p15")
    head = linear(d, "p16", "p17", 8, 10)
    ids = load(d, "x", (batch, 6)).long()
    y = load(d, "y", (batch, 6, 10))
    mask = torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1)
    h = tokens(ids) + positions
    a = ln1(h)
    h = h + mha(a, a, a, attn_mask=mask, need_weights=False)[0]
    h = h + down(nn.functional.gelu(up(ln2(h))))
    z = head(ln3(h))                                   # (B, 6, 10)
    loss = -(y * torch.log_softmax(z, dim=-1)).sum()
    loss.backward()
    print(repr(loss.item()))
    print(" ".join(repr(v) for v in torch.softmax(z, dim=-1).detach().reshape(-1).tolist()))
    grads = [tokens.weight.grad, positions.grad, ln1.weight.grad, ln1.bias.grad, mha.in_proj_weight.grad.T,
             mha.in_proj_bias.grad, mha.out_proj.weight.grad.T, mha.out_proj.bias.grad, ln2.weight.grad, ln2.bias.grad,
             up.weight.grad.T, up.bias.grad, down.weight.grad.T, down.bias.grad, ln3.weight.grad, ln3.bias.grad,
             head.weight.grad.T, head.bias.grad]
    for g in grads:
        print(" ".join(repr(v) for v in g.contiguous().reshape(-1).tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

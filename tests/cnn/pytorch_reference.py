#!/usr/bin/env python3
"""The same CNN in PyTorch, from the parameters and the example typegrad wrote (tests/cnn/
test_pytorch_layout.cpp): prints the cost and every gradient, flattened, one tensor per line, in
typegrad's parameter order. Dense weights are stored (n_in, n_out) by typegrad and transposed
here into nn.Linear's (out, in); convolution weights are (C_out, C_in, K, K) in both.

Usage: pytorch_reference.py DIR   (DIR holds the raw float64 files written by the C++ test)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    print(f"pytorch_reference.py: cannot import numpy/torch ({e}); install python3-torch", file=sys.stderr)
    sys.exit(3)


def load(d: Path, name: str, shape):
    return torch.from_numpy(np.fromfile(d / f"{name}.f64", dtype="<f8").reshape(shape).copy())


def main() -> int:
    d = Path(sys.argv[1])
    torch.set_default_dtype(torch.float64)
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=1, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 3, 3, stride=2, padding=1), nn.Tanh(), nn.AvgPool2d(3),
        nn.Flatten(),
        nn.Linear(3, 5),
    )
    with torch.no_grad():
        net[0].weight.copy_(load(d, "W0", (4, 2, 3, 3)))
        net[0].bias.copy_(load(d, "b0", (4,)))
        net[3].weight.copy_(load(d, "W1", (3, 4, 3, 3)))
        net[3].bias.copy_(load(d, "b1", (3,)))
        net[7].weight.copy_(load(d, "W2", (3, 5)).T)  # typegrad (n_in, n_out) -> torch (out, in)
        net[7].bias.copy_(load(d, "b2", (5,)))
    x = load(d, "x", (1, 2, 12, 12))
    label = int(np.fromfile(d / "label.f64", dtype="<f8")[0])
    loss = nn.CrossEntropyLoss(reduction="sum")(net(x), torch.tensor([label]))
    loss.backward()
    print(repr(loss.item()))
    for p in (net[0].weight.grad, net[0].bias.grad, net[3].weight.grad, net[3].bias.grad,
              net[7].weight.grad.T, net[7].bias.grad):
        print(" ".join(repr(v) for v in p.contiguous().reshape(-1).tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The residual CNN of tests/nn/test_batch_norm19.cpp in PyTorch, from the parameters and the batch
the C++ test wrote:
  (2, 6, 6) -> Conv2d(2, 4, 3, padding 1) -> BatchNorm2d(4) -> ReLU
            -> x + [Conv2d(4, 4, 3, p 1) -> BatchNorm2d -> ReLU -> Conv2d(4, 4, 3, p 1) -> BatchNorm2d](x) -> ReLU
            -> flatten -> Linear(144, 3) -> softmax,
cost -sum(y * log softmax(z)) summed over the batch, float64, torch.autograd, training mode (batch
statistics; eps 1e-5, momentum 0.1). Prints the cost, the outputs (softmax, flattened), every
gradient but the running statistics' (typegrad's parameter order; its dense W is (n_in, n_out),
transposed here into nn.Linear's (out, in) and back), the running means and variances after the
step, then the outputs of each example in evaluation mode.

Usage: batch_norm19_pytorch.py DIR B   (DIR holds x.f64, y.f64 and p0.f64 ... in typegrad's order)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    print(f"batch_norm19_pytorch.py: cannot import numpy/torch ({e}); install python3-torch", file=sys.stderr)
    sys.exit(3)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0, self.bn0 = nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.conv1, self.bn1 = nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.conv2, self.bn2 = nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.fc = nn.Linear(144, 3)

    def forward(self, x):
        a = torch.relu(self.bn0(self.conv0(x)))
        body = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(a)))))
        return self.fc(torch.relu(a + body).flatten(1))  # the logits


def main() -> int:
    d = Path(sys.argv[1])
    batch = int(sys.argv[2])
    torch.set_default_dtype(torch.float64)
    net = Net()
    k = 0

    def load(shape):
        nonlocal k
        t = torch.from_numpy(np.fromfile(d / f"p{k}.f64", dtype="<f8").reshape(shape).copy())
        k += 1
        return t

    with torch.no_grad():
        for conv, bn in ((net.conv0, net.bn0), (net.conv1, net.bn1), (net.conv2, net.bn2)):
            conv.weight.copy_(load(conv.weight.shape))  # (C_out, C_in, K, K), as typegrad's
            conv.bias.copy_(load((4,)))
            bn.weight.copy_(load((4,)))
            bn.bias.copy_(load((4,)))
            bn.running_mean.copy_(load((4,)))
            bn.running_var.copy_(load((4,)))
        net.fc.weight.copy_(load((144, 3)).T)
        net.fc.bias.copy_(load((3,)))
    x = torch.from_numpy(np.fromfile(d / "x.f64", dtype="<f8").reshape(batch, 2, 6, 6).copy())
    y = torch.from_numpy(np.fromfile(d / "y.f64", dtype="<f8").reshape(batch, 3).copy())
    net.train()
    z = net(x)
    loss = -(y * torch.log_softmax(z, dim=-1)).sum()
    loss.backward()
    line = lambda t: print(" ".join(repr(v) for v in t.detach().contiguous().reshape(-1).tolist()))
    print(repr(loss.item()))
    line(torch.softmax(z, dim=-1))
    for conv, bn in ((net.conv0, net.bn0), (net.conv1, net.bn1), (net.conv2, net.bn2)):
        for g in (conv.weight.grad, conv.bias.grad, bn.weight.grad, bn.bias.grad):
            line(g)
    line(net.fc.weight.grad.T)
    line(net.fc.bias.grad)
    for bn in (net.bn0, net.bn1, net.bn2):
        line(bn.running_mean)
        line(bn.running_var)
    net.eval()
    with torch.no_grad():
        for b in range(batch):
            line(torch.softmax(net(x[b:b + 1]), dim=-1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The networks of tests/nn/test_graph19.cpp in PyTorch (float64, torch.autograd), run by
torch_params.main: the cost summed over the batch, then every gradient in typegrad's parameter
order (a block's inner layers in order).

  residual_mlp  6 -> Linear 5 -> tanh -> x + block(x) -> tanh -> x + block(x) -> Linear 3 -> sigmoid,
                block = Linear 5 -> tanh -> Linear 5 (two blocks, each its own weights); ½‖a − y‖²
  branches      6 -> [Linear 4 -> tanh; Linear 3 -> sigmoid; Linear 2] -> tanh
                -> (Linear 4 -> tanh) + Linear 4 -> Linear 3 -> softmax; −Σ y log a
  residual_cnn  2x6x6 -> Conv 3 k3 p1 -> tanh -> x + tanh(Conv 3 k3 p1 (x))
                -> [Conv 2 k3 p1; sigmoid(Conv 1 k1)] (channels) -> flatten -> Linear 3 -> sigmoid; ½‖a − y‖²

Usage: graph19_pytorch.py MODEL DIR BATCH   (DIR holds x.f64, y.f64, p0.f64 ...)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys

from torch_params import Params, log_likelihood, main, quadratic  # exits 3 without torch

import torch


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

    return net, quadratic


def branches(p: Params):
    b1, b2, b3 = p.linear(6, 4), p.linear(6, 3), p.linear(6, 2)
    s1, s2 = p.linear(9, 4), p.linear(9, 4)
    last = p.linear(4, 3)

    def net(x):
        a = torch.tanh(torch.cat([torch.tanh(b1(x)), torch.sigmoid(b2(x)), b3(x)], dim=1))
        a = torch.tanh(s1(a)) + s2(a)
        return torch.softmax(last(a), dim=1)

    return net, log_likelihood


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

    return net, quadratic


MODELS = {"residual_mlp": (residual_mlp, (6,), 3), "branches": (branches, (6,), 3),
          "residual_cnn": (residual_cnn, (2, 6, 6), 3)}


if __name__ == "__main__":
    sys.exit(main(MODELS))

#!/usr/bin/env python3
"""The networks of tests/nn/test_shared19.cpp in PyTorch (float64, torch.autograd), run by
torch_params.main: the cost summed over the batch, then every gradient in typegrad's parameter
order, each tensor once, at its owner. PyTorch shares a tensor by using the one nn.Parameter at
every place, and autograd sums the uses.

  tied_autoencoder  7 -> enc = Linear(7, 4) -> tanh -> F.linear(h, enc.weight.t(), c) (7) -> sigmoid; ½‖a − y‖²
  twice             6 -> Linear 5 -> tanh -> h = Linear(5, 5) -> tanh -> h again -> tanh -> Linear 3 -> softmax; −Σ y log a
  thrice            6 -> e = Linear(6, 4) -> tanh -> F.linear(·, e.weight.t(), c) (6) -> tanh -> e again -> sigmoid; ½‖a − y‖²

Usage: shared19_pytorch.py MODEL DIR BATCH   (DIR holds x.f64, y.f64, p0.f64 ...)
Exit 3 when torch cannot be imported (the test then skips)."""
import sys

from torch_params import Params, log_likelihood, main, quadratic  # exits 3 without torch

import torch
import torch.nn.functional as F


def tied_autoencoder(p: Params):
    enc = p.linear(7, 4)
    c = p.bias(7)

    def net(x):
        h = torch.tanh(enc(x))
        return torch.sigmoid(F.linear(h, enc.weight.t(), c))

    return net, quadratic


def twice(p: Params):
    first = p.linear(6, 5)
    h = p.linear(5, 5)
    last = p.linear(5, 3)

    def net(x):
        a = torch.tanh(first(x))
        a = torch.tanh(h(a))
        a = torch.tanh(h(a))
        return torch.softmax(last(a), dim=1)

    return net, log_likelihood


def thrice(p: Params):
    e = p.linear(6, 4)
    c = p.bias(6)

    def net(x):
        a = torch.tanh(e(x))
        a = torch.tanh(F.linear(a, e.weight.t(), c))
        return torch.sigmoid(e(a))

    return net, quadratic


if __name__ == "__main__":
    sys.exit(main({"tied_autoencoder": (tied_autoencoder, (7,), 7), "twice": (twice, (6,), 3), "thrice": (thrice, (6,), 4)}))

#!/usr/bin/env python3
"""Loads a network written by `typegrad export --model FILE -o OUT.npz` into a PyTorch
nn.Sequential (the architecture from the archive's JSON, the parameters with load_state_dict)
and, given an MNIST-format directory, prints its test accuracy as `typegrad eval` does.
typegrad's blocks (residual, concat, branch_sum) become the small modules Residual, Concat and
BranchSum below, whose state_dict names ("3.body.0.weight", "2.branches.1.0.bias") are the
archive's; its sequence layers Embedding (ids cast to int64), Positional (torch.nn has no such
module) and CausalSelfAttention (nn.MultiheadAttention with the causal mask) likewise.

Usage: scripts/npz_to_torch.py OUT.npz [DATA_DIR]
Needs numpy and torch (Debian: python3-numpy, python3-torch; use /usr/bin/python3)."""
import gzip
import json
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:
    print(f"npz_to_torch.py: cannot import numpy/torch ({e}); install python3-torch and use /usr/bin/python3",
          file=sys.stderr)
    sys.exit(3)

class Residual(nn.Module):
    """typegrad's residual(body): y = x + body(x)."""

    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class Concat(nn.Module):
    """typegrad's concat(branches...): the branches on one input, joined along `dim` (1: the
    features of (N, F), the channels of (N, C, H, W))."""

    def __init__(self, branches, dim):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.dim = dim

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], dim=self.dim)


class BranchSum(nn.Module):
    """typegrad's branch_sum(branches...): the branches on one input, added."""

    def __init__(self, branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        y = self.branches[0](x)
        for b in self.branches[1:]:
            y = y + b(x)
        return y


class Embedding(nn.Embedding):
    """typegrad's embedding<V, D>: nn.Embedding on token ids that arrive in the network's element
    type (typegrad's input is a float tensor), cast to int64 first."""

    def forward(self, ids):
        return super().forward(ids.long())


class Positional(nn.Module):
    """typegrad's positional: x + weight, a learned vector per position (weight (T, D)), which
    torch.nn has no module for."""

    def __init__(self, positions, features):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(positions, features))

    def forward(self, x):
        return x + self.weight


class CausalSelfAttention(nn.MultiheadAttention):
    """typegrad's attention<H> on (N, T, D): nn.MultiheadAttention(D, H, batch_first=True) on x as
    query, key and value with the causal mask (position i attends to j <= i); its state_dict
    (in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias) is the archive's."""

    def __init__(self, embed_dim, num_heads):
        super().__init__(embed_dim, num_heads, batch_first=True)

    def forward(self, x):
        t = x.shape[-2]
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool, device=x.device), diagonal=1)  # True: not attended
        return super().forward(x, x, x, attn_mask=mask, need_weights=False)[0]


def module(layer):
    """A layer of the architecture: one of LAYERS, or — for a layer whose header writes
    {"type": "NAME", "kwargs": {...}} (nn/layer.hpp's torch_module hook) — torch.nn.NAME(**kwargs)."""
    if layer["type"] in LAYERS:
        return LAYERS[layer["type"]](layer)
    if "kwargs" in layer and isinstance(getattr(nn, layer["type"], None), type):
        return getattr(nn, layer["type"])(**layer["kwargs"])
    raise SystemExit(f"npz_to_torch.py: unknown layer type {layer['type']!r}")


def sequential(layers):
    return nn.Sequential(*[module(layer) for layer in layers])


LAYERS = {
    "Residual": lambda a: Residual(sequential(a["body"])),
    "Concat": lambda a: Concat([sequential(b) for b in a["branches"]], a["dim"]),
    "BranchSum": lambda a: BranchSum([sequential(b) for b in a["branches"]]),
    "Embedding": lambda a: Embedding(a["num_embeddings"], a["embedding_dim"]),
    "Positional": lambda a: Positional(a["positions"], a["features"]),
    "CausalSelfAttention": lambda a: CausalSelfAttention(a["embed_dim"], a["num_heads"]),
    "Linear": lambda a: nn.Linear(a["in_features"], a["out_features"]),
    "Conv2d": lambda a: nn.Conv2d(a["in_channels"], a["out_channels"], a["kernel_size"], stride=a["stride"],
                                  padding=a["padding"]),
    "MaxPool2d": lambda a: nn.MaxPool2d(a["kernel_size"]),
    "AvgPool2d": lambda a: nn.AvgPool2d(a["kernel_size"]),
    "Flatten": lambda a: nn.Flatten(),
    "Dropout": lambda a: nn.Dropout(a["p"]),
    "LayerNorm": lambda a: nn.LayerNorm(a["features"], eps=a["eps"]),  # its weight γ, its bias β
    "BatchNorm1d": lambda a: nn.BatchNorm1d(a["features"], eps=a["eps"], momentum=a["momentum"]),
    "BatchNorm2d": lambda a: nn.BatchNorm2d(a["features"], eps=a["eps"], momentum=a["momentum"]),
    "Sigmoid": lambda a: nn.Sigmoid(),
    "Tanh": lambda a: nn.Tanh(),
    "ReLU": lambda a: nn.ReLU(),
    "GELU": lambda a: nn.GELU(),  # exact (erf), PyTorch's default
    "SiLU": lambda a: nn.SiLU(),
    "LeakyReLU": lambda a: nn.LeakyReLU(a["negative_slope"]),
    "Softmax": lambda a: nn.Softmax(dim=a["dim"]),
}


def load(npz_path):
    archive = np.load(npz_path)
    arch = json.loads(bytes(archive["architecture"]).decode())
    model = sequential(arch["layers"])
    dtype = None
    state = {}
    for name in archive.files:
        if name == "architecture":
            continue
        state[name] = torch.from_numpy(archive[name].copy())
        dtype = state[name].dtype
    model = model.to(dtype)
    # batch norm's step counter is PyTorch's own (used only without a momentum): not exported
    for name, buffer in model.state_dict().items():
        if name.endswith("num_batches_tracked") and name not in state:
            state[name] = torch.zeros_like(buffer)
    model.load_state_dict(state)
    model.eval()
    return model, arch, dtype


def read_idx(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(directory, stem):
    for name in (stem, stem + ".gz"):
        if (directory / name).exists():
            return directory / name
    raise SystemExit(f"npz_to_torch.py: {directory}: no {stem}[.gz]")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    model, arch, dtype = load(sys.argv[1])
    print(f"loaded {len(arch['layers'])} layers, input {arch['input']}, {arch['cost']} cost")
    if len(sys.argv) == 3:
        d = Path(sys.argv[2])
        images = read_idx(find(d, "t10k-images-idx3-ubyte"))
        labels = read_idx(find(d, "t10k-labels-idx1-ubyte"))
        # typegrad's pixel: the byte / 255 (data::unit_pixel)
        x = torch.from_numpy(images.reshape([len(images)] + arch["input"]).astype(np.float64) / 255.0).to(dtype)
        with torch.no_grad():
            predicted = model(x).argmax(dim=1).numpy()
        correct = int((predicted == labels).sum())
        print(f"test accuracy {correct / len(labels):.4f} ({correct}/{len(labels)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

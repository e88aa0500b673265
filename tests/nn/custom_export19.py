#!/usr/bin/env python3
"""Loads DIR/net.npz with scripts/npz_to_torch.py (which knows nothing of PReLU but what the
architecture says: torch.nn.PReLU(num_parameters=5)), runs it on DIR/x.f64 (B examples of 6,
float64) and prints the outputs, one example per line (tests/nn/test_custom_export19.cpp).

Usage: custom_export19.py SCRIPTS_DIR DIR B"""
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
import numpy as np  # noqa: E402
import torch  # noqa: E402
import npz_to_torch  # noqa: E402

d = Path(sys.argv[2])
batch = int(sys.argv[3])
model, arch, dtype = npz_to_torch.load(d / "net.npz")
x = torch.from_numpy(np.fromfile(d / "x.f64", dtype="<f8").reshape(batch, 6).copy()).to(dtype)
with torch.no_grad():
    for row in model(x):
        print(" ".join(repr(v) for v in row.tolist()))

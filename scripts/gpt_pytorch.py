#!/usr/bin/env python3
"""The PyTorch side of benchmarks/bench_gpt.cpp (issue 21, item 6): training steps of the same
small GPT, one thread, float32, printing tokens per second.

Model: T = 32 tokens, vocabulary V = 65, D = 64; token embedding + a learned (T, D) position table,
2 blocks of h + MHA(LN(h)) (4 heads, causal mask) and h + Linear(256, 64)(GELU(Linear(64, 256)(LN(h)))),
then LayerNorm and Linear(64, 65) at every position; the cost is the next-token cross-entropy summed
over positions and windows (typegrad's softmax + cost::LogLikelihood), and SGD steps
p <- p - (eta/B) * grad (typegrad's train::Sgd, eta = 0.01) or Adam (lr = 0.001) - the same
optimizer on both sides. The text and the 1024 windows are benchmarks/gpt_model.hpp's; each epoch
draws a fresh permutation and slices batches of B = 16 from it, as typegrad's Trainer::epoch does.

Attention, --attention:
  mha     nn.MultiheadAttention(batch_first=True) with a boolean causal mask, need_weights=False
  manual  one Linear(D, 3D), the heads by view/transpose, (Q K^T)/sqrt(d) masked_fill(-inf),
          softmax, @ V, Linear(D, D): the same parameters as nn.MultiheadAttention
  both    (default) measures both and says which is faster

Timing: --warmup epochs (not timed), then --epochs timed epochs; each epoch's CPU time
(time.process_time) and wall time; the median epoch gives tokens/s = 1024 * 32 / seconds. The last
line is machine-readable:
  RESULT optimizer=sgd attention=mha tokens_per_s_cpu=... tokens_per_s_wall=... loss=... epoch=...
(loss: the mean cost per token over the last epoch, epoch: its number, warm-up included).

Threads: OMP/MKL/OpenBLAS are told 1 thread before torch is imported, and torch.set_num_threads(1),
set_num_interop_threads(1). Which BLAS torch calls is whatever libblas.so.3 resolves to (Debian's
torch links the generic libblas.so.3; scripts/compare_gpt.sh runs it with reference BLAS and OpenBLAS).
"""
import argparse
import os
import statistics
import sys
import time

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

try:
    import torch
    from torch import nn
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover
    print(f"gpt_pytorch.py: cannot import torch ({e}); install python3-torch", file=sys.stderr)
    sys.exit(3)

T, V, D, H, B, N = 32, 65, 64, 4, 16, 1024


def text():
    """gpt_model.hpp's token stream: t' = (t + 1 + (r >> 16) % 3) % V, r the LCG mod 2^31."""
    tokens, r, t = [], 1, 0
    for _ in range(N * T + 1):
        tokens.append(t)
        r = (1103515245 * r + 12345) & 0x7FFFFFFF
        t = (t + 1 + (r >> 16) % 3) % V
    return tokens


class CausalAttention(nn.Module):
    """Hand-written multi-head causal self-attention with nn.MultiheadAttention's parameters."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D, 3 * D)
        self.out = nn.Linear(D, D)
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1))

    def forward(self, x):
        b = x.shape[0]
        q, k, v = self.qkv(x).view(b, T, 3, H, D // H).permute(2, 0, 3, 1, 4)  # each (B, H, T, d)
        s = (q @ k.transpose(-2, -1)) * (1.0 / (D // H) ** 0.5)
        p = torch.softmax(s.masked_fill(self.mask, float("-inf")), dim=-1)
        return self.out((p @ v).transpose(1, 2).reshape(b, T, D))


class MhaAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(D, H, batch_first=True)
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1))

    def forward(self, x):
        return self.mha(x, x, x, attn_mask=self.mask, need_weights=False)[0]


class Block(nn.Module):
    def __init__(self, attention):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(D), attention()
        self.ln2, self.up, self.down = nn.LayerNorm(D), nn.Linear(D, 4 * D), nn.Linear(4 * D, D)

    def forward(self, h):
        h = h + self.attn(self.ln1(h))
        return h + self.down(F.gelu(self.up(self.ln2(h))))


class Gpt(nn.Module):
    def __init__(self, attention):
        super().__init__()
        self.tokens = nn.Embedding(V, D)
        self.positions = nn.Parameter(torch.randn(T, D))
        self.blocks = nn.Sequential(Block(attention), Block(attention))
        self.ln, self.head = nn.LayerNorm(D), nn.Linear(D, V)

    def forward(self, x):
        return self.head(self.ln(self.blocks(self.tokens(x) + self.positions)))


def run(attention_name, optimizer_name, warmup, epochs, seed):
    torch.manual_seed(seed)
    tokens = torch.tensor(text(), dtype=torch.long)
    starts = torch.arange(N) * T
    windows = tokens[starts[:, None] + torch.arange(T + 1)]  # (N, T + 1)
    X, Y = windows[:, :T].contiguous(), windows[:, 1:].contiguous()
    model = Gpt(CausalAttention if attention_name == "manual" else MhaAttention)
    model.train()
    if optimizer_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.01 / B)  # on the summed cost: p -= (eta/B) sum grad
    else:
        opt = torch.optim.Adam(model.parameters(), lr=0.001)
        # typegrad's Adam takes the mean gradient g = (1/B) sum grad: the cost is divided by B here
    scale = 1.0 if optimizer_name == "sgd" else 1.0 / B

    def epoch():
        total = 0.0
        perm = torch.randperm(N)
        for k in range(0, N, B):
            idx = perm[k:k + B]
            x, y = X[idx], Y[idx]
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            loss = F.cross_entropy(logits.view(-1, V), y.view(-1), reduction="sum")
            (loss * scale).backward()
            opt.step()
            total += loss.item()
        return total / (N * T)

    for _ in range(warmup):
        epoch()
    cpu, wall, losses = [], [], []
    for _ in range(epochs):
        c0, w0 = time.process_time(), time.perf_counter()
        losses.append(epoch())
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    tok = N * T
    c, w = statistics.median(cpu), statistics.median(wall)
    print(f"pytorch {optimizer_name} {attention_name}: median epoch {c * 1e3:.1f} ms CPU, {w * 1e3:.1f} ms wall "
          f"({epochs} epochs): {tok / c:.0f} tokens/s (CPU), {tok / w:.0f} tokens/s (wall); "
          f"loss per token {losses[0]:.3f} -> {losses[-1]:.3f}", flush=True)
    return tok / c, tok / w, losses[-1], warmup + epochs


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--attention", choices=["mha", "manual", "both"], default="both")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--epochs", type=int, default=7)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, BLAS: {blas_library()}", flush=True)
    results = {}
    for name in (["mha", "manual"] if a.attention == "both" else [a.attention]):
        results[name] = run(name, a.optimizer, a.warmup, a.epochs, a.seed)
    best = max(results, key=lambda n: results[n][0])
    c, w, loss, epoch = results[best]
    print(f"RESULT optimizer={a.optimizer} attention={best} tokens_per_s_cpu={c:.1f} tokens_per_s_wall={w:.1f} "
          f"loss={loss:.4f} epoch={epoch}")


def blas_library():
    """The file libblas.so.3 resolved to in this process."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line}
    except OSError:
        return "?"
    for key in ("libopenblas", "libblas.so"):
        for path in sorted(paths):
            if key in path:
                return os.path.realpath(path)
    return "?"


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""End-to-end speed comparison on MNIST: typegrad vs the article's numpy code vs PyTorch (CPU).

Same data and hyper-parameters for every implementation: MNIST 60 000 train / 10 000 test, the
network 784-30-10, sigmoid, quadratic cost, mini-batch SGD with batch 10, eta = 3.0, float32,
weights and biases from N(0, 1).

Rows of the table:
  typegrad (autodiff)   build/typegrad train --grad autodiff   (default 3 epochs, median)
  typegrad (reference)  build/typegrad train --grad reference  (the hand-written backprop)
  numpy (article)       Nielsen's network.py, exactly as the article writes it: update_mini_batch
                        loops over the examples of the batch calling backprop(x, y) and sums
                        nabla_b / nabla_w; float32 arrays
  torch, 1 thread       nn.Linear + sigmoid, loss 0.5 * sum((a - y)^2) summed over the batch
  torch, N threads      (so the gradients are the article's summed ones), torch.optim.SGD with
                        lr = eta / m; batches of 10 as tensors; torch.set_num_threads(1 or N)

Every implementation runs in its own process (thread settings and peak RSS stay clean); peak RSS
is the child's ru_maxrss as returned by os.wait4 for that child alone. Seconds are the training
part of each epoch (shuffling and the SGD pass; evaluation excluded), median over the epochs run.

The FLOP floor: build/benchmarks/fma_peak measures this machine's single-core float FMA peak; the
FLOPs of one epoch of the article's algorithm divided by that peak is the time no single-core
implementation of the algorithm can beat (see FLOP_FORMULA).

Usage: scripts/compare.py [--data DIR] [--epochs E] [--typegrad-epochs T] [--markdown]
                          [--skip-numpy] [--skip-torch] [--skip-typegrad] [--limit N]
(normally through scripts/compare.sh, which installs python3-numpy / python3-torch and builds).
This process itself imports only the standard library; numpy and torch are imported by the
worker processes (compare.py --worker numpy|torch ...).
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (784, 30, 10)
BATCH = 10
ETA = 3.0
SEED = 42
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
EXIT_UNAVAILABLE = 3  # a worker whose library cannot be imported

FLOP_FORMULA = (
    "FLOPs/epoch = n * [ 2*(784*30 + 30*10)   forward, W a (per example)\n"
    "                  + 2*(784*30 + 30*10)   backward, dW = delta a^T, both layers\n"
    "                  + 2*(30*10) ]          backward, W^T delta for the hidden layer\n"
    "            + ceil(n/m) * 2*#params      SGD update per mini-batch, #params = 784*30+30 + 30*10+10\n"
    "  (a multiply-add counts 2; bias adds, sigmoids and the cost derivative are not counted)"
)


class CompareError(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# FLOP count
# ----------------------------------------------------------------------------------------------

def flops_per_epoch(n: int, m: int, sizes=SIZES) -> dict:
    """FLOPs of one epoch of the article's algorithm (see FLOP_FORMULA)."""
    layers = list(zip(sizes[:-1], sizes[1:]))               # (inputs, outputs) per layer
    weights = sum(i * o for i, o in layers)                  # 784*30 + 30*10
    forward = 2 * weights                                    # W a, per example
    grad_w = 2 * weights                                     # delta a^T, every layer
    back_delta = 2 * sum(i * o for i, o in layers[1:])       # W^T delta, hidden layers only
    params = sum(i * o + o for i, o in layers)
    batches = math.ceil(n / m)
    update = 2 * params
    per_example = forward + grad_w + back_delta
    return {
        "n": n, "m": m, "batches": batches, "params": params,
        "forward": forward, "grad_w": grad_w, "back_delta": back_delta,
        "per_example": per_example, "update_per_batch": update,
        "total": n * per_example + batches * update,
    }


# ----------------------------------------------------------------------------------------------
# MNIST (IDX files, plain or .gz) -- used by the workers
# ----------------------------------------------------------------------------------------------

def mnist_path(data: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        p = data / name
        if p.is_file():
            return p
    return None


def check_data_dir(data: Path) -> None:
    if not data.is_dir():
        raise CompareError(f"data directory {data} does not exist (give the MNIST directory with --data DIR)")
    missing = [stem + "[.gz]" for stem in MNIST_FILES.values() if mnist_path(data, stem) is None]
    if missing:
        raise CompareError(f"data directory {data} lacks {', '.join(missing)}")


def read_idx(path: Path, magic: int, np):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    got = int.from_bytes(raw[0:4], "big")
    if got != magic:
        raise CompareError(f"{path}: wrong magic number 0x{got:08x}, expected 0x{magic:08x}")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(data: Path, np, limit: int = 0):
    """(train_x [n,784] float32 in [0,1], train_y [n] int, test_x, test_y)."""
    def images(key):
        a = read_idx(mnist_path(data, MNIST_FILES[key]), 0x00000803, np)
        return (a.reshape(a.shape[0], -1).astype(np.float32) / np.float32(255.0))

    def labels(key):
        return read_idx(mnist_path(data, MNIST_FILES[key]), 0x00000801, np).astype(np.int64)

    tx, ty = images("train_images"), labels("train_labels")
    vx, vy = images("test_images"), labels("test_labels")
    if limit > 0:
        tx, ty = tx[:limit], ty[:limit]
    return tx, ty, vx, vy


def one_hot(labels, np):
    y = np.zeros((labels.shape[0], 10), dtype=np.float32)
    y[np.arange(labels.shape[0]), labels] = 1.0
    return y


# ----------------------------------------------------------------------------------------------
# Worker: numpy, the article's network.py (float32)
# ----------------------------------------------------------------------------------------------

def worker_numpy(args) -> dict:
    try:
        import numpy as np
    except ImportError as e:
        print(f"numpy is not importable ({sys.executable}): {e}", file=sys.stderr)
        sys.exit(EXIT_UNAVAILABLE)
    import random

    tx, ty, vx, vy = load_mnist(Path(args.data), np, args.limit)
    ty1 = one_hot(ty, np)
    # The article's format: a list of (x, y) tuples, x a (784, 1) column, y a (10, 1) column.
    training_data = [(tx[i].reshape(784, 1), ty1[i].reshape(10, 1)) for i in range(tx.shape[0])]

    f32 = np.float32

    def sigmoid(z):
        return f32(1.0) / (f32(1.0) + np.exp(-z))

    def sigmoid_prime(z):
        return sigmoid(z) * (f32(1.0) - sigmoid(z))

    class Network:
        def __init__(self, sizes):
            self.num_layers = len(sizes)
            self.sizes = sizes
            self.biases = [np.random.randn(y, 1).astype(f32) for y in sizes[1:]]
            self.weights = [np.random.randn(y, x).astype(f32) for x, y in zip(sizes[:-1], sizes[1:])]

        def feedforward(self, a):
            for b, w in zip(self.biases, self.weights):
                a = sigmoid(np.dot(w, a) + b)
            return a

        def SGD(self, training_data, epochs, mini_batch_size, eta):
            """One call per epoch here, so that each epoch can be timed on its own."""
            n = len(training_data)
            for _ in range(epochs):
                random.shuffle(training_data)
                mini_batches = [training_data[k:k + mini_batch_size] for k in range(0, n, mini_batch_size)]
                for mini_batch in mini_batches:
                    self.update_mini_batch(mini_batch, eta)

        def update_mini_batch(self, mini_batch, eta):
            nabla_b = [np.zeros(b.shape, dtype=f32) for b in self.biases]
            nabla_w = [np.zeros(w.shape, dtype=f32) for w in self.weights]
            for x, y in mini_batch:
                delta_nabla_b, delta_nabla_w = self.backprop(x, y)
                nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
                nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
            scale = f32(eta / len(mini_batch))
            self.weights = [w - scale * nw for w, nw in zip(self.weights, nabla_w)]
            self.biases = [b - scale * nb for b, nb in zip(self.biases, nabla_b)]

        def backprop(self, x, y):
            nabla_b = [np.zeros(b.shape, dtype=f32) for b in self.biases]
            nabla_w = [np.zeros(w.shape, dtype=f32) for w in self.weights]
            activation = x
            activations = [x]
            zs = []
            for b, w in zip(self.biases, self.weights):
                z = np.dot(w, activation) + b
                zs.append(z)
                activation = sigmoid(z)
                activations.append(activation)
            delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])
            nabla_b[-1] = delta
            nabla_w[-1] = np.dot(delta, activations[-2].transpose())
            for l in range(2, self.num_layers):
                z = zs[-l]
                sp = sigmoid_prime(z)
                delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
                nabla_b[-l] = delta
                nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
            return (nabla_b, nabla_w)

        def cost_derivative(self, output_activations, y):
            return output_activations - y

        def accuracy(self, x, labels):
            """Evaluation (not timed): all test images at once, columns = examples."""
            out = self.feedforward(x.T)
            return float(np.mean(np.argmax(out, axis=0) == labels))

    np.random.seed(args.seed)
    random.seed(args.seed)
    net = Network(list(SIZES))
    seconds, accuracies = [], []
    with np.errstate(over="ignore"):  # exp(-z) overflows to inf for z << 0: sigmoid is then 0, as it should
        for _ in range(args.epochs):
            t0 = time.perf_counter()
            net.SGD(training_data, 1, args.batch, args.eta)
            seconds.append(time.perf_counter() - t0)
            accuracies.append(net.accuracy(vx, vy))
            assert net.weights[0].dtype == f32 and net.biases[0].dtype == f32
    return {"seconds": seconds, "test_accuracy": accuracies,
            "versions": {"numpy": np.__version__}}


# ----------------------------------------------------------------------------------------------
# Worker: PyTorch on the CPU
# ----------------------------------------------------------------------------------------------

def worker_torch(args) -> dict:
    try:
        import torch
        from torch import nn
    except ImportError as e:
        print(f"torch is not importable ({sys.executable}): {e}", file=sys.stderr)
        sys.exit(EXIT_UNAVAILABLE)
    try:
        import numpy as np
    except ImportError as e:
        print(f"numpy (needed to read MNIST) is not importable ({sys.executable}): {e}", file=sys.stderr)
        sys.exit(EXIT_UNAVAILABLE)

    threads = args.threads if args.threads > 0 else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)

    tx, ty, vx, vy = load_mnist(Path(args.data), np, args.limit)
    x_train = torch.from_numpy(tx)
    y_train = torch.from_numpy(one_hot(ty, np))
    x_test = torch.from_numpy(vx)
    y_test = torch.from_numpy(vy)

    model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.Sigmoid(),
                          nn.Linear(SIZES[1], SIZES[2]), nn.Sigmoid())
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 1.0)          # the article's N(0, 1) for weights and biases
    m = args.batch
    optimizer = torch.optim.SGD(model.parameters(), lr=args.eta / m)

    n = x_train.shape[0]
    seconds, accuracies = [], []
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n)
        xs, ys = x_train[perm], y_train[perm]
        for k in range(0, n, m):
            xb, yb = xs[k:k + m], ys[k:k + m]
            if xb.shape[0] != m:           # a short last batch: eta / len(mini_batch), as the article
                for g in optimizer.param_groups:
                    g["lr"] = args.eta / xb.shape[0]
            optimizer.zero_grad()
            loss = 0.5 * ((model(xb) - yb) ** 2).sum()   # summed over the batch: the article's summed gradient
            loss.backward()
            optimizer.step()
            if xb.shape[0] != m:
                for g in optimizer.param_groups:
                    g["lr"] = args.eta / m
        seconds.append(time.perf_counter() - t0)
        model.eval()
        with torch.no_grad():
            accuracies.append(float((model(x_test).argmax(dim=1) == y_test).float().mean()))
    return {"seconds": seconds, "test_accuracy": accuracies, "threads": torch.get_num_threads(),
            "versions": {"torch": torch.__version__, "numpy": np.__version__}}


def worker_main(args) -> int:
    fn = {"numpy": worker_numpy, "torch": worker_torch}[args.worker]
    try:
        result = fn(args)
    except CompareError as e:
        print(f"compare.py: error: {e}", file=sys.stderr)
        return 1
    import resource
    result["self_maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    Path(args.result).write_text(json.dumps(result))
    return 0


# ----------------------------------------------------------------------------------------------
# The driver
# ----------------------------------------------------------------------------------------------

@dataclass
class Child:
    returncode: int
    stdout: str
    stderr: str
    maxrss_kb: int
    wall: float


def run_child(cmd: list[str], env: dict | None = None) -> Child:
    """Runs cmd; the peak RSS is that child's own ru_maxrss (os.wait4 on its pid)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        except OSError as e:
            raise CompareError(f"cannot run {cmd[0]}: {e}") from e
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return Child(p.returncode, out.read().decode(errors="replace"),
                     err.read().decode(errors="replace"), usage.ru_maxrss, wall)


@dataclass
class Row:
    name: str
    seconds: list[float] = field(default_factory=list)
    accuracy: float | None = None
    maxrss_kb: int | None = None
    note: str = ""
    skipped: str = ""           # reason, when the row could not be measured

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def plural(k: int, word: str) -> str:
    return f"{k} {word}" + ("" if k == 1 else "s")


def tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def measure_peak(fma_peak: Path) -> dict:
    if not fma_peak.is_file():
        raise CompareError(f"{fma_peak} not found (build it: cmake --build build --target fma_peak)")
    c = run_child([str(fma_peak)])
    if c.returncode != 0:
        raise CompareError(f"{fma_peak} failed (exit {c.returncode}): {tail(c.stderr)}")
    info = {}
    for line in c.stdout.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0] in ("arch", "lanes", "accumulators", "peak_gflops"):
            info[parts[0]] = parts[1].strip()
    if "peak_gflops" not in info:
        raise CompareError(f"{fma_peak} printed no peak_gflops line")
    info["peak_gflops"] = float(info["peak_gflops"])
    return info


def run_typegrad(exe: Path, grad: str, args) -> Row:
    row = Row(f"typegrad ({grad})")
    if not exe.is_file():
        row.skipped = f"{exe} not found (run scripts/bootstrap.sh)"
        return row
    with tempfile.TemporaryDirectory() as tmp:
        metrics = Path(tmp) / "metrics.jsonl"
        cmd = [str(exe), "train", "--data", str(args.data), "--epochs", str(args.typegrad_epochs),
               "--batch", str(args.batch), "--eta", repr(args.eta), "--seed", str(args.seed),
               "--grad", grad, "--quiet", "--metrics", str(metrics)]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        c = run_child(cmd)
        if c.returncode != 0:
            row.skipped = f"failed (exit {c.returncode}): {tail(c.stderr)}"
            return row
        records = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    if not records:
        row.skipped = "no metrics written"
        return row
    row.seconds = [float(r["seconds"]) for r in records]
    row.accuracy = float(records[-1]["test_accuracy"])
    row.maxrss_kb = c.maxrss_kb
    row.note = plural(len(records), "epoch")
    return row


def run_worker(kind: str, name: str, args, threads: int = 0, env_extra: dict | None = None) -> tuple[Row, dict]:
    row = Row(name)
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind,
               "--data", str(args.data), "--epochs", str(args.epochs), "--batch", str(args.batch),
               "--eta", repr(args.eta), "--seed", str(args.seed), "--limit", str(args.limit),
               "--threads", str(threads), "--result", str(result)]
        env = dict(os.environ)
        env.update(env_extra or {})
        c = run_child(cmd, env)
        if c.returncode == EXIT_UNAVAILABLE:
            row.skipped = f"skipped: {tail(c.stderr, 1)}"
            return row, {}
        if c.returncode != 0 or not result.is_file():
            row.skipped = f"failed (exit {c.returncode}): {tail(c.stderr)}"
            return row, {}
        r = json.loads(result.read_text())
    row.seconds = r["seconds"]
    row.accuracy = r["test_accuracy"][-1]
    row.maxrss_kb = c.maxrss_kb
    row.note = plural(len(row.seconds), "epoch")
    return row, r


def cpu_times() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat (None if unreadable)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        ticks = [int(x) for x in fields[:8]]           # user nice system idle iowait irq softirq steal
        hz = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    total = sum(ticks) / hz
    return total - (ticks[3] + ticks[4]) / hz, total


def own_cpu() -> float:
    import resource
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def cpu_model() -> str:
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if ":" in line:
                k, v = (s.strip() for s in line.split(":", 1))
                fields.setdefault(k, v)
    except OSError:
        return platform.processor() or "unknown CPU"
    name = fields.get("model name", "unknown CPU")
    extra = []
    if "cpu family" in fields and "model" in fields:
        extra.append(f"family {fields['cpu family']} model {fields['model']}")
    flags = fields.get("flags", "").split()
    simd = [f for f in ("avx512f", "avx2", "fma") if f in flags]
    if simd:
        extra.append("/".join(simd))
    return name + (f" ({', '.join(extra)})" if extra else "")


def fmt_table(rows: list[Row], base: float | None, markdown: bool) -> str:
    header = ["implementation", "s/epoch (median)", "x typegrad autodiff", "test accuracy",
              "peak RSS (MB)", "epochs run"]
    body = []
    for r in rows:
        if r.skipped:
            body.append([r.name, "-", "-", "-", "-", r.skipped])
            continue
        ratio = f"{r.median / base:.2f}" if base else "-"
        body.append([r.name, f"{r.median:.4g}", ratio, f"{r.accuracy:.4f}",
                     f"{r.maxrss_kb / 1024:.0f}", r.note])
    if markdown:
        align = ["---", "---:", "---:", "---:", "---:", "---"]
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
        lines += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(lines)
    widths = [max(len(x[i]) for x in [header] + body) for i in range(len(header))]
    right = [False, True, True, True, True, False]
    def line(cells):
        return "  ".join(c.rjust(w) if rt else c.ljust(w) for c, w, rt in zip(cells, widths, right)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(b) for b in body])


def driver(args) -> int:
    data = Path(args.data).resolve()
    args.data = str(data)
    check_data_dir(data)
    build = Path(args.build).resolve()
    exe = Path(args.typegrad) if args.typegrad else build / "typegrad"
    fma = Path(args.fma_peak) if args.fma_peak else build / "benchmarks" / "fma_peak"

    shown = os.environ.get("TYPEGRAD_COMPARE_CMD")
    print("command: " + (shown if shown else shlex.join([sys.executable] + sys.argv)))
    if shown:
        print("         (runs " + shlex.join([sys.executable] + sys.argv) + ")")
    print(f"machine: {cpu_model()}; {os.cpu_count()} logical CPUs "
          f"({len(os.sched_getaffinity(0))} usable); {platform.system()} {platform.release()}; "
          f"Python {platform.python_version()}")
    try:
        print("load average before the runs: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    except OSError:
        pass
    print(f"setup: MNIST from {data}; {'-'.join(map(str, SIZES))} sigmoid, quadratic cost, float32, "
          f"mini-batch SGD, batch {args.batch}, eta {args.eta}, N(0,1) init, seed {args.seed}"
          + (f"; first {args.limit} training examples only" if args.limit else ""))
    sys.stdout.flush()

    cpu0, own0, wall0 = cpu_times(), own_cpu(), time.perf_counter()
    # 1. the FLOP floor (first, while nothing else of ours runs)
    peak = measure_peak(fma)
    print(f"fma_peak: {peak['peak_gflops']:.1f} GFLOP/s on one core "
          f"({peak.get('arch', '?')}, {peak.get('lanes', '?')} float lanes, "
          f"{peak.get('accumulators', '?')} accumulators, best of 5)")
    sys.stdout.flush()

    n = args.limit if args.limit else 60000
    fl = flops_per_epoch(n, args.batch)
    floor = fl["total"] / (peak["peak_gflops"] * 1e9)

    rows: list[Row] = []
    versions: dict = {}
    failed = False

    def progress(row: Row):
        if row.skipped:
            print(f"  {row.name}: {row.skipped}", file=sys.stderr)
        else:
            per = ", ".join(f"{s:.3f}" for s in row.seconds)
            print(f"  {row.name}: s/epoch [{per}]  accuracy {row.accuracy:.4f}", file=sys.stderr)
        sys.stderr.flush()

    # 2. typegrad
    if not args.skip_typegrad:
        for grad in ("autodiff", "reference"):
            print(f"running typegrad --grad {grad} ({plural(args.typegrad_epochs, 'epoch')}) ...", file=sys.stderr)
            r = run_typegrad(exe, grad, args)
            failed |= bool(r.skipped)
            progress(r)
            rows.append(r)
    # 3. numpy, the article's algorithm
    if not args.skip_numpy:
        print(f"running numpy, the article's network.py ({plural(args.epochs, 'epoch')}) ...", file=sys.stderr)
        r, res = run_worker("numpy", "numpy (article, per example)", args)
        failed |= bool(r.skipped) and not r.skipped.startswith("skipped")
        versions.update(res.get("versions", {}))
        progress(r)
        rows.append(r)
    # 4. PyTorch, 1 thread and all threads
    if not args.skip_torch:
        all_threads = os.cpu_count() or 1
        for threads in (1, all_threads):
            name = f"PyTorch CPU, {threads} thread" + ("s" if threads != 1 else "")
            print(f"running {name} ({plural(args.epochs, 'epoch')}) ...", file=sys.stderr)
            r, res = run_worker("torch", name, args, threads)
            failed |= bool(r.skipped) and not r.skipped.startswith("skipped")
            versions.update(res.get("versions", {}))
            if res and res.get("threads") != threads:
                r.note += f" (torch used {res.get('threads')} threads)"
            progress(r)
            rows.append(r)
            if r.skipped.startswith("skipped"):
                break  # not importable: the second setting would say the same

    cpu1, own1, wall1 = cpu_times(), own_cpu(), time.perf_counter()
    base = next((r.median for r in rows if r.name == "typegrad (autodiff)" and not r.skipped), None)
    print()
    print(fmt_table(rows, base, args.markdown))
    print()
    print("FLOP floor (dense count of the article's algorithm, one core):")
    print(FLOP_FORMULA)
    print(f"  n = {fl['n']}, m = {fl['m']}: {fl['n']} x ({fl['forward']} + {fl['grad_w']} + {fl['back_delta']}) "
          f"+ {fl['batches']} x 2 x {fl['params']} = {fl['total']:,} FLOPs/epoch ({fl['total'] / 1e9:.3f} GFLOP)")
    print(f"  peak {peak['peak_gflops']:.1f} GFLOP/s (fma_peak, {peak.get('arch', '?')}) -> "
          f"floor {floor * 1e3:.1f} ms/epoch")
    for r in rows:
        if r.name.startswith("typegrad") and not r.skipped:
            print(f"  {r.name}: {r.median:.3f} s/epoch = {r.median / floor:.1f} x the floor "
                  f"({fl['total'] / r.median / 1e9:.1f} GFLOP/s dense-equivalent)")
    print()
    notes = [
        "seconds = training part of each epoch (shuffle + SGD pass; evaluation excluded), median over the epochs run",
        "peak RSS = ru_maxrss of each implementation's own process (os.wait4), MB = 2^20 bytes; "
        "the Python rows include the interpreter, numpy/torch and the data set as Python objects",
    ]
    if cpu0 and cpu1 and wall1 > wall0:
        other = max(0.0, (cpu1[0] - cpu0[0]) - (own1 - own0)) / (wall1 - wall0)
        notes.append(f"other processes kept {other:.2f} of {os.cpu_count()} CPUs busy on average during the "
                     f"{wall1 - wall0:.0f} s of measurements (/proc/stat minus this script's own CPU time; "
                     "near 0 = a quiet machine)")
    try:
        notes.append("load average after the runs: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
                     + f" (a busy machine slows every row; {os.cpu_count()} CPUs)")
    except OSError:
        pass
    if versions:
        notes.append("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    for note in notes:
        print("note: " + note)
    return 1 if failed else 0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "mnist"),
                   help="directory with the four MNIST IDX files, plain or .gz (default: ../shared/mnist from the repo root)")
    p.add_argument("--epochs", type=int, default=1, help="epochs for numpy and torch (default 1)")
    p.add_argument("--typegrad-epochs", type=int, default=3, help="epochs for typegrad (default 3; the median is reported)")
    p.add_argument("--batch", type=int, default=BATCH, help="mini-batch size (default 10)")
    p.add_argument("--eta", type=float, default=ETA, help="learning rate (default 3.0)")
    p.add_argument("--seed", type=int, default=SEED, help="seed of every implementation (default 42)")
    p.add_argument("--limit", type=int, default=0, help="train on the first N examples only (quick checks; 0 = all)")
    p.add_argument("--build", default=str(ROOT / "build"), help="typegrad build directory (default build/)")
    p.add_argument("--typegrad", default="", help="typegrad executable (default BUILD/typegrad)")
    p.add_argument("--fma-peak", default="", help="fma_peak executable (default BUILD/benchmarks/fma_peak)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--skip-numpy", action="store_true", help="no numpy row")
    p.add_argument("--skip-torch", action="store_true", help="no PyTorch rows")
    p.add_argument("--skip-typegrad", action="store_true", help="no typegrad rows")
    # worker mode (internal)
    p.add_argument("--worker", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--result", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for name in ("epochs", "typegrad_epochs", "batch"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be a positive integer")
    if args.limit < 0:
        p.error("--limit must be >= 0")
    if not (args.eta > 0 and math.isfinite(args.eta)):
        p.error("--eta must be a finite number > 0")
    return args


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        return worker_main(args)
    try:
        return driver(args)
    except CompareError as e:
        print(f"compare.py: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Regression comparison on scikit-learn's diabetes data: sklearn baselines vs the typegrad CLI.

Data: sklearn.datasets.load_diabetes() (bundled with scikit-learn, no download): 442 examples,
10 features (already mean-centred and scaled by sklearn), target = disease progression one year
later (raw values, 25..346; not standardized). Split: train_test_split(X, y, test_size=0.2,
random_state=0), i.e. 353 train / 89 test.

The split is written to OUTDIR/diabetes_train.csv and OUTDIR/diabetes_test.csv: a header of the
10 feature names then `target`, the target in the LAST column, numbers with Python repr
(shortest exact round-trip) precision.

Rows of the table (test MSE and MAE from sklearn.metrics, on the 89 test examples):
  mean predictor     predicts the mean training target for every example
  LinearRegression   ordinary least squares
  MLPRegressor       hidden_layer_sizes=(32,), max_iter=5000, random_state=0, everything else at
                     sklearn's defaults (relu, adam, learning_rate_init=1e-3, batch_size=200,
                     alpha=1e-4 L2); fitted on the same features and raw target as typegrad
  typegrad           with --typegrad PATH only:
                       PATH train --data OUTDIR/diabetes_train.csv --test OUTDIR/diabetes_test.csv
                            --target last --net 10-32:relu-1:linear --cost quadratic
                            --optimizer adam --epochs E --batch B [--eta ETA]
                            --metrics OUTDIR/typegrad.jsonl --quiet [--typegrad-args ...]
                     test MSE / MAE are the "test_mse" / "test_mae" of the metrics file's last line.

Usage: scripts/diabetes.py [--out DIR] [--typegrad PATH] [--typegrad-args "ARGS"]
                           [--epochs E] [--batch B] [--eta ETA]
Exit status: 0 success, 1 typegrad failed or wrote no usable metrics, 77 scikit-learn missing
(CTest's skip code). Without --out the CSV and metrics files go to a temporary directory that is
removed at exit.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

EXIT_SKIP = 77
TEST_SIZE = 0.2
RANDOM_STATE = 0
NET = "10-32:relu-1:linear"
MLP_SETTINGS = dict(hidden_layer_sizes=(32,), max_iter=5000, random_state=0)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Diabetes regression: sklearn baselines vs typegrad.")
    p.add_argument("--out", metavar="DIR", type=Path,
                   help="directory for diabetes_{train,test}.csv and typegrad.jsonl (default: a temp dir)")
    p.add_argument("--typegrad", metavar="PATH", type=Path, help="the typegrad CLI, e.g. build/typegrad")
    p.add_argument("--typegrad-args", metavar="ARGS", default="",
                   help="extra arguments appended to the typegrad command line (shell-quoted string)")
    p.add_argument("--epochs", type=int, default=500, help="typegrad --epochs (default 500)")
    p.add_argument("--batch", type=int, default=16, help="typegrad --batch (default 16)")
    p.add_argument("--eta", type=str, default=None, help="typegrad --eta (passed only when given)")
    a = p.parse_args(argv)
    if a.epochs < 1 or a.batch < 1:
        p.error("--epochs and --batch must be positive")
    return a


def write_csv(path: Path, header: list[str], X, y) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="ascii", newline="\n") as f:
        f.write(",".join(header) + "\n")
        for row, t in zip(X, y):
            f.write(",".join(repr(float(v)) for v in row) + "," + repr(float(t)) + "\n")
    os.replace(tmp, path)


def run_typegrad(a: argparse.Namespace, outdir: Path, train_csv: Path, test_csv: Path):
    """Returns (test_mse, test_mae, settings, command) or exits 1 with a message."""
    metrics = outdir / "typegrad.jsonl"
    if metrics.exists():
        metrics.unlink()  # never read a previous run's numbers
    cmd = [str(a.typegrad), "train", "--data", str(train_csv), "--test", str(test_csv),
           "--target", "last", "--net", NET, "--cost", "quadratic", "--optimizer", "adam",
           "--epochs", str(a.epochs), "--batch", str(a.batch)]
    if a.eta is not None:
        cmd += ["--eta", a.eta]
    cmd += ["--metrics", str(metrics), "--quiet"]
    cmd += shlex.split(a.typegrad_args)
    shown = shlex.join(cmd)
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        sys.exit(f"diabetes.py: cannot run {a.typegrad}: {e}")  # exit status 1
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        sys.exit(f"diabetes.py: typegrad failed (exit status {r.returncode}): {shown}")
    try:
        lines = [ln for ln in metrics.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except OSError as e:
        sys.exit(f"diabetes.py: typegrad wrote no metrics file {metrics}: {e}\ncommand: {shown}")
    if not lines:
        sys.exit(f"diabetes.py: the typegrad metrics file {metrics} is empty\ncommand: {shown}")
    try:
        last = json.loads(lines[-1])
    except json.JSONDecodeError as e:
        sys.exit(f"diabetes.py: the last line of {metrics} is not JSON ({e}): {lines[-1]!r}")
    missing = [k for k in ("test_mse", "test_mae") if not isinstance(last.get(k), (int, float))]
    if missing:
        sys.exit(f"diabetes.py: the last line of {metrics} has no numeric {' / '.join(missing)} "
                 f"(this typegrad does not report regression test metrics?): {lines[-1]}")
    settings = f"{NET}, quadratic cost, adam, {a.epochs} epochs, batch {a.batch}"
    if a.eta is not None:
        settings += f", eta {a.eta}"
    if a.typegrad_args.strip():
        settings += f", {a.typegrad_args.strip()}"
    return float(last["test_mse"]), float(last["test_mae"]), settings, shown


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    try:
        import numpy as np
        import sklearn
        from sklearn.datasets import load_diabetes
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LinearRegression
        from sklearn.metrics import mean_absolute_error, mean_squared_error
        from sklearn.model_selection import train_test_split
        from sklearn.neural_network import MLPRegressor
    except ImportError:
        print("diabetes.py: skipped: scikit-learn is not installed (apt-get install python3-sklearn)",
              file=sys.stderr)
        return EXIT_SKIP
    if a.typegrad is not None and not (a.typegrad.is_file() and os.access(a.typegrad, os.X_OK)):
        print(f"diabetes.py: --typegrad {a.typegrad}: not an executable file", file=sys.stderr)
        return 1

    data = load_diabetes()
    X, y = data.data, data.target
    names = list(data.feature_names)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, random_state=RANDOM_STATE)

    with tempfile.TemporaryDirectory(prefix="typegrad-diabetes-") as tmp:
        outdir = a.out if a.out is not None else Path(tmp)
        outdir.mkdir(parents=True, exist_ok=True)
        train_csv, test_csv = outdir / "diabetes_train.csv", outdir / "diabetes_test.csv"
        header = names + ["target"]
        write_csv(train_csv, header, X_train, y_train)
        write_csv(test_csv, header, X_test, y_test)

        rows = []  # (model, mse, mae, settings)

        def score(pred):
            return mean_squared_error(y_test, pred), mean_absolute_error(y_test, pred)

        mean = float(np.mean(y_train))
        rows.append(("mean predictor", *score(np.full_like(y_test, mean)),
                     f"predicts the training mean {mean:.2f}"))

        lin = LinearRegression().fit(X_train, y_train)
        rows.append(("sklearn LinearRegression", *score(lin.predict(X_test)), "ordinary least squares"))

        mlp = MLPRegressor(**MLP_SETTINGS)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            mlp.fit(X_train, y_train)
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        mlp_settings = (f"10-32:relu-1:identity, adam lr {mlp.learning_rate_init:g}, "
                        f"batch {min(200, len(X_train)) if mlp.batch_size == 'auto' else mlp.batch_size}, "
                        f"alpha {mlp.alpha:g}, max_iter {mlp.max_iter}, random_state 0; "
                        f"{mlp.n_iter_} epochs" + ("" if converged else " (hit max_iter, not converged)"))
        rows.append(("sklearn MLPRegressor", *score(mlp.predict(X_test)), mlp_settings))

        command = None
        if a.typegrad is not None:
            mse, mae, settings, command = run_typegrad(a, outdir, train_csv, test_csv)
            rows.append(("typegrad", mse, mae, settings))

        print("| model | test MSE | test MAE | settings |")
        print("|---|---:|---:|---|")
        for model, mse, mae, settings in rows:
            print(f"| {model} | {mse:.2f} | {mae:.2f} | {settings} |")
        print()
        print(f"Split: sklearn diabetes data ({len(X)} x {X.shape[1]}, raw target {y.min():g}..{y.max():g}), "
              f"train_test_split(test_size={TEST_SIZE}, random_state={RANDOM_STATE}): "
              f"{len(X_train)} train / {len(X_test)} test; scikit-learn {sklearn.__version__}, numpy {np.__version__}.")
        if command is not None:
            print(f"typegrad command: {command}")
        if a.out is not None:
            print(f"CSV files: {train_csv}, {test_csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

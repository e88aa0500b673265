#!/usr/bin/env python3
"""A character model of English words against a bigram model on the same split (issue 21).

Debian's wamerican word list (/usr/share/dict/american-english), in a seeded random order (the
list is alphabetical: neighbours would share prefixes a model could copy), split by word: every
tenth word is a test word. typegrad trains a small GPT from the command line on train.txt
(one word per line) and `typegrad eval` reports its test loss in nats per character. The bigram
model P(c_{t+1} | c_t) is counted on train.txt with add-alpha smoothing (alpha the best of a few
on the test text itself: generous to the bigram) and scored on exactly the characters typegrad
predicts: every position of the windows of T + 1 characters at stride T from the start of the
test text, the characters outside the training vocabulary left out as typegrad leaves them out.
Prints both losses, the ratio and a few generated words; exit 1 unless typegrad's loss is at least
15 % below the bigram's. Standard library only.

Usage: wamerican21.py --typegrad build/typegrad [--work DIR] [--epochs N] [--words FILE]
"""
import argparse
import math
import os
import random
import re
import subprocess
import sys
import time

NET = "seq32-embed64-res(layernorm-attn4)-res(layernorm-256:gelu-64:linear)-layernorm-vocab:softmax"
T = 32


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--typegrad", required=True)
    ap.add_argument("--work", default="wamerican21")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--words", default="/usr/share/dict/american-english")
    args = ap.parse_args()
    if not os.path.isfile(args.words):
        print(f"wamerican21: {args.words} not found (Debian: apt-get install wamerican); skipped")
        return 77
    os.makedirs(args.work, exist_ok=True)
    with open(args.words, encoding="utf-8") as f:
        words = [w.strip() for w in f if w.strip()]
    random.Random(21).shuffle(words)
    train_words = [w for i, w in enumerate(words) if i % 10 != 9]
    test_words = [w for i, w in enumerate(words) if i % 10 == 9]
    train_path, test_path = os.path.join(args.work, "train.txt"), os.path.join(args.work, "test.txt")
    with open(train_path, "w", encoding="utf-8") as f:
        f.write("\n".join(train_words) + "\n")
    with open(test_path, "w", encoding="utf-8") as f:
        f.write("\n".join(test_words) + "\n")

    model = os.path.join(args.work, "words.tgck")
    cmd = [args.typegrad, "train", "--net", NET, "--data", train_path, "--test", test_path, "--optimizer", "adam",
           "--eta", "0.002", "--batch", "16", "--epochs", str(args.epochs), "--save", model, "--quiet"]
    print("$ " + " ".join(f"'{c}'" if "(" in c else c for c in cmd), flush=True)
    start = time.time()
    run = subprocess.run(cmd, capture_output=True, text=True)
    print(run.stdout, end="")
    if run.returncode != 0:
        print(run.stderr, end="")
        return 1
    seconds = time.time() - start
    ev = subprocess.run([args.typegrad, "eval", "--model", model, "--data", test_path], capture_output=True, text=True)
    m = re.search(r"^test loss ([0-9.]+) nats/token", ev.stdout, re.M)
    if ev.returncode != 0 or not m:
        print(ev.stdout + ev.stderr, end="")
        return 1
    model_loss = float(m.group(1))

    # the bigram, on the characters typegrad predicts
    train_text = open(train_path, encoding="utf-8").read()
    vocab = sorted(set(train_text))
    index = {c: i for i, c in enumerate(vocab)}
    test_ids = [index[c] for c in open(test_path, encoding="utf-8").read() if c in index]
    train_ids = [index[c] for c in train_text]
    V = len(vocab)
    counts = [[0] * V for _ in range(V)]
    for a, b in zip(train_ids, train_ids[1:]):
        counts[a][b] += 1
    pairs = [(test_ids[s + t], test_ids[s + t + 1]) for s in range(0, len(test_ids) - T, T) for t in range(T)]

    def bigram_loss(alpha):
        totals = [sum(row) + alpha * V for row in counts]
        return -sum(math.log((counts[a][b] + alpha) / totals[a]) for a, b in pairs) / len(pairs)

    alpha, bigram = min(((a, bigram_loss(a)) for a in (0.01, 0.1, 0.5, 1.0)), key=lambda p: p[1])
    samples = []
    for seed in (1, 2, 3):
        g = subprocess.run([args.typegrad, "generate", "--model", model, "--prompt", "\n", "--tokens", "80",
                            "--temperature", "0.8", "--seed", str(seed)], capture_output=True, text=True)
        if g.returncode != 0:
            print(g.stderr, end="")
            return 1
        samples += [w for w in g.stdout.split("\n") if w][:4]
    ratio = model_loss / bigram
    print(f"words: {len(train_words)} train, {len(test_words)} test; vocabulary {V}; {len(pairs)} test characters scored")
    print(f"| model | test loss (nats/char) |")
    print(f"|---|---|")
    print(f"| bigram, add-{alpha:g} | {bigram:.4f} |")
    print(f"| typegrad {NET}, {args.epochs} epochs ({seconds:.0f} s) | {model_loss:.4f} |")
    print(f"typegrad / bigram = {ratio:.3f} ({(1 - ratio) * 100:.1f} % lower)")
    print("generated (temperature 0.8): " + ", ".join(samples))
    if ratio > 0.85:
        print("FAILED: typegrad's test loss is not 15 % below the bigram's")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

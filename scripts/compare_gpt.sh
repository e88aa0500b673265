#!/usr/bin/env bash
# Training speed of a small GPT, typegrad against PyTorch, one thread, tokens per second (issue 21,
# item 6; docs/benchmarks.md). Builds benchmarks/bench_gpt (under /tmp/typegrad-build.lock, the
# build lock of the shared machine, when flock exists), runs it, runs scripts/gpt_pytorch.py with
# the same model, data, batch and optimizers, and prints a table with typegrad ÷ PyTorch.
#
# Debian's python3-torch calls whatever libblas.so.3 is; on a system where that is the reference
# BLAS (the default without libopenblas), PyTorch's matrix products run ~10x slower than they can.
# So PyTorch is measured twice: with the system's libblas.so.3, and with OpenBLAS (serial, one
# thread), unpacked once from Debian's libopenblas0-serial into $build/openblas with
# `apt-get download` + `dpkg -x` (nothing is installed; only this process sees it through
# LD_LIBRARY_PATH). The table gives typegrad ÷ each; the OpenBLAS one is the fair comparison.
# typegrad: the median of 3 repetitions of >= 4 s of epochs; PyTorch: the median of 7 epochs after 2
# of warm-up (3 after 1 with the reference BLAS, ~6 s an epoch); all as CPU time, one thread.
#
#   scripts/compare_gpt.sh                      # build, bench_gpt, PyTorch (SGD and Adam)
#   TYPEGRAD_GPT_QUICK=1 scripts/compare_gpt.sh # fewer PyTorch epochs, one typegrad repetition of >= 1 s
#   TYPEGRAD_BUILD_DIR=DIR                      # another build directory (default: build/)
#   TYPEGRAD_GPT_NO_BUILD=1                     # bench_gpt is built already: measure only, e.g. while
#                                               # holding the build lock, so that no build runs meanwhile:
#   flock /tmp/typegrad-build.lock env TYPEGRAD_GPT_NO_BUILD=1 scripts/compare_gpt.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TYPEGRAD_BUILD_DIR:-$root/build}"
python=/usr/bin/python3
[ -x "$python" ] || python="$(command -v python3)"
quick="${TYPEGRAD_GPT_QUICK:-0}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

lock=()
command -v flock >/dev/null && lock=(flock /tmp/typegrad-build.lock)
if [ "${TYPEGRAD_GPT_NO_BUILD:-0}" != 1 ]; then
    [ -f "$build/CMakeCache.txt" ] || "${lock[@]}" cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
    "${lock[@]}" cmake --build "$build" --target bench_gpt -j2 >&2
fi

# OpenBLAS for PyTorch, private to this script's processes
openblas_dir=""
if ! ldconfig -p 2>/dev/null | grep -q libopenblas; then
    cache="$build/openblas"
    if [ ! -f "$cache/.done" ]; then
        rm -rf "$cache" && mkdir -p "$cache"
        if (cd "$cache" && apt-get download libopenblas0-serial >&2 && dpkg -x libopenblas0-serial_*.deb root); then
            touch "$cache/.done"
        else
            echo "compare_gpt: could not fetch libopenblas0-serial; PyTorch runs with the system's BLAS only" >&2
        fi
    fi
    lib="$(find "$cache/root" -name libblas.so.3 -path '*openblas-serial*' 2>/dev/null | head -1 || true)"
    [ -n "$lib" ] && openblas_dir="$(dirname "$lib")"
fi

min_time=4 reps=3
epochs=(--warmup 2 --epochs 7)
ref_epochs=(--warmup 1 --epochs 3)
if [ "$quick" = 1 ]; then min_time=1 reps=1; epochs=(--warmup 1 --epochs 3); ref_epochs=(--warmup 1 --epochs 1); fi

bench=("$build/benchmarks/bench_gpt" --benchmark_min_time="$min_time" --benchmark_repetitions="$reps"
       --benchmark_report_aggregates_only=true)
echo "== typegrad: ${bench[*]}" >&2
"${bench[@]}" --benchmark_out="$out/typegrad.json" --benchmark_out_format=json >&2
for opt in sgd adam; do
    echo "== PyTorch, system libblas.so.3, $opt" >&2
    "$python" "$root/scripts/gpt_pytorch.py" --optimizer "$opt" "${ref_epochs[@]}" | tee "$out/torch_system_$opt.txt" >&2
    if [ -n "$openblas_dir" ]; then
        echo "== PyTorch, OpenBLAS ($openblas_dir), $opt" >&2
        LD_LIBRARY_PATH="$openblas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
            "$python" "$root/scripts/gpt_pytorch.py" --optimizer "$opt" "${epochs[@]}" | tee "$out/torch_openblas_$opt.txt" >&2
    fi
done

"$python" - "$out" <<'EOF'
import json, pathlib, re, sys
out = pathlib.Path(sys.argv[1])
# the median of the repetitions (with one repetition, the run itself)
tg = {}
for b in json.loads((out / "typegrad.json").read_text())["benchmarks"]:
    name = b.get("run_name", b["name"])
    if b.get("aggregate_name", "median") == "median":
        tg[name] = b
def torch(kind, opt):
    f = out / f"torch_{kind}_{opt}.txt"
    if not f.exists():
        return None
    m = re.search(r"RESULT .*attention=(\w+) tokens_per_s_cpu=([\d.]+) tokens_per_s_wall=([\d.]+) loss=([\d.]+) epoch=(\d+)",
                  f.read_text())
    return (m.group(1), float(m.group(2)), float(m.group(3)), float(m.group(4)), int(m.group(5))) if m else None
print("| optimizer | typegrad tokens/s (CPU) | PyTorch + OpenBLAS tokens/s (CPU) | PyTorch + system libblas tokens/s (CPU) | typegrad ÷ PyTorch (OpenBLAS) | typegrad ÷ PyTorch (system BLAS) |")
print("|---|---:|---:|---:|---:|---:|")
for opt in ("sgd", "adam"):
    b = tg.get(f"BM_gpt_{opt}")
    if b is None:
        continue
    t = b["tokens_per_s"]
    ob, sb = torch("openblas", opt), torch("system", opt)
    cell = lambda r: f"{r[1]:,.0f} ({r[0]})" if r else "—"
    ratio = lambda r: f"**{t / r[1]:.2f}**" if r else "—"
    print(f"| {opt} | {t:,.0f} | {cell(ob)} | {cell(sb)} | {ratio(ob)} | {ratio(sb)} |")
print()
# a check that both sides train alike: the mean cost per token over an epoch (ln 65 = 4.17 at the
# start, ln 3 = 1.10 the text's entropy); typegrad's is one more epoch after the timed ones
for opt in ("sgd", "adam"):
    b = tg.get(f"BM_gpt_{opt}")
    if b:
        line = f"{opt}: cost per token, typegrad {b['loss']:.3f} (epoch {b['epochs'] + 1:.0f})"
        for kind in ("openblas", "system"):
            r = torch(kind, opt)
            if r:
                line += f", PyTorch {r[3]:.3f} (epoch {r[4]}, {kind} BLAS)"
        print(line)
EOF

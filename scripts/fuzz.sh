#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input (IDX files, checkpoints, predict's PGM and PNG images,
# NumPy .npz/.npy and CSV data files)
# with libFuzzer (+ ASan + UBSan) for a bounded time:
#   scripts/fuzz.sh [SECONDS]     SECONDS per fuzzer, default 60
# Installs clang-14 and libFuzzer (Debian packages) if missing, configures build-fuzz/ with
# clang++-14 and -DTYPEGRAD_BUILD_FUZZERS=ON (tests, benchmarks and the CLI off), builds the
# harnesses of tests/fuzz/, writes the seed corpora, then runs each fuzzer in turn. Exits
# non-zero if any fuzzer finds a crash, a sanitizer error, a timeout or excessive memory use;
# the input that did it is left in build-fuzz/artifacts/ (see docs/reliability.md).
#
# The corpus each fuzzer grows is kept in build-fuzz/corpus/<fuzzer>/ and reused by the next
# run; the seeds are regenerated into build-fuzz/seeds/<fuzzer>/ every time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TYPEGRAD_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${1:-60}"
case "$seconds" in
    '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS per fuzzer, default 60]" >&2; exit 2 ;;
esac
jobs="$(nproc 2>/dev/null || echo 2)"
fuzzers=(fuzz_idx fuzz_checkpoint fuzz_resume fuzz_image fuzz_npz fuzz_csv)

start=$SECONDS
# typegrad's own dependencies (xtensor, zlib, CMake ...); also keeps build/ up to date.
"$root/scripts/bootstrap.sh"

# clang-14 with its sanitizer and libFuzzer runtimes (libclang_rt.fuzzer comes with
# libclang-rt-14-dev on Debian 12; libfuzzer-14-dev is the stand-alone libFuzzer).
packages=(clang-14 libclang-rt-14-dev libfuzzer-14-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "typegrad fuzz: installing missing Debian packages: ${missing[*]}" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "typegrad fuzz: error: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

phase=$SECONDS
cmake -S "$root" -B "$build" \
    -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTYPEGRAD_BUILD_FUZZERS=ON \
    -DTYPEGRAD_BUILD_TESTS=OFF \
    -DTYPEGRAD_BUILD_BENCHMARKS=OFF \
    -DTYPEGRAD_BUILD_CLI=OFF \
    -DTYPEGRAD_NATIVE=OFF >&2
cmake --build "$build" --parallel "$jobs" --target "${fuzzers[@]}" fuzz_make_seeds fuzz_make_image_seeds fuzz_make_table_seeds >&2
bin="$build/tests/fuzz"
for f in "${fuzzers[@]}"; do
    [ -x "$bin/$f" ] || { echo "typegrad fuzz: error: $bin/$f was not built (is the compiler clang?)" >&2; exit 1; }
done
echo "typegrad fuzz: configured and built in $((SECONDS - phase)) s" >&2

rm -rf "$build/seeds"
"$bin/fuzz_make_seeds" "$build/seeds"
"$bin/fuzz_make_image_seeds" "$build/seeds"
"$bin/fuzz_make_table_seeds" "$build/seeds"
mkdir -p "$build/artifacts" "$build/logs" "$build/tmp"
# fuzz_idx writes each input to a file (read_idx reads paths): keep those files in the build tree.
export TMPDIR="$build/tmp"
# A sanitizer report must abort (libFuzzer then saves the input); leaks count as errors.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

failed=()
for f in "${fuzzers[@]}"; do
    corpus="$build/corpus/$f"
    mkdir -p "$corpus"
    dict="$root/tests/fuzz/${f#fuzz_}.dict"
    [ -f "$dict" ] || dict="$root/tests/fuzz/checkpoint.dict"  # fuzz_resume reads checkpoints too
    log="$build/logs/$f.log"
    echo "typegrad fuzz: $f for $seconds s (corpus $corpus, log $log)" >&2
    # -timeout: one input taking 10 s is a hang. -malloc_limit_mb: the parsers allocate about
    # what the input holds (inputs are at most a few kB, gzip expands them at most ~1000 times;
    # an image is 28×28), so a 64 MB allocation is a bug. New interesting inputs go to the
    # first directory.
    rc=0
    "$bin/$f" "$corpus" "$build/seeds/$f" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=64 \
        -dict="$dict" -artifact_prefix="$build/artifacts/$f-" -print_final_stats=1 \
        >"$log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        grep -E "^#[0-9]+[[:space:]]+DONE" "$log" >&2 || true
    else
        failed+=("$f")
        echo "typegrad fuzz: $f FAILED (exit $rc); from $log:" >&2
        # from the first report line (sanitizer, libFuzzer or the harness's own check) on
        report="$(awk '/runtime error|ERROR:|^fuzz_[a-z_]+: / { found = 1 } found' "$log" | head -n 100)"
        if [ -n "$report" ]; then echo "$report" >&2; else tail -n 60 "$log" >&2; fi
        echo "typegrad fuzz: reproduce with: $bin/$f <artifact> (artifacts in $build/artifacts/)" >&2
    fi
done

echo "typegrad fuzz: done in $((SECONDS - start)) s" >&2
if [ ${#failed[@]} -gt 0 ]; then
    echo "typegrad fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi

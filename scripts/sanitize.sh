#!/usr/bin/env bash
# The core tests under AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer:
# configures build-asan/ with -DTYPEGRAD_SANITIZE=ON (RelWithDebInfo), builds only the test
# executables listed below and runs them with CTest. Any sanitizer report aborts its test; the
# script exits non-zero if a test fails. Installs nothing beyond scripts/bootstrap.sh's packages
# (it runs bootstrap.sh first, which also keeps the Release build in build/ up to date).
#
# The subset builds in about 6 minutes on 2 cores (see docs/reliability.md for what it covers
# and what it leaves out). Extra arguments go to ctest, e.g. scripts/sanitize.sh -R test_data.
# TYPEGRAD_SANITIZE_BUILD_DIR overrides the build directory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TYPEGRAD_SANITIZE_BUILD_DIR:-$root/build-asan}"
jobs="$(nproc 2>/dev/null || echo 2)"

# One executable (= one CTest test) per area: data, io (the untrusted-input parsers), simd (the
# padded loads and stores), nn, reference, ad (the autodiff engine, also through training) and
# train, and the graph blocks and per-example reductions of issue 19. Left out for build time: test_ad_vs_reference, test_ad_float_double (compile-heavy,
# covered at run time by test_ad_fd and test_ad_training), the MNIST tests, the CLI tests, the
# README and packaging tests.
tests=(
    test_data
    test_checkpoint
    test_fuzz_regressions
    test_kernels
    test_layers
    test_model
    test_reference_fd
    test_ad_fd
    test_ad_custom_activation
    test_ad_expressions
    test_ad_derivation
    test_ad_training
    test_ad_batched
    test_ad_no_allocation
    test_sgd
    test_custom_layer
    test_batching
    test_ad_stable_costs
    test_cnn_gradients
    test_dropout
    test_graph19
    test_reductions19
    test_batch_norm19
    test_batch_norm_train19
    test_shared19
)

start=$SECONDS
"$root/scripts/bootstrap.sh"
echo "typegrad sanitize: bootstrap done in $((SECONDS - start)) s" >&2

phase=$SECONDS
cmake -S "$root" -B "$build" \
    -DTYPEGRAD_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTYPEGRAD_BUILD_BENCHMARKS=OFF \
    -DTYPEGRAD_NATIVE=ON \
    -DTYPEGRAD_BUILD_SUBSET="$(IFS=';'; echo "${tests[*]}")" >&2
# one target that depends on the subset, so that make builds the tests in parallel (CMakeLists.txt)
cmake --build "$build" --parallel "$jobs" --target typegrad_subset >&2
echo "typegrad sanitize: configured and built ${#tests[@]} test executables in $((SECONDS - phase)) s" >&2

# detect_leaks: LeakSanitizer at exit; abort_on_error: a report ends the test at once (CTest
# shows it as failed, with the report on stderr). halt_on_error: UBSan stops at the first
# finding (the build also uses -fno-sanitize-recover=all).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
regex="^($(IFS='|'; echo "${tests[*]}"))\$"

phase=$SECONDS
status=0
ctest --test-dir "$build" --output-on-failure --no-tests=error --parallel "$jobs" -R "$regex" "$@" || status=$?
echo "typegrad sanitize: tests ran in $((SECONDS - phase)) s; total $((SECONDS - start)) s" >&2
if [ "$status" -ne 0 ]; then
    echo "typegrad sanitize: FAILED (a test failed or a sanitizer reported an error; see above)" >&2
fi
exit "$status"

#!/usr/bin/env bash
# Installs what is missing, builds, then runs the whole test suite with CTest. Tests on real
# MNIST read TYPEGRAD_MNIST_DIR and are skipped (with a message) when it is not set.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
build="${TYPEGRAD_BUILD_DIR:-$root/build}"
# CTest runs each test in its own directory: make a relative data path absolute first.
if [ -n "${TYPEGRAD_MNIST_DIR:-}" ]; then export TYPEGRAD_MNIST_DIR="$(realpath -m "$TYPEGRAD_MNIST_DIR")"; fi
exec ctest --test-dir "$build" --output-on-failure --parallel "$(nproc 2>/dev/null || echo 2)" "$@"

#!/usr/bin/env bash
# Installs what is missing, builds, then runs the typegrad command line, e.g.
#   scripts/run.sh train                       # the article's 784-30-10 on built-in synthetic digits
#   scripts/run.sh train --data ../shared/mnist
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Only the CLI (the executable typegrad and the libraries it links): a network compiled on first
# use is compiled from the source tree's headers and build/generated/typegrad_jit_config.hpp,
# which configuring writes, so nothing else need be built. scripts/test.sh builds everything.
"$root/scripts/bootstrap.sh" typegrad_cli
build="${TYPEGRAD_BUILD_DIR:-$root/build}"
if [ $# -eq 0 ]; then set -- train; fi
exec "$build/typegrad" "$@"

#!/usr/bin/env bash
# Installs what is missing, builds, then runs the typegrad command line, e.g.
#   scripts/run.sh train                       # the article's 784-30-10 on built-in synthetic digits
#   scripts/run.sh train --data ../shared/mnist
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
build="${TYPEGRAD_BUILD_DIR:-$root/build}"
if [ $# -eq 0 ]; then set -- train; fi
exec "$build/typegrad" "$@"

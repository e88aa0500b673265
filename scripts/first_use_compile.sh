#!/usr/bin/env bash
# The time a network compiled on first use costs: `train --net SPEC` from an empty cache (the
# training plugin), then `eval` of its checkpoint (the other commands' plugin), each the wall
# clock of the whole command. One line per call; alternate builds in the same minutes to compare
# them (docs/benchmarks.md, "A wide layer's weight gradient…"):
#   for r in 1 2 3; do for exe in OLD/build/typegrad build/typegrad; do
#     scripts/first_use_compile.sh "$exe" "$exe" 784-128:relu-64:relu-10:softmax; done; done
# Arguments: the typegrad executable, a label for the line, the spec.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 EXE LABEL SPEC" >&2; exit 2; }
exe="$1"; label="$2"; spec="$3"
cache="$(mktemp -d "${TMPDIR:-/tmp}/typegrad-first-use.XXXXXX")"
trap 'rm -rf "$cache"' EXIT
now() { date +%s.%N; }
start=$(now)
TYPEGRAD_CACHE_DIR="$cache" "$exe" train --net "$spec" --epochs 1 --limit 100 --test-limit 100 --quiet \
    --save "$cache/m.tgck" > /dev/null 2> "$cache/train.err" || { cat "$cache/train.err" >&2; exit 1; }
middle=$(now)
TYPEGRAD_CACHE_DIR="$cache" "$exe" eval --model "$cache/m.tgck" --test-limit 100 > /dev/null 2> "$cache/eval.err" ||
    { cat "$cache/eval.err" >&2; exit 1; }
end=$(now)
awk -v l="$label" -v s="$spec" -v a="$start" -v b="$middle" -v c="$end" \
    'BEGIN { printf "%s %s: train %.2f s, then eval %.2f s\n", l, s, b - a, c - b }'

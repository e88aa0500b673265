#!/usr/bin/env bash
# Runs that need the same network at once compile it once (src/cli/jit.cpp, CacheLock in
# src/cli/cache.hpp), through the executable, with a cache of its own (emptied first):
#   - two `derive --net SPEC` started together: the first compiles, the second says it waits for
#     it, then loads what it compiled; both print the same; one library, no lock file left;
#   - SIGTERM while waiting: exit 143 with typegrad's one line, the compiling run unharmed;
#   - a lock file left unlocked (its run was killed) does not make the next run wait, and is
#     removed by it.
# Usage: compile_once22.sh TYPEGRAD_EXE WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
exe="$1"; work="$2"
rm -rf "$work"; mkdir -p "$work"; cd "$work"
export TYPEGRAD_CACHE_DIR="$work/cache"
# waits (at most 60 s) for FILE to match REGEX
await() { for _ in $(seq 600); do grep -Eq -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; cat "$1"; fail "$1 never matched: $2"; }
no_locks() { if ls cache | grep -E '\.lock$'; then fail "a lock file was left in the cache"; fi; }
# race SPEC A B: `derive --net SPEC` as A (A.out, A.err, pid $a), and once A compiles, as B (pid $b)
race() {
    "$exe" derive --net "$1" > "$2.out" 2> "$2.err" &
    a=$!
    await "$2.err" "^typegrad: compiling $1"
    "$exe" derive --net "$1" > "$3.out" 2> "$3.err" &
    b=$!
}

spec="784-9:tanh-10:softmax"
race "$spec" first second
set +e; wait "$a"; rc1=$?; wait "$b"; rc2=$?; set -e
[ "$rc1" = 0 ] && [ "$rc2" = 0 ] || { cat first.err second.err; fail "exit $rc1 and $rc2, not 0 and 0"; }
expect first.err "^typegrad: compiled $spec in [0-9.]+ s"
expect second.err "^typegrad: another typegrad is compiling $spec \(log-likelihood cost, float, for eval, predict, generate, export and derive\) into .*/cache; waiting for it$"
forbid second.err "compiling $spec .* on first use|compiled"
expect second.out "^typegrad derive: $spec"
cmp first.out second.out || fail "the run that waited derived something else"
[ "$(ls cache/*.so | wc -l)" = 1 ] || { ls cache; fail "not one library in the cache"; }
no_locks

# SIGTERM while waiting for another run's compile
spec="784-9:relu-10:softmax"
race "$spec" compiling waiting
await waiting.err "waiting for it$"
kill -TERM "$b"
set +e; wait "$b"; rc=$?; wait "$a"; rc1=$?; set -e
[ "$rc" = 143 ] || { cat waiting.err; fail "SIGTERM while waiting exited with $rc, not 143"; }
expect waiting.err "^typegrad: interrupted by SIGTERM while waiting for another typegrad's compile of $spec \(log-likelihood cost, float, for eval, predict, generate, export and derive\). nothing was written$"
[ ! -s waiting.out ] || fail "the run stopped while waiting printed on stdout"
[ "$rc1" = 0 ] || { cat compiling.err; fail "the compiling run exited with $rc1 when the waiting one was stopped"; }
no_locks

# a lock file left by a killed run: taken at once, the network compiled, the file removed
manifest="$(ls cache/784-9_relu-10_softmax-*.manifest)"
lock="${manifest%.manifest}.lock"
rm "$manifest"
: > "$lock"; chmod 600 "$lock"
timeout 120 "$exe" derive --net "$spec" > stale.out 2> stale.err || { cat stale.err; fail "the run with a stale lock file failed"; }
forbid stale.err "waiting"
expect stale.err "^typegrad: compiled $spec in"
no_locks
echo "two runs compiled a network once; SIGTERM stopped a run waiting for it; a stale lock file was taken"

#!/usr/bin/env bash
# `mpirun -np P typegrad train` (docs/distributed.md), on the synthetic digits, in parts:
#   np1:    under mpirun -np 1, gradient sum and local SGD give the checkpoint of the run without
#           mpirun, byte for byte.
#   sum:    -np 2 summing gradients equals one process with batch 2m up to the order of float
#           additions (every weight within 1e-4 after 400 steps; measured 1.2e-6), prints the
#           same test accuracies, and is reproducible: two runs give identical checkpoints.
#   local:  -np 2 local SGD averaging every 7 steps trains (test accuracy > 0.8 after 3 epochs of
#           6000 examples), and with momentum (the velocities are averaged too) is reproducible.
#   resume: -np 2, 3 epochs straight vs 1 epoch and a resume to 3: identical checkpoints, for
#           the gradient sum and for local SGD with momentum.
#   files:  only process 0 prints and writes: rank 1 runs in another directory (mpirun's MPMD
#           form) and leaves it empty; each epoch line is printed once.
#   errors: a bad option is one error line, printed once (by process 0); exit 2.
#   interrupt: SIGTERM to mpirun: the resume hint starts with `mpirun -np 2` (issue 18).
#   interrupt-one: SIGTERM to process 1 alone: every process stops after the same batch.
# Usage: distributed.sh TYPEGRAD_EXE WORK_DIR PART
set -euo pipefail
exe="$1"; work="$2"; part="$3"
rm -rf "$work"; mkdir -p "$work"; cd "$work"
unset TYPEGRAD_DATA
fail() { echo "FAILED: $*"; exit 1; }
expect() {  # FILE REGEX
    grep -Eq -- "$2" "$1" || { echo "--- $1:"; cat "$1"; fail "$1 does not match: $2"; }
}
# The run as root in a container: Open MPI refuses root without these, and its shared-memory
# transport (vader) falls back with a warning where process_vm_readv is not allowed.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
mpi() {  # NP OUT ARGS...: runs `mpirun -np NP --oversubscribe typegrad ARGS`; stderr must stay clean
    local np="$1" out="$2"; shift 2
    mpirun -np "$np" --oversubscribe "$exe" "$@" > "$out.out" 2> "$out.err" ||
        { cat "$out.out" "$out.err"; fail "mpirun -np $np typegrad $*: exit code $?"; }
    if grep -v "^data: synthetic digits" "$out.err" | grep -q .; then cat "$out.err"; fail "$out: mpirun printed on stderr"; fi
}
# The parameters of a 784-30-10 checkpoint: its last 23860 floats before the CRC-32
# (docs/design.md, "Checkpoints": the payload ends the file, then a u32).
weights() {
    local size; size=$(stat -c %s "$1")
    od -An -v -t f4 -j $((size - 4 - 4 * 23860)) -N $((4 * 23860)) "$1" | tr -s ' ' '\n' | grep -v '^$'
}
quick=(--limit 2000 --test-limit 500 --quiet)

case "$part" in
np1)
    "$exe" train --epochs 2 "${quick[@]}" --save alone.tgck > alone.out 2> /dev/null
    mpi 1 sum train --epochs 2 "${quick[@]}" --save sum.tgck
    mpi 1 local train --epochs 2 "${quick[@]}" --average-every 10 --save local.tgck
    cmp alone.tgck sum.tgck || fail "mpirun -np 1 (gradient sum) differs from the run without mpirun"
    cmp alone.tgck local.tgck || fail "mpirun -np 1 --average-every 10 differs from the run without mpirun"
    diff <(grep -o "test accuracy [0-9.]* ([0-9/]*)" alone.out) <(grep -o "test accuracy [0-9.]* ([0-9/]*)" sum.out) ||
        fail "the accuracies differ"
    echo "np1: mpirun -np 1 gives the single-process checkpoint byte for byte"
    ;;
sum)
    "$exe" train --epochs 2 "${quick[@]}" --batch 20 --save batch20.tgck > batch20.out 2> /dev/null
    mpi 2 sum train --epochs 2 "${quick[@]}" --batch 10 --save sum.tgck
    mpi 2 again train --epochs 2 "${quick[@]}" --batch 10 --save again.tgck
    expect sum.out "^2 processes \(MPI\): gradients summed every step, batch 2 x 10 = 20$"
    cmp sum.tgck again.tgck || fail "two -np 2 runs differ"
    paste <(weights batch20.tgck) <(weights sum.tgck) > pairs
    [ "$(wc -l < pairs)" -eq 23860 ] || fail "not 23860 weights"
    awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d } END { printf "max |difference| %g\n", m; exit !(m <= 1e-4) }' pairs ||
        fail "-np 2 with batch 10 is not one process with batch 20 (tolerance 1e-4)"
    awk '$1 != $2 { n++ } END { printf "%d of %d weights differ in their last bits\n", n, NR }' pairs
    diff <(grep -o "test accuracy [0-9.]*" batch20.out) <(grep -o "test accuracy [0-9.]*" sum.out) ||
        fail "the accuracies differ"
    echo "sum: -np 2 x batch 10 = one process with batch 20, within 1e-4; reproducible"
    ;;
local)
    mpi 2 local train --epochs 3 --limit 6000 --test-limit 1000 --quiet --average-every 7 --save local.tgck
    expect local.out "^2 processes \(MPI\): local SGD averaging every 7 steps and after every epoch; batch 10 per process"
    accuracy=$(grep -Eo "^epoch 3/3 +test accuracy 0\.[0-9]+" local.out | grep -Eo "0\.[0-9]+$")
    # one process with batch 10 reaches 0.914 here; local SGD takes half as many steps per process
    awk -v a="$accuracy" 'BEGIN { exit !(a > 0.8) }' || fail "local SGD reached only $accuracy"
    mpi 2 momentum train --epochs 2 "${quick[@]}" --optimizer momentum --eta 0.3 --average-every 7 --save momentum.tgck
    mpi 2 again train --epochs 2 "${quick[@]}" --optimizer momentum --eta 0.3 --average-every 7 --save again.tgck
    cmp momentum.tgck again.tgck || fail "two local SGD runs differ"
    echo "local: -np 2 local SGD reaches $accuracy; with momentum, two runs are identical"
    ;;
resume)
    for mode in sum local; do
        extra=()
        [ "$mode" = local ] && extra=(--optimizer momentum --eta 0.3 --average-every 7)
        mpi 2 "$mode-straight" train --epochs 3 "${quick[@]}" "${extra[@]}" --save "$mode-straight.tgck"
        mpi 2 "$mode-first" train --epochs 1 "${quick[@]}" "${extra[@]}" --save "$mode-resumed.tgck"
        mpi 2 "$mode-rest" train --epochs 3 "${quick[@]}" "${extra[@]}" --resume "$mode-resumed.tgck" --save "$mode-resumed.tgck"
        expect "$mode-rest.out" "^resuming from $mode-resumed.tgck after epoch 1$"
        cmp "$mode-straight.tgck" "$mode-resumed.tgck" || fail "$mode: the resumed run differs from the uninterrupted one"
    done
    echo "resume: -np 2, resumed after epoch 1 = uninterrupted, gradient sum and local SGD with momentum"
    ;;
files)
    mkdir zero one
    args=(train --epochs 2 "${quick[@]}" --save run.tgck --metrics m.jsonl)
    mpirun --oversubscribe -np 1 --wdir zero "$exe" "${args[@]}" : -np 1 --wdir one "$exe" "${args[@]}" > run.out 2> run.err ||
        { cat run.out run.err; fail "mpirun: exit code $?"; }
    [ -f zero/run.tgck ] && [ -f zero/m.jsonl ] || fail "process 0 wrote no checkpoint or metrics"
    [ "$(ls -A one)" = "" ] || { ls -la one; fail "process 1 wrote files: $(ls -A one)"; }
    [ "$(grep -c "^epoch 2/2 " run.out)" -eq 1 ] || { cat run.out; fail "the epoch line is not printed exactly once"; }
    [ "$(grep -c "^typegrad train:" run.out)" -eq 1 ] || fail "the header is not printed exactly once"
    [ "$(wc -l < zero/m.jsonl)" -eq 2 ] || fail "the metrics file does not have 2 lines"
    echo "files: process 0 alone printed and wrote"
    ;;
errors)
    for bad in "--average-every 0" "--batch 1500" "--threads 2"; do
        # shellcheck disable=SC2086
        if mpirun -np 2 --oversubscribe "$exe" train --limit 2000 --quiet $bad > bad.out 2> bad.err; then
            fail "$bad was accepted"
        fi
        grep "^typegrad: error" bad.err > errors || true
        [ "$(wc -l < errors)" -eq 1 ] || { cat bad.err; fail "$bad: not exactly one error line"; }
        case "$bad" in
        --average-every*) expect errors "^typegrad: error: --average-every: expected a positive number of steps or 'epoch', got '0'$" ;;
        --batch*) expect errors "^typegrad: error: --batch: 2 processes × 1500 examples make a global batch larger than the 2000 training examples$" ;;
        --threads*) expect errors "^typegrad: error: --threads: 2 threads in each of 2 MPI processes are not supported: run one process per core instead" ;;
        esac
        cat errors
    done
    echo "errors: one line each, from process 0"
    ;;
interrupt)
    # SIGTERM to mpirun after the first checkpoint: process 0 says where it stopped, and the
    # command that continues the run is the mpirun command with as many processes
    mpirun -np 2 --oversubscribe "$exe" train --epochs 500 --limit 6000 --test-limit 100 --quiet --save run.tgck > run.out 2> run.err &
    pid=$!
    for _ in $(seq 600); do [ -f run.tgck ] && break; sleep 0.1; done
    [ -f run.tgck ] || { kill "$pid"; fail "no checkpoint after 60 s"; }
    kill -TERM "$pid"
    wait "$pid" || true
    expect run.err "^typegrad: interrupted by SIGTERM .*; run.tgck holds epoch [0-9]+; continue with: mpirun -np 2 typegrad train --epochs 500 --limit 6000 --test-limit 100 --quiet --save run.tgck --resume run.tgck$"
    # the processes agree on the batch to stop after: none aborts the job (no MPI_ABORT text)
    if grep -v "^data: synthetic digits\|^typegrad: interrupted by" run.err | grep -q .; then
        cat run.err; fail "more than process 0's interruption on stderr"
    fi
    echo "interrupt: the resume hint under mpirun is an mpirun command"
    ;;
interrupt-one)
    # SIGTERM to process 1 alone (not to mpirun): it stops, and so does process 0, after the
    # same batch; process 0 says so and keeps its checkpoint. Before the processes agreed on the
    # signal, process 1 ended the job with MPI_Abort and process 0 was killed without a word.
    mpirun -np 2 --oversubscribe "$exe" train --epochs 500 --limit 6000 --test-limit 100 --quiet --save run.tgck > run.out 2> run.err &
    pid=$!
    for _ in $(seq 600); do [ -f run.tgck ] && break; sleep 0.1; done
    [ -f run.tgck ] || { kill "$pid"; fail "no checkpoint after 60 s"; }
    one=""
    for p in $(pgrep -P "$pid"); do
        if tr '\0' '\n' < "/proc/$p/environ" | grep -qx "OMPI_COMM_WORLD_RANK=1"; then one=$p; fi
    done
    [ -n "$one" ] || { kill "$pid"; fail "process 1 of the job not found among mpirun's children"; }
    kill -TERM "$one"
    wait "$pid" || true
    expect run.err "^typegrad: interrupted by SIGTERM .*; run.tgck holds epoch [0-9]+; continue with: mpirun -np 2 typegrad train --epochs 500 --limit 6000 --test-limit 100 --quiet --save run.tgck --resume run.tgck$"
    # mpirun reports the exit code 143 of the processes; no process aborted the job
    if grep -q "MPI_ABORT" run.err; then cat run.err; fail "a process aborted the job"; fi
    "$exe" eval --model run.tgck > /dev/null 2>&1 || fail "run.tgck does not load after the interruption"
    echo "interrupt-one: a signal to one process stops both after the same batch, process 0 reports"
    ;;
*) fail "unknown part $part" ;;
esac

#!/usr/bin/env bash
# Networks compiled on first use (src/cli/jit.hpp), through the executable, with a cache of its
# own (TYPEGRAD_CACHE_DIR under WORK_DIR, emptied first):
#   mlp: a spec not in the menu trains (the first run compiles, says so and how long it took; the
#        second loads the cache and says nothing), its checkpoint evaluates, resumes without
#        --net, exports and predicts, derive takes the spec; gradcheck compiles it in double (its
#        derive and gradcheck only) and loads that compile the second time; --grad reference
#        compiles it with every engine (the first compile has the default engine alone), then
#        loads it; train --dtype double compiles the whole network in double, then loads it.
#   cnn: a convolutional spec trains; a spec whose kernel is larger than the image fails with
#        typegrad's one-line shape message (exit 2), and fails again at once from the cache.
# Usage: compile_on_first_use.sh TYPEGRAD_EXE WORK_DIR mlp|cnn
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
exe="$1"; work="$2"; part="$3"
rm -rf "$work"; mkdir -p "$work"; cd "$work"
export TYPEGRAD_CACHE_DIR="$work/cache"
unset TYPEGRAD_DATA
quick=(--epochs 1 --limit 500 --test-limit 200 --quiet)

if [ "$part" = mlp ]; then
    spec="784-40:tanh-10:softmax"
    "$exe" train --net "$spec" "${quick[@]}" --save run.tgck > first.out 2> first.err
    expect first.err "^typegrad: compiling 784-40:tanh-10:softmax \(log-likelihood cost, float\) on first use, into .*/cache$"
    expect first.err "^typegrad: compiled 784-40:tanh-10:softmax in [0-9]+\.[0-9] s; later runs load it from the cache$"
    expect first.out "^typegrad train: 784-40:tanh-10:softmax, log-likelihood cost, float, autodiff gradient, batch 10, eta 0\.1, 1 epoch"
    expect first.out "^epoch 1/1 +test accuracy 0\.[0-9]{4}"
    grep -h "compiled" first.err
    ls cache/*.so cache/*.cpp > /dev/null
    # the cached network: no compile, the same result (the run is deterministic)
    "$exe" train --net "784-040:tanh-010:softmax" "${quick[@]}" --save again.tgck > second.out 2> second.err
    forbid second.err "compil"
    cmp run.tgck again.tgck || fail "the cached network trained differently"
    # train compiled training alone (the table's other entry points are null): eval compiles the
    # other commands once, then export, predict and derive load them; resume loads the training
    grep -q "TYPEGRAD_DEFINE_TRAINING_PART" cache/784-40_tanh-10_softmax-log-likelihood-float-[0-9a-f]*.cpp ||
        fail "train did not compile the training plugin in two parts"
    if ls cache | grep -q -- "-commands-"; then fail "train compiled the other commands too"; fi
    # its checkpoint: eval and resume find the network without --net
    "$exe" eval --model run.tgck > eval.out 2> eval.err
    expect eval.out "^typegrad eval: run.tgck: 784-40:tanh-10:softmax, log-likelihood cost, float, 1 epoch trained"
    expect eval.out "^test accuracy 0\.[0-9]{4} \([0-9]+/10000\)  cost [0-9.]+$"
    expect eval.err "^typegrad: compiling 784-40:tanh-10:softmax \(log-likelihood cost, float, for eval, predict, generate, export and derive\) on first use"
    ls cache/*-commands-*.so > /dev/null
    "$exe" eval --model run.tgck > eval2.out 2> eval2.err
    forbid eval2.err "compil"
    cmp eval.out eval2.out || fail "the cached commands evaluated differently"
    "$exe" train --resume run.tgck --epochs 2 --limit 500 --test-limit 200 --quiet > resume.out 2> resume.err
    expect resume.out "^resuming from run.tgck after epoch 1$"
    expect resume.out "^epoch 2/2 "
    forbid resume.err "compil"
    "$exe" derive --net "$spec" > derive.out 2> derive.err
    expect derive.out "^typegrad derive: 784-40:tanh-10:softmax, log-likelihood cost"
    expect derive.out "^δ₀ = "
    forbid derive.err "compil"
    # export and predict take it too
    "$exe" export --model run.tgck -o run.npz > export.out 2> export.err
    expect export.out "^typegrad export: run.tgck \(784-40:tanh-10:softmax\) -> run.npz: 5 arrays"
    forbid export.err "compil"
    { printf 'P5\n28 28\n255\n'; head -c 784 /dev/zero; } > blank.pgm
    "$exe" predict --model run.tgck blank.pgm > predict.out 2> predict.err
    expect predict.out "^typegrad predict: run.tgck: 784-40:tanh-10:softmax, float. per image: the class, then the 10 softmax probabilities"
    expect predict.out "^blank.pgm: [0-9] ( [01]\.[0-9]{6}){10}$"
    forbid predict.err "compil"
    # double: gradcheck compiles the network in double, its derive and gradcheck only (a second
    # gradcheck loads it); train --dtype double compiles the whole network in double
    "$exe" gradcheck --net "$spec" --samples 20 > gradcheck.out 2> gradcheck.err
    expect gradcheck.err "compiling 784-40:tanh-10:softmax \(log-likelihood cost, double, for gradcheck\)"
    expect gradcheck.out "^gradients agree$"
    "$exe" gradcheck --net "$spec" --samples 20 > gradcheck2.out 2> gradcheck2.err
    expect gradcheck2.out "^gradients agree$"
    forbid gradcheck2.err "compil"
    # the default engine alone was compiled; --grad reference compiles every engine, once, and
    # trains as the compiled-in networks do with it
    grep -q "TYPEGRAD_DEFINE_DEFAULT_ENGINE_PLUGIN" cache/784-40_tanh-10_softmax-log-likelihood-float-[0-9a-f]*.cpp ||
        fail "the network was not compiled with the default engine alone"
    "$exe" train --net "$spec" --grad reference "${quick[@]}" > ref.out 2> ref.err
    expect ref.err "compiling 784-40:tanh-10:softmax \(log-likelihood cost, float, every --grad engine\)"
    expect ref.out "^typegrad train: 784-40:tanh-10:softmax, log-likelihood cost, float, reference gradient,"
    "$exe" train --net "$spec" --grad reference "${quick[@]}" > ref2.out 2> ref2.err
    forbid ref2.err "compil"
    "$exe" train --net "$spec" --dtype double "${quick[@]}" > double.out 2> double.err
    expect double.err "compiling 784-40:tanh-10:softmax \(log-likelihood cost, double\)"
    expect double.out "^typegrad train: 784-40:tanh-10:softmax, log-likelihood cost, double,"
    "$exe" train --net "$spec" --dtype double "${quick[@]}" > double2.out 2> double2.err
    forbid double2.err "compil"
    echo "mlp: trained, cached, evaluated, resumed, derived and checked a network compiled on first use"
elif [ "$part" = cnn ]; then
    spec="1x28x28-conv4k5:relu-maxpool2-avgpool2-10:softmax"
    "$exe" train --net "$spec" "${quick[@]}" > cnn.out 2> cnn.err
    expect cnn.out "^typegrad train: 1x28x28-conv4k5:relu-maxpool2-avgpool2-10:softmax, log-likelihood cost, float, autodiff gradient, batch 10, eta 0\.05"
    expect cnn.out "^epoch 1/1 +test accuracy 0\.[0-9]{4}"
    grep -h "compiled" cnn.err
    # a shape error: typegrad's message in one line, exit 2, nothing else on stderr
    set +e
    "$exe" train --net 1x12x12-conv4k13-10:softmax "${quick[@]}" > bad.out 2> bad.err; rc=$?
    set -e
    [ "$rc" = 2 ] || { cat bad.err; fail "a spec that does not compile exited with $rc, not 2"; }
    expect bad.err "^typegrad: error: --net 1x12x12-conv4k13-10:softmax: conv2d: the kernel is larger than the \(padded\) input image \(the compiler's output: .*\.log\)$"
    [ "$(grep -c 'error' bad.err)" = 1 ] || { cat bad.err; fail "more than one error line"; }
    set +e
    "$exe" train --net 1x12x12-conv4k13-10:softmax "${quick[@]}" > bad2.out 2> bad2.err; rc=$?
    set -e
    [ "$rc" = 2 ] || fail "the cached failure exited with $rc, not 2"
    forbid bad2.err "compiling"
    expect bad2.err "^typegrad: error: --net 1x12x12-conv4k13-10:softmax: conv2d.*\(remembered from an earlier compile; .*; delete .*\.error to compile again\)$"
    # SIGTERM during a compile: the compiler is stopped, nothing is left in the cache
    "$exe" train --net 1x28x28-conv2k3:relu-maxpool2-10:softmax "${quick[@]}" > term.out 2> term.err &
    pid=$!
    for _ in $(seq 100); do grep -q "compiling" term.err 2>/dev/null && break; sleep 0.1; done
    sleep 1
    kill -TERM "$pid"
    set +e; wait "$pid"; rc=$?; set -e
    [ "$rc" = 143 ] || { cat term.err; fail "SIGTERM during the compile exited with $rc, not 143"; }
    expect term.err "^typegrad: interrupted by SIGTERM while compiling 1x28x28-conv2k3:relu-maxpool2-10:softmax \(log-likelihood cost, float\). nothing was written$"
    if ls cache | grep -E "conv2k3|\.tmp\.|^tmp-" ; then fail "a compile stopped by SIGTERM left files in the cache"; fi
    sleep 1  # the watchdog kills the group at once; give the kernel a moment to reap it
    if pgrep -f "$work/cache/tmp-" > /dev/null; then fail "the compiler still runs after SIGTERM"; fi
    echo "cnn: a convolutional spec trained; a spec with a kernel larger than the image failed in one line; SIGTERM stopped a compile cleanly"
else
    fail "unknown part '$part' (mlp or cnn)"
fi

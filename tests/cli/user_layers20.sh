#!/usr/bin/env bash
# A user's layer from the command line (issue 20, item 4): tests/nn/prelu.hpp, a header outside
# typegrad's include tree that declares the layer PReLU, its reference rule, its export hooks and
# its --net word "prelu", given with --layers. It trains, evaluates, exports to ONNX, predicts,
# derives and gradchecks like a built-in layer, each network compiled on first use with the header
# included; a checkpoint holding it needs the header again (one line saying so); a header that
# does not compile gives the compiler's first error and exit 2; a header that is not there, exit 2.
# Usage: user_layers20.sh TYPEGRAD_EXE WORK_DIR HEADER [onnx]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
exe="$1"; work="$2"; header="$3"; onnx="${4:-}"
rm -rf "$work"; mkdir -p "$work"; cd "$work"
export TYPEGRAD_CACHE_DIR="$work/cache"
unset TYPEGRAD_DATA
spec="784-16:linear-prelu-10:softmax"

"$exe" train --net "$spec" --layers "$header" --epochs 1 --limit 1000 --test-limit 200 --quiet --save run.tgck > train.out 2> train.err
expect train.err "^typegrad: compiled the layers of prelu.hpp in [0-9.]+ s"
expect train.out "^typegrad train: 784-16:linear-prelu-10:softmax, log-likelihood cost, float"
expect train.out "^epoch 1/1 +test accuracy 0\.[0-9]{4}"
[ -s run.tgck ] || fail "no checkpoint"

"$exe" eval --model run.tgck --layers "$header" --test-limit 200 > eval.out 2> eval.err
expect eval.out "^typegrad eval: run.tgck: 784-16:linear-prelu-10:softmax"
expect eval.out "test accuracy 0\.[0-9]{4} \([0-9]+/200\)"
# the same checkpoint without the header: refused in one line naming what to give
rc=0; "$exe" eval --model run.tgck --test-limit 200 > noheader.out 2> noheader.err || rc=$?
[ "$rc" -ne 0 ] || fail "eval without --layers succeeded"
expect noheader.err "^typegrad: error: --model run.tgck: .*the layer 'prelu' has no --net spec \(a layer of your own: name its header with --layers FILE\)$"

# predict: a drawn 0 as a plain PGM
{ echo "P2"; echo "28 28"; echo "255"
  for y in $(seq 0 27); do row=""; for x in $(seq 0 27); do
      d=$(( (x-14)*(x-14) + (y-14)*(y-14) )); if [ "$d" -gt 25 ] && [ "$d" -lt 64 ]; then row="$row 255"; else row="$row 0"; fi
  done; echo "$row"; done; } > zero.pgm
"$exe" predict --model run.tgck --layers "$header" zero.pgm > predict.out 2> predict.err
expect predict.out "^zero.pgm: [0-9]( +[0-9.e-]+){10}$"

if [ "$onnx" = onnx ]; then
    "$exe" export --model run.tgck --layers "$header" -o net.onnx > export.out 2> export.err
    expect export.out "-> net.onnx: ONNX opset 13, 4 nodes"
    [ -s net.onnx ] || fail "no ONNX file"
fi
"$exe" export --model run.tgck --layers "$header" -o net.npz > npz.out 2> npz.err
[ -s net.npz ] || fail "no .npz file"

"$exe" derive --net "$spec" --layers "$header" > derive.out 2> derive.err
expect derive.out "min0"
"$exe" gradcheck --net "784-8:linear-prelu-10:softmax" --layers "$header" --samples 40 > gradcheck.out 2> gradcheck.err
expect gradcheck.out "autodiff vs reference +[0-9.e+-]+"
expect gradcheck.out "^gradients agree$"

# a header that does not compile: the compiler's first error, exit 2
printf '#pragma once\nstruct Oops { int x = undeclared_name; };\n' > bad.hpp
rc=0; "$exe" train --net 784-10:softmax --layers bad.hpp > bad.out 2> bad.err || rc=$?
[ "$rc" -eq 2 ] || { cat bad.err; fail "a header that does not compile exited $rc, not 2"; }
expect bad.err "^typegrad: error: --layers .*/bad.hpp: .*undeclared_name.* \(the compiler's output: .*\.log\)$"
# a header that is not there
rc=0; "$exe" train --net 784-10:softmax --layers missing.hpp > missing.out 2> missing.err || rc=$?
[ "$rc" -eq 2 ] || fail "a missing header exited $rc, not 2"
expect missing.err "^typegrad: error: --layers missing.hpp: cannot open: No such file or directory$"
echo "user layers: trained, evaluated, predicted, exported, derived, gradchecked"

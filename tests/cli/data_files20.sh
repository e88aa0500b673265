#!/bin/bash
# Issue 20, items 1 and 2 from the command line: a regression from CSV files (--data TRAIN --test
# TEST --target COLUMN), the same data as .npz giving the same run, class indices in a CSV column,
# eval's loss and metric, the epoch line's losses, model selection on the validation set only
# (the best line, --patience, --save-best: the saved epoch's test result is the one reported), and
# bad files and options refused in one line.
# Usage: data_files20.sh TYPEGRAD WORKDIR
set -u
cli=$1
work=$2
source "$(dirname "$0")/expect.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

# y = 3a - 2b + c/2 + 1 + small noise; awk's generator, seeded: the same files on every run here
table() {  # table SEED N
    awk -v seed="$1" -v n="$2" 'BEGIN {
        srand(seed); print "a,b,c,y"
        for (i = 0; i < n; i++) {
            a = 2 * rand() - 1; b = 2 * rand() - 1; c = 2 * rand() - 1
            printf "%.6f,%.6f,%.6f,%.6f\n", a, b, c, 3 * a - 2 * b + 0.5 * c + 1 + 0.1 * (rand() - 0.5)
        }
    }'
}
table 1 400 > train.csv
table 2 100 > test.csv

reg=(--net 3-16:relu-1:linear --cost quadratic --optimizer adam --batch 10 --seed 7)

# --- a regression: header, epoch lines with mse/mae and the losses, the best line, eval --------
run reg train --data train.csv --test test.csv --target y "${reg[@]}" --eta 0.01 --epochs 30 --save last.tgck --metrics reg.jsonl
ok reg
expect reg.out "^81 parameters; data: 400 examples of 3 floats, a real target \(regression"
expect reg.out "^epoch 1/30  test mse [0-9.e+-]+ mae [0-9.e+-]+  .* cost [0-9.e+-]+  eta 0\.01  test cost [0-9.e+-]+$"
forbid reg.out "accuracy"
expect reg.out "^best test mse [0-9.e+-]+ \(mae [0-9.e+-]+\) at epoch [0-9]+$"
last_mse=$(grep -Eo "^epoch 30/30  test mse [0-9.e+-]+" reg.out | grep -Eo "[0-9.e+-]+$")
# the variance of y is about 4.4: a fitted network is far below it
awk -v m="$last_mse" 'BEGIN { exit !(m < 0.2) }' || fail "test mse after 30 epochs is $last_mse, expected < 0.2"
expect reg.jsonl "\"test_mse\":[0-9.e+-]+,\"test_mae\":[0-9.e+-]+,\"test_cost\":"
forbid reg.jsonl "test_accuracy"
run reg_eval eval --model last.tgck --data test.csv --target y
ok reg_eval
expect reg_eval.out "^test mse $last_mse  mae [0-9.e+-]+  cost [0-9.e+-]+ \(100 examples\)$"

# --- the same data as .npz (x of shape (N, 3), y of shape (N,)): the same run ------------------
python=""
for p in /usr/bin/python3 python3; do
    if "$p" -c "import numpy" 2>/dev/null; then python=$p; break; fi
done
if [ -n "$python" ]; then
    "$python" - <<'EOF' || fail "writing the .npz files"
import numpy as np
for name in ("train", "test"):
    t = np.loadtxt(name + ".csv", delimiter=",", skiprows=1, dtype=np.float32)
    np.savez(name + ".npz", x=t[:, :3], y=t[:, 3])
    np.savez_compressed(name + "_z.npz", x=t[:, :3].astype(np.float64), y=t[:, 3:4])
EOF
    run npz train --data train.npz --test test.npz "${reg[@]}" --eta 0.01 --epochs 30
    ok npz
    diff <(grep -E "^epoch" reg.out | sed -E 's/  [0-9.]+ s  [0-9]+ examples\/s//') \
         <(grep -E "^epoch" npz.out | sed -E 's/  [0-9.]+ s  [0-9]+ examples\/s//') > npz.diff ||
        { cat npz.diff; fail "training on .npz differs from training on the same CSV"; }
    run npz_z train --data train_z.npz --test test_z.npz "${reg[@]}" --epochs 2
    ok npz_z
    expect npz_z.out "^epoch 2/2  test mse"
    run npz_target train --data train.npz --test test.npz --target y "${reg[@]}" --epochs 1
    refused npz_target 2 "^typegrad: error: --target: train\.npz is not a table \(CSV or \.npy\): an \.npz archive's targets are its array y$"
else
    echo "note: no python with numpy: the .npz runs are skipped"
fi

# --- validation-only model selection: --validation, --patience, --save-best -----------------------
run sel train --data train.csv --test test.csv --target y "${reg[@]}" --eta 0.05 --epochs 40 --validation 100 \
    --patience 4 --save-best best.tgck --metrics sel.jsonl
ok sel
expect sel.out "300 train / 100 validation / 100 test"
expect sel.out "^epoch 1/40  test mse .*  validation mse [0-9.e+-]+ mae [0-9.e+-]+  test cost [0-9.e+-]+  validation cost [0-9.e+-]+$"
expect sel.out "^best validation mse [0-9.e+-]+ at epoch [0-9]+: test mse [0-9.e+-]+ mae [0-9.e+-]+ \(saved in best\.tgck\)$"
best_epoch=$(grep -Eo "^best validation mse [0-9.e+-]+ at epoch [0-9]+" sel.out | grep -Eo "[0-9]+$")
best_test=$(grep -Eo "^best validation mse .*: test mse [0-9.e+-]+" sel.out | grep -Eo "[0-9.e+-]+$")
# the chosen epoch has the lowest validation mse of the metrics file (the first of equals)
chosen=$(grep -Eo "\"epoch\":[0-9]+|\"validation_mse\":[0-9.e+-]+" sel.jsonl | paste - - |
         sed -E 's/"epoch":([0-9]+)\t"validation_mse":(.*)/\1 \2/' | sort -s -g -k2,2 | head -1 | cut -d' ' -f1)
[ "$chosen" = "$best_epoch" ] || fail "the best line says epoch $best_epoch, the lowest validation mse is epoch $chosen's"
# and its test result is that epoch's, which the saved checkpoint reproduces
expect sel.out "^epoch $best_epoch/40  test mse $best_test "
run sel_eval eval --model best.tgck --data test.csv --target y
ok sel_eval
expect sel_eval.out "^test mse $best_test  mae"

# the same for a classifier, on the built-in digits: the best line is the validation's
run cls train --net 784-30-10 --epochs 3 --limit 3000 --test-limit 1000 --validation 1000 --save-best cbest.tgck
ok cls
expect cls.out "^[0-9]+ parameters; data: 2000 examples of 28x28 bytes, class labels$"
expect cls.out "^epoch 3/3  test accuracy 0\.[0-9]{4} \([0-9]+/1000\) .*  validation 0\.[0-9]{4}  test cost [0-9.]+  validation cost [0-9.]+$"
expect cls.out "^best validation accuracy 0\.[0-9]{4} at epoch [1-3]: test accuracy 0\.[0-9]{4} \([0-9]+/1000\) \(saved in cbest\.tgck\)$"
forbid cls.out "^best test accuracy"
selected=$(grep -Eo "test accuracy 0\.[0-9]{4} \([0-9]+/1000\) \(saved" cls.out | grep -Eo "0\.[0-9]{4} \([0-9]+/1000\)")
run cls_eval eval --model cbest.tgck --test-limit 1000
ok cls_eval
expect cls_eval.out "^test accuracy ${selected//[()]/.}  cost [0-9.]+$"

# --- class indices in a CSV column: a network with 3 outputs -----------------------------------
awk 'BEGIN { srand(3); print "u,v,class"; for (i = 0; i < 300; i++) { u = 2 * rand() - 1; v = 2 * rand() - 1;
             printf "%.5f,%.5f,%d\n", u, v, (u + v > 0.5) ? 2 : (u - v > 0 ? 1 : 0) } }' > cls_train.csv
awk 'BEGIN { srand(4); print "u,v,class"; for (i = 0; i < 100; i++) { u = 2 * rand() - 1; v = 2 * rand() - 1;
             printf "%.5f,%.5f,%d\n", u, v, (u + v > 0.5) ? 2 : (u - v > 0 ? 1 : 0) } }' > cls_test.csv
run csvcls train --data cls_train.csv --test cls_test.csv --target class --net 2-16:relu-3:softmax --cost log-likelihood \
    --optimizer adam --eta 0.01 --epochs 20
ok csvcls
expect csvcls.out "data: 300 examples of 2 floats, class labels$"
acc=$(grep -Eo "^epoch 20/20  test accuracy 0\.[0-9]{4}" csvcls.out | grep -Eo "0\.[0-9]{4}$")
awk -v a="$acc" 'BEGIN { exit !(a >= 0.85) }' || fail "CSV classes: test accuracy $acc, expected >= 0.85"

# --- bad files and options: one line, exit 1 (data) or 2 (usage), nothing written --------------
run no_test train --data train.csv "${reg[@]}" --epochs 1
refused no_test 2 "^typegrad: error: --data train\.csv: a data file is the training set; name the test set with --test FILE$"
run missing train --data absent.csv --test test.csv "${reg[@]}" --epochs 1
refused missing 1 "^typegrad: error: absent\.csv: no such file$"
printf 'a,b,c,y\n1,2,3,4\n1,2,3\n' > ragged.csv
run ragged train --data ragged.csv --test test.csv "${reg[@]}" --epochs 1 --save ragged.tgck
refused ragged 1 "ragged\.csv: line 3 has 3 fields, expected 4"
[ ! -e ragged.tgck ] || fail "a refused run wrote its --save file"
printf 'a,b,c,y\n1,2,x3,4\n' > word.csv
run word train --data train.csv --test word.csv "${reg[@]}" --epochs 1
refused word 1 "word\.csv: line 2, column \"c\": \"x3\" is not a number"
run no_column train --data train.csv --test test.csv --target price "${reg[@]}" --epochs 1
refused no_column 1 "train\.csv: no column \"price\""
run best_without train --data train.csv --test test.csv "${reg[@]}" --epochs 1 --save-best b.tgck
refused best_without 2 "^typegrad: error: --save-best: keeps the epoch with the best validation result: it needs --validation N"
run idx_test train --data . --test test.csv "${reg[@]}" --epochs 1
refused idx_test 2 "^typegrad: error: --test test\.csv: --data \. is an IDX directory, whose test set is its t10k files$"
printf 'u,v,class\n0.5,0.5,1\n0.1,0.2,5\n' > bad_class.csv
run out_of_range train --data bad_class.csv --test cls_test.csv --target class --net 2-16:relu-3:softmax \
    --cost log-likelihood --epochs 1
refused out_of_range 1 "bad_class\.csv: the target of example 1 is 5, not a class index in \[0, 3\)"
run width train --data cls_train.csv --test cls_test.csv --target class "${reg[@]}" --epochs 1
refused width 1 "cls_train\.csv \(training set\): examples have 2 values but the network's input width is 3"
run plot train --data train.csv --test test.csv "${reg[@]}" --epochs 1 --metrics p.jsonl --plot p.png
refused plot 2 "^typegrad: error: --plot p\.png: draws accuracies, and this is a regression"
[ ! -e p.jsonl ] || fail "a refused run wrote its --metrics file"
run plot_file plot reg.jsonl -o reg.png
refused plot_file 1 "reg\.jsonl: line 1 is a regression's record \(test mse, no accuracy\): plot draws accuracies only"
echo "data_files20: all checks passed"

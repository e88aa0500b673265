#!/bin/bash
# Issue 21's algorithmic acceptance: a small GPT learns to sort digits from the command line.
# Lines "DDDDDDDD>SSSSSSSS" (8 random digits, '>', the same digits sorted) in a training text of
# 40000 lines and a test text of 500 (awk's generator, seeded: the same files on every run);
# `typegrad train` on them, then greedy `typegrad generate` after each of 200 unseen prompts
# "DDDDDDDD>" (none of them a training line's digits). Passes when at least 190 of the 200 (95 %)
# continue with exactly the sorted digits. T = 37: with stride-T windows over lines of 18
# characters, a T that is a multiple of 18 would show every line at the same phase.
# Usage: sort_digits21.sh TYPEGRAD WORKDIR [EPOCHS]
set -u
cli=$1
work=$2
epochs=${3:-12}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

lines() {  # lines SEED N: lines of the sorting task (scripts/sort_lines.awk)
    awk -v seed="$1" -v n="$2" -f "$here/sort_lines.awk"
}
lines 11 40000 > sort_train.txt
lines 12 500 > sort_test.txt
# 200 prompts whose digits are no training line's
lines 13 400 | cut -c1-8 | grep -vxFf <(cut -c1-8 sort_train.txt) | head -200 > prompts.txt
[ "$(wc -l < prompts.txt)" -eq 200 ] || { echo "FAILED: fewer than 200 unseen prompts"; exit 1; }

net='seq37-embed64-res(layernorm-attn4)-res(layernorm-256:gelu-64:linear)-layernorm-vocab:softmax'
echo "\$ typegrad train --net '$net' --data sort_train.txt --test sort_test.txt --optimizer adam --eta 0.003 --schedule step:8:0.3 --batch 16 --epochs $epochs --save sort.tgck"
"$cli" train --net "$net" --data sort_train.txt --test sort_test.txt --optimizer adam --eta 0.003 \
    --schedule step:8:0.3 --batch 16 --epochs "$epochs" --save sort.tgck --quiet || { echo "FAILED: train"; exit 1; }

right=0
while read -r d; do
    sorted=$(echo "$d" | grep -o . | sort | tr -d '\n')
    got=$("$cli" generate --model sort.tgck --prompt "$d>" --tokens 8 --temperature 0) || { echo "FAILED: generate"; exit 1; }
    [ "$got" = "$sorted" ] && right=$((right + 1))
    [ -n "${SHOW:-}" ] && echo "$d> $got ($sorted)"
done < prompts.txt
echo "sorted exactly: $right of 200 unseen prompts (greedy generate)"
[ "$right" -ge 190 ] || { echo "FAILED: fewer than 190 of 200 (95 %)"; exit 1; }

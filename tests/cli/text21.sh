#!/bin/bash
# Issue 21, item 5 from the command line: a network that reads text (seqT-embedD-…-vocab:softmax)
# trained on --data FILE.txt --test FILE.txt; the vocabulary read from the training file and kept
# in the checkpoint; the epoch line's nats per token; eval; generate (greedy deterministic, sampling
# seeded); --validation N instead of --test; --resume; derive and gradcheck on such a network; and
# bad texts, prompts and specs refused in one line with nothing written.
# Usage: text21.sh TYPEGRAD WORKDIR
set -u
cli=$1
work=$2
source "$(dirname "$0")/expect.sh"
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

# lines "DDDDDDDD>SSSSSSSS": 8 random digits, then the same sorted (awk's generator, seeded)
digits() {  # digits SEED N: lines of the sorting task (scripts/sort_lines.awk)
    awk -v seed="$1" -v n="$2" -f "$here/../../scripts/sort_lines.awk"
}
digits 1 600 > train.txt
digits 2 100 > test.txt

net='seq19-embed16-res(layernorm-attn2)-layernorm-vocab:softmax'
opts=(--net "$net" --optimizer adam --eta 0.01 --batch 8 --seed 3)

# --- training: the header, the epoch line per token, the checkpoint with its vocabulary ----------
run train train --data train.txt --test test.txt "${opts[@]}" --epochs 2 --save text.tgck --metrics text.jsonl
ok train
# 12 characters: the digits, '>' and the newline; 10800 characters, 568 windows of 19 + 1
expect train.out "^typegrad train: seq19-embed16-res\(layernorm-attn2\)-layernorm-12:softmax, log-likelihood cost, float"
expect train.out "^[0-9]+ parameters; data: 10800 characters of text, a vocabulary of 12, 568 windows of 19 \+ 1$"
expect train.out "^epoch 1/2  test loss [0-9.]+ nats/token  accuracy 0\.[0-9]{4} \([0-9]+/1786 tokens\)  [0-9.]+ s  [0-9]+ tokens/s  cost [0-9.]+  eta 0\.01$"
expect train.out "^best test loss [0-9.]+ nats/token at epoch [12]$"
loss2=$(grep -Eo "^epoch 2/2  test loss [0-9.]+" train.out | grep -Eo "[0-9.]+$")
# 12 characters: a network that learnt nothing is at ln 12 = 2.48 nats per token
awk -v l="$loss2" 'BEGIN { exit !(l < 2.3) }' || fail "test loss after 2 epochs is $loss2 nats/token, expected < 2.3"
[ -s text.tgck ] || fail "no checkpoint"

# --- eval: the same test loss, per token ---------------------------------------------------------
run eval eval --model text.tgck --data test.txt
ok eval
expect eval.out "^test loss $loss2 nats/token  accuracy 0\.[0-9]{4} \([0-9]+/1786 tokens\)  \(94 windows of 19\)$"

# --- generate: greedy is deterministic; sampling is seeded -------------------------------------
run gen1 generate --model text.tgck --prompt "31415926>" --tokens 9 --temperature 0
ok gen1
run gen2 generate --model text.tgck --prompt "31415926>" --tokens 9 --temperature 0
ok gen2
cmp -s gen1.out gen2.out || fail "greedy generate differs between two runs"
[ "$(head -c 9 gen1.out | tr -d '0-9>\n' | wc -c)" -eq 0 ] || fail "generate printed characters outside the vocabulary"
[ "$(wc -c < gen1.out)" -eq 10 ] || { cat gen1.out; fail "generate printed other than 9 characters and a newline"; }
run sample1 generate --model text.tgck --prompt "1" --tokens 60 --temperature 1.5 --seed 5
ok sample1
run sample2 generate --model text.tgck --prompt "1" --tokens 60 --temperature 1.5 --seed 5
ok sample2
cmp -s sample1.out sample2.out || fail "sampling with the same seed differs"
run sample3 generate --model text.tgck --prompt "1" --tokens 60 --temperature 1.5 --seed 6
ok sample3
cmp -s sample1.out sample3.out && fail "sampling with another seed gives the same 60 characters"

# --- export: the embeddings, positions and attention go to PyTorch's layout ------------------------
run export export --model text.tgck -o text.npz
ok export
expect export.out "text\.tgck \(seq19-embed16-res\(layernorm-attn2\)-layernorm-12:softmax\) -> text\.npz: 13 arrays"

# --- --validation N instead of --test: the last N windows are the test set ------------------------
run held train --data train.txt --validation 100 "${opts[@]}" --epochs 1
ok held
expect held.out "^epoch 1/1  test loss [0-9.]+ nats/token  accuracy 0\.[0-9]{4} \([0-9]+/1900 tokens\)"

# --- --resume: the vocabulary comes from the checkpoint ---------------------------------------------
cp text.tgck resumed.tgck
run resume train --resume resumed.tgck --save resumed.tgck --data train.txt --test test.txt --optimizer adam --eta 0.01 --batch 8 --epochs 3
ok resume
expect resume.out "^resuming from resumed\.tgck after epoch 2$"
expect resume.out "^epoch 3/3  test loss"

# --- derive and gradcheck on the network (bound to a vocabulary of 12 by the training file) --------
bound='seq19-embed16-res(layernorm-attn2)-layernorm-12:softmax'
run derive derive --net "$bound"
ok derive
expect derive.out "E₀\[x\]"
# the block in the textbook's form, its intermediates named (named_node): δ through the row softmax,
# the two products, the layer norm's statistics
expect derive.out "^P₂\.₁ = softmax\(S₂\.₁\)$"
expect derive.out "^δS₂\.₁ = P₂\.₁ ⊙ \(δP₂\.₁ − ⟨δP₂\.₁, P₂\.₁⟩\)$"
expect derive.out "^δQKV₂\.₁ = \[causal\(δS₂\.₁\) K, causal\(δS₂\.₁\)ᵀ Q, 0\]/√d \[QKV₂\.₁\] \+ \[0, 0, P₂\.₁ᵀ δO₂\.₁\]$"
expect derive.out "^δσ²₂\.₀ = δr₂\.₀ ⊙ rsqrtε'\(σ²₂\.₀\)$"
expect derive.out "^∂J/∂P₁ = mean₋₁\(−δc₂\.₀\) \+ δc₂\.₀ \+ δ₂$"
run gradcheck gradcheck --net "$bound"
ok gradcheck
expect gradcheck.out "20 random tokens of 12 as input and targets"
expect gradcheck.out "^gradients agree$"

# --- refused, in one line, nothing written -----------------------------------------------------
run no_test train --data train.txt "${opts[@]}" --epochs 1 --save none.tgck
refused no_test 2 "^typegrad: error: --data train\.txt: name the test text with --test FILE, or hold out the last N windows of the training text with --validation N$"
[ ! -e none.tgck ] || fail "a refused run wrote its --save file"
printf '1234\xff5678>12345678\n' > bad.txt
cat train.txt >> bad.txt
run bad_utf8 train --data bad.txt --test test.txt "${opts[@]}" --epochs 1
refused bad_utf8 1 "^typegrad: error: bad\.txt: not UTF-8 text: an invalid byte sequence at byte 4 \(0xff\)$"
printf '12>12\n' > short.txt
run short train --data train.txt --test short.txt "${opts[@]}" --epochs 1
refused short 1 "^typegrad: error: short\.txt: a text of 6 characters, fewer than the 20 of one window \(T \+ 1\)$"
run prompt generate --model text.tgck --prompt "12x" --tokens 3
refused prompt 2 "^typegrad: error: --prompt: the character 'x' is not in the model's vocabulary of 12 characters$"
run empty_prompt generate --model text.tgck --prompt "" --tokens 3
refused empty_prompt 2 "^typegrad: error: --prompt: empty"
run temperature generate --model text.tgck --prompt "1" --temperature -1
refused temperature 2 "^typegrad: error: --temperature: "
run no_embed train --net seq19-16-vocab:softmax --data train.txt --test test.txt
refused no_embed 2 "is token ids: its first layer is an embedding embedD"
run late_embed train --net 19-embed16-12:softmax --data train.txt --test test.txt
refused late_embed 2 "'embed16' embeds the token ids of a seqT input: it is the first layer after seqT"
run vocab_mlp train --net 19-vocab:softmax --data train.txt --test test.txt
refused vocab_mlp 2 "'vocab' is the width of a text's vocabulary: the input must be seqT"
run heads train --net 'seq19-embed16-attn3-vocab:softmax' --data train.txt --test test.txt
refused heads 2 "has 3 heads, which do not divide the width 16"
run txt_mlp train --net 784-30-10 --data train.txt --test test.txt --epochs 1
refused txt_mlp 2 "^typegrad: error: --data train\.txt: a text is read by a network whose input is seqT"
# a network that reads no text cannot generate
run mlp train --net 784-30-10 --limit 100 --test-limit 50 --epochs 1 --save mlp.tgck
ok mlp
run gen_mlp generate --model mlp.tgck --prompt "1" --tokens 3
refused gen_mlp 1 "^typegrad: error: --model mlp\.tgck: its network \(784-30-10 sigmoid\) reads no text: generate continues a prompt with a network whose input is seqT$"
echo "text21: all checks passed"

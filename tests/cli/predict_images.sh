#!/usr/bin/env bash
# typegrad predict on image files: one digit (MNIST's first test digit when TYPEGRAD_MNIST_DIR is
# set, else a stroke drawn by image_files.py) written as PGM P5, PGM P2, gray PNG and RGB PNG must
# get the same line (class and outputs) from a sigmoid MLP and from LeNet-5, as must its negative
# with --invert; and the class must be typegrad's own classification of that image through the
# data loader: `typegrad eval` on a one-image IDX test set labelled with it counts 1/1, labelled
# with another class 0/1. Then the
# PNG errors (16-bit, another size, damaged): exit 1, one error line naming the file, nothing on
# stdout even when good images come first.
# Usage: predict_images.sh TYPEGRAD_EXE SOURCE_DIR WORK_DIR
set -euo pipefail
exe="$1"; src="$2"; work="$3"
source "$src/tests/cli/find_python.sh"
find_python python3 zlib gzip struct
rm -rf "$work"; mkdir -p "$work"; cd "$work"
fail() { echo "FAILED: $*"; exit 1; }

"$python" "$src/tests/cli/image_files.py" digit digit 0 ${TYPEGRAD_MNIST_DIR:+"$TYPEGRAD_MNIST_DIR"}

check() {  # NAME, train arguments...
    local name="$1"; shift
    "$exe" train "$@" --test-limit 100 --quiet --save "$name.tgck" > /dev/null
    "$exe" predict --model "$name.tgck" digit.pgm digit.p2.pgm digit.png digit.rgb.png > "$name.out"
    cat "$name.out"
    [ "$(wc -l < "$name.out")" -eq 5 ] || fail "$name: expected a header and 4 lines"
    # "FILE: CLASS  o0 ... o9": the same class and outputs for every encoding of the image
    local distinct
    distinct="$(tail -n 4 "$name.out" | sed 's/^[^:]*: //' | sort -u | wc -l)"
    [ "$distinct" -eq 1 ] || fail "$name: the four files of one image got different results"
    # --invert: the inverted file, inverted again, is the same image
    "$exe" predict --model "$name.tgck" --invert digit.inverted.pgm > "$name.inverted"
    grep -q "(images inverted)" "$name.inverted" || fail "$name: the header does not say the images are inverted"
    [ "$(sed -n 2p "$name.inverted" | sed 's/^[^:]*: //')" = "$(sed -n 2p "$name.out" | sed 's/^[^:]*: //')" ] \
        || fail "$name: --invert of the inverted image differs from the image"
    local line class
    line="$(sed -n 2p "$name.out")"
    [[ "$line" =~ ^digit\.pgm:\ ([0-9])\ \ ([01]\.[0-9]{6}\ ?){10}$ ]] || fail "$name: unexpected line '$line'"
    class="${BASH_REMATCH[1]}"
    for label in "$class" $(( (class + 1) % 10 )); do
        rm -rf "idx-$label"
        "$python" "$src/tests/cli/image_files.py" idx "idx-$label" "$label" digit.pgm
        local expect="(0/1)"; [ "$label" = "$class" ] && expect="(1/1)"
        "$exe" eval --model "$name.tgck" --data "idx-$label" 2>/dev/null | grep -qF "test accuracy" || fail "$name: eval failed"
        "$exe" eval --model "$name.tgck" --data "idx-$label" 2>/dev/null | grep -qF "$expect" \
            || fail "$name: eval of the image labelled $label does not count $expect: predict's class $class is not eval's"
    done
    echo "$name: class $class, as typegrad eval classifies the same image"
}
check mlp --net 784-30-10 --epochs 1 --limit 3000
check lenet --net lenet --epochs 1 --limit 6000

bad() {  # FILE, expected message
    local rc=0
    "$exe" predict --model mlp.tgck digit.pgm "$1" > bad.out 2> bad.err || rc=$?
    [ "$rc" -eq 1 ] || fail "$1: exit code $rc, expected 1"
    [ ! -s bad.out ] || fail "$1: something was printed on stdout: $(cat bad.out)"
    [ "$(wc -l < bad.err)" -eq 1 ] || fail "$1: expected one line on stderr: $(cat bad.err)"
    grep -qF "typegrad: error: $1: $2" bad.err || fail "$1: unexpected message: $(cat bad.err)"
    cat bad.err
}
bad digit.16bit.png "has 16-bit samples; predict reads 8-bit images, as MNIST's: convert it to 8 bits"
bad digit.29x28.png "is 29×28 pixels; predict classifies 28×28 images (MNIST's size): resize it first"
bad digit.damaged.png "is not a valid PNG: "
echo "predict reads PGM and PNG as typegrad's data loader reads MNIST"

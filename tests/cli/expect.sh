# Checks shared by the CLI test scripts (sourced): fail MESSAGE; expect FILE REGEX (the file must
# match, grep -E); forbid FILE REGEX (it must not); run NAME ARGS… ($cli with ARGS, stdout to
# NAME.out, stderr to NAME.err, the exit code to $rc); ok NAME (it exited 0); refused NAME CODE
# REGEX (it exited CODE with one line on stderr, besides the notes of a compile on first use,
# matching REGEX, and nothing on stdout).
fail() { echo "FAILED: $*"; exit 1; }
expect() {
    grep -Eq -- "$2" "$1" || { echo "--- $1:"; cat "$1"; fail "$1 does not match: $2"; }
}
forbid() {
    if grep -Eq -- "$2" "$1"; then echo "--- $1:"; cat "$1"; fail "$1 matches: $2"; fi
}
run() {
    local name=$1
    shift
    "$cli" "$@" > "$name.out" 2> "$name.err"
    rc=$?
}
ok() { [ "$rc" -eq 0 ] || { cat "$1.out" "$1.err"; fail "$1: exit $rc"; }; }
refused() {
    [ "$rc" -eq "$2" ] || { cat "$1.out" "$1.err"; fail "$1: exit $rc, expected $2"; }
    [ "$(grep -vc '^typegrad: compil' "$1.err")" -eq 1 ] || { cat "$1.err"; fail "$1: not one line on stderr"; }
    [ ! -s "$1.out" ] || { cat "$1.out"; fail "$1: printed on stdout"; }
    expect "$1.err" "$3"
}

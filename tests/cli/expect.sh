# Checks shared by the CLI test scripts (sourced): fail MESSAGE; expect FILE REGEX (the file must
# match, grep -E); forbid FILE REGEX (it must not).
fail() { echo "FAILED: $*"; exit 1; }
expect() {
    grep -Eq -- "$2" "$1" || { echo "--- $1:"; cat "$1"; fail "$1 does not match: $2"; }
}
forbid() {
    if grep -Eq -- "$2" "$1"; then echo "--- $1:"; cat "$1"; fail "$1 matches: $2"; fi
}

# Sourced by the script tests: find_python PACKAGE MODULE... sets $python to the first python3
# (Debian's /usr/bin/python3 first) that imports every MODULE, or exits 77 (a skip) naming the
# Debian PACKAGE that provides them.
find_python() {
    local package="$1" imports
    shift
    imports="$(IFS=,; echo "$*")"
    python=""
    for p in /usr/bin/python3 python3; do
        if "$p" -c "import $imports" >/dev/null 2>&1; then python="$p"; return 0; fi
    done
    echo "no python3 that imports $imports ($package): skipping"
    exit 77
}

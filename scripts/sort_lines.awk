# Lines "DDDDDDDD>SSSSSSSS" for issue 21's sorting task: 8 random digits, '>', the same digits
# sorted. awk -v seed=S -v n=N -f sort_lines.awk: N lines from awk's generator seeded with S (the
# same lines on every run with the same awk). Used by scripts/sort_digits21.sh and
# tests/cli/text21.sh.
BEGIN {
    srand(seed)
    for (i = 0; i < n; i++) {
        split("", count); d = ""
        for (k = 0; k < 8; k++) { x = int(10 * rand()); d = d x; count[x]++ }
        s = ""
        for (x = 0; x < 10; x++) for (c = 0; c < count[x]; c++) s = s x
        print d ">" s
    }
}

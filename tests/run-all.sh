#!/bin/sh
# Runs every test binary and script given as arguments, from the repository
# root, and prints one closing line "tests: N passed, N failed, N skipped".
# A script exiting 77 is skipped (it prints why); anything else non-zero fails.
pass=0; fail=0; skip=0; failed=""
for t in "$@"; do
    echo "=== $t"
    case "$t" in
        *.sh) sh "$t" ;;
        *) "$t" ;;
    esac
    rc=$?
    if [ $rc -eq 0 ]; then pass=$((pass + 1))
    elif [ $rc -eq 77 ]; then skip=$((skip + 1)); echo "--- skipped: $t"
    else fail=$((fail + 1)); failed="$failed $t"; echo "--- FAILED ($rc): $t"
    fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]

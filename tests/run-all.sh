#!/bin/sh
# Runs every test binary and script given as arguments, from the repository
# root, and prints one closing line "tests: N passed, N failed, N skipped".
# A script exiting 77 is skipped (it prints why); anything else non-zero fails.
#
# Each test runs under timeout(1) with its own process group, so a test that
# hangs (a JACK client stuck on a stalled server, a host that never exits)
# fails after TEST_TIMEOUT seconds (default 600; the slowest test takes about
# 3 minutes) with everything it started killed, instead of holding up the
# whole run. Each test's wall time is printed.
limit=${TEST_TIMEOUT:-600}
pass=0; fail=0; skip=0; failed=""
for t in "$@"; do
    echo "=== $t"
    start=$(date +%s)
    case "$t" in
        *.sh) timeout -k 15 "$limit" sh "$t" ;;
        *) timeout -k 15 "$limit" "$t" ;;
    esac
    rc=$?
    took=$(($(date +%s) - start))
    if [ $rc -eq 0 ]; then pass=$((pass + 1)); echo "--- ok (${took} s): $t"
    elif [ $rc -eq 77 ]; then skip=$((skip + 1)); echo "--- skipped: $t"
    else
        fail=$((fail + 1)); failed="$failed $t"
        if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
            echo "--- FAILED: $t did not finish within $limit s (TEST_TIMEOUT) and was stopped"
        else
            echo "--- FAILED ($rc, ${took} s): $t"
        fi
    fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]

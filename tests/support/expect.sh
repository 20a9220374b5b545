# expect.sh — sourced by the command-line tests (test_exit_codes.sh,
# test_cli_misuse.sh).
#
# expect NAME STATUS PATTERN -- COMMAND...: runs COMMAND with stdin from
# /dev/null and stdout and stderr into $EXPECT_OUT, in $EXPECT_DIR when that
# is set; checks its exit status and that the output matches PATTERN (grep
# -Ei; "" matches anything); prints one line, and on a mismatch the first
# lines of the output, and counts the failure in $fails.
expect() {
    name=$1 want=$2 pat=$3
    shift 4
    if [ -n "${EXPECT_DIR:-}" ]; then (cd "$EXPECT_DIR" && "$@"); else "$@"; fi \
        >"$EXPECT_OUT" 2>&1 </dev/null
    rc=$?
    if [ $rc -eq "$want" ] && { [ -z "$pat" ] || grep -Eqi -- "$pat" "$EXPECT_OUT"; }; then
        echo "ok   $name (exit $rc)"
    else
        echo "FAIL $name: exit $rc (expected $want), output:"
        sed 's/^/     /' "$EXPECT_OUT" | head -8
        fails=$((fails + 1))
    fi
}

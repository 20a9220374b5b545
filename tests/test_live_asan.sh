#!/bin/sh
# test_live_asan.sh — rnnfx-live's hand-over of cores between its main
# thread and the audio callback, built with AddressSanitizer and UBSan
# (in $BUILD-asan, shared with test_lv2_asan.sh), on a JACK server (dummy
# backend) with 4096-frame periods, so that a burst of commands lands in one
# callback.
#
# Checked:
#   - ten `model` commands at one instant while bypassed, then a knob move
#     and `stats`: every swap is installed, none dropped, and nothing freed
#     is used (the callback once let the chain's list of retired cores fill
#     up, so the ninth swap was refused, freed by the main thread and still
#     read by the next `set`);
#   - a knob set outside its range is clamped and says so, as in
#     rnnfx-process;
#   - commands on stdin whose last line has no newline ("...\nquit"): the
#     last one still runs (the program used to play on until killed).
#
# Needs jackd (Debian: jackd2) and a compiler that builds ASan programs.
# Exit 77 (skipped) otherwise.
set -u
BUILD=${BUILD:-build}
. tests/support/asan_env.sh
A=$ASAN_BUILD
MAKE_MODEL="$BUILD/tests/test_process make-model"
command -v jackd >/dev/null 2>&1 || { echo "test_live_asan: jackd not installed; skipping"; exit 77; }
[ -x "$BUILD/tests/test_process" ] || { echo "test_live_asan: $BUILD/tests/test_process not built"; exit 1; }

TMP=$(mktemp -d /tmp/rnnfx-test-live-asan-XXXXXX)
SERVER=rnnfx-live-asan-test
JACKPID=""
. tests/support/jack_env.sh
trap rnnfx_jack_cleanup EXIT INT TERM
fail() { echo "test_live_asan: FAIL: $*"; exit 1; }

if ! rnnfx_asan_usable "$TMP"; then
    echo "test_live_asan: ${CC:-cc} cannot build or run AddressSanitizer programs here; skipping"
    exit 77
fi
echo "building rnnfx-live with ASan in $A ..."
if ! make -s BUILD="$A" CFLAGS="$ASAN_CFLAGS" "$A/bin/rnnfx-live" >"$TMP/build.log" 2>&1; then
    cat "$TMP/build.log"
    fail "the ASan build failed"
fi
LIVE=$A/bin/rnnfx-live
# PortAudio and JACK (not instrumented) keep a few allocations until exit:
# leaks are not what this test is about.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1

rnnfx_jack_clear_stale
rnnfx_jack_start "$SERVER" 48000 4096 --no-realtime "$TMP/jackd.log"
if ! rnnfx_jack_wait_live "$LIVE"; then
    echo "test_live_asan: the JACK server did not start; skipping:"; cat "$TMP/jackd.log"
    exit 77
fi

$MAKE_MODEL "$TMP/k1.json" gru 8 48000 gain || exit 1
$MAKE_MODEL "$TMP/k2.json" gru 8 48000 gain || exit 1
{
    echo "0.1 bypass on"
    for i in 1 2 3 4 5 6 7 8 9 10; do echo "0.6 model $TMP/k1.json"; done
    echo "1.5 set gain 0.3"
    echo "1.6 set gain 99"
    echo "1.8 stats"
} >"$TMP/burst.txt"
"$LIVE" --host-api jack -m "$TMP/k2.json" --seconds 3 --script "$TMP/burst.txt" \
    >"$TMP/burst.out" 2>"$TMP/burst.err"
rc=$?
cat "$TMP/burst.out" "$TMP/burst.err"
grep -q "ERROR: AddressSanitizer\|runtime error" "$TMP/burst.err" && fail "the sanitizers found an error"
[ $rc = 0 ] || fail "rnnfx-live exited with $rc"
grep -q "model swaps: 10 requested, 10 installed, 0 failed" "$TMP/burst.out" ||
    fail "not every swap of the burst was installed"
grep -q "dropped while others settled" "$TMP/burst.out" && fail "a swap of the burst was dropped"
grep -q "no knob named" "$TMP/burst.err" && fail "the knob of the model last loaded was not found"
grep -q "gain=99 is outside the knob's range 0..10; clamped" "$TMP/burst.err" ||
    fail "an out-of-range knob value was clamped without a word"

printf 'mix 0.5\nquit' | timeout 20 "$LIVE" --host-api jack -m "$TMP/k1.json" >"$TMP/eof.out" 2>"$TMP/eof.err"
rc=$?
cat "$TMP/eof.out" "$TMP/eof.err"
[ $rc = 124 ] && fail "a last stdin line without a newline ('quit') was ignored: it played on"
[ $rc = 0 ] || fail "rnnfx-live (stdin commands) exited with $rc"

echo "test_live_asan: ok"
exit 0

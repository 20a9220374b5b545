#!/bin/sh
# test_process_ir_live.sh — rnnfx-live --ir and the `ir` command.
#
# Without a server: a bad --ir file (text, missing) stops rnnfx-live before
# any device is opened, with exit status 1 and a message naming the file;
# --ir twice is a usage error (2).
#
# On a JACK server (dummy backend, no sound card): plays a capture with a
# 48 kHz response for 3 s, and a timed script switches to a 44.1 kHz stereo
# response (resampled, mixed down for the mono chain), tries a bad file
# (refused, the old response keeps playing) and turns the response off.
# Requires the start-up description (length, rates, place in the chain),
# the messages, and both changes installed as crossfaded swaps, counted
# apart from model swaps. A second run mixes model and response commands
# (a model that fails to load, one whose file states no rate, one with a
# knob) and requires counts that add up, the note on the assumed rate, and
# a knob the model lacks refused with the knobs it has. A run without a
# model says the response plays once a model is loaded. (The samples
# themselves are the chain's, checked in tests/test_process_ir.c.)
#
# Needs jackd (Debian: jackd2) for the second part; exit 77 (skipped) when
# it is absent, after the first part.
set -u
BUILD=${BUILD:-build}
LIVE=$BUILD/bin/rnnfx-live
MAKE_MODEL="$BUILD/tests/test_process make-model"
MAKE_IR="$BUILD/tests/test_process_ir make-ir"

[ -x "$LIVE" ] || { echo "test_process_ir_live: $LIVE not built"; exit 1; }
[ -x "$BUILD/tests/test_process" ] || { echo "test_process_ir_live: $BUILD/tests/test_process not built"; exit 1; }
[ -x "$BUILD/tests/test_process_ir" ] || { echo "test_process_ir_live: $BUILD/tests/test_process_ir not built"; exit 1; }

TMP=$(mktemp -d /tmp/rnnfx-test-ir-live-XXXXXX)
JACKPID=""
. tests/support/jack_env.sh
trap rnnfx_jack_cleanup EXIT INT TERM

fail() { echo "test_process_ir_live: FAIL: $*"; exit 1; }

$MAKE_MODEL "$TMP/gru16.json" gru 16 48000 || exit 1
$MAKE_IR "$TMP/cab48.wav" 48000 1 3000 || exit 1
$MAKE_IR "$TMP/cab44s.wav" 44100 2 3000 || exit 1
echo "not a sound file" >"$TMP/bad.wav"

# --- refusals before any device is opened ---------------------------------------
"$LIVE" -m "$TMP/gru16.json" --ir "$TMP/bad.wav" --seconds 1 >/dev/null 2>"$TMP/e1.txt"
rc=$?
cat "$TMP/e1.txt"
[ $rc = 1 ] || fail "a text file as --ir: exit $rc, wanted 1"
grep -q "impulse response $TMP/bad.wav: " "$TMP/e1.txt" || fail "the message does not name the file"
"$LIVE" -m "$TMP/gru16.json" --ir "$TMP/missing.wav" --seconds 1 >/dev/null 2>"$TMP/e2.txt"
rc=$?
[ $rc = 1 ] || fail "a missing --ir file: exit $rc, wanted 1"
grep -q "missing.wav" "$TMP/e2.txt" || fail "the message does not name the missing file"
"$LIVE" --ir "$TMP/cab48.wav" --ir "$TMP/cab44s.wav" --seconds 1 >/dev/null 2>"$TMP/e3.txt"
rc=$?
[ $rc = 2 ] || fail "--ir twice: exit $rc, wanted 2"
grep -q "given twice" "$TMP/e3.txt" || fail "--ir twice: no 'given twice' message"

if ! command -v jackd >/dev/null 2>&1; then
    echo "test_process_ir_live: jackd not installed (apt-get install jackd2); the live part is skipped"
    exit 77
fi

# --- live, on a dummy JACK server -------------------------------------------------
SERVER=rnnfx-ir-live-test
rnnfx_jack_clear_stale
rnnfx_jack_start "$SERVER" 48000 256 --no-realtime "$TMP/jackd.log"
if ! rnnfx_jack_wait_live "$LIVE"; then
    echo "test_process_ir_live: the JACK server did not start:"; cat "$TMP/jackd.log"
    exit 1
fi

cat >"$TMP/script.txt" <<EOF
0.8 ir $TMP/cab44s.wav
1.4 ir $TMP/bad.wav
2.0 ir off
EOF
"$LIVE" --host-api jack --rate 48000 --frames 256 -m "$TMP/gru16.json" --ir "$TMP/cab48.wav" \
    --seconds 3 --script "$TMP/script.txt" >"$TMP/out.txt" 2>"$TMP/err.txt"
rc=$?
cat "$TMP/out.txt" "$TMP/err.txt"
[ $rc = 0 ] || fail "rnnfx-live exited with $rc"
grep -q "impulse response $TMP/cab48.wav: .* ms at 48000 Hz (recorded at 48000 Hz, mono), after the model and before the mix" \
    "$TMP/err.txt" || fail "no description of the start-up response"
grep -q "impulse response $TMP/cab44s.wav: .* ms at 48000 Hz (recorded at 44100 Hz, stereo, mixed to mono)" \
    "$TMP/err.txt" || fail "the ir command's response was not described"
grep -q "cannot use impulse response $TMP/bad.wav: .*(unchanged)" "$TMP/err.txt" ||
    fail "no message for the bad response file"
grep -q "no impulse response" "$TMP/err.txt" || fail "'ir off' was not confirmed"
# response changes are counted apart from model swaps (they were counted
# as model swaps, and a refused file not at all)
grep -q "impulse response changes: 3 requested, 2 installed, 1 failed$" "$TMP/out.txt" ||
    fail "expected 3 response changes: 2 installed, 1 failed"
grep -q "model swaps: 0 requested, 0 installed, 0 failed to load" "$TMP/out.txt" ||
    fail "response changes counted as model swaps"

# Models and responses together: a model that fails to load, a response, a
# model whose file states no sample rate, a model with a knob. The counts
# add up (this script once gave "model swaps: 2 requested, 2 installed, 1
# failed to load" for three model and response commands); a knob the model
# lacks is refused with the knobs it has; the assumed rate is said.
echo '{"not": "a model"}' >"$TMP/bad.json"
cp tests/data/interop/neuralaudio_boss_sd1_lstm_2x8.nam "$TMP/norate.nam" || exit 1
$MAKE_MODEL "$TMP/knob.json" gru 8 48000 drive || exit 1
cat >"$TMP/script2.txt" <<EOF
0.3 model $TMP/bad.json
0.6 ir $TMP/cab48.wav
0.9 model $TMP/norate.nam
1.2 set gain 0.3
1.5 model $TMP/knob.json
1.8 set gain 0.3
2.1 set drive 2
EOF
"$LIVE" --host-api jack --rate 48000 --frames 256 -m "$TMP/gru16.json" \
    --seconds 2.6 --script "$TMP/script2.txt" >"$TMP/out2.txt" 2>"$TMP/err2.txt"
rc=$?
cat "$TMP/out2.txt" "$TMP/err2.txt"
[ $rc = 0 ] || fail "rnnfx-live (models and a response) exited with $rc"
grep -q "model swaps: 3 requested, 2 installed, 1 failed to load" "$TMP/out2.txt" ||
    fail "expected 3 model swaps requested: 2 installed, 1 failed to load"
grep -q "impulse response changes: 1 requested, 1 installed, 0 failed$" "$TMP/out2.txt" ||
    fail "expected 1 response change, installed"
grep -q "norate.nam does not state its sample rate; it plays as a 48000 Hz model" "$TMP/err2.txt" ||
    fail "no note on the assumed rate"
grep -q "the model has no knob named 'gain' (unchanged; it has no knobs)" "$TMP/err2.txt" ||
    fail "a knob of a model without knobs: not said that it has none"
grep -q "the model has no knob named 'gain' (unchanged; its knobs: drive)" "$TMP/err2.txt" ||
    fail "a knob the model lacks: its knobs not listed"
grep -q "knob named 'drive'" "$TMP/err2.txt" && fail "set drive refused on a model with that knob"

# Without a model the input passes through; the response waits for one, and
# so does one given by the ir command (counted as such); a knob has nothing
# to set.
printf '0.1 ir %s\n0.2 set gain 1\n' "$TMP/cab44s.wav" >"$TMP/script4.txt"
"$LIVE" --host-api jack --rate 48000 --ir "$TMP/cab48.wav" --seconds 0.5 --script "$TMP/script4.txt" \
    >"$TMP/out4.txt" 2>"$TMP/err4.txt"
rc=$?
cat "$TMP/out4.txt" "$TMP/err4.txt"
[ $rc = 0 ] || fail "rnnfx-live without a model exited with $rc"
grep -q "plays once a model is loaded" "$TMP/err4.txt" || fail "no word on the waiting response"
grep -q "impulse response changes: 1 requested, 0 installed, 0 failed, 1 with no model playing" \
    "$TMP/out4.txt" || fail "a response given without a model is not counted as waiting"
grep -q "no model is playing: no knob named 'gain' (unchanged)" "$TMP/err4.txt" ||
    fail "set without a model is not refused as such"

echo "test_process_ir_live: ok"
exit 0

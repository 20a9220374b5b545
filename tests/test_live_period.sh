#!/bin/sh
# test_live_period.sh — rnnfx-live with buffers larger than its internal
# slice (4096 frames): a JACK server (dummy backend) with an 8192-frame
# period, rnnfx-live asking for 8192-frame callbacks, and a 440 Hz tone at
# -6 dBFS played into its input by jack-play.
#
# Checked: the run reports 8192-frame buffers; passing the input through
# (no model), the output peak equals the input peak (-6 dBFS, within
# 0.5 dB: the audio really went through, where earlier versions played
# silence for buffers above 4096 frames without a word); with a model the
# output is not silent either.
#
# Needs jackd and jack_lsp (Debian: jackd2) and jack-play (jack-tools). Exit 77
# (skipped) when they are absent or the server does not start.
set -u
BUILD=${BUILD:-build}
LIVE=$BUILD/bin/rnnfx-live
MAKE_MODEL="$BUILD/tests/test_process make-model"
for t in jackd jack-play jack_lsp; do
    command -v $t >/dev/null 2>&1 || { echo "test_live_period: $t not installed; skipping"; exit 77; }
done
[ -x "$LIVE" ] || { echo "test_live_period: $LIVE not built"; exit 1; }
[ -x "$BUILD/tests/test_process" ] || { echo "test_live_period: $BUILD/tests/test_process not built"; exit 1; }

TMP=$(mktemp -d /tmp/rnnfx-test-live-period-XXXXXX)
SERVER=rnnfx-live-period-test
JACKPID=""
. tests/support/jack_env.sh
trap rnnfx_jack_cleanup EXIT INT TERM
fail() { echo "test_live_period: FAIL: $*"; exit 1; }

rnnfx_jack_clear_stale
rnnfx_jack_start "$SERVER" 48000 8192 --no-realtime "$TMP/jackd.log"
if ! rnnfx_jack_wait_live "$LIVE"; then
    echo "test_live_period: the JACK server did not start; skipping:"; cat "$TMP/jackd.log"
    exit 77
fi

# A 440 Hz sine at half scale (-6.02 dBFS), 6 s, 16-bit (python3's own
# wave module, nothing else).
/usr/bin/python3 - "$TMP/tone.wav" <<'EOF' || { echo "test_live_period: cannot write the tone; skipping"; exit 77; }
import math, struct, sys, wave
rate, n = 48000, 48000 * 6
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes(b"".join(struct.pack("<h", int(round(16383.5 * math.sin(2 * math.pi * 440 * i / rate))))
                           for i in range(n)))
EOF

# $1: output file; the rest: rnnfx-live options. Plays the tone into the
# input while rnnfx-live runs for 4 s.
run_live() {
    out=$1; shift
    "$LIVE" --host-api jack --frames 8192 --seconds 4 "$@" >"$out" 2>"$out.err" &
    lp=$!
    # jack-play connects at start, so wait for the input port (or for
    # rnnfx-live to end, whose status is checked below)
    i=0
    while ! jack_lsp 2>/dev/null | grep -q "PortAudio:in_0" && kill -0 $lp 2>/dev/null &&
        [ $i -lt 100 ]; do
        i=$((i + 1))
        sleep 0.1
    done
    JACK_PLAY_CONNECT_TO=PortAudio:in_0 timeout 8 jack-play -b 65536 "$TMP/tone.wav" \
        >"$TMP/play.log" 2>&1 &
    pp=$!
    wait $lp
    rc=$?
    kill $pp 2>/dev/null
    wait $pp 2>/dev/null
    cat "$out" "$out.err"
    [ $rc = 0 ] || fail "rnnfx-live exited with $rc"
}
peak() { sed -n "s/.*peaks: in \(-*[0-9.]*\) dBFS, out \(-*[0-9.]*\) dBFS.*/\\$2/p" "$1" | head -1; }

run_live "$TMP/pass.txt"
grep -q "8192-frame buffers" "$TMP/pass.txt" || fail "the callbacks were not 8192 frames long"
pin=$(peak "$TMP/pass.txt" 1)
pout=$(peak "$TMP/pass.txt" 2)
echo "pass-through at 8192 frames: in $pin dBFS, out $pout dBFS"
awk -v i="$pin" -v o="$pout" 'BEGIN { exit !(i != "" && o != "" && i > -7 && i < -5 && o - i < 0.5 && i - o < 0.5) }' ||
    fail "pass-through at 8192 frames: output peak $pout dBFS for input $pin dBFS (expected equal, about -6)"

$MAKE_MODEL "$TMP/gru8.json" gru 8 48000 || exit 1
run_live "$TMP/model.txt" -m "$TMP/gru8.json"
mout=$(peak "$TMP/model.txt" 2)
echo "through a model at 8192 frames: out $mout dBFS"
awk -v o="$mout" 'BEGIN { exit !(o != "" && o > -60) }' || fail "the model's output is silent at 8192 frames"

echo "test_live_period: ok"
exit 0

#!/bin/sh
# test_live.sh — rnnfx-live on a real JACK server (dummy backend: no sound
# card needed), through PortAudio's JACK host API selected explicitly.
#
# Plays an LSTM-32 capture at 48 kHz with 128-frame buffers for 5 s, swaps
# to a GRU-32 model at 2 s (loaded off the audio thread, crossfaded), moves
# the mix and toggles bypass, and requires: zero over/underruns reported by
# PortAudio, the swap installed, a failed swap (bad file) survived, the
# expected number of callbacks, and the control FIFO working (swap + quit)
# with the default buffer size (JACK's period).
#
# The dummy backend is paced by a timer; on a heavily loaded machine the
# server and its clients can wake late and report xruns that no client's
# work causes. The main run is therefore tried up to 3 times and passes if
# one attempt is clean; every attempt's figures are printed. If all three
# drop out, 3 pass-through runs without a model decide: all clean means
# rnnfx-live is at fault (fail); dropouts there too mean the machine cannot
# keep 128-frame time, and the zero-dropout check is made again on a server
# restarted at 1024 frames, which a VM usually keeps (skipped, after the
# functional checks have passed, only if pass-through drops out there too).
#
# Needs jackd (Debian: jackd2). Exit 77 (skipped) when it is absent.
set -u
BUILD=${BUILD:-build}
LIVE=$BUILD/bin/rnnfx-live
MAKE_MODEL="$BUILD/tests/test_process make-model"

if ! command -v jackd >/dev/null 2>&1; then
    echo "test_live: jackd not installed (apt-get install jackd2); skipping"
    exit 77
fi
[ -x "$LIVE" ] || { echo "test_live: $LIVE not built"; exit 1; }
[ -x "$BUILD/tests/test_process" ] || { echo "test_live: $BUILD/tests/test_process not built"; exit 1; }

TMP=$(mktemp -d /tmp/rnnfx-test-live-XXXXXX)
SERVER=rnnfx-live-test
JACKPID=""
. tests/support/jack_env.sh
trap rnnfx_jack_cleanup EXIT INT TERM

# Real-time scheduling when the machine allows it (root, or rtprio limits),
# as on a musician's machine; otherwise --no-realtime.
RT=--no-realtime
if [ "$(id -u)" = 0 ] || [ "$(ulimit -r 2>/dev/null || echo 0)" != 0 ]; then
    RT="-R -P 70"
fi
rnnfx_jack_clear_stale
rnnfx_jack_start "$SERVER" 48000 128 "$RT" "$TMP/jackd.log"
if ! rnnfx_jack_wait_live "$LIVE"; then
    echo "test_live: the JACK server did not start:"; cat "$TMP/jackd.log"
    exit 1
fi
"$LIVE" --list

$MAKE_MODEL "$TMP/lstm32.json" lstm 32 48000 || exit 1
$MAKE_MODEL "$TMP/gru32.json" gru 32 48000 || exit 1
echo '{"not": "a model"}' >"$TMP/bad.json"

cat >"$TMP/script.txt" <<EOF
# seconds  command
1.0 mix 0.8
2.0 model $TMP/gru32.json
3.0 bypass on
3.5 bypass off
3.7 normalize on
4.0 model $TMP/bad.json
EOF

fail() { echo "test_live: FAIL: $*"; exit 1; }
field() { sed -n "s/.*$1 \([0-9][0-9]*\).*/\1/p" "$2" | head -1; }

# live_run FRAMES: the scripted run at FRAMES-frame buffers, up to 3
# attempts; ok=1 after the first with no dropout flag.
live_run() {
    ok=0
    for attempt in 1 2 3; do
        "$LIVE" --host-api jack --rate 48000 --frames "$1" -m "$TMP/lstm32.json" \
            --seconds 5 --script "$TMP/script.txt" >"$TMP/out.txt" 2>"$TMP/err.txt"
        rc=$?
        echo "--- attempt $attempt at $1 frames (exit $rc)"
        cat "$TMP/out.txt" "$TMP/err.txt"
        [ $rc = 0 ] || fail "rnnfx-live exited with $rc"
        grep -q "model swaps: 2 requested, 2 installed" "$TMP/out.txt" &&
            fail "the bad model should not have been installed"
        # the refused file counts as requested too (it was "1 requested")
        grep -q "model swaps: 2 requested, 1 installed, 1 failed to load" "$TMP/out.txt" ||
            fail "expected two swaps requested: one installed, one refused file"
        grep -q "cannot load .*bad.json" "$TMP/err.txt" || fail "no message for the bad model file"
        cb=$(sed -n "s/.* \([0-9][0-9]*\) callbacks.*/\1/p" "$TMP/out.txt" | head -1)
        drop=$(field "dropouts:" "$TMP/out.txt")
        if [ "${drop:-1}" = 0 ]; then
            # 5 s at 48 kHz is 240000 frames (1875 callbacks of 128);
            # allow 10 % for start-up.
            want=$((216000 / $1))
            [ "${cb:-0}" -ge $want ] || fail "only ${cb:-0} callbacks in 5 s (expected about $((240000 / $1)))"
            ok=1
            return
        fi
        echo "test_live: attempt $attempt had $drop dropout flags (server log below); retrying"
        grep -i xrun "$TMP/jackd.log" | tail -3
    done
}

# passthrough_clean FRAMES: 3 runs without a model at FRAMES-frame buffers,
# all without a dropout flag.
passthrough_clean() {
    for b in 1 2 3; do
        "$LIVE" --host-api jack --rate 48000 --frames "$1" --seconds 5 >"$TMP/base.txt" 2>/dev/null
        grep dropouts: "$TMP/base.txt"
        base=$(field "dropouts:" "$TMP/base.txt")
        if [ "${base:-1}" != 0 ]; then
            echo "test_live: pass-through without a model at $1 frames also had $base dropout flags"
            return 1
        fi
    done
    return 0
}

live_run 128
# Control FIFO: swap and quit from outside, well before --seconds ends.
FIFO=$TMP/control
"$LIVE" --host-api jack -m "$TMP/lstm32.json" --seconds 20 --control "$FIFO" \
    >"$TMP/fifo-out.txt" 2>"$TMP/fifo-err.txt" &
LPID=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -p "$FIFO" ] && break; sleep 0.2; done
[ -p "$FIFO" ] || { kill $LPID; fail "the control FIFO was not created"; }
sleep 1
echo "model $TMP/gru32.json" >"$FIFO"
sleep 1
echo "set nothing 1" >"$FIFO"
# out-of-range values and unknown words change nothing and say so ("in-gain
# 100" played at +24 dB, "bypass maybe" toggled the bypass)
echo "in-gain 100" >"$FIFO"
echo "mix 5" >"$FIFO"
echo "bypass maybe" >"$FIFO"
echo "normalize maybe" >"$FIFO"
echo "quit" >"$FIFO"
t=0
while kill -0 $LPID 2>/dev/null; do
    sleep 0.2; t=$((t + 1))
    [ $t -lt 50 ] || { kill $LPID; fail "quit through the FIFO did not stop rnnfx-live"; }
done
wait $LPID || fail "rnnfx-live (FIFO run) failed"
cat "$TMP/fifo-out.txt"
grep -q "model swaps: 1 requested, 1 installed" "$TMP/fifo-out.txt" || fail "FIFO swap not installed"
# Without --frames, JACK's own period is used (the server runs -p 128).
grep -q "128-frame buffers" "$TMP/fifo-out.txt" || fail "default buffer size is not the JACK period"
grep -q "no knob named 'nothing' (unchanged; it has no knobs)" "$TMP/fifo-err.txt" ||
    fail "no message for an unknown knob, or it does not say the model has none"
grep -q "in-gain needs a gain in dB, -60..24 (unchanged)" "$TMP/fifo-err.txt" || fail "in-gain 100 not refused"
grep -q "mix needs a value 0..1 (unchanged)" "$TMP/fifo-err.txt" || fail "mix 5 not refused"
grep -q "bypass needs on, off or toggle (unchanged)" "$TMP/fifo-err.txt" || fail "bypass maybe not refused"
grep -q "normalize needs on or off (unchanged)" "$TMP/fifo-err.txt" || fail "normalize maybe not refused"

# No JACK server for a host API that needs one is a clear error, not a hang.
"$LIVE" --host-api nosuchapi --seconds 1 >/dev/null 2>"$TMP/err2.txt" && fail "accepted a bogus host API"
grep -q "no host API 'nosuchapi'" "$TMP/err2.txt" || fail "unclear message for a bogus host API"
# A rate the JACK server does not run at: said why ("0 frames: Invalid
# sample rate" was all it said)
"$LIVE" --host-api jack --rate 44100 --seconds 1 >/dev/null 2>"$TMP/err3.txt" && fail "accepted 44.1 kHz on a 48 kHz server"
grep -q "the JACK server runs at 48000 Hz" "$TMP/err3.txt" || { cat "$TMP/err3.txt"; fail "unclear message for --rate"; }
grep -q " 0 frames" "$TMP/err3.txt" && fail "the message says '0 frames'"

# Knobs follow their names to the next model: the DS-1 capture's drive set
# to 0.7, then a copy whose knob is named tone (default 0.5) plays its tone
# at 0.5, not at the drive's 0.7 (the chain keeps knobs by position); a copy
# that keeps the name keeps the setting
sed 's/"name": "drive"/"name": "tone"/' presets/rnnfx-ds1-drive.json >"$TMP/tone.json"
cp presets/rnnfx-ds1-drive.json "$TMP/drive2.json"
printf '0.3 set drive 0.7\n0.8 model %s\n' "$TMP/tone.json" >"$TMP/knobs1.txt"
printf '0.3 set drive 0.7\n0.8 model %s\n' "$TMP/drive2.json" >"$TMP/knobs2.txt"
for k in 1 2; do
    "$LIVE" --host-api jack --seconds 1.5 -m presets/rnnfx-ds1-drive.json --script "$TMP/knobs$k.txt" \
        >"$TMP/knobs$k.out" 2>"$TMP/knobs$k.err" || { cat "$TMP/knobs$k.err"; fail "knob run $k failed"; }
done
grep -q "knobs: \*\?tone=0.5$" "$TMP/knobs1.out" ||
    { cat "$TMP/knobs1.out"; fail "the drive setting went to the next model's tone knob"; }
grep -q "knobs: \*\?drive=0.7$" "$TMP/knobs2.out" ||
    { cat "$TMP/knobs2.out"; fail "a knob of the same name did not keep its setting"; }

# The JACK server going away while rnnfx-live plays: it says so and exits 1
# at once. It used to wait 10 minutes in PortAudio's stop (Ctrl-C ignored),
# then abort on an assertion.
"$LIVE" --host-api jack --seconds 60 -m "$TMP/gru32.json" >"$TMP/lost-out.txt" 2>"$TMP/lost-err.txt" &
LPID=$!
sleep 2
kill "$JACKPID" 2>/dev/null
wait "$JACKPID" 2>/dev/null
t=0
while kill -0 $LPID 2>/dev/null; do
    sleep 0.2; t=$((t + 1))
    [ $t -lt 50 ] || { kill -9 $LPID; fail "rnnfx-live hung after the JACK server went away"; }
done
wait $LPID
lrc=$?
[ $lrc = 1 ] || { cat "$TMP/lost-err.txt"; fail "exit $lrc after the JACK server went away (expected 1)"; }
grep -q "the audio stream stopped (device lost?)" "$TMP/lost-err.txt" || fail "no message when the server went away"
echo "test_live: the server went away: rnnfx-live stopped within $((t * 200)) ms, exit 1"
rnnfx_jack_start "$SERVER" 48000 128 "$RT" "$TMP/jackd.log"
rnnfx_jack_wait_live "$LIVE" || { cat "$TMP/jackd.log"; fail "the JACK server did not restart"; }

if [ $ok = 0 ]; then
    # Is it us or the machine? Pass-through (no model) under the same
    # conditions, 3 times: if any of those drops out too, the server cannot
    # keep time at 128 frames here (a loaded machine, a VM's coarse timers)
    # and the result says nothing about rnnfx-live. Only when pass-through
    # is clean every time while every run with a model dropped out is it
    # ours. A VM that cannot keep 128-frame periods usually keeps 1024-frame
    # ones (2.7 ms against 21 ms), so there the same checks run again on a
    # server restarted at 1024 frames; only if pass-through drops out there
    # too is the zero-dropout check skipped.
    if passthrough_clean 128; then
        fail "dropouts in every attempt with a model at 128 frames, none in 3 runs without one"
    fi
    echo "test_live: 128-frame periods are beyond this machine right now (load: $(cut -d' ' -f1-3 /proc/loadavg)); trying 1024"
    kill "$JACKPID" 2>/dev/null
    wait "$JACKPID" 2>/dev/null
    rnnfx_jack_start "$SERVER" 48000 1024 "$RT" "$TMP/jackd.log"
    rnnfx_jack_wait_live "$LIVE" || { cat "$TMP/jackd.log"; fail "the JACK server did not restart at 1024 frames"; }
    if ! passthrough_clean 1024; then
        echo "test_live: this machine cannot run the JACK dummy server glitch-free right now,"
        echo "test_live: even at 1024 frames. The functional checks passed; the zero-dropout check is skipped"
        exit 77
    fi
    live_run 1024
    [ $ok = 1 ] || fail "dropouts in every attempt with a model at 1024 frames, none in 3 runs without one"
    echo "test_live: ok (no dropout at 1024-frame buffers; 128-frame ones drop out here without a model too)"
    exit 0
fi

echo "test_live: ok"
exit 0

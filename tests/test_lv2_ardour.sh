#!/bin/sh
# The plugin in a real DAW: Ardour 7, headless (its command-line tools on
# the "None (Dummy)" backend: no sound card, JACK or display).
#
# A session with a mono track and the rnnfx plugin renders a test signal,
# once at 48 kHz and once at 44.1 kHz (the plugin then resamples around the
# 48 kHz model and reports its latency, which Ardour compensates; the
# comparison then allows for the resampler's start phase, see below);
# the plugin's saved LV2 state names the bundled DS-1 capture (so Ardour
# restores the model through State + mapPath), input gain +3 dB, output gain
# -6 dB, knob 1 at 0.5. The exported WAV must equal rnnfx-process's output
# for the same model and settings within 1e-5 (after 0.1 s, which covers
# the state Ardour's pre-roll leaves in the model).
#
# Needs (Debian): ardour (7.x), python3-numpy. Skips (77) when missing.
# About 20-40 s.
BUILD=${BUILD:-build}
B="$BUILD/rnnfx.lv2"
PROC="$BUILD/bin/rnnfx-process"
PY=/usr/bin/python3
[ -f "$B/rnnfx.so" ] || { echo "bundle $B not built"; exit 1; }
[ -x "$PROC" ] || { echo "$PROC not built"; exit 1; }
for t in ardour7-new_session ardour7-lua ardour7-export; do
    command -v $t >/dev/null 2>&1 || { echo "skip: $t not installed (apt-get install ardour)"; exit 77; }
done
$PY -c 'import numpy' 2>/dev/null || { echo "skip: python3-numpy not installed"; exit 77; }

tmp=$(mktemp -d)
trap '[ -n "$KEEP" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lv2"
BUNDLE=$(cd "$B" && pwd)
ln -s "$BUNDLE" "$tmp/lv2/rnnfx.lv2"
export LV2_PATH="$tmp/lv2"
MODEL="$BUNDLE/rnnfx-ds1-drive.json"

render_and_compare() {
RATE=$1
S="$tmp/session$RATE"
rm -rf "$tmp/batch" "$tmp/default"
$PY tests/lv2_audio.py gen "$tmp/in.wav" 3 $RATE || return 1
# knob 1 = 0.5 of the capture's trained range (drive 0.2 .. 0.8)
"$PROC" -q -m "$MODEL" --in-gain 3 --out-gain -6 --set drive=0.5 --float -o "$tmp/batch" "$tmp/in.wav" || return 1

ardour7-new_session -m 1 -s $RATE "$S" t >"$tmp/new.log" 2>&1 || { cat "$tmp/new.log"; echo "FAIL: ardour7-new_session"; return 1; }
cat > "$tmp/make.lua" <<LUA
AudioEngine:set_backend("None (Dummy)", "", "")
AudioEngine:start(false)
local s = load_session("$S", "t")
assert(s, "cannot load the session")
local tl = s:new_audio_track(1, 1, nil, 1, "fx", ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
local p = ARDOUR.LuaAPI.new_plugin(s, "http://rnnfx.org/plugins/rnnfx#mono", ARDOUR.PluginType.LV2, "")
assert(not p:isnil(), "rnnfx plugin not found")
tl:front():add_processor_by_index(p, 0, nil, true)
s:save_state("", false, false, false, false, false)
close_session()
print("rnnfx-session-ok")
LUA
timeout 120 ardour7-lua "$tmp/make.lua" </dev/null >"$tmp/lua.log" 2>&1
grep -q rnnfx-session-ok "$tmp/lua.log" || { tail -20 "$tmp/lua.log"; echo "FAIL: Lua session setup"; return 1; }
$PY tests/lv2_ardour_session.py "$S" t "$tmp/in.wav" "$MODEL" input_gain=3 output_gain=-6 knob1=0.5 || return 1

# One export in a few aborts at teardown and leaves an empty file: retry.
ok=0
for attempt in 1 2 3; do
    rm -f "$tmp/ardour.wav"
    # a session Ardour cannot fully load makes it wait for a user: time out
    timeout 120 ardour7-export -b float -o "$tmp/ardour.wav" "$S" t </dev/null >"$tmp/export.log" 2>&1
    frames=$($PY tests/lv2_audio.py frames "$tmp/ardour.wav" 2>/dev/null || echo 0)
    if [ "${frames:-0}" -gt $((RATE * 2)) ]; then ok=1; break; fi
    echo "export attempt $attempt gave no audio; retrying"
done
if [ $ok -ne 1 ]; then
    tail -20 "$tmp/export.log"
    echo "FAIL: ardour7-export produced no audio (load the session with ardour7-lua to see why)"
    return 1
fi
grep "^rnnfx:" "$tmp/export.log" | grep -i "warning\|error\|cannot" && { echo "FAIL: the plugin complained"; return 1; }
if [ "$RATE" = 48000 ]; then
    $PY tests/lv2_audio.py compare "$tmp/batch/in.wav" "$tmp/ardour.wav" 1e-5 0.1 || {
        echo "FAIL: Ardour's render differs from rnnfx-process"; return 1; }
else
    # Resampling a nonlinear model: the exact samples depend on where the
    # plugin's stream started modulo 147 samples (44100/gcd(44100, 48000)),
    # and Ardour runs the plugin before the region starts. One of the 147
    # start phases must give Ardour's render exactly.
    $PY tests/lv2_audio.py phase-gen "$tmp/in.wav" 147 "$tmp/phases" || return 1
    "$PROC" -q -m "$MODEL" --in-gain 3 --out-gain -6 --set drive=0.5 --float -o "$tmp/phases-out" "$tmp/phases" || return 1
    $PY tests/lv2_audio.py phase-match "$tmp/phases-out" "$tmp/ardour.wav" 1e-5 0.1 147 || {
        echo "FAIL: Ardour's render is no start phase of rnnfx-process's output"; return 1; }
    rm -rf "$tmp/phases" "$tmp/phases-out"
fi
# Ardour does not print the plugin's log; that the model came from the saved
# state shows in the sound: the built-in capture must sound different.
"$PROC" -q -m "$BUNDLE/rnnfx-default.json" --in-gain 3 --out-gain -6 --float -o "$tmp/default" "$tmp/in.wav" || return 1
if $PY tests/lv2_audio.py compare "$tmp/default/in.wav" "$tmp/ardour.wav" 1e-3 0.1 >/dev/null; then
    echo "FAIL: Ardour played the built-in capture, not the model named in the plugin state"; return 1
fi
echo "the render is not the built-in capture's: the model path came from the LV2 state"
return 0
}

for RATE in ${ARDOUR_RATES:-48000 44100}; do
    echo "== session at $RATE Hz (model trained at 48000 Hz)"
    render_and_compare $RATE || exit 1
done
exit 0

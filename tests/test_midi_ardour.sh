#!/bin/sh
# test_midi_ardour.sh — the MIDI plugin in a real DAW: Ardour 7, headless
# (its command-line tools on the "None (Dummy)" backend).
#
# A session with a MIDI track: the rnnfx MIDI plugin (built-in model,
# continue mode, nobody playing) feeding Ardour's own instrument (ACE
# Reasonable Synth), exported for 6 s while Ardour's transport rolls at its
# default 120 bpm. The export must hold sound, and the same session without
# the rnnfx plugin must be silent: the notes come from the model, driven by
# Ardour's transport (time:Position), through a real host's MIDI routing.
#
# Needs (Debian): ardour (7.x, which ships ACE Reasonable Synth),
# python3-numpy. Skips (77) when missing. About 20-40 s.
set -u
BUILD=${BUILD:-build}
B="$BUILD/rnnfx.lv2"
PY=/usr/bin/python3
[ -f "$B/rnnfx.so" ] || { echo "bundle $B not built"; exit 1; }
for t in ardour7-new_session ardour7-lua ardour7-export; do
    command -v $t >/dev/null 2>&1 || { echo "skip: $t not installed (apt-get install ardour)"; exit 77; }
done
$PY -c 'import numpy' 2>/dev/null || { echo "skip: python3-numpy not installed"; exit 77; }
SYNTH_DIR=""
for d in /usr/lib/lv2/reasonablesynth.lv2 /usr/lib/ardour7/LV2/reasonablesynth.lv2; do
    [ -d "$d" ] && SYNTH_DIR=$(dirname "$d") && break
done
[ -n "$SYNTH_DIR" ] || { echo "skip: ACE Reasonable Synth (ardour) not found"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lv2"
ln -s "$(cd "$B" && pwd)" "$tmp/lv2/rnnfx.lv2"
export LV2_PATH="$tmp/lv2:$SYNTH_DIR"

# $1 session dir, $2 = 1 to insert the rnnfx MIDI plugin. Prints the RMS of
# the exported left channel.
render() {
    S=$1
    cat > "$tmp/make.lua" <<LUA
AudioEngine:set_backend("None (Dummy)", "", "")
AudioEngine:start(false)
local s = load_session("$S", "t")
assert(s, "cannot load the session")
local synth = ARDOUR.LuaAPI.new_plugin_info("https://community.ardour.org/node/7596", ARDOUR.PluginType.LV2)
assert(not synth:isnil(), "ACE Reasonable Synth not found")
local tl = s:new_midi_track(ARDOUR.ChanCount(ARDOUR.DataType("midi"), 1),
    ARDOUR.ChanCount(ARDOUR.DataType("audio"), 2), true, synth, nil, nil, 1, "gen",
    ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true, false)
if $2 == 1 then
    local p = ARDOUR.LuaAPI.new_plugin(s, "http://rnnfx.org/plugins/rnnfx#midi", ARDOUR.PluginType.LV2, "")
    assert(not p:isnil(), "rnnfx MIDI plugin not found")
    tl:front():add_processor_by_index(p, 0, nil, true)
end
s:save_state("", false, false, false, false, false)
close_session()
print("rnnfx-session-ok")
LUA
    # Ardour occasionally fails while creating ports in a fresh session: retry.
    ok=0
    for attempt in 1 2 3; do
        rm -rf "$S"
        ardour7-new_session -s 48000 "$S" t >"$tmp/new.log" 2>&1 || { cat "$tmp/new.log" >&2; return 1; }
        timeout 120 ardour7-lua "$tmp/make.lua" </dev/null >"$tmp/lua.log" 2>&1
        grep -q rnnfx-session-ok "$tmp/lua.log" && { ok=1; break; }
    done
    [ $ok = 1 ] || { tail -20 "$tmp/lua.log" >&2; echo "FAIL: Lua session setup" >&2; return 1; }
    # Lua cannot set the session range here: write it (6 s, superclock units).
    $PY - "$S/t.ardour" <<'PYEOF' || return 1
import re, sys
p = sys.argv[1]
x = open(p).read()
nid = max(int(v) for v in re.findall(r'\bid="(\d+)"', x)) + 100
loc = ('<Location id="%d" name="session" start="a0" end="a%d" flags="IsSessionRange" '
       'locked="0" timestamp="0" cue="0"/>' % (nid, 6 * 282240000))
if "<Locations/>" in x:
    x = x.replace("<Locations/>", "<Locations>\n    %s\n  </Locations>" % loc, 1)
else:
    x = x.replace("<Locations>", "<Locations>\n    %s" % loc, 1)
open(p, "w").write(x)
PYEOF
    ok=0
    for attempt in 1 2 3; do
        rm -f "$tmp/out.wav"
        timeout 120 ardour7-export -b float -o "$tmp/out.wav" "$S" t </dev/null >"$tmp/export.log" 2>&1
        rms=$($PY - "$tmp/out.wav" <<'PYEOF'
import sys
import numpy as np
d = open(sys.argv[1], "rb").read()
i, ch = 12, 1
while i + 8 <= len(d):
    cid, size = d[i:i + 4], int.from_bytes(d[i + 4:i + 8], "little")
    if cid == b"fmt ":
        ch = int.from_bytes(d[i + 10:i + 12], "little")
    if cid == b"data":
        x = np.frombuffer(d[i + 8:i + 8 + size], dtype=np.float32).reshape(-1, ch)
        if len(x) < 48000 * 5:
            sys.exit(1)
        print("%.6f" % float(np.sqrt(np.mean(x[:, 0].astype(np.float64) ** 2))))
        sys.exit(0)
    i += 8 + size + (size & 1)
sys.exit(1)
PYEOF
) && { ok=1; break; }
        echo "export attempt $attempt gave no audio; retrying" >&2
    done
    [ $ok = 1 ] || { tail -20 "$tmp/export.log" >&2; echo "FAIL: ardour7-export produced no audio" >&2; return 1; }
    echo "$rms"
}

with=$(render "$tmp/with" 1) || exit 1
without=$(render "$tmp/without" 0) || exit 1
echo "Ardour export RMS: with the rnnfx MIDI plugin $with, synth alone $without"
$PY -c "import sys; sys.exit(0 if float('$with') > 0.005 and float('$without') < 1e-5 else 1)" || {
    echo "FAIL: expected sound only with the plugin"; exit 1; }
echo "test_midi_ardour: ok"
exit 0

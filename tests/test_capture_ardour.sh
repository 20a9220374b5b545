#!/bin/sh
# The capture selector (the "capture" control port) in a real DAW: headless
# Ardour 7 (its command-line tools on the "None (Dummy)" backend) at 48 kHz.
#
# 1. A session's mono rnnfx plugin gets "capture" = 4 (Tube amp + cabinet)
#    and output gain -14 dB through Ardour's Lua (the controls found by
#    their labels, set with ARDOUR.LuaAPI.set_processor_param), and is
#    saved. ardour7-export's render must equal rnnfx-process with the
#    bundle's amp capture and cabinet file within 1e-5 after 0.3 s (Ardour
#    runs the plugin on silence before the region, and what the capture
#    makes of it rings through the cabinet for its length, 0.19 s), and
#    differ from the amp alone.
# 2. The saved plugin state holds rnnfx:capture 4 and names the amp and
#    cabinet files; the session XML holds the port value 4.
# 3. Reopened, "capture" = 2 (DS-1 style distortion) through Lua, saved:
#    the render equals rnnfx-process with the DS-1 capture at knob 1 = 0.5
#    and no cabinet (the state holds rnnfx:capture 2 and no cabinet),
#    after 0.1 s (without a cabinet, the pre-roll's trace is gone by then).
# 4. A model file chosen after the selector stays on reopening: Ardour's
#    Lua has no way to send the plugin a patch:Set (PluginInsert's
#    write_immediate_event takes MIDI only, and Plugin has no set_property
#    binding), so the state the plugin saves after such a choice is
#    written in its place (capture 2's state with another model file, as
#    the plugin stores it); Ardour loads and saves that session again
#    through Lua, and the render must be that file's output, not DS-1's:
#    the port still reads 2, and the saved rnnfx:capture 2 means it is not
#    acted on again.
# 5. (Run before 4.) A preset of an earlier version, with a model in its
#    state but no capture value or rnnfx:capture key, loaded through Lua
#    while the selector is at 2: its model plays and is saved.
# The output gain is -14 dB on both sides throughout (the amp through the
# cabinet peaks near +6 dBFS at 0 dB; the bundled preset uses -14 too).
# Each check was seen to fail once against a wrong reference (the amp
# without the cabinet, knob 1 at 0.6, capture values 3, the state of step 4
# without its rnnfx:capture key, which makes the plugin act on the port
# again and play DS-1).
#
# Needs (Debian): ardour (7.x), python3-numpy. Skips (77) when missing.
# About 25 s.
BUILD=${BUILD:-build}
PY=/usr/bin/python3
. tests/support/ardour_env.sh
rnnfx_ardour_begin
RATE=48000
S="$tmp/session"
GAIN=-14
OTHER="$tmp/models/other-capture.json"

$PY tests/lv2_audio.py gen "$tmp/in.wav" 3 $RATE || exit 1
# the chosen file: a copy of the amp capture (not of the built-in default,
# which the plugin also plays when a saved model fails to load)
mkdir -p "$tmp/models" && cp "$BUNDLE/rnnfx-tube-amp.json" "$OTHER" || exit 1
ref() { # ref NAME rnnfx-process-options...: $tmp/NAME/in.wav
    name=$1
    shift
    "$PROC" -q "$@" --out-gain $GAIN --float -o "$tmp/$name" "$tmp/in.wav" ||
        { echo "FAIL: rnnfx-process $*"; exit 1; }
}
ref cab -m "$BUNDLE/rnnfx-tube-amp.json" --ir "$BUNDLE/rnnfx-cab-mesa.wav"
ref amp -m "$BUNDLE/rnnfx-tube-amp.json"
ref ds1 -m "$BUNDLE/rnnfx-ds1-drive.json" --knob 1=0.5
ref other -m "$OTHER"
ref default -m "$BUNDLE/rnnfx-default.json"

# same: the render equals reference $1 (after $2 s); else says $3 and fails
same() {
    $PY tests/lv2_audio.py compare "$tmp/$1/in.wav" "$tmp/ardour.wav" 1e-5 "$2" || {
        echo "FAIL: $3"; exit 1; }
}
# differs: the render is not reference $1 (after 0.3 s); else says $2 and fails
differs() {
    if $PY tests/lv2_audio.py compare "$tmp/$1/in.wav" "$tmp/ardour.wav" 1e-3 0.3 >/dev/null; then
        echo "FAIL: $2"; exit 1
    fi
}
# lua NAME [CAPTURE [PRESET]]: loads the session in ardour7-lua, sets the
# plugin's output gain and, given CAPTURE (may be ""), its capture
# selector, given PRESET loads the preset of that label, lets the engine
# run a few cycles (the plugin acts in run()) and saves.
lua() {
    cat > "$tmp/$1.lua" <<LUA
AudioEngine:set_backend("None (Dummy)", "", "")
AudioEngine:start(false)
local s = load_session("$S", "t")
assert(s, "cannot load the session")
local r = s:route_by_name("fx")
assert(not r:isnil(), "no track fx")
local proc = r:nth_plugin(0)
assert(not proc:isnil(), "no plugin on track fx")
local pl = proc:to_plugininsert():plugin(0)
assert(pl:unique_id() == "http://rnnfx.org/plugins/rnnfx#mono", "not the rnnfx plugin")
-- set_processor_param counts the plugin's control ports (inputs and
-- outputs), not the LV2 port indices: find the control by its label
local function set(label, value)
  for i = 0, pl:parameter_count() - 1 do
    local c = pl:nth_parameter(i, false)
    if pl:parameter_is_control(c) and pl:parameter_is_input(c) and pl:parameter_label(c) == label then
      assert(ARDOUR.LuaAPI.set_processor_param(proc, i, value), "cannot set " .. label)
      print("set " .. label .. " (control " .. i .. ", port " .. c .. ") to " .. value)
      return
    end
  end
  error("no control " .. label)
end
set("Output gain", $GAIN)
if "${2:-}" ~= "" then set("Capture", tonumber("${2:-0}")) end
if "${3:-}" ~= "" then
  local pr = pl:preset_by_label("${3:-}")
  assert(pr, "no preset ${3:-}")
  assert(pl:load_preset(pr), "cannot load the preset ${3:-}")
  print("set preset ${3:-}")
end
assert(ARDOUR.LuaAPI.wait_for_process_callback(20, 5000), "the engine does not run")
s:save_state("", false, false, false, false, false)
-- said before closing: a rare abort at Ardour's teardown would otherwise
-- hide a save that happened
print("rnnfx-lua-ok")
close_session()
LUA
    timeout 120 ardour7-lua "$tmp/$1.lua" </dev/null >"$tmp/$1.log" 2>&1
    grep -q rnnfx-lua-ok "$tmp/$1.log" || { tail -20 "$tmp/$1.log"; echo "FAIL: Lua $1"; exit 1; }
    grep "^set " "$tmp/$1.log"
}
# newest_state: STATE, the plugin state the session XML names (each save
# writes a new state directory: plugins/PROCESSOR-ID/stateN)
newest_state() {
    id=$(sed -n 's/.*<Processor id="\([0-9]*\)" name="rnnfx (mono)".*/\1/p' "$S/t.ardour" | head -1)
    dir=$(sed -n 's/.*<lv2 .*state-dir="\([^"]*\)".*/\1/p' "$S/t.ardour" | head -1)
    STATE="$S/plugins/$id/$dir/state.ttl"
    [ -n "$id" ] && [ -n "$dir" ] && [ -f "$STATE" ] || {
        ls -R "$S/plugins" 2>&1 | head; echo "FAIL: no saved plugin state (processor '$id', '$dir')"; exit 1; }
}
has() { grep -q "$1" "$STATE" || { cat "$STATE"; echo "FAIL: $2"; exit 1; }; }
hasnt() { if grep -q "$1" "$STATE"; then cat "$STATE"; echo "FAIL: $2"; exit 1; fi; }
say_state() { echo "saved state ($1): $(grep -o 'rnnfx#\(model\|ir\|capture\)> [^ ;]*' "$STATE" | tr '\n' ' ')"; }
port_in_xml() { # port_in_xml VALUE: the session XML holds capture = VALUE
    grep -q "<Port symbol=\"capture\" value=\"$1\"/>" "$S/t.ardour" || {
        grep -n 'symbol="capture"' "$S/t.ardour"; echo "FAIL: the session XML does not hold capture = $1"; exit 1; }
}

# 1-2: capture 4 on a new session
rnnfx_ardour_new_session "$S" $RATE || exit 1
$PY tests/lv2_ardour_session.py "$S" t "$tmp/in.wav" - || exit 1
lua cap4 4
newest_state
has "rnnfx#capture> \"4\"^^xsd:int" "the saved state does not hold rnnfx:capture 4"
has "rnnfx#model> <[^>]*rnnfx-tube-amp.json>" "the saved state does not name the amp capture"
has "rnnfx#ir> <[^>]*rnnfx-cab-mesa.wav>" "the saved state does not name the cabinet"
port_in_xml 4
say_state "capture 4"
rnnfx_ardour_export "$S" $RATE "$tmp/ardour.wav" "$tmp/export1.log" || exit 1
same cab 0.3 "Ardour's render with capture 4 differs from rnnfx-process with the amp and cabinet"
differs amp "Ardour's render with capture 4 has no cabinet"
echo "capture 4: the amp capture through the bundled cabinet"

# 3: reopened, capture 2
lua cap2 2
newest_state
has "rnnfx#capture> \"2\"^^xsd:int" "the saved state does not hold rnnfx:capture 2"
has "rnnfx#model> <[^>]*rnnfx-ds1-drive.json>" "the saved state does not name the DS-1 capture"
hasnt "rnnfx#ir>" "the saved state keeps a cabinet after capture 2"
port_in_xml 2
say_state "capture 2"
rnnfx_ardour_export "$S" $RATE "$tmp/ardour.wav" "$tmp/export2.log" || exit 1
# no cabinet: what the capture made of the pre-roll has faded by 0.1 s
# (measured: 2e-5 at 7 ms, below 1e-6 from 50 ms on)
same ds1 0.1 "Ardour's render with capture 2 differs from rnnfx-process with the DS-1 capture"
differs cab "Ardour's render with capture 2 still plays capture 4"
echo "capture 2: the DS-1 capture, no cabinet"

# 5: a preset of an earlier version (a model in its state; no capture
# value, no rnnfx:capture key) loaded while the selector is at 2: its
# model plays and is saved; the plugin does not act on the selector again.
# (test_plugin_host's test_capture_selector_old_state fails on the plugin
# before restore() adopted the port's value; here, in Ardour, this step
# passed on that plugin too.)
mkdir -p "$tmp/lv2/old-preset.lv2"
cat > "$tmp/lv2/old-preset.lv2/manifest.ttl" <<TTL
@prefix lv2:   <http://lv2plug.in/ns/lv2core#> .
@prefix pset:  <http://lv2plug.in/ns/ext/presets#> .
@prefix rdfs:  <http://www.w3.org/2000/01/rdf-schema#> .
@prefix state: <http://lv2plug.in/ns/ext/state#> .
<urn:rnnfx-test:old-preset> a pset:Preset ;
	lv2:appliesTo <http://rnnfx.org/plugins/rnnfx#mono> ;
	rdfs:label "Old model preset" ;
	lv2:port [ lv2:symbol "output_gain" ; pset:value $GAIN.0 ] ;
	state:state [ <http://rnnfx.org/plugins/rnnfx#model> <file://$OTHER> ] .
TTL
lua old "" "Old model preset"
newest_state
has "other-capture.json>" "the preset's model file is not in the state saved after loading it"
port_in_xml 2
say_state "an earlier version's preset loaded at capture 2"
rnnfx_ardour_export "$S" $RATE "$tmp/ardour.wav" "$tmp/export-old.log" || exit 1
differs ds1 "Ardour's render plays the DS-1 capture: the selector was acted on again after the preset"
same other 0.1 "Ardour's render with the earlier version's preset differs from rnnfx-process with its model"
echo "an earlier version's preset loaded with the selector at 2 plays its own model"
rm -rf "$tmp/lv2/old-preset.lv2"

# 4: the state after a model file is chosen (patch:Set) with capture 2
# shown: capture 2's state with another model; Ardour opens it, saves it
# again (the controls as they are) and renders it
sed -i "s|\(rnnfx#model> <\)[^>]*>|\1$OTHER>|" "$STATE"
has "rnnfx#model> <$OTHER>" "could not write the chosen model file into the state"
lua other
newest_state
has "rnnfx#capture> \"2\"^^xsd:int" "the state saved again does not hold rnnfx:capture 2"
has "other-capture.json>" "the state saved again lost the chosen model file"
port_in_xml 2
say_state "a model file after capture 2, saved again"
rnnfx_ardour_export "$S" $RATE "$tmp/ardour.wav" "$tmp/export3.log" || exit 1
differs ds1 "Ardour's render plays the DS-1 capture: the selector was acted on again on reopening"
differs default "Ardour's render plays the built-in default capture: the chosen model file was not loaded"
same other 0.1 "Ardour's render differs from rnnfx-process with the chosen model file"
echo "a model file chosen after the selector stays: the selector is not acted on again"
exit 0

#!/bin/sh
# A bundled preset in a real DAW: headless Ardour 7 (its command-line tools
# on the "None (Dummy)" backend) adds the mono rnnfx plugin with the preset
# "Small tube amp + cabinet IR" (Ardour finds it in the bundle and applies
# it through LV2 State, resolving the preset's relative paths), saves the
# session and renders a test signal at 48 kHz. The render must equal
# rnnfx-process with the bundle's amp capture and cabinet file and the
# preset's output gain (-7 dB) within 1e-5, after 0.3 s: Ardour runs the
# plugin on silence before the region (pre-roll), and what the capture
# makes of it rings through the cabinet for its length (0.19 s). It must
# differ from the amp alone. Then the
# session's saved plugin state must name both bundle files, so it reopens
# with the same sound.
#
# Needs (Debian): ardour (7.x), python3-numpy. Skips (77) when missing.
# About 10 s.
BUILD=${BUILD:-build}
PY=/usr/bin/python3
. tests/support/ardour_env.sh
rnnfx_ardour_begin
RATE=48000
S="$tmp/session"

$PY tests/lv2_audio.py gen "$tmp/in.wav" 3 $RATE || exit 1
"$PROC" -q -m "$BUNDLE/rnnfx-tube-amp.json" --ir "$BUNDLE/rnnfx-cab-mesa.wav" --out-gain -7 --float \
    -o "$tmp/cab" "$tmp/in.wav" || exit 1
"$PROC" -q -m "$BUNDLE/rnnfx-tube-amp.json" --out-gain -7 --float -o "$tmp/bare" "$tmp/in.wav" || exit 1

rnnfx_ardour_new_session "$S" $RATE "Small tube amp + cabinet IR" || exit 1
STATE=$(grep -l "rnnfx#model" "$S"/plugins/*/*/state.ttl 2>/dev/null | head -1)
[ -f "$STATE" ] || { ls -R "$S/plugins" 2>&1 | head; echo "FAIL: Ardour saved no model in the plugin's state: the preset was not applied"; exit 1; }
for f in rnnfx-tube-amp.json rnnfx-cab-mesa.wav; do
    grep -q "$f" "$STATE" || { cat "$STATE"; echo "FAIL: the saved state does not name $f"; exit 1; }
done
echo "saved state: $(grep -o 'rnnfx#[a-z]*> <[^>]*>' "$STATE" | tr '\n' ' ')"
$PY tests/lv2_ardour_session.py "$S" t "$tmp/in.wav" - || exit 1

rnnfx_ardour_export "$S" $RATE "$tmp/ardour.wav" "$tmp/export.log" || exit 1
$PY tests/lv2_audio.py compare "$tmp/cab/in.wav" "$tmp/ardour.wav" 1e-5 0.3 || {
    echo "FAIL: Ardour's render with the preset differs from rnnfx-process --ir"; exit 1; }
if $PY tests/lv2_audio.py compare "$tmp/bare/in.wav" "$tmp/ardour.wav" 1e-3 0.3 >/dev/null; then
    echo "FAIL: Ardour's render has no cabinet"; exit 1
fi
echo "the preset plays the amp capture through the bundled cabinet in Ardour"
exit 0

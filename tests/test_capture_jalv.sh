#!/bin/sh
# The capture selector in jalv on a JACK server (dummy backend, paced in
# real time): a live host with the Worker and a real-time audio thread,
# where the selector is moved while the plugin plays.
#
# jalv starts the mono plugin from a state that sets only the output gain
# (-14 dB), so the built-in capture plays. Then, through jalv's console
# ("capture = N" on its standard input), the selector goes to 2 (DS-1
# style distortion) and later to 4 (the tube amp through the bundled
# cabinet). After each move a test signal is played through the plugin and
# its output recorded; at least 0.3 s of consecutive 0.1 s blocks must
# equal rnnfx-process with that capture's files, at -14 dB, within 1e-5
# (tests/support/jalv_env.sh). Each check was seen to fail against the
# other capture's reference.
#
# Needs (Debian): jalv, jackd2, jack-tools (jack-play/jack-record),
# python3-numpy. Skips (77) when they are missing. About 15 s.
BUILD=${BUILD:-build}
PY=/usr/bin/python3
. tests/support/jalv_env.sh
rnnfx_jalv_begin

cat > "$tmp/state/state.ttl" <<'TTL'
@prefix lv2:   <http://lv2plug.in/ns/lv2core#> .
@prefix pset:  <http://lv2plug.in/ns/ext/presets#> .

<>
	a pset:Preset ;
	lv2:appliesTo <http://rnnfx.org/plugins/rnnfx#mono> ;
	lv2:port [
		lv2:symbol "output_gain" ;
		pset:value -14.0
	] .
TTL

$PY tests/lv2_audio.py gen "$tmp/in.wav" 3 48000 || exit 1
"$PROC" -q -m "$B/rnnfx-ds1-drive.json" --knob 1=0.5 --out-gain -14 --float -o "$tmp/ds1" \
    "$tmp/in.wav" || exit 1
"$PROC" -q -m "$B/rnnfx-tube-amp.json" --ir "$B/rnnfx-cab-mesa.wav" --out-gain -14 --float \
    -o "$tmp/cab" "$tmp/in.wav" || exit 1

rnnfx_jalv_jackd rnnfx-capture-jalv-test
rnnfx_jalv_start rnnfxcap http://rnnfx.org/plugins/rnnfx#mono

for step in "2 ds1 DS-1" "4 cab amp-and-cabinet"; do
    set -- $step
    echo "capture = $1" >&3
    sleep 0.5 # a few periods: the selector acts in the next run()
    if rnnfx_jalv_play_matches rnnfxcap "$tmp/$2/in.wav"; then
        echo "jalv with capture $1 plays the $3 capture (rnnfx-process with its files)"
    else
        tail -5 "$tmp/jalv.log"
        echo "FAIL: jalv's output after 'capture = $1' does not match rnnfx-process with the $3 capture"
        exit 1
    fi
done
exit 0

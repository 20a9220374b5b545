#!/bin/sh
# The plugin in jalv, a real LV2 host, on a JACK server with the dummy
# backend (no sound card, paced in real time).
#
# jalv restores a state directory (-l) whose model path points at a copy of
# the bundled capture under another name and whose output gain is -6 dB: the
# plugin must load that model through State + Worker (its log line names
# it). jack-play then feeds a test signal into the plugin and jack-record
# records its output; after aligning the recording (real-time capture is not
# sample-aligned, and a busy machine may drop buffers), at least 0.3 s of
# consecutive 0.1 s blocks must equal rnnfx-process's output for the same
# model and settings within 1e-5 (chance cannot make 14400 samples match).
#
# Needs (Debian): jalv, jackd2, jack-tools (jack-play/jack-record),
# python3-numpy. Skips (77) when they are missing. About 10 s.
BUILD=${BUILD:-build}
PY=/usr/bin/python3
. tests/support/jalv_env.sh
rnnfx_jalv_begin

sed 's/"name": *"[^"]*"/"name": "jalv state test capture"/' "$B/rnnfx-default.json" > "$tmp/state/capture.json"
cat > "$tmp/state/state.ttl" <<'TTL'
@prefix lv2:   <http://lv2plug.in/ns/lv2core#> .
@prefix pset:  <http://lv2plug.in/ns/ext/presets#> .
@prefix state: <http://lv2plug.in/ns/ext/state#> .

<>
	a pset:Preset ;
	lv2:appliesTo <http://rnnfx.org/plugins/rnnfx#mono> ;
	lv2:port [
		lv2:symbol "output_gain" ;
		pset:value -6.0
	] ;
	state:state [
		<http://rnnfx.org/plugins/rnnfx#model> <capture.json>
	] .
TTL

$PY tests/lv2_audio.py gen "$tmp/in.wav" 3 48000 || exit 1
"$PROC" -q -m "$tmp/state/capture.json" --out-gain -6 --float -o "$tmp/batch" "$tmp/in.wav" || exit 1

rnnfx_jalv_jackd rnnfx-lv2-jalv-test
rnnfx_jalv_start rnnfxfx http://rnnfx.org/plugins/rnnfx#mono
if ! grep -q "loaded model 'jalv state test capture'" "$tmp/jalv.log"; then
    cat "$tmp/jalv.log"; echo "FAIL: jalv did not load the model named in the state directory"; exit 1
fi
echo "jalv: $(grep "loaded model 'jalv" "$tmp/jalv.log" | head -1 | cut -c1-120)..."

rnnfx_jalv_play_matches rnnfxfx "$tmp/batch/in.wav" && exit 0
echo "FAIL: jalv's output does not match rnnfx-process"
exit 1

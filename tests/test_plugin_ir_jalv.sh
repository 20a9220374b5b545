#!/bin/sh
# The cabinet impulse response in jalv, a real LV2 host, on a JACK server
# with the dummy backend (no sound card, paced in real time).
#
# jalv restores a state directory (-l) that names a model and a cabinet IR
# (rnnfx:ir, a 44.1 kHz decaying noise burst, so the plugin also converts
# its rate): the plugin must load both through State (its log names the
# cabinet with its length, source rate and channels). jack-play then feeds
# a test signal through the plugin and jack-record records its output; at
# least 0.3 s of consecutive 0.1 s blocks must equal rnnfx-process --ir's
# output for the same model, cabinet and settings within 1e-5 (chance
# cannot make 14400 samples match), and must differ from the output without
# the cabinet (so the cabinet was really applied).
#
# Needs (Debian): jalv, jackd2, jack-tools (jack-play/jack-record),
# python3-numpy. Skips (77) when they are missing. About 10 s.
BUILD=${BUILD:-build}
PY=/usr/bin/python3
. tests/support/jalv_env.sh
rnnfx_jalv_begin

cp "$B/rnnfx-default.json" "$tmp/state/capture.json"
# the cabinet: 2500 samples of decaying noise at 44.1 kHz, 32-bit float
$PY - "$tmp/state/cab.wav" <<'PY' || exit 1
import sys
import numpy as np
sys.path.insert(0, "tests")
import lv2_audio
n = np.arange(2500)
h = np.random.default_rng(3).uniform(-0.7, 0.7, n.size) * np.exp(-n / 500.0)
lv2_audio.write_wav(sys.argv[1], h, 44100)
PY
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
		<http://rnnfx.org/plugins/rnnfx#model> <capture.json> ;
		<http://rnnfx.org/plugins/rnnfx#ir> <cab.wav>
	] .
TTL

$PY tests/lv2_audio.py gen "$tmp/in.wav" 3 48000 || exit 1
"$PROC" -q -m "$tmp/state/capture.json" --ir "$tmp/state/cab.wav" --out-gain -6 --float \
    -o "$tmp/batch" "$tmp/in.wav" || exit 1
"$PROC" -q -m "$tmp/state/capture.json" --out-gain -6 --float -o "$tmp/bare" "$tmp/in.wav" || exit 1

rnnfx_jalv_jackd rnnfx-ir-jalv-test
rnnfx_jalv_start rnnfxir http://rnnfx.org/plugins/rnnfx#mono
if ! grep -q "loaded cabinet IR .*cab.wav: .* ms .*44100 Hz with 1 channel" "$tmp/jalv.log"; then
    cat "$tmp/jalv.log"; echo "FAIL: jalv did not load the cabinet named in the state directory"; exit 1
fi
echo "jalv: $(grep "loaded cabinet IR" "$tmp/jalv.log" | head -1 | sed 's/.*loaded/loaded/' | cut -c1-150)"

if rnnfx_jalv_play_matches rnnfxir "$tmp/batch/in.wav"; then
    # the cabinet was applied: the same recording does not match the output
    # without it
    if $PY tests/lv2_audio.py match "$tmp/bare/in.wav" "$tmp/rec.wav" 1e-5 0.3 >/dev/null 2>&1; then
        echo "FAIL: the recording also matches the output without the cabinet"
        exit 1
    fi
    echo "the recording does not match the output without the cabinet (as it must not)"
    exit 0
fi
echo "FAIL: jalv's output does not match rnnfx-process --ir"
exit 1

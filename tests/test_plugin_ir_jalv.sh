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
B="$BUILD/rnnfx.lv2"
PROC="$BUILD/bin/rnnfx-process"
PY=/usr/bin/python3
[ -f "$B/rnnfx.so" ] || { echo "bundle $B not built"; exit 1; }
[ -x "$PROC" ] || { echo "$PROC not built"; exit 1; }
for t in jalv jackd jack-play jack-record jack_lsp; do
    command -v $t >/dev/null 2>&1 || { echo "skip: $t not installed (apt-get install jalv jackd2 jack-tools)"; exit 77; }
done
$PY -c 'import numpy' 2>/dev/null || { echo "skip: python3-numpy not installed"; exit 77; }

tmp=$(mktemp -d)
JACKD=; JALV=
cleanup() {
    exec 3>&- 2>/dev/null
    [ -n "$JALV" ] && kill "$JALV" 2>/dev/null
    [ -n "$JACKD" ] && kill "$JACKD" 2>/dev/null
    wait 2>/dev/null
    [ -n "$KEEP" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/lv2" "$tmp/state"
ln -s "$(cd "$B" && pwd)" "$tmp/lv2/rnnfx.lv2"
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
cat > "$tmp/state/manifest.ttl" <<'TTL'
@prefix lv2:  <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<state.ttl> a pset:Preset ; lv2:appliesTo <http://rnnfx.org/plugins/rnnfx#mono> ; rdfs:seeAlso <state.ttl> .
TTL

$PY tests/lv2_audio.py gen "$tmp/in.wav" 3 48000 || exit 1
"$PROC" -q -m "$tmp/state/capture.json" --ir "$tmp/state/cab.wav" --out-gain -6 --float \
    -o "$tmp/batch" "$tmp/in.wav" || exit 1
"$PROC" -q -m "$tmp/state/capture.json" --out-gain -6 --float -o "$tmp/bare" "$tmp/in.wav" || exit 1

# One fixed server name per test (JACK's registry holds 8 servers and
# reclaims a dead one's slot only for the same name).
export JACK_DEFAULT_SERVER="rnnfx-ir-jalv-test"
start_jackd() {
    JACK_NO_AUDIO_RESERVATION=1 jackd --no-realtime -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 -p 1024 -C 2 -P 2 \
        >"$tmp/jackd.log" 2>&1 &
    JACKD=$!
    i=0
    until jack_lsp >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 50 ] || ! kill -0 $JACKD 2>/dev/null; then JACKD=; return 1; fi
        sleep 0.1
    done
    return 0
}
if ! start_jackd; then
    if grep -q "Too many servers" "$tmp/jackd.log"; then
        if ! pgrep -x jackd >/dev/null 2>&1 && ! pgrep -x jackdmp >/dev/null 2>&1; then
            echo "JACK's server registry is full of stale entries and no server runs: clearing it"
            rm -f /dev/shm/jack-shm-registry
            start_jackd || { cat "$tmp/jackd.log"; echo "FAIL: jackd did not start"; exit 1; }
        else
            echo "skip: JACK's server registry is full (8 servers registered, some running elsewhere)"
            exit 77
        fi
    else
        cat "$tmp/jackd.log"; echo "FAIL: jackd did not start"; exit 1
    fi
fi

# jalv's console needs stdin open: a fifo held open on fd 3
mkfifo "$tmp/stdin"
LV2_PATH="$tmp/lv2" jalv -n rnnfxir -l "$tmp/state" http://rnnfx.org/plugins/rnnfx#mono \
    <"$tmp/stdin" >"$tmp/jalv.log" 2>&1 &
JALV=$!
exec 3>"$tmp/stdin"
i=0
until jack_lsp 2>/dev/null | grep -q '^rnnfxir:out$'; do
    i=$((i + 1)); [ $i -gt 100 ] && { cat "$tmp/jalv.log"; echo "FAIL: jalv did not start"; exit 1; }
    sleep 0.1
done
sleep 0.5
if ! grep -q "loaded cabinet IR .*cab.wav: .* ms .*44100 Hz with 1 channel" "$tmp/jalv.log"; then
    cat "$tmp/jalv.log"; echo "FAIL: jalv did not load the cabinet named in the state directory"; exit 1
fi
echo "jalv: $(grep "loaded cabinet IR" "$tmp/jalv.log" | head -1 | sed 's/.*loaded/loaded/' | cut -c1-150)"

# Real time on a shared machine: a busy CPU can make jack-play or
# jack-record drop a buffer; each 0.1 s block is located on its own. Two
# attempts.
for attempt in 1 2; do
    rm -f "$tmp/rec.wav"
    jack-record -n 1 -p rnnfxir:out -t 5 "$tmp/rec.wav" >"$tmp/rec.log" 2>&1 &
    REC=$!
    sleep 0.3
    # -c 3: zero-order hold at ratio 1 passes samples unchanged
    JACK_PLAY_CONNECT_TO=rnnfxir:in jack-play -c 3 "$tmp/in.wav" >"$tmp/play.log" 2>&1
    wait $REC
    if $PY tests/lv2_audio.py match "$tmp/batch/in.wav" "$tmp/rec.wav" 1e-5 0.3; then
        # the cabinet was applied: the same recording does not match the
        # output without it
        if $PY tests/lv2_audio.py match "$tmp/bare/in.wav" "$tmp/rec.wav" 1e-5 0.3 >/dev/null 2>&1; then
            echo "FAIL: the recording also matches the output without the cabinet"
            exit 1
        fi
        echo "the recording does not match the output without the cabinet (as it must not)"
        exit 0
    fi
    echo "attempt $attempt: too few equal blocks (dropouts on a busy machine?)"
done
echo "FAIL: jalv's output does not match rnnfx-process --ir"
exit 1

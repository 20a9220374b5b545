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
cat > "$tmp/state/manifest.ttl" <<'TTL'
@prefix lv2:  <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<state.ttl> a pset:Preset ; lv2:appliesTo <http://rnnfx.org/plugins/rnnfx#mono> ; rdfs:seeAlso <state.ttl> .
TTL

$PY tests/lv2_audio.py gen "$tmp/in.wav" 3 48000 || exit 1
"$PROC" -q -m "$tmp/state/capture.json" --out-gain -6 --float -o "$tmp/batch" "$tmp/in.wav" || exit 1

# A fixed server name: JACK keeps at most 8 servers in its shared-memory
# registry and reclaims a dead server's slot only for the same name, so
# unique names would leak slots whenever a server dies without cleaning up.
export JACK_DEFAULT_SERVER="rnnfx-lv2-jalv-test"
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
        # Servers that died without unregistering fill JACK's 8-slot
        # registry. With no JACK server running at all, the registry holds
        # only stale entries and may be dropped (JACK recreates it).
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
LV2_PATH="$tmp/lv2" jalv -n rnnfxfx -l "$tmp/state" http://rnnfx.org/plugins/rnnfx#mono \
    <"$tmp/stdin" >"$tmp/jalv.log" 2>&1 &
JALV=$!
exec 3>"$tmp/stdin"
i=0
until jack_lsp 2>/dev/null | grep -q '^rnnfxfx:out$'; do
    i=$((i + 1)); [ $i -gt 100 ] && { cat "$tmp/jalv.log"; echo "FAIL: jalv did not start"; exit 1; }
    sleep 0.1
done
sleep 0.5
if ! grep -q "loaded model 'jalv state test capture'" "$tmp/jalv.log"; then
    cat "$tmp/jalv.log"; echo "FAIL: jalv did not load the model named in the state directory"; exit 1
fi
echo "jalv: $(grep "loaded model 'jalv" "$tmp/jalv.log" | head -1 | cut -c1-120)..."

# Real time on a shared machine: a busy CPU can make jack-play or
# jack-record drop a buffer, which shifts the rest of the recording; each
# 0.1 s block is therefore located on its own. Two attempts.
for attempt in 1 2; do
    rm -f "$tmp/rec.wav"
    jack-record -n 1 -p rnnfxfx:out -t 5 "$tmp/rec.wav" >"$tmp/rec.log" 2>&1 &
    REC=$!
    sleep 0.3
    # -c 3: zero-order hold at ratio 1 passes samples unchanged (the default
    # sinc converter would filter them)
    JACK_PLAY_CONNECT_TO=rnnfxfx:in jack-play -c 3 "$tmp/in.wav" >"$tmp/play.log" 2>&1
    wait $REC
    if $PY tests/lv2_audio.py match "$tmp/batch/in.wav" "$tmp/rec.wav" 1e-5 0.3; then
        exit 0
    fi
    echo "attempt $attempt: too few equal blocks (dropouts on a busy machine?)"
done
echo "FAIL: jalv's output does not match rnnfx-process"
exit 1

# Sourced by the tests that play the plugin in jalv on a JACK server with
# the dummy backend (tests/test_lv2_jalv.sh, tests/test_plugin_ir_jalv.sh).
# The caller sets BUILD and PY, and calls rnnfx_jalv_begin first: it
# checks what the test needs (skipping, 77, without jalv or JACK), makes
# $tmp with lv2/ (the built bundle) and state/ (for the caller's state.ttl),
# and sets the EXIT trap that stops jalv and jackd and removes $tmp ($KEEP
# keeps it).

rnnfx_jalv_cleanup() {
    exec 3>&- 2>/dev/null
    [ -n "$JALV" ] && kill "$JALV" 2>/dev/null
    [ -n "$JACKD" ] && kill "$JACKD" 2>/dev/null
    # jalv stopped together with its server can hang in its shutdown (seen
    # in tests/test_midi_jalv.sh, where it held up `make test`): KILL what
    # is left after 5 s
    ( sleep 5; for p in $JALV $JACKD; do kill -KILL "$p" 2>/dev/null; done ) >/dev/null 2>&1 &
    dog=$!
    for p in $JALV $JACKD; do wait "$p" 2>/dev/null; done
    kill "$dog" 2>/dev/null
    wait 2>/dev/null
    [ -n "$KEEP" ] && echo "kept $tmp" || rm -rf "$tmp"
}

rnnfx_jalv_begin() {
    B="$BUILD/rnnfx.lv2"
    PROC="$BUILD/bin/rnnfx-process"
    [ -f "$B/rnnfx.so" ] || { echo "bundle $B not built"; exit 1; }
    [ -x "$PROC" ] || { echo "$PROC not built"; exit 1; }
    for t in jalv jackd jack-play jack-record jack_lsp; do
        command -v $t >/dev/null 2>&1 ||
            { echo "skip: $t not installed (apt-get install jalv jackd2 jack-tools)"; exit 77; }
    done
    $PY -c 'import numpy' 2>/dev/null || { echo "skip: python3-numpy not installed"; exit 77; }
    tmp=$(mktemp -d)
    JACKD=; JALV=
    trap rnnfx_jalv_cleanup EXIT
    mkdir -p "$tmp/lv2" "$tmp/state"
    ln -s "$(cd "$B" && pwd)" "$tmp/lv2/rnnfx.lv2"
}

# Starts jackd (48 kHz, 1024-frame periods) as server $1. JACK keeps at most
# 8 servers in a shared-memory registry and reclaims a dead server's slot
# only for the same name, so each test uses one fixed name, and a registry
# full of stale entries is dropped when no server runs at all (JACK
# recreates it). Exits the test on failure.
rnnfx_jalv_jackd() {
    export JACK_DEFAULT_SERVER="$1"
    if ! rnnfx_jalv_try_jackd; then
        if grep -q "Too many servers" "$tmp/jackd.log"; then
            if ! pgrep -x jackd >/dev/null 2>&1 && ! pgrep -x jackdmp >/dev/null 2>&1; then
                echo "JACK's server registry is full of stale entries and no server runs: clearing it"
                rm -f /dev/shm/jack-shm-registry
                rnnfx_jalv_try_jackd || { cat "$tmp/jackd.log"; echo "FAIL: jackd did not start"; exit 1; }
            else
                echo "skip: JACK's server registry is full (8 servers registered, some running elsewhere)"
                exit 77
            fi
        else
            cat "$tmp/jackd.log"; echo "FAIL: jackd did not start"; exit 1
        fi
    fi
}

rnnfx_jalv_try_jackd() {
    JACK_NO_AUDIO_RESERVATION=1 jackd --no-realtime -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 \
        -p 1024 -C 2 -P 2 >"$tmp/jackd.log" 2>&1 &
    JACKD=$!
    i=0
    until timeout 2 jack_lsp >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 50 ] || ! kill -0 $JACKD 2>/dev/null; then JACKD=; return 1; fi
        sleep 0.1
    done
    return 0
}

# Starts jalv as JACK client $1 with the plugin $2, restoring $tmp/state
# (the caller writes its state.ttl; the manifest that makes it a preset of
# $2 is written here), and waits until its output port exists. jalv's
# console needs stdin open: a fifo held open on fd 3.
rnnfx_jalv_start() {
    cat > "$tmp/state/manifest.ttl" <<TTL
@prefix lv2:  <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<state.ttl> a pset:Preset ; lv2:appliesTo <$2> ; rdfs:seeAlso <state.ttl> .
TTL
    mkfifo "$tmp/stdin"
    LV2_PATH="$tmp/lv2" jalv -n "$1" -l "$tmp/state" "$2" <"$tmp/stdin" >"$tmp/jalv.log" 2>&1 &
    JALV=$!
    exec 3>"$tmp/stdin"
    i=0
    until timeout 2 jack_lsp 2>/dev/null | grep -q "^$1:out\$"; do
        i=$((i + 1)); [ $i -gt 100 ] && { cat "$tmp/jalv.log"; echo "FAIL: jalv did not start"; exit 1; }
        sleep 0.1
    done
    sleep 0.5
}

# Plays $tmp/in.wav through client $1 and records its output into
# $tmp/rec.wav; succeeds when at least 0.3 s of consecutive 0.1 s blocks
# equal the reference $2 within 1e-5. Real time on a shared machine: a busy
# CPU can make jack-play or jack-record drop a buffer, which shifts the
# rest of the recording, so each block is located on its own (lv2_audio.py
# match); two attempts. A JACK client the server drops (a missed deadline on
# a loaded machine) can wait forever for data, so jack-record and jack-play
# run under timeout(1). When every attempt stalled that way, the machine
# could not run the JACK tools and the output says nothing about the plugin:
# the test is skipped (77) with the server's log, not failed and not hung.
rnnfx_jalv_play_matches() {
    stalled=0
    for attempt in 1 2; do
        rm -f "$tmp/rec.wav"
        timeout -k 2 20 jack-record -n 1 -p "$1:out" -t 5 "$tmp/rec.wav" >"$tmp/rec.log" 2>&1 &
        REC=$!
        sleep 0.3
        # -c 3: zero-order hold at ratio 1 passes samples unchanged (the
        # default sinc converter would filter them)
        JACK_PLAY_CONNECT_TO="$1:in" timeout -k 2 30 jack-play -c 3 "$tmp/in.wav" >"$tmp/play.log" 2>&1
        play=$?
        wait $REC
        rec=$?
        if [ $play -eq 124 ] || [ $play -eq 137 ] || [ $rec -eq 124 ] || [ $rec -eq 137 ]; then
            stalled=$((stalled + 1))
            echo "attempt $attempt: jack-play or jack-record stalled (exit $play, $rec) and was stopped"
            continue
        fi
        $PY tests/lv2_audio.py match "$2" "$tmp/rec.wav" 1e-5 0.3 && return 0
        echo "attempt $attempt: too few equal blocks (dropouts on a busy machine?)"
    done
    if [ $stalled -eq 2 ]; then
        tail -5 "$tmp/jackd.log"
        echo "skip: the JACK tools stalled on this machine in both attempts; nothing was learnt about the plugin"
        exit 77
    fi
    return 1
}

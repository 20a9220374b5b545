# Sourced by the tests that start a JACK server (dummy backend).
#
# JACK keeps at most 8 servers in a shared-memory registry and reclaims a
# dead server's slot only for the same name, so servers that died without
# cleaning up (a killed test run, a machine shared by many runs) fill it and
# the next jackd fails with "Too many servers already active". Each test
# therefore uses one fixed server name, and when no JACK server runs at all
# every registry entry is stale and the registry can go.
rnnfx_jack_clear_stale() {
    if ! pgrep -x jackd >/dev/null 2>&1 && ! pgrep -x jackdmp >/dev/null 2>&1; then
        rm -f /dev/shm/jack-shm-registry 2>/dev/null
        rm -f /dev/shm/jack_sem.* 2>/dev/null
    fi
}

# Starts a dummy-backend server named $1 (rate $2, period $3; $4: extra
# jackd options such as --no-realtime, unquoted on purpose; log into $5) in
# the background, sets JACKPID, and points this shell's JACK clients at it
# without letting them start a server of their own.
rnnfx_jack_start() {
    JACK_NO_AUDIO_RESERVATION=1 jackd $4 -n "$1" -d dummy -r "$2" -p "$3" -C 2 -P 2 >"$5" 2>&1 &
    JACKPID=$!
    export JACK_DEFAULT_SERVER="$1"
    export JACK_NO_START_SERVER=1
}

# Waits up to 5 s until rnnfx-live ($1) lists the JACK host API; fails if it
# never does.
rnnfx_jack_wait_live() {
    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        "$1" --list 2>/dev/null | grep -q "JACK" && return 0
        sleep 0.25
    done
    return 1
}

# Stops the server rnnfx_jack_start started (if any) and removes $TMP: the
# EXIT trap of the tests that use both.
rnnfx_jack_cleanup() {
    if [ -n "${JACKPID:-}" ]; then
        kill "$JACKPID" 2>/dev/null
        wait "$JACKPID" 2>/dev/null
    fi
    rm -rf "$TMP"
}

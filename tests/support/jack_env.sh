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

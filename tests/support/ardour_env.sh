# Sourced by the tests that render the plugin in headless Ardour 7
# (tests/test_lv2_ardour.sh, tests/test_plugin_ir_ardour.sh): its
# command-line tools on the "None (Dummy)" backend, no sound card, JACK or
# display. The caller sets BUILD and PY and calls rnnfx_ardour_begin first:
# it checks what the test needs (skipping, 77, without Ardour or numpy),
# makes $tmp (removed at exit unless $KEEP is set) with lv2/ holding the
# built bundle, and sets BUNDLE, PROC and LV2_PATH.

rnnfx_ardour_begin() {
    B="$BUILD/rnnfx.lv2"
    PROC="$BUILD/bin/rnnfx-process"
    [ -f "$B/rnnfx.so" ] || { echo "bundle $B not built"; exit 1; }
    [ -x "$PROC" ] || { echo "$PROC not built"; exit 1; }
    for t in ardour7-new_session ardour7-lua ardour7-export; do
        command -v $t >/dev/null 2>&1 || { echo "skip: $t not installed (apt-get install ardour)"; exit 77; }
    done
    $PY -c 'import numpy' 2>/dev/null || { echo "skip: python3-numpy not installed"; exit 77; }
    tmp=$(mktemp -d)
    trap '[ -n "$KEEP" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/lv2"
    BUNDLE=$(cd "$B" && pwd)
    ln -s "$BUNDLE" "$tmp/lv2/rnnfx.lv2"
    export LV2_PATH="$tmp/lv2"
}

# A new session $1 (snapshot "t") at rate $2 with one mono audio track
# "fx" whose first processor is the mono rnnfx plugin, saved; with $3, the
# plugin starts from the bundled preset of that label, loaded by Ardour.
# Returns 1 (having said why) on failure.
rnnfx_ardour_new_session() {
    ardour7-new_session -m 1 -s "$2" "$1" t >"$tmp/new.log" 2>&1 ||
        { cat "$tmp/new.log"; echo "FAIL: ardour7-new_session"; return 1; }
    cat > "$tmp/make.lua" <<LUA
AudioEngine:set_backend("None (Dummy)", "", "")
AudioEngine:start(false)
local s = load_session("$1", "t")
assert(s, "cannot load the session")
local tl = s:new_audio_track(1, 1, nil, 1, "fx", ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
local p = ARDOUR.LuaAPI.new_plugin(s, "http://rnnfx.org/plugins/rnnfx#mono", ARDOUR.PluginType.LV2, "${3:-}")
assert(not p:isnil(), "rnnfx plugin not found")
tl:front():add_processor_by_index(p, 0, nil, true)
s:save_state("", false, false, false, false, false)
close_session()
print("rnnfx-session-ok")
LUA
    timeout 120 ardour7-lua "$tmp/make.lua" </dev/null >"$tmp/lua.log" 2>&1
    grep -q rnnfx-session-ok "$tmp/lua.log" || { tail -20 "$tmp/lua.log"; echo "FAIL: Lua session setup"; return 1; }
}

# Exports session $1 (rate $2) as 32-bit float into $3, log in $4. One
# export in a few aborts at teardown and leaves an empty file, so it is
# retried up to 3 times; a session Ardour cannot fully load makes it wait
# for a user, so each try times out. Returns 1 (having said why) when no
# try gave audio. Says nothing about what the plugin logged.
rnnfx_ardour_render() {
    for attempt in 1 2 3; do
        rm -f "$3"
        timeout 120 ardour7-export -b float -o "$3" "$1" t </dev/null >"$4" 2>&1
        frames=$($PY tests/lv2_audio.py frames "$3" 2>/dev/null || echo 0)
        [ "${frames:-0}" -gt $(($2 * 2)) ] && return 0
        echo "export attempt $attempt gave no audio; retrying"
    done
    tail -20 "$4"
    echo "FAIL: ardour7-export produced no audio (load the session with ardour7-lua to see why)"
    return 1
}

# rnnfx_ardour_render, and also returns 1 when the plugin logged a warning
# or an error.
rnnfx_ardour_export() {
    rnnfx_ardour_render "$@" || return 1
    grep "^rnnfx:" "$4" | grep -i "warning\|error\|cannot" && { echo "FAIL: the plugin complained"; return 1; }
    return 0
}

#!/bin/sh
# The built rnnfx.lv2 in Audacity (Debian 12: 3.2.4), driven headless: a
# private Xvfb display, a private HOME and XDG configuration (nothing of the
# user's settings is read or written), mod-script-pipe enabled in that
# configuration, and LV2_PATH holding only this bundle besides the system
# directories Audacity always adds. Audacity scans and registers new plugins
# by itself at start (in a separate process that instantiates each one), so
# the test only has to start it. Through the scripting pipes it imports a
# mono and a stereo 48 kHz float WAV, applies "Rnnfx(mono)" and
# "Rnnfx(stereo)" and exports 32-bit float WAV: both must equal, sample for
# sample, what rnnfx-process gives with the bundle's rnnfx-default.json.
# The effects must sit in the Effect menu under "rnnfx" (the TTL's
# doap:maintainer; without one Audacity files them under "n/a"), and the
# plugin's log lines must reach Audacity's log whole (Audacity formats LV2
# log messages wrongly: see plugin/lv2_features.h).
#
# Then it applies the factory preset "Small tube amp + cabinet IR" to the
# mono file. Audacity 3.2.4 lists the bundle's presets and applies their
# control values, but never restores a preset's state (the model and the
# cabinet IR): not by script, and not from the effect dialog either
# (checked by hand: Presets & settings > Factory Presets, then Apply, gave
# the same output). The preset's capture selector value (a control port)
# picks the same model and cabinet, so the result must be the full preset:
# rnnfx-process with the amp model, the IR and -7 dB, from the first
# sample. Were only the gain applied (the default model at -7 dB, as
# before the selector existed), the test says so and fails.
#
# Audacity is only run from an empty directory: 3.2.4 appends the relative
# path "lv2" to LV2_PATH, and a directory of that name in its working
# directory crashes it at start (lilv gets a null bundle URI).
#
# Needs: audacity (with /usr/lib/audacity/modules/mod-script-pipe.so), Xvfb
# (xvfb), python3-numpy; skipped (77) without them, or when an Audacity of
# this user is already running (the script pipes are per user). Every
# process it starts is ended on exit, also on failure.
BUILD=${BUILD:-build}
B="$BUILD/rnnfx.lv2"
PY=/usr/bin/python3
MODULE=/usr/lib/audacity/modules/mod-script-pipe.so
[ -f "$B/rnnfx.so" ] || { echo "bundle $B not built"; exit 1; }
[ -x "$BUILD/bin/rnnfx-process" ] || { echo "$BUILD/bin/rnnfx-process not built"; exit 1; }
command -v audacity >/dev/null 2>&1 || { echo "skip: audacity not installed (apt-get install audacity)"; exit 77; }
command -v Xvfb >/dev/null 2>&1 || { echo "skip: Xvfb not installed (apt-get install xvfb)"; exit 77; }
[ -f "$MODULE" ] || { echo "skip: $MODULE not found (Audacity without mod-script-pipe)"; exit 77; }
$PY -c 'import numpy' 2>/dev/null || { echo "skip: python3-numpy not installed"; exit 77; }

uid=$(id -u)
PIPES="/tmp/audacity_script_pipe.to.$uid /tmp/audacity_script_pipe.from.$uid"
# one run at a time per user (the pipes' names are fixed)
if command -v flock >/dev/null 2>&1; then
    exec 9>"/tmp/rnnfx-test-audacity.$uid.lock"
    flock -w 150 9 || { echo "FAIL: another run of this test holds the lock for 150 s"; exit 1; }
fi
# running processes named audacity that belong to this user
user_audacity() {
    for d in /proc/[0-9]*; do
        [ -O "$d" ] && [ "$(cat "$d/comm" 2>/dev/null)" = audacity ] && echo "${d#/proc/}"
    done
}
if [ -n "$(user_audacity)" ]; then
    echo "skip: an Audacity of this user is running (pid $(user_audacity | tr '\n' ' ')); it owns the script pipes"
    exit 77
fi

tmp=$(mktemp -d)
xpid= apid= spid= keys=
# the processes started with this run's marker in their environment:
# Audacity and the plugin-scanning processes it starts
ours() {
    for d in /proc/[0-9]*; do
        [ -O "$d" ] && tr '\0' '\n' 2>/dev/null <"$d/environ" |
            grep -qx "RNNFX_AUDACITY_TEST=$tmp" && echo "${d#/proc/}"
    done
}
cleanup() {
    [ -n "$spid" ] && kill "$spid" 2>/dev/null
    for sig in TERM KILL; do
        pids=$(ours)
        [ -n "$pids" ] || break
        kill -s $sig $pids 2>/dev/null
        i=0
        while [ $i -lt 30 ] && [ -n "$(ours)" ]; do sleep 0.1; i=$((i + 1)); done
    done
    [ -n "$apid" ] && wait "$apid" 2>/dev/null
    if [ -n "$xpid" ]; then
        kill "$xpid" 2>/dev/null
        i=0
        while [ $i -lt 30 ] && kill -0 "$xpid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
        kill -s KILL "$xpid" 2>/dev/null
        wait "$xpid" 2>/dev/null
    fi
    # what Audacity leaves behind: its pipes (it was the only Audacity of
    # this user) and its single-instance IPC objects (only those that did
    # not exist before it started)
    [ -n "$apid" ] && rm -f $PIPES
    for k in $keys; do
        ipcrm -M "$k" 2>/dev/null
        ipcrm -S "$k" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

$PY tests/lv2_audio.py gen "$tmp/mono.wav" 2 48000 || exit 1
$PY tests/lv2_audio.py gen-stereo "$tmp/stereo.wav" 2 48000 || exit 1
"$BUILD/bin/rnnfx-process" -q -m "$B/rnnfx-default.json" --float -o "$tmp/ref" \
    "$tmp/mono.wav" "$tmp/stereo.wav" || exit 1
"$BUILD/bin/rnnfx-process" -q -m "$B/rnnfx-tube-amp.json" --ir "$B/rnnfx-cab-mesa.wav" \
    --out-gain -7 --float -o "$tmp/ref-cab" "$tmp/mono.wav" || exit 1
"$BUILD/bin/rnnfx-process" -q -m "$B/rnnfx-default.json" --out-gain -7 --float \
    -o "$tmp/ref-gain" "$tmp/mono.wav" || exit 1

# Audacity's world: only this bundle (in a directory not named lv2), its
# settings, data, cache and temporary files under $tmp
mkdir -p "$tmp/bundles" "$tmp/home" "$tmp/config/audacity" "$tmp/data/audacity" \
    "$tmp/cache" "$tmp/state" "$tmp/temp" "$tmp/run" || exit 1
ln -s "$(cd "$B" && pwd)" "$tmp/bundles/rnnfx.lv2"
# mod-script-pipe loads without asking only when its path and modification
# time (ISO, local time: TZ is UTC for Audacity) match what the settings
# hold; the version keeps Audacity from resetting settings as an upgrade
# would; export as 32-bit float WAV (SF_FORMAT_WAV 0x10000, SF_FORMAT_FLOAT 6)
cat >"$tmp/config/audacity/audacity.cfg" <<EOF || exit 1
[Version]
Major=3
Minor=2
Micro=4
[GUI]
ShowSplashScreen=0
[Directories]
TempDir=$tmp/temp
[SamplingRate]
DefaultProjectSampleRate=48000
[FileFormats/ExportFormat_SF1_Type]
WAV_10000=6
[Module]
mod-script-pipe=1
[ModulePath]
mod-script-pipe=$MODULE
[ModuleDateTime]
mod-script-pipe=$(TZ=UTC date -r "$MODULE" +%Y-%m-%dT%H:%M:%S)
EOF
if command -v ipcs >/dev/null 2>&1 && command -v ipcrm >/dev/null 2>&1; then
    for k in $($PY tests/lv2_audacity.py ipc-keys "$tmp/data/audacity"); do
        ipcs -m -s | grep -qi "^$k " || keys="$keys $k"
    done
fi

start=$(date +%s)
Xvfb -displayfd 8 -screen 0 1280x1024x24 -nolisten tcp 8>"$tmp/display" 2>"$tmp/xvfb.log" &
xpid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '[0-9]' "$tmp/display" 2>/dev/null; do
    kill -0 "$xpid" 2>/dev/null || break
    sleep 0.1; i=$((i + 1))
done
grep -q '[0-9]' "$tmp/display" || { echo "FAIL: Xvfb did not start:"; cat "$tmp/xvfb.log"; exit 1; }

rm -f $PIPES
(
    cd "$tmp/run" || exit 1
    exec env RNNFX_AUDACITY_TEST="$tmp" DISPLAY=":$(head -1 "$tmp/display")" TZ=UTC \
        HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" \
        XDG_CACHE_HOME="$tmp/cache" XDG_STATE_HOME="$tmp/state" LV2_PATH="$tmp/bundles" \
        NO_AT_BRIDGE=1 audacity
) >"$tmp/audacity.log" 2>&1 &
apid=$!

session() {
    $PY tests/lv2_audacity.py run 90 \
        "GetInfo: Type=Commands Format=Brief" \
        "Import2: Filename=$tmp/mono.wav" "SelectAll:" "Rnnfx(mono):" \
        "Export2: Filename=$tmp/aud-mono.wav NumChannels=1" \
        "SelectAll:" "RemoveTracks:" \
        "Import2: Filename=$tmp/stereo.wav" "SelectAll:" "Rnnfx(stereo):" \
        "Export2: Filename=$tmp/aud-stereo.wav NumChannels=2" \
        "SelectAll:" "RemoveTracks:" \
        "Import2: Filename=$tmp/mono.wav" "SelectAll:" \
        "Rnnfx(mono): Use_Preset=\"Factory Preset:Small tube amp + cabinet IR\"" \
        "Export2: Filename=$tmp/aud-preset.wav NumChannels=1" \
        "GetInfo: Type=Menus Format=Brief" "SaveLog: Filename=$tmp/audacity-log.txt"
}
# in the background, so that a signal ends the test at once (the shell runs
# its traps during wait, not while a foreground command runs)
session >"$tmp/session.log" 2>&1 &
spid=$!
if ! wait $spid; then
    echo "FAIL: the Audacity session failed:"
    tail -25 "$tmp/session.log"
    if ! grep -q '"Rnnfx(mono)"' "$tmp/session.log"; then
        echo "(the plugin is not among Audacity's commands; its registry entry:)"
        grep -B2 -A8 'rnnfx#mono' "$tmp/config/audacity/pluginregistry.cfg" 2>/dev/null | head -20
    fi
    kill -0 "$apid" 2>/dev/null || { echo "(Audacity is not running; its output:)"; tail -20 "$tmp/audacity.log"; }
    exit 1
fi
echo "Audacity lists the effects as $(grep -o '"Rnnfx([a-z]*)"' "$tmp/session.log" | tr '\n' ' ')" \
    "(session: $(($(date +%s) - start)) s including start-up and plugin scan)"

fail=0
# the Effect menu's submenu that holds the mono plugin (menu lines: depth,
# flags, "label"...)
submenu=$(awk '/^ *1 1 "/ { sub(/^ *1 1 "/, ""); sub(/".*/, ""); sub_name = $0 }
    /"rnnfx \(mono\)\.\.\."/ { print sub_name; exit }' "$tmp/session.log")
if [ "$submenu" = rnnfx ]; then
    echo "Audacity's Effect menu: rnnfx > rnnfx (mono)..., rnnfx (stereo)..."
else
    echo "FAIL: Audacity lists rnnfx (mono) under '$submenu', not 'rnnfx'"; fail=1
fi
# the plugin's log line, whole (Audacity drops the final newline); and which
# model files were loaded in the whole session
for p in mono stereo; do
    if grep -q "rnnfx ($p): rnnfx: loaded model '.*; file $tmp/bundles/rnnfx.lv2/rnnfx-default.json\$" \
        "$tmp/audacity-log.txt"; then
        echo "Audacity's log has the $p plugin's model line whole"
    else
        echo "FAIL: Audacity's log lacks the $p plugin's model line:"
        grep 'rnnfx' "$tmp/audacity-log.txt" | head -5; fail=1
    fi
done
loaded=$(grep -o 'loaded model .*; file .*' "$tmp/audacity-log.txt" | sed 's/.*; file //' | sort | uniq -c)
# check NAME GOT.wav REF.wav CHANNELS
. tests/support/audio_check.sh
check "Audacity Rnnfx(mono)" "$tmp/aud-mono.wav" "$tmp/ref/mono.wav" 1
check "Audacity Rnnfx(stereo)" "$tmp/aud-stereo.wav" "$tmp/ref/stereo.wav" 2

printf 'preset against the amp model + cabinet at -7 dB: '
if $PY tests/lv2_audio.py compare "$tmp/ref-cab/mono.wav" "$tmp/aud-preset.wav" 0 0 0; then
    echo "Audacity applied the preset 'Small tube amp + cabinet IR' with its model and cabinet" \
        "(through the capture selector)"
else
    fail=1
    printf 'preset against the default model at -7 dB: '
    if $PY tests/lv2_audio.py compare "$tmp/ref-gain/mono.wav" "$tmp/aud-preset.wav" 0 0 0; then
        echo "FAIL: Audacity applied the preset's output gain but the capture selector did not" \
            "act (models loaded in the session:" $loaded")"
    else
        echo "FAIL: Audacity with the preset 'Small tube amp + cabinet IR' gave neither"
    fi
fi
exit $fail

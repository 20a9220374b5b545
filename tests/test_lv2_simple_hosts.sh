#!/bin/sh
# The built rnnfx.lv2 in four third-party command-line hosts that connect
# audio and control ports only and offer few or no LV2 features: lv2apply
# (lilv-utils: no features at all, and run() one frame per call), lv2file
# (urid:map and options, then a feature entry with no URI; presets through
# the State interface), ecasound (no features) and GStreamer's lv2 elements
# (urid:map). In each, the mono and the stereo plugin must play the
# built-in capture and give, sample for sample, what rnnfx-process gives
# with the same model file (and lv2file a bundled preset, model and cabinet
# IR): the plugin runs without the features it lists as optional, and its
# atom ports are connectionOptional.
# Needs: lv2apply (lilv-utils), lv2file, ecasound, gst-launch-1.0
# (gstreamer1.0-tools, gstreamer1.0-plugins-bad); a host that is missing is
# skipped, all missing skips the test.
BUILD=${BUILD:-build}
B="$BUILD/rnnfx.lv2"
PY=/usr/bin/python3
MONO=http://rnnfx.org/plugins/rnnfx#mono
STEREO=http://rnnfx.org/plugins/rnnfx#stereo
[ -f "$B/rnnfx.so" ] || { echo "bundle $B not built"; exit 1; }
[ -x "$BUILD/bin/rnnfx-process" ] || { echo "$BUILD/bin/rnnfx-process not built"; exit 1; }
$PY -c 'import numpy' 2>/dev/null || { echo "skip: python3-numpy not installed"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/lv2"
ln -s "$(cd "$B" && pwd)" "$tmp/lv2/rnnfx.lv2"
# only this bundle, and a GStreamer registry of this run's own (a cached
# one could describe an older build of the plugin)
export LV2_PATH="$tmp/lv2" GST_REGISTRY="$tmp/gst-registry.bin"

$PY tests/lv2_audio.py gen "$tmp/mono.wav" 2 48000 || exit 1
$PY tests/lv2_audio.py gen-stereo "$tmp/stereo.wav" 2 48000 || exit 1
"$BUILD/bin/rnnfx-process" -q -m "$B/rnnfx-default.json" --float -o "$tmp/ref" \
    "$tmp/mono.wav" "$tmp/stereo.wav" || exit 1

fail=0 ran=0
# check NAME GOT.wav REF.wav CHANNELS
. tests/support/audio_check.sh
# the plugin (whose messages start with "rnnfx") must have said nothing but
# that it loaded its model; what the hosts print is theirs
quiet() {
    if grep '^rnnfx' "$2" | grep -v '^rnnfx: loaded model' | grep -q .; then
        echo "FAIL: $1 printed:"; head -20 "$2"; fail=1
    fi
}

if command -v lv2apply >/dev/null 2>&1; then
    ran=1
    for p in mono stereo; do
        uri=$MONO; [ $p = stereo ] && uri=$STEREO
        lv2apply -i "$tmp/$p.wav" -o "$tmp/apply-$p.wav" "$uri" 2>"$tmp/log" ||
            { echo "FAIL: lv2apply $p exited $?"; cat "$tmp/log"; fail=1; continue; }
        quiet "lv2apply $p" "$tmp/log"
        check "lv2apply $p" "$tmp/apply-$p.wav" "$tmp/ref/$p.wav" $([ $p = stereo ] && echo 2 || echo 1)
    done
    # the capture selector: a bundled capture without a file chooser, from
    # the first sample (lv2apply runs one frame per call)
    "$BUILD/bin/rnnfx-process" -q -m "$B/rnnfx-ds1-drive.json" --knob 1=0.5 --float \
        -o "$tmp/ref-ds1" "$tmp/stereo.wav" || exit 1
    lv2apply -c capture 2 -i "$tmp/stereo.wav" -o "$tmp/apply-ds1.wav" "$STEREO" 2>"$tmp/log" ||
        { echo "FAIL: lv2apply -c capture 2 exited $?"; cat "$tmp/log"; fail=1; }
    quiet "lv2apply -c capture 2" "$tmp/log"
    check "lv2apply stereo, capture 2 (DS-1)" "$tmp/apply-ds1.wav" "$tmp/ref-ds1/stereo.wav" 2
    # the featureless path (the plugin's own URID table, unconnected atom
    # ports) under valgrind: no invalid access, no leak
    if command -v valgrind >/dev/null 2>&1; then
        $PY tests/lv2_audio.py gen-stereo "$tmp/short.wav" 0.2 48000 || exit 1
        if valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
            lv2apply -c capture 4 -i "$tmp/short.wav" -o "$tmp/vg.wav" "$STEREO" >"$tmp/log" 2>&1; then
            echo "lv2apply stereo, capture 4 (amp + cabinet) under valgrind: no errors"
        else
            echo "FAIL: lv2apply stereo under valgrind:"; grep -v '^rnnfx: loaded' "$tmp/log" | head -30; fail=1
        fi
    fi
else
    echo "skip lv2apply: not installed (apt-get install lilv-utils)"
fi

if command -v lv2file >/dev/null 2>&1; then
    ran=1
    # lv2file offers urid:map and options, and then an entry with no URI
    # (which crashed the plugin's feature lookup); it also applies presets,
    # through the State interface
    lv2file -i "$tmp/stereo.wav" -o "$tmp/lv2file-stereo.wav" "$STEREO" >"$tmp/log" 2>&1 ||
        { echo "FAIL: lv2file exited $?"; cat "$tmp/log"; fail=1; }
    quiet "lv2file stereo" "$tmp/log"
    check "lv2file stereo" "$tmp/lv2file-stereo.wav" "$tmp/ref/stereo.wav" 2
    "$BUILD/bin/rnnfx-process" -q -m "$B/rnnfx-tube-amp.json" --ir "$B/rnnfx-cab-mesa.wav" \
        --out-gain -7 --float -o "$tmp/ref-cab" "$tmp/mono.wav" || exit 1
    lv2file -P "Small tube amp + cabinet IR" -i "$tmp/mono.wav" -o "$tmp/lv2file-cab.wav" "$MONO" \
        >"$tmp/log" 2>&1 || { echo "FAIL: lv2file with a preset exited $?"; cat "$tmp/log"; fail=1; }
    check "lv2file mono, preset 'Small tube amp + cabinet IR'" "$tmp/lv2file-cab.wav" \
        "$tmp/ref-cab/mono.wav" 1
else
    echo "skip lv2file: not installed (apt-get install lv2file)"
fi

if command -v ecasound >/dev/null 2>&1; then
    ran=1
    # ecasound sets every parameter not given on its command line to 0 (not
    # to the TTL default): input gain 0 dB, output gain 0 dB, mix 1, enabled 1
    for p in mono stereo; do
        uri=$MONO n=1; [ $p = stereo ] && uri=$STEREO n=2
        ecasound -q -f:f32_le,$n,48000 -i "$tmp/$p.wav" -o "$tmp/eca-$p.wav" \
            "-elv2:$uri,0,0,1,1" >"$tmp/log" 2>&1 ||
            { echo "FAIL: ecasound $p exited $?"; cat "$tmp/log"; fail=1; continue; }
        quiet "ecasound $p" "$tmp/log"
        check "ecasound $p" "$tmp/eca-$p.wav" "$tmp/ref/$p.wav" $n
    done
    # ecasound's parameters are every control port in index order, the
    # outputs (latency and the two peaks) too, so the capture selector is
    # the 12th: the amp with its cabinet (14 dB down: ecasound clips at
    # full scale)
    "$BUILD/bin/rnnfx-process" -q -m "$B/rnnfx-tube-amp.json" --ir "$B/rnnfx-cab-mesa.wav" \
        --out-gain -14 --float -o "$tmp/ref-amp-cab" "$tmp/mono.wav" || exit 1
    ecasound -q -f:f32_le,1,48000 -i "$tmp/mono.wav" -o "$tmp/eca-cab.wav" \
        "-elv2:$MONO,0,-14,1,1,0.5,0.5,0.5,0.5,0,0,0,4" >"$tmp/log" 2>&1 ||
        { echo "FAIL: ecasound with capture 4 exited $?"; cat "$tmp/log"; fail=1; }
    quiet "ecasound capture 4" "$tmp/log"
    check "ecasound mono, capture 4 (amp + cabinet)" "$tmp/eca-cab.wav" "$tmp/ref-amp-cab/mono.wav" 1
else
    echo "skip ecasound: not installed (apt-get install ecasound)"
fi

if command -v gst-launch-1.0 >/dev/null 2>&1 &&
    gst-inspect-1.0 rnnfx-org-plugins-rnnfx-mono >/dev/null 2>&1; then
    ran=1
    # the element's properties keep the TTL defaults (none is set here)
    for p in mono stereo; do
        gst-launch-1.0 -q filesrc location="$tmp/$p.wav" ! wavparse ! audioconvert ! \
            "rnnfx-org-plugins-rnnfx-$p" ! audioconvert ! audio/x-raw,format=F32LE ! wavenc ! \
            filesink location="$tmp/gst-$p.wav" >"$tmp/log" 2>&1 ||
            { echo "FAIL: gst-launch-1.0 $p exited $?"; cat "$tmp/log"; fail=1; continue; }
        quiet "GStreamer $p" "$tmp/log"
        check "GStreamer $p" "$tmp/gst-$p.wav" "$tmp/ref/$p.wav" $([ $p = stereo ] && echo 2 || echo 1)
    done
else
    echo "skip GStreamer: gst-launch-1.0 or its lv2 elements not installed" \
        "(apt-get install gstreamer1.0-tools gstreamer1.0-plugins-bad)"
fi

[ $ran = 1 ] || { echo "skip: none of lv2apply, lv2file, ecasound, GStreamer is installed"; exit 77; }
exit $fail

#!/bin/sh
# demo.sh — the whole capture loop on built-in material (`make demo`).
#
#   1. renders a dry guitar part (rnnfx-pluck: plucked-string DI, 2.5 min,
#      plus a separate 20 s "song" to process afterwards);
#   2. makes the wet side with a real effect: the guitarix Boss DS-1 LV2
#      plugin (guitarix-lv2) run through lv2file or lv2apply; else ZamTube
#      (zam-plugins, through lv2file); else the reference overdrive written
#      here (rnnfx-pluck --overdrive);
#   3. trains a capture for DEMO_MINUTES (default 2) minutes;
#   4. processes the song with the capture (rnnfx-process), and with the
#      real effect for comparison;
#   5. installs the plugin, the tools and the capture's preset (make install;
#      ~/.lv2 and ~/.local/bin unless PREFIX is set);
#   6. prints where everything is and how good the capture is.
#
# Environment: BUILD (build dir, default build), DEMO_DIR (output folder,
# default $BUILD/demo), DEMO_MINUTES, DEMO_INSTALL=0 to skip installing.
set -eu
BUILD=${BUILD:-build}
BIN=$BUILD/bin
OUT=${DEMO_DIR:-$BUILD/demo}
MINUTES=${DEMO_MINUTES:-2}
MAKE=${MAKE:-make}

say() { printf '\n== %s\n' "$*"; }
for t in rnnfx-pluck rnnfx-train; do
    [ -x "$BIN/$t" ] || { echo "demo: $BIN/$t is missing: run 'make' first" >&2; exit 1; }
done
mkdir -p "$OUT"

say "1. dry material: a plucked-string guitar part (rnnfx-pluck)"
"$BIN/rnnfx-pluck" -o "$OUT/dry.wav" --seconds 150 --seed 1
"$BIN/rnnfx-pluck" -o "$OUT/song.wav" --seconds 20 --seed 2
echo "   $OUT/dry.wav (150 s, for training), $OUT/song.wav (20 s, never seen in training)"

say "2. wet side: a real effect"
DS1=http://guitarix.sourceforge.net/plugins/gx_bossds1_#_bossds1_
ZAMTUBE=urn:zamaudio:ZamTube
effect=""
render() { # uri, in, out, [symbol value]
    uri=$1 in=$2 out=$3
    shift 3
    if command -v lv2file > /dev/null 2>&1; then
        args=""
        while [ $# -ge 2 ]; do args="$args -p $1:$2"; shift 2; done
        # shellcheck disable=SC2086
        lv2file -i "$in" -o "$out" $args "$uri" > "$OUT/render.log" 2>&1
    else
        args=""
        while [ $# -ge 2 ]; do args="$args -c $1 $2"; shift 2; done
        # shellcheck disable=SC2086
        lv2apply -i "$in" -o "$out" $args "$uri" > "$OUT/render.log" 2>&1
    fi
}
have_plugin() { command -v lv2ls > /dev/null 2>&1 && lv2ls 2>/dev/null | grep -qxF "$1"; }
if have_plugin "$DS1" && { command -v lv2file > /dev/null 2>&1 || command -v lv2apply > /dev/null 2>&1; }; then
    if render "$DS1" "$OUT/dry.wav" "$OUT/wet.wav" DRIVE 0.8 && render "$DS1" "$OUT/song.wav" "$OUT/song_real.wav" DRIVE 0.8; then
        effect="guitarix Boss DS-1 (gx_bossds1, DRIVE 0.8)"
    fi
fi
if [ -z "$effect" ] && have_plugin "$ZAMTUBE" && command -v lv2file > /dev/null 2>&1; then
    # zam-plugins need the Options feature: lv2file has it, lv2apply does not
    if render "$ZAMTUBE" "$OUT/dry.wav" "$OUT/wet.wav" && render "$ZAMTUBE" "$OUT/song.wav" "$OUT/song_real.wav"; then
        effect="ZamTube (zam-plugins)"
    fi
fi
if [ -z "$effect" ]; then
    echo "   (no guitarix-lv2/zam-plugins with lv2file/lv2apply: using the reference overdrive written here;"
    echo "    'sh tools/setup-debian.sh --demo' installs the real ones)"
    "$BIN/rnnfx-pluck" --overdrive "$OUT/dry.wav" -o "$OUT/wet.wav"
    "$BIN/rnnfx-pluck" --overdrive "$OUT/song.wav" -o "$OUT/song_real.wav"
    effect="the reference overdrive (rnnfx-pluck --overdrive)"
fi
echo "   effect: $effect -> $OUT/wet.wav"

say "3. training a capture for $MINUTES minute(s)"
# --force: a second `make demo` retrains into the same DEMO_DIR, and
# rnnfx-train keeps an earlier run's capture unless told to replace it
"$BIN/rnnfx-train" --input "$OUT/dry.wav" --target "$OUT/wet.wav" -o "$OUT/capture.json" \
    --minutes "$MINUTES" --name "demo capture: $effect" --force | tee "$OUT/train.log"
result=$(grep '^result ' "$OUT/train.log" || true)

say "4. processing a new song with the capture"
if [ -x "$BIN/rnnfx-process" ]; then
    mkdir -p "$OUT/processed"
    if "$BIN/rnnfx-process" -m "$OUT/capture.json" -o "$OUT/processed" --overwrite "$OUT/song.wav"; then
        echo "   $OUT/processed/song.wav  (the capture)"
        echo "   $OUT/song_real.wav       (the real effect, to compare)"
    else
        echo "   rnnfx-process failed; see above"
    fi
else
    echo "   (rnnfx-process is not built: skipped)"
fi

# the capture against the real effect on music it never heard
"$BIN/rnnfx-train" --input "$OUT/song.wav" --target "$OUT/song_real.wav" --evaluate "$OUT/capture.json" \
    > "$OUT/evaluate.log" 2>&1 || true
song=$(sed -n 's/^result esr=\([0-9.e+-]*\) band=\([a-z]*\).*/ESR \1 (\2)/p' "$OUT/evaluate.log")
[ -n "$song" ] && echo "   capture vs the real effect on the new song: $song"

say "5. installing the plugin, the tools and the capture's preset"
if [ "${DEMO_INSTALL:-1}" = 1 ]; then
    $MAKE --no-print-directory BUILD="$BUILD" install > "$OUT/install.log" 2>&1 && installed=1 || installed=0
    if [ $installed = 1 ]; then
        lv2dir=$(sed -n 's/^mkdir -p \([^ ]*\)\/rnnfx.lv2.*/\1/p' "$OUT/install.log" | head -1)
        [ -n "$lv2dir" ] || lv2dir=$HOME/.lv2
        rm -rf "$lv2dir/rnnfx-demo-capture.lv2"
        cp -r "$OUT/capture.lv2" "$lv2dir/rnnfx-demo-capture.lv2"
        echo "   plugin:  $lv2dir/rnnfx.lv2 (http://rnnfx.org/plugins/rnnfx#mono)"
        echo "   preset:  $lv2dir/rnnfx-demo-capture.lv2 (shows as \"demo capture: ...\" in LV2 hosts)"
    else
        echo "   make install failed: see $OUT/install.log"
    fi
else
    echo "   (DEMO_INSTALL=0: skipped)"
fi

say "done"
esr=$(echo "$result" | sed -n 's/.*test_esr=\([0-9.e+-]*\).*/\1/p')
band=$(echo "$result" | sed -n 's/.*band=\([a-z]*\).*/\1/p')
echo "   captured:   $effect"
echo "   model:      $OUT/capture.json"
echo "   preset:     $OUT/capture.lv2/"
echo "   report:     $OUT/capture.html   (open it in a browser)"
echo "   quality:    test ESR $esr on audio held out from training: $band"
[ -n "$song" ] && echo "               on a new song, against the real effect: $song"
echo "               (bands: great < 0.01, good < 0.035, usable < 0.1)"

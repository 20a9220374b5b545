#!/bin/sh
# test_output_safety.sh — what the tools write is whole or not there at all,
# and never lands on something that is not a file. Each check failed on the
# build before its fix:
#
#   - a full disk (here a file-size limit, ulimit -f, SIGXFSZ ignored) while
#     an Ogg output was written: libsndfile's Vorbis encoder ignores the
#     failed write and reports success, and the cut-short file took the
#     output's name with exit 0. The finished file is now read back first.
#   - --overwrite / --force on an existing device node or pipe replaced it
#     with a regular file (the output is renamed over the name): /dev/null
#     became a WAV file. Such names are refused, whatever the flags.
#   - a value option given twice (--in-gain 3 --in-gain 5, --format wav
#     --format flac, -j 4 -j 2, rnnfx-convert --to aidax --to nam,
#     --sample-rate 44100 --rate 48000) played the last one without a
#     word; each is now a usage error, as a second -m or -o already was.
#     rnnfx-convert --sample-rate took 44100.5 and wrote it into the file.
#   - SIGHUP (a closed ssh session) during a render left the temporary
#     output behind; rnnfx-convert cleaned up after no signal at all.
#   - FLAC's 8-channel limit was reported as the samples' encoding.
#   - (not a fix: a recording streamed through a pipe, whose header holds
#     placeholder sizes, is read whole, not called cut short.)
#
# Runs from the repository root with BUILD set; bash for the ulimit -f.
set -u
BUILD=${BUILD:-build}
BIN=$BUILD/bin
T=$(mktemp -d /tmp/rnnfx-test-outsafe-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
EXPECT_OUT=$T/out
. tests/support/expect.sh

"$BUILD/tests/test_process" make-model "$T/m.json" gru 8 48000 >/dev/null || exit 1
"$BIN/rnnfx-pluck" -o "$T/take.wav" --seconds 3 >/dev/null 2>&1 || exit 1
"$BIN/rnnfx-pluck" --overdrive "$T/take.wav" -o "$T/wet.wav" >/dev/null 2>&1 || exit 1
"$BIN/rnnfx-pluck" -o "$T/long.wav" --seconds 120 >/dev/null 2>&1 || exit 1

# ---- a full disk while an Ogg file is written ----------------------------------
"$BIN/rnnfx-process" -q -m "$T/m.json" --format ogg -o "$T/ogg-full" "$T/take.wav" 2>/dev/null || exit 1
size=$(stat -c %s "$T/ogg-full/take.ogg")
# a limit a little under the finished size (bash's ulimit -f counts KiB;
# run-all.sh runs this file with sh, whose unit may differ)
lim=$(( size / 1024 - 1 ))
mkdir "$T/ogg-cut"
bash -c 'trap "" XFSZ; ulimit -f "$1"; shift; exec "$@"' limit "$lim" \
    "$BIN/rnnfx-process" -q -m "$T/m.json" --format ogg -o "$T/ogg-cut" "$T/take.wav" \
    >"$T/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && [ ! -e "$T/ogg-cut/take.ogg" ] && grep -qi "disk full" "$T/out" &&
   [ -z "$(ls "$T/ogg-cut")" ]; then
    echo "ok   Ogg output over a full disk: refused, nothing left (limit $lim KiB of $size bytes)"
else
    echo "FAIL Ogg output over a full disk: exit $rc, left: $(ls "$T/ogg-cut" | tr '\n' ' ')"
    sed 's/^/     /' "$T/out" | head -4
    fails=$((fails + 1))
fi

# ---- device nodes and pipes are not outputs --------------------------------------
mkfifo "$T/pipe.wav"
expect "process: a pipe as the output, --overwrite" 1 "pipe.wav is a pipe, not a file to write" -- \
    "$BIN/rnnfx-process" -q -m "$T/m.json" --pattern "$T/pipe.wav" --overwrite "$T/take.wav"
[ -p "$T/pipe.wav" ] || { echo "FAIL the pipe was replaced"; fails=$((fails + 1)); }
mkfifo "$T/pipe.json"
expect "convert: a pipe as the output, --force" 1 "pipe.json is a pipe" -- \
    "$BIN/rnnfx-convert" "$T/m.json" -o "$T/pipe.json" --force
[ -p "$T/pipe.json" ] || { echo "FAIL the pipe was replaced"; fails=$((fails + 1)); }
expect "train: a pipe as the output" 1 "is a pipe" -- \
    "$BIN/rnnfx-train" -i "$T/take.wav" -t "$T/wet.wav" -o "$T/pipe.json" --force --minutes 0.01
if [ "$(id -u)" = 0 ]; then
    # a device node of our own (root only): /dev/null itself is never risked
    mknod "$T/null.wav" c 1 3
    expect "process: a device as the output, --overwrite" 1 "is a device" -- \
        "$BIN/rnnfx-process" -q -m "$T/m.json" --pattern "$T/null.wav" --overwrite "$T/take.wav"
    expect "pluck: a device as the output" 1 "is a device" -- \
        "$BIN/rnnfx-pluck" -o "$T/null.wav" --seconds 1
    [ -c "$T/null.wav" ] || { echo "FAIL the device node was replaced"; fails=$((fails + 1)); }
fi

# ---- one value per option ---------------------------------------------------------
P="$BIN/rnnfx-process"
expect "process: --in-gain twice" 2 "--in-gain is given twice" -- \
    "$P" -m "$T/m.json" -o "$T/x" --in-gain 3 --in-gain 5 "$T/take.wav"
expect "process: --format twice" 2 "--format is given twice" -- \
    "$P" -m "$T/m.json" -o "$T/x" --format wav --format flac "$T/take.wav"
expect "process: -j twice (-j4 -j 2)" 2 "-j/--jobs is given twice" -- \
    "$P" -m "$T/m.json" -o "$T/x" -j4 -j 2 "$T/take.wav"
expect "process: --mix=1 --mix=0" 2 "--mix is given twice" -- \
    "$P" -m "$T/m.json" -o "$T/x" --mix=1 --mix=0 "$T/take.wav"
[ ! -e "$T/x" ] || { echo "FAIL a usage error wrote output"; fails=$((fails + 1)); }
expect "convert: --to twice" 2 "--to is given twice" -- \
    "$BIN/rnnfx-convert" "$T/m.json" -o "$T/c.json" --to aidax --to nam
expect "convert: --sample-rate and --rate" 2 "--sample-rate/--rate is given twice" -- \
    "$BIN/rnnfx-convert" "$T/m.json" -o "$T/c.json" --sample-rate 44100 --rate 48000
expect "convert: a fractional rate" 2 "whole rate" -- \
    "$BIN/rnnfx-convert" "$T/m.json" -o "$T/c.json" --sample-rate 44100.5

# ---- FLAC's channel limit is named as such ----------------------------------------
/usr/bin/python3 - "$T/ch16.wav" <<'EOF' || exit 1
import struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(16); w.setsampwidth(2); w.setframerate(48000)
w.writeframes(struct.pack("<%dh" % (16 * 4800), *([1000] * (16 * 4800))))
w.close()
EOF
expect "process: 16 channels to FLAC" 2 "holds at most 8 channels, this input has 16" -- \
    "$P" -m "$T/m.json" -o "$T/f16" --format flac "$T/ch16.wav"

# ---- a recording streamed through a pipe is whole ----------------------------------
# (its header holds placeholder sizes, 0x7FFFF048 as sox writes them: the
# check for cut-short files must not take it for one)
/usr/bin/python3 - "$T/streamed.wav" <<'EOF' || exit 1
import struct, sys
frames = 4800
data = struct.pack("<%dh" % frames, *([1000] * frames))
hdr = b"RIFF" + struct.pack("<I", 0x7FFFF048) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 48000, 96000, 2, 16)
open(sys.argv[1], "wb").write(hdr + b"data" + struct.pack("<I", 0x7FFFF000) + data)
EOF
expect "process: a streamed WAV (placeholder sizes) is read whole" 0 "" -- \
    "$P" -q -m "$T/m.json" -o "$T/streamed" "$T/streamed.wav"

# ---- SIGHUP during a render leaves no temporary file --------------------------------
mkdir "$T/hup"
"$P" -q -m "$T/m.json" -o "$T/hup" -j 1 --block 64 "$T/long.wav" >"$T/out" 2>&1 &
pid=$!
for _ in $(seq 50); do
    ls "$T/hup" 2>/dev/null | grep -q tmp && break
    sleep 0.1
done
kill -HUP $pid
wait $pid
rc=$?
if [ $rc -eq 130 ] && [ -z "$(ls -A "$T/hup")" ]; then
    echo "ok   process: SIGHUP mid-render stops it, nothing left (exit $rc)"
else
    echo "FAIL process: SIGHUP mid-render: exit $rc, left: $(ls -A "$T/hup" | tr '\n' ' ')"
    fails=$((fails + 1))
fi

echo "test_output_safety: $fails failure(s)"
[ $fails -eq 0 ]

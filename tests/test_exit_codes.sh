#!/bin/sh
# test_exit_codes.sh — every command-line tool follows one convention
# (tools/README.md, "Exit status"): 0 success, 1 a runtime error (a file
# missing, unreadable or unsuitable, a device that cannot be opened), 2 a
# usage error (unknown option, bad or missing value). For each tool this
# runs a usage error and a missing-file error (and a success where it is
# cheap), and checks the status and that the message names the problem.
# "--name=value" works for every tool. Also: rnnfx-train names a
# recording's unusable sample rate and a missing --resume checkpoint before
# doing any work; rnnfx-pluck --overdrive never overwrites its input and
# plays through non-finite input samples; rnnfx-process refuses a FIFO,
# refuses --float or --encoding that its inputs' own containers cannot hold
# before any work, takes --output as -o and its default thread count from
# the CPU affinity; rnnfx-live refuses
# a folder as --script and a regular file as --control before it opens a
# device, and names a rejected model file once. Every tool's --help exits 0
# with no line over 100 columns; --version prints the one project version.
#
# Runs from the repository root with BUILD set; needs only the built tools
# (and /usr/bin/python3's standard library to write two tiny WAV files).
set -u
BUILD=${BUILD:-build}
BIN=$BUILD/bin
for t in process train inspect convert generate pluck live; do
    [ -x "$BIN/rnnfx-$t" ] || { echo "test_exit_codes: $BIN/rnnfx-$t not built"; exit 1; }
done
[ -x "$BUILD/tests/test_process" ] || { echo "test_exit_codes: $BUILD/tests/test_process not built"; exit 1; }

T=$(mktemp -d /tmp/rnnfx-test-exit-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
# expect NAME STATUS PATTERN -- command... (tests/support/expect.sh): the
# output in $T/out
EXPECT_OUT=$T/out
. tests/support/expect.sh

"$BUILD/tests/test_process" make-model "$T/m.json" gru 8 48000 >/dev/null || exit 1
/usr/bin/python3 - "$T" <<'EOF' || { echo "test_exit_codes: cannot write the WAV fixtures"; exit 1; }
import math, struct, sys, wave
def write(path, rate, seconds):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(rate * seconds)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(0.05 * i) + 500 * math.sin(0.31 * i)))
                               for i in range(n)))
write(sys.argv[1] + "/in800.wav", 800, 20)
write(sys.argv[1] + "/in.wav", 48000, 1)
# 1 s of a 32-bit float sine with one NaN and one infinity in it (the wave
# module writes integer PCM only: the header is written by hand)
n = 48000
x = [0.3 * math.sin(0.05 * i) for i in range(n)]
x[100] = float("nan")
x[200] = float("inf")
data = struct.pack("<%df" % n, *x)
with open(sys.argv[1] + "/nan.wav", "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 3, 1, 48000, 48000 * 4, 4, 32)
            + b"data" + struct.pack("<I", len(data)) + data)
EOF
NO=$T/does-not-exist

# rnnfx-process (usage, a missing model, a missing input file).
expect "process: unknown option" 2 "unknown|usage|option" -- "$BIN/rnnfx-process" --bogus
expect "process: missing model" 1 "does-not-exist" -- "$BIN/rnnfx-process" -m "$NO.json" -o "$T/pout" "$T/in.wav"
expect "process: missing input file" 1 "does-not-exist" -- "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/pout" "$NO.wav"
expect "process: success" 0 "" -- "$BIN/rnnfx-process" -q -m "$T/m.json" -o "$T/pout" "$T/in.wav"
# a named pipe as input: refused by name (it used to wait forever for a
# writer; "<(sox ...)" failed as "not an audio file")
mkfifo "$T/fifo.wav"
expect "process: a FIFO input is refused, not waited on" 1 "fifo.wav: not a regular file" -- \
    timeout 20 "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/pout2" "$T/fifo.wav"
# -o naming a file: one message about -o (each input once FAILED with
# "<the -o file> is not a folder", as if the inputs were at fault)
cp "$T/in.wav" "$T/notdir.wav"
expect "process: -o FILE refused as a file" 1 "-o .*notdir.wav is a file, not a folder" -- \
    "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/notdir.wav" "$T/in.wav"
grep -q "FAILED" "$T/out" && { echo "FAIL process -o FILE blamed the input"; fails=$((fails + 1)); }
cmp -s "$T/in.wav" "$T/notdir.wav" || { echo "FAIL process -o FILE changed the file"; fails=$((fails + 1)); }
# an output named as the model file: with --overwrite it replaced the model
cp "$T/m.json" "$T/keepm.json"
cp "$T/in.wav" "$T/keepm.wav"
expect "process: output = the model refused" 2 "would be the model file" -- \
    "$BIN/rnnfx-process" -m "$T/keepm.json" --pattern '{name}.json' --overwrite "$T/keepm.wav"
cmp -s "$T/m.json" "$T/keepm.json" || { echo "FAIL process replaced the model"; fails=$((fails + 1)); }
# a folder as --list / @LIST read as an empty list ("no input files found")
mkdir "$T/ldir"
expect "process: --list FOLDER named" 2 "ldir is a folder, not a list file" -- \
    "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/pl" --list "$T/ldir"
# a knob set twice (twice by name, by name and by number, or by number
# twice) played the last value without a word
"$BUILD/tests/test_process" make-model "$T/k.json" gru 8 48000 drive >/dev/null || exit 1
expect "process: --set K twice" 2 "knob 'drive' is set twice" -- \
    "$BIN/rnnfx-process" -m "$T/k.json" -o "$T/pk" --set drive=1 --set drive=2 "$T/in.wav"
expect "process: --set K and --knob 1" 2 "knob 'drive' \(--knob 1\) is set twice" -- \
    "$BIN/rnnfx-process" -m "$T/k.json" -o "$T/pk" --set drive=1 --knob 1=0.5 "$T/in.wav"
expect "process: --knob 1 twice" 2 "--knob 1 is given twice" -- \
    "$BIN/rnnfx-process" -m "$T/k.json" -o "$T/pk" --knob 1=0.2 --knob 1=0.5 "$T/in.wav"
[ ! -e "$T/pk" ] || { echo "FAIL process wrote outputs despite a knob set twice"; fails=$((fails + 1)); }
expect "live: --set K twice" 2 "knob 'drive' is set twice" -- \
    "$BIN/rnnfx-live" -m "$T/k.json" --set drive=1 --set drive=2 --seconds 1
# a missing value: one message, not two
expect "process: --mix without a value" 2 "--mix needs a value" -- "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/pout" --mix
[ "$(wc -l < "$T/out")" -eq 1 ] || { echo "FAIL process: two messages for one missing value"; fails=$((fails + 1)); }
# the default thread count follows the CPU affinity (taskset, cpusets, Slurm)
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then
    expect "process: default -j under taskset is 1 thread" 0 "1 thread\)" -- \
        taskset -c 0 "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/pout3" "$T/in.wav"
fi

# rnnfx-train
expect "train: unknown option" 2 "unknown option" -- "$BIN/rnnfx-train" --bogus
expect "train: missing recording" 1 "does-not-exist" -- "$BIN/rnnfx-train" -i "$NO.wav" -t "$NO.wav" -o "$T/t.json"
expect "train: 800 Hz recording named with the accepted rates" 1 "in800.wav is recorded at 800 Hz.*1000 to 768000 Hz" -- \
    "$BIN/rnnfx-train" -i "$T/in800.wav" -t "$T/in800.wav" -o "$T/t.json" --minutes 0.01
[ ! -e "$T/t.json" ] || { echo "FAIL train wrote a model for an 800 Hz recording"; fails=$((fails + 1)); }
expect "train: missing --resume checkpoint named" 1 "--resume .*does-not-exist.ckpt: no such checkpoint file" -- \
    "$BIN/rnnfx-train" -i "$T/in.wav" -t "$T/in.wav" -o "$T/t.json" --resume "$NO.ckpt"
# the trainer writes rnnfx JSON only: "-o amp.nam" once wrote JSON under a
# .nam name; it now says how to get a .nam file
expect "train: -o MODEL.nam names rnnfx-convert" 2 "rnnfx-convert" -- \
    "$BIN/rnnfx-train" -i "$T/in.wav" -t "$T/in.wav" -o "$T/t.nam" --epochs 1
[ ! -e "$T/t.nam" ] || { echo "FAIL train wrote JSON under a .nam name"; fails=$((fails + 1)); }
# settings the trainer cannot use are refused before any file is read
# (the files here do not exist: reading first would say "cannot open")
expect "train: --burn-in >= --segment before reading" 2 "burn-in.*shorter than --segment" -- \
    "$BIN/rnnfx-train" -i "$NO.wav" -t "$NO.wav" -o "$T/t.json" --segment 1024 --burn-in 2048
# --evaluate's model is checked before the recordings are read (they do
# not exist here: reading first would say "cannot open ...wav")
expect "train: --evaluate MISSING before reading" 1 "cannot open .*does-not-exist.json" -- \
    "$BIN/rnnfx-train" -i "$NO.wav" -t "$NO.wav" --evaluate "$NO.json"
# contradicting flags: the last one won without a word (before any file is read)
expect "train: --skip --no-skip" 2 "--skip and --no-skip contradict" -- \
    "$BIN/rnnfx-train" -i "$NO.wav" -t "$NO.wav" -o "$T/t.json" --skip --no-skip
expect "train: --channel 0 --mix" 2 "--channel and --mix contradict" -- \
    "$BIN/rnnfx-train" -i "$NO.wav" -t "$NO.wav" -o "$T/t.json" --channel 0 --mix
expect "train: --no-align --invert" 2 "--no-align and --invert contradict" -- \
    "$BIN/rnnfx-train" -i "$NO.wav" -t "$NO.wav" -o "$T/t.json" --no-align --invert
expect "train: --delay twice" 2 "--delay is given twice \(3, 4\)" -- \
    "$BIN/rnnfx-train" -i "$NO.wav" -t "$NO.wav" -o "$T/t.json" --delay 3 --delay 4
expect "train --midi: unknown option" 2 "" -- "$BIN/rnnfx-train" --midi --bogus
expect "train --midi: missing file" 1 "does-not-exist" -- "$BIN/rnnfx-train" --midi "$NO.mid" -o "$T/tm.json"
# an earlier run's model ($T/m.json) is refused before the recordings are read
expect "train: existing model" 1 "give --force to replace it" -- \
    "$BIN/rnnfx-train" -i "$NO.wav" -t "$NO.wav" -o "$T/m.json"
expect "train --jsb: existing model" 1 "give --force to replace it" -- \
    "$BIN/rnnfx-train" --jsb "$NO.json" -o "$T/m.json"

# rnnfx-inspect
expect "inspect: no file given" 2 "usage" -- "$BIN/rnnfx-inspect"
expect "inspect: missing file" 1 "does-not-exist" -- "$BIN/rnnfx-inspect" --no-bench "$NO.json"
expect "inspect: success" 0 "gru" -- "$BIN/rnnfx-inspect" --no-bench "$T/m.json"

# rnnfx-convert
expect "process: --format flac --float is a usage error" 2 "cannot hold float" -- \
    "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/pf" --format flac --float "$T/in.wav"
# ... and so is --float on FLAC inputs, whose container the outputs keep:
# every file failed at run time ("0 done, 2 failed", exit 1). Checked on
# all inputs before any work, one message naming the option to add.
"$BIN/rnnfx-process" -q -m "$T/m.json" -o "$T/pflac" --format flac "$T/in.wav" "$T/nan.wav" >/dev/null 2>&1 &&
    "$BIN/rnnfx-process" -q -m "$T/m.json" -o "$T/pogg" --format ogg "$T/in.wav" >/dev/null 2>&1 ||
    { echo "test_exit_codes: cannot write the FLAC and Ogg inputs"; exit 1; }
expect "process: --float on FLAC inputs is a usage error" 2 "--float: 2 of 3 inputs cannot be written so .*add --format wav" -- \
    "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/pf2" --float "$T/pflac/in.flac" "$T/pflac/nan.flac" "$T/in.wav"
[ ! -e "$T/pf2" ] || { echo "FAIL process: --float on FLAC inputs wrote outputs"; fails=$((fails + 1)); }
expect "process: --encoding pcm16 on an Ogg input is a usage error" 2 "--encoding pcm16: 1 of 1 input cannot be written so .*add --format wav" -- \
    "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/pf3" --encoding pcm16 "$T/pogg/in.ogg"
[ ! -e "$T/pf3" ] || { echo "FAIL process: --encoding pcm16 on an Ogg input wrote outputs"; fails=$((fails + 1)); }
expect "process: --float --format wav on FLAC inputs" 0 "" -- \
    "$BIN/rnnfx-process" -q -m "$T/m.json" -o "$T/pf4" --float --format wav "$T/pflac/in.flac"
[ -f "$T/pf4/in.wav" ] || { echo "FAIL process: --float --format wav wrote no pf4/in.wav"; fails=$((fails + 1)); }
expect "convert: unknown option" 2 "" -- "$BIN/rnnfx-convert" --bogus
expect "convert: missing file" 1 "does-not-exist" -- "$BIN/rnnfx-convert" "$NO.json" -o "$T/c.json"
expect "convert: success" 0 "" -- "$BIN/rnnfx-convert" "$T/m.json" -o "$T/c.aidax"
expect "convert: -o AUDIO.wav refused" 2 "names an audio file" -- "$BIN/rnnfx-convert" "$T/m.json" -o "$T/c.wav"
[ ! -e "$T/c.wav" ] || { echo "FAIL convert wrote JSON under a .wav name"; fails=$((fails + 1)); }
# a folder as OUT: refused up front, with --force too (it once printed the
# success line after failing with "Is a directory")
mkdir "$T/cdir"
expect "convert: -o FOLDER --force refused" 1 "is a folder" -- "$BIN/rnnfx-convert" "$T/m.json" -o "$T/cdir" --force
grep -q -- "->" "$T/out" && { echo "FAIL convert printed a success line for a refused output"; fails=$((fails + 1)); }

# --to against the output's extension: AIDA-X JSON under a .nam name
expect "convert: --to aidax -o X.nam refused" 2 "names a NAM file, but --to aidax" -- \
    "$BIN/rnnfx-convert" "$T/m.json" -o "$T/c2.nam" --to aidax
[ ! -e "$T/c2.nam" ] || { echo "FAIL convert wrote AIDA-X under .nam"; fails=$((fails + 1)); }
# the input as output: "exists; pass --force" was the wrong advice (--force
# then said "same file"); the file stays as it was. A usage error (2), as
# in rnnfx-process (it was 1), also with --force and through a link.
cp "$T/m.json" "$T/same.json"
ln -s same.json "$T/same-link.json"
expect "convert: IN -o IN names the input, not --force" 2 "is the input file itself" -- \
    "$BIN/rnnfx-convert" "$T/same.json" -o "$T/same.json"
expect "convert: IN -o IN -f is a usage error" 2 "is the input file itself" -- \
    "$BIN/rnnfx-convert" "$T/same.json" -o "$T/same-link.json" -f
cmp -s "$T/m.json" "$T/same.json" || { echo "FAIL convert changed its input"; fails=$((fails + 1)); }
# (rnnfx-process, for the same mistake)
cp "$T/in.wav" "$T/same-in.wav"
expect "process: an output that is the input is a usage error" 2 "would be the input" -- \
    "$BIN/rnnfx-process" -q -m "$T/m.json" --pattern '{name}.{ext}' --overwrite "$T/same-in.wav"
cmp -s "$T/in.wav" "$T/same-in.wav" || { echo "FAIL process changed its input"; fails=$((fails + 1)); }
# a missing output folder: said before any work, without a temporary name
expect "convert: missing output folder named" 1 "folder .*does-not-exist does not exist" -- \
    "$BIN/rnnfx-convert" "$T/m.json" -o "$NO/c.json"
grep -q "convert-" "$T/out" && { echo "FAIL convert named its temporary file"; fails=$((fails + 1)); }
expect "convert: no -o is named" 2 "-o OUT is required" -- "$BIN/rnnfx-convert" "$T/m.json"
# "--" ends the options, as in rnnfx-process, rnnfx-inspect and rnnfx-train
cp "$T/m.json" "$T/-dash.json"
CONVERT_ABS=$(cd "$BIN" && pwd)/rnnfx-convert
expect "convert: -- before a file named -x" 0 "" -- sh -c "cd '$T' && '$CONVERT_ABS' -o dash-out.json -- -dash.json"
[ -s "$T/dash-out.json" ] || { echo "FAIL convert -- wrote nothing"; fails=$((fails + 1)); }

# rnnfx-generate
expect "generate: unknown option" 2 "unknown option" -- "$BIN/rnnfx-generate" --bogus x
expect "generate: missing -o" 2 "required" -- "$BIN/rnnfx-generate" -m "$T/m.json"
expect "generate: missing model" 1 "does-not-exist" -- "$BIN/rnnfx-generate" -m "$NO.json" -o "$T/g.mid"
expect "generate: an audio model" 1 "not a MIDI-frame model" -- "$BIN/rnnfx-generate" -m "$T/m.json" -o "$T/g.mid"

# rnnfx-pluck
expect "pluck: unknown option" 2 "bad argument" -- "$BIN/rnnfx-pluck" --bogus
# the output's problems are found before the render and named as the
# other tools name them: a missing folder read "cannot create a temporary
# file beside it: No such file or directory", a folder read "unknown
# extension (use .wav or .flac)"
expect "pluck: unwritable output" 1 "cannot write .*p.wav: folder .*does-not-exist does not exist" -- \
    "$BIN/rnnfx-pluck" -o "$NO/p.wav" --seconds 1
grep -q "temporary" "$T/out" && { echo "FAIL pluck: the message names a temporary file"; fails=$((fails + 1)); }
mkdir "$T/pdir"
expect "pluck: -o FOLDER is named a folder" 1 "pdir is a folder; give a file name" -- \
    "$BIN/rnnfx-pluck" -o "$T/pdir" --seconds 1
expect "pluck: -o FOLDER --overdrive is named a folder" 1 "pdir is a folder; give a file name" -- \
    "$BIN/rnnfx-pluck" --overdrive "$T/in.wav" -o "$T/pdir"
expect "pluck: an extension that names no format" 2 "x.mp4: its extension names no audio format" -- \
    "$BIN/rnnfx-pluck" -o "$T/x.mp4" --seconds 1
[ -e "$T/x.mp4" ] && { echo "FAIL pluck wrote x.mp4"; fails=$((fails + 1)); }
expect "pluck: success" 0 "" -- "$BIN/rnnfx-pluck" -o "$T/p.wav" --seconds 1
# --help said "-o OUT.wav" and "32-bit float mono" while .flac wrote
# 24-bit FLAC: the help names the formats, -h/--help and the exit status,
# and a .flac output is what it says
"$BIN/rnnfx-pluck" --help >"$T/phelp" 2>&1
for want in "-o, --output OUT" ".flac (24-bit)" "-h, --help" "Exit status: 0"; do
    grep -qF -- "$want" "$T/phelp" || { echo "FAIL pluck --help lacks '$want'"; fails=$((fails + 1)); }
done
grep -q "32-bit float mono" "$T/phelp" && { echo "FAIL pluck --help still says 32-bit float mono"; fails=$((fails + 1)); }
expect "pluck: -o X.flac" 0 "" -- "$BIN/rnnfx-pluck" -o "$T/p.flac" --seconds 0.5
/usr/bin/python3 - "$T/p.flac" <<'EOF' || { echo "FAIL pluck: p.flac is not 24-bit mono FLAC"; fails=$((fails + 1)); }
import sys
b = open(sys.argv[1], "rb").read()
# STREAMINFO follows "fLaC" and a 4-byte block header: after 10 bytes of
# block/frame sizes, 20 bits rate, 3 bits channels - 1, 5 bits depth - 1
assert b[:4] == b"fLaC"
v = int.from_bytes(b[18:21], "big")
ch = ((v >> 1) & 7) + 1
bits = (((v & 1) << 4) | (b[21] >> 4)) + 1
print("     p.flac: %d channel(s), %d bits" % (ch, bits))
sys.exit(0 if (ch, bits) == (1, 24) else 1)
EOF
# --overdrive IN -o IN once replaced the take with the pedal's output
cp "$T/in.wav" "$T/keep.wav"
expect "pluck: --overdrive IN -o IN refused as a usage error" 2 "would overwrite the input" -- \
    "$BIN/rnnfx-pluck" --overdrive "$T/keep.wav" -o "$T/keep.wav"
cmp -s "$T/in.wav" "$T/keep.wav" || { echo "FAIL pluck --overdrive changed its input"; fails=$((fails + 1)); }
# a NaN in the input once left the filters' state NaN: the whole output silent
expect "pluck: --overdrive names non-finite input" 0 "2 non-finite samples" -- \
    "$BIN/rnnfx-pluck" --overdrive "$T/nan.wav" -o "$T/od.wav"
/usr/bin/python3 - "$T/od.wav" <<'EOF' || { echo "FAIL pluck --overdrive output after a NaN is silent"; fails=$((fails + 1)); }
import struct, sys
raw = open(sys.argv[1], "rb").read()
i = raw.index(b"data") + 8  # float WAV: the samples follow the data chunk header
tail = struct.unpack("<%df" % ((len(raw) - i) // 4), raw[i:])[24000:]
sys.exit(0 if max(abs(v) for v in tail) > 0.05 else 1)
EOF

# an option naming the one model, recording or output given twice is a
# usage error naming both (the last one won without a word: a batch run
# with the wrong model, a model written to the wrong file)
expect "process: -m twice" 2 "-m/--model is given twice" -- "$BIN/rnnfx-process" -m "$T/m.json" -m "$T/k.json" -o "$T/p2x" "$T/in.wav"
expect "process: -o twice" 2 "-o/--out-dir is given twice" -- "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/p2x" --out-dir "$T/p2y" "$T/in.wav"
expect "process: -o and --output" 2 "-o/--out-dir is given twice" -- "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/p2x" --output "$T/p2y" "$T/in.wav"
[ ! -e "$T/p2x" ] && [ ! -e "$T/p2y" ] || { echo "FAIL process wrote outputs with an option given twice"; fails=$((fails + 1)); }
# --output is -o's long name in every other tool: rnnfx-process called it
# an unknown option; it is --out-dir's synonym
expect "process: --output is --out-dir" 0 "1 done" -- "$BIN/rnnfx-process" -m "$T/m.json" --output "$T/pou" "$T/in.wav"
expect "process: --output=DIR" 0 "1 done" -- "$BIN/rnnfx-process" -m "$T/m.json" --output="$T/pou2" "$T/in.wav"
[ -f "$T/pou/in.wav" ] && [ -f "$T/pou2/in.wav" ] || { echo "FAIL process: --output wrote no pou/in.wav, pou2/in.wav"; fails=$((fails + 1)); }
expect "train: -o twice" 2 "-o/--output is given twice" -- "$BIN/rnnfx-train" -i "$T/in.wav" -t "$T/in.wav" -o "$T/t1.json" --output="$T/t2.json"
expect "train --midi: -o twice" 2 "-o/--output is given twice" -- "$BIN/rnnfx-train" --midi "$T" -o "$T/t1.json" -o "$T/t2.json"
expect "convert: -o twice" 2 "-o/--output is given twice" -- "$BIN/rnnfx-convert" "$T/m.json" -o "$T/c1.json" -o "$T/c2.json"
[ ! -e "$T/c1.json" ] && [ ! -e "$T/c2.json" ] || { echo "FAIL convert wrote with -o given twice"; fails=$((fails + 1)); }
expect "generate: -i twice" 2 "-i/--input is given twice" -- "$BIN/rnnfx-generate" -m "$T/m.json" -i a.mid -i b.mid -o "$T/g2.mid"
expect "live: -m twice" 2 "-m/--model is given twice" -- "$BIN/rnnfx-live" -m "$T/m.json" -m "$T/k.json" --seconds 1

# "--name=value" is taken by every tool, as rnnfx-train's getopt_long does
# (the others said "unknown option '--mix=0.5'"); a flag given a value is
# still an unknown option
expect "process: --name=value" 0 "1 done" -- "$BIN/rnnfx-process" --model="$T/m.json" --out-dir="$T/peq" --mix=0.5 "$T/in.wav"
expect "process: --flag=value is unknown" 2 "unknown option '--float=1'" -- "$BIN/rnnfx-process" -m "$T/m.json" -o "$T/peq2" --float=1 "$T/in.wav"
expect "inspect: --name=value" 0 "gru" -- "$BIN/rnnfx-inspect" --bench-ms=0 "$T/m.json"
expect "convert: --name=value" 0 "" -- "$BIN/rnnfx-convert" "$T/m.json" --output="$T/ceq.json" --to=rnnfx
expect "generate: --name=value" 1 "not a MIDI-frame model" -- "$BIN/rnnfx-generate" --model="$T/m.json" --output="$T/geq.mid"
expect "pluck: --name=value" 0 "" -- "$BIN/rnnfx-pluck" --output="$T/peq.wav" --seconds=0.5

# rnnfx-live (no audio device needed: these fail before PortAudio starts)
expect "live: unknown option" 2 "unknown option" -- "$BIN/rnnfx-live" --bogus
expect "live: bad --frames" 2 "frames" -- "$BIN/rnnfx-live" --frames 7
expect "live: missing model" 1 "does-not-exist" -- "$BIN/rnnfx-live" -m "$NO.json" --seconds 1
expect "live: missing script" 1 "does-not-exist" -- "$BIN/rnnfx-live" --script "$NO.txt" --seconds 1
# "--name=value" (once an unknown option '--frames=7' in rnnfx-live alone)
expect "live: --name=value" 2 "--frames needs" -- "$BIN/rnnfx-live" --frames=7
# a folder as --script once ran as an empty script; a regular file as
# --control was read as commands (its bytes "unknown commands") once the
# stream played: both refused before any device is opened
mkdir "$T/sdir"
expect "live: --script FOLDER refused" 1 "sdir is a folder" -- "$BIN/rnnfx-live" --script "$T/sdir" --seconds 1
cp "$T/in.wav" "$T/ctl.wav"
expect "live: --control REGULAR-FILE refused" 1 "ctl.wav exists and is not a named pipe" -- \
    "$BIN/rnnfx-live" --control "$T/ctl.wav" --seconds 1
cmp -s "$T/in.wav" "$T/ctl.wav" || { echo "FAIL live --control changed the file"; fails=$((fails + 1)); }
# a model whose file states no sample rate: a note says the rate is assumed
# (it played as 48 kHz without a word; no host API of that name: it exits
# before any device, after the model)
expect "live: an assumed rate is noted" 1 "norate-sd1.nam does not state its sample rate; it plays as a 48000 Hz model" -- \
    sh -c "cp tests/data/interop/neuralaudio_boss_sd1_lstm_2x8.nam '$T/norate-sd1.nam' &&
           '$BIN/rnnfx-live' -m '$T/norate-sd1.nam' --host-api no-such-api"
expect "live: a stated rate is not noted" 1 "" -- "$BIN/rnnfx-live" -m "$T/m.json" --host-api no-such-api
grep -q "sample rate" "$T/out" && { echo "FAIL live: a stated rate said to be assumed"; fails=$((fails + 1)); }
# the loader's message names the file once, not twice
expect "live: unsupported model named once" 1 "" -- "$BIN/rnnfx-live" -m tests/data/interop/namcore_example_wavenet_tiny_REJECT.nam
[ "$(grep -o 'wavenet_tiny_REJECT.nam' "$T/out" | wc -l)" -eq 1 ] ||
    { echo "FAIL live: the model's path printed twice"; sed 's/^/     /' "$T/out"; fails=$((fails + 1)); }

# --help: exit 0, and no line run into the next (a help string missing its
# "\n" once joined two option lines into one of 117 columns)
for t in process train inspect convert generate pluck live; do
    "$BIN/rnnfx-$t" --help >"$T/help" 2>&1 </dev/null
    rc=$?
    wide=$(awk 'length($0) > 100 { n++ } END { print n + 0 }' "$T/help")
    if [ $rc -eq 0 ] && [ "$wide" -eq 0 ]; then
        echo "ok   $t --help (exit 0, every line within 100 columns)"
    else
        echo "FAIL $t --help: exit $rc, $wide line(s) over 100 columns"
        awk 'length($0) > 100' "$T/help" | sed 's/^/     /' | head -3
        fails=$((fails + 1))
    fi
done

# An unknown option is one line on standard error naming it, in every tool
# (rnnfx-generate printed its whole usage text first, 20 lines); so is a
# missing required option in rnnfx-generate.
for t in process train inspect convert generate pluck live; do
    expect "$t: unknown option in one line" 2 "--bogus" -- "$BIN/rnnfx-$t" --bogus
    [ "$(wc -l < "$T/out")" -eq 1 ] ||
        { echo "FAIL $t: $(wc -l < "$T/out") lines for an unknown option"; fails=$((fails + 1)); }
done
expect "generate: no -o in one line" 2 "required" -- "$BIN/rnnfx-generate" -m "$T/m.json"
[ "$(wc -l < "$T/out")" -eq 1 ] || { echo "FAIL generate: more than one line for no -o"; fails=$((fails + 1)); }
expect "generate: a missing value in one line" 2 "--bars needs a value" -- "$BIN/rnnfx-generate" --bars
[ "$(wc -l < "$T/out")" -eq 1 ] || { echo "FAIL generate: more than one line for --bars"; fails=$((fails + 1)); }

# --version: one line "rnnfx-TOOL VERSION" on standard output, exit 0, the
# version the one definition in tools/common/cli.h gives (there was no
# --version: "unknown option")
want_version=$(sed -n 's/^#define RNNFX_VERSION "\(.*\)"$/\1/p' tools/common/cli.h)
for t in process train inspect convert generate pluck live; do
    "$BIN/rnnfx-$t" --version >"$T/version" 2>"$T/version.err" </dev/null
    rc=$?
    if [ $rc -eq 0 ] && [ -n "$want_version" ] && [ ! -s "$T/version.err" ] &&
        [ "$(cat "$T/version")" = "rnnfx-$t $want_version" ]; then
        echo "ok   $t --version ($(cat "$T/version"))"
    else
        echo "FAIL $t --version: exit $rc, printed '$(cat "$T/version" "$T/version.err")'," \
            "wanted 'rnnfx-$t ${want_version:-?}'"
        fails=$((fails + 1))
    fi
done

if [ $fails -ne 0 ]; then
    echo "test_exit_codes: $fails check(s) failed"
    exit 1
fi
echo "test_exit_codes: ok"
exit 0

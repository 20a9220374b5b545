#!/bin/sh
# test_cli_misuse.sh — command lines a user gets slightly wrong, found by
# using the tools as a newcomer would, each of which once lost data or
# misled. Each check fails on the build before its fix:
#
#   - rnnfx-process with an output pattern that climbs out of a folder the
#     run has yet to make ('-o new/ --pattern ../{name}.{ext}', or
#     'sub/../{name}.{ext}' without -o) replaced its own input, and an
#     existing file reached that way was replaced without --overwrite: the
#     checks ran before the folder existed, so the system could not resolve
#     the name. The input and the file must stay byte-identical, the model
#     too.
#   - a folder input with two links back up the tree (a loop) hung
#     rnnfx-process before it started: the scan followed every path to a
#     depth of 64. Each folder is now read once.
#   - rnnfx-train --midi followed such loops down to its depth limit: five
#     songs trained as 10331 copies, split between training and validation.
#     Each folder and each file is now taken once.
#   - a named pipe as the model (-m, rnnfx-inspect) or as --ir was waited
#     on forever; the loaders now refuse anything but a regular file
#     before opening it (a folder as --ir is named a folder).
#   - rnnfx-train: a wet take recorded a second late (past the 170 ms delay
#     search) read as "not the same take", and --delay N then took the
#     polarity from the wrong lag (inverted: another capture). The warning
#     names the --delay to try, and with it the pair trains as if aligned.
#   - the checkpoint, report, preset or preset bundle a training run
#     leaves beside the model, given as the model, read as "not valid JSON
#     near byte 0" / "not a regular file"; each is now named.
#   - a valid output name of 250 bytes or so could not be written (the
#     temporary name beside it passed 255 bytes): rnnfx-train trained and
#     then lost the model. Temporary names are cut to fit; a derived name
#     that cannot exist (the checkpoint's) is refused before training.
#   - a recording's file name or a --name in Latin-1 bytes went raw into
#     the model's JSON and the preset's Turtle (both UTF-8): the preset was
#     silently missing from LV2 hosts. Such bytes are written as U+FFFD.
#   - an input with no extension was written as "take." (trailing dot).
#   - a manifest pair that could not be read did not say which line.
#   - rnnfx-process --dry-run did not say that an output exists (which
#     the real run fails without --overwrite or --skip-existing).
#   - an empty file name (an unset shell variable): rnnfx-process -o ""
#     wrote into the current folder, rnnfx-train trained and then could not
#     write (--report "", --midi -o "") or ran with no checkpoint. Usage
#     errors now, before any work.
#   - rnnfx-generate called an unknown last option one that "needs a
#     value"; rnnfx-train's bad values pointed at a --help that gives no
#     ranges, and named --type's bad value as --cell's; a long option
#     missing its value was named by a control character ("option -\005
#     needs a value or is unknown"). The messages now say what the option
#     takes.
#   - rnnfx-train took any unique prefix of a long option for it ("--min 5"
#     for --minutes), where every other tool takes whole names; now it is
#     refused, naming the option meant.
#   - rnnfx-live: an out-of-range start-up control pointed at a --help
#     that gives no ranges; the message gives the range.
#   - rnnfx-pluck: every bad value read "bad argument '--seconds'"; a
#     fractional --rate was truncated and --seconds with --overdrive
#     ignored, both without a word.
#   - rnnfx-convert printed a rate the input file does not state (the
#     loader's default, then written into the copy) like a stated one; it
#     now says it was assumed and names --sample-rate (also spelt --rate).
#   - rnnfx-convert --to aidax dropped a knob's name and range (AIDA-X
#     files hold neither) without a word; a note now says so (and the export
#     maps the range onto AIDA-X's 0..1: tests/test_interop.c).
#   - an absolute --pattern given with -o was written under the -o folder
#     (out/tmp/...): now a usage error naming both.
#   - rnnfx-process: two inputs of one name named as files (a.wav
#     sub/a.wav) were told to "use a --pattern with {dir}", which cannot
#     tell them apart; the advice given now works (checked by following it).
#   - rnnfx-process: one folder with no audio file among several inputs
#     stopped the whole run; it now fails alone (exit 1), the rest is done.
#   - rnnfx-process: a model file stating no sample rate was resampled to
#     an assumed rate without a word; a note says so, --model-rate sets it,
#     and one that contradicts a stated rate is refused.
#
#   - a model file that loads but settles far from 0 on silence (a
#     mis-converted AIDA-X GRU export sits at +0.198: a DC offset under
#     every note) was inspected, converted and played without a word.
#     rnnfx-inspect shows the rest output ("at rest:", JSON "rest_output")
#     and warns, rnnfx-process, rnnfx-convert and rnnfx-live warn; a
#     model that settles at 0 gets no warning, and the warning changes no
#     exit status.
#
# Runs from the repository root with BUILD set; needs only the built tools,
# the MIDI fixtures in tests/data/midi/nottingham, and /usr/bin/python3's
# standard library to edit a model file.
set -u
BUILD=${BUILD:-build}
BIN=$BUILD/bin
for t in process pluck inspect convert generate train live; do
    [ -x "$BIN/rnnfx-$t" ] || { echo "test_cli_misuse: $BIN/rnnfx-$t not built"; exit 1; }
done
[ -x "$BUILD/tests/test_process" ] || { echo "test_cli_misuse: $BUILD/tests/test_process not built"; exit 1; }

T=$(mktemp -d /tmp/rnnfx-test-misuse-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
# expect NAME STATUS PATTERN -- command... (tests/support/expect.sh): run
# in $T, the output in $T/.out
EXPECT_DIR=$T EXPECT_OUT=$T/.out
. tests/support/expect.sh
# unchanged NAME FILE: FILE still has the bytes saved in FILE.keep
unchanged() {
    if cmp -s "$T/$2" "$T/$2.keep"; then
        echo "ok   $1: $2 unchanged"
    else
        echo "FAIL $1: $2 was changed or removed"
        fails=$((fails + 1))
    fi
}

P=$(cd "$BIN" && pwd)
"$BUILD/tests/test_process" make-model "$T/m.json" gru 8 48000 >/dev/null || exit 1
"$P/rnnfx-pluck" -o "$T/in.wav" --seconds 0.5 >/dev/null 2>&1 || exit 1
"$P/rnnfx-pluck" -o "$T/other.wav" --seconds 0.5 --seed 2 >/dev/null 2>&1 || exit 1
for f in in.wav other.wav m.json; do cp "$T/$f" "$T/$f.keep"; done

# --- rnnfx-process: outputs through folders the run has not made yet -------
expect "process: an existing file through new/.. needs --overwrite" 1 "other.wav exists" -- \
    "$P/rnnfx-process" -q -m m.json -o new --pattern '../other.wav' in.wav
unchanged "process: existing file through new/.." other.wav
expect "process: -o new --pattern ../{name}.{ext} is the input" 2 "would be the input" -- \
    "$P/rnnfx-process" -q -m m.json -o new --pattern '../{name}.{ext}' in.wav
unchanged "process: input through new/.." in.wav
expect "process: sub/../{name}.{ext} without -o is the input" 2 "would be the input" -- \
    "$P/rnnfx-process" -q -m m.json --pattern 'sub/../{name}.{ext}' in.wav
unchanged "process: input through sub/.." in.wav
expect "process: the model through new/a/../.. is refused" 2 "would be the model" -- \
    "$P/rnnfx-process" -q -m m.json -o new --pattern 'a/../../m.json' --overwrite in.wav
unchanged "process: model through new/a/../.." m.json
for d in new sub; do
    [ -e "$T/$d" ] && { echo "FAIL process: folder $d was made by a refused run"; fails=$((fails + 1)); }
done
# A pattern that climbs inside the new folder still works, and makes only
# the folders the output is in.
expect "process: new/a/../b/{name}.{ext} is written" 0 "" -- \
    "$P/rnnfx-process" -q -m m.json -o new --pattern 'a/../b/{name}.{ext}' in.wav
if [ -f "$T/new/b/in.wav" ] && [ ! -e "$T/new/a" ]; then
    echo "ok   process: written to new/b/in.wav, no folder new/a"
else
    echo "FAIL process: expected new/b/in.wav and no new/a:"; (cd "$T" && find new) | sed 's/^/     /'
    fails=$((fails + 1))
fi

# An absolute pattern with -o was nested under the folder (out/tmp/...):
# now a usage error, nothing written; without -o it is used as given.
expect "process: -o with an absolute --pattern is a usage error" 2 "absolute path" -- \
    "$P/rnnfx-process" -q -m m.json -o absout --pattern "$T/abs-{name}.{ext}" in.wav
[ -e "$T/absout" ] || [ -e "$T/abs-in.wav" ] &&
    { echo "FAIL process: -o with an absolute pattern wrote something"; fails=$((fails + 1)); }
expect "process: an absolute --pattern without -o" 0 "" -- \
    "$P/rnnfx-process" -q -m m.json --pattern "$T/abs-{name}.{ext}" in.wav
[ -f "$T/abs-in.wav" ] || { echo "FAIL process: abs-in.wav not written"; fails=$((fails + 1)); }

# A folder input holding links back up the tree ("up -> .." and "self ->
# ../a") made the scan follow 2^64 paths: rnnfx-process never started. Each
# folder is now read once; the one file is processed once.
mkdir -p "$T/loop/a" && cp "$T/in.wav" "$T/loop/a/x.wav" &&
    ln -s .. "$T/loop/a/up" && ln -s ../a "$T/loop/a/self" || exit 1
expect "process: a folder with link loops finishes" 0 "1 done" -- \
    timeout 60 "$P/rnnfx-process" -m m.json -o loopout loop
n=$(cd "$T" && find loopout -name '*.wav' 2>/dev/null | wc -l)
[ "$n" -eq 1 ] && [ -f "$T/loopout/a/x.wav" ] ||
    { echo "FAIL process: expected loopout/a/x.wav alone, found $n file(s)"; fails=$((fails + 1)); }

# rnnfx-train --midi followed such links too (down to its depth limit of
# 16): five songs in a folder with two loop links trained as 10331, the same
# song on both sides of the validation split; a folder named twice counted
# twice. The songs counted must be those of the plain folder.
mkdir -p "$T/midi/a" "$T/midiplain" && cp tests/data/midi/nottingham/*.mid "$T/midi/a/" &&
    cp tests/data/midi/nottingham/*.mid "$T/midiplain/" &&
    ln -s .. "$T/midi/a/up" && ln -s ../a "$T/midi/a/self" || exit 1
expect "train --midi: a plain folder" 0 "songs train" -- \
    "$P/rnnfx-train" --midi midiplain -o mp.json --epochs 1 --hidden 4 --threads 1
plain=$(grep "songs train" "$T/.out")
expect "train --midi: a folder with link loops, named twice" 0 "songs train" -- \
    timeout 120 "$P/rnnfx-train" --midi midi midi -o ml.json --epochs 1 --hidden 4 --threads 1
looped=$(grep "songs train" "$T/.out")
[ -n "$plain" ] && [ "$plain" = "$looped" ] ||
    { echo "FAIL train --midi: '$looped' with loops, '$plain' without"; fails=$((fails + 1)); }

# A named pipe given as the model or the impulse response was opened and
# waited on for a writer that never came (the plugin's Worker would wait
# the same way); a folder as the response read as "Format not
# recognised". Both are refused at once, nothing written.
mkfifo "$T/pipe.json" "$T/pipe.wav" || exit 1
expect "process: a pipe as the model is refused, not waited on" 1 "not a regular file" -- \
    timeout 20 "$P/rnnfx-process" -q -m pipe.json -o pipeout in.wav
expect "inspect: a pipe is refused, not waited on" 1 "not a regular file" -- \
    timeout 20 "$P/rnnfx-inspect" --no-bench pipe.json
expect "process: a pipe as --ir is refused, not waited on" 1 "pipe.wav: not a regular file \(a pipe\)" -- \
    timeout 20 "$P/rnnfx-process" -q -m m.json --ir pipe.wav -o pipeout in.wav
mkdir -p "$T/irdir.wav"
expect "process: a folder as --ir is named a folder" 1 "irdir.wav: not a regular file \(a folder\)" -- \
    "$P/rnnfx-process" -q -m m.json --ir irdir.wav -o pipeout in.wav
[ -e "$T/pipeout" ] && { echo "FAIL process: a refused model or response left pipeout"; fails=$((fails + 1)); }

# --- rnnfx-train: a wet take recorded a second late --------------------------
# Past the delay search (170 ms) such a pair read as "not the same take",
# and "--delay N" then detected the polarity from the files as recorded,
# at the wrong lag: inverted, another capture. The hint names the --delay
# to give, and with it the pair trains as the aligned pair does (the same
# test ESR, bit for bit: the same aligned arrays, seed and thread count).
"$P/rnnfx-pluck" -o "$T/dry3.wav" --seconds 3 >/dev/null 2>&1 &&
    "$P/rnnfx-pluck" --overdrive "$T/dry3.wav" -o "$T/wet3.wav" >/dev/null 2>&1 || exit 1
/usr/bin/python3 - "$T/wet3.wav" "$T/wetlate.wav" <<'PY' || { echo "test_cli_misuse: cannot write wetlate.wav"; exit 1; }
import struct, sys
b = open(sys.argv[1], "rb").read()
i, fmt, data = 12, None, None
while i + 8 <= len(b):
    cid, sz = b[i:i + 4], struct.unpack("<I", b[i + 4:i + 8])[0]
    if cid == b"fmt ":
        fmt = b[i + 8:i + 8 + 16]
    elif cid == b"data":
        data = b[i + 8:i + 8 + sz]
    i += 8 + sz + (sz & 1)
tag, ch, rate, _, _, bits = struct.unpack("<HHIIHH", fmt)
assert bits == 32 and ch == 1, (tag, ch, bits)
data = b"\0" * (4 * rate) + data  # one second of silence first
hdr = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
hdr += b"fmt " + struct.pack("<IHHIIHH", 16, 3, 1, rate, rate * 4, 4, 32)
open(sys.argv[2], "wb").write(hdr + b"data" + struct.pack("<I", len(data)) + data)
PY
train3() { # output name, target, extra options...
    o=$1 t=$2
    shift 2
    "$P/rnnfx-train" -i dry3.wav -t "$t" -o "$o" --epochs 2 --hidden 4 --threads 1 \
        --no-report --no-preset "$@"
}
expect "train: the aligned pair" 0 "^result " -- train3 al.json wet3.wav
ref=$(sed -n 's/^result test_esr=\([^ ]*\) .* delay=\([-0-9]*\) inverted=\([01]\).*/\1 \2 \3/p' "$T/.out")
set -- $ref
esr=${1:-x} d=${2:-0}
expect "train: an empty --name (a blank preset in a host's list) is a usage error" 2 \
    "invalid value '' for --name" -- train3 noname.json wet3.wav --name ''
# (trained as found, such pairs end worse than silence: no model is written)
expect "train: a wet take a second late names the --delay to try" 1 "try --delay 48000" -- \
    train3 late.json wetlate.wav
expect "train: --delay past the search range trains as the aligned pair" 0 "^result " -- \
    train3 late2.json wetlate.wav --delay $((48000 + d))
grep -q "^result test_esr=$esr .* delay=$((48000 + d)) inverted=0" "$T/.out" ||
    { echo "FAIL train: --delay $((48000 + d)) gave '$(grep '^result' "$T/.out")', aligned pair test_esr=$esr"
      fails=$((fails + 1)); }
grep -q "explains only" "$T/.out" &&
    { echo "FAIL train: with the right --delay the pair still reads as 'not the same take'"; fails=$((fails + 1)); }
expect "train: a --delay off by 12 samples is pointed out" 1 "still peaks 12 samples later: check --delay" -- \
    train3 late3.json wetlate.wav --delay $((48000 + d - 12))

# The files rnnfx-train writes beside the model, picked as the model (the
# checkpoint for the newest weights, the preset bundle a host lists): "not
# valid JSON near byte 0" and "'x.lv2' is not a regular file" said nothing
# useful. Each is named.
(cd "$T" && "$P/rnnfx-train" -i dry3.wav -t wet3.wav -o cap.json --epochs 1 --hidden 4 --threads 1 -q) \
    >/dev/null 2>&1 || { echo "test_cli_misuse: cannot train cap.json"; exit 1; }
expect "process: the checkpoint as the model is named" 1 "is an rnnfx training checkpoint" -- \
    "$P/rnnfx-process" -q -m cap.json.ckpt -o ckout in.wav
expect "inspect: the report is named" 1 "is an HTML page" -- "$P/rnnfx-inspect" --no-bench cap.html
expect "inspect: the preset .ttl is named" 1 "is an LV2 preset" -- \
    "$P/rnnfx-inspect" --no-bench cap.lv2/cap.ttl
expect "inspect: the bundle folder points inside it" 1 "cap.lv2' is a folder \(an LV2 bundle: give the .json" -- \
    "$P/rnnfx-inspect" --no-bench cap.lv2

# --- names close to the file system's 255-byte limit ------------------------
# Every tool wrote through "<name>.tmp-XXXXXX", so a valid 250-byte output
# name could not be written: rnnfx-train trained to the end and then lost
# the model ("File name too long"), rnnfx-process and rnnfx-convert failed.
# Temporary names are now cut to fit, and rnnfx-train refuses up front a
# file it derives (the 259-byte "<name>.json.ckpt") that cannot exist.
L=$(printf '%0249d' 0 | tr 0 n)
expect "train: a checkpoint name too long is refused before training" 1 "its name is 259 bytes" -- \
    train3 "$L.json" wet3.wav
grep -q "^result" "$T/.out" && { echo "FAIL train: it trained first"; fails=$((fails + 1)); }
expect "train: a 254-byte model name is written" 0 "^result" -- \
    train3 "$L.json" wet3.wav --checkpoint short.ckpt
[ -f "$T/$L.json" ] || { echo "FAIL train: the 254-byte model was not written"; fails=$((fails + 1)); }
expect "process: a 254-byte output name is written" 0 "" -- \
    "$P/rnnfx-process" -q -m m.json -o longout --pattern "$L.{ext}" in.wav
[ -f "$T/longout/$L.wav" ] || { echo "FAIL process: the 254-byte output was not written"; fails=$((fails + 1)); }
expect "convert: a 255-byte output name is written" 0 "" -- \
    "$P/rnnfx-convert" m.json -o "${L}n.json"
[ -n "$(find "$T" -name '*.tmp*' -o -name '*.convert-*')" ] &&
    { echo "FAIL: a temporary file was left"; fails=$((fails + 1)); }

# --- names in another encoding than UTF-8 --------------------------------
# A take named in Latin-1 ("dr\377y.wav", from an old drive) or a --name
# typed on a Latin-1 terminal went into the model's JSON and the preset's
# Turtle as raw bytes: JSON and Turtle are UTF-8, so other JSON readers
# refused the model and every LV2 host refused the preset file (the preset
# silently missing). Such bytes are now written as U+FFFD; UTF-8 (é) is
# kept.
LAT=$(printf 'dr\377y.wav')
cp "$T/dry3.wav" "$T/$LAT" || exit 1
expect "train: a Latin-1 file name and --name" 0 "^result" -- \
    "$P/rnnfx-train" -i "$LAT" -t wet3.wav -o lat.json --name "$(printf 'amp \376 \303\251')" \
    --epochs 1 --hidden 4 --threads 1
expect "convert: the same model to AIDA-X" 0 "" -- "$P/rnnfx-convert" lat.json -o lat.aidax --rtneural
/usr/bin/python3 - "$T" <<'PY' || fails=$((fails + 1))
import json, sys
d = sys.argv[1]
bad = []
for f in ("lat.json", "lat.lv2/lat.json", "lat.lv2/lat.ttl", "lat.lv2/manifest.ttl", "lat.aidax"):
    try:
        text = open(d + "/" + f, "rb").read().decode("utf-8")
        if f.endswith((".json", ".aidax")):
            json.loads(text)
    except (UnicodeDecodeError, ValueError) as e:
        bad.append("%s: %s" % (f, e))
m = json.load(open(d + "/lat.json", encoding="utf-8"))["metadata"]
if m["name"] != "amp \ufffd \u00e9":
    bad.append("name %r" % m["name"])
if "dr\ufffdy.wav" not in m["description"]:
    bad.append("description %r" % m["description"])
if bad:
    print("FAIL not UTF-8 (or not JSON): " + "; ".join(bad))
    sys.exit(1)
print("ok   model, preset and AIDA-X export are UTF-8; the name reads as expected")
PY

# An input with no extension came out as "take." (a name ending in a dot).
cp "$T/in.wav" "$T/take" || exit 1
expect "process: an input with no extension keeps its name" 0 "" -- \
    "$P/rnnfx-process" -q -m m.json -o noext take
[ -f "$T/noext/take" ] && [ ! -e "$T/noext/take." ] ||
    { echo "FAIL process: expected noext/take, found: $(ls "$T/noext")"; fails=$((fails + 1)); }

# A manifest pair that cannot be read ("missing.wav: cannot open") was not
# placed in the manifest: the message now names the line.
printf 'dry3.wav wet3.wav gain=0.3\n# a comment\ndry3.wav missing.wav gain=0.8\n' >"$T/pairs.txt"
expect "train: a manifest pair that cannot be read names its line" 1 "the pair on pairs.txt line 3" -- \
    "$P/rnnfx-train" --manifest pairs.txt -o mf.json --epochs 1 --hidden 4 --threads 1

# --dry-run printed "in -> out" for an output that exists, which the real
# run then fails: it says so now.
expect "process: --dry-run marks an existing output" 0 "in.wav -> noext/in.wav  \(exists: fails without --overwrite" -- \
    sh -c "cp in.wav noext/in.wav && '$P/rnnfx-process' -m m.json -o noext --dry-run in.wav"

# An empty name (a command line with "$OUT" unset): rnnfx-process -o ""
# wrote into the current folder with exit 0; rnnfx-train --report "" and
# --midi -o "" trained and then could not write; --checkpoint "" ran with
# no checkpoint. All are usage errors before any work now.
mkdir -p "$T/eo" && cp "$T/in.wav" "$T/eo/take.wav" || exit 1
expect "process: -o '' is a usage error, nothing written" 2 "needs a name, not an empty string" -- \
    "$P/rnnfx-process" -q -m m.json -o "" eo/take.wav
[ -e "$T/take.wav" ] && { echo "FAIL process: -o '' wrote take.wav into the current folder"; fails=$((fails + 1)); }
for opt in --report --checkpoint --preset --resume --evaluate; do
    expect "train: $opt '' is a usage error" 2 "invalid value '' for $opt" -- \
        "$P/rnnfx-train" -i dry3.wav -t wet3.wav -o empty.json $opt "" --epochs 1
done
# a file option given twice, or named and refused: usage errors
expect "train: --report twice is a usage error" 2 "--report is given twice" -- \
    "$P/rnnfx-train" -i dry3.wav -t wet3.wav -o twice.json --report a.html --report b.html --epochs 1
expect "train: --report X --no-report contradict" 2 "contradict" -- \
    "$P/rnnfx-train" -i dry3.wav -t wet3.wav -o twice.json --report a.html --no-report --epochs 1
expect "train: --resume twice is a usage error" 2 "--resume is given twice" -- \
    "$P/rnnfx-train" -i dry3.wav -t wet3.wav -o twice.json --resume a.ckpt --resume b.ckpt --epochs 1
[ -e "$T/twice.json" ] && { echo "FAIL train: a refused command line wrote a model"; fails=$((fails + 1)); }
expect "train --midi: -o '' is a usage error" 2 "needs a name, not an empty string" -- \
    "$P/rnnfx-train" --midi midiplain -o "" --epochs 1
expect "train --midi: --checkpoint '' is a usage error" 2 "--checkpoint needs a file name" -- \
    "$P/rnnfx-train" --midi midiplain -o em.json --checkpoint "" --epochs 1
[ -n "$(cd "$T" && ls -d empty.* em.* 2>/dev/null)" ] &&
    { echo "FAIL train: a refused run wrote $(cd "$T" && ls -d empty.* em.*)"; fails=$((fails + 1)); }

# --- rnnfx-process: advice that works, one bad input fails alone ----------
# Two files of one name named on the command line ("a.wav sub/a.wav" with
# -o) were told "use a --pattern with {dir}", which was the pattern already
# and cannot tell them apart ({dir} is the subfolder below a folder input,
# "" for both). The advice given must be one that works: following it
# writes both.
mkdir -p "$T/clash/sub" && cp "$T/in.wav" "$T/clash/a.wav" && cp "$T/other.wav" "$T/clash/sub/a.wav" || exit 1
expect "process: two a.wav named as files: no {dir} advice" 2 "would both be written to .*write each beside its input instead \(no -o, --pattern '\{name\}-fx\.\{ext\}'\)" -- \
    "$P/rnnfx-process" -q -m m.json -o clashout --pattern '{dir}{name}.{ext}' clash/a.wav clash/sub/a.wav
grep -qi "with {dir}\|put {dir}" "$T/.out" && { echo "FAIL process: {dir} advised where it cannot help"; fails=$((fails + 1)); }
[ -e "$T/clashout" ] && { echo "FAIL process: a refused clash wrote clashout"; fails=$((fails + 1)); }
expect "process: ... and the advice works" 0 "" -- \
    "$P/rnnfx-process" -q -m m.json --pattern '{name}-fx.{ext}' clash/a.wav clash/sub/a.wav
[ -f "$T/clash/a-fx.wav" ] && [ -f "$T/clash/sub/a-fx.wav" ] ||
    { echo "FAIL process: the advised pattern did not write both"; fails=$((fails + 1)); }
# Found in a folder at different depths, {dir} does tell them apart: then
# (and only then) it is the advice, and it works.
rm -f "$T/clash/a-fx.wav" "$T/clash/sub/a-fx.wav"
expect "process: a folder's a.wav and sub/a.wav: {dir} advised" 2 "put \{dir\} in the --pattern" -- \
    "$P/rnnfx-process" -q -m m.json -o clashout --pattern '{name}.{ext}' clash
expect "process: ... and the advice works" 0 "" -- \
    "$P/rnnfx-process" -q -m m.json -o clashout --pattern '{dir}{name}.{ext}' clash
[ -f "$T/clashout/a.wav" ] && [ -f "$T/clashout/sub/a.wav" ] ||
    { echo "FAIL process: {dir} did not write both"; fails=$((fails + 1)); }

# One folder holding no audio among several inputs stopped the whole run
# ("adir: folder holds no audio files", exit 2, nothing done), while a
# missing file fails alone. It now fails alone too: the others are done,
# exit 1. Alone (nothing else to do) it is still a usage error.
mkdir -p "$T/emptydir"
expect "process: an empty folder among inputs fails alone" 1 "FAILED emptydir: folder holds no audio files" -- \
    "$P/rnnfx-process" -m m.json -o emptyout emptydir in.wav
grep -q "1 done, 0 skipped, 1 failed" "$T/.out" ||
    { echo "FAIL process: the summary does not count the empty folder as failed"; fails=$((fails + 1)); }
[ -f "$T/emptyout/in.wav" ] || { echo "FAIL process: in.wav not done beside the empty folder"; fails=$((fails + 1)); }
printf 'emptydir\nother.wav\n' >"$T/elist.txt"
expect "process: an empty folder in a list fails alone" 1 "FAILED emptydir: folder holds no audio files" -- \
    "$P/rnnfx-process" -q -m m.json -o emptyout2 --list elist.txt
[ -f "$T/emptyout2/other.wav" ] || { echo "FAIL process: other.wav not done beside the empty folder"; fails=$((fails + 1)); }
expect "process: an empty folder alone is a usage error" 2 "emptydir: folder holds no audio files" -- \
    "$P/rnnfx-process" -q -m m.json -o emptyout3 emptydir
[ -e "$T/emptyout3" ] && { echo "FAIL process: emptyout3 made for nothing"; fails=$((fails + 1)); }

# --- rnnfx-process: a model file that states no sample rate ---------------
# A model file that states no sample rate was resampled to its format's
# usual one without a word (rnnfx-inspect shows it as assumed): a note now
# says so and names --model-rate, which sets it (the output is that of a
# copy of the file stating that rate); a --model-rate that contradicts a
# rate the file states is refused, nothing written.
cp tests/data/interop/chowcentaur_klon_gain0_gru8.json "$T/norate.json" || exit 1
expect "process: an assumed model rate is noted" 0 "note: norate.json does not state its sample rate; 48000 Hz assumed.*--model-rate HZ" -- \
    "$P/rnnfx-process" -m norate.json -o nr48 in.wav
expect "process: ... not with -q" 0 "" -- "$P/rnnfx-process" -q -m norate.json -o nr48q in.wav
[ -s "$T/.out" ] && { echo "FAIL process: -q printed:"; sed 's/^/     /' "$T/.out"; fails=$((fails + 1)); }
"$P/rnnfx-convert" "$T/norate.json" --sample-rate 44100 -o "$T/rate44.json" >/dev/null 2>&1 ||
    { echo "test_cli_misuse: cannot write rate44.json"; exit 1; }
expect "process: --model-rate 44100 on a file that states none" 0 "" -- \
    "$P/rnnfx-process" -m norate.json --model-rate 44100 -o nr44 in.wav
grep -q "note" "$T/.out" && { echo "FAIL process: a note although --model-rate was given"; fails=$((fails + 1)); }
"$P/rnnfx-process" -q -m "$T/rate44.json" -o "$T/r44" "$T/in.wav" >/dev/null 2>&1
if cmp -s "$T/nr44/in.wav" "$T/r44/in.wav" && ! cmp -s "$T/nr44/in.wav" "$T/nr48/in.wav"; then
    echo "ok   process: --model-rate 44100 plays as a file stating 44100 Hz"
else
    echo "FAIL process: --model-rate 44100 output is not that of a 44.1 kHz model"; fails=$((fails + 1))
fi
expect "process: --model-rate against a stated rate is refused" 2 "--model-rate 44100: m.json states 48000 Hz" -- \
    "$P/rnnfx-process" -q -m m.json --model-rate 44100 -o mrout in.wav
[ -e "$T/mrout" ] && { echo "FAIL process: a refused --model-rate wrote mrout"; fails=$((fails + 1)); }
expect "process: --model-rate equal to the stated rate" 0 "" -- \
    "$P/rnnfx-process" -q -m m.json --model-rate 48000 -o mrout2 in.wav

# --- messages that name the problem ------------------------------------------
# rnnfx-generate said "--bogus needs a value" for an unknown last option,
# and "unknown option 'x.json'" for a model given without -m.
expect "generate: unknown last option" 2 "unknown option '--bogus'" -- \
    "$P/rnnfx-generate" -m m.json -o g.mid --bogus
grep -q "needs a value" "$T/.out" && { echo "FAIL generate: --bogus 'needs a value'"; fails=$((fails + 1)); }
expect "generate: a model given without -m" 2 "unexpected argument 'm.json'.*-m MODEL" -- \
    "$P/rnnfx-generate" m.json -o g.mid
# rnnfx-train's "invalid value '5000' for --hidden (see --help)" sent the
# user to a help text that gives no ranges, and a bad --type value was
# reported as --cell's.
expect "train: --hidden out of range says the range" 2 "invalid value '5000' for --hidden: .*1 to 256" -- \
    "$P/rnnfx-train" -i in.wav -t other.wav -o t.json --hidden 5000
expect "train: a bad --type is named --type" 2 "invalid value 'foo' for --type: gru, lstm or rnn" -- \
    "$P/rnnfx-train" -i in.wav -t other.wav -o t.json --type foo
expect "train: --minutes 0 says what it takes" 2 "invalid value '0' for --minutes: minutes above 0" -- \
    "$P/rnnfx-train" -i in.wav -t other.wav -o t.json --minutes 0
# A long option missing its value, or given one it does not take, was
# reported with its internal code as a character: "option -\005 needs a
# value or is unknown". -o "" was reported as a bad --preset.
expect "train: --minutes at the end names --minutes" 2 "^rnnfx-train: --minutes needs a value" -- \
    "$P/rnnfx-train" -i in.wav -t other.wav -o t.json --minutes
tr -d '\n' <"$T/.out" | LC_ALL=C grep -q '[[:cntrl:]]' &&
    { echo "FAIL train: control character in the --minutes message"; fails=$((fails + 1)); }
expect "train: --skip=1 takes no value" 2 "^rnnfx-train: --skip takes no value" -- \
    "$P/rnnfx-train" -i in.wav -t other.wav -o t.json --skip=1
expect "train: an unknown short option is unknown" 2 "^rnnfx-train: unknown option '-x'" -- \
    "$P/rnnfx-train" -i in.wav -t other.wav -o t.json -x
expect "train: -o '' is no output" 2 "-o/--output needs a name, not an empty string" -- \
    "$P/rnnfx-train" -i in.wav -t other.wav -o ""

# --- rnnfx-convert: what a format cannot hold is said -----------------------
# An AIDA-X file keeps no knob names or ranges: a knob trained on 0.3..0.8
# came back as an unnamed 0..1 one without a word. A note names it; an
# rnnfx copy keeps the knob and gets none.
"$BUILD/tests/test_process" make-model "$T/knob.json" gru 8 48000 drive >/dev/null || exit 1
/usr/bin/python3 - "$T/knob.json" <<'PY' || { echo "test_cli_misuse: cannot edit knob.json"; exit 1; }
import json, sys
m = json.load(open(sys.argv[1]))
m["params"] = [{"name": "drive", "min": 0.3, "max": 0.8, "default": 0.55}]
json.dump(m, open(sys.argv[1], "w"))
PY
expect "convert: an AIDA-X export names the knob range it drops" 0 \
    "note: aidax keeps no knob names or ranges: knob 1 'drive' \(0.3 \.\. 0.8" -- \
    "$P/rnnfx-convert" knob.json -o knob.aidax
expect "convert: an rnnfx copy keeps the knob, no note" 0 "" -- \
    "$P/rnnfx-convert" knob.json -o knob-copy.json
grep -q "note" "$T/.out" && { echo "FAIL convert: a note for an rnnfx copy"; fails=$((fails + 1)); }
# A file that states no sample rate was converted with "48000 Hz" on the
# success line like a stated rate, and the copy then states it as fact.
# The assumed rate is still written (every format written states one), but
# a note says it was assumed and names --sample-rate; with the option (or
# --rate, rnnfx-inspect's spelling) the line says where the rate came from.
D=$(pwd)/tests/data/interop
expect "convert: an assumed rate is said to be assumed" 0 \
    "does not state its sample rate; 48000 Hz is assumed and written to sd1.json \(give --sample-rate R" -- \
    "$P/rnnfx-convert" "$D/neuralaudio_boss_sd1_lstm_2x8.nam" -o sd1.json
grep -q -- "-> sd1.json (rnnfx): .*48000 Hz (assumed: the input file does not say)" "$T/.out" ||
    { echo "FAIL convert: the success line does not say the rate was assumed"; fails=$((fails + 1)); }
expect "convert: --rate is taken for --sample-rate" 0 "44100 Hz \(given by --rate\)" -- \
    "$P/rnnfx-convert" "$D/neuralaudio_boss_sd1_lstm_2x8.nam" -o sd1-44.json --rate 44100
grep -q "assumed" "$T/.out" && { echo "FAIL convert: a rate given by --rate said to be assumed"; fails=$((fails + 1)); }
expect "convert: the copy states the rate given" 0 "sample rate: +44100 Hz$" -- \
    "$P/rnnfx-inspect" --no-bench sd1-44.json
expect "convert: a stated rate gets no note" 0 "" -- \
    "$P/rnnfx-convert" "$D/namcore_example_lstm_1x3.nam" -o stated.json
grep -Eq "assumed|note" "$T/.out" && { echo "FAIL convert: a stated rate said to be assumed"; fails=$((fails + 1)); }
# rnnfx-pluck said "bad argument '--seconds'" for any bad value, took
# "--rate 44100.5" as 44100 and ignored --seconds with --overdrive.
expect "pluck: a bad value is shown with what the option takes" 2 \
    "bad argument '--seconds 0': --seconds takes seconds, above 0 and at most 3600" -- \
    "$P/rnnfx-pluck" -o p.wav --seconds 0
expect "pluck: a fractional --rate is refused" 2 "--rate takes a whole number of Hz" -- \
    "$P/rnnfx-pluck" -o p.wav --rate 44100.5 --seconds 1
expect "pluck: --seconds with --overdrive is refused" 2 "--seconds does not apply to --overdrive" -- \
    "$P/rnnfx-pluck" --overdrive in.wav -o p.wav --seconds 3
# an abbreviation that fits several options read "unknown option '--in'"
expect "train: an ambiguous prefix is called ambiguous" 2 "ambiguous option '--in' .--input, --input-channel" -- \
    "$P/rnnfx-train" --in x.wav
# a prefix of one option was taken for it ("--min 5" trained 5 minutes),
# where every other tool takes whole names only
expect "train: a unique prefix is not taken for the option" 2 "unknown option '--min'; did you mean --minutes" -- \
    "$P/rnnfx-train" -i x.wav -t y.wav -o m.json --min 5
# -o twice wrote only the second file; a render under one sample wrote a
# file with no frames, which every other tool refuses
expect "pluck: -o given twice is a usage error" 2 "-o/--output is given twice .'p.wav', 'q.wav'." -- \
    "$P/rnnfx-pluck" -o p.wav -o q.wav --seconds 0.5
expect "pluck: --overdrive given twice is a usage error" 2 "--overdrive is given twice" -- \
    "$P/rnnfx-pluck" --overdrive in.wav --overdrive other.wav -o p.wav
expect "pluck: a render shorter than one sample is refused" 2 "less than one sample" -- \
    "$P/rnnfx-pluck" -o p.wav --seconds 0.00001
[ -e "$T/p.wav" ] || [ -e "$T/q.wav" ] && { echo "FAIL pluck: a refused command wrote p.wav or q.wav"; fails=$((fails + 1)); }
# rnnfx-live said "--in-gain 100 is out of range (see --help)", and its
# --help gives no ranges. Refused before any device is opened.
expect "live: an out-of-range gain says the range" 2 "--in-gain 100 is out of range: --in-gain takes -60 to 24 dB" -- \
    "$P/rnnfx-live" --in-gain 100
expect "live: an out-of-range mix says the range" 2 "--mix takes 0 \(dry\) to 1 \(wet\)" -- \
    "$P/rnnfx-live" --mix 2

# --- a model that settles far from 0 on silence ---------------------------
# Dense layer 0 and bias 0.3 (the GRU's state does not matter then): the
# output is the bias times the output gain on silence, whatever the
# recurrent weights; bias 0 gives a model that settles at exactly 0.
/usr/bin/python3 - "$T" <<'PY' || { echo "test_cli_misuse: cannot write the model files"; exit 1; }
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/m.json"))
for name, bias in (("dc.json", 0.3), ("quiet.json", 0.0)):
    m["dense"]["weight"] = [0.0] * len(m["dense"]["weight"])
    m["dense"]["bias"] = [bias] * len(m["dense"]["bias"])
    m["skip"] = False
    m["output_gain"] = 1.0
    json.dump(m, open(d + "/" + name, "w"))
PY
expect "inspect: rest output shown and warned about" 0 "warning: dc.json: on silence the model settles at \+0\.300" -- \
    "$P/rnnfx-inspect" --no-bench dc.json
grep -q "at rest: *output +0.300000 on silence" "$T/.out" ||
    { echo "FAIL inspect: no 'at rest' line for dc.json"; fails=$((fails + 1)); }
expect "inspect --json: rest_output" 0 '"rest_output": ?0\.3' -- \
    "$P/rnnfx-inspect" --no-bench --json dc.json
expect "inspect: a model at rest at 0 is not warned about" 0 "at rest: *output \+0\.000000" -- \
    "$P/rnnfx-inspect" --no-bench quiet.json
grep -q "warning" "$T/.out" && { echo "FAIL inspect: quiet.json warned"; fails=$((fails + 1)); }
expect "process: warns about the model's offset once" 0 "warning: dc.json: on silence" -- \
    "$P/rnnfx-process" -q -m dc.json -o dcout in.wav
[ "$(grep -c "on silence" "$T/.out")" -eq 1 ] ||
    { echo "FAIL process: the offset warning is not given exactly once"; fails=$((fails + 1)); }
expect "process: no warning for a model at rest at 0" 0 "" -- \
    "$P/rnnfx-process" -q -m quiet.json -o quietout in.wav
[ -s "$T/.out" ] && { echo "FAIL process: quiet.json printed:"; sed 's/^/     /' "$T/.out"; fails=$((fails + 1)); }
# (no host API of that name: exits before any device, after the model)
expect "live: warns about the offset at start-up" 1 "warning: dc.json: on silence" -- \
    "$P/rnnfx-live" -m dc.json --host-api no-such-api
expect "convert: warns about the offset and still converts" 0 "warning: dc.json: on silence" -- \
    "$P/rnnfx-convert" dc.json -o dc-copy.json
[ -f "$T/dc-copy.json" ] || { echo "FAIL convert: dc-copy.json not written"; fails=$((fails + 1)); }

if [ $fails -ne 0 ]; then
    echo "test_cli_misuse: $fails check(s) failed"
    exit 1
fi
echo "test_cli_misuse: all checks passed"

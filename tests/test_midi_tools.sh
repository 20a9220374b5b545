#!/bin/sh
# test_midi_tools.sh — rnnfx-train --midi and rnnfx-generate end to end, on
# the three Nottingham tunes in tests/data/midi (seconds, not minutes):
# training writes a midi-frames model and skips a corrupt file with its
# name; a checkpoint resumes; a second run into an existing model is refused
# before any work (the files kept) unless --force, or --resume with the same
# --checkpoint; generation continues a file and composes from
# silence, is identical for a seed and differs across seeds; its output
# reads back as MIDI; it continues on a bar line of the input's last
# meter, makes bars that are not whole grid steps the right length, and
# writes a division-1 primer's continuation without zero-length or stuck
# notes; MIDI files whose notes claim too much time are refused; bad input
# is refused with a message; an output that
# is one of the inputs, or a folder, or in a missing folder, or named as an
# audio file, and a folder as input, are refused before any work.
set -u
BUILD=${BUILD:-build}
TRAIN="$BUILD/bin/rnnfx-train"
GEN="$BUILD/bin/rnnfx-generate"
for b in "$TRAIN" "$GEN"; do
    [ -x "$b" ] || { echo "test_midi_tools: $b not built"; exit 1; }
done
tmp=$(mktemp -d /tmp/rnnfx-midi-tools-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# smf FILE DIVISION HEX: writes a format-0 Standard MIDI File whose one
# track holds the event bytes HEX (delta times included, end of track last)
smf() {
    /usr/bin/python3 -c '
import struct, sys
ev = bytes.fromhex(sys.argv[3])
open(sys.argv[1], "wb").write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, int(sys.argv[2])) +
                              b"MTrk" + struct.pack(">I", len(ev)) + ev)
' "$1" "$2" "$3" || fail "cannot write $1"
}
data=tests/data/midi

mkdir "$tmp/songs"
cp "$data"/nottingham/*.mid "$tmp/songs/"
cp "$data/bad/truncated.mid" "$tmp/songs/zz_broken.mid"
# skipped, each for its own reason (both were "no notes outside channel 10")
smf "$tmp/songs/zz_high.mid" 480 "00907f40 8360807f00 00ff2f00"
smf "$tmp/songs/zz_drums.mid" 480 "00992464 8360892400 00ff2f00"

"$TRAIN" --midi "$tmp/songs" -o "$tmp/m.json" --grid eighth --hidden 8 --segment 16 --batch 4 \
    --epochs 3 --threads 1 --checkpoint "$tmp/ck" >"$tmp/train.log" 2>&1 ||
    { cat "$tmp/train.log"; fail "training failed"; }
grep -q "skipping .*zz_broken.mid" "$tmp/train.log" || { cat "$tmp/train.log"; fail "corrupt file not named"; }
grep -q "skipping .*zz_high.mid: its 1 note(s) lie outside the model's keys" "$tmp/train.log" ||
    { cat "$tmp/train.log"; fail "a file of notes out of range not skipped for that"; }
grep -q "skipping .*zz_drums.mid: it has only drum notes" "$tmp/train.log" ||
    { cat "$tmp/train.log"; fail "a drums-only file not skipped for that"; }
grep -q '^result: cell=gru hidden=8' "$tmp/train.log" || { cat "$tmp/train.log"; fail "no result line"; }
grep -q '"kind": "midi-frames"' "$tmp/m.json" || fail "model not marked midi-frames"
grep -q '"steps_per_quarter": 2' "$tmp/m.json" || fail "grid not stored"
[ -f "$tmp/ck" ] || fail "no checkpoint written"

"$TRAIN" --midi "$tmp/songs" -o "$tmp/m2.json" --grid eighth --hidden 8 --segment 16 --batch 4 \
    --epochs 4 --threads 1 --resume "$tmp/ck" >"$tmp/resume.log" 2>&1 ||
    { cat "$tmp/resume.log"; fail "resume failed"; }
grep -q "resumed .* at epoch 3" "$tmp/resume.log" || { cat "$tmp/resume.log"; fail "did not resume at epoch 3"; }
grep -q "^epoch    4" "$tmp/resume.log" || { cat "$tmp/resume.log"; fail "resume did not train epoch 4"; }

# the first run's files are kept: the same line run again is refused
cp "$tmp/m.json" "$tmp/m.keep"
cp "$tmp/ck" "$tmp/ck.keep"
"$TRAIN" --midi "$tmp/songs" -o "$tmp/m.json" --grid eighth --hidden 8 --segment 16 --batch 4 \
    --epochs 3 --threads 1 --checkpoint "$tmp/ck" >"$tmp/again.log" 2>&1
[ $? -eq 1 ] || { cat "$tmp/again.log"; fail "a run into an existing model is not refused with exit 1"; }
grep -q "m.json (the model), .*ck (the checkpoint) and .*ck.best.json .* already exist" "$tmp/again.log" ||
    { cat "$tmp/again.log"; fail "the refusal does not name the files"; }
grep -q -- "give --force to replace them, --resume $tmp/ck" "$tmp/again.log" ||
    { cat "$tmp/again.log"; fail "the refusal does not give --force and --resume"; }
grep -q "skipping\|^epoch" "$tmp/again.log" && fail "the refusal came after reading the songs"
cmp -s "$tmp/m.json" "$tmp/m.keep" && cmp -s "$tmp/ck" "$tmp/ck.keep" || fail "the refused run changed a file"
# --resume from the run's own --checkpoint carries on into its files
"$TRAIN" --midi "$tmp/songs" -o "$tmp/m.json" --grid eighth --hidden 8 --segment 16 --batch 4 \
    --epochs 4 --threads 1 --checkpoint "$tmp/ck" --resume "$tmp/ck" >"$tmp/cont.log" 2>&1 ||
    { cat "$tmp/cont.log"; fail "--resume CK --checkpoint CK into the same -o refused"; }
grep -q "^epoch    4" "$tmp/cont.log" || { cat "$tmp/cont.log"; fail "the continued run did not train epoch 4"; }
cmp -s "$tmp/m.json" "$tmp/m.keep" && fail "the continued run did not write its model"
# ... without --checkpoint it has no files of its own: refused
"$TRAIN" --midi "$tmp/songs" -o "$tmp/m.json" --grid eighth --hidden 8 --segment 16 --batch 4 \
    --epochs 5 --threads 1 --resume "$tmp/ck" >"$tmp/cont2.log" 2>&1
[ $? -eq 1 ] && grep -q "give --force" "$tmp/cont2.log" || { cat "$tmp/cont2.log"; fail "--resume alone replaced a model"; }
# --force (and -f) replace
cp "$tmp/m.keep" "$tmp/mf.json"
"$TRAIN" --midi "$tmp/songs" -o "$tmp/mf.json" --grid eighth --hidden 8 --segment 16 --batch 4 \
    --epochs 1 --threads 1 -q --force >"$tmp/force.log" 2>&1 || { cat "$tmp/force.log"; fail "--force refused"; }
cmp -s "$tmp/mf.json" "$tmp/m.keep" && fail "--force did not replace the model"
cp "$tmp/m.keep" "$tmp/mf.json"
"$TRAIN" --midi "$tmp/songs" -o "$tmp/mf.json" --grid eighth --hidden 8 --segment 16 --batch 4 \
    --epochs 1 --threads 1 -q -f >"$tmp/force.log" 2>&1 || { cat "$tmp/force.log"; fail "-f refused"; }
cmp -s "$tmp/mf.json" "$tmp/m.keep" && fail "-f did not replace the model"

# the audio mode's option spellings: --type (MIDI mode's --cell) and
# --name=value were unknown options in MIDI mode
"$TRAIN" --midi "$tmp/songs" -o "$tmp/m3.json" --type=lstm --hidden=8 --segment=16 --batch 4 \
    --epochs=1 --threads 1 -q >"$tmp/type.log" 2>&1 || { cat "$tmp/type.log"; fail "--type=lstm --hidden=8 refused"; }
grep -q '"type": "lstm"' "$tmp/m3.json" || fail "--type lstm did not make an LSTM"

# the model and the checkpoint under one name: refused before any work
"$TRAIN" --midi "$tmp/songs" -o "$tmp/mc.json" --checkpoint "$tmp/mc.json" --epochs 1 >"$tmp/mc.log" 2>&1
[ $? -eq 2 ] || { cat "$tmp/mc.log"; fail "-o M --checkpoint M is not a usage error"; }
grep -q "must be different files" "$tmp/mc.log" || { cat "$tmp/mc.log"; fail "no reason for -o M --checkpoint M"; }
[ -e "$tmp/mc.json" ] && fail "-o M --checkpoint M wrote something"

# Ctrl-C: the best model so far is written, and said (it ended silently)
"$TRAIN" --midi "$tmp/songs" -o "$tmp/int.json" --grid eighth --hidden 8 --segment 16 --batch 4 \
    --minutes 2 --patience 1000000 --threads 1 >"$tmp/int.log" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '^epoch ' "$tmp/int.log" 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
kill -INT $pid
wait $pid || { cat "$tmp/int.log"; fail "Ctrl-C: exit status $?"; }
grep -q "interrupted: writing the best model so far" "$tmp/int.log" || { cat "$tmp/int.log"; fail "Ctrl-C not said"; }
grep -q '"kind": "midi-frames"' "$tmp/int.json" || fail "Ctrl-C: no model written"

# generation: continue a file, compose from silence, determinism
"$GEN" -m "$tmp/m.json" -i "$data/nottingham/jigs1.mid" -o "$tmp/a.mid" --bars 4 --seed 5 \
    >"$tmp/gen.log" 2>&1 || { cat "$tmp/gen.log"; fail "generate (continue) failed"; }
"$GEN" -m "$tmp/m.json" -i "$data/nottingham/jigs1.mid" -o "$tmp/b.mid" --bars 4 --seed 5 \
    >/dev/null 2>&1 || fail "generate (repeat) failed"
"$GEN" -m "$tmp/m.json" -i "$data/nottingham/jigs1.mid" -o "$tmp/c.mid" --bars 4 --seed 6 \
    --temperature 1.5 >/dev/null 2>&1 || fail "generate (seed 6) failed"
cmp -s "$tmp/a.mid" "$tmp/b.mid" || fail "same seed gave different files"
cmp -s "$tmp/a.mid" "$tmp/c.mid" && fail "different seeds gave the same file"
"$GEN" -m "$tmp/m.json" -o "$tmp/d.mid" --bars 2 --bpm 90 --time-signature 3/4 \
    >"$tmp/gen2.log" 2>&1 || { cat "$tmp/gen2.log"; fail "generate from silence failed"; }
grep -q "2 bar(s) of 3/4 (12 grid steps" "$tmp/gen2.log" || { cat "$tmp/gen2.log"; fail "wrong length"; }
# A bar of 3/16 on an eighth grid is 1.5 steps: 4 bars are 6 steps (a bar
# rounded up to 2 steps once made them 8, 5 1/3 bars)
"$GEN" -m "$tmp/m.json" -o "$tmp/g.mid" --bars 4 --time-signature 3/16 >"$tmp/gen3.log" 2>&1 ||
    { cat "$tmp/gen3.log"; fail "generate in 3/16 failed"; }
grep -q "4 bar(s) of 3/16 (6 grid steps" "$tmp/gen3.log" || { cat "$tmp/gen3.log"; fail "wrong length in 3/16"; }
# The continuation plays in the meter the input ends in, counted from where
# it began: ashover1 ends in the 3/4 that starts at tick 94208 (92
# quarters, step 184 of the eighth grid), so its bars start at 184 + 6k
# (counted from the song's first 3/4 they started at 6k, two beats off)
"$GEN" -m "$tmp/m.json" -i "$data/nottingham/ashover1.mid" -o "$tmp/h.mid" --bars 2 \
    >"$tmp/gen4.log" 2>&1 || { cat "$tmp/gen4.log"; fail "generate after ashover1 failed"; }
s=$(sed -n 's/.*grid steps from step \([0-9]*\),.*/\1/p' "$tmp/gen4.log")
grep -q "2 bar(s) of 3/4 (12 grid steps" "$tmp/gen4.log" && [ -n "$s" ] && [ $(((s - 184) % 6)) -eq 0 ] ||
    { cat "$tmp/gen4.log"; fail "the continuation is not on a bar line of the input's last meter"; }
# A primer with no notes whose 3/4 begins after a bar of 4/4 (tick 1920 at
# division 480: step 8 of the eighth grid): the continuation starts there,
# on its first bar line, not at step 0 (read backwards from the 3/4)
smf "$tmp/meter.mid" 480 "00ff580404021808 8f00ff580403021808 00ff2f00"
"$GEN" -m "$tmp/m.json" -i "$tmp/meter.mid" -o "$tmp/meter-out.mid" --bars 2 >"$tmp/gen6.log" 2>&1 ||
    { cat "$tmp/gen6.log"; fail "generate after a note-less primer failed"; }
grep -q "2 bar(s) of 3/4 (12 grid steps from step 8," "$tmp/gen6.log" ||
    { cat "$tmp/gen6.log"; fail "a note-less primer's continuation is not on the bar line of its last meter"; }
# A primer whose last bars are drums (channel 10, which the model does not
# play): a beat of melody, then a kick held to the end of bar 2 (tick 3840,
# step 16). The new part used to start at the bar after the melody (step
# 8), over the drums; it starts after them
smf "$tmp/drums.mid" 480 "00ff580404021808 00903c40 8360803c00 00992464 9a20892400 00ff2f00"
"$GEN" -m "$tmp/m.json" -i "$tmp/drums.mid" -o "$tmp/drums-out.mid" --bars 1 >"$tmp/gen8.log" 2>&1 ||
    { cat "$tmp/gen8.log"; fail "generate after a primer ending in drums failed"; }
grep -q "1 bar(s) of 4/4 (8 grid steps from step 16," "$tmp/gen8.log" ||
    { cat "$tmp/gen8.log"; fail "the continuation starts over the primer's closing drums"; }
# A bar shorter than a grid step whose bar line is off the grid (1/16
# from tick 60: step 0.25 of the eighth grid) still gets a step (it made 0)
smf "$tmp/m116.mid" 480 "00ff580404021808 3cff580401041808 00ff2f00"
"$GEN" -m "$tmp/m.json" -i "$tmp/m116.mid" -o "$tmp/m116-out.mid" --bars 1 >"$tmp/gen7.log" 2>&1 ||
    { cat "$tmp/gen7.log"; fail "generate after a 1/16 primer failed"; }
grep -q "1 bar(s) of 1/16 (1 grid steps from step 1," "$tmp/gen7.log" ||
    { cat "$tmp/gen7.log"; fail "a bar shorter than a grid step got no step"; }
# A primer with fewer ticks per quarter than grid steps (division 1 on an
# eighth grid): the output gets a finer division, so no note has zero length
# or is left sounding (one-step notes once landed on one tick, and the
# writer put their note-off first)
smf "$tmp/div1.mid" 1 "00ff580404021808 00903c60 01803c40 00904060 02804040 00904360 01804340 00ff2f00"
"$GEN" -m "$tmp/m.json" -i "$tmp/div1.mid" -o "$tmp/div1-out.mid" --bars 4 --density 3 --seed 5 \
    >"$tmp/gen5.log" 2>&1 || { cat "$tmp/gen5.log"; fail "generate after a division-1 primer failed"; }
/usr/bin/python3 tests/support/midi_check.py "$tmp/div1-out.mid" >"$tmp/div1.txt" || fail "midi_check failed"
cat "$tmp/div1.txt"
grep -q "^division 2$" "$tmp/div1.txt" || fail "a division-1 primer was not written at division 2"
grep -q "zero_length 0 unclosed 0" "$tmp/div1.txt" || fail "zero-length or unclosed notes after a division-1 primer"
# outputs read back through the strict reader (as a primer)
"$GEN" -m "$tmp/m.json" -i "$tmp/a.mid" -o "$tmp/e.mid" --bars 1 >/dev/null 2>&1 ||
    fail "generated file does not read back"
"$GEN" -m "$tmp/m.json" -i "$tmp/d.mid" -o "$tmp/f.mid" --bars 1 >/dev/null 2>&1 ||
    fail "composed file does not read back"

# refusals
# Files whose notes claim far more time than their bytes: 5 files of 36
# bytes, each one note held for 2^18 quarters' worth of ticks at division 1
# (a million sixteenths each): refused once the total passes the trainer's
# limit, naming the file, instead of growing to 8 GB
mkdir "$tmp/huge"
for i in 0 1 2 3 4; do smf "$tmp/huge/long$i.mid" 1 "00903c60 8fff7f803c40 00ff2f00"; done
"$TRAIN" --midi "$tmp/huge" -o "$tmp/huge.json" --hidden 8 --epochs 1 >"$tmp/huge.log" 2>&1
[ $? -eq 1 ] || { cat "$tmp/huge.log"; fail "songs past the frame limit were not refused with exit 1"; }
grep -q "come to [0-9]* grid steps, more than the 4194304" "$tmp/huge.log" ||
    { cat "$tmp/huge.log"; fail "the refusal does not say what the limit is"; }
[ -e "$tmp/huge.json" ] && fail "a model was written past the frame limit"
"$GEN" -m "$tmp/m.json" -i "$data/bad/format2.mid" -o "$tmp/x.mid" >"$tmp/bad.log" 2>&1 &&
    fail "format-2 primer accepted"
grep -q "format 2" "$tmp/bad.log" || { cat "$tmp/bad.log"; fail "no reason for the refusal"; }
[ -e "$tmp/x.mid" ] && fail "an output was written for a bad primer"
"$TRAIN" --midi "$data/bad" -o "$tmp/n.json" --epochs 1 >"$tmp/bad2.log" 2>&1 &&
    fail "training on corrupt files only succeeded"
[ -e "$tmp/n.json" ] && fail "a model was written from no data"
"$GEN" -m "$tmp/m.json" -o "$tmp/y.mid" --temperature -1 >/dev/null 2>&1 && fail "negative temperature accepted"
# an output that is a file the run reads, or a folder: refused before any
# work, the file intact (both once replaced the song or the model, or
# failed only after all the work)
cp "$data/nottingham/jigs1.mid" "$tmp/keep.mid"
"$GEN" -m "$tmp/m.json" -i "$tmp/keep.mid" -o "$tmp/keep.mid" >"$tmp/same.log" 2>&1
# a usage error (2), as in rnnfx-process and rnnfx-convert (it was 1)
[ $? -eq 2 ] || { cat "$tmp/same.log"; fail "generate -i X -o X is not a usage error"; }
grep -q "would overwrite" "$tmp/same.log" || { cat "$tmp/same.log"; fail "no reason for -i X -o X"; }
"$GEN" -m "$tmp/m.json" -o "$tmp/m.json" >"$tmp/same2.log" 2>&1
[ $? -eq 2 ] || { cat "$tmp/same2.log"; fail "generate -o MODEL is not a usage error"; }
cmp -s "$tmp/keep.mid" "$data/nottingham/jigs1.mid" || fail "generate -o replaced its input"
"$GEN" -m "$tmp/m.json" -o "$tmp/songs" >"$tmp/dir.log" 2>&1 && fail "generate -o FOLDER accepted"
grep -q "is a folder" "$tmp/dir.log" || { cat "$tmp/dir.log"; fail "no reason for -o FOLDER"; }
# a folder as -i ("read error"), a missing output folder (failed after the
# work, naming a temporary file), a MIDI file under an audio name
"$GEN" -m "$tmp/m.json" -i "$tmp/songs" -o "$tmp/z.mid" >"$tmp/idir.log" 2>&1 && fail "generate -i FOLDER accepted"
grep -q "songs is a folder" "$tmp/idir.log" || { cat "$tmp/idir.log"; fail "no reason for -i FOLDER"; }
"$GEN" -m "$tmp/m.json" -o "$tmp/nodir/z.mid" >"$tmp/nodir.log" 2>&1 && fail "generate -o MISSING/x.mid accepted"
grep -q "folder .*nodir does not exist" "$tmp/nodir.log" || { cat "$tmp/nodir.log"; fail "missing folder not named"; }
grep -q "z\.mid\.tmp" "$tmp/nodir.log" && { cat "$tmp/nodir.log"; fail "the message names a temporary file"; }
"$GEN" -m "$tmp/m.json" -o "$tmp/z.wav" >"$tmp/wav.log" 2>&1
[ $? -eq 2 ] || { cat "$tmp/wav.log"; fail "generate -o X.wav is not a usage error"; }
grep -q "names an audio file" "$tmp/wav.log" || { cat "$tmp/wav.log"; fail "no reason for -o X.wav"; }
[ -e "$tmp/z.wav" ] && fail "MIDI written under a .wav name"
cp "$tmp/songs/jigs1.mid" "$tmp/keep2.mid"
"$TRAIN" --midi "$tmp/songs" -o "$tmp/songs/jigs1.mid" --hidden 8 --epochs 1 -q >"$tmp/tsame.log" 2>&1 &&
    fail "train --midi -o INPUT.mid accepted"
grep -q "would overwrite" "$tmp/tsame.log" || { cat "$tmp/tsame.log"; fail "no reason for train -o INPUT.mid"; }
cmp -s "$tmp/songs/jigs1.mid" "$tmp/keep2.mid" || fail "train --midi -o replaced an input"
"$TRAIN" --midi "$tmp/songs" -o "$tmp/songs" --hidden 8 --epochs 1 -q >"$tmp/tdir.log" 2>&1 &&
    fail "train --midi -o FOLDER accepted"
grep -q "is a folder" "$tmp/tdir.log" || { cat "$tmp/tdir.log"; fail "train -o FOLDER not refused up front"; }
grep -q "^epoch\|^result" "$tmp/tdir.log" && fail "train -o FOLDER trained before failing"
echo "test_midi_tools: ok"
exit 0

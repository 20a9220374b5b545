#!/bin/sh
# test_process_parallel.sh — smoke test of the "scaling out" recipe in
# tools/README-tools.md: GNU parallel runs one rnnfx-process per file
# (-j2), the outputs are byte-identical to one rnnfx-process run over all
# files, and a resumed run (rnnfx-process --skip-existing)
# redoes only what is missing.
#
# Needs GNU parallel (Debian: parallel) and python3 (to write WAV files with
# the standard library). Exit 77 (skipped) when either is absent.
set -u
BUILD=${BUILD:-build}
PROC=$BUILD/bin/rnnfx-process
MAKE_MODEL="$BUILD/tests/test_process make-model"
command -v parallel >/dev/null 2>&1 || { echo "test_process_parallel: GNU parallel not installed (apt-get install parallel); skipping"; exit 77; }
parallel --version 2>/dev/null | grep -q "GNU parallel" || { echo "test_process_parallel: 'parallel' is not GNU parallel; skipping"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "test_process_parallel: python3 missing; skipping"; exit 77; }
[ -x "$PROC" ] || { echo "test_process_parallel: $PROC not built"; exit 1; }
TMP=$(mktemp -d /tmp/rnnfx-test-parallel-XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM
fail() { echo "test_process_parallel: FAIL: $*"; exit 1; }

$MAKE_MODEL "$TMP/m.json" gru 8 48000 || fail "cannot make a model"
mkdir -p "$TMP/takes/day1" "$TMP/takes/day2"
python3 - "$TMP/takes" <<'EOF' || fail "cannot write test WAVs"
import math, struct, sys, wave
for i in range(6):
    path = "%s/day%d/take%d.wav" % (sys.argv[1], 1 + i % 2, i)
    w = wave.open(path, "wb")
    w.setnchannels(1 + i % 2); w.setsampwidth(2); w.setframerate(48000)
    n = 4800 + 1000 * i
    frames = bytearray()
    for k in range(n):
        v = 0.4 * math.sin(2 * math.pi * (110 + 50 * i) * k / 48000)
        for c in range(1 + i % 2):
            frames += struct.pack("<h", int(32767 * v * (1 - 0.3 * c)))
    w.writeframes(bytes(frames)); w.close()
EOF

# Reference: one process, all files.
"$PROC" -q -m "$TMP/m.json" -o "$TMP/ref" "$TMP/takes" || fail "single run failed"

# The recipe: one job per file, two at a time, one thread each; {dir} is
# not available per file, so mirror the folder with --pattern via the
# relative path (here: takes/<day>/<name> -> out/<day>/<name>).
cd "$TMP/takes" || exit 1
find . -name '*.wav' | sort >"$TMP/list.txt"
parallel --will-cite -j2 --joblog "$TMP/jobs.log" \
    "'$OLDPWD/$PROC' -q -j1 -m '$TMP/m.json' --skip-existing --pattern '$TMP/out/{//}/{/.}.wav' {}" \
    <"$TMP/list.txt" || fail "parallel run failed"
cd "$OLDPWD" || exit 1
n=0
for f in $(cd "$TMP/ref" && find . -name '*.wav'); do
    cmp -s "$TMP/ref/$f" "$TMP/out/$f" || fail "$f differs between the parallel and the single run"
    n=$((n + 1))
done
[ $n = 6 ] || fail "expected 6 outputs, found $n"
echo "test_process_parallel: 6 files through parallel -j2 equal one rnnfx-process run"

# Resume after an interruption: two outputs are missing.
rm "$TMP/out/day1/take0.wav" "$TMP/out/day2/take3.wav"
ino_before=$(ls -i "$TMP/out/day1/take2.wav" | cut -d' ' -f1)
cd "$TMP/takes" || exit 1
parallel --will-cite -j2 \
    "'$OLDPWD/$PROC' -q -j1 -m '$TMP/m.json' --skip-existing --pattern '$TMP/out/{//}/{/.}.wav' {}" \
    <"$TMP/list.txt" || fail "resumed run failed"
cd "$OLDPWD" || exit 1
cmp -s "$TMP/ref/day1/take0.wav" "$TMP/out/day1/take0.wav" || fail "take0 not redone"
cmp -s "$TMP/ref/day2/take3.wav" "$TMP/out/day2/take3.wav" || fail "take3 not redone"
ino_after=$(ls -i "$TMP/out/day1/take2.wav" | cut -d' ' -f1)
[ "$ino_before" = "$ino_after" ] || fail "an existing output was rewritten"
echo "test_process_parallel: resumed run redid only the 2 missing files"
exit 0

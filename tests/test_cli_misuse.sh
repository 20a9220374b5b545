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
#
# Runs from the repository root with BUILD set; needs only the built tools.
set -u
BUILD=${BUILD:-build}
BIN=$BUILD/bin
for t in process pluck; do
    [ -x "$BIN/rnnfx-$t" ] || { echo "test_cli_misuse: $BIN/rnnfx-$t not built"; exit 1; }
done
[ -x "$BUILD/tests/test_process" ] || { echo "test_cli_misuse: $BUILD/tests/test_process not built"; exit 1; }

T=$(mktemp -d /tmp/rnnfx-test-misuse-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
# expect NAME STATUS PATTERN -- command...: runs the command in $T (stdout
# and stderr to $T/.out) and checks its status and that the output matches
# PATTERN.
expect() {
    name=$1 want=$2 pat=$3
    shift 4
    (cd "$T" && "$@") >"$T/.out" 2>&1 </dev/null
    rc=$?
    if [ $rc -eq "$want" ] && { [ -z "$pat" ] || grep -Eqi -- "$pat" "$T/.out"; }; then
        echo "ok   $name (exit $rc)"
    else
        echo "FAIL $name: exit $rc (expected $want), output:"
        sed 's/^/     /' "$T/.out" | head -8
        fails=$((fails + 1))
    fi
}
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

if [ $fails -ne 0 ]; then
    echo "test_cli_misuse: $fails check(s) failed"
    exit 1
fi
echo "test_cli_misuse: all checks passed"

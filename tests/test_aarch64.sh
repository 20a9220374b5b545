#!/bin/sh
# The engine on a CPU that is not x86: builds engine/ and three engine test
# programs for aarch64 (Debian's cross compiler, the project's warnings as
# errors) and runs them under qemu-aarch64. There the fast path is the
# portable C one (fast_generic.c) and every x86 kernel compiles to nothing,
# so this checks that build and its numbers on ARM (MOD Dwarf, Raspberry
# Pi): the PyTorch reference vectors (test_reference: fast path <= 1e-4),
# model files (test_model_file) and no allocation, lock or file call in
# process (test_rt_alloc). About 2 minutes, most of it qemu.
# Needs gcc-aarch64-linux-gnu, qemu-user and libjson-c-dev, libsamplerate0-dev
# and libcmocka-dev for arm64 (tools/setup-debian.sh --test installs them);
# skipped without them.
CC=aarch64-linux-gnu-gcc
for t in $CC qemu-aarch64; do
    command -v $t >/dev/null 2>&1 ||
        { echo "skip: $t not installed (tools/setup-debian.sh --test installs the aarch64 tools)"; exit 77; }
done
for l in json-c samplerate cmocka; do
    [ -e /usr/lib/aarch64-linux-gnu/lib$l.so ] ||
        { echo "skip: lib$l for arm64 not installed (tools/setup-debian.sh --test)"; exit 77; }
done
tmp=$(mktemp -d /tmp/rnnfx-aarch64-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
FLAGS="-std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Wpedantic
 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror -Iengine -Itests/support
 $(pkg-config --cflags json-c)"
fail=0
compile() { # source -> object; prints the compiler's complaint, if any
    $CC $FLAGS -c "$1" -o "$tmp/$(basename "$1" .c).o" 2>"$tmp/cc.log" ||
        { sed 20q "$tmp/cc.log"; echo "FAIL: $1 does not build for aarch64"; fail=1; }
}
for f in engine/*.c tests/support/enginetest.c; do compile "$f"; done
progs="test_reference test_model_file test_rt_alloc"
for p in $progs; do compile "tests/$p.c"; done
[ "$fail" = 0 ] || exit 1
engine_objs=$(for f in engine/*.c tests/support/enginetest.c; do printf '%s ' "$tmp/$(basename "$f" .c).o"; done)
# an archive, as the real build makes: a program links only the objects it
# uses (the IR file reader, which needs libsndfile, is not among them)
# shellcheck disable=SC2086
aarch64-linux-gnu-ar rcs "$tmp/librnnfx.a" $engine_objs
for p in $progs; do
    $CC -o "$tmp/$p" "$tmp/$p.o" "$tmp/librnnfx.a" -lcmocka -ljson-c -lsamplerate -lm -lpthread ||
        { echo "FAIL: $p does not link for aarch64"; exit 1; }
    if qemu-aarch64 -L /usr/aarch64-linux-gnu "$tmp/$p" >"$tmp/$p.log" 2>&1; then
        echo "aarch64 $p: passed ($(grep -E 'PASSED' "$tmp/$p.log" | tail -1 | sed 's/.*PASSED *\] *//'))"
    else
        tail -20 "$tmp/$p.log"
        echo "FAIL: $p under qemu-aarch64"
        fail=1
    fi
done
[ "$fail" = 0 ] && echo "aarch64: engine builds warning-free; $progs pass under qemu"
exit $fail

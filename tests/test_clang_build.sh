#!/bin/sh
# The tree builds with clang as well as GCC: engine, tools and plugin with
# the project's warnings as errors, then the clang-built test_fast (every
# kernel family against the reference path, block splits). Catches code
# that only GCC accepts, such as an intrinsic whose immediate operand GCC
# folds only after inlining (it happened: activation_avx512.h).
# Needs clang (Debian clang); skipped without it.
BUILD=${BUILD:-build}
command -v clang >/dev/null 2>&1 || { echo "skip: clang not installed (apt-get install clang)"; exit 77; }
tmp=$(mktemp -d /tmp/rnnfx-clang-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
jobs=$(nproc 2>/dev/null || echo 2)
if ! make -s -j"$jobs" CC=clang BUILD="$tmp" CFLAGS="-O1 -Werror" all "$tmp/tests/test_fast" \
    >"$tmp/log" 2>&1; then
    grep -E "error|warning" "$tmp/log" | head -20
    echo "FAIL: the clang build failed"
    exit 1
fi
if ! "$tmp/tests/test_fast" >"$tmp/run" 2>&1; then
    tail -20 "$tmp/run"
    echo "FAIL: test_fast built with clang failed"
    exit 1
fi
echo "clang $(clang -dumpversion): engine, tools, plugin and test_fast build warning-free; test_fast passes"

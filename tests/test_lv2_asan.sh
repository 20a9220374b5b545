#!/bin/sh
# The chain tests, the plugin host test, the robustness test and the
# cabinet tests (tests/test_plugin_chain.c, tests/test_plugin_host.c,
# tests/test_plugin_robust.c, tests/test_plugin_ir.c, tests/test_convolver.c:
# model switches while audio runs, state, missing files, no-worker hosts, a
# full worker queue, restores racing loads, IR loads racing model loads, the
# convolver and IR files) again, with the engine, the plugin and the tests
# built with AddressSanitizer and UBSan in their own
# build directory ($BUILD-asan, reused between runs so only the first run
# compiles everything). Any invalid access, use-after-free, double free,
# leak or undefined behaviour fails the test.
BUILD=${BUILD:-build}
. tests/support/asan_env.sh
A=$ASAN_BUILD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! rnnfx_asan_usable "$tmp"; then
    echo "skip: ${CC:-cc} cannot build or run AddressSanitizer programs here"
    exit 77
fi
echo "building the ASan variant in $A ..."
if ! make -s BUILD="$A" CFLAGS="$ASAN_CFLAGS" plugin "$A/tests/test_plugin_host" "$A/tests/test_plugin_chain" "$A/tests/test_plugin_robust" "$A/tests/test_plugin_ir" "$A/tests/test_convolver" >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log"
    echo "FAIL: the ASan build failed"
    exit 1
fi
# lilv and sord (not instrumented) keep a few caches until exit: leaks from
# them are not ours.
cat > "$tmp/lsan.supp" <<'SUPP'
leak:libserd
leak:libsord
leak:libsratom
leak:liblilv
SUPP
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export LSAN_OPTIONS="suppressions=$tmp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# check NAME LOG COUNT: the cmocka program NAME passed COUNT tests (a
# pattern) in LOG with no sanitizer report; else shows why and fails.
# units NAME: how many tests tests/NAME.c lists (all of them must run).
check() {
    status=$(grep -c 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$2")
    if grep -q 'FAILED\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$2" || \
       ! grep -q "PASSED  \] $3 test" "$2"; then
        grep -B2 -A30 'ERROR: \|runtime error\|FAILED' "$2" | head -80
        echo "FAIL: $1 under ASan/UBSan ($status sanitizer reports)"
        exit 1
    fi
    echo "$1 passed under ASan+UBSan, no sanitizer reports"
}
units() { grep -c 'cmocka_unit_test(' "tests/$1.c"; }
"$A/tests/test_plugin_chain" > "$tmp/chain.log" 2>&1
check test_plugin_chain "$tmp/chain.log" '[0-9]*'
BUILD="$A" "$A/tests/test_plugin_host" 2>&1 | grep -v '^rnnfx: ' > "$tmp/run.log"
tail -5 "$tmp/run.log"
check test_plugin_host "$tmp/run.log" "$(units test_plugin_host)"
BUILD="$A" "$A/tests/test_plugin_robust" 2>&1 | grep -v '^rnnfx' > "$tmp/robust.log"
tail -3 "$tmp/robust.log"
check test_plugin_robust "$tmp/robust.log" "$(units test_plugin_robust)"
BUILD="$A" "$A/tests/test_plugin_ir" 2>&1 | grep -v '^rnnfx' > "$tmp/ir.log"
tail -3 "$tmp/ir.log"
check test_plugin_ir "$tmp/ir.log" '[0-9]*'
"$A/tests/test_convolver" > "$tmp/conv.log" 2>&1
check test_convolver "$tmp/conv.log" '[0-9]*'
exit 0

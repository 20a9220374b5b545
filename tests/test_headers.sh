#!/bin/sh
# test_headers.sh — every engine header stands alone, and every _free(NULL)
# any engine header declares is harmless.
#
# 1. Each engine/*.h compiles on its own, included twice (so its include
#    guard works), with `cc -std=c11 -Wall -Wextra -Wpedantic -Werror
#    -fsyntax-only`: no header relies on another being included first.
#    Headers named *_avx2.h / *_avx512.h get the same ISA flags the Makefile
#    gives the files that use them. A header without an include guard is a
#    template for textual inclusion and is listed as not checked.
# 2. Every `void rnnfx_..._free(Type *)` declared in engine/*.h is called with
#    NULL by a generated program linked against $BUILD/librnnfx.a, so a new
#    _free added anywhere in the engine is covered without editing this test.
#
# Run from the repository root with BUILD set (make test does this). Needs
# only cc and the engine library; exit 0 = pass.
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rnnfx-headers-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
n=0

skipped=""
for h in engine/*.h; do
    name=$(basename "$h")
    # A header with no include guard is a template for textual inclusion
    # (fast_kernels.h: instantiated once per instruction set after the
    # includer defines its vector macros); it cannot stand alone by design.
    if ! grep -q '^#ifndef [A-Z0-9_]*_H' "$h"; then
        skipped="$skipped $name"
        continue
    fi
    flags=""
    case "$name" in
        *_avx512*) flags="-mavx512f -mavx512vl -mavx512dq -mavx512bw -mavx2 -mfma -mf16c" ;;
        *_avx2*) flags="-mavx2 -mfma -mf16c" ;;
    esac
    printf '#include "%s"\n#include "%s"\n' "$name" "$name" > "$tmp/one.c"
    # shellcheck disable=SC2086
    if ! out=$($CC -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only $flags \
            -Iengine "$tmp/one.c" 2>&1); then
        echo "FAIL: $h does not compile alone:"
        echo "$out" | sed 's/^/    /'
        fail=1
    fi
    n=$((n + 1))
done
echo "headers: $n checked alone${skipped:+; templates (no include guard) not checked:$skipped}"

# --- every _free(NULL) -------------------------------------------------------
lib="$BUILD/librnnfx.a"
if [ ! -f "$lib" ]; then
    echo "FAIL: $lib not built (run make first)"
    exit 1
fi
frees=$(sed -n 's/^void \(rnnfx_[a-z0-9_]*_free\)(\([A-Za-z0-9_]*\) \*[a-z_]*);.*/\1/p' engine/*.h | sort -u)
{
    # only the headers that declare a _free (each compiles alone, see above)
    for h in $(grep -l '^void rnnfx_[a-z0-9_]*_free(' engine/*.h); do
        printf '#include "%s"\n' "$(basename "$h")"
    done
    echo "int main(void)"
    echo "{"
    for f in $frees; do
        echo "    $f(NULL);"
    done
    echo "    return 0;"
    echo "}"
} > "$tmp/frees.c"
libs="$(pkg-config --libs json-c samplerate 2>/dev/null) -lm -lpthread"
# shellcheck disable=SC2086
if ! out=$($CC -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Iengine "$tmp/frees.c" "$lib" \
        $libs -o "$tmp/frees" 2>&1); then
    echo "FAIL: the _free(NULL) program does not build:"
    echo "$out" | sed 's/^/    /'
    fail=1
elif ! "$tmp/frees"; then
    echo "FAIL: a _free(NULL) crashed or failed"
    fail=1
else
    echo "_free(NULL): $(echo "$frees" | wc -w) functions called: $(echo $frees)"
fi
[ "$(echo "$frees" | wc -w)" -ge 2 ] || { echo "FAIL: found no _free declarations"; fail=1; }
exit $fail

# Sourced by the tests that build the AddressSanitizer variant in
# $BUILD-asan. They must use the same flags, or each rebuilds the other's
# objects (make sees no change in CFLAGS) with a mix of instrumentation.
ASAN_BUILD="${BUILD:-build}-asan"
ASAN_CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

# rnnfx_asan_usable DIR: 0 when ${CC:-cc} builds and runs an ASan program
# (DIR: a scratch folder).
rnnfx_asan_usable() {
    echo 'int main(void){return 0;}' >"$1/asan-probe.c"
    ${CC:-cc} $ASAN_CFLAGS "$1/asan-probe.c" -o "$1/asan-probe" 2>/dev/null && "$1/asan-probe"
}

#!/bin/sh
# `make install` / `make uninstall` of the bundle: installs into a temporary
# DESTDIR with PREFIX=/usr, checks the installed bundle (every file of the
# built one, byte-identical; lv2info finds both plugins through LV2_PATH),
# runs the lilv host test against the installed copy, then uninstalls and
# checks that the bundle is gone; a DESTDIR without PREFIX stages under
# /usr/local and leaves HOME alone.
BUILD=${BUILD:-build}
B="$BUILD/rnnfx.lv2"
[ -f "$B/rnnfx.so" ] || { echo "bundle $B not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
MAKE=${MAKE:-make}
if ! $MAKE -s BUILD="$BUILD" DESTDIR="$tmp" PREFIX=/usr install >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"; echo "FAIL: make install"; exit 1
fi
I="$tmp/usr/lib/lv2/rnnfx.lv2"
[ -d "$I" ] || { echo "FAIL: $I not installed"; exit 1; }
for f in "$B"/*; do
    cmp -s "$f" "$I/$(basename "$f")" || { echo "FAIL: $(basename "$f") differs or is missing in $I"; exit 1; }
done
echo "installed: $(ls "$I" | tr '\n' ' ')"
if command -v lv2info >/dev/null 2>&1; then
    for uri in http://rnnfx.org/plugins/rnnfx#mono http://rnnfx.org/plugins/rnnfx#stereo; do
        LV2_PATH="$tmp/usr/lib/lv2" lv2info "$uri" >/dev/null 2>&1 || { echo "FAIL: lv2info $uri on the installed bundle"; exit 1; }
    done
fi
if [ -x "$BUILD/tests/test_plugin_host" ]; then
    RNNFX_LV2_BUNDLE="$I" BUILD="$BUILD" "$BUILD/tests/test_plugin_host" >"$tmp/host.log" 2>&1 || {
        grep -v '^rnnfx:' "$tmp/host.log" | tail -30; echo "FAIL: test_plugin_host on the installed bundle"; exit 1; }
    echo "test_plugin_host passed on the installed bundle"
fi
$MAKE -s BUILD="$BUILD" DESTDIR="$tmp" PREFIX=/usr uninstall >"$tmp/uninstall.log" 2>&1 || {
    cat "$tmp/uninstall.log"; echo "FAIL: make uninstall"; exit 1; }
[ -e "$I" ] && { echo "FAIL: $I still there after uninstall"; exit 1; }
echo "uninstalled"
# A DESTDIR without PREFIX stages under /usr/local, not into $HOME (it
# installed into the user's ~/.lv2 and ~/.local/bin).
home="$tmp/home"
mkdir -p "$home"
HOME="$home" $MAKE -s BUILD="$BUILD" DESTDIR="$tmp/stage" install >"$tmp/install2.log" 2>&1 || {
    cat "$tmp/install2.log"; echo "FAIL: make install with DESTDIR only"; exit 1; }
[ -f "$tmp/stage/usr/local/lib/lv2/rnnfx.lv2/rnnfx.so" ] ||
    { echo "FAIL: DESTDIR without PREFIX did not stage under /usr/local"; exit 1; }
[ -z "$(ls -A "$home")" ] || { echo "FAIL: DESTDIR without PREFIX wrote into HOME: $(ls -A "$home")"; exit 1; }
echo "DESTDIR without PREFIX staged under /usr/local"
exit 0

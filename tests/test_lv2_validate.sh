#!/bin/sh
# The built rnnfx.lv2 bundle's metadata: every TTL parses (serdi, whose exit
# status is reliable), lv2_validate finds 0 errors (its exit status is not
# reliable, so its summary line is checked), lilv's lv2info reads each
# plugin with its latency port and presets, and the binary exports exactly
# one dynamic symbol, lv2_descriptor.
# Needs: serdi (Debian serdi), lv2_validate (lv2-dev) with sord_validate
# (sordi), lv2info (lilv-utils).
BUILD=${BUILD:-build}
B="$BUILD/rnnfx.lv2"
[ -f "$B/rnnfx.so" ] || { echo "bundle $B not built"; exit 1; }
for t in serdi sord_validate lv2_validate lv2info; do
    command -v $t >/dev/null 2>&1 || { echo "skip: $t not installed (apt-get install serdi sordi lv2-dev lilv-utils)"; exit 77; }
done
fail=0
for f in "$B"/*.ttl; do
    if ! serdi -q -i turtle -o ntriples "$f" >/dev/null; then
        echo "FAIL: $f does not parse"; fail=1
    fi
done
out=$(lv2_validate "$B"/*.ttl 2>&1)
summary=$(printf '%s\n' "$out" | grep '^Found ')
echo "lv2_validate: $summary"
if ! printf '%s\n' "$summary" | grep -q '^Found 0 errors'; then
    printf '%s\n' "$out" | grep -v '^Skipping' | head -40
    fail=1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ln -s "$(cd "$B" && pwd)" "$tmp/rnnfx.lv2"
for uri in http://rnnfx.org/plugins/rnnfx#mono http://rnnfx.org/plugins/rnnfx#stereo; do
    info=$(LV2_PATH="$tmp" lv2info "$uri" 2>&1)
    if ! printf '%s\n' "$info" | grep -q 'Has latency: *yes, reported by port 10'; then
        echo "FAIL: lv2info $uri: no latency port 10"; printf '%s\n' "$info" | head -20; fail=1
    fi
    if ! printf '%s\n' "$info" | grep -q 'Default capture'; then
        echo "FAIL: lv2info $uri: preset missing"; fail=1
    fi
    echo "lv2info $uri: $(printf '%s\n' "$info" | grep -c 'Port [0-9]*:') ports"
done
syms=$(nm -D --defined-only "$B/rnnfx.so" | awk '{print $3}' | grep -v '^_' | sort | tr '\n' ' ')
echo "exported symbols: $syms"
[ "$syms" = "lv2_descriptor " ] || { echo "FAIL: rnnfx.so exports more than lv2_descriptor"; fail=1; }
exit $fail

#!/bin/sh
# Installs what rnnfx needs on Debian 12 (run as root, or with sudo available).
#   tools/setup-debian.sh          build dependencies only
#   tools/setup-debian.sh --test   + what the test suite drives (real LV2 hosts, JACK, ...)
#   tools/setup-debian.sh --demo   + what the demo uses (real effects, a synthesizer)
#   tools/setup-debian.sh --all    everything, including PyTorch for the reference scripts
set -e
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

BUILD="build-essential pkg-config libjson-c-dev libsndfile1-dev libsamplerate0-dev \
lv2-dev liblilv-dev lilv-utils serdi libcmocka-dev portaudio19-dev"
# Real hosts and tools the tests drive: lv2_validate/serdi/lv2info (above),
# jalv on a JACK dummy server, Ardour 7 headless, GNU parallel, sox for checks,
# clang (the tree must build with it too).
TEST="jackd2 jack-tools jalv ardour parallel sox python3 python3-numpy clang"
# Real third-party effects (rendered with lv2file/lv2apply) for the demo's wet side;
# the dry side is synthesized by tools/rnnfx-pluck.
DEMO="guitarix-lv2 zam-plugins lv2file lilv-utils sox"
# Only for regenerating reference vectors and the training benchmark.
REF="python3-torch python3-numpy python3-scipy python3-mido"

pkgs="$BUILD"
for arg in "$@"; do
    case "$arg" in
        --test) pkgs="$pkgs $TEST" ;;
        --demo) pkgs="$pkgs $DEMO" ;;
        --all) pkgs="$pkgs $TEST $DEMO $REF" ;;
        *) echo "usage: $0 [--test] [--demo] [--all]" >&2; exit 2 ;;
    esac
done

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    $SUDO apt-get update -qq
    # jackd2 asks about real-time priority; answer non-interactively.
    echo "jackd2 jackd/tweak_rt_limits boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
echo "setup: all packages present"

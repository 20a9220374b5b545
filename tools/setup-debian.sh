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
lv2-dev liblilv-dev lilv-utils serdi sordi libcmocka-dev portaudio19-dev"
# (lv2_validate runs sord_validate, in sordi: a Recommends of lv2-dev, which
# an install without recommends leaves out.)
# Real hosts and tools the tests drive: lv2_validate/serdi/lv2info/lv2apply
# (above), jalv on a JACK dummy server, Ardour 7 headless, lv2file, ecasound
# and GStreamer's lv2 elements (hosts with no atom ports), Audacity under Xvfb
# (driven through its scripting pipe), GNU parallel, sox for
# checks, clang (the tree must build with it too).
TEST="jackd2 jack-tools jalv ardour lv2file ecasound gstreamer1.0-tools gstreamer1.0-plugins-good \
gstreamer1.0-plugins-bad audacity xvfb parallel sox python3 python3-numpy clang"
# Real third-party effects (rendered with lv2file/lv2apply) for the demo's wet side;
# the dry side is synthesized by tools/rnnfx-pluck.
DEMO="guitarix-lv2 zam-plugins lv2file lilv-utils sox"
# With --test too: an aarch64 cross compiler, qemu and the engine's arm64
# libraries, so the tests build the engine for ARM and run its tests there
# (tests/test_aarch64.sh). Adds the arm64 architecture to dpkg. Optional:
# if these cannot be installed, that test skips and says why.
CROSS="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libjson-c-dev:arm64 \
libsamplerate0-dev:arm64 libcmocka-dev:arm64"
# Only for regenerating reference vectors and the training benchmark.
REF="python3-torch python3-numpy python3-scipy python3-mido"

pkgs="$BUILD"
cross=0
for arg in "$@"; do
    case "$arg" in
        --test) pkgs="$pkgs $TEST"; cross=1 ;;
        --demo) pkgs="$pkgs $DEMO" ;;
        --all) pkgs="$pkgs $TEST $DEMO $REF"; cross=1 ;;
        *) echo "usage: $0 [--test] [--demo] [--all]" >&2; exit 2 ;;
    esac
done

# The packages of the list $1 that are not installed, each after a space.
not_installed() {
    for p in $1; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || printf ' %s' "$p"
    done
}

missing=$(not_installed "$pkgs")
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    $SUDO apt-get update -qq
    # jackd2 asks about real-time priority; answer non-interactively.
    echo "jackd2 jackd/tweak_rt_limits boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
if [ "$cross" = 1 ]; then
    cmissing=$(not_installed "$CROSS")
    if [ -n "$cmissing" ]; then
        echo "setup: installing (optional, for the aarch64 test)$cmissing"
        if ! { dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64; } ||
            ! $SUDO apt-get update -qq ||
            ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $cmissing; then
            echo "setup: could not install the aarch64 cross tools; tests/test_aarch64.sh will skip"
        fi
    fi
fi
echo "setup: all packages present"

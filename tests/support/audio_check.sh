# audio_check.sh — sourced by the host tests that compare a host's render
# with rnnfx-process's (test_lv2_simple_hosts.sh, test_lv2_audacity.sh).
#
# check NAME GOT.wav REF.wav CHANNELS: compares each channel of GOT with
# REF (tests/lv2_audio.py compare: same length, no offset, bit for bit),
# prints one line per channel, and sets fail=1 on a difference. Needs PY
# (the python3 with numpy) set by the caller.
check() {
    ch=0
    while [ $ch -lt "$4" ]; do
        printf '%s, channel %d: ' "$1" $ch
        $PY tests/lv2_audio.py compare "$3" "$2" 0 0 $ch || { echo "FAIL: $1"; fail=1; }
        ch=$((ch + 1))
    done
}

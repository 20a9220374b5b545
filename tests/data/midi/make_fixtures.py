#!/usr/bin/python3
"""Writes the hand-made MIDI test files of tests/data/midi/ byte by byte.

No MIDI library is used: each file is spelled out here as raw bytes, with
the expected piano-roll frames worked out by hand in tests/test_midi_file.c.
Run from the repository root:  /usr/bin/python3 tests/data/midi/make_fixtures.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def chunk(tag, body):
    return tag + struct.pack(">I", len(body)) + body


def header(fmt, ntrk, div):
    return chunk(b"MThd", struct.pack(">HHH", fmt, ntrk, div))


def track(events):
    """events: list of (delta, raw bytes)."""
    return chunk(b"MTrk", b"".join(vlq(d) + e for d, e in events))


EOT = bytes([0xFF, 0x2F, 0x00])


def tempo(us):
    return bytes([0xFF, 0x51, 0x03]) + us.to_bytes(3, "big")


def timesig(num, denpow):
    return bytes([0xFF, 0x58, 0x04, num, denpow, 24, 8])


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


# --- type 0, division 96: running status, velocity-0 note-offs, a tempo
# change, 3/4, a controller, sysex, a drum note, an out-of-range key, a
# re-struck note and a very short note.
t0 = track([
    (0, tempo(500000)),
    (0, timesig(3, 2)),
    (0, bytes([0x90, 60, 100])),       # C4 on @0
    (0, bytes([64, 100])),             # E4 on @0 (running status)
    (96, bytes([60, 0])),              # C4 off @96 (running, velocity 0)
    (0, bytes([0xB0, 64, 127])),       # sustain pedal (ignored) @96
    (0, bytes([0x90, 67, 80])),        # G4 on @96
    (48, tempo(1000000)),              # tempo change @144 (cancels running status)
    (0, bytes([0x90, 64, 0])),         # E4 off @144
    (0, bytes([0xF0, 0x03, 0x7E, 0x7F, 0xF7])),  # sysex @144
    (0, bytes([0xFF, 0x01, 0x04]) + b"text"),     # text meta @144
    (48, bytes([0x99, 36, 100])),      # drum on @192 (channel 10)
    (0, bytes([0x80, 67, 64])),        # G4 off @192
    (0, bytes([0x90, 21, 100])),       # A0 on @192
    (0, bytes([10, 100])),             # key 10 on @192 (out of range; running)
    (24, bytes([0x89, 36, 64])),       # drum off @216
    (72, bytes([0x80, 21, 64])),       # A0 off @288
    (0, bytes([10, 64])),              # key 10 off @288 (running)
    (0, bytes([0x90, 60, 100])),       # C4 on @288
    (12, bytes([60, 90])),             # C4 struck again @300 (no off)
    (84, bytes([0x80, 60, 0])),        # C4 off @384
    (0, bytes([0x90, 76, 100])),       # E5 on @384
    (10, bytes([0x80, 76, 0])),        # E5 off @394 (shorter than a step)
    (0, EOT),
])
good0 = header(0, 1, 96) + t0
write("type0_running.mid", good0)

# --- type 1, division 480: conductor track with 4/4 then 6/8 and two
# tempos, an unknown chunk between tracks (must be skipped), a melody track
# and a bass track on channel 2 using running status.
cond = track([
    (0, timesig(4, 2)), (0, tempo(500000)),
    (1920, timesig(6, 3)), (0, tempo(400000)),
    (0, EOT),
])
mel = track([
    (0, bytes([0x90, 72, 100])), (480, bytes([0x80, 72, 64])),
    (0, bytes([0x90, 74, 100])), (480, bytes([0x80, 74, 64])),
    (960, bytes([0x90, 76, 100])), (240, bytes([0x80, 76, 64])),
    (0, bytes([0x90, 77, 100])), (240, bytes([0x80, 77, 64])),
    (0, EOT),
])
bass = track([
    (0, bytes([0x91, 48, 100])),
    (1920, bytes([48, 0])),            # off @1920 (running, velocity 0)
    (0, bytes([48, 100])),             # on again @1920
    (960, bytes([48, 0])),             # off @2880
    (0, EOT),
])
good1 = header(1, 3, 480) + cond + chunk(b"XFIH", b"\x01\x02\x03") + mel + bass
write("type1_tempo.mid", good1)

# --- corrupt files: name -> bytes (expected status in the C test).
bad = {
    "empty.mid": b"",
    "not_midi.mid": b"RIFF\x00\x00\x00\x04WAVE",
    "short_header.mid": b"MThd\x00\x00\x00\x06\x00\x00",
    "truncated.mid": good0[:40],
    "truncated_type1.mid": good1[:len(good1) - 9],
    "missing_track.mid": header(1, 2, 96) + t0,
    "format2.mid": header(2, 1, 96) + t0,
    "smpte.mid": header(0, 1, 0xE728) + t0,
    "zero_division.mid": header(0, 1, 0) + t0,
    "format0_two_tracks.mid": header(0, 2, 96) + t0 + t0,
    "no_running_status.mid": header(0, 1, 96) + track([(0, bytes([60, 100])), (0, EOT)]),
    "long_vlq.mid": header(0, 1, 96) + chunk(b"MTrk", bytes([0x80, 0x80, 0x80, 0x80, 0x00]) + EOT),
    "cut_event.mid": header(0, 1, 96) + chunk(b"MTrk", bytes([0x00, 0x90, 60])),
    "meta_overrun.mid": header(0, 1, 96) + chunk(b"MTrk", bytes([0x00, 0xFF, 0x01, 0x7F, 0x41])),
    "bad_tempo.mid": header(0, 1, 96) + track([(0, bytes([0xFF, 0x51, 0x02, 0x07, 0xA1])), (0, EOT)]),
    "system_byte.mid": header(0, 1, 96) + track([(0, bytes([0xF2, 0x00, 0x00])), (0, EOT)]),
    "high_data_byte.mid": header(0, 1, 96) + track([(0, bytes([0x90, 60, 0xE4])), (0, EOT)]),
    "after_eot.mid": header(0, 1, 96) + track([(0, EOT), (0, bytes([0x90, 60, 100]))]),
    "sysex_overrun.mid": header(0, 1, 96) + chunk(b"MTrk", bytes([0x00, 0xF0, 0x20, 0x01])),
}
for name, data in bad.items():
    write(os.path.join("bad", name), data)

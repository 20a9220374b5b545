#!/usr/bin/python3
"""midi_check.py FILE: reads a Standard MIDI File with nothing but the
standard library (a reader apart from rnnfx's own) and prints

    division D
    meters NUM/DEN@TICK ...
    notes N zero_length Z unclosed U

where a zero-length note is a note-on whose matching note-off comes at the
same tick, and an unclosed note one that no note-off (or note-on with
velocity 0) ends before the end of its track. Used by the MIDI tool tests."""
import struct
import sys


def vlq(b, i):
    v = 0
    while True:
        c = b[i]
        i += 1
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            return v, i


def main(path):
    b = open(path, "rb").read()
    assert b[:4] == b"MThd"
    _, ntrk, division = struct.unpack(">HHH", b[8:14])
    i = 8 + struct.unpack(">I", b[4:8])[0]
    meters, notes, zero, unclosed = [], 0, 0, 0
    for _ in range(ntrk):
        assert b[i:i + 4] == b"MTrk"
        end = i + 8 + struct.unpack(">I", b[i + 4:i + 8])[0]
        i += 8
        tick, status, sounding = 0, 0, {}
        while i < end:
            d, i = vlq(b, i)
            tick += d
            if b[i] & 0x80:
                status = b[i]
                i += 1
            if status == 0xFF:
                kind = b[i]
                n, i = vlq(b, i + 1)
                if kind == 0x58:
                    meters.append("%d/%d@%d" % (b[i], 1 << b[i + 1], tick))
                i += n
                status = 0
            elif status in (0xF0, 0xF7):
                n, i = vlq(b, i)
                i += n
                status = 0
            else:
                hi = status & 0xF0
                data = b[i:i + (1 if hi in (0xC0, 0xD0) else 2)]
                i += len(data)
                if hi in (0x80, 0x90):
                    key = (status & 0x0F, data[0])
                    if hi == 0x90 and data[1] > 0:
                        sounding.setdefault(key, []).append(tick)
                        notes += 1
                    elif sounding.get(key):
                        if sounding[key].pop(0) == tick:
                            zero += 1
        unclosed += sum(len(v) for v in sounding.values())
        i = end
    print("division %d" % division)
    print("meters " + " ".join(meters))
    print("notes %d zero_length %d unclosed %d" % (notes, zero, unclosed))


if __name__ == "__main__":
    main(sys.argv[1])

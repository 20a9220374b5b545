#!/usr/bin/python3
"""Audio helpers for the real-host plugin tests (tests/test_lv2_*.sh).

  lv2_audio.py gen OUT.wav SECONDS RATE
      writes a deterministic guitar-like test signal (sine, plucked notes,
      a little noise) as mono 32-bit float WAV.
  lv2_audio.py frames FILE.wav
      prints the number of frames.
  lv2_audio.py gen-stereo OUT.wav SECONDS RATE
      the same signal on the left, and on the right the same notes in
      reverse order at another level (so a swapped or shared channel shows).
  lv2_audio.py compare REF.wav GOT.wav TOL [SKIP_SECONDS [CHANNEL]]
      sample-aligned comparison (offline renders) of one channel (default
      0): prints the largest difference after SKIP_SECONDS and exits 1 if it
      exceeds TOL or the lengths differ by more than one block.
  lv2_audio.py phase-gen IN.wav PERIOD DIR
  lv2_audio.py phase-match OUT_DIR GOT.wav TOL SKIP_SECONDS PERIOD
      resampling hosts: a plugin that resamples a nonlinear model gives
      output that depends on where its stream started, modulo PERIOD host
      samples (host_rate / gcd(host_rate, model_rate)). phase-gen writes
      DIR/pNNNN.wav = IN.wav preceded by NNNN zeros (0 <= NNNN < PERIOD);
      after they are processed into OUT_DIR, phase-match drops the NNNN
      leading samples of each and passes if one equals GOT.wav within TOL.
  lv2_audio.py match REF.wav REC.wav TOL MIN_SECONDS
      real-time recordings (not sample-aligned, may have dropouts): finds
      each 0.1 s block's offset by cross-correlation, then the longest run
      of blocks equal to REF within TOL at one offset; exits 1 if that run is shorter than
      MIN_SECONDS.

Only the Python standard library and numpy. Reads 16/24/32-bit PCM and
32-bit float WAV (what jack-record, Ardour and rnnfx-process write).
"""
import struct
import sys

import numpy as np


def read_wav(path, channel=0):
    data = open(path, "rb").read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SystemExit("%s: not a WAV file" % path)
    i, fmt = 12, None
    while i + 8 <= len(data):
        cid = data[i:i + 4]
        size = struct.unpack("<I", data[i + 4:i + 8])[0]
        body = data[i + 8:i + 8 + size]
        if cid == b"fmt ":
            tag, ch, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, ch, rate, bits)
        elif cid == b"data" and fmt:
            tag, ch, rate, bits = fmt
            if tag == 3 and bits == 32:
                a = np.frombuffer(body[:len(body) // 4 * 4], dtype="<f4").astype(np.float64)
            elif tag == 3 and bits == 64:
                a = np.frombuffer(body[:len(body) // 8 * 8], dtype="<f8")
            elif tag == 1 and bits == 16:
                a = np.frombuffer(body[:len(body) // 2 * 2], dtype="<i2") / 32768.0
            elif tag == 1 and bits == 24:
                b = np.frombuffer(body[:len(body) // 3 * 3], dtype=np.uint8).reshape(-1, 3)
                v = b[:, 0].astype(np.int32) | (b[:, 1].astype(np.int32) << 8) | (b[:, 2].astype(np.int32) << 16)
                a = np.where(v >= 1 << 23, v - (1 << 24), v) / float(1 << 23)
            elif tag == 1 and bits == 32:
                a = np.frombuffer(body[:len(body) // 4 * 4], dtype="<i4") / 2147483648.0
            else:
                raise SystemExit("%s: unsupported WAV encoding %d/%d bits" % (path, tag, bits))
            a = a[: len(a) // ch * ch].reshape(-1, ch)
            if channel >= ch:
                raise SystemExit("%s: has %d channel(s), no channel %d" % (path, ch, channel))
            return a[:, channel].copy(), rate
        i += 8 + size + (size & 1)
    raise SystemExit("%s: no audio data" % path)


def write_wav(path, x, rate):
    """x: samples, or an array of frames (one column per channel)."""
    x = np.asarray(x, dtype="<f4")
    ch = 1 if x.ndim == 1 else x.shape[1]
    d = x.tobytes()
    head = (b"RIFF" + struct.pack("<I", 36 + len(d)) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, 3, ch, rate, rate * 4 * ch, 4 * ch, 32) +
            b"data" + struct.pack("<I", len(d)))
    open(path, "wb").write(head + d)


def signal(seconds, rate):
    n = int(seconds * rate)
    t = np.arange(n) / rate
    x = 0.05 * np.sin(2 * np.pi * 220 * t) * np.exp(-t)
    notes = [82.4, 110.0, 146.8, 196.0, 246.9, 329.6, 440.0, 659.3]
    k, start = 0, rate // 10
    while start < n:
        length = min(rate // 4 + 997 * k % 1800, n - start)
        tt = np.arange(length) / rate
        f = notes[k % len(notes)]
        env = np.exp(-tt * 6)
        x[start:start + length] += env * (0.15 * np.sign(np.sin(2 * np.pi * f * tt)) +
                                          0.2 * np.sin(2 * np.pi * f * tt))
        start += length
        k += 1
    x += 0.002 * np.random.default_rng(1).standard_normal(n)
    return x


def gen(path, seconds, rate):
    write_wav(path, signal(seconds, rate), rate)


def gen_stereo(path, seconds, rate):
    x = signal(seconds, rate)
    write_wav(path, np.stack([x, 0.7 * x[::-1]], axis=1), rate)


def compare(ref_path, got_path, tol, skip, channel=0):
    ref, r1 = read_wav(ref_path, channel)
    got, r2 = read_wav(got_path, channel)
    if r1 != r2:
        print("sample rates differ: %d vs %d" % (r1, r2))
        return 1
    n = min(len(ref), len(got))
    s = int(skip * r1)
    if abs(len(ref) - len(got)) > 1024 or n <= s:
        print("lengths differ: %d vs %d samples" % (len(ref), len(got)))
        return 1
    d = np.abs(ref[s:n] - got[s:n])
    worst = float(d.max())
    print("compared %d samples: max |difference| %.3g at %.3f s (reference peak %.3f)" %
          (n - s, worst, (s + int(d.argmax())) / r1, float(np.abs(ref).max())))
    if float(np.abs(ref[s:n]).max()) < 1e-3:
        print("reference is silent: nothing was compared")
        return 1
    return 0 if worst <= tol else 1


def match(ref_path, rec_path, tol, min_seconds):
    ref, r1 = read_wav(ref_path)
    rec, r2 = read_wav(rec_path)
    if r1 != r2:
        print("sample rates differ: %d vs %d" % (r1, r2))
        return 1
    blk = r1 // 10
    if len(rec) < 2 * blk or len(ref) < 3 * blk:
        print("recording too short (%d samples)" % len(rec))
        return 1
    # Each 0.1 s block of the reference is located in the recording on its
    # own (a dropout shifts everything after it), then checked sample by
    # sample; the longest run of consecutive equal blocks at one offset wins.
    nfft = 1 << int(np.ceil(np.log2(len(rec) + blk)))
    spec = np.fft.rfft(rec, nfft)
    csum = np.concatenate(([0.0], np.cumsum(rec * rec)))
    energy = csum[blk:len(rec) + 1] - csum[: len(rec) + 1 - blk]  # |rec[p:p+blk]|^2
    best = run = 0
    prev_lag = None
    lags = []
    for k in range(blk, len(ref) - blk, blk):  # block 0: start-up state
        a = ref[k:k + blk]
        c = np.fft.irfft(spec * np.conj(np.fft.rfft(a, nfft)), nfft)[: len(energy)]
        pos = int(np.argmin(energy - 2.0 * c))  # least squared distance
        d = np.abs(rec[pos:pos + blk] - a).max()
        ok = d <= tol
        lag = pos - k
        run = run + 1 if ok and (run == 0 or lag == prev_lag) else (1 if ok else 0)
        prev_lag = lag
        best = max(best, run)
        lags.append("%d%s" % (lag, "" if ok else "!"))
    print("per-block offsets (! = differs): %s" % " ".join(lags))
    print("longest stretch equal to the reference within %.0e: %.1f s" % (tol, best * blk / r1))
    return 0 if best * blk / r1 >= min_seconds else 1


def phase_gen(in_path, period, out_dir):
    import os
    x, rate = read_wav(in_path)
    os.makedirs(out_dir, exist_ok=True)
    for pre in range(period):
        write_wav(os.path.join(out_dir, "p%04d.wav" % pre), np.concatenate([np.zeros(pre), x]), rate)


def phase_match(ref_dir, got_path, tol, skip, period):
    import os
    got, rate = read_wav(got_path)
    s = int(skip * rate)
    best = (float("inf"), -1)
    for pre in range(period):
        y, _ = read_wav(os.path.join(ref_dir, "p%04d.wav" % pre))
        y = y[pre:]
        n = min(len(y), len(got))
        if n <= s:
            continue
        best = min(best, (float(np.abs(y[s:n] - got[s:n]).max()), pre))
    print("closest resampler phase: the host ran the plugin %d (mod %d) samples before the "
          "region; max |difference| there %.3g" % (best[1], period, best[0]))
    return 0 if best[0] <= tol else 1


def main(argv):
    if len(argv) >= 5 and argv[1] == "phase-gen":
        phase_gen(argv[2], int(argv[3]), argv[4])
        return 0
    if len(argv) >= 7 and argv[1] == "phase-match":
        return phase_match(argv[2], argv[3], float(argv[4]), float(argv[5]), int(argv[6]))
    if len(argv) >= 3 and argv[1] == "frames":
        x, _ = read_wav(argv[2])
        print(len(x))
        return 0
    if len(argv) >= 5 and argv[1] == "gen":
        gen(argv[2], float(argv[3]), int(argv[4]))
        return 0
    if len(argv) >= 5 and argv[1] == "gen-stereo":
        gen_stereo(argv[2], float(argv[3]), int(argv[4]))
        return 0
    if len(argv) >= 5 and argv[1] == "compare":
        return compare(argv[2], argv[3], float(argv[4]), float(argv[5]) if len(argv) > 5 else 0.0,
                       int(argv[6]) if len(argv) > 6 else 0)
    if len(argv) >= 6 and argv[1] == "match":
        return match(argv[2], argv[3], float(argv[4]), float(argv[5]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

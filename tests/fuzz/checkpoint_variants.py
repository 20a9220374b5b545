#!/usr/bin/python3
"""checkpoint_variants.py — writes the hand-made part of
tests/fuzz/corpus/checkpoint/: damaged, truncated and hostile versions of
the real checkpoints beside them (gru4.ckpt, lstm4.ckpt, midi_gru1.ckpt,
written by rnnfx-train on a tiny run).

Most variants carry a correct checksum (FNV-1a 64 over the rest of the file,
as engine/train_loop.c writes it), so they reach the checks behind it: each
one is a value the trainer never writes, and the reproducer of a refusal the
fuzzing added (see tests/fuzz/README.md). The ordinary tests replay them
through fuzz_checkpoint.c (tests/test_fuzz_corpus.c); tests/test_checkpoint.c
checks the messages.

Layout (little-endian): "RNNFXCK1", u32 fplen, fingerprint text, u64 n,
state {u64 step, epochs, rng, epoch_rng, epoch_pos; i64 epoch_active,
bad_vals; f64 progress, best_val, lr_scale}, f32 weights[n], m[n], v[n],
u64 xlen, caller text, u64 checksum.

Usage: /usr/bin/python3 tests/fuzz/checkpoint_variants.py  (from the root)
"""
import json
import os
import struct

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "checkpoint")
STATE = "<5Q2q3d"
FIELDS = ["step", "epochs", "rng", "epoch_rng", "epoch_pos", "epoch_active", "bad_vals",
          "progress", "best_val", "lr_scale"]


def fnv1a(b):
    h = 0xCBF29CE484222325
    for c in b:
        h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def split(d):
    fl = struct.unpack_from("<I", d, 8)[0]
    p = 12 + fl
    n = struct.unpack_from("<Q", d, p)[0]
    p += 8
    st = list(struct.unpack_from(STATE, d, p))
    p += struct.calcsize(STATE)
    w = list(struct.unpack_from("<%df" % (3 * n), d, p))
    p += 12 * n
    xl = struct.unpack_from("<Q", d, p)[0]
    extra = d[p + 8:p + 8 + xl]
    return d[:12 + fl], n, st, w, extra


def join(head, n, st, w, extra, xlen=None, trailing=b""):
    b = head + struct.pack("<Q", n) + struct.pack(STATE, *st) + struct.pack("<%df" % len(w), *w)
    b += struct.pack("<Q", len(extra) if xlen is None else xlen) + extra + trailing
    return b + struct.pack("<Q", fnv1a(b))


def resum(b):
    return b[:-8] + struct.pack("<Q", fnv1a(b[:-8]))


def write(name, b):
    with open(os.path.join(DIR, name), "wb") as f:
        f.write(b)


def state_variant(src, name, field, value):
    head, n, st, w, extra = split(src)
    st[FIELDS.index(field)] = value
    write(name, join(head, n, st, w, extra))


def main():
    gru = open(os.path.join(DIR, "gru4.ckpt"), "rb").read()
    midi = open(os.path.join(DIR, "midi_gru1.ckpt"), "rb").read()
    head, n, st, w, extra = split(gru)
    assert join(head, n, st, w, extra) == gru, "the layout above no longer matches the writer"

    # damaged or cut short (the checksum catches these)
    write("bad_magic.ckpt", b"RNNFXCK2" + gru[8:])
    write("cut_in_magic.ckpt", gru[:6])
    write("cut_half.ckpt", gru[:len(gru) // 2])
    flipped = bytearray(gru)
    flipped[200] ^= 0x10
    write("flipped_byte.ckpt", bytes(flipped))
    # cut short, then re-summed: the reader must see the missing part itself
    write("cut_resummed.ckpt", resum(gru[:len(gru) // 2] + b"\0" * 8))
    # sizes that do not match
    write("fplen_huge.ckpt", resum(gru[:8] + struct.pack("<I", 0xFFFFFFF0) + gru[12:]))
    write("other_arch.ckpt", resum(gru.replace(b"gru4", b"gru5", 1)))
    write("nparams_wrong.ckpt", resum(head + struct.pack("<Q", n + 1) + gru[len(head) + 8:]))
    write("xlen_huge.ckpt", join(head, n, st, w, extra, xlen=1 << 62))
    write("trailing_bytes.ckpt", join(head, n, st, w, extra, trailing=b"\0" * 16))
    # trainer state the writer never produces
    state_variant(gru, "state_step_wraps.ckpt", "step", (1 << 64) - 1)
    state_variant(gru, "state_epoch_flag_2.ckpt", "epoch_active", 2)
    state_variant(gru, "state_bad_vals_intmax.ckpt", "bad_vals", 2147483647)
    state_variant(gru, "state_progress_nan.ckpt", "progress", float("nan"))
    state_variant(gru, "state_progress_negative.ckpt", "progress", -1.0)
    state_variant(gru, "state_best_nan.ckpt", "best_val", float("nan"))
    state_variant(gru, "state_lr_scale_nan.ckpt", "lr_scale", float("nan"))
    state_variant(gru, "state_lr_scale_1e300.ckpt", "lr_scale", 1e300)
    state_variant(gru, "state_lr_scale_2.ckpt", "lr_scale", 2.0)
    # weights and moments
    i = next(k for k in range(n) if w[2 * n + k] > 0)  # a trained entry
    ww = list(w)
    ww[i] = float("inf")
    write("weight_inf.ckpt", join(head, n, st, ww, extra))
    ww = list(w)
    ww[2 * n + i] = -1e-3
    write("adam_v_negative.ckpt", join(head, n, st, ww, extra))
    ww = list(w)
    ww[n + i] = 1e30
    write("adam_m_huge.ckpt", join(head, n, st, ww, extra))
    ww = list(w)
    ww[i] = 1e38
    write("weight_huge.ckpt", join(head, n, st, ww, extra))  # finite: accepted, must train

    # the audio trainer's state (caller text, read by tools/rnnfx-train.c;
    # tests/test_train_cli.sh resumes from each and wants a clear refusal)
    good = json.loads(extra)

    def with_(key, value):
        d = dict(good)
        d[key] = value
        return json.dumps(d)  # NaN as NaN, as json-c writes it

    for name, text in [
        ("audio_state_arch_null.ckpt", '{"tool":"rnnfx-train","arch":null}'),
        ("audio_state_not_object.ckpt", "[1, 2, 3]"),
        ("audio_state_not_json.ckpt", extra.decode()[:len(extra) // 2]),
        ("audio_state_data_number.ckpt", with_("data", 7)),
        ("audio_state_best_negative.ckpt", with_("best_val_esr", -0.03)),
        ("audio_state_elapsed_nan.ckpt", with_("elapsed", float("nan"))),
        ("audio_state_elapsed_string.ckpt", with_("elapsed", "0.04")),
    ]:
        write(name, join(head, n, st, w, text.encode()))

    # the MIDI trainer's state (caller text)
    mh, mn, mst, mw, mx = split(midi)
    for name, text in [
        ("midi_state_not_json.ckpt", b"{\"best_valid\": inf, \"epoch\": 2"),
        ("midi_state_array.ckpt", b"[1, 2, 3]"),
        ("midi_state_best_nan.ckpt", b"{\"best_valid\": NaN, \"epoch\": 2, \"since_best\": 0, \"seconds\": 1.5}"),
        ("midi_state_best_null.ckpt", b"{\"best_valid\": null, \"epoch\": 2, \"since_best\": 1, \"seconds\": 1.5}"),
        ("midi_state_epoch_negative.ckpt", b"{\"best_valid\": 4.3, \"epoch\": -5, \"since_best\": 0, \"seconds\": 1.5}"),
        ("midi_state_since_best_intmax.ckpt", b"{\"best_valid\": 4.3, \"epoch\": 2, \"since_best\": 2147483647, \"seconds\": 1.5}"),
        ("midi_state_seconds_nan.ckpt", b"{\"best_valid\": 4.3, \"epoch\": 2, \"since_best\": 0, \"seconds\": NaN}"),
        ("midi_state_seconds_negative.ckpt", b"{\"best_valid\": 4.3, \"epoch\": 2, \"since_best\": 0, \"seconds\": -1e300}"),
        ("midi_state_epoch_string.ckpt", b"{\"best_valid\": 4.3, \"epoch\": \"2\", \"since_best\": 0, \"seconds\": 1.5}"),
        ("midi_state_empty.ckpt", b""),
    ]:
        write(name, join(mh, mn, mst, mw, text))


if __name__ == "__main__":
    main()

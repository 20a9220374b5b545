/*
 * level.h — how loud a capture plays, so that captures can be level-matched.
 *
 * A capture's level is its gain on one fixed reference: a synthetic guitar
 * part (plucked notes across the neck at a typical DI level) played through
 * the model from its rest state, both sides K-weighted as ITU-R BS.1770
 * weights programme loudness (a high shelf for the head's response and a
 * 38 Hz high-pass, which also keeps a model's DC offset out of the figure).
 * A drive pedal captured at +12 dB measures about +12 dB; playing it at
 * minus that gain makes it as loud as the dry guitar. The figure is the
 * same for a model at any sample rate: the reference holds no partial above
 * 8 kHz, so it is the same music at 22.05 kHz and at 192 kHz.
 *
 * What this is not: a programme loudness meter (no gating, no LUFS for
 * arbitrary audio) or a limiter. The chain (chain.h) measures each core when
 * it is built and applies the result when the normalize control is on.
 */
#ifndef RNNFX_LEVEL_H
#define RNNFX_LEVEL_H

#include <stddef.h>

#include "instance.h"

/* Length of the reference, seconds: eight notes of an eighth of a second. */
#define RNNFX_LEVEL_REF_SECONDS 1.0

/* Measured gains are clamped to this many dB either way; a model whose
 * output is more than RNNFX_LEVEL_SILENT_DB below the reference has no
 * level (it plays silence, or nearly). */
#define RNNFX_LEVEL_MAX_DB 40.0
#define RNNFX_LEVEL_SILENT_DB (-80.0)

/* One biquad section, transposed direct form II (double precision: the
 * high-pass's poles sit within 1e-2 of the unit circle). */
typedef struct {
    double b0, b1, b2, a1, a2; /* a0 = 1 */
    double z1, z2;
} RnnfxBiquad;

/* BS.1770's K-weighting at a sample rate: the high shelf, then the
 * high-pass. */
typedef struct {
    RnnfxBiquad shelf, highpass;
} RnnfxKWeight;

/* Sets the two sections' coefficients for `rate` Hz (> 0) and clears their
 * state. At 48 kHz they are the standard's published coefficients.
 * Thread: any. */
void rnnfx_kweight_init(RnnfxKWeight *k, double rate);

/* Runs x[n] through the weighting (state kept across calls) and returns the
 * sum of the squared weighted samples. Thread: any. */
double rnnfx_kweight_energy(RnnfxKWeight *k, const float *x, size_t n);

/* Frames of the reference at `rate` Hz. Thread: any. */
size_t rnnfx_level_ref_frames(double rate);

/* Samples first .. first + n - 1 of the reference at `rate` Hz (so it can
 * be made a block at a time; past its end it is silence). Peak about
 * -10 dBFS, RMS about -27 dBFS: a DI guitar's usual level. Thread: any. */
void rnnfx_level_ref(float *x, size_t first, size_t n, double rate);

/* Plays the reference at `rate` Hz through inst from whatever state it is
 * in (the caller puts it at rest first, and resets it after) and returns
 * the K-weighted gain in dB from the reference to channel 0 of the
 * output, clamped to +-RNNFX_LEVEL_MAX_DB; NAN where the output is below
 * RNNFX_LEVEL_SILENT_DB or not finite. Thread: not audio (runs the model
 * for RNNFX_LEVEL_REF_SECONDS of audio: a few ms for a small capture). */
double rnnfx_level_measure(RnnfxInstance *inst, double rate);

#endif

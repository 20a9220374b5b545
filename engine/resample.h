/*
 * resample.h — fixed-ratio polyphase resampler for the rate pairs hosts use.
 *
 * Converts a stream between two integer sample rates whose ratio reduces to
 * out/in = L/M with L <= RNNFX_RESAMPLE_MAX_PHASES (44.1 <-> 48 kHz is
 * 147/160, 96 -> 48 kHz is 1/2, every pair of the usual rates qualifies).
 * chain.c uses it between the host and a model trained at another rate, and
 * falls back to libsamplerate for pairs it does not support.
 *
 * Why not libsamplerate everywhere: libsamplerate interpolates its filter
 * for every output sample so that it can follow any ratio, and that costs
 * about 0.48 µs per host sample at 44.1 kHz for the round trip, more than
 * ten times the model it wraps. A fixed ratio needs only L precomputed filter phases;
 * each output is then one dot product (bench_plugin measures both).
 *
 * The filter is a Kaiser-windowed sinc designed for the lower of the two
 * rates: flat within 1.4e-6 to 85 % of its Nyquist frequency (-1.1 dB
 * at 90 %), 120 dB or more down from its Nyquist frequency on (so nothing
 * aliases into the audio band), with each phase normalised to unity gain
 * at DC. It is zero-phase: output sample k sits exactly at input time
 * k * M / L. A sample is produced once the input it needs (the filter's
 * half-width, _delay() input samples, ahead) has arrived, so the resampler
 * delays nothing; it only starts producing late, and how many samples come
 * out depends only on how many went in, never on how the input was
 * chunked: after N input samples, ceil((N - delay) * L / M) (none while
 * N <= delay). Output is bit-identical for any chunking.
 *
 * Thread: _new/_free allocate (not audio); _process/_reset are audio-safe
 * (no allocation, lock, or I/O; work bounded by the input length).
 */
#ifndef RNNFX_RESAMPLE_H
#define RNNFX_RESAMPLE_H

#include <stddef.h>

#include "status.h"

#define RNNFX_RESAMPLE_MAX_PHASES 1024

/* A filter (the table of phases for one rate pair) is immutable once built
 * and may be shared by any number of resamplers, one per channel, as a
 * model is by its instances. */
typedef struct RnnfxResampleFilter RnnfxResampleFilter;
typedef struct RnnfxResampler RnnfxResampler;

/* 1 if the two rates (Hz) are integers whose ratio this resampler runs.
 * Thread: any. */
int rnnfx_resample_supported(double in_rate, double out_rate);

/* Designs the filter from in_rate to out_rate (other pairs than _supported
 * fail with RNNFX_ERR_UNSUPPORTED). Takes about a millisecond for the usual
 * pairs, up to ~0.3 s for the largest tables. Thread: not audio. */
RnnfxStatus rnnfx_resample_filter_new(double in_rate, double out_rate,
                                      RnnfxResampleFilter **out, RnnfxError *err);
void rnnfx_resample_filter_free(RnnfxResampleFilter *f); /* NULL is a no-op */

/* Its length in input samples (taps per phase), its phase count L, and the
 * instruction set of its inner loop ("avx512", "avx2" or "generic", chosen
 * like the model kernels: RNNFX_ISA caps it). Thread: any. */
int rnnfx_resample_filter_taps(const RnnfxResampleFilter *f);
int rnnfx_resample_filter_phases(const RnnfxResampleFilter *f);
/* Its look-ahead W in input samples (see above). */
int rnnfx_resample_filter_delay(const RnnfxResampleFilter *f);
const char *rnnfx_resample_filter_isa(const RnnfxResampleFilter *f);

/* A stream through filter f, which it borrows (free the resamplers first).
 * NULL if out of memory. Thread: not audio. */
RnnfxResampler *rnnfx_resample_new(const RnnfxResampleFilter *f);
void rnnfx_resample_free(RnnfxResampler *r); /* NULL is a no-op */

/* Back to the state of a fresh resampler (silence before the first input).
 * Thread: audio-safe. */
void rnnfx_resample_reset(RnnfxResampler *r);

/* Most output samples n input samples can complete, ceil(n * L / M) (a
 * tight bound: out must have room for this many), and the most input
 * samples whose output always fits in `room`. Thread: any. */
size_t rnnfx_resample_max_out(const RnnfxResampler *r, size_t n);
size_t rnnfx_resample_max_in(const RnnfxResampler *r, size_t room);

/* Consumes all n input samples and writes the output samples they
 * complete; returns how many. Any n, 0 included (n * L must fit in a
 * size_t). in and out must not overlap. Thread: audio-safe. */
size_t rnnfx_resample_process(RnnfxResampler *r, const float *in, size_t n, float *out);

#endif

/*
 * align.h — finding the delay and polarity between a dry and a wet signal.
 *
 * A recorded or rendered target is usually late against its input (filter
 * and oversampling latency of the effect, a re-amping loop) and sometimes
 * inverted. Training on a misaligned pair stalls near ESR 0.8-1.0, so the
 * trainer measures both and corrects them.
 *
 * Why not the plain cross-correlation peak: on real guitar material the
 * signals are dominated by low frequencies and the effect shifts their
 * phase, so the correlation peak lands on a lobe of a phase-shifted low
 * component tens to hundreds of samples away, often with the wrong sign.
 * What this module estimates instead is the effect's linear impulse response
 * from dry to wet: the least-squares FIR filter h (lags -max_lead..max_lag)
 * minimising sum_t (wet[t] - sum_k h[k] dry[t-k])^2 (with a small ridge term),
 * which is the cross-correlation whitened by the input's own correlation.
 * That fit locates the response; a second fit of both signals through the
 * dry signal's linear predictor, read near it, gives the sharp taps: their
 * largest gives the polarity, their onset (the earliest of the unbroken run
 * of taps reaching half of the peak, just before it) the delay to remove,
 * so that what is left for the network is causal (align.c says why). The residual of the same fit is also
 * reported (linear_esr): how far a plain linear filter gets, a useful
 * baseline a capture should beat.
 *
 * This is not a resampler or drift corrector: a constant integer delay only.
 *
 * Thread: any (allocates; not the audio thread).
 */
#ifndef RNNFX_ALIGN_H
#define RNNFX_ALIGN_H

#include <stddef.h>

#include "status.h"

typedef struct {
    int max_lag;         /* largest wet delay searched, samples (default 8192: 170 ms at 48 kHz) */
    int max_lead;        /* largest wet lead searched, samples (default 64) */
    size_t max_samples;  /* analyse at most this many samples (default 2,880,000) */
    double ridge;        /* ridge term relative to the input power (default 1e-4) */
} RnnfxAlignOptions;

typedef struct {
    int delay;          /* wet[t + delay] lines up with dry[t]; negative = wet early */
    int inverted;       /* 1: the wet signal is polarity-inverted */
    int peak_lag;       /* lag of the impulse response's largest tap */
    double peak_tap;    /* that tap's value (signed) */
    double confidence;  /* |peak tap| / RMS of all taps: > ~5 is a clear response */
    double linear_esr;  /* residual of the best linear fit / wet energy */
    int xcorr_lag;      /* plain cross-correlation's answer, for comparison */
    int xcorr_inverted;
    float *ir;          /* impulse response taps, ir[i] is lag first_lag + i */
    int ir_len;
    int first_lag;      /* = -max_lead */
} RnnfxAlignResult;

/* Fills opts with the defaults above. */
void rnnfx_align_options_default(RnnfxAlignOptions *opts);

/* Estimates delay and polarity of wet against dry, using the first
 * min(n, max_samples) samples of both (the two arrays have n samples each).
 * res->ir is allocated; release it with rnnfx_align_result_free. Fails with
 * RNNFX_ERR_INVALID if either signal is silent or n is shorter than four
 * times the search range. */
RnnfxStatus rnnfx_align_detect(const float *dry, const float *wet, size_t n,
                               const RnnfxAlignOptions *opts, RnnfxAlignResult *res,
                               RnnfxError *err);

void rnnfx_align_result_free(RnnfxAlignResult *res);

/* The overlap after removing `delay`: dry[*dry_off + t] lines up with
 * wet[*wet_off + t] for t < *len. Returns 0 if nothing overlaps. */
size_t rnnfx_align_overlap(size_t n_dry, size_t n_wet, int delay, size_t *dry_off,
                           size_t *wet_off);

/* A copy of wet aligned to dry: out[t] = sign * wet[wet_off + t], t < len,
 * using the overlap above (malloc'd; NULL on allocation failure). */
float *rnnfx_align_apply(const float *wet, size_t wet_off, size_t len, int inverted);

#endif

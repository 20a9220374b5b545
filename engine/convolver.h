/*
 * convolver.h — zero-latency convolution with a long impulse response, safe
 * on the audio thread.
 *
 * y = h * x for a response h of any length (ir.h bounds what users load), with
 * no added latency, for any block sizes (the output does not depend on how
 * the input is chunked). The first RNNFX_CONV_BLOCK taps run as a direct
 * FIR, sample by sample; the rest as uniformly partitioned overlap-save FFT
 * convolution in blocks of RNNFX_CONV_BLOCK samples, whose result for the
 * next block is ready exactly when that block begins (the tail starts at a
 * delay of one block). The partitions that need only older input are
 * summed a few at a time as each block's samples arrive, so a call's work
 * is proportional to its length (plus two small FFTs in the call that
 * completes a block), whatever the response's length.
 *
 * What this is not: a file reader or a resampler (ir.h prepares responses).
 */
#ifndef RNNFX_CONVOLVER_H
#define RNNFX_CONVOLVER_H

#include <stddef.h>

#include "status.h"

/* Partition length: the direct FIR's length and half the FFT size. */
#define RNNFX_CONV_BLOCK 128

typedef struct RnnfxConvolver RnnfxConvolver;

/* A convolver for h[0 .. len), len >= 1 (h is copied). Thread: not audio
 * (allocates). */
RnnfxStatus rnnfx_convolver_new(const float *h, size_t len, RnnfxConvolver **out,
                                RnnfxError *err);

/* NULL is a no-op. Thread: not audio. */
void rnnfx_convolver_free(RnnfxConvolver *cv);

/* Clears the input history (silence before the next sample). Thread:
 * audio-safe (no allocation; work of one block, whatever the response's
 * length: older input spectra are marked stale, not cleared). */
void rnnfx_convolver_reset(RnnfxConvolver *cv);

/* in[0 .. n) -> out[0 .. n); in may equal out; any n (0 included). Input
 * must be finite (the chain sanitises it). Thread: audio-safe. */
void rnnfx_convolver_process(RnnfxConvolver *cv, const float *in, float *out, size_t n);

/* The response length it was made with. Thread: any. */
size_t rnnfx_convolver_length(const RnnfxConvolver *cv);

#endif

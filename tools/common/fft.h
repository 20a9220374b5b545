/*
 * fft.h — a small radix-2 complex FFT for the tools' analysis work.
 *
 * Used off the audio path only: delay/polarity detection (correlations over
 * long recordings) and the spectra drawn in training reports. Double
 * precision, power-of-two sizes, in place. Not a general DSP library: no
 * real-input packing tricks, no plans to cache beyond the twiddles computed
 * per call (sizes here are at most a few hundred thousand points).
 *
 * Thread: any (no global state).
 */
#ifndef RNNFX_FFT_H
#define RNNFX_FFT_H

#include <stddef.h>

/* In-place FFT of n complex values stored as re[], im[]. n must be a power
 * of two >= 1. inverse = 1 computes the unscaled inverse transform (divide
 * by n yourself). Returns 0, or -1 if n is not a power of two. */
int rnnfx_fft(double *re, double *im, size_t n, int inverse);

/* Smallest power of two >= n. */
size_t rnnfx_fft_size(size_t n);

/* Welch power spectrum of x[n]: Hann-windowed segments of `seg` samples
 * (a power of two), 50% overlap, averaged. Writes seg/2 + 1 bins of power
 * (arbitrary but consistent units) into psd. Returns the number of segments
 * averaged (0 if n < seg: then a single zero-padded segment is used and 1
 * is returned). Returns -1 on bad arguments or allocation failure. */
int rnnfx_welch_psd(const float *x, size_t n, size_t seg, double *psd);

#endif

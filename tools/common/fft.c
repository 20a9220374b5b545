/*
 * fft.c — iterative radix-2 FFT and a Welch power spectrum. See fft.h.
 */
#include "fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

size_t rnnfx_fft_size(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

int rnnfx_fft(double *re, double *im, size_t n, int inverse)
{
    if (n == 0 || (n & (n - 1)))
        return -1;
    /* bit-reversal permutation */
    for (size_t i = 1, j = 0; i < n; i++) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i];
            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    const double sign = inverse ? 1.0 : -1.0;
    for (size_t len = 2; len <= n; len <<= 1) {
        /* twiddles by recurrence per stage would drift over huge sizes;
         * computing each stage's base angle once and multiplying is accurate
         * enough at the sizes we use (<= 2^20) in double precision. */
        double ang = sign * 2.0 * M_PI / (double)len;
        double wr = cos(ang), wi = sin(ang);
        size_t half = len >> 1;
        for (size_t i = 0; i < n; i += len) {
            double cr = 1.0, ci = 0.0;
            for (size_t k = 0; k < half; k++) {
                size_t a = i + k, b = a + half;
                double tr = re[b] * cr - im[b] * ci;
                double ti = re[b] * ci + im[b] * cr;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
                double ncr = cr * wr - ci * wi;
                ci = cr * wi + ci * wr;
                cr = ncr;
            }
        }
    }
    return 0;
}

int rnnfx_welch_psd(const float *x, size_t n, size_t seg, double *psd)
{
    if (!x || !psd || seg < 2 || (seg & (seg - 1)))
        return -1;
    double *re = malloc(seg * sizeof *re), *im = malloc(seg * sizeof *im);
    double *win = malloc(seg * sizeof *win);
    if (!re || !im || !win) {
        free(re);
        free(im);
        free(win);
        return -1;
    }
    for (size_t i = 0; i < seg; i++)
        win[i] = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)seg);
    memset(psd, 0, (seg / 2 + 1) * sizeof *psd);
    int count = 0;
    size_t hop = seg / 2;
    size_t start = 0;
    do {
        for (size_t i = 0; i < seg; i++) {
            size_t k = start + i;
            re[i] = k < n ? (double)x[k] * win[i] : 0.0;
            im[i] = 0.0;
        }
        rnnfx_fft(re, im, seg, 0);
        for (size_t i = 0; i <= seg / 2; i++)
            psd[i] += re[i] * re[i] + im[i] * im[i];
        count++;
        start += hop;
    } while (start + seg <= n);
    for (size_t i = 0; i <= seg / 2; i++)
        psd[i] /= count;
    free(re);
    free(im);
    free(win);
    return count;
}

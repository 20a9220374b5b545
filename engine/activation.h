/*
 * activation.h — fast, accurate sigmoid for the fast path (internal).
 *
 * Every nonlinearity of the fast kernels is this one sigmoid:
 *   tanh(x) = 2 sigma(2x) - 1, and the kernels pre-scale the rows that feed a
 *   tanh by 2 when they pack the weights (a power of two: exact), so a whole
 *   LSTM/GRU gate block runs through one function.
 *
 * Method (all ISAs): clamp x to [-30, 30] (sigma(-30) = 9.4e-14, so the
 * clamp costs nothing measurable, and NaN maps to the lower bound on the
 * generic/AVX2 versions), write e^-x = 2^z with z = -x log2(e), split
 * z = n + f with n = round(z) and |f| <= 1/2, evaluate 2^f with a degree-5
 * polynomial (coefficients: a minimax fit of the relative error on
 * [-1/2, 1/2] with p(0) = 1 exactly, made for this file; fit error 6.8e-8,
 * 2.2e-7 after float rounding), scale by 2^n exactly, and return
 * 1 / (1 + e^-x). p(0) = 1 exactly gives sigma(0) = 1/2 exactly, so padded
 * lanes of zero pre-activation produce exactly zero state.
 *
 * Measured accuracy (tests/test_fast.c sweeps [-40, 40] densely and the
 * extremes against double-precision libm): see the figures quoted there;
 * at the time of writing every form is within 2.2e-7 absolute.
 *
 * This header is the portable C version (used by fast_generic.c and as the
 * scalar tail of the SIMD kernels); activation_avx2.h holds the vector
 * version of the same method, and activation_avx512.h two AVX-512 forms
 * chosen for latency or for instruction count (piecewise polynomial with
 * register tables, and the same exp method started from a pre-scaled
 * exponent).
 * It is not a general math library: no errno, no exact rounding.
 */
#ifndef RNNFX_ACTIVATION_H
#define RNNFX_ACTIVATION_H

#include <stdint.h>
#include <string.h>

/* 2^f on [-1/2, 1/2]: c0 = 1 exactly. */
#define RNNFX_EXP2_C1 0x1.62e41cp-1f
#define RNNFX_EXP2_C2 0x1.ebf956p-3f
#define RNNFX_EXP2_C3 0x1.c6bde6p-5f
#define RNNFX_EXP2_C4 0x1.3d0762p-7f
#define RNNFX_EXP2_C5 0x1.5a1bb6p-10f
#define RNNFX_LOG2E 0x1.715476p+0f
#define RNNFX_SIG_CLAMP 30.0f

/* sigma(x) = 1 / (1 + e^-x). Thread: any. */
static inline float rnnfx_fast_sigmoidf(float x)
{
    /* Written so that NaN fails both comparisons and lands on -30. */
    x = x > -RNNFX_SIG_CLAMP ? x : -RNNFX_SIG_CLAMP;
    x = x < RNNFX_SIG_CLAMP ? x : RNNFX_SIG_CLAMP;
    float z = -x * RNNFX_LOG2E;
    /* Round to nearest integer: adding 1.5 * 2^23 leaves no fraction bits. */
    float n = (z + 12582912.0f) - 12582912.0f;
    float f = z - n;
    float f2 = f * f;
    float p = (1.0f + RNNFX_EXP2_C1 * f) + f2 * ((RNNFX_EXP2_C2 + RNNFX_EXP2_C3 * f) +
                                                 f2 * (RNNFX_EXP2_C4 + RNNFX_EXP2_C5 * f));
    int32_t bits = ((int32_t)n + 127) << 23; /* 2^n, n in [-44, 44] */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return 1.0f / (1.0f + p * scale);
}

/* tanh(x) = 2 sigma(2x) - 1. Thread: any. */
static inline float rnnfx_fast_tanhf(float x) { return 2.0f * rnnfx_fast_sigmoidf(x + x) - 1.0f; }

/* y[0..16) = sigma(x[0..16)), the same arithmetic as rnnfx_fast_sigmoidf
 * in two fixed-length loops (clamp, then the rest): compilers do not
 * if-convert the clamp inside the longer loop, and a loop with a branch is
 * not vectorised; split like this both halves vectorise at -O2 on any
 * target. y may equal x. Thread: any. */
static inline void rnnfx_fast_sigmoid16(float *y, const float *x)
{
    float t[16];
    for (int i = 0; i < 16; i++) {
        float v = x[i] > -RNNFX_SIG_CLAMP ? x[i] : -RNNFX_SIG_CLAMP;
        t[i] = v < RNNFX_SIG_CLAMP ? v : RNNFX_SIG_CLAMP;
    }
    for (int i = 0; i < 16; i++) {
        float z = -t[i] * RNNFX_LOG2E;
        float n = (z + 12582912.0f) - 12582912.0f;
        float f = z - n;
        float f2 = f * f;
        float p = (1.0f + RNNFX_EXP2_C1 * f) + f2 * ((RNNFX_EXP2_C2 + RNNFX_EXP2_C3 * f) +
                                                     f2 * (RNNFX_EXP2_C4 + RNNFX_EXP2_C5 * f));
        int32_t bits = ((int32_t)n + 127) << 23;
        float scale;
        memcpy(&scale, &bits, sizeof scale);
        y[i] = 1.0f / (1.0f + p * scale);
    }
}

#endif

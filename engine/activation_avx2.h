/*
 * activation_avx2.h — the sigmoid of activation.h for 8 floats at once
 * (internal; include only from files built with the AVX2+FMA flags).
 *
 * Same method and constants as activation.h: clamp with MAXPS/MINPS in the
 * order that maps NaN to the lower bound, round with the 1.5*2^23 trick,
 * Estrin polynomial, 2^n built in the exponent field, and an exact
 * division (VDIVPS) for 1/(1+e).
 */
#ifndef RNNFX_ACTIVATION_AVX2_H
#define RNNFX_ACTIVATION_AVX2_H

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "activation.h"

/* sigma(x) for 8 lanes. Thread: any. */
static inline __m256 rnnfx_sigmoid_avx2(__m256 x)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    /* MAXPS returns its second operand when the first is NaN. */
    __m256 t = _mm256_max_ps(x, _mm256_set1_ps(-RNNFX_SIG_CLAMP));
    t = _mm256_min_ps(t, _mm256_set1_ps(RNNFX_SIG_CLAMP));
    __m256 z = _mm256_mul_ps(t, _mm256_set1_ps(-RNNFX_LOG2E));
    __m256 nm = _mm256_add_ps(z, magic);
    __m256 n = _mm256_sub_ps(nm, magic);
    __m256 f = _mm256_sub_ps(z, n);
    /* The low mantissa bits of nm hold n (two's complement); shift into the
     * exponent field and add the bias. */
    __m256i e2 = _mm256_slli_epi32(_mm256_add_epi32(_mm256_castps_si256(nm), _mm256_set1_epi32(127)), 23);
    __m256 f2 = _mm256_mul_ps(f, f);
    __m256 a = _mm256_fmadd_ps(_mm256_set1_ps(RNNFX_EXP2_C1), f, one);
    __m256 b = _mm256_fmadd_ps(_mm256_set1_ps(RNNFX_EXP2_C3), f, _mm256_set1_ps(RNNFX_EXP2_C2));
    __m256 c = _mm256_fmadd_ps(_mm256_set1_ps(RNNFX_EXP2_C5), f, _mm256_set1_ps(RNNFX_EXP2_C4));
    __m256 p = _mm256_fmadd_ps(_mm256_fmadd_ps(c, f2, b), f2, a);
    __m256 d = _mm256_fmadd_ps(p, _mm256_castsi256_ps(e2), one);
    return _mm256_div_ps(one, d);
}

/* tanh(x) = 2 sigma(2x) - 1. Thread: any. */
static inline __m256 rnnfx_tanh_avx2(__m256 x)
{
    return _mm256_fmsub_ps(_mm256_set1_ps(2.0f), rnnfx_sigmoid_avx2(_mm256_add_ps(x, x)),
                           _mm256_set1_ps(1.0f));
}

#endif
#endif

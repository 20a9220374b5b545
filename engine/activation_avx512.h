/*
 * activation_avx512.h — the sigmoid of activation.h for 16 floats at once
 * (internal; include only from files built with the AVX-512 flags).
 *
 * Same method as activation.h, but shaped for latency, because in a
 * recurrent step the activation sits on the critical path between one
 * sample's matrix-vector product and the next:
 *   - one VRANGEPS clamps to [-30, 30] (sign kept, magnitude limited; +-Inf
 *     become +-30);
 *   - VREDUCEPS gives f = z - round(z) in one instruction and VSCALEFPS
 *     scales by 2^n exactly, with no integer detour;
 *   - the polynomial is evaluated in Estrin form (depth 3 instead of 5);
 *   - 1/(1+e) is VRCP14PS (14 bits) plus one Newton step (about 28 bits),
 *     shorter than VDIVPS.
 * NaN in gives NaN out here (VRANGEPS propagates it); finite or infinite
 * inputs always give a value in [0, 1].
 */
#ifndef RNNFX_ACTIVATION_AVX512_H
#define RNNFX_ACTIVATION_AVX512_H

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>

#include "activation.h"

/* sigma(x) for 16 lanes. Thread: any. */
static inline __m512 rnnfx_sigmoid_avx512(__m512 x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    /* imm 0x02: the operand of smaller magnitude, with the sign of x. */
    __m512 t = _mm512_range_ps(x, _mm512_set1_ps(RNNFX_SIG_CLAMP), 0x02);
    __m512 z = _mm512_mul_ps(t, _mm512_set1_ps(-RNNFX_LOG2E));
    /* imm 0x08: keep 0 fraction bits, round to nearest, no precision fault. */
    __m512 f = _mm512_reduce_ps(z, 0x08);
    __m512 n = _mm512_sub_ps(z, f);
    __m512 f2 = _mm512_mul_ps(f, f);
    __m512 a = _mm512_fmadd_ps(_mm512_set1_ps(RNNFX_EXP2_C1), f, one);
    __m512 b = _mm512_fmadd_ps(_mm512_set1_ps(RNNFX_EXP2_C3), f, _mm512_set1_ps(RNNFX_EXP2_C2));
    __m512 c = _mm512_fmadd_ps(_mm512_set1_ps(RNNFX_EXP2_C5), f, _mm512_set1_ps(RNNFX_EXP2_C4));
    __m512 p = _mm512_fmadd_ps(_mm512_fmadd_ps(c, f2, b), f2, a);
    __m512 d = _mm512_add_ps(_mm512_scalef_ps(p, n), one);
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, one), r);
}

/* tanh(x) = 2 sigma(2x) - 1. Thread: any. */
static inline __m512 rnnfx_tanh_avx512(__m512 x)
{
    return _mm512_fmsub_ps(_mm512_set1_ps(2.0f), rnnfx_sigmoid_avx512(_mm512_add_ps(x, x)),
                           _mm512_set1_ps(1.0f));
}

#endif
#endif

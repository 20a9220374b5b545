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
#include "activation_pw.h"

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

/* ---- low-latency piecewise-polynomial versions ----------------------------
 * sigmoid(a) and 2 sigmoid(a) - 1 for a = |x| clamped below 16, one degree-6
 * polynomial per unit segment (activation_pw.h), the segment's coefficients
 * fetched from registers with VPERMPS. Critical path from x: VRANGEPS (clamp
 * and |.|), VREDUCEPS (fraction), an Estrin tree of depth 3, and a sign fix:
 * about 21-24 cycles instead of about 40 for the exp/reciprocal form, which
 * matters because the activations sit on the recurrence's critical path.
 * Cost: 7 VPERMPS per call. Beyond |x| = 16 the clamp is exact to 1.2e-7
 * (sigmoid) and 2.3e-7 (tanh(x/2)). NaN in gives NaN out. */

/* p(a) for a in [0, 16): tab[k][j] is the t^k coefficient of segment j. */
static inline __m512 rnnfx_pw_eval_avx512(const float (*tab)[16], __m512 a)
{
    __m512i idx = _mm512_cvttps_epi32(a);
    /* imm 0x09: a - floor(a), no precision fault. */
    __m512 t = _mm512_reduce_ps(a, 0x09);
    __m512 c0 = _mm512_permutexvar_ps(idx, _mm512_load_ps(tab[0]));
    __m512 c1 = _mm512_permutexvar_ps(idx, _mm512_load_ps(tab[1]));
    __m512 c2 = _mm512_permutexvar_ps(idx, _mm512_load_ps(tab[2]));
    __m512 c3 = _mm512_permutexvar_ps(idx, _mm512_load_ps(tab[3]));
    __m512 c4 = _mm512_permutexvar_ps(idx, _mm512_load_ps(tab[4]));
    __m512 c5 = _mm512_permutexvar_ps(idx, _mm512_load_ps(tab[5]));
    __m512 c6 = _mm512_permutexvar_ps(idx, _mm512_load_ps(tab[6]));
    __m512 t2 = _mm512_mul_ps(t, t);
    __m512 p01 = _mm512_fmadd_ps(c1, t, c0);
    __m512 p23 = _mm512_fmadd_ps(c3, t, c2);
    __m512 p45 = _mm512_fmadd_ps(c5, t, c4);
    __m512 t4 = _mm512_mul_ps(t2, t2);
    __m512 p456 = _mm512_fmadd_ps(c6, t2, p45);
    __m512 lo = _mm512_fmadd_ps(p23, t2, p01);
    return _mm512_fmadd_ps(p456, t4, lo);
}

/* |x| clamped to [0, 16): imm 0x0A = smaller magnitude, sign cleared. */
static inline __m512 rnnfx_pw_abs_avx512(__m512 x)
{
    return _mm512_range_ps(x, _mm512_set1_ps(0x1.fffffep3f), 0x0A);
}

/* sigma(x). Thread: any. */
static inline __m512 rnnfx_pw_sigmoid_avx512(__m512 x)
{
    __m512 s = rnnfx_pw_eval_avx512(rnnfx_pw_sig, rnnfx_pw_abs_avx512(x));
    /* sigma(-a) = 1 - sigma(a) */
    __mmask16 neg = _mm512_movepi32_mask(_mm512_castps_si512(x));
    return _mm512_mask_sub_ps(s, neg, _mm512_set1_ps(1.0f), s);
}

/* tanh(x / 2) = 2 sigma(x) - 1 (odd). Thread: any. */
static inline __m512 rnnfx_pw_tanh_half_avx512(__m512 x)
{
    __m512 p = rnnfx_pw_eval_avx512(rnnfx_pw_tanh2, rnnfx_pw_abs_avx512(x));
    return _mm512_or_ps(p, _mm512_and_ps(x, _mm512_castsi512_ps(_mm512_set1_epi32(INT32_MIN))));
}

#endif
#endif

/*
 * activation_avx2.h — the activations of activation.h for 8 floats at once
 * (internal; include only from files built with the AVX2+FMA flags).
 *
 * Two forms:
 *   - the plain sigmoid: same method and constants as activation.h: clamp
 *     with MAXPS/MINPS in the order that maps NaN to the lower bound,
 *     round to nearest even (as activation.h's 1.5*2^23 trick does),
 *     Estrin polynomial, 2^n built in the exponent field, and an exact
 *     division (VDIVPS) for 1/(1+e);
 *   - the exponent-domain pieces for layers packed in the z domain
 *     (fast_internal.h): 2^z, a reciprocal, and sigma/tanh from z. The
 *     fused kernels of fast_avx2.c put several gates over one denominator
 *     and call rnnfx_exp2z_avx2 / rnnfx_recip_avx2 directly.
 * It is not a general math library: no errno, no exact rounding.
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
    /* MAXPS returns its second operand when the first is NaN. */
    __m256 t = _mm256_max_ps(x, _mm256_set1_ps(-RNNFX_SIG_CLAMP));
    t = _mm256_min_ps(t, _mm256_set1_ps(RNNFX_SIG_CLAMP));
    __m256 z = _mm256_mul_ps(t, _mm256_set1_ps(-RNNFX_LOG2E));
    __m256 n = _mm256_round_ps(z, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 f = _mm256_sub_ps(z, n);
    /* 2^n: n plus the bias, shifted into the exponent field */
    __m256i e2 = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
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

/* ---- exponent domain ---------------------------------------------------------
 * A z-domain row holds z = -log2(e) x (sigmoid rows) or z2 = -2 log2(e) a
 * (tanh rows), so sigma(x) = 1 / (1 + 2^z), tanh(a) = (1 - 2^z2) / (1 + 2^z2).
 *
 * 2^z: z is clamped to [-100, 40] (MAXPS/MINPS with the constant first:
 * they return their second operand when either is NaN, so NaN goes
 * through), z = n + f with n = round(z) (VROUNDPS, nearest even: the same
 * n as activation.h's 1.5*2^23 trick, but one instruction where the trick
 * chains an add and a subtract in front of the polynomial; on Zen 3 this
 * shortened the fused kernels' steps by 2-5 %: LSTM-8 44.5 -> 42.8 ns,
 * GRU-16 46.8 -> 45.4; VCVTPS2DQ gives n as an integer off that path and,
 * like VROUNDPS, runs outside the two FMA pipes), 2^f by activation.h's
 * degree-5 polynomial on
 * [-1/2, 1/2] (p(0) = 1 exactly, so z = 0 gives exactly 1), and 2^n by
 * adding n << 23 to the float bits of p (p in [0.70, 1.42], so the
 * exponent field stays normal over the whole clamp range). The upper clamp
 * 40 keeps a product of three denominators (1 + 2^z) below 2^121, so the
 * fused kernels may multiply three before one reciprocal; the lower one
 * keeps 2^z at or above 2^-100 (sigma(69) = 1 - 2^-100 rounds to 1
 * anyway), so products of two small exponentials stay clear of denormals
 * (slow on many CPUs when the host leaves FTZ/DAZ off). 13 instructions,
 * no division.
 *
 * 1/d: VRCPPS (relative error below 1.5 * 2^-12) and one Newton step
 * (below 1.4e-7 relative; the fused kernels' denominators); two steps where
 * the quotient is a stand-alone sigmoid (rnnfx_zsig_avx2: then z = 0 gives
 * exactly 1/2, as activation.h does). */

/* 2^z for 8 lanes (clamped as above). Thread: any. */
static inline __m256 rnnfx_exp2z_avx2(__m256 z)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    z = _mm256_min_ps(_mm256_set1_ps(40.0f), _mm256_max_ps(_mm256_set1_ps(-100.0f), z));
    const __m256 rz = _mm256_round_ps(z, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 f = _mm256_sub_ps(z, rz);
    const __m256i n = _mm256_cvtps_epi32(rz);
    const __m256 f2 = _mm256_mul_ps(f, f);
    const __m256 a = _mm256_fmadd_ps(_mm256_set1_ps(RNNFX_EXP2_C1), f, one);
    const __m256 b = _mm256_fmadd_ps(_mm256_set1_ps(RNNFX_EXP2_C3), f, _mm256_set1_ps(RNNFX_EXP2_C2));
    const __m256 c = _mm256_fmadd_ps(_mm256_set1_ps(RNNFX_EXP2_C5), f, _mm256_set1_ps(RNNFX_EXP2_C4));
    const __m256 p = _mm256_fmadd_ps(_mm256_fmadd_ps(c, f2, b), f2, a);
    /* 2^n: n << 23 added to p's exponent field (a multiply by 2^n instead
     * measured ~5 % slower for H <= 16). A NaN z goes through as a NaN: p
     * is NaN, and VCVTPS2DQ gives NaN the integer 0x80000000, whose shift
     * adds 0. */
    const __m256i sh = _mm256_slli_epi32(n, 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), sh));
}

/* 1/d, d >= 1 (finite), to ~1.4e-7 relative. Thread: any. */
static inline __m256 rnnfx_recip_avx2(__m256 d)
{
    const __m256 r = _mm256_rcp_ps(d);
    return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f)), r);
}

/* num / d, d >= 1 (finite), to ~1.4e-7 relative: the Newton step folded
 * into the product, num r (1 + e) with e = 1 - d r, so the multiply by
 * num runs beside the step instead of after it (one FMA shorter chain,
 * same instruction count). Thread: any. */
static inline __m256 rnnfx_div_avx2(__m256 num, __m256 d)
{
    const __m256 r = _mm256_rcp_ps(d);
    const __m256 nr = _mm256_mul_ps(num, r);
    return _mm256_fmadd_ps(nr, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f)), nr);
}

/* sigma(x) given z = -log2(e) x: two Newton steps. Thread: any. */
static inline __m256 rnnfx_zsig_avx2(__m256 z)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 d = _mm256_add_ps(rnnfx_exp2z_avx2(z), one);
    const __m256 r = rnnfx_recip_avx2(d);
    return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, one), r);
}

/* tanh(a) given z2 = -2 log2(e) a: (1 - e) / (1 + e), exactly 0 at z2 = 0.
 * Thread: any. */
static inline __m256 rnnfx_ztanh_avx2(__m256 z2)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = rnnfx_exp2z_avx2(z2);
    return rnnfx_div_avx2(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
}

#endif
#endif

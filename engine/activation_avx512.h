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
 * Every input, NaN included, gives a value in [0, 1]: VRANGEPS returns the
 * clamp bound for a NaN (measured), so a NaN lands on one end, as in
 * activation.h. The kernels' fused exponent-domain forms (fast_avx512.c)
 * propagate NaN instead; either way the instance's guard keeps the output
 * finite.
 */
#ifndef RNNFX_ACTIVATION_AVX512_H
#define RNNFX_ACTIVATION_AVX512_H

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>

#include "activation.h"
#include "activation_pw.h"

/* Every helper here is forced inline: they sit on the recurrent step's
 * chain, and a call (with its spills of live vectors) costs more than most
 * of them. Plain `static inline` left the choice to GCC's growth limits,
 * which kept three of them out of line once fast_avx512.c grew its pair
 * kernels. */
#define RNNFX_AVX512_INLINE static inline __attribute__((always_inline))

/* sigma(x) for 16 lanes. Thread: any. */
RNNFX_AVX512_INLINE __m512 rnnfx_sigmoid_avx512(__m512 x)
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
RNNFX_AVX512_INLINE __m512 rnnfx_tanh_avx512(__m512 x)
{
    return _mm512_fmsub_ps(_mm512_set1_ps(2.0f), rnnfx_sigmoid_avx512(_mm512_add_ps(x, x)),
                           _mm512_set1_ps(1.0f));
}

/* ---- sigmoid in the exponent domain --------------------------------------
 * When a layer is packed in the "z domain" (fast_internal.h), a sigmoid row
 * holds z = -log2(e) x and a tanh row z2 = -2 log2(e) a, so
 *   sigma(x) = 1 / (1 + 2^z),  tanh(a) = (1 - 2^z2) / (1 + 2^z2),
 * with no multiply before the exponential. 2^z = 2^f * 2^floor(z),
 * f = z - floor(z) in [0, 1) by VREDUCEPS, 2^f by a degree-5 polynomial
 * (minimax fit of the relative error on [0, 1) with p(0) = 1 exactly, made
 * for this file: 6.9e-8, 1.6e-7 after float rounding), 2^floor(z) exactly
 * by VSCALEFPS, then VRCP14PS and one Newton step. |z| is clamped to 60
 * first (sigma(+-41.6) is 0/1 to 1e-18). 13 instructions: fewer than the
 * piecewise form below (which needs 7 permutes), slower by a few cycles of
 * latency; used for layers whose step is limited by throughput. */
#define RNNFX_EXP2U_C1 0x1.62e4aep-1f
#define RNNFX_EXP2U_C2 0x1.ebdd54p-3f
#define RNNFX_EXP2U_C3 0x1.c904cep-5f
#define RNNFX_EXP2U_C4 0x1.27e8b6p-7f
#define RNNFX_EXP2U_C5 0x1.e8111ep-10f

/* 2^z for a z already clamped: 2^(z - floor z) by the polynomial (Estrin),
 * times 2^floor(z) by VSCALEFPS. Shared with the fused kernels
 * (fast_avx512.c), which clamp differently. */
RNNFX_AVX512_INLINE __m512 rnnfx_exp2_clamped_avx512(__m512 z)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 f = _mm512_reduce_ps(z, 0x09); /* z - floor(z) */
    __m512 f2 = _mm512_mul_ps(f, f);
    __m512 a = _mm512_fmadd_ps(_mm512_set1_ps(RNNFX_EXP2U_C1), f, one);
    __m512 b = _mm512_fmadd_ps(_mm512_set1_ps(RNNFX_EXP2U_C3), f, _mm512_set1_ps(RNNFX_EXP2U_C2));
    __m512 c = _mm512_fmadd_ps(_mm512_set1_ps(RNNFX_EXP2U_C5), f, _mm512_set1_ps(RNNFX_EXP2U_C4));
    __m512 p = _mm512_fmadd_ps(_mm512_fmadd_ps(c, f2, b), f2, a);
    return _mm512_scalef_ps(p, z);
}

/* 1 + 2^z for |z| <= 60 after the clamp. */
RNNFX_AVX512_INLINE __m512 rnnfx_one_plus_exp2_avx512(__m512 z)
{
    z = _mm512_range_ps(z, _mm512_set1_ps(60.0f), 0x02);
    return _mm512_add_ps(rnnfx_exp2_clamped_avx512(z), _mm512_set1_ps(1.0f));
}

/* sigma(x) given z = -log2(e) x. Thread: any. */
RNNFX_AVX512_INLINE __m512 rnnfx_zsig_avx512(__m512 z)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 d = rnnfx_one_plus_exp2_avx512(z);
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, one), r);
}

/* tanh(a) given z2 = -2 log2(e) a: 2 sigma - 1 with the Newton step folded
 * in, 2(r + r e) - 1 = 2r e + (2r - 1), so no extra latency. Thread: any. */
RNNFX_AVX512_INLINE __m512 rnnfx_ztanh_avx512(__m512 z2)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 d = rnnfx_one_plus_exp2_avx512(z2);
    __m512 r = _mm512_rcp14_ps(d);
    __m512 e = _mm512_fnmadd_ps(d, r, one);
    __m512 r2 = _mm512_add_ps(r, r);
    return _mm512_fmadd_ps(r2, e, _mm512_sub_ps(r2, one));
}

/* ---- low-latency piecewise-polynomial versions ----------------------------
 * sigmoid(a), tanh(a/2) and tanh(a) for a = |x| clamped below the table's
 * end (16, 16, 8): 32 segments of width w (1/2, 1/2, 1/4), one degree-4
 * polynomial each (activation_pw.h), the segment's 5 coefficients fetched
 * from register pairs with VPERMT2PS (32 entries: one instruction per
 * coefficient). The critical path from x:
 *   VRANGEPS (clamp and |.|) -> FMA with round-down to 1.5 * 2^23, whose
 *   low mantissa bits are floor(a / w) = the VPERMT2PS index -> 5 permutes
 *   -> a depth-3 FMA tree, t = a - w floor(a / w) coming from VREDUCEPS in
 *   parallel; then the sign: OR for the odd functions, 1 - s for sigmoid.
 * About 27 cycles in all (the former 16-segment degree-6 form: ~34, most
 * of it the 7 permutes queuing on port 5). Cost: 14-15 instructions, 5 of
 * them permutes. The kernels that can fold the sign into the arithmetic
 * around the activation (fast_avx512.c) call the magnitude forms, which
 * stop before it. Accuracy: activation_pw.h (max abs error 1.84e-7 sigmoid,
 * 2.7e-7 tanh, clamp included). NaN in gives a value at one end (the
 * clamp takes it), like the forms above. */

/* p(a) for a in [0, 32 w): tab[k][j] is the t^k coefficient of segment j.
 * inv_w = 1/w (a power of two); t = a - w floor(a / w), which the callers
 * take with VREDUCEPS (its control must be a literal for some compilers:
 * the fraction bits kept, log2(1/w), in bits 7:4, round down (1), no
 * precision fault (8)). */
RNNFX_AVX512_INLINE __m512 rnnfx_pw_eval_avx512(const float (*tab)[32], __m512 a, float inv_w, __m512 t)
{
    /* Hide the table's address from the optimizer: through an opaque
     * pointer it cannot prove that the stores of a time loop leave the
     * table alone, so the 10 table vectors per activation are read from L1
     * where used (one as the permute's memory operand) instead of being
     * hoisted out of the loop: hoisted, 3-5 tables do not fit in 32
     * registers, and the compiler spilled the step's own values instead
     * (~13 spill stores per LSTM-16 step, some on the recurrence's chain;
     * now 4; LSTM-16 48.6 -> 47.7 ns). Not volatile: a volatile asm also
     * pins the instruction order around it (measured slower). */
    __asm__("" : "+r"(tab));
    const __m512i idx = _mm512_castps_si512(_mm512_fmadd_round_ps(
        a, _mm512_set1_ps(inv_w), _mm512_set1_ps(0x1.8p23f), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
    /* Fetched in the order the tree below consumes them. */
    const __m512 c3 = _mm512_permutex2var_ps(_mm512_load_ps(tab[3]), idx, _mm512_load_ps(tab[3] + 16));
    const __m512 c4 = _mm512_permutex2var_ps(_mm512_load_ps(tab[4]), idx, _mm512_load_ps(tab[4] + 16));
    const __m512 c2 = _mm512_permutex2var_ps(_mm512_load_ps(tab[2]), idx, _mm512_load_ps(tab[2] + 16));
    const __m512 c0 = _mm512_permutex2var_ps(_mm512_load_ps(tab[0]), idx, _mm512_load_ps(tab[0] + 16));
    const __m512 c1 = _mm512_permutex2var_ps(_mm512_load_ps(tab[1]), idx, _mm512_load_ps(tab[1] + 16));
    const __m512 t2 = _mm512_mul_ps(t, t);
    const __m512 m = _mm512_fmadd_ps(_mm512_fmadd_ps(c4, t, c3), t, c2);
    return _mm512_fmadd_ps(m, t2, _mm512_fmadd_ps(c1, t, c0));
}

/* |x| clamped to [0, lim]: imm 0x0A = smaller magnitude, sign cleared. */
RNNFX_AVX512_INLINE __m512 rnnfx_pw_abs_avx512(__m512 x, float lim)
{
    return _mm512_range_ps(x, _mm512_set1_ps(lim), 0x0A);
}

/* sigmoid(|x|). Thread: any. */
RNNFX_AVX512_INLINE __m512 rnnfx_pw_sigmoid_mag_avx512(__m512 x)
{
    const __m512 a = rnnfx_pw_abs_avx512(x, 0x1.fffffep3f);
    return rnnfx_pw_eval_avx512(rnnfx_pw_sig, a, 2.0f, _mm512_reduce_ps(a, 0x19));
}

/* tanh(|x| / 2). Thread: any. */
RNNFX_AVX512_INLINE __m512 rnnfx_pw_tanh_half_mag_avx512(__m512 x)
{
    const __m512 a = rnnfx_pw_abs_avx512(x, 0x1.fffffep3f);
    return rnnfx_pw_eval_avx512(rnnfx_pw_tanh2, a, 2.0f, _mm512_reduce_ps(a, 0x19));
}

/* tanh(|x|): bit for bit tanh_half_mag(2x), one addition shorter. Thread: any. */
RNNFX_AVX512_INLINE __m512 rnnfx_pw_tanh_mag_avx512(__m512 x)
{
    const __m512 a = rnnfx_pw_abs_avx512(x, 0x1.fffffep2f);
    return rnnfx_pw_eval_avx512(rnnfx_pw_tanh, a, 4.0f, _mm512_reduce_ps(a, 0x29));
}

/* The sign bit of x (other bits zero). Thread: any. */
RNNFX_AVX512_INLINE __m512 rnnfx_pw_sign_avx512(__m512 x)
{
    return _mm512_and_ps(x, _mm512_castsi512_ps(_mm512_set1_epi32(INT32_MIN)));
}

/* sigma(x). Thread: any. */
RNNFX_AVX512_INLINE __m512 rnnfx_pw_sigmoid_avx512(__m512 x)
{
    __m512 s = rnnfx_pw_sigmoid_mag_avx512(x);
    /* sigma(-a) = 1 - sigma(a) */
    __mmask16 neg = _mm512_movepi32_mask(_mm512_castps_si512(x));
    return _mm512_mask_sub_ps(s, neg, _mm512_set1_ps(1.0f), s);
}

/* tanh(x / 2) = 2 sigma(x) - 1 (odd). Thread: any. */
RNNFX_AVX512_INLINE __m512 rnnfx_pw_tanh_half_avx512(__m512 x)
{
    return _mm512_or_ps(rnnfx_pw_tanh_half_mag_avx512(x), rnnfx_pw_sign_avx512(x));
}

/* tanh(x) (odd). Thread: any. */
RNNFX_AVX512_INLINE __m512 rnnfx_pw_tanh_avx512(__m512 x)
{
    return _mm512_or_ps(rnnfx_pw_tanh_mag_avx512(x), rnnfx_pw_sign_avx512(x));
}

#endif
#endif

/*
 * fast_avx2.c — the fast kernels for AVX2 + FMA: 8 floats per vector, up
 * to 4 accumulator vectors per chunk, two accumulator sets (8 of the 16
 * ymm registers, leaving room for loads and broadcasts).
 *
 * Built with the AVX2 flags (the Makefile adds them for *_avx2.c); fast.c
 * calls into it only when CPUID reports AVX2 and FMA. On non-x86 targets
 * this file is empty.
 */
#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <string.h>

#include "activation_avx2.h"
#include "fast_internal.h"

static inline float rx_hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    return _mm_cvtss_f32(s);
}

#define RX_W 8
#define RX_V __m256
#define RX_MAXNV 4
#define RX_LOAD(p) _mm256_load_ps(p)
#define RX_STORE(p, v) _mm256_store_ps((p), (v))
#define RX_SET1(x) _mm256_set1_ps(x)
#define RX_ZERO() _mm256_setzero_ps()
#define RX_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define RX_ADD(a, b) _mm256_add_ps((a), (b))
#define RX_SUB(a, b) _mm256_sub_ps((a), (b))
#define RX_MUL(a, b) _mm256_mul_ps((a), (b))
#define RX_MAX(a, b) _mm256_max_ps((a), (b))
#define RX_SIG(v) rnnfx_sigmoid_avx2(v)
/* tanh(v/2) = 2 sigma(v) - 1 */
#define RX_TANH_HALF(v)                                                                        \
    _mm256_fmsub_ps(_mm256_set1_ps(2.0f), rnnfx_sigmoid_avx2(v), _mm256_set1_ps(1.0f))
/* AVX2 packs every layer in the plain domain (tanh rows doubled). */
#define RX_GSIG(L, v) rnnfx_sigmoid_avx2(v)
#define RX_GTANH(L, v) RX_TANH_HALF(v)
#define RX_CTANH(L, c) rnnfx_tanh_avx2(c)
#define RX_HSUM(v) rx_hsum256(v)

#include "fast_kernels.h"

const RnnfxFastIsa rnnfx_fast_isa_avx2 = {"avx2",      rx_run_audio, rx_run_frames, rx_act_sigmoid,
                                          rx_act_tanh, NULL,         NULL};
#else
typedef int rnnfx_fast_avx2_unused;
#endif

/*
 * train_kern_avx2.c — the trainer's inner loops for CPUs with AVX2 and FMA
 * but no AVX-512 (most laptops), compiled with the AVX2 flags the Makefile
 * adds from this file's name; used only when CPUID reports AVX2 and FMA (see
 * rnnfx_train_kernels_select).
 *
 * The cell kernels come from train_kern.inc; the two matrix products from
 * train_gemm.inc over the ymm vocabulary below, with tiles sized for 16
 * ymm registers (up to 2×4 or 4×2 vectors) and masked columns through
 * maskload/maskstore.
 */
#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
/* (on other targets this file is empty and the table does not exist: see
 * rnnfx_train_kernels_select) */
#include <immintrin.h>
#include <stdint.h>

#include "train_impl.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "fp-contract=fast", "no-trapping-math")
#endif

/* An integer lane mask with the first rem (clamped to 0..8) lanes set. */
static inline __m256i lanes8(int rem)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(rem), iota);
}

static inline float hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#define GV __m256
#define GW 8
#define GMASK __m256i
#define G_LANES(rem) lanes8(rem)
#define G_LOADM(p, m) _mm256_maskload_ps((p), (m))
#define G_STOREM(p, m, v) _mm256_maskstore_ps((p), (m), (v))
#define G_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define G_BCAST(p) _mm256_broadcast_ss(p)
#define G_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define G_ADD(a, b) _mm256_add_ps((a), (b))
#define G_ZERO() _mm256_setzero_ps()
#define G_HSUM(v) hsum8(v)
#define WIDE_R 2
#define MID_R 4
#define TN_V 2
#define GEMM_NN gemm_nn_avx2
#define GEMM_TN gemm_tn_avx2
#include "train_gemm.inc"

#define KERN_OWN_GEMM 1
#define KERN_TABLE rnnfx_train_kernels_avx2
#define KERN_NAME "avx2"
#define KERN_SUFFIX avx2
#include "train_kern.inc"
#else
typedef int rnnfx_train_kern_avx2_unused;
#endif

/*
 * train_kern_avx512.c — the trainer's inner loops for CPUs with AVX-512
 * (F, VL, DQ, BW; the Makefile adds the flags from this file's name; used
 * only when CPUID reports them, see rnnfx_train_kernels_select).
 *
 * The cell kernels come from train_kern.inc as for every ISA; the two
 * matrix products, which take most of the time, from train_gemm.inc over
 * the zmm vocabulary below (32 registers: tiles of up to 4×4 or 8×2
 * vectors).
 */
#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512VL__) && \
    defined(__AVX512DQ__) && defined(__AVX512BW__)
/* (on other targets this file is empty and the table does not exist: see
 * rnnfx_train_kernels_select) */
#include <immintrin.h>
#include <stdint.h>

#include "train_impl.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "fp-contract=fast", "no-trapping-math")
#endif

static inline __mmask16 lanes(int rem)
{
    return rem >= 16 ? (__mmask16)0xFFFF : rem <= 0 ? (__mmask16)0 : (__mmask16)((1u << rem) - 1u);
}

#define GV __m512
#define GW 16
#define GMASK __mmask16
#define G_LANES(rem) lanes(rem)
#define G_LOADM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define G_STOREM(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define G_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define G_BCAST(p) _mm512_set1_ps(*(p))
#define G_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define G_ADD(a, b) _mm512_add_ps((a), (b))
#define G_ZERO() _mm512_setzero_ps()
#define G_HSUM(v) _mm512_reduce_add_ps(v)
#define WIDE_R 4
#define MID_R 8
#define TN_V 4
#define GEMM_NN gemm_nn_avx512
#define GEMM_TN gemm_tn_avx512
#include "train_gemm.inc"

#define KERN_OWN_GEMM 1
#define KERN_TABLE rnnfx_train_kernels_avx512
#define KERN_NAME "avx512"
#define KERN_SUFFIX avx512
#include "train_kern.inc"
#else
typedef int rnnfx_train_kern_avx512_unused;
#endif

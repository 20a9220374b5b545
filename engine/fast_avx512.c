/*
 * fast_avx512.c — the fast kernels for AVX-512 (F+VL+DQ+BW): 16 floats per
 * vector, up to 8 accumulator vectors (128 gate rows) per chunk, two
 * accumulator sets, i.e. 16 of the 32 zmm registers.
 *
 * Built with the AVX-512 flags (the Makefile adds them for *_avx512.c);
 * fast.c calls into it only when CPUID reports the features, so nothing
 * here runs on an older CPU. On non-x86 targets this file is empty.
 */
#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512DQ__)
#include <string.h>

#include "activation_avx512.h"
#include "fast_internal.h"

#define RX_W 16
#define RX_V __m512
#define RX_MAXNV 8
#define RX_LOAD(p) _mm512_load_ps(p)
#define RX_STORE(p, v) _mm512_store_ps((p), (v))
#define RX_SET1(x) _mm512_set1_ps(x)
#define RX_ZERO() _mm512_setzero_ps()
#define RX_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define RX_ADD(a, b) _mm512_add_ps((a), (b))
#define RX_SUB(a, b) _mm512_sub_ps((a), (b))
#define RX_MUL(a, b) _mm512_mul_ps((a), (b))
#define RX_MAX(a, b) _mm512_max_ps((a), (b))
#define RX_SIG(v) rnnfx_sigmoid_avx512(v)
#define RX_HSUM(v) _mm512_reduce_add_ps(v)

#include "fast_kernels.h"

const RnnfxFastIsa rnnfx_fast_isa_avx512 = {"avx512", rx_run_audio, rx_run_frames, rx_act_sigmoid,
                                            rx_act_tanh};
#else
/* ISO C forbids an empty translation unit. */
typedef int rnnfx_fast_avx512_unused;
#endif

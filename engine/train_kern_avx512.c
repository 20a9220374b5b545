/*
 * train_kern_avx512.c — the trainer's inner loops for CPUs with AVX-512
 * (F, VL, DQ, BW; the Makefile adds the flags from this file's name; used
 * only when CPUID reports them, see rnnfx_train_kernels_select).
 *
 * The cell kernels come from train_kern.inc as for every ISA. The two matrix
 * products, which take most of the time, are register-blocked here: a tile
 * of R rows × V·16 columns of C stays in zmm registers for the whole K loop,
 * so each step of K costs V loads, R broadcasts and R·V FMAs. Columns past N
 * are masked, so any N works; very narrow outputs (N <= 4, e.g. a one-output
 * dense layer or a one-input layer's weight gradient) use dot-product forms
 * instead, which keep all 16 lanes busy.
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

/* C[r][:] (+)= Σ_k a(r,k) · B[k][:] for R rows and V vectors of columns, where
 * a(r,k) = A[r*ars + k*aks]: (ars, aks) = (lda, 1) for A·B, (1, lda) for Aᵀ·B.
 * With bias != NULL the sums start from bias instead of from C. */
static inline __attribute__((always_inline)) void tile(const int R, const int V, int K,
                                                       const float *A, size_t ars, size_t aks,
                                                       const float *B, int ldb,
                                                       const float *bias, float *C, int ldc,
                                                       const __mmask16 *mk)
{
    __m512 acc[8][4];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            acc[r][v] = bias ? _mm512_maskz_loadu_ps(mk[v], bias + 16 * v)
                             : _mm512_maskz_loadu_ps(mk[v], C + (size_t)r * ldc + 16 * v);
    for (int k = 0; k < K; k++) {
        __m512 b[4];
        const float *bk = B + (size_t)k * ldb;
        for (int v = 0; v < V; v++)
            b[v] = _mm512_maskz_loadu_ps(mk[v], bk + 16 * v);
        const float *ak = A + (size_t)k * aks;
        for (int r = 0; r < R; r++) {
            __m512 a = _mm512_set1_ps(ak[(size_t)r * ars]);
            for (int v = 0; v < V; v++)
                acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            _mm512_mask_storeu_ps(C + (size_t)r * ldc + 16 * v, mk[v], acc[r][v]);
}

/* One pass of tiles over a block of K; rows of C advance by ldc, rows of A
 * by ars (A·B: lda, Aᵀ·B: 1). */
static void tiled_block(int M, int N, int K, const float *A, size_t ars, size_t aks,
                        const float *B, int ldb, const float *bias, float *C, int ldc)
{
    if (N > 32) {
        for (int j = 0; j < N; j += 64) {
            __mmask16 mk[4] = {lanes(N - j), lanes(N - j - 16), lanes(N - j - 32),
                               lanes(N - j - 48)};
            const float *bj = bias ? bias + j : NULL;
            int i = 0;
            for (; i + 4 <= M; i += 4)
                tile(4, 4, K, A + (size_t)i * ars, ars, aks, B + j, ldb, bj,
                     C + (size_t)i * ldc + j, ldc, mk);
            for (; i < M; i++)
                tile(1, 4, K, A + (size_t)i * ars, ars, aks, B + j, ldb, bj,
                     C + (size_t)i * ldc + j, ldc, mk);
        }
    } else if (N > 16) {
        __mmask16 mk[2] = {lanes(N), lanes(N - 16)};
        int i = 0;
        for (; i + 8 <= M; i += 8)
            tile(8, 2, K, A + (size_t)i * ars, ars, aks, B, ldb, bias, C + (size_t)i * ldc, ldc,
                 mk);
        for (; i < M; i++)
            tile(1, 2, K, A + (size_t)i * ars, ars, aks, B, ldb, bias, C + (size_t)i * ldc, ldc,
                 mk);
    } else {
        __mmask16 mk[1] = {lanes(N)};
        int i = 0;
        for (; i + 8 <= M; i += 8)
            tile(8, 1, K, A + (size_t)i * ars, ars, aks, B, ldb, bias, C + (size_t)i * ldc, ldc,
                 mk);
        for (; i < M; i++)
            tile(1, 1, K, A + (size_t)i * ars, ars, aks, B, ldb, bias, C + (size_t)i * ldc, ldc,
                 mk);
    }
}

/* out[M] += Σ_k A[k][:] over a block of rows of A (in L1 after the tiles). */
static void colsum_block(int M, int K, const float *A, int lda, float *out)
{
    for (int i = 0; i < M; i += 16) {
        __mmask16 m = lanes(M - i);
        __m512 acc = _mm512_maskz_loadu_ps(m, out + i);
        for (int k = 0; k < K; k++)
            acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, A + (size_t)k * lda + i));
        _mm512_mask_storeu_ps(out + i, m, acc);
    }
}

/* K is cut into blocks small enough that the slices of A and B a block
 * touches stay in L1 while every tile of C passes over them: for the weight
 * gradients K is time × rows (thousands) and A is megabytes, which would
 * otherwise be streamed from memory once per tile. */
#define K_BLOCK 64

static void gemm_nn_avx512(int M, int N, int K, const float *restrict A, int lda,
                           const float *restrict B, int ldb, const float *restrict bias,
                           float *restrict C, int ldc)
{
    if (N <= 4 && K <= 4096) {
        /* C[i][n] (+)= A[i][:] · (column n of B): vectorised over k */
        float col[4096];
        for (int n = 0; n < N; n++) {
            for (int k = 0; k < K; k++)
                col[k] = B[(size_t)k * ldb + n];
            for (int i = 0; i < M; i++) {
                const float *a = A + (size_t)i * lda;
                __m512 acc = _mm512_setzero_ps();
                for (int k = 0; k < K; k += 16) {
                    __mmask16 m = lanes(K - k);
                    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k),
                                          _mm512_maskz_loadu_ps(m, col + k), acc);
                }
                float *c = C + (size_t)i * ldc + n;
                *c = (bias ? bias[n] : *c) + _mm512_reduce_add_ps(acc);
            }
        }
        return;
    }
    /* K is a hidden size here (tens to hundreds): one block */
    tiled_block(M, N, K, A, (size_t)lda, 1, B, ldb, bias, C, ldc);
}

static void gemm_tn_avx512(int M, int N, int K, const float *restrict A, int lda,
                           const float *restrict B, int ldb, float *restrict C, int ldc,
                           float *restrict colsum)
{
    if (N <= 4) {
        /* C[i][n] += Σ_k A[k][i] B[k][n]: vectorised over i, 64 at a time */
        for (int i = 0; i < M; i += 64) {
            __mmask16 mk[4] = {lanes(M - i), lanes(M - i - 16), lanes(M - i - 32),
                               lanes(M - i - 48)};
            __m512 acc[4][4], cs[4];
            for (int v = 0; v < 4; v++) {
                cs[v] = _mm512_setzero_ps();
                for (int n = 0; n < 4; n++)
                    acc[n][v] = _mm512_setzero_ps();
            }
            for (int k = 0; k < K; k++) {
                const float *a = A + (size_t)k * lda + i;
                __m512 av[4];
                for (int v = 0; v < 4; v++) {
                    av[v] = _mm512_maskz_loadu_ps(mk[v], a + 16 * v);
                    cs[v] = _mm512_add_ps(cs[v], av[v]);
                }
                for (int n = 0; n < N; n++) {
                    __m512 b = _mm512_set1_ps(B[(size_t)k * ldb + n]);
                    for (int v = 0; v < 4; v++)
                        acc[n][v] = _mm512_fmadd_ps(av[v], b, acc[n][v]);
                }
            }
            for (int v = 0; v < 4; v++) {
                float t[16];
                if (colsum)
                    _mm512_mask_storeu_ps(colsum + i + 16 * v, mk[v],
                                          _mm512_add_ps(cs[v], _mm512_maskz_loadu_ps(
                                                                   mk[v], colsum + i + 16 * v)));
                for (int n = 0; n < N; n++) {
                    _mm512_storeu_ps(t, acc[n][v]);
                    for (int l = 0; l < 16 && i + 16 * v + l < M; l++)
                        C[(size_t)(i + 16 * v + l) * ldc + n] += t[l];
                }
            }
        }
        return;
    }
    for (int k = 0; k < K; k += K_BLOCK) {
        int kb = K - k < K_BLOCK ? K - k : K_BLOCK;
        const float *Ak = A + (size_t)k * lda;
        tiled_block(M, N, kb, Ak, 1, (size_t)lda, B + (size_t)k * ldb, ldb, NULL, C, ldc);
        if (colsum)
            colsum_block(M, kb, Ak, lda, colsum);
    }
}

#define KERN_OWN_GEMM 1
#define KERN_TABLE rnnfx_train_kernels_avx512
#define KERN_NAME "avx512"
#define KERN_SUFFIX avx512
#include "train_kern.inc"
#else
typedef int rnnfx_train_kern_avx512_unused;
#endif

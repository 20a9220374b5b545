/*
 * train_kern_avx2.c — the trainer's inner loops for CPUs with AVX2 and FMA
 * but no AVX-512 (most laptops), compiled with the AVX2 flags the Makefile
 * adds from this file's name; used only when CPUID reports AVX2 and FMA (see
 * rnnfx_train_kernels_select).
 *
 * The cell kernels come from train_kern.inc. The two matrix products are
 * register-blocked as in train_kern_avx512.c, sized for 16 ymm registers: a
 * tile of R rows × V·8 columns of C stays in registers for a block of K, so
 * each step of K costs V loads, R broadcasts and R·V FMAs. Columns past N
 * are masked (maskload/maskstore), so any N works; narrow outputs (N <= 4)
 * use dot-product forms.
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

/* C[r][:] (+)= Σ_k a(r,k) · B[k][:] for R rows and V vectors of 8 columns,
 * a(r,k) = A[r*ars + k*aks]; with bias != NULL the sums start from bias. */
static inline __attribute__((always_inline)) void tile(const int R, const int V, int K,
                                                       const float *A, size_t ars, size_t aks,
                                                       const float *B, int ldb,
                                                       const float *bias, float *C, int ldc,
                                                       const __m256i *mk)
{
    __m256 acc[8][4];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            acc[r][v] = bias ? _mm256_maskload_ps(bias + 8 * v, mk[v])
                             : _mm256_maskload_ps(C + (size_t)r * ldc + 8 * v, mk[v]);
    for (int k = 0; k < K; k++) {
        __m256 b[4];
        const float *bk = B + (size_t)k * ldb;
        for (int v = 0; v < V; v++)
            b[v] = _mm256_maskload_ps(bk + 8 * v, mk[v]);
        const float *ak = A + (size_t)k * aks;
        for (int r = 0; r < R; r++) {
            __m256 a = _mm256_broadcast_ss(ak + (size_t)r * ars);
            for (int v = 0; v < V; v++)
                acc[r][v] = _mm256_fmadd_ps(a, b[v], acc[r][v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            _mm256_maskstore_ps(C + (size_t)r * ldc + 8 * v, mk[v], acc[r][v]);
}

static void tiled_block(int M, int N, int K, const float *A, size_t ars, size_t aks,
                        const float *B, int ldb, const float *bias, float *C, int ldc)
{
    if (N > 16) {
        for (int j = 0; j < N; j += 32) {
            __m256i mk[4] = {lanes8(N - j), lanes8(N - j - 8), lanes8(N - j - 16),
                             lanes8(N - j - 24)};
            const float *bj = bias ? bias + j : NULL;
            int i = 0;
            for (; i + 2 <= M; i += 2)
                tile(2, 4, K, A + (size_t)i * ars, ars, aks, B + j, ldb, bj,
                     C + (size_t)i * ldc + j, ldc, mk);
            for (; i < M; i++)
                tile(1, 4, K, A + (size_t)i * ars, ars, aks, B + j, ldb, bj,
                     C + (size_t)i * ldc + j, ldc, mk);
        }
    } else if (N > 8) {
        __m256i mk[2] = {lanes8(N), lanes8(N - 8)};
        int i = 0;
        for (; i + 4 <= M; i += 4)
            tile(4, 2, K, A + (size_t)i * ars, ars, aks, B, ldb, bias, C + (size_t)i * ldc, ldc,
                 mk);
        for (; i < M; i++)
            tile(1, 2, K, A + (size_t)i * ars, ars, aks, B, ldb, bias, C + (size_t)i * ldc, ldc,
                 mk);
    } else {
        __m256i mk[1] = {lanes8(N)};
        int i = 0;
        for (; i + 8 <= M; i += 8)
            tile(8, 1, K, A + (size_t)i * ars, ars, aks, B, ldb, bias, C + (size_t)i * ldc, ldc,
                 mk);
        for (; i < M; i++)
            tile(1, 1, K, A + (size_t)i * ars, ars, aks, B, ldb, bias, C + (size_t)i * ldc, ldc,
                 mk);
    }
}

static void colsum_block(int M, int K, const float *A, int lda, float *out)
{
    for (int i = 0; i < M; i += 8) {
        __m256i m = lanes8(M - i);
        __m256 acc = _mm256_maskload_ps(out + i, m);
        for (int k = 0; k < K; k++)
            acc = _mm256_add_ps(acc, _mm256_maskload_ps(A + (size_t)k * lda + i, m));
        _mm256_maskstore_ps(out + i, m, acc);
    }
}

#define K_BLOCK 64 /* see train_kern_avx512.c */

static void gemm_nn_avx2(int M, int N, int K, const float *restrict A, int lda,
                         const float *restrict B, int ldb, const float *restrict bias,
                         float *restrict C, int ldc)
{
    if (N <= 4 && K <= 4096) {
        float col[4096];
        for (int n = 0; n < N; n++) {
            for (int k = 0; k < K; k++)
                col[k] = B[(size_t)k * ldb + n];
            for (int i = 0; i < M; i++) {
                const float *a = A + (size_t)i * lda;
                __m256 acc = _mm256_setzero_ps();
                for (int k = 0; k < K; k += 8) {
                    __m256i m = lanes8(K - k);
                    acc = _mm256_fmadd_ps(_mm256_maskload_ps(a + k, m),
                                          _mm256_maskload_ps(col + k, m), acc);
                }
                float *c = C + (size_t)i * ldc + n;
                *c = (bias ? bias[n] : *c) + hsum8(acc);
            }
        }
        return;
    }
    tiled_block(M, N, K, A, (size_t)lda, 1, B, ldb, bias, C, ldc);
}

static void gemm_tn_avx2(int M, int N, int K, const float *restrict A, int lda,
                         const float *restrict B, int ldb, float *restrict C, int ldc,
                         float *restrict colsum)
{
    if (N <= 4) {
        /* vectorised over i, 16 at a time: up to 4×2 sums + 2 column sums */
        for (int i = 0; i < M; i += 16) {
            __m256i mk[2] = {lanes8(M - i), lanes8(M - i - 8)};
            __m256 acc[4][2], cs[2];
            for (int v = 0; v < 2; v++) {
                cs[v] = _mm256_setzero_ps();
                for (int n = 0; n < 4; n++)
                    acc[n][v] = _mm256_setzero_ps();
            }
            for (int k = 0; k < K; k++) {
                const float *a = A + (size_t)k * lda + i;
                __m256 av[2];
                for (int v = 0; v < 2; v++) {
                    av[v] = _mm256_maskload_ps(a + 8 * v, mk[v]);
                    cs[v] = _mm256_add_ps(cs[v], av[v]);
                }
                for (int n = 0; n < N; n++) {
                    __m256 b = _mm256_broadcast_ss(B + (size_t)k * ldb + n);
                    for (int v = 0; v < 2; v++)
                        acc[n][v] = _mm256_fmadd_ps(av[v], b, acc[n][v]);
                }
            }
            for (int v = 0; v < 2; v++) {
                float t[8];
                if (colsum)
                    _mm256_maskstore_ps(colsum + i + 8 * v, mk[v],
                                        _mm256_add_ps(cs[v], _mm256_maskload_ps(
                                                                 colsum + i + 8 * v, mk[v])));
                for (int n = 0; n < N; n++) {
                    _mm256_storeu_ps(t, acc[n][v]);
                    for (int l = 0; l < 8 && i + 8 * v + l < M; l++)
                        C[(size_t)(i + 8 * v + l) * ldc + n] += t[l];
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
#define KERN_TABLE rnnfx_train_kernels_avx2
#define KERN_NAME "avx2"
#define KERN_SUFFIX avx2
#include "train_kern.inc"
#else
typedef int rnnfx_train_kern_avx2_unused;
#endif

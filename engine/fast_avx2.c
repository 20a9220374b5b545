/*
 * fast_avx2.c — the fast kernels for AVX2 + FMA (8 floats per vector, 16
 * ymm registers).
 *
 * Three kinds of kernel live here:
 *   - the general ones (fast_kernels.h instantiated with 8-float vectors,
 *     up to 4 accumulator vectors per chunk, two accumulator sets): any
 *     stack of layers, peephole, RNN, frames;
 *   - the stack kernel of fast_kernels.h, for audio models of 2 or more
 *     LSTM (no peephole) or GRU layers of up to 16 units;
 *   - fused one-layer audio kernels for LSTM (no peephole) and GRU with
 *     H <= 96, the plugin's common case (f2_run and its chunks below; the
 *     larger ones also on fp16 weights where fast.c kept them).
 *
 * Where the time goes (measured on the 2-core AVX-512 VM this was written
 * on, with RNNFX_ISA=avx2): a ymm FMA costs ~0.25 ns of throughput and
 * ~1.7 ns of latency, so from H = 32 a step is bound by the FMAs of the
 * matrix-vector product (LSTM-32: 512 of them, ~130 ns of ~165) plus the
 * activations (~85 instructions per 8-unit LSTM group), and up to H = 16
 * by the latency chain from h through the FMAs, two exponentials and two
 * reciprocals back to h (LSTM-8 ~48 ns is about 110 cycles of it).
 * Tried and measured no better (so not here): h broadcast from registers
 * by VPERMPS (one-chunk kernels), the LSTM's o rows in a second pass,
 * Horner instead of Estrin for the exponential, software prefetch (T0,
 * 4 and 8 columns ahead: slower), LSTM chunks of 3 or 1 groups.
 *
 * On a Zen 3 core (2-core AMD EPYC VM, AVX2 only, ~2.95 GHz) measured
 * since: a 32-byte load feeding an FMA streams at ~0.21 ns from L1 and
 * ~0.34 ns from L2, and the L1 holds 32 KiB, so from LSTM-64 / GRU-64 the
 * fp32 matrix streams from L2 (fast.c's fp16 copy halves that). Of the
 * activations' instructions only the multiplies, FMAs and VRCPPS share the
 * two FMA pipes with the product (VMAXPS, VADDPS, VCMPPS, VPADDD, VROUNDPS
 * and VCVTPS2DQ run beside it; VPERMPS costs ~1.25 cycles of both), which
 * puts LSTM-32's step at >= ~120 ns of FMA-pipe work. There, moving the
 * activations into the next chunk's product (f2_lstm_pipe) gained 4-7 %
 * for LSTM from 32 units; for GRU the same, and the r and n rows in a pass
 * before the z rows, measured no better (GRU-24/32/40/64 within noise), and
 * two sets for the LSTM-16 i, f, g rows with one for o (15 registers) no
 * better either.
 *
 * On that core 16-bit integer weights (VPMADDWD, 16 weights per
 * instruction) do not help: VPMADDWD issues about once per cycle on the FMA pipes (with
 * its VPADDD, 0.44 ns against 0.23 for an FMA of 8 floats, and the two
 * do not overlap), and a GRU kernel on them ran no faster than on fp16
 * (GRU-64 419 vs 419 ns, GRU-96 886 vs 826).
 *
 * Built with the AVX2 flags (the Makefile adds them for *_avx2.c); fast.c
 * calls into it only when CPUID reports AVX2 and FMA. On non-x86 targets
 * this file is empty. fast.c packs the fused kernels' layers in the z
 * domain (fast_internal.h), so their activations start at the exponent,
 * and every other AVX2 layer in the plain domain.
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
/* Gate activations in the layer's packing domain: z for the fused
 * kernels' shapes (whose frames path comes here), plain for the rest
 * (fast.c). */
#define RX_GSIG(L, v) ((L)->zdom ? rnnfx_zsig_avx2(v) : rnnfx_sigmoid_avx2(v))
#define RX_GTANH(L, v) ((L)->zdom ? rnnfx_ztanh_avx2(v) : RX_TANH_HALF(v))
#define RX_CTANH(L, c)                                                                         \
    ((L)->zdom ? rnnfx_ztanh_avx2(_mm256_mul_ps((c), _mm256_set1_ps(RNNFX_ZSCALE2)))           \
               : rnnfx_tanh_avx2(c))
#define RX_HSUM(v) rx_hsum256(v)
#define RX_TANH(v) rnnfx_tanh_avx2(v)
/* The stack kernel: layers of up to 16 units (fast.c), two 8-unit vectors
 * each. With 16 ymm registers an LSTM layer's 8 gate vectors take one
 * accumulator set for all columns, a GRU layer's recurrent and input
 * parts one set each (12 registers). */
#define RX_STACK_MAXNV 2
#define RX_STACK_CASES RX_STACK_CASE(2) /* hp is 16 for every H <= 16 */
#define RX_STACK_LSTM_SR(nv) 1
#define RX_STACK_LSTM_SX(nv) 0
#define RX_STACK_GRU_S(nv) 1
#define RX_DENSE_T F2Dense
#define RX_DENSE_INIT(D) ((D).cnt = 0, (D).t0 = 0)
#define RX_DENSE_PUSH(D, F, h, nv, in, out) f2_dense((D), (F), (h), (nv), (in), (out))
#define RX_DENSE_FLUSH(D, F, in, out) f2_dense_flush((D), (F), (in), (out))

/* The dense output is batched: 8 samples' dot-product vectors are reduced
 * together by one transposing tree (the same tree for every slot, so the
 * result does not depend on where a block starts). */
typedef struct {
    __m256 v[8];
    size_t t0;
    int cnt;
} F2Dense;

/* y_t = sum of v[t]'s lanes + db (then sigmoid, skip) for the pending
 * samples. out[t0 ..] is written only after in[t0 ..] was read, so
 * in == out is fine. */
static void f2_dense_flush(F2Dense *D, const RnnfxFast *F, const float *in, float *out)
{
    const int cnt = D->cnt;
    if (cnt == 0)
        return;
    for (int i = cnt; i < 8; i++)
        D->v[i] = _mm256_setzero_ps();
    const __m256 a0 = _mm256_hadd_ps(D->v[0], D->v[1]), a1 = _mm256_hadd_ps(D->v[2], D->v[3]);
    const __m256 a2 = _mm256_hadd_ps(D->v[4], D->v[5]), a3 = _mm256_hadd_ps(D->v[6], D->v[7]);
    const __m256 b0 = _mm256_hadd_ps(a0, a1), b1 = _mm256_hadd_ps(a2, a3);
    /* b0 lanes 0-3: samples 0-3 (low halves), 4-7: samples 0-3 (high halves) */
    __m256 y = _mm256_add_ps(_mm256_permute2f128_ps(b0, b1, 0x20), _mm256_permute2f128_ps(b0, b1, 0x31));
    y = _mm256_add_ps(y, _mm256_set1_ps(F->db[0]));
    if (F->sigmoid)
        y = rnnfx_sigmoid_avx2(y);
    float buf[8] __attribute__((aligned(32)));
    if (F->skip) {
        memset(buf, 0, sizeof buf);
        memcpy(buf, in + D->t0, (size_t)cnt * sizeof(float));
        y = _mm256_add_ps(y, _mm256_load_ps(buf));
    }
    _mm256_store_ps(buf, y);
    memcpy(out + D->t0, buf, (size_t)cnt * sizeof(float));
    D->t0 += (size_t)cnt;
    D->cnt = 0;
}

/* Appends one sample's dense dot product over NU groups of the new h. */
RX_INLINE void f2_dense(F2Dense *D, const RnnfxFast *F, const float *hn, const int NU,
                        const float *in, float *out)
{
    __m256 acc = _mm256_mul_ps(_mm256_load_ps(F->dw0), _mm256_load_ps(hn));
#pragma GCC unroll 12
    for (int u = 1; u < NU; u++)
        acc = _mm256_fmadd_ps(_mm256_load_ps(F->dw0 + 8 * u), _mm256_load_ps(hn + 8 * u), acc);
    D->v[D->cnt++] = acc;
    if (D->cnt == 8)
        f2_dense_flush(D, F, in, out);
}

#include "fast_kernels.h"

/* ---- fused one-layer audio kernels -----------------------------------------
 * One LSTM (no peephole) or GRU layer, z domain, H <= 96, audio in (knobs
 * folded into b0 by fast.c), dense channel 0 out. The kernel is compiled
 * per NU = ceil(H/8), the count of 8-unit groups that hold real units (the
 * packed rows are padded to 16 per gate; a group of padding only is never
 * touched, so its state lanes stay at the zero reset put there). The
 * recurrent weights come from fast.c's group-major copy L->whg (one
 * contiguous stream per group: the packed layout's column stride crowded
 * a group's lines into a few L1 sets).
 *
 * A time step walks the groups in chunks of CU groups: for a chunk, all
 * its gate vectors (4 CU for LSTM, 3 CU for GRU) are accumulated in ymm
 * registers over every column of the recurrent matrix (S accumulator sets,
 * columns k, k+1, .. interleaved, to shorten the FMA chains), then the
 * chunk's activations and cell update run at once, so they overlap the
 * next chunk's FMAs out of order. h is broadcast (VBROADCASTSS from memory)
 * from the step's input copy and the new h goes to a second buffer (the
 * two swap every step; the instance's h is written at the end of the
 * block), since later chunks still need the old h.
 *
 * Activations are fused in the exponent domain (e = 2^z; sigma = 1/(1+e),
 * tanh = (1-e)/(1+e)), whole expressions over one denominator, so a group
 * needs two reciprocals (VRCPPS + one Newton step) instead of five
 * divisions (rnnfx_div_avx2 folds the Newton step into the quotient's
 * multiply: LSTM-8 ~51 -> ~48 ns, GRU-8 ~47 -> ~45):
 *   LSTM  c' = f c + i g = (c D + (1 - e_g) E_f) / (D E_f),  D = E_i (1 + e_g)
 *         h' = o tanh(c') = (1 - e_c) / (E_o (1 + e_c))
 *   GRU   r = 1 / E_r,  e_n = 2^(r hn + xn),
 *         h' = (1 - z) n + z h = (e_z (1 - e_n) + h (1 + e_n)) / (E_z (1 + e_n))
 * (E = 1 + e). rnnfx_exp2z_avx2 clamps z at 40, so no denominator product
 * overflows. Padded lanes inside a group (all-zero rows, zero state) give
 * e = 1 and numerators of exactly 0: their state stays exactly zero.
 *
 * A matrix larger than about 40 KiB (LSTM from H = 49, GRU from 57) is swept
 * forwards on even time steps and backwards on odd ones (groups and
 * columns), as the AVX-512 kernels do (fast.c explains why): each step
 * starts with the lines the previous one read last, still in L1. The
 * direction follows the parity kept in the instance scratch, so any block
 * split gives bit-identical output.
 *
 * The dense output is batched (F2Dense, above). */

#define F2_MAXA 12               /* accumulators per set */

/* The recurrent weights are fp32 (whg) or, where fast.c found the model's
 * output unchanged by it, fp16 (whg16, same layout): F16 is compile-time,
 * w points at either, and offsets count weights, not bytes. */
#define F2_WADD(w, n, F16) ((const float *)((const char *)(w) + (size_t)(n) * ((F16) ? 2u : 4u)))
#define F2_WLOAD(w, n, F16)                                                                    \
    ((F16) ? _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(const void *)F2_WADD(w, n, 1)))  \
           : _mm256_load_ps((w) + (n)))
#define F2_WBASE(L, F16) ((F16) ? (const float *)(const void *)(L)->whg16 : (L)->whg)

/* One column block: sets s = 0..S-1 take column k+s (wk points at column
 * k, columns cs floats apart; hk at h[k]). first: sets 1.. start here (a
 * multiply). */
RX_INLINE void f2_column(__m256 acc[4][F2_MAXA], const float *wk, const int cs, const int *off,
                         const int NG, const int S, const float *hk, const int first,
                         const int F16)
{
#pragma GCC unroll 4
    for (int s = 0; s < S; s++) {
        const __m256 hb = _mm256_broadcast_ss(hk + s);
#pragma GCC unroll 12
        for (int j = 0; j < NG; j++) {
            const __m256 wv = F2_WLOAD(wk, (size_t)s * cs + (size_t)off[j], F16);
            acc[s][j] = (first && s > 0) ? _mm256_mul_ps(wv, hb) : _mm256_fmadd_ps(wv, hb, acc[s][j]);
        }
    }
}

/* acc[0][j] = the sum of the S sets' acc[s][j] (j < NG). */
RX_INLINE void f2_sum_sets(__m256 acc[4][F2_MAXA], const int NG, const int S)
{
#pragma GCC unroll 12
    for (int j = 0; j < NG; j++) {
        if (S == 4)
            acc[0][j] = _mm256_add_ps(_mm256_add_ps(acc[0][j], acc[1][j]),
                                      _mm256_add_ps(acc[2][j], acc[3][j]));
        else if (S == 2)
            acc[0][j] = _mm256_add_ps(acc[0][j], acc[1][j]);
    }
}

/* acc[0][j] += sum over the hc columns k of w[k cs + off[j]] h[k]
 * (j < NG), forwards or (rev) backwards; S divides hc. */
RX_INLINE void f2_matvec(__m256 acc[4][F2_MAXA], const float *w, const int cs, const int *off,
                         const int NG, const int S, const float *h, const int hc, const int rev,
                         const int F16)
{
    if (!rev) {
        f2_column(acc, w, cs, off, NG, S, h, 1, F16);
        for (int k = S; k < hc; k += S)
            f2_column(acc, F2_WADD(w, (size_t)k * cs, F16), cs, off, NG, S, h + k, 0, F16);
    } else {
        f2_column(acc, F2_WADD(w, (size_t)(hc - S) * cs, F16), cs, off, NG, S, h + hc - S, 1, F16);
        for (int k = hc - 2 * S; k >= 0; k -= S)
            f2_column(acc, F2_WADD(w, (size_t)k * cs, F16), cs, off, NG, S, h + k, 0, F16);
    }
    f2_sum_sets(acc, NG, S);
}

/* Sets for a pass of NG accumulators: as many as fit 12 registers. */
#define F2_SETS(NG) ((NG) <= 3 ? 4 : (NG) <= 6 ? 2 : 1)

/* An LSTM chunk of CU groups from group u0 begins: off gets its gate
 * vectors' places in the packed rows (wx, b0), woff in the group-major
 * matrix from group u0 (columns 32 floats apart), and acc[0] the input
 * and bias terms. */
RX_INLINE void f2_lstm_start(const RnnfxFastLayer *L, const float *b0, __m256 xv, const int u0,
                             const int CU, const int HP, const int KC, int *off, int *woff,
                             __m256 acc[4][F2_MAXA])
{
    const size_t base = (size_t)8 * (size_t)u0;
#pragma GCC unroll 12
    for (int q = 0; q < 4; q++)
        for (int j = 0; j < CU; j++) {
            off[q * CU + j] = q * HP + 8 * j;
            woff[q * CU + j] = j * KC * 32 + q * 8;
        }
#pragma GCC unroll 12
    for (int v = 0; v < 4 * CU; v++)
        acc[0][v] = _mm256_fmadd_ps(_mm256_load_ps(L->wx + base + off[v]), xv,
                                    _mm256_load_ps(b0 + base + off[v]));
}

/* LSTM, CU groups from group u0: gates i f g o at rows q HP + 8 u; KC
 * columns per group in whg (fast.c). (The
 * GRU's split into critical rows first, below, measured no gain here with
 * the o rows last: LSTM-8/16/32 within noise.) */
RX_INLINE void f2_lstm_chunk(const RnnfxFastLayer *L, const float *b0, float *c, const float *hcur,
                             float *hn, __m256 xv, int u0, const int HP, const int KC,
                             const int CU, const int S,
                             const int hc, const int rev, const int F16)
{
    const size_t base = (size_t)8 * (size_t)u0;
    int off[4 * 3], woff[4 * 3];
    __m256 acc[4][F2_MAXA];
    f2_lstm_start(L, b0, xv, u0, CU, HP, KC, off, woff, acc);
    f2_matvec(acc, F2_WADD(F2_WBASE(L, F16), (size_t)u0 * KC * 32, F16), 32, woff, 4 * CU, S, hcur,
              hc, rev, F16);
    const __m256 one = _mm256_set1_ps(1.0f);
#pragma GCC unroll 3
    for (int j = 0; j < CU; j++) {
        float *cp = c + base + 8 * j;
        const __m256 ei = rnnfx_exp2z_avx2(acc[0][j]), ef = rnnfx_exp2z_avx2(acc[0][CU + j]);
        const __m256 eg = rnnfx_exp2z_avx2(acc[0][2 * CU + j]);
        const __m256 eo = rnnfx_exp2z_avx2(acc[0][3 * CU + j]);
        const __m256 Ei = _mm256_add_ps(ei, one), Ef = _mm256_add_ps(ef, one);
        const __m256 Dn = _mm256_fmadd_ps(Ei, eg, Ei);
        const __m256 cn = _mm256_fmadd_ps(_mm256_load_ps(cp), Dn, _mm256_mul_ps(_mm256_sub_ps(one, eg), Ef));
        const __m256 cv = rnnfx_div_avx2(cn, _mm256_mul_ps(Dn, Ef));
        _mm256_store_ps(cp, cv);
        const __m256 ec = rnnfx_exp2z_avx2(_mm256_mul_ps(cv, _mm256_set1_ps(RNNFX_ZSCALE2)));
        const __m256 Eo = _mm256_add_ps(eo, one);
        _mm256_store_ps(hn + base + 8 * j,
                        rnnfx_div_avx2(_mm256_sub_ps(one, ec), _mm256_fmadd_ps(Eo, ec, Eo)));
    }
}

/* GRU, CU groups from group u0: gates r z n at rows q HP + 8 u. SPLIT
 * (latency-bound kernels, NU <= 2): the r rows first and their sigmoid,
 * then the z and n rows. Later in program order, the z/n pass fills the
 * execution slots r's activation leaves idle while it waits on its own
 * latency, instead of delaying it (the scheduler prefers older
 * instructions): GRU-16 ~66 -> ~51 ns, GRU-8 ~47 -> ~43; no gain at 32. */
RX_INLINE void f2_gru_chunk(const RnnfxFastLayer *L, const float *b0, const float *hcur, float *hn,
                            __m256 xv, int u0, const int HP, const int KC,
                             const int CU, const int S,
                            const int hc, const int rev, const int SPLIT, const int F16)
{
    const size_t base = (size_t)8 * (size_t)u0;
    const float *wg = F2_WADD(F2_WBASE(L, F16), (size_t)u0 * KC * 24, F16);
    int off[3 * 4], woff[3 * 4]; /* as in f2_lstm_chunk */
#pragma GCC unroll 12
    for (int q = 0; q < 3; q++)
        for (int j = 0; j < CU; j++) {
            off[q * CU + j] = q * HP + 8 * j;
            woff[q * CU + j] = j * KC * 24 + q * 8;
        }
    __m256 acc[4][F2_MAXA];
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 r0[4], er[4];
    if (SPLIT) {
#pragma GCC unroll 4
        for (int v = 0; v < CU; v++)
            acc[0][v] = _mm256_fmadd_ps(_mm256_load_ps(L->wx + base + off[v]), xv,
                                        _mm256_load_ps(b0 + base + off[v]));
        f2_matvec(acc, wg, 24, woff, CU, F2_SETS(CU), hcur, hc, rev, F16);
#pragma GCC unroll 4
        for (int j = 0; j < CU; j++) {
            er[j] = _mm256_add_ps(rnnfx_exp2z_avx2(acc[0][j]), one);
            r0[j] = _mm256_rcp_ps(er[j]);
        }
    }
    const int V0 = SPLIT ? CU : 0, NB = 3 * CU - V0;
    __m256 accb[4][F2_MAXA];
#pragma GCC unroll 12
    for (int v = 0; v < NB; v++)
        accb[0][v] = v + V0 < 2 * CU ? _mm256_fmadd_ps(_mm256_load_ps(L->wx + base + off[v + V0]), xv,
                                                       _mm256_load_ps(b0 + base + off[v + V0]))
                                     : _mm256_load_ps(L->bh + base + off[v + V0]);
    f2_matvec(accb, wg, 24, woff + V0, NB, SPLIT ? F2_SETS(NB) : S, hcur, hc, rev, F16);
#pragma GCC unroll 4
    for (int j = 0; j < CU; j++) {
        if (!SPLIT) {
            er[j] = _mm256_add_ps(rnnfx_exp2z_avx2(accb[0][j]), one);
            r0[j] = _mm256_rcp_ps(er[j]);
        }
        const __m256 az = accb[0][CU - V0 + j], hnv = accb[0][2 * CU - V0 + j];
        const size_t o = base + (size_t)off[2 * CU + j];
        const __m256 xn = _mm256_fmadd_ps(_mm256_load_ps(L->wx + o), xv, _mm256_load_ps(b0 + o));
        /* r hn + xn with r = 1/E_r: hn r0 (1 + e) + xn, e = 1 - E_r r0 (the
         * Newton step folded in, xn added beside it) */
        const __m256 hr = _mm256_mul_ps(hnv, r0[j]);
        const __m256 pn = _mm256_fmadd_ps(hr, _mm256_fnmadd_ps(er[j], r0[j], one), _mm256_add_ps(hr, xn));
        const __m256 ez = rnnfx_exp2z_avx2(az);
        const __m256 en = rnnfx_exp2z_avx2(pn);
        const __m256 Fn = _mm256_add_ps(one, en);
        const __m256 hv = _mm256_load_ps(hcur + base + 8 * j);
        const __m256 num = _mm256_fmadd_ps(ez, _mm256_sub_ps(one, en), _mm256_mul_ps(hv, Fn));
        _mm256_store_ps(hn + base + 8 * j, rnnfx_div_avx2(num, _mm256_fmadd_ps(ez, Fn, Fn)));
    }
}

/* One step's chunks in sweep order: forwards from group 0, or (rev) from
 * the last group down. NU mod CU groups left over form a last chunk of
 * their own, with 2 sets if it has fewer than 8 gate vectors. */
#define F2_CHUNKS(CHUNK)                                                                       \
    do {                                                                                       \
        const int T = NU % CU, TS = T * G >= 8 ? 1 : 2;                                        \
        if (!rev) {                                                                            \
            for (int u0 = 0; u0 + CU <= NU; u0 += CU)                                          \
                CHUNK(u0, CU, S, 0);                                                           \
            if (T)                                                                             \
                CHUNK(NU - T, T, TS, 0);                                                       \
        } else {                                                                               \
            if (T)                                                                             \
                CHUNK(NU - T, T, TS, 1);                                                       \
            for (int u0 = NU / CU * CU - CU; u0 >= 0; u0 -= CU)                                \
                CHUNK(u0, CU, S, 1);                                                           \
        }                                                                                      \
    } while (0)

/* One time step t of one channel: h from hbuf[*cur] to hbuf[*cur ^ 1], the
 * dense output pushed to D. Shared by f2_run and f2_run_pair, so a paired
 * channel computes exactly what a single one does. */
RX_INLINE void f2_step(const RnnfxFast *F, const float *b0, float *c, float (*hbuf)[96],
                       int *cur, F2Dense *D, const float *in, float *out, size_t t, int rev,
                       const int hc, const int LSTM, const int NU, const int CU, const int S,
                       const int F16)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const int HP = 16 * ((NU + 1) / 2);
    const int G = LSTM ? 4 : 3;
    (void)G;
    const __m256 xv = _mm256_set1_ps(in[t]);
    const float *hcur = hbuf[*cur];
    float *hn = hbuf[*cur ^ 1];
    if (LSTM) {
#define F2_LSTM_CHUNK(u0, cu, s, r)                                                            \
    f2_lstm_chunk(L, b0, c, hcur, hn, xv, u0, HP, 8 * NU, cu, s, hc, r, F16)
        F2_CHUNKS(F2_LSTM_CHUNK);
#undef F2_LSTM_CHUNK
    } else {
#define F2_GRU_CHUNK(u0, cu, s, r)                                                             \
    f2_gru_chunk(L, b0, hcur, hn, xv, u0, HP, 8 * NU, cu, s, hc, r, NU <= 2, F16)
        F2_CHUNKS(F2_GRU_CHUNK);
#undef F2_GRU_CHUNK
    }
    f2_dense(D, F, hn, NU, in, out);
    *cur ^= 1;
}

/* Whether a layer's sweep zigzags: whether one can exceed L1 at all for
 * this NU (compile time), and whether this layer's (hc columns) does. */
RX_INLINE int f2_zig(const int hc, const int LSTM, const int NU)
{
    const size_t G = LSTM ? 4 : 3;
    const int zigable = (size_t)8 * NU * G * 8 * NU * sizeof(float) > RNNFX_ZIG_BYTES;
    return zigable && (size_t)hc * G * 8 * NU * sizeof(float) > RNNFX_ZIG_BYTES;
}

/* ---- pipelined LSTM steps (two or more chunks per step) -----------------
 * An LSTM chunk's activations are long dependency chains (~110 cycles from
 * the gate sums to h) of some 190 instructions for two groups. Placed after
 * the chunk's product, as f2_step does, they fill the out-of-order window
 * while they wait on those chains, and the next chunk's FMAs behind them
 * cannot enter. On a Zen 3 core (AVX2 only) products and activations then
 * barely overlapped: LSTM-32 ~100 ns per sample with the activations cut
 * to a clamp, ~100 with the products cut, ~180 whole. So f2_lstm_pipe holds
 * each chunk's gate sums over (F2Pend) and runs its activations in four
 * stages per group, placed in program order between the column blocks of
 * the next chunk's product, where the FMAs around them keep both FMA pipes
 * busy while each stage's chain completes. Measured there (best of 7
 * interleaved runs): LSTM-32 176 -> 163 ns, LSTM-40 251 -> 237, LSTM-64
 * 682 -> 648, LSTM-96 1554 -> 1489. The GRU's shorter chains measured the
 * same either way (GRU-40/64/96 within 2 %), so its kernels keep f2_step.
 *
 * The last chunk of a step is held over into the next step's first chunk.
 * That product needs the held groups' new h, so it reads their columns
 * last, with all the stages before them: the columns ascend when the
 * chunks are walked forwards without a zigzag (the held chunk is the top
 * one), and run against the chunk order under a zigzag (the held chunk is
 * then the one walked last: the top one after a forward step, chunk 0
 * after a backward one). The zigzag's read order stays exactly reversed
 * from one step to the next, so its L1 reuse is kept. Each activation is
 * f2_lstm_chunk's, operation for operation, and sample t's dense output is
 * pushed once h_t is whole (in step t + 1, or at the block's end), so any
 * block split still gives bit-identical output. */
typedef struct {
    __m256 z[F2_MAXA];  /* gate sums i f g o, cu vectors each */
    __m256 a[4], b[4];  /* per group, from one stage to the next */
    float *hd;          /* where the chunk's h goes */
    int u0;
} F2Pend;

/* Stage st of a held chunk of cu groups: stage q = st / cu of group st % cu,
 * so a group's next stage comes cu slots later. */
RX_INLINE void f2_stage(F2Pend *P, const int cu, const int st, float *c)
{
    const int q = st / cu, j = st % cu;
    const size_t o = (size_t)8 * (size_t)(P->u0 + j);
    const __m256 one = _mm256_set1_ps(1.0f);
    if (q == 0) {
        P->a[j] = _mm256_add_ps(rnnfx_exp2z_avx2(P->z[j]), one);      /* E_i */
        P->b[j] = _mm256_add_ps(rnnfx_exp2z_avx2(P->z[cu + j]), one); /* E_f */
    } else if (q == 1) {
        const __m256 eg = rnnfx_exp2z_avx2(P->z[2 * cu + j]);
        const __m256 Ei = P->a[j], Ef = P->b[j];
        const __m256 Dn = _mm256_fmadd_ps(Ei, eg, Ei);
        const __m256 cn = _mm256_fmadd_ps(_mm256_load_ps(c + o), Dn,
                                          _mm256_mul_ps(_mm256_sub_ps(one, eg), Ef));
        const __m256 cv = rnnfx_div_avx2(cn, _mm256_mul_ps(Dn, Ef));
        _mm256_store_ps(c + o, cv);
        P->a[j] = cv;
    } else if (q == 2) {
        P->a[j] = rnnfx_exp2z_avx2(_mm256_mul_ps(P->a[j], _mm256_set1_ps(RNNFX_ZSCALE2))); /* e_c */
        P->b[j] = _mm256_add_ps(rnnfx_exp2z_avx2(P->z[3 * cu + j]), one);                /* E_o */
    } else {
        const __m256 ec = P->a[j], Eo = P->b[j];
        _mm256_store_ps(P->hd + o,
                        rnnfx_div_avx2(_mm256_sub_ps(one, ec), _mm256_fmadd_ps(Eo, ec, Eo)));
    }
}

/* One chunk of cu groups from u0 with S sets: its gate sums over all hc
 * columns (asc: ascending, else descending), with the stages of the held
 * chunk (cup groups; 0: none held) spread over the first span columns;
 * then it becomes the held chunk, its h going to hn. */
RX_INLINE void f2_lstm_chunk_pipe(const RnnfxFastLayer *L, const float *b0, float *c,
                                  const float *hcur, float *hn, __m256 xv, const int u0,
                                  const int cu, const int S, const int HP, const int KC,
                                  const int hc, const int asc, const int span, F2Pend *P,
                                  const int cup, const int F16)
{
    const int NG = 4 * cu, nb = hc / S, sb = span / S, NST = 4 * cup;
    const float *w = F2_WADD(F2_WBASE(L, F16), (size_t)u0 * KC * 32, F16);
    int off[F2_MAXA], woff[F2_MAXA];
    __m256 acc[4][F2_MAXA];
    f2_lstm_start(L, b0, xv, u0, cu, HP, KC, off, woff, acc);
#define F2_COL(p, first)                                                                       \
    do {                                                                                       \
        const int k_ = asc ? (p) * S : hc - S - (p) * S;                                       \
        f2_column(acc, F2_WADD(w, (size_t)k_ * 32, F16), 32, woff, NG, S, hcur + k_, first, F16); \
    } while (0)
    F2_COL(0, 1);
    int p = 1;
#pragma GCC unroll 16
    for (int st = 0; st < NST; st++) {
        for (; p < sb * st / NST; p++)
            F2_COL(p, 0);
        f2_stage(P, cup, st, c);
    }
    for (; p < nb; p++)
        F2_COL(p, 0);
#undef F2_COL
    f2_sum_sets(acc, NG, S);
#pragma GCC unroll 12
    for (int v = 0; v < NG; v++)
        P->z[v] = acc[0][v];
    P->u0 = u0;
    P->hd = hn;
}

/* f2_run for an LSTM of NU / CU >= 2 chunks (see above). */
RX_INLINE void f2_lstm_pipe(const RnnfxFast *F, const float *b0, float *h, float *c,
                            const float *in, float *out, size_t n, unsigned *step, const int NU,
                            const int CU, const int S, const int F16)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const int hc = L->hcols, HP = 16 * ((NU + 1) / 2), KC = 8 * NU;
    const int T = NU % CU, NC = NU / CU + (T > 0), TS = T * 4 >= 8 ? 1 : 2;
    const int zig = f2_zig(hc, 1, NU);
    float hbuf[2][96] __attribute__((aligned(32)));
    memcpy(hbuf[0], h, (size_t)8 * NU * sizeof(float));
    int cur = 0, pcu = 0; /* pcu: groups in the held chunk, 0 for none */
    const unsigned par = *step;
    F2Dense D;
    D.cnt = 0;
    D.t0 = 0;
    F2Pend P;
    memset(&P, 0, sizeof P);
    for (size_t t = 0; t < n; t++) {
        const int rev = zig && ((par + (unsigned)t) & 1u);
        const int asc = !zig || rev;
        const __m256 xv = _mm256_set1_ps(in[t]);
        const float *hcur = hbuf[cur];
        float *hn = hbuf[cur ^ 1];
        for (int i = 0; i < NC; i++) {
            const int m = rev ? NC - 1 - i : i, tail = T && m == NC - 1;
            /* the first chunk reads the held groups' columns last */
            const int span = i > 0 || !pcu ? hc : asc ? 8 * P.u0 : hc - 8 * pcu;
#define F2_PIPE(cu, s, cup)                                                                    \
    f2_lstm_chunk_pipe(L, b0, c, hcur, hn, xv, m * CU, cu, s, HP, KC, hc, asc, span, &P, cup, F16)
#define F2_PIPE_HELD(cu, s)                                                                    \
    do {                                                                                       \
        if (pcu == CU)                                                                         \
            F2_PIPE(cu, s, CU);                                                                \
        else if (T && pcu == T)                                                                \
            F2_PIPE(cu, s, T);                                                                 \
        else                                                                                   \
            F2_PIPE(cu, s, 0);                                                                 \
    } while (0)
            const int held = pcu;
            if (tail)
                F2_PIPE_HELD(T, TS);
            else
                F2_PIPE_HELD(CU, S);
#undef F2_PIPE_HELD
#undef F2_PIPE
            if (i == 0 && held)
                f2_dense(&D, F, hcur, NU, in, out); /* h_{t-1} is whole */
            pcu = tail ? T : CU;
        }
        cur ^= 1;
    }
    if (pcu) {
        const int cup = pcu == CU ? CU : T;
        for (int st = 0; st < 4 * cup; st++)
            f2_stage(&P, cup, st, c);
        f2_dense(&D, F, hbuf[cur], NU, in, out);
    }
    f2_dense_flush(&D, F, in, out);
    memcpy(h, hbuf[cur], (size_t)8 * NU * sizeof(float));
    *step = (par + (unsigned)(n & 1u)) & 1u;
}

/* NU: unit groups; CU groups per chunk with S sets (all compile-time). */
RX_INLINE void f2_run(const RnnfxFast *F, const float *b0, float *h, float *c, const float *in,
                      float *out, size_t n, unsigned *step, const int LSTM, const int NU,
                      const int CU, const int S, const int F16)
{
    if (LSTM && NU / CU >= 2) {
        f2_lstm_pipe(F, b0, h, c, in, out, n, step, NU, CU, S, F16);
        return;
    }
    const RnnfxFastLayer *L = &F->layer[0];
    const int hc = L->hcols;
    const int zig = f2_zig(hc, LSTM, NU);
    float hbuf[2][96] __attribute__((aligned(32)));
    memcpy(hbuf[0], h, (size_t)8 * NU * sizeof(float));
    int cur = 0;
    const unsigned par = *step;
    F2Dense D;
    D.cnt = 0;
    D.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        const int rev = zig && ((par + (unsigned)t) & 1u);
        f2_step(F, b0, c, hbuf, &cur, &D, in, out, t, rev, hc, LSTM, NU, CU, S, F16);
    }
    f2_dense_flush(&D, F, in, out);
    memcpy(h, hbuf[cur], (size_t)8 * NU * sizeof(float));
    *step = (par + (unsigned)(n & 1u)) & 1u;
}

/* Two channels in one time loop (H <= 16: one sweep direction, so no
 * parity to follow; each channel's parity is still advanced as f2_run
 * does). */
RX_INLINE void f2_run_pair(const RnnfxFast *F, const RnnfxFastChannel *a,
                           const RnnfxFastChannel *b, size_t n, const int LSTM, const int NU,
                           const int CU, const int S)
{
    const int hc = F->layer[0].hcols;
    const RnnfxFastChannel *ch[2] = {a, b};
    float hbuf[2][2][96] __attribute__((aligned(32)));
    int cur[2] = {0, 0};
    F2Dense D[2];
    const float *b0[2];
    for (int k = 0; k < 2; k++) {
        memcpy(hbuf[k][0], ch[k]->h[0], (size_t)8 * NU * sizeof(float));
        D[k].cnt = 0;
        D[k].t0 = 0;
        b0[k] = (const float *)ch[k]->scratch + F->off_b0;
    }
    float *ca = LSTM ? a->c[0] : NULL, *cb = LSTM ? b->c[0] : NULL;
    for (size_t t = 0; t < n; t++) {
        f2_step(F, b0[0], ca, hbuf[0], &cur[0], &D[0], a->in, a->out, t, 0, hc, LSTM, NU, CU, S, 0);
        f2_step(F, b0[1], cb, hbuf[1], &cur[1], &D[1], b->in, b->out, t, 0, hc, LSTM, NU, CU, S, 0);
    }
    for (int k = 0; k < 2; k++) {
        f2_dense_flush(&D[k], F, ch[k]->in, ch[k]->out);
        memcpy(ch[k]->h[0], hbuf[k][cur[k]], (size_t)8 * NU * sizeof(float));
        unsigned *step = (unsigned *)((float *)ch[k]->scratch + F->off_step);
        *step = (*step + (unsigned)(n & 1u)) & 1u;
    }
}

/* One kernel per cell and NU (noinline: each is its own function in a
 * profile, and the dispatch stays small). */
/* The chunking per NU: (LSTM groups per chunk, sets), (GRU groups per
 * chunk, sets); see F2_CHUNKS for the groups left over.
 * Measured (A/B, best of interleaved runs, this machine's AVX2 path):
 *   - one chunk with 8-12 accumulators and one set beats more sets and
 *     smaller chunks: at 4 cycles of FMA latency, 8 independent chains
 *     already keep both FMA ports busy, and each further chunk repeats
 *     the h broadcasts and its loop (LSTM-16: 2 chunks of 1 group with 2
 *     sets ~111 ns, 1 chunk of 2 groups ~69; GRU-64 4 groups per chunk
 *     ~390 ns against 2 groups and 2 sets ~440);
 *   - LSTM chunks of 3 groups (12 accumulators) were slower than 2 (LSTM-40
 *     ~300 against ~250 ns, LSTM-96 ~1470 against ~1400), and of 1 group
 *     much slower;
 *   - with one group, 2 sets (LSTM-8 ~52 against ~56 ns). */
#define F2_DEF_LSTM(nu, lcu, ls, sfx, f16)                                                     \
    static __attribute__((noinline)) void f2_lstm_##nu##sfx(const RnnfxFast *F, const float *b0, \
                                                           float *h, float *c, const float *in, \
                                                           float *out, size_t n, unsigned *step) \
    {                                                                                          \
        f2_run(F, b0, h, c, in, out, n, step, 1, nu, lcu, ls, f16);                             \
    }
#define F2_DEF_GRU(nu, gcu, gs, sfx, f16)                                                      \
    static __attribute__((noinline)) void f2_gru_##nu##sfx(const RnnfxFast *F, const float *b0,  \
                                                          float *h, const float *in, float *out, \
                                                          size_t n, unsigned *step)             \
    {                                                                                          \
        f2_run(F, b0, h, NULL, in, out, n, step, 0, nu, gcu, gs, f16);                          \
    }
#define F2_DEF(nu, lcu, ls, gcu, gs) F2_DEF_LSTM(nu, lcu, ls, , 0) F2_DEF_GRU(nu, gcu, gs, , 0)
/* also on fp16 weights (whg16) where fast.c's f16_shape gives them: the GRU
 * from 7 groups, the LSTM of 10 or 12 as well */
#define F2_DEF_G16(nu, lcu, ls, gcu, gs) F2_DEF(nu, lcu, ls, gcu, gs) F2_DEF_GRU(nu, gcu, gs, _h, 1)
#define F2_DEF16(nu, lcu, ls, gcu, gs)                                                         \
    F2_DEF_G16(nu, lcu, ls, gcu, gs) F2_DEF_LSTM(nu, lcu, ls, _h, 1)

F2_DEF(1, 1, 2, 1, 2)
F2_DEF(2, 2, 1, 2, 2)
F2_DEF(3, 2, 1, 3, 1)
F2_DEF(4, 2, 1, 4, 1)
F2_DEF(5, 2, 1, 4, 1)
F2_DEF(6, 2, 1, 3, 1)
F2_DEF_G16(7, 2, 1, 4, 1)
F2_DEF_G16(8, 2, 1, 4, 1)
F2_DEF_G16(9, 2, 1, 3, 1)
F2_DEF16(10, 2, 1, 4, 1)
F2_DEF_G16(11, 2, 1, 4, 1)
F2_DEF16(12, 2, 1, 4, 1)

/* The pair kernels, for the shapes whose steps are latency chains (H <= 16,
 * the chunking of F2_DEF(1, ...) and F2_DEF(2, ...)). Measured (quick
 * bench_engine runs, ns per stereo frame, pair against two single calls):
 * LSTM-8 54 vs 99, LSTM-16 123 vs 137, GRU-8 46 vs 87, GRU-16 83 vs 101.
 * From 17 units the step is throughput-bound and pairing gained 0-8 %,
 * not reproducibly (LSTM-24 232 vs 232, GRU-32 237-274 vs 236-280), and
 * lost at 48 (LSTM-48 898 vs 881), so those shapes have no pair kernel. */
#define F2_PAIR_DEF(nu, lcu, ls, gcu, gs)                                                      \
    static __attribute__((noinline)) void f2_pair_lstm_##nu(const RnnfxFast *F,                 \
                                                           const RnnfxFastChannel *a,          \
                                                           const RnnfxFastChannel *b, size_t n) \
    {                                                                                          \
        f2_run_pair(F, a, b, n, 1, nu, lcu, ls);                                               \
    }                                                                                          \
    static __attribute__((noinline)) void f2_pair_gru_##nu(const RnnfxFast *F,                  \
                                                          const RnnfxFastChannel *a,           \
                                                          const RnnfxFastChannel *b, size_t n)  \
    {                                                                                          \
        f2_run_pair(F, a, b, n, 0, nu, gcu, gs);                                               \
    }
F2_PAIR_DEF(1, 1, 2, 1, 2)
F2_PAIR_DEF(2, 2, 1, 2, 2)

#define F2_CASE(nu)                                                                            \
    case nu:                                                                                   \
        if (lstm)                                                                              \
            f2_lstm_##nu(F, b0, h[0], c[0], in, out, n, step);                                 \
        else                                                                                   \
            f2_gru_##nu(F, b0, h[0], in, out, n, step);                                        \
        return
#define F2_CASE_G16(nu)                                                                        \
    case nu:                                                                                   \
        if (lstm)                                                                              \
            f2_lstm_##nu(F, b0, h[0], c[0], in, out, n, step);                                 \
        else if (L->whg16)                                                                     \
            f2_gru_##nu##_h(F, b0, h[0], in, out, n, step);                                    \
        else                                                                                   \
            f2_gru_##nu(F, b0, h[0], in, out, n, step);                                        \
        return
#define F2_CASE16(nu)                                                                          \
    case nu:                                                                                   \
        if (lstm && L->whg16)                                                                  \
            f2_lstm_##nu##_h(F, b0, h[0], c[0], in, out, n, step);                             \
        else if (lstm)                                                                         \
            f2_lstm_##nu(F, b0, h[0], c[0], in, out, n, step);                                 \
        else if (L->whg16)                                                                     \
            f2_gru_##nu##_h(F, b0, h[0], in, out, n, step);                                    \
        else                                                                                   \
            f2_gru_##nu(F, b0, h[0], in, out, n, step);                                        \
        return

static void f2_run_audio(const RnnfxFast *F, void *scratch, float *const *h, float *const *c,
                         const float *in, float *out, size_t n)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const float *b0 = (const float *)scratch + F->off_b0;
    unsigned *step = (unsigned *)((float *)scratch + F->off_step);
    const int lstm = L->cell == RNNFX_CELL_LSTM && !L->peephole;
    /* fast.c builds whg exactly for the shapes handled here */
    if (L->whg && F->n_layers == 1 && L->zdom && L->hidden <= 96 &&
        (lstm || L->cell == RNNFX_CELL_GRU)) {
        switch ((L->hidden + 7) / 8) {
            F2_CASE(1);
            F2_CASE(2);
            F2_CASE(3);
            F2_CASE(4);
            F2_CASE(5);
            F2_CASE(6);
            F2_CASE_G16(7);
            F2_CASE_G16(8);
            F2_CASE_G16(9);
            F2_CASE16(10);
            F2_CASE_G16(11);
            F2_CASE16(12);
        default: break;
        }
    }
    rx_run_audio(F, scratch, h, c, in, out, n);
}

/* The pair kernel for F's shape: the fused kernels' shapes of up to 16
 * units (the same test as f2_run_audio's), else none. */
static RnnfxFastPairRun f2_pair_pick(const RnnfxFast *F)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const int lstm = L->cell == RNNFX_CELL_LSTM && !L->peephole;
    if (!L->whg || F->n_layers != 1 || !L->zdom || L->hidden > 16 ||
        !(lstm || L->cell == RNNFX_CELL_GRU))
        return NULL;
    if (L->hidden <= 8)
        return lstm ? f2_pair_lstm_1 : f2_pair_gru_1;
    return lstm ? f2_pair_lstm_2 : f2_pair_gru_2;
}

/* Test hooks for the z-domain forms: x is scaled to z here; a tail shorter
 * than a vector takes the scalar form. */
static void f2_act_z(const float *x, float *y, size_t n, float scale, __m256 (*f)(__m256),
                     float (*tail)(float))
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, f(_mm256_mul_ps(_mm256_loadu_ps(x + i), _mm256_set1_ps(scale))));
    for (; i < n; i++)
        y[i] = tail(x[i]);
}

static void f2_act_zsigmoid(const float *x, float *y, size_t n)
{
    f2_act_z(x, y, n, RNNFX_ZSCALE, rnnfx_zsig_avx2, rnnfx_fast_sigmoidf);
}

static void f2_act_ztanh(const float *x, float *y, size_t n)
{
    f2_act_z(x, y, n, RNNFX_ZSCALE2, rnnfx_ztanh_avx2, rnnfx_fast_tanhf);
}

const RnnfxFastIsa rnnfx_fast_isa_avx2 = {"avx2",          f2_run_audio,   rx_run_frames,
                                          rx_act_sigmoid,  rx_act_tanh,    f2_act_zsigmoid,
                                          f2_act_ztanh,    rx_run_stack,   RX_STACK_MAXNV * RX_W,
                                          f2_pair_pick};
#else
typedef int rnnfx_fast_avx2_unused;
#endif

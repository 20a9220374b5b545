/*
 * fast_avx512.c — the fast kernels for AVX-512 (F+VL+DQ+BW).
 *
 * Four kinds of kernel live here:
 *   - the general ones (fast_kernels.h instantiated with 16-float vectors,
 *     up to 8 accumulator vectors per chunk, two accumulator sets): any
 *     stack of layers, peephole, RNN, frames;
 *   - fused one-layer audio kernels for LSTM (no peephole) and GRU with
 *     H <= 96, the plugin's common case and the benchmark's subject;
 *   - the stack kernel of fast_kernels.h (audio models of 2 or more such
 *     layers of up to 64 units each, NAM's LSTMs), instantiated here with
 *     the piecewise activations and the batched dense output below;
 *   - pair forms of the fused kernels up to 24 units, which run the two
 *     channels of a stereo chain in one time loop (see "pair kernels"
 *     below).
 *
 * Where the time goes in a one-layer step (measured on the 2-core
 * Emerald-Rapids VM this was written on; AVX-512 code runs at ~2.5 GHz
 * there, two 512-bit FMA ports, ports 0 and 5):
 *   - every weight is read once per sample: ~0.21 ns per 64-byte gate
 *     vector from L1 (the FMA and its load), ~0.47 ns from L2
 *     (bench_engine measures both and prints the floor this sets);
 *   - from H = 32 the step is bound by instruction throughput on ports 0
 *     and 5: the FMAs plus ~65 activation instructions per LSTM unit group
 *     (~45 per GRU group). LSTM-32 is ~400 such instructions, 80 ns at two
 *     a cycle. Hence the fused forms (one reciprocal per expression), the
 *     dense-gate layout (no FMAs on padding) and, for matrices larger than
 *     L1, the zigzag sweep and set-partitioned copy of fast.c (less L2
 *     traffic);
 *   - up to H = 16 the step is a latency chain: broadcast of h, the FMA
 *     chain, sigmoid (~30 cycles), the cell update, tanh, and back, with
 *     ~170 instructions competing for the same two ports. Hence the
 *     piecewise activations (shorter latency) and the critical-gates-first
 *     passes there.
 * Tried and measured no better (so not here): software prefetch (T0 and
 * NTA) of the streamed weights, unit-group-by-unit-group steps with a
 * second h buffer, a software-pipelined step (next step's products
 * interleaved with this step's activations: the compiler spills), Horner
 * instead of Estrin for 2^f (fewer instructions, longer latency: slower),
 * an exponent-domain z gate for the two-group GRU, more or fewer accumulator
 * sets than below; the one-group kernels' critical-gates-first split at two
 * groups (LSTM-32 92 -> 99 ns: the step is throughput-bound there); for
 * LSTM-64, columns in two 8-line parts so that 56 lines of each page stay
 * resident (8-14 resident pages; with a pointer per part 383 -> 415 ns,
 * with one pointer per column and the second part a page later 385 -> 388:
 * the extra residency buys nothing measurable); four accumulator sets for
 * the one-group GRU's z rows; for the zigzag LSTMs, the activations in the
 * order the next step's sweep reads h (last group first before a backward
 * sweep), so the next step's first products could start early, with the
 * o gates last or each group's o beside its cell update (LSTM-64 386 ->
 * 384-392 and 390 ns, LSTM-96 within noise); fp16 recurrent weights
 * (half the bytes to read; PyTorch outputs moved by at most 1e-5): a
 * matrix-vector loop with VCVTPH2PS loads measured slower than fp32 at
 * 32, 64 and 96 units (e.g. 96: 1287-1613 against 1054-1366 ns per
 * step), the conversion taking the port time the reads save.
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
#define RX_SIG(v) rnnfx_pw_sigmoid_avx512(v)
#define RX_TANH_HALF(v) rnnfx_pw_tanh_half_avx512(v)
#define RX_GSIG(L, v) ((L)->zdom ? rnnfx_zsig_avx512(v) : rnnfx_pw_sigmoid_avx512(v))
#define RX_GTANH(L, v) ((L)->zdom ? rnnfx_ztanh_avx512(v) : rnnfx_pw_tanh_half_avx512(v))
#define RX_CTANH(L, c)                                                                         \
    ((L)->zdom ? rnnfx_ztanh_avx512(_mm512_mul_ps((c), _mm512_set1_ps(RNNFX_ZSCALE2)))         \
               : rnnfx_pw_tanh_half_avx512(_mm512_add_ps((c), (c))))
#define RX_HSUM(v) _mm512_reduce_add_ps(v)
#define RX_TANH(v) rnnfx_pw_tanh_avx512(v)
/* The stack kernel: layers of 1-4 unit groups. Up to two groups the
 * recurrent and input columns get accumulator sets of their own (two each
 * for one group); more would not fit in the 32 registers (measured: two
 * recurrent sets for two-group LSTM layers, 24 registers, were slower). */
#define RX_STACK_MAXNV 4
#define RX_STACK_CASES RX_STACK_CASE(1) RX_STACK_CASE(2) RX_STACK_CASE(3) RX_STACK_CASE(4)
#define RX_STACK_LSTM_SR(nv) ((nv) == 1 ? 2 : 1)
#define RX_STACK_LSTM_SX(nv) ((nv) <= 2 ? RX_STACK_LSTM_SR(nv) : 0)
#define RX_STACK_GRU_S(nv) ((nv) <= 2 ? 2 : 1)
#define RX_DENSE_T F512Dense
#define RX_DENSE_INIT(D) ((D).cnt = 0, (D).t0 = 0)
#define RX_DENSE_PUSH(D, F, h, nv, in, out) f512_dense_h((D), (F), (h), (nv), (in), (out))
#define RX_DENSE_FLUSH(D, F, in, out) f512_dense_flush((D), (F), (in), (out))

/* The dense output, channel 0: y_t = dw0 . h_t + db (then sigmoid, skip).
 * The dot products of 16 consecutive samples are kept as vectors and
 * summed together by one transposing reduction (45 instructions for 16
 * samples instead of ~8 shuffles and adds per sample, most of them on the
 * port the activations' permutes need). Every sample's 16 lanes are added
 * in the same tree whatever its slot, so any block split stays
 * bit-identical. out[t0 ..] is written only after in[t0 ..] was read, so
 * in == out is fine. */
typedef struct {
    __m512 v[16];
    size_t t0;
    int cnt;
} F512Dense;

/* One channel's running state in a pair kernel ("pair kernels" below):
 * its buffers and what it holds in registers across the block (h, the
 * LSTM cell state, the paired bias of f512_lstm_small). Local to the
 * kernel and handed to its inlined step by pointer, so it stays in
 * registers. */
typedef struct {
    const float *b0, *in;
    float *h, *out;
    __m512 hreg, cv, ba, bb;
} F512Chan;

static void f512_dense_flush(F512Dense *D, const RnnfxFast *F, const float *in, float *out)
{
    const int cnt = D->cnt;
    if (cnt == 0)
        return;
    for (int i = cnt; i < 16; i++)
        D->v[i] = _mm512_setzero_ps();
    __m512 a[8], b[4], c[2];
    for (int i = 0; i < 8; i++)
        a[i] = _mm512_add_ps(_mm512_unpacklo_ps(D->v[2 * i], D->v[2 * i + 1]),
                             _mm512_unpackhi_ps(D->v[2 * i], D->v[2 * i + 1]));
    for (int i = 0; i < 4; i++)
        b[i] = _mm512_add_ps(_mm512_shuffle_ps(a[2 * i], a[2 * i + 1], 0x44),
                             _mm512_shuffle_ps(a[2 * i], a[2 * i + 1], 0xEE));
    for (int i = 0; i < 2; i++)
        c[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0x88),
                             _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0xDD));
    __m512 y = _mm512_add_ps(_mm512_shuffle_f32x4(c[0], c[1], 0x88),
                             _mm512_shuffle_f32x4(c[0], c[1], 0xDD));
    y = _mm512_add_ps(y, _mm512_set1_ps(F->db[0]));
    if (F->sigmoid)
        y = rnnfx_pw_sigmoid_avx512(y);
    const __mmask16 m = (__mmask16)((1u << cnt) - 1u);
    if (F->skip)
        y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m, in + D->t0));
    _mm512_mask_storeu_ps(out + D->t0, m, y);
    D->t0 += (size_t)cnt;
    D->cnt = 0;
}

RX_INLINE void f512_dense(F512Dense *D, const RnnfxFast *F, const __m512 *hv, int nv,
                          const float *in, float *out)
{
    __m512 acc = _mm512_mul_ps(_mm512_load_ps(F->dw0), hv[0]);
    for (int u = 1; u < nv; u++)
        acc = _mm512_fmadd_ps(_mm512_load_ps(F->dw0 + 16 * u), hv[u], acc);
    D->v[D->cnt++] = acc;
    if (D->cnt == 16)
        f512_dense_flush(D, F, in, out);
}

/* The same from a state array, for the stack kernel (fast_kernels.h). */
RX_INLINE void f512_dense_h(F512Dense *D, const RnnfxFast *F, const float *h, int nv,
                             const float *in, float *out)
{
    __m512 hv[4];
    for (int u = 0; u < nv; u++)
        hv[u] = _mm512_load_ps(h + 16 * u);
    f512_dense(D, F, hv, nv, in, out);
}

#include "fast_kernels.h"

/* ---- fused one-layer audio kernels -----------------------------------------
 * The common plugin case (one LSTM or GRU layer, no peephole, audio in,
 * channel 0 out, H <= 96) gets a kernel with the unit-group count
 * NV = padded(H)/16 as a compile-time constant: every gate accumulator
 * lives in a zmm register for the whole step (no gate buffer in memory),
 * and SETS accumulator sets (columns k, k+1, ... interleaved) shorten the
 * FMA dependency chain when there are few gate vectors. h is re-read only
 * through broadcasts from the state array (store-to-load forwarding, about
 * 7 cycles, measured cheaper than VPERMPS from the register copy).
 *
 * Activations: with one group (H <= 16) the step is a latency chain, so
 * the layer is packed in the plain domain and uses the piecewise forms
 * (measured 10-20 % faster there than the exponent forms); f512_lstm_small
 * then holds the LSTM cell state doubled (2c) in registers during the
 * block, so tanh(c) is one tanh_half call (doubling and halving at the
 * block edges are exact, which keeps any block split bit-identical), and
 * f512_lstm1 keeps c plain and uses the direct tanh table. Two groups
 * (H 17-32) also measured faster with the piecewise forms. From three
 * groups the step is limited by instruction throughput, so the layer is
 * packed in the exponent domain (ZD) and uses the fused forms below (one
 * denominator per unit group), c in plain units.
 * Kernel choice by shape: LSTM H <= 8 f512_lstm_small; H <= 16
 * f512_lstm1 / f512_gru1; H 17-24, with the paired-tail copy (fast.c),
 * f512_lstm_pt / f512_gru_pt; with the dense-gate copy (fast.c: LSTM H
 * 33-40, GRU H 33-40 and 49-56) f512_lstm_dg / f512_gru_dg; the rest of
 * H <= 96 f512_lstm / f512_gru.
 *
 * The recurrent weights are reached through L->cols: column k's gate rows
 * in P parts of LP vectors, part j at cols[j]. fast.c points these into the
 * plain packed matrix, or, when the matrix is larger than L1, into a
 * cache-set-partitioned copy (see fast.c) that keeps about half of it
 * resident in L1 across time steps, and the kernels then sweep it in
 * alternate directions on alternate steps. */

/* ---- fused exponent-domain activations --------------------------------------
 * In a throughput-bound step the activations cost about as much port time
 * as a third of the matrix-vector product, and the most expensive piece of
 * each is its reciprocal (VRCP14PS on a zmm is ~2 cycles of port time, plus
 * a Newton step). So the exponent-domain kernels (H > 32) keep the gates
 * as exponentials e = 2^z (z the packed, exponent-domain pre-activation:
 * sigma = 1/(1+e), tanh = (1-e)/(1+e)) and put whole expressions over one
 * denominator:
 *   LSTM  c' = f c + i g = (c D + (1 - e_g) E_f) / (D E_f),  D = E_i (1 + e_g)
 *         h' = o tanh(c') = (1 - e_c) / (E_o (1 + e_c))
 *   GRU   h' = (1 - z) n + z h = (e_z (1 - e_n) + h (1 + e_n)) / ((1 + e_z)(1 + e_n))
 * (E = 1 + e): two reciprocals per LSTM unit group instead of five, two per
 * GRU group instead of three (r is needed on its own). z is clamped above at
 * 40 so a product of three denominators stays below 2^121; sigma(-27.7) and
 * tanh(-13.9) are within 1e-12 of their limits there. Below, 2^z underflows
 * to 0 harmlessly. Padded lanes (all-zero rows, zero state) give e = 1 and
 * numerators of exactly 0, so they stay exactly zero. Measured on the
 * benchmark machine: 3-9 % faster at H = 40-96 than the separate forms, and
 * the LSTM's max error against double precision went down (fewer roundings
 * of intermediate probabilities). */
RX_INLINE __m512 f512_exp2(__m512 z)
{
    /* MINPS returns its second operand when either is NaN: NaN propagates. */
    return rnnfx_exp2_clamped_avx512(_mm512_min_ps(_mm512_set1_ps(40.0f), z));
}

/* 1/d to ~28 bits: VRCP14PS and one Newton step. */
RX_INLINE __m512 f512_recip(__m512 d)
{
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)), r);
}

/* LSTM cell update of one group from the exponentials of i, f, g; returns
 * 1 + e_c and puts 1 - e_c in *num, for f512_lstm_h. Lanes outside m get
 * c = 0 (the dense-gate kernels' half-vector of other gates). */
RX_INLINE __m512 f512_lstm_cell(__m512 ei, __m512 ef, __m512 eg, __m512 *c, __m512 *num,
                                __mmask16 m)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 Ei = _mm512_add_ps(ei, one), Ef = _mm512_add_ps(ef, one);
    const __m512 D = _mm512_fmadd_ps(Ei, eg, Ei);
    const __m512 cn = _mm512_fmadd_ps(*c, D, _mm512_mul_ps(_mm512_sub_ps(one, eg), Ef));
    *c = _mm512_maskz_mul_ps(m, cn, f512_recip(_mm512_mul_ps(D, Ef)));
    const __m512 ec = f512_exp2(_mm512_mul_ps(*c, _mm512_set1_ps(RNNFX_ZSCALE2)));
    *num = _mm512_sub_ps(one, ec);
    return _mm512_add_ps(one, ec);
}

/* h = o tanh(c) from the exponential of o and f512_lstm_cell's results;
 * lanes outside m are 0. */
RX_INLINE __m512 f512_lstm_h(__m512 eo, __m512 den, __m512 num, __mmask16 m)
{
    const __m512 Eo = _mm512_add_ps(eo, _mm512_set1_ps(1.0f));
    return _mm512_maskz_mul_ps(m, num, f512_recip(_mm512_mul_ps(Eo, den)));
}

/* GRU update of one group, in two steps so that a kernel can take every
 * group's r and n (the recurrence's chain) before any z. f512_gru_en: e_n
 * from er, the exponential of the r rows, hn the recurrent n part
 * (W_hn h + b_hn) and xn the input n part. */
RX_INLINE __m512 f512_gru_en(__m512 er, __m512 hn, __m512 xn)
{
    const __m512 r = f512_recip(_mm512_add_ps(er, _mm512_set1_ps(1.0f)));
    return f512_exp2(_mm512_fmadd_ps(r, hn, xn));
}

/* The new state from e_n, ez (the exponential of the z rows) and the state
 * h; lanes outside m are 0. */
RX_INLINE __m512 f512_gru_mix(__m512 en, __m512 ez, __m512 h, __mmask16 m)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 Fn = _mm512_add_ps(one, en);
    const __m512 num = _mm512_fmadd_ps(ez, _mm512_sub_ps(one, en), _mm512_mul_ps(h, Fn));
    return _mm512_maskz_mul_ps(m, num, f512_recip(_mm512_fmadd_ps(ez, Fn, Fn)));
}

/* acc[0..SETS)[0..NVEC) += W h over all columns; the sets are summed into
 * acc[0] at the end. NVEC = P * LP gate vectors. acc[0] comes in holding
 * the input part; the other sets start from their first column's product
 * (a multiply, not a zeroed register plus an FMA: fewer instructions). */
#define F512_COLUMN(kk, s, FIRST, P, LP)                                                       \
    do {                                                                                       \
        const __m512 hb = _mm512_set1_ps(h[(kk) + (s)]);                                       \
        const float *const *cp = cols + (size_t)((kk) + (s)) * (P);                            \
        _Pragma("GCC unroll 2") for (int p = 0; p < (P); p++)                                  \
        {                                                                                      \
            const float *w = cp[p];                                                            \
            _Pragma("GCC unroll 24") for (int v = 0; v < (LP); v++)                            \
            {                                                                                  \
                const __m512 wv = _mm512_load_ps(w + 16 * v);                                  \
                acc[s][p * (LP) + v] = (FIRST) ? _mm512_mul_ps(wv, hb)                         \
                                               : _mm512_fmadd_ps(wv, hb, acc[s][p * (LP) + v]); \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/* The same sum with the columns in reverse order (the zigzag sweep of a
 * matrix larger than L1, see fast.c): each set starts at the last block. */
#define F512_MATVEC_REV(NVEC, P, LP)                                                           \
    do {                                                                                       \
        F512_COLUMN(hc - SETS, 0, 0, P, LP);                                                   \
        _Pragma("GCC unroll 4") for (int s = 1; s < SETS; s++)                                 \
            F512_COLUMN(hc - SETS, s, 1, P, LP);                                               \
        for (int k = hc - 2 * SETS; k >= 0; k -= SETS) {                                       \
            _Pragma("GCC unroll 4") for (int s = 0; s < SETS; s++) F512_COLUMN(k, s, 0, P, LP); \
        }                                                                                      \
        F512_SETS_SUM(NVEC);                                                                   \
    } while (0)

#define F512_MATVEC(NVEC, P, LP)                                                               \
    do {                                                                                       \
        F512_COLUMN(0, 0, 0, P, LP);                                                           \
        _Pragma("GCC unroll 4") for (int s = 1; s < SETS; s++) F512_COLUMN(0, s, 1, P, LP);    \
        for (int k = SETS; k < hc; k += SETS) {                                                \
            _Pragma("GCC unroll 4") for (int s = 0; s < SETS; s++) F512_COLUMN(k, s, 0, P, LP); \
        }                                                                                      \
        F512_SETS_SUM(NVEC);                                                                   \
    } while (0)

/* acc[0] += the other sets. */
#define F512_SETS_SUM(NVEC)                                                                    \
    _Pragma("GCC unroll 24") for (int v = 0; v < (NVEC); v++)                                  \
    {                                                                                          \
        if (SETS == 4)                                                                         \
            acc[0][v] = _mm512_add_ps(_mm512_add_ps(acc[0][v], acc[1][v]),                     \
                                      _mm512_add_ps(acc[2][v], acc[3][v]));                    \
        else if (SETS == 2)                                                                    \
            acc[0][v] = _mm512_add_ps(acc[0][v], acc[1][v]);                                   \
    }

/* ---- piecewise activations with the sign fixes folded in -------------------
 * In the plain-domain kernels a sigmoid's or tanh's sign fix (1 - s for a
 * negative input, the sign bit for tanh) sits on the step's chain unless it
 * is folded into arithmetic whose other operands are ready early. The
 * one-group kernels do it inline (f512_lstm1, f512_gru1); these helpers
 * serve the others, single and pair forms alike, so both stay
 * bit-identical. */

/* The LSTM cell update in doubled units (c2 = 2c, g rows prescaled so the
 * tanh_half table gives tanh(a)): c2' = 2 i g + f c2, with
 * f c2 = s (+-c2) + (0 or c2), s = sigmoid(|a_f|). */
RX_INLINE __m512 f512_fold_c2(__m512 ai, __m512 af, __m512 ag, __m512 c2)
{
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(INT32_MIN));
    const __m512 i = rnnfx_pw_sigmoid_avx512(ai);
    const __mmask16 nf = _mm512_movepi32_mask(_mm512_castps_si512(af));
    const __m512 fc = _mm512_fmadd_ps(rnnfx_pw_sigmoid_mag_avx512(af),
                                      _mm512_mask_xor_ps(c2, nf, c2, sign), _mm512_maskz_mov_ps(nf, c2));
    const __m512 g = rnnfx_pw_tanh_half_avx512(ag);
    return _mm512_fmadd_ps(_mm512_add_ps(i, i), g, fc);
}

/* h = o tanh(c) = |tanh(c)| (o with the sign of c), c2 = 2c. */
RX_INLINE __m512 f512_fold_h(__m512 o, __m512 c2)
{
    return _mm512_mul_ps(rnnfx_pw_tanh_half_mag_avx512(c2), _mm512_xor_ps(o, rnnfx_pw_sign_avx512(c2)));
}

/* The GRU update from the r and z pre-activations, hn (the recurrent n
 * part) and xn (the input n part): r hn + xn = s (+-hn) + (xn or
 * xn + hn) with s = sigmoid(|a_r|), h' = |n| ((1 - z) with the sign of
 * pn) + (h - (1 - z) h), n = tanh_half(pn), 1 - z = sigmoid(-a_z) from
 * the table. */
RX_INLINE __m512 f512_fold_gru(__m512 ar, __m512 az, __m512 hn, __m512 xn, __m512 h)
{
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(INT32_MIN));
    const __mmask16 nr = _mm512_movepi32_mask(_mm512_castps_si512(ar));
    const __m512 pn = _mm512_fmadd_ps(rnnfx_pw_sigmoid_mag_avx512(ar), _mm512_mask_xor_ps(hn, nr, hn, sign),
                                      _mm512_mask_add_ps(xn, nr, xn, hn));
    const __mmask16 pz = _mm512_movepi32_mask(_mm512_castps_si512(_mm512_xor_ps(az, sign)));
    const __m512 sz = rnnfx_pw_sigmoid_mag_avx512(az);
    const __m512 omz = _mm512_mask_sub_ps(sz, pz, _mm512_set1_ps(1.0f), sz);
    return _mm512_fmadd_ps(rnnfx_pw_tanh_half_mag_avx512(pn), _mm512_xor_ps(omz, _mm512_and_ps(pn, sign)),
                           _mm512_fnmadd_ps(omz, h, h));
}

RX_INLINE void f512_lstm(const RnnfxFast *F, const float *b0, float *h, float *c, const float *in,
                         float *out, size_t n, const int NV, const int SETS, const int ZD,
                         unsigned *step)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const int hc = L->hcols;
    const float *wx = L->wx;
    const float *const *cols = L->cols;
    enum { MAXV = 24 };
    const int NVEC = 4 * NV, P = NVEC > 16 ? 2 : 1, LP = NVEC / P;
    __m512 c2[6], hv[6];
#pragma GCC unroll 8
    for (int u = 0; u < NV; u++) {
        __m512 cv = _mm512_load_ps(c + 16 * u);
        c2[u] = ZD ? cv : _mm512_add_ps(cv, cv); /* ZD: plain c; else 2c */
        hv[u] = _mm512_load_ps(h + 16 * u);
    }
    const unsigned par = *step;
    F512Dense D;
    D.cnt = 0;
    D.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        const float x = in[t];
        const __m512 xv = _mm512_set1_ps(x);
        __m512 acc[4][MAXV];
#pragma GCC unroll 24
        for (int v = 0; v < NVEC; v++) {
            acc[0][v] = _mm512_fmadd_ps(_mm512_load_ps(wx + 16 * v), xv, _mm512_load_ps(b0 + 16 * v));
        }
        if (L->zig & (int)((par + t) & 1u))
            F512_MATVEC_REV(NVEC, P, LP);
        else
            F512_MATVEC(NVEC, P, LP);
        __m512 den[6], num[6];
#pragma GCC unroll 8
        for (int u = 0; u < NV; u++) {
            if (ZD) {
                den[u] = f512_lstm_cell(f512_exp2(acc[0][u]), f512_exp2(acc[0][NV + u]),
                                        f512_exp2(acc[0][2 * NV + u]), &c2[u], &num[u], 0xFFFF);
            } else {
                /* sign fixes folded (f512_fold_c2, f512_fold_h): LSTM-32
                 * 92.7 -> 88-90 ns, A/B */
                c2[u] = f512_fold_c2(acc[0][u], acc[0][NV + u], acc[0][2 * NV + u], c2[u]);
            }
        }
        /* The o gates last: they are off the critical path, and later in
         * program order they fill the slots the cell updates' latency
         * leaves idle (LSTM-32 ~2 % faster). */
#pragma GCC unroll 8
        for (int u = 0; u < NV; u++) {
            if (ZD)
                hv[u] = f512_lstm_h(f512_exp2(acc[0][3 * NV + u]), den[u], num[u], 0xFFFF);
            else
                hv[u] = f512_fold_h(rnnfx_pw_sigmoid_avx512(acc[0][3 * NV + u]), c2[u]);
            _mm512_store_ps(h + 16 * u, hv[u]);
        }
        f512_dense(&D, F, hv, NV, in, out);
    }
    f512_dense_flush(&D, F, in, out);
    *step = (par + (unsigned)(n & 1u)) & 1u;
#pragma GCC unroll 8
    for (int u = 0; u < NV; u++)
        _mm512_store_ps(c + 16 * u, ZD ? c2[u] : _mm512_mul_ps(c2[u], _mm512_set1_ps(0.5f)));
}

RX_INLINE void f512_gru(const RnnfxFast *F, const float *b0, float *h, const float *in, float *out,
                        size_t n, const int NV, const int SETS, const int ZD, unsigned *step)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const int hc = L->hcols;
    const float *wx = L->wx, *bh = L->bh;
    const float *const *cols = L->cols;
    enum { MAXV = 18 };
    const int NVEC = 3 * NV, P = NVEC > 16 ? 2 : 1, LP = NVEC / P;
    __m512 hv[6];
#pragma GCC unroll 8
    for (int u = 0; u < NV; u++)
        hv[u] = _mm512_load_ps(h + 16 * u);
    const unsigned par = *step;
    F512Dense D;
    D.cnt = 0;
    D.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        const float x = in[t];
        const __m512 xv = _mm512_set1_ps(x);
        __m512 acc[4][MAXV], xn[6];
#pragma GCC unroll 24
        for (int v = 0; v < NVEC; v++) {
            __m512 gx = _mm512_fmadd_ps(_mm512_load_ps(wx + 16 * v), xv, _mm512_load_ps(b0 + 16 * v));
            if (v < 2 * NV) {
                acc[0][v] = gx;
            } else {
                xn[v - 2 * NV] = gx;
                acc[0][v] = _mm512_load_ps(bh + 16 * v);
            }
        }
        if (L->zig & (int)((par + t) & 1u))
            F512_MATVEC_REV(NVEC, P, LP);
        else
            F512_MATVEC(NVEC, P, LP);
        __m512 en[6];
#pragma GCC unroll 8
        for (int u = 0; u < NV; u++) {
            if (ZD) {
                en[u] = f512_gru_en(f512_exp2(acc[0][u]), acc[0][2 * NV + u], xn[u]);
            } else {
                /* sign fixes folded (f512_fold_gru): GRU-32 70.4 -> 66.6
                 * ns, A/B */
                hv[u] = f512_fold_gru(acc[0][u], acc[0][NV + u], acc[0][2 * NV + u], xn[u], hv[u]);
                _mm512_store_ps(h + 16 * u, hv[u]);
            }
        }
        /* z last (exponent domain): off the chain, it fills the slots the
         * r -> n latency leaves idle (GRU-96 ~2 % faster). */
        if (ZD) {
#pragma GCC unroll 8
            for (int u = 0; u < NV; u++) {
                hv[u] = f512_gru_mix(en[u], f512_exp2(acc[0][NV + u]), hv[u], 0xFFFF);
                _mm512_store_ps(h + 16 * u, hv[u]);
            }
        }
        f512_dense(&D, F, hv, NV, in, out);
    }
    f512_dense_flush(&D, F, in, out);
    *step = (par + (unsigned)(n & 1u)) & 1u;
}

/* ---- dense-gate layout (fast.c, dense_gates): H mod 16 in 1..8 -----------
 * Gate q starts at row q*gs, gs = H rounded up to 8 (= 16 (NV-1) + 8), so
 * the even gates start on a vector and the odd ones half-way into one: an
 * odd gate's unit vector u is lanes 8-15 of row vector b+u and lanes 0-7 of
 * b+u+1, put together by one VALIGND after the exponentials (which are
 * taken once per row vector, whatever gates it holds: in the exponent
 * domain every gate's activation starts with 2^z). The last unit vector's
 * lanes 8-15 hold other gates' values and are zeroed by the masks of the
 * final multiplies, so the state's padding stays exactly zero. The bias
 * with the knobs folded in comes in the same layout (bd, written by
 * fast.c's set_knobs). */
RX_INLINE __m512 f512_join(__m512 lo, __m512 hi)
{
    /* lanes 8-15 of lo, then lanes 0-7 of hi */
    return _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), 8));
}

RX_INLINE void f512_lstm_dg(const RnnfxFast *F, const float *bd, float *h, float *c,
                            const float *in, float *out, size_t n, const int NV, const int SETS)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const int hc = L->hcols;
    const float *const *cols = L->cols;
    const float *wx = L->wxd;
    enum { MAXV = 14 };
    const int NVEC = 4 * NV - 2, P = 1, LP = NVEC;
    __m512 cv[4], hv[4];
#pragma GCC unroll 4
    for (int u = 0; u < NV; u++) {
        cv[u] = _mm512_load_ps(c + 16 * u);
        hv[u] = _mm512_load_ps(h + 16 * u);
    }
    F512Dense D;
    D.cnt = 0;
    D.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        const __m512 xv = _mm512_set1_ps(in[t]);
        __m512 acc[4][MAXV], e[MAXV];
#pragma GCC unroll 14
        for (int v = 0; v < NVEC; v++)
            acc[0][v] = _mm512_fmadd_ps(_mm512_load_ps(wx + 16 * v), xv, _mm512_load_ps(bd + 16 * v));
        F512_MATVEC(NVEC, P, LP);
        /* i, f, g (vectors up to 3 NV - 2) and the cell updates first, the
         * o-only vectors after: they are off the critical path. */
        __m512 den[4], num[4];
#pragma GCC unroll 14
        for (int v = 0; v < 3 * NV - 1; v++)
            e[v] = f512_exp2(acc[0][v]);
#pragma GCC unroll 4
        for (int u = 0; u < NV; u++) {
            const __mmask16 m = u + 1 < NV ? 0xFFFF : 0x00FF;
            const __m512 ef = f512_join(e[NV - 1 + u], e[NV + u]);
            den[u] = f512_lstm_cell(e[u], ef, e[2 * NV - 1 + u], &cv[u], &num[u], m);
        }
#pragma GCC unroll 14
        for (int v = 3 * NV - 1; v < NVEC; v++)
            e[v] = f512_exp2(acc[0][v]);
#pragma GCC unroll 4
        for (int u = 0; u < NV; u++) {
            const __mmask16 m = u + 1 < NV ? 0xFFFF : 0x00FF;
            const __m512 eo = f512_join(e[3 * NV - 2 + u], u + 1 < NV ? e[3 * NV - 1 + u]
                                                                      : _mm512_setzero_ps());
            hv[u] = f512_lstm_h(eo, den[u], num[u], m);
            _mm512_store_ps(h + 16 * u, hv[u]);
        }
        f512_dense(&D, F, hv, NV, in, out);
    }
    f512_dense_flush(&D, F, in, out);
#pragma GCC unroll 4
    for (int u = 0; u < NV; u++)
        _mm512_store_ps(c + 16 * u, cv[u]);
}

RX_INLINE void f512_gru_dg(const RnnfxFast *F, const float *bd, float *h, const float *in,
                           float *out, size_t n, const int NV, const int SETS)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const int hc = L->hcols;
    const float *const *cols = L->cols;
    const float *wx = L->wxd, *bh = L->bhd;
    enum { MAXV = 14 };
    const int NVEC = 3 * NV - 1, P = 1, LP = NVEC, N0 = 2 * NV - 1; /* N0: first n vector */
    __m512 hv[4];
#pragma GCC unroll 4
    for (int u = 0; u < NV; u++)
        hv[u] = _mm512_load_ps(h + 16 * u);
    F512Dense D;
    D.cnt = 0;
    D.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        const __m512 xv = _mm512_set1_ps(in[t]);
        __m512 acc[4][MAXV], xn[4], e[MAXV];
#pragma GCC unroll 14
        for (int v = 0; v < NVEC; v++) {
            const __m512 gx =
                _mm512_fmadd_ps(_mm512_load_ps(wx + 16 * v), xv, _mm512_load_ps(bd + 16 * v));
            if (v < N0) {
                acc[0][v] = gx;
            } else {
                xn[v - N0] = gx;
                acc[0][v] = _mm512_load_ps(bh + 16 * v);
            }
        }
        F512_MATVEC(NVEC, P, LP);
#pragma GCC unroll 14
        for (int v = 0; v < N0; v++)
            e[v] = f512_exp2(acc[0][v]);
#pragma GCC unroll 4
        for (int u = 0; u < NV; u++) {
            const __mmask16 m = u + 1 < NV ? 0xFFFF : 0x00FF;
            const __m512 ez = f512_join(e[NV - 1 + u], u + 1 < NV ? e[NV + u] : _mm512_setzero_ps());
            hv[u] = f512_gru_mix(f512_gru_en(e[u], acc[0][N0 + u], xn[u]), ez, hv[u], m);
            _mm512_store_ps(h + 16 * u, hv[u]);
        }
        f512_dense(&D, F, hv, NV, in, out);
    }
    f512_dense_flush(&D, F, in, out);
}

/* ---- LSTM with H <= 8 ----------------------------------------------------------
 * With at most 8 units, half of every 16-lane gate vector is padding. This
 * kernel repacks, once per block, two gates per vector: A = [i | f] and
 * B = [g | o] (units in lanes 0-7 of each half), so a column is 2 vectors
 * instead of 4, and the whole recurrent matrix (HC columns) is held in
 * zmm registers across the block: the time loop loads no weights at all.
 * f and o are brought down to lanes 0-7 with one 256-bit half swap; the
 * upper lanes of c are kept at exactly zero (zero-masked update), so h's
 * upper lanes stay zero as the state layout requires. */

RX_INLINE __m512 f512_pair(const float *lo, const float *hi)
{
    /* lanes 0-7 from lo[0..7], lanes 8-15 from hi[0..7] */
    const __m512i idx = _mm512_set_epi32(23, 22, 21, 20, 19, 18, 17, 16, 7, 6, 5, 4, 3, 2, 1, 0);
    return _mm512_permutex2var_ps(_mm512_load_ps(lo), idx, _mm512_load_ps(hi));
}

/* The pair form of f512_lstm_small (f512_lstm_small_pair) runs the step
 * below per channel; it computes the single loop's expressions exactly, in
 * the same order (the single kernel, next, keeps its own loop: see "pair
 * kernels" below; test_pair checks the outputs to the bit).
 * The block's shared part: the recurrent matrix (HC columns) and the input
 * column, paired, in registers (the pair kernel's two channels share
 * them; the compiler keeps about half in registers, the rest on the
 * stack, which costs a load per FMA and no more). */
RX_INLINE void f512_small_weights(const RnnfxFast *F, __m512 *W, __m512 *wxa, __m512 *wxb,
                                  const int HC)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const float *wx = L->wx, *wh = L->wh;
#pragma GCC unroll 8
    for (int k = 0; k < HC; k++) {
        W[2 * k] = f512_pair(wh + 64 * k, wh + 64 * k + 16);
        W[2 * k + 1] = f512_pair(wh + 64 * k + 32, wh + 64 * k + 48);
    }
    *wxa = f512_pair(wx, wx + 16);
    *wxb = f512_pair(wx + 32, wx + 48);
}

/* One channel's part: its bias (knobs folded in) paired, and 2c. */
RX_INLINE void f512_small_chan(F512Chan *ch, const float *b0, float *h, const float *c,
                               const float *in, float *out)
{
    ch->b0 = b0;
    ch->h = h;
    ch->in = in;
    ch->out = out;
    ch->ba = f512_pair(b0, b0 + 16);
    ch->bb = f512_pair(b0 + 32, b0 + 48);
    const __m512 c2 = _mm512_load_ps(c);
    ch->cv = _mm512_add_ps(c2, c2);
}

/* Time step t of one channel (ch->cv holds 2c). */
RX_INLINE void f512_small_step(const RnnfxFast *F, const __m512 *W, __m512 wxa, __m512 wxb,
                               F512Chan *ch, F512Dense *D, size_t t, const int HC)
{
    const float *h = ch->h;
    const float x = ch->in[t];
    const __m512 xv = _mm512_set1_ps(x);
    __m512 a0 = _mm512_fmadd_ps(wxa, xv, ch->ba), b0v = _mm512_fmadd_ps(wxb, xv, ch->bb);
    __m512 a1 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int k = 0; k < HC; k += 2) {
        const __m512 h0 = _mm512_set1_ps(h[k]), h1 = _mm512_set1_ps(h[k + 1]);
        a0 = _mm512_fmadd_ps(W[2 * k], h0, a0);
        b0v = _mm512_fmadd_ps(W[2 * k + 1], h0, b0v);
        a1 = _mm512_fmadd_ps(W[2 * k + 2], h1, a1);
        b1 = _mm512_fmadd_ps(W[2 * k + 3], h1, b1);
    }
    const __m512 A = _mm512_add_ps(a0, a1), B = _mm512_add_ps(b0v, b1);
    const __m512 sa = rnnfx_pw_sigmoid_avx512(A);  /* i | f */
    const __m512 tb = rnnfx_pw_tanh_half_avx512(B); /* g | - */
    const __m512 sb = rnnfx_pw_sigmoid_avx512(B);  /* - | o */
    const __m512 f = _mm512_shuffle_f32x4(sa, sa, 0x4E);
    const __m512 o = _mm512_shuffle_f32x4(sb, sb, 0x4E);
    const __m512 c2 = _mm512_maskz_fmadd_ps(0x00FF, f, ch->cv, _mm512_mul_ps(sa, _mm512_add_ps(tb, tb)));
    ch->cv = c2;
    const __m512 hv = f512_fold_h(o, c2);
    _mm512_store_ps(ch->h, hv);
    f512_dense(D, F, &hv, 1, ch->in, ch->out);
}

RX_INLINE void f512_lstm_small(const RnnfxFast *F, const float *b0, float *h, float *c,
                               const float *in, float *out, size_t n, const int HC)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const float *wx = L->wx, *wh = L->wh;
    __m512 W[16];
#pragma GCC unroll 8
    for (int k = 0; k < HC; k++) {
        W[2 * k] = f512_pair(wh + 64 * k, wh + 64 * k + 16);
        W[2 * k + 1] = f512_pair(wh + 64 * k + 32, wh + 64 * k + 48);
    }
    const __m512 wxa = f512_pair(wx, wx + 16), wxb = f512_pair(wx + 32, wx + 48);
    const __m512 ba = f512_pair(b0, b0 + 16), bb = f512_pair(b0 + 32, b0 + 48);
    __m512 c2 = _mm512_load_ps(c);
    c2 = _mm512_add_ps(c2, c2);
    F512Dense D;
    D.cnt = 0;
    D.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        const float x = in[t];
        const __m512 xv = _mm512_set1_ps(x);
        __m512 a0 = _mm512_fmadd_ps(wxa, xv, ba), b0v = _mm512_fmadd_ps(wxb, xv, bb);
        __m512 a1 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
#pragma GCC unroll 8
        for (int k = 0; k < HC; k += 2) {
            const __m512 h0 = _mm512_set1_ps(h[k]), h1 = _mm512_set1_ps(h[k + 1]);
            a0 = _mm512_fmadd_ps(W[2 * k], h0, a0);
            b0v = _mm512_fmadd_ps(W[2 * k + 1], h0, b0v);
            a1 = _mm512_fmadd_ps(W[2 * k + 2], h1, a1);
            b1 = _mm512_fmadd_ps(W[2 * k + 3], h1, b1);
        }
        const __m512 A = _mm512_add_ps(a0, a1), B = _mm512_add_ps(b0v, b1);
        const __m512 sa = rnnfx_pw_sigmoid_avx512(A);  /* i | f */
        const __m512 tb = rnnfx_pw_tanh_half_avx512(B); /* g | - */
        const __m512 sb = rnnfx_pw_sigmoid_avx512(B);  /* - | o */
        const __m512 f = _mm512_shuffle_f32x4(sa, sa, 0x4E);
        const __m512 o = _mm512_shuffle_f32x4(sb, sb, 0x4E);
        c2 = _mm512_maskz_fmadd_ps(0x00FF, f, c2, _mm512_mul_ps(sa, _mm512_add_ps(tb, tb)));
        const __m512 hv = f512_fold_h(o, c2); /* LSTM-8 38.6 -> 37.7 ns, A/B */
        _mm512_store_ps(h, hv);
        f512_dense(&D, F, &hv, 1, in, out);
    }
    f512_dense_flush(&D, F, in, out);
    _mm512_store_ps(c, _mm512_mul_ps(c2, _mm512_set1_ps(0.5f)));
}

RX_INLINE void f512_lstm_small_pair(const RnnfxFast *F, const RnnfxFastChannel *a,
                                    const RnnfxFastChannel *b, size_t n, const int HC)
{
    __m512 W[16], wxa, wxb;
    f512_small_weights(F, W, &wxa, &wxb, HC);
    F512Chan A, B;
    f512_small_chan(&A, (const float *)a->scratch + F->off_b0, a->h[0], a->c[0], a->in, a->out);
    f512_small_chan(&B, (const float *)b->scratch + F->off_b0, b->h[0], b->c[0], b->in, b->out);
    F512Dense DA, DB;
    DA.cnt = DB.cnt = 0;
    DA.t0 = DB.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        f512_small_step(F, W, wxa, wxb, &A, &DA, t, HC);
        f512_small_step(F, W, wxa, wxb, &B, &DB, t, HC);
    }
    f512_dense_flush(&DA, F, a->in, a->out);
    f512_dense_flush(&DB, F, b->in, b->out);
    _mm512_store_ps(a->c[0], _mm512_mul_ps(A.cv, _mm512_set1_ps(0.5f)));
    _mm512_store_ps(b->c[0], _mm512_mul_ps(B.cv, _mm512_set1_ps(0.5f)));
}

/* ---- one group and a half (17 <= H <= 24): the tail's gates paired --------
 * With 17-24 units the second unit group is at most half used, and in the
 * packed layout half of its 4 gate vectors per column is padding. fast.c
 * (build_cols, paired_tail) gives these layers a copy of 6 vectors per
 * column instead of 8: the first group's i, f, g, o, then the tail's
 * units 16-23 two gates to a vector, [i | f] and [g | o], as
 * f512_lstm_small pairs a whole small layer. A step then runs 25 % fewer
 * FMAs and 9 activations instead of 10. The tail's f and o come down to
 * lanes 0-7 with one half swap; its cell state's lanes 8-15 are kept at
 * exactly zero (zero-masked update), so h's padding stays zero. Plain
 * domain, the cell states held doubled (2c) as in f512_lstm; the input
 * column and the bias (knobs folded in) are paired once per block.
 * Measured (bench_engine --hidden, A/B in one session): LSTM-17 and -20
 * 70.5 -> 61.5 ns, LSTM-24 77.5 -> 66 ns. Tried and slower: the first
 * group's o rows in a second pass after the cell updates (LSTM-24 77 ns). */
/* a0[0..NVEC) = init + the recurrent product over the HC columns of the
 * paired-tail copy (ROWS floats each, from w), in two accumulator sets:
 * even columns in a0, odd ones in a1, summed at the end. */
#define F512_PT_MATVEC(NVEC, ROWS)                                                             \
    do {                                                                                       \
        const __m512 h0 = _mm512_set1_ps(h[0]), h1 = _mm512_set1_ps(h[1]);                     \
        _Pragma("GCC unroll 6") for (int v = 0; v < (NVEC); v++)                               \
        {                                                                                      \
            a0[v] = _mm512_fmadd_ps(_mm512_load_ps(w + 16 * v), h0, init[v]);                  \
            a1[v] = _mm512_mul_ps(_mm512_load_ps(w + (ROWS) + 16 * v), h1);                    \
        }                                                                                      \
        _Pragma("GCC unroll 12") for (int k = 2; k < HC; k += 2)                               \
        {                                                                                      \
            const __m512 g0 = _mm512_set1_ps(h[k]), g1 = _mm512_set1_ps(h[k + 1]);             \
            _Pragma("GCC unroll 6") for (int v = 0; v < (NVEC); v++)                           \
            {                                                                                  \
                a0[v] = _mm512_fmadd_ps(_mm512_load_ps(w + k * (ROWS) + 16 * v), g0, a0[v]);   \
                a1[v] = _mm512_fmadd_ps(_mm512_load_ps(w + (k + 1) * (ROWS) + 16 * v), g1, a1[v]); \
            }                                                                                  \
        }                                                                                      \
        _Pragma("GCC unroll 6") for (int v = 0; v < (NVEC); v++) a0[v] =                       \
            _mm512_add_ps(a0[v], a1[v]);                                                       \
    } while (0)

RX_INLINE void f512_lstm_pt(const RnnfxFast *F, const float *b0, float *h, float *c, const float *in,
                            float *out, size_t n, const int HC)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const float *wx = L->wx, *w = L->cols[0];
    enum { ROWS = 96 }; /* floats per column of the copy */
    __m512 bx[6], wxv[6];
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
        bx[q] = _mm512_load_ps(b0 + 32 * q);
        wxv[q] = _mm512_load_ps(wx + 32 * q);
    }
    bx[4] = f512_pair(b0 + 16, b0 + 48);
    bx[5] = f512_pair(b0 + 80, b0 + 112);
    wxv[4] = f512_pair(wx + 16, wx + 48);
    wxv[5] = f512_pair(wx + 80, wx + 112);
    __m512 ca = _mm512_load_ps(c), cb = _mm512_load_ps(c + 16);
    ca = _mm512_add_ps(ca, ca);
    cb = _mm512_add_ps(cb, cb);
    F512Dense D;
    D.cnt = 0;
    D.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        const __m512 xv = _mm512_set1_ps(in[t]);
        __m512 a0[6], a1[6], init[6];
#pragma GCC unroll 6
        for (int v = 0; v < 6; v++)
            init[v] = _mm512_fmadd_ps(wxv[v], xv, bx[v]);
        F512_PT_MATVEC(6, ROWS);
        /* units 0-15 */
        ca = f512_fold_c2(a0[0], a0[1], a0[2], ca);
        /* units 16-23: A = [i | f], B = [g | o] */
        const __m512 sa = rnnfx_pw_sigmoid_avx512(a0[4]);
        const __m512 tb = rnnfx_pw_tanh_half_avx512(a0[5]);
        const __m512 fb = _mm512_shuffle_f32x4(sa, sa, 0x4E);
        cb = _mm512_maskz_fmadd_ps(0x00FF, fb, cb, _mm512_mul_ps(sa, _mm512_add_ps(tb, tb)));
        /* the o gates last: off the critical path */
        const __m512 sb = rnnfx_pw_sigmoid_avx512(a0[5]);
        const __m512 ob = _mm512_shuffle_f32x4(sb, sb, 0x4E);
        __m512 hv[2];
        hv[0] = f512_fold_h(rnnfx_pw_sigmoid_avx512(a0[3]), ca);
        hv[1] = f512_fold_h(ob, cb);
        _mm512_store_ps(h, hv[0]);
        _mm512_store_ps(h + 16, hv[1]);
        f512_dense(&D, F, hv, 2, in, out);
    }
    f512_dense_flush(&D, F, in, out);
    _mm512_store_ps(c, _mm512_mul_ps(ca, _mm512_set1_ps(0.5f)));
    _mm512_store_ps(c + 16, _mm512_mul_ps(cb, _mm512_set1_ps(0.5f)));
}

/* The GRU form: per column r, z, n of units 0-15, then [r | z] of units
 * 16-23 and their n rows as packed (lanes 8-15 zero): 5 vectors instead
 * of 6, 5 activations instead of 6. The tail's r sits in lanes 0-7 of the
 * [r | z] sigmoid, where it meets its n rows; its lanes 8-15 meet zero
 * rows there, so the n tail's padding lanes come out tanh(0) = 0 and h's
 * stay zero. Measured (A/B, one session): GRU-20 56.1 -> 52.7 ns, GRU-24
 * 60.5 -> 56.0. Slower: the z rows in a second pass after r and n (GRU-24
 * 74 ns). */
RX_INLINE void f512_gru_pt(const RnnfxFast *F, const float *b0, float *h, const float *in,
                           float *out, size_t n, const int HC)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const float *wx = L->wx, *bh = L->bh, *w = L->cols[0];
    enum { ROWS = 80 }; /* floats per column of the copy */
    __m512 wxv[4], bx[4];
    wxv[0] = _mm512_load_ps(wx);
    wxv[1] = _mm512_load_ps(wx + 32);
    wxv[2] = _mm512_load_ps(wx + 64); /* n: the input-side part, kept apart */
    wxv[3] = _mm512_load_ps(wx + 80);
    bx[0] = _mm512_load_ps(b0);
    bx[1] = _mm512_load_ps(b0 + 32);
    bx[2] = _mm512_load_ps(b0 + 64);
    bx[3] = _mm512_load_ps(b0 + 80);
    const __m512 wrz = f512_pair(wx + 16, wx + 48), brz = f512_pair(b0 + 16, b0 + 48);
    const __m512 bhn0 = _mm512_load_ps(bh + 64), bhn1 = _mm512_load_ps(bh + 80);
    __m512 hv[2] = {_mm512_load_ps(h), _mm512_load_ps(h + 16)};
    F512Dense D;
    D.cnt = 0;
    D.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        const __m512 xv = _mm512_set1_ps(in[t]);
        __m512 a0[5], a1[5];
        const __m512 init[5] = {_mm512_fmadd_ps(wxv[0], xv, bx[0]),
                                _mm512_fmadd_ps(wxv[1], xv, bx[1]), bhn0,
                                _mm512_fmadd_ps(wrz, xv, brz), bhn1};
        F512_PT_MATVEC(5, ROWS);
        const __m512 xn0 = _mm512_fmadd_ps(wxv[2], xv, bx[2]);
        const __m512 xn1 = _mm512_fmadd_ps(wxv[3], xv, bx[3]);
        /* units 0-15 */
        hv[0] = f512_fold_gru(a0[0], a0[1], a0[2], xn0, hv[0]);
        /* units 16-23: s = [r | z] */
        const __m512 s = rnnfx_pw_sigmoid_avx512(a0[3]);
        const __m512 nt = rnnfx_pw_tanh_half_avx512(_mm512_fmadd_ps(s, a0[4], xn1));
        const __m512 zt = _mm512_shuffle_f32x4(s, s, 0x4E);
        hv[1] = _mm512_fmadd_ps(zt, _mm512_sub_ps(hv[1], nt), nt);
        _mm512_store_ps(h, hv[0]);
        _mm512_store_ps(h + 16, hv[1]);
        f512_dense(&D, F, hv, 2, in, out);
    }
    f512_dense_flush(&D, F, in, out);
}

/* ---- one group (9 <= H <= 16): critical gates first ----------------------
 * With one group the step is a latency chain, and not every gate is on it:
 * an LSTM's o gate is needed only for the final h = o tanh(c), a GRU's z
 * only at the end and its recurrent n part only after sigma(r). So the
 * matrix-vector product is split in passes over the columns: first the
 * gates on the chain, then their activations, then the other gates. Being
 * later in program order, a later pass fills the execution slots the
 * first activations leave idle while they wait on their own latency,
 * instead of delaying them (the scheduler prefers older instructions).
 * Further cuts to the chain, each measured (A/B, interleaved runs):
 *   - the first 4 columns' h values are broadcast from the register copy
 *     of h with VPERMPS (3 cycles) instead of the store-to-load round trip
 *     (~10): their products start while the other broadcasts are in flight;
 *   - the sign fix of an activation (1 - s for a negative sigmoid input, OR
 *     of the sign for tanh) is folded into arithmetic whose other operands
 *     are ready early: LSTM f c = |f| (+-c) + (0 or c), h = |tanh c| (o with
 *     c's sign); GRU r hn + xn = |r| (+-hn) + (xn or xn + hn) and
 *     h = |tanh| ((1 - z) with the sign) + (h - (1 - z) h), 1 - z read
 *     from the table as sigmoid(-a_z). Only i and g are fixed outright
 *     (both arrive together; c = i g + f c is one FMA);
 *   - the GRU's hn and z rows, off the chain, use two accumulator sets
 *     (fewer additions competing with sigma(r));
 *   - the LSTM cell state stays in plain units and tanh(c) is the direct
 *     tanh table (no doubling on the chain).
 * The results differ from the plain formulas by rounding only and do not
 * depend on the block split.
 * Tried and measured no better here (interleaved A/B runs): gate-major
 * passes (one gate's columns at a time), 8 or 3 accumulator sets or a
 * skewed final sum, the o rows in the first pass or with two sets, o's
 * sign folded into the last FMA, other orders of the i, f, g activations,
 * VPERMPS broadcasts for 0, 2, 8 or all 16 columns (4 is best), fresh
 * broadcasts for the second pass, the exponent-domain sigmoid for o,
 * and an integer clamp in place of VRANGEPS in the activations. The LSTM
 * step stays at ~48 ns (~140 cycles at 2.9 GHz) against a dependency chain
 * of ~100: the i, f, g activations and the o rows compete for ports 0 and
 * 5 (~170 vector instructions per step); the GRU step (~37 ns) is closer
 * to its chain. */

/* acc[s][j] (j < NG) = init (set 0) + sum over columns of W[k][vec[j]] h[k],
 * 4 accumulator sets, summed into acc[0] at the end; HC columns (a
 * compile-time 4, 8, 12 or 16: the whole pass unrolled). The weights are
 * read from the packed matrix wh at constant offsets (column k at k ROWS):
 * fast.c never partitions a one-group matrix (at most 4 KiB), so L->cols
 * would point there anyway, and the pointer table cost a load per column
 * per step. Columns 0-3 take h from hreg by VPERMPS, the others from
 * memory (h[] holds the same). */
#define F512_PASS(NG, VEC, INIT)                                                               \
    do {                                                                                       \
        _Pragma("GCC unroll 4") for (int s = 0; s < 4; s++)                                    \
        {                                                                                      \
            const __m512 hb = _mm512_permutexvar_ps(_mm512_set1_epi32(s), hreg);               \
            _Pragma("GCC unroll 4") for (int j = 0; j < (NG); j++)                             \
            {                                                                                  \
                const __m512 wv = _mm512_load_ps(wh + (s) * ROWS + 16 * (VEC)[j]);             \
                acc[s][j] = s == 0 ? _mm512_fmadd_ps(wv, hb, (INIT)[j]) : _mm512_mul_ps(wv, hb); \
            }                                                                                  \
        }                                                                                      \
        _Pragma("GCC unroll 3") for (int k = 4; k < HC; k += 4)                                \
        {                                                                                      \
            _Pragma("GCC unroll 4") for (int s = 0; s < 4; s++)                                \
            {                                                                                  \
                const __m512 hb = _mm512_set1_ps(h[k + s]);                                    \
                _Pragma("GCC unroll 4") for (int j = 0; j < (NG); j++) acc[s][j] =             \
                    _mm512_fmadd_ps(_mm512_load_ps(wh + (k + s) * ROWS + 16 * (VEC)[j]), hb, acc[s][j]); \
            }                                                                                  \
        }                                                                                      \
        _Pragma("GCC unroll 4") for (int j = 0; j < (NG); j++) acc[0][j] =                     \
            _mm512_add_ps(_mm512_add_ps(acc[0][j], acc[1][j]), _mm512_add_ps(acc[2][j], acc[3][j])); \
    } while (0)

/* The one-group kernels' weights, read from memory every step; the
 * pointers (and the GRU's b_hn) are taken once per block, as loads after
 * the state stores could not be hoisted. */
typedef struct {
    const float *wx, *wh;
    __m512 bhn;
} F512One;

RX_INLINE void f512_one_init(const RnnfxFast *F, F512One *W)
{
    const RnnfxFastLayer *L = &F->layer[0];
    W->wx = L->wx;
    W->wh = L->wh;
    W->bhn = L->bh ? _mm512_load_ps(L->bh + 32) : _mm512_setzero_ps();
}

RX_INLINE void f512_one_chan(F512Chan *ch, const float *b0, float *h, const float *c,
                             const float *in, float *out)
{
    ch->b0 = b0;
    ch->h = h;
    ch->in = in;
    ch->out = out;
    ch->hreg = _mm512_load_ps(h);
    ch->cv = c ? _mm512_load_ps(c) : _mm512_setzero_ps();
}

/* Time step t of one channel of f512_lstm1, for its pair form: the single
 * loop's expressions, in the same order. */
RX_INLINE void f512_lstm1_step(const RnnfxFast *F, const F512One *W, F512Chan *ch, F512Dense *D,
                               size_t t, const int HC)
{
    const float *wx = W->wx, *wh = W->wh, *b0 = ch->b0, *h = ch->h;
    enum { ROWS = 64 };
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(INT32_MIN));
    static const int ifg[3] = {0, 1, 2}, og[1] = {3};
    const __m512 hreg = ch->hreg;
    const float x = ch->in[t];
    const __m512 xv = _mm512_set1_ps(x);
    __m512 acc[4][3], init[3];
#pragma GCC unroll 3
    for (int j = 0; j < 3; j++)
        init[j] = _mm512_fmadd_ps(_mm512_load_ps(wx + 16 * j), xv, _mm512_load_ps(b0 + 16 * j));
    F512_PASS(3, ifg, init);
    const __m512 i = rnnfx_pw_sigmoid_avx512(acc[0][0]);
    /* f c, f = s or 1 - s (s = sigmoid(|a_f|)): s (+-c) + (0 or c) */
    const __m512 cv = ch->cv;
    const __mmask16 nf = _mm512_movepi32_mask(_mm512_castps_si512(acc[0][1]));
    const __m512 fc = _mm512_fmadd_ps(rnnfx_pw_sigmoid_mag_avx512(acc[0][1]),
                                      _mm512_mask_xor_ps(cv, nf, cv, sign),
                                      _mm512_maskz_mov_ps(nf, cv));
    const __m512 g = rnnfx_pw_tanh_half_avx512(acc[0][2]);
    const __m512 cn = _mm512_fmadd_ps(i, g, fc);
    ch->cv = cn;
    const __m512 tcm = rnnfx_pw_tanh_mag_avx512(cn);
    init[0] = _mm512_fmadd_ps(_mm512_load_ps(wx + 48), xv, _mm512_load_ps(b0 + 48));
    F512_PASS(1, og, init);
    /* h = o tanh(c) = |tanh(c)| (o with the sign of c) */
    const __m512 so = _mm512_xor_ps(rnnfx_pw_sigmoid_avx512(acc[0][0]), _mm512_and_ps(cn, sign));
    ch->hreg = _mm512_mul_ps(tcm, so);
    _mm512_store_ps(ch->h, ch->hreg);
    f512_dense(D, F, &ch->hreg, 1, ch->in, ch->out);
}

RX_INLINE void f512_lstm1(const RnnfxFast *F, const float *b0, float *h, float *c, const float *in,
                          float *out, size_t n, const int HC)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const float *wx = L->wx, *wh = L->wh;
    enum { ROWS = 64 };
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(INT32_MIN));
    static const int ifg[3] = {0, 1, 2}, og[1] = {3};
    __m512 cv = _mm512_load_ps(c), hreg = _mm512_load_ps(h);
    F512Dense D;
    D.cnt = 0;
    D.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        const float x = in[t];
        const __m512 xv = _mm512_set1_ps(x);
        __m512 acc[4][3], init[3];
#pragma GCC unroll 3
        for (int j = 0; j < 3; j++)
            init[j] = _mm512_fmadd_ps(_mm512_load_ps(wx + 16 * j), xv, _mm512_load_ps(b0 + 16 * j));
        F512_PASS(3, ifg, init);
        const __m512 i = rnnfx_pw_sigmoid_avx512(acc[0][0]);
        /* f c, f = s or 1 - s (s = sigmoid(|a_f|)): s (+-c) + (0 or c) */
        const __mmask16 nf = _mm512_movepi32_mask(_mm512_castps_si512(acc[0][1]));
        const __m512 fc = _mm512_fmadd_ps(rnnfx_pw_sigmoid_mag_avx512(acc[0][1]),
                                          _mm512_mask_xor_ps(cv, nf, cv, sign),
                                          _mm512_maskz_mov_ps(nf, cv));
        const __m512 g = rnnfx_pw_tanh_half_avx512(acc[0][2]);
        cv = _mm512_fmadd_ps(i, g, fc);
        const __m512 tcm = rnnfx_pw_tanh_mag_avx512(cv);
        init[0] = _mm512_fmadd_ps(_mm512_load_ps(wx + 48), xv, _mm512_load_ps(b0 + 48));
        F512_PASS(1, og, init);
        /* h = o tanh(c) = |tanh(c)| (o with the sign of c) */
        const __m512 so = _mm512_xor_ps(rnnfx_pw_sigmoid_avx512(acc[0][0]), _mm512_and_ps(cv, sign));
        hreg = _mm512_mul_ps(tcm, so);
        _mm512_store_ps(h, hreg);
        f512_dense(&D, F, &hreg, 1, in, out);
    }
    f512_dense_flush(&D, F, in, out);
    _mm512_store_ps(c, cv);
}

/* Time step t of one channel of f512_gru1, for its pair form: the single
 * loop's expressions, in the same order. */
RX_INLINE void f512_gru1_step(const RnnfxFast *F, const F512One *W, F512Chan *ch, F512Dense *D,
                              size_t t, const int HC)
{
    const float *wx = W->wx, *wh = W->wh, *b0 = ch->b0, *h = ch->h;
    enum { ROWS = 48 };
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(INT32_MIN));
    static const int rg[1] = {0};
    const __m512 hreg = ch->hreg;
    const float x = ch->in[t];
    const __m512 xv = _mm512_set1_ps(x);
    __m512 acc[4][1], init[1];
    init[0] = _mm512_fmadd_ps(_mm512_load_ps(wx), xv, _mm512_load_ps(b0));
    F512_PASS(1, rg, init);
    const __m512 ar = acc[0][0];
    /* hn (rows 2) and z (rows 1): needed only after sigma(r), so two
     * accumulator sets suffice (half the additions of four) */
    __m512 n0 = W->bhn, z0 = _mm512_fmadd_ps(_mm512_load_ps(wx + 16), xv, _mm512_load_ps(b0 + 16));
    __m512 n1 = _mm512_setzero_ps(), z1 = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int k = 0; k < HC; k += 2) {
        /* columns 0-3: the same VPERMPS broadcasts as the r pass (shared) */
        const __m512 h0 = k < 4 ? _mm512_permutexvar_ps(_mm512_set1_epi32(k), hreg) : _mm512_set1_ps(h[k]);
        const __m512 h1 = k < 4 ? _mm512_permutexvar_ps(_mm512_set1_epi32(k + 1), hreg)
                                : _mm512_set1_ps(h[k + 1]);
        n0 = _mm512_fmadd_ps(_mm512_load_ps(wh + k * ROWS + 32), h0, n0);
        z0 = _mm512_fmadd_ps(_mm512_load_ps(wh + k * ROWS + 16), h0, z0);
        n1 = k == 0 ? _mm512_mul_ps(_mm512_load_ps(wh + ROWS + 32), h1)
                    : _mm512_fmadd_ps(_mm512_load_ps(wh + (k + 1) * ROWS + 32), h1, n1);
        z1 = k == 0 ? _mm512_mul_ps(_mm512_load_ps(wh + ROWS + 16), h1)
                    : _mm512_fmadd_ps(_mm512_load_ps(wh + (k + 1) * ROWS + 16), h1, z1);
    }
    const __m512 hn = _mm512_add_ps(n0, n1), az = _mm512_add_ps(z0, z1);
    const __m512 xn = _mm512_fmadd_ps(_mm512_load_ps(wx + 32), xv, _mm512_load_ps(b0 + 32));
    /* r hn + xn, r = s or 1 - s (s = sigmoid(|a_r|)): s (+-hn) + (xn or xn + hn) */
    const __mmask16 nr = _mm512_movepi32_mask(_mm512_castps_si512(ar));
    const __m512 pn = _mm512_fmadd_ps(rnnfx_pw_sigmoid_mag_avx512(ar),
                                      _mm512_mask_xor_ps(hn, nr, hn, sign),
                                      _mm512_mask_add_ps(xn, nr, xn, hn));
    /* h = n + z (h - n) = |n| ((1 - z) with the sign of pn) + (h - (1 - z) h);
     * 1 - z = sigmoid(-a_z) straight from the table (s or 1 - s) */
    const __mmask16 pz = _mm512_movepi32_mask(_mm512_castps_si512(_mm512_xor_ps(az, sign)));
    const __m512 sz = rnnfx_pw_sigmoid_mag_avx512(az);
    const __m512 omz = _mm512_mask_sub_ps(sz, pz, _mm512_set1_ps(1.0f), sz);
    ch->hreg = _mm512_fmadd_ps(rnnfx_pw_tanh_half_mag_avx512(pn),
                               _mm512_xor_ps(omz, _mm512_and_ps(pn, sign)), _mm512_fnmadd_ps(omz, hreg, hreg));
    _mm512_store_ps(ch->h, ch->hreg);
    f512_dense(D, F, &ch->hreg, 1, ch->in, ch->out);
}

RX_INLINE void f512_gru1(const RnnfxFast *F, const float *b0, float *h, const float *in, float *out,
                         size_t n, const int HC)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const float *wx = L->wx, *wh = L->wh;
    enum { ROWS = 48 };
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(INT32_MIN));
    static const int rg[1] = {0};
    const __m512 bhn = _mm512_load_ps(L->bh + 32);
    __m512 hreg = _mm512_load_ps(h);
    F512Dense D;
    D.cnt = 0;
    D.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        const float x = in[t];
        const __m512 xv = _mm512_set1_ps(x);
        __m512 acc[4][1], init[1];
        init[0] = _mm512_fmadd_ps(_mm512_load_ps(wx), xv, _mm512_load_ps(b0));
        F512_PASS(1, rg, init);
        const __m512 ar = acc[0][0];
        /* hn (rows 2) and z (rows 1): needed only after sigma(r), so two
         * accumulator sets suffice (half the additions of four) */
        __m512 n0 = bhn, z0 = _mm512_fmadd_ps(_mm512_load_ps(wx + 16), xv, _mm512_load_ps(b0 + 16));
        __m512 n1 = _mm512_setzero_ps(), z1 = _mm512_setzero_ps();
#pragma GCC unroll 8
        for (int k = 0; k < HC; k += 2) {
            /* columns 0-3: the same VPERMPS broadcasts as the r pass (shared) */
            const __m512 h0 = k < 4 ? _mm512_permutexvar_ps(_mm512_set1_epi32(k), hreg) : _mm512_set1_ps(h[k]);
            const __m512 h1 = k < 4 ? _mm512_permutexvar_ps(_mm512_set1_epi32(k + 1), hreg)
                                    : _mm512_set1_ps(h[k + 1]);
            n0 = _mm512_fmadd_ps(_mm512_load_ps(wh + k * ROWS + 32), h0, n0);
            z0 = _mm512_fmadd_ps(_mm512_load_ps(wh + k * ROWS + 16), h0, z0);
            n1 = k == 0 ? _mm512_mul_ps(_mm512_load_ps(wh + ROWS + 32), h1)
                        : _mm512_fmadd_ps(_mm512_load_ps(wh + (k + 1) * ROWS + 32), h1, n1);
            z1 = k == 0 ? _mm512_mul_ps(_mm512_load_ps(wh + ROWS + 16), h1)
                        : _mm512_fmadd_ps(_mm512_load_ps(wh + (k + 1) * ROWS + 16), h1, z1);
        }
        const __m512 hn = _mm512_add_ps(n0, n1), az = _mm512_add_ps(z0, z1);
        const __m512 xn = _mm512_fmadd_ps(_mm512_load_ps(wx + 32), xv, _mm512_load_ps(b0 + 32));
        /* r hn + xn, r = s or 1 - s (s = sigmoid(|a_r|)): s (+-hn) + (xn or xn + hn) */
        const __mmask16 nr = _mm512_movepi32_mask(_mm512_castps_si512(ar));
        const __m512 pn = _mm512_fmadd_ps(rnnfx_pw_sigmoid_mag_avx512(ar),
                                          _mm512_mask_xor_ps(hn, nr, hn, sign),
                                          _mm512_mask_add_ps(xn, nr, xn, hn));
        /* h = n + z (h - n) = |n| ((1 - z) with the sign of pn) + (h - (1 - z) h);
         * 1 - z = sigmoid(-a_z) straight from the table (s or 1 - s) */
        const __mmask16 pz = _mm512_movepi32_mask(_mm512_castps_si512(_mm512_xor_ps(az, sign)));
        const __m512 sz = rnnfx_pw_sigmoid_mag_avx512(az);
        const __m512 omz = _mm512_mask_sub_ps(sz, pz, _mm512_set1_ps(1.0f), sz);
        hreg = _mm512_fmadd_ps(rnnfx_pw_tanh_half_mag_avx512(pn),
                               _mm512_xor_ps(omz, _mm512_and_ps(pn, sign)), _mm512_fnmadd_ps(omz, hreg, hreg));
        _mm512_store_ps(h, hreg);
        f512_dense(&D, F, &hreg, 1, in, out);
    }
    f512_dense_flush(&D, F, in, out);
}

/* ---- pair kernels: two channels of one model in one time loop -------------
 * A stereo chain runs two instances of one model (engine/chain.c), and
 * one channel's step up to 24 units is a dependency chain (above: ~100
 * cycles of latency for ~170 vector instructions in the LSTM-16 step),
 * which leaves ports 0 and 5 idle much of the step. The two channels are
 * independent, so rnnfx_instance_process_pair runs step t of channel a
 * and then step t of channel b in one loop, and the out-of-order core
 * overlaps the two chains. Each channel's step (f512_small_step,
 * f512_lstm1_step, f512_gru1_step, f512_lstm_pt_step, f512_gru_pt_step)
 * computes the single kernel's expressions in the same order, so the
 * outputs equal two single calls bit for bit (test_pair). The single
 * kernels keep their own loops, instruction for instruction as before the
 * pair kernels existed: built on the shared steps they measured up to
 * ~0.7 % slower (LSTM-8 38.6 -> 38.9 ns; the register allocation moved),
 * and their speed depends even on where their loops fall relative to
 * 64-byte lines (hence f512_run_audio's alignment). Against the revision
 * before the pair kernels (interleaved A/B runs, ns per sample): GRU-8
 * 29.8 / 29.8, GRU-12 32.3 / 32.3, GRU-16 36.3 / 36.3, LSTM-8 38.7 /
 * 38.8, LSTM-12 44.4 / 44.5, LSTM-16 ~47 / ~47, LSTM-20 60.1 / 60.1,
 * GRU-24 56.3 / 56.2. After adding code here, A/B the one-group kernels
 * again.
 * Shared by the two channels: the weights (and the registers holding
 * them); per channel: the bias with its knobs folded in, h, c and the
 * batched dense output.
 * Measured (bench_engine's stereo table, best of 8 interleaved runs, ns per
 * stereo frame, pair against two single calls): LSTM-8 48 vs 81, LSTM-12
 * 69 vs 87, LSTM-16 79 vs 93, LSTM-20 107 vs 120, LSTM-24 116 vs 132,
 * GRU-8 40 vs 65, GRU-12 44 vs 69, GRU-16 49 vs 77, GRU-20 83 vs 105,
 * GRU-24 92 vs 112. The LSTM-8 pair holds part of the weights on the stack
 * (the two channels' states and biases take the registers), which costs
 * a load per FMA and no more. When another guest kept the host busy, the
 * gains shrank (LSTM-16 109 vs 113, GRU-16 64 vs 79): the pair fills
 * execution slots a busy sibling thread then takes. Tried and no better:
 * interleaving the two LSTM-16 channels by half step (both channels' i, f,
 * g rows and cell updates, then both o rows and h: 79.7 against 79.2).
 * The kernels from 25 units have no pair form: their step is close to bound by instruction
 * throughput (LSTM-32: ~400 vector instructions, >= 80 of its ~93 ns), so
 * there is little idle time to fill. Tried (pair forms of f512_lstm and
 * f512_gru, the same steps per channel, best of 5 quick runs): LSTM-28 172
 * vs 169, LSTM-32 188 vs 185, GRU-32 134 vs 141, LSTM-48 365 vs 363,
 * GRU-48 259 vs 261; on AVX2, 17-48 units gained 0-8 %, not reproducibly
 * (fast_avx2.c). bench_engine's stereo table shows 32 and 64 running as
 * two single calls. */

/* The pair kernels of the one-group shapes: both channels' step t, then
 * step t + 1, each channel's exactly as in the single kernel. */
RX_INLINE void f512_one_pair(const RnnfxFast *F, const RnnfxFastChannel *a,
                             const RnnfxFastChannel *b, size_t n, const int lstm, const int HC)
{
    F512One W;
    f512_one_init(F, &W);
    F512Chan A, B;
    f512_one_chan(&A, (const float *)a->scratch + F->off_b0, a->h[0], lstm ? a->c[0] : NULL, a->in,
                  a->out);
    f512_one_chan(&B, (const float *)b->scratch + F->off_b0, b->h[0], lstm ? b->c[0] : NULL, b->in,
                  b->out);
    F512Dense DA, DB;
    DA.cnt = DB.cnt = 0;
    DA.t0 = DB.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        if (lstm) {
            f512_lstm1_step(F, &W, &A, &DA, t, HC);
            f512_lstm1_step(F, &W, &B, &DB, t, HC);
        } else {
            f512_gru1_step(F, &W, &A, &DA, t, HC);
            f512_gru1_step(F, &W, &B, &DB, t, HC);
        }
    }
    f512_dense_flush(&DA, F, a->in, a->out);
    f512_dense_flush(&DB, F, b->in, b->out);
    if (lstm) {
        _mm512_store_ps(a->c[0], A.cv);
        _mm512_store_ps(b->c[0], B.cv);
    }
}


/* ---- pair forms of the paired-tail kernels (17 <= H <= 24) ----------------
 * The steps below compute f512_lstm_pt's and f512_gru_pt's expressions
 * exactly, in the same order, per channel (test_pair checks the outputs
 * to the bit). */
typedef struct {
    const float *in;
    float *out, *h;
    __m512 bx[6], ca, cb, hv[2];
} F512PtChan;

RX_INLINE void f512_lstm_pt_chan(const RnnfxFast *F, F512PtChan *ch, const RnnfxFastChannel *x)
{
    const float *b0 = (const float *)x->scratch + F->off_b0;
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++)
        ch->bx[q] = _mm512_load_ps(b0 + 32 * q);
    ch->bx[4] = f512_pair(b0 + 16, b0 + 48);
    ch->bx[5] = f512_pair(b0 + 80, b0 + 112);
    const float *c = x->c[0];
    const __m512 ca = _mm512_load_ps(c), cb = _mm512_load_ps(c + 16);
    ch->ca = _mm512_add_ps(ca, ca);
    ch->cb = _mm512_add_ps(cb, cb);
    ch->in = x->in;
    ch->out = x->out;
    ch->h = x->h[0];
}

RX_INLINE void f512_lstm_pt_step(const RnnfxFast *F, const float *w, const __m512 *wxv,
                                 F512PtChan *ch, F512Dense *D, size_t t, const int HC)
{
    enum { ROWS = 96 };
    const float *h = ch->h;
    const __m512 xv = _mm512_set1_ps(ch->in[t]);
    __m512 a0[6], a1[6], init[6];
#pragma GCC unroll 6
    for (int v = 0; v < 6; v++)
        init[v] = _mm512_fmadd_ps(wxv[v], xv, ch->bx[v]);
    F512_PT_MATVEC(6, ROWS);
    const __m512 ca = f512_fold_c2(a0[0], a0[1], a0[2], ch->ca);
    const __m512 sa = rnnfx_pw_sigmoid_avx512(a0[4]);
    const __m512 tb = rnnfx_pw_tanh_half_avx512(a0[5]);
    const __m512 fb = _mm512_shuffle_f32x4(sa, sa, 0x4E);
    const __m512 cb = _mm512_maskz_fmadd_ps(0x00FF, fb, ch->cb, _mm512_mul_ps(sa, _mm512_add_ps(tb, tb)));
    const __m512 sb = rnnfx_pw_sigmoid_avx512(a0[5]);
    const __m512 ob = _mm512_shuffle_f32x4(sb, sb, 0x4E);
    __m512 hv[2];
    hv[0] = f512_fold_h(rnnfx_pw_sigmoid_avx512(a0[3]), ca);
    hv[1] = f512_fold_h(ob, cb);
    ch->ca = ca;
    ch->cb = cb;
    _mm512_store_ps(ch->h, hv[0]);
    _mm512_store_ps(ch->h + 16, hv[1]);
    f512_dense(D, F, hv, 2, ch->in, ch->out);
}

RX_INLINE void f512_lstm_pt_pair(const RnnfxFast *F, const RnnfxFastChannel *a,
                                 const RnnfxFastChannel *b, size_t n, const int HC)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const float *wx = L->wx, *w = L->cols[0];
    __m512 wxv[6];
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++)
        wxv[q] = _mm512_load_ps(wx + 32 * q);
    wxv[4] = f512_pair(wx + 16, wx + 48);
    wxv[5] = f512_pair(wx + 80, wx + 112);
    F512PtChan A, B;
    f512_lstm_pt_chan(F, &A, a);
    f512_lstm_pt_chan(F, &B, b);
    F512Dense DA, DB;
    DA.cnt = DB.cnt = 0;
    DA.t0 = DB.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        f512_lstm_pt_step(F, w, wxv, &A, &DA, t, HC);
        f512_lstm_pt_step(F, w, wxv, &B, &DB, t, HC);
    }
    f512_dense_flush(&DA, F, a->in, a->out);
    f512_dense_flush(&DB, F, b->in, b->out);
    const F512PtChan *chs[2] = {&A, &B};
    const RnnfxFastChannel *xs[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        _mm512_store_ps(xs[k]->c[0], _mm512_mul_ps(chs[k]->ca, _mm512_set1_ps(0.5f)));
        _mm512_store_ps(xs[k]->c[0] + 16, _mm512_mul_ps(chs[k]->cb, _mm512_set1_ps(0.5f)));
    }
}

RX_INLINE void f512_gru_pt_chan(const RnnfxFast *F, F512PtChan *ch, const RnnfxFastChannel *x)
{
    const float *b0 = (const float *)x->scratch + F->off_b0;
    ch->bx[0] = _mm512_load_ps(b0);
    ch->bx[1] = _mm512_load_ps(b0 + 32);
    ch->bx[2] = _mm512_load_ps(b0 + 64);
    ch->bx[3] = _mm512_load_ps(b0 + 80);
    ch->bx[4] = f512_pair(b0 + 16, b0 + 48);
    ch->bx[5] = _mm512_setzero_ps();
    const float *h = x->h[0];
    ch->hv[0] = _mm512_load_ps(h);
    ch->hv[1] = _mm512_load_ps(h + 16);
    ch->in = x->in;
    ch->out = x->out;
    ch->h = x->h[0];
}

RX_INLINE void f512_gru_pt_step(const RnnfxFast *F, const float *w, const __m512 *wxv,
                                __m512 wrz, __m512 bhn0, __m512 bhn1, F512PtChan *ch,
                                F512Dense *D, size_t t, const int HC)
{
    enum { ROWS = 80 };
    const float *h = ch->h;
    const __m512 xv = _mm512_set1_ps(ch->in[t]);
    __m512 a0[5], a1[5];
    const __m512 init[5] = {_mm512_fmadd_ps(wxv[0], xv, ch->bx[0]),
                            _mm512_fmadd_ps(wxv[1], xv, ch->bx[1]), bhn0,
                            _mm512_fmadd_ps(wrz, xv, ch->bx[4]), bhn1};
    F512_PT_MATVEC(5, ROWS);
    const __m512 xn0 = _mm512_fmadd_ps(wxv[2], xv, ch->bx[2]);
    const __m512 xn1 = _mm512_fmadd_ps(wxv[3], xv, ch->bx[3]);
    __m512 hv[2];
    hv[0] = f512_fold_gru(a0[0], a0[1], a0[2], xn0, ch->hv[0]);
    const __m512 s = rnnfx_pw_sigmoid_avx512(a0[3]);
    const __m512 nt = rnnfx_pw_tanh_half_avx512(_mm512_fmadd_ps(s, a0[4], xn1));
    const __m512 zt = _mm512_shuffle_f32x4(s, s, 0x4E);
    hv[1] = _mm512_fmadd_ps(zt, _mm512_sub_ps(ch->hv[1], nt), nt);
    ch->hv[0] = hv[0];
    ch->hv[1] = hv[1];
    _mm512_store_ps(ch->h, hv[0]);
    _mm512_store_ps(ch->h + 16, hv[1]);
    f512_dense(D, F, hv, 2, ch->in, ch->out);
}

RX_INLINE void f512_gru_pt_pair(const RnnfxFast *F, const RnnfxFastChannel *a,
                                const RnnfxFastChannel *b, size_t n, const int HC)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const float *wx = L->wx, *bh = L->bh, *w = L->cols[0];
    __m512 wxv[4];
    wxv[0] = _mm512_load_ps(wx);
    wxv[1] = _mm512_load_ps(wx + 32);
    wxv[2] = _mm512_load_ps(wx + 64);
    wxv[3] = _mm512_load_ps(wx + 80);
    const __m512 wrz = f512_pair(wx + 16, wx + 48);
    const __m512 bhn0 = _mm512_load_ps(bh + 64), bhn1 = _mm512_load_ps(bh + 80);
    F512PtChan A, B;
    f512_gru_pt_chan(F, &A, a);
    f512_gru_pt_chan(F, &B, b);
    F512Dense DA, DB;
    DA.cnt = DB.cnt = 0;
    DA.t0 = DB.t0 = 0;
    for (size_t t = 0; t < n; t++) {
        f512_gru_pt_step(F, w, wxv, wrz, bhn0, bhn1, &A, &DA, t, HC);
        f512_gru_pt_step(F, w, wxv, wrz, bhn0, bhn1, &B, &DB, t, HC);
    }
    f512_dense_flush(&DA, F, a->in, a->out);
    f512_dense_flush(&DB, F, b->in, b->out);
}


/* ZD must match how fast.c packed the layer (L->zdom): exponent domain
 * from three groups (H > 32). */
#define F512_CASE(nv, sets)                                                                    \
    case nv:                                                                                   \
        if (L->cell == RNNFX_CELL_LSTM)                                                        \
            f512_lstm(F, b0, h[0], c[0], in, out, n, nv, sets, nv > 2, step);                  \
        else                                                                                   \
            f512_gru(F, b0, h[0], in, out, n, nv, sets, nv > 2, step);                         \
        return

/* Aligned to a cache line so that its loops (the single kernels, inlined
 * here) fall at the same offsets within their 64-byte lines in every
 * binary this object is linked into: with the object's default 16-byte
 * alignment, the same instructions measured GRU-16 36.3 or 38.4 ns per
 * sample, GRU-12 32.3 or 34.5, depending on the link. */
__attribute__((aligned(64))) static void f512_run_audio(const RnnfxFast *F, void *scratch,
                                                        float *const *h, float *const *c,
                                                        const float *in, float *out, size_t n)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const float *b0 = (const float *)scratch + F->off_b0;
    unsigned *step = (unsigned *)((float *)scratch + F->off_step);
    /* fast.c sets cols only for the shapes handled here, and packs them in
     * the domain each kernel below assumes (see F512_CASE); the check keeps
     * the two files from disagreeing silently. */
    const int hp = L->hp;
    if (L->cols && L->zdom == (hp > 32)) {
        if (L->cell == RNNFX_CELL_LSTM && L->hidden <= 8) {
            if (L->hcols == 4)
                f512_lstm_small(F, b0, h[0], c[0], in, out, n, 4);
            else
                f512_lstm_small(F, b0, h[0], c[0], in, out, n, 8);
            return;
        }
        if (L->hp == 16) {
            /* hcols is H rounded up to 4; LSTM H <= 8 went to lstm_small */
            if (L->cell == RNNFX_CELL_LSTM && L->hcols == 16)
                f512_lstm1(F, b0, h[0], c[0], in, out, n, 16);
            else if (L->cell == RNNFX_CELL_LSTM)
                f512_lstm1(F, b0, h[0], c[0], in, out, n, 12);
            else if (L->hcols == 16)
                f512_gru1(F, b0, h[0], in, out, n, 16);
            else if (L->hcols == 12)
                f512_gru1(F, b0, h[0], in, out, n, 12);
            else if (L->hcols == 8)
                f512_gru1(F, b0, h[0], in, out, n, 8);
            else
                f512_gru1(F, b0, h[0], in, out, n, 4);
            return;
        }
        if (L->paired) {
            /* fast.c pairs the tail for H 17-24 only (paired_tail); hcols
             * is H rounded up to 4 */
            if (L->cell == RNNFX_CELL_LSTM && L->hcols == 20)
                f512_lstm_pt(F, b0, h[0], c[0], in, out, n, 20);
            else if (L->cell == RNNFX_CELL_LSTM)
                f512_lstm_pt(F, b0, h[0], c[0], in, out, n, 24);
            else if (L->hcols == 20)
                f512_gru_pt(F, b0, h[0], in, out, n, 20);
            else
                f512_gru_pt(F, b0, h[0], in, out, n, 24);
            return;
        }
        if (L->gs != L->hp) {
            /* the dense-gate copy: fast.c builds it for LSTM H 33-40 and GRU
             * H 33-40 and 49-56 only (dense_gates), and the bias in that
             * layout with the knobs (set_knobs) */
            const float *bd = (const float *)scratch + F->off_bd;
            const int nv = L->hp / 16;
            if (L->cell == RNNFX_CELL_LSTM && nv == 3) {
                f512_lstm_dg(F, bd, h[0], c[0], in, out, n, 3, 1);
                return;
            }
            if (L->cell == RNNFX_CELL_GRU && nv == 3) {
                f512_gru_dg(F, bd, h[0], in, out, n, 3, 2);
                return;
            }
            if (L->cell == RNNFX_CELL_GRU && nv == 4) {
                f512_gru_dg(F, bd, h[0], in, out, n, 4, 1);
                return;
            }
            rx_run_audio(F, scratch, h, c, in, out, n); /* not reached */
            return;
        }
        switch (L->hp / 16) {
            F512_CASE(2, 2);
            F512_CASE(3, 1);
            F512_CASE(4, 1);
            F512_CASE(5, 1);
            F512_CASE(6, 1);
        default: break;
        }
    }
    rx_run_audio(F, scratch, h, c, in, out, n);
}

/* The pair kernels, one function per shape (cache-line aligned, as
 * f512_run_audio, so their loops sit the same way in every link). */
#define F512_PAIR_FN(name, call)                                                               \
    __attribute__((aligned(64))) static void name(const RnnfxFast *F, const RnnfxFastChannel *a, \
                                                  const RnnfxFastChannel *b, size_t n)          \
    {                                                                                          \
        call;                                                                                  \
    }
F512_PAIR_FN(f512_pair_lstm_small4, f512_lstm_small_pair(F, a, b, n, 4))
F512_PAIR_FN(f512_pair_lstm_small8, f512_lstm_small_pair(F, a, b, n, 8))
F512_PAIR_FN(f512_pair_lstm1_12, f512_one_pair(F, a, b, n, 1, 12))
F512_PAIR_FN(f512_pair_lstm1_16, f512_one_pair(F, a, b, n, 1, 16))
F512_PAIR_FN(f512_pair_gru1_4, f512_one_pair(F, a, b, n, 0, 4))
F512_PAIR_FN(f512_pair_gru1_8, f512_one_pair(F, a, b, n, 0, 8))
F512_PAIR_FN(f512_pair_gru1_12, f512_one_pair(F, a, b, n, 0, 12))
F512_PAIR_FN(f512_pair_gru1_16, f512_one_pair(F, a, b, n, 0, 16))
F512_PAIR_FN(f512_pair_lstm_pt20, f512_lstm_pt_pair(F, a, b, n, 20))
F512_PAIR_FN(f512_pair_lstm_pt24, f512_lstm_pt_pair(F, a, b, n, 24))
F512_PAIR_FN(f512_pair_gru_pt20, f512_gru_pt_pair(F, a, b, n, 20))
F512_PAIR_FN(f512_pair_gru_pt24, f512_gru_pt_pair(F, a, b, n, 24))

/* The pair kernel for F's shape, the same choice as f512_run_audio makes
 * for one channel: LSTM H <= 8 (f512_lstm_small), LSTM 9-16 (f512_lstm1),
 * GRU <= 16 (f512_gru1). Other shapes have none (NULL). */
static RnnfxFastPairRun f512_pair_pick(const RnnfxFast *F)
{
    const RnnfxFastLayer *L = &F->layer[0];
    if (F->n_layers != 1 || !L->cols || L->zdom)
        return NULL;
    if (L->paired) {
        if (L->cell == RNNFX_CELL_LSTM)
            return L->hcols == 20 ? f512_pair_lstm_pt20 : f512_pair_lstm_pt24;
        return L->hcols == 20 ? f512_pair_gru_pt20 : f512_pair_gru_pt24;
    }
    if (L->hp != 16)
        return NULL;
    if (L->cell == RNNFX_CELL_LSTM && L->hidden <= 8)
        return L->hcols == 4 ? f512_pair_lstm_small4 : f512_pair_lstm_small8;
    if (L->cell == RNNFX_CELL_LSTM)
        return L->hcols == 16 ? f512_pair_lstm1_16 : f512_pair_lstm1_12;
    if (L->cell == RNNFX_CELL_GRU)
        return L->hcols == 16   ? f512_pair_gru1_16
               : L->hcols == 12 ? f512_pair_gru1_12
               : L->hcols == 8  ? f512_pair_gru1_8
                                : f512_pair_gru1_4;
    return NULL;
}

/* Test hooks for the z-domain forms: x is scaled to z here; a tail shorter
 * than a vector takes the scalar form. */
static void f512_act_z(const float *x, float *y, size_t n, float scale, __m512 (*f)(__m512),
                       float (*tail)(float))
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, f(_mm512_mul_ps(_mm512_loadu_ps(x + i), _mm512_set1_ps(scale))));
    for (; i < n; i++)
        y[i] = tail(x[i]);
}

static void f512_act_zsigmoid(const float *x, float *y, size_t n)
{
    f512_act_z(x, y, n, RNNFX_ZSCALE, rnnfx_zsig_avx512, rnnfx_fast_sigmoidf);
}

static void f512_act_ztanh(const float *x, float *y, size_t n)
{
    f512_act_z(x, y, n, RNNFX_ZSCALE2, rnnfx_ztanh_avx512, rnnfx_fast_tanhf);
}

const RnnfxFastIsa rnnfx_fast_isa_avx512 = {"avx512",          f512_run_audio,   rx_run_frames,
                                            rx_act_sigmoid,    rx_act_tanh,      f512_act_zsigmoid,
                                            f512_act_ztanh,    rx_run_stack,     RX_STACK_MAXNV * RX_W,
                                            f512_pair_pick};
#else
/* ISO C forbids an empty translation unit. */
typedef int rnnfx_fast_avx512_unused;
#endif

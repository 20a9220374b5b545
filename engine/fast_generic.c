/*
 * fast_generic.c — the fast path in portable C: the packed weights of
 * fast_internal.h and the sigmoid of activation.h, with inner loops over
 * contiguous gate rows that a compiler can vectorise for any target.
 *
 * It is the fast path on CPUs without AVX2 (and on non-x86), and the
 * baseline the SIMD kernels are compared with in the tests. It is not the
 * reference path: that one (instance.c) uses the PyTorch-layout tensors and
 * libm.
 */
#include <stddef.h>

#include "activation.h"
#include "fast_internal.h"

/* GCC's -O2 vectorises the 16-lane blocks but keeps them as loops with
 * their accumulators in memory (its "very cheap" cost model does not
 * unroll them); -O3 unrolls them into registers. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

/* Every row count here is a multiple of 16 (fast_internal.h), and inner
 * loops are written as blocks of exactly 16: a fixed trip count lets the
 * compiler vectorise them at -O2 for any target (SSE, NEON, ...). */
#define BLK 16

/* out[rows] = init[rows] + sum_k w[k][rows] * v[k]. out may equal init. */
static void gen_mv(float *out, const float *init, const float *restrict w, int rows,
                   const float *restrict v, int ncols)
{
    for (int r = 0; r < rows; r += BLK) {
        float acc[BLK];
        for (int i = 0; i < BLK; i++)
            acc[i] = init[r + i];
        for (int k = 0; k < ncols; k++) {
            const float x = v[k];
            const float *restrict wk = w + (size_t)k * (size_t)rows + r;
            for (int i = 0; i < BLK; i++)
                acc[i] += wk[i] * x;
        }
        for (int i = 0; i < BLK; i++)
            out[r + i] = acc[i];
    }
}

/* Recurrent part and cell update of one layer (gate equations: see
 * fast_kernels.h; tanh rows are pre-doubled). Works on blocks of 16 units
 * with the activations of rnnfx_fast_sigmoid16 and no branch inside any
 * fixed-length loop, so that everything vectorises. */
static void gen_layer_rec(const RnnfxFastLayer *L, float *g, float *gh, float *h, float *c)
{
    const int hp = L->hp;
    float a[BLK], b[BLK], d[BLK], e[BLK];
    switch (L->cell) {
    case RNNFX_CELL_LSTM:
        gen_mv(g, g, L->wh, L->rows, h, L->hidden);
        for (int j0 = 0; j0 < hp; j0 += BLK) {
            float *cj = c + j0, *hj = h + j0;
            const float *gi = g + j0, *gf = g + hp + j0, *gg = g + 2 * hp + j0;
            const float *go = g + 3 * hp + j0;
            if (L->peep) {
                const float *p = L->peep + j0;
                for (int i = 0; i < BLK; i++) {
                    a[i] = gi[i] + p[i] * cj[i];
                    b[i] = gf[i] + p[hp + i] * cj[i];
                }
                rnnfx_fast_sigmoid16(a, a);
                rnnfx_fast_sigmoid16(b, b);
            } else {
                rnnfx_fast_sigmoid16(a, gi);
                rnnfx_fast_sigmoid16(b, gf);
            }
            rnnfx_fast_sigmoid16(d, gg);
            for (int i = 0; i < BLK; i++) {
                cj[i] = b[i] * cj[i] + a[i] * (2.0f * d[i] - 1.0f); /* f c + i g */
                e[i] = cj[i] + cj[i];
            }
            if (L->peep) {
                const float *p = L->peep + 2 * hp + j0;
                for (int i = 0; i < BLK; i++)
                    a[i] = go[i] + p[i] * cj[i];
                rnnfx_fast_sigmoid16(a, a);
            } else {
                rnnfx_fast_sigmoid16(a, go);
            }
            rnnfx_fast_sigmoid16(e, e);
            for (int i = 0; i < BLK; i++)
                hj[i] = a[i] * (2.0f * e[i] - 1.0f); /* o tanh(c) */
        }
        break;
    case RNNFX_CELL_GRU:
        gen_mv(gh, L->bh, L->wh, L->rows, h, L->hidden);
        for (int j0 = 0; j0 < hp; j0 += BLK) {
            float *hj = h + j0;
            for (int i = 0; i < BLK; i++) {
                a[i] = g[j0 + i] + gh[j0 + i];
                b[i] = g[hp + j0 + i] + gh[hp + j0 + i];
            }
            rnnfx_fast_sigmoid16(a, a); /* r */
            rnnfx_fast_sigmoid16(b, b); /* z */
            for (int i = 0; i < BLK; i++)
                d[i] = g[2 * hp + j0 + i] + a[i] * gh[2 * hp + j0 + i];
            rnnfx_fast_sigmoid16(d, d);
            for (int i = 0; i < BLK; i++) {
                float nn = 2.0f * d[i] - 1.0f;
                hj[i] = nn + b[i] * (hj[i] - nn);
            }
        }
        break;
    case RNNFX_CELL_RNN:
        gen_mv(g, g, L->wh, L->rows, h, L->hidden);
        for (int j0 = 0; j0 < hp; j0 += BLK) {
            if (L->relu) {
                for (int i = 0; i < BLK; i++)
                    h[j0 + i] = g[j0 + i] > 0.0f ? g[j0 + i] : 0.0f;
            } else {
                rnnfx_fast_sigmoid16(a, g + j0);
                for (int i = 0; i < BLK; i++)
                    h[j0 + i] = 2.0f * a[i] - 1.0f;
            }
        }
        break;
    }
}

static void gen_upper_layers(const RnnfxFast *F, float *g, float *gh, float *const *h, float *const *c)
{
    for (int l = 1; l < F->n_layers; l++) {
        const RnnfxFastLayer *L = &F->layer[l];
        gen_mv(g, L->b, L->wx, L->rows, h[l - 1], L->in);
        gen_layer_rec(L, g, gh, h[l], c[l]);
    }
}

static void gen_run_audio(const RnnfxFast *F, void *scratch, float *const *h, float *const *c,
                          const float *in, float *out, size_t n)
{
    float *s = scratch;
    const float *b0 = s + F->off_b0;
    float *g = s + F->off_g, *gh = s + F->off_gh;
    const RnnfxFastLayer *L0 = &F->layer[0];
    const int last = F->n_layers - 1, hpl = F->layer[last].hp;
    const float *hl = h[last];
    for (size_t t = 0; t < n; t++) {
        const float x = in[t];
        for (int r0 = 0; r0 < L0->rows; r0 += BLK)
            for (int r = r0; r < r0 + BLK; r++)
                g[r] = b0[r] + L0->wx[r] * x;
        gen_layer_rec(L0, g, gh, h[0], c[0]);
        gen_upper_layers(F, g, gh, h, c);
        float part[BLK] = {0};
        for (int j0 = 0; j0 < hpl; j0 += BLK)
            for (int i = 0; i < BLK; i++)
                part[i] += F->dw0[j0 + i] * hl[j0 + i];
        float y = F->db[0];
        for (int i = 0; i < BLK; i++)
            y += part[i];
        if (F->sigmoid)
            y = rnnfx_fast_sigmoidf(y);
        if (F->skip)
            y += x;
        out[t] = y;
    }
}

static void gen_run_frames(const RnnfxFast *F, void *scratch, float *const *h, float *const *c,
                           const float *in, float *out, size_t n)
{
    float *s = scratch;
    float *g = s + F->off_g, *gh = s + F->off_gh, *yv = s + F->off_y;
    const RnnfxFastLayer *L0 = &F->layer[0];
    const int last = F->n_layers - 1, ni = F->input_size, no = F->output_size;
    for (size_t t = 0; t < n; t++) {
        const float *x = in + t * (size_t)ni;
        float *y = out + t * (size_t)no;
        gen_mv(g, L0->b, L0->wx, L0->rows, x, ni);
        gen_layer_rec(L0, g, gh, h[0], c[0]);
        gen_upper_layers(F, g, gh, h, c);
        gen_mv(yv, F->db, F->dw, F->op, h[last], F->layer[last].hidden);
        if (F->sigmoid)
            for (int o = 0; o < F->op; o += BLK)
                rnnfx_fast_sigmoid16(yv + o, yv + o);
        const float skip = F->skip ? x[0] : 0.0f;
        for (int o = 0; o < no; o++)
            y[o] = yv[o] + skip;
    }
}

static void gen_act_sigmoid(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = rnnfx_fast_sigmoidf(x[i]);
}

static void gen_act_tanh(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = rnnfx_fast_tanhf(x[i]);
}

const RnnfxFastIsa rnnfx_fast_isa_generic = {"generic",       gen_run_audio, gen_run_frames,
                                             gen_act_sigmoid, gen_act_tanh,  NULL,
                                             NULL,            NULL,          0,
                                             NULL};

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

/* out[rows] = init[rows] + sum_k w[k][rows] * v[k]. out may equal init. */
static void gen_mv(float *out, const float *init, const float *restrict w, int rows,
                   const float *restrict v, int ncols)
{
    if (out != init)
        for (int r = 0; r < rows; r++)
            out[r] = init[r];
    for (int k = 0; k < ncols; k++) {
        const float x = v[k];
        const float *restrict wk = w + (size_t)k * (size_t)rows;
        for (int r = 0; r < rows; r++)
            out[r] += wk[r] * x;
    }
}

/* Recurrent part and cell update of one layer (gate equations: see
 * fast_kernels.h; tanh rows are pre-doubled). */
static void gen_layer_rec(const RnnfxFastLayer *L, float *g, float *gh, float *h, float *c)
{
    const int hp = L->hp;
    switch (L->cell) {
    case RNNFX_CELL_LSTM:
        gen_mv(g, g, L->wh, L->rows, h, L->hidden);
        for (int j = 0; j < hp; j++) {
            float gi = g[j], gf = g[hp + j], go = g[3 * hp + j];
            if (L->peep) {
                gi += L->peep[j] * c[j];
                gf += L->peep[hp + j] * c[j];
            }
            float i = rnnfx_fast_sigmoidf(gi), f = rnnfx_fast_sigmoidf(gf);
            float gg = 2.0f * rnnfx_fast_sigmoidf(g[2 * hp + j]) - 1.0f;
            float cn = f * c[j] + i * gg;
            if (L->peep)
                go += L->peep[2 * hp + j] * cn;
            c[j] = cn;
            h[j] = rnnfx_fast_sigmoidf(go) * rnnfx_fast_tanhf(cn);
        }
        break;
    case RNNFX_CELL_GRU:
        gen_mv(gh, L->bh, L->wh, L->rows, h, L->hidden);
        for (int j = 0; j < hp; j++) {
            float r = rnnfx_fast_sigmoidf(g[j] + gh[j]);
            float z = rnnfx_fast_sigmoidf(g[hp + j] + gh[hp + j]);
            float nn = 2.0f * rnnfx_fast_sigmoidf(g[2 * hp + j] + r * gh[2 * hp + j]) - 1.0f;
            h[j] = nn + z * (h[j] - nn);
        }
        break;
    case RNNFX_CELL_RNN:
        gen_mv(g, g, L->wh, L->rows, h, L->hidden);
        for (int j = 0; j < hp; j++)
            h[j] = L->relu ? (g[j] > 0.0f ? g[j] : 0.0f) : 2.0f * rnnfx_fast_sigmoidf(g[j]) - 1.0f;
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
        for (int r = 0; r < L0->rows; r++)
            g[r] = b0[r] + L0->wx[r] * x;
        gen_layer_rec(L0, g, gh, h[0], c[0]);
        gen_upper_layers(F, g, gh, h, c);
        float y = F->db[0];
        for (int j = 0; j < hpl; j++)
            y += F->dw0[j] * hl[j];
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
        const float skip = F->skip ? x[0] : 0.0f;
        for (int o = 0; o < no; o++)
            y[o] = (F->sigmoid ? rnnfx_fast_sigmoidf(yv[o]) : yv[o]) + skip;
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
                                             NULL};

/*
 * train_lstm.c — LSTM layer, forward with caches and backward (BPTT within
 * one chunk), for Bt rows at once. The per-element gate algebra, with its
 * equations, is in train_kern.inc (lstm_fwd / lstm_bwd); this file does the
 * matrix products around it and the time loop.
 *
 * Forward, per step t (rows stacked as matrices):
 *   A_t  [Bt][4H] = X_t·W_ihᵀ + b_ih + b_hh + H_{t-1}·W_hhᵀ
 *   (i,f,g,o, c_t, h_t) = cell(A_t, c_{t-1})
 * Backward, t = T−1 … 0 (the state gradient entering the chunk end is 0:
 * truncation):
 *   dA_t [Bt][4H] = cell'(dH_t, dc_next)        (dH_t includes the recurrent part)
 *   dH_{t-1} [Bt][H] += dA_t · W_hh             (accumulated in place)
 * and, per block of steps (rnnfx_train_tblock), over the block's rows:
 *   dW_ih += dAᵀ·X   dW_hh += dAᵀ·H_{t-1}   db_ih = db_hh += Σ dA
 *   dX = dA · W_ih
 * (the input projection X·W_ihᵀ of the forward is also done per block).
 */
#include <string.h>

#include "train_impl.h"

void rnnfx_train_lstm_forward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                              RnnfxTrainWork *w, const float *x, int Bt, size_t T)
{
    const RnnfxTrainLayer *ly = &net->layer[l];
    const RnnfxTrainKernels *k = net->k;
    int H = ly->H, GH = 4 * H, K = ly->K;
    size_t sg = (size_t)Bt * GH, sh = (size_t)Bt * H;
    const float *peep = ly->peephole ? net->params + ly->o_peep : NULL;
    (void)w; /* the activations are the pre-activations' own buffer */
    size_t TB = rnnfx_train_tblock(Bt);
    for (size_t t0 = 0; t0 < T; t0 += TB) {
        size_t t1 = T - t0 < TB ? T : t0 + TB;
        /* act [t0..t1)[Bt][4H] = b_ih + b_hh + X·W_ihᵀ for a block of steps */
        k->gemm_nn((int)((t1 - t0) * Bt), GH, K, x + t0 * Bt * K, K, ly->wih_t, GH, ly->bsum,
                   b->act + t0 * sg, GH);
        for (size_t t = t0; t < t1; t++) {
            float *a = b->act + t * sg;
            /* a += H_{t-1}·W_hhᵀ, then the gates in place */
            k->gemm_nn(Bt, GH, H, b->h + t * sh, H, ly->whh_t, GH, NULL, a, GH);
            k->lstm_fwd(Bt, H, a, b->c + t * sh, b->c + (t + 1) * sh, b->tc + t * sh,
                        b->h + (t + 1) * sh, peep);
        }
    }
}

void rnnfx_train_lstm_backward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                               RnnfxTrainWork *w, const float *x, float *dh, float *dx,
                               int Bt, size_t T)
{
    const RnnfxTrainLayer *ly = &net->layer[l];
    const RnnfxTrainKernels *k = net->k;
    int H = ly->H, GH = 4 * H, K = ly->K;
    size_t sg = (size_t)Bt * GH, sh = (size_t)Bt * H;
    const float *whh = net->params + ly->o_whh; /* [4H][H] */
    const float *wih = net->params + ly->o_wih; /* [4H][K] */
    const float *peep = ly->peephole ? net->params + ly->o_peep : NULL;
    float *dpeep = ly->peephole ? w->grad + ly->o_peep : NULL;
    float *dA = w->blk_a;                  /* [block steps][Bt][4H] */
    float *dcn = w->dcn;                   /* [Bt][H] cell gradient carried to step t−1 */
    memset(dcn, 0, sizeof(float) * sh);
    size_t TB = rnnfx_train_tblock(Bt);
    for (size_t t1 = T; t1 > 0;) {
        size_t t0 = t1 > TB ? t1 - TB : 0;
        for (size_t t = t1; t-- > t0;) {
            /* dh[t] already holds the gradient from above plus, added by
             * step t+1, the recurrent part: it is the total gradient on h_t */
            float *dAt = dA + (t - t0) * sg;
            k->lstm_bwd(Bt, H, b->act + t * sg, b->c + t * sh, b->c + (t + 1) * sh,
                        b->tc + t * sh, dh + t * sh, dcn, dAt, peep, dpeep);
            if (t > 0) /* dh[t−1] += dA_t · W_hh; at t = 0 the chunk is cut */
                k->gemm_nn(Bt, H, GH, dAt, GH, whh, H, NULL, dh + (t - 1) * sh, H);
        }
        /* this block's share of the weight gradients and of dX, while hot */
        int rows = (int)((t1 - t0) * Bt);
        const float *dAb = dA;
        k->gemm_tn(GH, K, rows, dAb, GH, x + t0 * Bt * K, K, w->grad + ly->o_wih, K,
                   w->grad + ly->o_bih);
        k->gemm_tn(GH, H, rows, dAb, GH, b->h + t0 * sh, H, w->grad + ly->o_whh, H,
                   w->grad + ly->o_bhh);
        if (dx) {
            memset(dx + t0 * Bt * K, 0, sizeof(float) * (size_t)rows * K);
            k->gemm_nn(rows, K, GH, dAb, GH, wih, K, NULL, dx + t0 * Bt * K, K);
        }
        t1 = t0;
    }
}

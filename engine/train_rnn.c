/*
 * train_rnn.c — vanilla RNN layer (tanh or ReLU), forward with caches and
 * backward within one chunk, for Bt rows at once.
 *
 *   A [T][Bt][H] = X·W_ihᵀ + b_ih + b_hh;  per step A_t += H_{t-1}·W_hhᵀ,
 *   h_t = tanh(A_t) or max(A_t, 0)
 * Backward, t = T−1 … 0 (zero state gradient at the chunk end):
 *   dA_t = dH_t · act'(h_t)     dH_{t-1} += dA_t · W_hh   (dH accumulated in place)
 * and per block of steps dW_ih += dAᵀ·X, dW_hh += dAᵀ·H_{t-1},
 * db_ih = db_hh += Σ dA, dX = dA · W_ih.
 */
#include <string.h>

#include "train_impl.h"

void rnnfx_train_rnn_forward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                             RnnfxTrainWork *w, const float *x, int Bt, size_t T)
{
    const RnnfxTrainLayer *ly = &net->layer[l];
    const RnnfxTrainKernels *k = net->k;
    int H = ly->H, K = ly->K;
    size_t sh = (size_t)Bt * H;
    float *pre = w->blk_a; /* [block steps][Bt][H] pre-activations */
    size_t TB = rnnfx_train_tblock(Bt);
    for (size_t t0 = 0; t0 < T; t0 += TB) {
        size_t t1 = T - t0 < TB ? T : t0 + TB;
        k->gemm_nn((int)((t1 - t0) * Bt), H, K, x + t0 * Bt * K, K, ly->wih_t, H, ly->bsum, pre,
                   H);
        for (size_t t = t0; t < t1; t++) {
            float *a = pre + (t - t0) * sh;
            k->gemm_nn(Bt, H, H, b->h + t * sh, H, ly->whh_t, H, NULL, a, H);
            k->rnn_fwd((int)sh, b->h + (t + 1) * sh, a, ly->relu);
        }
    }
}

void rnnfx_train_rnn_backward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                              RnnfxTrainWork *w, const float *x, float *dh, float *dx,
                              int Bt, size_t T)
{
    const RnnfxTrainLayer *ly = &net->layer[l];
    const RnnfxTrainKernels *k = net->k;
    int H = ly->H, K = ly->K;
    size_t sh = (size_t)Bt * H;
    const float *whh = net->params + ly->o_whh; /* [H][H] */
    const float *wih = net->params + ly->o_wih; /* [H][K] */
    float *dA = w->blk_a;                       /* [block steps][Bt][H] */

    size_t TB = rnnfx_train_tblock(Bt);
    for (size_t t1 = T; t1 > 0;) {
        size_t t0 = t1 > TB ? t1 - TB : 0;
        for (size_t t = t1; t-- > t0;) {
            float *dAt = dA + (t - t0) * sh;
            k->rnn_bwd((int)sh, dAt, dh + t * sh, b->h + (t + 1) * sh, ly->relu);
            if (t > 0) /* dh[t−1] += dA_t · W_hh; at t = 0 the chunk is cut */
                k->gemm_nn(Bt, H, H, dAt, H, whh, H, NULL, dh + (t - 1) * sh, H);
        }
        int rows = (int)((t1 - t0) * Bt);
        k->gemm_tn(H, K, rows, dA, H, x + t0 * Bt * K, K, w->grad + ly->o_wih, K,
                   w->grad + ly->o_bih);
        k->gemm_tn(H, H, rows, dA, H, b->h + t0 * sh, H, w->grad + ly->o_whh, H,
                   w->grad + ly->o_bhh);
        if (dx) {
            memset(dx + t0 * Bt * K, 0, sizeof(float) * (size_t)rows * K);
            k->gemm_nn(rows, K, H, dA, H, wih, K, NULL, dx + t0 * Bt * K, K);
        }
        t1 = t0;
    }
}

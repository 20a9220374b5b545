/*
 * train_gru.c — GRU layer (PyTorch reset-after form, gates r, z, n), forward
 * with caches and backward within one chunk, for Bt rows at once. The
 * per-element algebra and its equations are in train_kern.inc (gru_fwd /
 * gru_bwd).
 *
 * Forward, per step t:
 *   GX [T][Bt][3H] = X·W_ihᵀ + b_ih            (all steps in one product)
 *   GH_t  [Bt][3H] = H_{t-1}·W_hhᵀ + b_hh
 *   (r,z,n, h_t) = cell(GX_t, GH_t, h_{t-1})
 * Backward, t = T−1 … 0 (zero state gradient at the chunk end):
 *   (dGX_t, dGH_t, dh_direct) = cell'(dH_t)     (dH_t includes the recurrent part)
 *   dH_{t-1} += dh_direct + dGH_t · W_hh        (accumulated in place)
 * and per block of steps (rnnfx_train_tblock) dW_ih += dGXᵀ·X, db_ih += Σ dGX,
 * dW_hh += dGHᵀ·H_{t-1}, db_hh += Σ dGH, dX = dGX · W_ih (the forward's
 * input projection is also done per block, while its rows are in cache).
 */
#include <string.h>

#include "train_impl.h"

void rnnfx_train_gru_forward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                             RnnfxTrainWork *w, const float *x, int Bt, size_t T)
{
    const RnnfxTrainLayer *ly = &net->layer[l];
    const RnnfxTrainKernels *k = net->k;
    int H = ly->H, GH = 3 * H, K = ly->K;
    size_t sg = (size_t)Bt * GH, sh = (size_t)Bt * H;
    const float *bih = net->params + ly->o_bih, *bhh = net->params + ly->o_bhh;
    float *gx = w->blk_a; /* [block steps][Bt][3H]  X·W_ihᵀ + b_ih */
    float *gh = w->blk_b; /* [Bt][3H]  H_{t-1}·W_hhᵀ + b_hh of one step */
    size_t TB = rnnfx_train_tblock(Bt);
    for (size_t t0 = 0; t0 < T; t0 += TB) {
        size_t t1 = T - t0 < TB ? T : t0 + TB;
        k->gemm_nn((int)((t1 - t0) * Bt), GH, K, x + t0 * Bt * K, K, ly->wih_t, GH, bih, gx,
                   GH);
        for (size_t t = t0; t < t1; t++) {
            k->gemm_nn(Bt, GH, H, b->h + t * sh, H, ly->whh_t, GH, bhh, gh, GH);
            k->gru_fwd(Bt, H, gx + (t - t0) * sg, gh, b->h + t * sh, b->act + t * sg,
                       b->ghn + t * sh, b->h + (t + 1) * sh);
        }
    }
}

void rnnfx_train_gru_backward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                              RnnfxTrainWork *w, const float *x, float *dh, float *dx,
                              int Bt, size_t T)
{
    const RnnfxTrainLayer *ly = &net->layer[l];
    const RnnfxTrainKernels *k = net->k;
    int H = ly->H, GH = 3 * H, K = ly->K;
    size_t sg = (size_t)Bt * GH, sh = (size_t)Bt * H;
    const float *whh = net->params + ly->o_whh; /* [3H][H] */
    const float *wih = net->params + ly->o_wih; /* [3H][K] */
    float *dGX = w->blk_a, *dGH = w->blk_b;     /* [block steps][Bt][3H] */

    size_t TB = rnnfx_train_tblock(Bt);
    for (size_t t1 = T; t1 > 0;) {
        size_t t0 = t1 > TB ? t1 - TB : 0;
        for (size_t t = t1; t-- > t0;) {
            /* dh[t] is the total gradient on h_t (step t+1 added its part);
             * this step adds to dh[t−1] the direct path dh·z and dGH_t·W_hh,
             * except at t = 0 where the chunk is cut (scratch absorbs it) */
            size_t o = (t - t0) * sg;
            /* dh + (t - 1) * sh is not even formed at t = 0: the index
             * wraps and the pointer sum is undefined (UBSan, fuzz_checkpoint) */
            float *dprev = t > 0 ? dh + (t - 1) * sh : w->dtmp;
            if (t == 0)
                memset(dprev, 0, sizeof(float) * sh);
            k->gru_bwd(Bt, H, b->act + t * sg, b->ghn + t * sh, b->h + t * sh, dh + t * sh,
                       dGX + o, dGH + o, dprev);
            if (t > 0)
                k->gemm_nn(Bt, H, GH, dGH + o, GH, whh, H, NULL, dprev, H);
        }
        int rows = (int)((t1 - t0) * Bt);
        k->gemm_tn(GH, K, rows, dGX, GH, x + t0 * Bt * K, K, w->grad + ly->o_wih, K,
                   w->grad + ly->o_bih);
        k->gemm_tn(GH, H, rows, dGH, GH, b->h + t0 * sh, H, w->grad + ly->o_whh, H,
                   w->grad + ly->o_bhh);
        if (dx) {
            memset(dx + t0 * Bt * K, 0, sizeof(float) * (size_t)rows * K);
            k->gemm_nn(rows, K, GH, dGX, GH, wih, K, NULL, dx + t0 * Bt * K, K);
        }
        t1 = t0;
    }
}

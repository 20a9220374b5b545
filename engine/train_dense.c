/*
 * train_dense.c — the output stage: dense layer, optional sigmoid, skip and
 * output gain, forward and backward over a whole chunk (M = T·Bt rows).
 *
 *   Z [M][out] = act(H_L·W_dᵀ + b_d)            act = identity or σ
 *   Y [M][out] = output_gain · (Z + skip · x'[0])
 * Backward from dY:
 *   dZ' = dY · output_gain · act'(Z)  (for BCE the loss hands over dZ' directly)
 *   dW_d += dZ'ᵀ·H_L   db_d += Σ dZ'   dH_L = dZ' · W_d
 * The gains are fixed factors, not trained; the skip has no weight.
 */
#include <string.h>

#include "train_impl.h"

void rnnfx_train_dense_forward(const RnnfxTrainNet *net, RnnfxTrainWork *w, const float *hL,
                               int Bt, size_t T)
{
    const RnnfxTrainKernels *k = net->k;
    int O = net->out, HL = net->layer[net->L - 1].H, in = net->in;
    size_t M = (size_t)Bt * T;
    const float *bd = net->params + net->o_db;
    k->gemm_nn((int)M, O, HL, hL, HL, net->dw_t, O, bd, w->z, O);
    if (net->sigmoid)
        k->sigmoid((int)(M * O), w->z);
    float g = net->out_gain;
    for (size_t m = 0; m < M; m++) {
        float s = net->skip ? w->x0[m * in] : 0.0f;
        for (int o = 0; o < O; o++)
            w->y[m * O + o] = g * (w->z[m * O + o] + s);
    }
}

void rnnfx_train_dense_backward(const RnnfxTrainNet *net, RnnfxTrainWork *w, const float *hL,
                                float *dhL, int Bt, size_t T, int dy_is_presigmoid)
{
    const RnnfxTrainKernels *k = net->k;
    int O = net->out, HL = net->layer[net->L - 1].H;
    size_t M = (size_t)Bt * T, n = M * (size_t)O;
    float *dz = w->dy; /* [M][out], turned into dZ' in place */
    if (!dy_is_presigmoid) {
        float g = net->out_gain;
        if (net->sigmoid)
            for (size_t i = 0; i < n; i++)
                dz[i] *= g * w->z[i] * (1.0f - w->z[i]);
        else
            for (size_t i = 0; i < n; i++)
                dz[i] *= g;
    }
    k->gemm_tn(O, HL, (int)M, dz, O, hL, HL, w->grad + net->o_dw, HL, w->grad + net->o_db);
    memset(dhL, 0, sizeof(float) * M * HL);
    k->gemm_nn((int)M, HL, O, dz, O, net->params + net->o_dw, HL, NULL, dhL, HL);
}

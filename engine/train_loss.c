/*
 * train_loss.c — training losses and their gradients with respect to the
 * model output, for one chunk of a batch.
 *
 * The batch-wide denominators (signal energy, frame counts) depend on the
 * targets only, so the loop computes them once per chunk before the workers
 * start (rnnfx_loss_norm_*); each worker then adds its rows' share of the
 * loss and writes dL/dy for its rows, and the shares sum to the batch loss.
 *
 *   ESR: e = t − y, pre-emphasised d[n] = e[n] − a·e[n−1] (e[−1] taken from the
 *        sample before the chunk; 0 at a segment start)
 *        ESR = Σ_{b,n,c} d² / (Σ_{b,n,c} (t[n] − a·t[n−1])² + 1e-10)
 *        DC  = mean_{b,c} (mean_n e)² / (mean_{b,n,c} t² + 1e-10)
 *        L   = ESR + dc_weight · DC
 *   MSE: L = mean_{b,n,c} (y − t)²
 *   BCE: L = −Σ_c [t log p + (1−t) log(1−p)] averaged over frames b,n, with p
 *        the sigmoid output; the gradient handed back is dL/d(pre-sigmoid)
 *        = (p − t)/(B·T), which needs no division by p(1−p).
 */
#include <math.h>
#include <string.h>

#include "train_impl.h"

#define LOSS_EPS 1e-10

void rnnfx_loss_norm_add(RnnfxLossNorm *nrm, const RnnfxTrainConfig *cfg, const float *t,
                         size_t stride, size_t T, int C, const float *tprev)
{
    double a = cfg->loss == RNNFX_LOSS_ESR ? cfg->preemph : 0.0;
    double e = 0.0, e2 = 0.0;
    for (int c = 0; c < C; c++) {
        double prev = tprev ? tprev[c] : 0.0;
        for (size_t n = 0; n < T; n++) {
            double v = t[n * stride + (size_t)c];
            double pe = v - a * prev;
            e += pe * pe;
            e2 += v * v;
            prev = v;
        }
    }
    nrm->energy += e;
    nrm->dc_energy += e2;
    nrm->B += 1;
}

void rnnfx_loss_norm_finish(RnnfxLossNorm *nrm, const RnnfxTrainConfig *cfg, size_t T, int C)
{
    double frames = (double)nrm->B * (double)T;
    nrm->energy += LOSS_EPS;
    nrm->dc_energy = nrm->dc_energy / (frames * C) + LOSS_EPS;
    nrm->count = cfg->loss == RNNFX_LOSS_BCE ? frames : frames * C;
}

static double loss_esr(const RnnfxTrainConfig *cfg, const RnnfxLossNorm *nrm, int C,
                       RnnfxTrainWork *w, int Bt, size_t T)
{
    double a = cfg->preemph, loss = 0.0;
    double s_esr = 2.0 / nrm->energy;
    double dcw = cfg->dc_weight;
    /* dc_weight · dDC/dy = −dc_weight · 2 m / (T · B · C · dc_energy) */
    double s_dc = dcw * 2.0 / ((double)T * nrm->B * C * nrm->dc_energy);
    size_t sr = (size_t)Bt * (size_t)C; /* stride between time steps */
    for (int b = 0; b < Bt; b++)
        for (int c = 0; c < C; c++) {
            size_t o = (size_t)b * C + (size_t)c;
            const float *y = w->y + o, *t = w->tgt + o;
            float *dy = w->dy + o;
            double eprev = (double)w->tprev[o] - (double)w->yprev[o];
            double sum_e = 0.0, dnext = 0.0;
            /* forward in time for the loss; d[n] kept in dy temporarily */
            for (size_t n = 0; n < T; n++) {
                double e = (double)t[n * sr] - (double)y[n * sr];
                double d = e - a * eprev;
                loss += d * d;
                sum_e += e;
                dy[n * sr] = (float)d;
                eprev = e;
            }
            double m = sum_e / (double)T;
            /* dL/dy[n] = (−d[n] + a·d[n+1]) · 2/E − m·s_dc */
            for (size_t n = T; n-- > 0;) {
                double d = dy[n * sr];
                dy[n * sr] = (float)((-d + a * dnext) * s_esr - m * s_dc);
                dnext = d;
            }
            if (dcw != 0.0)
                loss += dcw * nrm->energy * m * m / ((double)nrm->B * C * nrm->dc_energy);
        }
    return loss / nrm->energy;
}

double rnnfx_loss_chunk(const RnnfxTrainConfig *cfg, const RnnfxLossNorm *nrm,
                        const RnnfxTrainNet *net, RnnfxTrainWork *w, int Bt, size_t T)
{
    int C = net->out;
    size_t n = (size_t)Bt * T * (size_t)C;
    double loss = 0.0;
    switch (cfg->loss) {
    case RNNFX_LOSS_ESR:
        return loss_esr(cfg, nrm, C, w, Bt, T);
    case RNNFX_LOSS_MSE: {
        double s = 2.0 / nrm->count;
        for (size_t i = 0; i < n; i++) {
            double e = (double)w->y[i] - (double)w->tgt[i];
            loss += e * e;
            w->dy[i] = (float)(s * e);
        }
        return loss / nrm->count;
    }
    case RNNFX_LOSS_BCE: {
        double s = 1.0 / nrm->count;
        for (size_t i = 0; i < n; i++) {
            double p = w->z[i], t = w->tgt[i];
            double pc = p < 1e-7 ? 1e-7 : (p > 1.0 - 1e-7 ? 1.0 - 1e-7 : p);
            loss -= t * log(pc) + (1.0 - t) * log(1.0 - pc);
            w->dy[i] = (float)(s * (p - t));
        }
        return loss / nrm->count;
    }
    }
    return 0.0;
}

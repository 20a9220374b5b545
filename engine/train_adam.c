/*
 * train_adam.c — the optimiser: global gradient norm and one Adam step
 * (Kingma & Ba, with bias correction), with weight decay either decoupled
 * (AdamW: w −= lr·wd·w) or as an L2 term added to the gradient.
 *
 * Entries the trainer does not train (the model's initial state) are skipped
 * entirely: no update, no decay, no moments.
 */
#include <math.h>

#include "train_impl.h"

double rnnfx_grad_norm(const float *grad, const uint8_t *trained, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        if (trained[i])
            s += (double)grad[i] * (double)grad[i];
    return sqrt(s);
}

/* gscale multiplies the gradient first (clipping). */
void rnnfx_adam_step(float *params, const float *grad, float *m, float *v, const uint8_t *trained,
                     size_t n, uint64_t step, float lr, float gscale, const RnnfxTrainConfig *cfg)
{
    double b1 = cfg->beta1, b2 = cfg->beta2;
    /* bias corrections folded into the step size and the epsilon */
    double c1 = 1.0 - pow(b1, (double)step), c2 = 1.0 - pow(b2, (double)step);
    float alpha = (float)(lr / c1);
    float rc2 = (float)(1.0 / sqrt(c2));
    float eps = cfg->eps, wd = cfg->weight_decay;
    float fb1 = (float)b1, fb2 = (float)b2;
    int decoupled = cfg->decoupled_wd;
    for (size_t i = 0; i < n; i++) {
        if (!trained[i])
            continue;
        float g = grad[i] * gscale;
        if (wd != 0.0f && !decoupled)
            g += wd * params[i];
        m[i] = fb1 * m[i] + (1.0f - fb1) * g;
        v[i] = fb2 * v[i] + (1.0f - fb2) * g * g;
        float upd = alpha * m[i] / (sqrtf(v[i]) * rc2 + eps);
        if (wd != 0.0f && decoupled)
            params[i] -= lr * wd * params[i];
        params[i] -= upd;
    }
}

/*
 * train_eval.c — what the trainer needs around training proper: random
 * initialisation of a model, and evaluation of a model on a set of sequences
 * with the ENGINE's own forward pass (an instance, the fast kernels the
 * plugin runs), so a validation figure is what a listener will hear.
 *
 * Evaluation sums are made per sequence and combined in sequence order, so
 * the result does not depend on the number of threads.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"
#include "train_impl.h"

RnnfxStatus rnnfx_model_init_random(RnnfxModel *model, uint64_t seed, RnnfxError *err)
{
    if (!model)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no model");
    const RnnfxArch *a = rnnfx_model_arch(model);
    uint64_t rng = seed * 0x2545F4914F6CDD1Dull + 0x1234567ull;
    for (int l = 0; l < a->n_layers; l++) {
        /* PyTorch: every recurrent tensor ~ U(−1/√H, 1/√H) */
        float k = 1.0f / sqrtf((float)a->layers[l].hidden_size);
        static const RnnfxTensor ts[] = {RNNFX_T_WEIGHT_IH, RNNFX_T_WEIGHT_HH, RNNFX_T_BIAS_IH,
                                         RNNFX_T_BIAS_HH, RNNFX_T_PEEPHOLE};
        for (size_t t = 0; t < sizeof ts / sizeof ts[0]; t++) {
            int r, c;
            float *p = rnnfx_model_tensor(model, l, ts[t], &r, &c);
            for (size_t i = 0; p && i < (size_t)r * (size_t)c; i++)
                p[i] = k * (2.0f * train_rng_uniform(&rng) - 1.0f);
        }
        static const RnnfxTensor zs[] = {RNNFX_T_INITIAL_H, RNNFX_T_INITIAL_C};
        for (size_t t = 0; t < 2; t++) {
            int r, c;
            float *p = rnnfx_model_tensor(model, l, zs[t], &r, &c);
            if (p)
                memset(p, 0, sizeof(float) * (size_t)r * (size_t)c);
        }
    }
    /* nn.Linear: weight and bias ~ U(−1/√fan_in, 1/√fan_in) */
    int r, c;
    float *w = rnnfx_model_tensor(model, -1, RNNFX_T_DENSE_W, &r, &c);
    float k = 1.0f / sqrtf((float)c);
    for (size_t i = 0; i < (size_t)r * (size_t)c; i++)
        w[i] = k * (2.0f * train_rng_uniform(&rng) - 1.0f);
    float *b = rnnfx_model_tensor(model, -1, RNNFX_T_DENSE_B, &r, &c);
    for (size_t i = 0; i < (size_t)c; i++)
        b[i] = k * (2.0f * train_rng_uniform(&rng) - 1.0f);
    return rnnfx_model_finalize(model, err);
}

/* ---- evaluation ------------------------------------------------------------- */

#define EVAL_BLOCK 4096

typedef struct {
    double se, tt, se_pe, tt_pe, bce, dc_num; /* dc_num = Σ_c (mean e_c)² */
    size_t count;
    int failed;
} SeqSums;

typedef struct {
    const RnnfxModel *model;
    const RnnfxTrainSet *set;
    size_t burn_in;
    double preemph;
    int threads;
    SeqSums *sums;
} EvalJob;

typedef struct {
    EvalJob *job;
    int w;
} EvalArg;

static void eval_seq(const EvalJob *j, RnnfxInstance *inst, float *ybuf, size_t s, double *esum)
{
    const RnnfxTrainSeq *q = &j->set->seqs[s];
    const RnnfxArch *a = rnnfx_model_arch(j->model);
    int in = a->input_size, C = a->output_size;
    SeqSums *r = &j->sums[s];
    memset(r, 0, sizeof *r);
    rnnfx_instance_reset(inst);
    double pa = j->preemph;
    for (int c = 0; c < C; c++)
        esum[c] = 0.0;
    /* previous target/output per channel for the pre-emphasis filter */
    double *tp = esum + C, *yp = esum + 2 * C;
    for (int c = 0; c < C; c++)
        tp[c] = yp[c] = 0.0;
    for (size_t t0 = 0; t0 < q->n; t0 += EVAL_BLOCK) {
        size_t n = q->n - t0 < EVAL_BLOCK ? q->n - t0 : EVAL_BLOCK;
        rnnfx_instance_process_frames(inst, q->input + t0 * (size_t)in, ybuf, n);
        for (size_t i = 0; i < n; i++) {
            size_t t = t0 + i;
            for (int c = 0; c < C; c++) {
                double y = ybuf[i * (size_t)C + (size_t)c];
                double tg = q->target[t * (size_t)C + (size_t)c];
                if (t >= j->burn_in) {
                    double e = tg - y;
                    double ep = (tg - pa * tp[c]) - (y - pa * yp[c]);
                    double tpe = tg - pa * tp[c];
                    r->se += e * e;
                    r->tt += tg * tg;
                    r->se_pe += ep * ep;
                    r->tt_pe += tpe * tpe;
                    esum[c] += e;
                    if (a->output_sigmoid) {
                        double p = y < 1e-7 ? 1e-7 : (y > 1.0 - 1e-7 ? 1.0 - 1e-7 : y);
                        r->bce -= tg * log(p) + (1.0 - tg) * log(1.0 - p);
                    }
                }
                tp[c] = tg;
                yp[c] = y;
            }
            if (t >= j->burn_in)
                r->count++;
        }
    }
    if (r->count)
        for (int c = 0; c < C; c++) {
            double m = esum[c] / (double)r->count;
            r->dc_num += m * m;
        }
}

static void *eval_main(void *p)
{
    EvalArg *arg = p;
    EvalJob *j = arg->job;
    const RnnfxArch *a = rnnfx_model_arch(j->model);
    RnnfxInstance *inst = rnnfx_instance_new(j->model);
    float *ybuf = malloc(sizeof(float) * EVAL_BLOCK * (size_t)a->output_size);
    double *esum = malloc(sizeof(double) * 3 * (size_t)a->output_size);
    for (size_t s = (size_t)arg->w; s < j->set->n_seqs; s += (size_t)j->threads) {
        if (!inst || !ybuf || !esum) {
            j->sums[s].failed = 1;
            continue;
        }
        eval_seq(j, inst, ybuf, s, esum);
    }
    free(esum);
    free(ybuf);
    rnnfx_instance_free(inst);
    return NULL;
}

RnnfxStatus rnnfx_trainer_evaluate(const RnnfxModel *model, const RnnfxTrainSet *set,
                                   size_t burn_in, const RnnfxTrainConfig *cfg, int threads,
                                   RnnfxEvalResult *res, RnnfxError *err)
{
    if (!model || !set || !res || (set->n_seqs && !set->seqs))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "invalid arguments");
    memset(res, 0, sizeof *res);
    if (!rnnfx_model_is_finalized(model))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "the model is not finalized");
    for (size_t i = 0; i < set->n_seqs; i++)
        if (set->seqs[i].n && (!set->seqs[i].input || !set->seqs[i].target))
            return rnnfx_fail(err, RNNFX_ERR_ARG, "evaluation sequence %zu has no samples", i);
    if (threads < 1)
        threads = 1;
    if ((size_t)threads > set->n_seqs)
        threads = set->n_seqs ? (int)set->n_seqs : 1;
    EvalJob job = {model, set, burn_in, cfg && cfg->loss == RNNFX_LOSS_ESR ? cfg->preemph : 0.0,
                   threads, calloc(set->n_seqs ? set->n_seqs : 1, sizeof(SeqSums))};
    if (!job.sums)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for evaluation");
    pthread_t tids[256];
    EvalArg args[256];
    int started = 0;
    if (threads > 256)
        threads = job.threads = 256;
    for (int w = 1; w < threads; w++) {
        args[w] = (EvalArg){&job, w};
        if (pthread_create(&tids[w], NULL, eval_main, &args[w]) != 0)
            break;
        started = w;
    }
    /* shares of threads that could not start run here */
    for (int w = 0; w < threads; w++)
        if (w == 0 || w > started) {
            args[w] = (EvalArg){&job, w};
            eval_main(&args[w]);
        }
    for (int w = 1; w <= started; w++)
        pthread_join(tids[w], NULL);
    const RnnfxArch *a = rnnfx_model_arch(model);
    double se = 0, tt = 0, sep = 0, ttp = 0, bce = 0, dcn = 0;
    size_t count = 0, dcs = 0;
    for (size_t s = 0; s < set->n_seqs; s++) {
        const SeqSums *r = &job.sums[s];
        if (r->failed) {
            free(job.sums);
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for evaluation");
        }
        se += r->se, tt += r->tt, sep += r->se_pe, ttp += r->tt_pe, bce += r->bce;
        if (r->count) {
            dcn += r->dc_num;
            dcs++;
        }
        count += r->count;
    }
    free(job.sums);
    int C = a->output_size;
    res->samples = count;
    if (count == 0)
        return RNNFX_OK;
    res->esr = se / (tt + 1e-10);
    res->esr_preemph = sep / (ttp + 1e-10);
    res->mse = se / ((double)count * C);
    res->bce = a->output_sigmoid ? bce / (double)count : 0.0;
    RnnfxLossKind kind = cfg ? cfg->loss : RNNFX_LOSS_ESR;
    if (kind == RNNFX_LOSS_MSE) {
        res->loss = res->mse;
    } else if (kind == RNNFX_LOSS_BCE) {
        res->loss = res->bce;
    } else {
        double dc = (dcn / ((double)dcs * C)) / (tt / ((double)count * C) + 1e-10);
        res->loss = res->esr_preemph + (cfg ? cfg->dc_weight : 0.0f) * dc;
    }
    return RNNFX_OK;
}

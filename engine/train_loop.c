/*
 * train_loop.c — the trainer: segments, batches, TBPTT chunks, worker
 * threads, the learning-rate schedule, Adam steps and checkpoints.
 *
 * One batch:  B segments (rows) start from the model's initial state; the
 * burn-in is run forward only; then each chunk of tbptt samples is run
 * forward and backward, clipped by global norm, and Adam updates the
 * model's weights in place. The state is carried from chunk to chunk, the
 * gradient is not.
 *
 * Work is cut into fixed row groups (GROUP_ROWS segments each, by position
 * in the batch), each with its own buffers, carried state and gradient.
 * Threads take groups from a shared counter, so a thread slowed by other
 * programs does not hold the others up, and the group gradients are summed
 * in group order: the numbers depend on the seed and the data only, not on
 * the thread count or on which thread ran what.
 *
 * Threads: the caller's thread works too; threads−1 pthreads sleep on a
 * condition variable between jobs. Nothing is allocated per batch.
 *
 * This file is not the CLI: it does not read audio, align, normalise or keep
 * a best model.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fpmode.h"
#include "instance.h"
#include "model_file.h"
#include "train_impl.h"

typedef struct {
    const float *in;  /* segment start, [..][input_size] */
    const float *tgt; /* segment start, [..][output_size] */
} RowSrc;

typedef struct {
    size_t seq, start;
} Seg;

enum { JOB_RESET, JOB_FORWARD, JOB_TRAIN, JOB_QUIT };

struct RnnfxTrainer {
    RnnfxModel *model;
    RnnfxTrainConfig cfg;
    RnnfxTrainNet net;
    int nthreads;         /* threads taking part, including the caller's */
    int n_groups;         /* row groups: ceil(batch / GROUP_ROWS) */
    int group_rows;
    RnnfxTrainWork *work; /* [n_groups] */
    size_t Tcap;          /* longest chunk */
    float *grad, *m, *v;  /* [n_params] */
    RowSrc *rows;         /* [batch] */

    /* optimisation and schedule state (saved in checkpoints) */
    uint64_t step, epochs;
    uint64_t rng;        /* the generator's current state */
    uint64_t epoch_rng;  /* its state before the current epoch's plan was drawn */
    uint64_t epoch_pos;  /* next batch of the current epoch */
    int epoch_active;
    double progress;
    double best_val;
    int bad_vals;
    float lr_scale;

    /* the current epoch's plan (rebuilt from epoch_rng when needed) */
    Seg *plan;
    size_t plan_n, plan_cap;
    int plan_valid;
    const RnnfxTrainSet *plan_set;
    size_t plan_fp_n, plan_fp_len;

    atomic_int stop;

    /* the job all workers run */
    int job;
    int job_B;
    size_t job_t0, job_T;
    RnnfxLossNorm job_nrm;
    double *job_loss; /* [n_groups] */
    atomic_int next_group; /* the next group of the current job to take */
    pthread_t *tids;
    int n_tids;   /* helper threads running (nthreads − 1 unless some failed to start) */
    pthread_mutex_t mu;
    pthread_cond_t cv_go, cv_done;
    uint64_t gen; /* job generation: a worker runs each generation once */
    int pending;  /* workers still busy with the current generation */
    int sync_ok;
};

/* ---- config ------------------------------------------------------------------ */

void rnnfx_train_config_default(RnnfxTrainConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    /* Short segments with frequent updates: the field notes measured that an
     * update every few hundred samples with a decaying rate and clipping
     * learns much faster than one update per 0.5 s segment. */
    cfg->segment_len = 4096;
    cfg->burn_in = 512;
    cfg->tbptt = 512;
    cfg->batch = 32;
    cfg->lr = 5e-3f;
    cfg->lr_min = 1e-4f;
    cfg->schedule = RNNFX_LR_COSINE;
    cfg->total_steps = 0;
    cfg->plateau_patience = 3;
    cfg->plateau_factor = 0.5f;
    cfg->beta1 = 0.9f;
    cfg->beta2 = 0.999f;
    cfg->eps = 1e-8f;
    cfg->weight_decay = 0.0f;
    cfg->decoupled_wd = 1;
    cfg->clip = 1.0f;
    cfg->loss = RNNFX_LOSS_ESR;
    cfg->preemph = 0.0f;
    cfg->dc_weight = 0.0f;
    cfg->threads = 2;
    cfg->seed = 1;
}

static size_t chunk_cap(const RnnfxTrainConfig *cfg)
{
    size_t rest = cfg->segment_len - cfg->burn_in;
    return cfg->tbptt && cfg->tbptt < rest ? cfg->tbptt : rest;
}

RnnfxStatus rnnfx_train_config_check(const RnnfxTrainConfig *cfg, const RnnfxModel *model,
                                     RnnfxError *err)
{
    if (!cfg || !model)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no config or model");
    const RnnfxArch *a = rnnfx_model_arch(model);
    const RnnfxMeta *meta = rnnfx_model_meta_const(model);
    if (cfg->segment_len < 1 || cfg->segment_len > ((size_t)1 << 30))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "segment length %zu is out of range",
                          cfg->segment_len);
    if (cfg->burn_in >= cfg->segment_len)
        return rnnfx_fail(err, RNNFX_ERR_ARG,
                          "burn-in (%zu) must be shorter than the segment (%zu samples)",
                          cfg->burn_in, cfg->segment_len);
    if (cfg->batch < 1 || cfg->batch > 65536)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "batch size %d is out of range (1 to 65536)",
                          cfg->batch);
    if (cfg->threads < 1 || cfg->threads > 256)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "thread count %d is out of range (1 to 256)",
                          cfg->threads);
    if (!(cfg->lr > 0.0f) || !isfinite(cfg->lr) || !(cfg->lr_min >= 0.0f) || cfg->lr_min > cfg->lr)
        return rnnfx_fail(err, RNNFX_ERR_ARG,
                          "learning rate %g (minimum %g) is not valid: need 0 <= min <= lr, lr > 0",
                          (double)cfg->lr, (double)cfg->lr_min);
    if ((unsigned)cfg->schedule > RNNFX_LR_PLATEAU)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "unknown learning-rate schedule %d",
                          (int)cfg->schedule);
    if (cfg->schedule == RNNFX_LR_PLATEAU &&
        (cfg->plateau_patience < 1 || !(cfg->plateau_factor > 0.0f && cfg->plateau_factor < 1.0f)))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "plateau schedule needs patience >= 1 and 0 < factor < 1");
    if (!(cfg->beta1 >= 0.0f && cfg->beta1 < 1.0f) || !(cfg->beta2 >= 0.0f && cfg->beta2 < 1.0f) ||
        !(cfg->eps > 0.0f))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "Adam betas must be in [0,1) and eps > 0");
    if (!(cfg->weight_decay >= 0.0f) || !(cfg->clip >= 0.0f) || !isfinite(cfg->clip))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "weight decay and clip must be >= 0");
    if (!(cfg->preemph >= 0.0f && cfg->preemph < 1.0f) || !(cfg->dc_weight >= 0.0f))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "pre-emphasis must be in [0,1) and DC weight >= 0");
    if ((unsigned)cfg->loss > RNNFX_LOSS_BCE)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "unknown loss %d", (int)cfg->loss);
    if (cfg->loss == RNNFX_LOSS_BCE &&
        (!a->output_sigmoid || a->skip || meta->output_gain != 1.0f))
        return rnnfx_fail(err, RNNFX_ERR_ARG,
                          "the BCE loss needs a model with sigmoid outputs, no skip and output "
                          "gain 1");
    return RNNFX_OK;
}

/* ---- worker threads --------------------------------------------------------- */

/* Segments per row group. 8 rows keep a group's chunk caches small (a few
 * MB for hidden 32 and tbptt 512) while the matrix kernels still get whole
 * register tiles; a batch of 32 gives 4 groups to share between threads. */
#define GROUP_ROWS 8

static void rows_of(const RnnfxTrainer *tr, int g, int B, int *r0, int *r1)
{
    int a = g * tr->group_rows, b = a + tr->group_rows;
    *r0 = a < B ? a : B;
    *r1 = b < B ? b : B;
}

static void run_job_inner(RnnfxTrainer *tr, int w);

/* Row group w's part of the current job (on whichever thread took it). */
static void run_job(RnnfxTrainer *tr, int w)
{
    /* Each worker sets the mode the engine uses around process calls, so the
     * forward pass here is identical to the engine's (fpmode.h). */
    RnnfxFpMode fp = rnnfx_fp_enter();
    run_job_inner(tr, w);
    rnnfx_fp_leave(fp);
}

static void run_job_inner(RnnfxTrainer *tr, int w)
{
    const RnnfxTrainNet *net = &tr->net;
    RnnfxTrainWork *wk = &tr->work[w];
    int r0, r1;
    rows_of(tr, w, tr->job_B, &r0, &r1);
    int Bt = r1 - r0;
    tr->job_loss[w] = 0.0;
    if (tr->job == JOB_TRAIN)
        memset(wk->grad, 0, sizeof(float) * net->n_params);
    if (Bt <= 0)
        return;
    if (tr->job == JOB_RESET) {
        rnnfx_train_work_reset(wk, net, Bt);
        return;
    }
    size_t T = tr->job_T, t0 = tr->job_t0;
    int in = net->in, out = net->out;
    float g = net->in_gain;
    /* gather the chunk time-major: x0[t][b][:], tgt[t][b][:] */
    for (int b = 0; b < Bt; b++) {
        const RowSrc *rs = &tr->rows[r0 + b];
        for (size_t t = 0; t < T; t++) {
            const float *src = rs->in + (t0 + t) * (size_t)in;
            float *dst = wk->x0 + (t * (size_t)Bt + (size_t)b) * (size_t)in;
            dst[0] = src[0] * g;
            for (int i = 1; i < in; i++)
                dst[i] = src[i];
        }
        if (tr->job == JOB_TRAIN) {
            for (size_t t = 0; t < T; t++)
                memcpy(wk->tgt + (t * (size_t)Bt + (size_t)b) * (size_t)out,
                       rs->tgt + (t0 + t) * (size_t)out, sizeof(float) * (size_t)out);
            for (int o = 0; o < out; o++)
                wk->tprev[(size_t)b * out + o] = t0 > 0 ? rs->tgt[(t0 - 1) * (size_t)out + o] : 0.0f;
        }
    }
    rnnfx_train_forward_chunk(net, wk, Bt, T);
    if (tr->job == JOB_TRAIN) {
        tr->job_loss[w] = rnnfx_loss_chunk(&tr->cfg, &tr->job_nrm, net, wk, Bt, T);
        rnnfx_train_backward_chunk(net, wk, Bt, T, tr->cfg.loss == RNNFX_LOSS_BCE);
    }
    rnnfx_train_work_carry(net, wk, Bt, T);
}

/* Takes groups of the current job until none is left. */
static void run_groups(RnnfxTrainer *tr)
{
    for (;;) {
        int g = atomic_fetch_add(&tr->next_group, 1);
        if (g >= tr->n_groups)
            break;
        run_job(tr, g);
    }
}

typedef struct {
    RnnfxTrainer *tr;
    int w;
} ThreadArg;

static void *worker_main(void *p)
{
    ThreadArg *a = p;
    RnnfxTrainer *tr = a->tr;
    int w = a->w;
    free(a);
    uint64_t seen = 0;
    (void)w;
    for (;;) {
        pthread_mutex_lock(&tr->mu);
        while (tr->gen == seen)
            pthread_cond_wait(&tr->cv_go, &tr->mu);
        seen = tr->gen;
        int job = tr->job;
        pthread_mutex_unlock(&tr->mu);
        if (job == JOB_QUIT)
            break;
        run_groups(tr);
        pthread_mutex_lock(&tr->mu);
        if (--tr->pending == 0)
            pthread_cond_signal(&tr->cv_done);
        pthread_mutex_unlock(&tr->mu);
    }
    return NULL;
}

/* Runs the current job on all groups and waits for it. The caller's thread
 * takes groups too; the numbers do not depend on which thread ran a group. */
static void dispatch(RnnfxTrainer *tr)
{
    atomic_store(&tr->next_group, 0);
    if (tr->n_tids > 0) {
        pthread_mutex_lock(&tr->mu);
        tr->pending = tr->n_tids;
        tr->gen++;
        pthread_cond_broadcast(&tr->cv_go);
        pthread_mutex_unlock(&tr->mu);
    }
    run_groups(tr);
    if (tr->n_tids > 0) {
        pthread_mutex_lock(&tr->mu);
        while (tr->pending > 0)
            pthread_cond_wait(&tr->cv_done, &tr->mu);
        pthread_mutex_unlock(&tr->mu);
    }
}

/* ---- life cycle -------------------------------------------------------------- */

static void trainer_destroy(RnnfxTrainer *tr)
{
    if (tr->n_tids > 0) {
        pthread_mutex_lock(&tr->mu);
        tr->job = JOB_QUIT;
        tr->gen++;
        pthread_cond_broadcast(&tr->cv_go);
        pthread_mutex_unlock(&tr->mu);
        for (int i = 0; i < tr->n_tids; i++)
            pthread_join(tr->tids[i], NULL);
    }
    if (tr->sync_ok) {
        pthread_mutex_destroy(&tr->mu);
        pthread_cond_destroy(&tr->cv_go);
        pthread_cond_destroy(&tr->cv_done);
    }
    if (tr->work)
        for (int g = 0; g < tr->n_groups; g++)
            rnnfx_train_work_free(&tr->work[g]);
    free(tr->work);
    free(tr->tids);
    free(tr->job_loss);
    free(tr->grad);
    free(tr->m);
    free(tr->v);
    free(tr->rows);
    free(tr->plan);
    rnnfx_train_net_free(&tr->net);
    free(tr);
}

void rnnfx_trainer_free(RnnfxTrainer *tr)
{
    if (tr)
        trainer_destroy(tr);
}

/* Builds a trainer; spawn = 0 runs every worker's share on the caller's
 * thread (used by the single-batch test entry points). */
static RnnfxStatus trainer_create(RnnfxModel *model, const RnnfxTrainConfig *cfg, int spawn,
                                  RnnfxTrainer **out, RnnfxError *err)
{
    *out = NULL;
    RnnfxStatus st = rnnfx_train_config_check(cfg, model, err);
    if (st != RNNFX_OK)
        return st;
    RnnfxTrainer *tr = calloc(1, sizeof *tr);
    if (!tr)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for the trainer");
    tr->model = model;
    tr->cfg = *cfg;
    tr->lr_scale = 1.0f;
    tr->best_val = INFINITY;
    tr->rng = cfg->seed ^ 0x5DEECE66Dull;
    atomic_init(&tr->stop, 0);
    st = rnnfx_train_net_init(&tr->net, model, err);
    if (st != RNNFX_OK) {
        free(tr);
        return st;
    }
    int B = cfg->batch;
    tr->group_rows = B < GROUP_ROWS ? B : GROUP_ROWS;
    tr->n_groups = (B + tr->group_rows - 1) / tr->group_rows;
    tr->nthreads = cfg->threads > tr->n_groups ? tr->n_groups : cfg->threads;
    tr->Tcap = chunk_cap(cfg);
    atomic_init(&tr->next_group, 0);
    size_t n = tr->net.n_params;
    tr->work = calloc((size_t)tr->n_groups, sizeof *tr->work);
    tr->job_loss = calloc((size_t)tr->n_groups, sizeof *tr->job_loss);
    tr->grad = calloc(n ? n : 1, sizeof(float));
    tr->m = calloc(n ? n : 1, sizeof(float));
    tr->v = calloc(n ? n : 1, sizeof(float));
    tr->rows = calloc((size_t)B, sizeof *tr->rows);
    if (!tr->work || !tr->job_loss || !tr->grad || !tr->m || !tr->v || !tr->rows) {
        trainer_destroy(tr);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for the trainer");
    }
    int cap = tr->group_rows;
    if ((double)cap * (double)tr->Tcap > (double)(1 << 26)) {
        trainer_destroy(tr);
        return rnnfx_fail(err, RNNFX_ERR_LIMIT,
                          "a chunk of %zu samples is too long; set tbptt (an update every few "
                          "hundred samples)",
                          chunk_cap(cfg));
    }
    for (int w = 0; w < tr->n_groups; w++) {
        st = rnnfx_train_work_init(&tr->work[w], &tr->net, cap, tr->Tcap, err);
        if (st != RNNFX_OK) {
            trainer_destroy(tr);
            return st;
        }
    }
    if (spawn && tr->nthreads > 1) {
        tr->tids = calloc((size_t)tr->nthreads, sizeof *tr->tids);
        if (!tr->tids || pthread_mutex_init(&tr->mu, NULL) != 0) {
            trainer_destroy(tr);
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "cannot set up training threads");
        }
        if (pthread_cond_init(&tr->cv_go, NULL) != 0) {
            pthread_mutex_destroy(&tr->mu);
            trainer_destroy(tr);
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "cannot set up training threads");
        }
        if (pthread_cond_init(&tr->cv_done, NULL) != 0) {
            pthread_mutex_destroy(&tr->mu);
            pthread_cond_destroy(&tr->cv_go);
            trainer_destroy(tr);
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "cannot set up training threads");
        }
        tr->sync_ok = 1;
        /* a thread that cannot be started is not an error: its share runs on
         * the caller's thread (same numbers, less speed) */
        for (int w = 1; w < tr->nthreads; w++) {
            ThreadArg *a = malloc(sizeof *a);
            if (!a)
                break;
            a->tr = tr;
            a->w = w;
            if (pthread_create(&tr->tids[tr->n_tids], NULL, worker_main, a) != 0) {
                free(a);
                break;
            }
            tr->n_tids++;
        }
    }
    *out = tr;
    return RNNFX_OK;
}

RnnfxStatus rnnfx_trainer_new(RnnfxModel *model, const RnnfxTrainConfig *cfg, RnnfxTrainer **out,
                              RnnfxError *err)
{
    if (!out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out = NULL;
    if (!model || !cfg)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no model or config");
    return trainer_create(model, cfg, 1, out, err);
}

const RnnfxTrainConfig *rnnfx_trainer_config(const RnnfxTrainer *tr) { return &tr->cfg; }
RnnfxModel *rnnfx_trainer_model(RnnfxTrainer *tr) { return tr->model; }
void rnnfx_trainer_request_stop(RnnfxTrainer *tr)
{
    if (tr)
        atomic_store(&tr->stop, 1);
}
void rnnfx_trainer_clear_stop(RnnfxTrainer *tr) { atomic_store(&tr->stop, 0); }
uint64_t rnnfx_trainer_steps(const RnnfxTrainer *tr) { return tr->step; }
uint64_t rnnfx_trainer_epochs(const RnnfxTrainer *tr) { return tr->epochs; }

void rnnfx_trainer_set_progress(RnnfxTrainer *tr, double progress)
{
    tr->progress = progress < 0.0 ? 0.0 : (progress > 1.0 ? 1.0 : progress);
}

float rnnfx_trainer_lr(const RnnfxTrainer *tr)
{
    const RnnfxTrainConfig *c = &tr->cfg;
    double p = c->total_steps ? (double)tr->step / (double)c->total_steps : tr->progress;
    p = p > 1.0 ? 1.0 : p;
    switch (c->schedule) {
    case RNNFX_LR_CONSTANT: return c->lr;
    case RNNFX_LR_COSINE:
        return (float)(c->lr_min + (c->lr - c->lr_min) * 0.5 * (1.0 + cos(3.14159265358979 * p)));
    case RNNFX_LR_EXPONENTIAL:
        return c->lr_min > 0.0f ? (float)(c->lr * pow((double)c->lr_min / c->lr, p)) : c->lr;
    case RNNFX_LR_PLATEAU: {
        float lr = c->lr * tr->lr_scale;
        return lr < c->lr_min ? c->lr_min : lr;
    }
    }
    return c->lr;
}

int rnnfx_trainer_report_validation(RnnfxTrainer *tr, double val_loss)
{
    if (!(val_loss < tr->best_val)) {
        tr->bad_vals++;
        if (tr->cfg.schedule == RNNFX_LR_PLATEAU && tr->bad_vals >= tr->cfg.plateau_patience) {
            tr->lr_scale *= tr->cfg.plateau_factor;
            tr->bad_vals = 0;
        }
        return 0;
    }
    tr->best_val = val_loss;
    tr->bad_vals = 0;
    return 1;
}

/* ---- epochs --------------------------------------------------------------------- */

static size_t segs_in(const RnnfxTrainer *tr, const RnnfxTrainSet *set)
{
    size_t total = 0;
    for (size_t i = 0; i < set->n_seqs; i++)
        total += set->seqs[i].n / tr->cfg.segment_len;
    return total;
}

size_t rnnfx_trainer_batches_per_epoch(const RnnfxTrainer *tr, const RnnfxTrainSet *set)
{
    if (!tr || !set)
        return 0;
    size_t total = segs_in(tr, set);
    size_t B = (size_t)tr->cfg.batch;
    return total == 0 ? 0 : (total >= B ? total / B : 1);
}

static RnnfxStatus check_set(const RnnfxTrainSet *set, RnnfxError *err)
{
    if (!set || (set->n_seqs && !set->seqs))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no training set");
    for (size_t i = 0; i < set->n_seqs; i++)
        if (set->seqs[i].n && (!set->seqs[i].input || !set->seqs[i].target))
            return rnnfx_fail(err, RNNFX_ERR_ARG, "training sequence %zu has no samples", i);
    return RNNFX_OK;
}

/* Draws the epoch's segment offsets and order from the rng, starting from
 * epoch_rng; leaves tr->rng after the draws. */
static RnnfxStatus make_plan(RnnfxTrainer *tr, const RnnfxTrainSet *set, RnnfxError *err)
{
    size_t seg = tr->cfg.segment_len, total = segs_in(tr, set);
    if (total == 0)
        return rnnfx_fail(err, RNNFX_ERR_ARG,
                          "no training sequence is at least one segment (%zu samples) long", seg);
    if (total > tr->plan_cap) {
        Seg *p = realloc(tr->plan, total * sizeof *p);
        if (!p)
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for the epoch plan");
        tr->plan = p;
        tr->plan_cap = total;
    }
    uint64_t rng = tr->epoch_rng;
    size_t k = 0, len = 0;
    for (size_t i = 0; i < set->n_seqs; i++) {
        size_t n = set->seqs[i].n, cnt = n / seg;
        len += n;
        if (!cnt)
            continue;
        size_t slack = n - cnt * seg;
        /* a random phase per epoch so segment borders move */
        size_t off = slack ? (size_t)(train_rng_next(&rng) % (slack + 1)) : 0;
        for (size_t j = 0; j < cnt; j++)
            tr->plan[k++] = (Seg){i, off + j * seg};
    }
    for (size_t i = total; i > 1; i--) {
        size_t j = (size_t)(train_rng_next(&rng) % i);
        Seg t = tr->plan[i - 1];
        tr->plan[i - 1] = tr->plan[j];
        tr->plan[j] = t;
    }
    tr->plan_n = total;
    tr->rng = rng;
    tr->plan_valid = 1;
    tr->plan_set = set;
    tr->plan_fp_n = set->n_seqs;
    tr->plan_fp_len = len;
    return RNNFX_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sums the groups' gradients (in group order) into tr->grad. */
static void reduce_grads(RnnfxTrainer *tr)
{
    size_t n = tr->net.n_params;
    memcpy(tr->grad, tr->work[0].grad, n * sizeof(float));
    for (int w = 1; w < tr->n_groups; w++) {
        const float *g = tr->work[w].grad;
        for (size_t i = 0; i < n; i++)
            tr->grad[i] += g[i];
    }
}

/* Runs one batch of B rows (tr->rows filled). With update = 0 the gradients
 * of all chunks are summed into tr->grad (and *loss_sum) and no step is
 * taken. Returns the number of Adam steps taken. */
static uint64_t run_batch(RnnfxTrainer *tr, int B, int update, double *loss_sum,
                          double *last_norm, float *last_lr, int *stopped, uint64_t *samples,
                          uint64_t *skipped)
{
    const RnnfxTrainConfig *c = &tr->cfg;
    size_t seg = c->segment_len, n = tr->net.n_params;
    float *params = rnnfx_model_params(tr->model, NULL);
    uint64_t steps = 0;
    tr->job_B = B;
    tr->job = JOB_RESET;
    dispatch(tr);
    for (size_t t0 = 0; t0 < c->burn_in; t0 += tr->Tcap) {
        tr->job = JOB_FORWARD;
        tr->job_t0 = t0;
        tr->job_T = c->burn_in - t0 < tr->Tcap ? c->burn_in - t0 : tr->Tcap;
        dispatch(tr);
    }
    *samples += (uint64_t)B * c->burn_in;
    if (!update)
        memset(tr->grad, 0, n * sizeof(float));
    for (size_t t0 = c->burn_in; t0 < seg; t0 += tr->Tcap) {
        size_t T = seg - t0 < tr->Tcap ? seg - t0 : tr->Tcap;
        RnnfxLossNorm nrm = {0};
        for (int b = 0; b < B; b++)
            rnnfx_loss_norm_add(&nrm, c, tr->rows[b].tgt + t0 * (size_t)tr->net.out,
                                (size_t)tr->net.out, T, tr->net.out,
                                t0 > 0 ? tr->rows[b].tgt + (t0 - 1) * (size_t)tr->net.out : NULL);
        rnnfx_loss_norm_finish(&nrm, c, T, tr->net.out);
        tr->job = JOB_TRAIN;
        tr->job_t0 = t0;
        tr->job_T = T;
        tr->job_nrm = nrm;
        dispatch(tr);
        *samples += (uint64_t)B * T;
        double loss = 0.0;
        for (int w = 0; w < tr->n_groups; w++)
            loss += tr->job_loss[w];
        if (!update) {
            *loss_sum += loss;
            for (int w = 0; w < tr->n_groups; w++)
                for (size_t i = 0; i < n; i++)
                    tr->grad[i] += tr->work[w].grad[i];
            continue;
        }
        reduce_grads(tr);
        double norm = rnnfx_grad_norm(tr->grad, tr->net.trained, n);
        if (!isfinite(norm) || !isfinite(loss) || (!(c->clip > 0.0f) && norm > 1e18)) {
            /* a non-finite gradient would destroy the weights: the step is
             * skipped, and leaves the loss (which it would make NaN, and
             * the caller stop a run whose weights are intact) and Adam's
             * step count (its bias correction) alone. So is an unclipped
             * one beyond 1e18 (--clip 0): its squares overflow Adam's float
             * second moment to infinity, which froze the weight for good
             * (a clipped gradient is scaled before it is squared). */
            (*skipped)++;
            if (atomic_load(&tr->stop)) {
                *stopped = 1;
                break;
            }
            continue;
        }
        *loss_sum += loss;
        float gscale = 1.0f;
        if (c->clip > 0.0f && norm > c->clip)
            gscale = (float)(c->clip / norm);
        float lr = rnnfx_trainer_lr(tr);
        tr->step++;
        rnnfx_adam_step(params, tr->grad, tr->m, tr->v, tr->net.trained, n, tr->step, lr, gscale,
                        c);
        rnnfx_train_net_refresh(&tr->net);
        steps++;
        *last_norm = norm;
        *last_lr = lr;
        if (atomic_load(&tr->stop)) {
            *stopped = 1;
            break;
        }
    }
    return steps;
}

RnnfxStatus rnnfx_trainer_train(RnnfxTrainer *tr, const RnnfxTrainSet *set, size_t max_batches,
                                RnnfxTrainStats *stats, RnnfxError *err)
{
    RnnfxTrainStats st0;
    if (!stats)
        stats = &st0;
    memset(stats, 0, sizeof *stats);
    if (!tr)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no trainer");
    RnnfxStatus st = check_set(set, err);
    if (st != RNNFX_OK)
        return st;
    double t_start = now_s();
    const RnnfxTrainConfig *c = &tr->cfg;
    size_t len = 0;
    for (size_t i = 0; i < set->n_seqs; i++)
        len += set->seqs[i].n;
    if (tr->plan_set != set || tr->plan_fp_n != set->n_seqs || tr->plan_fp_len != len)
        tr->plan_valid = 0;
    double loss_sum = 0.0;
    size_t done = 0;
    while (max_batches == 0 || done < max_batches) {
        if (atomic_load(&tr->stop)) {
            stats->stopped = 1;
            break;
        }
        if (!tr->epoch_active) {
            tr->epoch_rng = tr->rng;
            tr->epoch_pos = 0;
            tr->epoch_active = 1;
            tr->plan_valid = 0;
        }
        if (!tr->plan_valid) {
            st = make_plan(tr, set, err);
            if (st != RNNFX_OK)
                return st;
        }
        size_t B = tr->plan_n < (size_t)c->batch ? tr->plan_n : (size_t)c->batch;
        size_t nb = tr->plan_n / B;
        if (tr->epoch_pos >= nb) {
            tr->epoch_active = 0;
            tr->epochs++;
            stats->epoch_done = 1;
            if (max_batches == 0)
                break;
            continue;
        }
        for (size_t b = 0; b < B; b++) {
            const Seg *sg = &tr->plan[tr->epoch_pos * B + b];
            const RnnfxTrainSeq *sq = &set->seqs[sg->seq];
            tr->rows[b].in = sq->input + sg->start * (size_t)tr->net.in;
            tr->rows[b].tgt = sq->target + sg->start * (size_t)tr->net.out;
        }
        int stopped = 0;
        double norm = 0.0;
        float lr = 0.0f;
        uint64_t k = run_batch(tr, (int)B, 1, &loss_sum, &norm, &lr, &stopped, &stats->samples,
                               &stats->skipped);
        stats->steps += k;
        if (k) {
            stats->grad_norm = norm;
            stats->lr = lr;
        }
        tr->epoch_pos++;
        done++;
        if (tr->epoch_pos >= nb) {
            tr->epoch_active = 0;
            tr->epochs++;
            stats->epoch_done = 1;
            if (max_batches == 0)
                break;
        }
        if (stopped) {
            stats->stopped = 1;
            break;
        }
    }
    stats->loss = stats->steps ? loss_sum / (double)stats->steps : 0.0;
    st = rnnfx_model_finalize(tr->model, err);
    stats->seconds = now_s() - t_start;
    if (st != RNNFX_OK) {
        rnnfx_error_prefix(err, "after training step %llu", (unsigned long long)tr->step);
        return st;
    }
    return RNNFX_OK;
}

/* ---- single-batch entry points (tests, tools) ---------------------------------- */

RnnfxStatus rnnfx_train_loss_grad(const RnnfxModel *model, const RnnfxTrainConfig *cfg,
                                  const float *in, const float *target, int B, size_t T,
                                  double *loss, float *grad, RnnfxError *err)
{
    if (!model || !cfg || !in || !target || B < 1 || T < 1 || !grad)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "invalid arguments");
    RnnfxTrainConfig c = *cfg;
    c.segment_len = T;
    c.batch = B;
    if (c.threads < 1)
        c.threads = 1;
    RnnfxTrainer *tr;
    /* the model is only read: the trainer writes weights only in steps */
    RnnfxStatus st = trainer_create((RnnfxModel *)model, &c, 0, &tr, err);
    if (st != RNNFX_OK)
        return st;
    const RnnfxArch *a = rnnfx_model_arch(model);
    for (int b = 0; b < B; b++) {
        tr->rows[b].in = in + (size_t)b * T * (size_t)a->input_size;
        tr->rows[b].tgt = target + (size_t)b * T * (size_t)a->output_size;
    }
    double ls = 0.0, norm = 0.0;
    float lr = 0.0f;
    int stopped = 0;
    uint64_t samples = 0, skipped = 0;
    run_batch(tr, B, 0, &ls, &norm, &lr, &stopped, &samples, &skipped);
    memcpy(grad, tr->grad, tr->net.n_params * sizeof(float));
    if (loss)
        *loss = ls;
    rnnfx_trainer_free(tr);
    return RNNFX_OK;
}

RnnfxStatus rnnfx_train_forward(const RnnfxModel *model, const float *in, int B, size_t T,
                                float *out, RnnfxError *err)
{
    if (!model || !in || !out || B < 1 || T < 1)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "invalid arguments");
    RnnfxTrainConfig c;
    rnnfx_train_config_default(&c);
    c.segment_len = T;
    c.burn_in = 0;
    c.tbptt = 0;
    c.batch = B;
    c.threads = 1;
    RnnfxTrainer *tr;
    RnnfxStatus st = trainer_create((RnnfxModel *)model, &c, 0, &tr, err);
    if (st != RNNFX_OK)
        return st;
    const RnnfxArch *a = rnnfx_model_arch(model);
    int O = a->output_size;
    for (int b = 0; b < B; b++)
        tr->rows[b].in = in + (size_t)b * T * (size_t)a->input_size;
    tr->job_B = B;
    tr->job = JOB_RESET;
    dispatch(tr);
    for (size_t t0 = 0; t0 < T; t0 += tr->Tcap) {
        size_t n = T - t0 < tr->Tcap ? T - t0 : tr->Tcap;
        tr->job = JOB_FORWARD;
        tr->job_t0 = t0;
        tr->job_T = n;
        dispatch(tr);
        /* each group's y [n][rows][O] still holds the chunk (the carry only
         * copies its last step) */
        for (int g = 0; g < tr->n_groups; g++) {
            int r0, r1;
            rows_of(tr, g, B, &r0, &r1);
            size_t Bt = (size_t)(r1 - r0);
            for (size_t t = 0; t < n; t++)
                for (size_t b = 0; b < Bt; b++)
                    memcpy(out + (((size_t)r0 + b) * T + t0 + t) * (size_t)O,
                           tr->work[g].y + (t * Bt + b) * (size_t)O, sizeof(float) * (size_t)O);
        }
    }
    rnnfx_trainer_free(tr);
    return RNNFX_OK;
}

/* ---- checkpoints ---------------------------------------------------------------- */

#define CKPT_MAGIC "RNNFXCK1"

/* A text fingerprint of everything the saved numbers depend on. */
static void fingerprint(const RnnfxTrainer *tr, char *buf, size_t len)
{
    const RnnfxArch *a = rnnfx_model_arch(tr->model);
    int n = snprintf(buf, len, "in%d out%d skip%d sig%d B%d seg%zu T%zu P%zu", a->input_size,
                     a->output_size, a->skip, a->output_sigmoid, tr->cfg.batch,
                     tr->cfg.segment_len, tr->Tcap, tr->net.n_params);
    for (int l = 0; l < a->n_layers && n > 0 && (size_t)n < len; l++)
        n += snprintf(buf + n, len - (size_t)n, " %s%d%s%s", rnnfx_cell_name(a->layers[l].cell),
                      a->layers[l].hidden_size, a->layers[l].peephole ? "p" : "",
                      a->layers[l].relu ? "r" : "");
}

typedef struct {
    char *p;
    size_t n, cap;
    int fail;
} Buf;

static void put(Buf *b, const void *d, size_t n)
{
    if (b->fail)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->fail = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

typedef struct {
    uint64_t step, epochs, rng, epoch_rng, epoch_pos;
    int64_t epoch_active, bad_vals;
    double progress, best_val, lr_scale;
} CkptState;

RnnfxStatus rnnfx_trainer_save_checkpoint(const RnnfxTrainer *tr, const char *path,
                                          const char *extra, RnnfxError *err)
{
    if (!tr || !path)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no trainer or path");
    char fp[512];
    fingerprint(tr, fp, sizeof fp);
    uint32_t fplen = (uint32_t)strlen(fp);
    uint64_t n = tr->net.n_params;
    CkptState s = {tr->step,         tr->epochs,       tr->rng,          tr->epoch_rng,
                   tr->epoch_pos,    tr->epoch_active, tr->bad_vals,     tr->progress,
                   tr->best_val,     tr->lr_scale};
    uint64_t xlen = extra ? strlen(extra) : 0;
    Buf b = {0};
    put(&b, CKPT_MAGIC, 8);
    put(&b, &fplen, sizeof fplen);
    put(&b, fp, fplen);
    put(&b, &n, sizeof n);
    put(&b, &s, sizeof s);
    put(&b, rnnfx_model_params_const(tr->model, NULL), n * sizeof(float));
    put(&b, tr->m, n * sizeof(float));
    put(&b, tr->v, n * sizeof(float));
    put(&b, &xlen, sizeof xlen);
    if (xlen)
        put(&b, extra, xlen);
    uint64_t h = b.fail ? 0 : fnv1a(b.p, b.n);
    put(&b, &h, sizeof h);
    if (b.fail) {
        free(b.p);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory writing the checkpoint");
    }
    RnnfxStatus st = rnnfx_write_file_atomic(path, b.p, b.n, err);
    free(b.p);
    return st;
}

/* A refused file (damaged, cut short, another model, or values this trainer
 * never writes: a state out of range, Adam moments no run produces,
 * non-finite numbers) leaves the trainer as it was, with a message naming
 * the problem. */
RnnfxStatus rnnfx_trainer_load_checkpoint(RnnfxTrainer *tr, const char *path, char **extra,
                                          RnnfxError *err)
{
    if (extra)
        *extra = NULL;
    if (!tr || !path)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no trainer or path");
    char *data = NULL;
    size_t len = 0;
    RnnfxStatus st = rnnfx_read_file(path, (size_t)1 << 31, &data, &len, err);
    if (st != RNNFX_OK)
        return st;
    char fp[512];
    fingerprint(tr, fp, sizeof fp);
    uint64_t n = tr->net.n_params, xlen = 0, h;
    uint32_t fplen = 0;
    CkptState s;
    size_t pos = 0;
#define TAKE(dst, cnt)                                                                         \
    do {                                                                                       \
        if (len - pos < (cnt))                                                                 \
            goto truncated;                                                                    \
        memcpy((dst), data + pos, (cnt));                                                      \
        pos += (cnt);                                                                          \
    } while (0)
    if (len < 8 + sizeof h || memcmp(data, CKPT_MAGIC, 8) != 0) {
        free(data);
        return rnnfx_fail(err, RNNFX_ERR_FORMAT, "%s is not an rnnfx training checkpoint", path);
    }
    memcpy(&h, data + len - sizeof h, sizeof h);
    if (h != fnv1a(data, len - sizeof h)) {
        free(data);
        return rnnfx_fail(err, RNNFX_ERR_PARSE,
                          "%s is damaged (checksum mismatch); start a new run or use another "
                          "checkpoint",
                          path);
    }
    len -= sizeof h;
    pos = 8;
    TAKE(&fplen, sizeof fplen);
    if (fplen != strlen(fp) || len - pos < fplen || memcmp(data + pos, fp, fplen) != 0) {
        char saved[512];
        size_t k = fplen < sizeof saved - 1 ? fplen : sizeof saved - 1;
        if (len - pos < k)
            k = len - pos;
        memcpy(saved, data + pos, k);
        saved[k] = '\0';
        /* a damaged length reads into the binary part: the message shows
         * text only */
        for (size_t i = 0; i < k; i++)
            if (saved[i] < 0x20 || saved[i] > 0x7e)
                saved[i] = '?';
        free(data);
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "%s was saved for a different model or settings (%s), not (%s)", path,
                          saved, fp);
    }
    pos += fplen;
    uint64_t nf;
    TAKE(&nf, sizeof nf);
    if (nf != n)
        goto truncated;
    TAKE(&s, sizeof s);
    /* The checksum only tells a damaged file from an intact one; a file
     * written by something else (or edited and re-summed) can hold a state
     * this trainer never produces, and training on from it would go wrong
     * silently: a NaN or >1 rate scale or progress gives a NaN or too high
     * learning rate, a bad_vals near INT_MAX overflows at the next
     * validation, a step near 2^64 wraps to 0 and divides Adam's bias
     * correction by zero, and a lr_scale beyond FLT_MAX makes the float
     * cast below undefined. Such values are refused, by name. */
    const char *bad_field = NULL;
    if (s.step > ((uint64_t)1 << 53) || s.epochs > ((uint64_t)1 << 53))
        bad_field = "step or epoch count beyond 2^53";
    else if (s.epoch_active != 0 && s.epoch_active != 1)
        bad_field = "epoch flag not 0 or 1";
    else if (s.bad_vals < 0 || s.bad_vals > INT_MAX / 2)
        bad_field = "count of validations without improvement out of range";
    else if (!(s.progress >= 0.0 && s.progress <= 1.0))
        bad_field = "schedule progress outside [0, 1]";
    else if (isnan(s.best_val))
        bad_field = "best validation loss not a number";
    else if (!(s.lr_scale >= 0.0 && s.lr_scale <= 1.0))
        bad_field = "plateau rate scale outside [0, 1]";
    if (bad_field) {
        free(data);
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s holds an impossible trainer state (%s)",
                          path, bad_field);
    }
    /* Everything is checked before anything is replaced, so a refused file
     * leaves the trainer as it was: the weights and both Adam moments, then
     * the caller text, which must end the file exactly (bytes after it would
     * be a file this writer did not make). */
    if (len - pos < 3 * n * sizeof(float) + sizeof xlen)
        goto truncated;
    memcpy(&xlen, data + pos + 3 * n * sizeof(float), sizeof xlen);
    if (xlen != len - pos - 3 * n * sizeof(float) - sizeof xlen)
        goto truncated;
    const char *w = data + pos, *wm = w + n * sizeof(float), *wv = wm + n * sizeof(float);
    /* Adam's moments follow m = (1-b1) sum b1^k g, v = (1-b2) sum b2^k g^2,
     * so v >= 0 and (Cauchy-Schwarz) m^2 <= K v with
     * K = (1-b1)^2 / ((1-b2)(1 - b1^2/b2)) when b1^2 < b2. A larger m makes
     * the first step m / (sqrt(v) + eps) huge and the weights infinite; the
     * bound is kept with a factor 4 and a floor for float rounding (a
     * gradient whose square underflows still moves m). */
    double b1 = tr->cfg.beta1, b2 = tr->cfg.beta2;
    double kmv = b1 * b1 < b2 ? 4.0 * (1.0 - b1) * (1.0 - b1) / ((1.0 - b2) * (1.0 - b1 * b1 / b2))
                              : INFINITY;
    for (uint64_t i = 0; i < n; i++) {
        float p, m, v;
        memcpy(&p, w + i * sizeof p, sizeof p);
        memcpy(&m, wm + i * sizeof m, sizeof m);
        memcpy(&v, wv + i * sizeof v, sizeof v);
        if (!isfinite(p) || !isfinite(m) || !isfinite(v)) {
            free(data);
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s holds non-finite values", path);
        }
        if (v < 0.0f || (double)m * m > kmv * v + 1e-20) {
            free(data);
            return rnnfx_fail(err, RNNFX_ERR_INVALID,
                              "%s holds optimizer moments Adam cannot produce (entry %llu: "
                              "m %g, v %g)",
                              path, (unsigned long long)i, (double)m, (double)v);
        }
    }
    char *text = NULL;
    if (extra && xlen) {
        text = malloc(xlen + 1);
        if (!text) {
            free(data);
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory reading %s", path);
        }
        memcpy(text, data + pos + 3 * n * sizeof(float) + sizeof xlen, xlen);
        text[xlen] = '\0';
    }
    float *params = rnnfx_model_params(tr->model, NULL);
    TAKE(params, n * sizeof(float));
    TAKE(tr->m, n * sizeof(float));
    TAKE(tr->v, n * sizeof(float));
    if (extra)
        *extra = text;
#undef TAKE
    free(data);
    tr->step = s.step;
    tr->epochs = s.epochs;
    tr->rng = s.rng;
    tr->epoch_rng = s.epoch_rng;
    tr->epoch_pos = s.epoch_pos;
    tr->epoch_active = (int)s.epoch_active;
    tr->bad_vals = (int)s.bad_vals;
    tr->progress = s.progress;
    tr->best_val = s.best_val;
    tr->lr_scale = (float)s.lr_scale;
    tr->plan_valid = 0;
    tr->plan_set = NULL;
    rnnfx_train_net_refresh(&tr->net);
    return rnnfx_model_finalize(tr->model, err);
truncated:
    free(data);
    return rnnfx_fail(err, RNNFX_ERR_PARSE, "%s is truncated or damaged", path);
}

/*
 * test_grad.c — the trainer's passes checked three ways:
 *
 *  1. its forward pass equals the engine's reference path (instance,
 *     process_frames) to 1e-5, for every layer type and each kernel table;
 *  2. its backward pass equals finite differences of its own loss, tensor by
 *     tensor (a random direction per tensor, central differences), for every
 *     layer, the output stage and each loss — with no burn-in and a single
 *     chunk, where the TBPTT gradient is the full gradient;
 *  3. loss and gradients of one batch with burn-in and truncation equal
 *     PyTorch autograd on the same weights and data (tests/data/grads,
 *     written by tests/gen_torch_grads.py);
 *  4. a batch trained for real (clipping, Adam/AdamW steps between chunks)
 *     ends with the weights torch.optim gives.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enginetest.h"
#include "instance.h"
#include "model.h"
#include "model_file.h"
#include "train.h"

typedef struct {
    const char *name;
    int in, out, skip, sigmoid, n_layers;
    struct {
        RnnfxCell cell;
        int hidden, peephole, relu;
    } layers[3];
    float in_gain, out_gain;
    int init_state;
    RnnfxLossKind loss;
    float preemph, dc_weight;
} Case;

static const Case cases[] = {
    {"lstm", 1, 1, 0, 0, 1, {{RNNFX_CELL_LSTM, 8, 0, 0}}, 1, 1, 0, RNNFX_LOSS_ESR, 0, 0},
    {"lstm-peephole", 1, 1, 0, 0, 1, {{RNNFX_CELL_LSTM, 7, 1, 0}}, 1, 1, 1, RNNFX_LOSS_ESR, 0, 0},
    {"gru", 1, 1, 0, 0, 1, {{RNNFX_CELL_GRU, 9, 0, 0}}, 1, 1, 1, RNNFX_LOSS_ESR, 0, 0},
    {"rnn-tanh", 1, 1, 0, 0, 1, {{RNNFX_CELL_RNN, 6, 0, 0}}, 1, 1, 0, RNNFX_LOSS_MSE, 0, 0},
    {"rnn-relu", 1, 1, 0, 0, 1, {{RNNFX_CELL_RNN, 6, 0, 1}}, 1, 1, 0, RNNFX_LOSS_MSE, 0, 0},
    {"skip-gains-esr-preemph-dc", 1, 1, 1, 0, 1, {{RNNFX_CELL_GRU, 5, 0, 0}}, 1.7f, 0.6f, 0,
     RNNFX_LOSS_ESR, 0.85f, 0.25f},
    {"stacked-lstm-gru", 1, 1, 0, 0, 2, {{RNNFX_CELL_LSTM, 6, 0, 0}, {RNNFX_CELL_GRU, 5, 0, 0}}, 1,
     1, 0, RNNFX_LOSS_ESR, 0.5f, 0.1f},
    {"input3-output2", 3, 2, 1, 0, 1, {{RNNFX_CELL_LSTM, 5, 1, 0}}, 1.3f, 1, 0, RNNFX_LOSS_ESR,
     0.85f, 0.5f},
    {"sigmoid-mse", 4, 3, 0, 1, 1, {{RNNFX_CELL_GRU, 6, 0, 0}}, 1, 1, 0, RNNFX_LOSS_MSE, 0, 0},
    {"sigmoid-bce", 4, 3, 0, 1, 2, {{RNNFX_CELL_RNN, 5, 0, 0}, {RNNFX_CELL_LSTM, 6, 0, 0}}, 1, 1,
     0, RNNFX_LOSS_BCE, 0, 0},
    /* sizes that cross the kernels' vector and tile boundaries */
    {"odd-sizes", 3, 5, 1, 0, 3,
     {{RNNFX_CELL_GRU, 33, 0, 0}, {RNNFX_CELL_RNN, 40, 0, 0}, {RNNFX_CELL_LSTM, 1, 1, 0}}, 1, 1, 0,
     RNNFX_LOSS_ESR, 0.3f, 0.2f},
    {"lstm-h17-gru-h3", 2, 1, 0, 0, 2, {{RNNFX_CELL_LSTM, 17, 0, 0}, {RNNFX_CELL_GRU, 3, 0, 0}}, 1,
     1, 1, RNNFX_LOSS_MSE, 0, 0},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static RnnfxModel *build(const Case *c, uint64_t seed)
{
    RnnfxArch a;
    memset(&a, 0, sizeof a);
    a.kind = c->sigmoid ? RNNFX_KIND_MIDI_FRAMES : RNNFX_KIND_AUDIO;
    a.input_size = c->in;
    a.output_size = c->out;
    a.skip = c->skip;
    a.output_sigmoid = c->sigmoid;
    a.n_layers = c->n_layers;
    for (int l = 0; l < c->n_layers; l++) {
        a.layers[l].cell = c->layers[l].cell;
        a.layers[l].hidden_size = c->layers[l].hidden;
        a.layers[l].peephole = c->layers[l].peephole;
        a.layers[l].relu = c->layers[l].relu;
    }
    if (a.kind == RNNFX_KIND_AUDIO) {
        a.n_params = c->in - 1;
        for (int k = 0; k < a.n_params; k++) {
            snprintf(a.params[k].name, sizeof a.params[k].name, "knob%d", k);
            a.params[k].min = -1.0f;
            a.params[k].max = 1.0f;
        }
    }
    RnnfxModel *m = rnnfx_test_random_model(&a, seed, 1.0f, c->init_state);
    if (!m)
        return NULL;
    RnnfxMeta *meta = rnnfx_model_meta(m);
    meta->input_gain = c->in_gain;
    meta->output_gain = c->out_gain;
    if (a.kind == RNNFX_KIND_MIDI_FRAMES) {
        meta->midi.steps_per_quarter = 4;
        meta->midi.low_key = 60;
        meta->midi.n_keys = c->out;
        meta->midi.n_beat_features = c->in - c->out;
    }
    RnnfxError err;
    if (rnnfx_model_finalize(m, &err) != RNNFX_OK) {
        rnnfx_model_free(m);
        return NULL;
    }
    return m;
}

static void fill(float *x, size_t n, RnnfxTestRng *r, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * rnnfx_test_rng_uniform(r));
}

/* Inputs like the real ones: audio in channel 0, knob values held constant. */
static void make_data(const Case *c, int B, size_t T, float *in, float *tg, uint64_t seed)
{
    RnnfxTestRng r;
    rnnfx_test_rng_seed(&r, seed);
    for (int b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++) {
            float *x = in + ((size_t)b * T + t) * (size_t)c->in;
            fill(x, (size_t)c->in, &r, -1.0, 1.0);
        }
    for (size_t i = 0; i < (size_t)B * T * (size_t)c->out; i++) {
        double u = rnnfx_test_rng_uniform(&r);
        tg[i] = c->sigmoid ? (u < 0.3 ? 1.0f : 0.0f) : (float)(0.8 * (2.0 * u - 1.0));
    }
}

/* ---- 1: forward equals the engine ----------------------------------------- */

static void check_forward(const Case *c)
{
    const int B = 3;
    const size_t T = 700; /* longer than a few internal blocks */
    RnnfxModel *m = build(c, 11);
    assert_non_null(m);
    float *in = malloc(sizeof(float) * B * T * c->in), *tg = malloc(sizeof(float) * B * T * c->out);
    float *y = malloc(sizeof(float) * B * T * c->out), *ref = malloc(sizeof(float) * T * c->out);
    assert_non_null(in && tg && y && ref);
    make_data(c, B, T, in, tg, 5);
    RnnfxError err;
    assert_int_equal(rnnfx_train_forward(m, in, B, T, y, &err), RNNFX_OK);
    RnnfxInstance *inst = rnnfx_instance_new(m);
    assert_non_null(inst);
    rnnfx_instance_set_path(inst, RNNFX_PATH_REFERENCE);
    double worst = 0.0;
    for (int b = 0; b < B; b++) {
        rnnfx_instance_reset(inst);
        rnnfx_instance_process_frames(inst, in + (size_t)b * T * c->in, ref, T);
        double d = rnnfx_test_max_abs_diff(y + (size_t)b * T * c->out, ref, T * c->out);
        if (d > worst)
            worst = d;
    }
    if (!(worst <= 1e-5))
        fail_msg("%s: trainer forward differs from the engine by %g", c->name, worst);
    rnnfx_instance_free(inst);
    rnnfx_model_free(m);
    free(in), free(tg), free(y), free(ref);
}

static const char *const tables[] = {"generic", "avx2", "avx512"};

static void test_forward_matches_engine(void **state)
{
    (void)state;
    for (size_t k = 0; k < 3; k++) {
        setenv("RNNFX_TRAIN_KERNELS", tables[k], 1);
        for (size_t i = 0; i < N_CASES; i++)
            check_forward(&cases[i]);
    }
    unsetenv("RNNFX_TRAIN_KERNELS");
}

/* ---- 2: backward equals finite differences --------------------------------- */

static double loss_at(const RnnfxModel *m, const RnnfxTrainConfig *cfg, const float *in,
                      const float *tg, int B, size_t T, float *scratch)
{
    double L = 0.0;
    RnnfxError err;
    assert_int_equal(rnnfx_train_loss_grad(m, cfg, in, tg, B, T, &L, scratch, &err), RNNFX_OK);
    return L;
}

static void check_grads(const Case *c, int threads)
{
    const int B = 4;
    const size_t T = 24;
    RnnfxModel *m = build(c, 23);
    assert_non_null(m);
    size_t P;
    float *params = rnnfx_model_params(m, &P);
    float *in = malloc(sizeof(float) * B * T * c->in), *tg = malloc(sizeof(float) * B * T * c->out);
    float *g = malloc(sizeof(float) * P), *scratch = malloc(sizeof(float) * P);
    double *dir = malloc(sizeof(double) * P);
    assert_non_null(in && tg && g && scratch && dir);
    make_data(c, B, T, in, tg, 9);
    RnnfxTrainConfig cfg;
    rnnfx_train_config_default(&cfg);
    cfg.burn_in = 0; /* full gradient: no forward-only part, one chunk */
    cfg.tbptt = 0;
    cfg.loss = c->loss;
    cfg.preemph = c->preemph;
    cfg.dc_weight = c->dc_weight;
    cfg.threads = threads;
    double L0 = loss_at(m, &cfg, in, tg, B, T, g);
    assert_true(isfinite(L0) && L0 > 0.0);
    RnnfxTestRng r;
    rnnfx_test_rng_seed(&r, 77);
    const RnnfxArch *a = rnnfx_model_arch(m);
    for (int l = -1; l < a->n_layers; l++)
        for (int t = 0; t < RNNFX_T_COUNT; t++) {
            int rows, cols;
            float *p = rnnfx_model_tensor(m, l, (RnnfxTensor)t, &rows, &cols);
            if (!p)
                continue;
            size_t n = (size_t)rows * (size_t)cols, off = (size_t)(p - params);
            if (t == RNNFX_T_INITIAL_H || t == RNNFX_T_INITIAL_C) {
                for (size_t i = 0; i < n; i++)
                    assert_true(g[off + i] == 0.0f); /* not trained */
                continue;
            }
            /* a random unit direction within this tensor */
            double nn = 0.0, an = 0.0;
            for (size_t i = 0; i < n; i++) {
                dir[i] = 2.0 * rnnfx_test_rng_uniform(&r) - 1.0;
                nn += dir[i] * dir[i];
            }
            nn = sqrt(nn);
            for (size_t i = 0; i < n; i++) {
                dir[i] /= nn;
                an += dir[i] * g[off + i];
            }
            const double eps = 2e-3;
            float *save = malloc(sizeof(float) * n);
            assert_non_null(save);
            memcpy(save, p, sizeof(float) * n);
            for (size_t i = 0; i < n; i++)
                p[i] = (float)(save[i] + eps * dir[i]);
            double Lp = loss_at(m, &cfg, in, tg, B, T, scratch);
            for (size_t i = 0; i < n; i++)
                p[i] = (float)(save[i] - eps * dir[i]);
            double Lm = loss_at(m, &cfg, in, tg, B, T, scratch);
            memcpy(p, save, sizeof(float) * n);
            free(save);
            double fd = (Lp - Lm) / (2.0 * eps);
            double tol = 1e-2 * fmax(fabs(fd), fabs(an)) + 2e-5 * fmax(1.0, L0);
            if (!(fabs(fd - an) <= tol))
                fail_msg("%s (threads %d): layer %d tensor %d: backward %.8g, finite "
                         "differences %.8g",
                         c->name, threads, l, t, an, fd);
        }
    rnnfx_model_free(m);
    free(in), free(tg), free(g), free(scratch), free(dir);
}

static void test_grad_finite_differences(void **state)
{
    (void)state;
    /* every kernel table this CPU can run (others fall back to the best one) */
    for (size_t k = 0; k < 3; k++) {
        setenv("RNNFX_TRAIN_KERNELS", tables[k], 1);
        for (size_t i = 0; i < N_CASES; i++)
            check_grads(&cases[i], 1);
        /* the split across workers must not change the gradient beyond rounding */
        check_grads(&cases[0], 3);
        check_grads(&cases[7], 2);
    }
    unsetenv("RNNFX_TRAIN_KERNELS");
}

/* ---- 3: PyTorch autograd ------------------------------------------------------ */

/* tests/data/grads/<name><suffix> as count floats (NULL if it is not that). */
static float *case_f32(const char *dir, const char *name, const char *suffix, size_t count)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
    return rnnfx_test_read_f32(path, count);
}

/* Opens tests/data/grads/<list> (dir gets the folder); fails the test with a
 * hint when the generated data is missing. */
static FILE *open_grads_list(char *dir, size_t dir_len, const char *list)
{
    char path[1024];
    rnnfx_test_path(dir, dir_len, "tests/data/grads");
    snprintf(path, sizeof path, "%s/%s", dir, list);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("missing %s (run tests/gen_torch_grads.py)", path);
    return f;
}

/* tests/data/grads/<name>.json: model (rnnfx format), and .f32 files with the
 * inputs [B][T][in], targets [B][T][out] and expected gradient in
 * rnnfx_model_params order; manifest.txt lines:
 *   name B T burn_in tbptt loss preemph dc_weight expected_loss */
static void test_grad_matches_torch(void **state)
{
    (void)state;
    char dir[512], path[1024];
    FILE *f = open_grads_list(dir, sizeof dir, "manifest.txt");
    char line[512];
    int ncases = 0;
    for (size_t kt = 0; kt < 3; kt++) {
    setenv("RNNFX_TRAIN_KERNELS", tables[kt], 1);
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char name[96], loss[16];
        int B;
        size_t T, burn, tb;
        double pre, dcw, Lref;
        if (sscanf(line, "%95s %d %zu %zu %zu %15s %lf %lf %lf", name, &B, &T, &burn, &tb, loss,
                   &pre, &dcw, &Lref) != 9)
            fail_msg("bad manifest line: %s", line);
        snprintf(path, sizeof path, "%s/%s.json", dir, name);
        RnnfxModel *m = NULL;
        RnnfxError err;
        if (rnnfx_model_load(path, NULL, &m, &err) != RNNFX_OK)
            fail_msg("%s: %s", path, err.msg);
        const RnnfxArch *a = rnnfx_model_arch(m);
        size_t P;
        rnnfx_model_params(m, &P);
        float *in = case_f32(dir, name, ".in.f32", (size_t)B * T * a->input_size);
        float *tg = case_f32(dir, name, ".target.f32", (size_t)B * T * a->output_size);
        float *gref = case_f32(dir, name, ".grad.f32", P);
        assert_non_null(in);
        assert_non_null(tg);
        assert_non_null(gref);
        RnnfxTrainConfig cfg;
        rnnfx_train_config_default(&cfg);
        cfg.burn_in = burn;
        cfg.tbptt = tb;
        cfg.loss = strcmp(loss, "esr") == 0   ? RNNFX_LOSS_ESR
                   : strcmp(loss, "mse") == 0 ? RNNFX_LOSS_MSE
                                              : RNNFX_LOSS_BCE;
        cfg.preemph = (float)pre;
        cfg.dc_weight = (float)dcw;
        cfg.threads = 2;
        float *g = malloc(sizeof(float) * P);
        assert_non_null(g);
        double L = 0.0;
        assert_int_equal(rnnfx_train_loss_grad(m, &cfg, in, tg, B, T, &L, g, &err), RNNFX_OK);
        if (!(fabs(L - Lref) <= 1e-4 * fabs(Lref) + 1e-7))
            fail_msg("%s (%s): loss %.9g, PyTorch %.9g", name, tables[kt], L, Lref);
        double gmax = 0.0;
        for (size_t i = 0; i < P; i++)
            gmax = fmax(gmax, fabs(gref[i]));
        for (size_t i = 0; i < P; i++)
            if (!(fabs(g[i] - gref[i]) <= 1e-3 * fabs(gref[i]) + 1e-5 * gmax))
                fail_msg("%s (%s): gradient[%zu] = %.9g, PyTorch %.9g (largest %.3g)", name,
                         tables[kt], i, (double)g[i], (double)gref[i], gmax);
        free(g), free(in), free(tg), free(gref);
        rnnfx_model_free(m);
        ncases++;
    }
    }
    unsetenv("RNNFX_TRAIN_KERNELS");
    fclose(f);
    assert_true(ncases >= 6);
}

/* ---- 4: whole optimiser steps against PyTorch -------------------------------------
 * tests/data/grads/steps.txt: one batch trained for real (Adam or AdamW step
 * after each chunk, global-norm clipping), weights compared afterwards. The
 * batch's B windows become B sequences of exactly one segment each, so the
 * trainer's batch holds the same rows (in its own shuffled order). */
static void test_optimizer_matches_torch(void **state)
{
    (void)state;
    char dir[512], path[1024];
    FILE *f = open_grads_list(dir, sizeof dir, "steps.txt");
    char line[512];
    int ncases = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char name[96], loss[16];
        int B, decoupled;
        size_t T, burn, tb;
        double pre, dcw, lr, wd, clip;
        if (sscanf(line, "%95s %d %zu %zu %zu %15s %lf %lf %lf %lf %d %lf", name, &B, &T, &burn,
                   &tb, loss, &pre, &dcw, &lr, &wd, &decoupled, &clip) != 12)
            fail_msg("bad steps line: %s", line);
        snprintf(path, sizeof path, "%s/%s.json", dir, name);
        RnnfxModel *m = NULL;
        RnnfxError err;
        if (rnnfx_model_load(path, NULL, &m, &err) != RNNFX_OK)
            fail_msg("%s: %s", path, err.msg);
        const RnnfxArch *a = rnnfx_model_arch(m);
        size_t P;
        const float *w = rnnfx_model_params(m, &P);
        float *in = case_f32(dir, name, ".in.f32", (size_t)B * T * a->input_size);
        float *tg = case_f32(dir, name, ".target.f32", (size_t)B * T * a->output_size);
        float *ref = case_f32(dir, name, ".after.f32", P);
        assert_non_null(in);
        assert_non_null(tg);
        assert_non_null(ref);
        RnnfxTrainSeq seqs[16];
        assert_true(B <= 16);
        for (int b = 0; b < B; b++)
            seqs[b] = (RnnfxTrainSeq){in + (size_t)b * T * a->input_size,
                                      tg + (size_t)b * T * a->output_size, T};
        RnnfxTrainSet set = {seqs, (size_t)B};
        RnnfxTrainConfig cfg;
        rnnfx_train_config_default(&cfg);
        cfg.segment_len = T;
        cfg.burn_in = burn;
        cfg.tbptt = tb;
        cfg.batch = B;
        cfg.loss = strcmp(loss, "esr") == 0 ? RNNFX_LOSS_ESR : RNNFX_LOSS_MSE;
        cfg.preemph = (float)pre;
        cfg.dc_weight = (float)dcw;
        cfg.lr = cfg.lr_min = (float)lr;
        cfg.schedule = RNNFX_LR_CONSTANT;
        cfg.weight_decay = (float)wd;
        cfg.decoupled_wd = decoupled;
        cfg.clip = (float)clip;
        cfg.threads = 2;
        RnnfxTrainer *tr;
        assert_int_equal(rnnfx_trainer_new(m, &cfg, &tr, &err), RNNFX_OK);
        RnnfxTrainStats st;
        assert_int_equal(rnnfx_trainer_train(tr, &set, 1, &st, &err), RNNFX_OK);
        assert_int_equal(st.steps, (T - burn + tb - 1) / tb);
        double worst = 0.0;
        size_t at = 0;
        for (size_t i = 0; i < P; i++)
            if (fabs(w[i] - ref[i]) > worst) {
                worst = fabs(w[i] - ref[i]);
                at = i;
            }
        /* each step moves a weight by up to ~lr; allow 0.1 % of one step */
        if (!(worst <= 1e-3 * lr))
            fail_msg("%s: weight %zu is %.9g after the batch, PyTorch %.9g", name, at,
                     (double)w[at], (double)ref[at]);
        print_message("%s: %llu steps, largest difference from PyTorch %.3g (lr %g)\n", name,
                      (unsigned long long)st.steps, worst, lr);
        rnnfx_trainer_free(tr);
        rnnfx_model_free(m);
        free(in), free(tg), free(ref);
        ncases++;
    }
    fclose(f);
    assert_true(ncases >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_engine),
        cmocka_unit_test(test_grad_finite_differences),
        cmocka_unit_test(test_grad_matches_torch),
        cmocka_unit_test(test_optimizer_matches_torch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

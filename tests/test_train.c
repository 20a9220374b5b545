/*
 * test_train.c — the training loop as a whole: a short run on a generated
 * dry/wet pair (a tanh waveshaper followed by a one-pole low-pass) lowers
 * the loss and reaches a loose ESR bound; a run is repeatable bit for bit
 * for a seed, whatever the thread count; a run resumed from a checkpoint ends with
 * exactly the weights of an uninterrupted run; a stop request is honoured;
 * the schedule behaves; bad configs, sets and checkpoints give clear errors
 * and change nothing.
 *
 * Kept to a few seconds: small models, ~0.2 s of audio per epoch.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "enginetest.h"
#include "instance.h"
#include "model.h"
#include "train.h"

#define N_TRAIN 40000
#define N_VAL 12000

static float *g_x, *g_y, *g_vx, *g_vy;

/* wet = one-pole low-pass (fc ~ 2 kHz at 48 kHz) of tanh(3·dry) */
static void make_pair(float *x, float *y, size_t n, uint64_t seed)
{
    rnnfx_test_signal(x, n, seed);
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) {
        s += 0.23f * (tanhf(3.0f * x[i]) - s);
        y[i] = 0.7f * s;
    }
}

static int setup(void **state)
{
    (void)state;
    g_x = malloc(sizeof(float) * N_TRAIN);
    g_y = malloc(sizeof(float) * N_TRAIN);
    g_vx = malloc(sizeof(float) * N_VAL);
    g_vy = malloc(sizeof(float) * N_VAL);
    if (!g_x || !g_y || !g_vx || !g_vy)
        return -1;
    make_pair(g_x, g_y, N_TRAIN, 3);
    make_pair(g_vx, g_vy, N_VAL, 4);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(g_x), free(g_y), free(g_vx), free(g_vy);
    return 0;
}

static RnnfxModel *new_model(RnnfxCell cell, int hidden, uint64_t seed)
{
    RnnfxArch a;
    rnnfx_arch_init_audio(&a, cell, hidden, 0);
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_new(&a, &m, &err), RNNFX_OK);
    assert_int_equal(rnnfx_model_init_random(m, seed, &err), RNNFX_OK);
    return m;
}

static void small_config(RnnfxTrainConfig *c, int threads)
{
    rnnfx_train_config_default(c);
    c->segment_len = 1024;
    c->burn_in = 128;
    c->tbptt = 128;
    c->batch = 8;
    c->lr = 1e-2f;
    c->lr_min = 1e-3f;
    c->schedule = RNNFX_LR_CONSTANT;
    c->threads = threads;
    c->seed = 42;
}

static double val_esr(const RnnfxModel *m)
{
    RnnfxTrainSeq q = {g_vx, g_vy, N_VAL};
    RnnfxTrainSet set = {&q, 1};
    RnnfxEvalResult r;
    RnnfxError err;
    assert_int_equal(rnnfx_trainer_evaluate(m, &set, 256, NULL, 2, &r, &err), RNNFX_OK);
    assert_int_equal(r.samples, N_VAL - 256);
    return r.esr;
}

/* ---- learning ---------------------------------------------------------------- */

static void learns(RnnfxCell cell)
{
    RnnfxModel *m = new_model(cell, 8, 7);
    RnnfxTrainConfig c;
    small_config(&c, 2);
    c.schedule = RNNFX_LR_COSINE;
    c.total_steps = 1400;
    RnnfxTrainer *tr;
    RnnfxError err;
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_OK);
    RnnfxTrainSeq q = {g_x, g_y, N_TRAIN};
    RnnfxTrainSet set = {&q, 1};
    double esr0 = val_esr(m);
    RnnfxTrainStats st;
    double first_loss = -1.0, last_loss = 0.0;
    for (int e = 0; e < 40; e++) {
        assert_int_equal(rnnfx_trainer_train(tr, &set, 0, &st, &err), RNNFX_OK);
        assert_true(st.epoch_done);
        assert_int_equal(st.steps, 4 * 7); /* 39 segments / 8 = 4 batches, 7 chunks each */
        if (first_loss < 0.0)
            first_loss = st.loss;
        last_loss = st.loss;
    }
    double esr1 = val_esr(m);
    print_message("%s-8: training loss %.4f -> %.4f, validation ESR %.4f -> %.4f\n",
                  rnnfx_cell_name(cell), first_loss, last_loss, esr0, esr1);
    assert_int_equal(rnnfx_trainer_epochs(tr), 40);
    if (!(last_loss < 0.3 * first_loss))
        fail_msg("%s: training loss went from %g to %g only", rnnfx_cell_name(cell), first_loss,
                 last_loss);
    if (!(esr1 < 0.05 && esr1 < 0.2 * esr0))
        fail_msg("%s: validation ESR %g -> %g (want < 0.05)", rnnfx_cell_name(cell), esr0, esr1);
    rnnfx_trainer_free(tr);
    rnnfx_model_free(m);
}

static void test_lstm_learns(void **state)
{
    (void)state;
    learns(RNNFX_CELL_LSTM);
}

static void test_gru_learns(void **state)
{
    (void)state;
    learns(RNNFX_CELL_GRU);
}

/* ---- repeatability and resume ----------------------------------------------------- */

/* Trains `batches` batches in calls of `per_call`, from a fresh model. */
static RnnfxModel *run(int threads, size_t batches, size_t per_call)
{
    RnnfxModel *m = new_model(RNNFX_CELL_GRU, 6, 9);
    RnnfxTrainConfig c;
    small_config(&c, threads);
    c.batch = 20; /* three row groups of 8, 8 and 4 segments */
    c.segment_len = 512;
    c.burn_in = 64;
    RnnfxTrainer *tr;
    RnnfxError err;
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_OK);
    RnnfxTrainSeq q = {g_x, g_y, N_TRAIN};
    RnnfxTrainSet set = {&q, 1};
    size_t done = 0;
    while (done < batches) {
        size_t k = batches - done < per_call ? batches - done : per_call;
        RnnfxTrainStats st;
        assert_int_equal(rnnfx_trainer_train(tr, &set, k, &st, &err), RNNFX_OK);
        done += k;
    }
    rnnfx_trainer_free(tr);
    return m;
}

static int same_weights(const RnnfxModel *a, const RnnfxModel *b)
{
    size_t na, nb;
    const float *pa = rnnfx_model_params_const(a, &na), *pb = rnnfx_model_params_const(b, &nb);
    return na == nb && memcmp(pa, pb, na * sizeof(float)) == 0;
}

/* A segment whose loss is not finite (NaN targets in one stretch of the
 * recording) gives a non-finite gradient: that step is skipped, counted,
 * and left out of the loss, so the call's loss stays finite (a NaN there
 * made rnnfx-train stop a run whose weights were intact) and the weights
 * stay finite and keep training. */
static void test_nonfinite_step_skipped(void **state)
{
    (void)state;
    const size_t n = N_TRAIN;
    float *y = malloc(n * sizeof *y);
    memcpy(y, g_y, n * sizeof *y);
    for (size_t i = 20000; i < 20600; i++)
        y[i] = NAN;
    RnnfxModel *m = new_model(RNNFX_CELL_GRU, 6, 9);
    RnnfxTrainConfig c;
    small_config(&c, 2);
    c.segment_len = 512;
    c.burn_in = 64;
    RnnfxTrainer *tr;
    RnnfxError err;
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_OK);
    RnnfxTrainSeq q = {g_x, y, n};
    RnnfxTrainSet set = {&q, 1};
    uint64_t skipped = 0, steps = 0;
    for (int k = 0; k < 4; k++) {
        RnnfxTrainStats st;
        assert_int_equal(rnnfx_trainer_train(tr, &set, 0, &st, &err), RNNFX_OK); /* an epoch */
        assert_true(isfinite(st.loss));
        skipped += st.skipped;
        steps += st.steps;
    }
    print_message("4 epochs: %llu steps taken, %llu skipped\n", (unsigned long long)steps,
                  (unsigned long long)skipped);
    assert_true(skipped > 0);
    assert_true(steps > skipped);
    size_t np;
    const float *p = rnnfx_model_params_const(m, &np);
    for (size_t i = 0; i < np; i++)
        assert_true(isfinite(p[i]));
    rnnfx_trainer_free(tr);
    rnnfx_model_free(m);
    free(y);
}

static void test_deterministic(void **state)
{
    (void)state;
    RnnfxModel *a = run(2, 10, 10), *b = run(2, 10, 10), *c = run(2, 10, 3);
    RnnfxModel *d = run(1, 10, 10), *e = run(3, 10, 10);
    assert_true(same_weights(a, b));
    assert_true(same_weights(a, c)); /* call boundaries do not matter */
    assert_true(same_weights(a, d)); /* nor the number of threads */
    assert_true(same_weights(a, e));
    RnnfxModel *f = new_model(RNNFX_CELL_GRU, 6, 9);
    assert_false(same_weights(a, f)); /* and training did change the weights */
    rnnfx_model_free(a), rnnfx_model_free(b), rnnfx_model_free(c);
    rnnfx_model_free(d), rnnfx_model_free(e), rnnfx_model_free(f);
}

static void test_resume(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/rnnfx-test-ckpt-%ld.bin", (long)getpid());
    RnnfxTrainSeq q = {g_x, g_y, N_TRAIN};
    RnnfxTrainSet set = {&q, 1};
    RnnfxError err;
    RnnfxTrainConfig c;
    small_config(&c, 2);
    c.schedule = RNNFX_LR_COSINE;
    c.total_steps = 300;
    c.batch = 12; /* two row groups, 3 batches per epoch */
    /* uninterrupted: 11 batches (crosses three epoch ends) */
    RnnfxModel *full = new_model(RNNFX_CELL_LSTM, 6, 5);
    RnnfxTrainer *tr;
    assert_int_equal(rnnfx_trainer_new(full, &c, &tr, &err), RNNFX_OK);
    assert_int_equal(rnnfx_trainer_train(tr, &set, 11, NULL, &err), RNNFX_OK);
    rnnfx_trainer_free(tr);
    /* interrupted after 5 batches (mid-epoch), saved, resumed by a new trainer */
    RnnfxModel *part = new_model(RNNFX_CELL_LSTM, 6, 5);
    assert_int_equal(rnnfx_trainer_new(part, &c, &tr, &err), RNNFX_OK);
    assert_int_equal(rnnfx_trainer_train(tr, &set, 5, NULL, &err), RNNFX_OK);
    assert_int_equal(rnnfx_trainer_save_checkpoint(tr, path, "{\"best\": 0.5}", &err), RNNFX_OK);
    rnnfx_trainer_free(tr);
    rnnfx_model_free(part);
    RnnfxModel *resumed = new_model(RNNFX_CELL_LSTM, 6, 77); /* other weights: replaced */
    c.threads = 1; /* resuming on another thread count changes nothing */
    assert_int_equal(rnnfx_trainer_new(resumed, &c, &tr, &err), RNNFX_OK);
    char *extra = NULL;
    if (rnnfx_trainer_load_checkpoint(tr, path, &extra, &err) != RNNFX_OK)
        fail_msg("%s", err.msg);
    assert_non_null(extra);
    assert_string_equal(extra, "{\"best\": 0.5}");
    free(extra);
    assert_int_equal(rnnfx_trainer_steps(tr), 5 * 7);
    assert_int_equal(rnnfx_trainer_epochs(tr), 1);
    assert_int_equal(rnnfx_trainer_train(tr, &set, 6, NULL, &err), RNNFX_OK);
    assert_true(rnnfx_model_is_finalized(resumed));
    assert_true(same_weights(full, resumed));
    rnnfx_trainer_free(tr);

    /* a checkpoint of another architecture is refused and changes nothing */
    RnnfxModel *other = new_model(RNNFX_CELL_GRU, 6, 5);
    size_t n;
    float *before = malloc(sizeof(float) * 1000);
    const float *p = rnnfx_model_params_const(other, &n);
    memcpy(before, p, n * sizeof(float));
    assert_int_equal(rnnfx_trainer_new(other, &c, &tr, &err), RNNFX_OK);
    assert_int_equal(rnnfx_trainer_load_checkpoint(tr, path, NULL, &err), RNNFX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "different model"));
    assert_memory_equal(before, p, n * sizeof(float));
    rnnfx_trainer_free(tr);
    rnnfx_model_free(other);

    /* a damaged checkpoint (one flipped byte, or cut short) is refused */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 200, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 200, SEEK_SET);
    fputc(ch ^ 0x20, f);
    fclose(f);
    RnnfxModel *m2 = new_model(RNNFX_CELL_LSTM, 6, 5);
    p = rnnfx_model_params_const(m2, &n);
    memcpy(before, p, n * sizeof(float));
    assert_int_equal(rnnfx_trainer_new(m2, &c, &tr, &err), RNNFX_OK);
    assert_int_equal(rnnfx_trainer_load_checkpoint(tr, path, NULL, &err), RNNFX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "damaged"));
    assert_memory_equal(before, p, n * sizeof(float));
    assert_int_equal(truncate(path, 100), 0);
    assert_int_not_equal(rnnfx_trainer_load_checkpoint(tr, path, NULL, &err), RNNFX_OK);
    assert_int_equal(rnnfx_trainer_load_checkpoint(tr, "/nonexistent/ckpt", NULL, &err),
                     RNNFX_ERR_IO);
    rnnfx_trainer_free(tr);
    rnnfx_model_free(m2);
    free(before);
    unlink(path);
    rnnfx_model_free(full);
    rnnfx_model_free(resumed);
}

/* ---- stop, schedule, errors ------------------------------------------------------ */

static void test_stop(void **state)
{
    (void)state;
    RnnfxModel *m = new_model(RNNFX_CELL_GRU, 4, 1);
    RnnfxTrainConfig c;
    small_config(&c, 2);
    RnnfxTrainer *tr;
    RnnfxError err;
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_OK);
    RnnfxTrainSeq q = {g_x, g_y, N_TRAIN};
    RnnfxTrainSet set = {&q, 1};
    RnnfxTrainStats st;
    rnnfx_trainer_request_stop(tr);
    assert_int_equal(rnnfx_trainer_train(tr, &set, 0, &st, &err), RNNFX_OK);
    assert_int_equal(st.stopped, 1);
    assert_int_equal(st.steps, 0);
    assert_true(rnnfx_model_is_finalized(m));
    rnnfx_trainer_clear_stop(tr);
    assert_int_equal(rnnfx_trainer_train(tr, &set, 1, &st, &err), RNNFX_OK);
    assert_int_equal(st.stopped, 0);
    assert_int_equal(st.steps, 7);
    assert_true(st.samples == 8 * 1024);
    assert_true(st.loss > 0.0 && isfinite(st.loss));
    rnnfx_trainer_free(tr);
    rnnfx_model_free(m);
}

/* A stop request from another thread (as from a signal handler) ends a long
 * call at an Adam step boundary, with a usable model. */
static void *stopper(void *p)
{
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    rnnfx_trainer_request_stop(p);
    return NULL;
}

static void test_stop_from_thread(void **state)
{
    (void)state;
    RnnfxModel *m = new_model(RNNFX_CELL_LSTM, 16, 1);
    RnnfxTrainConfig c;
    small_config(&c, 2);
    RnnfxTrainer *tr;
    RnnfxError err;
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_OK);
    RnnfxTrainSeq q = {g_x, g_y, N_TRAIN};
    RnnfxTrainSet set = {&q, 1};
    RnnfxTrainStats st;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stopper, tr), 0);
    /* 100000 batches would take minutes */
    assert_int_equal(rnnfx_trainer_train(tr, &set, 100000, &st, &err), RNNFX_OK);
    pthread_join(t, NULL);
    assert_int_equal(st.stopped, 1);
    assert_true(st.steps > 0 && st.steps < 100000 * 7);
    assert_int_equal(rnnfx_trainer_steps(tr), st.steps);
    assert_true(rnnfx_model_is_finalized(m));
    val_esr(m); /* the model runs */
    rnnfx_trainer_free(tr);
    rnnfx_model_free(m);
}

static void test_schedule(void **state)
{
    (void)state;
    RnnfxModel *m = new_model(RNNFX_CELL_RNN, 4, 1);
    RnnfxTrainConfig c;
    small_config(&c, 1);
    c.lr = 1e-2f;
    c.lr_min = 1e-4f;
    c.schedule = RNNFX_LR_COSINE;
    RnnfxTrainer *tr;
    RnnfxError err;
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_OK);
    rnnfx_trainer_set_progress(tr, 0.0);
    assert_float_equal(rnnfx_trainer_lr(tr), 1e-2, 1e-7);
    rnnfx_trainer_set_progress(tr, 0.5);
    assert_float_equal(rnnfx_trainer_lr(tr), 0.5 * (1e-2 + 1e-4), 1e-7);
    rnnfx_trainer_set_progress(tr, 2.0);
    assert_float_equal(rnnfx_trainer_lr(tr), 1e-4, 1e-8);
    rnnfx_trainer_free(tr);
    c.schedule = RNNFX_LR_PLATEAU;
    c.plateau_patience = 2;
    c.plateau_factor = 0.5f;
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_OK);
    assert_int_equal(rnnfx_trainer_report_validation(tr, 1.0), 1);
    assert_int_equal(rnnfx_trainer_report_validation(tr, 0.9), 1);
    assert_int_equal(rnnfx_trainer_report_validation(tr, 0.95), 0);
    assert_float_equal(rnnfx_trainer_lr(tr), 1e-2, 1e-8);
    assert_int_equal(rnnfx_trainer_report_validation(tr, 0.91), 0);
    assert_float_equal(rnnfx_trainer_lr(tr), 5e-3, 1e-8);
    rnnfx_trainer_free(tr);
    rnnfx_model_free(m);
}

static void test_errors(void **state)
{
    (void)state;
    RnnfxModel *m = new_model(RNNFX_CELL_LSTM, 4, 1);
    RnnfxTrainConfig c;
    RnnfxTrainer *tr = NULL;
    RnnfxError err;
    small_config(&c, 2);
    c.burn_in = c.segment_len;
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_ERR_ARG);
    assert_null(tr);
    assert_non_null(strstr(err.msg, "burn-in"));
    small_config(&c, 2);
    c.lr = -1.0f;
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_ERR_ARG);
    small_config(&c, 2);
    c.loss = RNNFX_LOSS_BCE; /* this model has no sigmoid output */
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_ERR_ARG);
    assert_non_null(strstr(err.msg, "sigmoid"));
    small_config(&c, 2);
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_OK);
    /* every sequence shorter than a segment */
    RnnfxTrainSeq q = {g_x, g_y, 1000};
    RnnfxTrainSet set = {&q, 1};
    RnnfxTrainStats st;
    assert_int_equal(rnnfx_trainer_train(tr, &set, 0, &st, &err), RNNFX_ERR_ARG);
    assert_non_null(strstr(err.msg, "segment"));
    assert_int_equal(rnnfx_trainer_batches_per_epoch(tr, &set), 0);
    RnnfxTrainSeq bad = {NULL, g_y, 5000};
    RnnfxTrainSet bset = {&bad, 1};
    assert_int_equal(rnnfx_trainer_train(tr, &bset, 0, &st, &err), RNNFX_ERR_ARG);
    assert_int_equal(rnnfx_trainer_train(tr, NULL, 0, &st, &err), RNNFX_ERR_ARG);
    rnnfx_trainer_free(tr);
    rnnfx_trainer_free(NULL);

    /* a non-finite target sample spoils the steps that see it, not the
     * weights: those steps are skipped and the model stays finite */
    float *y = malloc(sizeof(float) * 2048);
    assert_non_null(y);
    memcpy(y, g_y, sizeof(float) * 2048);
    y[1500] = NAN;
    RnnfxTrainSeq nq = {g_x, y, 2048};
    RnnfxTrainSet nset = {&nq, 1};
    small_config(&c, 2);
    c.batch = 2;
    assert_int_equal(rnnfx_trainer_new(m, &c, &tr, &err), RNNFX_OK);
    size_t np;
    const float *p = rnnfx_model_params_const(m, &np);
    assert_int_equal(rnnfx_trainer_train(tr, &nset, 1, &st, &err), RNNFX_OK);
    assert_true(rnnfx_test_all_finite(p, np));
    assert_true(rnnfx_model_is_finalized(m));
    rnnfx_trainer_free(tr);
    free(y);
    rnnfx_model_free(m);
}

/* evaluate() equals a hand computation on the reference path */
static void test_evaluate(void **state)
{
    (void)state;
    RnnfxModel *m = new_model(RNNFX_CELL_LSTM, 8, 3);
    RnnfxTrainSeq q[2] = {{g_vx, g_vy, 5000}, {g_vx + 5000, g_vy + 5000, 7000}};
    RnnfxTrainSet set = {q, 2};
    RnnfxEvalResult r1, r3;
    RnnfxError err;
    assert_int_equal(rnnfx_trainer_evaluate(m, &set, 100, NULL, 1, &r1, &err), RNNFX_OK);
    assert_int_equal(rnnfx_trainer_evaluate(m, &set, 100, NULL, 3, &r3, &err), RNNFX_OK);
    assert_true(r1.esr == r3.esr && r1.mse == r3.mse); /* thread count does not matter */
    RnnfxInstance *inst = rnnfx_instance_new(m);
    rnnfx_instance_set_path(inst, RNNFX_PATH_REFERENCE);
    float *y = malloc(sizeof(float) * 7000);
    double se = 0, tt = 0;
    for (int s = 0; s < 2; s++) {
        rnnfx_instance_reset(inst);
        rnnfx_instance_process_frames(inst, q[s].input, y, q[s].n);
        for (size_t i = 100; i < q[s].n; i++) {
            se += (q[s].target[i] - y[i]) * (double)(q[s].target[i] - y[i]);
            tt += (double)q[s].target[i] * q[s].target[i];
        }
    }
    assert_int_equal(r1.samples, 4900 + 6900);
    assert_true(fabs(r1.esr - se / tt) <= 1e-4 * (se / tt));
    assert_true(fabs(r1.mse - se / 11800.0) <= 1e-4 * (se / 11800.0));
    free(y);
    rnnfx_instance_free(inst);
    rnnfx_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lstm_learns),  cmocka_unit_test(test_gru_learns),
        cmocka_unit_test(test_nonfinite_step_skipped),
        cmocka_unit_test(test_deterministic), cmocka_unit_test(test_resume),
        cmocka_unit_test(test_stop),          cmocka_unit_test(test_stop_from_thread),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_evaluate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

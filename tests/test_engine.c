/*
 * test_engine.c — properties of models and instances that must hold for any
 * weights: reset equals fresh, block-size independence, process() equals
 * process_frames(), in-place equals out-of-place, the fast path equals the
 * reference path (also at odd hidden sizes the PyTorch cases do not cover),
 * knob clamping, recovery from NaN/Inf, the caller-memory contract, the
 * architecture checks, cloning, and that a process call leaves the caller's
 * floating-point mode as it found it.
 *
 * The models here are random (tests/support/enginetest.c), built in memory,
 * so this file checks the engine's behaviour, not its numbers; those are
 * checked against PyTorch in test_reference.c.
 */
#include <float.h>
#include <limits.h>
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
#include "fast.h"
#include "instance.h"
#include "model.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

#define N 5000 /* longer than the engine's internal chunk, and not a multiple of it */

/* ---- the architectures every property is checked on ---------------------- */

typedef struct {
    const char *name;
    RnnfxKind kind;
    int input_size, output_size, skip, sigmoid;
    int n_layers;
    struct {
        RnnfxCell cell;
        int hidden, peephole, relu;
    } layers[4];
    float scale;
    int init_state;
} Spec;

static const Spec SPECS[] = {
    {"lstm8_skip", RNNFX_KIND_AUDIO, 1, 1, 1, 0, 1, {{RNNFX_CELL_LSTM, 8, 0, 0}}, 1.5f, 0},
    {"lstm17x2_knobs2_init", RNNFX_KIND_AUDIO, 3, 1, 1, 0, 2,
     {{RNNFX_CELL_LSTM, 17, 0, 0}, {RNNFX_CELL_LSTM, 17, 0, 0}}, 1.5f, 1},
    {"gru5", RNNFX_KIND_AUDIO, 1, 1, 0, 0, 1, {{RNNFX_CELL_GRU, 5, 0, 0}}, 2.0f, 0},
    {"gru33_knob1_skip", RNNFX_KIND_AUDIO, 2, 1, 1, 0, 1, {{RNNFX_CELL_GRU, 33, 0, 0}}, 1.5f, 1},
    {"rnn_tanh3", RNNFX_KIND_AUDIO, 1, 1, 1, 0, 1, {{RNNFX_CELL_RNN, 3, 0, 0}}, 1.5f, 0},
    {"rnn_relu16x2_knobs3", RNNFX_KIND_AUDIO, 4, 1, 1, 0, 2,
     {{RNNFX_CELL_RNN, 16, 0, 1}, {RNNFX_CELL_RNN, 16, 0, 1}}, 1.0f, 0},
    {"lstm_peep13_knobs2", RNNFX_KIND_AUDIO, 3, 1, 1, 0, 1, {{RNNFX_CELL_LSTM, 13, 1, 0}}, 1.5f,
     1},
    {"mixed_gru7_lstm20_rnn1", RNNFX_KIND_AUDIO, 1, 1, 0, 0, 3,
     {{RNNFX_CELL_GRU, 7, 0, 0}, {RNNFX_CELL_LSTM, 20, 0, 0}, {RNNFX_CELL_RNN, 1, 0, 0}}, 1.5f,
     1},
    {"lstm100_gru48", RNNFX_KIND_AUDIO, 1, 1, 1, 0, 2,
     {{RNNFX_CELL_LSTM, 100, 0, 0}, {RNNFX_CELL_GRU, 48, 0, 0}}, 1.2f, 0},
    {"midi_lstm24_sigmoid", RNNFX_KIND_MIDI_FRAMES, 10, 8, 0, 1, 1,
     {{RNNFX_CELL_LSTM, 24, 0, 0}}, 1.5f, 0},
};
#define N_SPECS (sizeof SPECS / sizeof SPECS[0])

static void spec_arch(const Spec *s, RnnfxArch *a)
{
    memset(a, 0, sizeof *a);
    a->kind = s->kind;
    a->input_size = s->input_size;
    a->output_size = s->output_size;
    a->skip = s->skip;
    a->output_sigmoid = s->sigmoid;
    a->n_layers = s->n_layers;
    for (int l = 0; l < s->n_layers; l++) {
        a->layers[l].cell = s->layers[l].cell;
        a->layers[l].hidden_size = s->layers[l].hidden;
        a->layers[l].peephole = s->layers[l].peephole;
        a->layers[l].relu = s->layers[l].relu;
    }
    if (s->kind == RNNFX_KIND_AUDIO) {
        a->n_params = s->input_size - 1;
        for (int k = 0; k < a->n_params; k++) {
            snprintf(a->params[k].name, sizeof a->params[k].name, "knob%d", k);
            a->params[k].min = k == 1 ? -2.0f : 0.0f;
            a->params[k].max = k == 1 ? 2.0f : 1.0f;
            a->params[k].def = k == 1 ? 0.25f : 0.5f;
        }
    }
}

static RnnfxModel *spec_model(const Spec *s, uint64_t seed)
{
    RnnfxArch a;
    spec_arch(s, &a);
    RnnfxModel *m = rnnfx_test_random_model(&a, seed, s->scale, s->init_state);
    if (!m)
        fail_msg("%s: could not build the model", s->name);
    if (s->kind == RNNFX_KIND_AUDIO) {
        /* gains other than 1 so that their placement is exercised */
        rnnfx_model_meta(m)->input_gain = 1.3f;
        rnnfx_model_meta(m)->output_gain = 0.8f;
    }
    return m;
}

static const RnnfxPath PATHS[2] = {RNNFX_PATH_REFERENCE, RNNFX_PATH_FAST};
static const char *const PATH_NAMES[2] = {"reference", "fast"};

static RnnfxInstance *new_instance(const RnnfxModel *m, RnnfxPath p)
{
    RnnfxInstance *inst = rnnfx_instance_new(m);
    assert_non_null(inst);
    rnnfx_instance_set_path(inst, p);
    return inst;
}

/* Frame input for a spec: audio in channel 0, slow knob values or 0/1 keys
 * in the others. */
static float *make_frames(const Spec *s, size_t n, uint64_t seed)
{
    float *x = malloc(n * (size_t)s->input_size * sizeof(float));
    float *mono = malloc(n * sizeof(float));
    assert_non_null(x);
    assert_non_null(mono);
    rnnfx_test_signal(mono, n, seed);
    RnnfxTestRng r;
    rnnfx_test_rng_seed(&r, seed + 7);
    for (size_t t = 0; t < n; t++) {
        for (int k = 0; k < s->input_size; k++) {
            float v;
            if (k == 0 && s->kind == RNNFX_KIND_AUDIO)
                v = mono[t];
            else if (s->kind == RNNFX_KIND_AUDIO)
                v = (float)(0.5 + 0.45 * sin(0.001 * (double)t * (k + 1)));
            else
                v = rnnfx_test_rng_uniform(&r) < 0.3 ? 1.0f : 0.0f;
            x[t * (size_t)s->input_size + (size_t)k] = v;
        }
    }
    free(mono);
    return x;
}

static void set_knobs(RnnfxInstance *inst, const Spec *s, float base)
{
    for (int k = 0; k + 1 < s->input_size && s->kind == RNNFX_KIND_AUDIO; k++)
        rnnfx_instance_set_param(inst, k, base + 0.1f * (float)k);
}

/* Runs an instance over n frames: process() for audio (mono in/out), else
 * process_frames(). Returns the number of output floats written. */
static size_t run(RnnfxInstance *inst, const Spec *s, const float *mono, const float *frames,
                  float *out, size_t n)
{
    if (s->kind == RNNFX_KIND_AUDIO) {
        rnnfx_instance_process(inst, mono, out, n);
        return n;
    }
    rnnfx_instance_process_frames(inst, frames, out, n);
    return n * (size_t)s->output_size;
}

#define FOR_EACH_SPEC_AND_PATH                                                                 \
    for (size_t si = 0; si < N_SPECS; si++)                                                    \
        for (int pi = 0; pi < 2; pi++)

/* ---- reset equals fresh ------------------------------------------------ */

static void test_reset_equals_fresh(void **state)
{
    (void)state;
    FOR_EACH_SPEC_AND_PATH
    {
        const Spec *s = &SPECS[si];
        RnnfxModel *m = spec_model(s, 100 + si);
        const RnnfxArch *a = rnnfx_model_arch(m);
        float *f1 = make_frames(s, N, 1), *f2 = make_frames(s, N, 2);
        float *x1 = malloc(N * sizeof(float)), *x2 = malloc(N * sizeof(float));
        size_t no = N * (size_t)s->output_size;
        float *o1 = malloc(no * sizeof(float)), *o2 = malloc(no * sizeof(float));
        rnnfx_test_signal(x1, N, 11);
        rnnfx_test_signal(x2, N, 12);
        RnnfxInstance *used = new_instance(m, PATHS[pi]);
        RnnfxInstance *fresh = new_instance(m, PATHS[pi]);
        set_knobs(used, s, 0.3f);
        set_knobs(fresh, s, 0.3f);
        run(used, s, x1, f1, o1, N);
        rnnfx_instance_reset(used);
        /* the state after reset is the model's initial state, padding zero */
        for (int l = 0; l < a->n_layers; l++) {
            int H = a->layers[l].hidden_size;
            const float *h0 = rnnfx_model_tensor_const(m, l, RNNFX_T_INITIAL_H, NULL, NULL);
            assert_memory_equal(rnnfx_instance_hidden(used, l), h0, (size_t)H * sizeof(float));
            if (a->layers[l].cell == RNNFX_CELL_LSTM) {
                const float *c0 = rnnfx_model_tensor_const(m, l, RNNFX_T_INITIAL_C, NULL, NULL);
                assert_memory_equal(rnnfx_instance_cell(used, l), c0, (size_t)H * sizeof(float));
            } else {
                assert_null(rnnfx_instance_cell(used, l));
            }
            for (int j = H; j < rnnfx_fast_padded(H); j++)
                assert_true(rnnfx_instance_hidden(used, l)[j] == 0.0f);
        }
        size_t k1 = run(used, s, x2, f2, o1, N);
        run(fresh, s, x2, f2, o2, N);
        if (memcmp(o1, o2, k1 * sizeof(float)) != 0)
            fail_msg("%s/%s: output after reset differs from a fresh instance (max %.3g)",
                     s->name, PATH_NAMES[pi], rnnfx_test_max_abs_diff(o1, o2, k1));
        /* knob values survive reset */
        if (s->kind == RNNFX_KIND_AUDIO && s->input_size > 1)
            assert_true(rnnfx_instance_param(used, 0) == 0.3f);
        rnnfx_instance_free(used);
        rnnfx_instance_free(fresh);
        rnnfx_model_free(m);
        free(f1), free(f2), free(x1), free(x2), free(o1), free(o2);
    }
}

/* ---- any block split equals one call ---------------------------------- */

static const size_t SPLITS[] = {0, 1, 2, 3, 0, 5, 7, 64, 1, 127, 128, 129, 31, 1000, 1024, 1025, 0, 1, 4095};
#define N_SPLITS (sizeof SPLITS / sizeof SPLITS[0])

static void test_block_split(void **state)
{
    (void)state;
    FOR_EACH_SPEC_AND_PATH
    {
        const Spec *s = &SPECS[si];
        RnnfxModel *m = spec_model(s, 200 + si);
        float *frames = make_frames(s, N, 3);
        float *x = malloc(N * sizeof(float));
        rnnfx_test_signal(x, N, 13);
        size_t no = N * (size_t)s->output_size;
        float *one = malloc(no * sizeof(float)), *split = malloc(no * sizeof(float));
        for (int mode = 0; mode < 2; mode++) { /* 0: process (audio only), 1: frames */
            if (mode == 0 && s->kind != RNNFX_KIND_AUDIO)
                continue;
            size_t width_in = mode ? (size_t)s->input_size : 1;
            size_t width_out = mode ? (size_t)s->output_size : 1;
            const float *in = mode ? frames : x;
            RnnfxInstance *a = new_instance(m, PATHS[pi]);
            RnnfxInstance *b = new_instance(m, PATHS[pi]);
            if (mode)
                rnnfx_instance_process_frames(a, in, one, N);
            else
                rnnfx_instance_process(a, in, one, N);
            size_t pos = 0;
            for (size_t k = 0; pos < N; k++) {
                size_t len = SPLITS[k % N_SPLITS];
                if (len > N - pos)
                    len = N - pos;
                if (mode)
                    rnnfx_instance_process_frames(b, in + pos * width_in, split + pos * width_out,
                                                  len);
                else
                    rnnfx_instance_process(b, in + pos * width_in, split + pos * width_out, len);
                pos += len;
            }
            if (memcmp(one, split, N * width_out * sizeof(float)) != 0)
                fail_msg("%s/%s/%s: split blocks differ from one call (max %.3g)", s->name,
                         PATH_NAMES[pi], mode ? "frames" : "process",
                         rnnfx_test_max_abs_diff(one, split, N * width_out));
            /* n = 0 with NULL buffers is allowed and changes nothing */
            if (mode)
                rnnfx_instance_process_frames(b, NULL, NULL, 0);
            else
                rnnfx_instance_process(b, NULL, NULL, 0);
            rnnfx_instance_free(a);
            rnnfx_instance_free(b);
        }
        rnnfx_model_free(m);
        free(frames), free(x), free(one), free(split);
    }
}

/* ---- process() with knobs equals process_frames() with knob columns ---- */

static void test_process_equals_frames(void **state)
{
    (void)state;
    double worst[2] = {0, 0};
    FOR_EACH_SPEC_AND_PATH
    {
        const Spec *s = &SPECS[si];
        if (s->kind != RNNFX_KIND_AUDIO)
            continue;
        RnnfxModel *m = spec_model(s, 300 + si);
        size_t w = (size_t)s->input_size;
        float *x = malloc(N * sizeof(float)), *frames = malloc(N * w * sizeof(float));
        float *o1 = malloc(N * sizeof(float)), *o2 = malloc(N * sizeof(float));
        rnnfx_test_signal(x, N, 14);
        RnnfxInstance *a = new_instance(m, PATHS[pi]);
        RnnfxInstance *b = new_instance(m, PATHS[pi]);
        set_knobs(a, s, 0.7f);
        for (size_t t = 0; t < N; t++) {
            frames[t * w] = x[t];
            for (size_t k = 1; k < w; k++)
                frames[t * w + k] = rnnfx_instance_param(a, (int)k - 1);
        }
        rnnfx_instance_process(a, x, o1, N);
        rnnfx_instance_process_frames(b, frames, o2, N);
        double d = rnnfx_test_max_abs_diff(o1, o2, N);
        if (d > worst[pi])
            worst[pi] = d;
        /* The reference path computes both the same way; the fast path may
         * fold constant knobs into a bias, which only reorders a sum. */
        if (!(d <= (pi ? 1e-5 : 0.0)))
            fail_msg("%s/%s: process() and process_frames() differ by %.3g", s->name,
                     PATH_NAMES[pi], d);
        /* in-place processing equals out-of-place */
        float *inplace = malloc(N * sizeof(float));
        memcpy(inplace, x, N * sizeof(float));
        rnnfx_instance_reset(a);
        rnnfx_instance_process(a, inplace, inplace, N);
        if (memcmp(inplace, o1, N * sizeof(float)) != 0)
            fail_msg("%s/%s: in-place process() differs", s->name, PATH_NAMES[pi]);
        free(inplace);
        rnnfx_instance_free(a);
        rnnfx_instance_free(b);
        rnnfx_model_free(m);
        free(x), free(frames), free(o1), free(o2);
    }
    printf("  process vs process_frames: reference %.3g, fast %.3g\n", worst[0], worst[1]);
}

/* ---- fast path equals reference path ------------------------------------ */

static void test_fast_equals_reference(void **state)
{
    (void)state;
    double worst = 0;
    for (size_t si = 0; si < N_SPECS; si++) {
        const Spec *s = &SPECS[si];
        RnnfxModel *m = spec_model(s, 400 + si);
        float *frames = make_frames(s, N, 4);
        size_t no = N * (size_t)s->output_size;
        float *o[2] = {malloc(no * sizeof(float)), malloc(no * sizeof(float))};
        for (int pi = 0; pi < 2; pi++) {
            RnnfxInstance *inst = new_instance(m, PATHS[pi]);
            rnnfx_instance_process_frames(inst, frames, o[pi], N);
            if (pi == 1)
                printf("  %-24s fast[%s] vs reference: %.3g\n", s->name,
                       rnnfx_instance_kernel_name(inst), rnnfx_test_max_abs_diff(o[0], o[1], no));
            rnnfx_instance_free(inst);
        }
        double d = rnnfx_test_max_abs_diff(o[0], o[1], no);
        if (d > worst)
            worst = d;
        if (!(d <= 1e-4))
            fail_msg("%s: fast path differs from the reference path by %.3g", s->name, d);
        rnnfx_model_free(m);
        free(frames), free(o[0]), free(o[1]);
    }
    printf("  worst fast vs reference: %.3g\n", worst);
}

/* ---- two instances share one model ------------------------------------- */

static void test_shared_model(void **state)
{
    (void)state;
    const Spec *s = &SPECS[1];
    RnnfxModel *m = spec_model(s, 500);
    for (int pi = 0; pi < 2; pi++) {
        float x1[N], x2[N], a1[N], a2[N], b1[N], b2[N];
        rnnfx_test_signal(x1, N, 21);
        rnnfx_test_signal(x2, N, 22);
        RnnfxInstance *l = new_instance(m, PATHS[pi]), *r = new_instance(m, PATHS[pi]);
        rnnfx_instance_set_param(r, 0, 0.9f);
        for (size_t pos = 0; pos < N; pos += 100) { /* interleaved, like stereo */
            rnnfx_instance_process(l, x1 + pos, a1 + pos, 100);
            rnnfx_instance_process(r, x2 + pos, a2 + pos, 100);
        }
        RnnfxInstance *l2 = new_instance(m, PATHS[pi]), *r2 = new_instance(m, PATHS[pi]);
        rnnfx_instance_set_param(r2, 0, 0.9f);
        rnnfx_instance_process(l2, x1, b1, N);
        rnnfx_instance_process(r2, x2, b2, N);
        assert_memory_equal(a1, b1, sizeof a1);
        assert_memory_equal(a2, b2, sizeof a2);
        rnnfx_instance_free(l), rnnfx_instance_free(r);
        rnnfx_instance_free(l2), rnnfx_instance_free(r2);
    }
    rnnfx_model_free(m);
}

/* ---- knobs ----------------------------------------------------------------- */

static void test_set_param(void **state)
{
    (void)state;
    const Spec *s = &SPECS[1]; /* knob0 in [0, 1] default 0.5; knob1 in [-2, 2] default 0.25 */
    RnnfxModel *m = spec_model(s, 600);
    for (int pi = 0; pi < 2; pi++) {
        RnnfxInstance *inst = new_instance(m, PATHS[pi]);
        assert_true(rnnfx_instance_param(inst, 0) == 0.5f);
        assert_true(rnnfx_instance_param(inst, 1) == 0.25f);
        rnnfx_instance_set_param(inst, 0, 7.0f);
        assert_true(rnnfx_instance_param(inst, 0) == 1.0f);
        rnnfx_instance_set_param(inst, 0, -3.0f);
        assert_true(rnnfx_instance_param(inst, 0) == 0.0f);
        rnnfx_instance_set_param(inst, 1, -INFINITY);
        assert_true(rnnfx_instance_param(inst, 1) == -2.0f);
        rnnfx_instance_set_param(inst, 1, INFINITY);
        assert_true(rnnfx_instance_param(inst, 1) == 2.0f);
        rnnfx_instance_set_param(inst, 1, 0.75f);
        rnnfx_instance_set_param(inst, 1, NAN);
        assert_true(rnnfx_instance_param(inst, 1) == 0.75f);
        /* out-of-range indices are ignored, and read as 0 */
        rnnfx_instance_set_param(inst, -1, 0.3f);
        rnnfx_instance_set_param(inst, 2, 0.3f);
        rnnfx_instance_set_param(inst, 1000000, 0.3f);
        assert_true(rnnfx_instance_param(inst, 0) == 0.0f);
        assert_true(rnnfx_instance_param(inst, 1) == 0.75f);
        assert_true(rnnfx_instance_param(inst, 5) == 0.0f);

        /* a clamped value acts exactly like the range end */
        float x[N], a[N], b[N];
        rnnfx_test_signal(x, N, 31);
        RnnfxInstance *other = new_instance(m, PATHS[pi]);
        rnnfx_instance_set_param(inst, 0, 42.0f);
        rnnfx_instance_set_param(other, 0, 1.0f);
        rnnfx_instance_set_param(other, 1, 0.75f);
        rnnfx_instance_reset(inst);
        rnnfx_instance_process(inst, x, a, N);
        rnnfx_instance_process(other, x, b, N);
        assert_memory_equal(a, b, sizeof a);
        /* and the knob matters at all (else this test proves nothing) */
        rnnfx_instance_reset(other);
        rnnfx_instance_set_param(other, 0, 0.0f);
        rnnfx_instance_process(other, x, b, N);
        assert_true(rnnfx_test_max_abs_diff(a, b, N) > 1e-3);
        rnnfx_instance_free(inst);
        rnnfx_instance_free(other);
    }
    rnnfx_model_free(m);
    /* a model without knobs ignores set_param */
    RnnfxModel *plain = spec_model(&SPECS[0], 601);
    RnnfxInstance *inst = rnnfx_instance_new(plain);
    rnnfx_instance_set_param(inst, 0, 1.0f);
    assert_true(rnnfx_instance_param(inst, 0) == 0.0f);
    rnnfx_instance_free(inst);
    rnnfx_model_free(plain);
}

/* ---- NaN and Inf ----------------------------------------------------------- */

static void test_nonfinite_input(void **state)
{
    (void)state;
    FOR_EACH_SPEC_AND_PATH
    {
        const Spec *s = &SPECS[si];
        RnnfxModel *m = spec_model(s, 700 + si);
        size_t w = (size_t)s->input_size, no = N * (size_t)s->output_size;
        float *frames = make_frames(s, N, 5), *zeroed = malloc(N * w * sizeof(float));
        float *o1 = malloc(no * sizeof(float)), *o2 = malloc(no * sizeof(float));
        memcpy(zeroed, frames, N * w * sizeof(float));
        /* Non-finite values in every channel, alone and in runs. */
        const float bad[3] = {NAN, INFINITY, -INFINITY};
        for (size_t t = 100; t < N; t += 397) {
            for (size_t k = 0; k < w; k++) {
                size_t run_len = (t / 397) % 3 == 0 ? 40 : 1;
                for (size_t j = 0; j < run_len && t + j < N; j++) {
                    frames[(t + j) * w + k] = bad[(t + j + k) % 3];
                    zeroed[(t + j) * w + k] = 0.0f;
                }
            }
        }
        RnnfxInstance *a = new_instance(m, PATHS[pi]), *b = new_instance(m, PATHS[pi]);
        rnnfx_instance_process_frames(a, frames, o1, N);
        rnnfx_instance_process_frames(b, zeroed, o2, N);
        if (!rnnfx_test_all_finite(o1, no))
            fail_msg("%s/%s: non-finite output after NaN/Inf input", s->name, PATH_NAMES[pi]);
        /* A non-finite input sample acts as 0: the instance loses nothing
         * else, so the output equals that of the cleaned input exactly. */
        if (memcmp(o1, o2, no * sizeof(float)) != 0)
            fail_msg("%s/%s: NaN/Inf input is not treated as 0 (max diff %.3g)", s->name,
                     PATH_NAMES[pi], rnnfx_test_max_abs_diff(o1, o2, no));
        if (s->kind == RNNFX_KIND_AUDIO) {
            float *x = malloc(N * sizeof(float)), *xz = malloc(N * sizeof(float));
            for (size_t t = 0; t < N; t++)
                x[t] = frames[t * w], xz[t] = zeroed[t * w];
            rnnfx_instance_reset(a);
            rnnfx_instance_reset(b);
            rnnfx_instance_process(a, x, o1, N);
            rnnfx_instance_process(b, xz, o2, N);
            assert_true(rnnfx_test_all_finite(o1, N));
            assert_memory_equal(o1, o2, N * sizeof(float));
            free(x), free(xz);
        }
        /* after reset, equal to a fresh instance */
        RnnfxInstance *fresh = new_instance(m, PATHS[pi]);
        rnnfx_instance_reset(a);
        rnnfx_instance_process_frames(a, zeroed, o1, N);
        rnnfx_instance_process_frames(fresh, zeroed, o2, N);
        assert_memory_equal(o1, o2, no * sizeof(float));
        rnnfx_instance_free(a), rnnfx_instance_free(b), rnnfx_instance_free(fresh);
        rnnfx_model_free(m);
        free(frames), free(zeroed), free(o1), free(o2);
    }
}

/* Huge finite inputs (which a ReLU RNN turns into an overflowing state) and a
 * state poisoned directly: the output stays finite and the instance recovers
 * by the next block. */
static void test_state_recovery(void **state)
{
    (void)state;
    FOR_EACH_SPEC_AND_PATH
    {
        const Spec *s = &SPECS[si];
        RnnfxModel *m = spec_model(s, 800 + si);
        const RnnfxArch *arch = rnnfx_model_arch(m);
        size_t w = (size_t)s->input_size, no = 512 * (size_t)s->output_size;
        float *huge = malloc(512 * w * sizeof(float));
        float *clean = make_frames(s, 512, 6);
        float *o1 = malloc(no * sizeof(float)), *o2 = malloc(no * sizeof(float));
        for (size_t i = 0; i < 512 * w; i++)
            huge[i] = (i % 3 == 0) ? FLT_MAX : (i % 3 == 1) ? -1e30f : 3e38f;
        RnnfxInstance *a = new_instance(m, PATHS[pi]), *fresh = new_instance(m, PATHS[pi]);
        rnnfx_instance_process_frames(a, huge, o1, 512);
        if (!rnnfx_test_all_finite(o1, no))
            fail_msg("%s/%s: non-finite output for huge finite input", s->name, PATH_NAMES[pi]);
        rnnfx_instance_process_frames(a, clean, o1, 512);
        assert_true(rnnfx_test_all_finite(o1, no));

        /* Poison the state itself. The state is checked at the end of every
         * block (and of every internal chunk), so after a one-frame block it
         * is the initial state again and the next block equals a fresh
         * instance's; the poisoned frame's own output is finite. */
        rnnfx_instance_reset(a);
        for (int l = 0; l < arch->n_layers; l++) {
            rnnfx_instance_hidden(a, l)[0] = NAN;
            if (arch->layers[l].cell == RNNFX_CELL_LSTM)
                rnnfx_instance_cell(a, l)[arch->layers[l].hidden_size - 1] = NAN;
        }
        rnnfx_instance_process_frames(a, clean, o1, 1);
        if (!rnnfx_test_all_finite(o1, (size_t)s->output_size))
            fail_msg("%s/%s: non-finite output from a poisoned state", s->name, PATH_NAMES[pi]);
        /* The state is finite again ... */
        for (int l = 0; l < arch->n_layers; l++) {
            int H = arch->layers[l].hidden_size;
            if (!rnnfx_test_all_finite(rnnfx_instance_hidden(a, l), (size_t)H) ||
                (rnnfx_instance_cell(a, l) &&
                 !rnnfx_test_all_finite(rnnfx_instance_cell(a, l), (size_t)H)))
                fail_msg("%s/%s: state still non-finite after a block", s->name, PATH_NAMES[pi]);
        }
        /* ... and on the reference path (libm activations propagate NaN, so
         * the guard sees it) it is exactly the initial state. The fast
         * activations map NaN to their lower bound by design (see
         * engine/activation.h), which also ends the poisoning, but in some
         * finite state rather than the initial one. */
        rnnfx_instance_process_frames(a, clean, o1, 512);
        rnnfx_instance_process_frames(fresh, clean, o2, 512);
        assert_true(rnnfx_test_all_finite(o1, no));
        if (PATHS[pi] == RNNFX_PATH_REFERENCE && memcmp(o1, o2, no * sizeof(float)) != 0)
            fail_msg("%s/%s: instance did not recover from a poisoned state", s->name,
                     PATH_NAMES[pi]);
        /* An infinite (not NaN) state may be squashed back to finite values
         * by tanh/sigmoid instead of being reset; either way the output must
         * stay finite. */
        rnnfx_instance_hidden(a, 0)[0] = INFINITY;
        if (arch->layers[0].cell == RNNFX_CELL_LSTM)
            rnnfx_instance_cell(a, 0)[0] = -INFINITY;
        rnnfx_instance_process_frames(a, clean, o1, 512);
        if (!rnnfx_test_all_finite(o1, no))
            fail_msg("%s/%s: non-finite output from an infinite state", s->name, PATH_NAMES[pi]);
        rnnfx_instance_free(a), rnnfx_instance_free(fresh);
        rnnfx_model_free(m);
        free(huge), free(clean), free(o1), free(o2);
    }
}

/* ---- the caller's floating-point mode is left alone ---------------------- */

static void test_fp_mode_restored(void **state)
{
    (void)state;
#ifdef HAVE_MXCSR
    RnnfxModel *m = spec_model(&SPECS[0], 900);
    for (int pi = 0; pi < 2; pi++) {
        RnnfxInstance *inst = new_instance(m, PATHS[pi]);
        float x[256], y[256];
        rnnfx_test_signal(x, 256, 41);
        unsigned before = _mm_getcsr();
        rnnfx_instance_process(inst, x, y, 256);
        assert_int_equal(_mm_getcsr(), before);
        rnnfx_instance_process(inst, x, y, 0);
        assert_int_equal(_mm_getcsr(), before);
        /* and denormal inputs and state give finite, sane output */
        for (int i = 0; i < 256; i++)
            x[i] = (i & 1) ? 1e-40f : -1e-42f;
        rnnfx_instance_process(inst, x, y, 256);
        assert_true(rnnfx_test_all_finite(y, 256));
        assert_int_equal(_mm_getcsr(), before);
        rnnfx_instance_free(inst);
    }
    rnnfx_model_free(m);
#else
    skip();
#endif
}

/* ---- no denormals in the state -------------------------------------------- */

/* A model with zero biases and silent input lets the state decay
 * geometrically towards 0, straight through the subnormal range, where x86
 * arithmetic is ~100x slower. The engine runs with flush-to-zero, so no
 * state value may ever be subnormal. */
#ifdef HAVE_MXCSR
static int count_subnormal(const float *v, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += fpclassify(v[i]) == FP_SUBNORMAL;
    return k;
}
#endif

static void test_no_denormal_state(void **state)
{
    (void)state;
#ifdef HAVE_MXCSR
    const RnnfxCell cells[3] = {RNNFX_CELL_LSTM, RNNFX_CELL_GRU, RNNFX_CELL_RNN};
    for (int ci = 0; ci < 3; ci++) {
        RnnfxArch a;
        rnnfx_arch_init_audio(&a, cells[ci], 12, 0);
        a.n_layers = 2;
        a.layers[1] = a.layers[0];
        RnnfxModel *m = rnnfx_test_random_model(&a, 1400 + ci, 0.8f, 0);
        for (int l = 0; l < 2; l++) {
            int r, c;
            float *b = rnnfx_model_tensor(m, l, RNNFX_T_BIAS_IH, &r, &c);
            memset(b, 0, (size_t)c * sizeof(float));
            b = rnnfx_model_tensor(m, l, RNNFX_T_BIAS_HH, &r, &c);
            memset(b, 0, (size_t)c * sizeof(float));
            float *h0 = rnnfx_model_tensor(m, l, RNNFX_T_INITIAL_H, &r, &c);
            for (int j = 0; j < c; j++)
                h0[j] = (j & 1) ? 3e-33f : -2e-35f;
            float *c0 = rnnfx_model_tensor(m, l, RNNFX_T_INITIAL_C, &r, &c);
            for (int j = 0; c0 && j < c; j++)
                c0[j] = (j & 1) ? -4e-33f : 1e-34f;
        }
        RnnfxError err;
        assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
        for (int pi = 0; pi < 2; pi++) {
            RnnfxInstance *inst = new_instance(m, PATHS[pi]);
            float x[16] = {0}, y[16];
            int seen = 0, nonzero = 0;
            for (int block = 0; block < 200; block++) {
                rnnfx_instance_process(inst, x, y, 16);
                for (int l = 0; l < 2; l++) {
                    seen += count_subnormal(rnnfx_instance_hidden(inst, l), 12);
                    if (rnnfx_instance_cell(inst, l))
                        seen += count_subnormal(rnnfx_instance_cell(inst, l), 12);
                    if (block == 0)
                        for (int j = 0; j < 12; j++)
                            nonzero += rnnfx_instance_hidden(inst, l)[j] != 0.0f;
                }
                seen += count_subnormal(y, 16);
            }
            if (seen)
                fail_msg("%s/%s: %d subnormal state/output values", rnnfx_cell_name(cells[ci]),
                         PATH_NAMES[pi], seen);
            /* The decay really started above zero: checked on the reference
             * path (libm). A fast path may round tanh of a ~1e-33 value to
             * exactly 0 (the AVX2 and generic tanh is 2 sigma(2x) - 1), which
             * skips the subnormal range outright. */
            if (PATHS[pi] == RNNFX_PATH_REFERENCE)
                assert_true(nonzero > 0);
            rnnfx_instance_free(inst);
        }
        rnnfx_model_free(m);
    }
#else
    skip();
#endif
}

/* ---- caller memory, NULLs ----------------------------------------------- */

static void test_free_null(void **state)
{
    (void)state;
    rnnfx_model_free(NULL);
    rnnfx_instance_free(NULL);
    rnnfx_fast_free(NULL);
    /* an instance made by _init in caller memory: _free leaves it alone */
    RnnfxModel *m = spec_model(&SPECS[0], 1000);
    size_t size = rnnfx_instance_size(m);
    void *mem = malloc(size);
    RnnfxInstance *inst = rnnfx_instance_init(mem, size, m);
    assert_non_null(inst);
    rnnfx_instance_free(inst); /* must not free caller memory */
    free(mem);
    rnnfx_model_free(m);
}

static void test_instance_init_memory(void **state)
{
    (void)state;
    for (size_t si = 0; si < N_SPECS; si++) {
        const Spec *s = &SPECS[si];
        RnnfxModel *m = spec_model(s, 1100 + si);
        size_t size = rnnfx_instance_size(m);
        assert_true(size > 0);
        unsigned char *mem = malloc(size + 64);
        assert_non_null(mem);
        assert_null(rnnfx_instance_init(mem, size - 1, m));
        assert_null(rnnfx_instance_init(mem, 0, m));
        assert_null(rnnfx_instance_init(NULL, size, m));
        assert_null(rnnfx_instance_init(mem, size, NULL));
        /* any alignment works, and gives the same output as _new */
        float *frames = make_frames(s, 600, 7);
        size_t no = 600 * (size_t)s->output_size;
        float *o1 = malloc(no * sizeof(float)), *o2 = malloc(no * sizeof(float));
        RnnfxInstance *ref = rnnfx_instance_new(m);
        rnnfx_instance_process_frames(ref, frames, o1, 600);
        for (size_t off = 1; off < 64; off += 13) {
            memset(mem, 0xA5, size + 64); /* garbage the instance must not rely on */
            RnnfxInstance *inst = rnnfx_instance_init(mem + off, size, m);
            assert_non_null(inst);
            assert_ptr_equal(rnnfx_instance_model(inst), m);
            rnnfx_instance_process_frames(inst, frames, o2, 600);
            assert_memory_equal(o1, o2, no * sizeof(float));
        }
        rnnfx_instance_free(ref);
        free(mem), free(frames), free(o1), free(o2);
        rnnfx_model_free(m);
    }
    /* a model that is not finalized has no instances */
    RnnfxArch a;
    rnnfx_arch_init_audio(&a, RNNFX_CELL_GRU, 8, 1);
    RnnfxModel *raw = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_new(&a, &raw, &err), RNNFX_OK);
    assert_false(rnnfx_model_is_finalized(raw));
    assert_int_equal(rnnfx_instance_size(raw), 0);
    assert_null(rnnfx_instance_new(raw));
    char mem[65536];
    assert_null(rnnfx_instance_init(mem, sizeof mem, raw));
    rnnfx_model_free(raw);
}

/* ---- architecture checks ------------------------------------------------- */

static void test_arch_check(void **state)
{
    (void)state;
    RnnfxArch good;
    RnnfxError err;
    rnnfx_arch_init_audio(&good, RNNFX_CELL_LSTM, 16, 1);
    assert_int_equal(rnnfx_arch_check(&good, &err), RNNFX_OK);
    assert_int_not_equal(rnnfx_arch_check(NULL, &err), RNNFX_OK);

    struct {
        const char *what, *needle;
        RnnfxArch a;
    } bad[32];
    int n = 0;
#define BAD(desc, needle_, stmt)                                                                \
    do {                                                                                       \
        bad[n].what = desc;                                                                    \
        bad[n].needle = needle_;                                                               \
        bad[n].a = good;                                                                       \
        RnnfxArch *a = &bad[n].a;                                                              \
        stmt;                                                                                  \
        n++;                                                                                   \
    } while (0)
    BAD("no layers", "layer", a->n_layers = 0);
    BAD("too many layers", "layer", a->n_layers = RNNFX_MAX_LAYERS + 1;
        for (int l = 0; l < RNNFX_MAX_LAYERS; l++) a->layers[l] = good.layers[0]);
    BAD("negative layers", "layer", a->n_layers = -3);
    BAD("hidden 0", "hidden", a->layers[0].hidden_size = 0);
    BAD("hidden negative", "hidden", a->layers[0].hidden_size = -8);
    BAD("hidden too big", "hidden", a->layers[0].hidden_size = RNNFX_MAX_HIDDEN + 1);
    BAD("hidden 1e9", "hidden", a->layers[0].hidden_size = 1000000000);
    BAD("input 0", "input", a->input_size = 0);
    BAD("input too big", "input", a->input_size = RNNFX_MAX_INPUTS + 1);
    BAD("output 0", "output", a->output_size = 0);
    BAD("output too big", "output", a->output_size = RNNFX_MAX_OUTPUTS + 1);
    BAD("audio input != 1 + knobs", "input", a->input_size = 3);
    BAD("too many knobs", "conditioning", a->n_params = RNNFX_MAX_PARAMS + 1;
        a->input_size = RNNFX_MAX_PARAMS + 2);
    BAD("unnamed knob", "name", a->n_params = 1; a->input_size = 2; a->params[0].min = 0;
        a->params[0].max = 1; a->params[0].def = 0.5f);
    BAD("knob min >= max", "range", a->n_params = 1; a->input_size = 2;
        strcpy(a->params[0].name, "drive"); a->params[0].min = 1; a->params[0].max = 1);
    BAD("knob default outside", "range", a->n_params = 1; a->input_size = 2;
        strcpy(a->params[0].name, "drive"); a->params[0].min = 0; a->params[0].max = 1;
        a->params[0].def = 2);
    BAD("knob NaN range", "range", a->n_params = 1; a->input_size = 2;
        strcpy(a->params[0].name, "drive"); a->params[0].min = NAN; a->params[0].max = 1);
    BAD("peephole on GRU", "peephole", a->layers[0].cell = RNNFX_CELL_GRU;
        a->layers[0].peephole = 1);
    BAD("relu on LSTM", "relu", a->layers[0].relu = 1);
    BAD("unknown cell", "cell", a->layers[0].cell = (RnnfxCell)7);
    BAD("unknown kind", "kind", a->kind = (RnnfxKind)5);
    BAD("midi with knobs", "knob", a->kind = RNNFX_KIND_MIDI_FRAMES; a->n_params = 1;
        a->input_size = 2; strcpy(a->params[0].name, "x"); a->params[0].max = 1);
    BAD("bad second layer", "layer 1", a->n_layers = 2; a->layers[1] = good.layers[0];
        a->layers[1].hidden_size = 0);
#undef BAD
    for (int i = 0; i < n; i++) {
        memset(&err, 0, sizeof err);
        RnnfxStatus st = rnnfx_arch_check(&bad[i].a, &err);
        if (st == RNNFX_OK)
            fail_msg("arch_check accepted: %s", bad[i].what);
        if (err.msg[0] == '\0')
            fail_msg("arch_check gave no message for: %s", bad[i].what);
        /* the message names the problem (case-insensitive) */
        char lower[sizeof err.msg];
        for (size_t k = 0; k < sizeof lower; k++)
            lower[k] = (char)((err.msg[k] >= 'A' && err.msg[k] <= 'Z') ? err.msg[k] + 32 : err.msg[k]);
        if (!strstr(lower, bad[i].needle))
            fail_msg("arch_check message for '%s' does not mention '%s': %s", bad[i].what,
                     bad[i].needle, err.msg);
        RnnfxModel *m = (RnnfxModel *)&err; /* must be overwritten with NULL */
        assert_int_not_equal(rnnfx_model_new(&bad[i].a, &m, &err), RNNFX_OK);
        assert_null(m);
    }
    /* every cell type with every hidden size edge is accepted */
    RnnfxCell cells[3] = {RNNFX_CELL_LSTM, RNNFX_CELL_GRU, RNNFX_CELL_RNN};
    for (int c = 0; c < 3; c++) {
        RnnfxArch a = good;
        a.layers[0].cell = cells[c];
        a.layers[0].hidden_size = 1;
        assert_int_equal(rnnfx_arch_check(&a, &err), RNNFX_OK);
        a.layers[0].hidden_size = RNNFX_MAX_HIDDEN;
        assert_int_equal(rnnfx_arch_check(&a, &err), RNNFX_OK);
    }
    assert_int_equal(rnnfx_cell_gates(RNNFX_CELL_LSTM), 4);
    assert_int_equal(rnnfx_cell_gates(RNNFX_CELL_GRU), 3);
    assert_int_equal(rnnfx_cell_gates(RNNFX_CELL_RNN), 1);
}

/* ---- finalize checks weights and metadata -------------------------------- */

static void test_finalize_rejects(void **state)
{
    (void)state;
    RnnfxArch a;
    rnnfx_arch_init_audio(&a, RNNFX_CELL_LSTM, 8, 0);
    const float poison[3] = {NAN, INFINITY, -INFINITY};
    const struct {
        int layer;
        RnnfxTensor t;
        const char *name;
    } where[] = {{0, RNNFX_T_WEIGHT_IH, "weight_ih"}, {0, RNNFX_T_WEIGHT_HH, "weight_hh"},
                 {0, RNNFX_T_BIAS_HH, "bias_hh"},     {0, RNNFX_T_INITIAL_C, "initial_c"},
                 {-1, RNNFX_T_DENSE_W, "dense"},      {-1, RNNFX_T_DENSE_B, "dense"}};
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        RnnfxModel *m = rnnfx_test_random_model(&a, 1200, 1.0f, 0);
        assert_non_null(m);
        int rows, cols;
        float *p = rnnfx_model_tensor(m, where[w].layer, where[w].t, &rows, &cols);
        assert_non_null(p);
        p[rows * cols - 1] = poison[w % 3];
        RnnfxError err = {{0}};
        assert_int_not_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
        if (!strstr(err.msg, where[w].name))
            fail_msg("finalize message does not name %s: %s", where[w].name, err.msg);
        assert_false(rnnfx_model_is_finalized(m));
        assert_null(rnnfx_instance_new(m));
        rnnfx_model_free(m);
    }
    RnnfxModel *m = rnnfx_test_random_model(&a, 1201, 1.0f, 0);
    RnnfxError err;
    rnnfx_model_meta(m)->sample_rate = NAN;
    assert_int_not_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    rnnfx_model_meta(m)->sample_rate = 44100;
    rnnfx_model_meta(m)->output_gain = INFINITY;
    assert_int_not_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    rnnfx_model_meta(m)->output_gain = 1;
    assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    rnnfx_model_free(m);
    /* a MIDI grid is checked against the model, without overflowing on
     * absurd key numbers */
    RnnfxArch md;
    rnnfx_arch_init_audio(&md, RNNFX_CELL_GRU, 8, 0);
    md.kind = RNNFX_KIND_MIDI_FRAMES;
    md.input_size = md.output_size = 12;
    md.output_sigmoid = 1;
    m = rnnfx_test_random_model(&md, 1203, 1.0f, 0);
    assert_non_null(m);
    RnnfxMidiInfo *grid = &rnnfx_model_meta(m)->midi;
    grid->low_key = 60;
    grid->n_keys = 12;
    grid->n_beat_features = 0;
    assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    const int bad_grid[][2] = {{INT_MAX, 12}, {117, 12}, {-1, 12}, {60, 0}};
    for (size_t i = 0; i < sizeof bad_grid / sizeof bad_grid[0]; i++) {
        grid->low_key = bad_grid[i][0];
        grid->n_keys = bad_grid[i][1];
        assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_ERR_INVALID);
        assert_non_null(strstr(err.msg, "MIDI grid"));
    }
    grid->low_key = 116; /* keys 116..127: the top of the MIDI range */
    grid->n_keys = 12;
    assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    rnnfx_model_free(m);
    /* tensors a layer does not have */
    RnnfxArch g;
    rnnfx_arch_init_audio(&g, RNNFX_CELL_GRU, 8, 0);
    m = rnnfx_test_random_model(&g, 1202, 1.0f, 0);
    int rows = -1, cols = -1;
    assert_null(rnnfx_model_tensor(m, 0, RNNFX_T_PEEPHOLE, &rows, &cols));
    assert_null(rnnfx_model_tensor(m, 0, RNNFX_T_INITIAL_C, NULL, NULL));
    assert_null(rnnfx_model_tensor(m, 1, RNNFX_T_WEIGHT_IH, NULL, NULL));
    assert_null(rnnfx_model_tensor(m, 0, RNNFX_T_DENSE_W, NULL, NULL));
    assert_null(rnnfx_model_tensor(m, 0, RNNFX_T_COUNT, NULL, NULL));
    assert_non_null(rnnfx_model_tensor(m, 0, RNNFX_T_WEIGHT_HH, &rows, &cols));
    assert_int_equal(rows, 24);
    assert_int_equal(cols, 8);
    rnnfx_model_free(m);
}

/* ---- clone ------------------------------------------------------------------ */

static void test_clone(void **state)
{
    (void)state;
    for (size_t si = 0; si < N_SPECS; si++) {
        const Spec *s = &SPECS[si];
        RnnfxModel *m = spec_model(s, 1300 + si);
        snprintf(rnnfx_model_meta(m)->name, sizeof rnnfx_model_meta(m)->name, "clone \"%zu\"", si);
        RnnfxModel *c = NULL;
        RnnfxError err;
        assert_int_equal(rnnfx_model_clone(m, &c, &err), RNNFX_OK);
        assert_true(rnnfx_model_is_finalized(c));
        size_t n1, n2;
        const float *p1 = rnnfx_model_params_const(m, &n1), *p2 = rnnfx_model_params_const(c, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(p1, p2, n1 * sizeof(float));
        assert_memory_equal(rnnfx_model_arch(m), rnnfx_model_arch(c), sizeof(RnnfxArch));
        assert_memory_equal(rnnfx_model_meta_const(m), rnnfx_model_meta_const(c), sizeof(RnnfxMeta));
        float *frames = make_frames(s, 1000, 8);
        size_t no = 1000 * (size_t)s->output_size;
        float *o1 = malloc(no * sizeof(float)), *o2 = malloc(no * sizeof(float));
        for (int pi = 0; pi < 2; pi++) {
            RnnfxInstance *a = new_instance(m, PATHS[pi]), *b = new_instance(c, PATHS[pi]);
            rnnfx_instance_process_frames(a, frames, o1, 1000);
            rnnfx_instance_process_frames(b, frames, o2, 1000);
            assert_memory_equal(o1, o2, no * sizeof(float));
            rnnfx_instance_free(a), rnnfx_instance_free(b);
        }
        /* the clone is deep: changing it leaves the original alone */
        rnnfx_model_params(c, NULL)[0] += 1.0f;
        assert_true(rnnfx_model_params_const(m, NULL)[0] != rnnfx_model_params_const(c, NULL)[0]);
        rnnfx_model_free(m); /* the clone outlives its source */
        assert_int_equal(rnnfx_model_finalize(c, &err), RNNFX_OK);
        RnnfxInstance *b = rnnfx_instance_new(c);
        rnnfx_instance_process_frames(b, frames, o2, 1000);
        assert_true(rnnfx_test_all_finite(o2, no));
        rnnfx_instance_free(b);
        rnnfx_model_free(c);
        free(frames), free(o1), free(o2);
    }
    /* an unfinalized model clones unfinalized */
    RnnfxArch a;
    rnnfx_arch_init_audio(&a, RNNFX_CELL_RNN, 4, 0);
    RnnfxModel *raw = NULL, *c = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_new(&a, &raw, &err), RNNFX_OK);
    assert_int_equal(rnnfx_model_clone(raw, &c, &err), RNNFX_OK);
    assert_false(rnnfx_model_is_finalized(c));
    rnnfx_model_free(raw);
    rnnfx_model_free(c);
    assert_int_not_equal(rnnfx_model_clone(NULL, &c, &err), RNNFX_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_equals_fresh),
        cmocka_unit_test(test_block_split),
        cmocka_unit_test(test_process_equals_frames),
        cmocka_unit_test(test_fast_equals_reference),
        cmocka_unit_test(test_shared_model),
        cmocka_unit_test(test_set_param),
        cmocka_unit_test(test_nonfinite_input),
        cmocka_unit_test(test_state_recovery),
        cmocka_unit_test(test_fp_mode_restored),
        cmocka_unit_test(test_no_denormal_state),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_instance_init_memory),
        cmocka_unit_test(test_arch_check),
        cmocka_unit_test(test_finalize_rejects),
        cmocka_unit_test(test_clone),
    };
    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}

/*
 * test_midi_gen.c — sampling and generation for MIDI-frame models, and the
 * MIDI-shaped training gradient.
 *
 * - PCG32 against the published reference stream of its author's minimal C
 *   implementation (seed 42, stream 54: 0xa15c02b7 0x7b47f409 ...).
 * - Sampling frequencies against the closed form of temperature and density
 *   (p' = σ((logit p + ln d)/T)), the polyphony cap, temperature 0.
 * - Generation is deterministic for a seed, differs across seeds, and
 *   depends on the primer.
 * - The model input/target rows follow the documented convention.
 * - The BCE gradient of a GRU with 92 inputs and 88 sigmoid outputs (the
 *   MIDI shape) against central finite differences of the trainer's loss.
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
#include "midi_file.h"
#include "midi_frames.h"
#include "midi_gen.h"
#include "model.h"
#include "train.h"

/* 4/4 from the first frame */
static const RnnfxMidiMeter m44 = {4, 2, 0.0};

static void test_pcg32_reference_stream(void **state)
{
    (void)state;
    /* pcg32_srandom_r(rng, 42, 54) done by hand on the struct */
    RnnfxRng r = {0, (54u << 1) | 1u};
    rnnfx_rng_next(&r);
    r.state += 42;
    rnnfx_rng_next(&r);
    assert_true(r.state == 1753877967969059832ull);
    static const uint32_t want[6] = {0xa15c02b7u, 0x7b47f409u, 0xba1d3330u,
                                     0x83d2f293u, 0xbfa4784bu, 0xcbed606eu};
    for (int i = 0; i < 6; i++)
        assert_int_equal(rnnfx_rng_next(&r), want[i]);
}

static void test_rng_seeding(void **state)
{
    (void)state;
    RnnfxRng a, b, c;
    rnnfx_rng_seed(&a, 5);
    rnnfx_rng_seed(&b, 5);
    rnnfx_rng_seed(&c, 6);
    int same_ab = 1, same_ac = 1;
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        float x = rnnfx_rng_uniform(&a), y = rnnfx_rng_uniform(&b), z = rnnfx_rng_uniform(&c);
        assert_true(x >= 0.0f && x < 1.0f);
        same_ab &= x == y;
        same_ac &= x == z;
        sum += x;
    }
    assert_true(same_ab);
    assert_false(same_ac);
    assert_float_equal(sum / 100000.0, 0.5, 0.005);
}

static double sampled_rate(float p, float temperature, float density)
{
    float probs[88], out[88];
    for (int k = 0; k < 88; k++)
        probs[k] = p;
    RnnfxRng r;
    rnnfx_rng_seed(&r, 1234);
    RnnfxMidiSampling s = {temperature, density, 0};
    long on = 0;
    for (int f = 0; f < 2000; f++)
        on += rnnfx_midi_sample_frame(probs, 88, &s, &r, out);
    return (double)on / (2000.0 * 88.0);
}

static double closed_form(double p, double t, double d)
{
    double l = log(p / (1 - p)) + log(d);
    return 1.0 / (1.0 + exp(-l / t));
}

static void test_sampling_frequencies(void **state)
{
    (void)state;
    /* 176000 draws: standard error below 0.0012 */
    assert_float_equal(sampled_rate(0.3f, 1, 1), 0.3, 0.005);
    assert_float_equal(sampled_rate(0.3f, 1, 2), closed_form(0.3, 1, 2), 0.005);
    assert_float_equal(sampled_rate(0.3f, 0.5f, 1), closed_form(0.3, 0.5, 1), 0.005);
    assert_float_equal(sampled_rate(0.3f, 2, 0.5f), closed_form(0.3, 2, 0.5), 0.005);
    assert_float_equal(sampled_rate(0.3f, 0, 1), 0.0, 0);
    assert_float_equal(sampled_rate(0.6f, 0, 1), 1.0, 0);
    assert_float_equal(sampled_rate(0.3f, 0, 4), 1.0, 0); /* odds 0.43 x 4 > 1 */
    assert_float_equal(sampled_rate(0.0f, 1, 4), 0.0, 0);
    assert_float_equal(sampled_rate(1.0f, 1, 0.25f), 1.0, 0);
}

static void test_polyphony_cap_keeps_most_probable(void **state)
{
    (void)state;
    float probs[88], out[88];
    for (int k = 0; k < 88; k++)
        probs[k] = 0.5f + 0.4f * (float)k / 87.0f; /* higher keys more likely */
    probs[10] = NAN;                                /* counts as 0 */
    RnnfxRng r;
    rnnfx_rng_seed(&r, 9);
    RnnfxMidiSampling s = {1.0f, 1.0f, 3};
    for (int f = 0; f < 200; f++) {
        int n = rnnfx_midi_sample_frame(probs, 88, &s, &r, out);
        int count = 0, lowest = 88;
        for (int k = 0; k < 88; k++)
            if (out[k] > 0.5f) {
                count++;
                if (k < lowest)
                    lowest = k;
            }
        assert_int_equal(n, count);
        assert_true(n <= 3);
        assert_true(out[10] == 0.0f);
        assert_true(n < 3 || lowest > 40); /* with ~60 candidates, the top 3 are high keys */
    }
}

static RnnfxModel *midi_model(int beat, uint64_t seed)
{
    RnnfxArch a;
    memset(&a, 0, sizeof a);
    a.kind = RNNFX_KIND_MIDI_FRAMES;
    a.input_size = 88 + (beat ? 4 : 0);
    a.output_size = 88;
    a.n_layers = 1;
    a.output_sigmoid = 1;
    a.layers[0].cell = RNNFX_CELL_GRU;
    a.layers[0].hidden_size = 12;
    RnnfxModel *m = rnnfx_test_random_model(&a, seed, 1.0f, 0);
    assert_non_null(m);
    int rows, cols;
    float *b = rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_B, &rows, &cols);
    for (int k = 0; k < 88; k++)
        b[k] -= 2.5f;
    rnnfx_model_meta(m)->midi.steps_per_quarter = 2;
    RnnfxError err;
    assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    return m;
}

static void test_generation_deterministic(void **state)
{
    (void)state;
    RnnfxModel *m = midi_model(1, 3);
    RnnfxInstance *inst = rnnfx_instance_new(m);
    assert_non_null(inst);
    const size_t n = 64, fs = 92;
    float *a = calloc(n * fs, sizeof(float)), *b = calloc(n * fs, sizeof(float)),
          *c = calloc(n * fs, sizeof(float)), *d = calloc(n * fs, sizeof(float));
    float prime[4 * 92] = {0};
    prime[60 - 21] = 1.0f;
    prime[92 + 64 - 21] = 1.0f;
    RnnfxMidiSampling s;
    rnnfx_midi_sampling_default(&s);
    RnnfxError err;
    RnnfxRng r;
    rnnfx_rng_seed(&r, 42);
    assert_int_equal(rnnfx_midi_generate(inst, NULL, 0, n, &m44, &s, &r, a, &err), RNNFX_OK);
    rnnfx_rng_seed(&r, 42);
    assert_int_equal(rnnfx_midi_generate(inst, NULL, 0, n, &m44, &s, &r, b, &err), RNNFX_OK);
    rnnfx_rng_seed(&r, 43);
    assert_int_equal(rnnfx_midi_generate(inst, NULL, 0, n, &m44, &s, &r, c, &err), RNNFX_OK);
    rnnfx_rng_seed(&r, 42);
    assert_int_equal(rnnfx_midi_generate(inst, prime, 4, n, &m44, &s, &r, d, &err), RNNFX_OK);
    assert_memory_equal(a, b, n * fs * sizeof(float));
    assert_memory_not_equal(a, c, n * fs * sizeof(float));
    assert_memory_not_equal(a, d, n * fs * sizeof(float));
    long notes = 0;
    for (size_t i = 0; i < n * fs; i++)
        if (i % fs < 88)
            notes += a[i] > 0.5f;
    assert_true(notes > 0);
    /* beat features of generated frames: eighth grid in 4/4, downbeat every
     * 8 steps, a beat every 2 */
    for (size_t f = 0; f < n; f++) {
        assert_float_equal(a[f * fs + 88], (f % 8 == 0 ? 1.0f : 0.0f), 0);
        assert_float_equal(a[f * fs + 89], (f % 2 == 0 ? 1.0f : 0.0f), 0);
    }
    /* A model that is not a MIDI model is refused. */
    RnnfxArch aa;
    rnnfx_arch_init_audio(&aa, RNNFX_CELL_GRU, 4, 0);
    RnnfxModel *audio = rnnfx_test_random_model(&aa, 1, 1.0f, 0);
    RnnfxInstance *ai = rnnfx_instance_new(audio);
    assert_int_equal(rnnfx_midi_generate(ai, NULL, 0, 4, &m44, &s, &r, a, &err),
                     RNNFX_ERR_INVALID);
    rnnfx_instance_free(ai);
    rnnfx_model_free(audio);
    free(a);
    free(b);
    free(c);
    free(d);
    rnnfx_instance_free(inst);
    rnnfx_model_free(m);
}

static void test_make_io_convention(void **state)
{
    (void)state;
    char path[1024];
    RnnfxMidiSong *song = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_midi_read(rnnfx_test_path(path, sizeof path,
                                                     "tests/data/midi/type1_tempo.mid"),
                                     &song, &err),
                     RNNFX_OK);
    RnnfxMidiInfo info;
    rnnfx_midi_info_init(&info, 2, 1);
    RnnfxMidiFrames *fr = NULL;
    assert_int_equal(rnnfx_midi_frames_from_song(song, &info, &fr, &err), RNNFX_OK);
    size_t n = fr->n_frames;
    float *in = malloc(n * 92 * sizeof(float)), *tg = malloc(n * 88 * sizeof(float));
    rnnfx_midi_frames_make_io(fr, in, tg);
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 88; k++) {
            assert_float_equal(tg[i * 88 + k], fr->data[i * 92 + k], 0);
            float prev = i ? fr->data[(i - 1) * 92 + k] : 0.0f;
            assert_float_equal(in[i * 92 + k], prev, 0);
        }
        for (int j = 0; j < 4; j++)
            assert_float_equal(in[i * 92 + 88 + j], fr->data[i * 92 + 88 + j], 0);
    }
    free(in);
    free(tg);
    rnnfx_midi_frames_free(fr);
    rnnfx_midi_song_free(song);
}

/* Central differences of the trainer's BCE loss, in double precision of
 * the perturbation bookkeeping (the loss itself is accumulated in double by
 * the trainer). */
static void test_bce_gradient_midi_shape(void **state)
{
    (void)state;
    RnnfxModel *m = midi_model(1, 17);
    RnnfxTrainConfig cfg;
    rnnfx_train_config_default(&cfg);
    cfg.loss = RNNFX_LOSS_BCE;
    cfg.burn_in = 0;
    cfg.tbptt = 0;
    cfg.threads = 1;
    const int B = 2;
    const size_t T = 6;
    float *in = calloc((size_t)B * T * 92, sizeof(float));
    float *tg = calloc((size_t)B * T * 88, sizeof(float));
    RnnfxTestRng r;
    rnnfx_test_rng_seed(&r, 5);
    for (size_t i = 0; i < (size_t)B * T; i++) {
        for (int k = 0; k < 88; k++) {
            in[i * 92 + k] = rnnfx_test_rng_uniform(&r) < 0.1 ? 1.0f : 0.0f;
            tg[i * 88 + k] = rnnfx_test_rng_uniform(&r) < 0.1 ? 1.0f : 0.0f;
        }
        rnnfx_midi_beat_features((double)(i % 8) / 2.0, 4.0, in + i * 92 + 88, 4);
    }
    size_t np;
    float *p = rnnfx_model_params(m, &np);
    float *g = calloc(np, sizeof(float));
    double loss;
    RnnfxError err;
    assert_int_equal(rnnfx_train_loss_grad(m, &cfg, in, tg, B, T, &loss, g, &err), RNNFX_OK);
    assert_true(loss > 0);
    int checked = 0, bad = 0;
    for (size_t i = 0; i < np; i += 37) {
        float keep = p[i];
        const float h = 1e-2f;
        double lp, lm;
        float *scratch = calloc(np, sizeof(float));
        p[i] = keep + h;
        assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
        rnnfx_train_loss_grad(m, &cfg, in, tg, B, T, &lp, scratch, &err);
        p[i] = keep - h;
        assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
        rnnfx_train_loss_grad(m, &cfg, in, tg, B, T, &lm, scratch, &err);
        p[i] = keep;
        free(scratch);
        double fd = (lp - lm) / (2.0 * (double)h);
        double tol = 2e-3 + 2e-2 * fabs(fd);
        if (fabs(fd - (double)g[i]) > tol) {
            print_error("param %zu: analytic %g, finite difference %g\n", i, (double)g[i], fd);
            bad++;
        }
        checked++;
    }
    assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    assert_true(checked > 50);
    assert_int_equal(bad, 0);
    free(g);
    free(in);
    free(tg);
    rnnfx_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcg32_reference_stream),
        cmocka_unit_test(test_rng_seeding),
        cmocka_unit_test(test_sampling_frequencies),
        cmocka_unit_test(test_polyphony_cap_keeps_most_probable),
        cmocka_unit_test(test_generation_deterministic),
        cmocka_unit_test(test_make_io_convention),
        cmocka_unit_test(test_bce_gradient_midi_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

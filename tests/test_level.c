/*
 * test_level.c — a capture's level (engine/level.c) and the chain's
 * normalize control.
 *
 * References nobody here wrote: the K-weighting coefficients ITU-R BS.1770
 * publishes for 48 kHz, and real captures of the same pedal trained
 * independently (two NAM files of one Boss SD-1). Real DI guitar takes
 * (tests/data/align, MIT licence) check that normalize level-matches real
 * captures on real playing, which is what a user hears.
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

#include "audio_io.h"
#include "chain.h"
#include "enginetest.h"
#include "level.h"
#include "model_file.h"

enum { RATE = 48000 };

/* ---- K-weighting ---------------------------------------------------------- */

static void test_kweight_published(void **state)
{
    (void)state;
    /* ITU-R BS.1770-4, tables 1 and 2 (48 kHz) */
    RnnfxKWeight k;
    rnnfx_kweight_init(&k, 48000.0);
    const double shelf[5] = {1.53512485958697, -2.69169618940638, 1.19839281085285,
                             -1.69065929318241, 0.73248077421585};
    const double got[5] = {k.shelf.b0, k.shelf.b1, k.shelf.b2, k.shelf.a1, k.shelf.a2};
    for (int i = 0; i < 5; i++) assert_true(fabs(got[i] - shelf[i]) < 1e-12);
    assert_true(k.highpass.b0 == 1.0 && k.highpass.b1 == -2.0 && k.highpass.b2 == 1.0);
    assert_true(fabs(k.highpass.a1 - -1.99004745483398) < 1e-12);
    assert_true(fabs(k.highpass.a2 - 0.99007225036621) < 1e-12);
}

/* |H(f)| of one section, in dB. */
static double section_db(const RnnfxBiquad *q, double f, double rate)
{
    const double w = 2.0 * M_PI * f / rate;
    const double nr = q->b0 + q->b1 * cos(w) + q->b2 * cos(2 * w);
    const double ni = -q->b1 * sin(w) - q->b2 * sin(2 * w);
    const double dr = 1.0 + q->a1 * cos(w) + q->a2 * cos(2 * w);
    const double di = -q->a1 * sin(w) - q->a2 * sin(2 * w);
    return 10.0 * log10((nr * nr + ni * ni) / (dr * dr + di * di));
}

/* The weighting is the same curve at every rate (up to where the 48 kHz
 * curve itself bends toward its Nyquist frequency). */
static void test_kweight_rates(void **state)
{
    (void)state;
    RnnfxKWeight k48;
    rnnfx_kweight_init(&k48, 48000.0);
    const double rates[] = {22050.0, 44100.0, 88200.0, 96000.0, 192000.0};
    double worst = 0.0;
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        RnnfxKWeight k;
        rnnfx_kweight_init(&k, rates[r]);
        for (double f = 20.0; f <= 8000.0; f *= 1.1) {
            const double a = section_db(&k.shelf, f, rates[r]) + section_db(&k.highpass, f, rates[r]);
            const double b = section_db(&k48.shelf, f, 48000.0) + section_db(&k48.highpass, f, 48000.0);
            worst = fmax(worst, fabs(a - b));
        }
    }
    print_message("K-weighting 20 Hz-8 kHz at 22.05-192 kHz: within %.3f dB of 48 kHz's\n", worst);
    assert_true(worst < 0.1);
}

/* ---- levels of models -------------------------------------------------------- */

/* y = gain * x: zero weights, skip connection, the model's output gain;
 * skip 0 gives a model that plays silence. */
static RnnfxModel *wire_model(float gain, int skip)
{
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, RNNFX_CELL_GRU, 4, skip);
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_new(&arch, &m, &err), RNNFX_OK);
    rnnfx_model_meta(m)->sample_rate = RATE;
    rnnfx_model_meta(m)->output_gain = gain;
    assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    return m;
}

static RnnfxChainCore *core_of(const RnnfxModel *m, int channels)
{
    RnnfxChain *c = NULL;
    RnnfxChainCore *core = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_new_multi(NULL, RATE, channels, 512, &c, &err), RNNFX_OK);
    assert_int_equal(rnnfx_chain_core_new(c, (RnnfxModel *)m, 0, &core, &err), RNNFX_OK);
    rnnfx_chain_free(c);
    return core;
}

static double level_of(const RnnfxModel *m)
{
    RnnfxChainCore *core = core_of(m, 1);
    const double db = rnnfx_chain_core_level_db(core);
    rnnfx_chain_core_free(core);
    return db;
}

/* A pure gain measures as that gain (the weighting is linear). */
static void test_level_of_gain(void **state)
{
    (void)state;
    const float gains[] = {4.0f, 0.5f, 1.0f};
    for (int i = 0; i < 3; i++) {
        RnnfxModel *m = wire_model(gains[i], 1);
        const double db = level_of(m);
        print_message("a gain of %g measures %+.6f dB\n", gains[i], db);
        assert_true(fabs(db - 20.0 * log10(gains[i])) < 1e-4);
        rnnfx_model_free(m);
    }
    RnnfxModel *m = wire_model(1.0f, 0);
    assert_true(isnan(level_of(m))); /* silence has no level */
    rnnfx_model_free(m);
}

static RnnfxModel *load(const char *rel)
{
    char path[4096];
    RnnfxModel *m = NULL;
    RnnfxError err;
    if (rnnfx_model_load(rnnfx_test_path(path, sizeof path, rel), NULL, &m, &err) != RNNFX_OK)
        fail_msg("%s: %s", rel, err.msg);
    return m;
}

/* Two captures of one Boss SD-1, trained independently by their authors
 * (a 1x16 and a 2x8 LSTM): one level within half a dB. */
static void test_level_same_pedal(void **state)
{
    (void)state;
    RnnfxModel *a = load("tests/data/interop/neuralaudio_boss_sd1_lstm_1x16.nam");
    RnnfxModel *b = load("tests/data/interop/neuralaudio_boss_sd1_lstm_2x8.nam");
    const double la = level_of(a), lb = level_of(b);
    print_message("SD-1 1x16: %+.2f dB, 2x8: %+.2f dB\n", la, lb);
    assert_true(la > 6.0 && fabs(la - lb) < 0.5);
    rnnfx_model_free(a);
    rnnfx_model_free(b);
}

/* ---- the chain's normalize ------------------------------------------------- */

static RnnfxChain *chain_with(const RnnfxModel *m, int channels, int normalize)
{
    RnnfxChain *c = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_new_multi(m, RATE, channels, 512, &c, &err), RNNFX_OK);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.normalize = normalize;
    rnnfx_chain_set_controls(c, &ctl);
    return c;
}

static void set_normalize(RnnfxChain *c, int on)
{
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.normalize = on;
    rnnfx_chain_set_controls(c, &ctl);
}

/* Normalized, a pure gain plays its input back, on both channels of a
 * stereo chain; off, the gain plays. */
static void test_normalize_undoes_gain(void **state)
{
    (void)state;
    enum { N = 4800 };
    RnnfxModel *m = wire_model(4.0f, 1);
    float *x = malloc(N * sizeof *x), *y0 = malloc(N * sizeof *y0), *y1 = malloc(N * sizeof *y1);
    rnnfx_test_signal(x, N, 3);
    RnnfxChain *c = chain_with(m, 2, 1);
    const float *in[2] = {x, x};
    float *out[2] = {y0, y1};
    rnnfx_chain_process_multi(c, in, out, N);
    double worst = 0.0;
    for (size_t i = 0; i < N; i++)
        worst = fmax(worst, fmax(fabs((double)y0[i] - x[i]), fabs((double)y1[i] - x[i])));
    print_message("gain 4 normalized: max |y - x| = %.3g\n", worst);
    assert_true(worst < 1e-6);
    rnnfx_chain_free(c);
    c = chain_with(m, 1, 0);
    rnnfx_chain_process(c, x, y0, N);
    for (size_t i = 0; i < N; i++) assert_true(y0[i] == 4.0f * x[i]);
    rnnfx_chain_free(c);
    /* silence has no level: normalize leaves it as it is */
    RnnfxModel *s = wire_model(1.0f, 0);
    c = chain_with(s, 1, 1);
    RnnfxChain *c0 = chain_with(s, 1, 0);
    rnnfx_chain_process(c, x, y0, N);
    rnnfx_chain_process(c0, x, y1, N);
    assert_memory_equal(y0, y1, N * sizeof *y0);
    rnnfx_chain_free(c);
    rnnfx_chain_free(c0);
    rnnfx_model_free(s);
    rnnfx_model_free(m);
    free(x);
    free(y0);
    free(y1);
}

/* Switching normalize on moves the level in a ramp (no step), and reaches
 * it; the same toggles in any block sizes give the same bits. */
static void test_normalize_ramp(void **state)
{
    (void)state;
    enum { N = 24000, ON = 4800, OFF = 14400 };
    RnnfxModel *m = wire_model(4.0f, 1);
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *z = malloc(N * sizeof *z);
    for (size_t i = 0; i < N; i++) x[i] = 0.1f; /* DC: the output is the gain */
    RnnfxChain *c = chain_with(m, 1, 0);
    rnnfx_chain_process(c, x, y, ON);
    set_normalize(c, 1);
    rnnfx_chain_process(c, x + ON, y + ON, OFF - ON);
    set_normalize(c, 0);
    rnnfx_chain_process(c, x + OFF, y + OFF, N - OFF);
    rnnfx_chain_free(c);
    double step = 0.0;
    for (size_t i = 1; i < N; i++) step = fmax(step, fabs((double)y[i] - y[i - 1]));
    print_message("normalize toggles: largest step %.3g (of a 0.3 change)\n", step);
    assert_true(y[ON - 1] == 0.4f);
    assert_true(step < 1e-3);                     /* 10 ms one-pole: 0.3 / 480 */
    assert_true(fabs(y[ON + 7200] - 0.1f) < 1e-6); /* settled within 150 ms */
    assert_true(fabs(y[N - 1] - 0.4f) < 1e-5);
    for (size_t i = ON + 1; i < OFF; i++) assert_true(y[i] <= y[i - 1]);

    /* the same toggles in blocks of 1..700 samples */
    c = chain_with(m, 1, 0);
    uint64_t seed = 7;
    for (size_t pos = 0; pos < N;) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = 1 + (size_t)(seed >> 33) % 700;
        const size_t stop = pos < ON ? ON : pos < OFF ? OFF : N;
        if (len > stop - pos) len = stop - pos;
        rnnfx_chain_process(c, x + pos, z + pos, len);
        pos += len;
        if (pos == ON) set_normalize(c, 1);
        if (pos == OFF) set_normalize(c, 0);
    }
    rnnfx_chain_free(c);
    assert_memory_equal(y, z, N * sizeof *y);
    rnnfx_model_free(m);
    free(x);
    free(y);
    free(z);
}

/* Normalized, a switch between captures of different levels keeps the
 * level through the crossfade: each core fades at its own gain. */
static void test_normalize_switch(void **state)
{
    (void)state;
    enum { N = 9600 };
    RnnfxModel *a = wire_model(4.0f, 1), *b = wire_model(0.25f, 1);
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    rnnfx_test_signal(x, N, 9);
    RnnfxChain *c = chain_with(a, 1, 1);
    rnnfx_chain_process(c, x, y, 480);
    RnnfxChainCore *core = NULL, *displaced = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_core_new(c, b, 0, &core, &err), RNNFX_OK);
    rnnfx_chain_swap(c, core, &displaced);
    assert_null(displaced);
    rnnfx_chain_process(c, x + 480, y + 480, N - 480);
    double worst = 0.0;
    for (size_t i = 0; i < N; i++) worst = fmax(worst, fabs((double)y[i] - x[i]));
    print_message("switch from gain 4 to 1/4, normalized: max |y - x| = %.3g\n", worst);
    assert_true(worst < 1e-5);
    rnnfx_chain_free(c); /* and the cores it holds */
    rnnfx_model_free(a);
    rnnfx_model_free(b);
    free(x);
    free(y);
}

/* ---- real captures on real playing ----------------------------------------- */

static float *read_take(const char *rel, size_t *n)
{
    char path[4096];
    RnnfxAudio au;
    RnnfxError err;
    if (rnnfx_audio_read(rnnfx_test_path(path, sizeof path, rel), &au, &err) != RNNFX_OK)
        fail_msg("%s: %s", rel, err.msg);
    assert_int_equal(au.sample_rate, RATE);
    float *x = NULL;
    assert_int_equal(rnnfx_audio_mono(&au, 0, &x, &err), RNNFX_OK);
    *n = au.frames;
    rnnfx_audio_free(&au);
    return x;
}

static double rms_db(const float *x, size_t n)
{
    double e = 0.0;
    for (size_t i = 0; i < n; i++) e += (double)x[i] * x[i];
    return 10.0 * log10(e / (double)n);
}

/* The bundled captures and published ones, from a clean amp to a fuzz,
 * span about 20 dB on two real DI takes (plain RMS here, not the
 * weighting the level is measured with); normalized they sit within 5 dB
 * of one another (2.6 and 4.1 dB measured). Against the dry take: -0.4 to
 * +3.7 dB on a take played near the reference's level (dry_tomb), 2-5 dB
 * under it on one played 6 dB hotter (dry_fear), where the driven
 * captures compress. */
static void test_normalize_real_captures(void **state)
{
    (void)state;
    static const char *const models[] = {
        "presets/rnnfx-default.json",
        "presets/rnnfx-ds1-drive.json",
        "presets/rnnfx-tube-amp.json",
        "tests/data/interop/neuralaudio_boss_sd1_lstm_1x16.nam",
        "tests/data/interop/wright_ht1_gru32.json",
        "tests/data/interop/proteus_ts9_driveknob_lstm40_cond2.json",
        "tests/data/interop/aidadsp_helix_us_double_nrm_lstm12_skip.json",
        "tests/data/interop/chowcentaur_klon_gain0_gru8.json",
    };
    static const char *const takes[] = {"tests/data/align/dry_fear.flac",
                                        "tests/data/align/dry_tomb.flac"};
    const size_t n_models = sizeof models / sizeof models[0];
    for (size_t t = 0; t < 2; t++) {
        size_t n;
        float *x = read_take(takes[t], &n);
        float *y = malloc(n * sizeof *y);
        const double dry = rms_db(x, n);
        double lo[2] = {1e9, 1e9}, hi[2] = {-1e9, -1e9};
        for (size_t k = 0; k < n_models; k++) {
            RnnfxModel *m = load(models[k]);
            double db[2];
            for (int norm = 0; norm < 2; norm++) {
                RnnfxChain *c = chain_with(m, 1, norm);
                rnnfx_chain_process(c, x, y, n);
                rnnfx_chain_free(c);
                db[norm] = rms_db(y, n) - dry;
                lo[norm] = fmin(lo[norm], db[norm]);
                hi[norm] = fmax(hi[norm], db[norm]);
            }
            print_message("%s through %s: %+.1f dB re dry, normalized %+.1f\n", takes[t],
                          models[k], db[0], db[1]);
            rnnfx_model_free(m);
        }
        print_message("spread: %.1f dB, normalized %.1f dB\n", hi[0] - lo[0], hi[1] - lo[1]);
        assert_true(hi[0] - lo[0] > 12.0);
        assert_true(hi[1] - lo[1] < 5.0 && hi[1] - lo[1] < (hi[0] - lo[0]) / 4.0);
        assert_true(lo[1] > -6.0 && hi[1] < 5.0);
        free(x);
        free(y);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kweight_published),
        cmocka_unit_test(test_kweight_rates),
        cmocka_unit_test(test_level_of_gain),
        cmocka_unit_test(test_level_same_pedal),
        cmocka_unit_test(test_normalize_undoes_gain),
        cmocka_unit_test(test_normalize_ramp),
        cmocka_unit_test(test_normalize_switch),
        cmocka_unit_test(test_normalize_real_captures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

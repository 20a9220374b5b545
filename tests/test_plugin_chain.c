/*
 * test_plugin_chain.c — engine/chain.c, the signal path the plugin, the batch
 * tool and the live tool share.
 *
 * Properties checked (no plugin involved):
 *   - resampling is time-aligned: an identity model (zero weights, skip) at
 *     another rate returns the input delayed by exactly the reported latency
 *     (error below -100 dB re full scale at 110 Hz and 7 kHz), at 44.1, 48,
 *     88.2, 96 and 192 kHz hosts (the fixed-ratio resampler) and at 44056 Hz
 *     (libsamplerate), for 44.1 and 48 kHz models;
 *   - any chunking gives bit-identical output, and reset equals fresh;
 *   - gains: +6 dB in, -12 dB out settle to exactly the linear factors;
 *   - mix 0 and bypass give the input delayed by the latency (no comb);
 *   - a bypass toggle and a model switch are click-free (ramps);
 *   - NaN/Inf input never reaches the output; stereo channels are
 *     independent and equal to a mono chain; in-place buffers work;
 *   - swap semantics: pending cores, displaced cores, retired cores;
 *   - knob mapping onto the model's own range.
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

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "chain.h"
#include "enginetest.h"

/* y = x: zero weights, skip connection. */
static RnnfxModel *identity_model(double rate)
{
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, RNNFX_CELL_GRU, 4, 1);
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_new(&arch, &m, &err), RNNFX_OK);
    rnnfx_model_meta(m)->sample_rate = rate;
    assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    return m;
}

static RnnfxModel *random_model(uint64_t seed, double rate, int knobs)
{
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, RNNFX_CELL_LSTM, 12, 0);
    arch.n_params = knobs;
    arch.input_size = 1 + knobs;
    for (int k = 0; k < knobs; k++) {
        snprintf(arch.params[k].name, sizeof arch.params[k].name, "k%d", k);
        arch.params[k].min = 0.0f;
        arch.params[k].max = 10.0f;
        arch.params[k].def = 5.0f;
    }
    RnnfxModel *m = rnnfx_test_random_model(&arch, seed, 1.0f, 0);
    assert_non_null(m);
    rnnfx_model_meta(m)->sample_rate = rate;
    return m;
}

/* A chain whose first controls are `ctl` (default controls if NULL): the
 * first set_controls of a chain sets values without a ramp. */
static RnnfxChain *new_chain_ctl(const RnnfxModel *m, double rate, int channels, size_t block,
                                 const RnnfxChainControls *ctl)
{
    RnnfxChain *c = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_new_multi(m, rate, channels, block, &c, &err), RNNFX_OK);
    RnnfxChainControls def;
    rnnfx_chain_controls_init(&def);
    rnnfx_chain_set_controls(c, ctl ? ctl : &def);
    return c;
}

static RnnfxChain *new_chain(const RnnfxModel *m, double rate, int channels, size_t block)
{
    return new_chain_ctl(m, rate, channels, block, NULL);
}

static void sine(float *x, size_t n, double f, double rate, float amp)
{
    for (size_t i = 0; i < n; i++) x[i] = amp * (float)sin(2.0 * M_PI * f * (double)i / rate);
}

static void test_resampling_is_time_aligned(void **state)
{
    (void)state;
    /* 44056 Hz has no fixed-ratio filter: libsamplerate converts */
    const double hosts[] = {44100, 48000, 88200, 96000, 192000, 44056};
    const double models[] = {44100, 48000};
    for (int mi = 0; mi < 2; mi++) {
        RnnfxModel *m = identity_model(models[mi]);
        for (int hi = 0; hi < 6; hi++) {
            double fs = hosts[hi];
            RnnfxChain *c = new_chain(m, fs, 1, 512);
            int L = rnnfx_chain_latency(c);
            size_t n = (size_t)fs;
            float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
            double worst[2] = {0, 0};
            const double freqs[2] = {110.0, 7000.0};
            for (int f = 0; f < 2; f++) {
                sine(x, n, freqs[f], fs, 0.5f);
                rnnfx_chain_reset(c);
                rnnfx_chain_process(c, x, y, n);
                for (size_t i = (size_t)L + 2000; i < n; i++)
                    worst[f] = fmax(worst[f], fabs((double)y[i] - x[i - (size_t)L]));
            }
            print_message("model %5.0f Hz, host %6.0f Hz: latency %3d, |y - x delayed| %.1e (110 Hz), "
                          "%.1e (7 kHz)\n",
                          models[mi], fs, L, worst[0], worst[1]);
            if (fs == models[mi]) assert_int_equal(L, 0);
            else assert_true(L > 0 && L < 1000);
            assert_true(worst[0] < 0.5 * 1e-5); /* -100 dB re full scale */
            assert_true(worst[1] < 0.5 * 1e-5);
            free(x);
            free(y);
            rnnfx_chain_free(c);
        }
        rnnfx_model_free(m);
    }
}

/* Which converter a chain built for (model rate, host rate) uses. */
static const char *resampler_of(RnnfxChain *c, double model_rate)
{
    static char kind[32];
    RnnfxModel *m = identity_model(model_rate);
    RnnfxChainCore *core = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_core_new(c, m, 1, &core, &err), RNNFX_OK);
    snprintf(kind, sizeof kind, "%s", rnnfx_chain_core_resampler(core));
    rnnfx_chain_core_free(core);
    return kind;
}

/* The converter each rate pair gets, and time alignment at the edges of
 * what the chain accepts: the usual pairs run the polyphase filters; a
 * 44056 Hz host (no small ratio), a pair whose reverse has too many phases
 * (1024 Hz model on a 37889 Hz host) and a ratio whose polyphase latency
 * would pass RNNFX_CHAIN_MAX_LATENCY (8 kHz model on a 352.8 kHz host) run
 * libsamplerate; a ratio of 29.4 (6 kHz model on a 176.4 kHz host) runs
 * the polyphase filters with a latency of thousands of samples; a ratio of
 * 96 (2 kHz on 192 kHz) would need more latency than the chain allows with
 * either converter, and is refused with a message that says so. */
static void test_resampler_choice_and_extreme_ratios(void **state)
{
    (void)state;
    const struct {
        double model, host;
        const char *kind;
    } cases[] = {
        {48000, 48000, "none"},          {48000, 44100, "polyphase"},
        {44100, 96000, "polyphase"},     {48000, 44056, "libsamplerate"},
        {6000, 176400, "polyphase"},     {1024, 37889, "libsamplerate"},
        {8000, 352800, "libsamplerate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        RnnfxModel *m = identity_model(cases[i].model);
        const double fs = cases[i].host;
        RnnfxChain *c = new_chain(m, fs, 1, 512);
        const char *kind = resampler_of(c, cases[i].model);
        int L = rnnfx_chain_latency(c);
        size_t n = (size_t)fs / 2 + (size_t)L;
        float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
        sine(x, n, 110.0, fs, 0.5f);
        rnnfx_chain_process(c, x, y, n);
        double worst = 0.0;
        for (size_t k = (size_t)L + (size_t)(fs / 20); k < n; k++)
            worst = fmax(worst, fabs((double)y[k] - x[k - (size_t)L]));
        print_message("model %6.0f Hz, host %6.0f Hz: %-13s latency %4d, |y - x delayed| %.1e\n",
                      cases[i].model, fs, kind, L, worst);
        assert_string_equal(kind, cases[i].kind);
        assert_true(L <= RNNFX_CHAIN_MAX_LATENCY);
        assert_true(worst < 0.5 * 1e-5);
        free(x);
        free(y);
        rnnfx_chain_free(c);
        rnnfx_model_free(m);
    }
    RnnfxModel *m = identity_model(2000);
    RnnfxChain *c = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_new(m, 192000, 512, &c, &err), RNNFX_ERR_LIMIT);
    assert_null(c);
    assert_non_null(strstr(err.msg, "latency"));
    rnnfx_model_free(m);
}

static void test_chunking_and_reset(void **state)
{
    (void)state;
    RnnfxModel *m = random_model(5, 44100.0, 1);
    const size_t n = 20000;
    float *x = malloc(n * sizeof(float)), *a = malloc(n * sizeof(float)),
          *b = malloc(n * sizeof(float));
    rnnfx_test_signal(x, n, 8);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.input_db = 4.0f;
    ctl.output_db = -2.0f;
    ctl.mix = 0.6f;
    ctl.n_knobs = 1;
    ctl.knobs[0] = 0.3f;

    RnnfxChain *c = new_chain_ctl(m, 48000.0, 1, 300, &ctl);
    rnnfx_chain_process(c, x, a, n);
    /* the same stream in random chunks, with a control change in the middle
     * delivered at the same sample both times */
    RnnfxChain *d = new_chain_ctl(m, 48000.0, 1, 4096, &ctl);
    RnnfxTestRng rng;
    rnnfx_test_rng_seed(&rng, 3);
    for (size_t off = 0; off < n;) {
        size_t len = 1 + (size_t)(rnnfx_test_rng_uniform(&rng) * 700);
        if (len > n - off) len = n - off;
        rnnfx_chain_process(d, x + off, b + off, len);
        off += len;
    }
    assert_true(rnnfx_test_max_abs_diff(a, b, n) == 0.0);

    /* reset equals fresh */
    rnnfx_chain_reset(c);
    rnnfx_chain_set_controls(c, &ctl);
    rnnfx_chain_process(c, x, b, n);
    assert_true(rnnfx_test_max_abs_diff(a, b, n) == 0.0);
    free(x);
    free(a);
    free(b);
    rnnfx_chain_free(c);
    rnnfx_chain_free(d);
    rnnfx_model_free(m);
}

/* The host's floating-point mode does not reach the output: a host that
 * runs its audio thread with flush-to-zero and denormals-are-zero (as many
 * DAWs do) gets the same bits as rnnfx-process, which does not, on a
 * signal whose resampling and mixing meet denormals (a quiet tail). */
static void test_host_fp_mode_invisible(void **state)
{
    (void)state;
#if defined(__x86_64__) || defined(__i386__)
    RnnfxModel *m = identity_model(48000.0); /* y = x: the wet path stays quiet too */
    const size_t n = 6000;
    float *x = malloc(n * sizeof(float)), *a = malloc(n * sizeof(float)),
          *b = malloc(n * sizeof(float));
    assert_true(x && a && b);
    rnnfx_test_signal(x, n, 4);
    for (size_t i = n / 2; i < n; i++)
        x[i] *= 1e-36f * (float)(n - i) / (float)n; /* down into denormals */
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.mix = 0.5f;
    RnnfxChain *c = new_chain_ctl(m, 44100.0, 1, 512, &ctl);
    RnnfxChain *d = new_chain_ctl(m, 44100.0, 1, 512, &ctl);
    rnnfx_chain_process(c, x, a, n);
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040u); /* FTZ | DAZ, as the host set them */
    rnnfx_chain_process(d, x, b, n);
    const unsigned after = _mm_getcsr();
    _mm_setcsr(csr);
    assert_int_equal(after, csr | 0x8040u); /* and the host's mode is left as it was */
    assert_memory_equal(a, b, n * sizeof(float));
    free(x);
    free(a);
    free(b);
    rnnfx_chain_free(c);
    rnnfx_chain_free(d);
    rnnfx_model_free(m);
#else
    skip();
#endif
}

/* A model with a knob starts a render from the rest state of the knob
 * setting it is given, not of the default (from the default's rest the
 * output jumped toward the new rest: a click at the start of every file);
 * at the default nothing changes. */
/* How far the first 2048 samples of y[n] stray from where y settles. */
static double stray_from_rest(const float *y, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < 2048; i++)
        if (fabs((double)y[i] - y[n - 1]) > worst) worst = fabs((double)y[i] - y[n - 1]);
    return worst;
}

static void test_rest_at_knob_setting(void **state)
{
    (void)state;
    RnnfxModel *m = random_model(12, 48000.0, 1);
    RnnfxError err;
    assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    enum { N = 12000 };
    static float zero[N], y[N];
    for (int set = 0; set < 2; set++) {
        RnnfxChainControls ctl;
        rnnfx_chain_controls_init(&ctl);
        ctl.n_knobs = 1;
        ctl.knobs[0] = set ? 1.0f : 0.5f; /* 0.5: the default, 5 on 0..10 */
        RnnfxChain *c = new_chain_ctl(m, 48000.0, 1, 512, &ctl);
        rnnfx_chain_process(c, zero, y, N);
        const double worst = stray_from_rest(y, N);
        printf("  knob %s: the first 2048 samples of silence stray %.2e from where they settle "
               "(%.4f)\n",
               set ? "at 1 (off its default)" : "at its default", worst, (double)y[N - 1]);
        assert_true(worst < 2e-3);
        rnnfx_chain_free(c);
    }
    /* the same for a first core into a chain that played nothing yet, its
     * knobs set before (rnnfx-live starts so) */
    RnnfxChain *c = new_chain_ctl(NULL, 48000.0, 1, 512, NULL);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.n_knobs = 1;
    ctl.knobs[0] = 1.0f;
    rnnfx_chain_set_controls(c, &ctl);
    RnnfxChainCore *core = NULL;
    assert_int_equal(rnnfx_chain_core_new(c, m, 0, &core, &err), RNNFX_OK);
    RnnfxChainCore *displaced = NULL;
    rnnfx_chain_swap(c, core, &displaced);
    assert_null(displaced);
    rnnfx_chain_process(c, zero, y, N);
    const double worst = stray_from_rest(y, N);
    printf("  a first core at knob 1: the first samples stray %.2e\n", worst);
    assert_true(worst < 2e-3);
    rnnfx_chain_free(c);
    rnnfx_model_free(m);
}

static void test_gains_mix_bypass(void **state)
{
    (void)state;
    RnnfxModel *id = identity_model(44100.0);
    RnnfxChain *c = new_chain(id, 48000.0, 1, 256);
    int L = rnnfx_chain_latency(c);
    const size_t n = 48000;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    sine(x, n, 200.0, 48000.0, 0.25f);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);

    /* gains: identity model, +6 in, -12 out -> -6 dB overall once settled */
    ctl.input_db = 6.0f;
    ctl.output_db = -12.0f;
    rnnfx_chain_set_controls(c, &ctl);
    rnnfx_chain_process(c, x, y, n);
    double g = pow(10.0, -6.0 / 20.0), worst = 0;
    for (size_t i = n / 2; i < n; i++) worst = fmax(worst, fabs(y[i] - g * x[i - (size_t)L]));
    print_message("gains +6/-12 dB: |y - 0.501 x| = %.2e\n", worst);
    assert_true(worst < 1e-4);

    /* mix 0: the dry signal, delayed by L exactly (bit for bit) */
    rnnfx_chain_reset(c);
    ctl.input_db = 0.0f;
    ctl.output_db = 0.0f;
    ctl.mix = 0.0f;
    rnnfx_chain_set_controls(c, &ctl);
    rnnfx_chain_process(c, x, y, n);
    for (size_t i = (size_t)L; i < n; i++) assert_true(y[i] == x[i - (size_t)L]);

    /* bypass: the dry signal delayed by L, reached by a ramp without jumps */
    RnnfxModel *m = random_model(9, 44100.0, 0);
    RnnfxChain *d = new_chain(m, 48000.0, 1, 256);
    rnnfx_chain_controls_init(&ctl);
    rnnfx_chain_set_controls(d, &ctl);
    sine(x, n, 100.0, 48000.0, 0.25f);
    double step_max = 0, steady = 0;
    float prev = 0;
    for (size_t off = 0; off < n; off += 128) {
        if (off == 24064) { /* block boundaries are multiples of 128 */
            ctl.enabled = 0;
            rnnfx_chain_set_controls(d, &ctl);
        }
        if (off == 36096) {
            ctl.enabled = 1;
            rnnfx_chain_set_controls(d, &ctl);
        }
        rnnfx_chain_process(d, x + off, y + off, 128);
        for (size_t i = off; i < off + 128; i++) {
            double s = fabs(y[i] - prev);
            prev = y[i];
            if (i > 4000 && i < 23000) steady = fmax(steady, s);
            if (i > 4000) step_max = fmax(step_max, s);
        }
    }
    int Ld = rnnfx_chain_latency(d);
    for (size_t i = 30000; i < 36000; i++)
        if (y[i] != x[i - (size_t)Ld]) fail_msg("bypassed: y[%zu] = %g, x[%zu] = %g", i, y[i], i - (size_t)Ld, x[i - (size_t)Ld]);
    print_message("bypass on/off: largest step %.4f (model alone %.4f, dry %.4f)\n", step_max,
                  steady, 2 * M_PI * 100 / 48000 * 0.25);
    assert_true(step_max <= 1.5 * fmax(steady, 2 * M_PI * 100 / 48000 * 0.25) + 1e-3);
    free(x);
    free(y);
    rnnfx_chain_free(c);
    rnnfx_chain_free(d);
    rnnfx_model_free(id);
    rnnfx_model_free(m);
}

/* A control moved once lands exactly on its target: a chain whose gains
 * and mix were moved plays, once settled, bit for bit what a chain set to
 * those values from the start plays. (The one-pole smoother stalled a few
 * hundred ulp short of a gain target, so the chain never took its settled
 * path again and cut every block into 32-sample pieces.) */
static void test_controls_land_on_target(void **state)
{
    (void)state;
    RnnfxModel *id = identity_model(48000.0);
    RnnfxChainControls want;
    rnnfx_chain_controls_init(&want);
    want.input_db = 6.0f;
    want.output_db = -3.0f;
    want.mix = 0.7f;
    RnnfxChain *a = new_chain_ctl(id, 48000.0, 1, 256, &want); /* starts there */
    RnnfxChain *b = new_chain(id, 48000.0, 1, 256);            /* moves there */
    const size_t n = 96000, half = 24064; /* a block boundary */
    float *x = malloc(n * sizeof(float)), *ya = malloc(n * sizeof(float)),
          *yb = malloc(n * sizeof(float));
    sine(x, n, 220.0, 48000.0, 0.25f);
    for (size_t off = 0; off < n; off += 256) {
        if (off == half)
            rnnfx_chain_set_controls(b, &want);
        rnnfx_chain_process(a, x + off, ya + off, 256);
        rnnfx_chain_process(b, x + off, yb + off, 256);
    }
    for (size_t i = n - 12000; i < n; i++)
        if (ya[i] != yb[i])
            fail_msg("1.5 s after the move: y[%zu] = %.9g, set from the start %.9g", i, yb[i], ya[i]);
    free(x);
    free(ya);
    free(yb);
    rnnfx_chain_free(a);
    rnnfx_chain_free(b);
    rnnfx_model_free(id);
}

/* A core waiting for a running fade starts when the fade ends, at the
 * same sample whatever the host's block size (it started at the first
 * block boundary after the end, so 128- and 256-sample blocks differed
 * from there on). */
static void test_pending_core_block_independent(void **state)
{
    (void)state;
    RnnfxModel *m1 = random_model(21, 44100.0, 0), *m2 = random_model(22, 44100.0, 0),
               *m3 = random_model(23, 44100.0, 0);
    const size_t n = 8192;
    float *x = malloc(n * sizeof(float)), *y[2];
    sine(x, n, 150.0, 44100.0, 0.3f);
    const size_t blocks[2] = {128, 256};
    for (int k = 0; k < 2; k++) {
        y[k] = malloc(n * sizeof(float));
        RnnfxChain *c = new_chain(m1, 44100.0, 1, 256);
        RnnfxChainCore *b = NULL, *cc = NULL, *displaced = NULL;
        RnnfxError err;
        assert_int_equal(rnnfx_chain_core_new(c, m2, 0, &b, &err), RNNFX_OK);
        assert_int_equal(rnnfx_chain_core_new(c, m3, 0, &cc, &err), RNNFX_OK);
        for (size_t off = 0; off < n; off += blocks[k]) {
            if (off == 0)
                rnnfx_chain_swap(c, b, &displaced); /* a fade of 882 samples */
            if (off == 256)
                rnnfx_chain_swap(c, cc, &displaced); /* waits for it */
            assert_null(displaced);
            rnnfx_chain_process(c, x + off, y[k] + off, blocks[k]);
            RnnfxChainCore *r;
            while ((r = rnnfx_chain_take_retired(c)) != NULL)
                rnnfx_chain_core_free(r);
        }
        rnnfx_chain_free(c);
    }
    for (size_t i = 0; i < n; i++)
        if (y[0][i] != y[1][i])
            fail_msg("128- and 256-sample blocks differ from sample %zu (%.9g vs %.9g)", i,
                     y[0][i], y[1][i]);
    free(x);
    free(y[0]);
    free(y[1]);
    rnnfx_model_free(m1);
    rnnfx_model_free(m2);
    rnnfx_model_free(m3);
}

/* The settling tests' model (random_model with one knob on 0..10, default
 * 5), finalized, and controls that turn its knob to 10. */
static RnnfxModel *knob_model_at_max(RnnfxChainControls *ctl)
{
    RnnfxModel *m = random_model(12, 48000.0, 1);
    RnnfxError err;
    assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    rnnfx_chain_controls_init(ctl);
    ctl->n_knobs = 1;
    ctl->knobs[0] = 1.0f;
    return m;
}

/* A core swapped in while another plays, at knobs off the model's
 * defaults, crossfades in from the rest state at those knobs: silence in
 * stays at its rest level through the switch. It used to start from the
 * default knobs' rest, and the crossfade played the difference (a thump).
 * Settling the core is spread over the calls (never more samples per call
 * than the call processes), so its crossfade starts
 * RNNFX_CHAIN_SETTLE_SAMPLES after the swap at any block size. */
static void test_swap_at_knobs_settles(void **state)
{
    (void)state;
    RnnfxChainControls ctl;
    RnnfxModel *m = knob_model_at_max(&ctl);
    RnnfxError err;
    enum { N = 24000, SWAP = 8192 };
    static float zero[N], y[3][N], bare[2048];
    const size_t blocks[3] = {512, 37, 1024};
    RnnfxChain *c[3];
    RnnfxChainCore *core[3];
    for (int k = 0; k < 3; k++) {
        c[k] = new_chain_ctl(m, 48000.0, 1, 1024, &ctl);
        assert_int_equal(rnnfx_chain_core_new(c[k], m, 0, &core[k], &err), RNNFX_OK);
        RnnfxChainCore *displaced = NULL;
        for (size_t off = 0; off < N; off += blocks[k]) {
            const size_t len = N - off < blocks[k] ? N - off : blocks[k];
            if (off <= SWAP && SWAP < off + len) {
                /* the swap falls at the same sample in every run */
                rnnfx_chain_process(c[k], zero + off, y[k] + off, SWAP - off);
                rnnfx_chain_swap(c[k], core[k], &displaced);
                assert_null(displaced);
                assert_int_equal(rnnfx_chain_core_role(c[k], core[k]), RNNFX_CORE_PENDING);
                assert_true(rnnfx_chain_switching(c[k]));
                rnnfx_chain_process(c[k], zero + SWAP, y[k] + SWAP, off + len - SWAP);
            } else {
                rnnfx_chain_process(c[k], zero + off, y[k] + off, len);
            }
            RnnfxChainCore *r;
            while ((r = rnnfx_chain_take_retired(c[k])) != NULL) rnnfx_chain_core_free(r);
        }
        assert_int_equal(rnnfx_chain_core_role(c[k], core[k]), RNNFX_CORE_CURRENT);
        assert_false(rnnfx_chain_switching(c[k]));
    }
    const float rest = y[0][SWAP - 1];
    double worst = 0;
    for (size_t i = SWAP; i < N; i++) worst = fmax(worst, fabs((double)y[0][i] - rest));
    /* what the thump was: from the default knob's rest, at knob 10 */
    RnnfxInstance *inst = rnnfx_instance_new(m);
    rnnfx_instance_set_param(inst, 0, 5.0f);
    for (int i = 0; i < RNNFX_CHAIN_SETTLE_SAMPLES; i += 2048)
        rnnfx_instance_process(inst, zero, bare, 2048);
    rnnfx_instance_set_param(inst, 0, 10.0f);
    rnnfx_instance_process(inst, zero, bare, 2048);
    double thump = 0;
    for (size_t i = 0; i < 2048; i++) thump = fmax(thump, fabs((double)bare[i] - rest));
    rnnfx_instance_free(inst);
    print_message("swap at knob 1 in silence: output within %.2e of its rest level %.4f (from the "
                  "default knob's rest it strays %.2e)\n",
                  worst, (double)rest, thump);
    assert_true(thump > 1e-2);
    assert_true(worst < 1e-3);
    for (int k = 1; k < 3; k++)
        for (size_t i = 0; i < N; i++)
            if (y[0][i] != y[k][i])
                fail_msg("512- and %zu-sample blocks differ from sample %zu (%.9g vs %.9g)",
                         blocks[k], i, y[0][i], y[k][i]);
    for (int k = 0; k < 3; k++) rnnfx_chain_free(c[k]);
    rnnfx_model_free(m);
}

/* Once a core has settled at a knob setting, it keeps that rest state: a
 * kept core (a plugin's capture) chosen again at the same setting
 * crossfades in at once instead of settling again for 4096 samples, and a
 * bypass switched off restarts the model from there. (From the default's
 * rest, the fade-in carried a transient of 5e-5 here, -86 dBFS: the ramp
 * starts from silence, so it was faint.) */
static void test_knob_rest_kept(void **state)
{
    (void)state;
    RnnfxChainControls ctl;
    RnnfxModel *m = knob_model_at_max(&ctl);
    RnnfxError err;
    RnnfxChain *c = new_chain_ctl(NULL, 48000.0, 1, 512, &ctl);
    RnnfxChainCore *ka = NULL, *kb = NULL, *d = NULL;
    assert_int_equal(rnnfx_chain_core_new(c, m, 0, &ka, &err), RNNFX_OK);
    assert_int_equal(rnnfx_chain_core_new(c, m, 0, &kb, &err), RNNFX_OK);
    rnnfx_chain_core_set_kept(ka);
    rnnfx_chain_core_set_kept(kb);
    enum { N = 16384 };
    static float zero[N], y[N];
    rnnfx_chain_swap(c, ka, &d); /* the first core settles at once */
    rnnfx_chain_process(c, zero, y, N);
    const float rest = y[N - 1];
    double worst = 0;
    for (size_t i = 0; i < N; i++) worst = fmax(worst, fabs((double)y[i] - rest));

    /* b settles over 4096 samples, then fades in; then a again, at once */
    rnnfx_chain_swap(c, kb, &d);
    assert_int_equal(rnnfx_chain_core_role(c, kb), RNNFX_CORE_PENDING);
    rnnfx_chain_process(c, zero, y, N);
    for (size_t i = 0; i < N; i++) worst = fmax(worst, fabs((double)y[i] - rest));
    assert_int_equal(rnnfx_chain_core_role(c, kb), RNNFX_CORE_CURRENT);
    assert_ptr_equal(rnnfx_chain_take_retired(c), ka);
    rnnfx_chain_swap(c, ka, &d);
    assert_null(d);
    assert_int_equal(rnnfx_chain_core_role(c, ka), RNNFX_CORE_CURRENT);
    rnnfx_chain_process(c, zero, y, N);
    for (size_t i = 0; i < N; i++) worst = fmax(worst, fabs((double)y[i] - rest));
    assert_ptr_equal(rnnfx_chain_take_retired(c), kb);

    /* bypass, and on again: the model restarts at the knob's rest */
    ctl.enabled = 0;
    rnnfx_chain_set_controls(c, &ctl);
    rnnfx_chain_process(c, zero, y, N);
    ctl.enabled = 1;
    rnnfx_chain_set_controls(c, &ctl);
    rnnfx_chain_process(c, zero, y, N);
    /* the fade-in from the dry silence to the model's rest level, and no more */
    const double fade = RNNFX_CHAIN_FADE_SECONDS * 48000.0;
    double after = 0;
    for (size_t i = 0; i < N; i++) {
        const double e = (double)(i + 1) / fade < 1.0 ? (double)(i + 1) / fade : 1.0;
        after = fmax(after, fabs((double)y[i] - e * rest));
    }
    print_message("kept cores at knob 1: silence stays within %.2e of its rest level %.4f through "
                  "two switches; when the bypass is switched off, the fade-in stays within %.2e of it\n",
                  worst, (double)rest, after);
    assert_true(worst < 1e-3);
    assert_true(after < 1e-5);
    rnnfx_chain_free(c);
    rnnfx_chain_core_free(ka);
    rnnfx_chain_core_free(kb);
    rnnfx_model_free(m);
}

/* rnnfx_chain_hold_knobs: the cores playing keep their knob values while
 * the chain's knobs move (rnnfx-live maps knobs by name to a new model, so
 * the old model's knob k is not the new one's). */
static void test_hold_knobs(void **state)
{
    (void)state;
    RnnfxChainControls ctl;
    RnnfxModel *m = knob_model_at_max(&ctl);
    enum { N = 8192 };
    static float x[N], y[3][N];
    rnnfx_test_signal(x, N, 9);
    for (int k = 0; k < 3; k++) { /* 0: held and moved, 1: untouched, 2: moved */
        RnnfxChain *c = new_chain_ctl(m, 48000.0, 1, 512, &ctl);
        if (k == 0) rnnfx_chain_hold_knobs(c, 1);
        if (k != 1) {
            RnnfxChainControls moved = ctl;
            moved.knobs[0] = 0.0f;
            rnnfx_chain_set_controls(c, &moved);
        }
        rnnfx_chain_process(c, x, y[k], N);
        rnnfx_chain_free(c);
    }
    assert_true(rnnfx_test_max_abs_diff(y[0], y[1], N) == 0.0);
    assert_true(rnnfx_test_max_abs_diff(y[2], y[1], N) > 1e-3);
    rnnfx_model_free(m);
}

/* Fully bypassed, a swap to a core of another latency (a 44.1 kHz model
 * on a 48 kHz host: about 107 samples) crossfades the dry signal between
 * the two delays instead of jumping (a click in the bypassed sound); then
 * the output is the dry signal at the new delay, exactly. */
static void test_bypassed_swap_no_jump(void **state)
{
    (void)state;
    RnnfxModel *a = random_model(31, 48000.0, 0), *b = random_model(32, 44100.0, 0);
    RnnfxChain *c = new_chain(a, 48000.0, 1, 256);
    RnnfxChainCore *cb = NULL, *displaced = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_core_new(c, b, 0, &cb, &err), RNNFX_OK);
    const int la = rnnfx_chain_latency(c), lb = rnnfx_chain_core_latency(cb);
    assert_true(lb > la + 50);
    const size_t n = 48000;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    sine(x, n, 100.0, 48000.0, 0.25f);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.enabled = 0;
    rnnfx_chain_set_controls(c, &ctl);
    for (size_t off = 0; off < n; off += 128) {
        if (off == 12032) { /* long after the bypass fade: fully bypassed */
            rnnfx_chain_swap(c, cb, &displaced);
            assert_null(displaced);
        }
        rnnfx_chain_process(c, x + off, y + off, 128);
        RnnfxChainCore *r;
        while ((r = rnnfx_chain_take_retired(c)) != NULL)
            rnnfx_chain_core_free(r);
    }
    assert_int_equal(rnnfx_chain_latency(c), lb);
    double step = 0, slope = 2 * M_PI * 100 / 48000 * 0.25;
    for (size_t i = 11000; i < 16000; i++)
        step = fmax(step, fabs(y[i] - y[i - 1]));
    print_message("bypassed swap, latency %d -> %d: largest step %.4f (the signal's own %.4f)\n", la,
                  lb, step, slope);
    assert_true(step <= 1.5 * slope);
    for (size_t i = 20000; i < n; i++)
        if (y[i] != x[i - (size_t)lb])
            fail_msg("bypassed after the swap: y[%zu] = %g, dry %g", i, y[i], x[i - (size_t)lb]);
    free(x);
    free(y);
    rnnfx_chain_free(c);
    rnnfx_model_free(a);
    rnnfx_model_free(b);
}

static void test_nan_stereo_inplace(void **state)
{
    (void)state;
    RnnfxModel *m = random_model(2, 48000.0, 0);
    const size_t n = 4096;
    float *l = malloc(n * sizeof(float)), *r = malloc(n * sizeof(float));
    float *ml = malloc(n * sizeof(float)), *mr = malloc(n * sizeof(float));
    rnnfx_test_signal(l, n, 1);
    rnnfx_test_signal(r, n, 2);
    RnnfxChain *mono = new_chain(m, 48000.0, 1, 512);
    rnnfx_chain_process(mono, l, ml, n);
    rnnfx_chain_reset(mono);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    rnnfx_chain_set_controls(mono, &ctl);
    rnnfx_chain_process(mono, r, mr, n);

    /* stereo, in place: each channel equals the mono chain on that input */
    RnnfxChain *st = new_chain(m, 48000.0, 2, 512);
    const float *in[2] = {l, r};
    float *out[2] = {l, r};
    rnnfx_chain_process_multi(st, in, out, n);
    assert_true(rnnfx_test_max_abs_diff(l, ml, n) == 0.0);
    assert_true(rnnfx_test_max_abs_diff(r, mr, n) == 0.0);

    /* NaN and Inf in: finite out, and the chain keeps working */
    for (size_t i = 0; i < n; i++) l[i] = (i % 97 == 0) ? NAN : (i % 89 == 0 ? INFINITY : 0.1f);
    rnnfx_chain_process(mono, l, ml, n);
    assert_true(rnnfx_test_all_finite(ml, n));
    float pin, pout;
    rnnfx_chain_take_peaks(mono, &pin, &pout);
    assert_true(isfinite(pin) && isfinite(pout) && pin > 0.0f);
    free(l);
    free(r);
    free(ml);
    free(mr);
    rnnfx_chain_free(mono);
    rnnfx_chain_free(st);
    rnnfx_model_free(m);
}

static void test_swap_semantics(void **state)
{
    (void)state;
    RnnfxModel *a = random_model(11, 48000.0, 0), *b = random_model(12, 44100.0, 0);
    RnnfxChain *c = new_chain(a, 48000.0, 1, 256);
    RnnfxChainCore *c1 = NULL, *c2 = NULL, *c3 = NULL, *displaced = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_core_new(c, b, 0, &c1, &err), RNNFX_OK);
    assert_int_equal(rnnfx_chain_core_new(c, a, 0, &c2, &err), RNNFX_OK);
    assert_int_equal(rnnfx_chain_core_new(c, b, 0, &c3, &err), RNNFX_OK);
    assert_int_equal(rnnfx_chain_core_latency(c1), rnnfx_chain_core_latency(c3));
    assert_true(rnnfx_chain_core_latency(c1) > 0);
    float x[256] = {0}, y[256];

    rnnfx_chain_swap(c, c1, &displaced); /* fade a -> b starts */
    assert_null(displaced);
    assert_true(rnnfx_chain_switching(c));
    assert_ptr_equal(rnnfx_chain_model(c), b);
    assert_int_equal(rnnfx_chain_latency(c), rnnfx_chain_core_latency(c1));
    rnnfx_chain_swap(c, c2, &displaced); /* waits */
    assert_null(displaced);
    rnnfx_chain_swap(c, c3, &displaced); /* replaces the waiting one */
    assert_ptr_equal(displaced, c2);
    rnnfx_chain_core_free(displaced);
    assert_null(rnnfx_chain_take_retired(c));
    int retired = 0;
    for (int i = 0; i < 40; i++) {
        rnnfx_chain_process(c, x, y, 256);
        RnnfxChainCore *r;
        while ((r = rnnfx_chain_take_retired(c)) != NULL) {
            retired++;
            rnnfx_chain_core_free(r);
        }
    }
    /* the original core and c1 faded out; c3 plays */
    assert_int_equal(retired, 2);
    assert_false(rnnfx_chain_switching(c));
    assert_ptr_equal(rnnfx_chain_model(c), b);

    /* a MIDI-frame model cannot be a core */
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, RNNFX_CELL_GRU, 4, 0);
    arch.kind = RNNFX_KIND_MIDI_FRAMES;
    arch.input_size = 4;
    arch.output_size = 4;
    arch.output_sigmoid = 1;
    RnnfxModel *midi = rnnfx_test_random_model(&arch, 1, 1.0f, 0);
    assert_non_null(midi);
    RnnfxChainCore *bad = NULL;
    assert_int_equal(rnnfx_chain_core_new(c, midi, 1, &bad, &err), RNNFX_ERR_UNSUPPORTED);
    assert_null(bad);
    print_message("MIDI model refused: %s\n", err.msg);
    rnnfx_chain_free(c);
    rnnfx_model_free(a);
    rnnfx_model_free(b);
}

/* Kept cores (a plugin's preloaded captures): each role the chain reports,
 * a second install of a held core refused, a waiting core taken back, a
 * core installed again after it played giving a fresh core's output once
 * the chain is reset, and rnnfx_chain_free leaving kept cores to their
 * owner (which frees them after: valgrind and ASan would see a double free
 * or a leak). */
static void test_kept_cores(void **state)
{
    (void)state;
    RnnfxModel *a = random_model(21, 48000.0, 0), *b = random_model(22, 48000.0, 0);
    RnnfxChain *c = new_chain(NULL, 48000.0, 1, 256);
    RnnfxChainCore *ka = NULL, *kb = NULL, *fresh = NULL, *d = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_core_new(c, a, 0, &ka, &err), RNNFX_OK);
    assert_int_equal(rnnfx_chain_core_new(c, b, 0, &kb, &err), RNNFX_OK);
    rnnfx_chain_core_set_kept(ka);
    rnnfx_chain_core_set_kept(kb);
    float x[256], y[256], ref[256];
    rnnfx_test_signal(x, 256, 4);

    rnnfx_chain_swap(c, ka, &d);
    assert_null(d);
    assert_int_equal(rnnfx_chain_core_role(c, ka), RNNFX_CORE_CURRENT);
    rnnfx_chain_swap(c, ka, &d); /* held: refused, nothing changes */
    assert_ptr_equal(d, ka);
    assert_int_equal(rnnfx_chain_core_role(c, ka), RNNFX_CORE_CURRENT);
    rnnfx_chain_process(c, x, y, 256);
    rnnfx_chain_swap(c, kb, &d); /* a fade from a to b */
    assert_null(d);
    assert_int_equal(rnnfx_chain_core_role(c, ka), RNNFX_CORE_FADING);
    assert_int_equal(rnnfx_chain_core_role(c, kb), RNNFX_CORE_CURRENT);
    RnnfxChainCore *extra = NULL;
    assert_int_equal(rnnfx_chain_core_new(c, a, 0, &extra, &err), RNNFX_OK);
    rnnfx_chain_swap(c, extra, &d);
    assert_null(d);
    assert_int_equal(rnnfx_chain_core_role(c, extra), RNNFX_CORE_PENDING);
    assert_ptr_equal(rnnfx_chain_drop_pending(c), extra); /* b stays */
    assert_null(rnnfx_chain_drop_pending(c));
    rnnfx_chain_core_free(extra);
    for (int i = 0; i < 8; i++) rnnfx_chain_process(c, x, y, 256); /* the fade ends */
    assert_int_equal(rnnfx_chain_core_role(c, ka), RNNFX_CORE_RETIRED);
    assert_ptr_equal(rnnfx_chain_take_retired(c), ka);
    assert_int_equal(rnnfx_chain_core_role(c, ka), RNNFX_CORE_NONE);
    assert_ptr_equal(rnnfx_chain_model(c), b);

    /* a installed again after it played: from its rest state, as new */
    rnnfx_chain_swap(c, ka, &d);
    rnnfx_chain_reset(c); /* no fade: the output is a's alone */
    assert_ptr_equal(rnnfx_chain_take_retired(c), kb); /* the reset ended b's fade */
    rnnfx_chain_process(c, x, y, 256);
    RnnfxChain *c2 = new_chain(NULL, 48000.0, 1, 256);
    assert_int_equal(rnnfx_chain_core_new(c2, a, 0, &fresh, &err), RNNFX_OK);
    rnnfx_chain_swap(c2, fresh, &d);
    rnnfx_chain_process(c2, x, ref, 256);
    assert_true(rnnfx_test_max_abs_diff(y, ref, 256) == 0.0);
    rnnfx_chain_free(c2);

    rnnfx_chain_free(c); /* holds ka: leaves it */
    rnnfx_chain_core_free(ka);
    rnnfx_chain_core_free(kb);
    rnnfx_model_free(a);
    rnnfx_model_free(b);
}

/* Silence in gives the model's steady output from the first sample: no
 * start-up transient from a zero state, after creation or any reset. The
 * same model run bare from its zero state does show one (so the test can
 * fail). */
static void test_no_click_at_start(void **state)
{
    (void)state;
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, RNNFX_CELL_GRU, 16, 0);
    RnnfxModel *m = rnnfx_test_random_model(&arch, 21, 1.0f, 0);
    assert_non_null(m);
    rnnfx_model_meta(m)->sample_rate = 48000.0;
    const size_t n = 16384;
    float *x = calloc(n, sizeof(float)), *y = malloc(n * sizeof(float));
    RnnfxInstance *bare = rnnfx_instance_new(m);
    rnnfx_instance_process(bare, x, y, n);
    const float steady = y[n - 1];
    double bare_dev = 0.0;
    for (size_t i = 0; i < 64; i++) bare_dev = fmax(bare_dev, fabs((double)y[i] - steady));
    RnnfxChain *c = new_chain(m, 48000.0, 1, 512);
    for (int pass = 0; pass < 2; pass++) {
        rnnfx_chain_process(c, x, y, n);
        double dev = 0.0;
        for (size_t i = 0; i < n; i++) dev = fmax(dev, fabs((double)y[i] - steady));
        print_message("silence, pass %d: output within %.1e of its steady value %.4f "
                      "(from a zero state: %.1e in the first 64 samples)\n",
                      pass, dev, steady, bare_dev);
        assert_true(bare_dev > 1e-2);
        assert_true(dev < 1e-4);
        rnnfx_chain_reset(c);
    }
    rnnfx_chain_free(c);
    rnnfx_instance_free(bare);
    free(x);
    free(y);
    rnnfx_model_free(m);
}

static void test_knob_mapping(void **state)
{
    (void)state;
    RnnfxModel *m = random_model(4, 48000.0, 2);
    assert_true(rnnfx_chain_knob_denormalize(m, 0, 0.25f) == 2.5f);
    assert_true(rnnfx_chain_knob_denormalize(m, 1, 2.0f) == 10.0f); /* clamped */
    assert_true(rnnfx_chain_knob_normalize(m, 0, 7.5f) == 0.75f);
    /* a knob the model lacks: passes through clamped, no effect */
    assert_true(rnnfx_chain_knob_denormalize(m, 5, 0.4f) == 0.4f);
    /* knob values reach the model: 0.25 normalised == 2.5 in the instance */
    const size_t n = 2048;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float)),
          *ref = malloc(n * sizeof(float));
    rnnfx_test_signal(x, n, 4);
    RnnfxChain *c = new_chain(m, 48000.0, 1, 512);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.n_knobs = 2;
    ctl.knobs[0] = 0.25f;
    ctl.knobs[1] = 1.0f;
    rnnfx_chain_reset(c);
    rnnfx_chain_set_controls(c, &ctl);
    rnnfx_chain_process(c, x, y, n);
    /* the chain starts from the rest state at the knobs it was given: the
     * default's rest (the core's), then as long again in silence there */
    RnnfxInstance *inst = rnnfx_instance_new(m);
    float *zeros = calloc(RNNFX_CHAIN_SETTLE_SAMPLES, sizeof(float)),
          *junk = malloc(RNNFX_CHAIN_SETTLE_SAMPLES * sizeof(float));
    rnnfx_instance_process(inst, zeros, junk, RNNFX_CHAIN_SETTLE_SAMPLES);
    rnnfx_instance_set_param(inst, 0, 2.5f);
    rnnfx_instance_set_param(inst, 1, 10.0f);
    rnnfx_instance_process(inst, zeros, junk, RNNFX_CHAIN_SETTLE_SAMPLES);
    free(zeros);
    free(junk);
    rnnfx_instance_process(inst, x, ref, n);
    assert_true(rnnfx_test_max_abs_diff(y, ref, n) == 0.0);
    rnnfx_instance_free(inst);
    free(x);
    free(y);
    free(ref);
    rnnfx_chain_free(c);
    rnnfx_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resampling_is_time_aligned),
        cmocka_unit_test(test_resampler_choice_and_extreme_ratios),
        cmocka_unit_test(test_chunking_and_reset),
        cmocka_unit_test(test_gains_mix_bypass),
        cmocka_unit_test(test_host_fp_mode_invisible),
        cmocka_unit_test(test_rest_at_knob_setting),
        cmocka_unit_test(test_controls_land_on_target),
        cmocka_unit_test(test_pending_core_block_independent),
        cmocka_unit_test(test_bypassed_swap_no_jump),
        cmocka_unit_test(test_swap_at_knobs_settles),
        cmocka_unit_test(test_knob_rest_kept),
        cmocka_unit_test(test_hold_knobs),
        cmocka_unit_test(test_nan_stereo_inplace),
        cmocka_unit_test(test_swap_semantics),
        cmocka_unit_test(test_kept_cores),
        cmocka_unit_test(test_no_click_at_start),
        cmocka_unit_test(test_knob_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_plugin_rate.c — the plugin at another host rate sounds like the model
 * at its own rate.
 *
 * The model is the bundle's built-in capture (a 48 kHz GRU of an overdrive:
 * nonlinear, with a strong tone-shaping response). A stepped sine sweep of
 * 40 frequencies from 40 Hz to 18 kHz is played at a guitar-like level
 * (-30 dBFS peak) through
 *   - the bare model at 48 kHz (rnnfx_instance, no chain, no plugin), and
 *   - the plugin, loaded through lilv, in hosts running at 44.1, 88.2 and
 *     96 kHz (so the plugin resamples around the model),
 * and the magnitude of the fundamental at the plugin's output (a least-
 * squares fit of sine, cosine and offset over 0.2 s after 0.1 s of settling)
 * must match the bare model's within 0.5 dB at every frequency. A plugin that
 * ran the model at the host rate instead would shift the whole response by
 * 8 % or 100 % in frequency and fail by several dB.
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

#include "../plugin/rnnfx_ports.h"
#include "instance.h"
#include "lv2host.h"
#include "model_file.h"

#define N_FREQ 40
#define AMP 0.0316f /* -30 dBFS */
#define SETTLE_S 0.1
#define MEASURE_S 0.2

static char g_bundle[1024];
static double g_freq[N_FREQ];

/* Amplitude of the component at f in y[0..n) (rate fs), by least squares on
 * {sin, cos, 1}. */
static double fit_amplitude(const float *y, size_t n, double f, double fs)
{
    double A[3][3] = {{0}}, b[3] = {0};
    for (size_t i = 0; i < n; i++) {
        double ph = 2.0 * M_PI * f * (double)i / fs;
        double v[3] = {sin(ph), cos(ph), 1.0};
        for (int r = 0; r < 3; r++) {
            b[r] += v[r] * y[i];
            for (int c = 0; c < 3; c++) A[r][c] += v[r] * v[c];
        }
    }
    /* Gaussian elimination, 3x3 */
    for (int k = 0; k < 3; k++) {
        for (int r = k + 1; r < 3; r++) {
            double m = A[r][k] / A[k][k];
            for (int c = k; c < 3; c++) A[r][c] -= m * A[k][c];
            b[r] -= m * b[k];
        }
    }
    double x[3];
    for (int k = 2; k >= 0; k--) {
        double s = b[k];
        for (int c = k + 1; c < 3; c++) s -= A[k][c] * x[c];
        x[k] = s / A[k][k];
    }
    return sqrt(x[0] * x[0] + x[1] * x[1]);
}

static float *sine(double f, double fs, size_t n)
{
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = AMP * (float)sin(2.0 * M_PI * f * (double)i / fs);
    return x;
}

/* Response of the bare model at its own rate (or, with force_rate > 0, fed
 * at that rate without resampling: what a plugin without resampling does). */
static void model_response(const char *path, double force_rate, double *db, double *rate_out)
{
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load(path, NULL, &m, &err), RNNFX_OK);
    *rate_out = rnnfx_model_meta(m)->sample_rate;
    double fs = force_rate > 0 ? force_rate : *rate_out;
    RnnfxInstance *inst = rnnfx_instance_new(m);
    assert_non_null(inst);
    size_t settle = (size_t)(SETTLE_S * fs), meas = (size_t)(MEASURE_S * fs);
    for (int k = 0; k < N_FREQ; k++) {
        float *x = sine(g_freq[k], fs, settle + meas);
        float *y = malloc((settle + meas) * sizeof(float));
        rnnfx_instance_reset(inst);
        rnnfx_instance_process(inst, x, y, settle + meas);
        db[k] = 20.0 * log10(fit_amplitude(y + settle, meas, g_freq[k], fs) / AMP);
        free(x);
        free(y);
    }
    rnnfx_instance_free(inst);
    rnnfx_model_free(m);
}

static void plugin_response(double fs, double *db)
{
    Lv2HostConfig cfg = {fs, 1024, LV2HOST_WORKER_SYNC, 0, 0};
    char err[512] = "";
    Lv2Host *h = lv2host_new(g_bundle, RNNFX_URI_MONO, &cfg, err, sizeof err);
    if (!h) fail_msg("%s", err);
    size_t settle = (size_t)(SETTLE_S * fs), meas = (size_t)(MEASURE_S * fs);
    for (int k = 0; k < N_FREQ; k++) {
        float *x = sine(g_freq[k], fs, settle + meas);
        float *y = malloc((settle + meas) * sizeof(float));
        lv2host_deactivate(h);
        lv2host_activate(h);
        for (size_t off = 0; off < settle + meas; off += 1024) {
            uint32_t n = (uint32_t)((settle + meas - off) < 1024 ? settle + meas - off : 1024);
            const float *in[1] = {x + off};
            float *out[1] = {y + off};
            lv2host_run(h, in, out, n);
        }
        db[k] = 20.0 * log10(fit_amplitude(y + settle, meas, g_freq[k], fs) / AMP);
        free(x);
        free(y);
    }
    lv2host_free(h);
}

static void test_resampled_response_matches_model(void **state)
{
    (void)state;
    for (int k = 0; k < N_FREQ; k++) g_freq[k] = 40.0 * pow(18000.0 / 40.0, k / (N_FREQ - 1.0));
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", g_bundle, RNNFX_DEFAULT_MODEL_FILE);
    double ref[N_FREQ], got[N_FREQ], model_rate = 0;
    model_response(path, 0.0, ref, &model_rate);
    assert_true(model_rate == 48000.0);
    double lo = 1e9, hi = -1e9;
    for (int k = 0; k < N_FREQ; k++) {
        lo = fmin(lo, ref[k]);
        hi = fmax(hi, ref[k]);
    }
    print_message("model at 48 kHz: response spans %.1f .. %.1f dB over 40 Hz..18 kHz\n", lo, hi);
    const double rates[3] = {44100.0, 88200.0, 96000.0};
    for (int r = 0; r < 3; r++) {
        /* the failure this test exists to catch: no resampling */
        double naive[N_FREQ], ignored, naive_worst = 0;
        model_response(path, rates[r], naive, &ignored);
        for (int k = 0; k < N_FREQ; k++) naive_worst = fmax(naive_worst, fabs(naive[k] - ref[k]));
        print_message("model fed at %.1f kHz without resampling: off by up to %.2f dB\n",
                      rates[r] / 1000, naive_worst);
        assert_true(naive_worst > 1.0);

        plugin_response(rates[r], got);
        double worst = 0;
        int wk = 0;
        for (int k = 0; k < N_FREQ; k++) {
            double d = fabs(got[k] - ref[k]);
            if (d > worst) {
                worst = d;
                wk = k;
            }
        }
        print_message("plugin at %.1f kHz: largest deviation from the 48 kHz model %.3f dB "
                      "(at %.0f Hz)\n",
                      rates[r] / 1000, worst, g_freq[wk]);
        for (int k = 0; k < N_FREQ; k++)
            if (fabs(got[k] - ref[k]) > 0.5)
                print_message("  %.0f Hz: model %.2f dB, plugin %.2f dB\n", g_freq[k], ref[k],
                              got[k]);
        assert_true(worst <= 0.5);
    }
}

int main(void)
{
    const char *build = getenv("BUILD");
    snprintf(g_bundle, sizeof g_bundle, "%s/rnnfx.lv2", build && *build ? build : "build");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resampled_response_matches_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_convolver.c — the impulse-response stage: the zero-latency
 * convolver (engine/convolver.h), responses made ready for a host rate
 * (engine/ir.h) and read from files, and a chain core that runs a model and
 * then a response (rnnfx_chain_core_new_ir).
 *
 * References nobody here wrote: the definition of convolution, evaluated
 * directly in double precision (y[t] = sum_k h[k] x[t-k]), and, for rate
 * conversion, the frequency response of the original response (a
 * converted cabinet must keep its level and shape below the lower
 * Nyquist frequency).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "audiotest.h"
#include "chain.h"
#include "convolver.h"
#include "enginetest.h"
#include "ir.h"

static char g_dir[] = "/tmp/rnnfx-test-convolver-XXXXXX";

/* A cabinet-like response: a decaying mix of resonances and noise. */
static float *make_response(size_t len, uint64_t seed)
{
    float *h = malloc(len * sizeof *h);
    RnnfxTestRng r;
    rnnfx_test_rng_seed(&r, seed);
    for (size_t i = 0; i < len; i++) {
        double t = (double)i;
        double env = exp(-t / (0.2 * (double)len + 1.0));
        double v = 0.6 * sin(0.05 * t) + 0.3 * sin(0.31 * t + 1.0) +
                   0.5 * (2.0 * rnnfx_test_rng_uniform(&r) - 1.0);
        h[i] = (float)(env * v);
    }
    h[0] += 0.8f;
    return h;
}

/* y = h * x, in double, first n samples. */
static double *direct(const float *h, size_t len, const float *x, size_t n)
{
    double *y = calloc(n, sizeof *y);
    for (size_t t = 0; t < n; t++) {
        double s = 0.0;
        size_t kmax = t + 1 < len ? t + 1 : len;
        for (size_t k = 0; k < kmax; k++)
            s += (double)h[k] * x[t - k];
        y[t] = s;
    }
    return y;
}

/* max |y - ref| / max |ref| */
static double rel_err(const float *y, const double *ref, size_t n)
{
    double e = 0.0, peak = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)y[i] - ref[i]);
        if (!(d <= e)) e = d; /* NaN counts */
        if (fabs(ref[i]) > peak) peak = fabs(ref[i]);
    }
    return e / peak;
}

/* Against the direct sum, for lengths around the partition edges and long
 * ones, fed in one call. */
static void test_matches_direct_convolution(void **state)
{
    (void)state;
    const size_t lens[] = {1, 2, 100, RNNFX_CONV_BLOCK - 1, RNNFX_CONV_BLOCK,
                           RNNFX_CONV_BLOCK + 1, 2 * RNNFX_CONV_BLOCK - 1, 2 * RNNFX_CONV_BLOCK,
                           2 * RNNFX_CONV_BLOCK + 1, 1000, 4801, 24000};
    const size_t n = 30000;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    rnnfx_test_signal(x, n, 7);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        float *h = make_response(lens[i], 100 + i);
        RnnfxConvolver *cv = NULL;
        RnnfxError err;
        assert_int_equal(rnnfx_convolver_new(h, lens[i], &cv, &err), RNNFX_OK);
        assert_int_equal(rnnfx_convolver_length(cv), lens[i]);
        rnnfx_convolver_process(cv, x, y, n);
        double *ref = direct(h, lens[i], x, n);
        double e = rel_err(y, ref, n);
        printf("  length %5zu: max error %.2e of the peak\n", lens[i], e);
        assert_true(e < 2e-6);
        /* zero latency: the first output is h[0] x[0] exactly (the head is
         * a plain FIR) */
        assert_true(y[0] == h[0] * x[0]);
        free(ref);
        rnnfx_convolver_free(cv);
        free(h);
    }
    free(x);
    free(y);
}

/* An impulse in gives the response out, from the first sample. */
static void test_impulse_gives_response(void **state)
{
    (void)state;
    const size_t len = 3000, n = 4096;
    float *h = make_response(len, 3);
    float *x = calloc(n, sizeof *x), *y = malloc(n * sizeof *y);
    x[0] = 1.0f;
    RnnfxConvolver *cv = NULL;
    assert_int_equal(rnnfx_convolver_new(h, len, &cv, NULL), RNNFX_OK);
    rnnfx_convolver_process(cv, x, y, n);
    double e = 0.0;
    for (size_t i = 0; i < n; i++) {
        double want = i < len ? h[i] : 0.0;
        double d = fabs(y[i] - want);
        if (!(d <= e)) e = d;
    }
    assert_true(e < 1e-6);
    rnnfx_convolver_free(cv);
    free(h);
    free(x);
    free(y);
}

/* Any chunking gives the same bits as one call; in place works; reset
 * gives what a fresh convolver gives. */
static void test_block_split_inplace_reset(void **state)
{
    (void)state;
    const size_t len = 5000, n = 20000;
    float *h = make_response(len, 11);
    float *x = malloc(n * sizeof *x), *one = malloc(n * sizeof *one), *y = malloc(n * sizeof *y);
    rnnfx_test_signal(x, n, 12);
    RnnfxConvolver *cv = NULL;
    assert_int_equal(rnnfx_convolver_new(h, len, &cv, NULL), RNNFX_OK);
    rnnfx_convolver_process(cv, x, one, n);

    const size_t splits[][4] = {{1, 1, 1, 1}, {7, 64, 129, 1}, {128, 128, 128, 128},
                                {1000, 3, 255, 4096}, {0, 5, 0, 300}};
    for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
        rnnfx_convolver_reset(cv);
        size_t off = 0, j = 0;
        while (off < n) {
            size_t len_ = splits[s][j++ % 4];
            if (len_ > n - off) len_ = n - off;
            rnnfx_convolver_process(cv, x + off, y + off, len_);
            off += len_;
        }
        assert_memory_equal(one, y, n * sizeof(float));
    }
    /* in place, after a reset */
    rnnfx_convolver_reset(cv);
    memcpy(y, x, n * sizeof *y);
    rnnfx_convolver_process(cv, y, y, n);
    assert_memory_equal(one, y, n * sizeof(float));
    rnnfx_convolver_free(cv);
    free(h);
    free(x);
    free(one);
    free(y);
}

static void test_convolver_refuses_bad_input(void **state)
{
    (void)state;
    RnnfxConvolver *cv = (RnnfxConvolver *)(void *)&cv;
    RnnfxError err;
    float h[4] = {1, 2, NAN, 4};
    assert_int_equal(rnnfx_convolver_new(h, 0, &cv, &err), RNNFX_ERR_ARG);
    assert_null(cv);
    assert_int_equal(rnnfx_convolver_new(h, 4, &cv, &err), RNNFX_ERR_INVALID);
    assert_null(cv);
    assert_non_null(strstr(err.msg, "sample 2"));
    assert_int_equal(rnnfx_convolver_new(NULL, 4, &cv, &err), RNNFX_ERR_ARG);
    rnnfx_convolver_free(NULL);
    rnnfx_convolver_reset(NULL);
    rnnfx_convolver_process(NULL, h, h, 4);
}

/* ---- responses ------------------------------------------------------------------ */

static double energy(const float *h, size_t n)
{
    double e = 0.0;
    for (size_t i = 0; i < n; i++)
        e += (double)h[i] * h[i];
    return e;
}

/* The mean of |H(f)|^2 of h at `points` frequencies spaced evenly in log
 * frequency over [f0, f1] at rate fs, each a direct sum of cos and sin in
 * double. */
static double band_mean(const float *h, size_t n, double f0, double f1, double fs, int points)
{
    double sum = 0.0;
    for (int j = 0; j < points; j++) {
        double f = f0 * pow(f1 / f0, (j + 0.5) / points), re = 0.0, im = 0.0;
        for (size_t i = 0; i < n; i++) {
            re += h[i] * cos(2.0 * M_PI * f * (double)i / fs);
            im -= h[i] * sin(2.0 * M_PI * f * (double)i / fs);
        }
        sum += re * re + im * im;
    }
    return sum / points;
}

/* Energy of h's frequency response over the band [f0, f1] (40 points), in
 * dB: a cabinet's level and shape in that band, without the
 * single-frequency dips where any small change reads as a large one. */
static double band_db(const float *h, size_t n, double f0, double f1, double fs)
{
    return 10.0 * log10(band_mean(h, n, f0, f1, fs, 40));
}

/* The normalisation's measure, written here from its definition (ir.h):
 * 128 points from 80 Hz to 8 kHz (at most 0.45 fs). */
static double band_power(const float *h, size_t n, double fs)
{
    return band_mean(h, n, 80.0, fmin(8000.0, 0.45 * fs), fs, 128);
}

/* rnnfx_ir_band_power against that, on a unit impulse (exactly 1), on
 * random responses, and on a long one (its phasors' drift). */
static void test_ir_band_power(void **state)
{
    (void)state;
    float one = 1.0f;
    assert_true(fabs(rnnfx_ir_band_power(&one, 1, 48000) - 1.0) < 1e-12);
    const size_t lens[3] = {300, 2000, 60000};
    for (int k = 0; k < 3; k++) {
        float *h = make_response(lens[k], 40 + k);
        const double fs = k == 1 ? 44100.0 : 48000.0;
        const double a = rnnfx_ir_band_power(h, lens[k], fs), b = band_power(h, lens[k], fs);
        printf("  band power, %zu taps at %.0f Hz: %.9g (direct sum %.9g)\n", lens[k], fs, a, b);
        assert_true(fabs(a / b - 1.0) < 1e-9);
        free(h);
    }
    /* next to nothing in the band (+-1 alternating: all of it at Nyquist):
     * the gain stops at 20 dB above unit energy's instead of growing
     * without limit */
    enum { NA = 4096 };
    float *alt = malloc(NA * sizeof *alt);
    assert_non_null(alt);
    for (size_t i = 0; i < NA; i++)
        alt[i] = i % 2 ? -1.0f : 1.0f;
    assert_true(rnnfx_ir_band_power(alt, NA, 48000) < 0.01 * NA);
    const float *alt1[1] = {alt};
    RnnfxIr *ir = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_ir_new(alt1, 1, NA, 48000, 48000, 1, &ir, &err), RNNFX_OK);
    printf("  +-1 alternating, %d taps: gain %.4f (unit energy's %.4f)\n", NA, rnnfx_ir_gain(ir),
           1.0 / sqrt((double)NA));
    assert_true(fabs(rnnfx_ir_gain(ir) - 1.0 / sqrt(0.01 * NA)) < 1e-6);
    rnnfx_ir_free(ir);
    free(alt);
    /* a 6 kHz rate caps the band at 2.7 kHz */
    float *h = make_response(500, 44);
    assert_true(fabs(rnnfx_ir_band_power(h, 500, 6000.0) / band_power(h, 500, 6000.0) - 1.0) < 1e-9);
    free(h);
}

static void test_ir_normalise_trim_channels(void **state)
{
    (void)state;
    const size_t len = 2000;
    float *a = make_response(len, 21), *b = make_response(len, 22);
    /* a silent tail to trim */
    float *pa = calloc(len + 500, sizeof *pa), *pb = calloc(len + 500, sizeof *pb);
    memcpy(pa, a, len * sizeof *pa);
    memcpy(pb, b, len * sizeof *pb);
    for (size_t i = 0; i < len; i++) {
        pa[i] *= 3.0f;
        pb[i] *= 0.5f;
    }
    const float *st[2] = {pa, pb};
    RnnfxIr *ir = NULL;
    RnnfxError err;
    /* stereo response, stereo chain: each channel kept, the louder one at
     * unit band power, their ratio kept */
    assert_int_equal(rnnfx_ir_new(st, 2, len + 500, 48000, 48000, 2, &ir, &err), RNNFX_OK);
    assert_int_equal(rnnfx_ir_channels(ir), 2);
    assert_true(rnnfx_ir_frames(ir) <= len && rnnfx_ir_frames(ir) > len - 200);
    assert_true(fabs(band_power(rnnfx_ir_data(ir, 0), rnnfx_ir_frames(ir), 48000) - 1.0) < 1e-5);
    double ratio = energy(rnnfx_ir_data(ir, 1), rnnfx_ir_frames(ir)) /
                   energy(rnnfx_ir_data(ir, 0), rnnfx_ir_frames(ir));
    double want = energy(pb, len) / energy(pa, len);
    assert_true(fabs(ratio / want - 1.0) < 1e-4);
    assert_null(rnnfx_ir_data(ir, 2));
    rnnfx_ir_free(ir);
    /* stereo response, mono chain: the mean of the two */
    assert_int_equal(rnnfx_ir_new(st, 2, len + 500, 48000, 48000, 1, &ir, &err), RNNFX_OK);
    const float *m = rnnfx_ir_data(ir, 0);
    float g = rnnfx_ir_gain(ir);
    for (size_t i = 0; i < 100; i++)
        assert_true(fabsf(m[i] - g * 0.5f * (pa[i] + pb[i])) < 1e-6f);
    rnnfx_ir_free(ir);
    /* mono response, stereo chain: the same on both */
    assert_int_equal(rnnfx_ir_new(st, 1, len, 48000, 48000, 2, &ir, &err), RNNFX_OK);
    assert_memory_equal(rnnfx_ir_data(ir, 0), rnnfx_ir_data(ir, 1),
                        rnnfx_ir_frames(ir) * sizeof(float));
    rnnfx_ir_free(ir);
    free(a);
    free(b);
    free(pa);
    free(pb);
}

/* A response recorded at 44.1 kHz, used at 48 kHz: same frequency response
 * (level and shape, in third-octave bands) up to 16 kHz, and the same
 * duration. */
static void test_ir_rate_conversion_keeps_response(void **state)
{
    (void)state;
    const size_t len = 4410;
    float *h = make_response(len, 31);
    const float *d[1] = {h};
    RnnfxIr *a = NULL, *b = NULL;
    assert_int_equal(rnnfx_ir_new(d, 1, len, 44100, 44100, 1, &a, NULL), RNNFX_OK);
    assert_int_equal(rnnfx_ir_new(d, 1, len, 44100, 48000, 1, &b, NULL), RNNFX_OK);
    assert_true(rnnfx_ir_source_rate(b) == 44100.0 && rnnfx_ir_rate(b) == 48000.0);
    double dur_a = (double)rnnfx_ir_frames(a) / 44100.0, dur_b = (double)rnnfx_ir_frames(b) / 48000.0;
    assert_true(fabs(dur_a - dur_b) < 0.002);
    /* undo each normalisation: both are h's own level */
    double worst = 0.0;
    for (double f = 100.0; f * 1.26 <= 16000.0; f *= 1.26) { /* third octaves */
        double la = band_db(rnnfx_ir_data(a, 0), rnnfx_ir_frames(a), f, f * 1.26, 44100.0) -
                    20.0 * log10(rnnfx_ir_gain(a));
        double lb = band_db(rnnfx_ir_data(b, 0), rnnfx_ir_frames(b), f, f * 1.26, 48000.0) -
                    20.0 * log10(rnnfx_ir_gain(b));
        if (fabs(la - lb) > worst) worst = fabs(la - lb);
        if (getenv("RNNFX_TEST_VERBOSE")) printf("    %8.0f Hz %+.4f dB\n", f, la - lb);
    }
    printf("  44.1 -> 48 kHz: third-octave bands within %.3f dB from 100 Hz to 16 kHz\n", worst);
    assert_true(worst < 0.05);
    rnnfx_ir_free(a);
    rnnfx_ir_free(b);
    free(h);
}

static void test_ir_refuses_bad_responses(void **state)
{
    (void)state;
    RnnfxIr *ir = (RnnfxIr *)(void *)&ir;
    RnnfxError err;
    float z[64] = {0};
    const float *d[3] = {z, z, z};
    assert_int_equal(rnnfx_ir_new(d, 1, 64, 48000, 48000, 1, &ir, &err), RNNFX_ERR_INVALID);
    assert_null(ir);
    assert_non_null(strstr(err.msg, "silent"));
    assert_int_equal(rnnfx_ir_new(d, 3, 64, 48000, 48000, 1, &ir, &err), RNNFX_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "3 channels"));
    assert_int_equal(rnnfx_ir_new(d, 1, 0, 48000, 48000, 1, &ir, &err), RNNFX_ERR_INVALID);
    assert_int_equal(rnnfx_ir_new(d, 1, 64, 100, 48000, 1, &ir, &err), RNNFX_ERR_INVALID);
    z[10] = NAN;
    assert_int_equal(rnnfx_ir_new(d, 1, 64, 48000, 48000, 1, &ir, &err), RNNFX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "NaN"));
    z[10] = 0.0f;
    /* a 6 s response (a recording, not a cabinet) */
    size_t n = 6 * 48000;
    float *lng = malloc(n * sizeof *lng);
    rnnfx_test_signal(lng, n, 5);
    const float *dl[1] = {lng};
    assert_int_equal(rnnfx_ir_new(dl, 1, n, 48000, 48000, 1, &ir, &err), RNNFX_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "limit"));
    /* 3 s: fine at 48 kHz, over the tap limit at 96 kHz (288000 taps) */
    n = 3 * 48000;
    assert_int_equal(rnnfx_ir_new(dl, 1, n, 48000, 48000, 1, &ir, &err), RNNFX_OK);
    rnnfx_ir_free(ir);
    assert_int_equal(rnnfx_ir_new(dl, 1, n, 48000, 96000, 1, &ir, &err), RNNFX_ERR_LIMIT);
    assert_null(ir);
    assert_non_null(strstr(err.msg, "taps at 96000 Hz"));
    free(lng);
    rnnfx_ir_free(NULL);
}

static void test_ir_load_files(void **state)
{
    (void)state;
    char path[4096];
    RnnfxIr *ir = NULL;
    RnnfxError err;
    const size_t len = 1500;
    float *h = make_response(len, 41);
    for (size_t i = 0; i < len; i++) h[i] *= 0.5f;
    /* a 24-bit WAV reads back within its resolution, normalised */
    rnnfx_test_scratch_path(path, "cab.wav");
    const int pcm24 = SF_FORMAT_WAV | SF_FORMAT_PCM_24;
    assert_int_equal(rnnfx_test_write_frames(path, pcm24, 1, 48000, h, len), 0);
    assert_int_equal(rnnfx_ir_load(path, 48000, 2, &ir, &err), RNNFX_OK);
    assert_int_equal(rnnfx_ir_channels(ir), 2);
    assert_int_equal(rnnfx_ir_source_channels(ir), 1);
    float g = rnnfx_ir_gain(ir);
    for (size_t i = 0; i < rnnfx_ir_frames(ir); i++)
        assert_true(fabsf(rnnfx_ir_data(ir, 1)[i] / g - h[i]) < 1e-6f);
    rnnfx_ir_free(ir);

    /* 6 channels */
    float *six = calloc(len * 6, sizeof *six);
    for (size_t i = 0; i < len; i++) six[i * 6] = h[i];
    rnnfx_test_scratch_path(path, "six.wav");
    assert_int_equal(rnnfx_test_write_float_wav(path, 6, 48000, six, len), 0);
    assert_int_equal(rnnfx_ir_load(path, 48000, 1, &ir, &err), RNNFX_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "6 channels"));
    assert_non_null(strstr(err.msg, "six.wav"));
    /* a rate outside 8-768 kHz: refused from the header, before the
     * buffers are sized from its frame count */
    rnnfx_test_scratch_path(path, "fast.wav");
    assert_int_equal(rnnfx_test_write_float_wav(path, 1, 1000000, h, len), 0);
    assert_int_equal(rnnfx_ir_load(path, 48000, 1, &ir, &err), RNNFX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "1000000 Hz is outside"));
    assert_non_null(strstr(err.msg, "fast.wav: "));
    /* NaN in a float WAV */
    h[700] = NAN;
    rnnfx_test_scratch_path(path, "nan.wav");
    assert_int_equal(rnnfx_test_write_float_wav(path, 1, 48000, h, len), 0);
    assert_int_equal(rnnfx_ir_load(path, 48000, 1, &ir, &err), RNNFX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "NaN"));
    assert_null(strstr(err.msg, ": :")); /* the file name prefixed once, cleanly */
    assert_non_null(strstr(err.msg, "nan.wav: "));
    /* not a sound file; missing */
    rnnfx_test_scratch_path(path, "notes.txt");
    FILE *f = fopen(path, "w");
    fputs("this is not audio\n", f);
    fclose(f);
    assert_int_equal(rnnfx_ir_load(path, 48000, 1, &ir, &err), RNNFX_ERR_IO);
    assert_non_null(strstr(err.msg, "notes.txt"));
    rnnfx_test_scratch_path(path, "missing.wav");
    assert_int_equal(rnnfx_ir_load(path, 48000, 1, &ir, &err), RNNFX_ERR_IO);
    assert_null(ir);
    assert_int_equal(rnnfx_ir_load("", 48000, 1, &ir, &err), RNNFX_ERR_ARG);
    free(six);
    free(h);
}

/* ---- in the chain ------------------------------------------------------------------- */

/* A core with a response gives the core without one, convolved: for a
 * model at the host rate and one resampled (44.1 kHz host, 48 kHz model),
 * mono and stereo (a different response per channel). */
static void test_chain_core_with_response(void **state)
{
    (void)state;
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, RNNFX_CELL_GRU, 12, 1);
    RnnfxModel *m = rnnfx_test_random_model(&arch, 5, 1.0f, 0);
    assert_non_null(m);
    const size_t n = 12000, len = 2500;
    float *h0 = make_response(len, 51), *h1 = make_response(len, 52);
    const double rates[2] = {48000, 44100};
    for (int ri = 0; ri < 2; ri++) {
        for (int channels = 1; channels <= 2; channels++) {
            const double rate = rates[ri];
            RnnfxIr *ir = NULL;
            const float *d[2] = {h0, h1};
            assert_int_equal(rnnfx_ir_new(d, 2, len, rate, rate, channels, &ir, NULL), RNNFX_OK);
            RnnfxChain *plain = NULL, *cab = NULL;
            assert_int_equal(rnnfx_chain_new_multi(m, rate, channels, 256, &plain, NULL), RNNFX_OK);
            assert_int_equal(rnnfx_chain_new_multi(NULL, rate, channels, 256, &cab, NULL), RNNFX_OK);
            RnnfxChainCore *core = NULL;
            RnnfxError err;
            assert_int_equal(rnnfx_chain_core_new_ir(cab, m, 0, ir, &core, &err), RNNFX_OK);
            assert_int_equal(rnnfx_chain_core_ir_frames(core), rnnfx_ir_frames(ir));
            RnnfxChainCore *displaced = NULL;
            rnnfx_chain_swap(cab, core, &displaced);
            assert_null(displaced);
            RnnfxChainControls ctl;
            rnnfx_chain_controls_init(&ctl);
            rnnfx_chain_set_controls(plain, &ctl);
            rnnfx_chain_set_controls(cab, &ctl);
            assert_int_equal(rnnfx_chain_latency(cab), rnnfx_chain_latency(plain));

            float *x[2], *yp[2], *yc[2];
            for (int c = 0; c < channels; c++) {
                x[c] = malloc(n * sizeof(float));
                yp[c] = malloc(n * sizeof(float));
                yc[c] = malloc(n * sizeof(float));
                rnnfx_test_signal(x[c], n, 60 + (uint64_t)c);
            }
            /* odd chunks: the result must not depend on them */
            for (size_t off = 0; off < n;) {
                size_t k = off % 3 ? 97 : 200;
                if (k > n - off) k = n - off;
                const float *in[2] = {x[0] + off, channels > 1 ? x[1] + off : NULL};
                float *op[2] = {yp[0] + off, channels > 1 ? yp[1] + off : NULL};
                float *oc[2] = {yc[0] + off, channels > 1 ? yc[1] + off : NULL};
                rnnfx_chain_process_multi(plain, in, op, k);
                rnnfx_chain_process_multi(cab, in, oc, k);
                off += k;
            }
            for (int c = 0; c < channels; c++) {
                const float *hc = rnnfx_ir_data(ir, c);
                double *ref = direct(hc, rnnfx_ir_frames(ir), yp[c], n);
                double e = rel_err(yc[c], ref, n);
                printf("  %.0f Hz host, %d channel(s), channel %d: max error %.2e of the peak\n",
                       rate, channels, c, e);
                assert_true(e < 2e-6);
                free(ref);
                free(x[c]);
                free(yp[c]);
                free(yc[c]);
            }
            rnnfx_chain_free(plain);
            rnnfx_chain_free(cab);
            rnnfx_ir_free(ir);
        }
    }
    /* a response made for another rate or channel count is refused */
    RnnfxChain *c48 = NULL;
    assert_int_equal(rnnfx_chain_new_multi(NULL, 48000, 1, 256, &c48, NULL), RNNFX_OK);
    RnnfxIr *ir44 = NULL;
    const float *d[1] = {h0};
    assert_int_equal(rnnfx_ir_new(d, 1, len, 44100, 44100, 1, &ir44, NULL), RNNFX_OK);
    RnnfxChainCore *core = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_core_new_ir(c48, m, 0, ir44, &core, &err), RNNFX_ERR_ARG);
    assert_null(core);
    assert_non_null(strstr(err.msg, "44100"));
    rnnfx_ir_free(ir44);
    rnnfx_chain_free(c48);
    rnnfx_model_free(m);
    free(h0);
    free(h1);
}

int main(void)
{
    if (!mkdtemp(g_dir)) return 1;
    rnnfx_test_scratch_set(g_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_direct_convolution),
        cmocka_unit_test(test_impulse_gives_response),
        cmocka_unit_test(test_block_split_inplace_reset),
        cmocka_unit_test(test_convolver_refuses_bad_input),
        cmocka_unit_test(test_ir_band_power),
        cmocka_unit_test(test_ir_normalise_trim_channels),
        cmocka_unit_test(test_ir_rate_conversion_keeps_response),
        cmocka_unit_test(test_ir_refuses_bad_responses),
        cmocka_unit_test(test_ir_load_files),
        cmocka_unit_test(test_chain_core_with_response),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rnnfx_test_remove_tree(g_dir);
    return rc;
}

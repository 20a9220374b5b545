/*
 * test_resample.c — the fixed-ratio polyphase resampler (engine/resample.h).
 *
 * References nobody here wrote:
 *   - mathematics: a sine sampled at the input rate must come out as the
 *     same sine sampled at the output rate, at exactly the same times (the
 *     resampler is zero-phase), and a sine above the output's Nyquist
 *     frequency must vanish;
 *   - libsamplerate's best converter (SRC_SINC_BEST_QUALITY, an independent
 *     implementation) on a real guitar DI recording and on the same
 *     recording through a distortion (tests/data/align/README.md).
 * Every test runs once per instruction set this CPU has (RNNFX_ISA picks
 * the inner loop), and the loops must agree with one another.
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
#include <samplerate.h>

#include "audiotest.h"
#include "enginetest.h"
#include "fast.h"
#include "resample.h"

static const char *const g_isas[] = {"generic", "avx2", "avx512"};

/* The filter for a pair built with the named inner loop (NULL: the one
 * this CPU gets). */
static RnnfxResampleFilter *filter_for(double in_rate, double out_rate, const char *isa)
{
    RnnfxResampleFilter *f = NULL;
    RnnfxError err;
    if (isa) setenv("RNNFX_ISA", isa, 1);
    RnnfxStatus st = rnnfx_resample_filter_new(in_rate, out_rate, &f, &err);
    if (isa) unsetenv("RNNFX_ISA");
    if (st != RNNFX_OK) fail_msg("%g -> %g: %s", in_rate, out_rate, err.msg);
    if (isa) assert_string_equal(rnnfx_resample_filter_isa(f), isa);
    return f;
}

/* Resamples x[n] in one call; *m gets the output count. */
static float *run_all(const RnnfxResampleFilter *f, const float *x, size_t n, size_t *m)
{
    RnnfxResampler *r = rnnfx_resample_new(f);
    assert_non_null(r);
    float *y = malloc(rnnfx_resample_max_out(r, n) * sizeof *y);
    assert_non_null(y);
    *m = rnnfx_resample_process(r, x, n, y);
    assert_true(*m <= rnnfx_resample_max_out(r, n));
    rnnfx_resample_free(r);
    return y;
}

static void sine(float *x, size_t n, double f, double rate, double phase)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)sin(2.0 * M_PI * f * (double)i / rate + phase);
}

static void test_supported_pairs(void **state)
{
    (void)state;
    const double usual[] = {8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000};
    for (int i = 0; i < 11; i++) {
        assert_true(rnnfx_resample_supported(usual[i], 48000));
        assert_true(rnnfx_resample_supported(48000, usual[i]));
        assert_true(rnnfx_resample_supported(usual[i], 44100));
        assert_true(rnnfx_resample_supported(44100, usual[i]));
    }
    assert_false(rnnfx_resample_supported(44056, 48000)); /* 6000 phases */
    assert_false(rnnfx_resample_supported(44100.5, 48000)); /* not whole Hz */
    assert_false(rnnfx_resample_supported(48000, 0));
    assert_false(rnnfx_resample_supported(NAN, 48000));
    assert_false(rnnfx_resample_supported(48000 * 300.0, 48000)); /* ratio beyond 256 */
    RnnfxResampleFilter *f = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_resample_filter_new(44056, 48000, &f, &err), RNNFX_ERR_UNSUPPORTED);
    assert_null(f);
    assert_non_null(strstr(err.msg, "44056"));
    rnnfx_resample_filter_free(NULL);
    rnnfx_resample_free(NULL);
    rnnfx_resample_reset(NULL);
}

static const double g_pairs[][2] = {
    {44100, 48000}, {48000, 44100}, {48000, 96000}, {96000, 48000}, {88200, 48000},
    {48000, 88200}, {22050, 48000}, {48000, 32000}, {192000, 44100}, {16000, 48000},
};
#define N_PAIRS (sizeof g_pairs / sizeof g_pairs[0])

/* Passband: up to 85 % of the lower Nyquist frequency the output is the
 * input sine resampled exactly: same amplitude, same phase, sampled at
 * k / out_rate. Any delay, gain error, ripple, image or alias shows up as
 * a difference; the bound is 2e-6 re full scale (-114 dB; the filter
 * measures up to 1.4e-6). */
static void test_passband_sines_exact(void **state)
{
    (void)state;
    for (int ii = 0; ii < 3; ii++) {
        if (!rnnfx_fast_isa_available(g_isas[ii])) continue;
        for (size_t pi = 0; pi < N_PAIRS; pi++) {
            double fin = g_pairs[pi][0], fout = g_pairs[pi][1];
            double nyq = 0.5 * fmin(fin, fout);
            RnnfxResampleFilter *f = filter_for(fin, fout, g_isas[ii]);
            size_t n = (size_t)(fin / 2);
            float *x = malloc(n * sizeof *x);
            const double freqs[] = {40.0, 997.0, 0.31 * nyq, 0.62 * nyq, 0.85 * nyq};
            double worst = 0.0;
            for (int fi = 0; fi < 5; fi++) {
                sine(x, n, freqs[fi], fin, 0.3 + fi);
                size_t m;
                float *y = run_all(f, x, n, &m);
                /* outputs whose window lies inside the signal */
                double edge = (double)rnnfx_resample_filter_taps(f);
                size_t count = 0;
                for (size_t k = 0; k < m; k++) {
                    double t = (double)k * fin / fout;
                    if (t < edge || t > (double)n - edge) continue;
                    double want = sin(2.0 * M_PI * freqs[fi] * (double)k / fout + 0.3 + fi);
                    worst = fmax(worst, fabs(y[k] - want));
                    count++;
                }
                assert_true(count > n / 4 * fout / fin);
                free(y);
            }
            print_message("%-7s %6.0f -> %6.0f Hz: taps %3d, phases %3d, worst passband error %.1f dB\n",
                          g_isas[ii], fin, fout, rnnfx_resample_filter_taps(f),
                          rnnfx_resample_filter_phases(f), 20.0 * log10(worst));
            assert_true(worst < 2e-6); /* -114 dB */
            free(x);
            rnnfx_resample_filter_free(f);
        }
    }
}

/* Stopband: when the rate goes down, a sine between the output's Nyquist
 * frequency and the input's must not come through (it would alias into
 * the audio band). Bound: -117 dB re the input sine's amplitude (the
 * filter is designed for 120 dB and measures 121.7 dB or more here). */
static void test_stopband_removes_aliases(void **state)
{
    (void)state;
    for (int ii = 0; ii < 3; ii++) {
        if (!rnnfx_fast_isa_available(g_isas[ii])) continue;
        for (size_t pi = 0; pi < N_PAIRS; pi++) {
            double fin = g_pairs[pi][0], fout = g_pairs[pi][1];
            if (fout >= fin) continue;
            RnnfxResampleFilter *f = filter_for(fin, fout, g_isas[ii]);
            size_t n = (size_t)(fin / 2);
            float *x = malloc(n * sizeof *x);
            double worst = 0.0;
            for (int fi = 0; fi < 6; fi++) {
                double freq = 0.5 * fout + (0.5 * fin - 0.5 * fout) * (0.002 + 0.196 * fi);
                sine(x, n, freq, fin, 0.1 * fi);
                size_t m;
                float *y = run_all(f, x, n, &m);
                double ss = 0.0;
                for (size_t k = m / 4; k < 3 * m / 4; k++) ss += (double)y[k] * y[k];
                worst = fmax(worst, sqrt(2.0 * ss / (double)(3 * m / 4 - m / 4)));
                free(y);
            }
            print_message("%-7s %6.0f -> %6.0f Hz: worst stopband level %.1f dB\n", g_isas[ii], fin,
                          fout, 20.0 * log10(worst));
            assert_true(worst < 1.4e-6); /* -117 dB */
            free(x);
            rnnfx_resample_filter_free(f);
        }
    }
}

/* Any chunking gives the same samples bit for bit; reset equals fresh;
 * resamplers sharing a filter do not disturb each other; n = 0 is a no-op. */
static void test_chunking_reset_and_sharing(void **state)
{
    (void)state;
    const size_t n = 30011;
    float *x = malloc(n * sizeof *x);
    rnnfx_test_signal(x, n, 7);
    RnnfxTestRng rng;
    rnnfx_test_rng_seed(&rng, 99);
    for (size_t pi = 0; pi < N_PAIRS; pi++) {
        RnnfxResampleFilter *f = filter_for(g_pairs[pi][0], g_pairs[pi][1], NULL);
        size_t m;
        float *want = run_all(f, x, n, &m);
        /* outputs k with floor(k M / L) + W <= n - 1, i.e. k M < (n - W) L:
         * the resampler holds back exactly its look-ahead W, no more */
        const long L = (long)g_pairs[pi][1], M = (long)g_pairs[pi][0];
        const long W = rnnfx_resample_filter_delay(f);
        assert_true(W > 0);
        assert_int_equal(m, (size_t)((((long)n - W) * L + M - 1) / M));
        RnnfxResampler *a = rnnfx_resample_new(f), *b = rnnfx_resample_new(f);
        float *ya = calloc(m + 64, sizeof *ya), *yb = calloc(m + 64, sizeof *yb);
        float *junk = malloc(rnnfx_resample_max_out(a, 50) * sizeof *junk);
        for (int pass = 0; pass < 2; pass++) {
            /* pass 1: after reset from a different stream */
            size_t ma = 0, mb = 0, i = 0;
            assert_int_equal(rnnfx_resample_process(a, x, 0, ya), 0);
            while (i < n) {
                size_t c = 1 + (size_t)(rnnfx_test_rng_uniform(&rng) * 700.0);
                if (c > n - i) c = n - i;
                size_t got = rnnfx_resample_process(a, x + i, c, ya + ma);
                assert_true(got <= rnnfx_resample_max_out(a, c));
                assert_true(rnnfx_resample_max_in(a, rnnfx_resample_max_out(a, c)) >= c);
                ma += got;
                /* b, interleaved, sees the same input in other chunks */
                size_t cb = c / 2;
                mb += rnnfx_resample_process(b, x + i, cb, yb + mb);
                mb += rnnfx_resample_process(b, x + i + cb, c - cb, yb + mb);
                i += c;
            }
            assert_int_equal(ma, m);
            assert_int_equal(mb, m);
            assert_memory_equal(ya, want, m * sizeof *ya);
            assert_memory_equal(yb, want, m * sizeof *yb);
            rnnfx_resample_process(a, x + 100, 50, junk);
            rnnfx_resample_reset(a);
            rnnfx_resample_reset(b);
        }
        free(junk);
        free(ya);
        free(yb);
        free(want);
        rnnfx_resample_free(a);
        rnnfx_resample_free(b);
        rnnfx_resample_filter_free(f);
    }
    free(x);
}

/* Every inner loop computes the same sums in the same order: the AVX2 and
 * AVX-512 loops (both with FMA) agree bit for bit, and the baseline loop
 * (separate multiply and add) to float rounding. */
static void test_isas_agree(void **state)
{
    (void)state;
    const size_t n = 20000;
    float *x = malloc(n * sizeof *x);
    rnnfx_test_signal(x, n, 3);
    for (size_t pi = 0; pi < N_PAIRS; pi++) {
        RnnfxResampleFilter *g = filter_for(g_pairs[pi][0], g_pairs[pi][1], "generic");
        size_t m0;
        float *y0 = run_all(g, x, n, &m0), *fma = NULL;
        for (int ii = 1; ii < 3; ii++) {
            if (!rnnfx_fast_isa_available(g_isas[ii])) continue;
            RnnfxResampleFilter *f = filter_for(g_pairs[pi][0], g_pairs[pi][1], g_isas[ii]);
            size_t m;
            float *y = run_all(f, x, n, &m);
            assert_int_equal(m, m0);
            assert_true(rnnfx_test_max_abs_diff(y, y0, m) < 2e-6);
            if (fma) {
                assert_memory_equal(y, fma, m * sizeof *y);
                free(y);
            } else {
                fma = y;
            }
            rnnfx_resample_filter_free(f);
        }
        free(fma);
        free(y0);
        rnnfx_resample_filter_free(g);
    }
    free(x);
}

/* e[n] low-passed at fc (cycles per sample) by a 255-tap Kaiser-windowed
 * sinc (beta 10, about 100 dB down past fc + 0.03), in double precision;
 * only outputs whose window lies inside e are kept: out[k] is centred on
 * e[k + 127]. Returns the count. */
static size_t lowpass(const double *e, size_t n, double fc, double *out)
{
    enum { T = 255, H = 127 };
    double h[T], i0b = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        for (int j = -1; j < (pass ? T : 0); j++) {
            double u = j < 0 ? 0.0 : (double)(j - H) / H, z = 0.25 * 100.0 * (1.0 - u * u);
            double term = 1.0, sum = 1.0; /* I0(10 sqrt(1 - u^2)) */
            for (int k = 1; k < 60; k++) sum += (term *= z / ((double)k * k));
            if (j < 0) i0b = sum;
            else {
                double a = 2.0 * M_PI * fc * (double)(j - H);
                h[j] = 2.0 * fc * (j == H ? 1.0 : sin(a) / a) * sum / i0b;
            }
        }
    }
    size_t m = n >= T ? n - T + 1 : 0;
    for (size_t k = 0; k < m; k++) {
        double acc = 0.0;
        for (int j = 0; j < T; j++) acc += h[j] * e[k + (size_t)j];
        out[k] = acc;
    }
    return m;
}

/* Real recordings against libsamplerate's best converter. Both place output
 * k at input time k / ratio, so the streams line up sample for sample. The
 * two filters differ near the Nyquist frequency (libsamplerate's best is
 * flat to 96 %, ours to 85 %), where a distorted guitar still has some
 * energy, so the difference is low-passed at 16 kHz or 75 % of the output's
 * Nyquist frequency, whichever is lower (by a plain filter written in this
 * test), and must lie 110 dB below the signal. */
static void test_matches_libsamplerate_on_guitar(void **state)
{
    (void)state;
    const char *files[] = {"tests/data/align/dry.flac", "tests/data/align/wet_gx_scream.flac"};
    const double outs[] = {44100, 96000, 32000};
    for (int fi = 0; fi < 2; fi++) {
        char path[1024];
        SF_INFO info;
        float *x = rnnfx_test_read_audio(rnnfx_test_path(path, sizeof path, files[fi]), &info);
        assert_non_null(x);
        assert_int_equal(info.channels, 1);
        size_t n = (size_t)info.frames;
        for (int oi = 0; oi < 3; oi++) {
            double fin = info.samplerate, fout = outs[oi];
            RnnfxResampleFilter *f = filter_for(fin, fout, NULL);
            size_t m;
            float *y = run_all(f, x, n, &m);
            size_t cap = (size_t)((double)n * fout / fin) + 64;
            float *ref = calloc(cap, sizeof *ref);
            SRC_DATA d;
            memset(&d, 0, sizeof d);
            d.data_in = x;
            d.input_frames = (long)n;
            d.data_out = ref;
            d.output_frames = (long)cap;
            d.src_ratio = fout / fin;
            assert_int_equal(src_simple(&d, SRC_SINC_BEST_QUALITY, 1), 0);
            /* skip the first and last 50 ms (start-up, and our tail still
             * waiting for look-ahead) */
            size_t lo = (size_t)(0.05 * fout), len = m - 2 * lo;
            assert_true((size_t)d.output_frames_gen > lo + len);
            double *e = malloc(len * sizeof *e), *s = malloc(len * sizeof *s);
            double *el = malloc(len * sizeof *el), *sl = malloc(len * sizeof *sl);
            for (size_t k = 0; k < len; k++) {
                e[k] = (double)y[lo + k] - ref[lo + k];
                s[k] = ref[lo + k];
            }
            double cut = fmin(16000.0, 0.75 * 0.5 * fout);
            size_t ml = lowpass(e, len, cut / fout, el);
            lowpass(s, len, cut / fout, sl);
            double se = 0.0, ss = 0.0;
            for (size_t k = 0; k < ml; k++) {
                se += el[k] * el[k];
                ss += sl[k] * sl[k];
            }
            double db = 10.0 * log10(se / ss);
            print_message("%s %5.0f -> %5.0f Hz: below %2.0f kHz, %.1f dB from libsamplerate best\n",
                          files[fi] + 17, fin, fout, cut / 1000.0, db);
            assert_true(db < -110.0);
            free(e);
            free(s);
            free(el);
            free(sl);
            free(ref);
            free(y);
            rnnfx_resample_filter_free(f);
        }
        free(x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supported_pairs),
        cmocka_unit_test(test_passband_sines_exact),
        cmocka_unit_test(test_stopband_removes_aliases),
        cmocka_unit_test(test_chunking_reset_and_sharing),
        cmocka_unit_test(test_isas_agree),
        cmocka_unit_test(test_matches_libsamplerate_on_guitar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_align.c — delay and polarity detection (tools/common/align.h) and the
 * audio file layer it is fed by (tools/common/audio_io.h).
 *
 * The real-material cases use a DI excerpt rendered through two guitarix
 * effects (tests/data/align/README.md). Their expected delay and polarity
 * come from each plugin's own impulse response, measured with lv2file, not
 * from this code; one of them (gx_scream) is a pair on which the plain
 * cross-correlation peak gives the wrong lag and the wrong sign, as field
 * notes reported for real material. Each case is also run with an extra
 * injected delay and inversion, which must move the answer by exactly that.
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
#include <dirent.h>

#include <cmocka.h>

#include "align.h"
#include "audio_io.h"

static float *load(const char *path, size_t *n)
{
    RnnfxAudio a;
    RnnfxError err;
    RnnfxStatus st = rnnfx_audio_read(path, &a, &err);
    if (st != RNNFX_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(a.sample_rate, 48000);
    float *m = NULL;
    assert_int_equal(rnnfx_audio_mono(&a, 0, &m, &err), RNNFX_OK);
    *n = a.frames;
    rnnfx_audio_free(&a);
    return m;
}

/* wet shifted later by `shift` samples and optionally inverted */
static float *shifted(const float *y, size_t n, int shift, int invert)
{
    float *o = calloc(n, sizeof *o);
    for (size_t t = 0; t < n; t++) {
        long s = (long)t - shift;
        if (s >= 0 && s < (long)n)
            o[t] = invert ? -y[s] : y[s];
    }
    return o;
}

static void check_pair(const char *wet_path, int lo, int hi, int inverted)
{
    size_t nx, ny;
    float *x = load("tests/data/align/dry.flac", &nx);
    float *y = load(wet_path, &ny);
    size_t n = nx < ny ? nx : ny;
    RnnfxAlignResult r;
    RnnfxError err;
    assert_int_equal(rnnfx_align_detect(x, y, n, NULL, &r, &err), RNNFX_OK);
    print_message("%s: delay %d (peak %d), inverted %d, clarity %.1f, linear ESR %.4f; "
                  "plain xcorr %d%s\n",
                  wet_path, r.delay, r.peak_lag, r.inverted, r.confidence, r.linear_esr,
                  r.xcorr_lag, r.xcorr_inverted ? " inverted" : "");
    assert_true(r.delay >= lo && r.delay <= hi);
    assert_int_equal(r.inverted, inverted);
    assert_true(r.confidence > 8);
    assert_true(r.linear_esr > 0 && r.linear_esr < 0.5);
    rnnfx_align_result_free(&r);

    /* 100 samples more, inverted: the answer moves by exactly that */
    float *y2 = shifted(y, n, 100, 1);
    RnnfxAlignResult r2;
    assert_int_equal(rnnfx_align_detect(x, y2, n, NULL, &r2, &err), RNNFX_OK);
    assert_true(r2.delay >= lo + 100 && r2.delay <= hi + 100);
    assert_int_equal(r2.inverted, !inverted);
    rnnfx_align_result_free(&r2);
    free(y2);

    /* a re-amp loop's latency: 3000 samples (62.5 ms) more */
    y2 = shifted(y, n, 3000, 0);
    assert_int_equal(rnnfx_align_detect(x, y2, n, NULL, &r2, &err), RNNFX_OK);
    assert_true(r2.delay >= lo + 3000 && r2.delay <= hi + 3000);
    assert_int_equal(r2.inverted, inverted);
    rnnfx_align_result_free(&r2);
    free(y2);
    free(x);
    free(y);
}

/* gx_scream: onset 0, inverted (plugin impulse response). The least-squares
 * estimate may place the onset up to 3 samples early (band-limited input
 * smears the response), never late. */
static void test_real_scream(void **state)
{
    (void)state;
    check_pair("tests/data/align/wet_gx_scream.flac", -3, 0, 1);
}

/* gx_muff: onset 31..33, not inverted. */
static void test_real_muff(void **state)
{
    (void)state;
    check_pair("tests/data/align/wet_gx_muff.flac", 28, 33, 0);
}

/* On the scream pair the plain cross-correlation is wrong (documents why
 * the module does not use it; if this ever fails the fixture changed). */
static void test_xcorr_is_fooled(void **state)
{
    (void)state;
    size_t nx, ny;
    float *x = load("tests/data/align/dry.flac", &nx);
    float *y = load("tests/data/align/wet_gx_scream.flac", &ny);
    RnnfxAlignResult r;
    RnnfxError err;
    assert_int_equal(rnnfx_align_detect(x, y, nx < ny ? nx : ny, NULL, &r, &err), RNNFX_OK);
    assert_true(r.xcorr_lag > 3 || r.xcorr_inverted == 0);
    rnnfx_align_result_free(&r);
    free(x);
    free(y);
}

/* Synthetic: a coloured noise through a known FIR (delay 37, inverted,
 * some smear after the main tap) must come out exactly. */
static void test_synthetic_exact(void **state)
{
    (void)state;
    const size_t n = 96000;
    float *x = malloc(n * sizeof *x), *y = calloc(n, sizeof *y);
    uint32_t s = 12345;
    double lp = 0;
    for (size_t t = 0; t < n; t++) {
        s = s * 1664525u + 1013904223u;
        double w = ((double)(s >> 8) / 16777216.0) * 2 - 1;
        lp = 0.7 * lp + 0.3 * w; /* low-passed, like guitar material */
        x[t] = (float)lp;
    }
    static const double h[] = {-0.9, -0.4, -0.2, 0.1};
    for (size_t t = 0; t < n; t++)
        for (int k = 0; k < 4; k++)
            if (t >= 37 + (size_t)k)
                y[t] += (float)(h[k] * x[t - 37 - k]);
    RnnfxAlignResult r;
    RnnfxError err;
    assert_int_equal(rnnfx_align_detect(x, y, n, NULL, &r, &err), RNNFX_OK);
    assert_int_equal(r.delay, 37);
    assert_int_equal(r.peak_lag, 37);
    assert_int_equal(r.inverted, 1);
    assert_true(r.linear_esr < 1e-3);
    assert_true(fabs(r.ir[37 - r.first_lag] + 0.9) < 0.05);
    rnnfx_align_result_free(&r);

    /* the wet signal early (negative delay) */
    float *y3 = calloc(n, sizeof *y3);
    for (size_t t = 0; t + 20 < n; t++)
        y3[t] = 0.5f * x[t + 20];
    assert_int_equal(rnnfx_align_detect(x, y3, n, NULL, &r, &err), RNNFX_OK);
    assert_int_equal(r.delay, -20);
    assert_int_equal(r.inverted, 0);
    rnnfx_align_result_free(&r);
    free(y3);
    free(x);
    free(y);
}

/* A clipping effect on material whose response the fit pins down poorly
 * (4 s of another DI, tests/data/align/README.md): a memoryless tanh
 * clipper 12 samples late. The fit's first and last taps once came out
 * larger than the response itself, so the answer was the edge of the
 * search range, "64 samples early" (it trained the capture on a wrong
 * pair). The estimate may be early on such material (the response is
 * smeared), but it must be inside the response and never late. */
static void test_clipper_not_edge(void **state)
{
    (void)state;
    size_t n;
    float *x = load("tests/data/align/dry_fear.flac", &n);
    float *y = calloc(n, sizeof *y);
    static const double drive[] = {5, 12, 30};
    for (int d = 0; d < 3; d++) {
        for (size_t t = 12; t < n; t++)
            y[t] = (float)(0.3 * (tanh(drive[d] * x[t - 12] + 0.15) - tanh(0.15)));
        RnnfxAlignResult r;
        RnnfxError err;
        assert_int_equal(rnnfx_align_detect(x, y, n, NULL, &r, &err), RNNFX_OK);
        print_message("tanh drive %g: delay %d, peak %d, inverted %d, clarity %.1f\n", drive[d],
                      r.delay, r.peak_lag, r.inverted, r.confidence);
        /* the unwhitened fit said 3-7 here (QA report); the whitened
         * refinement reads the clipper's own tap */
        assert_true(r.delay >= 10 && r.delay <= 12);
        assert_true(r.peak_lag >= 10 && r.peak_lag <= 12);
        assert_int_equal(r.inverted, 0);
        rnnfx_align_result_free(&r);
    }
    free(x);
    free(y);
}

/* The QA case: 4 s of the DI `tomb-guitar` through a hard clipper driven
 * into a near square wave (tests/data/align/README.md). The fit of the pair
 * as recorded is weak here (clarity about 4) and its largest tap was a
 * spurious one 118-129 samples late; at a larger ridge the response is
 * clear. The clipper is memoryless, so the truth is the injected delay. */
static void test_hard_clipper_short_take(void **state)
{
    (void)state;
    size_t n;
    float *x = load("tests/data/align/dry_tomb.flac", &n);
    float *y = calloc(n, sizeof *y);
    static const int delays[] = {0, 40};
    for (int d = 0; d < 2; d++) {
        for (int inv = 0; inv < 2; inv++) {
            int D = delays[d];
            for (size_t t = 0; t < n; t++) {
                double v = t >= (size_t)D ? 2600.0 * x[t - D] : 0.0;
                v = v > 0.3 ? 0.3 : v < -0.3 ? -0.3 : v;
                y[t] = (float)(inv ? -v : v);
            }
            RnnfxAlignResult r;
            RnnfxError err;
            assert_int_equal(rnnfx_align_detect(x, y, n, NULL, &r, &err), RNNFX_OK);
            print_message("hard clip, %d late%s: delay %d, peak %d, inverted %d, clarity %.1f\n", D,
                          inv ? ", inverted" : "", r.delay, r.peak_lag, r.inverted, r.confidence);
            assert_true(r.delay >= D - 2 && r.delay <= D);
            assert_int_equal(r.inverted, inv);
            assert_true(r.confidence > 8);
            rnnfx_align_result_free(&r);
        }
    }
    free(x);
    free(y);
}

static void test_silence_and_short(void **state)
{
    (void)state;
    const size_t n = 48000;
    float *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
    for (size_t t = 0; t < n; t++)
        y[t] = (float)sin(0.01 * (double)t);
    RnnfxAlignResult r;
    RnnfxError err;
    assert_int_equal(rnnfx_align_detect(x, y, n, NULL, &r, &err), RNNFX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "silent"));
    assert_int_equal(rnnfx_align_detect(y, x, n, NULL, &r, &err), RNNFX_ERR_INVALID);
    assert_int_equal(rnnfx_align_detect(y, y, 100, NULL, &r, &err), RNNFX_ERR_INVALID);
    free(x);
    free(y);
}

static void test_overlap(void **state)
{
    (void)state;
    size_t a, b;
    assert_int_equal(rnnfx_align_overlap(1000, 1000, 10, &a, &b), 990);
    assert_int_equal(a, 0);
    assert_int_equal(b, 10);
    assert_int_equal(rnnfx_align_overlap(1000, 900, -5, &a, &b), 900);
    assert_int_equal(a, 5);
    assert_int_equal(b, 0);
    assert_int_equal(rnnfx_align_overlap(10, 10, 20, &a, &b), 0);
    float w[4] = {1, 2, 3, 4};
    float *o = rnnfx_align_apply(w, 1, 3, 1);
    assert_float_equal(o[0], -2, 0);
    assert_float_equal(o[2], -4, 0);
    free(o);
}

/* audio_io: round trip, clear errors, no temporary file left behind */
static void test_audio_io(void **state)
{
    (void)state;
    char dir[] = "/tmp/rnnfx-test-align-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a.wav", dir);
    float st[8] = {0.5f, -0.5f, 0.25f, -0.25f, 1.5f, NAN, -1.0f, 0.0f};
    RnnfxError err;
    assert_int_equal(rnnfx_audio_write(path, st, 4, 2, 44100, 0, &err), RNNFX_OK);
    RnnfxAudio a;
    assert_int_equal(rnnfx_audio_read(path, &a, &err), RNNFX_OK);
    assert_int_equal(a.channels, 2);
    assert_int_equal(a.frames, 4);
    assert_int_equal(a.sample_rate, 44100);
    assert_float_equal(a.data[4], 1.5f, 0); /* float WAV keeps overs */
    assert_float_equal(a.data[5], 0.0f, 0); /* NaN written as 0 */
    float *m;
    assert_int_equal(rnnfx_audio_mono(&a, RNNFX_AUDIO_MIX, &m, &err), RNNFX_OK);
    assert_float_equal(m[0], 0.0f, 1e-7);
    assert_float_equal(m[3], -0.5f, 1e-7);
    free(m);
    assert_int_equal(rnnfx_audio_mono(&a, 2, &m, &err), RNNFX_ERR_ARG);
    rnnfx_audio_free(&a);

    /* a text file is not audio; a missing file says so */
    snprintf(path, sizeof path, "%s/b.wav", dir);
    FILE *f = fopen(path, "w");
    fputs("not audio at all", f);
    fclose(f);
    assert_int_equal(rnnfx_audio_read(path, &a, &err), RNNFX_ERR_FORMAT);
    snprintf(path, sizeof path, "%s/missing.wav", dir);
    assert_int_equal(rnnfx_audio_read(path, &a, &err), RNNFX_ERR_IO);
    assert_non_null(strstr(err.msg, "missing.wav"));
    /* unknown extension: nothing written */
    snprintf(path, sizeof path, "%s/c.xyz", dir);
    assert_int_equal(rnnfx_audio_write(path, st, 4, 1, 48000, 0, &err), RNNFX_ERR_ARG);

    /* clipping = flat tops at full scale; float overs that move are not */
    float c[12] = {0.1f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 0.2f, 1.2f, 1.3f, 1.1f, -0.999f, 0.0f};
    RnnfxAudioStats stt;
    rnnfx_audio_stats(c, 12, &stt);
    assert_int_equal(stt.clipped, 5);
    assert_float_equal(stt.peak, 1.3, 1e-6);
    float sil[4] = {0, 0, 0, 0};
    rnnfx_audio_stats(sil, 4, &stt);
    assert_float_equal(stt.rms, 0.0, 0.0);

    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            files++;
            assert_null(strstr(e->d_name, ".tmp-"));
            char p[600];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    closedir(d);
    assert_int_equal(files, 2); /* a.wav, b.wav */
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_exact), cmocka_unit_test(test_real_scream),
        cmocka_unit_test(test_real_muff),       cmocka_unit_test(test_xcorr_is_fooled),
        cmocka_unit_test(test_silence_and_short), cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_audio_io),        cmocka_unit_test(test_clipper_not_edge),
        cmocka_unit_test(test_hard_clipper_short_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

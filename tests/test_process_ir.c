/*
 * test_process_ir.c — rnnfx-process --ir: a model followed by an impulse
 * response (a cabinet), checked against references built here.
 *
 * The reference for each output channel is computed without the code under
 * test's convolution: the chain driven directly WITHOUT a response gives the
 * model's wet signal (every sample, the resampler's warm-up included), and
 * tests/support/procref.c convolves it with the prepared response
 * (rnnfx_ir_data) by a direct sum in double precision, then applies the
 * dry/wet mix and output gain as chain.h defines them. The tool's output must match to 1e-5 of its
 * peak. Responses are decaying noise bursts written here: 3000 samples at
 * 48 kHz (mono and stereo, left and right different) and at 44.1 kHz (so
 * the response is resampled); files are mono, stereo and 3-channel, at the
 * model's rate and at 44.1 kHz (so the chain resamples and has latency).
 *
 * Also: the tool's output equals a chain built the way the plugin builds
 * its stereo chain (an empty 2-channel chain, a core with the model and the
 * response swapped in), sample for sample; outputs are as long as inputs
 * (no added latency); -j 1 and -j 3 agree; bad response files (text, 6
 * channels, NaN, missing) stop the run before any output with a message
 * naming the file; --ir twice is a usage error; an output that would be the
 * response file is refused.
 *
 * Run with "make-ir PATH RATE CHANNELS FRAMES" it only writes a response
 * (for tests/test_process_ir_live.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "audiotest.h"
#include "chain.h"
#include "enginetest.h"
#include "ir.h"
#include "model.h"
#include "model_file.h"
#include "procref.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static char g_bin[PATH_MAX]; /* rnnfx-process */
static char g_tmp[PATH_MAX];
static char g_model[PATH_MAX]; /* LSTM 8 at 48 kHz */

#define run(...) rnnfx_test_run_quiet(g_bin, rnnfx_test_stderr_path(), __VA_ARGS__)
#define stderr_has(needle) rnnfx_test_file_has(rnnfx_test_stderr_path(), needle)
#define tmp_path rnnfx_test_scratch_path

/* ---- writing test files ----------------------------------------------------- */

/* A decaying noise burst, as a cabinet's response looks to first order
 * (time constant 250 + 150 c samples for channel c). */
static int write_ir(const char *path, int rate, int channels, size_t frames, uint64_t seed)
{
    return rnnfx_test_write_decay(path, rate, channels, frames, seed, 0.7, 250.0, 150.0);
}

/* ---- the independent reference (procref.h) ------------------------------------ */

/* Checks every channel of the tool's output `out_path` (for input in_path)
 * against the reference with the response ir_path made for ir_ch channels
 * (channel c of the file uses response channel c when ir_ch is 2). Returns
 * the largest error relative to the output's peak. */
static double check_file(const char *in_path, const char *out_path, const char *ir_path, int ir_ch,
                         const RnnfxTestSettings *s)
{
    SF_INFO ii, oi;
    float *x = rnnfx_test_read_audio(in_path, &ii);
    float *y = rnnfx_test_read_audio(out_path, &oi);
    assert_non_null(x);
    assert_non_null(y);
    /* no added latency: as long as the input, same layout */
    assert_int_equal(oi.frames, ii.frames);
    assert_int_equal(oi.channels, ii.channels);
    assert_int_equal(oi.samplerate, ii.samplerate);
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load(g_model, NULL, &m, &err), RNNFX_OK);
    RnnfxIr *ir = NULL;
    assert_int_equal(rnnfx_ir_load(ir_path, (double)ii.samplerate, ir_ch, &ir, &err), RNNFX_OK);
    /* the normalisation ir.h promises: unit band power over the louder
     * channel */
    double e_max = 0.0;
    for (int c = 0; c < rnnfx_ir_channels(ir); c++) {
        double e = rnnfx_ir_norm_power(rnnfx_ir_data(ir, c), rnnfx_ir_frames(ir), (double)ii.samplerate);
        e_max = e > e_max ? e : e_max;
    }
    assert_true(fabs(e_max - 1.0) < 1e-4);

    const size_t n = (size_t)ii.frames;
    double *ref = malloc(n * sizeof *ref);
    assert_non_null(ref);
    double worst = 0.0;
    for (int c = 0; c < ii.channels; c++) {
        float *xc = rnnfx_test_channel_of(x, n, ii.channels, c);
        float *yc = rnnfx_test_channel_of(y, n, ii.channels, c);
        assert_non_null(xc);
        assert_non_null(yc);
        const float *h = rnnfx_ir_data(ir, ir_ch == 2 ? c : 0);
        rnnfx_test_convolved(m, xc, n, 0, ii.samplerate, h, rnnfx_ir_frames(ir), s, ref);
        double peak = 0.0, err_max = 0.0;
        for (size_t i = 0; i < n; i++) {
            peak = fabs(ref[i]) > peak ? fabs(ref[i]) : peak;
            double e = fabs(ref[i] - (double)yc[i]);
            err_max = e > err_max ? e : err_max;
        }
        assert_true(peak > 0.01); /* the test means something */
        double rel = err_max / peak;
        fprintf(stderr, "  %s ch %d: %zu samples, response %zu taps, peak %.3f, "
                        "max error %.2e of peak\n",
                out_path + strlen(g_tmp) + 1, c, n, rnnfx_ir_frames(ir), peak, rel);
        worst = rel > worst ? rel : worst;
        free(xc);
        free(yc);
    }
    free(ref);
    rnnfx_ir_free(ir);
    rnnfx_model_free(m);
    free(x);
    free(y);
    return worst;
}

/* The plugin's way (procref.h): the file through the chain built as the
 * plugin builds it, default controls, no tail. */
static float *plugin_style(const char *in_path, const char *ir_path, SF_INFO *info)
{
    const RnnfxTestSettings plain = {0.0, 0.0, 1.0};
    return rnnfx_test_chain_reference(g_model, in_path, ir_path, &plain, 0, info);
}

/* ---- tests ---------------------------------------------------------------------- */

static void write_input(const char *path, int channels, int rate, size_t n, uint64_t seed)
{
    assert_int_equal(rnnfx_test_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, channels, rate,
                                            n, 0.5f, seed),
                     0);
}

/* Mono response on a mono file at the model's rate and on a stereo 44.1 kHz
 * file (chain resampling, latency); the response is made for each rate in
 * the one run. */
static void test_mono_ir(void **state)
{
    (void)state;
    char ir[PATH_MAX], a[PATH_MAX], d[PATH_MAX], o[PATH_MAX], oa[PATH_MAX], od[PATH_MAX];
    tmp_path(ir, "ir48.wav");
    assert_int_equal(write_ir(ir, 48000, 1, 3000, 101), 0);
    mkdir(tmp_path(o, "in1"), 0777);
    write_input(tmp_path(a, "in1/a.wav"), 1, 48000, 12000, 1);
    write_input(tmp_path(d, "in1/d.wav"), 2, 44100, 11025, 2);
    assert_int_equal(run("-m '%s' --ir '%s' -o '%s/out1' '%s' '%s'", g_model, ir, g_tmp, a, d), 0);
    RnnfxTestSettings s = {0.0, 0.0, 1.0};
    assert_true(check_file(a, tmp_path(oa, "out1/a.wav"), ir, 1, &s) < 1e-5);
    assert_true(check_file(d, tmp_path(od, "out1/d.wav"), ir, 1, &s) < 1e-5);
    /* the plugin's stereo chain (mono response on both channels) */
    SF_INFO pi, bi;
    float *p = plugin_style(d, ir, &pi);
    float *b = rnnfx_test_read_audio(od, &bi);
    assert_non_null(b);
    double diff = rnnfx_test_max_abs_diff(p, b, (size_t)pi.frames * 2);
    fprintf(stderr, "  plugin-style stereo chain vs rnnfx-process (44.1 kHz, mono IR): %.3g\n", diff);
    assert_true(diff <= 1e-6);
    free(p);
    free(b);
    /* one thread: a stereo file with no response would run as one paired
     * stereo chain there; with a mono response it keeps a chain per
     * channel (the response is made for mono chains): the same samples */
    char o1[PATH_MAX];
    assert_int_equal(run("-m '%s' --ir '%s' -j 1 -o '%s/out1j' '%s'", g_model, ir, g_tmp, d), 0);
    tmp_path(o1, "out1j/d.wav");
    assert_int_equal(rnnfx_test_frames(o1), rnnfx_test_frames(od));
    assert_true(rnnfx_test_same_start(o1, od, (size_t)rnnfx_test_frames(od)));
}

/* A 44.1 kHz response on a 48 kHz file (the response is resampled), with
 * input gain, output gain and a dry/wet mix: the response sits before the
 * mix, so the dry part is the plain input. */
static void test_resampled_ir_and_mix(void **state)
{
    (void)state;
    char ir[PATH_MAX], b[PATH_MAX], o[PATH_MAX], ob[PATH_MAX];
    tmp_path(ir, "ir44.wav");
    assert_int_equal(write_ir(ir, 44100, 1, 3000, 102), 0);
    mkdir(tmp_path(o, "in2"), 0777);
    write_input(tmp_path(b, "in2/b.wav"), 1, 48000, 10000, 3);
    assert_int_equal(run("-m '%s' --ir='%s' --in-gain 2 --out-gain -3 --mix 0.6 -o '%s/out2' '%s'",
                         g_model, ir, g_tmp, b),
                     0);
    RnnfxTestSettings s = {2.0, -3.0, 0.6};
    assert_true(check_file(b, tmp_path(ob, "out2/b.wav"), ir, 1, &s) < 1e-5);
    /* the response was resampled: 3000 samples at 44.1 kHz are about
     * 3265 at 48 kHz, less the trimmed tail */
    RnnfxIr *r = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_ir_load(ir, 48000.0, 1, &r, &err), RNNFX_OK);
    assert_true(rnnfx_ir_source_rate(r) == 44100.0);
    assert_true(rnnfx_ir_frames(r) > 2500 && rnnfx_ir_frames(r) <= 3300);
    rnnfx_ir_free(r);
}

/* A stereo response: its left side on channel 1 and its right on channel
 * 2 of a stereo file; mixed to mono for a mono file (at 44.1 kHz) and for
 * each channel of a 3-channel file. Same samples with -j 1 and -j 3, and
 * the stereo file equals the plugin's stereo chain. */
static void test_stereo_ir(void **state)
{
    (void)state;
    char ir[PATH_MAX], c2[PATH_MAX], e1[PATH_MAX], f3[PATH_MAX], o[PATH_MAX], p[PATH_MAX];
    tmp_path(ir, "ir48s.wav");
    assert_int_equal(write_ir(ir, 48000, 2, 3000, 103), 0);
    mkdir(tmp_path(o, "in3"), 0777);
    write_input(tmp_path(c2, "in3/c.wav"), 2, 48000, 9000, 4);
    write_input(tmp_path(e1, "in3/e.wav"), 1, 44100, 8000, 5);
    write_input(tmp_path(f3, "in3/f.wav"), 3, 48000, 6000, 6);
    assert_int_equal(run("-m '%s' --ir '%s' -j 1 -o '%s/out3' '%s/in3'", g_model, ir, g_tmp, g_tmp), 0);
    assert_int_equal(run("-m '%s' --ir '%s' -j 3 -o '%s/out3j' '%s/in3'", g_model, ir, g_tmp, g_tmp), 0);
    RnnfxTestSettings s = {0.0, 0.0, 1.0};
    assert_true(check_file(c2, tmp_path(p, "out3/c.wav"), ir, 2, &s) < 1e-5);
    /* and not the response mixed to mono (what a mono chain per channel
     * would have played): the sides really differ */
    assert_true(check_file(c2, tmp_path(p, "out3/c.wav"), ir, 1, &s) > 1e-2);
    assert_true(check_file(e1, tmp_path(p, "out3/e.wav"), ir, 1, &s) < 1e-5);
    assert_true(check_file(f3, tmp_path(p, "out3/f.wav"), ir, 1, &s) < 1e-5);
    const char *names[] = {"c.wav", "e.wav", "f.wav"};
    for (int i = 0; i < 3; i++) {
        SF_INFO a, b;
        float *x = rnnfx_test_read_audio(tmp_path(p, "out3/%s", names[i]), &a);
        float *y = rnnfx_test_read_audio(tmp_path(p, "out3j/%s", names[i]), &b);
        assert_non_null(x);
        assert_non_null(y);
        assert_int_equal(a.frames, b.frames);
        assert_true(rnnfx_test_max_abs_diff(x, y, (size_t)a.frames * (size_t)a.channels) == 0.0);
        free(x);
        free(y);
    }
    SF_INFO pi, bi;
    float *pl = plugin_style(c2, ir, &pi);
    float *b = rnnfx_test_read_audio(tmp_path(p, "out3/c.wav"), &bi);
    assert_non_null(b);
    double diff = rnnfx_test_max_abs_diff(pl, b, (size_t)pi.frames * 2);
    fprintf(stderr, "  plugin-style stereo chain vs rnnfx-process (stereo IR): %.3g\n", diff);
    assert_true(diff <= 1e-6);
    free(pl);
    free(b);
}

/* Runs the tool with response `ir` on a good input; it must exit `status`,
 * write nothing, and name the response file and `why` on stderr. */
static void refused(const char *ir, int status, const char *why)
{
    char in[PATH_MAX], od[PATH_MAX];
    tmp_path(in, "in4/take.wav");
    tmp_path(od, "out4");
    int rc = run("-m '%s' --ir '%s' -o '%s' '%s'", g_model, ir, od, in);
    if (rc != status)
        fprintf(stderr, "exit %d for %s (wanted %d)\n", rc, ir, status);
    assert_int_equal(rc, status);
    assert_false(rnnfx_test_exists(od));
    assert_true(stderr_has(ir));
    assert_true(stderr_has(why));
}

static void test_bad_ir(void **state)
{
    (void)state;
    char p[PATH_MAX], in[PATH_MAX];
    mkdir(tmp_path(p, "in4"), 0777);
    write_input(tmp_path(in, "in4/take.wav"), 1, 48000, 4000, 7);

    /* text under a sound file's name */
    FILE *f = fopen(tmp_path(p, "text.wav"), "w");
    assert_non_null(f);
    fputs("this is not a sound file\n", f);
    fclose(f);
    refused(p, 1, "sound file");

    /* 6 channels: not a cabinet */
    float six[6 * 200];
    for (size_t i = 0; i < 6 * 200; i++)
        six[i] = i < 6 ? 0.5f : 0.01f;
    assert_int_equal(rnnfx_test_write_float_wav(tmp_path(p, "six.wav"), 6, 48000, six, 200), 0);
    refused(p, 1, "channels");

    /* NaN inside */
    float nan_ir[400];
    for (int i = 0; i < 400; i++)
        nan_ir[i] = (float)exp(-i / 50.0);
    nan_ir[37] = NAN;
    assert_int_equal(rnnfx_test_write_float_wav(tmp_path(p, "nan.wav"), 1, 48000, nan_ir, 400), 0);
    refused(p, 1, "NaN");

    /* missing */
    refused(tmp_path(p, "no-such-cab.wav"), 1, "impulse response");

    /* silent */
    float zeros[300] = {0};
    assert_int_equal(rnnfx_test_write_float_wav(tmp_path(p, "silent.wav"), 1, 48000, zeros, 300), 0);
    refused(p, 1, "silent");

    /* given twice, or without a value: usage errors */
    char ir[PATH_MAX];
    tmp_path(ir, "ir-ok.wav");
    assert_int_equal(write_ir(ir, 48000, 1, 1000, 104), 0);
    assert_int_equal(run("-m '%s' --ir '%s' --ir '%s' -o '%s/out4' '%s'", g_model, ir, ir, g_tmp, in), 2);
    assert_true(stderr_has("twice"));
    assert_int_equal(run("-m '%s' -o '%s/out4' '%s' --ir", g_model, g_tmp, in), 2);
    assert_false(rnnfx_test_exists(tmp_path(p, "out4")));

    /* an output that would be the response file itself */
    mkdir(tmp_path(p, "cab"), 0777);
    char cab[PATH_MAX];
    assert_int_equal(write_ir(tmp_path(cab, "cab/take.wav"), 48000, 1, 1000, 105), 0);
    assert_int_equal(run("-m '%s' --ir '%s' --overwrite -o '%s/cab' '%s'", g_model, cab, g_tmp, in), 2);
    assert_true(stderr_has("impulse response"));
    SF_INFO ci;
    float *still = rnnfx_test_read_audio(cab, &ci);
    assert_non_null(still);
    assert_int_equal(ci.frames, 1000);
    free(still);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/rnnfx-test-process-ir-XXXXXX");
    if (!mkdtemp(g_tmp))
        return -1;
    rnnfx_test_scratch_set(g_tmp);
    snprintf(g_model, sizeof g_model, "%s/lstm8.json", g_tmp);
    return rnnfx_test_save_model(g_model, RNNFX_CELL_LSTM, 31, 8, "LSTM 8");
}

static int teardown(void **state)
{
    (void)state;
    return rnnfx_test_remove_tree(g_tmp);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "make-ir")) {
        /* make-ir PATH RATE CHANNELS FRAMES */
        if (argc != 6) {
            fprintf(stderr, "usage: %s make-ir PATH RATE CHANNELS FRAMES\n", argv[0]);
            return 2;
        }
        if (write_ir(argv[2], atoi(argv[3]), atoi(argv[4]), (size_t)atol(argv[5]), 7) != 0) {
            fprintf(stderr, "make-ir: cannot write %s\n", argv[2]);
            return 1;
        }
        return 0;
    }
    rnnfx_test_beside(g_bin, sizeof g_bin, argv[0], "../bin/rnnfx-process");
    if (access(g_bin, X_OK) != 0) {
        fprintf(stderr, "test_process_ir: %s is not built\n", g_bin);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mono_ir),
        cmocka_unit_test(test_resampled_ir_and_mix),
        cmocka_unit_test(test_stereo_ir),
        cmocka_unit_test(test_bad_ir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

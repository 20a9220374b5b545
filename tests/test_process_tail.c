/*
 * test_process_tail.c — rnnfx-process --tail: output after each input's
 * end, checked against references built here.
 *
 * Two references, neither using the batch code (tests/support/procref.c):
 *  - the chain driven directly, the way the plugin builds and runs it (an
 *    empty chain of the file's channels, a core with the model and the
 *    response swapped in, controls set, blocks of 256), over the input
 *    followed by zeros: what a host playing on through silence hears. The
 *    tool's output, tail included, must equal it to the last bit (the tool
 *    runs blocks of 4096 in chunks of 64 Ki frames, so this also shows the
 *    tail's rounds keep the chain's calls block-independent);
 *  - for --tail auto with --ir: the model's wet signal (the chain without
 *    a response, fed the input and zeros) convolved with the prepared
 *    response (rnnfx_ir_data) by a direct sum in double precision over the
 *    full length n + M: the tool must match to 1e-5 of the peak (the
 *    tolerance of test_process_ir), tail included, so nothing was cut.
 *
 * Also: without --tail (and with --tail 0) outputs are as long as inputs;
 * the first n frames with a tail are bit-identical to the run without;
 * tails longer than one 64 Ki chunk, an input of exactly one chunk, mono,
 * stereo (stereo response: one stereo chain) and 3-channel files, a 44.1
 * kHz input with the 48 kHz model (resampled, latency) and a 44.1 kHz
 * response; FLAC, Ogg and 16-bit outputs; clipping counted over the tail;
 * the summary line names the tail; bad values are usage errors (exit 2)
 * that write nothing.
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
#include <sys/wait.h>
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

/* Runs the tool without -q (for the summary line), stderr as run()'s. */
static int run_loud(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run_loud(const char *fmt, ...)
{
    char args[8192], cmd[12288];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s 2>'%s'", g_bin, args, rnnfx_test_stderr_path());
    int st = system(cmd);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* ---- test files ---------------------------------------------------------------- */

/* A small room or plate as a response: decaying noise, channel c with its
 * own noise and time constant (1500 + 700 c samples), so a long tail that
 * differs left and right. */
static int write_reverb(const char *path, int rate, int channels, size_t frames, uint64_t seed)
{
    return rnnfx_test_write_decay(path, rate, channels, frames, seed, 0.6, 1500.0, 700.0);
}

/* A take that is playing up to its last frame (rnnfx_test_signal ends its
 * 2048-sample cycles in silence, where a model has settled and a tail
 * shows little): a sine per channel plus noise, amp its peak. */
static void write_input(const char *path, int format, int channels, int rate, size_t n,
                        float amp, uint64_t seed)
{
    float *x = malloc(n * (size_t)channels * sizeof *x);
    assert_non_null(x);
    RnnfxTestRng rng;
    rnnfx_test_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < channels; c++) {
            double f = 110.0 * (1.0 + 0.5 * c), t = (double)i / rate;
            double noise = 2.0 * rnnfx_test_rng_uniform(&rng) - 1.0;
            x[i * (size_t)channels + (size_t)c] =
                (float)(amp * (0.7 * sin(2.0 * M_PI * f * t) + 0.3 * noise));
        }
    assert_int_equal(rnnfx_test_write_frames(path, format, channels, rate, x, n), 0);
    free(x);
}

/* ---- the references (procref.h) ---------------------------------------------------- */

static float *chain_reference(const char *in_path, const char *ir_path,
                              const RnnfxTestSettings *s, size_t tail, SF_INFO *info)
{
    return rnnfx_test_chain_reference(g_model, in_path, ir_path, s, tail, info);
}

/* Checks `out_path` (from in_path with --ir ir_path --tail auto): the
 * appended length is the response's length at the file's rate, as made for
 * ir_ch channels, and every channel matches the convolution reference over
 * the whole output. Returns the largest error relative to the peak. */
static double check_auto(const char *in_path, const char *out_path, const char *ir_path, int ir_ch,
                         const RnnfxTestSettings *s)
{
    SF_INFO ii, oi;
    float *x = rnnfx_test_read_audio(in_path, &ii);
    float *y = rnnfx_test_read_audio(out_path, &oi);
    assert_non_null(x);
    assert_non_null(y);
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load(g_model, NULL, &m, &err), RNNFX_OK);
    RnnfxIr *ir = NULL;
    assert_int_equal(rnnfx_ir_load(ir_path, (double)ii.samplerate, ir_ch, &ir, &err), RNNFX_OK);
    const size_t n = (size_t)ii.frames, taps = rnnfx_ir_frames(ir);
    fprintf(stderr, "  %s: %zu frames at %d Hz, response %zu taps, output %lld frames\n",
            out_path + strlen(g_tmp) + 1, n, ii.samplerate, taps, (long long)oi.frames);
    assert_int_equal(oi.frames, (sf_count_t)(n + taps));
    assert_int_equal(oi.channels, ii.channels);
    assert_int_equal(oi.samplerate, ii.samplerate);
    const size_t len = n + taps;
    double *ref = malloc(len * sizeof *ref);
    assert_non_null(ref);
    double worst = 0.0;
    for (int c = 0; c < ii.channels; c++) {
        float *xc = rnnfx_test_channel_of(x, n, ii.channels, c);
        float *yc = rnnfx_test_channel_of(y, len, ii.channels, c);
        assert_non_null(xc);
        assert_non_null(yc);
        const float *h = rnnfx_ir_data(ir, ir_ch == 2 ? c : 0);
        rnnfx_test_convolved(m, xc, n, taps, ii.samplerate, h, taps, s, ref);
        double peak = 0.0, err_max = 0.0, tail_peak = 0.0;
        for (size_t i = 0; i < len; i++) {
            peak = fabs(ref[i]) > peak ? fabs(ref[i]) : peak;
            if (i >= n)
                tail_peak = fabs(ref[i]) > tail_peak ? fabs(ref[i]) : tail_peak;
            double e = fabs(ref[i] - (double)yc[i]);
            err_max = e > err_max ? e : err_max;
        }
        /* the test means something: a real signal with a real tail */
        assert_true(peak > 0.01);
        assert_true(tail_peak > 0.01 * peak);
        double rel = err_max / peak;
        fprintf(stderr, "    ch %d: peak %.3f, tail peak %.3f, max error %.2e of peak\n", c, peak,
                tail_peak, rel);
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

/* ---- comparisons ----------------------------------------------------------------------- */

/* The tool's output `out_path` for in_path: n + tail frames, its first n
 * frames bit-identical to `plain_path` (the same settings without a
 * tail) when given, and all of it equal to the chain reference. */
static void check_chain(const char *in_path, const char *out_path, const char *plain_path,
                        const char *ir_path, const RnnfxTestSettings *s, size_t tail)
{
    SF_INFO ri, oi;
    float *ref = chain_reference(in_path, ir_path, s, tail, &ri);
    float *y = rnnfx_test_read_audio(out_path, &oi);
    assert_non_null(y);
    const size_t n = (size_t)ri.frames, ch = (size_t)ri.channels;
    assert_int_equal(oi.frames, (sf_count_t)(n + tail));
    assert_int_equal(oi.channels, ri.channels);
    assert_int_equal(oi.samplerate, ri.samplerate);
    if (plain_path) {
        SF_INFO pi;
        float *p = rnnfx_test_read_audio(plain_path, &pi);
        assert_non_null(p);
        assert_int_equal(pi.frames, ri.frames); /* without --tail: as long as the input */
        assert_int_equal(memcmp(p, y, n * ch * sizeof(float)), 0);
        free(p);
    }
    double diff = rnnfx_test_max_abs_diff(ref, y, (n + tail) * ch);
    /* How far the tail moves from where it ends up: the chain's answer to
     * the input stopping (a model at rest may sit at a constant offset). */
    double tail_swing = 0.0;
    for (size_t i = n * ch; i < (n + tail) * ch; i++) {
        double d = fabs((double)ref[i] - ref[(n + tail - 1) * ch + i % ch]);
        tail_swing = d > tail_swing ? d : tail_swing;
    }
    fprintf(stderr, "  %s: %zu + %zu frames, %zu ch at %d Hz; tail swing %.3g; vs the chain over "
                    "input + zeros: max diff %.3g\n",
            out_path + strlen(g_tmp) + 1, n, tail, ch, ri.samplerate, tail_swing, diff);
    /* the tail is the chain's answer, not a constant: a small random LSTM
     * forgets within a few milliseconds, so its own decay moves by about
     * 1e-3 (a resampler's or a response's tail, far more) */
    assert_true(tail_swing > 2e-4);
    assert_true(diff == 0.0);
    free(ref);
    free(y);
}

/* ---- tests ------------------------------------------------------------------------------ */

#define WAV_FLOAT (SF_FORMAT_WAV | SF_FORMAT_FLOAT)
#define WAV_24 (SF_FORMAT_WAV | SF_FORMAT_PCM_24)

/* No --tail, --tail 0: outputs exactly as long as inputs, the same
 * samples; --tail 0.5 on a mono 48 kHz file with gains and a mix: 24000
 * frames more, the first part bit-identical, all of it the chain's answer
 * to input + zeros; the summary line names the tail. */
static void test_seconds_mono(void **state)
{
    (void)state;
    char a[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
    mkdir(tmp_path(p, "in1"), 0777);
    write_input(tmp_path(a, "in1/a.wav"), WAV_FLOAT, 1, 48000, 12345, 0.5f, 1);
    const char *set = "--in-gain 3 --out-gain -2 --mix 0.7";
    assert_int_equal(run("-m '%s' %s -o '%s/plain1' '%s'", g_model, set, g_tmp, a), 0);
    assert_int_equal(run("-m '%s' %s --tail 0 -o '%s/zero1' '%s'", g_model, set, g_tmp, a), 0);
    assert_int_equal(rnnfx_test_frames(tmp_path(p, "plain1/a.wav")), 12345);
    assert_int_equal(rnnfx_test_frames(tmp_path(q, "zero1/a.wav")), 12345);
    assert_true(rnnfx_test_same_start(p, q, 12345));

    assert_int_equal(run_loud("-m '%s' %s --tail 0.5 -o '%s/tail1' '%s'", g_model, set, g_tmp, a),
                     0);
    assert_true(stderr_has("0.500 s after each output"));
    RnnfxTestSettings s = {3.0, -2.0, 0.7};
    check_chain(a, tmp_path(q, "tail1/a.wav"), tmp_path(p, "plain1/a.wav"), NULL, &s, 24000);
}

/* Tails longer than one 64 Ki-frame round of the runner, on an input of
 * exactly one round (its end is found by a read that gets nothing) and on
 * a 44.1 kHz stereo file with the 48 kHz model (resampled: latency zeros
 * after the tail), with FLAC, Ogg and 16-bit outputs too. */
static void test_long_tails_resampled(void **state)
{
    (void)state;
    char b[PATH_MAX], d[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
    mkdir(tmp_path(p, "in2"), 0777);
    write_input(tmp_path(b, "in2/b.wav"), WAV_FLOAT, 1, 48000, 65536, 0.5f, 2);
    write_input(tmp_path(d, "in2/d.wav"), WAV_24, 2, 44100, 30001, 0.5f, 3);
    RnnfxTestSettings s = {0.0, 0.0, 1.0};
    assert_int_equal(run("-m '%s' -o '%s/plain2' '%s/in2'", g_model, g_tmp, g_tmp), 0);
    assert_int_equal(run("-m '%s' --tail=1.5 --float -o '%s/tail2' '%s/in2'", g_model, g_tmp, g_tmp),
                     0);
    check_chain(b, tmp_path(q, "tail2/b.wav"), tmp_path(p, "plain2/b.wav"), NULL, &s, 72000);
    /* d.wav (24-bit) came out as float with --float: no plain comparison
     * of bits, the chain reference covers it all (66150 frames of tail) */
    check_chain(d, tmp_path(q, "tail2/d.wav"), NULL, NULL, &s, 66150);

    /* other containers and encodings: lengths, and the 16-bit file within
     * its quantisation of the reference */
    assert_int_equal(run("-m '%s' --tail 0.25 --format flac -o '%s/flac2' '%s'", g_model, g_tmp, d), 0);
    assert_int_equal(run("-m '%s' --tail 0.25 --format ogg -o '%s/ogg2' '%s'", g_model, g_tmp, d), 0);
    assert_int_equal(run("-m '%s' --tail 0.25 --encoding pcm16 -o '%s/pcm2' '%s'", g_model, g_tmp, d),
                     0);
    SF_INFO fi, oi, ci, ri;
    float *f = rnnfx_test_read_audio(tmp_path(p, "flac2/d.flac"), &fi);
    float *o = rnnfx_test_read_audio(tmp_path(p, "ogg2/d.ogg"), &oi);
    float *c = rnnfx_test_read_audio(tmp_path(p, "pcm2/d.wav"), &ci);
    assert_non_null(f);
    assert_non_null(o);
    assert_non_null(c);
    assert_int_equal(fi.frames, 30001 + 11025);
    assert_int_equal(oi.frames, 30001 + 11025);
    assert_int_equal(ci.frames, 30001 + 11025);
    assert_int_equal(ci.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_16);
    float *ref = chain_reference(d, NULL, &s, 11025, &ri);
    for (size_t i = 0; i < (30001 + 11025) * 2; i++) /* integer files clip */
        ref[i] = ref[i] > 1.0f ? 1.0f : ref[i] < -1.0f ? -1.0f : ref[i];
    double dc = rnnfx_test_max_abs_diff(ref, c, (30001 + 11025) * 2);
    double df = rnnfx_test_max_abs_diff(ref, f, (30001 + 11025) * 2);
    fprintf(stderr, "  16-bit WAV vs the chain: %.3g; 24-bit FLAC: %.3g\n", dc, df);
    assert_true(dc <= 1.5 / 32768.0);
    assert_true(df <= 1.5 / 8388608.0);
    free(ref);
    free(f);
    free(o);
    free(c);
}

/* --ir with --tail auto: mono response recorded at 44.1 kHz on a mono
 * 48 kHz file and on a 44.1 kHz file with the 48 kHz model; the appended
 * length is the response's at each rate, the output the full convolution. */
static void test_auto_mono_ir(void **state)
{
    (void)state;
    char ir[PATH_MAX], e[PATH_MAX], f[PATH_MAX], p[PATH_MAX];
    tmp_path(ir, "plate44.wav");
    assert_int_equal(write_reverb(ir, 44100, 1, 9000, 11), 0);
    mkdir(tmp_path(p, "in3"), 0777);
    write_input(tmp_path(e, "in3/e.wav"), WAV_FLOAT, 1, 48000, 7000, 0.5f, 4);
    write_input(tmp_path(f, "in3/f.wav"), WAV_FLOAT, 1, 44100, 6000, 0.5f, 5);
    assert_int_equal(run("-m '%s' --ir '%s' --tail auto --mix 0.8 --out-gain -1 -o '%s/out3' "
                         "'%s/in3'",
                         g_model, ir, g_tmp, g_tmp),
                     0);
    RnnfxTestSettings s = {0.0, -1.0, 0.8};
    assert_true(check_auto(e, tmp_path(p, "out3/e.wav"), ir, 1, &s) < 1e-5);
    assert_true(check_auto(f, tmp_path(p, "out3/f.wav"), ir, 1, &s) < 1e-5);
    /* and the run without a tail cuts it: as long as the input, the same
     * first frames (to the bit) */
    assert_int_equal(run("-m '%s' --ir '%s' --mix 0.8 --out-gain -1 -o '%s/cut3' '%s/in3'", g_model,
                         ir, g_tmp, g_tmp),
                     0);
    char c[PATH_MAX], o[PATH_MAX];
    assert_int_equal(rnnfx_test_frames(tmp_path(c, "cut3/f.wav")), 6000);
    assert_true(rnnfx_test_same_start(c, tmp_path(o, "out3/f.wav"), 6000));
}

/* A stereo response: a stereo file runs as one stereo chain (left side to
 * channel 1, right to 2), so its tail is the stereo convolution; a
 * 3-channel file gets it mixed to mono. Also seconds with a stereo
 * response: the plugin-style stereo chain over input + zeros, to the bit,
 * and -j 1 = -j 3. */
static void test_stereo_ir(void **state)
{
    (void)state;
    char ir[PATH_MAX], g[PATH_MAX], h[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
    tmp_path(ir, "plate48s.wav");
    assert_int_equal(write_reverb(ir, 48000, 2, 8000, 12), 0);
    mkdir(tmp_path(p, "in4"), 0777);
    write_input(tmp_path(g, "in4/g.wav"), WAV_FLOAT, 2, 48000, 6000, 0.5f, 6);
    write_input(tmp_path(h, "in4/h.wav"), WAV_FLOAT, 3, 44100, 4000, 0.5f, 7);
    assert_int_equal(run("-m '%s' --ir '%s' --tail auto -o '%s/out4' '%s/in4'", g_model, ir, g_tmp,
                         g_tmp),
                     0);
    RnnfxTestSettings s = {0.0, 0.0, 1.0};
    assert_true(check_auto(g, tmp_path(p, "out4/g.wav"), ir, 2, &s) < 1e-5);
    assert_true(check_auto(h, tmp_path(p, "out4/h.wav"), ir, 1, &s) < 1e-5);

    assert_int_equal(run("-m '%s' --ir '%s' --in-gain 4 -o '%s/plain4' '%s'", g_model, ir, g_tmp, g),
                     0);
    assert_int_equal(run("-m '%s' --ir '%s' --in-gain 4 --tail 0.3 -j 1 -o '%s/sec4' '%s'", g_model,
                         ir, g_tmp, g),
                     0);
    assert_int_equal(run("-m '%s' --ir '%s' --in-gain 4 --tail 0.3 -j 3 -o '%s/sec4j' '%s'", g_model,
                         ir, g_tmp, g),
                     0);
    RnnfxTestSettings s4 = {4.0, 0.0, 1.0};
    check_chain(g, tmp_path(q, "sec4/g.wav"), tmp_path(p, "plain4/g.wav"), ir, &s4, 14400);
    const long long frames = rnnfx_test_frames(tmp_path(p, "sec4/g.wav"));
    assert_true(frames > 0);
    assert_int_equal(rnnfx_test_frames(tmp_path(q, "sec4j/g.wav")), frames);
    assert_true(rnnfx_test_same_start(p, q, (size_t)frames));
}

/* Clipping over the tail: a loud 16-bit render with a long response; the
 * count the tool reports is the reference's count of samples beyond full
 * scale over the whole output, tail included, and more than the count
 * without a tail. */
static void test_clipping(void **state)
{
    (void)state;
    char ir[PATH_MAX], k[PATH_MAX], p[PATH_MAX], want[64];
    tmp_path(ir, "plate48m.wav");
    assert_int_equal(write_reverb(ir, 48000, 1, 12000, 13), 0);
    mkdir(tmp_path(p, "in5"), 0777);
    write_input(tmp_path(k, "in5/k.wav"), WAV_FLOAT, 1, 48000, 5000, 0.9f, 8);
    assert_int_equal(run("-m '%s' --ir '%s' --out-gain 20 --tail auto --encoding pcm16 -o "
                         "'%s/out5' '%s'",
                         g_model, ir, g_tmp, k),
                     0);
    RnnfxIr *r = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_ir_load(ir, 48000.0, 1, &r, &err), RNNFX_OK);
    const size_t tail = rnnfx_ir_frames(r);
    rnnfx_ir_free(r);
    RnnfxTestSettings s = {0.0, 20.0, 1.0};
    SF_INFO ri, oi;
    float *ref = chain_reference(k, ir, &s, tail, &ri);
    size_t over = 0, over_in = 0;
    for (size_t i = 0; i < 5000 + tail; i++) {
        over += fabsf(ref[i]) > 1.0f;
        over_in += i < 5000 && fabsf(ref[i]) > 1.0f;
    }
    fprintf(stderr, "  clipped: %zu samples over the whole output, %zu within the input's length\n",
            over, over_in);
    assert_true(over > over_in && over_in > 0);
    snprintf(want, sizeof want, ": %zu samples above 0 dBFS", over);
    assert_true(stderr_has(want));
    float *y = rnnfx_test_read_audio(tmp_path(p, "out5/k.wav"), &oi);
    assert_non_null(y);
    assert_int_equal(oi.frames, (sf_count_t)(5000 + tail));
    for (size_t i = 0; i < 5000 + tail; i++) {
        float v = ref[i] > 1.0f ? 1.0f : ref[i] < -1.0f ? -1.0f : ref[i];
        assert_true(fabsf(v - y[i]) <= 1.5f / 32768.0f);
    }
    free(y);
    free(ref);
}

/* Bad values: usage errors (exit 2) with a message naming --tail, before
 * any output exists. */
static void test_bad_values(void **state)
{
    (void)state;
    char in[PATH_MAX], od[PATH_MAX], p[PATH_MAX];
    mkdir(tmp_path(p, "in6"), 0777);
    write_input(tmp_path(in, "in6/take.wav"), WAV_FLOAT, 1, 48000, 3000, 0.5f, 9);
    tmp_path(od, "out6");
    static const char *const bad[] = {"-1",   "-0.001", "60.001", "61", "1e9",  "nan", "NaN",
                                      "inf",  "-inf",   "abc",    "2s", "1,5",  "",    "autox",
                                      "AUTO", "0x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = run("-m '%s' --tail '%s' -o '%s' '%s'", g_model, bad[i], od, in);
        if (rc != 2)
            fprintf(stderr, "--tail '%s': exit %d\n", bad[i], rc);
        assert_int_equal(rc, 2);
        assert_true(stderr_has("--tail"));
        assert_false(rnnfx_test_exists(od));
    }
    /* twice (also once as --tail=...), or without a value */
    assert_int_equal(run("-m '%s' --tail 1 --tail=2 -o '%s' '%s'", g_model, od, in), 2);
    assert_true(stderr_has("--tail is given twice"));
    assert_int_equal(run("-m '%s' --tail auto --tail auto -o '%s' '%s'", g_model, od, in), 2);
    assert_true(stderr_has("twice"));
    assert_int_equal(run("-m '%s' -o '%s' '%s' --tail", g_model, od, in), 2);
    assert_true(stderr_has("--tail needs a value"));
    assert_false(rnnfx_test_exists(od));
    /* the ends of the range are fine; auto without --ir adds nothing */
    assert_int_equal(run("-m '%s' --tail 60 -o '%s/ok60' '%s'", g_model, g_tmp, in), 0);
    assert_int_equal(run("-m '%s' --tail auto -o '%s/okauto' '%s'", g_model, g_tmp, in), 0);
    SF_INFO a, b;
    float *x = rnnfx_test_read_audio(tmp_path(p, "ok60/take.wav"), &a);
    float *y = rnnfx_test_read_audio(tmp_path(p, "okauto/take.wav"), &b);
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(a.frames, 3000 + 60 * 48000);
    assert_int_equal(b.frames, 3000);
    free(x);
    free(y);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/rnnfx-test-process-tail-XXXXXX");
    if (!mkdtemp(g_tmp))
        return -1;
    rnnfx_test_scratch_set(g_tmp);
    snprintf(g_model, sizeof g_model, "%s/lstm8.json", g_tmp);
    return rnnfx_test_save_model(g_model, RNNFX_CELL_LSTM, 41, 8, "LSTM 8");
}

static int teardown(void **state)
{
    (void)state;
    return rnnfx_test_remove_tree(g_tmp);
}

int main(int argc, char **argv)
{
    (void)argc;
    rnnfx_test_beside(g_bin, sizeof g_bin, argv[0], "../bin/rnnfx-process");
    if (access(g_bin, X_OK) != 0) {
        fprintf(stderr, "test_process_tail: %s is not built\n", g_bin);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seconds_mono),
        cmocka_unit_test(test_long_tails_resampled),
        cmocka_unit_test(test_auto_mono_ir),
        cmocka_unit_test(test_stereo_ir),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_bad_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_process.c — rnnfx-process end to end: the built program is run on
 * files this test writes with libsndfile, and its outputs are read back and
 * compared with the chain (engine/chain.h) driven directly, block by block,
 * with a different block size than the tool uses.
 *
 * Covers: equality with the chain (float, resampled 44.1 kHz -> 48 kHz
 * model, knobs, gains, mix), formats and bit depths kept or converted,
 * folder/list/argument inputs, per-file failures (missing, garbage,
 * truncated, unwritable output) with no partial files, never overwriting
 * inputs, skip/overwrite of existing outputs, clipping (counted and
 * saturated, never wrapped; kept in float files), NaN inputs, and
 * independence from the number of threads.
 *
 * Also a helper for the shell tests: `test_process make-model PATH CELL
 * HIDDEN [RATE] [KNOB]` writes a random model (engine API + model_save).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sndfile.h>

#include "chain.h"
#include "audiotest.h"
#include "enginetest.h"

/* Every path here is a short name under /tmp; GCC's worst-case length
 * analysis of PATH_MAX buffers only adds noise. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "model.h"
#include "model_file.h"

static char g_bin[PATH_MAX];  /* rnnfx-process */
static char g_tmp[PATH_MAX];  /* scratch folder of this run */
static char g_model[PATH_MAX];      /* LSTM 8, 48 kHz */
static char g_knob_model[PATH_MAX]; /* LSTM 8 + knob "drive" 0..10 */

/* The shared writer, asserting it worked. */
#define write_audio(...) assert_int_equal(rnnfx_test_write_audio(__VA_ARGS__), 0)
/* The tool with -q, stderr kept in g_tmp/stderr.txt for message checks. */
#define run(...) rnnfx_test_run_quiet(g_bin, rnnfx_test_stderr_path(), __VA_ARGS__)
#define stderr_has(needle) rnnfx_test_file_has(rnnfx_test_stderr_path(), needle)
/* A path below g_tmp. */
#define tmp_path rnnfx_test_scratch_path

/* ---- helpers ------------------------------------------------------------- */

static int make_model(const char *path, RnnfxCell cell, int hidden, double rate, const char *knob,
                      uint64_t seed)
{
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, cell, hidden, 1);
    if (knob) {
        arch.n_params = 1;
        arch.input_size = 2;
        snprintf(arch.params[0].name, sizeof arch.params[0].name, "%s", knob);
        arch.params[0].min = 0.0f;
        arch.params[0].max = 10.0f;
        arch.params[0].def = 5.0f;
    }
    RnnfxModel *m = rnnfx_test_random_model(&arch, seed, 1.0f, 0);
    if (!m)
        return -1;
    rnnfx_model_meta(m)->sample_rate = rate;
    RnnfxError err;
    RnnfxStatus st = rnnfx_model_finalize(m, &err);
    if (st == RNNFX_OK)
        st = rnnfx_model_save(m, path, &err);
    rnnfx_model_free(m);
    return st == RNNFX_OK ? 0 : -1;
}

/* The chain driven directly: one channel, controls snapped at the start,
 * blocks of 333 samples, L zeros appended and the first L outputs dropped
 * (L = the chain's latency), so out[i] lines up with in[i]. */
static float *chain_reference(const char *model_path, const RnnfxChainControls *ctl, double rate,
                              const float *in, size_t n)
{
    RnnfxModel *m = NULL;
    RnnfxError err;
    if (rnnfx_model_load(model_path, NULL, &m, &err) != RNNFX_OK)
        return NULL;
    RnnfxChain *chain = NULL;
    if (rnnfx_chain_new(m, rate, 333, &chain, &err) != RNNFX_OK) {
        rnnfx_model_free(m);
        return NULL;
    }
    rnnfx_chain_set_controls(chain, ctl);
    size_t lat = (size_t)rnnfx_chain_latency(chain);
    size_t total = n + lat;
    float *xin = calloc(total, sizeof *xin);
    float *xout = calloc(total, sizeof *xout);
    memcpy(xin, in, n * sizeof *in);
    for (size_t pos = 0; pos < total; pos += 333) {
        size_t b = total - pos < 333 ? total - pos : 333;
        rnnfx_chain_process(chain, xin + pos, xout + pos, b);
    }
    float *out = malloc(n * sizeof *out);
    memcpy(out, xout + lat, n * sizeof *out);
    free(xin);
    free(xout);
    rnnfx_chain_free(chain);
    rnnfx_model_free(m);
    return out;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    return rnnfx_test_max_abs_diff(a, b, n);
}

/* ---- tests ---------------------------------------------------------------- */

/* Float stereo at the model's rate, gains and mix: bit-exact (up to float
 * rounding) with the chain, and each channel has its own state. */
static void test_matches_chain_float(void **state)
{
    (void)state;
    char in[PATH_MAX], out[PATH_MAX], od[PATH_MAX];
    tmp_path(in, "m1/in.wav");
    mkdir(tmp_path(od, "m1"), 0777);
    write_audio(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 48000, 24000, 0.8f, 11);
    assert_int_equal(run("-m '%s' -o '%s/o' --in-gain 3 --out-gain -2 --mix 0.7 -j 2 '%s'",
                         g_model, od, in), 0);
    SF_INFO ii, oi;
    float *x = rnnfx_test_read_audio(in, &ii);
    float *y = rnnfx_test_read_audio(tmp_path(out, "m1/o/in.wav"), &oi);
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(oi.frames, ii.frames);
    assert_int_equal(oi.channels, 2);
    assert_int_equal(oi.samplerate, 48000);
    assert_int_equal(oi.format, ii.format);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.input_db = 3;
    ctl.output_db = -2;
    ctl.mix = 0.7f;
    for (int c = 0; c < 2; c++) {
        float *xc = rnnfx_test_channel_of(x, (size_t)ii.frames, 2, c);
        float *yc = rnnfx_test_channel_of(y, (size_t)ii.frames, 2, c);
        float *ref = chain_reference(g_model, &ctl, 48000, xc, (size_t)ii.frames);
        assert_non_null(ref);
        double d = max_diff(yc, ref, (size_t)ii.frames);
        printf("  float stereo ch%d: max |batch - chain| = %.3g\n", c, d);
        assert_true(d <= 1e-6);
        /* The model really changed the signal. */
        assert_true(max_diff(yc, xc, (size_t)ii.frames) > 1e-2);
        free(xc);
        free(yc);
        free(ref);
    }
    free(x);
    free(y);
}

/* 44.1 kHz 24-bit file, 48 kHz model: resampled around the model exactly as
 * the chain does; output keeps 44.1 kHz, 24 bits and the length. */
static void test_matches_chain_resampled(void **state)
{
    (void)state;
    char in[PATH_MAX], out[PATH_MAX], od[PATH_MAX];
    mkdir(tmp_path(od, "m2"), 0777);
    tmp_path(in, "m2/take.wav");
    write_audio(in, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1, 44100, 22050, 0.5f, 21);
    assert_int_equal(run("-m '%s' -o '%s/o' '%s'", g_model, od, in), 0);
    SF_INFO ii, oi;
    float *x = rnnfx_test_read_audio(in, &ii);
    float *y = rnnfx_test_read_audio(tmp_path(out, "m2/o/take.wav"), &oi);
    assert_non_null(y);
    assert_int_equal(oi.samplerate, 44100);
    assert_int_equal(oi.frames, ii.frames);
    assert_int_equal(oi.format, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    float *ref = chain_reference(g_model, &ctl, 44100, x, (size_t)ii.frames);
    double d = max_diff(y, ref, (size_t)ii.frames);
    printf("  44.1 kHz file, 48 kHz model, 24-bit: max |batch - chain| = %.3g (1 LSB = %.3g)\n", d,
           1.0 / 8388608.0);
    assert_true(d <= 2.0 / 8388608.0);
    free(x);
    free(y);
    free(ref);
}

static void test_knobs(void **state)
{
    (void)state;
    char in[PATH_MAX], od[PATH_MAX], p[PATH_MAX];
    mkdir(tmp_path(od, "k"), 0777);
    tmp_path(in, "k/k.wav");
    write_audio(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 48000, 12000, 0.7f, 31);
    assert_int_equal(run("-m '%s' -o '%s/a' --set drive=2.5 '%s'", g_knob_model, od, in), 0);
    assert_int_equal(run("-m '%s' -o '%s/b' '%s'", g_knob_model, od, in), 0);
    SF_INFO ii, ai, bi;
    float *x = rnnfx_test_read_audio(in, &ii);
    float *a = rnnfx_test_read_audio(tmp_path(p, "k/a/k.wav"), &ai);
    float *b = rnnfx_test_read_audio(tmp_path(p, "k/b/k.wav"), &bi);
    assert_non_null(a);
    assert_non_null(b);
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load(g_knob_model, NULL, &m, &err), RNNFX_OK);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.n_knobs = 1;
    ctl.knobs[0] = rnnfx_chain_knob_normalize(m, 0, 2.5f);
    float *ra = chain_reference(g_knob_model, &ctl, 48000, x, (size_t)ii.frames);
    ctl.knobs[0] = rnnfx_chain_knob_normalize(m, 0, 5.0f); /* the default */
    float *rb = chain_reference(g_knob_model, &ctl, 48000, x, (size_t)ii.frames);
    rnnfx_model_free(m);
    printf("  knob drive=2.5: max diff %.3g; default: %.3g; between them %.3g\n",
           max_diff(a, ra, (size_t)ii.frames), max_diff(b, rb, (size_t)ii.frames),
           max_diff(a, b, (size_t)ii.frames));
    assert_true(max_diff(a, ra, (size_t)ii.frames) <= 1e-6);
    assert_true(max_diff(b, rb, (size_t)ii.frames) <= 1e-6);
    assert_true(max_diff(a, b, (size_t)ii.frames) > 1e-3);
    /* --knob 1=0.25 is the plugin's knob1 at 0.25: drive 2.5 on 0..10. */
    assert_int_equal(run("-m '%s' -o '%s/d' --knob 1=0.25 '%s'", g_knob_model, od, in), 0);
    SF_INFO di;
    float *dk = rnnfx_test_read_audio(tmp_path(p, "k/d/k.wav"), &di);
    assert_non_null(dk);
    assert_true(max_diff(dk, a, (size_t)ii.frames) == 0.0);
    free(dk);
    assert_int_equal(run("-m '%s' -o '%s/e' --knob 2=0.5 '%s'", g_knob_model, od, in), 2);
    assert_true(stderr_has("has 1 knob"));
    /* An unknown knob is a usage error naming the model's knobs. */
    assert_int_equal(run("-m '%s' -o '%s/c' --set tone=1 '%s'", g_knob_model, od, in), 2);
    assert_true(stderr_has("no knob named 'tone'"));
    assert_true(stderr_has("drive"));
    assert_false(rnnfx_test_exists(tmp_path(p, "k/c")));
    free(x);
    free(a);
    free(b);
    free(ra);
    free(rb);
}

static void test_formats(void **state)
{
    (void)state;
    char d[PATH_MAX], p[PATH_MAX];
    mkdir(tmp_path(d, "f"), 0777);
    struct {
        const char *name;
        int format, channels, rate;
    } cases[] = {
        {"w16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 44100},
        {"w24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1, 48000},
        {"wf.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 96000},
        {"fl.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 2, 44100},
        {"ai.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 1, 48000},
        {"quad.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 4, 48000},
        {"ogg.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 2, 48000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        write_audio(tmp_path(p, "f/%s", cases[i].name), cases[i].format, cases[i].channels,
                    cases[i].rate, 6000, 0.5f, 40 + i);
    assert_int_equal(run("-m '%s' -o '%s/same' '%s/f'", g_model, g_tmp, g_tmp), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        SF_INFO oi;
        float *y = rnnfx_test_read_audio(tmp_path(p, "same/%s", cases[i].name), &oi);
        assert_non_null(y);
        assert_int_equal(oi.format, cases[i].format);
        assert_int_equal(oi.channels, cases[i].channels);
        assert_int_equal(oi.samplerate, cases[i].rate);
        assert_int_equal(oi.frames, 6000);
        assert_true(rnnfx_test_all_finite(y, 6000u * (size_t)oi.channels));
        free(y);
    }
    /* --float: 32-bit float in the same container. */
    assert_int_equal(run("-m '%s' -o '%s/flt' --float '%s/f/w16.wav'", g_model, g_tmp, g_tmp), 0);
    SF_INFO oi;
    float *y = rnnfx_test_read_audio(tmp_path(p, "flt/w16.wav"), &oi);
    assert_non_null(y);
    assert_int_equal(oi.format, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    free(y);
    /* ... and no PEAK chunk: it holds the time of writing, so two renders
     * of the same take (a second apart) once differed in their bytes. */
    {
        FILE *f = fopen(tmp_path(p, "flt/w16.wav"), "rb");
        assert_non_null(f);
        unsigned char hdr[4096];
        size_t n = fread(hdr, 1, sizeof hdr, f);
        fclose(f);
        for (size_t i = 0; i + 4 <= n; i++)
            if (!memcmp(hdr + i, "PEAK", 4))
                fail_msg("float output has a PEAK chunk (time-stamped) at byte %zu", i);
    }
    /* --format flac from a float WAV: FLAC 24-bit with a .flac name. */
    assert_int_equal(run("-m '%s' -o '%s/toflac' --format flac '%s/f/wf.wav'", g_model, g_tmp, g_tmp), 0);
    y = rnnfx_test_read_audio(tmp_path(p, "toflac/wf.flac"), &oi);
    assert_non_null(y);
    assert_int_equal(oi.format, SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
    free(y);
    /* FLAC cannot hold floats: a usage error found from the inputs'
     * headers before any work (it was one failure per FLAC file, after
     * the others were rendered), naming the option to add; nothing
     * written, not even the WAV input's output. */
    assert_int_equal(run("-m '%s' -o '%s/badflt' --float '%s/f/w16.wav' '%s/f/fl.flac'", g_model,
                         g_tmp, g_tmp, g_tmp), 2);
    assert_true(stderr_has("add --format wav"));
    assert_true(stderr_has("nothing was done"));
    assert_false(rnnfx_test_exists(tmp_path(p, "badflt")));
}

static void test_inputs(void **state)
{
    (void)state;
    char p[PATH_MAX];
    mkdir(tmp_path(p, "tree"), 0777);
    mkdir(tmp_path(p, "tree/sub"), 0777);
    mkdir(tmp_path(p, "tree/sub/deeper"), 0777);
    write_audio(tmp_path(p, "tree/a.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, 3000, 0.5f, 1);
    write_audio(tmp_path(p, "tree/sub/b.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 48000, 3000, 0.5f, 2);
    write_audio(tmp_path(p, "tree/sub/deeper/c.WAV"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 48000, 3000, 0.5f, 3);
    write_audio(tmp_path(p, "tree/.hidden.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, 3000, 0.5f, 4);
    FILE *f = fopen(tmp_path(p, "tree/sub/notes.txt"), "w");
    fputs("not audio\n", f);
    fclose(f);
    /* Folder: recursive, mirrored, non-audio and hidden files ignored. */
    assert_int_equal(run("-m '%s' -o '%s/tout' '%s/tree'", g_model, g_tmp, g_tmp), 0);
    assert_true(rnnfx_test_exists(tmp_path(p, "tout/a.wav")));
    assert_true(rnnfx_test_exists(tmp_path(p, "tout/sub/b.flac")));
    assert_true(rnnfx_test_exists(tmp_path(p, "tout/sub/deeper/c.WAV")));
    assert_false(rnnfx_test_exists(tmp_path(p, "tout/.hidden.wav")));
    assert_false(rnnfx_test_exists(tmp_path(p, "tout/sub/notes.txt")));
    /* MP3 in a folder: libsndfile calls its MPEG format ".m1a", and .mp3
     * files in a folder were skipped although one named on its own was
     * read. Only where this libsndfile writes MP3 (1.1 with LAME). */
    {
        /* SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III by value: enum members
         * (no #ifdef), absent from libsndfile before 1.1 */
        const int mp3 = 0x230000 | 0x0082;
        SF_INFO mi = {0};
        mi.samplerate = 48000;
        mi.channels = 1;
        mi.format = mp3;
        if (sf_format_check(&mi)) {
            mkdir(tmp_path(p, "mp3s"), 0777);
            write_audio(tmp_path(p, "mp3s/take.mp3"), mp3, 1, 48000, 48000, 0.5f, 5);
            assert_int_equal(run("-m '%s' -o '%s/mp3out' '%s/mp3s'", g_model, g_tmp, g_tmp), 0);
            assert_true(rnnfx_test_exists(tmp_path(p, "mp3out/take.mp3")));
        } else {
            printf("  (this libsndfile does not write MP3: the MP3 folder case is skipped)\n");
        }
    }
    /* A list file: relative to its folder, comments and blanks ignored. */
    f = fopen(tmp_path(p, "tree/list.txt"), "w");
    fputs("# takes to render\n\na.wav\n  sub/b.flac\n", f);
    fclose(f);
    assert_int_equal(run("-m '%s' -o '%s/lout' @'%s/tree/list.txt'", g_model, g_tmp, g_tmp), 0);
    assert_true(rnnfx_test_exists(tmp_path(p, "lout/a.wav")));
    assert_true(rnnfx_test_exists(tmp_path(p, "lout/b.flac")));
    assert_false(rnnfx_test_exists(tmp_path(p, "lout/c.WAV")));
    assert_int_equal(run("-m '%s' -o '%s/lout2' --list '%s/tree/list.txt'", g_model, g_tmp, g_tmp), 0);
    assert_true(rnnfx_test_exists(tmp_path(p, "lout2/b.flac")));
    /* A list written on Windows: byte-order mark, CRLF, blanks after a
     * path (the first path and "a.wav  " were once taken literally). */
    f = fopen(tmp_path(p, "tree/list-win.txt"), "w");
    fputs("\xEF\xBB\xBF" "a.wav \r\n\tsub/b.flac\t\r\n", f);
    fclose(f);
    assert_int_equal(run("-m '%s' -o '%s/lout3' @'%s/tree/list-win.txt'", g_model, g_tmp, g_tmp), 0);
    assert_true(rnnfx_test_exists(tmp_path(p, "lout3/a.wav")));
    assert_true(rnnfx_test_exists(tmp_path(p, "lout3/b.flac")));
    /* Several arguments (what a shell glob gives), one repeated. */
    assert_int_equal(run("-m '%s' -o '%s/gout' '%s/tree/a.wav' '%s/tree/sub/b.flac' '%s/tree/a.wav'",
                         g_model, g_tmp, g_tmp, g_tmp, g_tmp), 0);
    assert_true(rnnfx_test_exists(tmp_path(p, "gout/a.wav")));
    assert_true(rnnfx_test_exists(tmp_path(p, "gout/b.flac")));
    /* An output folder inside the input folder: a second run does not take
     * the first run's outputs as inputs. */
    assert_int_equal(run("-m '%s' -o '%s/tree/rendered' '%s/tree'", g_model, g_tmp, g_tmp), 0);
    assert_int_equal(run("-m '%s' -o '%s/tree/rendered' --skip-existing '%s/tree'", g_model, g_tmp, g_tmp), 0);
    assert_false(rnnfx_test_exists(tmp_path(p, "tree/rendered/rendered")));
    assert_true(rnnfx_test_exists(tmp_path(p, "tree/rendered/sub/b.flac")));
    /* --dry-run: the mapping, nothing written. */
    assert_int_equal(run("-m '%s' -o '%s/dry' --dry-run '%s/tree/a.wav' > '%s/dry.txt'", g_model, g_tmp,
                         g_tmp, g_tmp), 0);
    assert_false(rnnfx_test_exists(tmp_path(p, "dry")));
    {
        FILE *df = fopen(tmp_path(p, "dry.txt"), "r");
        char line[2 * PATH_MAX] = "", want[PATH_MAX];
        assert_non_null(df);
        assert_non_null(fgets(line, sizeof line, df));
        fclose(df);
        snprintf(want, sizeof want, "%s/tree/a.wav -> %s/dry/a.wav\n", g_tmp, g_tmp);
        assert_string_equal(line, want);
    }
    /* Pattern beside the inputs. */
    assert_int_equal(run("-m '%s' --pattern '{name}-fx.{ext}' '%s/tree/a.wav'", g_model, g_tmp), 0);
    assert_true(rnnfx_test_exists(tmp_path(p, "tree/a-fx.wav")));
    /* Two inputs that would get one output name: refused before any work. */
    write_audio(tmp_path(p, "tree/sub/a.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, 3000, 0.5f, 5);
    assert_int_equal(run("-m '%s' -o '%s/clash' --pattern '{name}.{ext}' '%s/tree'", g_model, g_tmp, g_tmp), 2);
    assert_true(stderr_has("would both be written"));
    /* ... with advice that works for these two (found at different depths
     * of a folder input: {dir} tells them apart) */
    assert_true(stderr_has("put {dir} in the --pattern"));
    assert_false(rnnfx_test_exists(tmp_path(p, "clash")));
}

/* Copies the first half of src to dst and removes src. */
static void cut_in_half(const char *src_path, const char *dst_path)
{
    assert_int_equal(rnnfx_test_copy_half(src_path, dst_path), 0);
    unlink(src_path);
}

static void test_failures(void **state)
{
    (void)state;
    char p[PATH_MAX];
    mkdir(tmp_path(p, "bad"), 0777);
    write_audio(tmp_path(p, "bad/good1.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, 4000, 0.5f, 7);
    write_audio(tmp_path(p, "bad/good2.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 48000, 4000, 0.5f, 8);
    FILE *f = fopen(tmp_path(p, "bad/junk.wav"), "w");
    fputs("this is not a sound file, whatever its name says\n", f);
    fclose(f);
    /* A FLAC and a WAV file cut in half (an aborted copy): their headers
     * promise more audio than the files hold. */
    write_audio(tmp_path(p, "bad/full.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 48000, 48000, 0.5f, 9);
    write_audio(tmp_path(p, "bad/full.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1, 48000, 48000, 0.5f, 10);
    char full[PATH_MAX], cut[PATH_MAX];
    cut_in_half(tmp_path(full, "bad/full.flac"), tmp_path(cut, "bad/cut.flac"));
    cut_in_half(tmp_path(full, "bad/full.wav"), tmp_path(cut, "bad/cutw.wav"));
    /* every container says so in its own words in libsndfile's log (AIFF
     * indented, AU "Data Size", W64 and RF64 only their outer size): each
     * used to pass as a shorter take */
    static const struct {
        const char *name;
        int format;
    } other[] = {{"cut.aiff", SF_FORMAT_AIFF}, {"cut.au", SF_FORMAT_AU},
                 {"cut.w64", SF_FORMAT_W64}, {"cut.rf64", SF_FORMAT_RF64}};
    char others[4 * PATH_MAX] = "";
    for (size_t i = 0; i < 4; i++) {
        write_audio(tmp_path(full, "bad/full.x"), other[i].format | SF_FORMAT_PCM_16, 1, 48000,
                    48000, 0.5f, 11);
        cut_in_half(full, tmp_path(cut, "bad/%s", other[i].name));
        size_t u = strlen(others);
        snprintf(others + u, sizeof others - u, " '%s'", cut);
    }
    assert_int_equal(run("-m '%s' -o '%s/bout' '%s/bad/good1.wav' '%s/bad/missing.wav' "
                         "'%s/bad/junk.wav' '%s/bad/cut.flac' '%s/bad/cutw.wav' '%s/bad/good2.wav'%s",
                         g_model, g_tmp, g_tmp, g_tmp, g_tmp, g_tmp, g_tmp, g_tmp, others), 1);
    assert_true(stderr_has("FAILED"));
    assert_true(stderr_has("missing.wav"));
    assert_true(stderr_has("junk.wav"));
    assert_true(stderr_has("cut.flac: truncated"));
    assert_true(stderr_has("cutw.wav: truncated"));
    for (size_t i = 0; i < 4; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s: truncated", other[i].name);
        assert_true(stderr_has(what));
    }
    assert_true(stderr_has("2 done"));
    assert_true(rnnfx_test_exists(tmp_path(p, "bout/good1.wav")));
    assert_true(rnnfx_test_exists(tmp_path(p, "bout/good2.wav")));
    assert_false(rnnfx_test_exists(tmp_path(p, "bout/junk.wav")));
    assert_false(rnnfx_test_exists(tmp_path(p, "bout/missing.wav")));
    assert_false(rnnfx_test_exists(tmp_path(p, "bout/cut.flac")));
    assert_false(rnnfx_test_exists(tmp_path(p, "bout/cutw.wav")));
    assert_int_equal(rnnfx_test_count_temp_files(g_tmp), 0);

    /* Unwritable output: the output folder's parent is a regular file. */
    f = fopen(tmp_path(p, "plainfile"), "w");
    fclose(f);
    assert_int_equal(run("-m '%s' -o '%s/plainfile/out' '%s/bad/good1.wav'", g_model, g_tmp, g_tmp), 1);
    assert_true(stderr_has("cannot create folder"));
    /* An output name taken by a folder. */
    mkdir(tmp_path(p, "dirout"), 0777);
    mkdir(tmp_path(p, "dirout/good1.wav"), 0777);
    assert_int_equal(run("-m '%s' -o '%s/dirout' --overwrite '%s/bad/good1.wav' '%s/bad/good2.wav'",
                         g_model, g_tmp, g_tmp, g_tmp), 1);
    assert_true(stderr_has("is a folder"));
    assert_true(rnnfx_test_exists(tmp_path(p, "dirout/good2.wav")));
    assert_int_equal(rnnfx_test_count_temp_files(g_tmp), 0);
    /* A bad model is reported with the loader's message, nothing is made. */
    f = fopen(tmp_path(p, "broken.json"), "w");
    fputs("{\"format\": \"rnnfx-model\", \"version\": 1, \"layers\": [", f);
    fclose(f);
    assert_int_equal(run("-m '%s/broken.json' -o '%s/never' '%s/bad/good1.wav'", g_tmp, g_tmp, g_tmp), 1);
    assert_true(stderr_has("broken.json"));
    assert_false(rnnfx_test_exists(tmp_path(p, "never")));
}

static void test_never_overwrites_input(void **state)
{
    (void)state;
    char p[PATH_MAX], in[PATH_MAX], p2[PATH_MAX];
    mkdir(tmp_path(p, "keep"), 0777);
    tmp_path(in, "keep/take.wav");
    write_audio(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, 4000, 0.5f, 12);
    SF_INFO i0;
    float *before = rnnfx_test_read_audio(in, &i0);
    /* Output folder = input folder, default pattern. */
    assert_int_equal(run("-m '%s' -o '%s/keep' '%s'", g_model, g_tmp, in), 2);
    assert_true(stderr_has("would be the input"));
    /* Same without -o. */
    assert_int_equal(run("-m '%s' --pattern '{name}.{ext}' '%s'", g_model, in), 2);
    /* Through a symbolic link to the input folder, even with --overwrite. */
    assert_int_equal(symlink(tmp_path(p, "keep"), tmp_path(p2, "keeplink")), 0);
    assert_int_equal(run("-m '%s' -o '%s/keeplink' --overwrite '%s'", g_model, g_tmp, in), 2);
    SF_INFO i1;
    float *after = rnnfx_test_read_audio(in, &i1);
    assert_int_equal(i1.frames, i0.frames);
    assert_true(max_diff(before, after, (size_t)i0.frames) == 0.0);
    free(before);
    free(after);
}

static void test_existing_outputs(void **state)
{
    (void)state;
    char p[PATH_MAX], in[PATH_MAX], out[PATH_MAX];
    mkdir(tmp_path(p, "ex"), 0777);
    tmp_path(in, "ex/take.wav");
    tmp_path(out, "exout/take.wav");
    write_audio(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, 4000, 0.5f, 13);
    assert_int_equal(run("-m '%s' -o '%s/exout' '%s'", g_model, g_tmp, in), 0);
    struct stat s0, s1;
    assert_int_equal(stat(out, &s0), 0);
    /* Default: refuse, say how to proceed. */
    assert_int_equal(run("-m '%s' -o '%s/exout' '%s'", g_model, g_tmp, in), 1);
    assert_true(stderr_has("--overwrite"));
    /* --skip-existing: untouched, success (a resumed run). */
    assert_int_equal(run("-m '%s' -o '%s/exout' --skip-existing '%s'", g_model, g_tmp, in), 0);
    assert_int_equal(stat(out, &s1), 0);
    assert_int_equal(s1.st_ino, s0.st_ino);
    /* --overwrite: a new file (renamed into place: a new inode). */
    assert_int_equal(run("-m '%s' -o '%s/exout' --overwrite --out-gain -6 '%s'", g_model, g_tmp, in), 0);
    assert_int_equal(stat(out, &s1), 0);
    assert_true(s1.st_ino != s0.st_ino);

    /* Outputs beside their inputs (a --pattern, a folder as input): run
     * again with --skip-existing, the folder now holds the first run's
     * outputs too. They are this run's outputs, not inputs: the run
     * resumes (it refused, naming an output that "would be the input"). */
    char dir[PATH_MAX], fx[PATH_MAX];
    mkdir(tmp_path(dir, "beside"), 0777);
    tmp_path(in, "beside/take1.wav");
    write_audio(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, 4000, 0.5f, 14);
    tmp_path(in, "beside/take2.wav");
    write_audio(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, 4000, 0.5f, 15);
    assert_int_equal(run("-m '%s' --pattern '{name}-fx.{ext}' '%s'", g_model, dir), 0);
    tmp_path(fx, "beside/take2-fx.wav");
    assert_int_equal(unlink(fx), 0); /* as if the first run had stopped there */
    assert_int_equal(stat(tmp_path(out, "beside/take1-fx.wav"), &s0), 0);
    assert_int_equal(run("-m '%s' --pattern '{name}-fx.{ext}' --skip-existing '%s'", g_model, dir), 0);
    assert_true(stderr_has("not taken as inputs"));
    assert_int_equal(stat(fx, &s1), 0);                  /* redone */
    assert_int_equal(stat(out, &s1), 0);                 /* kept */
    assert_int_equal(s1.st_ino, s0.st_ino);
    assert_int_equal(stat(tmp_path(p, "beside/take1-fx-fx.wav"), &s1), -1); /* not an input */
}

static void test_clipping_and_nan(void **state)
{
    (void)state;
    char p[PATH_MAX], in[PATH_MAX];
    mkdir(tmp_path(p, "clip"), 0777);
    tmp_path(in, "clip/loud.wav");
    write_audio(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, 8000, 0.5f, 14);
    /* Dry only, +24 dB: the output is the input times 15.85. */
    assert_int_equal(run("-m '%s' -o '%s/clipout' --mix 0 --out-gain 24 '%s'", g_model, g_tmp, in), 0);
    assert_true(stderr_has("were clipped"));
    SF_INFO ii, oi;
    float *x = rnnfx_test_read_audio(in, &ii);
    float *y = rnnfx_test_read_audio(tmp_path(p, "clipout/loud.wav"), &oi);
    assert_non_null(y);
    float g = powf(10.0f, 24.0f / 20.0f);
    size_t expect = 0, saturated = 0;
    for (sf_count_t i = 0; i < ii.frames; i++) {
        float want = x[i] * g;
        if (fabsf(want) > 1.0f) {
            expect++;
            /* Saturated with the right sign: never wrapped around. */
            assert_true(want > 0 ? y[i] > 0.999f : y[i] < -0.999f);
            saturated++;
        } else {
            assert_true(fabsf(y[i] - want) < 2e-4f);
        }
    }
    char msg[64];
    snprintf(msg, sizeof msg, "%zu samples above 0 dBFS", expect);
    printf("  clipping: %zu of %ld samples beyond full scale, all saturated\n", saturated,
           (long)ii.frames);
    assert_true(expect > 100);
    assert_true(stderr_has(msg));
    free(y);
    /* In a float file the values are kept. */
    assert_int_equal(run("-m '%s' -o '%s/clipflt' --float --mix 0 --out-gain 24 '%s'", g_model, g_tmp, in), 0);
    assert_true(stderr_has("kept in the float file"));
    y = rnnfx_test_read_audio(tmp_path(p, "clipflt/loud.wav"), &oi);
    float peak = 0;
    for (sf_count_t i = 0; i < oi.frames; i++)
        peak = fmaxf(peak, fabsf(y[i]));
    assert_true(peak > 2.0f);
    free(y);
    free(x);

    /* NaN and infinities in a float input never reach the output. */
    tmp_path(in, "clip/nan.wav");
    {
        float buf[4000];
        rnnfx_test_signal(buf, 4000, 15);
        buf[100] = NAN;
        buf[2000] = INFINITY;
        buf[3000] = -INFINITY;
        SF_INFO info = {0};
        info.channels = 1;
        info.samplerate = 48000;
        info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
        SNDFILE *sf = sf_open(in, SFM_WRITE, &info);
        sf_writef_float(sf, buf, 4000);
        sf_close(sf);
    }
    assert_int_equal(run("-m '%s' -o '%s/nanout' '%s'", g_model, g_tmp, in), 0);
    y = rnnfx_test_read_audio(tmp_path(p, "nanout/nan.wav"), &oi);
    assert_non_null(y);
    assert_true(rnnfx_test_all_finite(y, (size_t)oi.frames));
    free(y);
}

/* Same outputs whatever the number of threads: files in parallel and a long
 * stereo file split by channel. */
static void test_threads_independent(void **state)
{
    (void)state;
    char p[PATH_MAX];
    mkdir(tmp_path(p, "par"), 0777);
    write_audio(tmp_path(p, "par/long.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 44100, 88200, 0.6f, 16);
    for (int i = 0; i < 5; i++)
        write_audio(tmp_path(p, "par/short%d.wav", i), SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1 + (i & 1),
                    48000, 3000 + 500 * i, 0.6f, 17 + i);
    assert_int_equal(run("-m '%s' -o '%s/par1' -j 1 '%s/par'", g_model, g_tmp, g_tmp), 0);
    assert_int_equal(run("-m '%s' -o '%s/par3' -j 3 '%s/par'", g_model, g_tmp, g_tmp), 0);
    const char *names[] = {"long.wav", "short0.wav", "short1.wav", "short2.wav", "short3.wav", "short4.wav"};
    for (size_t i = 0; i < 6; i++) {
        SF_INFO a, b;
        float *x = rnnfx_test_read_audio(tmp_path(p, "par1/%s", names[i]), &a);
        float *y = rnnfx_test_read_audio(tmp_path(p, "par3/%s", names[i]), &b);
        assert_non_null(x);
        assert_non_null(y);
        assert_int_equal(a.frames, b.frames);
        assert_true(max_diff(x, y, (size_t)a.frames * (size_t)a.channels) == 0.0);
        free(x);
        free(y);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/rnnfx-test-process-XXXXXX");
    if (!mkdtemp(g_tmp))
        return -1;
    rnnfx_test_scratch_set(g_tmp);
    snprintf(g_model, sizeof g_model, "%s/lstm8.json", g_tmp);
    snprintf(g_knob_model, sizeof g_knob_model, "%s/lstm8-drive.json", g_tmp);
    if (make_model(g_model, RNNFX_CELL_LSTM, 8, 48000, NULL, 1) != 0 ||
        make_model(g_knob_model, RNNFX_CELL_LSTM, 8, 48000, "drive", 2) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return rnnfx_test_remove_tree(g_tmp);
}

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "make-model")) {
        /* make-model PATH lstm|gru|rnn HIDDEN [RATE] [KNOB] */
        RnnfxCell cell = !strcmp(argv[3], "gru") ? RNNFX_CELL_GRU
                         : !strcmp(argv[3], "rnn") ? RNNFX_CELL_RNN : RNNFX_CELL_LSTM;
        int hidden = atoi(argv[4]);
        double rate = argc > 5 ? atof(argv[5]) : 48000.0;
        const char *knob = argc > 6 ? argv[6] : NULL;
        uint64_t seed = (uint64_t)hidden * 7919u + (uint64_t)cell;
        if (make_model(argv[2], cell, hidden, rate, knob, seed) != 0) {
            fprintf(stderr, "make-model: cannot write %s\n", argv[2]);
            return 1;
        }
        return 0;
    }
    /* The program under test sits in ../bin beside this test's folder. */
    rnnfx_test_beside(g_bin, sizeof g_bin, argv[0], "../bin/rnnfx-process");
    if (access(g_bin, X_OK) != 0) {
        fprintf(stderr, "test_process: %s is not built\n", g_bin);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_chain_float),
        cmocka_unit_test(test_matches_chain_resampled),
        cmocka_unit_test(test_knobs),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_never_overwrites_input),
        cmocka_unit_test(test_existing_outputs),
        cmocka_unit_test(test_clipping_and_nan),
        cmocka_unit_test(test_threads_independent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_process_stream.c — rnnfx-process streams files in chunks: the output
 * is the very output of a whole-file run, memory does not grow with the
 * file, and a file that fails half-way leaves nothing behind.
 *
 * - Chunked equals one-shot: a 44.1 kHz stereo file of more than five
 *   64 Ki-frame chunks goes through the built program with a 48 kHz model
 *   (so the chain resamples both ways); every output channel must equal,
 *   bit for bit, that channel run through a fresh chain in one piece
 *   (rnnfx_batch_process_channel over the whole signal) and the chain fed
 *   the whole padded signal in a single rnnfx_chain_process call. The
 *   runner called directly with other chunk and block sizes
 *   (rnnfx_batch_run) gives the same samples again.
 * - Bounded memory: a 20-minute mono 48 kHz file (57.6 M frames; a
 *   whole-file run needs more than 460 MB for its buffers) is processed
 *   under an address-space limit of 200 MB (setrlimit RLIMIT_AS in the
 *   child), and the child's peak resident size (wait4) stays small.
 * - Failures half-way: a FLAC cut in half passes the header checks, fails
 *   only after chunks were written, and leaves no temporary file and no
 *   output folder; a file that fails before any output creates no folder.
 *
 * What this is not: the per-option tests of rnnfx-process (test_process.c)
 * nor the plugin comparison (test_process_plugin.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sndfile.h>

#include "audio_io.h"
#include "batch.h"
#include "chain.h"
#include "audiotest.h"
#include "enginetest.h"
#include "model.h"
#include "model_file.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static char g_bin[PATH_MAX];   /* rnnfx-process */
static char g_tmp[PATH_MAX];   /* scratch folder of this run */
static char g_model[PATH_MAX]; /* LSTM 8 at 48 kHz */

/* The shared writer, asserting it worked. */
#define write_audio(...) assert_int_equal(rnnfx_test_write_audio(__VA_ARGS__), 0)
/* The tool with -q, stderr kept in g_tmp/stderr.txt for message checks. */
#define run(...) rnnfx_test_run_quiet(g_bin, rnnfx_test_stderr_path(), __VA_ARGS__)
#define stderr_has(needle) rnnfx_test_file_has(rnnfx_test_stderr_path(), needle)
/* A path below g_tmp. */
#define tmp_path rnnfx_test_scratch_path

static int bits_equal(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* ---- chunked equals one-shot -------------------------------------------------- */

/* 5.3 chunks of 64 Ki frames, 44.1 kHz stereo float, into a 48 kHz model. */
#define LONG_FRAMES ((size_t)65536 * 5 + 20000 + 7)

static void test_chunked_equals_one_shot(void **state)
{
    (void)state;
    char in[PATH_MAX], out[PATH_MAX], p[PATH_MAX];
    mkdir(tmp_path(p, "eq"), 0777);
    tmp_path(in, "eq/take.wav");
    write_audio(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 44100, LONG_FRAMES, 0.7f, 31);
    assert_int_equal(run("-m '%s' -o '%s/eq/o' --in-gain 4 --mix 0.8 -j 2 '%s'", g_model, g_tmp, in),
                     0);
    SF_INFO ii, oi;
    float *x = rnnfx_test_read_audio(in, &ii);
    float *y = rnnfx_test_read_audio(tmp_path(out, "eq/o/take.wav"), &oi);
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(oi.frames, ii.frames);
    assert_int_equal(oi.channels, 2);
    assert_int_equal(oi.samplerate, 44100);

    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load(g_model, NULL, &m, &err), RNNFX_OK);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.input_db = 4;
    ctl.mix = 0.8f;
    const size_t n = (size_t)ii.frames;
    for (int c = 0; c < 2; c++) {
        float *xc = rnnfx_test_channel_of(x, n, 2, c);
        float *yc = rnnfx_test_channel_of(y, n, 2, c);
        /* One piece, the grid of blocks a whole-file run uses. */
        float *ref = malloc(n * sizeof *ref);
        assert_non_null(ref);
        assert_int_equal(rnnfx_batch_process_channel(m, &ctl, 44100, 4096, xc, ref, n, &err), RNNFX_OK);
        assert_true(bits_equal(yc, ref, n));
        /* The chain given everything in a single call (no block grid at
         * all): the chain promises that its output does not depend on how
         * the input is cut, resampler included; hold it to that exactly. */
        RnnfxChain *chain = NULL;
        assert_int_equal(rnnfx_chain_new(m, 44100, n + RNNFX_CHAIN_MAX_LATENCY, &chain, &err), RNNFX_OK);
        rnnfx_chain_set_controls(chain, &ctl);
        size_t lat = (size_t)rnnfx_chain_latency(chain);
        assert_true(lat > 0); /* resampling is on */
        float *pad = calloc(n + lat, sizeof *pad);
        assert_non_null(pad);
        memcpy(pad, xc, n * sizeof *pad);
        rnnfx_chain_process(chain, pad, pad, n + lat);
        double d = rnnfx_test_max_abs_diff(yc, pad + lat, n);
        printf("  ch%d: %zu frames (%.1f chunks), latency %zu: chunked == one-shot bit for bit; "
               "vs one single chain call: max diff %.3g\n",
               c, n, (double)n / 65536.0, lat, d);
        assert_true(bits_equal(yc, pad + lat, n));
        assert_true(rnnfx_test_max_abs_diff(yc, xc, n) > 1e-2); /* the model did something */
        rnnfx_chain_free(chain);
        free(pad);
        free(ref);
        free(xc);
        free(yc);
    }

    /* The runner itself with other chunk and block sizes: same samples. */
    static const size_t sizes[][2] = {{1, 4096}, {10000, 1000}, {65536, 333}, {1 << 20, 4096}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        RnnfxBatchList list;
        rnnfx_batch_list_init(&list);
        char msg[600];
        assert_int_equal(rnnfx_batch_add_arg(&list, in, msg, sizeof msg), 0);
        char dir[PATH_MAX];
        tmp_path(dir, "eq/api%zu", k);
        RnnfxBatchNaming naming = {dir, NULL, NULL, NULL};
        assert_int_equal(rnnfx_batch_name_outputs(&list, &naming, msg, sizeof msg), 0);
        RnnfxBatchOptions o;
        rnnfx_batch_options_init(&o);
        o.model = m;
        o.controls = ctl;
        o.jobs = 2;
        o.chunk = sizes[k][0];
        o.block = sizes[k][1];
        assert_int_equal(rnnfx_batch_run(&list, &o), 0);
        assert_int_equal(list.items[0].state, RNNFX_BATCH_DONE);
        assert_int_equal(list.items[0].frames, n);
        SF_INFO ai;
        float *z = rnnfx_test_read_audio(list.items[0].out_path, &ai);
        assert_non_null(z);
        assert_int_equal(ai.frames, oi.frames);
        /* Block size changes only float rounding inside the chain; the
         * chunk size changes nothing. */
        double d = rnnfx_test_max_abs_diff(z, y, n * 2);
        printf("  runner, chunk %zu, block %zu: max diff to the program's output %.3g\n",
               sizes[k][0], sizes[k][1], d);
        if (sizes[k][1] == 4096)
            assert_true(bits_equal(z, y, n * 2));
        else
            assert_true(d <= 1e-6);
        free(z);
        rnnfx_batch_list_free(&list);
    }
    rnnfx_model_free(m);
    free(x);
    free(y);
}

/* ---- bounded memory ------------------------------------------------------------ */

#define BIG_RATE 48000
#define BIG_FRAMES ((size_t)BIG_RATE * 60 * 20) /* 20 minutes */
#define AS_LIMIT ((rlim_t)200 << 20)

/* Writes the 20-minute file a chunk at a time (the test itself must not
 * hold it whole either). */
static void write_big(const char *path)
{
    SF_INFO info = {0};
    info.channels = 1;
    info.samplerate = BIG_RATE;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    assert_non_null(sf);
    enum { B = 48000 };
    float *x = malloc(B * sizeof *x);
    assert_non_null(x);
    for (size_t pos = 0; pos < BIG_FRAMES; pos += B) {
        rnnfx_test_signal(x, B, 100 + pos / B % 7); /* 7 seconds that repeat */
        for (size_t i = 0; i < B; i++)
            x[i] *= 0.5f;
        assert_int_equal(sf_writef_float(sf, x, B), B);
    }
    free(x);
    sf_close(sf);
}

static void test_bounded_memory(void **state)
{
    (void)state;
    char in[PATH_MAX], outdir[PATH_MAX], errp[PATH_MAX], p[PATH_MAX];
    mkdir(tmp_path(p, "big"), 0777);
    tmp_path(in, "big/20min.wav");
    tmp_path(outdir, "big/o");
    tmp_path(errp, "big/stderr.txt");
    write_big(in);
    /* A whole-file run would hold the samples twice as floats at least:
     * 2 * 57.6 M * 4 bytes = 460 MB, far above the limit. */
    assert_true((rlim_t)BIG_FRAMES * 4 * 2 > 2 * AS_LIMIT);
    struct timeval t0, t1;
    gettimeofday(&t0, NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {AS_LIMIT, AS_LIMIT};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(120);
        FILE *e = freopen(errp, "w", stderr);
        (void)e;
        execl(g_bin, g_bin, "-q", "-j", "2", "-m", g_model, "-o", outdir, in, (char *)NULL);
        _exit(121);
    }
    int status = 0;
    struct rusage ru;
    assert_int_equal(wait4(pid, &status, 0, &ru), pid);
    gettimeofday(&t1, NULL);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-6 * (double)(t1.tv_usec - t0.tv_usec);
    double rss_mb = (double)ru.ru_maxrss / 1024.0;
    printf("  20-minute mono file under a 200 MB address-space limit: exit %d, peak RSS %.1f MB, "
           "%.1f s (%.0fx real time)\n",
           WIFEXITED(status) ? WEXITSTATUS(status) : -1, rss_mb, secs, 1200.0 / secs);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "cat '%s'", errp);
        (void)system(cmd);
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(rss_mb < 64.0);
    SF_INFO oi = {0};
    tmp_path(p, "big/o/20min.wav");
    SNDFILE *sf = sf_open(p, SFM_READ, &oi);
    assert_non_null(sf);
    assert_int_equal(oi.frames, (sf_count_t)BIG_FRAMES);
    /* The end of the file is there and was processed (not silence). */
    float tail[4096];
    assert_int_equal(sf_seek(sf, (sf_count_t)BIG_FRAMES - 4096, SEEK_SET), (sf_count_t)BIG_FRAMES - 4096);
    assert_int_equal(sf_readf_float(sf, tail, 4096), 4096);
    float peak = 0;
    for (int i = 0; i < 4096; i++)
        peak = fmaxf(peak, fabsf(tail[i]));
    assert_true(peak > 1e-3f);
    sf_close(sf);
    unlink(p);

    /* Ctrl-C in the middle of the file (once its temporary output exists):
     * exit 130 within a chunk, and neither the partial output nor the
     * folder made for it stays behind. The summary calls the file "not
     * done" (it once said "not started" of a file stopped part-way). */
    char oc[PATH_MAX], log[PATH_MAX];
    tmp_path(oc, "big/oc");
    tmp_path(log, "big/int.log");
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *e = freopen(log, "w", stderr);
        (void)e;
        execl(g_bin, g_bin, "-m", g_model, "-o", oc, in, (char *)NULL);
        _exit(121);
    }
    int started = 0;
    for (int i = 0; i < 20000 && !started; i++) { /* up to 100 s */
        DIR *d = opendir(oc);
        for (struct dirent *de; d && (de = readdir(d));)
            started |= strstr(de->d_name, ".tmp-") != NULL;
        if (d)
            closedir(d);
        if (!started)
            usleep(5000);
    }
    assert_true(started);
    kill(pid, SIGINT);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 130);
    assert_false(rnnfx_test_exists(oc));
    assert_int_equal(rnnfx_test_count_temp_files(tmp_path(p, "big")), 0);
    assert_true(rnnfx_test_file_has(log, "0 done, 0 skipped, 0 failed, 1 not done (interrupted)"));
    unlink(log);
    unlink(in);
}

/* ---- failures leave nothing ------------------------------------------------------ */

/* Copies the first half of src to dst. */
#define cut_in_half(src, dst) assert_int_equal(rnnfx_test_copy_half(src, dst), 0)

static void test_failures_leave_nothing(void **state)
{
    (void)state;
    char p[PATH_MAX], full[PATH_MAX], cut[PATH_MAX], good[PATH_MAX], junk[PATH_MAX];
    mkdir(tmp_path(p, "f"), 0777);
    /* 6 chunks of FLAC; the first half decodes, so the file fails only
     * after its output folder and temporary file were made and written. */
    tmp_path(full, "f/full.flac");
    tmp_path(cut, "f/cut.flac");
    write_audio(full, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 48000, 65536 * 6, 0.5f, 41);
    cut_in_half(full, cut);
    assert_int_equal(run("-m '%s' -o '%s/f/new/deeper' '%s'", g_model, g_tmp, cut), 1);
    assert_true(stderr_has("cut.flac: truncated"));
    assert_false(rnnfx_test_exists(tmp_path(p, "f/new"))); /* the folders it made are gone */
    assert_int_equal(rnnfx_test_count_temp_files(g_tmp), 0);

    /* Fails before any output: no folder at all. */
    tmp_path(junk, "f/junk.wav");
    FILE *f = fopen(junk, "w");
    assert_non_null(f);
    fputs("not a sound file\n", f);
    fclose(f);
    assert_int_equal(run("-m '%s' -o '%s/f/never' '%s' '%s/f/missing.wav'", g_model, g_tmp, junk,
                         g_tmp),
                     1);
    assert_false(rnnfx_test_exists(tmp_path(p, "f/never")));

    /* Beside a file that succeeds, the shared folder stays with its output. */
    tmp_path(good, "f/good.wav");
    write_audio(good, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 44100, 70000, 0.5f, 42);
    assert_int_equal(run("-m '%s' -o '%s/f/mixed' -j 2 '%s' '%s'", g_model, g_tmp, cut, good), 1);
    assert_true(rnnfx_test_exists(tmp_path(p, "f/mixed/good.wav")));
    assert_false(rnnfx_test_exists(tmp_path(p, "f/mixed/cut.flac")));
    assert_int_equal(rnnfx_test_count_temp_files(g_tmp), 0);
    assert_true(stderr_has("1 done"));
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/rnnfx-test-stream-XXXXXX");
    if (!mkdtemp(g_tmp))
        return -1;
    rnnfx_test_scratch_set(g_tmp);
    snprintf(g_model, sizeof g_model, "%s/lstm8.json", g_tmp);
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, RNNFX_CELL_LSTM, 8, 1);
    RnnfxModel *m = rnnfx_test_random_model(&arch, 5, 1.0f, 0);
    if (!m)
        return -1;
    rnnfx_model_meta(m)->sample_rate = 48000;
    RnnfxError err;
    RnnfxStatus st = rnnfx_model_finalize(m, &err);
    if (st == RNNFX_OK)
        st = rnnfx_model_save(m, g_model, &err);
    rnnfx_model_free(m);
    return st == RNNFX_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rnnfx_test_remove_tree(g_tmp);
}

/* Streaming lifts the length limit, so the writer has to know where the
 * 32-bit containers end (libsndfile would write past 4 GiB and leave a
 * header other programs read short). */
static void test_size_limits(void **state)
{
    (void)state;
    const unsigned long long room = 0xFFFFFFFFull - 65536ull;
    assert_true(rnnfx_audio_max_frames(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2) == room / 4);
    assert_true(rnnfx_audio_max_frames(SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1) == room / 4);
    assert_true(rnnfx_audio_max_frames(SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 2) == room / 6);
    assert_true(rnnfx_audio_max_frames(SF_FORMAT_AU | SF_FORMAT_DOUBLE, 3) == room / 24);
    /* a 4-hour stereo take at 48 kHz as float WAV would not fit (3 hours do) */
    assert_true(4ull * 3600 * 48000 > rnnfx_audio_max_frames(SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2));
    assert_true(3ull * 3600 * 48000 < rnnfx_audio_max_frames(SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2));
    assert_true(rnnfx_audio_max_frames(SF_FORMAT_RF64 | SF_FORMAT_FLOAT, 2) == 0);
    assert_true(rnnfx_audio_max_frames(SF_FORMAT_W64 | SF_FORMAT_PCM_16, 2) == 0);
    assert_true(rnnfx_audio_max_frames(SF_FORMAT_CAF | SF_FORMAT_FLOAT, 2) == 0);
    assert_true(rnnfx_audio_max_frames(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 2) == 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    /* The program under test sits in ../bin beside this test's folder. */
    rnnfx_test_beside(g_bin, sizeof g_bin, argv[0], "../bin/rnnfx-process");
    if (access(g_bin, X_OK) != 0) {
        fprintf(stderr, "test_process_stream: %s is not built\n", g_bin);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunked_equals_one_shot),
        cmocka_unit_test(test_bounded_memory),
        cmocka_unit_test(test_failures_leave_nothing),
        cmocka_unit_test(test_size_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

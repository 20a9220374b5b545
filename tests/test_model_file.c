/*
 * test_model_file.c — reading and writing rnnfx model files.
 *
 *   - every file in tests/data/bad/ (made by make_bad_models.py, listed with
 *     the expected status and message words in expect.txt) is rejected with
 *     that status and a message naming the problem, from a path and from
 *     memory; the two good controls there load;
 *   - every proper prefix of a good file is rejected (truncation anywhere),
 *     and thousands of byte-level corruptions never crash the loader;
 *   - oversized, missing and non-regular files are refused cleanly;
 *   - save -> load is bit-exact (memcmp of all parameters) for every cell
 *     type and option, including awkward floats (-0, denormals, FLT_MAX)
 *     and metadata strings with quotes, backslashes, control characters and
 *     non-ASCII text; and a second save writes the identical text;
 *   - saving is atomic: no temporary file is left behind, a failed save
 *     creates nothing and leaves an existing file untouched;
 *   - the native reader refuses a key it does not know in any object it
 *     reads (a misspelt "n_keys" in "midi" used to fall back to 88 keys),
 *     naming the key, while metadata.training stays free-form and the
 *     foreign formats keep accepting keys of their own.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "enginetest.h"
#include "instance.h"
#include "model.h"
#include "model_file.h"

/* ---- small helpers ----------------------------------------------------------- */

static const char *status_name(RnnfxStatus st)
{
    switch (st) {
    case RNNFX_OK: return "OK";
    case RNNFX_ERR_ARG: return "ARG";
    case RNNFX_ERR_NOMEM: return "NOMEM";
    case RNNFX_ERR_IO: return "IO";
    case RNNFX_ERR_PARSE: return "PARSE";
    case RNNFX_ERR_FORMAT: return "FORMAT";
    case RNNFX_ERR_INVALID: return "INVALID";
    case RNNFX_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case RNNFX_ERR_LIMIT: return "LIMIT";
    }
    return "?";
}

/* Case-insensitive substring test. */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

/* read_all of a file given relative to the checkout (found from any
 * working folder). */
static char *read_data(const char *rel, size_t *len)
{
    char path[1024];
    rnnfx_test_path(path, sizeof path, rel);
    return read_all(path, len);
}

/* Number of directory entries other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static char g_tmp[512];

static int setup_tmp(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/rnnfx-test-model-file-XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(g_tmp) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    remove_tree(g_tmp);
    return 0;
}

/* ---- bad files ----------------------------------------------------------------- */

static void test_bad_files(void **state)
{
    (void)state;
    char dir[512], path[1024];
    rnnfx_test_path(dir, sizeof dir, "tests/data/bad");
    snprintf(path, sizeof path, "%s/expect.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    char line[1024];
    int n = 0, n_good = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = '\0';
        char name[256], statuses[64];
        int off = 0;
        if (sscanf(line, "%255s %63s %n", name, statuses, &off) != 2)
            fail_msg("malformed line in expect.txt: %s", line);
        const char *needles = line + off;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t len = 0;
        char *data = read_all(path, &len);
        if (!data)
            fail_msg("cannot read %s", path);
        for (int from_memory = 0; from_memory < 2; from_memory++) {
            RnnfxModel *m = (RnnfxModel *)(uintptr_t)1; /* must be overwritten */
            RnnfxError err;
            memset(&err, 0, sizeof err);
            RnnfxStatus st = from_memory ? rnnfx_model_load_memory(data, len, NULL, &m, &err)
                                         : rnnfx_model_load(path, NULL, &m, &err);
            /* the status is one of those listed */
            char list[64];
            snprintf(list, sizeof list, "%s", statuses);
            int ok_status = 0;
            for (char *tok = strtok(list, "|"); tok; tok = strtok(NULL, "|"))
                ok_status |= strcmp(tok, status_name(st)) == 0;
            if (!ok_status)
                fail_msg("%s (%s): status %s, expected %s; message: %s", name,
                         from_memory ? "memory" : "file", status_name(st), statuses, err.msg);
            if (st == RNNFX_OK) {
                n_good++;
                assert_non_null(m);
                assert_true(rnnfx_model_is_finalized(m));
                rnnfx_model_free(m);
                continue;
            }
            assert_null(m);
            if (err.msg[0] == '\0')
                fail_msg("%s: rejected without a message", name);
            /* the message names the problem */
            if (strcmp(needles, "-") != 0) {
                char nl[512];
                snprintf(nl, sizeof nl, "%s", needles);
                char *save = NULL;
                for (char *tok = strtok_r(nl, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
                    if (!contains_ci(err.msg, tok))
                        fail_msg("%s: message does not mention \"%s\": %s", name, tok, err.msg);
            }
            /* and, from a file, names the file */
            if (!from_memory && !strstr(err.msg, name))
                fail_msg("%s: message does not name the file: %s", name, err.msg);
            if (!from_memory)
                printf("  %-32s %-11s %s\n", name, status_name(st), err.msg + strlen(dir) + 1);
        }
        free(data);
        n++;
    }
    fclose(f);
    assert_true(n >= 40);
    assert_int_equal(n_good, 4); /* two good controls, file + memory */
}

/* Every proper prefix of a valid file is rejected; byte corruption never
 * crashes and always yields either a model or a message. */
static void test_truncation_and_corruption(void **state)
{
    (void)state;
    size_t len = 0;
    char *good = read_data("tests/data/bad/good_base.json", &len);
    assert_non_null(good);
    RnnfxError err;
    RnnfxModel *m = NULL;
    for (size_t cut = 0; cut < len; cut++) {
        RnnfxStatus st = rnnfx_model_load_memory(good, cut, NULL, &m, &err);
        if (st == RNNFX_OK)
            fail_msg("a %zu-byte prefix of a %zu-byte model loaded", cut, len);
        assert_null(m);
        assert_true(err.msg[0] != '\0');
    }
    char *bad = malloc(len);
    RnnfxTestRng r;
    rnnfx_test_rng_seed(&r, 77);
    const char junk[] = "{}[]\",:0-.eE9 \x00\xff\\nutfl";
    int loaded = 0, rejected = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(bad, good, len);
        int flips = 1 + (int)(rnnfx_test_rng_uniform(&r) * 4);
        for (int k = 0; k < flips; k++) {
            size_t pos = (size_t)(rnnfx_test_rng_uniform(&r) * (double)len);
            bad[pos] = junk[(size_t)(rnnfx_test_rng_uniform(&r) * (sizeof junk - 1))];
        }
        memset(&err, 0, sizeof err);
        RnnfxStatus st = rnnfx_model_load_memory(bad, len, NULL, &m, &err);
        if (st == RNNFX_OK) {
            /* still a valid model (a digit changed, say): it must run */
            RnnfxInstance *inst = rnnfx_instance_new(m);
            assert_non_null(inst);
            float x[64], y[64];
            rnnfx_test_signal(x, 64, (uint64_t)it);
            rnnfx_instance_process(inst, x, y, 64);
            assert_true(rnnfx_test_all_finite(y, 64));
            rnnfx_instance_free(inst);
            rnnfx_model_free(m);
            loaded++;
        } else {
            assert_null(m);
            if (err.msg[0] == '\0')
                fail_msg("corruption %d rejected (%s) without a message", it, status_name(st));
            rejected++;
        }
    }
    printf("  corrupted copies: %d rejected, %d still valid and run\n", rejected, loaded);
    free(bad);
    free(good);
}

static void test_file_errors(void **state)
{
    (void)state;
    RnnfxModel *m = NULL;
    RnnfxError err;
    char path[1024];
    /* missing file */
    snprintf(path, sizeof path, "%s/does-not-exist.json", g_tmp);
    assert_int_equal(rnnfx_model_load(path, NULL, &m, &err), RNNFX_ERR_IO);
    assert_null(m);
    assert_non_null(strstr(err.msg, "does-not-exist.json"));
    /* a directory */
    assert_int_equal(rnnfx_model_load(g_tmp, NULL, &m, &err), RNNFX_ERR_IO);
    assert_null(m);
    /* bigger than the limit (sparse: costs no disk) */
    snprintf(path, sizeof path, "%s/huge.json", g_tmp);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)RNNFX_MAX_FILE_BYTES + 1), 0);
    close(fd);
    assert_int_equal(rnnfx_model_load(path, NULL, &m, &err), RNNFX_ERR_LIMIT);
    assert_null(m);
    assert_true(contains_ci(err.msg, "huge.json"));
    unlink(path);
    /* a memory buffer over the limit is refused before parsing (the bytes
     * are never read, so a small buffer with a big claimed length is safe
     * to pass only if the length check comes first) */
    char tiny[4] = "{}";
    assert_int_equal(rnnfx_model_load_memory(tiny, (size_t)RNNFX_MAX_FILE_BYTES + 1, NULL, &m, &err),
                     RNNFX_ERR_LIMIT);
    assert_null(m);
    /* a file under the size limit that is nothing but tiny values: json-c
     * takes about 72 bytes per value, so 8 MB of "0," took 290 MB (and 62
     * MB, 2.2 GB) before any count was checked; it is refused unparsed.
     * Commas inside strings do not count. */
    {
        const char head[] = "{\"version\":\"0.5.1\",\"note\":\",,,,\",\"architecture\":\"LSTM\","
                            "\"config\":{\"input_size\":1,\"hidden_size\":3,\"num_layers\":1},"
                            "\"weights\":[";
        const size_t zeros = 4100000, n = sizeof head - 1 + 2 * (zeros - 1) + 3;
        char *big = malloc(n);
        assert_non_null(big);
        memcpy(big, head, sizeof head - 1);
        for (size_t i = 0; i + 1 < zeros; i++) memcpy(big + sizeof head - 1 + 2 * i, "0,", 2);
        memcpy(big + n - 3, "0]}", 3);
        assert_int_equal(rnnfx_model_load_memory(big, n, NULL, &m, &err), RNNFX_ERR_LIMIT);
        assert_null(m);
        assert_non_null(strstr(err.msg, "values"));
        print_message("%zu bytes of zeros: %s\n", n, err.msg);
        free(big);
    }
    /* a recording or a MIDI file picked by mistake is named as such */
    static const char wav[] = "RIFF\x24\0\0\0WAVEfmt \x10\0\0\0", mid[] = "MThd\0\0\0\x06";
    assert_int_equal(rnnfx_model_load_memory(wav, sizeof wav - 1, NULL, &m, &err), RNNFX_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "a WAV audio file, not a model"));
    assert_int_equal(rnnfx_model_load_memory(mid, sizeof mid - 1, NULL, &m, &err), RNNFX_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "a MIDI file"));
    assert_null(m);
    /* argument errors */
    assert_int_not_equal(rnnfx_model_load(NULL, NULL, &m, &err), RNNFX_OK);
    assert_int_not_equal(rnnfx_model_load(path, NULL, NULL, &err), RNNFX_OK);
    assert_int_not_equal(rnnfx_model_load_memory(NULL, 10, NULL, &m, &err), RNNFX_OK);
    assert_int_not_equal(rnnfx_model_load_memory(tiny, 0, NULL, &m, &err), RNNFX_OK);
    assert_null(m);
    /* a NULL error pointer is allowed */
    assert_int_not_equal(rnnfx_model_load_memory(tiny, 2, NULL, &m, NULL), RNNFX_OK);
    assert_int_not_equal(rnnfx_model_save(NULL, path, &err), RNNFX_OK);
    assert_int_equal(access(path, F_OK), -1);
}

/* ---- round trip ---------------------------------------------------------- */

typedef struct {
    const char *name;
    RnnfxKind kind;
    int input_size, output_size, skip, sigmoid, n_layers;
    struct {
        RnnfxCell cell;
        int hidden, peephole, relu;
    } layers[3];
} RtSpec;

static const RtSpec RT[] = {
    {"lstm", RNNFX_KIND_AUDIO, 1, 1, 1, 0, 1, {{RNNFX_CELL_LSTM, 12, 0, 0}}},
    {"lstm_peephole_knobs", RNNFX_KIND_AUDIO, 3, 1, 0, 0, 2,
     {{RNNFX_CELL_LSTM, 9, 1, 0}, {RNNFX_CELL_LSTM, 5, 1, 0}}},
    {"gru", RNNFX_KIND_AUDIO, 2, 1, 1, 0, 1, {{RNNFX_CELL_GRU, 16, 0, 0}}},
    {"rnn_tanh", RNNFX_KIND_AUDIO, 1, 1, 0, 0, 1, {{RNNFX_CELL_RNN, 7, 0, 0}}},
    {"rnn_relu", RNNFX_KIND_AUDIO, 1, 1, 1, 0, 1, {{RNNFX_CELL_RNN, 6, 0, 1}}},
    {"mixed", RNNFX_KIND_AUDIO, 1, 1, 1, 0, 3,
     {{RNNFX_CELL_GRU, 4, 0, 0}, {RNNFX_CELL_LSTM, 3, 0, 0}, {RNNFX_CELL_RNN, 2, 0, 1}}},
    {"midi", RNNFX_KIND_MIDI_FRAMES, 7, 5, 0, 1, 1, {{RNNFX_CELL_GRU, 8, 0, 0}}},
};

/* Awkward floats that must survive text: signed zero, denormals, extremes,
 * values needing all 9 digits. */
static const float AWKWARD[] = {-0.0f, 0.0f, 1e-40f, -1.4e-45f, FLT_MIN, -FLT_MIN, FLT_MAX,
                                -FLT_MAX, 16777217.0f, 0.1f, 1.0f / 3.0f, 3.4028233e38f,
                                1.17549421e-38f, 123456.789f, -2.5e-20f};

static RnnfxModel *rt_model(const RtSpec *s, uint64_t seed)
{
    RnnfxArch a;
    memset(&a, 0, sizeof a);
    a.kind = s->kind;
    a.input_size = s->input_size;
    a.output_size = s->output_size;
    a.skip = s->skip;
    a.output_sigmoid = s->sigmoid;
    a.n_layers = s->n_layers;
    for (int l = 0; l < s->n_layers; l++) {
        a.layers[l].cell = s->layers[l].cell;
        a.layers[l].hidden_size = s->layers[l].hidden;
        a.layers[l].peephole = s->layers[l].peephole;
        a.layers[l].relu = s->layers[l].relu;
    }
    if (s->kind == RNNFX_KIND_AUDIO) {
        a.n_params = s->input_size - 1;
        for (int k = 0; k < a.n_params; k++) {
            snprintf(a.params[k].name, sizeof a.params[k].name, k ? "Tone \"hi\" \\ ü" : "drive");
            a.params[k].min = -1.5f + (float)k;
            a.params[k].max = 10.0f / 3.0f;
            a.params[k].def = 0.1f;
        }
    }
    RnnfxModel *m = rnnfx_test_random_model(&a, seed, 1.0f, 1);
    assert_non_null(m);
    size_t n;
    float *p = rnnfx_model_params(m, &n);
    for (size_t i = 0; i < n && i < sizeof AWKWARD / sizeof AWKWARD[0]; i++)
        p[(i * 7) % n] = AWKWARD[i];
    RnnfxMeta *meta = rnnfx_model_meta(m);
    meta->sample_rate = 44100.0;
    meta->input_gain = 0.70710677f;
    meta->output_gain = 1.9952623f;
    snprintf(meta->name, sizeof meta->name, "Amp \"%s\" – Zürich ♫ 音", s->name);
    snprintf(meta->author, sizeof meta->author, "O'Brien \\ back\\slash \"quoted\"");
    snprintf(meta->date, sizeof meta->date, "2026-11-22T07:00:00Z");
    snprintf(meta->description, sizeof meta->description,
             "line one\nline two\ttabbed\r\x01\x1f ctrl; emoji \xf0\x9f\x8e\xb8; </script> {\"a\":[1]}");
    snprintf(meta->source_format, sizeof meta->source_format, "rnnfx");
    meta->esr = 0.0123456789;
    snprintf(meta->training, sizeof meta->training,
             "{\"epochs\":12,\"loss\":\"esr+dc\",\"note\":\"a \\\"b\\\" c\"}");
    if (s->kind == RNNFX_KIND_MIDI_FRAMES) {
        meta->midi.steps_per_quarter = 2;
        meta->midi.low_key = 48;
        meta->midi.n_keys = s->output_size;
        meta->midi.n_beat_features = s->input_size - s->output_size;
    }
    RnnfxError err;
    if (rnnfx_model_finalize(m, &err) != RNNFX_OK)
        fail_msg("%s: finalize: %s", s->name, err.msg);
    return m;
}

static void assert_models_equal(const char *what, const RnnfxModel *a, const RnnfxModel *b)
{
    size_t na, nb;
    const float *pa = rnnfx_model_params_const(a, &na), *pb = rnnfx_model_params_const(b, &nb);
    assert_int_equal(na, nb);
    if (memcmp(pa, pb, na * sizeof(float)) != 0) {
        for (size_t i = 0; i < na; i++)
            if (memcmp(&pa[i], &pb[i], sizeof(float)) != 0)
                fail_msg("%s: parameter %zu changed: %.9g -> %.9g (bits differ)", what, i,
                         (double)pa[i], (double)pb[i]);
    }
    if (memcmp(rnnfx_model_arch(a), rnnfx_model_arch(b), sizeof(RnnfxArch)) != 0)
        fail_msg("%s: architecture changed", what);
    const RnnfxMeta *ma = rnnfx_model_meta_const(a), *mb = rnnfx_model_meta_const(b);
    assert_true(ma->sample_rate == mb->sample_rate);
    assert_memory_equal(&ma->input_gain, &mb->input_gain, sizeof(float));
    assert_memory_equal(&ma->output_gain, &mb->output_gain, sizeof(float));
    assert_true(ma->esr == mb->esr);
    assert_string_equal(ma->name, mb->name);
    assert_string_equal(ma->author, mb->author);
    assert_string_equal(ma->date, mb->date);
    assert_string_equal(ma->description, mb->description);
    assert_string_equal(ma->source_format, mb->source_format);
    assert_memory_equal(&ma->midi, &mb->midi, sizeof ma->midi);
}

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof RT / sizeof RT[0]; i++) {
        const RtSpec *s = &RT[i];
        RnnfxModel *m = rt_model(s, 40 + i);
        if (i == 0) { /* levels (NAM's metadata) when known */
            rnnfx_model_meta(m)->loudness_db = -37.84;
            rnnfx_model_meta(m)->input_level_dbu = 18.3;
            rnnfx_model_meta(m)->output_level_dbu = 12.3;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/rt-%s.json", g_tmp, s->name);
        RnnfxError err;
        RnnfxStatus st = rnnfx_model_save(m, path, &err);
        if (st != RNNFX_OK)
            fail_msg("%s: save: %s", s->name, err.msg);
        RnnfxModel *back = NULL;
        st = rnnfx_model_load(path, NULL, &back, &err);
        if (st != RNNFX_OK)
            fail_msg("%s: load of a saved model: %s", s->name, err.msg);
        assert_models_equal(s->name, m, back);
        /* the trainer's settings survive as JSON (json-c may respace them) */
        assert_true(strstr(rnnfx_model_meta_const(back)->training, "esr+dc") != NULL);
        assert_true(strstr(rnnfx_model_meta_const(back)->training, "epochs") != NULL);
        /* a second generation writes the identical text */
        char *t1 = NULL, *t2 = NULL;
        assert_int_equal(rnnfx_model_to_json(back, &t1, &err), RNNFX_OK);
        RnnfxModel *back2 = NULL;
        assert_int_equal(rnnfx_model_load_memory(t1, strlen(t1), NULL, &back2, &err), RNNFX_OK);
        assert_int_equal(rnnfx_model_to_json(back2, &t2, &err), RNNFX_OK);
        assert_string_equal(t1, t2);
        assert_models_equal(s->name, m, back2);
        const RnnfxMeta *bm = rnnfx_model_meta_const(back2);
        if (i == 0)
            assert_true(bm->loudness_db == -37.84 && bm->input_level_dbu == 18.3 &&
                        bm->output_level_dbu == 12.3);
        else
            assert_true(isnan(bm->loudness_db) && isnan(bm->input_level_dbu) &&
                        isnan(bm->output_level_dbu));
        /* the same text after a UTF-8 byte order mark reads the same */
        {
            size_t n1 = strlen(t1);
            char *bom = malloc(n1 + 4);
            assert_non_null(bom);
            memcpy(bom, "\xEF\xBB\xBF", 3);
            memcpy(bom + 3, t1, n1 + 1);
            RnnfxModel *bb = NULL;
            assert_int_equal(rnnfx_model_load_memory(bom, n1 + 3, NULL, &bb, &err), RNNFX_OK);
            assert_models_equal(s->name, m, bb);
            rnnfx_model_free(bb);
            free(bom);
        }
        /* the text is valid JSON numbers only: no nan/inf spellings */
        assert_null(strstr(t1, "nan"));
        assert_null(strstr(t1, "inf"));
        /* same output on both paths */
        float x[777], y1[777], y2[777];
        if (s->kind == RNNFX_KIND_AUDIO) {
            rnnfx_test_signal(x, 777, i);
            RnnfxInstance *a = rnnfx_instance_new(m), *b = rnnfx_instance_new(back);
            rnnfx_instance_process(a, x, y1, 777);
            rnnfx_instance_process(b, x, y2, 777);
            assert_memory_equal(y1, y2, sizeof y1);
            rnnfx_instance_free(a), rnnfx_instance_free(b);
        }
        free(t1), free(t2);
        rnnfx_model_free(back2);
        rnnfx_model_free(back);
        rnnfx_model_free(m);
        unlink(path);
    }
}

/* Every reference model reads, writes and reads back identically. */
static void test_round_trip_refs(void **state)
{
    (void)state;
    char dir[512];
    rnnfx_test_path(dir, sizeof dir, "tests/data/refs");
    RnnfxRefCase *cases = NULL;
    int n = rnnfx_test_read_manifest(dir, &cases);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        RnnfxModel *a = NULL, *b = NULL;
        RnnfxError err;
        assert_int_equal(rnnfx_model_load(cases[i].model, NULL, &a, &err), RNNFX_OK);
        char *text = NULL;
        assert_int_equal(rnnfx_model_to_json(a, &text, &err), RNNFX_OK);
        assert_int_equal(rnnfx_model_load_memory(text, strlen(text), NULL, &b, &err), RNNFX_OK);
        assert_models_equal(cases[i].name, a, b);
        free(text);
        rnnfx_model_free(a);
        rnnfx_model_free(b);
    }
    free(cases);
}

/* ---- atomic saving --------------------------------------------------------- */

static void test_atomic_save(void **state)
{
    (void)state;
    char dir[700], path[1024];
    snprintf(dir, sizeof dir, "%s/atomic", g_tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    RnnfxModel *m = rt_model(&RT[2], 90);
    RnnfxError err;

    /* a save leaves exactly one file */
    snprintf(path, sizeof path, "%s/model.json", dir);
    assert_int_equal(rnnfx_model_save(m, path, &err), RNNFX_OK);
    assert_int_equal(count_entries(dir), 1);
    size_t len1 = 0;
    char *first = read_all(path, &len1);
    assert_non_null(first);

    /* overwriting replaces the content, still one file */
    RnnfxModel *other = rt_model(&RT[0], 91);
    assert_int_equal(rnnfx_model_save(other, path, &err), RNNFX_OK);
    assert_int_equal(count_entries(dir), 1);
    RnnfxModel *back = NULL;
    assert_int_equal(rnnfx_model_load(path, NULL, &back, &err), RNNFX_OK);
    assert_models_equal("overwrite", other, back);
    rnnfx_model_free(back);
    assert_int_equal(rnnfx_model_save(m, path, &err), RNNFX_OK);

    /* a model that cannot be written faithfully (a NaN weight, as a
     * diverged training run makes) is refused, and the existing file is
     * left as it was */
    RnnfxModel *broken = NULL;
    assert_int_equal(rnnfx_model_clone(m, &broken, &err), RNNFX_OK);
    int rows, cols;
    rnnfx_model_tensor(broken, 0, RNNFX_T_WEIGHT_HH, &rows, &cols)[3] = NAN;
    memset(&err, 0, sizeof err);
    RnnfxStatus st = rnnfx_model_save(broken, path, &err);
    if (st == RNNFX_OK)
        fail_msg("saving a model with a NaN weight succeeded (the file cannot be read back)");
    assert_true(err.msg[0] != '\0');
    printf("  NaN weight: %s: %s\n", status_name(st), err.msg);
    size_t len2 = 0;
    char *after = read_all(path, &len2);
    assert_non_null(after);
    assert_int_equal(len1, len2);
    assert_memory_equal(first, after, len1);
    assert_int_equal(count_entries(dir), 1);
    char *text = (char *)"unchanged";
    assert_int_not_equal(rnnfx_model_to_json(broken, &text, &err), RNNFX_OK);
    free(after);
    rnnfx_model_free(broken);

    /* a directory in the way: fails, nothing left behind */
    snprintf(path, sizeof path, "%s/occupied", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_not_equal(rnnfx_model_save(m, path, &err), RNNFX_OK);
    assert_true(err.msg[0] != '\0');
    assert_int_equal(count_entries(dir), 2); /* model.json and the directory */
    assert_int_equal(count_entries(path), 0);

    /* a missing parent directory: fails, creates nothing */
    snprintf(path, sizeof path, "%s/missing/model.json", dir);
    assert_int_equal(rnnfx_model_save(m, path, &err), RNNFX_ERR_IO);
    assert_true(strstr(err.msg, "missing/model.json") != NULL);
    assert_int_equal(count_entries(dir), 2);

    /* the atomic writer itself */
    snprintf(path, sizeof path, "%s/raw.bin", dir);
    assert_int_equal(rnnfx_write_file_atomic(path, "abc", 3, &err), RNNFX_OK);
    size_t l = 0;
    char *raw = read_all(path, &l);
    assert_int_equal(l, 3);
    assert_memory_equal(raw, "abc", 3);
    free(raw);
    assert_int_equal(count_entries(dir), 3);

    free(first);
    rnnfx_model_free(m);
    rnnfx_model_free(other);
}

/* ---- unknown keys ------------------------------------------------------------- */

/* Loads `text` after adding "key": 1 to the object found by following `path`
 * (member names, or "#<i>" for array element i; "" = the root). */
static RnnfxStatus load_with_key(const char *text, const char *const *path, const char *key,
                                 RnnfxError *err)
{
    json_object *root = json_tokener_parse(text);
    assert_non_null(root);
    json_object *o = root;
    for (; *path; path++) {
        o = (*path)[0] == '#' ? json_object_array_get_idx(o, (size_t)atoi(*path + 1))
                              : json_object_object_get(o, *path);
        assert_non_null(o);
    }
    assert_true(json_object_is_type(o, json_type_object));
    json_object_object_add(o, key, json_object_new_int(1));
    const char *out = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
    RnnfxModel *m = NULL;
    memset(err, 0, sizeof *err);
    RnnfxStatus st = rnnfx_model_load_memory(out, strlen(out), NULL, &m, err);
    if (st == RNNFX_OK)
        assert_non_null(m);
    else
        assert_null(m);
    rnnfx_model_free(m);
    json_object_put(root);
    return st;
}

/* A file without "sample_rate" takes the rate the caller assumes
 * (RnnfxLoadOptions, the tools' --rate / --model-rate), else 48 kHz, and
 * says it was assumed; one with the key keeps its own. */
static void test_assumed_rate(void **state)
{
    (void)state;
    size_t len;
    char *base = read_data("tests/data/bad/good_base.json", &len);
    assert_non_null(base);
    json_object *root = json_tokener_parse(base);
    assert_non_null(root);
    json_object_object_del(root, "sample_rate");
    const char *text = json_object_to_json_string(root);
    RnnfxLoadOptions o44 = {44100.0};
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load_memory(text, strlen(text), &o44, &m, &err), RNNFX_OK);
    assert_true(rnnfx_model_meta_const(m)->sample_rate == 44100.0);
    assert_true(rnnfx_model_meta_const(m)->sample_rate_assumed);
    rnnfx_model_free(m);
    assert_int_equal(rnnfx_model_load_memory(text, strlen(text), NULL, &m, &err), RNNFX_OK);
    assert_true(rnnfx_model_meta_const(m)->sample_rate == 48000.0);
    rnnfx_model_free(m);
    /* the file's own rate wins over the assumption */
    assert_int_equal(rnnfx_model_load_memory(base, len, &o44, &m, &err), RNNFX_OK);
    assert_false(rnnfx_model_meta_const(m)->sample_rate_assumed);
    assert_true(rnnfx_model_meta_const(m)->sample_rate != 44100.0);
    rnnfx_model_free(m);
    json_object_put(root);
    free(base);
}

/* Trainer settings too long to keep are refused, not dropped (a save of
 * the model lost them without a word). */
static void test_long_training_refused(void **state)
{
    (void)state;
    size_t len;
    char *base = read_data("tests/data/bad/good_base.json", &len);
    assert_non_null(base);
    char notes[4201];
    memset(notes, 'x', 4200);
    notes[4200] = '\0';
    for (int big = 0; big < 2; big++) {
        json_object *root = json_tokener_parse(base);
        assert_non_null(root);
        json_object *md = NULL;
        assert_true(json_object_object_get_ex(root, "metadata", &md));
        json_object *tr = json_object_new_object();
        json_object_object_add(tr, "notes", json_object_new_string(big ? notes : "short"));
        json_object_object_add(md, "training", tr);
        const char *text = json_object_to_json_string(root);
        RnnfxModel *m = NULL;
        RnnfxError err;
        RnnfxStatus st = rnnfx_model_load_memory(text, strlen(text), NULL, &m, &err);
        if (big) {
            assert_int_equal(st, RNNFX_ERR_INVALID);
            assert_non_null(strstr(err.msg, "\"training\""));
            assert_non_null(strstr(err.msg, "at most 4095"));
        } else {
            assert_int_equal(st, RNNFX_OK);
            assert_non_null(strstr(rnnfx_model_meta_const(m)->training, "short"));
        }
        rnnfx_model_free(m);
        json_object_put(root);
    }
    free(base);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    size_t len;
    char *base = read_data("tests/data/bad/good_base.json", &len);
    char *midi = read_data("tests/data/bad/good_midi.json", &len);
    assert_non_null(base);
    assert_non_null(midi);
    static const char *const root[] = {NULL};
    static const char *const layer0[] = {"layers", "#0", NULL};
    static const char *const param0[] = {"params", "#0", NULL};
    static const char *const dense[] = {"dense", NULL};
    static const char *const meta[] = {"metadata", NULL};
    static const char *const training[] = {"metadata", "training", NULL};
    static const char *const grid[] = {"midi", NULL};
    const struct {
        const char *text;
        const char *const *path;
        const char *key;
        const char *where;
    } bad[] = {
        {NULL, root, "sample_rte", "model"},     {NULL, layer0, "hiden_size", "layer 0"},
        {NULL, param0, "defualt", "params[0]"},  {NULL, dense, "weights", "dense"},
        {NULL, meta, "licence", "metadata"},     {midi, grid, "n_keys", "midi"},
        {midi, root, "steps_per_quarter", "model"}, /* a midi key one level too high */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        RnnfxError err;
        RnnfxStatus st = load_with_key(bad[i].text ? bad[i].text : base, bad[i].path, bad[i].key,
                                       &err);
        printf("  unknown key %-18s -> %s\n", bad[i].key, err.msg);
        if (st != RNNFX_ERR_INVALID)
            fail_msg("\"%s\": status %s, expected INVALID (%s)", bad[i].key, status_name(st),
                     err.msg);
        if (!strstr(err.msg, bad[i].key) || !strstr(err.msg, bad[i].where))
            fail_msg("\"%s\": the message does not name the key and its object: %s", bad[i].key,
                     err.msg);
    }
    /* the message lists the right spelling */
    RnnfxError err;
    assert_int_equal(load_with_key(midi, grid, "n_keys", &err), RNNFX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "\"n_keys\""));
    assert_non_null(strstr(err.msg, "keys, beat_features"));
    /* the trainer's settings are free-form */
    assert_int_equal(load_with_key(base, training, "any_setting", &err), RNNFX_OK);
    /* a key of the wrong type is refused too, not skipped */
    {
        json_object *r = json_tokener_parse(base);
        json_object_object_add(json_object_object_get(r, "metadata"), "name",
                               json_object_new_int(5));
        const char *t = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN);
        RnnfxModel *m = NULL;
        assert_int_equal(rnnfx_model_load_memory(t, strlen(t), NULL, &m, &err), RNNFX_ERR_INVALID);
        assert_null(m);
        assert_non_null(strstr(err.msg, "\"name\""));
        json_object_put(r);
        r = json_tokener_parse(base);
        json_object_object_add(r, "output_activation", json_object_new_int(1));
        t = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN);
        assert_int_equal(rnnfx_model_load_memory(t, strlen(t), NULL, &m, &err), RNNFX_ERR_INVALID);
        assert_non_null(strstr(err.msg, "output_activation"));
        assert_non_null(strstr(err.msg, "string"));
        json_object_put(r);
    }
    /* foreign formats stay lenient: an AIDA-X file with keys of its own loads */
    free(base);
    char *aidax = read_data("tests/data/interop/chowcentaur_klon_gain0_gru8.json", &len);
    assert_non_null(aidax);
    static const char *const aidax_layer0[] = {"layers", "#0", NULL};
    assert_int_equal(load_with_key(aidax, root, "some_new_field", &err), RNNFX_OK);
    assert_int_equal(load_with_key(aidax, aidax_layer0, "some_new_field", &err), RNNFX_OK);
    free(aidax);
    free(midi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_long_training_refused),
        cmocka_unit_test(test_assumed_rate),
        cmocka_unit_test(test_truncation_and_corruption),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_refs),
        cmocka_unit_test(test_atomic_save),
    };
    return cmocka_run_group_tests_name("model_file", tests, setup_tmp, teardown_tmp);
}

/*
 * enginetest.c — helpers shared by the engine's tests (see enginetest.h).
 *
 * Test code: plain, checked, and free of global state. Not linked into the
 * engine or the tools.
 */
#include "enginetest.h"
#include "fast.h"
#include "model_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rnnfx_test_path(char *buf, size_t cap, const char *rel)
{
    const char *root = getenv("RNNFX_SRCDIR");
    if (!root || !*root)
        root = ".";
    snprintf(buf, cap, "%s/%s", root, rel);
    return buf;
}

float *rnnfx_test_read_f32(const char *path, size_t count)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    float *v = malloc((count ? count : 1) * sizeof *v);
    unsigned char *raw = malloc((count ? count : 1) * 4 + 1);
    int ok = v && raw;
    if (ok) {
        size_t got = fread(raw, 1, count * 4 + 1, f);
        ok = got == count * 4; /* one byte more than expected would be an error */
    }
    fclose(f);
    if (ok) {
        for (size_t i = 0; i < count; i++) {
            /* The files are little-endian whatever this machine is. */
            uint32_t u = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
                         (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
            memcpy(&v[i], &u, 4);
        }
    }
    free(raw);
    if (!ok) {
        free(v);
        return NULL;
    }
    return v;
}

int rnnfx_test_read_manifest(const char *dir, RnnfxRefCase **out)
{
    char path[600];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    RnnfxRefCase *cases = NULL;
    int n = 0, cap = 0, bad = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char name[96], model[256], input[256], expected[256];
        int in = 0, outn = 0;
        if (sscanf(line, "%95s %255s %255s %255s %d %d", name, model, input, expected, &in,
                   &outn) != 6 ||
            in < 1 || outn < 1) {
            bad = 1;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            RnnfxRefCase *grown = realloc(cases, (size_t)cap * sizeof *cases);
            if (!grown) {
                bad = 1;
                break;
            }
            cases = grown;
        }
        RnnfxRefCase *c = &cases[n++];
        snprintf(c->name, sizeof c->name, "%s", name);
        snprintf(c->model, sizeof c->model, "%s/%s", dir, model);
        snprintf(c->input, sizeof c->input, "%s/%s", dir, input);
        snprintf(c->expected, sizeof c->expected, "%s/%s", dir, expected);
        c->input_size = in;
        c->output_size = outn;
    }
    fclose(f);
    if (bad) {
        free(cases);
        return -1;
    }
    *out = cases;
    return n;
}

void rnnfx_test_rng_seed(RnnfxTestRng *r, uint64_t seed)
{
    r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    if (!r->s)
        r->s = 1;
}

double rnnfx_test_rng_uniform(RnnfxTestRng *r)
{
    /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    uint64_t v = r->s * 0x2545F4914F6CDD1Dull;
    return (double)(v >> 11) * (1.0 / 9007199254740992.0);
}

static void fill(RnnfxTestRng *r, float *p, size_t n, double amp)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((2.0 * rnnfx_test_rng_uniform(r) - 1.0) * amp);
}

RnnfxModel *rnnfx_test_random_model(const RnnfxArch *arch, uint64_t seed, float scale,
                                    int init_state)
{
    RnnfxModel *m = NULL;
    RnnfxError err;
    if (rnnfx_model_new(arch, &m, &err) != RNNFX_OK)
        return NULL;
    RnnfxTestRng r;
    rnnfx_test_rng_seed(&r, seed);
    for (int l = 0; l < arch->n_layers; l++) {
        double k = scale / sqrt((double)arch->layers[l].hidden_size);
        for (int t = RNNFX_T_WEIGHT_IH; t <= RNNFX_T_INITIAL_C; t++) {
            int rows = 0, cols = 0;
            float *p = rnnfx_model_tensor(m, l, (RnnfxTensor)t, &rows, &cols);
            if (!p)
                continue;
            if (t == RNNFX_T_INITIAL_H || t == RNNFX_T_INITIAL_C) {
                if (init_state)
                    fill(&r, p, (size_t)rows * (size_t)cols, 0.5);
            } else {
                fill(&r, p, (size_t)rows * (size_t)cols, k);
            }
        }
    }
    int rows = 0, cols = 0;
    double kd = 1.0 / sqrt((double)arch->layers[arch->n_layers - 1].hidden_size);
    float *w = rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_W, &rows, &cols);
    fill(&r, w, (size_t)rows * (size_t)cols, kd);
    float *b = rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_B, &rows, &cols);
    fill(&r, b, (size_t)rows * (size_t)cols, kd);
    if (arch->kind == RNNFX_KIND_MIDI_FRAMES) {
        RnnfxMeta *meta = rnnfx_model_meta(m);
        meta->midi.low_key = 21;
        meta->midi.n_keys = arch->output_size;
        meta->midi.n_beat_features = arch->input_size - arch->output_size;
    }
    if (rnnfx_model_finalize(m, &err) != RNNFX_OK) {
        rnnfx_model_free(m);
        return NULL;
    }
    return m;
}

void rnnfx_test_signal(float *x, size_t n, uint64_t seed)
{
    RnnfxTestRng r;
    rnnfx_test_rng_seed(&r, seed);
    double f1 = 80.0 + 300.0 * rnnfx_test_rng_uniform(&r);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / 48000.0;
        size_t phase = i % 2048; /* four parts per 2048 samples */
        double v;
        if (phase < 512)
            v = 0.7 * sin(2 * M_PI * f1 * t) * (double)phase / 512.0;
        else if (phase < 1024)
            v = 0.95 * exp(-(double)(phase - 512) / 300.0) *
                (sin(2 * M_PI * 2 * f1 * t) + 0.3 * (2 * rnnfx_test_rng_uniform(&r) - 1));
        else if (phase < 1536)
            v = 0.3 * (2 * rnnfx_test_rng_uniform(&r) - 1);
        else
            v = 0.0;
        x[i] = (float)(v > 1 ? 1 : v < -1 ? -1 : v);
    }
}

double rnnfx_test_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (isnan(d))
            return INFINITY;
        if (d > m)
            m = d;
    }
    return m;
}

int rnnfx_test_all_finite(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

int rnnfx_test_remove_tree(const char *dir)
{
    if (getenv("RNNFX_KEEP_TMP") || !dir[0]) return 0;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int rnnfx_test_save_gru_model(const char *path, uint64_t seed, int hidden, const char *name)
{
    return rnnfx_test_save_model(path, RNNFX_CELL_GRU, seed, hidden, name);
}

int rnnfx_test_save_model(const char *path, RnnfxCell cell, uint64_t seed, int hidden,
                          const char *name)
{
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, cell, hidden, 1);
    RnnfxModel *m = rnnfx_test_random_model(&arch, seed, 1.0f, 0);
    if (!m)
        return -1;
    RnnfxMeta *meta = rnnfx_model_meta(m);
    meta->sample_rate = 48000.0;
    snprintf(meta->name, sizeof meta->name, "%s", name);
    RnnfxError err;
    RnnfxStatus st = rnnfx_model_save(m, path, &err);
    rnnfx_model_free(m);
    if (st != RNNFX_OK) {
        fprintf(stderr, "rnnfx_test_save_model: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int rnnfx_test_use_isa(RnnfxModel *m, const char *isa)
{
    if (!rnnfx_fast_isa_available(isa)) return 0;
    setenv("RNNFX_ISA", isa, 1);
    RnnfxError err;
    RnnfxStatus st = rnnfx_model_finalize(m, &err);
    unsetenv("RNNFX_ISA");
    if (st != RNNFX_OK) {
        fprintf(stderr, "rnnfx_test_use_isa(%s): %s\n", isa, err.msg);
        abort();
    }
    return 1;
}

/*
 * fuzz_arch.c — structure-aware libFuzzer harness: every architecture the
 * loader accepts, with hostile weights, through the loader and the kernels.
 *
 * fuzz_model.c mutates file bytes, so most of its inputs stop at the JSON or
 * the shape checks and few reach the engine with a new shape. Here the bytes
 * are read as a model description instead — layer count, cell types, hidden
 * sizes from a table of the kernels' edge sizes (1, 15/16/17, 63/64/65,
 * ...), peephole and ReLU variants, knobs, skip, sigmoid, MIDI frame
 * layouts, gains, initial states, a weight scale up to 3e38 — and the rest
 * as weights. The harness writes that model as rnnfx JSON text and hands it
 * to the same checks as fuzz_model.c (model_checks.h): load, run both
 * kernel paths with NaN/Inf/huge samples, save and reload. A model the
 * loader accepts must never crash, hang or produce non-finite output.
 *
 * Sizes are capped (about 40 000 weights) so a run stays fast; the size
 * limits themselves are fuzz_model.c's and test_model_file's business.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by `make fuzz`; the
 * same entry point is linked without libFuzzer into tests/test_fuzz_corpus.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *p;
    size_t n, i;
} FuzzArchBytes;

/* The next byte, 0 once the input is used up (so any input is a model). */
static unsigned fuzz_arch_byte(FuzzArchBytes *b)
{
    return b->i < b->n ? b->p[b->i++] : 0u;
}

typedef struct {
    char *s;
    size_t len, cap;
} FuzzArchText;

static void fuzz_arch_printf(FuzzArchText *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void fuzz_arch_printf(FuzzArchText *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (t->len + (size_t)n + 1 > cap)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s)
            abort();
        t->s = s;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* Hidden sizes around the kernels' vector widths and unit groups. */
static const int fuzz_arch_sizes[] = {1,  2,  3,  4,  5,  7,  8,  9,  12, 15, 16,  17,  20,
                                      24, 31, 32, 33, 40, 47, 48, 49, 56, 63, 64,  65,  72,
                                      80, 96, 97, 128, 129};
#define FUZZ_ARCH_N_SIZES ((unsigned)(sizeof fuzz_arch_sizes / sizeof fuzz_arch_sizes[0]))
static const double fuzz_arch_scales[] = {0.05, 0.3, 1.0, 3.0, 30.0, 1.0e4, 1.0e30, 3.0e38};
static const double fuzz_arch_gains[] = {1.0, 0.5, 2.0, 0.0, -1.0, 1.0e-3, 1.0e3, 1.0e6};
#define FUZZ_ARCH_MAX_WEIGHTS 40000u

typedef struct {
    RnnfxCell cell;
    int hidden, peephole, relu, init;
} FuzzArchLayer;

static size_t fuzz_arch_count(const FuzzArchLayer *ly, int n_layers, int in, int out)
{
    size_t total = 0;
    for (int l = 0; l < n_layers; l++) {
        size_t g = (size_t)rnnfx_cell_gates(ly[l].cell), h = (size_t)ly[l].hidden;
        size_t x = (size_t)(l == 0 ? in : ly[l - 1].hidden);
        total += g * h * (x + h) + 2 * g * h + (ly[l].peephole ? 3 * h : 0);
        if (ly[l].init)
            total += ly[l].cell == RNNFX_CELL_LSTM ? 2 * h : h;
    }
    return total + (size_t)out * (size_t)ly[n_layers - 1].hidden + (size_t)out;
}

/* A weight from one byte: 0 stays 0, 255 is a denormal, the rest spread
 * over +-scale. */
static void fuzz_arch_values(FuzzArchText *t, FuzzArchBytes *b, const char *key, size_t n,
                             double scale)
{
    fuzz_arch_printf(t, "\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        unsigned v = fuzz_arch_byte(b);
        double w = v == 255 ? 1.0e-41 : ((double)v - 128.0) / 128.0 * scale;
        if (v == 0)
            w = 0.0;
        fuzz_arch_printf(t, "%s%.9g", i ? "," : "", (double)(float)w);
    }
    fuzz_arch_printf(t, "]");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzArchBytes b = {data, size, 0};
    FuzzArchLayer ly[RNNFX_MAX_LAYERS];
    memset(ly, 0, sizeof ly);

    unsigned h0 = fuzz_arch_byte(&b);
    int midi = (h0 & 0x0f) == 0x0f;
    int n_layers = 1 + (int)(fuzz_arch_byte(&b) % RNNFX_MAX_LAYERS);
    for (int l = 0; l < n_layers; l++) {
        unsigned c = fuzz_arch_byte(&b);
        ly[l].cell = (RnnfxCell)(c % 3);
        ly[l].hidden = fuzz_arch_sizes[fuzz_arch_byte(&b) % FUZZ_ARCH_N_SIZES];
        ly[l].peephole = ly[l].cell == RNNFX_CELL_LSTM && (c & 0x10);
        ly[l].relu = ly[l].cell == RNNFX_CELL_RNN && (c & 0x10);
        ly[l].init = (c & 0x20) != 0;
    }
    int n_params = 0, keys = 0, low_key = 0, beat = 0, steps = 1, in, out;
    if (midi) {
        static const int beats[4] = {0, 4, 2, 1};
        unsigned k = fuzz_arch_byte(&b);
        keys = k >= 240 ? 88 : 1 + (int)(k % 24);
        low_key = (int)(fuzz_arch_byte(&b) % (unsigned)(128 - keys + 1));
        unsigned s = fuzz_arch_byte(&b);
        beat = beats[s & 3];
        steps = 1 + (int)((s >> 2) % 4);
        in = keys + beat;
        out = keys;
    } else {
        n_params = (int)(fuzz_arch_byte(&b) % (RNNFX_MAX_PARAMS + 1));
        in = 1 + n_params;
        unsigned o = fuzz_arch_byte(&b);
        out = 1 + (o % 8 == 7 ? (int)((o / 8) % 4) : 0);
    }
    unsigned flags = fuzz_arch_byte(&b);
    int skip = !midi && (flags & 1);
    int sigmoid = midi || (flags & 2);
    double gin = fuzz_arch_gains[(flags >> 2) & 7], gout = fuzz_arch_gains[(flags >> 5) & 7];
    double scale = fuzz_arch_scales[fuzz_arch_byte(&b) % 8];

    /* keep a run fast: shrink the widest layer until the model is small */
    while (fuzz_arch_count(ly, n_layers, in, out) > FUZZ_ARCH_MAX_WEIGHTS) {
        int w = 0;
        for (int l = 1; l < n_layers; l++)
            if (ly[l].hidden > ly[w].hidden)
                w = l;
        ly[w].hidden = (ly[w].hidden + 1) / 2;
    }

    FuzzArchText t = {NULL, 0, 0};
    fuzz_arch_printf(&t,
                     "{\"format\":\"rnnfx-model\",\"version\":1,\"kind\":\"%s\","
                     "\"sample_rate\":48000,\"input_size\":%d,\"output_size\":%d,\"skip\":%s,"
                     "\"output_activation\":\"%s\",\"input_gain\":%.9g,\"output_gain\":%.9g,"
                     "\"params\":[",
                     midi ? "midi-frames" : "audio", in, out, skip ? "true" : "false",
                     sigmoid ? "sigmoid" : "linear", gin, gout);
    for (int k = 0; k < n_params; k++) {
        unsigned r = fuzz_arch_byte(&b);
        double lo = (r & 1) ? -1.0 : 0.0, hi = (r & 2) ? 10.0 : 1.0;
        double def = lo + (hi - lo) * (double)((r >> 2) % 5) / 4.0;
        fuzz_arch_printf(&t, "%s{\"name\":\"knob%d\",\"min\":%g,\"max\":%g,\"default\":%g}",
                         k ? "," : "", k, lo, hi, def);
    }
    fuzz_arch_printf(&t, "],\"layers\":[");
    for (int l = 0; l < n_layers; l++) {
        const FuzzArchLayer *L = &ly[l];
        size_t g = (size_t)rnnfx_cell_gates(L->cell), h = (size_t)L->hidden;
        size_t x = (size_t)(l == 0 ? in : ly[l - 1].hidden);
        fuzz_arch_printf(&t, "%s{\"type\":\"%s\",\"hidden_size\":%d,\"input_size\":%zu,", l ? "," : "",
                         rnnfx_cell_name(L->cell), L->hidden, x);
        if (L->cell == RNNFX_CELL_LSTM)
            fuzz_arch_printf(&t, "\"peephole\":%s,", L->peephole ? "true" : "false");
        if (L->cell == RNNFX_CELL_RNN)
            fuzz_arch_printf(&t, "\"nonlinearity\":\"%s\",", L->relu ? "relu" : "tanh");
        fuzz_arch_values(&t, &b, "weight_ih", g * h * x, scale);
        fuzz_arch_printf(&t, ",");
        fuzz_arch_values(&t, &b, "weight_hh", g * h * h, scale);
        fuzz_arch_printf(&t, ",");
        fuzz_arch_values(&t, &b, "bias_ih", g * h, scale);
        fuzz_arch_printf(&t, ",");
        fuzz_arch_values(&t, &b, "bias_hh", g * h, scale);
        if (L->peephole) {
            fuzz_arch_printf(&t, ",");
            fuzz_arch_values(&t, &b, "peephole_weights", 3 * h, scale);
        }
        if (L->init) {
            fuzz_arch_printf(&t, ",");
            fuzz_arch_values(&t, &b, "initial_h", h, scale);
            if (L->cell == RNNFX_CELL_LSTM) {
                fuzz_arch_printf(&t, ",");
                fuzz_arch_values(&t, &b, "initial_c", h, scale);
            }
        }
        fuzz_arch_printf(&t, "}");
    }
    fuzz_arch_printf(&t, "],\"dense\":{");
    fuzz_arch_values(&t, &b, "weight", (size_t)out * (size_t)ly[n_layers - 1].hidden, scale);
    fuzz_arch_printf(&t, ",");
    fuzz_arch_values(&t, &b, "bias", (size_t)out, scale);
    fuzz_arch_printf(&t, "}");
    if (midi)
        fuzz_arch_printf(&t,
                         ",\"midi\":{\"steps_per_quarter\":%d,\"low_key\":%d,\"keys\":%d,"
                         "\"beat_features\":%d}",
                         steps, low_key, keys, beat);
    fuzz_arch_printf(&t, "}\n");

    fuzz_model_check(t.s, t.len);
    free(t.s);
    return 0;
}

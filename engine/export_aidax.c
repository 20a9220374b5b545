/*
 * export_aidax.c — writes a model as an AIDA-X / RTNeural Keras-style JSON
 * file, with self-test vectors; also the small text writer the exporters
 * share.
 *
 * The layout is the inverse of import_aidax.c: PyTorch weight_ih [G*H][in]
 * becomes the Keras kernel [in][G*H] (transposed), GRU gate blocks r,z,n
 * become z,r,h, a GRU's two biases stay two rows [input, recurrent], an
 * LSTM's two biases are summed into one vector (Keras has one), and the
 * dense weights [out][H] become a kernel [H][out]. Gains are written in dB.
 *
 * The self-test vectors follow the AIDA-X trainer's convention
 * (selftest.h): rnnfx_selftest_signal() as input_batch, conditioning inputs
 * held at 0, output_batch = the network's output without gains, computed
 * with the reference kernels from the state the file describes (zero).
 *
 * Thread: not audio.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "model_file.h"
#include "selftest.h"

/* ---- text buffer ----------------------------------------------------------- */

void rnnfx_text_printf(RnnfxText *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        size_t room = t->cap - t->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->buf && (size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap - t->len <= (size_t)n)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->failed = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

/* See export.h. */
size_t rnnfx_utf8_len(const unsigned char *p)
{
    const unsigned c = p[0];
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0) ||
        (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* JSON text must be UTF-8: a byte that is not (a take named in Latin-1,
 * "dr\xffy.wav", in the description) made a file other JSON readers
 * refuse, so it is written as U+FFFD. */
void rnnfx_text_json_string(RnnfxText *t, const char *s)
{
    rnnfx_text_printf(t, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            rnnfx_text_printf(t, "\\%c", *p);
        else if (*p == '\n')
            rnnfx_text_printf(t, "\\n");
        else if (*p == '\t')
            rnnfx_text_printf(t, "\\t");
        else if (*p < 0x20)
            rnnfx_text_printf(t, "\\u%04x", *p);
        else if (*p < 0x80)
            rnnfx_text_printf(t, "%c", *p);
        else {
            size_t n = rnnfx_utf8_len(p);
            if (n == 0) {
                rnnfx_text_printf(t, "\\ufffd");
            } else {
                rnnfx_text_printf(t, "%.*s", (int)n, (const char *)p);
                p += n - 1;
            }
        }
    }
    rnnfx_text_printf(t, "\"");
}

void rnnfx_text_utf8_checked(RnnfxText *t, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p) {
        size_t n = rnnfx_utf8_len(p);
        if (n) {
            p += n;
            continue;
        }
        rnnfx_text_printf(t, "%.*s\\ufffd", (int)(p - run), (const char *)run);
        run = ++p;
    }
    rnnfx_text_printf(t, "%s", (const char *)run);
}

void rnnfx_text_float(RnnfxText *t, float v)
{
    /* 9 significant digits identify every float. Negative zero is spelt
     * "-0.0": "-0" is a valid JSON number, but readers (json-c among them)
     * take it for the integer 0 and the sign bit is lost. */
    if (v == 0.0f && signbit(v))
        rnnfx_text_printf(t, "-0.0");
    else
        rnnfx_text_printf(t, "%.9g", (double)v);
}

/* ---- AIDA-X ---------------------------------------------------------------------- */

void rnnfx_export_options_init(RnnfxExportOptions *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->selftest_steps = RNNFX_EXPORT_SELFTEST_STEPS;
}

static const RnnfxExportOptions *defaults_if_null(const RnnfxExportOptions *opts,
                                                  RnnfxExportOptions *store)
{
    if (opts)
        return opts;
    rnnfx_export_options_init(store);
    return store;
}

/* 1 if any layer's initial state is not all zero. */
static int has_initial_state(const RnnfxModel *m)
{
    const RnnfxArch *a = rnnfx_model_arch(m);
    for (int l = 0; l < a->n_layers; l++)
        for (int t = RNNFX_T_INITIAL_H; t <= RNNFX_T_INITIAL_C; t++) {
            int rows, cols;
            const float *v = rnnfx_model_tensor_const(m, l, (RnnfxTensor)t, &rows, &cols);
            for (int i = 0; v && i < rows * cols; i++)
                if (v[i] != 0.0f)
                    return 1;
        }
    return 0;
}

static int aidax_hidden_ok(int h)
{
    /* the sizes its model_variant.hpp instantiates (24 since 2023) */
    static const int sizes[] = {8, 12, 16, 20, 24, 32, 40, 64, 80};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        if (sizes[i] == h)
            return 1;
    return 0;
}

RnnfxStatus rnnfx_export_aidax_check(const RnnfxModel *m, const RnnfxExportOptions *opts,
                                     RnnfxError *err)
{
    RnnfxExportOptions store;
    opts = defaults_if_null(opts, &store);
    if (!m)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no model");
    const RnnfxArch *a = rnnfx_model_arch(m);
    const RnnfxMeta *meta = rnnfx_model_meta_const(m);
    const char *hint = " (pass the generic RTNeural option to write it anyway)";
    if (a->kind != RNNFX_KIND_AUDIO)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "a MIDI-frame model cannot be written as an AIDA-X file (audio models only)");
    if (a->output_sigmoid && !opts->generic_rtneural)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the model has a sigmoid output; AIDA-X captures have a linear output%s",
                          hint);
    for (int l = 0; l < a->n_layers; l++) {
        const RnnfxLayerDesc *d = &a->layers[l];
        if (d->cell == RNNFX_CELL_RNN)
            return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                              "layer %d is a vanilla RNN cell; AIDA-X/RTNeural files hold only LSTM "
                              "and GRU layers",
                              l);
        if (d->peephole)
            return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                              "layer %d is a peephole LSTM; AIDA-X/RTNeural LSTMs have no peephole "
                              "weights",
                              l);
    }
    if (a->input_size > 3 && !opts->generic_rtneural)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the model has %d inputs (audio + %d conditioning inputs); AIDA-X runs "
                          "at most 3 (audio + 2 knobs)%s",
                          a->input_size, a->input_size - 1, hint);
    if (a->n_layers != 1 && !opts->generic_rtneural)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the model has %d recurrent layers; the AIDA-X plugin runs one%s",
                          a->n_layers, hint);
    if (!aidax_hidden_ok(a->layers[0].hidden_size) && !opts->generic_rtneural)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the model has %d units; the AIDA-X plugin runs 8, 12, 16, 20, 24, 32, 40, "
                          "64 or 80%s",
                          a->layers[0].hidden_size, hint);
    if (a->output_size != 1 && !opts->generic_rtneural)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the model has %d outputs; AIDA-X captures have one%s", a->output_size,
                          hint);
    if (!(meta->input_gain > 0.0f) || !(meta->output_gain > 0.0f))
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "input/output gain %g/%g: AIDA-X writes gains in dB, which cannot hold "
                          "zero or a polarity inversion",
                          (double)meta->input_gain, (double)meta->output_gain);
    if (has_initial_state(m) && !opts->drop_initial_state)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the model starts from a learned (non-zero) state, which AIDA-X files "
                          "cannot hold; exporting anyway starts it from zero, which changes only "
                          "the first moments after a reset (use the drop-initial-state option)");
    return RNNFX_OK;
}

/* PyTorch gate block for Keras block kb (an involution: also the inverse). */
static int torch_block(RnnfxCell cell, int kb)
{
    return cell == RNNFX_CELL_GRU && kb < 2 ? 1 - kb : kb;
}

/* A PyTorch [G*H][cols] matrix as a Keras [cols][G*H] kernel. */
static void put_kernel(RnnfxText *t, const float *w, RnnfxCell cell, int h, int cols)
{
    int g = rnnfx_cell_gates(cell);
    rnnfx_text_printf(t, "[");
    for (int c = 0; c < cols; c++) {
        rnnfx_text_printf(t, "%s[", c ? ", " : "");
        for (int kb = 0; kb < g; kb++)
            for (int j = 0; j < h; j++) {
                if (kb || j)
                    rnnfx_text_printf(t, ", ");
                rnnfx_text_float(t, w[(size_t)(torch_block(cell, kb) * h + j) * cols + c]);
            }
        rnnfx_text_printf(t, "]");
    }
    rnnfx_text_printf(t, "]");
}

static void put_bias_row(RnnfxText *t, const float *b, const float *b2, RnnfxCell cell, int h)
{
    int g = rnnfx_cell_gates(cell);
    rnnfx_text_printf(t, "[");
    for (int kb = 0; kb < g; kb++)
        for (int j = 0; j < h; j++) {
            int r = torch_block(cell, kb) * h + j;
            if (kb || j)
                rnnfx_text_printf(t, ", ");
            /* adding a zero bias_hh would turn -0 into +0 */
            rnnfx_text_float(t, b2 && b2[r] != 0.0f ? b[r] + b2[r] : b[r]);
        }
    rnnfx_text_printf(t, "]");
}

static void put_floats(RnnfxText *t, const float *v, size_t n)
{
    rnnfx_text_printf(t, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            rnnfx_text_printf(t, ", ");
        rnnfx_text_float(t, v[i]);
    }
    rnnfx_text_printf(t, "]");
}

/* A gain as dB, with enough digits that reading it back gives the same
 * float factor. */
static void put_gain(RnnfxText *t, const char *key, float lin)
{
    if (lin == 1.0f)
        return;
    rnnfx_text_printf(t, "  \"%s\": %.17g,\n", key, 20.0 * log10((double)lin));
}

RnnfxStatus rnnfx_export_aidax(const RnnfxModel *model, const RnnfxExportOptions *opts,
                               char **out_text, size_t *out_len, RnnfxError *err)
{
    RnnfxExportOptions store;
    opts = defaults_if_null(opts, &store);
    if (!out_text)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out_text = NULL;
    if (out_len)
        *out_len = 0;
    RnnfxStatus st = rnnfx_export_aidax_check(model, opts, err);
    if (st != RNNFX_OK)
        return st;
    if (!rnnfx_model_is_finalized(model))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "the model is not finalized");
    /* n x output_size floats are allocated and written as text below */
    if (opts->selftest_steps > RNNFX_EXPORT_MAX_SELFTEST_STEPS)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "%zu self-test steps (limit %d)",
                          opts->selftest_steps, RNNFX_EXPORT_MAX_SELFTEST_STEPS);

    /* The file describes the model started from zero; with
     * drop_initial_state that differs from `model`, so work on a copy. */
    RnnfxModel *m = NULL;
    if ((st = rnnfx_model_clone(model, &m, err)) != RNNFX_OK)
        return st;
    const RnnfxArch *a = rnnfx_model_arch(m);
    /* AIDA-X files hold no knob ranges, and its plugin feeds 0..1: fold
     * each knob's min..max into layer 0's input column and bias, so that
     * W v + b with v = min + u (max - min) becomes (W span) u + (b + W min)
     * and the host's 0..1 covers what the capture was trained on. */
    int folded = 0;
    for (int k = 0; k < a->n_params; k++) {
        const float lo = a->params[k].min, span = a->params[k].max - a->params[k].min;
        if (lo == 0.0f && span == 1.0f)
            continue;
        int rows, cols;
        float *w = rnnfx_model_tensor(m, 0, RNNFX_T_WEIGHT_IH, &rows, &cols);
        float *b = rnnfx_model_tensor(m, 0, RNNFX_T_BIAS_IH, NULL, NULL);
        for (int r = 0; r < rows; r++) {
            float *wk = &w[(size_t)r * (size_t)cols + (size_t)(k + 1)];
            b[r] += *wk * lo;
            *wk *= span;
        }
        folded = 1;
    }
    if (has_initial_state(m)) {
        for (int l = 0; l < a->n_layers; l++)
            for (int tt = RNNFX_T_INITIAL_H; tt <= RNNFX_T_INITIAL_C; tt++) {
                int rows, cols;
                float *v = rnnfx_model_tensor(m, l, (RnnfxTensor)tt, &rows, &cols);
                if (v)
                    memset(v, 0, (size_t)rows * (size_t)cols * sizeof *v);
            }
        folded = 1;
    }
    if (folded && (st = rnnfx_model_finalize(m, err)) != RNNFX_OK) {
        rnnfx_model_free(m);
        return st;
    }
    const RnnfxMeta *meta = rnnfx_model_meta_const(m);

    RnnfxText t = {0};
    rnnfx_text_printf(&t, "{\n  \"in_shape\": [null, null, %d],\n", a->input_size);
    if (a->skip)
        rnnfx_text_printf(&t, "  \"in_skip\": 1,\n");
    put_gain(&t, "in_gain", meta->input_gain);
    put_gain(&t, "out_gain", meta->output_gain);
    rnnfx_text_printf(&t, "  \"layers\": [\n");
    for (int l = 0; l < a->n_layers; l++) {
        RnnfxCell cell = a->layers[l].cell;
        int h = a->layers[l].hidden_size, in = 0, rows;
        const float *w_ih = rnnfx_model_tensor_const(m, l, RNNFX_T_WEIGHT_IH, &rows, &in);
        const float *w_hh = rnnfx_model_tensor_const(m, l, RNNFX_T_WEIGHT_HH, NULL, NULL);
        const float *b_ih = rnnfx_model_tensor_const(m, l, RNNFX_T_BIAS_IH, NULL, NULL);
        const float *b_hh = rnnfx_model_tensor_const(m, l, RNNFX_T_BIAS_HH, NULL, NULL);
        rnnfx_text_printf(&t,
                          "    {\"type\": \"%s\", \"activation\": \"\", \"shape\": [null, null, %d], "
                          "\"weights\": [",
                          cell == RNNFX_CELL_LSTM ? "lstm" : "gru", h);
        put_kernel(&t, w_ih, cell, h, in);
        rnnfx_text_printf(&t, ", ");
        put_kernel(&t, w_hh, cell, h, h);
        rnnfx_text_printf(&t, ", ");
        if (cell == RNNFX_CELL_LSTM) {
            put_bias_row(&t, b_ih, b_hh, cell, h);
        } else {
            rnnfx_text_printf(&t, "[");
            put_bias_row(&t, b_ih, NULL, cell, h);
            rnnfx_text_printf(&t, ", ");
            put_bias_row(&t, b_hh, NULL, cell, h);
            rnnfx_text_printf(&t, "]");
        }
        rnnfx_text_printf(&t, "]},\n");
    }
    {
        int out = a->output_size, h = a->layers[a->n_layers - 1].hidden_size;
        const float *dw = rnnfx_model_tensor_const(m, -1, RNNFX_T_DENSE_W, NULL, NULL);
        const float *db = rnnfx_model_tensor_const(m, -1, RNNFX_T_DENSE_B, NULL, NULL);
        rnnfx_text_printf(&t,
                          "    {\"type\": \"dense\", \"activation\": \"%s\", \"shape\": [null, null, %d], "
                          "\"weights\": [[",
                          a->output_sigmoid ? "sigmoid" : "", out);
        for (int j = 0; j < h; j++) {
            rnnfx_text_printf(&t, "%s[", j ? ", " : "");
            for (int o = 0; o < out; o++) {
                if (o)
                    rnnfx_text_printf(&t, ", ");
                rnnfx_text_float(&t, dw[(size_t)o * h + j]);
            }
            rnnfx_text_printf(&t, "]");
        }
        rnnfx_text_printf(&t, "], ");
        put_floats(&t, db, (size_t)out);
        rnnfx_text_printf(&t, "]}\n  ],\n");
    }

    /* The rate as a JSON number, both at the top level and in the nested
     * metadata the current AIDA-X trainer writes: that trainer quotes it
     * ("48000"), but the AIDA-X plugin reads either place only when it is
     * a number and otherwise assumes 48 kHz, so a quoted 44100 would play
     * a 44.1 kHz capture at the wrong rate there. */
    rnnfx_text_printf(&t, "  \"samplerate\": %.10g,\n", meta->sample_rate);
    rnnfx_text_printf(&t, "  \"metadata\": {\"samplerate\": %.10g", meta->sample_rate);
    const struct {
        const char *key, *val;
    } strs[] = {{"name", meta->name},
                {"author", meta->author},
                {"date", meta->date},
                {"description", meta->description}};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        if (strs[i].val[0]) {
            rnnfx_text_printf(&t, ", \"%s\": ", strs[i].key);
            rnnfx_text_json_string(&t, strs[i].val);
        }
    if (meta->esr >= 0)
        rnnfx_text_printf(&t, ", \"esr\": %.9g", meta->esr);
    rnnfx_text_printf(&t, ", \"exported_by\": \"rnnfx\"}");

    if (opts->selftest_steps > 0) {
        size_t n = opts->selftest_steps;
        float *x = malloc(n * sizeof *x);
        float *y = malloc(n * (size_t)a->output_size * sizeof *y);
        if (!x || !y) {
            st = rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for self-test vectors");
        } else {
            rnnfx_selftest_signal(x, n);
            st = rnnfx_selftest_compute(m, x, 1, n, y, err);
        }
        if (st == RNNFX_OK) {
            rnnfx_text_printf(&t, ",\n  \"input_batch\": ");
            put_floats(&t, x, n);
            rnnfx_text_printf(&t, ",\n  \"output_batch\": ");
            if (a->output_size == 1) {
                put_floats(&t, y, n);
            } else {
                rnnfx_text_printf(&t, "[");
                for (size_t i = 0; i < n; i++) {
                    rnnfx_text_printf(&t, "%s", i ? ", " : "");
                    put_floats(&t, y + i * (size_t)a->output_size, (size_t)a->output_size);
                }
                rnnfx_text_printf(&t, "]");
            }
        }
        free(x);
        free(y);
    }
    rnnfx_text_printf(&t, "\n}\n");
    rnnfx_model_free(m);
    if (st == RNNFX_OK && t.failed)
        st = rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory writing the AIDA-X file");
    if (st != RNNFX_OK) {
        free(t.buf);
        return st;
    }
    *out_text = t.buf;
    if (out_len)
        *out_len = t.len;
    return RNNFX_OK;
}

RnnfxStatus rnnfx_export_aidax_file(const RnnfxModel *model, const RnnfxExportOptions *opts,
                                    const char *path, RnnfxError *err)
{
    char *text = NULL;
    size_t len = 0;
    RnnfxStatus st = rnnfx_export_aidax(model, opts, &text, &len, err);
    if (st == RNNFX_OK)
        st = rnnfx_write_file_atomic(path, text, len, err);
    free(text);
    return st;
}

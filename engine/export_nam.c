/*
 * export_nam.c — writes a model as a Neural Amp Modeler .nam file with the
 * LSTM architecture.
 *
 * The layout is the inverse of import_nam.c: per layer [W_ih | W_hh]
 * row-major (4H x (n_in + H), gates i, f, g, o as in PyTorch), the summed
 * bias, then the initial state h0 and c0; then the head (out x H) and its
 * bias. NAM's LSTM has no skip and no gains, and one hidden size for all
 * layers, so a model with a skip, conditioning inputs, mixed sizes or other
 * cells is refused with the reason. Input and output gains are folded into
 * the weights (y = og * (W_d h + b_d) and layer 0 sees ig * x), which is the
 * same function up to one float rounding per folded weight.
 *
 * Thread: not audio.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "model_file.h"

RnnfxStatus rnnfx_export_nam_check(const RnnfxModel *m, const RnnfxExportOptions *opts,
                                   RnnfxError *err)
{
    (void)opts;
    if (!m)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no model");
    const RnnfxArch *a = rnnfx_model_arch(m);
    if (a->kind != RNNFX_KIND_AUDIO)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "a MIDI-frame model cannot be written as a .nam file (audio models only)");
    for (int l = 0; l < a->n_layers; l++) {
        const RnnfxLayerDesc *d = &a->layers[l];
        if (d->cell != RNNFX_CELL_LSTM)
            return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                              "layer %d is a %s layer; .nam recurrent models are LSTM only (export "
                              "GRU captures to AIDA-X instead)",
                              l, d->cell == RNNFX_CELL_GRU ? "GRU" : "vanilla RNN");
        if (d->peephole)
            return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                              "layer %d is a peephole LSTM; NAM's LSTM has no peephole weights", l);
        if (d->hidden_size != a->layers[0].hidden_size)
            return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                              "layer %d has %d units but layer 0 has %d; a .nam LSTM has one "
                              "hidden size for all layers",
                              l, d->hidden_size, a->layers[0].hidden_size);
    }
    if (a->input_size != 1)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the model has %d conditioning input%s (knobs); NAM's LSTM takes the "
                          "audio only (AIDA-X files hold up to 2 knobs)",
                          a->input_size - 1, a->input_size == 2 ? "" : "s");
    if (a->output_size != 1)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the model has %d outputs; a .nam LSTM has one", a->output_size);
    if (a->skip)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the model adds its input to its output (skip); NAM's LSTM has no skip "
                          "connection (export it to AIDA-X, or train without skip)");
    if (a->output_sigmoid)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the model has a sigmoid output; NAM's LSTM head is linear");
    return RNNFX_OK;
}

RnnfxStatus rnnfx_export_nam(const RnnfxModel *m, const RnnfxExportOptions *opts,
                             char **out_text, size_t *out_len, RnnfxError *err)
{
    if (!out_text)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out_text = NULL;
    if (out_len)
        *out_len = 0;
    RnnfxStatus st = rnnfx_export_nam_check(m, opts, err);
    if (st != RNNFX_OK)
        return st;
    if (!rnnfx_model_is_finalized(m))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "the model is not finalized");
    const RnnfxArch *a = rnnfx_model_arch(m);
    const RnnfxMeta *meta = rnnfx_model_meta_const(m);
    int h = a->layers[0].hidden_size, gh = 4 * h;
    float ig = meta->input_gain, og = meta->output_gain;

    RnnfxText t = {0};
    rnnfx_text_printf(&t, "{\n  \"version\": \"0.5.4\",\n  \"metadata\": {");
    int first = 1;
    if (meta->name[0]) {
        rnnfx_text_printf(&t, "\"name\": ");
        rnnfx_text_json_string(&t, meta->name);
        first = 0;
    }
    if (meta->author[0]) {
        rnnfx_text_printf(&t, "%s\"modeled_by\": ", first ? "" : ", ");
        rnnfx_text_json_string(&t, meta->author);
        first = 0;
    }
    int y, mo, d, hh = 0, mi = 0, s = 0;
    if (meta->date[0] &&
        sscanf(meta->date, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &hh, &mi, &s) >= 3) {
        rnnfx_text_printf(&t,
                          "%s\"date\": {\"year\": %d, \"month\": %d, \"day\": %d, \"hour\": %d, "
                          "\"minute\": %d, \"second\": %d}",
                          first ? "" : ", ", y, mo, d, hh, mi, s);
        first = 0;
    }
    /* what NAM players act on (loudness to normalise, the levels to
     * calibrate), and what identifies the capture: its description (an
     * AIDA-X capture's licence is in it) and its error */
    static const char *const level[] = {"loudness", "input_level_dbu", "output_level_dbu"};
    const double lv[] = {meta->loudness_db, meta->input_level_dbu, meta->output_level_dbu};
    for (int k = 0; k < 3; k++)
        if (isfinite(lv[k])) {
            rnnfx_text_printf(&t, "%s\"%s\": %.17g", first ? "" : ", ", level[k], lv[k]);
            first = 0;
        }
    if (meta->description[0]) {
        rnnfx_text_printf(&t, "%s\"description\": ", first ? "" : ", ");
        rnnfx_text_json_string(&t, meta->description);
        first = 0;
    }
    if (meta->esr >= 0) {
        rnnfx_text_printf(&t, "%s\"training\": {\"validation_esr\": %.17g}", first ? "" : ", ",
                          meta->esr);
        first = 0;
    }
    rnnfx_text_printf(&t, "%s\"exported_by\": \"rnnfx\"},\n", first ? "" : ", ");
    rnnfx_text_printf(&t,
                      "  \"architecture\": \"LSTM\",\n  \"config\": {\"input_size\": 1, "
                      "\"hidden_size\": %d, \"num_layers\": %d},\n  \"weights\": [",
                      h, a->n_layers);
    int n_out = 0;
#define PUTW(v)                                                                                \
    do {                                                                                       \
        rnnfx_text_printf(&t, n_out++ % 8 ? ", " : (n_out > 1 ? ",\n    " : "\n    "));       \
        rnnfx_text_float(&t, (v));                                                             \
    } while (0)
    for (int l = 0; l < a->n_layers; l++) {
        int n_in = l == 0 ? 1 : h;
        const float *w_ih = rnnfx_model_tensor_const(m, l, RNNFX_T_WEIGHT_IH, NULL, NULL);
        const float *w_hh = rnnfx_model_tensor_const(m, l, RNNFX_T_WEIGHT_HH, NULL, NULL);
        const float *b_ih = rnnfx_model_tensor_const(m, l, RNNFX_T_BIAS_IH, NULL, NULL);
        const float *b_hh = rnnfx_model_tensor_const(m, l, RNNFX_T_BIAS_HH, NULL, NULL);
        const float *h0 = rnnfx_model_tensor_const(m, l, RNNFX_T_INITIAL_H, NULL, NULL);
        const float *c0 = rnnfx_model_tensor_const(m, l, RNNFX_T_INITIAL_C, NULL, NULL);
        for (int r = 0; r < gh; r++) {
            for (int c = 0; c < n_in; c++) {
                float w = w_ih[(size_t)r * n_in + c];
                PUTW(l == 0 && ig != 1.0f ? w * ig : w);
            }
            for (int c = 0; c < h; c++)
                PUTW(w_hh[(size_t)r * h + c]);
        }
        for (int r = 0; r < gh; r++)
            PUTW(b_hh[r] != 0.0f ? b_ih[r] + b_hh[r] : b_ih[r]); /* keep -0 as -0 */
        for (int i = 0; i < h; i++)
            PUTW(h0[i]);
        for (int i = 0; i < h; i++)
            PUTW(c0[i]);
    }
    const float *dw = rnnfx_model_tensor_const(m, -1, RNNFX_T_DENSE_W, NULL, NULL);
    const float *db = rnnfx_model_tensor_const(m, -1, RNNFX_T_DENSE_B, NULL, NULL);
    for (int j = 0; j < h; j++)
        PUTW(og != 1.0f ? dw[j] * og : dw[j]);
    PUTW(og != 1.0f ? db[0] * og : db[0]);
#undef PUTW
    rnnfx_text_printf(&t, "\n  ],\n  \"sample_rate\": %.10g\n}\n", meta->sample_rate);
    if (t.failed) {
        free(t.buf);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory writing the .nam file");
    }
    *out_text = t.buf;
    if (out_len)
        *out_len = t.len;
    return RNNFX_OK;
}

RnnfxStatus rnnfx_export_nam_file(const RnnfxModel *model, const RnnfxExportOptions *opts,
                                  const char *path, RnnfxError *err)
{
    char *text = NULL;
    size_t len = 0;
    RnnfxStatus st = rnnfx_export_nam(model, opts, &text, &len, err);
    if (st == RNNFX_OK)
        st = rnnfx_write_file_atomic(path, text, len, err);
    free(text);
    return st;
}

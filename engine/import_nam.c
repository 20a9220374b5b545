/*
 * import_nam.c — reads Neural Amp Modeler .nam files with the "LSTM"
 * architecture.
 *
 * The format: {"version", "architecture": "LSTM", "config": {"input_size",
 * "hidden_size", "num_layers"[, "in_channels", "out_channels"]}, "weights":
 * [flat list], "sample_rate" (optional), "metadata" (optional)}. The flat
 * list holds, for each layer l (input n_l = input_size for l = 0, else H):
 *     W = [W_ih | W_hh]   4H x (n_l + H), row-major, gates i, f, g, o
 *     b                   4H   (bias_ih + bias_hh, already summed)
 *     h0, c0              H each: the state the layer starts from
 * then the head: W_head (out x H, row-major) and b_head (out). There is no
 * skip connection and no gain. The summed bias goes to bias_ih (bias_hh
 * stays zero) and h0/c0 become the model's initial state, so a reset puts
 * the model where NAM starts it. (NAM players also run about half a second
 * of silence after loading; that is a player's choice, not part of the
 * model, and is left to ours.)
 *
 * Every other architecture (WaveNet, ConvNet, Linear, containers) is refused
 * with RNNFX_ERR_UNSUPPORTED naming what is supported. The weight count must
 * equal the count the config implies exactly.
 *
 * Thread: not audio.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "import.h"

static RnnfxStatus opt_int(struct json_object *cfg, const char *key, long lo, long hi, long def,
                           long *v, RnnfxError *err)
{
    char what[64];
    struct json_object *o = rnnfx_json_member(cfg, key);
    *v = def;
    if (!o)
        return RNNFX_OK;
    snprintf(what, sizeof what, "config.%s", key);
    return rnnfx_json_int(o, lo, hi, v, what, err);
}

static void read_meta(struct json_object *root, RnnfxMeta *meta)
{
    struct json_object *md = rnnfx_json_member(root, "metadata");
    rnnfx_json_copy_string(md, "name", meta->name, sizeof meta->name);
    rnnfx_json_copy_string(md, "modeled_by", meta->author, sizeof meta->author);

    struct json_object *date = rnnfx_json_member(md, "date");
    const char *keys[6] = {"year", "month", "day", "hour", "minute", "second"};
    int f[6] = {0};
    int ok = date != NULL;
    for (int k = 0; k < 6 && ok; k++) {
        double d;
        ok = rnnfx_json_number(rnnfx_json_member(date, keys[k]), &d) && isfinite(d) &&
             d >= 0 && d < 100000;
        if (ok)
            f[k] = (int)d;
    }
    if (ok && f[0] >= 1900 && f[0] <= 9999 && f[1] >= 1 && f[1] <= 12 && f[2] >= 1 && f[2] <= 31 &&
        f[3] < 24 && f[4] < 60 && f[5] < 61)
        snprintf(meta->date, sizeof meta->date, "%04d-%02d-%02dT%02d:%02d:%02d", f[0], f[1],
                 f[2], f[3], f[4], f[5]);

    /* a description (rnnfx's NAM export writes one: an AIDA-X capture's
     * licence travels in it), then gear and tone: they identify the capture */
    rnnfx_json_copy_string(md, "description", meta->description, sizeof meta->description);
    static const char *const gear[] = {"gear_make", "gear_model", "gear_type", "tone_type"};
    for (size_t k = 0; k < sizeof gear / sizeof *gear; k++) {
        char val[128];
        if (!rnnfx_json_copy_string(md, gear[k], val, sizeof val))
            continue;
        size_t len = strlen(meta->description);
        if (strstr(meta->description, gear[k]))
            continue; /* an rnnfx export's description has them already */
        snprintf(meta->description + len, sizeof meta->description - len, "%s%s: %s",
                 len ? "; " : "", gear[k], val);
    }
    double g;
    if (rnnfx_json_number(rnnfx_json_member(md, "gain"), &g) && isfinite(g) &&
        !strstr(meta->description, "gain: ")) {
        size_t len = strlen(meta->description);
        snprintf(meta->description + len, sizeof meta->description - len, "%sgain: %g",
                 len ? "; " : "", g);
    }
    /* the levels NAM players normalise and calibrate with */
    static const char *const level[] = {"loudness", "input_level_dbu", "output_level_dbu"};
    double *dst[] = {&meta->loudness_db, &meta->input_level_dbu, &meta->output_level_dbu};
    for (int k = 0; k < 3; k++)
        if (rnnfx_json_number(rnnfx_json_member(md, level[k]), &g) && isfinite(g) &&
            fabs(g) < 1000)
            *dst[k] = g;
    double esr;
    struct json_object *training = rnnfx_json_member(md, "training");
    if (rnnfx_json_number(rnnfx_json_member(training, "validation_esr"), &esr) && isfinite(esr) &&
        esr >= 0)
        meta->esr = esr;
    else if (rnnfx_json_number(rnnfx_json_member(md, "validation_esr"), &esr) && isfinite(esr) &&
             esr >= 0)
        meta->esr = esr;
    snprintf(meta->source_format, sizeof meta->source_format, "nam");
}

RnnfxStatus rnnfx_import_nam(struct json_object *root, const RnnfxLoadOptions *opts,
                             RnnfxModel **out, RnnfxError *err)
{
    RnnfxStatus st;
    long in_size, hidden, n_layers, in_ch, out_ch;

    if (!out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out = NULL;
    struct json_object *arch_o = rnnfx_json_member(root, "architecture");
    if (!arch_o || !json_object_is_type(arch_o, json_type_string))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "\"architecture\" is missing or not a string");
    const char *arch_name = json_object_get_string(arch_o);
    if (strcmp(arch_name, "LSTM") != 0)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "this is a Neural Amp Modeler \"%s\" model; rnnfx runs only the \"LSTM\" "
                          "architecture of .nam files (WaveNet, ConvNet, Linear and container "
                          "models are not supported)",
                          arch_name);
    struct json_object *cfg = rnnfx_json_member(root, "config");
    if (!cfg || !json_object_is_type(cfg, json_type_object))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "\"config\" is missing or not an object");
    if ((st = rnnfx_json_size(rnnfx_json_member(cfg, "input_size"), RNNFX_MAX_PARAMS + 1,
                             &in_size, "config.input_size", err)) != RNNFX_OK)
        return st;
    if ((st = rnnfx_json_size(rnnfx_json_member(cfg, "hidden_size"), RNNFX_MAX_HIDDEN, &hidden,
                             "config.hidden_size", err)) != RNNFX_OK)
        return st;
    if ((st = rnnfx_json_size(rnnfx_json_member(cfg, "num_layers"), RNNFX_MAX_LAYERS, &n_layers,
                             "config.num_layers", err)) != RNNFX_OK)
        return st;
    if ((st = opt_int(cfg, "in_channels", 1, RNNFX_MAX_INPUTS, 1, &in_ch, err)) != RNNFX_OK)
        return st;
    if ((st = opt_int(cfg, "out_channels", 1, RNNFX_MAX_OUTPUTS, 1, &out_ch, err)) != RNNFX_OK)
        return st;
    if (in_ch != 1)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "config.in_channels is %ld (supported: 1 audio channel)", in_ch);

    struct json_object *w = rnnfx_json_member(root, "weights");
    long n_w = rnnfx_json_array_len(w);
    if (n_w < 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "\"weights\" is missing or not an array");
    size_t expect = 0;
    for (long l = 0; l < n_layers; l++) {
        size_t n_in = (size_t)(l == 0 ? in_size : hidden), h = (size_t)hidden;
        expect += 4 * h * (n_in + h) + 4 * h + 2 * h;
    }
    expect += (size_t)out_ch * (size_t)hidden + (size_t)out_ch;
    if ((size_t)n_w != expect)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "\"weights\" has %ld values, but an LSTM with %ld layer%s of %ld units "
                          "and %ld input%s needs %zu",
                          n_w, n_layers, n_layers == 1 ? "" : "s", hidden, in_size,
                          in_size == 1 ? "" : "s", expect);

    RnnfxArch arch;
    memset(&arch, 0, sizeof arch);
    arch.kind = RNNFX_KIND_AUDIO;
    arch.input_size = (int)in_size;
    arch.output_size = (int)out_ch;
    arch.n_layers = (int)n_layers;
    rnnfx_import_unnamed_knobs(&arch);
    for (int l = 0; l < arch.n_layers; l++) {
        arch.layers[l].cell = RNNFX_CELL_LSTM;
        arch.layers[l].hidden_size = (int)hidden;
    }
    RnnfxModel *m = NULL;
    if ((st = rnnfx_model_new(&arch, &m, err)) != RNNFX_OK)
        return st;
    float *flat = malloc(expect * sizeof *flat);
    if (!flat) {
        rnnfx_model_free(m);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory reading %zu weights", expect);
    }
    st = rnnfx_json_floats(w, expect, flat, "weights", err);
    if (st == RNNFX_OK) {
        const float *p = flat;
        int h = (int)hidden, gh = 4 * h;
        for (int l = 0; l < arch.n_layers; l++) {
            int n_in = l == 0 ? (int)in_size : h;
            float *w_ih = rnnfx_model_tensor(m, l, RNNFX_T_WEIGHT_IH, NULL, NULL);
            float *w_hh = rnnfx_model_tensor(m, l, RNNFX_T_WEIGHT_HH, NULL, NULL);
            for (int r = 0; r < gh; r++) {
                memcpy(w_ih + (size_t)r * n_in, p, (size_t)n_in * sizeof *p);
                memcpy(w_hh + (size_t)r * h, p + n_in, (size_t)h * sizeof *p);
                p += n_in + h;
            }
            memcpy(rnnfx_model_tensor(m, l, RNNFX_T_BIAS_IH, NULL, NULL), p, (size_t)gh * sizeof *p);
            p += gh;
            memcpy(rnnfx_model_tensor(m, l, RNNFX_T_INITIAL_H, NULL, NULL), p, (size_t)h * sizeof *p);
            p += h;
            memcpy(rnnfx_model_tensor(m, l, RNNFX_T_INITIAL_C, NULL, NULL), p, (size_t)h * sizeof *p);
            p += h;
        }
        memcpy(rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_W, NULL, NULL), p,
               (size_t)out_ch * (size_t)h * sizeof *p);
        p += (size_t)out_ch * (size_t)h;
        memcpy(rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_B, NULL, NULL), p, (size_t)out_ch * sizeof *p);
    }
    free(flat);

    if (st == RNNFX_OK) {
        RnnfxMeta *meta = rnnfx_model_meta(m);
        double rate;
        struct json_object *sr = rnnfx_json_member(root, "sample_rate");
        double d;
        /* NAM writes -1 (or nothing) when the rate is unknown */
        int got = rnnfx_json_number(sr, &d) && d <= 0 ? 0 : rnnfx_json_sample_rate(sr, &rate);
        meta->sample_rate = opts && opts->default_sample_rate > 0 ? opts->default_sample_rate
                                                                  : RNNFX_NAM_DEFAULT_RATE;
        if (got < 0)
            st = rnnfx_fail(err, RNNFX_ERR_INVALID, "\"sample_rate\" (%s) is not a sample rate in Hz",
                            json_object_to_json_string(sr));
        else if (got > 0)
            meta->sample_rate = rate;
        meta->sample_rate_assumed = got == 0;
        read_meta(root, meta);
    }
    return rnnfx_import_finish(m, st, out, err);
}

/*
 * import_coreaudioml.c — reads Automated-GuitarAmpModelling ("CoreAudioML")
 * JSON files, the format GuitarML Proteus and NeuralPi play.
 *
 * The format: {"model_data": {"model": "SimpleRNN", "input_size",
 * "output_size", "unit_type": "LSTM"|"GRU"|"RNN", "num_layers",
 * "hidden_size", "skip", "bias_fl"}, "state_dict": {"rec.weight_ih_l0", ...,
 * "lin.weight", "lin.bias"}}. The tensors are PyTorch's own, so they map
 * onto the engine's layout (model.h) unchanged: weight_ih (G*H x in),
 * weight_hh (G*H x H), separate bias_ih and bias_hh (kept separate: for a
 * GRU b_hn sits inside r * (...), and for an LSTM keeping both costs
 * nothing), lin.weight (out x H), lin.bias (out).
 *
 * Semantics taken from the SimpleRNN these files come from:
 *   - skip = k adds input channels 0..k-1 to the output; only k = 0 or 1
 *     with the audio channel first is something the engine expresses;
 *   - input channels after the first are conditioning knobs (normalised
 *     0..1 by the trainers);
 *   - "bias_fl" says whether the linear layer has a bias; the recurrent
 *     layer always has both biases;
 *   - no sample rate is stored; GuitarML's players run these at 44.1 kHz,
 *     which is the default unless the caller's options say otherwise (a
 *     sample-rate key, if some exporter adds one, is honoured).
 *
 * Thread: not audio.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "import.h"

static struct json_object *tensor(struct json_object *sd, const char *name)
{
    return rnnfx_json_member(sd, name);
}

/* Reads a PyTorch 2-D tensor (rows x cols) or, for a vector, a flat list.
 * A 2-D tensor with one column may also be written flat by some exporters;
 * accept that too since there is no ambiguity. */
static RnnfxStatus read_tensor(struct json_object *sd, const char *name, int rows, int cols,
                               float *dst, RnnfxError *err)
{
    struct json_object *t = tensor(sd, name);
    char what[96];
    snprintf(what, sizeof what, "state_dict \"%s\"", name);
    if (!t)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is missing", what);
    if (rows == 1 && cols >= 1) {
        long n = rnnfx_json_array_len(t);
        if (n == 1 && rnnfx_json_array_len(json_object_array_get_idx(t, 0)) >= 0)
            return rnnfx_json_matrix(t, 1, cols, dst, what, err);
        return rnnfx_json_floats(t, (size_t)cols, dst, what, err);
    }
    long r = rnnfx_json_array_len(t);
    long c = r > 0 ? rnnfx_json_array_len(json_object_array_get_idx(t, 0)) : -1;
    if (r >= 0 && c >= 0 && (r != rows || c != cols))
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "%s is %ld x %ld, expected %d x %d from model_data", what, r, c, rows,
                          cols);
    if (cols == 1 && c < 0 && r == rows)
        return rnnfx_json_floats(t, (size_t)rows, dst, what, err);
    return rnnfx_json_matrix(t, rows, cols, dst, what, err);
}

RnnfxStatus rnnfx_import_coreaudioml(struct json_object *root, const RnnfxLoadOptions *opts,
                                     RnnfxModel **out, RnnfxError *err)
{
    RnnfxStatus st;
    long in_size, out_size = 1, hidden, n_layers = 1, skip = 0;

    if (!out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out = NULL;
    struct json_object *md = rnnfx_json_member(root, "model_data");
    struct json_object *sd = rnnfx_json_member(root, "state_dict");
    if (!md || !json_object_is_type(md, json_type_object))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "\"model_data\" is missing or not an object");
    if (!sd || !json_object_is_type(sd, json_type_object))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "\"state_dict\" is missing or not an object");

    struct json_object *model_o = rnnfx_json_member(md, "model");
    if (model_o && (!json_object_is_type(model_o, json_type_string) ||
                    strcmp(json_object_get_string(model_o), "SimpleRNN") != 0))
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "model_data.model is %s (supported: \"SimpleRNN\" with an LSTM, GRU or "
                          "RNN unit)",
                          json_object_to_json_string(model_o));

    struct json_object *unit_o = rnnfx_json_member(md, "unit_type");
    const char *unit = unit_o && json_object_is_type(unit_o, json_type_string)
                           ? json_object_get_string(unit_o)
                           : NULL;
    RnnfxCell cell;
    if (!unit)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "model_data.unit_type is missing");
    if (strcmp(unit, "LSTM") == 0)
        cell = RNNFX_CELL_LSTM;
    else if (strcmp(unit, "GRU") == 0)
        cell = RNNFX_CELL_GRU;
    else if (strcmp(unit, "RNN") == 0)
        cell = RNNFX_CELL_RNN;
    else
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "model_data.unit_type is \"%s\" (supported: \"LSTM\", \"GRU\", \"RNN\")",
                          unit);

    if ((st = rnnfx_json_size(rnnfx_json_member(md, "input_size"), RNNFX_MAX_PARAMS + 1,
                             &in_size, "model_data.input_size", err)) != RNNFX_OK)
        return st;
    if ((st = rnnfx_json_size(rnnfx_json_member(md, "hidden_size"), RNNFX_MAX_HIDDEN, &hidden,
                             "model_data.hidden_size", err)) != RNNFX_OK)
        return st;
    if (rnnfx_json_member(md, "output_size") &&
        (st = rnnfx_json_size(rnnfx_json_member(md, "output_size"), RNNFX_MAX_OUTPUTS,
                             &out_size, "model_data.output_size", err)) != RNNFX_OK)
        return st;
    if (rnnfx_json_member(md, "num_layers") &&
        (st = rnnfx_json_size(rnnfx_json_member(md, "num_layers"), RNNFX_MAX_LAYERS, &n_layers,
                             "model_data.num_layers", err)) != RNNFX_OK)
        return st;
    if (rnnfx_json_member(md, "skip") &&
        (st = rnnfx_json_int(rnnfx_json_member(md, "skip"), 0, 1000, &skip, "model_data.skip",
                             err)) != RNNFX_OK)
        return st;
    if (skip > 1)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "model_data.skip is %ld (supported: 0 or 1, adding the audio input to "
                          "the output)",
                          skip);
    int lin_bias = 1;
    struct json_object *bias_fl = rnnfx_json_member(md, "bias_fl");
    if (bias_fl && json_object_is_type(bias_fl, json_type_boolean))
        lin_bias = json_object_get_boolean(bias_fl);

    /* A state_dict naming more layers than model_data declares is a
     * contradiction, not extra data to ignore. */
    char name[64];
    snprintf(name, sizeof name, "rec.weight_ih_l%ld", n_layers);
    if (tensor(sd, name))
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "state_dict has \"%s\" but model_data.num_layers is %ld", name, n_layers);

    RnnfxArch arch;
    memset(&arch, 0, sizeof arch);
    arch.kind = RNNFX_KIND_AUDIO;
    arch.input_size = (int)in_size;
    arch.output_size = (int)out_size;
    arch.n_layers = (int)n_layers;
    arch.skip = (int)skip;
    rnnfx_import_unnamed_knobs(&arch);
    for (int l = 0; l < arch.n_layers; l++) {
        arch.layers[l].cell = cell;
        arch.layers[l].hidden_size = (int)hidden;
    }

    RnnfxModel *m = NULL;
    if ((st = rnnfx_model_new(&arch, &m, err)) != RNNFX_OK)
        return st;
    int gh = rnnfx_cell_gates(cell) * (int)hidden;
    for (int l = 0; l < arch.n_layers && st == RNNFX_OK; l++) {
        int in = l == 0 ? (int)in_size : (int)hidden;
        snprintf(name, sizeof name, "rec.weight_ih_l%d", l);
        st = read_tensor(sd, name, gh, in, rnnfx_model_tensor(m, l, RNNFX_T_WEIGHT_IH, NULL, NULL),
                         err);
        if (st != RNNFX_OK)
            break;
        snprintf(name, sizeof name, "rec.weight_hh_l%d", l);
        st = read_tensor(sd, name, gh, (int)hidden,
                         rnnfx_model_tensor(m, l, RNNFX_T_WEIGHT_HH, NULL, NULL), err);
        if (st != RNNFX_OK)
            break;
        snprintf(name, sizeof name, "rec.bias_ih_l%d", l);
        st = read_tensor(sd, name, 1, gh, rnnfx_model_tensor(m, l, RNNFX_T_BIAS_IH, NULL, NULL),
                         err);
        if (st != RNNFX_OK)
            break;
        snprintf(name, sizeof name, "rec.bias_hh_l%d", l);
        st = read_tensor(sd, name, 1, gh, rnnfx_model_tensor(m, l, RNNFX_T_BIAS_HH, NULL, NULL),
                         err);
    }
    if (st == RNNFX_OK)
        st = read_tensor(sd, "lin.weight", (int)out_size, (int)hidden,
                         rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_W, NULL, NULL), err);
    if (st == RNNFX_OK && (lin_bias || tensor(sd, "lin.bias")))
        st = read_tensor(sd, "lin.bias", 1, (int)out_size,
                         rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_B, NULL, NULL), err);

    if (st == RNNFX_OK) {
        RnnfxMeta *meta = rnnfx_model_meta(m);
        double rate;
        int got = 0;
        meta->sample_rate = opts && opts->default_sample_rate > 0 ? opts->default_sample_rate
                                                                  : RNNFX_COREAUDIOML_DEFAULT_RATE;
        const char *keys[] = {"sample_rate", "samplerate"};
        for (int k = 0; k < 2 && got == 0; k++) {
            struct json_object *o = rnnfx_json_member(md, keys[k]);
            if (!o)
                o = rnnfx_json_member(root, keys[k]);
            got = rnnfx_json_sample_rate(o, &rate);
            if (got < 0)
                st = rnnfx_fail(err, RNNFX_ERR_INVALID, "\"%s\" (%s) is not a sample rate in Hz",
                                keys[k], json_object_to_json_string(o));
            else if (got > 0)
                meta->sample_rate = rate;
        }
        meta->sample_rate_assumed = got == 0;
        rnnfx_json_copy_string(root, "name", meta->name, sizeof meta->name);
        rnnfx_json_copy_string(root, "author", meta->author, sizeof meta->author);
        rnnfx_json_copy_string(root, "description", meta->description, sizeof meta->description);
        snprintf(meta->source_format, sizeof meta->source_format, "coreaudioml");
    }
    return rnnfx_import_finish(m, st, out, err);
}

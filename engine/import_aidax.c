/*
 * import_aidax.c — reads AIDA-X / RTNeural "Keras-style" JSON model files.
 *
 * The format: {"in_shape": [null, null, N], "in_skip": 0|1, "in_gain": dB,
 * "out_gain": dB, "layers": [{"type", "activation", "shape", "weights"}...],
 * plus metadata in several spellings}. Layers are written the way Keras
 * stores them, which differs from the engine's PyTorch layout (model.h):
 *
 *   lstm: weights = [kernel (in x 4H), recurrent (H x 4H), bias (4H)]
 *         gate blocks i, f, c, o (= PyTorch i, f, g, o); the kernels are
 *         transposed relative to PyTorch and the bias is already
 *         bias_ih + bias_hh, so it goes to bias_ih and bias_hh stays zero.
 *   gru:  weights = [kernel (in x 3H), recurrent (H x 3H), bias (2 x 3H)]
 *         gate blocks z, r, h; bias row 0 is the input bias, row 1 the
 *         recurrent one. Keras' reset_after=True GRU is exactly PyTorch's
 *         (n = tanh(W_n x + b_in + r * (U_n h + b_hn)), h' = (1-z) n + z h),
 *         so the only work is reordering blocks z,r,h -> r,z,n and
 *         transposing. The two bias rows must not be summed: b_hn sits
 *         inside r * (...). A single bias row means reset_after=False,
 *         a different cell, refused.
 *   dense: weights = [kernel (H x out), bias (out)].
 *
 * What is accepted: one or more lstm/gru layers followed by exactly one dense
 * layer with a linear (or sigmoid) activation. The "activation" key of a
 * recurrent layer carries no meaning (RTNeural ignores it; AIDA-X exports
 * write ""), so it is ignored. Gains are in dB and become the model's linear
 * input_gain/output_gain, whose equation (model.h) is AIDA-X's:
 * y = og * (f(ig*x) + ig*x) with skip, og * f(ig*x) without.
 *
 * This file does not verify input_batch/output_batch; selftest.c does.
 *
 * Thread: not audio.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "import.h"

#define AIDAX_SUPPORTED                                                                        \
    "supported: one or more \"lstm\"/\"gru\" layers followed by one \"dense\" layer with a "   \
    "linear or sigmoid activation"

typedef struct {
    RnnfxCell cell;
    int hidden;
    struct json_object *weights;
} RecLayer;

/* rows and columns of a nested array (columns of its first row; -1 if not a
 * matrix). */
static void matrix_dims(struct json_object *a, long *rows, long *cols)
{
    *rows = rnnfx_json_array_len(a);
    *cols = -1;
    if (*rows > 0)
        *cols = rnnfx_json_array_len(json_object_array_get_idx(a, 0));
}

/* The last element of a Keras shape ([null, null, N] or [null, N]). */
static RnnfxStatus shape_last(struct json_object *shape, long hi, long *v, const char *what,
                              RnnfxError *err)
{
    long n = rnnfx_json_array_len(shape);
    if (n < 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is missing or not an array", what);
    if (n == 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is empty", what);
    return rnnfx_json_size(json_object_array_get_idx(shape, (size_t)n - 1), hi, v, what, err);
}

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* Reads a gain in dB (absent = 0 dB) as a linear factor. */
static RnnfxStatus read_gain(struct json_object *root, const char *key, float *lin,
                             RnnfxError *err)
{
    struct json_object *o = rnnfx_json_member(root, key);
    double db;
    *lin = 1.0f;
    if (!o || json_object_is_type(o, json_type_null))
        return RNNFX_OK;
    if (!rnnfx_json_number(o, &db))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "\"%s\" is not a number (a gain in dB)", key);
    if (!isfinite(db) || fabs(db) > 120.0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "\"%s\" is %g dB (supported: -120 to +120 dB)", key, db);
    *lin = (float)pow(10.0, db / 20.0);
    return RNNFX_OK;
}

/* Checks a kernel's dimensions before reading it, so that a shape that
 * contradicts its weights gets a message about the shape, not a row count.
 * rows_are names what the rows should match. Columns for the other cell
 * type's gates at the declared units, where the recurrent kernel has as
 * many rows as the declared units (units_ok), name the type: a layer
 * relabelled "gru" with LSTM weights (4 x 12 columns) read as "weights for
 * 16 units" and sent the user to edit "shape". */
static RnnfxStatus check_kernel(struct json_object *k, const char *name, int l, int rows,
                                const char *rows_are, int gates, int hidden, int units_ok,
                                const char *cell, RnnfxError *err)
{
    long r, c;
    matrix_dims(k, &r, &c);
    if (r < 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "layer %d (%s): %s is missing or not an array",
                          l, cell, name);
    const int other = gates == 4 ? 3 : 4;
    if (c >= 0 && c != (long)gates * hidden && c == (long)other * hidden && units_ok)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "layer %d: its \"type\" says %s but its %s (%ld x %ld) holds %d gates "
                          "of %d units, as %s layer's does: the type is wrong",
                          l, cell, name, r, c, other, hidden, other == 4 ? "an LSTM" : "a GRU");
    if (c >= 0 && c != (long)gates * hidden && c % gates == 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "layer %d (%s): \"shape\" says %d units but the weights are for %ld "
                          "units (%s is %ld x %ld, expected %d x %d)",
                          l, cell, hidden, c / gates, name, r, c, rows, gates * hidden);
    if (c >= 0 && c != (long)gates * hidden)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "layer %d (%s): %s is %ld x %ld, expected %d x %d (%d gates x %d units)",
                          l, cell, name, r, c, rows, gates * hidden, gates, hidden);
    if (r != rows)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "layer %d (%s): %s has %ld rows, expected %d (%s)", l, cell, name, r,
                          rows, rows_are);
    return RNNFX_OK;
}

/* Keras gate block kb that feeds PyTorch block tb. LSTM: identity (i,f,c,o
 * = i,f,g,o). GRU: PyTorch r,z,n <- Keras blocks 1,0,2 (z,r,h). */
static int keras_block(RnnfxCell cell, int tb)
{
    if (cell == RNNFX_CELL_GRU && tb < 2)
        return 1 - tb;
    return tb;
}

static RnnfxStatus fill_recurrent(RnnfxModel *m, int l, const RecLayer *rl, int in, float *tmp,
                                  RnnfxError *err)
{
    const char *cell = rl->cell == RNNFX_CELL_LSTM ? "lstm" : "gru";
    int h = rl->hidden, g = rnnfx_cell_gates(rl->cell), gh = g * h;
    long nw = rnnfx_json_array_len(rl->weights);
    RnnfxStatus st;
    char what[96];

    if (nw < 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "layer %d (%s): \"weights\" is missing", l, cell);
    if (nw != 3)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "layer %d (%s): \"weights\" has %ld arrays, expected 3 (kernel, "
                          "recurrent kernel, bias)",
                          l, cell, nw);
    struct json_object *k = json_object_array_get_idx(rl->weights, 0);
    struct json_object *u = json_object_array_get_idx(rl->weights, 1);
    struct json_object *b = json_object_array_get_idx(rl->weights, 2);
    long ur, uc;
    matrix_dims(u, &ur, &uc);
    const int units_ok = ur == h;
    if ((st = check_kernel(k, "kernel", l, in,
                           l == 0 ? "the input size from \"in_shape\"" : "the previous layer's units",
                           g, h, units_ok, cell, err)) != RNNFX_OK)
        return st;
    if ((st = check_kernel(u, "recurrent kernel", l, h, "this layer's units", g, h, units_ok, cell,
                           err)) != RNNFX_OK)
        return st;

    float *w_ih = rnnfx_model_tensor(m, l, RNNFX_T_WEIGHT_IH, NULL, NULL);
    float *w_hh = rnnfx_model_tensor(m, l, RNNFX_T_WEIGHT_HH, NULL, NULL);
    float *b_ih = rnnfx_model_tensor(m, l, RNNFX_T_BIAS_IH, NULL, NULL);
    float *b_hh = rnnfx_model_tensor(m, l, RNNFX_T_BIAS_HH, NULL, NULL);

    /* kernel [in][gh] -> weight_ih [gh][in], blocks reordered */
    snprintf(what, sizeof what, "layer %d (%s) kernel", l, cell);
    if ((st = rnnfx_json_matrix(k, in, gh, tmp, what, err)) != RNNFX_OK)
        return st;
    for (int tb = 0; tb < g; tb++)
        for (int j = 0; j < h; j++)
            for (int c = 0; c < in; c++)
                w_ih[(size_t)(tb * h + j) * in + c] = tmp[(size_t)c * gh + keras_block(rl->cell, tb) * h + j];

    snprintf(what, sizeof what, "layer %d (%s) recurrent kernel", l, cell);
    if ((st = rnnfx_json_matrix(u, h, gh, tmp, what, err)) != RNNFX_OK)
        return st;
    for (int tb = 0; tb < g; tb++)
        for (int j = 0; j < h; j++)
            for (int c = 0; c < h; c++)
                w_hh[(size_t)(tb * h + j) * h + c] = tmp[(size_t)c * gh + keras_block(rl->cell, tb) * h + j];

    snprintf(what, sizeof what, "layer %d (%s) bias", l, cell);
    long bl = rnnfx_json_array_len(b);
    if (bl < 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is missing or not an array", what);
    if (rl->cell == RNNFX_CELL_LSTM) {
        /* one summed 4H vector -> bias_ih; bias_hh stays zero */
        if ((st = rnnfx_json_floats(b, (size_t)gh, tmp, what, err)) != RNNFX_OK)
            return st;
        memcpy(b_ih, tmp, (size_t)gh * sizeof *tmp);
    } else {
        long c0 = bl > 0 ? rnnfx_json_array_len(json_object_array_get_idx(b, 0)) : -1;
        if (c0 < 0 && bl == gh)
            return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                              "%s is one row of %ld values: a Keras GRU with reset_after=False, "
                              "which is a different cell (supported: reset_after=True GRUs, whose "
                              "bias has 2 rows of %d)",
                              what, bl, gh);
        if ((st = rnnfx_json_matrix(b, 2, gh, tmp, what, err)) != RNNFX_OK)
            return st;
        for (int tb = 0; tb < g; tb++)
            for (int j = 0; j < h; j++) {
                int kc = keras_block(rl->cell, tb) * h + j;
                b_ih[tb * h + j] = tmp[kc];
                b_hh[tb * h + j] = tmp[gh + kc];
            }
    }
    return RNNFX_OK;
}

static RnnfxStatus fill_dense(RnnfxModel *m, int l, struct json_object *weights, int h, int out,
                              float *tmp, RnnfxError *err)
{
    long nw = rnnfx_json_array_len(weights), r, c;
    RnnfxStatus st;
    if (nw < 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "layer %d (dense): \"weights\" is missing", l);
    if (nw != 2)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "layer %d (dense): \"weights\" has %ld arrays, expected 2 (kernel, bias)",
                          l, nw);
    struct json_object *k = json_object_array_get_idx(weights, 0);
    struct json_object *b = json_object_array_get_idx(weights, 1);
    matrix_dims(k, &r, &c);
    if (r >= 0 && r != h)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "layer %d (dense): kernel has %ld rows but the recurrent layer before it "
                          "has %d units",
                          l, r, h);
    if (c >= 0 && c != out)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "layer %d (dense): \"shape\" says %d outputs but the kernel has %ld columns",
                          l, out, c);
    char what[64];
    snprintf(what, sizeof what, "layer %d (dense) kernel", l);
    if ((st = rnnfx_json_matrix(k, h, out, tmp, what, err)) != RNNFX_OK)
        return st;
    float *w = rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_W, NULL, NULL);
    for (int o = 0; o < out; o++)
        for (int j = 0; j < h; j++)
            w[(size_t)o * h + j] = tmp[(size_t)j * out + o];
    snprintf(what, sizeof what, "layer %d (dense) bias", l);
    return rnnfx_json_floats(b, (size_t)out, rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_B, NULL, NULL),
                             what, err);
}

/* Metadata: AIDA-X files spell it three ways (nested "metadata", top-level
 * keys, or nothing). */
static RnnfxStatus read_meta(struct json_object *root, const RnnfxLoadOptions *opts,
                             RnnfxMeta *meta, RnnfxError *err)
{
    struct json_object *md = rnnfx_json_member(root, "metadata");
    struct json_object *places[2] = {md, root};
    const char *rate_keys[2] = {"samplerate", "sample_rate"};
    int have_rate = 0;

    meta->sample_rate = opts && opts->default_sample_rate > 0 ? opts->default_sample_rate
                                                              : RNNFX_AIDAX_DEFAULT_RATE;
    for (int p = 0; p < 2 && !have_rate; p++)
        for (int k = 0; k < 2 && !have_rate; k++) {
            double r;
            struct json_object *o = rnnfx_json_member(places[p], rate_keys[k]);
            int got = rnnfx_json_sample_rate(o, &r);
            if (got < 0)
                return rnnfx_fail(err, RNNFX_ERR_INVALID,
                                  "%s\"%s\" (%s) is not a sample rate in Hz", p == 0 ? "metadata." : "",
                                  rate_keys[k], json_object_to_json_string(o));
            if (got > 0) {
                meta->sample_rate = r;
                have_rate = 1;
            }
        }
    meta->sample_rate_assumed = !have_rate;
    for (int p = 0; p < 2; p++) {
        double esr;
        if (!meta->name[0])
            rnnfx_json_copy_string(places[p], "name", meta->name, sizeof meta->name);
        if (!meta->author[0])
            rnnfx_json_copy_string(places[p], "author", meta->author, sizeof meta->author);
        if (!meta->date[0])
            rnnfx_json_copy_string(places[p], "date", meta->date, sizeof meta->date);
        if (!meta->description[0])
            rnnfx_json_copy_string(places[p], "description", meta->description,
                                   sizeof meta->description);
        if (meta->esr < 0 && rnnfx_json_number(rnnfx_json_member(places[p], "esr"), &esr) &&
            isfinite(esr) && esr >= 0)
            meta->esr = esr;
    }
    /* Keep the descriptive keys AIDA-X files carry, the licence above all:
     * a CC BY-NC-ND capture must stay recognisable as one after import. */
    static const char *const extra[] = {"based", "style", "source", "dataset", "license"};
    for (size_t e = 0; e < sizeof extra / sizeof *extra; e++)
        for (int p = 0; p < 2; p++) {
            char val[256];
            if (!rnnfx_json_copy_string(places[p], extra[e], val, sizeof val))
                continue;
            size_t len = strlen(meta->description);
            snprintf(meta->description + len, sizeof meta->description - len, "%s%s: %s",
                     len ? "; " : "", extra[e], val);
            break;
        }
    snprintf(meta->source_format, sizeof meta->source_format, "aidax");
    return RNNFX_OK;
}

RnnfxStatus rnnfx_import_aidax(struct json_object *root, const RnnfxLoadOptions *opts,
                               RnnfxModel **out, RnnfxError *err)
{
    RecLayer rec[RNNFX_MAX_LAYERS];
    int n_rec = 0, out_size = 0, sigmoid = 0, dense_index = -1;
    struct json_object *dense_w = NULL;
    long in_size, skip = 0, v;
    RnnfxStatus st;

    if (!out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out = NULL;
    if (!root || !json_object_is_type(root, json_type_object))
        return rnnfx_fail(err, RNNFX_ERR_FORMAT, "not an AIDA-X model (not a JSON object)");

    if ((st = shape_last(rnnfx_json_member(root, "in_shape"), RNNFX_MAX_PARAMS + 1, &in_size,
                         "\"in_shape\" (number of inputs)", err)) != RNNFX_OK)
        return st;

    struct json_object *skip_o = rnnfx_json_member(root, "in_skip");
    if (skip_o && !json_object_is_type(skip_o, json_type_null)) {
        if ((st = rnnfx_json_int(skip_o, 0, 1, &skip, "\"in_skip\"", err)) != RNNFX_OK)
            return st;
    }

    struct json_object *layers = rnnfx_json_member(root, "layers");
    long n_layers = rnnfx_json_array_len(layers);
    if (n_layers < 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "\"layers\" is missing or not an array");
    if (n_layers == 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "\"layers\" is empty");
    for (long i = 0; i < n_layers; i++) {
        struct json_object *ly = json_object_array_get_idx(layers, (size_t)i);
        struct json_object *type_o = rnnfx_json_member(ly, "type");
        const char *type = type_o && json_object_is_type(type_o, json_type_string)
                               ? json_object_get_string(type_o)
                               : NULL;
        if (!type)
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "layer %ld has no \"type\"", i);
        char what[64];
        snprintf(what, sizeof what, "layer %ld (%s) \"shape\"", i, type);
        if (dense_index >= 0)
            return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                              "layer %ld (%s) comes after the dense layer (" AIDAX_SUPPORTED ")", i,
                              type);
        if (streq(type, "lstm") || streq(type, "gru")) {
            if (n_rec >= RNNFX_MAX_LAYERS)
                return rnnfx_fail(err, RNNFX_ERR_LIMIT, "more than %d recurrent layers",
                                  RNNFX_MAX_LAYERS);
            if ((st = shape_last(rnnfx_json_member(ly, "shape"), RNNFX_MAX_HIDDEN, &v, what,
                                 err)) != RNNFX_OK)
                return st;
            rec[n_rec].cell = streq(type, "lstm") ? RNNFX_CELL_LSTM : RNNFX_CELL_GRU;
            rec[n_rec].hidden = (int)v;
            rec[n_rec].weights = rnnfx_json_member(ly, "weights");
            n_rec++;
        } else if (streq(type, "dense") || streq(type, "time-distributed-dense")) {
            struct json_object *act_o = rnnfx_json_member(ly, "activation");
            const char *act = act_o && json_object_is_type(act_o, json_type_string)
                                  ? json_object_get_string(act_o)
                                  : "";
            if (n_rec == 0)
                return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                                  "layer %ld is a dense layer before any recurrent layer (" AIDAX_SUPPORTED
                                  ")",
                                  i);
            if (streq(act, "sigmoid"))
                sigmoid = 1;
            else if (!streq(act, "") && !streq(act, "linear"))
                return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                                  "layer %ld (dense) has activation \"%s\" (" AIDAX_SUPPORTED ")", i,
                                  act);
            if ((st = shape_last(rnnfx_json_member(ly, "shape"), RNNFX_MAX_OUTPUTS, &v, what,
                                 err)) != RNNFX_OK)
                return st;
            out_size = (int)v;
            dense_w = rnnfx_json_member(ly, "weights");
            dense_index = (int)i;
        } else {
            return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                              "layer %ld has type \"%s\" (" AIDAX_SUPPORTED ")", i, type);
        }
    }
    if (n_rec == 0)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED, "the model has no recurrent layer (" AIDAX_SUPPORTED ")");
    if (dense_index < 0)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the model does not end with a dense layer (" AIDAX_SUPPORTED ")");

    RnnfxArch arch;
    memset(&arch, 0, sizeof arch);
    arch.kind = RNNFX_KIND_AUDIO;
    arch.input_size = (int)in_size;
    arch.output_size = out_size;
    arch.n_layers = n_rec;
    arch.skip = (int)skip;
    arch.output_sigmoid = sigmoid;
    rnnfx_import_unnamed_knobs(&arch);
    int widest = (int)in_size;
    for (int l = 0; l < n_rec; l++) {
        arch.layers[l].cell = rec[l].cell;
        arch.layers[l].hidden_size = rec[l].hidden;
        if (rec[l].hidden > widest)
            widest = rec[l].hidden;
    }
    if (out_size > widest)
        widest = out_size;

    float gin, gout;
    if ((st = read_gain(root, "in_gain", &gin, err)) != RNNFX_OK)
        return st;
    if ((st = read_gain(root, "out_gain", &gout, err)) != RNNFX_OK)
        return st;

    RnnfxModel *m = NULL;
    if ((st = rnnfx_model_new(&arch, &m, err)) != RNNFX_OK)
        return st;
    /* scratch for one Keras matrix: at most widest x 4*widest, or 2 x 3H */
    float *tmp = malloc((size_t)widest * 4u * (size_t)widest * sizeof *tmp + 16 * sizeof *tmp);
    if (!tmp) {
        rnnfx_model_free(m);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory reading an AIDA-X model");
    }
    for (int l = 0; l < n_rec && st == RNNFX_OK; l++)
        st = fill_recurrent(m, l, &rec[l], l == 0 ? (int)in_size : rec[l - 1].hidden, tmp, err);
    if (st == RNNFX_OK)
        st = fill_dense(m, dense_index, dense_w, rec[n_rec - 1].hidden, out_size, tmp, err);
    free(tmp);
    if (st == RNNFX_OK) {
        RnnfxMeta *meta = rnnfx_model_meta(m);
        meta->input_gain = gin;
        meta->output_gain = gout;
        st = read_meta(root, opts, meta, err);
    }
    return rnnfx_import_finish(m, st, out, err);
}

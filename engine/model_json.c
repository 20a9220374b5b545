/*
 * model_json.c — rnnfx's own JSON model format, and the loader that picks a
 * reader by content (see model_file.h; the format is described in README.md).
 *
 * Parsing uses json-c (Debian libjson-c-dev): a small, long-maintained C
 * library with a depth-limited tokenizer, so hostile nesting cannot exhaust
 * the stack. Writing is done with printf into the text buffer the exporters
 * share (export.h), because the one thing that matters when writing weights
 * — nine significant digits ("%.9g"), enough for every float to read back
 * as itself, and "-0.0" for negative zero — is simplest to control directly.
 *
 * Every count read from a file is checked against the architecture and the
 * engine's limits before anything is allocated or copied; errors name the
 * field ("layer 1: bias_hh has 95 values, expected 96").
 *
 * The reader is strict about its own format: a key it does not know in any
 * object it reads (the root, a layer, a knob, "dense", "metadata", "midi")
 * is an error naming the key, because a misspelt optional key ("n_keys" for
 * "keys") would otherwise fall back to its default without a word. Only
 * metadata.training, the trainer's free-form settings, may hold anything.
 * The foreign-format readers (import_*.c) stay lenient: those files carry
 * keys of their own projects that we have no reason to refuse.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <json-c/json_object_iterator.h>

#include "export.h"
#include "import.h"
#include "model_file.h"

#define JSON_MAX_DEPTH 24
#define JSON_MAX_VALUES 4000000u /* see json_value_bound */

/* ---- small helpers ---------------------------------------------------------- */

RnnfxStatus rnnfx_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len,
                            RnnfxError *err)
{
    if (!path || !out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no path or output pointer given");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    /* Checked before opening too: opening a named pipe waits for a writer,
     * so "-m some.fifo" (or a plugin asked to load one) hung instead of
     * reaching the fstat() check below. */
    struct stat pre;
    const int known = stat(path, &pre) == 0;
    if (known && S_ISDIR(pre.st_mode)) {
        /* a trained capture's preset bundle is the folder people pick */
        size_t pl = strlen(path);
        while (pl > 1 && path[pl - 1] == '/')
            pl--;
        int bundle = pl > 4 && !strncmp(path + pl - 4, ".lv2", 4);
        return rnnfx_fail(err, RNNFX_ERR_IO, "'%s' is a folder%s", path,
                          bundle ? " (an LV2 bundle: give the .json model file inside it)"
                                 : ", not a file");
    }
    if (known && !S_ISREG(pre.st_mode))
        return rnnfx_fail(err, RNNFX_ERR_IO, "'%s' is not a regular file", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return rnnfx_fail(err, RNNFX_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return rnnfx_fail(err, RNNFX_ERR_IO, "'%s' is not a regular file", path);
    }
    if ((unsigned long long)sb.st_size > max_bytes) {
        fclose(f);
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "'%s' is %lld bytes; model files are limited to %zu",
                          path, (long long)sb.st_size, max_bytes);
    }
    size_t len = (size_t)sb.st_size;
    char *buf = malloc(len + 1);
    if (!buf) {
        fclose(f);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory reading '%s'", path);
    }
    size_t got = fread(buf, 1, len, f);
    int bad = ferror(f);
    fclose(f);
    if (got != len || bad) {
        free(buf);
        return rnnfx_fail(err, RNNFX_ERR_IO, "error reading '%s'", path);
    }
    buf[len] = '\0';
    *out = buf;
    if (out_len)
        *out_len = len;
    return RNNFX_OK;
}

size_t rnnfx_temp_name_keep(const char *path, size_t suffix_len)
{
    const size_t n = strlen(path), name_max = 255;
    const char *slash = strrchr(path, '/');
    const size_t base_at = slash ? (size_t)(slash - path) + 1 : 0;
    const size_t room = suffix_len < name_max ? name_max - suffix_len : 1;
    return n - base_at > room ? base_at + room : n;
}

RnnfxStatus rnnfx_write_file_atomic(const char *path, const void *data, size_t len, RnnfxError *err)
{
    if (!path || (!data && len > 0))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no path or data given");
    /* A unique temporary name beside the target (same file system, so the
     * rename is atomic); mkstemp keeps two writers in one process apart. */
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    const size_t keep = rnnfx_temp_name_keep(path, 11);
    memcpy(tmp, path, keep);
    memcpy(tmp + keep, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        RnnfxStatus st = rnnfx_fail(err, RNNFX_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            remove(tmp);
        }
        free(tmp);
        return st;
    }
    int ok = fchmod(fd, 0644) == 0;
    ok = fwrite(data, 1, len, f) == len && ok;
    ok = (fflush(f) == 0) && ok;
    ok = (fsync(fd) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        RnnfxStatus st = rnnfx_fail(err, RNNFX_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    return RNNFX_OK;
}

/* ---- reading ------------------------------------------------------------------- */

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static int is_number(json_object *v)
{
    return v && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int));
}

/* Reads an integer field in [lo, hi]; `need` = 1 if it must be present. */
static RnnfxStatus read_int(json_object *o, const char *key, int need, int def, int lo, int hi,
                            int *out, const char *where, RnnfxError *err)
{
    json_object *v = get(o, key);
    if (!v) {
        if (need)
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: missing \"%s\"", where, key);
        *out = def;
        return RNNFX_OK;
    }
    if (!is_number(v))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: \"%s\" must be a number", where, key);
    double d = json_object_get_double(v);
    if (!(d >= lo && d <= hi) || d != floor(d))
        return rnnfx_fail(err, d > hi ? RNNFX_ERR_LIMIT : RNNFX_ERR_INVALID,
                          "%s: \"%s\" is %g, expected a whole number from %d to %d", where, key, d,
                          lo, hi);
    *out = (int)d;
    return RNNFX_OK;
}

static RnnfxStatus read_bool(json_object *o, const char *key, int def, int *out, const char *where,
                             RnnfxError *err)
{
    json_object *v = get(o, key);
    if (!v) {
        *out = def;
        return RNNFX_OK;
    }
    if (!json_object_is_type(v, json_type_boolean))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: \"%s\" must be true or false", where, key);
    *out = json_object_get_boolean(v) ? 1 : 0;
    return RNNFX_OK;
}

static RnnfxStatus read_double(json_object *o, const char *key, double def, double *out,
                               const char *where, RnnfxError *err)
{
    json_object *v = get(o, key);
    if (!v) {
        *out = def;
        return RNNFX_OK;
    }
    if (!is_number(v) || !isfinite(json_object_get_double(v)))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: \"%s\" must be a finite number", where, key);
    *out = json_object_get_double(v);
    return RNNFX_OK;
}

static RnnfxStatus read_string(json_object *o, const char *key, char *dst, size_t cap,
                               const char *where, RnnfxError *err)
{
    json_object *v = get(o, key);
    if (!v)
        return RNNFX_OK;
    if (!json_object_is_type(v, json_type_string))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: \"%s\" must be a string", where, key);
    /* text for display: a longer one is cut to the field, on a character
     * boundary (a cut UTF-8 sequence came back as U+FFFD) */
    dst[0] = '\0';
    rnnfx_json_copy_string(o, key, dst, cap);
    return RNNFX_OK;
}

/* Refuses a key of object o that is not in the NULL-terminated list known,
 * naming the key and the keys that are allowed there. */
static RnnfxStatus check_keys(json_object *o, const char *const *known, const char *where,
                              RnnfxError *err)
{
    struct json_object_iterator it = json_object_iter_begin(o);
    struct json_object_iterator end = json_object_iter_end(o);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        size_t k = 0;
        while (known[k] && strcmp(known[k], key) != 0)
            k++;
        if (known[k])
            continue;
        char list[400];
        size_t len = 0;
        list[0] = '\0';
        for (k = 0; known[k] && len < sizeof list; k++) {
            int n = snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", known[k]);
            if (n < 0)
                break;
            len += (size_t)n;
        }
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: unknown key \"%s\" (known keys: %s)", where,
                          key, list);
    }
    return RNNFX_OK;
}

static const char *const ROOT_KEYS[] = {
    "format", "version", "kind", "sample_rate", "input_size", "output_size", "skip",
    "output_activation", "input_gain", "output_gain", "params", "midi", "layers", "dense",
    "metadata", NULL};
static const char *const PARAM_KEYS[] = {"name", "min", "max", "default", NULL};
static const char *const LAYER_KEYS[] = {
    "type", "input_size", "hidden_size", "peephole", "nonlinearity", "weight_ih", "weight_hh",
    "bias_ih", "bias_hh", "peephole_weights", "initial_h", "initial_c", NULL};
static const char *const DENSE_KEYS[] = {"weight", "bias", NULL};
static const char *const METADATA_KEYS[] = {"name", "author", "date", "description",
                                            "source_format", "esr", "training", "loudness",
                                            "input_level_dbu", "output_level_dbu", NULL};
static const char *const MIDI_KEYS[] = {"steps_per_quarter", "low_key", "keys", "beat_features",
                                        NULL};

/* Copies a flat numeric array of exactly `count` finite float values (the
 * element checks are the foreign readers' own, import_json.c). */
static RnnfxStatus read_floats(json_object *o, const char *key, float *dst, size_t count, int need,
                               const char *where, RnnfxError *err)
{
    json_object *v = get(o, key);
    if (!v) {
        if (need)
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: missing \"%s\"", where, key);
        return RNNFX_OK; /* optional tensors stay zero */
    }
    if (!json_object_is_type(v, json_type_array))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: \"%s\" must be an array of numbers", where,
                          key);
    char what[96];
    snprintf(what, sizeof what, "%s: %s", where, key);
    return rnnfx_json_floats(v, count, dst, what, err);
}

/* Reads a string key that must be one of the NULL-terminated names; *out is
 * its index (def when the key is absent; def < 0 makes it required). A name
 * we do not run is RNNFX_ERR_UNSUPPORTED, listing the ones we do. */
static RnnfxStatus read_choice(json_object *o, const char *key, const char *const *names, int def,
                               int *out, const char *where, RnnfxError *err)
{
    json_object *v = get(o, key);
    const char *s = "";
    if (v && !json_object_is_type(v, json_type_string))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: \"%s\" must be a string", where, key);
    if (v)
        s = json_object_get_string(v);
    else if (def >= 0) {
        *out = def;
        return RNNFX_OK;
    }
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return RNNFX_OK;
        }
    char list[128];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; names[i] && len < sizeof list; i++) {
        int n = snprintf(list + len, sizeof list - len, "%s\"%s\"", i ? ", " : "", names[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    if (!v)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED, "%s: no \"%s\" (supported: %s)", where, key,
                          list);
    return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED, "%s: %s \"%s\" is not supported (supported: %s)",
                      where, key, s, list);
}

#define TRY(expr)                                                                              \
    do {                                                                                       \
        RnnfxStatus st_ = (expr);                                                              \
        if (st_ != RNNFX_OK)                                                                   \
            return st_;                                                                        \
    } while (0)

static RnnfxStatus read_arch(json_object *root, RnnfxArch *a, RnnfxError *err)
{
    memset(a, 0, sizeof *a);
    /* the names are in enum order (model.h) */
    static const char *const kinds[] = {"audio", "midi-frames", NULL};
    static const char *const activations[] = {"linear", "sigmoid", NULL};
    int kind;
    TRY(read_choice(root, "kind", kinds, 0, &kind, "model", err));
    a->kind = (RnnfxKind)kind;
    TRY(read_int(root, "input_size", 1, 1, 1, RNNFX_MAX_INPUTS, &a->input_size, "model", err));
    TRY(read_int(root, "output_size", 1, 1, 1, RNNFX_MAX_OUTPUTS, &a->output_size, "model", err));
    TRY(read_bool(root, "skip", 0, &a->skip, "model", err));
    TRY(read_choice(root, "output_activation", activations, 0, &a->output_sigmoid, "model", err));

    json_object *params = get(root, "params");
    if (params) {
        if (!json_object_is_type(params, json_type_array))
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "\"params\" must be an array");
        size_t n = json_object_array_length(params);
        if (n > RNNFX_MAX_PARAMS)
            return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%zu conditioning inputs (limit %d)", n,
                              RNNFX_MAX_PARAMS);
        a->n_params = (int)n;
        for (size_t i = 0; i < n; i++) {
            json_object *p = json_object_array_get_idx(params, i);
            char where[48];
            snprintf(where, sizeof where, "params[%zu]", i);
            if (!json_object_is_type(p, json_type_object))
                return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s must be an object", where);
            TRY(check_keys(p, PARAM_KEYS, where, err));
            RnnfxParamDesc *d = &a->params[i];
            TRY(read_string(p, "name", d->name, sizeof d->name, where, err));
            double mn, mx, df;
            TRY(read_double(p, "min", 0.0, &mn, where, err));
            TRY(read_double(p, "max", 1.0, &mx, where, err));
            TRY(read_double(p, "default", mn, &df, where, err));
            d->min = (float)mn, d->max = (float)mx, d->def = (float)df;
        }
    }

    json_object *layers = get(root, "layers");
    if (!layers || !json_object_is_type(layers, json_type_array))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "missing \"layers\" array");
    size_t nl = json_object_array_length(layers);
    if (nl < 1 || nl > RNNFX_MAX_LAYERS)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%zu layers (supported: 1 to %d)", nl,
                          RNNFX_MAX_LAYERS);
    a->n_layers = (int)nl;
    int prev = a->input_size;
    for (size_t l = 0; l < nl; l++) {
        json_object *L = json_object_array_get_idx(layers, l);
        char where[32];
        snprintf(where, sizeof where, "layer %zu", l);
        if (!json_object_is_type(L, json_type_object))
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s must be an object", where);
        TRY(check_keys(L, LAYER_KEYS, where, err));
        RnnfxLayerDesc *d = &a->layers[l];
        static const char *const cells[] = {"lstm", "gru", "rnn", NULL};
        static const char *const nonlinearities[] = {"tanh", "relu", NULL};
        int cell;
        TRY(read_choice(L, "type", cells, -1, &cell, where, err));
        d->cell = (RnnfxCell)cell;
        TRY(read_int(L, "hidden_size", 1, 0, 1, RNNFX_MAX_HIDDEN, &d->hidden_size, where, err));
        int in;
        TRY(read_int(L, "input_size", 0, prev, 1, RNNFX_MAX_INPUTS > RNNFX_MAX_HIDDEN ? RNNFX_MAX_INPUTS : RNNFX_MAX_HIDDEN, &in, where, err));
        if (in != prev)
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: input_size is %d, but its input has %d values",
                              where, in, prev);
        TRY(read_bool(L, "peephole", 0, &d->peephole, where, err));
        TRY(read_choice(L, "nonlinearity", nonlinearities, 0, &d->relu, where, err));
        if (d->relu && d->cell != RNNFX_CELL_RNN)
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: only RNN layers take a ReLU", where);
        prev = d->hidden_size;
    }
    return rnnfx_arch_check(a, err);
}

static RnnfxStatus read_tensors(json_object *root, RnnfxModel *m, RnnfxError *err)
{
    const RnnfxArch *a = rnnfx_model_arch(m);
    json_object *layers = get(root, "layers");
    static const struct {
        RnnfxTensor t;
        const char *key;
        int need;
    } spec[] = {{RNNFX_T_WEIGHT_IH, "weight_ih", 1}, {RNNFX_T_WEIGHT_HH, "weight_hh", 1},
                {RNNFX_T_BIAS_IH, "bias_ih", 1},     {RNNFX_T_BIAS_HH, "bias_hh", 1},
                {RNNFX_T_PEEPHOLE, "peephole_weights", 1}, {RNNFX_T_INITIAL_H, "initial_h", 0},
                {RNNFX_T_INITIAL_C, "initial_c", 0}};
    for (int l = 0; l < a->n_layers; l++) {
        json_object *L = json_object_array_get_idx(layers, (size_t)l);
        char where[32];
        snprintf(where, sizeof where, "layer %d", l);
        for (size_t s = 0; s < sizeof spec / sizeof spec[0]; s++) {
            int r, c;
            float *dst = rnnfx_model_tensor(m, l, spec[s].t, &r, &c);
            if (!dst) {
                if (get(L, spec[s].key))
                    return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: \"%s\" does not belong to a %s%s layer",
                                      where, spec[s].key, a->layers[l].peephole ? "peephole " : "",
                                      rnnfx_cell_name(a->layers[l].cell));
                continue;
            }
            TRY(read_floats(L, spec[s].key, dst, (size_t)r * (size_t)c, spec[s].need, where, err));
        }
    }
    json_object *dense = get(root, "dense");
    if (!dense || !json_object_is_type(dense, json_type_object))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "missing \"dense\" object");
    TRY(check_keys(dense, DENSE_KEYS, "dense", err));
    int r, c;
    float *w = rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_W, &r, &c);
    TRY(read_floats(dense, "weight", w, (size_t)r * (size_t)c, 1, "dense", err));
    float *b = rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_B, &r, &c);
    TRY(read_floats(dense, "bias", b, (size_t)r * (size_t)c, 1, "dense", err));
    return RNNFX_OK;
}

static RnnfxStatus read_meta(json_object *root, const RnnfxLoadOptions *opts, RnnfxModel *m,
                             RnnfxError *err)
{
    RnnfxMeta *meta = rnnfx_model_meta(m);
    /* A file without the key takes the caller's assumption, as the other
     * formats' readers do (the tools' --rate / --model-rate). */
    const double dflt = opts && opts->default_sample_rate > 0 ? opts->default_sample_rate : 48000.0;
    TRY(read_double(root, "sample_rate", dflt, &meta->sample_rate, "model", err));
    meta->sample_rate_assumed = get(root, "sample_rate") == NULL;
    double ig, og;
    TRY(read_double(root, "input_gain", 1.0, &ig, "model", err));
    TRY(read_double(root, "output_gain", 1.0, &og, "model", err));
    meta->input_gain = (float)ig;
    meta->output_gain = (float)og;
    json_object *md = get(root, "metadata");
    if (md) {
        if (!json_object_is_type(md, json_type_object))
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "\"metadata\" must be an object");
        TRY(check_keys(md, METADATA_KEYS, "metadata", err));
        TRY(read_string(md, "name", meta->name, sizeof meta->name, "metadata", err));
        TRY(read_string(md, "author", meta->author, sizeof meta->author, "metadata", err));
        TRY(read_string(md, "date", meta->date, sizeof meta->date, "metadata", err));
        TRY(read_string(md, "description", meta->description, sizeof meta->description,
                        "metadata", err));
        TRY(read_string(md, "source_format", meta->source_format, sizeof meta->source_format,
                        "metadata", err));
        TRY(read_double(md, "esr", -1.0, &meta->esr, "metadata", err));
        TRY(read_double(md, "loudness", NAN, &meta->loudness_db, "metadata", err));
        TRY(read_double(md, "input_level_dbu", NAN, &meta->input_level_dbu, "metadata", err));
        TRY(read_double(md, "output_level_dbu", NAN, &meta->output_level_dbu, "metadata", err));
        json_object *tr = get(md, "training");
        if (tr && !json_object_is_type(tr, json_type_object))
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "metadata: \"training\" must be an object");
        if (tr) {
            /* refused rather than dropped: a save of the model would
             * lose it without a word */
            const char *s = json_object_to_json_string_ext(tr, JSON_C_TO_STRING_PLAIN);
            if (strlen(s) >= sizeof meta->training)
                return rnnfx_fail(err, RNNFX_ERR_INVALID,
                                  "metadata: \"training\" is %zu characters as JSON; this rnnfx "
                                  "keeps at most %zu",
                                  strlen(s), sizeof meta->training - 1);
            strcpy(meta->training, s);
        }
    }
    if (rnnfx_model_arch(m)->kind == RNNFX_KIND_MIDI_FRAMES) {
        json_object *mi = get(root, "midi");
        if (!mi || !json_object_is_type(mi, json_type_object))
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "a midi-frames model needs a \"midi\" object");
        TRY(check_keys(mi, MIDI_KEYS, "midi", err));
        RnnfxMidiInfo *g = &meta->midi;
        TRY(read_int(mi, "steps_per_quarter", 1, 4, 1, 96, &g->steps_per_quarter, "midi", err));
        TRY(read_int(mi, "low_key", 0, 21, 0, 127, &g->low_key, "midi", err));
        TRY(read_int(mi, "keys", 0, 88, 1, 128, &g->n_keys, "midi", err));
        TRY(read_int(mi, "beat_features", 0, 0, 0, RNNFX_MAX_INPUTS, &g->n_beat_features, "midi", err));
    }
    return RNNFX_OK;
}

static RnnfxStatus read_native(json_object *root, const RnnfxLoadOptions *opts, RnnfxModel **out,
                               RnnfxError *err)
{
    int version = 0;
    TRY(read_int(root, "version", 1, 0, 0, 1 << 30, &version, "model", err));
    if (version != RNNFX_FORMAT_VERSION)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "model file version %d; this rnnfx reads version %d%s", version,
                          RNNFX_FORMAT_VERSION, version > RNNFX_FORMAT_VERSION ? " (upgrade rnnfx)" : "");
    TRY(check_keys(root, ROOT_KEYS, "model", err));
    RnnfxArch arch;
    TRY(read_arch(root, &arch, err));
    RnnfxModel *m;
    TRY(rnnfx_model_new(&arch, &m, err));
    RnnfxStatus st = read_tensors(root, m, err);
    if (st == RNNFX_OK)
        st = read_meta(root, opts, m, err);
    return rnnfx_import_finish(m, st, out, err);
}

/* What a file that is not JSON is, by its first bytes, for the files people
 * pick by mistake in a model chooser (the recording beside the model, the
 * archive it came in): "not valid JSON near byte 0" said nothing useful. */
static const char *non_model_kind(const char *data, size_t len)
{
    static const struct {
        size_t at;
        const char *magic, *kind;
    } kinds[] = {
        {8, "WAVE", "a WAV audio file"},    {0, "fLaC", "a FLAC audio file"},
        {0, "OggS", "an Ogg audio file"},   {8, "AIFF", "an AIFF audio file"},
        {0, "ID3", "an MP3 audio file"},    {0, "MThd", "a MIDI file"},
        {0, "PK\x03\x04", "a ZIP archive (unpack it and pick the model file inside)"},
        {0, "%PDF", "a PDF document"},      {0, "\x89PNG", "a PNG image"},
        /* what rnnfx-train leaves beside the model: "not valid JSON near
         * byte 0" for the checkpoint, the report and the preset */
        {0, "RNNFXCK", "an rnnfx training checkpoint (the model is the .json file the run "
                       "writes when it ends; --resume continues training from this)"},
        {0, "<!DOCTYPE html", "an HTML page (a training report?)"},
        {0, "@prefix", "an LV2 preset or bundle description (the model is the .json file "
                       "beside it)"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].magic);
        if (len >= kinds[i].at + n && memcmp(data + kinds[i].at, kinds[i].magic, n) == 0)
            return kinds[i].kind;
    }
    return NULL;
}

/* An upper bound on the number of values (numbers, strings, arrays...) in
 * a JSON text: one more than its commas outside strings. json-c's tree
 * takes about 72 bytes per value, so the file size limit alone let a 62 MB
 * file of "0,0,0..." take 2.2 GB before any count was checked; the bound
 * is checked first, in one pass over the bytes. */
static size_t json_value_bound(const char *data, size_t len)
{
    size_t commas = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        const char c = data[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == ',') {
            commas++;
        }
    }
    return commas + 1;
}

RnnfxStatus rnnfx_model_load_memory(const char *data, size_t len, const RnnfxLoadOptions *opts,
                                    RnnfxModel **out, RnnfxError *err)
{
    if (!out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out = NULL;
    if (!data || len == 0)
        return rnnfx_fail(err, RNNFX_ERR_PARSE, "the file is empty");
    if (len > RNNFX_MAX_FILE_BYTES)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%zu bytes; model files are limited to %u", len,
                          RNNFX_MAX_FILE_BYTES);
    const size_t bom = rnnfx_json_bom_len(data, len);
    data += bom;
    len -= bom;
    if (len == 0)
        return rnnfx_fail(err, RNNFX_ERR_PARSE, "the file is empty (a byte order mark only)");
    const char *kind = non_model_kind(data, len);
    if (kind)
        return rnnfx_fail(err, RNNFX_ERR_FORMAT,
                          "this is %s, not a model (model files are JSON: rnnfx .json, NAM .nam, "
                          "AIDA-X .aidax/.json, Proteus .json)",
                          kind);
    const size_t values = json_value_bound(data, len);
    if (values > JSON_MAX_VALUES)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT,
                          "the file holds about %zu values; model files are limited to %u "
                          "(more weights than any model that runs in real time)",
                          values, JSON_MAX_VALUES);
    json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!tok)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tok, data, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t consumed = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        json_object_put(root);
        if (jerr == json_tokener_success) /* json-c's allocation failed */
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory reading the model file");
        if (jerr == json_tokener_continue)
            return rnnfx_fail(err, RNNFX_ERR_PARSE, "the file ends in the middle of the JSON text (truncated?)");
        return rnnfx_fail(err, RNNFX_ERR_PARSE, "not valid JSON near byte %zu: %s", consumed,
                          json_tokener_error_desc(jerr));
    }
    for (size_t i = consumed; i < len; i++)
        if (data[i] != ' ' && data[i] != '\n' && data[i] != '\r' && data[i] != '\t' && data[i] != '\0') {
            json_object_put(root);
            return rnnfx_fail(err, RNNFX_ERR_PARSE, "unexpected text after the JSON value at byte %zu", i);
        }
    RnnfxStatus st;
    if (!json_object_is_type(root, json_type_object)) {
        st = rnnfx_fail(err, RNNFX_ERR_FORMAT, "not a model file: the JSON text is not an object");
    } else {
        json_object *fmt = get(root, "format");
        if (fmt) {
            const char *s = json_object_is_type(fmt, json_type_string) ? json_object_get_string(fmt) : "";
            st = strcmp(s, RNNFX_FORMAT_NAME) == 0
                     ? read_native(root, opts, out, err)
                     : rnnfx_fail(err, RNNFX_ERR_FORMAT, "unknown format tag \"%s\" (expected \"%s\")",
                                  s, RNNFX_FORMAT_NAME);
        } else if (get(root, "model_data") && get(root, "state_dict")) {
            st = rnnfx_import_coreaudioml(root, opts, out, err);
        } else if (get(root, "architecture") && get(root, "weights")) {
            st = rnnfx_import_nam(root, opts, out, err);
        } else if (get(root, "layers")) {
            st = rnnfx_import_aidax(root, opts, out, err);
        } else {
            st = rnnfx_fail(err, RNNFX_ERR_FORMAT,
                            "not a model file this rnnfx reads (supported: rnnfx JSON, AIDA-X/RTNeural "
                            "JSON, Proteus/Automated-GuitarAmpModelling JSON, Neural Amp Modeler .nam LSTM)");
        }
    }
    json_object_put(root);
    if (st != RNNFX_OK && *out) {
        rnnfx_model_free(*out);
        *out = NULL;
    }
    return st;
}

RnnfxStatus rnnfx_model_load(const char *path, const RnnfxLoadOptions *opts, RnnfxModel **out,
                             RnnfxError *err)
{
    if (!path || !out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no path given");
    *out = NULL;
    char *data;
    size_t len;
    RnnfxStatus st = rnnfx_read_file(path, RNNFX_MAX_FILE_BYTES, &data, &len, err);
    if (st != RNNFX_OK)
        return st;
    st = rnnfx_model_load_memory(data, len, opts, out, err);
    free(data);
    if (st != RNNFX_OK)
        rnnfx_error_prefix(err, "%s", path);
    return st;
}

/* ---- writing ------------------------------------------------------------------- */

/* rnnfx_text_float's "%.9g" (and "-0.0") reads back to the identical float;
 * that is what makes a save/load round trip bit-exact. */
static void put_floats(RnnfxText *o, const char *key, const float *v, size_t n)
{
    rnnfx_text_printf(o, "\"%s\": [", key);
    for (size_t i = 0; i < n; i++) {
        if (i)
            rnnfx_text_printf(o, i % 8 ? ", " : ",\n      ");
        rnnfx_text_float(o, v[i]);
    }
    rnnfx_text_printf(o, "]");
}

/* JSON has no NaN or Inf, and a file that cannot be read back must never be
 * written (a diverged training run can leave non-finite weights). */
static RnnfxStatus check_writable(const RnnfxModel *m, RnnfxError *err)
{
    static const char *const names[RNNFX_T_COUNT] = {
        "weight_ih", "weight_hh", "bias_ih", "bias_hh", "peephole_weights",
        "initial_h", "initial_c", "dense.weight", "dense.bias"};
    const RnnfxArch *a = rnnfx_model_arch(m);
    for (int l = -1; l < a->n_layers; l++)
        for (int t = 0; t < RNNFX_T_COUNT; t++) {
            int r, c;
            const float *v = rnnfx_model_tensor_const(m, l, (RnnfxTensor)t, &r, &c);
            for (size_t i = 0; v && i < (size_t)r * (size_t)c; i++)
                if (!isfinite(v[i])) {
                    if (l < 0)
                        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                                          "%s[%zu] is not a finite number; not writing a model "
                                          "that could not be read back", names[t], i);
                    return rnnfx_fail(err, RNNFX_ERR_INVALID,
                                      "layer %d: %s[%zu] is not a finite number; not writing a "
                                      "model that could not be read back", l, names[t], i);
                }
        }
    const RnnfxMeta *meta = rnnfx_model_meta_const(m);
    if (!isfinite(meta->sample_rate) || !isfinite(meta->input_gain) ||
        !isfinite(meta->output_gain) || !isfinite(meta->esr))
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "sample rate, gains or esr is not a finite number; not writing the model");
    for (int k = 0; k < a->n_params; k++)
        if (!isfinite(a->params[k].min) || !isfinite(a->params[k].max) ||
            !isfinite(a->params[k].def))
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "conditioning input %d has a non-finite range", k);
    return RNNFX_OK;
}

RnnfxStatus rnnfx_model_to_json(const RnnfxModel *m, char **out_text, RnnfxError *err)
{
    if (!m || !out_text)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "nothing to write");
    RnnfxStatus wst = check_writable(m, err);
    if (wst != RNNFX_OK)
        return wst;
    const RnnfxArch *a = rnnfx_model_arch(m);
    const RnnfxMeta *meta = rnnfx_model_meta_const(m);
    RnnfxText o = {0};
    rnnfx_text_printf(&o, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n", RNNFX_FORMAT_NAME, RNNFX_FORMAT_VERSION);
    rnnfx_text_printf(&o, "  \"kind\": \"%s\",\n", a->kind == RNNFX_KIND_MIDI_FRAMES ? "midi-frames" : "audio");
    rnnfx_text_printf(&o, "  \"sample_rate\": %.17g,\n", meta->sample_rate);
    rnnfx_text_printf(&o, "  \"input_size\": %d,\n  \"output_size\": %d,\n", a->input_size, a->output_size);
    rnnfx_text_printf(&o, "  \"skip\": %s,\n", a->skip ? "true" : "false");
    rnnfx_text_printf(&o, "  \"output_activation\": \"%s\",\n", a->output_sigmoid ? "sigmoid" : "linear");
    rnnfx_text_printf(&o, "  \"input_gain\": %.9g,\n  \"output_gain\": %.9g,\n", (double)meta->input_gain,
        (double)meta->output_gain);
    rnnfx_text_printf(&o, "  \"params\": [");
    for (int k = 0; k < a->n_params; k++) {
        rnnfx_text_printf(&o, "%s\n    {\"name\": ", k ? "," : "");
        rnnfx_text_json_string(&o, a->params[k].name);
        rnnfx_text_printf(&o, ", \"min\": %.9g, \"max\": %.9g, \"default\": %.9g}", (double)a->params[k].min,
            (double)a->params[k].max, (double)a->params[k].def);
    }
    rnnfx_text_printf(&o, "%s],\n", a->n_params ? "\n  " : "");
    if (a->kind == RNNFX_KIND_MIDI_FRAMES)
        rnnfx_text_printf(&o, "  \"midi\": {\"steps_per_quarter\": %d, \"low_key\": %d, \"keys\": %d, \"beat_features\": %d},\n",
            meta->midi.steps_per_quarter, meta->midi.low_key, meta->midi.n_keys,
            meta->midi.n_beat_features);
    rnnfx_text_printf(&o, "  \"layers\": [");
    static const struct {
        RnnfxTensor t;
        const char *key;
    } spec[] = {{RNNFX_T_WEIGHT_IH, "weight_ih"}, {RNNFX_T_WEIGHT_HH, "weight_hh"},
                {RNNFX_T_BIAS_IH, "bias_ih"},     {RNNFX_T_BIAS_HH, "bias_hh"},
                {RNNFX_T_PEEPHOLE, "peephole_weights"}, {RNNFX_T_INITIAL_H, "initial_h"},
                {RNNFX_T_INITIAL_C, "initial_c"}};
    for (int l = 0; l < a->n_layers; l++) {
        const RnnfxLayerDesc *d = &a->layers[l];
        int in = l == 0 ? a->input_size : a->layers[l - 1].hidden_size;
        rnnfx_text_printf(&o, "%s\n    {\"type\": \"%s\", \"input_size\": %d, \"hidden_size\": %d", l ? "," : "",
            rnnfx_cell_name(d->cell), in, d->hidden_size);
        if (d->cell == RNNFX_CELL_LSTM)
            rnnfx_text_printf(&o, ", \"peephole\": %s", d->peephole ? "true" : "false");
        if (d->cell == RNNFX_CELL_RNN)
            rnnfx_text_printf(&o, ", \"nonlinearity\": \"%s\"", d->relu ? "relu" : "tanh");
        for (size_t s = 0; s < sizeof spec / sizeof spec[0]; s++) {
            int r, c;
            const float *v = rnnfx_model_tensor_const(m, l, spec[s].t, &r, &c);
            if (!v)
                continue;
            rnnfx_text_printf(&o, ",\n     ");
            put_floats(&o, spec[s].key, v, (size_t)r * (size_t)c);
        }
        rnnfx_text_printf(&o, "}");
    }
    rnnfx_text_printf(&o, "\n  ],\n  \"dense\": {");
    int r, c;
    const float *w = rnnfx_model_tensor_const(m, -1, RNNFX_T_DENSE_W, &r, &c);
    put_floats(&o, "weight", w, (size_t)r * (size_t)c);
    rnnfx_text_printf(&o, ",\n    ");
    const float *b = rnnfx_model_tensor_const(m, -1, RNNFX_T_DENSE_B, &r, &c);
    put_floats(&o, "bias", b, (size_t)r * (size_t)c);
    rnnfx_text_printf(&o, "},\n  \"metadata\": {\n    \"name\": ");
    rnnfx_text_json_string(&o, meta->name);
    rnnfx_text_printf(&o, ",\n    \"author\": ");
    rnnfx_text_json_string(&o, meta->author);
    rnnfx_text_printf(&o, ",\n    \"date\": ");
    rnnfx_text_json_string(&o, meta->date);
    rnnfx_text_printf(&o, ",\n    \"description\": ");
    rnnfx_text_json_string(&o, meta->description);
    rnnfx_text_printf(&o, ",\n    \"source_format\": ");
    rnnfx_text_json_string(&o, meta->source_format);
    rnnfx_text_printf(&o, ",\n    \"esr\": %.9g", meta->esr);
    if (isfinite(meta->loudness_db))
        rnnfx_text_printf(&o, ",\n    \"loudness\": %.17g", meta->loudness_db);
    if (isfinite(meta->input_level_dbu))
        rnnfx_text_printf(&o, ",\n    \"input_level_dbu\": %.17g", meta->input_level_dbu);
    if (isfinite(meta->output_level_dbu))
        rnnfx_text_printf(&o, ",\n    \"output_level_dbu\": %.17g", meta->output_level_dbu);
    if (meta->training[0]) {
        /* Embed the trainer's settings only if they are a valid JSON object,
         * so a bad string can never make an unreadable file. */
        json_object *tr = json_tokener_parse(meta->training);
        if (tr && json_object_is_type(tr, json_type_object)) {
            /* (the recordings' names are in it, in whatever encoding
             * their file system used) */
            rnnfx_text_printf(&o, ",\n    \"training\": ");
            rnnfx_text_utf8_checked(&o, json_object_to_json_string_ext(tr, JSON_C_TO_STRING_PLAIN));
        }
        json_object_put(tr);
    }
    rnnfx_text_printf(&o, "\n  }\n}\n");
    if (o.failed) {
        free(o.buf);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory while writing the model");
    }
    *out_text = o.buf;
    return RNNFX_OK;
}

RnnfxStatus rnnfx_model_save(const RnnfxModel *m, const char *path, RnnfxError *err)
{
    if (!path)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no path given");
    char *text;
    RnnfxStatus st = rnnfx_model_to_json(m, &text, err);
    if (st != RNNFX_OK)
        return st;
    st = rnnfx_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return st;
}

/*
 * selftest.c — runs a model on a file's own input_batch and compares with
 * its output_batch (see selftest.h for what the vectors mean).
 *
 * The model is cloned with unit gains so the comparison follows the AIDA-X
 * trainer's convention (vectors without in_gain/out_gain) without touching
 * the caller's model, which may be running on other threads.
 *
 * Thread: not audio.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "import.h"
#include "instance.h"
#include "model_file.h"
#include "selftest.h"

void rnnfx_selftest_vectors_free(RnnfxSelftestVectors *v)
{
    if (!v)
        return;
    free(v->input);
    free(v->output);
    memset(v, 0, sizeof *v);
}

/* A batch is a flat list of numbers (cols = 1) or a list of equal rows. */
static RnnfxStatus read_batch(struct json_object *a, const char *name, size_t *n, int *cols,
                              float **dst, RnnfxError *err)
{
    long len = rnnfx_json_array_len(a);
    char what[32];
    snprintf(what, sizeof what, "\"%s\"", name);
    if (len < 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is not an array", what);
    if (len == 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is empty", what);
    long c = rnnfx_json_array_len(json_object_array_get_idx(a, 0));
    *n = (size_t)len;
    *cols = c < 0 ? 1 : (int)c;
    if (c == 0 || c > RNNFX_MAX_INPUTS)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s rows have %ld values", what, c);
    /* Every row must have c values before len x c floats are allocated: a
     * file of many short rows after one long one must get a message, not a
     * multi-gigabyte allocation. */
    for (long r = 1; r < len && c > 0; r++) {
        long rl = rnnfx_json_array_len(json_object_array_get_idx(a, (size_t)r));
        if (rl < 0)
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s row %ld is not an array", what, r);
        if (rl != c)
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s row %ld has %ld values, expected %ld",
                              what, r, rl, c);
    }
    *dst = malloc((size_t)len * (size_t)*cols * sizeof **dst);
    if (!*dst)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for %s", what);
    return c < 0 ? rnnfx_json_floats(a, (size_t)len, *dst, what, err)
                 : rnnfx_json_matrix(a, (int)len, (int)c, *dst, what, err);
}

RnnfxStatus rnnfx_selftest_vectors_from_json(struct json_object *root, RnnfxSelftestVectors *v,
                                             RnnfxError *err)
{
    if (!v)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no vectors given");
    memset(v, 0, sizeof *v);
    struct json_object *in = rnnfx_json_member(root, "input_batch");
    struct json_object *out = rnnfx_json_member(root, "output_batch");
    if (!in && !out)
        return RNNFX_OK;
    if (!in || !out)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "the file has \"%s\" but no \"%s\"",
                          in ? "input_batch" : "output_batch", in ? "output_batch" : "input_batch");
    size_t n_in = 0, n_out = 0;
    RnnfxStatus st = read_batch(in, "input_batch", &n_in, &v->input_cols, &v->input, err);
    if (st == RNNFX_OK)
        st = read_batch(out, "output_batch", &n_out, &v->output_cols, &v->output, err);
    if (st == RNNFX_OK && n_in != n_out)
        st = rnnfx_fail(err, RNNFX_ERR_INVALID,
                        "\"input_batch\" has %zu steps but \"output_batch\" has %zu", n_in, n_out);
    if (st != RNNFX_OK) {
        rnnfx_selftest_vectors_free(v);
        return st;
    }
    v->n = n_in;
    return RNNFX_OK;
}

RnnfxStatus rnnfx_selftest_vectors_load(const char *path, RnnfxSelftestVectors *v,
                                        RnnfxError *err)
{
    char *data = NULL;
    size_t len = 0;
    if (!v)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no vectors given");
    memset(v, 0, sizeof *v);
    RnnfxStatus st = rnnfx_read_file(path, RNNFX_MAX_FILE_BYTES, &data, &len, err);
    if (st != RNNFX_OK)
        return st;
    json_tokener *tok = json_tokener_new();
    if (!tok) {
        free(data);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    }
    const size_t bom = rnnfx_json_bom_len(data, len); /* as the model loader */
    struct json_object *root = len <= (size_t)0x7fffffff
                                   ? json_tokener_parse_ex(tok, data + bom, (int)(len - bom))
                                   : NULL;
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    free(data);
    if (!root || jerr != json_tokener_success) {
        json_object_put(root);
        return rnnfx_fail(err, RNNFX_ERR_PARSE, "%s: not valid JSON (%s)", path,
                          json_tokener_error_desc(jerr));
    }
    st = rnnfx_selftest_vectors_from_json(root, v, err);
    json_object_put(root);
    return st;
}

RnnfxStatus rnnfx_selftest_compute(const RnnfxModel *model, const float *input, int input_cols,
                                   size_t n, float *output, RnnfxError *err)
{
    if (!model || !input || !output)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no model or buffers given");
    if (!rnnfx_model_is_finalized(model))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "the model is not finalized");
    const RnnfxArch *a = rnnfx_model_arch(model);
    int ni = a->input_size;
    if (input_cols != 1 && input_cols != ni)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "the test input has %d values per step; the model takes %d", input_cols,
                          ni);
    RnnfxModel *m = NULL;
    RnnfxStatus st = rnnfx_model_clone(model, &m, err);
    if (st != RNNFX_OK)
        return st;
    RnnfxMeta *meta = rnnfx_model_meta(m);
    meta->input_gain = 1.0f;
    meta->output_gain = 1.0f;
    RnnfxInstance *inst = rnnfx_instance_new(m);
    /* calloc checks n x ni for overflow; n comes from the caller */
    float *frames = calloc(n ? n : 1, (size_t)ni * sizeof *frames);
    if (!inst || !frames) {
        free(frames);
        rnnfx_instance_free(inst);
        rnnfx_model_free(m);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory running the self-test");
    }
    for (size_t t = 0; t < n; t++)
        for (int c = 0; c < input_cols; c++)
            frames[t * (size_t)ni + (size_t)c] = input[t * (size_t)input_cols + (size_t)c];
    rnnfx_instance_set_path(inst, RNNFX_PATH_REFERENCE);
    rnnfx_instance_reset(inst);
    rnnfx_instance_process_frames(inst, frames, output, n);
    free(frames);
    rnnfx_instance_free(inst);
    rnnfx_model_free(m);
    return RNNFX_OK;
}

RnnfxStatus rnnfx_selftest(const RnnfxModel *model, const RnnfxSelftestVectors *v,
                           double *max_abs_err, RnnfxError *err)
{
    if (!model || !v || !max_abs_err)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no model or vectors given");
    *max_abs_err = 0.0;
    if (v->n == 0)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no test vectors");
    int no = rnnfx_model_arch(model)->output_size;
    if (v->output_cols != 1 && v->output_cols != no)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "the test output has %d values per step; the model gives %d",
                          v->output_cols, no);
    float *y = malloc(v->n * (size_t)no * sizeof *y);
    if (!y)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory running the self-test");
    RnnfxStatus st = rnnfx_selftest_compute(model, v->input, v->input_cols, v->n, y, err);
    if (st == RNNFX_OK) {
        double worst = 0.0;
        for (size_t t = 0; t < v->n; t++)
            for (int c = 0; c < v->output_cols; c++) {
                double e = fabs((double)y[t * (size_t)no + (size_t)c] -
                                (double)v->output[t * (size_t)v->output_cols + (size_t)c]);
                if (!(e <= worst)) /* also catches NaN */
                    worst = isnan(e) ? INFINITY : e;
            }
        *max_abs_err = worst;
    }
    free(y);
    return st;
}

RnnfxStatus rnnfx_selftest_file(const char *path, const RnnfxModel *model, size_t *n_steps,
                                double *max_abs_err, RnnfxError *err)
{
    RnnfxSelftestVectors v;
    if (!n_steps || !max_abs_err)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no result pointers given");
    *n_steps = 0;
    *max_abs_err = 0.0;
    RnnfxStatus st = rnnfx_selftest_vectors_load(path, &v, err);
    if (st != RNNFX_OK)
        return st;
    if (v.n > 0) {
        st = rnnfx_selftest(model, &v, max_abs_err, err);
        if (st == RNNFX_OK)
            *n_steps = v.n;
    }
    rnnfx_selftest_vectors_free(&v);
    return st;
}

void rnnfx_selftest_signal(float *x, size_t n)
{
    const double two_pi = 6.283185307179586;
    const double rate = 48000.0;
    uint32_t s = 0x2545F491u; /* fixed seed: the vectors must be reproducible */
    for (size_t i = 0; i < n; i++) {
        size_t seg = i / 512, pos = i % 512;
        double t = (double)i / rate;
        double amp = 0.1 + 0.8 * (n > 1 ? (double)i / (double)(n - 1) : 1.0);
        double f0 = 82.40689 * pow(2.0, (double)(seg % 12) * 5.0 / 12.0);
        double env = 0.3 + 0.7 * exp(-(double)pos / 400.0);
        double v = sin(two_pi * f0 * t) + 0.5 * sin(two_pi * 2.0 * f0 * t + 0.3) +
                   0.25 * sin(two_pi * 3.0 * f0 * t + 1.1);
        s = s * 1664525u + 1013904223u;
        double noise = (double)(s >> 8) / 16777216.0 * 2.0 - 1.0;
        x[i] = (float)(amp * (env * v / 1.75 + 0.05 * noise));
    }
}

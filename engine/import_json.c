/*
 * import_json.c — small, strict JSON readers shared by the foreign-format
 * importers (import_*.c) and the self-test (selftest.c).
 *
 * Strict means: a number must be a JSON number (not a string or a bool), a
 * weight must be finite and fit a float, and an array must have exactly the
 * length the caller derived from the file's declared shape. These are not a
 * general JSON API; they only turn json-c objects into float arrays with
 * messages that name the offending value. The last two functions are the
 * steps every reader shares at its end (knob names, finalize-or-free).
 *
 * Thread: not audio (callers parse files).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "import.h"

struct json_object *rnnfx_json_member(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    if (!obj || !json_object_is_type(obj, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

int rnnfx_json_number(struct json_object *o, double *v)
{
    if (!o)
        return 0;
    if (json_object_is_type(o, json_type_int)) {
        *v = (double)json_object_get_int64(o);
        return 1;
    }
    if (json_object_is_type(o, json_type_double)) {
        *v = json_object_get_double(o);
        return 1;
    }
    return 0;
}

RnnfxStatus rnnfx_json_int(struct json_object *o, long lo, long hi, long *v, const char *what,
                           RnnfxError *err)
{
    double d;
    if (!o)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is missing", what);
    if (!rnnfx_json_number(o, &d))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is not a number", what);
    if (!isfinite(d) || d != floor(d))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s (%g) is not a whole number", what, d);
    if (d < (double)lo || d > (double)hi)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is %g (supported: %ld to %ld)", what, d, lo,
                          hi);
    *v = (long)d;
    return RNNFX_OK;
}

RnnfxStatus rnnfx_json_size(struct json_object *o, long hi, long *v, const char *what,
                            RnnfxError *err)
{
    double d;
    RnnfxStatus st = rnnfx_json_int(o, 1, hi, v, what, err);
    if (st == RNNFX_ERR_INVALID && rnnfx_json_number(o, &d) && isfinite(d) && d == floor(d) &&
        d > (double)hi)
        st = RNNFX_ERR_LIMIT;
    return st;
}

long rnnfx_json_array_len(struct json_object *o)
{
    if (!o || !json_object_is_type(o, json_type_array))
        return -1;
    return (long)json_object_array_length(o);
}

/* One number -> float, refusing what a float cannot hold. */
static RnnfxStatus get_weight(struct json_object *o, float *dst, const char *what, size_t index,
                              RnnfxError *err)
{
    double d;
    if (!rnnfx_json_number(o, &d))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s[%zu] is not a number", what, index);
    if (!isfinite(d))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s[%zu] is not a finite number (%g)", what,
                          index, d);
    /* "%.9g" prints FLT_MAX as 3.40282347e+38, a double just above FLT_MAX
     * that still rounds to it: only values at or beyond FLT_MAX plus half an
     * ulp (2^103) would become infinite as floats. */
    if (fabs(d) >= (double)FLT_MAX + 0x1p103)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s[%zu] = %g is too large for a float", what,
                          index, d);
    *dst = (float)d;
    return RNNFX_OK;
}

RnnfxStatus rnnfx_json_floats(struct json_object *arr, size_t n, float *dst, const char *what,
                              RnnfxError *err)
{
    long len = rnnfx_json_array_len(arr);
    if (!arr)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is missing", what);
    if (len < 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is not an array", what);
    if ((size_t)len != n)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s has %ld values, expected %zu", what, len, n);
    for (size_t i = 0; i < n; i++) {
        RnnfxStatus st = get_weight(json_object_array_get_idx(arr, i), &dst[i], what, i, err);
        if (st != RNNFX_OK)
            return st;
    }
    return RNNFX_OK;
}

RnnfxStatus rnnfx_json_matrix(struct json_object *arr, int rows, int cols, float *dst,
                              const char *what, RnnfxError *err)
{
    long len = rnnfx_json_array_len(arr);
    if (!arr)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is missing", what);
    if (len < 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s is not an array", what);
    if (len != rows)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s has %ld rows, expected %d (%d x %d)", what,
                          len, rows, rows, cols);
    for (int r = 0; r < rows; r++) {
        struct json_object *row = json_object_array_get_idx(arr, (size_t)r);
        long rl = rnnfx_json_array_len(row);
        if (rl < 0)
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s row %d is not an array", what, r);
        if (rl != cols)
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s row %d has %ld values, expected %d", what,
                              r, rl, cols);
        for (int c = 0; c < cols; c++) {
            RnnfxStatus st = get_weight(json_object_array_get_idx(row, (size_t)c),
                                        &dst[(size_t)r * (size_t)cols + (size_t)c], what,
                                        (size_t)r * (size_t)cols + (size_t)c, err);
            if (st != RNNFX_OK)
                return st;
        }
    }
    return RNNFX_OK;
}

int rnnfx_json_sample_rate(struct json_object *o, double *rate)
{
    double d;
    if (!o || json_object_is_type(o, json_type_null))
        return 0;
    if (json_object_is_type(o, json_type_string)) {
        const char *s = json_object_get_string(o);
        char *end = NULL;
        errno = 0;
        d = strtod(s, &end);
        if (end == s || errno != 0)
            return -1;
        while (*end == ' ')
            end++;
        if (*end != '\0')
            return -1;
    } else if (!rnnfx_json_number(o, &d)) {
        return -1;
    }
    if (!isfinite(d) || d < 1000.0 || d > 1536000.0)
        return -1;
    *rate = d;
    return 1;
}

size_t rnnfx_json_bom_len(const char *data, size_t len)
{
    return data && len >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
                   (unsigned char)data[2] == 0xBF
               ? 3
               : 0;
}

int rnnfx_json_copy_string(struct json_object *obj, const char *key, char *dst, size_t size)
{
    struct json_object *v = rnnfx_json_member(obj, key);
    if (!v || !json_object_is_type(v, json_type_string) || size == 0)
        return 0;
    const char *s = json_object_get_string(v);
    if (!s || !*s)
        return 0;
    size_t n = strlen(s);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* never cut a UTF-8 sequence in half */
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 1;
}

void rnnfx_import_unnamed_knobs(RnnfxArch *arch)
{
    arch->n_params = arch->input_size - 1;
    for (int k = 0; k < arch->n_params; k++) {
        snprintf(arch->params[k].name, sizeof arch->params[k].name, "param%d", k + 1);
        arch->params[k].min = 0.0f;
        arch->params[k].max = 1.0f;
        arch->params[k].def = 0.5f;
    }
}

RnnfxStatus rnnfx_import_finish(RnnfxModel *m, RnnfxStatus st, RnnfxModel **out,
                                RnnfxError *err)
{
    if (st == RNNFX_OK)
        st = rnnfx_model_finalize(m, err);
    if (st != RNNFX_OK) {
        rnnfx_model_free(m);
        return st;
    }
    *out = m;
    return RNNFX_OK;
}

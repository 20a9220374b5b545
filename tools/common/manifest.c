/*
 * manifest.c — parser for conditioned-capture manifests. See manifest.h.
 */
#include "manifest.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model_file.h"

void rnnfx_manifest_free(RnnfxManifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->entries[i].input);
        free(m->entries[i].target);
    }
    free(m->entries);
    memset(m, 0, sizeof *m);
}

static char *resolve(const char *base, const char *name)
{
    size_t nl = strlen(name);
    if (!base || !*base || name[0] == '/') {
        char *s = malloc(nl + 1);
        if (s)
            memcpy(s, name, nl + 1);
        return s;
    }
    size_t bl = strlen(base);
    char *s = malloc(bl + nl + 2);
    if (!s)
        return NULL;
    memcpy(s, base, bl);
    s[bl] = '/';
    memcpy(s + bl + 1, name, nl + 1);
    return s;
}

/* Splits one line into tokens in place; quotes group words. Returns the
 * token count or -1 for an unterminated quote. */
static int tokenize(char *line, char **tok, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            break;
        if (n == max)
            return max + 1;
        if (*p == '"') {
            p++;
            tok[n++] = p;
            char *q = strchr(p, '"');
            if (!q)
                return -1;
            *q = 0;
            p = q + 1;
        } else {
            tok[n++] = p;
            while (*p && !isspace((unsigned char)*p))
                p++;
            if (*p)
                *p++ = 0;
        }
    }
    return n;
}

static int valid_name(const char *s)
{
    if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

RnnfxStatus rnnfx_manifest_parse(const char *text, const char *base_dir, RnnfxManifest *m,
                                 RnnfxError *err)
{
    memset(m, 0, sizeof *m);
    size_t tl = strlen(text);
    char *copy = malloc(tl + 1);
    if (!copy)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    memcpy(copy, text, tl + 1);
    RnnfxStatus st = RNNFX_OK;
    size_t cap = 0;
    int lineno = 0;
    char *save = NULL;
    /* A UTF-8 byte-order mark (Windows editors write one) is not part of the
     * first file name ("cannot open: <BOM>dry.wav" otherwise). */
    char *start = !strncmp(copy, "\xEF\xBB\xBF", 3) ? copy + 3 : copy;
    for (char *line = start; line; line = save) {
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = 0;
        lineno++;
        char *tok[2 + RNNFX_MAX_PARAMS + 1];
        int nt = tokenize(line, tok, 2 + RNNFX_MAX_PARAMS);
        if (nt == 0)
            continue;
        if (nt < 0) {
            st = rnnfx_fail(err, RNNFX_ERR_PARSE, "line %d: unterminated quote", lineno);
            break;
        }
        if (nt > 2 + RNNFX_MAX_PARAMS) {
            st = rnnfx_fail(err, RNNFX_ERR_LIMIT, "line %d: more than %d knobs", lineno,
                            RNNFX_MAX_PARAMS);
            break;
        }
        if (nt < 2 || strchr(tok[0], '=') || strchr(tok[1], '=')) {
            st = rnnfx_fail(err, RNNFX_ERR_PARSE,
                            "line %d: expected 'input target name=value ...'", lineno);
            break;
        }
        RnnfxManifestEntry e;
        memset(&e, 0, sizeof e);
        e.line = lineno;
        int seen[RNNFX_MAX_PARAMS] = {0};
        int nk = nt - 2;
        if (m->n > 0 && nk != m->n_knobs) {
            st = rnnfx_fail(err, RNNFX_ERR_INVALID,
                            "line %d: sets %d knobs, the first entry sets %d (every line needs the same knobs)",
                            lineno, nk, m->n_knobs);
            break;
        }
        for (int k = 0; k < nk && st == RNNFX_OK; k++) {
            char *kv = tok[2 + k];
            char *eq = strchr(kv, '=');
            if (!eq) {
                st = rnnfx_fail(err, RNNFX_ERR_PARSE, "line %d: '%s' is not name=value", lineno, kv);
                break;
            }
            *eq = 0;
            double v;
            if (!valid_name(kv) || strlen(kv) >= RNNFX_NAME_LEN) {
                st = rnnfx_fail(err, RNNFX_ERR_PARSE, "line %d: invalid knob name '%s'", lineno, kv);
                break;
            }
            if (rnnfx_cli_parse_double(eq + 1, &v) != 0) {
                st = rnnfx_fail(err, RNNFX_ERR_PARSE, "line %d: knob %s: '%s' is not a number",
                                lineno, kv, eq + 1);
                break;
            }
            /* The model keeps knob values and ranges as floats: a value
             * beyond FLT_MAX would become an infinite range, refused only
             * after every recording had been read, without the line. */
            if (fabs(v) > FLT_MAX) {
                st = rnnfx_fail(err, RNNFX_ERR_INVALID,
                                "line %d: knob %s: %s is out of range (at most %g in magnitude)",
                                lineno, kv, eq + 1, (double)FLT_MAX);
                break;
            }
            int idx = -1;
            if (m->n == 0) {
                for (int j = 0; j < k; j++)
                    if (!strcmp(m->knobs[j], kv))
                        idx = j;
                if (idx >= 0) {
                    st = rnnfx_fail(err, RNNFX_ERR_INVALID, "line %d: knob %s set twice", lineno, kv);
                    break;
                }
                idx = k;
                snprintf(m->knobs[k], RNNFX_NAME_LEN, "%s", kv);
            } else {
                for (int j = 0; j < m->n_knobs; j++)
                    if (!strcmp(m->knobs[j], kv))
                        idx = j;
                if (idx < 0) {
                    st = rnnfx_fail(err, RNNFX_ERR_INVALID,
                                    "line %d: knob '%s' is not set on the first entry", lineno, kv);
                    break;
                }
                if (seen[idx]) {
                    st = rnnfx_fail(err, RNNFX_ERR_INVALID, "line %d: knob %s set twice", lineno, kv);
                    break;
                }
            }
            seen[idx] = 1;
            e.values[idx] = v;
        }
        if (st != RNNFX_OK)
            break;
        if (m->n == 0)
            m->n_knobs = nk;
        e.input = resolve(base_dir, tok[0]);
        e.target = resolve(base_dir, tok[1]);
        if (m->n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            RnnfxManifestEntry *ne = realloc(m->entries, nc * sizeof *ne);
            if (!ne) {
                free(e.input);
                free(e.target);
                st = rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
                break;
            }
            m->entries = ne;
            cap = nc;
        }
        m->entries[m->n++] = e;
        if (!e.input || !e.target) {
            st = rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
            break;
        }
    }
    free(copy);
    if (st == RNNFX_OK && m->n == 0)
        st = rnnfx_fail(err, RNNFX_ERR_INVALID, "no entries (expected lines 'input target name=value ...')");
    /* Without knobs, one input paired with two targets asks the model for
     * two answers to the same sound: it learnt their average (test ESR
     * 0.24 where the same pairs with their drive values reached 0.002). */
    for (size_t i = 0; st == RNNFX_OK && m->n_knobs == 0 && i < m->n; i++)
        for (size_t j = i + 1; j < m->n; j++)
            if (!strcmp(m->entries[i].input, m->entries[j].input) &&
                strcmp(m->entries[i].target, m->entries[j].target) != 0) {
                st = rnnfx_fail(err, RNNFX_ERR_INVALID,
                                "lines %d and %d pair the same input with different targets and "
                                "no knob tells them apart: give each line its setting "
                                "(name=value)",
                                m->entries[i].line, m->entries[j].line);
                break;
            }
    if (st == RNNFX_OK) {
        for (int k = 0; k < m->n_knobs; k++) {
            m->min[k] = m->max[k] = m->entries[0].values[k];
            for (size_t i = 1; i < m->n; i++) {
                double v = m->entries[i].values[k];
                if (v < m->min[k])
                    m->min[k] = v;
                if (v > m->max[k])
                    m->max[k] = v;
            }
            /* compared as the model will store them (floats): values that
             * differ only past float precision are one setting */
            if (!((float)m->max[k] > (float)m->min[k])) {
                st = rnnfx_fail(err, RNNFX_ERR_INVALID,
                                "knob '%s' has the same value (%g) on every line: nothing to learn from it",
                                m->knobs[k], m->min[k]);
                break;
            }
        }
    }
    if (st != RNNFX_OK)
        rnnfx_manifest_free(m);
    return st;
}

RnnfxStatus rnnfx_manifest_load(const char *path, RnnfxManifest *m, RnnfxError *err)
{
    memset(m, 0, sizeof *m);
    char *text = NULL;
    size_t len = 0;
    RnnfxStatus st = rnnfx_read_file(path, 1u << 20, &text, &len, err);
    if (st != RNNFX_OK)
        return st;
    char base[4096];
    snprintf(base, sizeof base, "%s", path);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = 0;
    else
        base[0] = 0;
    st = rnnfx_manifest_parse(text, base[0] ? base : NULL, m, err);
    free(text);
    if (st != RNNFX_OK)
        rnnfx_error_prefix(err, "%s", path); /* it adds the ": " */
    return st;
}

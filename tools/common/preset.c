/*
 * preset.c — writing LV2 preset files for trained models. See preset.h.
 */
#include "preset.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export.h"
#include "model_file.h"

/* Percent-encodes a path for use inside <...> (RFC 3986 path characters are
 * kept). */
static void uri_escape(const char *in, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < len; p++) {
        unsigned char c = *p;
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   strchr("-._~/!$&'()*+,;=:@", c);
        if (keep) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = 0;
}

/* Escapes a Turtle string literal body. Turtle is UTF-8: a label holding
 * another encoding's bytes (--name typed on a Latin-1 terminal) made
 * every LV2 host refuse the preset file ("invalid UTF-8 start"), so the
 * preset was silently missing; such bytes become U+FFFD. */
static void str_escape(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < len; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*p;
        } else if (*p == '\n' || *p == '\r' || *p == '\t') {
            out[o++] = ' ';
        } else if (*p < 0x80) {
            out[o++] = (char)*p;
        } else {
            size_t n = rnnfx_utf8_len(p);
            if (n == 0) {
                out[o++] = (char)0xEF; /* U+FFFD */
                out[o++] = (char)0xBF;
                out[o++] = (char)0xBD;
            } else if (o + n + 1 < len) {
                memcpy(out + o, p, n);
                o += n;
                p += n - 1;
            } else {
                break; /* never cut a character in two */
            }
        }
    }
    out[o] = 0;
}

char *rnnfx_preset_text(const char *subject, const char *label, const char *model_ref)
{
    char lab[512];
    str_escape(label ? label : "rnnfx capture", lab, sizeof lab);
    /* The same preset twice, as the bundled ones are: for the mono plugin
     * <subject> and for the stereo one <subject#stereo> (an LV2 preset
     * applies to one plugin, whose ports its values name). */
    const char *fmt =
        "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
        "@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix state: <http://lv2plug.in/ns/ext/state#> .\n"
        "\n"
        "<%s>\n"
        "    a pset:Preset ;\n"
        "    lv2:appliesTo <" RNNFX_PLUGIN_URI "> ;\n"
        "    rdfs:label \"%s\" ;\n"
        "    state:state [\n"
        "        <" RNNFX_MODEL_PROPERTY_URI "> <%s>\n"
        "    ] .\n"
        "\n"
        "<%s" RNNFX_STEREO_SUFFIX ">\n"
        "    a pset:Preset ;\n"
        "    lv2:appliesTo <" RNNFX_STEREO_PLUGIN_URI "> ;\n"
        "    rdfs:label \"%s\" ;\n"
        "    state:state [\n"
        "        <" RNNFX_MODEL_PROPERTY_URI "> <%s>\n"
        "    ] .\n";
    size_t n = strlen(fmt) + 2 * (strlen(subject) + strlen(lab) + strlen(model_ref)) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, fmt, subject, lab, model_ref, subject, lab, model_ref);
    return s;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

RnnfxStatus rnnfx_preset_write_bundle(const char *bundle_dir, const char *label,
                                      const char *model_path, RnnfxError *err)
{
    size_t bl = strlen(bundle_dir);
    while (bl > 1 && bundle_dir[bl - 1] == '/')
        bl--;
    if (bl < 5 || strncmp(bundle_dir + bl - 4, ".lv2", 4) != 0)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "%s: a preset bundle's name must end in .lv2",
                          bundle_dir);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)bl, bundle_dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));

    char *model = NULL;
    size_t mlen = 0;
    RnnfxStatus st = rnnfx_read_file(model_path, RNNFX_MAX_FILE_BYTES, &model, &mlen, err);
    if (st != RNNFX_OK)
        return st;
    const char *mname = base_name(model_path);
    char path[PATH_MAX + 1024];
    snprintf(path, sizeof path, "%s/%s", dir, mname);
    st = rnnfx_write_file_atomic(path, model, mlen, err);
    free(model);
    if (st != RNNFX_OK)
        return st;

    /* the preset's own file name: the bundle's stem + .ttl */
    char stem[256];
    const char *bn = base_name(dir);
    snprintf(stem, sizeof stem, "%.*s", (int)(strlen(bn) - 4), bn);
    char ttl_name[300], ttl_ref[900], model_ref[900];
    snprintf(ttl_name, sizeof ttl_name, "%s.ttl", stem);
    uri_escape(ttl_name, ttl_ref, sizeof ttl_ref);
    uri_escape(mname, model_ref, sizeof model_ref);

    char *text = rnnfx_preset_text(ttl_ref, label, model_ref);
    if (!text)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/%s", dir, ttl_name);
    st = rnnfx_write_file_atomic(path, text, strlen(text), err);
    free(text);
    if (st != RNNFX_OK)
        return st;

    char manifest[4096];
    int n = snprintf(manifest, sizeof manifest,
                     "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
                     "@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
                     "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                     "\n"
                     "<%s>\n"
                     "    a pset:Preset ;\n"
                     "    lv2:appliesTo <" RNNFX_PLUGIN_URI "> ;\n"
                     "    rdfs:seeAlso <%s> .\n"
                     "\n"
                     "<%s" RNNFX_STEREO_SUFFIX ">\n"
                     "    a pset:Preset ;\n"
                     "    lv2:appliesTo <" RNNFX_STEREO_PLUGIN_URI "> ;\n"
                     "    rdfs:seeAlso <%s> .\n",
                     ttl_ref, ttl_ref, ttl_ref, ttl_ref);
    snprintf(path, sizeof path, "%s/manifest.ttl", dir);
    return rnnfx_write_file_atomic(path, manifest, (size_t)n, err);
}

RnnfxStatus rnnfx_preset_write_ttl(const char *ttl_path, const char *label,
                                   const char *model_path, RnnfxError *err)
{
    char abs[PATH_MAX];
    if (!realpath(model_path, abs))
        return rnnfx_fail(err, RNNFX_ERR_IO, "%s: %s", model_path, strerror(errno));
    char esc[3 * PATH_MAX], ref[3 * PATH_MAX + 16];
    uri_escape(abs, esc, sizeof esc);
    snprintf(ref, sizeof ref, "file://%s", esc);
    char subj[900];
    uri_escape(base_name(ttl_path), subj, sizeof subj);
    char *text = rnnfx_preset_text(subj, label, ref);
    if (!text)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    RnnfxStatus st = rnnfx_write_file_atomic(ttl_path, text, strlen(text), err);
    free(text);
    return st;
}

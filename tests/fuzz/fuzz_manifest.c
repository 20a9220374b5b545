/*
 * fuzz_manifest.c — libFuzzer harness for the conditioned-capture manifest
 * parser (tools/common/manifest.h).
 *
 * A manifest is a hand-written text file (often edited on other systems:
 * byte-order marks, CR LF, tabs, quotes), and rnnfx-train reads it before
 * any audio, so its tokenizer and knob bookkeeping must cope with any bytes:
 * a status and a message naming the line, or a manifest whose every entry
 * has both paths and knob values that are finite as floats and vary as
 * floats (the trainer copies them into the model's float knob ranges). The input is handed over as the text of a file would be,
 * cut at the first NUL (rnnfx_manifest_load() reads a file into a
 * NUL-terminated buffer); the first byte chooses whether names are resolved
 * against a folder.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by `make fuzz`; the
 * same entry point is linked without libFuzzer into tests/test_fuzz_corpus.c,
 * which replays the committed corpus in the ordinary test run.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_manifest_check(const RnnfxManifest *m)
{
    if (m->n == 0 || m->n_knobs < 0 || m->n_knobs > RNNFX_MAX_PARAMS)
        abort();
    for (int k = 0; k < m->n_knobs; k++) {
        if (!m->knobs[k][0] || !memchr(m->knobs[k], '\0', RNNFX_NAME_LEN))
            abort();
        /* the trainer stores knob ranges as floats: they must stay finite
         * and non-empty as floats */
        if (!isfinite((float)m->min[k]) || !isfinite((float)m->max[k]) ||
            !((float)m->max[k] > (float)m->min[k])) {
            fprintf(stderr, "fuzz_manifest: knob %d range %g..%g\n", k, m->min[k], m->max[k]);
            abort();
        }
    }
    for (size_t i = 0; i < m->n; i++) {
        const RnnfxManifestEntry *e = &m->entries[i];
        if (!e->input || !e->target || e->line < 1)
            abort();
        for (int k = 0; k < m->n_knobs; k++)
            if (!isfinite((float)e->values[k]))
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    RnnfxManifest m;
    RnnfxError err;
    memset(&err, 0, sizeof err);
    const char *base = size > 0 && (data[0] & 1) ? "/captures/amp one" : NULL;
    RnnfxStatus st = rnnfx_manifest_parse(text, base, &m, &err);
    if (st == RNNFX_OK) {
        fuzz_manifest_check(&m);
        rnnfx_manifest_free(&m);
    } else if (err.msg[0] == '\0' || m.entries || m.n) {
        fprintf(stderr, "fuzz_manifest: status %d without a clean refusal\n", (int)st);
        abort();
    }
    free(text);
    return 0;
}

/*
 * model_checks.h — what the model harnesses (fuzz_model.c, fuzz_arch.c)
 * check about one model file, shared so both apply the same promises.
 *
 * fuzz_model_check() loads bytes with rnnfx_model_load_memory(); a refusal
 * must carry a message and leave no model; an accepted model must be
 * finalized, run on both kernel paths with hostile samples and knob values
 * with finite outputs, and survive a save as rnnfx JSON with the same
 * weights. Any broken promise aborts (the fuzzer reports it like a crash).
 *
 * Static functions in a header: each harness is one translation unit, and
 * test_fuzz_corpus.c includes several harnesses (the include guard keeps
 * one copy).
 */
#ifndef RNNFX_FUZZ_MODEL_CHECKS_H
#define RNNFX_FUZZ_MODEL_CHECKS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"
#include "model.h"
#include "model_file.h"

/* Samples a host or a broken upstream plugin can send: NaN, both
 * infinities, values that overflow after any gain, denormals, zeros of both
 * signs, among ordinary ones. */
static const float fuzz_model_specials[] = {
    0.0f, 0.5f, -0.25f, NAN, 1.0f, INFINITY, -INFINITY, 3.0e38f, -3.0e38f,
    1.0e-40f, -0.0f, 1.0e6f, -1.0f, 0.125f, 1.0e-30f, 0.75f,
};
#define FUZZ_MODEL_N_SPECIALS (sizeof fuzz_model_specials / sizeof fuzz_model_specials[0])
/* Short blocks: enough to run every kernel over a block end and a NaN reset,
 * small enough that a 1024-unit model still runs many executions a second. */
#define FUZZ_MODEL_STEPS 24

static void fuzz_model_check_finite(const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i])) {
            fprintf(stderr, "fuzz_model: non-finite output %g at %zu\n", (double)y[i], i);
            abort();
        }
}

static void fuzz_model_run(const RnnfxModel *m, RnnfxPath path)
{
    const RnnfxArch *a = rnnfx_model_arch(m);
    RnnfxInstance *inst = rnnfx_instance_new(m);
    if (!inst) {
        fprintf(stderr, "fuzz_model: a loaded (finalized) model gave no instance\n");
        abort();
    }
    rnnfx_instance_set_path(inst, path);
    size_t nin = (size_t)FUZZ_MODEL_STEPS * (size_t)a->input_size;
    size_t nout = (size_t)FUZZ_MODEL_STEPS * (size_t)a->output_size;
    float *in = malloc(nin * sizeof *in);
    float *out = malloc((nout > FUZZ_MODEL_STEPS ? nout : FUZZ_MODEL_STEPS) * sizeof *out);
    if (!in || !out)
        abort();
    for (size_t i = 0; i < nin; i++)
        in[i] = fuzz_model_specials[(i * 7 + 3) % FUZZ_MODEL_N_SPECIALS];

    if (a->kind == RNNFX_KIND_AUDIO) {
        /* knobs: out of range, NaN (ignored), infinities, then ordinary */
        for (int k = 0; k < a->n_params; k++) {
            rnnfx_instance_set_param(inst, k, fuzz_model_specials[(size_t)(k + 3) %
                                                                  FUZZ_MODEL_N_SPECIALS]);
            rnnfx_instance_set_param(inst, k, fuzz_model_specials[(size_t)(k + 5) %
                                                                  FUZZ_MODEL_N_SPECIALS]);
        }
        rnnfx_instance_set_param(inst, -1, 1.0f);           /* no such knob */
        rnnfx_instance_set_param(inst, a->n_params, 1.0f); /* no such knob */
        rnnfx_instance_process(inst, in, out, FUZZ_MODEL_STEPS);
        fuzz_model_check_finite(out, FUZZ_MODEL_STEPS);
        /* in place, as hosts do */
        for (size_t i = 0; i < FUZZ_MODEL_STEPS; i++)
            out[i] = fuzz_model_specials[i % FUZZ_MODEL_N_SPECIALS];
        rnnfx_instance_process(inst, out, out, FUZZ_MODEL_STEPS);
        fuzz_model_check_finite(out, FUZZ_MODEL_STEPS);
        rnnfx_instance_process(inst, in, out, 0);
        for (int k = 0; k < a->n_params; k++)
            rnnfx_instance_set_param(inst, k, a->params[k].def);
    }
    rnnfx_instance_reset(inst);
    rnnfx_instance_process_frames(inst, in, out, FUZZ_MODEL_STEPS);
    fuzz_model_check_finite(out, nout);
    rnnfx_instance_free(inst);
    free(in);
    free(out);
}

/* Writes the model as rnnfx JSON and reads it back: a model the loader
 * accepts from any format must be one the project can save and reload. */
static void fuzz_model_roundtrip(const RnnfxModel *m)
{
    char *text = NULL;
    RnnfxError err;
    memset(&err, 0, sizeof err);
    RnnfxStatus st = rnnfx_model_to_json(m, &text, &err);
    if (st != RNNFX_OK) {
        fprintf(stderr, "fuzz_model: a loaded model cannot be written: %s\n", err.msg);
        abort();
    }
    RnnfxModel *back = NULL;
    st = rnnfx_model_load_memory(text, strlen(text), NULL, &back, &err);
    if (st != RNNFX_OK) {
        fprintf(stderr, "fuzz_model: written model does not load back: %s\n", err.msg);
        abort();
    }
    size_t n1 = 0, n2 = 0;
    const float *p1 = rnnfx_model_params_const(m, &n1);
    const float *p2 = rnnfx_model_params_const(back, &n2);
    if (n1 != n2) {
        fprintf(stderr, "fuzz_model: %zu weights written, %zu read back\n", n1, n2);
        abort();
    }
    for (size_t i = 0; i < n1; i++)
        if (p1[i] != p2[i]) {
            fprintf(stderr, "fuzz_model: weight %zu is %.9g, read back as %.9g\n", i,
                    (double)p1[i], (double)p2[i]);
            abort();
        }
    rnnfx_model_free(back);
    free(text);
}

/* Loads one file image and checks everything above. Returns the load
 * status (the harness ignores it; the generators' tests may not). */
static RnnfxStatus fuzz_model_check(const char *data, size_t size)
{
    RnnfxModel *m = NULL;
    RnnfxError err;
    memset(&err, 0, sizeof err);
    RnnfxStatus st = rnnfx_model_load_memory(data, size, NULL, &m, &err);
    if (st != RNNFX_OK) {
        /* a refusal must say why and leave nothing behind */
        if (m || err.msg[0] == '\0' || !memchr(err.msg, '\0', sizeof err.msg)) {
            fprintf(stderr, "fuzz_model: status %d without a clean refusal\n", (int)st);
            abort();
        }
        return st;
    }
    if (!m || !rnnfx_model_is_finalized(m)) {
        fprintf(stderr, "fuzz_model: OK without a finalized model\n");
        abort();
    }
    fuzz_model_run(m, RNNFX_PATH_REFERENCE);
    fuzz_model_run(m, RNNFX_PATH_FAST);
    fuzz_model_roundtrip(m);
    rnnfx_model_free(m);
    return RNNFX_OK;
}

#endif

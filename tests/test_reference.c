/*
 * test_reference.c — the engine against PyTorch.
 *
 * Every case in tests/data/refs/manifest.txt (written by
 * tests/gen_torch_refs.py from torch.nn.LSTM/GRU/RNN + Linear, float64) is
 * loaded through rnnfx_model_load() — so the rnnfx JSON reader is part of
 * what is checked — and run over its 4096-frame input on both kernel paths:
 *
 *   reference path (plain C, libm):  max abs error <= 1e-5
 *   fast path (SIMD, fast activations): max abs error <= 1e-4
 *
 * Each case runs as process_frames() over the whole input, and for audio
 * models also as process() with the knob inputs fed through set_param()
 * sample by sample (the way the plugin drives it). The fast path runs once
 * with the engine's own kernel choice and once more with every other kernel
 * set this CPU can run (generic, avx2, avx512, via the engine's RNNFX_ISA
 * cap), so each SIMD variant is checked, not just the best one. The
 * measured errors are printed so their trend can be followed, and the fast
 * path is also compared with the reference path directly.
 *
 * The peephole cases check against the script's own peephole equations
 * (PyTorch has no peephole LSTM); everything else against PyTorch itself.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enginetest.h"
#include "instance.h"
#include "model_file.h"

#define TOL_REFERENCE 1e-5
#define TOL_FAST 1e-4

typedef struct {
    const RnnfxRefCase *c;
} CaseState;

/* Worst errors over all cases, printed at the end. */
typedef struct {
    double frames, audio;
} Worst;
static Worst worst_ref;
static const char *const ISA_NAMES[3] = {"generic", "avx2", "avx512"};
static Worst worst_fast[3];
static double worst_fvr[3];

/* Runs the instance over the whole input with process_frames(). */
static void run_frames(RnnfxInstance *inst, const float *in, float *out, size_t n)
{
    rnnfx_instance_reset(inst);
    rnnfx_instance_process_frames(inst, in, out, n);
}

/* Runs an audio model as the plugin does: knobs through set_param(), audio
 * through process(); one sample at a time so every knob change lands on the
 * right sample. out receives output channel 0 only. */
static void run_audio(RnnfxInstance *inst, const float *in, int in_size, float *out, size_t n)
{
    rnnfx_instance_reset(inst);
    for (size_t t = 0; t < n; t++) {
        for (int k = 1; k < in_size; k++)
            rnnfx_instance_set_param(inst, k - 1, in[t * (size_t)in_size + (size_t)k]);
        float x = in[t * (size_t)in_size];
        rnnfx_instance_process(inst, &x, &out[t], 1);
    }
}

/* Loads a case's model with the fast kernels capped at `isa` (NULL: the
 * engine's own choice), via the engine's RNNFX_ISA override. */
static RnnfxModel *load_case(const RnnfxRefCase *c, const char *isa)
{
    if (isa)
        setenv("RNNFX_ISA", isa, 1);
    else
        unsetenv("RNNFX_ISA");
    RnnfxModel *model = NULL;
    RnnfxError err = {{0}};
    RnnfxStatus st = rnnfx_model_load(c->model, NULL, &model, &err);
    unsetenv("RNNFX_ISA");
    if (st != RNNFX_OK)
        fail_msg("%s: load failed: %s: %s", c->name, rnnfx_strerror(st), err.msg);
    return model;
}

typedef struct {
    double frames, audio; /* max abs errors; audio -1 if not an audio model */
} Errors;

static Errors measure(const RnnfxRefCase *c, RnnfxInstance *inst, const float *in,
                      const float *want, const float *want0, float *got, float *mono)
{
    const size_t n = RNNFX_TEST_REF_SAMPLES;
    Errors e = {0, -1};
    run_frames(inst, in, got, n);
    e.frames = rnnfx_test_max_abs_diff(got, want, n * (size_t)c->output_size);
    if (rnnfx_model_arch(rnnfx_instance_model(inst))->kind == RNNFX_KIND_AUDIO) {
        run_audio(inst, in, c->input_size, mono, n);
        e.audio = rnnfx_test_max_abs_diff(mono, want0, n);
    }
    return e;
}

static void check(const RnnfxRefCase *c, const char *what, Errors e, double tol)
{
    if (!(e.frames <= tol))
        fail_msg("%s: %s, process_frames: max abs error %.3g > %.0e", c->name, what, e.frames,
                 tol);
    if (e.audio != -1 && !(e.audio <= tol))
        fail_msg("%s: %s, process+set_param: max abs error %.3g > %.0e", c->name, what, e.audio,
                 tol);
}

static void test_case(void **state)
{
    const RnnfxRefCase *c = ((CaseState *)*state)->c;
    const size_t n = RNNFX_TEST_REF_SAMPLES;
    const size_t n_out = n * (size_t)c->output_size;
    float *in = rnnfx_test_read_f32(c->input, n * (size_t)c->input_size);
    float *want = rnnfx_test_read_f32(c->expected, n_out);
    if (!in || !want)
        fail_msg("%s: cannot read %s or %s", c->name, c->input, c->expected);
    float *ref = malloc(n_out * sizeof(float)), *got = malloc(n_out * sizeof(float));
    float *mono = malloc(n * sizeof(float)), *want0 = malloc(n * sizeof(float));
    assert_non_null(ref);
    assert_non_null(got);
    assert_non_null(mono);
    assert_non_null(want0);
    for (size_t t = 0; t < n; t++)
        want0[t] = want[t * (size_t)c->output_size];

    /* the reference path */
    RnnfxModel *model = load_case(c, NULL);
    const RnnfxArch *arch = rnnfx_model_arch(model);
    assert_int_equal(arch->input_size, c->input_size);
    assert_int_equal(arch->output_size, c->output_size);
    RnnfxInstance *inst = rnnfx_instance_new(model);
    assert_non_null(inst);
    rnnfx_instance_set_path(inst, RNNFX_PATH_REFERENCE);
    assert_int_equal(rnnfx_instance_path(inst), RNNFX_PATH_REFERENCE);
    Errors er = measure(c, inst, in, want, want0, ref, mono);
    rnnfx_instance_free(inst);
    rnnfx_model_free(model);
    printf("  %-28s reference %.2e (process %.2e)", c->name, er.frames, er.audio < 0 ? 0 : er.audio);
    if (er.frames > worst_ref.frames)
        worst_ref.frames = er.frames;
    if (er.audio > worst_ref.audio)
        worst_ref.audio = er.audio;

    /* the fast path: the engine's choice, then every kernel set this CPU
     * runs (each one is a different code path) */
    const char *isas[] = {NULL, "generic", "avx2", "avx512"};
    char done[4][16] = {{0}};
    Errors ef[4];
    const char *names[4] = {0};
    double fvr[4] = {0};
    int n_done = 0;
    for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++) {
        model = load_case(c, isas[k]);
        inst = rnnfx_instance_new(model);
        assert_non_null(inst);
        rnnfx_instance_set_path(inst, RNNFX_PATH_FAST);
        const char *kname = rnnfx_instance_kernel_name(inst);
        int seen = 0;
        for (int j = 0; j < n_done; j++)
            seen |= strcmp(done[j], kname) == 0;
        if (!seen && (isas[k] == NULL || strcmp(kname, isas[k]) == 0)) {
            snprintf(done[n_done], sizeof done[n_done], "%s", kname);
            names[n_done] = done[n_done];
            ef[n_done] = measure(c, inst, in, want, want0, got, mono);
            fvr[n_done] = rnnfx_test_max_abs_diff(got, ref, n_out);
            printf("  %s %.2e (process %.2e, vs ref %.2e)", kname, ef[n_done].frames,
                   ef[n_done].audio < 0 ? 0 : ef[n_done].audio, fvr[n_done]);
            for (int w = 0; w < 3; w++)
                if (strcmp(kname, ISA_NAMES[w]) == 0) {
                    if (ef[n_done].frames > worst_fast[w].frames)
                        worst_fast[w].frames = ef[n_done].frames;
                    if (ef[n_done].audio > worst_fast[w].audio)
                        worst_fast[w].audio = ef[n_done].audio;
                    if (fvr[n_done] > worst_fvr[w])
                        worst_fvr[w] = fvr[n_done];
                }
            n_done++;
        }
        rnnfx_instance_free(inst);
        rnnfx_model_free(model);
    }
    printf("\n");
    free(in), free(want), free(ref), free(got), free(mono), free(want0);

    check(c, "reference path", er, TOL_REFERENCE);
    for (int j = 0; j < n_done; j++) {
        char what[64];
        snprintf(what, sizeof what, "fast path [%s]", names[j]);
        check(c, what, ef[j], TOL_FAST);
        if (!(fvr[j] <= TOL_FAST))
            fail_msg("%s: fast path [%s] differs from the reference path by %.3g", c->name,
                     names[j], fvr[j]);
    }
}

/* The manifest itself: present, and the cases cover what the issue asks. */
static RnnfxRefCase *g_cases;
static int g_n_cases;

static void test_manifest_covers(void **state)
{
    (void)state;
    assert_true(g_n_cases >= 20);
    int cells[3] = {0}, sizes[5] = {0}, multi = 0, in3 = 0, skip = 0, noskip = 0, relu = 0,
        peep = 0, sigm = 0;
    const int want_sizes[5] = {8, 16, 32, 40, 64};
    for (int i = 0; i < g_n_cases; i++) {
        RnnfxModel *m = NULL;
        RnnfxError err;
        if (rnnfx_model_load(g_cases[i].model, NULL, &m, &err) != RNNFX_OK)
            continue; /* the case's own test reports it */
        const RnnfxArch *a = rnnfx_model_arch(m);
        for (int l = 0; l < a->n_layers; l++) {
            cells[a->layers[l].cell]++;
            relu += a->layers[l].relu;
            peep += a->layers[l].peephole;
            for (int s = 0; s < 5; s++)
                sizes[s] += a->layers[l].hidden_size == want_sizes[s];
        }
        multi += a->n_layers >= 3;
        in3 += a->input_size == 3;
        skip += a->skip;
        noskip += !a->skip;
        sigm += a->output_sigmoid;
        rnnfx_model_free(m);
    }
    for (int k = 0; k < 3; k++)
        assert_true(cells[k] > 0);
    for (int s = 0; s < 5; s++)
        assert_true(sizes[s] > 0);
    assert_true(multi > 0 && in3 > 0 && skip > 0 && noskip > 0 && relu > 0 && peep > 0 &&
                sigm > 0);
}

int main(void)
{
    char dir[512];
    rnnfx_test_path(dir, sizeof dir, "tests/data/refs");
    g_n_cases = rnnfx_test_read_manifest(dir, &g_cases);
    if (g_n_cases <= 0) {
        fprintf(stderr, "test_reference: cannot read %s/manifest.txt (run from the repository "
                        "root or set RNNFX_SRCDIR)\n", dir);
        return 1;
    }
    int n = g_n_cases + 1;
    struct CMUnitTest *tests = calloc((size_t)n, sizeof *tests);
    CaseState *states = calloc((size_t)g_n_cases, sizeof *states);
    if (!tests || !states)
        return 1;
    tests[0].name = "manifest_covers_the_issue";
    tests[0].test_func = test_manifest_covers;
    for (int i = 0; i < g_n_cases; i++) {
        states[i].c = &g_cases[i];
        tests[i + 1].name = g_cases[i].name;
        tests[i + 1].test_func = test_case;
        tests[i + 1].initial_state = &states[i];
    }
    printf("max abs error per case (limits: reference %.0e, fast %.0e):\n", TOL_REFERENCE,
           TOL_FAST);
    int failed = _cmocka_run_group_tests("reference", tests, (size_t)n, NULL, NULL);
    printf("worst max abs error: reference %.3g (process %.3g)\n", worst_ref.frames,
           worst_ref.audio);
    for (int w = 0; w < 3; w++)
        printf("worst max abs error: fast [%s] %.3g (process %.3g), vs reference %.3g\n",
               ISA_NAMES[w], worst_fast[w].frames, worst_fast[w].audio, worst_fvr[w]);
    free(tests);
    free(states);
    free(g_cases);
    return failed;
}

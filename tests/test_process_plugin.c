/*
 * test_process_plugin.c — the batch tool and the plugin give the same
 * samples for the same model, settings and rate.
 *
 * The built rnnfx.lv2 bundle is loaded through lilv (tests/support/lv2host,
 * a host that provides what DAWs provide: Worker, URID, Options, State), the
 * model is sent as a patch:Set of the model path, the controls are set on the
 * control ports, and a stereo 44.1 kHz file (a 48 kHz model: resampling in
 * both) is played through it in 512-frame blocks. rnnfx-process renders the
 * same file with the same settings. The plugin's output, shifted by the
 * latency it reports on its latency port, must equal the batch output bit
 * for bit, with Normalize off and on (the level each measures for the
 * model when it loads, from the same rest state, must agree to the bit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sndfile.h>

#include "../plugin/rnnfx_ports.h"
#include "audiotest.h"
#include "enginetest.h"
#include "lv2host.h"
#include "model.h"
#include "model_file.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static char g_bin[PATH_MAX], g_bundle[PATH_MAX], g_tmp[PATH_MAX];

enum { FRAMES = 30000, RATE = 44100, BLOCK = 512 };

/* Five knobs: "drive" on knob1, three more on the plugin's other knob
 * ports, and a fifth the plugin has no port for, so it plays the model's
 * default there. That default, 0.1 on 0..10, does not survive a trip
 * through 0..1 (it comes back 1 ulp low), which rnnfx-process once made. */
static void make_model(const char *path)
{
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, RNNFX_CELL_LSTM, 12, 1);
    arch.n_params = 5;
    arch.input_size = 1 + arch.n_params;
    for (int k = 0; k < arch.n_params; k++) {
        snprintf(arch.params[k].name, sizeof arch.params[k].name, "k%d", k + 1);
        arch.params[k].min = 0.0f;
        arch.params[k].max = 1.0f;
        arch.params[k].def = 0.5f;
    }
    snprintf(arch.params[0].name, sizeof arch.params[0].name, "drive");
    arch.params[0].min = 0.0f;
    arch.params[0].max = 10.0f;
    arch.params[0].def = 5.0f;
    snprintf(arch.params[4].name, sizeof arch.params[4].name, "tone");
    arch.params[4].max = 10.0f;
    arch.params[4].def = 0.1f;
    RnnfxModel *m = rnnfx_test_random_model(&arch, 77, 1.0f, 0);
    assert_non_null(m);
    rnnfx_model_meta(m)->sample_rate = 48000;
    RnnfxError err;
    assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    assert_int_equal(rnnfx_model_save(m, path, &err), RNNFX_OK);
    rnnfx_model_free(m);
}

/* Sets the controls rnnfx-process is given in batch_vs_plugin. */
static void set_controls(Lv2Host *h, int normalize)
{
    lv2host_set(h, "input_gain", 3.0f);
    lv2host_set(h, "output_gain", -2.0f);
    lv2host_set(h, "mix", 0.7f);
    lv2host_set(h, "enabled", 1.0f);
    lv2host_set(h, "knob1", 0.25f); /* drive 2.5 on 0..10 */
    lv2host_set(h, "normalize", normalize ? 1.0f : 0.0f);
}

/* Plays the file through the plugin; returns [2][FRAMES] aligned output.
 * late: the ports hold other values at activate, and the host sets these
 * only before the first run (the plugin prepares the chain for the first
 * cycle in activate; what the first cycle finds must still win). */
static float *plugin_render(const char *model, const float *l, const float *r, int normalize,
                            int late, int *latency)
{
    Lv2HostConfig cfg = {RATE, BLOCK, LV2HOST_WORKER_SYNC, 0, 0};
    char err[512];
    Lv2Host *h = lv2host_new(g_bundle, RNNFX_URI_STEREO, &cfg, err, sizeof err);
    if (!h)
        fprintf(stderr, "lv2host: %s\n", err);
    assert_non_null(h);
    set_controls(h, normalize);
    assert_int_equal(lv2host_send_path(h, RNNFX_URI_MODEL, model), 0);
    static float zeros[BLOCK], sink0[BLOCK], sink1[BLOCK];
    const float *zin[2] = {zeros, zeros};
    float *zout[2] = {sink0, sink1};
    /* Let the worker load it and the switch crossfade finish (20 ms). */
    for (int i = 0; i < 20; i++) {
        lv2host_run(h, zin, zout, BLOCK);
        assert_int_equal(lv2host_wait_worker(h, 5000), 0);
    }
    char name[256] = "";
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_NAME, name, sizeof name), 0);
    /* A transport restart, as a DAW does before a bounce: state cleared,
     * controls taken as they are (no ramp). */
    if (late) {
        lv2host_set(h, "knob1", 0.9f);
        lv2host_set(h, "output_gain", 4.0f);
    }
    lv2host_deactivate(h);
    lv2host_activate(h);
    if (late) set_controls(h, normalize);
    lv2host_run(h, zin, zout, 0);
    *latency = (int)lv2host_get(h, "latency");
    size_t total = FRAMES + (size_t)*latency;
    float *out = calloc(2 * total, sizeof *out);
    float *inl = calloc(total, sizeof *inl), *inr = calloc(total, sizeof *inr);
    memcpy(inl, l, FRAMES * sizeof *l);
    memcpy(inr, r, FRAMES * sizeof *r);
    for (size_t pos = 0; pos < total; pos += BLOCK) {
        uint32_t n = (uint32_t)(total - pos < BLOCK ? total - pos : BLOCK);
        const float *in[2] = {inl + pos, inr + pos};
        float *o[2] = {out + pos, out + total + pos};
        lv2host_run(h, in, o, n);
    }
    lv2host_free(h);
    float *aligned = malloc(2 * FRAMES * sizeof *aligned);
    memcpy(aligned, out + *latency, FRAMES * sizeof *aligned);
    memcpy(aligned + FRAMES, out + total + *latency, FRAMES * sizeof *aligned);
    free(out);
    free(inl);
    free(inr);
    return aligned;
}

/* The largest |a - b| over [2][FRAMES] outputs (NaN counts as worse). */
static double worst_diff(const float *a, const float *b)
{
    double worst = 0;
    for (size_t i = 0; i < 2 * FRAMES; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= worst))
            worst = d;
    }
    return worst;
}

/* Renders the take with rnnfx-process and through the plugin, with the
 * same settings; returns the largest |plugin - batch| (NaN counts as
 * worse) and, in *batch_out, the batch output ([2][FRAMES], malloc'd). */
static double batch_vs_plugin(const char *model, const char *in, const float *l, const float *r,
                              int normalize, float **batch_out, int *latency)
{
    char out[PATH_MAX], cmd[4 * PATH_MAX];
    snprintf(out, sizeof out, "%s/out/take.wav", g_tmp);
    snprintf(cmd, sizeof cmd,
             "'%s' -q -m '%s' -o '%s/out' --in-gain 3 --out-gain -2 --mix 0.7 --set drive=2.5 "
             "--knob 2=0.5 --knob 3=0.5 --knob 4=0.5 --overwrite %s '%s'",
             g_bin, model, g_tmp, normalize ? "--normalize" : "", in);
    int st = system(cmd);
    assert_true(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(out, SFM_READ, &info);
    assert_non_null(sf);
    assert_int_equal(info.frames, FRAMES);
    float *inter = malloc(2 * FRAMES * sizeof *inter);
    assert_int_equal(sf_readf_float(sf, inter, FRAMES), FRAMES);
    sf_close(sf);
    float *batch = malloc(2 * FRAMES * sizeof *batch);
    for (size_t i = 0; i < FRAMES; i++) {
        batch[i] = inter[2 * i];
        batch[FRAMES + i] = inter[2 * i + 1];
    }
    free(inter);

    float *plug = plugin_render(model, l, r, normalize, 0, latency);
    const double worst = worst_diff(plug, batch);
    free(plug);
    *batch_out = batch;
    return worst;
}

static void test_batch_equals_plugin(void **state)
{
    (void)state;
    char model[PATH_MAX], in[PATH_MAX];
    snprintf(model, sizeof model, "%s/cond.json", g_tmp);
    snprintf(in, sizeof in, "%s/take.wav", g_tmp);
    make_model(model);
    float *l = malloc(FRAMES * sizeof *l), *r = malloc(FRAMES * sizeof *r);
    rnnfx_test_signal(l, FRAMES, 5);
    rnnfx_test_signal(r, FRAMES, 6);
    float *inter = malloc(2 * FRAMES * sizeof *inter);
    for (size_t i = 0; i < FRAMES; i++) {
        inter[2 * i] = 0.8f * l[i];
        inter[2 * i + 1] = 0.8f * r[i];
        l[i] = inter[2 * i];
        r[i] = inter[2 * i + 1];
    }
    SF_INFO info = {0};
    info.channels = 2;
    info.samplerate = RATE;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE *sf = sf_open(in, SFM_WRITE, &info);
    assert_non_null(sf);
    sf_writef_float(sf, inter, FRAMES);
    sf_close(sf);
    free(inter);

    float *plain = NULL, *norm = NULL;
    int latency = -1, latency_n = -1;
    const double worst = batch_vs_plugin(model, in, l, r, 0, &plain, &latency);
    const double worst_n = batch_vs_plugin(model, in, l, r, 1, &norm, &latency_n);
    /* the controls set between activate and the first run */
    int latency_late = -1;
    float *late = plugin_render(model, l, r, 0, 1, &latency_late);
    const double worst_late = worst_diff(late, plain);
    free(late);
    double diff_from_input = 0, norm_moved = 0;
    for (size_t i = 0; i < 2 * FRAMES; i++) {
        double dx = fabs((double)plain[i] - (i < FRAMES ? l[i] : r[i - FRAMES]));
        if (dx > diff_from_input)
            diff_from_input = dx;
        double dn = fabs((double)norm[i] - plain[i]);
        if (dn > norm_moved)
            norm_moved = dn;
    }
    printf("  plugin latency %d samples at %d Hz; max |plugin - rnnfx-process| = %.3g, with "
           "Normalize %.3g, with the controls set after activate %.3g (the effect itself moves "
           "samples by up to %.3g, Normalize by %.3g)\n",
           latency, RATE, worst, worst_n, worst_late, diff_from_input, norm_moved);
    assert_true(latency > 0);            /* resampling was in the path */
    assert_int_equal(latency_n, latency);
    assert_true(diff_from_input > 1e-2); /* the model did something */
    assert_true(norm_moved > 1e-2);      /* and so did Normalize */
    assert_true(worst == 0.0);           /* the same chain, the same bits */
    assert_true(worst_n == 0.0);
    assert_int_equal(latency_late, latency);
    assert_true(worst_late == 0.0);
    free(plain);
    free(norm);
    free(l);
    free(r);
}

int main(int argc, char **argv)
{
    (void)argc;
    rnnfx_test_beside(g_bin, sizeof g_bin, argv[0], "../bin/rnnfx-process");
    rnnfx_test_beside(g_bundle, sizeof g_bundle, argv[0], "../rnnfx.lv2");
    if (access(g_bin, X_OK) != 0) {
        fprintf(stderr, "test_process_plugin: %s is not built\n", g_bin);
        return 1;
    }
    snprintf(g_tmp, sizeof g_tmp, "/tmp/rnnfx-test-process-plugin-XXXXXX");
    if (!mkdtemp(g_tmp))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_equals_plugin),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rnnfx_test_remove_tree(g_tmp) != 0)
        fprintf(stderr, "test_process_plugin: could not remove %s\n", g_tmp);
    return rc;
}

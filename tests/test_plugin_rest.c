/*
 * test_plugin_rest.c — the plugin warns in the host's log when a model it
 * loads settles far from 0 on silence.
 *
 * A file can load cleanly and still be wrong: an AIDA-X GRU export whose
 * gates and biases were swapped (one such file was published) settles at
 * +0.198 on silence, a constant offset under every note, and the plugin
 * played it without a word while the command-line tools warned. Here a
 * model whose dense layer is 0 with a bias of 0.3 (so it settles at exactly
 * 0.3 whatever its recurrent weights) must draw a warning naming the value
 * and the file, through the LV2 Worker as a host's file chooser loads it;
 * the same model with bias 0 must not. The value comes from the chain core
 * (rnnfx_chain_core_rest_output), checked here against the bias too.
 *
 * Not covered: how a host shows the warning (that is the host's log).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../plugin/rnnfx_ports.h"
#include "chain.h"
#include "enginetest.h"
#include "lv2host.h"
#include "model_file.h"

static char g_bundle[1024];
static char g_tmp[1024];

/* A GRU-8 audio model, no skip, unit gains, whose dense layer is all zero
 * with bias `bias`: its output is `bias` on any input once loaded. */
static void write_offset_model(const char *path, float bias, const char *name)
{
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, RNNFX_CELL_GRU, 8, 1);
    arch.skip = 0;
    RnnfxModel *m = rnnfx_test_random_model(&arch, 7, 1.0f, 0);
    assert_non_null(m);
    int r = 0, c = 0;
    float *w = rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_W, &r, &c);
    assert_non_null(w);
    memset(w, 0, (size_t)r * (size_t)c * sizeof *w);
    float *b = rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_B, &r, &c);
    assert_non_null(b);
    for (int i = 0; i < r * c; i++)
        b[i] = bias;
    RnnfxMeta *meta = rnnfx_model_meta(m);
    meta->sample_rate = 48000.0;
    meta->input_gain = 1.0f;
    meta->output_gain = 1.0f;
    snprintf(meta->name, sizeof meta->name, "%s", name);
    RnnfxError err;
    assert_int_equal(rnnfx_model_save(m, path, &err), RNNFX_OK);
    rnnfx_model_free(m);
}

static void run_silence(Lv2Host *h, uint32_t n)
{
    static float zin[256], zout[256];
    const float *in[1] = {zin};
    float *out[1] = {zout};
    for (uint32_t done = 0; done < n; done += 256)
        lv2host_run(h, in, out, 256);
}

/* Loads `path` through a patch:Set of the model parameter, as a host's file
 * chooser does, and returns what the plugin logged for it. */
static const char *load_and_log(Lv2Host *h, const char *path)
{
    lv2host_log_clear(h);
    assert_int_equal(lv2host_send_path(h, RNNFX_URI_MODEL, path), 0);
    run_silence(h, 256);
    assert_int_equal(lv2host_wait_worker(h, 5000), 0);
    run_silence(h, 2048);
    return lv2host_log(h);
}

static void test_offset_model_warned(void **state)
{
    (void)state;
    char dc[1200], quiet[1200];
    snprintf(dc, sizeof dc, "%s/dc.json", g_tmp);
    snprintf(quiet, sizeof quiet, "%s/quiet.json", g_tmp);
    write_offset_model(dc, 0.3f, "offset model");
    write_offset_model(quiet, 0.0f, "quiet model");

    /* the chain core reports the value the warning is made from */
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load(dc, NULL, &m, &err), RNNFX_OK);
    RnnfxChain *chain = NULL;
    assert_int_equal(rnnfx_chain_new_multi(NULL, 48000.0, 1, 256, &chain, &err), RNNFX_OK);
    RnnfxChainCore *core = NULL;
    assert_int_equal(rnnfx_chain_core_new(chain, m, 1, &core, &err), RNNFX_OK);
    assert_float_equal(rnnfx_chain_core_rest_output(core), 0.3f, 1e-6f);
    rnnfx_chain_core_free(core);
    rnnfx_chain_free(chain);

    Lv2HostConfig cfg = {48000.0, 256, LV2HOST_WORKER_SYNC, 0, 0};
    char msg[512] = "";
    Lv2Host *h = lv2host_new(g_bundle, RNNFX_URI_MONO, &cfg, msg, sizeof msg);
    if (!h)
        fail_msg("cannot open the plugin: %s", msg);
    run_silence(h, 512);
    /* the built-in capture settles near 0: no warning at instantiate */
    assert_null(strstr(lv2host_log(h), "settles at"));

    const char *log = load_and_log(h, dc);
    assert_non_null(strstr(log, "loaded model 'offset model'"));
    const char *warn = strstr(log, "settles at +0.300 on silence");
    if (!warn)
        fail_msg("no warning for a model settling at 0.3; the log:\n%s", log);
    assert_non_null(strstr(warn, dc));

    log = load_and_log(h, quiet);
    assert_non_null(strstr(log, "loaded model 'quiet model'"));
    if (strstr(log, "settles at"))
        fail_msg("a warning for a model settling at 0; the log:\n%s", log);
    lv2host_free(h);
}

static int setup(void **state)
{
    (void)state;
    if (lv2host_built_bundle(g_bundle, sizeof g_bundle) != 0)
        return -1;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/rnnfx-plugin-rest-XXXXXX");
    return mkdtemp(g_tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rnnfx_test_remove_tree(g_tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offset_model_warned),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

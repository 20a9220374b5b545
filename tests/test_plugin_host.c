/*
 * test_plugin_host.c — the built rnnfx.lv2 bundle, loaded through lilv the
 * way a DAW loads it (tests/support/lv2host: URID map, Worker, State, Log,
 * Options), checked against the engine's own chain.
 *
 * What is checked: port indices and symbols against plugin/rnnfx_ports.h;
 * the built-in capture loads at instantiate and is published as readable
 * parameters; patch:Set loads a model in the Worker and the output then
 * equals rnnfx_chain's output and the batch tool's (tools/common/batch.c,
 * latency removed) sample for sample (1e-6), at the model's rate
 * and resampled, with gains, mix and a knob, with any block size; state
 * round-trips the model path; a missing model file on restore leaves the
 * default playing with a warning and stays the setting (saved again, and
 * played once the file is back); presets select the bundled capture (and
 * the amp capture's preset its cabinet IR, which tames the top end); MIDI
 * CC moves controls; hundreds of model switches while audio runs (worker on
 * its own thread) stay finite and click-free; no Worker still works.
 *
 * The bundle is $BUILD/rnnfx.lv2 (BUILD defaults to "build"), as `make`
 * leaves it, or $RNNFX_LV2_BUNDLE (tests/test_lv2_install.sh points it at
 * an installed copy); tests run from the repository root.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../plugin/rnnfx_ports.h"
#include "batch.h"
#include "chain.h"
#include "enginetest.h"
#include "fft.h"
#include "lv2host.h"
#include "model_file.h"

static char g_bundle[1024];
static char g_tmp[1024];

static const char *tmp_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", g_tmp, name);
    return buf;
}

/* A random GRU model saved as a file; knobs > 0 adds conditioning inputs. */
static void write_model(const char *path, uint64_t seed, int hidden, double rate, int knobs,
                        const char *name)
{
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, RNNFX_CELL_GRU, hidden, 1);
    arch.n_params = knobs;
    arch.input_size = 1 + knobs;
    for (int k = 0; k < knobs; k++) {
        snprintf(arch.params[k].name, sizeof arch.params[k].name, "knob%d", k);
        arch.params[k].min = -1.0f;
        arch.params[k].max = 2.0f;
        arch.params[k].def = 0.0f;
    }
    RnnfxModel *m = rnnfx_test_random_model(&arch, seed, 1.0f, 0);
    assert_non_null(m);
    RnnfxMeta *meta = rnnfx_model_meta(m);
    meta->sample_rate = rate;
    meta->esr = 0.0125;
    snprintf(meta->name, sizeof meta->name, "%s", name);
    RnnfxError err;
    assert_int_equal(rnnfx_model_save(m, path, &err), RNNFX_OK);
    rnnfx_model_free(m);
}

static Lv2Host *open_host(const char *uri, double rate, uint32_t block, Lv2HostWorkerMode w)
{
    Lv2HostConfig cfg = {rate, block, w, 0, 0};
    char err[512] = "";
    Lv2Host *h = lv2host_new(g_bundle, uri, &cfg, err, sizeof err);
    if (!h) fail_msg("cannot open the plugin: %s", err);
    return h;
}

/* Runs `n` frames of silence (lets the worker respond, fades finish). */
static void run_silence(Lv2Host *h, int channels, uint32_t n, uint32_t block)
{
    static float zin[2][8192], zout[2][8192];
    const float *in[2] = {zin[0], zin[1]};
    float *out[2] = {zout[0], zout[1]};
    (void)channels;
    for (uint32_t done = 0; done < n; done += block) lv2host_run(h, in, out, block);
}

/* Sends patch:Set(model) and waits until the new model is the one playing. */
static void load_model(Lv2Host *h, const char *path, uint32_t block)
{
    assert_int_equal(lv2host_send_path(h, RNNFX_URI_MODEL, path), 0);
    run_silence(h, 2, block, block);
    assert_int_equal(lv2host_wait_worker(h, 5000), 0);
    run_silence(h, 2, 8192, block); /* delivers the response, finishes the fade */
    char got[2048];
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL, got, sizeof got), 0);
    assert_string_equal(got, path);
}

/* The model name the plugin publishes is want. */
static void expect_model_name(Lv2Host *h, const char *want)
{
    char got[2048];
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_NAME, got, sizeof got), 0);
    assert_string_equal(got, want);
}

/* Hosts built on older LV2 send objects as atom:Blank: patch:Set loads
 * the model and patch:Get answers all the same. */
static void test_patch_as_blank(void **state)
{
    (void)state;
    char a[1200];
    tmp_path(a, sizeof a, "a.json");
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    lv2host_blank_objects(h, 1);
    load_model(h, a, 256);
    expect_model_name(h, "Model A");
    lv2host_free(h);
}

/* A load whose answer the host's queue refuses (too long for it) is
 * dropped, and the plugin says which model still plays: the host's
 * chooser showed the dropped file as if it played. */
static void test_answer_refused_republishes(void **state)
{
    (void)state;
    char a[1200], b[1200], got[2048];
    tmp_path(a, sizeof a, "a.json");
    tmp_path(b, sizeof b, "b.json");
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    load_model(h, a, 256);
    const int n0 = lv2host_notify_count(h);
    lv2host_set_respond_limit(h, 64); /* a failure's answer fits, a core's with paths not */
    assert_int_equal(lv2host_send_path(h, RNNFX_URI_MODEL, b), 0);
    run_silence(h, 1, 256, 256);
    assert_int_equal(lv2host_wait_worker(h, 5000), 0);
    run_silence(h, 1, 2048, 256);
    assert_true(lv2host_notify_count(h) > n0);
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL, got, sizeof got), 0);
    assert_string_equal(got, a);
    lv2host_free(h);
}

static int setup(void **state)
{
    (void)state;
    if (lv2host_built_bundle(g_bundle, sizeof g_bundle) != 0)
        return -1;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/rnnfx-plugin-test-XXXXXX");
    if (!mkdtemp(g_tmp)) return -1;
    char p[1200];
    write_model(tmp_path(p, sizeof p, "a.json"), 11, 12, 48000.0, 0, "Model A");
    write_model(tmp_path(p, sizeof p, "b.json"), 22, 16, 48000.0, 0, "Model B");
    write_model(tmp_path(p, sizeof p, "k.json"), 33, 8, 44100.0, 1, "Knob model 44k");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return rnnfx_test_remove_tree(g_tmp);
}

/* ---- ports ------------------------------------------------------------------ */

static void check_ports(const char *uri, int count, const char *const *symbols)
{
    Lv2Host *h = open_host(uri, 48000.0, 512, LV2HOST_WORKER_SYNC);
    assert_int_equal(lv2host_num_ports(h), count);
    for (int i = 0; i < count; i++) {
        assert_string_equal(lv2host_port_symbol(h, (uint32_t)i), symbols[i]);
        assert_int_equal(lv2host_port_index(h, symbols[i]), i);
    }
    assert_true(lv2host_port_is(h, RNNFX_PORT_CONTROL, "http://lv2plug.in/ns/ext/atom#AtomPort"));
    assert_true(lv2host_port_is(h, RNNFX_PORT_NOTIFY, "http://lv2plug.in/ns/lv2core#OutputPort"));
    for (int p = RNNFX_PORT_INPUT_GAIN; p <= RNNFX_PORT_KNOB4; p++) {
        assert_true(lv2host_port_is(h, (uint32_t)p, "http://lv2plug.in/ns/lv2core#ControlPort"));
        assert_true(lv2host_port_is(h, (uint32_t)p, "http://lv2plug.in/ns/lv2core#InputPort"));
    }
    for (int p = RNNFX_PORT_LATENCY; p <= RNNFX_PORT_OUT_PEAK; p++)
        assert_true(lv2host_port_is(h, (uint32_t)p, "http://lv2plug.in/ns/lv2core#OutputPort"));
    float def, lo, hi;
    lv2host_port_range(h, RNNFX_PORT_INPUT_GAIN, &def, &lo, &hi);
    assert_true(lo == RNNFX_INPUT_GAIN_MIN && hi == RNNFX_INPUT_GAIN_MAX && def == 0.0f);
    lv2host_port_range(h, RNNFX_PORT_OUTPUT_GAIN, &def, &lo, &hi);
    assert_true(lo == RNNFX_OUTPUT_GAIN_MIN && hi == RNNFX_OUTPUT_GAIN_MAX && def == 0.0f);
    /* the audio ports, then the capture selector and normalize (last:
     * added later) */
    for (int p = RNNFX_PORT_IN_L; p < count - 2; p++)
        assert_true(lv2host_port_is(h, (uint32_t)p, "http://lv2plug.in/ns/lv2core#AudioPort"));
    const uint32_t cap = (uint32_t)count - 2, norm = (uint32_t)count - 1;
    assert_string_equal(lv2host_port_symbol(h, cap), "capture");
    assert_string_equal(lv2host_port_symbol(h, norm), "normalize");
    for (uint32_t p = cap; p <= norm; p++) {
        assert_true(lv2host_port_is(h, p, "http://lv2plug.in/ns/lv2core#ControlPort"));
        assert_true(lv2host_port_is(h, p, "http://lv2plug.in/ns/lv2core#InputPort"));
    }
    lv2host_port_range(h, cap, &def, &lo, &hi);
    assert_true(def == 0.0f && lo == 0.0f && hi == (float)RNNFX_N_CAPTURES);
    lv2host_port_range(h, norm, &def, &lo, &hi);
    assert_true(def == 0.0f && lo == 0.0f && hi == 1.0f);
    lv2host_free(h);
}

static void test_ports_match_code(void **state)
{
    (void)state;
    static const char *const mono[] = RNNFX_PORT_SYMBOLS_MONO;
    static const char *const stereo[] = RNNFX_PORT_SYMBOLS_STEREO;
    assert_int_equal(sizeof mono / sizeof mono[0], RNNFX_PORT_COUNT_MONO);
    assert_int_equal(sizeof stereo / sizeof stereo[0], RNNFX_PORT_COUNT_STEREO);
    check_ports(RNNFX_URI_MONO, RNNFX_PORT_COUNT_MONO, mono);
    check_ports(RNNFX_URI_STEREO, RNNFX_PORT_COUNT_STEREO, stereo);
}

/* ---- default capture -------------------------------------------------------------- */

static void test_default_capture_published(void **state)
{
    (void)state;
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_SYNC);
    run_silence(h, 1, 256, 256);
    char name[512], rate[64], esr[64], path[2048];
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_NAME, name, sizeof name), 0);
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_RATE, rate, sizeof rate), 0);
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_ESR, esr, sizeof esr), 0);
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL, path, sizeof path), 0);
    assert_non_null(strstr(path, RNNFX_DEFAULT_MODEL_FILE));
    /* the same file, read by the engine, says the same */
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load(path, NULL, &m, &err), RNNFX_OK);
    assert_string_equal(name, rnnfx_model_meta(m)->name);
    assert_true(fabs(atof(rate) - rnnfx_model_meta(m)->sample_rate) < 1e-3);
    assert_true(fabs(atof(esr) - rnnfx_model_meta(m)->esr) < 1e-6 * (1 + fabs(atof(esr))));
    rnnfx_model_free(m);
    /* logged on load, with the name */
    assert_non_null(strstr(lv2host_log(h), "loaded model"));
    assert_non_null(strstr(lv2host_log(h), name));
    /* a patch:Get brings the parameters again */
    int before = lv2host_notify_count(h);
    lv2host_send_get(h);
    run_silence(h, 1, 256, 256);
    assert_true(lv2host_notify_count(h) >= before + 4);
    lv2host_free(h);
}

/* ---- plugin output == chain output ------------------------------------------------- */

typedef struct {
    float in_db, out_db, mix, knob1;
} Controls;

static void compare_with_chain(const char *uri, const char *model_path, double rate,
                               const Controls *c, int random_blocks)
{
    const uint32_t max_block = 1024;
    Lv2Host *h = open_host(uri, rate, max_block, LV2HOST_WORKER_THREAD);
    int channels = lv2host_audio_channels(h);
    load_model(h, model_path, 256);
    lv2host_set(h, "input_gain", c->in_db);
    lv2host_set(h, "output_gain", c->out_db);
    lv2host_set(h, "mix", c->mix);
    lv2host_set(h, "knob1", c->knob1);
    /* a fresh start for both sides: activate resets the plugin's chain */
    lv2host_deactivate(h);
    lv2host_activate(h);

    const size_t n = 24000;
    float *x[2], *y[2], *ref[2];
    for (int ch = 0; ch < 2; ch++) {
        x[ch] = malloc(n * sizeof(float));
        y[ch] = malloc(n * sizeof(float));
        ref[ch] = malloc(n * sizeof(float));
        rnnfx_test_signal(x[ch], n, 100 + (uint64_t)ch);
    }
    RnnfxTestRng rng;
    rnnfx_test_rng_seed(&rng, 5);
    for (size_t off = 0; off < n;) {
        uint32_t len = random_blocks ? 1 + (uint32_t)(rnnfx_test_rng_uniform(&rng) * max_block) : 256;
        if (len > n - off) len = (uint32_t)(n - off);
        const float *in[2] = {x[0] + off, x[1] + off};
        float *out[2] = {y[0] + off, y[1] + off};
        lv2host_run(h, in, out, len);
        off += len;
    }
    float latency = lv2host_get(h, "latency");

    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load(model_path, NULL, &m, &err), RNNFX_OK);
    RnnfxChain *chain = NULL;
    assert_int_equal(rnnfx_chain_new_multi(m, rate, channels, 4096, &chain, &err), RNNFX_OK);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.input_db = c->in_db;
    ctl.output_db = c->out_db;
    ctl.mix = c->mix;
    ctl.n_knobs = RNNFX_N_KNOBS;
    for (int k = 0; k < RNNFX_N_KNOBS; k++) ctl.knobs[k] = 0.5f;
    ctl.knobs[0] = c->knob1;
    rnnfx_chain_set_controls(chain, &ctl);
    rnnfx_chain_process_multi(chain, (const float *const *)x, ref, n);
    assert_int_equal((int)latency, rnnfx_chain_latency(chain));

    for (int ch = 0; ch < channels; ch++) {
        double d = rnnfx_test_max_abs_diff(y[ch], ref[ch], n);
        double peak = 0;
        for (size_t i = 0; i < n; i++) peak = fmax(peak, fabs(ref[ch][i]));
        print_message("%s @ %.0f Hz ch%d: max |plugin - chain| = %.3g (peak %.3f, latency %d)\n",
                      uri, rate, ch, d, peak, (int)latency);
        assert_true(d <= 1e-6);
        assert_true(peak > 1e-3); /* the comparison is not between silences */
    }
    /* and the batch tool's code path (tools/common/batch.c): the same
     * samples, with the latency removed */
    for (int ch = 0; ch < channels; ch++) {
        float *batch = malloc(n * sizeof(float));
        assert_int_equal(rnnfx_batch_process_channel(m, &ctl, rate, 4096, x[ch], batch, n, &err),
                         RNNFX_OK);
        size_t L = (size_t)latency;
        double d = rnnfx_test_max_abs_diff(y[ch] + L, batch, n - L);
        print_message("  ch%d: max |plugin - batch (latency removed)| = %.3g\n", ch, d);
        assert_true(d <= 1e-6);
        free(batch);
    }
    rnnfx_chain_free(chain);
    rnnfx_model_free(m);
    for (int ch = 0; ch < 2; ch++) {
        free(x[ch]);
        free(y[ch]);
        free(ref[ch]);
    }
    lv2host_free(h);
}

static void test_output_equals_chain(void **state)
{
    (void)state;
    char a[1200], k[1200];
    tmp_path(a, sizeof a, "a.json");
    tmp_path(k, sizeof k, "k.json");
    Controls unity = {0.0f, 0.0f, 1.0f, 0.5f};
    Controls moved = {6.0f, -3.0f, 0.7f, 0.8f};
    compare_with_chain(RNNFX_URI_MONO, a, 48000.0, &unity, 0);
    compare_with_chain(RNNFX_URI_MONO, a, 48000.0, &moved, 1);
    compare_with_chain(RNNFX_URI_MONO, k, 48000.0, &moved, 1);  /* 44.1k model: resampled */
    compare_with_chain(RNNFX_URI_STEREO, a, 96000.0, &moved, 1); /* 48k model at 96k */
    compare_with_chain(RNNFX_URI_STEREO, k, 44100.0, &unity, 0);
}

/* ---- state ----------------------------------------------------------------------------- */

static void test_state_round_trip(void **state)
{
    (void)state;
    char b[1200], dir[1200], got[2048];
    tmp_path(b, sizeof b, "b.json");
    tmp_path(dir, sizeof dir, "state1");
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    load_model(h, b, 256);
    lv2host_set(h, "output_gain", -5.0f);
    assert_int_equal(lv2host_save_state(h, dir), 0);
    lv2host_free(h);
    assert_int_equal(access(b, F_OK), 0); /* saving never touches the model file */
    assert_int_equal(lv2host_state_file_value(dir, RNNFX_URI_MODEL, got, sizeof got), 0);
    assert_non_null(strstr(got, "b.json"));

    h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    lv2host_log_clear(h);
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    run_silence(h, 1, 2048, 256);
    /* the host saved a link to the file inside the state directory (as jalv
     * does); the plugin plays the same file through it */
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL, got, sizeof got), 0);
    assert_non_null(strstr(got, "b.json"));
    expect_model_name(h, "Model B");
    assert_true(lv2host_get(h, "output_gain") == -5.0f);
    lv2host_free(h);
}

static void test_missing_model_survived(void **state)
{
    (void)state;
    char src[1200], gone[1200], dir[1200], def_name[512];
    tmp_path(src, sizeof src, "a.json");
    tmp_path(gone, sizeof gone, "soon-gone.json");
    tmp_path(dir, sizeof dir, "state2");
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, gone);
    assert_int_equal(system(cmd), 0);

    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    run_silence(h, 1, 256, 256);
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_NAME, def_name, sizeof def_name), 0);
    load_model(h, gone, 256);
    assert_int_equal(lv2host_save_state(h, dir), 0);
    lv2host_free(h);
    assert_int_equal(unlink(gone), 0);

    h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    lv2host_log_clear(h);
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    const char *log = lv2host_log(h);
    print_message("log after restore: %s", log);
    assert_non_null(strstr(log, "warning: "));
    assert_non_null(strstr(log, "soon-gone.json"));
    /* still plays, with the default capture */
    static float x[4096], y[4096];
    rnnfx_test_signal(x, 4096, 3);
    const float *in[1] = {x};
    float *out[1] = {y};
    for (int i = 0; i < 16; i++) lv2host_run(h, in, out, 256);
    assert_true(rnnfx_test_all_finite(y, 256));
    double e = 0;
    for (int i = 0; i < 256; i++) e += (double)y[i] * y[i];
    assert_true(e > 0.0);
    expect_model_name(h, def_name);
    /* the missing file stays the setting: published, and saved again
     * (it used to be dropped, and the session lost its model) */
    char got[2048], dir2[1200], a_name[512];
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL, got, sizeof got), 0);
    assert_non_null(strstr(got, "soon-gone.json")); /* where the state maps it */
    tmp_path(dir2, sizeof dir2, "state2-again");
    assert_int_equal(lv2host_save_state(h, dir2), 0);
    assert_int_equal(lv2host_state_file_value(dir2, RNNFX_URI_MODEL, got, sizeof got), 0);
    print_message("saved again: %s\n", got);
    assert_non_null(strstr(got, "soon-gone.json"));
    lv2host_free(h);
    /* the file is back: the session saved again plays it */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, gone);
    assert_int_equal(system(cmd), 0);
    h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    load_model(h, src, 256);
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_NAME, a_name, sizeof a_name), 0);
    lv2host_free(h);
    h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    assert_int_equal(lv2host_restore_state(h, dir2), 0);
    run_silence(h, 1, 256, 256);
    expect_model_name(h, a_name);
    lv2host_free(h);
}

static double rms(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return sqrt(s / (double)n);
}

static void test_preset_selects_capture(void **state)
{
    (void)state;
    char b[1200], got[2048];
    tmp_path(b, sizeof b, "b.json");
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    load_model(h, b, 256);
    assert_int_equal(lv2host_apply_preset(h, RNNFX_URI "/presets#default-mono"), 0);
    run_silence(h, 1, 2048, 256);
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL, got, sizeof got), 0);
    assert_non_null(strstr(got, RNNFX_DEFAULT_MODEL_FILE));
    /* the built-in capture is saved as "no model stored", so sessions do not
     * depend on where the bundle is installed */
    char dir[1200];
    tmp_path(dir, sizeof dir, "state-default");
    assert_int_equal(lv2host_save_state(h, dir), 0);
    assert_int_equal(lv2host_state_file_value(dir, RNNFX_URI_MODEL, got, sizeof got), -1);

    /* the conditioned capture: its preset sets knob 1, which drives it */
    lv2host_set(h, "knob1", 0.0f);
    assert_int_equal(lv2host_apply_preset(h, RNNFX_URI "/presets#ds1-drive-mono"), 0);
    assert_true(lv2host_get(h, "knob1") == 0.5f);
    run_silence(h, 1, 2048, 256);
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_NAME, got, sizeof got), 0);
    assert_non_null(strstr(got, "DS-1"));
    static float x[256], y0[256], y1[256];
    for (int i = 0; i < 256; i++) x[i] = 0.1f * sinf(2.0f * 3.14159265f * 220.0f * (float)i / 48000.0f);
    const float *in[1] = {x};
    float *o0[1] = {y0}, *o1[1] = {y1};
    lv2host_set(h, "knob1", 0.0f);
    for (int i = 0; i < 40; i++) lv2host_run(h, in, o0, 256);
    lv2host_set(h, "knob1", 1.0f);
    for (int i = 0; i < 40; i++) lv2host_run(h, in, o1, 256);
    double r0 = rms(y0, 256), r1 = rms(y1, 256);
    print_message("DS-1 capture: knob1 0 -> rms %.4f, knob1 1 -> rms %.4f\n", r0, r1);
    assert_true(fabs(20.0 * log10(r1 / r0)) > 1.0);
    lv2host_free(h);
}

/* x's power at or above `hz` over its power from 100 Hz to 3 kHz (Welch
 * spectrum, 1024-point segments). */
static double treble_ratio(const float *x, size_t n, double rate, double hz)
{
    double psd[513], hi = 0.0, mid = 0.0;
    assert_true(rnnfx_welch_psd(x, n, 1024, psd) > 0);
    for (int k = 0; k <= 512; k++) {
        double f = k * rate / 1024.0;
        if (f >= hz) hi += psd[k];
        else if (f >= 100.0 && f <= 3000.0) mid += psd[k];
    }
    return hi / mid;
}

/* The amp capture's two presets: with the bundled cabinet IR and without.
 * The cabinet one publishes the bundle's IR file, and a real speaker
 * cabinet takes the amp's top end away; the other preset removes
 * the cabinet again (a preset is a whole sound). */
static void test_preset_amp_cabinet(void **state)
{
    (void)state;
    enum { N = 48000, B = 256 };
    static float x[N], bare[N], cab[N];
    for (int i = 0; i < N; i++) {
        /* a decaying plucked-string-like tone: harmonics for the amp to
         * distort, at a DI's level */
        double t = (double)(i % 12000) / 48000.0, ph = 110.0 * t;
        x[i] = (float)(0.3 * exp(-3.0 * t) * (2.0 * (ph - floor(ph)) - 1.0));
    }
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, B, LV2HOST_WORKER_THREAD);
    char got[2048];
    float *bufs[2] = {bare, cab};
    const char *presets[2] = {RNNFX_URI "/presets#tube-amp-mono", RNNFX_URI "/presets#tube-amp-cab-mono"};
    for (int p = 0; p < 2; p++) {
        assert_int_equal(lv2host_apply_preset(h, presets[p]), 0);
        run_silence(h, 1, B, B);
        assert_int_equal(lv2host_wait_worker(h, 10000), 0);
        run_silence(h, 1, 16384, B); /* the new core installed, its fade done */
        assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_NAME, got, sizeof got), 0);
        assert_non_null(strstr(got, "tube amp"));
        assert_int_equal(lv2host_param(h, RNNFX_URI_IR, got, sizeof got), 0);
        if (p == 0)
            assert_string_equal(got, "");
        else
            assert_non_null(strstr(got, "rnnfx.lv2/rnnfx-cab-mesa.wav"));
        for (int i = 0; i < N; i += B) {
            const float *in[1] = {x + i};
            float *out[1] = {bufs[p] + i};
            lv2host_run(h, in, out, N - i < B ? (uint32_t)(N - i) : B);
        }
    }
    /* The bundled cabinet's own response falls 20-28 dB from 8 kHz up
     * (relative to 1 kHz; measured on the file): the amp's fizz up there
     * goes, the body stays. */
    double r_bare = treble_ratio(bare, N, 48000.0, 7000.0);
    double r_cab = treble_ratio(cab, N, 48000.0, 7000.0);
    print_message("power above 7 kHz over 100 Hz-3 kHz: amp alone %.2e, amp + cabinet %.2e (%.1f dB)\n",
                  r_bare, r_cab, 10.0 * log10(r_cab / r_bare));
    assert_true(r_cab < 0.1 * r_bare);
    /* and back: the no-cabinet preset removes it */
    assert_int_equal(lv2host_apply_preset(h, presets[0]), 0);
    run_silence(h, 1, B, B);
    assert_int_equal(lv2host_wait_worker(h, 10000), 0);
    run_silence(h, 1, 16384, B);
    assert_int_equal(lv2host_param(h, RNNFX_URI_IR, got, sizeof got), 0);
    assert_string_equal(got, "");
    lv2host_free(h);

    /* the stereo plugin's cabinet preset names the same files */
    h = open_host(RNNFX_URI_STEREO, 48000.0, B, LV2HOST_WORKER_THREAD);
    assert_int_equal(lv2host_apply_preset(h, RNNFX_URI "/presets#tube-amp-cab-stereo"), 0);
    run_silence(h, 2, B, B);
    assert_int_equal(lv2host_wait_worker(h, 10000), 0);
    run_silence(h, 2, 16384, B);
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_NAME, got, sizeof got), 0);
    assert_non_null(strstr(got, "tube amp"));
    assert_int_equal(lv2host_param(h, RNNFX_URI_IR, got, sizeof got), 0);
    assert_non_null(strstr(got, "rnnfx.lv2/rnnfx-cab-mesa.wav"));
    lv2host_free(h);
}

/* ---- no worker ---------------------------------------------------------------------- */

static void test_without_worker(void **state)
{
    (void)state;
    char b[1200], dir[1200];
    tmp_path(b, sizeof b, "b.json");
    tmp_path(dir, sizeof dir, "state1"); /* saved by test_state_round_trip: model b */
    Lv2HostConfig cfg = {48000.0, 256, LV2HOST_WORKER_NONE, 1, 1}; /* no worker, options, log */
    char err[512] = "";
    Lv2Host *h = lv2host_new(g_bundle, RNNFX_URI_MONO, &cfg, err, sizeof err);
    assert_non_null(h);
    static float x[256], y[256];
    rnnfx_test_signal(x, 256, 9);
    const float *in[1] = {x};
    float *out[1] = {y};
    lv2host_run(h, in, out, 256);
    double e = 0;
    for (int i = 0; i < 256; i++) e += (double)y[i] * y[i];
    assert_true(e > 0.0 && rnnfx_test_all_finite(y, 256));
    /* patch:Set cannot load without a worker, but state restore can */
    lv2host_send_path(h, RNNFX_URI_MODEL, b);
    lv2host_run(h, in, out, 256);
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    for (int i = 0; i < 8; i++) lv2host_run(h, in, out, 256);
    expect_model_name(h, "Model B");
    lv2host_free(h);
}

/* ---- MIDI CC ---------------------------------------------------------------------------- */


static void test_midi_cc(void **state)
{
    (void)state;
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 512, LV2HOST_WORKER_SYNC);
    static float x[512], y[512];
    for (int i = 0; i < 512; i++) x[i] = 0.3f * sinf(2.0f * 3.14159265f * 440.0f * (float)i / 48000.0f);
    const float *in[1] = {x};
    float *out[1] = {y};
    for (int i = 0; i < 20; i++) lv2host_run(h, in, out, 512);
    double before = rms(y, 512);
    /* CC 21 = 0: output gain to its minimum (-48 dB) */
    uint8_t cc[3] = {0xB3, RNNFX_CC_OUTPUT_GAIN, 0};
    lv2host_send_midi(h, cc, 3);
    for (int i = 0; i < 20; i++) lv2host_run(h, in, out, 512);
    double after = rms(y, 512);
    print_message("CC21=0: rms %.4f -> %.6f (%.1f dB)\n", before, after, 20 * log10(after / before));
    assert_true(fabs(20 * log10(after / before) - RNNFX_OUTPUT_GAIN_MIN) < 0.5);
    /* moving the port again takes the control back */
    lv2host_set(h, "output_gain", -6.0f);
    for (int i = 0; i < 20; i++) lv2host_run(h, in, out, 512);
    after = rms(y, 512);
    assert_true(fabs(20 * log10(after / before) + 6.0) < 0.5);
    /* CC 22 = 0: mix fully dry: output equals the input (no resampling at 48k) */
    uint8_t mix[3] = {0xB0, RNNFX_CC_MIX, 0};
    lv2host_set(h, "output_gain", 0.0f);
    lv2host_send_midi(h, mix, 3);
    for (int i = 0; i < 40; i++) lv2host_run(h, in, out, 512);
    assert_true(rnnfx_test_max_abs_diff(x, y, 512) < 1e-5);
    /* CC 121 (reset all controllers): the ports take over again */
    uint8_t reset[3] = {0xB0, RNNFX_CC_RESET_ALL, 0};
    lv2host_send_midi(h, reset, 3);
    for (int i = 0; i < 40; i++) lv2host_run(h, in, out, 512);
    assert_true(fabs(20 * log10(rms(y, 512) / before)) < 0.1);
    /* CC 7 (volume) as General MIDI scales it: the 100 keyboards send on
     * connecting is -4.2 dB (the linear map of the gain's range made it
     * +8.7 dB), 127 is 0 dB */
    const uint8_t vols[2] = {100, 127};
    const double want[2] = {40.0 * log10(100.0 / 127.0), 0.0};
    for (int k = 0; k < 2; k++) {
        uint8_t vol[3] = {0xB0, RNNFX_CC_OUTPUT_GAIN_ALT, vols[k]};
        lv2host_send_midi(h, vol, 3);
        for (int i = 0; i < 40; i++) lv2host_run(h, in, out, 512);
        const double db = 20 * log10(rms(y, 512) / before);
        print_message("CC7=%d: %+.2f dB\n", vols[k], db);
        assert_true(fabs(db - want[k]) < 0.1);
    }
    lv2host_free(h);
}

/* ---- many switches while audio runs ------------------------------------------------------- */

/* Largest step between neighbouring samples: a click shows up as a jump far
 * above what the models produce from the same smooth input. */
static double max_step(const float *y, size_t n, float *prev)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        m = fmax(m, fabs((double)y[i] - *prev));
        *prev = y[i];
    }
    return m;
}

static void test_many_switches(void **state)
{
    (void)state;
    char a[1200], b[1200], k[1200];
    tmp_path(a, sizeof a, "a.json");
    tmp_path(b, sizeof b, "b.json");
    tmp_path(k, sizeof k, "k.json");
    const uint32_t block = 128;
    const float f0 = 110.0f, amp = 0.25f;
    float x[128], y[128];
    const float *in[1] = {x};
    float *out[1] = {y};
    long t = 0;
    float prev = 0;

    /* steady-state step size of each model alone on the same input */
    double steady = 0;
    const char *paths[3] = {a, b, k};
    for (int m = -1; m < 3; m++) { /* -1: the built-in capture, playing first */
        Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, block, LV2HOST_WORKER_SYNC);
        if (m >= 0) load_model(h, paths[m], block);
        prev = 0;
        for (int i = 0; i < 200; i++) {
            for (uint32_t j = 0; j < block; j++, t++)
                x[j] = amp * sinf(2.0f * 3.14159265f * f0 * (float)t / 48000.0f);
            lv2host_run(h, in, out, block);
            double s = max_step(y, block, &prev);
            if (i > 20) steady = fmax(steady, s);
        }
        lv2host_free(h);
    }

    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, block, LV2HOST_WORKER_THREAD);
    double worst = 0;
    int finite = 1;
    prev = 0;
    for (int i = 0; i < 3000; i++) {
        if (i % 7 == 0) lv2host_send_path(h, RNNFX_URI_MODEL, paths[(i / 7) % 3]);
        for (uint32_t j = 0; j < block; j++, t++)
            x[j] = amp * sinf(2.0f * 3.14159265f * f0 * (float)t / 48000.0f);
        lv2host_run(h, in, out, block);
        finite &= rnnfx_test_all_finite(y, block);
        double s = max_step(y, block, &prev);
        if (i > 20) worst = fmax(worst, s);
    }
    /* the last choice may be waiting for the load under way: it goes
     * once that is answered */
    for (int r = 0; r < 3; r++) {
        assert_int_equal(lv2host_wait_worker(h, 5000), 0);
        run_silence(h, 1, 8192, block);
    }
    print_message("%d model switches requested: largest sample step %.4f vs %.4f in steady "
                  "state (models alone)\n",
                  3000 / 7, worst, steady);
    assert_true(finite);
    assert_true(worst <= 1.5 * steady + 1e-3);
    assert_int_equal(lv2host_log_count_in_run(h), 0);
    /* once settled, what the plugin published describes the last request */
    char path[2048], name[512];
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL, path, sizeof path), 0);
    assert_string_equal(path, paths[((3000 - 1) / 7) % 3]);
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_NAME, name, sizeof name), 0);
    RnnfxModel *last = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load(path, NULL, &last, &err), RNNFX_OK);
    assert_string_equal(name, rnnfx_model_meta(last)->name);
    rnnfx_model_free(last);
    lv2host_free(h);
}

/* ---- capture selector -------------------------------------------------------------------- */

/* Each entry's model and cabinet IR file in the bundle. */
static const char *const capture_files[RNNFX_N_CAPTURES][2] = RNNFX_CAPTURE_FILES;

/* A chain playing bundled capture k (1..RNNFX_N_CAPTURES) as the plugin's
 * capture port says it should: the entry's model file with its cabinet IR
 * file, read by the engine directly. */
static RnnfxChain *files_chain(const char *mp, const char *ip, double rate, int channels)
{
    RnnfxModel *m = NULL;
    RnnfxIr *ir = NULL;
    RnnfxChain *chain = NULL;
    RnnfxChainCore *core = NULL, *displaced = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load(mp, NULL, &m, &err), RNNFX_OK);
    if (ip)
        assert_int_equal(rnnfx_ir_load(ip, rate, channels, &ir, &err), RNNFX_OK);
    assert_int_equal(rnnfx_chain_new_multi(NULL, rate, channels, 4096, &chain, &err), RNNFX_OK);
    assert_int_equal(rnnfx_chain_core_new_ir(chain, m, 1, ir, &core, &err), RNNFX_OK);
    rnnfx_ir_free(ir);
    rnnfx_chain_swap(chain, core, &displaced);
    assert_null(displaced);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.n_knobs = RNNFX_N_KNOBS;
    for (int i = 0; i < RNNFX_N_KNOBS; i++) ctl.knobs[i] = 0.5f; /* the ports' defaults */
    rnnfx_chain_set_controls(chain, &ctl);
    return chain;
}

/* Runs a test signal through the host in random blocks and checks it
 * against a chain of the model file mp with the IR file ip (NULL: none) on
 * the same input from its first sample: what was chosen before the first
 * run plays from the first sample (no crossfade from the built-in
 * capture). */
static void check_output(Lv2Host *h, const char *mp, const char *ip, double rate, uint64_t seed)
{
    enum { N = 12000, MAXB = 1024 };
    const int channels = lv2host_audio_channels(h);
    static float x[2][N], y[2][N], ref[2][N];
    for (int ch = 0; ch < channels; ch++) rnnfx_test_signal(x[ch], N, seed + (uint64_t)ch);
    RnnfxTestRng rng;
    rnnfx_test_rng_seed(&rng, seed);
    for (size_t off = 0; off < N;) {
        uint32_t len = 1 + (uint32_t)(rnnfx_test_rng_uniform(&rng) * (MAXB - 1));
        if (len > N - off) len = (uint32_t)(N - off);
        const float *in[2] = {x[0] + off, x[1] + off};
        float *out[2] = {y[0] + off, y[1] + off};
        lv2host_run(h, in, out, len);
        off += len;
    }
    RnnfxChain *chain = files_chain(mp, ip, rate, channels);
    const float *in[2] = {x[0], x[1]};
    float *out[2] = {ref[0], ref[1]};
    rnnfx_chain_process_multi(chain, in, out, N);
    rnnfx_chain_free(chain);
    for (int ch = 0; ch < channels; ch++) {
        double d = rnnfx_test_max_abs_diff(y[ch], ref[ch], N);
        double peak = 0;
        for (size_t i = 0; i < N; i++) peak = fmax(peak, fabs(ref[ch][i]));
        print_message("%s%s%s, %d channel(s) @ %.0f Hz, ch%d: max |plugin - chain| = %.3g "
                      "(peak %.3f)\n", strrchr(mp, '/') + 1, ip ? " + " : "",
                      ip ? strrchr(ip, '/') + 1 : "", channels, rate, ch, d, peak);
        assert_true(d <= 1e-6);
        assert_true(peak > 1e-3);
    }
}

/* check_output for bundled capture k (1..RNNFX_N_CAPTURES). */
static void check_capture_output(Lv2Host *h, int k, double rate, uint64_t seed)
{
    char mp[1200], ip[1200];
    snprintf(mp, sizeof mp, "%s/%s", g_bundle, capture_files[k - 1][0]);
    snprintf(ip, sizeof ip, "%s/%s", g_bundle, capture_files[k - 1][1]);
    check_output(h, mp, capture_files[k - 1][1][0] ? ip : NULL, rate, seed);
}

static void expect_published(Lv2Host *h, int k)
{
    char got[2048];
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL, got, sizeof got), 0);
    const size_t n = strlen(got), m = strlen(capture_files[k - 1][0]);
    assert_true(n > m && !strcmp(got + n - m, capture_files[k - 1][0]));
    assert_int_equal(lv2host_param(h, RNNFX_URI_IR, got, sizeof got), 0);
    if (capture_files[k - 1][1][0]) assert_non_null(strstr(got, capture_files[k - 1][1]));
    else assert_string_equal(got, "");
}

/* Every entry, in a new instance: mono without a Worker (as lv2apply and
 * ecasound), stereo with one, and at a host rate that resamples; the
 * entry is then the published model and cabinet. */
static void test_capture_selector_plays(void **state)
{
    (void)state;
    for (int k = 1; k <= RNNFX_N_CAPTURES; k++) {
        Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 1024, LV2HOST_WORKER_NONE);
        lv2host_set(h, "capture", (float)k);
        check_capture_output(h, k, 48000.0, 40 + (uint64_t)k);
        expect_published(h, k);
        assert_int_equal(lv2host_log_count_in_run(h), 0);
        lv2host_free(h);
    }
    const int stereo_k[2] = {2, 4};
    for (int i = 0; i < 2; i++) {
        Lv2Host *h = open_host(RNNFX_URI_STEREO, 48000.0, 1024, LV2HOST_WORKER_THREAD);
        lv2host_set(h, "capture", (float)stereo_k[i]);
        check_capture_output(h, stereo_k[i], 48000.0, 50);
        expect_published(h, stereo_k[i]);
        lv2host_free(h);
    }
    Lv2Host *h = open_host(RNNFX_URI_MONO, 44100.0, 1024, LV2HOST_WORKER_SYNC);
    lv2host_set(h, "capture", 4.0f);
    check_capture_output(h, 4, 44100.0, 60);
    lv2host_free(h);
}

/* The selector acts when its value changes, and the last choice wins: a
 * model file chosen after it stays, through a save and restore; another
 * entry replaces the file; "Keep current" (0) changes nothing. Host garbage
 * (NaN) is ignored, fractions round and values out of range clamp. */
static void test_capture_selector_then_file(void **state)
{
    (void)state;
    char a[1200], dir[1200], got[2048];
    tmp_path(a, sizeof a, "a.json");
    tmp_path(dir, sizeof dir, "state-capture");
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    lv2host_set(h, "capture", 2.0f);
    run_silence(h, 1, 2048, 256);
    expect_published(h, 2);
    load_model(h, a, 256); /* the selector still says 2 */
    run_silence(h, 1, 8192, 256);
    expect_model_name(h, "Model A");
    assert_int_equal(lv2host_save_state(h, dir), 0);
    assert_int_equal(lv2host_state_file_value(dir, RNNFX_URI_CAPTURE, got, sizeof got), 0);
    assert_string_equal(got, "2");
    lv2host_free(h);

    /* a session reopened: the port comes back at 2, the file still plays */
    h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    lv2host_set(h, "capture", 2.0f);
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    run_silence(h, 1, 8192, 256);
    expect_model_name(h, "Model A");

    lv2host_set(h, "capture", NAN);
    run_silence(h, 1, 2048, 256);
    expect_model_name(h, "Model A");
    lv2host_set(h, "capture", 2.6f); /* rounds to 3 */
    run_silence(h, 1, 8192, 256);
    expect_published(h, 3);
    lv2host_set(h, "capture", 0.0f);
    run_silence(h, 1, 2048, 256);
    expect_published(h, 3);
    lv2host_set(h, "capture", 99.0f); /* the last entry */
    run_silence(h, 1, 8192, 256);
    expect_published(h, 4);
    lv2host_set(h, "capture", -3.0f); /* 0 */
    run_silence(h, 1, 2048, 256);
    expect_published(h, 4);
    assert_int_equal(lv2host_log_count_in_run(h), 0);
    lv2host_free(h);
}

/* A state without rnnfx:capture and without the port's value (saved by a
 * version before the selector, or a preset written by hand), restored
 * while the selector is at 2 and has acted: the state's model plays and
 * stays; the unchanged port value is taken as acted on, not acted on
 * again (which brought the DS-1 capture back). */
static void test_capture_selector_old_state(void **state)
{
    (void)state;
    char a[1200], dir[1200], path[1300], got[2048];
    tmp_path(a, sizeof a, "a.json");
    tmp_path(dir, sizeof dir, "state-before-selector");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/state.ttl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
               "@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
               "@prefix state: <http://lv2plug.in/ns/ext/state#> .\n"
               "<> a pset:Preset ;\n"
               "\tlv2:appliesTo <" RNNFX_URI_MONO "> ;\n"
               "\tstate:state [ <" RNNFX_URI_MODEL "> <file://%s> ] .\n",
            a);
    assert_int_equal(fclose(f), 0);

    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    lv2host_set(h, "capture", 2.0f);
    run_silence(h, 1, 2048, 256);
    expect_published(h, 2);
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    assert_true(lv2host_get(h, "capture") == 2.0f); /* the state had no port value */
    run_silence(h, 1, 8192, 256);
    expect_model_name(h, "Model A");
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL, got, sizeof got), 0);
    assert_string_equal(got, a);
    /* saved again, the adopted value goes with it */
    tmp_path(dir, sizeof dir, "state-adopted");
    assert_int_equal(lv2host_save_state(h, dir), 0);
    assert_int_equal(lv2host_state_file_value(dir, RNNFX_URI_CAPTURE, got, sizeof got), 0);
    assert_string_equal(got, "2");
    /* a later choice still acts */
    lv2host_set(h, "capture", 3.0f);
    run_silence(h, 1, 2048, 256);
    expect_published(h, 3);
    lv2host_free(h);
}

/* LV2 lets a host save state while run() plays (state.h: save is in no
 * threading class that excludes the audio one), and the audio thread
 * changes the settings save stores when the selector acts or a Worker
 * load lands. A thread saves over and over while the selector and
 * patch:Set switch models every few cycles: every saved state must name
 * one whole file of the ones played, never a mix of two paths. */
typedef struct {
    Lv2Host *h;
    int saves;
    volatile int stop;
} Saver;

/* The saver's cap. It saves every millisecond or so, and the run loop
 * below plays its whole length (~0.4 s) unless this many saves are done:
 * saving flat out up to 150 states, as once, finished on a fast machine
 * before any patch:Set load had landed. */
#define SAVES_MAX 400

static void *saver_thread(void *arg)
{
    Saver *sv = arg;
    char dir[1200];
    while (!sv->stop && sv->saves < SAVES_MAX) {
        snprintf(dir, sizeof dir, "%s/concurrent-%d", g_tmp, sv->saves);
        if (lv2host_save_state(sv->h, dir) == 0) sv->saves++;
        usleep(1000); /* spread over the whole run, not bunched at its start */
    }
    return NULL;
}

static void test_capture_save_during_run(void **state)
{
    (void)state;
    char a[1200], b[1200], got[2048];
    tmp_path(a, sizeof a, "a.json");
    tmp_path(b, sizeof b, "b.json");
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 64, LV2HOST_WORKER_THREAD);
    Saver sv = {h, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, saver_thread, &sv), 0);
    static float x[64], y[64];
    rnnfx_test_signal(x, 64, 8);
    const float *in[1] = {x};
    float *out[1] = {y};
    /* about real time (64 samples every 40 us plus the run), so that the
     * Worker's loads land between the selector's choices */
    for (int i = 0; i < 8000 && sv.saves < SAVES_MAX; i++) {
        if (i % 60 == 0) lv2host_set(h, "capture", (float)(1 + (i / 60) % RNNFX_N_CAPTURES));
        if (i % 60 == 30) lv2host_send_path(h, RNNFX_URI_MODEL, (i / 60) % 2 ? a : b);
        /* each choice's load finishes before the next choice, so it lands
         * and plays for a while: under ASan a load took longer than 30
         * cycles, every one was overtaken, and no saved state could name
         * a.json or b.json */
        if (i % 30 == 1) lv2host_wait_worker(h, 10000);
        lv2host_run(h, in, out, 64);
        usleep(40);
    }
    sv.stop = 1;
    pthread_join(th, NULL);
    const char *names[] = {"a.json", "b.json", "rnnfx-ds1-drive.json", "rnnfx-tube-amp.json"};
    int seen[4] = {0};
    for (int i = 0; i < sv.saves; i++) {
        char dir[1200];
        snprintf(dir, sizeof dir, "%s/concurrent-%d", g_tmp, i);
        if (lv2host_state_file_value(dir, RNNFX_URI_MODEL, got, sizeof got) != 0)
            continue; /* the built-in capture: no model stored */
        const char *base = strrchr(got, '/') ? strrchr(got, '/') + 1 : got;
        int ok = 0;
        for (int k = 0; k < 4; k++)
            if (!strcmp(base, names[k])) ok = seen[k] = 1;
        if (!ok) fail_msg("state %d names '%s', not a file that played", i, got);
    }
    print_message("%d states saved while run() played: each names one whole model file "
                  "(a.json %d, b.json %d, DS-1 %d, amp %d seen)\n",
                  sv.saves, seen[0], seen[1], seen[2], seen[3]);
    assert_true(sv.saves >= 20);
    assert_true(seen[0] + seen[1] > 0 && seen[2] + seen[3] > 0); /* both writers were saved */
    lv2host_free(h);
}

/* Choices closer together than a crossfade (20 ms; 64-frame blocks here):
 *  - X, Y, X while X fades in: Y waits behind X and must not take over
 *    when the fade ends (what plays stays what was chosen last);
 *  - a capture chosen just after an activate that retired its core (it
 *    was fading out) still plays from the first sample;
 *  - a model file chosen while the chosen capture's core is still fading
 *    out from its last turn wins over the capture. */
static void test_capture_selector_quick_choices(void **state)
{
    (void)state;
    char a[1200], got[2048];
    tmp_path(a, sizeof a, "a.json");
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 64, LV2HOST_WORKER_NONE);
    run_silence(h, 1, 1024, 64); /* the built-in capture plays */
    lv2host_set(h, "capture", 2.0f);
    run_silence(h, 1, 64, 64); /* fading from the built-in capture to DS-1 */
    lv2host_set(h, "capture", 3.0f);
    run_silence(h, 1, 64, 64); /* the amp waits for that fade */
    lv2host_set(h, "capture", 2.0f);
    run_silence(h, 1, 8192, 64);
    expect_published(h, 2);
    lv2host_deactivate(h);
    lv2host_activate(h);
    check_capture_output(h, 2, 48000.0, 80);

    lv2host_set(h, "capture", 3.0f);
    run_silence(h, 1, 64, 64); /* DS-1 fading out */
    lv2host_deactivate(h);
    lv2host_activate(h); /* retires it */
    lv2host_set(h, "capture", 2.0f);
    check_capture_output(h, 2, 48000.0, 81);
    lv2host_free(h);

    h = open_host(RNNFX_URI_MONO, 48000.0, 64, LV2HOST_WORKER_THREAD);
    lv2host_set(h, "capture", 2.0f);
    run_silence(h, 1, 2048, 64);
    lv2host_set(h, "capture", 1.0f);
    run_silence(h, 1, 64, 64); /* DS-1 fading out */
    lv2host_set(h, "capture", 2.0f);
    run_silence(h, 1, 64, 64); /* DS-1 chosen again: waits for its fade */
    assert_int_equal(lv2host_send_path(h, RNNFX_URI_MODEL, a), 0);
    run_silence(h, 1, 64, 64);
    assert_int_equal(lv2host_wait_worker(h, 5000), 0);
    run_silence(h, 1, 16384, 64);
    expect_model_name(h, "Model A");
    assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL, got, sizeof got), 0);
    assert_string_equal(got, a);
    assert_int_equal(lv2host_log_count_in_run(h), 0);
    lv2host_free(h);
}

/* MIDI Program Change chooses a capture (program p: capture p + 1, any
 * channel; others are ignored) from a foot controller, and holds until
 * the port's value moves, as a CC holds a control. */
static void test_capture_program_change(void **state)
{
    (void)state;
    Lv2Host *h = open_host(RNNFX_URI_STEREO, 48000.0, 256, LV2HOST_WORKER_NONE);
    const uint8_t pc1[2] = {0xC3, 1}, pc0[2] = {0xC0, 0}, pc9[2] = {0xC0, 9};
    assert_int_equal(lv2host_send_midi(h, pc1, 2), 0);
    run_silence(h, 2, 4096, 256);
    expect_published(h, 2);
    assert_int_equal(lv2host_send_midi(h, pc9, 2), 0); /* no capture 10 */
    run_silence(h, 2, 4096, 256);
    expect_published(h, 2);
    lv2host_set(h, "capture", 3.0f); /* the port moves: it takes over */
    run_silence(h, 2, 4096, 256);
    expect_published(h, 3);
    assert_int_equal(lv2host_send_midi(h, pc0, 2), 0);
    run_silence(h, 2, 4096, 256);
    expect_published(h, 1);
    /* the port still reads 3 and has not moved: the program holds */
    run_silence(h, 2, 4096, 256);
    expect_published(h, 1);
    /* and what plays is that capture */
    lv2host_deactivate(h);
    lv2host_activate(h);
    check_capture_output(h, 1, 48000.0, 90);
    assert_int_equal(lv2host_log_count_in_run(h), 0);
    lv2host_free(h);
}

/* From a second review (each sequence published one sound and played
 * another, or lost one, before its fix):
 *  1. a capture and, in the same cycle, a model file that cannot be
 *     loaded: the capture plays, as published;
 *  2. a Program Change, then save and reopen (the host restores the
 *     port's own value): the program's capture still plays;
 *  3. a state of the built-in capture restored while the built-in capture
 *     waits for its core (the amp chosen just before): the built-in one
 *     plays;
 *  4. a program sent again after a file was loaded recalls its capture;
 *  5. a state restored after activate, before the first run, plays from
 *     the first sample. */
static void test_capture_second_review(void **state)
{
    (void)state;
    char a[1200], b[1200], missing[1200], dir[1200];
    tmp_path(a, sizeof a, "a.json");
    tmp_path(b, sizeof b, "b.json");
    tmp_path(missing, sizeof missing, "no-such-model.json");

    /* 1 */
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    lv2host_set(h, "capture", 2.0f);
    assert_int_equal(lv2host_send_path(h, RNNFX_URI_MODEL, missing), 0);
    run_silence(h, 1, 256, 256);
    assert_int_equal(lv2host_wait_worker(h, 5000), 0);
    run_silence(h, 1, 8192, 256);
    expect_published(h, 2);
    lv2host_deactivate(h);
    lv2host_activate(h);
    check_capture_output(h, 2, 48000.0, 100);
    lv2host_free(h);

    /* 2 */
    tmp_path(dir, sizeof dir, "state-program");
    h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    lv2host_set(h, "capture", 1.0f);
    run_silence(h, 1, 512, 256);
    const uint8_t pc2[2] = {0xC0, 2}, pc1[2] = {0xC0, 1};
    assert_int_equal(lv2host_send_midi(h, pc2, 2), 0);
    run_silence(h, 1, 4096, 256);
    expect_published(h, 3);
    assert_int_equal(lv2host_save_state(h, dir), 0);
    lv2host_free(h);
    h = open_host(RNNFX_URI_MONO, 48000.0, 256, LV2HOST_WORKER_THREAD);
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    assert_true(lv2host_get(h, "capture") == 1.0f); /* the port's own value */
    run_silence(h, 1, 8192, 256);
    expect_published(h, 3);
    lv2host_deactivate(h);
    lv2host_activate(h);
    check_capture_output(h, 3, 48000.0, 101);

    /* 4 */
    assert_int_equal(lv2host_send_midi(h, pc1, 2), 0);
    run_silence(h, 1, 4096, 256);
    expect_published(h, 2);
    load_model(h, a, 256);
    assert_int_equal(lv2host_send_midi(h, pc1, 2), 0);
    run_silence(h, 1, 8192, 256);
    expect_published(h, 2);

    /* 5 */
    load_model(h, b, 256);
    tmp_path(dir, sizeof dir, "state-b-fresh");
    assert_int_equal(lv2host_save_state(h, dir), 0);
    load_model(h, a, 256);
    lv2host_deactivate(h);
    lv2host_activate(h);
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    char saved_b[1300];
    snprintf(saved_b, sizeof saved_b, "%s/b.json", dir); /* the host's link to b */
    check_output(h, saved_b, NULL, 48000.0, 102);
    lv2host_free(h);

    /* 3 */
    tmp_path(dir, sizeof dir, "state-builtin");
    h = open_host(RNNFX_URI_MONO, 48000.0, 64, LV2HOST_WORKER_NONE);
    assert_int_equal(lv2host_save_state(h, dir), 0);
    run_silence(h, 1, 1024, 64);
    lv2host_set(h, "capture", 4.0f);
    run_silence(h, 1, 64, 64); /* fading from the built-in capture to the amp */
    lv2host_set(h, "capture", 1.0f);
    run_silence(h, 1, 64, 64); /* the built-in capture waits for that fade */
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    run_silence(h, 1, 8192, 64);
    expect_published(h, 1);
    lv2host_deactivate(h);
    lv2host_activate(h);
    check_capture_output(h, 1, 48000.0, 103);
    lv2host_free(h);
}

/* Entries switched faster than a crossfade, while audio plays: each
 * capture's core is installed again while it may still be fading out from
 * its last turn. The output stays finite, the last choice is what plays
 * once things settle,
 * and after a reset it plays exactly as a fresh chain of that capture
 * (a reused core starts from its rest state). */
static void test_capture_selector_fast_switching(void **state)
{
    (void)state;
    const uint32_t block = 64;
    float x[64], y[64];
    const float *in[1] = {x};
    float *out[1] = {y};
    Lv2Host *h = open_host(RNNFX_URI_MONO, 48000.0, block, LV2HOST_WORKER_NONE);
    int finite = 1;
    long t = 0;
    const int seq[5] = {2, 3, 1, 3, 4};
    int last = 0;
    for (int i = 0; i < 400; i++) {
        if (i % 3 == 0) lv2host_set(h, "capture", (float)(last = seq[(i / 3) % 5]));
        for (uint32_t j = 0; j < block; j++, t++)
            x[j] = 0.2f * sinf(2.0f * 3.14159265f * 196.0f * (float)t / 48000.0f);
        lv2host_run(h, in, out, block);
        finite &= rnnfx_test_all_finite(y, block);
    }
    assert_true(finite);
    run_silence(h, 1, 8192, block);
    expect_published(h, last);
    lv2host_deactivate(h);
    lv2host_activate(h);
    check_capture_output(h, last, 48000.0, 70);
    assert_int_equal(lv2host_log_count_in_run(h), 0);
    lv2host_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports_match_code),
        cmocka_unit_test(test_default_capture_published),
        cmocka_unit_test(test_output_equals_chain),
        cmocka_unit_test(test_state_round_trip),
        cmocka_unit_test(test_missing_model_survived),
        cmocka_unit_test(test_preset_selects_capture),
        cmocka_unit_test(test_preset_amp_cabinet),
        cmocka_unit_test(test_without_worker),
        cmocka_unit_test(test_midi_cc),
        cmocka_unit_test(test_many_switches),
        cmocka_unit_test(test_capture_selector_plays),
        cmocka_unit_test(test_capture_selector_then_file),
        cmocka_unit_test(test_capture_selector_old_state),
        cmocka_unit_test(test_capture_save_during_run),
        cmocka_unit_test(test_patch_as_blank),
        cmocka_unit_test(test_answer_refused_republishes),
        cmocka_unit_test(test_capture_selector_quick_choices),
        cmocka_unit_test(test_capture_program_change),
        cmocka_unit_test(test_capture_second_review),
        cmocka_unit_test(test_capture_selector_fast_switching),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

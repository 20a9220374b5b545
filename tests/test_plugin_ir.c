/*
 * test_plugin_ir.c — the cabinet impulse response (rnnfx:ir) of the rnnfx
 * LV2 plugins, loaded from the built bundle through lilv the way a DAW
 * loads it (tests/support/lv2host: URID map, Worker, State, Log).
 *
 * What is checked, with IR files this test writes (a decaying noise burst
 * of 3000 samples, a stereo burst recorded at 44.1 kHz, a pure impulse):
 *   - both plugins declare rnnfx:ir as patch:writable, labelled "Cabinet
 *     IR", with range atom:Path, as a host reads it through lilv;
 *   - after patch:Set(rnnfx:ir) the plugin's output equals the engine
 *     chain's (rnnfx_chain_core_new_ir on the same model and IR) within
 *     1e-6, mono and stereo, with any block size; and equals a direct
 *     double-precision convolution of the plugin's own cabinet-less output
 *     with the file's samples scaled to unit band power (ir.h; a reference
 *     that does not use the engine's convolver); a unit impulse changes
 *     nothing;
 *   - a switch while audio plays: the output, crossfade included, equals a
 *     chain that swaps cores at the same sample;
 *   - the IR path is published (patch:Set on notify, and on patch:Get) and
 *     the load is logged with its length, source rate and channels;
 *   - an empty path removes the cabinet;
 *   - state: save stores the path (mapPath), restore brings the cabinet
 *     back; a session without the key plays without one; a saved IR file
 *     that is missing on restore is named in a warning, the plugin plays
 *     without a cabinet and keeps the path (published, saved again, still
 *     kept across a model change);
 *   - a text file, a 6-channel WAV, a WAV holding NaN and a missing file
 *     are refused with an error naming the file, and the sound goes on
 *     unchanged (sample for sample);
 *   - a model load and an IR load in flight at once: both settings end up
 *     in use, whichever order; a bad model with a good IR in flight keeps
 *     the model and takes the IR, and a bad IR with a good model the other
 *     way round;
 *   - a state restore wins over an IR load requested before it;
 *   - a host whose worker queue refuses the request: it is sent again at
 *     later runs and loads once the queue takes it; refused for more than
 *     2 s of audio, it is dropped and the setting in use stays;
 *   - without the Worker, restore still loads the cabinet.
 * Real-time safety of IR loads (no allocation, lock or file access in run
 * and work_response) is checked by tests/test_plugin_rt.c.
 *
 * The bundle is $BUILD/rnnfx.lv2 (BUILD defaults to "build"); tests run
 * from the repository root.
 */
#include <math.h>
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
#include <lilv/lilv.h>
#include <sndfile.h>

#include "../plugin/rnnfx_ports.h"
#include "audiotest.h"
#include "chain.h"
#include "enginetest.h"
#include "ir.h"
#include "lv2host.h"
#include "model_file.h"

#define BLOCK 256u
#define MAX_BLOCK 1024u
#define N_SIG 16000

static char g_bundle[1024];
static char g_tmp[1024];
/* models and IR files in g_tmp */
static char g_a[1200], g_b[1200], g_cab[1200], g_cab2[1200], g_imp[1200];
static char g_text[1200], g_six[1200], g_nan[1200], g_none[1200], g_cut[1200];

static const char *tmp_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", g_tmp, name);
    return buf;
}

/* ---- fixtures ---------------------------------------------------------------- */

static void write_model(const char *path, uint64_t seed, int hidden, const char *name)
{
    assert_int_equal(rnnfx_test_save_gru_model(path, seed, hidden, name), 0);
}

static int write_fixtures(void)
{
    write_model(g_a, 11, 12, "Model A");
    write_model(g_b, 22, 16, "Model B");
    /* decaying noise bursts (time constant 600 samples: the tail stays far
     * above the -100 dB trim level) */
    int r = rnnfx_test_write_decay(g_cab, 48000, 1, 3000, 5, 0.7, 600.0, 0.0) |
            rnnfx_test_write_decay(g_cab2, 44100, 2, 2500, 6, 0.7, 600.0, 0.0);
    float imp[64] = {0.25f};
    r |= rnnfx_test_write_float_wav(g_imp, 1, 48000, imp, 64);
    float six[6 * 100];
    for (int i = 0; i < 600; i++) six[i] = (i < 6) ? 0.5f : 0.0f;
    r |= rnnfx_test_write_float_wav(g_six, 6, 48000, six, 100);
    float bad[200];
    for (int i = 0; i < 200; i++) bad[i] = 0.1f * expf(-(float)i / 20.0f);
    bad[17] = NAN;
    r |= rnnfx_test_write_float_wav(g_nan, 1, 48000, bad, 200);
    /* a reverb cut short (an aborted copy): its header promises twice the
     * samples it holds */
    char whole[1200];
    r |= rnnfx_test_write_decay(tmp_path(whole, sizeof whole, "whole.wav"), 48000, 1, 6000, 7,
                                0.7, 2000.0, 0.0);
    r |= rnnfx_test_copy_half(whole, g_cut);
    FILE *f = fopen(g_text, "w");
    if (!f) return -1;
    fputs("This is a text file with a .wav name, not a sound.\n", f);
    fclose(f);
    return r;
}

static int setup(void **state)
{
    (void)state;
    if (lv2host_built_bundle(g_bundle, sizeof g_bundle) != 0)
        return -1;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/rnnfx-plugin-ir-test-XXXXXX");
    if (!mkdtemp(g_tmp)) return -1;
    tmp_path(g_a, sizeof g_a, "a.json");
    tmp_path(g_b, sizeof g_b, "b.json");
    tmp_path(g_cab, sizeof g_cab, "cab.wav");
    tmp_path(g_cab2, sizeof g_cab2, "cab2-stereo-44k.wav");
    tmp_path(g_imp, sizeof g_imp, "impulse.wav");
    tmp_path(g_text, sizeof g_text, "text.wav");
    tmp_path(g_six, sizeof g_six, "six-channels.wav");
    tmp_path(g_nan, sizeof g_nan, "nan.wav");
    tmp_path(g_none, sizeof g_none, "no-such-file.wav");
    tmp_path(g_cut, sizeof g_cut, "cut-short.wav");
    return write_fixtures();
}

static int teardown(void **state)
{
    (void)state;
    return rnnfx_test_remove_tree(g_tmp);
}

/* ---- plugin helpers ---------------------------------------------------------- */

static Lv2Host *open_host(const char *uri, Lv2HostWorkerMode w)
{
    Lv2HostConfig cfg = {48000.0, MAX_BLOCK, w, 0, 0};
    char err[512] = "";
    Lv2Host *h = lv2host_new(g_bundle, uri, &cfg, err, sizeof err);
    if (!h) fail_msg("cannot open the plugin: %s", err);
    return h;
}

static void run_silence(Lv2Host *h, uint32_t n)
{
    static float zin[MAX_BLOCK], zout[2][MAX_BLOCK];
    const float *in[2] = {zin, zin};
    float *out[2] = {zout[0], zout[1]};
    for (uint32_t done = 0; done < n; done += BLOCK) lv2host_run(h, in, out, BLOCK);
}

/* Sends patch:Set(property = path) and lets the Worker answer and the
 * crossfade finish. */
static void set_path(Lv2Host *h, const char *property, const char *path)
{
    assert_int_equal(lv2host_send_path(h, property, path), 0);
    run_silence(h, BLOCK);
    assert_int_equal(lv2host_wait_worker(h, 10000), 0);
    run_silence(h, 8192);
}

static void param(Lv2Host *h, const char *property, char *buf, size_t len)
{
    if (lv2host_param(h, property, buf, len) != 0) fail_msg("%s never published", property);
}

/* The published IR path ends in `tail` ("" : no cabinet). */
static void assert_ir_param(Lv2Host *h, const char *tail)
{
    char got[2048];
    param(h, RNNFX_URI_IR, got, sizeof got);
    if (!tail[0]) {
        assert_string_equal(got, "");
        return;
    }
    size_t n = strlen(got), t = strlen(tail);
    if (n < t || strcmp(got + n - t, tail) != 0) fail_msg("published IR '%s', expected '...%s'", got, tail);
}

typedef struct {
    float in_db, out_db, mix;
} Controls;

static const Controls UNITY = {0.0f, 0.0f, 1.0f};

static void set_controls(Lv2Host *h, const Controls *c)
{
    lv2host_set(h, "input_gain", c->in_db);
    lv2host_set(h, "output_gain", c->out_db);
    lv2host_set(h, "mix", c->mix);
}

/* The input signal: channel c from seed 100 + c. */
static void make_input(float *x[2], size_t n)
{
    for (int c = 0; c < 2; c++) rnnfx_test_signal(x[c], n, 100 + (uint64_t)c);
}

/* Resets the plugin (activate resets its chain) and plays x through it in
 * blocks of `block` frames (0: random sizes up to MAX_BLOCK). */
static void plugin_render(Lv2Host *h, const Controls *c, float *x[2], float *y[2], size_t n,
                          uint32_t block)
{
    set_controls(h, c);
    lv2host_deactivate(h);
    lv2host_activate(h);
    RnnfxTestRng rng;
    rnnfx_test_rng_seed(&rng, 9);
    for (size_t off = 0; off < n;) {
        uint32_t len = block ? block : 1 + (uint32_t)(rnnfx_test_rng_uniform(&rng) * MAX_BLOCK);
        if (len > n - off) len = (uint32_t)(n - off);
        const float *in[2] = {x[0] + off, x[1] + off};
        float *out[2] = {y[0] + off, y[1] + off};
        lv2host_run(h, in, out, len);
        off += len;
    }
}

/* ---- engine references --------------------------------------------------------- */

static RnnfxChainControls chain_controls(const Controls *c)
{
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    ctl.input_db = c->in_db;
    ctl.output_db = c->out_db;
    ctl.mix = c->mix;
    ctl.n_knobs = RNNFX_N_KNOBS;
    for (int k = 0; k < RNNFX_N_KNOBS; k++) ctl.knobs[k] = 0.5f;
    return ctl;
}

/* A core of `chain` for a model file and an IR file (NULL or "": none). */
static RnnfxChainCore *ref_core(const RnnfxChain *chain, const char *model_path,
                                const char *ir_path)
{
    RnnfxModel *m = NULL;
    RnnfxError err;
    if (rnnfx_model_load(model_path, NULL, &m, &err) != RNNFX_OK) fail_msg("%s", err.msg);
    RnnfxIr *ir = NULL;
    if (ir_path && ir_path[0] &&
        rnnfx_ir_load(ir_path, rnnfx_chain_host_rate(chain), rnnfx_chain_channels(chain), &ir,
                      &err) != RNNFX_OK)
        fail_msg("reference IR %s: %s", ir_path, err.msg);
    RnnfxChainCore *core = NULL;
    if (rnnfx_chain_core_new_ir(chain, m, 1, ir, &core, &err) != RNNFX_OK)
        fail_msg("reference core: %s", err.msg);
    rnnfx_ir_free(ir);
    return core;
}

static void drain(RnnfxChain *chain)
{
    RnnfxChainCore *r;
    while ((r = rnnfx_chain_take_retired(chain)) != NULL) rnnfx_chain_core_free(r);
}

/* The chain's output for model + IR on x, as a fresh plugin gives it;
 * with switch_at > 0, the chain starts with model + no IR and swaps to
 * model + IR after switch_at samples (a multiple of `block`). */
static void chain_render(const char *model_path, const char *ir_path, int channels,
                         const Controls *c, float *x[2], float *y[2], size_t n, size_t switch_at,
                         uint32_t block)
{
    RnnfxChain *chain = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_new_multi(NULL, 48000.0, channels, 4096, &chain, &err), RNNFX_OK);
    RnnfxChainCore *displaced = NULL;
    rnnfx_chain_swap(chain, ref_core(chain, model_path, switch_at ? NULL : ir_path), &displaced);
    assert_null(displaced);
    RnnfxChainControls ctl = chain_controls(c);
    rnnfx_chain_set_controls(chain, &ctl);
    for (size_t off = 0; off < n;) {
        size_t len = block ? block : n;
        if (len > n - off) len = n - off;
        if (switch_at && off == switch_at) {
            rnnfx_chain_swap(chain, ref_core(chain, model_path, ir_path), &displaced);
            assert_null(displaced);
        }
        const float *in[2] = {x[0] + off, x[1] + off};
        float *out[2] = {y[0] + off, y[1] + off};
        rnnfx_chain_set_controls(chain, &ctl);
        rnnfx_chain_process_multi(chain, in, out, len);
        drain(chain);
        off += len;
    }
    rnnfx_chain_free(chain);
}

static double peak_of(const float *x, size_t n)
{
    double p = 0;
    for (size_t i = 0; i < n; i++) p = fmax(p, fabs((double)x[i]));
    return p;
}

typedef struct {
    float *x[2], *y[2], *ref[2];
} Bufs;

static void bufs_new(Bufs *b, size_t n)
{
    for (int c = 0; c < 2; c++) {
        b->x[c] = malloc(n * sizeof(float));
        b->y[c] = calloc(n, sizeof(float));
        b->ref[c] = calloc(n, sizeof(float));
    }
    make_input(b->x, n);
}

static void bufs_free(Bufs *b)
{
    for (int c = 0; c < 2; c++) {
        free(b->x[c]);
        free(b->y[c]);
        free(b->ref[c]);
    }
}

/* Renders through the plugin as it is and compares with the chain for
 * model + IR. Returns the largest difference over the channels. */
static double plugin_vs_chain(Lv2Host *h, const char *model_path, const char *ir_path,
                              const Controls *c, uint32_t block, const char *what)
{
    const size_t n = N_SIG;
    const int channels = lv2host_audio_channels(h);
    Bufs b;
    bufs_new(&b, n);
    plugin_render(h, c, b.x, b.y, n, block);
    chain_render(model_path, ir_path, channels, c, b.x, b.ref, n, 0, 0);
    double worst = 0;
    for (int ch = 0; ch < channels; ch++) {
        double d = rnnfx_test_max_abs_diff(b.y[ch], b.ref[ch], n);
        print_message("%s ch%d: max |plugin - chain| = %.3g (peak %.3f)\n", what, ch, d,
                      peak_of(b.ref[ch], n));
        assert_true(peak_of(b.ref[ch], n) > 1e-2); /* not comparing silences */
        worst = fmax(worst, d);
    }
    bufs_free(&b);
    return worst;
}

/* ---- 0. what a host reads from the TTL -------------------------------------------- */

static void test_ttl_declares_parameter(void **state)
{
    (void)state;
    LilvWorld *w = lilv_world_new();
    lilv_world_load_specifications(w);
    char dir[1100];
    char *abs = realpath(g_bundle, NULL);
    assert_non_null(abs);
    snprintf(dir, sizeof dir, "%s/", abs);
    free(abs);
    LilvNode *bundle = lilv_new_file_uri(w, NULL, dir);
    lilv_world_load_bundle(w, bundle);
    LilvNode *writable = lilv_new_uri(w, "http://lv2plug.in/ns/ext/patch#writable");
    LilvNode *label = lilv_new_uri(w, "http://www.w3.org/2000/01/rdf-schema#label");
    LilvNode *range = lilv_new_uri(w, "http://www.w3.org/2000/01/rdf-schema#range");
    LilvNode *ir = lilv_new_uri(w, RNNFX_URI_IR);
    const char *uris[2] = {RNNFX_URI_MONO, RNNFX_URI_STEREO};
    for (int i = 0; i < 2; i++) {
        LilvNode *uri = lilv_new_uri(w, uris[i]);
        const LilvPlugin *p = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(w), uri);
        assert_non_null(p);
        LilvNodes *params = lilv_plugin_get_value(p, writable); /* loads the plugin's data */
        assert_true(lilv_nodes_contains(params, ir));
        print_message("%s: %u writable parameter(s), rnnfx:ir among them\n", uris[i],
                      lilv_nodes_size(params));
        lilv_nodes_free(params);
        lilv_node_free(uri);
    }
    LilvNode *l = lilv_world_get(w, ir, label, NULL);
    LilvNode *r = lilv_world_get(w, ir, range, NULL);
    assert_non_null(l);
    assert_non_null(r);
    assert_string_equal(lilv_node_as_string(l), "Cabinet IR");
    assert_string_equal(lilv_node_as_uri(r), "http://lv2plug.in/ns/ext/atom#Path");
    lilv_node_free(l);
    lilv_node_free(r);
    lilv_node_free(ir);
    lilv_node_free(range);
    lilv_node_free(label);
    lilv_node_free(writable);
    lilv_node_free(bundle);
    lilv_world_free(w);
}

/* ---- 1. output equals the chain, and a direct convolution ---------------------- */

static void test_output_equals_chain(void **state)
{
    (void)state;
    const Controls moved = {4.0f, -3.0f, 0.7f};
    /* mono, mono IR at the host rate */
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    set_path(h, RNNFX_URI_MODEL, g_a);
    set_path(h, RNNFX_URI_IR, g_cab);
    assert_ir_param(h, "/cab.wav");
    assert_true(plugin_vs_chain(h, g_a, g_cab, &UNITY, BLOCK, "mono, cab.wav") <= 1e-6);
    assert_true(plugin_vs_chain(h, g_a, g_cab, &moved, 0, "mono, cab.wav, moved, random blocks") <=
                1e-6);
    /* a stereo IR recorded at 44.1 kHz, mixed down for the mono plugin */
    set_path(h, RNNFX_URI_IR, g_cab2);
    assert_ir_param(h, "/cab2-stereo-44k.wav");
    assert_true(plugin_vs_chain(h, g_a, g_cab2, &UNITY, 0, "mono, stereo 44.1k IR") <= 1e-6);
    /* the cabinet really acts: the sound differs from the bare model */
    assert_true(plugin_vs_chain(h, g_a, NULL, &UNITY, BLOCK, "(expected to differ) mono, bare") >
                1e-2);
    lv2host_free(h);

    /* stereo: the stereo IR gives each channel its own response */
    h = open_host(RNNFX_URI_STEREO, LV2HOST_WORKER_THREAD);
    set_path(h, RNNFX_URI_MODEL, g_b);
    set_path(h, RNNFX_URI_IR, g_cab2);
    assert_true(plugin_vs_chain(h, g_b, g_cab2, &moved, 0, "stereo, stereo 44.1k IR") <= 1e-6);
    set_path(h, RNNFX_URI_IR, g_cab);
    assert_true(plugin_vs_chain(h, g_b, g_cab, &UNITY, BLOCK, "stereo, mono IR") <= 1e-6);
    lv2host_free(h);
}

/* Reads a mono float WAV whole. */
static float *read_mono(const char *path, size_t *frames)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    assert_non_null(f);
    assert_int_equal(info.channels, 1);
    float *x = malloc((size_t)info.frames * sizeof(float));
    assert_int_equal(sf_readf_float(f, x, info.frames), info.frames);
    sf_close(f);
    *frames = (size_t)info.frames;
    return x;
}

static void test_output_is_the_convolution(void **state)
{
    (void)state;
    const size_t n = N_SIG;
    Bufs b;
    bufs_new(&b, n);
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_SYNC);
    set_path(h, RNNFX_URI_MODEL, g_a);
    plugin_render(h, &UNITY, b.x, b.ref, n, BLOCK); /* the bare model */
    set_path(h, RNNFX_URI_IR, g_cab);
    plugin_render(h, &UNITY, b.x, b.y, n, BLOCK);

    /* y = h * bare, h the file's samples at unit band power (the measure
     * test_convolver checks against direct sums), in double */
    size_t len;
    float *ir = read_mono(g_cab, &len);
    const double g = 1.0 / sqrt(rnnfx_ir_norm_power(ir, len, 48000));
    double worst = 0, peak = 0;
    for (size_t i = 0; i < n; i++) {
        double acc = 0;
        for (size_t k = 0; k < len && k <= i; k++) acc += g * ir[k] * (double)b.ref[0][i - k];
        worst = fmax(worst, fabs(acc - (double)b.y[0][i]));
        peak = fmax(peak, fabs(acc));
    }
    print_message("cab.wav (%zu taps): max |plugin - direct convolution| = %.3g (peak %.3f)\n",
                  len, worst, peak);
    assert_true(peak > 1e-2);
    assert_true(worst <= 1e-5 * fmax(1.0, peak));
    free(ir);

    /* a unit impulse: the bare model again */
    set_path(h, RNNFX_URI_IR, g_imp);
    plugin_render(h, &UNITY, b.x, b.y, n, BLOCK);
    double d = rnnfx_test_max_abs_diff(b.y[0], b.ref[0], n);
    print_message("impulse IR: max |plugin - bare model| = %.3g\n", d);
    assert_true(d <= 1e-6);
    lv2host_free(h);
    bufs_free(&b);
}

/* ---- 2. a switch while playing: crossfade included ------------------------------ */

static void test_live_switch_matches_chain(void **state)
{
    (void)state;
    const size_t n = N_SIG;
    const size_t switch_block = 20;
    Bufs b;
    bufs_new(&b, n);
    /* synchronous Worker: the load is made inside run() of block k and
     * installed when its response is delivered right after that run */
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_SYNC);
    set_path(h, RNNFX_URI_MODEL, g_a);
    set_controls(h, &UNITY);
    lv2host_deactivate(h);
    lv2host_activate(h);
    for (size_t off = 0, k = 0; off < n; off += BLOCK, k++) {
        if (k == switch_block) assert_int_equal(lv2host_send_path(h, RNNFX_URI_IR, g_cab), 0);
        const float *in[1] = {b.x[0] + off};
        float *out[1] = {b.y[0] + off};
        lv2host_run(h, in, out, (uint32_t)(n - off < BLOCK ? n - off : BLOCK));
    }
    chain_render(g_a, g_cab, 1, &UNITY, b.x, b.ref, n, (switch_block + 1) * BLOCK, BLOCK);
    double d = rnnfx_test_max_abs_diff(b.y[0], b.ref[0], n);
    print_message("IR installed while playing: max |plugin - chain swapping at sample %zu| = %.3g\n",
                  (switch_block + 1) * BLOCK, d);
    assert_true(d <= 1e-6);
    assert_true(peak_of(b.ref[0], n) > 1e-2);
    assert_ir_param(h, "/cab.wav");
    /* (no log check: with the synchronous Worker, work() logs inside run) */
    lv2host_free(h);
    bufs_free(&b);
}

/* ---- 3. published, logged, removed ---------------------------------------------- */

static void test_publish_log_and_remove(void **state)
{
    (void)state;
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    run_silence(h, BLOCK);
    assert_ir_param(h, ""); /* published from the start: no cabinet */
    lv2host_log_clear(h);
    set_path(h, RNNFX_URI_IR, g_cab2);
    assert_ir_param(h, "/cab2-stereo-44k.wav");
    const char *log = lv2host_log(h);
    print_message("log: %s", log);
    assert_non_null(strstr(log, "cab2-stereo-44k.wav"));
    assert_non_null(strstr(log, " ms"));
    assert_non_null(strstr(log, "44100 Hz"));
    assert_non_null(strstr(log, "2 channel"));
    assert_int_equal(lv2host_log_count_in_run(h), 0);
    /* patch:Get publishes it again */
    int before = lv2host_notify_count(h);
    lv2host_send_get(h);
    run_silence(h, BLOCK);
    assert_true(lv2host_notify_count(h) >= before + 5);
    assert_ir_param(h, "/cab2-stereo-44k.wav");
    /* the empty path removes the cabinet */
    set_path(h, RNNFX_URI_IR, "");
    assert_ir_param(h, "");
    char def_model[2048];
    param(h, RNNFX_URI_MODEL, def_model, sizeof def_model);
    assert_true(plugin_vs_chain(h, def_model, NULL, &UNITY, BLOCK, "after removing the IR") <=
                1e-6);
    lv2host_free(h);
}

/* ---- 4. state -------------------------------------------------------------------- */

static void test_state_round_trip(void **state)
{
    (void)state;
    char dir[1300], dir0[1300], got[2048];
    tmp_path(dir, sizeof dir, "state-ir");
    tmp_path(dir0, sizeof dir0, "state-no-ir");
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    set_path(h, RNNFX_URI_MODEL, g_b);
    assert_int_equal(lv2host_save_state(h, dir0), 0); /* a session without a cabinet */
    set_path(h, RNNFX_URI_IR, g_cab);
    assert_int_equal(lv2host_save_state(h, dir), 0);
    lv2host_free(h);
    assert_int_equal(lv2host_state_file_value(dir0, RNNFX_URI_IR, got, sizeof got), -1);
    assert_int_equal(lv2host_state_file_value(dir, RNNFX_URI_IR, got, sizeof got), 0);
    print_message("saved IR value: %s\n", got);
    assert_non_null(strstr(got, "cab.wav"));

    h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    run_silence(h, 2048);
    assert_ir_param(h, "cab.wav");
    assert_true(plugin_vs_chain(h, g_b, g_cab, &UNITY, BLOCK, "restored with cabinet") <= 1e-6);
    /* a session without the key: no cabinet */
    assert_int_equal(lv2host_restore_state(h, dir0), 0);
    run_silence(h, 2048);
    assert_ir_param(h, "");
    assert_true(plugin_vs_chain(h, g_b, NULL, &UNITY, BLOCK, "restored without cabinet") <= 1e-6);
    lv2host_free(h);

    /* the built-in capture with a cabinet: no model key (sessions stay free
     * of the bundle's location), the cabinet's key, both back on restore */
    char dird[1300], def_model[2048];
    tmp_path(dird, sizeof dird, "state-default-ir");
    h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    set_path(h, RNNFX_URI_IR, g_cab2);
    param(h, RNNFX_URI_MODEL, def_model, sizeof def_model);
    assert_non_null(strstr(def_model, RNNFX_DEFAULT_MODEL_FILE));
    assert_int_equal(lv2host_save_state(h, dird), 0);
    lv2host_free(h);
    assert_int_equal(lv2host_state_file_value(dird, RNNFX_URI_MODEL, got, sizeof got), -1);
    assert_int_equal(lv2host_state_file_value(dird, RNNFX_URI_IR, got, sizeof got), 0);
    h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    assert_int_equal(lv2host_restore_state(h, dird), 0);
    run_silence(h, 2048);
    assert_ir_param(h, "cab2-stereo-44k.wav");
    assert_true(plugin_vs_chain(h, def_model, g_cab2, &UNITY, BLOCK, "built-in capture + cabinet") <=
                1e-6);
    lv2host_free(h);

    /* without a Worker, restore loads the cabinet too */
    Lv2HostConfig cfg = {48000.0, MAX_BLOCK, LV2HOST_WORKER_NONE, 0, 0};
    char err[512] = "";
    h = lv2host_new(g_bundle, RNNFX_URI_MONO, &cfg, err, sizeof err);
    assert_non_null(h);
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    run_silence(h, 2048);
    assert_ir_param(h, "cab.wav");
    assert_true(plugin_vs_chain(h, g_b, g_cab, &UNITY, BLOCK, "no Worker, restored") <= 1e-6);
    lv2host_free(h);
}

static void copy_file(const char *src, const char *dst)
{
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, dst);
    assert_int_equal(system(cmd), 0);
}

static void test_missing_ir_on_restore(void **state)
{
    (void)state;
    char gone[1300], dir[1300], dir2[1300], got[2048];
    tmp_path(gone, sizeof gone, "soon-gone-cab.wav");
    tmp_path(dir, sizeof dir, "state-gone");
    tmp_path(dir2, sizeof dir2, "state-gone-again");
    copy_file(g_cab, gone);
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    set_path(h, RNNFX_URI_MODEL, g_a);
    set_path(h, RNNFX_URI_IR, gone);
    assert_int_equal(lv2host_save_state(h, dir), 0);
    lv2host_free(h);
    assert_int_equal(unlink(gone), 0);

    h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    lv2host_log_clear(h);
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    const char *log = lv2host_log(h);
    print_message("log after restore: %s", log);
    const char *w = strstr(log, "warning: ");
    assert_non_null(w);
    assert_non_null(strstr(w, "soon-gone-cab.wav"));
    run_silence(h, 2048);
    /* plays the model without a cabinet, and keeps the setting */
    assert_true(plugin_vs_chain(h, g_a, NULL, &UNITY, BLOCK, "missing IR: bare model") <= 1e-6);
    assert_ir_param(h, "soon-gone-cab.wav");
    assert_int_equal(lv2host_save_state(h, dir2), 0);
    assert_int_equal(lv2host_state_file_value(dir2, RNNFX_URI_IR, got, sizeof got), 0);
    print_message("saved again: %s\n", got);
    assert_non_null(strstr(got, "soon-gone-cab.wav"));
    /* a model change keeps it too (and still plays no cabinet) */
    set_path(h, RNNFX_URI_MODEL, g_b);
    assert_ir_param(h, "soon-gone-cab.wav");
    char model[2048];
    param(h, RNNFX_URI_MODEL, model, sizeof model);
    assert_string_equal(model, g_b);
    assert_true(plugin_vs_chain(h, g_b, NULL, &UNITY, BLOCK, "missing IR, new model") <= 1e-6);
    /* the file is back: restoring the session saved again plays it */
    copy_file(g_cab, gone);
    assert_int_equal(lv2host_restore_state(h, dir2), 0);
    run_silence(h, 2048);
    assert_true(plugin_vs_chain(h, g_a, g_cab, &UNITY, BLOCK, "IR file back") <= 1e-6);
    assert_int_equal(lv2host_log_count_in_run(h), 0);
    lv2host_free(h);
}

/* ---- 5. bad files ------------------------------------------------------------------ */

static void test_bad_files_refused(void **state)
{
    (void)state;
    const char *bad[] = {g_text, g_six, g_nan, g_none, g_cut};
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    set_path(h, RNNFX_URI_MODEL, g_a);
    set_path(h, RNNFX_URI_IR, g_cab);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lv2host_log_clear(h);
        set_path(h, RNNFX_URI_IR, bad[i]);
        const char *log = lv2host_log(h);
        print_message("%s", log);
        const char *e = strstr(log, "error: ");
        assert_non_null(e);
        assert_non_null(strstr(e, strrchr(bad[i], '/') + 1));
        assert_ir_param(h, "/cab.wav");
        assert_true(plugin_vs_chain(h, g_a, g_cab, &UNITY, BLOCK, "after a refused IR") <= 1e-6);
    }
    assert_int_equal(lv2host_log_count_in_run(h), 0);
    lv2host_free(h);
}

/* ---- 6. model and IR loads in flight at once ---------------------------------------- */

/* Runs until every load asked for is built and installed: a choice that
 * waited for the one under way goes at a run after its answer. */
static void settle_loads(Lv2Host *h)
{
    for (int k = 0; k < 4; k++) {
        run_silence(h, 8192);
        assert_int_equal(lv2host_wait_worker(h, 10000), 0);
    }
    run_silence(h, 8192);
}

/* Sends both requests in separate cycles while the host holds the Worker's
 * answers back, then lets them through. The second waits in the plugin
 * while the first is under way (one load at a time, the latest choice
 * winning) and goes once the first is answered. */
static void both_in_flight(Lv2Host *h, const char *p1, const char *v1, const char *p2,
                           const char *v2)
{
    lv2host_hold_responses(h, 1);
    assert_int_equal(lv2host_send_path(h, p1, v1), 0);
    run_silence(h, BLOCK);
    assert_int_equal(lv2host_send_path(h, p2, v2), 0);
    run_silence(h, BLOCK);
    assert_int_equal(lv2host_wait_worker(h, 10000), 0);
    lv2host_hold_responses(h, 0);
    settle_loads(h);
}

static void test_model_and_ir_in_flight(void **state)
{
    (void)state;
    char model[2048], bad_model[1300];
    tmp_path(bad_model, sizeof bad_model, "not-a-model.json");
    FILE *f = fopen(bad_model, "w");
    assert_non_null(f);
    fputs("{\"this\": \"is not a model\"}\n", f);
    fclose(f);
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    set_path(h, RNNFX_URI_MODEL, g_a);

    /* model, then cabinet */
    both_in_flight(h, RNNFX_URI_MODEL, g_b, RNNFX_URI_IR, g_cab);
    param(h, RNNFX_URI_MODEL, model, sizeof model);
    assert_string_equal(model, g_b);
    assert_ir_param(h, "/cab.wav");
    assert_true(plugin_vs_chain(h, g_b, g_cab, &UNITY, BLOCK, "model then IR in flight") <= 1e-6);
    /* cabinet, then model */
    both_in_flight(h, RNNFX_URI_IR, g_cab2, RNNFX_URI_MODEL, g_a);
    param(h, RNNFX_URI_MODEL, model, sizeof model);
    assert_string_equal(model, g_a);
    assert_ir_param(h, "/cab2-stereo-44k.wav");
    assert_true(plugin_vs_chain(h, g_a, g_cab2, &UNITY, BLOCK, "IR then model in flight") <= 1e-6);
    /* a bad model with a good cabinet: the model stays, the cabinet changes */
    both_in_flight(h, RNNFX_URI_MODEL, bad_model, RNNFX_URI_IR, g_cab);
    param(h, RNNFX_URI_MODEL, model, sizeof model);
    assert_string_equal(model, g_a);
    assert_ir_param(h, "/cab.wav");
    assert_true(plugin_vs_chain(h, g_a, g_cab, &UNITY, BLOCK, "bad model + IR") <= 1e-6);
    /* a bad cabinet with a good model: the other way round */
    both_in_flight(h, RNNFX_URI_IR, g_nan, RNNFX_URI_MODEL, g_b);
    param(h, RNNFX_URI_MODEL, model, sizeof model);
    assert_string_equal(model, g_b);
    assert_ir_param(h, "/cab.wav");
    assert_true(plugin_vs_chain(h, g_b, g_cab, &UNITY, BLOCK, "bad IR + model") <= 1e-6);
    /* three in flight, the cabinet removed in the middle */
    lv2host_hold_responses(h, 1);
    lv2host_send_path(h, RNNFX_URI_IR, g_cab2);
    run_silence(h, BLOCK);
    lv2host_send_path(h, RNNFX_URI_IR, "");
    run_silence(h, BLOCK);
    lv2host_send_path(h, RNNFX_URI_MODEL, g_a);
    run_silence(h, BLOCK);
    assert_int_equal(lv2host_wait_worker(h, 10000), 0);
    lv2host_hold_responses(h, 0);
    settle_loads(h);
    assert_ir_param(h, "");
    assert_true(plugin_vs_chain(h, g_a, NULL, &UNITY, BLOCK, "IR, no IR, model in flight") <= 1e-6);
    assert_int_equal(lv2host_log_count_in_run(h), 0);
    lv2host_free(h);
}

/* Choices made while a load is under way wait in the plugin, and only the
 * last of them is built: ten models chosen in ten cycles cost the Worker
 * two loads (the first, then the last), not ten. A selector scrolled
 * through 400 models had the Worker build every one in turn, seconds
 * behind the user. */
static void test_choices_coalesce(void **state)
{
    (void)state;
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    set_path(h, RNNFX_URI_MODEL, g_a);
    lv2host_log_clear(h);
    lv2host_hold_responses(h, 1);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(lv2host_send_path(h, RNNFX_URI_MODEL, i % 2 ? g_a : g_b), 0);
        run_silence(h, BLOCK);
    }
    assert_int_equal(lv2host_send_path(h, RNNFX_URI_IR, g_cab), 0);
    run_silence(h, BLOCK);
    assert_int_equal(lv2host_wait_worker(h, 10000), 0);
    lv2host_hold_responses(h, 0);
    settle_loads(h);
    int loads = 0;
    for (const char *l = lv2host_log(h); (l = strstr(l, "loaded model")); l++) loads++;
    print_message("10 models and a cabinet chosen during one load: %d loads\n", loads);
    assert_int_equal(loads, 2);
    char model[2048];
    param(h, RNNFX_URI_MODEL, model, sizeof model);
    assert_string_equal(model, g_a); /* the last choice (i = 9) */
    assert_ir_param(h, "/cab.wav");
    assert_true(plugin_vs_chain(h, g_a, g_cab, &UNITY, BLOCK, "coalesced choices") <= 1e-6);
    lv2host_free(h);
}

/* An answer the host lost (its queue refused even the short failure
 * answer) holds the next choice back for SEND_RETRY_SECONDS once; it used
 * to hold every later choice back that long. */
static void test_lost_answer_forgotten(void **state)
{
    (void)state;
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    set_path(h, RNNFX_URI_MODEL, g_a);
    lv2host_set_respond_limit(h, 4); /* no answer fits */
    set_path(h, RNNFX_URI_MODEL, g_b);
    lv2host_set_respond_limit(h, 1u << 20);
    /* the first choice after it waits out the lost answer (2 s of audio) */
    assert_int_equal(lv2host_send_path(h, RNNFX_URI_MODEL, g_a), 0);
    run_silence(h, 110 * 1024);
    settle_loads(h);
    for (int i = 0; i < 3; i++) {
        const char *want = i % 2 ? g_a : g_b;
        assert_int_equal(lv2host_send_path(h, RNNFX_URI_MODEL, want), 0);
        run_silence(h, BLOCK);
        assert_int_equal(lv2host_wait_worker(h, 10000), 0);
        run_silence(h, 4 * BLOCK); /* far less than the 2 s the lost answer held */
        char model[2048];
        param(h, RNNFX_URI_MODEL, model, sizeof model);
        assert_string_equal(model, want);
    }
    lv2host_free(h);
}

/* A cabinet chosen when the model's file is gone. A saved model missing
 * at restore stays the setting, and the built-in capture plays the
 * cabinet in its place. A model that loaded and whose file went away
 * since (a drive unmounted) keeps playing as it is: the cabinet waits. */
static void test_cabinet_with_model_file_gone(void **state)
{
    (void)state;
    char gone[1300], dir[1300], model[2048], def[2048];
    tmp_path(gone, sizeof gone, "gone-model.json");
    tmp_path(dir, sizeof dir, "state-model-gone");
    snprintf(def, sizeof def, "%s/%s", g_bundle, RNNFX_DEFAULT_MODEL_FILE);
    copy_file(g_a, gone);
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    set_path(h, RNNFX_URI_MODEL, gone);
    assert_int_equal(lv2host_save_state(h, dir), 0);
    assert_int_equal(unlink(gone), 0);
    /* loaded before, gone now: the cabinet is refused, the sound stays */
    lv2host_log_clear(h);
    set_path(h, RNNFX_URI_IR, g_cab);
    assert_non_null(strstr(lv2host_log(h), "keeping the current sound"));
    assert_true(plugin_vs_chain(h, g_a, NULL, &UNITY, BLOCK, "model file gone, cabinet") <= 1e-6);
    lv2host_free(h);
    /* missing at restore: the built-in capture plays the cabinet */
    h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    run_silence(h, 2048);
    set_path(h, RNNFX_URI_IR, g_cab);
    param(h, RNNFX_URI_MODEL, model, sizeof model);
    assert_non_null(strstr(model, "gone-model.json"));
    assert_ir_param(h, "/cab.wav");
    assert_true(plugin_vs_chain(h, def, g_cab, &UNITY, BLOCK, "missing model, cabinet") <= 1e-6);
    lv2host_free(h);
}

/* ---- 7. restore wins over an IR load requested before it ---------------------------- */

static void test_restore_beats_pending_ir_load(void **state)
{
    (void)state;
    char dir[1300];
    tmp_path(dir, sizeof dir, "state-race");
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    set_path(h, RNNFX_URI_MODEL, g_b);
    assert_int_equal(lv2host_save_state(h, dir), 0); /* model b, no cabinet */
    lv2host_free(h);

    h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_THREAD);
    run_silence(h, BLOCK);
    lv2host_hold_responses(h, 1);
    assert_int_equal(lv2host_send_path(h, RNNFX_URI_IR, g_cab), 0);
    run_silence(h, BLOCK); /* the load is scheduled */
    assert_int_equal(lv2host_wait_worker(h, 10000), 0); /* built; the answer waits */
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    run_silence(h, BLOCK);
    lv2host_hold_responses(h, 0);
    run_silence(h, 8192); /* the stale answer is delivered here */
    assert_int_equal(lv2host_wait_worker(h, 10000), 0);
    run_silence(h, 2048);
    assert_ir_param(h, "");
    assert_true(plugin_vs_chain(h, g_b, NULL, &UNITY, BLOCK, "restore beat the IR load") <= 1e-6);
    /* a load after the restore builds on the restored model */
    set_path(h, RNNFX_URI_IR, g_cab);
    assert_true(plugin_vs_chain(h, g_b, g_cab, &UNITY, BLOCK, "IR after restore") <= 1e-6);
    lv2host_free(h);
}

/* ---- 8. a worker queue that refuses load requests ------------------------------------ */

typedef struct {
    int refuse;
    long refused;
} Gate;

/* schedule_work filter: refuses load requests (type 1, MSG_LOAD in the
 * plugin) while refuse is set. */
static int gate_accept(void *ctx, uint32_t size, const void *data)
{
    Gate *g = ctx;
    uint32_t type = 0;
    if (size >= sizeof type) memcpy(&type, data, sizeof type);
    if (type != 1u || !g->refuse) return 1;
    g->refused++;
    return 0;
}

static void test_refused_requests(void **state)
{
    (void)state;
    Lv2Host *h = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_SYNC);
    set_path(h, RNNFX_URI_MODEL, g_a);
    Gate g = {1, 0};
    lv2host_set_schedule_filter(h, gate_accept, &g);
    /* refused for 1 s: sent again at every run, loads when the queue takes it */
    assert_int_equal(lv2host_send_path(h, RNNFX_URI_IR, g_cab), 0);
    run_silence(h, 48000);
    assert_ir_param(h, "");
    long refused = g.refused;
    g.refuse = 0;
    run_silence(h, 8192);
    print_message("refused %ld times over 1 s, then loaded\n", refused);
    assert_true(refused >= 48000 / BLOCK);
    assert_ir_param(h, "/cab.wav");
    assert_true(plugin_vs_chain(h, g_a, g_cab, &UNITY, BLOCK, "after the queue took it") <= 1e-6);
    /* refused for 3 s: dropped after 2 s; the cabinet in use stays */
    g.refuse = 1;
    g.refused = 0;
    assert_int_equal(lv2host_send_path(h, RNNFX_URI_IR, g_cab2), 0);
    run_silence(h, 3 * 48000);
    refused = g.refused;
    g.refuse = 0;
    run_silence(h, 8192);
    print_message("refused %ld times, then dropped\n", refused);
    assert_true(refused >= 2 * 48000 / BLOCK - 1 && refused <= 2 * 48000 / BLOCK + 1);
    assert_ir_param(h, "/cab.wav");
    assert_true(plugin_vs_chain(h, g_a, g_cab, &UNITY, BLOCK, "after a dropped request") <= 1e-6);
    /* and the next request goes through */
    set_path(h, RNNFX_URI_IR, g_cab2);
    assert_ir_param(h, "/cab2-stereo-44k.wav");
    lv2host_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ttl_declares_parameter),
        cmocka_unit_test(test_output_equals_chain),
        cmocka_unit_test(test_output_is_the_convolution),
        cmocka_unit_test(test_live_switch_matches_chain),
        cmocka_unit_test(test_publish_log_and_remove),
        cmocka_unit_test(test_state_round_trip),
        cmocka_unit_test(test_missing_ir_on_restore),
        cmocka_unit_test(test_bad_files_refused),
        cmocka_unit_test(test_model_and_ir_in_flight),
        cmocka_unit_test(test_choices_coalesce),
        cmocka_unit_test(test_lost_answer_forgotten),
        cmocka_unit_test(test_cabinet_with_model_file_gone),
        cmocka_unit_test(test_restore_beats_pending_ir_load),
        cmocka_unit_test(test_refused_requests),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

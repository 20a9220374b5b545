/*
 * test_plugin_robust.c — both rnnfx LV2 plugins (the audio plugin, mono,
 * and the MIDI plugin) against hosts that misbehave or race, loaded from the
 * built bundle through lilv (tests/support/lv2host).
 *
 * Checked:
 *   - a model load requested before a state restore, whose Worker response
 *     arrives after the restore, does not replace the restored model (and a
 *     load requested after the restore still does);
 *   - NaN or infinite values on control ports change nothing: the output
 *     equals, sample for sample, that of an instance whose ports kept their
 *     last valid values (or the TTL defaults when no valid value came yet);
 *     for the audio plugin also while a MIDI CC holds a control;
 *   - a host whose worker queue is full when the plugin hands back an old
 *     model: hundreds of switches, every core still reaches the Worker once
 *     the queue has room, the rest are freed at deactivate (the AddressSanitizer
 *     run in tests/test_lv2_asan.sh proves nothing leaks or is freed twice);
 *   - no Worker at all: hundreds of state restores while audio runs keep
 *     the right model (and leak nothing under ASan).
 *   - hosts that offer few features or fill the array carelessly: with no
 *     features at all and the atom ports unconnected (lv2apply, ecasound),
 *     the mono and stereo plugins play the built-in capture exactly as in
 *     the full host above, and save no state; an entry with no URI or a
 *     feature with no data (lv2file passes the former) is skipped by all
 *     three plugins;
 *   - log messages reach the host as finished text (no conversions left
 *     in the format), a path holding "%s%n" literally, for the audio and
 *     the MIDI plugin.
 * The MIDI plugin's note output under NaN ports is checked in
 * tests/test_midi_plugin.c, whose host reads the MIDI it plays.
 *
 * The worker-message layout is the plugins' own: the test only knows that
 * the first 32-bit word of a request is its type and that 2 means "free a
 * core" (plugin/rnnfx_plugin.c and plugin/midi_plugin.c, MSG_FREE).
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lilv/lilv.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "../plugin/midi_ports.h"
#include "../plugin/rnnfx_ports.h"
#include "enginetest.h"
#include "lv2host.h"
#include "model_file.h"

#define BLOCK 128u
#define MSG_FREE_TYPE 2u

static char g_bundle[1024];
static char g_tmp[1024];
static char g_a[1200], g_b[1200], g_ma[1200], g_mb[1200];

static void write_audio_model(const char *path, uint64_t seed, int hidden, const char *name)
{
    assert_int_equal(rnnfx_test_save_gru_model(path, seed, hidden, name), 0);
}

/* A small MIDI-frame model on the eighth-note grid. */
static int write_midi_model(const char *path, uint64_t seed, int hidden)
{
    RnnfxArch a;
    memset(&a, 0, sizeof a);
    a.kind = RNNFX_KIND_MIDI_FRAMES;
    a.input_size = 92;
    a.output_size = 88;
    a.n_layers = 1;
    a.output_sigmoid = 1;
    a.layers[0].cell = RNNFX_CELL_GRU;
    a.layers[0].hidden_size = hidden;
    RnnfxModel *m = rnnfx_test_random_model(&a, seed, 1.0f, 0);
    if (!m) return -1;
    rnnfx_model_meta(m)->midi.steps_per_quarter = 2;
    RnnfxError err;
    RnnfxStatus s = rnnfx_model_finalize(m, &err);
    if (s == RNNFX_OK) s = rnnfx_model_save(m, path, &err);
    rnnfx_model_free(m);
    return s == RNNFX_OK ? 0 : -1;
}

static Lv2Host *open_host(const char *uri, Lv2HostWorkerMode w)
{
    Lv2HostConfig cfg = {48000.0, BLOCK, w, 0, 0};
    char err[512] = "";
    Lv2Host *h = lv2host_new(g_bundle, uri, &cfg, err, sizeof err);
    if (!h) fail_msg("cannot open %s: %s", uri, err);
    return h;
}

static int is_midi(const char *uri) { return !strcmp(uri, RNNFX_MIDI_URI); }

static const char *model_prop(const char *uri)
{
    return is_midi(uri) ? RNNFX_MIDI_URI_MODEL : RNNFX_URI_MODEL;
}

/* Runs `blocks` cycles of a quiet sine (the MIDI plugin has no audio). */
static void run_blocks(Lv2Host *h, int blocks)
{
    static float x[BLOCK], y[2][BLOCK];
    static long t;
    const float *in[2] = {x, x};
    float *out[2] = {y[0], y[1]};
    for (int b = 0; b < blocks; b++) {
        for (uint32_t i = 0; i < BLOCK; i++, t++)
            x[i] = 0.1f * sinf(2.0f * 3.14159265f * 220.0f * (float)t / 48000.0f);
        lv2host_run(h, in, out, BLOCK);
    }
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The file the plugin says it plays (published on its notify port), by
 * base name: a restored state may name its own link to the file. */
static void assert_playing(Lv2Host *h, const char *uri, const char *path)
{
    char got[2048];
    assert_int_equal(lv2host_param(h, model_prop(uri), got, sizeof got), 0);
    assert_string_equal(base_name(got), base_name(path));
}

/* Sends patch:Set(model) and waits until it plays. */
static void load_and_wait(Lv2Host *h, const char *uri, const char *path)
{
    assert_int_equal(lv2host_send_path(h, model_prop(uri), path), 0);
    run_blocks(h, 1);
    assert_int_equal(lv2host_wait_worker(h, 5000), 0);
    run_blocks(h, 60); /* delivers the response, finishes the crossfade */
    assert_playing(h, uri, path);
}

/* Saves a state directory whose model is `path`. */
static void save_state_with(const char *uri, const char *path, const char *dir)
{
    Lv2Host *h = open_host(uri, LV2HOST_WORKER_THREAD);
    load_and_wait(h, uri, path);
    assert_int_equal(lv2host_save_state(h, dir), 0);
    lv2host_free(h);
}

static int setup(void **state)
{
    (void)state;
    if (lv2host_built_bundle(g_bundle, sizeof g_bundle) != 0)
        return -1;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/rnnfx-robust-test-XXXXXX");
    if (!mkdtemp(g_tmp)) return -1;
    snprintf(g_a, sizeof g_a, "%s/a.json", g_tmp);
    snprintf(g_b, sizeof g_b, "%s/b.json", g_tmp);
    snprintf(g_ma, sizeof g_ma, "%s/midi_a.json", g_tmp);
    snprintf(g_mb, sizeof g_mb, "%s/midi_b.json", g_tmp);
    write_audio_model(g_a, 11, 8, "Model A");
    write_audio_model(g_b, 22, 12, "Model B");
    if (write_midi_model(g_ma, 33, 8) || write_midi_model(g_mb, 44, 12)) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return rnnfx_test_remove_tree(g_tmp);
}

/* ---- 1. a restore wins over a load requested before it ------------------------- */

static void restore_beats_pending_load(const char *uri, const char *a, const char *b,
                                       const char *dir_name)
{
    char dir[1300];
    snprintf(dir, sizeof dir, "%s/%s", g_tmp, dir_name);
    save_state_with(uri, b, dir);

    Lv2Host *h = open_host(uri, LV2HOST_WORKER_THREAD);
    run_blocks(h, 2);
    assert_int_equal(lv2host_send_path(h, model_prop(uri), a), 0);
    lv2host_hold_responses(h, 1);
    run_blocks(h, 1); /* the load is scheduled */
    assert_int_equal(lv2host_wait_worker(h, 5000), 0); /* loaded; the response waits */
    assert_int_equal(lv2host_restore_state(h, dir), 0);
    run_blocks(h, 2);
    lv2host_hold_responses(h, 0);
    run_blocks(h, 60); /* the stale response is delivered here */
    assert_int_equal(lv2host_wait_worker(h, 5000), 0);
    run_blocks(h, 20);
    assert_playing(h, uri, b);
    if (!is_midi(uri)) {
        char name[256];
        assert_int_equal(lv2host_param(h, RNNFX_URI_MODEL_NAME, name, sizeof name), 0);
        assert_string_equal(name, "Model B");
    }
    /* a load requested after the restore is honoured */
    load_and_wait(h, uri, a);
    assert_int_equal(lv2host_log_count_in_run(h), 0);
    lv2host_free(h);
}

static void test_restore_beats_pending_load_audio(void **state)
{
    (void)state;
    restore_beats_pending_load(RNNFX_URI_MONO, g_a, g_b, "race-audio");
}

static void test_restore_beats_pending_load_midi(void **state)
{
    (void)state;
    restore_beats_pending_load(RNNFX_MIDI_URI, g_ma, g_mb, "race-midi");
}

/* ---- 2. NaN and infinity on control ports -------------------------------------- */

static const char *const k_controls[] = {"input_gain", "output_gain", "mix",   "enabled",
                                         "knob1",      "knob2",       "knob3", "knob4",
                                         "normalize"};
#define N_CONTROLS (sizeof k_controls / sizeof k_controls[0])

/* Runs both hosts on the same input for `blocks` cycles; returns the
 * largest output difference. */
static double run_pair(Lv2Host *x, Lv2Host *y, int blocks, long *t)
{
    static float in[BLOCK], ox[BLOCK], oy[BLOCK];
    const float *ins[1] = {in};
    float *outx[1] = {ox}, *outy[1] = {oy};
    double worst = 0.0;
    for (int b = 0; b < blocks; b++) {
        for (uint32_t i = 0; i < BLOCK; i++, (*t)++)
            in[i] = 0.3f * sinf(2.0f * 3.14159265f * 196.0f * (float)*t / 48000.0f);
        lv2host_run(x, ins, outx, BLOCK);
        lv2host_run(y, ins, outy, BLOCK);
        assert_true(rnnfx_test_all_finite(ox, BLOCK));
        worst = fmax(worst, rnnfx_test_max_abs_diff(ox, oy, BLOCK));
    }
    return worst;
}

static void set_all(Lv2Host *h, float v)
{
    for (size_t i = 0; i < N_CONTROLS; i++) lv2host_set(h, k_controls[i], v);
}

static void test_nan_controls_audio(void **state)
{
    (void)state;
    long t = 0;
    /* garbage before any valid value: the TTL defaults */
    Lv2Host *x = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_SYNC);
    Lv2Host *y = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_SYNC);
    set_all(x, NAN);
    double d = run_pair(x, y, 30, &t);
    print_message("NaN on every control from the start: max difference to the defaults %g\n", d);
    assert_true(d == 0.0);
    lv2host_free(x);
    lv2host_free(y);

    /* garbage after valid values: those values stay */
    x = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_SYNC);
    y = open_host(RNNFX_URI_MONO, LV2HOST_WORKER_SYNC);
    const float vals[N_CONTROLS] = {3.0f, -6.0f, 0.7f, 1.0f, 0.8f, 0.2f, 0.6f, 0.4f, 1.0f};
    for (size_t i = 0; i < N_CONTROLS; i++) {
        lv2host_set(x, k_controls[i], vals[i]);
        lv2host_set(y, k_controls[i], vals[i]);
    }
    assert_true(run_pair(x, y, 30, &t) == 0.0);
    const float garbage[] = {NAN, INFINITY, -INFINITY, -NAN};
    for (size_t g = 0; g < sizeof garbage / sizeof garbage[0]; g++) {
        set_all(x, garbage[g]);
        d = run_pair(x, y, 30, &t);
        print_message("controls set to %g: max difference %g\n", (double)garbage[g], d);
        assert_true(d == 0.0);
    }
    /* a valid value after garbage applies as usual */
    lv2host_set(x, "output_gain", -12.0f);
    lv2host_set(y, "output_gain", -12.0f);
    assert_true(run_pair(x, y, 30, &t) == 0.0);
    /* a MIDI CC holds output gain; garbage on the port does not take it back */
    const uint8_t cc[3] = {0xB0, RNNFX_CC_OUTPUT_GAIN, 64};
    lv2host_send_midi(x, cc, 3);
    lv2host_send_midi(y, cc, 3);
    assert_true(run_pair(x, y, 30, &t) == 0.0);
    lv2host_set(x, "output_gain", NAN);
    d = run_pair(x, y, 30, &t);
    assert_true(d == 0.0);
    assert_int_equal(lv2host_log_count_in_run(x), 0);
    lv2host_free(x);
    lv2host_free(y);
}

/* ---- 3. a worker queue that is full when old models come back ---------------- */

typedef struct {
    int refuse_frees;
    long frees_accepted, frees_refused;
} Gate;

/* schedule_work filter: refuses "free" requests while refuse_frees is set. */
static int gate_accept(void *ctx, uint32_t size, const void *data)
{
    Gate *g = ctx;
    uint32_t type = 0;
    if (size >= sizeof type) memcpy(&type, data, sizeof type);
    if (type != MSG_FREE_TYPE) return 1;
    if (g->refuse_frees) {
        g->frees_refused++;
        return 0;
    }
    g->frees_accepted++;
    return 1;
}

static void full_worker_queue(const char *uri, const char *a, const char *b)
{
    Lv2Host *h = open_host(uri, LV2HOST_WORKER_SYNC);
    Gate g = {1, 0, 0};
    lv2host_set_schedule_filter(h, gate_accept, &g);
    run_blocks(h, 2);
    const int n = 150;
    for (int i = 0; i < n; i++) {
        assert_int_equal(lv2host_send_path(h, model_prop(uri), i % 2 ? b : a), 0);
        run_blocks(h, 3); /* shorter than a crossfade: pending cores get displaced too */
    }
    run_blocks(h, 20);
    assert_playing(h, uri, (n - 1) % 2 ? b : a);
    assert_int_equal(g.frees_accepted, 0);
    assert_true(g.frees_refused >= n);
    /* the queue has room again: every old core (each loaded one but the
     * last, and the MIDI plugin's built-in one; the audio plugin's is the
     * capture selector's, which it keeps) reaches the Worker */
    g.refuse_frees = 0;
    run_blocks(h, 200);
    print_message("%s: %d switches with a full worker queue: %ld refused free requests, then "
                  "%ld cores handed to the Worker\n",
                  uri, n, g.frees_refused, g.frees_accepted);
    assert_int_equal(g.frees_accepted, is_midi(uri) ? n : n - 1);
    /* full again, then deactivate: parked cores are freed there (ASan checks) */
    g.refuse_frees = 1;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(lv2host_send_path(h, model_prop(uri), i % 2 ? b : a), 0);
        run_blocks(h, 2);
    }
    run_blocks(h, 20);
    assert_playing(h, uri, b);
    lv2host_deactivate(h);
    lv2host_activate(h);
    g.refuse_frees = 0;
    g.frees_accepted = 0;
    run_blocks(h, 50);
    assert_int_equal(g.frees_accepted, 0); /* nothing was left to hand over */
    /* (no log check: with the synchronous worker, work() logs inside run) */
    lv2host_free(h);
}

static void test_full_worker_queue_audio(void **state)
{
    (void)state;
    full_worker_queue(RNNFX_URI_MONO, g_a, g_b);
}

static void test_full_worker_queue_midi(void **state)
{
    (void)state;
    full_worker_queue(RNNFX_MIDI_URI, g_ma, g_mb);
}

/* ---- 3b. no Worker: many restores while playing --------------------------------- */

static void many_restores_without_worker(const char *uri, const char *a, const char *b,
                                         const char *tag)
{
    char da[1300], db[1300];
    snprintf(da, sizeof da, "%s/%s-a", g_tmp, tag);
    snprintf(db, sizeof db, "%s/%s-b", g_tmp, tag);
    save_state_with(uri, a, da);
    save_state_with(uri, b, db);
    Lv2Host *h = open_host(uri, LV2HOST_WORKER_NONE);
    const int n = 150;
    for (int i = 0; i < n; i++) {
        assert_int_equal(lv2host_restore_state(h, i % 2 ? db : da), 0);
        run_blocks(h, 3); /* crossfades start and old cores retire while playing */
    }
    run_blocks(h, 20);
    assert_playing(h, uri, (n - 1) % 2 ? b : a);
    lv2host_free(h);
}

static void test_many_restores_without_worker_audio(void **state)
{
    (void)state;
    many_restores_without_worker(RNNFX_URI_MONO, g_a, g_b, "nw-audio");
}

static void test_many_restores_without_worker_midi(void **state)
{
    (void)state;
    many_restores_without_worker(RNNFX_MIDI_URI, g_ma, g_mb, "nw-midi");
}

/* ---- hosts with few features ----------------------------------------------- */

/* A URID map for the careless host: URIs by content, numbered from 1. */
static const char *g_uris[256];
static uint32_t g_n_uris;

static LV2_URID map_uri(LV2_URID_Map_Handle handle, const char *uri)
{
    (void)handle;
    for (uint32_t i = 0; i < g_n_uris; i++)
        if (!strcmp(g_uris[i], uri)) return i + 1;
    if (g_n_uris == 256) return 0;
    g_uris[g_n_uris] = strdup(uri);
    return ++g_n_uris;
}

static LV2_State_Status store_nothing(LV2_State_Handle handle, uint32_t key, const void *value,
                                      size_t size, uint32_t type, uint32_t flags)
{
    (void)key, (void)value, (void)size, (void)type, (void)flags;
    ++*(int *)handle;
    return LV2_STATE_SUCCESS;
}

/* Instantiates uri from the built bundle through lilv with `features`,
 * connects its audio and control ports (controls at their TTL defaults,
 * atom ports left unconnected), and runs `blocks` blocks of the same quiet
 * sine as run_blocks into out[c][blocks * BLOCK] (NULL: no run; the MIDI
 * plugin is only instantiated). Returns how many keys its State save
 * stored, or -1 when it refused to save. */
/* A world with only the built bundle loaded, and plugin `uri` from it;
 * nodes[2] to free (lilv_node_free) before the world. */
static const LilvPlugin *bundle_plugin(LilvWorld **world, LilvNode *nodes[2], const char *uri)
{
    *world = lilv_world_new();
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/", g_bundle);
    nodes[0] = lilv_new_file_uri(*world, NULL, dir);
    lilv_world_load_bundle(*world, nodes[0]);
    nodes[1] = lilv_new_uri(*world, uri);
    const LilvPlugin *plugin =
        lilv_plugins_get_by_uri(lilv_world_get_all_plugins(*world), nodes[1]);
    assert_non_null(plugin);
    return plugin;
}

static int run_bare(const char *uri, const LV2_Feature *const *features, float *const *out,
                    int blocks)
{
    LilvWorld *world = NULL;
    LilvNode *nodes[2];
    const LilvPlugin *plugin = bundle_plugin(&world, nodes, uri);
    LilvInstance *inst = lilv_plugin_instantiate(plugin, 48000.0, features);
    assert_non_null(inst);
    const uint32_t np = lilv_plugin_get_num_ports(plugin);
    float *defs = calloc(np, sizeof *defs), *ctl = calloc(np, sizeof *ctl);
    assert_non_null(defs);
    assert_non_null(ctl);
    lilv_plugin_get_port_ranges_float(plugin, NULL, NULL, defs);
    LilvNode *audio = lilv_new_uri(world, LV2_CORE__AudioPort);
    LilvNode *control = lilv_new_uri(world, LV2_CORE__ControlPort);
    LilvNode *input = lilv_new_uri(world, LV2_CORE__InputPort);
    static float x[BLOCK], y[2][BLOCK];
    int aout = 0;
    for (uint32_t p = 0; p < np; p++) {
        const LilvPort *port = lilv_plugin_get_port_by_index(plugin, p);
        if (lilv_port_is_a(plugin, port, control)) {
            ctl[p] = isnan(defs[p]) ? 0.0f : defs[p];
            lilv_instance_connect_port(inst, p, &ctl[p]);
        } else if (lilv_port_is_a(plugin, port, audio)) {
            if (lilv_port_is_a(plugin, port, input)) lilv_instance_connect_port(inst, p, x);
            else lilv_instance_connect_port(inst, p, y[aout++]);
        }
    }
    lilv_instance_activate(inst);
    long t = 0;
    for (int b = 0; out && b < blocks; b++) {
        for (uint32_t i = 0; i < BLOCK; i++, t++)
            x[i] = 0.1f * sinf(2.0f * 3.14159265f * 220.0f * (float)t / 48000.0f);
        lilv_instance_run(inst, BLOCK);
        for (int c = 0; c < aout; c++) memcpy(out[c] + (size_t)b * BLOCK, y[c], sizeof y[c]);
    }
    const LV2_State_Interface *st = lilv_instance_get_extension_data(inst, LV2_STATE__interface);
    int stored = 0;
    if (st && st->save(lilv_instance_get_handle(inst), store_nothing, &stored, 0, features) !=
                  LV2_STATE_SUCCESS)
        stored = -1;
    lilv_instance_deactivate(inst);
    lilv_instance_free(inst);
    lilv_node_free(audio);
    lilv_node_free(control);
    lilv_node_free(input);
    lilv_node_free(nodes[1]);
    lilv_node_free(nodes[0]);
    lilv_world_free(world);
    free(defs);
    free(ctl);
    return stored;
}

static void test_featureless_host_audio(void **state)
{
    (void)state;
    enum { BLOCKS = 40 };
    for (int stereo = 0; stereo <= 1; stereo++) {
        const char *uri = stereo ? RNNFX_URI_STEREO : RNNFX_URI_MONO;
        static float bare[2][BLOCKS * BLOCK], full[2][BLOCKS * BLOCK];
        float *outs[2] = {bare[0], bare[1]};
        /* no features at all: plays, refuses to save (its URIDs are its own) */
        assert_int_equal(run_bare(uri, NULL, outs, BLOCKS), -1);
        /* the full host of the other tests, same input, same block size */
        Lv2Host *h = open_host(uri, LV2HOST_WORKER_THREAD);
        static float x[BLOCK], y[2][BLOCK];
        const float *in[2] = {x, x};
        float *out[2] = {y[0], y[1]};
        long t = 0;
        for (int b = 0; b < BLOCKS; b++) {
            for (uint32_t i = 0; i < BLOCK; i++, t++)
                x[i] = 0.1f * sinf(2.0f * 3.14159265f * 220.0f * (float)t / 48000.0f);
            lv2host_run(h, in, out, BLOCK);
            for (int c = 0; c <= stereo; c++) memcpy(full[c] + (size_t)b * BLOCK, y[c], sizeof y[c]);
        }
        lv2host_free(h);
        for (int c = 0; c <= stereo; c++) {
            float peak = 0.0f;
            for (size_t i = 0; i < (size_t)BLOCKS * BLOCK; i++) peak = fmaxf(peak, fabsf(full[c][i]));
            assert_true(peak > 0.01f); /* the built-in capture is playing */
            assert_memory_equal(bare[c], full[c], sizeof bare[c]);
        }
    }
}

/* ---- a host that restores while run() plays ------------------------------------ */

/* Ardour loads a preset from its GUI thread while the audio thread keeps
 * calling run(). restore() swapped cores and freed retired ones under a
 * running run(): a crash in rnnfx_instance_process (ASan: SEGV, in about
 * one run of three thousand restores; TSan: a data race every time). The
 * plugin now keeps the two apart (plugin/run_guard.h). Under ASan
 * (tests/test_lv2_asan.sh) this checks for the crash; here, that the
 * audio stays finite and the last preset plays. */
static pthread_mutex_t g_map_lock = PTHREAD_MUTEX_INITIALIZER;

static LV2_URID map_uri_locked(LV2_URID_Map_Handle handle, const char *uri)
{
    pthread_mutex_lock(&g_map_lock);
    const LV2_URID id = map_uri(handle, uri);
    pthread_mutex_unlock(&g_map_lock);
    return id;
}

typedef struct {
    LilvInstance *inst;
    atomic_int stop;
    long cycles;
    int finite;
    float x[BLOCK], y[BLOCK];
} Player;

static void *player(void *arg)
{
    Player *p = arg;
    long t = 0;
    while (!atomic_load(&p->stop)) {
        for (uint32_t i = 0; i < BLOCK; i++, t++)
            p->x[i] = 0.2f * sinf(2.0f * 3.14159265f * 196.0f * (float)t / 48000.0f);
        lilv_instance_run(p->inst, BLOCK);
        p->finite &= rnnfx_test_all_finite(p->y, BLOCK);
        p->cycles++;
    }
    return NULL;
}

static void test_restore_while_running(void **state)
{
    (void)state;
    LV2_URID_Map map = {NULL, map_uri_locked};
    const LV2_Feature f_map = {LV2_URID__map, &map};
    const LV2_Feature *const features[] = {&f_map, NULL};
    LilvWorld *world = NULL;
    LilvNode *nodes[2];
    const LilvPlugin *plugin = bundle_plugin(&world, nodes, RNNFX_URI_MONO);
    static const char *const names[] = {"default-mono", "ds1-drive-mono", "tube-amp-mono",
                                        "tube-amp-cab-mono"};
    LilvState *presets[4];
    for (int i = 0; i < 4; i++) {
        char u[256];
        snprintf(u, sizeof u, "http://rnnfx.org/plugins/rnnfx/presets#%s", names[i]);
        LilvNode *n = lilv_new_uri(world, u);
        lilv_world_load_resource(world, n);
        presets[i] = lilv_state_new_from_world(world, &map, n);
        lilv_node_free(n);
        assert_non_null(presets[i]);
    }
    static Player p;
    memset(&p, 0, sizeof p);
    p.finite = 1;
    p.inst = lilv_plugin_instantiate(plugin, 48000.0, features);
    assert_non_null(p.inst);
    const uint32_t np = lilv_plugin_get_num_ports(plugin);
    float *ctl = calloc(np, sizeof *ctl);
    assert_non_null(ctl);
    lilv_plugin_get_port_ranges_float(plugin, NULL, NULL, ctl);
    for (uint32_t i = RNNFX_PORT_INPUT_GAIN; i < np; i++) {
        if (isnan(ctl[i])) ctl[i] = 0.0f;
        lilv_instance_connect_port(p.inst, i, &ctl[i]);
    }
    lilv_instance_connect_port(p.inst, RNNFX_PORT_IN_L, p.x);
    lilv_instance_connect_port(p.inst, RNNFX_PORT_OUT_L, p.y);
    lilv_instance_activate(p.inst);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, player, &p), 0);
    enum { RESTORES = 40 };
    for (int i = 0; i < RESTORES; i++)
        lilv_state_restore(presets[i % 4], p.inst, NULL, NULL, 0, features);
    atomic_store(&p.stop, 1);
    pthread_join(th, NULL);
    print_message("%d preset restores while run() played: %ld cycles, finite %d\n", RESTORES,
                  p.cycles, p.finite);
    assert_true(p.finite);
    assert_true(p.cycles > 0);
    /* the last one restored plays: the same output as a fresh instance of it */
    lilv_instance_deactivate(p.inst);
    lilv_instance_activate(p.inst);
    static float got[8 * BLOCK];
    long t = 0;
    for (int b = 0; b < 8; b++) {
        for (uint32_t i = 0; i < BLOCK; i++, t++)
            p.x[i] = 0.2f * sinf(2.0f * 3.14159265f * 196.0f * (float)t / 48000.0f);
        lilv_instance_run(p.inst, BLOCK);
        memcpy(got + (size_t)b * BLOCK, p.y, sizeof p.y);
    }
    LilvInstance *fresh = lilv_plugin_instantiate(plugin, 48000.0, features);
    assert_non_null(fresh);
    for (uint32_t i = RNNFX_PORT_INPUT_GAIN; i < np; i++) lilv_instance_connect_port(fresh, i, &ctl[i]);
    lilv_instance_connect_port(fresh, RNNFX_PORT_IN_L, p.x);
    lilv_instance_connect_port(fresh, RNNFX_PORT_OUT_L, p.y);
    lilv_state_restore(presets[(RESTORES - 1) % 4], fresh, NULL, NULL, 0, features);
    lilv_instance_activate(fresh);
    t = 0;
    double worst = 0.0;
    for (int b = 0; b < 8; b++) {
        for (uint32_t i = 0; i < BLOCK; i++, t++)
            p.x[i] = 0.2f * sinf(2.0f * 3.14159265f * 196.0f * (float)t / 48000.0f);
        lilv_instance_run(fresh, BLOCK);
        worst = fmax(worst, rnnfx_test_max_abs_diff(got + (size_t)b * BLOCK, p.y, BLOCK));
    }
    print_message("then the last preset plays: max difference to a fresh instance %g\n", worst);
    assert_true(worst == 0.0);
    lilv_instance_deactivate(fresh);
    lilv_instance_free(fresh);
    lilv_instance_deactivate(p.inst);
    lilv_instance_free(p.inst);
    for (int i = 0; i < 4; i++) lilv_state_free(presets[i]);
    free(ctl);
    lilv_node_free(nodes[1]);
    lilv_node_free(nodes[0]);
    lilv_world_free(world);
}

static void test_careless_feature_array(void **state)
{
    (void)state;
    LV2_URID_Map map = {NULL, map_uri};
    const LV2_Feature f_map = {LV2_URID__map, &map}, f_null = {NULL, NULL},
                      f_nodata = {LV2_WORKER__schedule, NULL};
    const LV2_Feature *const features[] = {&f_map, &f_null, &f_nodata, NULL};
    static float y[2][4 * BLOCK];
    float *outs[2] = {y[0], y[1]};
    /* with the host's map the audio plugins save state (the built-in
     * capture is stored as no key at all) */
    assert_int_equal(run_bare(RNNFX_URI_MONO, features, outs, 4), 0);
    assert_int_equal(run_bare(RNNFX_URI_STEREO, features, outs, 4), 0);
    /* the MIDI plugin (which needs the map) stores its settings */
    assert_true(run_bare(RNNFX_MIDI_URI, features, NULL, 0) > 0);
    for (uint32_t i = 0; i < g_n_uris; i++) free((void *)g_uris[i]);
    g_n_uris = 0;
}

/* ---- 6. log messages reach the host as finished text ---------------------------
 * Some hosts format a plugin's message wrongly (Audacity reads the
 * arguments twice and crashed on the first path the plugin logged), so the
 * plugins hand the host text with nothing left to format. A model file in a
 * folder whose name holds conversions ("%s%n") must come out literally,
 * and no message may reach the host with conversions left in its format. */
static void logs_finished_text(const char *uri)
{
    char dir[1300], good[1400], bad[1400];
    snprintf(dir, sizeof dir, "%s/100%%s%%n%%%%", g_tmp);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(good, sizeof good, "%s/m.json", dir);
    snprintf(bad, sizeof bad, "%s/missing.json", dir);
    if (is_midi(uri))
        assert_int_equal(write_midi_model(good, 55, 8), 0);
    else
        write_audio_model(good, 66, 8, "Model in a % folder");
    Lv2Host *h = open_host(uri, LV2HOST_WORKER_THREAD);
    load_and_wait(h, uri, good);
    assert_int_equal(lv2host_send_path(h, model_prop(uri), bad), 0);
    run_blocks(h, 1);
    assert_int_equal(lv2host_wait_worker(h, 5000), 0);
    run_blocks(h, 20);
    assert_playing(h, uri, good); /* the missing file changed nothing */
    const char *log = lv2host_log(h);
    if (!strstr(log, bad)) fail_msg("the failed load's message does not name %s:\n%s", bad, log);
    assert_int_equal(lv2host_log_count_with_args(h), 0);
    lv2host_free(h);
    assert_int_equal(remove(good), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_logs_finished_text(void **state)
{
    (void)state;
    logs_finished_text(RNNFX_URI_MONO);
    logs_finished_text(RNNFX_MIDI_URI);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restore_beats_pending_load_audio),
        cmocka_unit_test(test_restore_beats_pending_load_midi),
        cmocka_unit_test(test_nan_controls_audio),
        cmocka_unit_test(test_full_worker_queue_audio),
        cmocka_unit_test(test_full_worker_queue_midi),
        cmocka_unit_test(test_many_restores_without_worker_audio),
        cmocka_unit_test(test_many_restores_without_worker_midi),
        cmocka_unit_test(test_featureless_host_audio),
        cmocka_unit_test(test_restore_while_running),
        cmocka_unit_test(test_careless_feature_array),
        cmocka_unit_test(test_logs_finished_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

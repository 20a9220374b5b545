/*
 * test_midi_plugin.c — the rnnfx MIDI plugin (http://rnnfx.org/plugins/
 * rnnfx#midi) loaded from the built bundle through lilv, as a DAW loads it.
 *
 * A small host lives in this file (the shared tests/support/lv2host covers
 * audio plugins: it sends events at frame 0 only and does not expose the
 * output sequence). It provides urid:map/unmap, log, and a Worker whose
 * requests are queued during run() and executed after it, as a real worker
 * thread would. Every run() is wrapped by a counter of malloc/calloc/
 * realloc/free and mutex locks made by any code in the process (this
 * executable defines those symbols and forwards them to glibc), so the test
 * sees allocations made by the plugin inside run().
 *
 * Checked: ports against plugin/midi_ports.h; in accompany mode at 120 bpm
 * with host time positions every block, the model's notes start and stop
 * exactly on the eighth-note grid, note-ons and note-offs balance per key,
 * everything is released at a transport stop, and the player's events pass
 * through at their own frames; in continue mode the model is silent while
 * the player plays and takes over after a beat of silence; the same seed
 * and input give the same output, another seed another; no allocation or
 * lock happens inside run(); a bad model path keeps the current model.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
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
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/time/time.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "../plugin/midi_ports.h"
#include "enginetest.h"
#include "model.h"
#include "model_file.h"

/* ---- allocation and lock counting ------------------------------------------ */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static volatile int g_in_run;
static volatile long g_allocs_in_run, g_locks_in_run;

void *malloc(size_t n)
{
    if (g_in_run)
        g_allocs_in_run++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    if (g_in_run)
        g_allocs_in_run++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    if (g_in_run)
        g_allocs_in_run++;
    return __libc_realloc(p, n);
}
void free(void *p)
{
    if (g_in_run && p)
        g_allocs_in_run++;
    __libc_free(p);
}
int pthread_mutex_lock(pthread_mutex_t *m)
{
    static int (*real)(pthread_mutex_t *);
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "pthread_mutex_lock");
        memcpy(&real, &sym, sizeof real); /* object to function pointer, portably */
    }
    if (g_in_run)
        g_locks_in_run++;
    return real(m);
}

/* ---- a small host ------------------------------------------------------------- */

#define RATE 48000.0
#define BLOCK 256
#define ATOM_CAP 65536
#define MAX_URIS 256

typedef struct {
    uint64_t t;    /* absolute sample */
    uint8_t m[3];
} Ev;

typedef struct {
    LilvWorld *world;
    const LilvPlugin *plugin;
    LilvInstance *inst;
    char *uris[MAX_URIS];
    int n_uris;
    LV2_URID_Map map;
    LV2_URID_Unmap unmap;
    LV2_Log_Log log;
    LV2_Worker_Schedule sched;
    const LV2_Worker_Interface *worker;
    LV2_Feature f_map, f_unmap, f_log, f_sched;
    const LV2_Feature *features[5];
    float ctl[RNNFX_MIDI_N_PORTS];
    LV2_Atom_Sequence *in, *out;
    LV2_Atom_Forge forge;
    LV2_Atom_Forge_Frame seq;
    /* worker queue: requests made during run, executed after it */
    uint8_t req[8][4096];
    uint32_t req_size[8];
    int n_req;
    uint8_t resp[8][4096];
    uint32_t resp_size[8];
    int n_resp;
    int logs_in_run;
    char logbuf[4096];
    uint64_t now; /* absolute sample at the start of the next block */
    uint64_t stop_at; /* sample where play_script stopped the transport */
    long worker_allocs; /* allocations seen in work(): proves the counter works */
    Ev *evs;
    size_t n_evs, cap_evs;
    char set_path[2048]; /* the model path of the plugin's last patch:Set */
} Host;

static LV2_URID map_uri(LV2_URID_Map_Handle h, const char *uri)
{
    Host *host = h;
    for (int i = 0; i < host->n_uris; i++)
        if (!strcmp(host->uris[i], uri))
            return (LV2_URID)(i + 1);
    assert_true(host->n_uris < MAX_URIS);
    host->uris[host->n_uris] = strdup(uri);
    return (LV2_URID)++host->n_uris;
}

static const char *unmap_uri(LV2_URID_Unmap_Handle h, LV2_URID id)
{
    Host *host = h;
    return id >= 1 && (int)id <= host->n_uris ? host->uris[id - 1] : NULL;
}

static int log_printf(LV2_Log_Handle h, LV2_URID type, const char *fmt, ...)
{
    Host *host = h;
    (void)type;
    if (g_in_run)
        host->logs_in_run++;
    size_t len = strlen(host->logbuf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(host->logbuf + len, sizeof host->logbuf - len, fmt, ap);
    va_end(ap);
    return 0;
}

static int log_vprintf(LV2_Log_Handle h, LV2_URID type, const char *fmt, va_list ap)
{
    Host *host = h;
    (void)type;
    if (g_in_run)
        host->logs_in_run++;
    size_t len = strlen(host->logbuf);
    vsnprintf(host->logbuf + len, sizeof host->logbuf - len, fmt, ap);
    return 0;
}

static LV2_Worker_Status schedule_work(LV2_Worker_Schedule_Handle h, uint32_t size,
                                       const void *data)
{
    Host *host = h;
    if (host->n_req >= 8 || size > sizeof host->req[0])
        return LV2_WORKER_ERR_NO_SPACE;
    memcpy(host->req[host->n_req], data, size);
    host->req_size[host->n_req++] = size;
    return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status respond(LV2_Worker_Respond_Handle h, uint32_t size, const void *data)
{
    Host *host = h;
    if (host->n_resp >= 8 || size > sizeof host->resp[0])
        return LV2_WORKER_ERR_NO_SPACE;
    memcpy(host->resp[host->n_resp], data, size);
    host->resp_size[host->n_resp++] = size;
    return LV2_WORKER_SUCCESS;
}

static char g_bundle[PATH_MAX + 16];
static char g_model[1200];
static char g_model2[1200]; /* the same model under another name */

static LV2_URID U(Host *h, const char *uri) { return map_uri(h, uri); }

static void open_input(Host *h)
{
    lv2_atom_forge_set_buffer(&h->forge, (uint8_t *)h->in, ATOM_CAP);
    lv2_atom_forge_sequence_head(&h->forge, &h->seq, 0);
}

static Host *host_new(void)
{
    Host *h = calloc(1, sizeof *h);
    assert_non_null(h);
    h->world = lilv_world_new();
    char dir[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/", g_bundle);
    LilvNode *b = lilv_new_file_uri(h->world, NULL, dir);
    lilv_world_load_bundle(h->world, b);
    lilv_node_free(b);
    LilvNode *uri = lilv_new_uri(h->world, RNNFX_MIDI_URI);
    h->plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(h->world), uri);
    lilv_node_free(uri);
    assert_non_null(h->plugin);
    h->map = (LV2_URID_Map){h, map_uri};
    h->unmap = (LV2_URID_Unmap){h, unmap_uri};
    h->log = (LV2_Log_Log){h, log_printf, log_vprintf};
    h->sched = (LV2_Worker_Schedule){h, schedule_work};
    h->f_map = (LV2_Feature){LV2_URID__map, &h->map};
    h->f_unmap = (LV2_Feature){LV2_URID__unmap, &h->unmap};
    h->f_log = (LV2_Feature){LV2_LOG__log, &h->log};
    h->f_sched = (LV2_Feature){LV2_WORKER__schedule, &h->sched};
    h->features[0] = &h->f_map;
    h->features[1] = &h->f_unmap;
    h->features[2] = &h->f_log;
    h->features[3] = &h->f_sched;
    h->features[4] = NULL;
    h->inst = lilv_plugin_instantiate(h->plugin, RATE, h->features);
    assert_non_null(h->inst);
    h->worker = lilv_instance_get_extension_data(h->inst, LV2_WORKER__interface);
    assert_non_null(h->worker);
    h->in = calloc(1, ATOM_CAP);
    h->out = calloc(1, ATOM_CAP);
    lv2_atom_forge_init(&h->forge, &h->map);
    /* TTL defaults */
    float *defs = calloc(RNNFX_MIDI_N_PORTS, sizeof(float));
    lilv_plugin_get_port_ranges_float(h->plugin, NULL, NULL, defs);
    for (int i = 2; i < RNNFX_MIDI_N_PORTS; i++) {
        h->ctl[i] = defs[i];
        lilv_instance_connect_port(h->inst, (uint32_t)i, &h->ctl[i]);
    }
    free(defs);
    lilv_instance_connect_port(h->inst, RNNFX_MIDI_PORT_CONTROL, h->in);
    lilv_instance_connect_port(h->inst, RNNFX_MIDI_PORT_OUT, h->out);
    lilv_instance_activate(h->inst);
    open_input(h);
    return h;
}

static void host_free(Host *h)
{
    lilv_instance_deactivate(h->inst);
    lilv_instance_free(h->inst);
    lilv_world_free(h->world);
    for (int i = 0; i < h->n_uris; i++)
        free(h->uris[i]);
    free(h->in);
    free(h->out);
    free(h->evs);
    free(h);
}

static void send_midi(Host *h, uint32_t frame, uint8_t a, uint8_t b, uint8_t c)
{
    const uint8_t m[3] = {a, b, c};
    assert_true(lv2_atom_forge_frame_time(&h->forge, frame) != 0);
    lv2_atom_forge_atom(&h->forge, 3, U(h, LV2_MIDI__MidiEvent));
    lv2_atom_forge_write(&h->forge, m, 3);
}

/* time:Position at `beats` quarter beats from the start, 4/4, `bpm`. */
static void send_position_beats(Host *h, uint32_t frame, double beats, float bpm, float speed)
{
    LV2_Atom_Forge *f = &h->forge;
    LV2_Atom_Forge_Frame fr;
    lv2_atom_forge_frame_time(f, frame);
    lv2_atom_forge_object(f, &fr, 0, U(h, LV2_TIME__Position));
    lv2_atom_forge_key(f, U(h, LV2_TIME__bar));
    lv2_atom_forge_long(f, (int64_t)(beats / 4.0));
    lv2_atom_forge_key(f, U(h, LV2_TIME__barBeat));
    lv2_atom_forge_float(f, (float)fmod(beats, 4.0));
    lv2_atom_forge_key(f, U(h, LV2_TIME__beatsPerBar));
    lv2_atom_forge_float(f, 4.0f);
    lv2_atom_forge_key(f, U(h, LV2_TIME__beatUnit));
    lv2_atom_forge_int(f, 4);
    lv2_atom_forge_key(f, U(h, LV2_TIME__beatsPerMinute));
    lv2_atom_forge_float(f, bpm);
    lv2_atom_forge_key(f, U(h, LV2_TIME__speed));
    lv2_atom_forge_float(f, speed);
    lv2_atom_forge_pop(f, &fr);
}

/* time:Position for absolute sample `at` (120 bpm 4/4 unless stopped). */
static void send_position(Host *h, uint32_t frame, uint64_t at, float speed)
{
    send_position_beats(h, frame, (double)at / RATE * 120.0 / 60.0, 120.0f, speed);
}

/* A patch:Set of the model: an atom:Path, or (bare_string) an atom:String
 * whose bytes end without a NUL, as LV2 allows. */
static void send_model_as(Host *h, const char *path, int bare_string)
{
    LV2_Atom_Forge *f = &h->forge;
    LV2_Atom_Forge_Frame fr;
    lv2_atom_forge_frame_time(f, 0);
    lv2_atom_forge_object(f, &fr, 0, U(h, LV2_PATCH__Set));
    lv2_atom_forge_key(f, U(h, LV2_PATCH__property));
    lv2_atom_forge_urid(f, U(h, RNNFX_MIDI_URI_MODEL));
    lv2_atom_forge_key(f, U(h, LV2_PATCH__value));
    const uint32_t len = (uint32_t)strlen(path);
    if (bare_string) {
        lv2_atom_forge_atom(f, len, U(h, LV2_ATOM__String));
        lv2_atom_forge_raw(f, path, len);
        lv2_atom_forge_pad(f, len);
    } else {
        lv2_atom_forge_path(f, path, len);
    }
    lv2_atom_forge_pop(f, &fr);
}

static void send_model(Host *h, const char *path) { send_model_as(h, path, 0); }

/* One block: closes the input sequence, runs, collects the MIDI output, runs
 * queued worker requests, delivers responses (inside the counted audio
 * section, as hosts call work_response on the audio thread). */
static void host_run(Host *h)
{
    lv2_atom_forge_pop(&h->forge, &h->seq);
    h->out->atom.type = 0;
    h->out->atom.size = ATOM_CAP - sizeof(LV2_Atom);
    g_in_run = 1;
    lilv_instance_run(h->inst, BLOCK);
    g_in_run = 0;
    LV2_URID midi = U(h, LV2_MIDI__MidiEvent);
    uint32_t last = 0;
    LV2_ATOM_SEQUENCE_FOREACH (h->out, ev) {
        assert_true(ev->time.frames >= last && ev->time.frames < BLOCK);
        last = (uint32_t)ev->time.frames;
        if (ev->body.type == U(h, LV2_ATOM__Object) &&
            ((const LV2_Atom_Object *)&ev->body)->body.otype == U(h, LV2_PATCH__Set)) {
            const LV2_Atom *val = NULL;
            lv2_atom_object_get((const LV2_Atom_Object *)&ev->body, U(h, LV2_PATCH__value), &val,
                                0);
            if (val && val->size < sizeof h->set_path)
                memcpy(h->set_path, LV2_ATOM_BODY_CONST(val), val->size);
        }
        if (ev->body.type != midi)
            continue;
        assert_int_equal(ev->body.size, 3);
        if (h->n_evs == h->cap_evs) {
            h->cap_evs = h->cap_evs ? h->cap_evs * 2 : 1024;
            h->evs = realloc(h->evs, h->cap_evs * sizeof *h->evs);
        }
        Ev *e = &h->evs[h->n_evs++];
        e->t = h->now + (uint64_t)ev->time.frames;
        memcpy(e->m, ev + 1, 3);
    }
    int n = h->n_req;
    h->n_req = 0;
    long before = g_allocs_in_run;
    g_in_run = 1; /* counted only to prove the counter sees the plugin's calls */
    for (int i = 0; i < n; i++)
        h->worker->work(lilv_instance_get_handle(h->inst), respond, h, h->req_size[i],
                        h->req[i]);
    g_in_run = 0;
    if (n)
        h->worker_allocs += g_allocs_in_run - before;
    g_allocs_in_run = before;
    g_in_run = 1;
    for (int i = 0; i < h->n_resp; i++)
        h->worker->work_response(lilv_instance_get_handle(h->inst), h->resp_size[i],
                                 h->resp[i]);
    g_in_run = 0;
    h->n_resp = 0;
    /* requests made by work_response (freeing the old model) */
    n = h->n_req;
    h->n_req = 0;
    for (int i = 0; i < n; i++)
        h->worker->work(lilv_instance_get_handle(h->inst), respond, h, h->req_size[i],
                        h->req[i]);
    h->now += BLOCK;
    open_input(h);
}

/* ---- scenario ---------------------------------------------------------------------- */

/* A scripted player: (sample, status, key, velocity). */
typedef struct {
    uint64_t t;
    uint8_t st, key, vel;
} Play;

/* Runs `blocks` blocks with host positions every block (rolling), the
 * player's events at their frames, and a transport stop at stop_at. */
static void play_script(Host *h, const Play *p, size_t np, int blocks, int stop_block)
{
    size_t pi = 0;
    for (int b = 0; b < blocks; b++) {
        uint64_t t0 = h->now;
        if (b == stop_block)
            h->stop_at = t0;
        send_position(h, 0, t0, b >= stop_block ? 0.0f : 1.0f);
        while (pi < np && p[pi].t < t0 + BLOCK) {
            send_midi(h, (uint32_t)(p[pi].t - t0), p[pi].st, p[pi].key, p[pi].vel);
            pi++;
        }
        host_run(h);
    }
}

static const Play g_player[] = {
    {5000, 0x90, 60, 100}, {30000, 0x80, 60, 0}, {30000, 0x90, 64, 90},
    {40000, 0x80, 64, 0},  {70001, 0x90, 67, 80}, {95000, 0x80, 67, 0},
};
#define N_PLAYER (sizeof g_player / sizeof g_player[0])

static int player_strikes_at(uint64_t t)
{
    for (size_t i = 0; i < N_PLAYER; i++)
        if (g_player[i].st == 0x90 && g_player[i].t == t)
            return 1;
    return 0;
}
#define STEP_SAMPLES 12000 /* an eighth note at 120 bpm, 48 kHz */

/* A host whose plugin has loaded the test model. The loading block holds
 * the transport stopped (unless own_clock) so that the built-in model plays
 * nothing before the test starts listening. */
static Host *loaded_host_clock(float mode, float seed, int own_clock)
{
    Host *h = host_new();
    if (!own_clock)
        send_position(h, 0, 0, 0.0f);
    h->ctl[RNNFX_MIDI_PORT_MODE] = mode;
    h->ctl[RNNFX_MIDI_PORT_CHANNEL] = 3;
    h->ctl[RNNFX_MIDI_PORT_SEED] = seed;
    h->ctl[RNNFX_MIDI_PORT_MAX_NOTES] = 4;
    send_model(h, g_model);
    host_run(h); /* request queued, loaded, response delivered */
    assert_true(h->worker_allocs > 0); /* the plugin's own malloc calls are seen */
    h->n_evs = 0;
    return h;
}

static Host *loaded_host(float mode, float seed) { return loaded_host_clock(mode, seed, 0); }

/* ---- tests ----------------------------------------------------------------------- */

static void test_ports_match_header(void **state)
{
    (void)state;
    Host *h = host_new();
    static const struct {
        int index;
        const char *symbol;
        float def, min, max;
    } want[] = {
        {RNNFX_MIDI_PORT_MODE, "mode", 0, 0, 1},
        {RNNFX_MIDI_PORT_GRID, "grid", 0, 0, 3},
        {RNNFX_MIDI_PORT_TEMPERATURE, "temperature", 1, 0, RNNFX_MIDI_TEMPERATURE_MAX},
        {RNNFX_MIDI_PORT_DENSITY, "density", 1, RNNFX_MIDI_DENSITY_MIN, RNNFX_MIDI_DENSITY_MAX},
        {RNNFX_MIDI_PORT_CHANNEL, "channel", 1, 1, 16},
        {RNNFX_MIDI_PORT_VELOCITY, "velocity", 80, 1, 127},
        {RNNFX_MIDI_PORT_SEED, "seed", 1, 0, RNNFX_MIDI_SEED_MAX},
        {RNNFX_MIDI_PORT_MAX_NOTES, "max_notes", 6, 0, RNNFX_MIDI_MAX_NOTES_MAX},
    };
    assert_int_equal(lilv_plugin_get_num_ports(h->plugin), RNNFX_MIDI_N_PORTS);
    float mins[RNNFX_MIDI_N_PORTS], maxs[RNNFX_MIDI_N_PORTS], defs[RNNFX_MIDI_N_PORTS];
    lilv_plugin_get_port_ranges_float(h->plugin, mins, maxs, defs);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const LilvPort *p = lilv_plugin_get_port_by_index(h->plugin, (uint32_t)want[i].index);
        assert_string_equal(lilv_node_as_string(lilv_port_get_symbol(h->plugin, p)),
                            want[i].symbol);
        assert_float_equal(defs[want[i].index], want[i].def, 0);
        assert_float_equal(mins[want[i].index], want[i].min, 0);
        assert_float_equal(maxs[want[i].index], want[i].max, 0);
    }
    const LilvPort *p0 = lilv_plugin_get_port_by_index(h->plugin, RNNFX_MIDI_PORT_CONTROL);
    const LilvPort *p1 = lilv_plugin_get_port_by_index(h->plugin, RNNFX_MIDI_PORT_OUT);
    assert_string_equal(lilv_node_as_string(lilv_port_get_symbol(h->plugin, p0)), "control");
    assert_string_equal(lilv_node_as_string(lilv_port_get_symbol(h->plugin, p1)), "out");
    host_free(h);
}

/* 1 if the scripted player strikes a note at sample t (continue mode stops
 * the model's notes right there). */
static int player_strikes_at(uint64_t t);

/* Checks the model's notes (channel 3) in an event list: on the grid, one
 * note-on per sounding key, every note ended. Note-offs may also fall on
 * the transport stop or on a player's note-on (continue mode yields at
 * once). Returns the number of model note-ons. */
static int check_model_notes(const Host *h, uint64_t stop_at)
{
    int on[128] = {0}, n_on = 0;
    for (size_t i = 0; i < h->n_evs; i++) {
        const Ev *e = &h->evs[i];
        if ((e->m[0] & 0x0F) != 2)
            continue;
        int st = e->m[0] & 0xF0, key = e->m[1];
        /* on the grid: a multiple of an eighth note, or the stop */
        int off_ok = st == 0x80 && ((e->t >= stop_at && e->t < stop_at + BLOCK) ||
                                    player_strikes_at(e->t));
        if (e->t % STEP_SAMPLES != 0 && !off_ok)
            fail_msg("model event 0x%02X key %d at sample %llu is off the grid", e->m[0], key,
                     (unsigned long long)e->t);
        if (st == 0x90) {
            assert_true(e->m[2] > 0);
            assert_int_equal(on[key], 0); /* no second note-on before an off */
            on[key] = 1;
            n_on++;
        } else {
            assert_int_equal(st, 0x80);
            assert_int_equal(on[key], 1);
            on[key] = 0;
        }
    }
    for (int k = 0; k < 128; k++)
        assert_int_equal(on[k], 0); /* all released by the stop */
    return n_on;
}

static void test_accompany_on_grid_balanced(void **state)
{
    (void)state;
    Host *h = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 7);
    /* about 2.5 s of play (blocks of 256 samples), then the transport stops */
    int blocks = 500, stop_block = 470;
    play_script(h, g_player, N_PLAYER, blocks, stop_block);
    int n_on = check_model_notes(h, h->stop_at);
    assert_true(n_on >= 10); /* the model played */
    /* the player's events passed through at their own samples */
    size_t found = 0;
    for (size_t i = 0; i < h->n_evs; i++)
        for (size_t j = 0; j < N_PLAYER; j++)
            if ((h->evs[i].m[0] & 0x0F) == 0 && h->evs[i].t == g_player[j].t &&
                h->evs[i].m[0] == g_player[j].st && h->evs[i].m[1] == g_player[j].key)
                found++;
    assert_int_equal(found, N_PLAYER);
    /* the model leaves keys the player holds to the player */
    for (size_t i = 0; i < h->n_evs; i++) {
        const Ev *e = &h->evs[i];
        if ((e->m[0] & 0xF0) == 0x90 && (e->m[0] & 0x0F) == 2 && e->m[1] == 60)
            assert_false(e->t > 5000 && e->t < 30000);
    }
    assert_int_equal(g_allocs_in_run, 0);
    assert_int_equal(g_locks_in_run, 0);
    assert_int_equal(h->logs_in_run, 0);
    host_free(h);
}

static void test_continue_waits_for_the_player(void **state)
{
    (void)state;
    Host *h = loaded_host(RNNFX_MIDI_MODE_CONTINUE, 3);
    int blocks = 700, stop_block = 680;
    play_script(h, g_player, N_PLAYER, blocks, stop_block);
    int n_on = check_model_notes(h, h->stop_at);
    assert_true(n_on > 0); /* it took over after the player stopped */
    /* No model note-on while the player holds a key, nor within a beat
     * (24000 samples) after the player's last note-on. */
    for (size_t i = 0; i < h->n_evs; i++) {
        const Ev *e = &h->evs[i];
        if ((e->m[0] & 0xF0) != 0x90 || (e->m[0] & 0x0F) != 2)
            continue;
        for (size_t j = 0; j < N_PLAYER; j++) {
            if (g_player[j].st != 0x90)
                continue;
            uint64_t on = g_player[j].t, off = 0;
            for (size_t k = j + 1; k < N_PLAYER; k++)
                if (g_player[k].key == g_player[j].key && g_player[k].st == 0x80) {
                    off = g_player[k].t;
                    break;
                }
            if (e->t >= on && e->t < off)
                fail_msg("model note at %llu while the player holds key %d",
                         (unsigned long long)e->t, g_player[j].key);
            if (e->t >= on && e->t < on + 24000)
                fail_msg("model note at %llu within a beat of the player's note at %llu",
                         (unsigned long long)e->t, (unsigned long long)on);
        }
    }
    /* and the model's notes stop when the player comes back: no model note
     * sounds at the moment of a player's note-on */
    assert_int_equal(g_allocs_in_run, 0);
    assert_int_equal(g_locks_in_run, 0);
    host_free(h);
}

static int same_events(const Host *a, const Host *b)
{
    if (a->n_evs != b->n_evs)
        return 0;
    for (size_t i = 0; i < a->n_evs; i++)
        if (a->evs[i].t != b->evs[i].t || memcmp(a->evs[i].m, b->evs[i].m, 3) != 0)
            return 0;
    return 1;
}

static void test_seed_determinism(void **state)
{
    (void)state;
    Host *a = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 11);
    Host *b = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 11);
    Host *c = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 12);
    play_script(a, g_player, N_PLAYER, 300, 290);
    play_script(b, g_player, N_PLAYER, 300, 290);
    play_script(c, g_player, N_PLAYER, 300, 290);
    assert_true(a->n_evs > N_PLAYER);
    assert_true(same_events(a, b));
    assert_false(same_events(a, c));
    host_free(a);
    host_free(b);
    host_free(c);
}

/* NaN or infinity on the control ports is host garbage: the plugin plays
 * on with the last valid values, exactly as an instance whose ports kept
 * them (before, NaN snapped each control to its minimum: continue mode,
 * channel 1, velocity 1, a reseed with 0). */
static void test_nan_controls_keep_last_valid(void **state)
{
    (void)state;
    Host *a = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 11);
    Host *b = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 11);
    const float garbage[] = {NAN, INFINITY, -INFINITY};
    size_t pi = 0;
    for (int phase = 0; phase < 4; phase++) {
        if (phase == 2) {
            /* valid values after garbage apply as usual */
            a->ctl[RNNFX_MIDI_PORT_VELOCITY] = b->ctl[RNNFX_MIDI_PORT_VELOCITY] = 100;
            a->ctl[RNNFX_MIDI_PORT_CHANNEL] = b->ctl[RNNFX_MIDI_PORT_CHANNEL] = 5;
            a->ctl[RNNFX_MIDI_PORT_SEED] = b->ctl[RNNFX_MIDI_PORT_SEED] = 21;
        } else {
            for (int p = RNNFX_MIDI_PORT_MODE; p < RNNFX_MIDI_N_PORTS; p++)
                a->ctl[p] = garbage[(size_t)phase % 3];
        }
        for (int blk = 0; blk < 150; blk++) {
            uint64_t t0 = a->now;
            send_position(a, 0, t0, 1.0f);
            send_position(b, 0, t0, 1.0f);
            while (pi < N_PLAYER && g_player[pi].t < t0 + BLOCK) {
                send_midi(a, (uint32_t)(g_player[pi].t - t0), g_player[pi].st, g_player[pi].key,
                          g_player[pi].vel);
                send_midi(b, (uint32_t)(g_player[pi].t - t0), g_player[pi].st, g_player[pi].key,
                          g_player[pi].vel);
                pi++;
            }
            host_run(a);
            host_run(b);
        }
        assert_true(same_events(a, b));
    }
    int model_notes = 0;
    for (size_t i = 0; i < a->n_evs; i++)
        model_notes += (a->evs[i].m[0] & 0xF0) == 0x90 && (a->evs[i].m[0] & 0x0F) == 4 &&
                       a->evs[i].m[2] == 100;
    assert_true(model_notes > 0); /* the valid values of phase 2 took effect */
    assert_int_equal(g_allocs_in_run, 0);
    host_free(a);
    host_free(b);
}

static void test_own_clock_without_host_time(void **state)
{
    (void)state;
    /* No time:Position at all: the plugin runs its own 120 bpm clock. */
    Host *h = loaded_host_clock(RNNFX_MIDI_MODE_ACCOMPANY, 5, 1);
    h->n_evs = 0;
    for (int b = 0; b < 300; b++)
        host_run(h);
    int n = 0;
    for (size_t i = 0; i < h->n_evs; i++) {
        assert_int_equal(h->evs[i].t % STEP_SAMPLES, 0);
        n += (h->evs[i].m[0] & 0xF0) == 0x90;
    }
    assert_true(n > 0);
    host_free(h);
}

/* A path sent as an atom:String whose bytes end without a NUL (LV2 allows
 * it): the plugin used to overwrite the last byte, and asked for
 * "...json" minus its "n". */
static void test_string_path_without_nul(void **state)
{
    (void)state;
    Host *h = loaded_host_clock(RNNFX_MIDI_MODE_ACCOMPANY, 5, 1);
    host_run(h);
    send_model_as(h, g_model2, 1);
    h->set_path[0] = '\0';
    host_run(h);
    host_run(h);
    assert_null(strstr(h->logbuf, "cannot load"));
    assert_string_equal(h->set_path, g_model2);
    host_free(h);
}

static void test_bad_model_keeps_current(void **state)
{
    (void)state;
    Host *h = loaded_host_clock(RNNFX_MIDI_MODE_ACCOMPANY, 5, 1);
    char bad[1300];
    snprintf(bad, sizeof bad, "%s.missing", g_model);
    host_run(h); /* the load's own patch:Set goes out here */
    assert_string_equal(h->set_path, g_model);
    h->set_path[0] = '\0';
    send_model(h, bad);
    host_run(h);
    assert_non_null(strstr(h->logbuf, "cannot load"));
    host_run(h); /* the failure's answer: the host is told what still plays */
    assert_string_equal(h->set_path, g_model);
    for (int b = 0; b < 200; b++)
        host_run(h);
    int n = 0;
    for (size_t i = 0; i < h->n_evs; i++)
        n += (h->evs[i].m[0] & 0xF0) == 0x90;
    assert_true(n > 0); /* still playing the model loaded before */
    host_free(h);
}


/* ---- state ---------------------------------------------------------------------- */

typedef struct {
    uint32_t key, type, size;
    uint8_t value[2048];
} Prop;

typedef struct {
    Prop props[16];
    int n;
} Store;

static LV2_State_Status store_fn(LV2_State_Handle h, uint32_t key, const void *value, size_t size,
                                 uint32_t type, uint32_t flags)
{
    Store *st = h;
    (void)flags;
    if (st->n >= 16 || size > sizeof st->props[0].value)
        return LV2_STATE_ERR_NO_SPACE;
    Prop *p = &st->props[st->n++];
    p->key = key;
    p->type = type;
    p->size = (uint32_t)size;
    memcpy(p->value, value, size);
    return LV2_STATE_SUCCESS;
}

static const void *retrieve_fn(LV2_State_Handle h, uint32_t key, size_t *size, uint32_t *type,
                               uint32_t *flags)
{
    Store *st = h;
    for (int i = 0; i < st->n; i++)
        if (st->props[i].key == key) {
            *size = st->props[i].size;
            *type = st->props[i].type;
            *flags = LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE;
            return st->props[i].value;
        }
    return NULL;
}

/* The generator travels with the state: an instance restored from a saved
 * state plays exactly what the saved one plays after it; a fresh one with
 * the same seed port does not (its generator starts over). */
/* Saves h's state into *st. */
static void save_state(Host *h, Store *st)
{
    const LV2_State_Interface *si =
        lilv_instance_get_extension_data(h->inst, LV2_STATE__interface);
    assert_non_null(si);
    memset(st, 0, sizeof *st);
    assert_int_equal(si->save(lilv_instance_get_handle(h->inst), store_fn, st, 0, NULL),
                     LV2_STATE_SUCCESS);
}

/* The model path a saved state names must be `want`. */
static void assert_saved_model(Host *h, const Store *st, const char *want)
{
    int has_model = 0;
    for (int i = 0; i < st->n; i++)
        if (st->props[i].key == U(h, RNNFX_MIDI_URI_MODEL)) {
            has_model = 1;
            assert_string_equal((const char *)st->props[i].value, want);
        }
    assert_true(has_model);
}

/* Restores into `to` a state saved from `from` (whose map numbered the
 * URIDs differently: keys and types are translated). */
static void restore_from(Host *from, Host *to, const Store *saved)
{
    Store tb = *saved;
    for (int i = 0; i < tb.n; i++) {
        tb.props[i].key = U(to, unmap_uri(from, saved->props[i].key));
        tb.props[i].type = U(to, unmap_uri(from, saved->props[i].type));
    }
    const LV2_State_Interface *sb =
        lilv_instance_get_extension_data(to->inst, LV2_STATE__interface);
    assert_int_equal(sb->restore(lilv_instance_get_handle(to->inst), retrieve_fn, &tb, 0, NULL),
                     LV2_STATE_SUCCESS);
}

static void test_state_keeps_generator_and_model(void **state)
{
    (void)state;
    Host *a = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 21);
    play_script(a, g_player, N_PLAYER, 120, 1000); /* generator advances */
    static Store saved;
    save_state(a, &saved);
    assert_saved_model(a, &saved, g_model);
    /* a: back to the start of the song (activate resets model and clock) */
    lilv_instance_deactivate(a->inst);
    lilv_instance_activate(a->inst);
    a->n_evs = 0;
    a->now = 0;

    Host *b = host_new();
    b->ctl[RNNFX_MIDI_PORT_MODE] = RNNFX_MIDI_MODE_ACCOMPANY;
    b->ctl[RNNFX_MIDI_PORT_CHANNEL] = 3;
    b->ctl[RNNFX_MIDI_PORT_SEED] = 21;
    b->ctl[RNNFX_MIDI_PORT_MAX_NOTES] = 4;
    restore_from(a, b, &saved);
    Host *c = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 21);
    c->now = 0;
    /* a's first run after activate ends the notes it held (note-offs at
     * frame 0); b has none. One stopped block each, then both start
     * afresh at sample 0 (a stopped block takes no step) */
    send_position(a, 0, 0, 0.0f);
    host_run(a);
    send_position(b, 0, 0, 0.0f);
    host_run(b);
    a->n_evs = b->n_evs = 0;
    a->now = b->now = 0;
    play_script(a, g_player, N_PLAYER, 200, 190);
    play_script(b, g_player, N_PLAYER, 200, 190);
    play_script(c, g_player, N_PLAYER, 200, 190);
    assert_true(a->n_evs > N_PLAYER);
    assert_true(same_events(a, b));
    assert_false(same_events(a, c));
    host_free(a);
    host_free(b);
    host_free(c);
}


/* A saved model whose file is gone stays the setting: the built-in model
 * plays, and saving again stores the missing file (it used to store
 * nothing, and the session lost its model on the next save). */
static void test_missing_model_kept(void **state)
{
    (void)state;
    char gone[1300], cmd[3000];
    snprintf(gone, sizeof gone, "%s.gone.json", g_model);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", g_model, gone);
    assert_int_equal(system(cmd), 0);
    Host *a = host_new();
    send_model(a, gone);
    host_run(a);
    static Store saved, again;
    save_state(a, &saved);
    assert_int_equal(unlink(gone), 0);
    Host *b = host_new();
    restore_from(a, b, &saved);
    host_run(b);
    save_state(b, &again);
    assert_saved_model(b, &again, gone);
    host_free(a);
    host_free(b);
}


/* A host that restores state while run() plays (Ardour loads presets so):
 * run() skips the model while restore() holds the plugin, but the
 * player's MIDI still goes through. A note-off in that cycle was
 * swallowed: the synth after the plugin held the note, and the plugin
 * took the key for still down. */
static atomic_int g_in_restore, g_release;

static const void *slow_retrieve(LV2_State_Handle sh, uint32_t key, size_t *size, uint32_t *type,
                                 uint32_t *flags)
{
    atomic_store(&g_in_restore, 1);
    while (!atomic_load(&g_release)) usleep(1000);
    return retrieve_fn(sh, key, size, type, flags);
}

typedef struct {
    Host *h;
    Store *st;
} RestoreJob;

static void *restorer(void *arg)
{
    RestoreJob *r = arg;
    const LV2_State_Interface *si =
        lilv_instance_get_extension_data(r->h->inst, LV2_STATE__interface);
    si->restore(lilv_instance_get_handle(r->h->inst), slow_retrieve, r->st, 0, NULL);
    return NULL;
}

static void test_noteoff_during_restore(void **state)
{
    (void)state;
    Host *h = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 5);
    static Store st;
    save_state(h, &st);
    send_midi(h, 10, 0x90, 60, 100); /* the player's key down */
    host_run(h);
    RestoreJob job = {h, &st};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, restorer, &job), 0);
    while (!atomic_load(&g_in_restore)) usleep(100);
    send_midi(h, 20, 0x80, 60, 0); /* and up, while the state loads */
    host_run(h);
    atomic_store(&g_release, 1);
    pthread_join(th, NULL);
    for (int b = 0; b < 400; b++) host_run(h);
    int off = 0;
    for (size_t i = 0; i < h->n_evs; i++) {
        const uint8_t *m = h->evs[i].m;
        const int is_off = (m[0] & 0xF0) == 0x80 || ((m[0] & 0xF0) == 0x90 && !m[2]);
        off += is_off && m[1] == 60 && (m[0] & 0x0F) == 0;
    }
    print_message("the player's note-off during a restore: %d passed through\n", off);
    assert_int_equal(off, 1);
    host_free(h);
}

/* Notes the model holds when the host deactivates the plugin end at the
 * first run() after it is activated again (deactivate has no output): a
 * synth after the plugin must not keep them sounding. */
static void test_reactivate_releases_notes(void **state)
{
    (void)state;
    Host *h = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 7);
    int on[128] = {0}, sounding = 0;
    size_t pi = 0;
    for (int b = 0; b < 400 && !sounding; b++) {
        const uint64_t t0 = h->now;
        const size_t from = h->n_evs;
        send_position(h, 0, t0, 1.0f);
        while (pi < N_PLAYER && g_player[pi].t < t0 + BLOCK) {
            send_midi(h, (uint32_t)(g_player[pi].t - t0), g_player[pi].st, g_player[pi].key,
                      g_player[pi].vel);
            pi++;
        }
        host_run(h);
        for (size_t i = from; i < h->n_evs; i++) {
            const Ev *e = &h->evs[i];
            if ((e->m[0] & 0x0F) == 2)
                on[e->m[1]] = (e->m[0] & 0xF0) == 0x90;
        }
        sounding = 0;
        for (int k = 0; k < 128; k++)
            sounding += on[k];
    }
    assert_true(sounding > 0);
    lilv_instance_deactivate(h->inst);
    lilv_instance_activate(h->inst);
    const size_t from = h->n_evs;
    send_position(h, 0, h->now, 0.0f); /* stopped: nothing new starts */
    host_run(h);
    int offs = 0;
    for (size_t i = from; i < h->n_evs; i++) {
        const Ev *e = &h->evs[i];
        if ((e->m[0] & 0x0F) != 2)
            continue;
        assert_int_equal(e->m[0] & 0xF0, 0x80);
        assert_int_equal(on[e->m[1]], 1); /* only notes that were on */
        on[e->m[1]] = 0;
        offs++;
    }
    assert_int_equal(offs, sounding);
    assert_int_equal(g_allocs_in_run, 0);
    host_free(h);
}

/* save() may run while run() plays, and work_response on the audio thread
 * hands the old model to the Worker, which frees it. A thread saves over
 * and over while patch:Set switches between two files every few blocks:
 * every saved state names one of them, whole (it read the core's path,
 * which the Worker could free under it). */
typedef struct {
    Host *h;
    const LV2_State_Interface *si;
    volatile int stop;
    int saves, bad;
} MidiSaver;

static void *midi_saver(void *arg)
{
    MidiSaver *sv = arg;
    const LV2_URID model = U(sv->h, RNNFX_MIDI_URI_MODEL);
    while (!sv->stop) {
        Store st = {0};
        if (sv->si->save(lilv_instance_get_handle(sv->h->inst), store_fn, &st, 0, NULL) !=
            LV2_STATE_SUCCESS) {
            sv->bad++;
            continue;
        }
        for (int i = 0; i < st.n; i++)
            if (st.props[i].key == model && strcmp((const char *)st.props[i].value, g_model) != 0 &&
                strcmp((const char *)st.props[i].value, g_model2) != 0)
                sv->bad++;
        sv->saves++;
    }
    return NULL;
}

static void test_save_during_run(void **state)
{
    (void)state;
    Host *h = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 3);
    MidiSaver sv = {h, lilv_instance_get_extension_data(h->inst, LV2_STATE__interface), 0, 0, 0};
    assert_non_null(sv.si);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, midi_saver, &sv), 0);
    for (int b = 0; b < 600; b++) {
        send_position(h, 0, h->now, 1.0f);
        if (b % 4 == 0)
            send_model(h, (b / 4) % 2 ? g_model2 : g_model);
        host_run(h);
    }
    sv.stop = 1;
    pthread_join(th, NULL);
    print_message("%d states saved during 600 blocks and 150 model switches\n", sv.saves);
    assert_true(sv.saves > 0);
    assert_int_equal(sv.bad, 0);
    host_free(h);
}

static void set_port_cb(const char *symbol, void *user, const void *value, uint32_t size,
                        uint32_t type)
{
    Host *h = user;
    if (size != sizeof(float) || type != U(h, LV2_ATOM__Float))
        return;
    for (int i = 2; i < RNNFX_MIDI_N_PORTS; i++) {
        const LilvPort *p = lilv_plugin_get_port_by_index(h->plugin, (uint32_t)i);
        if (!strcmp(lilv_node_as_string(lilv_port_get_symbol(h->plugin, p)), symbol))
            h->ctl[i] = *(const float *)value;
    }
}


/* The host changes tempo from 120 to 90 bpm mid-bar: the model's notes keep
 * landing on the eighth-note lines of the new tempo. */
static void test_follows_tempo_change(void **state)
{
    (void)state;
    Host *h = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 8);
    h->n_evs = 0;
    const uint64_t t_start = h->now;
    const int change = 100, blocks = 400;
    double beats = 0.0;
    for (int b = 0; b < blocks; b++) {
        float bpm = b < change ? 120.0f : 90.0f;
        send_position_beats(h, 0, beats, bpm, 1.0f);
        host_run(h);
        beats += (double)BLOCK / RATE * bpm / 60.0;
    }
    const double b0 = (double)change * BLOCK / RATE * 2.0; /* beats at the change */
    int n = 0;
    for (size_t i = 0; i < h->n_evs; i++) {
        const Ev *e = &h->evs[i];
        double t = (double)(e->t - t_start);
        /* the beat position of this sample, then its distance to an eighth line */
        double beat = t <= (double)change * BLOCK ? t / 24000.0 : b0 + (t - change * BLOCK) / 32000.0;
        double spb = t <= (double)change * BLOCK ? 24000.0 : 32000.0; /* samples per beat */
        double off = (beat * 2.0 - floor(beat * 2.0 + 1e-9)) * spb / 2.0; /* samples past a line */
        if (!(off < 1.0 || off > spb / 2.0 - 1e-3))
            fail_msg("event at sample %.0f is %.2f samples past an eighth line", t, off);
        n += (e->m[0] & 0xF0) == 0x90;
    }
    assert_true(n > 10);
    /* and some notes start after the change, on the slower grid */
    int late = 0;
    for (size_t i = 0; i < h->n_evs; i++)
        late += h->evs[i].t - t_start > (uint64_t)change * BLOCK && (h->evs[i].m[0] & 0xF0) == 0x90;
    assert_true(late > 3);
    host_free(h);
}

/* The bundle's preset, applied through lilv (which maps the relative model
 * path into the bundle), selects the built-in model file again. */
static void test_preset_selects_builtin(void **state)
{
    (void)state;
    Host *h = loaded_host(RNNFX_MIDI_MODE_ACCOMPANY, 5);
    h->ctl[RNNFX_MIDI_PORT_TEMPERATURE] = 0.3f;
    LilvNode *uri = lilv_new_uri(h->world, "http://rnnfx.org/plugins/rnnfx/presets#midi-default");
    lilv_world_load_resource(h->world, uri);
    LilvState *st = lilv_state_new_from_world(h->world, &h->map, uri);
    lilv_node_free(uri);
    assert_non_null(st);
    lilv_state_restore(st, h->inst, set_port_cb, h, 0, h->features);
    lilv_state_free(st);
    assert_float_equal(h->ctl[RNNFX_MIDI_PORT_TEMPERATURE], 1.0f, 0);
    static Store saved;
    save_state(h, &saved);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s/%s", g_bundle, RNNFX_MIDI_DEFAULT_MODEL_FILE);
    assert_saved_model(h, &saved, want); /* a preset's model is stored as an explicit choice */
    assert_null(strstr(h->logbuf, "could not be loaded"));
    host_free(h);
}

/* Without any model message the built-in model (in the bundle) plays. */
static void test_builtin_model_plays(void **state)
{
    (void)state;
    Host *h = host_new();
    assert_null(strstr(h->logbuf, "cannot load"));
    h->ctl[RNNFX_MIDI_PORT_MODE] = RNNFX_MIDI_MODE_CONTINUE;
    play_script(h, g_player, N_PLAYER, 600, 590);
    int n = 0;
    for (size_t i = 0; i < h->n_evs; i++)
        n += (h->evs[i].m[0] & 0xF0) == 0x90 && (h->evs[i].m[0] & 0x0F) == 0;
    assert_true(n > 3); /* the player's 3 notes and the model's own */
    assert_int_equal(g_allocs_in_run, 0);
    host_free(h);
}

static int setup(void **state)
{
    (void)state;
    const char *build = getenv("BUILD");
    snprintf(g_bundle, sizeof g_bundle, "%s/rnnfx.lv2", build && *build ? build : "build");
    char real[PATH_MAX];
    if (!realpath(g_bundle, real)) {
        fprintf(stderr, "bundle %s not built\n", g_bundle);
        return -1;
    }
    snprintf(g_bundle, sizeof g_bundle, "%s", real);
    /* A small random MIDI-frame model on the eighth-note grid with beat
     * features; its output bias is lowered so it plays a few keys a step. */
    RnnfxArch a;
    memset(&a, 0, sizeof a);
    a.kind = RNNFX_KIND_MIDI_FRAMES;
    a.input_size = 92;
    a.output_size = 88;
    a.n_layers = 1;
    a.output_sigmoid = 1;
    a.layers[0].cell = RNNFX_CELL_GRU;
    a.layers[0].hidden_size = 16;
    RnnfxModel *m = rnnfx_test_random_model(&a, 99, 1.0f, 0);
    if (!m)
        return -1;
    int rows, cols;
    float *b = rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_B, &rows, &cols);
    for (int k = 0; k < 88; k++)
        b[k] -= 3.0f;
    rnnfx_model_meta(m)->midi.steps_per_quarter = 2;
    RnnfxError err;
    if (rnnfx_model_finalize(m, &err) != RNNFX_OK)
        return -1;
    snprintf(g_model, sizeof g_model, "/tmp/rnnfx-midi-plugin-test-%ld.json", (long)getpid());
    snprintf(g_model2, sizeof g_model2, "/tmp/rnnfx-midi-plugin-test-%ld-2.json", (long)getpid());
    RnnfxStatus s = rnnfx_model_save(m, g_model, &err);
    if (s == RNNFX_OK)
        s = rnnfx_model_save(m, g_model2, &err);
    rnnfx_model_free(m);
    return s == RNNFX_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    remove(g_model);
    remove(g_model2);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports_match_header),
        cmocka_unit_test(test_accompany_on_grid_balanced),
        cmocka_unit_test(test_continue_waits_for_the_player),
        cmocka_unit_test(test_seed_determinism),
        cmocka_unit_test(test_nan_controls_keep_last_valid),
        cmocka_unit_test(test_own_clock_without_host_time),
        cmocka_unit_test(test_bad_model_keeps_current),
        cmocka_unit_test(test_string_path_without_nul),
        cmocka_unit_test(test_state_keeps_generator_and_model),
        cmocka_unit_test(test_missing_model_kept),
        cmocka_unit_test(test_noteoff_during_restore),
        cmocka_unit_test(test_builtin_model_plays),
        cmocka_unit_test(test_preset_selects_builtin),
        cmocka_unit_test(test_follows_tempo_change),
        cmocka_unit_test(test_reactivate_releases_notes),
        cmocka_unit_test(test_save_during_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

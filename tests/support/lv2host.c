/*
 * lv2host.c — see lv2host.h. A minimal lilv-based LV2 host for tests.
 *
 * The worker request/response queues are single-producer single-consumer
 * byte rings with C11 atomics and a semaphore, so that the audio-thread side
 * (schedule_work during run, response delivery after run) takes no lock and
 * allocates nothing: an allocation counter around run() then sees only what
 * the plugin itself does.
 */
#include "lv2host.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#define RING_SIZE (1u << 18)
#define ATOM_CAP 65536u
#define MAX_PARAMS 16

typedef struct {
    uint8_t buf[RING_SIZE];
    atomic_size_t head; /* written by the producer */
    atomic_size_t tail; /* written by the consumer */
} Ring;

static int ring_write(Ring *r, const void *data, uint32_t size)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    size_t need = sizeof(uint32_t) + size;
    if (RING_SIZE - (head - tail) < need) return -1;
    const uint8_t *src[2] = {(const uint8_t *)&size, data};
    size_t len[2] = {sizeof size, size};
    size_t pos = head;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < len[k]; i++) r->buf[(pos++) & (RING_SIZE - 1)] = src[k][i];
    atomic_store_explicit(&r->head, pos, memory_order_release);
    return 0;
}

/* Reads one message into out (capacity cap). Returns its size, or -1. */
static long ring_read(Ring *r, void *out, size_t cap)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (head == tail) return -1;
    uint32_t size;
    uint8_t *s = (uint8_t *)&size;
    size_t pos = tail;
    for (size_t i = 0; i < sizeof size; i++) s[i] = r->buf[(pos++) & (RING_SIZE - 1)];
    uint8_t *o = out;
    for (size_t i = 0; i < size; i++) {
        uint8_t b = r->buf[(pos++) & (RING_SIZE - 1)];
        if (i < cap) o[i] = b;
    }
    atomic_store_explicit(&r->tail, pos, memory_order_release);
    return (long)size;
}

/* Set while this thread runs the plugin's audio-thread callbacks; log calls
 * from other threads (the worker) during that time are not counted. */
static _Thread_local int tl_in_run;

typedef struct {
    LV2_URID key;
    char text[2048];
} Param;

struct Lv2Host {
    int blank_objects; /* send patch messages as atom:Blank (older hosts) */
    LilvWorld *world;
    const LilvPlugin *plugin;
    LilvInstance *instance;
    Lv2HostConfig cfg;
    int active;

    /* URID map */
    char **uris;
    size_t n_uris, cap_uris;
    pthread_mutex_t urid_lock;
    LV2_URID_Map map;
    LV2_URID_Unmap unmap;

    /* features */
    LV2_Worker_Schedule sched;
    LV2_Log_Log log;
    LV2_Options_Option options[6];
    float opt_rate;
    int32_t opt_max, opt_min, opt_nominal;
    LV2_Feature f_map, f_unmap, f_sched, f_log, f_opts, f_bounded;
    const LV2_Feature *features[8];

    /* worker */
    const LV2_Worker_Interface *worker_iface;
    Ring *req, *resp;
    pthread_t thread;
    int thread_started;
    sem_t sem;
    atomic_int stop;
    atomic_long requested, handled;
    uint8_t work_buf[RING_SIZE / 4];
    uint8_t resp_buf[RING_SIZE / 4];

    /* ports */
    uint32_t n_ports;
    float *controls;
    char **symbols;
    int *audio_in, *audio_out; /* port index per channel */
    int n_audio_in, n_audio_out;
    int control_port, notify_port;
    LV2_Atom_Sequence *atom_in, *atom_out;
    LV2_Atom_Forge forge;
    LV2_Atom_Forge_Frame seq_frame;
    int seq_open;

    /* URIs */
    LV2_URID u_Path, u_String, u_Float, u_Double, u_Int, u_URID, u_Object, u_Sequence, u_Chunk,
        u_eventTransfer, u_midi, u_Set, u_Get, u_property, u_value, u_error, u_warning, u_note,
        u_trace, u_maxBlock, u_minBlock, u_nominalBlock, u_sampleRate;

    /* notify */
    Param params[MAX_PARAMS];
    int n_params, notify_count;

    /* log */
    char *logbuf;
    size_t loglen, logcap;
    pthread_mutex_t log_lock;
    atomic_int log_in_run;
    atomic_int log_with_args;

    void (*hook_enter)(void *);
    void (*hook_leave)(void *);
    void *hook_ctx;

    int (*sched_accept)(void *, uint32_t, const void *);
    uint32_t respond_max; /* answers longer than this are refused (0: no limit) */
    void *sched_ctx;
    int hold_responses;
};

/* ---- URID -------------------------------------------------------------------------- */

static LV2_URID urid_map(LV2_URID_Map_Handle h, const char *uri)
{
    Lv2Host *host = h;
    pthread_mutex_lock(&host->urid_lock);
    for (size_t i = 0; i < host->n_uris; i++) {
        if (!strcmp(host->uris[i], uri)) {
            pthread_mutex_unlock(&host->urid_lock);
            return (LV2_URID)(i + 1);
        }
    }
    if (host->n_uris == host->cap_uris) {
        size_t cap = host->cap_uris ? host->cap_uris * 2 : 64;
        char **n = realloc(host->uris, cap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&host->urid_lock);
            return 0;
        }
        host->uris = n;
        host->cap_uris = cap;
    }
    host->uris[host->n_uris] = strdup(uri);
    LV2_URID id = (LV2_URID)(++host->n_uris);
    pthread_mutex_unlock(&host->urid_lock);
    return id;
}

static const char *urid_unmap(LV2_URID_Unmap_Handle h, LV2_URID urid)
{
    Lv2Host *host = h;
    const char *s = NULL;
    pthread_mutex_lock(&host->urid_lock);
    if (urid > 0 && urid <= host->n_uris) s = host->uris[urid - 1];
    pthread_mutex_unlock(&host->urid_lock);
    return s;
}

/* ---- log ------------------------------------------------------------------------- */

static int log_vprintf(LV2_Log_Handle h, LV2_URID type, const char *fmt, va_list ap)
{
    Lv2Host *host = h;
    if (tl_in_run) atomic_fetch_add(&host->log_in_run, 1);
    for (const char *p = strchr(fmt, '%'); p; p = strchr(p + 2, '%')) {
        if (p[1] != '%') {
            atomic_fetch_add(&host->log_with_args, 1);
            break;
        }
    }
    const char *kind = type == host->u_error     ? "error: "
                       : type == host->u_warning ? "warning: "
                       : type == host->u_trace   ? "trace: "
                                                 : "note: ";
    char line[4096];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n < 0) return n;
    if (getenv("LV2HOST_VERBOSE")) fprintf(stderr, "%s%s", kind, line);
    pthread_mutex_lock(&host->log_lock);
    size_t add = strlen(kind) + strlen(line) + 2;
    if (host->loglen + add > host->logcap) {
        size_t cap = (host->logcap + add) * 2;
        char *nb = realloc(host->logbuf, cap);
        if (nb) {
            host->logbuf = nb;
            host->logcap = cap;
        }
    }
    if (host->loglen + add <= host->logcap) {
        host->loglen += (size_t)sprintf(host->logbuf + host->loglen, "%s%s", kind, line);
        if (host->loglen && host->logbuf[host->loglen - 1] != '\n') host->logbuf[host->loglen++] = '\n';
        host->logbuf[host->loglen] = '\0';
    }
    pthread_mutex_unlock(&host->log_lock);
    return n;
}

static int log_printf(LV2_Log_Handle h, LV2_URID type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = log_vprintf(h, type, fmt, ap);
    va_end(ap);
    return n;
}

/* ---- worker ---------------------------------------------------------------------- */

static LV2_Worker_Status respond(LV2_Worker_Respond_Handle h, uint32_t size, const void *data)
{
    Lv2Host *host = h;
    if (host->respond_max && size > host->respond_max)
        return LV2_WORKER_ERR_NO_SPACE;
    return ring_write(host->resp, data, size) == 0 ? LV2_WORKER_SUCCESS : LV2_WORKER_ERR_NO_SPACE;
}

static LV2_Worker_Status schedule_work(LV2_Worker_Schedule_Handle h, uint32_t size,
                                       const void *data)
{
    Lv2Host *host = h;
    if (host->sched_accept && !host->sched_accept(host->sched_ctx, size, data))
        return LV2_WORKER_ERR_NO_SPACE;
    if (host->cfg.worker == LV2HOST_WORKER_SYNC) {
        atomic_fetch_add(&host->requested, 1);
        LV2_Worker_Status st = host->worker_iface->work(lilv_instance_get_handle(host->instance),
                                                        respond, host, size, data);
        atomic_fetch_add(&host->handled, 1);
        return st;
    }
    if (ring_write(host->req, data, size) != 0) return LV2_WORKER_ERR_NO_SPACE;
    atomic_fetch_add(&host->requested, 1);
    sem_post(&host->sem);
    return LV2_WORKER_SUCCESS;
}

/* Runs every queued request; returns whether there was one. Thread: the
 * worker thread, or the caller once that thread is gone. */
static int run_requests(Lv2Host *host)
{
    long size;
    int any = 0;
    while ((size = ring_read(host->req, host->work_buf, sizeof host->work_buf)) >= 0) {
        host->worker_iface->work(lilv_instance_get_handle(host->instance), respond, host,
                                 (uint32_t)size, host->work_buf);
        atomic_fetch_add(&host->handled, 1);
        any = 1;
    }
    return any;
}

static void *worker_main(void *arg)
{
    Lv2Host *host = arg;
    for (;;) {
        sem_wait(&host->sem);
        /* stop is read first and the queue emptied after, so a request the
         * plugin queued in its last run() (say, freeing an old model) is
         * still done before the thread ends */
        const int stop = atomic_load(&host->stop);
        run_requests(host);
        if (stop) break;
    }
    return NULL;
}

/* At free: what the worker left behind, run synchronously until nothing is
 * left (a response can queue more work, e.g. freeing the model it
 * replaced), so nothing a plugin handed over leaks. */
static void drain_worker(Lv2Host *h)
{
    for (int round = 0; round < 64; round++) {
        int any = run_requests(h);
        long size;
        while ((size = ring_read(h->resp, h->resp_buf, sizeof h->resp_buf)) >= 0) {
            h->worker_iface->work_response(lilv_instance_get_handle(h->instance), (uint32_t)size,
                                           h->resp_buf);
            any = 1;
        }
        if (!any) break;
    }
}

int lv2host_wait_worker(Lv2Host *host, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited++) {
        if (atomic_load(&host->handled) >= atomic_load(&host->requested)) return 0;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* ---- setup ----------------------------------------------------------------------- */

static void map_host_uris(Lv2Host *h)
{
    LV2_URID_Map *m = &h->map;
    h->u_Path = m->map(m->handle, LV2_ATOM__Path);
    h->u_String = m->map(m->handle, LV2_ATOM__String);
    h->u_Float = m->map(m->handle, LV2_ATOM__Float);
    h->u_Double = m->map(m->handle, LV2_ATOM__Double);
    h->u_Int = m->map(m->handle, LV2_ATOM__Int);
    h->u_URID = m->map(m->handle, LV2_ATOM__URID);
    h->u_Object = m->map(m->handle, LV2_ATOM__Object);
    h->u_Sequence = m->map(m->handle, LV2_ATOM__Sequence);
    h->u_Chunk = m->map(m->handle, LV2_ATOM__Chunk);
    h->u_eventTransfer = m->map(m->handle, LV2_ATOM__eventTransfer);
    h->u_midi = m->map(m->handle, LV2_MIDI__MidiEvent);
    h->u_Set = m->map(m->handle, LV2_PATCH__Set);
    h->u_Get = m->map(m->handle, LV2_PATCH__Get);
    h->u_property = m->map(m->handle, LV2_PATCH__property);
    h->u_value = m->map(m->handle, LV2_PATCH__value);
    h->u_error = m->map(m->handle, LV2_LOG__Error);
    h->u_warning = m->map(m->handle, LV2_LOG__Warning);
    h->u_note = m->map(m->handle, LV2_LOG__Note);
    h->u_trace = m->map(m->handle, LV2_LOG__Trace);
    h->u_maxBlock = m->map(m->handle, LV2_BUF_SIZE__maxBlockLength);
    h->u_minBlock = m->map(m->handle, LV2_BUF_SIZE__minBlockLength);
    h->u_nominalBlock = m->map(m->handle, LV2_BUF_SIZE__nominalBlockLength);
    h->u_sampleRate = m->map(m->handle, LV2_PARAMETERS__sampleRate);
}

static void set_err(char *err, size_t len, const char *fmt, const char *arg)
{
    if (err && len) snprintf(err, len, fmt, arg);
}

Lv2Host *lv2host_new(const char *bundle_dir, const char *plugin_uri, const Lv2HostConfig *cfg,
                     char *err, size_t errlen)
{
    Lv2Host *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->cfg = *cfg;
    if (h->cfg.max_block == 0) h->cfg.max_block = 4096;
    pthread_mutex_init(&h->urid_lock, NULL);
    pthread_mutex_init(&h->log_lock, NULL);
    h->map.handle = h;
    h->map.map = urid_map;
    h->unmap.handle = h;
    h->unmap.unmap = urid_unmap;
    map_host_uris(h);
    h->req = calloc(1, sizeof(Ring));
    h->resp = calloc(1, sizeof(Ring));
    sem_init(&h->sem, 0, 0);

    h->world = lilv_world_new();
    lilv_world_load_specifications(h->world);
    lilv_world_load_plugin_classes(h->world);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s", bundle_dir,
             bundle_dir[strlen(bundle_dir) - 1] == '/' ? "" : "/");
    char *abs = realpath(dir, NULL);
    if (!abs) {
        set_err(err, errlen, "bundle %s not found", bundle_dir);
        lv2host_free(h);
        return NULL;
    }
    snprintf(dir, sizeof dir, "%s/", abs);
    free(abs);
    LilvNode *bundle = lilv_new_file_uri(h->world, NULL, dir);
    lilv_world_load_bundle(h->world, bundle);
    lilv_node_free(bundle);
    LilvNode *uri = lilv_new_uri(h->world, plugin_uri);
    h->plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(h->world), uri);
    lilv_node_free(uri);
    if (!h->plugin) {
        set_err(err, errlen, "plugin %s not found in the bundle", plugin_uri);
        lv2host_free(h);
        return NULL;
    }

    /* features */
    int nf = 0;
    h->f_map = (LV2_Feature){LV2_URID__map, &h->map};
    h->f_unmap = (LV2_Feature){LV2_URID__unmap, &h->unmap};
    h->features[nf++] = &h->f_map;
    h->features[nf++] = &h->f_unmap;
    if (h->cfg.worker != LV2HOST_WORKER_NONE) {
        h->sched.handle = h;
        h->sched.schedule_work = schedule_work;
        h->f_sched = (LV2_Feature){LV2_WORKER__schedule, &h->sched};
        h->features[nf++] = &h->f_sched;
    }
    if (!h->cfg.no_log) {
        h->log.handle = h;
        h->log.printf = log_printf;
        h->log.vprintf = log_vprintf;
        h->f_log = (LV2_Feature){LV2_LOG__log, &h->log};
        h->features[nf++] = &h->f_log;
    }
    if (!h->cfg.no_options) {
        h->opt_rate = (float)h->cfg.rate;
        h->opt_max = (int32_t)h->cfg.max_block;
        h->opt_min = 1;
        h->opt_nominal = (int32_t)h->cfg.max_block;
        LV2_Options_Option o[] = {
            {LV2_OPTIONS_INSTANCE, 0, h->u_sampleRate, sizeof(float), h->u_Float, &h->opt_rate},
            {LV2_OPTIONS_INSTANCE, 0, h->u_maxBlock, sizeof(int32_t), h->u_Int, &h->opt_max},
            {LV2_OPTIONS_INSTANCE, 0, h->u_minBlock, sizeof(int32_t), h->u_Int, &h->opt_min},
            {LV2_OPTIONS_INSTANCE, 0, h->u_nominalBlock, sizeof(int32_t), h->u_Int,
             &h->opt_nominal},
            {LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL}};
        memcpy(h->options, o, sizeof o);
        h->f_opts = (LV2_Feature){LV2_OPTIONS__options, h->options};
        h->features[nf++] = &h->f_opts;
        h->f_bounded = (LV2_Feature){LV2_BUF_SIZE__boundedBlockLength, NULL};
        h->features[nf++] = &h->f_bounded;
    }
    h->features[nf] = NULL;

    h->instance = lilv_plugin_instantiate(h->plugin, h->cfg.rate, h->features);
    if (!h->instance) {
        set_err(err, errlen, "instantiating %s failed", plugin_uri);
        lv2host_free(h);
        return NULL;
    }
    h->worker_iface = lilv_instance_get_extension_data(h->instance, LV2_WORKER__interface);
    if (h->cfg.worker != LV2HOST_WORKER_NONE && !h->worker_iface) {
        set_err(err, errlen, "%s has no worker interface", plugin_uri);
        lv2host_free(h);
        return NULL;
    }
    if (h->cfg.worker == LV2HOST_WORKER_THREAD) {
        if (pthread_create(&h->thread, NULL, worker_main, h) == 0) h->thread_started = 1;
    }

    /* ports */
    h->n_ports = lilv_plugin_get_num_ports(h->plugin);
    h->controls = calloc(h->n_ports, sizeof(float));
    h->symbols = calloc(h->n_ports, sizeof(char *));
    h->audio_in = calloc(h->n_ports, sizeof(int));
    h->audio_out = calloc(h->n_ports, sizeof(int));
    h->atom_in = calloc(1, ATOM_CAP);
    h->atom_out = calloc(1, ATOM_CAP);
    h->control_port = h->notify_port = -1;
    LilvNode *c_audio = lilv_new_uri(h->world, LV2_CORE__AudioPort);
    LilvNode *c_control = lilv_new_uri(h->world, LV2_CORE__ControlPort);
    LilvNode *c_atom = lilv_new_uri(h->world, LV2_ATOM__AtomPort);
    LilvNode *c_input = lilv_new_uri(h->world, LV2_CORE__InputPort);
    float *defs = calloc(h->n_ports, sizeof(float));
    lilv_plugin_get_port_ranges_float(h->plugin, NULL, NULL, defs);
    for (uint32_t i = 0; i < h->n_ports; i++) {
        const LilvPort *p = lilv_plugin_get_port_by_index(h->plugin, i);
        h->symbols[i] = strdup(lilv_node_as_string(lilv_port_get_symbol(h->plugin, p)));
        int in = lilv_port_is_a(h->plugin, p, c_input);
        if (lilv_port_is_a(h->plugin, p, c_control)) {
            h->controls[i] = isnan(defs[i]) ? 0.0f : defs[i];
            lilv_instance_connect_port(h->instance, i, &h->controls[i]);
        } else if (lilv_port_is_a(h->plugin, p, c_atom)) {
            if (in && h->control_port < 0) {
                h->control_port = (int)i;
                lilv_instance_connect_port(h->instance, i, h->atom_in);
            } else if (!in && h->notify_port < 0) {
                h->notify_port = (int)i;
                lilv_instance_connect_port(h->instance, i, h->atom_out);
            }
        } else if (lilv_port_is_a(h->plugin, p, c_audio)) {
            if (in) h->audio_in[h->n_audio_in++] = (int)i;
            else h->audio_out[h->n_audio_out++] = (int)i;
        }
    }
    free(defs);
    lilv_node_free(c_audio);
    lilv_node_free(c_control);
    lilv_node_free(c_atom);
    lilv_node_free(c_input);
    lv2_atom_forge_init(&h->forge, &h->map);
    lv2host_activate(h);
    return h;
}

void lv2host_free(Lv2Host *h)
{
    if (!h) return;
    if (h->thread_started) {
        atomic_store(&h->stop, 1);
        sem_post(&h->sem);
        pthread_join(h->thread, NULL);
    }
    if (h->instance) {
        /* deliver outstanding requests and responses so the plugin can hand
         * models back */
        if (h->worker_iface && h->req && h->resp) drain_worker(h);
        if (h->active) lilv_instance_deactivate(h->instance);
        lilv_instance_free(h->instance);
    }
    if (h->world) lilv_world_free(h->world);
    for (size_t i = 0; i < h->n_uris; i++) free(h->uris[i]);
    free(h->uris);
    if (h->symbols)
        for (uint32_t i = 0; i < h->n_ports; i++) free(h->symbols[i]);
    free(h->symbols);
    free(h->controls);
    free(h->audio_in);
    free(h->audio_out);
    free(h->atom_in);
    free(h->atom_out);
    free(h->req);
    free(h->resp);
    free(h->logbuf);
    sem_destroy(&h->sem);
    pthread_mutex_destroy(&h->urid_lock);
    pthread_mutex_destroy(&h->log_lock);
    free(h);
}

void lv2host_activate(Lv2Host *h)
{
    if (!h->active) lilv_instance_activate(h->instance);
    h->active = 1;
}

void lv2host_deactivate(Lv2Host *h)
{
    if (h->active) lilv_instance_deactivate(h->instance);
    h->active = 0;
}

/* ---- ports ----------------------------------------------------------------------- */

uint32_t lv2host_num_ports(const Lv2Host *h) { return h->n_ports; }

const char *lv2host_port_symbol(const Lv2Host *h, uint32_t i)
{
    return i < h->n_ports ? h->symbols[i] : NULL;
}

int lv2host_port_index(const Lv2Host *h, const char *symbol)
{
    for (uint32_t i = 0; i < h->n_ports; i++)
        if (!strcmp(h->symbols[i], symbol)) return (int)i;
    return -1;
}

int lv2host_port_is(const Lv2Host *h, uint32_t index, const char *class_uri)
{
    const LilvPort *p = lilv_plugin_get_port_by_index(h->plugin, index);
    if (!p) return 0;
    LilvNode *c = lilv_new_uri(h->world, class_uri);
    int r = lilv_port_is_a(h->plugin, p, c);
    lilv_node_free(c);
    return r;
}

void lv2host_port_range(const Lv2Host *h, uint32_t index, float *def, float *min, float *max)
{
    const LilvPort *p = lilv_plugin_get_port_by_index(h->plugin, index);
    LilvNode *d = NULL, *lo = NULL, *hi = NULL;
    if (p) lilv_port_get_range(h->plugin, p, &d, &lo, &hi);
    if (def) *def = d ? lilv_node_as_float(d) : NAN;
    if (min) *min = lo ? lilv_node_as_float(lo) : NAN;
    if (max) *max = hi ? lilv_node_as_float(hi) : NAN;
    lilv_node_free(d);
    lilv_node_free(lo);
    lilv_node_free(hi);
}

int lv2host_audio_channels(const Lv2Host *h) { return h->n_audio_in; }

void lv2host_set(Lv2Host *h, const char *symbol, float value)
{
    int i = lv2host_port_index(h, symbol);
    if (i >= 0) h->controls[i] = value;
}

float lv2host_get(const Lv2Host *h, const char *symbol)
{
    int i = lv2host_port_index(h, symbol);
    return i >= 0 ? h->controls[i] : NAN;
}

/* ---- events ---------------------------------------------------------------------- */

static int open_seq(Lv2Host *h)
{
    if (h->control_port < 0) return -1;
    if (!h->seq_open) {
        lv2_atom_forge_set_buffer(&h->forge, (uint8_t *)h->atom_in, ATOM_CAP);
        lv2_atom_forge_sequence_head(&h->forge, &h->seq_frame, 0);
        h->seq_open = 1;
    }
    return 0;
}

int lv2host_send_path(Lv2Host *h, const char *property_uri, const char *path)
{
    if (open_seq(h)) return -1;
    LV2_Atom_Forge_Frame f;
    if (!lv2_atom_forge_frame_time(&h->forge, 0)) return -1;
    const LV2_Atom_Forge_Ref obj = lv2_atom_forge_object(&h->forge, &f, 0, h->u_Set);
    if (obj && h->blank_objects)
        ((LV2_Atom *)lv2_atom_forge_deref(&h->forge, obj))->type =
            h->map.map(h, LV2_ATOM__Blank);
    lv2_atom_forge_key(&h->forge, h->u_property);
    lv2_atom_forge_urid(&h->forge, h->map.map(h, property_uri));
    lv2_atom_forge_key(&h->forge, h->u_value);
    if (!lv2_atom_forge_path(&h->forge, path, (uint32_t)strlen(path))) return -1;
    lv2_atom_forge_pop(&h->forge, &f);
    return 0;
}

void lv2host_blank_objects(Lv2Host *h, int blank) { h->blank_objects = blank; }

int lv2host_send_get(Lv2Host *h)
{
    if (open_seq(h)) return -1;
    LV2_Atom_Forge_Frame f;
    if (!lv2_atom_forge_frame_time(&h->forge, 0)) return -1;
    const LV2_Atom_Forge_Ref obj = lv2_atom_forge_object(&h->forge, &f, 0, h->u_Get);
    if (obj && h->blank_objects)
        ((LV2_Atom *)lv2_atom_forge_deref(&h->forge, obj))->type =
            h->map.map(h, LV2_ATOM__Blank);
    lv2_atom_forge_pop(&h->forge, &f);
    return 0;
}

int lv2host_send_midi(Lv2Host *h, const uint8_t *msg, uint32_t size)
{
    if (open_seq(h)) return -1;
    if (!lv2_atom_forge_frame_time(&h->forge, 0)) return -1;
    if (!lv2_atom_forge_atom(&h->forge, size, h->u_midi)) return -1;
    if (!lv2_atom_forge_write(&h->forge, msg, size)) return -1;
    return 0;
}

static void store_param(Lv2Host *h, LV2_URID key, const LV2_Atom *v)
{
    Param *p = NULL;
    for (int i = 0; i < h->n_params; i++)
        if (h->params[i].key == key) p = &h->params[i];
    if (!p) {
        if (h->n_params == MAX_PARAMS) return;
        p = &h->params[h->n_params++];
        p->key = key;
    }
    if (v->type == h->u_Path || v->type == h->u_String)
        snprintf(p->text, sizeof p->text, "%.*s", (int)v->size, (const char *)LV2_ATOM_BODY_CONST(v));
    else if (v->type == h->u_Float)
        snprintf(p->text, sizeof p->text, "%.9g", ((const LV2_Atom_Float *)v)->body);
    else if (v->type == h->u_Double)
        snprintf(p->text, sizeof p->text, "%.17g", ((const LV2_Atom_Double *)v)->body);
    else if (v->type == h->u_Int)
        snprintf(p->text, sizeof p->text, "%d", ((const LV2_Atom_Int *)v)->body);
    else
        snprintf(p->text, sizeof p->text, "?");
}

static void read_notify(Lv2Host *h)
{
    if (h->notify_port < 0 || h->atom_out->atom.type != h->u_Sequence) return;
    LV2_ATOM_SEQUENCE_FOREACH (h->atom_out, ev) {
        if (ev->body.type != h->u_Object) continue;
        const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
        if (obj->body.otype != h->u_Set) continue;
        const LV2_Atom *prop = NULL, *val = NULL;
        lv2_atom_object_get(obj, h->u_property, &prop, h->u_value, &val, 0);
        if (!prop || prop->type != h->u_URID || !val) continue;
        store_param(h, ((const LV2_Atom_URID *)prop)->body, val);
        h->notify_count++;
    }
}

int lv2host_param(const Lv2Host *h, const char *property_uri, char *buf, size_t len)
{
    LV2_URID key = ((Lv2Host *)h)->map.map((Lv2Host *)h, property_uri);
    for (int i = 0; i < h->n_params; i++) {
        if (h->params[i].key == key) {
            snprintf(buf, len, "%s", h->params[i].text);
            return 0;
        }
    }
    if (len) buf[0] = '\0';
    return -1;
}

int lv2host_notify_count(const Lv2Host *h) { return h->notify_count; }

/* ---- run ------------------------------------------------------------------------- */

void lv2host_set_hooks(Lv2Host *h, void (*enter)(void *), void (*leave)(void *), void *ctx)
{
    h->hook_enter = enter;
    h->hook_leave = leave;
    h->hook_ctx = ctx;
}

void lv2host_set_schedule_filter(Lv2Host *h, int (*accept)(void *, uint32_t, const void *),
                                 void *ctx)
{
    h->sched_accept = accept;
    h->sched_ctx = ctx;
}

void lv2host_hold_responses(Lv2Host *h, int hold) { h->hold_responses = hold; }
void lv2host_set_respond_limit(Lv2Host *h, uint32_t max_size) { h->respond_max = max_size; }

void lv2host_run(Lv2Host *h, const float *const *in, float *const *out, uint32_t n)
{
    if (h->control_port >= 0 && !h->seq_open) open_seq(h);
    if (h->seq_open) {
        lv2_atom_forge_pop(&h->forge, &h->seq_frame);
        h->seq_open = 0;
    }
    if (h->notify_port >= 0) {
        h->atom_out->atom.type = h->u_Chunk;
        h->atom_out->atom.size = ATOM_CAP - sizeof(LV2_Atom);
    }
    for (int c = 0; c < h->n_audio_in; c++)
        lilv_instance_connect_port(h->instance, (uint32_t)h->audio_in[c], (void *)in[c]);
    for (int c = 0; c < h->n_audio_out; c++)
        lilv_instance_connect_port(h->instance, (uint32_t)h->audio_out[c], out[c]);

    if (h->hook_enter) h->hook_enter(h->hook_ctx);
    tl_in_run = 1;
    lilv_instance_run(h->instance, n);
    if (h->worker_iface && !h->hold_responses) {
        long size;
        while ((size = ring_read(h->resp, h->resp_buf, sizeof h->resp_buf)) >= 0)
            h->worker_iface->work_response(lilv_instance_get_handle(h->instance), (uint32_t)size,
                                           h->resp_buf);
        if (h->worker_iface->end_run) h->worker_iface->end_run(lilv_instance_get_handle(h->instance));
    }
    tl_in_run = 0;
    if (h->hook_leave) h->hook_leave(h->hook_ctx);

    read_notify(h);
    /* leave an empty sequence for the next cycle */
    open_seq(h);
}

int lv2host_log_count_in_run(const Lv2Host *h) { return atomic_load(&((Lv2Host *)h)->log_in_run); }
int lv2host_log_count_with_args(const Lv2Host *h) { return atomic_load(&((Lv2Host *)h)->log_with_args); }

const char *lv2host_log(Lv2Host *h) { return h->logbuf ? h->logbuf : ""; }

void lv2host_log_clear(Lv2Host *h)
{
    pthread_mutex_lock(&h->log_lock);
    h->loglen = 0;
    if (h->logbuf) h->logbuf[0] = '\0';
    pthread_mutex_unlock(&h->log_lock);
}

/* ---- state ----------------------------------------------------------------------- */

static const void *get_port_value(const char *symbol, void *user, uint32_t *size, uint32_t *type)
{
    Lv2Host *h = user;
    int i = lv2host_port_index(h, symbol);
    if (i < 0 || !lv2host_port_is(h, (uint32_t)i, LV2_CORE__ControlPort) ||
        !lv2host_port_is(h, (uint32_t)i, LV2_CORE__InputPort)) {
        *size = 0;
        *type = 0;
        return NULL;
    }
    *size = sizeof(float);
    *type = h->u_Float;
    return &h->controls[i];
}

static void set_port_value(const char *symbol, void *user, const void *value, uint32_t size,
                           uint32_t type)
{
    Lv2Host *h = user;
    int i = lv2host_port_index(h, symbol);
    if (i < 0) return;
    if (type == h->u_Float && size == sizeof(float)) h->controls[i] = *(const float *)value;
    else if (type == h->u_Double && size == sizeof(double)) h->controls[i] = (float)*(const double *)value;
    else if (type == h->u_Int && size == sizeof(int32_t)) h->controls[i] = (float)*(const int32_t *)value;
}

int lv2host_save_state(Lv2Host *h, const char *dir)
{
    mkdir(dir, 0755);
    char *abs = realpath(dir, NULL);
    if (!abs) return -1;
    /* As jalv does: external files are linked from the state directory
     * (with no link directory lilv 0.24 removes the external file itself). */
    LilvState *st = lilv_state_new_from_instance(h->plugin, h->instance, &h->map, NULL, abs,
                                                 abs, abs, get_port_value, h,
                                                 LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE,
                                                 h->features);
    int r = -1;
    if (st) {
        r = lilv_state_save(h->world, &h->map, &h->unmap, st, NULL, abs, "state.ttl");
        lilv_state_free(st);
    }
    free(abs);
    return r;
}

int lv2host_restore_state(Lv2Host *h, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/state.ttl", dir);
    LilvState *st = lilv_state_new_from_file(h->world, &h->map, NULL, path);
    if (!st) return -1;
    lilv_state_restore(st, h->instance, set_port_value, h, 0, h->features);
    lilv_state_free(st);
    return 0;
}

int lv2host_apply_preset(Lv2Host *h, const char *preset_uri)
{
    LilvNode *p = lilv_new_uri(h->world, preset_uri);
    lilv_world_load_resource(h->world, p);
    LilvState *st = lilv_state_new_from_world(h->world, &h->map, p);
    lilv_node_free(p);
    if (!st) return -1;
    lilv_state_restore(st, h->instance, set_port_value, h, 0, h->features);
    lilv_state_free(st);
    return 0;
}

int lv2host_state_file_value(const char *dir, const char *property_uri, char *buf, size_t len)
{
    if (len) buf[0] = '\0';
    char path[4096];
    snprintf(path, sizeof path, "%s/state.ttl", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char key[1024];
    snprintf(key, sizeof key, "<%s>", property_uri);
    const char *p = strstr(text, key);
    if (!p) return -1;
    p += strlen(key);
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    char close = *p == '<' ? '>' : (*p == '"' ? '"' : 0);
    if (!close) return -1;
    const char *e = strchr(p + 1, close);
    if (!e) return -1;
    snprintf(buf, len, "%.*s", (int)(e - p - 1), p + 1);
    return 0;
}

int lv2host_built_bundle(char *buf, size_t len)
{
    const char *build = getenv("BUILD");
    const char *bundle = getenv("RNNFX_LV2_BUNDLE"); /* e.g. an installed copy */
    if (bundle && *bundle)
        snprintf(buf, len, "%s", bundle);
    else
        snprintf(buf, len, "%s/rnnfx.lv2", build && *build ? build : "build");
    struct stat st;
    if (stat(buf, &st) != 0) {
        fprintf(stderr, "bundle %s not built\n", buf);
        return -1;
    }
    return 0;
}

/*
 * rnnfx_plugin.c — the rnnfx LV2 plugin (mono and stereo).
 *
 * A thin wrapper around engine/chain.h: it maps ports and MIDI CC onto chain
 * controls, loads model files and cabinet impulse responses in the LV2
 * Worker, installs them on the audio thread with rnnfx_chain_swap() (a
 * crossfade, no allocation), sends the old processing core back to the
 * Worker to be freed, saves and restores the model and cabinet paths through
 * LV2 State, and publishes what is loaded as patch parameters. Signal
 * processing itself lives in the chain, so the batch tool and this plugin
 * produce the same samples.
 *
 * The capture selector (a control port) chooses among the bundle's
 * captures without the Worker: their cores are built at instantiate and
 * kept (select_capture_rt).
 *
 * Two settings make a processing core: the model (rnnfx:model) and the
 * cabinet IR (rnnfx:ir, "" for none). A core is built from both at once, so
 * changing either rebuilds the core from the two files. Each request names
 * the setting it changes; the Worker, which handles requests one at a time
 * and in order, takes the other setting from what the previous request of
 * the same load generation resolved to (WorkerMemory), or from the request's
 * copy of the settings in use when there was none. So when a model and a
 * cabinet load are in flight at once, the last one builds on the first and
 * neither setting is lost, and a file that fails to load leaves the setting
 * as it was (see work_load).
 *
 * Threads (LV2 threading classes):
 *   instantiate/activate/deactivate/cleanup/restore: instantiation (never
 *     concurrent with run; restore therefore swaps cores directly);
 *   save: its own class, which LV2 lets run during run: it reads the
 *     settings through a sequence lock (settings_copy);
 *   run/work_response: audio (no allocation, locks, file access or logging);
 *   work: worker (loads files, allocates, frees, logs). work() reads only the
 *     plugin's fixed settings and its message, so it may run during restore.
 *
 * Without the Worker feature the plugin still plays: the built-in default
 * capture is loaded at instantiate and a saved model and cabinet at
 * restore; only patch:Set messages during playback need the Worker.
 * Without urid:map too (hosts that connect audio and control ports only:
 * lv2apply, ecasound) it plays the built-in capture, with URIDs of its own
 * (OwnMap) and no state.
 *
 * What this is not: a UI, or a place for DSP (see engine/chain.c).
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/log/logger.h>
#include <lv2/midi/midi.h>
#include <lv2/options/options.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "chain.h"
#include "ir.h"
#include "lv2_features.h"
#include "model_file.h"
#include "rnnfx_ports.h"
#include "run_guard.h"
#include "seqlock.h"

/* Rnnfx.capture_applied after a restore without rnnfx:capture. */
#define CAPTURE_ADOPT (-1)
/* Longest model or IR path the plugin keeps (worker messages carry them). */
#define RNNFX_PATH_MAX 2048
/* Parked cores handed back to the Worker per run() once its queue has
 * room again (bounded work on the audio thread). */
#define PARKED_RETRY_PER_RUN 4
/* Host-visible controls a MIDI CC can override: input gain .. knob 4. */
#define N_CC_TARGETS (RNNFX_PORT_KNOB4 - RNNFX_PORT_INPUT_GAIN + 1)
#define DEFAULT_MAX_BLOCK 1024
/* A request the host's worker queue keeps refusing (full for this long, in
 * seconds of audio, or too small for the message) is dropped; the host is
 * then told the settings in use again. */
#define SEND_RETRY_SECONDS 2.0

typedef struct {
    LV2_URID atom_Path, atom_String, atom_Float, atom_Double, atom_URID, atom_Object,
        atom_Blank, atom_Resource,
        atom_Sequence, atom_eventTransfer, midi_Event, patch_Set, patch_Get, patch_property,
        patch_value, bufsz_maxBlockLength, bufsz_nominalBlockLength, atom_Int, model, model_name,
        model_rate, model_esr, ir, capture;
} Uris;

typedef enum { MSG_LOAD = 1, MSG_FREE, MSG_LOADED, MSG_FAILED } MsgType;

/* Flags of a load request and of its answer. */
enum {
    LOAD_MODEL_NEW = 1u << 0,     /* request: the model is a new choice */
    LOAD_IR_NEW = 1u << 1,        /* request: the cabinet is a new choice */
    LOAD_MODEL_DEFAULT = 1u << 2, /* answer: the model is the built-in one */
    LOAD_CUR_DEFAULT = 1u << 3,   /* request: the model in use is the built-in one */
    /* request: the model setting is a saved model whose file was missing
     * at restore (the built-in capture plays in its place); answer: it
     * still is */
    LOAD_CUR_MISSING = 1u << 4
};

/* A list cell for a core waiting to be freed. The plugin keeps one spare
 * cell for every core it holds (made off the audio thread together with the
 * core), so the audio thread can always park a core it cannot hand to the
 * Worker: no allocation, no capacity to run out of, nothing leaked. */
typedef struct Parked {
    RnnfxChainCore *core;
    struct Parked *next;
} Parked;

/* Worker request to build a core: this header, then four NUL-terminated
 * paths of the given lengths (NUL included): the new model (if
 * LOAD_MODEL_NEW), the model in use, the new cabinet (if LOAD_IR_NEW; ""
 * removes it) and the cabinet in use ("" none). gen is the load generation
 * at request time (see Rnnfx.load_gen). */
typedef struct {
    uint32_t type; /* MSG_LOAD */
    uint32_t gen;
    uint32_t flags;
    uint32_t len[4];
} MsgLoad;

enum { PATH_MODEL, PATH_CUR_MODEL, PATH_IR, PATH_CUR_IR, N_LOAD_PATHS };

/* Worker request to free a core (and its cell), or its answer to a load:
 * MSG_LOADED (the new core with a spare cell for it, then the model and
 * cabinet settings it was built from, model_len and ir_len bytes with their
 * NULs) or MSG_FAILED (nothing was built; core and cell are NULL). */
typedef struct {
    uint32_t type;
    uint32_t gen;
    uint32_t flags;
    uint32_t model_len, ir_len;
    RnnfxChainCore *core;
    Parked *cell;
} MsgCore;

/* What the last load of generation gen resolved the settings to (valid: a
 * load of some generation succeeded). Read and written by work() only,
 * which LV2 never calls concurrently, so it needs no lock. */
typedef struct {
    int valid;
    uint32_t gen;
    int model_default, model_missing;
    char model[RNNFX_PATH_MAX];
    char ir[RNNFX_PATH_MAX];
} WorkerMemory;

/* The plugin's own URID table, for hosts that offer no urid:map (ecasound,
 * lv2apply). Such a host cannot send or receive atoms (the atom ports are
 * connectionOptional and stay unconnected) nor save state, so these
 * numbers never leave the plugin; the table only lets the same code run.
 * It holds the URIs the plugin and the atom forge map at instantiate. */
enum { OWN_URIDS = 64 };
typedef struct {
    LV2_URID_Map map;
    const char *uri[OWN_URIDS];
    uint32_t n;
} OwnMap;

typedef struct {
    /* host features */
    LV2_URID_Map *map; /* the host's, or &own.map */
    OwnMap own;
    LV2_Worker_Schedule *schedule; /* NULL: no Worker */
    LV2_Log_Logger logger;
    RnnfxLog log_guard; /* between logger and the host's log (lv2_features.h) */
    Uris uris;
    LV2_Atom_Forge forge;

    /* ports */
    const LV2_Atom_Sequence *control;
    LV2_Atom_Sequence *notify;
    const float *ctl[RNNFX_PORT_LATENCY]; /* indices INPUT_GAIN..KNOB4 used */
    float *latency_port, *in_peak_port, *out_peak_port;
    const float *capture_port;
    const float *normalize_port;
    int normalize_last; /* its last finite value, as 0/1 (0 before any) */
    const float *in[RNNFX_CHAIN_MAX_CHANNELS];
    float *out[RNNFX_CHAIN_MAX_CHANNELS];

    int channels;
    double rate;
    char bundle_path[RNNFX_PATH_MAX];
    RnnfxChain *chain;

    /* The settings in use: the model the newest installed core runs, and
     * the cabinet setting (saved and published; "" none). ir_path stays set
     * when its file could not be read at restore: the session keeps it and
     * the core then runs without a cabinet. Written on the audio thread
     * (work_response, select_capture_rt: between settings_begin and
     * settings_end, since LV2 lets save run during run) and by
     * restore/instantiate (never concurrent with save); read by save
     * through settings_copy. With capture_applied below. */
    atomic_uint settings_seq; /* odd while the audio thread writes them */
    atomic_int guard;         /* run() or restore() under way (run_guard.h) */
    char model_path[RNNFX_PATH_MAX];
    int model_is_default;
    int model_missing; /* model_path is a saved model whose file was missing at
                          restore; the built-in capture plays in its place */
    char ir_path[RNNFX_PATH_MAX];
    size_t ir_frames; /* cabinet length in the newest installed core, or in the
                         chosen capture's core waiting to be installed (0: none) */
    int notify_pending;
    const RnnfxModel *notified_model; /* what the last notify described */

    /* New settings asked for by patch:Set and not yet sent to the Worker
     * (its queue was full; sent at the next run). Audio thread, and restore
     * (never concurrently). */
    char want_model[RNNFX_PATH_MAX];
    char want_ir[RNNFX_PATH_MAX];
    int model_req, ir_req;
    double send_refused; /* samples since the queue first refused them */
    /* Loads sent to the Worker and not answered yet, and samples since the
     * last was sent. While one is under way new choices wait, the latest
     * winning, and go when it is answered: a host or user stepping through
     * many models (a selector scrolled, 400 switches in a test) has the
     * Worker build the one chosen last, not every one in turn. An answer
     * the host lost would hold the queue only for SEND_RETRY_SECONDS. */
    uint32_t in_flight;
    double in_flight_samples;
    /* Worker answers that came while a restore held the plugin (hosts
     * deliver them after run(), outside it, so a skipped cycle does not
     * stop them): kept here and applied at the next run(). Two slots: one
     * load is in flight at a time, two only after an answer was lost. */
    struct {
        uint32_t size;
        union {
            MsgCore head;
            unsigned char bytes[sizeof(MsgCore) + 2 * RNNFX_PATH_MAX];
        } msg;
    } deferred[2];

    /* Load generation: restore bumps it, every Worker load carries the
     * value it was requested under, and a response from an older
     * generation is discarded, so a load requested before a state restore
     * cannot replace the restored state (the newest request wins). Written
     * by restore, read by run/work_response: never concurrent. */
    uint32_t load_gen;

    /* Worker thread only (see WorkerMemory). */
    WorkerMemory memory;

    /* The capture selector. The bundle's captures are built at instantiate
     * as kept cores (chain.h), so choosing one installs it on the audio
     * thread at once: in hosts without a Worker too (lv2apply, ecasound),
     * and from the first sample of an offline render (Audacity), which a
     * Worker load would miss. captures[k] is NULL if it failed to load
     * (logged). capture_applied is the port value last acted on: choosing
     * an entry acts once, so a model file chosen afterwards stays; it is
     * saved (rnnfx:capture) so a restored session does not act again, and
     * a restored state without it (older sessions, presets) makes the next
     * run take the port's value as acted on (CAPTURE_ADOPT): the state's
     * own model plays, not a capture the selector chose before.
     * fresh: nothing was processed since instantiate or activate, so a
     * capture chosen now starts at once instead of crossfading. Audio
     * thread, and instantiation class (never concurrently). */
    RnnfxChainCore *captures[RNNFX_N_CAPTURES];
    char capture_model[RNNFX_N_CAPTURES][RNNFX_PATH_MAX];
    char capture_ir[RNNFX_N_CAPTURES][RNNFX_PATH_MAX];
    int capture_applied;
    int capture_saved; /* what save stores: capture_applied, or CAPTURE_ADOPT while a program holds */
    int capture_wanted; /* chosen, its core not yet installed (0: none) */
    /* A MIDI Program Change chooses too (program p: capture p + 1), and
     * holds until the port's value moves, as a CC holds a control. */
    int pc_capture;          /* 0: none */
    float capture_port_seen; /* NAN before the first run */
    int fresh;
    /* The controls prepare_first_cycle gave the chain after a reset (valid
     * while `prepared` and fresh). */
    RnnfxChainControls prepared_ctl;
    int prepared;

    /* Last finite value of each host control port (NAN: none yet, use the
     * port's default): a host writing NaN or infinity into a port keeps the
     * sound as it was instead of snapping the control to an end. */
    float last_valid[RNNFX_PORT_LATENCY];

    /* MIDI CC overrides of control ports */
    float last_port[N_CC_TARGETS];
    float cc_value[N_CC_TARGETS];
    int cc_active[N_CC_TARGETS];

    /* spare: one cell per core held (in the chain); parked: cores the
     * Worker could not take (or no Worker), freed at the next non-real-time
     * callback (activate, deactivate, restore, cleanup) or handed to the
     * Worker by a later run(). Audio thread and instantiation class only,
     * never concurrently. */
    Parked *spare;
    Parked *parked;
} Rnnfx;

/* ---- helpers (any thread unless noted) ------------------------------------------ */

/* OwnMap's map: URIs by content, numbered from 1 in order of first use;
 * 0 (no URID) when the table is full, which the URIs mapped at instantiate
 * never make it. Thread: instantiation. */
static LV2_URID own_map(LV2_URID_Map_Handle handle, const char *uri)
{
    OwnMap *m = handle;
    for (uint32_t i = 0; i < m->n; i++)
        if (!strcmp(m->uri[i], uri)) return i + 1;
    if (m->n == OWN_URIDS) return 0;
    m->uri[m->n++] = uri; /* the callers pass string literals */
    return m->n;
}

static void map_uris(LV2_URID_Map *map, Uris *u)
{
    u->atom_Path = map->map(map->handle, LV2_ATOM__Path);
    u->atom_String = map->map(map->handle, LV2_ATOM__String);
    u->atom_Float = map->map(map->handle, LV2_ATOM__Float);
    u->atom_Double = map->map(map->handle, LV2_ATOM__Double);
    u->atom_Int = map->map(map->handle, LV2_ATOM__Int);
    u->atom_URID = map->map(map->handle, LV2_ATOM__URID);
    u->atom_Object = map->map(map->handle, LV2_ATOM__Object);
    u->atom_Blank = map->map(map->handle, LV2_ATOM__Blank);
    u->atom_Resource = map->map(map->handle, LV2_ATOM__Resource);
    u->atom_Sequence = map->map(map->handle, LV2_ATOM__Sequence);
    u->atom_eventTransfer = map->map(map->handle, LV2_ATOM__eventTransfer);
    u->midi_Event = map->map(map->handle, LV2_MIDI__MidiEvent);
    u->patch_Set = map->map(map->handle, LV2_PATCH__Set);
    u->patch_Get = map->map(map->handle, LV2_PATCH__Get);
    u->patch_property = map->map(map->handle, LV2_PATCH__property);
    u->patch_value = map->map(map->handle, LV2_PATCH__value);
    u->bufsz_maxBlockLength = map->map(map->handle, LV2_BUF_SIZE__maxBlockLength);
    u->bufsz_nominalBlockLength = map->map(map->handle, LV2_BUF_SIZE__nominalBlockLength);
    u->model = map->map(map->handle, RNNFX_URI_MODEL);
    u->model_name = map->map(map->handle, RNNFX_URI_MODEL_NAME);
    u->model_rate = map->map(map->handle, RNNFX_URI_MODEL_RATE);
    u->model_esr = map->map(map->handle, RNNFX_URI_MODEL_ESR);
    u->ir = map->map(map->handle, RNNFX_URI_IR);
    u->capture = map->map(map->handle, RNNFX_URI_CAPTURE);
}

/* Copies a NUL-terminated path into a RNNFX_PATH_MAX buffer, cut at its
 * end (callers never pass longer ones). Thread: any (no allocation). */
static void copy_path(char *dst, const char *src)
{
    size_t n = strnlen(src, RNNFX_PATH_MAX - 1);
    memmove(dst, src, n);
    dst[n] = '\0';
}

/* The audio thread writes the saved settings between these: a sequence
 * lock (seqlock.h), so save (which LV2 may run during run) never stores a
 * path half overwritten. Thread: audio (no lock, no wait). */
static void settings_begin(Rnnfx *self) { rnnfx_seq_write_begin(&self->settings_seq); }
static void settings_end(Rnnfx *self) { rnnfx_seq_write_end(&self->settings_seq); }

/* What save stores: a consistent copy of the settings. */
typedef struct {
    char model[RNNFX_PATH_MAX], ir[RNNFX_PATH_MAX];
    int model_is_default, capture;
} SavedSettings;

/* Copies the settings, again if the audio thread changed them meanwhile.
 * Thread: save (may run during run). */
static void settings_copy(Rnnfx *self, SavedSettings *out)
{
    unsigned s;
    do {
        s = rnnfx_seq_read_begin(&self->settings_seq);
        memcpy(out->model, self->model_path, sizeof out->model);
        memcpy(out->ir, self->ir_path, sizeof out->ir);
        out->model_is_default = self->model_is_default;
        out->capture = self->capture_saved;
    } while (rnnfx_seq_read_retry(&self->settings_seq, s));
    out->model[sizeof out->model - 1] = out->ir[sizeof out->ir - 1] = '\0';
}

/* An engine message without the file name it may start with ("path: "),
 * for log lines that name the file themselves. Thread: any. */
static const char *without_path(const char *msg, const char *path)
{
    const size_t n = strlen(path);
    if (n && !strncmp(msg, path, n) && msg[n] == ':') {
        msg += n + 1;
        while (*msg == ' ' || *msg == ':') msg++;
    }
    return msg;
}

/* Logs what a loaded model is. Thread: worker or instantiation. */
static void log_model(Rnnfx *self, const RnnfxChainCore *core, const char *path)
{
    const RnnfxModel *m = rnnfx_chain_core_model(core);
    const RnnfxMeta *meta = rnnfx_model_meta_const(m);
    const RnnfxArch *arch = rnnfx_model_arch(m);
    char esr[32];
    if (meta->esr >= 0.0) snprintf(esr, sizeof esr, "%.4g", meta->esr);
    else snprintf(esr, sizeof esr, "unknown");
    lv2_log_note(&self->logger,
                 "rnnfx: loaded model '%s' (%s %d x %d layer(s), %d knob(s)), trained at %.0f Hz, "
                 "ESR %s; host runs at %.0f Hz, latency %d samples (resampling: %s); file %s\n",
                 meta->name[0] ? meta->name : "(unnamed)", rnnfx_cell_name(arch->layers[0].cell),
                 arch->layers[0].hidden_size, arch->n_layers, arch->n_params, meta->sample_rate,
                 esr, self->rate, rnnfx_chain_core_latency(core), rnnfx_chain_core_resampler(core),
                 path);
    /* A file that loads but settles far from 0 on silence (a mis-converted
     * export) plays a constant offset under every note: say so, as the
     * command-line tools do (the same -26 dBFS threshold). */
    const float rest = rnnfx_chain_core_rest_output(core);
    if (fabsf(rest) > RNNFX_CHAIN_REST_WARN)
        lv2_log_warning(&self->logger,
                        "rnnfx: model '%s' settles at %+.3f on silence (a DC offset of %.1f dBFS "
                        "under everything it plays; captures settle near 0): the file may be "
                        "mis-converted or broken; file %s\n",
                        meta->name[0] ? meta->name : "(unnamed)", (double)rest,
                        20.0 * log10(fabs((double)rest)), path);
}

/* Reads a cabinet impulse response for this plugin's rate and channels, and
 * logs what it is. Thread: worker or instantiation (reads a file, allocates). */
static RnnfxStatus load_ir(Rnnfx *self, const char *path, RnnfxIr **ir, RnnfxError *err)
{
    RnnfxStatus st = rnnfx_ir_load(path, self->rate, self->channels, ir, err);
    if (st != RNNFX_OK) return st;
    const float gain = rnnfx_ir_gain(*ir);
    lv2_log_note(&self->logger,
                 "rnnfx: loaded cabinet IR %s: %.1f ms (%zu samples at %.0f Hz), recorded at "
                 "%.0f Hz with %d channel(s), normalised to unit band gain (%+.1f dB)\n",
                 path, 1000.0 * (double)rnnfx_ir_frames(*ir) / self->rate, rnnfx_ir_frames(*ir),
                 self->rate, rnnfx_ir_source_rate(*ir), rnnfx_ir_source_channels(*ir),
                 gain > 0.0f ? 20.0 * log10((double)gain) : 0.0);
    return RNNFX_OK;
}

/* Loads a model file and builds a processing core for it with the cabinet
 * `ir` (NULL: none; the caller keeps it). Logs the model if log_it.
 * Thread: worker or instantiation (reads files, allocates). */
static RnnfxStatus build_core(Rnnfx *self, const char *path, const RnnfxIr *ir, int log_it,
                              RnnfxChainCore **core, RnnfxError *err)
{
    RnnfxModel *model = NULL;
    RnnfxStatus st = rnnfx_model_load(path, NULL, &model, err);
    if (st != RNNFX_OK) return st;
    st = rnnfx_chain_core_new_ir(self->chain, model, 1, ir, core, err); /* takes the model */
    if (st != RNNFX_OK) return st;
    if (log_it) log_model(self, *core, path);
    return RNNFX_OK;
}

/* The path of a file in the bundle. */
static void bundle_file(const Rnnfx *self, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", self->bundle_path,
             (self->bundle_path[0] && self->bundle_path[strlen(self->bundle_path) - 1] == '/')
                 ? ""
                 : "/",
             name);
}

static void default_model_path(const Rnnfx *self, char *buf, size_t size)
{
    bundle_file(self, RNNFX_DEFAULT_MODEL_FILE, buf, size);
}

/* 1 if both paths name the same existing file. Thread: not audio. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Frees parked cores and their cells. Thread: instantiation (never
 * concurrent with run). */
static void free_garbage(Rnnfx *self)
{
    while (self->parked) {
        Parked *p = self->parked;
        self->parked = p->next;
        rnnfx_chain_core_free(p->core);
        free(p);
    }
}

/* Thread: audio or instantiation (no allocation). */
static void spare_push(Rnnfx *self, Parked *cell)
{
    if (!cell) return;
    cell->core = NULL;
    cell->next = self->spare;
    self->spare = cell;
}

static Parked *spare_pop(Rnnfx *self)
{
    Parked *cell = self->spare;
    if (cell) self->spare = cell->next;
    return cell;
}

/* Hands a core (with one spare cell) to the Worker to free, or parks it in
 * that cell. Every core the chain gives back came in with a cell, so one is
 * always there. Thread: audio. */
static void dispose_core_rt(Rnnfx *self, RnnfxChainCore *core)
{
    if (!core || rnnfx_chain_core_kept(core)) return; /* the selector's captures stay */
    Parked *cell = spare_pop(self);
    if (self->schedule) {
        MsgCore msg = {MSG_FREE, 0, 0, 0, 0, core, cell};
        if (self->schedule->schedule_work(self->schedule->handle, sizeof msg, &msg) ==
            LV2_WORKER_SUCCESS)
            return;
    }
    if (!cell) return; /* cannot happen (one cell per core held); never free here */
    cell->core = core;
    cell->next = self->parked;
    self->parked = cell;
}

/* Offers a few parked cores to the Worker again (its queue was full when
 * they were retired). Thread: audio. */
static void retry_parked_rt(Rnnfx *self)
{
    for (int i = 0; i < PARKED_RETRY_PER_RUN && self->schedule && self->parked; i++) {
        Parked *cell = self->parked;
        MsgCore msg = {MSG_FREE, 0, 0, 0, 0, cell->core, cell};
        Parked *next = cell->next;
        if (self->schedule->schedule_work(self->schedule->handle, sizeof msg, &msg) !=
            LV2_WORKER_SUCCESS)
            return;
        self->parked = next;
    }
}

/* Thread: audio. */
static void drain_retired_rt(Rnnfx *self)
{
    RnnfxChainCore *core;
    while ((core = rnnfx_chain_take_retired(self->chain)) != NULL) dispose_core_rt(self, core);
}

/* Frees a core the chain gave back, with one spare cell. Thread:
 * instantiation. */
static void free_core_now(Rnnfx *self, RnnfxChainCore *core)
{
    if (!core || rnnfx_chain_core_kept(core)) return; /* the selector's captures stay */
    free(spare_pop(self));
    rnnfx_chain_core_free(core);
}

/* Frees the cores the chain let go of. Thread: instantiation. */
static void free_retired_now(Rnnfx *self)
{
    RnnfxChainCore *r;
    while ((r = rnnfx_chain_take_retired(self->chain)) != NULL) free_core_now(self, r);
}

/* Installs a core and frees what it replaces right away. Takes the core
 * (freed on failure). Thread: instantiation (restore, instantiate), never
 * concurrent with run. */
static RnnfxStatus install_core_now(Rnnfx *self, RnnfxChainCore *core, RnnfxError *err)
{
    Parked *cell = calloc(1, sizeof *cell);
    if (!cell) {
        rnnfx_chain_core_free(core);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    }
    spare_push(self, cell);
    const size_t ir_frames = rnnfx_chain_core_ir_frames(core);
    RnnfxChainCore *displaced = NULL;
    rnnfx_chain_swap(self->chain, core, &displaced);
    free_core_now(self, displaced);
    free_retired_now(self);
    if (displaced == core) return rnnfx_fail(err, RNNFX_ERR_LIMIT, "the chain is busy");
    self->ir_frames = ir_frames;
    return RNNFX_OK;
}

/* Builds the capture selector's cores (see Rnnfx.captures). A capture
 * that fails to load is logged and its entry then changes nothing.
 * Thread: instantiation. */
static void preload_captures(Rnnfx *self)
{
    static const char *const files[RNNFX_N_CAPTURES][2] = RNNFX_CAPTURE_FILES;
    for (int k = 0; k < RNNFX_N_CAPTURES; k++) {
        bundle_file(self, files[k][0], self->capture_model[k], RNNFX_PATH_MAX);
        if (files[k][1][0]) bundle_file(self, files[k][1], self->capture_ir[k], RNNFX_PATH_MAX);
        RnnfxError err = {{0}};
        RnnfxIr *ir = NULL;
        RnnfxStatus st = RNNFX_OK;
        if (self->capture_ir[k][0])
            st = rnnfx_ir_load(self->capture_ir[k], self->rate, self->channels, &ir, &err);
        if (st == RNNFX_OK)
            st = build_core(self, self->capture_model[k], ir, 0, &self->captures[k], &err);
        rnnfx_ir_free(ir);
        if (st != RNNFX_OK) {
            lv2_log_error(&self->logger, "rnnfx: bundled capture %d (%s) cannot be loaded: %s\n",
                          k + 1, files[k][0], err.msg);
            self->captures[k] = NULL;
            continue;
        }
        rnnfx_chain_core_set_kept(self->captures[k]);
    }
}

/* ---- LV2 descriptor callbacks ---------------------------------------------------- */

/* Thread: instantiation. */
static LV2_Handle instantiate_common(double rate, const char *bundle_path,
                                     const LV2_Feature *const *features, int channels)
{
    Rnnfx *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->channels = channels;
    self->rate = rate;
    const LV2_Options_Option *options = rnnfx_lv2_feature(features, LV2_OPTIONS__options);
    LV2_Log_Log *log = rnnfx_lv2_feature(features, LV2_LOG__log);
    self->map = rnnfx_lv2_feature(features, LV2_URID__map);
    self->schedule = rnnfx_lv2_feature(features, LV2_WORKER__schedule);
    /* the logger gets the host's map only: its log messages go to the host,
     * formatted here (Audacity cannot format them: lv2_features.h) */
    lv2_log_logger_init(&self->logger, self->map, rnnfx_log_wrap(&self->log_guard, log));
    if (!self->map) {
        self->own.map.handle = &self->own;
        self->own.map.map = own_map;
        self->map = &self->own.map;
    }
    map_uris(self->map, &self->uris);
    lv2_atom_forge_init(&self->forge, self->map);

    size_t max_block = DEFAULT_MAX_BLOCK;
    for (int i = 0; options && options[i].key; i++) {
        if (options[i].key == self->uris.bufsz_maxBlockLength &&
            options[i].type == self->uris.atom_Int) {
            int32_t v = *(const int32_t *)options[i].value;
            if (v >= 64 && v <= 8192) max_block = (size_t)v;
        }
    }

    snprintf(self->bundle_path, sizeof self->bundle_path, "%s", bundle_path ? bundle_path : "");
    RnnfxError err = {{0}};
    if (rnnfx_chain_new_multi(NULL, rate, channels, max_block, &self->chain, &err) != RNNFX_OK) {
        lv2_log_error(&self->logger, "rnnfx: %s\n", err.msg);
        free(self);
        return NULL;
    }
    for (int i = 0; i < N_CC_TARGETS; i++) self->last_port[i] = NAN;
    self->capture_port_seen = NAN;
    for (int i = 0; i < RNNFX_PORT_LATENCY; i++) self->last_valid[i] = NAN;

    /* The bundle's captures, for the selector; the first is the built-in
     * default, which plays from the start so the plugin sounds right out
     * of the box (its kept core: an empty chain takes it at once). */
    preload_captures(self);
    RnnfxChainCore *def = self->captures[0], *displaced = NULL;
    if (def) {
        rnnfx_chain_swap(self->chain, def, &displaced);
        log_model(self, def, self->capture_model[0]);
        self->model_is_default = 1;
        copy_path(self->model_path, self->capture_model[0]);
    } else {
        lv2_log_error(&self->logger, "rnnfx: without the built-in capture %s the plugin passes "
                                     "audio through until a model is loaded\n",
                      self->capture_model[0]);
    }
    self->notify_pending = 1;
    self->fresh = 1;
    return self;
}

static LV2_Handle instantiate_mono(const LV2_Descriptor *d, double rate, const char *bundle,
                                   const LV2_Feature *const *features)
{
    (void)d;
    return instantiate_common(rate, bundle, features, 1);
}

static LV2_Handle instantiate_stereo(const LV2_Descriptor *d, double rate, const char *bundle,
                                     const LV2_Feature *const *features)
{
    (void)d;
    return instantiate_common(rate, bundle, features, 2);
}

/* Thread: audio (LV2 allows connect_port there). */
static void connect_port(LV2_Handle h, uint32_t port, void *data)
{
    Rnnfx *self = h;
    if (port == (self->channels > 1 ? RNNFX_PORT_CAPTURE_STEREO : RNNFX_PORT_CAPTURE_MONO)) {
        self->capture_port = data;
        return;
    }
    if (port == (self->channels > 1 ? RNNFX_PORT_NORMALIZE_STEREO : RNNFX_PORT_NORMALIZE_MONO)) {
        self->normalize_port = data;
        return;
    }
    switch ((RnnfxPort)port) {
    case RNNFX_PORT_CONTROL: self->control = data; break;
    case RNNFX_PORT_NOTIFY: self->notify = data; break;
    case RNNFX_PORT_INPUT_GAIN:
    case RNNFX_PORT_OUTPUT_GAIN:
    case RNNFX_PORT_MIX:
    case RNNFX_PORT_ENABLED:
    case RNNFX_PORT_KNOB1:
    case RNNFX_PORT_KNOB2:
    case RNNFX_PORT_KNOB3:
    case RNNFX_PORT_KNOB4: self->ctl[port] = data; break;
    case RNNFX_PORT_LATENCY: self->latency_port = data; break;
    case RNNFX_PORT_IN_PEAK: self->in_peak_port = data; break;
    case RNNFX_PORT_OUT_PEAK: self->out_peak_port = data; break;
    case RNNFX_PORT_IN_L: self->in[0] = data; break;
    case RNNFX_PORT_OUT_L: self->out[0] = data; break;
    case RNNFX_PORT_IN_R: if (self->channels > 1) self->in[1] = data; break;
    case RNNFX_PORT_OUT_R: if (self->channels > 1) self->out[1] = data; break;
    default: break;
    }
}

static void prepare_first_cycle(Rnnfx *self); /* with the controls, below */

/* Thread: instantiation. */
static void activate(LV2_Handle h)
{
    Rnnfx *self = h;
    free_garbage(self);
    rnnfx_chain_reset(self->chain);
    self->notify_pending = 1;
    self->fresh = 1;
    self->in_flight = 0; /* a load lost before now holds nothing back */
    prepare_first_cycle(self);
}

/* Thread: instantiation. */
static void deactivate(LV2_Handle h) { free_garbage((Rnnfx *)h); }

/* Thread: instantiation. */
static void cleanup(LV2_Handle h)
{
    Rnnfx *self = h;
    for (int i = 0; i < 2; i++)
        if (self->deferred[i].size) { /* an answer never applied */
            rnnfx_chain_core_free(self->deferred[i].msg.head.core);
            free(self->deferred[i].msg.head.cell);
        }
    free_garbage(self);
    rnnfx_chain_free(self->chain); /* leaves the kept capture cores */
    for (int k = 0; k < RNNFX_N_CAPTURES; k++) rnnfx_chain_core_free(self->captures[k]);
    Parked *cell;
    while ((cell = spare_pop(self)) != NULL) free(cell);
    free(self);
}

static float port_value(const float *p, float def) { return p ? *p : def; }

static float clampf(float v, float lo, float hi)
{
    return !(v >= lo) ? lo : (v > hi ? hi : v);
}

/* Range of a CC-controllable control, index relative to INPUT_GAIN. */
static void cc_range(int i, float *lo, float *hi)
{
    switch (i + RNNFX_PORT_INPUT_GAIN) {
    case RNNFX_PORT_INPUT_GAIN: *lo = RNNFX_INPUT_GAIN_MIN; *hi = RNNFX_INPUT_GAIN_MAX; break;
    case RNNFX_PORT_OUTPUT_GAIN: *lo = RNNFX_OUTPUT_GAIN_MIN; *hi = RNNFX_OUTPUT_GAIN_MAX; break;
    default: *lo = 0.0f; *hi = 1.0f; break;
    }
}

/* Thread: audio. */
static void handle_cc(Rnnfx *self, uint8_t cc, uint8_t value)
{
    if (cc == RNNFX_CC_RESET_ALL) {
        for (int i = 0; i < N_CC_TARGETS; i++) self->cc_active[i] = 0;
        return;
    }
    if (cc == RNNFX_CC_OUTPUT_GAIN_ALT) {
        /* Channel volume, as General MIDI scales it. Keyboards and hosts
         * send 100 (its default) when they connect or reset: the linear
         * map of the gain's range made that +8.7 dB. Volume only ever
         * turns the output down (0: the range's bottom). */
        const int i = RNNFX_PORT_OUTPUT_GAIN - RNNFX_PORT_INPUT_GAIN;
        const float db = value ? 40.0f * log10f((float)value / 127.0f) : RNNFX_OUTPUT_GAIN_MIN;
        self->cc_value[i] = clampf(db, RNNFX_OUTPUT_GAIN_MIN, 0.0f);
        self->cc_active[i] = 1;
        return;
    }
    int port;
    if (cc == RNNFX_CC_INPUT_GAIN) port = RNNFX_PORT_INPUT_GAIN;
    else if (cc == RNNFX_CC_OUTPUT_GAIN) port = RNNFX_PORT_OUTPUT_GAIN;
    else if (cc == RNNFX_CC_MIX) port = RNNFX_PORT_MIX;
    else if (cc == RNNFX_CC_KNOB1_ALT) port = RNNFX_PORT_KNOB1;
    else if (cc >= RNNFX_CC_KNOB1 && cc < RNNFX_CC_KNOB1 + RNNFX_N_KNOBS)
        port = RNNFX_PORT_KNOB1 + (cc - RNNFX_CC_KNOB1);
    else return;
    int i = port - RNNFX_PORT_INPUT_GAIN;
    float lo, hi;
    cc_range(i, &lo, &hi);
    self->cc_value[i] = lo + (hi - lo) * (float)value / 127.0f;
    self->cc_active[i] = 1;
}

/* The value a control has now: its port, unless a CC moved it since the
 * port last changed. A NaN or infinite port value is garbage from the host:
 * the last finite value stays (the default before any), and it does not
 * count as a move that takes the control back from a CC. commit: the value
 * read becomes the one tracked (run()); else nothing changes (what run()
 * would take). Thread: audio, or instantiation without commit. */
static float control_value(Rnnfx *self, int port, float def, int commit)
{
    float v = port_value(self->ctl[port], def);
    if (isfinite(v)) {
        if (commit) self->last_valid[port] = v;
    } else {
        v = isnan(self->last_valid[port]) ? def : self->last_valid[port];
    }
    int i = port - RNNFX_PORT_INPUT_GAIN;
    if (port == RNNFX_PORT_ENABLED) return v;
    if (v != self->last_port[i]) {
        if (!commit) return v; /* the port moved: it takes over from a CC */
        self->last_port[i] = v;
        self->cc_active[i] = 0;
    }
    return self->cc_active[i] ? self->cc_value[i] : v;
}

/* The chain's controls from the ports (and MIDI CC). commit: the values
 * become the ones the plugin tracks (run()); else nothing changes (what
 * run() would take, for prepare_first_cycle). Thread: audio, or
 * instantiation while run() cannot be called. */
static void read_controls(Rnnfx *self, RnnfxChainControls *c, int commit)
{
    rnnfx_chain_controls_init(c);
    c->input_db = clampf(control_value(self, RNNFX_PORT_INPUT_GAIN, 0.0f, commit),
                         RNNFX_INPUT_GAIN_MIN, RNNFX_INPUT_GAIN_MAX);
    c->output_db = clampf(control_value(self, RNNFX_PORT_OUTPUT_GAIN, 0.0f, commit),
                          RNNFX_OUTPUT_GAIN_MIN, RNNFX_OUTPUT_GAIN_MAX);
    c->mix = clampf(control_value(self, RNNFX_PORT_MIX, 1.0f, commit), 0.0f, 1.0f);
    c->enabled = control_value(self, RNNFX_PORT_ENABLED, 1.0f, commit) > 0.5f;
    /* a host that predates the port leaves it unconnected: off, as before;
     * a NaN keeps the last setting, as for the other controls */
    int normalize = self->normalize_last;
    if (self->normalize_port && isfinite(*self->normalize_port))
        normalize = *self->normalize_port > 0.5f;
    if (commit) self->normalize_last = normalize;
    c->normalize = normalize;
    c->n_knobs = RNNFX_N_KNOBS;
    for (int k = 0; k < RNNFX_N_KNOBS; k++)
        c->knobs[k] = clampf(control_value(self, RNNFX_PORT_KNOB1 + k, 0.5f, commit), 0.0f, 1.0f);
}

static int controls_equal(const RnnfxChainControls *a, const RnnfxChainControls *b)
{
    if (a->input_db != b->input_db || a->output_db != b->output_db || a->mix != b->mix ||
        a->enabled != b->enabled || a->normalize != b->normalize || a->n_knobs != b->n_knobs)
        return 0;
    for (int k = 0; k < a->n_knobs; k++)
        if (a->knobs[k] != b->knobs[k]) return 0;
    return 1;
}

/* After a reset, the chain's first controls settle the model at the knobs
 * they give when those are off its defaults (chain.h:
 * RNNFX_CHAIN_SETTLE_SAMPLES of silence per channel: 0.4 ms for a GRU-32,
 * about 6 ms per channel for an LSTM-96). The first run() did that, a
 * spike at small buffers. Here (activate, or a restore before anything
 * played) it happens off the audio thread, with the values the host has
 * put on the ports, and a first run() that finds the same values plays on
 * from there: the same samples as before. One that finds other values (a
 * host that sets its ports later) starts the chain at those, in run() as
 * before; so does a host that connects the knob ports later. (LV2 gives
 * port data its meaning in run(): what is read here only prepares, and
 * none of it is kept as the ports' values.) Thread: instantiation. */
static void prepare_first_cycle(Rnnfx *self)
{
    self->prepared = 0;
    for (int k = 0; k < RNNFX_N_KNOBS; k++)
        if (!self->ctl[RNNFX_PORT_KNOB1 + k]) return;
    read_controls(self, &self->prepared_ctl, 0);
    rnnfx_chain_set_controls(self->chain, &self->prepared_ctl);
    self->prepared = 1;
}

/* Writes one patch:Set of a path-valued parameter. Thread: audio. Returns 0
 * when the buffer was too small. */
static int notify_path(Rnnfx *self, LV2_URID key, const char *path)
{
    const Uris *u = &self->uris;
    LV2_Atom_Forge *f = &self->forge;
    LV2_Atom_Forge_Frame fr;
    if (!lv2_atom_forge_frame_time(f, 0)) return 0;
    if (!lv2_atom_forge_object(f, &fr, 0, u->patch_Set)) return 0;
    lv2_atom_forge_key(f, u->patch_property);
    lv2_atom_forge_urid(f, key);
    lv2_atom_forge_key(f, u->patch_value);
    if (!lv2_atom_forge_path(f, path, (uint32_t)strnlen(path, RNNFX_PATH_MAX - 1))) return 0;
    lv2_atom_forge_pop(f, &fr);
    return 1;
}

/* Writes patch:Set messages for the model and cabinet paths and the
 * readable parameters. Thread: audio. Returns 0 when the buffer was too
 * small. */
static int notify_model(Rnnfx *self)
{
    const Uris *u = &self->uris;
    LV2_Atom_Forge *f = &self->forge;
    const RnnfxModel *m = rnnfx_chain_model(self->chain);
    const RnnfxMeta *meta = m ? rnnfx_model_meta_const(m) : NULL;
    LV2_Atom_Forge_Frame fr;
    const char *name = meta ? meta->name : "";

    if (!notify_path(self, u->model, self->model_path)) return 0;
    if (!notify_path(self, u->ir, self->ir_path)) return 0;

    if (!lv2_atom_forge_frame_time(f, 0)) return 0;
    if (!lv2_atom_forge_object(f, &fr, 0, u->patch_Set)) return 0;
    lv2_atom_forge_key(f, u->patch_property);
    lv2_atom_forge_urid(f, u->model_name);
    lv2_atom_forge_key(f, u->patch_value);
    if (!lv2_atom_forge_string(f, name, (uint32_t)strnlen(name, sizeof meta->name))) return 0;
    lv2_atom_forge_pop(f, &fr);

    if (!lv2_atom_forge_frame_time(f, 0)) return 0;
    if (!lv2_atom_forge_object(f, &fr, 0, u->patch_Set)) return 0;
    lv2_atom_forge_key(f, u->patch_property);
    lv2_atom_forge_urid(f, u->model_rate);
    lv2_atom_forge_key(f, u->patch_value);
    if (!lv2_atom_forge_float(f, meta ? (float)meta->sample_rate : 0.0f)) return 0;
    lv2_atom_forge_pop(f, &fr);

    if (!lv2_atom_forge_frame_time(f, 0)) return 0;
    if (!lv2_atom_forge_object(f, &fr, 0, u->patch_Set)) return 0;
    lv2_atom_forge_key(f, u->patch_property);
    lv2_atom_forge_urid(f, u->model_esr);
    lv2_atom_forge_key(f, u->patch_value);
    if (!lv2_atom_forge_float(f, meta ? (float)meta->esr : -1.0f)) return 0;
    lv2_atom_forge_pop(f, &fr);
    return 1;
}

/* patch:Set of the model or the cabinet: the new setting becomes the
 * wanted one; send_request_rt asks the Worker for it. Thread: audio. */
static void handle_object(Rnnfx *self, const LV2_Atom_Object *obj)
{
    const Uris *u = &self->uris;
    if (obj->body.otype == u->patch_Get) {
        self->notify_pending = 1;
        return;
    }
    if (obj->body.otype != u->patch_Set) return;
    const LV2_Atom *property = NULL, *value = NULL;
    lv2_atom_object_get(obj, u->patch_property, &property, u->patch_value, &value, 0);
    if (!property || property->type != u->atom_URID || !value) return;
    const LV2_URID key = ((const LV2_Atom_URID *)property)->body;
    if (key != u->model && key != u->ir) return;
    if (value->type != u->atom_Path && value->type != u->atom_String) return;
    if (!self->schedule || value->size >= RNNFX_PATH_MAX) {
        /* not loaded (no Worker, or a path past the limit): the host's
         * chooser is told what still plays */
        self->notify_pending = 1;
        return;
    }
    /* the value must lie inside the object the host sent */
    if ((const uint8_t *)LV2_ATOM_BODY_CONST(value) + value->size >
        (const uint8_t *)LV2_ATOM_BODY_CONST(&obj->atom) + obj->atom.size)
        return;
    /* The body is the path and its NUL (the forge writes one), bounded by
     * value->size in case a host did not. */
    const char *body = LV2_ATOM_BODY_CONST(value);
    const size_t len = strnlen(body, value->size);
    if (key == u->model) {
        if (len == 0) return; /* there is always a model; "" means nothing */
        memcpy(self->want_model, body, len);
        self->want_model[len] = '\0';
        self->model_req = 1;
    } else {
        /* "" (or an empty atom) removes the cabinet */
        memcpy(self->want_ir, body, len);
        self->want_ir[len] = '\0';
        self->ir_req = 1;
    }
}

/* Appends a path and its NUL to a message. Thread: audio. */
static uint32_t put_path(char *dst, const char *path)
{
    size_t n = strnlen(path, RNNFX_PATH_MAX - 1);
    memcpy(dst, path, n);
    dst[n] = '\0';
    return (uint32_t)(n + 1);
}

/* Sends the new settings asked for to the Worker, with the settings in
 * use (the Worker falls back on them). If the queue is full they stay and
 * go at a later run, for up to SEND_RETRY_SECONDS. Thread: audio. */
static void send_request_rt(Rnnfx *self, uint32_t n)
{
    if (!self->schedule || (!self->model_req && !self->ir_req)) return;
    if (self->in_flight && self->in_flight_samples < SEND_RETRY_SECONDS * self->rate) {
        self->in_flight_samples += n;
        return;
    }
    /* an answer that long overdue was lost (a full queue refused it):
     * forget it, or every later choice would wait out the time again */
    self->in_flight = 0;
    struct {
        MsgLoad head;
        char paths[N_LOAD_PATHS * RNNFX_PATH_MAX];
    } msg;
    const char *paths[N_LOAD_PATHS] = {self->model_req ? self->want_model : "", self->model_path,
                                       self->ir_req ? self->want_ir : "", self->ir_path};
    uint32_t off = 0;
    for (int i = 0; i < N_LOAD_PATHS; i++) {
        msg.head.len[i] = put_path(msg.paths + off, paths[i]);
        off += msg.head.len[i];
    }
    msg.head.type = MSG_LOAD;
    msg.head.gen = self->load_gen;
    msg.head.flags = (self->model_req ? LOAD_MODEL_NEW : 0u) | (self->ir_req ? LOAD_IR_NEW : 0u) |
                     (self->model_is_default ? LOAD_CUR_DEFAULT : 0u) |
                     (self->model_missing ? LOAD_CUR_MISSING : 0u);
    if (self->schedule->schedule_work(self->schedule->handle,
                                      (uint32_t)(sizeof msg.head + off), &msg) ==
        LV2_WORKER_SUCCESS) {
        self->model_req = self->ir_req = 0;
        self->send_refused = 0.0;
        self->in_flight++;
        self->in_flight_samples = 0.0;
    } else if ((self->send_refused += n) >= SEND_RETRY_SECONDS * self->rate) {
        self->model_req = self->ir_req = 0;
        self->send_refused = 0.0;
        self->notify_pending = 1;
    }
}

/* Installs the kept core of the chosen capture (capture_wanted) when the
 * chain holds it in no role: at once, or at a later run if it is still
 * fading out from its last turn or the chain is too busy to take it. If
 * it is already current, a core waiting behind it (an earlier choice, or a
 * file) is dropped, so what plays stays what was chosen last.
 * Thread: audio. */
static void install_wanted_rt(Rnnfx *self)
{
    const int k = self->capture_wanted;
    if (k <= 0) return;
    RnnfxChainCore *core = self->captures[k - 1];
    switch (rnnfx_chain_core_role(self->chain, core)) {
    case RNNFX_CORE_CURRENT:
        dispose_core_rt(self, rnnfx_chain_drop_pending(self->chain));
        self->capture_wanted = 0;
        return;
    case RNNFX_CORE_PENDING: /* starts when the running fade ends */
        self->capture_wanted = 0;
        return;
    case RNNFX_CORE_FADING:
    case RNNFX_CORE_RETIRED:
        return;
    case RNNFX_CORE_NONE:
        break;
    }
    RnnfxChainCore *displaced = NULL;
    rnnfx_chain_swap(self->chain, core, &displaced);
    if (displaced == core) return;
    dispose_core_rt(self, displaced);
    /* nothing played yet (a new instance, an offline render): the capture
     * plays from the first sample, not after a crossfade */
    if (self->fresh) rnnfx_chain_reset(self->chain);
    drain_retired_rt(self);
    self->capture_wanted = 0;
}

/* Acts on a new value of the capture selector (its port, or a MIDI Program
 * Change: `program` is this cycle's, p + 1, or 0): its files become the model
 * and cabinet settings at once, as if they had been chosen (published,
 * saved), and its kept core is installed (install_wanted_rt). Loads asked
 * for before it are dropped (the load generation moves on, as at a
 * restore), so the newest choice wins; a model or cabinet chosen after it
 * cancels a core still waiting to be installed. Thread: audio (no
 * allocation, no logging). */
static void select_capture_rt(Rnnfx *self, int program)
{
    const float v = self->capture_port ? *self->capture_port : NAN;
    if (isfinite(v) && v != self->capture_port_seen) {
        self->capture_port_seen = v; /* the port moved: it takes over from a program */
        self->pc_capture = 0;
    }
    if (program > 0) self->pc_capture = program;
    int k;
    if (self->pc_capture > 0) k = self->pc_capture;
    else if (isfinite(v)) k = (int)lrintf(clampf(v, 0.0f, (float)RNNFX_N_CAPTURES));
    else return; /* no port, or garbage from the host: nothing changes */
    /* a program sent again recalls its capture (a foot controller's patch
     * button), also after a file was loaded; the port acts on changes */
    if (k == self->capture_applied && program == 0) return;
    RnnfxChainCore *core = k > 0 ? self->captures[k - 1] : NULL;
    /* "Keep current", a capture that failed to load, or the value the port
     * has after a restore are only taken as acted on */
    const int act = core && !(self->capture_applied == CAPTURE_ADOPT && self->pc_capture == 0);
    settings_begin(self);
    if (act) {
        copy_path(self->model_path, self->capture_model[k - 1]);
        copy_path(self->ir_path, self->capture_ir[k - 1]);
        self->model_is_default = k == 1;
        self->model_missing = 0;
    }
    self->capture_applied = k;
    self->capture_saved = self->pc_capture ? CAPTURE_ADOPT : k;
    settings_end(self);
    if (!act) return;
    self->ir_frames = rnnfx_chain_core_ir_frames(core);
    self->load_gen++;
    self->model_req = self->ir_req = 0;
    self->send_refused = 0.0;
    self->notify_pending = 1;
    self->capture_wanted = k;
}

/* Thread: audio. */
static void apply_deferred_rt(Rnnfx *self); /* Worker section, below */

static void run_cycle(Rnnfx *self, uint32_t n)
{
    const Uris *u = &self->uris;
    apply_deferred_rt(self);

    /* prepare the notify port (the host sets its capacity in atom.size) */
    int can_notify = 0;
    LV2_Atom_Forge_Frame seq;
    if (self->notify) {
        uint32_t cap = self->notify->atom.size;
        lv2_atom_forge_set_buffer(&self->forge, (uint8_t *)self->notify, cap);
        can_notify = lv2_atom_forge_sequence_head(&self->forge, &seq, 0) != 0;
    }

    /* cores the chain let go of before this cycle (activate may retire a
     * capture's core, which must be free to be chosen again at once) */
    drain_retired_rt(self);
    /* the selector first (with the cycle's last Program Change, if any):
     * a model file chosen in the same cycle wins */
    int program = 0;
    if (self->control) {
        LV2_ATOM_SEQUENCE_FOREACH (self->control, ev) {
            const uint8_t *msg = (const uint8_t *)(ev + 1);
            if (ev->body.type == u->midi_Event && ev->body.size >= 2 && (msg[0] & 0xF0) == 0xC0 &&
                msg[1] < RNNFX_N_CAPTURES)
                program = msg[1] + 1;
        }
    }
    select_capture_rt(self, program);
    if (self->control) {
        LV2_ATOM_SEQUENCE_FOREACH (self->control, ev) {
            if (ev->body.type == u->midi_Event) {
                const uint8_t *msg = (const uint8_t *)(ev + 1);
                if (ev->body.size >= 3 && (msg[0] & 0xF0) == 0xB0) handle_cc(self, msg[1], msg[2]);
            } else if ((ev->body.type == u->atom_Object || ev->body.type == u->atom_Blank ||
                        ev->body.type == u->atom_Resource) &&
                       ev->body.size >= sizeof(LV2_Atom_Object_Body)) {
                /* atom:Blank and atom:Resource are the older names of
                 * an object: hosts built on older LV2 send them */
                handle_object(self, (const LV2_Atom_Object *)&ev->body);
            }
        }
    }
    install_wanted_rt(self);
    send_request_rt(self, n);

    RnnfxChainControls c;
    read_controls(self, &c, 1);
    /* nothing played since the chain was prepared for this cycle, and the
     * host has moved a control since: the chain starts at these values
     * instead (a reset makes them snap, as they did before preparing),
     * once: they are the prepared ones from here */
    if (self->fresh && self->prepared && !controls_equal(&c, &self->prepared_ctl)) {
        rnnfx_chain_reset(self->chain);
        self->prepared_ctl = c;
    }
    rnnfx_chain_set_controls(self->chain, &c);

    if (self->in[0] && self->out[0] && (self->channels == 1 || (self->in[1] && self->out[1]))) {
        rnnfx_chain_process_multi(self->chain, self->in, self->out, n);
        if (n > 0) self->fresh = 0;
    } else {
        for (int ch = 0; ch < self->channels; ch++)
            if (self->out[ch]) memset(self->out[ch], 0, n * sizeof(float));
    }
    drain_retired_rt(self);
    retry_parked_rt(self);

    float in_peak = 0.0f, out_peak = 0.0f;
    rnnfx_chain_take_peaks(self->chain, &in_peak, &out_peak);
    if (self->latency_port) *self->latency_port = (float)rnnfx_chain_latency(self->chain);
    if (self->in_peak_port)
        *self->in_peak_port = in_peak > 3.2e-5f ? 20.0f * log10f(in_peak) : RNNFX_PEAK_FLOOR_DB;
    if (self->out_peak_port)
        *self->out_peak_port = out_peak > 3.2e-5f ? 20.0f * log10f(out_peak) : RNNFX_PEAK_FLOOR_DB;

    /* a pending model became current after a crossfade: describe it */
    if (rnnfx_chain_model(self->chain) != self->notified_model) self->notify_pending = 1;
    if (can_notify) {
        if (self->notify_pending) {
            /* A full buffer can stop notify_model inside an object: drop the
             * partial event (and its open frame, which would otherwise trip
             * the forge's assertion at the pop below); the next run retries. */
            LV2_Atom_Forge_Frame *top = self->forge.stack;
            const uint32_t offset = self->forge.offset, seq_size = self->notify->atom.size;
            if (notify_model(self)) {
                self->notify_pending = 0;
                self->notified_model = rnnfx_chain_model(self->chain);
            } else {
                self->forge.stack = top;
                self->forge.offset = offset;
                self->notify->atom.size = seq_size;
            }
        }
        lv2_atom_forge_pop(&self->forge, &seq);
    } else if (self->notify) {
        /* no room even for an empty sequence: leave a valid empty one */
        self->notify->atom.size = sizeof(LV2_Atom_Sequence_Body);
    }
}

/* A cycle while a restore holds the plugin (run_guard.h): silence out, an
 * empty notify sequence, meters at their floor; the cycle after it plays
 * the restored state. Thread: audio. */
static void run_held(Rnnfx *self, uint32_t n)
{
    for (int ch = 0; ch < self->channels; ch++)
        if (self->out[ch]) memset(self->out[ch], 0, n * sizeof(float));
    if (self->notify && self->notify->atom.size >= sizeof(LV2_Atom_Sequence)) {
        self->notify->atom.type = self->forge.Sequence;
        self->notify->atom.size = sizeof(LV2_Atom_Sequence_Body);
        self->notify->body.unit = 0;
        self->notify->body.pad = 0;
    }
    if (self->in_peak_port) *self->in_peak_port = RNNFX_PEAK_FLOOR_DB;
    if (self->out_peak_port) *self->out_peak_port = RNNFX_PEAK_FLOOR_DB;
}

/* Thread: audio. */
static void run(LV2_Handle h, uint32_t n)
{
    Rnnfx *self = h;
    if (!rnnfx_guard_try_run(&self->guard)) {
        run_held(self, n);
        return;
    }
    run_cycle(self, n);
    rnnfx_guard_leave(&self->guard);
}

/* ---- Worker ----------------------------------------------------------------------- */

/* Answers a load with "nothing built" (the host then hears of the
 * settings in use again). Thread: worker. */
static void respond_failed(Rnnfx *self, LV2_Worker_Respond_Function respond,
                           LV2_Worker_Respond_Handle handle, uint32_t gen)
{
    MsgCore msg = {MSG_FAILED, gen, 0, 0, 0, NULL, NULL};
    if (respond(handle, sizeof msg, &msg) != LV2_WORKER_SUCCESS)
        lv2_log_warning(&self->logger, "rnnfx: the host's worker queue is full; a failed load "
                                       "could not be reported\n");
}

/* The built-in capture with cabinet `ir`, playing in place of a saved
 * model whose file was missing at restore (path: the setting, kept).
 * NULL if even that fails (logged). Thread: worker. */
static RnnfxChainCore *build_missing_stand_in(Rnnfx *self, const char *path, const RnnfxIr *ir)
{
    char def_path[RNNFX_PATH_MAX];
    default_model_path(self, def_path, sizeof def_path);
    RnnfxChainCore *core = NULL;
    RnnfxError err = {{0}};
    lv2_log_warning(&self->logger,
                    "rnnfx: the saved model %s is still missing; the built-in capture plays the "
                    "cabinet in its place (the setting is kept)\n",
                    path);
    if (build_core(self, def_path, ir, 0, &core, &err) != RNNFX_OK) {
        lv2_log_error(&self->logger, "rnnfx: cannot load the built-in capture %s: %s\n", def_path,
                      err.msg);
        return NULL;
    }
    return core;
}

/* Builds a core from a load request (see MsgLoad) and answers with it.
 *
 * The settings the request does not change are taken from what the
 * previous load of the same generation resolved to (so two loads in flight
 * build on each other), else from the request's copy of the settings in
 * use. A new model or cabinet that fails to load keeps the previous one
 * (error logged); nothing is built (MSG_FAILED) unless a new choice loaded,
 * so a bad file leaves the sound as it is. A cabinet that was kept from a
 * saved session although its file is missing stays the setting, and the
 * core runs without a cabinet (warning logged). Thread: worker. */
static void work_load(Rnnfx *self, LV2_Worker_Respond_Function respond,
                      LV2_Worker_Respond_Handle handle, const MsgLoad *req, const char *p[])
{
    const int model_new = (req->flags & LOAD_MODEL_NEW) != 0;
    const int ir_new = (req->flags & LOAD_IR_NEW) != 0;
    WorkerMemory *mem = &self->memory;
    const int mem_ok = mem->valid && mem->gen == req->gen;
    const char *base_model = mem_ok ? mem->model : p[PATH_CUR_MODEL];
    const char *base_ir = mem_ok ? mem->ir : p[PATH_CUR_IR];
    const int base_default = mem_ok ? mem->model_default : (req->flags & LOAD_CUR_DEFAULT) != 0;
    const int base_missing = mem_ok ? mem->model_missing : (req->flags & LOAD_CUR_MISSING) != 0;
    int missing = 0; /* the answer: the setting is a missing saved model */
    RnnfxError err = {{0}};

    /* the cabinet first: a core is built for a model with its cabinet */
    const char *ir_setting = ir_new ? p[PATH_IR] : base_ir;
    RnnfxIr *ir = NULL;
    int ir_ok = 0;
    if (!ir_setting[0]) {
        ir_ok = 1; /* no cabinet */
    } else if (load_ir(self, ir_setting, &ir, &err) == RNNFX_OK) {
        ir_ok = 1;
    } else if (ir_new) {
        lv2_log_error(&self->logger,
                      "rnnfx: cannot load cabinet IR %s: %s (keeping the current cabinet)\n",
                      ir_setting, without_path(err.msg, ir_setting));
        if (!model_new) { /* nothing else changes: the sound stays */
            respond_failed(self, respond, handle, req->gen);
            return;
        }
        ir_setting = base_ir;
        if (base_ir[0] && load_ir(self, base_ir, &ir, &err) != RNNFX_OK) {
            lv2_log_warning(&self->logger,
                            "rnnfx: cabinet IR %s could not be loaded (%s); playing without a "
                            "cabinet (the setting is kept)\n",
                            base_ir, without_path(err.msg, base_ir));
            ir = NULL;
        }
    } else {
        lv2_log_warning(&self->logger,
                        "rnnfx: cabinet IR %s could not be loaded (%s); playing without a cabinet "
                        "(the setting is kept)\n",
                        ir_setting, without_path(err.msg, ir_setting));
        ir = NULL;
    }

    const char *model_setting = model_new ? p[PATH_MODEL] : base_model;
    int model_default = model_new ? 0 : base_default;
    RnnfxChainCore *core = NULL;
    int model_ok = 0;
    if (!model_setting[0]) {
        /* the built-in capture failed at instantiate and nothing replaced it */
        lv2_log_error(&self->logger, "rnnfx: no model is loaded; load one to hear the cabinet\n");
    } else if (build_core(self, model_setting, ir, model_new, &core, &err) == RNNFX_OK) {
        model_ok = 1;
    } else if (model_new) {
        lv2_log_error(&self->logger, "rnnfx: cannot load model %s: %s (keeping the current model)\n",
                      model_setting, without_path(err.msg, model_setting));
        if (!(ir_new && ir_ok)) { /* nothing else changes: the sound stays */
            rnnfx_ir_free(ir);
            respond_failed(self, respond, handle, req->gen);
            return;
        }
        model_setting = base_model;
        model_default = base_default;
        if (base_missing) {
            missing = 1;
            core = build_missing_stand_in(self, base_model, ir);
        } else if (base_model[0] && build_core(self, base_model, ir, 0, &core, &err) != RNNFX_OK) {
            lv2_log_error(&self->logger, "rnnfx: cannot load model %s: %s\n", base_model,
                          without_path(err.msg, base_model));
            core = NULL;
        }
    } else if (base_missing) {
        missing = 1;
        core = build_missing_stand_in(self, model_setting, ir);
    } else {
        lv2_log_error(&self->logger,
                      "rnnfx: cannot load model %s again to apply the cabinet: %s (keeping the "
                      "current sound)\n",
                      model_setting, without_path(err.msg, model_setting));
    }
    rnnfx_ir_free(ir); /* the core holds its own copy */
    if (!core || !((model_new && model_ok) || (ir_new && ir_ok))) {
        rnnfx_chain_core_free(core);
        respond_failed(self, respond, handle, req->gen);
        return;
    }
    Parked *cell = calloc(1, sizeof *cell);
    if (!cell) {
        lv2_log_error(&self->logger, "rnnfx: out of memory loading %s (keeping the current sound)\n",
                      model_setting);
        rnnfx_chain_core_free(core);
        respond_failed(self, respond, handle, req->gen);
        return;
    }
    struct {
        MsgCore head;
        char paths[2 * RNNFX_PATH_MAX];
    } resp;
    resp.head.type = MSG_LOADED;
    resp.head.gen = req->gen;
    resp.head.flags = (model_default ? LOAD_MODEL_DEFAULT : 0u) | (missing ? LOAD_CUR_MISSING : 0u);
    resp.head.core = core;
    resp.head.cell = cell;
    resp.head.model_len = put_path(resp.paths, model_setting);
    resp.head.ir_len = put_path(resp.paths + resp.head.model_len, ir_setting);
    const uint32_t size = (uint32_t)sizeof resp.head + resp.head.model_len + resp.head.ir_len;
    if (respond(handle, size, &resp) != LV2_WORKER_SUCCESS) {
        /* LV2 gives one answer for a queue that is full and one too small
         * for this message (jalv's holds 4 KB; long paths can pass that) */
        lv2_log_warning(&self->logger,
                        "rnnfx: the host's worker queue did not take the %u-byte answer (full, "
                        "or smaller than that); model %s with cabinet '%s' dropped\n",
                        size, model_setting, ir_setting);
        rnnfx_chain_core_free(core);
        free(cell);
        /* the short failure answer may still fit, so that the host is told
         * what still plays (its chooser kept the dropped file) */
        respond_failed(self, respond, handle, req->gen);
        return; /* the memory stays as it was: nothing changed */
    }
    /* what the next load of this generation builds on (the paths were
     * copied into resp above, so they may alias the memory) */
    mem->valid = 1;
    mem->gen = req->gen;
    mem->model_default = model_default;
    mem->model_missing = missing;
    copy_path(mem->model, resp.paths);
    copy_path(mem->ir, resp.paths + resp.head.model_len);
}

/* Thread: worker (loads, allocates, frees, logs). */
static LV2_Worker_Status work(LV2_Handle h, LV2_Worker_Respond_Function respond,
                              LV2_Worker_Respond_Handle handle, uint32_t size, const void *data)
{
    Rnnfx *self = h;
    if (size < sizeof(uint32_t)) return LV2_WORKER_ERR_UNKNOWN;
    uint32_t type;
    memcpy(&type, data, sizeof type);
    if (type == MSG_FREE && size >= sizeof(MsgCore)) {
        MsgCore msg;
        memcpy(&msg, data, sizeof msg);
        rnnfx_chain_core_free(msg.core);
        free(msg.cell);
        return LV2_WORKER_SUCCESS;
    }
    if (type != MSG_LOAD || size < sizeof(MsgLoad)) return LV2_WORKER_ERR_UNKNOWN;
    MsgLoad req;
    memcpy(&req, data, sizeof req);

    /* four NUL-terminated paths, each within RNNFX_PATH_MAX and the message */
    char *buf = malloc((size_t)N_LOAD_PATHS * RNNFX_PATH_MAX);
    if (!buf) return LV2_WORKER_ERR_NO_SPACE;
    const char *p[N_LOAD_PATHS];
    const char *src = (const char *)data + sizeof req;
    size_t left = size - sizeof req;
    for (int i = 0; i < N_LOAD_PATHS; i++) {
        size_t len = req.len[i];
        if (len == 0 || len > RNNFX_PATH_MAX || len > left || src[len - 1] != '\0') {
            free(buf);
            return LV2_WORKER_ERR_UNKNOWN;
        }
        char *dst = buf + (size_t)i * RNNFX_PATH_MAX;
        memcpy(dst, src, len);
        p[i] = dst;
        src += len;
        left -= len;
    }
    work_load(self, respond, handle, &req, p);
    free(buf);
    return LV2_WORKER_SUCCESS;
}

/* Installs the core the Worker built, and the settings it was built from
 * become the ones in use. Thread: audio. */
static LV2_Worker_Status work_response_apply(Rnnfx *self, uint32_t size, const void *data)
{
    if (size < sizeof(MsgCore)) return LV2_WORKER_ERR_UNKNOWN;
    MsgCore head;
    memcpy(&head, data, sizeof head);
    if (head.type != MSG_LOADED && head.type != MSG_FAILED) return LV2_WORKER_ERR_UNKNOWN;
    if (self->in_flight) self->in_flight--; /* the next waiting choice may go */
    spare_push(self, head.cell); /* the new core's cell, before anything is disposed */
    if (head.gen != self->load_gen) {
        /* requested before a state restore: the restored state stays */
        dispose_core_rt(self, head.core);
        return LV2_WORKER_SUCCESS;
    }
    self->notify_pending = 1; /* also after a failure: the host shows what plays */
    if (head.type == MSG_FAILED || !head.core) return LV2_WORKER_SUCCESS;
    const char *paths = (const char *)data + sizeof(MsgCore);
    const size_t tail = size - sizeof(MsgCore);
    const size_t ir_frames = rnnfx_chain_core_ir_frames(head.core);
    RnnfxChainCore *displaced = NULL;
    rnnfx_chain_swap(self->chain, head.core, &displaced);
    dispose_core_rt(self, displaced);
    drain_retired_rt(self);
    if (displaced == head.core || head.model_len == 0 || head.ir_len == 0 ||
        (size_t)head.model_len + head.ir_len > tail || paths[head.model_len - 1] != '\0' ||
        paths[head.model_len + head.ir_len - 1] != '\0')
        return LV2_WORKER_SUCCESS; /* not installed (or a garbled message) */
    self->ir_frames = ir_frames;
    self->capture_wanted = 0; /* the file chosen after it wins */
    settings_begin(self);
    copy_path(self->model_path, paths);
    self->model_is_default = (head.flags & LOAD_MODEL_DEFAULT) != 0;
    self->model_missing = (head.flags & LOAD_CUR_MISSING) != 0;
    copy_path(self->ir_path, paths + head.model_len);
    settings_end(self);
    return LV2_WORKER_SUCCESS;
}

/* Answers kept while a restore held the plugin, in the order they came.
 * Thread: audio (run, holding the guard). */
static void apply_deferred_rt(Rnnfx *self)
{
    for (int i = 0; i < 2; i++)
        if (self->deferred[i].size) {
            work_response_apply(self, self->deferred[i].size, &self->deferred[i].msg);
            self->deferred[i].size = 0;
        }
}

/* Thread: audio. Inside run() (a host that answers at once) the guard is
 * already held; between cycles it is taken; while a restore holds it the
 * answer waits for the next run() (run_guard.h). */
static LV2_Worker_Status work_response(LV2_Handle h, uint32_t size, const void *data)
{
    Rnnfx *self = h;
    if (atomic_load_explicit(&self->guard, memory_order_acquire) == RNNFX_GUARD_RUN)
        return work_response_apply(self, size, data);
    if (rnnfx_guard_try_run(&self->guard)) {
        const LV2_Worker_Status st = work_response_apply(self, size, data);
        rnnfx_guard_leave(&self->guard);
        return st;
    }
    for (int i = 0; i < 2; i++)
        if (!self->deferred[i].size && size <= sizeof self->deferred[i].msg) {
            memcpy(&self->deferred[i].msg, data, size);
            self->deferred[i].size = size;
            return LV2_WORKER_SUCCESS;
        }
    return work_response_apply(self, size, data); /* cannot happen: see deferred */
}

/* ---- State ------------------------------------------------------------------------ */

/* Stores a path under key, made portable with mapPath. Thread:
 * instantiation. */
static LV2_State_Status store_path(Rnnfx *self, LV2_State_Store_Function store,
                                   LV2_State_Handle handle, LV2_URID key, const char *path,
                                   const LV2_Feature *const *features)
{
    const LV2_State_Map_Path *map_path = rnnfx_lv2_feature(features, LV2_STATE__mapPath);
    const LV2_State_Free_Path *free_path = rnnfx_lv2_feature(features, LV2_STATE__freePath);
    char *apath = map_path ? map_path->abstract_path(map_path->handle, path) : NULL;
    const char *value = apath ? apath : path;
    LV2_State_Status st = store(handle, key, value, strlen(value) + 1, self->uris.atom_Path,
                                LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    if (apath) {
        if (free_path) free_path->free_path(free_path->handle, apath);
        else free(apath);
    }
    return st;
}

/* Thread: save's own (may run during run: settings_copy). */
static LV2_State_Status save(LV2_Handle h, LV2_State_Store_Function store,
                             LV2_State_Handle handle, uint32_t flags,
                             const LV2_Feature *const *features)
{
    Rnnfx *self = h;
    (void)flags;
    /* without the host's urid:map the keys would be numbers it cannot read */
    if (self->map == &self->own.map) return LV2_STATE_ERR_NO_FEATURE;
    LV2_State_Status st = LV2_STATE_SUCCESS;
    SavedSettings *set = malloc(sizeof *set);
    if (!set) return LV2_STATE_ERR_UNKNOWN;
    settings_copy(self, set);
    /* The built-in capture is the state when no model is stored, so
     * sessions do not depend on where the bundle is installed. */
    if (!set->model_is_default && set->model[0])
        st = store_path(self, store, handle, self->uris.model, set->model, features);
    /* no key: no cabinet (as in sessions saved before the cabinet existed) */
    if (st == LV2_STATE_SUCCESS && set->ir[0])
        st = store_path(self, store, handle, self->uris.ir, set->ir, features);
    /* no key: the selector was never acted on (0), or not since a restore
     * without one (the next restore adopts the port's value again) */
    const int32_t capture = set->capture;
    free(set);
    if (st == LV2_STATE_SUCCESS && capture > 0)
        st = store(handle, self->uris.capture, &capture, sizeof capture, self->uris.atom_Int,
                   LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    return st;
}

/* Reads a path stored under key into out (RNNFX_PATH_MAX bytes; "" when
 * absent or unusable), made absolute with mapPath. Thread: instantiation. */
static void retrieve_path(Rnnfx *self, LV2_State_Retrieve_Function retrieve,
                          LV2_State_Handle handle, LV2_URID key, const char *what,
                          const LV2_Feature *const *features, char *out)
{
    const LV2_State_Map_Path *map_path = rnnfx_lv2_feature(features, LV2_STATE__mapPath);
    const LV2_State_Free_Path *free_path = rnnfx_lv2_feature(features, LV2_STATE__freePath);
    size_t size = 0;
    uint32_t type = 0, vflags = 0;
    const char *value = retrieve(handle, key, &size, &type, &vflags);
    out[0] = '\0';
    if (!value || size == 0 || (type != self->uris.atom_Path && type != self->uris.atom_String))
        return;
    /* The stored value need not be NUL-terminated within `size`, and a path
     * cut short would name another file: copy it bounded, refuse what does
     * not fit. */
    char stored[RNNFX_PATH_MAX];
    size_t slen = strnlen(value, size);
    if (slen >= sizeof stored) {
        lv2_log_warning(&self->logger, "rnnfx: the saved %s path is too long (%zu bytes)\n", what,
                        slen);
        return;
    }
    if (slen == 0) return;
    memcpy(stored, value, slen);
    stored[slen] = '\0';
    char *apath = map_path ? map_path->absolute_path(map_path->handle, stored) : NULL;
    const char *abs = apath ? apath : stored;
    if (strlen(abs) < RNNFX_PATH_MAX) snprintf(out, RNNFX_PATH_MAX, "%s", abs);
    else lv2_log_warning(&self->logger, "rnnfx: the saved %s path is too long\n", what);
    if (apath) {
        if (free_path) free_path->free_path(free_path->handle, apath);
        else free(apath);
    }
}

/* Thread: instantiation; never concurrent with run (we do not declare
 * state:threadSafeRestore), so the core is swapped in directly. */
static LV2_State_Status restore_exclusive(Rnnfx *self, LV2_State_Retrieve_Function retrieve,
                                          LV2_State_Handle handle,
                                          const LV2_Feature *const *features)
{
    free_garbage(self);
    /* loads requested before this restore must not replace what it
     * restores, nor build on what they resolved to */
    self->load_gen++;
    self->model_req = self->ir_req = 0;
    self->send_refused = 0.0;
    const int was_waiting = self->capture_wanted != 0;
    self->capture_wanted = 0;
    self->pc_capture = 0; /* the restored state is newer than a program change */

    /* The selector value this state was saved with has been acted on; the
     * host restores the port to it. Without one (sessions and presets of
     * an older version, presets written by hand) the next run takes the
     * port's value as acted on, whatever it is: the state's model plays.
     * A preset that also sets the port (the bundled ones) names the same
     * files in its state. */
    size_t size = 0;
    uint32_t type = 0, vflags = 0;
    const void *cap = retrieve(handle, self->uris.capture, &size, &type, &vflags);
    int32_t capture = CAPTURE_ADOPT;
    if (cap && type == self->uris.atom_Int && size == sizeof capture) memcpy(&capture, cap, size);
    self->capture_applied = capture >= 0 && capture <= RNNFX_N_CAPTURES ? capture : CAPTURE_ADOPT;
    self->capture_saved = self->capture_applied;

    char wanted[RNNFX_PATH_MAX], wanted_ir[RNNFX_PATH_MAX];
    retrieve_path(self, retrieve, handle, self->uris.model, "model", features, wanted);
    retrieve_path(self, retrieve, handle, self->uris.ir, "cabinet IR", features, wanted_ir);

    RnnfxError err = {{0}};
    RnnfxIr *ir = NULL;
    if (wanted_ir[0] && load_ir(self, wanted_ir, &ir, &err) != RNNFX_OK) {
        lv2_log_warning(&self->logger,
                        "rnnfx: the saved cabinet IR %s could not be loaded (%s); playing without "
                        "a cabinet (the setting is kept and saved again)\n",
                        wanted_ir, without_path(err.msg, wanted_ir));
        ir = NULL;
    }
    /* the cabinet setting is restored even when its file is missing */
    copy_path(self->ir_path, wanted_ir);

    RnnfxChainCore *core = NULL;
    char def_path[RNNFX_PATH_MAX];
    default_model_path(self, def_path, sizeof def_path);
    int done = 0;
    self->model_missing = 0;
    if (wanted[0]) {
        if (build_core(self, wanted, ir, 1, &core, &err) == RNNFX_OK &&
            install_core_now(self, core, &err) == RNNFX_OK) {
            snprintf(self->model_path, sizeof self->model_path, "%s", wanted);
            /* the default preset names the built-in file: keep sessions free
             * of the bundle's location */
            self->model_is_default = same_file(wanted, def_path);
            done = 1;
        } else {
            lv2_log_warning(&self->logger,
                            "rnnfx: the saved model %s could not be loaded (%s); playing the "
                            "built-in default capture instead (the setting is kept and saved "
                            "again)\n",
                            wanted, without_path(err.msg, wanted));
        }
    }
    /* The built-in capture, unless it already plays as wanted (no cabinet
     * before and none now). A saved model that could not be loaded stays
     * the setting, as a missing cabinet does: the session is saved with it
     * again, and plays it once its file is back (a disk not mounted yet, a
     * project copied without its models); the built-in capture only fills
     * in meanwhile. */
    const int missing = wanted[0] && !done;
    if (!done && !(!missing && !was_waiting && self->model_is_default && !ir &&
                   self->ir_frames == 0)) {
        if (build_core(self, def_path, ir, 1, &core, &err) == RNNFX_OK &&
            install_core_now(self, core, &err) == RNNFX_OK) {
            snprintf(self->model_path, sizeof self->model_path, "%s", missing ? wanted : def_path);
            self->model_is_default = !missing;
            self->model_missing = missing;
        } else {
            lv2_log_error(&self->logger, "rnnfx: cannot load the built-in capture %s: %s\n",
                          def_path, err.msg);
        }
    }
    rnnfx_ir_free(ir);
    /* nothing played since activate: the restored model plays from the
     * first sample instead of crossfading from the built-in capture */
    if (self->fresh) {
        rnnfx_chain_reset(self->chain);
        free_retired_now(self);
        prepare_first_cycle(self);
    }
    self->notify_pending = 1;
    return LV2_STATE_SUCCESS;
}

/* Thread: instantiation by the LV2 rules; a host that calls it while
 * run() plays (Ardour's preset loads) is kept apart by run_guard.h. */
static LV2_State_Status restore(LV2_Handle h, LV2_State_Retrieve_Function retrieve,
                                LV2_State_Handle handle, uint32_t flags,
                                const LV2_Feature *const *features)
{
    Rnnfx *self = h;
    (void)flags;
    if (self->map == &self->own.map) return LV2_STATE_ERR_NO_FEATURE;
    rnnfx_guard_restore_enter(&self->guard);
    const LV2_State_Status st = restore_exclusive(self, retrieve, handle, features);
    rnnfx_guard_leave(&self->guard);
    return st;
}

static const void *extension_data(const char *uri)
{
    static const LV2_State_Interface state = {save, restore};
    static const LV2_Worker_Interface worker = {work, work_response, NULL};
    if (!strcmp(uri, LV2_STATE__interface)) return &state;
    if (!strcmp(uri, LV2_WORKER__interface)) return &worker;
    return NULL;
}

static const LV2_Descriptor descriptors[] = {
    {RNNFX_URI_MONO, instantiate_mono, connect_port, activate, run, deactivate, cleanup,
     extension_data},
    {RNNFX_URI_STEREO, instantiate_stereo, connect_port, activate, run, deactivate, cleanup,
     extension_data},
};

/* The MIDI plugin (plugin/midi_plugin.c) is listed after the audio ones.
 * Weak, so the audio plugins still link if that file is absent. */
const LV2_Descriptor *rnnfx_midi_descriptor(void) __attribute__((weak));

/* The only exported symbol. Thread: discovery (any). */
LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index)
{
    const uint32_t n = sizeof descriptors / sizeof descriptors[0];
    if (index < n) return &descriptors[index];
    return index == n && rnnfx_midi_descriptor ? rnnfx_midi_descriptor() : NULL;
}

/*
 * midi_plugin.c — the rnnfx MIDI plugin: a MIDI-frame model that continues
 * or accompanies what the player plays, in time with the host.
 *
 * MIDI in, MIDI out. The plugin follows the host's transport (time:Position:
 * bar, barBeat, beatsPerBar, beatUnit, beatsPerMinute, speed) and cuts time
 * on a grid of quarter, eighth or sixteenth notes. At every grid line it
 * feeds the model the frame of the step that just ended — every key the
 * player held or struck in it, plus the model's own sounding notes — with
 * the beat features of the new step, samples the next frame from the
 * model's probabilities (temperature, density, polyphony cap, a PCG32
 * generator kept in the plugin state) and plays it:
 *   - accompany: the model's notes sound alongside the player's, on their
 *     own channel (keys the player holds are left to the player);
 *   - continue: the model listens while the player plays and takes over
 *     when the player has been silent for a beat, feeding on its own output,
 *     until the player plays again.
 * A key sampled in consecutive steps is held (the frames' tie convention),
 * so every note the plugin starts it also ends: on the grid, at a transport
 * stop, a relocation, deactivate, or when the player takes the key.
 * The player's own events pass through unchanged.
 *
 * Without any time:Position from the host it runs its own clock at 120 bpm
 * in 4/4, so it also works in hosts without transport.
 *
 * Model files are loaded in the Worker (patch:Set of rnnfx#midiModel) and
 * installed on the audio thread by a pointer swap; the old model goes back
 * to the Worker to be freed. Everything run() needs (instance memory, the
 * frame buffers) is allocated with the model, so run() never allocates,
 * locks, prints or touches files.
 *
 * Threads (LV2 classes): instantiate/activate/deactivate/cleanup/restore
 * instantiation; run/work_response audio; work worker. save may run while
 * run() plays (LV2 puts it in no class that excludes the audio one), so it
 * reads only the snapshot the audio thread publishes under a sequence lock
 * (MidiSaved), never the core, which the Worker may be freeing.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/log/logger.h>
#include <lv2/midi/midi.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/time/time.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "instance.h"
#include "lv2_features.h"
#include "midi_frames.h"
#include "midi_gen.h"
#include "midi_ports.h"
#include "model.h"
#include "model_file.h"
#include "run_guard.h"
#include "seqlock.h"

#define MIDI_PATH_MAX 2048
/* Parked cores handed back to the Worker per run() (bounded work). */
#define MIDI_PARKED_RETRY_PER_RUN 4

/* Everything one loaded model needs on the audio thread, allocated by the
 * Worker (or at instantiate/restore) in one go. */
typedef struct MidiCore {
    RnnfxModel *model;
    RnnfxInstance *inst; /* made by rnnfx_instance_new */
    RnnfxMidiInfo info;
    float *row;   /* [n_keys + n_beat_features] model input */
    float *probs; /* [n_keys] */
    float *pick;  /* [n_keys] sampled frame */
    char path[MIDI_PATH_MAX];
    /* link in the parked list: a core waiting to be freed needs no other
     * memory, so the audio thread can always park one */
    struct MidiCore *next_parked;
} MidiCore;

typedef struct {
    LV2_URID atom_Path, atom_String, atom_Float, atom_Double, atom_Int, atom_Long, atom_Object,
        atom_Blank, atom_Resource, atom_URID, midi_Event, time_Position, time_bar, time_barBeat,
        time_beatsPerBar, time_beatUnit, time_beatsPerMinute, time_speed, patch_Set, patch_Get,
        patch_property, patch_value, model, rng_state, rng_inc, rng_seed;
} MidiUris;

/* MSG_FAILED: a load that did not happen, so that the audio thread tells
 * the host the model still playing (its file chooser showed the refused
 * file as if it played) */
enum { MSG_LOAD = 1, MSG_FREE, MSG_LOADED, MSG_FAILED };

/* Header of a load request; len bytes of path follow. gen is the load
 * generation at request time (see Midi.load_gen). */
typedef struct {
    uint32_t type;
    uint32_t len;
    uint32_t gen;
} MsgLoadHead;

/* A core to free (MSG_FREE), or a loaded one (MSG_LOADED, with the
 * generation of its request). */
typedef struct {
    uint32_t type;
    uint32_t len;
    uint32_t gen;
    MidiCore *core;
} MsgCore;

/* What save stores, as the audio thread last published it. */
typedef struct {
    char path[MIDI_PATH_MAX]; /* the model's file ("" without a model) */
    int is_default;           /* the built-in model: no path is stored */
    uint64_t rng_state, rng_inc;
    float seed;
} MidiSaved;

typedef struct {
    LV2_URID_Map *map;
    LV2_Worker_Schedule *schedule;
    LV2_Log_Logger logger;
    RnnfxLog log_guard; /* between logger and the host's log (lv2_features.h) */
    MidiUris u;
    LV2_Atom_Forge forge;
    double rate;
    char bundle_path[MIDI_PATH_MAX];

    const LV2_Atom_Sequence *in;
    LV2_Atom_Sequence *out;
    const float *ctl[RNNFX_MIDI_N_PORTS];

    MidiCore *core;
    int model_is_default;
    /* A saved model whose file could not be loaded at restore: it stays
     * the setting (published and saved again) while the built-in model
     * plays, until another model is chosen ("" none). */
    char missing_model[MIDI_PATH_MAX];
    int notify_pending;
    /* Cores the Worker could not take, freed at the next non-real-time
     * callback (activate, deactivate, restore, cleanup) or handed to the
     * Worker by a later run(): an intrusive list, so no cap and no leak. */
    MidiCore *parked;
    /* Load generation: restore bumps it, each Worker load carries the value
     * it was requested under, and a response from an older generation is
     * discarded, so a load requested before a state restore cannot replace
     * the restored model. Written by restore, read by run/work_response
     * (never concurrent). */
    uint32_t load_gen;
    /* Last finite value of each control port (NAN: none yet, the port's
     * default applies): NaN or infinity from the host changes nothing. */
    float last_valid[RNNFX_MIDI_N_PORTS];

    /* transport */
    int have_host_time; /* a time:Position has been seen */
    double speed, bpm, beats_per_bar;
    int beat_unit;
    double pos_q;      /* position in quarter notes at the current sample */
    int64_t next_step; /* index of the next grid line to act on */
    int spq;           /* steps per quarter in use */
    int synced;        /* next_step is valid */

    /* player */
    uint8_t held[16][128]; /* player's keys down, per channel */
    uint8_t step_keys[128]; /* keys sounding or struck in the current step */
    int64_t quiet_steps; /* grid steps since the player's last note-on */

    /* the model's notes */
    uint8_t sounding[128]; /* 1 = model note on */
    uint8_t sound_ch[128]; /* channel it was started on */

    RnnfxRng rng;
    float last_seed; /* NAN: adopt the port value without reseeding */
    /* notes sounding when the host deactivated: their note-offs go out at
     * the next run() (deactivate has no output to write them to) */
    int release_pending;

    MidiSaved saved;
    atomic_uint saved_seq; /* odd while the audio thread writes saved */
    atomic_int guard;      /* run() or restore() under way (run_guard.h) */
    LV2_Atom_Forge_Frame held_seq; /* run_held's output frame */
} Midi;

/* ---- helpers ------------------------------------------------------------------ */

static void map_uris(LV2_URID_Map *m, MidiUris *u)
{
#define MAP(field, uri) u->field = m->map(m->handle, uri)
    MAP(atom_Path, LV2_ATOM__Path);
    MAP(atom_String, LV2_ATOM__String);
    MAP(atom_Float, LV2_ATOM__Float);
    MAP(atom_Double, LV2_ATOM__Double);
    MAP(atom_Int, LV2_ATOM__Int);
    MAP(atom_Long, LV2_ATOM__Long);
    MAP(atom_Object, LV2_ATOM__Object);
    MAP(atom_Blank, LV2_ATOM__Blank);
    MAP(atom_Resource, LV2_ATOM__Resource);
    MAP(atom_URID, LV2_ATOM__URID);
    MAP(midi_Event, LV2_MIDI__MidiEvent);
    MAP(time_Position, LV2_TIME__Position);
    MAP(time_bar, LV2_TIME__bar);
    MAP(time_barBeat, LV2_TIME__barBeat);
    MAP(time_beatsPerBar, LV2_TIME__beatsPerBar);
    MAP(time_beatUnit, LV2_TIME__beatUnit);
    MAP(time_beatsPerMinute, LV2_TIME__beatsPerMinute);
    MAP(time_speed, LV2_TIME__speed);
    MAP(patch_Set, LV2_PATCH__Set);
    MAP(patch_Get, LV2_PATCH__Get);
    MAP(patch_property, LV2_PATCH__property);
    MAP(patch_value, LV2_PATCH__value);
    MAP(model, RNNFX_MIDI_URI_MODEL);
    MAP(rng_state, RNNFX_MIDI_URI_RNG_STATE);
    MAP(rng_inc, RNNFX_MIDI_URI_RNG_INC);
    MAP(rng_seed, RNNFX_MIDI_URI_RNG_SEED);
#undef MAP
}

/* A control's value clamped to [lo, hi]. A NaN or infinite port value is
 * host garbage: the last finite value stays (the default before any).
 * Thread: audio. */
static float ctl(Midi *self, int port, float def, float lo, float hi)
{
    const float *p = self->ctl[port];
    float v = p ? *p : def;
    if (isfinite(v))
        self->last_valid[port] = v;
    else
        v = isnan(self->last_valid[port]) ? def : self->last_valid[port];
    return !(v >= lo) ? lo : (v > hi ? hi : v);
}

/* Remembers every control port's value while it is finite, also for
 * controls that are read only at grid lines: garbage arriving before the
 * next grid line must still give the value the host last set. Thread:
 * audio (start of run). */
static void track_controls(Midi *self)
{
    for (int port = RNNFX_MIDI_PORT_MODE; port < RNNFX_MIDI_N_PORTS; port++)
        if (self->ctl[port] && isfinite(*self->ctl[port]))
            self->last_valid[port] = *self->ctl[port];
}

/* Thread: not audio. */
static void core_free(MidiCore *c)
{
    if (!c)
        return;
    rnnfx_instance_free(c->inst);
    rnnfx_model_free(c->model);
    free(c->row);
    free(c);
}

/* Loads and checks a MIDI-frame model. Thread: not audio. */
static RnnfxStatus core_new(const char *path, MidiCore **out, RnnfxError *err)
{
    *out = NULL;
    MidiCore *c = calloc(1, sizeof *c);
    if (!c)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    RnnfxStatus s = rnnfx_model_load(path, NULL, &c->model, err);
    if (s) {
        free(c);
        return s;
    }
    const RnnfxArch *a = rnnfx_model_arch(c->model);
    c->info = rnnfx_model_meta_const(c->model)->midi;
    if (a->kind != RNNFX_KIND_MIDI_FRAMES || !a->output_sigmoid) {
        core_free(c);
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "%s is not a MIDI-frame model (train one with rnnfx-train --midi)", path);
    }
    if ((s = rnnfx_midi_info_check(&c->info, err)) != RNNFX_OK) {
        core_free(c);
        return s;
    }
    int fs = c->info.n_keys + c->info.n_beat_features;
    c->row = calloc((size_t)fs + 2u * (size_t)c->info.n_keys, sizeof(float));
    c->inst = rnnfx_instance_new(c->model);
    if (!c->row || !c->inst) {
        core_free(c);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    }
    c->probs = c->row + fs;
    c->pick = c->probs + c->info.n_keys;
    snprintf(c->path, sizeof c->path, "%s", path);
    *out = c;
    return RNNFX_OK;
}

static void default_path(const Midi *self, char *buf, size_t n)
{
    size_t bl = strlen(self->bundle_path);
    int keep = (int)(n > 64 ? n - 64 : 0); /* room for the file name */
    snprintf(buf, n, "%.*s%s%s", keep, self->bundle_path,
             (bl && self->bundle_path[bl - 1] == '/') ? "" : "/", RNNFX_MIDI_DEFAULT_MODEL_FILE);
}

/* Hands a core to the Worker to free, or parks it. Thread: audio. */
static void dispose_rt(Midi *self, MidiCore *c)
{
    if (!c)
        return;
    if (self->schedule) {
        MsgCore m = {MSG_FREE, 0, 0, c};
        if (self->schedule->schedule_work(self->schedule->handle, sizeof m, &m) ==
            LV2_WORKER_SUCCESS)
            return;
    }
    c->next_parked = self->parked;
    self->parked = c;
}

/* Offers a few parked cores to the Worker again. Thread: audio. */
static void retry_parked_rt(Midi *self)
{
    for (int i = 0; i < MIDI_PARKED_RETRY_PER_RUN && self->schedule && self->parked; i++) {
        MidiCore *c = self->parked;
        MidiCore *next = c->next_parked;
        MsgCore m = {MSG_FREE, 0, 0, c};
        if (self->schedule->schedule_work(self->schedule->handle, sizeof m, &m) !=
            LV2_WORKER_SUCCESS)
            return;
        self->parked = next;
    }
}

/* Thread: instantiation (never concurrent with run). */
static void free_garbage(Midi *self)
{
    while (self->parked) {
        MidiCore *c = self->parked;
        self->parked = c->next_parked;
        core_free(c);
    }
}

/* ---- MIDI output (audio thread) --------------------------------------------- */

/* Writes one MIDI event, or nothing: when the buffer fills part-way, the
 * partial event (a header whose body is missing, which a host would read
 * past the sequence's end) is taken back. */
static int emit_midi(Midi *self, uint32_t frame, const uint8_t *msg, uint32_t size)
{
    LV2_Atom_Forge *f = &self->forge;
    const uint32_t offset = f->offset, seq_size = self->out->atom.size;
    if (lv2_atom_forge_frame_time(f, frame) && lv2_atom_forge_atom(f, size, self->u.midi_Event) &&
        lv2_atom_forge_write(f, msg, size))
        return 1;
    f->offset = offset;
    self->out->atom.size = seq_size;
    return 0;
}

static int emit3(Midi *self, uint32_t frame, uint8_t a, uint8_t b, uint8_t c)
{
    const uint8_t msg[3] = {a, b, c};
    return emit_midi(self, frame, msg, 3);
}

/* Ends a model note (if the note-off cannot be written the note is still
 * forgotten: a full buffer must not leave the plugin believing it holds a
 * key forever; hosts give plenty of room, this is a last resort). */
static void model_off(Midi *self, uint32_t frame, int key)
{
    if (!self->sounding[key])
        return;
    emit3(self, frame, (uint8_t)(0x80 | self->sound_ch[key]), (uint8_t)key, 64);
    self->sounding[key] = 0;
}

static void all_model_off(Midi *self, uint32_t frame)
{
    for (int k = 0; k < 128; k++)
        model_off(self, frame, k);
}

/* ---- the snapshot save reads ------------------------------------------------------ */

static void saved_begin(Midi *self) { rnnfx_seq_write_begin(&self->saved_seq); }
static void saved_end(Midi *self) { rnnfx_seq_write_end(&self->saved_seq); }

/* The model setting: a missing saved model, else the file that plays. */
static const char *model_setting(const Midi *self)
{
    if (self->missing_model[0]) return self->missing_model;
    return self->core ? self->core->path : "";
}

/* The model's path and kind, after it changed. Thread: audio, or
 * instantiation (the path copy is bounded: no allocation, no wait). */
static void publish_model(Midi *self)
{
    saved_begin(self);
    const char *p = model_setting(self);
    size_t n = strnlen(p, MIDI_PATH_MAX - 1);
    memcpy(self->saved.path, p, n);
    self->saved.path[n] = '\0';
    self->saved.is_default = !self->missing_model[0] && (self->model_is_default || !self->core);
    saved_end(self);
}

/* The generator, at the end of every run(). Thread: audio. */
static void publish_rng(Midi *self)
{
    saved_begin(self);
    self->saved.rng_state = self->rng.state;
    self->saved.rng_inc = self->rng.inc;
    self->saved.seed = isnan(self->last_seed) ? 1.0f : self->last_seed;
    saved_end(self);
}

/* A consistent copy of the snapshot, again if the audio thread wrote it
 * meanwhile. Thread: save. */
static void saved_copy(Midi *self, MidiSaved *out)
{
    unsigned s;
    do {
        s = rnnfx_seq_read_begin(&self->saved_seq);
        memcpy(out, &self->saved, sizeof *out);
    } while (rnnfx_seq_read_retry(&self->saved_seq, s));
    out->path[MIDI_PATH_MAX - 1] = '\0';
}

/* ---- the grid ------------------------------------------------------------------- */

static int grid_spq(Midi *self)
{
    int g = (int)lrintf(ctl(self, RNNFX_MIDI_PORT_GRID, 0, 0, 3));
    if (g == 1)
        return 1;
    if (g == 2)
        return 2;
    if (g == 3)
        return 4;
    return self->core ? self->core->info.steps_per_quarter : 4;
}

static int player_holds(const Midi *self, int key)
{
    for (int ch = 0; ch < 16; ch++)
        if (self->held[ch][key] && ch != 9)
            return 1;
    return 0;
}

/* Acts on grid line `step` at sample `frame`. Thread: audio. */
static void do_step(Midi *self, int64_t step, uint32_t frame)
{
    MidiCore *c = self->core;
    int mode = (int)lrintf(ctl(self, RNNFX_MIDI_PORT_MODE, 0, 0, 1));
    if (!c) {
        all_model_off(self, frame);
        return;
    }
    const RnnfxMidiInfo *mi = &c->info;
    const int nk = mi->n_keys;

    /* Input row: keys of the step that ended, beat features of this one. */
    for (int k = 0; k < nk; k++) {
        int key = mi->low_key + k;
        c->row[k] = self->step_keys[key] ? 1.0f : 0.0f;
    }
    if (mi->n_beat_features) {
        double beats = (double)step / self->spq * self->beat_unit / 4.0;
        double bpb = self->beats_per_bar >= 1.0 ? self->beats_per_bar : 4.0;
        rnnfx_midi_beat_features(fmod(beats, bpb), bpb, c->row + nk, mi->n_beat_features);
    }
    rnnfx_instance_process_frames(c->inst, c->row, c->probs, 1);
    RnnfxMidiSampling s;
    s.temperature = ctl(self, RNNFX_MIDI_PORT_TEMPERATURE, 1, 0, RNNFX_MIDI_TEMPERATURE_MAX);
    s.density = ctl(self, RNNFX_MIDI_PORT_DENSITY, 1, RNNFX_MIDI_DENSITY_MIN,
                    RNNFX_MIDI_DENSITY_MAX);
    s.max_notes = (int)lrintf(ctl(self, RNNFX_MIDI_PORT_MAX_NOTES, 6, 0,
                                  RNNFX_MIDI_MAX_NOTES_MAX));
    rnnfx_midi_sample_frame(c->probs, nk, &s, &self->rng, c->pick);

    uint8_t ph[128];
    int any_held = 0;
    for (int key = 0; key < 128; key++)
        any_held |= ph[key] = (uint8_t)player_holds(self, key);
    if (self->quiet_steps < INT64_MAX)
        self->quiet_steps++;
    /* Continue mode: play only once the player has been quiet for a beat
     * (one quarter note) and holds nothing. */
    int play = 1;
    if (mode == RNNFX_MIDI_MODE_CONTINUE)
        play = !any_held && self->quiet_steps > self->spq;
    int ch = (int)lrintf(ctl(self, RNNFX_MIDI_PORT_CHANNEL, 1, 1, 16)) - 1;
    int vel = (int)lrintf(ctl(self, RNNFX_MIDI_PORT_VELOCITY, 80, 1, 127));

    /* Offs first, then ons, all at this frame. */
    for (int key = 0; key < 128; key++) {
        int k = key - mi->low_key;
        int want = play && k >= 0 && k < nk && c->pick[k] > 0.5f && !ph[key];
        if (self->sounding[key] && (!want || self->sound_ch[key] != ch))
            model_off(self, frame, key);
    }
    for (int k = 0; k < nk; k++) {
        int key = mi->low_key + k;
        int want = play && c->pick[k] > 0.5f && !ph[key];
        if (want && !self->sounding[key]) {
            if (emit3(self, frame, (uint8_t)(0x90 | ch), (uint8_t)key, (uint8_t)vel)) {
                self->sounding[key] = 1;
                self->sound_ch[key] = (uint8_t)ch;
            }
        }
    }
    /* The new step starts with whatever sounds now. */
    for (int key = 0; key < 128; key++)
        self->step_keys[key] = (uint8_t)(self->sounding[key] || ph[key]);
}

/* Quarter notes per sample at the current tempo and speed. */
static double q_per_sample(const Midi *self)
{
    return self->speed * self->bpm / 60.0 / self->rate * 4.0 / self->beat_unit;
}

/* Advances the clock from sample `from` to `to`, acting on each grid line
 * crossed. Thread: audio. */
static void advance(Midi *self, uint32_t from, uint32_t to)
{
    if (to <= from)
        return;
    double qps = q_per_sample(self);
    if (!(qps > 0.0)) {
        return; /* stopped (or backwards): no grid */
    }
    int spq = grid_spq(self);
    if (spq != self->spq) {
        self->spq = spq;
        self->synced = 0;
    }
    if (!self->synced) {
        /* the first grid line at or after the current position; a position
         * beyond exact double integers (a bad host value, or a runaway
         * speed) would overflow int64 and starve the loop below: restart */
        double first = ceil(self->pos_q * spq - 1e-6);
        if (!(fabs(first) < 4e15)) {
            self->pos_q = 0.0;
            first = 0.0;
        }
        self->next_step = (int64_t)first;
        self->synced = 1;
    }
    /* at most one grid line per sample: bounded work for any host tempo,
     * speed or position (real tempos are far below this) */
    uint32_t steps = 0;
    for (;;) {
        double line_q = (double)self->next_step / spq;
        double d = (line_q - self->pos_q) / qps; /* samples from `from` */
        /* Hosts send positions as floats: a grid line computed a few
         * hundredths of a sample late still belongs to that sample. */
        double r = floor(d + 0.5);
        double at = d <= 0.0 ? 0.0 : (fabs(d - r) < 0.05 ? r : ceil(d));
        if (at >= (double)(to - from))
            break;
        if (steps++ >= to - from) {
            self->synced = 0;
            break;
        }
        do_step(self, self->next_step, from + (uint32_t)at);
        self->next_step++;
    }
    self->pos_q += qps * (double)(to - from);
}

/* Applies a time:Position object at sample `frame`. Thread: audio. */
static void handle_position(Midi *self, const LV2_Atom_Object *obj, uint32_t frame)
{
    const MidiUris *u = &self->u;
    const LV2_Atom *bar = NULL, *beat = NULL, *bpb = NULL, *unit = NULL, *bpm = NULL,
                   *speed = NULL;
    lv2_atom_object_get(obj, u->time_bar, &bar, u->time_barBeat, &beat, u->time_beatsPerBar,
                        &bpb, u->time_beatUnit, &unit, u->time_beatsPerMinute, &bpm, u->time_speed,
                        &speed, 0);
#define NUM(a, out)                                                                            \
    do {                                                                                       \
        if (a && a->type == u->atom_Float)                                                     \
            out = ((const LV2_Atom_Float *)a)->body;                                           \
        else if (a && a->type == u->atom_Double)                                               \
            out = ((const LV2_Atom_Double *)a)->body;                                          \
        else if (a && a->type == u->atom_Int)                                                  \
            out = ((const LV2_Atom_Int *)a)->body;                                             \
        else if (a && a->type == u->atom_Long)                                                 \
            out = (double)((const LV2_Atom_Long *)a)->body;                                    \
    } while (0)
    double old_speed = self->speed;
    double v;
    v = self->bpm;
    NUM(bpm, v);
    if (v >= 1.0 && v <= 1000.0)
        self->bpm = v;
    v = self->beats_per_bar;
    NUM(bpb, v);
    if (v >= 1.0 && v <= 64.0)
        self->beats_per_bar = v;
    v = self->beat_unit;
    NUM(unit, v);
    if (v >= 1.0 && v <= 64.0)
        self->beat_unit = (int)v;
    v = self->speed;
    NUM(speed, v);
    if (isfinite(v))
        self->speed = v;
    if (bar || beat) {
        double b = 0.0, bb = 0.0;
        NUM(bar, b);
        NUM(beat, bb);
        double q = (b * self->beats_per_bar + bb) * 4.0 / self->beat_unit;
        /* a jump of more than a millisecond-ish (1/64 quarter) is a relocation */
        if (isfinite(q) && fabs(q - self->pos_q) > 1.0 / 64.0) {
            self->pos_q = q;
            self->synced = 0;
        } else if (isfinite(q)) {
            self->pos_q = q;
        }
    }
#undef NUM
    self->have_host_time = 1;
    if (!(self->speed > 0.0) || (old_speed <= 0.0 && self->speed > 0.0)) {
        all_model_off(self, frame);
        self->synced = 0;
    }
}

static void handle_player_midi(Midi *self, const uint8_t *m, uint32_t size, uint32_t frame)
{
    int mode = (int)lrintf(ctl(self, RNNFX_MIDI_PORT_MODE, 0, 0, 1));
    /* pass everything through */
    emit_midi(self, frame, m, size);
    if (size < 3)
        return;
    uint8_t st = m[0] & 0xF0, ch = m[0] & 0x0F, key = m[1] & 0x7F, vel = m[2];
    if (st == 0x90 && vel > 0) {
        self->held[ch][key] = 1;
        if (ch != 9) {
            self->step_keys[key] = 1;
            self->quiet_steps = 0;
        }
        /* The player takes a key the model holds: the model lets go of it
         * without a note-off of its own on the player's channel. */
        if (self->sounding[key] && self->sound_ch[key] == ch)
            self->sounding[key] = 0;
        if (mode == RNNFX_MIDI_MODE_CONTINUE && ch != 9)
            all_model_off(self, frame);
    } else if (st == 0x80 || (st == 0x90 && vel == 0)) {
        self->held[ch][key] = 0;
    } else if (st == 0xB0 && (key == 123 || key == 120)) { /* all notes / sound off */
        memset(self->held[ch], 0, sizeof self->held[ch]);
    }
}

/* ---- LV2 callbacks -------------------------------------------------------------- */

static LV2_Handle instantiate(const LV2_Descriptor *d, double rate, const char *bundle,
                              const LV2_Feature *const *features)
{
    (void)d;
    Midi *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    LV2_Log_Log *log = rnnfx_lv2_feature(features, LV2_LOG__log);
    self->map = rnnfx_lv2_feature(features, LV2_URID__map);
    self->schedule = rnnfx_lv2_feature(features, LV2_WORKER__schedule);
    /* formatted here: some hosts cannot format a message with arguments
     * (lv2_features.h) */
    lv2_log_logger_init(&self->logger, self->map, rnnfx_log_wrap(&self->log_guard, log));
    if (!self->map) {
        lv2_log_error(&self->logger, "rnnfx midi: the host does not provide urid:map\n");
        free(self);
        return NULL;
    }
    map_uris(self->map, &self->u);
    lv2_atom_forge_init(&self->forge, self->map);
    self->rate = rate > 0 ? rate : 48000.0;
    snprintf(self->bundle_path, sizeof self->bundle_path, "%s", bundle ? bundle : "");
    rnnfx_rng_seed(&self->rng, 1);
    self->last_seed = NAN;
    for (int i = 0; i < RNNFX_MIDI_N_PORTS; i++)
        self->last_valid[i] = NAN;

    char path[MIDI_PATH_MAX];
    default_path(self, path, sizeof path);
    RnnfxError err = {{0}};
    if (core_new(path, &self->core, &err) == RNNFX_OK) {
        self->model_is_default = 1;
    } else {
        lv2_log_error(&self->logger,
                      "rnnfx midi: cannot load the built-in model %s: %s; MIDI passes through "
                      "until a model is loaded\n",
                      path, err.msg);
    }
    self->notify_pending = 1;
    publish_model(self);
    publish_rng(self);
    return self;
}

static void connect_port(LV2_Handle h, uint32_t port, void *data)
{
    Midi *self = h;
    if (port == RNNFX_MIDI_PORT_CONTROL)
        self->in = data;
    else if (port == RNNFX_MIDI_PORT_OUT)
        self->out = data;
    else if (port < RNNFX_MIDI_N_PORTS)
        self->ctl[port] = data;
}

/* Transport defaults and empty note tables. Thread: instantiation. */
static void reset_play(Midi *self)
{
    self->have_host_time = 0;
    self->speed = 1.0;
    self->bpm = 120.0;
    self->beats_per_bar = 4.0;
    self->beat_unit = 4;
    self->pos_q = 0.0;
    self->synced = 0;
    self->spq = 0;
    memset(self->held, 0, sizeof self->held);
    memset(self->step_keys, 0, sizeof self->step_keys);
    self->quiet_steps = INT64_MAX;
    if (self->core)
        rnnfx_instance_reset(self->core->inst);
}

static void activate(LV2_Handle h)
{
    Midi *self = h;
    free_garbage(self);
    reset_play(self);
    self->release_pending = 1;
    self->notify_pending = 1;
}

static void deactivate(LV2_Handle h) { free_garbage((Midi *)h); }

static void cleanup(LV2_Handle h)
{
    Midi *self = h;
    free_garbage(self);
    core_free(self->core);
    free(self);
}

static void handle_patch(Midi *self, const LV2_Atom_Object *obj)
{
    const MidiUris *u = &self->u;
    if (obj->body.otype == u->patch_Get) {
        self->notify_pending = 1;
        return;
    }
    const LV2_Atom *prop = NULL, *val = NULL;
    lv2_atom_object_get(obj, u->patch_property, &prop, u->patch_value, &val, 0);
    if (!prop || prop->type != u->atom_URID || ((const LV2_Atom_URID *)prop)->body != u->model)
        return;
    if (!val || (val->type != u->atom_Path && val->type != u->atom_String) || val->size == 0)
        return;
    if (val->size >= MIDI_PATH_MAX || !self->schedule) {
        self->notify_pending = 1; /* not loaded: the host's chooser shows what plays */
        return;
    }
    /* the value must lie inside the object the host sent */
    if ((const uint8_t *)LV2_ATOM_BODY_CONST(val) + val->size >
        (const uint8_t *)LV2_ATOM_BODY_CONST(&obj->atom) + obj->atom.size)
        return;
    struct {
        MsgLoadHead head;
        char path[MIDI_PATH_MAX];
    } msg;
    msg.head.type = MSG_LOAD;
    /* an atom:String need not end in a NUL (overwriting its last byte cut
     * the path's last character) */
    const size_t len = strnlen((const char *)LV2_ATOM_BODY_CONST(val), val->size);
    msg.head.len = (uint32_t)len + 1;
    msg.head.gen = self->load_gen;
    memcpy(msg.path, LV2_ATOM_BODY_CONST(val), len);
    msg.path[len] = '\0';
    if (self->schedule->schedule_work(self->schedule->handle,
                                      (uint32_t)(sizeof msg.head + msg.head.len),
                                      &msg) != LV2_WORKER_SUCCESS)
        self->notify_pending = 1; /* refused: the host is told what still plays */
}

/* Tells the host the model's path (patch:Set). An event that does not fit
 * whole is taken back, as emit_midi does, and tried again next run(): a
 * timestamp or object cut short would leave the host a broken sequence. */
static void notify(Midi *self)
{
    LV2_Atom_Forge *f = &self->forge;
    const uint32_t offset = f->offset, seq_size = self->out->atom.size;
    LV2_Atom_Forge_Frame fr;
    const char *p = model_setting(self);
    int ok = 0;
    if (lv2_atom_forge_frame_time(f, 0) && lv2_atom_forge_object(f, &fr, 0, self->u.patch_Set)) {
        ok = lv2_atom_forge_key(f, self->u.patch_property) &&
             lv2_atom_forge_urid(f, self->u.model) && lv2_atom_forge_key(f, self->u.patch_value) &&
             lv2_atom_forge_path(f, p, (uint32_t)strlen(p));
        lv2_atom_forge_pop(f, &fr);
    }
    if (ok) {
        self->notify_pending = 0;
    } else {
        f->offset = offset;
        self->out->atom.size = seq_size;
    }
}

static void run_cycle(Midi *self, uint32_t n)
{
    if (!self->out)
        return;
    LV2_Atom_Forge_Frame seq;
    lv2_atom_forge_set_buffer(&self->forge, (uint8_t *)self->out, self->out->atom.size);
    if (!lv2_atom_forge_sequence_head(&self->forge, &seq, 0)) {
        self->out->atom.size = sizeof(LV2_Atom_Sequence_Body);
        return;
    }

    track_controls(self);
    if (self->release_pending) {
        all_model_off(self, 0);
        self->release_pending = 0;
    }
    /* first, at frame 0: events go out in time order, and the blocks'
     * notes come later (a patch:Set asked during this block goes out at
     * the next one) */
    if (self->notify_pending)
        notify(self);

    /* The seed port seeds the generator when it changes, and once at the
     * start (last_seed NAN). A restored state sets last_seed to the port
     * value it was saved with, so the saved generator carries on. */
    float seed = ctl(self, RNNFX_MIDI_PORT_SEED, 1, 0, RNNFX_MIDI_SEED_MAX);
    if (seed != self->last_seed) { /* also true when last_seed is NAN */
        self->last_seed = seed;
        rnnfx_rng_seed(&self->rng, (uint64_t)lrintf(seed));
    }

    uint32_t t = 0;
    if (self->in) {
        LV2_ATOM_SEQUENCE_FOREACH (self->in, ev) {
            /* a (bad) negative time counts as 0, not as 4 billion */
            uint32_t at = ev->time.frames < 0 ? 0
                          : ev->time.frames < n ? (uint32_t)ev->time.frames : n;
            if (at < t)
                at = t;
            advance(self, t, at);
            t = at;
            if (ev->body.type == self->u.midi_Event) {
                handle_player_midi(self, (const uint8_t *)(ev + 1), ev->body.size, at);
            } else if ((ev->body.type == self->u.atom_Object ||
                        ev->body.type == self->u.atom_Blank ||
                        ev->body.type == self->u.atom_Resource) &&
                       ev->body.size >= sizeof(LV2_Atom_Object_Body)) {
                const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
                if (obj->body.otype == self->u.time_Position)
                    handle_position(self, obj, at);
                else
                    handle_patch(self, obj);
            }
        }
    }
    advance(self, t, n);
    retry_parked_rt(self);
    lv2_atom_forge_pop(&self->forge, &seq);
    publish_rng(self);
}

/* A cycle while a restore holds the plugin (run_guard.h): the model takes
 * no step, but the player's MIDI still goes through and is tracked (a
 * note-off swallowed here left the synth after the plugin holding a note,
 * and the plugin thinking the key still down). handle_player_midi touches
 * nothing restore() does. Thread: audio. */
static void run_held(Midi *self)
{
    if (!self->out)
        return;
    lv2_atom_forge_set_buffer(&self->forge, (uint8_t *)self->out, self->out->atom.size);
    if (!lv2_atom_forge_sequence_head(&self->forge, &self->held_seq, 0)) {
        self->out->atom.size = sizeof(LV2_Atom_Sequence_Body);
        return;
    }
    if (self->in) {
        LV2_ATOM_SEQUENCE_FOREACH (self->in, ev) {
            if (ev->body.type == self->u.midi_Event)
                handle_player_midi(self, (const uint8_t *)(ev + 1), ev->body.size,
                                   ev->time.frames < 0 ? 0 : (uint32_t)ev->time.frames);
        }
    }
    lv2_atom_forge_pop(&self->forge, &self->held_seq);
}

/* Thread: audio. */
static void run(LV2_Handle h, uint32_t n)
{
    Midi *self = h;
    if (!rnnfx_guard_try_run(&self->guard)) {
        run_held(self);
        return;
    }
    run_cycle(self, n);
    rnnfx_guard_leave(&self->guard);
}

/* ---- Worker --------------------------------------------------------------------- */

static LV2_Worker_Status work(LV2_Handle h, LV2_Worker_Respond_Function respond,
                              LV2_Worker_Respond_Handle rh, uint32_t size, const void *data)
{
    Midi *self = h;
    if (size < 8)
        return LV2_WORKER_ERR_UNKNOWN;
    uint32_t type;
    memcpy(&type, data, sizeof type);
    if (type == MSG_FREE && size >= sizeof(MsgCore)) {
        MsgCore m;
        memcpy(&m, data, sizeof m);
        core_free(m.core);
        return LV2_WORKER_SUCCESS;
    }
    if (type != MSG_LOAD || size <= sizeof(MsgLoadHead))
        return LV2_WORKER_ERR_UNKNOWN;
    MsgLoadHead req;
    memcpy(&req, data, sizeof req);
    char path[MIDI_PATH_MAX];
    size_t len = size - sizeof req;
    if (len >= sizeof path)
        len = sizeof path - 1;
    memcpy(path, (const char *)data + sizeof req, len);
    path[len] = '\0';
    RnnfxError err = {{0}};
    MidiCore *c = NULL;
    if (core_new(path, &c, &err) != RNNFX_OK) {
        lv2_log_error(&self->logger, "rnnfx midi: cannot load %s: %s (keeping the current model)\n",
                      path, err.msg);
        MsgCore f = {MSG_FAILED, 0, req.gen, NULL};
        respond(rh, sizeof f, &f);
        return LV2_WORKER_SUCCESS;
    }
    MsgCore m = {MSG_LOADED, 0, req.gen, c};
    if (respond(rh, sizeof m, &m) != LV2_WORKER_SUCCESS)
        core_free(c);
    return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status work_response(LV2_Handle h, uint32_t size, const void *data)
{
    Midi *self = h;
    if (size < sizeof(MsgCore))
        return LV2_WORKER_ERR_UNKNOWN;
    MsgCore m;
    memcpy(&m, data, sizeof m);
    if (m.type == MSG_FAILED) {
        self->notify_pending = 1; /* the host shows the model still playing */
        return LV2_WORKER_SUCCESS;
    }
    if (m.type != MSG_LOADED)
        return LV2_WORKER_ERR_UNKNOWN;
    if (m.gen != self->load_gen) {
        /* requested before a state restore: the restored model stays */
        dispose_rt(self, m.core);
        return LV2_WORKER_SUCCESS;
    }
    /* The sounding notes stay as they are; the next grid line decides with
     * the new model. Its grid may differ: resynchronise. */
    MidiCore *old = self->core;
    self->core = m.core;
    self->model_is_default = 0;
    self->missing_model[0] = '\0'; /* a model was chosen */
    self->synced = 0;
    self->notify_pending = 1;
    publish_model(self);
    dispose_rt(self, old);
    return LV2_WORKER_SUCCESS;
}

/* ---- State ------------------------------------------------------------------------ */

static LV2_State_Status save(LV2_Handle h, LV2_State_Store_Function store, LV2_State_Handle sh,
                             uint32_t flags, const LV2_Feature *const *features)
{
    Midi *self = h;
    (void)flags;
    const MidiUris *u = &self->u;
    MidiSaved saved;
    const MidiSaved *cp = &saved;
    saved_copy(self, &saved);
    int64_t st = (int64_t)cp->rng_state, inc = (int64_t)cp->rng_inc;
    store(sh, u->rng_state, &st, sizeof st, u->atom_Long, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    store(sh, u->rng_inc, &inc, sizeof inc, u->atom_Long, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    float seed = cp->seed;
    store(sh, u->rng_seed, &seed, sizeof seed, u->atom_Float,
          LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    if (cp->is_default)
        return LV2_STATE_SUCCESS; /* the built-in model is the state when none is stored */
    const LV2_State_Map_Path *mp = rnnfx_lv2_feature(features, LV2_STATE__mapPath);
    const LV2_State_Free_Path *fp = rnnfx_lv2_feature(features, LV2_STATE__freePath);
    char *apath = mp ? mp->abstract_path(mp->handle, cp->path) : NULL;
    const char *v = apath ? apath : cp->path;
    LV2_State_Status s = store(sh, u->model, v, strlen(v) + 1, u->atom_Path,
                               LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    if (apath) {
        if (fp)
            fp->free_path(fp->handle, apath);
        else
            free(apath);
    }
    return s;
}

static LV2_State_Status restore_exclusive(Midi *self, LV2_State_Retrieve_Function retrieve,
                                          LV2_State_Handle sh,
                                          const LV2_Feature *const *features)
{
    const MidiUris *u = &self->u;
    free_garbage(self);
    /* loads requested before this restore must not replace what it restores */
    self->load_gen++;
    size_t size;
    uint32_t type, vf;
    size_t vsize = 0;
    uint32_t vtype = 0;
    const void *v = retrieve(sh, u->rng_state, &vsize, &vtype, &vf);
    const void *w = retrieve(sh, u->rng_inc, &size, &type, &vf);
    /* each value's own type and size: a short one must not be over-read */
    if (v && w && type == u->atom_Long && size == sizeof(int64_t) && vtype == u->atom_Long &&
        vsize == sizeof(int64_t)) {
        int64_t a, b;
        memcpy(&a, v, sizeof a);
        memcpy(&b, w, sizeof b);
        self->rng.state = (uint64_t)a;
        self->rng.inc = (uint64_t)b | 1u;
    }
    const void *sd = retrieve(sh, u->rng_seed, &size, &type, &vf);
    if (sd && type == u->atom_Float && size == sizeof(float)) {
        float s;
        memcpy(&s, sd, sizeof s);
        /* the seed port's value at save time: no reseed unless it moves */
        self->last_seed = s;
    } else {
        self->last_seed = NAN;
    }

    const LV2_State_Map_Path *mp = rnnfx_lv2_feature(features, LV2_STATE__mapPath);
    const LV2_State_Free_Path *fp = rnnfx_lv2_feature(features, LV2_STATE__freePath);
    const char *p = retrieve(sh, u->model, &size, &type, &vf);
    char wanted[MIDI_PATH_MAX] = "";
    if (p && size > 0 && (type == u->atom_Path || type == u->atom_String)) {
        /* The stored value need not be NUL-terminated within `size`, and a
         * path cut short would name another file: copy it bounded, refuse
         * what does not fit. */
        char stored[MIDI_PATH_MAX];
        size_t slen = strnlen(p, size);
        if (slen >= sizeof stored) {
            lv2_log_warning(&self->logger, "rnnfx midi: the saved model path is too long\n");
            slen = 0;
        }
        memcpy(stored, p, slen);
        stored[slen] = '\0';
        char *ap = (slen && mp) ? mp->absolute_path(mp->handle, stored) : NULL;
        const char *abs = ap ? ap : stored;
        if (strlen(abs) < sizeof wanted)
            snprintf(wanted, sizeof wanted, "%s", abs);
        else
            lv2_log_warning(&self->logger, "rnnfx midi: the saved model path is too long\n");
        if (ap) {
            if (fp)
                fp->free_path(fp->handle, ap);
            else
                free(ap);
        }
    }
    RnnfxError err = {{0}};
    MidiCore *c = NULL;
    self->missing_model[0] = '\0';
    if (wanted[0]) {
        if (core_new(wanted, &c, &err) == RNNFX_OK) {
            core_free(self->core);
            self->core = c;
            self->model_is_default = 0;
        } else {
            /* kept as the setting: the session is saved with it again and
             * plays it once its file is back */
            lv2_log_warning(&self->logger,
                            "rnnfx midi: the saved model %s could not be loaded (%s); using the "
                            "built-in model (the setting is kept and saved again)\n",
                            wanted, err.msg);
            snprintf(self->missing_model, sizeof self->missing_model, "%s", wanted);
            wanted[0] = '\0';
        }
    }
    if (!wanted[0] && !self->model_is_default) {
        char path[MIDI_PATH_MAX];
        default_path(self, path, sizeof path);
        if (core_new(path, &c, &err) == RNNFX_OK) {
            core_free(self->core);
            self->core = c;
            self->model_is_default = 1;
        }
    }
    self->synced = 0;
    self->notify_pending = 1;
    publish_model(self);
    publish_rng(self);
    return LV2_STATE_SUCCESS;
}

/* Thread: instantiation by the LV2 rules; a host that calls it while
 * run() plays is kept apart by run_guard.h. */
static LV2_State_Status restore(LV2_Handle h, LV2_State_Retrieve_Function retrieve,
                                LV2_State_Handle sh, uint32_t flags,
                                const LV2_Feature *const *features)
{
    Midi *self = h;
    (void)flags;
    rnnfx_guard_restore_enter(&self->guard);
    const LV2_State_Status st = restore_exclusive(self, retrieve, sh, features);
    rnnfx_guard_leave(&self->guard);
    return st;
}

static const void *extension_data(const char *uri)
{
    static const LV2_State_Interface state = {save, restore};
    static const LV2_Worker_Interface worker = {work, work_response, NULL};
    if (!strcmp(uri, LV2_STATE__interface))
        return &state;
    if (!strcmp(uri, LV2_WORKER__interface))
        return &worker;
    return NULL;
}

static const LV2_Descriptor midi_descriptor = {RNNFX_MIDI_URI, instantiate, connect_port,
                                               activate, run, deactivate, cleanup,
                                               extension_data};

/* The MIDI plugin's descriptor; lv2_descriptor() (rnnfx_plugin.c) lists it
 * after the audio plugins. Thread: discovery (any). */
const LV2_Descriptor *rnnfx_midi_descriptor(void);
const LV2_Descriptor *rnnfx_midi_descriptor(void) { return &midi_descriptor; }

/*
 * rnnfx-live — plays a capture live: input device -> chain -> output device.
 *
 *   rnnfx-live -m capture.json [--host-api jack] [--in DEV] [--out DEV]
 *              [--rate HZ] [--frames N] [--seconds S] [--script FILE]
 *
 * Audio runs through the same RnnfxChain as the plugin and the batch tool
 * (gains, resampling to the model's rate, knobs, an optional impulse
 * response after the model (--ir, the `ir` command), mix, bypass
 * crossfade).
 * Everything that is not audio happens on the main thread: reading the
 * keyboard, a control FIFO or a timed script; loading a model and building
 * its chain core; freeing cores the audio thread has finished with; printing
 * the status line.
 *
 * Threads talk through two single-producer/single-consumer rings of fixed
 * size messages (main -> audio: new controls, a new core; audio -> main: a
 * core to free), so the PortAudio callback never allocates, locks, prints or
 * touches files; its statistics (callbacks, over/underrun flags, time spent,
 * peaks) are plain atomics the main thread reads.
 *
 * Not a recorder, not a mixer: one mono or stereo signal in, the same out.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <portaudio.h>

#include "chain.h"
#include "cli.h"
#include "ir.h"
#include "model_file.h"

/* ---- lock-free single-producer/single-consumer ring --------------------- */

typedef enum { MSG_CONTROLS = 1, MSG_CORE } MsgType;

typedef struct {
    MsgType type;
    RnnfxChainControls controls; /* MSG_CONTROLS */
    RnnfxChainCore *core;        /* MSG_CORE: to install (main->audio) or free (audio->main) */
    int ir_change;               /* MSG_CORE to install: the same model with another impulse
                                    response (counted apart from model swaps) */
    int refused;                 /* MSG_CORE to free: the chain would not take it, so it
                                    never played (see audio_cb) */
    int knobs;                   /* MSG_CORE to install: `controls` holds its knobs
                                    (see swap_model) */
} Msg;

#define RING_SIZE 64u /* power of two */
#define CORES_PER_CALLBACK 4 /* new cores the callback installs per period */

typedef struct {
    Msg slot[RING_SIZE];
    _Atomic unsigned head; /* next to read (consumer writes) */
    _Atomic unsigned tail; /* next to write (producer writes) */
} Ring;

/* Producer side. Returns 0 when full. Thread: the ring's one producer. */
static int ring_push(Ring *r, const Msg *m)
{
    unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    unsigned h = atomic_load_explicit(&r->head, memory_order_acquire);
    if (t - h >= RING_SIZE)
        return 0;
    r->slot[t & (RING_SIZE - 1)] = *m;
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return 1;
}

/* Consumer side. Returns 0 when empty. Thread: the ring's one consumer. */
static int ring_pop(Ring *r, Msg *m)
{
    unsigned h = atomic_load_explicit(&r->head, memory_order_relaxed);
    unsigned t = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (h == t)
        return 0;
    *m = r->slot[h & (RING_SIZE - 1)];
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return 1;
}

/* ---- state shared with the callback --------------------------------------- */

#define MAX_OUT_CH 8

typedef struct {
    RnnfxChain *chain;
    int chain_ch; /* 1 or 2: channels through the chain (= input channels used) */
    int in_ch;    /* channels opened on the input device */
    int out_ch;   /* channels opened on the output device */
    double rate;
    unsigned long frames;

    Ring to_audio; /* controls and new cores */
    Ring to_main;  /* cores to free */
    /* Cores the audio thread could not hand back because to_main was full;
     * retried every callback (cannot happen with a sane main loop, but the
     * callback must never lose or block on one). */
    struct {
        RnnfxChainCore *core;
        int refused;
    } unsent[16];
    int n_unsent;

    /* statistics, written by the callback */
    _Atomic uint64_t callbacks;
    _Atomic uint64_t frames_done;
    _Atomic uint64_t in_overflow, in_underflow, out_underflow, out_overflow;
    _Atomic uint64_t busy_ns;      /* total time inside the callback */
    _Atomic uint32_t busy_max_ppm; /* worst callback time / period, parts per million */
    _Atomic uint64_t busy_max_at;  /* which callback that was (0-based) */
    _Atomic uint64_t first_dropout_at, last_dropout_at; /* callback numbers + 1; 0 = none */
    _Atomic uint32_t in_peak_bits, out_peak_bits; /* float bits, max since last read */
    _Atomic uint32_t in_peak_run_bits, out_peak_run_bits; /* float bits, max since the start */
    _Atomic uint64_t swaps_installed, ir_installed; /* model cores / response-only cores */
    _Atomic uint64_t superseded; /* installed, then replaced by a later change before playing */
    /* The model the chain plays, published before a refused core goes back,
     * so the main thread can point at it again. */
    _Atomic(const RnnfxModel *) playing;
    _Atomic int switching;
    float silence[4096];
} Live;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Lock-free running maximum of a non-negative float kept as its bits (the
 * bit patterns of non-negative floats order like the values). */
static void atomic_max_float(_Atomic uint32_t *a, float v)
{
    if (!(v >= 0.0f))
        return;
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint32_t cur = atomic_load_explicit(a, memory_order_relaxed);
    while (bits > cur &&
           !atomic_compare_exchange_weak_explicit(a, &cur, bits, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

static float take_float(_Atomic uint32_t *a)
{
    uint32_t bits = atomic_exchange(a, 0);
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void send_back(Live *L, RnnfxChainCore *core, int refused)
{
    if (!core)
        return;
    Msg m = {.type = MSG_CORE, .core = core, .refused = refused};
    if (!ring_push(&L->to_main, &m) && L->n_unsent < (int)(sizeof L->unsent / sizeof L->unsent[0])) {
        L->unsent[L->n_unsent].core = core;
        L->unsent[L->n_unsent++].refused = refused;
    }
}

/* The PortAudio callback. Audio thread: no allocation, locks, prints or file
 * access; bounded work apart from the chain itself. Buffers are
 * non-interleaved (paNonInterleaved): arrays of per-channel pointers. */
static int audio_cb(const void *input, void *output, unsigned long frames,
                    const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *user)
{
    (void)ti;
    Live *L = user;
    uint64_t t0 = now_ns();
    if (flags & paInputOverflow)
        atomic_fetch_add_explicit(&L->in_overflow, 1, memory_order_relaxed);
    if (flags & paInputUnderflow)
        atomic_fetch_add_explicit(&L->in_underflow, 1, memory_order_relaxed);
    if (flags & paOutputUnderflow)
        atomic_fetch_add_explicit(&L->out_underflow, 1, memory_order_relaxed);
    if (flags & paOutputOverflow)
        atomic_fetch_add_explicit(&L->out_overflow, 1, memory_order_relaxed);
    if (flags & (paInputOverflow | paInputUnderflow | paOutputUnderflow | paOutputOverflow)) {
        uint64_t n = atomic_load_explicit(&L->callbacks, memory_order_relaxed) + 1;
        if (!atomic_load_explicit(&L->first_dropout_at, memory_order_relaxed))
            atomic_store_explicit(&L->first_dropout_at, n, memory_order_relaxed);
        atomic_store_explicit(&L->last_dropout_at, n, memory_order_relaxed);
    }

    /* Retry handing back cores, then take new messages. */
    for (int i = 0; i < L->n_unsent;) {
        Msg m = {.type = MSG_CORE, .core = L->unsent[i].core, .refused = L->unsent[i].refused};
        if (!ring_push(&L->to_main, &m))
            break;
        L->unsent[i] = L->unsent[--L->n_unsent];
    }
    /* At most CORES_PER_CALLBACK new cores a callback (the rest wait in the
     * ring, in order): each swap costs a core reset and sends up to two
     * cores back, so a burst of commands stays bounded work here and
     * cannot outrun the ring back to the main thread. */
    Msg m;
    int cores = 0;
    while (cores < CORES_PER_CALLBACK && ring_pop(&L->to_audio, &m)) {
        if (m.type == MSG_CONTROLS) {
            rnnfx_chain_set_controls(L->chain, &m.controls);
        } else if (m.type == MSG_CORE) {
            cores++;
            if (m.knobs) {
                /* the playing models keep their knobs; every knob back to
                 * "the model's default", then those the new model shares
                 * by name with the old one set again */
                rnnfx_chain_hold_knobs(L->chain, 1);
                RnnfxChainControls none = m.controls;
                none.n_knobs = 0;
                rnnfx_chain_set_controls(L->chain, &none);
                rnnfx_chain_set_controls(L->chain, &m.controls);
            }
            RnnfxChainCore *displaced = NULL;
            rnnfx_chain_swap(L->chain, m.core, &displaced);
            /* What each swap retired goes back at once: bypassed, every
             * swap retires a core, and the chain refuses a core once it
             * holds CHAIN_RETIRED_CAP of them untaken. */
            RnnfxChainCore *old;
            while ((old = rnnfx_chain_take_retired(L->chain)) != NULL)
                send_back(L, old, 0);
            atomic_store_explicit(&L->playing, rnnfx_chain_model(L->chain), memory_order_relaxed);
            if (displaced == m.core) { /* refused: it never played (counted by main) */
                if (m.knobs)
                    rnnfx_chain_hold_knobs(L->chain, 0);
                send_back(L, displaced, 1);
                continue;
            }
            if (displaced) /* a pending core the new one replaced: it never played */
                atomic_fetch_add_explicit(&L->superseded, 1, memory_order_relaxed);
            send_back(L, displaced, 0);
            atomic_fetch_add_explicit(m.ir_change ? &L->ir_installed : &L->swaps_installed, 1,
                                      memory_order_relaxed);
        }
    }

    const float *const *in = input;
    float *const *out = output;
    if (!in) {
        /* No input (output-only stream): play silence. */
        for (int c = 0; c < L->out_ch; c++)
            memset(out[c], 0, frames * sizeof(float));
    } else {
        /* Any period length: the chain takes any length, but a stream
         * with no input channel at all would read L->silence, so the
         * period is worked through in slices of at most that buffer's
         * length (one slice for every usual period). */
        const unsigned long slice = sizeof L->silence / sizeof L->silence[0];
        float in_peak = 0.0f, out_peak = 0.0f;
        for (unsigned long off = 0; off < frames; off += slice) {
            const unsigned long len = frames - off < slice ? frames - off : slice;
            const float *cin[2];
            float *cout[2];
            for (int c = 0; c < L->chain_ch; c++) {
                /* a mono device feeds both channels of a stereo chain (a
                 * guitar into a stereo cabinet response), as it feeds
                 * every output of a mono one */
                cin[c] = L->in_ch > 0 ? in[c < L->in_ch ? c : 0] + off : L->silence;
                cout[c] = out[c < L->out_ch ? c : 0] + off;
            }
            for (int c = 0; c < L->chain_ch; c++)
                for (unsigned long i = 0; i < len; i++)
                    if (fabsf(cin[c][i]) > in_peak)
                        in_peak = fabsf(cin[c][i]);
            rnnfx_chain_process_multi(L->chain, cin, cout, len);
            /* A mono chain feeds every output channel. */
            for (int c = L->chain_ch; c < L->out_ch; c++)
                memcpy(out[c] + off, out[0] + off, len * sizeof(float));
            for (int c = 0; c < L->out_ch; c++)
                for (unsigned long i = 0; i < len; i++)
                    if (fabsf(out[c][off + i]) > out_peak)
                        out_peak = fabsf(out[c][off + i]);
        }
        atomic_max_float(&L->in_peak_bits, in_peak);
        atomic_max_float(&L->out_peak_bits, out_peak);
        atomic_max_float(&L->in_peak_run_bits, in_peak);
        atomic_max_float(&L->out_peak_run_bits, out_peak);
    }
    RnnfxChainCore *old;
    while ((old = rnnfx_chain_take_retired(L->chain)) != NULL)
        send_back(L, old, 0);
    atomic_store_explicit(&L->switching, rnnfx_chain_switching(L->chain), memory_order_relaxed);

    uint64_t dt = now_ns() - t0;
    atomic_fetch_add_explicit(&L->busy_ns, dt, memory_order_relaxed);
    double period_ns = 1e9 * (double)frames / L->rate;
    uint32_t ppm = (uint32_t)(1e6 * (double)dt / period_ns);
    uint32_t cur = atomic_load_explicit(&L->busy_max_ppm, memory_order_relaxed);
    if (ppm > cur) {
        /* Only this thread writes busy_max_ppm: a plain store is enough. */
        atomic_store_explicit(&L->busy_max_ppm, ppm, memory_order_relaxed);
        atomic_store_explicit(&L->busy_max_at,
                              atomic_load_explicit(&L->callbacks, memory_order_relaxed),
                              memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&L->frames_done, frames, memory_order_relaxed);
    atomic_fetch_add_explicit(&L->callbacks, 1, memory_order_relaxed);
    return paContinue;
}

/* ---- main-thread state -------------------------------------------------------- */

typedef struct {
    Live *L;
    RnnfxChainControls controls; /* the main thread's copy (authoritative) */
    int controls_dirty;          /* could not be sent yet (ring full) */
    char model_path[1024];
    /* The model of the newest core sent to the audio thread (for knob names
     * and ranges). Its core is never returned for freeing before a newer
     * one has been sent, so this stays valid; the chain itself is not read
     * from this thread. */
    const RnnfxModel *model;
    /* The impulse response every new core gets (made for the stream's rate
     * and chain channels), or NULL. Cores copy it, so it may be replaced
     * and freed whenever the main thread likes. */
    RnnfxIr *ir;
    char ir_path[1024];
    int selected_knob;
    int quit;
    int tty;          /* keyboard in raw mode */
    int status_line;  /* print the status line */
    /* Statistics of the `model` and `ir` commands, counted apart: an ir
     * change was counted as a model swap while a model that failed to load
     * was not counted as requested, so "2 requested, 2 installed, 1 failed
     * to load" came out of three commands. Every command counts as
     * requested; a model swap or a response change either fails here or
     * is installed by the audio thread (Live), and a response given
     * without a model waits for one (ir_waiting). */
    uint64_t swaps_requested, swaps_failed;
    uint64_t swaps_refused; /* model or response changes the audio thread dropped */
    uint64_t ir_requested, ir_failed, ir_waiting;
    double start;
} App;

static volatile sig_atomic_t g_quit = 0;

static void on_signal(int sig)
{
    (void)sig;
    g_quit = 1;
}

static void say(App *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void say(App *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (a->status_line)
        fprintf(stderr, "\r\033[K");
    fprintf(stderr, "rnnfx-live: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, a->tty ? "\r\n" : "\n");
    va_end(ap);
}

static void send_controls(App *a)
{
    Msg m = {.type = MSG_CONTROLS, .controls = a->controls};
    a->controls_dirty = !ring_push(&a->L->to_audio, &m);
}

static const RnnfxModel *current_model(App *a)
{
    return a->model;
}

/* For a model whose file states no sample rate: a note (no program prefix or
 * newline) that the loader's default is the rate it plays at, as
 * rnnfx-inspect and rnnfx-convert say; "" for a file that states one. A
 * 44.1 kHz capture run as a 48 kHz one has every filter it learnt moved up
 * 9 %, which nothing said. Thread: main. */
static void assumed_rate_note(const RnnfxModel *model, const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    if (rnnfx_cli_model_rate_assumed(model))
        snprintf(buf, len, "note: %s does not state its sample rate; it plays as a %g Hz model "
                           "(if it was trained at another rate, rnnfx-convert --sample-rate R "
                           "writes a copy that says so)",
                 path, rnnfx_model_meta_const(model)->sample_rate);
}

/* Loads a model and sends its core to the audio thread, which crossfades to
 * it. Thread: main. */
static int swap_model(App *a, const char *path)
{
    a->swaps_requested++;
    RnnfxModel *model = NULL;
    RnnfxError err = {{0}};
    RnnfxStatus st = rnnfx_model_load(path, NULL, &model, &err);
    if (st == RNNFX_OK && rnnfx_model_arch(model)->kind != RNNFX_KIND_AUDIO) {
        st = RNNFX_ERR_UNSUPPORTED;
        snprintf(err.msg, sizeof err.msg, "%s is a MIDI-frame model, not an audio capture", path);
        rnnfx_model_free(model);
        model = NULL;
    }
    char note[1400] = "";
    if (st == RNNFX_OK)
        assumed_rate_note(model, path, note, sizeof note);
    RnnfxChainCore *core = NULL;
    if (st == RNNFX_OK) /* owns model; the current impulse response stays */
        st = rnnfx_chain_core_new_ir(a->L->chain, model, 1, a->ir, &core, &err);
    if (st != RNNFX_OK) {
        a->swaps_failed++;
        say(a, "cannot load %s: %s (still playing the previous model)", path,
            rnnfx_cli_without_path(err.msg[0] ? err.msg : rnnfx_strerror(st), path));
        return -1;
    }
    /* the core settled the model when it was built: no second run */
    const float rest = rnnfx_chain_core_rest_output(core);
    /* Knobs follow their names to the new model, and the ones it does not
     * share with the old one start at its defaults. The chain keeps knobs
     * by position: the DS-1's drive at 0.8 became the next model's tone at
     * 0.8. They go with the core, so the chain takes both at once. */
    Msg m = {.type = MSG_CORE, .core = core, .controls = a->controls, .knobs = 1};
    const RnnfxArch *ta = rnnfx_model_arch(rnnfx_chain_core_model(core));
    const char *selected = a->model && a->selected_knob < rnnfx_model_arch(a->model)->n_params
                               ? rnnfx_model_arch(a->model)->params[a->selected_knob].name
                               : NULL;
    int next_selected = 0; /* the selected knob too, by name */
    for (int j = 0; j < ta->n_params; j++)
        if (selected && !strcmp(ta->params[j].name, selected))
            next_selected = j;
    m.controls.n_knobs = ta->n_params;
    for (int j = 0; j < ta->n_params && j < RNNFX_CHAIN_MAX_KNOBS; j++) {
        const int k = a->model ? rnnfx_model_param_index(a->model, ta->params[j].name) : -1;
        m.controls.knobs[j] = k >= 0 && k < a->controls.n_knobs ? a->controls.knobs[k] : NAN;
    }
    if (!ring_push(&a->L->to_audio, &m)) {
        rnnfx_chain_core_free(core);
        a->swaps_failed++;
        say(a, "too many model changes queued; try again");
        return -1;
    }
    a->controls = m.controls;
    a->selected_knob = next_selected;
    a->model = rnnfx_chain_core_model(core);
    snprintf(a->model_path, sizeof a->model_path, "%s", path);
    say(a, "switching to %s", path);
    if (note[0])
        say(a, "%s", note);
    char rw[300];
    rnnfx_cli_rest_warning(rest, rw, sizeof rw);
    if (rw[0])
        say(a, "warning: %s: %s", path, rw);
    return 0;
}

/* "impulse response X: 62.5 ms at 48000 Hz (recorded at 44100 Hz, mono)" */
static void describe_ir(const RnnfxIr *ir, const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "impulse response %s: %.1f ms at %g Hz (recorded at %g Hz, %s%s)", path,
             1e3 * (double)rnnfx_ir_frames(ir) / rnnfx_ir_rate(ir), rnnfx_ir_rate(ir),
             rnnfx_ir_source_rate(ir), rnnfx_ir_source_channels(ir) == 2 ? "stereo" : "mono",
             rnnfx_ir_source_channels(ir) == 2 && rnnfx_ir_channels(ir) == 1 ? ", mixed to mono"
                                                                             : "");
}

/* Replaces the impulse response after the model ("off" removes it): made
 * for the stream's rate here, then the current model (a copy: the playing
 * core owns the original) gets a new core with it, which the audio thread
 * crossfades to as to a new model. On failure the old response keeps
 * playing. Thread: main. */
static int set_ir(App *a, const char *path)
{
    a->ir_requested++;
    RnnfxIr *ir = NULL;
    RnnfxError err = {{0}};
    RnnfxStatus st = RNNFX_OK;
    int off = !strcmp(path, "off") || !strcmp(path, "none");
    if (!off)
        st = rnnfx_ir_load(path, a->L->rate, a->L->chain_ch, &ir, &err);
    if (st != RNNFX_OK) {
        a->ir_failed++;
        say(a, "cannot use impulse response %s: %s (unchanged)", path,
            rnnfx_cli_without_path(err.msg[0] ? err.msg : rnnfx_strerror(st), path));
        return -1;
    }
    if (a->model) {
        RnnfxModel *copy = NULL;
        RnnfxChainCore *core = NULL;
        st = rnnfx_model_clone(a->model, &copy, &err);
        if (st == RNNFX_OK) /* owns the copy (also on failure) */
            st = rnnfx_chain_core_new_ir(a->L->chain, copy, 1, ir, &core, &err);
        if (st != RNNFX_OK) {
            a->ir_failed++;
            say(a, "cannot build the chain with %s: %s (unchanged)", off ? "no impulse response" : path,
                err.msg[0] ? err.msg : rnnfx_strerror(st));
            rnnfx_ir_free(ir);
            return -1;
        }
        Msg m = {.type = MSG_CORE, .core = core, .ir_change = 1};
        if (!ring_push(&a->L->to_audio, &m)) {
            rnnfx_chain_core_free(core);
            rnnfx_ir_free(ir);
            a->ir_failed++;
            say(a, "too many changes queued; try again");
            return -1;
        }
        a->model = rnnfx_chain_core_model(core);
    } else {
        a->ir_waiting++; /* no core to build: the next model gets it */
    }
    rnnfx_ir_free(a->ir);
    a->ir = ir;
    snprintf(a->ir_path, sizeof a->ir_path, "%s", off ? "" : path);
    if (ir) {
        char d[1400];
        describe_ir(ir, path, d, sizeof d);
        say(a, "%s%s", d, a->model ? "" : " (plays once a model is loaded)");
    } else {
        say(a, "no impulse response");
    }
    return 0;
}

/* Frees the cores the audio thread is done with. A refused core never
 * played; if it held the model commands refer to (a->model), they refer to
 * the one playing again (published before the core came back, and freed
 * only here, later, after it too comes back). Thread: main. */
static void free_returned_cores(App *a)
{
    Msg m;
    while (ring_pop(&a->L->to_main, &m)) {
        if (m.type != MSG_CORE)
            continue;
        if (m.refused) {
            a->swaps_refused++;
            if (a->model == rnnfx_chain_core_model(m.core)) {
                a->model = atomic_load_explicit(&a->L->playing, memory_order_relaxed);
                say(a, "a change came while others were still settling and was dropped; the "
                       "previous model keeps playing (give the command again)");
            }
        }
        rnnfx_chain_core_free(m.core);
    }
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Knob k's position 0..1: as set, or the model's default. Knobs never set
 * go to the chain as NaN, which plays the model's default exactly (its
 * normalised value maps back to it only to within an ulp), as the plugin
 * and rnnfx-process do. */
static float knob_unit(const App *a, const RnnfxModel *model, int k)
{
    if (k < a->controls.n_knobs && !isnan(a->controls.knobs[k]))
        return a->controls.knobs[k];
    return rnnfx_chain_knob_normalize(model, k, rnnfx_model_arch(model)->params[k].def);
}

/* Every knob's current value in the model's own units (for display). */
static void describe_knobs(App *a, char *buf, size_t len)
{
    buf[0] = '\0';
    const RnnfxModel *model = current_model(a);
    if (!model)
        return;
    const RnnfxArch *arch = rnnfx_model_arch(model);
    size_t used = 0;
    for (int k = 0; k < arch->n_params && used + 1 < len; k++) {
        float unit = knob_unit(a, model, k);
        int w = snprintf(buf + used, len - used, "%s%s%s=%.3g", k ? " " : "",
                         k == a->selected_knob ? "*" : "", arch->params[k].name,
                         rnnfx_chain_knob_denormalize(model, k, unit));
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Sets knob `name` (or index) to `value` in model units. */
static int set_knob(App *a, const char *name, double value)
{
    const RnnfxModel *model = current_model(a);
    int k = model ? rnnfx_model_param_index(model, name) : -1;
    if (k < 0) {
        /* The names it has, as rnnfx-process gives them: "no knob named
         * 'gain'" alone left the user guessing, and did not say that
         * nothing changed. */
        char names[512];
        if (!model)
            say(a, "no model is playing: no knob named '%s' (unchanged)", name);
        else if (rnnfx_model_arch(model)->n_params == 0)
            say(a, "the model has no knob named '%s' (unchanged; it has no knobs)", name);
        else {
            rnnfx_cli_knob_names(model, names, sizeof names);
            say(a, "the model has no knob named '%s' (unchanged; its knobs: %s)", name, names);
        }
        return -1;
    }
    const RnnfxArch *arch = rnnfx_model_arch(model);
    if (a->controls.n_knobs < arch->n_params) {
        for (int j = a->controls.n_knobs; j < arch->n_params; j++)
            a->controls.knobs[j] = NAN;
        a->controls.n_knobs = arch->n_params;
    }
    const RnnfxParamDesc *pd = &arch->params[k];
    if (value < pd->min || value > pd->max)
        say(a, "%s=%g is outside the knob's range %g..%g; clamped", pd->name, value, pd->min,
            pd->max);
    a->controls.knobs[k] = rnnfx_chain_knob_normalize(model, k, (float)value);
    send_controls(a);
    return 0;
}

/* One text command (keyboard prompt, FIFO, script or piped stdin):
 *   in-gain DB | out-gain DB | mix X | set NAME VALUE | set NAME=VALUE |
 *   bypass on|off|toggle | normalize on|off | model PATH | ir PATH|off | stats | quit
 * Thread: main. */
static void print_stats(App *a, FILE *f);

static void command(App *a, char *line)
{
    char *s = line;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    if (!*s || *s == '#')
        return;
    char *arg = s;
    while (*arg && !isspace((unsigned char)*arg))
        arg++;
    if (*arg)
        *arg++ = '\0';
    while (isspace((unsigned char)*arg))
        arg++;
    double v;
    /* A value outside the range changes nothing and says so, as the
     * start-up options refuse it: "in-gain 100" (for 10) was played at
     * +24 dB without a word. */
    if (!strcmp(s, "in-gain") || !strcmp(s, "out-gain")) {
        if (rnnfx_cli_parse_double(arg, &v) != 0 || v < RNNFX_CHAIN_GAIN_MIN_DB ||
            v > RNNFX_CHAIN_GAIN_MAX_DB) {
            say(a, "%s needs a gain in dB, %g..%g (unchanged)", s, (double)RNNFX_CHAIN_GAIN_MIN_DB,
                (double)RNNFX_CHAIN_GAIN_MAX_DB);
            return;
        }
        if (s[0] == 'i')
            a->controls.input_db = (float)v;
        else
            a->controls.output_db = (float)v;
        send_controls(a);
    } else if (!strcmp(s, "mix")) {
        if (rnnfx_cli_parse_double(arg, &v) != 0 || v < 0 || v > 1) {
            say(a, "mix needs a value 0..1 (unchanged)");
            return;
        }
        a->controls.mix = (float)v;
        send_controls(a);
    } else if (!strcmp(s, "set")) {
        char *eq = strchr(arg, '=');
        char *val = NULL;
        if (eq) {
            *eq = '\0';
            val = eq + 1;
        } else {
            val = arg;
            while (*val && !isspace((unsigned char)*val))
                val++;
            if (*val)
                *val++ = '\0';
        }
        if (rnnfx_cli_parse_double(val, &v) != 0) {
            say(a, "set needs NAME VALUE (unchanged)");
            return;
        }
        set_knob(a, arg, v);
    } else if (!strcmp(s, "bypass")) {
        if (!strcmp(arg, "on"))
            a->controls.enabled = 0;
        else if (!strcmp(arg, "off"))
            a->controls.enabled = 1;
        else if (!*arg || !strcmp(arg, "toggle"))
            a->controls.enabled = !a->controls.enabled;
        else { /* "bypass of" toggled too */
            say(a, "bypass needs on, off or toggle (unchanged)");
            return;
        }
        send_controls(a);
    } else if (!strcmp(s, "normalize")) {
        if (!strcmp(arg, "on"))
            a->controls.normalize = 1;
        else if (!strcmp(arg, "off"))
            a->controls.normalize = 0;
        else {
            say(a, "normalize needs on or off (unchanged)");
            return;
        }
        send_controls(a);
    } else if (!strcmp(s, "model")) {
        if (!*arg)
            say(a, "model needs a path");
        else
            swap_model(a, arg);
    } else if (!strcmp(s, "ir")) {
        if (!*arg)
            say(a, "ir needs a path (or off)");
        else
            set_ir(a, arg);
    } else if (!strcmp(s, "stats")) {
        print_stats(a, stdout);
    } else if (!strcmp(s, "quit") || !strcmp(s, "exit")) {
        a->quit = 1;
    } else {
        say(a, "unknown command '%s' (in-gain, out-gain, mix, set, bypass, normalize, model, ir, "
               "stats, quit)", s);
    }
}

/* ---- keyboard ------------------------------------------------------------------- */

static struct termios g_saved_tio;
static int g_tio_saved = 0;

static void restore_tty(void)
{
    if (g_tio_saved)
        tcsetattr(0, TCSANOW, &g_saved_tio);
}

static int raw_tty(void)
{
    if (!isatty(0) || tcgetattr(0, &g_saved_tio) != 0)
        return 0;
    g_tio_saved = 1;
    atexit(restore_tty);
    struct termios t = g_saved_tio;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    tcsetattr(0, TCSANOW, &t);
    return 1;
}

static void key_help(App *a)
{
    say(a, "keys: i/I input gain -/+1 dB, o/O output gain -/+1 dB, m/M mix -/+0.05,");
    say(a, "      k next knob, [/] knob -/+0.05, b bypass, l load model, s stats, q quit");
}

static void key(App *a, int c)
{
    switch (c) {
    case 'i': case 'I':
        a->controls.input_db = (float)clampd(a->controls.input_db + (c == 'I' ? 1 : -1),
                                             RNNFX_CHAIN_GAIN_MIN_DB, RNNFX_CHAIN_GAIN_MAX_DB);
        send_controls(a);
        break;
    case 'o': case 'O':
        a->controls.output_db = (float)clampd(a->controls.output_db + (c == 'O' ? 1 : -1),
                                              RNNFX_CHAIN_GAIN_MIN_DB, RNNFX_CHAIN_GAIN_MAX_DB);
        send_controls(a);
        break;
    case 'm': case 'M':
        a->controls.mix = (float)clampd(a->controls.mix + (c == 'M' ? 0.05 : -0.05), 0, 1);
        send_controls(a);
        break;
    case 'b': case 'B':
        a->controls.enabled = !a->controls.enabled;
        send_controls(a);
        say(a, "%s", a->controls.enabled ? "processing" : "bypassed");
        break;
    case 'k': case 'K': {
        const RnnfxModel *model = current_model(a);
        int np = model ? rnnfx_model_arch(model)->n_params : 0;
        a->selected_knob = np ? (a->selected_knob + 1) % np : 0;
        break;
    }
    case '[': case ']': {
        const RnnfxModel *model = current_model(a);
        if (!model || rnnfx_model_arch(model)->n_params == 0) {
            say(a, "this model has no knobs");
            break;
        }
        const RnnfxArch *arch = rnnfx_model_arch(model);
        int k = a->selected_knob % arch->n_params;
        float unit = knob_unit(a, model, k);
        unit = (float)clampd(unit + (c == ']' ? 0.05 : -0.05), 0, 1);
        /* min + 1 * (max - min) can land an ulp past max in float: kept
         * inside, so the range warning is only for values a user typed */
        set_knob(a, arch->params[k].name,
                 clampd(rnnfx_chain_knob_denormalize(model, k, unit), arch->params[k].min,
                        arch->params[k].max));
        break;
    }
    case 'l': case 'L': {
        /* A line of text: back to cooked mode while the user types; audio
         * keeps running on its own thread. */
        restore_tty();
        fprintf(stderr, "\r\033[Kmodel file: ");
        fflush(stderr);
        char path[1024];
        if (fgets(path, sizeof path, stdin)) {
            size_t n = strlen(path);
            while (n && (path[n - 1] == '\n' || path[n - 1] == '\r'))
                path[--n] = '\0';
            if (n)
                swap_model(a, path);
        }
        raw_tty();
        break;
    }
    case 's': case 'S': print_stats(a, stderr); break;
    case 'h': case 'H': case '?': key_help(a); break;
    case 'q': case 'Q': case 27: a->quit = 1; break;
    default: break;
    }
}

/* ---- statistics and status ------------------------------------------------------ */

static uint64_t dropouts(const Live *L)
{
    return atomic_load(&L->in_overflow) + atomic_load(&L->in_underflow) +
           atomic_load(&L->out_underflow) + atomic_load(&L->out_overflow);
}

static void print_stats(App *a, FILE *f)
{
    Live *L = a->L;
    double elapsed = rnnfx_cli_now() - a->start;
    uint64_t cb = atomic_load(&L->callbacks), fr = atomic_load(&L->frames_done);
    double audio_s = (double)fr / L->rate;
    double avg = audio_s > 0 ? 100.0 * (double)atomic_load(&L->busy_ns) * 1e-9 / audio_s : 0.0;
    double mx = (double)atomic_load(&L->busy_max_ppm) * 1e-4;
    if (a->status_line && f == stderr)
        fprintf(f, "\r\033[K");
    fprintf(f, "rnnfx-live: ran %.2f s: %llu callbacks, %llu frames (%.2f s of audio) at %g Hz, %lu-frame buffers\n",
            elapsed, (unsigned long long)cb, (unsigned long long)fr, audio_s, L->rate,
            cb ? (unsigned long)(fr / cb) : L->frames);
    char knobs[256];
    describe_knobs(a, knobs, sizeof knobs);
    if (knobs[0])
        fprintf(f, "rnnfx-live: knobs: %s\n", knobs);
    fprintf(f, "rnnfx-live: dropouts: %llu (input overflow %llu, input underflow %llu, output underflow %llu, output overflow %llu)\n",
            (unsigned long long)dropouts(L), (unsigned long long)atomic_load(&L->in_overflow),
            (unsigned long long)atomic_load(&L->in_underflow),
            (unsigned long long)atomic_load(&L->out_underflow),
            (unsigned long long)atomic_load(&L->out_overflow));
    double per_cb = cb ? (double)fr / (double)cb : (double)L->frames;
    if (dropouts(L))
        fprintf(f, "rnnfx-live: dropouts reported at callbacks %llu..%llu (%.2f..%.2f s)\n",
                (unsigned long long)atomic_load(&L->first_dropout_at) - 1,
                (unsigned long long)atomic_load(&L->last_dropout_at) - 1,
                (double)(atomic_load(&L->first_dropout_at) - 1) * per_cb / L->rate,
                (double)(atomic_load(&L->last_dropout_at) - 1) * per_cb / L->rate);
    fprintf(f, "rnnfx-live: cpu: average %.2f %%, worst callback %.2f %% of its period (callback %llu)\n",
            avg, mx, (unsigned long long)atomic_load(&L->busy_max_at));
    float ip, op;
    uint32_t ib = atomic_load(&L->in_peak_run_bits), ob = atomic_load(&L->out_peak_run_bits);
    memcpy(&ip, &ib, sizeof ip);
    memcpy(&op, &ob, sizeof op);
    fprintf(f, "rnnfx-live: peaks: in %.1f dBFS, out %.1f dBFS\n", ip > 0 ? 20 * log10(ip) : -120.0,
            op > 0 ? 20 * log10(op) : -120.0);
    fprintf(f, "rnnfx-live: model swaps: %llu requested, %llu installed, %llu failed to load\n",
            (unsigned long long)a->swaps_requested, (unsigned long long)atomic_load(&L->swaps_installed),
            (unsigned long long)a->swaps_failed);
    fprintf(f, "rnnfx-live: impulse response changes: %llu requested, %llu installed, %llu failed",
            (unsigned long long)a->ir_requested, (unsigned long long)atomic_load(&L->ir_installed),
            (unsigned long long)a->ir_failed);
    if (a->ir_waiting)
        fprintf(f, ", %llu with no model playing (kept for the next model)",
                (unsigned long long)a->ir_waiting);
    fprintf(f, "\n");
    uint64_t superseded = atomic_load(&L->superseded);
    if (superseded || a->swaps_refused)
        fprintf(f, "rnnfx-live: changes never heard: %llu replaced by a later one before they "
                   "played, %llu dropped while others settled\n",
                (unsigned long long)superseded, (unsigned long long)a->swaps_refused);
    fflush(f);
}

static void status(App *a)
{
    Live *L = a->L;
    /* CPU over the last status interval: time in the callback / audio time. */
    static uint64_t last_busy = 0, last_frames = 0;
    uint64_t busy = atomic_load(&L->busy_ns), fr = atomic_load(&L->frames_done);
    double cpu = fr > last_frames ? 100.0 * (double)(busy - last_busy) * 1e-9 /
                                        ((double)(fr - last_frames) / L->rate)
                                  : 0.0;
    last_busy = busy;
    last_frames = fr;
    char knobs[256];
    describe_knobs(a, knobs, sizeof knobs);
    float ip = take_float(&L->in_peak_bits), op = take_float(&L->out_peak_bits);
    fprintf(stderr,
            "\r\033[KCPU %4.1f%%  xruns %llu  in %6.1f dBFS  out %6.1f dBFS | in %+.0f dB out %+.0f dB "
            "mix %.2f %s%s %s",
            cpu, (unsigned long long)dropouts(L),
            ip > 0 ? 20 * log10(ip) : -120.0, op > 0 ? 20 * log10(op) : -120.0, a->controls.input_db,
            a->controls.output_db, a->controls.mix, a->controls.enabled ? "" : "[BYPASS] ",
            atomic_load(&L->switching) ? "[switching]" : "", knobs);
    fflush(stderr);
}

/* ---- timed script ----------------------------------------------------------------- */

typedef struct {
    double at;
    char *text;
    size_t order; /* position in the file: lines with the same time keep it */
} ScriptLine;

static int cmp_script(const void *x, const void *y)
{
    const ScriptLine *p = x, *q = y;
    if (p->at != q->at)
        return p->at < q->at ? -1 : 1;
    /* qsort is not stable; "1.0 model X" then "1.0 set KNOB V" must stay
     * in that order */
    return p->order < q->order ? -1 : p->order > q->order;
}

/* Reads "TIME COMMAND" lines (TIME in seconds from the start of audio). */
static int load_script(const char *path, ScriptLine **out, size_t *count)
{
    /* A folder opens for reading on Linux and reads as nothing (EISDIR):
     * it once ran as an empty script without a word. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "rnnfx-live: --script %s is a folder; give a text file of 'SECONDS COMMAND' lines\n",
                path);
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "rnnfx-live: %s: %s\n", path, strerror(errno));
        return -1;
    }
    ScriptLine *lines = NULL;
    size_t n = 0, cap = 0;
    char buf[2048];
    int lineno = 0;
    while (fgets(buf, sizeof buf, f)) {
        lineno++;
        char *s = buf;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#')
            continue;
        char *end;
        double at = strtod(s, &end);
        if (end == s || !isfinite(at) || at < 0) {
            fprintf(stderr, "rnnfx-live: %s:%d: expected 'SECONDS COMMAND'\n", path, lineno);
            fclose(f);
            free(lines);
            return -1;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            ScriptLine *nl = realloc(lines, cap * sizeof *nl);
            if (!nl) {
                fclose(f);
                free(lines);
                return -1;
            }
            lines = nl;
        }
        lines[n].at = at;
        lines[n].order = n;
        lines[n].text = strdup(end);
        if (!lines[n].text) {
            fclose(f);
            free(lines);
            return -1;
        }
        n++;
    }
    if (ferror(f)) {
        fprintf(stderr, "rnnfx-live: %s: read error after line %d\n", path, lineno);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            free(lines[i].text);
        free(lines);
        return -1;
    }
    fclose(f);
    qsort(lines, n, sizeof *lines, cmp_script);
    *out = lines;
    *count = n;
    return 0;
}

/* ---- devices ------------------------------------------------------------------------- */

static const char *host_type_name(PaHostApiTypeId t)
{
    switch (t) {
    case paALSA: return "alsa";
    case paJACK: return "jack";
    case paOSS: return "oss";
    case paCoreAudio: return "coreaudio";
    case paASIO: return "asio";
    case paWASAPI: return "wasapi";
    case paWDMKS: return "wdmks";
    case paDirectSound: return "directsound";
    case paMME: return "mme";
    default: return "other";
    }
}

static void list_devices(void)
{
    int nh = Pa_GetHostApiCount();
    printf("host APIs (default: %s):\n",
           nh > 0 ? Pa_GetHostApiInfo(Pa_GetDefaultHostApi())->name : "none");
    for (int h = 0; h < nh; h++) {
        const PaHostApiInfo *hi = Pa_GetHostApiInfo(h);
        printf("  %d: %s (--host-api %s), %d devices\n", h, hi->name, host_type_name(hi->type),
               hi->deviceCount);
        for (int d = 0; d < hi->deviceCount; d++) {
            PaDeviceIndex di = Pa_HostApiDeviceIndexToDeviceIndex(h, d);
            const PaDeviceInfo *dv = Pa_GetDeviceInfo(di);
            printf("    device %d: %s — in %d, out %d, %g Hz%s%s\n", di, dv->name,
                   dv->maxInputChannels, dv->maxOutputChannels, dv->defaultSampleRate,
                   di == hi->defaultInputDevice ? " [default in]" : "",
                   di == hi->defaultOutputDevice ? " [default out]" : "");
        }
    }
}

/* Case-insensitive substring test (strcasestr is a GNU extension). */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return 1;
    return n == 0;
}

static PaHostApiIndex find_host_api(const char *name)
{
    long idx;
    if (rnnfx_cli_parse_int(name, 0, Pa_GetHostApiCount() - 1, &idx) == 0)
        return (PaHostApiIndex)idx;
    for (int h = 0; h < Pa_GetHostApiCount(); h++) {
        const PaHostApiInfo *hi = Pa_GetHostApiInfo(h);
        if (!strcasecmp(name, host_type_name(hi->type)) || contains_ci(hi->name, name))
            return h;
    }
    return -1;
}

/* A device of host API h by global index or by (part of) its name, with at
 * least one channel in the wanted direction. */
static PaDeviceIndex find_device(PaHostApiIndex h, const char *name, int input)
{
    const PaHostApiInfo *hi = Pa_GetHostApiInfo(h);
    if (!name)
        return input ? hi->defaultInputDevice : hi->defaultOutputDevice;
    long idx;
    if (rnnfx_cli_parse_int(name, 0, Pa_GetDeviceCount() - 1, &idx) == 0)
        return (PaDeviceIndex)idx;
    for (int d = 0; d < hi->deviceCount; d++) {
        PaDeviceIndex di = Pa_HostApiDeviceIndexToDeviceIndex(h, d);
        const PaDeviceInfo *dv = Pa_GetDeviceInfo(di);
        int ch = input ? dv->maxInputChannels : dv->maxOutputChannels;
        if (ch > 0 && contains_ci(dv->name, name))
            return di;
    }
    return paNoDevice;
}

/* PortAudio's ALSA probing prints pages of warnings on machines without a
 * sound card; hide stderr while it initialises unless asked not to. */
static PaError quiet_initialize(int verbose)
{
    if (verbose)
        return Pa_Initialize();
    fflush(stderr);
    int saved = dup(2);
    int devnull = open("/dev/null", O_WRONLY);
    if (saved >= 0 && devnull >= 0)
        dup2(devnull, 2);
    PaError e = Pa_Initialize();
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    if (devnull >= 0)
        close(devnull);
    return e;
}

/* Zeroes the callback's statistics. Thread: main, while no stream runs. */
static void reset_stats(Live *L)
{
    atomic_store(&L->callbacks, 0);
    atomic_store(&L->frames_done, 0);
    atomic_store(&L->in_overflow, 0);
    atomic_store(&L->in_underflow, 0);
    atomic_store(&L->out_underflow, 0);
    atomic_store(&L->out_overflow, 0);
    atomic_store(&L->busy_ns, 0);
    atomic_store(&L->busy_max_ppm, 0);
    atomic_store(&L->busy_max_at, 0);
    atomic_store(&L->first_dropout_at, 0);
    atomic_store(&L->last_dropout_at, 0);
    atomic_store(&L->in_peak_run_bits, 0);
    atomic_store(&L->out_peak_run_bits, 0);
}

/* The smallest buffer size that runs cleanly here: each candidate plays for
 * 0.6 s (through the model) and passes with no over/underrun and no
 * callback above 60 % of its period. Returns 0 if none could be opened.
 * Thread: main (opens and closes streams). */
static long probe_frames(Live *L, const PaStreamParameters *ip, const PaStreamParameters *op,
                         double rate)
{
    static const long sizes[] = {64, 128, 256, 512, 1024};
    long opened = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        PaStream *s = NULL;
        if (Pa_OpenStream(&s, ip, op, rate, (unsigned long)sizes[i], paClipOff, audio_cb, L) !=
            paNoError)
            continue;
        opened = sizes[i];
        reset_stats(L);
        L->frames = (unsigned long)sizes[i];
        if (Pa_StartStream(s) != paNoError) {
            Pa_CloseStream(s);
            continue;
        }
        struct timespec ts = {0, 600000000L};
        nanosleep(&ts, NULL);
        Pa_StopStream(s);
        Pa_CloseStream(s);
        uint64_t cb = atomic_load(&L->callbacks), drops = dropouts(L);
        double worst = (double)atomic_load(&L->busy_max_ppm) * 1e-4;
        fprintf(stderr, "rnnfx-live: probe %4ld frames: %llu callbacks, %llu dropouts, worst callback %.0f %%\n",
                sizes[i], (unsigned long long)cb, (unsigned long long)drops, worst);
        if (cb > 0 && drops == 0 && worst < 60.0)
            return sizes[i];
    }
    if (opened)
        fprintf(stderr, "rnnfx-live: no buffer size ran cleanly; using %ld frames\n", opened);
    return opened;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: rnnfx-live [options]\n"
        "Plays the sound card's input through a model to its output.\n"
        "\n"
        "  --list               list host APIs and devices, then exit\n"
        "  --host-api NAME      jack, alsa, oss, ... (or an index from --list)\n"
        "  --in DEV, --out DEV  device index or part of its name (default: the host\n"
        "                       API's default devices)\n"
        "  --channels N         1 (mono, default) or 2 channels through the model\n"
        "  --rate HZ            sample rate (default: the output device's)\n"
        "  --frames N|auto      buffer size in frames. auto (default): on JACK the\n"
        "                       server's period; elsewhere the smallest of 64, 128,\n"
        "                       256, 512, 1024 that runs a short probe cleanly\n"
        "  -m, --model FILE     model to play (without one the input passes through)\n"
        "  --ir FILE            impulse response (a speaker cabinet; mono or stereo\n"
        "                       sound file) after the model, before the dry/wet mix;\n"
        "                       resampled to the stream's rate, no added latency\n"
        "  --in-gain DB, --out-gain DB, --mix X, --set KNOB=VALUE, --bypass, --normalize\n"
        "                       start-up controls, as in rnnfx-process\n"
        "  --seconds S          stop after S seconds and print statistics (0, the default: run until\n"
        "                       Ctrl-C or the quit command)\n"
        "  --script FILE        timed commands, one 'SECONDS COMMAND' per line\n"
        "  --control FIFO       read commands from a named pipe (created if missing)\n"
        "  --verbose            show PortAudio's own messages\n"
        "  -h, --help           this text\n"
        "  --version            the program's version\n"
        "\n"
        "Commands (script, FIFO, or standard input when it is not a terminal and no\n"
        "--seconds, --script or --control is given):\n"
        "  in-gain DB | out-gain DB | mix X | set KNOB VALUE | bypass on|off|toggle |\n"
        "  normalize on|off | model PATH | ir PATH|off | stats | quit\n"
        "Keys (terminal): i/I o/O gains, m/M mix, k select knob, [ ] knob, b bypass,\n"
        "  l load model, s stats, h help, q quit.\n"
        "\n"
        "Exit status: 0 (also with dropouts; they are counted and printed);\n"
        "1 a file (model, script) could not be used or the stream could not be\n"
        "opened or failed; 2 bad usage (unknown option, bad value).\n");
}

static int need(int i, int argc, const char *opt)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "rnnfx-live: %s needs a value (see --help)\n", opt);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    /* "--name=value" as well as "--name value", as the other tools take */
    static const char *const value_opts[] = {
        "--host-api", "--in", "--out", "--model", "--script", "--control", "--frames",
        "--channels", "--rate", "--seconds", "--in-gain", "--out-gain", "--mix", "--set", "--ir",
        NULL};
    argv = rnnfx_cli_split_equals(argc, argv, value_opts, &argc);
    if (!argv) {
        fprintf(stderr, "rnnfx-live: out of memory\n");
        return 1;
    }
    const char *host_name = NULL, *in_name = NULL, *out_name = NULL, *model_path = NULL;
    const char *script_path = NULL, *fifo_path = NULL, *ir_path = NULL;
    int do_list = 0, verbose = 0, bypass = 0, normalize = 0;
    long frames = 0, channels = 1; /* frames 0: auto */
    double rate = 0, seconds = 0, in_db = 0, out_db = 0, mix = 1;
    RnnfxCliKnob knobs[RNNFX_MAX_PARAMS];
    int n_knobs = 0;
    char msg[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            return rnnfx_cli_version("rnnfx-live");
        } else if (!strcmp(a, "--list")) {
            do_list = 1;
        } else if (!strcmp(a, "--verbose")) {
            verbose = 1;
        } else if (!strcmp(a, "--bypass")) {
            bypass = 1;
        } else if (!strcmp(a, "--normalize")) {
            normalize = 1;
        } else if (!strcmp(a, "--host-api")) {
            if (!need(i, argc, a)) return 2;
            host_name = argv[++i];
        } else if (!strcmp(a, "--in")) {
            if (!need(i, argc, a)) return 2;
            in_name = argv[++i];
        } else if (!strcmp(a, "--out")) {
            if (!need(i, argc, a)) return 2;
            out_name = argv[++i];
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!need(i, argc, a) || rnnfx_cli_set_once("rnnfx-live", "-m/--model", &model_path, argv[++i]))
                return 2;
        } else if (!strcmp(a, "--script")) {
            if (!need(i, argc, a) || rnnfx_cli_set_once("rnnfx-live", a, &script_path, argv[++i]))
                return 2;
        } else if (!strcmp(a, "--ir")) {
            if (!need(i, argc, a) || rnnfx_cli_set_once("rnnfx-live", a, &ir_path, argv[++i]))
                return 2;
        } else if (!strcmp(a, "--control")) {
            if (!need(i, argc, a) || rnnfx_cli_set_once("rnnfx-live", a, &fifo_path, argv[++i]))
                return 2;
        } else if (!strcmp(a, "--frames")) {
            if (!need(i, argc, a))
                return 2;
            if (!strcmp(argv[i + 1], "auto"))
                frames = 0;
            else if (rnnfx_cli_parse_int(argv[i + 1], 16, 65536, &frames) != 0) {
                fprintf(stderr, "rnnfx-live: --frames needs 16..65536 or auto\n");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--channels")) {
            if (!need(i, argc, a) || rnnfx_cli_parse_int(argv[i + 1], 1, 2, &channels) != 0) {
                fprintf(stderr, "rnnfx-live: --channels needs 1 or 2\n");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--rate") || !strcmp(a, "--seconds") || !strcmp(a, "--in-gain") ||
                   !strcmp(a, "--out-gain") || !strcmp(a, "--mix")) {
            if (!need(i, argc, a) || rnnfx_cli_parse_double(argv[i + 1], &v) != 0) {
                fprintf(stderr, "rnnfx-live: %s needs a number\n", a);
                return 2;
            }
            i++;
            if (!strcmp(a, "--rate")) rate = v;
            else if (!strcmp(a, "--seconds")) seconds = v;
            else if (!strcmp(a, "--in-gain")) in_db = v;
            else if (!strcmp(a, "--out-gain")) out_db = v;
            else mix = v;
            if ((!strcmp(a, "--rate") && (v < 8000 || v > 384000)) || (!strcmp(a, "--mix") && (v < 0 || v > 1)) ||
                (!strcmp(a, "--seconds") && v < 0) ||
                ((!strcmp(a, "--in-gain") || !strcmp(a, "--out-gain")) &&
                 (v < RNNFX_CHAIN_GAIN_MIN_DB || v > RNNFX_CHAIN_GAIN_MAX_DB))) {
                /* --help gives no ranges: say it here */
                char range[64];
                if (!strcmp(a, "--rate"))
                    snprintf(range, sizeof range, "8000 to 384000 Hz");
                else if (!strcmp(a, "--mix"))
                    snprintf(range, sizeof range, "0 (dry) to 1 (wet)");
                else if (!strcmp(a, "--seconds"))
                    snprintf(range, sizeof range, "0 (run until quit) or more");
                else
                    snprintf(range, sizeof range, "%g to %g dB", (double)RNNFX_CHAIN_GAIN_MIN_DB,
                             (double)RNNFX_CHAIN_GAIN_MAX_DB);
                fprintf(stderr, "rnnfx-live: %s %s is out of range: %s takes %s\n", a, argv[i], a,
                        range);
                return 2;
            }
        } else if (!strcmp(a, "--set")) {
            if (!need(i, argc, a)) return 2;
            if (n_knobs >= RNNFX_MAX_PARAMS ||
                rnnfx_cli_parse_knob(argv[++i], &knobs[n_knobs], msg, sizeof msg) != 0) {
                fprintf(stderr, "rnnfx-live: --set: %s\n", n_knobs >= RNNFX_MAX_PARAMS ? "too many" : msg);
                return 2;
            }
            n_knobs++;
        } else {
            fprintf(stderr, "rnnfx-live: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }

    /* An existing --control path must be a named pipe: a regular file (say
     * a WAV given by mistake) was read as commands, its bytes reported as
     * unknown commands, after the stream had started. */
    if (fifo_path) {
        struct stat fst;
        if (stat(fifo_path, &fst) == 0 && !S_ISFIFO(fst.st_mode)) {
            fprintf(stderr, "rnnfx-live: --control %s exists and is not a named pipe (FIFO); give an "
                            "existing FIFO or a new name (it is created)\n",
                    fifo_path);
            return 1;
        }
    }
    ScriptLine *script = NULL;
    size_t n_script = 0, next_script = 0;
    if (script_path && load_script(script_path, &script, &n_script) != 0)
        return 1;

    RnnfxModel *model = NULL;
    if (model_path) {
        RnnfxError err = {{0}};
        RnnfxStatus st = rnnfx_model_load(model_path, NULL, &model, &err);
        if (st != RNNFX_OK) {
            fprintf(stderr, "rnnfx-live: %s: %s\n", model_path,
                    rnnfx_cli_without_path(err.msg[0] ? err.msg : rnnfx_strerror(st), model_path));
            return 1;
        }
        if (rnnfx_model_arch(model)->kind != RNNFX_KIND_AUDIO) {
            fprintf(stderr, "rnnfx-live: %s is a MIDI-frame model, not an audio capture\n", model_path);
            rnnfx_model_free(model);
            return 1;
        }
        {
            /* as rnnfx-process and rnnfx-inspect do: a model that settles
             * far from 0 plays a DC offset under everything */
            char rw[300];
            rnnfx_cli_rest_warning(rnnfx_cli_model_rest_output(model), rw, sizeof rw);
            if (rw[0])
                fprintf(stderr, "rnnfx-live: warning: %s: %s\n", model_path, rw);
            char note[1400];
            assumed_rate_note(model, model_path, note, sizeof note);
            if (note[0])
                fprintf(stderr, "rnnfx-live: %s\n", note);
        }
        int idx[RNNFX_MAX_PARAMS];
        if (rnnfx_cli_resolve_knobs(model, knobs, n_knobs, idx, msg, sizeof msg) != 0) {
            fprintf(stderr, "rnnfx-live: --set: %s\n", msg);
            rnnfx_model_free(model);
            return 2;
        }
    } else if (n_knobs) {
        fprintf(stderr, "rnnfx-live: --set needs a model (-m)\n");
        return 2;
    }
    /* The impulse response, checked before any device is opened (it is
     * made again for the stream's rate once that is known). */
    if (ir_path) {
        RnnfxIr *ir = NULL;
        RnnfxError err = {{0}};
        RnnfxStatus st = rnnfx_ir_load(ir_path, 48000.0, 1, &ir, &err);
        if (st != RNNFX_OK) {
            fprintf(stderr, "rnnfx-live: impulse response %s: %s\n", ir_path,
                    rnnfx_cli_without_path(err.msg[0] ? err.msg : rnnfx_strerror(st), ir_path));
            rnnfx_model_free(model);
            return 1;
        }
        rnnfx_ir_free(ir);
    }

    if (quiet_initialize(verbose) != paNoError) {
        fprintf(stderr, "rnnfx-live: PortAudio failed to start\n");
        rnnfx_model_free(model);
        return 1;
    }
    int rc = 0;
    PaStream *stream = NULL;
    int lost = 0; /* the stream stopped on its own (device or server gone) */
    Live *L = NULL;
    App app;
    memset(&app, 0, sizeof app);
    if (do_list) {
        list_devices();
        goto out;
    }

    PaHostApiIndex h = host_name ? find_host_api(host_name) : Pa_GetDefaultHostApi();
    if (h < 0) {
        fprintf(stderr, "rnnfx-live: no host API '%s' (see --list%s)\n", host_name,
                !strcasecmp(host_name, "jack") ? "; is a JACK server running?" : "");
        rc = 1;
        goto out;
    }
    PaDeviceIndex din = find_device(h, in_name, 1), dout = find_device(h, out_name, 0);
    if (dout == paNoDevice) {
        fprintf(stderr, "rnnfx-live: no output device%s%s on %s (see --list)\n", out_name ? " " : "",
                out_name ? out_name : "", Pa_GetHostApiInfo(h)->name);
        rc = 1;
        goto out;
    }
    if (din == paNoDevice) {
        fprintf(stderr, "rnnfx-live: no input device%s%s on %s (see --list)\n", in_name ? " " : "",
                in_name ? in_name : "", Pa_GetHostApiInfo(h)->name);
        rc = 1;
        goto out;
    }
    const PaDeviceInfo *ii = Pa_GetDeviceInfo(din), *oi = Pa_GetDeviceInfo(dout);
    if (ii->maxInputChannels < 1 || oi->maxOutputChannels < 1) {
        fprintf(stderr, "rnnfx-live: %s has no inputs or %s has no outputs\n", ii->name, oi->name);
        rc = 1;
        goto out;
    }
    if (rate <= 0)
        rate = oi->defaultSampleRate;

    L = calloc(1, sizeof *L);
    if (!L) {
        rc = 1;
        goto out;
    }
    L->chain_ch = (int)channels;
    L->in_ch = ii->maxInputChannels < channels ? ii->maxInputChannels : (int)channels;
    L->out_ch = oi->maxOutputChannels < 2 ? oi->maxOutputChannels : 2;
    if (L->out_ch < L->chain_ch) {
        fprintf(stderr, "rnnfx-live: %s has one output channel; use --channels 1\n", oi->name);
        rc = 1;
        goto out;
    }
    L->rate = rate;
    {
        RnnfxError err = {{0}};
        RnnfxStatus st = rnnfx_chain_new_multi(NULL, rate, L->chain_ch, 1024, &L->chain, &err);
        if (st != RNNFX_OK) {
            fprintf(stderr, "rnnfx-live: %s\n", err.msg);
            rnnfx_model_free(model);
            model = NULL;
            rc = 1;
            goto out;
        }
        if (ir_path) {
            st = rnnfx_ir_load(ir_path, rate, L->chain_ch, &app.ir, &err);
            if (st != RNNFX_OK) {
                fprintf(stderr, "rnnfx-live: impulse response %s (for %g Hz): %s\n", ir_path, rate,
                        rnnfx_cli_without_path(err.msg[0] ? err.msg : rnnfx_strerror(st), ir_path));
                rnnfx_model_free(model);
                model = NULL;
                rc = 1;
                goto out;
            }
            snprintf(app.ir_path, sizeof app.ir_path, "%s", ir_path);
        }
        if (model) {
            RnnfxChainCore *core = NULL;
            st = rnnfx_chain_core_new_ir(L->chain, model, 1, app.ir, &core, &err);
            model = NULL; /* owned by the core now (freed on failure too) */
            if (st != RNNFX_OK) {
                fprintf(stderr, "rnnfx-live: %s: %s\n", model_path, err.msg);
                rc = 1;
                goto out;
            }
            /* Nothing plays yet: the core takes over at once. */
            RnnfxChainCore *displaced = NULL;
            app.model = rnnfx_chain_core_model(core);
            rnnfx_chain_swap(L->chain, core, &displaced);
            rnnfx_chain_core_free(displaced);
            snprintf(app.model_path, sizeof app.model_path, "%s", model_path);
        }
    }
    app.L = L;
    rnnfx_chain_controls_init(&app.controls);
    app.controls.input_db = (float)in_db;
    app.controls.output_db = (float)out_db;
    app.controls.mix = (float)mix;
    app.controls.enabled = !bypass;
    app.controls.normalize = normalize;
    {
        const RnnfxModel *m = app.model;
        if (m) {
            const RnnfxArch *arch = rnnfx_model_arch(m);
            app.controls.n_knobs = arch->n_params;
            for (int k = 0; k < arch->n_params; k++)
                app.controls.knobs[k] = NAN; /* the model's default (knob_unit) */
            for (int i = 0; i < n_knobs; i++) {
                int k = rnnfx_model_param_index(m, knobs[i].name);
                const RnnfxParamDesc *pd = &arch->params[k];
                if (knobs[i].value < pd->min || knobs[i].value > pd->max)
                    fprintf(stderr, "rnnfx-live: warning: %s=%g is outside the knob's range "
                                    "%g..%g; clamped\n",
                            pd->name, knobs[i].value, pd->min, pd->max);
                app.controls.knobs[k] = rnnfx_chain_knob_normalize(m, k, (float)knobs[i].value);
            }
        }
    }
    /* First controls snap (no ramp) before the stream starts. */
    rnnfx_chain_set_controls(L->chain, &app.controls);

    PaStreamParameters ip = {din, L->in_ch, paFloat32 | paNonInterleaved,
                             ii->defaultLowInputLatency, NULL};
    PaStreamParameters op = {dout, L->out_ch, paFloat32 | paNonInterleaved,
                             oi->defaultLowOutputLatency, NULL};
    int is_jack = Pa_GetHostApiInfo(h)->type == paJACK;
    if (frames == 0 && !is_jack) {
        frames = probe_frames(L, &ip, &op, rate);
        if (frames == 0) {
            fprintf(stderr, "rnnfx-live: cannot open %s -> %s at %g Hz with any buffer size\n",
                    ii->name, oi->name, rate);
            rc = 1;
            goto out;
        }
    }
    /* frames 0 on JACK: take whatever the server's period is. */
    L->frames = (unsigned long)frames;
    PaError pe = Pa_OpenStream(&stream, &ip, &op, rate,
                               frames ? (unsigned long)frames : paFramesPerBufferUnspecified,
                               paClipOff, audio_cb, L);
    if (pe != paNoError) {
        /* "0 frames" was the auto setting; a rate other than a JACK
         * server's own is the usual cause and deserves saying */
        char fr[48];
        if (frames)
            snprintf(fr, sizeof fr, "%ld frames", frames);
        else
            snprintf(fr, sizeof fr, "%s", is_jack ? "the server's period" : "automatic buffer size");
        char why[128] = "";
        if (is_jack && fabs(rate - oi->defaultSampleRate) > 0.5)
            snprintf(why, sizeof why, " (the JACK server runs at %g Hz and cannot run at another "
                                      "rate: leave out --rate)",
                     oi->defaultSampleRate);
        fprintf(stderr, "rnnfx-live: cannot open %s -> %s at %g Hz, %s: %s%s\n", ii->name,
                oi->name, rate, fr, Pa_GetErrorText(pe), why);
        stream = NULL;
        rc = 1;
        goto out;
    }
    reset_stats(L);
    const PaStreamInfo *si = Pa_GetStreamInfo(stream);
    char fr_text[48];
    if (frames)
        snprintf(fr_text, sizeof fr_text, "%ld frames", frames);
    else
        snprintf(fr_text, sizeof fr_text, "the server's period");
    fprintf(stderr, "rnnfx-live: %s: %s -> %s, %g Hz, %s, %d in / %d out channels, "
                    "latency %.1f ms in + %.1f ms out + %.1f ms resampling\n",
            Pa_GetHostApiInfo(h)->name, ii->name, oi->name, rate, fr_text, L->in_ch, L->out_ch,
            si ? 1e3 * si->inputLatency : 0, si ? 1e3 * si->outputLatency : 0,
            1e3 * rnnfx_chain_latency(L->chain) / rate);
    if (app.model_path[0])
        fprintf(stderr, "rnnfx-live: playing %s\n", app.model_path);
    else
        fprintf(stderr, "rnnfx-live: no model: passing the input through\n");
    if (app.ir) {
        char d[1400];
        describe_ir(app.ir, app.ir_path, d, sizeof d);
        fprintf(stderr, "rnnfx-live: %s%s\n", d,
                app.model_path[0] ? ", after the model and before the mix"
                                  : "; plays once a model is loaded");
    }

    int fifo = -1;
    if (fifo_path) {
        struct stat fst;
        if (stat(fifo_path, &fst) != 0 && mkfifo(fifo_path, 0600) != 0) {
            fprintf(stderr, "rnnfx-live: cannot create FIFO %s: %s\n", fifo_path, strerror(errno));
            rc = 1;
            goto out;
        }
        /* Read-write so the pipe always has a writer: no EOF busy loop when
         * a client disconnects. */
        fifo = open(fifo_path, O_RDWR | O_NONBLOCK);
        if (fifo < 0) {
            fprintf(stderr, "rnnfx-live: cannot open %s: %s\n", fifo_path, strerror(errno));
            rc = 1;
            goto out;
        }
    }
    app.tty = raw_tty();
    app.status_line = app.tty && isatty(2);
    /* Not with --seconds, --script or --control: a timed run in a shell
     * script would read that script's own standard input (the lines after
     * it, when the script is piped into sh) */
    int stdin_cmds = !app.tty && !isatty(0) && !script_path && !fifo_path && seconds <= 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    /* a second Ctrl-C ends the program outright, should the audio system
     * hold up the clean stop the first one asked for */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* Keep the pages we have resident so the callback never waits for a
     * page fault (best effort: needs CAP_IPC_LOCK or a memlock limit).
     * Not MCL_FUTURE: that would also pin every later thread stack and
     * allocation of the libraries, and an allocation failing under memory
     * pressure is worse than a page fault. Cores built later are written
     * in full on the main thread, so their pages are resident anyway. */
    if (mlockall(MCL_CURRENT) != 0 && verbose)
        fprintf(stderr, "rnnfx-live: memory not locked (%s); page faults may cause dropouts\n",
                strerror(errno));
    pe = Pa_StartStream(stream);
    if (pe != paNoError) {
        fprintf(stderr, "rnnfx-live: cannot start the stream: %s\n", Pa_GetErrorText(pe));
        if (fifo >= 0)
            close(fifo);
        rc = 1;
        goto out;
    }
    app.start = rnnfx_cli_now();
    if (app.tty)
        key_help(&app);
    char fifo_buf[4096];
    size_t fifo_len = 0;
    char in_buf[4096];
    size_t in_len = 0;
    double last_status = 0;
    while (!app.quit && !g_quit) {
        struct pollfd pf[2];
        int np = 0;
        if (app.tty || stdin_cmds)
            pf[np++] = (struct pollfd){0, POLLIN, 0};
        if (fifo >= 0)
            pf[np++] = (struct pollfd){fifo, POLLIN, 0};
        poll(pf, (nfds_t)np, 20);
        double t = rnnfx_cli_now() - app.start;
        if (app.tty) {
            unsigned char c;
            while (read(0, &c, 1) == 1)
                key(&app, c);
        } else if (stdin_cmds && np > 0 && (pf[0].revents & (POLLIN | POLLHUP))) {
            ssize_t r = read(0, in_buf + in_len, sizeof in_buf - 1 - in_len);
            if (r <= 0) {
                /* end of input: a last line without its newline still
                 * counts ("...\nquit"), then play on until a signal */
                stdin_cmds = 0;
                if (in_len > 0) {
                    in_buf[in_len] = '\0';
                    command(&app, in_buf);
                    in_len = 0;
                }
            } else {
                in_len += (size_t)r;
                char *nl;
                in_buf[in_len] = '\0';
                while ((nl = strchr(in_buf, '\n')) != NULL) {
                    *nl = '\0';
                    command(&app, in_buf);
                    size_t used = (size_t)(nl + 1 - in_buf);
                    memmove(in_buf, nl + 1, in_len - used + 1);
                    in_len -= used;
                }
                if (in_len == sizeof in_buf - 1)
                    in_len = 0; /* an absurdly long line: drop it */
            }
        }
        if (fifo >= 0) {
            ssize_t r;
            while ((r = read(fifo, fifo_buf + fifo_len, sizeof fifo_buf - 1 - fifo_len)) > 0) {
                fifo_len += (size_t)r;
                fifo_buf[fifo_len] = '\0';
                char *nl;
                while ((nl = strchr(fifo_buf, '\n')) != NULL) {
                    *nl = '\0';
                    command(&app, fifo_buf);
                    size_t used = (size_t)(nl + 1 - fifo_buf);
                    memmove(fifo_buf, nl + 1, fifo_len - used + 1);
                    fifo_len -= used;
                }
                if (fifo_len == sizeof fifo_buf - 1)
                    fifo_len = 0;
            }
        }
        while (next_script < n_script && script[next_script].at <= t)
            command(&app, script[next_script++].text);
        if (app.controls_dirty)
            send_controls(&app);
        free_returned_cores(&app);
        if (!Pa_IsStreamActive(stream)) {
            fprintf(stderr, "\nrnnfx-live: the audio stream stopped (device lost?)\n");
            rc = 1;
            lost = 1;
            break;
        }
        if (app.status_line && t - last_status >= 0.25) {
            last_status = t;
            status(&app);
        }
        if (seconds > 0 && t >= seconds)
            break;
    }
    /* A stream whose device or server went away is not stopped or closed:
     * with the JACK server gone, PortAudio waited 10 minutes in
     * Pa_StopStream (Ctrl-C ignored) and then aborted on an assertion in
     * Pa_CloseStream. The process ends here anyway. */
    if (app.status_line)
        fprintf(stderr, "\n");
    restore_tty(); /* first: a second Ctrl-C during the stop leaves a usable terminal */
    if (!lost)
        Pa_StopStream(stream);
    free_returned_cores(&app);
    print_stats(&app, stdout);
    if (fifo >= 0)
        close(fifo);

out:
    if (lost) {
        /* (nor are the rings drained and the chain freed: nothing says the
         * lost stream's thread has let go of them) */
        for (size_t i = 0; i < n_script; i++)
            free(script[i].text);
        free(script);
        return rc;
    }
    if (stream)
        Pa_CloseStream(stream);
    Pa_Terminate();
    if (L) {
        /* The stream is closed: nothing consumes the rings any more, so this
         * thread may drain both (cores sent but never installed, cores
         * handed back but not yet freed). */
        Msg m;
        while (ring_pop(&L->to_audio, &m))
            if (m.type == MSG_CORE)
                rnnfx_chain_core_free(m.core);
        while (ring_pop(&L->to_main, &m))
            if (m.type == MSG_CORE)
                rnnfx_chain_core_free(m.core);
        for (int i = 0; i < L->n_unsent; i++)
            rnnfx_chain_core_free(L->unsent[i].core);
        rnnfx_chain_free(L->chain); /* frees every core it still holds */
        free(L);
    }
    for (size_t i = 0; i < n_script; i++)
        free(script[i].text);
    free(script);
    rnnfx_model_free(model);
    rnnfx_ir_free(app.ir);
    return rc;
}

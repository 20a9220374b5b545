/*
 * chain.c — host buffers <-> model: gains, resampling, mix, bypass, switches.
 *
 * See chain.h for the signal flow. This is the only engine file that uses
 * libsamplerate. Everything a chain or core needs is allocated in _new;
 * process/swap/reset/set_controls only move pointers and numbers.
 *
 * Resampling and latency. A core that resamples runs, per channel, a
 * down-converter (host rate -> model rate), the model, and an up-converter
 * (model rate -> host rate) whose output is appended to a FIFO. A converter
 * is the fixed-ratio polyphase resampler (resample.h) for the rate pairs it
 * supports, which are all the usual ones, and a libsamplerate sinc
 * converter for any other pair. Both place output sample k exactly at input
 * time k / ratio; they only hold samples back until enough look-ahead has
 * arrived. So the round
 * trip is aligned to the host grid and merely produces fewer samples than it
 * was given at first. The FIFO is primed with P zeros, where P is the largest
 * shortfall N - produced(N) over the first few thousand samples (measured at
 * core creation by feeding the converters one sample at a time, which gives
 * the worst case because the produced count depends only on how many samples
 * went in, not on how they were chunked). The latency is then exactly P host
 * samples, and any block size gives the same output.
 */
#include "chain.h"

#include <math.h>
#include <samplerate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convolver.h"
#include "fpmode.h"
#include "level.h"
#include "resample.h"

#define CHAIN_KNOB_STEP 32        /* knobs move once per this many samples */
#define CHAIN_GAIN_TAU 0.010      /* gains and mix, seconds */
#define CHAIN_KNOB_TAU 0.020      /* knobs, seconds */
#define CHAIN_RETIRED_CAP 8       /* cores waiting for take_retired */
#define CHAIN_LATENCY_PROBE 8192  /* host samples fed to measure the latency */
#define CHAIN_SRC_QUALITY SRC_SINC_MEDIUM_QUALITY /* for pairs resample.h lacks */

/* One channel's conversion in one direction: a polyphase resampler running
 * a filter the core owns, or else a libsamplerate converter. */
typedef struct {
    RnnfxResampler *poly;
    SRC_STATE *src;
    double ratio; /* output rate / input rate */
} Converter;

struct RnnfxChainCore {
    RnnfxModel *model; /* borrowed unless own_model */
    int own_model;
    int channels;
    size_t max_block;
    int resample;      /* 0: model runs at the host rate */
    double ratio_down; /* model_rate / host_rate */
    int latency;       /* host samples */
    RnnfxInstance *inst[RNNFX_CHAIN_MAX_CHANNELS];
    RnnfxResampleFilter *fdown, *fup; /* shared by the channels; NULL when
                                         libsamplerate converts */
    Converter down[RNNFX_CHAIN_MAX_CHANNELS];
    Converter up[RNNFX_CHAIN_MAX_CHANNELS];
    float *mbuf[RNNFX_CHAIN_MAX_CHANNELS]; /* [mcap] model-rate samples */
    size_t mcap;
    float *fifo[RNNFX_CHAIN_MAX_CHANNELS]; /* [fifo_cap] host-rate output */
    size_t fifo_cap;
    size_t fill[RNNFX_CHAIN_MAX_CHANNELS];
    float *wet[RNNFX_CHAIN_MAX_CHANNELS]; /* [max_block] this chunk's output */
    float *rest; /* the rest state, every layer's h then c (see core_settle) */
    float *rest_k; /* the rest state at rest_k_at, knobs off the defaults
                      (see core_keep_knob_rest); valid if rest_k_valid */
    float rest_k_at[RNNFX_CHAIN_MAX_KNOBS];
    int rest_k_valid;
    float rest_out; /* the model's output in that state (see core_settle) */
    double gain_db;  /* the model's level (level.h), NAN: none */
    float norm_gain; /* what plays it at the reference's level (1: none) */
    float ng;        /* the gain applied now, moving to norm_gain or 1 */
    int ng_snap;     /* the next chunk sets ng at once (after a reset) */
    RnnfxConvolver *cab[RNNFX_CHAIN_MAX_CHANNELS]; /* the impulse response
                                                     stage, or NULL */
    size_t ir_frames;
    float applied[RNNFX_CHAIN_MAX_KNOBS]; /* knob values last given to the
                                             instances, model units (NaN: none) */
    int kept; /* owned by the caller (rnnfx_chain_core_set_kept) */
    int knobs_held; /* keeps its applied knobs (rnnfx_chain_hold_knobs) */
};

struct RnnfxChain {
    int channels;
    double host_rate;
    size_t max_block;

    RnnfxChainCore *cur;     /* newest installed core (NULL: pass-through) */
    RnnfxChainCore *old;     /* fading out, or NULL */
    RnnfxChainCore *pending; /* waiting for the running fade to end, or
                                to settle at the knobs (warm_left) */
    long warm_left; /* samples of silence the pending core still runs before
                       its crossfade may start (see core_warm) */
    RnnfxChainCore *retired[CHAIN_RETIRED_CAP];
    int n_retired;
    long fade_pos, fade_len; /* model crossfade progress, samples; starts at
                                minus the new core's latency, so the fade-in
                                begins with its first real output sample
                                rather than at the end of its zero prefix */
    long e_hold; /* samples the bypass fade-in waits after re-enabling, for
                    the same reason */
    /* Fully bypassed, the output is the dry signal delayed by the current
     * core's latency. A core of another latency swapped in then would make
     * it jump (0 -> 107 samples for a 44.1 kHz model on a 48 kHz host), so
     * the dry signal crossfades from the old delay over fade_len samples:
     * dry_fade counts them (fade_len: none running). */
    int dry_lat_from;
    long dry_fade;

    /* controls: targets and smoothed values */
    int snap;   /* next set_controls jumps straight to the targets */
    int active; /* 0 once fully bypassed: cores are not run */
    float gin_t, gin, gout_t, gout, mix_t, mix;
    int norm; /* level-match the captures (RnnfxChainControls.normalize) */
    float e, e_t, e_step; /* bypass crossfade */
    float a_gain, a_knob;
    int knob_set[RNNFX_CHAIN_MAX_KNOBS];
    int knob_phase; /* samples since the last knob step, 0..CHAIN_KNOB_STEP-1;
                       steps sit on a fixed grid so chunking cannot change them */
    float knob_t[RNNFX_CHAIN_MAX_KNOBS], knob[RNNFX_CHAIN_MAX_KNOBS];

    /* dry delay line per channel, power-of-two ring */
    float *ring[RNNFX_CHAIN_MAX_CHANNELS];
    size_t ring_mask, ring_pos;

    /* per-chunk scratch, [max_block] each */
    float *x[RNNFX_CHAIN_MAX_CHANNELS];   /* sanitised input */
    float *xin[RNNFX_CHAIN_MAX_CHANNELS]; /* input times input gain */
    float *gin_buf, *gout_buf, *mix_buf, *e_buf, *fade_buf;

    float peak_in, peak_out;
};

/* ---- small helpers ---------------------------------------------------------- */

static float db_to_lin(float db)
{
    if (db < RNNFX_CHAIN_GAIN_MIN_DB) db = RNNFX_CHAIN_GAIN_MIN_DB;
    if (db > RNNFX_CHAIN_GAIN_MAX_DB) db = RNNFX_CHAIN_GAIN_MAX_DB;
    return powf(10.0f, db / 20.0f);
}

static float clamp01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }

/* One-pole step toward t; lands exactly on t once within float resolution
 * so that a settled control costs nothing and is bit-stable. "Within
 * resolution" includes a step that no longer moves v: the pole stalls
 * where (t - v) a rounds away, about ulp(v) / 2a short of t (240 ulp for a
 * gain at 48 kHz, beyond the relative test), and the chain then never took
 * its settled path again. */
static float smooth(float v, float t, float a)
{
    if (v == t) return v;
    const float nv = v + (t - v) * a;
    if (nv == v || fabsf(t - nv) <= 1e-6f * fabsf(t) + 1e-9f) return t;
    return nv;
}

void rnnfx_chain_controls_init(RnnfxChainControls *c)
{
    memset(c, 0, sizeof *c);
    c->input_db = 0.0f;
    c->output_db = 0.0f;
    c->mix = 1.0f;
    c->enabled = 1;
    c->n_knobs = 0;
}

float rnnfx_chain_knob_normalize(const RnnfxModel *model, int index, float value)
{
    const RnnfxArch *a = model ? rnnfx_model_arch(model) : NULL;
    if (!a || index < 0 || index >= a->n_params) return clamp01(value);
    const RnnfxParamDesc *p = &a->params[index];
    if (!(p->max > p->min)) return 0.0f;
    return clamp01((value - p->min) / (p->max - p->min));
}

float rnnfx_chain_knob_denormalize(const RnnfxModel *model, int index, float unit)
{
    const RnnfxArch *a = model ? rnnfx_model_arch(model) : NULL;
    if (!a || index < 0 || index >= a->n_params) return clamp01(unit);
    const RnnfxParamDesc *p = &a->params[index];
    if (!(p->max > p->min)) return p->min;
    return p->min + clamp01(unit) * (p->max - p->min);
}

/* ---- converters ---------------------------------------------------------------- */

/* filter NULL: a libsamplerate converter at this ratio. */
static RnnfxStatus conv_open(Converter *c, const RnnfxResampleFilter *filter, double ratio,
                             RnnfxError *err)
{
    memset(c, 0, sizeof *c);
    c->ratio = ratio;
    int e = 0;
    if (filter)
        c->poly = rnnfx_resample_new(filter);
    else
        c->src = src_new(CHAIN_SRC_QUALITY, 1, &e);
    if (!c->poly && !c->src)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "cannot create a resampler: %s",
                          e ? src_strerror(e) : "out of memory");
    return RNNFX_OK;
}

static void conv_close(Converter *c)
{
    rnnfx_resample_free(c->poly);
    if (c->src) src_delete(c->src);
    memset(c, 0, sizeof *c);
}

static void conv_reset(Converter *c)
{
    if (c->poly) rnnfx_resample_reset(c->poly);
    if (c->src) src_reset(c->src);
}

/* Converts a prefix of in[n] into out[room]: sets *used to the input
 * samples consumed and returns the samples written. Audio-safe. */
static size_t conv_run(Converter *c, const float *in, size_t n, float *out, size_t room,
                       size_t *used)
{
    if (c->poly) {
        size_t fit = rnnfx_resample_max_in(c->poly, room);
        *used = n < fit ? n : fit;
        return rnnfx_resample_process(c->poly, in, *used, out);
    }
    SRC_DATA d;
    memset(&d, 0, sizeof d);
    d.data_in = in;
    d.data_out = out;
    d.input_frames = (long)n;
    d.output_frames = (long)room;
    d.src_ratio = c->ratio;
    if (src_process(c->src, &d) != 0) {
        *used = 0;
        return 0;
    }
    *used = (size_t)d.input_frames_used;
    return (size_t)d.output_frames_gen;
}

/* ---- cores ------------------------------------------------------------------- */

/* Copies an instance's state vectors (each layer's h, then its c if it has
 * one) into r (save = 1) or back from it (save = 0). */
static void core_rest_walk(RnnfxChainCore *core, RnnfxInstance *inst, float *r, int save)
{
    const RnnfxArch *a = rnnfx_model_arch(core->model);
    for (int l = 0; l < a->n_layers; l++) {
        const size_t H = (size_t)a->layers[l].hidden_size;
        float *v[2] = {rnnfx_instance_hidden(inst, l), rnnfx_instance_cell(inst, l)};
        for (int j = 0; j < 2; j++) {
            if (!v[j]) continue;
            if (save) memcpy(r, v[j], H * sizeof(float));
            else memcpy(v[j], r, H * sizeof(float));
            r += H;
        }
    }
}

/* Runs inst over `count` (> 0) samples of silence, in place in the core's
 * channel-0 output buffer (no allocation: also used on the processing
 * thread); returns the last output. */
static float run_silence(RnnfxChainCore *core, RnnfxInstance *inst, size_t count)
{
    float *buf = core->wet[0];
    size_t len = 0;
    for (size_t i = 0; i < count; i += len) {
        len = count - i;
        if (len > core->max_block) len = core->max_block;
        memset(buf, 0, len * sizeof(float));
        rnnfx_instance_process(inst, buf, buf, len);
    }
    return buf[len - 1];
}

/* The rest state (chain.h: RNNFX_CHAIN_SETTLE_SAMPLES). On 14 public
 * captures (AIDA-X, Proteus, Automated-GuitarAmpModelling), 4096 samples
 * of silence leave at most 1.2e-4 of drift, where the first samples from
 * a zero state reach 0.78. Runs once when the core is built (off the audio
 * thread): a few milliseconds at most. */
static RnnfxStatus core_settle(RnnfxChainCore *core, RnnfxError *err)
{
    const RnnfxArch *a = rnnfx_model_arch(core->model);
    size_t floats = 0;
    for (int l = 0; l < a->n_layers; l++)
        floats += (size_t)a->layers[l].hidden_size * (a->layers[l].cell == RNNFX_CELL_LSTM ? 2 : 1);
    core->rest = calloc(floats ? floats : 1, sizeof(float));
    core->rest_k = calloc(floats ? floats : 1, sizeof(float));
    if (!core->rest || !core->rest_k)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for a processing core");
    RnnfxInstance *inst = core->inst[0];
    rnnfx_instance_reset(inst);
    core->rest_out = run_silence(core, inst, RNNFX_CHAIN_SETTLE_SAMPLES);
    core_rest_walk(core, inst, core->rest, 1);
    return RNNFX_OK;
}

/* The core's level (level.h), from the rest state core_settle left
 * channel 0's instance in, at the default knobs, and the gain that plays
 * it at the reference's level. Off the audio thread, when the core is
 * built: a few milliseconds for a small capture. */
static void core_measure_level(RnnfxChainCore *core, double model_rate)
{
    core->gain_db = rnnfx_level_measure(core->inst[0], model_rate);
    core->norm_gain = isfinite(core->gain_db) ? powf(10.0f, (float)(-core->gain_db / 20.0)) : 1.0f;
}

/* Puts every instance in the rest state, primes the output FIFOs with
 * `latency` zeros and clears converter state. */
static void core_reset(RnnfxChainCore *core)
{
    core->ng_snap = 1;
    for (int ch = 0; ch < core->channels; ch++) {
        rnnfx_instance_reset(core->inst[ch]);
        core_rest_walk(core, core->inst[ch], core->rest, 0);
        if (core->resample) {
            conv_reset(&core->down[ch]);
            conv_reset(&core->up[ch]);
            memset(core->fifo[ch], 0, core->fifo_cap * sizeof(float));
            core->fill[ch] = (size_t)core->latency;
        }
        rnnfx_convolver_reset(core->cab[ch]);
    }
}

/* Passes the chain's knob values to the instances where they changed. */
static void core_apply_knobs(RnnfxChainCore *core, const RnnfxChain *chain)
{
    if (core->knobs_held) return;
    const RnnfxArch *a = rnnfx_model_arch(core->model);
    int n = a->n_params < RNNFX_CHAIN_MAX_KNOBS ? a->n_params : RNNFX_CHAIN_MAX_KNOBS;
    for (int k = 0; k < n; k++) {
        float v = chain->knob_set[k] ? rnnfx_chain_knob_denormalize(core->model, k, chain->knob[k])
                                     : a->params[k].def;
        if (v == core->applied[k]) continue;
        core->applied[k] = v;
        for (int ch = 0; ch < core->channels; ch++) rnnfx_instance_set_param(core->inst[ch], k, v);
    }
}

/* 1 when a knob the core applies is off the model's default. */
static int core_knobs_off_default(const RnnfxChainCore *core)
{
    const RnnfxArch *a = rnnfx_model_arch(core->model);
    int off_default = 0;
    for (int k = 0; k < a->n_params && k < RNNFX_CHAIN_MAX_KNOBS; k++)
        off_default |= core->applied[k] != a->params[k].def;
    return off_default;
}

/* Keeps channel 0's state as the rest state at the knobs applied (after
 * it settled there), so that a reset core can start from it again without
 * settling: a kept capture chosen again, a re-enabled bypass. */
static void core_keep_knob_rest(RnnfxChainCore *core)
{
    if (!core_knobs_off_default(core)) return;
    core_rest_walk(core, core->inst[0], core->rest_k, 1);
    memcpy(core->rest_k_at, core->applied, sizeof core->rest_k_at);
    core->rest_k_valid = 1;
}

/* For a core in the rest state at its default knobs (built, or reset):
 * puts it in the rest state at the knobs applied if it has kept that one.
 * Returns 1 if it is now at rest at those knobs, 0 if it still has to
 * settle there. */
static int core_restore_knob_rest(RnnfxChainCore *core)
{
    if (!core_knobs_off_default(core)) return 1;
    if (!core->rest_k_valid || memcmp(core->rest_k_at, core->applied, sizeof core->applied) != 0)
        return 0;
    for (int ch = 0; ch < core->channels; ch++)
        core_rest_walk(core, core->inst[ch], core->rest_k, 0);
    return 1;
}

/* A core swapped in while another plays starts from the rest state at its
 * default knobs (it was built there, or a kept core was reset there). At
 * knobs off the defaults that is not where silence leaves it, and its
 * crossfade played the difference: a thump (-53 dBFS against -78 at rest
 * for one capture). Settling it in one go would put thousands of samples
 * of work into one processing call (6 ms per channel for an LSTM-96), so
 * such a core waits as pending while it runs the same
 * RNNFX_CHAIN_SETTLE_SAMPLES of silence, as many model-rate samples per
 * call as the call processes host samples (the crossfade's work when the
 * model runs at the host rate; at a host rate above the model's, up to 4x
 * that at 192 kHz for a 48 kHz model, still bounded by the call's length),
 * and its crossfade starts when they are done: RNNFX_CHAIN_SETTLE_SAMPLES
 * host samples after the swap, at any block size. core_warm runs every
 * channel's instance over `count` samples of silence, for that and for
 * core_settle_knobs. */
static void core_warm(RnnfxChainCore *core, size_t count)
{
    for (int ch = 0; ch < core->channels; ch++) run_silence(core, core->inst[ch], count);
}

/* Knobs away from their defaults move the rest state, and a core starting
 * from the default's rest clicked (DS-1 capture, knob at 1: -23 dBFS in
 * the first 5 ms of every render where silence settles at -78). So where
 * the controls snap (a new chain's first controls, the first after a
 * reset) to knobs off their defaults, the core settles again there: the
 * same RNNFX_CHAIN_SETTLE_SAMPLES of silence per channel as when it was
 * built, into its own buffers (no allocation), as bounded work on the
 * thread that processes (the plugin does it in activate()). rnnfx-process and the plugin snap at the same
 * point, so they still give the same samples. */
static void core_settle_knobs(RnnfxChainCore *core)
{
    if (!core_knobs_off_default(core)) return;
    core_warm(core, RNNFX_CHAIN_SETTLE_SAMPLES);
    core_keep_knob_rest(core);
}

/* Feeds model-rate samples to the up-converter, appending to the FIFO. */
static void core_feed_up(RnnfxChainCore *core, int ch, const float *buf, size_t m)
{
    while (m > 0) {
        size_t room = core->fifo_cap - core->fill[ch], used;
        size_t gen = conv_run(&core->up[ch], buf, m, core->fifo[ch] + core->fill[ch], room, &used);
        core->fill[ch] += gen;
        buf += used;
        m -= used;
        if (used == 0 && gen == 0) return; /* cannot happen with the planned sizes */
    }
}

/* The end of a resampling core's chunk: n host-rate samples from the FIFO
 * to core->wet[ch]. */
static void core_take(RnnfxChainCore *core, int ch, size_t n)
{
    float *wet = core->wet[ch];
    size_t have = core->fill[ch];
    size_t take = have < n ? have : n;
    memcpy(wet, core->fifo[ch], take * sizeof(float));
    if (take < n) memset(wet + take, 0, (n - take) * sizeof(float)); /* underrun: never planned */
    memmove(core->fifo[ch], core->fifo[ch] + take, (have - take) * sizeof(float));
    core->fill[ch] = have - take;
}

/* The model's part of core_run: xin[n] (host rate) -> core->wet[ch][n]. */
static void core_run_model(RnnfxChainCore *core, int ch, const float *xin, size_t n)
{
    float *wet = core->wet[ch];
    if (!core->resample) {
        rnnfx_instance_process(core->inst[ch], xin, wet, n);
        return;
    }
    const float *src = xin;
    size_t left = n;
    while (left > 0) {
        size_t used;
        size_t gen = conv_run(&core->down[ch], src, left, core->mbuf[ch], core->mcap, &used);
        if (gen > 0) {
            rnnfx_instance_process(core->inst[ch], core->mbuf[ch], core->mbuf[ch], gen);
            core_feed_up(core, ch, core->mbuf[ch], gen);
        }
        src += used;
        left -= used;
        if (used == 0 && gen == 0) break;
    }
    core_take(core, ch, n);
}

/* core_run_model for both channels of a stereo core: the same conversions
 * per channel, in the same order, and where the two down-converters give
 * the same number of model-rate samples (always, for equal input counts:
 * the counts depend only on how many samples went in) the two model runs
 * in one pair call. Each instance sees the same samples in the same
 * blocks as channel by channel, so the output is the same to the bit. */
static void core_run_model_pair(RnnfxChainCore *core, float *const *xin, size_t n)
{
    if (!core->resample) {
        rnnfx_instance_process_pair(core->inst[0], core->inst[1], xin[0], xin[1], core->wet[0],
                                    core->wet[1], n);
        return;
    }
    const float *src[2] = {xin[0], xin[1]};
    size_t left[2] = {n, n};
    while (left[0] > 0 || left[1] > 0) {
        size_t gen[2] = {0, 0}, used[2] = {0, 0};
        for (int ch = 0; ch < 2; ch++)
            if (left[ch] > 0)
                gen[ch] = conv_run(&core->down[ch], src[ch], left[ch], core->mbuf[ch], core->mcap,
                                   &used[ch]);
        if (gen[0] == gen[1]) {
            rnnfx_instance_process_pair(core->inst[0], core->inst[1], core->mbuf[0], core->mbuf[1],
                                        core->mbuf[0], core->mbuf[1], gen[0]);
        } else {
            for (int ch = 0; ch < 2; ch++)
                rnnfx_instance_process(core->inst[ch], core->mbuf[ch], core->mbuf[ch], gen[ch]);
        }
        for (int ch = 0; ch < 2; ch++) {
            if (gen[ch] > 0) core_feed_up(core, ch, core->mbuf[ch], gen[ch]);
            src[ch] += used[ch];
            left[ch] -= used[ch];
            if (used[ch] == 0 && gen[ch] == 0) left[ch] = 0;
        }
    }
    for (int ch = 0; ch < 2; ch++) core_take(core, ch, n);
}

/* The normalising gain on the model's output (norm: on), before the
 * impulse response, so a cabinet's own colour still counts. It moves as
 * the chain's gains do (one pole, a: 10 ms), per core, so a crossfade
 * between two captures fades between their own levels; where it sits at 1
 * (normalize off, the usual case) the samples are not touched. */
static void core_level(RnnfxChainCore *core, size_t n, int norm, float a)
{
    const float t = norm ? core->norm_gain : 1.0f;
    if (core->ng_snap) {
        core->ng = t;
        core->ng_snap = 0;
    }
    float g = core->ng;
    for (int ch = 0; ch < core->channels; ch++) {
        float *wet = core->wet[ch];
        g = core->ng;
        if (g == t) {
            if (g != 1.0f)
                for (size_t i = 0; i < n; i++) wet[i] *= g;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            g = smooth(g, t, a);
            wet[i] *= g;
        }
    }
    core->ng = g;
}

/* One chunk of every channel: xin[ch][n] -> core->wet[ch][n], through the
 * models, their level and then the impulse responses, if any. A stereo
 * core runs its two models with the pair call (the same bits as one
 * channel after the other, in one time loop: instance.h). */
static void core_run_all(RnnfxChainCore *core, float *const *xin, size_t n, int norm, float a)
{
    if (core->channels == 2) core_run_model_pair(core, xin, n);
    else core_run_model(core, 0, xin[0], n);
    core_level(core, n, norm, a);
    for (int ch = 0; ch < core->channels; ch++)
        if (core->cab[ch]) rnnfx_convolver_process(core->cab[ch], core->wet[ch], core->wet[ch], n);
}

/* Measures P (see the file comment) with a scratch pair of converters like
 * the core's. */
static RnnfxStatus measure_latency(const RnnfxChainCore *core, int *latency, RnnfxError *err)
{
    Converter down, up;
    RnnfxStatus st = conv_open(&down, core->fdown, core->ratio_down, err);
    if (st != RNNFX_OK) return st;
    st = conv_open(&up, core->fup, 1.0 / core->ratio_down, err);
    if (st != RNNFX_OK) {
        conv_close(&down);
        return st;
    }
    /* one input sample gives at most ratio + 2 outputs, and ratio <= 256,
     * so every call consumes all it is given */
    enum { ROOM = 260 };
    float zero = 0.0f, mid[ROOM], out[ROOM];
    long produced = 0, worst = 0;
    for (long n = 1; n <= CHAIN_LATENCY_PROBE; n++) {
        size_t used;
        size_t m = conv_run(&down, &zero, 1, mid, ROOM, &used);
        if (m > 0) produced += (long)conv_run(&up, mid, m, out, ROOM, &used);
        if (n - produced > worst) worst = n - produced;
    }
    conv_close(&down);
    conv_close(&up);
    if (worst > RNNFX_CHAIN_MAX_LATENCY)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT,
                          "resampling latency %ld samples exceeds the limit of %d", worst,
                          RNNFX_CHAIN_MAX_LATENCY);
    *latency = (int)worst;
    return RNNFX_OK;
}

static RnnfxStatus core_create(int channels, double host_rate, size_t max_block,
                               RnnfxModel *model, int own_model, const RnnfxIr *ir,
                               RnnfxChainCore **out, RnnfxError *err)
{
    *out = NULL;
    RnnfxStatus st;
    if (!model) return rnnfx_fail(err, RNNFX_ERR_ARG, "no model given");
    if (ir && (rnnfx_ir_channels(ir) != channels ||
               fabs(rnnfx_ir_rate(ir) - host_rate) > 1e-9 * host_rate)) {
        st = rnnfx_fail(err, RNNFX_ERR_ARG,
                        "the impulse response was made for %d channel(s) at %.0f Hz, the chain "
                        "has %d at %.0f Hz",
                        rnnfx_ir_channels(ir), rnnfx_ir_rate(ir), channels, host_rate);
        goto fail_model;
    }
    if (!rnnfx_model_is_finalized(model)) {
        st = rnnfx_fail(err, RNNFX_ERR_ARG, "the model is not finalized");
        goto fail_model;
    }
    const RnnfxArch *arch = rnnfx_model_arch(model);
    if (arch->kind != RNNFX_KIND_AUDIO) {
        st = rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                        "this is a MIDI-frame model; only audio models can process audio");
        goto fail_model;
    }
    double model_rate = rnnfx_model_meta_const(model)->sample_rate;
    if (!(model_rate > 0.0) || !isfinite(model_rate)) model_rate = host_rate;
    double ratio = model_rate / host_rate;
    if (ratio > 256.0 || ratio < 1.0 / 256.0) {
        st = rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                        "cannot resample between %.0f Hz (host) and %.0f Hz (model)", host_rate,
                        model_rate);
        goto fail_model;
    }

    RnnfxChainCore *core = calloc(1, sizeof *core);
    if (!core) {
        st = rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for a processing core");
        goto fail_model;
    }
    core->model = model;
    core->own_model = own_model;
    core->channels = channels;
    core->max_block = max_block;
    core->ratio_down = ratio;
    core->resample = fabs(model_rate - host_rate) > 1e-6 * host_rate;
    for (int k = 0; k < RNNFX_CHAIN_MAX_KNOBS; k++) core->applied[k] = NAN;

    if (core->resample && rnnfx_resample_supported(host_rate, model_rate) &&
        rnnfx_resample_supported(model_rate, host_rate)) {
        st = rnnfx_resample_filter_new(host_rate, model_rate, &core->fdown, err);
        if (st == RNNFX_OK) st = rnnfx_resample_filter_new(model_rate, host_rate, &core->fup, err);
        if (st != RNNFX_OK) goto fail;
    }
    if (core->resample) {
        st = measure_latency(core, &core->latency, err);
        if (st == RNNFX_ERR_LIMIT && core->fdown) {
            /* At ratios near the limit the polyphase filters' look-ahead
             * (about 13 % more than libsamplerate's) can pass
             * RNNFX_CHAIN_MAX_LATENCY where libsamplerate's stays within
             * it: take libsamplerate there. */
            rnnfx_resample_filter_free(core->fdown);
            rnnfx_resample_filter_free(core->fup);
            core->fdown = core->fup = NULL;
            st = measure_latency(core, &core->latency, err);
        }
        if (st != RNNFX_OK) goto fail;
        /* model samples per chunk: ceil(n * ratio) plus converter jitter */
        core->mcap = (size_t)ceil((double)max_block * ratio) + 16;
        core->fifo_cap = (size_t)core->latency + 2 * max_block + 64;
    }
    for (int ch = 0; ch < channels; ch++) {
        core->inst[ch] = rnnfx_instance_new(model);
        core->wet[ch] = calloc(max_block, sizeof(float));
        if (!core->inst[ch] || !core->wet[ch]) {
            st = rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for a model instance");
            goto fail;
        }
        if (core->resample) {
            st = conv_open(&core->down[ch], core->fdown, ratio, err);
            if (st == RNNFX_OK) st = conv_open(&core->up[ch], core->fup, 1.0 / ratio, err);
            if (st != RNNFX_OK) goto fail;
            core->mbuf[ch] = calloc(core->mcap, sizeof(float));
            core->fifo[ch] = calloc(core->fifo_cap, sizeof(float));
            if (!core->mbuf[ch] || !core->fifo[ch]) {
                st = rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for resampling buffers");
                goto fail;
            }
        }
    }
    if (ir) {
        for (int ch = 0; ch < channels; ch++) {
            st = rnnfx_convolver_new(rnnfx_ir_data(ir, ch), rnnfx_ir_frames(ir), &core->cab[ch],
                                     err);
            if (st != RNNFX_OK) goto fail;
        }
        core->ir_frames = rnnfx_ir_frames(ir);
    }
    st = core_settle(core, err);
    if (st != RNNFX_OK) goto fail;
    core_measure_level(core, model_rate);
    core_reset(core);
    *out = core;
    return RNNFX_OK;

fail:
    rnnfx_chain_core_free(core);
    return st;
fail_model:
    if (own_model) rnnfx_model_free(model);
    return st;
}

RnnfxStatus rnnfx_chain_core_new(const RnnfxChain *chain, RnnfxModel *model, int own_model,
                                 RnnfxChainCore **out, RnnfxError *err)
{
    return rnnfx_chain_core_new_ir(chain, model, own_model, NULL, out, err);
}

RnnfxStatus rnnfx_chain_core_new_ir(const RnnfxChain *chain, RnnfxModel *model, int own_model,
                                    const RnnfxIr *ir, RnnfxChainCore **out, RnnfxError *err)
{
    if (!out) return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out = NULL;
    if (!chain) {
        if (own_model) rnnfx_model_free(model);
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no chain given");
    }
    return core_create(chain->channels, chain->host_rate, chain->max_block, model, own_model, ir,
                       out, err);
}

size_t rnnfx_chain_core_ir_frames(const RnnfxChainCore *core) { return core ? core->ir_frames : 0; }

void rnnfx_chain_core_free(RnnfxChainCore *core)
{
    if (!core) return;
    for (int ch = 0; ch < RNNFX_CHAIN_MAX_CHANNELS; ch++) {
        rnnfx_instance_free(core->inst[ch]);
        conv_close(&core->down[ch]);
        conv_close(&core->up[ch]);
        free(core->mbuf[ch]);
        free(core->fifo[ch]);
        free(core->wet[ch]);
        rnnfx_convolver_free(core->cab[ch]);
    }
    free(core->rest);
    free(core->rest_k);
    rnnfx_resample_filter_free(core->fdown);
    rnnfx_resample_filter_free(core->fup);
    if (core->own_model) rnnfx_model_free(core->model);
    free(core);
}

const RnnfxModel *rnnfx_chain_core_model(const RnnfxChainCore *core)
{
    return core ? core->model : NULL;
}

int rnnfx_chain_core_latency(const RnnfxChainCore *core) { return core ? core->latency : 0; }

float rnnfx_chain_core_rest_output(const RnnfxChainCore *core) { return core ? core->rest_out : 0.0f; }

double rnnfx_chain_core_level_db(const RnnfxChainCore *core) { return core ? core->gain_db : NAN; }

const char *rnnfx_chain_core_resampler(const RnnfxChainCore *core)
{
    if (!core || !core->resample) return "none";
    return core->fdown ? "polyphase" : "libsamplerate";
}

/* ---- chain --------------------------------------------------------------------- */

RnnfxStatus rnnfx_chain_new(const RnnfxModel *model, double host_rate, size_t max_block,
                            RnnfxChain **out, RnnfxError *err)
{
    return rnnfx_chain_new_multi(model, host_rate, 1, max_block, out, err);
}

RnnfxStatus rnnfx_chain_new_multi(const RnnfxModel *model, double host_rate, int channels,
                                  size_t max_block, RnnfxChain **out, RnnfxError *err)
{
    if (!out) return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out = NULL;
    if (!(host_rate >= 1000.0 && host_rate <= 1536000.0))
        return rnnfx_fail(err, RNNFX_ERR_ARG,
                          "a sample rate of %.1f Hz is outside what rnnfx processes "
                          "(1000 to 1536000 Hz)",
                          host_rate);
    if (channels < 1 || channels > RNNFX_CHAIN_MAX_CHANNELS)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "%d channels: a chain has 1 or 2", channels);
    if (max_block < 1 || max_block > (1u << 20))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "block size %zu out of range 1..1048576",
                          max_block);

    RnnfxChain *c = calloc(1, sizeof *c);
    if (!c) return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for a chain");
    c->channels = channels;
    c->host_rate = host_rate;
    c->max_block = max_block;
    c->fade_len = (long)lrint(RNNFX_CHAIN_FADE_SECONDS * host_rate);
    if (c->fade_len < 1) c->fade_len = 1;
    c->fade_pos = c->fade_len;
    c->dry_fade = c->fade_len;
    c->e_step = 1.0f / (float)c->fade_len;
    c->a_gain = (float)(1.0 - exp(-1.0 / (CHAIN_GAIN_TAU * host_rate)));
    c->a_knob = (float)(1.0 - exp(-(double)CHAIN_KNOB_STEP / (CHAIN_KNOB_TAU * host_rate)));

    size_t ring = 1;
    while (ring < (size_t)RNNFX_CHAIN_MAX_LATENCY + max_block) ring <<= 1;
    c->ring_mask = ring - 1;

    int ok = 1;
    for (int ch = 0; ch < channels; ch++) {
        c->ring[ch] = calloc(ring, sizeof(float));
        c->x[ch] = calloc(max_block, sizeof(float));
        c->xin[ch] = calloc(max_block, sizeof(float));
        ok = ok && c->ring[ch] && c->x[ch] && c->xin[ch];
    }
    c->gin_buf = calloc(max_block, sizeof(float));
    c->gout_buf = calloc(max_block, sizeof(float));
    c->mix_buf = calloc(max_block, sizeof(float));
    c->e_buf = calloc(max_block, sizeof(float));
    c->fade_buf = calloc(max_block, sizeof(float));
    ok = ok && c->gin_buf && c->gout_buf && c->mix_buf && c->e_buf && c->fade_buf;
    if (!ok) {
        rnnfx_chain_free(c);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for a chain");
    }

    RnnfxChainControls def;
    rnnfx_chain_controls_init(&def);
    c->snap = 1;
    rnnfx_chain_set_controls(c, &def);
    c->snap = 1; /* the caller's first controls still jump */
    c->active = 1;

    if (model) {
        RnnfxChainCore *core = NULL;
        /* The core only reads the model; the cast drops const because a core
         * may also own (and then free) its model, which it does not here. */
        RnnfxStatus st = core_create(channels, host_rate, max_block, (RnnfxModel *)(void *)model,
                                     0, NULL, &core, err);
        if (st != RNNFX_OK) {
            rnnfx_chain_free(c);
            return st;
        }
        core_apply_knobs(core, c);
        c->cur = core;
    }
    *out = c;
    return RNNFX_OK;
}

/* Frees a core the chain holds, unless its owner keeps it. */
static void drop_core(RnnfxChainCore *core)
{
    if (!rnnfx_chain_core_kept(core)) rnnfx_chain_core_free(core);
}

void rnnfx_chain_free(RnnfxChain *c)
{
    if (!c) return;
    drop_core(c->cur);
    drop_core(c->old);
    drop_core(c->pending);
    for (int i = 0; i < c->n_retired; i++) drop_core(c->retired[i]);
    for (int ch = 0; ch < RNNFX_CHAIN_MAX_CHANNELS; ch++) {
        free(c->ring[ch]);
        free(c->x[ch]);
        free(c->xin[ch]);
    }
    free(c->gin_buf);
    free(c->gout_buf);
    free(c->mix_buf);
    free(c->e_buf);
    free(c->fade_buf);
    free(c);
}

int rnnfx_chain_channels(const RnnfxChain *c) { return c ? c->channels : 0; }
double rnnfx_chain_host_rate(const RnnfxChain *c) { return c ? c->host_rate : 0.0; }
int rnnfx_chain_latency(const RnnfxChain *c) { return c && c->cur ? c->cur->latency : 0; }
const RnnfxModel *rnnfx_chain_model(const RnnfxChain *c) { return c && c->cur ? c->cur->model : NULL; }

int rnnfx_chain_switching(const RnnfxChain *c)
{
    return c && (c->old != NULL || c->pending != NULL);
}

static int retire(RnnfxChain *c, RnnfxChainCore *core)
{
    if (!core) return 1;
    if (c->n_retired >= CHAIN_RETIRED_CAP) return 0;
    c->retired[c->n_retired++] = core;
    return 1;
}

RnnfxChainCore *rnnfx_chain_take_retired(RnnfxChain *c)
{
    if (!c || c->n_retired == 0) return NULL;
    return c->retired[--c->n_retired];
}

/* Drops whatever is fading out and makes a pending core current. */
static void settle_cores(RnnfxChain *c)
{
    if (c->old && retire(c, c->old)) c->old = NULL;
    if (c->pending && !c->old && retire(c, c->cur)) {
        c->cur = c->pending;
        c->pending = NULL;
        c->warm_left = 0; /* nothing is heard: what follows resets or snaps */
        core_apply_knobs(c->cur, c);
    }
    if (!c->old) c->fade_pos = c->fade_len;
}

void rnnfx_chain_reset(RnnfxChain *c)
{
    if (!c) return;
    settle_cores(c);
    if (c->cur) core_reset(c->cur);
    if (c->old) core_reset(c->old);
    for (int ch = 0; ch < c->channels; ch++)
        memset(c->ring[ch], 0, (c->ring_mask + 1) * sizeof(float));
    c->ring_pos = 0;
    c->knob_phase = 0;
    c->e_hold = 0;
    c->dry_fade = c->fade_len;
    c->peak_in = c->peak_out = 0.0f;
    c->snap = 1;
    c->active = 1;
}

void rnnfx_chain_core_set_kept(RnnfxChainCore *core)
{
    if (core) core->kept = 1;
}

int rnnfx_chain_core_kept(const RnnfxChainCore *core)
{
    return core && core->kept;
}

RnnfxCoreRole rnnfx_chain_core_role(const RnnfxChain *c, const RnnfxChainCore *core)
{
    if (!c || !core) return RNNFX_CORE_NONE;
    if (core == c->cur) return RNNFX_CORE_CURRENT;
    if (core == c->old) return RNNFX_CORE_FADING;
    if (core == c->pending) return RNNFX_CORE_PENDING;
    for (int i = 0; i < c->n_retired; i++)
        if (core == c->retired[i]) return RNNFX_CORE_RETIRED;
    return RNNFX_CORE_NONE;
}

RnnfxChainCore *rnnfx_chain_drop_pending(RnnfxChain *c)
{
    if (!c) return NULL;
    RnnfxChainCore *p = c->pending;
    c->pending = NULL;
    c->warm_left = 0;
    return p;
}

void rnnfx_chain_swap(RnnfxChain *c, RnnfxChainCore *core, RnnfxChainCore **displaced)
{
    if (displaced) *displaced = NULL;
    if (!c || !core) return;
    if (rnnfx_chain_core_role(c, core) != RNNFX_CORE_NONE) {
        /* held already (a kept core installed again too soon): using it
         * twice would run one state for two roles */
        if (displaced) *displaced = core;
        return;
    }
    /* a kept core played before: it starts again from its rest state */
    if (core->kept) core_reset(core);
    core->knobs_held = 0;
    core_apply_knobs(core, c);
    if (!c->cur) {
        /* the first core of a chain that plays nothing yet (rnnfx-live
         * starts so): it starts where the knobs already set put it */
        c->cur = core;
        core_settle_knobs(core);
    } else if (!c->active) {
        /* Nothing is heard from the cores: switch at once. Earlier switches
         * settle first: retiring cur before settle_cores promoted a pending
         * core retired cur twice (a double free) and lost the pending one. */
        settle_cores(c);
        const int from = c->cur->latency;
        if (c->old || c->pending || !retire(c, c->cur)) {
            if (displaced) *displaced = core;
            return;
        }
        c->cur = core;
        core_reset(core);
        if (core->latency != from) {
            c->dry_lat_from = from;
            c->dry_fade = 0;
        }
    } else {
        const int at_rest = core_restore_knob_rest(core);
        if (!c->old && !c->pending && at_rest) {
            c->old = c->cur;
            c->cur = core;
            c->fade_pos = -(long)core->latency;
        } else {
            if (displaced) *displaced = c->pending;
            c->pending = core;
            c->warm_left = at_rest ? 0 : RNNFX_CHAIN_SETTLE_SAMPLES;
        }
    }
}

void rnnfx_chain_set_controls(RnnfxChain *c, const RnnfxChainControls *ctl)
{
    if (!c || !ctl) return;
    if (isfinite(ctl->input_db)) c->gin_t = db_to_lin(ctl->input_db);
    if (isfinite(ctl->output_db)) c->gout_t = db_to_lin(ctl->output_db);
    if (isfinite(ctl->mix)) c->mix_t = clamp01(ctl->mix);
    c->norm = ctl->normalize != 0;
    c->e_t = ctl->enabled ? 1.0f : 0.0f;
    int n = ctl->n_knobs < 0 ? 0 : (ctl->n_knobs > RNNFX_CHAIN_MAX_KNOBS ? RNNFX_CHAIN_MAX_KNOBS : ctl->n_knobs);
    for (int k = 0; k < RNNFX_CHAIN_MAX_KNOBS; k++) {
        if (k < n) {
            if (!isfinite(ctl->knobs[k])) continue;
            float v = clamp01(ctl->knobs[k]);
            if (!c->knob_set[k]) c->knob[k] = v; /* from "default" a knob jumps */
            c->knob_set[k] = 1;
            c->knob_t[k] = v;
        } else {
            c->knob_set[k] = 0;
        }
    }
    if (c->snap) {
        c->snap = 0;
        c->gin = c->gin_t;
        c->gout = c->gout_t;
        c->mix = c->mix_t;
        c->e = c->e_t;
        c->active = c->e_t > 0.0f;
        for (int k = 0; k < RNNFX_CHAIN_MAX_KNOBS; k++) c->knob[k] = c->knob_t[k];
        if (c->cur) {
            core_apply_knobs(c->cur, c);
            core_settle_knobs(c->cur);
            c->cur->ng_snap = 1;
        }
        if (c->old) {
            core_apply_knobs(c->old, c);
            c->old->ng_snap = 1;
        }
    }
}

void rnnfx_chain_hold_knobs(RnnfxChain *c, int hold)
{
    if (!c) return;
    if (c->cur) c->cur->knobs_held = hold != 0;
    if (c->old) c->old->knobs_held = hold != 0;
}

void rnnfx_chain_take_peaks(RnnfxChain *c, float *in_peak, float *out_peak)
{
    if (!c) return;
    if (in_peak) *in_peak = c->peak_in;
    if (out_peak) *out_peak = c->peak_out;
    c->peak_in = c->peak_out = 0.0f;
}

/* The two passes every settled chunk makes over every sample (the common
 * case), written to vectorise: finiteness from the exponent bits, the peak
 * as an integer maximum of |value|'s bit pattern (which orders non-negative
 * floats as their values), and -O3 for just these loops (at -O2 GCC
 * vectorises only loops without a remainder). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O3")
#endif
static int32_t abs_bits(float v)
{
    int32_t b;
    memcpy(&b, &v, sizeof b);
    return b & 0x7fffffff;
}

static float zero_if_not_finite(float v)
{
    return (abs_bits(v) & 0x7f800000) == 0x7f800000 ? 0.0f : v;
}

/* x = src with non-finite samples replaced by 0, xin = x * g; returns the
 * larger of peak and max |xin|. */
static float sanitize_in(float *x, float *xin, const float *src, size_t n, float g, float peak)
{
    int32_t pk = abs_bits(peak);
    for (size_t i = 0; i < n; i++) {
        float v = zero_if_not_finite(src[i]);
        x[i] = v;
        xin[i] = v * g;
        int32_t a = abs_bits(v * g);
        pk = a > pk ? a : pk;
    }
    memcpy(&peak, &pk, sizeof peak);
    return peak;
}

/* dst = g * wet, non-finite results replaced by 0; returns the larger of
 * peak and max |dst|. */
static float gain_out(float *dst, const float *wet, size_t n, float g, float peak)
{
    int32_t pk = abs_bits(peak);
    for (size_t i = 0; i < n; i++) {
        float y = zero_if_not_finite(g * wet[i]);
        dst[i] = y;
        int32_t a = abs_bits(y);
        pk = a > pk ? a : pk;
    }
    memcpy(&peak, &pk, sizeof peak);
    return peak;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

static int knobs_moving(const RnnfxChain *c)
{
    for (int k = 0; k < RNNFX_CHAIN_MAX_KNOBS; k++)
        if (c->knob_set[k] && c->knob[k] != c->knob_t[k]) return 1;
    return 0;
}

/* One chunk, n <= max_block, for all channels. */
static void process_chunk(RnnfxChain *c, const float *const *in, float *const *out, size_t n,
                          size_t off)
{
    /* knobs step every CHAIN_KNOB_STEP samples of stream time */
    if (c->knob_phase == 0 && knobs_moving(c)) {
        for (int k = 0; k < RNNFX_CHAIN_MAX_KNOBS; k++)
            if (c->knob_set[k]) c->knob[k] = smooth(c->knob[k], c->knob_t[k], c->a_knob);
        if (c->cur) core_apply_knobs(c->cur, c);
        if (c->old) core_apply_knobs(c->old, c);
        if (c->pending) core_apply_knobs(c->pending, c);
    }
    if (c->active && c->pending && c->warm_left > 0) {
        core_warm(c->pending, n); /* rnnfx_chain_process_multi ends chunks where this ends */
        c->warm_left -= (long)n;
        if (c->warm_left <= 0 && !knobs_moving(c)) core_keep_knob_rest(c->pending);
    }

    /* re-enabling after a full bypass: the cores start from a clean state */
    if (!c->active && c->e_t > 0.0f) {
        c->dry_fade = c->fade_len; /* the bypass fade-in takes over from here */
        settle_cores(c);
        if (c->cur) {
            /* from the rest state at the knobs, if kept (a thump otherwise) */
            core_reset(c->cur);
            core_restore_knob_rest(c->cur);
            c->e_hold = c->cur->latency;
        }
        c->active = 1;
    }

    /* Settled: every control at its target, no fade running. The common
     * case takes loops without per-sample control curves (it gives the same
     * bits as the general path: there m = 1, eb = 1 and g = 1 make the dry
     * and old-core terms exact zeros). */
    const int settled = c->gin == c->gin_t && c->gout == c->gout_t && c->mix == c->mix_t &&
                        c->e == c->e_t && c->e_hold == 0 && !c->old;
    if (!settled) {
        /* per-sample control curves, shared by all channels */
        float gin = c->gin, gout = c->gout, mix = c->mix, e = c->e;
        for (size_t i = 0; i < n; i++) {
            gin = smooth(gin, c->gin_t, c->a_gain);
            gout = smooth(gout, c->gout_t, c->a_gain);
            mix = smooth(mix, c->mix_t, c->a_gain);
            if (c->e_hold > 0) c->e_hold--;
            else if (e < c->e_t) e = e + c->e_step >= c->e_t ? c->e_t : e + c->e_step;
            else if (e > c->e_t) e = e - c->e_step <= c->e_t ? c->e_t : e - c->e_step;
            c->gin_buf[i] = gin;
            c->gout_buf[i] = gout;
            c->mix_buf[i] = mix;
            c->e_buf[i] = e;
            long fp = c->fade_pos + (long)i + 1;
            c->fade_buf[i] = !c->old ? 1.0f
                             : fp >= c->fade_len ? 1.0f
                             : fp <= 0 ? 0.0f
                                       : (float)fp / (float)c->fade_len;
        }
        c->gin = gin;
        c->gout = gout;
        c->mix = mix;
        c->e = e;
    }

    size_t ring_size = c->ring_mask + 1;
    int lat_cur = c->cur ? c->cur->latency : 0;
    int lat_old = c->old ? c->old->latency : 0;
    float peak_in = c->peak_in, peak_out = c->peak_out;
    /* the ring is written in at most two contiguous pieces */
    size_t first = ring_size - c->ring_pos < n ? ring_size - c->ring_pos : n;

    /* Read every input before writing any output: a host may connect an
     * output to any input buffer (in place, even across channels). */
    for (int ch = 0; ch < c->channels; ch++) {
        const float *src = in[ch] + off;
        float *x = c->x[ch], *xin = c->xin[ch], *ring = c->ring[ch];
        /* one pass: sanitise, gain, meter (values are finite from here) */
        if (settled) {
            peak_in = sanitize_in(x, xin, src, n, c->gin, peak_in);
        } else {
            for (size_t i = 0; i < n; i++) {
                float v = isfinite(src[i]) ? src[i] : 0.0f;
                float a;
                x[i] = v;
                xin[i] = v * c->gin_buf[i];
                a = fabsf(xin[i]);
                peak_in = a > peak_in ? a : peak_in;
            }
        }
        memcpy(ring + c->ring_pos, x, first * sizeof(float));
        memcpy(ring, x + first, (n - first) * sizeof(float));
    }
    if (c->active) {
        if (c->cur) core_run_all(c->cur, c->xin, n, c->norm, c->a_gain);
        if (c->old) core_run_all(c->old, c->xin, n, c->norm, c->a_gain);
    }
    for (int ch = 0; ch < c->channels; ch++) {
        float *xin = c->xin[ch], *ring = c->ring[ch];
        const float *wet_cur = xin, *wet_old = NULL;
        if (c->active) {
            if (c->cur) wet_cur = c->cur->wet[ch];
            if (c->old) wet_old = c->old->wet[ch];
        }
        float *dst = out[ch] + off;
        size_t base = c->ring_pos + ring_size; /* keeps the index math unsigned */
        if (settled && c->active && c->mix == 1.0f) {
            /* the usual case in one pass: gain, NaN guard, meter */
            peak_out = gain_out(dst, wet_cur, n, c->gout, peak_out);
            continue;
        }
        if (settled && c->active) {
            const float g = c->gout, m = c->mix;
            for (size_t i = 0; i < n; i++) {
                float dry = ring[(base + i - (size_t)lat_cur) & c->ring_mask];
                dst[i] = g * (m * wet_cur[i] + (1.0f - m) * dry);
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                float dry = ring[(base + i - (size_t)lat_cur) & c->ring_mask];
                float y = dry;
                if (c->active) {
                    float m = c->mix_buf[i];
                    float proc = m * wet_cur[i] + (1.0f - m) * dry;
                    if (wet_old) {
                        float dry_old = ring[(base + i - (size_t)lat_old) & c->ring_mask];
                        float proc_old = m * wet_old[i] + (1.0f - m) * dry_old;
                        float g = c->fade_buf[i];
                        proc = g * proc + (1.0f - g) * proc_old;
                    }
                    proc *= c->gout_buf[i];
                    float eb = c->e_buf[i];
                    y = eb * proc + (1.0f - eb) * dry;
                } else if (c->dry_fade < c->fade_len) {
                    /* bypassed, after a swap to another latency */
                    const long p = c->dry_fade + (long)i + 1;
                    const float g = p >= c->fade_len ? 1.0f : (float)p / (float)c->fade_len;
                    float dry_from = ring[(base + i - (size_t)c->dry_lat_from) & c->ring_mask];
                    y = g * dry + (1.0f - g) * dry_from;
                }
                dst[i] = y;
            }
        }
        /* NaN guard and meter */
        for (size_t i = 0; i < n; i++) {
            float y = isfinite(dst[i]) ? dst[i] : 0.0f;
            float a;
            dst[i] = y;
            a = fabsf(y);
            peak_out = a > peak_out ? a : peak_out;
        }
    }
    c->peak_in = peak_in;
    c->peak_out = peak_out;
    c->ring_pos = (c->ring_pos + n) & c->ring_mask;
    c->knob_phase = (int)(((size_t)c->knob_phase + n) % CHAIN_KNOB_STEP);
    if (c->dry_fade < c->fade_len)
        c->dry_fade = c->dry_fade + (long)n < c->fade_len ? c->dry_fade + (long)n : c->fade_len;

    /* model crossfade bookkeeping: a pending core starts its crossfade once
     * the running one has ended and it has settled */
    if (c->old) {
        c->fade_pos += (long)n;
        if (c->fade_pos >= c->fade_len && retire(c, c->old)) c->old = NULL;
    }
    if (c->active && c->pending && !c->old && c->warm_left <= 0) {
        c->old = c->cur;
        c->cur = c->pending;
        c->pending = NULL;
        c->warm_left = 0;
        core_apply_knobs(c->cur, c);
        c->fade_pos = -(long)c->cur->latency;
    }
    /* fully bypassed: stop running the cores */
    if (c->active && c->e == 0.0f && c->e_t == 0.0f) {
        c->active = 0;
        settle_cores(c);
    }
}

void rnnfx_chain_process_multi(RnnfxChain *c, const float *const *in, float *const *out,
                               size_t n)
{
    if (!c || !in || !out) return;
    /* The whole chain (resamplers, cabinet, gains and mix too, not just the
     * model) under flush-to-zero: a quiet tail never takes the denormal
     * slow path, and the output does not depend on the mode the host runs
     * its audio thread in (rnnfx-process and a DAW give the same bits). */
    RnnfxFpMode fp = rnnfx_fp_enter();
    size_t off = 0;
    while (off < n) {
        size_t len = n - off;
        if (len > c->max_block) len = c->max_block;
        size_t to_step = (size_t)(CHAIN_KNOB_STEP - c->knob_phase);
        if (len > to_step && knobs_moving(c)) len = to_step;
        /* a core waiting for the running fade starts when it ends, not at
         * the next block boundary: the same sample for any block size */
        if (c->old && c->pending && c->fade_pos < c->fade_len &&
            len > (size_t)(c->fade_len - c->fade_pos))
            len = (size_t)(c->fade_len - c->fade_pos);
        /* nor is a settling core's end (core_warm) */
        if (c->active && c->pending && c->warm_left > 0 && len > (size_t)c->warm_left)
            len = (size_t)c->warm_left;
        process_chunk(c, in, out, len, off);
        off += len;
    }
    rnnfx_fp_leave(fp);
}

void rnnfx_chain_process(RnnfxChain *c, const float *in, float *out, size_t n)
{
    if (!c || !out) return;
    if (c->channels != 1) {
        /* a mono call on a stereo chain is a caller bug: output silence
         * rather than half-processed audio */
        memset(out, 0, n * sizeof(float));
        return;
    }
    const float *ins[1] = {in};
    float *outs[1] = {out};
    rnnfx_chain_process_multi(c, ins, outs, n);
}

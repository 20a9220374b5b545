/*
 * chain.h — everything between a host's audio buffers and a model.
 *
 * The plugin, the batch tool (rnnfx-process) and the live tool all run audio
 * through this one chain, so they produce the same samples for the same
 * model, controls and input. Per sample and channel:
 *
 *     x    = input (non-finite samples replaced by 0)
 *     wet  = ir * (n * up(model(down(x * in_gain))))  resampled only when
 *                                                   the host rate differs
 *                                                   from the model's
 *                                                   sample_rate; ir: an
 *                                                   optional impulse
 *                                                   response (a cabinet);
 *                                                   n: the capture's
 *                                                   normalising gain when
 *                                                   normalize is on, else 1
 *     dry  = x delayed by the resampler latency L  (so mixing does not comb)
 *     proc = out_gain * (mix * wet + (1 - mix) * dry)
 *     y    = e * proc + (1 - e) * dry              e: bypass crossfade 0..1
 *
 * in_gain, out_gain, mix and n are smoothed (one-pole, 10 ms); knobs move in
 * 32-sample steps (one-pole, 20 ms); bypass and model switches are linear
 * 20 ms crossfades. The first rnnfx_chain_set_controls() after creation or
 * reset sets every value at once (no ramp), so a batch run and a plugin that
 * start with the same controls give the same samples from sample 0.
 *
 * Resampling uses the fixed-ratio polyphase resampler of resample.h for
 * the usual rate pairs (flat to 85% of the lower Nyquist frequency, 120 dB
 * down from it on) and libsamplerate (SRC_SINC_MEDIUM_QUALITY, about the
 * same response, far more work per sample) for any other pair, and where
 * the polyphase filters' latency would pass RNNFX_CHAIN_MAX_LATENCY. Converters
 * are created off the audio thread and all buffers preallocated; the round
 * trip host -> model -> host is time-aligned to the host's sample grid plus
 * an integer latency L that rnnfx_chain_latency() reports (0 when no
 * resampling is needed).
 *
 * A chain's model-dependent part is a "core" (RnnfxChainCore: instances for
 * each channel, resamplers, buffers). A stereo core runs its two instances
 * with rnnfx_instance_process_pair (instance.h: one time loop for both
 * channels where the kernels have a pair form, the same bits as one
 * channel after the other), on the down-converters' output when it
 * resamples, then each channel's impulse response. The plugin builds a new core in its
 * worker thread and hands it to the audio thread, which installs it with
 * rnnfx_chain_swap() (no allocation) and crossfades from the old one; the
 * old core comes back from rnnfx_chain_take_retired() to be freed off the
 * audio thread.
 *
 * Knob values in the chain are normalised to 0..1 and mapped onto each
 * model's own range of that conditioning input (min + v * (max - min)), so a
 * knob keeps its meaning across model switches. Knobs a model does not have
 * are ignored.
 *
 * What this is not: a model loader (see model_file.h) or a file/audio-I/O
 * layer. This is the one engine file that depends on libsamplerate; the rest
 * of the engine needs only libc and libm.
 */
#ifndef RNNFX_CHAIN_H
#define RNNFX_CHAIN_H

#include <stddef.h>

#include "instance.h"
#include "ir.h"
#include "model.h"
#include "status.h"

#define RNNFX_CHAIN_MAX_CHANNELS 2
#define RNNFX_CHAIN_MAX_KNOBS RNNFX_MAX_PARAMS
/* Largest resampler latency a core may have, in host samples. */
#define RNNFX_CHAIN_MAX_LATENCY 4096
/* A core's instances start, and restart after every reset, from the
 * model's rest state: where it settles after this many model-rate samples
 * of silence at its default knobs (computed when the core is built), and
 * as many again at the knobs given when the controls snap to values off
 * the defaults (a new chain's first controls, the first after a reset) or
 * when a core is swapped in at such knobs (rnnfx_chain_swap).
 * Models trained from a zero state can put out +-0.8 in their first
 * samples, a click at the start of every render and plugin reset. */
#define RNNFX_CHAIN_SETTLE_SAMPLES 4096
/* Gain ranges (dB); values outside are clamped. */
#define RNNFX_CHAIN_GAIN_MIN_DB (-60.0f)
#define RNNFX_CHAIN_GAIN_MAX_DB 24.0f
/* Length of the bypass and model-switch crossfades. */
#define RNNFX_CHAIN_FADE_SECONDS 0.020

typedef struct RnnfxChain RnnfxChain;
typedef struct RnnfxChainCore RnnfxChainCore;

typedef struct {
    float input_db;  /* gain into the model, dB */
    float output_db; /* gain on the mixed output, dB */
    float mix;       /* 0 = dry only, 1 = wet only */
    int enabled;     /* 0 = bypassed (delayed dry signal), 1 = processing */
    int normalize;   /* 1 = play each capture at the reference's level
                        (level.h: minus its gain on a reference guitar
                        part), so switching captures keeps the loudness */
    int n_knobs;     /* how many entries of knobs[] are set; the others use
                        each model's default */
    float knobs[RNNFX_CHAIN_MAX_KNOBS]; /* normalised 0..1; NaN leaves the knob
                                           as it is (never set: exactly the
                                           model's default) */
} RnnfxChainControls;

/* Default controls: 0 dB, 0 dB, mix 1, enabled, not normalized, knobs at
 * model defaults.
 * Thread: any. */
void rnnfx_chain_controls_init(RnnfxChainControls *controls);

/* Converts a value in the model's own units for conditioning input `index`
 * into the chain's normalised 0..1 knob value (and back). Out-of-range
 * values are clamped. Thread: any. */
float rnnfx_chain_knob_normalize(const RnnfxModel *model, int index, float value);
float rnnfx_chain_knob_denormalize(const RnnfxModel *model, int index, float unit);

/* ---- whole chain ---------------------------------------------------------- */

/* Mono chain around a finalized audio model, which it borrows (the caller
 * frees the model after the chain). host_rate in Hz; max_block is the largest
 * chunk processed at once (process() accepts any n and chunks internally;
 * the output does not depend on max_block). Thread: not audio. */
RnnfxStatus rnnfx_chain_new(const RnnfxModel *model, double host_rate, size_t max_block,
                            RnnfxChain **out, RnnfxError *err);

/* Same with 1 or 2 channels (each channel has its own model state; the
 * model is shared). model may be NULL: the chain then passes the input
 * (times input gain) as the wet signal until a core is swapped in.
 * Thread: not audio. */
RnnfxStatus rnnfx_chain_new_multi(const RnnfxModel *model, double host_rate, int channels,
                                  size_t max_block, RnnfxChain **out, RnnfxError *err);

/* Frees the chain and every core it holds (current, fading, pending and
 * retired). NULL is a no-op. Thread: not audio. */
void rnnfx_chain_free(RnnfxChain *chain);

/* The fixed settings given to _new. Thread: any. */
int rnnfx_chain_channels(const RnnfxChain *chain);
double rnnfx_chain_host_rate(const RnnfxChain *chain);

/* Clears all audio state (model state, resamplers, delay lines, fades; a
 * pending core becomes current) and makes the next set_controls snap.
 * Thread: audio-safe (no allocation); not concurrently with process. */
void rnnfx_chain_reset(RnnfxChain *chain);

/* Latency of the current core in host samples (what a plugin reports).
 * Thread: audio-safe. */
int rnnfx_chain_latency(const RnnfxChain *chain);

/* The model the current (newest installed) core runs, or NULL.
 * Thread: audio-safe. */
const RnnfxModel *rnnfx_chain_model(const RnnfxChain *chain);

/* Sets the control targets. Values are clamped (gains to the dB range, mix
 * and knobs to 0..1; NaN leaves a value unchanged). Thread: the processing
 * thread, between process calls (audio-safe). */
void rnnfx_chain_set_controls(RnnfxChain *chain, const RnnfxChainControls *controls);

/* Mono processing (1-channel chains only; others output silence):
 * in[n] -> out[n]. in may equal
 * out. Any n (0 included). Thread: audio-safe. */
void rnnfx_chain_process(RnnfxChain *chain, const float *in, float *out, size_t n);

/* Processing of all channels: in[c][n] -> out[c][n]; in[c] may equal
 * out[c]. Thread: audio-safe. */
void rnnfx_chain_process_multi(RnnfxChain *chain, const float *const *in, float *const *out,
                               size_t n);

/* Largest |sample| seen since the last call: into the model (after input
 * gain) and at the output, over all channels; then clears them.
 * Thread: audio-safe. */
void rnnfx_chain_take_peaks(RnnfxChain *chain, float *in_peak, float *out_peak);

/* ---- cores and model switching --------------------------------------------- */

/* Builds a core for `model` matching the chain's rate, channels and block
 * size. With own_model = 1 the core takes the model and frees it in
 * rnnfx_chain_core_free (also on failure here); with 0 it borrows it.
 * Reads only the chain's fixed settings, so a worker thread may call it
 * while the audio thread processes. Thread: not audio. */
RnnfxStatus rnnfx_chain_core_new(const RnnfxChain *chain, RnnfxModel *model, int own_model,
                                 RnnfxChainCore **out, RnnfxError *err);

/* The same, and the wet signal (the model's output at the host rate) then
 * runs through the impulse response `ir` (ir.h: a cabinet), each channel
 * with its own convolver (convolver.h, no added latency). ir may be NULL
 * (no convolution, as rnnfx_chain_core_new). It must have been made for
 * this chain's host rate and channel count; the core copies the samples, so
 * the caller keeps (and frees) ir. The response sits after the model and
 * before the dry/wet mix, so the dry signal and bypass stay untouched.
 * Thread: not audio. */
RnnfxStatus rnnfx_chain_core_new_ir(const RnnfxChain *chain, RnnfxModel *model, int own_model,
                                    const RnnfxIr *ir, RnnfxChainCore **out, RnnfxError *err);

/* Length of the core's impulse response in host samples (0: none).
 * Thread: any. */
size_t rnnfx_chain_core_ir_frames(const RnnfxChainCore *core);

/* Frees a core (and its model if owned). NULL is a no-op. The core must not
 * be installed in a chain. Thread: not audio. */
void rnnfx_chain_core_free(RnnfxChainCore *core);

/* Marks a core as kept by its caller, who may then install it any number of
 * times (a plugin's preloaded captures, selected from the audio thread).
 * The chain treats a kept core as any other, except that
 * rnnfx_chain_free leaves it to its owner, and swapping it in resets it
 * first (so it starts from its rest state, not where it last stopped). The
 * owner frees it with rnnfx_chain_core_free once no chain holds it, and
 * must not install it while the chain still holds it (see
 * rnnfx_chain_core_role). Thread: not audio (before the core is used). */
void rnnfx_chain_core_set_kept(RnnfxChainCore *core);

/* 1 if core is kept by its owner (rnnfx_chain_core_set_kept): whoever
 * takes it back from a chain leaves it alone. Thread: any. */
int rnnfx_chain_core_kept(const RnnfxChainCore *core);

/* What a core is to a chain right now. */
typedef enum {
    RNNFX_CORE_NONE = 0, /* not held */
    RNNFX_CORE_CURRENT,  /* the newest installed core */
    RNNFX_CORE_FADING,   /* fading out */
    RNNFX_CORE_PENDING,  /* waiting for the running fade to end, or settling
                            at the knobs (rnnfx_chain_swap) */
    RNNFX_CORE_RETIRED   /* done with, not yet taken by rnnfx_chain_take_retired */
} RnnfxCoreRole;

/* Thread: audio-safe. */
RnnfxCoreRole rnnfx_chain_core_role(const RnnfxChain *chain, const RnnfxChainCore *core);

/* Takes back the pending core (NULL if none):
 * the current core then stays. For the caller to free off the audio
 * thread (unless kept). Thread: audio-safe. */
RnnfxChainCore *rnnfx_chain_drop_pending(RnnfxChain *chain);

/* The model a core runs, and its latency in host samples. Thread: any
 * (both are fixed when the core is built). */
const RnnfxModel *rnnfx_chain_core_model(const RnnfxChainCore *core);
int rnnfx_chain_core_latency(const RnnfxChainCore *core);

/* The model's output in its rest state (RNNFX_CHAIN_SETTLE_SAMPLES of
 * silence at its default knobs, model units, before the chain's gains):
 * near 0 for a capture, a constant offset under everything for a file whose
 * export swapped gates or biases (+0.198 for one published AIDA-X GRU
 * file). Thread: any (fixed when the core is built). */
float rnnfx_chain_core_rest_output(const RnnfxChainCore *core);
/* The model's level: its K-weighted gain in dB on level.h's reference
 * guitar part, from its rest state at its default knobs (NAN: it plays
 * near silence, and normalize leaves it alone). Normalize plays the core
 * at minus this gain. Thread: any (fixed when the core is built). */
double rnnfx_chain_core_level_db(const RnnfxChainCore *core);
/* Beyond this rest output (-26 dBFS of DC) the plugin and the tools warn
 * that the file may be mis-converted or broken; it still loads and plays. */
#define RNNFX_CHAIN_REST_WARN 0.05

/* How a core converts rates: "none" (the model runs at the host rate),
 * "polyphase" (resample.h) or "libsamplerate". Thread: any. */
const char *rnnfx_chain_core_resampler(const RnnfxChainCore *core);

/* Installs a core built for this chain. If nothing is playing (no core yet,
 * or fully bypassed) it takes over at once; otherwise the chain crossfades
 * from the current core to it. If a crossfade is already running, the core
 * waits as "pending" and starts when that fade ends. At knobs off the
 * model's defaults it also waits as pending while it settles there, over
 * the next RNNFX_CHAIN_SETTLE_SAMPLES samples processed (one model-rate
 * sample of silence through it per host sample processed: work bounded by
 * the call's length), so that it fades in from its rest state at those
 * knobs, not with a thump. A core keeps the rest state of the last knob
 * setting it settled at: a kept core chosen again there starts at once. A
 * core
 * that was pending and never played is replaced and returned in *displaced
 * (else *displaced is NULL) for the caller to free off the audio thread
 * (unless kept). A
 * core the chain already holds in any role is refused: it comes back in
 * *displaced, and nothing changes. Knob values carry over. Thread:
 * audio-safe (processing thread, between process calls). */
void rnnfx_chain_swap(RnnfxChain *chain, RnnfxChainCore *core, RnnfxChainCore **displaced);

/* hold = 1: the cores playing now (current and fading) keep the knob
 * values they have until they are retired, whatever the chain's knobs do;
 * for a caller whose next core takes its knobs in another order
 * (rnnfx-live maps them by name), so that a knob moved during the switch
 * moves only the new model's. A core swapped in starts unheld. hold = 0
 * undoes it (the swap was refused). Thread: audio-safe. */
void rnnfx_chain_hold_knobs(RnnfxChain *chain, int hold);

/* Returns one core the chain no longer uses (faded out or replaced), or
 * NULL; call until NULL after each process/swap and free what comes back off
 * the audio thread (a kept core stays with its owner). Thread: audio-safe. */
RnnfxChainCore *rnnfx_chain_take_retired(RnnfxChain *chain);

/* 1 while a model-switch crossfade is running or a core is pending
 * (waiting for it, or settling).
 * Thread: audio-safe. */
int rnnfx_chain_switching(const RnnfxChain *chain);

#endif

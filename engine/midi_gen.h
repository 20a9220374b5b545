/*
 * midi_gen.h — sampling piano-roll frames from a MIDI-frame model.
 *
 * The model's sigmoid outputs are, for each key, the probability that it
 * sounds in the next frame. A frame is sampled key by key (independent
 * Bernoulli draws — the model has no joint distribution over keys) after two
 * adjustments on the logit l = ln(p/(1−p)):
 *
 *     p' = σ((l + ln(density)) / temperature)
 *
 * density multiplies each key's odds (1 = as trained, 0.5 = half the odds,
 * fewer notes; 2 = more), temperature flattens (> 1) or sharpens (< 1) the
 * distribution; temperature 0 plays every key with p' > 0.5. max_notes caps
 * the polyphony by keeping the most probable sampled keys.
 *
 * The random generator is PCG32 (O'Neill 2014: a 64-bit LCG with a
 * permuted 32-bit output), kept in a plain struct so a plugin can store it in
 * its state and a run can be replayed. Every sampled frame consumes exactly
 * n_keys draws whatever the settings, so the stream position depends only on
 * the number of frames sampled.
 *
 * Sequence convention shared by training, generation and the plugin (see
 * rnnfx_midi_frames_make_io): model input row i is [keys of frame i−1 (zeros
 * for i = 0), beat features of frame i]; output row i predicts the keys of
 * frame i.
 *
 * Thread: rng and sampling functions are audio-safe; rnnfx_midi_generate is
 * for any non-audio thread (it runs whole songs).
 */
#ifndef RNNFX_MIDI_GEN_H
#define RNNFX_MIDI_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "instance.h"
#include "midi_frames.h"
#include "model.h"
#include "status.h"

typedef struct {
    uint64_t state;
    uint64_t inc; /* odd: selects the stream */
} RnnfxRng;

/* Seeds the generator; equal seeds give equal streams. Thread: audio-safe. */
void rnnfx_rng_seed(RnnfxRng *rng, uint64_t seed);
/* Next 32 random bits. Thread: audio-safe. */
uint32_t rnnfx_rng_next(RnnfxRng *rng);
/* Uniform in [0, 1) with 24 random bits. Thread: audio-safe. */
float rnnfx_rng_uniform(RnnfxRng *rng);

typedef struct {
    float temperature; /* >= 0; 1 = as trained */
    float density;     /* > 0; 1 = as trained */
    int max_notes;     /* 0 = no cap */
} RnnfxMidiSampling;

/* temperature 1, density 1, no cap. Thread: any. */
void rnnfx_midi_sampling_default(RnnfxMidiSampling *s);

/* Samples one frame of n_keys keys from probabilities probs[n_keys] into
 * out[n_keys] (0 or 1). Returns the number of keys set. Non-finite
 * probabilities count as 0. Thread: audio-safe (no allocation; the cap uses
 * an O(n_keys·max_notes) selection). */
int rnnfx_midi_sample_frame(const float *probs, int n_keys, const RnnfxMidiSampling *s,
                            RnnfxRng *rng, float *out);

/* Runs a MIDI-frame model over n_prime given frames (prime[n_prime][frame
 * size], keys then beat features as rnnfx_midi_frames_from_song makes them;
 * n_prime may be 0) and then samples n_gen new frames into
 * out[n_gen][frame size] (beat features filled in for `meter`, frames
 * counted from the prime's first; a song's continuation plays in its
 * end_meter). The instance is reset first. Thread: not audio. */
RnnfxStatus rnnfx_midi_generate(RnnfxInstance *inst, const float *prime, size_t n_prime,
                                size_t n_gen, const RnnfxMidiMeter *meter,
                                const RnnfxMidiSampling *s, RnnfxRng *rng, float *out,
                                RnnfxError *err);

/* Beat position (in beats of the meter, within the bar) of grid step f for
 * steps_per_quarter. Thread: audio-safe. */
double rnnfx_midi_meter_bar_beat(const RnnfxMidiMeter *meter, uint64_t f, int steps_per_quarter);

/* Beat position (in beats of the time signature, within the bar) of grid
 * step f for steps_per_quarter and a time signature num/2^den_pow counted
 * from step 0. Thread: audio-safe. */
double rnnfx_midi_step_bar_beat(uint64_t f, int steps_per_quarter, int num, int den_pow);

#endif

/*
 * midi_gen.c — PCG32 and frame sampling for MIDI-frame models (see
 * midi_gen.h). Everything except rnnfx_midi_generate runs on the audio
 * thread: no allocation, bounded loops.
 */
#include "midi_gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "midi_frames.h"

/* PCG32 (XSH-RR): state advances by a 64-bit LCG, the output is a rotated
 * xorshift of the old state. Seeding follows the reference procedure: set
 * the increment from the stream, step, add the seed, step. The seed is
 * spread with SplitMix64 first so nearby seeds give unrelated streams. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint32_t rnnfx_rng_next(RnnfxRng *rng)
{
    uint64_t old = rng->state;
    rng->state = old * 6364136223846793005ull + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
}

void rnnfx_rng_seed(RnnfxRng *rng, uint64_t seed)
{
    uint64_t x = seed;
    uint64_t init = splitmix64(&x);
    uint64_t seq = splitmix64(&x);
    rng->state = 0;
    rng->inc = (seq << 1) | 1u;
    rnnfx_rng_next(rng);
    rng->state += init;
    rnnfx_rng_next(rng);
}

float rnnfx_rng_uniform(RnnfxRng *rng)
{
    return (float)(rnnfx_rng_next(rng) >> 8) * (1.0f / 16777216.0f);
}

void rnnfx_midi_sampling_default(RnnfxMidiSampling *s)
{
    s->temperature = 1.0f;
    s->density = 1.0f;
    s->max_notes = 0;
}

/* p' = σ((logit(p) + ln density) / T), written on odds to avoid log/exp
 * pairs where possible: odds' = (odds · density)^(1/T). */
static float adjust(float p, float density, float temperature)
{
    if (!(p > 0.0f)) /* also NaN */
        return 0.0f;
    if (p >= 1.0f)
        return 1.0f;
    double odds = (double)p / (1.0 - (double)p) * (double)density;
    if (temperature <= 0.0f)
        return odds > 1.0 ? 1.0f : 0.0f;
    if (temperature != 1.0f)
        odds = pow(odds, 1.0 / (double)temperature);
    if (!(odds < 1e30))
        return 1.0f;
    return (float)(odds / (1.0 + odds));
}

int rnnfx_midi_sample_frame(const float *probs, int n_keys, const RnnfxMidiSampling *s,
                            RnnfxRng *rng, float *out)
{
    RnnfxMidiSampling def;
    if (!s) {
        rnnfx_midi_sampling_default(&def);
        s = &def;
    }
    float density = (s->density > 0.0f && isfinite(s->density)) ? s->density : 1.0f;
    float temperature = (s->temperature >= 0.0f && isfinite(s->temperature)) ? s->temperature
                                                                             : 1.0f;
    int count = 0;
    for (int k = 0; k < n_keys; k++) {
        float u = rnnfx_rng_uniform(rng); /* always drawn: fixed stream use */
        float p = adjust(probs[k], density, temperature);
        out[k] = (u < p) ? 1.0f : 0.0f;
        count += out[k] > 0.0f;
    }
    if (s->max_notes > 0 && count > s->max_notes) {
        /* Keep the max_notes sampled keys of highest adjusted probability:
         * repeatedly drop the least probable one still set. */
        while (count > s->max_notes) {
            int worst = -1;
            float wp = 2.0f;
            for (int k = 0; k < n_keys; k++) {
                if (out[k] > 0.0f) {
                    float p = probs[k];
                    if (!(p == p))
                        p = 0.0f;
                    if (p < wp) {
                        wp = p;
                        worst = k;
                    }
                }
            }
            if (worst < 0)
                break;
            out[worst] = 0.0f;
            count--;
        }
    }
    return count;
}

double rnnfx_midi_step_bar_beat(uint64_t f, int steps_per_quarter, int num, int den_pow)
{
    if (steps_per_quarter < 1)
        steps_per_quarter = 1;
    if (num < 1)
        num = 4;
    if (den_pow < 0 || den_pow > 6)
        den_pow = 2;
    /* beats = quarters · (2^den_pow / 4); reduce f modulo one bar in steps
     * first (exactly, in integers, when a bar is a whole number of steps). */
    uint64_t bar_num = (uint64_t)num * 4u * (uint64_t)steps_per_quarter; /* steps·2^den_pow */
    uint64_t x = f * (uint64_t)(1u << den_pow);
    x %= bar_num;
    return (double)x / (4.0 * steps_per_quarter);
}

double rnnfx_midi_meter_bar_beat(const RnnfxMidiMeter *m, uint64_t f, int steps_per_quarter)
{
    const double o = m->origin;
    /* exact, in integers, from a change on the grid */
    if (o >= 0 && o <= (double)f && o == floor(o))
        return rnnfx_midi_step_bar_beat(f - (uint64_t)o, steps_per_quarter, m->num, m->den_pow);
    const int spq = steps_per_quarter < 1 ? 1 : steps_per_quarter;
    const int num = m->num < 1 ? 4 : m->num;
    const int den_pow = m->den_pow < 0 || m->den_pow > 6 ? 2 : m->den_pow;
    const double beats = ((double)f - o) * (double)(1 << den_pow) / (4.0 * spq);
    double bb = fmod(beats, (double)num);
    if (bb < 0)
        bb += num;
    return bb;
}

RnnfxStatus rnnfx_midi_generate(RnnfxInstance *inst, const float *prime, size_t n_prime,
                                size_t n_gen, const RnnfxMidiMeter *meter,
                                const RnnfxMidiSampling *s, RnnfxRng *rng, float *out,
                                RnnfxError *err)
{
    if (!inst || !rng || (!prime && n_prime) || (!out && n_gen))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "missing instance, generator or buffers");
    const RnnfxModel *model = rnnfx_instance_model(inst);
    const RnnfxArch *arch = rnnfx_model_arch(model);
    const RnnfxMidiInfo *info = &rnnfx_model_meta_const(model)->midi;
    if (arch->kind != RNNFX_KIND_MIDI_FRAMES)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "not a MIDI-frame model");
    RnnfxStatus st = rnnfx_midi_info_check(info, err);
    if (st)
        return st;
    const int nk = info->n_keys, nb = info->n_beat_features, fs = nk + nb;
    if (arch->input_size != fs || arch->output_size != nk)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "model has %d inputs / %d outputs, its MIDI grid needs %d / %d",
                          arch->input_size, arch->output_size, fs, nk);
    float *row = calloc((size_t)fs + (size_t)nk + 1, sizeof *row);
    if (!row)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    float *probs = row + fs;

    rnnfx_instance_reset(inst);
    /* Teacher-forced over the prime: row i = [keys(i-1), beat(i)]. */
    for (size_t i = 0; i < n_prime; i++) {
        if (i == 0)
            memset(row, 0, (size_t)nk * sizeof *row);
        else
            memcpy(row, prime + (i - 1) * (size_t)fs, (size_t)nk * sizeof *row);
        memcpy(row + nk, prime + i * (size_t)fs + nk, (size_t)nb * sizeof *row);
        rnnfx_instance_process_frames(inst, row, probs, 1);
    }
    for (size_t g = 0; g < n_gen; g++) {
        size_t f = n_prime + g;
        const float *prev = g > 0 ? out + (g - 1) * (size_t)fs
                                  : (n_prime ? prime + (n_prime - 1) * (size_t)fs : NULL);
        if (prev)
            memcpy(row, prev, (size_t)nk * sizeof *row);
        else
            memset(row, 0, (size_t)nk * sizeof *row);
        float *dst = out + g * (size_t)fs;
        if (nb) {
            double bb = rnnfx_midi_meter_bar_beat(meter, f, info->steps_per_quarter);
            rnnfx_midi_beat_features(bb, (double)(meter->num > 0 ? meter->num : 4), dst + nk, nb);
            memcpy(row + nk, dst + nk, (size_t)nb * sizeof *row);
        }
        rnnfx_instance_process_frames(inst, row, probs, 1);
        rnnfx_midi_sample_frame(probs, nk, s, rng, dst);
    }
    free(row);
    return RNNFX_OK;
}

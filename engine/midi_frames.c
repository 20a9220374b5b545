/*
 * midi_frames.c — cutting MIDI songs into piano-roll frames and back (see
 * midi_frames.h for the representation).
 *
 * Extraction is two passes: pair note-ons with note-offs per (channel, key)
 * into quantised intervals, then allocate the frame matrix once (its length
 * is the last interval's end) and paint the intervals and beat features.
 * Grid positions are computed in exact integer arithmetic on ticks
 * (tick·steps / division), never through seconds, so tempo changes cannot
 * move a note.
 */
#include "midi_frames.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rnnfx_midi_info_init(RnnfxMidiInfo *info, int steps_per_quarter, int beat_features)
{
    memset(info, 0, sizeof *info);
    info->steps_per_quarter = steps_per_quarter;
    info->low_key = 21;
    info->n_keys = 88;
    info->n_beat_features = beat_features ? RNNFX_MIDI_BEAT_FEATURES : 0;
}

RnnfxStatus rnnfx_midi_info_check(const RnnfxMidiInfo *info, RnnfxError *err)
{
    if (!info)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no MIDI grid");
    if (info->steps_per_quarter < 1 || info->steps_per_quarter > 24)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "steps per quarter note %d (expected 1, 2 or 4; at most 24)",
                          info->steps_per_quarter);
    if (info->n_keys < 1 || info->low_key < 0 || info->low_key + info->n_keys > 128)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "key range %d..%d is not inside MIDI 0..127",
                          info->low_key, info->low_key + info->n_keys - 1);
    if (info->n_beat_features != 0 && info->n_beat_features != RNNFX_MIDI_BEAT_FEATURES)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%d beat features (expected 0 or %d)",
                          info->n_beat_features, RNNFX_MIDI_BEAT_FEATURES);
    return RNNFX_OK;
}

uint64_t rnnfx_midi_frame_tick(uint64_t f, int division, int steps_per_quarter)
{
    uint64_t s = (uint64_t)steps_per_quarter;
    return (f * (uint64_t)division + s / 2) / s;
}

/* Nearest grid line of a tick: round(tick·steps/division), halves up. */
static uint64_t grid_of(uint64_t tick, int division, int steps)
{
    return (tick * (uint64_t)steps * 2 + (uint64_t)division) / (2 * (uint64_t)division);
}

void rnnfx_midi_beat_features(double bar_beat, double beats_per_bar, float *out, int n)
{
    if (n != RNNFX_MIDI_BEAT_FEATURES) {
        for (int i = 0; i < n; i++)
            out[i] = 0.0f;
        return;
    }
    if (!(beats_per_bar >= 1.0) || beats_per_bar > 64.0) /* also catches NaN */
        beats_per_bar = 4.0;
    if (!(bar_beat >= 0.0) || bar_beat >= 1e6)
        bar_beat = 0.0;
    bar_beat = fmod(bar_beat, beats_per_bar);
    /* A step "is on" a beat if it starts within 1/1000 beat of it: hosts
     * report positions as floats and files round ticks. */
    const double eps = 1e-3;
    double frac = bar_beat - floor(bar_beat);
    int on_beat = frac < eps || frac > 1.0 - eps;
    int downbeat = bar_beat < eps || bar_beat > beats_per_bar - eps;
    double p = bar_beat / beats_per_bar;
    out[0] = downbeat ? 1.0f : 0.0f;
    out[1] = on_beat ? 1.0f : 0.0f;
    out[2] = (float)sin(2.0 * M_PI * p);
    out[3] = (float)cos(2.0 * M_PI * p);
}

typedef struct {
    uint32_t start, end; /* frames [start, end) */
    uint8_t key;
} Interval;

typedef struct {
    Interval *v;
    size_t n, cap;
} IntervalList;

static int interval_push(IntervalList *l, uint32_t start, uint32_t end, uint8_t key)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 256;
        Interval *nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv)
            return 0;
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n].start = start;
    l->v[l->n].end = end;
    l->v[l->n].key = key;
    l->n++;
    return 1;
}

RnnfxStatus rnnfx_midi_frames_from_song(const RnnfxMidiSong *song, const RnnfxMidiInfo *info,
                                        RnnfxMidiFrames **out, RnnfxError *err)
{
    if (!song || !out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no song or output pointer");
    *out = NULL;
    RnnfxStatus s = rnnfx_midi_info_check(info, err);
    if (s)
        return s;
    if (song->division < 1)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "division %d", song->division);
    const int div = song->division, steps = info->steps_per_quarter;

    RnnfxMidiFrames *fr = calloc(1, sizeof *fr);
    if (!fr)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    fr->info = *info;
    fr->frame_size = info->n_keys + info->n_beat_features;
    fr->first_tempo_us = 500000;
    fr->ts_num = 4;
    fr->ts_den_pow = 2;
    fr->end_meter = (RnnfxMidiMeter){4, 2, 0.0};
    uint64_t end_ts_tick = 0;

    /* Pass 1: pair notes. open[ch][key] = start tick + 1 (0 = not sounding). */
    static const uint64_t none = 0;
    uint64_t(*open)[128] = calloc(16, sizeof *open);
    IntervalList list = {0};
    int have_tempo = 0, have_ts = 0;
    uint64_t last_frame = 0;
    if (!open) {
        free(fr);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i <= song->n_events; i++) {
        /* i == n_events: a sentinel that closes every open note at the end. */
        const RnnfxMidiEvent *e = i < song->n_events ? &song->events[i] : NULL;
        if (e && e->type == RNNFX_MIDI_TEMPO) {
            if (!have_tempo)
                fr->first_tempo_us = e->tempo_us;
            have_tempo = 1;
            continue;
        }
        if (e && e->type == RNNFX_MIDI_TIME_SIG) {
            if (!have_ts) {
                fr->ts_num = e->ts_num;
                fr->ts_den_pow = e->ts_den_pow;
            }
            /* the latest in time (tracks come one after another), the
             * later in the file at one tick */
            if (!have_ts || e->tick >= end_ts_tick) {
                end_ts_tick = e->tick;
                fr->end_meter.num = e->ts_num;
                fr->end_meter.den_pow = e->ts_den_pow;
                fr->end_meter.origin = (double)e->tick * steps / div;
            }
            have_ts = 1;
            continue;
        }
        int ch_lo = e ? e->channel : 0, ch_hi = e ? e->channel : 15;
        int k_lo = e ? e->key : 0, k_hi = e ? e->key : 127;
        uint64_t tick = e ? e->tick : song->end_tick;
        if (e && e->channel == 9) {
            if (e->type == RNNFX_MIDI_NOTE_ON)
                fr->n_drum_notes++;
            continue;
        }
        for (int ch = ch_lo; ch <= ch_hi; ch++) {
            for (int k = k_lo; k <= k_hi; k++) {
                /* Any note event (or the end) closes a sounding note on this
                 * channel and key: a second note-on re-strikes it. */
                if (open[ch][k] != none) {
                    uint64_t t0 = open[ch][k] - 1;
                    uint64_t f0 = grid_of(t0, div, steps), f1 = grid_of(tick, div, steps);
                    if (f1 <= f0)
                        f1 = f0 + 1;
                    open[ch][k] = none;
                    if (f1 > RNNFX_MIDI_MAX_FRAMES) {
                        s = rnnfx_fail(err, RNNFX_ERR_LIMIT,
                                       "song longer than %u grid steps", RNNFX_MIDI_MAX_FRAMES);
                        goto done;
                    }
                    if (k < info->low_key || k >= info->low_key + info->n_keys) {
                        fr->n_out_of_range++;
                        continue;
                    }
                    if (!interval_push(&list, (uint32_t)f0, (uint32_t)f1, (uint8_t)k)) {
                        s = rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
                        goto done;
                    }
                    if (f1 > last_frame)
                        last_frame = f1;
                }
                if (e && e->type == RNNFX_MIDI_NOTE_ON)
                    open[ch][k] = tick + 1;
            }
        }
    }

    /* Pass 2: paint. */
    fr->n_frames = (size_t)last_frame;
    fr->n_notes = list.n;
    if (fr->n_frames > 0) {
        fr->data = calloc(fr->n_frames * (size_t)fr->frame_size, sizeof *fr->data);
        if (!fr->data) {
            s = rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for %zu frames", fr->n_frames);
            goto done;
        }
    }
    for (size_t i = 0; i < list.n; i++) {
        const Interval *iv = &list.v[i];
        for (uint32_t f = iv->start; f < iv->end; f++)
            fr->data[(size_t)f * (size_t)fr->frame_size + (iv->key - info->low_key)] = 1.0f;
    }
    if (info->n_beat_features) {
        /* Walk the time-signature changes alongside the frames. Positions in
         * ticks are kept as (tick·steps) to stay exact. */
        size_t ei = 0;
        uint64_t ts_tick = 0;
        int num = 4, den_pow = 2;
        for (size_t f = 0; f < fr->n_frames; f++) {
            uint64_t pos_x = (uint64_t)f * (uint64_t)div; /* = frame tick · steps */
            while (ei < song->n_events && song->events[ei].tick * (uint64_t)steps <= pos_x) {
                const RnnfxMidiEvent *e = &song->events[ei++];
                if (e->type == RNNFX_MIDI_TIME_SIG) {
                    ts_tick = e->tick;
                    num = e->ts_num;
                    den_pow = e->ts_den_pow;
                }
            }
            /* beats since the time signature = ticks / (div·4/2^den_pow) */
            double ticks = (double)(pos_x - ts_tick * (uint64_t)steps) / steps;
            double beat_ticks = (double)div * 4.0 / (double)(1 << den_pow);
            double beats = ticks / beat_ticks;
            double bar_beat = fmod(beats, (double)num);
            rnnfx_midi_beat_features(bar_beat, (double)num,
                                     fr->data + f * (size_t)fr->frame_size + info->n_keys,
                                     RNNFX_MIDI_BEAT_FEATURES);
        }
    }
    *out = fr;
    fr = NULL;
done:
    free(open);
    free(list.v);
    rnnfx_midi_frames_free(fr);
    return s;
}

double rnnfx_midi_song_bar_beat(const RnnfxMidiSong *song, uint64_t f, int steps_per_quarter,
                                int *num)
{
    const uint64_t steps = steps_per_quarter < 1 ? 1 : (uint64_t)steps_per_quarter;
    const int div = song && song->division > 0 ? song->division : 1;
    const uint64_t pos_x = f * (uint64_t)div; /* = the step's tick · steps */
    uint64_t ts_tick = 0;
    int n = 4, den_pow = 2;
    for (size_t i = 0; song && i < song->n_events && song->events[i].tick * steps <= pos_x; i++)
        if (song->events[i].type == RNNFX_MIDI_TIME_SIG) {
            ts_tick = song->events[i].tick;
            n = song->events[i].ts_num;
            den_pow = song->events[i].ts_den_pow;
        }
    if (n < 1)
        n = 4;
    if (den_pow < 0 || den_pow > 6)
        den_pow = 2;
    if (num)
        *num = n;
    const double ticks = (double)(pos_x - ts_tick * steps) / (double)steps;
    const double beat_ticks = (double)div * 4.0 / (double)(1 << den_pow);
    return fmod(ticks / beat_ticks, (double)n);
}

void rnnfx_midi_frames_free(RnnfxMidiFrames *frames)
{
    if (!frames)
        return;
    free(frames->data);
    free(frames);
}

RnnfxStatus rnnfx_midi_frames_append_notes(RnnfxMidiSong *song, const float *keys, size_t n,
                                           int stride, const RnnfxMidiInfo *info,
                                           uint64_t start_tick, int channel, int velocity,
                                           int track, RnnfxError *err)
{
    if (!song || (!keys && n))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no song or frames");
    RnnfxStatus s = rnnfx_midi_info_check(info, err);
    if (s)
        return s;
    if (stride < info->n_keys)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "frame stride %d below %d keys", stride,
                          info->n_keys);
    if (channel < 0 || channel > 15 || velocity < 1 || velocity > 127 || track < 0 ||
        track >= RNNFX_MIDI_MAX_TRACKS)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "channel %d / velocity %d / track %d out of range",
                          channel, velocity, track);
    for (int k = 0; k < info->n_keys; k++) {
        size_t f = 0;
        while (f < n) {
            if (!(keys[f * (size_t)stride + k] > 0.5f)) {
                f++;
                continue;
            }
            size_t g = f + 1;
            while (g < n && keys[g * (size_t)stride + k] > 0.5f)
                g++;
            RnnfxMidiEvent on = {0}, off = {0};
            on.type = RNNFX_MIDI_NOTE_ON;
            on.channel = (uint8_t)channel;
            on.key = (uint8_t)(info->low_key + k);
            on.velocity = (uint8_t)velocity;
            on.track = (uint16_t)track;
            on.tick = start_tick + rnnfx_midi_frame_tick(f, song->division,
                                                         info->steps_per_quarter);
            off = on;
            off.type = RNNFX_MIDI_NOTE_OFF;
            off.velocity = 64;
            off.tick = start_tick + rnnfx_midi_frame_tick(g, song->division,
                                                          info->steps_per_quarter);
            if ((s = rnnfx_midi_song_add(song, &on, err)) != RNNFX_OK ||
                (s = rnnfx_midi_song_add(song, &off, err)) != RNNFX_OK)
                return s;
            f = g;
        }
    }
    return RNNFX_OK;
}

void rnnfx_midi_frames_make_io(const RnnfxMidiFrames *frames, float *in, float *target)
{
    const int nk = frames->info.n_keys, fs = frames->frame_size;
    for (size_t i = 0; i < frames->n_frames; i++) {
        const float *cur = frames->data + i * (size_t)fs;
        float *row = in + i * (size_t)fs;
        if (i == 0)
            memset(row, 0, (size_t)nk * sizeof *row);
        else
            memcpy(row, cur - fs, (size_t)nk * sizeof *row);
        memcpy(row + nk, cur + nk, (size_t)(fs - nk) * sizeof *row);
        memcpy(target + i * (size_t)nk, cur, (size_t)nk * sizeof *target);
    }
}

/*
 * midi_frames.h — piano-roll frames: MIDI notes cut on a musical grid.
 *
 * A song is cut on a grid of quarter, eighth or sixteenth notes counted in
 * ticks, so the frames do not depend on the tempo (a chorale played faster
 * gives the same frames). Frame f covers the grid step that starts at tick
 * f·division/steps_per_quarter; element k of a frame is 1 when MIDI key
 * low_key + k sounds in that step, else 0. A note is quantised by rounding
 * its start and its end to the nearest grid line and sounds in the frames
 * [start, end); a note shorter than half a step still gets one frame so no
 * note vanishes. Notes on MIDI channel 10 (drums) are skipped, and so are
 * keys outside the range (both are counted, so a tool can say so).
 *
 * Optional beat features follow the keys in each frame (RnnfxMidiInfo
 * n_beat_features = 4), computed from the position in the bar of the time
 * signature in force (4/4 if the file has none):
 *   [0] 1 on the first step of a bar (downbeat), else 0
 *   [1] 1 on a step that starts a beat of the time signature, else 0
 *   [2] sin(2π·p), [3] cos(2π·p), p = position in the bar in [0, 1)
 * The plugin computes the same features from the host's time:Position with
 * rnnfx_midi_beat_features(), so a model trained with them can follow a DAW.
 *
 * Limits of the representation (inherent in piano rolls): a key held across
 * two steps and the same key struck again look the same, and velocities are
 * dropped.
 *
 * Thread: functions that allocate say "not audio"; rnnfx_midi_beat_features
 * is audio-safe.
 */
#ifndef RNNFX_MIDI_FRAMES_H
#define RNNFX_MIDI_FRAMES_H

#include <stddef.h>

#include "midi_file.h"
#include "model.h"

#define RNNFX_MIDI_BEAT_FEATURES 4
/* Songs longer than this many frames are refused (about 9 hours of
 * sixteenths at 120 bpm). */
#define RNNFX_MIDI_MAX_FRAMES (1u << 20)

/* A time signature num/2^den_pow whose bars are counted from grid step
 * `origin` (where it took effect; fractional when that is not on the grid). */
typedef struct {
    int num, den_pow;
    double origin;
} RnnfxMidiMeter;

typedef struct {
    RnnfxMidiInfo info;
    int frame_size;   /* info.n_keys + info.n_beat_features */
    size_t n_frames;
    float *data;      /* [n_frames][frame_size], values 0/1 (beat features: see above) */
    /* What was read, for reports. */
    size_t n_notes;          /* notes placed in frames */
    size_t n_out_of_range;   /* notes dropped: key outside the range */
    size_t n_drum_notes;     /* notes dropped: channel 10 */
    unsigned first_tempo_us; /* first tempo (500000 = 120 bpm if none) */
    int ts_num, ts_den_pow;  /* first time signature (4, 2 if none) */
    RnnfxMidiMeter end_meter; /* the time signature in force at the end (4/4 from 0 if none):
                                 what a continuation of the song plays in */
} RnnfxMidiFrames;

/* Fills *info with the defaults: 88 keys from A0 (21), the given grid, and
 * beat features if beat_features is nonzero. Thread: any. */
void rnnfx_midi_info_init(RnnfxMidiInfo *info, int steps_per_quarter, int beat_features);

/* Checks a grid description (steps 1, 2 or 4 — or any 1..24 dividing into
 * ticks —, key range inside 0..127, beat features 0 or 4). Thread: any. */
RnnfxStatus rnnfx_midi_info_check(const RnnfxMidiInfo *info, RnnfxError *err);

/* Cuts a song into frames. Thread: not audio (allocates). */
RnnfxStatus rnnfx_midi_frames_from_song(const RnnfxMidiSong *song, const RnnfxMidiInfo *info,
                                        RnnfxMidiFrames **out, RnnfxError *err);

/* The beat position within the bar at grid step f of a song, under the
 * time signature in force there (4/4 before the first), as
 * rnnfx_midi_frames_from_song computes its beat features; *num gets that
 * signature's beats per bar. The song's events must be in time order (as
 * read). Thread: any. */
double rnnfx_midi_song_bar_beat(const RnnfxMidiSong *song, uint64_t f, int steps_per_quarter,
                                int *num);

/* Frees frames; NULL is a no-op. Thread: not audio. */
void rnnfx_midi_frames_free(RnnfxMidiFrames *frames);

/* The beat features of a grid step that starts bar_beat beats into a bar of
 * beats_per_bar beats (beats as the time signature counts them). Writes n
 * values (n = 0 or RNNFX_MIDI_BEAT_FEATURES; other n write zeros).
 * Thread: audio-safe. */
void rnnfx_midi_beat_features(double bar_beat, double beats_per_bar, float *out, int n);

/* Appends the notes of n frames to a song: keys[f*stride + k] > 0.5 means
 * key info->low_key + k sounds in frame f; consecutive active frames of a
 * key make one note. Frame f starts at tick start_tick +
 * round(f·division/steps_per_quarter). Notes go to MIDI channel `channel`
 * (0..15) with velocity `velocity` (1..127) on track `track`.
 * Thread: not audio. */
RnnfxStatus rnnfx_midi_frames_append_notes(RnnfxMidiSong *song, const float *keys, size_t n,
                                           int stride, const RnnfxMidiInfo *info,
                                           uint64_t start_tick, int channel, int velocity,
                                           int track, RnnfxError *err);

/* Builds the model's input and target rows for a song (the convention of
 * midi_gen.h): in[i] = [keys of frame i−1 (zeros for i = 0), beat features
 * of frame i], target[i] = keys of frame i, for i < n_frames.
 * in has n_frames·frame_size floats, target n_frames·n_keys.
 * Thread: any (no allocation). */
void rnnfx_midi_frames_make_io(const RnnfxMidiFrames *frames, float *in, float *target);

/* Tick of grid step f for a song's division (rounded). Thread: any. */
uint64_t rnnfx_midi_frame_tick(uint64_t f, int division, int steps_per_quarter);

#endif

/*
 * audio_io.h — reading and writing audio files for the command-line tools.
 *
 * A thin layer over libsndfile: any format it reads (WAV, AIFF, FLAC, OGG,
 * RF64, CAF...) comes in as 32-bit float frames with its rate, channel
 * count and format; float frames go out in a caller-chosen format. Writes
 * are atomic: the file is written under a temporary name in the same
 * directory and renamed into place only when complete, so a failure or a
 * Ctrl-C never leaves a half-written file under the final name.
 *
 * This is not a resampler (a rate mismatch is reported, not fixed) and not a
 * streaming reader (whole files are loaded; fine for captures of minutes).
 *
 * Errors use the engine's RnnfxStatus/RnnfxError vocabulary; nothing here
 * prints. Thread: all functions may be called from any thread except an
 * audio thread (they allocate and touch files).
 */
#ifndef RNNFX_AUDIO_IO_H
#define RNNFX_AUDIO_IO_H

#include <stddef.h>

#include "status.h"

/* A whole file in memory. data holds frames * channels interleaved floats,
 * full scale = ±1.0 (float files may exceed it). */
typedef struct {
    float *data;
    size_t frames;
    int channels;
    int sample_rate;
    int format;          /* libsndfile SF_FORMAT_* (major | subtype) */
    char format_name[64]; /* human-readable, e.g. "WAV 24-bit PCM" */
} RnnfxAudio;

/* Refuse files longer than this many frames (an hour at 192 kHz) so that a
 * corrupt header cannot make us allocate absurd amounts. */
#define RNNFX_AUDIO_MAX_FRAMES ((size_t)192000 * 3600)

/* Reads a file completely. On failure *out is zeroed and err says why
 * (missing file, unknown format, truncated data, zero frames). */
RnnfxStatus rnnfx_audio_read(const char *path, RnnfxAudio *out, RnnfxError *err);

/* Frees the sample data and zeroes the struct; NULL-safe and idempotent. */
void rnnfx_audio_free(RnnfxAudio *audio);

/* Channel selection for turning a file into one mono signal. */
#define RNNFX_AUDIO_MIX (-1) /* average all channels */

/* Copies one channel (0-based) or the average of all (RNNFX_AUDIO_MIX) into a
 * new malloc'd array of audio->frames floats. */
RnnfxStatus rnnfx_audio_mono(const RnnfxAudio *audio, int channel, float **out,
                             RnnfxError *err);

/* Chooses a libsndfile format for a file name by its extension: .wav (float
 * 32), .flac (24-bit), .aif/.aiff (float), .caf (float), .ogg (vorbis),
 * .rf64 (float). Returns 0 for an unknown extension. */
int rnnfx_audio_format_for_path(const char *path);

/* Parses a user's format word: "float", "pcm16", "pcm24", "pcm32", or 0 on an
 * unknown word. The result is a subtype to combine with a major format. */
int rnnfx_audio_subtype_from_name(const char *name);

/* Writes frames * channels interleaved floats atomically. format may be 0 to
 * choose by extension (see above). Non-finite samples are written as 0 and
 * PCM output is clipped by libsndfile's float->int conversion (enabled
 * clipping, not wrap-around). */
RnnfxStatus rnnfx_audio_write(const char *path, const float *data, size_t frames, int channels,
                              int sample_rate, int format, RnnfxError *err);

/* Level statistics of a mono signal, for the tools' warnings. */
typedef struct {
    double rms;
    double peak;         /* max |x| */
    size_t clipped;      /* samples in flat tops: >= 3 equal samples with |x| >= 0.999 */
    size_t nonfinite;    /* NaN/Inf samples (replaced by 0 in place by _sanitize) */
} RnnfxAudioStats;

void rnnfx_audio_stats(const float *x, size_t n, RnnfxAudioStats *st);

/* Replaces NaN/Inf by 0; returns how many were replaced. */
size_t rnnfx_audio_sanitize(float *x, size_t n);

#endif

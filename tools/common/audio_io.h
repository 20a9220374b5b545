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
 * Two ways in and out: whole files (rnnfx_audio_read / rnnfx_audio_write;
 * fine for captures of minutes) and streams (RnnfxAudioReader /
 * RnnfxAudioWriter: a file of any length in chunks the caller chooses, with
 * the same checks, messages and atomic write; what rnnfx-process uses so its
 * memory does not grow with the file). rnnfx_audio_write is a writer fed in
 * one call, so both ways give byte-identical files.
 *
 * This is not a resampler (a rate mismatch is reported, not fixed).
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

/* Reads a file completely (through the stream reader below, so with the
 * same checks and messages, plus the RNNFX_AUDIO_MAX_FRAMES limit). On
 * failure *out is zeroed and err says why (missing file, unknown format,
 * truncated data, zero frames, too long). */
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

/* ---- streams -------------------------------------------------------------- */

/* What a stream reader learned from the header. */
typedef struct {
    size_t frames;    /* frames the header promises; 0 when it does not say (a
                         stream whose header never got its length) */
    int channels;
    int sample_rate;
    int format;           /* libsndfile SF_FORMAT_* (major | subtype) */
    char format_name[64]; /* human-readable */
} RnnfxAudioInfo;

typedef struct RnnfxAudioReader RnnfxAudioReader;

/* Opens a file for reading in chunks and checks its header (missing file,
 * not audio, invalid header, more than 64 channels, zero frames). No limit
 * on the length: nothing is allocated per frame. Thread: any non-audio. */
RnnfxStatus rnnfx_audio_reader_open(const char *path, RnnfxAudioReader **out, RnnfxAudioInfo *info,
                                    RnnfxError *err);

/* Reads up to `frames` interleaved frames into buf. *got < frames only when
 * the audio ended; from then on every call gets 0. At the end, no frame at
 * all, or fewer frames than the header promised (a truncated file), is an
 * error. Thread: any non-audio (one thread at a time per reader). */
RnnfxStatus rnnfx_audio_reader_read(RnnfxAudioReader *reader, float *buf, size_t frames, size_t *got,
                                    RnnfxError *err);

/* Closes the file; NULL is a no-op. Thread: any non-audio. */
void rnnfx_audio_reader_close(RnnfxAudioReader *reader);

typedef struct RnnfxAudioWriter RnnfxAudioWriter;

/* The most frames of `channels` channels a file of libsndfile `format` can
 * hold, or 0 for no limit: WAV, AIFF and AU keep sizes in 32-bit fields
 * (4 GiB of data); RF64, W64, CAF, FLAC and the rest have none that
 * matters. Thread: any. */
unsigned long long rnnfx_audio_max_frames(int format, int channels);

/* Starts an atomic write: creates a temporary file beside `path`
 * ("<path>.tmp-XXXXXX"; the folder must exist). format as for
 * rnnfx_audio_write. Nothing carries the final name until _commit.
 * Thread: any non-audio. */
RnnfxStatus rnnfx_audio_writer_open(const char *path, int channels, int sample_rate, int format,
                                    RnnfxAudioWriter **out, RnnfxError *err);

/* Appends frames * channels interleaved floats (non-finite samples are
 * written as 0, PCM is clipped as by rnnfx_audio_write). The file is the
 * same whatever the sizes of the calls. Writing past
 * rnnfx_audio_max_frames is an error (libsndfile would write a header
 * other programs read short). After an error the writer only accepts
 * _abort. Thread: any non-audio (one thread at a time per writer). */
RnnfxStatus rnnfx_audio_writer_write(RnnfxAudioWriter *writer, const float *data, size_t frames,
                                     RnnfxError *err);

/* Finishes the file, syncs it and renames it to its final name. Frees the
 * writer whatever happens; on failure the temporary file is removed.
 * Thread: any non-audio. */
RnnfxStatus rnnfx_audio_writer_commit(RnnfxAudioWriter *writer, RnnfxError *err);

/* Gives up: closes and removes the temporary file and frees the writer.
 * NULL is a no-op. Thread: any non-audio. */
void rnnfx_audio_writer_abort(RnnfxAudioWriter *writer);

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

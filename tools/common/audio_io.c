/*
 * audio_io.c — libsndfile-backed audio reading and atomic writing, whole
 * files and streams. See audio_io.h for the contract.
 */
#include "audio_io.h"
#include "model_file.h"
#include "sndfile_check.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

static void describe_format(int format, char *out, size_t len)
{
    SF_FORMAT_INFO major = {0}, sub = {0};
    major.format = format & SF_FORMAT_TYPEMASK;
    sub.format = format & SF_FORMAT_SUBMASK;
    const char *mj = "unknown", *sb = "unknown";
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0 && major.name)
        mj = major.name;
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0 && sub.name)
        sb = sub.name;
    snprintf(out, len, "%s, %s", mj, sb);
}

RnnfxStatus rnnfx_audio_read(const char *path, RnnfxAudio *out, RnnfxError *err)
{
    if (!out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output given");
    memset(out, 0, sizeof *out);
    /* The stream reader's header and end checks, with the whole file kept. */
    RnnfxAudioReader *r = NULL;
    RnnfxAudioInfo info;
    RnnfxStatus st = rnnfx_audio_reader_open(path, &r, &info, err);
    if (st != RNNFX_OK)
        return st;
    if (info.frames > RNNFX_AUDIO_MAX_FRAMES) {
        rnnfx_audio_reader_close(r);
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%s: too long (%zu frames; at most %zu in memory)",
                          path, info.frames, RNNFX_AUDIO_MAX_FRAMES);
    }
    /* A known length is read in one go; an unknown one (a stream whose
     * header never got its length, e.g. an unfinished FLAC) into a buffer
     * that doubles until the audio ends. */
    const size_t ch = (size_t)info.channels;
    size_t cap = info.frames ? info.frames : (size_t)1 << 20, have = 0;
    float *data = malloc(cap * ch * sizeof *data);
    while (data) {
        size_t got = 0;
        st = rnnfx_audio_reader_read(r, data + have * ch, cap - have, &got, err);
        have += got;
        if (st != RNNFX_OK || have < cap || info.frames)
            break;
        if (cap * 2 > RNNFX_AUDIO_MAX_FRAMES) {
            st = rnnfx_fail(err, RNNFX_ERR_LIMIT, "%s: too long (more than %zu frames in memory)",
                            path, cap);
            break;
        }
        float *grown = realloc(data, cap * 2 * ch * sizeof *data);
        if (!grown) {
            free(data);
            data = NULL;
            break;
        }
        data = grown;
        cap *= 2;
    }
    rnnfx_audio_reader_close(r);
    if (!data)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "%s: out of memory for the audio", path);
    if (st != RNNFX_OK) {
        free(data);
        return st;
    }
    out->data = data;
    out->frames = have;
    out->channels = info.channels;
    out->sample_rate = info.sample_rate;
    out->format = info.format;
    memcpy(out->format_name, info.format_name, sizeof out->format_name);
    return RNNFX_OK;
}

void rnnfx_audio_free(RnnfxAudio *audio)
{
    if (!audio)
        return;
    free(audio->data);
    memset(audio, 0, sizeof *audio);
}

RnnfxStatus rnnfx_audio_mono(const RnnfxAudio *audio, int channel, float **out, RnnfxError *err)
{
    if (!audio || !out || !audio->data)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no audio given");
    *out = NULL;
    if (channel != RNNFX_AUDIO_MIX && (channel < 0 || channel >= audio->channels))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "channel %d requested, the file has %d (0-based: 0..%d)",
                          channel, audio->channels, audio->channels - 1);
    float *m = malloc(audio->frames * sizeof *m);
    if (!m)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    const int ch = audio->channels;
    for (size_t i = 0; i < audio->frames; i++) {
        const float *f = audio->data + i * (size_t)ch;
        if (channel == RNNFX_AUDIO_MIX) {
            double s = 0;
            for (int c = 0; c < ch; c++)
                s += f[c];
            m[i] = (float)(s / ch);
        } else {
            m[i] = f[channel];
        }
    }
    *out = m;
    return RNNFX_OK;
}

static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash))
        return "";
    return dot + 1;
}

int rnnfx_audio_format_for_path(const char *path)
{
    if (!path)
        return 0;
    const char *e = extension(path);
    if (!strcasecmp(e, "wav"))
        return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    if (!strcasecmp(e, "flac"))
        return SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
    if (!strcasecmp(e, "aif") || !strcasecmp(e, "aiff"))
        return SF_FORMAT_AIFF | SF_FORMAT_FLOAT;
    if (!strcasecmp(e, "caf"))
        return SF_FORMAT_CAF | SF_FORMAT_FLOAT;
    if (!strcasecmp(e, "ogg") || !strcasecmp(e, "oga"))
        return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    if (!strcasecmp(e, "rf64"))
        return SF_FORMAT_RF64 | SF_FORMAT_FLOAT;
    return 0;
}

int rnnfx_audio_subtype_from_name(const char *name)
{
    if (!name)
        return 0;
    if (!strcasecmp(name, "float") || !strcasecmp(name, "f32"))
        return SF_FORMAT_FLOAT;
    if (!strcasecmp(name, "pcm16") || !strcasecmp(name, "16"))
        return SF_FORMAT_PCM_16;
    if (!strcasecmp(name, "pcm24") || !strcasecmp(name, "24"))
        return SF_FORMAT_PCM_24;
    if (!strcasecmp(name, "pcm32") || !strcasecmp(name, "32"))
        return SF_FORMAT_PCM_32;
    return 0;
}

/* ---- stream reader ------------------------------------------------------- */

struct RnnfxAudioReader {
    SNDFILE *sf;
    char *path;      /* for messages */
    size_t frames;   /* promised by the header; 0 = unknown (read to the end) */
    int channels;
    size_t pos;      /* frames delivered */
    int ended;
};

RnnfxStatus rnnfx_audio_reader_open(const char *path, RnnfxAudioReader **out, RnnfxAudioInfo *info,
                                    RnnfxError *err)
{
    if (!out || !info)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output given");
    *out = NULL;
    memset(info, 0, sizeof *info);
    if (!path || !*path)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no file name given");
    SF_INFO si;
    memset(&si, 0, sizeof si);
    SNDFILE *sf = sf_open(path, SFM_READ, &si);
    if (!sf) {
        /* libsndfile says "System error" for a missing file; errno is clearer */
        FILE *probe = fopen(path, "rb");
        if (!probe)
            return rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        fclose(probe);
        /* a folder opens too, and libsndfile calls it "Format not recognised" */
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return rnnfx_fail(err, RNNFX_ERR_IO, "%s: is a folder, not an audio file", path);
        return rnnfx_fail(err, RNNFX_ERR_FORMAT, "%s: not an audio file libsndfile can read (%s)",
                          path, sf_strerror(NULL));
    }
    if (si.channels < 1 || si.samplerate < 1) {
        sf_close(sf);
        return rnnfx_fail(err, RNNFX_ERR_FORMAT, "%s: invalid header (%d channels, %d Hz)", path,
                          si.channels, si.samplerate);
    }
    char cut[160];
    if (rnnfx_sndfile_truncated(sf, cut, sizeof cut)) {
        sf_close(sf);
        return rnnfx_fail(err, RNNFX_ERR_PARSE, "%s: %s", path, cut);
    }
    int unknown = si.frames == SF_COUNT_MAX;
    if (si.channels > 64) {
        sf_close(sf);
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%s: too many channels (%d; at most 64)", path,
                          si.channels);
    }
    if (!unknown && si.frames <= 0) {
        sf_close(sf);
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: contains no audio frames", path);
    }
    /* No limit on the length: a stream allocates nothing per frame, and a
     * header promising more than the file holds ends as "truncated". */
    RnnfxAudioReader *r = calloc(1, sizeof *r);
    size_t plen = strlen(path) + 1;
    if (r)
        r->path = malloc(plen);
    if (!r || !r->path) {
        free(r);
        sf_close(sf);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(r->path, path, plen);
    r->sf = sf;
    r->frames = unknown ? 0 : (size_t)si.frames;
    r->channels = si.channels;
    info->frames = r->frames;
    info->channels = si.channels;
    info->sample_rate = si.samplerate;
    info->format = si.format;
    describe_format(si.format, info->format_name, sizeof info->format_name);
    *out = r;
    return RNNFX_OK;
}

RnnfxStatus rnnfx_audio_reader_read(RnnfxAudioReader *r, float *buf, size_t frames, size_t *got,
                                    RnnfxError *err)
{
    if (!r || !got || (!buf && frames))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "invalid arguments for reading audio");
    *got = 0;
    const size_t ch = (size_t)r->channels;
    while (*got < frames && !r->ended) {
        size_t want = frames - *got;
        /* Reads of at most 64 Ki frames, never past what the header
         * promised. */
        if (r->frames) {
            if (r->pos >= r->frames) {
                r->ended = 1;
                break;
            }
            if (want > r->frames - r->pos)
                want = r->frames - r->pos;
        }
        if (want > 65536)
            want = 65536;
        sf_count_t n = sf_readf_float(r->sf, buf + *got * ch, (sf_count_t)want);
        if (n <= 0) {
            r->ended = 1;
            break;
        }
        *got += (size_t)n;
        r->pos += (size_t)n;
    }
    if (!r->ended || *got == frames)
        return RNNFX_OK;
    /* The audio ended inside this call: the checks of a whole-file read. */
    if (r->pos == 0) {
        if (!r->frames)
            return rnnfx_fail(err, RNNFX_ERR_PARSE, "%s: no audio could be decoded", r->path);
        int sferr = sf_error(r->sf);
        return rnnfx_fail(err, RNNFX_ERR_PARSE, "%s: no audio could be decoded (%s)", r->path,
                          sferr ? sf_error_number(sferr) : "file truncated");
    }
    if (r->frames && r->pos < r->frames)
        return rnnfx_fail(err, RNNFX_ERR_PARSE,
                          "%s: truncated: header says %zu frames, only %zu could be read", r->path,
                          r->frames, r->pos);
    return RNNFX_OK;
}

void rnnfx_audio_reader_close(RnnfxAudioReader *r)
{
    if (!r)
        return;
    sf_close(r->sf);
    free(r->path);
    free(r);
}

/* ---- stream writer ---------------------------------------------------------- */

/* Samples go to libsndfile through a staging buffer of WRITER_STAGE floats,
 * always in calls of `per` whole frames (the last one shorter): the sequence
 * of calls, hence the file (FLAC frames, Vorbis packets), does not depend on
 * how the caller cut its data, and non-finite samples become 0 without
 * touching the caller's buffer. */
#define WRITER_STAGE 4096

unsigned long long rnnfx_audio_max_frames(int format, int channels)
{
    const int major = format & SF_FORMAT_TYPEMASK;
    if ((major != SF_FORMAT_WAV && major != SF_FORMAT_AIFF && major != SF_FORMAT_AU) ||
        channels < 1)
        return 0;
    int bytes;
    switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW: bytes = 1; break;
    case SF_FORMAT_PCM_16: bytes = 2; break;
    case SF_FORMAT_PCM_24: bytes = 3; break;
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT: bytes = 4; break;
    case SF_FORMAT_DOUBLE: bytes = 8; break;
    default: return 0; /* compressed: smaller than any of the above */
    }
    /* 2^32 - 1 bytes in the size fields, less room for the header chunks */
    return (0xFFFFFFFFull - 65536ull) / ((unsigned long long)bytes * (unsigned)channels);
}

struct RnnfxAudioWriter {
    SNDFILE *sf;
    int fd;
    char *path, *tmp;
    int channels;
    size_t per;    /* frames per libsndfile call */
    size_t staged; /* frames in stage */
    unsigned long long written, max_frames; /* max_frames 0: no limit */
    int failed;
    char sfmsg[256];
    float stage[WRITER_STAGE];
};

RnnfxStatus rnnfx_audio_writer_open(const char *path, int channels, int sample_rate, int format,
                                    RnnfxAudioWriter **out, RnnfxError *err)
{
    if (out)
        *out = NULL;
    if (!out || !path || !*path || channels < 1 || sample_rate < 1)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "invalid arguments for writing audio");
    if (!format)
        format = rnnfx_audio_format_for_path(path);
    if (!format)
        return rnnfx_fail(err, RNNFX_ERR_ARG,
                          "%s: unknown file extension (use .wav, .flac, .aiff, .caf, .ogg, .rf64)",
                          path);
    if (channels > WRITER_STAGE)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%s: too many channels (%d)", path, channels);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = sample_rate;
    info.channels = channels;
    info.format = format;
    if (!sf_format_check(&info))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "%s: libsndfile cannot write this format/rate/channel combination",
                          path);

    RnnfxAudioWriter *w = calloc(1, sizeof *w);
    size_t plen = strlen(path);
    if (w) {
        w->path = malloc(plen + 1);
        w->tmp = malloc(plen + 16);
    }
    if (!w || !w->path || !w->tmp) {
        if (w) {
            free(w->path);
            free(w->tmp);
        }
        free(w);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    }
    memcpy(w->path, path, plen + 1);
    const size_t keep = rnnfx_temp_name_keep(path, 11);
    memcpy(w->tmp, path, keep);
    memcpy(w->tmp + keep, ".tmp-XXXXXX", 12);
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) {
        RnnfxStatus st = rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot create a temporary file beside it: %s",
                                    path, strerror(errno));
        free(w->path);
        free(w->tmp);
        free(w);
        return st;
    }
    (void)fchmod(w->fd, 0644);
    w->sf = sf_open_fd(w->fd, SFM_WRITE, &info, 0);
    if (!w->sf) {
        RnnfxStatus st = rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot write: %s", path, sf_strerror(NULL));
        close(w->fd);
        unlink(w->tmp);
        free(w->path);
        free(w->tmp);
        free(w);
        return st;
    }
    sf_command(w->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    /* No PEAK chunk in float WAV/AIFF files: it carries the time of
     * writing, so two renders of the same take differed in their bytes
     * (checksums, --skip-existing checks by content, reproducible
     * fixtures); its peak values are optional metadata. */
    sf_command(w->sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    w->channels = channels;
    w->per = WRITER_STAGE / (size_t)channels;
    w->max_frames = rnnfx_audio_max_frames(format, channels);
    *out = w;
    return RNNFX_OK;
}

/* Hands the staged frames to libsndfile. */
static int writer_flush(RnnfxAudioWriter *w, const float *frames, size_t n)
{
    if (w->max_frames && w->written + n > w->max_frames) {
        snprintf(w->sfmsg, sizeof w->sfmsg,
                 "it would pass 4 GiB, the most this file type can hold; write RF64, W64, CAF "
                 "or FLAC instead");
        w->failed = 1;
        return -1;
    }
    w->written += n;
    if (n && sf_writef_float(w->sf, frames, (sf_count_t)n) != (sf_count_t)n) {
        snprintf(w->sfmsg, sizeof w->sfmsg, "%s", sf_strerror(w->sf));
        w->failed = 1;
        return -1;
    }
    return 0;
}

RnnfxStatus rnnfx_audio_writer_write(RnnfxAudioWriter *w, const float *data, size_t frames,
                                     RnnfxError *err)
{
    if (!w || (!data && frames))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "invalid arguments for writing audio");
    if (w->failed)
        return rnnfx_fail(err, RNNFX_ERR_IO, "%s: write failed (%s); nothing was written", w->path,
                          w->sfmsg);
    const size_t ch = (size_t)w->channels;
    size_t done = 0;
    while (done < frames) {
        size_t n = w->per - w->staged;
        if (n > frames - done)
            n = frames - done;
        const float *src = data + done * ch;
        float *dst = w->stage + w->staged * ch;
        for (size_t i = 0; i < n * ch; i++)
            dst[i] = isfinite(src[i]) ? src[i] : 0.0f;
        w->staged += n;
        done += n;
        if (w->staged == w->per) {
            w->staged = 0;
            if (writer_flush(w, w->stage, w->per) != 0)
                return rnnfx_fail(err, RNNFX_ERR_IO, "%s: write failed (%s); nothing was written",
                                  w->path, w->sfmsg);
        }
    }
    return RNNFX_OK;
}

static void writer_free(RnnfxAudioWriter *w)
{
    free(w->path);
    free(w->tmp);
    free(w);
}

void rnnfx_audio_writer_abort(RnnfxAudioWriter *w)
{
    if (!w)
        return;
    sf_close(w->sf);
    close(w->fd);
    unlink(w->tmp);
    writer_free(w);
}

/* Reads the finished temporary file's header back: it must hold every
 * frame written. libsndfile's Vorbis and MPEG encoders ignore a failed
 * write (a full disk), and sf_writef_float and sf_close both report
 * success, so without this a cut-short Ogg or MP3 file took the output's
 * name. (Block-coded formats may hold a few frames more: ADPCM pads its
 * last block.) */
static int writer_check(RnnfxAudioWriter *w)
{
    SF_INFO si;
    memset(&si, 0, sizeof si);
    SNDFILE *sf = sf_open(w->tmp, SFM_READ, &si);
    if (!sf) {
        snprintf(w->sfmsg, sizeof w->sfmsg, "the finished file does not read back: %s",
                 sf_strerror(NULL));
        return 0;
    }
    char cut[160];
    const int truncated = rnnfx_sndfile_truncated(sf, cut, sizeof cut);
    sf_close(sf);
    /* an Ogg file cut before its last page says "length unknown" */
    if (truncated || si.frames < 0 || si.frames == SF_COUNT_MAX ||
        (unsigned long long)si.frames < w->written) {
        if (si.frames == SF_COUNT_MAX)
            snprintf(w->sfmsg, sizeof w->sfmsg,
                     "the finished file ends early (its last page is missing): is the disk full?");
        else
            snprintf(w->sfmsg, sizeof w->sfmsg,
                     "the finished file holds %lld of the %llu frames written: is the disk full?",
                     (long long)si.frames, w->written);
        return 0;
    }
    return 1;
}

RnnfxStatus rnnfx_audio_writer_commit(RnnfxAudioWriter *w, RnnfxError *err)
{
    if (!w)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "invalid arguments for writing audio");
    int ok = !w->failed;
    if (ok && w->staged) {
        ok = writer_flush(w, w->stage, w->staged) == 0;
        w->staged = 0;
    }
    sf_write_sync(w->sf);
    if (ok && sf_close(w->sf) != 0) {
        snprintf(w->sfmsg, sizeof w->sfmsg, "closing it failed");
        ok = 0;
    } else if (!ok) {
        sf_close(w->sf);
    }
    if (ok && fsync(w->fd) != 0 && errno != EINVAL && errno != EBADF) {
        snprintf(w->sfmsg, sizeof w->sfmsg, "%s", strerror(errno));
        ok = 0;
    }
    close(w->fd);
    if (ok)
        ok = writer_check(w);
    if (!ok) {
        RnnfxStatus st = rnnfx_fail(err, RNNFX_ERR_IO, "%s: write failed (%s); nothing was written",
                                    w->path, w->sfmsg);
        unlink(w->tmp);
        writer_free(w);
        return st;
    }
    if (rename(w->tmp, w->path) != 0) {
        RnnfxStatus st = rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot rename the finished file into place: %s",
                                    w->path, strerror(errno));
        unlink(w->tmp);
        writer_free(w);
        return st;
    }
    writer_free(w);
    return RNNFX_OK;
}

/* ---- whole files ---------------------------------------------------------------- */

RnnfxStatus rnnfx_audio_write(const char *path, const float *data, size_t frames, int channels,
                              int sample_rate, int format, RnnfxError *err)
{
    if (!path || !*path || (!data && frames) || channels < 1 || sample_rate < 1)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "invalid arguments for writing audio");
    RnnfxAudioWriter *w = NULL;
    RnnfxStatus st = rnnfx_audio_writer_open(path, channels, sample_rate, format, &w, err);
    if (st != RNNFX_OK)
        return st;
    st = rnnfx_audio_writer_write(w, data, frames, err);
    if (st != RNNFX_OK) {
        /* the message is set; close and remove the temporary file */
        rnnfx_audio_writer_abort(w);
        return st;
    }
    return rnnfx_audio_writer_commit(w, err);
}

void rnnfx_audio_stats(const float *x, size_t n, RnnfxAudioStats *st)
{
    memset(st, 0, sizeof *st);
    double ss = 0, peak = 0;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        if (!isfinite(v)) {
            st->nonfinite++;
            run = 0;
            continue;
        }
        double a = fabs((double)v);
        ss += a * a;
        if (a > peak)
            peak = a;
        /* clipping is a flat top: >= 3 equal samples at or above full scale
         * (a lone peak is not, and float files may legitimately go over 1) */
        if (a >= 0.999 && i > 0 && x[i] == x[i - 1]) {
            run++;
            /* run counts repeats: 2 repeats = 3 equal samples */
            if (run == 2)
                st->clipped += 3;
            else if (run > 2)
                st->clipped++;
        } else {
            run = 0;
        }
    }
    st->rms = n ? sqrt(ss / (double)n) : 0.0;
    st->peak = peak;
}

size_t rnnfx_audio_sanitize(float *x, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            x[i] = 0.0f;
            k++;
        }
    return k;
}

/*
 * audio_io.c — libsndfile-backed whole-file audio reading and atomic writing.
 * See audio_io.h for the contract.
 */
#include "audio_io.h"

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
    if (!path || !*path)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no file name given");

    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) {
        /* libsndfile says "System error" for a missing file; errno is clearer */
        FILE *probe = fopen(path, "rb");
        if (!probe)
            return rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        fclose(probe);
        return rnnfx_fail(err, RNNFX_ERR_FORMAT, "%s: not an audio file libsndfile can read (%s)",
                          path, sf_strerror(NULL));
    }
    if (info.channels < 1 || info.samplerate < 1) {
        sf_close(sf);
        return rnnfx_fail(err, RNNFX_ERR_FORMAT, "%s: invalid header (%d channels, %d Hz)", path,
                          info.channels, info.samplerate);
    }
    if (info.frames == SF_COUNT_MAX) {
        /* a stream whose header never got its length (an unfinished FLAC
         * from a renderer that stopped early): read to the end in chunks */
        if (info.channels > 64) {
            sf_close(sf);
            return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%s: too many channels (%d)", path,
                              info.channels);
        }
        size_t cap = 1 << 20, got = 0;
        const size_t ch = (size_t)info.channels;
        float *data = malloc(cap * ch * sizeof *data);
        while (data) {
            if (got == cap) {
                if (cap * 2 > RNNFX_AUDIO_MAX_FRAMES) {
                    free(data);
                    sf_close(sf);
                    return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%s: too long", path);
                }
                float *nd = realloc(data, cap * 2 * ch * sizeof *data);
                if (!nd) {
                    free(data);
                    data = NULL;
                    break;
                }
                data = nd;
                cap *= 2;
            }
            sf_count_t n = sf_readf_float(sf, data + got * ch, (sf_count_t)(cap - got));
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        sf_close(sf);
        if (!data)
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "%s: out of memory", path);
        if (got == 0) {
            free(data);
            return rnnfx_fail(err, RNNFX_ERR_PARSE, "%s: no audio could be decoded", path);
        }
        out->data = data;
        out->frames = got;
        out->channels = info.channels;
        out->sample_rate = info.samplerate;
        out->format = info.format;
        describe_format(info.format, out->format_name, sizeof out->format_name);
        return RNNFX_OK;
    }
    if (info.frames <= 0) {
        sf_close(sf);
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: contains no audio frames", path);
    }
    if ((size_t)info.frames > RNNFX_AUDIO_MAX_FRAMES || info.channels > 64) {
        sf_close(sf);
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%s: too large (%lld frames, %d channels)", path,
                          (long long)info.frames, info.channels);
    }
    size_t frames = (size_t)info.frames;
    float *data = malloc(frames * (size_t)info.channels * sizeof *data);
    if (!data) {
        sf_close(sf);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "%s: out of memory for %zu frames", path, frames);
    }
    /* Read in chunks so a truncated file is detected and reported exactly. */
    size_t got = 0;
    while (got < frames) {
        size_t want = frames - got;
        if (want > 65536)
            want = 65536;
        sf_count_t n = sf_readf_float(sf, data + got * (size_t)info.channels, (sf_count_t)want);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    int sferr = sf_error(sf);
    sf_close(sf);
    if (got == 0) {
        free(data);
        return rnnfx_fail(err, RNNFX_ERR_PARSE, "%s: no audio could be decoded (%s)", path,
                          sferr ? sf_error_number(sferr) : "file truncated");
    }
    if (got < frames) {
        /* A truncated file: keep what decoded but say so — the caller decides.
         * We treat it as an error: silently training on a shorter file than
         * the header claims hides a broken copy. */
        free(data);
        return rnnfx_fail(err, RNNFX_ERR_PARSE,
                          "%s: truncated: header says %zu frames, only %zu could be read", path,
                          frames, got);
    }
    out->data = data;
    out->frames = frames;
    out->channels = info.channels;
    out->sample_rate = info.samplerate;
    out->format = info.format;
    describe_format(info.format, out->format_name, sizeof out->format_name);
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

RnnfxStatus rnnfx_audio_write(const char *path, const float *data, size_t frames, int channels,
                              int sample_rate, int format, RnnfxError *err)
{
    if (!path || !*path || (!data && frames) || channels < 1 || sample_rate < 1)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "invalid arguments for writing audio");
    if (!format)
        format = rnnfx_audio_format_for_path(path);
    if (!format)
        return rnnfx_fail(err, RNNFX_ERR_ARG,
                          "%s: unknown file extension (use .wav, .flac, .aiff, .caf, .ogg, .rf64)",
                          path);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = sample_rate;
    info.channels = channels;
    info.format = format;
    if (!sf_format_check(&info))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "%s: libsndfile cannot write this format/rate/channel combination",
                          path);

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        RnnfxStatus st = rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot create a temporary file beside it: %s",
                                    path, strerror(errno));
        free(tmp);
        return st;
    }
    (void)fchmod(fd, 0644);
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, 0);
    if (!sf) {
        RnnfxStatus st = rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot write: %s", path, sf_strerror(NULL));
        close(fd);
        unlink(tmp);
        free(tmp);
        return st;
    }
    sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    /* Write through a small buffer so non-finite samples become 0 without
     * touching the caller's data. */
    float buf[4096];
    size_t per = sizeof buf / sizeof buf[0] / (size_t)channels;
    if (per == 0)
        per = 1;
    size_t done = 0;
    int ok = 1;
    while (done < frames && ok) {
        size_t n = frames - done;
        if (n > per)
            n = per;
        size_t cnt = n * (size_t)channels;
        const float *src = data + done * (size_t)channels;
        for (size_t i = 0; i < cnt; i++)
            buf[i] = isfinite(src[i]) ? src[i] : 0.0f;
        if (sf_writef_float(sf, buf, (sf_count_t)n) != (sf_count_t)n)
            ok = 0;
        done += n;
    }
    char sfmsg[256];
    snprintf(sfmsg, sizeof sfmsg, "%s", sf_strerror(sf));
    sf_write_sync(sf);
    if (sf_close(sf) != 0)
        ok = 0;
    if (ok && fsync(fd) != 0 && errno != EINVAL && errno != EBADF)
        ok = 0;
    close(fd);
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return rnnfx_fail(err, RNNFX_ERR_IO, "%s: write failed (%s); nothing was written", path, sfmsg);
    }
    if (rename(tmp, path) != 0) {
        RnnfxStatus st = rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot rename the finished file into place: %s",
                                    path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    return RNNFX_OK;
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

/*
 * ir_file.c — rnnfx_ir_load: an impulse response from a sound file (see
 * ir.h). Apart from the tools, the engine's only user of libsndfile, in a
 * file of its own so that programs which never read an IR file (the
 * engine's tests on other CPUs, say) do not need the library.
 */
#include "ir.h"
#include "sndfile_check.h"

#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IR_MAX_CHANNELS 2

RnnfxStatus rnnfx_ir_load(const char *path, double host_rate, int channels, RnnfxIr **out,
                          RnnfxError *err)
{
    if (out) *out = NULL;
    if (!path || !path[0]) return rnnfx_fail(err, RNNFX_ERR_ARG, "no impulse response file given");
    /* A folder read as "Format not recognised", and a named pipe made
     * sf_open() wait for a writer forever (in the plugin, the Worker). */
    struct stat pre;
    if (stat(path, &pre) == 0 && !S_ISREG(pre.st_mode))
        return rnnfx_fail(err, RNNFX_ERR_IO,
                          "%s: not a regular file (%s); an impulse response is read from a "
                          "sound file",
                          path, S_ISDIR(pre.st_mode) ? "a folder" : S_ISFIFO(pre.st_mode) ? "a pipe"
                                                                                      : "a device");
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) {
        RnnfxStatus st = rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot read it as a sound file (%s)",
                                    path, sf_strerror(NULL));
        return st;
    }
    RnnfxStatus st = RNNFX_OK;
    float *inter = NULL, *chan[IR_MAX_CHANNELS] = {NULL, NULL};
    const double rate = (double)info.samplerate;
    char cut[160];
    if (rnnfx_sndfile_truncated(sf, cut, sizeof cut)) {
        /* a reverb's tail cut off hard is not a response to play */
        st = rnnfx_fail(err, RNNFX_ERR_PARSE, "%s: %s", path, cut);
    } else if (info.channels < 1 || info.channels > IR_MAX_CHANNELS) {
        st = rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                        "%s: %d channels; an impulse response must be mono or stereo", path,
                        info.channels);
    } else if (!(rate >= RNNFX_IR_MIN_RATE && rate <= RNNFX_IR_MAX_RATE)) {
        /* before the buffers are sized from the header's frame count: a
         * tiny file claiming 13 M frames at 655 kHz had 200 MB allocated
         * before ir.c refused its rate */
        st = rnnfx_fail(err, RNNFX_ERR_INVALID,
                        "%s: the impulse response's sample rate %.0f Hz is outside %.0f-%.0f Hz",
                        path, rate, RNNFX_IR_MIN_RATE, RNNFX_IR_MAX_RATE);
    } else if (info.frames <= 0) {
        st = rnnfx_fail(err, RNNFX_ERR_INVALID, "%s: the file holds no samples", path);
    } else if ((double)info.frames / (rate > 0 ? rate : 1.0) > RNNFX_IR_MAX_SECONDS * 4.0) {
        st = rnnfx_fail(err, RNNFX_ERR_LIMIT,
                        "%s: %.1f s long; an impulse response may be at most %.0f s", path,
                        (double)info.frames / rate, RNNFX_IR_MAX_SECONDS);
    }
    size_t frames = st == RNNFX_OK ? (size_t)info.frames : 0;
    if (st == RNNFX_OK) {
        inter = malloc(frames * (size_t)info.channels * sizeof(float));
        for (int c = 0; c < info.channels; c++)
            chan[c] = malloc(frames * sizeof(float));
        if (!inter || !chan[0] || (info.channels == 2 && !chan[1]))
            st = rnnfx_fail(err, RNNFX_ERR_NOMEM, "%s: out of memory", path);
    }
    if (st == RNNFX_OK) {
        /* integer formats come in scaled to +-1 */
        sf_command(sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
        sf_count_t got = sf_readf_float(sf, inter, (sf_count_t)frames);
        if (got <= 0) {
            st = rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot read the samples (%s)", path,
                            sf_strerror(sf));
        } else {
            frames = (size_t)got; /* what it holds (a cut file was refused above) */
            for (size_t i = 0; i < frames; i++)
                for (int c = 0; c < info.channels; c++)
                    chan[c][i] = inter[i * (size_t)info.channels + (size_t)c];
        }
    }
    sf_close(sf);
    free(inter);
    if (st == RNNFX_OK) {
        const float *const data[IR_MAX_CHANNELS] = {chan[0], chan[1]};
        st = rnnfx_ir_new(data, info.channels, frames, rate, host_rate, channels, out, err);
        if (st != RNNFX_OK) rnnfx_error_prefix(err, "%s", path);
    }
    for (int c = 0; c < IR_MAX_CHANNELS; c++)
        free(chan[c]);
    return st;
}

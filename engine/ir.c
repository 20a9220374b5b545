/*
 * ir.c — impulse responses made ready for a host rate: channels, rate
 * conversion, trimming, normalisation. See ir.h; ir_file.c reads files.
 */
#include "ir.h"

#include <math.h>
#include <samplerate.h>
#include <stdlib.h>
#include <string.h>

#define IR_MAX_CHANNELS 2


struct RnnfxIr {
    int channels;
    size_t frames;
    double rate, source_rate;
    int source_channels;
    float gain;
    float *data[IR_MAX_CHANNELS];
};

void rnnfx_ir_free(RnnfxIr *ir)
{
    if (!ir) return;
    for (int c = 0; c < IR_MAX_CHANNELS; c++)
        free(ir->data[c]);
    free(ir);
}

int rnnfx_ir_channels(const RnnfxIr *ir) { return ir ? ir->channels : 0; }
size_t rnnfx_ir_frames(const RnnfxIr *ir) { return ir ? ir->frames : 0; }
double rnnfx_ir_rate(const RnnfxIr *ir) { return ir ? ir->rate : 0.0; }
double rnnfx_ir_source_rate(const RnnfxIr *ir) { return ir ? ir->source_rate : 0.0; }
int rnnfx_ir_source_channels(const RnnfxIr *ir) { return ir ? ir->source_channels : 0; }
float rnnfx_ir_gain(const RnnfxIr *ir) { return ir ? ir->gain : 0.0f; }

const float *rnnfx_ir_data(const RnnfxIr *ir, int c)
{
    if (!ir || c < 0 || c >= ir->channels) return NULL;
    return ir->data[c];
}

/* src[0 .. n) at ratio out/in into a new array of *m samples, scaled by
 * 1/ratio so the response keeps its level in frequency. */
static RnnfxStatus convert_rate(const float *src, size_t n, double ratio, float **out, size_t *m,
                                RnnfxError *err)
{
    *out = NULL;
    size_t cap = (size_t)ceil((double)n * ratio) + 16;
    float *dst = calloc(cap, sizeof *dst);
    if (!dst) return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory converting the rate");
    SRC_DATA d;
    memset(&d, 0, sizeof d);
    d.data_in = src;
    d.input_frames = (long)n;
    d.data_out = dst;
    d.output_frames = (long)cap;
    d.end_of_input = 1;
    d.src_ratio = ratio;
    int e = src_simple(&d, SRC_SINC_MEDIUM_QUALITY, 1);
    if (e != 0) {
        free(dst);
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "cannot convert the rate: %s", src_strerror(e));
    }
    const float k = (float)(1.0 / ratio);
    for (long i = 0; i < d.output_frames_gen; i++)
        dst[i] *= k;
    *m = (size_t)d.output_frames_gen;
    *out = dst;
    return RNNFX_OK;
}

RnnfxStatus rnnfx_ir_new(const float *const *data, int file_channels, size_t frames,
                         double file_rate, double host_rate, int channels, RnnfxIr **out,
                         RnnfxError *err)
{
    if (out) *out = NULL;
    if (!out || !data) return rnnfx_fail(err, RNNFX_ERR_ARG, "no impulse response given");
    if (channels < 1 || channels > IR_MAX_CHANNELS)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "impulse responses serve 1 or 2 channels, not %d",
                          channels);
    if (file_channels < 1 || file_channels > IR_MAX_CHANNELS)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "the impulse response has %d channels; 1 (mono) or 2 (stereo) are "
                          "supported",
                          file_channels);
    if (!(file_rate >= RNNFX_IR_MIN_RATE && file_rate <= RNNFX_IR_MAX_RATE))
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "the impulse response's sample rate %.0f Hz is outside %.0f-%.0f Hz",
                          file_rate, RNNFX_IR_MIN_RATE, RNNFX_IR_MAX_RATE);
    if (!(host_rate >= RNNFX_IR_MIN_RATE && host_rate <= RNNFX_IR_MAX_RATE))
        return rnnfx_fail(err, RNNFX_ERR_ARG, "host rate %.0f Hz is outside %.0f-%.0f Hz",
                          host_rate, RNNFX_IR_MIN_RATE, RNNFX_IR_MAX_RATE);
    if (frames == 0) return rnnfx_fail(err, RNNFX_ERR_INVALID, "the impulse response is empty");
    /* the source limit, before any work: a long file at a low rate could
     * still fit after conversion, so bound it by the same duration */
    if ((double)frames / file_rate > RNNFX_IR_MAX_SECONDS * 4.0)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT,
                          "the impulse response is %.1f s long; the limit is %.0f s (is this a "
                          "recording rather than an impulse response?)",
                          (double)frames / file_rate, RNNFX_IR_MAX_SECONDS);
    for (int c = 0; c < file_channels; c++) {
        if (!data[c])
            return rnnfx_fail(err, RNNFX_ERR_ARG, "impulse response channel %d missing", c);
        for (size_t i = 0; i < frames; i++)
            if (!isfinite(data[c][i]))
                return rnnfx_fail(err, RNNFX_ERR_INVALID,
                                  "the impulse response holds NaN or infinity (channel %d, sample "
                                  "%zu)",
                                  c + 1, i);
    }

    RnnfxIr *ir = calloc(1, sizeof *ir);
    if (!ir) return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    ir->channels = channels;
    ir->rate = host_rate;
    ir->source_rate = file_rate;
    ir->source_channels = file_channels;

    /* the channels as the chain will use them, at the file rate */
    float *src[IR_MAX_CHANNELS] = {NULL, NULL};
    RnnfxStatus st = RNNFX_OK;
    for (int c = 0; c < channels && st == RNNFX_OK; c++) {
        src[c] = malloc(frames * sizeof(float));
        if (!src[c]) {
            st = rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
            break;
        }
        if (file_channels == 1) {
            memcpy(src[c], data[0], frames * sizeof(float));
        } else if (channels == 2) {
            memcpy(src[c], data[c], frames * sizeof(float));
        } else {
            for (size_t i = 0; i < frames; i++)
                src[c][i] = 0.5f * (data[0][i] + data[1][i]);
        }
    }
    size_t n = frames;
    if (st == RNNFX_OK && file_rate != host_rate) {
        for (int c = 0; c < channels && st == RNNFX_OK; c++) {
            float *conv = NULL;
            size_t m = 0;
            st = convert_rate(src[c], frames, host_rate / file_rate, &conv, &m, err);
            if (st == RNNFX_OK) {
                free(src[c]);
                src[c] = conv;
                n = m;
            }
        }
    }
    if (st != RNNFX_OK) {
        for (int c = 0; c < IR_MAX_CHANNELS; c++)
            free(src[c]);
        rnnfx_ir_free(ir);
        return st;
    }

    /* trim the trailing silence (common to the channels), then normalise
     * what is kept */
    float peak = 0.0f;
    for (int c = 0; c < channels; c++)
        for (size_t i = 0; i < n; i++) {
            float a = fabsf(src[c][i]);
            peak = a > peak ? a : peak;
        }
    size_t keep = 0;
    for (int c = 0; c < channels; c++)
        for (size_t i = n; i > keep; i--)
            if (fabsf(src[c][i - 1]) > peak * RNNFX_IR_TRIM_LEVEL) {
                keep = i;
                break;
            }
    double energy = 0.0;
    for (int c = 0; c < channels; c++) {
        double e = rnnfx_ir_norm_power(src[c], keep, host_rate);
        energy = e > energy ? e : energy;
    }
    if (peak == 0.0f || !(energy > 1e-30)) {
        st = rnnfx_fail(err, RNNFX_ERR_INVALID, "the impulse response is silent");
    } else if ((double)keep / host_rate > RNNFX_IR_MAX_SECONDS) {
        st = rnnfx_fail(err, RNNFX_ERR_LIMIT,
                        "the impulse response is %.2f s long (after trimming its silent end); "
                        "the limit is %.0f s",
                        (double)keep / host_rate, RNNFX_IR_MAX_SECONDS);
    } else if (keep > RNNFX_IR_MAX_TAPS) {
        st = rnnfx_fail(err, RNNFX_ERR_LIMIT,
                        "the impulse response is %.2f s long (after trimming its silent end): "
                        "%zu taps at %.0f Hz, over the limit of %d (%.2f s at this rate), which "
                        "keeps the convolution within real time",
                        (double)keep / host_rate, keep, host_rate, RNNFX_IR_MAX_TAPS,
                        RNNFX_IR_MAX_TAPS / host_rate);
    }
    if (st != RNNFX_OK) {
        for (int c = 0; c < IR_MAX_CHANNELS; c++)
            free(src[c]);
        rnnfx_ir_free(ir);
        return st;
    }
    ir->gain = (float)(1.0 / sqrt(energy));
    ir->frames = keep;
    for (int c = 0; c < channels; c++) {
        for (size_t i = 0; i < keep; i++)
            src[c][i] *= ir->gain;
        ir->data[c] = src[c];
    }
    *out = ir;
    return RNNFX_OK;
}

double rnnfx_ir_band_power(const float *h, size_t n, double rate)
{
    enum { P = RNNFX_IR_BAND_POINTS };
    const double lo = RNNFX_IR_BAND_LO, hi = fmin(RNNFX_IR_BAND_HI, 0.45 * rate);
    /* One phasor per frequency, turned by one sample each step: the taps
     * in the outer loop and the frequencies in the inner one, which the
     * compiler vectorises. In double, the phasors' drift over the longest
     * response (262144 steps) stays near 1e-11. */
    double pr[P], pi[P], cr[P], ci[P], re[P], im[P];
    for (int j = 0; j < P; j++) {
        const double w = 6.283185307179586 * lo * pow(hi / lo, (j + 0.5) / P) / rate;
        cr[j] = cos(w);
        ci[j] = -sin(w);
        pr[j] = 1.0;
        pi[j] = re[j] = im[j] = 0.0;
    }
    for (size_t i = 0; i < n; i++) {
        const double x = h[i];
        for (int j = 0; j < P; j++) {
            re[j] += x * pr[j];
            im[j] += x * pi[j];
            const double r = pr[j] * cr[j] - pi[j] * ci[j];
            pi[j] = pr[j] * ci[j] + pi[j] * cr[j];
            pr[j] = r;
        }
    }
    double sum = 0.0;
    for (int j = 0; j < P; j++)
        sum += re[j] * re[j] + im[j] * im[j];
    return sum / P;
}

double rnnfx_ir_norm_power(const float *h, size_t n, double rate)
{
    double e = 0.0;
    for (size_t i = 0; i < n; i++)
        e += (double)h[i] * h[i];
    const double band = rnnfx_ir_band_power(h, n, rate);
    /* A response with next to nothing in the band (a high-pass, a click
     * file) would otherwise be raised without limit, to a blast of highs
     * or, at worst, infinity. */
    return fmax(band, RNNFX_IR_BAND_FLOOR * e);
}

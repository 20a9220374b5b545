/*
 * ir.h — impulse responses (a cabinet, a room) for the chain's convolution
 * stage, read from sound files and made ready for one host rate.
 *
 * A capture of an amp head sounds harsh without the speaker cabinet after
 * it, so the plugin and the tools can run the model's output through an
 * impulse response (convolver.h does the convolution). An RnnfxIr is the
 * response as the chain uses it: at the host's rate, 1 or 2 channels, the
 * trailing silence trimmed, and scaled to unit gain over the band where a
 * guitar or bass has its power (the mean power of its frequency response
 * at 128 points spaced evenly in log frequency from 80 Hz to 8 kHz, pink
 * noise's weighting; over the louder channel), so that a response recorded
 * hot or quiet plays at a sensible level, loading a cabinet keeps about the
 * level a DI had without it, and cabinets swap within a few dB of one
 * another. (Unit energy, the sum of squares, keeps white noise's level
 * instead; a cabinet cuts most of the spectrum above 5 kHz, so it raised
 * guitar cabinets by 7-10 dB on real DIs and clipped, where the band gain
 * measures -0.4 to +1.4 dB; see rnnfx_ir_band_power.) An IR
 * is immutable once made; the chain copies what it needs, so the IR may be
 * freed as soon as a core was built from it.
 *
 * Channels: a mono response feeds every channel; a stereo one gives the left
 * channel to channel 0 and the right to channel 1 of a stereo chain, and is
 * mixed down (the mean of the two) for a mono chain. More than 2 channels
 * is refused (a surround or ambisonic response is not a cabinet).
 *
 * Rates: a response recorded at another rate than the host's is converted
 * with libsamplerate's medium sinc converter (off the audio thread, once) and
 * scaled by the rate ratio, so its frequency response keeps its level.
 * Medium rather than best: the same 97 dB signal-to-noise, flat to 90 %
 * of the Nyquist frequency instead of 97 % (19.8 rather than 21.4 kHz at
 * 44.1 kHz, where a cabinet response is 20-30 dB down), and 3-5 times
 * faster (measured: a 0.2 s response to 96 kHz 21 -> 6 ms, a 2.5 s one
 * 330 -> 60 ms), which a plugin instance pays at load.
 *
 * What this is not: the convolution (convolver.h) or the plugin's file
 * handling. ir.c converts rates with libsamplerate (as chain.c does) and
 * ir_file.c reads files with libsndfile; the real-time core needs only libc
 * and libm.
 */
#ifndef RNNFX_IR_H
#define RNNFX_IR_H

#include <stddef.h>

#include "status.h"

/* Longest response accepted, after trimming and at the host rate: enough
 * for a plate or spring reverb; a cabinet is typically 0.05-0.5 s. */
#define RNNFX_IR_MAX_SECONDS 5.0
/* ... and at most this many taps at the host rate (5.5 s at 48 kHz, 2.7 s
 * at 96 kHz, 1.4 s at 192 kHz): the convolution's work per sample grows
 * with the taps and its work per second with the rate too, and this keeps
 * a stereo instance well inside one core (about 1 us per sample and
 * channel at the limit on the benchmark machine). */
#define RNNFX_IR_MAX_TAPS 262144
/* Trailing samples below this fraction of the peak (-100 dB) are cut. */
#define RNNFX_IR_TRIM_LEVEL 1e-5f
/* The band of the normalisation (Hz; the top is capped at 0.45 times the
 * rate) and its number of frequencies. */
#define RNNFX_IR_BAND_LO 80.0
#define RNNFX_IR_BAND_HI 8000.0
#define RNNFX_IR_BAND_POINTS 128
/* ... but the band power taken is at least this fraction of the sum of
 * squares, so that the gain stays within 20 dB of unit energy's: real
 * cabinets' band power is 3-10 times their energy, far from it. */
#define RNNFX_IR_BAND_FLOOR 0.01
/* Host and file rates accepted (Hz). */
#define RNNFX_IR_MIN_RATE 8000.0
#define RNNFX_IR_MAX_RATE 768000.0

typedef struct RnnfxIr RnnfxIr;

/* Reads a sound file (anything libsndfile reads: WAV, FLAC, AIFF, Ogg...)
 * and makes it ready for a chain of `channels` (1 or 2) channels at
 * host_rate. Fails with a message naming the problem for a file that cannot
 * be read, is not a sound file, is empty or silent, holds NaN or infinity,
 * has more than 2 channels, or is longer than RNNFX_IR_MAX_SECONDS or
 * RNNFX_IR_MAX_TAPS at the host rate.
 * Thread: not audio (reads a file, allocates). */
RnnfxStatus rnnfx_ir_load(const char *path, double host_rate, int channels, RnnfxIr **out,
                          RnnfxError *err);

/* The same from samples in memory: data[c][i] for c < file_channels (1 or
 * 2), i < frames, recorded at file_rate. Thread: not audio (allocates). */
RnnfxStatus rnnfx_ir_new(const float *const *data, int file_channels, size_t frames,
                         double file_rate, double host_rate, int channels, RnnfxIr **out,
                         RnnfxError *err);

/* NULL is a no-op. Thread: not audio. */
void rnnfx_ir_free(RnnfxIr *ir);

/* Channels (as asked for), length in host-rate samples, the host rate, the
 * rate and channel count of the source, and the linear gain the
 * normalisation applied (1 / sqrt of rnnfx_ir_norm_power of the resampled
 * response's louder channel).
 * Thread: any. */
int rnnfx_ir_channels(const RnnfxIr *ir);
size_t rnnfx_ir_frames(const RnnfxIr *ir);
double rnnfx_ir_rate(const RnnfxIr *ir);
double rnnfx_ir_source_rate(const RnnfxIr *ir);
int rnnfx_ir_source_channels(const RnnfxIr *ir);
float rnnfx_ir_gain(const RnnfxIr *ir);

/* The mean of |H(f)|^2 of the n-tap response h at `rate` over
 * RNNFX_IR_BAND_POINTS frequencies f_j = lo (hi/lo)^((j + 0.5) / points),
 * lo and hi as above: what the normalisation divides out. 1 for a unit
 * impulse. Thread: any (no allocation; O(n * points)). */
double rnnfx_ir_band_power(const float *h, size_t n, double rate);

/* What one channel is divided by: the band power, but at least
 * RNNFX_IR_BAND_FLOOR times the sum of squares. Thread: any. */
double rnnfx_ir_norm_power(const float *h, size_t n, double rate);

/* Channel c's samples (c < rnnfx_ir_channels), rnnfx_ir_frames of them.
 * Thread: any. */
const float *rnnfx_ir_data(const RnnfxIr *ir, int c);

#endif

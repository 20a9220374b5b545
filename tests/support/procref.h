/*
 * procref.h — the two references the batch tool's cabinet and tail tests
 * (test_process_ir.c, test_process_tail.c) hold its output against:
 *   - the plugin's way: the engine's chain built as the plugin builds it
 *     (an empty chain, a core with the model and the response swapped in,
 *     blocks of 256 through process_multi), driven over the input and then
 *     zeros, its latency removed;
 *   - the definition: the model's wet signal (the chain without a
 *     response) convolved with the response in double precision, then the
 *     mix and output gain.
 * They share the engine with the tool, but not its file handling, its
 * rounds, its threads or (the second) its convolver.
 *
 * Test code only: failures are cmocka assertions, so call these from a
 * cmocka test. Not for the audio thread.
 */
#ifndef RNNFX_PROCREF_H
#define RNNFX_PROCREF_H

#include <stddef.h>

#include <sndfile.h>

#include "model.h"

/* The tool's --in-gain, --out-gain (dB) and --mix. */
typedef struct {
    double in_db, out_db, mix;
} RnnfxTestSettings;

/* The file in_path as a host playing on through `tail` frames of silence
 * gives it, with the model at model_path and the response ir_path (NULL:
 * none): a stereo file through one stereo chain (the plugin's stereo
 * instance; a mono response feeds both sides), any other through a mono
 * chain per channel. Returns (frames + tail) * channels interleaved floats
 * (free()), info describing the input. */
float *rnnfx_test_chain_reference(const char *model_path, const char *in_path,
                                  const char *ir_path, const RnnfxTestSettings *s, size_t tail,
                                  SF_INFO *info);

/* out[i] = g (mix sum_k h[k] w[i + L - k] + (1 - mix) x[i]) for i in
 * 0 .. n + tail - 1 (x is 0 past n), in double: the response after the
 * model, before the mix (chain.h), with w the wet signal of the chain
 * without a response (input gain s->in_db, mix 1, 0 dB out) driven over x
 * and zeros, L its latency (removed as the tool removes it), g the output
 * gain. */
void rnnfx_test_convolved(const RnnfxModel *m, const float *x, size_t n, size_t tail, int rate,
                          const float *h, size_t k_len, const RnnfxTestSettings *s, double *out);

#endif

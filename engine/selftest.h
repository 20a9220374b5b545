/*
 * selftest.h — checking a model against a file's own test vectors.
 *
 * AIDA-X model files written by its trainer may carry "input_batch" and
 * "output_batch": a stretch of the training data's input and the trained
 * network's output for it, computed from the zero state. Running the
 * imported model on input_batch and comparing with output_batch is an
 * end-to-end check of the whole import (layout, gate order, biases, skip)
 * against the software that trained the model. rnnfx's AIDA-X export writes
 * such vectors too, so the AIDA-X side and our inspector can check a file.
 *
 * What the vectors mean (the convention of the AIDA-X trainer, which we
 * follow when writing them):
 *   - the network's own output, skip included, *without* in_gain/out_gain
 *     (those are playback levels added to the file after training);
 *   - from the model's initial state (zero for AIDA-X files);
 *   - input_batch is either a flat list of audio samples, with any
 *     conditioning inputs held at 0, or a list of rows of input_size values;
 *   - output_batch is a flat list (output channel 0) or a list of rows of
 *     output_size values.
 *
 * The comparison runs the plain-C reference kernels, so the figure measures
 * the import, not the SIMD approximations.
 *
 * Thread: not audio (allocates).
 */
#ifndef RNNFX_SELFTEST_H
#define RNNFX_SELFTEST_H

#include <stddef.h>

#include "model.h"

struct json_object;

/* A model's own test vectors, as read from a file. */
typedef struct {
    size_t n;        /* time steps; 0 = the file has none */
    int input_cols;  /* 1 (audio only) or the model's input size */
    int output_cols; /* 1 (output channel 0) or the model's output size */
    float *input;    /* [n][input_cols] */
    float *output;   /* [n][output_cols] */
} RnnfxSelftestVectors;

/* An absolute error below this passes the inspector's self-test. The AIDA-X
 * trainer's float32 PyTorch output and a float32 C implementation agree to
 * about 1e-6 over 2048 steps; 1e-4 leaves room for compiler differences and
 * still catches any layout mistake (those give errors of 1e-2 or more). */
#define RNNFX_SELFTEST_TOLERANCE 1e-4

/* Extracts "input_batch"/"output_batch" from a parsed file. A file without
 * them gives RNNFX_OK with v->n = 0. Malformed vectors (different lengths,
 * non-numbers, non-finite values) are RNNFX_ERR_INVALID. */
RnnfxStatus rnnfx_selftest_vectors_from_json(struct json_object *root, RnnfxSelftestVectors *v,
                                             RnnfxError *err);

/* Same, reading and parsing the file at path. */
RnnfxStatus rnnfx_selftest_vectors_load(const char *path, RnnfxSelftestVectors *v,
                                        RnnfxError *err);

/* Frees the arrays and zeroes *v; NULL is a no-op. */
void rnnfx_selftest_vectors_free(RnnfxSelftestVectors *v);

/* Runs a finalized model on input [n][input_cols] from its initial state,
 * without in/out gains, with the reference kernels, and writes output
 * [n][output_size]. input_cols is 1 (conditioning inputs held at 0) or the
 * model's input size. */
RnnfxStatus rnnfx_selftest_compute(const RnnfxModel *model, const float *input, int input_cols,
                                   size_t n, float *output, RnnfxError *err);

/* Runs the model on input_batch and returns the largest absolute difference
 * from output_batch in *max_abs_err. Fails with RNNFX_ERR_INVALID when the
 * vectors' shape does not fit the model. */
RnnfxStatus rnnfx_selftest(const RnnfxModel *model, const RnnfxSelftestVectors *v,
                           double *max_abs_err, RnnfxError *err);

/* Convenience for tools: loads the vectors of the file at path and checks
 * model against them. *n_steps = 0 (and RNNFX_OK) when the file has none. */
RnnfxStatus rnnfx_selftest_file(const char *path, const RnnfxModel *model, size_t *n_steps,
                                double *max_abs_err, RnnfxError *err);

/* The deterministic excitation rnnfx writes as input_batch: a guitar-like
 * mix of decaying plucked partials and a little noise, sweeping from quiet
 * to loud (peak about 0.9), so that the vectors exercise both the nearly
 * linear and the saturating range of a capture. Thread: any. */
void rnnfx_selftest_signal(float *x, size_t n);

#endif

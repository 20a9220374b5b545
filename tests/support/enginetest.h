/*
 * enginetest.h — small helpers shared by the engine's tests: finding test
 * data, reading the PyTorch reference vectors (tests/data/refs, written by
 * tests/gen_torch_refs.py), building random models of any architecture, and a
 * deterministic test signal.
 *
 * Test code only: these functions print nothing and never abort; callers
 * assert on their results. Not for the audio thread.
 */
#ifndef RNNFX_ENGINETEST_H
#define RNNFX_ENGINETEST_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Directory the test data lives under: $RNNFX_SRCDIR if set, else "." (the
 * tests run from the repository root). Writes "<srcdir>/<rel>" into buf and
 * returns buf. */
const char *rnnfx_test_path(char *buf, size_t cap, const char *rel);

/* Reads a little-endian float32 file of exactly `count` values; NULL if it
 * cannot be read or holds another number of values. Free with free(). */
float *rnnfx_test_read_f32(const char *path, size_t count);

/* One line of tests/data/refs/manifest.txt, with paths made absolute-ish
 * (prefixed by the refs directory). */
typedef struct {
    char name[96];
    char model[512];
    char input[512];
    char expected[512];
    int input_size;
    int output_size;
} RnnfxRefCase;

/* Reads the manifest in dir; returns the number of cases (>= 0) and a heap
 * array in *out (free with free()), or -1 if the manifest is missing or has a
 * malformed line. */
int rnnfx_test_read_manifest(const char *dir, RnnfxRefCase **out);

/* Number of samples in every reference case. */
#define RNNFX_TEST_REF_SAMPLES 4096

/* A deterministic xorshift generator, so tests never depend on rand(). */
typedef struct {
    uint64_t s;
} RnnfxTestRng;
void rnnfx_test_rng_seed(RnnfxTestRng *r, uint64_t seed);
double rnnfx_test_rng_uniform(RnnfxTestRng *r); /* [0, 1) */

/* Builds and finalizes a model of `arch` with weights uniform in
 * +-scale/sqrt(H) (PyTorch's init, scaled), dense weights +-1/sqrt(H_last),
 * and, if init_state, non-zero initial h/c. Knob ranges come from arch.
 * Returns NULL on failure (the arch is invalid). */
RnnfxModel *rnnfx_test_random_model(const RnnfxArch *arch, uint64_t seed, float scale,
                                    int init_state);

/* Saves a random `cell`-`hidden` audio model with skip (weights as
 * rnnfx_test_random_model, scale 1), trained at 48 kHz and named `name`,
 * as an rnnfx model file. 0 on success, -1 (with a message on stderr). */
int rnnfx_test_save_model(const char *path, RnnfxCell cell, uint64_t seed, int hidden,
                          const char *name);

/* rnnfx_test_save_model for a GRU. */
int rnnfx_test_save_gru_model(const char *path, uint64_t seed, int hidden, const char *name);

/* Finalizes m again with the fast kernels of `isa` ("generic", "avx2",
 * "avx512"; the engine's RNNFX_ISA cap). Returns 1, or 0 when this CPU
 * lacks them; a model that does not finalize (a test bug) aborts. */
int rnnfx_test_use_isa(RnnfxModel *m, const char *isa);

/* A mixed test signal in [-1, 1]: sines, a decaying pluck, noise, silence. */
void rnnfx_test_signal(float *x, size_t n, uint64_t seed);

/* max |a[i] - b[i]| (NaN anywhere counts as infinity). */
double rnnfx_test_max_abs_diff(const float *a, const float *b, size_t n);

/* 1 if every value is finite. */
int rnnfx_test_all_finite(const float *a, size_t n);

/* Removes a test's scratch folder and everything in it, unless
 * RNNFX_KEEP_TMP is set (to look at what a failing test left). 0 on
 * success. */
int rnnfx_test_remove_tree(const char *dir);

#endif

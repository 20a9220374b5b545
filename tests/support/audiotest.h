/*
 * audiotest.h — small file helpers shared by the tests of the batch tool
 * (test_process*.c) and of the cabinet stage (test_convolver.c,
 * test_plugin_ir.c, test_plugin_rt.c): writing and reading test audio and
 * responses with libsndfile, comparing outputs, and looking for leftovers
 * of atomic writes.
 *
 * Test code only: these functions print nothing and never abort; callers
 * assert on their results. Not for the audio thread.
 */
#ifndef RNNFX_AUDIOTEST_H
#define RNNFX_AUDIOTEST_H

#include <stddef.h>
#include <stdint.h>

#include <sndfile.h>

/* The test program's scratch folder (made by the caller), for the two
 * helpers below. */
void rnnfx_test_scratch_set(const char *dir);

/* "<scratch>/<fmt ...>" into buf (PATH_MAX bytes); returns buf. */
const char *rnnfx_test_scratch_path(char *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "<scratch>/stderr.txt", where rnnfx_test_run_quiet's callers keep the
 * program's messages (a static buffer). */
const char *rnnfx_test_stderr_path(void);

/* "<folder of argv0>/<rel>" into buf: where a program built beside the
 * test binary lives (e.g. rel "../bin/rnnfx-process"). Returns buf. */
const char *rnnfx_test_beside(char *buf, size_t len, const char *argv0, const char *rel);

/* Whether something exists at path. */
int rnnfx_test_exists(const char *path);

/* Files named "*.tmp-*" (an atomic write's temporary) anywhere below dir. */
int rnnfx_test_count_temp_files(const char *dir);

/* Writes n frames of rnnfx_test_signal times amp (channel c uses seed + c)
 * as libsndfile `format`. 0 on success, -1 on any failure. */
int rnnfx_test_write_audio(const char *path, int format, int channels, int rate, size_t n,
                           float amp, uint64_t seed);

/* Writes `frames` interleaved frames of `inter` as libsndfile `format`.
 * 0 on success, -1 on any failure. */
int rnnfx_test_write_frames(const char *path, int format, int channels, int rate,
                            const float *inter, size_t frames);

/* rnnfx_test_write_frames as a 32-bit float WAV. */
int rnnfx_test_write_float_wav(const char *path, int channels, int rate, const float *inter,
                               size_t frames);

/* The frames in the sound file at path, or -1 if it cannot be opened. */
long long rnnfx_test_frames(const char *path);

/* Whether the files a and b (read as floats) both hold at least `frames`
 * frames and agree bit for bit on the first `frames` of them; if not,
 * says which differs on stderr. */
int rnnfx_test_same_start(const char *a, const char *b, size_t frames);

/* A room, plate or cabinet response to first order: decaying noise,
 * amp * noise * exp(-i / tau), channel c with its own noise and time
 * constant tau = tau0 + dtau * c samples (so left and right differ), as a
 * float WAV. 0 on success, -1 on any failure. */
int rnnfx_test_write_decay(const char *path, int rate, int channels, size_t frames, uint64_t seed,
                           double amp, double tau0, double dtau);

/* Reads a whole file as interleaved floats (info filled in); NULL if it
 * cannot be read completely. Free with free(). */
float *rnnfx_test_read_audio(const char *path, SF_INFO *info);

/* Channel c of n interleaved frames, as a new array; NULL without memory. */
float *rnnfx_test_channel_of(const float *x, size_t n, int channels, int c);

/* Copies the first half of the bytes of src to dst (a file cut short, as
 * by an aborted copy). 0 on success, -1 on failure. */
int rnnfx_test_copy_half(const char *src, const char *dst);

/* Runs `'bin' -q ARGS` through the shell (ARGS from fmt, already quoted by
 * the caller) with stderr into errfile; returns the exit status, or -1. */
int rnnfx_test_run_quiet(const char *bin, const char *errfile, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether the text file at path contains needle; if not, prints both to
 * stderr (so a failing assertion shows what the program said). */
int rnnfx_test_file_has(const char *path, const char *needle);

#endif

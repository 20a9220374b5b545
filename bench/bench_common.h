/*
 * bench_common.h — what the engine benchmarks share (bench_engine.c and
 * bench/peers/bench_peers.c), so both time the same models on the same
 * input in the same way: one-layer audio models with PyTorch's default
 * initialisation from one fixed-seed generator, a guitar-like test input,
 * and the thread's CPU clock.
 */
#ifndef RNNFX_BENCH_COMMON_H
#define RNNFX_BENCH_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "model.h"

#define BENCH_RATE 48000
#define BENCH_BLOCK 256 /* samples per process call */

static uint64_t bench_rng_state = 0x9E3779B97F4A7C15ull;

/* Uniform in [0, 1): xorshift64, the same sequence on every machine. */
static inline double bench_uniform(void)
{
    bench_rng_state ^= bench_rng_state << 13;
    bench_rng_state ^= bench_rng_state >> 7;
    bench_rng_state ^= bench_rng_state << 17;
    return (double)(bench_rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/* Seconds of this thread's CPU time: time the scheduler gives to other
 * processes does not count. */
static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A guitar-like test input of n samples at BENCH_RATE: two decaying
 * partials plus a little noise. */
static inline void bench_fill_input(float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / BENCH_RATE;
        in[i] = (float)(0.5 * exp(-3.0 * fmod(t, 0.5)) *
                            (sin(2 * M_PI * 110.0 * t) + 0.3 * sin(2 * M_PI * 330.0 * t)) +
                        0.01 * (2.0 * bench_uniform() - 1.0));
    }
}

/* layers stacked layers of one cell and size, audio in, dense output 1,
 * every weight and bias uniform in +-1/sqrt(hidden) (PyTorch's default
 * initialisation). NULL, with a message on stderr, if it cannot be built. */
static inline RnnfxModel *bench_make_model(RnnfxCell cell, int layers, int hidden)
{
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, cell, hidden, 0);
    arch.n_layers = layers;
    for (int l = 1; l < layers; l++)
        arch.layers[l] = arch.layers[0];
    RnnfxModel *m = NULL;
    RnnfxError err;
    if (rnnfx_model_new(&arch, &m, &err) != RNNFX_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return NULL;
    }
    const float k = 1.0f / sqrtf((float)hidden);
    static const RnnfxTensor layer_t[] = {RNNFX_T_WEIGHT_IH, RNNFX_T_WEIGHT_HH, RNNFX_T_BIAS_IH,
                                          RNNFX_T_BIAS_HH};
    for (int l = 0; l < layers; l++) {
        for (size_t t = 0; t < sizeof layer_t / sizeof layer_t[0]; t++) {
            int rows, cols;
            float *p = rnnfx_model_tensor(m, l, layer_t[t], &rows, &cols);
            for (int i = 0; i < rows * cols; i++)
                p[i] = k * (float)(2.0 * bench_uniform() - 1.0);
        }
    }
    for (int t = RNNFX_T_DENSE_W; t <= RNNFX_T_DENSE_B; t++) {
        int rows, cols;
        float *p = rnnfx_model_tensor(m, -1, (RnnfxTensor)t, &rows, &cols);
        for (int i = 0; i < rows * cols; i++)
            p[i] = k * (float)(2.0 * bench_uniform() - 1.0);
    }
    if (rnnfx_model_finalize(m, &err) != RNNFX_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        rnnfx_model_free(m);
        return NULL;
    }
    return m;
}

#endif

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
#include <stdlib.h>
#include <time.h>

#include "model.h"

#define BENCH_RATE 48000
#define BENCH_BLOCK 256    /* samples per process call */
#define BENCH_SEGMENT 4096 /* samples per timed segment */
#define BENCH_WAYS_MAX_PASSES 256

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

/* Two ways of processing the same samples, timed against each other by
 * bench_time_ways: run(ctx, way, s0) processes samples s0 .. s0 +
 * BENCH_SEGMENT one way (0 or 1); start(ctx), if set, runs before each
 * pass (a reset, say). */
typedef struct {
    void (*start)(void *ctx);
    void (*run)(void *ctx, int way, size_t s0);
    void *ctx;
} BenchWays;

/* Runs passes over n samples (after one warm-up pass), each BENCH_SEGMENT
 * one way and then the other, which puts both under the same machine
 * conditions, until at least min_passes passes, min_total seconds of both
 * ways together and min_each of each (at most max_passes, <=
 * BENCH_WAYS_MAX_PASSES). Gives each way's 5th-percentile segment in ns
 * per sample (near the best, but a single clock glitch cannot set it). */
static inline void bench_time_ways(const BenchWays *w, size_t n, int min_passes, int max_passes,
                                   double min_total, double min_each, double *ns0, double *ns1)
{
    static double seg[2][BENCH_WAYS_MAX_PASSES * (BENCH_RATE / BENCH_SEGMENT + 1)];
    size_t n_seg = 0;
    double total[2] = {0.0, 0.0};
    for (int p = -1; p < max_passes && (p < min_passes || total[0] + total[1] < min_total ||
                                        total[0] < min_each || total[1] < min_each);
         p++) {
        if (w->start)
            w->start(w->ctx);
        for (size_t s0 = 0; s0 + BENCH_SEGMENT <= n; s0 += BENCH_SEGMENT) {
            double t0 = bench_now_s();
            w->run(w->ctx, 0, s0);
            double t1 = bench_now_s();
            w->run(w->ctx, 1, s0);
            double t2 = bench_now_s();
            if (p >= 0 && n_seg < sizeof seg[0] / sizeof seg[0][0]) {
                seg[0][n_seg] = t1 - t0;
                seg[1][n_seg] = t2 - t1;
                total[0] += t1 - t0;
                total[1] += t2 - t1;
                n_seg++;
            }
        }
    }
    qsort(seg[0], n_seg, sizeof seg[0][0], bench_cmp_double);
    qsort(seg[1], n_seg, sizeof seg[1][0], bench_cmp_double);
    *ns0 = seg[0][n_seg / 20] * 1e9 / BENCH_SEGMENT;
    *ns1 = seg[1][n_seg / 20] * 1e9 / BENCH_SEGMENT;
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

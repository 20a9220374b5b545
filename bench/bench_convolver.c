/*
 * bench_convolver.c — cost of the impulse-response stage per sample (run by
 * `make bench`).
 *
 * For cabinet-length and reverb-length responses at 48 kHz it times, in the
 * same run and interleaved segment by segment (a busy machine disturbs both
 * alike):
 *   - rnnfx_convolver_process (engine/convolver.h: direct head, FFT tail) on
 *     256-sample blocks;
 *   - the reference: the same convolution as a direct-form FIR, one
 *     multiply-add per tap and sample, written so that the compiler
 *     vectorises it (tap by tap over the block's outputs, -O3) and built
 *     for the same instruction sets as the convolver (AVX-512, AVX2 or
 *     SSE2, picked at load time): what a plugin without FFT convolution
 *     would run at best.
 * Per length it prints a table row and one machine-readable line:
 *   bench convolver ir_ms=... taps=... ns=... direct_ns=... speedup=... cpu_48k=...%
 *     call32_us=...
 * where call32_us is the 99th percentile of the time one 32-sample call
 * takes (a host with a 32-sample period, 667 us at 48 kHz): how evenly the
 * work is spread over the calls (a convolver that does all of a block's
 * partitions in the call that completes it shows them there; the rarer
 * slowest calls are mostly the VM's own interruptions).
 * where cpu_48k is the share of one core the stage takes at 48 kHz. Timing
 * uses the thread's CPU clock per segment; the 5th percentile is reported.
 * A benchmark, not a test: it never fails on a figure.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convolver.h"

#include "bench_common.h"

#define RATE 48000.0
#define BLOCK 256
#define SEG 4096 /* samples per timed segment */
#define CALLS 3000 /* 32-sample calls: 2 s at 48 kHz */

static double cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static double pct5(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return v[n / 20];
}

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

/* Direct-form FIR: y[t] = sum_k h[k] x[t - k], over a buffer holding the
 * last len - 1 inputs followed by the block (n <= BLOCK). */
typedef struct {
    const float *h;
    size_t len;
    float *buf; /* [len - 1 + BLOCK] */
} Direct;

CLONES static void direct_run(Direct *d, const float *in, float *restrict out, size_t n)
{
    const size_t m = d->len - 1;
    memcpy(d->buf + m, in, n * sizeof(float));
    for (size_t i = 0; i < n; i++) out[i] = 0.0f;
    for (size_t k = 0; k < d->len; k++) {
        const float hk = d->h[k];
        const float *restrict x = d->buf + m - k;
        for (size_t i = 0; i < n; i++) out[i] += hk * x[i];
    }
    memmove(d->buf, d->buf + n, m * sizeof(float));
}

int main(void)
{
    static const double ms[] = {50, 200, 500, 3000};
    static float in[SEG], out[SEG];
    uint64_t r = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < SEG; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        in[i] = (float)((double)(r >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    printf("impulse-response stage at 48 kHz, ns per sample (5th percentile of %d-sample "
           "segments)\n",
           SEG);
    printf("%8s %8s %12s %12s %9s %9s %14s\n", "IR ms", "taps", "rnnfx", "direct FIR", "speedup",
           "CPU 48k", "32-call us");
    for (size_t li = 0; li < sizeof ms / sizeof ms[0]; li++) {
        size_t len = (size_t)(ms[li] * RATE / 1000.0);
        float *h = malloc(len * sizeof *h);
        for (size_t i = 0; i < len; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            h[i] = (float)(exp(-6.0 * (double)i / (double)len) *
                           ((double)(r >> 11) / 9007199254740992.0 - 0.5));
        }
        RnnfxConvolver *cv = NULL;
        RnnfxError err;
        if (rnnfx_convolver_new(h, len, &cv, &err) != RNNFX_OK) {
            fprintf(stderr, "bench_convolver: %s\n", err.msg);
            return 1;
        }
        Direct d = {h, len, calloc(len - 1 + BLOCK, sizeof(float))};
        /* the direct form is slow at reverb lengths: fewer segments there */
        const int segs = len > 50000 ? 6 : 40;
        double *tc = malloc((size_t)segs * sizeof *tc), *td = malloc((size_t)segs * sizeof *td);
        for (int s = 0; s < segs; s++) {
            double t0 = cpu_ns();
            for (int i = 0; i < SEG; i += BLOCK) rnnfx_convolver_process(cv, in + i, out + i, BLOCK);
            double t1 = cpu_ns();
            for (int i = 0; i < SEG; i += BLOCK) direct_run(&d, in + i, out + i, BLOCK);
            double t2 = cpu_ns();
            tc[s] = (t1 - t0) / SEG;
            td[s] = (t2 - t1) / SEG;
        }
        double c = pct5(tc, segs), dd = pct5(td, segs);
        /* 32-sample calls over 2 s of audio: the slow end of call times */
        static double tcall[CALLS];
        rnnfx_convolver_reset(cv);
        for (int k = 0; k < CALLS; k++) {
            int off = (k * 32) % SEG;
            double t0 = cpu_ns();
            rnnfx_convolver_process(cv, in + off, out + off, 32);
            tcall[k] = cpu_ns() - t0;
        }
        qsort(tcall, CALLS, sizeof tcall[0], bench_cmp_double);
        const double call_us = tcall[CALLS - 1 - CALLS / 100] / 1000.0;
        double cpu = c * RATE / 1e9 * 100.0;
        printf("%8.0f %8zu %12.1f %12.1f %8.1fx %8.2f%% %14.1f\n", ms[li], len, c, dd, dd / c, cpu,
               call_us);
        printf("bench convolver ir_ms=%.0f taps=%zu ns=%.1f direct_ns=%.1f speedup=%.1f "
               "cpu_48k=%.2f%% call32_us=%.1f\n",
               ms[li], len, c, dd, dd / c, cpu, call_us);
        rnnfx_convolver_free(cv);
        free(d.buf);
        free(h);
        free(tc);
        free(td);
    }
    return 0;
}

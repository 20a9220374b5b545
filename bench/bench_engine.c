/*
 * bench_engine.c — speed of the recurrent engine (run by `make bench`).
 *
 * For LSTM and GRU with hidden size 8, 16, 32, 40, 64, 96 (one layer,
 * input 1, dense output 1, random weights with a fixed seed, PyTorch's
 * uniform(-1/sqrt(H), 1/sqrt(H)) init) it times, in the same run:
 *   - the fast path (the kernels CPUID picks, or RNNFX_ISA's cap), and
 *   - the reference path (instance.c's plain C loops with libm: the
 *     "naive" implementation),
 * each over passes of one second of 48 kHz audio in 256-sample blocks
 * after a warm-up pass (at least 5 passes and 0.4 s of CPU time), timed
 * per 4096-sample segment with the thread's CPU clock (so time the
 * scheduler gives to other processes does not count); the 5th percentile
 * of the segments is reported (near the best, but a single clock glitch of
 * a VM, seen here once as a 9x too fast segment, cannot set it), the
 * median beside it. It prints a table with ns per
 * sample, the real-time factor at 48 kHz (how many times faster than real
 * time one core runs the model), the naive/fast ratio, and the target: at
 * most 0.6x the best public engine measured on this machine class for
 * sizes 16 and up, no slower than it at size 8 (issue 2; `make bench-peers`
 * measures those engines here, in the same run). One
 * machine-readable line per model follows:
 *   bench engine cell=lstm hidden=32 ns=... naive_ns=... kernel=...
 *
 * Beside each model it prints a weight-read floor: the time just to read
 * the recurrent matrix (G * H * H weights, no padding; 4 bytes each, 2
 * where the kernel is "avx2-f16") once per sample, at the L1 and L2
 * streaming rates (L2: a buffer of half its size) measured in the same run
 * with an FMA loop
 * in the kernels' own access (AVX-512: one 64-byte load feeding one FMA;
 * AVX2, on CPUs without AVX-512 or under RNNFX_ISA=avx2: two 32-byte ones),
 * counting the first L1d-size bytes (sysconf) at the L1 rate and the rest
 * at the L2 rate. No kernel can beat it (every weight is needed every
 * sample); a target below it is marked "below floor". It leaves out the
 * activations, so real kernels need more.
 *
 * Then stereo: two instances of one model, as a stereo chain runs them,
 * timed with the pair call (rnnfx_instance_process_pair: both channels in
 * one time loop where the kernels have a pair form) and with two single
 * calls, segment by segment in turn, in ns per stereo frame, for LSTM and
 * GRU of 8, 12, 16, 20, 32 and 64 units (--hidden N: N alone):
 *   bench engine-pair cell=lstm hidden=16 ns=... single2_ns=... kernel=...
 *
 * Then the whole stereo chain (chain.h) for GRU-12 and LSTM-16 at 48 and
 * 44.1 kHz: one stereo chain (which pairs its channels) against two mono
 * chains, same run:
 *   bench chain-pair cell=gru hidden=12 rate=44100 ns=... mono2_ns=...
 *
 * Then stacked layers (2-3 LSTM/GRU layers of 8-32 units, the shapes of
 * NAM's LSTM captures): the stack kernel (AVX-512, AVX2) against the general
 * kernels on the same weights (packed with RNNFX_FAST_STACK=0) and the
 * naive loop, one line each:
 *   bench engine-stack cell=lstm layers=2 hidden=16 ns=... general_ns=...
 *
 * On a shared machine (other processes, or a hypervisor's sibling thread
 * on the same core) the figures still vary by 10-30 %: run it on an idle
 * one for figures to quote. It is
 * a benchmark, not a test; it fails only if a model cannot be built.
 * Options: --quick (fewer passes), --cell lstm|gru (both tables), --hidden N
 * (that one-layer size only, also one the table does not list, in the
 * one-layer and stereo tables; the chain and stacked-layer tables are then
 * left out).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "instance.h"
#include "model.h"

#include "bench_common.h"

#define RATE BENCH_RATE
#define BLOCK BENCH_BLOCK

static const int sizes[] = {8, 16, 32, 40, 64, 96};
#define N_SIZES (int)(sizeof sizes / sizeof sizes[0])
/* Best public engine, ns per sample, per size (issue 2). */
static const double peer_lstm[N_SIZES] = {51, 60, 130, 224, 595, 1188};
static const double peer_gru[N_SIZES] = {63, 60, 118, 178, 416, 890};

/* ---- the weight-read floor ------------------------------------------------ */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <unistd.h>

/* reps sweeps of lines 64-byte lines, 8 FMA chains fed from memory: one
 * 64-byte load per FMA (AVX-512) or two 32-byte ones (AVX2, whose kernels
 * read the weights so), as the fast kernels read their weights. */
__attribute__((target("avx512f"), noinline)) static float stream_fma512(const float *w,
                                                                         size_t lines, int reps)
{
    __m512 a[8];
    for (int j = 0; j < 8; j++)
        a[j] = _mm512_setzero_ps();
    const __m512 hb = _mm512_set1_ps(0.5f);
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i + 8 <= lines; i += 8)
            for (int j = 0; j < 8; j++)
                a[j] = _mm512_fmadd_ps(_mm512_load_ps(w + 16 * (i + (size_t)j)), hb, a[j]);
    for (int j = 1; j < 8; j++)
        a[0] = _mm512_add_ps(a[0], a[j]);
    return _mm512_reduce_add_ps(a[0]);
}

__attribute__((target("avx2,fma"), noinline)) static float stream_fma256(const float *w,
                                                                          size_t lines, int reps)
{
    __m256 a[8];
    for (int j = 0; j < 8; j++)
        a[j] = _mm256_setzero_ps();
    const __m256 hb = _mm256_set1_ps(0.5f);
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i + 4 <= lines; i += 4)
            for (int j = 0; j < 8; j++)
                a[j] = _mm256_fmadd_ps(_mm256_load_ps(w + 16 * i + 8 * (size_t)j), hb, a[j]);
    for (int j = 1; j < 8; j++)
        a[0] = _mm256_add_ps(a[0], a[j]);
    float v[8];
    _mm256_storeu_ps(v, a[0]);
    return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}

/* The kernel family line_ns measures with: the widest the CPU has, or
 * AVX2 when RNNFX_ISA caps the kernels there. */
static const char *floor_isa(void)
{
    __builtin_cpu_init();
    const char *cap = getenv("RNNFX_ISA");
    const int capped = cap && (strcmp(cap, "avx2") == 0 || strcmp(cap, "generic") == 0);
    if (cap && strcmp(cap, "generic") == 0)
        return NULL;
    if (!capped && __builtin_cpu_supports("avx512f"))
        return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "avx2";
    return NULL;
}

/* Best ns per line over 15 timed runs of ~0.4 M lines each, for a buffer of
 * `bytes`; 0 without AVX2 and FMA. */
static double line_ns(size_t bytes)
{
    const char *isa = floor_isa();
    if (!isa)
        return 0.0;
    const int wide = strcmp(isa, "avx512") == 0;
    const size_t lines = bytes / 64;
    float *w = aligned_alloc(4096, lines * 64);
    if (!w)
        return 0.0;
    for (size_t i = 0; i < lines * 16; i++)
        w[i] = 1e-3f * (float)(i % 7); /* touch every page: no shared zero page */
    const int reps = (int)(400000 / lines) + 1;
    double best = 1e9;
    volatile float sink = 0.0f;
    for (int k = 0; k < 16; k++) {
        double t0 = bench_now_s();
        sink += wide ? stream_fma512(w, lines, reps) : stream_fma256(w, lines, reps);
        double dt = (bench_now_s() - t0) * 1e9 / ((double)reps * (double)lines);
        if (k > 0 && dt < best)
            best = dt;
    }
    (void)sink;
    free(w);
    return best;
}

static size_t l1d_bytes(void)
{
    long v = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    return v > 0 ? (size_t)v : 32768;
}

/* The buffer the L2 rate is measured on: half the L2 (a 1 MiB buffer, as
 * once, measured L3 on a Zen 3 core's 512 KiB L2), at least 4 L1s. */
static size_t l2_probe_bytes(void)
{
    long v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    size_t b = v > 0 ? (size_t)v / 2 : 256 * 1024;
    return b < 4 * l1d_bytes() ? 4 * l1d_bytes() : b;
}
#else
static double line_ns(size_t bytes)
{
    (void)bytes;
    return 0.0;
}
static const char *floor_isa(void) { return NULL; }
static size_t l1d_bytes(void) { return 32768; }
static size_t l2_probe_bytes(void) { return 256 * 1024; }
#endif

/* ns per sample to read G*H*H weights of wbytes bytes each (4, or 2 for a
 * kernel on fp16 weights): the first l1 bytes at t1, the rest at t2. */
static double weight_floor(RnnfxCell cell, int hidden, double wbytes, size_t l1, double t1,
                           double t2)
{
    const double bytes = (double)rnnfx_cell_gates(cell) * hidden * hidden * wbytes;
    const double in_l1 = bytes < (double)l1 ? bytes : (double)l1;
    return in_l1 / 64.0 * t1 + (bytes - in_l1) / 64.0 * t2;
}

/* Runs passes over in[n] (after one warm-up pass) in BLOCK-sample process
 * calls, timing every SEGMENT samples with the thread's CPU clock, until at
 * least min_passes passes and min_seconds of CPU time are done (at most
 * MAX_PASSES). Returns the 5th-percentile segment's ns per sample and, in
 * *median, the median segment's. The low percentile is what the kernels
 * can do; the median shows how much a shared machine disturbed the run.
 * Small models get many passes, so their figure is as reliable as a big
 * model's. */
#define SEGMENT BENCH_SEGMENT
#define MAX_PASSES 64
static double time_path(RnnfxInstance *inst, const float *in, float *out, size_t n,
                        int min_passes, double min_seconds, double *median)
{
    static double seg[MAX_PASSES * (RATE / SEGMENT + 1)];
    size_t n_seg = 0;
    double total = 0.0;
    for (int p = -1; p < MAX_PASSES && (p < min_passes || total < min_seconds); p++) {
        rnnfx_instance_reset(inst);
        for (size_t s0 = 0; s0 + SEGMENT <= n; s0 += SEGMENT) {
            double t0 = bench_now_s();
            for (size_t i = s0; i < s0 + SEGMENT; i += BLOCK)
                rnnfx_instance_process(inst, in + i, out + i, BLOCK);
            double dt = bench_now_s() - t0;
            if (p >= 0 && n_seg < sizeof seg / sizeof seg[0]) {
                seg[n_seg++] = dt;
                total += dt;
            }
        }
    }
    qsort(seg, n_seg, sizeof seg[0], bench_cmp_double);
    *median = seg[n_seg / 2] * 1e9 / SEGMENT;
    return seg[n_seg / 20] * 1e9 / SEGMENT;
}

/* Stereo: two instances of one model (a stereo chain's channels), the
 * pair call (rnnfx_instance_process_pair, way 0) against two single calls
 * (way 1), in BLOCK-sample calls; two instance pairs, so each way's state
 * runs on undisturbed, reset before each pass. */
typedef struct {
    RnnfxInstance *const *inst; /* [4]: the pair call's two, then the single calls' */
    const float *in;
    float *out;
    size_t half;
} StereoInst;

static void stereo_inst_start(void *ctx)
{
    StereoInst *c = ctx;
    for (int k = 0; k < 4; k++)
        rnnfx_instance_reset(c->inst[k]);
}

static void stereo_inst_run(void *ctx, int way, size_t s0)
{
    StereoInst *c = ctx;
    const float *in = c->in, *in_b = c->in + c->half;
    float *out = c->out, *out_b = c->out + c->half;
    for (size_t i = s0; i < s0 + SEGMENT; i += BLOCK) {
        if (way == 0) {
            rnnfx_instance_process_pair(c->inst[0], c->inst[1], in + i, in_b + i, out + i,
                                        out_b + i, BLOCK);
        } else {
            rnnfx_instance_process(c->inst[2], in + i, out + i, BLOCK);
            rnnfx_instance_process(c->inst[3], in_b + i, out_b + i, BLOCK);
        }
    }
}

static const int stereo_sizes[] = {8, 12, 16, 20, 32, 64};
#define N_STEREO (int)(sizeof stereo_sizes / sizeof stereo_sizes[0])

/* The stereo table: for each cell and size (only_hidden: that size
 * alone), ns per stereo frame with the pair call and with two single
 * calls, one machine-readable line each:
 *   bench engine-pair cell=lstm hidden=16 ns=... single2_ns=... */
static int bench_stereo(const char *only_cell, int only_hidden, int quick, const float *in,
                        float *out, size_t n, char (*lines)[160], int *n_lines)
{
    printf("stereo (two instances of one model): ns per stereo frame, the pair call against "
           "two single calls, same run\n");
    printf("%-5s %6s %-8s %10s %12s %14s\n", "cell", "hidden", "kernel", "pair ns", "2 x single",
           "single2/pair");
    int rc = 0;
    for (int ci = 0; ci < 2; ci++) {
        const RnnfxCell cell = ci == 0 ? RNNFX_CELL_LSTM : RNNFX_CELL_GRU;
        if (only_cell && strcmp(only_cell, rnnfx_cell_name(cell)) != 0)
            continue;
        for (int si = 0; si < (only_hidden ? 1 : N_STEREO); si++) {
            const int hidden = only_hidden ? only_hidden : stereo_sizes[si];
            RnnfxModel *m = bench_make_model(cell, 1, hidden);
            RnnfxInstance *inst[4] = {NULL, NULL, NULL, NULL};
            int ok = m != NULL;
            for (int k = 0; k < 4 && ok; k++)
                ok = (inst[k] = rnnfx_instance_new(m)) != NULL;
            if (!ok) {
                fprintf(stderr, "bench_engine: cannot build %s-%d\n", rnnfx_cell_name(cell), hidden);
                rc = 1;
            } else {
                double pair, single2;
                StereoInst ctx = {inst, in, out, n / 2};
                const BenchWays ways = {stereo_inst_start, stereo_inst_run, &ctx};
                bench_time_ways(&ways, n / 2, quick ? 2 : 3, MAX_PASSES, quick ? 0.05 : 0.2, 0.0,
                                &pair, &single2);
                const char *kernel = rnnfx_instance_kernel_name(inst[0]);
                printf("%-5s %6d %-8s %10.1f %12.1f %14.2f\n", rnnfx_cell_name(cell), hidden, kernel,
                       pair, single2, single2 / pair);
                fflush(stdout);
                snprintf(lines[(*n_lines)++], sizeof lines[0],
                         "bench engine-pair cell=%s hidden=%d ns=%.1f single2_ns=%.1f kernel=%s",
                         rnnfx_cell_name(cell), hidden, pair, single2, kernel);
            }
            for (int k = 0; k < 4; k++)
                rnnfx_instance_free(inst[k]);
            rnnfx_model_free(m);
        }
    }
    return rc;
}

/* The whole stereo chain (chain.h: gains, mix, meters, resampling), as
 * the plugin and rnnfx-process run it: a stereo chain, whose core pairs
 * its channels, against two mono chains (what a stereo chain did before
 * it paired them), segment by segment in turn, at the model's rate (48
 * kHz) and at 44.1 kHz (resampled around the model):
 *   bench chain-pair cell=gru hidden=12 rate=44100 ns=... mono2_ns=... */
static const struct {
    RnnfxCell cell;
    int hidden;
    double rate;
} chain_cases[] = {{RNNFX_CELL_GRU, 12, 48000.0}, {RNNFX_CELL_GRU, 12, 44100.0},
                   {RNNFX_CELL_LSTM, 16, 48000.0}, {RNNFX_CELL_LSTM, 16, 44100.0}};
#define N_CHAIN (int)(sizeof chain_cases / sizeof chain_cases[0])

/* Way 0: the stereo chain c[0]; way 1: the mono chains c[1] and c[2]. */
typedef struct {
    RnnfxChain *const *c;
    const float *in;
    float *out;
    size_t half;
} StereoChains;

static void stereo_chain_run(void *ctx, int way, size_t s0)
{
    StereoChains *x = ctx;
    for (size_t j = s0; j < s0 + SEGMENT; j += BLOCK) {
        if (way == 0) {
            const float *ins[2] = {x->in + j, x->in + x->half + j};
            float *outs[2] = {x->out + j, x->out + x->half + j};
            rnnfx_chain_process_multi(x->c[0], ins, outs, BLOCK);
        } else {
            rnnfx_chain_process(x->c[1], x->in + j, x->out + j, BLOCK);
            rnnfx_chain_process(x->c[2], x->in + x->half + j, x->out + x->half + j, BLOCK);
        }
    }
}

static int bench_chain(const char *only_cell, int quick, const float *in, float *out, size_t n,
                       char (*lines)[160], int *n_lines)
{
    printf("stereo chain (rnnfx_chain_process_multi), ns per stereo frame: one stereo chain "
           "against two mono chains\n");
    printf("%-5s %6s %8s %10s %12s %12s\n", "cell", "hidden", "rate", "stereo ns", "2 x mono",
           "mono2/stereo");
    int rc = 0;
    for (int i = 0; i < N_CHAIN; i++) {
        const RnnfxCell cell = chain_cases[i].cell;
        if (only_cell && strcmp(only_cell, rnnfx_cell_name(cell)) != 0)
            continue;
        RnnfxModel *m = bench_make_model(cell, 1, chain_cases[i].hidden);
        RnnfxChain *c[3] = {NULL, NULL, NULL}; /* stereo, mono, mono */
        RnnfxError err;
        int ok = m != NULL;
        for (int k = 0; k < 3 && ok; k++)
            ok = rnnfx_chain_new_multi(m, chain_cases[i].rate, k == 0 ? 2 : 1, BLOCK, &c[k], &err) ==
                 RNNFX_OK;
        if (!ok) {
            fprintf(stderr, "bench_engine: cannot build a chain for %s-%d\n", rnnfx_cell_name(cell),
                    chain_cases[i].hidden);
            rc = 1;
        } else {
            RnnfxChainControls ctl;
            rnnfx_chain_controls_init(&ctl);
            for (int k = 0; k < 3; k++)
                rnnfx_chain_set_controls(c[k], &ctl);
            double st, mono2;
            StereoChains ctx = {c, in, out, n / 2};
            const BenchWays ways = {NULL, stereo_chain_run, &ctx};
            bench_time_ways(&ways, n / 2, quick ? 2 : 3, MAX_PASSES, quick ? 0.05 : 0.2, 0.0, &st,
                            &mono2);
            printf("%-5s %6d %8.0f %10.1f %12.1f %12.2f\n", rnnfx_cell_name(cell), chain_cases[i].hidden,
                   chain_cases[i].rate, st, mono2, mono2 / st);
            fflush(stdout);
            snprintf(lines[(*n_lines)++], sizeof lines[0],
                     "bench chain-pair cell=%s hidden=%d rate=%.0f ns=%.1f mono2_ns=%.1f",
                     rnnfx_cell_name(cell), chain_cases[i].hidden, chain_cases[i].rate, st, mono2);
        }
        for (int k = 0; k < 3; k++)
            rnnfx_chain_free(c[k]);
        rnnfx_model_free(m);
    }
    return rc;
}

/* Stacked layers (the shapes of NAM's LSTMs and some AIDA-X captures):
 * the stack kernel against the general kernels (the same model
 * packed again with RNNFX_FAST_STACK=0) and the naive loop, same run. */
static const struct {
    RnnfxCell cell;
    int layers, hidden;
} stacks[] = {{RNNFX_CELL_LSTM, 2, 8},  {RNNFX_CELL_LSTM, 2, 16}, {RNNFX_CELL_LSTM, 3, 16},
              {RNNFX_CELL_LSTM, 2, 32}, {RNNFX_CELL_GRU, 2, 8},   {RNNFX_CELL_GRU, 2, 16},
              {RNNFX_CELL_GRU, 3, 16},  {RNNFX_CELL_GRU, 2, 32}};
#define N_STACKS (int)(sizeof stacks / sizeof stacks[0])

static int bench_stacks(const char *only_cell, int quick, const float *in, float *out, size_t n,
                        char (*lines)[160], int *n_lines)
{
    printf("stacked layers (input 1, dense 1): the stack kernel against the general kernels\n");
    printf("%-5s %6s %6s %-8s %10s %12s %12s %14s %10s\n", "cell", "layers", "hidden", "kernel",
           "fast ns", "general ns", "naive ns", "general/fast", "naive/fast");
    int rc = 0;
    for (int i = 0; i < N_STACKS; i++) {
        const RnnfxCell cell = stacks[i].cell;
        if (only_cell && strcmp(only_cell, rnnfx_cell_name(cell)) != 0)
            continue;
        /* the same weights twice (the generator restarted), packed with and
         * without the stack kernel */
        const uint64_t seed = bench_rng_state;
        RnnfxModel *m = bench_make_model(cell, stacks[i].layers, stacks[i].hidden);
        bench_rng_state = seed;
        setenv("RNNFX_FAST_STACK", "0", 1);
        RnnfxModel *mg = bench_make_model(cell, stacks[i].layers, stacks[i].hidden);
        unsetenv("RNNFX_FAST_STACK");
        RnnfxInstance *inst = m ? rnnfx_instance_new(m) : NULL;
        RnnfxInstance *gen = mg ? rnnfx_instance_new(mg) : NULL;
        if (!inst || !gen) {
            fprintf(stderr, "bench_engine: cannot build a %d-layer %s-%d\n", stacks[i].layers,
                    rnnfx_cell_name(cell), stacks[i].hidden);
            rnnfx_instance_free(inst);
            rnnfx_instance_free(gen);
            rnnfx_model_free(m);
            rnnfx_model_free(mg);
            rc = 1;
            continue;
        }
        rnnfx_instance_set_path(inst, RNNFX_PATH_FAST);
        rnnfx_instance_set_path(gen, RNNFX_PATH_FAST);
        double med;
        const double fast = time_path(inst, in, out, n, quick ? 2 : 5, quick ? 0.05 : 0.4, &med);
        const double general = time_path(gen, in, out, n, quick ? 2 : 5, quick ? 0.05 : 0.4, &med);
        rnnfx_instance_set_path(inst, RNNFX_PATH_REFERENCE);
        const double naive = time_path(inst, in, out, quick ? SEGMENT * 2 : n / 4, 1, 0.0, &med);
        const char *kernel = rnnfx_instance_kernel_name(gen);
        printf("%-5s %6d %6d %-8s %10.1f %12.1f %12.1f %14.2f %10.1f\n", rnnfx_cell_name(cell),
               stacks[i].layers, stacks[i].hidden, kernel, fast, general, naive, general / fast,
               naive / fast);
        fflush(stdout);
        snprintf(lines[(*n_lines)++], sizeof lines[0],
                 "bench engine-stack cell=%s layers=%d hidden=%d ns=%.1f general_ns=%.1f "
                 "naive_ns=%.1f kernel=%s",
                 rnnfx_cell_name(cell), stacks[i].layers, stacks[i].hidden, fast, general, naive,
                 kernel);
        rnnfx_instance_free(inst);
        rnnfx_instance_free(gen);
        rnnfx_model_free(m);
        rnnfx_model_free(mg);
    }
    return rc;
}

int main(int argc, char **argv)
{
    int quick = 0, only_hidden = 0;
    const char *only_cell = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--cell") == 0 && i + 1 < argc)
            only_cell = argv[++i];
        else if (strcmp(argv[i], "--hidden") == 0 && i + 1 < argc)
            only_hidden = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_engine [--quick] [--cell lstm|gru] [--hidden N]\n");
            return 2;
        }
    }
    const size_t n = RATE; /* one second of audio per pass */
    float *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    if (!in || !out) {
        fprintf(stderr, "bench_engine: out of memory\n");
        return 1;
    }
    bench_fill_input(in, n);
    const double period_ns = 1e9 / RATE;
    const char *env_isa = getenv("RNNFX_ISA");
    printf("rnnfx engine benchmark: 1 layer, input 1, dense 1, %d-sample blocks, 5th percentile "
           "of %d-sample segments over >= %d x 1 s and >= %.2f s, thread CPU time (RNNFX_ISA=%s)\n",
           BLOCK, SEGMENT, quick ? 2 : 5, quick ? 0.05 : 0.4, env_isa ? env_isa : "unset");
    const size_t l1 = l1d_bytes();
    const double t1 = line_ns(l1 / 2), t2 = line_ns(l2_probe_bytes());
    if (t1 > 0.0)
        printf("weight streaming measured now (%s FMAs per 64-byte line): L1 %.3f ns, L2 %.3f ns "
               "(%.0f B/ns); L1d %zu KiB\n",
               strcmp(floor_isa(), "avx512") == 0 ? "AVX-512" : "AVX2", t1, t2, 64.0 / t2,
               l1 / 1024);
    printf("%-5s %6s %-8s %10s %10s %10s %12s %10s %10s %8s %8s %6s\n", "cell", "hidden", "kernel",
           "fast ns", "(median)", "x realtime", "naive ns", "naive/fast", "target ns", "peer ns",
           "floor ns", "");
    int misses = 0, rc = 0;
    char lines[2 * N_SIZES + N_STACKS + 2 * N_STEREO + N_CHAIN][160];
    int n_lines = 0;
    /* --hidden with a size the table does not list (17-24, say) runs that
     * size alone, without a peer figure or target. */
    int listed = !only_hidden;
    for (int si = 0; si < N_SIZES; si++)
        listed |= sizes[si] == only_hidden;
    for (int ci = 0; ci < 2; ci++) {
        RnnfxCell cell = ci == 0 ? RNNFX_CELL_LSTM : RNNFX_CELL_GRU;
        if (only_cell && strcmp(only_cell, rnnfx_cell_name(cell)) != 0)
            continue;
        for (int si = 0; si < (listed ? N_SIZES : 1); si++) {
            int hidden = listed ? sizes[si] : only_hidden;
            if (only_hidden && hidden != only_hidden)
                continue;
            if (hidden < 1 || hidden > RNNFX_MAX_HIDDEN) {
                fprintf(stderr, "bench_engine: --hidden must be 1..%d\n", RNNFX_MAX_HIDDEN);
                rc = 2;
                continue;
            }
            RnnfxModel *m = bench_make_model(cell, 1, hidden);
            RnnfxInstance *inst = m ? rnnfx_instance_new(m) : NULL;
            if (!inst) {
                fprintf(stderr, "bench_engine: cannot build %s-%d\n", rnnfx_cell_name(cell), hidden);
                rnnfx_model_free(m);
                rc = 1;
                continue;
            }
            rnnfx_instance_set_path(inst, RNNFX_PATH_FAST);
            const char *kernel = rnnfx_instance_kernel_name(inst);
            double fast_med, naive_med;
            double fast = time_path(inst, in, out, n, quick ? 2 : 5, quick ? 0.05 : 0.4, &fast_med);
            rnnfx_instance_set_path(inst, RNNFX_PATH_REFERENCE);
            double naive =
                time_path(inst, in, out, quick ? SEGMENT * 2 : n / 2, 1, 0.0, &naive_med);
            double peer = listed ? (ci == 0 ? peer_lstm : peer_gru)[si] : 0.0;
            double target = hidden >= 16 ? 0.6 * peer : peer;
            int ok = !listed || fast <= target;
            misses += !ok;
            const double wbytes = strstr(kernel, "-f16") ? 2.0 : 4.0;
            double floor_ns = t1 > 0.0 ? weight_floor(cell, hidden, wbytes, l1, t1, t2) : 0.0;
            printf("%-5s %6d %-8s %10.1f %10.1f %10.1f %12.1f %10.1f %10.1f %8.0f %8.1f %s%s\n",
                   rnnfx_cell_name(cell), hidden, kernel, fast, fast_med, period_ns / fast, naive,
                   naive / fast, target, peer, floor_ns, !listed ? "-" : ok ? "pass" : "MISS",
                   listed && floor_ns > target ? " (target below floor)" : "");
            fflush(stdout);
            snprintf(lines[n_lines++], sizeof lines[0],
                     "bench engine cell=%s hidden=%d ns=%.1f naive_ns=%.1f kernel=%s floor_ns=%.1f",
                     rnnfx_cell_name(cell), hidden, fast, naive, kernel, floor_ns);
            rnnfx_instance_free(inst);
            rnnfx_model_free(m);
        }
    }
    printf("%d of %d sizes miss the target\n", misses, n_lines);
    if (!only_hidden || (only_hidden >= 1 && only_hidden <= RNNFX_MAX_HIDDEN))
        rc |= bench_stereo(only_cell, only_hidden, quick, in, out, n, lines, &n_lines);
    if (!only_hidden)
        rc |= bench_chain(only_cell, quick, in, out, n, lines, &n_lines);
    if (!only_hidden)
        rc |= bench_stacks(only_cell, quick, in, out, n, lines, &n_lines);
    for (int i = 0; i < n_lines; i++)
        printf("%s\n", lines[i]);
    free(in);
    free(out);
    return rc;
}

/*
 * bench_peers.c — rnnfx against other engines, measured in the same run
 * (`make bench-peers`, which run.sh builds once per peer build; see
 * README.md here).
 *
 * For LSTM and GRU of 8, 16, 32, 40, 64 and 96 units (one layer, input 1,
 * dense output 1, the weights bench_engine uses) it builds the same model
 * in rnnfx and in every engine peer_list() offers, then:
 *   - checks that they compute the same thing: each runs one second of the
 *     test input from reset, and the largest difference from rnnfx's
 *     reference path (plain C with libm, within 1e-5 of PyTorch) is
 *     printed as max_err. Above MAX_ERR the peer is not computing the same
 *     model (a wrong weight layout gives an error near the signal's size):
 *     it is reported as a mismatch, not timed, and the program fails;
 *   - times rnnfx's fast path and the peer in turn, segment by segment
 *     (4096 samples in 256-sample calls, thread CPU time), so both see the
 *     same machine conditions, over at least 5 passes and 0.4 s of each
 *     (at most 256 passes); the 5th percentile of the segments is each
 *     one's figure, as in bench_engine.
 * The models draw their weights from one generator in turn, as
 * bench_engine's do, so a run narrowed by --cell or --hidden times other
 * weights than a full one (the speed does not depend on them).
 * The peers run with flush-to-zero and denormals-are-zero set, as rnnfx
 * sets them for itself (and as most hosts do on the audio thread), so
 * they are not slowed by denormals rnnfx avoids.
 * One line per engine and model:
 *   bench peer engine=NAME cell=lstm hidden=32 ns=... rnnfx_ns=... ratio=... max_err=...
 * ratio = rnnfx_ns / ns (below 1: rnnfx is faster).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "instance.h"
#include "model.h"

#include "../bench_common.h"
#include "peer.h"

#define MAX_PASSES BENCH_WAYS_MAX_PASSES /* enough for 0.4 s of the smallest model */
#define MIN_PASSES 5
#define MIN_SECONDS 0.4
/* A peer whose output differs from rnnfx's reference by more than this is
 * not computing the same model (a layout error gives differences the size
 * of the signal, ~0.1-1) and is not timed. NAM's fast tanh, off by up to
 * 5e-4, stays in. */
#define MAX_ERR 1e-3

static const int sizes[] = {8, 16, 32, 40, 64, 96};

static void peer_run(const PeerApi *api, PeerModel *pm, const float *in, float *out, size_t n)
{
#if defined(__x86_64__) || defined(__i386__)
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040u); /* FTZ | DAZ */
#endif
    for (size_t i = 0; i < n; i += BENCH_BLOCK)
        api->process(pm, in + i, out + i, n - i < BENCH_BLOCK ? n - i : BENCH_BLOCK);
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(csr);
#endif
}

static void rnnfx_run(RnnfxInstance *inst, const float *in, float *out, size_t n)
{
    for (size_t i = 0; i < n; i += BENCH_BLOCK)
        rnnfx_instance_process(inst, in + i, out + i, n - i < BENCH_BLOCK ? n - i : BENCH_BLOCK);
}

/* rnnfx's fast path (way 0) and a peer (way 1) over the same segment,
 * both from reset at each pass (bench_time_ways). */
typedef struct {
    RnnfxInstance *inst;
    const PeerApi *api;
    PeerModel *pm;
    const float *in;
    float *out;
} PeerWays;

static void peer_ways_start(void *ctx)
{
    PeerWays *w = ctx;
    rnnfx_instance_reset(w->inst);
    w->api->reset(w->pm);
}

static void peer_ways_run(void *ctx, int way, size_t s0)
{
    PeerWays *w = ctx;
    if (way == 0)
        rnnfx_run(w->inst, w->in + s0, w->out + s0, BENCH_SEGMENT);
    else
        peer_run(w->api, w->pm, w->in + s0, w->out + s0, BENCH_SEGMENT);
}

static int bench_model(RnnfxCell cell, int hidden, const float *in, size_t n, const PeerApi *apis,
                       int n_apis)
{
    RnnfxModel *m = bench_make_model(cell, 1, hidden);
    RnnfxInstance *ref = m ? rnnfx_instance_new(m) : NULL, *fast = m ? rnnfx_instance_new(m) : NULL;
    float *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
    int ok = m && ref && fast && want && got;
    if (ok) {
        int rows, cols;
        PeerWeights w = {
            .gru = cell == RNNFX_CELL_GRU,
            .hidden = hidden,
            .w_ih = rnnfx_model_tensor(m, 0, RNNFX_T_WEIGHT_IH, &rows, &cols),
            .w_hh = rnnfx_model_tensor(m, 0, RNNFX_T_WEIGHT_HH, &rows, &cols),
            .b_ih = rnnfx_model_tensor(m, 0, RNNFX_T_BIAS_IH, &rows, &cols),
            .b_hh = rnnfx_model_tensor(m, 0, RNNFX_T_BIAS_HH, &rows, &cols),
            .dense_w = rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_W, &rows, &cols),
            .dense_b = rnnfx_model_tensor(m, -1, RNNFX_T_DENSE_B, &rows, &cols)[0],
        };
        rnnfx_instance_set_path(ref, RNNFX_PATH_REFERENCE);
        rnnfx_run(ref, in, want, n);
        for (int a = 0; a < n_apis; a++) {
            PeerModel *pm = apis[a].create(&w);
            if (!pm)
                continue;
            apis[a].reset(pm);
            peer_run(&apis[a], pm, in, got, n);
            double err = 0.0;
            for (size_t i = 0; i < n; i++) {
                double d = fabs((double)got[i] - (double)want[i]);
                if (!(d <= err)) /* NaN counts as the worst */
                    err = d == d ? d : INFINITY;
            }
            if (!(err <= MAX_ERR)) {
                printf("bench peer-mismatch engine=%s cell=%s hidden=%d max_err=%.1e\n", apis[a].name,
                       rnnfx_cell_name(cell), hidden, err);
                fprintf(stderr, "bench_peers: %s computes another %s-%d model (max_err %.1e): not timed\n",
                        apis[a].name, rnnfx_cell_name(cell), hidden, err);
                fflush(stdout);
                apis[a].destroy(pm);
                ok = 0;
                continue;
            }
            double rnnfx_ns, peer_ns;
            PeerWays ctx = {fast, &apis[a], pm, in, got};
            const BenchWays ways = {peer_ways_start, peer_ways_run, &ctx};
            bench_time_ways(&ways, n, MIN_PASSES, MAX_PASSES, 0.0, MIN_SECONDS, &rnnfx_ns, &peer_ns);
            printf("bench peer engine=%s cell=%s hidden=%d ns=%.1f rnnfx_ns=%.1f ratio=%.2f "
                   "max_err=%.1e\n",
                   apis[a].name, rnnfx_cell_name(cell), hidden, peer_ns, rnnfx_ns,
                   rnnfx_ns / peer_ns, err);
            fflush(stdout);
            apis[a].destroy(pm);
        }
    } else {
        fprintf(stderr, "bench_peers: cannot build the %s-%d model\n", rnnfx_cell_name(cell), hidden);
    }
    free(want);
    free(got);
    rnnfx_instance_free(fast);
    rnnfx_instance_free(ref);
    rnnfx_model_free(m);
    return ok;
}

int main(int argc, char **argv)
{
    int only_hidden = 0;
    const char *only_cell = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cell") == 0 && i + 1 < argc)
            only_cell = argv[++i];
        else if (strcmp(argv[i], "--hidden") == 0 && i + 1 < argc)
            only_hidden = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_peers [--cell lstm|gru] [--hidden N]\n");
            return 2;
        }
    }
    const size_t n = BENCH_RATE;
    float *in = malloc(n * sizeof *in);
    if (!in) {
        fprintf(stderr, "bench_peers: out of memory\n");
        return 1;
    }
    bench_fill_input(in, n);
    int listed = only_hidden == 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        listed |= only_hidden == sizes[s];
    if (!listed || (only_cell && strcmp(only_cell, "lstm") != 0 && strcmp(only_cell, "gru") != 0)) {
        fprintf(stderr, "bench_peers: --hidden takes 8, 16, 32, 40, 64 or 96 (the sizes RTNeural's "
                        "compile-time models are built for); --cell lstm or gru\n");
        free(in);
        return 2;
    }
    int n_apis = 0;
    const PeerApi *apis = peer_list(&n_apis);
    int ok = 1;
    static const RnnfxCell cells[] = {RNNFX_CELL_LSTM, RNNFX_CELL_GRU};
    for (size_t c = 0; c < 2; c++) {
        if (only_cell && strcmp(only_cell, rnnfx_cell_name(cells[c])) != 0)
            continue;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            if (!only_hidden || only_hidden == sizes[s])
                ok &= bench_model(cells[c], sizes[s], in, n, apis, n_apis);
    }
    free(in);
    return ok ? 0 : 1;
}

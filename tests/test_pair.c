/*
 * test_pair.c — rnnfx_instance_process_pair (two channels of one model in
 * one time loop) against two single rnnfx_instance_process calls.
 *
 * The contract is bit-identity: the pair call must give each channel the
 * output and state of a single call, to the bit (memcmp), whatever the
 * block split. Checked, under every kernel set this CPU runs (RNNFX_ISA
 * before finalize, as test_fast does):
 *   - one LSTM or GRU layer of 1..20, 24, 25 and 32 units (every pair
 *     kernel's shape, and shapes without one, which must fall back), with
 *     and without skip, with a knob input set differently per channel (the
 *     knob is folded into each channel's own bias), non-zero initial
 *     state, over blocks of 0, 1, 2, 3, 15, 16, 17, 255, 1023, 1024, 1025
 *     and 3000 samples (chunk edges of instance.c included), half the
 *     blocks in place (in == out);
 *   - the pair kernel really runs where one exists (fast.h,
 *     rnnfx_fast_has_pair: H <= 24 on AVX-512, H <= 16 on AVX2), and
 *     nowhere else, so the comparison is not of two fallbacks;
 *   - NaN and Inf input in one channel and a poisoned (NaN) state in one
 *     channel: both channels still equal single calls, the other channel
 *     equals its run without the poison, and the poisoned one recovers;
 *   - the fallbacks: different models, the reference path on one or both,
 *     two-layer and peephole models;
 *   - a stereo chain (engine/chain.c pairs its two channels) equals a mono
 *     chain on each channel, with a knob moving, at the model's rate and
 *     resampling from 44.1 kHz.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain.h"
#include "enginetest.h"
#include "fast.h"
#include "instance.h"

static const char *const isas[] = {"generic", "avx2", "avx512"};
#define N_ISAS 3

static const size_t blocks[] = {0, 1, 2, 3, 15, 16, 17, 255, 1023, 1024, 1025, 3000};
#define N_BLOCKS (sizeof blocks / sizeof blocks[0])

/* A one-knob audio model: `layers` layers of `cell`-`hidden`. */
static RnnfxModel *model_of(RnnfxCell cell, int hidden, int layers, int skip, int peephole,
                            uint64_t seed)
{
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, cell, hidden, skip);
    arch.n_layers = layers;
    arch.layers[0].peephole = peephole;
    for (int l = 1; l < layers; l++)
        arch.layers[l] = arch.layers[0];
    arch.n_params = 1;
    arch.input_size = 2;
    snprintf(arch.params[0].name, sizeof arch.params[0].name, "drive");
    arch.params[0].min = 0.0f;
    arch.params[0].max = 1.0f;
    arch.params[0].def = 0.5f;
    RnnfxModel *m = rnnfx_test_random_model(&arch, seed, 1.0f, 1);
    assert_non_null(m);
    return m;
}

static size_t state_floats(const RnnfxModel *m, int l)
{
    return (size_t)rnnfx_fast_padded(rnnfx_model_arch(m)->layers[l].hidden_size);
}

/* Every layer's h and c of x equal y's, to the bit (padding included). */
static void assert_same_state(RnnfxInstance *x, RnnfxInstance *y)
{
    const RnnfxModel *m = rnnfx_instance_model(x);
    for (int l = 0; l < rnnfx_model_arch(m)->n_layers; l++) {
        const size_t bytes = state_floats(m, l) * sizeof(float);
        assert_memory_equal(rnnfx_instance_hidden(x, l), rnnfx_instance_hidden(y, l), bytes);
        if (rnnfx_instance_cell(x, l))
            assert_memory_equal(rnnfx_instance_cell(x, l), rnnfx_instance_cell(y, l), bytes);
    }
}

/* Two signals of total length N_TOTAL, different per channel. */
#define N_TOTAL 6381 /* the sum of blocks[] */

typedef struct {
    RnnfxInstance *a1, *b1; /* driven by single calls */
    RnnfxInstance *a2, *b2; /* driven by the pair call */
    float *xa, *xb, *ya1, *yb1, *ya2, *yb2;
} Rig;

static void rig_open(Rig *r, const RnnfxModel *ma, const RnnfxModel *mb, uint64_t seed)
{
    r->a1 = rnnfx_instance_new(ma);
    r->a2 = rnnfx_instance_new(ma);
    r->b1 = rnnfx_instance_new(mb);
    r->b2 = rnnfx_instance_new(mb);
    assert_true(r->a1 && r->a2 && r->b1 && r->b2);
    float **bufs[6] = {&r->xa, &r->xb, &r->ya1, &r->yb1, &r->ya2, &r->yb2};
    for (int i = 0; i < 6; i++) {
        *bufs[i] = calloc(N_TOTAL, sizeof(float));
        assert_non_null(*bufs[i]);
    }
    rnnfx_test_signal(r->xa, N_TOTAL, seed);
    rnnfx_test_signal(r->xb, N_TOTAL, seed + 1);
    /* a little louder on one channel, so the two states differ clearly */
    for (size_t i = 0; i < N_TOTAL; i++)
        r->xb[i] *= 1.7f;
}

static void rig_close(Rig *r)
{
    rnnfx_instance_free(r->a1);
    rnnfx_instance_free(r->a2);
    rnnfx_instance_free(r->b1);
    rnnfx_instance_free(r->b2);
    free(r->xa);
    free(r->xb);
    free(r->ya1);
    free(r->yb1);
    free(r->ya2);
    free(r->yb2);
}

/* Knob values, per channel the same on the single and the pair side. */
static void rig_knobs(Rig *r, float ka, float kb)
{
    rnnfx_instance_set_param(r->a1, 0, ka);
    rnnfx_instance_set_param(r->a2, 0, ka);
    rnnfx_instance_set_param(r->b1, 0, kb);
    rnnfx_instance_set_param(r->b2, 0, kb);
}

/* Runs the whole signal through both sides in blocks[] order (rotated by
 * `rot`), the pair side in place on odd blocks, and checks outputs and
 * states after every block. */
static void rig_run(Rig *r, size_t rot)
{
    size_t off = 0;
    for (size_t k = 0; k < N_BLOCKS; k++) {
        const size_t n = blocks[(k + rot) % N_BLOCKS];
        rnnfx_instance_process(r->a1, r->xa + off, r->ya1 + off, n);
        rnnfx_instance_process(r->b1, r->xb + off, r->yb1 + off, n);
        if (k % 2) {
            memcpy(r->ya2 + off, r->xa + off, n * sizeof(float));
            memcpy(r->yb2 + off, r->xb + off, n * sizeof(float));
            rnnfx_instance_process_pair(r->a2, r->b2, r->ya2 + off, r->yb2 + off, r->ya2 + off,
                                        r->yb2 + off, n);
        } else {
            rnnfx_instance_process_pair(r->a2, r->b2, r->xa + off, r->xb + off, r->ya2 + off,
                                        r->yb2 + off, n);
        }
        off += n;
        assert_same_state(r->a1, r->a2);
        assert_same_state(r->b1, r->b2);
    }
    assert_int_equal(off, N_TOTAL);
    assert_memory_equal(r->ya1, r->ya2, N_TOTAL * sizeof(float));
    assert_memory_equal(r->yb1, r->yb2, N_TOTAL * sizeof(float));
    assert_true(rnnfx_test_all_finite(r->ya2, N_TOTAL) && rnnfx_test_all_finite(r->yb2, N_TOTAL));
}

/* Where this build pairs: one LSTM or GRU layer of H <= 16 on AVX2, of
 * H <= 24 on AVX-512. */
static int expect_pair(const char *isa, RnnfxCell cell, int hidden, int layers, int peephole)
{
    const int hmax = strcmp(isa, "avx512") == 0 ? 24 : strcmp(isa, "avx2") == 0 ? 16 : 0;
    return layers == 1 && !peephole && hidden <= hmax &&
           (cell == RNNFX_CELL_LSTM || cell == RNNFX_CELL_GRU);
}

static void test_pair_equals_singles(void **state)
{
    (void)state;
    static const RnnfxCell cells[] = {RNNFX_CELL_LSTM, RNNFX_CELL_GRU};
    int paired = 0, cases = 0;
    for (int ci = 0; ci < 2; ci++) {
        for (int h = 1; h <= 33; h++) {
            if (h > 20 && h != 24 && h != 25 && h != 32)
                continue;
            for (int skip = 0; skip <= 1; skip++) {
                RnnfxModel *m = model_of(cells[ci], h, 1, skip, 0, 100u + (uint64_t)(h * 4 + ci * 2 + skip));
                for (int k = 0; k < N_ISAS; k++) {
                    if (!rnnfx_test_use_isa(m, isas[k]))
                        continue;
                    const int has = rnnfx_fast_has_pair(rnnfx_model_packed(m));
                    if (has != expect_pair(isas[k], cells[ci], h, 1, 0))
                        fail_msg("%s %s-%d: pair kernel %s", isas[k], rnnfx_cell_name(cells[ci]), h,
                                 has ? "present, not expected" : "missing");
                    paired += has;
                    cases++;
                    Rig r;
                    rig_open(&r, m, m, (uint64_t)h);
                    rig_knobs(&r, 0.1f, 0.9f);
                    rig_run(&r, (size_t)(h + skip) % N_BLOCKS);
                    rig_close(&r);
                }
                rnnfx_model_free(m);
            }
        }
    }
    print_message("%d cases, %d through a pair kernel\n", cases, paired);
    /* LSTM and GRU 1..16 (AVX2) or 1..20 and 24 (AVX-512), skip
     * on and off */
    assert_int_equal(paired, 2 * 2 * (16 * rnnfx_fast_isa_available("avx2") +
                                      21 * rnnfx_fast_isa_available("avx512")));
}

/* A knob moved between blocks on one channel only. */
static void test_pair_knob_changes(void **state)
{
    (void)state;
    static const RnnfxCell cells[] = {RNNFX_CELL_LSTM, RNNFX_CELL_GRU};
    static const int sizes[] = {5, 8, 12, 16};
    for (int ci = 0; ci < 2; ci++) {
        for (int si = 0; si < 4; si++) {
            RnnfxModel *m = model_of(cells[ci], sizes[si], 1, 1, 0, 7u + (uint64_t)si);
            for (int k = 0; k < N_ISAS; k++) {
                if (!rnnfx_test_use_isa(m, isas[k]))
                    continue;
                Rig r;
                rig_open(&r, m, m, 3);
                size_t off = 0;
                for (int blk = 0; off < N_TOTAL; blk++) {
                    size_t n = N_TOTAL - off < 300 ? N_TOTAL - off : 300;
                    rig_knobs(&r, 0.5f, (float)(blk % 7) / 6.0f);
                    rnnfx_instance_process(r.a1, r.xa + off, r.ya1 + off, n);
                    rnnfx_instance_process(r.b1, r.xb + off, r.yb1 + off, n);
                    rnnfx_instance_process_pair(r.a2, r.b2, r.xa + off, r.xb + off, r.ya2 + off,
                                                r.yb2 + off, n);
                    off += n;
                }
                assert_memory_equal(r.ya1, r.ya2, N_TOTAL * sizeof(float));
                assert_memory_equal(r.yb1, r.yb2, N_TOTAL * sizeof(float));
                assert_same_state(r.b1, r.b2);
                rig_close(&r);
            }
            rnnfx_model_free(m);
        }
    }
}

/* NaN/Inf input and a poisoned state in channel a only. */
static void test_pair_nan_one_channel(void **state)
{
    (void)state;
    static const RnnfxCell cells[] = {RNNFX_CELL_LSTM, RNNFX_CELL_GRU};
    static const int sizes[] = {4, 8, 13, 16};
    for (int ci = 0; ci < 2; ci++) {
        for (int si = 0; si < 4; si++) {
            RnnfxModel *m = model_of(cells[ci], sizes[si], 1, 1, 0, 31u + (uint64_t)si);
            for (int k = 0; k < N_ISAS; k++) {
                if (!rnnfx_test_use_isa(m, isas[k]))
                    continue;
                Rig r;
                rig_open(&r, m, m, 5);
                /* channel b's output without any poison in a */
                RnnfxInstance *clean = rnnfx_instance_new(m);
                assert_non_null(clean);
                rnnfx_instance_set_param(clean, 0, 0.9f);
                float *yc = malloc(N_TOTAL * sizeof(float));
                assert_non_null(yc);
                rig_knobs(&r, 0.2f, 0.9f);
                for (size_t i = 0; i < N_TOTAL; i += 97)
                    r.xa[i] = i % 2 ? NAN : INFINITY;
                const size_t half = 2000;
                rnnfx_instance_process(clean, r.xb, yc, N_TOTAL);
                rnnfx_instance_process(r.a1, r.xa, r.ya1, half);
                rnnfx_instance_process(r.b1, r.xb, r.yb1, half);
                rnnfx_instance_process_pair(r.a2, r.b2, r.xa, r.xb, r.ya2, r.yb2, half);
                /* poison a's state: the block's outputs become 0 after the
                 * first step and the state resets at the chunk's end */
                rnnfx_instance_hidden(r.a1, 0)[0] = NAN;
                rnnfx_instance_hidden(r.a2, 0)[0] = NAN;
                rnnfx_instance_process(r.a1, r.xa + half, r.ya1 + half, N_TOTAL - half);
                rnnfx_instance_process(r.b1, r.xb + half, r.yb1 + half, N_TOTAL - half);
                rnnfx_instance_process_pair(r.a2, r.b2, r.xa + half, r.xb + half, r.ya2 + half,
                                            r.yb2 + half, N_TOTAL - half);
                assert_memory_equal(r.ya1, r.ya2, N_TOTAL * sizeof(float));
                assert_memory_equal(r.yb1, r.yb2, N_TOTAL * sizeof(float));
                assert_memory_equal(yc, r.yb2, N_TOTAL * sizeof(float));
                assert_same_state(r.a1, r.a2);
                assert_same_state(r.b1, r.b2);
                assert_true(rnnfx_test_all_finite(r.ya2, N_TOTAL));
                /* recovered: a's output after the poisoned chunk is not all
                 * zero, and its state is finite */
                double tail = 0.0;
                for (size_t i = half + 1024; i < N_TOTAL; i++)
                    tail += fabs(r.ya2[i]);
                assert_true(tail > 0.0);
                assert_true(rnnfx_test_all_finite(rnnfx_instance_hidden(r.a2, 0),
                                                  state_floats(m, 0)));
                free(yc);
                rnnfx_instance_free(clean);
                rig_close(&r);
            }
            rnnfx_model_free(m);
        }
    }
}

/* Shapes and settings without a pair kernel take two single calls. */
static void test_pair_fallbacks(void **state)
{
    (void)state;
    RnnfxModel *l8 = model_of(RNNFX_CELL_LSTM, 8, 1, 1, 0, 51);
    RnnfxModel *l8b = model_of(RNNFX_CELL_LSTM, 8, 1, 1, 0, 52);
    RnnfxModel *g16 = model_of(RNNFX_CELL_GRU, 16, 1, 0, 0, 53);
    RnnfxModel *two = model_of(RNNFX_CELL_LSTM, 8, 2, 1, 0, 54);
    RnnfxModel *peep = model_of(RNNFX_CELL_LSTM, 8, 1, 1, 1, 55);
    for (int k = 0; k < N_ISAS; k++) {
        RnnfxModel *ms[5] = {l8, l8b, g16, two, peep};
        int ok = 1;
        for (int i = 0; i < 5; i++)
            ok = ok && rnnfx_test_use_isa(ms[i], isas[k]);
        if (!ok)
            continue;
        /* different models (same shape, and different shapes) */
        const RnnfxModel *pairs[][2] = {{l8, l8b}, {l8, g16}, {two, two}, {peep, peep}};
        for (int p = 0; p < 4; p++) {
            Rig r;
            rig_open(&r, pairs[p][0], pairs[p][1], 9);
            rig_knobs(&r, 0.3f, 0.6f);
            rig_run(&r, (size_t)p);
            rig_close(&r);
        }
        /* the reference path on both channels, then on one */
        for (int which = 0; which < 2; which++) {
            Rig r;
            rig_open(&r, l8, l8, 11);
            rnnfx_instance_set_path(r.a1, RNNFX_PATH_REFERENCE);
            rnnfx_instance_set_path(r.a2, RNNFX_PATH_REFERENCE);
            if (which == 0) {
                rnnfx_instance_set_path(r.b1, RNNFX_PATH_REFERENCE);
                rnnfx_instance_set_path(r.b2, RNNFX_PATH_REFERENCE);
            }
            rig_run(&r, 3);
            rig_close(&r);
        }
    }
    rnnfx_model_free(l8);
    rnnfx_model_free(l8b);
    rnnfx_model_free(g16);
    rnnfx_model_free(two);
    rnnfx_model_free(peep);
}

/* A stereo chain (paired by chain.c) equals a mono chain on each channel,
 * the knob moving mid-stream: at the model's rate, and at 44.1 kHz, where
 * the pair call runs on the down-converters' output. */
static void test_stereo_chain_equals_mono(void **state)
{
    (void)state;
    static const RnnfxCell cells[] = {RNNFX_CELL_LSTM, RNNFX_CELL_GRU};
    static const int sizes[] = {6, 16, 24};
    const size_t n = 6000, block = 256;
    float *l = malloc(n * sizeof(float)), *r = malloc(n * sizeof(float));
    float *ml = malloc(n * sizeof(float)), *mr = malloc(n * sizeof(float));
    float *sl = malloc(n * sizeof(float)), *sr = malloc(n * sizeof(float));
    assert_true(l && r && ml && mr && sl && sr);
    rnnfx_test_signal(l, n, 41);
    rnnfx_test_signal(r, n, 42);
    for (int ci = 0; ci < 2; ci++) {
        for (int si = 0; si < 3; si++) {
            RnnfxModel *m = model_of(cells[ci], sizes[si], 1, 1, 0, 61u + (uint64_t)si);
            rnnfx_model_meta(m)->sample_rate = 48000.0;
            for (int k = 0; k < 2 * N_ISAS; k++) {
                if (!rnnfx_test_use_isa(m, isas[k / 2]))
                    continue;
                const double rate = k % 2 ? 44100.0 : 48000.0;
                RnnfxChain *chains[3] = {NULL, NULL, NULL}; /* mono l, mono r, stereo */
                RnnfxError err;
                for (int c = 0; c < 3; c++)
                    assert_int_equal(rnnfx_chain_new_multi(m, rate, c == 2 ? 2 : 1, 512, &chains[c], &err),
                                     RNNFX_OK);
                /* resampling only at 44.1 kHz */
                assert_true((rnnfx_chain_latency(chains[2]) == 0) == (rate == 48000.0));
                RnnfxChainControls ctl;
                rnnfx_chain_controls_init(&ctl);
                for (size_t off = 0; off < n; off += block) {
                    const size_t len = n - off < block ? n - off : block;
                    ctl.knobs[0] = (float)((off / block) % 5) / 4.0f;
                    ctl.n_knobs = 1;
                    for (int c = 0; c < 3; c++)
                        rnnfx_chain_set_controls(chains[c], &ctl);
                    rnnfx_chain_process(chains[0], l + off, ml + off, len);
                    rnnfx_chain_process(chains[1], r + off, mr + off, len);
                    const float *in[2] = {l + off, r + off};
                    float *out[2] = {sl + off, sr + off};
                    rnnfx_chain_process_multi(chains[2], in, out, len);
                }
                assert_memory_equal(ml, sl, n * sizeof(float));
                assert_memory_equal(mr, sr, n * sizeof(float));
                for (int c = 0; c < 3; c++)
                    rnnfx_chain_free(chains[c]);
            }
            rnnfx_model_free(m);
        }
    }
    free(l);
    free(r);
    free(ml);
    free(mr);
    free(sl);
    free(sr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pair_equals_singles),
        cmocka_unit_test(test_pair_knob_changes),
        cmocka_unit_test(test_pair_nan_one_channel),
        cmocka_unit_test(test_pair_fallbacks),
        cmocka_unit_test(test_stereo_chain_equals_mono),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

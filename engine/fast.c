/*
 * fast.c — the fast path's front end: packs a model's PyTorch-layout
 * tensors into the layout of fast_internal.h, picks the kernels for this
 * CPU, folds knob inputs into layer 0's bias, and dispatches the per-block
 * calls of fast.h to the chosen kernels (fast_generic.c, fast_avx2.c,
 * fast_avx512.c).
 *
 * It holds no arithmetic of its own on the audio path beyond
 * rnnfx_fast_set_knobs (O(gates x hidden x knobs)); the kernels own the
 * time loop.
 */
#include "fast.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

#include "fast_internal.h"
#include "fpmode.h"
#include "selftest.h"

#define FLOATS_PER_LINE 16 /* 64 bytes */

static size_t up16(size_t n) { return (n + FLOATS_PER_LINE - 1) & ~(size_t)(FLOATS_PER_LINE - 1); }

/* ---- kernel choice ------------------------------------------------------- */

static int cpu_has(int level)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (level == 2)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
    /* F16C too: the AVX2 kernels widen fp16 weights (VCVTPH2PS), and run
     * them while a model is packed. Every AVX2 CPU made has it, but a VM
     * may mask it. (Read from CPUID leaf 1, ECX bit 29: clang's
     * __builtin_cpu_supports has no "f16c".) */
    if (level == 1) {
        unsigned eax, ebx, ecx = 0, edx;
        const int f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29));
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    }
#endif
    return level == 0;
}

/* 0 generic, 1 avx2, 2 avx512; -1 unknown name. */
static int isa_level(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "generic") == 0)
        return 0;
    if (strcmp(name, "avx2") == 0)
        return 1;
    if (strcmp(name, "avx512") == 0)
        return 2;
    return -1;
}

static const RnnfxFastIsa *isa_at(int level)
{
#if defined(__x86_64__)
    if (level == 2)
        return &rnnfx_fast_isa_avx512;
    if (level == 1)
        return &rnnfx_fast_isa_avx2;
#endif
    (void)level;
    return &rnnfx_fast_isa_generic;
}

int rnnfx_fast_isa_available(const char *isa)
{
    int level = isa_level(isa);
    return level >= 0 && cpu_has(level);
}

int rnnfx_fast_isa_level(void)
{
    int best = cpu_has(2) ? 2 : cpu_has(1) ? 1 : 0;
    int cap = isa_level(getenv("RNNFX_ISA"));
    if (cap >= 0 && cap < best)
        best = cap;
    return best;
}

static const RnnfxFastIsa *choose_isa(void) { return isa_at(rnnfx_fast_isa_level()); }

RnnfxStatus rnnfx_fast_activation(const char *isa, int which, const float *x, float *y, size_t n)
{
    if (!rnnfx_fast_isa_available(isa) || !x || !y)
        return RNNFX_ERR_UNSUPPORTED;
    const RnnfxFastIsa *k = isa_at(isa_level(isa));
    RnnfxFastAct f = which == 0 ? k->sigmoid : which == 1 ? k->tanh : which == 2 ? k->zsigmoid
                   : which == 3 ? k->ztanh : NULL;
    if (!f)
        return RNNFX_ERR_UNSUPPORTED;
    f(x, y, n);
    return RNNFX_OK;
}

/* ---- packing --------------------------------------------------------------- */

/* Floats of packed storage one layer needs. */
static size_t layer_floats(const RnnfxLayerDesc *d, int in)
{
    size_t hp = (size_t)rnnfx_fast_padded(d->hidden_size);
    size_t rows = (size_t)rnnfx_cell_gates(d->cell) * hp;
    size_t hcols = ((size_t)d->hidden_size + 3) & ~(size_t)3;
    size_t n = up16((size_t)in * rows) + up16(hcols * rows) + up16(rows);
    if (d->cell == RNNFX_CELL_GRU)
        n += up16(rows);
    if (d->cell == RNNFX_CELL_LSTM && d->peephole)
        n += up16(3 * hp);
    return n;
}

/* The cells the fused and stack kernels compute: LSTM without peephole, GRU. */
static int lstm_or_gru(const RnnfxLayerDesc *d)
{
    return (d->cell == RNNFX_CELL_LSTM && !d->peephole) || d->cell == RNNFX_CELL_GRU;
}

#if defined(__x86_64__) /* the fused kernels are built on x86 only */
/* The fused kernels' shapes (AVX-512 and AVX2): one LSTM (no peephole) or
 * GRU layer, H <= 96. */
static int fused_arch(const RnnfxArch *a)
{
    return a->n_layers == 1 && a->layers[0].hidden_size <= 96 && lstm_or_gru(&a->layers[0]);
}
#endif

/* The stack kernel's shapes (fast_kernels.h): audio models of two or more
 * layers, each an LSTM (no peephole) or a GRU of at most max_hidden units
 * (the ISA's stack_max_hidden: AVX-512 64, the most its 32 registers hold;
 * AVX2 16). */
static int stack_arch(const RnnfxArch *a, int max_hidden)
{
    /* audio only: MIDI frame models run the frames path, which keeps the
     * general kernels and their packing */
    if (a->kind != RNNFX_KIND_AUDIO || a->n_layers < 2)
        return 0;
    for (int l = 0; l < a->n_layers; l++)
        if (a->layers[l].hidden_size > max_hidden || !lstm_or_gru(&a->layers[l]))
            return 0;
    return 1;
}

/* Whether gate block q of a cell feeds a tanh (its rows are packed doubled). */
static int tanh_block(const RnnfxLayerDesc *d, int q)
{
    switch (d->cell) {
    case RNNFX_CELL_LSTM: return q == 2;
    case RNNFX_CELL_GRU: return q == 2;
    case RNNFX_CELL_RNN: return !d->relu;
    }
    return 0;
}

static void pack_layer(const RnnfxModel *m, int l, int in, int zdom, RnnfxFastLayer *L,
                       float **cursor)
{
    const RnnfxLayerDesc *d = &rnnfx_model_arch(m)->layers[l];
    const int H = d->hidden_size, G = rnnfx_cell_gates(d->cell);
    const int hp = rnnfx_fast_padded(H), rows = G * hp;
    const float *wih = rnnfx_model_tensor_const(m, l, RNNFX_T_WEIGHT_IH, NULL, NULL);
    const float *whh = rnnfx_model_tensor_const(m, l, RNNFX_T_WEIGHT_HH, NULL, NULL);
    const float *bih = rnnfx_model_tensor_const(m, l, RNNFX_T_BIAS_IH, NULL, NULL);
    const float *bhh = rnnfx_model_tensor_const(m, l, RNNFX_T_BIAS_HH, NULL, NULL);
    const float *peep = rnnfx_model_tensor_const(m, l, RNNFX_T_PEEPHOLE, NULL, NULL);
    float *p = *cursor;
    float *wx = p;
    p += up16((size_t)in * rows);
    const int hcols = (H + 3) & ~3;
    float *wh = p;
    p += up16((size_t)hcols * rows);
    float *b = p;
    p += up16((size_t)rows);
    float *bh = NULL, *pp = NULL;
    if (d->cell == RNNFX_CELL_GRU) {
        bh = p;
        p += up16((size_t)rows);
    }
    if (d->cell == RNNFX_CELL_LSTM && d->peephole) {
        pp = p;
        p += up16((size_t)3 * hp);
    }
    for (int q = 0; q < G; q++) {
        const int relu = d->cell == RNNFX_CELL_RNN && d->relu;
        const float s = relu ? 1.0f
                        : tanh_block(d, q) ? (zdom ? RNNFX_ZSCALE2 : 2.0f)
                                           : (zdom ? RNNFX_ZSCALE : 1.0f);
        const int gru_n = d->cell == RNNFX_CELL_GRU && q == 2;
        for (int j = 0; j < H; j++) {
            const size_t r = (size_t)q * H + j, pr = (size_t)q * hp + j;
            for (int k = 0; k < in; k++)
                wx[(size_t)k * rows + pr] = s * wih[r * in + k];
            for (int k = 0; k < H; k++)
                wh[(size_t)k * rows + pr] = s * whh[r * H + k];
            b[pr] = s * (gru_n ? bih[r] : bih[r] + bhh[r]);
            if (bh)
                bh[pr] = gru_n ? s * bhh[r] : 0.0f;
        }
    }
    if (pp)
        for (int q = 0; q < 3; q++)
            for (int j = 0; j < H; j++)
                pp[(size_t)q * hp + j] = (zdom ? RNNFX_ZSCALE : 1.0f) * peep[(size_t)q * H + j];
    L->cell = d->cell;
    L->relu = d->cell == RNNFX_CELL_RNN && d->relu;
    L->peephole = pp != NULL;
    L->zdom = zdom;
    L->hidden = H;
    L->hcols = hcols;
    L->hp = hp;
    L->in = in;
    L->rows = rows;
    L->gs = hp;
    L->drows = rows;
    L->wx = wx;
    L->wh = wh;
    L->b = b;
    L->bh = bh;
    L->peep = pp;
    *cursor = p;
}

#if defined(__x86_64__) /* the SIMD kernels' layouts: used only where they are built */
/* ---- the fused kernels' column table, sweep direction and L1 layout ------
 *
 * The AVX-512 fused kernels (one LSTM/GRU layer, H <= 96) read column k of
 * the recurrent matrix through a table of pointers, one per part of a
 * column (parts of at most 16 cache lines), so fast.c decides where each
 * part lives. Every time step reads the whole matrix once. Once it is
 * larger than RNNFX_ZIG_BYTES, 40 KiB (an L1 of 48 KiB also holds the
 * state, biases, tables and stack: LSTM from H = 49, GRU from H = 57, GRU
 * 49-56 taking the dense-gate copy below instead), two measures keep as
 * much of it in L1 as the cache can hold:
 *   - zig: the kernels sweep the columns forwards on even time steps and
 *     backwards on odd ones. A cyclic sweep longer than an LRU cache
 *     misses on every line; a zigzag one starts each step with the lines
 *     the previous step read last, which are still cached, and misses only
 *     on about (matrix - cache) bytes. The sum's order then alternates, so
 *     the direction follows the absolute step count (the parity in the
 *     instance scratch, reset with the state): any block split still gives
 *     bit-identical output. Measured here: GRU-64 ~296 -> ~245 ns per
 *     sample, LSTM-96 ~1220 -> ~1120, GRU-96 ~900 -> ~810.
 *   - from 48 KiB (LSTM from H = 49, GRU from H = 65), the matrix is also
 *     copied into pages laid out by L1 set (the set of a line is its
 *     position within its 4 KiB page, address bits 6-11). Parts placed in
 *     lines 0-47 of pages 0-10 ("resident") share 48 sets with nothing else
 *     the kernel streams, 11 lines per set, so they stay in the 12-way L1
 *     from one step to the next (one way per set is left for the state,
 *     biases, tables and stack; 12 resident pages measured worse, 10 the
 *     same). All other parts ("streamed") go to lines 48-63 of as many
 *     pages as needed, spread evenly through the sweep so the L2 traffic
 *     overlaps the arithmetic. With the zigzag this measured better than
 *     the plain layout for LSTM-64 (~390 against ~410 ns) and about the
 *     same for the 96s; for GRU-64, which just fits, the plain layout wins
 *     (~245 against ~255 ns). */

#define L1_PLAIN_BYTES (48 * 1024)
#define PAGE_FLOATS 1024 /* 4 KiB */
#define RESIDENT_LINES 48
#define RESIDENT_PAGES 11

/* The dense-gate copy: when H mod 16 is 1..8 (H >= 17), padding every gate
 * block to a multiple of 16 rows leaves half a vector of padding per gate:
 * LSTM-40 runs 12 row vectors per column where 10 hold all 160 rows.
 * Packing the gates at a stride of H rounded up to 8 instead saves those
 * FMAs (and activations); the kernel realigns the odd gates with one
 * VALIGND per vector. Used for z-domain layers (H > 32 on AVX-512) while
 * that matrix stays within RNNFX_ZIG_BYTES (its kernels sweep one way
 * only): LSTM H 33-40, GRU H 33-40 and 49-56. */
static int dense_gates(const RnnfxFastLayer *L)
{
    const int G = rnnfx_cell_gates(L->cell), gs = (L->hidden + 7) & ~7;
    const size_t bytes = (size_t)L->hcols * up16((size_t)G * gs) * sizeof(float);
    return L->zdom && L->hidden <= 64 && L->hidden % 16 != 0 && L->hidden % 16 <= 8 &&
           bytes <= RNNFX_ZIG_BYTES;
}

/* Writes the dense-gate copy of L (rows q*hp + j -> q*gs + j) into mem:
 * the matrix [hcols][drows], then wxd [drows] and, for a GRU, bhd [drows]. */
static void pack_dense(RnnfxFastLayer *L, float *mem)
{
    const int G = rnnfx_cell_gates(L->cell), gs = L->gs, dr = L->drows;
    float *wd = mem, *wxd = mem + (size_t)L->hcols * dr, *bhd = wxd + dr;
    for (int q = 0; q < G; q++) {
        for (int k = 0; k < L->hcols; k++)
            memcpy(wd + (size_t)k * dr + (size_t)q * gs, L->wh + (size_t)k * L->rows + (size_t)q * L->hp,
                   (size_t)gs * sizeof(float));
        memcpy(wxd + (size_t)q * gs, L->wx + (size_t)q * L->hp, (size_t)gs * sizeof(float));
        if (L->bh)
            memcpy(bhd + (size_t)q * gs, L->bh + (size_t)q * L->hp, (size_t)gs * sizeof(float));
    }
    L->wxd = wxd;
    L->bhd = L->bh ? bhd : NULL;
}

/* The paired-tail copy: an LSTM or GRU of 17-24 units (plain domain) uses
 * half of its second unit group, so in the packed layout each of that
 * group's gate vectors is half padding. The copy holds per column the
 * first group's gate rows as usual (units 0-15), then units 16-23 two
 * gates to a vector: LSTM [i | f] and [g | o] (6 vectors instead of 8),
 * GRU [r | z] and the n rows' vector as packed (5 instead of 6: the
 * recurrent n part is multiplied by r before its tanh, so it keeps a
 * vector of its own). f512_lstm_pt and f512_gru_pt run it. */
static int paired_tail(const RnnfxFastLayer *L)
{
    return (L->cell == RNNFX_CELL_LSTM || L->cell == RNNFX_CELL_GRU) && !L->zdom &&
           L->hidden > 16 && L->hidden <= 24;
}

static RnnfxStatus build_paired(RnnfxFast *F, RnnfxError *err)
{
    RnnfxFastLayer *L = &F->layer[0];
    const int lstm = L->cell == RNNFX_CELL_LSTM, G = lstm ? 4 : 3;
    const size_t per_col = lstm ? 96 : 80;
    const size_t table_bytes = ((size_t)L->hcols * sizeof(float *) + 63) & ~(size_t)63;
    const size_t floats = (size_t)L->hcols * per_col;
    unsigned char *mem = aligned_alloc(64, table_bytes + floats * sizeof(float));
    if (!mem)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory packing the model");
    const float **cols = (const float **)mem;
    float *wp = (float *)(mem + table_bytes);
    for (int k = 0; k < L->hcols; k++) {
        const float *src = L->wh + (size_t)k * L->rows; /* gate q, unit j at q*32 + j */
        float *dst = wp + (size_t)k * per_col, *tail = dst + 16 * G;
        for (int q = 0; q < G; q++)
            memcpy(dst + 16 * q, src + 32 * q, 16 * sizeof(float));
        for (int q = 0; q < (lstm ? 4 : 2); q++)
            memcpy(tail + 8 * q, src + 32 * q + 16, 8 * sizeof(float));
        if (!lstm) /* n: units 16-31 as packed (24-31 zero) */
            memcpy(tail + 16, src + 64 + 16, 16 * sizeof(float));
        cols[k] = dst;
    }
    L->cols = cols;
    L->parts = 1;
    L->paired = 1;
    F->colmem = mem;
    return RNNFX_OK;
}

static RnnfxStatus build_cols(RnnfxFast *F, RnnfxError *err)
{
    RnnfxFastLayer *L = &F->layer[0];
    if (paired_tail(L))
        return build_paired(F, err);
    if (dense_gates(L)) {
        const int G = rnnfx_cell_gates(L->cell);
        L->gs = (L->hidden + 7) & ~7;
        L->drows = (int)up16((size_t)G * (size_t)L->gs);
        const size_t table_bytes = ((size_t)L->hcols * sizeof(float *) + 63) & ~(size_t)63;
        const size_t floats = (size_t)(L->hcols + 2) * (size_t)L->drows;
        unsigned char *mem = aligned_alloc(64, table_bytes + floats * sizeof(float));
        if (!mem)
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory packing the model");
        float *wd = (float *)(mem + table_bytes);
        memset(wd, 0, floats * sizeof(float));
        pack_dense(L, wd);
        const float **cols = (const float **)mem;
        for (int k = 0; k < L->hcols; k++)
            cols[k] = wd + (size_t)k * L->drows;
        L->cols = cols;
        L->parts = 1;
        F->colmem = mem;
        return RNNFX_OK;
    }
    const int nvec = L->rows / 16, parts = nvec > 16 ? 2 : 1, lp = nvec / parts;
    const size_t total = (size_t)L->hcols * parts;
    const size_t bytes = (size_t)L->hcols * L->rows * sizeof(float);
    const int paged = bytes > L1_PLAIN_BYTES;
    L->zig = bytes > RNNFX_ZIG_BYTES;
    const size_t a = RESIDENT_LINES / lp, s = (64 - RESIDENT_LINES) / lp;
    size_t resident = paged ? a * RESIDENT_PAGES : total;
    if (resident > total)
        resident = total;
    const size_t streamed = total - resident;
    size_t pages = 0;
    if (paged) {
        pages = (resident + a - 1) / a;
        if ((streamed + s - 1) / s > pages)
            pages = (streamed + s - 1) / s;
    }
    size_t table_bytes = (total * sizeof(float *) + 4095) & ~(size_t)4095;
    unsigned char *mem = aligned_alloc(4096, table_bytes + pages * PAGE_FLOATS * sizeof(float));
    if (!mem)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory packing the model");
    const float **cols = (const float **)mem;
    float *pg = (float *)(mem + table_bytes);
    memset(pg, 0, pages * PAGE_FLOATS * sizeof(float));
    size_t ri = 0, si = 0;
    for (size_t j = 0; j < total; j++) {
        const float *src = L->wh + (j / parts) * (size_t)L->rows + (j % parts) * (size_t)lp * 16;
        if (!paged) {
            cols[j] = src;
            continue;
        }
        /* Part j is streamed when the running share of streamed parts steps up. */
        int is_streamed = (j + 1) * streamed / total > j * streamed / total;
        float *dst;
        if (is_streamed) {
            dst = pg + (si / s) * PAGE_FLOATS + (RESIDENT_LINES + (si % s) * lp) * 16;
            si++;
        } else {
            dst = pg + (ri / a) * PAGE_FLOATS + (ri % a) * lp * 16;
            ri++;
        }
        memcpy(dst, src, (size_t)lp * 16 * sizeof(float));
        cols[j] = dst;
    }
    L->cols = cols;
    L->parts = parts;
    F->colmem = mem;
    return RNNFX_OK;
}

/* The AVX2 fused kernels (fast_avx2.c) walk the recurrent matrix a few
 * groups of 8 units at a time, each group's gate vectors over all columns.
 * In the packed layout a group's vectors for column k and k+1 are G * hp
 * floats apart (1 KiB for LSTM-64): such a stride maps one group's lines
 * onto a quarter of L1's sets, which then evict each other long before L1
 * is full. So they read a group-major copy, whg[u][k][q][8], one
 * contiguous stream per group; each group holds 8 nu columns (those from
 * hcols on zero), so the kernels reach group u at a compile-time offset.
 * Measured: LSTM-64 ~750 -> ~610 ns per sample, LSTM-96 ~1670 -> ~1440;
 * GRU and the sizes whose matrix fits in L1 within noise. */
static RnnfxStatus build_groups(RnnfxFast *F, RnnfxError *err)
{
    RnnfxFastLayer *L = &F->layer[0];
    const size_t G = (size_t)rnnfx_cell_gates(L->cell), nu = ((size_t)L->hidden + 7) / 8;
    const size_t hc = (size_t)L->hcols, kc = 8 * nu, n = up16(nu * kc * G * 8);
    float *g = aligned_alloc(64, n * sizeof(float));
    if (!g)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory packing the model");
    memset(g, 0, n * sizeof(float));
    for (size_t u = 0; u < nu; u++)
        for (size_t k = 0; k < hc; k++)
            for (size_t q = 0; q < G; q++)
                memcpy(g + ((u * kc + k) * G + q) * 8,
                       L->wh + k * (size_t)L->rows + q * (size_t)L->hp + 8 * u, 8 * sizeof(float));
    L->whg = g;
    F->colmem = g;
    return RNNFX_OK;
}
#endif /* __x86_64__ */

#if defined(__x86_64__)
/* ---- fp16 weights for the AVX2 fused kernels --------------------------------
 * On AVX2-only CPUs the L1 data cache is 32 KiB, and from LSTM-48 / GRU-64
 * the fp32 matrix no longer fits: a step then streams most of it from L2
 * at ~32 bytes per cycle, below the rate the FMAs could take it. Stored as
 * fp16 (VCVTPH2PS widens 8 of them per load, outside the FMA pipes on the
 * Zen 3 core measured) the same matrix is half the bytes: a 64 KiB sweep
 * took 346 ns against 648 in fp32 there, a 144 KiB one 874 against 1530.
 * Rounding the weights to fp16 (11 significant bits) moves the output, so
 * the copy is kept only when it leaves this model's output within
 * RNNFX_F16_TOL of the fp32 weights' (build_groups16): a measured, per-model
 * decision, made once when the model is packed. RNNFX_F16=0 in the
 * environment keeps fp32 always. */
#define RNNFX_F16_TOL 2e-5f         /* largest output change kept (-94 dBFS) */
#define RNNFX_F16_GATE_N 4096       /* samples of the gate's test signal */

/* The shapes that get a copy, as measured on Zen 3 (best of 3 interleaved
 * runs, ns per sample, fp32 -> fp16): GRU from 7 groups (49-96 units), whose
 * fp32 matrix is 37-110 KiB: GRU-56 439 -> 300, GRU-64 467 -> 410, GRU-72
 * 597 -> 469, GRU-80 769 -> 590, GRU-96 1126 -> 801; and LSTM of 10 or 12
 * groups: LSTM-80 1053 -> 964, LSTM-96 1512 -> 1348. Where the fp32 matrix
 * stays near L1 the widening costs more than the reads save (GRU-48 229 ->
 * 238, LSTM-48 364 -> 412, LSTM-64 626 -> 633), and the LSTM kernels with
 * an odd group count (a one-group chunk left over) lost with it (LSTM-56
 * 677 -> 878, LSTM-72 1118 -> 1446, LSTM-88 1719 -> 2144). */
static int f16_shape(const RnnfxFastLayer *L)
{
    const int nu = (L->hidden + 7) / 8;
    return L->cell == RNNFX_CELL_GRU ? nu >= 7 : nu >= 10 && nu % 2 == 0;
}

/* IEEE binary16 nearest to f (ties to even); |f| must be at most 65504. */
static uint16_t f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    const uint32_t sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
    if (a < 0x38800000u) { /* below 2^-14: a subnormal half (or zero), in 2^-24 units */
        float v;
        memcpy(&v, &a, sizeof v);
        return (uint16_t)(sign | (uint32_t)lrintf(v * 16777216.0f));
    }
    /* rebias the exponent (127 -> 15) and round 23 mantissa bits to 10 */
    const uint32_t r = a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u;
    return (uint16_t)(sign | (r >> 13));
}

/* The one-layer model's output over the gate's test signal x (already
 * scaled by the model's input gain), from rest, knobs at knobs[], with
 * L->whg16 as set; 0 on success. */
static int gate_run(const RnnfxFast *F, const float *knobs, const float *x, float *y)
{
    const RnnfxFastLayer *L = &F->layer[0];
    const size_t hp = (size_t)rnnfx_fast_padded(L->hidden);
    float *scratch = aligned_alloc(64, up16(F->scratch_floats) * sizeof(float));
    float *h = aligned_alloc(64, hp * sizeof(float)), *c = aligned_alloc(64, hp * sizeof(float));
    int rc = -1;
    if (scratch && h && c) {
        memset(scratch, 0, up16(F->scratch_floats) * sizeof(float));
        memset(h, 0, hp * sizeof(float));
        memset(c, 0, hp * sizeof(float));
        rnnfx_fast_reset(F, scratch);
        rnnfx_fast_set_knobs(F, scratch, knobs);
        float *hv[1] = {h}, *cv[1] = {c};
        RnnfxFpMode fp = rnnfx_fp_enter(); /* the arithmetic of instance processing */
        rnnfx_fast_process_audio(F, scratch, hv, cv, x, y, RNNFX_F16_GATE_N);
        rnnfx_fp_leave(fp);
        rc = 0;
    }
    free(scratch);
    free(h);
    free(c);
    return rc;
}

/* Adds the fp16 copy of whg if this model's output stays within
 * RNNFX_F16_TOL with it on the guitar-like excitation exported models'
 * self-tests use (selftest.h: plucked partials from quiet to loud); else
 * leaves whg16 NULL. The signal goes in through the model's input gain and
 * the difference comes out through its output gain, as in
 * rnnfx_instance_process, and a model with knobs is measured at their
 * defaults and at both ends of their ranges: a hotter input, a louder
 * output or a knob turned up once moved the output 4-8 times the
 * tolerance with fp16 kept. */
static RnnfxStatus build_groups16(RnnfxFast *F, const RnnfxArch *a, const RnnfxMeta *meta,
                                  RnnfxError *err)
{
    RnnfxFastLayer *L = &F->layer[0];
    const size_t G = (size_t)rnnfx_cell_gates(L->cell), nu = ((size_t)L->hidden + 7) / 8;
    const size_t n = up16(nu * 8 * nu * G * 8);
    const char *env = getenv("RNNFX_F16");
    if (!f16_shape(L) || (env && strcmp(env, "0") == 0))
        return RNNFX_OK;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(L->whg[i]) <= 65504.0f))
            return RNNFX_OK; /* beyond fp16's range */
    const size_t N = RNNFX_F16_GATE_N;
    uint16_t *g = aligned_alloc(64, (n * sizeof(uint16_t) + 63) & ~(size_t)63);
    float *x = malloc(N * sizeof(float)), *y32 = malloc(N * sizeof(float)),
          *y16 = malloc(N * sizeof(float));
    RnnfxStatus st = RNNFX_OK;
    if (!g || !x || !y32 || !y16) {
        st = rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory packing the model");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        g[i] = f32_to_f16(L->whg[i]);
    rnnfx_selftest_signal(x, N);
    for (size_t t = 0; t < N; t++)
        x[t] *= meta->input_gain;
    const float og = fabsf(meta->output_gain);
    float worst = 0.0f;
    /* knob settings: 0 the defaults, 1 all at their minimum, 2 at their maximum */
    for (int set = 0; set < (F->n_knobs ? 3 : 1) && worst <= RNNFX_F16_TOL; set++) {
        float knobs[RNNFX_MAX_PARAMS];
        for (int k = 0; k < F->n_knobs; k++)
            knobs[k] = set == 0 ? a->params[k].def : set == 1 ? a->params[k].min : a->params[k].max;
        L->whg16 = NULL;
        int rc = gate_run(F, knobs, x, y32);
        L->whg16 = g;
        rc |= gate_run(F, knobs, x, y16);
        if (rc)
            worst = INFINITY;
        for (size_t t = 0; t < N && !rc; t++) {
            const float d = og * fabsf(y16[t] - y32[t]);
            if (!(d <= worst)) /* NaN too */
                worst = isnan(d) ? INFINITY : d;
        }
    }
    if (worst <= RNNFX_F16_TOL) {
        F->colmem16 = g;
        g = NULL;
    } else {
        L->whg16 = NULL;
    }
    F->f16_err = worst;
done:
    free(g);
    free(x);
    free(y32);
    free(y16);
    return st;
}
#endif /* __x86_64__ */

RnnfxStatus rnnfx_fast_build(const RnnfxModel *m, RnnfxFast **out, RnnfxError *err)
{
    *out = NULL;
    if (!m)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no model");
    const RnnfxArch *a = rnnfx_model_arch(m);
    if (rnnfx_arch_check(a, err) != RNNFX_OK)
        return RNNFX_ERR_INVALID;
    RnnfxFast *F = calloc(1, sizeof *F);
    if (!F)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory packing the model");
    const int last = a->n_layers - 1;
    const int hl = a->layers[last].hidden_size, hpl = rnnfx_fast_padded(hl);
    const int op = (int)up16((size_t)a->output_size);
    size_t total = 0;
    int in = a->input_size, max_rows = 16;
    for (int l = 0; l < a->n_layers; l++) {
        const RnnfxLayerDesc *d = &a->layers[l];
        int rows = rnnfx_cell_gates(d->cell) * rnnfx_fast_padded(d->hidden_size);
        if (rows > max_rows)
            max_rows = rows;
        total += layer_floats(d, in);
        in = d->hidden_size;
    }
    total += up16((size_t)hl * op) + up16((size_t)op) + up16((size_t)hpl);
    F->mem = aligned_alloc(64, total * sizeof(float));
    if (!F->mem) {
        free(F);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory packing the model (%zu bytes)",
                          total * sizeof(float));
    }
    memset(F->mem, 0, total * sizeof(float));
    float *cursor = F->mem;
    F->isa = choose_isa();
    /* AVX-512 layers use the z domain, except where the fused kernels
     * measured faster with the piecewise activations: up to two groups
     * (H <= 32), where the step's latency matters as much as its
     * instruction count (LSTM-32 ~100 -> ~95 ns, GRU-32 ~6 %). The fused
     * kernels read the choice back from L->zdom. AVX2 uses the z domain
     * for the fused kernels' shapes (fast_avx2.c needs it) and the plain
     * one elsewhere: its general kernels' z-form sigmoid (two Newton
     * steps, for an exact 1/2 at 0) measured 2-6 % slower on 2-layer
     * models than the division. The stack kernel (stacks of small LSTM/GRU
     * layers) uses the plain domain too. */
    int zdom = 0;
#if defined(__x86_64__)
    const int hp0 = rnnfx_fast_padded(a->layers[0].hidden_size);
    zdom = (F->isa == &rnnfx_fast_isa_avx2 && fused_arch(a)) ||
           (F->isa == &rnnfx_fast_isa_avx512 && !(fused_arch(a) && hp0 <= 32));
#endif
    const char *stack_env = getenv("RNNFX_FAST_STACK");
    F->stack = F->isa->stack && stack_arch(a, F->isa->stack_max_hidden) &&
               !(stack_env && strcmp(stack_env, "0") == 0);
    if (F->stack)
        zdom = 0; /* the stack kernel's activations take plain values */
    in = a->input_size;
    for (int l = 0; l < a->n_layers; l++) {
        pack_layer(m, l, in, zdom, &F->layer[l], &cursor);
        in = a->layers[l].hidden_size;
    }
    const float *wd = rnnfx_model_tensor_const(m, -1, RNNFX_T_DENSE_W, NULL, NULL);
    const float *bd = rnnfx_model_tensor_const(m, -1, RNNFX_T_DENSE_B, NULL, NULL);
    float *dw = cursor;
    cursor += up16((size_t)hl * op);
    float *db = cursor;
    cursor += up16((size_t)op);
    float *dw0 = cursor;
    for (int o = 0; o < a->output_size; o++) {
        for (int k = 0; k < hl; k++)
            dw[(size_t)k * op + o] = wd[(size_t)o * hl + k];
        db[o] = bd[o];
    }
    for (int k = 0; k < hl; k++)
        dw0[k] = wd[k];
    F->dw = dw;
    F->db = db;
    F->dw0 = dw0;
    F->n_layers = a->n_layers;
    F->input_size = a->input_size;
    F->output_size = a->output_size;
    F->n_knobs = a->n_params < a->input_size - 1 ? a->n_params : a->input_size - 1;
    F->op = op;
    F->skip = a->skip != 0;
    F->sigmoid = a->output_sigmoid != 0;
    F->max_rows = max_rows;
    F->off_b0 = 0;
    F->off_g = up16((size_t)F->layer[0].rows);
    F->off_gh = F->off_g + up16((size_t)max_rows);
    F->off_y = F->off_gh + up16((size_t)max_rows);
    F->off_step = F->off_y + up16((size_t)op);
    F->off_bd = F->off_step + FLOATS_PER_LINE;
    F->scratch_floats = F->off_bd + up16((size_t)F->layer[0].rows); /* drows <= rows */
#if defined(__x86_64__)
    if (F->isa == &rnnfx_fast_isa_avx2 && fused_arch(a)) {
        RnnfxStatus st = build_groups(F, err);
        if (st == RNNFX_OK)
            st = build_groups16(F, a, rnnfx_model_meta_const(m), err);
        if (st != RNNFX_OK) {
            rnnfx_fast_free(F);
            return st;
        }
    }
    if (F->isa == &rnnfx_fast_isa_avx512 && fused_arch(a)) {
        RnnfxStatus st = build_cols(F, err);
        if (st != RNNFX_OK) {
            rnnfx_fast_free(F);
            return st;
        }
    }
#endif
    /* pair kernels exist for some fused one-layer shapes (the ISA says
     * which); the stack kernel's models have none */
    F->pair = F->isa->pair && !F->stack ? F->isa->pair(F) : NULL;
    *out = F;
    return RNNFX_OK;
}

void rnnfx_fast_free(RnnfxFast *fast)
{
    if (!fast)
        return;
    free(fast->mem);
    free(fast->colmem);
    free(fast->colmem16);
    free(fast);
}

const char *rnnfx_fast_name(const RnnfxFast *fast)
{
    if (!fast)
        return "none";
    return fast->layer[0].whg16 ? "avx2-f16" : fast->isa->name;
}

float rnnfx_fast_f16_error(const RnnfxFast *fast) { return fast ? fast->f16_err : 0.0f; }

size_t rnnfx_fast_scratch_size(const RnnfxFast *fast)
{
    return fast ? fast->scratch_floats * sizeof(float) : 0;
}

void rnnfx_fast_reset(const RnnfxFast *fast, void *scratch)
{
    if (fast && scratch)
        *(unsigned *)((float *)scratch + fast->off_step) = 0u;
}

void rnnfx_fast_set_knobs(const RnnfxFast *fast, void *scratch, const float *knobs)
{
    const RnnfxFastLayer *L = &fast->layer[0];
    float *b0 = (float *)scratch + fast->off_b0;
    memcpy(b0, L->b, (size_t)L->rows * sizeof(float));
    for (int k = 0; knobs && k < fast->n_knobs; k++) {
        const float v = knobs[k];
        const float *w = L->wx + (size_t)(k + 1) * (size_t)L->rows;
        for (int r = 0; r < L->rows; r++)
            b0[r] += w[r] * v;
    }
    if (L->gs != L->hp) {
        /* the dense-gate kernels' copy: gate q at q*gs, zero elsewhere */
        float *bd = (float *)scratch + fast->off_bd;
        const int G = rnnfx_cell_gates(L->cell);
        memset(bd, 0, (size_t)L->drows * sizeof(float));
        for (int q = 0; q < G; q++)
            memcpy(bd + (size_t)q * L->gs, b0 + (size_t)q * L->hp, (size_t)L->gs * sizeof(float));
    }
}

void rnnfx_fast_process_audio(const RnnfxFast *fast, void *scratch, float *const *h,
                              float *const *c, const float *in, float *out, size_t n)
{
    if (n)
        (fast->stack ? fast->isa->stack : fast->isa->audio)(fast, scratch, h, c, in, out, n);
}

int rnnfx_fast_has_pair(const RnnfxFast *fast) { return fast && fast->pair; }

void rnnfx_fast_process_audio_pair(const RnnfxFast *fast, const RnnfxFastChannel *a,
                                   const RnnfxFastChannel *b, size_t n)
{
    if (n)
        fast->pair(fast, a, b, n);
}

void rnnfx_fast_process_frames(const RnnfxFast *fast, void *scratch, float *const *h,
                               float *const *c, const float *in, float *out, size_t n)
{
    if (n)
        fast->isa->frames(fast, scratch, h, c, in, out, n);
}

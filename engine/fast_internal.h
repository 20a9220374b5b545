/*
 * fast_internal.h — the packed model shared by fast.c (packing, dispatch)
 * and the per-ISA kernel files (internal; not part of the engine API).
 *
 * Packed layout of one recurrent layer (hp = rnnfx_fast_padded(H), a
 * multiple of 16; G = 4 LSTM, 3 GRU, 1 RNN; rows = G * hp):
 *   - gate block g, unit j lives at row g*hp + j (PyTorch order kept:
 *     LSTM i,f,g,o; GRU r,z,n); rows j >= H are zero;
 *   - wx[k][rows] is column k of weight_ih (so a matrix-vector product is a
 *     sum over k of a contiguous row-run times one broadcast input value);
 *     wh[k][rows] likewise for weight_hh, with hidden rounded up to a
 *     multiple of 4 columns (the extra columns zero, and so is the state
 *     they meet), so kernels may walk 4 columns at a time;
 *   - every row that feeds a tanh (LSTM g, GRU n, tanh RNN) is multiplied by
 *     2, weights and biases alike, so the kernels need only a sigmoid:
 *     tanh(a) = 2 sigma(2a) - 1. Doubling is exact in floating point.
 *     Layers packed in the "z domain" (zdom = 1: on AVX-512 every layer
 *     but the fused one-layer kernels' up to H = 32; on AVX2 the fused
 *     shapes; fast.c decides) instead hold sigmoid rows times -log2(e) and
 *     tanh rows times -2 log2(e), peephole weights times -log2(e), so the
 *     activations start directly at the exponent (activation_avx512.h,
 *     activation_avx2.h).
 *   - b: the input-side bias. LSTM/RNN: b_ih + b_hh. GRU: r,z rows
 *     b_ih + b_hh; n rows b_in only (doubled);
 *   - bh (GRU only): the recurrent-side initial value, rows r,z zero and n
 *     rows b_hn (doubled), because b_hn sits inside r * (W_hn h + b_hn);
 *   - peep (peephole LSTM only): [3][hp] rows p_i, p_f, p_o.
 * Dense layer: dw[k][op] (column k of dense.weight, op = output size
 * rounded up to 16), db[op], and dw0[hp_last] = row 0 for the audio path.
 *
 * Per-instance scratch (rnnfx_fast_scratch_size): b0 (layer 0's bias with
 * the knob inputs folded in, [rows0]), g and gh (gate pre-activations,
 * [max rows] each), y (dense outputs, [op]), the step parity (one unsigned,
 * see zig), bd (b0 in the dense-gate layout, [rows0]); every piece 64-byte
 * aligned.
 */
#ifndef RNNFX_FAST_INTERNAL_H
#define RNNFX_FAST_INTERNAL_H

/* Above this many bytes of recurrent matrix, the fused kernels zigzag
 * (see fast.c): about what stays in a 48 KiB L1 beside the rest. */
#define RNNFX_ZIG_BYTES (40 * 1024)

/* -log2(e) and -2 log2(e) in float: the z-domain row scales. */
#define RNNFX_ZSCALE (-0x1.715476p+0f)
#define RNNFX_ZSCALE2 (-0x1.715476p+1f)

#include <stddef.h>
#include <stdint.h>

#include "fast.h"
#include "model.h"

/* For the kernels' small helpers: inlined so that their compile-time
 * arguments (vector counts, accumulator sets) fold into constants. */
#define RX_INLINE static inline __attribute__((always_inline))

typedef struct {
    RnnfxCell cell;
    int relu, peephole;
    int zdom; /* 1: packed in the z domain (see above) */
    int hidden, hp, in, rows;
    int hcols;         /* columns of wh: hidden rounded up to 4 (extra ones zero) */
    const float *wx;   /* [in][rows] */
    const float *wh;   /* [hcols][rows] */
    const float *b;    /* [rows] */
    const float *bh;   /* [rows] GRU only, else NULL */
    const float *peep; /* [3][hp] peephole only, else NULL */
    /* AVX-512 fused kernels only (else NULL): column k of wh in `parts`
     * pieces of rows/parts floats, piece j of the whole at cols[j]. */
    const float *const *cols;
    int parts;
    /* gs: the gate stride of the matrix cols points into: hp, or, for the
     * "dense-gate" copy (fast.c, dense_gates), H rounded up to 8, so a
     * gate block starts on a half vector and no row vector is all padding;
     * then drows = up16(G * gs) rows per column, and wxd (input column 0)
     * and bhd (GRU b_hn) are in the same layout. */
    int gs, drows;
    const float *wxd, *bhd;
    /* paired (AVX-512 LSTM and GRU, 17 <= H <= 24, plain domain): cols
     * point into a copy whose columns hold the first unit group's gates,
     * then units 16-23 two gates to a vector, LSTM [i | f] [g | o], GRU
     * [r | z] [n | 0] (fast.c, paired_tail). */
    int paired;
    /* zig (AVX-512 fused kernels): the matrix is larger than
     * RNNFX_ZIG_BYTES, so they sweep its columns forwards and backwards on
     * alternate time steps (fast.c). fast_avx2.c decides the same from the
     * same threshold for its own copy. */
    int zig;
    /* AVX2 fused kernels only (else NULL): wh group-major, whg[u][k][q][8]
     * = wh[k][q*hp + 8u ..], u < nu = ceil(H/8), k < 8 nu (columns from
     * hcols on zero; fast.c, build_groups). */
    const float *whg;
    /* AVX2 fused kernels, 7-12 groups: whg in fp16 (IEEE binary16, same
     * layout), or NULL where fast.c keeps fp32 (fast.c, build_groups16). */
    const uint16_t *whg16;
} RnnfxFastLayer;

typedef void (*RnnfxFastRun)(const RnnfxFast *fast, void *scratch, float *const *h,
                             float *const *c, const float *in, float *out, size_t n);
typedef void (*RnnfxFastAct)(const float *x, float *y, size_t n);
/* Two channels of the same packed model in one time loop (fast.h,
 * rnnfx_fast_process_audio_pair): each channel's arithmetic exactly that of
 * the ISA's audio kernel, so the outputs equal two single calls bit for
 * bit. */
typedef void (*RnnfxFastPairRun)(const RnnfxFast *fast, const RnnfxFastChannel *a,
                                 const RnnfxFastChannel *b, size_t n);

/* One instruction set's kernels. */
typedef struct {
    const char *name;
    RnnfxFastRun audio;
    RnnfxFastRun frames;
    RnnfxFastAct sigmoid; /* vector activations, exported for the tests */
    RnnfxFastAct tanh;
    RnnfxFastAct zsigmoid; /* the z-domain forms (NULL if none), taking x */
    RnnfxFastAct ztanh;
    /* The stack kernel (fast_kernels.h, rx_run_stack; NULL if none) and the
     * largest layer it takes, which is what its instantiation holds in
     * registers (RX_STACK_MAXNV vectors): fast.c chooses it by this. */
    RnnfxFastRun stack;
    int stack_max_hidden;
    /* The pair kernel for a packed model's shape, or NULL where the ISA has
     * none (NULL: no pair kernels at all). Asked once, at build; fast.c
     * keeps the answer in RnnfxFast.pair. */
    RnnfxFastPairRun (*pair)(const RnnfxFast *fast);
} RnnfxFastIsa;

struct RnnfxFast {
    const RnnfxFastIsa *isa;
    int n_layers, input_size, output_size, n_knobs, op, skip, sigmoid, max_rows;
    /* a stack of small LSTM/GRU layers, which the ISA's stack kernel runs
     * (fast.c, stack_arch); packed in the plain domain */
    int stack;
    RnnfxFastLayer layer[RNNFX_MAX_LAYERS];
    const float *dw;  /* [H_last][op] */
    const float *db;  /* [op] */
    const float *dw0; /* [hp_last] */
    /* scratch offsets in floats; off_step holds one unsigned, the parity of
     * the audio time steps the fused kernels ran since the last reset (the
     * sweep direction; the frames path never zigzags). */
    size_t off_b0, off_g, off_gh, off_y, off_step, scratch_floats;
    size_t off_bd; /* b0 in the dense-gate layout (set_knobs), if layer 0 has it */
    float *mem;   /* the one allocation all arrays above point into */
    void *colmem16; /* whg16's allocation (AVX2), or NULL */
    float f16_err; /* build_groups16's measured output change (0: not measured) */
    void *colmem; /* the fused kernels' copy: cols table with the dense-gate or
                     cache-partitioned matrix (AVX-512), or whg (AVX2) */
    /* the ISA's pair kernel for this shape (RnnfxFastIsa.pair), or NULL */
    RnnfxFastPairRun pair;
};

extern const RnnfxFastIsa rnnfx_fast_isa_generic;
#if defined(__x86_64__)
extern const RnnfxFastIsa rnnfx_fast_isa_avx2;
extern const RnnfxFastIsa rnnfx_fast_isa_avx512;
#endif

#endif

/*
 * train_impl.h — internals shared by the engine's training files (not a
 * public API; only engine/train_*.c include it).
 *
 * Layout of the work: a worker owns Bt rows (segments) of a batch and runs a
 * chunk of T time steps for all its rows at once, time-major:
 *
 *     x    [T][Bt][K]      layer input (layer 0: the prepared model input)
 *     act  [T][Bt][G*H]    gate activations kept for the backward pass
 *     h    [T+1][Bt][H]    h[0] is the state carried in from the last chunk
 *
 * so every matrix product is over contiguous rows and the inner loops run
 * over a contiguous output row (vectorisable). Only what the backward pass
 * needs is kept for the whole chunk; pre-activations and their gradients
 * live in two small block buffers (blk_a, blk_b) of one time block
 * (rnnfx_train_tblock steps, ~256 rows), which stay in cache. Cell kernels (activations and
 * per-element gate algebra) and matrix kernels are compiled once per
 * instruction set (train_kern_*.c, selected at run time).
 */
#ifndef RNNFX_TRAIN_IMPL_H
#define RNNFX_TRAIN_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "train.h"

/* ---- kernels (train_kern.inc, one table per ISA) ------------------------- */

typedef struct {
    const char *name;
    /* C[M][N] += A[M][K] · B[K][N]   (row strides lda, ldb, ldc);
     * with bias != NULL instead C[m][:] = bias[:] + A[m]·B (C is not read). */
    void (*gemm_nn)(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    const float *bias, float *C, int ldc);
    /* C[M][N] += A[K][M]ᵀ · B[K][N]  (weight gradients: K = time × rows), and
     * if colsum != NULL also colsum[M] += Σ_k A[k][:] (the bias gradient),
     * computed in the same pass over A. */
    void (*gemm_tn)(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
                    int ldc, float *colsum);

    /* LSTM, one time step for Bt rows (equations in train_kern.inc).
     * g [Bt][4H] pre-activations in, activations i,f,g,o out;
     * cp/cn [Bt][H] previous/new cell; tc [Bt][H] tanh(c_new); hn [Bt][H]. */
    void (*lstm_fwd)(int Bt, int H, float *g, const float *cp, float *cn, float *tc, float *hn,
                     const float *peep);
    /* dh [Bt][H] total gradient on h_t; dc [Bt][H] in: gradient on c_t from
     * step t+1, out: gradient on c_{t-1}; dg [Bt][4H] out: pre-activation
     * gradients; dpeep [3][H] accumulates (if peep). */
    void (*lstm_bwd)(int Bt, int H, const float *g, const float *cp, const float *cn,
                     const float *tc, const float *dh, float *dc, float *dg, const float *peep,
                     float *dpeep);
    /* GRU: gx [Bt][3H] (input part incl. b_ih), gh [Bt][3H] (W_hh h + b_hh);
     * out: act [Bt][3H] r,z,n; ghn [Bt][H] = gh's n block; h [Bt][H]. */
    void (*gru_fwd)(int Bt, int H, const float *gx, const float *gh, const float *hp, float *act,
                    float *ghn, float *h);
    /* out: dgx [Bt][3H], dgh [Bt][3H]; dhp [Bt][H] += the direct part dh·z. */
    void (*gru_bwd)(int Bt, int H, const float *act, const float *ghn, const float *hp,
                    const float *dh, float *dgx, float *dgh, float *dhp);
    /* RNN: g [Bt][H] pre-activation -> h; backward: dg = dh · act'(h). */
    void (*rnn_fwd)(int n, float *h, const float *g, int relu);
    void (*rnn_bwd)(int n, float *dg, const float *dh, const float *h, int relu);
    /* In-place logistic function on n values. */
    void (*sigmoid)(int n, float *x);
} RnnfxTrainKernels;

extern const RnnfxTrainKernels rnnfx_train_kernels_generic;
extern const RnnfxTrainKernels rnnfx_train_kernels_avx2;
extern const RnnfxTrainKernels rnnfx_train_kernels_avx512;

/* Best table for this CPU (CPUID is read on each call, which is cheap and
 * needs no shared state); RNNFX_TRAIN_KERNELS=generic|avx2|avx512 in the
 * environment forces one, capped at what the CPU has (tests compare them). */
const RnnfxTrainKernels *rnnfx_train_kernels_select(void);

/* ---- the network seen by the trainer (train_net.c) ------------------------ */

typedef struct {
    RnnfxCell cell;
    int H, G, K;   /* hidden, gate blocks, input width */
    int peephole, relu;
    size_t o_wih, o_whh, o_bih, o_bhh, o_peep, o_h0, o_c0; /* offsets; (size_t)-1 absent */
    float *wih_t;  /* [K][G*H]  W_ihᵀ, refreshed from the params after each update */
    float *whh_t;  /* [H][G*H]  W_hhᵀ */
    float *bsum;   /* [G*H]     b_ih + b_hh (LSTM, RNN) */
} RnnfxTrainLayer;

typedef struct {
    const RnnfxModel *model;
    const float *params; /* the model's flat array */
    size_t n_params;
    int L, in, out, skip, sigmoid;
    float in_gain, out_gain;
    RnnfxTrainLayer layer[RNNFX_MAX_LAYERS];
    size_t o_dw, o_db; /* dense weight [out][H_L], bias [out] */
    float *dw_t;       /* [H_L][out] */
    uint8_t *trained;  /* [n_params] 1 = updated by the optimizer */
    const RnnfxTrainKernels *k;
} RnnfxTrainNet;

RnnfxStatus rnnfx_train_net_init(RnnfxTrainNet *net, const RnnfxModel *model, RnnfxError *err);
void rnnfx_train_net_free(RnnfxTrainNet *net);
/* Re-reads the weights (transposed copies, bias sums). */
void rnnfx_train_net_refresh(RnnfxTrainNet *net);

/* One row group's buffers for up to Bt rows and chunks of up to T steps. */
typedef struct {
    float *act;        /* [T][Bt][G*H] activations (LSTM: i,f,g,o; GRU: r,z,n); not RNN */
    float *ghn;        /* GRU: [T][Bt][H] (W_hn h + b_hn) */
    float *h;          /* [T+1][Bt][H] */
    float *c;          /* [T+1][Bt][H] LSTM */
    float *tc;         /* [T][Bt][H] tanh(c) LSTM */
} RnnfxTrainLayerBuf;

typedef struct {
    int Bt;  /* row capacity */
    size_t T; /* chunk capacity */
    float *x0;   /* [T][Bt][in] prepared input */
    float *tgt;  /* [T][Bt][out] targets */
    float *y;    /* [T][Bt][out] model output (after gain and skip) */
    float *z;    /* [T][Bt][out] dense output (after sigmoid if any, before skip/gain) */
    float *dy;   /* [T][Bt][out] loss gradient wrt y (or wrt the pre-sigmoid for BCE) */
    float *yprev, *tprev; /* [Bt][out] last output/target before the chunk (pre-emphasis) */
    RnnfxTrainLayerBuf lb[RNNFX_MAX_LAYERS];
    float *dh;   /* [T][Bt][Hmax] gradient on a layer's outputs */
    float *dx;   /* [T][Bt][Hmax] gradient on a layer's inputs */
    float *dcn;  /* [Bt][Hmax] LSTM cell gradient carried back */
    float *dtmp; /* [Bt][Hmax] scratch */
    float *blk_a, *blk_b; /* [block rows][GHmax] pre-activations / their gradients
                             for one time block (see rnnfx_train_tblock) */
    float *grad; /* [n_params] this group's gradient for the current chunk */
    void *block;
} RnnfxTrainWork;

RnnfxStatus rnnfx_train_work_init(RnnfxTrainWork *w, const RnnfxTrainNet *net, int Bt, size_t T,
                                  RnnfxError *err);
void rnnfx_train_work_free(RnnfxTrainWork *w);
/* Sets the carried state of rows [0,Bt) to the model's initial state. */
void rnnfx_train_work_reset(RnnfxTrainWork *w, const RnnfxTrainNet *net, int Bt);
/* Forward over T steps for Bt rows from w->x0, starting from the state in
 * h[0] (c[0]) of each layer; fills the caches and w->y, w->z. The state at
 * the chunk end is in h[T] (c[T]); rnnfx_train_work_carry moves it to h[0]
 * once the backward pass is done with the caches. */
void rnnfx_train_forward_chunk(const RnnfxTrainNet *net, RnnfxTrainWork *w, int Bt, size_t T);
/* Backward from w->dy over the chunk just run; adds to w->grad. */
void rnnfx_train_backward_chunk(const RnnfxTrainNet *net, RnnfxTrainWork *w, int Bt, size_t T,
                                int dy_is_presigmoid);
/* Moves the state at the chunk end (h[T], c[T]) to h[0], c[0]. */
void rnnfx_train_work_carry(const RnnfxTrainNet *net, RnnfxTrainWork *w, int Bt, size_t T);

/* Per-layer passes (train_lstm.c, train_gru.c, train_rnn.c, train_dense.c).
 * forward: x [T][Bt][K] -> the layer's caches and h[1..T].
 * backward: dh [T][Bt][H] gradient on h[1..T] from above (used as scratch:
 * each step adds its recurrent part to the step before) -> adds weight
 * gradients to w->grad and, if dx is not NULL, writes the input gradient
 * dx [T][Bt][K]. */
void rnnfx_train_lstm_forward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                              RnnfxTrainWork *w, const float *x, int Bt, size_t T);
void rnnfx_train_lstm_backward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                               RnnfxTrainWork *w, const float *x, float *dh, float *dx,
                               int Bt, size_t T);
void rnnfx_train_gru_forward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                              RnnfxTrainWork *w, const float *x, int Bt, size_t T);
void rnnfx_train_gru_backward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                              RnnfxTrainWork *w, const float *x, float *dh, float *dx,
                               int Bt, size_t T);
void rnnfx_train_rnn_forward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                              RnnfxTrainWork *w, const float *x, int Bt, size_t T);
void rnnfx_train_rnn_backward(const RnnfxTrainNet *net, int l, RnnfxTrainLayerBuf *b,
                              RnnfxTrainWork *w, const float *x, float *dh, float *dx,
                               int Bt, size_t T);
void rnnfx_train_dense_forward(const RnnfxTrainNet *net, RnnfxTrainWork *w, const float *hL,
                               int Bt, size_t T);
void rnnfx_train_dense_backward(const RnnfxTrainNet *net, RnnfxTrainWork *w, const float *hL,
                                float *dhL, int Bt, size_t T, int dy_is_presigmoid);

/* ---- losses (train_loss.c) ------------------------------------------------ */

/* Batch-wide normalisers of a chunk, computed from the targets alone before
 * the workers run, so every worker's partial loss adds up to the batch loss. */
typedef struct {
    double energy;   /* ESR: Σ (pre-emphasised) t² + eps over batch, chunk, channels */
    double dc_energy; /* ESR DC: mean t² + eps */
    double count;    /* MSE: B·T·C;  BCE: B·T */
    int B;           /* rows in the whole batch */
} RnnfxLossNorm;

/* Adds one row-chunk of targets to the normaliser sums: t [T][stride]
 * (channel c at t[n*stride + c]), tprev = target just before (0 at a segment
 * start). Call rnnfx_loss_norm_finish once after all rows. */
void rnnfx_loss_norm_add(RnnfxLossNorm *nrm, const RnnfxTrainConfig *cfg, const float *t,
                         size_t stride, size_t T, int C, const float *tprev);
void rnnfx_loss_norm_finish(RnnfxLossNorm *nrm, const RnnfxTrainConfig *cfg, size_t T, int C);

/* This worker's share of the chunk loss and dy [T][Bt][C] (y, z, tgt in the
 * work buffers). For BCE dy is the gradient wrt the pre-sigmoid value. */
double rnnfx_loss_chunk(const RnnfxTrainConfig *cfg, const RnnfxLossNorm *nrm,
                        const RnnfxTrainNet *net, RnnfxTrainWork *w, int Bt, size_t T);

/* ---- optimiser (train_adam.c) ------------------------------------------- */

/* Global gradient norm (double accumulation) over trained entries. */
double rnnfx_grad_norm(const float *grad, const uint8_t *trained, size_t n);
/* One Adam step on params with moments m, v (step counted from 1). */
void rnnfx_adam_step(float *params, const float *grad, float *m, float *v, const uint8_t *trained,
                     size_t n, uint64_t step, float lr, float gscale, const RnnfxTrainConfig *cfg);

/* Time steps per block in the layer passes: the input projection (forward)
 * and the weight gradients (backward) are done per block of about 256 rows
 * right next to the time steps that make or use them, while those rows are
 * still in cache, instead of in one pass over the whole chunk. */
static inline size_t rnnfx_train_tblock(int Bt)
{
    return Bt >= 256 ? 1 : (size_t)(256 / Bt);
}

/* ---- small deterministic RNG (splitmix64) -------------------------------- */
static inline uint64_t train_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* Uniform in [0,1) with 24 bits. */
static inline float train_rng_uniform(uint64_t *s) { return (float)(train_rng_next(s) >> 40) * (1.0f / 16777216.0f); }

#endif

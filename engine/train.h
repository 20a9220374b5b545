/*
 * train.h — training a model on input/target sequences, on the CPU.
 *
 * The trainer runs truncated backpropagation through time (TBPTT) over
 * mini-batches of fixed-length segments cut from a set of sequences:
 *
 *   segment (segment_len samples, starts from the model's initial state)
 *   |-- burn_in --|-- tbptt --|-- tbptt --|-- ... --|
 *    no loss        forward, loss, backward, one Adam step; the state is
 *                   carried into the next chunk, the gradient is not.
 *
 * A batch is `batch` segments processed side by side as matrices, in fixed
 * groups of 8 segments; `threads` threads take groups as they come free,
 * each group accumulates its own gradient, and the group gradients are
 * summed in group order, so a run is bit-for-bit repeatable for a given
 * seed and data whatever the thread count (on the same kernels: AVX-512,
 * AVX2 and plain C round differently). More than batch/8 threads cannot
 * help.
 *
 * The trainer updates the model's weights in place (rnnfx_model_params()
 * order; initial_h/initial_c are not trained, input_gain/output_gain are
 * fixed factors) and leaves the model finalized after each call that
 * changes it, so instances and rnnfx_trainer_evaluate() can use it between
 * calls. No instance may run the model *during* a trainer call.
 *
 * Memory: each group of 8 segments holds, for one chunk of tbptt samples,
 * the activations the backward pass needs (about
 * (G+3)·H floats per layer per row-sample for LSTM, (G+2)·H for GRU, H for
 * RNN) plus small block buffers; e.g. LSTM-32, batch 32, tbptt 512: about
 * 17 MB in all (measured peak RSS minus the data), whatever the thread
 * count. It does not grow with the length of the recordings (the sequences
 * are read in place, and the epoch plan costs 16 bytes per segment);
 * tbptt = 0 makes the chunk the whole segment after the burn-in, so memory
 * then grows with segment_len.
 *
 * Speed (this machine class, one core, AVX-512 kernels, batch 32, segment
 * 4096, tbptt 512): about 1.6 M training samples per CPU-second for an
 * LSTM-32 and 3 M for a GRU-32. A second thread helps as far as a second
 * core is free: on the shared two-vCPU development machine it added 0-40 %.
 *
 * This is not the command-line program (tools/rnnfx-train.c): it reads no
 * files except checkpoints, prints nothing, does no alignment or
 * normalisation, and keeps no "best model" (the caller clones the model when
 * validation improves).
 *
 * Thread: every function here is for a non-audio thread, one caller at a
 * time per trainer, except rnnfx_trainer_request_stop (any thread, and
 * async-signal-safe).
 */
#ifndef RNNFX_TRAIN_H
#define RNNFX_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "status.h"

typedef enum {
    /* Error-to-signal ratio over the chunk and the batch, summed over output
     * channels:  Σ(t−p)² / (Σt² + 1e-10), both sums on pre-emphasised
     * signals when preemph > 0 (e[n] = x[n] − preemph·x[n−1]), plus
     * dc_weight · DC where DC = mean_b (mean_n (t−p))² / (mean t² + 1e-10)
     * on the raw signals. Loss = ESR + dc_weight·DC. */
    RNNFX_LOSS_ESR = 0,
    /* Mean squared error over samples and output channels. */
    RNNFX_LOSS_MSE,
    /* Binary cross-entropy for MIDI frames; the model must have
     * output_sigmoid = 1, targets in [0,1]. Summed over output channels,
     * averaged over frames (and batch). */
    RNNFX_LOSS_BCE
} RnnfxLossKind;

typedef enum {
    RNNFX_LR_CONSTANT = 0,
    RNNFX_LR_COSINE,      /* lr_min + (lr − lr_min)·(1 + cos(π·p))/2 */
    RNNFX_LR_EXPONENTIAL, /* lr · (lr_min/lr)^p */
    RNNFX_LR_PLATEAU      /* ×plateau_factor after plateau_patience validations
                             without improvement, never below lr_min */
} RnnfxLrSchedule;

typedef struct {
    /* --- segments and truncation ------------------------------------------ */
    size_t segment_len; /* samples per segment, burn-in included (e.g. 4096) */
    size_t burn_in;     /* samples at each segment start with no loss */
    size_t tbptt;       /* an Adam step every tbptt samples after burn-in;
                           0 = one step per segment */
    int batch;          /* segments per batch (>= 1) */

    /* --- optimizer (Adam) --------------------------------------------------- */
    float lr;             /* peak learning rate (e.g. 5e-3) */
    float lr_min;         /* floor of the schedule */
    RnnfxLrSchedule schedule;
    /* For COSINE/EXPONENTIAL: progress p = step / total_steps, unless the
     * caller drives p itself with rnnfx_trainer_set_progress() (time budget).
     * 0 = the caller drives p. */
    uint64_t total_steps;
    int plateau_patience; /* PLATEAU: validations without improvement (e.g. 3) */
    float plateau_factor; /* PLATEAU: multiplier (e.g. 0.5) */
    float beta1, beta2, eps; /* 0.9, 0.999, 1e-8 */
    float weight_decay;   /* 0 = none */
    int decoupled_wd;     /* 1: AdamW (w −= lr·wd·w); 0: L2 added to the gradient */
    float clip;           /* global gradient-norm limit; 0 = no clipping */

    /* --- loss ----------------------------------------------------------------- */
    RnnfxLossKind loss;
    float preemph;   /* ESR: pre-emphasis coefficient a (0 = off, e.g. 0.85) */
    float dc_weight; /* ESR: weight of the DC term (0 = off) */

    /* --- run ------------------------------------------------------------------ */
    int threads;   /* threads (>= 1); the results do not depend on this number */
    uint64_t seed; /* segment order and offsets */
} RnnfxTrainConfig;

/* One input/target pair, row-major: input[n][input_size],
 * target[n][output_size]. A conditioned capture is several sequences with
 * the knob values already written into input channels 1.. */
typedef struct {
    const float *input;
    const float *target;
    size_t n;
} RnnfxTrainSeq;

/* A set of sequences. The trainer does not copy the samples: they must stay
 * valid and unchanged while a trainer call uses the set. */
typedef struct {
    const RnnfxTrainSeq *seqs;
    size_t n_seqs;
} RnnfxTrainSet;

/* What one rnnfx_trainer_train() call did. */
typedef struct {
    double loss;         /* mean training loss of the Adam steps of this call */
    uint64_t steps;      /* Adam steps taken in this call */
    uint64_t skipped;    /* steps skipped for a non-finite loss or gradient (the
                            weights kept; loss and step count leave them out) */
    uint64_t samples;    /* segment samples processed (burn-in included) */
    double seconds;      /* wall time of this call */
    double grad_norm;    /* global gradient norm of the last step (before clipping) */
    float lr;            /* learning rate of the last step */
    int epoch_done;      /* 1 if this call finished an epoch */
    int stopped;         /* 1 if a stop request ended the call early */
} RnnfxTrainStats;

/* Engine-forward evaluation of a model on a set (each sequence from the
 * model's initial state). The first burn_in samples of each sequence are
 * run but not scored. Sums are over all output channels. */
typedef struct {
    double esr;      /* Σ(t−p)² / Σt² (no pre-emphasis) */
    double esr_preemph; /* the same on signals pre-emphasised with config preemph
                           (equals esr when evaluated without a config) */
    double mse;      /* mean over samples and channels */
    double bce;      /* mean BCE per frame summed over channels; 0 unless the
                        model has output_sigmoid */
    double loss;     /* the configured training loss, on whole sequences */
    size_t samples;  /* scored samples (frames) */
} RnnfxEvalResult;

typedef struct RnnfxTrainer RnnfxTrainer;

/* Fills *cfg with the default recipe (see train_loop.c for the reasons):
 * segment 4096, burn-in 512, tbptt 512, batch 32, Adam lr 5e-3 cosine to
 * 1e-4, clip 1.0, no weight decay, ESR loss without pre-emphasis or DC,
 * threads 2, seed 1. Thread: any. */
void rnnfx_train_config_default(RnnfxTrainConfig *cfg);

/* Checks a config against a model (segment longer than burn-in, sizes,
 * BCE only with sigmoid outputs ...). Thread: any. */
RnnfxStatus rnnfx_train_config_check(const RnnfxTrainConfig *cfg, const RnnfxModel *model,
                                     RnnfxError *err);

/* PyTorch-like random initialisation of every trained tensor (uniform
 * ±1/sqrt(H) for recurrent layers and peepholes, ±1/sqrt(fan_in) for the
 * dense layer), initial state zero, then finalize. Deterministic for a seed.
 * Thread: not audio, no instance may run the model. */
RnnfxStatus rnnfx_model_init_random(RnnfxModel *model, uint64_t seed, RnnfxError *err);

/* Creates a trainer for `model` (which it updates in place; the caller keeps
 * ownership and must keep it alive until rnnfx_trainer_free). Starts worker
 * threads. Thread: not audio. */
RnnfxStatus rnnfx_trainer_new(RnnfxModel *model, const RnnfxTrainConfig *cfg,
                              RnnfxTrainer **out, RnnfxError *err);
void rnnfx_trainer_free(RnnfxTrainer *tr); /* NULL is a no-op */

const RnnfxTrainConfig *rnnfx_trainer_config(const RnnfxTrainer *tr);
RnnfxModel *rnnfx_trainer_model(RnnfxTrainer *tr);

/* Trains on `set`: up to max_batches batches (0 = until the current epoch
 * ends). Epoch position, segment order and rng live in the trainer, so
 * repeated calls with small max_batches walk through the same epoch as one
 * big call would (useful for wall-clock budgets and progress bars). Each
 * epoch draws a new segment order and offsets from the rng. A set with no
 * sequence at least segment_len long is an error. On return the model is
 * finalized. Thread: not audio. */
RnnfxStatus rnnfx_trainer_train(RnnfxTrainer *tr, const RnnfxTrainSet *set, size_t max_batches,
                                RnnfxTrainStats *stats, RnnfxError *err);

/* Number of batches in one epoch of `set` (0 if no sequence is long enough).
 * Thread: any. */
size_t rnnfx_trainer_batches_per_epoch(const RnnfxTrainer *tr, const RnnfxTrainSet *set);

/* Asks a running rnnfx_trainer_train() to return after the current Adam step
 * (stats->stopped = 1, the model consistent and finalized). The request stays
 * set until rnnfx_trainer_clear_stop(). Thread: any, async-signal-safe. */
void rnnfx_trainer_request_stop(RnnfxTrainer *tr);
void rnnfx_trainer_clear_stop(RnnfxTrainer *tr);

/* For COSINE/EXPONENTIAL schedules driven by the caller (total_steps = 0):
 * progress in [0,1], e.g. elapsed / budget. Thread: not audio. */
void rnnfx_trainer_set_progress(RnnfxTrainer *tr, double progress);

/* Reports a validation loss (PLATEAU schedule: counts validations without
 * improvement and lowers the rate). Returns 1 if it is the best so far.
 * Thread: not audio. */
int rnnfx_trainer_report_validation(RnnfxTrainer *tr, double val_loss);

/* Learning rate the next step will use, Adam steps so far, epochs done. */
float rnnfx_trainer_lr(const RnnfxTrainer *tr);
uint64_t rnnfx_trainer_steps(const RnnfxTrainer *tr);
uint64_t rnnfx_trainer_epochs(const RnnfxTrainer *tr);

/* Evaluates a finalized model with the engine's own forward pass (an
 * instance's process_frames on the default fast kernels: the numbers the
 * plugin will produce), on up to `threads` threads (sequences shared out;
 * results independent of the thread count). Each sequence starts from the
 * model's initial state. cfg may be NULL (ESR loss without pre-emphasis/DC).
 * Thread: not audio. */
RnnfxStatus rnnfx_trainer_evaluate(const RnnfxModel *model, const RnnfxTrainSet *set,
                                   size_t burn_in, const RnnfxTrainConfig *cfg, int threads,
                                   RnnfxEvalResult *res, RnnfxError *err);

/* Checkpoints: weights, Adam moments, step, epoch position, rng, schedule
 * state and an optional caller text (e.g. JSON with the CLI's own state:
 * best validation, loss history). Written atomically (temporary file +
 * rename). Loading requires the same architecture, batch, segment and
 * chunk lengths (the thread count may differ: results do not depend on it);
 * on success the model's weights are replaced and finalized and
 * *extra (if not NULL) receives a malloc'd copy of the caller text (or NULL
 * if none; free it). Thread: not audio. */
RnnfxStatus rnnfx_trainer_save_checkpoint(const RnnfxTrainer *tr, const char *path,
                                          const char *extra, RnnfxError *err);
RnnfxStatus rnnfx_trainer_load_checkpoint(RnnfxTrainer *tr, const char *path, char **extra,
                                          RnnfxError *err);

/* --- lower level: one forward/backward on explicit data (tests, tools) ---- */

/* Computes the loss and the gradient of one batch of B sequence windows
 * exactly as a training step does, without changing the model: each window b
 * is in[b][T][input_size] / target[b][T][output_size], runs from the model's
 * initial state, the first burn_in samples are unscored and not
 * backpropagated through (state carried), then each chunk of tbptt samples
 * (0 = all the rest) adds its loss and its truncated gradient. grad receives
 * the SUM over chunks of d(chunk loss)/d(param), in rnnfx_model_params()
 * order (entries for initial_h/initial_c are 0). *loss receives the sum of
 * chunk losses. Thread: not audio. */
RnnfxStatus rnnfx_train_loss_grad(const RnnfxModel *model, const RnnfxTrainConfig *cfg,
                                  const float *in, const float *target, int B, size_t T,
                                  double *loss, float *grad, RnnfxError *err);

/* The trainer's forward pass alone (from the initial state): out[b][T][out].
 * Used to test it against the engine. Thread: not audio. */
RnnfxStatus rnnfx_train_forward(const RnnfxModel *model, const float *in, int B, size_t T,
                                float *out, RnnfxError *err);

#endif

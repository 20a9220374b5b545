/*
 * instance.h — one running copy of a model: recurrent state and scratch.
 *
 * An instance never owns or changes its model; many instances (stereo
 * channels, several plugin instances) share one finalized model. All memory
 * an instance needs is planned by rnnfx_instance_size() and carved from one
 * block at init, so process/reset/set_param never allocate, lock, print,
 * touch files or do work that grows with anything but the block length.
 *
 * Numerics on the audio path:
 *   - non-finite input samples are treated as 0, non-finite outputs are
 *     written as 0, and if the state ever becomes non-finite the instance
 *     resets itself at the end of the block (of each 1024-sample chunk of a
 *     longer block), so one NaN cannot poison it forever;
 *   - on x86 the FTZ/DAZ flags are set for the duration of a process call and
 *     restored afterwards, so decaying state never hits denormal slow paths.
 */
#ifndef RNNFX_INSTANCE_H
#define RNNFX_INSTANCE_H

#include <stddef.h>

#include "model.h"

typedef struct RnnfxInstance RnnfxInstance;

/* Which kernels an instance runs. */
typedef enum {
    RNNFX_PATH_REFERENCE = 0, /* plain C, libm activations: the reference */
    RNNFX_PATH_FAST           /* best SIMD kernels this CPU has (default) */
} RnnfxPath;

/* Bytes needed for an instance of this finalized model (includes alignment
 * slack). Thread: any. */
size_t rnnfx_instance_size(const RnnfxModel *model);

/* Builds an instance inside caller-owned memory of rnnfx_instance_size()
 * bytes (any alignment). Returns NULL if the model is not finalized or the
 * memory is too small. The state starts as after reset. Thread: any; does not
 * allocate. */
RnnfxInstance *rnnfx_instance_init(void *mem, size_t size, const RnnfxModel *model);

/* Convenience: allocates and inits. Thread: not audio. */
RnnfxInstance *rnnfx_instance_new(const RnnfxModel *model);
/* Frees an instance made by _new; NULL is a no-op, and so is an instance
 * built by _init in caller memory (the caller owns that memory).
 * Thread: not audio. */
void rnnfx_instance_free(RnnfxInstance *inst);

/* The model the instance runs. Thread: any. */
const RnnfxModel *rnnfx_instance_model(const RnnfxInstance *inst);

/* Chooses kernels (default RNNFX_PATH_FAST; the reference path if the model
 * has no packed kernels). Thread: the thread that processes, between
 * process calls; audio-safe. */
void rnnfx_instance_set_path(RnnfxInstance *inst, RnnfxPath path);
/* The path in use, and the name of its kernels: "reference", "avx512",
 * "avx2", "generic". Thread: the processing thread (or any, while it does
 * not change the path); audio-safe. */
RnnfxPath rnnfx_instance_path(const RnnfxInstance *inst);
const char *rnnfx_instance_kernel_name(const RnnfxInstance *inst);

/* Returns the recurrent state to that of a fresh instance (the model's
 * initial state). Knob values are kept. Thread: audio-safe. */
void rnnfx_instance_reset(RnnfxInstance *inst);

/* Sets conditioning knob `index` (0-based, input 1 + index) to `value`
 * (clamped to the knob's range; NaN is ignored). Held until changed. Work is
 * O(gates x hidden x knobs), and none when the value is unchanged.
 * Thread: audio-safe. */
void rnnfx_instance_set_param(RnnfxInstance *inst, int index, float value);
/* The held value of knob `index` (0 for an index the model does not have).
 * Thread: the processing thread; audio-safe. */
float rnnfx_instance_param(const RnnfxInstance *inst, int index);

/* Audio path: mono in[n] -> out[n] (output channel 0), knobs from
 * set_param. n may be 0. in and out may be the same buffer.
 * Thread: audio-safe. */
void rnnfx_instance_process(RnnfxInstance *inst, const float *in, float *out, size_t n);

/* Audio path for two channels (a stereo chain's): exactly
 * rnnfx_instance_process(a, in_a, out_a, n) and then
 * rnnfx_instance_process(b, in_b, out_b, n), the same output and state bit
 * for bit, for any n (including 0) and any block split. When a and b run
 * the same model on the fast path and its kernels have a pair form (today:
 * one LSTM or GRU layer of up to 16 units on AVX2, up to 24 on AVX-512),
 * the two channels run in one time loop, which lets the CPU overlap their dependency chains;
 * otherwise the two calls are made. in_a and out_a may be the same buffer,
 * and so may in_b and out_b; a's buffers must not overlap b's, and a and b
 * must be different instances. Thread: audio-safe. */
void rnnfx_instance_process_pair(RnnfxInstance *a, RnnfxInstance *b, const float *in_a,
                                 const float *in_b, float *out_a, float *out_b, size_t n);

/* 1 when two fresh instances of the finalized `model` would run in one
 * time loop through rnnfx_instance_process_pair (a pair kernel exists for
 * its shape on this CPU), else 0: where running two channels together
 * costs less than one after the other. Thread: any. */
int rnnfx_model_runs_paired(const RnnfxModel *model);

/* General path: in[n][input_size] -> out[n][output_size], row-major. All
 * inputs come from `in` (knob values are not used). in and out must not
 * overlap. Thread: audio-safe. */
void rnnfx_instance_process_frames(RnnfxInstance *inst, const float *in, float *out, size_t n);

/* Direct state access for tests, the trainer and generation: the hidden
 * state h (and cell state c for LSTM layers; NULL otherwise) of a layer.
 * Thread: the processing thread. */
float *rnnfx_instance_hidden(RnnfxInstance *inst, int layer);
float *rnnfx_instance_cell(RnnfxInstance *inst, int layer);

#endif

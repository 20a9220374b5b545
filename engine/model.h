/*
 * model.h — an immutable recurrent model: architecture, weights, metadata.
 *
 * A model is a stack of recurrent layers (LSTM, GRU or vanilla RNN) followed
 * by one dense layer, with an optional residual skip and AIDA-X style input
 * and output gains:
 *
 *     x'  = x with channel 0 scaled by input_gain
 *     h_1 = layer_1(x'), ..., h_L = layer_L(h_{L-1})
 *     y   = output_gain * (act(W_d h_L + b_d) + skip * x'[0])
 *
 * where act is the identity (audio) or a sigmoid (MIDI-frame models). The
 * skip adds input channel 0 to every output.
 *
 * Weights use PyTorch's layout and gate order exactly, so a torch.nn.LSTM /
 * GRU / RNN state_dict maps onto a model with no reshuffling:
 *   LSTM: gates i, f, g, o;  weight_ih [4H][in], weight_hh [4H][H]
 *   GRU:  gates r, z, n;     weight_ih [3H][in], weight_hh [3H][H]
 *         (reset-after form: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)))
 *   RNN:  weight_ih [H][in], weight_hh [H][H], tanh or ReLU
 * Peephole LSTM (Gers & Schmidhuber; Graves 2013): diagonal peephole weights
 * p_i, p_f, p_o; i and f see c_{t-1}, o sees the new c_t:
 *   i = σ(W_ii x + b_ii + W_hi h + b_hi + p_i ⊙ c_{t-1})
 *   f = σ(W_if x + b_if + W_hf h + b_hf + p_f ⊙ c_{t-1})
 *   g = tanh(W_ig x + b_ig + W_hg h + b_hg)
 *   c_t = f ⊙ c_{t-1} + i ⊙ g
 *   o = σ(W_io x + b_io + W_ho h + b_ho + p_o ⊙ c_t)
 *   h_t = o ⊙ tanh(c_t)
 *
 * Life cycle:
 *   1. rnnfx_model_new(arch) allocates every tensor, zero-filled, in one block;
 *   2. the caller (a file reader, an importer, the trainer) fills tensors via
 *      rnnfx_model_tensor() / rnnfx_model_params() and metadata via
 *      rnnfx_model_meta();
 *   3. rnnfx_model_finalize() validates values (all finite) and builds the
 *      packed copies the fast kernels use. From then on the model is treated
 *      as immutable and may be shared by any number of instances on any
 *      threads. (The trainer may change weights and call finalize again
 *      while no instance runs: finalize replaces the packed copies, so an
 *      instance made before it must be made anew.)
 *
 * This file depends on libc only.
 */
#ifndef RNNFX_MODEL_H
#define RNNFX_MODEL_H

#include <stddef.h>

#include "status.h"

/* Safety limits: a model file claiming more is rejected before allocating. */
#define RNNFX_MAX_LAYERS 8
#define RNNFX_MAX_HIDDEN 1024
#define RNNFX_MAX_INPUTS 512
#define RNNFX_MAX_OUTPUTS 512
#define RNNFX_MAX_PARAMS 8 /* named conditioning inputs (knobs) */
#define RNNFX_NAME_LEN 64

typedef enum { RNNFX_CELL_LSTM = 0, RNNFX_CELL_GRU, RNNFX_CELL_RNN } RnnfxCell;

/* What the model's frames are. */
typedef enum {
    RNNFX_KIND_AUDIO = 0,  /* input 0 is audio, inputs 1.. are conditioning knobs */
    RNNFX_KIND_MIDI_FRAMES /* inputs and outputs are piano-roll frames */
} RnnfxKind;

typedef struct {
    RnnfxCell cell;
    int hidden_size;
    int peephole; /* LSTM only: 1 adds diagonal peephole weights */
    int relu;     /* RNN only: 1 = ReLU, 0 = tanh */
} RnnfxLayerDesc;

/* A named conditioning input (a knob). Input index = 1 + position. */
typedef struct {
    char name[RNNFX_NAME_LEN];
    float min, max, def;
} RnnfxParamDesc;

typedef struct {
    RnnfxKind kind;
    int input_size;  /* >= 1; for audio: 1 + n_params */
    int output_size; /* >= 1 */
    int n_layers;    /* 1 .. RNNFX_MAX_LAYERS */
    RnnfxLayerDesc layers[RNNFX_MAX_LAYERS];
    int skip;           /* 1: y += x'[0] (before output_gain) */
    int output_sigmoid; /* 1: sigmoid on the dense output (MIDI frames) */
    int n_params;       /* conditioning knobs described below */
    RnnfxParamDesc params[RNNFX_MAX_PARAMS];
} RnnfxArch;

/* MIDI-frame models: the grid and key range the frames were cut on. */
typedef struct {
    int steps_per_quarter; /* 1 = quarter notes, 2 = eighths, 4 = sixteenths */
    int low_key;           /* MIDI note of frame element 0 (21 = A0) */
    int n_keys;            /* 88 */
    int n_beat_features;   /* extra inputs after the keys (beat position) */
} RnnfxMidiInfo;

/* Descriptive data; none of it changes the numbers a model produces except
 * input_gain/output_gain (linear factors). */
typedef struct {
    double sample_rate; /* the rate the model was trained at, Hz (audio) */
    int sample_rate_assumed; /* 1: the file states no rate, so sample_rate is
                                the loader's default (or the caller's
                                default_sample_rate); set by the loaders */
    float input_gain;   /* linear, applied to input channel 0; 1.0 default */
    float output_gain;  /* linear, applied to every output; 1.0 default */
    char name[128];
    char author[128];
    char date[64];         /* ISO 8601 */
    char description[1024];
    char source_format[32]; /* "rnnfx", "aidax", "coreaudioml", "nam" */
    double esr;            /* training/test error-to-signal ratio; < 0 unknown */
    /* Levels a player may act on (Neural Amp Modeler files carry them; NaN
     * unknown): the output's loudness in dB, and the interface levels in
     * dBu that 0 dBFS stood for when the device was captured. */
    double loudness_db, input_level_dbu, output_level_dbu;
    char training[4096];   /* a JSON object as text (trainer settings), or "" */
    RnnfxMidiInfo midi;
} RnnfxMeta;

/* The tensors of one model. Layer tensors are indexed by layer; dense ones
 * take layer = -1. */
typedef enum {
    RNNFX_T_WEIGHT_IH = 0, /* [G*H][in]  G = 4 (LSTM), 3 (GRU), 1 (RNN) */
    RNNFX_T_WEIGHT_HH,     /* [G*H][H] */
    RNNFX_T_BIAS_IH,       /* [G*H] */
    RNNFX_T_BIAS_HH,       /* [G*H] */
    RNNFX_T_PEEPHOLE,      /* [3][H] rows p_i, p_f, p_o (peephole LSTM only) */
    RNNFX_T_INITIAL_H,     /* [H]  state after reset (zero unless imported) */
    RNNFX_T_INITIAL_C,     /* [H]  LSTM only */
    RNNFX_T_DENSE_W,       /* [out][H_last]  (layer = -1) */
    RNNFX_T_DENSE_B,       /* [out]          (layer = -1) */
    RNNFX_T_COUNT
} RnnfxTensor;

typedef struct RnnfxModel RnnfxModel;

/* Number of gate blocks for a cell: 4, 3 or 1; and its name ("lstm",
 * "gru", "rnn"). Thread: any. */
int rnnfx_cell_gates(RnnfxCell cell);
const char *rnnfx_cell_name(RnnfxCell cell);

/* Checks an architecture against the limits and itself. Thread: any. */
RnnfxStatus rnnfx_arch_check(const RnnfxArch *arch, RnnfxError *err);

/* Fills *arch with a one-layer audio model (input 1, output 1, no knobs).
 * Thread: any. */
void rnnfx_arch_init_audio(RnnfxArch *arch, RnnfxCell cell, int hidden, int skip);

/* Allocates a zero-weight model (default metadata: 48 kHz, unit gains,
 * esr = -1). Thread: not audio (allocates). */
RnnfxStatus rnnfx_model_new(const RnnfxArch *arch, RnnfxModel **out, RnnfxError *err);

/* Frees a model; NULL is a no-op. No instance may still use it.
 * Thread: not audio. */
void rnnfx_model_free(RnnfxModel *model);

/* Deep copy (weights, metadata; finalized if the source was). Not audio. */
RnnfxStatus rnnfx_model_clone(const RnnfxModel *src, RnnfxModel **out, RnnfxError *err);

/* The architecture (fixed at _new) and the metadata. Thread: any. Writing
 * the metadata follows the rule of the tensors below: instances read
 * input_gain/output_gain on every process call, so change them only before
 * finalize or while no instance runs the model. */
const RnnfxArch *rnnfx_model_arch(const RnnfxModel *model);
RnnfxMeta *rnnfx_model_meta(RnnfxModel *model);
const RnnfxMeta *rnnfx_model_meta_const(const RnnfxModel *model);

/* A tensor's storage and shape (rows x cols; vectors have rows = 1).
 * Returns NULL for a tensor the layer does not have (e.g. PEEPHOLE on a GRU).
 * Thread: any; writing is allowed only before finalize or while no instance
 * runs the model. */
float *rnnfx_model_tensor(RnnfxModel *model, int layer, RnnfxTensor t, int *rows, int *cols);
const float *rnnfx_model_tensor_const(const RnnfxModel *model, int layer, RnnfxTensor t,
                                      int *rows, int *cols);
/* Offset of a tensor inside the flat parameter array (for the trainer);
 * SIZE_MAX for a tensor the layer does not have. Thread: any. */
size_t rnnfx_model_tensor_offset(const RnnfxModel *model, int layer, RnnfxTensor t);

/* All weights as one contiguous array, in this order: for each layer
 * weight_ih, weight_hh, bias_ih, bias_hh, [peephole], initial_h, [initial_c];
 * then dense_w, dense_b. Thread: any. */
float *rnnfx_model_params(RnnfxModel *model, size_t *count);
const float *rnnfx_model_params_const(const RnnfxModel *model, size_t *count);

/* Validates weights (all finite) and metadata, and builds packed copies for
 * the fast kernels. Must be called before instances are created, and again
 * after weights change; each call frees and rebuilds the packed copies, so
 * an instance made before must not run again (make it anew).
 * Thread: not audio (allocates on every call). */
RnnfxStatus rnnfx_model_finalize(RnnfxModel *model, RnnfxError *err);
/* 1 after a successful finalize (0 for NULL). Thread: any. */
int rnnfx_model_is_finalized(const RnnfxModel *model);

/* Multiply-adds per time step (all layers + dense): a CPU cost estimate.
 * Thread: any. */
double rnnfx_model_macs_per_step(const RnnfxModel *model);

/* 1 if a and b have the same kind, inputs, outputs, skip and layers (cell,
 * size, peephole, nonlinearity): the weights of one fit the other. Knob
 * names and metadata are not compared. Thread: any. */
int rnnfx_model_same_shape(const RnnfxModel *a, const RnnfxModel *b);

/* Index of a conditioning knob by name (case-insensitive), or -1.
 * Thread: any. */
int rnnfx_model_param_index(const RnnfxModel *model, const char *name);

#endif

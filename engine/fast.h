/*
 * fast.h — the fast path's contract with the rest of the engine (internal).
 *
 * The model builds an RnnfxFast at finalize: packed, padded, aligned copies
 * of its weights laid out for the kernels of the best instruction set this
 * CPU has (chosen once, at build time of the RnnfxFast, from CPUID). The
 * instance calls one function per block, so a kernel owns its time loop and
 * can keep small weight matrices in registers across samples; for the two
 * channels of a stereo chain, where the shape has a pair kernel, one
 * function runs both channels' blocks in one time loop.
 *
 * State layout shared with the reference path (instance.c): for layer l,
 * h[l] and c[l] point to float arrays of capacity rnnfx_fast_padded(H)
 * (64-byte aligned); elements H.. are zero and must stay zero. c[l] is NULL
 * for GRU/RNN layers.
 *
 * What the instance does around the call: it scales input channel 0 by the
 * model's input_gain, replaces non-finite input values by 0, applies
 * output_gain to the result and checks the state for non-finite values at
 * the end of each block. The kernel computes everything in between: every
 * layer, the dense output (with sigmoid if the arch says so) and the skip.
 *
 * Every function here may be called on the audio thread except build/free.
 */
#ifndef RNNFX_FAST_H
#define RNNFX_FAST_H

#include <stddef.h>

#include "model.h"

typedef struct RnnfxFast RnnfxFast;

/* Capacity of a padded state/gate vector for hidden size h (multiple of 16). */
static inline int rnnfx_fast_padded(int h) { return (h + 15) & ~15; }

/* Builds the packed form of a model (the model's tensors must be final).
 * Not audio: allocates. */
RnnfxStatus rnnfx_fast_build(const RnnfxModel *model, RnnfxFast **out, RnnfxError *err);
void rnnfx_fast_free(RnnfxFast *fast);

/* The packed form a finalized model holds (NULL before finalize, or when
 * no fast kernels exist for it: the instance then runs the reference path). */
const RnnfxFast *rnnfx_model_packed(const RnnfxModel *model);

/* "avx512", "avx2" or "generic"; "avx2-f16" where the AVX2 kernels read
 * fp16 weights (fast.c: kept only where the model's output moved by at most
 * 2e-5 with them). */
const char *rnnfx_fast_name(const RnnfxFast *fast);

/* The largest output change fp16 weights made on fast.c's test signal when
 * the model was packed (kept or not); 0 where none was measured. */
float rnnfx_fast_f16_error(const RnnfxFast *fast);

/* Per-instance scratch bytes the kernels need (the instance allocates it,
 * 64-byte aligned). */
size_t rnnfx_fast_scratch_size(const RnnfxFast *fast);

/* Recomputes, into scratch, whatever depends on the knob values (for example
 * layer 0's bias with the constant conditioning inputs folded in).
 * knobs[k] is input 1 + k. Called at init and whenever a knob changes. */
void rnnfx_fast_set_knobs(const RnnfxFast *fast, void *scratch, const float *knobs);

/* Returns the kernels' own per-instance state in scratch to that of a
 * fresh instance (today: the parity of the audio time steps, which picks
 * the direction of the fused kernels' sweep over a matrix larger than L1).
 * Called with the recurrent state's reset. Thread: any (no allocation,
 * O(1)). */
void rnnfx_fast_reset(const RnnfxFast *fast, void *scratch);

/* Kernel choice: the best of AVX-512 (F+VL+DQ+BW), AVX2+FMA and generic C
 * that CPUID reports, taken when the packed form is built. The environment
 * variable RNNFX_ISA=generic|avx2|avx512 caps the choice (for tests and the
 * benchmark); a cap above what the CPU has is ignored. RNNFX_FAST_STACK=0
 * turns off the kernel for stacks of small LSTM/GRU layers, so the
 * benchmark can time the general kernels against it. */

/* The level that choice gives on this CPU now: 2 AVX-512, 1 AVX2, 0 generic.
 * Other engine loops compiled per ISA (the resampler) follow it too.
 * Thread: any. */
int rnnfx_fast_isa_level(void);

/* 1 if this build and this CPU can run the kernels named isa ("generic",
 * "avx2", "avx512"). Thread: any. */
int rnnfx_fast_isa_available(const char *isa);

/* Test hook: the vector activation of the named kernels over x[n] ->
 * y[n]; which = 0 sigmoid, 1 tanh, 2 and 3 the same through the kernels'
 * second (exponent-domain) form where they have one. RNNFX_ERR_UNSUPPORTED
 * if the kernels or the form are not available here. Thread: any. */
RnnfxStatus rnnfx_fast_activation(const char *isa, int which, const float *x, float *y, size_t n);

/* Audio path: in[n] (gain applied, finite) -> out[n] (output channel 0,
 * before output_gain), knobs as last set. in may equal out. */
void rnnfx_fast_process_audio(const RnnfxFast *fast, void *scratch, float *const *h,
                              float *const *c, const float *in, float *out, size_t n);

/* One channel's arguments to the pair call below: what
 * rnnfx_fast_process_audio takes after the packed model. */
typedef struct {
    void *scratch;
    float *const *h;
    float *const *c;
    const float *in;
    float *out;
} RnnfxFastChannel;

/* 1 if this packed model has a pair kernel (the ISA's kernels for its
 * shape run two channels in one time loop). */
int rnnfx_fast_has_pair(const RnnfxFast *fast);

/* Audio path for two channels of the same packed model (each with its own
 * scratch and state), n samples each: the same outputs and states, bit for
 * bit, as rnnfx_fast_process_audio on a and then on b, in one time loop
 * that lets the CPU overlap the two channels' dependency chains. Only when
 * rnnfx_fast_has_pair(fast); a's buffers must not overlap b's. */
void rnnfx_fast_process_audio_pair(const RnnfxFast *fast, const RnnfxFastChannel *a,
                                   const RnnfxFastChannel *b, size_t n);

/* General path: in[n][input_size] (channel 0 gain applied, finite) ->
 * out[n][output_size] before output_gain. */
void rnnfx_fast_process_frames(const RnnfxFast *fast, void *scratch, float *const *h,
                               float *const *c, const float *in, float *out, size_t n);

#endif

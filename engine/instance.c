/*
 * instance.c — running a model: state, the reference path, and the guards
 * around both paths (see instance.h).
 *
 * The reference path is deliberately plain: PyTorch's equations written as
 * loops over the model's own (PyTorch-layout) tensors, with libm's expf and
 * tanhf. It is what the fast kernels are tested against and what the
 * benchmark calls "naive". The fast path (fast.h) owns its time loop; this
 * file only prepares inputs in chunks and checks outputs and state.
 *
 * Memory: one block, planned by layout() and carved in the same order by
 * init, so size and init can never disagree.
 */
#include "instance.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fast.h"
#include "fpmode.h"

/* Samples (audio) or floats (frames) prepared per kernel call: bounded work
 * per call, and a scratch buffer that does not grow with the block. */
#define CHUNK_FLOATS 1024
#define ALIGN 64

struct RnnfxInstance {
    const RnnfxModel *model;
    const RnnfxFast *fast; /* NULL: reference only */
    RnnfxPath path;
    int owned; /* allocated by _new */
    float *h[RNNFX_MAX_LAYERS];
    float *c[RNNFX_MAX_LAYERS]; /* NULL for GRU/RNN */
    float *gates;               /* [4 * Hmax] reference scratch */
    float *gates_hh;            /* [3 * Hmax] GRU recurrent part */
    float *xvec;                /* [input_size] one reference input frame */
    float *chunk;               /* [CHUNK_FLOATS] prepared inputs */
    void *fast_scratch;
    float knobs[RNNFX_MAX_PARAMS];
};

static size_t align_up(size_t n) { return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

/* Plans (base == NULL) or carves (base != NULL) the instance memory.
 * Returns the bytes needed from an ALIGN-aligned base. */
static size_t layout(const RnnfxModel *m, unsigned char *base, RnnfxInstance *inst)
{
    const RnnfxArch *a = rnnfx_model_arch(m);
    const RnnfxFast *fast = rnnfx_model_packed(m);
    size_t off = align_up(sizeof(RnnfxInstance));
    int hmax = 1;
#define TAKE(ptr, bytes)                                                                       \
    do {                                                                                       \
        if (base)                                                                              \
            (ptr) = (void *)(base + off);                                                      \
        off += align_up(bytes);                                                                \
    } while (0)
    for (int l = 0; l < a->n_layers; l++) {
        int hp = rnnfx_fast_padded(a->layers[l].hidden_size);
        if (a->layers[l].hidden_size > hmax)
            hmax = a->layers[l].hidden_size;
        TAKE(inst->h[l], (size_t)hp * sizeof(float));
        if (a->layers[l].cell == RNNFX_CELL_LSTM)
            TAKE(inst->c[l], (size_t)hp * sizeof(float));
        else if (base)
            inst->c[l] = NULL;
    }
    TAKE(inst->gates, (size_t)4 * hmax * sizeof(float));
    TAKE(inst->gates_hh, (size_t)3 * hmax * sizeof(float));
    TAKE(inst->xvec, (size_t)a->input_size * sizeof(float));
    TAKE(inst->chunk, (size_t)CHUNK_FLOATS * sizeof(float));
    if (fast)
        TAKE(inst->fast_scratch, rnnfx_fast_scratch_size(fast));
    else if (base)
        inst->fast_scratch = NULL;
#undef TAKE
    return off;
}

size_t rnnfx_instance_size(const RnnfxModel *m)
{
    if (!m || !rnnfx_model_is_finalized(m))
        return 0;
    RnnfxInstance dummy;
    return layout(m, NULL, &dummy) + ALIGN; /* slack for an unaligned block */
}

RnnfxInstance *rnnfx_instance_init(void *mem, size_t size, const RnnfxModel *m)
{
    if (!mem || !m || !rnnfx_model_is_finalized(m))
        return NULL;
    size_t need = rnnfx_instance_size(m);
    if (size < need)
        return NULL;
    unsigned char *base = (unsigned char *)(((uintptr_t)mem + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
    memset(base, 0, need - ALIGN);
    RnnfxInstance *inst = (RnnfxInstance *)base;
    layout(m, base, inst);
    inst->model = m;
    inst->fast = rnnfx_model_packed(m);
    inst->path = inst->fast ? RNNFX_PATH_FAST : RNNFX_PATH_REFERENCE;
    const RnnfxArch *a = rnnfx_model_arch(m);
    for (int k = 0; k < a->n_params; k++)
        inst->knobs[k] = a->params[k].def;
    if (inst->fast)
        rnnfx_fast_set_knobs(inst->fast, inst->fast_scratch, inst->knobs);
    rnnfx_instance_reset(inst);
    return inst;
}

RnnfxInstance *rnnfx_instance_new(const RnnfxModel *m)
{
    size_t size = rnnfx_instance_size(m);
    if (size == 0)
        return NULL;
    /* An aligned block: init then places the instance at its start, so the
     * instance pointer is the pointer to free. */
    void *mem = aligned_alloc(ALIGN, align_up(size));
    if (!mem)
        return NULL;
    RnnfxInstance *inst = rnnfx_instance_init(mem, align_up(size), m);
    if (!inst) {
        free(mem);
        return NULL;
    }
    inst->owned = 1;
    return inst;
}

void rnnfx_instance_free(RnnfxInstance *inst)
{
    if (inst && inst->owned)
        free(inst);
}

const RnnfxModel *rnnfx_instance_model(const RnnfxInstance *inst) { return inst->model; }

void rnnfx_instance_set_path(RnnfxInstance *inst, RnnfxPath path)
{
    inst->path = (path == RNNFX_PATH_FAST && inst->fast) ? RNNFX_PATH_FAST : RNNFX_PATH_REFERENCE;
}

RnnfxPath rnnfx_instance_path(const RnnfxInstance *inst) { return inst->path; }

const char *rnnfx_instance_kernel_name(const RnnfxInstance *inst)
{
    return inst->path == RNNFX_PATH_FAST ? rnnfx_fast_name(inst->fast) : "reference";
}

void rnnfx_instance_reset(RnnfxInstance *inst)
{
    const RnnfxModel *m = inst->model;
    const RnnfxArch *a = rnnfx_model_arch(m);
    rnnfx_fast_reset(inst->fast, inst->fast_scratch);
    for (int l = 0; l < a->n_layers; l++) {
        int h = a->layers[l].hidden_size, hp = rnnfx_fast_padded(h);
        memset(inst->h[l], 0, (size_t)hp * sizeof(float));
        memcpy(inst->h[l], rnnfx_model_tensor_const(m, l, RNNFX_T_INITIAL_H, NULL, NULL),
               (size_t)h * sizeof(float));
        if (inst->c[l]) {
            memset(inst->c[l], 0, (size_t)hp * sizeof(float));
            memcpy(inst->c[l], rnnfx_model_tensor_const(m, l, RNNFX_T_INITIAL_C, NULL, NULL),
                   (size_t)h * sizeof(float));
        }
    }
}

void rnnfx_instance_set_param(RnnfxInstance *inst, int index, float value)
{
    const RnnfxArch *a = rnnfx_model_arch(inst->model);
    if (index < 0 || index >= a->n_params || isnan(value))
        return;
    const RnnfxParamDesc *p = &a->params[index];
    value = value < p->min ? p->min : value > p->max ? p->max : value;
    if (inst->knobs[index] == value)
        return;
    inst->knobs[index] = value;
    if (inst->fast)
        rnnfx_fast_set_knobs(inst->fast, inst->fast_scratch, inst->knobs);
}

float rnnfx_instance_param(const RnnfxInstance *inst, int index)
{
    const RnnfxArch *a = rnnfx_model_arch(inst->model);
    return (index >= 0 && index < a->n_params) ? inst->knobs[index] : 0.0f;
}

float *rnnfx_instance_hidden(RnnfxInstance *inst, int layer)
{
    return (layer >= 0 && layer < rnnfx_model_arch(inst->model)->n_layers) ? inst->h[layer] : NULL;
}

float *rnnfx_instance_cell(RnnfxInstance *inst, int layer)
{
    return (layer >= 0 && layer < rnnfx_model_arch(inst->model)->n_layers) ? inst->c[layer] : NULL;
}

/* ---- the reference path ------------------------------------------------ */

static float sigmoidf_ref(float x) { return 1.0f / (1.0f + expf(-x)); }

/* Accumulated in double: the reference path is what everything else is
 * measured against, so its own rounding should be well below the
 * tolerances it is held to (high-gain captures amplify float sums). */
static double dot(const float *w, const float *x, int n)
{
    double s = 0.0;
    for (int j = 0; j < n; j++)
        s += (double)w[j] * (double)x[j];
    return s;
}

/* The four tensors every recurrent cell reads, in PyTorch layout. */
typedef struct {
    const float *ih, *hh, *bih, *bhh;
} RefWeights;

static void ref_weights(const RnnfxModel *m, int l, RefWeights *w)
{
    w->ih = rnnfx_model_tensor_const(m, l, RNNFX_T_WEIGHT_IH, NULL, NULL);
    w->hh = rnnfx_model_tensor_const(m, l, RNNFX_T_WEIGHT_HH, NULL, NULL);
    w->bih = rnnfx_model_tensor_const(m, l, RNNFX_T_BIAS_IH, NULL, NULL);
    w->bhh = rnnfx_model_tensor_const(m, l, RNNFX_T_BIAS_HH, NULL, NULL);
}

/* LSTM, PyTorch gate order i, f, g, o; peephole per model.h. */
static void ref_lstm(RnnfxInstance *inst, int l, const float *x, int in)
{
    const RnnfxModel *m = inst->model;
    int H = rnnfx_model_arch(m)->layers[l].hidden_size;
    RefWeights w;
    ref_weights(m, l, &w);
    const float *wih = w.ih, *whh = w.hh, *bih = w.bih, *bhh = w.bhh;
    const float *peep = rnnfx_model_tensor_const(m, l, RNNFX_T_PEEPHOLE, NULL, NULL);
    float *h = inst->h[l], *c = inst->c[l], *g = inst->gates;
    for (int r = 0; r < 4 * H; r++)
        g[r] = (float)((double)bih[r] + bhh[r] + dot(wih + (size_t)r * in, x, in) +
                       dot(whh + (size_t)r * H, h, H));
    for (int j = 0; j < H; j++) {
        float pi = peep ? peep[j] * c[j] : 0.0f;
        float pf = peep ? peep[H + j] * c[j] : 0.0f;
        float i = sigmoidf_ref(g[j] + pi);
        float f = sigmoidf_ref(g[H + j] + pf);
        float gg = tanhf(g[2 * H + j]);
        float cn = f * c[j] + i * gg;
        float po = peep ? peep[2 * H + j] * cn : 0.0f;
        float o = sigmoidf_ref(g[3 * H + j] + po);
        c[j] = cn;
        h[j] = o * tanhf(cn);
    }
}

/* GRU, PyTorch reset-after form, gate order r, z, n. */
static void ref_gru(RnnfxInstance *inst, int l, const float *x, int in)
{
    const RnnfxModel *m = inst->model;
    int H = rnnfx_model_arch(m)->layers[l].hidden_size;
    RefWeights w;
    ref_weights(m, l, &w);
    const float *wih = w.ih, *whh = w.hh, *bih = w.bih, *bhh = w.bhh;
    float *h = inst->h[l], *gi = inst->gates, *gh = inst->gates_hh;
    for (int r = 0; r < 3 * H; r++) {
        gi[r] = (float)(bih[r] + dot(wih + (size_t)r * in, x, in));
        gh[r] = (float)(bhh[r] + dot(whh + (size_t)r * H, h, H));
    }
    for (int j = 0; j < H; j++) {
        float r = sigmoidf_ref(gi[j] + gh[j]);
        float z = sigmoidf_ref(gi[H + j] + gh[H + j]);
        float n = tanhf(gi[2 * H + j] + r * gh[2 * H + j]);
        h[j] = (1.0f - z) * n + z * h[j];
    }
}

static void ref_rnn(RnnfxInstance *inst, int l, const float *x, int in)
{
    const RnnfxModel *m = inst->model;
    const RnnfxLayerDesc *d = &rnnfx_model_arch(m)->layers[l];
    int H = d->hidden_size;
    RefWeights w;
    ref_weights(m, l, &w);
    const float *wih = w.ih, *whh = w.hh, *bih = w.bih, *bhh = w.bhh;
    float *h = inst->h[l], *g = inst->gates;
    for (int r = 0; r < H; r++)
        g[r] = (float)((double)bih[r] + bhh[r] + dot(wih + (size_t)r * in, x, in) +
                       dot(whh + (size_t)r * H, h, H));
    for (int j = 0; j < H; j++)
        h[j] = d->relu ? (g[j] > 0.0f ? g[j] : 0.0f) : tanhf(g[j]);
}

/* One time step: x[input_size] (prepared) -> y[output_size] (before gain). */
static void ref_step(RnnfxInstance *inst, const float *x, float *y)
{
    const RnnfxModel *m = inst->model;
    const RnnfxArch *a = rnnfx_model_arch(m);
    const float *lx = x;
    int in = a->input_size;
    for (int l = 0; l < a->n_layers; l++) {
        switch (a->layers[l].cell) {
        case RNNFX_CELL_LSTM: ref_lstm(inst, l, lx, in); break;
        case RNNFX_CELL_GRU: ref_gru(inst, l, lx, in); break;
        case RNNFX_CELL_RNN: ref_rnn(inst, l, lx, in); break;
        }
        lx = inst->h[l];
        in = a->layers[l].hidden_size;
    }
    const float *w = rnnfx_model_tensor_const(m, -1, RNNFX_T_DENSE_W, NULL, NULL);
    const float *b = rnnfx_model_tensor_const(m, -1, RNNFX_T_DENSE_B, NULL, NULL);
    for (int o = 0; o < a->output_size; o++) {
        float v = (float)(b[o] + dot(w + (size_t)o * in, lx, in));
        if (a->output_sigmoid)
            v = sigmoidf_ref(v);
        if (a->skip)
            v += x[0];
        y[o] = v;
    }
}

/* ---- guards shared by both paths ----------------------------------------- */

static float finite_or_zero(float v) { return isfinite(v) ? v : 0.0f; }

/* dst[i] = src[i] * gain, or 0 where that is not finite. This runs over
 * every sample twice per block (input and output), so it is written to
 * vectorise: the test reads the exponent bits instead of calling isfinite,
 * and the loop gets -O3 (at -O2 GCC vectorises only loops without a
 * remainder). Same values as finite_or_zero(src[i] * gain). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O3")
#endif
static void scale_finite(float *dst, const float *src, size_t n, float gain)
{
    for (size_t i = 0; i < n; i++) {
        float v = src[i] * gain;
        uint32_t u;
        memcpy(&u, &v, sizeof u);
        dst[i] = (u & 0x7f800000u) == 0x7f800000u ? 0.0f : v;
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* If any state value is non-finite (a pathological input drove a ReLU RNN
 * to overflow, say), start again from the initial state. O(hidden). */
static void recover_state(RnnfxInstance *inst)
{
    const RnnfxArch *a = rnnfx_model_arch(inst->model);
    for (int l = 0; l < a->n_layers; l++) {
        int H = a->layers[l].hidden_size;
        float acc = 0.0f;
        /* A sum of x*0 is NaN exactly when some x is NaN or Inf. */
        for (int j = 0; j < H; j++)
            acc += inst->h[l][j] * 0.0f;
        if (inst->c[l])
            for (int j = 0; j < H; j++)
                acc += inst->c[l][j] * 0.0f;
        if (acc != 0.0f || isnan(acc)) {
            rnnfx_instance_reset(inst);
            return;
        }
    }
}

static void finish_outputs(float *y, size_t count, float gain) { scale_finite(y, y, count, gain); }

void rnnfx_instance_process(RnnfxInstance *inst, const float *in, float *out, size_t n)
{
    const RnnfxModel *m = inst->model;
    const RnnfxArch *a = rnnfx_model_arch(m);
    const RnnfxMeta *meta = rnnfx_model_meta_const(m);
    const float ig = meta->input_gain, og = meta->output_gain;
    RnnfxFpMode fp = rnnfx_fp_enter();
    while (n > 0) {
        size_t len = n < CHUNK_FLOATS ? n : CHUNK_FLOATS;
        float *x = inst->chunk;
        scale_finite(x, in, len, ig);
        if (inst->path == RNNFX_PATH_FAST) {
            rnnfx_fast_process_audio(inst->fast, inst->fast_scratch, inst->h, inst->c, x, out, len);
        } else {
            float *xv = inst->xvec;
            float y[RNNFX_MAX_OUTPUTS];
            for (int k = 0; k < a->n_params; k++)
                xv[1 + k] = inst->knobs[k];
            for (size_t i = 0; i < len; i++) {
                xv[0] = x[i];
                ref_step(inst, xv, y);
                out[i] = y[0];
            }
        }
        finish_outputs(out, len, og);
        recover_state(inst);
        in += len;
        out += len;
        n -= len;
    }
    rnnfx_fp_leave(fp);
}

/* Both channels chunk by chunk, each chunk's steps as in
 * rnnfx_instance_process (the same chunk bounds, so the same recovery
 * points), the kernel part paired. */
void rnnfx_instance_process_pair(RnnfxInstance *a, RnnfxInstance *b, const float *in_a,
                                 const float *in_b, float *out_a, float *out_b, size_t n)
{
    if (a == b || a->model != b->model || a->path != RNNFX_PATH_FAST ||
        b->path != RNNFX_PATH_FAST || a->fast != b->fast || !rnnfx_fast_has_pair(a->fast)) {
        rnnfx_instance_process(a, in_a, out_a, n);
        rnnfx_instance_process(b, in_b, out_b, n);
        return;
    }
    const RnnfxMeta *meta = rnnfx_model_meta_const(a->model);
    const float ig = meta->input_gain, og = meta->output_gain;
    RnnfxFpMode fp = rnnfx_fp_enter();
    while (n > 0) {
        size_t len = n < CHUNK_FLOATS ? n : CHUNK_FLOATS;
        scale_finite(a->chunk, in_a, len, ig);
        scale_finite(b->chunk, in_b, len, ig);
        const RnnfxFastChannel ca = {a->fast_scratch, a->h, a->c, a->chunk, out_a};
        const RnnfxFastChannel cb = {b->fast_scratch, b->h, b->c, b->chunk, out_b};
        rnnfx_fast_process_audio_pair(a->fast, &ca, &cb, len);
        finish_outputs(out_a, len, og);
        finish_outputs(out_b, len, og);
        recover_state(a);
        recover_state(b);
        in_a += len;
        in_b += len;
        out_a += len;
        out_b += len;
        n -= len;
    }
    rnnfx_fp_leave(fp);
}

int rnnfx_model_runs_paired(const RnnfxModel *model)
{
    return model && rnnfx_fast_has_pair(rnnfx_model_packed(model));
}

void rnnfx_instance_process_frames(RnnfxInstance *inst, const float *in, float *out, size_t n)
{
    const RnnfxModel *m = inst->model;
    const RnnfxArch *a = rnnfx_model_arch(m);
    const RnnfxMeta *meta = rnnfx_model_meta_const(m);
    const size_t ni = (size_t)a->input_size, no = (size_t)a->output_size;
    const size_t per_chunk = CHUNK_FLOATS / ni; /* >= 2: input_size <= 512 */
    RnnfxFpMode fp = rnnfx_fp_enter();
    while (n > 0) {
        size_t len = n < per_chunk ? n : per_chunk;
        float *x = inst->chunk;
        for (size_t i = 0; i < len * ni; i++)
            x[i] = finite_or_zero(in[i]);
        for (size_t i = 0; i < len; i++)
            x[i * ni] = finite_or_zero(x[i * ni] * meta->input_gain);
        if (inst->path == RNNFX_PATH_FAST) {
            rnnfx_fast_process_frames(inst->fast, inst->fast_scratch, inst->h, inst->c, x, out, len);
        } else {
            for (size_t i = 0; i < len; i++)
                ref_step(inst, x + i * ni, out + i * no);
        }
        finish_outputs(out, len * no, meta->output_gain);
        recover_state(inst);
        in += len * ni;
        out += len * no;
        n -= len;
    }
    rnnfx_fp_leave(fp);
}

/*
 * model.c — architecture checks, the parameter size table, and the one
 * allocation every model's weights live in (see model.h).
 *
 * All tensors of a model are carved from a single float array in a fixed
 * order, so the trainer can treat the parameters as one vector, file writers
 * can walk them in order, and a clone is one memcpy. The packed copies the
 * fast kernels read are built separately at finalize (fast.h).
 */
#include "model.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fast.h"

/* Slot of the dense tensors in the table below. */
#define DENSE_SLOT RNNFX_MAX_LAYERS
#define ABSENT SIZE_MAX
/* No model may hold more parameters than this (a hostile file cannot make
 * us allocate gigabytes): 64 Mi floats = 256 MiB. */
#define MAX_TOTAL_PARAMS ((size_t)64 << 20)

struct RnnfxModel {
    RnnfxArch arch;
    RnnfxMeta meta;
    size_t offset[RNNFX_MAX_LAYERS + 1][RNNFX_T_COUNT]; /* ABSENT if missing */
    int rows[RNNFX_MAX_LAYERS + 1][RNNFX_T_COUNT];
    int cols[RNNFX_MAX_LAYERS + 1][RNNFX_T_COUNT];
    float *params;
    size_t n_params;
    int finalized;
    RnnfxFast *fast;
};

int rnnfx_cell_gates(RnnfxCell cell)
{
    switch (cell) {
    case RNNFX_CELL_LSTM: return 4;
    case RNNFX_CELL_GRU: return 3;
    case RNNFX_CELL_RNN: return 1;
    }
    return 0;
}

const char *rnnfx_cell_name(RnnfxCell cell)
{
    switch (cell) {
    case RNNFX_CELL_LSTM: return "lstm";
    case RNNFX_CELL_GRU: return "gru";
    case RNNFX_CELL_RNN: return "rnn";
    }
    return "unknown";
}

void rnnfx_arch_init_audio(RnnfxArch *arch, RnnfxCell cell, int hidden, int skip)
{
    memset(arch, 0, sizeof *arch);
    arch->kind = RNNFX_KIND_AUDIO;
    arch->input_size = 1;
    arch->output_size = 1;
    arch->n_layers = 1;
    arch->layers[0].cell = cell;
    arch->layers[0].hidden_size = hidden;
    arch->skip = skip ? 1 : 0;
}

/* Input width of layer l. */
static int layer_input(const RnnfxArch *a, int l)
{
    return l == 0 ? a->input_size : a->layers[l - 1].hidden_size;
}

RnnfxStatus rnnfx_arch_check(const RnnfxArch *a, RnnfxError *err)
{
    if (!a)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no architecture given");
    if (a->kind != RNNFX_KIND_AUDIO && a->kind != RNNFX_KIND_MIDI_FRAMES)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "unknown model kind %d", (int)a->kind);
    if (a->n_layers < 1 || a->n_layers > RNNFX_MAX_LAYERS)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%d recurrent layers (supported: 1 to %d)",
                          a->n_layers, RNNFX_MAX_LAYERS);
    if (a->input_size < 1 || a->input_size > RNNFX_MAX_INPUTS)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "input size %d (supported: 1 to %d)",
                          a->input_size, RNNFX_MAX_INPUTS);
    if (a->output_size < 1 || a->output_size > RNNFX_MAX_OUTPUTS)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "output size %d (supported: 1 to %d)",
                          a->output_size, RNNFX_MAX_OUTPUTS);
    if (a->n_params < 0 || a->n_params > RNNFX_MAX_PARAMS)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%d conditioning inputs (supported: up to %d)",
                          a->n_params, RNNFX_MAX_PARAMS);
    if (a->kind == RNNFX_KIND_AUDIO && a->input_size != 1 + a->n_params)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "an audio model with %d conditioning inputs must have input size %d, not %d",
                          a->n_params, 1 + a->n_params, a->input_size);
    if (a->kind == RNNFX_KIND_MIDI_FRAMES && a->n_params != 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "a MIDI-frame model has no conditioning knobs");
    for (int k = 0; k < a->n_params; k++) {
        const RnnfxParamDesc *p = &a->params[k];
        if (memchr(p->name, '\0', sizeof p->name) == NULL || p->name[0] == '\0')
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "conditioning input %d has no name", k);
        /* the span too: max - min is what a knob's 0..1 is scaled by, and
         * [-3e38, 3e38] overflowed it to infinity */
        if (!isfinite(p->min) || !isfinite(p->max) || !isfinite(p->def) || !(p->min < p->max) ||
            !isfinite(p->max - p->min) || p->def < p->min || p->def > p->max)
            return rnnfx_fail(err, RNNFX_ERR_INVALID,
                              "conditioning input '%s': range [%g, %g] with default %g is not valid",
                              p->name, (double)p->min, (double)p->max, (double)p->def);
        /* knobs are set by name, ignoring case (rnnfx_model_param_index):
         * two names that differ only in case could not both be reached */
        for (int j = 0; j < k; j++)
            if (!strcasecmp(a->params[j].name, p->name))
                return rnnfx_fail(err, RNNFX_ERR_INVALID,
                                  "conditioning inputs %d and %d are both named '%s' (names are "
                                  "matched ignoring case)",
                                  j, k, p->name);
    }
    for (int l = 0; l < a->n_layers; l++) {
        const RnnfxLayerDesc *d = &a->layers[l];
        if (d->cell != RNNFX_CELL_LSTM && d->cell != RNNFX_CELL_GRU && d->cell != RNNFX_CELL_RNN)
            return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED, "layer %d: unknown cell type %d", l,
                              (int)d->cell);
        if (d->hidden_size < 1 || d->hidden_size > RNNFX_MAX_HIDDEN)
            return rnnfx_fail(err, RNNFX_ERR_LIMIT, "layer %d: hidden size %d (supported: 1 to %d)",
                              l, d->hidden_size, RNNFX_MAX_HIDDEN);
        if (d->peephole && d->cell != RNNFX_CELL_LSTM)
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "layer %d: peephole is only for LSTM layers", l);
        if (d->relu && d->cell != RNNFX_CELL_RNN)
            return rnnfx_fail(err, RNNFX_ERR_INVALID, "layer %d: ReLU is only for RNN layers", l);
    }
    return RNNFX_OK;
}

/* Fills the size table; returns the total parameter count. It cannot
 * overflow: rnnfx_arch_check's limits bound it to about 2^26 floats, and
 * rnnfx_model_new refuses anything over MAX_TOTAL_PARAMS. */
static size_t plan(RnnfxModel *m)
{
    const RnnfxArch *a = &m->arch;
    size_t total = 0;
    for (int s = 0; s <= RNNFX_MAX_LAYERS; s++)
        for (int t = 0; t < RNNFX_T_COUNT; t++)
            m->offset[s][t] = ABSENT;
#define PUT(slot, t, r, c)                                                                     \
    do {                                                                                       \
        m->offset[slot][t] = total;                                                            \
        m->rows[slot][t] = (r);                                                                \
        m->cols[slot][t] = (c);                                                                \
        total += (size_t)(r) * (size_t)(c);                                                    \
    } while (0)
    for (int l = 0; l < a->n_layers; l++) {
        const RnnfxLayerDesc *d = &a->layers[l];
        int h = d->hidden_size, gh = rnnfx_cell_gates(d->cell) * h;
        PUT(l, RNNFX_T_WEIGHT_IH, gh, layer_input(a, l));
        PUT(l, RNNFX_T_WEIGHT_HH, gh, h);
        PUT(l, RNNFX_T_BIAS_IH, 1, gh);
        PUT(l, RNNFX_T_BIAS_HH, 1, gh);
        if (d->cell == RNNFX_CELL_LSTM && d->peephole)
            PUT(l, RNNFX_T_PEEPHOLE, 3, h);
        PUT(l, RNNFX_T_INITIAL_H, 1, h);
        if (d->cell == RNNFX_CELL_LSTM)
            PUT(l, RNNFX_T_INITIAL_C, 1, h);
    }
    int last = a->layers[a->n_layers - 1].hidden_size;
    PUT(DENSE_SLOT, RNNFX_T_DENSE_W, a->output_size, last);
    PUT(DENSE_SLOT, RNNFX_T_DENSE_B, 1, a->output_size);
#undef PUT
    return total;
}

static void meta_defaults(RnnfxMeta *meta)
{
    memset(meta, 0, sizeof *meta);
    meta->sample_rate = 48000.0;
    meta->input_gain = 1.0f;
    meta->output_gain = 1.0f;
    meta->esr = -1.0;
    meta->loudness_db = meta->input_level_dbu = meta->output_level_dbu = NAN;
    strcpy(meta->source_format, "rnnfx");
    meta->midi.steps_per_quarter = 4;
    meta->midi.low_key = 21;
    meta->midi.n_keys = 88;
}

RnnfxStatus rnnfx_model_new(const RnnfxArch *arch, RnnfxModel **out, RnnfxError *err)
{
    if (!out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out = NULL;
    RnnfxStatus st = rnnfx_arch_check(arch, err);
    if (st != RNNFX_OK)
        return st;
    RnnfxModel *m = calloc(1, sizeof *m);
    if (!m)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for a model");
    m->arch = *arch;
    /* Unused layer slots are zeroed so that two equal architectures compare equal. */
    for (int l = arch->n_layers; l < RNNFX_MAX_LAYERS; l++)
        memset(&m->arch.layers[l], 0, sizeof m->arch.layers[l]);
    meta_defaults(&m->meta);
    m->n_params = plan(m);
    if (m->n_params > MAX_TOTAL_PARAMS) {
        size_t n = m->n_params;
        free(m);
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%zu parameters (limit %zu)", n, MAX_TOTAL_PARAMS);
    }
    m->params = calloc(m->n_params, sizeof(float));
    if (!m->params) {
        size_t n = m->n_params;
        free(m);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for %zu parameters", n);
    }
    *out = m;
    return RNNFX_OK;
}

void rnnfx_model_free(RnnfxModel *m)
{
    if (!m)
        return;
    rnnfx_fast_free(m->fast);
    free(m->params);
    free(m);
}

RnnfxStatus rnnfx_model_clone(const RnnfxModel *src, RnnfxModel **out, RnnfxError *err)
{
    if (!src || !out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "nothing to clone");
    RnnfxStatus st = rnnfx_model_new(&src->arch, out, err);
    if (st != RNNFX_OK)
        return st;
    (*out)->meta = src->meta;
    memcpy((*out)->params, src->params, src->n_params * sizeof(float));
    if (src->finalized) {
        st = rnnfx_model_finalize(*out, err);
        if (st != RNNFX_OK) {
            rnnfx_model_free(*out);
            *out = NULL;
        }
    }
    return st;
}

const RnnfxArch *rnnfx_model_arch(const RnnfxModel *m) { return &m->arch; }
RnnfxMeta *rnnfx_model_meta(RnnfxModel *m) { return &m->meta; }
const RnnfxMeta *rnnfx_model_meta_const(const RnnfxModel *m) { return &m->meta; }

static int slot_of(const RnnfxModel *m, int layer, RnnfxTensor t)
{
    if ((unsigned)t >= RNNFX_T_COUNT)
        return -1;
    int dense = t == RNNFX_T_DENSE_W || t == RNNFX_T_DENSE_B;
    if (dense)
        return layer == -1 ? DENSE_SLOT : -1;
    if (layer < 0 || layer >= m->arch.n_layers)
        return -1;
    return layer;
}

size_t rnnfx_model_tensor_offset(const RnnfxModel *m, int layer, RnnfxTensor t)
{
    int s = slot_of(m, layer, t);
    return s < 0 ? ABSENT : m->offset[s][t];
}

const float *rnnfx_model_tensor_const(const RnnfxModel *m, int layer, RnnfxTensor t, int *rows,
                                      int *cols)
{
    int s = slot_of(m, layer, t);
    if (s < 0 || m->offset[s][t] == ABSENT) {
        if (rows)
            *rows = 0;
        if (cols)
            *cols = 0;
        return NULL;
    }
    if (rows)
        *rows = m->rows[s][t];
    if (cols)
        *cols = m->cols[s][t];
    return m->params + m->offset[s][t];
}

float *rnnfx_model_tensor(RnnfxModel *m, int layer, RnnfxTensor t, int *rows, int *cols)
{
    return (float *)rnnfx_model_tensor_const(m, layer, t, rows, cols);
}

float *rnnfx_model_params(RnnfxModel *m, size_t *count)
{
    if (count)
        *count = m->n_params;
    return m->params;
}

const float *rnnfx_model_params_const(const RnnfxModel *m, size_t *count)
{
    if (count)
        *count = m->n_params;
    return m->params;
}

static const char *tensor_name(RnnfxTensor t)
{
    static const char *const names[RNNFX_T_COUNT] = {
        "weight_ih", "weight_hh", "bias_ih",      "bias_hh",     "peephole_weights",
        "initial_h", "initial_c", "dense.weight", "dense.bias"};
    return (unsigned)t < RNNFX_T_COUNT ? names[t] : "?";
}

RnnfxStatus rnnfx_model_finalize(RnnfxModel *m, RnnfxError *err)
{
    if (!m)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no model");
    /* Until validation passes the model is not runnable: a failed
     * re-finalize must not leave it "finalized" with bad tensors and stale
     * packed weights. */
    m->finalized = 0;
    for (int s = 0; s <= RNNFX_MAX_LAYERS; s++)
        for (int t = 0; t < RNNFX_T_COUNT; t++) {
            if (m->offset[s][t] == ABSENT)
                continue;
            size_t n = (size_t)m->rows[s][t] * (size_t)m->cols[s][t];
            const float *p = m->params + m->offset[s][t];
            for (size_t i = 0; i < n; i++)
                if (!isfinite(p[i])) {
                    if (s == DENSE_SLOT)
                        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                                          "%s[%zu] is not a finite number", tensor_name(t), i);
                    return rnnfx_fail(err, RNNFX_ERR_INVALID,
                                      "layer %d: %s[%zu] is not a finite number", s,
                                      tensor_name(t), i);
                }
        }
    const RnnfxMeta *meta = &m->meta;
    if (!isfinite(meta->sample_rate) || meta->sample_rate < 1000.0 || meta->sample_rate > 1536000.0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "sample rate %g Hz is not plausible",
                          meta->sample_rate);
    if (!isfinite(meta->input_gain) || !isfinite(meta->output_gain) ||
        fabsf(meta->input_gain) > 1e6f || fabsf(meta->output_gain) > 1e6f)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "input/output gain %g/%g is not plausible",
                          (double)meta->input_gain, (double)meta->output_gain);
    if (m->arch.kind == RNNFX_KIND_MIDI_FRAMES) {
        const RnnfxMidiInfo *mi = &meta->midi;
        /* n_keys > 128 - low_key, not low_key + n_keys > 128: the fields
         * are the caller's ints, and the sum could overflow. */
        if (mi->steps_per_quarter < 1 || mi->steps_per_quarter > 96 || mi->low_key < 0 ||
            mi->low_key > 127 || mi->n_keys < 1 || mi->n_keys > 128 - mi->low_key ||
            mi->n_beat_features < 0 || mi->n_beat_features > RNNFX_MAX_INPUTS ||
            mi->n_keys + mi->n_beat_features != m->arch.input_size || mi->n_keys != m->arch.output_size)
            return rnnfx_fail(err, RNNFX_ERR_INVALID,
                              "MIDI grid (%d steps/quarter, keys %d+%d, %d beat features) does not "
                              "match input %d / output %d",
                              mi->steps_per_quarter, mi->low_key, mi->n_keys, mi->n_beat_features,
                              m->arch.input_size, m->arch.output_size);
    }
    rnnfx_fast_free(m->fast);
    m->fast = NULL;
    m->finalized = 0;
    RnnfxStatus st = rnnfx_fast_build(m, &m->fast, err);
    if (st != RNNFX_OK)
        return st;
    m->finalized = 1;
    return RNNFX_OK;
}

int rnnfx_model_is_finalized(const RnnfxModel *m) { return m && m->finalized; }

const RnnfxFast *rnnfx_model_packed(const RnnfxModel *m) { return m->fast; }

double rnnfx_model_macs_per_step(const RnnfxModel *m)
{
    double macs = 0;
    for (int l = 0; l < m->arch.n_layers; l++) {
        const RnnfxLayerDesc *d = &m->arch.layers[l];
        double gh = rnnfx_cell_gates(d->cell) * (double)d->hidden_size;
        macs += gh * (layer_input(&m->arch, l) + d->hidden_size);
    }
    macs += (double)m->arch.output_size * m->arch.layers[m->arch.n_layers - 1].hidden_size;
    return macs;
}

int rnnfx_model_same_shape(const RnnfxModel *x, const RnnfxModel *y)
{
    if (!x || !y)
        return 0;
    const RnnfxArch *a = &x->arch, *b = &y->arch;
    if (a->kind != b->kind || a->input_size != b->input_size || a->output_size != b->output_size ||
        a->n_layers != b->n_layers || a->skip != b->skip || a->output_sigmoid != b->output_sigmoid)
        return 0;
    for (int l = 0; l < a->n_layers; l++)
        if (a->layers[l].cell != b->layers[l].cell ||
            a->layers[l].hidden_size != b->layers[l].hidden_size ||
            a->layers[l].peephole != b->layers[l].peephole || a->layers[l].relu != b->layers[l].relu)
            return 0;
    return 1;
}

int rnnfx_model_param_index(const RnnfxModel *m, const char *name)
{
    if (!m || !name)
        return -1;
    for (int k = 0; k < m->arch.n_params; k++) {
        const char *a = m->arch.params[k].name, *b = name;
        while (*a && *b && tolower((unsigned char)*a) == tolower((unsigned char)*b))
            a++, b++;
        if (*a == '\0' && *b == '\0')
            return k;
    }
    return -1;
}

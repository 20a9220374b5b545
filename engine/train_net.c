/*
 * train_net.c — the network as the trainer sees it: parameter offsets,
 * transposed weight copies for the forward products, per-worker buffers,
 * and the forward/backward of a whole chunk through the layer stack.
 *
 * The per-layer passes live in train_lstm.c, train_gru.c, train_rnn.c and
 * train_dense.c; the loss in train_loss.c; the loop that cuts segments into
 * chunks and runs workers in train_loop.c. Nothing here allocates after
 * rnnfx_train_work_init.
 */
#include <stdlib.h>
#include <string.h>

#include "train_impl.h"

static size_t off_of(const RnnfxModel *m, int l, RnnfxTensor t)
{
    return rnnfx_model_tensor_offset(m, l, t);
}

RnnfxStatus rnnfx_train_net_init(RnnfxTrainNet *net, const RnnfxModel *model, RnnfxError *err)
{
    memset(net, 0, sizeof *net);
    const RnnfxArch *a = rnnfx_model_arch(model);
    RnnfxStatus st = rnnfx_arch_check(a, err);
    if (st != RNNFX_OK)
        return st;
    net->model = model;
    net->params = rnnfx_model_params_const(model, &net->n_params);
    net->L = a->n_layers;
    net->in = a->input_size;
    net->out = a->output_size;
    net->skip = a->skip;
    net->sigmoid = a->output_sigmoid;
    net->in_gain = rnnfx_model_meta_const(model)->input_gain;
    net->out_gain = rnnfx_model_meta_const(model)->output_gain;
    net->k = rnnfx_train_kernels_select();
    net->trained = calloc(net->n_params ? net->n_params : 1, 1);
    if (!net->trained)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for the trainer");
    memset(net->trained, 1, net->n_params);
    int K = a->input_size;
    for (int l = 0; l < net->L; l++) {
        RnnfxTrainLayer *ly = &net->layer[l];
        const RnnfxLayerDesc *d = &a->layers[l];
        ly->cell = d->cell;
        ly->H = d->hidden_size;
        ly->G = rnnfx_cell_gates(d->cell);
        ly->K = K;
        ly->peephole = d->cell == RNNFX_CELL_LSTM && d->peephole;
        ly->relu = d->cell == RNNFX_CELL_RNN && d->relu;
        ly->o_wih = off_of(model, l, RNNFX_T_WEIGHT_IH);
        ly->o_whh = off_of(model, l, RNNFX_T_WEIGHT_HH);
        ly->o_bih = off_of(model, l, RNNFX_T_BIAS_IH);
        ly->o_bhh = off_of(model, l, RNNFX_T_BIAS_HH);
        ly->o_peep = ly->peephole ? off_of(model, l, RNNFX_T_PEEPHOLE) : (size_t)-1;
        ly->o_h0 = off_of(model, l, RNNFX_T_INITIAL_H);
        ly->o_c0 = d->cell == RNNFX_CELL_LSTM ? off_of(model, l, RNNFX_T_INITIAL_C) : (size_t)-1;
        /* the initial state is the model's, not learned */
        memset(net->trained + ly->o_h0, 0, (size_t)ly->H);
        if (ly->o_c0 != (size_t)-1)
            memset(net->trained + ly->o_c0, 0, (size_t)ly->H);
        size_t gh = (size_t)ly->G * ly->H;
        ly->wih_t = malloc(sizeof(float) * gh * (size_t)K);
        ly->whh_t = malloc(sizeof(float) * gh * (size_t)ly->H);
        ly->bsum = malloc(sizeof(float) * gh);
        if (!ly->wih_t || !ly->whh_t || !ly->bsum) {
            rnnfx_train_net_free(net);
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for the trainer");
        }
        K = ly->H;
    }
    net->o_dw = off_of(model, -1, RNNFX_T_DENSE_W);
    net->o_db = off_of(model, -1, RNNFX_T_DENSE_B);
    net->dw_t = malloc(sizeof(float) * (size_t)K * (size_t)net->out);
    if (!net->dw_t) {
        rnnfx_train_net_free(net);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for the trainer");
    }
    rnnfx_train_net_refresh(net);
    return RNNFX_OK;
}

void rnnfx_train_net_free(RnnfxTrainNet *net)
{
    if (!net)
        return;
    for (int l = 0; l < RNNFX_MAX_LAYERS; l++) {
        free(net->layer[l].wih_t);
        free(net->layer[l].whh_t);
        free(net->layer[l].bsum);
        net->layer[l].wih_t = net->layer[l].whh_t = net->layer[l].bsum = NULL;
    }
    free(net->dw_t);
    free(net->trained);
    net->dw_t = NULL;
    net->trained = NULL;
}

/* dst[c][r] = src[r][c] for a rows x cols matrix. */
static void transpose(float *dst, const float *src, int rows, int cols)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            dst[(size_t)c * rows + r] = src[(size_t)r * cols + c];
}

void rnnfx_train_net_refresh(RnnfxTrainNet *net)
{
    const float *p = net->params;
    int K = net->in;
    for (int l = 0; l < net->L; l++) {
        RnnfxTrainLayer *ly = &net->layer[l];
        int gh = ly->G * ly->H;
        transpose(ly->wih_t, p + ly->o_wih, gh, ly->K);
        transpose(ly->whh_t, p + ly->o_whh, gh, ly->H);
        for (int j = 0; j < gh; j++)
            ly->bsum[j] = p[ly->o_bih + j] + p[ly->o_bhh + j];
        K = ly->H;
    }
    transpose(net->dw_t, p + net->o_dw, net->out, K);
}

/* ---- worker buffers ------------------------------------------------------- */

/* Floats rounded up to a 64-byte multiple so every carved buffer is aligned. */
static size_t pad16(size_t n) { return (n + 15) & ~(size_t)15; }

typedef struct {
    char *base;
    size_t used;
} Carver;

static float *carve(Carver *cv, size_t nfloats)
{
    size_t bytes = pad16(nfloats ? nfloats : 1) * sizeof(float);
    float *p = cv->base ? (float *)(cv->base + cv->used) : NULL;
    cv->used += bytes;
    return p;
}

static void carve_all(Carver *cv, RnnfxTrainWork *w, const RnnfxTrainNet *net, int Bt, size_t T)
{
    size_t rows = (size_t)Bt * T, Hmax = (size_t)net->in, GHmax = 1;
    for (int l = 0; l < net->L; l++) {
        if ((size_t)net->layer[l].H > Hmax)
            Hmax = (size_t)net->layer[l].H;
        if ((size_t)net->layer[l].G * (size_t)net->layer[l].H > GHmax)
            GHmax = (size_t)net->layer[l].G * (size_t)net->layer[l].H;
    }
    /* rows of one time block, for any row count up to Bt */
    size_t brows = (size_t)Bt > 256 ? (size_t)Bt : 256;
    w->x0 = carve(cv, rows * (size_t)net->in);
    w->tgt = carve(cv, rows * (size_t)net->out);
    w->y = carve(cv, rows * (size_t)net->out);
    w->z = carve(cv, rows * (size_t)net->out);
    w->dy = carve(cv, rows * (size_t)net->out);
    w->yprev = carve(cv, (size_t)Bt * (size_t)net->out);
    w->tprev = carve(cv, (size_t)Bt * (size_t)net->out);
    for (int l = 0; l < net->L; l++) {
        const RnnfxTrainLayer *ly = &net->layer[l];
        RnnfxTrainLayerBuf *b = &w->lb[l];
        size_t H = (size_t)ly->H, GH = (size_t)ly->G * H;
        memset(b, 0, sizeof *b);
        b->h = carve(cv, rows * H + (size_t)Bt * H);
        if (ly->cell == RNNFX_CELL_LSTM) {
            b->act = carve(cv, rows * GH);
            b->c = carve(cv, rows * H + (size_t)Bt * H);
            b->tc = carve(cv, rows * H);
        } else if (ly->cell == RNNFX_CELL_GRU) {
            b->act = carve(cv, rows * GH);
            b->ghn = carve(cv, rows * H);
        }
    }
    w->dh = carve(cv, rows * Hmax);
    w->dx = carve(cv, rows * Hmax);
    w->dcn = carve(cv, (size_t)Bt * Hmax);
    w->dtmp = carve(cv, (size_t)Bt * Hmax);
    w->blk_a = carve(cv, brows * GHmax);
    w->blk_b = carve(cv, brows * GHmax);
    w->grad = carve(cv, net->n_params);
}

RnnfxStatus rnnfx_train_work_init(RnnfxTrainWork *w, const RnnfxTrainNet *net, int Bt, size_t T,
                                  RnnfxError *err)
{
    memset(w, 0, sizeof *w);
    if (Bt < 1 || T < 1)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "empty training chunk");
    Carver cv = {NULL, 0};
    carve_all(&cv, w, net, Bt, T);
    if (cv.used > ((size_t)1 << 40))
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "training buffers would need %zu bytes", cv.used);
    void *block = aligned_alloc(64, cv.used);
    if (!block)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM,
                          "out of memory for training buffers (%zu MB); use a smaller batch or "
                          "a shorter tbptt",
                          cv.used >> 20);
    memset(block, 0, cv.used);
    cv.base = block;
    cv.used = 0;
    carve_all(&cv, w, net, Bt, T);
    w->block = block;
    w->Bt = Bt;
    w->T = T;
    return RNNFX_OK;
}

void rnnfx_train_work_free(RnnfxTrainWork *w)
{
    if (!w)
        return;
    free(w->block);
    memset(w, 0, sizeof *w);
}

void rnnfx_train_work_reset(RnnfxTrainWork *w, const RnnfxTrainNet *net, int Bt)
{
    for (int l = 0; l < net->L; l++) {
        const RnnfxTrainLayer *ly = &net->layer[l];
        size_t H = (size_t)ly->H;
        for (int b = 0; b < Bt; b++) {
            memcpy(w->lb[l].h + (size_t)b * H, net->params + ly->o_h0, H * sizeof(float));
            if (ly->cell == RNNFX_CELL_LSTM)
                memcpy(w->lb[l].c + (size_t)b * H, net->params + ly->o_c0, H * sizeof(float));
        }
    }
    memset(w->yprev, 0, sizeof(float) * (size_t)Bt * (size_t)net->out);
}

void rnnfx_train_work_carry(const RnnfxTrainNet *net, RnnfxTrainWork *w, int Bt, size_t T)
{
    for (int l = 0; l < net->L; l++) {
        const RnnfxTrainLayer *ly = &net->layer[l];
        size_t n = (size_t)Bt * (size_t)ly->H;
        memmove(w->lb[l].h, w->lb[l].h + T * n, n * sizeof(float));
        if (ly->cell == RNNFX_CELL_LSTM)
            memmove(w->lb[l].c, w->lb[l].c + T * n, n * sizeof(float));
    }
    /* the last output of the chunk is the "previous sample" of the next one */
    size_t no = (size_t)Bt * (size_t)net->out;
    memcpy(w->yprev, w->y + (T - 1) * no, no * sizeof(float));
}

/* ---- a chunk through the stack -------------------------------------------- */

void rnnfx_train_forward_chunk(const RnnfxTrainNet *net, RnnfxTrainWork *w, int Bt, size_t T)
{
    const float *x = w->x0; /* [T][Bt][K] input of the current layer */
    for (int l = 0; l < net->L; l++) {
        RnnfxTrainLayerBuf *b = &w->lb[l];
        switch (net->layer[l].cell) {
        case RNNFX_CELL_LSTM: rnnfx_train_lstm_forward(net, l, b, w, x, Bt, T); break;
        case RNNFX_CELL_GRU: rnnfx_train_gru_forward(net, l, b, w, x, Bt, T); break;
        case RNNFX_CELL_RNN: rnnfx_train_rnn_forward(net, l, b, w, x, Bt, T); break;
        }
        x = b->h + (size_t)Bt * (size_t)net->layer[l].H; /* h[1..T] */
    }
    rnnfx_train_dense_forward(net, w, x, Bt, T);
}

void rnnfx_train_backward_chunk(const RnnfxTrainNet *net, RnnfxTrainWork *w, int Bt, size_t T,
                                int dy_is_presigmoid)
{
    int L = net->L;
    const float *hL = w->lb[L - 1].h + (size_t)Bt * (size_t)net->layer[L - 1].H;
    /* two gradient buffers used in turn: a layer reads its output gradient
     * from one and writes its input gradient (the next layer down's output
     * gradient) into the other */
    float *dh = w->dh, *dx = w->dx;
    rnnfx_train_dense_backward(net, w, hL, dh, Bt, T, dy_is_presigmoid);
    for (int l = L - 1; l >= 0; l--) {
        RnnfxTrainLayerBuf *b = &w->lb[l];
        const float *x = l == 0 ? w->x0 : w->lb[l - 1].h + (size_t)Bt * (size_t)net->layer[l - 1].H;
        float *dxl = l == 0 ? NULL : dx; /* the model input needs no gradient */
        switch (net->layer[l].cell) {
        case RNNFX_CELL_LSTM: rnnfx_train_lstm_backward(net, l, b, w, x, dh, dxl, Bt, T); break;
        case RNNFX_CELL_GRU: rnnfx_train_gru_backward(net, l, b, w, x, dh, dxl, Bt, T); break;
        case RNNFX_CELL_RNN: rnnfx_train_rnn_backward(net, l, b, w, x, dh, dxl, Bt, T); break;
        }
        float *t = dh;
        dh = dx;
        dx = t;
    }
}

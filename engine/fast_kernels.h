/*
 * fast_kernels.h — the SIMD kernels, written once and instantiated per
 * instruction set (internal; included by fast_avx2.c and fast_avx512.c
 * only, after they define the vector macros below).
 *
 * The includer defines:
 *   RX_W            lanes per vector (8 or 16)
 *   RX_V            the vector type
 *   RX_MAXNV        accumulator vectors per matrix-vector chunk
 *   RX_LOAD(p) RX_STORE(p, v) RX_SET1(x) RX_ZERO()
 *   RX_FMA(a, b, c) = a*b + c     RX_ADD RX_SUB RX_MUL RX_MAX
 *   RX_SIG(v)       vector sigmoid of a plain value (activation_*.h)
 *   RX_TANH_HALF(v) tanh(v/2) of a plain value
 *   RX_GSIG(L, v)   sigmoid of a gate pre-activation of layer L, which is
 *                   in the layer's packing domain (fast_internal.h)
 *   RX_GTANH(L, v)  tanh(a) from a tanh-row pre-activation (2a or z2)
 *   RX_CTANH(L, c)  tanh(c) of an LSTM cell state (plain units)
 *   RX_HSUM(v)      horizontal sum to a float
 * and, for the stack kernel (rx_run_stack, below), if it has one:
 *   RX_STACK_MAXNV  the most RX_W-wide unit vectors per layer it runs
 *                   (times RX_W: the ISA table's stack_max_hidden)
 *   RX_STACK_CASES  RX_STACK_CASE(nv) for each count hp / RX_W a layer of
 *                   up to that many units has (hp: 16, 32, 48 or 64)
 *   RX_STACK_LSTM_SR(nv), RX_STACK_LSTM_SX(nv), RX_STACK_GRU_S(nv)
 *                   accumulator sets (see rx_stack_lstm), constant in nv:
 *                   SR >= 1, SR + SX <= 4, 1 <= S <= 2 (checked below)
 *   RX_TANH(v)      tanh of a plain value
 *   RX_DENSE_T, RX_DENSE_INIT(D), RX_DENSE_PUSH(D, F, h, nv, in, out),
 *   RX_DENSE_FLUSH(D, F, in, out)
 *                   its batched dense output (channel 0) from h[nv * RX_W]
 * All loads and stores are aligned: every packed array and every state
 * vector is 64-byte aligned and padded to a multiple of 16 floats.
 *
 * Shape of one time step, for each layer (see fast_internal.h for the
 * packed layout; "pre" are gate pre-activations, tanh rows already doubled):
 *   g  = b + Wx u            (layer 0, audio: g = b0 + wx0 * x, with the
 *                             knob inputs folded into b0 by set_knobs)
 *   LSTM/RNN: g += Wh h      GRU: gh = bh + Wh h
 *   LSTM:  i = s(g_i + p_i c), f = s(g_f + p_f c), gg = 2 s(g_g) - 1,
 *          c' = f c + i gg, o = s(g_o + p_o c'), h' = o (2 s(2c') - 1)
 *   GRU:   r = s(g_r + gh_r), z = s(g_z + gh_z),
 *          n = 2 s(g_n + r gh_n) - 1, h' = n + z (h - n)
 *   RNN:   h' = 2 s(g) - 1  or  max(g, 0)
 * then the dense layer on the last h. s is the sigmoid.
 *
 * The matrix-vector product keeps RX_MAXNV vectors of gate rows in
 * registers while it walks all columns (one broadcast input value per
 * column, one FMA per vector), with two accumulator sets (even and odd
 * columns) so that the FMA latency chain is half the column count.
 */

/* out[0 .. nv*W) = init + sum_k w[k*stride ..] * v[k]. out may equal init. */
RX_INLINE void rx_mv_chunk(float *out, const float *init, const float *restrict w, size_t stride,
                           const float *restrict v, int ncols, const int nv)
{
    RX_V a0[RX_MAXNV], a1[RX_MAXNV];
#pragma GCC unroll 16
    for (int i = 0; i < nv; i++) {
        a0[i] = RX_LOAD(init + i * RX_W);
        a1[i] = RX_ZERO();
    }
    int k = 0;
    for (; k + 1 < ncols; k += 2) {
        const RX_V x0 = RX_SET1(v[k]), x1 = RX_SET1(v[k + 1]);
        const float *w0 = w + (size_t)k * stride, *w1 = w0 + stride;
#pragma GCC unroll 16
        for (int i = 0; i < nv; i++) {
            a0[i] = RX_FMA(RX_LOAD(w0 + i * RX_W), x0, a0[i]);
            a1[i] = RX_FMA(RX_LOAD(w1 + i * RX_W), x1, a1[i]);
        }
    }
    if (k < ncols) {
        const RX_V x0 = RX_SET1(v[k]);
        const float *w0 = w + (size_t)k * stride;
#pragma GCC unroll 16
        for (int i = 0; i < nv; i++)
            a0[i] = RX_FMA(RX_LOAD(w0 + i * RX_W), x0, a0[i]);
    }
#pragma GCC unroll 16
    for (int i = 0; i < nv; i++)
        RX_STORE(out + i * RX_W, RX_ADD(a0[i], a1[i]));
}

/* out[rows] = init[rows] + sum_k w[k][rows] * v[k]; rows a multiple of W. */
static void rx_mv(float *out, const float *init, const float *restrict w, int rows,
                  const float *restrict v, int ncols)
{
    for (int r = 0; r < rows; r += RX_MAXNV * RX_W) {
        int nv = (rows - r) / RX_W;
        if (nv > RX_MAXNV)
            nv = RX_MAXNV;
        const float *wr = w + r;
        switch (nv) {
        case 1: rx_mv_chunk(out + r, init + r, wr, (size_t)rows, v, ncols, 1); break;
        case 2: rx_mv_chunk(out + r, init + r, wr, (size_t)rows, v, ncols, 2); break;
        case 3: rx_mv_chunk(out + r, init + r, wr, (size_t)rows, v, ncols, 3); break;
        case 4: rx_mv_chunk(out + r, init + r, wr, (size_t)rows, v, ncols, 4); break;
#if RX_MAXNV > 4
        case 5: rx_mv_chunk(out + r, init + r, wr, (size_t)rows, v, ncols, 5); break;
        case 6: rx_mv_chunk(out + r, init + r, wr, (size_t)rows, v, ncols, 6); break;
        case 7: rx_mv_chunk(out + r, init + r, wr, (size_t)rows, v, ncols, 7); break;
        case 8: rx_mv_chunk(out + r, init + r, wr, (size_t)rows, v, ncols, 8); break;
#endif
        default: break;
        }
    }
}

/* g holds all four pre-activation blocks (recurrent part included). */
static void rx_cell_lstm(const RnnfxFastLayer *L, const float *g, float *restrict h, float *restrict c)
{
    const int hp = L->hp;
    for (int j = 0; j < hp; j += RX_W) {
        RX_V gi = RX_LOAD(g + j), gf = RX_LOAD(g + hp + j);
        RX_V gg = RX_LOAD(g + 2 * hp + j), go = RX_LOAD(g + 3 * hp + j);
        RX_V cv = RX_LOAD(c + j);
        if (L->peep) {
            gi = RX_FMA(RX_LOAD(L->peep + j), cv, gi);
            gf = RX_FMA(RX_LOAD(L->peep + hp + j), cv, gf);
        }
        RX_V i = RX_GSIG(L, gi), f = RX_GSIG(L, gf), gt = RX_GTANH(L, gg);
        RX_V cn = RX_FMA(f, cv, RX_MUL(i, gt));
        if (L->peep)
            go = RX_FMA(RX_LOAD(L->peep + 2 * hp + j), cn, go);
        RX_V o = RX_GSIG(L, go);
        RX_STORE(c + j, cn);
        RX_STORE(h + j, RX_MUL(o, RX_CTANH(L, cn)));
    }
}

static void rx_cell_gru(const RnnfxFastLayer *L, const float *g, const float *gh, float *restrict h)
{
    const int hp = L->hp;
    for (int j = 0; j < hp; j += RX_W) {
        RX_V r = RX_GSIG(L, RX_ADD(RX_LOAD(g + j), RX_LOAD(gh + j)));
        RX_V z = RX_GSIG(L, RX_ADD(RX_LOAD(g + hp + j), RX_LOAD(gh + hp + j)));
        RX_V nn = RX_GTANH(L, RX_FMA(r, RX_LOAD(gh + 2 * hp + j), RX_LOAD(g + 2 * hp + j)));
        RX_STORE(h + j, RX_FMA(z, RX_SUB(RX_LOAD(h + j), nn), nn));
    }
}

static void rx_cell_rnn(const RnnfxFastLayer *L, const float *g, float *restrict h)
{
    if (L->relu) {
        for (int j = 0; j < L->hp; j += RX_W)
            RX_STORE(h + j, RX_MAX(RX_LOAD(g + j), RX_ZERO()));
    } else {
        for (int j = 0; j < L->hp; j += RX_W)
            RX_STORE(h + j, RX_GTANH(L, RX_LOAD(g + j)));
    }
}

/* Adds the recurrent part to g (input part already there) and applies the
 * cell: h (and c) advance one step. */
static void rx_layer_rec(const RnnfxFastLayer *L, float *g, float *gh, float *h, float *c)
{
    switch (L->cell) {
    case RNNFX_CELL_LSTM:
        rx_mv(g, g, L->wh, L->rows, h, L->hidden);
        rx_cell_lstm(L, g, h, c);
        break;
    case RNNFX_CELL_GRU:
        rx_mv(gh, L->bh, L->wh, L->rows, h, L->hidden);
        rx_cell_gru(L, g, gh, h);
        break;
    case RNNFX_CELL_RNN:
        rx_mv(g, g, L->wh, L->rows, h, L->hidden);
        rx_cell_rnn(L, g, h);
        break;
    }
}

/* Layers 1.. of one time step (layer 0 done by the caller). */
static void rx_upper_layers(const RnnfxFast *F, float *g, float *gh, float *const *h, float *const *c)
{
    for (int l = 1; l < F->n_layers; l++) {
        const RnnfxFastLayer *L = &F->layer[l];
        rx_mv(g, L->b, L->wx, L->rows, h[l - 1], L->in);
        rx_layer_rec(L, g, gh, h[l], c[l]);
    }
}

static void rx_run_audio(const RnnfxFast *F, void *scratch, float *const *h, float *const *c,
                         const float *in, float *out, size_t n)
{
    float *s = scratch;
    const float *b0 = s + F->off_b0;
    float *g = s + F->off_g, *gh = s + F->off_gh;
    const RnnfxFastLayer *L0 = &F->layer[0];
    const int rows0 = L0->rows, last = F->n_layers - 1, hpl = F->layer[last].hp;
    const float *wx0 = L0->wx, *dw0 = F->dw0, *hl = h[last];
    const float db0 = F->db[0];
    for (size_t t = 0; t < n; t++) {
        const float x = in[t];
        const RX_V xv = RX_SET1(x);
        for (int r = 0; r < rows0; r += RX_W)
            RX_STORE(g + r, RX_FMA(RX_LOAD(wx0 + r), xv, RX_LOAD(b0 + r)));
        rx_layer_rec(L0, g, gh, h[0], c[0]);
        rx_upper_layers(F, g, gh, h, c);
        RX_V acc = RX_ZERO();
        for (int j = 0; j < hpl; j += RX_W)
            acc = RX_FMA(RX_LOAD(dw0 + j), RX_LOAD(hl + j), acc);
        float y = RX_HSUM(acc) + db0;
        if (F->sigmoid)
            y = rnnfx_fast_sigmoidf(y);
        if (F->skip)
            y += x;
        out[t] = y;
    }
}

/* ---- stacks of layers ---------------------------------------------------------
 * Audio models of two or more LSTM (no peephole) or GRU layers of a few
 * units (NAM's LSTM captures; fast.c, stack_arch, says how many per ISA)
 * run here rather than through rx_run_audio, which round-trips every gate
 * vector through memory and looks up the activation's domain per call.
 * One layer's step keeps its gate vectors in registers from the
 * matrix-vector product to the new state, with the unit-vector count NV a
 * compile-time constant; fast.c packs the layers in the plain domain.
 * Layer l at sample t needs layer l at t - 1 and layer l - 1 at t. Run in
 * that order, a layer's step waits on the one below it; its hundreds of
 * waiting instructions fill the scheduler (our reading), so the core does
 * not reach the next, independent step: 2 x 16 LSTM measured no faster
 * than rx_run_audio on AVX-512. So the passes are skewed: pass t runs
 * layer l on sample t - l, and the steps of one pass depend only on the
 * pass before. The last passes of a block drain the upper layers, so the
 * output stays sample-aligned (no added latency) and any block split gives
 * the same operations. Figures: bench_engine's stack table. */
#ifdef RX_STACK_MAXNV
#define RX_STACK_MAXVEC (4 * RX_STACK_MAXNV)

/* rx_stack_lstm holds its SR + SX sets in acc[4], rx_stack_gru its S sets
 * in gi[2] and gr[2]. */
#define RX_STACK_SETS_FIT(nv)                                                                  \
    (RX_STACK_LSTM_SR(nv) >= 1 && RX_STACK_LSTM_SX(nv) >= 0 &&                                 \
     RX_STACK_LSTM_SR(nv) + RX_STACK_LSTM_SX(nv) <= 4 && RX_STACK_GRU_S(nv) >= 1 &&            \
     RX_STACK_GRU_S(nv) <= 2)
_Static_assert(RX_STACK_SETS_FIT(1) && RX_STACK_SETS_FIT(2) && RX_STACK_SETS_FIT(3) &&
                   RX_STACK_SETS_FIT(4),
               "the stack kernel's accumulator sets fit its arrays");

/* acc[s][v] (v < NVEC, s < S) += the columns k = s, s + S, ... (< ncols)
 * of w[k rows + W v] x[k]; a remainder column goes to set 0. */
RX_INLINE void rx_stack_mv(RX_V (*acc)[RX_STACK_MAXVEC], const float *w, const int rows,
                           const float *x, const int ncols, const int NVEC, const int S)
{
    int k = 0;
    for (; k + S <= ncols; k += S) {
#pragma GCC unroll 4
        for (int s = 0; s < S; s++) {
            const RX_V xb = RX_SET1(x[k + s]);
            const float *wk = w + (size_t)(k + s) * (size_t)rows;
#pragma GCC unroll 16
            for (int v = 0; v < NVEC; v++)
                acc[s][v] = RX_FMA(RX_LOAD(wk + RX_W * v), xb, acc[s][v]);
        }
    }
    for (; k < ncols; k++) {
        const RX_V xb = RX_SET1(x[k]);
        const float *wk = w + (size_t)k * (size_t)rows;
#pragma GCC unroll 16
        for (int v = 0; v < NVEC; v++)
            acc[0][v] = RX_FMA(RX_LOAD(wk + RX_W * v), xb, acc[0][v]);
    }
}

/* acc[0] = the input part's start: for layer 0 (x == NULL) the bias with
 * the knobs (b0) plus the audio sample's column, else the bias; sets 1 to
 * S - 1 zero. */
RX_INLINE void rx_stack_init(RX_V (*acc)[RX_STACK_MAXVEC], const RnnfxFastLayer *L, const float *b0,
                             RX_V xv, const float *x, const int NVEC, const int S)
{
#pragma GCC unroll 16
    for (int v = 0; v < NVEC; v++) {
        acc[0][v] = x ? RX_LOAD(L->b + RX_W * v)
                      : RX_FMA(RX_LOAD(L->wx + RX_W * v), xv, RX_LOAD(b0 + RX_W * v));
#pragma GCC unroll 4
        for (int s = 1; s < S; s++)
            acc[s][v] = RX_ZERO();
    }
}

/* acc[0][v] += acc[1 .. S)[v], S = 1 to 4, as (0 + 1) + (2 + 3) */
RX_INLINE void rx_stack_sum(RX_V (*acc)[RX_STACK_MAXVEC], const int NVEC, const int S)
{
#pragma GCC unroll 16
    for (int v = 0; v < NVEC; v++) {
        RX_V a = acc[0][v];
        if (S > 1)
            a = RX_ADD(a, acc[1][v]);
        if (S > 2)
            a = RX_ADD(a, S > 3 ? RX_ADD(acc[2][v], acc[3][v]) : acc[2][v]);
        acc[0][v] = a;
    }
}

/* One LSTM layer's step: x[0 .. L->in) is the layer below's state (NULL
 * for layer 0, whose input is xv, the audio sample). The recurrent columns
 * go to SR accumulator sets and the input columns to SX sets of their own
 * (shorter FMA chains), or, with SX = 0, to the same SR sets (when that
 * many sets would not fit in the registers). */
RX_INLINE void rx_stack_lstm(const RnnfxFastLayer *L, const float *b0, RX_V xv, const float *x,
                             float *h, float *c, const int NV)
{
    const int NVEC = 4 * NV, SR = RX_STACK_LSTM_SR(NV), SX = RX_STACK_LSTM_SX(NV);
    RX_V acc[4][RX_STACK_MAXVEC];
    rx_stack_init(acc, L, b0, xv, x, NVEC, SR + SX);
    rx_stack_mv(acc, L->wh, L->rows, h, L->hcols, NVEC, SR);
    if (x)
        rx_stack_mv(acc + (SX ? SR : 0), L->wx, L->rows, x, L->in, NVEC, SX ? SX : SR);
    rx_stack_sum(acc, NVEC, SR + SX);
#pragma GCC unroll 8
    for (int u = 0; u < NV; u++) {
        const RX_V i = RX_SIG(acc[0][u]);
        const RX_V f = RX_SIG(acc[0][NV + u]);
        const RX_V g = RX_TANH_HALF(acc[0][2 * NV + u]); /* tanh rows are doubled */
        const RX_V o = RX_SIG(acc[0][3 * NV + u]);
        const RX_V cn = RX_FMA(f, RX_LOAD(c + RX_W * u), RX_MUL(i, g));
        RX_STORE(c + RX_W * u, cn);
        RX_STORE(h + RX_W * u, RX_MUL(o, RX_TANH(cn)));
    }
}

/* One GRU layer's step; arguments as for rx_stack_lstm. The recurrent
 * part (from b_hn) and the input part stay apart, S sets each:
 * n = tanh(x_n + r h_n). */
RX_INLINE void rx_stack_gru(const RnnfxFastLayer *L, const float *b0, RX_V xv, const float *x,
                            float *h, const int NV)
{
    const int NVEC = 3 * NV, S = RX_STACK_GRU_S(NV);
    RX_V gi[2][RX_STACK_MAXVEC], gr[2][RX_STACK_MAXVEC];
    rx_stack_init(gi, L, b0, xv, x, NVEC, S);
#pragma GCC unroll 12
    for (int v = 0; v < NVEC; v++) {
        gr[0][v] = RX_LOAD(L->bh + RX_W * v);
        if (S == 2)
            gr[1][v] = RX_ZERO();
    }
    rx_stack_mv(gr, L->wh, L->rows, h, L->hcols, NVEC, S);
    if (x)
        rx_stack_mv(gi, L->wx, L->rows, x, L->in, NVEC, S);
    rx_stack_sum(gi, NVEC, S);
    rx_stack_sum(gr, NVEC, S);
#pragma GCC unroll 8
    for (int u = 0; u < NV; u++) {
        const RX_V r = RX_SIG(RX_ADD(gi[0][u], gr[0][u]));
        const RX_V z = RX_SIG(RX_ADD(gi[0][NV + u], gr[0][NV + u]));
        const RX_V nn = RX_TANH_HALF(RX_FMA(r, gr[0][2 * NV + u], gi[0][2 * NV + u]));
        const RX_V hv = RX_LOAD(h + RX_W * u);
        RX_STORE(h + RX_W * u, RX_FMA(z, RX_SUB(hv, nn), nn));
    }
}

#define RX_STACK_CASE(nv)                                                                      \
    case nv:                                                                                   \
        if (L->cell == RNNFX_CELL_LSTM)                                                        \
            rx_stack_lstm(L, b0, xv, x, h[l], c[l], nv);                                       \
        else                                                                                   \
            rx_stack_gru(L, b0, xv, x, h[l], nv);                                              \
        break;

static void rx_run_stack(const RnnfxFast *F, void *scratch, float *const *h, float *const *c,
                         const float *in, float *out, size_t n)
{
    const float *b0 = (const float *)scratch + F->off_b0;
    const int last = F->n_layers - 1, nvl = F->layer[last].hp / RX_W;
    RX_DENSE_T D;
    RX_DENSE_INIT(D);
    /* Pass t: layer l on sample t - l, the top layer first, so that a
     * layer reads the layer below's state before that layer's next step
     * overwrites it. */
    for (size_t t = 0; t < n + (size_t)last; t++) {
        for (int l = last; l >= 0; l--) {
            if (t < (size_t)l || t - (size_t)l >= n)
                continue;
            const RnnfxFastLayer *L = &F->layer[l];
            const RX_V xv = RX_SET1(l == 0 ? in[t] : 0.0f);
            const float *x = l > 0 ? h[l - 1] : NULL;
            switch (L->hp / RX_W) {
                RX_STACK_CASES
            default: break; /* not reached: fast.c sends no larger layer */
            }
            if (l == last)
                RX_DENSE_PUSH(&D, F, h[last], nvl, in, out);
        }
    }
    RX_DENSE_FLUSH(&D, F, in, out);
}
#endif

static void rx_run_frames(const RnnfxFast *F, void *scratch, float *const *h, float *const *c,
                          const float *in, float *out, size_t n)
{
    float *s = scratch;
    float *g = s + F->off_g, *gh = s + F->off_gh, *yv = s + F->off_y;
    const RnnfxFastLayer *L0 = &F->layer[0];
    const int last = F->n_layers - 1, ni = F->input_size, no = F->output_size;
    for (size_t t = 0; t < n; t++) {
        const float *x = in + t * (size_t)ni;
        float *y = out + t * (size_t)no;
        rx_mv(g, L0->b, L0->wx, L0->rows, x, ni);
        rx_layer_rec(L0, g, gh, h[0], c[0]);
        rx_upper_layers(F, g, gh, h, c);
        rx_mv(yv, F->db, F->dw, F->op, h[last], F->layer[last].hidden);
        if (F->sigmoid)
            for (int o = 0; o < F->op; o += RX_W)
                RX_STORE(yv + o, RX_SIG(RX_LOAD(yv + o)));
        const float skip = F->skip ? x[0] : 0.0f;
        for (int o = 0; o < no; o++)
            y[o] = yv[o] + skip;
    }
}

static void rx_act_sigmoid(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + RX_W <= n; i += RX_W) {
        RX_V v;
        memcpy(&v, x + i, sizeof v);
        v = RX_SIG(v);
        memcpy(y + i, &v, sizeof v);
    }
    for (; i < n; i++)
        y[i] = rnnfx_fast_sigmoidf(x[i]);
}

static void rx_act_tanh(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + RX_W <= n; i += RX_W) {
        RX_V v;
        memcpy(&v, x + i, sizeof v);
        v = RX_TANH_HALF(RX_ADD(v, v));
        memcpy(y + i, &v, sizeof v);
    }
    for (; i < n; i++)
        y[i] = rnnfx_fast_tanhf(x[i]);
}

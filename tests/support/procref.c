/*
 * procref.c — the batch tool's reference outputs (see procref.h).
 */
#include "procref.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audiotest.h"
#include "chain.h"
#include "ir.h"
#include "model_file.h"

static void controls_of(const RnnfxTestSettings *s, RnnfxChainControls *ctl)
{
    rnnfx_chain_controls_init(ctl);
    ctl->input_db = (float)s->in_db;
    ctl->output_db = (float)s->out_db;
    ctl->mix = (float)s->mix;
}

/* Channels c0 .. c0 + ch - 1 of x (n frames of file_ch channels) through
 * one chain of ch channels, the response made for ch channels, fed the
 * input and then tail + L zeros in blocks of 256; the first L outputs
 * dropped. Writes frames 0 .. n + tail - 1 of those channels into out
 * (interleaved, file_ch channels). */
static void chain_run(const char *model_path, const float *x, size_t n, int file_ch, int c0,
                      int ch, int rate, const char *ir_path, const RnnfxTestSettings *s,
                      size_t tail, float *out)
{
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_load(model_path, NULL, &m, &err), RNNFX_OK);
    RnnfxIr *ir = NULL;
    if (ir_path)
        assert_int_equal(rnnfx_ir_load(ir_path, (double)rate, ch, &ir, &err), RNNFX_OK);
    RnnfxChain *chain = NULL;
    assert_int_equal(rnnfx_chain_new_multi(NULL, (double)rate, ch, 256, &chain, &err), RNNFX_OK);
    RnnfxChainCore *core = NULL, *displaced = NULL;
    assert_int_equal(rnnfx_chain_core_new_ir(chain, m, 0, ir, &core, &err), RNNFX_OK); /* borrows m */
    assert_int_equal(rnnfx_chain_core_ir_frames(core), ir ? rnnfx_ir_frames(ir) : 0);
    rnnfx_ir_free(ir); /* the core keeps its own copy */
    RnnfxChainControls ctl;
    controls_of(s, &ctl);
    rnnfx_chain_set_controls(chain, &ctl);
    rnnfx_chain_swap(chain, core, &displaced);
    assert_null(displaced);
    const size_t lat = (size_t)rnnfx_chain_latency(chain), total = n + tail + lat;
    float *cin[2] = {NULL, NULL}, *cout[2] = {NULL, NULL};
    for (int c = 0; c < ch; c++) {
        cin[c] = calloc(total, sizeof(float));
        cout[c] = calloc(total, sizeof(float));
        assert_non_null(cin[c]);
        assert_non_null(cout[c]);
        for (size_t i = 0; i < n; i++)
            cin[c][i] = x[i * (size_t)file_ch + (size_t)(c0 + c)];
    }
    for (size_t pos = 0; pos < total; pos += 256) {
        size_t b = total - pos < 256 ? total - pos : 256;
        const float *in[2] = {cin[0] + pos, ch > 1 ? cin[1] + pos : NULL};
        float *o[2] = {cout[0] + pos, ch > 1 ? cout[1] + pos : NULL};
        rnnfx_chain_process_multi(chain, in, o, b);
    }
    for (int c = 0; c < ch; c++)
        for (size_t i = 0; i < n + tail; i++)
            out[i * (size_t)file_ch + (size_t)(c0 + c)] = cout[c][i + lat];
    for (int c = 0; c < ch; c++) {
        free(cin[c]);
        free(cout[c]);
    }
    rnnfx_chain_free(chain);
    rnnfx_model_free(m);
}

float *rnnfx_test_chain_reference(const char *model_path, const char *in_path,
                                  const char *ir_path, const RnnfxTestSettings *s, size_t tail,
                                  SF_INFO *info)
{
    float *x = rnnfx_test_read_audio(in_path, info);
    assert_non_null(x);
    const int ch = info->channels;
    const size_t n = (size_t)info->frames;
    float *out = calloc((n + tail) * (size_t)ch, sizeof *out);
    assert_non_null(out);
    if (ch == 2)
        chain_run(model_path, x, n, ch, 0, 2, info->samplerate, ir_path, s, tail, out);
    else
        for (int c = 0; c < ch; c++)
            chain_run(model_path, x, n, ch, c, 1, info->samplerate, ir_path, s, tail, out);
    free(x);
    return out;
}

void rnnfx_test_convolved(const RnnfxModel *m, const float *x, size_t n, size_t tail, int rate,
                          const float *h, size_t k_len, const RnnfxTestSettings *s, double *out)
{
    RnnfxChain *chain = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_chain_new(m, (double)rate, 500, &chain, &err), RNNFX_OK);
    RnnfxChainControls ctl;
    const RnnfxTestSettings wet = {s->in_db, 0.0, 1.0};
    controls_of(&wet, &ctl);
    rnnfx_chain_set_controls(chain, &ctl);
    const size_t lat = (size_t)rnnfx_chain_latency(chain), total = n + tail + lat;
    float *in = calloc(total, sizeof *in), *w = calloc(total, sizeof *w);
    assert_non_null(in);
    assert_non_null(w);
    memcpy(in, x, n * sizeof *x);
    for (size_t pos = 0; pos < total; pos += 500) {
        size_t b = total - pos < 500 ? total - pos : 500;
        rnnfx_chain_process(chain, in + pos, w + pos, b);
    }
    const double g = pow(10.0, s->out_db / 20.0);
    for (size_t i = 0; i < n + tail; i++) {
        size_t j = i + lat;
        double acc = 0.0;
        size_t kmax = j + 1 < k_len ? j + 1 : k_len;
        for (size_t k = 0; k < kmax; k++)
            acc += (double)h[k] * (double)w[j - k];
        out[i] = g * (s->mix * acc + (1.0 - s->mix) * (i < n ? (double)x[i] : 0.0));
    }
    free(in);
    free(w);
    rnnfx_chain_free(chain);
}

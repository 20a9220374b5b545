/*
 * fast.c — TEMPORARY placeholder until the SIMD kernels land: reports that
 * no packed form exists, so every instance runs the reference path.
 */
#include "fast.h"

#include <stddef.h>

RnnfxStatus rnnfx_fast_build(const RnnfxModel *model, RnnfxFast **out, RnnfxError *err)
{
    (void)model;
    (void)err;
    *out = NULL;
    return RNNFX_OK;
}
void rnnfx_fast_free(RnnfxFast *fast) { (void)fast; }
const char *rnnfx_fast_name(const RnnfxFast *fast) { (void)fast; return "none"; }
size_t rnnfx_fast_scratch_size(const RnnfxFast *fast) { (void)fast; return 0; }
void rnnfx_fast_set_knobs(const RnnfxFast *fast, void *scratch, const float *knobs)
{
    (void)fast, (void)scratch, (void)knobs;
}
void rnnfx_fast_process_audio(const RnnfxFast *fast, void *scratch, float *const *h,
                              float *const *c, const float *in, float *out, size_t n)
{
    (void)fast, (void)scratch, (void)h, (void)c, (void)in, (void)out, (void)n;
}
void rnnfx_fast_process_frames(const RnnfxFast *fast, void *scratch, float *const *h,
                               float *const *c, const float *in, float *out, size_t n)
{
    (void)fast, (void)scratch, (void)h, (void)c, (void)in, (void)out, (void)n;
}

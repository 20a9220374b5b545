/*
 * fuzz_ir.c — libFuzzer harness for impulse-response files and the
 * convolver (engine/ir.h, engine/convolver.h).
 *
 * A cabinet IR is a file a user downloads from anywhere, and the plugin
 * reads it in its worker while the host plays, so any bytes must give
 * either a clear refusal (a status and a non-empty message) or a response
 * the chain can run: 1 or 2 channels, 1 .. RNNFX_IR_MAX_SECONDS (and at
 * most RNNFX_IR_MAX_TAPS taps) long at the
 * host rate, finite, unit normalised power (ir.h) for the louder channel. That response then
 * goes through the convolver on a fixed signal in odd chunks, whose output
 * must be finite, start with h[0] x[0] exactly (no latency) and stay within
 * sum |h| max |x| (the convolution bound).
 *
 * The input's first byte picks the host rate and the chain's channel count;
 * the rest is written to a file and read with rnnfx_ir_load (libsndfile
 * decides what it is, as it would for a user's file).
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by `make fuzz`; the
 * same entry point is linked without libFuzzer into tests/test_fuzz_corpus.c,
 * which replays the committed corpus in the ordinary test run.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convolver.h"
#include "ir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_ir_run(const RnnfxIr *ir)
{
    static float x[3000], y[3000];
    for (int i = 0; i < 3000; i++)
        x[i] = (float)sin(0.013 * i) * (i % 7 == 0 ? 1.0f : 0.25f);
    for (int c = 0; c < rnnfx_ir_channels(ir); c++) {
        const float *h = rnnfx_ir_data(ir, c);
        size_t len = rnnfx_ir_frames(ir);
        double bound = 0.0;
        for (size_t i = 0; i < len; i++) {
            if (!isfinite(h[i])) abort();
            bound += fabs(h[i]);
        }
        RnnfxConvolver *cv = NULL;
        RnnfxError err = {{0}};
        if (rnnfx_convolver_new(h, len, &cv, &err) != RNNFX_OK) {
            fprintf(stderr, "fuzz_ir: a prepared response was refused: %s\n", err.msg);
            abort();
        }
        size_t off = 0, step = 1;
        while (off < 3000) {
            size_t n = step < 3000 - off ? step : 3000 - off;
            rnnfx_convolver_process(cv, x + off, y + off, n);
            off += n;
            step = step * 3 + 1;
        }
        if (y[0] != h[0] * x[0]) abort();
        for (int i = 0; i < 3000; i++)
            if (!isfinite(y[i]) || fabs(y[i]) > bound * 1.0001 + 1e-6) {
                fprintf(stderr, "fuzz_ir: output %g at %d, bound %g\n", y[i], i, bound);
                abort();
            }
        rnnfx_convolver_free(cv);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const double rates[4] = {44100.0, 48000.0, 96000.0, 22050.0};
    const double rate = rates[data[0] & 3];
    const int channels = (data[0] & 4) ? 2 : 1;
    char path[64];
    snprintf(path, sizeof path, "/tmp/rnnfx-fuzz-ir-%ld.bin", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) {
        fclose(f);
        remove(path);
        return 0;
    }
    fclose(f);
    RnnfxIr *ir = NULL;
    RnnfxError err = {{0}};
    RnnfxStatus st = rnnfx_ir_load(path, rate, channels, &ir, &err);
    remove(path);
    if (st != RNNFX_OK) {
        if (ir || !err.msg[0]) abort(); /* a refusal names its reason */
        return 0;
    }
    if (!ir || rnnfx_ir_channels(ir) != channels || rnnfx_ir_rate(ir) != rate ||
        rnnfx_ir_frames(ir) < 1 || (double)rnnfx_ir_frames(ir) > RNNFX_IR_MAX_SECONDS * rate + 1 ||
        rnnfx_ir_frames(ir) > RNNFX_IR_MAX_TAPS)
        abort();
    double emax = 0.0;
    for (int c = 0; c < channels; c++) {
        double e = rnnfx_ir_norm_power(rnnfx_ir_data(ir, c), rnnfx_ir_frames(ir), rate);
        emax = e > emax ? e : emax;
    }
    if (!(fabs(emax - 1.0) < 1e-3)) {
        fprintf(stderr, "fuzz_ir: normalised power %g after normalisation\n", emax);
        abort();
    }
    fuzz_ir_run(ir);
    rnnfx_ir_free(ir);
    return 0;
}

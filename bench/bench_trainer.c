/*
 * bench_trainer.c — raw speed of the engine's trainer (run by `make bench`).
 *
 * For LSTM-32 and GRU-32 (one layer, input 1, skip, PyTorch-like init) it
 * trains one epoch on 12 s of a generated 48 kHz pair (a tanh waveshaper
 * followed by a one-pole low-pass) with the default recipe (segment 4096,
 * burn-in 512, an update every 512 samples, batch 32) and with the
 * Automated-GuitarAmpModelling recipe (batch 40, 22050-sample segments,
 * burn-in 200, an update every 1000 samples), on 1 and 2 threads, and
 * prints training samples per second of wall time (burn-in included, as
 * PyTorch trainers count them) and per second of process CPU time. One
 * machine-readable line per run:
 *   bench trainer cell=lstm hidden=32 recipe=default threads=2 samples_per_s=... cpu_samples_per_s=... kernels=...
 *
 * This measures the trainer alone, on synthetic data; the side-by-side with
 * PyTorch on real material is bench/train (make bench-train). On a shared
 * machine wall figures drop with the load; the CPU figure is steadier. A
 * benchmark, not a test: it fails only if training cannot start.
 * Options: --quick (3 s of audio).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "train.h"

#define RATE 48000

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const char *name;
    size_t segment, burn_in, tbptt;
    int batch;
} Recipe;

static int run(RnnfxCell cell, const Recipe *r, int threads, const RnnfxTrainSet *set)
{
    RnnfxArch a;
    rnnfx_arch_init_audio(&a, cell, 32, 1);
    RnnfxModel *m = NULL;
    RnnfxError err;
    if (rnnfx_model_new(&a, &m, &err) != RNNFX_OK ||
        rnnfx_model_init_random(m, 1, &err) != RNNFX_OK) {
        fprintf(stderr, "bench_trainer: %s\n", err.msg);
        rnnfx_model_free(m);
        return 1;
    }
    RnnfxTrainConfig c;
    rnnfx_train_config_default(&c);
    c.segment_len = r->segment;
    c.burn_in = r->burn_in;
    c.tbptt = r->tbptt;
    c.batch = r->batch;
    c.threads = threads;
    RnnfxTrainer *tr = NULL;
    if (rnnfx_trainer_new(m, &c, &tr, &err) != RNNFX_OK) {
        fprintf(stderr, "bench_trainer: %s\n", err.msg);
        rnnfx_model_free(m);
        return 1;
    }
    RnnfxTrainStats st;
    double c0 = cpu_now();
    RnnfxStatus s = rnnfx_trainer_train(tr, set, 0, &st, &err);
    double c1 = cpu_now();
    if (s != RNNFX_OK) {
        fprintf(stderr, "bench_trainer: %s\n", err.msg);
        rnnfx_trainer_free(tr);
        rnnfx_model_free(m);
        return 1;
    }
    const char *kern = getenv("RNNFX_TRAIN_KERNELS");
    printf("bench trainer cell=%s hidden=32 recipe=%s threads=%d samples_per_s=%.0f "
           "cpu_samples_per_s=%.0f steps=%llu kernels=%s\n",
           rnnfx_cell_name(cell), r->name, threads, (double)st.samples / st.seconds,
           (double)st.samples / (c1 - c0), (unsigned long long)st.steps, kern ? kern : "auto");
    rnnfx_trainer_free(tr);
    rnnfx_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    size_t n = (size_t)(quick ? 3 : 12) * RATE;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    if (!x || !y) {
        fprintf(stderr, "bench_trainer: out of memory\n");
        return 1;
    }
    /* a swept tone with a slow envelope: the numbers do not depend on the
     * material, only the sample count does */
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / RATE;
        x[i] = (float)(0.5 * (1.0 + sin(0.7 * t)) * sin(2.0 * M_PI * (80.0 + 40.0 * t) * t));
        s += 0.23f * (tanhf(3.0f * x[i]) - s);
        y[i] = 0.7f * s;
    }
    RnnfxTrainSeq q = {x, y, n};
    RnnfxTrainSet set = {&q, 1};
    static const Recipe recipes[] = {
        {"default", 4096, 512, 512, 32},
        {"wright", 22050, 200, 1000, 40},
    };
    int fail = 0;
    for (size_t r = 0; r < sizeof recipes / sizeof recipes[0]; r++)
        for (int cell = 0; cell < 2; cell++)
            for (int th = 1; th <= 2; th++)
                fail |= run(cell == 0 ? RNNFX_CELL_LSTM : RNNFX_CELL_GRU, &recipes[r], th, &set);
    free(x);
    free(y);
    return fail;
}

/*
 * bench_process.c — batch throughput of rnnfx-process next to the bare
 * engine, so the parallel efficiency is visible.
 *
 * With an LSTM-32 capture at 48 kHz (files at 48 kHz: no resampling):
 *   1. the bare engine, one thread: rnnfx_instance_process() over one
 *      channel in 4096-sample blocks -> real-time factor per core (best of
 *      5 runs of 20 s of audio);
 *   2. the chain, one thread (what each batch worker runs per channel);
 *   3. rnnfx-process -j N on one 10-minute stereo file (channel-parallel);
 *   4. rnnfx-process -j N on 100 short mono files of 3 s (file-parallel).
 * Real-time factor (RTF) = seconds of audio per wall-clock second.
 * Efficiency = channel-seconds per second / (N x engine RTF): meaningful on
 * an otherwise idle machine. The CPU ratio (the tool's user+system CPU time
 * over the bare engine's CPU time for the same channel-seconds) shows the
 * overhead of reading, converting, the chain and writing, and stays
 * meaningful when other work shares the machine.
 *
 * Options: bench_process [-j N] [--minutes M] [--files K] [--model FILE].
 * Defaults keep it well under a minute on 2 cores. Figures on a shared
 * machine move with its load; the load average is printed with them.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sndfile.h>

#include "chain.h"
#include "cli.h"
#include "instance.h"
#include "model.h"
#include "model_file.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define RATE 48000

static void signal_fill(float *x, size_t n, unsigned seed)
{
    /* A guitar-ish test signal: decaying partials re-plucked every 0.5 s
     * plus a little noise; exercises the model's saturating range. */
    unsigned s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        double t = (double)(i % (RATE / 2)) / RATE;
        double f = 82.4 * (1 + (i / (RATE / 2)) % 5);
        double env = exp(-4.0 * t);
        s = s * 1664525u + 1013904223u;
        double noise = ((double)(s >> 8) / 16777216.0 - 0.5) * 0.02;
        x[i] = (float)(0.6 * env * (sin(2 * M_PI * f * t) + 0.3 * sin(4 * M_PI * f * t)) + noise);
    }
}

static int write_wav(const char *path, int channels, size_t frames, unsigned seed)
{
    SF_INFO info = {0};
    info.channels = channels;
    info.samplerate = RATE;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_24;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf)
        return -1;
    enum { CHUNK = 65536 };
    float *mono = malloc(CHUNK * sizeof *mono * 2);
    float *inter = malloc(CHUNK * sizeof *inter * (size_t)channels);
    size_t done = 0;
    while (done < frames) {
        size_t n = frames - done < CHUNK ? frames - done : CHUNK;
        for (int c = 0; c < channels; c++) {
            signal_fill(mono, n, seed + (unsigned)c + (unsigned)(done / CHUNK) * 7u);
            for (size_t i = 0; i < n; i++)
                inter[i * (size_t)channels + (size_t)c] = mono[i];
        }
        sf_writef_float(sf, inter, (sf_count_t)n);
        done += n;
    }
    free(mono);
    free(inter);
    return sf_close(sf) == 0 ? 0 : -1;
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double children_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

/* Runs the tool; returns wall seconds and puts its CPU seconds (all
 * threads, user + system) in *cpu. */
static double run_tool(const char *bin, const char *args, double *cpu)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' -q %s", bin, args);
    double c0 = children_cpu();
    double t0 = rnnfx_cli_now();
    int st = system(cmd);
    double t = rnnfx_cli_now() - t0;
    *cpu = children_cpu() - c0;
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_process: command failed: %s\n", cmd);
        return -1;
    }
    return t;
}

int main(int argc, char **argv)
{
    long jobs = rnnfx_cli_cpu_count(), n_files = 100;
    double minutes = 10.0;
    const char *model_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-j") && i + 1 < argc)
            jobs = atol(argv[++i]);
        else if (!strcmp(argv[i], "--minutes") && i + 1 < argc)
            minutes = atof(argv[++i]);
        else if (!strcmp(argv[i], "--files") && i + 1 < argc)
            n_files = atol(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model_arg = argv[++i];
        else {
            fprintf(stderr, "usage: bench_process [-j N] [--minutes M] [--files K] [--model FILE]\n");
            return 2;
        }
    }
    if (jobs < 1)
        jobs = 1;
    char dir[PATH_MAX], bin[PATH_MAX], self[PATH_MAX], path[PATH_MAX], args[4096];
    snprintf(self, sizeof self, "%s", argv[0]);
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(self, sizeof self, ".");
    snprintf(bin, sizeof bin, "%s/../bin/rnnfx-process", self);
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "bench_process: %s is not built\n", bin);
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/rnnfx-bench-process-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }

    /* The model: a given file, or a random LSTM-32 at 48 kHz (the speed of
     * a model does not depend on its weight values). */
    RnnfxModel *model = NULL;
    RnnfxError err;
    char model_path[PATH_MAX];
    if (model_arg) {
        snprintf(model_path, sizeof model_path, "%s", model_arg);
        if (rnnfx_model_load(model_path, NULL, &model, &err) != RNNFX_OK) {
            fprintf(stderr, "bench_process: %s\n", err.msg);
            return 1;
        }
    } else {
        RnnfxArch arch;
        rnnfx_arch_init_audio(&arch, RNNFX_CELL_LSTM, 32, 1);
        if (rnnfx_model_new(&arch, &model, &err) != RNNFX_OK)
            return 1;
        size_t np;
        float *p = rnnfx_model_params(model, &np);
        unsigned s = 7u;
        for (size_t i = 0; i < np; i++) {
            s = s * 1664525u + 1013904223u;
            p[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 0.35f;
        }
        if (rnnfx_model_finalize(model, &err) != RNNFX_OK) {
            fprintf(stderr, "bench_process: %s\n", err.msg);
            return 1;
        }
        snprintf(model_path, sizeof model_path, "%s/lstm32.json", dir);
        if (rnnfx_model_save(model, model_path, &err) != RNNFX_OK) {
            fprintf(stderr, "bench_process: %s\n", err.msg);
            return 1;
        }
    }
    const RnnfxArch *arch = rnnfx_model_arch(model);
    printf("model: %s %d, %.0f MACs/step, %g Hz; jobs: %ld; load average:",
           rnnfx_cell_name(arch->layers[0].cell), arch->layers[0].hidden_size,
           rnnfx_model_macs_per_step(model), rnnfx_model_meta_const(model)->sample_rate, jobs);
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        double l1;
        if (fscanf(la, "%lf", &l1) == 1)
            printf(" %.2f", l1);
        fclose(la);
    }
    printf("\n");

    /* 1 and 2: single-thread engine and chain on 20 s of one channel. */
    size_t n1 = 20 * RATE;
    float *x = malloc(n1 * sizeof *x), *y = malloc(n1 * sizeof *y);
    signal_fill(x, n1, 3);
    /* Best of 5 runs: on a shared machine the minimum is the figure least
     * disturbed by other work. */
    RnnfxInstance *inst = rnnfx_instance_new(model);
    double t0, t_engine = INFINITY, cpu_engine = INFINITY;
    for (int rep = 0; rep < 5; rep++) {
        rnnfx_instance_reset(inst);
        t0 = rnnfx_cli_now();
        double c0 = thread_cpu();
        for (size_t pos = 0; pos < n1; pos += 4096)
            rnnfx_instance_process(inst, x + pos, y + pos, n1 - pos < 4096 ? n1 - pos : 4096);
        double t = rnnfx_cli_now() - t0, c = thread_cpu() - c0;
        if (t < t_engine)
            t_engine = t;
        if (c < cpu_engine)
            cpu_engine = c;
    }
    /* CPU seconds the bare engine needs per channel-second of audio. */
    double engine_cpu_per_s = cpu_engine / ((double)n1 / RATE);
    double rtf_engine = (double)n1 / RATE / t_engine;
    printf("engine, 1 thread (%s kernels):  %7.1fx real time (%.1f ns/sample wall, %.1f ns/sample CPU)\n",
           rnnfx_instance_kernel_name(inst), rtf_engine, 1e9 * t_engine / (double)n1,
           1e9 * cpu_engine / (double)n1);
    rnnfx_instance_free(inst);
    RnnfxChain *chain = NULL;
    if (rnnfx_chain_new(model, RATE, 4096, &chain, &err) == RNNFX_OK) {
        double t_chain = INFINITY, cpu_chain = INFINITY;
        for (int rep = 0; rep < 5; rep++) {
            rnnfx_chain_reset(chain);
            t0 = rnnfx_cli_now();
            double c0 = thread_cpu();
            rnnfx_chain_process(chain, x, y, n1);
            double t = rnnfx_cli_now() - t0, c = thread_cpu() - c0;
            if (t < t_chain)
                t_chain = t;
            if (c < cpu_chain)
                cpu_chain = c;
        }
        printf("chain, 1 thread:                %7.1fx real time (%.1f ns/sample wall, %.1f ns/sample CPU)\n",
               (double)n1 / RATE / t_chain, 1e9 * t_chain / (double)n1, 1e9 * cpu_chain / (double)n1);
        rnnfx_chain_free(chain);
    }
    free(x);
    free(y);

    /* 3: one long stereo file. */
    size_t long_frames = (size_t)(minutes * 60.0 * RATE);
    snprintf(path, sizeof path, "%s/long.wav", dir);
    if (write_wav(path, 2, long_frames, 11) != 0) {
        fprintf(stderr, "bench_process: cannot write %s\n", path);
        return 1;
    }
    snprintf(args, sizeof args, "-j %ld -m '%s' -o '%s/out-long' '%s'", jobs, model_path, dir, path);
    double cpu_long = 0;
    double t_long = run_tool(bin, args, &cpu_long);
    if (t_long > 0) {
        double audio = (double)long_frames / RATE;
        double rtf = audio / t_long;
        printf("rnnfx-process, %.0f-min stereo file: %7.1fx real time (%.1f s), %.1f channel-s/s, "
               "efficiency %.0f %% of %ld x engine; CPU %.1f s = %.2f x the bare engine's\n",
               minutes, rtf, t_long, 2 * rtf, 100.0 * 2 * rtf / ((double)jobs * rtf_engine), jobs,
               cpu_long, cpu_long / (2 * audio * engine_cpu_per_s));
    }
    unlink(path);

    /* 4: many short mono files. */
    snprintf(path, sizeof path, "%s/short", dir);
    mkdir(path, 0777);
    size_t short_frames = 3 * RATE;
    for (long i = 0; i < n_files; i++) {
        char f[PATH_MAX];
        snprintf(f, sizeof f, "%s/short/take%03ld.wav", dir, i);
        if (write_wav(f, 1, short_frames, 100u + (unsigned)i) != 0) {
            fprintf(stderr, "bench_process: cannot write %s\n", f);
            return 1;
        }
    }
    snprintf(args, sizeof args, "-j %ld -m '%s' -o '%s/out-short' '%s'", jobs, model_path, dir, path);
    double cpu_short = 0;
    double t_short = run_tool(bin, args, &cpu_short);
    if (t_short > 0) {
        double audio = (double)n_files * (double)short_frames / RATE;
        double rtf = audio / t_short;
        printf("rnnfx-process, %ld x 3 s mono files: %7.1fx real time (%.1f s), %.1f channel-s/s, "
               "efficiency %.0f %% of %ld x engine; CPU %.1f s = %.2f x the bare engine's\n",
               n_files, rtf, t_short, rtf, 100.0 * rtf / ((double)jobs * rtf_engine), jobs,
               cpu_short, cpu_short / (audio * engine_cpu_per_s));
    }
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_process: could not remove %s\n", dir);
    rnnfx_model_free(model);
    return 0;
}

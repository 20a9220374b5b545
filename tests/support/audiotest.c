/*
 * audiotest.c — file helpers for the batch tool's tests (see audiotest.h).
 */
#include "audiotest.h"

#include <dirent.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "enginetest.h"

static char g_scratch[PATH_MAX / 2]; /* with rel below, always fits PATH_MAX */

void rnnfx_test_scratch_set(const char *dir) { snprintf(g_scratch, sizeof g_scratch, "%s", dir); }

const char *rnnfx_test_scratch_path(char *buf, const char *fmt, ...)
{
    char rel[PATH_MAX / 2 - 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    snprintf(buf, PATH_MAX, "%s/%s", g_scratch, rel);
    return buf;
}

const char *rnnfx_test_stderr_path(void)
{
    static char p[PATH_MAX];
    return rnnfx_test_scratch_path(p, "stderr.txt");
}

const char *rnnfx_test_beside(char *buf, size_t len, const char *argv0, const char *rel)
{
    const char *slash = strrchr(argv0, '/');
    if (slash)
        snprintf(buf, len, "%.*s/%s", (int)(slash - argv0), argv0, rel);
    else
        snprintf(buf, len, "./%s", rel);
    return buf;
}

int rnnfx_test_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int rnnfx_test_count_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            n += rnnfx_test_count_temp_files(p);
        else if (strstr(e->d_name, ".tmp-"))
            n++;
    }
    closedir(d);
    return n;
}

int rnnfx_test_write_audio(const char *path, int format, int channels, int rate, size_t n,
                           float amp, uint64_t seed)
{
    float *x = malloc((n ? n : 1) * (size_t)channels * sizeof *x);
    float *mono = malloc((n ? n : 1) * sizeof *mono);
    int rc = -1;
    if (x && mono) {
        for (int c = 0; c < channels; c++) {
            rnnfx_test_signal(mono, n, seed + (uint64_t)c);
            for (size_t i = 0; i < n; i++)
                x[i * (size_t)channels + (size_t)c] = amp * mono[i];
        }
        SF_INFO info = {0};
        info.channels = channels;
        info.samplerate = rate;
        info.format = format;
        SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
        if (sf) {
            rc = sf_writef_float(sf, x, (sf_count_t)n) == (sf_count_t)n ? 0 : -1;
            if (sf_close(sf) != 0)
                rc = -1;
        }
    }
    free(x);
    free(mono);
    return rc;
}

int rnnfx_test_write_float_wav(const char *path, int channels, int rate, const float *inter,
                               size_t frames)
{
    return rnnfx_test_write_frames(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, channels, rate, inter,
                                   frames);
}

long long rnnfx_test_frames(const char *path)
{
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf)
        return -1;
    sf_close(sf);
    return (long long)info.frames;
}

int rnnfx_test_same_start(const char *a, const char *b, size_t frames)
{
    SF_INFO ai, bi;
    float *x = rnnfx_test_read_audio(a, &ai);
    float *y = rnnfx_test_read_audio(b, &bi);
    int same = x && y && ai.channels == bi.channels && ai.frames >= (sf_count_t)frames &&
               bi.frames >= (sf_count_t)frames &&
               memcmp(x, y, frames * (size_t)ai.channels * sizeof(float)) == 0;
    if (!same)
        fprintf(stderr, "%s and %s differ in their first %zu frames\n", a, b, frames);
    free(x);
    free(y);
    return same;
}

int rnnfx_test_write_frames(const char *path, int format, int channels, int rate,
                            const float *inter, size_t frames)
{
    SF_INFO info = {0};
    info.channels = channels;
    info.samplerate = rate;
    info.format = format;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf)
        return -1;
    sf_count_t w = sf_writef_float(sf, inter, (sf_count_t)frames);
    int closed = sf_close(sf);
    return w == (sf_count_t)frames && closed == 0 ? 0 : -1;
}

int rnnfx_test_write_decay(const char *path, int rate, int channels, size_t frames, uint64_t seed,
                           double amp, double tau0, double dtau)
{
    float *x = malloc((frames ? frames : 1) * (size_t)channels * sizeof *x);
    if (!x)
        return -1;
    RnnfxTestRng rng;
    rnnfx_test_rng_seed(&rng, seed);
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++) {
            double noise = 2.0 * rnnfx_test_rng_uniform(&rng) - 1.0;
            double tau = tau0 + dtau * c;
            x[i * (size_t)channels + (size_t)c] = (float)(amp * noise * exp(-(double)i / tau));
        }
    int rc = rnnfx_test_write_float_wav(path, channels, rate, x, frames);
    free(x);
    return rc;
}

float *rnnfx_test_read_audio(const char *path, SF_INFO *info)
{
    memset(info, 0, sizeof *info);
    SNDFILE *sf = sf_open(path, SFM_READ, info);
    if (!sf)
        return NULL;
    size_t total = (size_t)info->frames * (size_t)info->channels;
    float *x = malloc((total ? total : 1) * sizeof *x);
    if (x && sf_readf_float(sf, x, info->frames) != info->frames) {
        free(x);
        x = NULL;
    }
    sf_close(sf);
    return x;
}

float *rnnfx_test_channel_of(const float *x, size_t n, int channels, int c)
{
    float *m = malloc((n ? n : 1) * sizeof *m);
    if (m)
        for (size_t i = 0; i < n; i++)
            m[i] = x[i * (size_t)channels + (size_t)c];
    return m;
}

int rnnfx_test_run_quiet(const char *bin, const char *errfile, const char *fmt, ...)
{
    char args[8192], cmd[12288];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' -q %s 2>'%s'", bin, args, errfile);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

int rnnfx_test_file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (!strstr(buf, needle)) {
        fprintf(stderr, "expected '%s' in:\n%s\n", needle, buf);
        return 0;
    }
    return 1;
}

int rnnfx_test_copy_half(const char *src_path, const char *dst_path)
{
    struct stat st;
    if (stat(src_path, &st) != 0)
        return -1;
    FILE *src = fopen(src_path, "rb"), *dst = fopen(dst_path, "wb");
    int rc = src && dst ? 0 : -1;
    char buf[4096];
    long left = st.st_size / 2;
    while (rc == 0 && left > 0) {
        size_t k = fread(buf, 1, left < 4096 ? (size_t)left : 4096, src);
        if (k == 0 || fwrite(buf, 1, k, dst) != k)
            rc = -1;
        left -= (long)k;
    }
    if (src)
        fclose(src);
    if (dst && fclose(dst) != 0)
        rc = -1;
    return rc;
}

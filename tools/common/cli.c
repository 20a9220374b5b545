/*
 * cli.c — small helpers shared by the rnnfx command-line programs (see cli.h).
 */
#ifdef __linux__
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT (rnnfx_cli_cpu_count) */
#include <sched.h>
#include <sys/stat.h>
#endif
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "instance.h"
#include "level.h"
#include "model_file.h"

int rnnfx_cli_version(const char *prog)
{
    printf("%s %s\n", prog, RNNFX_VERSION);
    return 0;
}

int rnnfx_cli_parse_double(const char *text, double *out)
{
    if (!text || !*text)
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int rnnfx_cli_parse_int(const char *text, long lo, long hi, long *out)
{
    if (!text || !*text)
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int rnnfx_cli_parse_knob(const char *text, RnnfxCliKnob *knob, char *err, size_t err_len)
{
    const char *eq = strchr(text, '=');
    if (!eq || eq == text) {
        snprintf(err, err_len, "'%s' is not of the form knob=value", text);
        return -1;
    }
    size_t n = (size_t)(eq - text);
    if (n >= sizeof knob->name) {
        snprintf(err, err_len, "knob name in '%s' is too long", text);
        return -1;
    }
    memcpy(knob->name, text, n);
    knob->name[n] = '\0';
    if (rnnfx_cli_parse_double(eq + 1, &knob->value) != 0) {
        snprintf(err, err_len, "knob value in '%s' is not a number", text);
        return -1;
    }
    return 0;
}

void rnnfx_cli_knob_names(const RnnfxModel *model, char *buf, size_t len)
{
    if (len == 0)
        return;
    const RnnfxArch *arch = rnnfx_model_arch(model);
    snprintf(buf, len, "%s", arch->n_params ? "" : "none");
    for (int p = 0; p < arch->n_params; p++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", p ? ", " : "", arch->params[p].name);
    }
}

int rnnfx_cli_resolve_knobs(const RnnfxModel *model, const RnnfxCliKnob *knobs, int n_knobs,
                            int *index, char *err, size_t err_len)
{
    const RnnfxArch *arch = rnnfx_model_arch(model);
    for (int i = 0; i < n_knobs; i++) {
        int k = rnnfx_model_param_index(model, knobs[i].name);
        if (k < 0) {
            char list[512];
            rnnfx_cli_knob_names(model, list, sizeof list);
            snprintf(err, err_len, "the model has no knob named '%s' (its knobs: %s)",
                     knobs[i].name, list);
            return -1;
        }
        /* the same knob twice would play whichever came last without a word */
        for (int j = 0; j < i; j++) {
            if (index[j] == k) {
                snprintf(err, err_len, "knob '%s' is set twice", arch->params[k].name);
                return -1;
            }
        }
        index[i] = k;
    }
    return 0;
}

int rnnfx_cli_once(const char *prog, const char *opt, int *given)
{
    if (*given) {
        fprintf(stderr, "%s: %s is given twice (see --help)\n", prog, opt);
        return -1;
    }
    *given = 1;
    return 0;
}

int rnnfx_cli_set_once(const char *prog, const char *opt, const char **slot, const char *value)
{
    /* "-o \"$OUT\"" with OUT unset: rnnfx-process wrote into the current
     * folder without a word, rnnfx-train trained and then could not save */
    if (value && !value[0]) {
        fprintf(stderr, "%s: %s needs a name, not an empty string (an unset shell variable?)\n",
                prog, opt);
        return -1;
    }
    if (*slot) {
        fprintf(stderr, "%s: %s is given twice ('%s', '%s')\n", prog, opt, *slot, value);
        return -1;
    }
    *slot = value;
    return 0;
}

/* The "--name" part of "--name=value" if it is a listed option taking a
 * value, else 0. */
static size_t equals_split_at(const char *arg, const char *const *value_opts)
{
    const char *eq = strchr(arg, '=');
    if (strncmp(arg, "--", 2) != 0 || !eq)
        return 0;
    size_t n = (size_t)(eq - arg);
    for (const char *const *o = value_opts; o && *o; o++)
        if (strlen(*o) == n && !strncmp(*o, arg, n))
            return n;
    return 0;
}

char **rnnfx_cli_split_equals(int argc, char **argv, const char *const *value_opts,
                              int *argc_out)
{
    /* one block: the pointer array (at most 2 argc + 1 entries), then a
     * copy of each split option's name */
    size_t names = 0;
    int after_dashes = 0;
    for (int i = 1; i < argc; i++) {
        if (!after_dashes && !strcmp(argv[i], "--"))
            after_dashes = 1;
        else if (!after_dashes)
            names += equals_split_at(argv[i], value_opts) + 1;
    }
    size_t slots = 2 * (size_t)(argc > 0 ? argc : 0) + 1;
    /* kept in a static: reachable until exit, so leak checkers stay quiet */
    static char **block;
    char **out = malloc(slots * sizeof *out + names + 1);
    if (!out)
        return NULL;
    free(block);
    block = out;
    char *text = (char *)(out + slots);
    int n = 0;
    after_dashes = 0;
    for (int i = 0; i < argc; i++) {
        size_t k = i > 0 && !after_dashes ? equals_split_at(argv[i], value_opts) : 0;
        if (i > 0 && !after_dashes && !strcmp(argv[i], "--"))
            after_dashes = 1;
        if (k) {
            memcpy(text, argv[i], k);
            text[k] = '\0';
            out[n++] = text;
            text += k + 1;
            out[n++] = argv[i] + k + 1;
        } else {
            out[n++] = argv[i];
        }
    }
    out[n] = NULL;
    *argc_out = n;
    return out;
}

double rnnfx_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int rnnfx_cli_cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void rnnfx_cli_format_duration(double s, char *buf, size_t len)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, len, "?");
        return;
    }
    if (s < 60.0) {
        snprintf(buf, len, "%.1f s", s);
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

int rnnfx_cli_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
#ifdef __linux__
    /* The cores this process may run on (taskset, cgroups' cpusets, a
     * Slurm allocation), as nproc counts them: all online cores made
     * "rnnfx-process" under "taskset -c 1" run 2 threads on one core. */
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int allowed = CPU_COUNT(&set);
        if (allowed >= 1 && (n < 1 || allowed < n))
            n = allowed;
    }
#endif
    return n < 1 ? 1 : (int)n;
}

double rnnfx_cli_db_to_lin(double db)
{
    return pow(10.0, db / 20.0);
}

double rnnfx_cli_lin_to_db(double lin)
{
    return lin > 0 ? 20.0 * log10(lin) : -INFINITY;
}

const char *rnnfx_cli_foreign_model_name(const char *path)
{
    static const char *const audio[] = {".wav", ".flac", ".aif", ".aiff", ".ogg", ".mp3",
                                        ".caf", ".w64", ".rf64", ".au", NULL};
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    if (!dot) return NULL;
    if (!strcasecmp(dot, ".nam")) return "NAM";
    if (!strcasecmp(dot, ".aidax")) return "AIDA-X";
    for (int k = 0; audio[k]; k++)
        if (!strcasecmp(dot, audio[k])) return "audio";
    return NULL;
}

int rnnfx_cli_check_folder_of(const char *prog, const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: cannot write %s: folder %s does not exist\n", prog, path, dir);
        return -1;
    }
    if (access(dir, W_OK) != 0) {
        fprintf(stderr, "%s: cannot write %s: folder %s is not writable\n", prog, path, dir);
        return -1;
    }
    /* Checked here, before the work: a training run whose checkpoint name
     * ("<a 250-byte name>.json.ckpt") was too long trained to the end and
     * then could not save. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    long name_max = pathconf(dir, _PC_NAME_MAX);
    if (name_max <= 0)
        name_max = 255;
    if ((long)strlen(base) > name_max) {
        fprintf(stderr, "%s: cannot write %s: its name is %zu bytes, longer than the %ld this "
                        "file system allows; choose a shorter name\n",
                prog, path, strlen(base), name_max);
        return -1;
    }
    return 0;
}

/* "folder/name" with the folder resolved (realpath), into out; -1 if the
 * folder does not exist. */
static int canonical_name(const char *path, char *out, size_t len)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? path + (slash - dir) + 1 : path;
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return -1;
    snprintf(out, len, "%s/%s", real, base);
    return 0;
}

int rnnfx_cli_same_path(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    if (rnnfx_cli_same_file(a, b))
        return 1;
    char ca[PATH_MAX * 2], cb[PATH_MAX * 2];
    if (canonical_name(a, ca, sizeof ca) != 0 || canonical_name(b, cb, sizeof cb) != 0)
        return !strcmp(a, b);
    return !strcmp(ca, cb);
}

int rnnfx_cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

const char *rnnfx_cli_special_file(const char *path)
{
    struct stat st;
    if (!path || stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
        return NULL;
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        return "a device";
    if (S_ISFIFO(st.st_mode))
        return "a pipe";
    if (S_ISSOCK(st.st_mode))
        return "a socket";
    return "not a regular file";
}

int rnnfx_cli_refuse_special(const char *prog, const char *what, const char *path)
{
    const char *special = rnnfx_cli_special_file(path);
    if (!special)
        return 0;
    fprintf(stderr, "%s: %s%s%s is %s, not a file to write; choose another name\n", prog,
            what ? what : "", what ? " " : "", path, special);
    return -1;
}

const char *rnnfx_cli_without_path(const char *why, const char *path)
{
    const size_t pl = strlen(path);
    return !strncmp(why, path, pl) && !strncmp(why + pl, ": ", 2) ? why + pl + 2 : why;
}

int rnnfx_cli_model_rate_assumed(const RnnfxModel *model)
{
    return rnnfx_model_arch(model)->kind == RNNFX_KIND_AUDIO &&
           rnnfx_model_meta_const(model)->sample_rate_assumed;
}

/* A new instance of an audio model, settled on RNNFX_CLI_REST_SAMPLES
 * zeros at its default knobs; *rest gets its last output. NULL for a
 * MIDI-frame model or when there is no memory. */
static RnnfxInstance *settled_instance(const RnnfxModel *model, float *buf, size_t len, double *rest)
{
    const RnnfxArch *a = rnnfx_model_arch(model);
    if (a->kind != RNNFX_KIND_AUDIO)
        return NULL;
    RnnfxInstance *inst = rnnfx_instance_new(model);
    if (!inst)
        return NULL;
    for (int k = 0; k < a->n_params; k++)
        rnnfx_instance_set_param(inst, k, a->params[k].def);
    for (size_t done = 0; done < RNNFX_CLI_REST_SAMPLES; done += len) {
        memset(buf, 0, len * sizeof(float));
        rnnfx_instance_process(inst, buf, buf, len);
    }
    *rest = (double)buf[len - 1];
    return inst;
}

double rnnfx_cli_model_rest_output(const RnnfxModel *model)
{
    float buf[256];
    double rest = NAN;
    rnnfx_instance_free(settled_instance(model, buf, 256, &rest));
    return rest;
}

double rnnfx_cli_model_level_db(const RnnfxModel *model)
{
    float buf[256];
    double rest;
    RnnfxInstance *inst = settled_instance(model, buf, 256, &rest);
    if (!inst)
        return NAN;
    const double rate = rnnfx_model_meta_const(model)->sample_rate;
    const double db = rnnfx_level_measure(inst, rate > 0.0 ? rate : 48000.0);
    rnnfx_instance_free(inst);
    return db;
}

void rnnfx_cli_rest_warning(double rest, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    if (isnan(rest) || fabs(rest) <= RNNFX_CLI_REST_WARN)
        return;
    snprintf(buf, len,
             "on silence the model settles at %+.3f (a DC offset of %.1f dBFS under everything "
             "it plays; captures settle near 0): the file may be mis-converted (gate or bias "
             "order) or broken",
             rest, 20.0 * log10(fabs(rest)));
}

/*
 * rnnfx-inspect — prints what a model file holds and validates it.
 *
 *   rnnfx-inspect [--json] [--bench-ms N | --no-bench] [--rate HZ] MODEL... (options anywhere)
 *
 * (--sample-rate HZ is taken for --rate: rnnfx-convert names the same
 * setting so.)
 *
 * For each file: the format it was read from, the architecture (layers,
 * sizes, skip, output activation), parameter count, sample rate, gains,
 * conditioning knobs, metadata, training error, and a CPU cost estimate:
 * multiply-adds per step from the architecture, and a measurement (the
 * model's own fast kernels run on noise for a short time) in ns per sample
 * and percent of one core at 48 000 samples per second.
 *
 * Validation is the loader's: a file rnnfx_model_load() rejects makes this
 * program print the loader's message and exit 1 (after the other files have
 * been shown). A file that carries its own test vectors (AIDA-X
 * input_batch/output_batch) is also run on them, and a mismatch is a
 * failure too. It is a read-only tool: it never writes files.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "instance.h"
#include "model.h"
#include "model_file.h"
#include "selftest.h"

/* The file's own test vectors, when it carries some (AIDA-X input_batch /
 * output_batch). */
typedef struct {
    int present;  /* 0: the file has none */
    int ok;       /* ran and max_err <= tolerance */
    size_t steps;
    double max_err;
    char error[512]; /* vectors present but unusable */
} SelfTest;

static SelfTest run_selftest(const char *path, const RnnfxModel *model)
{
    SelfTest t = {0, 0, 0, 0.0, ""};
    RnnfxError err = {{0}};
    RnnfxStatus st = rnnfx_selftest_file(path, model, &t.steps, &t.max_err, &err);
    if (st != RNNFX_OK) {
        t.present = 1;
        snprintf(t.error, sizeof t.error, "%s", err.msg[0] ? err.msg : rnnfx_strerror(st));
        return t;
    }
    t.present = t.steps > 0;
    t.ok = t.present && t.max_err <= RNNFX_SELFTEST_TOLERANCE;
    return t;
}

typedef struct {
    double ns_per_sample; /* < 0: not measured */
    double macs_per_step;
    const char *kernel;
    double seconds; /* time spent measuring */
} Cost;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rnnfx-inspect [options] MODEL...\n"
            "Prints the architecture, sizes, metadata and CPU cost of model files\n"
            "(rnnfx JSON, AIDA-X/RTNeural JSON, Proteus/CoreAudioML JSON, NAM .nam)\n"
            "and validates them. Exit status 1 if any file is invalid.\n"
            "\n"
            "  --json          machine-readable output (one JSON object per file, or an\n"
            "                  array when several files are given)\n"
            "  --bench-ms N    time spent measuring the CPU cost, ms (default 200, at most 60000)\n"
            "  --no-bench      skip the measurement (MACs per step are still shown)\n"
            "  --rate HZ       sample rate to take when a file does not say (shown as\n"
            "                  given by --rate); also spelt --sample-rate HZ\n"
            "  -h, --help      this text\n"
            "  --version       the program's version\n");
}

/* n blocks of the model's kind (audio samples or MIDI frames). */
static void run_blocks(RnnfxInstance *inst, int audio, const float *in, float *out, size_t block,
                       int n)
{
    for (int i = 0; i < n; i++) {
        if (audio)
            rnnfx_instance_process(inst, in, out, block);
        else
            rnnfx_instance_process_frames(inst, in, out, block);
    }
}

/* Runs the model's fast kernels on white noise in 128-sample blocks (the
 * plugin's typical block) for about budget_ms and returns ns per sample:
 * the median over batches of 16 blocks, so that a moment of contention
 * (a shared machine can run at half speed for tenths of a second) moves
 * the figure less than it moves a mean. MIDI-frame models run their
 * general path with random frames. */
static Cost measure(const RnnfxModel *model, double budget_ms)
{
    Cost c = {-1.0, rnnfx_model_macs_per_step(model), "?", 0.0};
    RnnfxInstance *inst = rnnfx_instance_new(model);
    if (!inst)
        return c;
    c.kernel = rnnfx_instance_kernel_name(inst);
    if (budget_ms <= 0) {
        rnnfx_instance_free(inst);
        return c;
    }
    const RnnfxArch *arch = rnnfx_model_arch(model);
    enum { BLOCK = 128 };
    size_t in_w = arch->kind == RNNFX_KIND_AUDIO ? 1 : (size_t)arch->input_size;
    size_t out_w = arch->kind == RNNFX_KIND_AUDIO ? 1 : (size_t)arch->output_size;
    float *in = malloc(sizeof(float) * BLOCK * in_w);
    float *out = malloc(sizeof(float) * BLOCK * out_w);
    if (!in || !out) {
        free(in);
        free(out);
        rnnfx_instance_free(inst);
        return c;
    }
    unsigned seed = 12345u;
    for (size_t i = 0; i < BLOCK * in_w; i++) {
        seed = seed * 1664525u + 1013904223u;
        float r = (float)(seed >> 8) / 16777216.0f;
        in[i] = arch->kind == RNNFX_KIND_AUDIO ? 0.5f * (2.0f * r - 1.0f) : (r < 0.1f);
    }
    /* Warm up (caches, branch predictors, frequency ramp), then time whole
     * batches of blocks until the budget is spent. */
    const int audio = arch->kind == RNNFX_KIND_AUDIO;
    run_blocks(inst, audio, in, out, BLOCK, 64);
    /* A long --bench-ms fills the table: then neighbouring batches are
     * merged and each batch from there on is twice as long, so the whole
     * budget is still measured. */
    enum { BATCHES = 4096 };
    static double batch_s[BATCHES];
    int per = 16; /* blocks per batch */
    double t0 = rnnfx_cli_now(), t = t0;
    size_t nb = 0;
    while (t - t0 < budget_ms * 1e-3) {
        if (nb == BATCHES) {
            for (size_t i = 0; i < BATCHES / 2; i++)
                batch_s[i] = batch_s[2 * i] + batch_s[2 * i + 1];
            nb = BATCHES / 2;
            per *= 2;
        }
        const double tb = t;
        run_blocks(inst, audio, in, out, BLOCK, per);
        t = rnnfx_cli_now();
        batch_s[nb++] = t - tb;
    }
    c.seconds = t - t0;
    if (nb) {
        qsort(batch_s, nb, sizeof batch_s[0], rnnfx_cli_cmp_double);
        const double med = nb % 2 ? batch_s[nb / 2] : 0.5 * (batch_s[nb / 2 - 1] + batch_s[nb / 2]);
        c.ns_per_sample = 1e9 * med / ((double)per * BLOCK);
    }
    free(in);
    free(out);
    rnnfx_instance_free(inst);
    return c;
}

static size_t param_count(const RnnfxModel *model)
{
    size_t n = 0;
    (void)rnnfx_model_params_const(model, &n);
    return n;
}

static const char *kind_name(RnnfxKind k)
{
    return k == RNNFX_KIND_AUDIO ? "audio" : "midi-frames";
}

static void layer_text(const RnnfxLayerDesc *l, char *buf, size_t len)
{
    snprintf(buf, len, "%s %d%s%s", rnnfx_cell_name(l->cell), l->hidden_size,
             l->cell == RNNFX_CELL_LSTM && l->peephole ? " (peephole)" : "",
             l->cell == RNNFX_CELL_RNN ? (l->relu ? " (relu)" : " (tanh)") : "");
}

/* Text from a model file as it may be printed on a terminal: control
 * characters are shown as \xNN. A file's name or description once went
 * out as it was, so it could forge lines of this report ("\n  self-test:
 * passed") or send escape sequences to the terminal. UTF-8 passes. Returns
 * buf. Thread: any. */
static const char *printable(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (; *s && o + 5 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
    return buf;
}

/* Where an audio model's sample rate came from: the file, --rate (the
 * file does not say), or the format's default (the file does not say and
 * no --rate was given). */
typedef enum { RATE_FROM_FILE, RATE_FROM_OPTION, RATE_ASSUMED } RateSource;

static void print_text(const char *path, const RnnfxModel *model, const Cost *cost,
                       const SelfTest *t, RateSource rate_src, double rest, double level)
{
    char pb[4 * 4096 + 8]; /* printable() of the longest metadata field */
    const RnnfxArch *a = rnnfx_model_arch(model);
    const RnnfxMeta *m = rnnfx_model_meta_const(model);
    size_t np = param_count(model);
    printf("%s\n", path);
    /* a file whose own self-test fails reads, but plays wrongly: not valid
     * (the exit status says so too) */
    printf("  valid:          %s\n", t->present && !t->ok ? "no (its self-test failed)" : "yes");
    printf("  format:         %s\n", m->source_format[0] ? m->source_format : "rnnfx");
    printf("  kind:           %s\n", kind_name(a->kind));
    printf("  architecture:   ");
    for (int l = 0; l < a->n_layers; l++) {
        char lt[96];
        layer_text(&a->layers[l], lt, sizeof lt);
        printf("%s%s", l ? " -> " : "", lt);
    }
    printf(" -> dense %d%s%s\n", a->output_size, a->output_sigmoid ? " (sigmoid)" : "",
           a->skip ? " + skip" : "");
    printf("  inputs:         %d", a->input_size);
    if (a->kind == RNNFX_KIND_AUDIO)
        printf(" (audio%s)", a->n_params ? " + knobs" : "");
    printf("\n  outputs:        %d\n", a->output_size);
    /* counted as rnnfx holds them: both bias vectors (PyTorch's layout;
     * Keras and NAM files sum them into one) and the start state, so a
     * format's own count can be lower */
    printf("  parameters:     %zu (%.1f KiB as float32; both biases and the start state "
           "counted)\n",
           np, (double)np * 4.0 / 1024.0);
    if (a->kind == RNNFX_KIND_AUDIO) {
        /* "assumed" also after --rate 48000 once: the user could not tell
         * whether the option had been taken */
        printf("  sample rate:    %g Hz%s\n", m->sample_rate,
               rate_src == RATE_ASSUMED   ? " (assumed: the file does not say; --rate HZ to change)"
               : rate_src == RATE_FROM_OPTION ? " (given by --rate; the file does not say)"
                                          : "");
        printf("  input gain:     %+.2f dB\n", rnnfx_cli_lin_to_db(m->input_gain));
        printf("  output gain:    %+.2f dB\n", rnnfx_cli_lin_to_db(m->output_gain));
    } else {
        printf("  grid:           %d steps per quarter, keys %d..%d, %d beat features\n",
               m->midi.steps_per_quarter, m->midi.low_key, m->midi.low_key + m->midi.n_keys - 1,
               m->midi.n_beat_features);
    }
    if (a->n_params == 0) {
        printf("  knobs:          none\n");
    } else {
        printf("  knobs:          %d\n", a->n_params);
        for (int k = 0; k < a->n_params; k++)
            printf("    %-14s [%g .. %g], default %g\n", printable(a->params[k].name, pb, sizeof pb),
                   a->params[k].min, a->params[k].max, a->params[k].def);
    }
    if (m->name[0])
        printf("  name:           %s\n", printable(m->name, pb, sizeof pb));
    if (m->author[0])
        printf("  author:         %s\n", printable(m->author, pb, sizeof pb));
    if (m->date[0])
        printf("  date:           %s\n", printable(m->date, pb, sizeof pb));
    if (m->description[0])
        printf("  description:    %s\n", printable(m->description, pb, sizeof pb));
    if (m->esr >= 0)
        printf("  training error: ESR %.6g (%.2f dB)\n", m->esr,
               m->esr > 0 ? 10.0 * log10(m->esr) : -INFINITY);
    else
        printf("  training error: unknown\n");
    if (isfinite(m->loudness_db))
        printf("  loudness:       %.2f dB\n", m->loudness_db);
    if (isfinite(m->input_level_dbu))
        printf("  input level:    0 dBFS = %.2f dBu\n", m->input_level_dbu);
    if (isfinite(m->output_level_dbu))
        printf("  output level:   0 dBFS = %.2f dBu\n", m->output_level_dbu);
    if (m->training[0] && strcmp(m->training, "{}") != 0)
        printf("  training:       %s\n", printable(m->training, pb, sizeof pb));
    if (!t->present)
        printf("  self-test:      none in the file\n");
    else if (t->error[0])
        printf("  self-test:      FAILED: %s\n", printable(t->error, pb, sizeof pb));
    else
        printf("  self-test:      %s: %zu steps, max abs error %.3g (tolerance %g)\n",
               t->ok ? "passed" : "FAILED", t->steps, t->max_err, RNNFX_SELFTEST_TOLERANCE);
    if (!isnan(rest))
        printf("  at rest:        output %+.6f on silence%s\n", rest,
               fabs(rest) > RNNFX_CLI_REST_WARN ? " (a DC offset: see the warning)" : "");
    if (isfinite(level))
        printf("  level:          %+.1f dB on the reference guitar part (K-weighted; normalize "
               "plays it %+.1f dB)\n",
               level, -level);
    else if (!isnan(rest))
        printf("  level:          near silence on the reference guitar part (normalize leaves "
               "it alone)\n");
    printf("  cost:           %.0f MACs/step\n", cost->macs_per_step);
    if (cost->ns_per_sample > 0 && a->kind != RNNFX_KIND_AUDIO) {
        /* A MIDI-frame model steps once per grid position, not per sample. */
        printf("  measured:       %.1f ns/step (%s kernels, one thread)\n", cost->ns_per_sample,
               cost->kernel);
    } else if (cost->ns_per_sample > 0) {
        double pct48 = cost->ns_per_sample * 48000.0 * 1e-9 * 100.0;
        printf("  measured:       %.1f ns/sample (%s kernels, one thread)\n", cost->ns_per_sample,
               cost->kernel);
        printf("  CPU at 48 kHz:  %.2f %% of one core", pct48);
        if (a->kind == RNNFX_KIND_AUDIO && m->sample_rate > 0 && fabs(m->sample_rate - 48000) > 0.5)
            printf(" (runs at its own %g Hz behind a resampler: %.2f %%, resampling not counted)",
                   m->sample_rate, cost->ns_per_sample * m->sample_rate * 1e-9 * 100.0);
        printf("\n");
    }
}

static json_object *json_text(const RnnfxModel *model, const char *path, const Cost *cost,
                              const SelfTest *t, RateSource rate_src, double rest, double level)
{
    const RnnfxArch *a = rnnfx_model_arch(model);
    const RnnfxMeta *m = rnnfx_model_meta_const(model);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "file", json_object_new_string(path));
    json_object_object_add(o, "valid", json_object_new_boolean(!(t->present && !t->ok)));
    json_object_object_add(o, "format",
                           json_object_new_string(m->source_format[0] ? m->source_format : "rnnfx"));
    json_object_object_add(o, "kind", json_object_new_string(kind_name(a->kind)));
    json_object *layers = json_object_new_array();
    for (int l = 0; l < a->n_layers; l++) {
        json_object *lo = json_object_new_object();
        json_object_object_add(lo, "cell", json_object_new_string(rnnfx_cell_name(a->layers[l].cell)));
        json_object_object_add(lo, "hidden_size", json_object_new_int(a->layers[l].hidden_size));
        if (a->layers[l].cell == RNNFX_CELL_LSTM)
            json_object_object_add(lo, "peephole", json_object_new_boolean(a->layers[l].peephole));
        if (a->layers[l].cell == RNNFX_CELL_RNN)
            json_object_object_add(lo, "activation",
                                   json_object_new_string(a->layers[l].relu ? "relu" : "tanh"));
        json_object_array_add(layers, lo);
    }
    json_object_object_add(o, "layers", layers);
    json_object_object_add(o, "input_size", json_object_new_int(a->input_size));
    json_object_object_add(o, "output_size", json_object_new_int(a->output_size));
    json_object_object_add(o, "skip", json_object_new_boolean(a->skip));
    json_object_object_add(o, "output_sigmoid", json_object_new_boolean(a->output_sigmoid));
    json_object_object_add(o, "parameters", json_object_new_int64((int64_t)param_count(model)));
    json_object_object_add(o, "sample_rate", json_object_new_double(m->sample_rate));
    if (a->kind == RNNFX_KIND_AUDIO) {
        /* true whenever the file does not say (--rate or the default) */
        json_object_object_add(o, "sample_rate_assumed",
                               json_object_new_boolean(rate_src != RATE_FROM_FILE));
        json_object_object_add(o, "sample_rate_source",
                               json_object_new_string(rate_src == RATE_FROM_FILE     ? "file"
                                                      : rate_src == RATE_FROM_OPTION ? "--rate"
                                                                                     : "default"));
    }
    json_object_object_add(o, "input_gain", json_object_new_double(m->input_gain));
    json_object_object_add(o, "output_gain", json_object_new_double(m->output_gain));
    json_object *knobs = json_object_new_array();
    for (int k = 0; k < a->n_params; k++) {
        json_object *ko = json_object_new_object();
        json_object_object_add(ko, "name", json_object_new_string(a->params[k].name));
        json_object_object_add(ko, "min", json_object_new_double(a->params[k].min));
        json_object_object_add(ko, "max", json_object_new_double(a->params[k].max));
        json_object_object_add(ko, "default", json_object_new_double(a->params[k].def));
        json_object_array_add(knobs, ko);
    }
    json_object_object_add(o, "knobs", knobs);
    json_object *meta = json_object_new_object();
    json_object_object_add(meta, "name", json_object_new_string(m->name));
    json_object_object_add(meta, "author", json_object_new_string(m->author));
    json_object_object_add(meta, "date", json_object_new_string(m->date));
    json_object_object_add(meta, "description", json_object_new_string(m->description));
    json_object_object_add(meta, "loudness",
                           isfinite(m->loudness_db) ? json_object_new_double(m->loudness_db) : NULL);
    json_object_object_add(meta, "input_level_dbu", isfinite(m->input_level_dbu)
                                                        ? json_object_new_double(m->input_level_dbu)
                                                        : NULL);
    json_object_object_add(meta, "output_level_dbu",
                           isfinite(m->output_level_dbu) ? json_object_new_double(m->output_level_dbu)
                                                         : NULL);
    json_object_object_add(o, "metadata", meta);
    json_object_object_add(o, "esr", m->esr >= 0 ? json_object_new_double(m->esr) : NULL);
    if (m->training[0]) {
        json_object *tr = json_tokener_parse(m->training);
        json_object_object_add(o, "training", tr ? tr : json_object_new_string(m->training));
    }
    if (a->kind == RNNFX_KIND_MIDI_FRAMES) {
        json_object *mi = json_object_new_object();
        json_object_object_add(mi, "steps_per_quarter", json_object_new_int(m->midi.steps_per_quarter));
        json_object_object_add(mi, "low_key", json_object_new_int(m->midi.low_key));
        json_object_object_add(mi, "n_keys", json_object_new_int(m->midi.n_keys));
        json_object_object_add(mi, "n_beat_features", json_object_new_int(m->midi.n_beat_features));
        json_object_object_add(o, "midi", mi);
    }
    json_object *co = json_object_new_object();
    json_object_object_add(co, "macs_per_step", json_object_new_double(cost->macs_per_step));
    json_object_object_add(co, "kernel", json_object_new_string(cost->kernel));
    if (cost->ns_per_sample > 0 && a->kind != RNNFX_KIND_AUDIO) {
        json_object_object_add(co, "ns_per_step", json_object_new_double(cost->ns_per_sample));
    } else if (cost->ns_per_sample > 0) {
        json_object_object_add(co, "ns_per_sample", json_object_new_double(cost->ns_per_sample));
        json_object_object_add(co, "cpu_percent_48k",
                               json_object_new_double(cost->ns_per_sample * 48000.0 * 1e-7));
    }
    json_object_object_add(o, "cost", co);
    if (t->present) {
        json_object *so = json_object_new_object();
        json_object_object_add(so, "passed", json_object_new_boolean(t->ok));
        json_object_object_add(so, "steps", json_object_new_int64((int64_t)t->steps));
        if (t->error[0])
            json_object_object_add(so, "error", json_object_new_string(t->error));
        else
            json_object_object_add(so, "max_abs_error", json_object_new_double(t->max_err));
        json_object_object_add(so, "tolerance", json_object_new_double(RNNFX_SELFTEST_TOLERANCE));
        json_object_object_add(o, "self_test", so);
    } else {
        json_object_object_add(o, "self_test", NULL);
    }
    /* what it settles to on silence; null for a MIDI-frame model */
    json_object_object_add(o, "rest_output", isnan(rest) ? NULL : json_object_new_double(rest));
    /* its gain on the reference guitar part (level.h); null: near silence
     * or a MIDI-frame model */
    json_object_object_add(o, "level_db", isfinite(level) ? json_object_new_double(level) : NULL);
    return o;
}

int main(int argc, char **argv)
{
    /* "--name=value" as well as "--name value", as rnnfx-train takes */
    static const char *const value_opts[] = {
        "--bench-ms", "--rate", "--sample-rate", NULL};
    argv = rnnfx_cli_split_equals(argc, argv, value_opts, &argc);
    if (!argv) {
        fprintf(stderr, "rnnfx-inspect: out of memory\n");
        return 1;
    }
    int as_json = 0;
    double bench_ms = 200.0;
    RnnfxLoadOptions lopts = {0};
    /* Options may come after the files too ("rnnfx-inspect a.json
     * --no-bench" once loaded "--no-bench" as a model); "--" ends them. */
    const char **files = calloc((size_t)argc, sizeof *files);
    int n_files = 0, only_files = 0;
    if (!files) {
        fprintf(stderr, "rnnfx-inspect: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_files || a[0] != '-' || !a[1]) {
            files[n_files++] = a;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(files);
            return 0;
        } else if (!strcmp(a, "--version")) {
            free(files);
            return rnnfx_cli_version("rnnfx-inspect");
        } else if (!strcmp(a, "--json")) {
            as_json = 1;
        } else if (!strcmp(a, "--no-bench")) {
            bench_ms = 0;
        } else if (!strcmp(a, "--bench-ms")) {
            /* at most a minute per file: "--bench-ms 99999999999" ran for
             * years */
            double v;
            if (i + 1 >= argc || rnnfx_cli_parse_double(argv[i + 1], &v) != 0 || v < 0 ||
                v > 60000) {
                fprintf(stderr, "rnnfx-inspect: --bench-ms needs a time in ms, 0..60000\n");
                free(files);
                return 2;
            }
            bench_ms = v;
            i++;
        } else if (!strcmp(a, "--rate") || !strcmp(a, "--sample-rate")) {
            /* the rates the loader accepts; a bad one is the command
             * line's fault, not the file's ("invalid: 3 Hz is not
             * plausible", exit 1). --sample-rate is rnnfx-convert's name
             * for the same setting. */
            long v;
            if (i + 1 >= argc || rnnfx_cli_parse_int(argv[i + 1], 1000, 1536000, &v) != 0) {
                fprintf(stderr, "rnnfx-inspect: %s needs a sample rate in Hz, 1000..1536000\n", a);
                free(files);
                return 2;
            }
            lopts.default_sample_rate = (double)v;
            i++;
        } else if (!strcmp(a, "--")) {
            only_files = 1;
        } else {
            fprintf(stderr, "rnnfx-inspect: unknown option '%s' (see --help)\n", a);
            free(files);
            return 2;
        }
    }
    if (n_files == 0) {
        usage(stderr);
        free(files);
        return 2;
    }
    int failures = 0;
    json_object *arr = as_json && n_files > 1 ? json_object_new_array() : NULL;
    for (int i = 0; i < n_files; i++) {
        const char *path = files[i];
        RnnfxModel *model = NULL;
        RnnfxError err = {{0}};
        RnnfxStatus st = rnnfx_model_load(path, &lopts, &model, &err);
        if (st != RNNFX_OK) {
            failures++;
            const char *why =
                rnnfx_cli_without_path(err.msg[0] ? err.msg : rnnfx_strerror(st), path);
            char wb[4 * sizeof err.msg + 8];
            fprintf(stderr, "rnnfx-inspect: %s: invalid: %s\n", path, printable(why, wb, sizeof wb));
            if (as_json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "file", json_object_new_string(path));
                json_object_object_add(o, "valid", json_object_new_boolean(0));
                json_object_object_add(o, "status", json_object_new_string(rnnfx_strerror(st)));
                json_object_object_add(o, "error",
                                       json_object_new_string(err.msg[0] ? err.msg : rnnfx_strerror(st)));
                if (arr)
                    json_object_array_add(arr, o);
                else {
                    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
                    json_object_put(o);
                }
            }
            continue;
        }
        Cost cost = measure(model, bench_ms);
        SelfTest st_res = run_selftest(path, model);
        /* every reader takes --rate where the file states no rate */
        RateSource rate_src = !rnnfx_cli_model_rate_assumed(model)  ? RATE_FROM_FILE
                              : lopts.default_sample_rate > 0 ? RATE_FROM_OPTION
                                                              : RATE_ASSUMED;
        /* Valid but sounding wrong: a constant offset on silence (a file
         * whose export swapped gates or biases). A warning, not a failure:
         * the file is what it says, and plays. */
        double rest = rnnfx_cli_model_rest_output(model);
        const double level = rnnfx_cli_model_level_db(model);
        char rw[300];
        rnnfx_cli_rest_warning(rest, rw, sizeof rw);
        if (rw[0])
            fprintf(stderr, "rnnfx-inspect: warning: %s: %s\n", path, rw);
        /* A file whose own vectors disagree with what we compute is not a
         * file we play correctly: report it as a failure. */
        if (st_res.present && !st_res.ok) {
            failures++;
            char eb[4 * sizeof st_res.error + 8];
            fprintf(stderr, "rnnfx-inspect: %s: self-test failed: %s\n", path,
                    st_res.error[0] ? printable(st_res.error, eb, sizeof eb)
                                    : "output differs from the file's output_batch");
        }
        if (as_json) {
            json_object *o = json_text(model, path, &cost, &st_res, rate_src, rest, level);
            if (arr)
                json_object_array_add(arr, o);
            else {
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
                json_object_put(o);
            }
        } else {
            if (i > 0)
                printf("\n");
            print_text(path, model, &cost, &st_res, rate_src, rest, level);
        }
        rnnfx_model_free(model);
    }
    if (arr) {
        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
        json_object_put(arr);
    }
    fflush(stdout);
    free(files);
    return failures ? 1 : 0;
}

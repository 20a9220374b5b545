/*
 * rnnfx-convert — converts a model file between rnnfx, AIDA-X and NAM.
 *
 *   rnnfx-convert IN -o OUT [--to rnnfx|aidax|nam] [--sample-rate R]
 *                 [--drop-initial-state] [--rtneural] [--no-selftest] [--force]
 *
 * IN is any file rnnfx_model_load() reads (rnnfx, AIDA-X/RTNeural,
 * Proteus/Automated-GuitarAmpModelling, NAM LSTM), recognised by content.
 * The target format comes from --to, else from OUT's extension (.nam: NAM,
 * .aidax: AIDA-X, anything else: rnnfx JSON). OUT appears atomically and an
 * existing file is only replaced with --force, so a failed or mistaken run
 * loses nothing.
 *
 * After writing, the program reads OUT back and runs both models on the
 * same test signal; it reports the largest output difference (0 for exact
 * conversions) and fails if the written file does not load or does not
 * match its own self-test vectors. It is not a trainer or a resampler: a
 * model keeps the sample rate it was trained at (--sample-rate, also spelt
 * --rate as in rnnfx-inspect, only states it when the file is wrong or
 * silent). A file that states no rate is written with the one the loader
 * assumed (every format written here states one), and the program says it
 * was assumed.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"
#include "instance.h"
#include "model.h"
#include "model_file.h"
#include "selftest.h"

typedef enum { TO_RNNFX, TO_AIDAX, TO_NAM } Target;

static const char *target_name(Target t)
{
    return t == TO_AIDAX ? "aidax" : t == TO_NAM ? "nam" : "rnnfx";
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rnnfx-convert IN -o OUT [options]\n"
            "\n"
            "Converts a guitar-amp/pedal capture between formats. IN may be an rnnfx\n"
            "model, an AIDA-X/RTNeural JSON file, a Proteus/Automated-GuitarAmpModelling\n"
            "JSON file or a Neural Amp Modeler .nam LSTM file (recognised by content).\n"
            "\n"
            "  -o, --output OUT       file to write (required)\n"
            "  --to FORMAT            rnnfx, aidax or nam (default: from OUT's extension:\n"
            "                         .nam = nam, .aidax = aidax, otherwise rnnfx)\n"
            "  --sample-rate R        the rate (Hz) the model was trained at, when the input\n"
            "                         file does not say or says it wrongly (without it:\n"
            "                         44100 for Proteus files, else 48000, said to be\n"
            "                         assumed); also spelt --rate R\n"
            "  --drop-initial-state   AIDA-X: start a NAM capture from zero (AIDA-X files\n"
            "                         cannot hold a learned start state; only the first\n"
            "                         moments after a reset differ)\n"
            "  --rtneural             AIDA-X: also write layouts only RTNeural (not the\n"
            "                         AIDA-X plugin) runs: several layers, other sizes\n"
            "  --no-selftest          AIDA-X: do not embed input_batch/output_batch\n"
            "  -f, --force            replace OUT if it exists\n"
            "  -h, --help             this text\n"
            "  --version              the program's version\n");
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* Largest |a - b| of two models' outputs (gains included) on the self-test
 * signal; negative if it could not be measured. The knobs are at 0, or
 * with `folded` (an AIDA-X export, whose knobs are 0..1 over a's min..max)
 * a's at the middle of their ranges and b's at 0.5. */
static double compare_models(const RnnfxModel *a, const RnnfxModel *b, int folded)
{
    const RnnfxArch *aa = rnnfx_model_arch(a), *ba = rnnfx_model_arch(b);
    if (aa->input_size != ba->input_size || aa->output_size != ba->output_size)
        return -1.0;
    size_t n = 4096, ni = (size_t)aa->input_size, no = (size_t)aa->output_size;
    float *x = malloc(n * sizeof *x), *in = calloc(n * ni, sizeof *in);
    float *ya = malloc(n * no * sizeof *ya), *yb = malloc(n * no * sizeof *yb);
    RnnfxInstance *ia = rnnfx_instance_new(a), *ib = rnnfx_instance_new(b);
    double worst = -1.0;
    if (x && in && ya && yb && ia && ib) {
        rnnfx_selftest_signal(x, n);
        for (size_t t = 0; t < n; t++)
            in[t * ni] = x[t];
        float *inb = in;
        if (folded && ni > 1 && (inb = malloc(n * ni * sizeof *inb)) != NULL) {
            for (size_t t = 0; t < n; t++)
                for (size_t k = 1; k < ni; k++) {
                    const RnnfxParamDesc *p = &aa->params[k - 1];
                    in[t * ni + k] = p->min + 0.5f * (p->max - p->min);
                    inb[t * ni + k] = 0.5f;
                }
            for (size_t t = 0; t < n; t++)
                inb[t * ni] = x[t];
        }
        if (!inb)
            inb = in;
        rnnfx_instance_set_path(ia, RNNFX_PATH_REFERENCE);
        rnnfx_instance_set_path(ib, RNNFX_PATH_REFERENCE);
        rnnfx_instance_process_frames(ia, in, ya, n);
        rnnfx_instance_process_frames(ib, inb, yb, n);
        if (inb != in)
            free(inb);
        worst = 0.0;
        for (size_t i = 0; i < n * no; i++) {
            double e = fabs((double)ya[i] - (double)yb[i]);
            if (!(e <= worst))
                worst = isnan(e) ? INFINITY : e;
        }
    }
    rnnfx_instance_free(ia);
    rnnfx_instance_free(ib);
    free(x);
    free(in);
    free(ya);
    free(yb);
    return worst;
}

/* The temporary output, removed by on_signal if the run is stopped. */
static char g_tmp_path[4096];

static void on_signal(int sig)
{
    if (g_tmp_path[0]) unlink(g_tmp_path); /* async-signal-safe */
    _exit(128 + sig);
}

int main(int argc, char **argv)
{
    /* "--name=value" as well as "--name value", as rnnfx-train takes */
    static const char *const value_opts[] = {
        "--output", "--to", "--sample-rate", "--rate", NULL};
    argv = rnnfx_cli_split_equals(argc, argv, value_opts, &argc);
    if (!argv) {
        fprintf(stderr, "rnnfx-convert: out of memory\n");
        return 1;
    }
    const char *in_path = NULL, *out_path = NULL;
    int have_target = 0, force = 0;
    Target target = TO_RNNFX;
    double rate = 0.0;
    const char *rate_opt = "--sample-rate"; /* as spelt on the command line, for messages */
    RnnfxExportOptions eopts;
    rnnfx_export_options_init(&eopts);

    int options_end = 0; /* after "--" every argument is a file name */
    int given_to = 0, given_rate = 0; /* cli.h: rnnfx_cli_once */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_end || a[0] != '-' || !a[1]) {
            if (in_path) {
                fprintf(stderr, "rnnfx-convert: more than one input file ('%s', '%s')\n", in_path, a);
                return 2;
            }
            in_path = a;
        } else if (!strcmp(a, "--")) {
            options_end = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            return rnnfx_cli_version("rnnfx-convert");
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "rnnfx-convert: %s needs a file name\n", a);
                return 2;
            }
            if (rnnfx_cli_set_once("rnnfx-convert", "-o/--output", &out_path, argv[++i]) != 0)
                return 2;
        } else if (!strcmp(a, "--to")) {
            if (rnnfx_cli_once("rnnfx-convert", a, &given_to))
                return 2;
            const char *v = i + 1 < argc ? argv[++i] : "";
            have_target = 1;
            if (!strcmp(v, "rnnfx"))
                target = TO_RNNFX;
            else if (!strcmp(v, "aidax") || !strcmp(v, "aida-x") || !strcmp(v, "rtneural"))
                target = TO_AIDAX;
            else if (!strcmp(v, "nam"))
                target = TO_NAM;
            else {
                fprintf(stderr, "rnnfx-convert: --to '%s': use rnnfx, aidax or nam\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--sample-rate") || !strcmp(a, "--rate")) {
            /* --rate: rnnfx-inspect's name for the same setting */
            if (rnnfx_cli_once("rnnfx-convert", "--sample-rate/--rate", &given_rate))
                return 2;
            /* whole hertz, as rnnfx-process and rnnfx-inspect take it
             * ("44100.5" and "0x3e8" were written into files) */
            long hz = 0;
            if (i + 1 >= argc || rnnfx_cli_parse_int(argv[i + 1], 1000, 1536000, &hz) != 0) {
                fprintf(stderr, "rnnfx-convert: %s needs a whole rate in Hz (1000..1536000)\n", a);
                return 2;
            }
            rate = (double)hz;
            rate_opt = a;
            i++;
        } else if (!strcmp(a, "--drop-initial-state")) {
            eopts.drop_initial_state = 1;
        } else if (!strcmp(a, "--rtneural")) {
            eopts.generic_rtneural = 1;
        } else if (!strcmp(a, "--no-selftest")) {
            eopts.selftest_steps = 0;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--force")) {
            force = 1;
        } else {
            fprintf(stderr, "rnnfx-convert: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!in_path || !out_path) {
        fprintf(stderr, "rnnfx-convert: %s (usage: rnnfx-convert IN -o OUT; see --help)\n",
                !in_path ? "no input model given" : "no output given: -o OUT is required");
        return 2;
    }
    if (!have_target)
        target = ends_with(out_path, ".nam") ? TO_NAM : ends_with(out_path, ".aidax") ? TO_AIDAX
                                                                                   : TO_RNNFX;
    /* --to against a name that promises another format: "--to aidax -o
     * x.nam" wrote AIDA-X JSON that NAM players then refuse */
    if ((ends_with(out_path, ".nam") && target != TO_NAM) ||
        (ends_with(out_path, ".aidax") && target != TO_AIDAX)) {
        fprintf(stderr, "rnnfx-convert: -o %s names a%s file, but --to %s writes another format; "
                        "name it .json (or drop --to)\n",
                out_path, ends_with(out_path, ".nam") ? " NAM" : "n AIDA-X", target_name(target));
        return 2;
    }
    /* every format written here is JSON: "-o x.wav" once wrote JSON under
     * an audio name */
    const char *foreign = rnnfx_cli_foreign_model_name(out_path);
    if (foreign && !strcmp(foreign, "audio")) {
        fprintf(stderr, "rnnfx-convert: -o %s names an audio file; a model file is .json, .nam "
                        "or .aidax\n", out_path);
        return 2;
    }
    /* A folder is never replaced, --force or not (it used to be "exists;
     * pass --force", then "Is a directory" after the whole conversion). */
    struct stat ost;
    if (stat(out_path, &ost) == 0 && S_ISDIR(ost.st_mode)) {
        fprintf(stderr, "rnnfx-convert: %s is a folder; give a file name\n", out_path);
        return 1;
    }
    /* the same file first: "exists; pass --force" was the wrong advice. A
     * usage error (2), as in rnnfx-process: the command line names one
     * file twice. */
    if (rnnfx_cli_same_file(in_path, out_path)) {
        fprintf(stderr, "rnnfx-convert: -o %s is the input file itself; choose another name\n",
                out_path);
        return 2;
    }
    if (rnnfx_cli_refuse_special("rnnfx-convert", NULL, out_path) != 0)
        return 1;
    if (!force && access(out_path, F_OK) == 0) {
        fprintf(stderr, "rnnfx-convert: %s exists; pass --force to replace it\n", out_path);
        return 1;
    }
    /* a missing folder once failed after the conversion, naming the
     * temporary file ("cannot write 'x.json.convert-123'") */
    if (rnnfx_cli_check_folder_of("rnnfx-convert", out_path) != 0)
        return 1;

    RnnfxError err = {{0}};
    RnnfxModel *model = NULL;
    RnnfxLoadOptions lopts = {0};
    lopts.default_sample_rate = rate;
    RnnfxStatus st = rnnfx_model_load(in_path, &lopts, &model, &err);
    if (st != RNNFX_OK) {
        /* the message names the file: "cannot open 'x': ..." or "x: <problem>" */
        fprintf(stderr, "rnnfx-convert: %s\n", err.msg);
        return 1;
    }
    RnnfxMeta *meta = rnnfx_model_meta(model);
    const int rate_assumed = rnnfx_cli_model_rate_assumed(model);
    if (rate_assumed && rate <= 0) {
        /* Every format written here states a rate, so the assumed one
         * goes into OUT as if the file had said it: it printed "48000 Hz"
         * like a stated rate, and a 44.1 kHz capture then ran as a 48 kHz
         * one (every filter it learnt moved up 9 %) without a word. */
        fprintf(stderr, "rnnfx-convert: note: %s does not state its sample rate; %g Hz is "
                        "assumed and written to %s (give --sample-rate R if it was trained at "
                        "another rate)\n",
                in_path, meta->sample_rate, out_path);
    }
    if (rate > 0 && meta->sample_rate != rate) {
        /* (an assumed rate is already the one asked for: only a stated
         * one differs) */
        fprintf(stderr, "rnnfx-convert: note: %s says %g Hz; writing %g Hz as asked\n", in_path,
                meta->sample_rate, rate);
        meta->sample_rate = rate;
        if ((st = rnnfx_model_finalize(model, &err)) != RNNFX_OK) {
            fprintf(stderr, "rnnfx-convert: %s\n", err.msg);
            rnnfx_model_free(model);
            return 1;
        }
    }
    {
        /* A file that loads but settles far from 0 on silence converts
         * faithfully, mistake included: say so before it is shipped on. */
        char rw[300];
        rnnfx_cli_rest_warning(rnnfx_cli_model_rest_output(model), rw, sizeof rw);
        if (rw[0])
            fprintf(stderr, "rnnfx-convert: warning: %s: %s\n", in_path, rw);
    }
    const RnnfxArch *arch = rnnfx_model_arch(model);
    int dropped_state = 0;
    if (target == TO_AIDAX && eopts.drop_initial_state)
        for (int l = 0; l < arch->n_layers; l++)
            for (int t = RNNFX_T_INITIAL_H; t <= RNNFX_T_INITIAL_C; t++) {
                int r = 0, c = 0;
                const float *v = rnnfx_model_tensor_const(model, l, (RnnfxTensor)t, &r, &c);
                for (int i = 0; v && i < r * c; i++)
                    dropped_state |= v[i] != 0.0f;
            }

    /* Written under a temporary name and renamed only once the checks
     * below pass, so a failed conversion never leaves (or replaces) a file
     * under the output name. */
    char *tmp_path = g_tmp_path;
    const size_t keep = rnnfx_temp_name_keep(out_path, 20);
    if (snprintf(tmp_path, sizeof g_tmp_path, "%.*s.convert-%ld", (int)keep, out_path,
                 (long)getpid()) >= (int)sizeof g_tmp_path) {
        fprintf(stderr, "rnnfx-convert: output path too long\n");
        rnnfx_model_free(model);
        return 2;
    }
    /* Ctrl-C, a closed terminal or a kill during the write or the read-back
     * left the temporary file behind */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++) sigaction(sigs[k], &sa, NULL);
    switch (target) {
    case TO_RNNFX: st = rnnfx_model_save(model, tmp_path, &err); break;
    case TO_AIDAX: st = rnnfx_export_aidax_file(model, &eopts, tmp_path, &err); break;
    case TO_NAM: st = rnnfx_export_nam_file(model, &eopts, tmp_path, &err); break;
    }
    if (st != RNNFX_OK) {
        fprintf(stderr, "rnnfx-convert: cannot write %s as %s: %s\n", out_path,
                target_name(target), err.msg);
        if (st == RNNFX_ERR_UNSUPPORTED && target == TO_AIDAX)
            fprintf(stderr, "rnnfx-convert: (--rtneural writes layouts only RTNeural runs; "
                            "--drop-initial-state starts a NAM capture from zero)\n");
        rnnfx_model_free(model);
        return 1;
    }

    /* Read the result back: it must load, pass its own self-test, and play
     * like the source. */
    RnnfxModel *back = NULL;
    int rc = 0;
    st = rnnfx_model_load(tmp_path, NULL, &back, &err);
    if (st != RNNFX_OK) {
        fprintf(stderr, "rnnfx-convert: the converted model does not load back (nothing written): %s\n",
                err.msg);
        remove(tmp_path);
        rnnfx_model_free(model);
        return 1;
    }
    size_t steps = 0;
    double st_err = 0.0;
    st = rnnfx_selftest_file(tmp_path, back, &steps, &st_err, &err);
    if (st != RNNFX_OK || (steps > 0 && !(st_err <= RNNFX_SELFTEST_TOLERANCE))) {
        fprintf(stderr, "rnnfx-convert: the converted model fails its own self-test (nothing written): %s\n",
                st != RNNFX_OK ? err.msg : "outputs differ");
        rc = 1;
    }
    /* Every target must play like the source, not only AIDA-X files with
     * their self-test vectors: the read-back copy against the source (a
     * dropped start state, said below, differs in the first moments) */
    const double diff = rc == 0 ? compare_models(model, back, target == TO_AIDAX) : -1.0;
    if (rc == 0 && !dropped_state && diff > RNNFX_SELFTEST_TOLERANCE) {
        fprintf(stderr, "rnnfx-convert: the converted model plays differently from %s (max output "
                        "difference %.3g; nothing written)\n",
                in_path, diff);
        rc = 1;
    }
    if (rc != 0) {
        remove(tmp_path);
    } else if (rename(tmp_path, out_path) != 0) {
        fprintf(stderr, "rnnfx-convert: cannot write %s: %s\n", out_path, strerror(errno));
        remove(tmp_path);
        rc = 1;
    }
    if (rc != 0) {
        /* nothing was written: no success line on standard output */
        rnnfx_model_free(back);
        rnnfx_model_free(model);
        return rc;
    }
    /* AIDA-X files hold no knob names, ranges or defaults. The export maps
     * each knob's range onto AIDA-X's 0..1 (export.h); said once per knob,
     * so a user knows what the AIDA-X plugin's knob plays and what the
     * file reads back as. */
    const RnnfxArch *barch = rnnfx_model_arch(back);
    for (int k = 0; k < arch->n_params && k < barch->n_params; k++) {
        const RnnfxParamDesc *a = &arch->params[k], *b = &barch->params[k];
        if (!strcmp(a->name, b->name) && a->min == b->min && a->max == b->max)
            continue;
        fprintf(stderr,
                "rnnfx-convert: note: %s keeps no knob names or ranges: knob %d '%s' (%g .. %g, "
                "default %g) is written as a 0 .. 1 knob (0 plays %g, 1 plays %g) and reads back as "
                "'%s' (%g .. %g, default %g)\n",
                target_name(target), k + 1, a->name, (double)a->min, (double)a->max,
                (double)a->def, (double)a->min, (double)a->max, b->name, (double)b->min,
                (double)b->max, (double)b->def);
    }
    printf("%s -> %s (%s): %s %d x %d, %d input%s, %g Hz", in_path, out_path, target_name(target),
           rnnfx_cell_name(arch->layers[0].cell), arch->n_layers, arch->layers[0].hidden_size,
           arch->input_size, arch->input_size == 1 ? "" : "s", meta->sample_rate);
    if (rate > 0)
        printf(" (given by %s)", rate_opt);
    else if (rate_assumed)
        printf(" (assumed: the input file does not say)");
    if (diff >= 0)
        printf("; read back: max output difference %.3g%s", diff,
               dropped_state && diff > 0 ? " (start state dropped: the first moments differ)" : "");
    if (steps > 0)
        printf("; self-test %zu steps, max error %.3g", steps, st_err);
    printf("\n");
    rnnfx_model_free(back);
    rnnfx_model_free(model);
    return rc;
}

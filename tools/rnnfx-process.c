/*
 * rnnfx-process — runs sound files through a capture, on every core.
 *
 *   rnnfx-process -m capture.json -o out/ takes/take1.wav takes/take2.wav
 *
 * Reads files, folders (recursively) and list files; writes each result
 * under a name made from the input's (same base name and extension by
 * default), in the input's format, bit depth and rate unless --float,
 * --encoding or --format say otherwise. Every channel runs through its own
 * state of the one loaded model, inside the same chain the plugin uses
 * (gains, resampling to the model's rate, knobs, mix), so for the same
 * model, settings and rate the batch gives the plugin's samples, shifted to
 * remove the resampler latency. Files are streamed in chunks, so memory
 * does not grow with their length (a two-hour take costs what a short one
 * does). --ir adds an impulse response (a speaker cabinet) after the model
 * and before the dry/wet mix, as the plugin's IR stage does; the file is
 * checked before any input is touched. Outputs are as long as their inputs
 * unless --tail asks for more: the chain's answer to silence after the
 * input's end (the model's decay, a reverb's tail).
 *
 * Failures are per file: a file that cannot be read or written (or a
 * folder input with no audio file in it) gets a message and a non-zero
 * exit status while the others still get done, and
 * nothing half-written is ever left under an output name. Inputs are never
 * overwritten. This file is the command line only; the work is in
 * tools/common/batch.c.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "audio_io.h"
#include "batch.h"
#include "chain.h"
#include "cli.h"
#include "ir.h"
#include "model_file.h"

#define MAX_SET 32
/* Longest --tail: a long reverb rings for a few seconds; a minute is
 * already far past any (the response itself stops at RNNFX_IR_MAX_SECONDS). */
#define TAIL_MAX_SECONDS 60.0

static volatile sig_atomic_t g_cancel = 0;

static void on_signal(int sig)
{
    (void)sig;
    if (g_cancel) /* second Ctrl-C: leave now (temporary files are removed
                     by nobody, but final names are never half-written) */
        _exit(130);
    g_cancel = 1;
}

/* Where the input arguments are collected while the options are read. */
static const char **g_inputs, **g_lists;

static void free_arg_lists(void)
{
    free(g_inputs);
    free(g_lists);
    g_inputs = g_lists = NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: rnnfx-process -m MODEL (-o DIR | --pattern P) [options] INPUT...\n"
        "Runs sound files through a model. INPUT is a file, a folder (searched\n"
        "recursively for audio files) or @LIST (a text file with one path per line).\n"
        "\n"
        "Input and output:\n"
        "  -m, --model FILE     model file (rnnfx, AIDA-X, Proteus or NAM)\n"
        "  -o, --out-dir DIR    write outputs here (subfolders of folder inputs are\n"
        "                       mirrored); created if missing. --output is the same\n"
        "                       option (-o's long name in the other tools)\n"
        "  --model-rate HZ      the rate the model was trained at, for a model file\n"
        "                       that does not state one (otherwise its format's usual\n"
        "                       rate is assumed, with a note); a file that states\n"
        "                       another rate is refused\n"
        "  --pattern P          output name pattern, default '{dir}{name}.{ext}';\n"
        "                       placeholders {name} {ext} {dir} {model} ({dir}: the\n"
        "                       subfolder below a folder input, empty for files\n"
        "                       named on their own). Without -o the name is\n"
        "                       relative to each input's own folder\n"
        "  --list FILE          read input paths from FILE ('-' = standard input)\n"
        "  --skip-existing      leave outputs that already exist (resume a run)\n"
        "  --overwrite          replace outputs that already exist\n"
        "  --float              write 32-bit float samples\n"
        "  --encoding E         pcm16, pcm24, pcm32 or float\n"
        "  --format F           container: wav flac aiff caf ogg rf64 w64 au\n"
        "                       (the output extension follows it)\n"
        "  --dry-run            print what would be written, then stop\n"
        "\n"
        "Sound (same meaning as the plugin's controls):\n"
        "  --in-gain DB         gain into the model (%g..%g dB, default 0)\n"
        "  --out-gain DB        gain on the output (%g..%g dB, default 0)\n"
        "  --mix X              dry/wet, 0 = dry .. 1 = wet (default 1)\n"
        "  --normalize          play the capture at the dry guitar's level: minus its\n"
        "                       gain on a reference guitar part (K-weighted), as the\n"
        "                       plugin's Normalize control does\n"
        "  --ir FILE            impulse response (a speaker cabinet: WAV, FLAC, AIFF...,\n"
        "                       mono or stereo, up to %g s and %d taps) run after\n"
        "                       the model and before the dry/wet mix; made for each\n"
        "                       file's rate, no added latency (output length: --tail)\n"
        "  --tail S             S seconds (0..%g) of output after each input's end: the\n"
        "                       chain's answer to silence (model decay, response tail)\n"
        "                       as the plugin gives when the host plays on; default 0\n"
        "                       (outputs as long as inputs). 'auto': the --ir\n"
        "                       response's length at each file's rate (its whole tail);\n"
        "                       0 without --ir, as a recurrent model has no set length\n"
        "  --set KNOB=VALUE     a conditioned model's knob, in the model's units\n"
        "                       (knobs not set: the model's default)\n"
        "  --knob N=POS         knob N (1..%d) as the plugin's knobN control, 0..1 of\n"
        "                       the model's range (the plugin has knob1..knob4; a\n"
        "                       model's further knobs play their default there)\n"
        "\n"
        "Running:\n"
        "  -j, --jobs N         worker threads (default: the cores it may use, as nproc)\n"
        "      --block N        samples per call of the effect chain (default 4096; any\n"
        "                       N gives the same output, as any host block size does)\n"
        "  -q, --quiet          no progress display\n"
        "  -h, --help           this text\n"
        "      --version        the program's name and version\n"
        "\n"
        "Exit status: 0 all files done (or skipped), 1 the model or some file\n"
        "(or a folder input holding no audio file) failed, 2 bad usage, 130\n"
        "interrupted.\n",
        RNNFX_CHAIN_GAIN_MIN_DB, RNNFX_CHAIN_GAIN_MAX_DB, RNNFX_CHAIN_GAIN_MIN_DB,
        RNNFX_CHAIN_GAIN_MAX_DB, RNNFX_IR_MAX_SECONDS, RNNFX_IR_MAX_TAPS, TAIL_MAX_SECONDS,
        RNNFX_CHAIN_MAX_KNOBS);
}

typedef struct {
    int tty;
    double last_line;
} ProgressState;

static void progress_cb(const RnnfxBatchProgress *p, void *user)
{
    ProgressState *ps = user;
    double rtf = p->elapsed > 0 ? p->audio_seconds_done / p->elapsed : 0.0;
    double left = p->audio_seconds_total - p->audio_seconds_done;
    double eta = rtf > 0 ? (left > 0 ? left / rtf : 0.0) : -1.0; /* -1 prints "?" */
    char el[32], et[32], ad[32], at[32];
    rnnfx_cli_format_duration(p->elapsed, el, sizeof el);
    rnnfx_cli_format_duration(eta, et, sizeof et);
    rnnfx_cli_format_duration(p->audio_seconds_done, ad, sizeof ad);
    rnnfx_cli_format_duration(p->audio_seconds_total, at, sizeof at);
    size_t finished = p->files_done + p->files_failed + p->files_skipped;
    if (p->final) {
        if (ps->tty)
            fprintf(stderr, "\r\033[K");
        return;
    }
    if (ps->tty) {
        fprintf(stderr, "\r\033[K[%zu/%zu files] %s of %s audio, %.1fx real time, ETA %s",
                finished, p->files_total, ad, at, rtf, et);
    } else if (p->elapsed - ps->last_line >= 10.0) {
        ps->last_line = p->elapsed;
        fprintf(stderr, "rnnfx-process: %zu/%zu files, %s of %s audio, %.1fx real time, ETA %s\n",
                finished, p->files_total, ad, at, rtf, et);
    }
    fflush(stderr);
}

static int need_arg(int i, int argc, const char *opt)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "rnnfx-process: %s needs a value (see --help)\n", opt);
        return 0;
    }
    return 1;
}

static const char *model_stem(const char *path, char *buf, size_t len)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(buf, len, "%s", b);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf)
        *dot = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    /* "--name=value" as well as "--name value", as rnnfx-train takes */
    static const char *const value_opts[] = {
        "--model", "--out-dir", "--output", "--model-rate", "--pattern", "--list", "--encoding",
        "--format", "--jobs", "--block", "--in-gain", "--out-gain", "--mix", "--knob", "--set",
        "--ir", "--tail", NULL};
    argv = rnnfx_cli_split_equals(argc, argv, value_opts, &argc);
    if (!argv) {
        fprintf(stderr, "rnnfx-process: out of memory\n");
        return 1;
    }
    const char *model_path = NULL, *out_dir = NULL, *pattern = NULL;
    const char *format_name = NULL, *encoding = NULL, *ir_path = NULL, *tail_arg = NULL;
    int skip_existing = 0, overwrite = 0, dry_run = 0, quiet = 0, as_float = 0, normalize = 0;
    long jobs = rnnfx_cli_cpu_count(), block = 4096;
    double in_db = 0.0, out_db = 0.0, mix = 1.0, tail_s = 0.0;
    int tail_auto = 0;
    long model_rate = 0; /* --model-rate: 0 = not given */
    RnnfxCliKnob knobs[MAX_SET];
    int n_knobs = 0;
    double knob_pos[RNNFX_CHAIN_MAX_KNOBS]; /* --knob N=POS, NAN = not given */
    for (int k = 0; k < RNNFX_CHAIN_MAX_KNOBS; k++)
        knob_pos[k] = NAN;
    char msg[600];

    RnnfxBatchList list;
    rnnfx_batch_list_init(&list);
    /* Inputs are collected after the options so that errors in options are
     * reported before any folder is scanned; remember where they are. */
    g_inputs = calloc((size_t)argc + 1, sizeof *g_inputs);
    g_lists = calloc((size_t)argc + 1, sizeof *g_lists);
    atexit(free_arg_lists); /* every early exit below frees them too */
    const char **inputs = g_inputs, **lists = g_lists;
    int n_inputs = 0, n_lists = 0;
    if (!inputs || !lists) {
        fprintf(stderr, "rnnfx-process: out of memory\n");
        return 2;
    }
    int only_files = 0;
    /* options that take one value (cli.h: rnnfx_cli_once) */
    int given_enc = 0, given_fmt = 0, given_jobs = 0, given_block = 0, given_in = 0,
        given_out = 0, given_mix = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_files || a[0] != '-' || !a[1]) {
            inputs[n_inputs++] = a;
        } else if (!strcmp(a, "--")) {
            only_files = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            return rnnfx_cli_version("rnnfx-process");
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!need_arg(i, argc, a))
                return 2;
            if (rnnfx_cli_set_once("rnnfx-process", "-m/--model", &model_path, argv[++i]) != 0)
                return 2;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--out-dir") || !strcmp(a, "--output")) {
            /* --output too: it is -o's long name in every other tool, and
             * "--output out/" here was an unknown option */
            if (!need_arg(i, argc, a) ||
                rnnfx_cli_set_once("rnnfx-process", "-o/--out-dir", &out_dir, argv[++i]) != 0)
                return 2;
        } else if (!strcmp(a, "--model-rate")) {
            /* the rates the loader accepts (rnnfx-inspect --rate's) */
            if (!need_arg(i, argc, a))
                return 2;
            if (model_rate) {
                fprintf(stderr, "rnnfx-process: --model-rate is given twice (%ld, '%s')\n",
                        model_rate, argv[i + 1]);
                return 2;
            }
            if (rnnfx_cli_parse_int(argv[i + 1], 1000, 1536000, &model_rate) != 0) {
                fprintf(stderr, "rnnfx-process: --model-rate needs a sample rate in Hz, "
                                "1000..1536000 (got '%s')\n",
                        argv[i + 1]);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--pattern")) {
            if (!need_arg(i, argc, a) ||
                rnnfx_cli_set_once("rnnfx-process", a, &pattern, argv[++i]) != 0)
                return 2;
        } else if (!strcmp(a, "--list")) {
            if (!need_arg(i, argc, a))
                return 2;
            lists[n_lists++] = argv[++i];
        } else if (!strcmp(a, "--ir")) {
            if (!need_arg(i, argc, a) ||
                rnnfx_cli_set_once("rnnfx-process", a, &ir_path, argv[++i]) != 0)
                return 2;
        } else if (!strcmp(a, "--tail")) {
            if (!need_arg(i, argc, a) ||
                rnnfx_cli_set_once("rnnfx-process", a, &tail_arg, argv[++i]) != 0)
                return 2;
            /* parse_double refuses NaN, infinity and trailing junk */
            if (!strcmp(tail_arg, "auto")) {
                tail_auto = 1;
            } else if (rnnfx_cli_parse_double(tail_arg, &tail_s) != 0 || tail_s < 0 ||
                       tail_s > TAIL_MAX_SECONDS) {
                fprintf(stderr, "rnnfx-process: --tail needs seconds between 0 and %g, or 'auto' "
                                "(got '%s')\n",
                        TAIL_MAX_SECONDS, tail_arg);
                return 2;
            }
        } else if (!strcmp(a, "--skip-existing")) {
            skip_existing = 1;
        } else if (!strcmp(a, "--overwrite")) {
            overwrite = 1;
        } else if (!strcmp(a, "--float")) {
            as_float = 1;
        } else if (!strcmp(a, "--normalize")) {
            normalize = 1;
        } else if (!strcmp(a, "--encoding")) {
            if (!need_arg(i, argc, a) || rnnfx_cli_once("rnnfx-process", a, &given_enc))
                return 2;
            encoding = argv[++i];
        } else if (!strcmp(a, "--format")) {
            if (!need_arg(i, argc, a) || rnnfx_cli_once("rnnfx-process", a, &given_fmt))
                return 2;
            format_name = argv[++i];
        } else if (!strcmp(a, "--dry-run")) {
            dry_run = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
            if (!need_arg(i, argc, a) || rnnfx_cli_once("rnnfx-process", "-j/--jobs", &given_jobs))
                return 2;
            if (rnnfx_cli_parse_int(argv[i + 1], 1, 1024, &jobs) != 0) {
                fprintf(stderr, "rnnfx-process: %s needs a number of threads (1..1024)\n", a);
                return 2;
            }
            i++;
        } else if (!strncmp(a, "-j", 2) && a[2]) {
            if (rnnfx_cli_once("rnnfx-process", "-j/--jobs", &given_jobs))
                return 2;
            if (rnnfx_cli_parse_int(a + 2, 1, 1024, &jobs) != 0) {
                fprintf(stderr, "rnnfx-process: %s: bad number of threads\n", a);
                return 2;
            }
        } else if (!strcmp(a, "--block")) {
            if (!need_arg(i, argc, a) || rnnfx_cli_once("rnnfx-process", a, &given_block))
                return 2;
            if (rnnfx_cli_parse_int(argv[i + 1], 1, 1 << 20, &block) != 0) {
                fprintf(stderr, "rnnfx-process: --block needs a size in samples\n");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--in-gain") || !strcmp(a, "--out-gain")) {
            double v;
            if (!need_arg(i, argc, a) ||
                rnnfx_cli_once("rnnfx-process", a, !strcmp(a, "--in-gain") ? &given_in : &given_out))
                return 2;
            if (rnnfx_cli_parse_double(argv[i + 1], &v) != 0 ||
                v < RNNFX_CHAIN_GAIN_MIN_DB || v > RNNFX_CHAIN_GAIN_MAX_DB) {
                fprintf(stderr, "rnnfx-process: %s needs a gain in dB between %g and %g\n", a,
                        RNNFX_CHAIN_GAIN_MIN_DB, RNNFX_CHAIN_GAIN_MAX_DB);
                return 2;
            }
            if (!strcmp(a, "--in-gain"))
                in_db = v;
            else
                out_db = v;
            i++;
        } else if (!strcmp(a, "--mix")) {
            if (!need_arg(i, argc, a) || rnnfx_cli_once("rnnfx-process", a, &given_mix))
                return 2;
            if (rnnfx_cli_parse_double(argv[i + 1], &mix) != 0 || mix < 0 ||
                mix > 1) {
                fprintf(stderr, "rnnfx-process: --mix needs a value between 0 (dry) and 1 (wet)\n");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--knob")) {
            long kn;
            double pos;
            const char *eq = i + 1 < argc ? strchr(argv[i + 1], '=') : NULL;
            char num[16];
            if (!eq || (size_t)(eq - argv[i + 1]) >= sizeof num) {
                fprintf(stderr, "rnnfx-process: --knob needs N=POS (e.g. --knob 1=0.3)\n");
                return 2;
            }
            memcpy(num, argv[i + 1], (size_t)(eq - argv[i + 1]));
            num[eq - argv[i + 1]] = '\0';
            if (rnnfx_cli_parse_int(num, 1, RNNFX_CHAIN_MAX_KNOBS, &kn) != 0 ||
                rnnfx_cli_parse_double(eq + 1, &pos) != 0 || pos < 0 || pos > 1) {
                fprintf(stderr, "rnnfx-process: --knob needs N=POS with N 1..%d and POS 0..1\n",
                        RNNFX_CHAIN_MAX_KNOBS);
                return 2;
            }
            /* a knob given twice would play the last value without a word */
            if (!isnan(knob_pos[kn - 1])) {
                fprintf(stderr, "rnnfx-process: --knob %ld is given twice\n", kn);
                return 2;
            }
            knob_pos[kn - 1] = pos;
            i++;
        } else if (!strcmp(a, "--set")) {
            if (!need_arg(i, argc, a))
                return 2;
            if (n_knobs >= MAX_SET) {
                fprintf(stderr, "rnnfx-process: too many --set options\n");
                return 2;
            }
            if (rnnfx_cli_parse_knob(argv[++i], &knobs[n_knobs], msg, sizeof msg) != 0) {
                fprintf(stderr, "rnnfx-process: --set: %s\n", msg);
                return 2;
            }
            n_knobs++;
        } else {
            fprintf(stderr, "rnnfx-process: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!model_path) {
        fprintf(stderr, "rnnfx-process: no model given (-m MODEL); see --help\n");
        return 2;
    }
    if (n_inputs == 0 && n_lists == 0) {
        fprintf(stderr, "rnnfx-process: no input files given; see --help\n");
        return 2;
    }
    if (!out_dir && !pattern) {
        fprintf(stderr, "rnnfx-process: say where outputs go: -o DIR, or --pattern "
                        "'{name}-fx.{ext}' to write beside each input\n");
        return 2;
    }
    if (skip_existing && overwrite) {
        fprintf(stderr, "rnnfx-process: --skip-existing and --overwrite exclude each other\n");
        return 2;
    }
    /* An absolute pattern under -o was written below the folder
     * ("-o out --pattern /data/{name}.wav" made out/data/...): say which
     * one to drop instead of guessing. */
    if (out_dir && pattern && pattern[0] == '/') {
        fprintf(stderr, "rnnfx-process: --pattern '%s' is an absolute path, and -o %s puts "
                        "outputs under a folder: give one or the other (without -o an absolute "
                        "pattern is used as it is)\n",
                pattern, out_dir);
        return 2;
    }
    /* -o naming a file once failed every input with "FAILED <input>: <out>
     * is not a folder", as if each input were at fault */
    struct stat ost;
    if (out_dir && stat(out_dir, &ost) == 0 && !S_ISDIR(ost.st_mode)) {
        fprintf(stderr, "rnnfx-process: -o %s is a file, not a folder; -o names the folder the "
                        "outputs go to (created if missing)\n",
                out_dir);
        return 1;
    }

    RnnfxBatchOptions opts;
    rnnfx_batch_options_init(&opts);
    const char *out_ext = NULL;
    if (format_name) {
        opts.out_format = rnnfx_batch_major_from_name(format_name, &out_ext);
        if (!opts.out_format) {
            fprintf(stderr, "rnnfx-process: unknown --format '%s' (wav flac aiff caf ogg rf64 w64 au)\n",
                    format_name);
            return 2;
        }
    }
    if (encoding) {
        opts.out_subtype = rnnfx_audio_subtype_from_name(encoding);
        if (!opts.out_subtype) {
            fprintf(stderr, "rnnfx-process: unknown --encoding '%s' (pcm16 pcm24 pcm32 float)\n",
                    encoding);
            return 2;
        }
    }
    if (as_float) {
        if (encoding && opts.out_subtype != SF_FORMAT_FLOAT) {
            fprintf(stderr, "rnnfx-process: --float and --encoding %s contradict each other\n",
                    encoding);
            return 2;
        }
        opts.out_subtype = SF_FORMAT_FLOAT;
    }
    if (opts.out_format && opts.out_subtype) {
        /* a container that cannot hold the encoding (FLAC and float, say)
         * is a usage error, not one failure per file */
        SF_INFO probe = {0};
        probe.samplerate = 48000;
        probe.channels = 1;
        probe.format = opts.out_format | opts.out_subtype;
        if (!sf_format_check(&probe)) {
            fprintf(stderr, "rnnfx-process: --format %s cannot hold %s samples; choose another "
                            "--format or --encoding\n",
                    format_name, as_float ? "float" : encoding);
            return 2;
        }
    }

    /* The model, checked before any file is touched. */
    RnnfxModel *model = NULL;
    RnnfxError err = {{0}};
    RnnfxLoadOptions lopts = {0};
    lopts.default_sample_rate = (double)model_rate; /* 0: the format's own default */
    RnnfxStatus st = rnnfx_model_load(model_path, &lopts, &model, &err);
    if (st != RNNFX_OK) {
        const char *why =
            rnnfx_cli_without_path(err.msg[0] ? err.msg : rnnfx_strerror(st), model_path);
        fprintf(stderr, "rnnfx-process: %s: %s\n", model_path, why);
        return 1;
    }
    const RnnfxArch *arch = rnnfx_model_arch(model);
    if (arch->kind != RNNFX_KIND_AUDIO) {
        fprintf(stderr, "rnnfx-process: %s is a MIDI-frame model, not an audio capture\n", model_path);
        rnnfx_model_free(model);
        return 1;
    }
    {
        /* A file that states no rate (AIDA-X, Proteus and NAM files may
         * not) was run at the format's usual rate without a word, while
         * rnnfx-inspect showed it as assumed: a capture trained at
         * 44.1 kHz and run at 48 kHz shapes every frequency 9 % higher
         * than the amp did. Say so, and how to give the right one. A
         * --model-rate that contradicts a rate the file states is
         * refused: it could only be a mistake about which file this is (a
         * wrong rate in the file is corrected once with rnnfx-convert
         * --sample-rate). */
        const double rate = rnnfx_model_meta_const(model)->sample_rate;
        if (model_rate && !rnnfx_cli_model_rate_assumed(model) && rate != (double)model_rate) {
            fprintf(stderr, "rnnfx-process: --model-rate %ld: %s states %g Hz; --model-rate only "
                            "gives the rate of a file that states none (to correct the file's, "
                            "write a copy with rnnfx-convert --sample-rate)\n",
                    model_rate, model_path, rate);
            rnnfx_model_free(model);
            return 2;
        }
        if (!model_rate && rnnfx_cli_model_rate_assumed(model) && !quiet)
            fprintf(stderr, "rnnfx-process: note: %s does not state its sample rate; %g Hz "
                            "assumed (its format's usual rate): if it was trained at another, "
                            "give --model-rate HZ\n",
                    model_path, rate);
    }
    {
        /* A model that settles far from 0 on silence puts that offset
         * under every output file: say so once, before the run. */
        char rw[300];
        rnnfx_cli_rest_warning(rnnfx_cli_model_rest_output(model), rw, sizeof rw);
        if (rw[0])
            fprintf(stderr, "rnnfx-process: warning: %s: %s\n", model_path, rw);
    }
    int knob_index[MAX_SET];
    if (rnnfx_cli_resolve_knobs(model, knobs, n_knobs, knob_index, msg, sizeof msg) != 0) {
        fprintf(stderr, "rnnfx-process: --set: %s\n", msg);
        rnnfx_model_free(model);
        return 2;
    }
    opts.model = model;
    opts.controls.input_db = (float)in_db;
    opts.controls.output_db = (float)out_db;
    opts.controls.mix = (float)mix;
    opts.controls.enabled = 1;
    opts.controls.normalize = normalize;
    /* Knobs go to the chain normalised to 0..1 of the model's range; unset
     * knobs go as NaN, which plays the model's default itself (its
     * normalised value maps back only to within an ulp, and the plugin
     * never sets the knobs past its fourth). */
    opts.controls.n_knobs = arch->n_params;
    for (int k = 0; k < arch->n_params; k++)
        opts.controls.knobs[k] = NAN;
    for (int i = 0; i < n_knobs; i++) {
        const RnnfxParamDesc *pd = &arch->params[knob_index[i]];
        /* the same knob by name and as --knob N would play the --knob
         * value without a word (twice by name: rnnfx_cli_resolve_knobs) */
        if (knob_index[i] < RNNFX_CHAIN_MAX_KNOBS && !isnan(knob_pos[knob_index[i]])) {
            fprintf(stderr, "rnnfx-process: knob '%s' (--knob %d) is set twice\n", pd->name,
                    knob_index[i] + 1);
            rnnfx_model_free(model);
            return 2;
        }
        if (knobs[i].value < pd->min || knobs[i].value > pd->max)
            fprintf(stderr, "rnnfx-process: warning: %s=%g is outside the knob's range %g..%g; "
                            "clamped\n", pd->name, knobs[i].value, pd->min, pd->max);
        opts.controls.knobs[knob_index[i]] =
            rnnfx_chain_knob_normalize(model, knob_index[i], (float)knobs[i].value);
    }
    for (int k = 0; k < RNNFX_CHAIN_MAX_KNOBS; k++) {
        if (isnan(knob_pos[k]))
            continue;
        if (k >= arch->n_params) {
            fprintf(stderr, "rnnfx-process: --knob %d: the model has %d knob(s)\n", k + 1,
                    arch->n_params);
            rnnfx_model_free(model);
            return 2;
        }
        opts.controls.knobs[k] = (float)knob_pos[k];
    }
    /* The impulse response, checked before any file is touched (each rate
     * gets its own copy during the run; a file that is not a usable
     * response fails here, once, instead of once per input). Made at
     * 48 kHz here only to check it and to describe it. */
    char ir_desc[700] = "";
    if (ir_path) {
        RnnfxIr *ir = NULL;
        st = rnnfx_ir_load(ir_path, 48000.0, 1, &ir, &err);
        if (st != RNNFX_OK) {
            fprintf(stderr, "rnnfx-process: impulse response %s: %s\n", ir_path,
                    rnnfx_cli_without_path(err.msg[0] ? err.msg : rnnfx_strerror(st), ir_path));
            rnnfx_model_free(model);
            return 1;
        }
        int src_ch = rnnfx_ir_source_channels(ir);
        snprintf(ir_desc, sizeof ir_desc,
                 "impulse response %s: %.1f ms (after trimming), recorded at %g Hz, %s, gain "
                 "%+.1f dB to unit band gain; after the model, before the mix",
                 ir_path, 1e3 * (double)rnnfx_ir_frames(ir) / 48000.0, rnnfx_ir_source_rate(ir),
                 src_ch == 2 ? "stereo (left to channel 1, right to channel 2 of stereo files; "
                               "mixed to mono for other files)"
                             : "mono",
                 20.0 * log10((double)rnnfx_ir_gain(ir)));
        if (tail_auto) {
            size_t used = strlen(ir_desc);
            snprintf(ir_desc + used, sizeof ir_desc - used,
                     "; --tail auto: its length after each file (%.1f ms at 48 kHz)",
                     1e3 * (double)rnnfx_ir_frames(ir) / 48000.0);
        }
        rnnfx_ir_free(ir);
        opts.ir_path = ir_path;
    }
    opts.tail_seconds = tail_s;
    opts.tail_auto = tail_auto;
    opts.jobs = (int)jobs;
    opts.block = (size_t)block;
    opts.overwrite = overwrite;
    opts.skip_existing = skip_existing;
    opts.cancel = &g_cancel;

    /* Inputs. A list or folder that cannot be read stops the run (nothing
     * was started); a single missing file becomes a per-file failure, and
     * so does a folder holding no audio file when there are other inputs
     * (list.empty_dirs, reported with the files' failures). */
    if (out_dir && rnnfx_batch_list_skip_dir(&list, out_dir) != 0) {
        fprintf(stderr, "rnnfx-process: out of memory\n");
        rnnfx_model_free(model);
        return 2;
    }
    for (int i = 0; i < n_lists; i++) {
        if (rnnfx_batch_add_list(&list, lists[i], msg, sizeof msg) != 0) {
            fprintf(stderr, "rnnfx-process: %s\n", msg);
            rnnfx_model_free(model);
            return 2;
        }
    }
    for (int i = 0; i < n_inputs; i++) {
        if (rnnfx_batch_add_arg(&list, inputs[i], msg, sizeof msg) != 0) {
            fprintf(stderr, "rnnfx-process: %s\n", msg);
            rnnfx_model_free(model);
            return 2;
        }
    }
    if (list.count == 0) {
        /* nothing to do at all: the command line is wrong, not one input */
        for (size_t i = 0; i < list.n_empty_dirs; i++)
            fprintf(stderr, "rnnfx-process: %s: folder holds no audio files\n",
                    list.empty_dirs[i]);
        if (!list.n_empty_dirs)
            fprintf(stderr, "rnnfx-process: no input files found\n");
        rnnfx_batch_list_free(&list);
        rnnfx_model_free(model);
        return 2;
    }
    char stem[256];
    RnnfxBatchNaming naming = {out_dir, pattern, model_stem(model_path, stem, sizeof stem), out_ext};
    if (rnnfx_batch_name_outputs(&list, &naming, msg, sizeof msg) != 0) {
        fprintf(stderr, "rnnfx-process: %s\n", msg);
        rnnfx_batch_list_free(&list);
        rnnfx_model_free(model);
        return 2;
    }
    if (list.n_own_outputs)
        fprintf(stderr,
                "rnnfx-process: %zu file(s) in the input folders are what this run writes (an "
                "earlier run's outputs): not taken as inputs\n",
                list.n_own_outputs);
    /* The model is read too: "--pattern '{name}.json' --overwrite" once
     * replaced the model file with audio. So is the impulse response. */
    for (size_t i = 0; i < list.count; i++) {
        const char *what = rnnfx_cli_same_path(list.items[i].out_path, model_path) ? "model file"
                           : ir_path && rnnfx_cli_same_path(list.items[i].out_path, ir_path)
                               ? "impulse response"
                               : NULL;
        if (what) {
            fprintf(stderr, "rnnfx-process: %s: the output %s would be the %s; choose "
                            "another folder (-o) or --pattern\n",
                    list.items[i].in_path, list.items[i].out_path, what);
            rnnfx_batch_list_free(&list);
            rnnfx_model_free(model);
            return 2;
        }
    }
    /* An --encoding or --format the input's own container or encoding
     * cannot take ("--float" on FLAC inputs, whose format the outputs
     * keep) failed every such file at run time, one message each, after
     * the others had been rendered: refused here, before any work, as
     * "--format ogg --encoding pcm16" is above. */
    {
        size_t first = 0;
        char why[400];
        size_t bad = rnnfx_batch_check_formats(&list, &opts, &first, why, sizeof why);
        if (bad) {
            /* the options asked, as typed: "--float", "--encoding pcm16 with --format ogg" */
            char asked[160] = "";
            if (as_float)
                snprintf(asked, sizeof asked, "--float");
            else if (encoding)
                snprintf(asked, sizeof asked, "--encoding %s", encoding);
            if (format_name) {
                size_t used = strlen(asked);
                snprintf(asked + used, sizeof asked - used, "%s--format %s", used ? " with " : "",
                         format_name);
            }
            fprintf(stderr, "rnnfx-process: %s: %zu of %zu input%s cannot be written so (%s%s: "
                            "%s); nothing was done\n",
                    asked, bad, list.count, list.count == 1 ? "" : "s",
                    list.items[first].in_path, bad > 1 ? " and others" : "", why);
            rnnfx_batch_list_free(&list);
            rnnfx_model_free(model);
            return 2;
        }
    }
    if (dry_run) {
        /* An output that exists fails the real run unless told what to do
         * with it: said here, where it costs nothing to find out. */
        for (size_t i = 0; i < list.count; i++) {
            struct stat dst;
            const char *note = "";
            if (stat(list.items[i].out_path, &dst) == 0)
                note = skip_existing ? "  (exists: skipped)"
                       : overwrite   ? "  (exists: replaced)"
                                     : "  (exists: fails without --overwrite or --skip-existing)";
            printf("%s -> %s%s\n", list.items[i].in_path, list.items[i].out_path, note);
        }
        for (size_t i = 0; i < list.n_empty_dirs; i++)
            fprintf(stderr, "rnnfx-process: %s: folder holds no audio files (the run counts it "
                            "as failed)\n",
                    list.empty_dirs[i]);
        rnnfx_batch_list_free(&list);
        rnnfx_model_free(model);
        return 0;
    }

    if (ir_desc[0] && !quiet)
        fprintf(stderr, "rnnfx-process: %s\n", ir_desc);
    if (normalize && !quiet) {
        /* the figure the chain measures for itself, from the same rest
         * state on the same reference */
        const double level = rnnfx_cli_model_level_db(model);
        if (isfinite(level))
            fprintf(stderr, "rnnfx-process: --normalize: the capture is %+.1f dB on the reference "
                            "guitar part, so it plays %+.1f dB\n", level, -level);
        else
            fprintf(stderr, "rnnfx-process: --normalize: the capture plays near silence on the "
                            "reference guitar part; its level is left alone\n");
    }
    if (tail_auto && !ir_path && !quiet)
        fprintf(stderr, "rnnfx-process: note: --tail auto adds nothing without --ir (a recurrent "
                        "model's decay has no set length); give seconds, e.g. --tail 2\n");

    ProgressState ps = {isatty(2), 0.0};
    if (!quiet) {
        opts.progress = progress_cb;
        opts.progress_user = &ps;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* a closed terminal (an ssh session that dropped) and Ctrl-\ stop the
     * run the same way: no temporary file left behind */
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);

    double t0 = rnnfx_cli_now();
    /* An empty folder counts as a failed input: the others are done, and
     * the exit status says that something given was not. */
    size_t failed = rnnfx_batch_run(&list, &opts) + list.n_empty_dirs;
    double wall = rnnfx_cli_now() - t0;

    /* Per-file report: failures, clipping, and a summary line. */
    for (size_t i = 0; i < list.n_empty_dirs; i++)
        fprintf(stderr, "rnnfx-process: FAILED %s: folder holds no audio files\n",
                list.empty_dirs[i]);
    size_t done = 0, skipped = 0, cancelled = 0;
    double audio_s = 0.0, tail_total = 0.0, tail_min = INFINITY, tail_max = 0.0;
    for (size_t i = 0; i < list.count; i++) {
        const RnnfxBatchItem *it = &list.items[i];
        switch (it->state) {
        case RNNFX_BATCH_DONE:
            done++;
            audio_s += it->sample_rate > 0 ? (double)it->frames / it->sample_rate : 0.0;
            if (tail_arg && it->sample_rate > 0) {
                double t = (double)it->tail_frames / it->sample_rate;
                tail_total += t;
                tail_min = t < tail_min ? t : tail_min;
                tail_max = t > tail_max ? t : tail_max;
            }
            if (it->clipped) {
                int fl = it->out_float;
                fprintf(stderr, "rnnfx-process: warning: %s: %zu samples above 0 dBFS (peak %+.1f dBFS)%s\n",
                        it->out_path, it->clipped, 20.0 * log10(it->peak),
                        fl ? " kept in the float file" : " were clipped; lower --out-gain or use --float");
            }
            if (it->nonfinite_in)
                fprintf(stderr, "rnnfx-process: warning: %s: %zu non-finite input samples (NaN or "
                                "infinity) were played as 0\n",
                        it->in_path, it->nonfinite_in);
            if (it->nonfinite)
                fprintf(stderr, "rnnfx-process: warning: %s: %zu non-finite samples written as 0\n",
                        it->out_path, it->nonfinite);
            break;
        case RNNFX_BATCH_SKIPPED: skipped++; break;
        case RNNFX_BATCH_FAILED:
        {
            fprintf(stderr, "rnnfx-process: FAILED %s: %s\n", it->in_path,
                    rnnfx_cli_without_path(it->error, it->in_path));
        }
            break;
        default: cancelled++; break;
        }
    }
    if (!quiet || failed) {
        char w[32], a[32];
        rnnfx_cli_format_duration(wall, w, sizeof w);
        rnnfx_cli_format_duration(audio_s, a, sizeof a);
        char ns[64] = "";
        if (cancelled)
            /* stopped part-way or never started: either way nothing written */
            snprintf(ns, sizeof ns, ", %zu not done%s", cancelled, g_cancel ? " (interrupted)" : "");
        /* With --tail: what was added after the inputs, per file (the
         * same for all with seconds; with auto it follows each rate). The
         * real-time factor counts it: it is audio rendered too. */
        char ts[128] = "";
        if (tail_arg && done) {
            char tt[32];
            rnnfx_cli_format_duration(tail_total, tt, sizeof tt);
            if (tail_max - tail_min < 0.5e-3)
                snprintf(ts, sizeof ts, " + %s of tails (%.3f s after each output)", tt, tail_max);
            else
                snprintf(ts, sizeof ts, " + %s of tails (%.3f to %.3f s after each output)", tt,
                         tail_min, tail_max);
        }
        fprintf(stderr, "rnnfx-process: %zu done, %zu skipped, %zu failed%s; %s of audio%s in %s "
                        "(%.1fx real time, %ld thread%s)\n",
                done, skipped, failed, ns, a, ts, w,
                wall > 0 ? (audio_s + tail_total) / wall : 0.0, jobs, jobs == 1 ? "" : "s");
    }
    rnnfx_batch_list_free(&list);
    rnnfx_model_free(model);
    if (g_cancel)
        return 130;
    return failed ? 1 : 0;
}

/*
 * rnnfx-train — capture an amp or pedal from a dry/wet recording pair.
 *
 *   rnnfx-train --input dry.wav --target wet.wav -o capture.json
 *
 * This program is everything around the numeric trainer (engine/train.h):
 * it reads the recordings (any format libsndfile reads), checks them (rate,
 * length, channels, silence, clipping), finds and removes the delay between
 * dry and wet and detects inverted polarity (tools/common/align.h), sets the
 * levels the network sees, splits the audio into training, validation and
 * test regions by time, drives the trainer under an epoch or wall-clock
 * budget with a progress display, keeps the best model by validation ESR,
 * handles Ctrl-C and resume, scores the saved model on the held-out test
 * audio through the engine's own playback path, and writes the model file,
 * an LV2 preset and an HTML report. The files of an earlier run are not
 * replaced without --force (or --resume from that run's checkpoint).
 *
 * Data decisions, and why:
 *   - Levels. The network sees the input scaled to a fixed RMS (0.25) and
 *     learns a target scaled to a fixed RMS, so the same recipe works for a
 *     quiet DI and a hot re-amp. The scale factors go into the model as its
 *     input_gain/output_gain, so the saved model plays at the device's level.
 *   - Polarity. An inverting device is trained on the re-inverted target and
 *     the inversion is put back as a negative output_gain: the model stays
 *     faithful to the device and the network has the easier job.
 *   - Skip connection. On by default only when the wet signal is largely the
 *     dry one (a single-gain passthrough explains at least half of it);
 *     otherwise the skip would first have to be unlearned (a fuzz, an amp
 *     with a tone stack, a much quieter wet signal). --skip/--no-skip decide.
 *   - Channels. A multichannel file gives one channel (--channel, else 0
 *     with a warning) or the mix (--mix); --input-channel/--target-channel
 *     pick per side, so one stereo re-amp file (dry on one channel, wet on
 *     the other) is both input and target. The same channel of the same
 *     file on both sides is refused: its model would be a plain wire.
 *   - Split. Each recording is cut into 10 equal blocks; block 4 is used for
 *     validation and block 8 for testing, the rest for training. Validation
 *     and test regions are scored after a 2048-sample warm-up on the audio
 *     just before them (their input only), so no state starts cold.
 *
 * Not here: the forward/backward passes, the optimizer and checkpoints'
 * contents (engine/train_*.c), resampling (a rate mismatch is an error).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "align.h"
#include "audio_io.h"
#include "cli.h"
#include "instance.h"
#include "manifest.h"
#include "model.h"
#include "model_file.h"
#include "preset.h"
#include "progress.h"
#include "report.h"
#include "status.h"
#include "train.h"
#include "train_midi.h"

/* Exit status: 0 done, EXIT_FAIL a runtime error (a file missing, unreadable
 * or unsuitable, training failed), EXIT_USAGE a bad command line. */
#define EXIT_FAIL 1
#define EXIT_USAGE 2
/* Recording rates rnnfx-train takes (the --sample-rate range; models
 * themselves must be at least 1000 Hz). */
#define RATE_MIN 1000
#define RATE_MAX 768000
#define INPUT_RMS 0.25   /* level the network sees at its input */
#define TARGET_RMS 0.25  /* level it learns to produce (no-skip case) */
#define PREROLL 2048     /* warm-up before each validation/test region */
#define LINEAR_UNRELATED 0.9 /* a linear fit's ESR above this: different takes? */
#define EARLY_SUSPECT 16     /* a wet lead beyond this many samples: cut apart */
#define ESR_SILENCE 1.0      /* the ESR of putting out silence */
#define SAMPLE_LIMIT 16.0    /* +24 dBFS: beyond it a sample is corrupt data */
#define OFFSET_LIMIT 3e-3    /* -50 dBFS: a DC offset above it is removed */
#define LINEAR_WIRE 1e-5      /* below this: the wet signal is a filtered copy of the dry one */
#define N_BLOCKS 10
#define CH_UNSET (-3) /* --input-channel/--target-channel not given */
#define CH_MAX 63     /* highest channel number the options take */
#define VAL_BLOCK 4
#define TEST_BLOCK 8

/* ---- options ---------------------------------------------------------------- */
typedef struct {
    const char *input, *target, *output, *manifest, *resume, *checkpoint;
    const char *report, *preset, *name, *export_split, *evaluate;
    int no_report, no_preset, quiet;
    int force;        /* --force: replace the outputs of an earlier run */
    RnnfxCell cell;
    int hidden, layers;
    int epochs;       /* 0 = no epoch limit */
    double minutes;   /* 0 = no time limit */
    uint64_t seed;
    int threads;
    double lr;
    long segment, burn_in, tbptt, batch; /* 0 = trainer default */
    int skip;         /* -1 auto, 0, 1 */
    int channel;      /* -2 = default (0 with a warning for stereo), -1 mix */
    /* --input-channel / --target-channel: CH_UNSET, or the channel of the
     * input (target) files, overriding --channel/--mix for them; this is
     * how one stereo re-amp file (dry on one channel, wet on the other)
     * is both the input and the target */
    int in_channel, tg_channel;
    double sample_rate; /* 0 = any (both files must agree) */
    int delay_set, delay, invert_set, invert;
    int no_align;
    int patience;     /* epochs without improvement before stopping; 0 = never */
    double test_at[8];
    int n_test_at;
} Options;

static void usage(FILE *f)
{
    fputs(
        "usage: rnnfx-train --input DRY --target WET -o MODEL.json [options]\n"
        "       rnnfx-train --manifest PAIRS.txt -o MODEL.json [options]\n"
        "       rnnfx-train --midi FILES... -o MODEL.json   (MIDI-frame models; see --midi --help)\n"
        "\n"
        "Trains a recurrent network that sounds like the device that turned DRY into WET.\n"
        "Writes MODEL.json, an LV2 preset bundle MODEL.lv2/ and a report MODEL.html, and keeps a\n"
        "checkpoint MODEL.json.ckpt. If any of them exists, nothing is done: --force replaces them,\n"
        "--resume MODEL.json.ckpt continues the run that wrote them.\n"
        "\n"
        "data:\n"
        "  -i, --input FILE       dry recording (any format libsndfile reads)\n"
        "  -t, --target FILE      the device's output for that recording\n"
        "      --manifest FILE    conditioned capture: lines 'input target knob=value ...'\n"
        "      --channel N        use channel N (0-based) of multichannel files\n"
        "      --mix              average all channels instead\n"
        "      --input-channel N  channel N (0-based) of the input file(s), whatever --channel says\n"
        "      --target-channel N channel N (0-based) of the target file(s), whatever --channel says;\n"
        "                         one stereo re-amp file with the dry signal on the left and the\n"
        "                         device on the right: -i take.wav --input-channel 0\n"
        "                         -t take.wav --target-channel 1\n"
        "      --sample-rate HZ   require this rate (files at another rate are an error)\n"
        "      --delay N          do not detect: wet is N samples late (negative: early)\n"
        "      --invert, --no-invert  do not detect polarity\n"
        "      --no-align         same as --delay 0 --no-invert\n"
        "model:\n"
        "      --type gru|lstm|rnn  cell type (default gru; --cell is the same)\n"
        "      --hidden N         hidden size (default 32)\n"
        "      --layers N         recurrent layers (default 1)\n"
        "      --skip, --no-skip  add the input to the output (default: decided from the data)\n"
        "training:\n",
        f);
    /* two literals: one would pass the 4095 characters C11 promises */
    fputs(
        "      --minutes M        wall-clock budget (default 5 when --epochs is not given)\n"
        "      --epochs N         epoch limit\n"
        "      --patience N       stop after N epochs without a better validation (default 0: never)\n"
        "      --lr X             peak learning rate (default 5e-3, cosine decay)\n"
        "      --segment N        samples per training segment (default 4096)\n"
        "      --burn-in N        unscored samples at each segment start (default 512)\n"
        "      --tbptt N          an update every N samples (default 512)\n"
        "      --batch N          segments per batch (default 32)\n"
        "      --threads N        worker threads (default: the cores it may use, as nproc)\n"
        "      --seed N           random seed (default 1)\n"
        "      --resume CKPT      continue a run from its checkpoint (same model options; on other\n"
        "                         audio it fine-tunes from the checkpoint's weights); from this\n"
        "                         run's own checkpoint it carries on into that run's files, no\n"
        "                         --force needed\n"
        "      --checkpoint FILE  where to keep the checkpoint (default MODEL.json.ckpt)\n"
        "output:\n"
        "  -o, --output FILE      the model file (rnnfx JSON)\n"
        "      --name TEXT        model name (default: the output file's name)\n"
        "      --report FILE      HTML report (default MODEL.html); --no-report\n"
        "      --preset PATH      LV2 preset: a NAME.lv2 bundle directory or a .ttl file\n"
        "                         (default MODEL.lv2); --no-preset\n"
        "  -f, --force            replace the model, preset, report and checkpoint of an earlier run\n"
        "                         (only the files named here: other files in MODEL.lv2/ stay)\n"
        "  -q, --quiet            print only warnings, errors and the result\n"
        "other:\n"
        "      --evaluate MODEL   no training: score an existing model on the (aligned) pair(s)\n"
        "      --test-at M1,M2..  (benchmarks) print the test ESR of the current weights at these minutes\n"
        "      --export-split DIR (benchmarks) write the prepared arrays and regions for another trainer\n"
        "  -h, --help\n"
        "      --version          the program's name and version\n"
        "\n"
        "Ctrl-C stops training and writes the best model so far. SIGTERM (a scheduler's\n"
        "preemption) or SIGHUP (a closed terminal) stops it, keeps the checkpoint (the best\n"
        "weights so far in CKPT.best.json) and writes no model, so --resume CKPT finishes the run.\n"
        "Exit status: 0 done (also after Ctrl-C); 1 a file is missing, unreadable or unsuitable,\n"
        "an output exists (see --force), or training failed; 2 bad usage; 143 stopped by SIGTERM\n"
        "or SIGHUP.\n",
        f);
}

/* A bad option value; `takes` says what the option accepts, as --help
 * shows no ranges ("invalid value '5000' for --hidden (see --help)" left
 * the user guessing). */
static int bad_value(const char *opt, const char *val, const char *takes)
{
    fprintf(stderr, "rnnfx-train: invalid value '%s' for --%s: %s\n", val, opt, takes);
    return -1;
}

/* Two options that contradict each other (--skip --no-skip, --mix
 * --channel 0, ...): the last one used to win without a word. */
static int contradict(const char *a, const char *b)
{
    fprintf(stderr, "rnnfx-train: %s and %s contradict each other; give one\n", a, b);
    return -1;
}

static int parse_options(int argc, char **argv, Options *o)
{
    memset(o, 0, sizeof *o);
    o->cell = RNNFX_CELL_GRU;
    o->hidden = 32;
    o->layers = 1;
    o->seed = 1;
    o->threads = rnnfx_cli_cpu_count();
    o->lr = 0;
    o->skip = -1;
    o->channel = -2;
    o->in_channel = o->tg_channel = CH_UNSET;
    enum {
        O_MANIFEST = 256, O_TYPE, O_HIDDEN, O_LAYERS, O_EPOCHS, O_MINUTES, O_SEED, O_THREADS, O_LR,
        O_SEGMENT, O_BURN, O_TBPTT, O_BATCH, O_SKIP, O_NOSKIP, O_RESUME, O_CKPT, O_REPORT,
        O_NOREPORT, O_PRESET, O_NOPRESET, O_CHANNEL, O_MIX, O_RATE, O_NAME, O_DELAY, O_INVERT,
        O_NOINVERT, O_NOALIGN, O_PATIENCE, O_TESTAT, O_EXPORT, O_EVAL, O_INCH, O_TGCH
    };
    static const struct option longs[] = {
        {"input", required_argument, 0, 'i'},     {"target", required_argument, 0, 't'},
        {"output", required_argument, 0, 'o'},    {"manifest", required_argument, 0, O_MANIFEST},
        {"type", required_argument, 0, O_TYPE},   {"hidden", required_argument, 0, O_HIDDEN},
        {"cell", required_argument, 0, O_TYPE}, /* MIDI mode's name for --type */
        {"layers", required_argument, 0, O_LAYERS}, {"epochs", required_argument, 0, O_EPOCHS},
        {"minutes", required_argument, 0, O_MINUTES}, {"seed", required_argument, 0, O_SEED},
        {"threads", required_argument, 0, O_THREADS}, {"lr", required_argument, 0, O_LR},
        {"segment", required_argument, 0, O_SEGMENT}, {"burn-in", required_argument, 0, O_BURN},
        {"tbptt", required_argument, 0, O_TBPTT}, {"batch", required_argument, 0, O_BATCH},
        {"skip", no_argument, 0, O_SKIP},         {"no-skip", no_argument, 0, O_NOSKIP},
        {"resume", required_argument, 0, O_RESUME}, {"checkpoint", required_argument, 0, O_CKPT},
        {"report", required_argument, 0, O_REPORT}, {"no-report", no_argument, 0, O_NOREPORT},
        {"preset", required_argument, 0, O_PRESET}, {"no-preset", no_argument, 0, O_NOPRESET},
        {"channel", required_argument, 0, O_CHANNEL}, {"mix", no_argument, 0, O_MIX},
        {"input-channel", required_argument, 0, O_INCH},
        {"target-channel", required_argument, 0, O_TGCH},
        {"sample-rate", required_argument, 0, O_RATE}, {"name", required_argument, 0, O_NAME},
        {"delay", required_argument, 0, O_DELAY}, {"invert", no_argument, 0, O_INVERT},
        {"no-invert", no_argument, 0, O_NOINVERT}, {"no-align", no_argument, 0, O_NOALIGN},
        {"patience", required_argument, 0, O_PATIENCE}, {"test-at", required_argument, 0, O_TESTAT},
        {"export-split", required_argument, 0, O_EXPORT},
        {"evaluate", required_argument, 0, O_EVAL},
        {"quiet", no_argument, 0, 'q'},           {"help", no_argument, 0, 'h'},
        {"force", no_argument, 0, 'f'},
        {0, 0, 0, 0}};
    int c;
    long l;
    double d;
    /* Long options by their whole names only, as the other tools take
     * them: getopt_long took any unambiguous prefix ("--min 5" for
     * --minutes), so a typo could set an option nobody named. A prefix
     * of several options is left to the "ambiguous" message below. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--"))
            break;
        if (!strcmp(a, "-i") || !strcmp(a, "-t") || !strcmp(a, "-o")) {
            i++; /* its value, whatever it looks like */
            continue;
        }
        if (strncmp(a, "--", 2) || !a[2])
            continue;
        const size_t len = strcspn(a + 2, "=");
        const struct option *hit = NULL, *prefix_of = NULL;
        int prefixes = 0;
        for (int k = 0; longs[k].name; k++) {
            if (strncmp(longs[k].name, a + 2, len))
                continue;
            if (strlen(longs[k].name) == len)
                hit = &longs[k];
            prefixes++;
            prefix_of = &longs[k];
        }
        if (!hit && prefixes == 1) {
            fprintf(stderr, "rnnfx-train: unknown option '%.*s'; did you mean --%s? (options "
                            "are taken by their whole names)\n",
                    (int)(len + 2), a, prefix_of->name);
            return -1;
        }
        if (hit && hit->has_arg == required_argument && !a[2 + len])
            i++; /* its value */
    }
    opterr = 0;
    int li = -1;
    while ((c = getopt_long(argc, argv, "i:t:o:qfh", longs, &li)) != -1) {
        /* the option as the user spelled it (--type and --cell share a
         * code: a bad --type value was reported as --cell's) */
        const char *name = li >= 0 ? longs[li].name : NULL;
        for (int k = 0; !name && longs[k].name; k++)
            if (longs[k].val == c)
                name = longs[k].name;
        li = -1;
        switch (c) {
        /* one recording of each kind and one output: a second one given
         * (say an edited command line) used to win without a word */
        case 'i':
            if (rnnfx_cli_set_once("rnnfx-train", "-i/--input", &o->input, optarg)) return -1;
            break;
        case 't':
            if (rnnfx_cli_set_once("rnnfx-train", "-t/--target", &o->target, optarg)) return -1;
            break;
        case 'o':
            if (rnnfx_cli_set_once("rnnfx-train", "-o/--output", &o->output, optarg)) return -1;
            break;
        case 'q': o->quiet = 1; break;
        case 'f': o->force = 1; break;
        case 'h': usage(stdout); exit(0);
        case O_MANIFEST:
            if (rnnfx_cli_set_once("rnnfx-train", "--manifest", &o->manifest, optarg)) return -1;
            break;
        case O_TYPE:
            if (!strcasecmp(optarg, "gru")) o->cell = RNNFX_CELL_GRU;
            else if (!strcasecmp(optarg, "lstm")) o->cell = RNNFX_CELL_LSTM;
            else if (!strcasecmp(optarg, "rnn")) o->cell = RNNFX_CELL_RNN;
            else return bad_value(name, optarg, "gru, lstm or rnn");
            break;
        case O_HIDDEN:
            if (rnnfx_cli_parse_int(optarg, 1, 256, &l))
                return bad_value(name, optarg, "a whole number from 1 to 256");
            o->hidden = (int)l;
            break;
        case O_LAYERS:
            if (rnnfx_cli_parse_int(optarg, 1, 4, &l))
                return bad_value(name, optarg, "a whole number from 1 to 4");
            o->layers = (int)l;
            break;
        case O_EPOCHS:
            if (rnnfx_cli_parse_int(optarg, 1, 1000000, &l))
                return bad_value(name, optarg, "a whole number from 1 to 1000000");
            o->epochs = (int)l;
            break;
        case O_MINUTES:
            if (rnnfx_cli_parse_double(optarg, &d) || !(d > 0) || d > 60 * 24 * 7)
                return bad_value(name, optarg, "minutes above 0, at most a week (10080)");
            o->minutes = d;
            break;
        case O_SEED:
            if (rnnfx_cli_parse_int(optarg, 0, LONG_MAX, &l))
                return bad_value(name, optarg, "a whole number from 0");
            o->seed = (uint64_t)l;
            break;
        case O_THREADS:
            if (rnnfx_cli_parse_int(optarg, 1, 256, &l))
                return bad_value(name, optarg, "a whole number from 1 to 256");
            o->threads = (int)l;
            break;
        case O_LR:
            if (rnnfx_cli_parse_double(optarg, &d) || !(d > 0) || d > 1)
                return bad_value(name, optarg, "a number above 0, at most 1 (e.g. 5e-3)");
            o->lr = d;
            break;
        case O_SEGMENT:
            if (rnnfx_cli_parse_int(optarg, 16, 1 << 22, &o->segment))
                return bad_value(name, optarg, "samples, from 16 to 4194304");
            break;
        case O_BURN:
            if (rnnfx_cli_parse_int(optarg, 0, 1 << 22, &o->burn_in))
                return bad_value(name, optarg, "samples, from 0 to 4194304");
            if (o->burn_in == 0) o->burn_in = -1; /* explicit zero */
            break;
        case O_TBPTT:
            if (rnnfx_cli_parse_int(optarg, 1, 1 << 22, &o->tbptt))
                return bad_value(name, optarg, "samples, from 1 to 4194304");
            break;
        case O_BATCH:
            if (rnnfx_cli_parse_int(optarg, 1, 4096, &o->batch))
                return bad_value(name, optarg, "segments, from 1 to 4096");
            break;
        case O_SKIP:
        case O_NOSKIP:
            if (o->skip == (c == O_SKIP ? 0 : 1)) return contradict("--skip", "--no-skip");
            o->skip = c == O_SKIP;
            break;
        /* an empty name (an unset shell variable) trained and then could
         * not write the report, or ran without a checkpoint */
        /* each names a file: given twice is an error (tools/README.md),
         * as is naming one and refusing it (--report X --no-report) */
        case O_RESUME:
            if (!optarg[0]) return bad_value(name, optarg, "a checkpoint file name");
            if (rnnfx_cli_set_once("rnnfx-train", "--resume", &o->resume, optarg)) return -1;
            break;
        case O_CKPT:
            if (!optarg[0]) return bad_value(name, optarg, "a file name");
            if (rnnfx_cli_set_once("rnnfx-train", "--checkpoint", &o->checkpoint, optarg)) return -1;
            break;
        case O_REPORT:
            if (!optarg[0]) return bad_value(name, optarg, "a file name (or --no-report)");
            if (o->no_report) return contradict("--no-report", "--report");
            if (rnnfx_cli_set_once("rnnfx-train", "--report", &o->report, optarg)) return -1;
            break;
        case O_NOREPORT:
            if (o->report) return contradict("--report", "--no-report");
            o->no_report = 1;
            break;
        case O_PRESET:
            if (!optarg[0]) return bad_value(name, optarg, "a NAME.lv2 folder or a .ttl file (or --no-preset)");
            if (o->no_preset) return contradict("--no-preset", "--preset");
            if (rnnfx_cli_set_once("rnnfx-train", "--preset", &o->preset, optarg)) return -1;
            break;
        case O_NOPRESET:
            if (o->preset) return contradict("--preset", "--no-preset");
            o->no_preset = 1;
            break;
        case O_CHANNEL:
            if (rnnfx_cli_parse_int(optarg, 0, 63, &l))
                return bad_value(name, optarg, "a channel number from 0 to 63");
            if (o->channel == RNNFX_AUDIO_MIX) return contradict("--mix", "--channel");
            if (o->channel >= 0 && o->channel != (int)l) {
                fprintf(stderr, "rnnfx-train: --channel is given twice (%d, %ld)\n", o->channel, l);
                return -1;
            }
            o->channel = (int)l;
            break;
        case O_MIX:
            if (o->channel >= 0) return contradict("--channel", "--mix");
            o->channel = RNNFX_AUDIO_MIX;
            break;
        case O_INCH:
        case O_TGCH:
            if (rnnfx_cli_parse_int(optarg, 0, CH_MAX, &l)) {
                fprintf(stderr,
                        "rnnfx-train: invalid value '%s' for --%s: a channel number from 0 to %d "
                        "(0-based: 0 is the first or left channel, 1 the second or right one)\n",
                        optarg, name, CH_MAX);
                return -1;
            }
            *(c == O_INCH ? &o->in_channel : &o->tg_channel) = (int)l;
            break;
        case O_RATE:
            if (rnnfx_cli_parse_double(optarg, &d) || !(d >= 1000) || d > 768000)
                return bad_value(name, optarg, "a rate in Hz from 1000 to 768000");
            o->sample_rate = d;
            break;
        case O_NAME:
            /* an empty name shows as a blank entry in a host's preset list */
            if (!optarg[strspn(optarg, " \t")])
                return bad_value(name, optarg, "a name (the default is the output file's)");
            o->name = optarg;
            break;
        case O_DELAY:
            if (rnnfx_cli_parse_int(optarg, -1000000, 1000000, &l))
                return bad_value(name, optarg, "samples, from -1000000 to 1000000");
            if (o->no_align && l != 0)
                return contradict("--no-align", "--delay");
            if (o->delay_set && o->delay != (int)l) {
                fprintf(stderr, "rnnfx-train: --delay is given twice (%d, %ld)\n", o->delay, l);
                return -1;
            }
            o->delay_set = 1;
            o->delay = (int)l;
            break;
        case O_INVERT:
        case O_NOINVERT:
            if (o->invert_set && o->invert != (c == O_INVERT))
                return contradict(o->no_align ? "--no-align" : o->invert ? "--invert" : "--no-invert",
                                  c == O_INVERT ? "--invert" : "--no-invert");
            o->invert_set = 1;
            o->invert = c == O_INVERT;
            break;
        case O_NOALIGN:
            if ((o->delay_set && o->delay != 0) || (o->invert_set && o->invert))
                return contradict("--no-align", o->invert ? "--invert" : "--delay");
            o->delay_set = o->invert_set = o->no_align = 1;
            o->delay = o->invert = 0;
            break;
        case O_PATIENCE:
            if (rnnfx_cli_parse_int(optarg, 0, 1000000, &l))
                return bad_value(name, optarg, "epochs, from 0 to 1000000");
            o->patience = (int)l;
            break;
        case O_TESTAT: {
            /* comma-separated minutes: test-set scores of the current weights
             * at these wall times (benchmarks) */
            char buf[256];
            snprintf(buf, sizeof buf, "%s", optarg);
            for (char *tok = strtok(buf, ","); tok && o->n_test_at < 8; tok = strtok(NULL, ",")) {
                if (rnnfx_cli_parse_double(tok, &d) || !(d > 0))
                    return bad_value(name, optarg, "minutes above 0, separated by commas");
                o->test_at[o->n_test_at++] = d;
            }
            break;
        }
        case O_EXPORT:
            if (!optarg[0]) return bad_value(name, optarg, "a folder name");
            o->export_split = optarg;
            break;
        case O_EVAL:
            if (!optarg[0]) return bad_value(name, optarg, "a model file name");
            o->evaluate = optarg;
            break;
        case '?':
        default: {
            /* optopt is a long option's code (a byte for short ones): it
             * was printed as a character ("option -\005 needs a value")
             * for "--minutes" at the end of the line or "--skip=1". */
            const struct option *lo = NULL;
            for (int k = 0; optopt > 255 && longs[k].name; k++)
                if (longs[k].val == optopt)
                    lo = &longs[k];
            if (lo && lo->has_arg == no_argument)
                fprintf(stderr, "rnnfx-train: --%s takes no value (see --help)\n", lo->name);
            else if (lo)
                fprintf(stderr, "rnnfx-train: --%s needs a value (see --help)\n", lo->name);
            else if (optopt && strchr("ito", optopt))
                fprintf(stderr, "rnnfx-train: -%c needs a value (see --help)\n", optopt);
            else if (optopt > 0 && optopt < 256)
                fprintf(stderr, "rnnfx-train: unknown option '-%c' (see --help)\n", optopt);
            else {
                /* a prefix of several options ("--in": --input,
                 * --input-channel) is ambiguous, not unknown */
                const char *arg = argv[optind - 1];
                size_t len = strcspn(arg + 2, "=");
                char names[512] = "";
                int hits = 0;
                for (int k = 0; !strncmp(arg, "--", 2) && longs[k].name; k++)
                    if (len && !strncmp(longs[k].name, arg + 2, len)) {
                        size_t u = strlen(names);
                        snprintf(names + u, sizeof names - u, "%s--%s", hits ? ", " : "",
                                 longs[k].name);
                        hits++;
                    }
                if (hits > 1)
                    fprintf(stderr, "rnnfx-train: ambiguous option '%.*s' (%s; see --help)\n",
                            (int)(len + 2), arg, names);
                else
                    fprintf(stderr, "rnnfx-train: unknown option '%s' (see --help)\n", arg);
            }
            return -1;
        }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "rnnfx-train: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    if ((!o->output || !o->output[0]) && !o->evaluate) {
        /* -o "" (an unset shell variable) was reported as a bad --preset */
        fprintf(stderr, "rnnfx-train: no output file given (-o MODEL.json)\n");
        return -1;
    }
    if (o->output && !o->evaluate) {
        /* The model is always rnnfx JSON: "-o amp.nam" wrote JSON under a
         * .nam name that NAM players cannot open, and "-o take.wav" JSON
         * under an audio name. */
        const char *foreign = rnnfx_cli_foreign_model_name(o->output);
        if (foreign && strcmp(foreign, "audio") != 0) {
            fprintf(stderr,
                    "rnnfx-train: -o %s: the trainer writes rnnfx JSON; train to a .json "
                    "file, then 'rnnfx-convert MODEL.json -o %s' writes the %s file\n",
                    o->output, o->output, foreign);
            return -1;
        }
        if (foreign) {
            fprintf(stderr, "rnnfx-train: -o %s names an audio file; the model is a .json file\n",
                    o->output);
            return -1;
        }
    }
    if (o->manifest && (o->input || o->target)) {
        fprintf(stderr, "rnnfx-train: give either --manifest or --input/--target, not both\n");
        return -1;
    }
    if (!o->manifest && (!o->input || !o->target)) {
        fprintf(stderr, "rnnfx-train: need --input DRY and --target WET (or --manifest FILE)\n");
        return -1;
    }
    {
        /* checked here, not only by the trainer once every recording has
         * been read and aligned (minutes for long files) */
        RnnfxTrainConfig def;
        rnnfx_train_config_default(&def);
        long seg = o->segment ? o->segment : (long)def.segment_len;
        long burn = o->burn_in ? (o->burn_in < 0 ? 0 : o->burn_in) : (long)def.burn_in;
        if (burn >= seg) {
            if (o->burn_in)
                fprintf(stderr, "rnnfx-train: --burn-in (%ld) must be shorter than --segment (%ld "
                                "samples)\n", burn, seg);
            else
                fprintf(stderr, "rnnfx-train: --segment %ld is not longer than the default "
                                "--burn-in (%ld samples): give a smaller --burn-in too\n", seg, burn);
            return -1;
        }
    }
    if (!o->epochs && !(o->minutes > 0))
        o->minutes = 5;
    return 0;
}

/* ---- Ctrl-C ------------------------------------------------------------------------ */
static RnnfxTrainer *volatile g_trainer;
static volatile sig_atomic_t g_interrupted;

/* g_interrupted holds the signal: SIGINT (Ctrl-C) writes the best model so
 * far; SIGTERM (a batch scheduler's preemption, `kill`) keeps the
 * checkpoint and writes no model, so that "the model exists" still means
 * "the run finished" and a requeued job resumes (tools/README.md). */
static void on_signal(int sig)
{
    if (g_interrupted) {
        /* second Ctrl-C: leave at once; every output is written atomically,
         * so nothing half-written remains */
        static const char msg[] = "\nrnnfx-train: interrupted again, exiting without writing\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(130);
    }
    /* a closed terminal (SIGHUP: an ssh session that dropped) stops as
     * SIGTERM does: the checkpoint is kept for a resume */
    g_interrupted = sig == SIGHUP ? SIGTERM : sig;
    RnnfxTrainer *tr = g_trainer;
    if (tr)
        rnnfx_trainer_request_stop(tr);
}

/* ---- notes (warnings and data decisions) -------------------------------------------- */
static char g_notes[8192];
static int g_quiet;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void note(int warning, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t l = strlen(g_notes);
    snprintf(g_notes + l, sizeof g_notes - l, "%s%s\n", warning ? "Warning: " : "", line);
    if (warning)
        fprintf(stderr, "rnnfx-train: warning: %s\n", line);
    else if (!g_quiet)
        printf("%s\n", line);
}

/* ---- data ---------------------------------------------------------------------------- */
typedef struct {
    const char *in_path, *tg_path;
    double knobs[RNNFX_MAX_PARAMS];
    float *x;      /* aligned dry, as recorded */
    float *y;      /* aligned wet, polarity-corrected, as recorded */
    size_t n;
    RnnfxAlignResult al;
    double sum_xx, sum_xy, sum_yy;
    /* after the levels are set, x and y are freed and only the training
     * arrays remain (half the memory): x = in[t*isz] / gi, y = tg[t] * go */
    const float *in, *tg;
    int isz;
    double gi, go;
    char in_desc[512], tg_desc[512];
    int rate;
    int in_ch, tg_ch;   /* channel read: 0 for mono files, RNNFX_AUDIO_MIX */
    int in_nch, tg_nch; /* the files' channel counts */
    int line;           /* manifest line, 0 for --input/--target */
} Pair;

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Reads one recording as mono. `own` is the file's own channel option
 * (--input-channel / --target-channel, CH_UNSET when not given; `own_opt`
 * names it for messages); without it --channel/--mix decide. *used gets
 * the channel read (0 for a mono file, RNNFX_AUDIO_MIX for a mix) and
 * *n_ch the file's channel count. */
static int load_mono(const char *path, const Options *o, int own, const char *own_opt, int *rate,
                     float **out, size_t *n, int *used, int *n_ch, char *desc, size_t desc_len)
{
    RnnfxAudio a;
    RnnfxError err;
    if (rnnfx_audio_read(path, &a, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-train: %s\n", err.msg);
        return -1;
    }
    int ch = o->channel;
    if (own != CH_UNSET) {
        /* named for this file: unlike --channel (for both files, so a mono
         * one just ignores it), a channel the file lacks is an error, also
         * channel 1 of a mono file: the user thinks it is stereo */
        if (own >= a.channels) {
            char range[48];
            if (a.channels == 1)
                snprintf(range, sizeof range, "only channel 0");
            else if (a.channels == 2)
                snprintf(range, sizeof range, "channels 0 and 1");
            else
                snprintf(range, sizeof range, "channels 0 to %d", a.channels - 1);
            fprintf(stderr,
                    "rnnfx-train: %s has %d channel(s): %s %d does not exist (channels count from "
                    "0; this file has %s)\n",
                    path, a.channels, own_opt, own, range);
            rnnfx_audio_free(&a);
            return -1;
        }
        ch = own;
    } else if (a.channels == 1) {
        /* --channel/--mix are for multichannel files (as --help says): a
         * mono file is used as it is ("--channel 1" with a stereo dry and
         * a mono wet said "wet.wav has 1 channel(s), --channel 1 does not
         * exist") */
        ch = 0;
    } else if (ch == -2) {
        ch = 0;
        note(1, "%s has %d channels: using channel 0 (choose with %s N, --channel N or --mix)",
             base_name(path), a.channels, own_opt);
    }
    if (ch >= a.channels) {
        fprintf(stderr, "rnnfx-train: %s has %d channel(s), --channel %d does not exist (0-based)\n",
                path, a.channels, ch);
        rnnfx_audio_free(&a);
        return -1;
    }
    if (rnnfx_audio_mono(&a, ch, out, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-train: %s: %s\n", path, err.msg);
        rnnfx_audio_free(&a);
        return -1;
    }
    char dur[32], chs[48];
    rnnfx_cli_format_duration((double)a.frames / a.sample_rate, dur, sizeof dur);
    if (a.channels == 1)
        snprintf(chs, sizeof chs, "mono");
    else if (ch < 0)
        snprintf(chs, sizeof chs, "%d ch mixed", a.channels);
    else
        snprintf(chs, sizeof chs, "channel %d of %d", ch, a.channels);
    snprintf(desc, desc_len, "%s (%s, %d Hz, %s, %s)", path, a.format_name, a.sample_rate, chs, dur);
    *rate = a.sample_rate;
    *n = a.frames;
    *used = a.channels == 1 ? 0 : ch;
    *n_ch = a.channels;
    rnnfx_audio_free(&a);
    return 0;
}

/* 1 if a and b name the same file (also through another path or a link) */
static int same_file(const char *a, const char *b)
{
    return rnnfx_cli_same_file(a, b) || strcmp(a, b) == 0;
}

/* The constant offset a recording sits at: the mean of its quietest
 * blocks (the tenth with the least variance about their own mean), when
 * the whole file's mean agrees. Either alone misleads: a whole-file mean
 * also counts the slow, signal-driven offset an asymmetric clipper puts
 * out while it plays (the device's sound), and in a take played without a
 * pause the quietest blocks still carry low notes (-0.0018 on a real DI
 * whose mean is 0.0000). 0 when they disagree. */
static double quiet_offset(const float *x, size_t n)
{
    enum { BLOCK = 4096 };
    const size_t nb = n / BLOCK;
    if (nb == 0) return 0.0;
    double *mean = malloc(nb * sizeof *mean), *var = malloc(nb * sizeof *var);
    double *sorted = malloc(nb * sizeof *sorted);
    double off = 0.0;
    if (mean && var && sorted) {
        for (size_t b = 0; b < nb; b++) {
            double s = 0, ss = 0;
            for (size_t i = b * BLOCK; i < (b + 1) * BLOCK; i++) {
                s += x[i];
                ss += (double)x[i] * x[i];
            }
            mean[b] = s / BLOCK;
            var[b] = ss / BLOCK - mean[b] * mean[b];
            sorted[b] = var[b];
        }
        qsort(sorted, nb, sizeof *sorted, rnnfx_cli_cmp_double);
        const size_t k = nb / 10 ? nb / 10 : 1;
        const double limit = sorted[k - 1];
        size_t used = 0;
        for (size_t b = 0; b < nb && used < k; b++)
            if (var[b] <= limit) {
                off += mean[b];
                used++;
            }
        off /= (double)used;
        double all = 0;
        for (size_t b = 0; b < nb; b++) all += mean[b];
        all /= (double)nb;
        if (!(fabs(off - all) <= 0.5 * fabs(off))) off = 0.0;
    }
    free(mean);
    free(var);
    free(sorted);
    return off;
}

static int check_signal(const char *path, const char *role, float *x, size_t n)
{
    size_t bad = rnnfx_audio_sanitize(x, n);
    if (bad)
        note(1, "%s: %zu non-finite samples replaced by 0", base_name(path), bad);
    RnnfxAudioStats st;
    rnnfx_audio_stats(x, n, &st);
    /* A float file may go a little over full scale; far over it (one
     * sample of 1e4 aligned a pair 543 ms off and trained to ESR 5; 1e30
     * gave gains of 1e27) the data is corrupt or was never scaled. */
    if (st.peak > SAMPLE_LIMIT) {
        size_t at = 0;
        while (at < n && !(fabsf(x[at]) > SAMPLE_LIMIT)) at++;
        fprintf(stderr,
                "rnnfx-train: %s: the %s has a sample of %.3g (sample %zu), %.0f dB over full "
                "scale: the file is corrupt or not scaled to +-1. Check the file.\n",
                path, role, (double)x[at], at, 20 * log10(fabs((double)x[at])));
        return -1;
    }
    /* A constant offset (a faulty interface, a DC-coupled output) would be
     * learned: the capture then puts it out under everything it plays, and
     * scores better than it sounds (the offset counts as matched signal:
     * 0.1 of offset gave test ESR 0.037 where the clean pair gives 0.15,
     * and 0.94 on that clean pair). It is removed from the recording. */
    const double off = quiet_offset(x, n);
    if (fabs(off) > OFFSET_LIMIT) {
        note(1, "%s: the %s sits %+.4f off zero where it is quiet (a DC offset, %.0f dBFS): "
                "removed before training",
             base_name(path), role, off, 20 * log10(fabs(off)));
        for (size_t i = 0; i < n; i++) x[i] = (float)(x[i] - off);
        rnnfx_audio_stats(x, n, &st);
    }
    if (st.rms < 1e-5) {
        fprintf(stderr,
                "rnnfx-train: %s: the %s is silent (level %.1f dBFS): nothing to learn from. "
                "Check the file and the channel.\n",
                path, role, st.rms > 0 ? 20 * log10(st.rms) : -INFINITY);
        return -1;
    }
    if (st.rms < 1e-3)
        note(1, "%s: the %s is very quiet (%.1f dBFS RMS); noise will matter", base_name(path), role,
             20 * log10(st.rms));
    if (st.clipped)
        note(1, "%s: the %s clips (%zu samples at full scale in runs); the capture will learn the clipping",
             base_name(path), role, st.clipped);
    return 0;
}

/* Reads, checks and aligns one pair. Returns 0, -1 after printing why
 * (a file problem), or -2 after printing why when input and target are
 * the same signal (the same channel of the same file): a model of that is
 * a plain wire, so it is refused as a usage error. */
static int load_pair(Pair *p, const Options *o, int *rate_io)
{
    float *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int rx = 0, ry = 0;
    if (load_mono(p->in_path, o, o->in_channel, "--input-channel", &rx, &x, &nx, &p->in_ch,
                  &p->in_nch, p->in_desc, sizeof p->in_desc) ||
        load_mono(p->tg_path, o, o->tg_channel, "--target-channel", &ry, &y, &ny, &p->tg_ch,
                  &p->tg_nch, p->tg_desc, sizeof p->tg_desc)) {
        free(x);
        return -1;
    }
    if (rx < RATE_MIN || rx > RATE_MAX || ry < RATE_MIN || ry > RATE_MAX) {
        int bad = rx < RATE_MIN || rx > RATE_MAX ? rx : ry;
        fprintf(stderr,
                "rnnfx-train: %s is recorded at %d Hz: rnnfx-train takes recordings at %d to %d Hz "
                "(captures are usually made at 44100 or 48000 Hz); re-record or export it at such "
                "a rate\n",
                bad == rx ? p->in_path : p->tg_path, bad, RATE_MIN, RATE_MAX);
        goto fail;
    }
    if (rx != ry) {
        fprintf(stderr,
                "rnnfx-train: sample rates differ: %s is %d Hz, %s is %d Hz. Record or export both "
                "at the same rate (no resampling is done).\n",
                p->in_path, rx, p->tg_path, ry);
        goto fail;
    }
    if (o->sample_rate > 0 && fabs(o->sample_rate - rx) > 0.5) {
        fprintf(stderr, "rnnfx-train: %s is %d Hz but --sample-rate %.0f was required\n", p->in_path,
                rx, o->sample_rate);
        goto fail;
    }
    if (*rate_io && *rate_io != rx) {
        fprintf(stderr, "rnnfx-train: %s is %d Hz, earlier pairs are %d Hz: all must match\n",
                p->in_path, rx, *rate_io);
        goto fail;
    }
    *rate_io = rx;
    p->rate = rx;
    /* Checked once the files are read, after their rates (a mono file's
     * only channel and its mix are the same signal; the channel count is
     * known only now). */
    if (p->in_ch == p->tg_ch && same_file(p->in_path, p->tg_path)) {
        char where[64] = "";
        if (p->line)
            snprintf(where, sizeof where, "%s line %d: ", base_name(o->manifest), p->line);
        if (p->in_nch == 1)
            fprintf(stderr,
                    "rnnfx-train: %s%s is both the input and the target, and it is mono: the model "
                    "would learn a plain wire. The target is the device's output for the input "
                    "recording.\n",
                    where, p->in_path);
        else {
            char what[48];
            if (p->in_ch < 0)
                snprintf(what, sizeof what, "the mix of all channels");
            else
                snprintf(what, sizeof what, "channel %d", p->in_ch);
            fprintf(stderr,
                    "rnnfx-train: %s%s is both the input and the target, and both read %s: the "
                    "model would learn a plain wire. For a re-amp recording with the dry signal "
                    "on one channel and the device on another, name them, e.g. --input-channel 0 "
                    "--target-channel 1 (0-based).\n",
                    where, p->in_path, what);
        }
        free(x);
        free(y);
        return -2;
    }
    if (check_signal(p->in_path, "input", x, nx) || check_signal(p->tg_path, "target", y, ny))
        goto fail;
    if (nx != ny) {
        double dt = fabs((double)nx - (double)ny) / rx;
        if (dt > 0.05 || (double)(nx > ny ? nx - ny : ny - nx) > 0.01 * (double)(nx < ny ? nx : ny))
            note(1, "%s and %s differ in length by %.2f s (%zu vs %zu samples): using the overlap",
                 base_name(p->in_path), base_name(p->tg_path), dt, nx, ny);
    }

    /* Shorter than a second fails the overlap check below anyway; say so
     * before the delay search, which would only report its search range. */
    if ((nx < ny ? nx : ny) < (size_t)rx) {
        fprintf(stderr, "rnnfx-train: %s / %s: less than one second of audio (%zu samples at %d Hz)\n",
                p->in_path, p->tg_path, nx < ny ? nx : ny, rx);
        goto fail;
    }

    int delay = o->delay, inverted = o->invert;
    RnnfxError err;
    memset(&p->al, 0, sizeof p->al);
    p->al.xcorr_lag = 0;
    size_t delay_overlap = 0, xo_d = 0, yo_d = 0;
    if (o->delay_set)
        delay_overlap = rnnfx_align_overlap(nx, ny, o->delay, &xo_d, &yo_d);
    /* (a --delay that leaves less than a second is reported by the overlap
     * check below, not as a failed search) */
    if (!o->delay_set || (!o->invert_set && delay_overlap >= (size_t)rx)) {
        RnnfxAlignOptions ao;
        rnnfx_align_options_default(&ao);
        ao.max_samples = (size_t)rx * 60;
        /* With --delay given, only the polarity (and the linear fit) is
         * detected, on the signals lined up at that delay. Detected from
         * the files as recorded, a delay past the search range ("--delay
         * 48000" for a take a second late) gave the polarity and the fit of
         * the wrong lag: inverted, "explains only 3%", ESR 0.51 instead of
         * the capture the same pair gives when it starts aligned. */
        const float *dx = x, *dy = y;
        size_t n = nx < ny ? nx : ny;
        if (o->delay_set) {
            n = delay_overlap;
            dx = x + xo_d;
            dy = y + yo_d;
        }
        if (n < (size_t)(ao.max_lag + ao.max_lead + 1) * 4) {
            ao.max_lag = (int)(n / 8);
            ao.max_lead = ao.max_lag < 64 ? ao.max_lag : 64;
        }
        if (rnnfx_align_detect(dx, dy, n, &ao, &p->al, &err) != RNNFX_OK) {
            fprintf(stderr, "rnnfx-train: %s / %s: %s\n", p->in_path, p->tg_path, err.msg);
            goto fail;
        }
        /* A wet take more than 170 ms late (a DAW export that kept its
         * pre-roll, a re-amp through a long loop) is out of the range
         * searched: the search then ends at its edge, or on a weak lobe
         * inside (clarity under 10; real pairs give 14-58). A distortion's residue
         * kept the "another take?" hint below from firing, and such a lag
         * trained to ESR 1.0. Then the search runs again over four times
         * the range (a second or two), and its answer is kept if it lands
         * inside that range with a clearer response, as clear as a real
         * pair's (two different takes reach 9 there). */
        const int at_edge = p->al.delay >= ao.max_lag - ao.max_lag / 16;
        int widened = 0;
        if (!o->delay_set && ao.max_lag < 65536 &&
            (at_edge || p->al.confidence < 10 || (ny > nx && ny - nx > (size_t)ao.max_lag))) {
            RnnfxAlignOptions wide = ao;
            wide.max_lag = ao.max_lag * 4 < 65536 ? ao.max_lag * 4 : 65536;
            RnnfxAlignResult w;
            if (n >= (size_t)(wide.max_lag + wide.max_lead + 1) * 4 &&
                rnnfx_align_detect(dx, dy, n, &wide, &w, &err) == RNNFX_OK) {
                if (w.delay < wide.max_lag - wide.max_lag / 16 && w.confidence >= 14 &&
                    w.confidence > p->al.confidence) {
                    note(0, "%s: the delay is beyond the usual search range (%.0f ms): found "
                            "searching up to %.0f ms",
                         base_name(p->tg_path), 1000.0 * ao.max_lag / rx,
                         1000.0 * wide.max_lag / rx);
                    rnnfx_align_result_free(&p->al);
                    p->al = w;
                    ao = wide;
                    widened = 1;
                } else {
                    rnnfx_align_result_free(&w);
                }
            }
        }
        /* A wet take cut to start early (a DAW export trimmed at another
         * point than the dry one) lies beyond the 64 samples of lead the
         * first search allows: 200 samples early came out as "56 ahead,
         * inverted" (clarity 12) and trained to ESR 0.99, or on a 4 s pair
         * as "3 behind" (clarity 14); 1000 early as "164 behind". No device
         * answers before its input, so when the lead found is more than a
         * few samples, or the wet file is the shorter one by more than the
         * lead searched, the search runs again as far ahead as behind. Its
         * answer is kept only outside the first range (a wider fit's
         * clarity is higher for the same response, so it cannot judge a
         * lag the first search could see). */
        if (!o->delay_set && !widened &&
            (p->al.delay < -EARLY_SUSPECT || (nx > ny && nx - ny > (size_t)ao.max_lead))) {
            RnnfxAlignOptions ahead = ao;
            ahead.max_lead = ao.max_lag;
            RnnfxAlignResult w;
            if (n >= (size_t)(ahead.max_lag + ahead.max_lead + 1) * 4 &&
                rnnfx_align_detect(dx, dy, n, &ahead, &w, &err) == RNNFX_OK) {
                if (w.delay < -ao.max_lead && w.delay > -(ahead.max_lead - ahead.max_lead / 16) &&
                    w.confidence >= 14) {
                    note(0, "%s: the wet take leads by more than the usual search range (%d "
                            "samples): found searching up to %.0f ms ahead",
                         base_name(p->tg_path), ao.max_lead, 1000.0 * ahead.max_lead / rx);
                    rnnfx_align_result_free(&p->al);
                    p->al = w;
                    ao = ahead;
                } else {
                    rnnfx_align_result_free(&w);
                }
            }
        }
        if (!o->delay_set && p->al.delay >= ao.max_lag - ao.max_lag / 16)
            note(1, "%s: the delay found (%d samples) is at the end of the range searched (%d): "
                    "the wet take may be later still; if you know its delay, give --delay",
                 base_name(p->tg_path), p->al.delay, ao.max_lag);
        else if (!o->delay_set && p->al.delay < -EARLY_SUSPECT)
            note(1, "%s: the wet take runs %d samples ahead of the dry one, which no device "
                    "does: the files were cut at different points (lined up here; --delay "
                    "overrides)",
                 base_name(p->tg_path), -p->al.delay);
        if (!o->delay_set)
            delay = p->al.delay;
        else if (abs(p->al.delay) > 2)
            note(1, "%s: at --delay %d the linear response still peaks %d samples %s: check "
                    "--delay",
                 base_name(p->tg_path), o->delay, abs(p->al.delay),
                 p->al.delay > 0 ? "later" : "earlier");
        if (!o->invert_set)
            inverted = p->al.inverted;
        note(0, "%s: wet is %d samples (%.2f ms) %s the dry signal%s; linear response clarity %.0f",
             base_name(p->tg_path), delay < 0 ? -delay : delay, 1000.0 * abs(delay) / rx,
             delay < 0 ? "ahead of" : "behind", inverted ? ", polarity inverted" : "", p->al.confidence);
        if (p->al.xcorr_lag != p->al.delay || p->al.xcorr_inverted != p->al.inverted)
            note(0, "(plain cross-correlation would have said %d samples%s: not used%s)",
                 p->al.xcorr_lag, p->al.xcorr_inverted ? ", inverted" : "",
                 o->no_report || o->evaluate ? "" : ", see the report");
        if (p->al.confidence < 4)
            note(1, "%s: no clear linear response from dry to wet (clarity %.1f): the files may not "
                    "belong together, or the delay is over %d samples; set --delay if you know it",
                 base_name(p->tg_path), p->al.confidence, ao.max_lag);
        else if (p->al.linear_esr > LINEAR_UNRELATED)
            /* Two different takes still give a clarity of 4.5-5.6 (real
             * pairs: 14-58), but no linear filter explains them: ESR
             * 0.97-0.99 against 0.03-0.44 for the amps, pedals and fuzzes
             * tried. An octave or ring-modulator effect can look the same,
             * hence a warning only. */
        {
            /* A wet take recorded later than the delay search reaches
             * (170 ms at 48 kHz: a DAW export that kept its pre-roll, say)
             * looks like another take; when the target is that much longer,
             * say so and how to train on it. */
            char late[200] = "";
            if (!o->delay_set && ny > nx && ny - nx > (size_t)ao.max_lag)
                snprintf(late, sizeof late,
                         "; if the wet side was recorded %.2f s late (it is that much longer, and "
                         "the delay search stops at %.0f ms), try --delay %zu",
                         (double)(ny - nx) / rx, 1000.0 * ao.max_lag / rx, ny - nx);
            note(1, "%s: a linear filter explains only %.0f%% of the wet signal: the files may not "
                    "be the same take (or the effect has no linear part, like an octave pedal)%s",
                 base_name(p->tg_path), 100.0 * (1.0 - p->al.linear_esr), late);
        }
        else if (p->al.linear_esr >= 0 && p->al.linear_esr < LINEAR_WIRE)
            /* the dry signal itself (the two channels of a stereo file
             * holding the same thing, a bypassed pedal): the model will
             * learn a wire, which nobody records on purpose */
            note(1, "%s: a linear filter reproduces the wet signal almost exactly (ESR %.1e): "
                    "the device adds no distortion or the target is the dry signal itself (a "
                    "bypassed device, the wrong file or channel)",
                 base_name(p->tg_path), p->al.linear_esr);
    } else {
        p->al.delay = delay;
        p->al.inverted = inverted;
        p->al.linear_esr = -1;
    }
    p->al.delay = delay;
    p->al.inverted = inverted;

    size_t xo, yo;
    size_t n = rnnfx_align_overlap(nx, ny, delay, &xo, &yo);
    if (n < (size_t)rx) {
        fprintf(stderr, "rnnfx-train: %s / %s: less than one second of overlapping audio after "
                        "removing the delay (%d samples)\n",
                p->in_path, p->tg_path, delay);
        goto fail;
    }
    p->y = rnnfx_align_apply(y, yo, n, inverted);
    p->x = malloc(n * sizeof *p->x);
    if (!p->y || !p->x) {
        fprintf(stderr, "rnnfx-train: out of memory\n");
        goto fail;
    }
    memcpy(p->x, x + xo, n * sizeof *x);
    p->n = n;
    free(x);
    free(y);
    for (size_t t = 0; t < n; t++) {
        p->sum_xx += (double)p->x[t] * p->x[t];
        p->sum_xy += (double)p->x[t] * p->y[t];
        p->sum_yy += (double)p->y[t] * p->y[t];
    }
    return 0;
fail:
    free(x);
    free(y);
    return -1;
}

/* A region [start, start + len) of pair `pair`, scored after `pre` samples
 * of warm-up taken from just before it. */
typedef struct {
    int pair;
    size_t start, len, pre;
} Region;

typedef struct {
    Region *r;
    int n;
} RegionList;

static int region_add(RegionList *l, int pair, size_t start, size_t len, size_t pre)
{
    Region *nr = realloc(l->r, (size_t)(l->n + 1) * sizeof *nr);
    if (!nr)
        return -1;
    l->r = nr;
    l->r[l->n++] = (Region){pair, start, len, pre};
    return 0;
}

/* ---- small helpers ------------------------------------------------------------------ */
static int can_write_beside(const char *path) { return rnnfx_cli_check_folder_of("rnnfx-train", path); }

/* A file this run writes must be neither a folder (found out only when
 * training had ended: "cannot write x: Is a directory", the model lost)
 * nor one of the files it reads: "-o dry.wav" once replaced the dry
 * recording with the model. `what` names the option for the message.
 * Returns 0, or -1 after printing why. */
static int output_clobbers(const char *path, const char *what, const char *const *reads, int n_reads)
{
    struct stat so;
    if (stat(path, &so) != 0)
        return 0; /* not there yet: nothing to lose */
    if (S_ISDIR(so.st_mode)) {
        fprintf(stderr, "rnnfx-train: %s %s is a folder; give a file name\n", what, path);
        return -1;
    }
    if (rnnfx_cli_refuse_special("rnnfx-train", what, path) != 0)
        return -1;
    for (int i = 0; i < n_reads; i++)
        if (rnnfx_cli_same_file(path, reads[i])) {
            fprintf(stderr,
                    "rnnfx-train: %s %s would overwrite %s, a file this run reads; choose "
                    "another name\n",
                    what, path, reads[i]);
            return -1;
        }
    return 0;
}

/* A capture is minutes of training, so the files of an earlier run (the
 * model, its preset, its report, its checkpoint) are replaced only when the
 * user says so: --force, or --resume from the checkpoint this run keeps
 * (the run then carries on into its own files). A typo in -o or a shell
 * history line run again replaced a capture without a word. Checked before
 * the recordings are read, so nothing is written or removed. Only the files
 * this run would write count: in a preset bundle, the copy of the model,
 * NAME.ttl and manifest.ttl (other files in the folder are never touched,
 * --force or not). Returns 0, or -1 after printing which files exist and
 * the ways out. */
static int refuse_existing(const Options *o, const char *ckpt_path, const char *report_path,
                           const char *preset_path)
{
    if (o->force || (o->resume && rnnfx_cli_same_path(o->resume, ckpt_path)))
        return 0;
    const char *path[4];
    const char *what[4];
    int n = 0, have_ckpt = 0;
    /* a file named by --preset/--report/--checkpoint: another -o name does not move it */
    int named = 0;
    struct stat st;
    if (lstat(o->output, &st) == 0) {
        path[n] = o->output;
        what[n++] = "the model";
    }
    if (!o->no_preset) {
        size_t pl = strlen(preset_path);
        if (pl > 4 && !strcasecmp(preset_path + pl - 4, ".ttl")) {
            if (lstat(preset_path, &st) == 0) {
                path[n] = preset_path;
                what[n++] = "the preset";
                named |= o->preset != NULL;
            }
        } else {
            /* the three files rnnfx_preset_write_bundle writes */
            const char *bn = base_name(preset_path);
            char f[3][PATH_MAX + 300];
            snprintf(f[0], sizeof f[0], "%s/%s", preset_path, base_name(o->output));
            snprintf(f[1], sizeof f[1], "%s/%.*s.ttl", preset_path,
                     (int)(strlen(bn) > 4 ? strlen(bn) - 4 : 0), bn);
            snprintf(f[2], sizeof f[2], "%s/manifest.ttl", preset_path);
            for (int i = 0; i < 3; i++)
                if (lstat(f[i], &st) == 0) {
                    path[n] = preset_path;
                    what[n++] = "the preset bundle";
                    named |= o->preset != NULL;
                    break;
                }
        }
    }
    if (!o->no_report && lstat(report_path, &st) == 0) {
        path[n] = report_path;
        what[n++] = "the report";
        named |= o->report != NULL;
    }
    if (lstat(ckpt_path, &st) == 0) {
        path[n] = ckpt_path;
        what[n++] = "the checkpoint";
        named |= o->checkpoint != NULL;
        have_ckpt = 1;
    }
    if (n == 0)
        return 0;
    char list[4 * (PATH_MAX + 300)] = "";
    for (int i = 0; i < n; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s (%s)", i ? (i == n - 1 ? " and " : ", ") : "",
                 path[i], what[i]);
    }
    const char *them = n > 1 ? "them" : "it";
    const char *other = named ? "other output names" : "another -o name";
    fprintf(stderr, "rnnfx-train: %s already exist%s; nothing was done.\n", list, n > 1 ? "" : "s");
    if (o->resume)
        fprintf(stderr,
                "rnnfx-train: --resume %s is not the checkpoint these files go with (%s), so it "
                "does not carry on into them: give --force to replace %s, or %s\n",
                o->resume, ckpt_path, them, other);
    else if (have_ckpt)
        fprintf(stderr,
                "rnnfx-train: give --force to replace %s, --resume %s to continue training from "
                "the checkpoint the earlier run left, or %s\n",
                them, ckpt_path, other);
    else
        fprintf(stderr,
                "rnnfx-train: give --force to replace %s, or %s (there is no checkpoint %s, "
                "so --resume cannot continue the run that wrote %s)\n",
                them, other, ckpt_path, them);
    return -1;
}

static void stem_of(const char *path, char *out, size_t len)
{
    snprintf(out, len, "%s", path);
    char *slash = strrchr(out, '/');
    char *dot = strrchr(out, '.');
    if (dot && (!slash || dot > slash))
        *dot = 0;
}

/* A figure for the model's free-form training metadata, to 6 significant
 * digits as written (0.005, not the float's 0.00499999988): json-c writes
 * a double with 17 digits, so rounding the value alone still gave
 * "lr": 0.0050000000000000001 in every model file and in rnnfx-inspect. */
static json_object *json_num6(double v)
{
    char b[32];
    snprintf(b, sizeof b, "%.6g", v);
    if (!isfinite(v))
        return json_object_new_double(v);
    return json_object_new_double_s(strtod(b, NULL), b);
}

static void iso_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
}

/* Runs the model with the engine's playback path (instance, fast kernels)
 * over every region: inputs built from the recorded signals (gains inside
 * the model), predictions written to pred (concatenated regions). Returns
 * the ESR against the device's actual output (original polarity). */
static double score_regions(const RnnfxModel *model, const Pair *pairs, const RegionList *rl,
                            int n_knobs, float *pred, float *tgt, float *dry)
{
    RnnfxInstance *inst = rnnfx_instance_new(model);
    if (!inst)
        return -1;
    const int isz = 1 + n_knobs;
    size_t maxlen = 0;
    for (int i = 0; i < rl->n; i++)
        if (rl->r[i].len + rl->r[i].pre > maxlen)
            maxlen = rl->r[i].len + rl->r[i].pre;
    float *in = malloc(maxlen * (size_t)isz * sizeof *in);
    float *out = malloc(maxlen * sizeof *out);
    double se = 0, st = 0;
    size_t k = 0;
    if (in && out) {
        for (int i = 0; i < rl->n; i++) {
            const Region *r = &rl->r[i];
            const Pair *p = &pairs[r->pair];
            const float sign = p->al.inverted ? -1.0f : 1.0f;
            size_t s0 = r->start - r->pre, m = r->pre + r->len;
            const float ig = (float)(1.0 / p->gi), og = (float)p->go;
            for (size_t t = 0; t < m; t++) {
                in[t * isz] = ig * p->in[(s0 + t) * p->isz];
                for (int j = 0; j < n_knobs; j++)
                    in[t * isz + 1 + j] = (float)p->knobs[j];
            }
            rnnfx_instance_reset(inst);
            rnnfx_instance_process_frames(inst, in, out, m);
            for (size_t t = 0; t < r->len; t++) {
                float y = sign * og * p->tg[r->start + t];
                float q = out[r->pre + t];
                se += ((double)y - q) * ((double)y - q);
                st += (double)y * y;
                if (pred)
                    pred[k] = q;
                if (tgt)
                    tgt[k] = y;
                if (dry)
                    dry[k] = ig * p->in[(r->start + t) * p->isz];
                k++;
            }
        }
    }
    free(in);
    free(out);
    rnnfx_instance_free(inst);
    return st > 0 ? se / st : -1;
}

/* ---- checkpoint extra state (JSON) ---------------------------------------------------- */
typedef struct {
    RnnfxReportEpoch *ep;
    int n, cap;
} History;

static int history_add(History *h, RnnfxReportEpoch e)
{
    if (h->n == h->cap) {
        int nc = h->cap ? h->cap * 2 : 64;
        RnnfxReportEpoch *ne = realloc(h->ep, (size_t)nc * sizeof *ne);
        if (!ne)
            return -1;
        h->ep = ne;
        h->cap = nc;
    }
    h->ep[h->n++] = e;
    return 0;
}

/* A fingerprint of the arrays the trainer sees (after alignment, channel
 * choice and levels), kept in the checkpoint so that a run resumed on
 * other recordings is told so: FNV-1a over the samples' bits. */
static void data_fingerprint(float *const *in, float *const *tg, const Pair *pairs, int n_pairs,
                             int isz, char *out, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < n_pairs; i++) {
        const float *arrays[2] = {in[i], tg[i]};
        const size_t counts[2] = {pairs[i].n * (size_t)isz, pairs[i].n};
        for (int a = 0; a < 2; a++)
            for (size_t k = 0; k < counts[a]; k++) {
                uint32_t bits;
                memcpy(&bits, &arrays[a][k], sizeof bits);
                h = (h ^ bits) * 1099511628211ULL;
            }
    }
    snprintf(out, len, "%016llx", (unsigned long long)h);
}

/* Where the run's schedule stands (the learning rate's cosine and the
 * --minutes/--epochs budget follow it), kept in the checkpoint: a run that
 * was interrupted (Ctrl-C, SIGTERM: complete 0) and is resumed on the same
 * audio carries on from there instead of starting its schedule and its
 * budget again, which a requeued Slurm task did at every preemption. A
 * run that finished is resumed for more training, with a fresh schedule. */
typedef struct {
    double seconds; /* training time of the schedule so far */
    int epochs;     /* its epochs */
    int since_best; /* its epochs since the best validation */
    int complete;   /* 1: it ended by its budget, epochs or patience */
} RunState;

static char *extra_to_json(const History *h, double best_val, double elapsed, const char *arch,
                           const char *data_id, const RunState *run)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "tool", json_object_new_string("rnnfx-train"));
    json_object_object_add(o, "arch", json_object_new_string(arch));
    json_object_object_add(o, "data", json_object_new_string(data_id));
    json_object_object_add(o, "best_val_esr", json_object_new_double(best_val));
    json_object_object_add(o, "elapsed", json_object_new_double(elapsed));
    json_object *rj = json_object_new_object();
    json_object_object_add(rj, "seconds", json_object_new_double(run->seconds));
    json_object_object_add(rj, "epochs", json_object_new_int(run->epochs));
    json_object_object_add(rj, "since_best", json_object_new_int(run->since_best));
    json_object_object_add(rj, "complete", json_object_new_boolean(run->complete));
    json_object_object_add(o, "run", rj);
    json_object *a = json_object_new_array();
    for (int i = 0; i < h->n; i++) {
        json_object *e = json_object_new_array();
        json_object_array_add(e, json_object_new_double(h->ep[i].seconds));
        json_object_array_add(e, json_object_new_double(h->ep[i].train_loss));
        json_object_array_add(e, json_object_new_double(h->ep[i].val_esr));
        json_object_array_add(a, e);
    }
    json_object_object_add(o, "history", a);
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    char *r = strdup(s);
    json_object_put(o);
    return r;
}

/* A number member of o, or -1 when key is missing or not a number (a
 * damaged or hand-edited checkpoint: json_object_get_double would read
 * null or a string as 0). */
static int json_number(json_object *o, const char *key, double *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) ||
        !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return -1;
    *out = json_object_get_double(v);
    return 0;
}

/* Reads the checkpoint's extra state (path names it in messages). -1
 * (after a message) when the model options differ or the state is damaged:
 * a missing or non-string arch or data, a best validation ESR that is not
 * a number >= 0 (or infinity: none yet), an elapsed time that is not a
 * finite number >= 0. Other data than the checkpoint's is allowed (that is
 * fine-tuning) but said, and the recorded best validation ESR, measured on
 * other audio, no longer counts. History entries that are not three finite
 * numbers are skipped (they only draw the report's curves). */
static int extra_from_json(const char *path, const char *text, History *h, double *best_val,
                           double *elapsed, const char *arch, const char *data_id, RunState *run,
                           int *carry)
{
    *carry = 0;
    json_object *o = json_tokener_parse(text);
    json_object *va = NULL, *vd = NULL;
    const char *bad = NULL;
    double best = 0.0, secs = 0.0;
    if (!o || !json_object_is_type(o, json_type_object))
        bad = "it is not a JSON object";
    else if (!json_object_object_get_ex(o, "arch", &va) || !json_object_is_type(va, json_type_string))
        bad = "no model description (\"arch\")";
    else if (!json_object_object_get_ex(o, "data", &vd) || !json_object_is_type(vd, json_type_string))
        bad = "no data fingerprint (\"data\")";
    else if (json_number(o, "best_val_esr", &best) != 0 || isnan(best) || best < 0.0)
        bad = "the best validation ESR is not a number >= 0";
    else if (json_number(o, "elapsed", &secs) != 0 || !isfinite(secs) || secs < 0.0)
        bad = "the elapsed time is not a finite number >= 0";
    if (bad) {
        fprintf(stderr, "rnnfx-train: %s: its training state is damaged (%s); train afresh, or "
                        "resume from a checkpoint rnnfx-train wrote\n",
                path, bad);
        json_object_put(o);
        return -1;
    }
    if (strcmp(json_object_get_string(va), arch) != 0) {
        fprintf(stderr, "rnnfx-train: the checkpoint is for a %s model, these options make a %s one%s\n",
                json_object_get_string(va), arch,
                strstr(arch, " knobs01-") ? " (the last part stands for the knobs' names and "
                                            "ranges: they differ, or the checkpoint predates "
                                            "knobs trained on 0..1)"
                                          : "");
        json_object_put(o);
        return -1;
    }
    *best_val = best;
    *elapsed = secs;
    if (strcmp(json_object_get_string(vd), data_id) != 0) {
        note(1, "the checkpoint was trained on other audio (other recordings, channels or "
                "settings that change the levels); continuing on these, from its weights, "
                "with a fresh best validation ESR");
        *best_val = INFINITY;
    } else {
        /* the same audio: an interrupted run's schedule carries on (a
         * checkpoint without this state: a fresh schedule, as before) */
        json_object *r, *c;
        double rs, re, rb;
        if (json_object_object_get_ex(o, "run", &r) && json_object_is_type(r, json_type_object) &&
            json_number(r, "seconds", &rs) == 0 && isfinite(rs) && rs >= 0.0 &&
            json_number(r, "epochs", &re) == 0 && re >= 0.0 && re < 1e9 &&
            json_number(r, "since_best", &rb) == 0 && rb >= 0.0 && rb < 1e9 &&
            json_object_object_get_ex(r, "complete", &c) &&
            json_object_is_type(c, json_type_boolean) && !json_object_get_boolean(c)) {
            run->seconds = rs;
            run->epochs = (int)re;
            run->since_best = (int)rb;
            run->complete = 0;
            *carry = 1;
        }
    }
    json_object *v;
    if (json_object_object_get_ex(o, "history", &v) && json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *e = json_object_array_get_idx(v, i);
            if (!json_object_is_type(e, json_type_array) || json_object_array_length(e) != 3)
                continue;
            double f[3];
            int good = 1;
            for (size_t k = 0; k < 3; k++) {
                json_object *x = json_object_array_get_idx(e, k);
                good &= json_object_is_type(x, json_type_double) || json_object_is_type(x, json_type_int);
                f[k] = json_object_get_double(x);
                good &= isfinite(f[k]);
            }
            if (good)
                history_add(h, (RnnfxReportEpoch){f[0], f[1], f[2]});
        }
    }
    json_object_put(o);
    return 0;
}

/* RMS of v[s..e), every stride-th value. */
static double block_rms(const float *v, size_t stride, size_t s, size_t e)
{
    double ss = 0;
    for (size_t t = s; t < e; t++)
        ss += (double)v[t * stride] * v[t * stride];
    return e > s ? sqrt(ss / (double)(e - s)) : 0.0;
}

/* The validation and test blocks of a pair (of N_BLOCKS equal ones);
 * returns 1 if they are not the usual ones. A
 * block the guitar is silent in scores nothing: a take with a long pause
 * over blocks 9 and 10 trained with "test ESR -1: quality unknown" (and a
 * silent validation block picks the best epoch at random). So each goes to
 * the audible block nearest its usual place, both sides playing at no
 * more than 20 dB under their average. Also warns when the target is
 * near silent (40 dB under its average) where the input plays: a
 * recording that dropped out, whose capture learns to mute. */
static int choose_held_out(const Pair *p, size_t bl, int rate, int *vb, int *tb)
{
    const size_t st = (size_t)p->isz;
    const double rx = block_rms(p->in, st, 0, p->n), ry = block_rms(p->tg, 1, 0, p->n);
    int audible[N_BLOCKS], dropped = 0, first_drop = -1;
    for (int b = 0; b < N_BLOCKS; b++) {
        const size_t s = (size_t)b * bl, e = b == N_BLOCKS - 1 ? p->n : s + bl;
        const double bx = block_rms(p->in, st, s, e), by = block_rms(p->tg, 1, s, e);
        audible[b] = bx >= 0.1 * rx && by >= 0.1 * ry;
        if (bx >= 0.1 * rx && by < 0.01 * ry) {
            dropped++;
            if (first_drop < 0)
                first_drop = b;
        }
    }
    if (dropped)
        note(1, "%s: the target is near silent in %d0%% of the take while the input plays "
                "(from about %.0f s): a recording that dropped out? The capture learns to mute "
                "there",
             base_name(p->tg_path), dropped, (double)first_drop * (double)bl / rate);
    const int want[2] = {VAL_BLOCK, TEST_BLOCK};
    int got[2] = {-1, -1};
    for (int k = 0; k < 2; k++)
        for (int d = 0; d < N_BLOCKS && got[k] < 0; d++)
            for (int sgn = -1; sgn <= 1 && got[k] < 0; sgn += 2) {
                const int b = want[k] + sgn * d;
                if (b >= 0 && b < N_BLOCKS && audible[b] && (k == 0 || b != got[0]))
                    got[k] = b;
            }
    if (got[0] < 0 || got[1] < 0 || (got[0] == want[0] && got[1] == want[1]))
        return 0; /* all near silent (nothing better), or the usual blocks play */
    *vb = got[0];
    *tb = got[1];
    note(0, "%s: the guitar pauses in block %d or %d of %d: validation and test use blocks %d "
            "and %d instead",
         base_name(p->tg_path), want[0] + 1, want[1] + 1, N_BLOCKS, got[0] + 1, got[1] + 1);
    return 1;
}

/* A knob's value as the network is trained on it: 0..1 over the
 * manifest's range. Fed in the manifest's units (0..10 is the usual
 * scale), a knob swamped the audio at the input: on one two-setting
 * manifest the same run reached test ESR 0.023 with the settings written
 * 0 and 1, 0.12 with 0 and 10, 0.22 with 200 and 8000. */
static double knob_unit(const RnnfxManifest *man, int k, double v)
{
    const double range = man->max[k] - man->min[k];
    return range > 0 ? (v - man->min[k]) / range : 0.0;
}

/* A copy of m (trained on knob_unit values) that takes its knobs in the
 * manifest's units: the first layer's input weights for knob k divided by
 * its range, and its bias moved by the offset, which is the same network
 * (W u = (W / range) v - W min / range). NULL on failure (err set). */
static RnnfxModel *in_user_units(const RnnfxModel *m, const RnnfxArch *user,
                                 const RnnfxManifest *man, RnnfxError *err)
{
    RnnfxModel *out = NULL;
    if (rnnfx_model_new(user, &out, err) != RNNFX_OK)
        return NULL;
    size_t n_src = 0, n_dst = 0;
    const float *src = rnnfx_model_params_const(m, &n_src);
    float *dst = rnnfx_model_params(out, &n_dst);
    if (n_src != n_dst) {
        rnnfx_model_free(out);
        rnnfx_fail(err, RNNFX_ERR_INVALID, "internal: the knob conversion changed the model's size");
        return NULL;
    }
    memcpy(dst, src, n_src * sizeof *dst);
    *rnnfx_model_meta(out) = *rnnfx_model_meta_const(m);
    int rows = 0, cols = 0;
    float *w = rnnfx_model_tensor(out, 0, RNNFX_T_WEIGHT_IH, &rows, &cols);
    float *b = rnnfx_model_tensor(out, 0, RNNFX_T_BIAS_IH, NULL, NULL);
    for (int k = 0; k < user->n_params && w && b; k++) {
        const double range = man->max[k] - man->min[k];
        for (int r = 0; r < rows; r++) {
            const double wk = w[(size_t)r * (size_t)cols + 1 + (size_t)k];
            w[(size_t)r * (size_t)cols + 1 + (size_t)k] = range > 0 ? (float)(wk / range) : 0.0f;
            if (range > 0)
                b[r] = (float)(b[r] - wk * man->min[k] / range);
        }
    }
    return out;
}

/* Writes the split data for the PyTorch benchmark script: the exact arrays
 * the trainer sees (after alignment and levels) plus the regions. */
static int export_split(const char *dir, const Pair *pairs, int n_pairs, const float *const *in,
                        const float *const *tg, int isz, const RegionList *tr, const RegionList *va,
                        const RegionList *te, double gi, double go, int skip, double rate,
                        const RnnfxTrainConfig *cfg, const Options *opt)
{
    char path[PATH_MAX];
    mkdir(dir, 0755);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "input_size", json_object_new_int(isz));
    json_object_object_add(o, "input_gain", json_object_new_double(gi));
    json_object_object_add(o, "output_gain", json_object_new_double(go));
    json_object_object_add(o, "skip", json_object_new_int(skip));
    json_object_object_add(o, "sample_rate", json_object_new_double(rate));
    /* the recipe, so another implementation can train the same way */
    json_object_object_add(o, "cell", json_object_new_string(rnnfx_cell_name(opt->cell)));
    json_object_object_add(o, "hidden", json_object_new_int(opt->hidden));
    json_object_object_add(o, "layers", json_object_new_int(opt->layers));
    json_object_object_add(o, "segment", json_object_new_int64((int64_t)cfg->segment_len));
    json_object_object_add(o, "burn_in", json_object_new_int64((int64_t)cfg->burn_in));
    json_object_object_add(o, "tbptt", json_object_new_int64((int64_t)cfg->tbptt));
    json_object_object_add(o, "batch", json_object_new_int(cfg->batch));
    json_object_object_add(o, "lr", json_object_new_double(cfg->lr));
    json_object_object_add(o, "lr_min", json_object_new_double(cfg->lr_min));
    json_object_object_add(o, "clip", json_object_new_double(cfg->clip));
    json_object_object_add(o, "beta1", json_object_new_double(cfg->beta1));
    json_object_object_add(o, "beta2", json_object_new_double(cfg->beta2));
    json_object_object_add(o, "eps", json_object_new_double(cfg->eps));
    json_object_object_add(o, "weight_decay", json_object_new_double(cfg->weight_decay));
    json_object_object_add(o, "preemph", json_object_new_double(cfg->preemph));
    json_object_object_add(o, "dc_weight", json_object_new_double(cfg->dc_weight));
    json_object_object_add(o, "preroll", json_object_new_int(PREROLL));
    json_object *pa = json_object_new_array();
    for (int i = 0; i < n_pairs; i++) {
        snprintf(path, sizeof path, "%s/pair%d.in.f32", dir, i);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(in[i], sizeof(float) * (size_t)isz, pairs[i].n, f) != pairs[i].n) {
            if (f)
                fclose(f);
            json_object_put(o);
            return -1;
        }
        fclose(f);
        snprintf(path, sizeof path, "%s/pair%d.target.f32", dir, i);
        f = fopen(path, "wb");
        if (!f || fwrite(tg[i], sizeof(float), pairs[i].n, f) != pairs[i].n) {
            if (f)
                fclose(f);
            json_object_put(o);
            return -1;
        }
        fclose(f);
        json_object *p = json_object_new_object();
        json_object_object_add(p, "n", json_object_new_int64((int64_t)pairs[i].n));
        json_object_array_add(pa, p);
    }
    json_object_object_add(o, "pairs", pa);
    const RegionList *lists[3] = {tr, va, te};
    const char *names[3] = {"train", "val", "test"};
    for (int k = 0; k < 3; k++) {
        json_object *a = json_object_new_array();
        for (int i = 0; i < lists[k]->n; i++) {
            const Region *r = &lists[k]->r[i];
            json_object *e = json_object_new_array();
            json_object_array_add(e, json_object_new_int(r->pair));
            json_object_array_add(e, json_object_new_int64((int64_t)r->start));
            json_object_array_add(e, json_object_new_int64((int64_t)r->len));
            json_object_array_add(e, json_object_new_int64((int64_t)r->pre));
            json_object_array_add(a, e);
        }
        json_object_object_add(o, names[k], a);
    }
    snprintf(path, sizeof path, "%s/split.json", dir);
    int rc = json_object_to_file_ext(path, o, JSON_C_TO_STRING_PRETTY) == 0 ? 0 : -1;
    json_object_put(o);
    return rc;
}

/* --evaluate's model, loaded (and checked) once before the recordings are
 * read; freed at exit, whichever way main returns. */
static RnnfxModel *g_eval_model;

static void free_eval_model(void)
{
    rnnfx_model_free(g_eval_model);
    g_eval_model = NULL;
}

/* --evaluate: scores an existing model m (any format the engine reads,
 * loaded from path, a mono audio model) on the aligned pairs, each run whole from the model's
 * initial state and scored after PREROLL samples, against the device's
 * output in its own polarity. */
static int evaluate_model(const char *path, const RnnfxModel *m, const Pair *pairs, int n_pairs,
                          int n_knobs, const RnnfxManifest *man)
{
    int idx[RNNFX_MAX_PARAMS];
    for (int k = 0; k < n_knobs; k++) {
        idx[k] = rnnfx_model_param_index(m, man->knobs[k]);
        if (idx[k] < 0) {
            fprintf(stderr, "rnnfx-train: the model has no knob named '%s'\n", man->knobs[k]);
            return EXIT_FAIL;
        }
    }
    /* (main checked that it is a mono audio model.) A model run at another rate than its own is another filter: its ESR
     * there means nothing (a 44.1 kHz capture scored 8 on 48 kHz files).
     * So a rate the file states must match; a rate it does not state is
     * only assumed, and then the recordings' rate may well be the right
     * one. */
    const double rate = rnnfx_model_meta_const(m)->sample_rate;
    const int assumed = rnnfx_cli_model_rate_assumed(m);
    for (int i = 0; i < n_pairs; i++) {
        const Pair *p = &pairs[i];
        if (rate <= 0 || p->rate == (int)(rate + 0.5))
            continue;
        if (assumed) {
            note(1, "%s is %d Hz; the model file states no rate (%.0f Hz assumed): scored as is",
                 base_name(p->in_path), p->rate, rate);
        } else {
            fprintf(stderr,
                    "rnnfx-train: %s is %d Hz, and %s was trained at %.0f Hz: a score at another "
                    "rate means nothing; resample the recordings to %.0f Hz (sox IN -r %.0f OUT)\n",
                    p->in_path, p->rate, path, rate, rate, rate);
            return EXIT_FAIL;
        }
    }
    RnnfxInstance *inst = rnnfx_instance_new(m);
    if (!inst)
        return 1;
    double se_all = 0, st_all = 0;
    for (int i = 0; i < n_pairs; i++) {
        const Pair *p = &pairs[i];
        for (int k = 0; k < n_knobs; k++)
            rnnfx_instance_set_param(inst, idx[k], (float)p->knobs[k]);
        rnnfx_instance_reset(inst);
        const float sign = p->al.inverted ? -1.0f : 1.0f;
        float buf[4096];
        double se = 0, st = 0;
        for (size_t s0 = 0; s0 < p->n; s0 += 4096) {
            size_t len = p->n - s0 < 4096 ? p->n - s0 : 4096;
            rnnfx_instance_process(inst, p->x + s0, buf, len);
            for (size_t t = 0; t < len; t++) {
                if (s0 + t < PREROLL)
                    continue;
                double y = sign * p->y[s0 + t], d = y - buf[t];
                se += d * d;
                st += y * y;
            }
        }
        printf("evaluate %s -> %s: ESR %.6f (%s)\n", base_name(p->in_path), base_name(p->tg_path),
               st > 0 ? se / st : -1, rnnfx_quality_band(st > 0 ? se / st : -1));
        se_all += se;
        st_all += st;
    }
    double esr = st_all > 0 ? se_all / st_all : -1;
    printf("result esr=%.6f band=%s\n", esr, rnnfx_quality_band(esr));
    rnnfx_instance_free(inst);
    return 0;
}

/* ---- main ----------------------------------------------------------------------------- */
int main(int argc, char **argv)
{
    /* Before the MIDI dispatch, so that both front ends answer it. */
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--version"))
            return rnnfx_cli_version("rnnfx-train");
    /* MIDI-frame models have their own front end (tools/common/train_midi.c) */
    if (rnnfx_train_midi_wanted(argc, argv))
        return rnnfx_train_midi_main(argc, argv);
    Options o;
    if (parse_options(argc, argv, &o) != 0)
        return EXIT_USAGE;
    g_quiet = o.quiet;
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* A checkpoint that is not there is said before the data is read and
     * aligned (which can take a while), with what a checkpoint is. */
    if (o.resume && access(o.resume, R_OK) != 0) {
        int e = errno;
        fprintf(stderr,
                "rnnfx-train: --resume %s: %s. A training run keeps its checkpoint in "
                "MODEL.json.ckpt beside its -o MODEL.json (or in the file given to --checkpoint); "
                "name that file, or leave out --resume to start a new run.\n",
                o.resume, e == ENOENT ? "no such checkpoint file" : strerror(e));
        return EXIT_FAIL;
    }

    /* --evaluate's model, checked before the recordings are read and
     * aligned (a missing or unsupported model was reported only after) */
    if (o.evaluate) {
        RnnfxError e;
        atexit(free_eval_model);
        if (rnnfx_model_load(o.evaluate, NULL, &g_eval_model, &e) != RNNFX_OK) {
            fprintf(stderr, "rnnfx-train: %s\n", e.msg);
            return EXIT_FAIL;
        }
        const RnnfxArch *ea = rnnfx_model_arch(g_eval_model);
        if (ea->kind != RNNFX_KIND_AUDIO || ea->output_size != 1) {
            fprintf(stderr, "rnnfx-train: %s is not a mono audio model\n", o.evaluate);
            return EXIT_FAIL;
        }
    }

    /* output paths, checked before any work so a long run cannot end in
     * "cannot write" */
    char stem[PATH_MAX], report_path[PATH_MAX + 8], preset_path[PATH_MAX + 8], ckpt_path[PATH_MAX + 8];
    char best_path[PATH_MAX + 24]; /* the best weights so far, beside the checkpoint */
    if (o.evaluate) {
        o.output = o.output ? o.output : "evaluate.json";
        o.no_report = o.no_preset = 1;
    }
    stem_of(o.output, stem, sizeof stem);
    snprintf(report_path, sizeof report_path, "%s", o.report ? o.report : "");
    if (!o.report)
        snprintf(report_path, sizeof report_path, "%s.html", stem);
    snprintf(preset_path, sizeof preset_path, "%s", o.preset ? o.preset : "");
    /* "amp.lv2/" (as shells complete a folder) names the bundle "amp.lv2" */
    for (size_t pl = strlen(preset_path); pl > 1 && preset_path[pl - 1] == '/'; pl--)
        preset_path[pl - 1] = '\0';
    if (!o.preset)
        snprintf(preset_path, sizeof preset_path, "%s.lv2", stem);
    snprintf(ckpt_path, sizeof ckpt_path, "%s", o.checkpoint ? o.checkpoint : "");
    if (!o.checkpoint)
        snprintf(ckpt_path, sizeof ckpt_path, "%s.ckpt", o.output);
    snprintf(best_path, sizeof best_path, "%s.best.json", ckpt_path);
    if (o.evaluate) {
        /* nothing is written */
    } else if (can_write_beside(o.output) || (!o.no_report && can_write_beside(report_path)) ||
               (!o.no_preset && can_write_beside(preset_path)) || can_write_beside(ckpt_path) ||
               can_write_beside(best_path)) {
        return 1;
    }
    if (!o.no_preset) {
        size_t pl = strlen(preset_path);
        int is_ttl = pl > 4 && !strcasecmp(preset_path + pl - 4, ".ttl");
        int is_lv2 = pl > 4 && !strcasecmp(preset_path + pl - 4, ".lv2");
        if (!is_ttl && !is_lv2) {
            fprintf(stderr, "rnnfx-train: --preset must name a NAME.lv2 bundle folder or a .ttl file\n");
            return EXIT_USAGE;
        }
        /* a file where the bundle folder goes failed only after training
         * ("Not a directory"), below a summary line naming the preset */
        struct stat pst;
        if (is_lv2 && stat(preset_path, &pst) == 0 && !S_ISDIR(pst.st_mode)) {
            fprintf(stderr, "rnnfx-train: the preset bundle %s exists and is not a folder; give "
                            "another --preset, or --no-preset\n",
                    preset_path);
            return EXIT_FAIL;
        }
    }

    /* The files this run writes must be different files: "--report
     * m.json -o m.json" replaced the trained model with the report, and
     * "--checkpoint m.json" left a model where --resume looked for a
     * checkpoint. */
    if (!o.evaluate) {
        const char *outs[5] = {o.output, ckpt_path, o.no_report ? NULL : report_path,
                               o.no_preset ? NULL : preset_path, best_path};
        static const char *const out_what[5] = {"the model (-o)", "the checkpoint", "the report",
                                                "the preset", "the checkpoint's best model"};
        for (int a = 0; a < 5; a++)
            for (int b = a + 1; b < 5; b++)
                if (rnnfx_cli_same_path(outs[a], outs[b])) {
                    fprintf(stderr, "rnnfx-train: %s and %s would both be written to %s; give "
                                    "them different names\n",
                            out_what[a], out_what[b], outs[b]);
                    return EXIT_USAGE;
                }
    }

    /* ---- the pairs ---- */
    RnnfxManifest man;
    memset(&man, 0, sizeof man);
    RnnfxError err;
    int n_pairs = 1, n_knobs = 0;
    if (o.manifest) {
        if (rnnfx_manifest_load(o.manifest, &man, &err) != RNNFX_OK) {
            fprintf(stderr, "rnnfx-train: %s\n", err.msg);
            return EXIT_FAIL;
        }
        n_pairs = (int)man.n;
        n_knobs = man.n_knobs;
    }
    if (!o.evaluate) {
        /* every file read: the recordings (and the manifest naming them) */
        int n_reads = 0;
        const char **reads = calloc((size_t)n_pairs * 2 + 1, sizeof *reads);
        if (!reads) {
            fprintf(stderr, "rnnfx-train: out of memory\n");
            return EXIT_FAIL;
        }
        if (o.manifest) {
            reads[n_reads++] = o.manifest;
            for (size_t i = 0; i < man.n; i++) {
                reads[n_reads++] = man.entries[i].input;
                reads[n_reads++] = man.entries[i].target;
            }
        } else {
            reads[n_reads++] = o.input;
            reads[n_reads++] = o.target;
        }
        size_t pl = strlen(preset_path);
        int bad = output_clobbers(o.output, "-o", reads, n_reads) ||
                  (!o.no_report && output_clobbers(report_path, "the report", reads, n_reads)) ||
                  output_clobbers(ckpt_path, "the checkpoint", reads, n_reads) ||
                  (!o.no_preset && pl > 4 && !strcasecmp(preset_path + pl - 4, ".ttl") &&
                   output_clobbers(preset_path, "--preset", reads, n_reads));
        free(reads);
        if (bad || refuse_existing(&o, ckpt_path, report_path, preset_path))
            return EXIT_FAIL;
    }
    Pair *pairs = calloc((size_t)n_pairs, sizeof *pairs);
    if (!pairs) {
        fprintf(stderr, "rnnfx-train: out of memory\n");
        return 1;
    }
    int rate = 0;
    for (int i = 0; i < n_pairs; i++) {
        Pair *p = &pairs[i];
        if (o.manifest) {
            p->in_path = man.entries[i].input;
            p->tg_path = man.entries[i].target;
            p->line = man.entries[i].line;
            memcpy(p->knobs, man.entries[i].values, sizeof p->knobs);
        } else {
            p->in_path = o.input;
            p->tg_path = o.target;
        }
        if (!o.quiet) {
            char ic[32] = "", tc[32] = "";
            if (o.in_channel != CH_UNSET)
                snprintf(ic, sizeof ic, " (channel %d)", o.in_channel);
            if (o.tg_channel != CH_UNSET)
                snprintf(tc, sizeof tc, " (channel %d)", o.tg_channel);
            printf("reading %s%s + %s%s\n", p->in_path, ic, p->tg_path, tc);
        }
        int lp = load_pair(p, &o, &rate);
        if (lp != 0) {
            /* A pair from a manifest: which line ("missing.wav: cannot
             * open" alone left the user searching a long manifest; the
             * "same signal" message names it already). */
            if (o.manifest && p->line && lp != -2)
                fprintf(stderr, "rnnfx-train: (the pair on %s line %d)\n", o.manifest, p->line);
            /* the same signal twice: a usage error on the command line, a
             * bad line in a manifest file */
            return lp == -2 && !o.manifest ? EXIT_USAGE : EXIT_FAIL;
        }
    }

    /* One model has one output polarity, set from the first pair. A pair
     * detected with the other one was corrected to its own and so trained
     * against the model's sign: three pairs with the last two inverted
     * trained to validation ESR 0.012 and test ESR 1.92. Such pairs are
     * brought to the first pair's polarity instead, which is how they were
     * recorded relative to it. */
    int flipped = 0;
    for (int i = 1; i < n_pairs; i++) {
        Pair *p = &pairs[i];
        if (p->al.inverted == pairs[0].al.inverted)
            continue;
        for (size_t t = 0; t < p->n; t++)
            p->y[t] = -p->y[t];
        p->sum_xy = -p->sum_xy;
        p->al.inverted = pairs[0].al.inverted;
        flipped++;
    }
    if (flipped)
        note(1, "%d of the %d pairs came out with the other polarity than the first (%s): the "
                "capture follows them as recorded, so it inverts at their settings as they do "
                "(a cable or interface that inverted some recordings would explain it; --invert "
                "or --no-invert sets one polarity for all)",
             flipped, n_pairs, pairs[0].al.inverted ? "inverted" : "not inverted");

    if (o.evaluate)
        return evaluate_model(o.evaluate, g_eval_model, pairs, n_pairs, n_knobs, &man);

    /* ---- levels and skip ---- */
    double sxx = 0, sxy = 0, syy = 0;
    size_t total = 0;
    for (int i = 0; i < n_pairs; i++) {
        sxx += pairs[i].sum_xx;
        sxy += pairs[i].sum_xy;
        syy += pairs[i].sum_yy;
        total += pairs[i].n;
    }
    double rms_x = sqrt(sxx / (double)total), rms_y = sqrt(syy / (double)total);
    double a = sxy / sxx;                         /* best single gain dry -> wet */
    double pass_esr = 1.0 - (sxy * sxy) / (sxx * syy); /* what that gain leaves unexplained */
    int skip = o.skip;
    if (skip < 0) {
        skip = a > 0 && pass_esr < 0.5;
        note(0, "skip connection %s: a plain gain of %.2f explains %.0f%% of the wet signal (--skip/--no-skip to override)",
             skip ? "on" : "off", a, 100.0 * (1.0 - pass_esr));
    }
    double gi = INPUT_RMS / rms_x;
    double go = skip ? a / gi : rms_y / TARGET_RMS;
    if (skip && !(go > 0)) {
        note(1, "--skip with a wet signal that is not correlated with the dry one: the skip will have to be unlearned");
        go = rms_y / TARGET_RMS;
    }
    note(0, "levels: dry %.1f dBFS RMS, wet %.1f dBFS RMS; the model scales its input by %.2f and its output by %.3f",
         20 * log10(rms_x), 20 * log10(rms_y), gi, go);

    /* ---- training arrays (what the network sees) ---- */
    const int isz = 1 + n_knobs;
    float **in = calloc((size_t)n_pairs, sizeof *in), **tg = calloc((size_t)n_pairs, sizeof *tg);
    if (!in || !tg) {
        fprintf(stderr, "rnnfx-train: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n_pairs; i++) {
        Pair *p = &pairs[i];
        in[i] = malloc(p->n * (size_t)isz * sizeof **in);
        tg[i] = malloc(p->n * sizeof **tg);
        if (!in[i] || !tg[i]) {
            fprintf(stderr, "rnnfx-train: out of memory for %zu samples\n", p->n);
            return 1;
        }
        for (size_t t = 0; t < p->n; t++) {
            in[i][t * isz] = (float)(gi * p->x[t]);
            for (int k = 0; k < n_knobs; k++)
                in[i][t * isz + 1 + k] = (float)knob_unit(&man, k, p->knobs[k]);
            tg[i][t] = (float)(p->y[t] / go);
        }
        free(p->x);
        free(p->y);
        p->x = p->y = NULL;
        p->in = in[i];
        p->tg = tg[i];
        p->isz = isz;
        p->gi = gi;
        p->go = go;
    }

    /* ---- model and trainer config ---- */
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, o.cell, o.hidden, skip);
    arch.n_layers = o.layers;
    for (int l = 0; l < o.layers; l++)
        arch.layers[l] = arch.layers[0];
    arch.input_size = isz;
    arch.n_params = n_knobs;
    for (int k = 0; k < n_knobs; k++)
        snprintf(arch.params[k].name, RNNFX_NAME_LEN, "%s", man.knobs[k]);
    /* trained on knobs mapped to 0..1 (knob_unit); the model written takes
     * them in the manifest's units (in_user_units) */
    RnnfxArch arch_user = arch;
    for (int k = 0; k < n_knobs; k++) {
        arch.params[k].min = 0.0f;
        arch.params[k].max = 1.0f;
        arch.params[k].def = 0.5f;
        arch_user.params[k].min = (float)man.min[k];
        arch_user.params[k].max = (float)man.max[k];
        arch_user.params[k].def = (float)(0.5 * (man.min[k] + man.max[k]));
    }
    RnnfxModel *model = NULL;
    if (rnnfx_model_new(&arch, &model, &err) != RNNFX_OK ||
        rnnfx_model_init_random(model, o.seed, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-train: %s\n", err.msg);
        return 1;
    }
    rnnfx_model_meta(model)->sample_rate = rate;

    RnnfxTrainConfig cfg;
    rnnfx_train_config_default(&cfg);
    if (o.segment)
        cfg.segment_len = (size_t)o.segment;
    if (o.burn_in)
        cfg.burn_in = o.burn_in < 0 ? 0 : (size_t)o.burn_in;
    if (o.tbptt)
        cfg.tbptt = (size_t)o.tbptt;
    if (o.batch)
        cfg.batch = (int)o.batch;
    if (o.lr > 0)
        cfg.lr = (float)o.lr;
    if (cfg.lr_min > cfg.lr)
        cfg.lr_min = cfg.lr / 50;
    cfg.schedule = RNNFX_LR_COSINE;
    cfg.total_steps = 0; /* we drive the schedule's progress (time or epochs) */
    cfg.threads = o.threads;
    cfg.seed = o.seed;
    if (rnnfx_train_config_check(&cfg, model, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-train: %s\n", err.msg);
        return EXIT_USAGE;
    }

    /* ---- split by time regions ---- */
    RegionList rtrain = {0}, rval = {0}, rtest = {0};
    int n_moved = 0; /* pairs whose held-out blocks moved off a pause */
    for (int i = 0; i < n_pairs; i++) {
        size_t n = pairs[i].n;
        size_t bl = n / N_BLOCKS;
        if (bl < PREROLL * 2 || bl < cfg.segment_len) {
            /* short recording: one test/validation region at 15% each, the
             * rest trains (still deterministic) */
            size_t vl = n * 15 / 100, tl = n * 15 / 100;
            size_t trn = n - vl - tl;
            if (trn < cfg.segment_len || vl < 256 || tl < 256) {
                fprintf(stderr,
                        "rnnfx-train: %s is too short to train on (%.1f s after alignment); record "
                        "at least %.0f s\n",
                        pairs[i].in_path, (double)n / rate,
                        ceil((double)cfg.segment_len * 1.5 / rate + 1));
                return EXIT_FAIL;
            }
            size_t pre = trn < PREROLL ? trn : PREROLL;
            region_add(&rtrain, i, 0, trn, 0);
            region_add(&rval, i, trn, vl, pre);
            region_add(&rtest, i, trn + vl, tl, vl < PREROLL ? vl : PREROLL);
            continue;
        }
        int vb = VAL_BLOCK, tb = TEST_BLOCK;
        n_moved += choose_held_out(&pairs[i], bl, rate, &vb, &tb);
        size_t run_start = 0;
        for (int b = 0; b < N_BLOCKS; b++) {
            size_t s = (size_t)b * bl, e = b == N_BLOCKS - 1 ? n : s + bl;
            if (b == vb || b == tb) {
                if (s > run_start)
                    region_add(&rtrain, i, run_start, s - run_start, 0);
                region_add(b == vb ? &rval : &rtest, i, s, e - s, PREROLL);
                run_start = e;
            }
        }
        if (n > run_start)
            region_add(&rtrain, i, run_start, n - run_start, 0);
    }
    RnnfxTrainSeq *seq_tr = calloc((size_t)rtrain.n, sizeof *seq_tr);
    RnnfxTrainSeq *seq_va = calloc((size_t)rval.n, sizeof *seq_va);
    if (!seq_tr || !seq_va) {
        fprintf(stderr, "rnnfx-train: out of memory\n");
        return 1;
    }
    size_t n_train_samples = 0, n_val = 0, n_test = 0;
    for (int i = 0; i < rtrain.n; i++) {
        const Region *r = &rtrain.r[i];
        seq_tr[i] = (RnnfxTrainSeq){in[r->pair] + r->start * isz, tg[r->pair] + r->start, r->len};
        n_train_samples += r->len;
    }
    for (int i = 0; i < rval.n; i++) {
        const Region *r = &rval.r[i];
        size_t s0 = r->start - r->pre;
        seq_va[i] = (RnnfxTrainSeq){in[r->pair] + s0 * isz, tg[r->pair] + s0, r->len + r->pre};
        n_val += r->len;
    }
    for (int i = 0; i < rtest.n; i++)
        n_test += rtest.r[i].len;
    RnnfxTrainSet set_tr = {seq_tr, (size_t)rtrain.n}, set_va = {seq_va, (size_t)rval.n};
    {
        char a1[32], a2[32], a3[32];
        rnnfx_cli_format_duration((double)n_train_samples / rate, a1, sizeof a1);
        rnnfx_cli_format_duration((double)n_val / rate, a2, sizeof a2);
        rnnfx_cli_format_duration((double)n_test / rate, a3, sizeof a3);
        note(0, "split by time: %s training, %s validation, %s test (blocks %d and %d of every "
                "%d%s)",
             a1, a2, a3, VAL_BLOCK + 1, TEST_BLOCK + 1, N_BLOCKS,
             n_moved ? ", others where noted above" : "");
    }
    if (o.export_split) {
        if (export_split(o.export_split, pairs, n_pairs, (const float *const *)in,
                         (const float *const *)tg, isz, &rtrain, &rval, &rtest, gi, go, skip, rate, &cfg, &o)) {
            fprintf(stderr, "rnnfx-train: cannot write the split to %s\n", o.export_split);
            return 1;
        }
    }

    RnnfxTrainer *tr = NULL;
    if (rnnfx_trainer_new(model, &cfg, &tr, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-train: %s\n", err.msg);
        return 1;
    }
    size_t bpe = rnnfx_trainer_batches_per_epoch(tr, &set_tr);
    if (bpe == 0) {
        fprintf(stderr, "rnnfx-train: no training region is as long as one segment (%zu samples)\n",
                cfg.segment_len);
        return EXIT_FAIL;
    }
    char arch_id[160];
    snprintf(arch_id, sizeof arch_id, "%s-%dx%d%s in%d", rnnfx_cell_name(o.cell), o.layers, o.hidden,
             skip ? "+skip" : "", isz);
    if (n_knobs) {
        /* The weights take the knobs as 0..1 over the manifest's ranges: a
         * checkpoint of other ranges (or of the raw values taken before)
         * would read them wrongly, so its description differs */
        uint32_t h = 2166136261u;
        for (int k = 0; k < n_knobs; k++) {
            char part[RNNFX_NAME_LEN + 64];
            snprintf(part, sizeof part, "%s=%.9g..%.9g;", man.knobs[k], man.min[k], man.max[k]);
            for (const char *q = part; *q; q++)
                h = (h ^ (uint8_t)*q) * 16777619u;
        }
        const size_t used = strlen(arch_id);
        snprintf(arch_id + used, sizeof arch_id - used, " knobs01-%08x", (unsigned)h);
    }

    char data_id[24];
    data_fingerprint(in, tg, pairs, n_pairs, isz, data_id, sizeof data_id);
    History hist = {0};
    double best_val = INFINITY, elapsed_before = 0;
    RunState carried = {0.0, 0, 0, 1}; /* an interrupted run's schedule (carry) */
    int carry = 0;
    if (o.resume) {
        char *extra = NULL;
        if (rnnfx_trainer_load_checkpoint(tr, o.resume, &extra, &err) != RNNFX_OK) {
            fprintf(stderr, "rnnfx-train: cannot resume from %s: %s\n(resume with the same data and "
                            "the same --type/--hidden/--layers/--segment/--batch options)\n",
                    o.resume, err.msg);
            return EXIT_FAIL;
        }
        if (extra &&
            extra_from_json(o.resume, extra, &hist, &best_val, &elapsed_before, arch_id,
                            data_id, &carried, &carry) != 0) {
            free(extra);
            return EXIT_FAIL;
        }
        free(extra);
        /* on other audio the best is started afresh (infinite): say so
         * rather than print "inf" */
        if (carry)
            note(0, "the run was interrupted after %.0f s and %d epoch(s) of its schedule: it "
                    "carries on from there (learning rate and budget)",
                 carried.seconds, carried.epochs);
        if (isfinite(best_val))
            note(0, "resumed from %s: %llu steps, %llu epochs, best validation ESR %.4f", o.resume,
                 (unsigned long long)rnnfx_trainer_steps(tr),
                 (unsigned long long)rnnfx_trainer_epochs(tr), best_val);
        else
            note(0, "resumed from %s: %llu steps, %llu epochs; the best validation ESR starts afresh",
                 o.resume, (unsigned long long)rnnfx_trainer_steps(tr),
                 (unsigned long long)rnnfx_trainer_epochs(tr));
    }

    /* ---- training loop ---- */
    /* The best weights so far live in memory and, from each epoch that
     * improves them, in CKPT.best.json: the checkpoint holds the newest
     * weights (with the optimizer's state), which may be worse. A resumed
     * run starts from that file's weights as its best, with the score the
     * checkpoint recorded for them; without the file (deleted, or a run
     * interrupted before its first epoch ended) the best starts afresh, so
     * that no weights are ever saved under another model's score. On other
     * audio (best_val infinite) the old best does not count either. */
    RnnfxModel *best = NULL;
    if (o.resume && isfinite(best_val)) {
        char rbest[PATH_MAX + 24];
        snprintf(rbest, sizeof rbest, "%s.best.json", o.resume);
        RnnfxModel *b = NULL;
        if (rnnfx_model_load(rbest, NULL, &b, &err) == RNNFX_OK && rnnfx_model_same_shape(b, model) &&
            isfinite(rnnfx_model_meta(b)->esr) && rnnfx_model_meta(b)->esr >= 0.0) {
            /* the file holds its own score (saved with it), so weights and
             * score always go together whatever order the writes ended in */
            best = b;
            best_val = rnnfx_model_meta(b)->esr;
        } else {
            rnnfx_model_free(b);
            note(1, "%s (the earlier run's best model) %s: its best validation ESR %.4f no longer "
                    "counts, and this run's best starts afresh",
                 rbest, b ? "has another architecture" : "cannot be read", best_val);
            best_val = INFINITY;
        }
    }
    /* a stale best file of an earlier run into these names (replaced with
     * --force) must not pair with this run's checkpoint */
    if (!o.evaluate && !(o.resume && rnnfx_cli_same_path(o.resume, ckpt_path)))
        unlink(best_path);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_trainer = tr;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    const double budget = o.minutes * 60.0;
    /* the epoch count the progress display aims at starts where the
     * schedule started (an interrupted run's epochs count towards it) */
    const int epochs_before = (int)rnnfx_trainer_epochs(tr) - carried.epochs;
    RnnfxProgress prog;
    rnnfx_progress_begin(&prog, stdout, o.quiet);
    size_t n_params_total = 0;
    rnnfx_model_params(model, &n_params_total);
    if (!o.quiet) {
        char b1[32] = "";
        if (budget > 0)
            rnnfx_cli_format_duration(budget, b1, sizeof b1);
        printf("training %s (%zu parameters) on %d thread(s): %zu batch(es) of %d x %zu samples per epoch, %s%s%s\n",
               arch_id, n_params_total, cfg.threads, bpe,
               cfg.batch, cfg.segment_len, budget > 0 ? "budget " : "", budget > 0 ? b1 : "",
               o.epochs ? (budget > 0 ? " or epoch limit" : "epoch limit") : "");
    }
    double t0 = rnnfx_cli_now();
    double eval_time = 0;  /* time spent on --test-at scoring, not counted */
    double train_time = 0; /* time inside rnnfx_trainer_train */
    uint64_t samples = 0;
    int next_test_at = 0;
    int since_best = carried.since_best, stop = 0, epoch_in_run = carried.epochs;
    const double run_s0 = carried.seconds; /* the schedule's time before this process */
    /* the schedule's training time so far (what --minutes counts) */
#define SCHEDULE_SECONDS() (run_s0 + rnnfx_cli_now() - t0 - eval_time)
    double epoch_loss_sum = 0;
    uint64_t epoch_steps = 0;
    double last_val = -1;
    /* batches per call: about a quarter second each, so the display and the
     * budget are checked often without costing anything measurable. A call
     * never runs past the end of an epoch: the trainer goes on into the
     * next epoch within one call and reports one epoch end, so a call that
     * crossed one (or two) ends skipped their validation and checkpoint,
     * and "--epochs 40" ran 63 epochs. batches_in_epoch counts the batches
     * done in the current epoch; after --resume the checkpoint may sit mid-epoch
     * at a position the trainer does not tell, so calls take one batch
     * until the first epoch end. */
    size_t chunk = 1, batches_in_epoch = 0;
    uint64_t skipped_total = 0, skipped_run = 0; /* steps skipped (non-finite gradient) */
    int diverged = 0;                            /* training ended on a non-finite loss */
    int batches_known = !o.resume;
    while (!stop && !g_interrupted) {
        double el = SCHEDULE_SECONDS();
        double frac_t = budget > 0 ? el / budget : 0;
        double frac_e = o.epochs ? ((double)epoch_in_run + (double)0) / o.epochs : 0;
        double frac = frac_t > frac_e ? frac_t : frac_e;
        if (frac >= 1.0)
            break;
        rnnfx_trainer_set_progress(tr, frac);
        RnnfxTrainStats ts;
        double c0 = rnnfx_cli_now();
        size_t ask = chunk;
        if (!batches_known)
            ask = 1;
        else if (batches_in_epoch < bpe && ask > bpe - batches_in_epoch)
            ask = bpe - batches_in_epoch;
        if (rnnfx_trainer_train(tr, &set_tr, ask, &ts, &err) != RNNFX_OK) {
            rnnfx_progress_end(&prog);
            fprintf(stderr, "rnnfx-train: training failed: %s\n", err.msg);
            return 1;
        }
        double cdt = rnnfx_cli_now() - c0;
        if (ts.epoch_done) {
            batches_in_epoch = 0;
            batches_known = 1;
        } else {
            batches_in_epoch += ask;
        }
        train_time += ts.seconds > 0 ? ts.seconds : cdt;
        samples += ts.samples;
        if (cdt < 0.15 && chunk < bpe)
            chunk *= 2;
        else if (cdt > 0.6 && chunk > 1)
            chunk /= 2;
        if (ts.steps) {
            epoch_loss_sum += ts.loss * (double)ts.steps;
            epoch_steps += ts.steps;
        }
        /* A step with a non-finite gradient is skipped (the weights are
         * kept): a stray one is noted at the end; only a long run of them
         * with no step taken ends training (it is going nowhere). */
        skipped_total += ts.skipped;
        skipped_run = ts.steps ? ts.skipped : skipped_run + ts.skipped;
        if ((!isfinite(ts.loss) && ts.steps) || skipped_run >= 200) {
            rnnfx_progress_end(&prog);
            fprintf(stderr, "rnnfx-train: the loss became non-finite; try a lower --lr\n");
            diverged = 1;
            break;
        }
        /* benchmark hook: score the current weights at fixed wall times */
        while (next_test_at < o.n_test_at &&
               rnnfx_cli_now() - t0 - eval_time >= o.test_at[next_test_at] * 60.0) {
            double e0 = rnnfx_cli_now();
            RnnfxModel *snap = in_user_units(model, &arch_user, &man, &err);
            if (snap) {
                rnnfx_model_meta(snap)->input_gain = (float)gi;
                rnnfx_model_meta(snap)->output_gain = (float)(pairs[0].al.inverted ? -go : go);
                rnnfx_model_finalize(snap, &err);
                double e = score_regions(snap, pairs, &rtest, n_knobs, NULL, NULL, NULL);
                rnnfx_progress_note(&prog, "test_at minutes=%g esr=%.6f samples=%llu train_seconds=%.1f",
                                    o.test_at[next_test_at], e, (unsigned long long)samples, train_time);
                rnnfx_model_free(snap);
            }
            next_test_at++;
            eval_time += rnnfx_cli_now() - e0;
        }
        double running_loss = epoch_steps ? epoch_loss_sum / (double)epoch_steps : ts.loss;
        el = SCHEDULE_SECONDS();
        frac_t = budget > 0 ? el / budget : 0;
        double epoch_pos = epoch_in_run + 0.0;
        if (o.epochs)
            frac_e = epoch_pos / o.epochs;
        rnnfx_progress_update(&prog, frac_t > frac_e ? frac_t : frac_e,
                              (int)rnnfx_trainer_epochs(tr) + (ts.epoch_done ? 0 : 1),
                              o.epochs ? o.epochs + epochs_before : 0, running_loss, last_val,
                              isfinite(best_val) ? best_val : -1, 0);
        if (ts.stopped || g_interrupted)
            break;
        if (!ts.epoch_done)
            continue;

        /* ---- end of an epoch: validate, keep the best, checkpoint ---- */
        epoch_in_run++;
        double ve0 = rnnfx_cli_now();
        RnnfxEvalResult ev;
        if (rnnfx_trainer_evaluate(model, &set_va, PREROLL, &cfg, cfg.threads, &ev, &err) != RNNFX_OK) {
            rnnfx_progress_end(&prog);
            fprintf(stderr, "rnnfx-train: validation failed: %s\n", err.msg);
            return 1;
        }
        (void)ve0;
        last_val = ev.esr;
        double ep_loss = epoch_steps ? epoch_loss_sum / (double)epoch_steps : NAN;
        epoch_loss_sum = 0;
        epoch_steps = 0;
        history_add(&hist, (RnnfxReportEpoch){elapsed_before + rnnfx_cli_now() - t0, ep_loss, ev.esr});
        rnnfx_trainer_report_validation(tr, ev.esr);
        if (isfinite(ev.esr) && ev.esr < best_val) {
            best_val = ev.esr;
            since_best = 0;
            rnnfx_model_free(best);
            best = NULL;
            if (rnnfx_model_clone(model, &best, &err) != RNNFX_OK) {
                fprintf(stderr, "rnnfx-train: %s\n", err.msg);
                return 1;
            }
            rnnfx_model_meta(best)->esr = best_val; /* its validation ESR travels with it */
            if (rnnfx_model_save(best, best_path, &err) != RNNFX_OK)
                rnnfx_progress_note(&prog, "rnnfx-train: warning: %s not saved: %s", best_path,
                                    err.msg);
        } else {
            since_best++;
        }
        const RunState rs = {SCHEDULE_SECONDS(), epoch_in_run, since_best, 0};
        char *extra = extra_to_json(&hist, best_val, elapsed_before + rnnfx_cli_now() - t0, arch_id,
                                    data_id, &rs);
        if (rnnfx_trainer_save_checkpoint(tr, ckpt_path, extra, &err) != RNNFX_OK)
            rnnfx_progress_note(&prog, "rnnfx-train: warning: checkpoint not saved: %s", err.msg);
        free(extra);
        el = SCHEDULE_SECONDS();
        frac_t = budget > 0 ? el / budget : 0;
        frac_e = o.epochs ? (double)epoch_in_run / o.epochs : 0;
        rnnfx_progress_update(&prog, frac_t > frac_e ? frac_t : frac_e, (int)rnnfx_trainer_epochs(tr),
                              o.epochs ? o.epochs + epochs_before : 0, ep_loss, ev.esr, best_val, 1);
        if (o.epochs && epoch_in_run >= o.epochs)
            stop = 1;
        if (o.patience && since_best >= o.patience) {
            rnnfx_progress_note(&prog, "no better validation for %d epochs: stopping early", o.patience);
            stop = 1;
        }
    }
    rnnfx_progress_end(&prog);
#undef SCHEDULE_SECONDS
    double wall = rnnfx_cli_now() - t0 - eval_time;
    if (g_interrupted == SIGINT)
        fprintf(stderr, "rnnfx-train: interrupted: writing the best model so far\n");
    if (skipped_total)
        note(1, "%llu training step(s) had a non-finite gradient and were skipped (the weights "
                "kept); if this recurs, try a lower --lr",
             (unsigned long long)skipped_total);

    /* The last partial epoch may beat the best epoch; score it too. */
    {
        RnnfxEvalResult ev;
        if (rnnfx_trainer_evaluate(model, &set_va, PREROLL, &cfg, cfg.threads, &ev, &err) == RNNFX_OK &&
            isfinite(ev.esr) && (ev.esr < best_val || !best)) {
            if (ev.esr < best_val)
                best_val = ev.esr;
            rnnfx_model_free(best);
            best = NULL;
            if (rnnfx_model_clone(model, &best, &err) != RNNFX_OK) {
                fprintf(stderr, "rnnfx-train: %s\n", err.msg);
                return 1;
            }
        }
    }
    /* no epoch scored finite: the newest weights are all there is */
    if (!best && rnnfx_model_clone(model, &best, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-train: %s\n", err.msg);
        return 1;
    }
    /* keep the checkpoint at the newest weights so --resume continues, and
     * the best ones beside it */
    int ckpt_saved = 1;
    {
        /* complete unless a signal ended it: then --resume carries on */
        const RunState rs = {run_s0 + wall, epoch_in_run, since_best, !g_interrupted};
        char *extra = extra_to_json(&hist, best_val, elapsed_before + wall, arch_id, data_id, &rs);
        if (rnnfx_trainer_save_checkpoint(tr, ckpt_path, extra, &err) != RNNFX_OK) {
            fprintf(stderr, "rnnfx-train: warning: checkpoint not saved: %s\n", err.msg);
            ckpt_saved = 0;
        }
        free(extra);
        /* (again: the last partial epoch may have given a new best) */
        rnnfx_model_meta(best)->esr = best_val;
        if (rnnfx_model_save(best, best_path, &err) != RNNFX_OK) {
            fprintf(stderr, "rnnfx-train: warning: %s not saved: %s\n", best_path, err.msg);
            ckpt_saved = 0;
        }
    }
    g_trainer = NULL;
    rnnfx_trainer_free(tr);
    if (g_interrupted == SIGTERM) {
        if (ckpt_saved) {
            fprintf(stderr,
                    "rnnfx-train: terminated: no model written; the checkpoint %s keeps the run "
                    "(--resume %s continues it)\n",
                    ckpt_path, ckpt_path);
            return 128 + SIGTERM;
        }
        /* nothing could be kept: write the model after all */
        fprintf(stderr, "rnnfx-train: terminated, and the checkpoint could not be saved: writing "
                        "the best model so far\n");
    }

    /* ---- the final model: knob units, gains, polarity, metadata ---- */
    {
        RnnfxModel *user = in_user_units(best, &arch_user, &man, &err);
        if (!user) {
            fprintf(stderr, "rnnfx-train: %s\n", err.msg);
            return 1;
        }
        rnnfx_model_free(best);
        best = user;
    }
    RnnfxMeta *meta = rnnfx_model_meta(best);
    meta->input_gain = (float)gi;
    /* polarity: the first pair's (the others were brought to it) */
    const int inverted = pairs[0].al.inverted;
    meta->output_gain = (float)(inverted ? -go : go);
    meta->sample_rate = rate;
    /* a long file name is cut to the field (the name is for display) */
    snprintf(meta->name, sizeof meta->name, "%.*s", (int)sizeof meta->name - 1,
             o.name ? o.name : base_name(stem));
    iso_now(meta->date, sizeof meta->date);
    {
        /* the channels only when they are a choice (multichannel files) */
        char ic[24] = "", tc[24] = "";
        if (pairs[0].in_nch > 1 && pairs[0].in_ch >= 0)
            snprintf(ic, sizeof ic, " (channel %d)", pairs[0].in_ch);
        if (pairs[0].tg_nch > 1 && pairs[0].tg_ch >= 0)
            snprintf(tc, sizeof tc, " (channel %d)", pairs[0].tg_ch);
        snprintf(meta->description, sizeof meta->description,
                 "Captured by rnnfx-train from %s%s -> %s%s%s", base_name(pairs[0].in_path), ic,
                 base_name(pairs[0].tg_path), tc, n_pairs > 1 ? " and more (manifest)" : "");
    }
    snprintf(meta->source_format, sizeof meta->source_format, "rnnfx");
    if (rnnfx_model_finalize(best, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-train: %s\n", err.msg);
        return 1;
    }

    /* test ESR on the held-out regions, through the engine's playback path;
     * the saved file is re-read so the figure is the file's, not memory's */
    float *tp = malloc((n_test ? n_test : 1) * sizeof *tp), *tt = malloc((n_test ? n_test : 1) * sizeof *tt);
    float *td = malloc((n_test ? n_test : 1) * sizeof *td);
    if (!tp || !tt || !td) {
        fprintf(stderr, "rnnfx-train: out of memory\n");
        return 1;
    }
    double test_esr = score_regions(best, pairs, &rtest, n_knobs, tp, tt, td);
    /* A capture that scores worse than silence (a diverged run: --lr 0.2
     * gave test ESR 28, +21.6 dB) is no capture: it is not written, so it
     * cannot replace a good one (--force), and the run says so. */
    const double judged = test_esr >= 0 ? test_esr : best_val;
    if (!(judged <= ESR_SILENCE)) {
        fprintf(stderr,
                "rnnfx-train: no model written: the capture scores ESR %.3g on the %s audio, "
                "worse than silence (ESR %.0f)%s; %s is left as it was\n",
                judged, test_esr >= 0 ? "held-out test" : "validation", ESR_SILENCE,
                diverged ? " after training diverged: try a lower --lr"
                         : ": check the pair, or try a lower --lr",
                o.output);
        free(tp);
        free(tt);
        free(td);
        return 1;
    }
    if (pairs[0].al.linear_esr > LINEAR_UNRELATED && test_esr > LINEAR_UNRELATED)
        note(1, "neither the capture (test ESR %.4f) nor a linear filter (ESR %.4f) follows the "
                "target: check that input and target are the same take before training longer",
             test_esr, pairs[0].al.linear_esr);
    else if (pairs[0].al.linear_esr > 0 && test_esr > pairs[0].al.linear_esr &&
             strcmp(rnnfx_quality_band(test_esr), "great") != 0)
        /* (a great capture of an almost linear device, say a clean boost,
         * is not worth a warning: "train longer" for ESR 0.0016 misled) */
        note(1, "the capture (test ESR %.4f) is no better than a plain linear filter fitted to the "
                "same audio (ESR %.4f): train longer (--minutes) or try --hidden 48 / --type lstm",
             test_esr, pairs[0].al.linear_esr);
    meta->esr = test_esr;

    double sps = train_time > 0 ? (double)samples / train_time : 0;
    {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "tool", json_object_new_string("rnnfx-train"));
        json_object_object_add(j, "cell", json_object_new_string(rnnfx_cell_name(o.cell)));
        json_object_object_add(j, "hidden", json_object_new_int(o.hidden));
        json_object_object_add(j, "layers", json_object_new_int(o.layers));
        json_object_object_add(j, "skip", json_object_new_int(skip));
        json_object_object_add(j, "segment", json_object_new_int64((int64_t)cfg.segment_len));
        json_object_object_add(j, "burn_in", json_object_new_int64((int64_t)cfg.burn_in));
        json_object_object_add(j, "tbptt", json_object_new_int64((int64_t)cfg.tbptt));
        json_object_object_add(j, "batch", json_object_new_int(cfg.batch));
        json_object_object_add(j, "lr", json_num6(cfg.lr));
        json_object_object_add(j, "lr_min", json_num6(cfg.lr_min));
        json_object_object_add(j, "schedule", json_object_new_string("cosine"));
        json_object_object_add(j, "clip", json_num6(cfg.clip));
        json_object_object_add(j, "seed", json_object_new_int64((int64_t)o.seed));
        json_object_object_add(j, "threads", json_object_new_int(cfg.threads));
        json_object_object_add(j, "epochs", json_object_new_int((int)hist.n));
        json_object_object_add(j, "seconds", json_num6(floor((elapsed_before + wall) * 10) / 10));
        json_object_object_add(j, "samples_per_s", json_object_new_double(floor(sps)));
        json_object_object_add(j, "delay", json_object_new_int(pairs[0].al.delay));
        json_object_object_add(j, "inverted", json_object_new_boolean(inverted));
        json_object_object_add(j, "val_esr", json_num6(best_val));
        json_object_object_add(j, "test_esr", json_num6(test_esr));
        if (pairs[0].al.linear_esr >= 0)
            json_object_object_add(j, "linear_esr", json_num6(pairs[0].al.linear_esr));
        json_object_object_add(j, "train_seconds_of_audio", json_num6((double)n_train_samples / rate));
        json_object_object_add(j, "input", json_object_new_string(base_name(pairs[0].in_path)));
        json_object_object_add(j, "target", json_object_new_string(base_name(pairs[0].tg_path)));
        /* which channel of a multichannel file was which (a stereo re-amp
         * file is both input and target) */
        if (pairs[0].in_nch > 1)
            json_object_object_add(j, "input_channel",
                                   pairs[0].in_ch < 0 ? json_object_new_string("mix")
                                                      : json_object_new_int(pairs[0].in_ch));
        if (pairs[0].tg_nch > 1)
            json_object_object_add(j, "target_channel",
                                   pairs[0].tg_ch < 0 ? json_object_new_string("mix")
                                                      : json_object_new_int(pairs[0].tg_ch));
        if (o.manifest)
            json_object_object_add(j, "manifest", json_object_new_string(base_name(o.manifest)));
        const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
        snprintf(meta->training, sizeof meta->training, "%s", strlen(s) < sizeof meta->training ? s : "{}");
        json_object_put(j);
    }

    if (rnnfx_model_save(best, o.output, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-train: cannot write %s: %s\n", o.output, err.msg);
        return 1;
    }
    RnnfxModel *reread = NULL;
    if (rnnfx_model_load(o.output, NULL, &reread, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-train: the written model %s does not read back: %s\n", o.output, err.msg);
        return 1;
    }
    double test_file = score_regions(reread, pairs, &rtest, n_knobs, NULL, NULL, NULL);
    rnnfx_model_free(reread);
    if (!(fabs(test_file - test_esr) <= 1e-6 + 1e-4 * fabs(test_esr)))
        note(1, "the model file scores ESR %.6f, the model in memory %.6f", test_file, test_esr);

    int rc = 0;
    /* what was written: the summary below names only those (it named a
     * preset that had failed) */
    int preset_written = 0, report_written = 0;
    if (!o.no_preset) {
        size_t pl = strlen(preset_path);
        RnnfxStatus st = !strcasecmp(preset_path + pl - 4, ".ttl")
                             ? rnnfx_preset_write_ttl(preset_path, meta->name, o.output, &err)
                             : rnnfx_preset_write_bundle(preset_path, meta->name, o.output, &err);
        if (st != RNNFX_OK) {
            fprintf(stderr, "rnnfx-train: preset not written: %s\n", err.msg);
            rc = 1;
        } else {
            preset_written = 1;
        }
    }
    if (!o.no_report) {
        char arch_desc[256], settings[4200];
        size_t nparams;
        rnnfx_model_params(best, &nparams);
        snprintf(arch_desc, sizeof arch_desc, "%s, hidden %d, %d layer%s, %s, %zu parameters%s",
                 rnnfx_cell_name(o.cell), o.hidden, o.layers, o.layers > 1 ? "s" : "",
                 skip ? "with skip connection" : "no skip connection", nparams,
                 n_knobs ? ", conditioned on knobs" : "");
        {
            json_object *j = json_tokener_parse(meta->training);
            snprintf(settings, sizeof settings, "%s",
                     j ? json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY) : meta->training);
            json_object_put(j);
        }
        size_t zoom = (size_t)(0.02 * rate);
        RnnfxReport rep = {0};
        rep.title = meta->name;
        rep.model_path = o.output;
        rep.input_desc = pairs[0].in_desc;
        rep.target_desc = pairs[0].tg_desc;
        rep.arch_desc = arch_desc;
        rep.settings = settings;
        rep.notes = g_notes;
        rep.sample_rate = rate;
        rep.epochs = hist.ep;
        rep.n_epochs = hist.n;
        rep.test_esr = test_esr;
        rep.best_val_esr = best_val;
        rep.linear_esr = pairs[0].al.linear_esr;
        rep.train_seconds = elapsed_before + wall;
        rep.samples_per_s = sps;
        rep.delay = pairs[0].al.delay;
        rep.inverted = inverted;
        rep.xcorr_lag = pairs[0].al.xcorr_lag;
        rep.xcorr_inverted = pairs[0].al.xcorr_inverted;
        rep.ir = pairs[0].al.ir;
        rep.ir_len = pairs[0].al.ir_len;
        rep.ir_first_lag = pairs[0].al.first_lag;
        rep.target = tt;
        rep.prediction = tp;
        rep.input = td;
        rep.n = n_test;
        rep.zoom_len = zoom < n_test ? zoom : n_test;
        rep.zoom_start = rnnfx_report_loudest(tt, n_test, rep.zoom_len);
        if (rnnfx_report_write_html(report_path, &rep, &err) != RNNFX_OK) {
            fprintf(stderr, "rnnfx-train: report not written: %s\n", err.msg);
            rc = 1;
        } else {
            report_written = 1;
        }
    }

    char dur[32];
    rnnfx_cli_format_duration(elapsed_before + wall, dur, sizeof dur);
    printf("\ntest ESR %.4f: %s\n", test_esr, rnnfx_quality_sentence(test_esr));
    printf("  model:  %s\n", o.output);
    {
        /* how loud it plays against the dry guitar (level.h): what the
         * plugin's Normalize takes off */
        const double level = rnnfx_cli_model_level_db(best);
        if (isfinite(level))
            printf("  level:  %+.1f dB on the reference guitar part (Normalize plays it %+.1f dB)\n",
                   level, -level);
    }
    if (preset_written)
        printf("  preset: %s%s\n", preset_path,
               strcasecmp(preset_path + strlen(preset_path) - 4, ".lv2") ? ""
                                                                          : "  (copy into ~/.lv2 to see it in LV2 hosts)");
    if (report_written)
        printf("  report: %s\n", report_path);
    printf("  checkpoint: %s (--resume to continue)\n", ckpt_path);
    printf("result test_esr=%.6f band=%s val_esr=%.6f epochs=%d seconds=%.1f samples_per_s=%.0f delay=%d inverted=%d skip=%d%s\n",
           test_esr, rnnfx_quality_band(test_esr), best_val, hist.n, elapsed_before + wall, sps,
           pairs[0].al.delay, inverted, skip, g_interrupted ? " interrupted=1" : "");
    (void)dur;

    free(tp);
    free(tt);
    free(td);
    rnnfx_model_free(best);
    rnnfx_model_free(model);
    for (int i = 0; i < n_pairs; i++) {
        free(in[i]);
        free(tg[i]);
        free(pairs[i].x);
        free(pairs[i].y);
        rnnfx_align_result_free(&pairs[i].al);
    }
    free(in);
    free(tg);
    free(pairs);
    free(seq_tr);
    free(seq_va);
    free(rtrain.r);
    free(rval.r);
    free(rtest.r);
    free(hist.ep);
    rnnfx_manifest_free(&man);
    return rc;
}

/*
 * rnnfx-generate — continues a MIDI file with a MIDI-frame model, or
 * composes from nothing, and writes a standard MIDI file.
 *
 *   rnnfx-generate -m model.json [-i start.mid] -o out.mid [--bars N]
 *                  [--temperature T] [--seed S] [--density D] [--max-notes N]
 *                  [--channel C] [--velocity V] [--bpm B] [--time-signature N/D]
 *                  [--only-new]
 *
 * With -i, the model first listens to the whole input (cut on the model's
 * grid) and then plays N more bars; the output holds the input's notes,
 * tempo and time signature followed by the new notes on a track of their
 * own (--only-new writes just the continuation). Without -i it starts from
 * silence at --bpm and --time-signature. The same model, input, seed and
 * settings always give the same file.
 *
 * The continuation starts on the first bar line after the input, in the
 * time signature the input ends in (its bars counted from where that
 * signature begins), and lasts N of its bars. Not a real-time program: see
 * the LV2 plugin for that.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "instance.h"
#include "midi_file.h"
#include "midi_frames.h"
#include "midi_gen.h"
#include "model.h"
#include "model_file.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rnnfx-generate -m model.json [-i start.mid] -o out.mid [options]\n"
            "  -m, --model FILE        a MIDI-frame model (rnnfx-train --midi)\n"
            "  -i, --input FILE        MIDI file to continue (omit to start from silence)\n"
            "  -o, --output FILE       MIDI file to write\n"
            "  --bars N                bars to generate (default 8)\n"
            "  --temperature T         0 = most likely keys only, 1 = as trained (default 1)\n"
            "  --density D             note density factor: odds x D (default 1)\n"
            "  --max-notes N           at most N keys at once (default 0 = no limit)\n"
            "  --seed S                random seed (default 1)\n"
            "  --channel C             MIDI channel 1..16 of the new notes (default 1)\n"
            "  --velocity V            velocity 1..127 of the new notes (default 90)\n"
            "  --bpm B                 tempo without -i, 4 .. 1000 (default 120)\n"
            "  --time-signature N/D    meter without -i (default 4/4)\n"
            "  --only-new              write only the generated notes\n"
            "  -h, --help              this text\n"
            "  --version               the program's version\n"
            "\n"
            "An existing OUT is replaced (never the input or the model).\n"
            "Exit status: 0 written; 1 a file could not be read or written, or the model\n"
            "is not a MIDI-frame model; 2 bad usage.\n");
}

/* Prints an error; returns the exit status of a runtime failure (1). */
static int die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "rnnfx-generate: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

/* Prints a command-line error; returns the usage exit status (2). */
static int usage_error(const char *fmt, const char *a, const char *b)
{
    die(fmt, a, b);
    return 2;
}

int main(int argc, char **argv)
{
    /* "--name=value" as well as "--name value", as rnnfx-train takes */
    static const char *const value_opts[] = {
        "--model", "--input", "--output", "--bars", "--seed", "--max-notes", "--channel",
        "--velocity", "--temperature", "--density", "--bpm", "--time-signature", NULL};
    argv = rnnfx_cli_split_equals(argc, argv, value_opts, &argc);
    if (!argv) {
        fprintf(stderr, "rnnfx-generate: out of memory\n");
        return 1;
    }
    const char *model_path = NULL, *in_path = NULL, *out_path = NULL;
    long bars = 8, seed = 1, max_notes = 0, channel = 1, velocity = 90;
    double temperature = 1.0, density = 1.0, bpm = 120.0;
    int ts_num = 4, ts_den_pow = 2, only_new = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            return rnnfx_cli_version("rnnfx-generate");
        } else if (!strcmp(a, "--only-new")) {
            only_new = 1;
            continue;
        }
        /* An unknown word is said to be one before anything else: as the
         * last argument it was reported as "--bogus needs a value". One
         * line, as the other tools say it: the whole usage text came
         * first and pushed the message off a small terminal. */
        int known = !strcmp(a, "-m") || !strcmp(a, "-i") || !strcmp(a, "-o");
        for (int k = 0; !known && value_opts[k]; k++)
            known = !strcmp(a, value_opts[k]);
        if (!known) {
            if (a[0] != '-')
                return usage_error("unexpected argument '%s'%s", a,
                                   ": files are given with -m MODEL, -i START.mid, -o OUT.mid");
            return usage_error("unknown option '%s'%s", a, " (see --help)");
        }
        if (!v)
            return usage_error("%s needs a value%s", a, " (see --help)");
        i++;
        if (!strcmp(a, "-m") || !strcmp(a, "--model"))
            bad = rnnfx_cli_set_once("rnnfx-generate", "-m/--model", &model_path, v) ? 2 : 0;
        else if (!strcmp(a, "-i") || !strcmp(a, "--input"))
            bad = rnnfx_cli_set_once("rnnfx-generate", "-i/--input", &in_path, v) ? 2 : 0;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output"))
            bad = rnnfx_cli_set_once("rnnfx-generate", "-o/--output", &out_path, v) ? 2 : 0;
        else if (!strcmp(a, "--bars"))
            bad = rnnfx_cli_parse_int(v, 1, 10000, &bars);
        else if (!strcmp(a, "--seed"))
            bad = rnnfx_cli_parse_int(v, 0, 0x7FFFFFFF, &seed);
        else if (!strcmp(a, "--max-notes"))
            bad = rnnfx_cli_parse_int(v, 0, 88, &max_notes);
        else if (!strcmp(a, "--channel"))
            bad = rnnfx_cli_parse_int(v, 1, 16, &channel);
        else if (!strcmp(a, "--velocity"))
            bad = rnnfx_cli_parse_int(v, 1, 127, &velocity);
        else if (!strcmp(a, "--temperature"))
            bad = rnnfx_cli_parse_double(v, &temperature) || temperature < 0 || temperature > 10;
        else if (!strcmp(a, "--density"))
            bad = rnnfx_cli_parse_double(v, &density) || density <= 0 || density > 100;
        else if (!strcmp(a, "--bpm"))
            /* from 4: a MIDI tempo is at most 0xFFFFFF microseconds a
             * quarter note (3.58 bpm) */
            bad = rnnfx_cli_parse_double(v, &bpm) || bpm < 4 || bpm > 1000;
        else if (!strcmp(a, "--time-signature")) {
            int n = 0, d = 0;
            char tail;
            bad = sscanf(v, "%d/%d%c", &n, &d, &tail) != 2 || n < 1 || n > 32 || d < 1 ||
                  d > 64 || (d & (d - 1)) != 0;
            if (!bad) {
                ts_num = n;
                for (ts_den_pow = 0; (1 << ts_den_pow) < d; ts_den_pow++)
                    ;
            }
        } else {
            return usage_error("unknown option '%s'%s", a, " (see --help)");
        }
        if (bad == 2) /* given twice: said already */
            return 2;
        if (bad)
            return usage_error("%s: bad value '%s'", a, v);
    }
    if (!model_path || !out_path)
        return usage_error("-m MODEL and -o OUTPUT are required%s%s", " (see --help)", "");

    /* Checked before any work. The output holds the input's notes too, but
     * re-quantised and re-encoded: "-i song.mid -o song.mid" must not
     * replace the user's file (nor the model, nor a folder, whose error
     * only came after all the work). Naming a file this run reads as the
     * output is a usage error (2), as in rnnfx-process. */
    struct stat so;
    if (stat(out_path, &so) == 0) {
        if (S_ISDIR(so.st_mode))
            return die("%s is a folder; give a file name%s", out_path, "");
        if (rnnfx_cli_refuse_special("rnnfx-generate", NULL, out_path) != 0)
            return 1;
        const char *reads[2] = {in_path, model_path};
        for (int k = 0; k < 2; k++)
            if (rnnfx_cli_same_file(out_path, reads[k]))
                return usage_error("-o %s would overwrite %s, which this run reads; choose "
                                   "another name",
                                   out_path, reads[k]);
    }
    /* A MIDI file under an audio or model name is unreadable to what the
     * name promises (as rnnfx-train and rnnfx-convert refuse JSON there). */
    const char *foreign = rnnfx_cli_foreign_model_name(out_path);
    if (foreign)
        return usage_error("-o %s names a%s file; the output is a standard MIDI file (.mid)",
                           out_path, !strcmp(foreign, "audio") ? "n audio" : " model");
    /* A missing folder once failed only after the work, naming a temporary
     * file ("out/x.mid.tmp123: cannot create"). */
    if (rnnfx_cli_check_folder_of("rnnfx-generate", out_path) != 0)
        return 1;
    /* A folder as -i read as "read error". */
    if (in_path && stat(in_path, &so) == 0 && S_ISDIR(so.st_mode))
        return die("-i %s is a folder; give a MIDI file (.mid)%s", in_path, "");

    RnnfxError err = {{0}};
    RnnfxModel *model = NULL;
    if (rnnfx_model_load(model_path, NULL, &model, &err) != RNNFX_OK)
        return die("%s%s", err.msg, "");
    const RnnfxArch *arch = rnnfx_model_arch(model);
    RnnfxMidiInfo info = rnnfx_model_meta_const(model)->midi;
    if (arch->kind != RNNFX_KIND_MIDI_FRAMES) {
        rnnfx_model_free(model);
        return die("%s is an audio model, not a MIDI-frame model", model_path, "");
    }

    int rc = 1;
    RnnfxMidiSong *song = NULL;
    RnnfxMidiFrames *prime = NULL;
    float *gen = NULL;
    RnnfxInstance *inst = NULL;
    uint64_t tempo_us = (uint64_t)(60e6 / bpm + 0.5);
    RnnfxMidiMeter meter = {ts_num, ts_den_pow, 0.0};
    double in_end = 0.0; /* where the input ends (its last event), in grid steps */
    if (in_path) {
        if (rnnfx_midi_read(in_path, &song, &err) != RNNFX_OK)
            goto fail_err;
        /* Fewer ticks per quarter than grid steps (a legal division of 1 to
         * 3) put neighbouring grid lines on one tick, so one-step notes
         * came out with no length. The same song at a multiple of its
         * division is the same music. */
        if (song->division < info.steps_per_quarter) {
            const uint64_t f = ((uint64_t)info.steps_per_quarter + (uint64_t)song->division - 1) /
                               (uint64_t)song->division;
            for (size_t i = 0; i < song->n_events; i++)
                song->events[i].tick *= f;
            song->end_tick *= f;
            song->division *= (int)f;
        }
        if (rnnfx_midi_frames_from_song(song, &info, &prime, &err) != RNNFX_OK)
            goto fail_err;
        /* The frames end with the last note the model plays; drums (channel
         * 10) and notes outside its keys may go on after it, and the new
         * part started over them (an input ending in a bar of drums got new
         * notes from that bar's downbeat; drums alone, from tick 0). */
        uint64_t last = 0; /* the last event's tick (not a far End-of-Track) */
        for (size_t i = 0; i < song->n_events; i++)
            if (song->events[i].tick > last)
                last = song->events[i].tick;
        in_end = (double)last * info.steps_per_quarter / song->division;
        if (in_end < (double)prime->n_frames)
            in_end = (double)prime->n_frames;
        if (in_end > RNNFX_MIDI_MAX_FRAMES) {
            fprintf(stderr, "rnnfx-generate: %s: its last event is %.0f grid steps in, beyond the "
                            "%u a song may have\n",
                    in_path, in_end, RNNFX_MIDI_MAX_FRAMES);
            goto done;
        }
        /* the new bars continue in the meter the input ends in, counted
         * from where it began (not the first one, from the first bar) */
        meter = prime->end_meter;
        ts_num = meter.num;
        ts_den_pow = meter.den_pow;
        if (only_new) { /* keep the tempo and meter, drop the notes */
            RnnfxMidiSong *fresh = NULL;
            if (rnnfx_midi_song_new(song->division, &fresh, &err) != RNNFX_OK)
                goto fail_err;
            for (size_t i = 0; i < song->n_events; i++) {
                RnnfxMidiEvent e = song->events[i];
                if (e.type == RNNFX_MIDI_TEMPO || e.type == RNNFX_MIDI_TIME_SIG) {
                    e.track = 0;
                    if (rnnfx_midi_song_add(fresh, &e, &err) != RNNFX_OK) {
                        rnnfx_midi_song_free(fresh);
                        goto fail_err;
                    }
                }
            }
            rnnfx_midi_song_free(song);
            song = fresh;
        }
    } else {
        if (rnnfx_midi_song_new(480, &song, &err) != RNNFX_OK)
            goto fail_err;
        RnnfxMidiEvent t = {0};
        t.type = RNNFX_MIDI_TEMPO;
        t.tempo_us = (uint32_t)(tempo_us > 0xFFFFFF ? 0xFFFFFF : tempo_us);
        RnnfxMidiEvent s = {0};
        s.type = RNNFX_MIDI_TIME_SIG;
        s.ts_num = (uint8_t)ts_num;
        s.ts_den_pow = (uint8_t)ts_den_pow;
        if (rnnfx_midi_song_add(song, &t, &err) != RNNFX_OK ||
            rnnfx_midi_song_add(song, &s, &err) != RNNFX_OK)
            goto fail_err;
    }

    /* Steps per bar: num beats of 1/2^den_pow notes, in grid steps (not
     * always whole: 3/8 on a quarter grid is 1.5). */
    const double spb = (double)ts_num * 4.0 * info.steps_per_quarter / (double)(1 << ts_den_pow);
    size_t n_prime = prime ? prime->n_frames : 0;
    /* Continue from the first bar line at or after the input's end (counted
     * from where its meter began), so the new part starts on a downbeat,
     * and end on the bar line `bars` later: the grid steps from one to the
     * other, each bar line rounded up to the grid. */
    double bar0 = 0.0;
    if (in_path) { /* (a meter that begins after the last note: its first bar line) */
        const double k = ceil((in_end - meter.origin) / spb - 1e-9);
        bar0 = meter.origin + (k > 0 ? k : 0) * spb;
    }
    size_t start = (size_t)ceil(bar0 - 1e-9);
    if (start < n_prime)
        start = n_prime;
    const double end = ceil(bar0 + (double)bars * spb - 1e-9);
    /* at least one step (bars shorter than a grid step, bar0 off the grid) */
    size_t n_gen = end > (double)start ? (size_t)end - start : 1;
    int fs = info.n_keys + info.n_beat_features;
    /* Pad the prime with silent frames up to the bar line (the model hears
     * the rest as it would in a song, in the song's meter there: the last
     * one may begin only after the last note). */
    float *pr = NULL;
    if (start) {
        pr = calloc(start * (size_t)fs, sizeof *pr);
        if (!pr)
            goto oom;
        if (n_prime)
            memcpy(pr, prime->data, n_prime * (size_t)fs * sizeof *pr);
        for (size_t f = n_prime; f < start; f++) {
            int num = ts_num;
            const double bb = in_path
                                  ? rnnfx_midi_song_bar_beat(song, f, info.steps_per_quarter, &num)
                                  : rnnfx_midi_meter_bar_beat(&meter, f, info.steps_per_quarter);
            rnnfx_midi_beat_features(bb, num, pr + f * fs + info.n_keys, info.n_beat_features);
        }
    }
    gen = calloc(n_gen * (size_t)fs, sizeof *gen);
    inst = rnnfx_instance_new(model);
    if (!gen || !inst) {
        free(pr);
        goto oom;
    }
    RnnfxRng rng;
    rnnfx_rng_seed(&rng, (uint64_t)seed);
    RnnfxMidiSampling smp = {(float)temperature, (float)density, (int)max_notes};
    RnnfxStatus st = rnnfx_midi_generate(inst, pr, start, n_gen, &meter, &smp, &rng,
                                         gen, &err);
    free(pr);
    if (st != RNNFX_OK)
        goto fail_err;

    int track = 0;
    for (size_t i = 0; i < song->n_events; i++)
        if (song->events[i].track + 1 > track)
            track = song->events[i].track + 1;
    if (!in_path)
        track = 0;
    if (only_new)
        track = 0;
    uint64_t start_tick = rnnfx_midi_frame_tick(start, song->division, info.steps_per_quarter);
    if (rnnfx_midi_frames_append_notes(song, gen, n_gen, fs, &info, start_tick, (int)channel - 1,
                                       (int)velocity, track, &err) != RNNFX_OK)
        goto fail_err;
    uint64_t end_tick = start_tick + rnnfx_midi_frame_tick(n_gen, song->division,
                                                           info.steps_per_quarter);
    if (end_tick > song->end_tick)
        song->end_tick = end_tick;
    if (rnnfx_midi_write(song, out_path, &err) != RNNFX_OK)
        goto fail_err;
    size_t notes = 0;
    for (size_t f = 0; f < n_gen; f++)
        for (int k = 0; k < info.n_keys; k++)
            notes += gen[f * fs + k] > 0.5f && (f == 0 || !(gen[(f - 1) * fs + k] > 0.5f));
    printf("rnnfx-generate: %s: %ld bar(s) of %d/%d (%zu grid steps from step %zu, %zu notes) "
           "after %zu input step(s), seed %ld, temperature %g\n",
           out_path, bars, ts_num, 1 << ts_den_pow, n_gen, start, notes, (size_t)ceil(in_end - 1e-9), seed,
           temperature);
    rc = 0;
    goto done;
oom:
    fprintf(stderr, "rnnfx-generate: out of memory\n");
    goto done;
fail_err:
    fprintf(stderr, "rnnfx-generate: %s\n", err.msg);
done:
    rnnfx_instance_free(inst);
    free(gen);
    rnnfx_midi_frames_free(prime);
    rnnfx_midi_song_free(song);
    rnnfx_model_free(model);
    return rc;
}

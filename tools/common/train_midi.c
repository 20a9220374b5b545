/*
 * train_midi.c — rnnfx-train's MIDI mode (see train_midi.h).
 *
 * Data flow: MIDI files (or the JSB JSON) -> piano-roll frames ->
 * per-song input/target rows (the convention of engine/midi_gen.h: input
 * row i = [keys of frame i−1, beat features of frame i], target row i = keys
 * of frame i) -> the engine trainer. Validation and test negative
 * log-likelihoods are measured song by song from the model's initial state
 * with the engine's own forward pass (rnnfx_trainer_evaluate), which is how
 * a song is heard in use: from its first frame, the first frame predicted
 * from silence.
 *
 * Training sequences: by default all training songs are concatenated into
 * one stream ("--pack concat"), each song starting with its silent first
 * input row, so the trainer's fixed-length segments can be cut anywhere and
 * short songs are not lost; "--pack songs" gives the trainer one sequence
 * per song instead (songs shorter than the segment are then unused).
 */
#include "train_midi.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "file_ids.h"
#include "midi_file.h"
#include "midi_frames.h"
#include "model.h"
#include "model_file.h"
#include "train.h"

enum { SPLIT_TRAIN = 0, SPLIT_VALID, SPLIT_TEST };

/* Grid steps of all the MIDI files read together (before --transpose):
 * about 3 GB of inputs and targets at 88 keys. The Nottingham collection
 * is about 0.5 M at sixteenths. */
#define MIDI_MAX_TOTAL_FRAMES (1u << 22)

typedef struct {
    char *name;
    float *in;  /* [n][frame_size] */
    float *tgt; /* [n][n_keys] */
    size_t n;
    int split;
} Song;

typedef struct {
    Song *v;
    size_t n, cap;
} SongList;

typedef struct {
    /* data */
    const char **inputs;
    int n_inputs;
    const char *jsb;
    RnnfxMidiInfo info;
    int beat_features;
    double valid_pct, test_pct;
    int transpose;
    int pack_songs;
    /* model */
    RnnfxCell cell;
    int hidden, layers;
    /* training */
    double minutes;
    int max_epochs, patience;
    RnnfxTrainConfig cfg;
    const char *out, *checkpoint, *resume, *name, *description;
    int quiet;
    int force; /* --force: replace the files of an earlier run */
} Options;

static volatile sig_atomic_t g_stop;
static RnnfxTrainer *g_trainer;

static void on_signal(int sig)
{
    (void)sig;
    if (g_stop) {
        /* second Ctrl-C: leave at once, as audio mode does (the model file
         * is written atomically: nothing half-written remains) */
        static const char msg[] = "\nrnnfx-train: interrupted again, exiting without writing\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(130);
    }
    g_stop = 1;
    if (g_trainer)
        rnnfx_trainer_request_stop(g_trainer);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rnnfx-train --midi FILE_OR_DIR... -o model.json [options]\n"
            "       rnnfx-train --jsb jsb-chorales-quarter.json -o model.json [options]\n"
            "\n"
            "Trains a MIDI-frame model: it reads piano-roll frame t and predicts, for each\n"
            "of 88 keys (A0..C8), the probability that it sounds in frame t+1.\n"
            "\n"
            "data:\n"
            "  --midi PATH...        standard MIDI files (type 0/1) or folders (searched\n"
            "                        recursively for .mid/.midi); drum channel 10 is skipped\n"
            "  --jsb FILE            JSON with \"train\"/\"valid\"/\"test\" lists of songs, each a\n"
            "                        list of frames, each a list of MIDI keys (the JSB Chorales\n"
            "                        split of Boulanger-Lewandowski et al.)\n"
            "  --grid G              quarter | eighth | sixteenth (default sixteenth;\n"
            "                        quarter with --jsb)\n"
            "  --beat-features on|off  bar/beat position inputs (default on; off with --jsb)\n"
            "  --valid-percent P     share of files for validation (default 10)\n"
            "  --test-percent P      share of files for the test (default 10)\n"
            "  --transpose N         also train on each song shifted by -N..+N semitones\n"
            "  --pack concat|songs   training stream layout (default concat)\n"
            "model:\n"
            "  --cell gru|lstm|rnn   (or --type; default gru)   --hidden N (default 64)\n"
            "  --layers N            recurrent layers (default 1)\n"
            "training:\n"
            "  --minutes M           time budget (default 10)   --epochs N   max epochs (500)\n"
            "  --patience N          epochs without validation gain before stopping (30)\n"
            "  --batch N (32)  --segment N frames (64)  --burn-in N (0)  --tbptt N (0 = segment)\n"
            "  --lr X (5e-3)  --lr-min X (1e-4)  --clip X (1)  --weight-decay X (0)\n"
            "  --seed N  --threads N\n"
            "  --checkpoint PATH     save trainer state after every epoch (and the best model so\n"
            "                        far in PATH.best.json)\n"
            "  --resume PATH         continue from a checkpoint; with --checkpoint naming the same\n"
            "                        file it carries on into that run's files, no --force needed\n"
            "  -f, --force           replace the model and checkpoint of an earlier run (without it\n"
            "                        an existing -o or --checkpoint file stops before any work)\n"
            "  --name TEXT  --description TEXT  -q, --quiet\n");
}

static int parse_grid(const char *s, int *steps)
{
    if (!strcmp(s, "quarter") || !strcmp(s, "4"))
        *steps = 1;
    else if (!strcmp(s, "eighth") || !strcmp(s, "8"))
        *steps = 2;
    else if (!strcmp(s, "sixteenth") || !strcmp(s, "16"))
        *steps = 4;
    else
        return -1;
    return 0;
}

static const char *grid_name(int steps)
{
    return steps == 1 ? "quarter" : steps == 2 ? "eighth" : steps == 4 ? "sixteenth" : "custom";
}

/* ---- songs -------------------------------------------------------------- */

static void songs_free(SongList *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].in);
        free(l->v[i].tgt);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static Song *songs_push(SongList *l)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        Song *nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv)
            return NULL;
        l->v = nv;
        l->cap = ncap;
    }
    Song *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    return s;
}

/* FNV-1a of the file's base name: the split must not depend on the folder
 * the data sits in or on the order files are listed. */
static uint64_t name_hash(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)base; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    /* final avalanche so that similar names spread */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static int song_from_frames(Song *s, const char *name, const RnnfxMidiFrames *fr)
{
    s->name = strdup(name);
    s->n = fr->n_frames;
    s->in = malloc(fr->n_frames * (size_t)fr->frame_size * sizeof(float));
    s->tgt = malloc(fr->n_frames * (size_t)fr->info.n_keys * sizeof(float));
    if (!s->name || !s->in || !s->tgt)
        return -1;
    rnnfx_midi_frames_make_io(fr, s->in, s->tgt);
    return 0;
}

/* A copy of song src shifted by `semi` semitones (notes leaving the range are
 * dropped). Beat features are copied unchanged. */
static int song_transposed(Song *dst, const Song *src, int semi, const RnnfxMidiInfo *info)
{
    const int nk = info->n_keys, fs = nk + info->n_beat_features;
    char buf[512];
    snprintf(buf, sizeof buf, "%s%+d", src->name, semi);
    dst->name = strdup(buf);
    dst->n = src->n;
    dst->split = src->split;
    dst->in = calloc(src->n * (size_t)fs, sizeof(float));
    dst->tgt = calloc(src->n * (size_t)nk, sizeof(float));
    if (!dst->name || !dst->in || !dst->tgt)
        return -1;
    for (size_t i = 0; i < src->n; i++) {
        for (int k = 0; k < nk; k++) {
            int j = k + semi;
            if (j < 0 || j >= nk)
                continue;
            dst->in[i * fs + j] = src->in[i * fs + k];
            dst->tgt[i * nk + j] = src->tgt[i * nk + k];
        }
        memcpy(dst->in + i * fs + nk, src->in + i * fs + nk,
               (size_t)(fs - nk) * sizeof(float));
    }
    return 0;
}

static int has_midi_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".mid") || !strcasecmp(dot, ".midi") ||
                   !strcasecmp(dot, ".smf"));
}

typedef struct {
    char **v;
    size_t n, cap;
    /* Files and folders taken so far (file_ids.h): a file named twice (or
     * reached through a link) is one song, and each folder is read once.
     * Links back up the tree ("up -> ..") were followed down to the depth
     * limit: five songs in such a folder trained as 10331, the same song on
     * both sides of the validation split. */
    RnnfxFileIds ids;
} PathList;

static int paths_push(PathList *l, const char *p)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 128;
        char **nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = ncap;
    }
    if (!(l->v[l->n] = strdup(p)))
        return -1;
    l->n++;
    return 0;
}

static int collect(PathList *l, const char *path, int depth, int explicit_file)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "rnnfx-train: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode)) {
        if (explicit_file || has_midi_ext(path)) {
            int seen = rnnfx_file_ids_seen(&l->ids, &st);
            return seen < 0 ? -1 : seen ? 0 : paths_push(l, path);
        }
        return 0;
    }
    if (!S_ISDIR(st.st_mode) || depth > 16)
        return 0;
    int seen = rnnfx_file_ids_seen(&l->ids, &st);
    if (seen)
        return seen < 0 ? -1 : 0;
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "rnnfx-train: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL && rc == 0) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        char *child = malloc(len);
        if (!child) {
            rc = -1;
            break;
        }
        snprintf(child, len, "%s/%s", path, e->d_name);
        rc = collect(l, child, depth + 1, 0);
        free(child);
    }
    closedir(d);
    return rc;
}


/* The files this run writes, checked before any work so that a long run
 * cannot end in "cannot write" (the model lost): not a folder, in a folder
 * that exists and is writable. Returns 0, or -1 after printing why. */
static int check_writable(const char *path, const char *what)
{
    struct stat st;
    if (!path)
        return 0;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "rnnfx-train: %s %s is a folder; give a file name\n", what, path);
        return -1;
    }
    return rnnfx_cli_check_folder_of("rnnfx-train", path);
}

/* As in audio mode (tools/rnnfx-train.c, refuse_existing): the files of an
 * earlier run (the model, the checkpoint and its .best.json) are replaced
 * only with --force, or when --resume names this run's own --checkpoint
 * (the run carries on into its files). Checked before any file is read.
 * Returns 0, or -1 after printing which files exist and the ways out. */
static int refuse_existing(const Options *o)
{
    if (o->force || (o->resume && o->checkpoint && rnnfx_cli_same_path(o->resume, o->checkpoint)))
        return 0;
    char best_path[4096];
    snprintf(best_path, sizeof best_path, "%s.best.json", o->checkpoint ? o->checkpoint : "");
    const char *paths[3] = {o->out, o->checkpoint, o->checkpoint ? best_path : NULL};
    static const char *const what[3] = {"the model", "the checkpoint", "its best model so far"};
    char list[3 * 4200] = "";
    int n = 0, have_ckpt = 0;
    struct stat st;
    int found[3];
    for (int i = 0; i < 3; i++)
        if (paths[i] && lstat(paths[i], &st) == 0) {
            found[n++] = i;
            have_ckpt |= i == 1;
        }
    if (n == 0)
        return 0;
    for (int k = 0; k < n; k++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s (%s)", k ? (k == n - 1 ? " and " : ", ") : "",
                 paths[found[k]], what[found[k]]);
    }
    const char *them = n > 1 ? "them" : "it";
    fprintf(stderr, "rnnfx-train: %s already exist%s; nothing was done.\n", list, n > 1 ? "" : "s");
    if (o->resume)
        fprintf(stderr,
                "rnnfx-train: --resume %s carries on into existing files only with --checkpoint "
                "naming the same file; give --force to replace %s, or other output names\n",
                o->resume, them);
    else if (have_ckpt)
        fprintf(stderr,
                "rnnfx-train: give --force to replace %s, --resume %s (with this --checkpoint) to "
                "continue training from the checkpoint the earlier run left, or other output "
                "names\n",
                them, o->checkpoint);
    else
        fprintf(stderr,
                "rnnfx-train: give --force to replace %s, or another -o name (%s)\n", them,
                o->checkpoint ? "there is no checkpoint to --resume from"
                              : "MIDI training keeps a checkpoint to --resume from only with "
                                "--checkpoint");
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads MIDI files, skipping (and naming) the ones that cannot be read. */
static int load_midi(const Options *o, SongList *songs)
{
    PathList paths = {0};
    for (int i = 0; i < o->n_inputs; i++)
        if (collect(&paths, o->inputs[i], 0, 1) != 0)
            goto fail;
    if (paths.n == 0) {
        fprintf(stderr, "rnnfx-train: no MIDI files (.mid/.midi) found in the given paths\n");
        goto fail;
    }
    qsort(paths.v, paths.n, sizeof *paths.v, cmp_str);
    /* "-o song.mid" once replaced a song with the model */
    for (size_t i = 0; i < paths.n; i++)
        if (rnnfx_cli_same_file(o->out, paths.v[i]) ||
            rnnfx_cli_same_file(o->checkpoint, paths.v[i])) {
            fprintf(stderr, "rnnfx-train: %s would overwrite %s, a MIDI file this run reads; "
                            "choose another name\n",
                    rnnfx_cli_same_file(o->out, paths.v[i]) ? o->out : o->checkpoint, paths.v[i]);
            goto fail;
        }
    if (refuse_existing(o) != 0)
        goto fail;
    size_t skipped = 0, drums = 0, out_of_range = 0, total = 0;
    for (size_t i = 0; i < paths.n; i++) {
        RnnfxError err = {{0}};
        RnnfxMidiSong *song = NULL;
        RnnfxMidiFrames *fr = NULL;
        RnnfxStatus s = rnnfx_midi_read(paths.v[i], &song, &err);
        if (!s)
            s = rnnfx_midi_frames_from_song(song, &o->info, &fr, &err);
        rnnfx_midi_song_free(song);
        if (s) {
            fprintf(stderr, "rnnfx-train: skipping %s\n", err.msg);
            skipped++;
            continue;
        }
        drums += fr->n_drum_notes;
        out_of_range += fr->n_out_of_range;
        if (fr->n_frames < 2) {
            /* why: "no notes outside channel 10" was said of files with no
             * drums at all */
            char why[160];
            if (fr->n_frames)
                snprintf(why, sizeof why, "it is one grid step long (nothing to learn from)");
            else if (fr->n_out_of_range)
                snprintf(why, sizeof why, "its %zu note(s) lie outside the model's keys",
                         fr->n_out_of_range);
            else if (fr->n_drum_notes)
                snprintf(why, sizeof why, "it has only drum notes (channel 10)");
            else
                snprintf(why, sizeof why, "it has no notes");
            fprintf(stderr, "rnnfx-train: skipping %s: %s\n", paths.v[i], why);
            skipped++;
            rnnfx_midi_frames_free(fr);
            continue;
        }
        /* A song's frames follow from what its notes claim, not from its
         * size: a 36-byte file holding one note for 2^18 ticks at division
         * 1 is a million frames (385 MB as training data), and a folder
         * of them ran to 8 GB. */
        total += fr->n_frames;
        if (total > MIDI_MAX_TOTAL_FRAMES) {
            fprintf(stderr, "rnnfx-train: the songs up to %s come to %zu grid steps, more than "
                            "the %u (%.1f GB of training data) this trainer holds; train on "
                            "fewer or shorter files, or a coarser --grid\n",
                    paths.v[i], total, MIDI_MAX_TOTAL_FRAMES,
                    (double)MIDI_MAX_TOTAL_FRAMES * (double)fr->frame_size * 2 * sizeof(float) / 1e9);
            rnnfx_midi_frames_free(fr);
            goto fail;
        }
        Song *sg = songs_push(songs);
        if (!sg || song_from_frames(sg, paths.v[i], fr) != 0) {
            rnnfx_midi_frames_free(fr);
            fprintf(stderr, "rnnfx-train: out of memory\n");
            goto fail;
        }
        rnnfx_midi_frames_free(fr);
        double h = (double)(name_hash(paths.v[i]) % 1000000u) / 1e4; /* [0,100) */
        sg->split = h < o->valid_pct ? SPLIT_VALID
                    : h < o->valid_pct + o->test_pct ? SPLIT_TEST
                                                     : SPLIT_TRAIN;
    }
    if (!o->quiet && (skipped || drums || out_of_range))
        printf("midi: %zu file(s) skipped, %zu drum notes ignored, %zu notes outside A0..C8 "
               "dropped\n",
               skipped, drums, out_of_range);
    if (skipped == paths.n) {
        /* otherwise the caller reports "no training songs", as if the split
         * had taken them */
        fprintf(stderr, "rnnfx-train: none of the %zu MIDI file(s) could be used\n", paths.n);
        goto fail;
    }
    for (size_t i = 0; i < paths.n; i++)
        free(paths.v[i]);
    free(paths.v);
    rnnfx_file_ids_free(&paths.ids);
    return 0;
fail:
    for (size_t i = 0; i < paths.n; i++)
        free(paths.v[i]);
    free(paths.v);
    rnnfx_file_ids_free(&paths.ids);
    return -1;
}

/* The JSB JSON: {"train": [song...], "valid": [...], "test": [...]}, song =
 * [frame...], frame = [key...]. */
static int load_jsb(const Options *o, SongList *songs)
{
    char *text = NULL;
    size_t len = 0;
    RnnfxError err = {{0}};
    if (rnnfx_read_file(o->jsb, 64u << 20, &text, &len, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-train: %s\n", err.msg);
        return -1;
    }
    json_object *root = json_tokener_parse(text);
    free(text);
    if (!root || !json_object_is_type(root, json_type_object)) {
        fprintf(stderr, "rnnfx-train: %s: not a JSON object\n", o->jsb);
        json_object_put(root);
        return -1;
    }
    static const char *names[3] = {"train", "valid", "test"};
    const int nk = o->info.n_keys, fs = nk + o->info.n_beat_features;
    int rc = 0;
    for (int sp = 0; sp < 3 && rc == 0; sp++) {
        json_object *arr;
        if (!json_object_object_get_ex(root, names[sp], &arr) ||
            !json_object_is_type(arr, json_type_array)) {
            fprintf(stderr, "rnnfx-train: %s: no \"%s\" list\n", o->jsb, names[sp]);
            rc = -1;
            break;
        }
        size_t ns = json_object_array_length(arr);
        for (size_t si = 0; si < ns && rc == 0; si++) {
            json_object *sj = json_object_array_get_idx(arr, si);
            if (!json_object_is_type(sj, json_type_array)) {
                fprintf(stderr, "rnnfx-train: %s: %s[%zu] is not a list\n", o->jsb, names[sp], si);
                rc = -1;
                break;
            }
            size_t nf = json_object_array_length(sj);
            if (nf < 2 || nf > RNNFX_MIDI_MAX_FRAMES)
                continue;
            RnnfxMidiFrames fr = {0};
            fr.info = o->info;
            fr.frame_size = fs;
            fr.n_frames = nf;
            fr.data = calloc(nf * (size_t)fs, sizeof(float));
            if (!fr.data) {
                rc = -1;
                break;
            }
            for (size_t f = 0; f < nf && rc == 0; f++) {
                json_object *fj = json_object_array_get_idx(sj, f);
                if (!json_object_is_type(fj, json_type_array)) {
                    fprintf(stderr, "rnnfx-train: %s: %s[%zu][%zu] is not a list\n", o->jsb,
                            names[sp], si, f);
                    rc = -1;
                    break;
                }
                for (size_t j = 0; j < json_object_array_length(fj); j++) {
                    /* range-checked as a double first: a huge or non-finite
                     * number (json-c reads NaN and 1e999) cast to int is UB */
                    double kd = json_object_get_double(json_object_array_get_idx(fj, j));
                    if (!(kd >= o->info.low_key && kd < o->info.low_key + nk))
                        continue;
                    int key = (int)kd;
                    fr.data[f * fs + (key - o->info.low_key)] = 1.0f;
                }
                if (o->info.n_beat_features) /* the JSON has no meter: assume 4/4 from 0 */
                    rnnfx_midi_beat_features(fmod((double)f / o->info.steps_per_quarter, 4.0),
                                             4.0, fr.data + f * fs + nk,
                                             o->info.n_beat_features);
            }
            char name[64];
            snprintf(name, sizeof name, "%s[%zu]", names[sp], si);
            Song *sg = rc == 0 ? songs_push(songs) : NULL;
            if (rc == 0 && (!sg || song_from_frames(sg, name, &fr) != 0)) {
                fprintf(stderr, "rnnfx-train: out of memory\n");
                rc = -1;
            }
            if (sg)
                sg->split = sp;
            free(fr.data);
        }
    }
    json_object_put(root);
    return rc;
}

/* ---- training sets ------------------------------------------------------------ */

typedef struct {
    RnnfxTrainSeq *seqs;
    size_t n;
    size_t frames;
    float *cat_in, *cat_tgt; /* concat mode storage */
} Set;

static void set_free(Set *s)
{
    free(s->seqs);
    free(s->cat_in);
    free(s->cat_tgt);
    memset(s, 0, sizeof *s);
}

static int build_set(const SongList *songs, int split, int concat, const RnnfxMidiInfo *info,
                     Set *set)
{
    const int nk = info->n_keys, fs = nk + info->n_beat_features;
    size_t count = 0, frames = 0;
    for (size_t i = 0; i < songs->n; i++)
        if (songs->v[i].split == split) {
            count++;
            frames += songs->v[i].n;
        }
    memset(set, 0, sizeof *set);
    set->frames = frames;
    if (count == 0)
        return 0;
    set->seqs = calloc(concat ? 1 : count, sizeof *set->seqs);
    if (!set->seqs)
        return -1;
    if (concat) {
        set->cat_in = malloc(frames * (size_t)fs * sizeof(float));
        set->cat_tgt = malloc(frames * (size_t)nk * sizeof(float));
        if (!set->cat_in || !set->cat_tgt)
            return -1;
        size_t at = 0;
        for (size_t i = 0; i < songs->n; i++) {
            const Song *s = &songs->v[i];
            if (s->split != split)
                continue;
            memcpy(set->cat_in + at * fs, s->in, s->n * (size_t)fs * sizeof(float));
            memcpy(set->cat_tgt + at * nk, s->tgt, s->n * (size_t)nk * sizeof(float));
            at += s->n;
        }
        set->seqs[0].input = set->cat_in;
        set->seqs[0].target = set->cat_tgt;
        set->seqs[0].n = frames;
        set->n = 1;
    } else {
        for (size_t i = 0; i < songs->n; i++) {
            const Song *s = &songs->v[i];
            if (s->split != split)
                continue;
            set->seqs[set->n].input = s->in;
            set->seqs[set->n].target = s->tgt;
            set->seqs[set->n].n = s->n;
            set->n++;
        }
    }
    return 0;
}

/* Dense bias = logit of each key's frequency in the training targets (with
 * add-one smoothing): the untrained model then already predicts the key
 * marginals, which saves the first epochs from learning that most keys are
 * silent. */
static void init_output_bias(RnnfxModel *model, const Set *train, int nk)
{
    int rows, cols;
    float *b = rnnfx_model_tensor(model, -1, RNNFX_T_DENSE_B, &rows, &cols);
    if (!b)
        return;
    double *count = calloc((size_t)nk, sizeof *count);
    if (!count)
        return;
    size_t n = 0;
    for (size_t s = 0; s < train->n; s++) {
        for (size_t i = 0; i < train->seqs[s].n; i++)
            for (int k = 0; k < nk; k++)
                count[k] += train->seqs[s].target[i * nk + k];
        n += train->seqs[s].n;
    }
    for (int k = 0; k < nk; k++) {
        double p = (count[k] + 0.5) / ((double)n + 1.0);
        b[k] = (float)log(p / (1.0 - p));
    }
    free(count);
}

static int parse_args(int argc, char **argv, Options *o)
{
    memset(o, 0, sizeof *o);
    int steps = -1, beat = -1;
    o->valid_pct = 10;
    o->test_pct = 10;
    o->cell = RNNFX_CELL_GRU;
    o->hidden = 64;
    o->layers = 1;
    o->minutes = 10;
    o->max_epochs = 500;
    o->patience = 30;
    rnnfx_train_config_default(&o->cfg);
    o->cfg.loss = RNNFX_LOSS_BCE;
    o->cfg.segment_len = 64;
    o->cfg.burn_in = 0;
    o->cfg.tbptt = 0;
    o->cfg.batch = 32;
    o->cfg.lr = 5e-3f;
    o->cfg.lr_min = 1e-4f;
    o->cfg.schedule = RNNFX_LR_COSINE;
    o->cfg.total_steps = 0; /* driven by progress */
    o->cfg.clip = 1.0f;
    o->inputs = calloc((size_t)argc, sizeof *o->inputs);
    if (!o->inputs)
        return -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            free(o->inputs);
            exit(0);
        }
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        double d;
#define NEED_VALUE()                                                                          \
    do {                                                                                      \
        if (!v) {                                                                             \
            fprintf(stderr, "rnnfx-train: %s needs a value\n", a);                           \
            return -1;                                                                        \
        }                                                                                     \
        i++;                                                                                  \
    } while (0)
#define INT_ARG(lo, hi, dst)                                                                  \
    do {                                                                                      \
        NEED_VALUE();                                                                         \
        if (rnnfx_cli_parse_int(v, lo, hi, &n) != 0) {                                       \
            fprintf(stderr, "rnnfx-train: %s: '%s' is not an integer in %ld..%ld\n", a, v,    \
                    (long)(lo), (long)(hi));                                                  \
            return -1;                                                                        \
        }                                                                                     \
        dst = n;                                                                              \
    } while (0)
#define DBL_ARG(lo, hi, dst)                                                                  \
    do {                                                                                      \
        NEED_VALUE();                                                                         \
        if (rnnfx_cli_parse_double(v, &d) != 0 || d < (lo) || d > (hi)) {                     \
            fprintf(stderr, "rnnfx-train: %s: '%s' is not a number in %g..%g\n", a, v,        \
                    (double)(lo), (double)(hi));                                              \
            return -1;                                                                        \
        }                                                                                     \
        dst = d;                                                                              \
    } while (0)
        if (!strcmp(a, "--midi")) {
            while (i + 1 < argc && argv[i + 1][0] != '-')
                o->inputs[o->n_inputs++] = argv[++i];
            if (o->n_inputs == 0) {
                fprintf(stderr, "rnnfx-train: --midi needs files or folders\n");
                return -1;
            }
        } else if (!strcmp(a, "--jsb")) {
            NEED_VALUE();
            if (!v[0]) {
                fprintf(stderr, "rnnfx-train: --jsb needs a file name, not an empty string\n");
                return -1;
            }
            o->jsb = v;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            NEED_VALUE();
            if (rnnfx_cli_set_once("rnnfx-train", "-o/--output", &o->out, v))
                return -1;
        } else if (!strcmp(a, "--grid")) {
            NEED_VALUE();
            if (parse_grid(v, &steps) != 0) {
                fprintf(stderr, "rnnfx-train: --grid: '%s' (quarter, eighth or sixteenth)\n", v);
                return -1;
            }
        } else if (!strcmp(a, "--beat-features")) {
            NEED_VALUE();
            if (strcmp(v, "on") && strcmp(v, "off")) {
                fprintf(stderr, "rnnfx-train: --beat-features: on or off\n");
                return -1;
            }
            beat = !strcmp(v, "on");
        } else if (!strcmp(a, "--valid-percent")) {
            DBL_ARG(0, 50, o->valid_pct);
        } else if (!strcmp(a, "--test-percent")) {
            DBL_ARG(0, 50, o->test_pct);
        } else if (!strcmp(a, "--transpose")) {
            INT_ARG(0, 12, o->transpose);
        } else if (!strcmp(a, "--pack")) {
            NEED_VALUE();
            if (!strcmp(v, "songs"))
                o->pack_songs = 1;
            else if (strcmp(v, "concat")) {
                fprintf(stderr, "rnnfx-train: --pack: concat or songs\n");
                return -1;
            }
        } else if (!strcmp(a, "--cell") || !strcmp(a, "--type")) {
            /* --type as in audio mode: "--midi songs/ --type lstm" was an
             * unknown option */
            NEED_VALUE();
            if (!strcmp(v, "gru"))
                o->cell = RNNFX_CELL_GRU;
            else if (!strcmp(v, "lstm"))
                o->cell = RNNFX_CELL_LSTM;
            else if (!strcmp(v, "rnn"))
                o->cell = RNNFX_CELL_RNN;
            else {
                fprintf(stderr, "rnnfx-train: %s: gru, lstm or rnn\n", a);
                return -1;
            }
        } else if (!strcmp(a, "--hidden")) {
            INT_ARG(1, RNNFX_MAX_HIDDEN, o->hidden);
        } else if (!strcmp(a, "--layers")) {
            INT_ARG(1, RNNFX_MAX_LAYERS, o->layers);
        } else if (!strcmp(a, "--minutes")) {
            DBL_ARG(0.01, 100000, o->minutes);
        } else if (!strcmp(a, "--epochs")) {
            INT_ARG(1, 1000000, o->max_epochs);
        } else if (!strcmp(a, "--patience")) {
            INT_ARG(1, 1000000, o->patience);
        } else if (!strcmp(a, "--batch")) {
            INT_ARG(1, 4096, o->cfg.batch);
        } else if (!strcmp(a, "--segment")) {
            INT_ARG(2, 1 << 20, o->cfg.segment_len);
        } else if (!strcmp(a, "--burn-in")) {
            INT_ARG(0, 1 << 20, o->cfg.burn_in);
        } else if (!strcmp(a, "--tbptt")) {
            INT_ARG(0, 1 << 20, o->cfg.tbptt);
        } else if (!strcmp(a, "--lr")) {
            DBL_ARG(1e-7, 1, d);
            o->cfg.lr = (float)d;
        } else if (!strcmp(a, "--lr-min")) {
            DBL_ARG(0, 1, d);
            o->cfg.lr_min = (float)d;
        } else if (!strcmp(a, "--clip")) {
            DBL_ARG(0, 1e6, d);
            o->cfg.clip = (float)d;
        } else if (!strcmp(a, "--weight-decay")) {
            DBL_ARG(0, 1, d);
            o->cfg.weight_decay = (float)d;
        } else if (!strcmp(a, "--seed")) {
            INT_ARG(0, 0x7FFFFFFF, o->cfg.seed);
        } else if (!strcmp(a, "--threads")) {
            INT_ARG(1, 256, o->cfg.threads);
        } else if (!strcmp(a, "--checkpoint") || !strcmp(a, "--resume")) {
            NEED_VALUE();
            /* an empty name (an unset shell variable) trained and then
             * could not save */
            if (!v[0]) {
                fprintf(stderr, "rnnfx-train: %s needs a file name, not an empty string\n", a);
                return -1;
            }
            *(!strcmp(a, "--checkpoint") ? &o->checkpoint : &o->resume) = v;
        } else if (!strcmp(a, "--name")) {
            NEED_VALUE();
            o->name = v;
        } else if (!strcmp(a, "--description")) {
            NEED_VALUE();
            o->description = v;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) { /* -q as in audio mode */
            o->quiet = 1;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--force")) { /* as in audio mode */
            o->force = 1;
        } else {
            fprintf(stderr, "rnnfx-train: unknown option '%s' in MIDI mode (see --help)\n", a);
            return -1;
        }
    }
    if ((o->n_inputs > 0) == (o->jsb != NULL)) {
        fprintf(stderr, "rnnfx-train: give either --midi FILES... or --jsb FILE\n");
        return -1;
    }
    if (!o->out) {
        fprintf(stderr, "rnnfx-train: -o model.json is required\n");
        return -1;
    }
    if (o->cfg.burn_in >= o->cfg.segment_len) {
        fprintf(stderr, "rnnfx-train: --burn-in must be shorter than --segment\n");
        return -1;
    }
    if (steps < 0)
        steps = o->jsb ? 1 : 4;
    if (beat < 0)
        beat = o->jsb ? 0 : 1;
    rnnfx_midi_info_init(&o->info, steps, beat);
    return 0;
}

static double eval_nll(const RnnfxModel *m, const Set *s, const Options *o, int *ok)
{
    *ok = 0;
    if (s->n == 0)
        return NAN;
    RnnfxEvalResult r;
    RnnfxError err = {{0}};
    if (rnnfx_trainer_evaluate(m, &(RnnfxTrainSet){s->seqs, s->n}, 0, &o->cfg, o->cfg.threads,
                               &r, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-train: evaluation failed: %s\n", err.msg);
        return NAN;
    }
    *ok = 1;
    return r.bce;
}

/* Each value is checked because the main loop trusts it: a NaN best
 * validation never improves (no best model is saved again), NaN or
 * negative seconds switch the time budget off, a negative epoch trains past
 * --epochs, and since_best near INT_MAX overflows at the next epoch without
 * gain. Missing keys keep their starting values (as before). */
int rnnfx_train_midi_parse_resume(const char *text, RnnfxMidiResume *out, char *msg, size_t len)
{
    *out = (RnnfxMidiResume){INFINITY, 0, 0, 0.0};
    json_object *o = text ? json_tokener_parse(text) : NULL;
    if (!o || !json_object_is_type(o, json_type_object)) {
        snprintf(msg, len, "its MIDI training state is not a JSON object (a checkpoint of "
                           "another program or damaged)");
        json_object_put(o);
        return -1;
    }
    json_object *v;
    const char *bad = NULL;
    if (json_object_object_get_ex(o, "best_valid", &v) && v) {
        if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
            bad = "best_valid is not a number";
        else if (!(json_object_get_double(v) >= 0.0))
            bad = "best_valid is not a number >= 0";
        else
            out->best_valid = json_object_get_double(v);
    }
    if (!bad && json_object_object_get_ex(o, "epoch", &v)) {
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
            json_object_get_int64(v) > 1000000000)
            bad = "epoch is not a whole number from 0 to 1e9";
        else
            out->epoch = (int)json_object_get_int64(v);
    }
    if (!bad && json_object_object_get_ex(o, "since_best", &v)) {
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
            json_object_get_int64(v) > out->epoch)
            bad = "since_best is not a whole number from 0 to the epoch";
        else
            out->since_best = (int)json_object_get_int64(v);
    }
    if (!bad && json_object_object_get_ex(o, "seconds", &v)) {
        double sec = v ? json_object_get_double(v) : -1.0;
        if ((!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) ||
            !(sec >= 0.0 && sec <= 1e9))
            bad = "seconds is not a number from 0 to 1e9";
        else
            out->seconds = sec;
    }
    json_object_put(o);
    if (bad) {
        snprintf(msg, len, "its MIDI training state is not valid: %s", bad);
        return -1;
    }
    return 0;
}

int rnnfx_train_midi_wanted(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--midi") || !strcmp(argv[i], "--jsb") || !strncmp(argv[i], "--jsb=", 6))
            return 1;
    return 0;
}

int rnnfx_train_midi_main(int argc, char **argv)
{
    /* "--name=value" as well as "--name value", as in audio mode (whose
     * getopt_long takes both; here "--hidden=8" was an unknown option) */
    static const char *const value_opts[] = {
        "--jsb", "--output", "--grid", "--beat-features", "--valid-percent", "--test-percent",
        "--transpose", "--pack", "--cell", "--type", "--hidden", "--layers", "--minutes", "--epochs",
        "--patience", "--batch", "--segment", "--burn-in", "--tbptt", "--lr", "--lr-min", "--clip",
        "--weight-decay", "--seed", "--threads", "--checkpoint", "--resume", "--name",
        "--description", NULL};
    argv = rnnfx_cli_split_equals(argc, argv, value_opts, &argc);
    if (!argv) {
        fprintf(stderr, "rnnfx-train: out of memory\n");
        return 1;
    }
    Options o;
    if (parse_args(argc, argv, &o) != 0) {
        free(o.inputs);
        return 2;
    }
    int rc = 1;
    SongList songs = {0};
    Set train = {0}, valid = {0}, test = {0};
    RnnfxModel *model = NULL, *best = NULL;
    RnnfxTrainer *tr = NULL;
    RnnfxError err = {{0}};
    char *extra = NULL;
    size_t n_original = 0; /* songs before transposed copies */

    if (check_writable(o.out, "-o") != 0 || check_writable(o.checkpoint, "--checkpoint") != 0)
        goto done;
    /* the model and the checkpoint (and its CKPT.best.json) are three
     * files: "--checkpoint m.json -o m.json" left a checkpoint where the
     * model belonged */
    if (o.checkpoint) {
        char best_path[4096];
        snprintf(best_path, sizeof best_path, "%s.best.json", o.checkpoint);
        if (rnnfx_cli_same_path(o.out, o.checkpoint) || rnnfx_cli_same_path(o.out, best_path)) {
            fprintf(stderr, "rnnfx-train: the model (-o %s) and the checkpoint (--checkpoint, "
                            "and its .best.json) must be different files\n",
                    o.out);
            rc = 2;
            goto done;
        }
    }
    if (rnnfx_cli_same_file(o.out, o.jsb) || rnnfx_cli_same_file(o.checkpoint, o.jsb)) {
        fprintf(stderr, "rnnfx-train: the output would overwrite %s, which this run reads; "
                        "choose another name\n", o.jsb);
        goto done;
    }
    /* (with --midi, load_midi checks this once it has checked that no
     * output is one of the MIDI files, the more useful message) */
    if (o.jsb && refuse_existing(&o) != 0)
        goto done;
    if ((o.jsb ? load_jsb(&o, &songs) : load_midi(&o, &songs)) != 0)
        goto done;
    /* Tiny collections: make sure validation has a song when there are
     * enough to spare one, so early stopping has something to watch. */
    {
        size_t nv = 0, ntr = 0;
        for (size_t i = 0; i < songs.n; i++) {
            nv += songs.v[i].split == SPLIT_VALID;
            ntr += songs.v[i].split == SPLIT_TRAIN;
        }
        if (!o.jsb && nv == 0 && ntr >= 3 && o.valid_pct > 0) {
            for (size_t i = songs.n; i-- > 0;)
                if (songs.v[i].split == SPLIT_TRAIN) {
                    songs.v[i].split = SPLIT_VALID;
                    break;
                }
        }
    }
    n_original = songs.n;
    if (o.transpose > 0) {
        size_t n0 = songs.n;
        for (size_t i = 0; i < n0; i++) {
            if (songs.v[i].split != SPLIT_TRAIN)
                continue;
            for (int s = -o.transpose; s <= o.transpose; s++) {
                if (s == 0)
                    continue;
                Song *dst = songs_push(&songs);
                if (!dst || song_transposed(dst, &songs.v[i], s, &o.info) != 0) {
                    fprintf(stderr, "rnnfx-train: out of memory\n");
                    goto done;
                }
            }
        }
    }
    if (build_set(&songs, SPLIT_TRAIN, !o.pack_songs, &o.info, &train) != 0 ||
        build_set(&songs, SPLIT_VALID, 0, &o.info, &valid) != 0 ||
        build_set(&songs, SPLIT_TEST, 0, &o.info, &test) != 0) {
        fprintf(stderr, "rnnfx-train: out of memory\n");
        goto done;
    }
    if (train.frames == 0) {
        fprintf(stderr, "rnnfx-train: no training songs (all went to validation/test?)\n");
        goto done;
    }
    if (!o.quiet) {
        size_t ns[3] = {0};
        for (size_t i = 0; i < songs.n; i++)
            ns[songs.v[i].split]++;
        if (o.transpose > 0)
            printf("midi: %zu songs read; training on each transposed by -%d..+%d semitones\n",
                   n_original, o.transpose, o.transpose);
        printf("midi: grid %s (%d step%s per quarter), %d keys from %d, %d beat features\n",
               grid_name(o.info.steps_per_quarter), o.info.steps_per_quarter,
               o.info.steps_per_quarter > 1 ? "s" : "", o.info.n_keys, o.info.low_key,
               o.info.n_beat_features);
        printf("midi: songs train %zu (%zu frames), valid %zu (%zu), test %zu (%zu)\n", ns[0],
               train.frames, ns[1], valid.frames, ns[2], test.frames);
    }

    /* The model. */
    RnnfxArch arch;
    memset(&arch, 0, sizeof arch);
    arch.kind = RNNFX_KIND_MIDI_FRAMES;
    arch.input_size = o.info.n_keys + o.info.n_beat_features;
    arch.output_size = o.info.n_keys;
    arch.n_layers = o.layers;
    arch.output_sigmoid = 1;
    for (int l = 0; l < o.layers; l++) {
        arch.layers[l].cell = o.cell;
        arch.layers[l].hidden_size = o.hidden;
    }
    if (rnnfx_model_new(&arch, &model, &err) != RNNFX_OK)
        goto fail_err;
    RnnfxMeta *meta = rnnfx_model_meta(model);
    meta->midi = o.info; /* before finalizing: the grid must match the sizes */
    meta->esr = -1;
    if (rnnfx_model_init_random(model, o.cfg.seed, &err) != RNNFX_OK)
        goto fail_err;
    init_output_bias(model, &train, o.info.n_keys);
    if (rnnfx_model_finalize(model, &err) != RNNFX_OK)
        goto fail_err;
    size_t n_params = 0;
    rnnfx_model_params(model, &n_params);

    if (rnnfx_trainer_new(model, &o.cfg, &tr, &err) != RNNFX_OK)
        goto fail_err;
    size_t bpe = rnnfx_trainer_batches_per_epoch(tr, &(RnnfxTrainSet){train.seqs, train.n});
    if (bpe == 0) {
        fprintf(stderr,
                "rnnfx-train: no training sequence is %zu frames long; use a shorter --segment\n",
                o.cfg.segment_len);
        goto done;
    }
    double best_valid = INFINITY;
    int epoch = 0, since_best = 0;
    double elapsed_before = 0.0;
    if (o.resume) {
        if (rnnfx_trainer_load_checkpoint(tr, o.resume, &extra, &err) != RNNFX_OK)
            goto fail_err;
        if (extra) {
            RnnfxMidiResume rs;
            char why[256];
            if (rnnfx_train_midi_parse_resume(extra, &rs, why, sizeof why) != 0) {
                fprintf(stderr, "rnnfx-train: cannot resume from %s: %s\n", o.resume, why);
                goto done;
            }
            best_valid = rs.best_valid;
            epoch = rs.epoch;
            since_best = rs.since_best;
            elapsed_before = rs.seconds;
        }
        /* The best model so far sits beside the checkpoint. */
        char bp[4096];
        snprintf(bp, sizeof bp, "%s.best.json", o.resume);
        RnnfxModel *b = NULL;
        if (rnnfx_model_load(bp, NULL, &b, &err) == RNNFX_OK && rnnfx_model_same_shape(b, model))
            best = b;
        else
            rnnfx_model_free(b); /* another run's, or none: the best starts afresh */
        if (!o.quiet)
            printf("midi: resumed %s at epoch %d (best validation %.4f)\n", o.resume, epoch,
                   best_valid);
    }
    /* a best model an earlier run left beside this run's checkpoint (one
     * replaced with --force) must not pair with the new checkpoint */
    if (o.checkpoint && !(o.resume && rnnfx_cli_same_path(o.resume, o.checkpoint))) {
        char bp[4096];
        snprintf(bp, sizeof bp, "%s.best.json", o.checkpoint);
        unlink(bp);
    }
    if (!o.quiet)
        printf("midi: %s, %d layer(s) of %d, %zu parameters, %zu batches of %d x %zu frames "
               "per epoch\n",
               rnnfx_cell_name(o.cell), o.layers, o.hidden, n_params, bpe, o.cfg.batch,
               o.cfg.segment_len);

    g_trainer = tr;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    const double budget = o.minutes * 60.0;
    double t0 = rnnfx_cli_now() - elapsed_before;
    while (epoch < o.max_epochs && !g_stop) {
        double el = rnnfx_cli_now() - t0;
        if (el >= budget)
            break;
        double prog = el / budget;
        double pe = (double)epoch / o.max_epochs;
        rnnfx_trainer_set_progress(tr, prog > pe ? prog : pe);
        RnnfxTrainStats st;
        if (rnnfx_trainer_train(tr, &(RnnfxTrainSet){train.seqs, train.n}, 0, &st, &err) !=
            RNNFX_OK)
            goto fail_err;
        if (st.stopped)
            break;
        epoch++;
        int ok;
        double v = eval_nll(model, valid.n ? &valid : &train, &o, &ok);
        if (!ok)
            goto done;
        rnnfx_trainer_report_validation(tr, v);
        if (v < best_valid) {
            best_valid = v;
            since_best = 0;
            rnnfx_model_free(best);
            best = NULL;
            if (rnnfx_model_clone(model, &best, &err) != RNNFX_OK)
                goto fail_err;
        } else {
            since_best++;
        }
        if (!o.quiet) {
            char dur[32];
            rnnfx_cli_format_duration(rnnfx_cli_now() - t0, dur, sizeof dur);
            printf("epoch %4d  train %.4f  %s %.4f  best %.4f  lr %.2e  %s\n", epoch, st.loss,
                   valid.n ? "valid" : "train-eval", v, best_valid, (double)st.lr, dur);
            fflush(stdout);
        }
        if (o.checkpoint) {
            char ex[256];
            /* no validation yet (or only NaN ones) leaves best_valid infinite,
             * which JSON cannot hold: null says it */
            char bv[32];
            if (isfinite(best_valid))
                snprintf(bv, sizeof bv, "%.17g", best_valid);
            else
                snprintf(bv, sizeof bv, "null");
            snprintf(ex, sizeof ex,
                     "{\"best_valid\": %s, \"epoch\": %d, \"since_best\": %d, \"seconds\": %.3f}",
                     bv, epoch, since_best, rnnfx_cli_now() - t0);
            /* a checkpoint that cannot be written (a full disk) is said,
             * and the run goes on: failing here lost the trained model */
            if (rnnfx_trainer_save_checkpoint(tr, o.checkpoint, ex, &err) != RNNFX_OK)
                fprintf(stderr, "rnnfx-train: warning: checkpoint not saved: %s\n", err.msg);
            char bp[4096];
            snprintf(bp, sizeof bp, "%s.best.json", o.checkpoint);
            if (best && since_best == 0 && rnnfx_model_save(best, bp, &err) != RNNFX_OK)
                fprintf(stderr, "rnnfx-train: warning: %s not saved: %s\n", bp, err.msg);
        }
        if (since_best >= o.patience) {
            if (!o.quiet)
                printf("midi: no validation gain for %d epochs: stopping\n", since_best);
            break;
        }
    }
    if (!best && rnnfx_model_clone(model, &best, &err) != RNNFX_OK)
        goto fail_err;
    if (g_stop) /* as audio mode says it (here Ctrl-C ended the run silently) */
        fprintf(stderr, "rnnfx-train: interrupted: writing the best model so far\n");

    /* Report and save the best model. */
    {
        int ok_v = 0, ok_t = 0;
        double vn = eval_nll(best, &valid, &o, &ok_v);
        double tn = eval_nll(best, &test, &o, &ok_t);
        double minutes = (rnnfx_cli_now() - t0) / 60.0;
        RnnfxMeta *bm = rnnfx_model_meta(best);
        bm->midi = o.info;
        bm->esr = -1;
        if (o.name)
            snprintf(bm->name, sizeof bm->name, "%s", o.name);
        else
            snprintf(bm->name, sizeof bm->name, "MIDI %s %d (%s grid)", rnnfx_cell_name(o.cell),
                     o.hidden, grid_name(o.info.steps_per_quarter));
        if (o.description)
            snprintf(bm->description, sizeof bm->description, "%s", o.description);
        snprintf(bm->training, sizeof bm->training,
                 "{\"mode\": \"midi\", \"data\": \"%s\", \"songs\": %zu, \"train_frames\": %zu, "
                 "\"epochs\": %d, \"minutes\": %.2f, \"valid_nll\": %.6g, \"test_nll\": %.6g, "
                 "\"batch\": %d, \"segment\": %zu, \"lr\": %g, \"transpose\": %d, \"seed\": %llu}",
                 o.jsb ? "jsb-json" : "midi-files", n_original, train.frames, epoch, minutes,
                 ok_v ? vn : -1.0, ok_t ? tn : -1.0, o.cfg.batch, o.cfg.segment_len,
                 (double)o.cfg.lr, o.transpose, (unsigned long long)o.cfg.seed);
        if (rnnfx_model_save(best, o.out, &err) != RNNFX_OK)
            goto fail_err;
        char vs[32] = "n/a", ts[32] = "n/a";
        if (ok_v)
            snprintf(vs, sizeof vs, "%.4f", vn);
        if (ok_t)
            snprintf(ts, sizeof ts, "%.4f", tn);
        printf("result: cell=%s hidden=%d params=%zu epochs=%d valid_nll=%s test_nll=%s "
               "minutes=%.2f model=%s\n",
               rnnfx_cell_name(o.cell), o.hidden, n_params, epoch, vs, ts, minutes, o.out);
    }
    rc = 0;
    goto done;
fail_err:
    fprintf(stderr, "rnnfx-train: %s\n", err.msg);
done:
    g_trainer = NULL;
    rnnfx_trainer_free(tr);
    rnnfx_model_free(best);
    rnnfx_model_free(model);
    set_free(&train);
    set_free(&valid);
    set_free(&test);
    songs_free(&songs);
    free(extra);
    free(o.inputs);
    return rc;
}

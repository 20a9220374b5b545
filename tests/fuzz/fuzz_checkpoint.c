/*
 * fuzz_checkpoint.c — libFuzzer harness for training checkpoints
 * (rnnfx_trainer_load_checkpoint, engine/train.h) and the MIDI trainer's
 * state kept inside them (rnnfx_train_midi_parse_resume, tools/common).
 *
 * `rnnfx-train --resume FILE` reads a checkpoint a user names, possibly one
 * copied from elsewhere, so any bytes must give either a refusal with a
 * message that leaves the trainer as it was (same weights), or a state the
 * trainer can carry on from. What --resume does next is what is checked
 * after an accepted load: the weights are finite and the model finalized;
 * the learning rate is finite and within [lr_min, lr] under the plateau,
 * cosine and exponential schedules (the same file loaded into three
 * trainers that differ only in schedule: the schedule is not part of the
 * file); one training batch on a small synthetic set succeeds and leaves
 * finite weights and the step count advanced by the batch's chunks; more
 * validations without gain keep the rate finite; and for a MIDI-frame model
 * the caller text is either refused by the MIDI parser with a message or
 * gives a usable state (best >= 0, 0 <= since_best <= epoch, finite seconds).
 *
 * A checksum (FNV-1a over the file) guards the format, so almost every
 * mutation would stop there. Each input is therefore loaded as it is (which
 * tests the checksum) and, when its sum is wrong, once more with the sum
 * recomputed, which lets the mutations reach every field behind it.
 *
 * The trainer is shaped by the file itself: its fingerprint text
 * ("in1 out1 skip1 sig0 B8 seg128 T32 P93 gru4") is parsed here to build a
 * matching model and trainer (within small limits, so an input stays cheap;
 * outside them, and for text that does not parse, a fixed GRU-4 trainer
 * takes the file and must refuse it with a message). Trainers are kept
 * between inputs of the same fingerprint.
 *
 * It is not a test of resumed training's numbers (test_train.c checks that
 * a resumed run equals an uninterrupted one). rnnfx-train's audio-mode
 * caller text (history, arch, data) is read inside tools/rnnfx-train.c and
 * is not reached from here.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by `make fuzz`; the
 * same entry point is linked without libFuzzer into tests/test_fuzz_corpus.c,
 * which replays the committed corpus in the ordinary test run.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "train.h"
#include "train_midi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Limits of the trainers built here (small, so each input stays fast). */
#define CKF_MAX_IO 128
#define CKF_MAX_LAYERS 3
#define CKF_MAX_HIDDEN 32
#define CKF_MAX_BATCH 16
#define CKF_MAX_SEGMENT 1024
#define CKF_MAX_WORK 4096 /* batch x segment samples trained per accepted input */

enum { CKF_PLATEAU = 0, CKF_COSINE, CKF_EXPONENTIAL, CKF_N };

typedef struct {
    char fp[512]; /* the fingerprint these trainers were made for */
    RnnfxArch arch;
    int batch;
    size_t seg, T;
    RnnfxModel *model[CKF_N];
    RnnfxTrainer *tr[CKF_N];
    RnnfxTrainConfig cfg[CKF_N];
    float *in, *tgt; /* the synthetic training sequence [batch*seg][io] */
    size_t n;
} CkfShape;

static CkfShape g_shape;
static char g_path[256];

static void ckf_die(const char *what)
{
    fprintf(stderr, "fuzz_checkpoint: %s\n", what);
    abort();
}

static void ckf_shape_free(CkfShape *s)
{
    for (int k = 0; k < CKF_N; k++) {
        rnnfx_trainer_free(s->tr[k]);
        rnnfx_model_free(s->model[k]);
    }
    free(s->in);
    free(s->tgt);
    memset(s, 0, sizeof *s);
}

/* Parses "inI outO skipS sigG BB segN TT PP cellH[p][r]..." into *a and the
 * trainer settings; 0 when it is within this harness's limits. The result is
 * then printed back by the engine's own fingerprint (the load compares). */
static int ckf_parse_fp(const char *fp, RnnfxArch *a, int *batch, size_t *seg, size_t *T,
                        size_t *P)
{
    int in, out, skip, sig, B, used = 0;
    size_t sg, tt, pp;
    if (sscanf(fp, "in%d out%d skip%d sig%d B%d seg%zu T%zu P%zu%n", &in, &out, &skip, &sig, &B,
               &sg, &tt, &pp, &used) != 8)
        return -1;
    if (in < 1 || in > CKF_MAX_IO || out < 1 || out > CKF_MAX_IO || (skip != 0 && skip != 1) ||
        (sig != 0 && sig != 1) || (sig && skip) || B < 1 || B > CKF_MAX_BATCH || sg < 1 ||
        sg > CKF_MAX_SEGMENT || tt < 1 || tt > sg)
        return -1;
    memset(a, 0, sizeof *a);
    a->kind = sig ? RNNFX_KIND_MIDI_FRAMES : RNNFX_KIND_AUDIO;
    a->input_size = in;
    a->output_size = out;
    a->skip = skip;
    a->output_sigmoid = sig;
    /* audio inputs past the first are knobs, each with a description */
    a->n_params = sig ? 0 : in - 1;
    if (a->n_params > RNNFX_MAX_PARAMS)
        return -1;
    for (int k = 0; k < a->n_params; k++) {
        snprintf(a->params[k].name, sizeof a->params[k].name, "knob%d", k);
        a->params[k].min = 0.0f;
        a->params[k].max = 1.0f;
        a->params[k].def = 0.5f;
    }
    const char *p = fp + used;
    while (*p) {
        if (a->n_layers == CKF_MAX_LAYERS || *p != ' ')
            return -1;
        p++;
        RnnfxLayerDesc *l = &a->layers[a->n_layers];
        if (!strncmp(p, "lstm", 4)) {
            l->cell = RNNFX_CELL_LSTM;
            p += 4;
        } else if (!strncmp(p, "gru", 3)) {
            l->cell = RNNFX_CELL_GRU;
            p += 3;
        } else if (!strncmp(p, "rnn", 3)) {
            l->cell = RNNFX_CELL_RNN;
            p += 3;
        } else {
            return -1;
        }
        int h = 0;
        while (*p >= '0' && *p <= '9' && h <= CKF_MAX_HIDDEN)
            h = h * 10 + (*p++ - '0');
        if (h < 1 || h > CKF_MAX_HIDDEN)
            return -1;
        l->hidden_size = h;
        if (*p == 'p') {
            l->peephole = 1;
            p++;
        }
        if (*p == 'r') {
            l->relu = 1;
            p++;
        }
        a->n_layers++;
    }
    if (a->n_layers < 1)
        return -1;
    RnnfxError err = {{0}};
    if (rnnfx_arch_check(a, &err) != RNNFX_OK)
        return -1;
    *batch = B;
    *seg = sg;
    *T = tt;
    *P = pp;
    return 0;
}

/* Builds the three trainers (and the synthetic set) for a fingerprint;
 * falls back to a fixed GRU-4 shape. Returns 0, or -1 if the fingerprint
 * cannot be built (the fallback is then used). */
static int ckf_shape_make(CkfShape *s, const char *fp)
{
    RnnfxArch a;
    int B;
    size_t seg, T, P;
    if (ckf_parse_fp(fp, &a, &B, &seg, &T, &P) != 0)
        return -1;
    ckf_shape_free(s);
    snprintf(s->fp, sizeof s->fp, "%s", fp);
    s->arch = a;
    s->batch = B;
    s->seg = seg;
    s->T = T;
    RnnfxError err = {{0}};
    static const RnnfxLrSchedule sched[CKF_N] = {RNNFX_LR_PLATEAU, RNNFX_LR_COSINE,
                                                 RNNFX_LR_EXPONENTIAL};
    for (int k = 0; k < CKF_N; k++) {
        if (rnnfx_model_new(&a, &s->model[k], &err) != RNNFX_OK)
            goto fail;
        if (a.output_sigmoid) {
            /* a MIDI-frame model: keys out, keys plus beat features in */
            RnnfxMidiInfo *mi = &rnnfx_model_meta(s->model[k])->midi;
            mi->steps_per_quarter = 4;
            mi->low_key = 21;
            mi->n_keys = a.output_size;
            mi->n_beat_features = a.input_size - a.output_size;
        }
        if (rnnfx_model_init_random(s->model[k], 7, &err) != RNNFX_OK ||
            rnnfx_model_finalize(s->model[k], &err) != RNNFX_OK)
            goto fail;
        size_t np = 0;
        rnnfx_model_params(s->model[k], &np);
        (void)np;
        RnnfxTrainConfig *c = &s->cfg[k];
        rnnfx_train_config_default(c);
        c->segment_len = seg;
        /* the chunk (T in the fingerprint) is tbptt when shorter than the
         * segment after its burn-in; the burn-in is not in the fingerprint */
        c->burn_in = 0;
        c->tbptt = T < seg ? T : 0;
        c->batch = B;
        c->threads = 1;
        c->schedule = sched[k];
        c->total_steps = 0; /* the caller drives the progress, as rnnfx-train does */
        c->loss = a.output_sigmoid ? RNNFX_LOSS_BCE : RNNFX_LOSS_ESR;
        if (rnnfx_trainer_new(s->model[k], c, &s->tr[k], &err) != RNNFX_OK)
            goto fail;
    }
    /* one sequence of exactly B segments: one batch per epoch */
    s->n = (size_t)B * seg;
    s->in = malloc(s->n * (size_t)a.input_size * sizeof(float));
    s->tgt = malloc(s->n * (size_t)a.output_size * sizeof(float));
    if (!s->in || !s->tgt)
        ckf_die("out of memory for the training set");
    for (size_t t = 0; t < s->n; t++) {
        float x = 0.5f * (float)sin(0.05 * (double)t) + 0.1f * (float)sin(0.31 * (double)t);
        for (int i = 0; i < a.input_size; i++)
            s->in[t * (size_t)a.input_size + (size_t)i] =
                a.output_sigmoid ? (float)((t + (size_t)i) % 3 == 0) : (i ? 0.5f : x);
        for (int o = 0; o < a.output_size; o++)
            s->tgt[t * (size_t)a.output_size + (size_t)o] =
                a.output_sigmoid ? (float)((t + (size_t)o) % 4 == 0) : tanhf(2.0f * x);
    }
    return 0;
fail:
    /* a shape the engine refuses (e.g. MIDI keys beyond 127): the fallback
     * trainer takes the file instead and must refuse it */
    ckf_shape_free(s);
    return -1;
}

static void ckf_check_finite(const RnnfxModel *m, const char *when)
{
    size_t n = 0;
    const float *p = rnnfx_model_params_const(m, &n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) {
            fprintf(stderr, "fuzz_checkpoint: weight %zu is %g %s\n", i, (double)p[i], when);
            abort();
        }
}

static void ckf_check_lr(const CkfShape *s, int k, const char *when)
{
    float lr = rnnfx_trainer_lr(s->tr[k]);
    const RnnfxTrainConfig *c = &s->cfg[k];
    if (!(lr >= c->lr_min * 0.999f && lr <= c->lr * 1.001f)) {
        fprintf(stderr, "fuzz_checkpoint: learning rate %g outside [%g, %g] (schedule %d) %s\n",
                (double)lr, (double)c->lr_min, (double)c->lr, (int)c->schedule, when);
        abort();
    }
}

/* The one temporary file goes when the process ends (the fuzzer, or
 * test_fuzz_corpus in every test run). */
static void ckf_cleanup(void)
{
    if (g_path[0])
        unlink(g_path);
}

static void ckf_write(const uint8_t *data, size_t size)
{
    if (!g_path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(g_path, sizeof g_path, "%s/rnnfx-fuzz-ckpt-XXXXXX", dir && *dir ? dir : "/tmp");
        int fd = mkstemp(g_path);
        if (fd < 0)
            ckf_die("cannot make a temporary file");
        close(fd);
        atexit(ckf_cleanup);
    }
    FILE *f = fopen(g_path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        ckf_die("cannot write the temporary file");
}

/* What --resume relies on once a checkpoint is accepted. */
static void ckf_accepted(CkfShape *s, const uint8_t *data, size_t size, char *extra)
{
    RnnfxError err = {{0}};
    RnnfxTrainer *tr = s->tr[CKF_PLATEAU];
    RnnfxModel *m = s->model[CKF_PLATEAU];
    if (!rnnfx_model_is_finalized(m))
        ckf_die("an accepted checkpoint left the model not finalized");
    ckf_check_finite(m, "after an accepted load");
    if (extra && strlen(extra) >= size)
        ckf_die("the caller text is longer than the file");
    if (s->arch.output_sigmoid && extra) {
        RnnfxMidiResume rs;
        char why[256] = "";
        if (rnnfx_train_midi_parse_resume(extra, &rs, why, sizeof why) != 0) {
            if (!why[0])
                ckf_die("the MIDI state was refused without a message");
        } else if (!(rs.best_valid >= 0.0) || rs.epoch < 0 || rs.since_best < 0 ||
                   rs.since_best > rs.epoch || !(rs.seconds >= 0.0 && isfinite(rs.seconds))) {
            ckf_die("the MIDI state was accepted with values the trainer cannot use");
        }
    }
    free(extra);
    /* the schedule is not in the file: the other two trainers take it too */
    for (int k = CKF_COSINE; k < CKF_N; k++) {
        if (rnnfx_trainer_load_checkpoint(s->tr[k], g_path, NULL, &err) != RNNFX_OK) {
            fprintf(stderr, "fuzz_checkpoint: schedule %d refused what plateau took: %s\n", k,
                    err.msg);
            abort();
        }
        ckf_check_lr(s, k, "after the load");
    }
    ckf_check_lr(s, CKF_PLATEAU, "after the load");
    (void)data;
    if ((size_t)s->batch * s->seg > CKF_MAX_WORK)
        return;
    /* one batch, as --resume's first step does */
    RnnfxTrainSeq seq = {s->in, s->tgt, s->n};
    RnnfxTrainSet set = {&seq, 1};
    uint64_t steps0 = rnnfx_trainer_steps(tr);
    RnnfxTrainStats st;
    rnnfx_trainer_set_progress(tr, 0.5);
    if (rnnfx_trainer_train(tr, &set, 1, &st, &err) != RNNFX_OK) {
        fprintf(stderr, "fuzz_checkpoint: training after an accepted load failed: %s\n", err.msg);
        abort();
    }
    /* each chunk takes a step, or skips it when its gradient is not
     * finite (weights the file allows can overflow it): then the step
     * count does not move */
    size_t chunks = (s->seg + s->T - 1) / s->T;
    if (st.steps + st.skipped != chunks || rnnfx_trainer_steps(tr) != steps0 + st.steps)
        ckf_die("one batch did not take or skip one step per chunk");
    ckf_check_finite(m, "after one training batch");
    ckf_check_lr(s, CKF_PLATEAU, "after one training batch");
    for (int i = 0; i < 2 * s->cfg[CKF_PLATEAU].plateau_patience + 1; i++)
        rnnfx_trainer_report_validation(tr, 1.0 + i);
    ckf_check_lr(s, CKF_PLATEAU, "after validations without gain");
}

/* Loads the file at g_path into the plateau trainer and checks the outcome. */
static void ckf_load(CkfShape *s, const uint8_t *data, size_t size)
{
    RnnfxModel *m = s->model[CKF_PLATEAU];
    size_t n = 0;
    const float *p = rnnfx_model_params_const(m, &n);
    float *before = malloc((n ? n : 1) * sizeof(float));
    if (!before)
        ckf_die("out of memory");
    memcpy(before, p, n * sizeof(float));
    uint64_t steps = rnnfx_trainer_steps(s->tr[CKF_PLATEAU]);
    char *extra = (char *)1;
    RnnfxError err = {{0}};
    RnnfxStatus st = rnnfx_trainer_load_checkpoint(s->tr[CKF_PLATEAU], g_path, &extra, &err);
    if (getenv("RNNFX_FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz_checkpoint: [%s] %s\n", s->fp, st == RNNFX_OK ? "accepted" : err.msg);
    if (st == RNNFX_OK) {
        free(before);
        ckf_accepted(s, data, size, extra);
        return;
    }
    if (!err.msg[0])
        ckf_die("a checkpoint was refused without a message");
    if (extra != NULL)
        ckf_die("a refused checkpoint returned caller text");
    if (memcmp(before, rnnfx_model_params_const(m, NULL), n * sizeof(float)) != 0 ||
        rnnfx_trainer_steps(s->tr[CKF_PLATEAU]) != steps)
        ckf_die("a refused checkpoint changed the trainer");
    free(before);
}

static uint64_t ckf_fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the fingerprint: after the magic, a 32-bit length and its text */
    char fp[512] = "";
    if (size >= 12) {
        uint32_t fl;
        memcpy(&fl, data + 8, sizeof fl);
        if (fl < sizeof fp && size - 12 >= fl) {
            memcpy(fp, data + 12, fl);
            fp[fl] = '\0';
        }
    }
    if (!g_shape.tr[0] || strcmp(fp, g_shape.fp) != 0) {
        if (ckf_shape_make(&g_shape, fp) != 0 &&
            (!g_shape.tr[0] || strcmp(g_shape.fp, "fallback") != 0)) {
            static const char fallback[] = "in1 out1 skip1 sig0 B4 seg64 T16 P93 gru4";
            if (ckf_shape_make(&g_shape, fallback) != 0)
                ckf_die("the fallback shape cannot be built");
            snprintf(g_shape.fp, sizeof g_shape.fp, "fallback");
        }
    }
    ckf_write(data, size);
    ckf_load(&g_shape, data, size);
    /* the same bytes with the checksum made right, so mutations reach past it */
    if (size >= 8 + 8) {
        uint64_t h = ckf_fnv1a(data, size - 8), have;
        memcpy(&have, data + size - 8, sizeof have);
        if (h != have) {
            uint8_t *fixed = malloc(size);
            if (!fixed)
                ckf_die("out of memory");
            memcpy(fixed, data, size);
            memcpy(fixed + size - 8, &h, sizeof h);
            ckf_write(fixed, size);
            ckf_load(&g_shape, fixed, size);
            free(fixed);
        }
    }
    return 0;
}

/*
 * test_checkpoint.c — training checkpoints that are intact (the checksum
 * is right) but hold what the trainer never writes, and the MIDI trainer's
 * state inside them.
 *
 * Each case is a defect fuzz_checkpoint found or a value it reaches behind
 * the checksum (tests/fuzz/README.md): a trainer state out of range (step
 * near 2^64, epoch flag 2, bad_vals at INT_MAX, NaN or negative progress,
 * NaN best loss, NaN/1e300/2 rate scale), Adam moments no run produces
 * (negative v, |m| far above sqrt(v)), bytes after the caller text or a
 * caller-text length past the end (which used to replace the weights before
 * being refused), and a damaged fingerprint length (whose message used to
 * show binary bytes). Every one must be refused with a message naming the
 * problem, leaving the weights and step count as they were. Accepted edge
 * values (rate scale 0 after many plateaus, huge but finite weights) must
 * load and train one batch to finite weights. The MIDI state parser
 * (rnnfx_train_midi_parse_resume) must refuse each bad value by name.
 *
 * The corrupted files are made here from a checkpoint the trainer writes,
 * with the checksum (FNV-1a 64 over the rest) recomputed. Not tested here:
 * resumed training's numbers (test_train.c), rnnfx-train's own handling
 * (test_train_cli.sh).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "model.h"
#include "train.h"
#include "train_midi.h"

/* Offsets in the state block (see the writer in engine/train_loop.c). */
enum {
    ST_STEP = 0,
    ST_EPOCHS = 8,
    ST_EPOCH_ACTIVE = 40,
    ST_BAD_VALS = 48,
    ST_PROGRESS = 56,
    ST_BEST = 64,
    ST_LR_SCALE = 72,
    ST_SIZE = 80
};

#define SEG 64
#define BATCH 4

static char g_path[64];
static float g_in[SEG * BATCH], g_tgt[SEG * BATCH];

typedef struct {
    unsigned char *d;
    size_t len;
    size_t state;  /* offset of the state block */
    size_t params; /* offset of the weights; m and v follow */
    size_t n;      /* parameters */
} Ckpt;

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void resum(Ckpt *c)
{
    uint64_t h = fnv1a(c->d, c->len - 8);
    memcpy(c->d + c->len - 8, &h, 8);
}

static void write_ckpt(const Ckpt *c)
{
    FILE *f = fopen(g_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(c->d, 1, c->len, f), c->len);
    assert_int_equal(fclose(f), 0);
}

static RnnfxModel *new_model(void)
{
    RnnfxArch a;
    rnnfx_arch_init_audio(&a, RNNFX_CELL_GRU, 5, 1);
    RnnfxModel *m = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_model_new(&a, &m, &err), RNNFX_OK);
    assert_int_equal(rnnfx_model_init_random(m, 3, &err), RNNFX_OK);
    assert_int_equal(rnnfx_model_finalize(m, &err), RNNFX_OK);
    return m;
}

static void config(RnnfxTrainConfig *c)
{
    rnnfx_train_config_default(c);
    c->segment_len = SEG;
    c->burn_in = 8;
    c->tbptt = 16;
    c->batch = BATCH;
    c->threads = 1;
    c->schedule = RNNFX_LR_PLATEAU;
}

/* A real checkpoint: two batches trained, then saved with a caller text. */
static Ckpt make_ckpt(void)
{
    RnnfxModel *m = new_model();
    RnnfxTrainConfig cfg;
    config(&cfg);
    RnnfxTrainer *tr = NULL;
    RnnfxError err;
    assert_int_equal(rnnfx_trainer_new(m, &cfg, &tr, &err), RNNFX_OK);
    RnnfxTrainSeq q = {g_in, g_tgt, SEG * BATCH};
    RnnfxTrainSet set = {&q, 1};
    assert_int_equal(rnnfx_trainer_train(tr, &set, 2, NULL, &err), RNNFX_OK);
    assert_int_equal(rnnfx_trainer_save_checkpoint(tr, g_path, "{\"x\": 1}", &err), RNNFX_OK);
    rnnfx_trainer_free(tr);
    rnnfx_model_free(m);
    Ckpt c = {0};
    FILE *f = fopen(g_path, "rb");
    assert_non_null(f);
    c.d = malloc(1 << 16);
    assert_non_null(c.d);
    c.len = fread(c.d, 1, 1 << 16, f);
    fclose(f);
    uint32_t fl;
    memcpy(&fl, c.d + 8, 4);
    c.state = 12 + fl + 8;
    memcpy(&c.n, c.d + 12 + fl, 8);
    c.params = c.state + ST_SIZE;
    assert_int_equal(c.len, c.params + 12 * c.n + 8 + 8 + 8);
    return c;
}

/* Loads g_path into a fresh trainer; expects `want`; on a refusal the
 * message must contain `msg` and the weights and steps must be unchanged. */
static void expect_load(RnnfxStatus want, const char *msg)
{
    RnnfxModel *m = new_model();
    RnnfxTrainConfig cfg;
    config(&cfg);
    RnnfxTrainer *tr = NULL;
    RnnfxError err = {{0}};
    assert_int_equal(rnnfx_trainer_new(m, &cfg, &tr, &err), RNNFX_OK);
    size_t n;
    const float *p = rnnfx_model_params_const(m, &n);
    float *before = malloc(n * sizeof(float));
    assert_non_null(before);
    memcpy(before, p, n * sizeof(float));
    char *extra = NULL;
    RnnfxStatus st = rnnfx_trainer_load_checkpoint(tr, g_path, &extra, &err);
    if (st != want)
        fail_msg("load gave %d (%s), expected %d", (int)st, err.msg, (int)want);
    if (want != RNNFX_OK) {
        if (!strstr(err.msg, msg))
            fail_msg("message '%s' does not say '%s'", err.msg, msg);
        assert_null(extra);
        assert_memory_equal(before, p, n * sizeof(float));
        assert_int_equal(rnnfx_trainer_steps(tr), 0);
        for (const char *c = err.msg; *c; c++)
            assert_true(*c >= 0x20 && *c <= 0x7e);
    } else {
        /* what --resume does next: train on, weights stay finite */
        RnnfxTrainSeq q = {g_in, g_tgt, SEG * BATCH};
        RnnfxTrainSet set = {&q, 1};
        if (rnnfx_trainer_train(tr, &set, 1, NULL, &err) != RNNFX_OK)
            fail_msg("training after the load failed: %s", err.msg);
        p = rnnfx_model_params_const(m, &n);
        for (size_t i = 0; i < n; i++)
            assert_true(isfinite(p[i]));
        float lr = rnnfx_trainer_lr(tr);
        assert_true(lr >= cfg.lr_min && lr <= cfg.lr);
    }
    free(extra);
    free(before);
    rnnfx_trainer_free(tr);
    rnnfx_model_free(m);
}

static void set_u64(Ckpt *c, size_t off, uint64_t v) { memcpy(c->d + c->state + off, &v, 8); }
static void set_f64(Ckpt *c, size_t off, double v) { memcpy(c->d + c->state + off, &v, 8); }

static void test_intact_loads(void **state)
{
    (void)state;
    Ckpt c = make_ckpt();
    write_ckpt(&c);
    expect_load(RNNFX_OK, NULL);
    /* a rate scale of 0 is what many plateaus leave (float underflow) */
    set_f64(&c, ST_LR_SCALE, 0.0);
    resum(&c);
    write_ckpt(&c);
    expect_load(RNNFX_OK, NULL);
    free(c.d);
}

static void test_state_out_of_range(void **state)
{
    (void)state;
    static const struct {
        size_t off;
        int is_double;
        uint64_t u;
        double f;
        const char *msg;
    } cases[] = {
        {ST_STEP, 0, UINT64_MAX, 0, "step or epoch count"},
        {ST_EPOCHS, 0, (uint64_t)1 << 60, 0, "step or epoch count"},
        {ST_EPOCH_ACTIVE, 0, 2, 0, "epoch flag"},
        {ST_BAD_VALS, 0, 2147483647, 0, "validations without improvement"},
        {ST_BAD_VALS, 0, UINT64_MAX, 0, "validations without improvement"}, /* -1 */
        {ST_PROGRESS, 1, 0, NAN, "schedule progress"},
        {ST_PROGRESS, 1, 0, -1.0, "schedule progress"},
        {ST_BEST, 1, 0, NAN, "best validation loss"},
        {ST_LR_SCALE, 1, 0, NAN, "plateau rate scale"},
        {ST_LR_SCALE, 1, 0, 1e300, "plateau rate scale"},
        {ST_LR_SCALE, 1, 0, 2.0, "plateau rate scale"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        Ckpt c = make_ckpt();
        if (cases[k].is_double)
            set_f64(&c, cases[k].off, cases[k].f);
        else
            set_u64(&c, cases[k].off, cases[k].u);
        resum(&c);
        write_ckpt(&c);
        expect_load(RNNFX_ERR_INVALID, cases[k].msg);
        expect_load(RNNFX_ERR_INVALID, "impossible trainer state");
        free(c.d);
    }
}

static void test_moments(void **state)
{
    (void)state;
    Ckpt c = make_ckpt();
    /* a trained entry: its v is > 0 after two batches */
    size_t i = 0;
    float v;
    for (;; i++) {
        assert_true(i < c.n);
        memcpy(&v, c.d + c.params + (2 * c.n + i) * 4, 4);
        if (v > 0.0f)
            break;
    }
    unsigned char *orig = malloc(c.len);
    assert_non_null(orig);
    memcpy(orig, c.d, c.len);
    float neg = -1e-3f, huge = 1e30f, big_w = 1e38f, inf = INFINITY;
    memcpy(c.d + c.params + (2 * c.n + i) * 4, &neg, 4);
    resum(&c);
    write_ckpt(&c);
    expect_load(RNNFX_ERR_INVALID, "optimizer moments Adam cannot produce");
    memcpy(c.d, orig, c.len);
    memcpy(c.d + c.params + (c.n + i) * 4, &huge, 4);
    resum(&c);
    write_ckpt(&c);
    expect_load(RNNFX_ERR_INVALID, "optimizer moments Adam cannot produce");
    memcpy(c.d, orig, c.len);
    memcpy(c.d + c.params + i * 4, &inf, 4);
    resum(&c);
    write_ckpt(&c);
    expect_load(RNNFX_ERR_INVALID, "non-finite");
    /* huge but finite weights are a model, not damage: the forward pass
     * overflows to NaN, the trainer skips those steps and the weights stay
     * finite (and the kernels' exp of a NaN is no longer undefined) */
    memcpy(c.d, orig, c.len);
    for (size_t k = 0; k < c.n; k += 3)
        memcpy(c.d + c.params + k * 4, &big_w, 4);
    resum(&c);
    write_ckpt(&c);
    expect_load(RNNFX_OK, NULL);
    free(orig);
    free(c.d);
}

static void test_layout(void **state)
{
    (void)state;
    Ckpt c = make_ckpt();
    size_t xoff = c.params + 12 * c.n;
    /* a caller-text length past the end: refused before the weights are
     * replaced (it used to be checked after copying them) */
    uint64_t big = (uint64_t)1 << 62;
    memcpy(c.d + xoff, &big, 8);
    resum(&c);
    write_ckpt(&c);
    expect_load(RNNFX_ERR_PARSE, "truncated or damaged");
    free(c.d);
    /* bytes after the caller text */
    c = make_ckpt();
    unsigned char *d2 = calloc(1, c.len + 16);
    assert_non_null(d2);
    memcpy(d2, c.d, c.len - 8);
    free(c.d);
    c.d = d2;
    c.len += 16;
    resum(&c);
    write_ckpt(&c);
    expect_load(RNNFX_ERR_PARSE, "truncated or damaged");
    free(c.d);
    /* a fingerprint length reaching into the binary part: the message
     * shows printable text only (checked in expect_load) */
    c = make_ckpt();
    uint32_t fl;
    memcpy(&fl, c.d + 8, 4);
    fl += 40;
    memcpy(c.d + 8, &fl, 4);
    resum(&c);
    write_ckpt(&c);
    expect_load(RNNFX_ERR_INVALID, "different model");
    free(c.d);
}

static void test_midi_state(void **state)
{
    (void)state;
    RnnfxMidiResume r;
    char msg[256];
    assert_int_equal(rnnfx_train_midi_parse_resume(
                         "{\"best_valid\": 4.25, \"epoch\": 7, \"since_best\": 2, \"seconds\": 12.5}",
                         &r, msg, sizeof msg),
                     0);
    assert_true(r.best_valid == 4.25 && r.epoch == 7 && r.since_best == 2 && r.seconds == 12.5);
    /* before any validation the writer says null: infinite */
    assert_int_equal(rnnfx_train_midi_parse_resume(
                         "{\"best_valid\": null, \"epoch\": 0, \"since_best\": 0, \"seconds\": 0}",
                         &r, msg, sizeof msg),
                     0);
    assert_true(isinf(r.best_valid) && r.best_valid > 0);
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"best_valid\": inf, \"epoch\": 2", "not a JSON object"},
        {"[1, 2]", "not a JSON object"},
        {"{\"best_valid\": NaN}", "best_valid"},
        {"{\"best_valid\": -1}", "best_valid"},
        {"{\"best_valid\": \"4\"}", "best_valid"},
        {"{\"epoch\": -5}", "epoch"},
        {"{\"epoch\": 1.5}", "epoch"},
        {"{\"epoch\": 99999999999}", "epoch"},
        {"{\"epoch\": 3, \"since_best\": 2147483647}", "since_best"},
        {"{\"epoch\": 3, \"since_best\": -1}", "since_best"},
        {"{\"seconds\": NaN}", "seconds"},
        {"{\"seconds\": -1e300}", "seconds"},
        {"{\"seconds\": null}", "seconds"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        msg[0] = '\0';
        if (rnnfx_train_midi_parse_resume(bad[k].text, &r, msg, sizeof msg) != -1)
            fail_msg("accepted %s", bad[k].text);
        if (!strstr(msg, bad[k].msg))
            fail_msg("for %s: message '%s' does not say '%s'", bad[k].text, msg, bad[k].msg);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_path, sizeof g_path, "/tmp/rnnfx-test-ckpt2-%ld.bin", (long)getpid());
    for (int t = 0; t < SEG * BATCH; t++) {
        g_in[t] = 0.5f * sinf(0.07f * (float)t) + 0.2f * sinf(0.53f * (float)t);
        g_tgt[t] = tanhf(2.5f * g_in[t]);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_path);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intact_loads), cmocka_unit_test(test_state_out_of_range),
        cmocka_unit_test(test_moments),      cmocka_unit_test(test_layout),
        cmocka_unit_test(test_midi_state),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_rt_alloc.c — proves that the audio-thread entry points make no
 * allocation, lock or file-open call.
 *
 * This binary defines malloc, calloc, realloc, free, posix_memalign,
 * aligned_alloc, memalign, pthread_mutex_lock/trylock and fopen itself. The
 * engine is a static library linked into this binary, so its calls resolve
 * to these definitions; libc's own internal allocations do too (glibc's
 * malloc is interposable by design). Each wrapper forwards to glibc's real
 * implementation (__libc_malloc & co., or dlsym(RTLD_NEXT) for the rest) and
 * counts the call while a thread-local flag is armed.
 *
 * Armed: rnnfx_instance_process / _process_frames / _reset / _set_param /
 * _param / _set_path / _init (into caller memory), for LSTM, peephole LSTM,
 * GRU, tanh and ReLU RNN, mixed stacks with knobs and a MIDI-frame model, on
 * both kernel paths, with block sizes 0..4096, in-place buffers, NaN input
 * and a poisoned state (which exercises the recovery reset); and the
 * impulse-response stage: rnnfx_convolver_process / _reset, and a chain
 * whose core runs a model and a response (rnnfx_chain_process_multi,
 * _set_controls, _reset, _swap of a core built beforehand, the crossfade);
 * and the stereo call rnnfx_instance_process_pair (every audio case, both
 * paths, in place, one channel poisoned) and a stereo chain at the model's
 * rate, which pairs its channels.
 *
 * The test can fail: a self-check first arms the counters and makes each
 * kind of call deliberately (and creates an instance with _new, which must
 * be counted), so a broken interposer cannot pass silently.
 *
 * glibc-specific (the __libc_* entry points); on another libc the test
 * reports itself skipped.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain.h"
#include "convolver.h"
#include "enginetest.h"
#include "instance.h"
#include "ir.h"
#include "model.h"

#if defined(__GLIBC__)

/* ---- the interposer ------------------------------------------------------ */

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);

enum { C_MALLOC, C_CALLOC, C_REALLOC, C_FREE, C_MEMALIGN, C_LOCK, C_FOPEN, C_COUNT };
static const char *const COUNT_NAMES[C_COUNT] = {
    "malloc", "calloc", "realloc", "free", "posix_memalign/aligned_alloc/memalign",
    "pthread_mutex_lock/trylock", "fopen"};

static _Thread_local int g_armed;
static _Thread_local unsigned long g_count[C_COUNT];

static void note(int what)
{
    if (g_armed)
        g_count[what]++;
}

void *malloc(size_t size)
{
    note(C_MALLOC);
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    note(C_CALLOC);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    note(C_REALLOC);
    return __libc_realloc(p, size);
}

void free(void *p)
{
    note(C_FREE);
    __libc_free(p);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    note(C_MEMALIGN);
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    void *p = __libc_memalign(align, size);
    if (!p && size)
        return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t size)
{
    note(C_MEMALIGN);
    return __libc_memalign(align, size);
}

void *memalign(size_t align, size_t size)
{
    note(C_MEMALIGN);
    return __libc_memalign(align, size);
}

typedef int (*MutexFn)(pthread_mutex_t *);
typedef FILE *(*FopenFn)(const char *, const char *);
typedef void (*AnyFn)(void);

/* The next definition of a function (libc's). dlsym returns an object
 * pointer; POSIX guarantees it converts to a function pointer, and memcpy
 * says so without an ISO C warning. */
static AnyFn resolve(const char *name)
{
    void *sym = dlsym(RTLD_NEXT, name);
    AnyFn fn = NULL;
    if (!sym)
        abort();
    memcpy(&fn, &sym, sizeof fn);
    return fn;
}
static MutexFn real_lock, real_trylock;
static FopenFn real_fopen;

int pthread_mutex_lock(pthread_mutex_t *m)
{
    note(C_LOCK);
    if (!real_lock)
        real_lock = (MutexFn)resolve("pthread_mutex_lock");
    return real_lock(m);
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
    note(C_LOCK);
    if (!real_trylock)
        real_trylock = (MutexFn)resolve("pthread_mutex_trylock");
    return real_trylock(m);
}

FILE *fopen(const char *path, const char *mode)
{
    note(C_FOPEN);
    if (!real_fopen)
        real_fopen = (FopenFn)resolve("fopen");
    return real_fopen(path, mode);
}

static void arm(void)
{
    memset(g_count, 0, sizeof g_count);
    g_armed = 1;
}

static unsigned long disarm(void)
{
    g_armed = 0;
    unsigned long total = 0;
    for (int i = 0; i < C_COUNT; i++)
        total += g_count[i];
    return total;
}

static void report(const char *what)
{
    for (int i = 0; i < C_COUNT; i++)
        if (g_count[i])
            print_error("%s: %lu call(s) to %s\n", what, g_count[i], COUNT_NAMES[i]);
}

/* ---- self-check: the counters see what they must see --------------------- */

static void test_interposer_counts(void **state)
{
    (void)state;
    /* Resolve the dlsym'd functions before arming (dlsym may allocate). */
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    pthread_mutex_unlock(&mu);
    assert_int_equal(pthread_mutex_trylock(&mu), 0);
    pthread_mutex_unlock(&mu);

    /* Called through volatile pointers so the compiler cannot drop the
     * malloc/free pair. */
    void *(*volatile do_malloc)(size_t) = malloc;
    void *(*volatile do_calloc)(size_t, size_t) = calloc;
    void *(*volatile do_realloc)(void *, size_t) = realloc;
    void (*volatile do_free)(void *) = free;
    void *(*volatile do_aligned)(size_t, size_t) = aligned_alloc;
    int (*volatile do_lock)(pthread_mutex_t *) = pthread_mutex_lock;

    arm();
    void *p = do_malloc(10);
    p = do_realloc(p, 1000);
    void *q = do_calloc(3, 7);
    void *r = do_aligned(64, 128);
    do_free(p);
    do_free(q);
    do_free(r);
    do_lock(&mu);
    pthread_mutex_unlock(&mu);
    disarm();
    assert_int_equal(g_count[C_MALLOC], 1);
    assert_int_equal(g_count[C_REALLOC], 1);
    assert_int_equal(g_count[C_CALLOC], 1);
    assert_int_equal(g_count[C_MEMALIGN], 1);
    assert_int_equal(g_count[C_FREE], 3);
    assert_int_equal(g_count[C_LOCK], 1);

    /* Calls made inside the engine library are seen too. */
    RnnfxArch a;
    rnnfx_arch_init_audio(&a, RNNFX_CELL_LSTM, 8, 1);
    RnnfxModel *m = rnnfx_test_random_model(&a, 1, 1.0f, 0);
    assert_non_null(m);
    arm();
    RnnfxInstance *inst = rnnfx_instance_new(m);
    rnnfx_instance_free(inst);
    unsigned long n = disarm();
    assert_true(n >= 2); /* an allocation and its free */
    RnnfxModel *c = NULL;
    RnnfxError err;
    arm();
    rnnfx_model_clone(m, &c, &err);
    rnnfx_model_free(c);
    assert_true(disarm() >= 2);
    rnnfx_model_free(m);

    /* And file opens. */
    arm();
    FILE *f = fopen("/nonexistent/rnnfx-test", "rb");
    disarm();
    assert_null(f);
    assert_int_equal(g_count[C_FOPEN], 1);
}

/* ---- the audio path ------------------------------------------------------ */

typedef struct {
    const char *name;
    RnnfxKind kind;
    int input_size, output_size, n_layers;
    RnnfxLayerDesc layers[3];
} Case;

static const Case CASES[] = {
    {"lstm16", RNNFX_KIND_AUDIO, 1, 1, 1, {{RNNFX_CELL_LSTM, 16, 0, 0}}},
    {"lstm6_knob", RNNFX_KIND_AUDIO, 2, 1, 1, {{RNNFX_CELL_LSTM, 6, 0, 0}}},
    {"gru12", RNNFX_KIND_AUDIO, 1, 1, 1, {{RNNFX_CELL_GRU, 12, 0, 0}}},
    {"lstm_peephole12_knobs", RNNFX_KIND_AUDIO, 3, 1, 1, {{RNNFX_CELL_LSTM, 12, 1, 0}}},
    {"gru40", RNNFX_KIND_AUDIO, 1, 1, 1, {{RNNFX_CELL_GRU, 40, 0, 0}}},
    {"lstm20_knobs", RNNFX_KIND_AUDIO, 3, 1, 1, {{RNNFX_CELL_LSTM, 20, 0, 0}}},
    {"gru24", RNNFX_KIND_AUDIO, 1, 1, 1, {{RNNFX_CELL_GRU, 24, 0, 0}}},
    {"gru8x2_knob", RNNFX_KIND_AUDIO, 2, 1, 2, {{RNNFX_CELL_GRU, 8, 0, 0}, {RNNFX_CELL_GRU, 8, 0, 0}}},
    {"lstm16_lstm40_knob", RNNFX_KIND_AUDIO, 2, 1, 2, {{RNNFX_CELL_LSTM, 16, 0, 0}, {RNNFX_CELL_LSTM, 40, 0, 0}}},
    {"rnn_tanh32", RNNFX_KIND_AUDIO, 1, 1, 1, {{RNNFX_CELL_RNN, 32, 0, 0}}},
    {"rnn_relu9", RNNFX_KIND_AUDIO, 1, 1, 1, {{RNNFX_CELL_RNN, 9, 0, 1}}},
    {"mixed_lstm_gru_rnn_knobs", RNNFX_KIND_AUDIO, 4, 1, 3,
     {{RNNFX_CELL_LSTM, 20, 0, 0}, {RNNFX_CELL_GRU, 5, 0, 0}, {RNNFX_CELL_RNN, 64, 0, 1}}},
    {"midi_lstm24", RNNFX_KIND_MIDI_FRAMES, 9, 6, 1, {{RNNFX_CELL_LSTM, 24, 0, 0}}},
};

#define MAXN 4096

static void test_audio_path_makes_no_calls(void **state)
{
    (void)state;
    static float in[MAXN * 9], out[MAXN * 6], mono[MAXN], y[MAXN], y2[MAXN];
    static const size_t sizes[] = {0, 1, 2, 3, 17, 64, 255, 1024, 1025, 4096};
    for (size_t ci = 0; ci < sizeof CASES / sizeof CASES[0]; ci++) {
        const Case *c = &CASES[ci];
        RnnfxArch a;
        memset(&a, 0, sizeof a);
        a.kind = c->kind;
        a.input_size = c->input_size;
        a.output_size = c->output_size;
        a.n_layers = c->n_layers;
        a.skip = c->kind == RNNFX_KIND_AUDIO;
        a.output_sigmoid = c->kind == RNNFX_KIND_MIDI_FRAMES;
        memcpy(a.layers, c->layers, sizeof c->layers);
        if (c->kind == RNNFX_KIND_AUDIO) {
            a.n_params = c->input_size - 1;
            for (int k = 0; k < a.n_params; k++) {
                snprintf(a.params[k].name, sizeof a.params[k].name, "k%d", k);
                a.params[k].max = 1.0f;
                a.params[k].def = 0.5f;
            }
        }
        RnnfxModel *m = rnnfx_test_random_model(&a, 100 + ci, 1.5f, 1);
        assert_non_null(m);
        rnnfx_test_signal(mono, MAXN, ci);
        for (size_t t = 0; t < MAXN; t++)
            for (int k = 0; k < c->input_size; k++)
                in[t * (size_t)c->input_size + (size_t)k] = k ? 0.3f : mono[t];
        mono[100] = NAN;
        mono[200] = INFINITY;
        in[(size_t)c->input_size * 300] = -INFINITY;
        size_t mem_size = rnnfx_instance_size(m);
        void *mem = malloc(mem_size), *mem2 = malloc(mem_size);
        assert_non_null(mem);
        assert_non_null(mem2);
        for (int pi = 0; pi < 2; pi++) {
            RnnfxPath path = pi ? RNNFX_PATH_FAST : RNNFX_PATH_REFERENCE;
            /* warm-up outside the armed region, in case anything lazy exists:
             * then the armed run proves steady state, and the init run below
             * proves a cold instance too */
            RnnfxInstance *warm = rnnfx_instance_new(m);
            rnnfx_instance_process(warm, mono, y, 64);
            rnnfx_instance_free(warm);

            arm();
            RnnfxInstance *inst = rnnfx_instance_init(mem, mem_size, m);
            rnnfx_instance_set_path(inst, path);
            (void)rnnfx_instance_kernel_name(inst);
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                if (c->kind == RNNFX_KIND_AUDIO) {
                    rnnfx_instance_process(inst, mono, y, sizes[s]);
                    rnnfx_instance_set_param(inst, 0, (float)s / 10.0f);
                }
                rnnfx_instance_process_frames(inst, in, out, sizes[s]);
            }
            if (c->kind == RNNFX_KIND_AUDIO) {
                memcpy(y, mono, sizeof y);
                rnnfx_instance_process(inst, y, y, MAXN); /* in place */
                for (int k = -1; k <= a.n_params; k++) {
                    rnnfx_instance_set_param(inst, k, 2.0f);  /* clamped */
                    rnnfx_instance_set_param(inst, k, NAN);   /* ignored */
                    rnnfx_instance_set_param(inst, k, -1.0f); /* clamped */
                    rnnfx_instance_set_param(inst, k, -1.0f); /* unchanged */
                    (void)rnnfx_instance_param(inst, k);
                }
            }
            if (c->kind == RNNFX_KIND_AUDIO) {
                /* the stereo call, paired where the kernels have a pair
                 * form (the one-layer LSTM/GRU cases of up to 16 units) */
                RnnfxInstance *other = rnnfx_instance_init(mem2, mem_size, m);
                rnnfx_instance_set_path(other, path);
                for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                    rnnfx_instance_process_pair(inst, other, mono, mono, y, y2, sizes[s]);
                    rnnfx_instance_set_param(other, 0, (float)s / 7.0f);
                }
                memcpy(y, mono, sizeof y);
                memcpy(y2, mono, sizeof y2);
                rnnfx_instance_process_pair(inst, other, y, y2, y, y2, MAXN); /* in place */
                rnnfx_instance_hidden(other, 0)[0] = NAN; /* one channel recovers */
                rnnfx_instance_process_pair(inst, other, mono, mono, y, y2, 100);
                assert_true(rnnfx_test_all_finite(y2, 100));
            }
            rnnfx_instance_reset(inst);
            /* a poisoned state makes the instance reset itself mid-call */
            rnnfx_instance_hidden(inst, 0)[0] = NAN;
            rnnfx_instance_process_frames(inst, in, out, 100);
            if (c->kind == RNNFX_KIND_AUDIO) {
                rnnfx_instance_hidden(inst, c->n_layers - 1)[1] = NAN;
                rnnfx_instance_process(inst, mono, y, 100);
            }
            rnnfx_instance_reset(inst);
            unsigned long n = disarm();
            if (n) {
                report(c->name);
                fail_msg("%s, %s path: %lu allocation/lock/fopen call(s) on the audio path",
                         c->name, pi ? "fast" : "reference", n);
            }
            assert_true(rnnfx_test_all_finite(out, (size_t)c->output_size * 100));
        }
        free(mem);
        free(mem2);
        rnnfx_model_free(m);
    }
}

static void test_response_stage_makes_no_calls(void **state)
{
    (void)state;
    static float x[2][MAXN], y[2][MAXN];
    const size_t len = 20000; /* 0.42 s at 48 kHz: 156 partitions */
    float *h = malloc(len * sizeof *h);
    rnnfx_test_signal(h, len, 3);
    rnnfx_test_signal(x[0], MAXN, 4);
    rnnfx_test_signal(x[1], MAXN, 5);
    x[0][10] = NAN; /* the chain sanitises */
    static const size_t sizes[] = {0, 1, 2, 127, 128, 129, 1000, 4096};

    RnnfxConvolver *cv = NULL;
    assert_int_equal(rnnfx_convolver_new(h, len, &cv, NULL), RNNFX_OK);
    arm();
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        rnnfx_convolver_process(cv, x[1], y[1], sizes[s]);
    rnnfx_convolver_process(cv, y[1], y[1], MAXN); /* in place */
    rnnfx_convolver_reset(cv);
    unsigned long n = disarm();
    if (n) report("convolver");
    assert_int_equal(n, 0);
    rnnfx_convolver_free(cv);

    RnnfxArch a;
    rnnfx_arch_init_audio(&a, RNNFX_CELL_LSTM, 16, 1);
    RnnfxModel *m = rnnfx_test_random_model(&a, 9, 1.0f, 0);
    const float *d[1] = {h};
    RnnfxIr *ir = NULL;
    assert_int_equal(rnnfx_ir_new(d, 1, len, 48000, 44100, 2, &ir, NULL), RNNFX_OK);
    RnnfxChain *chain = NULL;
    assert_int_equal(rnnfx_chain_new_multi(m, 44100, 2, 1024, &chain, NULL), RNNFX_OK);
    RnnfxChainCore *core = NULL, *displaced = NULL, *retired[4] = {NULL};
    assert_int_equal(rnnfx_chain_core_new_ir(chain, m, 0, ir, &core, NULL), RNNFX_OK);
    RnnfxChainControls ctl;
    rnnfx_chain_controls_init(&ctl);
    const float *in[2] = {x[0], x[1]};
    float *out[2] = {y[0], y[1]};
    int nr = 0;
    arm();
    rnnfx_chain_set_controls(chain, &ctl);
    rnnfx_chain_process_multi(chain, in, out, 300);
    rnnfx_chain_swap(chain, core, &displaced); /* crossfade into the response */
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        ctl.mix = 0.5f + 0.05f * (float)s;
        rnnfx_chain_set_controls(chain, &ctl);
        rnnfx_chain_process_multi(chain, in, out, sizes[s]);
        RnnfxChainCore *r;
        while ((r = rnnfx_chain_take_retired(chain)) != NULL && nr < 4) retired[nr++] = r;
    }
    rnnfx_chain_reset(chain);
    rnnfx_chain_process_multi(chain, in, out, MAXN);
    n = disarm();
    if (n) report("chain with an impulse response");
    assert_int_equal(n, 0);

    /* a stereo chain at the model's rate, whose core runs its two channels
     * with the pair call, then the response */
    RnnfxIr *ir48 = NULL;
    assert_int_equal(rnnfx_ir_new(d, 1, len, 48000, 48000, 2, &ir48, NULL), RNNFX_OK);
    RnnfxChain *chain48 = NULL;
    RnnfxChainCore *core48 = NULL, *displaced48 = NULL;
    assert_int_equal(rnnfx_chain_new_multi(m, 48000, 2, 1024, &chain48, NULL), RNNFX_OK);
    assert_int_equal(rnnfx_chain_core_new_ir(chain48, m, 0, ir48, &core48, NULL), RNNFX_OK);
    arm();
    rnnfx_chain_set_controls(chain48, &ctl);
    rnnfx_chain_process_multi(chain48, in, out, 300);
    rnnfx_chain_swap(chain48, core48, &displaced48);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        rnnfx_chain_process_multi(chain48, in, out, sizes[s]);
    rnnfx_chain_process_multi(chain48, in, out, MAXN);
    n = disarm();
    if (n) report("stereo chain at the model's rate");
    assert_int_equal(n, 0);
    assert_null(displaced48);
    RnnfxChainCore *r48;
    while ((r48 = rnnfx_chain_take_retired(chain48)) != NULL) rnnfx_chain_core_free(r48);
    rnnfx_chain_free(chain48);
    rnnfx_ir_free(ir48);
    assert_null(displaced);
    assert_true(rnnfx_test_all_finite(y[0], MAXN) && rnnfx_test_all_finite(y[1], MAXN));
    for (int i = 0; i < nr; i++) rnnfx_chain_core_free(retired[i]);
    rnnfx_chain_free(chain);
    rnnfx_ir_free(ir);
    rnnfx_model_free(m);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interposer_counts),
        cmocka_unit_test(test_audio_path_makes_no_calls),
        cmocka_unit_test(test_response_stage_makes_no_calls),
    };
    return cmocka_run_group_tests_name("rt_alloc", tests, NULL, NULL);
}

#else /* not glibc */

int main(void)
{
    printf("test_rt_alloc: skipped: the interposer needs glibc's __libc_malloc\n");
    return 77;
}

#endif

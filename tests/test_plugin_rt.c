/*
 * test_plugin_rt.c — proves that the plugin's audio-thread callbacks (run and
 * work_response) never allocate, free, lock a mutex, open a file or write to
 * a file descriptor, while models are switched hundreds of times, cabinet
 * impulse responses are loaded and removed in between (mono and stereo
 * files, one at another rate), the capture selector goes through its
 * entries (by port and by MIDI Program Change), controls and MIDI CC move,
 * bypass toggles,
 * and blocks range from 1 to 4096 frames.
 *
 * How: this program defines malloc, calloc, realloc, free, posix_memalign,
 * aligned_alloc, pthread_mutex_lock, fopen and write itself. Symbols defined
 * by the executable take precedence over libc's for every shared object,
 * including the dlopen'ed plugin, so each call passes through a counter that
 * counts only on the audio thread while it is inside the plugin (the host's
 * enter/leave hooks set a thread-local flag). A positive control checks that
 * the counter sees calls made from inside a shared library (lilv).
 *
 * Not for AddressSanitizer builds (ASan owns malloc): the ASan script builds
 * test_plugin_host only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lilv/lilv.h>

#include "../plugin/rnnfx_ports.h"
#include "audiotest.h"
#include "enginetest.h"
#include "lv2host.h"
#include "model_file.h"

/* ---- the interposer ------------------------------------------------------------ */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static _Thread_local int tl_in_audio;
static long g_calls[6]; /* alloc, free, lock, fopen, write, memalign */
static const char *const g_call_names[6] = {"malloc/calloc/realloc", "free", "pthread_mutex_lock",
                                            "fopen", "write", "posix_memalign/aligned_alloc"};

static void count(int kind)
{
    if (tl_in_audio) __atomic_add_fetch(&g_calls[kind], 1, __ATOMIC_RELAXED);
}

void *malloc(size_t n)
{
    count(0);
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    count(0);
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    count(0);
    return __libc_realloc(p, n);
}

void free(void *p)
{
    count(1);
    __libc_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    count(5);
    void *p = __libc_memalign(align, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
    count(5);
    return __libc_memalign(align, n);
}

/* The next definition of a libc function; copied through memcpy because ISO C
 * has no cast from object to function pointer. */
static void resolve(void *fn_ptr, size_t size, const char *name)
{
    void *sym = dlsym(RTLD_NEXT, name);
    memcpy(fn_ptr, &sym, size);
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
    static int (*real)(pthread_mutex_t *);
    count(2);
    if (!real) resolve(&real, sizeof real, "pthread_mutex_lock");
    return real(m);
}

FILE *fopen(const char *path, const char *mode)
{
    static FILE *(*real)(const char *, const char *);
    count(3);
    if (!real) resolve(&real, sizeof real, "fopen");
    return real(path, mode);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    count(4);
    if (!real) resolve(&real, sizeof real, "write");
    return real(fd, buf, n);
}

static void enter(void *ctx)
{
    (void)ctx;
    tl_in_audio = 1;
}

static void leave(void *ctx)
{
    (void)ctx;
    tl_in_audio = 0;
}

static long total_calls(void)
{
    long t = 0;
    for (int i = 0; i < 6; i++) t += __atomic_load_n(&g_calls[i], __ATOMIC_RELAXED);
    return t;
}

static void reset_calls(void) { memset(g_calls, 0, sizeof g_calls); }

/* ---- tests ------------------------------------------------------------------------- */

static char g_bundle[1024], g_tmp[1024];

static void test_interposer_sees_library_calls(void **state)
{
    (void)state;
    /* a call made inside another shared object must be counted, or the
     * zero counts below would prove nothing */
    LilvWorld *w = lilv_world_new(); /* allocations inside liblilv */
    reset_calls();
    enter(NULL);
    LilvNode *n = lilv_new_uri(w, "http://example.org/x");
    lilv_node_free(n);
    leave(NULL);
    long seen = total_calls();
    lilv_world_free(w);
    print_message("calls counted inside liblilv: %ld\n", seen);
    assert_true(seen >= 2);
}

static void write_model(const char *path, uint64_t seed, int hidden, double rate, int knobs)
{
    RnnfxArch arch;
    rnnfx_arch_init_audio(&arch, RNNFX_CELL_LSTM, hidden, 1);
    arch.n_params = knobs;
    arch.input_size = 1 + knobs;
    for (int k = 0; k < knobs; k++) {
        snprintf(arch.params[k].name, sizeof arch.params[k].name, "k%d", k);
        arch.params[k].min = 0.0f;
        arch.params[k].max = 1.0f;
        arch.params[k].def = 0.5f;
    }
    RnnfxModel *m = rnnfx_test_random_model(&arch, seed, 1.0f, 1);
    assert_non_null(m);
    rnnfx_model_meta(m)->sample_rate = rate;
    snprintf(rnnfx_model_meta(m)->name, sizeof rnnfx_model_meta(m)->name, "rt model %d", (int)seed);
    RnnfxError err;
    assert_int_equal(rnnfx_model_save(m, path, &err), RNNFX_OK);
    rnnfx_model_free(m);
}

/* A decaying noise burst as a float WAV (the cabinet IRs). */
static void write_ir(const char *path, int channels, int rate, size_t frames, uint64_t seed)
{
    float *x = malloc(frames * (size_t)channels * sizeof(float));
    assert_non_null(x);
    rnnfx_test_signal(x, frames * (size_t)channels, seed);
    for (size_t i = 0; i < frames * (size_t)channels; i++)
        x[i] *= expf(-(float)(i / (size_t)channels) / 300.0f);
    assert_int_equal(rnnfx_test_write_float_wav(path, channels, rate, x, frames), 0);
    free(x);
}

static void stress(const char *uri, double rate)
{
    char paths[3][1200], irs[3][1200];
    for (int i = 0; i < 3; i++) snprintf(paths[i], sizeof paths[i], "%s/m%d.json", g_tmp, i);
    snprintf(irs[0], sizeof irs[0], "%s/cab-mono-48k.wav", g_tmp);
    snprintf(irs[1], sizeof irs[1], "%s/cab-stereo-44k.wav", g_tmp);
    irs[2][0] = '\0'; /* removes the cabinet */
    Lv2HostConfig cfg = {rate, 4096, LV2HOST_WORKER_THREAD, 0, 0};
    char err[512] = "";
    Lv2Host *h = lv2host_new(g_bundle, uri, &cfg, err, sizeof err);
    if (!h) fail_msg("%s", err);
    lv2host_set_hooks(h, enter, leave, NULL);
    static float x[2][4096], y[2][4096];
    rnnfx_test_signal(x[0], 4096, 1);
    rnnfx_test_signal(x[1], 4096, 2);
    const float *in[2] = {x[0], x[1]};
    float *out[2] = {y[0], y[1]};
    RnnfxTestRng rng;
    rnnfx_test_rng_seed(&rng, 77);
    reset_calls();
    int switches = 0, ir_switches = 0, captures = 0;
    for (int i = 0; i < 1500; i++) {
        double u = rnnfx_test_rng_uniform(&rng);
        uint32_t n = u < 0.05 ? 1 : (uint32_t)(1 + rnnfx_test_rng_uniform(&rng) * 1024);
        if (i % 5 == 0) {
            lv2host_send_path(h, "http://rnnfx.org/plugins/rnnfx#model", paths[switches % 3]);
            switches++;
        }
        if (i % 7 == 3) {
            lv2host_send_path(h, "http://rnnfx.org/plugins/rnnfx#ir", irs[ir_switches % 3]);
            ir_switches++;
        }
        if (i % 97 == 0) lv2host_set(h, "enabled", (i / 97) % 2 ? 0.0f : 1.0f);
        if (i % 23 == 0) lv2host_set(h, "normalize", (i / 23) % 2 ? 1.0f : 0.0f);
        if (i % 11 == 5) { /* the capture selector: every entry, kept cores reused */
            lv2host_set(h, "capture", (float)((i / 11) % (RNNFX_N_CAPTURES + 1)));
            captures++;
        }
        if (i % 13 == 0) {
            uint8_t cc[3] = {0xB0, (uint8_t)(20 + i % 7), (uint8_t)(i % 128)};
            lv2host_send_midi(h, cc, 3);
        }
        if (i % 31 == 0) lv2host_send_get(h);
        if (i % 17 == 9) { /* a foot controller's Program Change */
            uint8_t pc[2] = {0xC0, (uint8_t)(i % 6)};
            lv2host_send_midi(h, pc, 2);
        }
        lv2host_set(h, "input_gain", (float)(i % 24) - 12.0f);
        lv2host_set(h, "knob2", (float)(i % 10) / 10.0f);
        lv2host_run(h, in, out, n);
        assert_true(rnnfx_test_all_finite(y[0], n));
        if (i % 50 == 0) lv2host_wait_worker(h, 2000); /* let some loads land */
    }
    /* a choice waiting for the load under way goes after its answer */
    for (int k = 0; k < 4; k++) {
        lv2host_wait_worker(h, 5000);
        for (int i = 0; i < 20; i++) lv2host_run(h, in, out, 1024);
    }
    lv2host_set_hooks(h, NULL, NULL, NULL);
    print_message("%s @ %.0f Hz: %d model and %d cabinet switches, %d capture selections; in "
                  "run/work_response:", uri, rate, switches, ir_switches, captures);
    for (int k = 0; k < 6; k++) print_message(" %s %ld", g_call_names[k], g_calls[k]);
    print_message("; log lines from run: %d\n", lv2host_log_count_in_run(h));
    for (int k = 0; k < 6; k++) assert_int_equal(g_calls[k], 0);
    assert_int_equal(lv2host_log_count_in_run(h), 0);
    /* the cabinet loads really reached the audio thread: the last one plays */
    char ir[1200];
    assert_int_equal(lv2host_param(h, "http://rnnfx.org/plugins/rnnfx#ir", ir, sizeof ir), 0);
    assert_string_equal(ir, irs[(ir_switches - 1) % 3]);
    lv2host_free(h);
}

static void test_run_is_realtime_safe(void **state)
{
    (void)state;
    stress("http://rnnfx.org/plugins/rnnfx#mono", 48000.0);
    stress("http://rnnfx.org/plugins/rnnfx#mono", 44100.0); /* resampling */
    stress("http://rnnfx.org/plugins/rnnfx#stereo", 96000.0);
}

static int setup(void **state)
{
    (void)state;
    const char *build = getenv("BUILD");
    snprintf(g_bundle, sizeof g_bundle, "%s/rnnfx.lv2", build && *build ? build : "build");
    snprintf(g_tmp, sizeof g_tmp, "/tmp/rnnfx-rt-test-XXXXXX");
    if (!mkdtemp(g_tmp)) return -1;
    char p[1200];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/m%d.json", g_tmp, i);
        write_model(p, 100 + (uint64_t)i, 8 + 8 * i, i == 1 ? 44100.0 : 48000.0, i);
    }
    snprintf(p, sizeof p, "%s/cab-mono-48k.wav", g_tmp);
    write_ir(p, 1, 48000, 3000, 7);
    snprintf(p, sizeof p, "%s/cab-stereo-44k.wav", g_tmp);
    write_ir(p, 2, 44100, 2000, 8);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return rnnfx_test_remove_tree(g_tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interposer_sees_library_calls),
        cmocka_unit_test(test_run_is_realtime_safe),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_fuzz_corpus.c — replays the committed fuzzing corpora through the
 * fuzz harnesses, without libFuzzer, in the ordinary test run.
 *
 * The harnesses (tests/fuzz/fuzz_*.c: model files, generated
 * architectures, MIDI files, training manifests, impulse-response files,
 * training checkpoints)
 * are built with clang and libFuzzer by
 * `make fuzz`, which CI does not run. Their entry points are included here
 * under other names, so every input in tests/fuzz/corpus/<name>/ (a few
 * dozen small inputs kept by `-merge=1`, among them the reproducers of the
 * defects fuzzing found) and the hand-made bad files go through exactly the
 * checks the fuzzer applies: a harness aborts on a broken promise (a crash, a
 * refusal without a message, a non-finite output, a model that does not
 * survive a save), which fails this test. Under the ASan build
 * (CFLAGS=-fsanitize=address) it also catches the memory errors.
 *
 * It is not the fuzzing itself: it finds only what the corpus already holds.
 * About 0.6 s (gcc -O2): the corpora are small by construction.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "enginetest.h"

#define LLVMFuzzerTestOneInput rnnfx_fuzz_model_one
#include "fuzz/fuzz_model.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput rnnfx_fuzz_arch_one
#include "fuzz/fuzz_arch.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput rnnfx_fuzz_midi_one
#include "fuzz/fuzz_midi.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput rnnfx_fuzz_manifest_one
#include "fuzz/fuzz_manifest.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput rnnfx_fuzz_ir_one
#include "fuzz/fuzz_ir.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput rnnfx_fuzz_checkpoint_one
#include "fuzz/fuzz_checkpoint.c"
#undef LLVMFuzzerTestOneInput

typedef int (*FuzzEntry)(const uint8_t *data, size_t size);

/* The input being replayed, named when a harness aborts on it. */
static char g_current[1536];

static void on_abort(int sig)
{
    static const char what[] = "test_fuzz_corpus: the harness aborted on ";
    ssize_t w = write(2, what, sizeof what - 1);
    w = write(2, g_current, strlen(g_current));
    w = write(2, "\n", 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Feeds every regular file of a folder (relative to the source tree) to fn;
 * returns how many it fed. */
static int replay_dir(const char *rel, FuzzEntry fn)
{
    char dir[1024];
    rnnfx_test_path(dir, sizeof dir, rel);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *path = g_current;
        snprintf(path, sizeof g_current, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        FILE *f = fopen(path, "rb");
        if (!f)
            fail_msg("cannot open %s", path);
        long len = (long)sb.st_size;
        /* an exact-size heap copy, so ASan sees a read past the end */
        uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
        assert_non_null(buf);
        if (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)
            fail_msg("cannot read %s", path);
        fclose(f);
        fn(buf, (size_t)len);
        free(buf);
        n++;
    }
    closedir(d);
    print_message("  %-28s %d inputs\n", rel, n);
    return n;
}

static void test_model_corpus(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/model", rnnfx_fuzz_model_one) >= 10);
    assert_true(replay_dir("tests/data/bad", rnnfx_fuzz_model_one) >= 40);
}

static void test_arch_corpus(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/arch", rnnfx_fuzz_arch_one) >= 10);
}

static void test_midi_corpus(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/midi", rnnfx_fuzz_midi_one) >= 10);
    assert_true(replay_dir("tests/data/midi/bad", rnnfx_fuzz_midi_one) >= 10);
}

static void test_ir_corpus(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/ir", rnnfx_fuzz_ir_one) >= 10);
}

static void test_manifest_corpus(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/manifest", rnnfx_fuzz_manifest_one) >= 10);
}

static void test_checkpoint_corpus(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/checkpoint", rnnfx_fuzz_checkpoint_one) >= 10);
}

int main(void)
{
    signal(SIGABRT, on_abort);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_corpus),
        cmocka_unit_test(test_arch_corpus),
        cmocka_unit_test(test_midi_corpus),
        cmocka_unit_test(test_manifest_corpus),
        cmocka_unit_test(test_ir_corpus),
        cmocka_unit_test(test_checkpoint_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

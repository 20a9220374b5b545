/*
 * fuzz_model.c — libFuzzer harness for the model loader and the engine
 * behind it.
 *
 * rnnfx_model_load_memory() chooses the format by content (rnnfx JSON,
 * AIDA-X/RTNeural, Proteus/CoreAudioML, NAM), so this one entry point reaches
 * every importer: a model file is the main untrusted input of the plugin and
 * the tools (users download them). The loader's contract is that a bad file
 * gives a status and a message, never a crash, a hang or an allocation beyond
 * what the file really holds. A file it accepts must then be safe to run:
 * after a successful load the harness builds an instance, feeds it ordinary,
 * NaN, infinite, huge and denormal samples and absurd knob values on both
 * kernel paths, and checks the promises of instance.h (outputs always
 * finite). It also checks that the model survives rnnfx JSON: written and
 * read back it loads and has the same weights (model_file.h promises
 * bit-identical floats).
 *
 * The checks live in model_checks.h (shared with fuzz_arch.c). It is not a
 * test of numerical accuracy (test_reference does that).
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by `make fuzz`; the
 * same entry point is linked without libFuzzer into tests/test_fuzz_corpus.c,
 * which replays the committed corpus in the ordinary test run.
 */
#include <stddef.h>
#include <stdint.h>

#include "model_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_model_check((const char *)data, size);
    return 0;
}

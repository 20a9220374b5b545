/*
 * test_manifest.c — the conditioned-capture manifest parser
 * (tools/common/manifest.h) and the quality bands of the training report
 * (tools/common/report.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest.h"
#include "report.h"

static void test_parse_ok(void **state)
{
    (void)state;
    const char *text = "# a capture at three settings\n"
                       "\n"
                       "dry.wav  wet_a.wav  gain=0.3 tone=0.7\n"
                       "\"my dry.wav\" /abs/wet_b.flac tone=0.2   gain=0.8  # comment\n"
                       "dry.wav\twet_c.wav\tgain=1e-1 tone=0.5\n";
    RnnfxManifest m;
    RnnfxError err;
    assert_int_equal(rnnfx_manifest_parse(text, "/data", &m, &err), RNNFX_OK);
    assert_int_equal(m.n, 3);
    assert_int_equal(m.n_knobs, 2);
    assert_string_equal(m.knobs[0], "gain");
    assert_string_equal(m.knobs[1], "tone");
    assert_string_equal(m.entries[0].input, "/data/dry.wav");
    assert_string_equal(m.entries[1].input, "/data/my dry.wav");
    assert_string_equal(m.entries[1].target, "/abs/wet_b.flac");
    /* knobs in another order on line 2 land in the first line's order */
    assert_float_equal(m.entries[1].values[0], 0.8, 1e-12);
    assert_float_equal(m.entries[1].values[1], 0.2, 1e-12);
    assert_float_equal(m.entries[2].values[0], 0.1, 1e-12);
    assert_int_equal(m.entries[2].line, 5);
    assert_float_equal(m.min[0], 0.1, 1e-12);
    assert_float_equal(m.max[0], 0.8, 1e-12);
    rnnfx_manifest_free(&m);
    rnnfx_manifest_free(&m); /* idempotent */

    /* saved by a Windows editor: byte-order mark and CRLF line ends (the
     * mark once became part of the first input's name) */
    assert_int_equal(rnnfx_manifest_parse("\xEF\xBB\xBF" "dry.wav wet.wav gain=0\r\n"
                                          "dry.wav wet2.wav gain=1\r\n",
                                          NULL, &m, &err),
                     RNNFX_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.entries[0].input, "dry.wav");
    assert_string_equal(m.entries[1].target, "wet2.wav");
    assert_float_equal(m.entries[1].values[0], 1.0, 0);
    rnnfx_manifest_free(&m);

    /* no knobs: several plain pairs */
    assert_int_equal(rnnfx_manifest_parse("a.wav b.wav\nc.wav d.wav\n", NULL, &m, &err), RNNFX_OK);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.n_knobs, 0);
    assert_string_equal(m.entries[1].target, "d.wav");
    rnnfx_manifest_free(&m);
}

static void expect_error(const char *text, const char *needle)
{
    RnnfxManifest m;
    RnnfxError err;
    err.msg[0] = 0;
    RnnfxStatus st = rnnfx_manifest_parse(text, NULL, &m, &err);
    assert_int_not_equal(st, RNNFX_OK);
    if (!strstr(err.msg, needle))
        fail_msg("expected '%s' in '%s'", needle, err.msg);
    assert_null(m.entries);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("", "no entries");
    expect_error("# only a comment\n", "no entries");
    expect_error("a.wav\n", "line 1");
    expect_error("a.wav b.wav gain\n", "name=value");
    expect_error("a.wav b.wav gain=abc\nc d gain=1\n", "not a number");
    expect_error("a.wav b.wav gain=0.1\nc.wav d.wav tone=0.5\n", "line 2");
    expect_error("a.wav b.wav gain=0.1\nc.wav d.wav\n", "line 2");
    expect_error("a.wav b.wav gain=0.1 gain=0.2\n", "twice");
    expect_error("a.wav b.wav gain=0.5\nc.wav d.wav gain=0.5\n", "same value");
    expect_error("\"a.wav b.wav gain=1\n", "quote");
    expect_error("a.wav b.wav 9lives=1\nc d 9lives=2\n", "invalid knob name");
    expect_error("a b k1=1 k2=1 k3=1 k4=1 k5=1 k6=1 k7=1 k8=1 k9=1\n", "more than");
    /* found by tests/fuzz/fuzz_manifest.c: knobs are floats in the model, so
     * a value past FLT_MAX, or settings equal as floats, are refused here
     * with the line rather than after the recordings are read */
    expect_error("a.wav b.wav gain=0\nc.wav d.wav gain=1e300\n", "line 2: knob gain: 1e300 is out of range");
    expect_error("a.wav b.wav gain=-3.5e38\nc.wav d.wav gain=1\n", "line 1");
    expect_error("a.wav b.wav gain=0.1\nc.wav d.wav gain=0.1000000001\n", "same value");
    /* one input, two targets, nothing to tell them apart */
    expect_error("dry.wav drive2.wav\ndry.wav drive8.wav\n",
                 "lines 1 and 2 pair the same input with different targets");
}

static void test_load_file(void **state)
{
    (void)state;
    RnnfxManifest m;
    RnnfxError err;
    assert_int_equal(rnnfx_manifest_load("/nonexistent/pairs.txt", &m, &err), RNNFX_ERR_IO);
    char dir[] = "/tmp/rnnfx-manifest-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/pairs.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("in.wav out.wav drive=0\nin.wav out2.wav drive=1\n", f);
    fclose(f);
    assert_int_equal(rnnfx_manifest_load(path, &m, &err), RNNFX_OK);
    char want[300];
    snprintf(want, sizeof want, "%s/out2.wav", dir);
    assert_string_equal(m.entries[1].target, want);
    rnnfx_manifest_free(&m);
    /* a file's error is "PATH: line N: ..." (it once read "PATH: : line N") */
    f = fopen(path, "w");
    fputs("in.wav out.wav drive=0\nin.wav out2.wav gain=1\n", f);
    fclose(f);
    assert_int_not_equal(rnnfx_manifest_load(path, &m, &err), RNNFX_OK);
    snprintf(want, sizeof want, "%s: line 2: ", path);
    assert_true(strncmp(err.msg, want, strlen(want)) == 0);
    remove(path);
    remove(dir);
}

static void test_quality_bands(void **state)
{
    (void)state;
    assert_string_equal(rnnfx_quality_band(0.005), "great");
    assert_string_equal(rnnfx_quality_band(0.0099), "great");
    assert_string_equal(rnnfx_quality_band(0.01), "good");
    assert_string_equal(rnnfx_quality_band(0.034), "good");
    assert_string_equal(rnnfx_quality_band(0.035), "usable");
    assert_string_equal(rnnfx_quality_band(0.099), "usable");
    assert_string_equal(rnnfx_quality_band(0.1), "poor");
    assert_string_equal(rnnfx_quality_band(-1), "unknown");
    assert_non_null(strstr(rnnfx_quality_sentence(0.5), "aligned"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_quality_bands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * export.h — writing a model in other projects' formats.
 *
 *   - AIDA-X / RTNeural Keras-style JSON, with self-test vectors
 *     (input_batch/output_batch, see selftest.h) so the file can be checked
 *     wherever it goes;
 *   - Neural Amp Modeler .nam with the LSTM architecture.
 *
 * Export refuses, with a sentence saying why, any model the target cannot
 * express: it never writes a file that would play differently. Weights are
 * written with 9 significant digits, so importing an exported file gives
 * bit-identical weights; a model imported from AIDA-X or NAM and exported
 * back to the same format round-trips exactly.
 *
 * What each target holds:
 *   AIDA-X: one LSTM or GRU layer of 8, 12, 16, 20, 24, 32, 40, 64 or 80 units
 *     (the sizes the AIDA-X plugin is built for), 1 to 3 inputs (audio then
 *     knobs), one output, optional skip, positive in/out gains (written in
 *     dB), zero initial state. AIDA-X knobs have no ranges: its plugin
 *     feeds 0..1, so a knob's min..max is folded into the first layer's
 *     input column and bias (AIDA-X's 0..1 plays the trained min..max;
 *     exact up to one float rounding per weight). With generic_rtneural, any stack of LSTM/GRU
 *     layers, any output count and a sigmoid output, as RTNeural's JSON
 *     reader accepts them.
 *   NAM: a stack of LSTM layers of equal size, audio input only, one output,
 *     no skip; the initial state is kept; input/output gains are folded into
 *     the first layer's input weights and the head (exact up to one float
 *     rounding per weight).
 * Neither holds peephole LSTMs, vanilla RNN cells or MIDI-frame models.
 *
 * Thread: not audio (allocates, writes files).
 */
#ifndef RNNFX_EXPORT_H
#define RNNFX_EXPORT_H

#include <stddef.h>

#include "model.h"

typedef struct {
    /* AIDA-X: export a model whose initial state is not zero (a NAM capture)
     * by starting it from zero instead. Only the first moments after a reset
     * differ (AIDA-X itself runs 2048 silent samples after loading). */
    int drop_initial_state;
    /* AIDA-X: allow what RTNeural's JSON reader runs but the AIDA-X plugin
     * does not (several layers, other hidden sizes, several outputs). */
    int generic_rtneural;
    /* AIDA-X: steps of self-test vectors to write (0: no vectors). */
    size_t selftest_steps;
} RnnfxExportOptions;

#define RNNFX_EXPORT_SELFTEST_STEPS 2048
/* More steps than this are refused (RNNFX_ERR_ARG): the vectors alone would
 * come near RNNFX_MAX_FILE_BYTES, past which the file would not load back. */
#define RNNFX_EXPORT_MAX_SELFTEST_STEPS (1 << 20)

/* Defaults: strict AIDA-X, keep the initial state (so refuse when it is not
 * zero), 2048 self-test steps. Thread: any. */
void rnnfx_export_options_init(RnnfxExportOptions *opts);

/* Whether the model fits the target; RNNFX_ERR_UNSUPPORTED with the reason
 * if not. opts may be NULL (defaults). */
RnnfxStatus rnnfx_export_aidax_check(const RnnfxModel *model, const RnnfxExportOptions *opts,
                                     RnnfxError *err);
RnnfxStatus rnnfx_export_nam_check(const RnnfxModel *model, const RnnfxExportOptions *opts,
                                   RnnfxError *err);

/* The file's text (NUL-terminated, caller frees with free()). The model must
 * be finalized. */
RnnfxStatus rnnfx_export_aidax(const RnnfxModel *model, const RnnfxExportOptions *opts,
                               char **out_text, size_t *out_len, RnnfxError *err);
RnnfxStatus rnnfx_export_nam(const RnnfxModel *model, const RnnfxExportOptions *opts,
                             char **out_text, size_t *out_len, RnnfxError *err);

/* Writes the file atomically (rnnfx_write_file_atomic): on failure the
 * previous file, if any, is untouched. */
RnnfxStatus rnnfx_export_aidax_file(const RnnfxModel *model, const RnnfxExportOptions *opts,
                                    const char *path, RnnfxError *err);
RnnfxStatus rnnfx_export_nam_file(const RnnfxModel *model, const RnnfxExportOptions *opts,
                                  const char *path, RnnfxError *err);

/* ---- shared by the writers (engine-internal) ----------------------------- */

/* A growable text buffer; `failed` is set once an allocation fails and all
 * later writes are dropped, so writers check once at the end. */
typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
} RnnfxText;

void rnnfx_text_printf(RnnfxText *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Length of the well-formed UTF-8 sequence at p (1 to 4 bytes), or 0 when
 * p starts none (a stray byte, an overlong form, a surrogate). p is
 * NUL-terminated, so a cut sequence stops at the NUL. Thread: any. */
size_t rnnfx_utf8_len(const unsigned char *p);
/* A JSON string literal (quoted, escaped; bytes that are not UTF-8 become
 * U+FFFD). */
void rnnfx_text_json_string(RnnfxText *t, const char *s);
/* JSON text appended as is, except that bytes that are not UTF-8 become
 * the escape \ufffd: for text whose non-ASCII bytes all sit inside string
 * literals (any JSON json-c writes). */
void rnnfx_text_utf8_checked(RnnfxText *t, const char *s);
/* A float written so that reading it back gives the same float. */
void rnnfx_text_float(RnnfxText *t, float v);

#endif

/*
 * report.h — the training report: one self-contained HTML file.
 *
 * What a person wants to see after a capture: how good it is (the test ESR
 * and its quality band in words), whether training went well (loss curves),
 * what the model does to real audio (a zoomed waveform overlay of target vs
 * prediction, a spectrum comparison) and what the trainer did to the data
 * (delay, polarity, levels, warnings). Everything is inline SVG and CSS: no
 * scripts, no external files, so the page opens anywhere and can be mailed.
 *
 * This draws; it computes nothing about the model (the caller supplies the
 * signals and numbers). Thread: any (allocates, writes a file).
 */
#ifndef RNNFX_REPORT_H
#define RNNFX_REPORT_H

#include <stddef.h>

#include "status.h"

/* Community quality bands for an ESR: "great" (< 0.01), "good" (< 0.035),
 * "usable" (< 0.1), "poor" otherwise. Thread: any. */
const char *rnnfx_quality_band(double esr);
/* One sentence for the band ("Great: hard to tell apart from the device."). */
const char *rnnfx_quality_sentence(double esr);

typedef struct {
    double seconds;    /* wall time at the end of the epoch */
    double train_loss; /* mean training loss of the epoch */
    double val_esr;    /* validation ESR after it */
} RnnfxReportEpoch;

typedef struct {
    const char *title;        /* model name */
    const char *model_path;
    const char *input_desc;   /* "dry.wav (WAV float, 48000 Hz, 1 ch, 2:03)" */
    const char *target_desc;
    const char *arch_desc;    /* "GRU, hidden 24, 1 layer, no skip, 1,993 parameters" */
    const char *settings;     /* the training settings as JSON text */
    const char *notes;        /* warnings and data decisions, one per line */
    double sample_rate;

    const RnnfxReportEpoch *epochs;
    int n_epochs;

    double test_esr, best_val_esr, linear_esr;
    double train_seconds, samples_per_s;
    int delay, inverted, xcorr_lag, xcorr_inverted;

    /* impulse response from the alignment (may be NULL) */
    const float *ir;
    int ir_len, ir_first_lag;

    /* test material (aligned, same level as the device), for the overlay
     * and the spectra; zoom_start/zoom_len pick the overlay window. */
    const float *target;
    const float *prediction;
    const float *input;       /* dry input, same alignment (may be NULL) */
    size_t n;
    size_t zoom_start, zoom_len;
} RnnfxReport;

/* Writes the report atomically to path. */
RnnfxStatus rnnfx_report_write_html(const char *path, const RnnfxReport *r, RnnfxError *err);

/* Index where a window of `len` samples of x has the most energy (used to
 * choose the overlay window). */
size_t rnnfx_report_loudest(const float *x, size_t n, size_t len);

#endif

/*
 * progress.h — the trainer's progress display.
 *
 * On a terminal: one line redrawn in place with a bar, epoch, elapsed and
 * remaining time, training loss and validation ESR. When stdout is not a
 * terminal (a log file, CI): plain lines, at most one every few seconds plus
 * one per epoch, so logs stay readable. Not a general logging facility.
 *
 * Thread: the thread that drives training; not async-signal-safe.
 */
#ifndef RNNFX_PROGRESS_H
#define RNNFX_PROGRESS_H

#include <stdio.h>

typedef struct {
    FILE *out;
    int tty;             /* 1: redraw in place */
    int width;           /* bar width in characters */
    double start;        /* rnnfx_cli_now() at begin */
    double last_print;   /* time of the last plain line */
    double interval;     /* plain mode: seconds between lines (default 10) */
    int line_open;       /* tty: a partial line is on screen */
    int quiet;           /* 1: print nothing */
    int epoch_lines;     /* plain mode: epoch-end lines printed */
    int held;            /* plain mode: an epoch-end line waits in held_line */
    char held_line[256];
} RnnfxProgress;

/* Starts a display on `out` (usually stdout); tty detection by isatty(). */
void rnnfx_progress_begin(RnnfxProgress *p, FILE *out, int quiet);

/* One update. fraction in [0,1] of the whole run (epochs or time budget);
 * val_esr < 0 means "not measured yet". Plain mode (not a terminal) prints
 * a line every `interval` seconds and at epoch ends, those at most one per
 * RNNFX_PROGRESS_EPOCH_GAP seconds after the first (short epochs printed
 * hundreds of lines a minute); an epoch-end line held back is printed
 * before the next note and at the end, so the last epoch always shows. */
#define RNNFX_PROGRESS_EPOCH_GAP 2.0
void rnnfx_progress_update(RnnfxProgress *p, double fraction, int epoch, int epochs,
                           double train_loss, double val_esr, double best_esr, int epoch_end);

/* Prints a message on its own line without breaking the bar. */
void rnnfx_progress_note(RnnfxProgress *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Ends the bar (newline on a terminal). */
void rnnfx_progress_end(RnnfxProgress *p);

#endif

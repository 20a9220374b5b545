/*
 * train_midi.h — the MIDI mode of rnnfx-train: `rnnfx-train --midi
 * DIR_OR_FILES… -o model.json` (and `--jsb FILE.json` for the JSB Chorales
 * benchmark data in the Boulanger-Lewandowski JSON layout).
 *
 * Reads standard MIDI files, cuts them into piano-roll frames on a grid,
 * splits them deterministically into train/validation/test by a hash of
 * each file's name (so adding a file never moves the others), and trains a
 * MIDI-frame model (sigmoid outputs, binary cross-entropy) with the engine's
 * trainer (engine/train.h: TBPTT, batches, Adam, clipping), with early
 * stopping on the validation negative log-likelihood, checkpoints and
 * resume. The best model (by validation) is written in the rnnfx JSON
 * format, marked "midi-frames" with its grid.
 *
 * This file owns only the MIDI front end; tools/rnnfx-train.c dispatches
 * here when its arguments ask for MIDI.
 *
 * Thread: the program's main thread (prints, reads files, exits nowhere:
 * returns the process exit code).
 */
#ifndef RNNFX_TRAIN_MIDI_H
#define RNNFX_TRAIN_MIDI_H

#include <stddef.h>

/* The MIDI trainer's own state, kept as JSON in its checkpoints (the
 * engine's caller text): best validation NLL (infinite before the first),
 * epochs done, epochs since the best, training seconds so far. */
typedef struct {
    double best_valid;
    int epoch, since_best;
    double seconds;
} RnnfxMidiResume;

/* Reads that state from a checkpoint's caller text. Returns 0, or -1 with
 * msg saying what is wrong (not JSON, a value out of range); keys that are
 * missing keep their starting values. Thread: any. */
int rnnfx_train_midi_parse_resume(const char *text, RnnfxMidiResume *out, char *msg, size_t len);

/* 1 if argv asks for MIDI training (contains --midi or --jsb). */
int rnnfx_train_midi_wanted(int argc, char **argv);

/* Runs the MIDI trainer with rnnfx-train's argv (argv[0] is the program
 * name). Returns the exit code: 0 success, 1 failure, 2 usage error. */
int rnnfx_train_midi_main(int argc, char **argv);

#endif

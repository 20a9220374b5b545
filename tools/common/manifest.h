/*
 * manifest.h — the list of dry/wet pairs of a conditioned capture.
 *
 * A conditioned capture records the same device at several knob settings.
 * The manifest is a text file, one pair per line:
 *
 *     # input            target              knob settings
 *     dry.wav            wet_g03_t07.wav     gain=0.3 tone=0.7
 *     dry.wav            wet_g08_t07.wav     gain=0.8 tone=0.7
 *     "my dry take.wav"  wet_g08_t02.flac    gain=0.8 tone=0.2
 *
 * Blank lines and '#' comments are ignored; file names containing spaces
 * are double-quoted; relative names are relative to the manifest's folder.
 * Every line must set the same knobs (in any order); the knob order of the
 * first line becomes the model's input order (input 1 = first knob).
 *
 * This only parses and checks; it reads no audio.
 * Thread: any (allocates).
 */
#ifndef RNNFX_MANIFEST_H
#define RNNFX_MANIFEST_H

#include <stddef.h>

#include "model.h"
#include "status.h"

typedef struct {
    char *input;  /* resolved path (malloc'd) */
    char *target; /* resolved path (malloc'd) */
    double values[RNNFX_MAX_PARAMS]; /* in the manifest's knob order */
    int line;     /* line number, for messages */
} RnnfxManifestEntry;

typedef struct {
    RnnfxManifestEntry *entries;
    size_t n;
    int n_knobs;
    char knobs[RNNFX_MAX_PARAMS][RNNFX_NAME_LEN];
    double min[RNNFX_MAX_PARAMS], max[RNNFX_MAX_PARAMS];
} RnnfxManifest;

/* Parses a manifest file. Errors name the line: unknown syntax, a missing
 * target, a knob missing or repeated on a line, a non-numeric value, more
 * than RNNFX_MAX_PARAMS knobs, no entries, or a knob that never changes. */
RnnfxStatus rnnfx_manifest_load(const char *path, RnnfxManifest *m, RnnfxError *err);

/* The same from text; base_dir resolves relative names (NULL = as given). */
RnnfxStatus rnnfx_manifest_parse(const char *text, const char *base_dir, RnnfxManifest *m,
                                 RnnfxError *err);

void rnnfx_manifest_free(RnnfxManifest *m); /* NULL-safe */

#endif

/*
 * model_file.h — reading and writing model files.
 *
 * rnnfx's own format is JSON (see README, "Model file format"): versioned,
 * self-describing and readable, with every weight written with enough digits
 * (%.9g) that writing then reading gives bit-identical floats.
 *
 * rnnfx_model_load() reads any supported format, chosen by content, never by
 * file name: rnnfx JSON, AIDA-X/RTNeural Keras-style JSON, Automated-Guitar-
 * AmpModelling/Proteus JSON and Neural Amp Modeler .nam (LSTM). Every size is
 * checked against the declared shape and against the engine's limits before
 * anything is allocated; a bad file returns a status and a message naming the
 * problem. The returned model is finalized.
 *
 * Thread: never the audio thread (reads files and allocates); plugins call
 * these from the LV2 Worker.
 */
#ifndef RNNFX_MODEL_FILE_H
#define RNNFX_MODEL_FILE_H

#include <stddef.h>

#include "model.h"

#define RNNFX_FORMAT_NAME "rnnfx-model"
#define RNNFX_FORMAT_VERSION 1
#define RNNFX_MAX_FILE_BYTES (64u * 1024u * 1024u)

typedef struct {
    /* Sample rate to assume when a file does not say (0 = the format's own
     * default: 48 kHz for AIDA-X and NAM, 44.1 kHz for Proteus files). */
    double default_sample_rate;
} RnnfxLoadOptions;

/* Loads a model file of any supported format. opts may be NULL. */
RnnfxStatus rnnfx_model_load(const char *path, const RnnfxLoadOptions *opts,
                             RnnfxModel **out, RnnfxError *err);

/* Same, from a memory buffer (need not be NUL-terminated). */
RnnfxStatus rnnfx_model_load_memory(const char *data, size_t len, const RnnfxLoadOptions *opts,
                                    RnnfxModel **out, RnnfxError *err);

/* Writes the rnnfx JSON format. The file appears atomically (written to a
 * temporary name beside it, then renamed), so a failure never leaves a
 * half-written model. */
RnnfxStatus rnnfx_model_save(const RnnfxModel *model, const char *path, RnnfxError *err);

/* The rnnfx JSON text of a model; the caller frees it with free(). */
RnnfxStatus rnnfx_model_to_json(const RnnfxModel *model, char **out_text, RnnfxError *err);

/* Reads a whole file into a NUL-terminated heap buffer, refusing files over
 * max_bytes. Shared by the format readers. */
RnnfxStatus rnnfx_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len,
                            RnnfxError *err);

/* How many leading bytes of path a temporary file beside it keeps before a
 * suffix of suffix_len bytes, so that the temporary file's own name stays
 * within 255 bytes, the longest name Linux file systems take: a valid
 * 250-byte output name plus ".tmp-XXXXXX" could not be created (and a
 * training run lost the model it had just finished). Thread: any. */
size_t rnnfx_temp_name_keep(const char *path, size_t suffix_len);

/* Writes bytes to path atomically (temporary file + fsync + rename). */
RnnfxStatus rnnfx_write_file_atomic(const char *path, const void *data, size_t len,
                                    RnnfxError *err);

#endif

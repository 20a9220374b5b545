/*
 * import.h — readers for other projects' model files (internal to the
 * loader; rnnfx_model_load() in model_file.h picks one by content).
 *
 * Three foreign formats map onto the engine's model (model.h, PyTorch
 * layout):
 *   - AIDA-X / RTNeural "Keras-style" JSON: recurrent layers (lstm, gru)
 *     then one dense layer; Keras weight layout (transposed kernels, gate
 *     orders i,f,c,o and z,r,h, GRU bias as two rows), in_skip, in_gain and
 *     out_gain in dB;
 *   - Automated-GuitarAmpModelling / GuitarML Proteus JSON: raw PyTorch
 *     tensors of a "SimpleRNN" (LSTM, GRU or RNN + linear, optional skip,
 *     conditioning inputs after the audio);
 *   - Neural Amp Modeler .nam with the "LSTM" architecture: one flat weight
 *     list, per layer [W_ih | W_hh] row-major, summed bias, h0, c0; then the
 *     head.
 * Every size is checked against the file's own declarations before a value
 * is copied; contradictions are errors, never zero-filled. Architectures the
 * engine does not run get RNNFX_ERR_UNSUPPORTED with a message that lists
 * what is supported.
 *
 * The JSON helpers at the end are shared by the three readers and the
 * self-test; they are not a general JSON API.
 *
 * Thread: every function here allocates or parses: never the audio thread.
 */
#ifndef RNNFX_IMPORT_H
#define RNNFX_IMPORT_H

#include <stddef.h>

#include "model.h"
#include "model_file.h"

struct json_object;

/* AIDA-X / RTNeural Keras-style JSON ("layers" + "in_shape"). Returns a
 * finalized model. */
RnnfxStatus rnnfx_import_aidax(struct json_object *root, const RnnfxLoadOptions *opts,
                               RnnfxModel **out, RnnfxError *err);
/* Automated-GuitarAmpModelling / GuitarML Proteus JSON ("model_data" +
 * "state_dict"). Returns a finalized model. */
RnnfxStatus rnnfx_import_coreaudioml(struct json_object *root, const RnnfxLoadOptions *opts,
                                     RnnfxModel **out, RnnfxError *err);
/* Neural Amp Modeler .nam ("architecture" + "weights"). Returns a finalized
 * model. */
RnnfxStatus rnnfx_import_nam(struct json_object *root, const RnnfxLoadOptions *opts,
                             RnnfxModel **out, RnnfxError *err);

/* Default sample rates of the foreign formats when a file does not say. */
#define RNNFX_AIDAX_DEFAULT_RATE 48000.0
#define RNNFX_COREAUDIOML_DEFAULT_RATE 44100.0
#define RNNFX_NAM_DEFAULT_RATE 48000.0

/* ---- shared helpers (engine-internal) ------------------------------------ */

/* Member `key` of an object, or NULL (also when obj is not an object). */
struct json_object *rnnfx_json_member(struct json_object *obj, const char *key);

/* 1 and *v set if o is a JSON number (integer or double), else 0. */
int rnnfx_json_number(struct json_object *o, double *v);

/* Reads an integer-valued number in [lo, hi] into *v. Returns RNNFX_OK, or
 * RNNFX_ERR_INVALID naming `what`. */
RnnfxStatus rnnfx_json_int(struct json_object *o, long lo, long hi, long *v, const char *what,
                           RnnfxError *err);

/* Reads a flat array of exactly n numbers into dst (as floats). Every value
 * must be finite and representable as a float; the message names `what` and
 * the index of the first bad value. */
RnnfxStatus rnnfx_json_floats(struct json_object *arr, size_t n, float *dst, const char *what,
                              RnnfxError *err);

/* Reads a rows x cols nested array (an array of `rows` arrays of `cols`
 * numbers) into dst, row-major. */
RnnfxStatus rnnfx_json_matrix(struct json_object *arr, int rows, int cols, float *dst,
                              const char *what, RnnfxError *err);

/* Same for a size the engine has a limit for (units, layers, inputs,
 * outputs): from 1 to hi, and a whole number above hi is RNNFX_ERR_LIMIT
 * (a valid file too large for the engine), not RNNFX_ERR_INVALID. */
RnnfxStatus rnnfx_json_size(struct json_object *o, long hi, long *v, const char *what,
                            RnnfxError *err);

/* Length of a JSON array, or -1 if o is not an array. */
long rnnfx_json_array_len(struct json_object *o);

/* A sample rate given as a number or a numeric string. Returns 1 and sets
 * *rate when o holds a plausible rate, 0 when o is NULL, and -1 when o is
 * present but not a plausible rate (1 kHz to 1.536 MHz). */
int rnnfx_json_sample_rate(struct json_object *o, double *rate);

/* 3 when data begins with a UTF-8 byte order mark, else 0: the bytes to
 * skip before parsing (some Windows editors write one, and the readers of
 * NAM, AIDA-X and Proteus files skip it). */
size_t rnnfx_json_bom_len(const char *data, size_t len);

/* Copies a string member into dst (truncated to size-1, NUL-terminated) if it
 * exists and is a non-empty string; returns 1 if it copied. */
int rnnfx_json_copy_string(struct json_object *obj, const char *key, char *dst, size_t size);

/* Names the conditioning inputs of an imported audio model the way the
 * foreign formats define them: every input after the audio is an unnamed
 * knob normalised to 0..1 ("param1", "param2", ...; default 0.5). Sets
 * n_params = input_size - 1. */
void rnnfx_import_unnamed_knobs(RnnfxArch *arch);

/* The common end of a reader: if st is RNNFX_OK, finalizes m and hands it to
 * *out; otherwise (or if finalize fails) frees m. Returns the final status. */
RnnfxStatus rnnfx_import_finish(RnnfxModel *m, RnnfxStatus st, RnnfxModel **out,
                                RnnfxError *err);

#endif

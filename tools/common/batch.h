/*
 * batch.h — the engine of rnnfx-process: which files, which output names,
 * and running them through the chain on every core.
 *
 * A batch is a list of items (input path -> output path). Inputs come from
 * files, folders (searched recursively for files whose extension libsndfile
 * knows) and list files (one path per line). Output names come from an
 * output folder and/or a pattern; subfolders of a folder input are mirrored
 * under the output folder. Each file is streamed in chunks (memory does not
 * grow with its length), each channel runs through its own mono RnnfxChain
 * over one shared model, or a stereo file through one stereo chain (see
 * below; the same samples either way, and the plugin's for the same
 * model, rate and controls), the chain's resampler latency is removed
 * so the output lines up with the input and has the same length, and the
 * result is written atomically (temporary name in the output folder, then
 * rename) in the input's format unless told otherwise. The chunks are
 * multiples of the chain's block, so the output is the very output of a
 * whole-file run (rnnfx_batch_process_channel), whatever the chunk size.
 *
 * Files run in parallel on a pool of threads; the channels of each chunk
 * are separate tasks, so a thread that finds no file left to start helps
 * with files in progress, and one long stereo file still uses two cores.
 * While enough files wait to keep every thread busy (or with one thread),
 * a stereo file whose model has a pair kernel (rnnfx_model_runs_paired)
 * gets one stereo chain instead, whose two channels share one time loop:
 * less CPU time for the same samples.
 *
 * An optional impulse response (a cabinet, ir.h) runs after the model and
 * before the dry/wet mix, as in the plugin. It is prepared once for each
 * (rate, channel layout) the files need and shared by their chains. A mono
 * response feeds every channel, so channels keep their own mono chains; a
 * stereo response on a stereo file gives its left side to channel 0 and
 * its right to channel 1, normalised together, which only a 2-channel chain
 * (the plugin's stereo chain) can do: such a file runs as one task per
 * chunk. Files of 1 or 3+ channels get the response mixed down to mono.
 *
 * An optional tail (tail_seconds, tail_auto) makes each output longer than
 * its input: after the input's last frame the chain is fed zeros, as a host
 * that keeps running the plugin on silence does, and that much of its
 * answer (the model's decay, the response's tail) is written after the
 * input's length. The file's own frames come out as without a tail, to the
 * bit: the zeros only continue the same grid of blocks.
 *
 * What this is not: a command-line parser (rnnfx-process.c) or an audio I/O
 * layer (audio_io.h). Nothing here prints except through the progress
 * callback the caller supplies. Thread: every function is for the calling
 * (main) thread; rnnfx_batch_run() starts and joins its own workers.
 */
#ifndef RNNFX_BATCH_H
#define RNNFX_BATCH_H

#include <signal.h>
#include <stddef.h>

#include "chain.h"
#include "model.h"

typedef enum {
    RNNFX_BATCH_PENDING = 0,
    RNNFX_BATCH_DONE,
    RNNFX_BATCH_SKIPPED, /* output existed and skip_existing was set */
    RNNFX_BATCH_FAILED,
    RNNFX_BATCH_CANCELLED /* not started, or stopped between chunks, because the run
                             was interrupted (nothing written) */
} RnnfxBatchState;

typedef struct {
    char *in_path;  /* as given or found */
    char *rel_dir;  /* subfolder below the folder it was found in, "" or "a/b/" */
    int found;      /* found by a folder scan (not named by the user) */
    char *out_path; /* filled by rnnfx_batch_name_outputs() */
    /* results */
    RnnfxBatchState state;
    char error[600];
    size_t frames;      /* input frames (the output holds frames + tail_frames) */
    size_t tail_frames; /* frames written after the input's end (options' tail) */
    int channels;
    int sample_rate;
    int out_float;    /* the output holds float samples (kept beyond full scale) */
    size_t clipped;   /* samples beyond full scale (0 dBFS); clipped unless out_float */
    size_t nonfinite; /* non-finite output samples written as 0 (should be 0) */
    size_t nonfinite_in; /* non-finite input samples (the chain plays them as 0) */
    float peak;       /* largest |output| before clipping */
    double seconds;   /* wall time spent on this file */
} RnnfxBatchItem;

typedef struct {
    RnnfxBatchItem *items;
    size_t count, cap;
    /* A folder that folder scans never enter (the output folder, so that a
     * second run into an output folder inside the inputs does not take the
     * first run's outputs as inputs). Set with rnnfx_batch_list_skip_dir. */
    char *skip_dir;
    /* Folders given as inputs (arguments or list lines) that hold no audio
     * file. Not an error of the whole run: the caller reports each as a
     * failed input beside the files' own failures, and stops with a usage
     * error only when nothing else was found. */
    char **empty_dirs;
    size_t n_empty_dirs;
    /* Files a folder scan found that are this run's own outputs (an earlier
     * run's, written beside their inputs by a --pattern): dropped from the
     * inputs by rnnfx_batch_name_outputs, so that a run repeated with
     * --skip-existing resumes instead of failing. */
    size_t n_own_outputs;
} RnnfxBatchList;

void rnnfx_batch_list_init(RnnfxBatchList *list);
void rnnfx_batch_list_free(RnnfxBatchList *list);

/* Makes folder scans skip `dir` (which need not exist yet). Returns 0, or -1
 * when out of memory. */
int rnnfx_batch_list_skip_dir(RnnfxBatchList *list, const char *dir);

/* Adds one command-line argument: a file, a folder (recursive; only files
 * with an audio extension libsndfile knows, hidden entries skipped, sorted
 * by name), or "@LIST" (a list file). A folder with no audio file in it is
 * added to empty_dirs. Returns 0, or -1 with a message (a folder or list
 * that cannot be read, out of memory). */
int rnnfx_batch_add_arg(RnnfxBatchList *list, const char *arg, char *err, size_t err_len);

/* Adds every path of a list file: one per line, blank lines and lines
 * starting with '#' ignored, relative paths taken relative to the list
 * file's folder, "-" reads standard input. Each line may itself be a file or
 * a folder. */
int rnnfx_batch_add_list(RnnfxBatchList *list, const char *list_path, char *err, size_t err_len);

/* Output naming.
 * pattern placeholders: {name} base name without extension, {ext} the
 * output extension (the input's, or the --format one), {dir} the mirrored
 * subfolder ("" or "a/b/"), {model} the model file's base name. Default
 * "{dir}{name}.{ext}". {dir} is the subfolder below the folder input a file
 * was found in: "" for files named on their own (as arguments or list
 * lines), wherever they are. With out_dir the result is out_dir/expansion;
 * without it, the expansion is taken relative to each input's own folder.
 * Unknown placeholders and patterns naming the same output for two inputs
 * are errors (returned, with a way out that works for those two inputs),
 * as is an output that is one of the inputs. */
typedef struct {
    const char *out_dir;    /* may be NULL */
    const char *pattern;    /* may be NULL */
    const char *model_name; /* for {model}; may be NULL */
    const char *out_ext;    /* replaces each input's extension; NULL keeps it */
} RnnfxBatchNaming;

int rnnfx_batch_name_outputs(RnnfxBatchList *list, const RnnfxBatchNaming *naming, char *err,
                             size_t err_len);

/* Progress as seen by the caller's callback (called on the main thread about
 * every 0.25 s and once at the end). */
typedef struct {
    size_t files_total, files_done, files_failed, files_skipped;
    double audio_seconds_total; /* from the headers; unreadable files count 0 */
    double audio_seconds_done;  /* processed so far, including partial files */
    double elapsed;             /* wall seconds since the start */
    int final;                  /* 1 on the last call */
} RnnfxBatchProgress;

typedef void (*RnnfxBatchProgressFn)(const RnnfxBatchProgress *p, void *user);

typedef struct {
    const RnnfxModel *model; /* finalized audio model, shared read-only */
    RnnfxChainControls controls;
    int jobs;            /* worker threads (>= 1) */
    int out_format;      /* libsndfile major format for outputs; 0 = input's */
    int out_subtype;     /* libsndfile subtype; 0 = input's (or the major's default) */
    int overwrite;       /* replace existing outputs */
    int skip_existing;   /* leave existing outputs and mark the item skipped */
    size_t block;        /* chain block size (the output does not depend on it) */
    size_t chunk;        /* frames per chunk of a file, rounded up to a multiple of
                            block; 0 = 65536 (the output does not depend on it) */
    volatile sig_atomic_t *cancel; /* when *cancel becomes non-zero no new file starts */
    RnnfxBatchProgressFn progress;
    void *progress_user;
    /* Impulse response file run after the model (ir.h), or NULL. Read once
     * for each (rate, channel layout) the files need; a rate it cannot be
     * made for fails those files with a message naming it. The caller
     * should check it first (rnnfx_ir_load) so that a bad file stops the
     * run before it starts. */
    const char *ir_path;
    /* Output written after each input's end, from zeros fed to the chain
     * (see above). tail_auto: the impulse response's length in frames at
     * the file's rate (the whole convolution tail; 0 without ir_path),
     * tail_seconds ignored. Otherwise tail_seconds (0 = outputs as long as
     * inputs, the default), rounded to the nearest frame at the file's
     * rate. The caller checks the range (rnnfx-process: 0..60 s). */
    double tail_seconds;
    int tail_auto;
} RnnfxBatchOptions;

void rnnfx_batch_options_init(RnnfxBatchOptions *opts);

/* Checks, from each input's header, that its output can be written in the
 * format the options ask for (out_format and/or out_subtype: "--float" on
 * a FLAC input cannot), so that an impossible combination stops the run
 * before any work instead of failing file after file. Inputs that cannot
 * be opened are passed over (they fail on their own in the run). Returns
 * how many inputs cannot be written; *first gets the first one's index and
 * why (why_len bytes) the reason, with the option to add when there is one
 * ("add --format wav"). Nothing to check (0) when the options keep each
 * input's format. */
size_t rnnfx_batch_check_formats(const RnnfxBatchList *list, const RnnfxBatchOptions *opts,
                                 size_t *first, char *why, size_t why_len);

/* Processes every item; fills each item's results. Returns the number of
 * failed items (0 = all done or skipped). A failed item leaves no output,
 * no temporary file and no output folder that this run created for it.
 * Memory: about (chunk + 4096) * 8 bytes per channel for each file in
 * progress (at most `jobs` files), whatever the files' and tails' lengths.
 * Progress counts input frames (a tail's zeros are extra work the ETA
 * does not foresee). */
size_t rnnfx_batch_run(RnnfxBatchList *list, const RnnfxBatchOptions *opts);

/* Runs one whole mono signal through a fresh chain, giving what the batch
 * gives for that channel of a file without ir_path (controls snapped at the start, latency
 * removed, same length out): the one-shot reference the streamed batch is
 * tested against. in and out may be the same array. Thread: any non-audio
 * thread. */
RnnfxStatus rnnfx_batch_process_channel(const RnnfxModel *model, const RnnfxChainControls *controls,
                                        double rate, size_t block, const float *in, float *out,
                                        size_t n, RnnfxError *err);

/* The libsndfile major format for a name such as "wav", "flac", "aiff",
 * "caf", "ogg", "rf64", "w64", "au"; 0 if unknown. *ext gets the file
 * extension to use. */
int rnnfx_batch_major_from_name(const char *name, const char **ext);

#endif

/*
 * cli.h — small helpers shared by the rnnfx command-line programs.
 *
 * Strict number parsing (a typo such as "--mix 0,5" is an error, not 0),
 * "name=value" knob settings, a monotonic clock, formatting of durations
 * for progress lines, and the project's version. Nothing here prints
 * except the checks that say so (rnnfx_cli_set_once,
 * rnnfx_cli_check_folder_of) and rnnfx_cli_version; nothing here is meant
 * for an audio thread (they may format text).
 */
#ifndef RNNFX_CLI_H
#define RNNFX_CLI_H

#include <stddef.h>

#include "model.h"
#include "chain.h"

/* The release the programs belong to, printed by every tool's --version.
 * Defined here only. (The LV2 plugin's lv2:minorVersion/microVersion in
 * ttl/ version its port interface and change on their own.) */
#define RNNFX_VERSION "0.2.0"

/* For "--version": prints "<prog> <RNNFX_VERSION>" on standard output and
 * returns 0, the exit status for main to return. Thread: main. */
int rnnfx_cli_version(const char *prog);

/* Parses a whole string as a finite double / an int in [lo, hi]. Returns 0 on
 * success, -1 if the text is not entirely a number or is out of range.
 * Thread: any. */
int rnnfx_cli_parse_double(const char *text, double *out);
int rnnfx_cli_parse_int(const char *text, long lo, long hi, long *out);

/* One "--set name=value" request, resolved against a model later (the name is
 * kept as text because the model may be loaded after the options are read). */
typedef struct {
    char name[RNNFX_NAME_LEN];
    double value;
} RnnfxCliKnob;

/* Parses "name=value" into *knob. Returns 0 or -1 (message in err). */
int rnnfx_cli_parse_knob(const char *text, RnnfxCliKnob *knob, char *err, size_t err_len);

/* The model's knob names, ", " between them, or "none": for a message
 * about a knob name the model does not have, so the user sees the right
 * ones. Cut short if buf is too small. Thread: any. */
void rnnfx_cli_knob_names(const RnnfxModel *model, char *buf, size_t len);

/* Resolves knob names against a model: fills index[i] with the knob index.
 * Returns 0, or -1 with a message listing the model's knobs (or naming a
 * knob given twice). Thread: any. */
int rnnfx_cli_resolve_knobs(const RnnfxModel *model, const RnnfxCliKnob *knobs, int n_knobs,
                            int *index, char *err, size_t err_len);

/* GNU-style "--name=value" for the programs that read argv by hand (as
 * rnnfx-train, which uses getopt_long, already takes it): returns a new
 * argument vector in which every "--name=value" whose "--name" is listed
 * in value_opts (NULL-terminated) is split into "--name" and "value";
 * everything else, and everything after "--", is kept as it is (so
 * "--float=1" stays an unknown option). *argc_out gets the new count; the
 * vector ends with NULL and lives until the program exits (the previous
 * one is freed by a new call). NULL when out of memory. Thread: the main
 * thread, once, before any other thread starts. */
char **rnnfx_cli_split_equals(int argc, char **argv, const char *const *value_opts,
                              int *argc_out);

/* For an option that names the one file of its kind (the model, the
 * output, ...): returns 0 when *slot is still NULL and sets it to value;
 * else prints "<prog>: <opt> is given twice ('a', 'b')" and returns -1 (a
 * usage error: the last one used to win without a word). Thread: any. */
int rnnfx_cli_set_once(const char *prog, const char *opt, const char **slot, const char *value);

/* For an option that takes one value (a gain, a format): 0 the first time
 * (*given is then set), -1 after printing "<prog>: <opt> is given twice"
 * when *given is already set. A second value (an edited or script-appended
 * command line) used to win without a word. Thread: any. */
int rnnfx_cli_once(const char *prog, const char *opt, int *given);

/* Seconds from an arbitrary fixed point (CLOCK_MONOTONIC). Thread: any. */
double rnnfx_cli_now(void);

/* qsort comparison of doubles, ascending. Thread: any. */
int rnnfx_cli_cmp_double(const void *a, const void *b);

/* "1:02:03", "4:05" or "12.3 s": a duration for humans. Thread: any. */
void rnnfx_cli_format_duration(double seconds, char *buf, size_t len);

/* Number of CPUs this process may run on (online and in its affinity
 * mask, as nproc counts them; at least 1). Thread: any. */
int rnnfx_cli_cpu_count(void);

/* For a path a model is about to be written to: "NAM" or "AIDA-X" when
 * its extension names that format (.nam, .aidax), "audio" for an audio
 * file extension (.wav, .flac, .aiff, ...; any case), else NULL. Tools
 * that write rnnfx JSON refuse such names: JSON under them is unreadable
 * to the programs the name promises. Thread: any. */
const char *rnnfx_cli_foreign_model_name(const char *path);

/* 1 if a and b both exist and are the same file (also through another
 * path or a link); NULL is never the same. Thread: any. */
int rnnfx_cli_same_file(const char *a, const char *b);

/* 1 if a and b name the same file, whether it exists yet or not: the same
 * existing file (as rnnfx_cli_same_file), or the same name in the same
 * folder however the folder is spelt ("out/m.json", "./out/../out/m.json").
 * For two outputs of one run, which would overwrite each other. NULL is
 * never the same. Thread: any. */
int rnnfx_cli_same_path(const char *a, const char *b);

/* Whether the folder `path` would be written into exists and is writable,
 * checked before a long run so that it cannot end in "cannot write" with
 * its result lost. Returns 0, or -1 after printing "<prog>: cannot write
 * <path>: ..." to stderr. Thread: any. */
int rnnfx_cli_check_folder_of(const char *prog, const char *path);

/* What an existing output path is when it is neither a regular file nor
 * a folder ("a device", "a pipe", "a socket"), else NULL. Outputs are
 * written to a temporary file and renamed over the name, so --overwrite
 * or --force on /dev/null or /dev/stdout replaced the device node with a
 * file; the tools refuse such names whatever the flags. Thread: any. */
const char *rnnfx_cli_special_file(const char *path);

/* The tools' refusal of such an output: prints "<prog>: <what> <path> is
 * a pipe, not a file to write; choose another name" (what: the option, or
 * NULL) and returns -1 when rnnfx_cli_special_file names it, else 0.
 * Thread: any. */
int rnnfx_cli_refuse_special(const char *prog, const char *what, const char *path);

/* why without a leading "path: " (the engine's and the I/O layer's
 * messages usually name the file already, and the tools print it before
 * the reason themselves). Thread: any. */
const char *rnnfx_cli_without_path(const char *why, const char *path);

/* 1 if an audio model's file stated no sample rate of its own (the rate it
 * has is then --rate's or the format's default; the loader records which,
 * RnnfxMeta.sample_rate_assumed). Thread: any. */
int rnnfx_cli_model_rate_assumed(const RnnfxModel *model);

/* dB <-> linear, with -inf dB for 0. Thread: any. */
double rnnfx_cli_db_to_lin(double db);
double rnnfx_cli_lin_to_db(double lin);

/* What an audio model puts out on silence once settled: its output after
 * RNNFX_CLI_REST_SAMPLES zeros from a reset, knobs at their defaults (as
 * the chain starts every instance). A capture's is close to 0 (the
 * published files seen here: at most 0.014); a model whose export swapped
 * gates or biases sits far off it (a mis-converted AIDA-X GRU file: +0.198,
 * a constant DC offset under every note). NAN for a MIDI-frame model or
 * when there is no memory. Thread: any but audio (allocates). */
#define RNNFX_CLI_REST_SAMPLES 4096
double rnnfx_cli_model_rest_output(const RnnfxModel *model);
/* The model's level (level.h; chain.h's rnnfx_chain_core_level_db, from
 * the same rest state): its K-weighted gain in dB on the reference guitar
 * part at its own rate, NAN for a MIDI-frame model or near-silent output.
 * Thread: any but audio (allocates, runs the model for 2 s of audio). */
double rnnfx_cli_model_level_db(const RnnfxModel *model);
/* Beyond this the tools warn, as the plugin does (chain.h). */
#define RNNFX_CLI_REST_WARN RNNFX_CHAIN_REST_WARN
/* The warning's text for rest output `rest` (with no program prefix or
 * newline), or "" when |rest| is within RNNFX_CLI_REST_WARN or NAN.
 * Thread: any. */
void rnnfx_cli_rest_warning(double rest, char *buf, size_t len);

#endif

/*
 * lv2host.h — a small LV2 host on top of lilv, for tests and benchmarks.
 *
 * It loads one bundle directory (the built, installed-layout rnnfx.lv2) the
 * way a DAW does and provides what DAWs provide: URID map/unmap, the Worker
 * (on its own thread, or synchronously), State save/restore through lilv
 * (which supplies mapPath), Log and Options (sample rate, block lengths).
 * It knows nothing about rnnfx beyond the URIs it is told; it sends patch:Set
 * and MIDI CC events, collects the plugin's notify messages and log lines.
 *
 * What it is not: a real-time host. Locks appear only in host code that a
 * real host would also run outside the audio thread, except schedule_work /
 * respond, which are lock-free rings so that a test can count the plugin's
 * own lock and allocation calls inside run().
 *
 * Thread: every function is for the test's main thread (which plays the
 * audio thread) unless noted.
 */
#ifndef RNNFX_TEST_LV2HOST_H
#define RNNFX_TEST_LV2HOST_H

#include <stddef.h>
#include <stdint.h>

typedef struct Lv2Host Lv2Host;

typedef enum {
    LV2HOST_WORKER_NONE = 0, /* no Worker feature at all */
    LV2HOST_WORKER_SYNC,     /* work() runs inside schedule_work */
    LV2HOST_WORKER_THREAD    /* work() runs on a worker thread */
} Lv2HostWorkerMode;

typedef struct {
    double rate;
    uint32_t max_block;
    Lv2HostWorkerMode worker;
    int no_options; /* 1: do not pass the Options feature */
    int no_log;     /* 1: do not pass the Log feature */
} Lv2HostConfig;

/* The bundle to test, into buf: $RNNFX_LV2_BUNDLE when set (an installed
 * copy: tests/test_lv2_install.sh), else "$BUILD/rnnfx.lv2" (BUILD unset
 * or empty: "build"), the one the build made. 0 if it exists; else -1
 * after saying so on stderr. */
int lv2host_built_bundle(char *buf, size_t len);

/* Loads bundle_dir (a directory path) and instantiates plugin_uri.
 * On failure returns NULL and writes a message into err. */
Lv2Host *lv2host_new(const char *bundle_dir, const char *plugin_uri, const Lv2HostConfig *cfg,
                     char *err, size_t errlen);
void lv2host_free(Lv2Host *host);

/* Port discovery through lilv (what the TTL says). */
uint32_t lv2host_num_ports(const Lv2Host *host);
const char *lv2host_port_symbol(const Lv2Host *host, uint32_t index); /* NULL if none */
int lv2host_port_index(const Lv2Host *host, const char *symbol);      /* -1 if none */
int lv2host_port_is(const Lv2Host *host, uint32_t index, const char *class_uri);
/* TTL default/min/max of a control port (NAN when absent). */
void lv2host_port_range(const Lv2Host *host, uint32_t index, float *def, float *min, float *max);
/* Number of audio inputs (= outputs) the plugin has. */
int lv2host_audio_channels(const Lv2Host *host);

/* Control port values (inputs are applied at the next run). */
void lv2host_set(Lv2Host *host, const char *symbol, float value);
float lv2host_get(const Lv2Host *host, const char *symbol);

/* Events queued for the next run, at frame 0. Return 0 when queued. */
int lv2host_send_path(Lv2Host *host, const char *property_uri, const char *path);
int lv2host_send_get(Lv2Host *host);
/* 1: send patch:Set/Get as atom:Blank, the type older hosts give objects. */
void lv2host_blank_objects(Lv2Host *host, int blank);
int lv2host_send_midi(Lv2Host *host, const uint8_t *msg, uint32_t size);

/* Hooks around the audio-thread section of each cycle (plugin run plus
 * delivery of worker responses), e.g. for an allocation counter. */
void lv2host_set_hooks(Lv2Host *host, void (*enter)(void *), void (*leave)(void *), void *ctx);

/* Makes schedule_work ask accept(ctx, size, data) first and answer
 * LV2_WORKER_ERR_NO_SPACE when it returns 0, as a host whose worker queue
 * is full does (NULL: accept everything). accept runs on the thread that
 * schedules (usually the audio thread). */
void lv2host_set_schedule_filter(Lv2Host *host, int (*accept)(void *ctx, uint32_t size,
                                                              const void *data),
                                 void *ctx);

/* Makes the worker's respond refuse answers longer than max_size bytes
 * (LV2_WORKER_ERR_NO_SPACE), as a host with a small answer queue does
 * (jalv's holds 4 KB); 0 lifts the limit. */
void lv2host_set_respond_limit(Lv2Host *host, uint32_t max_size);

/* While hold is 1, lv2host_run keeps worker responses queued instead of
 * delivering them (a host whose audio thread picks them up late). */
void lv2host_hold_responses(Lv2Host *host, int hold);

/* One cycle: connects audio buffers (in[c], out[c], c < channels), runs the
 * plugin for n <= max_block frames, then delivers pending worker responses
 * and calls end_run, as hosts do. */
void lv2host_run(Lv2Host *host, const float *const *in, float *const *out, uint32_t n);

/* Waits (up to timeout_ms) until the worker has handled every request sent
 * so far. Returns 0 when idle. Responses are delivered at the next run. */
int lv2host_wait_worker(Lv2Host *host, int timeout_ms);

/* Calls activate/deactivate. lv2host_new activates. */
void lv2host_activate(Lv2Host *host);
void lv2host_deactivate(Lv2Host *host);

/* State through lilv: save to dir/state.ttl (with the host's mapPath), and
 * restore from such a directory or from a preset URI. Return 0 on success. */
int lv2host_save_state(Lv2Host *host, const char *dir);
int lv2host_restore_state(Lv2Host *host, const char *dir);
int lv2host_apply_preset(Lv2Host *host, const char *preset_uri);
/* The value the saved state.ttl holds for a property, as text ("" if none).
 * Thread: any. */
int lv2host_state_file_value(const char *dir, const char *property_uri, char *buf, size_t len);

/* Latest value of a readable/writable parameter seen on the notify port:
 * strings and paths as text, numbers formatted with %.9g. Returns 0 if seen. */
int lv2host_param(const Lv2Host *host, const char *property_uri, char *buf, size_t len);
/* How many patch:Set messages the plugin has emitted so far. */
int lv2host_notify_count(const Lv2Host *host);

/* Everything the plugin logged (one line per message, prefixed by the log
 * type: "error: ", "warning: ", "note: ", "trace: "). */
const char *lv2host_log(Lv2Host *host);
void lv2host_log_clear(Lv2Host *host);
/* How many messages of each kind were logged inside run(). */
int lv2host_log_count_in_run(const Lv2Host *host);
/* How many messages came with a format that still had conversions to make
 * (anything but "%%"): the plugins format their messages themselves, since
 * some hosts cannot (plugin/lv2_features.h). */
int lv2host_log_count_with_args(const Lv2Host *host);

#endif

/*
 * lv2_features.h — finding a host feature, and a guard around the host's
 * log, shared by both plugins.
 *
 * Hosts hand the plugin a NULL-terminated array of features. Some fill it
 * carelessly: lv2file (0.95, Debian 12) declares its worker:schedule
 * feature inside a block that ends before it instantiates the plugin, so
 * the array's last entry points at a stack slot reused by then: its URI is
 * NULL or any stale value (seen: 0x41564952, four bytes of a WAV header),
 * and a plain strcmp over the array crashed the plugin in about half of
 * all runs (every run with address randomisation off). So an entry counts
 * only if its URI is on mapped memory (mincore; never on the audio
 * thread), and only the bytes a match needs are
 * compared; entries without a URI, and features whose data is NULL, count
 * as absent.
 *
 * Some hosts also format log messages carelessly: Audacity (3.2.4, and the
 * same code up to its current sources) runs vsnprintf twice over one
 * va_list, so the second pass reads arguments that are already consumed and
 * any message with a %s argument crashes it; a plugin that logs at
 * instantiate cannot even be scanned there (its scanner process dies and
 * the plugin is listed as failed). RnnfxLog sits between a plugin's
 * LV2_Log_Logger and the host's log: it formats the message itself and
 * passes the host the finished text, with every '%' doubled, as a format
 * with no arguments, which any host prints as is.
 *
 * What this is not: a check that the host's feature data is well formed,
 * or a real-time-safe logger (the plugins log from instantiation and Worker
 * threads only).
 */
#ifndef RNNFX_LV2_FEATURES_H
#define RNNFX_LV2_FEATURES_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lv2/core/lv2.h>
#include <lv2/log/log.h>

/* Whether the page holding p is mapped (so reading it cannot fault). */
static inline int rnnfx_lv2_mapped(const void *p)
{
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    unsigned char in_core;
    return mincore((void *)((uintptr_t)p & ~(page - 1)), 1, &in_core) == 0;
}

/* The data of the feature named uri, or NULL. Thread: not audio (a system
 * call per entry; instantiate, state save/restore; no allocation). */
static inline void *rnnfx_lv2_feature(const LV2_Feature *const *features, const char *uri)
{
    const size_t n = strlen(uri) + 1; /* a match reads these bytes, no more */
    for (int i = 0; features && features[i]; i++) {
        const char *u = features[i]->URI;
        if (u && rnnfx_lv2_mapped(u) && rnnfx_lv2_mapped(u + n - 1) && !strncmp(u, uri, n))
            return features[i]->data;
    }
    return NULL;
}

/* A log interface that forwards finished text to the host's (see above).
 * Lives in the plugin instance, so it outlives every call made through it. */
typedef struct {
    LV2_Log_Log iface;
    const LV2_Log_Log *host;
} RnnfxLog;

/* Longest message passed on (longer ones are cut): a model path (2048
 * bytes at most) and its sentence. */
enum { RNNFX_LOG_MAX = 3072 };

/* Thread: whichever logs (instantiation, Worker); uses ~9 KB of stack. */
LV2_LOG_FUNC(3, 0)
static inline int rnnfx_log_vprintf(LV2_Log_Handle handle, LV2_URID type, const char *fmt,
                                    va_list ap)
{
    const RnnfxLog *log = handle;
    char msg[RNNFX_LOG_MAX], text[2 * RNNFX_LOG_MAX];
    if (vsnprintf(msg, sizeof msg, fmt, ap) < 0) return 0;
    size_t j = 0;
    for (size_t i = 0; msg[i]; i++) {
        if (msg[i] == '%') text[j++] = '%';
        text[j++] = msg[i];
    }
    text[j] = '\0';
    /* a plain pointer: the member's printf-format attribute would flag a
     * non-literal format, which here is deliberate (text has no conversion) */
    int (*host_printf)(LV2_Log_Handle, LV2_URID, const char *, ...) = log->host->printf;
    return host_printf(log->host->handle, type, text);
}

/* Thread: as rnnfx_log_vprintf. */
LV2_LOG_FUNC(3, 4)
static inline int rnnfx_log_printf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = rnnfx_log_vprintf(handle, type, fmt, ap);
    va_end(ap);
    return n;
}

/* What to give lv2_log_logger_init for the host's log `host`: `log`, set to
 * forward to it, or `host` itself when it has no printf to forward to (NULL
 * stays NULL: the logger then writes to stderr). Thread: instantiation. */
static inline LV2_Log_Log *rnnfx_log_wrap(RnnfxLog *log, LV2_Log_Log *host)
{
    if (!host || !host->printf) return host;
    log->host = host;
    log->iface.handle = log;
    log->iface.printf = rnnfx_log_printf;
    log->iface.vprintf = rnnfx_log_vprintf;
    return &log->iface;
}

#endif

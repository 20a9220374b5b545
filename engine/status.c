/*
 * status.c — status strings and error-message helpers (see status.h).
 */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *rnnfx_strerror(RnnfxStatus status)
{
    switch (status) {
    case RNNFX_OK: return "success";
    case RNNFX_ERR_ARG: return "invalid argument";
    case RNNFX_ERR_NOMEM: return "out of memory";
    case RNNFX_ERR_IO: return "input/output error";
    case RNNFX_ERR_PARSE: return "malformed file";
    case RNNFX_ERR_FORMAT: return "unrecognised model format";
    case RNNFX_ERR_INVALID: return "inconsistent model";
    case RNNFX_ERR_UNSUPPORTED: return "unsupported model";
    case RNNFX_ERR_LIMIT: return "model exceeds the engine's limits";
    }
    return "unknown status";
}

RnnfxStatus rnnfx_fail(RnnfxError *err, RnnfxStatus status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

void rnnfx_error_prefix(RnnfxError *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    /* Truncation is acceptable: the start of a message says the most. */
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3)
        n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t rest = sizeof err->msg - n - 3;
    size_t olen = strnlen(old, rest);
    memcpy(err->msg + n + 2, old, olen);
    err->msg[n + 2 + olen] = '\0';
}

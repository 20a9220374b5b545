/*
 * status.h — the engine's error vocabulary.
 *
 * Every engine call that can fail returns an RnnfxStatus. Calls that parse
 * or validate input also fill an RnnfxError with a sentence naming the exact
 * problem ("layer 0: weight_hh has 1024 values, expected 4096"), because a
 * user with a broken model file needs to know what is broken, not just that
 * something is. The engine never prints or exits; tools print these messages.
 */
#ifndef RNNFX_STATUS_H
#define RNNFX_STATUS_H

#include <stddef.h>

typedef enum {
    RNNFX_OK = 0,
    RNNFX_ERR_ARG,         /* a caller passed an invalid argument */
    RNNFX_ERR_NOMEM,       /* an allocation failed */
    RNNFX_ERR_IO,          /* a file could not be opened, read or written */
    RNNFX_ERR_PARSE,       /* the file is not well-formed (JSON syntax, truncation) */
    RNNFX_ERR_FORMAT,      /* well-formed, but not a model format we recognise */
    RNNFX_ERR_INVALID,     /* recognised, but sizes or values are inconsistent */
    RNNFX_ERR_UNSUPPORTED, /* a valid model of an architecture we do not run */
    RNNFX_ERR_LIMIT        /* a size exceeds the engine's safety limits */
} RnnfxStatus;

/* A human-readable message about the last failure of one call. */
typedef struct {
    char msg[512];
} RnnfxError;

/* Short fixed description of a status code. Thread: any. */
const char *rnnfx_strerror(RnnfxStatus status);

/* printf-style helper: writes the message into err (if err is not NULL) and
 * returns status, so that failure paths read `return rnnfx_fail(err, ...)`.
 * Thread: any (not the audio thread: it formats text). */
RnnfxStatus rnnfx_fail(RnnfxError *err, RnnfxStatus status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefixes an existing message with context ("model.json: ..."). Thread: any. */
void rnnfx_error_prefix(RnnfxError *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif

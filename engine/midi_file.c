/*
 * midi_file.c — the strict Standard MIDI File reader and writer (see
 * midi_file.h for the contract).
 *
 * Parsing is a cursor over a byte range that can never move past its end:
 * every read goes through a helper that checks the remaining length first,
 * so a truncated or lying file yields an error, never an out-of-bounds read.
 * Tracks are parsed one after another into one growing event array, which is
 * then merged into time order with a stable sort.
 */
#include "midi_file.h"
#include "model_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- reading ------------------------------------------------------------ */

typedef struct {
    const uint8_t *p;   /* next byte */
    const uint8_t *end; /* one past the last byte of the range */
    const uint8_t *base; /* start of the whole file, for offsets in messages */
} Cursor;

static size_t cur_left(const Cursor *c) { return (size_t)(c->end - c->p); }
static size_t cur_off(const Cursor *c) { return (size_t)(c->p - c->base); }

static int cur_u8(Cursor *c, uint8_t *v)
{
    if (c->p >= c->end)
        return 0;
    *v = *c->p++;
    return 1;
}

static int cur_be(Cursor *c, int nbytes, uint32_t *v)
{
    if (cur_left(c) < (size_t)nbytes)
        return 0;
    uint32_t x = 0;
    for (int i = 0; i < nbytes; i++)
        x = (x << 8) | c->p[i];
    c->p += nbytes;
    *v = x;
    return 1;
}

/* Variable-length quantity: at most 4 bytes (28 bits), as the standard says. */
static int cur_vlq(Cursor *c, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t b;
        if (!cur_u8(c, &b))
            return 0;
        x = (x << 7) | (b & 0x7Fu);
        if (!(b & 0x80u)) {
            *v = x;
            return 1;
        }
    }
    return -1; /* a fifth continuation byte: malformed */
}

typedef struct {
    RnnfxMidiSong *song;
    size_t cap;
} Builder;

static RnnfxStatus push_event(Builder *b, const RnnfxMidiEvent *ev, RnnfxError *err)
{
    RnnfxMidiSong *s = b->song;
    if (s->n_events >= RNNFX_MIDI_MAX_EVENTS)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "more than %u events", RNNFX_MIDI_MAX_EVENTS);
    if (s->n_events == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 256;
        RnnfxMidiEvent *ne = realloc(s->events, ncap * sizeof *ne);
        if (!ne)
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for %zu MIDI events", ncap);
        s->events = ne;
        b->cap = ncap;
    }
    s->events[s->n_events++] = *ev;
    return RNNFX_OK;
}

#define TRACK_FAIL(st, ...)                                                                   \
    do {                                                                                      \
        RnnfxStatus st_ = rnnfx_fail(err, (st), __VA_ARGS__);                                 \
        rnnfx_error_prefix(err, "track %d, byte %zu", track, cur_off(c));                    \
        return st_;                                                                           \
    } while (0)

/* Parses one MTrk body (the cursor covers exactly the chunk's data). */
static RnnfxStatus parse_track(Cursor *c, int track, Builder *b, uint64_t *track_end,
                               RnnfxError *err)
{
    uint64_t tick = 0;
    uint8_t running = 0; /* last channel status byte, 0 = none */
    int ended = 0;

    while (cur_left(c) > 0) {
        uint32_t delta;
        int r = cur_vlq(c, &delta);
        if (r == 0)
            TRACK_FAIL(RNNFX_ERR_PARSE, "truncated delta time");
        if (r < 0)
            TRACK_FAIL(RNNFX_ERR_PARSE, "delta time longer than 4 bytes");
        tick += delta;
        if (tick >= RNNFX_MIDI_MAX_TICK)
            TRACK_FAIL(RNNFX_ERR_LIMIT, "absolute time beyond %llu ticks",
                       (unsigned long long)RNNFX_MIDI_MAX_TICK);
        if (ended)
            TRACK_FAIL(RNNFX_ERR_PARSE, "event after End-of-Track");

        uint8_t st;
        if (!cur_u8(c, &st))
            TRACK_FAIL(RNNFX_ERR_PARSE, "truncated event: delta time with no event");

        if (st == 0xFF) { /* meta event: type, length, data; cancels running status */
            uint8_t type;
            uint32_t len;
            if (!cur_u8(c, &type))
                TRACK_FAIL(RNNFX_ERR_PARSE, "truncated meta event");
            r = cur_vlq(c, &len);
            if (r <= 0)
                TRACK_FAIL(RNNFX_ERR_PARSE, "bad meta event length");
            if (len > cur_left(c))
                TRACK_FAIL(RNNFX_ERR_PARSE, "meta event 0x%02X claims %u bytes, %zu left",
                           type, len, cur_left(c));
            const uint8_t *d = c->p;
            c->p += len;
            running = 0;
            if (type == 0x2F) {
                ended = 1;
            } else if (type == 0x51) {
                if (len != 3)
                    TRACK_FAIL(RNNFX_ERR_PARSE, "tempo event of %u bytes (expected 3)", len);
                uint32_t us = ((uint32_t)d[0] << 16) | ((uint32_t)d[1] << 8) | d[2];
                if (us == 0)
                    TRACK_FAIL(RNNFX_ERR_INVALID, "tempo of 0 microseconds per quarter");
                RnnfxMidiEvent ev = {0};
                ev.tick = tick;
                ev.type = RNNFX_MIDI_TEMPO;
                ev.track = (uint16_t)track;
                ev.tempo_us = us;
                RnnfxStatus s = push_event(b, &ev, err);
                if (s)
                    return s;
            } else if (type == 0x58) {
                if (len != 4)
                    TRACK_FAIL(RNNFX_ERR_PARSE, "time signature of %u bytes (expected 4)", len);
                if (d[0] == 0 || d[1] > 6)
                    TRACK_FAIL(RNNFX_ERR_INVALID, "time signature %u/2^%u is not valid", d[0],
                               d[1]);
                RnnfxMidiEvent ev = {0};
                ev.tick = tick;
                ev.type = RNNFX_MIDI_TIME_SIG;
                ev.track = (uint16_t)track;
                ev.ts_num = d[0];
                ev.ts_den_pow = d[1];
                RnnfxStatus s = push_event(b, &ev, err);
                if (s)
                    return s;
            }
            continue;
        }
        if (st == 0xF0 || st == 0xF7) { /* sysex / escape: length, data */
            uint32_t len;
            r = cur_vlq(c, &len);
            if (r <= 0)
                TRACK_FAIL(RNNFX_ERR_PARSE, "bad sysex length");
            if (len > cur_left(c))
                TRACK_FAIL(RNNFX_ERR_PARSE, "sysex claims %u bytes, %zu left", len,
                           cur_left(c));
            c->p += len;
            running = 0;
            continue;
        }
        if (st >= 0xF1) /* system common / real-time bytes do not belong in a file */
            TRACK_FAIL(RNNFX_ERR_PARSE, "status byte 0x%02X is not allowed in a MIDI file", st);

        uint8_t d1, d2 = 0;
        if (st < 0x80) { /* running status: st is the first data byte */
            if (!running)
                TRACK_FAIL(RNNFX_ERR_PARSE, "data byte 0x%02X with no running status", st);
            d1 = st;
            st = running;
        } else {
            running = st;
            if (!cur_u8(c, &d1))
                TRACK_FAIL(RNNFX_ERR_PARSE, "truncated channel event");
        }
        uint8_t kind = st & 0xF0;
        int two = !(kind == 0xC0 || kind == 0xD0);
        if (two && !cur_u8(c, &d2))
            TRACK_FAIL(RNNFX_ERR_PARSE, "truncated channel event");
        if ((d1 | d2) & 0x80)
            TRACK_FAIL(RNNFX_ERR_PARSE, "data byte with the high bit set in event 0x%02X", st);
        if (kind == 0x80 || kind == 0x90) {
            RnnfxMidiEvent ev = {0};
            ev.tick = tick;
            ev.type = (kind == 0x90 && d2 > 0) ? RNNFX_MIDI_NOTE_ON : RNNFX_MIDI_NOTE_OFF;
            ev.channel = st & 0x0F;
            ev.key = d1;
            ev.velocity = d2;
            ev.track = (uint16_t)track;
            RnnfxStatus s = push_event(b, &ev, err);
            if (s)
                return s;
        }
    }
    *track_end = tick;
    return RNNFX_OK;
}

static int cmp_event(const void *a, const void *b)
{
    const RnnfxMidiEvent *x = a, *y = b;
    if (x->tick != y->tick)
        return x->tick < y->tick ? -1 : 1;
    return 0;
}

/* Stable merge sort by tick (qsort is not stable, and the order of events at
 * one tick matters: a note-off then a note-on of the same key is a
 * re-strike, the other order would be a stuck note). */
static void sort_stable(RnnfxMidiEvent *v, RnnfxMidiEvent *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_stable(v, tmp, h);
    sort_stable(v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = (cmp_event(&v[j], &v[i]) < 0) ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

static RnnfxStatus sort_events(RnnfxMidiEvent *v, size_t n, RnnfxError *err)
{
    if (n < 2)
        return RNNFX_OK;
    RnnfxMidiEvent *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory sorting %zu MIDI events", n);
    sort_stable(v, tmp, n);
    free(tmp);
    return RNNFX_OK;
}

RnnfxStatus rnnfx_midi_parse(const uint8_t *data, size_t len, RnnfxMidiSong **out,
                             RnnfxError *err)
{
    if (!out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out = NULL;
    if (!data && len)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no data");
    if (len > RNNFX_MIDI_MAX_FILE_BYTES)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "MIDI file of %zu bytes exceeds the %u-byte limit",
                          len, RNNFX_MIDI_MAX_FILE_BYTES);

    Cursor c = {data, data + len, data};
    uint32_t id = 0, hlen = 0, fmt = 0, ntrk = 0, div = 0;
    if (len < 4 || memcmp(data, "MThd", 4) != 0)
        return rnnfx_fail(err, RNNFX_ERR_FORMAT, "not a standard MIDI file (no MThd header)");
    c.p += 4;
    if (!cur_be(&c, 4, &hlen) || hlen < 6 || hlen > cur_left(&c))
        return rnnfx_fail(err, RNNFX_ERR_PARSE, "truncated or bad MThd header");
    Cursor h = {c.p, c.p + hlen, data};
    cur_be(&h, 2, &fmt);
    cur_be(&h, 2, &ntrk);
    cur_be(&h, 2, &div);
    c.p += hlen; /* extra header bytes (future versions) are skipped */
    if (fmt > 1)
        return rnnfx_fail(err, fmt == 2 ? RNNFX_ERR_UNSUPPORTED : RNNFX_ERR_FORMAT,
                          "MIDI file format %u (only formats 0 and 1 are supported)", fmt);
    if (ntrk == 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "MIDI file declares no tracks");
    if (fmt == 0 && ntrk != 1)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "format-0 MIDI file declares %u tracks", ntrk);
    if (ntrk > RNNFX_MIDI_MAX_TRACKS)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%u tracks exceed the limit of %d", ntrk,
                          RNNFX_MIDI_MAX_TRACKS);
    if (div & 0x8000u)
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "SMPTE time division is not supported (ticks per quarter only)");
    if (div == 0)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "division of 0 ticks per quarter note");

    RnnfxMidiSong *song = calloc(1, sizeof *song);
    if (!song)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    song->format = (int)fmt;
    song->n_tracks = (int)ntrk;
    song->division = (int)div;
    Builder b = {song, 0};
    RnnfxStatus s = RNNFX_OK;

    int track = 0;
    while (track < (int)ntrk) {
        if (cur_left(&c) < 8) {
            s = rnnfx_fail(err, RNNFX_ERR_PARSE,
                           "file ends after %d of %u tracks (truncated at byte %zu)", track, ntrk,
                           cur_off(&c));
            goto fail;
        }
        const uint8_t *tag = c.p;
        c.p += 4;
        cur_be(&c, 4, &id);
        uint32_t clen = id;
        if (clen > cur_left(&c)) {
            s = rnnfx_fail(err, RNNFX_ERR_PARSE,
                           "chunk at byte %zu claims %u bytes but only %zu remain (truncated file?)",
                           (size_t)(tag - data), clen, cur_left(&c));
            goto fail;
        }
        Cursor t = {c.p, c.p + clen, data};
        c.p += clen;
        if (memcmp(tag, "MTrk", 4) != 0)
            continue; /* unknown chunk: skip, as the standard asks */
        uint64_t tend = 0;
        s = parse_track(&t, track, &b, &tend, err);
        if (s)
            goto fail;
        if (tend > song->end_tick)
            song->end_tick = tend;
        track++;
    }
    s = sort_events(song->events, song->n_events, err);
    if (s)
        goto fail;
    *out = song;
    return RNNFX_OK;
fail:
    rnnfx_midi_song_free(song);
    return s;
}

RnnfxStatus rnnfx_midi_read(const char *path, RnnfxMidiSong **out, RnnfxError *err)
{
    if (!path || !out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no path or output pointer");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    RnnfxStatus s = RNNFX_OK;
    for (;;) {
        if (len == cap) {
            if (cap > RNNFX_MIDI_MAX_FILE_BYTES) {
                s = rnnfx_fail(err, RNNFX_ERR_LIMIT, "%s: larger than %u bytes", path,
                               RNNFX_MIDI_MAX_FILE_BYTES);
                break;
            }
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                s = rnnfx_fail(err, RNNFX_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                s = rnnfx_fail(err, RNNFX_ERR_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (!s) {
        s = rnnfx_midi_parse(buf, len, out, err);
        if (s)
            rnnfx_error_prefix(err, "%s", path);
    }
    free(buf);
    return s;
}

void rnnfx_midi_song_free(RnnfxMidiSong *song)
{
    if (!song)
        return;
    free(song->events);
    free(song);
}

RnnfxStatus rnnfx_midi_song_new(int division, RnnfxMidiSong **out, RnnfxError *err)
{
    if (!out)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out = NULL;
    if (division < 1 || division > 32767)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "division %d outside 1..32767", division);
    RnnfxMidiSong *s = calloc(1, sizeof *s);
    if (!s)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    s->format = 0;
    s->n_tracks = 1;
    s->division = division;
    *out = s;
    return RNNFX_OK;
}

RnnfxStatus rnnfx_midi_song_add(RnnfxMidiSong *song, const RnnfxMidiEvent *ev, RnnfxError *err)
{
    if (!song || !ev)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no song or event");
    if (ev->type > RNNFX_MIDI_TIME_SIG || ev->channel > 15 || ev->key > 127 ||
        ev->velocity > 127 || ev->tick >= RNNFX_MIDI_MAX_TICK)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "MIDI event out of range");
    /* Capacity is not stored for songs built this way: grow to the next
     * power of two, which is what n_events implies. */
    size_t n = song->n_events;
    if (n >= RNNFX_MIDI_MAX_EVENTS)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "more than %u events", RNNFX_MIDI_MAX_EVENTS);
    if ((n & (n - 1)) == 0) { /* n is 0 or a power of two: full */
        size_t ncap = n ? n * 2 : 16;
        RnnfxMidiEvent *ne = realloc(song->events, ncap * sizeof *ne);
        if (!ne)
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
        song->events = ne;
    }
    song->events[n] = *ev;
    song->n_events = n + 1;
    if (ev->tick > song->end_tick)
        song->end_tick = ev->tick;
    if (ev->track + 1 > song->n_tracks)
        song->n_tracks = ev->track + 1;
    return RNNFX_OK;
}

/* ---- writing ------------------------------------------------------------- */

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    int failed;
} Out;

static void out_bytes(Out *o, const void *p, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n > o->cap) {
        size_t ncap = o->cap ? o->cap : 1024;
        while (ncap < o->len + n)
            ncap *= 2;
        uint8_t *nb = realloc(o->buf, ncap);
        if (!nb) {
            o->failed = 1;
            return;
        }
        o->buf = nb;
        o->cap = ncap;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void out_u8(Out *o, uint8_t v) { out_bytes(o, &v, 1); }

static void out_be(Out *o, uint32_t v, int nbytes)
{
    for (int i = nbytes - 1; i >= 0; i--)
        out_u8(o, (uint8_t)(v >> (8 * i)));
}

static void out_vlq(Out *o, uint32_t v)
{
    uint8_t tmp[5];
    int n = 0;
    tmp[n++] = v & 0x7F;
    while ((v >>= 7) != 0)
        tmp[n++] = (uint8_t)(0x80 | (v & 0x7F));
    while (n > 0)
        out_u8(o, tmp[--n]);
}

/* Order within one tick: meta first (tempo/time signature apply to the
 * notes at that tick), then the notes in the song's own order (the sort is
 * stable). A parsed file's order is its meaning: "on 60, off 60" at one
 * tick is a zero-length note and "off 60, on 60" a repeat, and moving
 * every note-off first turned the first into a note held to the end.
 * rnnfx_midi_frames_append_notes adds each note's on before its off, and
 * never starts a key at the tick where it ends. */
static int event_rank(const RnnfxMidiEvent *e)
{
    return e->type == RNNFX_MIDI_TEMPO || e->type == RNNFX_MIDI_TIME_SIG ? 0 : 1;
}

static void sort_for_write(RnnfxMidiEvent *v, RnnfxMidiEvent *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_for_write(v, tmp, h);
    sort_for_write(v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        const RnnfxMidiEvent *a = &v[i], *b = &v[j];
        int b_first = b->tick < a->tick || (b->tick == a->tick && event_rank(b) < event_rank(a));
        tmp[k++] = b_first ? v[j++] : v[i++];
    }
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

RnnfxStatus rnnfx_midi_serialize(const RnnfxMidiSong *song, uint8_t **out, size_t *out_len,
                                 RnnfxError *err)
{
    if (!song || !out || !out_len)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no song or output pointer");
    *out = NULL;
    *out_len = 0;
    if (song->division < 1 || song->division > 32767)
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "division %d outside 1..32767", song->division);
    int n_tracks = 1;
    for (size_t i = 0; i < song->n_events; i++)
        if (song->events[i].track + 1 > n_tracks)
            n_tracks = song->events[i].track + 1;
    if (n_tracks > RNNFX_MIDI_MAX_TRACKS)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "%d tracks exceed the limit", n_tracks);

    size_t n = song->n_events;
    RnnfxMidiEvent *ev = malloc((n ? n : 1) * 2 * sizeof *ev);
    if (!ev)
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    if (n)
        memcpy(ev, song->events, n * sizeof *ev);
    sort_for_write(ev, ev + n, n);

    Out o = {0};
    out_bytes(&o, "MThd", 4);
    out_be(&o, 6, 4);
    out_be(&o, n_tracks == 1 ? 0 : 1, 2);
    out_be(&o, (uint32_t)n_tracks, 2);
    out_be(&o, (uint32_t)song->division, 2);
    for (int t = 0; t < n_tracks; t++) {
        out_bytes(&o, "MTrk", 4);
        size_t len_at = o.len;
        out_be(&o, 0, 4); /* patched below */
        uint64_t prev = 0;
        for (size_t i = 0; i < n; i++) {
            const RnnfxMidiEvent *e = &ev[i];
            if (e->track != t)
                continue;
            uint64_t d = e->tick - prev;
            while (d > 0x0FFFFFFFu) { /* split huge gaps with empty text metas */
                out_vlq(&o, 0x0FFFFFFFu);
                out_u8(&o, 0xFF);
                out_u8(&o, 0x01);
                out_u8(&o, 0);
                d -= 0x0FFFFFFFu;
            }
            out_vlq(&o, (uint32_t)d);
            prev = e->tick;
            switch (e->type) {
            case RNNFX_MIDI_NOTE_ON:
                out_u8(&o, (uint8_t)(0x90 | e->channel));
                out_u8(&o, e->key);
                out_u8(&o, e->velocity ? e->velocity : 1);
                break;
            case RNNFX_MIDI_NOTE_OFF:
                out_u8(&o, (uint8_t)(0x80 | e->channel));
                out_u8(&o, e->key);
                out_u8(&o, e->velocity);
                break;
            case RNNFX_MIDI_TEMPO: {
                uint32_t us = e->tempo_us ? e->tempo_us : 500000;
                if (us > 0xFFFFFF)
                    us = 0xFFFFFF;
                out_u8(&o, 0xFF);
                out_u8(&o, 0x51);
                out_u8(&o, 3);
                out_be(&o, us, 3);
                break;
            }
            case RNNFX_MIDI_TIME_SIG:
                out_u8(&o, 0xFF);
                out_u8(&o, 0x58);
                out_u8(&o, 4);
                out_u8(&o, e->ts_num ? e->ts_num : 4);
                out_u8(&o, e->ts_den_pow <= 6 ? e->ts_den_pow : 2);
                out_u8(&o, 24); /* MIDI clocks per metronome click */
                out_u8(&o, 8);  /* 32nd notes per quarter */
                break;
            }
        }
        uint64_t last = song->end_tick > prev ? song->end_tick - prev : 0;
        out_vlq(&o, last > 0x0FFFFFFFu ? 0 : (uint32_t)last);
        out_u8(&o, 0xFF);
        out_u8(&o, 0x2F);
        out_u8(&o, 0);
        if (!o.failed) {
            uint32_t tl = (uint32_t)(o.len - len_at - 4);
            for (int i = 0; i < 4; i++)
                o.buf[len_at + i] = (uint8_t)(tl >> (8 * (3 - i)));
        }
    }
    free(ev);
    if (o.failed) {
        free(o.buf);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory writing MIDI");
    }
    *out = o.buf;
    *out_len = o.len;
    return RNNFX_OK;
}

RnnfxStatus rnnfx_midi_write(const RnnfxMidiSong *song, const char *path, RnnfxError *err)
{
    if (!path)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "no path");
    uint8_t *buf;
    size_t len;
    RnnfxStatus s = rnnfx_midi_serialize(song, &buf, &len, err);
    if (s)
        return s;
    /* Atomic: a temporary beside the target, then rename, so a failure never
     * leaves a half-written file under the final name. */
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) {
        free(buf);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    }
    const size_t keep = rnnfx_temp_name_keep(path, 15);
    snprintf(tmp, pl + 16, "%.*s.tmp%ld", (int)keep, path, (long)getpid() % 100000000L);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        s = rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    } else {
        int ok = fwrite(buf, 1, len, f) == len;
        ok = (fflush(f) == 0) && ok;
        ok = (fsync(fileno(f)) == 0) && ok;
        ok = (fclose(f) == 0) && ok;
        if (!ok)
            s = rnnfx_fail(err, RNNFX_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
        else if (rename(tmp, path) != 0)
            s = rnnfx_fail(err, RNNFX_ERR_IO, "%s: cannot rename into place: %s", path,
                           strerror(errno));
        if (s)
            remove(tmp);
    }
    free(tmp);
    free(buf);
    return s;
}

/*
 * midi_file.h — a small, strict Standard MIDI File reader and writer.
 *
 * Reads SMF format 0 and 1 with a ticks-per-quarter-note division into one
 * flat list of the events a piano-roll needs: note-on, note-off, tempo and
 * time signature, each with its absolute tick, merged over all tracks in
 * time order (ties keep track order, then file order). Everything else —
 * control changes, pitch bend, program changes, sysex, other meta events —
 * is parsed with its exact length and skipped, so a file using them still
 * reads correctly. A note-on with velocity 0 is reported as a note-off.
 *
 * Strict means: every chunk length, variable-length quantity and event is
 * checked against the bytes that are really there before it is read; a data
 * byte with no running status, an unknown status byte, a format-2 or SMPTE
 * file, or a track that runs past its chunk are errors with a message naming
 * the track and byte offset. Unknown chunk types are skipped, as the
 * standard asks. A track that ends without an End-of-Track meta event is
 * accepted (many real files omit it) as long as its last event is complete.
 *
 * The writer produces format-1 files (format 0 when there is one track),
 * with running status off for simplicity and a tempo/time-signature header.
 *
 * This is not a MIDI player or a general MIDI library: no SMPTE timing, no
 * format 2, no interpretation of controllers (sustain pedal is ignored).
 *
 * Thread: never the audio thread (allocates, reads files).
 */
#ifndef RNNFX_MIDI_FILE_H
#define RNNFX_MIDI_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Safety limits: a file claiming more is rejected before allocating. */
#define RNNFX_MIDI_MAX_FILE_BYTES (16u * 1024u * 1024u)
#define RNNFX_MIDI_MAX_TRACKS 1024
#define RNNFX_MIDI_MAX_EVENTS (4u * 1024u * 1024u)
/* Absolute ticks are kept below this (about 2^40), far beyond any song. */
#define RNNFX_MIDI_MAX_TICK ((uint64_t)1 << 40)

typedef enum {
    RNNFX_MIDI_NOTE_OFF = 0, /* key, velocity (release velocity), channel */
    RNNFX_MIDI_NOTE_ON,      /* key, velocity >= 1, channel */
    RNNFX_MIDI_TEMPO,        /* tempo_us: microseconds per quarter note */
    RNNFX_MIDI_TIME_SIG      /* ts_num / 2^ts_den_pow, e.g. 6/8 = 6, 3 */
} RnnfxMidiEventType;

typedef struct {
    uint64_t tick;      /* absolute, in the file's division */
    uint8_t type;       /* RnnfxMidiEventType */
    uint8_t channel;    /* 0..15 (0 for meta events); channel 10 is 9 */
    uint8_t key;        /* 0..127 */
    uint8_t velocity;   /* 0..127 */
    uint8_t ts_num;     /* time signature numerator (>= 1) */
    uint8_t ts_den_pow; /* denominator = 2^ts_den_pow (0..6) */
    uint16_t track;     /* track the event came from */
    uint32_t tempo_us;  /* 1 .. 0xFFFFFF */
} RnnfxMidiEvent;

typedef struct {
    int format;        /* 0 or 1 */
    int n_tracks;      /* as declared in the header */
    int division;      /* ticks per quarter note, 1 .. 32767 */
    uint64_t end_tick; /* last End-of-Track (or last event) tick over all tracks */
    size_t n_events;
    RnnfxMidiEvent *events; /* time-ordered */
} RnnfxMidiSong;

/* Parses an SMF image of len bytes. On success *out is a new song the caller
 * frees with rnnfx_midi_song_free(); on failure *out is NULL and err says
 * what is wrong and where. Thread: not audio. */
RnnfxStatus rnnfx_midi_parse(const uint8_t *data, size_t len, RnnfxMidiSong **out,
                             RnnfxError *err);

/* Reads and parses a file (the message is prefixed with the path).
 * Thread: not audio. */
RnnfxStatus rnnfx_midi_read(const char *path, RnnfxMidiSong **out, RnnfxError *err);

/* Frees a song; NULL is a no-op. Thread: not audio. */
void rnnfx_midi_song_free(RnnfxMidiSong *song);

/* An empty song (no events) with the given division, to be filled with
 * rnnfx_midi_song_add(). Thread: not audio. */
RnnfxStatus rnnfx_midi_song_new(int division, RnnfxMidiSong **out, RnnfxError *err);

/* Appends an event (grows the array; events need not be added in order: the
 * writer sorts a copy). Thread: not audio. */
RnnfxStatus rnnfx_midi_song_add(RnnfxMidiSong *song, const RnnfxMidiEvent *ev, RnnfxError *err);

/* Serialises a song as an SMF image: one track per distinct `track` value
 * (format 0 if there is only one), events sorted stably by tick, tempo and
 * time signatures first at equal ticks, notes in the order they were added
 * (a parsed song's file order: "on, off" at one tick stays a zero-length
 * note, "off, on" a re-struck one). *out is malloc'd; the caller frees it.
 * Thread: not audio. */
RnnfxStatus rnnfx_midi_serialize(const RnnfxMidiSong *song, uint8_t **out, size_t *out_len,
                                 RnnfxError *err);

/* Serialises and writes a song atomically. Thread: not audio. */
RnnfxStatus rnnfx_midi_write(const RnnfxMidiSong *song, const char *path, RnnfxError *err);

#endif

/*
 * test_midi_file.c — the Standard MIDI File reader/writer and piano-roll
 * frame extraction.
 *
 * Fixtures (tests/data/midi): two hand-made files spelled out byte by byte
 * by make_fixtures.py (type 0 with running status, velocity-0 note-offs, a
 * tempo change, 3/4, sysex, a drum note and an out-of-range key; type 1
 * with a conductor track, 4/4 then 6/8, an unknown chunk), 19 corrupt files,
 * and three Nottingham tunes (GPL-3, see nottingham/README). The event
 * lists are checked against mido_ref.txt, written by the independent mido
 * library; the frames against frames worked out by hand (comments below).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enginetest.h"
#include "midi_file.h"
#include "midi_frames.h"

static RnnfxMidiSong *load(const char *rel)
{
    char path[1024];
    rnnfx_test_path(path, sizeof path, rel);
    RnnfxMidiSong *song = NULL;
    RnnfxError err = {{0}};
    RnnfxStatus s = rnnfx_midi_read(path, &song, &err);
    if (s)
        print_error("%s: %s\n", rel, err.msg);
    assert_int_equal(s, RNNFX_OK);
    assert_non_null(song);
    return song;
}

/* ---- events against mido ------------------------------------------------- */

typedef struct {
    char line[300];
} Line;

static int cmp_line(const void *a, const void *b)
{
    return strcmp(((const Line *)a)->line, ((const Line *)b)->line);
}

/* Renders our events in the reference's line format and compares the two
 * as multisets (both sorted as text), so the order of events that share a
 * tick across tracks does not matter; time order is checked separately. */
static void check_against_mido(const char *name)
{
    char rel[256], path[1024];
    snprintf(rel, sizeof rel, "tests/data/midi/%s", name);
    RnnfxMidiSong *song = load(rel);

    Line *ours = calloc(song->n_events + 1, sizeof *ours);
    assert_non_null(ours);
    size_t n_ours = 0;
    for (size_t i = 0; i < song->n_events; i++) {
        const RnnfxMidiEvent *e = &song->events[i];
        const char *kind = e->type == RNNFX_MIDI_NOTE_ON    ? "on"
                           : e->type == RNNFX_MIDI_NOTE_OFF ? "off"
                           : e->type == RNNFX_MIDI_TEMPO    ? "tempo"
                                                            : "ts";
        int value = e->type == RNNFX_MIDI_TEMPO      ? (int)e->tempo_us
                    : e->type == RNNFX_MIDI_TIME_SIG ? e->ts_num * 16 + e->ts_den_pow
                                                     : 0;
        snprintf(ours[n_ours++].line, sizeof ours[0].line, "%s %llu %s %d %d %d %d", name,
                 (unsigned long long)e->tick, kind, e->channel, e->key, e->velocity, value);
    }
    /* Our stream is in time order; check that before sorting as text. */
    for (size_t i = 1; i < song->n_events; i++)
        assert_true(song->events[i - 1].tick <= song->events[i].tick);

    FILE *f = fopen(rnnfx_test_path(path, sizeof path, "tests/data/midi/mido_ref.txt"), "r");
    assert_non_null(f);
    Line *ref = calloc(song->n_events + 64, sizeof *ref);
    assert_non_null(ref);
    size_t n_ref = 0;
    char buf[256];
    size_t nl = strlen(name);
    while (fgets(buf, sizeof buf, f)) {
        if (strncmp(buf, name, nl) != 0 || buf[nl] != ' ')
            continue;
        buf[strcspn(buf, "\n")] = 0;
        assert_true(n_ref < song->n_events + 64);
        snprintf(ref[n_ref++].line, sizeof ref[0].line, "%s", buf);
    }
    fclose(f);
    assert_int_equal(n_ours, n_ref);
    qsort(ours, n_ours, sizeof *ours, cmp_line);
    qsort(ref, n_ref, sizeof *ref, cmp_line);
    for (size_t i = 0; i < n_ref; i++)
        assert_string_equal(ours[i].line, ref[i].line);
    free(ours);
    free(ref);
    rnnfx_midi_song_free(song);
}

static void test_events_match_mido(void **state)
{
    (void)state;
    check_against_mido("type0_running.mid");
    check_against_mido("type1_tempo.mid");
    check_against_mido("nottingham/ashover1.mid");
    check_against_mido("nottingham/jigs1.mid");
    check_against_mido("nottingham/waltzes1.mid");
}

static void test_header_fields(void **state)
{
    (void)state;
    RnnfxMidiSong *s0 = load("tests/data/midi/type0_running.mid");
    assert_int_equal(s0->format, 0);
    assert_int_equal(s0->n_tracks, 1);
    assert_int_equal(s0->division, 96);
    assert_int_equal(s0->end_tick, 394);
    rnnfx_midi_song_free(s0);
    RnnfxMidiSong *s1 = load("tests/data/midi/type1_tempo.mid");
    assert_int_equal(s1->format, 1);
    assert_int_equal(s1->n_tracks, 3);
    assert_int_equal(s1->division, 480);
    assert_int_equal(s1->end_tick, 2880);
    /* At tick 1920 the bass note-off (track 2, earlier in its track) must
     * come before its re-strike: file order is kept within a tick. */
    int seen_off = 0, ok = 0;
    for (size_t i = 0; i < s1->n_events; i++) {
        const RnnfxMidiEvent *e = &s1->events[i];
        if (e->tick == 1920 && e->key == 48 && e->channel == 1) {
            if (e->type == RNNFX_MIDI_NOTE_OFF)
                seen_off = 1;
            else if (e->type == RNNFX_MIDI_NOTE_ON)
                ok = seen_off;
        }
    }
    assert_true(ok);
    rnnfx_midi_song_free(s1);
}

/* ---- corrupt files ---------------------------------------------------------- */

static void test_corrupt_files(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        RnnfxStatus status;
        const char *words; /* must appear in the message */
    } cases[] = {
        {"empty.mid", RNNFX_ERR_FORMAT, "MThd"},
        {"not_midi.mid", RNNFX_ERR_FORMAT, "not a standard MIDI file"},
        {"short_header.mid", RNNFX_ERR_PARSE, "header"},
        {"truncated.mid", RNNFX_ERR_PARSE, "truncated"},
        {"truncated_type1.mid", RNNFX_ERR_PARSE, "remain"},
        {"missing_track.mid", RNNFX_ERR_PARSE, "1 of 2 tracks"},
        {"format2.mid", RNNFX_ERR_UNSUPPORTED, "format 2"},
        {"smpte.mid", RNNFX_ERR_UNSUPPORTED, "SMPTE"},
        {"zero_division.mid", RNNFX_ERR_INVALID, "division"},
        {"format0_two_tracks.mid", RNNFX_ERR_INVALID, "format-0"},
        {"no_running_status.mid", RNNFX_ERR_PARSE, "running status"},
        {"long_vlq.mid", RNNFX_ERR_PARSE, "4 bytes"},
        {"cut_event.mid", RNNFX_ERR_PARSE, "truncated channel event"},
        {"meta_overrun.mid", RNNFX_ERR_PARSE, "claims"},
        {"bad_tempo.mid", RNNFX_ERR_PARSE, "tempo"},
        {"system_byte.mid", RNNFX_ERR_PARSE, "0xF2"},
        {"high_data_byte.mid", RNNFX_ERR_PARSE, "high bit"},
        {"after_eot.mid", RNNFX_ERR_PARSE, "after End-of-Track"},
        {"sysex_overrun.mid", RNNFX_ERR_PARSE, "sysex"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[256], path[1024];
        snprintf(rel, sizeof rel, "tests/data/midi/bad/%s", cases[i].name);
        RnnfxMidiSong *song = (RnnfxMidiSong *)1;
        RnnfxError err = {{0}};
        RnnfxStatus s = rnnfx_midi_read(rnnfx_test_path(path, sizeof path, rel), &song, &err);
        if (s != cases[i].status || !strstr(err.msg, cases[i].words))
            print_error("%s: status %d (%s), message '%s'\n", cases[i].name, s,
                        rnnfx_strerror(s), err.msg);
        assert_int_equal(s, cases[i].status);
        assert_null(song);
        assert_non_null(strstr(err.msg, cases[i].words));
        assert_non_null(strstr(err.msg, cases[i].name)); /* the path is named */
    }
    RnnfxMidiSong *song = NULL;
    RnnfxError err = {{0}};
    assert_int_equal(rnnfx_midi_read("/nonexistent/x.mid", &song, &err), RNNFX_ERR_IO);
}

/* Every prefix and many single-byte corruptions of the valid files must give
 * OK or a clean error, never a crash or an out-of-bounds read (run under
 * valgrind/ASan to make the latter visible). */
static void test_fuzz_prefixes_and_flips(void **state)
{
    (void)state;
    const char *files[] = {"tests/data/midi/type0_running.mid", "tests/data/midi/type1_tempo.mid",
                           "tests/data/midi/nottingham/ashover1.mid"};
    RnnfxTestRng rng;
    rnnfx_test_rng_seed(&rng, 7);
    for (size_t fi = 0; fi < 3; fi++) {
        char path[1024];
        rnnfx_test_path(path, sizeof path, files[fi]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t buf[8192];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        assert_true(len > 14 && len < sizeof buf);
        size_t n_ok = 0;
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1); /* exact size: overreads are detectable */
            memcpy(copy, buf, cut);
            RnnfxMidiSong *song = NULL;
            RnnfxError err = {{0}};
            RnnfxStatus s = rnnfx_midi_parse(copy, cut, &song, &err);
            if (s == RNNFX_OK)
                n_ok++;
            else
                assert_true(err.msg[0] != 0);
            rnnfx_midi_song_free(song);
            free(copy);
        }
        assert_true(n_ok < len / 2); /* most prefixes are truncated files */
        for (int trial = 0; trial < 2000; trial++) {
            uint8_t *copy = malloc(len);
            memcpy(copy, buf, len);
            size_t at = (size_t)(rnnfx_test_rng_uniform(&rng) * (double)len);
            copy[at] = (uint8_t)(rnnfx_test_rng_uniform(&rng) * 256.0);
            RnnfxMidiSong *song = NULL;
            RnnfxError err = {{0}};
            RnnfxStatus s = rnnfx_midi_parse(copy, len, &song, &err);
            if (s == RNNFX_OK) {
                RnnfxMidiInfo info;
                rnnfx_midi_info_init(&info, 4, 1);
                RnnfxMidiFrames *fr = NULL;
                RnnfxStatus s2 = rnnfx_midi_frames_from_song(song, &info, &fr, &err);
                assert_true(s2 == RNNFX_OK || s2 == RNNFX_ERR_LIMIT);
                rnnfx_midi_frames_free(fr);
            }
            rnnfx_midi_song_free(song);
            free(copy);
        }
    }
}

/* ---- frames against hand-computed frames ---------------------------------- */

static void expect_frames(const RnnfxMidiFrames *fr, size_t n_frames, const int keys[][4])
{
    assert_int_equal(fr->n_frames, n_frames);
    for (size_t f = 0; f < n_frames; f++) {
        int want[128] = {0};
        for (int j = 0; j < 4 && keys[f][j]; j++)
            want[keys[f][j]] = 1;
        for (int k = 0; k < fr->info.n_keys; k++) {
            float v = fr->data[f * (size_t)fr->frame_size + k];
            if ((v > 0.5f) != want[fr->info.low_key + k])
                print_error("frame %zu key %d: got %g\n", f, fr->info.low_key + k, v);
            assert_int_equal(v > 0.5f, want[fr->info.low_key + k]);
            assert_true(v == 0.0f || v == 1.0f);
        }
    }
}

/* type0_running.mid, division 96, notes (ticks):
 *   C4 60 [0,96)  E4 64 [0,144)  G4 67 [96,192)  A0 21 [192,288)
 *   key 10 [192,288) out of range; drum 36 on channel 10 skipped
 *   C4 [288,300) then re-struck [300,384); E5 76 [384,394)
 * Quarter grid (96 ticks; ends rounded to the nearest line, halves up, a
 * note gets at least one frame):
 *   C4 [0,1) E4 [0,2) G4 [1,2) A0 [2,3) C4 [3,4) twice, E5 [4,5) */
static void test_frames_type0_quarter(void **state)
{
    (void)state;
    RnnfxMidiSong *song = load("tests/data/midi/type0_running.mid");
    RnnfxMidiInfo info;
    rnnfx_midi_info_init(&info, 1, 0);
    RnnfxMidiFrames *fr = NULL;
    RnnfxError err = {{0}};
    assert_int_equal(rnnfx_midi_frames_from_song(song, &info, &fr, &err), RNNFX_OK);
    static const int want[5][4] = {{60, 64}, {64, 67}, {21}, {60}, {76}};
    expect_frames(fr, 5, want);
    assert_int_equal(fr->frame_size, 88);
    assert_int_equal(fr->n_notes, 7);
    assert_int_equal(fr->n_out_of_range, 1);
    assert_int_equal(fr->n_drum_notes, 1);
    assert_int_equal(fr->first_tempo_us, 500000);
    assert_int_equal(fr->ts_num, 3);
    assert_int_equal(fr->ts_den_pow, 2);
    rnnfx_midi_frames_free(fr);
    rnnfx_midi_song_free(song);
}

/* Same file on the eighth grid (48 ticks): C4 [0,2) E4 [0,3) G4 [2,4)
 * A0 [4,6) C4 [6,7)+[6,8) E5 [8,9). Beat features in 3/4 (beat = quarter):
 * step f is f/2 beats into the bar, modulo 3. */
static void test_frames_type0_eighth_beats(void **state)
{
    (void)state;
    RnnfxMidiSong *song = load("tests/data/midi/type0_running.mid");
    RnnfxMidiInfo info;
    rnnfx_midi_info_init(&info, 2, 1);
    RnnfxMidiFrames *fr = NULL;
    RnnfxError err = {{0}};
    assert_int_equal(rnnfx_midi_frames_from_song(song, &info, &fr, &err), RNNFX_OK);
    static const int want[9][4] = {{60, 64}, {60, 64}, {64, 67}, {67}, {21},
                                   {21},     {60},     {60},     {76}};
    expect_frames(fr, 9, want);
    assert_int_equal(fr->frame_size, 92);
    /* downbeat, on-beat, sin, cos of bar phase (bar = 3 beats = 6 steps) */
    static const float beats[9][4] = {
        {1, 1, 0.0f, 1.0f},          {0, 0, 0.8660254f, 0.5f},  {0, 1, 0.8660254f, -0.5f},
        {0, 0, 0.0f, -1.0f},         {0, 1, -0.8660254f, -0.5f}, {0, 0, -0.8660254f, 0.5f},
        {1, 1, 0.0f, 1.0f},          {0, 0, 0.8660254f, 0.5f},  {0, 1, 0.8660254f, -0.5f},
    };
    for (int f = 0; f < 9; f++)
        for (int j = 0; j < 4; j++)
            assert_float_equal(fr->data[f * 92 + 88 + j], beats[f][j], 1e-6);
    rnnfx_midi_frames_free(fr);
    rnnfx_midi_song_free(song);
}

/* type1_tempo.mid, division 480, eighth grid (240 ticks):
 *   melody 72 [0,2) 74 [2,4) 76 [8,9) 77 [9,10); bass 48 [0,8)+[8,12)
 * 4/4 until tick 1920 (step 8), then 6/8 (beat = eighth = one step, bar =
 * 6 steps). Tempo changes must not move anything. */
static void test_frames_type1_timesig(void **state)
{
    (void)state;
    RnnfxMidiSong *song = load("tests/data/midi/type1_tempo.mid");
    RnnfxMidiInfo info;
    rnnfx_midi_info_init(&info, 2, 1);
    RnnfxMidiFrames *fr = NULL;
    RnnfxError err = {{0}};
    assert_int_equal(rnnfx_midi_frames_from_song(song, &info, &fr, &err), RNNFX_OK);
    static const int want[12][4] = {{48, 72}, {48, 72}, {48, 74}, {48, 74}, {48}, {48},
                                    {48},     {48},     {48, 76}, {48, 77}, {48}, {48}};
    expect_frames(fr, 12, want);
    const float *b = fr->data + 88;
    const int fs = fr->frame_size;
    /* 4/4 part: step f = f/2 quarter beats. */
    assert_float_equal(b[0 * fs + 0], 1.0f, 0); /* bar start */
    assert_float_equal(b[1 * fs + 1], 0.0f, 0); /* half a beat */
    assert_float_equal(b[2 * fs + 1], 1.0f, 0);
    assert_float_equal(b[4 * fs + 2], 0.0f, 1e-6); /* 2 of 4 beats: p = 1/2 */
    assert_float_equal(b[4 * fs + 3], -1.0f, 1e-6);
    /* 6/8 part from step 8: downbeat at 8, every step is a beat, p = (f-8)/6. */
    assert_float_equal(b[8 * fs + 0], 1.0f, 0);
    assert_float_equal(b[9 * fs + 0], 0.0f, 0);
    assert_float_equal(b[9 * fs + 1], 1.0f, 0);
    assert_float_equal(b[11 * fs + 2], 0.0f, 1e-6);
    assert_float_equal(b[11 * fs + 3], -1.0f, 1e-6);
    assert_float_equal(b[10 * fs + 3], -0.5f, 1e-6);
    rnnfx_midi_frames_free(fr);
    rnnfx_midi_song_free(song);
}

/* Frames -> notes -> SMF bytes -> reader -> frames gives the same frames. */
static void test_roundtrip_through_writer(void **state)
{
    (void)state;
    const char *files[] = {"tests/data/midi/type1_tempo.mid",
                           "tests/data/midi/nottingham/jigs1.mid",
                           "tests/data/midi/nottingham/waltzes1.mid"};
    for (int fi = 0; fi < 3; fi++) {
        RnnfxMidiSong *song = load(files[fi]);
        RnnfxMidiInfo info;
        rnnfx_midi_info_init(&info, 4, 0);
        RnnfxMidiFrames *fr = NULL;
        RnnfxError err = {{0}};
        assert_int_equal(rnnfx_midi_frames_from_song(song, &info, &fr, &err), RNNFX_OK);
        assert_true(fr->n_frames > 0);

        RnnfxMidiSong *out = NULL;
        assert_int_equal(rnnfx_midi_song_new(480, &out, &err), RNNFX_OK);
        RnnfxMidiEvent t = {0};
        t.type = RNNFX_MIDI_TEMPO;
        t.tempo_us = fr->first_tempo_us;
        assert_int_equal(rnnfx_midi_song_add(out, &t, &err), RNNFX_OK);
        assert_int_equal(rnnfx_midi_frames_append_notes(out, fr->data, fr->n_frames,
                                                        fr->frame_size, &info, 0, 0, 90, 0, &err),
                         RNNFX_OK);
        uint8_t *bytes = NULL;
        size_t len = 0;
        assert_int_equal(rnnfx_midi_serialize(out, &bytes, &len, &err), RNNFX_OK);
        RnnfxMidiSong *back = NULL;
        assert_int_equal(rnnfx_midi_parse(bytes, len, &back, &err), RNNFX_OK);
        assert_int_equal(back->format, 0);
        RnnfxMidiFrames *fr2 = NULL;
        assert_int_equal(rnnfx_midi_frames_from_song(back, &info, &fr2, &err), RNNFX_OK);
        assert_int_equal(fr2->n_frames, fr->n_frames);
        assert_memory_equal(fr2->data, fr->data, fr->n_frames * 88 * sizeof(float));
        /* balanced: as many note-ons as note-offs, each on before its off */
        int depth[128] = {0};
        for (size_t i = 0; i < back->n_events; i++) {
            const RnnfxMidiEvent *e = &back->events[i];
            if (e->type == RNNFX_MIDI_NOTE_ON)
                assert_int_equal(depth[e->key]++, 0);
            else if (e->type == RNNFX_MIDI_NOTE_OFF)
                assert_int_equal(--depth[e->key], 0);
        }
        for (int k = 0; k < 128; k++)
            assert_int_equal(depth[k], 0);
        free(bytes);
        rnnfx_midi_song_free(back);
        rnnfx_midi_song_free(out);
        rnnfx_midi_frames_free(fr2);
        rnnfx_midi_frames_free(fr);
        rnnfx_midi_song_free(song);
    }
}

/* The writer's own file on disk reads back; type-1 output for two tracks. */
static void test_write_file_type1(void **state)
{
    (void)state;
    RnnfxMidiSong *song = NULL;
    RnnfxError err = {{0}};
    assert_int_equal(rnnfx_midi_song_new(96, &song, &err), RNNFX_OK);
    RnnfxMidiEvent e = {0};
    e.type = RNNFX_MIDI_TIME_SIG;
    e.ts_num = 6;
    e.ts_den_pow = 3;
    assert_int_equal(rnnfx_midi_song_add(song, &e, &err), RNNFX_OK);
    for (int i = 0; i < 40; i++) { /* enough to cross the growth steps */
        RnnfxMidiEvent n = {0};
        n.type = (i & 1) ? RNNFX_MIDI_NOTE_OFF : RNNFX_MIDI_NOTE_ON;
        n.key = 60;
        n.velocity = 100;
        n.channel = 3;
        n.track = (uint16_t)(1 + (i / 2) % 2);
        n.tick = (uint64_t)(i / 2) * 96 + ((i & 1) ? 90u : 0u);
        assert_int_equal(rnnfx_midi_song_add(song, &n, &err), RNNFX_OK);
    }
    char path[] = "/tmp/rnnfx-test-midi-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(rnnfx_midi_write(song, path, &err), RNNFX_OK);
    RnnfxMidiSong *back = NULL;
    assert_int_equal(rnnfx_midi_read(path, &back, &err), RNNFX_OK);
    remove(path);
    assert_int_equal(back->format, 1);
    assert_int_equal(back->n_tracks, 3);
    assert_int_equal(back->n_events, 41);
    assert_int_equal(back->events[0].type, RNNFX_MIDI_TIME_SIG);
    assert_int_equal(back->events[0].ts_num, 6);
    for (size_t i = 1; i < back->n_events; i++)
        assert_int_equal(back->events[i].channel, 3);
    rnnfx_midi_song_free(back);
    rnnfx_midi_song_free(song);
}

/* Notes at one tick keep their order through the writer: a zero-length
 * note (on, off) and a repeated key (off, on) both read back as written.
 * The writer once put every note-off of a tick first, which turned the
 * zero-length note into one held to the end of the song. */
static void test_write_keeps_same_tick_order(void **state)
{
    (void)state;
    static const struct {
        RnnfxMidiEventType type;
        int key;
        uint64_t tick;
    } ev[] = {{RNNFX_MIDI_NOTE_ON, 60, 0},   {RNNFX_MIDI_NOTE_OFF, 60, 0},
              {RNNFX_MIDI_NOTE_ON, 64, 0},   {RNNFX_MIDI_NOTE_ON, 67, 0},
              {RNNFX_MIDI_NOTE_OFF, 67, 96}, {RNNFX_MIDI_NOTE_ON, 67, 96},
              {RNNFX_MIDI_NOTE_OFF, 67, 192}, {RNNFX_MIDI_NOTE_OFF, 64, 384}};
    const size_t n = sizeof ev / sizeof ev[0];
    RnnfxMidiSong *song = NULL;
    RnnfxError err = {{0}};
    assert_int_equal(rnnfx_midi_song_new(96, &song, &err), RNNFX_OK);
    for (size_t i = 0; i < n; i++) {
        RnnfxMidiEvent e = {0};
        e.type = ev[i].type;
        e.key = (uint8_t)ev[i].key;
        e.velocity = 100;
        e.tick = ev[i].tick;
        assert_int_equal(rnnfx_midi_song_add(song, &e, &err), RNNFX_OK);
    }
    song->end_tick = 384;
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(rnnfx_midi_serialize(song, &bytes, &len, &err), RNNFX_OK);
    RnnfxMidiSong *back = NULL;
    assert_int_equal(rnnfx_midi_parse(bytes, len, &back, &err), RNNFX_OK);
    assert_int_equal(back->n_events, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(back->events[i].type, ev[i].type);
        assert_int_equal(back->events[i].key, ev[i].key);
        assert_int_equal(back->events[i].tick, ev[i].tick);
    }
    /* and in frames: key 60 sounds in the first sixteenth only */
    RnnfxMidiInfo info;
    rnnfx_midi_info_init(&info, 4, 0);
    RnnfxMidiFrames *fr = NULL;
    assert_int_equal(rnnfx_midi_frames_from_song(back, &info, &fr, &err), RNNFX_OK);
    for (size_t f = 1; f < fr->n_frames; f++)
        assert_true(fr->data[f * (size_t)fr->frame_size + (60 - info.low_key)] == 0.0f);
    rnnfx_midi_frames_free(fr);
    free(bytes);
    rnnfx_midi_song_free(back);
    rnnfx_midi_song_free(song);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    RnnfxMidiInfo info;
    RnnfxError err = {{0}};
    rnnfx_midi_info_init(&info, 3, 0);
    assert_int_equal(rnnfx_midi_info_check(&info, &err), RNNFX_OK);
    info.steps_per_quarter = 0;
    assert_int_equal(rnnfx_midi_info_check(&info, &err), RNNFX_ERR_INVALID);
    rnnfx_midi_info_init(&info, 4, 0);
    info.low_key = 100;
    assert_int_equal(rnnfx_midi_info_check(&info, &err), RNNFX_ERR_INVALID);
    rnnfx_midi_info_init(&info, 4, 0);
    info.n_beat_features = 3;
    assert_int_equal(rnnfx_midi_info_check(&info, &err), RNNFX_ERR_INVALID);
    RnnfxMidiSong *song = NULL;
    assert_int_equal(rnnfx_midi_song_new(0, &song, &err), RNNFX_ERR_ARG);
    assert_int_equal(rnnfx_midi_parse(NULL, 10, &song, &err), RNNFX_ERR_ARG);
    rnnfx_midi_song_free(NULL);
    rnnfx_midi_frames_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_match_mido),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_fuzz_prefixes_and_flips),
        cmocka_unit_test(test_frames_type0_quarter),
        cmocka_unit_test(test_frames_type0_eighth_beats),
        cmocka_unit_test(test_frames_type1_timesig),
        cmocka_unit_test(test_roundtrip_through_writer),
        cmocka_unit_test(test_write_file_type1),
        cmocka_unit_test(test_write_keeps_same_tick_order),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_midi.c — libFuzzer harness for the Standard MIDI File reader and the
 * piano-roll cutter behind it.
 *
 * rnnfx_midi_parse() reads files users bring (training songs, seeds for
 * generation), so every chunk length, variable-length quantity and event it
 * reads comes from an untrusted source. Its contract (midi_file.h) is a
 * status and a message for any bad file, never a read past the buffer, a
 * hang or an allocation larger than its stated limits. A song it accepts
 * then goes where the tools send it: the harness cuts it into frames on a
 * grid chosen from the first byte (as rnnfx-train-midi does) and writes it
 * back with rnnfx_midi_serialize(); a song the writer accepts must parse
 * again with the same number of events.
 *
 * It is not a check of event semantics (test_midi_file compares with mido).
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by `make fuzz`; the
 * same entry point is linked without libFuzzer into tests/test_fuzz_corpus.c,
 * which replays the committed corpus in the ordinary test run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "midi_file.h"
#include "midi_frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_midi_frames(const RnnfxMidiSong *song, uint8_t choice)
{
    static const int steps[4] = {1, 2, 4, 3};
    RnnfxMidiInfo info;
    rnnfx_midi_info_init(&info, steps[choice & 3], (choice >> 2) & 1);
    RnnfxMidiFrames *fr = NULL;
    RnnfxError err;
    memset(&err, 0, sizeof err);
    RnnfxStatus st = rnnfx_midi_frames_from_song(song, &info, &fr, &err);
    if (st != RNNFX_OK) {
        if (fr || err.msg[0] == '\0') {
            fprintf(stderr, "fuzz_midi: frames status %d without a clean refusal\n", (int)st);
            abort();
        }
        return;
    }
    if (fr->n_frames > RNNFX_MIDI_MAX_FRAMES) {
        fprintf(stderr, "fuzz_midi: %zu frames, over the limit\n", fr->n_frames);
        abort();
    }
    rnnfx_midi_frames_free(fr);
}

static void fuzz_midi_roundtrip(const RnnfxMidiSong *song)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    RnnfxError err;
    memset(&err, 0, sizeof err);
    if (rnnfx_midi_serialize(song, &bytes, &len, &err) != RNNFX_OK) {
        if (bytes || err.msg[0] == '\0') {
            fprintf(stderr, "fuzz_midi: serialize failed without a clean refusal\n");
            abort();
        }
        return;
    }
    RnnfxMidiSong *back = NULL;
    RnnfxStatus st = rnnfx_midi_parse(bytes, len, &back, &err);
    if (st != RNNFX_OK) {
        fprintf(stderr, "fuzz_midi: a written song does not parse: %s\n", err.msg);
        abort();
    }
    if (back->n_events != song->n_events) {
        fprintf(stderr, "fuzz_midi: %zu events written, %zu read back\n", song->n_events,
                back->n_events);
        abort();
    }
    rnnfx_midi_song_free(back);
    free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    RnnfxMidiSong *song = NULL;
    RnnfxError err;
    memset(&err, 0, sizeof err);
    RnnfxStatus st = rnnfx_midi_parse(data, size, &song, &err);
    if (st != RNNFX_OK) {
        if (song || err.msg[0] == '\0' || !memchr(err.msg, '\0', sizeof err.msg)) {
            fprintf(stderr, "fuzz_midi: status %d without a clean refusal\n", (int)st);
            abort();
        }
        return 0;
    }
    if (!song || song->n_events > RNNFX_MIDI_MAX_EVENTS) {
        fprintf(stderr, "fuzz_midi: OK without a song within the limits\n");
        abort();
    }
    fuzz_midi_frames(song, size > 0 ? data[size - 1] : 0);
    fuzz_midi_roundtrip(song);
    rnnfx_midi_song_free(song);
    return 0;
}

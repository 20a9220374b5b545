/*
 * midi_ports.h — port indices, ranges and URIs of the rnnfx MIDI plugin
 * (http://rnnfx.org/plugins/rnnfx#midi): the one source of truth that
 * ttl/midi.ttl must match (tests/test_midi_plugin.c loads the built bundle
 * through lilv and checks every index, symbol and range against this).
 *
 * No code, no dependencies: tests include it too.
 */
#ifndef RNNFX_MIDI_PORTS_H
#define RNNFX_MIDI_PORTS_H

#define RNNFX_MIDI_URI "http://rnnfx.org/plugins/rnnfx#midi"
/* patch:writable atom:Path — the MIDI-frame model file */
#define RNNFX_MIDI_URI_MODEL "http://rnnfx.org/plugins/rnnfx#midiModel"
/* state keys of the random generator (atom:Long each) */
#define RNNFX_MIDI_URI_RNG_STATE "http://rnnfx.org/plugins/rnnfx#midiRngState"
#define RNNFX_MIDI_URI_RNG_INC "http://rnnfx.org/plugins/rnnfx#midiRngInc"
#define RNNFX_MIDI_URI_RNG_SEED "http://rnnfx.org/plugins/rnnfx#midiRngSeed"

/* The built-in model, a file inside the bundle. */
#define RNNFX_MIDI_DEFAULT_MODEL_FILE "rnnfx-midi-default.json"

typedef enum {
    RNNFX_MIDI_PORT_CONTROL = 0, /* atom in: MIDI, time:Position, patch messages */
    RNNFX_MIDI_PORT_OUT,         /* atom out: MIDI (player's notes + model's) and patch:Set */
    RNNFX_MIDI_PORT_MODE,        /* 0 continue, 1 accompany */
    RNNFX_MIDI_PORT_GRID,        /* 0 as the model, 1 quarter, 2 eighth, 3 sixteenth */
    RNNFX_MIDI_PORT_TEMPERATURE, /* 0..2 */
    RNNFX_MIDI_PORT_DENSITY,     /* 0.25..4, odds multiplier */
    RNNFX_MIDI_PORT_CHANNEL,     /* 1..16, channel of the model's notes */
    RNNFX_MIDI_PORT_VELOCITY,    /* 1..127 */
    RNNFX_MIDI_PORT_SEED,        /* 0..65535; a change reseeds the generator */
    RNNFX_MIDI_PORT_MAX_NOTES,   /* 0..16, 0 = no limit */
    RNNFX_MIDI_N_PORTS
} RnnfxMidiPort;

enum { RNNFX_MIDI_MODE_CONTINUE = 0, RNNFX_MIDI_MODE_ACCOMPANY = 1 };

#define RNNFX_MIDI_TEMPERATURE_MAX 2.0f
#define RNNFX_MIDI_DENSITY_MIN 0.25f
#define RNNFX_MIDI_DENSITY_MAX 4.0f
#define RNNFX_MIDI_SEED_MAX 65535.0f
#define RNNFX_MIDI_MAX_NOTES_MAX 16.0f

#endif

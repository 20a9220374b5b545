/*
 * rnnfx_ports.h — the plugin's port indices, symbols and URIs: the one source
 * of truth that ttl/rnnfx.ttl must match (tests/test_plugin_host.c loads the
 * built bundle through lilv and checks every index and symbol against this).
 *
 * Control ports come first so that the mono and the stereo plugin share
 * their indices; audio ports follow (the stereo plugin adds a right pair).
 * This header has no code and no dependencies; tests include it too.
 */
#ifndef RNNFX_PORTS_H
#define RNNFX_PORTS_H

#define RNNFX_URI "http://rnnfx.org/plugins/rnnfx"
#define RNNFX_URI_MONO RNNFX_URI "#mono"
#define RNNFX_URI_STEREO RNNFX_URI "#stereo"
/* patch:writable atom:Path — the model file */
#define RNNFX_URI_MODEL RNNFX_URI "#model"
/* patch:writable atom:Path — the cabinet impulse response run after the
 * model ("" or absent: no cabinet) */
#define RNNFX_URI_IR RNNFX_URI "#ir"
/* patch:readable — what is loaded */
#define RNNFX_URI_MODEL_NAME RNNFX_URI "#modelName"
#define RNNFX_URI_MODEL_RATE RNNFX_URI "#modelSampleRate"
#define RNNFX_URI_MODEL_ESR RNNFX_URI "#modelEsr"

/* The built-in default capture, a model file inside the bundle. */
#define RNNFX_DEFAULT_MODEL_FILE "rnnfx-default.json"

/* rnnfx:capture (State, an atom:Int): the value of the capture port the
 * plugin last acted on, so a restored session does not act on it again. */
#define RNNFX_URI_CAPTURE RNNFX_URI "#capture"

/* The capture port's choices 1..RNNFX_N_CAPTURES: the captures the bundle
 * ships, each a model file and a cabinet IR file ("" none) in the bundle,
 * in the order of the port's scale points in the TTL (0 is "Keep current":
 * no change). The bundle's presets select the same entries. */
#define RNNFX_N_CAPTURES 4
#define RNNFX_CAPTURE_FILES                                                             \
    {                                                                                   \
        {RNNFX_DEFAULT_MODEL_FILE, ""}, {"rnnfx-ds1-drive.json", ""},                   \
            {"rnnfx-tube-amp.json", ""}, {"rnnfx-tube-amp.json", "rnnfx-cab-mesa.wav"} \
    }

typedef enum {
    RNNFX_PORT_CONTROL = 0, /* atom in: patch messages and MIDI */
    RNNFX_PORT_NOTIFY,      /* atom out: patch:Set of the readable parameters */
    RNNFX_PORT_INPUT_GAIN,  /* dB */
    RNNFX_PORT_OUTPUT_GAIN, /* dB */
    RNNFX_PORT_MIX,         /* 0..1 */
    RNNFX_PORT_ENABLED,     /* lv2:enabled, 0/1 */
    RNNFX_PORT_KNOB1,       /* 0..1, conditioning input 1 of the model */
    RNNFX_PORT_KNOB2,
    RNNFX_PORT_KNOB3,
    RNNFX_PORT_KNOB4,
    RNNFX_PORT_LATENCY,  /* out: samples */
    RNNFX_PORT_IN_PEAK,  /* out: dBFS, into the model (after input gain) */
    RNNFX_PORT_OUT_PEAK, /* out: dBFS, at the output */
    RNNFX_PORT_IN_L,     /* audio in (mono: the input) */
    RNNFX_PORT_OUT_L,    /* audio out */
    RNNFX_PORT_IN_R,     /* stereo only (mono: the capture selector) */
    RNNFX_PORT_OUT_R,    /* stereo only */
    RNNFX_PORT_CAPTURE_STEREO,   /* stereo: the capture selector */
    RNNFX_PORT_NORMALIZE_STEREO, /* stereo: level-match the captures, 0/1 */
    RNNFX_PORT_COUNT_STEREO,
    /* The capture selector came after the audio ports (added with
     * lv2:minorVersion 2, at the end so that no port moved), and normalize
     * after it (minorVersion 3): mono has them where stereo has its right
     * pair. */
    RNNFX_PORT_CAPTURE_MONO = RNNFX_PORT_IN_R,
    RNNFX_PORT_NORMALIZE_MONO = RNNFX_PORT_IN_R + 1,
    RNNFX_PORT_COUNT_MONO = RNNFX_PORT_IN_R + 2
} RnnfxPort;

#define RNNFX_N_KNOBS 4

/* Symbols in port order (index = RnnfxPort). */
#define RNNFX_PORT_SYMBOLS_CONTROLS                                                        \
    "control", "notify", "input_gain", "output_gain", "mix", "enabled", "knob1", "knob2", \
        "knob3", "knob4", "latency", "in_peak", "out_peak"
#define RNNFX_PORT_SYMBOLS_MONO {RNNFX_PORT_SYMBOLS_CONTROLS, "in", "out", "capture", "normalize"}
#define RNNFX_PORT_SYMBOLS_STEREO \
    {RNNFX_PORT_SYMBOLS_CONTROLS, "in_l", "out_l", "in_r", "out_r", "capture", "normalize"}

/* Control ranges (must match the TTL). */
#define RNNFX_INPUT_GAIN_MIN (-24.0f)
#define RNNFX_INPUT_GAIN_MAX 24.0f
#define RNNFX_OUTPUT_GAIN_MIN (-48.0f)
#define RNNFX_OUTPUT_GAIN_MAX 24.0f
#define RNNFX_PEAK_FLOOR_DB (-90.0f)

/* Default MIDI CC mapping (any channel). A CC moves the control until the
 * host changes that control port again. Values 0..127 map linearly onto the
 * control's range. */
#define RNNFX_CC_KNOB1_ALT 1 /* mod wheel also drives knob 1 */
#define RNNFX_CC_OUTPUT_GAIN_ALT 7 /* channel volume also drives output gain, as
                                      General MIDI scales volume: 40 log10(v/127) dB,
                                      so 127 is 0 dB and the usual 100 is -4.2 dB */
#define RNNFX_CC_RESET_ALL 121     /* reset all controllers: the ports take over again */
#define RNNFX_CC_INPUT_GAIN 20
#define RNNFX_CC_OUTPUT_GAIN 21
#define RNNFX_CC_MIX 22
#define RNNFX_CC_KNOB1 23 /* knobs 1..4 on CC 23..26 */
/* MIDI Program Change p (0..RNNFX_N_CAPTURES-1, any channel) chooses
 * capture p + 1, as the capture port would, until that port moves. */

#endif

#!/usr/bin/python3
"""Writes the bad (and two good control) model files in tests/data/bad/ and
expect.txt, which tests/test_model_file.c reads.

Each bad file is a small valid rnnfx model (version 1) with ONE thing broken,
so the loader must name that one thing. The good controls are the same
models unbroken: they must load, which proves each bad file fails for its own
reason. expect.txt lines:  file  STATUS  needle[|needle...]
(STATUS is the RnnfxStatus name without RNNFX_ERR_, or several separated by
'|' where either is a fair reading; every needle must occur in the error
message, case-insensitively; '-' for none.)

Files over the engine's 64 MiB size limit are made by the test itself at run
time (a sparse file), not committed. Plain Python 3, no dependencies:
    /usr/bin/python3 tests/data/bad/make_bad_models.py
"""

import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def vals(n, seed):
    """n deterministic small floats (no randomness needed)."""
    return [round(((i * 7919 + seed * 104729) % 2001 - 1000) / 2500.0, 6) for i in range(n)]


def layer(cell, hidden, inp, seed, peephole=False, relu=False):
    g = {"lstm": 4, "gru": 3, "rnn": 1}[cell]
    L = {"type": cell, "hidden_size": hidden, "input_size": inp}
    if cell == "lstm":
        L["peephole"] = peephole
    if cell == "rnn":
        L["nonlinearity"] = "relu" if relu else "tanh"
    L["weight_ih"] = vals(g * hidden * inp, seed)
    L["weight_hh"] = vals(g * hidden * hidden, seed + 1)
    L["bias_ih"] = vals(g * hidden, seed + 2)
    L["bias_hh"] = vals(g * hidden, seed + 3)
    if peephole:
        L["peephole_weights"] = vals(3 * hidden, seed + 4)
    return L


def base_model():
    """Audio model: one knob, LSTM 4 (peephole) -> GRU 3, skip."""
    return {
        "format": "rnnfx-model", "version": 1, "kind": "audio", "sample_rate": 48000,
        "input_size": 2, "output_size": 1, "skip": True, "output_activation": "linear",
        "input_gain": 1.0, "output_gain": 1.0,
        "params": [{"name": "gain", "min": 0, "max": 1, "default": 0.5}],
        "layers": [layer("lstm", 4, 2, 1, peephole=True), layer("gru", 3, 4, 10)],
        "dense": {"weight": vals(3, 20), "bias": [0.01]},
        "metadata": {"name": "bad-file base", "author": "tests", "date": "2026-11-22",
                     "description": "", "esr": -1, "source_format": "rnnfx", "training": {}},
    }


def midi_model():
    m = base_model()
    m.update(kind="midi-frames", input_size=6, output_size=4, skip=False,
             output_activation="sigmoid", params=[])
    m["layers"] = [layer("rnn", 5, 6, 30, relu=True)]
    m["dense"] = {"weight": vals(20, 40), "bias": vals(4, 41)}
    m["midi"] = {"steps_per_quarter": 4, "low_key": 60, "keys": 4, "beat_features": 2}
    return m


FILES = []  # (name, bytes, status, needles)


def add(name, data, status, needles):
    if isinstance(data, dict):
        data = json.dumps(data, indent=None).encode()
    elif isinstance(data, str):
        data = data.encode()
    FILES.append((name, data, status, needles))


def mutate(name, fn, status, needles, base=base_model):
    m = base()
    fn(m)
    add(name, m, status, needles)


def main():
    good = json.dumps(base_model()).encode()
    add("good_base.json", good, "OK", "")
    add("good_midi.json", midi_model(), "OK", "")

    # --- not JSON at all, or not all of it
    add("empty.json", b"", "PARSE", "empty")
    add("whitespace_only.json", b"   \n\t\n", "PARSE", "")
    add("bom_only.json", b"\xef\xbb\xbf", "PARSE", "byte order mark only")
    add("truncated_half.json", good[: len(good) // 2], "PARSE", "truncated")
    add("truncated_end.json", good[:-1], "PARSE", "truncated")
    add("binary_junk.bin", bytes((i * 73 + 41) % 256 for i in range(3000)), "PARSE", "json")
    add("trailing_garbage.json", good + b"\n}{junk", "PARSE", "byte %d" % (len(good) + 1))
    add("nested_garbage.json", b"[" * 10000 + b"]" * 10000, "PARSE", "json")
    add("nested_in_metadata.json",
        good[:-1] + b', "extra": ' + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"}", "PARSE", "json")
    # JSON has no NaN/Infinity; json-c (0.16) reads them anyway, so they
    # reach the tensor check, which names the value.
    add("nan_literal.json", good.replace(b'"bias": [0.01]', b'"bias": [NaN]'), "INVALID",
        "dense|bias[0]")
    add("infinity_literal.json", good.replace(b'"bias": [0.01]', b'"bias": [-Infinity]'),
        "INVALID", "dense|bias[0]")

    # --- JSON, but not our model format
    add("root_array.json", b"[1, 2, 3]", "FORMAT", "object")
    # (json-c cannot tell a bare number at the end of the text from a cut-off
    # one, so either reading is fair here)
    add("root_number.json", b"42", "FORMAT|PARSE", "-")
    add("no_format_tag.json", b'{"hello": "world"}', "FORMAT", "model file")
    mutate("wrong_format_tag.json", lambda m: m.update(format="rnnfx-modle"), "FORMAT",
           "rnnfx-modle")
    mutate("format_tag_number.json", lambda m: m.update(format=1), "FORMAT", "format")

    # --- version
    mutate("version_2.json", lambda m: m.update(version=2), "UNSUPPORTED", "version 2")
    mutate("version_0.json", lambda m: m.update(version=0), "UNSUPPORTED", "version 0")
    mutate("version_string.json", lambda m: m.update(version="1"), "INVALID", "version")
    mutate("version_missing.json", lambda m: m.pop("version"), "INVALID", "version")
    mutate("version_fraction.json", lambda m: m.update(version=1.5), "INVALID", "version")

    # --- architecture
    mutate("hidden_size_0.json", lambda m: m["layers"][0].update(hidden_size=0), "INVALID",
           "hidden_size")
    mutate("hidden_size_1e9.json", lambda m: m["layers"][0].update(hidden_size=1e9), "LIMIT",
           "hidden_size")
    mutate("hidden_size_negative.json", lambda m: m["layers"][1].update(hidden_size=-3),
           "INVALID", "layer 1|hidden_size")
    mutate("hidden_size_string.json", lambda m: m["layers"][0].update(hidden_size="4"),
           "INVALID", "hidden_size")
    mutate("hidden_size_missing.json", lambda m: m["layers"][0].pop("hidden_size"), "INVALID",
           "hidden_size")
    mutate("input_size_negative.json", lambda m: m.update(input_size=-1), "INVALID",
           "input_size")
    mutate("input_size_huge.json", lambda m: m.update(input_size=2 ** 40), "LIMIT",
           "input_size")
    mutate("output_size_0.json", lambda m: m.update(output_size=0), "INVALID", "output_size")
    mutate("output_size_huge.json", lambda m: m.update(output_size=1e12), "LIMIT",
           "output_size")
    mutate("layer_input_mismatch.json", lambda m: m["layers"][1].update(input_size=5),
           "INVALID", "layer 1|input_size")
    mutate("unknown_cell_type.json", lambda m: m["layers"][1].update(type="transformer"),
           "UNSUPPORTED", "layer 1|transformer")
    mutate("cell_type_missing.json", lambda m: m["layers"][0].pop("type"), "UNSUPPORTED",
           "layer 0|type")
    mutate("unknown_nonlinearity.json", lambda m: m["layers"][0].update(type="rnn",
           nonlinearity="gelu", peephole=False), "UNSUPPORTED", "gelu")
    mutate("unknown_activation.json", lambda m: m.update(output_activation="softmax"),
           "UNSUPPORTED", "softmax")
    mutate("unknown_kind.json", lambda m: m.update(kind="video"), "UNSUPPORTED", "video")
    mutate("no_layers.json", lambda m: m.update(layers=[]), "LIMIT", "layers")
    mutate("layers_not_array.json", lambda m: m.update(layers={"0": 1}), "INVALID", "layers")

    def too_many(m):
        m["layers"] = [layer("gru", 3, 2, 50)] + [layer("gru", 3, 3, 51 + i) for i in range(8)]
    mutate("too_many_layers.json", too_many, "LIMIT", "9 layers")

    def too_big(m):  # 8 x LSTM 1024 with empty tensors
        m["input_size"] = 1
        m["params"] = []
        m["layers"] = [{"type": "lstm", "hidden_size": 1024, "input_size": 1 if i == 0 else 1024,
                        "weight_ih": [], "weight_hh": [], "bias_ih": [], "bias_hh": []}
                       for i in range(8)]
    # The largest architecture the limits allow (~65 Mi floats) declared by a
    # tiny file: rejected at the first tensor, quickly.
    mutate("huge_declared_model.json", too_big, "INVALID", "layer 0|weight_ih")
    mutate("skip_not_bool.json", lambda m: m.update(skip=1), "INVALID", "skip")
    mutate("peephole_on_gru.json", lambda m: m["layers"][1].update(peephole=True), "INVALID",
           "layer 1|peephole")
    mutate("relu_on_lstm.json", lambda m: m["layers"][0].update(nonlinearity="relu"),
           "INVALID", "layer 0|relu")

    # --- knobs
    mutate("params_mismatch_input.json", lambda m: m.update(params=[]), "INVALID", "input size")
    mutate("param_bad_range.json", lambda m: m["params"][0].update(min=1, max=0), "INVALID",
           "gain|range")
    mutate("param_default_outside.json", lambda m: m["params"][0].update(default=3), "INVALID",
           "gain|range")
    # each bound finite, but the span max - min overflows a float
    mutate("param_span_overflow.json",
           lambda m: m["params"][0].update(min=-3e38, max=3e38, default=0), "INVALID", "gain|range")
    mutate("param_no_name.json", lambda m: m["params"][0].pop("name"), "INVALID", "name")
    # knobs are set by name ignoring case: "gain" and "Gain" cannot both be
    mutate("params_same_name.json", lambda m: m.update(
        params=[{"name": "gain", "min": 0, "max": 1, "default": 0},
                {"name": "Gain", "min": 0, "max": 1, "default": 0}],
        input_size=3, layers=[layer("lstm", 4, 3, 1, peephole=True), m["layers"][1]]),
        "INVALID", "both named|gain")
    mutate("params_too_many.json", lambda m: m.update(
        params=[{"name": "k%d" % i, "min": 0, "max": 1, "default": 0} for i in range(9)],
        input_size=10), "LIMIT", "conditioning")

    # --- tensors
    mutate("weight_hh_short.json", lambda m: m["layers"][0]["weight_hh"].pop(), "INVALID",
           "layer 0|weight_hh|63|64")
    mutate("weight_ih_long.json", lambda m: m["layers"][1]["weight_ih"].append(0.5), "INVALID",
           "layer 1|weight_ih|37|36")
    mutate("bias_ih_missing.json", lambda m: m["layers"][1].pop("bias_ih"), "INVALID",
           "layer 1|bias_ih")
    mutate("peephole_weights_missing.json", lambda m: m["layers"][0].pop("peephole_weights"),
           "INVALID", "layer 0|peephole_weights")
    mutate("peephole_weights_on_gru.json",
           lambda m: m["layers"][1].update(peephole_weights=[0.0] * 9), "INVALID",
           "layer 1|peephole_weights")
    mutate("initial_c_on_gru.json", lambda m: m["layers"][1].update(initial_c=[0.0] * 3),
           "INVALID", "layer 1|initial_c")
    mutate("initial_h_wrong_size.json", lambda m: m["layers"][0].update(initial_h=[0.0] * 5),
           "INVALID", "layer 0|initial_h")
    mutate("dense_missing.json", lambda m: m.pop("dense"), "INVALID", "dense")
    mutate("dense_bias_missing.json", lambda m: m["dense"].pop("bias"), "INVALID", "dense|bias")
    mutate("dense_weight_short.json", lambda m: m["dense"].update(weight=[0.1, 0.2]),
           "INVALID", "dense|weight")
    mutate("weight_string.json", lambda m: m["layers"][0]["bias_hh"].__setitem__(5, "0.5"),
           "INVALID", "layer 0|bias_hh[5]")
    mutate("weight_null.json", lambda m: m["layers"][1]["weight_hh"].__setitem__(2, None),
           "INVALID", "layer 1|weight_hh[2]")
    mutate("weight_nested_array.json",
           lambda m: m["layers"][0]["weight_ih"].__setitem__(0, [0.1]), "INVALID",
           "layer 0|weight_ih[0]")
    mutate("weight_not_array.json", lambda m: m["layers"][0].update(weight_ih=0.5), "INVALID",
           "layer 0|weight_ih")
    # A number too large for a float (JSON has no NaN/Inf; this is how an
    # overflowed exporter spells infinity).
    add("weight_overflow_1e999.json",
        good.replace(b'"bias": [0.01]', b'"bias": [1e999]'), "INVALID", "dense|bias[0]")
    add("weight_overflow_float.json",
        good.replace(b'"bias": [0.01]', b'"bias": [4e38]'), "INVALID", "dense|bias[0]")

    # --- metadata and other values
    mutate("sample_rate_negative.json", lambda m: m.update(sample_rate=-48000), "INVALID",
           "sample rate")
    mutate("sample_rate_string.json", lambda m: m.update(sample_rate="48000"), "INVALID",
           "sample_rate")
    mutate("gain_huge.json", lambda m: m.update(output_gain=1e30), "INVALID", "gain")
    mutate("esr_string.json", lambda m: m["metadata"].update(esr="low"), "INVALID", "esr")
    mutate("midi_missing.json", lambda m: m.pop("midi"), "INVALID", "midi", base=midi_model)
    mutate("midi_grid_mismatch.json", lambda m: m["midi"].update(keys=88), "INVALID", "midi",
           base=midi_model)
    mutate("midi_key_range.json", lambda m: m["midi"].update(low_key=200), "INVALID|LIMIT",
           "low_key", base=midi_model)

    for f in os.listdir(HERE):
        if f != os.path.basename(__file__) and f != "README.md":
            os.remove(os.path.join(HERE, f))
    lines = ["# Bad model files and what the loader must say; written by make_bad_models.py.",
             "# file STATUS[|STATUS] needle[|needle...]  (the status must be one of those",
             "# listed; every needle, spaces included, must be in the message, any case)"]
    for name, data, status, needles in FILES:
        with open(os.path.join(HERE, name), "wb") as fh:
            fh.write(data)
        lines.append("%s %s %s" % (name, status, needles or "-"))
    with open(os.path.join(HERE, "expect.txt"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("%d files" % len(FILES))


if __name__ == "__main__":
    main()

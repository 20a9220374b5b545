#!/usr/bin/python3
"""Reference outputs for the third-party model files in tests/data/interop.

Run with Debian's python3-torch and python3-numpy:

    /usr/bin/python3 tests/gen_interop_refs.py

For each file it computes, independently of the C importers, what the model
outputs for a fixed excitation, and writes tests/data/interop/refs/<file>.ref:
a header line, then one line per time step with the model's inputs and its
output. tests/test_interop.c loads the file through rnnfx_model_load() and must
reproduce these outputs within 1e-5. The outputs are committed, so the C tests
need neither torch nor numpy.

How each format is computed here (deliberately not by re-using the C layout
conversions):
  * AIDA-X/RTNeural Keras JSON: the Keras cell equations evaluated directly
    on the Keras weights in float64 numpy (kernel x, recurrent kernel h, gate
    blocks i,f,c,o / z,r,h, GRU reset_after with two bias rows). As a second
    opinion, the same model is rebuilt as torch.nn.LSTM/GRU and the two must
    agree to 1e-9 in float64 (this checks the script's own understanding).
    Gains follow AIDA-X: y = og * (f(ig * x) + skip * ig * x), in dB.
  * Automated-GuitarAmpModelling / Proteus JSON: torch.nn.LSTM/GRU/RNN +
    torch.nn.Linear loaded from the state_dict, skip adds input channel 0.
  * NAM .nam LSTM: torch.nn.LSTM per layer with the file's h0/c0 as initial
    state, then the head.
All of it runs in float64 on the files' float32 values: the references are
the exact answer, not another float32 rounding of it (torch in float32 is
itself 7e-6 away from float64 on the high-gain wright_ht1_gru32 model).

The SUSPECT GRU file is deliberately absent: it is a mis-converted model
(see LICENCES.md) and no numeric reference for anything; the test only
checks that it loads.
"""

import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "interop")
REFS = os.path.join(DATA, "refs")
STEPS = 2000


def excitation(n_inputs, seed):
    """A guitar-like test signal: plucked partials of changing pitch, rising
    from quiet to loud, plus a little noise; knob inputs (if any) step and
    ramp through 0..1 so the conditioning path is exercised."""
    rng = np.random.RandomState(seed)
    t = np.arange(STEPS) / 48000.0
    x = np.zeros(STEPS)
    for start in range(0, STEPS, 600):
        f0 = 82.41 * 2 ** (rng.randint(0, 24) / 12.0)
        seg = slice(start, min(STEPS, start + 600))
        tt = t[seg] - t[start]
        env = np.exp(-tt * 40.0)
        x[seg] = env * (np.sin(2 * math.pi * f0 * tt) + 0.4 * np.sin(2 * math.pi * 2 * f0 * tt + 0.5))
    x *= np.linspace(0.05, 0.95, STEPS) / 1.4
    x += 0.01 * rng.standard_normal(STEPS)
    cols = [x]
    if n_inputs >= 2:
        cols.append(np.where(np.arange(STEPS) < STEPS // 2, 0.2, 0.8))
    if n_inputs >= 3:
        cols.append(np.linspace(0.0, 1.0, STEPS))
    for k in range(3, n_inputs):
        cols.append(np.full(STEPS, 0.5))
    return np.stack(cols, axis=1).astype(np.float32)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# ---- AIDA-X / Keras ----------------------------------------------------------


def keras_lstm(x, kernel, rec, bias):
    h_units = rec.shape[0]
    h = np.zeros(h_units)
    c = np.zeros(h_units)
    out = np.zeros((x.shape[0], h_units))
    for t in range(x.shape[0]):
        z = x[t] @ kernel + h @ rec + bias
        i = sigmoid(z[:h_units])
        f = sigmoid(z[h_units:2 * h_units])
        g = np.tanh(z[2 * h_units:3 * h_units])
        o = sigmoid(z[3 * h_units:])
        c = f * c + i * g
        h = o * np.tanh(c)
        out[t] = h
    return out


def keras_gru(x, kernel, rec, bias):
    """Keras GRU, reset_after=True: blocks z, r, h; bias[0] input, bias[1]
    recurrent; h' = z * h + (1 - z) * hh."""
    h_units = rec.shape[0]
    h = np.zeros(h_units)
    out = np.zeros((x.shape[0], h_units))
    for t in range(x.shape[0]):
        xw = x[t] @ kernel + bias[0]
        hw = h @ rec + bias[1]
        z = sigmoid(xw[:h_units] + hw[:h_units])
        r = sigmoid(xw[h_units:2 * h_units] + hw[h_units:2 * h_units])
        hh = np.tanh(xw[2 * h_units:] + r * hw[2 * h_units:])
        h = z * h + (1 - z) * hh
        out[t] = h
    return out


def torch_from_keras(layer_type, kernel, rec, bias, x, dtype=torch.float64):
    """The same layer as a torch module: the second opinion (float64), or
    PyTorch's float32 answer for the float32 floor."""
    in_size, gh = kernel.shape
    h_units = rec.shape[0]
    if layer_type == "lstm":
        mod = torch.nn.LSTM(in_size, h_units, batch_first=True).to(dtype)
        order = [0, 1, 2, 3]
        b_ih, b_hh = bias, np.zeros_like(bias)
    else:
        mod = torch.nn.GRU(in_size, h_units, batch_first=True).to(dtype)
        order = [1, 0, 2]  # torch r, z, n <- keras blocks 1 (r), 0 (z), 2 (h)
        b_ih, b_hh = bias[0], bias[1]

    def reorder(m):
        return np.concatenate([m[..., k * h_units:(k + 1) * h_units] for k in order], axis=-1)

    def t(a):
        return torch.from_numpy(a.copy()).to(dtype)

    with torch.no_grad():
        mod.weight_ih_l0.copy_(t(reorder(kernel).T))
        mod.weight_hh_l0.copy_(t(reorder(rec).T))
        mod.bias_ih_l0.copy_(t(reorder(b_ih)))
        mod.bias_hh_l0.copy_(t(reorder(b_hh)))
        y, _ = mod(t(x[None]))
    return y[0].double().numpy()


def ref_aidax(path, x, dtype=None):
    """dtype None: the float64 reference; torch.float32: PyTorch's float32
    evaluation of the same file (for the float32 floor)."""
    j = json.load(open(path))
    ig = 10 ** (j.get("in_gain", 0) / 20.0)
    og = 10 ** (j.get("out_gain", 0) / 20.0)
    skip = j.get("in_skip", 0)
    v = x.astype(np.float64).copy()
    v[:, 0] *= ig
    a = v
    for layer in j["layers"]:
        w = [np.array(t, dtype=np.float64) for t in layer["weights"]]
        if layer["type"] in ("lstm", "gru"):
            if dtype is not None:
                a = torch_from_keras(layer["type"], w[0], w[1], w[2], a, dtype)
                continue
            fn = keras_lstm if layer["type"] == "lstm" else keras_gru
            y = fn(a, w[0], w[1], w[2])
            y2 = torch_from_keras(layer["type"], w[0], w[1], w[2], a)
            assert np.max(np.abs(y - y2)) < 1e-9, "Keras equations and torch disagree"
            a = y
        elif layer["type"] == "dense":
            assert layer.get("activation", "") in ("", "linear")
            a = a @ w[0] + w[1]
        else:
            raise ValueError(layer["type"])
    out = a[:, 0] + (skip * v[:, 0] if skip else 0)
    return og * out, "numpy Keras equations (float64), cross-checked with torch.nn"


# ---- Automated-GuitarAmpModelling / Proteus ------------------------------------


def ref_coreaudioml(path, x):
    j = json.load(open(path))
    md, sd = j["model_data"], j["state_dict"]
    cls = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN}[md["unit_type"]]
    rec = cls(md["input_size"], md["hidden_size"], num_layers=md.get("num_layers", 1),
              batch_first=True).double()
    lin = torch.nn.Linear(md["hidden_size"], md.get("output_size", 1),
                          bias=md.get("bias_fl", True)).double()
    # the file's float32 values, evaluated in float64
    def t64(v):
        return torch.tensor(np.array(v, dtype=np.float32).astype(np.float64))
    rec.load_state_dict({k[4:]: t64(v) for k, v in sd.items() if k.startswith("rec.")})
    lin.load_state_dict({k[4:]: t64(v) for k, v in sd.items() if k.startswith("lin.")})
    with torch.no_grad():
        xt = torch.from_numpy(x[None].astype(np.float64))
        h, _ = rec(xt)
        y = lin(h)
        if md.get("skip", 0):
            y = y + xt[:, :, 0:1]
    return y[0, :, 0].numpy(), "torch.nn.%s + Linear (float64)" % md["unit_type"]


# ---- NAM ----------------------------------------------------------------------


def ref_nam(path, x):
    j = json.load(open(path))
    cfg = j["config"]
    w = np.array(j["weights"], dtype=np.float32).astype(np.float64)
    hid, n_layers, n_in = cfg["hidden_size"], cfg["num_layers"], cfg["input_size"]
    p = 0
    a = torch.from_numpy(x[None].astype(np.float64))
    for l in range(n_layers):
        li = n_in if l == 0 else hid
        mat = w[p:p + 4 * hid * (li + hid)].reshape(4 * hid, li + hid)
        p += 4 * hid * (li + hid)
        b = w[p:p + 4 * hid]
        p += 4 * hid
        h0 = w[p:p + hid]
        p += hid
        c0 = w[p:p + hid]
        p += hid
        mod = torch.nn.LSTM(li, hid, batch_first=True).double()
        with torch.no_grad():
            mod.weight_ih_l0.copy_(torch.from_numpy(mat[:, :li].copy()))
            mod.weight_hh_l0.copy_(torch.from_numpy(mat[:, li:].copy()))
            mod.bias_ih_l0.copy_(torch.from_numpy(b.copy()))
            mod.bias_hh_l0.zero_()
            a, _ = mod(a, (torch.from_numpy(h0.copy())[None, None], torch.from_numpy(c0.copy())[None, None]))
    head_w = torch.from_numpy(w[p:p + hid].copy())
    head_b = float(w[p + hid])
    assert p + hid + 1 == len(w)
    with torch.no_grad():
        y = a[0] @ head_w + head_b
    return y.numpy(), "torch.nn.LSTM with the file's h0/c0 + head (float64)"


def float32_floor(name, n_in, x, y64):
    """How far PyTorch itself lands from the float64 answer when it runs the
    same file in float32: the accuracy any float32 implementation can be
    expected to reach on this model and input. Most files sit near 1e-6; a
    high-gain model amplifies rounding and sits higher. The C test allows
    max(1e-5, 2 x this floor)."""
    j = json.load(open(os.path.join(DATA, name)))
    xt = torch.from_numpy(x[None])
    with torch.no_grad():
        if "state_dict" in j:
            md, sd = j["model_data"], j["state_dict"]
            cls = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN}[md["unit_type"]]
            rec = cls(md["input_size"], md["hidden_size"], num_layers=md.get("num_layers", 1),
                      batch_first=True)
            lin = torch.nn.Linear(md["hidden_size"], md.get("output_size", 1))
            rec.load_state_dict({k[4:]: torch.tensor(v) for k, v in sd.items() if k.startswith("rec.")})
            lin.load_state_dict({k[4:]: torch.tensor(v) for k, v in sd.items() if k.startswith("lin.")})
            y = lin(rec(xt)[0])[0, :, 0]
            if md.get("skip", 0):
                y = y + xt[0, :, 0]
        elif "architecture" in j:
            cfg, w = j["config"], torch.tensor(j["weights"], dtype=torch.float32)
            hid, p, a = cfg["hidden_size"], 0, xt
            for l in range(cfg["num_layers"]):
                li = cfg["input_size"] if l == 0 else hid
                mod = torch.nn.LSTM(li, hid, batch_first=True)
                mat = w[p:p + 4 * hid * (li + hid)].reshape(4 * hid, li + hid)
                p += 4 * hid * (li + hid)
                mod.weight_ih_l0.copy_(mat[:, :li])
                mod.weight_hh_l0.copy_(mat[:, li:])
                mod.bias_ih_l0.copy_(w[p:p + 4 * hid])
                mod.bias_hh_l0.zero_()
                p += 4 * hid
                h0, c0 = w[p:p + hid], w[p + hid:p + 2 * hid]
                p += 2 * hid
                a = mod(a, (h0[None, None], c0[None, None]))[0]
            y = a[0] @ w[p:p + hid] + w[p + hid]
        else:
            y32, _ = ref_aidax(os.path.join(DATA, name), x, torch.float32)
            return float(np.max(np.abs(y32 - y64)))
    return float(np.max(np.abs(y.double().numpy() - y64)))


def write_synthetic():
    """Three small files this script makes itself (random weights), for
    what no public file here has: a stacked AIDA-X model (lstm -> gru) with
    skip and both gains, a 2-layer conditioned GRU and a vanilla-RNN
    CoreAudioML model. The weights are float32 values written as their
    exact decimal expansions, so the files hold exactly what the references
    are computed from."""
    rng = np.random.RandomState(77)

    def u(shape, h):
        return (rng.uniform(-1.5, 1.5, size=shape) / math.sqrt(h)).astype(np.float32)

    def lists(a):
        return json.loads(json.dumps(a.tolist()))

    def dump(name, obj):
        text = json.dumps(obj, separators=(", ", ": "))
        with open(os.path.join(DATA, name), "w") as f:
            f.write(text + "\n")

    h1, h2 = 10, 6
    aidax = {
        "in_shape": [None, None, 1],
        "in_skip": 1,
        "in_gain": 3.0,
        "out_gain": -2.0,
        "layers": [
            {"type": "lstm", "activation": "tanh", "shape": [None, None, h1],
             "weights": [lists(u((1, 4 * h1), h1)), lists(u((h1, 4 * h1), h1)), lists(u((4 * h1,), h1))]},
            {"type": "gru", "shape": [None, None, h2],
             "weights": [lists(u((h1, 3 * h2), h2)), lists(u((h2, 3 * h2), h2)), lists(u((2, 3 * h2), h2))]},
            {"type": "dense", "activation": "", "shape": [None, None, 1],
             "weights": [lists(u((h2, 1), h2)), lists(u((1,), h2))]},
        ],
        "metadata": {"name": "synthetic stacked lstm-gru", "samplerate": 44100},
    }
    dump("synthetic_aidax_lstm10_gru6_skip_gains.json", aidax)

    def caml(unit, n_in, hid, layers, skip):
        g = {"LSTM": 4, "GRU": 3, "RNN": 1}[unit]
        sd = {}
        for l in range(layers):
            li = n_in if l == 0 else hid
            sd["rec.weight_ih_l%d" % l] = lists(u((g * hid, li), hid))
            sd["rec.weight_hh_l%d" % l] = lists(u((g * hid, hid), hid))
            sd["rec.bias_ih_l%d" % l] = lists(u((g * hid,), hid))
            sd["rec.bias_hh_l%d" % l] = lists(u((g * hid,), hid))
        sd["lin.weight"] = lists(u((1, hid), hid))
        sd["lin.bias"] = lists(u((1,), hid))
        return {"model_data": {"model": "SimpleRNN", "input_size": n_in, "skip": skip,
                               "output_size": 1, "unit_type": unit, "num_layers": layers,
                               "hidden_size": hid, "bias_fl": True},
                "state_dict": sd}

    dump("synthetic_coreaudioml_gru2x12_cond2.json", caml("GRU", 2, 12, 2, 0))
    dump("synthetic_coreaudioml_rnn16_skip.json", caml("RNN", 1, 16, 1, 1))


CASES = [
    ("deerinkstudios_tw40_blues_deluxe_lstm12_selftest.json", ref_aidax, 1),
    ("rtneural_test_lstm8_tanh.json", ref_aidax, 1),
    ("moddevices_twin_vintage1_lstm16_gains.json", ref_aidax, 1),
    ("aidadsp_helix_us_double_nrm_lstm12_skip.json", ref_aidax, 1),
    ("aidadsp_darkstar_ht40_cond2_lstm16_skip.json", ref_aidax, 2),
    ("chowcentaur_klon_gain0_gru8.json", ref_aidax, 1),
    ("neuralpi_ts9_fulld_lstm20.json", ref_coreaudioml, 1),
    ("guitarml_ds1_param_lstm20_cond3.json", ref_coreaudioml, 3),
    ("wright_ht1_gru32.json", ref_coreaudioml, 1),
    ("proteus_ts9_driveknob_lstm40_cond2.json", ref_coreaudioml, 2),
    ("namcore_example_lstm_1x3.nam", ref_nam, 1),
    ("neuralaudio_boss_sd1_lstm_1x16.nam", ref_nam, 1),
    ("neuralaudio_boss_sd1_lstm_2x8.nam", ref_nam, 1),
    ("synthetic_aidax_lstm10_gru6_skip_gains.json", ref_aidax, 1),
    ("synthetic_coreaudioml_gru2x12_cond2.json", ref_coreaudioml, 2),
    ("synthetic_coreaudioml_rnn16_skip.json", ref_coreaudioml, 1),
]


def main():
    torch.set_num_threads(1)
    os.makedirs(REFS, exist_ok=True)
    write_synthetic()
    for i, (name, fn, n_in) in enumerate(CASES):
        x = excitation(n_in, 1000 + i)
        y, how = fn(os.path.join(DATA, name), x)
        assert np.all(np.isfinite(y))
        floor = float32_floor(name, n_in, x, y)
        with open(os.path.join(REFS, name + ".ref"), "w") as f:
            f.write("# rnnfx-interop-ref steps %d inputs %d f32floor %.3g | %s | gen_interop_refs.py\n"
                    % (STEPS, n_in, floor, how))
            for t in range(STEPS):
                f.write(" ".join("%.9g" % v for v in x[t]) + " %.9g\n" % y[t])
        print("%-55s rms out %.4f  float32 floor %.2g  (%s)"
              % (name, float(np.sqrt(np.mean(y ** 2))), floor, how))
    # The RTNeural CSV pair is TensorFlow's own output: also check the script
    # against it so a mistake in the Keras equations above cannot hide.
    j = "rtneural_test_lstm8_tanh"
    xs = np.loadtxt(os.path.join(DATA, j + ".x.csv"))[:, None]
    ys = np.loadtxt(os.path.join(DATA, j + ".y.csv"))
    y, _ = ref_aidax(os.path.join(DATA, j + ".json"), xs)
    err = float(np.max(np.abs(y - ys)))
    print("script vs TensorFlow (%s): max abs err %.3g" % (j, err))
    assert err < 1e-5
    return 0


if __name__ == "__main__":
    sys.exit(main())

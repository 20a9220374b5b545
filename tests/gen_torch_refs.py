#!/usr/bin/python3
"""Generates the engine's PyTorch reference vectors (tests/data/refs/).

What this is: the source of truth that tests/test_reference.c checks the C
engine against. For each case it builds a recurrent model with PyTorch's own
modules (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN with tanh or ReLU, and
torch.nn.Linear) from a fixed seed, runs a realistic 4096-sample input
through it in float64 (the reference) and in float32 (PyTorch's default, to
show how far single precision itself strays), and writes:

    <case>.json     the model in rnnfx's JSON format, version 1
    <case>.in.f32   the input,    [4096][input_size]  little-endian float32
    <case>.out.f32  the expected, [4096][output_size] little-endian float32
                    (the float64 result rounded once to float32)
    manifest.txt    one line per case: name model input expected in out

What this is not: the peephole LSTM has no PyTorch module, so for the
peephole cases the cell is written out here by hand (peephole_lstm() below,
from the equations in engine/model.h) using torch tensor ops. Those cases
check the engine against this script's equations, not against PyTorch's
implementation. Every other case runs PyTorch's own LSTM/GRU/RNN forward.

The model is, as in engine/model.h:
    x'  = x with channel 0 scaled by input_gain
    y   = output_gain * (act(Linear(h_last)) + skip * x'[0])

Re-run (needs Debian's python3-torch and python3-numpy; CI never runs it):
    /usr/bin/python3 tests/gen_torch_refs.py            # rewrites tests/data/refs
    /usr/bin/python3 tests/gen_torch_refs.py --check    # regenerate into a temp
                                                        # dir and compare
The output depends only on the seeds below (and PyTorch's init and RNN
arithmetic; regenerating with another PyTorch version may change the last
bits of the float32 column it prints, never the committed float64-derived
files by more than rounding).
"""

import argparse
import json
import math
import os
import struct
import sys
import tempfile

import numpy as np
import torch

N_SAMPLES = 4096
SAMPLE_RATE = 48000
SEED_BASE = 20260

# Each case: cell stack [(cell, hidden, opts)], input size, output size and the
# model options. cell is "lstm", "gru", "rnn_tanh", "rnn_relu" or "lstmp"
# (peephole LSTM). A stack of one cell type with no peephole and no initial
# state runs as ONE multi-layer torch module (num_layers = L), so the
# layer-to-layer wiring is PyTorch's too; other stacks run layer by layer.
# scale multiplies PyTorch's default U(-1/sqrt(H), 1/sqrt(H)) init, because
# trained amp models have larger weights than a fresh init and drive the
# gates into saturation; the tests should see that regime.
CASES = [
    # --- LSTM: every hidden size, 1-3 layers, input 1 and 3, skip or not
    dict(name="lstm_h8_i1_skip", stack=[("lstm", 8)], inp=1, skip=True, scale=2.0),
    dict(name="lstm_h16_i1", stack=[("lstm", 16)], inp=1, skip=False, scale=1.5),
    dict(name="lstm_h32_i1_skip", stack=[("lstm", 32)], inp=1, skip=True, scale=1.5),
    dict(name="lstm_h40_i1_skip", stack=[("lstm", 40)], inp=1, skip=True, scale=1.5),
    dict(name="lstm_h64_i1", stack=[("lstm", 64)], inp=1, skip=False, scale=1.5),
    dict(name="lstm_h16x2_i1_skip", stack=[("lstm", 16)] * 2, inp=1, skip=True, scale=1.5),
    dict(name="lstm_h32x3_i3_skip", stack=[("lstm", 32)] * 3, inp=3, skip=True, scale=1.2),
    dict(name="lstm_h40_i3", stack=[("lstm", 40)], inp=3, skip=False, scale=1.5),
    dict(name="lstm_h8x2_i3_gains_init", stack=[("lstm", 8)] * 2, inp=3, skip=True,
         scale=2.0, input_gain=0.7, output_gain=1.6, init_state=True),
    # --- GRU
    dict(name="gru_h8_i1_skip", stack=[("gru", 8)], inp=1, skip=True, scale=2.0),
    dict(name="gru_h16_i3_skip", stack=[("gru", 16)], inp=3, skip=True, scale=1.5),
    dict(name="gru_h32_i1", stack=[("gru", 32)], inp=1, skip=False, scale=1.5),
    dict(name="gru_h40x2_i1_skip", stack=[("gru", 40)] * 2, inp=1, skip=True, scale=1.2),
    dict(name="gru_h64_i1_skip", stack=[("gru", 64)], inp=1, skip=True, scale=1.5),
    dict(name="gru_h16x3_i3", stack=[("gru", 16)] * 3, inp=3, skip=False, scale=1.5),
    dict(name="gru_h32_i1_gains_init", stack=[("gru", 32)], inp=1, skip=True, scale=1.5,
         input_gain=1.8, output_gain=0.5, init_state=True),
    # --- vanilla RNN, tanh and ReLU
    dict(name="rnn_tanh_h8_i1_skip", stack=[("rnn_tanh", 8)], inp=1, skip=True, scale=1.5),
    dict(name="rnn_tanh_h32x2_i3", stack=[("rnn_tanh", 32)] * 2, inp=3, skip=False, scale=1.2),
    dict(name="rnn_tanh_h64_i1_skip", stack=[("rnn_tanh", 64)], inp=1, skip=True, scale=1.0),
    dict(name="rnn_relu_h16_i1_skip", stack=[("rnn_relu", 16)], inp=1, skip=True, scale=1.0),
    dict(name="rnn_relu_h40x2_i3_skip", stack=[("rnn_relu", 40)] * 2, inp=3, skip=True,
         scale=0.8),
    # --- mixed stacks (each layer its own torch module)
    dict(name="mixed_gru16_lstm32_i3_skip", stack=[("gru", 16), ("lstm", 32)], inp=3,
         skip=True, scale=1.5),
    dict(name="mixed_lstm8_rnn16_gru8_i1", stack=[("lstm", 8), ("rnn_tanh", 16), ("gru", 8)],
         inp=1, skip=False, scale=1.5),
    # --- sigmoid output: an audio model and a MIDI-frame model (12 keys + 2
    # beat features in, 12 keys out)
    dict(name="lstm_h16_i1_sigmoid", stack=[("lstm", 16)], inp=1, skip=False, scale=1.5,
         sigmoid=True),
    dict(name="midi_gru32_k12_sigmoid", stack=[("gru", 32)], inp=14, out=12, skip=False,
         scale=1.5, sigmoid=True, kind="midi-frames"),
    # --- peephole LSTM (reference written here, see peephole_lstm())
    dict(name="lstmp_h16_i1_skip", stack=[("lstmp", 16)], inp=1, skip=True, scale=1.5),
    dict(name="lstmp_h32x2_i3_skip", stack=[("lstmp", 32)] * 2, inp=3, skip=True, scale=1.2),
    dict(name="lstmp_h8_i1_init", stack=[("lstmp", 8)], inp=1, skip=False, scale=2.0,
         init_state=True, output_gain=2.0),
]

KNOB_PARAMS = [  # conditioning inputs 1 and 2 of the input-3 audio cases
    {"name": "drive", "min": 0.0, "max": 1.0, "default": 0.5},
    {"name": "tone", "min": -1.0, "max": 1.0, "default": 0.0},
]


def f32(a):
    """Rounds to float32 and back: every weight and input lives in float32."""
    return np.asarray(a, dtype=np.float64).astype(np.float32)


# --------------------------------------------------------------------------
# inputs

def audio_signal(rng):
    """4096 samples of guitar-like test signal at 48 kHz: a swelling
    two-harmonic sine, two decaying plucks (the second near full scale), a
    stretch of noise and a stretch of silence (state decay)."""
    t = np.arange(N_SAMPLES) / SAMPLE_RATE
    x = np.zeros(N_SAMPLES)
    # 0..1023: 110 Hz with its second harmonic, swelling from 0 to 0.8
    seg = slice(0, 1024)
    env = np.linspace(0.0, 0.8, 1024)
    x[seg] = env * (0.8 * np.sin(2 * np.pi * 110 * t[seg]) + 0.2 * np.sin(2 * np.pi * 220 * t[seg] + 0.3))

    def pluck(start, length, f0, peak):
        tt = np.arange(length) / SAMPLE_RATE
        tone = sum(np.sin(2 * np.pi * f0 * k * tt + rng.uniform(0, 2 * np.pi)) / k ** 1.3
                   for k in range(1, 7))
        tone = tone / np.max(np.abs(tone))
        click = rng.standard_normal(length) * np.exp(-tt / 0.0007)
        sig = (tone * np.exp(-tt / 0.012) + 0.3 * click)
        return peak * sig / np.max(np.abs(sig))

    # 1024..2047: a pluck at 196 Hz, peak 0.6
    x[1024:2048] += pluck(1024, 1024, 196.0, 0.6)
    # 2048..2559: white noise at 0.25 rms plus a low hum
    x[2048:2560] = 0.25 * rng.standard_normal(512) + 0.1 * np.sin(2 * np.pi * 60 * t[2048:2560])
    # 2560..3071: silence, the state decays
    # 3072..4095: a near-full-scale pluck at 82.4 Hz over a quiet 330 Hz sine
    x[3072:] = pluck(3072, 1024, 82.4, 0.97) + 0.05 * np.sin(2 * np.pi * 330 * t[3072:])
    return np.clip(x, -1.0, 1.0)


def knob_signals(rng):
    """Two slow-moving knob values inside their ranges: long constant
    stretches (a knob at rest) joined by smooth turns, like a user's hand."""
    def knob(lo, hi, n_moves):
        pts = np.sort(rng.choice(np.arange(256, N_SAMPLES - 256), size=2 * n_moves, replace=False))
        vals = rng.uniform(lo, hi, size=n_moves + 1)
        k = np.full(N_SAMPLES, vals[0])
        for m in range(n_moves):
            a, b = pts[2 * m], pts[2 * m + 1]
            ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, b - a))
            k[a:b] = vals[m] + (vals[m + 1] - vals[m]) * ramp
            k[b:] = vals[m + 1]
        return k

    return np.stack([knob(0.0, 1.0, 3), knob(-1.0, 1.0, 2)], axis=1)


def midi_frames(rng, n_keys, n_beat):
    """Piano-roll frames: held notes (0/1) with onsets and releases, plus
    beat-position features (sin/cos of the position in a bar of 16 steps)."""
    keys = np.zeros((N_SAMPLES, n_keys))
    on = rng.random(n_keys) < 0.3
    for i in range(N_SAMPLES):
        flip = rng.random(n_keys) < 0.04
        on = np.where(flip, ~on, on)
        keys[i] = on
    step = np.arange(N_SAMPLES) % 16
    beat = [np.sin(2 * np.pi * step / 16), np.cos(2 * np.pi * step / 16)][:n_beat]
    return np.concatenate([keys, np.stack(beat, axis=1)], axis=1)


def make_input(case, rng):
    if case.get("kind", "audio") == "midi-frames":
        return f32(midi_frames(rng, case["out"], case["inp"] - case["out"]))
    x = audio_signal(rng)[:, None]
    if case["inp"] == 3:
        x = np.concatenate([x, knob_signals(rng)], axis=1)
    assert x.shape[1] == case["inp"]
    return f32(x)


# --------------------------------------------------------------------------
# models

GATES = {"lstm": 4, "lstmp": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def torch_module(cell, in_size, hidden, num_layers):
    if cell == "lstm":
        return torch.nn.LSTM(in_size, hidden, num_layers=num_layers, batch_first=True)
    if cell == "gru":
        return torch.nn.GRU(in_size, hidden, num_layers=num_layers, batch_first=True)
    if cell in ("rnn_tanh", "rnn_relu"):
        return torch.nn.RNN(in_size, hidden, num_layers=num_layers, batch_first=True,
                            nonlinearity=cell[4:])
    raise ValueError(cell)


def build_case(case, seed):
    """Makes the case's weights with PyTorch's own initialisers (scaled) and
    returns a plain description: per-layer float32 numpy tensors."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    stack = case["stack"]
    out_size = case.get("out", 1)
    homogeneous = (len(set(c for c, _ in stack)) == 1 and stack[0][0] != "lstmp"
                   and len(set(h for _, h in stack)) == 1 and not case.get("init_state"))
    layers = []
    modules = []
    if homogeneous:
        mod = torch_module(stack[0][0], case["inp"], stack[0][1], len(stack))
        modules.append(mod)
        for l, (cell, hidden) in enumerate(stack):
            layers.append(dict(cell=cell, hidden=hidden,
                               in_size=case["inp"] if l == 0 else stack[l - 1][1],
                               w_ih=getattr(mod, "weight_ih_l%d" % l),
                               w_hh=getattr(mod, "weight_hh_l%d" % l),
                               b_ih=getattr(mod, "bias_ih_l%d" % l),
                               b_hh=getattr(mod, "bias_hh_l%d" % l)))
    else:
        in_size = case["inp"]
        for cell, hidden in stack:
            mod = torch_module("lstm" if cell == "lstmp" else cell, in_size, hidden, 1)
            modules.append(mod)
            layers.append(dict(cell=cell, hidden=hidden, in_size=in_size,
                               w_ih=mod.weight_ih_l0, w_hh=mod.weight_hh_l0,
                               b_ih=mod.bias_ih_l0, b_hh=mod.bias_hh_l0))
            in_size = hidden
    dense = torch.nn.Linear(stack[-1][1], out_size)
    with torch.no_grad():
        for m in modules:
            for p in m.parameters():
                p.mul_(case["scale"])
    model = dict(layers=[], dense_w=f32(dense.weight.detach().numpy()),
                 dense_b=f32(dense.bias.detach().numpy()))
    for L in layers:
        H = L["hidden"]
        d = dict(cell=L["cell"], hidden=H, in_size=L["in_size"],
                 w_ih=f32(L["w_ih"].detach().numpy()), w_hh=f32(L["w_hh"].detach().numpy()),
                 b_ih=f32(L["b_ih"].detach().numpy()), b_hh=f32(L["b_hh"].detach().numpy()))
        if L["cell"] == "lstmp":
            k = case["scale"] / math.sqrt(H)
            d["peep"] = f32(rng.uniform(-k, k, size=(3, H)))
        if case.get("init_state"):
            d["h0"] = f32(rng.uniform(-0.5, 0.5, size=H))
            if L["cell"] in ("lstm", "lstmp"):
                d["c0"] = f32(rng.uniform(-1.0, 1.0, size=H))
        model["layers"].append(d)
    model["homogeneous"] = homogeneous
    return model


def peephole_lstm(x, L, dtype):
    """Peephole LSTM, written here because PyTorch has none. Equations as in
    engine/model.h (gate rows i, f, g, o as in torch.nn.LSTM):
        i = σ(W_ii x + b_ii + W_hi h + b_hi + p_i ⊙ c_{t-1})
        f = σ(W_if x + b_if + W_hf h + b_hf + p_f ⊙ c_{t-1})
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)
        c_t = f ⊙ c_{t-1} + i ⊙ g
        o = σ(W_io x + b_io + W_ho h + b_ho + p_o ⊙ c_t)
        h_t = o ⊙ tanh(c_t)
    x: [T][in] tensor; returns [T][H]."""
    H = L["hidden"]
    t = lambda a: torch.tensor(a, dtype=dtype)
    w_ih, w_hh, b_ih, b_hh, p = t(L["w_ih"]), t(L["w_hh"]), t(L["b_ih"]), t(L["b_hh"]), t(L["peep"])
    h = t(L["h0"]) if "h0" in L else torch.zeros(H, dtype=dtype)
    c = t(L["c0"]) if "c0" in L else torch.zeros(H, dtype=dtype)
    xw = x @ w_ih.T + b_ih  # the input part of every step at once
    out = torch.empty(x.shape[0], H, dtype=dtype)
    for s in range(x.shape[0]):
        z = xw[s] + w_hh @ h + b_hh
        i = torch.sigmoid(z[0:H] + p[0] * c)
        f = torch.sigmoid(z[H:2 * H] + p[1] * c)
        g = torch.tanh(z[2 * H:3 * H])
        c = f * c + i * g
        o = torch.sigmoid(z[3 * H:4 * H] + p[2] * c)
        h = o * torch.tanh(c)
        out[s] = h
    return out


def run_layer_torch(x, L, dtype):
    """One layer through PyTorch's own module, weights copied in."""
    cell, H = L["cell"], L["hidden"]
    mod = torch_module(cell, L["in_size"], H, 1).to(dtype)
    with torch.no_grad():
        mod.weight_ih_l0.copy_(torch.tensor(L["w_ih"]))
        mod.weight_hh_l0.copy_(torch.tensor(L["w_hh"]))
        mod.bias_ih_l0.copy_(torch.tensor(L["b_ih"]))
        mod.bias_hh_l0.copy_(torch.tensor(L["b_hh"]))
        h0 = torch.tensor(L["h0"], dtype=dtype).view(1, 1, H) if "h0" in L else None
        if cell == "lstm":
            c0 = (torch.tensor(L["c0"], dtype=dtype).view(1, 1, H) if "c0" in L
                  else torch.zeros(1, 1, H, dtype=dtype))
            if h0 is None:
                h0 = torch.zeros(1, 1, H, dtype=dtype)
            y, _ = mod(x.unsqueeze(0), (h0, c0))
        else:
            y, _ = mod(x.unsqueeze(0), h0)
    return y[0]


def forward(case, model, x_np, dtype, hidden_only=False):
    """The whole model on the whole input in one dtype; returns numpy [T][out]
    (or the last layer's h [T][H] when hidden_only)."""
    x = torch.tensor(x_np, dtype=dtype)
    xg = x.clone()
    xg[:, 0] = xg[:, 0] * case.get("input_gain", 1.0)
    with torch.no_grad():
        if model["homogeneous"]:
            # One multi-layer torch module; weights copied layer by layer.
            L0 = model["layers"][0]
            mod = torch_module(L0["cell"], L0["in_size"], L0["hidden"], len(model["layers"])).to(dtype)
            for l, L in enumerate(model["layers"]):
                for name, key in (("weight_ih", "w_ih"), ("weight_hh", "w_hh"),
                                  ("bias_ih", "b_ih"), ("bias_hh", "b_hh")):
                    getattr(mod, "%s_l%d" % (name, l)).copy_(torch.tensor(L[key]))
            h, _ = mod(xg.unsqueeze(0))
            h = h[0]
        else:
            h = xg
            for L in model["layers"]:
                h = peephole_lstm(h, L, dtype) if L["cell"] == "lstmp" else run_layer_torch(h, L, dtype)
        if hidden_only:
            return h.numpy()
        dw = torch.tensor(model["dense_w"], dtype=dtype)
        db = torch.tensor(model["dense_b"], dtype=dtype)
        y = h @ dw.T + db
        if case.get("sigmoid"):
            y = torch.sigmoid(y)
        if case["skip"]:
            y = y + xg[:, 0:1]
        y = y * case.get("output_gain", 1.0)
    return y.numpy()


def normalize_dense(case, model, x):
    """Rescales each dense row so its weighted sum peaks at a fixed level over
    this input. A fresh nn.Linear over small hidden states gives outputs of
    ~0.1, which would let recurrent-layer errors hide under the absolute
    tolerance; a trained amp model's dense layer uses the full range. Sigmoid
    heads get a peak of 3 so the sigmoid's curved part is exercised."""
    h = forward(case, model, x, torch.float64, hidden_only=True)
    target = 3.0 if case.get("sigmoid") else 0.8
    w = model["dense_w"].astype(np.float64)
    peak = np.max(np.abs(h @ w.T), axis=0)
    model["dense_w"] = f32(w * (target / np.maximum(peak, 1e-3))[:, None])


# --------------------------------------------------------------------------
# the rnnfx JSON format (version 1)

def flist(a):
    """A float32 array as a JSON list, %.9g: enough digits that reading it
    back gives the identical float32."""
    return "[" + ",".join("%.9g" % v for v in np.asarray(a, dtype=np.float32).ravel()) + "]"


def model_json(case, model):
    kind = case.get("kind", "audio")
    out_size = case.get("out", 1)
    head = {
        "format": "rnnfx-model",
        "version": 1,
        "kind": kind,
        "sample_rate": SAMPLE_RATE,
        "input_size": case["inp"],
        "output_size": out_size,
        "skip": bool(case["skip"]),
        "output_activation": "sigmoid" if case.get("sigmoid") else "linear",
        "input_gain": case.get("input_gain", 1.0),
        "output_gain": case.get("output_gain", 1.0),
        "params": KNOB_PARAMS[:case["inp"] - 1] if kind == "audio" else [],
    }
    parts = ["{"]
    for k, v in head.items():
        parts.append('"%s":%s,' % (k, json.dumps(v)))
    parts.append('"layers":[')
    for l, L in enumerate(model["layers"]):
        cell = {"lstmp": "lstm", "rnn_tanh": "rnn", "rnn_relu": "rnn"}.get(L["cell"], L["cell"])
        fields = ['"type":"%s"' % cell, '"hidden_size":%d' % L["hidden"],
                  '"input_size":%d' % L["in_size"]]
        if cell == "lstm":
            fields.append('"peephole":%s' % ("true" if L["cell"] == "lstmp" else "false"))
        if cell == "rnn":
            fields.append('"nonlinearity":"%s"' % L["cell"][4:])
        fields += ['"weight_ih":' + flist(L["w_ih"]), '"weight_hh":' + flist(L["w_hh"]),
                   '"bias_ih":' + flist(L["b_ih"]), '"bias_hh":' + flist(L["b_hh"])]
        if "peep" in L:
            fields.append('"peephole_weights":' + flist(L["peep"]))
        if "h0" in L:
            fields.append('"initial_h":' + flist(L["h0"]))
        if "c0" in L:
            fields.append('"initial_c":' + flist(L["c0"]))
        parts.append("\n {" + ",\n  ".join(fields) + "}" + ("," if l + 1 < len(model["layers"]) else ""))
    parts.append('],\n"dense":{"weight":%s,\n "bias":%s},' % (flist(model["dense_w"]), flist(model["dense_b"])))
    if kind == "midi-frames":
        parts.append('\n"midi":%s,' % json.dumps({
            "steps_per_quarter": 4, "low_key": 60, "keys": out_size,
            "beat_features": case["inp"] - out_size}))
    meta = {"name": case["name"], "author": "tests/gen_torch_refs.py", "date": "2026-11-22",
            "description": "PyTorch reference case (random weights, seed %d); not a real capture."
                           % case["seed"],
            "esr": -1, "source_format": "rnnfx", "training": {}}
    parts.append('\n"metadata":%s}\n' % json.dumps(meta))
    return "".join(parts)


# --------------------------------------------------------------------------

def write_f32(path, a):
    a = np.ascontiguousarray(a, dtype="<f4")
    with open(path, "wb") as fh:
        fh.write(a.tobytes())


def generate(outdir, verbose=True):
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)  # deterministic reductions
    manifest = ["# rnnfx PyTorch reference cases, written by tests/gen_torch_refs.py; do not edit.",
                "# name model input expected input_size output_size",
                "# (float32 files are little-endian, row-major [4096][size]; expected = the",
                "#  float64 PyTorch result rounded to float32)"]
    worst = 0.0
    for idx, case in enumerate(CASES):
        case = dict(case)
        case["seed"] = SEED_BASE + idx
        out_size = case.get("out", 1)
        model = build_case(case, case["seed"])
        x = make_input(case, np.random.default_rng(case["seed"] + 1000))
        normalize_dense(case, model, x)
        y64 = forward(case, model, x, torch.float64)
        y32 = forward(case, model, x, torch.float32)
        assert y64.shape == (N_SAMPLES, out_size), y64.shape
        if not np.all(np.isfinite(y64)):
            sys.exit("%s: non-finite reference output" % case["name"])
        err32 = float(np.max(np.abs(y32.astype(np.float64) - y64)))
        worst = max(worst, err32)
        # If float32 PyTorch itself strayed past the engine's 1e-5 bound, the
        # case is too chaotic to test single-precision code against.
        if err32 > 2e-6:
            sys.exit("%s: torch float32 vs float64 differ by %.3g; lower the scale"
                     % (case["name"], err32))
        name = case["name"]
        with open(os.path.join(outdir, name + ".json"), "w") as fh:
            fh.write(model_json(case, model))
        write_f32(os.path.join(outdir, name + ".in.f32"), x)
        write_f32(os.path.join(outdir, name + ".out.f32"), f32(y64))
        manifest.append("%s %s.json %s.in.f32 %s.out.f32 %d %d" % (name, name, name, name,
                                                                  case["inp"], out_size))
        if verbose:
            print("%-28s in %2d out %2d  |y| max %.3f  torch f32 vs f64 max err %.3g"
                  % (name, case["inp"], out_size, float(np.max(np.abs(y64))), err32))
    with open(os.path.join(outdir, "manifest.txt"), "w") as fh:
        fh.write("\n".join(manifest) + "\n")
    if verbose:
        print("%d cases; worst torch float32 error %.3g" % (len(CASES), worst))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "data", "refs"))
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary directory and compare with --out")
    args = ap.parse_args()
    if not args.check:
        generate(args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp, verbose=False)
        bad = 0
        for f in sorted(os.listdir(tmp)):
            a = open(os.path.join(tmp, f), "rb").read()
            try:
                b = open(os.path.join(args.out, f), "rb").read()
            except OSError:
                b = None
            if a != b:
                print("differs: %s" % f)
                bad += 1
        print("check: %d file(s) differ" % bad)
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

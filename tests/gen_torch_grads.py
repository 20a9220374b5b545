#!/usr/bin/python3
"""Generates the trainer's PyTorch gradient references (tests/data/grads/).

What this is: the reference tests/test_grad.c checks the C trainer's loss
and gradients against. For each case it builds a model with PyTorch's own
modules (torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear), runs ONE training
batch exactly as the trainer does — B windows from the initial state, a
burn-in with no loss and no gradient, then chunks of `tbptt` samples whose
state is carried but detached (truncated BPTT) — computes each chunk's loss
with autograd in float64 and sums the gradients of all chunks. It writes:

    <case>.json        the model in rnnfx's JSON format, version 1
    <case>.in.f32      inputs  [B][T][input_size]  little-endian float32
    <case>.target.f32  targets [B][T][output_size]
    <case>.grad.f32    d(sum of chunk losses)/d(param), in the engine's flat
                       parameter order (per layer weight_ih, weight_hh,
                       bias_ih, bias_hh, initial_h, [initial_c]; then the
                       dense weight and bias); initial states are not
                       trained, their entries are 0
    manifest.txt       name B T burn_in tbptt loss preemph dc_weight loss_value

and for the optimiser cases (STEP_CASES), the same batch trained for real:
after each chunk's backward, clip the global gradient norm and take one
torch.optim.AdamW (decoupled weight decay) or torch.optim.Adam (L2 weight
decay) step, so the next chunk runs on the updated weights with the state
carried over. It writes <case>.after.f32 (all weights after the batch, same
order; initial states stay 0) and a line in steps.txt:
    name B T burn_in tbptt loss preemph dc_weight lr weight_decay decoupled clip

The losses are those of engine/train.h, written here from their definitions:
    ESR  e = t - y, d[n] = e[n] - a*e[n-1] (e[-1] from the sample before the
         chunk, 0 at the window start), ESR = sum d^2 / (sum (t[n]-a*t[n-1])^2
         + 1e-10); DC = mean_{b,c}(mean_n e)^2 / (mean t^2 + 1e-10);
         loss = ESR + dc_weight*DC
    MSE  mean (y - t)^2
    BCE  -sum_c [t log p + (1-t) log(1-p)], mean over frames
and the model is y = output_gain * (act(Linear(h_last)) + skip * x'[0]) with
x' = x with channel 0 scaled by input_gain.

Re-run (Debian python3-torch and python3-numpy; CI never runs it):
    /usr/bin/python3 tests/gen_torch_grads.py
"""

import json
import os
import sys

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "grads")

CASES = [
    dict(name="lstm_h16_skip_esr_preemph_dc", cell="lstm", hidden=16, layers=1, inp=1, out=1,
         skip=True, sigmoid=False, input_gain=1.3, output_gain=0.8, B=4, T=200, burn=30,
         tbptt=64, loss="esr", preemph=0.85, dc=0.25, scale=1.5, seed=101),
    dict(name="gru_h16_esr_dc", cell="gru", hidden=16, layers=1, inp=1, out=1, skip=False,
         sigmoid=False, input_gain=1.0, output_gain=1.0, B=3, T=150, burn=20, tbptt=50,
         loss="esr", preemph=0.0, dc=0.1, scale=1.5, seed=102),
    dict(name="lstm_h8x2_i3_o2_mse", cell="lstm", hidden=8, layers=2, inp=3, out=2, skip=True,
         sigmoid=False, input_gain=0.7, output_gain=1.2, B=5, T=100, burn=10, tbptt=40,
         loss="mse", preemph=0.0, dc=0.0, scale=1.5, seed=103),
    dict(name="lstm_h32_skip_esr", cell="lstm", hidden=32, layers=1, inp=1, out=1, skip=True,
         sigmoid=False, input_gain=1.0, output_gain=1.0, B=6, T=700, burn=100, tbptt=256,
         loss="esr", preemph=0.0, dc=0.0, scale=1.0, seed=105),
    dict(name="gru_h32_esr_preemph", cell="gru", hidden=32, layers=1, inp=1, out=1, skip=False,
         sigmoid=False, input_gain=2.0, output_gain=1.0, B=5, T=600, burn=64, tbptt=200,
         loss="esr", preemph=0.85, dc=0.0, scale=1.0, seed=106),
    dict(name="gru_h12_i5_o4_sigmoid_bce", cell="gru", hidden=12, layers=1, inp=5, out=4,
         skip=False, sigmoid=True, input_gain=1.0, output_gain=1.0, B=3, T=90, burn=8,
         tbptt=30, loss="bce", preemph=0.0, dc=0.0, scale=1.5, seed=104),
]

STEP_CASES = [
    dict(name="gru_h8_adamw_clip_2steps", cell="gru", hidden=8, layers=1, inp=1, out=1,
         skip=True, sigmoid=False, input_gain=1.0, output_gain=1.0, B=4, T=120, burn=20,
         tbptt=50, loss="esr", preemph=0.85, dc=0.1, scale=1.5, seed=201,
         lr=0.01, wd=0.1, decoupled=True, clip=0.5),
    dict(name="lstm_h8_adam_l2_3steps", cell="lstm", hidden=8, layers=1, inp=1, out=1,
         skip=False, sigmoid=False, input_gain=1.0, output_gain=1.0, B=3, T=100, burn=10,
         tbptt=30, loss="mse", preemph=0.0, dc=0.0, scale=1.5, seed=202,
         lr=0.005, wd=0.01, decoupled=False, clip=0.0),
]

KNOBS = [{"name": "drive", "min": 0.0, "max": 1.0, "default": 0.5},
         {"name": "tone", "min": -1.0, "max": 1.0, "default": 0.0}]


def f32(a):
    return np.asarray(a, dtype=np.float32)


def flist(a):
    return "[" + ",".join("%.9g" % v for v in f32(a).ravel()) + "]"


def model_json(c, mods, dense):
    kind = "midi-frames" if c["sigmoid"] else "audio"
    head = {"format": "rnnfx-model", "version": 1, "kind": kind, "sample_rate": 48000,
            "input_size": c["inp"], "output_size": c["out"], "skip": c["skip"],
            "output_activation": "sigmoid" if c["sigmoid"] else "linear",
            "input_gain": c["input_gain"], "output_gain": c["output_gain"],
            "params": KNOBS[:c["inp"] - 1] if kind == "audio" else []}
    parts = ["{"] + ['"%s":%s,' % (k, json.dumps(v)) for k, v in head.items()]
    parts.append('"layers":[')
    layers = []
    for l in range(c["layers"]):
        m = mods
        fields = ['"type":"%s"' % c["cell"], '"hidden_size":%d' % c["hidden"],
                  '"input_size":%d' % (c["inp"] if l == 0 else c["hidden"])]
        if c["cell"] == "lstm":
            fields.append('"peephole":false')
        for t in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            fields.append('"%s":%s' % (t, flist(getattr(m, "%s_l%d" % (t, l)).detach().numpy())))
        layers.append("\n {" + ",\n  ".join(fields) + "}")
    parts.append(",".join(layers))
    parts.append('],\n"dense":{"weight":%s,\n "bias":%s},' % (
        flist(dense.weight.detach().numpy()), flist(dense.bias.detach().numpy())))
    if kind == "midi-frames":
        parts.append('\n"midi":%s,' % json.dumps({"steps_per_quarter": 4, "low_key": 60,
                                                   "keys": c["out"],
                                                   "beat_features": c["inp"] - c["out"]}))
    meta = {"name": c["name"], "author": "tests/gen_torch_grads.py", "date": "2026-11-22",
            "description": "PyTorch gradient reference (random weights); not a real capture.",
            "esr": -1, "source_format": "rnnfx", "training": {}}
    parts.append('\n"metadata":%s}\n' % json.dumps(meta))
    return "".join(parts)


def make_data(c, rng):
    B, T, inp, out = c["B"], c["T"], c["inp"], c["out"]
    x = np.zeros((B, T, inp))
    t = np.arange(T)
    for b in range(B):
        f = rng.uniform(0.01, 0.08, size=3)
        x[b, :, 0] = 0.5 * np.sin(f[0] * t) + 0.3 * np.sin(f[1] * t + 1) + 0.1 * rng.standard_normal(T)
        for k in range(1, inp):
            x[b, :, k] = rng.uniform(-1, 1)  # knob values held over the window
    if c["sigmoid"]:
        x = (rng.uniform(size=(B, T, inp)) < 0.3).astype(np.float64)
        y = (rng.uniform(size=(B, T, out)) < 0.3).astype(np.float64)
    else:
        y = np.zeros((B, T, out))
        for o in range(out):
            s = np.tanh((2.0 + o) * x[:, :, 0])
            acc = np.zeros(B)
            for n in range(T):  # a one-pole filter after a waveshaper
                acc += 0.3 * (s[:, n] - acc)
                y[:, n, o] = 0.9 * acc
    return f32(x), f32(y)


def chunk_loss(c, y, t, z, yprev, tprev, B):
    """Loss of one chunk for the whole batch; y, t, z: [B][n][C]."""
    if c["loss"] == "mse":
        return ((y - t) ** 2).mean()
    if c["loss"] == "bce":
        p = z.clamp(1e-7, 1 - 1e-7)
        return -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).sum(dim=2).mean()
    a = c["preemph"]
    e = t - y
    eprev = torch.cat([(tprev - yprev).unsqueeze(1), e[:, :-1, :]], dim=1)
    tp = torch.cat([tprev.unsqueeze(1), t[:, :-1, :]], dim=1)
    d = e - a * eprev
    energy = ((t - a * tp) ** 2).sum() + 1e-10
    esr = (d ** 2).sum() / energy
    dc = (e.mean(dim=1) ** 2).mean() / ((t ** 2).mean() + 1e-10)
    return esr + c["dc"] * dc


def run_case(c):
    torch.manual_seed(c["seed"])
    rng = np.random.default_rng(c["seed"])
    cls = torch.nn.LSTM if c["cell"] == "lstm" else torch.nn.GRU
    rnn = cls(c["inp"], c["hidden"], num_layers=c["layers"], batch_first=True)
    dense = torch.nn.Linear(c["hidden"], c["out"])
    with torch.no_grad():
        for p in rnn.parameters():
            p.mul_(c["scale"])
        # the committed model holds float32 weights: compute from exactly those
        for p in list(rnn.parameters()) + list(dense.parameters()):
            p.copy_(torch.from_numpy(f32(p.detach().numpy()).astype(np.float64)))
    rnn = rnn.double()
    dense = dense.double()
    x_np, t_np = make_data(c, rng)
    x = torch.from_numpy(x_np.astype(np.float64))
    tg = torch.from_numpy(t_np.astype(np.float64))
    xp = x.clone()
    xp[:, :, 0] *= c["input_gain"]
    B, T, burn, tb = c["B"], c["T"], c["burn"], c["tbptt"]
    L, H = c["layers"], c["hidden"]

    if "lr" in c:
        import copy
        rnn0, dense0 = copy.deepcopy(rnn), copy.deepcopy(dense)

    def stage(h_seq, xs):
        z = dense(h_seq)
        if c["sigmoid"]:
            z = torch.sigmoid(z)
        y = z + (xs[:, :, :1] if c["skip"] else 0.0)
        return c["output_gain"] * y, z

    h = torch.zeros(L, B, H, dtype=torch.float64)
    state = (h, h.clone()) if c["cell"] == "lstm" else h
    yprev = torch.zeros(B, c["out"], dtype=torch.float64)
    with torch.no_grad():
        if burn > 0:
            hs, state = rnn(xp[:, :burn], state)
            y, _ = stage(hs, xp[:, :burn])
            yprev = y[:, -1, :]
    for p in list(rnn.parameters()) + list(dense.parameters()):
        p.grad = None
    total = 0.0
    t0 = burn
    while t0 < T:
        n = min(tb, T - t0) if tb else T - t0
        if c["cell"] == "lstm":
            state = (state[0].detach(), state[1].detach())
        else:
            state = state.detach()
        hs, state = rnn(xp[:, t0:t0 + n], state)
        y, z = stage(hs, xp[:, t0:t0 + n])
        tprev = tg[:, t0 - 1, :] if t0 > 0 else torch.zeros(B, c["out"], dtype=torch.float64)
        loss = chunk_loss(c, y, tg[:, t0:t0 + n], z, yprev.detach(), tprev, B)
        loss.backward()
        total += loss.item()
        yprev = y[:, -1, :].detach()
        t0 += n
    def flat(get):
        parts = []
        for l in range(L):
            for t in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                parts.append(get(getattr(rnn_ref, "%s_l%d" % (t, l))).ravel())
            parts.append(np.zeros(H))  # initial_h
            if c["cell"] == "lstm":
                parts.append(np.zeros(H))  # initial_c
        parts.append(get(dense_ref.weight).ravel())
        parts.append(get(dense_ref.bias).ravel())
        return f32(np.concatenate(parts))

    rnn_ref, dense_ref = rnn, dense
    grads = flat(lambda p: p.grad.numpy())
    before = flat(lambda p: p.detach().numpy())
    text = model_json(c, rnn, dense)  # the weights the batch starts from
    after = None
    if "lr" in c:
        rnn, dense = rnn0, dense0
        params = list(rnn.parameters()) + list(dense.parameters())
        if c["decoupled"]:
            opt = torch.optim.AdamW(params, lr=c["lr"], weight_decay=c["wd"])
        else:
            opt = torch.optim.Adam(params, lr=c["lr"], weight_decay=c["wd"])
        h = torch.zeros(L, B, H, dtype=torch.float64)
        state = (h, h.clone()) if c["cell"] == "lstm" else h
        yprev = torch.zeros(B, c["out"], dtype=torch.float64)
        with torch.no_grad():
            if burn > 0:
                hs, state = rnn(xp[:, :burn], state)
                y, _ = stage(hs, xp[:, :burn])
                yprev = y[:, -1, :]
        t0 = burn
        while t0 < T:
            n = min(tb, T - t0) if tb else T - t0
            if c["cell"] == "lstm":
                state = (state[0].detach(), state[1].detach())
            else:
                state = state.detach()
            opt.zero_grad()
            hs, state = rnn(xp[:, t0:t0 + n], state)
            y, z = stage(hs, xp[:, t0:t0 + n])
            tprev = tg[:, t0 - 1, :] if t0 > 0 else torch.zeros(B, c["out"], dtype=torch.float64)
            loss = chunk_loss(c, y, tg[:, t0:t0 + n], z, yprev.detach(), tprev, B)
            loss.backward()
            if c["clip"] > 0:
                torch.nn.utils.clip_grad_norm_(params, c["clip"])
            opt.step()
            yprev = y[:, -1, :].detach()
            t0 += n
        rnn_ref, dense_ref = rnn, dense
        after = flat(lambda p: p.detach().numpy())
        c["moved"] = float(np.abs(after - before).max())
    return text, x_np, t_np, grads, total, after


def write_case(name, text, arrays):
    """The model as tests/data/grads/<name>.json and each (suffix, array) as
    little-endian float32 beside it."""
    base = os.path.join(OUT, name)
    with open(base + ".json", "w") as fh:
        fh.write(text)
    for suffix, a in arrays:
        with open(base + suffix, "wb") as fh:
            fh.write(np.ascontiguousarray(a, dtype="<f4").tobytes())


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = ["# name B T burn_in tbptt loss preemph dc_weight loss_value  "
             "(written by tests/gen_torch_grads.py)"]
    for c in CASES:
        text, x, t, g, total, _ = run_case(c)
        write_case(c["name"], text, ((".in.f32", x), (".target.f32", t), (".grad.f32", g)))
        lines.append("%s %d %d %d %d %s %.9g %.9g %.17g" % (
            c["name"], c["B"], c["T"], c["burn"], c["tbptt"], c["loss"], c["preemph"], c["dc"],
            total))
        print("%-32s loss %.9g  |grad| %.6g  params %d" % (c["name"], total,
                                                           float(np.linalg.norm(g)), g.size))
    with open(os.path.join(OUT, "manifest.txt"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    lines = ["# name B T burn_in tbptt loss preemph dc_weight lr weight_decay decoupled clip  "
             "(written by tests/gen_torch_grads.py)"]
    for c in STEP_CASES:
        text, x, t, g, total, after = run_case(c)
        write_case(c["name"], text, ((".in.f32", x), (".target.f32", t), (".after.f32", after)))
        lines.append("%s %d %d %d %d %s %.9g %.9g %.9g %.9g %d %.9g" % (
            c["name"], c["B"], c["T"], c["burn"], c["tbptt"], c["loss"], c["preemph"], c["dc"],
            c["lr"], c["wd"], 1 if c["decoupled"] else 0, c["clip"]))
        print("%-32s %d steps, largest weight change %.6g" % (
            c["name"], -(-(c["T"] - c["burn"]) // c["tbptt"]), c["moved"]))
    with open(os.path.join(OUT, "steps.txt"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    with open(os.path.join(OUT, "LICENSE.txt"), "w") as fh:
        fh.write("Generated by tests/gen_torch_grads.py from random weights and synthetic "
                 "signals;\npart of rnnfx, same licence as the repository.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

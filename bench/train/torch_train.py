#!/usr/bin/python3
"""torch_train.py -- the PyTorch side of the training benchmark.

Trains the same model with the same recipe on the same data as rnnfx-train,
so the two can be compared on throughput and on test ESR against wall time:

  * data: the arrays rnnfx-train exported with --export-split DIR (after its
    alignment and level normalisation) and its train/validation/test regions;
  * model: torch.nn.GRU / LSTM (hidden, layers from split.json) + Linear(H, 1),
    plus the input added to the output when the split says skip = 1;
    PyTorch's default initialisation;
  * recipe (from split.json): segments of `segment` samples tiling each
    training region with a random phase per epoch, shuffled, `batch`
    segments per step group; each segment starts from a zero state, runs
    `burn_in` samples without loss, then an Adam step every `tbptt` samples
    (state carried, gradient truncated); loss = ESR over the chunk and the
    batch; gradient clipping by global norm; learning rate on a cosine from
    lr to lr_min driven by wall-clock progress through the budget;
  * scoring: at each requested wall time (scoring time not counted), the
    current weights run over each test region after `preroll` samples of
    warm-up; ESR = sum (t - p)^2 / sum t^2 over all test regions.

Prints one line per scoring moment and a final line
  torch samples_per_s=... esr_<m>min=...
Uses /usr/bin/python3 with Debian's python3-torch; 2 threads by default.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("split_dir")
    ap.add_argument("--minutes", type=float, required=True, help="wall-clock budget")
    ap.add_argument("--test-at", default="1,2,5,10", help="minutes at which to score")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    with open(os.path.join(a.split_dir, "split.json")) as f:
        sp = json.load(f)
    isz = sp["input_size"]
    ins, tgs = [], []
    for i, p in enumerate(sp["pairs"]):
        x = np.fromfile(os.path.join(a.split_dir, "pair%d.in.f32" % i), dtype=np.float32)
        y = np.fromfile(os.path.join(a.split_dir, "pair%d.target.f32" % i), dtype=np.float32)
        ins.append(torch.from_numpy(x.reshape(p["n"], isz)))
        tgs.append(torch.from_numpy(y.reshape(p["n"], 1)))

    H, L = sp["hidden"], sp["layers"]
    cell = sp["cell"]
    rnn_cls = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM, "rnn": torch.nn.RNN}[cell]
    rnn = rnn_cls(isz, H, num_layers=L, batch_first=True)
    lin = torch.nn.Linear(H, 1)
    skip = sp["skip"]
    params = list(rnn.parameters()) + list(lin.parameters())
    opt = torch.optim.Adam(params, lr=sp["lr"], betas=(sp["beta1"], sp["beta2"]), eps=sp["eps"],
                           weight_decay=sp["weight_decay"])

    def forward(x, state):
        h, state = rnn(x, state)
        y = lin(h)
        if skip:
            y = y + x[..., :1]
        return y, state

    def detach(state):
        if state is None:
            return None
        if isinstance(state, tuple):
            return tuple(s.detach() for s in state)
        return state.detach()

    seg, burn, tb, B = sp["segment"], sp["burn_in"], sp["tbptt"], sp["batch"]
    if tb == 0:
        tb = seg - burn
    lr, lr_min, clip = sp["lr"], sp["lr_min"], sp["clip"]
    budget = a.minutes * 60.0
    test_at = [float(v) for v in a.test_at.split(",") if v]

    def score():
        se, st = 0.0, 0.0
        with torch.no_grad():
            for pair, start, n, pre in sp["test"]:
                x = ins[pair][start - pre:start + n].unsqueeze(0)
                t = tgs[pair][start:start + n]
                y, _ = forward(x, None)
                d = (t - y[0, pre:]).double()
                se += float((d * d).sum())
                st += float((t.double() ** 2).sum())
        return se / st

    t0 = time.monotonic()
    eval_time = 0.0
    train_time = 0.0
    samples = 0
    results = {}
    nt = 0
    epoch = 0
    done = False
    while not done:
        # the epoch's plan: segments tiling each training region, random phase
        plan = []
        for pair, start, n, pre in sp["train"]:
            cnt = n // seg
            if cnt == 0:
                continue
            slack = n - cnt * seg
            off = int(rng.integers(0, slack + 1)) if slack else 0
            for j in range(cnt):
                plan.append((pair, start + off + j * seg))
        rng.shuffle(plan)
        nb = max(1, len(plan) // B)
        for b in range(nb):
            el = time.monotonic() - t0 - eval_time
            while nt < len(test_at) and el >= test_at[nt] * 60.0:
                e0 = time.monotonic()
                results[test_at[nt]] = score()
                print("torch test_at minutes=%g esr=%.6f samples=%d train_seconds=%.1f"
                      % (test_at[nt], results[test_at[nt]], samples, train_time), flush=True)
                nt += 1
                eval_time += time.monotonic() - e0
                el = time.monotonic() - t0 - eval_time
            if el >= budget:
                done = True
                break
            c0 = time.monotonic()
            p = el / budget
            cur_lr = lr_min + (lr - lr_min) * (1 + math.cos(math.pi * p)) / 2
            for g in opt.param_groups:
                g["lr"] = cur_lr
            batch = plan[b * B:(b + 1) * B]
            x = torch.stack([ins[pi][s:s + seg] for pi, s in batch])
            t = torch.stack([tgs[pi][s:s + seg] for pi, s in batch])
            state = None
            if burn:
                with torch.no_grad():
                    _, state = forward(x[:, :burn], None)
            pos = burn
            while pos < seg:
                e = min(pos + tb, seg)
                y, state = forward(x[:, pos:e], state)
                tt = t[:, pos:e]
                loss = ((tt - y) ** 2).sum() / ((tt ** 2).sum() + 1e-10)
                opt.zero_grad()
                loss.backward()
                if clip > 0:
                    torch.nn.utils.clip_grad_norm_(params, clip)
                opt.step()
                state = detach(state)
                pos = e
            samples += len(batch) * seg
            train_time += time.monotonic() - c0
        epoch += 1
    while nt < len(test_at):  # moments not reached (budget smaller): score at the end
        results[test_at[nt]] = score()
        print("torch test_at minutes=%g esr=%.6f samples=%d train_seconds=%.1f (end of budget)"
              % (test_at[nt], results[test_at[nt]], samples, train_time), flush=True)
        nt += 1
    sps = samples / train_time if train_time > 0 else 0
    print("torch samples_per_s=%.0f epochs=%d " % (sps, epoch)
          + " ".join("esr_%gmin=%.6f" % (m, results[m]) for m in test_at), flush=True)


if __name__ == "__main__":
    sys.exit(main())

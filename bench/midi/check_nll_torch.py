#!/usr/bin/python3
"""Independent check of the JSB benchmark's figure: PyTorch runs a GRU
model saved by `rnnfx-train --jsb` (rnnfx JSON, PyTorch weight layout) on
the validation and test chorales and prints the negative log-likelihood per
frame, computed the same way (first frame predicted from a silent input,
BCE summed over 88 keys, averaged over all frames). It must agree with the
trainer's valid_nll/test_nll to about 1e-4.

    /usr/bin/python3 bench/midi/check_nll_torch.py MODEL.json jsb-chorales-quarter.json

Needs python3-torch and python3-numpy (Debian). Not part of `make test`:
it needs the dataset, which is not in the repository.
"""
import json
import sys

import numpy as np
import torch


def main():
    model = json.load(open(sys.argv[1]))
    data = json.load(open(sys.argv[2]))
    layer = model["layers"][0]
    if layer["type"] != "gru" or len(model["layers"]) != 1:
        sys.exit("only one-layer GRU models are checked here")
    h = layer["hidden_size"]
    n_in = model["input_size"]
    gru = torch.nn.GRU(n_in, h, batch_first=True)
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.tensor(layer["weight_ih"]).view(3 * h, n_in))
        gru.weight_hh_l0.copy_(torch.tensor(layer["weight_hh"]).view(3 * h, h))
        gru.bias_ih_l0.copy_(torch.tensor(layer["bias_ih"]))
        gru.bias_hh_l0.copy_(torch.tensor(layer["bias_hh"]))
    w = torch.tensor(model["dense"]["weight"]).view(88, h)
    b = torch.tensor(model["dense"]["bias"])
    for split in ("valid", "test"):
        total, frames = 0.0, 0
        for song in data[split]:
            x = np.zeros((len(song), 88), np.float32)
            for t, keys in enumerate(song):
                for k in keys:
                    x[t, k - 21] = 1.0
            inp = np.concatenate([np.zeros((1, 88), np.float32), x[:-1]])
            with torch.no_grad():
                out = gru(torch.from_numpy(inp)[None])[0][0]
                logits = out @ w.T + b
                total += torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, torch.from_numpy(x), reduction="sum").item()
            frames += len(song)
        print(f"{split}_nll={total / frames:.4f} frames={frames} (PyTorch)")


if __name__ == "__main__":
    main()

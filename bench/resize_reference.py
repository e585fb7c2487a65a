"""Reference weights and outputs of PyTorch's antialiased bicubic resize (the LIFT FID protocol).

Writes lift-analyze/tests/fixtures/resize_aa_reference.json, used by the Rust port's tests. Everything
in it is computed by torch itself: `F.interpolate(x, (299, 299), mode='bicubic', align_corners=False,
antialias=True)` on CPU, float32, one thread.

How to run (Debian bookworm; python3-torch 1.13.1 is for the system python, not pyenv):
    apt-get install -y python3-torch
    /usr/bin/python3 bench/resize_reference.py [lift-analyze/tests/fixtures/resize_aa_reference.json]

Contents:
  "weights": {"16"|"32"|"64": 299 rows of n_in f32}: the [n_out, n_in] matrix of the 1-D resize
      n_in -> 299, read off torch by resizing one-hot rows ([n_in,1,1,n_in] -> [n_in,1,1,299]);
      with one non-zero input the kernel's sum is exactly one weight, so these are torch's own weights.
  "image_64": x[0,c,h,w] = f32(0.5 + 0.5*sin(0.05*(h*64+w) + c)) (f64 math), shape [1,3,64,64];
      "resized" summarises the 299x299 output BEFORE clamping, "clamped" after clamp(0, 1).
      Summaries: shape, sum and sum of squares (f64 accumulation of the f32 values), "first" = first 8
      values of the flattened NCHW tensor, "strided" = values at indices k*(numel//8) + 7, k = 0..7.
  "formula_max_abs_diff": max |torch - pytorch_aa_weights(...)| per n_in, for the reference formula below
      with and without FMA (documentation only; the fixture's numbers come from torch).
  "separable_f64_max_abs_diff": max |torch - M @ X @ M^T| for the image, the product in f64.

Torch 1.13's arithmetic (aten/src/ATen/native/cpu/UpSampleKernel.cpp, HelperInterpCubic, float input
=> scalar_t = float) is `pytorch_aa_weights` below; it reproduces the torch matrices bit for bit. The
AVX2 build of that file (the one dispatched on any AVX2 machine) contracts the f32 polynomial of the
1 <= |x| < 2 branch into FMAs; ATEN_CPU_CAPABILITY=default gives the plain-f32 variant (differences up
to ~6e-7 per weight). The 2-D resize is separable: width first, then height, with an f32 intermediate
and, per output, acc = x[xmin]*w[0]; acc = fma(x[xmin+j], w[j], acc) (AVX2) in f32.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inception_reference import f32s, summary  # noqa: E402  (the fixtures' shared summary format)

torch.set_num_threads(1)
OUT = sys.argv[1] if len(sys.argv) > 1 else "lift-analyze/tests/fixtures/resize_aa_reference.json"
F32 = np.float32


def fma32(a, b, c):
    # f32 fused multiply-add: a*b is exact in f64 (24+24 bits), so this rounds once more only in
    # the f64 sum; good enough for a cross-check (the fixture values come from torch).
    return F32(float(a) * float(b) + float(c))


def aa_filter(x, fma):
    """HelperInterpCubic::aa_filter (PIL's bicubic_filter, `#define a -0.5`) on an f32 argument."""
    x = F32(abs(F32(x)))
    if x < 1.0:  # `(a + 2.0)` is a double: this branch runs in f64, the result is cast to f32
        xd = float(x)
        return F32(((-0.5 + 2.0) * xd - (-0.5 + 3.0)) * xd * xd + 1.0)
    if x < 2.0:  # `(((x - 5) * x + 8) * x - 4)` is f32 (FMA-contracted in the AVX2 build), `* a` f64
        t = F32(x - F32(5.0))
        if fma:
            t = fma32(t, x, 8.0)
            t = fma32(t, x, -4.0)
        else:
            t = F32(F32(t * x) + F32(8.0))
            t = F32(F32(t * x) - F32(4.0))
        return F32(float(t) * -0.5)
    return F32(0.0)


def pytorch_aa_weights(n_in, n_out, fma=True):
    """[n_out, n_in] weights of torch 1.13's _upsample_bicubic2d_aa for f32 input, align_corners=False."""
    m = np.zeros((n_out, n_in), np.float32)
    scale = F32(F32(n_in) / F32(n_out))                        # area_pixel_compute_scale<float>
    support = F32(2.0 * float(scale)) if scale >= 1.0 else F32(2.0)  # (interp_size*0.5)[*scale]
    invscale = F32(1.0 / float(scale)) if scale >= 1.0 else F32(1.0)
    for i in range(n_out):
        center = F32(float(scale) * (i + 0.5))                 # f64 product, stored as f32
        xmin = max(int(float(F32(center - support)) + 0.5), 0)  # f32 sub, + 0.5 in f64, truncation
        xmax = min(int(float(F32(center + support)) + 0.5), n_in)
        ws, total = [], F32(0.0)
        for j in range(xmin, xmax):
            # (j + xmin - center) in f32, + 0.5 and * invscale in f64, cast to f32 by the call
            w = aa_filter(F32((float(F32(F32(j) - center)) + 0.5) * float(invscale)), fma)
            ws.append(w)
            total = F32(total + w)
        for k, j in enumerate(range(xmin, xmax)):
            m[i, j] = F32(ws[k] / total) if total != 0.0 else ws[k]
    return m


def torch_weights(n_in, n_out):
    eye = torch.eye(n_in, dtype=torch.float32).reshape(n_in, 1, 1, n_in)
    y = F.interpolate(eye, size=(1, n_out), mode="bicubic", align_corners=False, antialias=True)
    return y.reshape(n_in, n_out).t().contiguous().numpy()


def main():
    n_out = 299
    cap = [ln.strip() for ln in torch.__config__.show().splitlines() if "CPU capability" in ln]
    res = {"torch": torch.__version__, "cpu_capability": cap[0] if cap else "unknown",
           "aten_cpu_capability_env": os.environ.get("ATEN_CPU_CAPABILITY"),
           "call": "F.interpolate(x, size=(299, 299), mode='bicubic', align_corners=False, antialias=True)",
           "weights_doc": "weights[str(n_in)][o][i]: [299, n_in] matrix from one-hot resizes (torch's own weights)",
           "summary_doc": "sum/sumsq: f64 sums of f32 values; first: a[:8]; strided: a[k*(numel//8)+7]",
           "weights": {}, "formula_max_abs_diff": {}}
    mats = {}
    with torch.no_grad():
        for n_in in (16, 32, 64):
            w = torch_weights(n_in, n_out)
            mats[n_in] = w
            res["weights"][str(n_in)] = [f32s(row) for row in w]
            res["formula_max_abs_diff"][str(n_in)] = {
                variant: float(np.abs(w.astype(np.float64) - pytorch_aa_weights(n_in, n_out, fma)).max())
                for variant, fma in (("fma", True), ("no_fma", False))}
        vals = [0.5 + 0.5 * math.sin(0.05 * float(h * 64 + w) + float(c))
                for c in range(3) for h in range(64) for w in range(64)]
        x = torch.tensor(np.array(vals, np.float64).astype(np.float32).reshape(1, 3, 64, 64))
        y = F.interpolate(x, size=(n_out, n_out), mode="bicubic", align_corners=False, antialias=True)
        m = mats[64].astype(np.float64)
        sep = np.einsum("oh,chw,pw->cop", m, x[0].numpy().astype(np.float64), m)
        res["image_64"] = {
            "formula": "x[0,c,h,w] = f32(0.5 + 0.5*sin(0.05*(h*64+w) + c)) (f64 math), B=1, C=3, H=W=64",
            "input": summary(x), "resized": summary(y), "clamped": summary(y.clamp(0.0, 1.0))}
        res["separable_f64_max_abs_diff"] = float(np.abs(y[0].numpy().astype(np.float64) - sep).max())
    with open(OUT, "w") as f:
        json.dump(res, f, separators=(",", ":"))
    print("wrote", OUT, "| formula vs torch:", res["formula_max_abs_diff"],
          "| separable f64:", res["separable_f64_max_abs_diff"])


if __name__ == "__main__":
    main()

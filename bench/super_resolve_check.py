#!/usr/bin/python3
"""Bicubic upsampling's PSNR and SSIM for the images of a `lift-analyze super-resolve` report,
computed independently: the test `lift-analyze/tests/super_resolve.rs` hands it `sr.json` and
compares with its `psnr_bicubic` and `ssim_bicubic`.

    /usr/bin/python3 bench/super_resolve_check.py OUT/sr.json

Each image file is read with PIL, taken to [0, 1], averaged over 2×2 blocks (the coarse scale),
upsampled ×2 by `torch.nn.functional.interpolate(mode='bicubic', align_corners=False)` and clamped
to [0, 1]. PSNR = 10·log10(1 / MSE); SSIM (Wang et al. 2004) with an 11×11 Gaussian window of
σ = 1.5 applied where it fits (no padding), C1 = 0.01², C2 = 0.03², averaged over each channel's
map and then over channels. Prints one line per image: file, PSNR, SSIM.
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def window():
    g = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5 ** 2))
    g /= g.sum()
    return np.outer(g, g)


def filtered(plane, w):
    n = plane.shape[0] - 10
    out = np.empty((n, n))
    for y in range(n):
        for x in range(n):
            out[y, x] = (plane[y:y + 11, x:x + 11] * w).sum()
    return out


def ssim(a, b):
    w, c1, c2 = window(), 0.01 ** 2, 0.03 ** 2
    scores = []
    for x, y in zip(a, b):
        mx, my = filtered(x, w), filtered(y, w)
        vx = filtered(x * x, w) - mx * mx
        vy = filtered(y * y, w) - my * my
        cxy = filtered(x * y, w) - mx * my
        m = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        scores.append(m.mean())
    return float(np.mean(scores))


def main():
    report = json.load(open(sys.argv[1]))
    for row in report["images"]:
        real = np.asarray(Image.open(row["file"]).convert("RGB"), dtype=np.float64).transpose(2, 0, 1) / 255.0
        c, h, w = real.shape
        coarse = real.reshape(c, h // 2, 2, w // 2, 2).mean(axis=(2, 4))
        up = F.interpolate(torch.from_numpy(coarse)[None], scale_factor=2, mode="bicubic", align_corners=False)[0]
        up = up.clamp(0, 1).numpy()
        psnr = 10 * np.log10(1.0 / np.mean((up - real) ** 2))
        print(f"{row['file']} {psnr:.10f} {ssim(up, real):.10f}")


if __name__ == "__main__":
    main()

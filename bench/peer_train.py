#!/usr/bin/env python3
"""PyTorch peer of `lift-train` + `lift-analyze generate`: trains the baseline (or LIFT) UNet of
bench/torch_peer.py with our recipe for N optimiser steps, then DDIM-samples its EMA weights as
our Rust code does and writes 8-bit PNGs, so that our FID/KID code can score them beside ours.

Why: a training or sampling defect of ours cannot hide behind "too few epochs". If PyTorch with the
same recipe and step count gives recognisable images and the Rust run does not, we have a bug.

Usage:
  python3 bench/peer_train.py --config RUN/config.toml --data DIR --steps N --out DIR
                              [--model baseline|lift] [--images 64] [--seed 0] [--threads 0]
                              [--log-every 100]
Writes OUT/samples/000000.png ... (EMA samples at model.resolution, named as generate.rs names ours), OUT/grid.png (first 64, 8 per
row) and OUT/train.json. Same arguments, same machine and thread count: same result. The Rust side's
ChaCha streams are not reproduced (other split, order, noise and initial weights): compare
distributions, not pixels. Bad input exits with code 2 and a one-line message.
"""
import argparse, copy, json, math, os, sys, time, tomllib

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.dont_write_bytecode = True  # no __pycache__ left in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_peer import UNet, Lift  # noqa: E402


class BadInput(Exception):
    pass


def rust_round(x):
    """Rust's f64::round (half away from zero); Python's round() is half-to-even."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def load_config(path):
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except OSError as e:
        raise BadInput(f"cannot read config {path}: {e.strerror}")
    except tomllib.TOMLDecodeError as e:
        raise BadInput(f"invalid config {path}: {e}")
    # Defaults as lift-core/src/config.rs (ModelConfig, ScheduleConfig) and train_config.rs.
    defaults = {
        "model": dict(groups=8, heads=4, attention_min_channels=128, time_embed_dim=64, time_dim=256, resolution=64),
        "schedule": dict(kind="cosine-clipped", timesteps=1000),
        "train": dict(lr_schedule="constant", lr_warmup_steps=0, ema_warmup=False, ema_inv_gamma=1.0, ema_power=0.75,
                      accumulate=1, seed=42, validation_fraction=0.0, drop_last=True, max_batches_per_epoch=0),
        "sample": dict(protocol="reference"),
    }
    required = {"model": ["dims"], "train": ["batch_size", "lr", "weight_decay", "grad_clip", "ema_decay"], "sample": ["steps"]}
    cfg = {}
    for section, d in defaults.items():
        cfg[section] = {**d, **raw.get(section, {})}
        for key in required.get(section, []):
            if key not in cfg[section]:
                raise BadInput(f"config {path}: missing {section}.{key}")
    m, t, s = cfg["model"], cfg["train"], cfg["schedule"]
    numbers = ["lr", "weight_decay", "grad_clip", "ema_decay", "ema_inv_gamma", "ema_power", "validation_fraction"]
    typed = {"dims": list, "lr_schedule": str, "kind": str, "protocol": str, "drop_last": bool, "ema_warmup": bool,
             **dict.fromkeys(numbers, (int, float))}
    for sec, d in cfg.items():
        for key in [*defaults[sec], *required.get(sec, [])]:
            v, want = d[key], typed.get(key, int)
            bad_dims = key == "dims" and not (isinstance(v, list) and v and all(isinstance(c, int) and c > 0 for c in v))
            if not isinstance(v, want) or (want is int and v < 0) or bad_dims:
                raise BadInput(f"config {path}: {sec}.{key} has the wrong type or value ({v!r})")
    if any(c % max(m["heads"], 1) or not m["heads"] for c in m["dims"] if c >= m["attention_min_channels"] or c == m["dims"][-1]):
        raise BadInput(f"config {path}: model.heads must divide every attended level of model.dims")
    if m["groups"] == 0 or t["batch_size"] == 0 or s["timesteps"] < 2:
        raise BadInput(f"config {path}: model.groups and train.batch_size must be positive, schedule.timesteps at least 2")
    if m["resolution"] % (1 << len(m["dims"])) or any(d % m["groups"] for d in m["dims"]):
        raise BadInput(f"config {path}: model.resolution must be divisible by 2^len(dims) and dims by groups")
    if s["kind"] not in ("cosine-clipped", "cosine", "linear"):
        raise BadInput(f"config {path}: unknown schedule.kind {s['kind']!r}")
    if t["lr_schedule"] not in ("constant", "cosine"):
        raise BadInput(f"config {path}: unknown train.lr_schedule {t['lr_schedule']!r}")
    if cfg["sample"]["protocol"] not in ("reference", "fair"):
        raise BadInput(f"config {path}: unknown sample.protocol {cfg['sample']['protocol']!r}")
    if not 1 <= cfg["sample"]["steps"] < s["timesteps"]:
        raise BadInput(f"config {path}: sample.steps must be in 1..{s['timesteps']}")
    return cfg


def alpha_bars(kind, n):
    """ᾱ table in f64 (lift-core/src/schedule.rs NoiseSchedule::new)."""
    if kind == "linear":
        betas = [1e-4 + (0.02 - 1e-4) * i / (n - 1) for i in range(n)]
    else:
        f = lambda t: math.cos((t / n + 0.008) / 1.008 * math.pi / 2) ** 2
        raw = [1 - f(i + 1) / f(i) for i in range(n)]
        betas = [min(max(b, 1e-4), 0.02) if kind == "cosine-clipped" else min(b, 0.999) for b in raw]
    out, prod = [], 1.0
    for b in betas:
        prod *= 1 - b
        out.append(prod)
    return out


def sampling_timesteps(protocol, steps, n):
    """lift-core/src/timesteps.rs: reference = every multiple of n div steps below n, descending
    (18 steps → 990, 935, …, 0: 19 evaluations); fair = steps points from n−1 to 0."""
    if protocol == "reference":
        return list(range(0, n, n // steps))[::-1]
    return [rust_round((n - 1) * (1 - i / max(steps - 1, 1))) for i in range(steps)]


def load_images(root, r):
    """lift-core/src/data.rs: every .png/.jpg/.jpeg below root, sorted; composited onto white,
    shorter side resized to r (Triangle filter there, PIL's antialiased bilinear here) and
    centre-cropped; kept as uint8 [N, 3, r, r]."""
    if not os.path.isdir(root):
        raise BadInput(f"data folder {root} does not exist or is not a folder")
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
                   if f.lower().endswith((".png", ".jpg", ".jpeg")))
    if not files:
        raise BadInput(f"data folder {root} contains no PNG or JPEG images")
    out = np.empty((len(files), 3, r, r), dtype=np.uint8)
    for k, path in enumerate(files):
        try:
            img = Image.open(path)
            rgba = np.asarray(img.convert("RGBA"), dtype=np.float32)
        except Exception as e:
            raise BadInput(f"corrupt or unsupported image {path}: {e}")
        a = rgba[..., 3:] / 255.0
        rgb = np.floor(rgba[..., :3] * a + 255.0 * (1.0 - a) + 0.5).astype(np.uint8)
        h, w = rgb.shape[:2]
        if min(w, h) < r:
            raise BadInput(f"image {path} is {w}x{h}, smaller than model.resolution = {r}")
        im = Image.fromarray(rgb)
        if min(w, h) != r:
            scale = r / min(w, h)
            im = im.resize((max(rust_round(w * scale), r), max(rust_round(h * scale), r)), Image.BILINEAR)
        x0, y0 = (im.width - r) // 2, (im.height - r) // 2
        out[k] = np.asarray(im.crop((x0, y0, x0 + r, y0 + r))).transpose(2, 0, 1)
    return torch.from_numpy(out)


def split(n, fraction, seed):
    """Train indices: ImageSet::split's count (round(n·fraction), at least one each side), not its
    ChaCha order."""
    n_val = min(max(rust_round(n * fraction), 1), n - 1) if fraction > 0 and n >= 2 else rust_round(n * fraction)
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))[: n - n_val]


def lr_at(t, step, total):
    """lift-core/src/train_config.rs TrainConfig::lr_at (step 0 = the first)."""
    warm = 1.0 if t["lr_warmup_steps"] == 0 else min((step + 1) / t["lr_warmup_steps"], 1.0)
    shape = 1.0 if t["lr_schedule"] == "constant" else 0.5 * (1 + math.cos(min(step, total) / max(total, 1) * math.pi))
    return t["lr"] * warm * shape


def ema_decay_at(t, step):
    """train_config.rs ema_decay_at (step 1 = the first): fixed, or diffusers' warm-up."""
    if not t["ema_warmup"]:
        return t["ema_decay"]
    s = max(step - 1, 0)
    return 0.0 if s == 0 else min(1 - (1 + s / t["ema_inv_gamma"]) ** -t["ema_power"], t["ema_decay"])


def ddim_step(x, eps_hat, a, a_prev):
    """lift-core/src/sampler.rs: x̂₀ clamped to [−1, 1], ε recomputed from it, ᾱ_prev = ᾱ₀ at the end."""
    sa, s1a = math.sqrt(a), math.sqrt(1 - a)
    x0 = ((x - eps_hat * s1a) / sa).clamp(-1, 1)
    eps = (x - x0 * sa) / s1a
    return x0 * math.sqrt(a_prev) + eps * math.sqrt(1 - a_prev)


def to_u8(x):
    """[−1, 1] → 8 bit as generate.rs save_png16 (clamp, (x+1)/2, round) and image_grid.rs to_u8."""
    return torch.floor((x.clamp(-1, 1) + 1) / 2 * 255 + 0.5).to(torch.uint8).permute(1, 2, 0).numpy()


def save_png_atomic(array, path):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    Image.fromarray(array).save(tmp, format="PNG")
    os.replace(tmp, path)


def grid(images, side, cols=8, gap=2):
    """lift-core/src/image_grid.rs layout: white gaps of 2 px (also around), tiles zoomed to ≥ 64 px."""
    zoom, n = max(64 // side, 1), len(images)
    cell, rows = side * zoom + gap, (n + cols - 1) // cols
    cols = min(cols, n)
    out = np.full((rows * cell + gap, cols * cell + gap, 3), 255, dtype=np.uint8)
    for k, img in enumerate(images):
        y, x = (k // cols) * cell + gap, (k % cols) * cell + gap
        out[y:y + side * zoom, x:x + side * zoom] = img.repeat(zoom, 0).repeat(zoom, 1)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.error = lambda msg: (print(f"error: {msg}", file=sys.stderr), sys.exit(2))
    p.add_argument("--config", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, required=True, help="optimiser steps")
    p.add_argument("--out", required=True)
    p.add_argument("--model", default="baseline")
    p.add_argument("--images", type=int, default=64, help="EMA samples to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="0 = PyTorch's default")
    p.add_argument("--log-every", type=int, default=100)
    a = p.parse_args()
    if a.model not in ("baseline", "lift"):
        raise BadInput(f"--model must be baseline or lift (got {a.model!r})")
    if a.steps < 1 or a.images < 0 or a.log_every < 1:
        raise BadInput("--steps and --log-every must be positive, --images at least 0")
    cfg = load_config(a.config)
    m, t, sch = cfg["model"], cfg["train"], cfg["schedule"]
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    r, T, lift = m["resolution"], sch["timesteps"], a.model == "lift"
    images = load_images(a.data, r)
    try:  # fail before training, not after it
        os.makedirs(os.path.join(a.out, "samples"), exist_ok=True)
    except OSError as e:
        raise BadInput(f"cannot create output folder {a.out}: {e.strerror}")
    train_idx = split(len(images), t["validation_fraction"], t["seed"])
    # lift-train/src/batch.rs steps_per_epoch: whole (accumulated) batches with drop_last, capped.
    bs, acc, n = t["batch_size"], max(t["accumulate"], 1), len(train_idx)
    per_epoch = n // (bs * acc) if t["drop_last"] else -(-n // (bs * acc))
    per_epoch = min(per_epoch, t["max_batches_per_epoch"] or per_epoch)
    if per_epoch == 0:
        raise BadInput(f"{n} training images make no batch of train.batch_size = {bs} (train.drop_last drops a short last batch)")

    # torch_peer.py builds the same UNet as lift-core/src/model/ with PyTorch's default init, which is
    # the U(±1/√fan_in) of lift-core/src/model/init.rs.
    dims, e, td = list(m["dims"]), m["time_embed_dim"], m["time_dim"]
    kw = dict(g=m["groups"], heads=m["heads"], attn_min=m["attention_min_channels"])
    net = Lift(dims, e, td, **kw) if lift else UNet(dims, 3, 3, e, td, False, **kw)
    # lift-train/src/ema.rs: the shadow starts equal to the initial weights (no buffers to copy).
    ema = copy.deepcopy(net).requires_grad_(False)
    # lift-train/src/run.rs: Burn's AdamW (β 0.9/0.999, decoupled decay on every parameter,
    # PyTorch's update rule) with ε set to PyTorch's 1e-8.
    opt = torch.optim.AdamW(net.parameters(), lr=t["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=t["weight_decay"])
    ab = torch.tensor(alpha_bars(sch["kind"], T), dtype=torch.float64)
    sqrt_ab, sqrt_1mab = ab.sqrt().float(), (1 - ab).sqrt().float()  # f64 then f32, as add_noise_host

    def noised(x0):
        # lift-train/src/batch.rs: t uniform on 0..T−1, fresh N(0, 1) noise per scale.
        tt, eps = torch.randint(0, T, (x0.shape[0],)), torch.randn_like(x0)
        return sqrt_ab[tt].view(-1, 1, 1, 1) * x0 + sqrt_1mab[tt].view(-1, 1, 1, 1) * eps, eps, tt

    def loss_of(idx):
        x64 = images[idx].float() / 127.5 - 1  # data.rs hwc_to_chw
        xt64, eps64, t64 = noised(x64)
        if not lift:  # step.rs: baseline loss = MSE(ε̂, ε)
            return F.mse_loss(net(xt64, t64), eps64)
        xt32, eps32, t32 = noised(F.avg_pool2d(x64, 2))  # data.rs average_2x2, own t and noise
        e64, e32 = net(xt64, xt32, t64, t32)
        return F.mse_loss(e64, eps64) + F.mse_loss(e32, eps32)  # step.rs: loss₆₄ + loss₃₂

    net.train()
    log, window, seen, step, start = [], [], 0, 0, time.perf_counter()
    while step < a.steps:
        # batch.rs EpochLoader: reshuffle every epoch, keep per_epoch whole steps (or a short last).
        order = train_idx[torch.randperm(n)][: min(per_epoch * bs * acc, n)]
        for k in range(per_epoch):
            if step == a.steps:
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(t, step, a.steps)  # the cosine spans --steps here, epochs·steps there
            opt.zero_grad(set_to_none=True)
            total = 0.0
            for j in range(acc):  # step.rs: summed micro-batch gradients scaled to a mean
                idx = order[(k * acc + j) * bs:(k * acc + j + 1) * bs]
                loss = loss_of(idx) / acc
                loss.backward()
                total, seen = total + loss.item(), seen + len(idx)
            if t["grad_clip"] > 0:  # lift-train/src/clip.rs: global norm, factor max/(‖g‖+1e-6) ≤ 1
                torch.nn.utils.clip_grad_norm_(net.parameters(), t["grad_clip"])
            opt.step()
            step += 1
            d = ema_decay_at(t, step)  # step.rs: EMA after every optimiser step
            with torch.no_grad():
                for e, q in zip(ema.parameters(), net.parameters()):
                    e.mul_(d).add_(q, alpha=1 - d)
            window.append(total)
            if step % a.log_every == 0 or step == a.steps:
                log, window, el = log + [[step, sum(window) / len(window)]], [], time.perf_counter() - start
                print(f"step {step}/{a.steps} loss {log[-1][1]:.5f} lr {lr_at(t, step - 1, a.steps):.3g} "
                      f"{seen / el:.1f} img/s {el:.0f} s", flush=True)
    seconds = time.perf_counter() - start

    # Sampling as lift-analyze/src/generate.rs + lift-core/src/pipeline.rs: EMA weights, DDIM η = 0,
    # the baseline on its timesteps, LIFT on the diagonal (both scales at the same t).
    ema.eval()
    ts = sampling_timesteps(cfg["sample"]["protocol"], cfg["sample"]["steps"], T)
    gen = torch.Generator().manual_seed(a.seed + 1)  # sample noise independent of the training draws
    x64_all = torch.randn(a.images, 3, r, r, generator=gen)
    x32_all = torch.randn(a.images, 3, r // 2, r // 2, generator=gen)
    sample_start, tiles = time.perf_counter(), []
    with torch.no_grad():
        for lo in range(0, a.images, 32):
            x64, x32 = x64_all[lo:lo + 32], x32_all[lo:lo + 32]
            for i, tc in enumerate(ts):
                tp = ts[i + 1] if i + 1 < len(ts) else 0  # pipeline.rs: after the last, step to 0
                tv = torch.full((x64.shape[0],), tc, dtype=torch.long)
                a_t, a_p = ab[tc].item(), ab[tp].item()
                if lift:
                    e64, e32 = ema(x64, x32, tv, tv)
                    x32 = ddim_step(x32, e32, a_t, a_p)
                else:
                    e64 = ema(x64, tv)
                x64 = ddim_step(x64, e64, a_t, a_p)
            for k, x in enumerate(x64):
                img = to_u8(x)
                save_png_atomic(img, os.path.join(a.out, "samples", f"{lo + k:06d}.png"))
                if len(tiles) < 64:
                    tiles.append(img)
    if tiles:
        save_png_atomic(grid(tiles, r), os.path.join(a.out, "grid.png"))
    info = {"steps": step, "images_seen": seen, "seconds": seconds, "loss_every": log, "torch": torch.__version__,
            "threads": torch.get_num_threads(), "model": a.model, "config": a.config, "data": a.data,
            "train_images": n, "parameters": sum(q.numel() for q in net.parameters()), "seed": a.seed,
            "sample_timesteps": ts, "images": a.images, "sample_seconds": time.perf_counter() - sample_start}
    tmp = os.path.join(a.out, ".train.json.tmp")
    with open(tmp, "w") as f:
        json.dump(info, f, indent=1)
    os.replace(tmp, os.path.join(a.out, "train.json"))
    print(f"wrote {a.images} samples, grid.png and train.json to {a.out}")


if __name__ == "__main__":
    try:
        main()
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)

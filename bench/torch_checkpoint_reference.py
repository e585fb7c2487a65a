#!/usr/bin/python3
"""Independent PyTorch reference for `lift-analyze import-torch --check`: small checkpoints in the layout
of the original PyTorch code (fengsxy/Path_analyisi, `model.py`, `baseline_model.py`,
`explore_test_2/train_lift_ema.py`) and the outputs they must give.

Run with Debian's system Python (torch 1.13 and numpy; the `python3` on PATH has neither):

    /usr/bin/python3 bench/torch_checkpoint_reference.py [--out lift-analyze/tests/fixtures/torch]
    /usr/bin/python3 bench/torch_checkpoint_reference.py --check-only   # counts and key check only

It writes four files into `--out`:

* `lift.pth`, `baseline.pth`: `torch.save` (default zip format) of the dict the original training
  scripts save: `model_state` (state dict), `ema_state` = {'decay': 0.9999, 'shadow': {name: tensor}}
  (every parameter, values differing from `model_state`), `optimizer_state` (the `state_dict()` of a
  real `torch.optim.AdamW(lr=1e-4, weight_decay=0.01)` that never stepped: `state` is empty, only
  `param_groups`), `hidden_dims` = [8, 16, 32] (attention from 32 channels on), `losses` (and for LIFT `losses_64`, `losses_32`:
  short lists of floats), `epochs` = 3, `ema_decay` = 0.9999.
* `lift_check.npz`: `x64` [2,3,32,32], `x32` [2,3,16,16], `t64`, `t32` [2] (integers stored as
  float32), `eps64`, `eps32` (outputs with `model_state`), `ema_eps64`, `ema_eps32` (outputs with
  `ema_state.shadow`).
* `baseline_check.npz`: `x` [2,3,32,32], `t` [2], `eps`, `ema_eps`.

The networks are written here from the architecture of the original (same function, same state-dict
names and shapes), not imported from it. As in the original, the width of the sinusoidal embedding is
hidden_dims[0] and the time vector has 4 * hidden_dims[0] features (64 and 256 at [64,128,256,512];
8 and 32 for the [8,16,32] fixtures); `--time-dims E,T` overrides that.

Weights: torch.manual_seed(SEED), then every parameter is redrawn, so nothing is left at its
default. To keep the committed files small (the zip stores tensors uncompressed; git's zlib compresses
the blob) every value lies on a coarse power-of-two grid, which also makes it exact in float32:
* Linear/Conv2d/ConvTranspose2d weights and biases are k * s with k uniform in {-K_MAX..K_MAX}
  (K_MAX = 1: ternary), s = the largest power of two with K_MAX * s < 1/sqrt(fan_in), so they stay
  inside PyTorch's default init range (-1/sqrt(fan_in), 1/sqrt(fan_in));
* GroupNorm gamma = 1 + 0.1 * N(0,1) and beta = 0.1 * N(0,1), rounded to multiples of 2^-6 (an importer
  that ignores gamma/beta fails the check).
The EMA shadow is each model value moved by -1, 0 or +1 grid steps (uniform), clamped to |k| <= K_MAX
for conv/linear, so it is on the same grid, inside the range and different from `model_state`.

Expected outputs: eval mode, torch.no_grad(), batch 2, computed in float64 (model.double(), inputs
are the float32 values of the .npz widened exactly) and then rounded to float32. The sinusoidal
frequencies are computed in the input's dtype (float64 here; the original computes them in float32).

It also prints the parameter counts at [32,64,128], [64,128,256,512] (must be 58,475,206 / 58,274,627)
and [64,128,256] (14,930,374 / 14,729,795), and compares the state-dict names and shapes at
[64,128,256,512] with the two lists in shared/spec/torch-checkpoint.md.
"""
import argparse
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20240611
# Narrow fixtures keep the checkout small (0.2M parameters, ~1 MB a file); attention from 32
# channels on, so the deepest level has its attention block as the original's 128-channel levels do.
FIXTURE_DIMS = [8, 16, 32]
FIXTURE_ATTN_MIN = 32
FIXTURE_RES = 32          # the check inputs' fine side (the coarse one is half)
K_MAX = 1                # conv/linear values are k * step, |k| <= K_MAX
NORM_STEP = 2.0 ** -6    # GroupNorm gamma/beta grid
GROUPS, HEADS, ATTN_MIN = 8, 4, 128


# ----------------------------------------------------------------------------------------------
# Network (same function and state-dict names as the original; own structure)
# ----------------------------------------------------------------------------------------------

class TimestepFeatures(nn.Module):
    """[sin(t w_i), cos(t w_i)], w_i = exp(-i ln(10000) / (half - 1)), i < half; raw integer t."""

    def __init__(self, dim):
        super().__init__()
        self.half = dim // 2

    def forward(self, t):
        if not t.is_floating_point():
            t = t.float()
        i = torch.arange(self.half, dtype=t.dtype, device=t.device)
        w = torch.exp(i * (-math.log(10000.0) / (self.half - 1)))
        a = t.reshape(-1, 1) * w.reshape(1, -1)
        return torch.cat([torch.sin(a), torch.cos(a)], dim=1)


class ResBlock(nn.Module):
    """GN-SiLU-conv3x3, + Linear(SiLU(time)), GN-SiLU-conv3x3, + skip (1x1 conv if widths differ).
    time_dim None: no time projection (the no_t ablation)."""

    def __init__(self, c_in, c_out, time_dim):
        super().__init__()
        # registration order = the original's state-dict order
        self.time_mlp = nn.Linear(time_dim, c_out) if time_dim else None
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.norm1 = nn.GroupNorm(GROUPS, c_in)
        self.norm2 = nn.GroupNorm(GROUPS, c_out)
        # an Identity (as the original) when widths agree: it has no tensors, but the state dict's
        # `_metadata` lists every submodule
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_mlp is not None:
            h = h + self.time_mlp(F.silu(temb)).unsqueeze(-1).unsqueeze(-1)
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.shortcut(x)


class SelfAttention(nn.Module):
    """Residual multi-head self-attention over the H*W positions of a feature map.

    qkv channels [0,c) are q, [c,2c) k, [2c,3c) v; head j uses channels [j*d, (j+1)*d) of each,
    d = c / heads; scores scaled by d^-1/2, softmax over the key positions; then a 1x1 projection.
    """

    def __init__(self, c):
        super().__init__()
        self.norm = nn.GroupNorm(GROUPS, c)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.proj = nn.Conv2d(c, c, 1)

    def forward(self, x):
        b, c, hh, ww = x.shape
        d = c // HEADS
        qkv = self.qkv(self.norm(x)).reshape(b, 3, HEADS, d, hh * ww)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]                        # [b, heads, d, n]
        scores = torch.matmul(q.transpose(-1, -2), k) * (d ** -0.5)      # [b, heads, n(query), n(key)]
        weights = torch.softmax(scores, dim=-1)
        mixed = torch.matmul(v, weights.transpose(-1, -2))               # [b, heads, d, n(query)]
        return x + self.proj(mixed.reshape(b, c, hh, ww))


class UNet(nn.Module):
    """Encoder/bottleneck/decoder of the original; `dual` adds the second timestep and time_combine.

    The ablations (later-experiments.md §4): `coarse_input` takes x64 and x32 (upsampled bilinearly,
    concatenated) with t64 only and predicts eps64; `timed` False drops the time embedding and every
    residual block's time projection (no_t)."""

    def __init__(self, hidden_dims, c_in, c_out, dual, embed_dim=None, time_dim=None, attn_min=ATTN_MIN,
                 coarse_input=False, timed=True):
        super().__init__()
        dims = list(hidden_dims)
        embed_dim = embed_dim or dims[0]
        time_dim = time_dim or 4 * dims[0]
        self.dual = dual
        self.coarse_input = coarse_input
        if timed:
            self.time_mlp = nn.Sequential(TimestepFeatures(embed_dim), nn.Linear(embed_dim, time_dim),
                                          nn.SiLU(), nn.Linear(time_dim, time_dim))
        else:
            self.time_mlp = None
            time_dim = None
        if dual:
            self.time_combine = nn.Sequential(nn.Linear(2 * time_dim, time_dim), nn.SiLU(),
                                              nn.Linear(time_dim, time_dim))
        self.init_conv = nn.Conv2d(c_in, dims[0], 3, padding=1)

        def level(c_a, c_b):
            attn = SelfAttention(c_b) if c_b >= attn_min else nn.Identity()
            return nn.ModuleList([ResBlock(c_a, c_b, time_dim), ResBlock(c_b, c_b, time_dim), attn])

        widths_in = [dims[0]] + dims[:-1]
        enc = [level(a, b) for a, b in zip(widths_in, dims)]
        down = [nn.Conv2d(c, c, 4, stride=2, padding=1) for c in dims]
        self.encoder_blocks = nn.ModuleList(enc)
        self.downsample = nn.ModuleList(down)
        top = dims[-1]
        self.bottleneck = nn.ModuleList([ResBlock(top, top, time_dim), SelfAttention(top),
                                         ResBlock(top, top, time_dim)])
        rev = dims[::-1]
        coming = [top] + rev[:-1]                # channels arriving at each decoder level
        dec = []
        up = []
        for c_up, c_skip in zip(coming, rev):
            up.append(nn.ConvTranspose2d(c_up, c_up, 4, stride=2, padding=1))
            # the skip has c_skip channels; input = [upsampled, skip] concatenated
            blk = level(c_up + c_skip, c_skip)
            dec.append(blk)
        self.decoder_blocks = nn.ModuleList(dec)
        self.upsample = nn.ModuleList(up)
        self.final_conv = nn.Sequential(nn.GroupNorm(GROUPS, dims[0]), nn.SiLU(),
                                        nn.Conv2d(dims[0], c_out, 3, padding=1))

    def _levels(self, h, temb):
        h = self.init_conv(h)
        skips = []
        for (r1, r2, at), dn in zip(self.encoder_blocks, self.downsample):
            h = at(r2(r1(h, temb), temb))
            skips.append(h)
            h = dn(h)
        r1, at, r2 = self.bottleneck
        h = r2(at(r1(h, temb)), temb)
        for (r1, r2, at), upc, skip in zip(self.decoder_blocks, self.upsample, skips[::-1]):
            h = torch.cat([upc(h), skip], dim=1)
            h = at(r2(r1(h, temb), temb))
        return self.final_conv(h)

    def forward(self, *args):
        if self.dual:
            x64, x32, t64, t32 = args
            temb = self.time_combine(torch.cat([self.time_mlp(t64), self.time_mlp(t32)], dim=1))
            big = x64.shape[-2:]
            small = x32.shape[-2:]
            x = torch.cat([x64, F.interpolate(x32, size=big, mode='bilinear', align_corners=False)], 1)
            out = self._levels(x, temb)
            eps32 = F.interpolate(out[:, 3:6], size=small, mode='bilinear', align_corners=False)
            return out[:, 0:3], eps32
        if self.coarse_input:
            x64, x32, t64 = args
            temb = self.time_mlp(t64) if self.time_mlp is not None else None
            x = torch.cat([x64, F.interpolate(x32, size=x64.shape[-2:], mode='bilinear', align_corners=False)], 1)
            return self._levels(x, temb)
        x, t = args
        return self._levels(x, self.time_mlp(t))


def build(kind, dims, embed_dim=None, time_dim=None, attn_min=ATTN_MIN):
    if kind == 'lift':
        return UNet(dims, 6, 6, True, embed_dim, time_dim, attn_min)
    if kind in ('single-t', 'no-t'):
        return UNet(dims, 6, 3, False, embed_dim, time_dim, attn_min, coarse_input=True, timed=kind == 'single-t')
    return UNet(dims, 3, 3, False, embed_dim, time_dim, attn_min)


def n_params(m):
    return sum(p.numel() for p in m.parameters())


# ----------------------------------------------------------------------------------------------
# Quantised random weights
# ----------------------------------------------------------------------------------------------

def grid_for(weight):
    """(step, K_MAX) of the grid of a conv/linear module: K_MAX * step < 1/sqrt(fan_in)."""
    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(weight)
    bound = 1.0 / math.sqrt(fan_in)
    step = 2.0 ** (math.ceil(math.log2(bound / K_MAX)) - 1)   # largest power of two below bound/K_MAX
    assert K_MAX * step < bound <= 2 * K_MAX * step
    return step, K_MAX


def randomise(model):
    """Redraw every parameter on its grid; returns {name: (step, kmax)} for the EMA perturbation."""
    grids = {}
    with torch.no_grad():
        for mname, mod in model.named_modules():
            if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                step, kmax = grid_for(mod.weight)
                for pname, p in mod.named_parameters(recurse=False):
                    k = torch.randint(-kmax, kmax + 1, p.shape).to(p.dtype)
                    p.copy_(k * step)
                    grids[f'{mname}.{pname}'] = (step, kmax)
            elif isinstance(mod, nn.GroupNorm):
                g = 1.0 + 0.1 * torch.randn_like(mod.weight)
                b = 0.1 * torch.randn_like(mod.bias)
                mod.weight.copy_(torch.round(g / NORM_STEP) * NORM_STEP)
                mod.bias.copy_(torch.round(b / NORM_STEP) * NORM_STEP)
                grids[f'{mname}.weight'] = (NORM_STEP, None)
                grids[f'{mname}.bias'] = (NORM_STEP, None)
    names = {n for n, _ in model.named_parameters()}
    assert names == set(grids), names ^ set(grids)
    return grids


def ema_shadow(model, grids):
    """Model values plus -1/0/+1 grid steps, staying on the grid and inside the init range."""
    shadow = {}
    with torch.no_grad():
        for name, p in model.named_parameters():
            step, kmax = grids[name]
            k = torch.round(p / step) + torch.randint(-1, 2, p.shape).to(p.dtype)
            if kmax is not None:
                k = k.clamp(-kmax, kmax)
            shadow[name] = (k * step).clone()
    return shadow


# ----------------------------------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------------------------------

def spec_lists(path):
    text = open(path).read()
    blocks = re.findall(r'```\n(.*?)```', text, flags=re.S)
    out = []
    for blk in blocks:
        rows = []
        for line in blk.strip().splitlines():
            name, shape = line.split(' ', 1)
            rows.append((name, [int(s) for s in shape.strip('[]').split(',')]))
        out.append(rows)
    return out


def compare_keys(model, expected, label):
    got = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    ok = True
    if got == expected:
        print(f'{label}: state dict = spec list ({len(got)} tensors, same order, same shapes)')
        return True
    gd, ed = dict(got), dict(expected)
    for k in ed.keys() - gd.keys():
        print(f'{label}: missing {k} {ed[k]}'); ok = False
    for k in gd.keys() - ed.keys():
        print(f'{label}: extra {k} {gd[k]}'); ok = False
    for k in gd.keys() & ed.keys():
        if gd[k] != ed[k]:
            print(f'{label}: shape {k} {gd[k]} vs spec {ed[k]}'); ok = False
    if ok:
        print(f'{label}: same names and shapes, different order')
    return ok


def checks(spec_path):
    ok = True
    want = {('lift', (64, 128, 256, 512)): 58_475_206, ('baseline', (64, 128, 256, 512)): 58_274_627,
            ('lift', (64, 128, 256)): 14_930_374, ('baseline', (64, 128, 256)): 14_729_795}
    for dims in [(32, 64, 128), (64, 128, 256, 512), (64, 128, 256)]:
        for kind in ['lift', 'baseline']:
            m = build(kind, list(dims))
            n = n_params(m)
            w = want.get((kind, dims))
            tag = '' if w is None else ('  OK' if n == w else f'  MISMATCH (want {w:,})')
            ok &= w is None or n == w
            print(f'params {kind:8s} {list(dims)}: {n:,} ({len(m.state_dict())} tensors){tag}')
            if dims == (64, 128, 256, 512) and spec_path:
                lists = spec_lists(spec_path)
                ok &= compare_keys(m, lists[0] if kind == 'lift' else lists[1], f'keys {kind}')
            del m
    return ok


# ----------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------

def run_double(model, state, inputs):
    m = build(model['kind'], FIXTURE_DIMS, *model['time_dims'], FIXTURE_ATTN_MIN)
    m.load_state_dict(state, strict=True)
    m = m.double().eval()
    with torch.no_grad():
        out = m(*[torch.from_numpy(a).double() for a in inputs])
    out = out if isinstance(out, tuple) else (out,)
    return [o.float().numpy() for o in out]


def make(kind, out_dir, time_dims):
    model = build(kind, FIXTURE_DIMS, *time_dims, FIXTURE_ATTN_MIN)
    grids = randomise(model)
    shadow = ema_shadow(model, grids)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    state = model.state_dict()
    ckpt = {'model_state': state, 'ema_state': {'decay': 0.9999, 'shadow': shadow},
            'optimizer_state': opt.state_dict(), 'hidden_dims': list(FIXTURE_DIMS)}
    if kind == 'lift':
        ckpt.update(losses=[0.21875, 0.109375, 0.0859375], losses_64=[0.125, 0.0625, 0.046875],
                    losses_32=[0.09375, 0.046875, 0.0390625])
    else:
        ckpt.update(losses=[0.125, 0.0625, 0.046875])
    ckpt.update(epochs=3, ema_decay=0.9999)

    x64 = torch.randn(2, 3, FIXTURE_RES, FIXTURE_RES).numpy()
    info = {'kind': kind, 'time_dims': time_dims}
    if kind == 'lift':
        x32 = torch.randn(2, 3, FIXTURE_RES // 2, FIXTURE_RES // 2).numpy()
        t64 = np.array([999, 10], dtype=np.float32)
        t32 = np.array([500, 0], dtype=np.float32)
        ins = [x64, x32, t64, t32]
        eps64, eps32 = run_double(info, state, ins)
        ema64, ema32 = run_double(info, shadow, ins)
        arrays = dict(x64=x64, x32=x32, t64=t64, t32=t32, eps64=eps64, eps32=eps32,
                      ema_eps64=ema64, ema_eps32=ema32)
    else:
        t = np.array([999, 250], dtype=np.float32)
        ins = [x64, t]
        (eps,) = run_double(info, state, ins)
        (ema,) = run_double(info, shadow, ins)
        arrays = dict(x=x64, t=t, eps=eps, ema_eps=ema)
    arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}

    pth = os.path.join(out_dir, f'{kind}.pth')
    npz = os.path.join(out_dir, f'{kind}_check.npz')
    torch.save(ckpt, pth)
    np.savez(npz, **arrays)

    # sanity: reload and recompute in float32; raw and EMA outputs must differ
    back = torch.load(pth)
    assert back['model_state'].keys() == state.keys()
    m = build(kind, FIXTURE_DIMS, *time_dims, FIXTURE_ATTN_MIN)
    m.load_state_dict(back['model_state'])
    m.eval()
    with torch.no_grad():
        o = m(*[torch.from_numpy(a) for a in ins])
    o = o if isinstance(o, tuple) else (o,)
    ref = [arrays['eps64'], arrays['eps32']] if kind == 'lift' else [arrays['eps']]
    emas = [arrays['ema_eps64'], arrays['ema_eps32']] if kind == 'lift' else [arrays['ema_eps']]
    for a, r, e in zip(o, ref, emas):
        err = float(np.abs(a.numpy() - r).max())
        print(f'{kind}: f32 vs f64 max |diff| = {err:.3g}; |eps| max {np.abs(r).max():.3g}, '
              f'std {r.std():.3g}; raw vs EMA max |diff| = {np.abs(r - e).max():.3g}')
    print(f'{kind}: {n_params(model):,} params; wrote {pth} ({os.path.getsize(pth):,} B), '
          f'{npz} ({os.path.getsize(npz):,} B)')


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=os.path.join(root, 'lift-analyze', 'tests', 'fixtures', 'torch'))
    ap.add_argument('--spec', default=os.path.join(os.path.dirname(root), 'shared', 'spec',
                                                   'torch-checkpoint.md'))
    ap.add_argument('--time-dims', default=None, help='E,T: sinusoidal width and time-vector width '
                    '(default: as the original, hidden_dims[0] and 4*hidden_dims[0])')
    ap.add_argument('--check-only', action='store_true')
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    spec = args.spec if os.path.exists(args.spec) else None
    if spec is None:
        print(f'(no {args.spec}: key comparison skipped)')
    ok = checks(spec)
    if not args.check_only:
        time_dims = tuple(int(s) for s in args.time_dims.split(',')) if args.time_dims else (None, None)
        os.makedirs(args.out, exist_ok=True)
        torch.manual_seed(SEED)
        make('lift', args.out, time_dims)
        make('baseline', args.out, time_dims)
    if not ok:
        print('CHECK FAILED')
        sys.exit(1)


if __name__ == '__main__':
    main()

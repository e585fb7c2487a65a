#!/usr/bin/python3
"""Opens a checkpoint written by `lift-analyze export --format torch` as a PyTorch user would, and
runs it: the test `lift-analyze/tests/torch_export.rs` calls this with Debian's python3-torch.

    /usr/bin/python3 bench/torch_export_check.py EXPORTED.pth --model lift|baseline \
        --inputs CHECK.npz --out OUTPUTS.npz [--attn-min 32] [--time-dims E,T]

* `torch.load(..., weights_only=True)`: only tensors, dicts, lists and numbers may be in the file.
  torch 1.13's weights-only unpickler has no opcode for floats (BINFLOAT, added in 2.0), so it
  cannot open the original's checkpoints either (`ema_decay` is a float); under torch < 2 the
  pickle's globals and opcodes are checked against what torch 2's weights-only unpickler accepts
  instead, and the file is then loaded with weights_only=False;
* the dict has the original's keys (`model_state` an OrderedDict, `ema_state` = {decay, shadow} when
  present, `hidden_dims`, `losses` (and `losses_64`, `losses_32` for LIFT), `epochs`, `ema_decay`);
* each state dict loads with `load_state_dict(strict=True)` into the network of
  `torch_checkpoint_reference.py` (the original's architecture, written from the spec), which then
  runs on the inputs of CHECK.npz (`x64`, `x32`, `t64`, `t32` or `x`, `t`) in float64;
* OUTPUTS.npz gets those inputs and the outputs under the names `import-torch --check` reads
  (`eps64`, `eps32` / `eps`, and `ema_…` for the EMA shadow), rounded to float32.
Exits non-zero, saying why, when anything does not hold.

    /usr/bin/python3 bench/torch_export_check.py --list-keys 64,128,256,512 --model lift

prints the state-dict names and shapes of that network, in order, as JSON lines [name, shape].
"""
import argparse
import collections
import json
import pickle
import pickletools
import zipfile
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_checkpoint_reference import build  # noqa: E402


def fail(msg):
    print(f'EXPORT CHECK FAILED: {msg}')
    sys.exit(1)


ALLOWED_GLOBALS = {'collections OrderedDict', 'torch._utils _rebuild_tensor_v2', 'torch FloatStorage'}
ALLOWED_OPCODES = {'PROTO', 'STOP', 'MARK', 'NONE', 'NEWTRUE', 'NEWFALSE', 'BININT', 'BININT1', 'BININT2',
                   'LONG1', 'BINFLOAT', 'BINUNICODE', 'EMPTY_TUPLE', 'TUPLE', 'TUPLE1', 'TUPLE2', 'TUPLE3',
                   'EMPTY_LIST', 'APPEND', 'APPENDS', 'EMPTY_DICT', 'SETITEM', 'SETITEMS', 'GLOBAL',
                   'REDUCE', 'BINPERSID', 'NEWOBJ', 'BUILD', 'BINPUT', 'LONG_BINPUT', 'BINGET', 'LONG_BINGET'}


def load_weights_only(path):
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as e:
        if int(torch.__version__.split('.')[0]) >= 2 or 'Unsupported operand 71' not in str(e):
            raise
    with zipfile.ZipFile(path) as z:
        pkl = z.read(next(n for n in z.namelist() if n.endswith('/data.pkl')))
    for op, arg, _ in pickletools.genops(pkl):
        if op.name not in ALLOWED_OPCODES:
            fail(f'opcode {op.name} is not one a weights-only unpickler accepts')
        if op.name == 'GLOBAL' and arg not in ALLOWED_GLOBALS:
            fail(f'global {arg} is not allowed under weights_only')
    print(f'torch {torch.__version__} cannot read floats under weights_only; opcodes and globals checked instead')
    return torch.load(path, map_location='cpu', weights_only=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('exported', nargs='?')
    ap.add_argument('--model', choices=['lift', 'baseline'], required=True)
    ap.add_argument('--inputs')
    ap.add_argument('--out')
    ap.add_argument('--list-keys', metavar='DIMS')
    ap.add_argument('--attn-min', type=int, default=128)
    ap.add_argument('--time-dims', default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.list_keys:
        for name, tensor in build(args.model, [int(d) for d in args.list_keys.split(',')]).state_dict().items():
            print(json.dumps([name, list(tensor.shape)]))
        return
    if not (args.exported and args.inputs and args.out):
        fail('EXPORTED, --inputs and --out are needed')

    ck = load_weights_only(args.exported)
    want = ['model_state', 'hidden_dims', 'losses', 'epochs', 'ema_decay']
    want += ['losses_64', 'losses_32'] if args.model == 'lift' else []
    missing = [k for k in want if k not in ck]
    if missing:
        fail(f'keys {missing} missing (has {sorted(ck)})')
    if not isinstance(ck['model_state'], collections.OrderedDict):
        fail(f'model_state is a {type(ck["model_state"]).__name__}, not an OrderedDict')
    if not isinstance(ck['epochs'], int) or not isinstance(ck['ema_decay'], float):
        fail('epochs is not an int or ema_decay not a float')
    lengths = {len(ck[k]) for k in want if k.startswith('losses')}
    if len(lengths) != 1:
        fail(f'the loss lists differ in length: {lengths}')
    sets = [('', ck['model_state'])]
    if 'ema_state' in ck:
        if set(ck['ema_state']) != {'decay', 'shadow'}:
            fail(f'ema_state has keys {sorted(ck["ema_state"])}')
        sets.append(('ema_', ck['ema_state']['shadow']))

    dims = list(ck['hidden_dims'])
    time_dims = tuple(int(s) for s in args.time_dims.split(',')) if args.time_dims else (None, None)
    arrays = dict(np.load(args.inputs))
    names = ['x64', 'x32', 't64', 't32'] if args.model == 'lift' else ['x', 't']
    inputs = [torch.from_numpy(arrays[n]).double() for n in names]
    out = {n: arrays[n] for n in names}
    for prefix, state in sets:
        model = build(args.model, dims, *time_dims, args.attn_min)
        model.load_state_dict(state, strict=True)
        model = model.double().eval()
        with torch.no_grad():
            result = model(*inputs)
        result = result if isinstance(result, tuple) else (result,)
        for name, tensor in zip(['eps64', 'eps32'] if args.model == 'lift' else ['eps'], result):
            out[prefix + name] = tensor.float().numpy()
        print(f'{prefix or "raw "}: {len(state)} tensors loaded strictly, outputs {[tuple(t.shape) for t in result]}')
    np.savez(args.out, **out)
    print(f'epochs {ck["epochs"]}, ema_decay {ck["ema_decay"]}, hidden_dims {dims}, {len(ck["losses"])} epoch losses')


if __name__ == '__main__':
    main()

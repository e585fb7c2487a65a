#!/usr/bin/python3
"""FID between two statistics files as pytorch-fid computes it: the test
`lift-analyze/tests/fid_stats.rs` hands it the `.npz` files `lift-analyze fid --save-stats` writes.

    /usr/bin/python3 bench/fid_stats_check.py SITE A.npz B.npz

SITE holds the unpacked pytorch-fid 0.3.0 wheel (`cargo xtask test` puts it in artifacts/python).
The files are opened as pytorch-fid's `_compute_statistics_of_path` opens an `.npz`
(`np.load(path)`, `f['mu'][:]`, `f['sigma'][:]`) and given to its `calculate_frechet_distance`;
prints the distance with 17 significant digits. Only that function is used, so the package's image
pipeline (torchvision, its Inception download) is stubbed out.
"""
import sys
import types

import numpy as np


class Stub(types.ModuleType):
    """A module whose every attribute is another stub: satisfies imports nobody calls."""

    def __getattr__(self, name):
        return Stub(name)

    def __iter__(self):
        return iter(())


def main():
    site, a, b = sys.argv[1:4]
    sys.path.insert(0, site)
    for name in ["torchvision", "torchvision.transforms", "pytorch_fid.inception"]:
        sys.modules[name] = Stub(name)
    from pytorch_fid.fid_score import calculate_frechet_distance
    stats = []
    for path in (a, b):
        with np.load(path) as f:
            stats.append((f['mu'][:], f['sigma'][:]))
    (m1, s1), (m2, s2) = stats
    print(f'{calculate_frechet_distance(m1, s1, m2, s2):.17g}')


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""FID and KID of small feature sets by the reference implementations themselves: pytorch-fid's
`calculate_frechet_distance` on `np.mean` / `np.cov(rowvar=False)` statistics, and torch-fidelity's
`kid_features_to_metric` (one subset of every image, so the subset draw cannot matter: the unbiased
MMD² does not depend on the order of the rows). Writes lift-analyze/tests/fixtures/fid_reference.json,
which `lift-analyze/tests/fid_reference.rs` compares with our statistics, distance and KID.

Only the metric functions are used, so the packages' image pipelines (torchvision, Inception
downloads) are stubbed out. Setup (PyPI wheels unpacked beside Debian's numpy, scipy, torch, tqdm):

    apt-get install python3-numpy python3-scipy python3-torch python3-tqdm
    python3 -m pip download --no-deps pytorch-fid==0.3.0 torch-fidelity==0.3.0 -d /tmp/wheels
    mkdir -p /tmp/site && for w in /tmp/wheels/*.whl; do python3 -m zipfile -e "$w" /tmp/site; done
    python3 bench/fid_reference.py /tmp/site [out.json]
"""
import json, math, os, sys, types


class Stub(types.ModuleType):
    """A module whose every attribute is another stub: satisfies imports nobody calls."""

    def __getattr__(self, name):
        return Stub(name)

    def __iter__(self):
        return iter(())


def load_references(site):
    sys.path.insert(0, site)
    for name in ["torchvision", "torchvision.transforms", "pytorch_fid.inception", "torch_fidelity.utils"]:
        sys.modules[name] = Stub(name)
    # torch-fidelity's __init__ imports every feature extractor: load the package without it.
    package = types.ModuleType("torch_fidelity")
    package.__path__ = [os.path.join(site, "torch_fidelity")]
    sys.modules["torch_fidelity"] = package
    from pytorch_fid.fid_score import calculate_frechet_distance
    from torch_fidelity.metric_kid import kid_features_to_metric, KEY_METRIC_KID_MEAN
    return calculate_frechet_distance, kid_features_to_metric, KEY_METRIC_KID_MEAN


def features(n, d, seed, shift):
    """Deterministic f32-representable features: correlated, non-Gaussian, not centred."""
    import numpy as np
    rng = np.random.RandomState(seed)
    z = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) / math.sqrt(d)
    return (np.abs(z) + shift).astype(np.float32)


def main():
    import numpy as np
    import torch
    site = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "lift-analyze/tests/fixtures/fid_reference.json"
    frechet, kid, kid_mean = load_references(site)
    cases = []
    # Full-rank covariances (n > d) and singular ones (n < d, the low-rank path).
    for name, d, n_real, n_fake in [("full-rank", 16, 60, 48), ("singular", 40, 24, 24)]:
        real, fake = features(n_real, d, 1, 0.0), features(n_fake, d, 2, 0.3)
        stats = [(x.astype(np.float64).mean(axis=0), np.cov(x.astype(np.float64), rowvar=False)) for x in (real, fake)]
        fid = float(frechet(stats[0][0], stats[0][1], stats[1][0], stats[1][1]))
        m = min(n_real, n_fake)
        k = kid(torch.from_numpy(real[:m]), torch.from_numpy(fake[:m]), kid_subsets=1, kid_subset_size=m, rng_seed=0, verbose=False)
        cases.append({
            "name": name, "dim": d,
            "real": real.ravel().tolist(), "fake": fake.ravel().tolist(),
            "fid": fid, "kid_rows": m, "kid": float(k[kid_mean]),
            "trace_cov_real": float(np.trace(stats[0][1])),
        })
    with open(out, "w") as f:
        json.dump({"pytorch_fid": "0.3.0", "torch_fidelity": "0.3.0", "cases": cases}, f)
    print(f"wrote {out}: " + ", ".join(f"{c['name']} fid {c['fid']:.6f} kid {c['kid']:.6f}" for c in cases))


if __name__ == "__main__":
    main()

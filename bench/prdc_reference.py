#!/usr/bin/env python3
"""Precision, recall, density and coverage of small feature sets by the authors' own package:
`prdc` 0.2 (Naeem et al. 2020, NAVER; its precision and recall are Kynkäänniemi et al.'s) at k = 3
and k = 5. Writes lift-analyze/tests/fixtures/prdc_reference.json, which
`lift-analyze/tests/prdc_reference.rs` compares with ours.

The features are f32 values cast to f64 before `compute_prdc`, so that scikit-learn measures
distances in f64 as we do (on f32 input it would return f32 distances). Setup:

    apt-get install python3-numpy python3-sklearn
    python3 -m pip download --no-deps prdc==0.2 -d /tmp/wheels
    python3 -m zipfile -e /tmp/wheels/prdc-0.2-py3-none-any.whl /tmp/site
    python3 bench/prdc_reference.py /tmp/site [out.json]
"""
import json, os, sys

import numpy as np


def main():
    site = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "lift-analyze/tests/fixtures/prdc_reference.json")
    sys.path.insert(0, site)
    from prdc import compute_prdc

    rng = np.random.RandomState(7)
    dim = 16
    # Two overlapping clouds of different spread and size, as f32 values, so that every measure
    # lands strictly between 0 and 1 (density may exceed 1).
    real = rng.normal(0.0, 1.0, (60, dim)).astype(np.float32)
    fake = (rng.normal(0.4, 0.8, (45, dim))).astype(np.float32)
    cases = []
    for k in (3, 5):
        r = compute_prdc(real.astype(np.float64), fake.astype(np.float64), k)
        cases.append({"k": k, **{name: float(v) for name, v in r.items()}})
    with open(out, "w") as f:
        json.dump({"dim": dim, "real": real.ravel().tolist(), "fake": fake.ravel().tolist(), "cases": cases}, f)
    print(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main()

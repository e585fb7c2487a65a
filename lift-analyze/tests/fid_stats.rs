//! FID statistics files are pytorch-fid's: the `.npz` we write gives pytorch-fid's
//! `calculate_frechet_distance` (bench/fid_stats_check.py) the FID we compute, to 1e-6 relative.
//! Needs python3 with numpy and scipy and pytorch-fid unpacked by `cargo xtask test`; skipped
//! without them unless LIFT_REQUIRE_TORCH is set (CI).

use std::path::Path;
use std::process::Command;

use lift_analyze::fid::{frechet_distance, FeatureProtocol, Stats};
use lift_core::study::Resize;
use lift_core::PYTHON_REFERENCES;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Features with correlated, unequal variances (a full-rank, non-diagonal covariance).
fn features(n: usize, dim: usize, shift: f32, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let z: Vec<f32> = (0..dim).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        out.extend((0..dim).map(|j| z[j] * (1.0 + j as f32 / dim as f32) + 0.5 * z[(j + 1) % dim] + shift));
    }
    out
}

#[test]
fn our_npz_gives_pytorch_fid_our_distance() {
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(PYTHON_REFERENCES);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/fid_stats_check.py");
    let usable =
        |py: &str| Command::new(py).env("PYTHONPATH", &site).args(["-c", "import numpy, scipy, pytorch_fid"]).output().is_ok_and(|o| o.status.success());
    let Some(python) = ["/usr/bin/python3", "python3"].into_iter().find(|py| usable(py)) else {
        assert!(std::env::var_os("LIFT_REQUIRE_TORCH").is_none(), "no python3 with numpy, scipy and pytorch-fid in {}: run `cargo xtask test`", site.display());
        eprintln!("skipped: no python3 with numpy, scipy and pytorch-fid in {} (cargo xtask test fetches it)", site.display());
        return;
    };
    let dim = 96;
    let protocol = FeatureProtocol { resize: Resize::BicubicAntialias, resolution: 64 };
    let a = Stats { protocol: Some(protocol), ..Stats::from_features(&features(300, dim, 0.0, 1), dim).unwrap() };
    let b = Stats { protocol: Some(protocol), ..Stats::from_features(&features(250, dim, 0.1, 2), dim).unwrap() };
    let ours = frechet_distance(&a, &b);
    let dir = std::env::temp_dir().join(format!("lift-fid-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (pa, pb) = (dir.join("a.npz"), dir.join("b.npz"));
    a.save(&pa).unwrap();
    b.save(&pb).unwrap();
    let out = Command::new(python).env("PYTHONPATH", &site).arg(&script).arg(&site).arg(&pa).arg(&pb).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let theirs: f64 = text.trim().parse().unwrap();
    eprintln!("FID ours {ours:.12} pytorch-fid {theirs:.12}");
    assert!((ours - theirs).abs() <= 1e-6 * theirs, "ours {ours} vs pytorch-fid {theirs}");
    // And from the reloaded files, ours again.
    let reloaded = frechet_distance(&Stats::load(&pa).unwrap(), &Stats::load(&pb).unwrap());
    assert!((reloaded - ours).abs() <= 1e-9 * ours);
    std::fs::remove_dir_all(dir).unwrap();
}

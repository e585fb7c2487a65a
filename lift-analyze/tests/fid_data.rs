//! FID on real data: a folder against itself is ≈ 0; two halves of one vendor's emoji are apart,
//! two vendors' emoji further apart. Needs `cargo xtask data`, `cargo xtask data --vendor twitter`
//! and `cargo xtask fetch-inception` (CI runs all three and sets LIFT_REQUIRE_DATA).

use std::path::{Path, PathBuf};

use lift_analyze::fid::{frechet_distance, FeatureJob, Resize, Stats, DEFAULT_WEIGHTS, DIM};
use lift_core::{run_on, DeviceSpec};

const PER_SET: usize = 96;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn inputs() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let r = root();
    let (google, twitter, weights) = (r.join("artifacts/data/emoji-google-64"), r.join("artifacts/data/emoji-twitter-64"), r.join(DEFAULT_WEIGHTS));
    let missing: Vec<&PathBuf> = [&google, &twitter, &weights].into_iter().filter(|p| !p.exists()).collect();
    if missing.is_empty() {
        return Some((google, twitter, weights));
    }
    assert!(std::env::var_os("LIFT_REQUIRE_DATA").is_none(), "missing {missing:?}: run cargo xtask data / fetch-inception");
    eprintln!("skipped: missing {missing:?}");
    None
}

/// Every other image (even or odd positions) of a folder, first `PER_SET` of them.
fn half(dir: &Path, odd: bool) -> Vec<PathBuf> {
    let files = lift_core::data::list_images(dir).unwrap();
    files.into_iter().skip(odd as usize).step_by(2).take(PER_SET).collect()
}

#[test]
fn fid_separates_halves_from_vendors() {
    let Some((google, twitter, weights)) = inputs() else { return };
    let stats = |files: Vec<PathBuf>| {
        let job = FeatureJob { weights: weights.clone(), files, resolution: 64, resize: Resize::BicubicAntialias, batch: 16, label: "fid test".into() };
        Stats::from_features(&run_on(DeviceSpec::Cpu, job).unwrap().unwrap(), DIM).unwrap()
    };
    let (a, b, c) = (stats(half(&google, false)), stats(half(&google, true)), stats(half(&twitter, true)));
    let same = frechet_distance(&a, &a);
    let halves = frechet_distance(&a, &b);
    let vendors = frechet_distance(&a, &c);
    eprintln!("FID self {same:.6}, google halves {halves:.2}, google vs twitter {vendors:.2}");
    assert!(same.abs() < 1e-3, "{same}");
    assert!(halves > 1.0, "{halves}");
    assert!(vendors > 1.5 * halves, "halves {halves}, vendors {vendors}");
}

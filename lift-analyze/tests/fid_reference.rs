//! FID and KID end to end (features → statistics → distance) against the reference implementations
//! themselves: pytorch-fid 0.3.0's `calculate_frechet_distance` on `np.cov` statistics and
//! torch-fidelity 0.3.0's `kid_features_to_metric`, run by `bench/fid_reference.py` on small
//! committed feature sets — one with full-rank covariances and one with fewer images than features
//! (singular covariances: our low-rank path).

use lift_analyze::fid::kid::kid;
use lift_analyze::fid::{frechet_distance, Stats};

#[test]
fn fid_and_kid_match_pytorch_fid_and_torch_fidelity() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fid_reference.json");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let dim = case["dim"].as_u64().unwrap() as usize;
        let floats = |key: &str| -> Vec<f32> { serde_json::from_value(case[key].clone()).unwrap() };
        let (real, fake) = (floats("real"), floats("fake"));
        let (a, b) = (Stats::from_features(&real, dim).unwrap(), Stats::from_features(&fake, dim).unwrap());
        // np.cov's normalisation (N − 1), through its trace.
        let trace = case["trace_cov_real"].as_f64().unwrap();
        assert!((a.cov.trace() - trace).abs() <= 1e-9 * trace, "{name}: tr Σ {} vs numpy's {trace}", a.cov.trace());
        let (fid, expected) = (frechet_distance(&a, &b), case["fid"].as_f64().unwrap());
        assert!((fid - expected).abs() <= 1e-6 * expected, "{name}: FID {fid} vs pytorch-fid's {expected}");
        let m = case["kid_rows"].as_u64().unwrap() as usize;
        let k = kid(&real[..m * dim], &fake[..m * dim], dim, 1, m, 0).unwrap();
        // torch-fidelity keeps the features in f32 (its kernels too); ours are f64.
        let expected = case["kid"].as_f64().unwrap();
        assert!((k.mean - expected).abs() <= 1e-6 * expected.abs(), "{name}: KID {} vs torch-fidelity's {expected}", k.mean);
    }
}

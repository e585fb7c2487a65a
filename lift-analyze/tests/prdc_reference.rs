//! Precision, recall, density and coverage against the authors' `prdc` 0.2 package, run by
//! `bench/prdc_reference.py` on a committed feature set (60 real and 45 generated points in 16
//! dimensions) at k = 3 and k = 5.

use lift_analyze::fid::prdc::{prdc_at, Balls, Prdc, DC_NEIGHBOURS, PR_NEIGHBOURS};

#[test]
fn prdc_matches_the_prdc_package() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/prdc_reference.json");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let dim = r["dim"].as_u64().unwrap() as usize;
    let floats = |key: &str| -> Vec<f32> { serde_json::from_value(r[key].clone()).unwrap() };
    let (real, fake) = (floats("real"), floats("fake"));
    let mut at = std::collections::BTreeMap::new();
    for case in r["cases"].as_array().unwrap() {
        let k = case["k"].as_u64().unwrap() as usize;
        let ours = prdc_at(&real, &fake, dim, k).unwrap();
        let theirs: Prdc = serde_json::from_value(case.clone()).unwrap();
        for (name, a, b) in [
            ("precision", ours.precision, theirs.precision),
            ("recall", ours.recall, theirs.recall),
            ("density", ours.density, theirs.density),
            ("coverage", ours.coverage, theirs.coverage),
        ] {
            assert!((a - b).abs() <= 1e-9, "k = {k}: {name} {a} vs prdc's {b}");
        }
        at.insert(k, theirs);
    }
    // The study's combination: precision and recall at k = 3, density and coverage at k = 5.
    let both = Prdc::of(&Balls::study(&real, dim).unwrap(), &fake).unwrap();
    let (pr, dc) = (at[&PR_NEIGHBOURS], at[&DC_NEIGHBOURS]);
    assert!((both.precision - pr.precision).abs() <= 1e-9 && (both.recall - pr.recall).abs() <= 1e-9);
    assert!((both.density - dc.density).abs() <= 1e-9 && (both.coverage - dc.coverage).abs() <= 1e-9);
}

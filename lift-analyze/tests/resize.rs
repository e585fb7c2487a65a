//! The antialiased bicubic resize matches PyTorch 1.13's `F.interpolate(…, mode='bicubic',
//! antialias=True)`: every weight of the 16/32/64 → 299 matrices and one resized image.
//! Expected values: `bench/resize_reference.py` (torch, not this code), in
//! `tests/fixtures/resize_aa_reference.json`.

use std::path::Path;

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use lift_analyze::fid::resize::{resize_matrix, Resize, INCEPTION_SIZE};
use lift_core::model::resample::resample_separable;
use serde_json::Value;

fn fixture() -> Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/resize_aa_reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn antialias_weights_match_pytorch() {
    let fx = fixture();
    for n in [16usize, 32, 64] {
        let want = fx["weights"][n.to_string()].as_array().unwrap();
        let got = resize_matrix(Resize::BicubicAntialias, n, INCEPTION_SIZE);
        assert_eq!(want.len(), INCEPTION_SIZE);
        let mut worst = 0f64;
        for (o, row) in want.iter().enumerate() {
            for (i, w) in row.as_array().unwrap().iter().enumerate() {
                worst = worst.max((got[o * n + i] as f64 - w.as_f64().unwrap()).abs());
            }
        }
        // Torch's FMA build is matched exactly; its non-FMA build differs by up to 6.3e-7.
        assert!(worst <= 1e-6, "{n} → 299: weights differ by up to {worst}");
        // And it is not plain bicubic, which differs by up to ~0.065 per weight.
        let plain = resize_matrix(Resize::Bicubic, n, INCEPTION_SIZE);
        assert!(plain.iter().zip(&got).any(|(a, b)| (a - b).abs() > 0.01));
    }
}

#[test]
fn an_antialiased_image_matches_pytorch() {
    let fx = fixture();
    let case = &fx["image_64"]["resized"];
    // x[c, h, w] = 0.5 + 0.5·sin(0.05·(h·64 + w) + c), computed in f64, rounded to f32.
    let v: Vec<f32> = (0..3).flat_map(|c| (0..64 * 64).map(move |p| (0.5 + 0.5 * (0.05 * p as f64 + c as f64).sin()) as f32)).collect();
    let x = Tensor::<Flex, 4>::from_data(TensorData::new(v, [1, 3, 64, 64]), &Default::default());
    let m = resize_matrix(Resize::BicubicAntialias, 64, INCEPTION_SIZE);
    let y: Vec<f32> = resample_separable(x, &m, INCEPTION_SIZE, &m, INCEPTION_SIZE).into_data().to_vec().unwrap();
    let sum: f64 = y.iter().map(|v| *v as f64).sum();
    let sumsq: f64 = y.iter().map(|v| (*v as f64).powi(2)).sum();
    let (es, eq) = (case["sum"].as_f64().unwrap(), case["sumsq"].as_f64().unwrap());
    assert!((sum - es).abs() <= 1e-6 * es, "sum {sum} vs {es}");
    assert!((sumsq - eq).abs() <= 1e-6 * eq, "sumsq {sumsq} vs {eq}");
    let first = case["first"].as_array().unwrap().iter().enumerate().map(|(k, v)| (k, v.as_f64().unwrap()));
    let strided = case["strided_indices"].as_array().unwrap().iter().zip(case["strided"].as_array().unwrap());
    for (i, want) in first.chain(strided.map(|(i, v)| (i.as_u64().unwrap() as usize, v.as_f64().unwrap()))) {
        assert!((y[i] as f64 - want).abs() <= 1e-6, "[{i}]: {} vs {want}", y[i]);
    }
}

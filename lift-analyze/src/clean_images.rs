//! Clean images for analysis, drawn from a run's training split, and seeded re-noising.

use std::path::Path;

use anyhow::{bail, Result};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor, TensorData};
use lift_core::data::{average_2x2, coarse_side, ImageSet};
use lift_core::schedule::add_noise;
use lift_core::seed::seeded_tensor;
use lift_core::LiftConfig;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Clean images at both scales.
pub struct Images<B: Backend> {
    /// `[n, 3, res, res]` in [−1, 1].
    pub x64: Tensor<B, 4>,
    /// `[n, 3, res/2, res/2]`, the 2×2 average of `x64`.
    pub x32: Tensor<B, 4>,
}

/// `count` images of the training split a run with `config` used, chosen by `seed`.
pub fn training_images<B: Backend>(data: &Path, config: &LiftConfig, count: usize, seed: u64, device: &B::Device) -> Result<Images<B>> {
    let set = ImageSet::load(data, config.model.resolution, true)?;
    let (mut train, _) = set.split(config.train.validation_fraction, config.train.seed);
    if train.len() < count {
        bail!("{} has {} training images; {count} were asked for", data.display(), train.len());
    }
    train.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    Ok(images_at(&set, &train[..count], device))
}

/// The images at `indices` as tensors.
pub fn images_at<B: Backend>(set: &ImageSet, indices: &[usize], device: &B::Device) -> Images<B> {
    let r = set.resolution();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for &i in indices {
        let chw = set.chw(i);
        b.extend(average_2x2(&chw, r));
        a.extend(chw);
    }
    let n = indices.len();
    Images {
        x64: Tensor::from_data(TensorData::new(a, [n, 3, r, r]), device),
        x32: Tensor::from_data(TensorData::new(b, [n, 3, coarse_side(r), coarse_side(r)]), device),
    }
}

/// Standard normal noise of `shape`, from `seed`, drawn on the host (backend-independent).
pub fn gaussian<B: Backend>(shape: [usize; 4], seed: u64, device: &B::Device) -> Tensor<B, 4> {
    seeded_tensor(shape, Distribution::Normal(0.0, 1.0), seed, device)
}

/// √ᾱ·x₀ + √(1−ᾱ)·ε with ε from `seed`.
pub fn noised<B: Backend>(x0: Tensor<B, 4>, alpha_bar: f64, seed: u64) -> Tensor<B, 4> {
    let eps = gaussian::<B>(x0.dims(), seed, &x0.device());
    add_noise(x0, eps, alpha_bar)
}

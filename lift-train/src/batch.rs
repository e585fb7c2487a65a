//! Batches for training: clean images are noised at independent timesteps per scale with noise
//! drawn from a per-sample seed, so a batch depends only on (seed, epoch, image) — never on the
//! backend, the batch composition or whether the run was resumed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::tensor::{backend::Backend, Tensor, TensorData};
use lift_core::NoiseSchedule;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::data::ImageSet;

/// Noised inputs and their targets. The baseline reads only the 64×64 fields.
#[derive(Debug, Clone)]
pub struct NoisedBatch<B: Backend> {
    /// x₆₄ at timestep t₆₄, `[batch, 3, res, res]`.
    pub x64: Tensor<B, 4>,
    /// x₃₂ (2×2 average of the clean x₆₄) at timestep t₃₂, `[batch, 3, res/2, res/2]`.
    pub x32: Tensor<B, 4>,
    /// The noise added at each scale.
    pub eps64: Tensor<B, 4>,
    pub eps32: Tensor<B, 4>,
    /// Timesteps, `[batch]`.
    pub t64: Tensor<B, 1>,
    pub t32: Tensor<B, 1>,
}

/// SplitMix64 finaliser: decorrelates nearby seeds.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Everything needed to turn (image index, seed) into a training example.
#[derive(Debug)]
pub struct NoiseSource {
    pub images: Arc<ImageSet>,
    pub schedule: NoiseSchedule,
}

/// One example on the host: CHW floats.
struct Example {
    x64: Vec<f32>,
    x32: Vec<f32>,
    eps64: Vec<f32>,
    eps32: Vec<f32>,
    t64: usize,
    t32: usize,
}

/// 2×2 average of a CHW image (= bilinear, align_corners = false, for an exact halving).
pub fn average_2x2(chw: &[f32], resolution: usize) -> Vec<f32> {
    let (r, h) = (resolution, resolution / 2);
    let mut out = vec![0f32; 3 * h * h];
    for c in 0..3 {
        for y in 0..h {
            for x in 0..h {
                let at = |yy: usize, xx: usize| chw[c * r * r + yy * r + xx];
                out[c * h * h + y * h + x] =
                    (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4.0;
            }
        }
    }
    out
}

impl NoiseSource {
    fn example(&self, image: usize, seed: u64) -> Example {
        let r = self.images.resolution;
        let clean64 = self.images.chw(image);
        let clean32 = average_2x2(&clean64, r);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let t = self.schedule.len();
        let (t64, t32) = (rng.random_range(0..t), rng.random_range(0..t));
        let mut normals = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.sample(StandardNormal)).collect() };
        let eps64 = normals(clean64.len());
        let eps32 = normals(clean32.len());
        let noise = |clean: &[f32], eps: &[f32], t: usize| -> Vec<f32> {
            let a = self.schedule.alpha_bar(t);
            let (sa, s1a) = (a.sqrt() as f32, (1.0 - a).sqrt() as f32);
            clean.iter().zip(eps).map(|(x, e)| sa * x + s1a * e).collect()
        };
        Example { x64: noise(&clean64, &eps64, t64), x32: noise(&clean32, &eps32, t32), eps64, eps32, t64, t32 }
    }

    /// The batch for (image, seed) pairs.
    pub fn batch<B: Backend>(&self, items: &[(usize, u64)], device: &B::Device) -> NoisedBatch<B> {
        let examples: Vec<Example> = items.iter().map(|&(i, s)| self.example(i, s)).collect();
        let (n, r) = (examples.len(), self.images.resolution);
        let stack = |f: fn(&Example) -> &Vec<f32>, side: usize| {
            let data: Vec<f32> = examples.iter().flat_map(|e| f(e).iter().copied()).collect();
            Tensor::<B, 4>::from_data(TensorData::new(data, [n, 3, side, side]), device)
        };
        let times = |f: fn(&Example) -> usize| {
            let data: Vec<f32> = examples.iter().map(|e| f(e) as f32).collect();
            Tensor::<B, 1>::from_data(TensorData::new(data, [n]), device)
        };
        NoisedBatch {
            x64: stack(|e| &e.x64, r),
            x32: stack(|e| &e.x32, r / 2),
            eps64: stack(|e| &e.eps64, r),
            eps32: stack(|e| &e.eps32, r / 2),
            t64: times(|e| e.t64),
            t32: times(|e| e.t32),
        }
    }
}

/// A data loader that knows the epoch: training reshuffles and redraws noise per epoch from
/// (seed, epoch); validation keeps one order and one noise draw so its loss is comparable.
pub struct EpochLoader<B: Backend> {
    source: Arc<NoiseSource>,
    indices: Arc<Vec<usize>>,
    /// Items per epoch (fewer than `indices` when epochs are capped).
    per_epoch: usize,
    batch_size: usize,
    seed: u64,
    vary_per_epoch: bool,
    next_epoch: Arc<AtomicUsize>,
    device: B::Device,
}

impl<B: Backend> EpochLoader<B> {
    /// Training loader over `indices`, starting at `first_epoch` (1-based; k+1 when resuming from k).
    /// `max_batches` > 0 caps the batches per epoch (each epoch draws its own subset).
    pub fn train(
        source: Arc<NoiseSource>,
        indices: Vec<usize>,
        batch_size: usize,
        max_batches: usize,
        seed: u64,
        first_epoch: usize,
        device: B::Device,
    ) -> Self {
        let mut loader = Self::new(source, indices, batch_size, seed, true, first_epoch, device);
        if max_batches > 0 {
            loader.per_epoch = loader.per_epoch.min(max_batches * batch_size);
        }
        loader
    }

    /// Validation loader: fixed order and noise.
    pub fn valid(source: Arc<NoiseSource>, indices: Vec<usize>, batch_size: usize, seed: u64, device: B::Device) -> Self {
        Self::new(source, indices, batch_size, seed, false, 1, device)
    }

    fn new(
        source: Arc<NoiseSource>,
        indices: Vec<usize>,
        batch_size: usize,
        seed: u64,
        vary_per_epoch: bool,
        first_epoch: usize,
        device: B::Device,
    ) -> Self {
        Self {
            source,
            per_epoch: indices.len(),
            indices: Arc::new(indices),
            batch_size,
            seed,
            vary_per_epoch,
            next_epoch: Arc::new(AtomicUsize::new(first_epoch)),
            device,
        }
    }

    /// The (image, seed) pairs of an epoch, in batch order.
    pub fn epoch_items(&self, epoch: usize) -> Vec<(usize, u64)> {
        let epoch_seed = if self.vary_per_epoch { mix(self.seed, epoch as u64) } else { mix(self.seed, u64::MAX) };
        let mut order: Vec<usize> = self.indices.as_ref().clone();
        if self.vary_per_epoch {
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(epoch_seed));
        }
        order.truncate(self.per_epoch);
        order.into_iter().map(|i| (i, mix(epoch_seed, i as u64))).collect()
    }

    /// The batch at position `k` of `epoch`, for tests and fixed-batch evaluation.
    pub fn batch_of(&self, epoch: usize, k: usize) -> NoisedBatch<B> {
        let items = self.epoch_items(epoch);
        let end = ((k + 1) * self.batch_size).min(items.len());
        self.source.batch(&items[k * self.batch_size..end], &self.device)
    }
}

struct EpochIter<'a, B: Backend> {
    loader: &'a EpochLoader<B>,
    items: Vec<(usize, u64)>,
    position: usize,
}

impl<B: Backend> Iterator for EpochIter<'_, B> {
    type Item = NoisedBatch<B>;
    fn next(&mut self) -> Option<NoisedBatch<B>> {
        if self.position >= self.items.len() {
            return None;
        }
        let end = (self.position + self.loader.batch_size).min(self.items.len());
        let batch = self.loader.source.batch(&self.items[self.position..end], &self.loader.device);
        self.position = end;
        Some(batch)
    }
}

impl<B: Backend> DataLoaderIterator<NoisedBatch<B>> for EpochIter<'_, B> {
    fn progress(&self) -> Progress {
        Progress::new(self.position, self.items.len())
    }
}

impl<B: Backend> DataLoader<B, NoisedBatch<B>> for EpochLoader<B> {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<NoisedBatch<B>> + 'a> {
        let epoch = self.next_epoch.fetch_add(1, Ordering::SeqCst);
        Box::new(EpochIter { loader: self, items: self.epoch_items(epoch), position: 0 })
    }

    fn num_items(&self) -> usize {
        self.per_epoch
    }

    fn to_device(&self, device: &B::Device) -> Arc<dyn DataLoader<B, NoisedBatch<B>>> {
        Arc::new(Self { device: device.clone(), ..self.shallow_clone() })
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<B, NoisedBatch<B>>> {
        let indices = Arc::new(self.indices[start..end].to_vec());
        Arc::new(Self { per_epoch: indices.len(), indices, ..self.shallow_clone() })
    }
}

impl<B: Backend> EpochLoader<B> {
    fn shallow_clone(&self) -> Self {
        Self {
            source: self.source.clone(),
            indices: self.indices.clone(),
            per_epoch: self.per_epoch,
            batch_size: self.batch_size,
            seed: self.seed,
            vary_per_epoch: self.vary_per_epoch,
            next_epoch: self.next_epoch.clone(),
            device: self.device.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_matches_hand_values() {
        // One 2×2 channel block repeated: mean of 1, 2, 3, 4 is 2.5.
        let mut chw = vec![0f32; 12];
        for c in 0..3 {
            chw[c * 4..c * 4 + 4].copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
        }
        assert_eq!(average_2x2(&chw, 2), vec![2.5, 2.5, 2.5]);
    }

    #[test]
    fn seeds_are_decorrelated_and_stable() {
        assert_ne!(mix(1, 2), mix(2, 1));
        assert_ne!(mix(0, 0), mix(0, 1));
        assert_eq!(mix(42, 7), mix(42, 7));
    }
}

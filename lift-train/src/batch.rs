//! Batches for training: clean images are noised at independent timesteps per scale with noise
//! drawn from a per-sample seed, so a batch depends only on (seed, epoch, image) — never on the
//! backend, the batch composition or whether the run was resumed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::tensor::{backend::Backend, Tensor, TensorData};
use lift_core::config::TrainConfig;
use lift_core::data::{average_2x2, coarse_side, ImageSet};
use lift_core::noise_alignment::CoarseTimestep;
use lift_core::schedule::add_noise_host;
use lift_core::seed::mix;
use lift_core::NoiseSchedule;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Noised inputs and their targets. The baseline reads only the fine-scale fields.
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

impl<B: Backend> NoisedBatch<B> {
    /// Images `range` of the batch.
    pub fn part(&self, range: std::ops::Range<usize>) -> Self {
        let p4 = |t: &Tensor<B, 4>| t.clone().slice([range.clone()]);
        let p1 = |t: &Tensor<B, 1>| t.clone().slice([range.clone()]);
        Self { x64: p4(&self.x64), x32: p4(&self.x32), eps64: p4(&self.eps64), eps32: p4(&self.eps32), t64: p1(&self.t64), t32: p1(&self.t32) }
    }
}

/// Everything needed to turn (image index, seed) into a training example.
#[derive(Debug)]
pub struct NoiseSource {
    pub images: Arc<ImageSet>,
    pub schedule: NoiseSchedule,
    /// How t₃₂ follows t₆₄ (`train.noise_alignment`).
    pub coarse: CoarseTimestep,
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

impl NoiseSource {
    /// Examples with LIFT's independent timesteps.
    pub fn new(images: Arc<ImageSet>, schedule: NoiseSchedule) -> Self {
        Self { images, schedule, coarse: CoarseTimestep::Independent }
    }

    /// The same examples with t₃₂ drawn by `coarse`.
    pub fn aligned(self, coarse: CoarseTimestep) -> Self {
        Self { coarse, ..self }
    }

    fn example(&self, image: usize, seed: u64) -> Example {
        let r = self.images.resolution();
        let clean64 = self.images.chw(image);
        let clean32 = average_2x2(&clean64, r);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let t = self.schedule.len();
        // Both draws always happen, so that every rule sees the same noise.
        let (t64, drawn) = (rng.random_range(0..t), rng.random_range(0..t));
        let t32 = self.coarse.t32(t64, drawn, t);
        let mut normals = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.sample(StandardNormal)).collect() };
        let eps64 = normals(clean64.len());
        let eps32 = normals(clean32.len());
        let noise = |clean: &[f32], eps: &[f32], t: usize| add_noise_host(clean, eps, self.schedule.alpha_bar(t));
        Example { x64: noise(&clean64, &eps64, t64), x32: noise(&clean32, &eps32, t32), eps64, eps32, t64, t32 }
    }

    /// The batch for (image, seed) pairs.
    pub fn batch<B: Backend>(&self, items: &[(usize, u64)], device: &B::Device) -> NoisedBatch<B> {
        let examples: Vec<Example> = items.iter().map(|&(i, s)| self.example(i, s)).collect();
        let (n, r) = (examples.len(), self.images.resolution());
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
            x32: stack(|e| &e.x32, coarse_side(r)),
            eps64: stack(|e| &e.eps64, r),
            eps32: stack(|e| &e.eps32, coarse_side(r)),
            t64: times(|e| e.t64),
            t32: times(|e| e.t32),
        }
    }
}

/// Optimiser steps per epoch over `n` training images: whole (accumulated) batches only with
/// `drop_last` (the original), capped by `max_batches_per_epoch`.
pub fn steps_per_epoch(n: usize, train: &TrainConfig) -> usize {
    let per_step = train.batch_size * train.accumulate.max(1);
    let steps = if train.drop_last { n / per_step } else { n.div_ceil(per_step) };
    match train.max_batches_per_epoch {
        0 => steps,
        cap => steps.min(cap),
    }
}

/// Micro-batches per epoch: `accumulate` per optimiser step.
pub fn batches_per_epoch(n: usize, train: &TrainConfig) -> usize {
    steps_per_epoch(n, train) * train.accumulate.max(1)
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
    /// Data-parallel split: this loader yields part `part.0` of `part.1` of every batch.
    part: (usize, usize),
    /// How many parts [`DataLoader::slice`] cuts (the devices of a multi-device run).
    parts: usize,
    device: B::Device,
}

impl<B: Backend> EpochLoader<B> {
    /// Training loader over `indices` with `train`'s batch size, seed, batch cap (each capped epoch
    /// draws its own subset) and `drop_last`, starting at `first_epoch` (1-based; k+1 when
    /// resuming from k).
    pub fn train(source: Arc<NoiseSource>, indices: Vec<usize>, train: &TrainConfig, first_epoch: usize, device: B::Device) -> Self {
        let n = indices.len();
        let mut loader = Self::new(source, indices, train.batch_size, train.seed, true, first_epoch, device);
        loader.per_epoch = batches_per_epoch(n, train) * train.batch_size;
        loader.per_epoch = loader.per_epoch.min(n);
        loader
    }

    /// Validation loader: fixed order and noise.
    pub fn valid(source: Arc<NoiseSource>, indices: Vec<usize>, batch_size: usize, seed: u64, device: B::Device) -> Self {
        Self::new(source, indices, batch_size, seed, false, 1, device)
    }

    fn new(source: Arc<NoiseSource>, indices: Vec<usize>, batch_size: usize, seed: u64, vary_per_epoch: bool, first_epoch: usize, device: B::Device) -> Self {
        Self {
            source,
            per_epoch: indices.len(),
            indices: Arc::new(indices),
            batch_size,
            seed,
            vary_per_epoch,
            next_epoch: Arc::new(AtomicUsize::new(first_epoch)),
            part: (0, 1),
            parts: 1,
            device,
        }
    }

    /// Splits into `devices` parts when Burn's multi-device training slices this loader: part
    /// d yields the d-th `batch_size / devices` items of each batch, so the devices together see
    /// exactly the batches of one device.
    pub fn for_devices(mut self, devices: usize) -> Self {
        self.parts = devices.max(1);
        self
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

    /// This loader's batches of `epoch`: whole batches, or this part of each.
    pub fn epoch_batches(&self, epoch: usize) -> Vec<Vec<(usize, u64)>> {
        let (d, n) = self.part;
        self.epoch_items(epoch)
            .chunks(self.batch_size)
            // Split over n devices, a short last batch of fewer than n images is dropped: every
            // device must take part in every step (an epoch ends when each reports its last item).
            .filter(|b| b.len() >= n)
            .map(|b| b[d * b.len() / n..(d + 1) * b.len() / n].to_vec())
            .collect()
    }

    /// The batch at position `k` of `epoch`, for tests and fixed-batch evaluation.
    pub fn batch_of(&self, epoch: usize, k: usize) -> NoisedBatch<B> {
        self.source.batch(&self.epoch_batches(epoch)[k], &self.device)
    }
}

struct EpochIter<'a, B: Backend> {
    loader: &'a EpochLoader<B>,
    batches: Vec<Vec<(usize, u64)>>,
    position: usize,
    items_done: usize,
}

impl<B: Backend> Iterator for EpochIter<'_, B> {
    type Item = NoisedBatch<B>;
    fn next(&mut self) -> Option<NoisedBatch<B>> {
        let items = self.batches.get(self.position)?;
        self.position += 1;
        self.items_done += items.len();
        Some(self.loader.source.batch(items, &self.loader.device))
    }
}

impl<B: Backend> DataLoaderIterator<NoisedBatch<B>> for EpochIter<'_, B> {
    fn progress(&self) -> Progress {
        Progress::new(self.items_done, self.batches.iter().map(Vec::len).sum())
    }
}

impl<B: Backend> DataLoader<B, NoisedBatch<B>> for EpochLoader<B> {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<NoisedBatch<B>> + 'a> {
        let epoch = self.next_epoch.fetch_add(1, Ordering::SeqCst);
        Box::new(EpochIter { loader: self, batches: self.epoch_batches(epoch), position: 0, items_done: 0 })
    }

    fn num_items(&self) -> usize {
        let (d, n) = self.part;
        // Whole batches split as in `epoch_batches`; the short last one too, if it splits.
        let whole = self.per_epoch / self.batch_size;
        let last = Some(self.per_epoch % self.batch_size).filter(|&l| l >= n).unwrap_or(0);
        whole * ((d + 1) * self.batch_size / n - d * self.batch_size / n) + ((d + 1) * last / n - d * last / n)
    }

    fn to_device(&self, device: &B::Device) -> Arc<dyn DataLoader<B, NoisedBatch<B>>> {
        Arc::new(Self { device: device.clone(), ..self.shallow_clone() })
    }

    /// Burn's `split_dataloader` cuts `[0, num_items)` into equal ranges, one per device: range
    /// d becomes part d of every batch (see [`for_devices`](Self::for_devices)), with its own
    /// epoch counter so that each part walks the epochs once.
    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<B, NoisedBatch<B>>> {
        let epoch = Arc::new(AtomicUsize::new(self.next_epoch.load(Ordering::SeqCst)));
        if self.parts > 1 && self.part == (0, 1) {
            let d = (start / (self.num_items() / self.parts).max(1)).min(self.parts - 1);
            return Arc::new(Self { part: (d, self.parts), next_epoch: epoch, ..self.shallow_clone() });
        }
        // Not a device split: a plain range of the images, keeping the epoch cap.
        let indices = Arc::new(self.indices[start.min(self.indices.len())..end.min(self.indices.len())].to_vec());
        Arc::new(Self { per_epoch: self.per_epoch.min(indices.len()), indices, next_epoch: epoch, ..self.shallow_clone() })
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
            part: self.part,
            parts: self.parts,
            device: self.device.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::data::dataloader::split::split_dataloader;
    use lift_core::LiftConfig;

    #[test]
    fn drop_last_keeps_whole_batches_only() {
        // docs/protocol.md: 15,803 images in batches of 64 give 246 batches (59 images dropped).
        let mut t = LiftConfig::from_toml(include_str!("../../configs/paper.toml")).unwrap().train;
        assert!(t.drop_last && t.validation_fraction == 0.0, "the paper preset trains as the original");
        assert_eq!(batches_per_epoch(15_803, &t), 246);
        t.drop_last = false;
        assert_eq!(batches_per_epoch(15_803, &t), 247);
        t.max_batches_per_epoch = 4;
        assert_eq!(batches_per_epoch(15_803, &t), 4);
        t.drop_last = true;
        t.max_batches_per_epoch = 0;
        assert_eq!(batches_per_epoch(63, &t), 0);
        // Accumulating 4 micro-batches of 16: whole steps of 64 images, 4 micro-batches each.
        (t.batch_size, t.accumulate) = (16, 4);
        assert_eq!((steps_per_epoch(15_803, &t), batches_per_epoch(15_803, &t)), (246, 984));
    }

    #[test]
    fn noise_alignment_changes_only_the_coarse_timestep_and_its_noising() {
        let images = Arc::new(ImageSet::from_pixels(2, (0..6).map(|k| vec![40 * k as u8; 12]).collect()).unwrap());
        let items: Vec<(usize, u64)> = (0..6).map(|k| (k, 1000 + k as u64)).collect();
        let batch = |coarse: CoarseTimestep| {
            NoiseSource::new(images.clone(), NoiseSchedule::reference()).aligned(coarse).batch::<burn::backend::Flex>(&items, &Default::default())
        };
        let values = |t: &Tensor<burn::backend::Flex, 1>| t.clone().into_data().to_vec::<f32>().unwrap();
        let (free, same, scaled) = (batch(CoarseTimestep::Independent), batch(CoarseTimestep::Same), batch(CoarseTimestep::Scaled(0.8)));
        let t64 = values(&free.t64);
        assert_eq!(values(&same.t64), t64, "t₆₄ is drawn the same way under every rule");
        assert_eq!(values(&same.t32), t64);
        assert_eq!(values(&scaled.t32), t64.iter().map(|t| (0.8 * *t as f64).floor() as f32).collect::<Vec<_>>());
        assert_ne!(values(&free.t32), t64);
        // The noise is the same draw; only x₃₂ is noised to another level.
        assert_eq!(free.eps32.clone().into_data(), same.eps32.clone().into_data());
        assert_eq!(free.x64.clone().into_data(), same.x64.clone().into_data());
    }

    #[test]
    fn a_dropping_loader_yields_whole_batches_of_a_new_subset_each_epoch() {
        let images = ImageSet::from_pixels(2, (0..10).map(|k| vec![k as u8; 12]).collect()).unwrap();
        let source = Arc::new(NoiseSource::new(Arc::new(images), NoiseSchedule::reference()));
        let mut t = LiftConfig::from_toml(include_str!("../../configs/paper.toml")).unwrap().train;
        t.batch_size = 4;
        let loader = EpochLoader::<burn::backend::Flex>::train(source, (0..10).collect(), &t, 1, Default::default());
        let (e1, e2) = (loader.epoch_items(1), loader.epoch_items(2));
        assert_eq!((e1.len(), e2.len()), (8, 8));
        assert_ne!(e1.iter().map(|p| p.0).collect::<Vec<_>>(), e2.iter().map(|p| p.0).collect::<Vec<_>>());
        let sizes: Vec<usize> = loader.iter().map(|b| b.x64.dims()[0]).collect();
        assert_eq!(sizes, [4, 4]);
    }

    #[test]
    fn a_device_split_gives_each_device_its_part_of_every_batch_once_per_epoch() {
        let images = ImageSet::from_pixels(2, (0..10).map(|k| vec![k as u8; 12]).collect()).unwrap();
        let source = Arc::new(NoiseSource::new(Arc::new(images), NoiseSchedule::reference()));
        let mut t = LiftConfig::from_toml(include_str!("../../configs/paper.toml")).unwrap().train;
        (t.batch_size, t.max_batches_per_epoch) = (4, 0);
        let one = EpochLoader::<burn::backend::Flex>::train(source.clone(), (0..10).collect(), &t, 1, Default::default());
        let loader = Arc::new(EpochLoader::<burn::backend::Flex>::train(source.clone(), (0..10).collect(), &t, 1, Default::default()).for_devices(2));
        let parts = split_dataloader::<burn::backend::Flex, _>(loader, &[Default::default(), Default::default()]);
        for epoch in 1..=2 {
            let seen: Vec<Vec<f32>> = parts.iter().map(|p| p.iter().flat_map(|b| b.eps64.into_data().to_vec::<f32>().unwrap()).collect()).collect();
            // Part 0 holds the first half of each of the two batches, part 1 the second.
            let whole: Vec<Vec<f32>> = (0..2).map(|k| one.batch_of(epoch, k).eps64.into_data().to_vec::<f32>().unwrap()).collect();
            let half = whole[0].len() / 2;
            assert_eq!(seen[0], [&whole[0][..half], &whole[1][..half]].concat(), "epoch {epoch}");
            assert_eq!(seen[1], [&whole[0][half..], &whole[1][half..]].concat(), "epoch {epoch}");
        }
        assert_eq!(parts.iter().map(|p| p.num_items()).sum::<usize>(), 8);
        // Without drop_last, a last batch of one image cannot be split over two devices.
        t.drop_last = false;
        let short = EpochLoader::<burn::backend::Flex>::train(source.clone(), (0..9).collect(), &t, 1, Default::default()).for_devices(2);
        let parts = split_dataloader::<burn::backend::Flex, _>(Arc::new(short), &[Default::default(), Default::default()]);
        let sizes: Vec<Vec<usize>> = parts.iter().map(|p| p.iter().map(|b| b.x64.dims()[0]).collect()).collect();
        assert_eq!(sizes, [[2, 2], [2, 2]]);
        assert_eq!(parts.iter().map(|p| p.num_items()).sum::<usize>(), 8);
    }
}

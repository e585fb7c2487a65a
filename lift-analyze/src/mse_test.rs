//! The write-up's MSE tests of the LIFT model's noise prediction: test 1 (both scales noisy),
//! 2a (clean coarse + noisy fine) and 2b (clean fine + noisy coarse; the paper's 64×64 and 32×32),
//! under the original's protocol (`docs/protocol.md`, "MSE tests") or the in-distribution
//! variant [`MseProtocol::NoisedT0`].

use std::path::PathBuf;

use anyhow::{bail, Result};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};
use lift_core::data::ImageSet;
use lift_core::run::{load_run, Trained, Weights};
use lift_core::seed::mix;
use lift_core::study::MseProtocol;
use lift_core::timesteps::timestep_tensor;
use lift_core::{BackendTask, LiftUNet, NoiseSchedule};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::clean_images::{gaussian, images_at, Images};
use crate::plot::{bar_chart, BarChart, Group};

/// The original's loader batch: it stops at the first whole batch reaching the requested count.
pub const REFERENCE_BATCH: usize = 32;

/// What `lift-analyze mse-test` was asked to do.
#[derive(Debug, Clone)]
pub struct MseJob {
    pub run: PathBuf,
    pub weights: Weights,
    pub data: PathBuf,
    pub timestep: usize,
    pub samples: usize,
    pub protocol: MseProtocol,
    pub seed: u64,
    /// Images per forward pass (does not change the numbers).
    pub batch: usize,
}

/// One test's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MseTest {
    pub name: String,
    pub description: String,
    /// Timestep of the fine scale (named by the paper's 64×64), 0 when clean.
    pub t64: usize,
    /// Timestep of the coarse scale (the paper's 32×32), 0 when clean.
    pub t32: usize,
    /// The fine scale's noise-prediction MSE.
    pub mse_64: f64,
    /// The coarse scale's noise-prediction MSE.
    pub mse_32: f64,
    /// Mean of the two scales' MSE.
    pub mse_total: f64,
}

/// All three tests.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MseReport {
    pub timestep: usize,
    /// Side of the fine scale (0 in reports written before it was recorded).
    #[serde(default)]
    pub resolution: usize,
    /// Images each test saw.
    pub samples: usize,
    pub protocol: MseProtocol,
    pub checkpoint: String,
    pub weights: Weights,
    pub tests: Vec<MseTest>,
}

/// Which scale a test keeps clean.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Clean {
    Neither,
    Coarse,
    Fine,
}

impl Clean {
    /// (t_fine, t_coarse) of a test at noise level `t`: the clean scale is labelled 0.
    fn labels(self, t: usize) -> (usize, usize) {
        match self {
            Self::Neither => (t, t),
            Self::Coarse => (t, 0),
            Self::Fine => (0, t),
        }
    }
}

/// The images the tests use: the training split in data-set order, whole batches of 32 until the
/// count is reached (reference), or `samples` drawn at random by `seed`.
pub fn test_images(set: &ImageSet, train: &[usize], samples: usize, protocol: MseProtocol, seed: u64) -> Vec<usize> {
    let mut idx = train.to_vec();
    match protocol {
        MseProtocol::Reference => {
            idx.sort_unstable();
            idx.truncate(samples.div_ceil(REFERENCE_BATCH) * REFERENCE_BATCH);
        }
        MseProtocol::NoisedT0 => {
            idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
            idx.truncate(samples);
        }
    }
    debug_assert!(idx.iter().all(|&i| i < set.len()));
    idx
}

/// Squared-error sums and element counts of one batch, per scale.
fn batch_errors<B: Backend>(
    model: &LiftUNet<B>,
    schedule: &NoiseSchedule,
    x0: Images<B>,
    (t, clean): (usize, Clean),
    protocol: MseProtocol,
    seed: u64,
) -> [(f64, usize); 2] {
    let device = x0.x64.device();
    let n = x0.x64.dims()[0];
    let eps64 = gaussian::<B>(x0.x64.dims(), seed, &device);
    let eps32 = gaussian::<B>(x0.x32.dims(), seed ^ 1, &device);
    let (t64, t32) = clean.labels(t);
    // A clean scale: the image itself with target 0 (reference), or noised at t = 0 with its noise as target.
    let input = |x: Tensor<B, 4>, e: Tensor<B, 4>, t_in: usize, is_clean: bool| match (is_clean, protocol) {
        (true, MseProtocol::Reference) => (x, e.zeros_like()),
        _ => (schedule.add_noise(x, e.clone(), t_in), e),
    };
    let (in64, target64) = input(x0.x64, eps64, t64, clean == Clean::Fine);
    let (in32, target32) = input(x0.x32, eps32, t32, clean == Clean::Coarse);
    let (p64, p32) = model.forward(in64, in32, timestep_tensor(t64 as f64, n, &device), timestep_tensor(t32 as f64, n, &device));
    let se = |p: Tensor<B, 4>, target: Tensor<B, 4>| {
        let count = target.shape().num_elements();
        ((p - target).square().sum().into_scalar().elem::<f64>(), count)
    };
    [se(p64, target64), se(p32, target32)]
}

impl BackendTask for MseJob {
    type Output = Result<MseReport>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<MseReport> {
        let trained = load_run::<B::InnerBackend>(&self.run, self.weights, &device)?;
        let Trained::Lift(model) = trained.model else {
            bail!("{} is a baseline run: the MSE tests need the two-scale LIFT model", self.run.display());
        };
        let config = &trained.config;
        let schedule = config.schedule.build();
        if self.timestep >= schedule.len() {
            bail!("--timestep {} is outside 0..{}", self.timestep, schedule.len());
        }
        let set = ImageSet::load(&self.data, config.model.resolution, true)?;
        let (train, _) = set.split(config.train.validation_fraction, config.train.seed);
        let idx = test_images(&set, &train, self.samples, self.protocol, self.seed);
        let t = self.timestep;
        let [fine, coarse] = lift_core::data::scale_names(config.model.resolution);
        let specs = [
            ("1", "both scales noisy".to_string(), Clean::Neither),
            ("2a", format!("clean {coarse} + noisy {fine}"), Clean::Coarse),
            ("2b", format!("clean {fine} + noisy {coarse}"), Clean::Fine),
        ];
        let mut tests = Vec::new();
        for (k, (name, description, clean)) in specs.into_iter().enumerate() {
            let mut sums = [(0.0, 0usize); 2];
            for (b, chunk) in idx.chunks(self.batch.max(1)).enumerate() {
                let x0 = images_at::<B::InnerBackend>(&set, chunk, &device);
                // Noise per (test, first image of the chunk): the same whatever the batch size divides.
                let seed = mix(self.seed, (k * 1_000_000 + b * self.batch) as u64);
                for (s, e) in sums.iter_mut().zip(batch_errors(&model, &schedule, x0, (t, clean), self.protocol, seed)) {
                    s.0 += e.0;
                    s.1 += e.1;
                }
            }
            let (mse_64, mse_32) = (sums[0].0 / sums[0].1 as f64, sums[1].0 / sums[1].1 as f64);
            let (t64, t32) = clean.labels(t);
            tests.push(MseTest { name: name.into(), description, t64, t32, mse_64, mse_32, mse_total: (mse_64 + mse_32) / 2.0 });
        }
        Ok(MseReport {
            timestep: t,
            resolution: config.model.resolution,
            samples: idx.len(),
            protocol: self.protocol,
            checkpoint: self.run.display().to_string(),
            weights: self.weights,
            tests,
        })
    }
}

impl MseReport {
    /// The write-up's table layout, in markdown.
    pub fn markdown(&self) -> String {
        let [fine, coarse] = lift_core::data::scale_names(self.resolution);
        let mut s = format!("| Test | t fine | t coarse | MSE {fine} | MSE {coarse} | Total |\n|---|---|---|---|---|---|\n");
        for t in &self.tests {
            s.push_str(&format!("| Test {} ({}) | {} | {} | {:.4} | {:.4} | {:.4} |\n", t.name, t.description, t.t64, t.t32, t.mse_64, t.mse_32, t.mse_total));
        }
        s
    }

    /// Bar chart of the three tests.
    pub fn chart(&self) -> BarChart {
        let groups: Vec<Group> =
            self.tests.iter().map(|t| Group { label: format!("Test {}", t.name), values: vec![t.mse_64, t.mse_32, t.mse_total] }).collect();
        let [fine, coarse] = lift_core::data::scale_names(self.resolution);
        bar_chart(
            &format!("MSE tests (t = {}, {} images, {} protocol)", self.timestep, self.samples, self.protocol),
            "mean squared error",
            &[(&format!("MSE {fine}"), [59, 81, 139]), (&format!("MSE {coarse}"), [33, 144, 141]), ("total", [170, 220, 50])],
            groups,
        )
    }
}

//! The write-up's MSE tests of the LIFT model's noise prediction: test 1 (both scales noisy),
//! 2a (clean 32×32 + noisy 64×64) and 2b (clean 64×64 + noisy 32×32). "Clean" is t = 0, the
//! least noisy training timestep (ᾱ₀ = 0.9999), so every input stays in the training distribution.

use std::path::PathBuf;

use anyhow::{bail, Result};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::ElementConversion;
use burn::tensor::Tensor;
use lift_core::run::{load_run, Trained, Weights};
use lift_core::{BackendTask, DeviceSpec, NoiseSchedule};
use lift_train::batch::mix;
use lift_train::data::ImageSet;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::plot::{bar_chart, Canvas, Group};
use crate::sample_images::{gaussian, images_at};

/// What `lift-analyze mse-test` was asked to do.
#[derive(Debug, Clone)]
pub struct MseJob {
    pub checkpoint: PathBuf,
    pub weights: Weights,
    pub data: PathBuf,
    pub timestep: usize,
    pub samples: usize,
    pub seed: u64,
    pub batch: usize,
    pub device: DeviceSpec,
}

/// One test's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MseTest {
    pub name: String,
    pub description: String,
    pub t64: usize,
    pub t32: usize,
    pub mse_64: f64,
    pub mse_32: f64,
    /// Mean of the two scales' MSE.
    pub mse_total: f64,
}

/// All three tests.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MseReport {
    pub timestep: usize,
    pub samples: usize,
    pub checkpoint: String,
    pub weights: String,
    pub tests: Vec<MseTest>,
}

impl BackendTask for MseJob {
    type Output = Result<MseReport>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<MseReport> {
        let trained = load_run::<B::InnerBackend>(&self.checkpoint, self.weights, &device)?;
        let Trained::Lift(model) = trained.model else {
            bail!("{} is a baseline run: the MSE tests need the two-scale LIFT model", self.checkpoint.display());
        };
        let config = &trained.config;
        let schedule = NoiseSchedule::new(config.schedule.kind, config.schedule.timesteps);
        if self.timestep >= schedule.len() {
            bail!("--timestep {} is outside 0..{}", self.timestep, schedule.len());
        }
        let set = ImageSet::load(&self.data, config.model.resolution, true)?;
        let (mut train, _) = set.split(config.train.validation_fraction, config.train.seed);
        train.shuffle(&mut ChaCha8Rng::seed_from_u64(self.seed));
        let t = self.timestep;
        let specs = [
            ("1", "both scales noisy", t, t),
            ("2a", "clean 32x32 + noisy 64x64", t, 0),
            ("2b", "clean 64x64 + noisy 32x32", 0, t),
        ];
        let mut tests = Vec::new();
        for (k, (name, description, t64, t32)) in specs.into_iter().enumerate() {
            let (mut se64, mut se32, mut n64, mut n32) = (0.0, 0.0, 0usize, 0usize);
            let mut start = 0;
            while start < self.samples {
                let end = (start + self.batch).min(self.samples);
                let idx: Vec<usize> = (start..end).map(|s| train[s % train.len()]).collect();
                let x0 = images_at::<B::InnerBackend>(&set, &idx, &device);
                let seed = mix(self.seed, (k * 1_000_000 + start) as u64);
                let eps64 = gaussian::<B::InnerBackend>(x0.x64.dims(), seed, &device);
                let eps32 = gaussian::<B::InnerBackend>(x0.x32.dims(), seed ^ 1, &device);
                let noise = |x: Tensor<B::InnerBackend, 4>, e: Tensor<B::InnerBackend, 4>, t: usize| {
                    let a = schedule.alpha_bar(t);
                    x.mul_scalar(a.sqrt()) + e.mul_scalar((1.0 - a).sqrt())
                };
                let n = idx.len();
                let times = |t: usize| Tensor::<B::InnerBackend, 1>::ones([n], &device).mul_scalar(t as f64);
                let (p64, p32) = model.forward(
                    noise(x0.x64, eps64.clone(), t64),
                    noise(x0.x32, eps32.clone(), t32),
                    times(t64),
                    times(t32),
                );
                se64 += (p64 - eps64.clone()).square().sum().into_scalar().elem::<f64>();
                se32 += (p32 - eps32.clone()).square().sum().into_scalar().elem::<f64>();
                n64 += eps64.shape().num_elements();
                n32 += eps32.shape().num_elements();
                start = end;
            }
            let (mse_64, mse_32) = (se64 / n64 as f64, se32 / n32 as f64);
            tests.push(MseTest {
                name: name.into(),
                description: description.into(),
                t64,
                t32,
                mse_64,
                mse_32,
                mse_total: (mse_64 + mse_32) / 2.0,
            });
        }
        Ok(MseReport {
            timestep: t,
            samples: self.samples,
            checkpoint: self.checkpoint.display().to_string(),
            weights: self.weights.name().into(),
            tests,
        })
    }
}

impl MseReport {
    /// The write-up's table layout, in markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::from("| Test | Description | t64 | t32 | MSE 64x64 | MSE 32x32 | Total |\n|---|---|---|---|---|---|---|\n");
        for t in &self.tests {
            s.push_str(&format!(
                "| Test {} | {} | {} | {} | {:.4} | {:.4} | {:.4} |\n",
                t.name, t.description, t.t64, t.t32, t.mse_64, t.mse_32, t.mse_total
            ));
        }
        s
    }

    /// Bar chart of the three tests.
    pub fn chart(&self) -> Canvas {
        let groups: Vec<Group> = self
            .tests
            .iter()
            .map(|t| Group { label: format!("Test {}", t.name), values: vec![t.mse_64, t.mse_32, t.mse_total] })
            .collect();
        bar_chart(
            &format!("MSE tests (t = {}, {} samples)", self.timestep, self.samples),
            &[("MSE 64x64", [59, 81, 139]), ("MSE 32x32", [33, 144, 141]), ("total", [170, 220, 50])],
            &groups,
        )
    }
}

//! The measured workloads, generic over the backend.

use std::sync::Arc;

use anyhow::{bail, Result};
use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, Tensor};
use burn::train::TrainStep;
use lift_analyze::clean_images::Images;
use lift_analyze::fid::{extract, InceptionV3, Resize};
use lift_analyze::heatmap::{estimate_cell, Analysed};
use lift_analyze::jacobian::Estimator;
use lift_core::config::TrainConfig;
use lift_core::data::ImageSet;
use lift_core::grid::{Grid, GridSpec};
use lift_core::pipeline::{sample_baseline, sample_lift};
use lift_core::{BackendTask, BaselineUNet, LiftConfig, LiftUNet, NoiseSchedule, SamplingPath, TimestepRule};
use lift_cpu::threads::ThreadPool;
use lift_train::batch::{EpochLoader, NoiseSource};
use lift_train::plan::StepPlan;
use lift_train::step::{Denoiser, Diffusion};

use super::interleaved_medians;

/// What is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// The machine itself: an ideally parallel vector loop on data that fits each core's L2.
    Reference,
    Forward(&'static str),
    FwdBwd(&'static str),
    /// Loss, backward, global clipping, AdamW and the EMA update: one real training step.
    TrainStep(&'static str),
    /// One heatmap cell: 16 images × 4 probes, both scales, reverse mode.
    HeatmapCell,
    /// The same cell by central finite differences.
    HeatmapCellFd,
    /// Sampling with 19 model evaluations per image ("18 steps", reference protocol).
    Sample(&'static str),
    /// Inception pool3 features, resize included.
    Fid,
}

impl Workload {
    /// Every workload, in table order.
    pub fn all() -> Vec<Self> {
        use Workload::*;
        vec![
            Reference,
            Forward("lift"),
            Forward("baseline"),
            FwdBwd("lift"),
            FwdBwd("baseline"),
            TrainStep("lift"),
            TrainStep("baseline"),
            HeatmapCell,
            HeatmapCellFd,
            Sample("lift"),
            Sample("baseline"),
            Fid,
        ]
    }

    /// Row label.
    pub fn name(self) -> &'static str {
        use Workload::*;
        match self {
            Reference => "reference-loop",
            Forward("lift") => "forward/lift",
            Forward(_) => "forward/baseline",
            FwdBwd("lift") => "fwd+bwd/lift",
            FwdBwd(_) => "fwd+bwd/baseline",
            TrainStep("lift") => "train-step/lift",
            TrainStep(_) => "train-step/baseline",
            HeatmapCell => "heatmap-cell",
            HeatmapCellFd => "heatmap-cell-fd",
            Sample("lift") => "sample/lift",
            Sample(_) => "sample/baseline",
            Fid => "fid-features",
        }
    }

    /// Unit of the rate.
    pub fn unit(self) -> &'static str {
        match self {
            Workload::HeatmapCell | Workload::HeatmapCellFd => "cells/s",
            Workload::Reference => "Gflop/s",
            _ => "img/s",
        }
    }
}

/// One workload on one backend; returns its rate.
pub struct WorkloadTask {
    pub workload: Workload,
    pub config: LiftConfig,
    pub batch: usize,
    pub iters: usize,
    /// CPU thread counts, timed in turns; one rate each.
    pub threads: Vec<usize>,
}

fn random_images(n: usize, r: usize) -> Arc<ImageSet> {
    let images = (0..n).map(|k| (0..r * r * 3).map(|i| ((i * 31 + k * 97) % 256) as u8).collect()).collect();
    Arc::new(ImageSet::from_pixels(r, images).expect("images of the right size"))
}

impl BackendTask for WorkloadTask {
    type Output = Result<Vec<f64>>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Vec<f64>> {
        let (b, m, iters) = (self.batch, &self.config.model, self.iters);
        let pools = self.threads.iter().map(|&t| lift_cpu::threads::pool(t)).collect::<Result<Vec<_>>>()?;
        let r = m.resolution;
        let sync = || B::sync(&device).expect("device sync");
        let noise = |side: usize| Tensor::<B, 4>::random([b, 3, side, side], Distribution::Normal(0.0, 1.0), &device);
        let t = Tensor::<B, 1>::from_floats(vec![500.0f32; b].as_slice(), &device);
        let per_image = |seconds: Vec<f64>| seconds.into_iter().map(|s| b as f64 / s).collect::<Vec<_>>();
        let rates = match self.workload {
            Workload::Reference => {
                let flops = (REFERENCE_CHUNKS * REFERENCE_PASSES * REFERENCE_LEN * 2) as f64;
                interleaved_medians(&pools, iters, || {
                    let _ = reference_loop();
                })
                .into_iter()
                .map(|s| flops / s / 1e9)
                .collect()
            }
            Workload::Forward(kind) => {
                let (x64, x32, t) = (noise(r).inner(), noise(m.coarse_resolution()).inner(), t.inner());
                per_image(if kind == "lift" {
                    let net = LiftUNet::<B>::new(m, &device).valid();
                    interleaved_medians(&pools, iters, || {
                        let (a, c) = net.forward(x64.clone(), x32.clone(), t.clone(), t.clone());
                        let _ = (a.sum() + c.sum()).into_scalar();
                    })
                } else {
                    let net = BaselineUNet::<B>::new(m, &device).valid();
                    interleaved_medians(&pools, iters, || {
                        let _ = net.forward(x64.clone(), t.clone()).sum().into_scalar();
                    })
                })
            }
            Workload::FwdBwd(kind) => {
                let (x64, x32) = (noise(r), noise(m.coarse_resolution()));
                per_image(if kind == "lift" {
                    let net = LiftUNet::<B>::new(m, &device);
                    interleaved_medians(&pools, iters, || {
                        let (a, c) = net.forward(x64.clone(), x32.clone(), t.clone(), t.clone());
                        let _ = (a.square().mean() + c.square().mean()).backward();
                        sync();
                    })
                } else {
                    let net = BaselineUNet::<B>::new(m, &device);
                    interleaved_medians(&pools, iters, || {
                        let _ = net.forward(x64.clone(), t.clone()).square().mean().backward();
                        sync();
                    })
                })
            }
            Workload::TrainStep(kind) => {
                let source = Arc::new(NoiseSource { images: random_images(b, r), schedule: NoiseSchedule::reference() });
                let mut train = self.config.train.clone();
                train.batch_size = b;
                let batch = EpochLoader::<B>::train(source, (0..b).collect(), &train, 1, device.clone()).batch_of(1, 0);
                let seconds = if kind == "lift" {
                    time_train_steps(Diffusion::new(LiftUNet::<B>::new(m, &device), StepPlan::new(train.clone(), 1, 0, None)), batch, &train, &pools, iters)
                } else {
                    time_train_steps(Diffusion::new(BaselineUNet::<B>::new(m, &device), StepPlan::new(train.clone(), 1, 0, None)), batch, &train, &pools, iters)
                };
                per_image(seconds)
            }
            Workload::HeatmapCell | Workload::HeatmapCellFd => {
                let estimator = if self.workload == Workload::HeatmapCell { Estimator::Vjp } else { Estimator::Fd };
                let model = Analysed::new(LiftUNet::<B>::new(m, &device));
                let x64 = Tensor::<B::InnerBackend, 4>::random([16, 3, r, r], Distribution::Uniform(-1.0, 1.0), &device);
                let x0 = Images { x32: lift_core::model::resample::downsample_2x(x64.clone()), x64 };
                let grid = Grid::new(GridSpec::TLinspace { points: 30 }, &NoiseSchedule::reference())?;
                interleaved_medians(&pools, iters, || {
                    let _ = estimate_cell(&model, &x0, &grid, (10, 20), 4, (1, 2), estimator, 64);
                })
                .into_iter()
                .map(|s| 1.0 / s)
                .collect()
            }
            Workload::Sample(kind) => {
                let schedule = NoiseSchedule::reference();
                let ts = TimestepRule::Reference.timesteps(18, 1000)?;
                let (x64, x32) = (noise(r).inner(), noise(m.coarse_resolution()).inner());
                per_image(if kind == "lift" {
                    let net = LiftUNet::<B>::new(m, &device).valid();
                    let path = SamplingPath::diagonal(&ts);
                    interleaved_medians(&pools, iters, || {
                        let _ = sample_lift(&net, &schedule, &path, x64.clone(), x32.clone()).0.sum().into_scalar();
                    })
                } else {
                    let net = BaselineUNet::<B>::new(m, &device).valid();
                    interleaved_medians(&pools, iters, || {
                        let _ = sample_baseline(&net, &schedule, &ts, x64.clone()).sum().into_scalar();
                    })
                })
            }
            Workload::Fid => {
                let weights = std::path::Path::new(lift_analyze::fid::DEFAULT_WEIGHTS);
                if !weights.exists() {
                    bail!("no Inception weights (cargo xtask fetch-inception)");
                }
                let net = InceptionV3::<B::InnerBackend>::load(weights, &device)?;
                let x = Tensor::<B::InnerBackend, 4>::random([b, 3, r, r], Distribution::Uniform(0.0, 1.0), &device);
                per_image(interleaved_medians(&pools, iters, || {
                    let _ = extract(&net, x.clone(), Resize::BicubicAntialias);
                }))
            }
        };
        Ok(rates)
    }
}

const REFERENCE_CHUNKS: usize = 64;
const REFERENCE_PASSES: usize = 400;
const REFERENCE_LEN: usize = 32 * 1024;

/// A fixed amount of independent work in many chunks, each a multiply-add pass after pass over
/// 128 KiB of its own: no shared data, no memory traffic beyond L2, balanced by work stealing.
/// What it gains from more threads is what the machine gives at that moment.
fn reference_loop() -> f32 {
    use rayon::prelude::*;
    (0..REFERENCE_CHUNKS)
        .into_par_iter()
        .map(|chunk| {
            let mut x = vec![chunk as f32; REFERENCE_LEN];
            for _ in 0..REFERENCE_PASSES {
                for v in x.iter_mut() {
                    *v = *v * 0.999 + 0.5;
                }
                x = std::hint::black_box(x);
            }
            x[0]
        })
        .sum()
}

/// Median seconds of one full training step (TrainStep::step then TrainStep::optimize) on each pool.
fn time_train_steps<B, M>(model: Diffusion<B, M>, batch: lift_train::batch::NoisedBatch<B>, train: &TrainConfig, pools: &[ThreadPool], iters: usize) -> Vec<f64>
where
    B: AutodiffBackend,
    M: Denoiser<B> + AutodiffModule<B> + 'static,
    M::InnerModule: Denoiser<B::InnerBackend>,
{
    let mut optim = lift_train::optim::adamw(train);
    let mut model = Some(model);
    interleaved_medians(pools, iters, || {
        let m = model.take().expect("model");
        let out = TrainStep::step(&m, batch.clone());
        let m = TrainStep::optimize(m, &mut optim, 1e-4, out.grads);
        let _ = out.item.loss.into_scalar();
        model = Some(m);
    })
}

//! The measured workloads, generic over the backend.

use std::hint::black_box;
use std::sync::Arc;

use anyhow::{bail, Result};
use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Tensor};
use lift_analyze::clean_images::Images;
use lift_analyze::fid::{extract, InceptionV3, Resize};
use lift_analyze::heatmap::{estimate_cell, Analysed};
use lift_analyze::jacobian::Estimator;
use lift_core::config::TrainConfig;
use lift_core::data::ImageSet;
use lift_core::grid::{Grid, GridSpec};
use lift_core::pipeline::{sample_baseline, sample_lift};
use lift_core::{BackendTask, BaselineUNet, LiftConfig, LiftUNet, ModelConfig, ModelKind, NoiseSchedule, SamplingPath, TimestepRule};
use lift_cpu::threads::ThreadPool;
use lift_train::batch::{EpochLoader, NoiseSource};
use lift_train::plan::StepPlan;
use lift_train::step::Diffusion;

use crate::measure::{interleaved_medians, train_steps};

/// What is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// The machine itself: an ideally parallel vector loop on data that fits each core's L2.
    Reference,
    Forward(ModelKind),
    FwdBwd(ModelKind),
    /// Loss, backward, global clipping, AdamW and the EMA update: one real training step.
    TrainStep(ModelKind),
    /// One heatmap cell: 16 images × 4 probes, both scales, reverse mode.
    HeatmapCell,
    /// The same cell by central finite differences.
    HeatmapCellFd,
    /// Sampling with 19 model evaluations per image ("18 steps", reference protocol).
    Sample(ModelKind),
    /// Inception pool3 features, resize included.
    Fid,
}

impl Workload {
    /// Every workload, in table order.
    pub fn all() -> Vec<Self> {
        use ModelKind::{Baseline, Lift};
        use Workload::*;
        vec![
            Reference,
            Forward(Lift),
            Forward(Baseline),
            FwdBwd(Lift),
            FwdBwd(Baseline),
            TrainStep(Lift),
            TrainStep(Baseline),
            HeatmapCell,
            HeatmapCellFd,
            Sample(Lift),
            Sample(Baseline),
            Fid,
        ]
    }

    /// Row label.
    pub fn name(self) -> String {
        use Workload::*;
        match self {
            Reference => "reference-loop".into(),
            Forward(kind) => format!("forward/{kind}"),
            FwdBwd(kind) => format!("fwd+bwd/{kind}"),
            TrainStep(kind) => format!("train-step/{kind}"),
            HeatmapCell => "heatmap-cell".into(),
            HeatmapCellFd => "heatmap-cell-fd".into(),
            Sample(kind) => format!("sample/{kind}"),
            Fid => "fid-features".into(),
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
        let pools = self.threads.iter().map(|&t| lift_cpu::threads::pool(t)).collect::<Result<Vec<_>>>()?;
        let timer = Timer { pools, iters: self.iters, batch: self.batch };
        let m = &self.config.model;
        Ok(match self.workload {
            Workload::Reference => {
                let flops = (REFERENCE_CHUNKS * REFERENCE_PASSES * REFERENCE_LEN * 2) as f64;
                timer
                    .seconds(|| {
                        black_box(reference_loop());
                    })
                    .into_iter()
                    .map(|s| flops / s / 1e9)
                    .collect()
            }
            Workload::Forward(kind) => timer.per_image(forward::<B>(&timer, m, kind, &device)),
            Workload::FwdBwd(kind) => timer.per_image(forward_backward::<B>(&timer, m, kind, &device)),
            Workload::TrainStep(kind) => timer.per_image(train_step::<B>(&timer, &self.config, kind, &device)),
            Workload::HeatmapCell => heatmap_cell::<B>(&timer, m, Estimator::Vjp, &device)?,
            Workload::HeatmapCellFd => heatmap_cell::<B>(&timer, m, Estimator::Fd, &device)?,
            Workload::Sample(kind) => timer.per_image(sample::<B>(&timer, m, kind, &device)?),
            Workload::Fid => timer.per_image(fid::<B>(&timer, m, &device)?),
        })
    }
}

/// The pools a workload is timed on, in turns, and its batch.
struct Timer {
    pools: Vec<ThreadPool>,
    iters: usize,
    batch: usize,
}

impl Timer {
    /// Median seconds of `f` on each pool.
    fn seconds(&self, f: impl FnMut() + Send) -> Vec<f64> {
        interleaved_medians(&self.pools, self.iters, f)
    }

    /// Images per second from seconds per batch.
    fn per_image(&self, seconds: Vec<f64>) -> Vec<f64> {
        seconds.into_iter().map(|s| self.batch as f64 / s).collect()
    }

    /// A batch of N(0, 1) noise at `side`.
    fn noise<B: Backend>(&self, side: usize, device: &B::Device) -> Tensor<B, 4> {
        Tensor::random([self.batch, 3, side, side], Distribution::Normal(0.0, 1.0), device)
    }

    /// The batch's timestep tensor, all at t = 500.
    fn timesteps<B: Backend>(&self, device: &B::Device) -> Tensor<B, 1> {
        Tensor::from_floats(vec![500.0f32; self.batch].as_slice(), device)
    }
}

fn forward<B: AutodiffBackend>(timer: &Timer, m: &ModelConfig, kind: ModelKind, device: &B::Device) -> Vec<f64> {
    let (x64, x32, t) = (timer.noise::<B::InnerBackend>(m.resolution, device), timer.noise(m.coarse_resolution(), device), timer.timesteps(device));
    match kind {
        ModelKind::Lift => {
            let net = LiftUNet::<B>::new(m, device).valid();
            timer.seconds(|| {
                let (a, c) = net.forward(x64.clone(), x32.clone(), t.clone(), t.clone());
                let _ = (a.sum() + c.sum()).into_scalar();
            })
        }
        ModelKind::Baseline => {
            let net = BaselineUNet::<B>::new(m, device).valid();
            timer.seconds(|| {
                black_box(net.forward(x64.clone(), t.clone()).sum().into_scalar());
            })
        }
        ModelKind::SingleT | ModelKind::NoT => unreachable!("Workload::all times the lift and baseline networks only"),
    }
}

fn forward_backward<B: AutodiffBackend>(timer: &Timer, m: &ModelConfig, kind: ModelKind, device: &B::Device) -> Vec<f64> {
    let (x64, x32, t) = (timer.noise::<B>(m.resolution, device), timer.noise(m.coarse_resolution(), device), timer.timesteps(device));
    let sync = || B::sync(device).expect("device sync");
    match kind {
        ModelKind::Lift => {
            let net = LiftUNet::<B>::new(m, device);
            timer.seconds(|| {
                let (a, c) = net.forward(x64.clone(), x32.clone(), t.clone(), t.clone());
                let _ = (a.square().mean() + c.square().mean()).backward();
                sync();
            })
        }
        ModelKind::Baseline => {
            let net = BaselineUNet::<B>::new(m, device);
            timer.seconds(|| {
                let _ = net.forward(x64.clone(), t.clone()).square().mean().backward();
                sync();
            })
        }
        ModelKind::SingleT | ModelKind::NoT => unreachable!("Workload::all times the lift and baseline networks only"),
    }
}

fn train_step<B: AutodiffBackend>(timer: &Timer, config: &LiftConfig, kind: ModelKind, device: &B::Device) -> Vec<f64> {
    let (b, m) = (timer.batch, &config.model);
    let source = Arc::new(NoiseSource::new(random_images(b, m.resolution), NoiseSchedule::reference()));
    let train = TrainConfig { batch_size: b, ..config.train.clone() };
    let batch = EpochLoader::<B>::train(source, (0..b).collect(), &train, 1, device.clone()).batch_of(1, 0);
    let plan = StepPlan::new(train.clone(), 1, 0, None);
    match kind {
        ModelKind::Lift => timer.seconds(train_steps(Diffusion::new(LiftUNet::<B>::new(m, device), plan), batch, &train)),
        ModelKind::Baseline => timer.seconds(train_steps(Diffusion::new(BaselineUNet::<B>::new(m, device), plan), batch, &train)),
        ModelKind::SingleT | ModelKind::NoT => unreachable!("Workload::all times the lift and baseline networks only"),
    }
}

fn heatmap_cell<B: AutodiffBackend>(timer: &Timer, m: &ModelConfig, estimator: Estimator, device: &B::Device) -> Result<Vec<f64>> {
    let model = Analysed::new(LiftUNet::<B>::new(m, device));
    let x64 = Tensor::<B::InnerBackend, 4>::random([16, 3, m.resolution, m.resolution], Distribution::Uniform(-1.0, 1.0), device);
    let x0 = Images { x32: lift_core::model::resample::downsample_2x(x64.clone()), x64 };
    let grid = Grid::new(GridSpec::TLinspace { points: 30 }, &NoiseSchedule::reference())?;
    let seconds = timer.seconds(|| {
        black_box(estimate_cell(&model, &x0, &grid, (10, 20), 4, (1, 2), estimator, 64));
    });
    Ok(seconds.into_iter().map(|s| 1.0 / s).collect())
}

fn sample<B: AutodiffBackend>(timer: &Timer, m: &ModelConfig, kind: ModelKind, device: &B::Device) -> Result<Vec<f64>> {
    let schedule = NoiseSchedule::reference();
    let ts = TimestepRule::Reference.timesteps(lift_core::config::SampleConfig::ORIGINAL_STEPS, 1000)?;
    let (x64, x32) = (timer.noise::<B::InnerBackend>(m.resolution, device), timer.noise(m.coarse_resolution(), device));
    Ok(match kind {
        ModelKind::Lift => {
            let net = LiftUNet::<B>::new(m, device).valid();
            let path = SamplingPath::diagonal(&ts);
            timer.seconds(|| {
                black_box(sample_lift(&net, &schedule, &path, x64.clone(), x32.clone()).0.sum().into_scalar());
            })
        }
        ModelKind::Baseline => {
            let net = BaselineUNet::<B>::new(m, device).valid();
            timer.seconds(|| {
                black_box(sample_baseline(&net, &schedule, &ts, x64.clone()).sum().into_scalar());
            })
        }
        ModelKind::SingleT | ModelKind::NoT => unreachable!("Workload::all times the lift and baseline networks only"),
    })
}

fn fid<B: AutodiffBackend>(timer: &Timer, m: &ModelConfig, device: &B::Device) -> Result<Vec<f64>> {
    let weights = std::path::Path::new(lift_analyze::fid::DEFAULT_WEIGHTS);
    if !weights.exists() {
        bail!("no Inception weights (cargo xtask fetch-inception)");
    }
    let net = InceptionV3::<B::InnerBackend>::load(weights, device)?;
    let x = Tensor::<B::InnerBackend, 4>::random([timer.batch, 3, m.resolution, m.resolution], Distribution::Uniform(0.0, 1.0), device);
    Ok(timer.seconds(|| {
        black_box(extract(&net, x.clone(), Resize::BicubicAntialias));
    }))
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

//! Computing a heatmap: for every grid cell, fresh noise on a fixed set of training images, K
//! probes, both same-scale Jacobians. Rows are saved as they finish so a killed run resumes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::module::{AutodiffModule, Module};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use lift_core::run::{load_run, Trained, Weights};
use lift_core::{BackendTask, DeviceSpec, LiftUNet};
use serde::{Deserialize, Serialize};

use super::file::{Heatmap, HeatmapMeta};
use crate::grid::{Grid, GridSpec};
use crate::jacobian::{chain_rule_factor, fd_sq_norms, mean_se, rademacher, vjp_sq_norms, Estimator, MeanSe};
use crate::sample_images::{noised, training_images, Images};
use crate::progress::Progress;

/// What `lift-analyze heatmap` was asked to do.
#[derive(Debug, Clone)]
pub struct HeatmapJob {
    pub checkpoint: PathBuf,
    pub weights: Weights,
    pub out: PathBuf,
    pub grid: GridSpec,
    pub images: usize,
    pub probes: usize,
    pub seed: u64,
    pub data: PathBuf,
    pub estimator: Estimator,
    pub device: DeviceSpec,
    /// Most samples (images × probes) per forward pass; more probes run in several passes.
    pub max_batch: usize,
}

/// Both scales' estimates at one cell, normalised and chain-rule scaled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CellEstimate {
    pub error_64: MeanSe,
    pub error_32: MeanSe,
}

/// A finished row, as kept in the partial file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    index: usize,
    cells: Vec<CellEstimate>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Partial {
    meta: HeatmapMeta,
    rows: Vec<Row>,
}

fn partial_path(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    out.with_file_name(format!("{name}.partial"))
}

/// A LIFT model ready for Jacobians: parameters out of the graph, plus its inner-backend copy.
pub struct Analysed<B: AutodiffBackend> {
    pub model: LiftUNet<B>,
    pub inner: LiftUNet<B::InnerBackend>,
}

impl<B: AutodiffBackend> Analysed<B> {
    pub fn new(model: LiftUNet<B>) -> Self {
        let model = model.no_grad();
        let inner = model.valid();
        Self { model, inner }
    }
}

fn timesteps<B: Backend>(t: f64, n: usize, device: &B::Device) -> Tensor<B, 1> {
    Tensor::ones([n], device).mul_scalar(t)
}

/// Estimates one cell: `x0` holds the clean images at both scales; the noise is drawn from
/// `noise_seed`, the probes from `probe_seed`.
#[allow(clippy::too_many_arguments)]
pub fn estimate_cell<B: AutodiffBackend>(
    m: &Analysed<B>,
    x0: &Images<B::InnerBackend>,
    grid: &Grid,
    (i, j): (usize, usize),
    probes: usize,
    (noise_seed, probe_seed): (u64, u64),
    estimator: Estimator,
    max_batch: usize,
) -> CellEstimate {
    use lift_train::batch::mix;
    let n = x0.x64.dims()[0];
    let device = x0.x64.device();
    let cell = (i * 1000 + j) as u64;
    let x64 = noised(x0.x64.clone(), grid.alpha_bar(i), mix(noise_seed, cell * 2));
    let x32 = noised(x0.x32.clone(), grid.alpha_bar(j), mix(noise_seed, cell * 2 + 1));
    let per_pass = (max_batch / n).clamp(1, probes);
    let (mut s64, mut s32) = (vec![0.0; n], vec![0.0; n]);
    let mut done = 0;
    while done < probes {
        let k = per_pass.min(probes - done);
        let rep = |x: &Tensor<B::InnerBackend, 4>| x.clone().repeat_dim(0, k);
        let (x64r, x32r) = (rep(&x64), rep(&x32));
        let (t64, t32) = (timesteps::<B::InnerBackend>(grid.t[i], n * k, &device), timesteps(grid.t[j], n * k, &device));
        let pass_seed = mix(probe_seed, cell) ^ done as u64;
        let r64 = rademacher::<B::InnerBackend>(x64r.dims(), pass_seed, &device);
        let r32 = rademacher::<B::InnerBackend>(x32r.dims(), pass_seed ^ 0x5A5A, &device);
        let (v64, v32) = match estimator {
            Estimator::Vjp => {
                let ad = |x: &Tensor<B::InnerBackend, 4>| Tensor::<B, 4>::from_inner(x.clone());
                let (a64, a32, at64, at32) = (ad(&x64r), ad(&x32r), Tensor::from_inner(t64.clone()), Tensor::from_inner(t32.clone()));
                let v64 = vjp_sq_norms::<B>(|x| m.model.forward(x, a32.clone(), at64.clone(), at32.clone()).0, x64r.clone(), r64);
                let v32 = vjp_sq_norms::<B>(|x| m.model.forward(a64.clone(), x, at64.clone(), at32.clone()).1, x32r.clone(), r32);
                (v64, v32)
            }
            Estimator::FiniteDifference { h } => {
                let v64 = fd_sq_norms(|x| m.inner.forward(x, x32r.clone(), t64.clone(), t32.clone()).0, x64r.clone(), r64, h);
                let v32 = fd_sq_norms(|x| m.inner.forward(x64r.clone(), x, t64.clone(), t32.clone()).1, x32r.clone(), r32, h);
                (v64, v32)
            }
        };
        // Sample s of a pass is image s mod n.
        for (s, (a, b)) in v64.iter().zip(&v32).enumerate() {
            s64[s % n] += a;
            s32[s % n] += b;
        }
        done += k;
    }
    let hw64 = (x64.dims()[2] * x64.dims()[3]) as f64;
    let hw32 = (x32.dims()[2] * x32.dims()[3]) as f64;
    let scale = |sums: &[f64], hw: f64, snr: f64| -> MeanSe {
        let per_image: Vec<f64> = sums.iter().map(|s| s / probes as f64 / (hw * hw) * chain_rule_factor(snr)).collect();
        mean_se(&per_image)
    };
    CellEstimate { error_64: scale(&s64, hw64, grid.snr[i]), error_32: scale(&s32, hw32, grid.snr[j]) }
}

impl BackendTask for HeatmapJob {
    type Output = Result<Heatmap>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Heatmap> {
        let start = Instant::now();
        let trained = load_run::<B>(&self.checkpoint, self.weights, &device)?;
        let Trained::Lift(model) = trained.model else {
            bail!("{} is a baseline run: heatmaps need the LIFT model", self.checkpoint.display());
        };
        let config = &trained.config;
        let schedule = lift_core::NoiseSchedule::new(config.schedule.kind, config.schedule.timesteps);
        let grid = Grid::new(self.grid, &schedule)?;
        let x0 = training_images::<B::InnerBackend>(&self.data, config, self.images, self.seed, &device)?;
        let model = Analysed::new(model);
        let mut meta = HeatmapMeta {
            checkpoint: self.checkpoint.display().to_string(),
            weights: self.weights.name().into(),
            grid: self.grid,
            images: self.images,
            probes: self.probes,
            seed: self.seed,
            estimator: match self.estimator {
                Estimator::Vjp => "vjp".into(),
                Estimator::FiniteDifference { h } => format!("fd(h={h})"),
            },
            data: self.data.display().to_string(),
            device: self.device.to_string(),
            git_commit: lift_core::run::git_commit(),
            seconds: 0.0,
            normalisation: "mean over images of ‖J‖²_F/(H·W)² · 1/(SNR·(1+SNR)), Rademacher probes".into(),
        };
        let partial_file = partial_path(&self.out);
        let mut rows: Vec<Row> = match lift_core::io::read_json::<Partial>(&partial_file) {
            Ok(p) if p.meta.same_job(&meta) => {
                meta.seconds = p.meta.seconds;
                println!("resuming {}: {} of {} rows done", self.out.display(), p.rows.len(), grid.len());
                p.rows
            }
            _ => Vec::new(),
        };
        let n = grid.len();
        let progress = Progress::new("heatmap", (n * n) as u64, (rows.len() * n) as u64);
        let session = Instant::now();
        for i in 0..n {
            if rows.iter().any(|r| r.index == i) {
                continue;
            }
            let cells = (0..n)
                .map(|j| {
                    let seeds = (self.seed, self.seed);
                    let c = estimate_cell(&model, &x0, &grid, (i, j), self.probes, seeds, self.estimator, self.max_batch);
                    progress.inc();
                    c
                })
                .collect();
            rows.push(Row { index: i, cells });
            let snapshot = HeatmapMeta { seconds: meta.seconds + session.elapsed().as_secs_f64(), ..meta.clone() };
            lift_core::io::write_json(&partial_file, &Partial { meta: snapshot, rows: rows.clone() })?;
        }
        progress.finish();
        rows.sort_by_key(|r| r.index);
        meta.seconds += start.elapsed().as_secs_f64();
        let pick = |f: fn(&CellEstimate) -> f64| -> Vec<Vec<f64>> { rows.iter().map(|r| r.cells.iter().map(f).collect()).collect() };
        let map = Heatmap {
            t_grid: grid.t.clone(),
            snr: grid.snr.clone(),
            log_snr: grid.log_snr.clone(),
            error_64: pick(|c| c.error_64.mean),
            error_32: pick(|c| c.error_32.mean),
            error_total: pick(|c| c.error_64.mean + c.error_32.mean),
            stderr_64: pick(|c| c.error_64.se),
            stderr_32: pick(|c| c.error_32.se),
            meta,
        };
        map.validate().context("the computed heatmap is not valid (a non-finite Jacobian?)")?;
        map.save(&self.out)?;
        std::fs::remove_file(&partial_file).ok();
        Ok(map)
    }
}

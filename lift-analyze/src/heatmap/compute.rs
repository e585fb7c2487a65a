//! Computing a heatmap: for every grid cell, fresh noise on a fixed set of training images, K
//! probes, all four Jacobian blocks. Rows are saved as they finish so a killed run resumes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::module::{AutodiffModule, Module};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use lift_core::grid::{Grid, GridSpec};
use lift_core::run::{load_run, Trained, Weights};
use lift_core::seed::mix;
use lift_core::timesteps::timestep_tensor;
use lift_core::{BackendTask, LiftUNet};
use serde::{Deserialize, Serialize};

use super::file::{Block, Blocks, Heatmap, HeatmapMeta, Matrix};
use crate::clean_images::{noised, training_images, Images};
use crate::jacobian::{fd_sq_norms_pair, mean_se, rademacher, vjp_sq_norms_pair, Estimator, MeanSe, DEFAULT_FD_STEP};
use crate::progress::Progress;

/// What `lift-analyze heatmap` was asked to do.
#[derive(Debug, Clone)]
pub struct HeatmapJob {
    pub run: PathBuf,
    pub weights: Weights,
    pub out: PathBuf,
    pub grid: GridSpec,
    pub images: usize,
    pub probes: usize,
    /// Chooses the images, the noise and the probes.
    pub seed: u64,
    pub data: PathBuf,
    pub estimator: Estimator,
    /// Most samples (images × probes) per forward pass; more probes run in several passes.
    pub max_batch: usize,
}

/// The four blocks' estimates at one cell, normalised by the input and output sizes, without a
/// chain-rule factor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CellEstimate {
    pub hh: MeanSe,
    pub hl: MeanSe,
    pub lh: MeanSe,
    pub ll: MeanSe,
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

/// Per-image sums over probes of the four blocks' squared norms.
#[derive(Default)]
struct Sums {
    hh: Vec<f64>,
    hl: Vec<f64>,
    lh: Vec<f64>,
    ll: Vec<f64>,
}

impl Sums {
    fn new(n: usize) -> Self {
        Self { hh: vec![0.0; n], hl: vec![0.0; n], lh: vec![0.0; n], ll: vec![0.0; n] }
    }

    /// Adds a pass's per-sample values; sample s of a pass is image s mod n.
    fn add(target: &mut [f64], values: &[f64]) {
        let n = target.len();
        for (s, v) in values.iter().enumerate() {
            target[s % n] += v;
        }
    }
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
    let n = x0.x64.dims()[0];
    let device = x0.x64.device();
    let cell = (i * 1000 + j) as u64;
    let x64 = noised(x0.x64.clone(), grid.alpha_bar[i], mix(noise_seed, cell * 2));
    let x32 = noised(x0.x32.clone(), grid.alpha_bar[j], mix(noise_seed, cell * 2 + 1));
    let per_pass = (max_batch / n).clamp(1, probes);
    let mut sums = Sums::new(n);
    let mut done = 0;
    while done < probes {
        let k = per_pass.min(probes - done);
        let rep = |x: &Tensor<B::InnerBackend, 4>| x.clone().repeat_dim(0, k);
        let (x64r, x32r) = (rep(&x64), rep(&x32));
        let (t64, t32) = (timestep_tensor::<B::InnerBackend>(grid.t[i], n * k, &device), timestep_tensor(grid.t[j], n * k, &device));
        let pass_seed = mix(probe_seed, cell) ^ done as u64;
        let r64 = rademacher::<B::InnerBackend>(x64r.dims(), pass_seed, &device);
        let r32 = rademacher::<B::InnerBackend>(x32r.dims(), pass_seed ^ 0x5A5A, &device);
        // (HH, HL, LH, LL) per sample of the pass.
        let (hh, hl, lh, ll) = match estimator {
            Estimator::Vjp => {
                let (at64, at32) = (Tensor::<B, 1>::from_inner(t64), Tensor::<B, 1>::from_inner(t32));
                let forward = |a: Tensor<B, 4>, b: Tensor<B, 4>| m.model.forward(a, b, at64.clone(), at32.clone());
                // Probes on ε̂₆₄ give J_HHᵀr and J_HLᵀr; probes on ε̂₃₂ give J_LHᵀr and J_LLᵀr.
                let (hh, hl) = vjp_sq_norms_pair::<B>(|a, b| forward(a, b).0, x64r.clone(), x32r.clone(), r64);
                let (lh, ll) = vjp_sq_norms_pair::<B>(|a, b| forward(a, b).1, x64r, x32r, r32);
                (hh, hl, lh, ll)
            }
            Estimator::Fd => {
                let h = DEFAULT_FD_STEP;
                // Perturbing x₆₄ moves ε̂₆₄ by J_HH·r and ε̂₃₂ by J_LH·r; perturbing x₃₂, by J_HL·r and J_LL·r.
                let (hh, lh) = fd_sq_norms_pair(|x| m.inner.forward(x, x32r.clone(), t64.clone(), t32.clone()), x64r.clone(), r64, h);
                let (hl, ll) = fd_sq_norms_pair(|x| m.inner.forward(x64r.clone(), x, t64.clone(), t32.clone()), x32r.clone(), r32, h);
                (hh, hl, lh, ll)
            }
        };
        Sums::add(&mut sums.hh, &hh);
        Sums::add(&mut sums.hl, &hl);
        Sums::add(&mut sums.lh, &lh);
        Sums::add(&mut sums.ll, &ll);
        done += k;
    }
    let hw64 = (x64.dims()[2] * x64.dims()[3]) as f64;
    let hw32 = (x32.dims()[2] * x32.dims()[3]) as f64;
    // ‖J‖²_F/(H_in·W_in·H_out·W_out), averaged over probes, then mean and s.e. over images.
    let scale = |s: &[f64], size: f64| mean_se(&s.iter().map(|v| v / probes as f64 / size).collect::<Vec<_>>());
    CellEstimate {
        hh: scale(&sums.hh, hw64 * hw64),
        hl: scale(&sums.hl, hw32 * hw64),
        lh: scale(&sums.lh, hw64 * hw32),
        ll: scale(&sums.ll, hw32 * hw32),
    }
}

impl BackendTask for HeatmapJob {
    type Output = Result<Heatmap>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Heatmap> {
        let start = Instant::now();
        let trained = load_run::<B>(&self.run, self.weights, &device)?;
        let Trained::Lift(model) = trained.model else {
            bail!("{} is a baseline run: heatmaps need the LIFT model", self.run.display());
        };
        let config = &trained.config;
        let grid = Grid::new(self.grid, &config.schedule.build())?;
        let x0 = training_images::<B::InnerBackend>(&self.data, config, self.images, self.seed, &device)?;
        let model = Analysed::new(model);
        let mut meta = HeatmapMeta {
            checkpoint: self.run.display().to_string(),
            weights: self.weights.to_string(),
            grid: self.grid,
            images: self.images,
            probes: self.probes,
            seed: self.seed,
            estimator: match self.estimator {
                Estimator::Vjp => "vjp".into(),
                Estimator::Fd => format!("fd(h={DEFAULT_FD_STEP})"),
            },
            data: self.data.display().to_string(),
            device: format!("{device:?}"),
            git_commit: lift_core::run::git_commit(),
            seconds: 0.0,
            normalisation: "mean over images of ‖J‖²_F/(H_in·W_in·H_out·W_out) per block, Rademacher probes, \
                            no chain-rule factor"
                .into(),
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
        let map = Heatmap { t_grid: grid.t.clone(), snr: grid.snr.clone(), log_snr: grid.log_snr.clone(), blocks: blocks_of(&rows), meta };
        map.validate().context("the computed heatmap is not valid (a non-finite Jacobian?)")?;
        map.save(&self.out)?;
        std::fs::remove_file(&partial_file).ok();
        Ok(map)
    }
}

fn blocks_of(rows: &[Row]) -> Blocks {
    let pick = |f: fn(&CellEstimate) -> MeanSe| -> Block {
        let values = |g: fn(MeanSe) -> f64| -> Matrix { rows.iter().map(|r| r.cells.iter().map(|c| g(f(c))).collect()).collect() };
        Block { mean: values(|v| v.mean), se: values(|v| v.se) }
    };
    Blocks { hh: pick(|c| c.hh), hl: pick(|c| c.hl), lh: pick(|c| c.lh), ll: pick(|c| c.ll) }
}

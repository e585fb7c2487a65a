//! Computing a heatmap: for every grid cell, fresh noise on a fixed set of training images, K
//! probes, all four Jacobian blocks. Rows are saved as they finish so a killed run resumes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use lift_core::grid::{Grid, GridSpec};
use lift_core::run::{load_run_at, Trained, Weights};
use lift_core::seed::mix;
use lift_core::{BackendTask, LiftConfig, ModelKind, Shard};
use serde::{Deserialize, Serialize};

use super::dual_scale::{Analysed, DualScale};
use super::file::{Block, Blocks, Heatmap, HeatmapMeta, Matrix};
use crate::clean_images::{noised, training_images, Images};
use crate::jacobian::{fd_sq_norms_pair, mean_se, rademacher, vjp_sq_norms_pair, Estimator, MeanSe, DEFAULT_FD_STEP};
use crate::progress::Progress;

/// Most samples (images × probes) per forward pass unless `--max-batch` says otherwise.
pub const DEFAULT_MAX_BATCH: usize = 64;

/// What `lift-analyze heatmap` was asked to do.
#[derive(Debug, Clone)]
pub struct HeatmapJob {
    pub run: PathBuf,
    pub weights: Weights,
    /// The snapshot's epoch (None: the run's final weights).
    pub epoch: Option<usize>,
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
    /// Only these rows, into a part file for `lift-analyze merge`.
    pub shard: Shard,
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
pub(crate) struct Row {
    pub index: usize,
    pub cells: Vec<CellEstimate>,
}

/// Rows done so far: a killed run's resume point, or a shard's part.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Partial {
    pub meta: HeatmapMeta,
    /// The grid's t, SNR and log SNR, so that parts merge without the run folder.
    #[serde(default)]
    pub axes: [Vec<f64>; 3],
    #[serde(default)]
    pub shard: Shard,
    pub rows: Vec<Row>,
}

/// `<out>.partial` for a whole job, `<out>.part-I-of-N` for a shard.
pub(crate) fn partial_path(out: &Path, shard: Shard) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let suffix = if shard.is_whole() { "partial".to_string() } else { shard.suffix() };
    out.with_file_name(format!("{name}.{suffix}"))
}

/// Per-image sums over probes of the four blocks' squared norms.
#[derive(Default, Clone)]
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

    /// Adds one cell's samples of a pass; sample s of a cell is image s mod n.
    fn add(&mut self, [hh, hl, lh, ll]: [&[f64]; 4]) {
        let n = self.hh.len();
        for (target, values) in [(&mut self.hh, hh), (&mut self.hl, hl), (&mut self.lh, lh), (&mut self.ll, ll)] {
            for (s, v) in values.iter().enumerate() {
                target[s % n] += v;
            }
        }
    }
}

/// One cell's noisy inputs.
struct CellInput<B: Backend> {
    x64: Tensor<B, 4>,
    x32: Tensor<B, 4>,
    seed: u64,
}

/// (HH, HL, LH, LL) per sample of one pass over stacked inputs with per-sample timesteps.
#[allow(clippy::type_complexity)]
fn pass<B: AutodiffBackend, M>(
    m: &Analysed<B, M>,
    (x64, x32): (Tensor<B::InnerBackend, 4>, Tensor<B::InnerBackend, 4>),
    (t64, t32): (Tensor<B::InnerBackend, 1>, Tensor<B::InnerBackend, 1>),
    (r64, r32): (Tensor<B::InnerBackend, 4>, Tensor<B::InnerBackend, 4>),
    estimator: Estimator,
) -> [Vec<f64>; 4]
where
    M: AutodiffModule<B> + DualScale<B>,
    M::InnerModule: DualScale<B::InnerBackend>,
{
    match estimator {
        Estimator::Vjp => {
            let (at64, at32) = (Tensor::<B, 1>::from_inner(t64), Tensor::<B, 1>::from_inner(t32));
            let forward = |a: Tensor<B, 4>, b: Tensor<B, 4>| m.model.predict(a, b, at64.clone(), at32.clone());
            // Probes on ε̂₆₄ give J_HHᵀr and J_HLᵀr; probes on ε̂₃₂ give J_LHᵀr and J_LLᵀr.
            let (hh, hl) = vjp_sq_norms_pair::<B>(|a, b| forward(a, b).0, x64.clone(), x32.clone(), r64);
            if !m.inner.predicts_coarse() {
                let zeros = vec![0.0; hh.len()];
                return [hh, hl, zeros.clone(), zeros];
            }
            let (lh, ll) = vjp_sq_norms_pair::<B>(|a, b| forward(a, b).1, x64, x32, r32);
            [hh, hl, lh, ll]
        }
        Estimator::Fd => {
            let h = DEFAULT_FD_STEP;
            // Perturbing x₆₄ moves ε̂₆₄ by J_HH·r and ε̂₃₂ by J_LH·r; perturbing x₃₂, by J_HL·r and J_LL·r.
            let (hh, lh) = fd_sq_norms_pair(|x| m.inner.predict(x, x32.clone(), t64.clone(), t32.clone()), x64.clone(), r64, h);
            let (hl, ll) = fd_sq_norms_pair(|x| m.inner.predict(x64.clone(), x, t64.clone(), t32.clone()), x32, r32, h);
            [hh, hl, lh, ll]
        }
    }
}

/// Estimates one cell: `x0` holds the clean images at both scales; the noise is drawn from
/// `noise_seed`, the probes from `probe_seed`.
#[allow(clippy::too_many_arguments)]
pub fn estimate_cell<B: AutodiffBackend, M>(
    m: &Analysed<B, M>,
    x0: &Images<B::InnerBackend>,
    grid: &Grid,
    cell: (usize, usize),
    probes: usize,
    seeds: (u64, u64),
    estimator: Estimator,
    max_batch: usize,
) -> CellEstimate
where
    M: AutodiffModule<B> + DualScale<B>,
    M::InnerModule: DualScale<B::InnerBackend>,
{
    estimate_cells(m, x0, grid, &[cell], probes, seeds, estimator, max_batch).remove(0)
}

/// Estimates several cells, stacked into passes of up to `max_batch` samples (images × probes ×
/// cells), with the same noise and probes per cell as one at a time: larger operations keep a
/// CPU's cores busy where a single small cell cannot.
#[allow(clippy::too_many_arguments)]
pub fn estimate_cells<B: AutodiffBackend, M>(
    m: &Analysed<B, M>,
    x0: &Images<B::InnerBackend>,
    grid: &Grid,
    cells: &[(usize, usize)],
    probes: usize,
    (noise_seed, probe_seed): (u64, u64),
    estimator: Estimator,
    max_batch: usize,
) -> Vec<CellEstimate>
where
    M: AutodiffModule<B> + DualScale<B>,
    M::InnerModule: DualScale<B::InnerBackend>,
{
    let n = x0.x64.dims()[0];
    let device = x0.x64.device();
    let inputs: Vec<CellInput<B::InnerBackend>> = cells
        .iter()
        .map(|&(i, j)| {
            let cell = (i * 1000 + j) as u64;
            CellInput {
                x64: noised(x0.x64.clone(), grid.alpha_bar[i], mix(noise_seed, cell * 2)),
                x32: noised(x0.x32.clone(), grid.alpha_bar[j], mix(noise_seed, cell * 2 + 1)),
                seed: mix(probe_seed, cell),
            }
        })
        .collect();
    let per_pass = (max_batch / n).clamp(1, probes);
    let cells_per_pass = (max_batch / (n * per_pass)).max(1);
    let mut sums = vec![Sums::new(n); cells.len()];
    for group in (0..cells.len()).collect::<Vec<_>>().chunks(cells_per_pass) {
        let mut done = 0;
        while done < probes {
            let k = per_pass.min(probes - done);
            let cat = |f: &dyn Fn(usize) -> Tensor<B::InnerBackend, 4>| Tensor::cat(group.iter().map(|&c| f(c)).collect(), 0);
            let x64 = cat(&|c| inputs[c].x64.clone().repeat_dim(0, k));
            let x32 = cat(&|c| inputs[c].x32.clone().repeat_dim(0, k));
            // Probe p of a cell has its own seed, so how probes are split into passes changes nothing.
            let probe_block = |c: usize, dims: [usize; 4], salt: u64| {
                let one = |p: usize| rademacher::<B::InnerBackend>([n, 3, dims[2], dims[3]], mix(inputs[c].seed, p as u64 * 2 + salt), &device);
                Tensor::cat((done..done + k).map(one).collect(), 0)
            };
            let r64 = cat(&|c| probe_block(c, x0.x64.dims(), 0));
            let r32 = cat(&|c| probe_block(c, x0.x32.dims(), 1));
            let times = |axis: usize| -> Tensor<B::InnerBackend, 1> {
                let t: Vec<f32> =
                    group.iter().flat_map(|&c| std::iter::repeat_n(grid.t[if axis == 0 { cells[c].0 } else { cells[c].1 }] as f32, n * k)).collect();
                Tensor::from_floats(t.as_slice(), &device)
            };
            let out = pass(m, (x64, x32), (times(0), times(1)), (r64, r32), estimator);
            for (g, &c) in group.iter().enumerate() {
                let part = |v: &Vec<f64>| -> Vec<f64> { v[g * n * k..(g + 1) * n * k].to_vec() };
                let (a, b, cc, d) = (part(&out[0]), part(&out[1]), part(&out[2]), part(&out[3]));
                sums[c].add([&a, &b, &cc, &d]);
            }
            done += k;
        }
    }
    let (hw64, hw32) = ((x0.x64.dims()[2] * x0.x64.dims()[3]) as f64, (x0.x32.dims()[2] * x0.x32.dims()[3]) as f64);
    // ‖J‖²_F/(H_in·W_in·H_out·W_out), averaged over probes, then mean and s.e. over images.
    let scale = |s: &[f64], size: f64| mean_se(&s.iter().map(|v| v / probes as f64 / size).collect::<Vec<_>>());
    sums.iter()
        .map(|s| CellEstimate { hh: scale(&s.hh, hw64 * hw64), hl: scale(&s.hl, hw32 * hw64), lh: scale(&s.lh, hw64 * hw32), ll: scale(&s.ll, hw32 * hw32) })
        .collect()
}

impl crate::spread::Sharded for HeatmapJob {
    const WHAT: &'static str = "heatmap";
    fn with_shard(self, shard: Shard) -> Self {
        Self { shard, ..self }
    }
    fn shard(&self) -> Shard {
        self.shard
    }
    fn part_file(&self, shard: Shard) -> PathBuf {
        partial_path(&self.out, shard)
    }
}

impl BackendTask for HeatmapJob {
    /// The heatmap, or `None` for a shard (its part file is written).
    type Output = Result<Option<Heatmap>>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Option<Heatmap>> {
        let start = Instant::now();
        let trained = load_run_at::<B>(&self.run, self.weights, self.epoch, &device)?;
        let kind = trained.info.model;
        match trained.model {
            Trained::Lift(model) => self.compute(Analysed::new(model), kind, &trained.config, start, device),
            Trained::SingleOutput(model) => self.compute(Analysed::new(model), kind, &trained.config, start, device),
            Trained::Baseline(_) => bail!("{} is a baseline run: heatmaps need a model with a coarse input", self.run.display()),
        }
    }
}

impl HeatmapJob {
    fn compute<B: AutodiffBackend, M>(
        self,
        model: Analysed<B, M>,
        kind: ModelKind,
        config: &LiftConfig,
        start: Instant,
        device: B::Device,
    ) -> Result<Option<Heatmap>>
    where
        M: AutodiffModule<B> + DualScale<B>,
        M::InnerModule: DualScale<B::InnerBackend>,
    {
        let grid = Grid::new(self.grid, &config.schedule.build())?;
        let x0 = training_images::<B::InnerBackend>(&self.data, config, self.images, self.seed, &device)?;
        let mut meta = HeatmapMeta {
            checkpoint: self.run.display().to_string(),
            weights: crate::sweep::weights_label(&self),
            grid: self.grid,
            images: self.images,
            probes: self.probes,
            seed: self.seed,
            estimator: match self.estimator {
                Estimator::Vjp => "vjp".into(),
                Estimator::Fd => format!("fd(h={DEFAULT_FD_STEP})"),
            },
            data: self.data.display().to_string(),
            device: lift_core::device::device_name::<B::InnerBackend>(&device),
            resolution: config.model.resolution,
            git_commit: lift_core::run::git_commit(),
            seconds: 0.0,
            normalisation: "mean over images of ‖J‖²_F/(H_in·W_in·H_out·W_out) per block, Rademacher probes, \
                            no chain-rule factor"
                .into(),
            model: kind,
        };
        let partial_file = partial_path(&self.out, self.shard);
        let mut rows: Vec<Row> = match lift_core::io::read_json::<Partial>(&partial_file) {
            Ok(p) if p.meta.same_job(&meta) && p.shard == self.shard => {
                meta.seconds = p.meta.seconds;
                println!("resuming {}: {} of {} rows done", self.out.display(), p.rows.len(), grid.len());
                p.rows
            }
            _ => Vec::new(),
        };
        let n = grid.len();
        let mine = self.shard.range(n, 1);
        let axes = [grid.t.clone(), grid.snr.clone(), grid.log_snr.clone()];
        let progress = Progress::new("heatmap", (mine.len() * n) as u64, (rows.len() * n) as u64);
        let session = Instant::now();
        for i in mine {
            if rows.iter().any(|r| r.index == i) {
                continue;
            }
            let row: Vec<(usize, usize)> = (0..n).map(|j| (i, j)).collect();
            let cells = estimate_cells(&model, &x0, &grid, &row, self.probes, (self.seed, self.seed), self.estimator, self.max_batch);
            for _ in &cells {
                progress.inc();
            }
            rows.push(Row { index: i, cells });
            let snapshot = HeatmapMeta { seconds: meta.seconds + session.elapsed().as_secs_f64(), ..meta.clone() };
            lift_core::io::write_json(&partial_file, &Partial { meta: snapshot, axes: axes.clone(), shard: self.shard, rows: rows.clone() })?;
        }
        progress.finish();
        if !self.shard.is_whole() {
            return Ok(None);
        }
        meta.seconds += start.elapsed().as_secs_f64();
        let map = assemble(meta, axes, rows)?;
        map.save(&self.out)?;
        std::fs::remove_file(&partial_file).ok();
        Ok(Some(map))
    }
}

/// The heatmap of all rows.
pub(crate) fn assemble(meta: HeatmapMeta, [t_grid, snr, log_snr]: [Vec<f64>; 3], mut rows: Vec<Row>) -> Result<Heatmap> {
    rows.sort_by_key(|r| r.index);
    let map = Heatmap { t_grid, snr, log_snr, blocks: blocks_of(&rows), meta };
    map.validate().context("the computed heatmap is not valid (a non-finite Jacobian?)")?;
    Ok(map)
}

fn blocks_of(rows: &[Row]) -> Blocks {
    let pick = |f: fn(&CellEstimate) -> MeanSe| -> Block {
        let values = |g: fn(MeanSe) -> f64| -> Matrix { rows.iter().map(|r| r.cells.iter().map(|c| g(f(c))).collect()).collect() };
        Block { mean: values(|v| v.mean), se: values(|v| v.se) }
    };
    Blocks { hh: pick(|c| c.hh), hl: pick(|c| c.hl), lh: pick(|c| c.lh), ll: pick(|c| c.ll) }
}

//! `--budget 45m`: size the study to a wall-time budget on this machine. A short probe measures
//! the training, heatmap, sampling and Inception rates; the epochs, the sample counts, the seeds
//! and the heatmap protocol are then chosen to fit, and written to `budget.json` (reused while the
//! budget is the same, so a finished study stays finished) and into the report.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Distribution;
use lift_analyze::clean_images::Images;
use lift_analyze::fid::{extract, InceptionV3};
use lift_analyze::heatmap::{estimate_cells, Analysed};
use lift_analyze::jacobian::Estimator;
use lift_core::data::ImageSet;
use lift_core::grid::{Grid, GridSpec};
use lift_core::seed::seeded_tensor;
use lift_core::study::HeatmapSeeds;
use lift_core::{BackendTask, BaselineUNet, LiftConfig, LiftUNet, Strategy, TimestepRule};
use lift_train::batch::{batches_per_epoch, EpochLoader, NoiseSource};
use lift_train::loss::Denoiser;
use lift_train::plan::StepPlan;
use lift_train::step::Diffusion;
use serde::{Deserialize, Serialize};

use crate::measure::{seconds_per, train_steps};

/// A wall-time budget, written like `45m`, `90s` or `1h30m`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub seconds: f64,
}

impl Budget {
    /// "45m", "90s": for folder names.
    pub fn label(&self) -> String {
        let s = self.seconds.round() as u64;
        if s.is_multiple_of(60) {
            format!("{}m", s / 60)
        } else {
            format!("{s}s")
        }
    }
}

impl FromStr for Budget {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let mut total = 0.0;
        let mut number = String::new();
        for c in s.chars() {
            match c {
                '0'..='9' | '.' => number.push(c),
                'h' | 'm' | 's' => {
                    let v: f64 = number.parse().with_context(|| format!("budget '{s}': a number must precede '{c}'"))?;
                    total += v * match c {
                        'h' => 3600.0,
                        'm' => 60.0,
                        _ => 1.0,
                    };
                    number.clear();
                }
                _ => bail!("budget '{s}': expected a duration like 45m, 90s or 1h30m"),
            }
        }
        if !(number.is_empty() && (30.0..=30.0 * 86_400.0).contains(&total)) {
            bail!("budget '{s}': expected a duration like 45m, 90s or 1h30m, between 30 s and 30 days");
        }
        Ok(Self { seconds: total })
    }
}

/// Rates measured on this machine by the probe.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// Training images per second, baseline and LIFT (each measured while the other trains when
    /// the two run at once).
    pub train_baseline: f64,
    pub train_lift: f64,
    /// Whether the two trainings run at the same time.
    pub parallel_training: bool,
    /// Seconds per heatmap cell (the config's images × probes, both Jacobian passes).
    pub heatmap_cell: f64,
    /// Image-evaluations per second when sampling with LIFT.
    pub sample: f64,
    /// Images per second through Inception at the model's resolution.
    pub inception: f64,
    /// Seconds to load the Inception weights (once per sample set).
    pub inception_load: f64,
    /// Seconds for the real set's FID statistics and √Σ (once per study).
    pub fid_reference: f64,
    /// Seconds the probe itself took (spent from the budget).
    pub probe: f64,
}

/// What the budget bought, saved in `budget.json` and shown in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sizing {
    pub budget: Budget,
    pub rates: Rates,
    pub epochs: usize,
    pub fid_images: usize,
    pub seeds: usize,
    /// Epochs evaluated per weights (each with its own heatmaps, paths and samples), evenly spaced
    /// and ending at the last.
    pub eval_points: usize,
    pub heatmap_seeds: HeatmapSeeds,
    /// The strategies and protocols sampled (fewer than the preset's when the budget is short).
    pub strategies: Vec<Strategy>,
    pub protocols: Vec<TimestepRule>,
    /// Seconds the plan expects per part: training, heatmaps, generation and features.
    pub planned: [f64; 3],
}

/// The sizing's file in the study folder.
pub const FILE: &str = "budget.json";

/// Shares of the budget: training, heatmaps, evaluation (the rest: MSE, figures, overheads).
const SHARES: [f64; 3] = [0.48, 0.07, 0.35];
/// Epochs a budgeted run evaluates per weights: enough to show where each model is best (the
/// tiny preset's validation loss turns upwards about half-way through a 45-minute run).
const EVAL_POINTS: usize = 4;
/// The part of the budget the plan may fill; the rest covers stages the probe does not time.
const PLANNED: f64 = 0.92;
/// Seconds each epoch costs beyond its training steps (the Learner's epoch bookkeeping, the
/// validation passes, the checkpoint and metrics writes), which the probe does not time. Measured
/// on the 2-core machine with the smoke preset: 691 epochs took 179 s where the steps alone
/// account for 99 s, 0.116 s per epoch; rounded up.
const EPOCH_OVERHEAD: f64 = 0.15;
/// The fewest seeds a comparison of strategies is stated with.
const MIN_SEEDS: usize = 3;
/// KID and FID need some images per set.
const MIN_IMAGES: usize = 16;
/// Training sample grids a budgeted run writes at most: a small data set trains hundreds of
/// epochs, and a grid every epoch would cost more than the training.
const MAX_GRIDS: usize = 10;

/// Chooses the sizes for `config` (the base preset) from measured `rates`.
pub fn size(config: &LiftConfig, budget: Budget, rates: Rates, train_images: usize) -> Sizing {
    let st = &config.study;
    let per_epoch = (batches_per_epoch(train_images, &config.train) * config.train.batch_size) as f64;
    let (baseline, lift) = (per_epoch / rates.train_baseline, per_epoch / rates.train_lift);
    let epoch_seconds = if rates.parallel_training { baseline.max(lift) } else { baseline + lift } + EPOCH_OVERHEAD;
    let seeds = st.seeds.max(MIN_SEEDS);
    let snapshots = (EVAL_POINTS * st.weights.len()) as f64;
    let cells = (st.heatmap_grid.points() * st.heatmap_grid.points()) as f64 * rates.heatmap_cell;
    let heatmap_seeds = if cells * snapshots * seeds as f64 <= SHARES[1] * budget.seconds { HeatmapSeeds::PerSeed } else { HeatmapSeeds::Shared };
    let heatmaps = snapshots * if heatmap_seeds == HeatmapSeeds::PerSeed { seeds as f64 } else { 1.0 };
    let evaluations = config.sample.steps as f64 + 1.0;
    let real = if st.real_images == 0 { train_images } else { st.real_images } as f64 / rates.inception + rates.fid_reference;
    let per_image = evaluations / rates.sample + 1.0 / rates.inception;
    let sets = |s: &lift_core::study::StudyConfig| (s.sample_sets().len() * seeds) as f64 * snapshots;
    let fixed = |s: &lift_core::study::StudyConfig| real + sets(s) * rates.inception_load;
    // A sweep samples the original's protocol only; a short budget then keeps only the write-up's
    // main strategies.
    let mut study = st.clone();
    if EVAL_POINTS > 1 {
        study.protocols.retain(|p| *p == TimestepRule::Reference);
    }
    let affordable = |s: &lift_core::study::StudyConfig| ((SHARES[2] * budget.seconds - fixed(s)) / (sets(s) * per_image)).floor().max(0.0) as usize;
    if affordable(&study) < MIN_IMAGES {
        study.protocols.retain(|p| *p == TimestepRule::Reference);
    }
    if affordable(&study) < MIN_IMAGES {
        study.strategies.retain(|s| Strategy::MAIN.contains(s));
    }
    let fid_images = affordable(&study).max(MIN_IMAGES);
    let evaluation = fixed(&study) + sets(&study) * fid_images as f64 * per_image;
    // Training gets its share, or less when the fewest images and seeds cost more than theirs.
    let left = PLANNED * budget.seconds - rates.probe - cells * heatmaps - evaluation;
    // Whole multiples of the evaluation points, so the evaluated epochs are evenly spaced.
    let epochs = ((left.min(SHARES[0] * budget.seconds) / epoch_seconds / EVAL_POINTS as f64).floor() as usize).max(1) * EVAL_POINTS;
    Sizing {
        budget,
        rates,
        epochs,
        fid_images,
        seeds,
        eval_points: EVAL_POINTS,
        heatmap_seeds,
        strategies: study.strategies,
        protocols: study.protocols,
        planned: [epochs as f64 * epoch_seconds, cells * heatmaps, evaluation],
    }
}

impl Sizing {
    /// `config` with the chosen sizes.
    pub fn apply(&self, config: &LiftConfig) -> LiftConfig {
        let mut c = config.clone();
        c.train.epochs = self.epochs;
        if c.train.sample_every > 0 {
            c.train.sample_every = c.train.sample_every.max(self.epochs.div_ceil(MAX_GRIDS));
        }
        c.study.fid_images = self.fid_images;
        c.study.seeds = self.seeds;
        c.study.eval_epochs = lift_core::EpochSpec::Every(self.epochs / self.eval_points);
        c.study.heatmap_seeds = self.heatmap_seeds;
        c.study.strategies = self.strategies.clone();
        c.study.protocols = self.protocols.clone();
        c
    }
}

/// The sizing saved in `file` for this budget, or a new probe's.
pub fn load_or_probe(file: &Path, config: &LiftConfig, budget: Budget, images: &ImageSet, device: lift_core::DeviceSpec, parallel: bool) -> Result<Sizing> {
    if let Ok(s) = lift_core::io::read_json::<Sizing>(file) {
        if s.budget == budget && s.rates.parallel_training == parallel {
            return Ok(s);
        }
    }
    println!("measuring this machine's speed for a {:.0} s budget …", budget.seconds);
    let inception = Path::new(lift_analyze::fid::DEFAULT_WEIGHTS).to_path_buf();
    let rates = lift_core::run_on(device, Probe { config: config.clone(), images: Arc::new(images.clone()), inception, parallel })??;
    let (train, _) = images.split(config.train.validation_fraction, config.train.seed);
    let sizing = size(config, budget, rates, train.len());
    lift_core::io::write_json(file, &sizing)?;
    Ok(sizing)
}

struct Probe {
    config: LiftConfig,
    images: Arc<ImageSet>,
    inception: std::path::PathBuf,
    /// Time the two trainings side by side, as they will run.
    parallel: bool,
}

impl BackendTask for Probe {
    type Output = Result<Rates>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Rates> {
        let start = Instant::now();
        let (c, m) = (&self.config, &self.config.model);
        let b = c.train.batch_size;
        let source = Arc::new(NoiseSource::new(self.images.clone(), c.schedule.build()));
        let batch = EpochLoader::<B>::train(source, (0..self.images.len()).collect(), &c.train, 1, device.clone()).batch_of(1, 0);
        let train_rate = |seconds: f64| b as f64 / seconds;
        let plan = || StepPlan::new(c.train.clone(), 1, 0, None);
        let seconds = |lift: bool| match lift {
            true => seconds_per(PROBE_STEPS, train_steps(Diffusion::new(LiftUNet::<B>::new(m, &device), plan()), batch.clone(), &c.train)),
            false => seconds_per(PROBE_STEPS, train_steps(Diffusion::new(BaselineUNet::<B>::new(m, &device), plan()), batch.clone(), &c.train)),
        };
        let (tb, tl) = match self.parallel {
            true => {
                let both = lift_cpu::threads::side_by_side([false, true].map(|lift| move || seconds(lift)).into());
                (both[0], both[1])
            }
            false => (seconds(false), seconds(true)),
        };
        let (train_baseline, train_lift) = (train_rate(tb), train_rate(tl));
        let (r, n) = (m.resolution, c.study.heatmap_images);
        let x64 = seeded_tensor::<B::InnerBackend, 4>([n, 3, r, r], Distribution::Uniform(-1.0, 1.0), 1, &device);
        let x0 = Images { x32: lift_core::model::resample::downsample_2x(x64.clone()), x64 };
        let grid = Grid::new(GridSpec::TLinspace { points: 8 }, &c.schedule.build())?;
        let model = Analysed::new(LiftUNet::<B>::new(m, &device));
        let row: Vec<(usize, usize)> = (0..8).map(|j| (3, j)).collect();
        let heatmap_cell = seconds_per(1, || drop(estimate_cells(&model, &x0, &grid, &row, c.study.heatmap_probes, (1, 2), Estimator::Vjp, 64))) / 8.0;
        let net = model.inner.clone();
        let noise = |side: usize| seeded_tensor::<B::InnerBackend, 4>([c.study.batch, 3, side, side], Distribution::Normal(0.0, 1.0), 2, &device);
        let ts: Vec<usize> = vec![999, 500, 0];
        let sample =
            c.study.batch as f64 * ts.len() as f64 / seconds_per(1, || drop(net.sample(&c.schedule.build(), &ts, noise(r), noise(m.coarse_resolution()))));
        let loading = Instant::now();
        let inception = match InceptionV3::<B::InnerBackend>::load(&self.inception, &device) {
            Ok(inception) => {
                let x = seeded_tensor::<B::InnerBackend, 4>([8, 3, r, r], Distribution::Uniform(0.0, 1.0), 3, &device);
                8.0 / seconds_per(1, || drop(extract(&inception, x.clone(), c.study.fid_resize)))
            }
            Err(e) => bail!("the probe needs the Inception weights: {e:#}"),
        };
        let inception_load = loading.elapsed().as_secs_f64() - 2.0 * 8.0 / inception;
        let fid_reference = reference_seconds(if c.study.real_images == 0 { self.images.len() } else { c.study.real_images });
        Ok(Rates {
            train_baseline,
            train_lift,
            parallel_training: self.parallel,
            heatmap_cell,
            sample,
            inception,
            inception_load: inception_load.max(0.0),
            fid_reference,
            probe: start.elapsed().as_secs_f64(),
        })
    }
}

/// Seconds for the statistics and √Σ of `n` random feature vectors: a full eigendecomposition
/// from 2,048 images on, a small one below.
fn reference_seconds(n: usize) -> f64 {
    use lift_analyze::fid::frechet::{Reference, Stats};
    let dim = lift_analyze::fid::DIM;
    let features: Vec<f32> = (0..n.max(2) * dim).map(|k| ((k * 7919) % 1009) as f32 / 1009.0).collect();
    let start = Instant::now();
    if let Ok(stats) = Stats::from_features(&features, dim) {
        drop(Reference::new(stats));
    }
    start.elapsed().as_secs_f64()
}

/// Training steps the probe times per model (after one warm-up): about two seconds on the tiny preset.
const PROBE_STEPS: usize = 9;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_and_bad_ones_are_named() {
        assert_eq!("45m".parse::<Budget>().unwrap().seconds, 2700.0);
        assert_eq!("1h30m".parse::<Budget>().unwrap().seconds, 5400.0);
        assert_eq!("90s".parse::<Budget>().unwrap().seconds, 90.0);
        for bad in ["45", "m", "10s", "abc", "-5m"] {
            assert!(bad.parse::<Budget>().unwrap_err().to_string().contains("budget"), "{bad}");
        }
    }

    #[test]
    fn sizes_fill_the_budget_shares() {
        let config = LiftConfig::from_toml(include_str!("../../../configs/tiny.toml")).unwrap();
        // Rates like the 2-core machine's on the tiny preset (trainings side by side), 99 training images.
        let rates = Rates {
            train_baseline: 51.0,
            train_lift: 51.0,
            parallel_training: true,
            heatmap_cell: 0.11,
            sample: 405.0,
            inception: 10.1,
            inception_load: 0.5,
            fid_reference: 1.0,
            probe: 20.0,
        };
        let s = size(&config, "45m".parse().unwrap(), rates, 99);
        // Snapshots: 4 epochs × raw and EMA = 8. Heatmaps: 144 cells × 0.11 s = 15.84 s each; per seed
        // 8 × 3 × 15.84 = 380 s > 7 % of 2,700 s = 189 s, so one per snapshot: 126.7 s.
        assert_eq!((s.eval_points, s.seeds, s.heatmap_seeds), (4, 3, HeatmapSeeds::Shared));
        assert!((s.planned[1] - 8.0 * 15.84).abs() < 1e-9, "{:?}", s.planned);
        // A sweep samples the reference protocol: 4 strategies × 3 seeds × 8 snapshots = 96 sets.
        // Real: 512/10.1 + 1 = 51.69 s; fixed 51.69 + 96 × 0.5 = 99.69 s; per image 19/405 + 1/10.1
        // = 0.14591 s; (945 − 99.69)/(96 × 0.14591) = 60.35 → 60 images per set.
        assert_eq!(s.protocols, vec![TimestepRule::Reference]);
        assert_eq!(s.fid_images, 60);
        // Epochs: 12 batches of 8 at 51 images/s + 0.15 s = 2.032 s; 48 % of 2,700 s = 1,296 s
        // (below what is left, 1,397 s) buys 637.8 epochs: 159 per evaluation point, 636 in all.
        assert_eq!(s.epochs, 636);
        let applied = s.apply(&config);
        assert_eq!(applied.study.eval_epochs.resolve(applied.train.epochs).unwrap(), [159, 318, 477, 636]);
        assert_eq!((applied.train.epochs, applied.study.seeds), (636, 3));
        assert_eq!(applied.train.sample_every, 64, "636 epochs: ten grids");
        // A slow Inception: the fewest images, and only the main strategies.
        let slow = size(&config, "45m".parse().unwrap(), Rates { inception: 0.05, ..rates }, 99);
        assert_eq!(slow.fid_images, MIN_IMAGES);
        // When the evaluation overruns the budget, training gives way down to one epoch per point.
        let short = size(&config, "45m".parse().unwrap(), Rates { inception: 0.2, ..rates }, 99);
        assert_eq!(short.epochs, EVAL_POINTS);
    }
}

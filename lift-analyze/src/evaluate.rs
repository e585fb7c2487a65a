//! `lift-analyze evaluate`: samples for every (run, snapshot, strategy, protocol, seed), their
//! FID, KID and SWD against the real images, the memorisation check against the run's training
//! images, and the write-up's table with mean ± std (ddof 0) over seeds. A snapshot is the raw or
//! EMA weights after one of `study.eval_epochs`, with its own heatmaps and paths. Generated images
//! are scored from the sampler's floats (the original's protocol); every piece is cached on disk,
//! so an interrupted evaluation continues where it stopped.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use lift_core::run::{RunDir, RunInfo, Weights};
use lift_core::study::StudyConfig;
use lift_core::{run_on, Devices, ModelKind, Snapshot, Strategy, TimestepRule};
use serde::{Deserialize, Serialize};

use crate::fid::features::FeatureFile;
use crate::fid::frechet::Reference;
use crate::fid::kid::{kid, Kid, SUBSETS as KID_SUBSETS, SUBSET_SIZE as KID_SUBSET_SIZE};
use crate::fid::prdc::{Balls, Prdc, DC_NEIGHBOURS, PR_NEIGHBOURS};
use crate::fid::{FeatureJob, FeatureProtocol, Stats, DIM};
use crate::generate::{FeatureSpec, GenerateJob, PngBits};
use crate::images::{folder_planes, planes_of, real_files};
use crate::memorisation::{self, Memorisation};
use crate::study_dir::StudyDir;
use crate::swd::{swd, Planes};

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvaluateJob {
    /// Where the path files are read from and the samples and results go.
    pub dir: StudyDir,
    /// Run folders (LIFT and/or baseline).
    pub runs: Vec<PathBuf>,
    /// Folder of real images.
    pub real: PathBuf,
    /// Strategies, protocols, image counts, seeds, resize, weights and batch.
    pub study: StudyConfig,
    /// "N steps".
    pub steps: usize,
    pub inception: PathBuf,
    /// Each sample set is split over these devices (real features on the first).
    pub devices: Devices,
}

/// One evaluated sample set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResultRow {
    pub model: ModelKind,
    pub run: String,
    pub strategy: Strategy,
    pub protocol: TimestepRule,
    pub seed: usize,
    pub evaluations: usize,
    pub parameters: usize,
    /// The snapshot's weights and epoch.
    pub weights: Weights,
    pub epochs: usize,
    pub images: usize,
    pub fid: f64,
    /// KID ×10³ (mean over subsets) and its standard deviation over them.
    pub kid_x1e3: f64,
    pub kid_std_x1e3: f64,
    pub swd_x1e3: f64,
    /// Precision and recall (k = 3), density and coverage (k = 5); None for sets of 5 images or
    /// fewer, and in results written before they were computed.
    #[serde(default)]
    pub prdc: Option<Prdc>,
    /// Nearest training images (None when the run's data split cannot be rebuilt).
    pub memorisation: Option<Memorisation>,
    pub samples: PathBuf,
}

impl ResultRow {
    /// The snapshot the row's samples come from.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot { weights: self.weights, epoch: self.epochs }
    }
}

/// The real images' reference statistics, features and planes.
pub struct Real {
    pub reference: Reference,
    pub files: Vec<PathBuf>,
    pub features: Vec<f32>,
    pub planes: Planes,
    /// The real features' balls for precision, recall, density and coverage (None when there
    /// are too few real images), made once for every sample set.
    pub balls: Option<Balls>,
}

/// Runs the evaluation; returns every row (also written to `results.json` and `results.md`).
pub fn evaluate(job: &EvaluateJob) -> Result<Vec<ResultRow>> {
    let mut rows = Vec::new();
    let mut real: Option<(usize, Real)> = None;
    let mut memo = None;
    for run_dir in &job.runs {
        let (config, info) = RunDir(run_dir.clone()).load()?;
        let resolution = config.model.resolution;
        if real.as_ref().map(|(r, _)| *r) != Some(resolution) {
            real = Some((resolution, real_reference(job, resolution)?));
        }
        let reference = &real.as_ref().expect("set above").1;
        // Runs trained on the same images with the same split share one memorisation reference.
        let key = (info.dataset.path.clone(), config.train.validation_fraction.to_bits(), config.train.seed, resolution);
        if memo.as_ref().map(|(k, _)| k) != Some(&key) {
            memo = Some((key, memorisation_reference(job, reference, &config, &info)?));
        }
        let memo = memo.as_ref().and_then(|(_, m)| m.as_ref());
        let run_name = run_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
        for snapshot in job.study.snapshots(info.epochs_completed)? {
            for (strategy, protocol) in job.study.sample_sets().into_iter().filter(|(s, _)| s.serves(info.model)) {
                for seed in 0..job.study.seeds {
                    let path = match strategy.needs_heatmap() {
                        true => Some(path_file(job, snapshot, seed, strategy, protocol)?),
                        false => None,
                    };
                    let samples = job.dir.samples(&run_name, snapshot, strategy, protocol, seed);
                    let gen = GenerateJob {
                        run: run_dir.clone(),
                        weights: snapshot.weights,
                        epoch: Some(snapshot.epoch),
                        strategy,
                        path,
                        num_images: job.study.fid_images,
                        out: samples.clone(),
                        steps: job.steps,
                        protocol,
                        batch: job.study.batch,
                        seed: seed as u64,
                        bits: PngBits::Sixteen,
                        features: Some(FeatureSpec { inception: job.inception.clone(), resize: job.study.fid_resize }),
                        shard: lift_core::Shard::WHOLE,
                    };
                    let m = score(job, reference, memo, gen, resolution)?;
                    rows.push(ResultRow {
                        model: info.model,
                        run: run_name.clone(),
                        strategy,
                        protocol,
                        seed,
                        evaluations: m.evaluations,
                        parameters: info.parameters,
                        weights: snapshot.weights,
                        epochs: snapshot.epoch,
                        images: m.scores.images,
                        fid: m.scores.fid,
                        kid_x1e3: m.scores.kid.mean * 1e3,
                        kid_std_x1e3: m.scores.kid.std * 1e3,
                        swd_x1e3: m.scores.swd_x1e3,
                        prdc: m.scores.prdc,
                        memorisation: m.memorisation,
                        samples,
                    });
                }
            }
        }
    }
    lift_core::io::write_json(&job.dir.results(), &rows)?;
    let tables = format!("{}\n{}", results_table(&rows), crate::fidelity_table::fidelity_table(&rows));
    lift_core::io::write_atomic(&job.dir.results_table(), tables.as_bytes())?;
    Ok(rows)
}

fn path_file(job: &EvaluateJob, snapshot: Snapshot, seed: usize, strategy: Strategy, protocol: TimestepRule) -> Result<PathBuf> {
    let file = job.dir.path(snapshot, job.study.heatmap_seed(seed), strategy, protocol);
    if !file.exists() {
        bail!("{} is missing: the {strategy} strategy needs its path (made from the {snapshot} heatmaps by the paths stage)", file.display());
    }
    Ok(file)
}

/// The run's training and held-out images (its own split, rebuilt from its config) with their
/// features, taken from the real reference where it has them. None when the run's data folder
/// is gone or the run skipped unreadable images (the split's indices would not match the folder).
fn memorisation_reference(job: &EvaluateJob, real: &Real, config: &lift_core::LiftConfig, info: &RunInfo) -> Result<Option<memorisation::Reference>> {
    let Ok(files) = lift_core::data::list_images(&info.dataset.path) else { return Ok(None) };
    if info.dataset.skipped > 0 || files.len() != info.dataset.images {
        return Ok(None);
    }
    let (train, held_out) = lift_core::data::split_indices(files.len(), config.train.validation_fraction, config.train.seed);
    let pick = |idx: &[usize]| idx.iter().map(|&k| files[k].clone()).collect::<Vec<_>>();
    let (train, held_out) = (pick(&train), pick(&held_out));
    let resolution = config.model.resolution;
    let features = |files: &[PathBuf]| -> Result<Vec<f32>> {
        let rows: Vec<Option<usize>> = files.iter().map(|f| real.files.iter().position(|r| r == f)).collect();
        if rows.iter().all(Option::is_some) {
            return Ok(rows.iter().flat_map(|r| real.features[r.expect("all found") * DIM..][..DIM].iter().copied()).collect());
        }
        file_features(job, files, resolution, "training images".into())
    };
    Ok(Some(memorisation::Reference {
        train_features: features(&train)?,
        train_planes: planes_of(&train, resolution)?,
        held_out_features: features(&held_out)?,
        held_out_planes: planes_of(&held_out, resolution)?,
        train_files: train,
        dim: DIM,
    }))
}

/// The real images' features (cached in the study's evaluate folder), statistics and planes.
pub fn real_reference(job: &EvaluateJob, resolution: usize) -> Result<Real> {
    let files = real_files(&job.real, job.study.real_images, job.study.real_subset)?;
    let cache = job.dir.real_features(resolution, job.study.real_subset, files.len(), job.study.fid_resize);
    let features = match FeatureFile::read(&cache, files.len()) {
        Ok(f) => f,
        Err(_) => {
            let features = file_features(job, &files, resolution, "real images".into())?;
            lift_core::io::write_atomic(&cache, &features.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>())?;
            features
        }
    };
    let protocol = FeatureProtocol { resize: job.study.fid_resize, resolution };
    let stats = Stats { protocol: Some(protocol), ..Stats::from_features(&features, DIM)? };
    let stats_file = job.dir.real_stats(resolution, job.study.real_subset, files.len(), job.study.fid_resize);
    if !stats_file.exists() {
        stats.save(&stats_file)?;
    }
    let balls = Balls::study(&features, DIM).ok();
    Ok(Real { reference: Reference::new(stats), features, planes: planes_of(&files, resolution)?, files, balls })
}

/// pool3 features of image files on the job's main device.
fn file_features(job: &EvaluateJob, files: &[PathBuf], resolution: usize, label: String) -> Result<Vec<f32>> {
    let feature_job =
        FeatureJob { weights: job.inception.clone(), files: files.to_vec(), resolution, resize: job.study.fid_resize, batch: job.study.batch, label };
    run_on(job.devices.main(), feature_job)?
}

/// FID, KID and SWD of one set of generated images against the real ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scores {
    pub images: usize,
    pub fid: f64,
    pub kid: Kid,
    pub swd_x1e3: f64,
    /// Precision, recall, density and coverage (None below k + 1 images in a set).
    #[serde(default)]
    pub prdc: Option<Prdc>,
}

impl Scores {
    /// Scores `n` generated images from their pool3 features and pixels; `seed` draws the KID
    /// subsets and SWD projections.
    fn of(real: &Real, features: &[f32], planes: &Planes, seed: u64) -> Result<Self> {
        Ok(Self {
            images: planes.n,
            fid: real.reference.distance(&Stats::from_features(features, DIM)?),
            kid: kid(&real.features, features, DIM, KID_SUBSETS, KID_SUBSET_SIZE, seed)?,
            swd_x1e3: swd(&real.planes, planes, seed)?.mean_x1e3,
            prdc: match (&real.balls, prdc_possible(real, planes.n)) {
                (Some(balls), true) => Some(Prdc::of(balls, features)?),
                _ => None,
            },
        })
    }
}

/// True when both sets have more images than the largest k of [`Prdc::of`].
fn prdc_possible(real: &Real, fake: usize) -> bool {
    real.balls.is_some() && fake > PR_NEIGHBOURS.max(DC_NEIGHBOURS)
}

/// Metrics of one sample set, cached beside the samples.
#[derive(Serialize, Deserialize)]
struct SampleMetrics {
    evaluations: usize,
    #[serde(flatten)]
    scores: Scores,
    memorisation: Option<Memorisation>,
}

fn score(job: &EvaluateJob, real: &Real, memo: Option<&memorisation::Reference>, gen: GenerateJob, resolution: usize) -> Result<SampleMetrics> {
    let dir = gen.out.clone();
    let cache = dir.join("metrics.json");
    if let Ok(c) = lift_core::io::read_json::<SampleMetrics>(&cache) {
        let prdc_done = c.scores.prdc.is_some() || !prdc_possible(real, c.scores.images);
        if c.scores.images == gen.num_images && prdc_done && dir.join("generation.json").exists() {
            return Ok(c);
        }
    }
    let n = gen.num_images;
    let report = crate::generate::parts::generate_on(gen, &job.devices)?;
    let fake_features = FeatureFile::read(&dir.join(FeatureFile::NAME), n)?;
    let planes = folder_planes(&dir, resolution, n)?;
    let seed = dir.file_name().and_then(|s| s.to_str()).and_then(|s| s.strip_prefix("seed-")).and_then(|s| s.parse().ok()).unwrap_or(0);
    let memorisation = memo.map(|m| memorisation::check(m, &fake_features, &planes)).transpose()?;
    let c = SampleMetrics { evaluations: report.evaluations, scores: Scores::of(real, &fake_features, &planes, seed)?, memorisation };
    lift_core::io::write_json(&cache, &c)?;
    Ok(c)
}

/// Scores the images of a folder that another program generated (the PyTorch peer's), with the
/// same real reference, features and subsets as our own sample sets of seed `seed`.
pub fn score_folder(job: &EvaluateJob, real: &Real, dir: &Path, resolution: usize, seed: u64) -> Result<Scores> {
    let files = lift_core::data::list_images(dir)?;
    let features = file_features(job, &files, resolution, format!("{} images", dir.display()))?;
    Scores::of(real, &features, &planes_of(&files, resolution)?, seed)
}

/// "mean ± std" over seeds, the std with ddof = 0 as the original's tables (numpy's default),
/// or the single value.
pub fn mean_std(values: &[f64], decimals: usize) -> String {
    let mean = crate::stats::mean(values);
    if values.len() < 2 {
        return format!("{mean:.decimals$}");
    }
    format!("{mean:.decimals$} ± {:.decimals$}", crate::stats::std_population(values))
}

/// Distinct values in order of first appearance.
pub fn in_order<T: PartialEq + Copy>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The write-up's FID table: one row per (run, snapshot, strategy), one column group per
/// protocol; mean ± std (ddof 0) over seeds.
pub fn results_table(rows: &[ResultRow]) -> String {
    let protocols = in_order(rows.iter().map(|r| r.protocol));
    let mut s = String::from("| Model / Path Strategy | Parameters | Weights | Epoch |");
    for p in &protocols {
        s.push_str(&format!(" NFE ({p}) | FID ({p}) | KID×10³ ({p}) | SWD×10³ ({p}) |"));
    }
    s.push_str("\n|---|---|---|---|");
    s.push_str(&"---|---|---|---|".repeat(protocols.len()));
    s.push('\n');
    for (run, snapshot, strategy) in in_order(rows.iter().map(|r| (r.run.as_str(), r.snapshot(), r.strategy))) {
        let mine: Vec<&ResultRow> = rows.iter().filter(|r| r.run == run && r.snapshot() == snapshot && r.strategy == strategy).collect();
        let first = mine[0];
        let label = match first.model.is_single_output() {
            true => format!("{}, {strategy}", first.model.label()),
            false => strategy.label().to_string(),
        };
        s.push_str(&format!("| {label} | {:.2}M | {} | {} |", first.parameters as f64 / 1e6, snapshot.weights, snapshot.epoch));
        for p in &protocols {
            let sel: Vec<&&ResultRow> = mine.iter().filter(|r| r.protocol == *p).collect();
            if sel.is_empty() {
                s.push_str(" – | – | – | – |");
                continue;
            }
            let column = |f: fn(&ResultRow) -> f64| mean_std(&sel.iter().map(|r| f(r)).collect::<Vec<_>>(), 2);
            s.push_str(&format!(" {} | {} | {} | {} |", sel[0].evaluations, column(|r| r.fid), column(|r| r.kid_x1e3), column(|r| r.swd_x1e3)));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        // ddof 0: √(((1 − 2)² + (3 − 2)²)/2) = 1.
        assert_eq!(mean_std(&[1.0, 3.0], 2), "2.00 ± 1.00");
        assert_eq!(mean_std(&[5.0], 1), "5.0");
        assert_eq!(in_order([3, 1, 3, 2, 1].into_iter()), [3, 1, 2]);
    }
}

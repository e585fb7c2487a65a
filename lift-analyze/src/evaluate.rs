//! `lift-analyze evaluate`: samples for every (run, strategy, protocol, seed), their FID and SWD
//! against the real images, and the write-up's table with mean ± std over seeds. Generated
//! images are scored from the sampler's floats (the original's protocol); every piece is cached
//! on disk, so an interrupted evaluation continues where it stopped.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use lift_core::run::RunDir;
use lift_core::study::StudyConfig;
use lift_core::{run_on, Devices, ModelKind, Strategy, TimestepRule};
use serde::{Deserialize, Serialize};

use crate::fid::features::FeatureFile;
use crate::fid::kid::{kid, Kid, SUBSETS as KID_SUBSETS, SUBSET_SIZE as KID_SUBSET_SIZE};
use crate::fid::frechet::Reference;
use crate::fid::{FeatureJob, Stats, DIM};
use crate::generate::{FeatureSpec, GenerateJob};
use crate::images::{folder_planes, planes_of, real_files};
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
    pub epochs: usize,
    pub images: usize,
    pub fid: f64,
    /// KID ×10³ (mean over subsets) and its standard deviation over them.
    pub kid_x1e3: f64,
    pub kid_std_x1e3: f64,
    pub swd_x1e3: f64,
    pub samples: PathBuf,
}

/// The real images' reference statistics, features and planes.
pub struct Real {
    pub reference: Reference,
    pub features: Vec<f32>,
    pub planes: Planes,
}

/// Runs the evaluation; returns every row (also written to `results.json` and `results.md`).
pub fn evaluate(job: &EvaluateJob) -> Result<Vec<ResultRow>> {
    let mut rows = Vec::new();
    let mut real: Option<(usize, Real)> = None;
    for run_dir in &job.runs {
        let (config, info) = RunDir(run_dir.clone()).load()?;
        let resolution = config.model.resolution;
        if real.as_ref().map(|(r, _)| *r) != Some(resolution) {
            real = Some((resolution, real_reference(job, resolution)?));
        }
        let reference = &real.as_ref().expect("set above").1;
        let run_name = run_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
        for (strategy, protocol) in job.study.sample_sets().into_iter().filter(|(s, _)| s.model() == info.model) {
            for seed in 0..job.study.seeds {
                let path = match strategy.needs_heatmap() {
                    true => Some(path_file(job, seed, strategy, protocol)?),
                    false => None,
                };
                let gen = GenerateJob {
                    run: run_dir.clone(),
                    weights: job.study.weights,
                    strategy,
                    path,
                    num_images: job.study.fid_images,
                    out: job.dir.samples(&run_name, strategy, protocol, seed),
                    steps: job.steps,
                    protocol,
                    batch: job.study.batch,
                    seed: seed as u64,
                    features: Some(FeatureSpec { inception: job.inception.clone(), resize: job.study.fid_resize }),
                    shard: lift_core::Shard::WHOLE,
                };
                let m = score(job, reference, gen, resolution)?;
                rows.push(ResultRow {
                    model: info.model,
                    run: run_name.clone(),
                    strategy,
                    protocol,
                    seed,
                    evaluations: m.evaluations,
                    parameters: info.parameters,
                    epochs: info.epochs_completed,
                    images: m.scores.images,
                    fid: m.scores.fid,
                    kid_x1e3: m.scores.kid.mean * 1e3,
                    kid_std_x1e3: m.scores.kid.std * 1e3,
                    swd_x1e3: m.scores.swd_x1e3,
                    samples: job.dir.samples(&run_name, strategy, protocol, seed),
                });
            }
        }
    }
    lift_core::io::write_json(&job.dir.results(), &rows)?;
    lift_core::io::write_atomic(&job.dir.results_table(), results_table(&rows).as_bytes())?;
    Ok(rows)
}

fn path_file(job: &EvaluateJob, seed: usize, strategy: Strategy, protocol: TimestepRule) -> Result<PathBuf> {
    let file = job.dir.path(job.study.heatmap_seed(seed), strategy, protocol);
    if !file.exists() {
        bail!("{} is missing: the {strategy} strategy needs its path (made from the heatmaps by the paths stage)", file.display());
    }
    Ok(file)
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
    let stats = Stats::from_features(&features, DIM)?;
    Ok(Real { reference: Reference::new(stats), features, planes: planes_of(&files, resolution)? })
}

/// pool3 features of image files on the job's main device.
fn file_features(job: &EvaluateJob, files: &[PathBuf], resolution: usize, label: String) -> Result<Vec<f32>> {
    let feature_job = FeatureJob { weights: job.inception.clone(), files: files.to_vec(), resolution, resize: job.study.fid_resize, batch: job.study.batch, label };
    run_on(job.devices.main(), feature_job)?
}

/// FID, KID and SWD of one set of generated images against the real ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scores {
    pub images: usize,
    pub fid: f64,
    pub kid: Kid,
    pub swd_x1e3: f64,
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
        })
    }
}

/// Metrics of one sample set, cached beside the samples.
#[derive(Serialize, Deserialize)]
struct SampleMetrics {
    evaluations: usize,
    #[serde(flatten)]
    scores: Scores,
}

fn score(job: &EvaluateJob, real: &Real, gen: GenerateJob, resolution: usize) -> Result<SampleMetrics> {
    let dir = gen.out.clone();
    let cache = dir.join("metrics.json");
    if let Ok(c) = lift_core::io::read_json::<SampleMetrics>(&cache) {
        if c.scores.images == gen.num_images && dir.join("generation.json").exists() {
            return Ok(c);
        }
    }
    let n = gen.num_images;
    let report = crate::generation_parts::generate_on(gen, &job.devices)?;
    let fake_features = FeatureFile::read(&dir.join(FeatureFile::NAME), n)?;
    let planes = folder_planes(&dir, resolution, n)?;
    let seed = dir.file_name().and_then(|s| s.to_str()).and_then(|s| s.strip_prefix("seed-")).and_then(|s| s.parse().ok()).unwrap_or(0);
    let c = SampleMetrics { evaluations: report.evaluations, scores: Scores::of(real, &fake_features, &planes, seed)? };
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

/// "mean ± std" over seeds (std with N − 1), or the single value.
pub fn mean_std(values: &[f64], decimals: usize) -> String {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return format!("{mean:.decimals$}");
    }
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    format!("{mean:.decimals$} ± {std:.decimals$}")
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

/// The write-up's FID table: one row per (run, strategy), one column group per protocol.
pub fn results_table(rows: &[ResultRow]) -> String {
    let protocols = in_order(rows.iter().map(|r| r.protocol));
    let mut s = String::from("| Model / Path Strategy | Parameters | Epochs |");
    for p in &protocols {
        s.push_str(&format!(" NFE ({p}) | FID ({p}) | KID×10³ ({p}) | SWD×10³ ({p}) |"));
    }
    s.push_str("\n|---|---|---|");
    s.push_str(&"---|---|---|---|".repeat(protocols.len()));
    s.push('\n');
    for (run, strategy) in in_order(rows.iter().map(|r| (r.run.as_str(), r.strategy))) {
        let mine: Vec<&ResultRow> = rows.iter().filter(|r| r.run == run && r.strategy == strategy).collect();
        let first = mine[0];
        s.push_str(&format!("| {} | {:.2}M | {} |", strategy.label(), first.parameters as f64 / 1e6, first.epochs));
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
        assert_eq!(mean_std(&[1.0, 3.0], 2), "2.00 ± 1.41");
        assert_eq!(mean_std(&[5.0], 1), "5.0");
        assert_eq!(in_order([3, 1, 3, 2, 1].into_iter()), [3, 1, 2]);
    }
}

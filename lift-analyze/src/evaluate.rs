//! `lift-analyze evaluate`: samples for every (model, path strategy, protocol, seed), their FID
//! and SWD against the real images, and the write-up's table with mean ± std over seeds.
//! Every piece is cached on disk, so an interrupted evaluation continues where it stopped.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lift_core::run::{RunDir, Weights};
use lift_core::{run_on, DeviceSpec, ModelKind, TimestepRule};
use serde::{Deserialize, Serialize};

use crate::fid::frechet::Reference;
use crate::fid::{stats_of, FeatureJob, Resize, Stats};
use crate::generate::{GenerateJob, PathChoice};
use crate::heatmap::Heatmap;
use crate::images::{folder_planes, planes_of, real_subset};
use crate::paths::{find_path, PathMode};
use crate::swd::{swd, Planes};

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvaluateJob {
    pub runs: Vec<PathBuf>,
    /// Heatmap of the LIFT run, for the DP-64 and DP-Total paths.
    pub heatmap: Option<PathBuf>,
    /// Folder of real images.
    pub real: PathBuf,
    pub out: PathBuf,
    pub num_images: usize,
    /// Real images to compare against (0 = all).
    pub real_images: usize,
    pub seeds: usize,
    pub protocols: Vec<TimestepRule>,
    pub steps: usize,
    pub max_jump: usize,
    pub resize: Resize,
    pub inception: PathBuf,
    pub weights: Weights,
    pub device: DeviceSpec,
    pub batch: usize,
}

/// One evaluated sample set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResultRow {
    pub model: ModelKind,
    pub run: String,
    pub strategy: String,
    pub protocol: String,
    pub seed: usize,
    pub evaluations: usize,
    pub parameters: usize,
    pub epochs: usize,
    pub images: usize,
    pub fid: f64,
    pub swd_x1e3: f64,
    pub samples: PathBuf,
}

/// Display name of a strategy, as in the write-up's tables.
pub fn strategy_label(strategy: &str) -> &'static str {
    match strategy {
        "baseline" => "Baseline (non-LIFT)",
        "diagonal" => "LIFT diagonal",
        "dp-64" => "LIFT DP-64",
        "dp-total" => "LIFT DP-Total",
        _ => "other",
    }
}

struct Real {
    reference: Reference,
    planes: Planes,
}

/// Runs the evaluation; returns every row (also written to `results.json` and `results.md`).
pub fn evaluate(job: &EvaluateJob) -> Result<Vec<ResultRow>> {
    std::fs::create_dir_all(&job.out)?;
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
        let strategies: Vec<&str> = match info.model {
            ModelKind::Baseline => vec!["baseline"],
            ModelKind::Lift if job.heatmap.is_some() => vec!["diagonal", "dp-64", "dp-total"],
            ModelKind::Lift => vec!["diagonal"],
        };
        for strategy in strategies {
            for &protocol in &job.protocols {
                let schedule = lift_core::NoiseSchedule::new(config.schedule.kind, config.schedule.timesteps);
                let choice = path_choice(job, strategy, protocol, &schedule)?;
                for seed in 0..job.seeds {
                    let dir = job.out.join("samples").join(&run_name).join(format!("{strategy}-{}", protocol.name())).join(format!("seed-{seed}"));
                    let m = evaluate_one(job, reference, run_dir, &dir, choice.clone(), protocol, seed, resolution)?;
                    rows.push(ResultRow {
                        model: info.model,
                        run: run_name.clone(),
                        strategy: strategy.into(),
                        protocol: protocol.name().into(),
                        seed,
                        evaluations: m.evaluations,
                        parameters: info.parameters,
                        epochs: info.epochs_completed,
                        images: m.images,
                        fid: m.fid,
                        swd_x1e3: m.swd_x1e3,
                        samples: dir,
                    });
                }
            }
        }
    }
    lift_core::io::write_json(&job.out.join("results.json"), &rows)?;
    lift_core::io::write_atomic(&job.out.join("results.md"), results_table(&rows).as_bytes())?;
    Ok(rows)
}

fn real_reference(job: &EvaluateJob, resolution: usize) -> Result<Real> {
    let files = real_subset(&job.real, job.real_images)?;
    let n = files.len();
    let cache = job.out.join(format!("real-{resolution}px-random{n}-{}.fidstats", serde_json::to_value(job.resize)?.as_str().unwrap_or("")));
    let stats = match Stats::load(&cache) {
        Ok(s) => s,
        Err(_) => {
            let features = run_on(job.device, feature_job(job, files.clone(), resolution, "real images"))??;
            let s = Stats::from_features(&features, crate::fid::DIM)?;
            s.save(&cache)?;
            s
        }
    };
    Ok(Real { reference: Reference::new(stats), planes: planes_of(&files, resolution)? })
}

fn feature_job(job: &EvaluateJob, files: Vec<PathBuf>, resolution: usize, label: &str) -> FeatureJob {
    FeatureJob { weights: job.inception.clone(), files, resolution, resize: job.resize, batch: job.batch, label: label.into() }
}

/// The path of a strategy under a protocol; DP paths come from the heatmap (N steps for the
/// reference protocol, N − 1 for the fair one so that they have exactly N evaluations).
fn path_choice(job: &EvaluateJob, strategy: &str, protocol: TimestepRule, schedule: &lift_core::NoiseSchedule) -> Result<PathChoice> {
    Ok(match strategy {
        "baseline" => PathChoice::Baseline,
        "diagonal" => PathChoice::Diagonal,
        dp => {
            let heatmap_file = job.heatmap.as_ref().context("DP paths need --heatmap")?;
            let map = Heatmap::load(heatmap_file)?;
            let mode = if dp == "dp-64" { PathMode::Fine } else { PathMode::Total };
            let steps = match protocol {
                TimestepRule::Reference => job.steps,
                TimestepRule::Fair => protocol.timesteps(job.steps, schedule.len()).len() - 1,
            };
            let path = find_path(&map, heatmap_file, mode, steps, job.max_jump, schedule)?;
            let file = job.out.join("paths").join(format!("{dp}-{}.json", protocol.name()));
            lift_core::io::write_json(&file, &path)?;
            PathChoice::File(file)
        }
    })
}

/// Metrics of one sample set, cached beside the samples.
#[derive(Serialize, Deserialize)]
struct SampleMetrics {
    evaluations: usize,
    images: usize,
    fid: f64,
    swd_x1e3: f64,
}

#[allow(clippy::too_many_arguments)]
fn evaluate_one(
    job: &EvaluateJob,
    real: &Real,
    run: &Path,
    dir: &Path,
    path: PathChoice,
    protocol: TimestepRule,
    seed: usize,
    resolution: usize,
) -> Result<SampleMetrics> {
    let metrics = dir.join("metrics.json");
    match lift_core::io::read_json::<SampleMetrics>(&metrics) {
        Ok(c) if c.images == job.num_images => Ok(c),
        _ => {
            let gen = GenerateJob {
                checkpoint: run.to_path_buf(),
                weights: job.weights,
                path,
                num_images: job.num_images,
                out: dir.to_path_buf(),
                steps: job.steps,
                protocol,
                batch: job.batch,
                seed: seed as u64,
            };
            let report = run_on(job.device, gen)??;
            let files: Vec<PathBuf> = (0..job.num_images).map(|k| dir.join(crate::generate::image_name(k))).collect();
            let fake = stats_of_files(job, files, resolution)?;
            let planes = folder_planes(dir, resolution, job.num_images)?;
            let c = SampleMetrics {
                evaluations: report.evaluations,
                images: job.num_images,
                fid: real.reference.distance(&fake),
                swd_x1e3: swd(&real.planes, &planes, seed as u64)?.mean_x1e3,
            };
            lift_core::io::write_json(&metrics, &c)?;
            Ok(c)
        }
    }
}

fn stats_of_files(job: &EvaluateJob, files: Vec<PathBuf>, resolution: usize) -> Result<Stats> {
    let dir = files.first().and_then(|f| f.parent()).map(Path::to_path_buf).unwrap_or_default();
    stats_of(&dir, &feature_job(job, files, resolution, "generated images"), job.device)
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

/// The write-up's FID table: one row per path strategy, one column pair per protocol.
pub fn results_table(rows: &[ResultRow]) -> String {
    // Protocols in order of first appearance (reference before fair, as evaluated).
    let mut protocols: Vec<String> = Vec::new();
    for r in rows {
        if !protocols.contains(&r.protocol) {
            protocols.push(r.protocol.clone());
        }
    }
    let mut s = String::from("| Model / Path Strategy | Parameters | Epochs |");
    for p in &protocols {
        s.push_str(&format!(" NFE ({p}) | FID ({p}) | SWD×10³ ({p}) |"));
    }
    s.push_str("\n|---|---|---|");
    s.push_str(&"---|---|---|".repeat(protocols.len()));
    s.push('\n');
    let mut keys: Vec<(String, String)> = rows.iter().map(|r| (r.run.clone(), r.strategy.clone())).collect();
    keys.dedup();
    for (run, strategy) in keys {
        let mine: Vec<&ResultRow> = rows.iter().filter(|r| r.run == run && r.strategy == strategy).collect();
        let first = mine[0];
        s.push_str(&format!("| {} | {:.2}M | {} |", strategy_label(&strategy), first.parameters as f64 / 1e6, first.epochs));
        for p in &protocols {
            let sel: Vec<&&ResultRow> = mine.iter().filter(|r| &r.protocol == p).collect();
            if sel.is_empty() {
                s.push_str(" – | – | – |");
                continue;
            }
            let fid: Vec<f64> = sel.iter().map(|r| r.fid).collect();
            let swd: Vec<f64> = sel.iter().map(|r| r.swd_x1e3).collect();
            s.push_str(&format!(" {} | {} | {} |", sel[0].evaluations, mean_std(&fid, 2), mean_std(&swd, 2)));
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
    }
}

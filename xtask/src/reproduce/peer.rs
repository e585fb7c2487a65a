//! `--peer`: the PyTorch peer (`bench/peer_train.py`, written from the spec, not from this code)
//! trains the baseline with this study's recipe, data and number of optimiser steps and samples it
//! the same way; our evaluation scores its images against the same real set, features and KID
//! subsets. A training or sampling defect of ours then shows as a gap to the peer instead of
//! hiding behind "too few epochs".

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};
use lift_analyze::evaluate::{real_reference, score_folder, EvaluateJob, ResultRow, Scores};
use lift_analyze::plot::sample_grid;
use lift_analyze::study_dir::StudyDir;
use lift_core::data::ImageSet;
use lift_core::run::RunDir;
use lift_core::{ModelKind, Strategy, TimestepRule};
use lift_train::batch::steps_per_epoch;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::stage::{hash_json, Outputs, Stages};
use super::Study;

/// The peer's script, relative to the workspace root.
const SCRIPT: &str = "bench/peer_train.py";
/// The seed the peer samples with; our baseline's sample set of this seed stands beside it.
const SEED: usize = 0;

/// What the peer stage measured (`peer/scores.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerScores {
    pub model: ModelKind,
    pub steps: usize,
    pub train_seconds: f64,
    pub torch: String,
    pub scores: Scores,
}

fn scores_file(dir: &StudyDir) -> PathBuf {
    dir.stage("peer").join("scores.json")
}

fn grid_file(dir: &StudyDir) -> PathBuf {
    dir.stage("peer").join("samples.png")
}

/// Optimiser steps our baseline took: its epochs times the steps of an epoch of its training split.
fn steps_taken(study: &Study) -> Result<usize> {
    let (config, info) = RunDir(study.dir.run(ModelKind::Baseline)).load()?;
    let images = ImageSet::load(&study.data, config.model.resolution, false)?;
    let (train, _) = images.split(config.train.validation_fraction, config.train.seed);
    Ok(info.epochs_completed * steps_per_epoch(train.len(), &config.train))
}

/// Runs the peer stage: training and sampling in Python, scoring here.
pub fn peer_stage(stages: &mut Stages, study: &Study) -> Result<()> {
    let c = &study.config;
    let script = std::fs::read_to_string(SCRIPT).with_context(|| format!("cannot read {SCRIPT} (run from the workspace root)"))?;
    let inputs = json!({ "train": c.train, "model": c.model, "sample": c.sample, "images": c.study.fid_images, "script": hash_json(&json!(script)) });
    stages.run("peer", inputs, |dir| {
        let steps = steps_taken(study)?;
        let run = study.dir.run(ModelKind::Baseline);
        let out = dir.join("baseline");
        // PyTorch's own default counts physical cores (one on a 2-vCPU machine): give it what ours uses.
        let threads = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse().ok()).filter(|&n: &usize| n > 0);
        let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        let python =
            crate::bench::torch::python().context("the peer needs a python3 that imports torch, PIL and numpy: apt-get install python3-torch python3-pil")?;
        let status = Command::new(python)
            .arg(SCRIPT)
            .args(["--config".as_ref(), run.join("config.toml").as_os_str()])
            .args(["--data".as_ref(), study.data.as_os_str()])
            .args(["--out".as_ref(), out.as_os_str()])
            .args(["--model", "baseline", "--steps", &steps.to_string(), "--images", &c.study.fid_images.to_string()])
            .args(["--seed", &SEED.to_string(), "--threads", &threads.to_string()])
            .status()
            .with_context(|| format!("cannot run python3 {SCRIPT}"))?;
        if !status.success() {
            bail!("python3 {SCRIPT} failed ({status}); its message is above");
        }
        let trained: serde_json::Value = lift_core::io::read_json(&out.join("train.json"))?;
        let job = EvaluateJob {
            dir: study.dir.clone(),
            runs: vec![],
            real: study.data.clone(),
            study: c.study.clone(),
            steps: c.sample.steps,
            inception: study.inception.clone(),
            devices: study.args.device.clone(),
        };
        let real = real_reference(&job, c.model.resolution)?;
        let samples = out.join("samples");
        let peer = PeerScores {
            model: ModelKind::Baseline,
            steps,
            train_seconds: trained["seconds"].as_f64().unwrap_or(f64::NAN),
            torch: trained["torch"].as_str().unwrap_or("?").to_string(),
            scores: score_folder(&job, &real, &samples, c.model.resolution, SEED as u64)?,
        };
        lift_core::io::write_json(&scores_file(&study.dir), &peer)?;
        sample_grid(&samples, &grid_file(&study.dir), 64)?;
        Ok(Outputs { summary: json!({ "steps": steps, "fid": peer.scores.fid }), files: vec![scores_file(&study.dir), grid_file(&study.dir)] })
    })?;
    Ok(())
}

/// The report's section: the peer beside our baseline at the same seed, when the stage ran.
pub fn section(s: &mut String, dir: &StudyDir, rows: &[ResultRow]) -> Result<()> {
    let Ok(peer) = lift_core::io::read_json::<PeerScores>(&scores_file(dir)) else { return Ok(()) };
    let ours = rows.iter().find(|r| r.strategy == Strategy::Baseline && r.protocol == TimestepRule::Reference && r.seed == SEED);
    let Some(ours) = ours else { return Ok(()) };
    writeln!(s, "## The PyTorch peer\n")?;
    writeln!(
        s,
        "`{SCRIPT}` (PyTorch {}) trained the baseline with this run's recipe, data and {} optimiser steps in {:.0} s and sampled \
         {} images at seed {SEED} the same way; both sets are scored here with the same real features and KID subsets.\n",
        peer.torch, peer.steps, peer.train_seconds, peer.scores.images
    )?;
    writeln!(s, "| Baseline, seed {SEED} | Images | FID | KID×10³ | SWD×10³ |\n|---|---|---|---|---|")?;
    writeln!(s, "| lift (Burn) | {} | {:.2} | {:.2} ± {:.2} | {:.2} |", ours.images, ours.fid, ours.kid_x1e3, ours.kid_std_x1e3, ours.swd_x1e3)?;
    let p = &peer.scores;
    writeln!(s, "| PyTorch peer | {} | {:.2} | {:.2} ± {:.2} | {:.2} |\n", p.images, p.fid, p.kid.mean * 1e3, p.kid.std * 1e3, p.swd_x1e3)?;
    writeln!(s, "Ours and the peer's samples:\n\n![ours](figures/samples-baseline-reference.png) ![peer](peer/samples.png)\n")?;
    Ok(())
}

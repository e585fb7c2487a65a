//! A training run's folder, as written by `lift-train` and read by the analysis:
//!
//! ```text
//! <run>/config.toml          the configuration the run was trained with
//! <run>/run.json             model kind, data set, git commit, device, epochs completed
//! <run>/metrics.csv          one row per epoch
//! <run>/checkpoint/          burn-train checkpoints (model-N, optim-N, scheduler-N), for --resume
//! <run>/weights/raw.mpk      final weights of the trained network
//! <run>/weights/ema.mpk      final EMA weights
//! <run>/weights/epoch-<E>/{raw,ema}.mpk   snapshots kept for a sweep (`train.snapshot_epochs`)
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{load_module, save_module};
use crate::config::{LiftConfig, ModelConfig};
use crate::kinds::ModelKind;
pub use crate::kinds::Weights;
use crate::model::{BaselineUNet, LiftUNet, SingleOutputUNet};

/// Where the training images came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub path: PathBuf,
    pub images: usize,
    pub skipped: usize,
    pub train_images: usize,
    pub valid_images: usize,
}

/// `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub model: ModelKind,
    pub parameters: usize,
    pub dataset: DatasetInfo,
    pub git_commit: String,
    pub device: String,
    pub epochs_planned: usize,
    pub epochs_completed: usize,
    /// Training seconds summed over all sessions of the run.
    #[serde(default)]
    pub train_seconds: f64,
}

/// Paths inside a run folder.
#[derive(Debug, Clone)]
pub struct RunDir(pub PathBuf);

impl RunDir {
    pub fn config(&self) -> PathBuf {
        self.0.join("config.toml")
    }
    pub fn info(&self) -> PathBuf {
        self.0.join("run.json")
    }
    pub fn metrics(&self) -> PathBuf {
        self.0.join("metrics.csv")
    }
    pub fn checkpoints(&self) -> PathBuf {
        self.0.join("checkpoint")
    }
    pub fn weights(&self, which: Weights) -> PathBuf {
        self.0.join("weights").join(format!("{which}.mpk"))
    }
    /// The weights kept after epoch `epoch` for a sweep.
    pub fn snapshot(&self, which: Weights, epoch: usize) -> PathBuf {
        self.0.join("weights").join(format!("epoch-{epoch}")).join(format!("{which}.mpk"))
    }
    /// The epochs with both snapshots on disk, increasing.
    pub fn snapshot_epochs(&self) -> Vec<usize> {
        let Ok(entries) = std::fs::read_dir(self.0.join("weights")) else { return Vec::new() };
        let mut epochs: Vec<usize> = entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("epoch-")?.parse().ok())
            .filter(|&e| [Weights::Raw, Weights::Ema].iter().all(|&w| self.snapshot(w, e).exists()))
            .collect();
        epochs.sort_unstable();
        epochs
    }

    /// Reads `config.toml` and `run.json`.
    pub fn load(&self) -> Result<(LiftConfig, RunInfo)> {
        if !self.0.is_dir() {
            bail!("run folder {} does not exist", self.0.display());
        }
        let config = LiftConfig::load(&self.config())?;
        let info: RunInfo = crate::io::read_json(&self.info())?;
        Ok((config, info))
    }
}

/// A trained network of any kind.
#[allow(clippy::large_enum_variant)] // the UNets differ by one small MLP; held once per command
pub enum Trained<B: Backend> {
    Lift(LiftUNet<B>),
    Baseline(BaselineUNet<B>),
    /// `single-t` or `no-t` (`SingleOutputUNet::is_timed` tells which).
    SingleOutput(SingleOutputUNet<B>),
}

impl<B: Backend> Trained<B> {
    /// A freshly initialised network of `kind` for a validated `config`.
    pub fn new(kind: ModelKind, config: &ModelConfig, device: &B::Device) -> Self {
        match kind {
            ModelKind::Lift => Self::Lift(LiftUNet::new(config, device)),
            ModelKind::Baseline => Self::Baseline(BaselineUNet::new(config, device)),
            ModelKind::SingleT | ModelKind::NoT => Self::SingleOutput(SingleOutputUNet::new(config, kind == ModelKind::SingleT, device)),
        }
    }

    /// Applies `f` to the network as a module (any of the kinds).
    pub fn map_module<M>(self, f: &mut M) -> Self
    where
        M: burn::module::ModuleMapper<B>,
    {
        match self {
            Self::Lift(m) => Self::Lift(m.map(f)),
            Self::Baseline(m) => Self::Baseline(m.map(f)),
            Self::SingleOutput(m) => Self::SingleOutput(m.map(f)),
        }
    }

    /// Visits the network's parameters.
    pub fn visit_module<V: burn::module::ModuleVisitor<B>>(&self, v: &mut V) {
        match self {
            Self::Lift(m) => m.visit(v),
            Self::Baseline(m) => m.visit(v),
            Self::SingleOutput(m) => m.visit(v),
        }
    }

    /// The number of parameters.
    pub fn num_params(&self) -> usize {
        match self {
            Self::Lift(m) => m.num_params(),
            Self::Baseline(m) => m.num_params(),
            Self::SingleOutput(m) => m.num_params(),
        }
    }

    /// Writes the weights atomically.
    pub fn save(self, path: &Path) -> Result<()> {
        match self {
            Self::Lift(m) => save_module(m, path),
            Self::Baseline(m) => save_module(m, path),
            Self::SingleOutput(m) => save_module(m, path),
        }
    }

    /// The same network with the weights in `path`.
    pub fn load(self, path: &Path, device: &B::Device) -> Result<Self> {
        Ok(match self {
            Self::Lift(m) => Self::Lift(load_module(m, path, device)?),
            Self::Baseline(m) => Self::Baseline(load_module(m, path, device)?),
            Self::SingleOutput(m) => Self::SingleOutput(load_module(m, path, device)?),
        })
    }
}

/// A run's configuration, its description and the chosen weights, loaded on `device`.
pub struct TrainedRun<B: Backend> {
    pub config: LiftConfig,
    pub info: RunInfo,
    pub model: Trained<B>,
}

/// Loads a finished run's weights; the error says what is missing or mismatched.
pub fn load_run<B: Backend>(dir: &Path, which: Weights, device: &B::Device) -> Result<TrainedRun<B>> {
    load_run_at(dir, which, None, device)
}

/// Loads a run's weights after `epoch` epochs (a snapshot), or its final ones for `None`.
pub fn load_run_at<B: Backend>(dir: &Path, which: Weights, epoch: Option<usize>, device: &B::Device) -> Result<TrainedRun<B>> {
    let run = RunDir(dir.to_path_buf());
    let (config, info) = run.load()?;
    // The final weights serve as the last epoch's snapshot of a run trained without snapshots.
    let path = match epoch {
        Some(e) if run.snapshot(which, e).exists() || e != info.epochs_completed => run.snapshot(which, e),
        _ => run.weights(which),
    };
    if let (Some(e), false) = (epoch, path.exists()) {
        bail!(
            "{} has no {which} snapshot of epoch {e} ({}); snapshots on disk: {:?}. Training keeps the epochs of \
             train.snapshot_epochs (reproduce sets them from study.eval_epochs)",
            dir.display(),
            path.display(),
            run.snapshot_epochs()
        );
    }
    if !path.exists() {
        bail!(
            "{} has no {} weights ({}): the run has not finished (epochs completed: {}/{}); \
             finish it with `lift-train --resume --out {}`",
            dir.display(),
            which,
            path.display(),
            info.epochs_completed,
            info.epochs_planned,
            dir.display()
        );
    }
    let model = Trained::new(info.model, &config.model, device).load(&path, device)?;
    Ok(TrainedRun { config, info, model })
}

/// The current git commit, or "unknown" outside a repository.
pub fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

//! The TOML configuration of a study: model shape, noise schedule, training and sampling.
//!
//! Every section rejects unknown keys, and [`LiftConfig::validate`] rejects impossible values with
//! a message that names the offending key, so a typo never silently falls back to a default.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::schedule::{NoiseSchedule, ScheduleKind};
use crate::study::StudyConfig;
use crate::timesteps::TimestepRule;
pub use crate::train_config::{LrSchedule, Precision, TrainConfig};

/// Shape of the UNet shared by the LIFT model and the single-scale baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Channels per encoder level; the decoder mirrors them.
    pub dims: Vec<usize>,
    /// GroupNorm groups in every norm layer.
    #[serde(default = "default_groups")]
    pub groups: usize,
    /// Attention heads.
    #[serde(default = "default_heads")]
    pub heads: usize,
    /// Levels with at least this many channels get self-attention.
    #[serde(default = "default_attention_min_channels")]
    pub attention_min_channels: usize,
    /// Width of the sinusoidal timestep embedding.
    #[serde(default = "default_time_embed_dim")]
    pub time_embed_dim: usize,
    /// Width of the time MLP output fed to every residual block.
    #[serde(default = "default_time_dim")]
    pub time_dim: usize,
    /// Side of the fine scale (the coarse scale is half of it).
    #[serde(default = "default_resolution")]
    pub resolution: usize,
}

fn default_groups() -> usize {
    8
}
fn default_heads() -> usize {
    4
}
fn default_attention_min_channels() -> usize {
    128
}
fn default_time_embed_dim() -> usize {
    64
}
fn default_time_dim() -> usize {
    256
}
fn default_resolution() -> usize {
    64
}

/// The forward-process noise schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// `cosine-clipped` (the original), `cosine` or `linear`.
    #[serde(default)]
    pub kind: ScheduleKind,
    /// Number of training timesteps.
    #[serde(default = "default_timesteps")]
    pub timesteps: usize,
}

fn default_timesteps() -> usize {
    1000
}

impl ScheduleConfig {
    /// The ᾱ table this section describes.
    pub fn build(&self) -> NoiseSchedule {
        NoiseSchedule::new(self.kind, self.timesteps)
    }
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self { kind: ScheduleKind::default(), timesteps: default_timesteps() }
    }
}

/// Sampling defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleConfig {
    /// "N steps" as the original counted them (see [`TimestepRule`]).
    pub steps: usize,
    #[serde(default)]
    pub protocol: TimestepRule,
}

impl SampleConfig {
    /// The original's "18 steps" (`generate_for_fid.py`).
    pub const ORIGINAL_STEPS: usize = 18;
}

/// A whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiftConfig {
    pub model: ModelConfig,
    #[serde(default)]
    pub schedule: ScheduleConfig,
    pub train: TrainConfig,
    pub sample: SampleConfig,
    #[serde(default)]
    pub study: StudyConfig,
}

impl LiftConfig {
    /// Reads, parses and validates a TOML file; errors name the file and the key.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("invalid config file {}", path.display()))
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        config.validate()?;
        Ok(config)
    }

    /// The TOML form, as saved beside checkpoints.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises")
    }

    /// Rejects values no run could use.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        let s = &self.schedule;
        if s.timesteps < 2 {
            bail!("schedule.timesteps must be at least 2 (got {})", s.timesteps);
        }
        self.train.validate()?;
        let n = self.sample.steps;
        if n == 0 || n >= s.timesteps {
            bail!("sample.steps must be in 1..{} (got {n})", s.timesteps);
        }
        self.study.eval_epochs.resolve(self.train.epochs).context("study.eval_epochs")?;
        self.study.validate(s.timesteps)
    }
}

impl ModelConfig {
    /// Rejects shapes the UNet cannot be built with.
    pub fn validate(&self) -> Result<()> {
        if self.dims.is_empty() {
            bail!("model.dims must list at least one level");
        }
        if self.groups == 0 {
            bail!("model.groups must be positive");
        }
        let last = *self.dims.last().expect("checked above");
        for &d in &self.dims {
            if d == 0 || d % self.groups != 0 {
                bail!("model.dims: {d} is not divisible by model.groups = {}", self.groups);
            }
            // The bottleneck always has attention.
            let attended = d >= self.attention_min_channels || d == last;
            if attended && (self.heads == 0 || d % self.heads != 0) {
                bail!("model.dims: {d} is not divisible by model.heads = {}", self.heads);
            }
        }
        if self.time_embed_dim < 4 || !self.time_embed_dim.is_multiple_of(2) {
            bail!("model.time_embed_dim must be even and at least 4 (got {})", self.time_embed_dim);
        }
        if self.time_dim == 0 {
            bail!("model.time_dim must be positive");
        }
        let factor = 1usize << self.dims.len();
        if self.resolution == 0 || !self.resolution.is_multiple_of(factor) {
            bail!("model.resolution {} is not divisible by 2^levels = {factor} (levels = len(model.dims))", self.resolution);
        }
        Ok(())
    }

    /// Side of the coarse scale.
    pub fn coarse_resolution(&self) -> usize {
        crate::data::coarse_side(self.resolution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = include_str!("../../configs/tiny.toml");

    fn error_for(from: &str, to: &str) -> String {
        assert!(TINY.contains(from), "fixture lacks {from}");
        format!("{:#}", LiftConfig::from_toml(&TINY.replacen(from, to, 1)).unwrap_err())
    }

    #[test]
    fn shipped_configs_parse() {
        let tiny = LiftConfig::from_toml(TINY).unwrap();
        assert_eq!(tiny.model.dims, vec![16, 32, 64]);
        let paper = LiftConfig::from_toml(include_str!("../../configs/paper.toml")).unwrap();
        assert_eq!(paper.train.batch_size, 64);
        assert_eq!(paper.train.lr, 1e-4);
        assert_eq!(paper.train.weight_decay, 0.01);
        assert_eq!(paper.train.grad_clip, 1.0);
        assert_eq!(paper.train.ema_decay, 0.9999);
        assert_eq!(paper.sample.steps, 18);
        assert_eq!(LiftConfig::from_toml(&paper.to_toml()).unwrap(), paper);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = error_for("groups = 8", "groups = 8\ndimz = 3");
        assert!(e.contains("dimz"), "{e}");
    }

    #[test]
    fn impossible_values_are_named() {
        let e = error_for("dims = [16, 32, 64]", "dims = [15, 32, 64]");
        assert!(e.contains("model.dims") && e.contains("15"), "{e}");
        let e = error_for("resolution = 32", "resolution = 36");
        assert!(e.contains("model.resolution"), "{e}");
        let e = error_for("lr = 1e-3", "lr = -1e-4");
        assert!(e.contains("train.lr"), "{e}");
        let e = error_for("ema_decay = 0.99", "ema_decay = 1.5");
        assert!(e.contains("train.ema_decay"), "{e}");
        let e = error_for("heads = 4", "heads = 3");
        assert!(e.contains("model.heads"), "{e}");
        let e = error_for("lr_schedule = \"constant\"", "lr_schedule = \"step\"");
        assert!(e.contains("step"), "{e}");
        let e = error_for("heatmap_grid = \"t-linspace:12\"", "heatmap_grid = \"cubic:12\"");
        assert!(e.contains("heatmap_grid") && e.contains("cubic"), "{e}");
        let e = error_for("weights = [\"raw\", \"ema\"]", "weights = [\"raw\", \"best\"]");
        assert!(e.contains("weights") && e.contains("best"), "{e}");
        let e = error_for("eval_epochs = \"every:100\"", "eval_epochs = \"100,301\"");
        assert!(e.contains("study.eval_epochs") && e.contains("epoch 301"), "{e}");
        let e = error_for("eval_epochs = \"every:100\"", "eval_epochs = \"every:0\"");
        assert!(e.contains("eval_epochs") && e.contains("every:0"), "{e}");
        let e = error_for("epochs = 300", "epochs = 300\nsnapshot_epochs = \"100,400\"");
        assert!(e.contains("train.snapshot_epochs") && e.contains("epoch 400"), "{e}");
        // One name for one weights, as older configs wrote it.
        let one = LiftConfig::from_toml(&TINY.replacen("weights = [\"raw\", \"ema\"]", "weights = \"ema\"", 1)).unwrap();
        assert_eq!(one.study.weights, [crate::run::Weights::Ema]);
        let e = error_for("mse_timestep = 500", "mse_timestep = 1000");
        assert!(e.contains("study.mse_timestep"), "{e}");
    }
}

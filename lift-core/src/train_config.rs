//! The `[train]` section: the optimiser, the schedule and the run's bookkeeping. Every key added
//! after the original's recipe defaults to "off", so `configs/paper.toml` trains as the original.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::epochs::EpochSpec;
use crate::noise_alignment::NoiseAlignment;

/// How the learning rate evolves over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// Fixed learning rate: what the original effectively trained with.
    #[default]
    Constant,
    /// Cosine annealing to zero over all optimiser steps, stepped every optimiser step.
    Cosine,
}

/// The number format of the forward and backward passes (weights, optimiser state and EMA stay f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Precision {
    #[default]
    #[value(name = "f32")]
    F32,
    /// bfloat16 activations and gradients through casts inside the step.
    #[value(name = "bf16")]
    Bf16,
}

crate::value_enum_names!(Precision);

/// Optimiser and run settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Images per micro-batch (per optimiser step when `accumulate` = 1).
    pub batch_size: usize,
    pub epochs: usize,
    pub lr: f64,
    #[serde(default)]
    pub lr_schedule: LrSchedule,
    /// Optimiser steps over which the learning rate rises linearly from 0 (0 = none).
    #[serde(default)]
    pub lr_warmup_steps: usize,
    pub weight_decay: f64,
    /// Gradient-norm clip; 0 disables clipping.
    pub grad_clip: f64,
    /// EMA decay per optimiser step.
    pub ema_decay: f64,
    /// diffusers' EMA warm-up: decay_t = min(ema_decay, 1 − (1 + t/ema_inv_gamma)^−ema_power).
    #[serde(default)]
    pub ema_warmup: bool,
    #[serde(default = "default_inv_gamma")]
    pub ema_inv_gamma: f64,
    #[serde(default = "default_power")]
    pub ema_power: f64,
    /// Micro-batches whose averaged gradient makes one optimiser step.
    #[serde(default = "one")]
    pub accumulate: usize,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Fraction of the images held out for validation (the original: 0, every image trains).
    #[serde(default)]
    pub validation_fraction: f64,
    /// Drop an epoch's last batch when it is short (the original's `drop_last = True`).
    #[serde(default = "yes")]
    pub drop_last: bool,
    /// Stop an epoch after this many optimiser steps (0 = the whole data set): for quick presets.
    #[serde(default)]
    pub max_batches_per_epoch: usize,
    /// Forward/backward number format.
    #[serde(default)]
    pub precision: Precision,
    /// On the CPU, each batch is split into parts of this many images whose forward and backward
    /// passes run at the same time, each in its own autodiff graph (0 = never split). The split
    /// does not depend on the thread count, so neither do the results.
    #[serde(default = "default_cpu_part")]
    pub cpu_part: usize,
    /// A grid of EMA samples every N epochs in `<run>/samples/` (0 = never).
    #[serde(default)]
    pub sample_every: usize,
    /// Save a checkpoint every N epochs (and after the last one).
    #[serde(default = "one")]
    pub checkpoint_every: usize,
    /// Checkpoints kept (older ones are deleted once a new one is complete).
    #[serde(default = "two")]
    pub keep_last: usize,
    /// Also keep the checkpoint with the lowest validation loss (needs a validation split).
    #[serde(default)]
    pub keep_best: bool,
    /// Keep the raw and EMA weights after these epochs in `<run>/weights/epoch-<E>/` for a sweep
    /// over training (`last`: none but the final weights).
    #[serde(default)]
    pub snapshot_epochs: EpochSpec,
    /// Also write TensorBoard event files into `<run>/tensorboard/` (lift-train's `--tensorboard
    /// DIR` chooses another folder).
    #[serde(default)]
    pub tensorboard: bool,
    /// How t₃₂ is drawn for a drawn t₆₄ in models with a coarse input: `independent` (LIFT's
    /// recipe), `same`, `scaled:F` or `path:FILE` (`later-experiments.md` §5).
    #[serde(default)]
    pub noise_alignment: NoiseAlignment,
}

fn default_seed() -> u64 {
    42
}
fn yes() -> bool {
    true
}
fn one() -> usize {
    1
}
fn two() -> usize {
    2
}
fn default_cpu_part() -> usize {
    4
}
fn default_inv_gamma() -> f64 {
    1.0
}
fn default_power() -> f64 {
    0.75
}

impl TrainConfig {
    /// Rejects values no run could use.
    pub fn validate(&self) -> Result<()> {
        for (key, v) in [("train.batch_size", self.batch_size), ("train.epochs", self.epochs), ("train.accumulate", self.accumulate)] {
            if v == 0 {
                bail!("{key} must be positive");
            }
        }
        if self.checkpoint_every == 0 || self.keep_last == 0 {
            bail!("train.checkpoint_every and train.keep_last must be positive");
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            bail!("train.lr must be a positive number (got {})", self.lr);
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            bail!("train.weight_decay must be >= 0 (got {})", self.weight_decay);
        }
        if !(self.grad_clip >= 0.0 && self.grad_clip.is_finite()) {
            bail!("train.grad_clip must be >= 0 (got {})", self.grad_clip);
        }
        if !(0.0..1.0).contains(&self.ema_decay) {
            bail!("train.ema_decay must be in [0, 1) (got {})", self.ema_decay);
        }
        if !(self.ema_inv_gamma > 0.0 && self.ema_power > 0.0 && self.ema_inv_gamma.is_finite() && self.ema_power.is_finite()) {
            bail!("train.ema_inv_gamma and train.ema_power must be positive");
        }
        if self.accumulate > 1 && !self.drop_last {
            bail!("train.accumulate > 1 needs train.drop_last = true (every optimiser step takes whole micro-batches)");
        }
        if !(0.0..1.0).contains(&self.validation_fraction) {
            bail!("train.validation_fraction must be in [0, 1) (got {})", self.validation_fraction);
        }
        self.snapshot_epochs.resolve(self.epochs).context("train.snapshot_epochs")?;
        Ok(())
    }

    /// The settings that decide the weights a run ends with (not its bookkeeping): a resumed run
    /// must keep them, except the number of epochs.
    pub fn trajectory(&self) -> Self {
        Self {
            epochs: 0,
            sample_every: 0,
            checkpoint_every: 1,
            keep_last: 1,
            keep_best: false,
            snapshot_epochs: EpochSpec::Last,
            tensorboard: false,
            ..self.clone()
        }
    }

    /// The EMA decay of optimiser step `step` (1 = the first): the configured one, or with
    /// `ema_warmup` diffusers' `EMAModel.get_decay` (0 at the first step, then
    /// 1 − (1 + (step − 1)/inv_gamma)^−power, capped at `ema_decay`).
    pub fn ema_decay_at(&self, step: usize) -> f64 {
        if !self.ema_warmup {
            return self.ema_decay;
        }
        let s = step.saturating_sub(1) as f64;
        if s <= 0.0 {
            return 0.0;
        }
        (1.0 - (1.0 + s / self.ema_inv_gamma).powf(-self.ema_power)).min(self.ema_decay)
    }

    /// The learning rate of optimiser step `step` (0 = the first) of `total` steps.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let warm = match self.lr_warmup_steps {
            0 => 1.0,
            w => ((step + 1) as f64 / w as f64).min(1.0),
        };
        let shape = match self.lr_schedule {
            LrSchedule::Constant => 1.0,
            LrSchedule::Cosine => 0.5 * (1.0 + (step.min(total) as f64 / total.max(1) as f64 * std::f64::consts::PI).cos()),
        };
        self.lr * warm * shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper() -> TrainConfig {
        crate::LiftConfig::from_toml(include_str!("../../configs/paper.toml")).unwrap().train
    }

    #[test]
    fn the_paper_recipe_has_every_added_feature_off() {
        let t = paper();
        assert_eq!((t.lr_warmup_steps, t.ema_warmup, t.accumulate, t.sample_every, t.precision), (0, false, 1, 0, Precision::F32));
        assert!(!t.keep_best && t.checkpoint_every == 1);
        // No warm-up: the constant rate from the first step, the fixed decay from the first update.
        assert_eq!((t.lr_at(0, 100), t.ema_decay_at(1)), (1e-4, 0.9999));
    }

    #[test]
    fn ema_warm_up_follows_diffusers() {
        // diffusers EMAModel.get_decay with use_ema_warmup, inv_gamma 1, power 3/4:
        // step = optimization_step − 1; 0 → 0; else 1 − (1 + step)^−0.75, capped at the decay.
        let mut t = paper();
        t.ema_warmup = true;
        assert_eq!(t.ema_decay_at(1), 0.0);
        // step 2 → s = 1: 1 − 2^−0.75 = 0.405396; step 11 → s = 10: 1 − 11^−0.75 = 0.834440.
        assert!((t.ema_decay_at(2) - 0.405_396).abs() < 1e-6);
        assert!((t.ema_decay_at(11) - 0.834_440).abs() < 1e-6);
        // Capped at 0.9999 once (1 + s)^−0.75 < 1e-4, i.e. s > 10^(16/3) − 1 ≈ 215,443.
        assert_eq!(t.ema_decay_at(300_000), 0.9999);
        assert!(t.ema_decay_at(200_000) < 0.9999);
    }

    #[test]
    fn lr_warm_up_and_cosine_by_hand() {
        let mut t = paper();
        t.lr_warmup_steps = 4;
        // Steps 0..3 of the warm-up: lr·1/4, 2/4, 3/4, 1.
        let lrs: Vec<f64> = (0..5).map(|s| t.lr_at(s, 100) / t.lr).collect();
        assert_eq!(lrs, [0.25, 0.5, 0.75, 1.0, 1.0]);
        t.lr_warmup_steps = 0;
        t.lr_schedule = LrSchedule::Cosine;
        // Cosine over 4 steps: 1, (1 + cos π/4)/2, 1/2, (1 − cos π/4)/2, 0.
        let c: Vec<f64> = (0..5).map(|s| t.lr_at(s, 4) / t.lr).collect();
        for (got, want) in c.iter().zip([1.0, 0.853_553_4, 0.5, 0.146_446_6, 0.0]) {
            assert!((got - want).abs() < 1e-6, "{c:?}");
        }
    }
}

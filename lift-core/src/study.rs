//! The `[study]` section: how `cargo xtask reproduce` measures a trained pair of models. Every
//! default is the original's newest protocol (`docs/protocol.md`); each deviation is a named value.

use anyhow::{bail, Result};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::chain_rule::ChainRule;
use crate::epochs::{EpochSpec, Snapshot};
use crate::grid::GridSpec;
use crate::kinds::Weights;
use crate::strategy::Strategy;
use crate::timesteps::TimestepRule;

/// Whose heatmap a sampling seed's DP paths come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum HeatmapSeeds {
    /// Each seed computes its own heatmap and paths (the original).
    #[default]
    #[value(name = "per-seed")]
    PerSeed,
    /// One heatmap (seed 0's) for all seeds.
    #[value(name = "shared")]
    Shared,
}

/// Which real images FID compares against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum RealSubset {
    /// The first N of the data set, in its order (the original).
    #[default]
    #[value(name = "first")]
    First,
    /// N drawn at random with a fixed seed (a name-sorted folder's first N over-represent its
    /// first categories).
    #[value(name = "random")]
    Random,
}

/// The resize from the sample resolution to Inception's 299×299.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Resize {
    /// PyTorch's bicubic with antialias = True (PIL's cubic, a = −0.5, out-of-image taps
    /// dropped and the rest renormalised), then clamped to [0, 1]: the original.
    #[default]
    #[value(name = "bicubic-aa")]
    BicubicAntialias,
    /// Plain bicubic (a = −0.75, border taps clamped), then clamped to [0, 1].
    #[value(name = "bicubic")]
    Bicubic,
    /// Bilinear, no clamp: pytorch-fid's own command line.
    #[value(name = "bilinear")]
    Bilinear,
}

/// How the MSE tests build the clean scale and choose their images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum MseProtocol {
    /// The original: the clean scale is the clean image itself (label t = 0) and its prediction
    /// is compared with zeros; images in data-set order, batches of 32 until the count is reached.
    #[default]
    #[value(name = "reference")]
    Reference,
    /// The clean scale noised at t = 0 (ᾱ₀ = 0.9999, inside the training distribution) and
    /// compared with the drawn noise; images drawn at random.
    #[value(name = "noised-t0")]
    NoisedT0,
}

crate::value_enum_names!(HeatmapSeeds, RealSubset, Resize, MseProtocol);

/// The `[study]` section of a config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StudyConfig {
    /// Heatmap grid.
    pub heatmap_grid: GridSpec,
    /// Training images per heatmap cell.
    pub heatmap_images: usize,
    /// Rademacher probes per image.
    pub heatmap_probes: usize,
    /// Per-seed heatmaps and paths, or one shared.
    pub heatmap_seeds: HeatmapSeeds,
    /// Chain-rule factor of the DP costs.
    pub chain_rule: ChainRule,
    /// Largest jump per axis and step of the DP paths.
    pub max_jump: usize,
    /// Strategies sampled and scored.
    pub strategies: Vec<Strategy>,
    /// Timestep protocols each strategy is sampled under.
    pub protocols: Vec<TimestepRule>,
    /// Generated images per (strategy, protocol, seed) for FID and SWD.
    pub fid_images: usize,
    /// Real images compared against (0 = all).
    pub real_images: usize,
    /// Which real images.
    pub real_subset: RealSubset,
    /// Resize to Inception's input.
    pub fid_resize: Resize,
    /// Sampling seeds (metrics are reported as mean ± std over them).
    pub seeds: usize,
    /// Images per MSE test (the reference protocol rounds up to whole batches of 32).
    pub mse_samples: usize,
    /// Timestep of the noisy scale in the MSE tests.
    pub mse_timestep: usize,
    /// How the MSE tests treat the clean scale.
    pub mse_protocol: MseProtocol,
    /// Weights of the MSE tests (the original: raw).
    pub mse_weights: Weights,
    /// Images super-resolved by the LIFT model in the super-resolution comparison (held-out ones first).
    pub sr_images: usize,
    /// Weights whose heatmaps, paths and samples are evaluated (the original's later tables: raw
    /// and EMA; a single name is accepted).
    #[serde(deserialize_with = "one_or_many")]
    pub weights: Vec<Weights>,
    /// The epochs evaluated: each one's own heatmaps, paths and samples (`last`, `every:N`, a list).
    pub eval_epochs: EpochSpec,
    /// Batch for generation and Inception features.
    pub batch: usize,
}

impl Default for StudyConfig {
    fn default() -> Self {
        Self {
            heatmap_grid: GridSpec::TLinspace { points: 30 },
            heatmap_images: 16,
            heatmap_probes: 4,
            heatmap_seeds: HeatmapSeeds::PerSeed,
            chain_rule: ChainRule::Sl,
            max_jump: 5,
            strategies: Strategy::MAIN.to_vec(),
            protocols: vec![TimestepRule::Reference, TimestepRule::Fair],
            fid_images: 15_803,
            real_images: 0,
            real_subset: RealSubset::First,
            fid_resize: Resize::BicubicAntialias,
            seeds: 5,
            mse_samples: 500,
            mse_timestep: 500,
            mse_protocol: MseProtocol::Reference,
            mse_weights: Weights::Raw,
            sr_images: 32,
            weights: vec![Weights::Raw, Weights::Ema],
            eval_epochs: EpochSpec::Every(200),
            batch: 64,
        }
    }
}

impl StudyConfig {
    /// Rejects values no study could use; `timesteps` is the schedule's length.
    pub fn validate(&self, timesteps: usize) -> Result<()> {
        for (key, value) in [
            ("study.heatmap_images", self.heatmap_images),
            ("study.heatmap_probes", self.heatmap_probes),
            ("study.max_jump", self.max_jump),
            ("study.fid_images", self.fid_images),
            ("study.seeds", self.seeds),
            ("study.mse_samples", self.mse_samples),
            ("study.sr_images", self.sr_images),
            ("study.batch", self.batch),
        ] {
            if value == 0 {
                bail!("{key} must be positive");
            }
        }
        if self.mse_timestep >= timesteps {
            bail!("study.mse_timestep must be below schedule.timesteps = {timesteps}");
        }
        if self.strategies.is_empty() {
            bail!("study.strategies must name at least one strategy");
        }
        if self.protocols.is_empty() {
            bail!("study.protocols must name at least one protocol");
        }
        if self.weights.is_empty() {
            bail!("study.weights must name raw, ema or both");
        }
        for (key, dup) in [
            ("study.strategies", has_duplicates(&self.strategies)),
            ("study.protocols", has_duplicates(&self.protocols)),
            ("study.weights", has_duplicates(&self.weights)),
        ] {
            if dup {
                bail!("{key} names a value twice");
            }
        }
        Ok(())
    }

    /// The (strategy, protocol) pairs sampled: every strategy under every protocol, except the
    /// older rules under `fair` (their N-point paths start at the grid's first SNR, not at T − 1).
    pub fn sample_sets(&self) -> Vec<(Strategy, TimestepRule)> {
        let mut sets = Vec::new();
        for &s in &self.strategies {
            for &p in &self.protocols {
                if !(s.is_older_rule() && p == TimestepRule::Fair) {
                    sets.push((s, p));
                }
            }
        }
        sets
    }

    /// The LIFT strategies whose paths come from a heatmap.
    pub fn heatmap_strategies(&self) -> Vec<Strategy> {
        self.strategies.iter().copied().filter(|s| s.needs_heatmap()).collect()
    }

    /// The heatmap a sampling seed uses: its own, or seed 0's when shared.
    pub fn heatmap_seed(&self, seed: usize) -> usize {
        match self.heatmap_seeds {
            HeatmapSeeds::PerSeed => seed,
            HeatmapSeeds::Shared => 0,
        }
    }

    /// The weights a single analysis uses by default: EMA when the study evaluates it (the
    /// original's best results), else the first listed.
    pub fn main_weights(&self) -> Weights {
        if self.weights.contains(&Weights::Ema) {
            Weights::Ema
        } else {
            self.weights.first().copied().unwrap_or_default()
        }
    }

    /// Every evaluated (weights, epoch) of a run of `epochs` epochs, by weights then epoch.
    pub fn snapshots(&self, epochs: usize) -> Result<Vec<Snapshot>> {
        let list = self.eval_epochs.resolve(epochs).map_err(|e| e.context("study.eval_epochs"))?;
        Ok(self.weights.iter().flat_map(|&weights| list.iter().map(move |&epoch| Snapshot { weights, epoch })).collect())
    }

    /// The heatmap seeds the study computes.
    pub fn heatmap_seed_list(&self) -> Vec<usize> {
        match self.heatmap_seeds {
            HeatmapSeeds::PerSeed => (0..self.seeds).collect(),
            HeatmapSeeds::Shared => vec![0],
        }
    }
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<Weights>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let names = match OneOrMany::deserialize(d)? {
        OneOrMany::One(w) => vec![w],
        OneOrMany::Many(v) => v,
    };
    names.iter().map(|n| n.parse().map_err(|e: anyhow::Error| serde::de::Error::custom(format!("{e:#}")))).collect()
}

fn has_duplicates<T: PartialEq>(v: &[T]) -> bool {
    v.iter().enumerate().any(|(i, a)| v[..i].contains(a))
}

//! A sampling path: the (t₆₄, t₃₂) pairs at which the LIFT model is evaluated, noisiest first,
//! and its JSON file form written by the DP and read by generation.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::chain_rule::ChainRule;
use crate::grid::GridSpec;
use crate::strategy::Strategy;

/// The evaluation timesteps of one sampling run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplingPath {
    /// (t₆₄, t₃₂) per model evaluation, noisiest first.
    pub timesteps: Vec<[usize; 2]>,
}

/// One DDIM step of a path: for each scale, the timestep evaluated and the one stepped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathStep {
    /// (t₆₄, t₃₂) evaluated.
    pub t: [usize; 2],
    /// (t₆₄, t₃₂) stepped to; (0, 0) after the last evaluation, as the original.
    pub t_prev: [usize; 2],
}

impl SamplingPath {
    /// Both scales at the same timesteps (γ₁ = γ₀).
    pub fn diagonal(timesteps: &[usize]) -> Self {
        Self { timesteps: timesteps.iter().map(|&t| [t, t]).collect() }
    }

    /// Number of model evaluations.
    pub fn evaluations(&self) -> usize {
        self.timesteps.len()
    }

    /// The DDIM steps: each evaluation paired with the next one, the last with (0, 0).
    pub fn steps(&self) -> Vec<PathStep> {
        let n = self.timesteps.len();
        (0..n).map(|i| PathStep { t: self.timesteps[i], t_prev: if i + 1 < n { self.timesteps[i + 1] } else { [0, 0] } }).collect()
    }

    /// Checks that the path is non-empty, inside the schedule and never gets noisier.
    pub fn validate(&self, train_timesteps: usize) -> Result<()> {
        if self.timesteps.is_empty() {
            bail!("a sampling path needs at least one evaluation");
        }
        for (i, pair) in self.timesteps.iter().enumerate() {
            if pair.iter().any(|&t| t >= train_timesteps) {
                bail!("path entry {i} {pair:?} is outside 0..{train_timesteps}");
            }
            if i > 0 {
                let prev = self.timesteps[i - 1];
                if pair[0] > prev[0] || pair[1] > prev[1] {
                    bail!("path entry {i} {pair:?} is noisier than entry {} {prev:?}", i - 1);
                }
            }
        }
        Ok(())
    }
}

/// A path's cost under the two objectives of the write-up's table, on its heatmap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PathCosts {
    /// The DP-64 objective (64×64 error only).
    pub fine: f64,
    /// The DP-Total objective (both scales).
    pub total: f64,
}

/// How a path was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathMeta {
    pub strategy: Strategy,
    pub chain_rule: ChainRule,
    /// Steps asked for (the path has steps + 1 points).
    pub steps: usize,
    /// Jump limit asked for and the one the search succeeded with (DP strategies only).
    pub max_jump_requested: Option<usize>,
    pub max_jump: Option<usize>,
    pub heatmap: String,
    pub grid: GridSpec,
    pub costs: PathCosts,
    pub git_commit: String,
}

/// The JSON file of a path: `{"indices", "timesteps", "snr", "cost", "meta"}`, first entry the
/// noisiest. `indices` are heatmap grid cells (row = 64×64 grid index, column = 32×32; the
/// nearest cell for points between grid points).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathFile {
    pub indices: Vec<[usize; 2]>,
    pub timesteps: Vec<[usize; 2]>,
    pub snr: Vec<[f64; 2]>,
    /// The path's cost under its own strategy's objective.
    pub cost: f64,
    pub meta: PathMeta,
}

impl PathFile {
    /// Reads and checks a path file.
    pub fn load(path: &Path, train_timesteps: usize) -> Result<Self> {
        let file: Self = crate::io::read_json(path)?;
        if file.snr.len() != file.timesteps.len() || (!file.indices.is_empty() && file.indices.len() != file.timesteps.len()) {
            bail!("{}: indices, timesteps and snr must have the same length", path.display());
        }
        file.sampling_path().validate(train_timesteps).with_context(|| format!("{} is not a usable sampling path", path.display()))?;
        Ok(file)
    }

    /// The timesteps as a [`SamplingPath`].
    pub fn sampling_path(&self) -> SamplingPath {
        SamplingPath { timesteps: self.timesteps.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_pair_each_evaluation_with_the_next_and_end_at_zero() {
        let p = SamplingPath { timesteps: vec![[999, 999], [500, 100], [0, 0]] };
        let s = p.steps();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0], PathStep { t: [999, 999], t_prev: [500, 100] });
        assert_eq!(s[2], PathStep { t: [0, 0], t_prev: [0, 0] });
    }

    #[test]
    fn validation_rejects_paths_that_get_noisier() {
        assert!(SamplingPath { timesteps: vec![[500, 500], [600, 0]] }.validate(1000).is_err());
        assert!(SamplingPath { timesteps: vec![[1000, 0]] }.validate(1000).is_err());
        assert!(SamplingPath { timesteps: vec![] }.validate(1000).is_err());
        assert!(SamplingPath::diagonal(&[990, 500, 0]).validate(1000).is_ok());
    }
}

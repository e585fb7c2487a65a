//! The heatmap JSON: per grid cell (row = fine-scale index, column = coarse-scale index, index 0
//! the noisiest) the four Jacobian blocks J_HH = ∂ε̂_fine/∂x_fine, J_HL = ∂ε̂_fine/∂x_coarse,
//! J_LH = ∂ε̂_coarse/∂x_fine and J_LL = ∂ε̂_coarse/∂x_coarse (the paper's H = 64×64, L = 32×32)
//! as ‖J‖²_F/(H_in·W_in·H_out·W_out), averaged over images, **without** a chain-rule factor:
//! [`Heatmap::errors`] applies one, so every variant reads the same file.

use std::path::Path;

use anyhow::{bail, Result};
use lift_core::chain_rule::ChainRule;
use lift_core::grid::GridSpec;
use lift_core::ModelKind;
use serde::{Deserialize, Serialize};

/// A square matrix of per-cell values, `[row][column]`.
pub type Matrix = Vec<Vec<f64>>;

/// How a heatmap was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatmapMeta {
    pub checkpoint: String,
    pub weights: String,
    pub grid: GridSpec,
    pub images: usize,
    pub probes: usize,
    pub seed: u64,
    pub estimator: String,
    pub data: String,
    /// The backend and device that computed it.
    #[serde(default)]
    pub device: String,
    /// Side of the fine scale (0 in files written before it was recorded).
    #[serde(default)]
    pub resolution: usize,
    #[serde(default)]
    pub git_commit: String,
    /// Wall time of the whole computation, seconds.
    #[serde(default)]
    pub seconds: f64,
    /// What a cell holds, in words.
    #[serde(default)]
    pub normalisation: String,
    /// The network differentiated; a single-output ablation's heatmap has the fine block only
    /// (ε̂₆₄ over both inputs: HH and HL; LH and LL are zero).
    #[serde(default = "lift_model")]
    pub model: ModelKind,
}

fn lift_model() -> ModelKind {
    ModelKind::Lift
}

impl HeatmapMeta {
    /// True when two runs compute the same numbers (timing and provenance aside).
    pub fn same_job(&self, other: &Self) -> bool {
        (&self.checkpoint, &self.weights, self.grid, self.images, self.probes, self.seed, &self.estimator, &self.data, self.model)
            == (&other.checkpoint, &other.weights, other.grid, other.images, other.probes, other.seed, &other.estimator, &other.data, other.model)
    }
}

/// One Jacobian block: per-cell mean over images and its standard error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub mean: Matrix,
    pub se: Matrix,
}

/// The four blocks, un-factored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blocks {
    pub hh: Block,
    pub hl: Block,
    pub lh: Block,
    pub ll: Block,
}

impl Blocks {
    fn named(&self) -> [(&'static str, &Block); 4] {
        [("hh", &self.hh), ("hl", &self.hl), ("lh", &self.lh), ("ll", &self.ll)]
    }
}

/// The four blocks times a chain-rule factor of their input scale's SNR: HH and LH by the
/// fine scale's (the row's), HL and LL by the coarse scale's (the column's).
#[derive(Debug, Clone, PartialEq)]
pub struct Errors {
    pub hh: Matrix,
    pub hl: Matrix,
    pub lh: Matrix,
    pub ll: Matrix,
}

impl Errors {
    /// HH + LL, the error the DP-Total path minimises.
    pub fn total(&self) -> Matrix {
        zip_with(&self.hh, &self.ll, |a, b| a + b)
    }
}

/// The element-wise combination of two matrices of the same shape.
pub fn zip_with(a: &Matrix, b: &Matrix, f: impl Fn(f64, f64) -> f64) -> Matrix {
    a.iter().zip(b).map(|(ra, rb)| ra.iter().zip(rb).map(|(x, y)| f(*x, *y)).collect()).collect()
}

/// The heatmap file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// Timestep per grid index (fractional on an SNR grid).
    pub t_grid: Vec<f64>,
    pub snr: Vec<f64>,
    pub log_snr: Vec<f64>,
    pub blocks: Blocks,
    pub meta: HeatmapMeta,
}

impl Heatmap {
    /// Number of grid points per axis.
    pub fn len(&self) -> usize {
        self.t_grid.len()
    }

    /// True for a heatmap without grid points (never valid).
    pub fn is_empty(&self) -> bool {
        self.t_grid.is_empty()
    }

    /// The blocks with `chain` applied.
    pub fn errors(&self, chain: ChainRule) -> Errors {
        let by_row = |b: &Block| -> Matrix { b.mean.iter().enumerate().map(|(i, row)| row.iter().map(|v| v * chain.factor(self.snr[i])).collect()).collect() };
        let by_column =
            |b: &Block| -> Matrix { b.mean.iter().map(|row| row.iter().enumerate().map(|(j, v)| v * chain.factor(self.snr[j])).collect()).collect() };
        let b = &self.blocks;
        Errors { hh: by_row(&b.hh), lh: by_row(&b.lh), hl: by_column(&b.hl), ll: by_column(&b.ll) }
    }

    /// Reads and validates a heatmap file.
    pub fn load(path: &Path) -> Result<Self> {
        let map: Self = lift_core::io::read_json(path)?;
        map.validate().map_err(|e| e.context(format!("{} is not a usable heatmap", path.display())))?;
        Ok(map)
    }

    /// Writes the file atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        lift_core::io::write_json(path, self)
    }

    /// Shapes agree, every value is finite and non-negative, SNR increases along the grid.
    pub fn validate(&self) -> Result<()> {
        let n = self.t_grid.len();
        if n < 2 {
            bail!("t_grid has {n} points; a heatmap needs at least 2");
        }
        if n != self.meta.grid.points() {
            bail!("t_grid has {n} points but the grid {} has {}", self.meta.grid, self.meta.grid.points());
        }
        for (name, v) in [("snr", &self.snr), ("log_snr", &self.log_snr)] {
            if v.len() != n {
                bail!("{name} has {} entries, t_grid has {n}", v.len());
            }
            if v.iter().any(|x| !x.is_finite()) {
                bail!("{name} holds a non-finite value");
            }
        }
        if self.snr.iter().any(|s| *s <= 0.0) || self.snr.windows(2).any(|w| w[0] >= w[1]) {
            bail!("snr must be positive and increase along the grid (index 0 the noisiest)");
        }
        for (block, b) in self.blocks.named() {
            for (part, m) in [("mean", &b.mean), ("se", &b.se)] {
                let name = format!("blocks.{block}.{part}");
                if m.len() != n || m.iter().any(|row| row.len() != n) {
                    bail!("{name} must be {n}×{n}, found {} rows of lengths {:?}", m.len(), m.iter().map(Vec::len).collect::<Vec<_>>());
                }
                for (i, row) in m.iter().enumerate() {
                    if let Some(j) = row.iter().position(|x| !x.is_finite() || *x < 0.0) {
                        bail!("{name}[{i}][{j}] = {} is not a finite non-negative number", row[j]);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heatmap::test_support::sample;

    #[test]
    fn round_trips_through_json() {
        let dir = std::env::temp_dir().join(format!("lift-heatmap-{}", std::process::id()));
        let path = dir.join("h.json");
        let map = sample(4);
        map.save(&path).unwrap();
        assert_eq!(Heatmap::load(&path).unwrap(), map);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn chain_rule_factors_follow_the_input_scale() {
        let map = sample(3);
        let e = map.errors(ChainRule::Sl);
        let g = |k: usize| ChainRule::Sl.factor(map.snr[k]);
        for i in 0..3 {
            for j in 0..3 {
                let b = &map.blocks;
                assert_eq!(e.hh[i][j], b.hh.mean[i][j] * g(i));
                assert_eq!(e.lh[i][j], b.lh.mean[i][j] * g(i));
                assert_eq!(e.hl[i][j], b.hl.mean[i][j] * g(j));
                assert_eq!(e.ll[i][j], b.ll.mean[i][j] * g(j));
                assert_eq!(e.total()[i][j], e.hh[i][j] + e.ll[i][j]);
            }
        }
    }

    #[test]
    fn wrong_shapes_and_nans_are_refused() {
        let mut m = sample(4);
        m.blocks.ll.mean[2].pop();
        assert!(m.validate().unwrap_err().to_string().contains("blocks.ll.mean"));
        let mut m = sample(4);
        m.blocks.hh.mean[1][3] = f64::NAN;
        let e = m.validate().unwrap_err().to_string();
        assert!(e.contains("blocks.hh.mean[1][3]"), "{e}");
        let mut m = sample(4);
        m.snr.push(1.0);
        assert!(m.validate().is_err());
        let dir = std::env::temp_dir().join(format!("lift-heatmap-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.json");
        std::fs::write(&path, serde_json::to_string(&m).unwrap().replace("NaN", "null")).unwrap();
        let e = format!("{:#}", Heatmap::load(&path).unwrap_err());
        assert!(e.contains("bad.json"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

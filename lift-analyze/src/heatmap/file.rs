//! The heatmap JSON: per grid cell (row = 64×64 index, column = 32×32 index, index 0 the
//! noisiest) the Jacobian error of each scale and their sum.

use std::path::Path;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::grid::GridSpec;

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
    #[serde(default)]
    pub device: String,
    #[serde(default)]
    pub git_commit: String,
    /// Wall time of the whole computation, seconds.
    #[serde(default)]
    pub seconds: f64,
    /// What a cell holds, in words.
    #[serde(default)]
    pub normalisation: String,
}

impl HeatmapMeta {
    /// True when two runs compute the same numbers (timing and provenance aside).
    pub fn same_job(&self, other: &Self) -> bool {
        (&self.checkpoint, &self.weights, self.grid, self.images, self.probes, self.seed, &self.estimator, &self.data)
            == (&other.checkpoint, &other.weights, other.grid, other.images, other.probes, other.seed, &other.estimator, &other.data)
    }
}

/// The heatmap file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// Timestep per grid index (fractional on an SNR grid).
    pub t_grid: Vec<f64>,
    pub snr: Vec<f64>,
    pub log_snr: Vec<f64>,
    pub error_64: Vec<Vec<f64>>,
    pub error_32: Vec<Vec<f64>>,
    pub error_total: Vec<Vec<f64>>,
    /// Standard errors of the estimates (over images, each averaged over probes).
    #[serde(default)]
    pub stderr_64: Vec<Vec<f64>>,
    #[serde(default)]
    pub stderr_32: Vec<Vec<f64>>,
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
        for (name, v) in [("snr", &self.snr), ("log_snr", &self.log_snr)] {
            if v.len() != n {
                bail!("{name} has {} entries, t_grid has {n}", v.len());
            }
            if v.iter().any(|x| !x.is_finite()) {
                bail!("{name} holds a non-finite value");
            }
        }
        if self.snr.windows(2).any(|w| w[0] >= w[1]) {
            bail!("snr must increase along the grid (index 0 the noisiest)");
        }
        let mut matrices = vec![("error_64", &self.error_64), ("error_32", &self.error_32), ("error_total", &self.error_total)];
        for (name, m) in [("stderr_64", &self.stderr_64), ("stderr_32", &self.stderr_32)] {
            if !m.is_empty() {
                matrices.push((name, m));
            }
        }
        for (name, m) in matrices {
            if m.len() != n || m.iter().any(|row| row.len() != n) {
                bail!("{name} must be {n}×{n}, found {} rows of lengths {:?}", m.len(), m.iter().map(Vec::len).collect::<Vec<_>>());
            }
            for (i, row) in m.iter().enumerate() {
                if let Some(j) = row.iter().position(|x| !x.is_finite() || *x < 0.0) {
                    bail!("{name}[{i}][{j}] = {} is not a finite non-negative number", row[j]);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample(n: usize) -> Heatmap {
        let m = |f: fn(usize, usize) -> f64| (0..n).map(|i| (0..n).map(|j| f(i, j)).collect()).collect::<Vec<Vec<f64>>>();
        Heatmap {
            t_grid: (0..n)
                .map(|k| {
                    let snr = 10f64.powf(4.0 * k as f64 / (n - 1) as f64 - 2.0);
                    lift_core::NoiseSchedule::reference().timestep_for_snr(snr).unwrap()
                })
                .collect(),
            snr: (0..n).map(|k| 10f64.powf(4.0 * k as f64 / (n - 1) as f64 - 2.0)).collect(),
            log_snr: (0..n).map(|k| 10f64.powf(4.0 * k as f64 / (n - 1) as f64 - 2.0).ln()).collect(),
            error_64: m(|i, j| (i + 2 * j) as f64),
            error_32: m(|i, j| (i * j) as f64 / 10.0),
            error_total: m(|i, j| (i + 2 * j) as f64 + (i * j) as f64 / 10.0),
            stderr_64: vec![],
            stderr_32: vec![],
            meta: HeatmapMeta {
                checkpoint: "ck".into(),
                weights: "ema".into(),
                grid: GridSpec::TLinspace { points: n },
                images: 1,
                probes: 1,
                seed: 0,
                estimator: "vjp".into(),
                data: "d".into(),
                device: String::new(),
                git_commit: String::new(),
                seconds: 0.0,
                normalisation: String::new(),
            },
        }
    }

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
    fn wrong_shapes_and_nans_are_refused() {
        let mut m = sample(4);
        m.error_32[2].pop();
        assert!(m.validate().unwrap_err().to_string().contains("error_32"));
        let mut m = sample(4);
        m.error_64[1][3] = f64::NAN;
        let e = m.validate().unwrap_err().to_string();
        assert!(e.contains("error_64[1][3]"), "{e}");
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

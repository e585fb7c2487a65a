//! The heatmap grid: which noise levels each axis visits, noisiest first.

use anyhow::{bail, Context, Result};
use lift_core::NoiseSchedule;
use serde::{Deserialize, Serialize};

/// How the grid's noise levels are chosen (the same for both scales).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum GridSpec {
    /// The original's newest protocol: t = linspace(T−1, 0, n), truncated to integers.
    TLinspace { points: usize },
    /// The write-up's older protocol: SNR = logspace(0.01, 100, n); t fractional from t(SNR).
    SnrLogspace { points: usize },
}

impl std::str::FromStr for GridSpec {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let (kind, n) = s.split_once(':').context("grid must look like t-linspace:30 or snr-logspace:15")?;
        let points: usize = n.parse().with_context(|| format!("grid size '{n}' is not a number"))?;
        if points < 2 {
            bail!("a grid needs at least 2 points per axis (got {points})");
        }
        match kind {
            "t-linspace" => Ok(Self::TLinspace { points }),
            "snr-logspace" => Ok(Self::SnrLogspace { points }),
            other => bail!("unknown grid '{other}': expected t-linspace or snr-logspace"),
        }
    }
}

impl std::fmt::Display for GridSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TLinspace { points } => write!(f, "t-linspace:{points}"),
            Self::SnrLogspace { points } => write!(f, "snr-logspace:{points}"),
        }
    }
}

/// One axis of the grid: timestep (possibly fractional), SNR and log SNR per index.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub t: Vec<f64>,
    pub snr: Vec<f64>,
    pub log_snr: Vec<f64>,
}

impl Grid {
    /// The grid `spec` over `schedule`.
    pub fn new(spec: GridSpec, schedule: &NoiseSchedule) -> Result<Self> {
        let last = (schedule.len() - 1) as f64;
        let (t, snr): (Vec<f64>, Vec<f64>) = match spec {
            GridSpec::TLinspace { points } => (0..points)
                .map(|k| {
                    let t = (last * (1.0 - k as f64 / (points - 1) as f64)).trunc();
                    (t, schedule.snr(t as usize))
                })
                .unzip(),
            GridSpec::SnrLogspace { points } => {
                let (lo, hi) = (0.01f64.log10(), 100f64.log10());
                let mut t = Vec::new();
                let mut snr = Vec::new();
                for k in 0..points {
                    let s = 10f64.powf(lo + (hi - lo) * k as f64 / (points - 1) as f64);
                    t.push(schedule.timestep_for_snr(s)?);
                    snr.push(s);
                }
                (t, snr)
            }
        };
        let log_snr = snr.iter().map(|s| s.ln()).collect();
        Ok(Self { t, snr, log_snr })
    }

    /// Number of points per axis.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// Always false: a grid has at least two points.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// The integer timestep a sampler uses for grid index `k` (nearest).
    pub fn timestep(&self, k: usize) -> usize {
        self.t[k].round() as usize
    }

    /// ᾱ at grid index `k`, from its SNR (exact also for fractional t).
    pub fn alpha_bar(&self, k: usize) -> f64 {
        NoiseSchedule::alpha_bar_for_snr(self.snr[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn original_grid_is_a_truncated_linspace() {
        let g = Grid::new("t-linspace:30".parse().unwrap(), &NoiseSchedule::reference()).unwrap();
        assert_eq!(g.len(), 30);
        // 999·(1 − k/29): k = 1 → 964.55 → 964; k = 28 → 34.45 → 34; ends 999 and 0.
        assert_eq!((g.t[0], g.t[1], g.t[28], g.t[29]), (999.0, 964.0, 34.0, 0.0));
        assert!(g.snr.windows(2).all(|w| w[0] < w[1]), "index 0 must be the noisiest");
    }

    #[test]
    fn snr_grid_spans_the_write_up_range() {
        let g = Grid::new("snr-logspace:15".parse().unwrap(), &NoiseSchedule::reference()).unwrap();
        assert!((g.snr[0] - 0.01).abs() < 1e-12 && (g.snr[14] - 100.0).abs() < 1e-9);
        assert_eq!((g.timestep(0), g.timestep(14)), (943, 54));
    }

    #[test]
    fn bad_specs_are_refused() {
        assert!("t-linspace".parse::<GridSpec>().is_err());
        assert!("t-linspace:1".parse::<GridSpec>().is_err());
        assert!("cubic:4".parse::<GridSpec>().is_err());
    }
}

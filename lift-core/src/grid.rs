//! The heatmap grid: which noise levels each axis visits, noisiest first.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::schedule::NoiseSchedule;

/// How the grid's noise levels are chosen (the same for both scales). Written as
/// `t-linspace:N` / `snr-logspace:N` in configs, on the command line and in files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
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

impl TryFrom<String> for GridSpec {
    type Error = anyhow::Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<GridSpec> for String {
    fn from(g: GridSpec) -> String {
        g.to_string()
    }
}

impl GridSpec {
    /// Points per axis.
    pub fn points(self) -> usize {
        match self {
            Self::TLinspace { points } | Self::SnrLogspace { points } => points,
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

/// One axis of the grid: timestep, SNR, log SNR and the ᾱ its images are noised with, per index.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The timestep label the model gets.
    pub t: Vec<f64>,
    /// The SNR the chain-rule factor and the DP's λ use.
    pub snr: Vec<f64>,
    pub log_snr: Vec<f64>,
    /// ᾱ of the label's timestep: the noise level of the heatmap's inputs.
    pub alpha_bar: Vec<f64>,
}

impl Grid {
    /// The grid `spec` over `schedule`.
    ///
    /// `t-linspace:N` is the newest protocol: t = linspace(T−1, 0, N) truncated, SNR of that t.
    /// `snr-logspace:N` is the older one: SNR = logspace(0.01, 100, N) exactly (chain rule and λ),
    /// snapped to the integer t whose ᾱ is nearest (label and noise), as `compute_error_heatmap.py`.
    pub fn new(spec: GridSpec, schedule: &NoiseSchedule) -> Result<Self> {
        let last = (schedule.len() - 1) as f64;
        let (t, snr): (Vec<usize>, Vec<f64>) = match spec {
            GridSpec::TLinspace { points } => (0..points)
                .map(|k| {
                    let t = (last * (1.0 - k as f64 / (points - 1) as f64)).trunc() as usize;
                    (t, schedule.snr(t))
                })
                .unzip(),
            GridSpec::SnrLogspace { points } => {
                let (lo, hi) = (0.01f64.log10(), 100f64.log10());
                let (min, max) = schedule.snr_range();
                if !(min <= 0.01 && 100.0 <= max) {
                    bail!("the SNR grid 0.01..100 is outside this schedule's range [{min:.4}, {max:.1}]");
                }
                (0..points)
                    .map(|k| {
                        let s = 10f64.powf(lo + (hi - lo) * k as f64 / (points - 1) as f64);
                        (schedule.nearest_alpha_bar_timestep(s), s)
                    })
                    .unzip()
            }
        };
        Ok(Self {
            alpha_bar: t.iter().map(|&t| schedule.alpha_bar(t)).collect(),
            t: t.iter().map(|&t| t as f64).collect(),
            log_snr: snr.iter().map(|s| s.ln()).collect(),
            snr,
        })
    }

    /// Number of points per axis.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// Always false: a grid has at least two points.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
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
        assert_eq!((g.t[0], g.t[14]), (943.0, 54.0));
        assert_eq!(g.alpha_bar[0], NoiseSchedule::reference().alpha_bar(943));
    }

    #[test]
    fn bad_specs_are_refused() {
        assert!("t-linspace".parse::<GridSpec>().is_err());
        assert!("t-linspace:1".parse::<GridSpec>().is_err());
        assert!("cubic:4".parse::<GridSpec>().is_err());
    }
}

//! How training draws the coarse scale's timestep t₃₂ for a drawn t₆₄ (`later-experiments.md` §5):
//! independently (LIFT's own recipe), equal, scaled, or read off a sampling path. Written
//! `independent`, `same`, `scaled:0.8` or `path:FILE` in `train.noise_alignment`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::path::PathFile;

/// The rule as configured.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum NoiseAlignment {
    /// t₃₂ drawn uniformly, independently of t₆₄ (LIFT).
    #[default]
    Independent,
    /// t₃₂ = t₆₄.
    Same,
    /// t₃₂ = ⌊F·t₆₄⌋ (the original's "heuristic" is F = 0.8).
    Scaled(f64),
    /// t₃₂ interpolated from a path file's (t₆₄, t₃₂) points (the original uses a DP-64 path).
    Path(PathBuf),
}

impl fmt::Display for NoiseAlignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Independent => f.write_str("independent"),
            Self::Same => f.write_str("same"),
            Self::Scaled(factor) => write!(f, "scaled:{factor}"),
            Self::Path(p) => write!(f, "path:{}", p.display()),
        }
    }
}

impl FromStr for NoiseAlignment {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let hint = || format!("noise alignment '{s}': expected independent, same, scaled:F (F > 0) or path:FILE");
        Ok(match s.trim() {
            "independent" => Self::Independent,
            "same" => Self::Same,
            t => match (t.strip_prefix("scaled:"), t.strip_prefix("path:")) {
                (Some(f), _) => {
                    let factor: f64 = f.trim().parse().with_context(hint)?;
                    if !(factor > 0.0 && factor.is_finite()) {
                        bail!("{}: the factor must be a positive number", hint());
                    }
                    Self::Scaled(factor)
                }
                (_, Some(file)) if !file.trim().is_empty() => Self::Path(PathBuf::from(file.trim())),
                _ => bail!("{}", hint()),
            },
        })
    }
}

impl Serialize for NoiseAlignment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for NoiseAlignment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(|e: anyhow::Error| serde::de::Error::custom(format!("{e:#}")))
    }
}

/// The rule ready to apply: a path is read once into a table over every t₆₄.
#[derive(Debug, Clone, PartialEq)]
pub enum CoarseTimestep {
    Independent,
    Same,
    Scaled(f64),
    /// t₃₂ for t₆₄ = 0, 1, …, T − 1.
    Table(Vec<usize>),
}

impl NoiseAlignment {
    /// The rule for a schedule of `train_timesteps` steps; a path file is read and checked here
    /// (a missing or bad file is an error naming it).
    pub fn resolve(&self, train_timesteps: usize) -> Result<CoarseTimestep> {
        Ok(match self {
            Self::Independent => CoarseTimestep::Independent,
            Self::Same => CoarseTimestep::Same,
            Self::Scaled(f) => CoarseTimestep::Scaled(*f),
            Self::Path(file) => CoarseTimestep::Table(path_table(file, train_timesteps)?),
        })
    }
}

impl CoarseTimestep {
    /// t₃₂ for a drawn t₆₄, given an independent uniform draw `drawn` (used by `Independent` only,
    /// always drawn so that the noise that follows is the same under every rule).
    pub fn t32(&self, t64: usize, drawn: usize, train_timesteps: usize) -> usize {
        let last = train_timesteps - 1;
        match self {
            Self::Independent => drawn,
            Self::Same => t64,
            Self::Scaled(f) => ((f * t64 as f64).floor() as usize).min(last),
            Self::Table(table) => table[t64.min(last)],
        }
    }
}

/// The path's points as (t₆₄, t₃₂), increasing in t₆₄, one per t₆₄: where a path stays at one t₆₄
/// (only the coarse scale moves) the point with the smallest t₃₂ is kept. At t₆₄ = 0 that is the
/// original's rule (it keeps the point with t₃₂ = 0); elsewhere it is ours, as the original's
/// paths never repeat a t₆₄ above 0.
pub fn path_points(timesteps: &[[usize; 2]]) -> Vec<(f64, f64)> {
    let mut points: Vec<[usize; 2]> = timesteps.to_vec();
    points.sort_unstable();
    points.dedup_by_key(|p| p[0]);
    points.into_iter().map(|[a, b]| (a as f64, b as f64)).collect()
}

/// numpy's `interp`: linear between the points, the end values beyond them.
fn interp(x: f64, points: &[(f64, f64)]) -> f64 {
    let k = points.partition_point(|p| p.0 <= x);
    match k {
        0 => points[0].1,
        k if k == points.len() => points[k - 1].1,
        k => {
            let ((x0, y0), (x1, y1)) = (points[k - 1], points[k]);
            y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        }
    }
}

/// t₃₂ for every t₆₄ of 0..T from the path in `file`: interpolated, rounded down, clamped.
fn path_table(file: &Path, train_timesteps: usize) -> Result<Vec<usize>> {
    let path = PathFile::load(file, train_timesteps).with_context(|| format!("train.noise_alignment reads {}", file.display()))?;
    let points = path_points(&path.timesteps);
    if points.len() < 2 {
        bail!("{}: a path for train.noise_alignment needs at least two distinct fine-scale timesteps", file.display());
    }
    Ok((0..train_timesteps).map(|t| (interp(t as f64, &points).floor().max(0.0) as usize).min(train_timesteps - 1)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_parse_and_print_back() {
        for s in ["independent", "same", "scaled:0.8", "path:runs/dp-64.json"] {
            assert_eq!(s.parse::<NoiseAlignment>().unwrap().to_string(), s);
        }
        for bad in ["scaled:-1", "scaled:x", "scaled:inf", "path:", "aligned"] {
            let e = bad.parse::<NoiseAlignment>().unwrap_err().to_string();
            assert!(e.contains(bad) && e.contains("scaled:F"), "{e}");
        }
    }

    #[test]
    fn same_and_scaled_by_hand() {
        let (same, scaled) = (CoarseTimestep::Same, CoarseTimestep::Scaled(0.8));
        assert_eq!(same.t32(640, 17, 1000), 640);
        // ⌊0.8 · 999⌋ = 799, ⌊0.8 · 7⌋ = 5; a factor above 1 stays inside the schedule.
        assert_eq!((scaled.t32(999, 17, 1000), scaled.t32(7, 17, 1000)), (799, 5));
        assert_eq!(CoarseTimestep::Scaled(1.5).t32(900, 0, 1000), 999);
        assert_eq!(CoarseTimestep::Independent.t32(640, 17, 1000), 17);
    }

    #[test]
    fn a_path_is_interpolated_in_the_fine_timestep_with_repeats_at_zero_dropped() {
        // A DP-64-like path: the fine scale reaches 0 first, then the coarse one walks down.
        let path = [[999, 999], [666, 666], [333, 666], [0, 666], [0, 333], [0, 0]];
        let points = path_points(&path);
        assert_eq!(points, [(0.0, 0.0), (333.0, 666.0), (666.0, 666.0), (999.0, 999.0)]);
        let table: Vec<f64> = [0.0, 100.0, 332.0, 500.0, 700.0, 998.0].iter().map(|&t| interp(t, &points)).collect();
        // 100 → 666·100/333 = 200; 332 → 664.0; flat 666 between 333 and 666; 700 → 666 + 34 = 700.
        assert_eq!(table.iter().map(|v| v.floor() as usize).collect::<Vec<_>>(), [0, 200, 664, 666, 700, 998]);
        // Beyond the last point numpy keeps the end value.
        assert_eq!(interp(1500.0, &points), 999.0);
    }

    #[test]
    fn a_missing_path_file_is_named() {
        let e = format!("{:#}", NoiseAlignment::Path("no/such-path.json".into()).resolve(1000).unwrap_err());
        assert!(e.contains("no/such-path.json") && e.contains("train.noise_alignment"), "{e}");
    }
}

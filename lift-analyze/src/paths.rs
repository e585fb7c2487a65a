//! `lift-analyze dp`: path files from a heatmap, by any of the strategies the study compares.

use std::path::Path;

use anyhow::{bail, Result};
use lift_core::{NoiseSchedule, PathFile};
use serde_json::json;

use crate::dp::{cheapest_path_with_retry, column_map, diagonal_path, CostKind, CostMap};
use crate::heatmap::Heatmap;

/// How a path is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathMode {
    /// Exact-N-step DP on the total error ("DP-Total").
    Total,
    /// Exact-N-step DP on the 64×64 error only ("DP-64").
    Fine,
    /// Both scales at the same grid point.
    Diagonal,
    /// Per row, the cheapest column not left of the previous one (64×64 error), interpolated to N steps.
    Greedy,
    /// The write-up's older rule: γ₁ as a monotone function of γ₀ minimising the total error
    /// (DP over rows), interpolated in log SNR to N steps.
    SnrMap,
}

impl std::str::FromStr for PathMode {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "total" => Self::Total,
            "64" => Self::Fine,
            "diagonal" => Self::Diagonal,
            "greedy" => Self::Greedy,
            "snr-map" => Self::SnrMap,
            other => bail!("unknown mode '{other}': expected total, 64, diagonal, greedy or snr-map"),
        })
    }
}

impl PathMode {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Total => "total",
            Self::Fine => "64",
            Self::Diagonal => "diagonal",
            Self::Greedy => "greedy",
            Self::SnrMap => "snr-map",
        }
    }
}

/// Finds the path of `mode` with `steps` steps (N + 1 points) on `map`.
pub fn find_path(map: &Heatmap, heatmap_file: &Path, mode: PathMode, steps: usize, max_jump: usize, schedule: &NoiseSchedule) -> Result<PathFile> {
    let n = map.len();
    let fine = CostMap::new(map, CostKind::Fine);
    let total = CostMap::new(map, CostKind::Total);
    let (cells, used_jump, points): (Vec<(usize, usize)>, Option<usize>, Option<Vec<[f64; 2]>>) = match mode {
        PathMode::Total | PathMode::Fine => {
            let costs = if mode == PathMode::Total { &total } else { &fine };
            let found = cheapest_path_with_retry(costs, steps, max_jump)?;
            (found.cells, Some(found.max_jump), None)
        }
        PathMode::Diagonal => (diagonal_path(n, steps), None, None),
        PathMode::Greedy | PathMode::SnrMap => {
            let cols = if mode == PathMode::Greedy { column_map(&fine, true) } else { column_map(&total, false) };
            let snrs = interpolate_map(map, &cols, steps);
            let cells = snrs.iter().map(|s| (nearest(&map.snr, s[0]), nearest(&map.snr, s[1]))).collect();
            (cells, None, Some(snrs))
        }
    };
    let snr: Vec<[f64; 2]> = match points {
        Some(p) => p,
        None => cells.iter().map(|&(i, j)| [map.snr[i], map.snr[j]]).collect(),
    };
    let timesteps = snr
        .iter()
        .map(|s| Ok([schedule_t(map, schedule, s[0])?, schedule_t(map, schedule, s[1])?]))
        .collect::<Result<Vec<_>>>()?;
    let cost = match mode {
        PathMode::Fine => fine.path_cost(&cells),
        _ => total.path_cost(&cells),
    };
    Ok(PathFile {
        indices: cells.iter().map(|&(i, j)| [i, j]).collect(),
        timesteps,
        snr,
        cost,
        meta: json!({
            "mode": mode.name(),
            "steps": steps,
            "evaluations": cells.len(),
            "max_jump_requested": max_jump,
            "max_jump": used_jump,
            "heatmap": heatmap_file.display().to_string(),
            "grid": map.meta.grid.to_string(),
            "costs": { "64": fine.path_cost(&cells), "total": total.path_cost(&cells) },
            "git_commit": lift_core::run::git_commit(),
        }),
    })
}

/// The timestep for an SNR: the grid's own t where the SNR is a grid point (the original maps
/// path indices through the grid's t values), the schedule's nearest t otherwise.
fn schedule_t(map: &Heatmap, schedule: &NoiseSchedule, snr: f64) -> Result<usize> {
    match map.snr.iter().position(|&s| ((s - snr) / s).abs() < 1e-9) {
        Some(k) => Ok(map.t_grid[k].round() as usize),
        None => schedule.nearest_timestep_for_snr(snr),
    }
}

fn nearest(values: &[f64], x: f64) -> usize {
    (0..values.len()).min_by(|&a, &b| (values[a].ln() - x.ln()).abs().total_cmp(&(values[b].ln() - x.ln()).abs())).unwrap_or(0)
}

/// N + 1 (γ₀, γ₁) points: γ₀ log-spaced over the grid, γ₁ interpolated in log SNR from the map.
fn interpolate_map(map: &Heatmap, cols: &[usize], steps: usize) -> Vec<[f64; 2]> {
    let l = &map.log_snr;
    let (l0, l1) = (l[0], l[l.len() - 1]);
    (0..=steps)
        .map(|k| {
            let x = if k == steps { l1 } else { l0 + (l1 - l0) * k as f64 / steps as f64 };
            let i = l.partition_point(|&v| v <= x).clamp(1, l.len() - 1);
            let w = (x - l[i - 1]) / (l[i] - l[i - 1]);
            // Exact where the map is flat, so γ₁ never wobbles downwards by rounding.
            let y = l[cols[i - 1]] + (l[cols[i]] - l[cols[i - 1]]) * w;
            [x.exp(), y.exp()]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heatmap::file::tests::sample;

    #[test]
    fn path_files_round_trip_and_start_noisiest() {
        let map = sample(8);
        let schedule = NoiseSchedule::reference();
        let dir = std::env::temp_dir().join(format!("lift-paths-{}", std::process::id()));
        for mode in [PathMode::Total, PathMode::Fine, PathMode::Diagonal, PathMode::Greedy, PathMode::SnrMap] {
            let p = find_path(&map, Path::new("h.json"), mode, 6, 5, &schedule).unwrap();
            assert_eq!(p.timesteps.len(), 7, "{mode:?}");
            assert_eq!(p.indices[0], [0, 0]);
            assert_eq!(*p.indices.last().unwrap(), [7, 7]);
            assert!(p.snr.windows(2).all(|w| w[0][0] <= w[1][0] && w[0][1] <= w[1][1]), "{mode:?}: {:?}", p.snr);
            let file = dir.join(format!("{}.json", mode.name()));
            lift_core::io::write_json(&file, &p).unwrap();
            assert_eq!(PathFile::load(&file, 1000).unwrap(), p);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

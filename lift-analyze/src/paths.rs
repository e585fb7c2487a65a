//! `lift-analyze dp`: path files from a heatmap, for every strategy whose path comes from one.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use lift_core::chain_rule::ChainRule;
use lift_core::path::{PathCosts, PathMeta};
use lift_core::strategy::DpCost;
use lift_core::study::StudyConfig;
use lift_core::{NoiseSchedule, PathFile, Snapshot, Strategy, TimestepRule};

use crate::dp::{cheapest_path_with_retry, diagonal_path, CostMap};
use crate::heatmap::file::zip_with;
use crate::heatmap::{Errors, Heatmap, Matrix};
use crate::older_rules;
use crate::study_dir::StudyDir;

/// The (fine, coarse) per-cell costs a DP strategy charges (`docs/protocol.md`, "DP cost variants").
pub fn cost_pair(e: &Errors, cost: DpCost) -> (Matrix, Matrix) {
    const EPS: f64 = 1e-12;
    match cost {
        DpCost::Fine => (e.hh.clone(), zip_with(&e.ll, &e.ll, |_, _| 0.0)),
        DpCost::Total => (e.hh.clone(), e.ll.clone()),
        DpCost::Weighted(alpha) => (zip_with(&e.hh, &e.hl, |a, b| a + alpha * b), zip_with(&e.ll, &e.lh, |a, b| a + alpha * b)),
        DpCost::Multiplicative => (zip_with(&e.hh, &e.hl, |a, b| a * (1.0 + b / (a + EPS))), zip_with(&e.ll, &e.lh, |a, b| a * (1.0 + b / (a + EPS)))),
    }
}

/// What to search for.
#[derive(Debug, Clone, Copy)]
pub struct PathRequest {
    pub strategy: Strategy,
    pub chain_rule: ChainRule,
    /// Steps: DP and diagonal paths have steps + 1 points, the older rules steps; all are evaluated.
    pub steps: usize,
    /// Most grid cells per axis per step of a DP path; raised by 2 until a path exists.
    pub max_jump: usize,
}

/// A path through grid cells, or through SNR points between them.
pub(crate) enum Found {
    Cells { cells: Vec<(usize, usize)>, max_jump: Option<usize> },
    Points(Vec<[f64; 2]>),
}

/// Finds the path of `request` on `map`; `heatmap_file` is recorded in the path's metadata.
pub fn find_path(map: &Heatmap, heatmap_file: &Path, request: PathRequest, schedule: &NoiseSchedule) -> Result<PathFile> {
    let PathRequest { strategy, chain_rule, steps, max_jump } = request;
    if !strategy.serves(map.meta.model) {
        bail!(
            "{} is the heatmap of a {} model (the fine block only): the {strategy} strategy needs LIFT's coarse output",
            heatmap_file.display(),
            map.meta.model
        );
    }
    let n = map.len();
    let errors = map.errors(chain_rule);
    let found = match strategy {
        Strategy::Diagonal => Found::Cells { cells: diagonal_path(n, steps), max_jump: None },
        Strategy::Greedy => Found::Points(older_rules::greedy(map, &errors.hh, steps)),
        Strategy::SnrMap => Found::Points(older_rules::snr_map(map, &errors.total(), steps)),
        Strategy::SnrMap64 => Found::Points(older_rules::snr_map(map, &errors.hh, steps)),
        s => match s.dp_cost() {
            Some(cost) => {
                let (fine, coarse) = cost_pair(&errors, cost);
                let p = cheapest_path_with_retry(&CostMap { fine: &fine, coarse: &coarse, log_snr: &map.log_snr }, steps, max_jump)?;
                Found::Cells { cells: p.cells, max_jump: Some(p.max_jump) }
            }
            None => bail!("the {s} strategy does not take its path from a heatmap"),
        },
    };
    let (cells, snr, used_jump) = match found {
        Found::Cells { cells, max_jump } => {
            let snr = cells.iter().map(|&(i, j)| [map.snr[i], map.snr[j]]).collect();
            (cells, snr, max_jump)
        }
        Found::Points(points) => {
            let cells = points.iter().map(|p| (nearest(&map.log_snr, p[0].ln()), nearest(&map.log_snr, p[1].ln()))).collect();
            (cells, points, None)
        }
    };
    let timesteps = snr.iter().map(|s| Ok([timestep_of(map, schedule, s[0])?, timestep_of(map, schedule, s[1])?])).collect::<Result<Vec<_>>>()?;
    let objective = |cost: DpCost| {
        let (fine, coarse) = cost_pair(&errors, cost);
        CostMap { fine: &fine, coarse: &coarse, log_snr: &map.log_snr }.path_cost(&cells)
    };
    let costs = PathCosts { fine: objective(DpCost::Fine), total: objective(DpCost::Total) };
    Ok(PathFile {
        indices: cells.iter().map(|&(i, j)| [i, j]).collect(),
        timesteps,
        snr,
        cost: objective(strategy.dp_cost().unwrap_or(DpCost::Total)),
        meta: PathMeta {
            strategy,
            chain_rule,
            steps,
            max_jump_requested: strategy.dp_cost().map(|_| max_jump),
            max_jump: used_jump,
            heatmap: heatmap_file.display().to_string(),
            grid: map.meta.grid,
            costs,
            git_commit: lift_core::run::git_commit(),
        },
    })
}

/// The steps of a strategy's path that give it the protocol's evaluation count: N under the
/// reference protocol (N + 1 evaluations, the quirk), N − 1 under the fair one (N evaluations);
/// the older rules' N-point paths take N.
pub fn path_steps(strategy: Strategy, protocol: TimestepRule, steps: usize, train_timesteps: usize) -> Result<usize> {
    Ok(match protocol {
        _ if strategy.is_older_rule() => steps,
        TimestepRule::Reference => steps,
        TimestepRule::Fair => protocol.timesteps(steps, train_timesteps)?.len() - 1,
    })
}

/// Writes, from the heatmap `file` of a snapshot's heatmap seed `seed`: the path of every
/// heatmap strategy and protocol of `study` that the heatmap's model can sample, the grid
/// diagonal's (whose cost the report compares), and for LIFT DP-Total under every chain rule
/// (reference protocol). Returns the files.
pub fn write_study_paths(
    dir: &StudyDir,
    snapshot: Snapshot,
    seed: usize,
    file: &Path,
    study: &StudyConfig,
    steps: usize,
    schedule: &NoiseSchedule,
) -> Result<Vec<PathBuf>> {
    let map = Heatmap::load(file)?;
    let mut files = Vec::new();
    let mut write = |strategy: Strategy, protocol: TimestepRule, chain_rule: ChainRule, out: PathBuf| -> Result<()> {
        let request = PathRequest { strategy, chain_rule, steps: path_steps(strategy, protocol, steps, schedule.len())?, max_jump: study.max_jump };
        let path = find_path(&map, file, request, schedule).with_context(|| format!("{strategy} path ({protocol}, {chain_rule}) from {}", file.display()))?;
        lift_core::io::write_json(&out, &path)?;
        files.push(out);
        Ok(())
    };
    let model = map.meta.model;
    for (strategy, protocol) in study.sample_sets().into_iter().filter(|(s, _)| (s.needs_heatmap() || *s == Strategy::Diagonal) && s.serves(model)) {
        write(strategy, protocol, study.chain_rule, dir.path(snapshot, seed, strategy, protocol))?;
    }
    for &chain in ChainRule::value_variants().iter().filter(|_| Strategy::DpTotal.serves(model)) {
        write(Strategy::DpTotal, TimestepRule::Reference, chain, dir.chain_rule_path(snapshot, seed, chain))?;
    }
    Ok(files)
}

/// The timestep for an SNR: the grid's own t where the SNR is a grid point (the original maps
/// path indices through the grid's t values), otherwise the integer t whose ᾱ is nearest to
/// SNR/(1 + SNR), as the original's older scripts convert.
fn timestep_of(map: &Heatmap, schedule: &NoiseSchedule, snr: f64) -> Result<usize> {
    match map.snr.iter().position(|&s| ((s - snr) / s).abs() < 1e-9) {
        Some(k) => Ok(map.t_grid[k].round() as usize),
        None => older_rules::nearest_alpha_bar_timestep(schedule, snr),
    }
}

/// Index of the value in `values` nearest to `x`.
fn nearest(values: &[f64], x: f64) -> usize {
    (0..values.len()).min_by(|&a, &b| (values[a] - x).abs().total_cmp(&(values[b] - x).abs())).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heatmap::test_support::sample;

    #[test]
    fn path_files_round_trip_and_start_noisiest() {
        let map = sample(8);
        let schedule = NoiseSchedule::reference();
        let dir = std::env::temp_dir().join(format!("lift-paths-{}", std::process::id()));
        for &strategy in Strategy::value_variants().iter().filter(|s| s.needs_heatmap() || **s == Strategy::Diagonal) {
            let request = PathRequest { strategy, chain_rule: ChainRule::Sl, steps: 6, max_jump: 5 };
            let p = find_path(&map, Path::new("h.json"), request, &schedule).unwrap();
            // DP and diagonal paths have N + 1 points; the older rules N.
            assert_eq!(p.timesteps.len(), if strategy.is_older_rule() { 6 } else { 7 }, "{strategy}");
            assert_eq!(p.indices[0], [0, 0], "{strategy}");
            // The row DP of the older rules ends at its last row's cheapest column.
            let last = *p.indices.last().unwrap();
            assert!(last[0] == 7 && (strategy.is_older_rule() || last[1] == 7), "{strategy}: {last:?}");
            assert!(p.snr.windows(2).all(|w| w[0][0] <= w[1][0] && w[0][1] <= w[1][1]), "{strategy}: {:?}", p.snr);
            let file = dir.join(format!("{strategy}.json"));
            lift_core::io::write_json(&file, &p).unwrap();
            assert_eq!(PathFile::load(&file, 1000).unwrap(), p);
        }
        assert!(
            find_path(&map, Path::new("h"), PathRequest { strategy: Strategy::Random32, chain_rule: ChainRule::Sl, steps: 6, max_jump: 5 }, &schedule).is_err()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn cost_pairs_by_hand() {
        let m = |v: f64| vec![vec![v]];
        let e = Errors { hh: m(2.0), hl: m(0.5), lh: m(0.25), ll: m(1.0) };
        assert_eq!(cost_pair(&e, DpCost::Fine), (m(2.0), m(0.0)));
        assert_eq!(cost_pair(&e, DpCost::Total), (m(2.0), m(1.0)));
        // HH + 10·HL = 7; LL + 10·LH = 3.5.
        assert_eq!(cost_pair(&e, DpCost::Weighted(10.0)), (m(7.0), m(3.5)));
        // HH·(1 + HL/HH) = HH + HL up to the 1e-12: 2.5 and 1.25.
        let (f, c) = cost_pair(&e, DpCost::Multiplicative);
        assert!((f[0][0] - 2.5).abs() < 1e-11 && (c[0][0] - 1.25).abs() < 1e-11);
    }

    #[test]
    fn a_chain_rule_changes_the_path_costs_without_a_new_heatmap() {
        let map = sample(8);
        let schedule = NoiseSchedule::reference();
        let costs: Vec<f64> = [ChainRule::Sl, ChainRule::Standard, ChainRule::DxDlambda, ChainRule::Dx0Dlambda]
            .into_iter()
            .map(|chain_rule| {
                let request = PathRequest { strategy: Strategy::DpTotal, chain_rule, steps: 6, max_jump: 5 };
                find_path(&map, Path::new("h"), request, &schedule).unwrap().cost
            })
            .collect();
        assert!(costs[0] != costs[1] && costs[1] != costs[2] && costs[2] != costs[3], "{costs:?}");
    }
}

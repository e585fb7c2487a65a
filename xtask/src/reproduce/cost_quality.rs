//! Beyond both write-ups: does a path's theoretical cost predict its quality? For every evaluated
//! (snapshot, LIFT path, seed), the path's DP cost on that snapshot's heatmap (the total error,
//! fine + coarse, under the study's chain rule) against the FID and KID of its samples: Spearman's
//! ρ with a 95 % bootstrap interval, and the scatter figure.

use std::fmt::Write as _;

use anyhow::Result;
use lift_analyze::evaluate::ResultRow;
use lift_analyze::stats::{spearman_bootstrap, Correlation};
use lift_analyze::study_dir::StudyDir;
use lift_core::study::StudyConfig;
use lift_core::{PathFile, Strategy, TimestepRule};

/// Bootstrap resamples of the interval.
const RESAMPLES: usize = 2000;

/// One evaluated path: its cost and its sample set's scores.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub strategy: Strategy,
    pub cost: f64,
    pub fid: f64,
    pub kid: f64,
}

/// Every LIFT sample set whose path has a file (reference protocol), with that path's cost.
pub fn points(rows: &[ResultRow], dir: &StudyDir, study: &StudyConfig) -> Result<Vec<Point>> {
    let mut out = Vec::new();
    for r in rows.iter().filter(|r| r.protocol == TimestepRule::Reference && r.strategy != Strategy::Baseline) {
        let file = dir.path(r.snapshot(), study.heatmap_seed(r.seed), r.strategy, r.protocol);
        if file.exists() {
            let cost = PathFile::load(&file, usize::MAX)?.meta.costs.total;
            out.push(Point { strategy: r.strategy, cost, fid: r.fid, kid: r.kid_x1e3 });
        }
    }
    Ok(out)
}

/// ρ of the cost against a score.
pub fn correlation(points: &[Point], score: fn(&Point) -> f64) -> Correlation {
    let (x, y): (Vec<f64>, Vec<f64>) = points.iter().map(|p| (p.cost, score(p))).unzip();
    spearman_bootstrap(&x, &y, RESAMPLES, 0)
}

/// The section.
pub fn section(s: &mut String, points: &[Point]) {
    let _ = writeln!(s, "## Does the theoretical cost predict quality?\n");
    if points.len() < 3 {
        let _ = writeln!(s, "Fewer than three evaluated LIFT paths: nothing to correlate.\n");
        return;
    }
    let _ = writeln!(
        s,
        "Each point is one evaluated LIFT sample set (snapshot, path, seed; {} in all): the DP cost of its path on its own snapshot's heatmap \
         (total error, fine + coarse) against its FID and KID. Spearman's ρ with a 95 % bootstrap interval ({RESAMPLES} resamples of the points); \
         ρ > 0 means a cheaper path gives better samples. Neither write-up tests this.\n",
        points.len()
    );
    let _ = writeln!(s, "| Score | Spearman ρ | 95 % interval | Points |\n|---|---|---|---|");
    let (fid, kid) = (correlation(points, |p| p.fid), correlation(points, |p| p.kid));
    for (label, c) in [("FID", fid), ("KID×10³", kid)] {
        let _ = writeln!(s, "| {label} | {:.3} | [{:.3}, {:.3}] | {} |", c.rho, c.low, c.high, c.n);
    }
    let verdict = {
        let c = fid;
        if c.low > 0.0 {
            "the cost predicts FID: cheaper paths give lower FID (the interval excludes 0)"
        } else if c.high < 0.0 {
            "the cost predicts FID the wrong way round: cheaper paths give higher FID (the interval excludes 0)"
        } else {
            "no evidence that the cost predicts FID (the interval includes 0)"
        }
    };
    let _ = writeln!(s, "\nIn this run {verdict}.\n\n![cost against FID](figures/cost-fid.png)\n");
}

/// The scatter's series: (cost, FID) per strategy.
pub fn series(points: &[Point]) -> Vec<(Strategy, Vec<(f64, f64)>)> {
    lift_analyze::evaluate::in_order(points.iter().map(|p| p.strategy))
        .into_iter()
        .map(|st| (st, points.iter().filter(|p| p.strategy == st).map(|p| (p.cost, p.fid)).collect()))
        .collect()
}

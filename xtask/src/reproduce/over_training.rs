//! The original's main tables: FID (and KID) per strategy at every evaluated epoch, raw and EMA
//! weights, mean ± population std (ddof 0) over seeds; each strategy's best epoch and its
//! degradation (FID at the last epoch minus the best).

use std::fmt::Write as _;

use lift_analyze::compare::Summary;
use lift_analyze::evaluate::mean_std;
use lift_core::run::Weights;
use lift_core::{Snapshot, Strategy};

use super::view::{Metric, View};

/// A strategy's best epoch and its degradation under one weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Best {
    pub epoch: usize,
    pub value: f64,
    /// Mean at the last epoch minus the best mean.
    pub degradation: f64,
}

/// The best (lowest-mean) epoch of `strategy` under `weights` for `metric`.
pub fn best(view: View, weights: Weights, strategy: Strategy, metric: Metric) -> Option<Best> {
    let means: Vec<(usize, f64)> =
        view.epochs(weights).into_iter().filter_map(|epoch| view.summary(Snapshot { weights, epoch }, strategy, metric).map(|s| (epoch, s.mean))).collect();
    let &(epoch, value) = means.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
    let last = means.last()?.1;
    Some(Best { epoch, value, degradation: last - value })
}

/// The epoch × strategy table of `metric` under `weights`, with the best and degradation rows.
pub fn table(view: View, weights: Weights, metric: Metric, label: &str) -> String {
    let strategies = view.strategies();
    let mut s = format!("| Epoch | {} |\n|---|{}\n", strategies.iter().map(|st| st.label()).collect::<Vec<_>>().join(" | "), "---|".repeat(strategies.len()));
    for epoch in view.epochs(weights) {
        let snapshot = Snapshot { weights, epoch };
        let cells: Vec<String> = strategies
            .iter()
            .map(|&st| {
                let v = view.values(snapshot, st, metric);
                if v.is_empty() {
                    "–".into()
                } else {
                    mean_std(&v, 2)
                }
            })
            .collect();
        let _ = writeln!(s, "| {epoch} | {} |", cells.join(" | "));
    }
    let bests: Vec<Option<Best>> = strategies.iter().map(|&st| best(view, weights, st, metric)).collect();
    let row = |f: &dyn Fn(&Best) -> String| bests.iter().map(|b| b.as_ref().map(f).unwrap_or_else(|| "–".into())).collect::<Vec<_>>().join(" | ");
    let _ = writeln!(s, "| best {label} (epoch) | {} |", row(&|b| format!("{:.2} ({})", b.value, b.epoch)));
    let _ = writeln!(s, "| degradation (last − best) | {} |", row(&|b| format!("{:+.2}", b.degradation)));
    s
}

/// The section: both weights' FID and KID tables and the figure.
pub fn section(s: &mut String, view: View) {
    let seeds = view.rows.iter().map(|r| r.seed).max().map_or(0, |m| m + 1);
    let _ = writeln!(s, "## FID over training\n");
    let _ = writeln!(
        s,
        "Each epoch's snapshot has its own heatmap(s) and DP paths. Reference protocol; mean ± standard deviation over {seeds} seed(s), \
         the standard deviation with ddof = 0 (numpy's default, as the original's tables). \"Degradation\" is the mean at the last \
         epoch minus the best mean.\n"
    );
    for weights in view.weights() {
        let title = if weights == Weights::Ema { "EMA weights" } else { "Raw weights" };
        let _ = writeln!(s, "### {title}: FID\n\n{}", table(view, weights, super::view::fid, "FID"));
        let _ = writeln!(s, "### {title}: KID×10³ (no small-sample bias)\n\n{}", table(view, weights, super::view::kid, "KID"));
    }
    let figures: Vec<String> = view.weights().iter().map(|w| format!("![FID over training, {w}](figures/fid-{w}.png)")).collect();
    let _ = writeln!(s, "FID per strategy over training (mean over seeds), raw and EMA side by side:\n\n{}\n", figures.join(" "));
}

/// Mean over seeds per (epoch) of every strategy under `weights`: the figure's series.
pub fn curves(view: View, weights: Weights, metric: Metric) -> Vec<(Strategy, Vec<(f64, f64)>)> {
    view.strategies()
        .into_iter()
        .map(|st| {
            let points = view
                .epochs(weights)
                .into_iter()
                .filter_map(|epoch| view.summary(Snapshot { weights, epoch }, st, metric).map(|m: Summary| (epoch as f64, m.mean)))
                .collect();
            (st, points)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reproduce::test_rows::row;

    #[test]
    fn epoch_table_best_and_degradation_on_synthetic_rows() {
        // Baseline: epoch 100 → 50, 52 (mean 51, ddof-0 std 1); 200 → 40, 40; 300 → 60, 62 (61).
        // Best 40 at 200; degradation 61 − 40 = +21. DP-Total: 70, 55, 56 (single seed each).
        let mut rows = Vec::new();
        for (epoch, values) in [(100, [50.0, 52.0]), (200, [40.0, 40.0]), (300, [60.0, 62.0])] {
            for (seed, v) in values.into_iter().enumerate() {
                rows.push(row(Strategy::Baseline, Weights::Raw, epoch, seed, v));
            }
        }
        for (epoch, v) in [(100, 70.0), (200, 55.0), (300, 56.0)] {
            rows.push(row(Strategy::DpTotal, Weights::Raw, epoch, 0, v));
        }
        let view = View { rows: &rows };
        assert_eq!(best(view, Weights::Raw, Strategy::Baseline, super::super::view::fid), Some(Best { epoch: 200, value: 40.0, degradation: 21.0 }));
        let b = best(view, Weights::Raw, Strategy::DpTotal, super::super::view::fid).unwrap();
        assert_eq!((b.epoch, b.value), (200, 55.0));
        assert!((b.degradation - 1.0).abs() < 1e-12);
        assert_eq!(best(view, Weights::Ema, Strategy::Baseline, super::super::view::fid), None);
        let t = table(view, Weights::Raw, super::super::view::fid, "FID");
        assert!(t.contains("| 100 | 51.00 ± 1.00 | 70.00 |"), "{t}");
        assert!(t.contains("| best FID (epoch) | 40.00 (200) | 55.00 (200) |"), "{t}");
        assert!(t.contains("| degradation (last − best) | +21.00 | +1.00 |"), "{t}");
    }
}

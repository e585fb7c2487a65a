//! The table of precision and recall (k = 3) and density and coverage (k = 5) per sample-set
//! group, beside the FID table in `results.md` and the report.

use crate::evaluate::{in_order, mean_std, ResultRow};
use crate::fid::prdc::Prdc;

/// One row per (run, snapshot, strategy, protocol): mean ± std (ddof 0) over seeds, "–" where
/// the sets were too small to measure.
pub fn fidelity_table(rows: &[ResultRow]) -> String {
    let mut s = String::from("| Model / Path Strategy (protocol) | Weights | Epoch | Precision | Recall | Density | Coverage |\n");
    s.push_str("|---|---|---|---|---|---|---|\n");
    for (run, snapshot, strategy, protocol) in in_order(rows.iter().map(|r| (r.run.as_str(), r.snapshot(), r.strategy, r.protocol))) {
        let mine: Vec<Prdc> = rows
            .iter()
            .filter(|r| (r.run.as_str(), r.snapshot(), r.strategy, r.protocol) == (run, snapshot, strategy, protocol))
            .filter_map(|r| r.prdc)
            .collect();
        let column = |f: fn(&Prdc) -> f64| if mine.is_empty() { "–".to_string() } else { mean_std(&mine.iter().map(f).collect::<Vec<_>>(), 3) };
        s.push_str(&format!(
            "| {} ({protocol}) | {} | {} | {} | {} | {} | {} |\n",
            strategy.label(),
            snapshot.weights,
            snapshot.epoch,
            column(|p| p.precision),
            column(|p| p.recall),
            column(|p| p.density),
            column(|p| p.coverage)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use lift_core::{ModelKind, Strategy, TimestepRule, Weights};

    fn row(seed: usize, prdc: Option<Prdc>) -> ResultRow {
        ResultRow {
            model: ModelKind::Lift,
            run: "lift".into(),
            strategy: Strategy::DpTotal,
            protocol: TimestepRule::Reference,
            seed,
            evaluations: 19,
            parameters: 1,
            weights: Weights::Ema,
            epochs: 4,
            images: 10,
            fid: 1.0,
            kid_x1e3: 1.0,
            kid_std_x1e3: 0.0,
            swd_x1e3: 1.0,
            prdc,
            memorisation: None,
            samples: "s".into(),
        }
    }

    #[test]
    fn seeds_average_and_missing_measures_show_a_dash() {
        let p = |precision| Some(Prdc { precision, recall: 0.5, density: 1.0, coverage: 0.25 });
        let t = fidelity_table(&[row(0, p(0.2)), row(1, p(0.4))]);
        // Mean 0.3, std (ddof 0) 0.1.
        assert!(t.contains("| LIFT DP-Total (reference) | ema | 4 | 0.300 ± 0.100 | 0.500 ± 0.000 | 1.000 ± 0.000 | 0.250 ± 0.000 |"), "{t}");
        let t = fidelity_table(&[row(0, None)]);
        assert!(t.contains("| 4 | – | – | – | – |"), "{t}");
    }
}

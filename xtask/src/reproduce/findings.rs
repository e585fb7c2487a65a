//! "What this run shows": the write-up's claims checked against this run's numbers, each with a
//! plain statement of whether the difference exceeds the seeds' spread. Generated from the
//! results, never written by hand.

use std::fmt::Write as _;

use lift_analyze::compare::{compare, statement, Summary, Verdict};
use lift_analyze::evaluate::ResultRow;
use lift_analyze::mse_test::MseReport;
use lift_core::{Strategy, TimestepRule};

/// The summary of one strategy's metric under `protocol`, if it was sampled.
fn summary(rows: &[ResultRow], strategy: Strategy, protocol: TimestepRule, metric: fn(&ResultRow) -> f64) -> Option<Summary> {
    let values: Vec<f64> = rows.iter().filter(|r| r.strategy == strategy && r.protocol == protocol).map(metric).collect();
    (!values.is_empty()).then(|| Summary::of(&values))
}

/// One claim's line: what it says, and whether this run reproduces it.
fn claim(s: &mut String, text: &str, outcome: &str) {
    let _ = writeln!(s, "- **{text}** — {outcome}");
}

/// Markdown of the section, for the reference protocol's FID and KID and the MSE tests.
pub fn findings(rows: &[ResultRow], mse: &MseReport) -> String {
    let mut s = String::new();
    let p = TimestepRule::Reference;
    let fid = |st| summary(rows, st, p, |r| r.fid);
    let lift: Vec<(Strategy, Summary)> =
        [Strategy::Diagonal, Strategy::Dp64, Strategy::DpTotal].into_iter().filter_map(|st| fid(st).map(|v| (st, v))).collect();
    // 1. The baseline beats LIFT at equal parameters.
    if let (Some(base), Some((best, b))) = (fid(Strategy::Baseline), lift.iter().min_by(|a, b| a.1.mean.total_cmp(&b.1.mean))) {
        let outcome = match compare(&base, b).0 {
            Verdict::Lower => "reproduced: the baseline's FID is lower than the best LIFT path's beyond the seeds' spread.",
            Verdict::Higher => "not reproduced: the best LIFT path beats the baseline here.",
            Verdict::Within => "not decided: the baseline and the best LIFT path are within the seeds' spread.",
            Verdict::NoSpread => "not decided: one seed only.",
        };
        claim(&mut s, "With equal parameters, the baseline outperforms LIFT", outcome);
        let _ = writeln!(s, "  - {}", statement("FID", ("the baseline", &base), (best.label(), b)));
    }
    // 2. DP-64 is the best LIFT path.
    if let Some(dp64) = fid(Strategy::Dp64) {
        let others: Vec<&(Strategy, Summary)> = lift.iter().filter(|(st, _)| *st != Strategy::Dp64).collect();
        let verdicts: Vec<Verdict> = others.iter().map(|(_, o)| compare(&dp64, o).0).collect();
        let outcome = if verdicts.iter().all(|v| *v == Verdict::Lower) {
            "reproduced: DP-64's FID is the lowest of the LIFT paths, beyond the seeds' spread."
        } else if others.iter().all(|(_, o)| dp64.mean < o.mean) {
            "lowest mean, but not beyond the seeds' spread of every other path."
        } else {
            "not reproduced: another LIFT path has a lower FID here."
        };
        claim(&mut s, "DP-64 is the best LIFT path", outcome);
        for (st, o) in others {
            let _ = writeln!(s, "  - {}", statement("FID", ("DP-64", &dp64), (st.label(), o)));
        }
    }
    // 3. DP-Total hurts quality (against DP-64 and the diagonal).
    if let (Some(total), Some(dp64)) = (fid(Strategy::DpTotal), fid(Strategy::Dp64)) {
        let outcome = match compare(&total, &dp64).0 {
            Verdict::Higher => "reproduced: DP-Total's FID is higher than DP-64's beyond the seeds' spread.",
            Verdict::Lower => "not reproduced: DP-Total beats DP-64 here.",
            _ => "not decided: DP-Total and DP-64 are within the seeds' spread (or one seed only).",
        };
        claim(&mut s, "The DP-Total path hurts quality", outcome);
        if let Some(diagonal) = fid(Strategy::Diagonal) {
            let _ = writeln!(s, "  - {}", statement("FID", ("DP-Total", &total), ("the diagonal", &diagonal)));
        }
    }
    // 4. A clean other scale lowers the noisy scale's MSE.
    let test = |name: &str| mse.tests.iter().find(|t| t.name == name);
    if let (Some(t1), Some(t2a), Some(t2b)) = (test("1"), test("2a"), test("2b")) {
        let (a, b) = (t2a.mse_64 < t1.mse_64, t2b.mse_32 < t1.mse_32);
        let outcome = match (a, b) {
            (true, true) => "reproduced at both scales",
            (true, false) | (false, true) => "reproduced at one scale only",
            (false, false) => "not reproduced",
        };
        claim(
            &mut s,
            "A clean other scale lowers the noisy scale's MSE",
            &format!(
                "{outcome}: MSE₆₄ {:.4} with a clean 32×32 vs {:.4} with both noisy; MSE₃₂ {:.4} with a clean 64×64 vs {:.4} (one evaluation, no seeds).",
                t2a.mse_64, t1.mse_64, t2b.mse_32, t1.mse_32
            ),
        );
    }
    // KID says the same or not.
    let kid = |st| summary(rows, st, p, |r| r.kid_x1e3);
    if let (Some(base), Some(dp64), Some(diagonal)) = (kid(Strategy::Baseline), kid(Strategy::Dp64), kid(Strategy::Diagonal)) {
        let _ = writeln!(s, "- KID×10³, which has no small-sample bias:");
        let _ = writeln!(s, "  - {}", statement("KID×10³", ("the baseline", &base), ("DP-64", &dp64)));
        let _ = writeln!(s, "  - {}", statement("KID×10³", ("DP-64", &dp64), ("the diagonal", &diagonal)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use lift_core::ModelKind;

    fn row(strategy: Strategy, seed: usize, fid: f64) -> ResultRow {
        ResultRow {
            model: strategy.model(),
            run: if strategy.model() == ModelKind::Baseline { "baseline" } else { "lift" }.into(),
            strategy,
            protocol: TimestepRule::Reference,
            seed,
            evaluations: 19,
            parameters: 1,
            epochs: 1,
            images: 100,
            fid,
            kid_x1e3: fid / 10.0,
            kid_std_x1e3: 0.1,
            swd_x1e3: 1.0,
            samples: "s".into(),
        }
    }

    #[test]
    fn claims_follow_the_numbers() {
        let mse: MseReport = serde_json::from_value(serde_json::json!({
            "timestep": 500, "samples": 32, "protocol": "reference", "checkpoint": "c", "weights": "raw",
            "tests": [
                {"name": "1", "description": "", "t64": 500, "t32": 500, "mse_64": 0.02, "mse_32": 0.02, "mse_total": 0.02},
                {"name": "2a", "description": "", "t64": 500, "t32": 0, "mse_64": 0.01, "mse_32": 0.0, "mse_total": 0.005},
                {"name": "2b", "description": "", "t64": 0, "t32": 500, "mse_64": 0.0, "mse_32": 0.03, "mse_total": 0.015}
            ]
        }))
        .unwrap();
        let mut rows = Vec::new();
        for (k, jitter) in [-0.5, 0.0, 0.5].into_iter().enumerate() {
            rows.push(row(Strategy::Baseline, k, 80.0 + jitter));
            rows.push(row(Strategy::Diagonal, k, 116.0 + jitter));
            rows.push(row(Strategy::Dp64, k, 101.5 + jitter));
            rows.push(row(Strategy::DpTotal, k, 109.0 + jitter));
        }
        let text = findings(&rows, &mse);
        assert!(text.contains("outperforms LIFT** — reproduced"), "{text}");
        assert!(text.contains("best LIFT path** — reproduced"), "{text}");
        assert!(text.contains("hurts quality** — reproduced"), "{text}");
        assert!(text.contains("reproduced at one scale only"), "{text}");
        // Move DP-64 onto DP-Total: no longer beyond the spread.
        for r in rows.iter_mut().filter(|r| r.strategy == Strategy::Dp64) {
            r.fid += 7.4;
        }
        let text = findings(&rows, &mse);
        assert!(text.contains("hurts quality** — not decided"), "{text}");
    }
}

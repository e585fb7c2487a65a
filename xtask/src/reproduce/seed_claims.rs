//! The seed write-up's four claims (`LIFT-seed.md`, one checkpoint of 30 epochs), checked at
//! every snapshot of this run; the overall verdict is that of the last epoch of the main
//! weights, as the seed measured one checkpoint.

use lift_analyze::compare::statement;
use lift_analyze::mse_test::MseReport;
use lift_core::{Snapshot, Strategy};

use super::claims::{Check, Claim, Outcome, Source};
use super::view::{fid, View};

const LIFT_PATHS: [Strategy; 3] = [Strategy::Diagonal, Strategy::Dp64, Strategy::DpTotal];

/// S1: with equal parameters the baseline beats the best LIFT path.
fn baseline_beats_lift(view: View, at: Snapshot) -> Check {
    let lift = LIFT_PATHS.iter().filter_map(|&st| view.summary(at, st, fid).map(|v| (st, v)));
    match (view.summary(at, Strategy::Baseline, fid), lift.min_by(|a, b| a.1.mean.total_cmp(&b.1.mean))) {
        (Some(base), Some((best, b))) => Check::new(Outcome::lower(&base, &b), statement("FID", ("the baseline", &base), (best.label(), &b))),
        _ => Check::untestable("the baseline or the LIFT paths were not sampled"),
    }
}

/// S2: DP-64 is the best LIFT path.
fn dp64_best(view: View, at: Snapshot) -> Check {
    let Some(dp64) = view.summary(at, Strategy::Dp64, fid) else { return Check::untestable("DP-64 was not sampled") };
    let others: Vec<_> = LIFT_PATHS[..].iter().filter(|&&st| st != Strategy::Dp64).filter_map(|&st| view.summary(at, st, fid).map(|v| (st, v))).collect();
    let outcomes: Vec<Outcome> = others.iter().map(|(_, o)| Outcome::lower(&dp64, o)).collect();
    let outcome = if outcomes.contains(&Outcome::No) {
        Outcome::No
    } else if !outcomes.is_empty() && outcomes.iter().all(|o| *o == Outcome::Yes) {
        Outcome::Yes
    } else if outcomes.iter().all(|o| *o == Outcome::Untestable) {
        Outcome::Untestable
    } else {
        Outcome::Undecided
    };
    let lines: Vec<String> = others.iter().map(|(st, o)| statement("FID", ("DP-64", &dp64), (st.label(), o))).collect();
    Check::new(outcome, lines.join(" "))
}

/// S3: the DP-Total path hurts quality (against DP-64).
fn dp_total_hurts(view: View, at: Snapshot) -> Check {
    match (view.summary(at, Strategy::DpTotal, fid), view.summary(at, Strategy::Dp64, fid)) {
        (Some(total), Some(dp64)) => Check::new(Outcome::lower(&dp64, &total), statement("FID", ("DP-Total", &total), ("DP-64", &dp64))),
        _ => Check::untestable("DP-Total or DP-64 was not sampled"),
    }
}

/// S4: the model denoises best when both scales are noisy: Test 1 has the lowest MSE, in total
/// and on each noisy scale (the seed: 0.0178 against 0.0746 and 0.0703).
pub fn both_noisy_best(mse: &MseReport) -> Check {
    let test = |name: &str| mse.tests.iter().find(|t| t.name == name);
    let (Some(t1), Some(t2a), Some(t2b)) = (test("1"), test("2a"), test("2b")) else { return Check::untestable("the MSE tests 1, 2a and 2b did not all run") };
    let total = t1.mse_total < t2a.mse_total && t1.mse_total < t2b.mse_total;
    let per_scale = t1.mse_64 < t2a.mse_64 && t1.mse_32 < t2b.mse_32;
    let outcome = match (total, per_scale) {
        (true, true) => Outcome::Yes,
        (false, false) => Outcome::No,
        _ => Outcome::Undecided,
    };
    let evidence = format!(
        "Total MSE: Test 1 (both noisy) {:.4}, Test 2a (clean coarse) {:.4}, Test 2b (clean fine) {:.4}. On the noisy scale: fine {:.4} with both noisy vs \
         {:.4} with the coarse clean; coarse {:.4} vs {:.4} with the fine clean ({} weights, one evaluation, no seeds).",
        t1.mse_total, t2a.mse_total, t2b.mse_total, t1.mse_64, t2a.mse_64, t1.mse_32, t2b.mse_32, mse.weights
    );
    Check::new(outcome, evidence)
}

/// The four claims; `main` is the snapshot whose verdict stands for the run.
pub fn claims(view: View, main: Snapshot, mse: &MseReport) -> Vec<Claim> {
    let per = |f: fn(View, Snapshot) -> Check| -> (Vec<(Snapshot, Check)>, Check) {
        let all: Vec<(Snapshot, Check)> = view.snapshots().into_iter().map(|sn| (sn, f(view, sn))).collect();
        let overall = f(view, main);
        (all, Check { evidence: format!("At {}: {}", super::view::name(main), overall.evidence), ..overall })
    };
    let make = |label, text, f| {
        let (per_snapshot, overall) = per(f);
        Claim { source: Source::Seed, label, text, per_snapshot, overall }
    };
    vec![
        make("S1", "With equal parameters, the baseline outperforms LIFT", baseline_beats_lift),
        make("S2", "DP-64 is the best LIFT path", dp64_best),
        make("S3", "The DP-Total path hurts quality (vs DP-64)", dp_total_hurts),
        Claim {
            source: Source::Seed,
            label: "S4",
            text: "The model denoises best when both scales are noisy (MSE Test 1 lowest)",
            per_snapshot: vec![],
            overall: both_noisy_best(mse),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reproduce::test_rows::row;
    use lift_core::run::Weights;

    fn mse(t1: [f64; 3], t2a: [f64; 3], t2b: [f64; 3]) -> MseReport {
        let t = |name: &str, v: [f64; 3]| serde_json::json!({"name": name, "description": "", "t64": 500, "t32": 500, "mse_64": v[0], "mse_32": v[1], "mse_total": v[2]});
        serde_json::from_value(serde_json::json!({
            "timestep": 500, "samples": 32, "protocol": "reference", "checkpoint": "c", "weights": "raw",
            "tests": [t("1", t1), t("2a", t2a), t("2b", t2b)]
        }))
        .unwrap()
    }

    #[test]
    fn claims_follow_the_numbers() {
        let at = Snapshot { weights: Weights::Ema, epoch: 30 };
        let mut rows = Vec::new();
        for (k, jitter) in [-0.5, 0.0, 0.5].into_iter().enumerate() {
            for (st, v) in [(Strategy::Baseline, 80.0), (Strategy::Diagonal, 116.0), (Strategy::Dp64, 101.5), (Strategy::DpTotal, 109.0)] {
                rows.push(row(st, Weights::Ema, 30, k, v + jitter));
            }
        }
        let view = View { rows: &rows };
        let seed = mse([0.0178, 0.0178, 0.0178], [0.0746, 0.0746, 0.0746], [0.0703, 0.0703, 0.0703]);
        let c = claims(view, at, &seed);
        let outcomes: Vec<Outcome> = c.iter().map(|c| c.overall.outcome).collect();
        assert_eq!(outcomes, [Outcome::Yes, Outcome::Yes, Outcome::Yes, Outcome::Yes]);
        assert!(c[0].overall.evidence.contains("p = "), "{}", c[0].overall.evidence);
        // A clean other scale helping (the wording the report had before) is the opposite of S4.
        let helped = mse([0.02, 0.02, 0.02], [0.01, 0.0, 0.005], [0.0, 0.01, 0.005]);
        assert_eq!(both_noisy_best(&helped).outcome, Outcome::No);
        // Move DP-64 onto DP-Total: S3 no longer significant, S2 contradicted by nothing but undecided.
        for r in rows.iter_mut().filter(|r| r.strategy == Strategy::Dp64) {
            r.fid += 7.4;
        }
        let view = View { rows: &rows };
        assert_eq!(dp_total_hurts(view, at).outcome, Outcome::Undecided);
        assert_eq!(dp64_best(view, at).outcome, Outcome::Undecided);
        // DP-64 worse than the diagonal: S2 contradicted.
        for r in rows.iter_mut().filter(|r| r.strategy == Strategy::Dp64) {
            r.fid += 20.0;
        }
        assert_eq!(dp64_best(View { rows: &rows }, at).outcome, Outcome::No);
    }
}

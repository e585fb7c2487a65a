//! Synthetic result rows for the report's unit tests.

use lift_analyze::evaluate::ResultRow;
use lift_core::run::Weights;
use lift_core::{ModelKind, Strategy, TimestepRule};

/// A reference-protocol row of `strategy` at (`weights`, `epoch`) and `seed` with FID `fid`
/// (KID×10³ = FID/10).
pub fn row(strategy: Strategy, weights: Weights, epoch: usize, seed: usize, fid: f64) -> ResultRow {
    ResultRow {
        model: strategy.model(),
        run: if strategy.model() == ModelKind::Baseline { "baseline" } else { "lift" }.into(),
        strategy,
        protocol: TimestepRule::Reference,
        seed,
        evaluations: 19,
        parameters: 1,
        weights,
        epochs: epoch,
        images: 100,
        fid,
        kid_x1e3: fid / 10.0,
        kid_std_x1e3: 0.1,
        swd_x1e3: 1.0,
        prdc: None,
        memorisation: None,
        samples: "s".into(),
    }
}

//! The evaluated rows as the report reads them: by snapshot (weights, epoch) and strategy, under
//! the reference protocol (the original's, which every sweep samples).

use lift_analyze::compare::Summary;
use lift_analyze::evaluate::{in_order, ResultRow};
use lift_core::run::Weights;
use lift_core::{Snapshot, Strategy, TimestepRule};

/// The rows of one study.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub rows: &'a [ResultRow],
}

/// A metric of a row.
pub type Metric = fn(&ResultRow) -> f64;

/// FID of a row.
pub fn fid(r: &ResultRow) -> f64 {
    r.fid
}

/// KID ×10³ of a row.
pub fn kid(r: &ResultRow) -> f64 {
    r.kid_x1e3
}

impl<'a> View<'a> {
    /// Rows under the reference protocol.
    fn reference(&self) -> impl Iterator<Item = &'a ResultRow> {
        self.rows.iter().filter(|r| r.protocol == TimestepRule::Reference)
    }

    /// The weights evaluated, in the order of the rows.
    pub fn weights(&self) -> Vec<Weights> {
        in_order(self.reference().map(|r| r.weights))
    }

    /// The epochs evaluated for `weights`, increasing.
    pub fn epochs(&self, weights: Weights) -> Vec<usize> {
        let mut e = in_order(self.reference().filter(|r| r.weights == weights).map(|r| r.epochs));
        e.sort_unstable();
        e
    }

    /// Every snapshot, by weights then epoch.
    pub fn snapshots(&self) -> Vec<Snapshot> {
        self.weights().into_iter().flat_map(|weights| self.epochs(weights).into_iter().map(move |epoch| Snapshot { weights, epoch })).collect()
    }

    /// The strategies evaluated, in the order of the rows.
    pub fn strategies(&self) -> Vec<Strategy> {
        in_order(self.reference().map(|r| r.strategy))
    }

    /// The metric over seeds of one strategy at one snapshot.
    pub fn values(&self, snapshot: Snapshot, strategy: Strategy, metric: Metric) -> Vec<f64> {
        self.reference().filter(|r| r.snapshot() == snapshot && r.strategy == strategy).map(metric).collect()
    }

    /// Their summary, if the strategy was sampled there.
    pub fn summary(&self, snapshot: Snapshot, strategy: Strategy, metric: Metric) -> Option<Summary> {
        let v = self.values(snapshot, strategy, metric);
        (!v.is_empty()).then(|| Summary::of(&v))
    }

    /// The rows of one snapshot under the reference protocol.
    pub fn at(&self, snapshot: Snapshot) -> Vec<&'a ResultRow> {
        self.reference().filter(|r| r.snapshot() == snapshot).collect()
    }

    /// The last epoch's snapshot of `weights`.
    pub fn last(&self, weights: Weights) -> Option<Snapshot> {
        self.epochs(weights).last().map(|&epoch| Snapshot { weights, epoch })
    }
}

/// A snapshot as the report's tables name it: "EMA, epoch 400".
pub fn name(s: Snapshot) -> String {
    format!("{}, epoch {}", if s.weights == Weights::Ema { "EMA" } else { "raw" }, s.epoch)
}

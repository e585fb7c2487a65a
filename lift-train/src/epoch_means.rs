//! An epoch's metric values as `metrics.csv` keeps them: the mean of each loss, the last value of
//! the learning rate and the throughput. The CSV log and the TensorBoard log both take them from
//! here, so the two agree.

use std::collections::BTreeMap;

use burn::train::metric::NumericEntry;
use lift_core::metrics_csv::{COLUMNS, EPOCH, SECONDS};

/// A running mean that also remembers the last value.
#[derive(Default, Clone, Copy)]
pub struct Mean {
    sum: f64,
    count: usize,
    last: f64,
}

impl Mean {
    /// Adds one update (an aggregated entry counts as its `count` items).
    pub fn add(&mut self, entry: &NumericEntry) {
        let (value, count) = match entry {
            NumericEntry::Value(v) => (*v, 1),
            NumericEntry::Aggregated { aggregated_value, count } => (*aggregated_value, (*count).max(1)),
        };
        self.sum += value * count as f64;
        self.count += count;
        self.last = value;
    }

    /// The mean so far (NaN before any update).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.sum / self.count as f64
        }
    }
}

/// The value of one update.
pub fn value_of(entry: &NumericEntry) -> f64 {
    match entry {
        NumericEntry::Value(v) => *v,
        NumericEntry::Aggregated { aggregated_value, .. } => *aggregated_value,
    }
}

/// Burn-train metric values of one epoch, by split and metric name.
#[derive(Default)]
pub struct EpochMeans {
    train: BTreeMap<String, Mean>,
    valid: BTreeMap<String, Mean>,
}

impl EpochMeans {
    /// Records an update of metric `name`.
    pub fn add(&mut self, valid: bool, name: &str, entry: &NumericEntry) {
        let split = if valid { &mut self.valid } else { &mut self.train };
        split.entry(name.to_string()).or_default().add(entry);
    }

    /// Every `metrics.csv` column but `epoch` and `seconds`, in file order (NaN for a metric the
    /// run does not have), then starts the next epoch.
    pub fn take_columns(&mut self) -> Vec<(&'static str, f64)> {
        let columns = COLUMNS.iter().filter(|c| **c != EPOCH && **c != SECONDS).map(|column| (*column, self.column(column))).collect();
        self.train.clear();
        self.valid.clear();
        columns
    }

    /// `train_X` / `valid_X` are the mean of metric X on that split; the rest the last training value.
    fn column(&self, column: &str) -> f64 {
        let (split, name) = match (column.strip_prefix("train_"), column.strip_prefix("valid_")) {
            (Some(name), _) => (&self.train, name),
            (_, Some(name)) => (&self.valid, name),
            _ => return self.train.get(column).map_or(f64::NAN, |m| m.last),
        };
        split.get(name).map_or(f64::NAN, Mean::mean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lift_core::metrics_csv::IMAGES_PER_S;

    #[test]
    fn columns_are_split_means_and_last_values() {
        let mut m = EpochMeans::default();
        for v in [1.0, 2.0, 6.0] {
            m.add(false, "loss", &NumericEntry::Value(v));
        }
        m.add(true, "loss", &NumericEntry::Aggregated { aggregated_value: 4.0, count: 3 });
        m.add(true, "loss", &NumericEntry::Value(8.0));
        m.add(true, "ema_loss", &NumericEntry::Value(0.5));
        m.add(false, "lr", &NumericEntry::Value(1e-3));
        m.add(false, "lr", &NumericEntry::Value(2e-3));
        m.add(false, IMAGES_PER_S, &NumericEntry::Value(30.0));
        let columns: BTreeMap<_, _> = m.take_columns().into_iter().collect();
        assert_eq!(columns["train_loss"], 3.0);
        assert_eq!(columns["valid_loss"], 5.0, "(3·4 + 8) / 4");
        assert_eq!(columns["valid_ema_loss"], 0.5);
        assert_eq!((columns["lr"], columns[IMAGES_PER_S]), (2e-3, 30.0));
        assert!(columns["train_loss_32"].is_nan() && !columns.contains_key(SECONDS) && !columns.contains_key(EPOCH));
        assert!(m.take_columns().iter().all(|(_, v)| v.is_nan()), "the next epoch starts empty");
    }
}

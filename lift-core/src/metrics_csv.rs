//! A run's `metrics.csv`: one row per epoch, columns named once here, read back by name.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// The columns, in file order.
pub const COLUMNS: [&str; 11] =
    [EPOCH, TRAIN_LOSS, TRAIN_LOSS_FINE, TRAIN_LOSS_COARSE, VALID_LOSS, "valid_loss_64", "valid_loss_32", VALID_EMA_LOSS, LR, IMAGES_PER_S, SECONDS];

pub const EPOCH: &str = "epoch";
/// Training loss, summed over the scales for LIFT.
pub const TRAIN_LOSS: &str = "train_loss";
/// LIFT's training loss at the fine and the coarse scale (the original's `losses_64`, `losses_32`).
pub const TRAIN_LOSS_FINE: &str = "train_loss_64";
pub const TRAIN_LOSS_COARSE: &str = "train_loss_32";
pub const VALID_LOSS: &str = "valid_loss";
pub const VALID_EMA_LOSS: &str = "valid_ema_loss";
pub const LR: &str = "lr";
pub const IMAGES_PER_S: &str = "images_per_s";
/// Wall time of the epoch.
pub const SECONDS: &str = "seconds";

/// One epoch's values by column name (NaN where the run had none, e.g. no validation split).
pub type MetricsRow = HashMap<String, f64>;

/// Reads every row of a `metrics.csv`; the header decides which column is which.
pub fn read(path: &Path) -> Result<Vec<MetricsRow>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().with_context(|| format!("{} is empty", path.display()))?.split(',').collect();
    if !header.contains(&EPOCH) {
        bail!("{} has no {EPOCH} column", path.display());
    }
    lines
        .enumerate()
        .map(|(k, line)| {
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != header.len() {
                bail!("{} line {}: {} cells for {} columns", path.display(), k + 2, cells.len(), header.len());
            }
            Ok(header.iter().zip(cells).map(|(h, c)| (h.to_string(), c.parse().unwrap_or(f64::NAN))).collect())
        })
        .collect()
}

/// The value of `column` in `row` (NaN when absent).
pub fn value(row: &MetricsRow, column: &str) -> f64 {
    row.get(column).copied().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_by_name_whatever_their_order() {
        let dir = std::env::temp_dir().join(format!("lift-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        std::fs::write(&path, "valid_loss,epoch,train_loss\n0.5,1,0.7\nNaN,2,0.6\n").unwrap();
        let rows = read(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((value(&rows[0], EPOCH), value(&rows[0], TRAIN_LOSS), value(&rows[0], VALID_LOSS)), (1.0, 0.7, 0.5));
        assert!(value(&rows[1], VALID_LOSS).is_nan() && value(&rows[1], "lr").is_nan());
        std::fs::write(&path, "epoch,train_loss\n1\n").unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("line 2"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

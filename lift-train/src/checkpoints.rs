//! Which epochs keep a checkpoint: every `checkpoint_every` epochs and the last one, the newest
//! `keep_last` of them, and with `keep_best` the one with the lowest validation loss too (named in
//! `checkpoint/best.json`). A new checkpoint is written before any old one is deleted.

use std::path::PathBuf;

use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};
use serde::{Deserialize, Serialize};

/// `checkpoint/best.json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Best {
    pub epoch: usize,
    pub valid_loss: f64,
}

/// The checkpoint policy of a run.
pub struct CheckpointPolicy {
    every: usize,
    keep_last: usize,
    keep_best: bool,
    last_epoch: usize,
    /// Epochs with a checkpoint on disk, oldest first.
    saved: Vec<usize>,
    best: Option<Best>,
    best_file: PathBuf,
}

impl CheckpointPolicy {
    /// A policy for a run of `last_epoch` epochs whose folder already holds checkpoints of `saved`.
    pub fn new(train: &lift_core::config::TrainConfig, last_epoch: usize, mut saved: Vec<usize>, best_file: PathBuf) -> Self {
        saved.sort_unstable();
        let best = train.keep_best.then(|| lift_core::io::read_json::<Best>(&best_file).ok()).flatten();
        Self { every: train.checkpoint_every, keep_last: train.keep_last, keep_best: train.keep_best, last_epoch, saved, best, best_file }
    }

    /// The actions after `epoch`, whose mean validation loss is `valid_loss` (None without a split).
    pub fn decide(&mut self, epoch: usize, valid_loss: Option<f64>) -> Vec<CheckpointingAction> {
        if !(epoch.is_multiple_of(self.every) || epoch == self.last_epoch) {
            return Vec::new();
        }
        let mut actions = vec![CheckpointingAction::Save];
        self.saved.push(epoch);
        if let Some(v) = valid_loss.filter(|v| self.keep_best && v.is_finite()) {
            if self.best.is_none_or(|b| v < b.valid_loss) {
                self.best = Some(Best { epoch, valid_loss: v });
                if let Err(e) = lift_core::io::write_json(&self.best_file, &self.best) {
                    eprintln!("warning: {e:#}");
                }
            }
        }
        // Keep the newest `keep_last` and the best; delete the rest, oldest first.
        let best = self.best.map(|b| b.epoch);
        let newest = self.saved.len().saturating_sub(self.keep_last);
        let (old, recent) = self.saved.split_at(newest);
        let (drop, keep): (Vec<usize>, Vec<usize>) = old.iter().partition(|e| Some(**e) != best);
        actions.extend(drop.into_iter().map(CheckpointingAction::Delete));
        self.saved = keep.into_iter().chain(recent.iter().copied()).collect();
        actions
    }
}

impl CheckpointingStrategy for CheckpointPolicy {
    fn checkpointing(&mut self, epoch: usize, store: &EventStoreClient) -> Vec<CheckpointingAction> {
        let valid = self.keep_best.then(|| store.find_metric("loss", epoch, Aggregate::Mean, &Split::Valid)).flatten();
        self.decide(epoch, valid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CheckpointingAction::{Delete, Save};

    fn policy(every: usize, keep_last: usize, keep_best: bool) -> CheckpointPolicy {
        let mut t = lift_core::LiftConfig::from_toml(include_str!("../../configs/paper.toml")).unwrap().train;
        (t.checkpoint_every, t.keep_last, t.keep_best) = (every, keep_last, keep_best);
        let file = std::env::temp_dir().join(format!("lift-best-{}-{every}{keep_last}{keep_best}.json", std::process::id()));
        let _ = std::fs::remove_file(&file);
        CheckpointPolicy::new(&t, 7, vec![], file)
    }

    #[test]
    fn every_n_epochs_and_the_last_keeping_the_newest() {
        let mut p = policy(3, 1, false);
        let actions: Vec<Vec<CheckpointingAction>> = (1..=7).map(|e| p.decide(e, None)).collect();
        // Saves at 3, 6 and the last epoch 7; each save first, then the older one goes.
        assert_eq!(actions, [vec![], vec![], vec![Save], vec![], vec![], vec![Save, Delete(3)], vec![Save, Delete(6)]]);
    }

    #[test]
    fn the_best_validation_checkpoint_survives_pruning() {
        let mut p = policy(1, 2, true);
        let losses = [0.9, 0.5, 0.7, 0.8, 0.6];
        let actions: Vec<Vec<CheckpointingAction>> = losses.iter().enumerate().map(|(k, v)| p.decide(k + 1, Some(*v))).collect();
        assert_eq!(actions[2], vec![Save, Delete(1)], "epoch 1 is neither best nor among the last two");
        assert_eq!(actions[3], vec![Save], "epoch 2 is the best (0.5): kept besides the last two (3, 4)");
        assert_eq!(actions[4], vec![Save, Delete(3)], "the newest two are 4 and 5; 2 stays as the best");
        assert_eq!(p.best, Some(Best { epoch: 2, valid_loss: 0.5 }));
        assert_eq!(lift_core::io::read_json::<Best>(&p.best_file).unwrap().epoch, 2);
    }
}

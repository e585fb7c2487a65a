//! The study's folder tree, in one place (as `RunDir` is for a run). `cargo xtask reproduce`
//! fills it stage by stage; `lift-analyze evaluate` and the report read it.
//!
//! ```text
//! <root>/<stage>/manifest.json                      every stage, when finished
//! <root>/train-<model>/<model>/                     the run folders (RunDir)
//! <root>/heatmap/<snapshot>/seed-<s>/heatmap.json   one heatmap per snapshot and heatmap seed
//! <root>/paths/<snapshot>/seed-<s>/<strategy>-<protocol>.json  DP, diagonal and older-rule paths
//! <root>/paths/<snapshot>/seed-<s>/dp-total-<chain rule>.json  DP-Total under each chain rule
//! <root>/evaluate/real-*.f32                        real images' Inception features
//! <root>/evaluate/samples/<run>/<snapshot>/<strategy>-<protocol>/seed-<s>/  PNGs, features.f32, metrics.json
//! <root>/evaluate/results.json, results.md          one row per sample set
//! <root>/mse/mse.json, mse.png                      MSE tests
//! <root>/ablations/<model>/{heatmap,paths,evaluate}/  an ablation model's sweep (--ablations)
//! <root>/ablations/ablations.json, ablations.md     their rows and table
//! <root>/figures/*.png                              figures of the report
//! <root>/REPORT.md
//! ```

use std::path::{Path, PathBuf};

use lift_core::chain_rule::ChainRule;
use lift_core::study::{RealSubset, Resize};
use lift_core::{ModelKind, Snapshot, Strategy, TimestepRule};

/// Stage folder names, in the order the study runs them.
pub const STAGES: [&str; 11] = ["data", "inception", "train-baseline", "train-lift", "heatmap", "paths", "evaluate", "mse", "sr", "figures", "report"];

/// The stages `reproduce --ablations` adds before the report: the ablation models' trainings, then
/// their sweeps and evaluation.
pub const ABLATION_STAGES: [&str; 3] = ["train-single-t", "train-no-t", ABLATIONS];

/// The stage of the single-output ablation models' sweeps (`reproduce --ablations`).
pub const ABLATIONS: &str = "ablations";

/// The root of a study's tree.
#[derive(Debug, Clone)]
pub struct StudyDir(pub PathBuf);

impl StudyDir {
    /// The folder of stage `name`.
    pub fn stage(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The run folder of a model's training.
    pub fn run(&self, kind: ModelKind) -> PathBuf {
        self.stage(&format!("train-{kind}")).join(kind.to_string())
    }

    /// The heatmap of a snapshot's heatmap seed `seed`.
    pub fn heatmap(&self, snapshot: Snapshot, seed: usize) -> PathBuf {
        self.stage("heatmap").join(snapshot.to_string()).join(format!("seed-{seed}")).join("heatmap.json")
    }

    /// The path file of a strategy under a protocol, from a snapshot's heatmap seed `seed`.
    pub fn path(&self, snapshot: Snapshot, seed: usize, strategy: Strategy, protocol: TimestepRule) -> PathBuf {
        self.stage("paths").join(snapshot.to_string()).join(format!("seed-{seed}")).join(format!("{strategy}-{protocol}.json"))
    }

    /// The DP-Total path under a chain rule (reference protocol), from a snapshot's heatmap seed.
    pub fn chain_rule_path(&self, snapshot: Snapshot, seed: usize, chain: ChainRule) -> PathBuf {
        self.stage("paths").join(snapshot.to_string()).join(format!("seed-{seed}")).join(format!("dp-total-{chain}.json"))
    }

    /// The folder of one sample set.
    pub fn samples(&self, run: &str, snapshot: Snapshot, strategy: Strategy, protocol: TimestepRule, seed: usize) -> PathBuf {
        self.stage("evaluate").join("samples").join(run).join(snapshot.to_string()).join(format!("{strategy}-{protocol}")).join(format!("seed-{seed}"))
    }

    /// The cached Inception features of `n` real images at `resolution`.
    pub fn real_features(&self, resolution: usize, subset: RealSubset, n: usize, resize: Resize) -> PathBuf {
        self.stage("evaluate").join(format!("real-{resolution}px-{subset}{n}-{resize}.f32"))
    }

    /// Their FID statistics in pytorch-fid's `.npz` (for `lift-analyze fid --real` and other tools).
    pub fn real_stats(&self, resolution: usize, subset: RealSubset, n: usize, resize: Resize) -> PathBuf {
        self.real_features(resolution, subset, n, resize).with_extension("npz")
    }

    /// `results.json`, one row per sample set.
    pub fn results(&self) -> PathBuf {
        self.stage("evaluate").join("results.json")
    }

    /// `results.md`, the FID table.
    pub fn results_table(&self) -> PathBuf {
        self.stage("evaluate").join("results.md")
    }

    /// The MSE tests' report.
    pub fn mse(&self) -> PathBuf {
        self.stage("mse").join("mse.json")
    }

    /// The sub-tree of an ablation model's sweep and evaluation (its own heatmap/, paths/ and
    /// evaluate/ folders; the run itself is at [`StudyDir::run`]).
    pub fn ablation(&self, kind: ModelKind) -> StudyDir {
        StudyDir(self.stage(ABLATIONS).join(kind.to_string()))
    }

    /// Every ablation model's result rows (`ablations.json`) and their table (`ablations.md`).
    pub fn ablation_results(&self) -> [PathBuf; 2] {
        ["ablations.json", "ablations.md"].map(|f| self.stage(ABLATIONS).join(f))
    }

    /// The super-resolution comparison: `sr.json`, `sr.md` and the figure `sr.png`.
    pub fn super_resolution(&self) -> PathBuf {
        self.stage("sr")
    }

    /// A figure of the report.
    pub fn figure(&self, name: &str) -> PathBuf {
        self.stage("figures").join(name)
    }

    /// `REPORT.md`.
    pub fn report(&self) -> PathBuf {
        self.0.join("REPORT.md")
    }

    /// The root.
    pub fn root(&self) -> &Path {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let d = StudyDir(PathBuf::from("s"));
        let snap = Snapshot { weights: lift_core::run::Weights::Raw, epoch: 40 };
        assert_eq!(d.run(ModelKind::Lift), PathBuf::from("s/train-lift/lift"));
        assert_eq!(d.path(snap, 2, Strategy::Dp64, TimestepRule::Fair), PathBuf::from("s/paths/raw-e40/seed-2/dp-64-fair.json"));
        assert_eq!(d.chain_rule_path(snap, 0, ChainRule::Dx0Dlambda), PathBuf::from("s/paths/raw-e40/seed-0/dp-total-dx0-dlambda.json"));
        assert_eq!(
            d.samples("lift", snap, Strategy::DpTotal, TimestepRule::Reference, 0),
            PathBuf::from("s/evaluate/samples/lift/raw-e40/dp-total-reference/seed-0")
        );
        assert_eq!(d.real_features(32, RealSubset::Random, 512, Resize::BicubicAntialias), PathBuf::from("s/evaluate/real-32px-random512-bicubic-aa.f32"));
    }
}

//! The sweep over training: for every snapshot of a study (raw or EMA weights after each of
//! `study.eval_epochs`), its own heatmaps (one per heatmap seed) and the paths made from them,
//! in the folders of [`StudyDir`]. `cargo xtask reproduce` runs the two halves as its heatmap and
//! paths stages; `lift-analyze evaluate` runs both when it is given no heatmap.

use std::path::{Path, PathBuf};

use anyhow::Result;
use lift_core::study::StudyConfig;
use lift_core::{Devices, NoiseSchedule, Shard, Snapshot};

use crate::heatmap::{Heatmap, HeatmapJob};
use crate::jacobian::Estimator;
use crate::paths::write_study_paths;
use crate::study_dir::StudyDir;

/// Where the LIFT run and its training images are, and what the study asks of them.
pub struct Sweep<'a> {
    pub dir: &'a StudyDir,
    /// The LIFT run folder.
    pub run: PathBuf,
    pub data: PathBuf,
    pub study: &'a StudyConfig,
    /// The run's length in epochs.
    pub epochs: usize,
}

impl Sweep<'_> {
    /// The snapshots swept.
    pub fn snapshots(&self) -> Result<Vec<Snapshot>> {
        self.study.snapshots(self.epochs)
    }

    /// Computes every snapshot's heatmaps on `devices` (a finished one is kept); returns the files.
    pub fn heatmaps(&self, devices: &Devices) -> Result<Vec<PathBuf>> {
        let st = self.study;
        let mut files = Vec::new();
        for snapshot in self.snapshots()? {
            for seed in st.heatmap_seed_list() {
                let out = self.dir.heatmap(snapshot, seed);
                let job = HeatmapJob {
                    run: self.run.clone(),
                    weights: snapshot.weights,
                    epoch: Some(snapshot.epoch),
                    out: out.clone(),
                    grid: st.heatmap_grid,
                    images: st.heatmap_images,
                    probes: st.heatmap_probes,
                    seed: seed as u64,
                    data: self.data.clone(),
                    estimator: Estimator::Vjp,
                    max_batch: 64,
                    shard: Shard::WHOLE,
                };
                if !finished(&job) {
                    crate::heatmap::parts::compute_on(job, devices)?;
                }
                files.push(out);
            }
        }
        Ok(files)
    }

    /// Writes every snapshot's paths from its heatmaps; returns the files.
    pub fn paths(&self, steps: usize, schedule: &NoiseSchedule) -> Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        for snapshot in self.snapshots()? {
            for seed in self.study.heatmap_seed_list() {
                files.extend(write_study_paths(self.dir, snapshot, seed, &self.dir.heatmap(snapshot, seed), self.study, steps, schedule)?);
            }
        }
        Ok(files)
    }
}

/// True when `job.out` holds the heatmap this job would compute (an interrupted sweep resumes).
fn finished(job: &HeatmapJob) -> bool {
    let Ok(map) = Heatmap::load(&job.out) else { return false };
    let m = &map.meta;
    (m.grid, m.images, m.probes, m.seed, m.weights.as_str()) == (job.grid, job.images, job.probes, job.seed, weights_label(job).as_str())
        && Path::new(&m.checkpoint) == job.run
}

/// The weights as a heatmap's metadata names them: `ema`, or `ema@400` for a snapshot.
pub fn weights_label(job: &HeatmapJob) -> String {
    match job.epoch {
        Some(e) => format!("{}@{e}", job.weights),
        None => job.weights.to_string(),
    }
}

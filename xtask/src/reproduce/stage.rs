//! Stages of the study: each runs in its own folder and finishes by writing `manifest.json`
//! (inputs and their hash, outputs and their hash, git commit, time taken). A stage whose
//! manifest matches its inputs is skipped; a stage without one (killed) runs again and resumes
//! from whatever its own files already hold.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `manifest.json` of a finished stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub stage: String,
    pub inputs_hash: String,
    pub inputs: Value,
    pub outputs: Value,
    pub outputs_hash: String,
    pub git_commit: String,
    pub seconds: f64,
}

/// What a stage's work returns: a summary and the files whose contents identify its results.
pub struct Outputs {
    pub summary: Value,
    pub files: Vec<PathBuf>,
}

/// Hex sha256 of a JSON value's canonical text.
pub fn hash_json(v: &Value) -> String {
    format!("{:x}", Sha256::digest(v.to_string().as_bytes()))
}

fn hash_outputs(o: &Outputs) -> Result<String> {
    let mut h = Sha256::new();
    h.update(o.summary.to_string().as_bytes());
    for f in &o.files {
        h.update(std::fs::read(f).with_context(|| format!("stage output {} is missing", f.display()))?);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// Stages nominally shorter than this do not rescale the estimate of what remains.
const MIN_CALIBRATING_SECONDS: f64 = 60.0;

/// Runs stages in order, printing progress with elapsed time and an estimate of what remains.
pub struct Stages {
    root: PathBuf,
    names: Vec<&'static str>,
    nominal: Vec<f64>,
    index: usize,
    start: Instant,
    /// (actual, nominal) seconds of the stages that ran in this session.
    measured: (f64, f64),
    /// "Up to date" lines not yet shown: a run with nothing to do prints only the report's path.
    pending: Vec<String>,
    pub manifests: Vec<Manifest>,
}

impl Stages {
    /// `plan` lists every stage with its nominal duration in seconds (for the estimate); `header`
    /// is shown once a stage has work to do.
    pub fn new(root: &Path, plan: &[(&'static str, f64)], header: String) -> Self {
        Self {
            root: root.to_path_buf(),
            names: plan.iter().map(|p| p.0).collect(),
            nominal: plan.iter().map(|p| p.1).collect(),
            index: 0,
            start: Instant::now(),
            measured: (0.0, 0.0),
            pending: vec![header],
            manifests: Vec::new(),
        }
    }

    /// The folder of stage `name`.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn remaining_estimate(&self) -> f64 {
        let left: f64 = self.nominal[self.index..].iter().sum();
        let speed = if self.measured.1 > 0.0 { self.measured.0 / self.measured.1 } else { 1.0 };
        left * speed
    }

    /// Runs (or skips) the next stage, which must be `name`.
    pub fn run(&mut self, name: &'static str, inputs: Value, work: impl FnOnce(&Path) -> Result<Outputs>) -> Result<Manifest> {
        assert_eq!(self.names[self.index], name, "stages run in plan order");
        let (k, n) = (self.index + 1, self.names.len());
        let dir = self.dir(name);
        let manifest_path = dir.join("manifest.json");
        let inputs_hash = hash_json(&inputs);
        let previous = lift_core::io::read_json::<Manifest>(&manifest_path).ok();
        if let Some(m) = previous.as_ref().filter(|m| m.inputs_hash == inputs_hash) {
            self.index += 1;
            self.pending.push(format!("[{k}/{n}] {name}: up to date (skipped)"));
            self.manifests.push(m.clone());
            return Ok(m.clone());
        }
        if previous.is_some() {
            // Finished once with other inputs: its files are stale, start it afresh.
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir)?;
        for line in self.pending.drain(..) {
            println!("{line}");
        }
        println!(
            "[{k}/{n}] {name} … (elapsed {}, ~{} left)",
            minutes(self.start.elapsed().as_secs_f64()),
            minutes(self.remaining_estimate())
        );
        let t0 = Instant::now();
        let outputs = work(&dir).with_context(|| format!("stage {name} failed"))?;
        let seconds = t0.elapsed().as_secs_f64();
        let manifest = Manifest {
            stage: name.into(),
            inputs_hash,
            inputs,
            outputs_hash: hash_outputs(&outputs)?,
            outputs: outputs.summary,
            git_commit: lift_core::run::git_commit(),
            seconds,
        };
        lift_core::io::write_json(&manifest_path, &manifest)?;
        // Only compute stages calibrate the estimate: a data set or weights already on disk finish
        // in no time and would otherwise scale every later stage down to nothing.
        if self.nominal[self.index] >= MIN_CALIBRATING_SECONDS {
            self.measured.0 += seconds;
            self.measured.1 += self.nominal[self.index];
        }
        self.index += 1;
        println!(
            "[{k}/{n}] {name} done in {} (elapsed {}, ~{} left)",
            minutes(seconds),
            minutes(self.start.elapsed().as_secs_f64()),
            minutes(self.remaining_estimate())
        );
        self.manifests.push(manifest.clone());
        Ok(manifest)
    }
}

/// "3 min 20 s" / "42 s".
pub fn minutes(s: f64) -> String {
    // Round once, so 119.7 s reads "2 min 00 s"; an estimate that overshot reads "0 s".
    let s = s.max(0.0).round() as u64;
    if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_setup_stages_leave_the_estimate_at_its_nominal_value() {
        let root = std::env::temp_dir().join(format!("lift-stages-{}", std::process::id()));
        let mut stages = Stages::new(&root, &[("data", 10.0), ("train", 600.0)], String::new());
        let none = |_: &Path| Ok(Outputs { summary: Value::Null, files: vec![] });
        stages.run("data", Value::Null, none).unwrap();
        let left = stages.remaining_estimate();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(left, 600.0);
    }

    #[test]
    fn durations_round_once() {
        assert_eq!(minutes(119.7), "2 min 00 s");
        assert_eq!(minutes(61.2), "1 min 01 s");
        assert_eq!(minutes(-0.2), "0 s");
        assert_eq!(minutes(59.4), "59 s");
    }
}

//! Stages of the study: each runs in its own folder and finishes by writing `manifest.json`
//! (inputs, the code identity of the crates it runs, outputs and their hash, git commit, time).
//! A stage is skipped when its key — inputs plus code identity — matches its manifest, unless
//! `--rerun` names it or a stage it depends on; a stage without a manifest (killed) runs again
//! and resumes from whatever its own files already hold.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The workspace crates whose sources identify a stage's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Crate {
    LiftCpu,
    LiftCore,
    LiftTrain,
    LiftAnalyze,
    Xtask,
}

/// One hash per crate (sources, manifest, lock file), from the build script.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeIdentity(pub BTreeMap<Crate, String>);

impl CodeIdentity {
    /// The identity this binary was built from.
    pub fn of_this_build() -> Self {
        Self(BTreeMap::from([
            (Crate::LiftCpu, env!("LIFT_CODE_LIFT_CPU").to_string()),
            (Crate::LiftCore, env!("LIFT_CODE_LIFT_CORE").to_string()),
            (Crate::LiftTrain, env!("LIFT_CODE_LIFT_TRAIN").to_string()),
            (Crate::LiftAnalyze, env!("LIFT_CODE_LIFT_ANALYZE").to_string()),
            (Crate::Xtask, env!("LIFT_CODE_XTASK").to_string()),
        ]))
    }

    fn of(&self, crates: &[Crate]) -> BTreeMap<Crate, String> {
        crates.iter().map(|c| (*c, self.0.get(c).cloned().unwrap_or_default())).collect()
    }
}

/// A stage of the plan: its name, nominal seconds (for estimates), the stages whose outputs it
/// reads and the crates whose code it runs.
#[derive(Debug, Clone)]
pub struct StageSpec {
    pub name: &'static str,
    pub nominal: f64,
    pub deps: &'static [&'static str],
    pub code: &'static [Crate],
}

/// `manifest.json` of a finished stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub stage: String,
    pub inputs_hash: String,
    pub inputs: Value,
    #[serde(default)]
    pub code: BTreeMap<Crate, String>,
    pub outputs: Value,
    pub outputs_hash: String,
    /// The files the stage wrote for later stages, relative to the study's root (absolute when
    /// outside it, as the shared Inception weights): what they may read.
    #[serde(default)]
    pub files: Vec<PathBuf>,
    pub git_commit: String,
    pub seconds: f64,
    /// Peak resident memory of the process while the stage ran, MiB (stages run side by side
    /// share one peak).
    #[serde(default)]
    pub peak_rss_mib: Option<f64>,
}

/// What a stage's work returns: a summary and the files whose contents identify its results.
pub struct Outputs {
    pub summary: Value,
    pub files: Vec<PathBuf>,
}

/// The files under `dir`, in path order.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry.with_context(|| format!("cannot list {}", dir.display()))?.path();
        if path.is_dir() {
            out.extend(files_under(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
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

/// A stage to run: its name, inputs and work.
pub type Job<'w> = (&'static str, Value, Box<dyn FnOnce(&Path) -> Result<Outputs> + Send + 'w>);

/// Runs stages in order, printing progress with elapsed time and an estimate of what remains.
pub struct Stages {
    root: PathBuf,
    plan: Vec<StageSpec>,
    code: CodeIdentity,
    forced: BTreeSet<&'static str>,
    index: usize,
    start: Instant,
    /// (actual, nominal) seconds of the stages that ran in this session.
    measured: (f64, f64),
    /// "Up to date" lines not yet shown: a run with nothing to do prints only the report's path.
    pending: Vec<String>,
    pub manifests: Vec<Manifest>,
}

/// The stages `--rerun` forces: the named ones (`all` = every stage) and all that depend on them.
pub fn forced_stages(plan: &[StageSpec], rerun: &[String]) -> Result<BTreeSet<&'static str>> {
    let mut forced = BTreeSet::new();
    for name in rerun {
        if name == "all" {
            return Ok(plan.iter().map(|s| s.name).collect());
        }
        let Some(spec) = plan.iter().find(|s| s.name == name) else {
            let names: Vec<&str> = plan.iter().map(|s| s.name).collect();
            bail!("--rerun: unknown stage '{name}'; stages are {} (or all)", names.join(", "));
        };
        forced.insert(spec.name);
    }
    // The plan is in dependency order: one pass propagates to every dependent.
    for spec in plan {
        if spec.deps.iter().any(|d| forced.contains(d)) {
            forced.insert(spec.name);
        }
    }
    Ok(forced)
}

impl Stages {
    /// `plan` lists every stage in order; `header` is shown once a stage has work to do.
    pub fn new(root: &Path, plan: Vec<StageSpec>, code: CodeIdentity, forced: BTreeSet<&'static str>, header: String) -> Self {
        Self {
            root: root.to_path_buf(),
            plan,
            code,
            forced,
            index: 0,
            start: Instant::now(),
            measured: (0.0, 0.0),
            pending: vec![header],
            manifests: Vec::new(),
        }
    }

    /// Replaces stage `name`'s nominal seconds (a budget's plan knows them better than the preset).
    pub fn set_nominal(&mut self, name: &str, seconds: f64) {
        if let Some(spec) = self.plan.iter_mut().find(|s| s.name == name) {
            spec.nominal = seconds;
        }
    }

    /// The folder of stage `name`.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The manifest of an earlier stage of this session (dependencies finish before dependents).
    pub fn manifest(&self, name: &str) -> Result<&Manifest> {
        self.manifests.iter().find(|m| m.stage == name).with_context(|| format!("stage {name} has not run"))
    }

    /// Seconds expected for the stages from plan position `from` on.
    fn remaining_estimate(&self, from: usize) -> f64 {
        let left: f64 = self.plan[from.min(self.plan.len())..].iter().map(|s| s.nominal).sum();
        let speed = if self.measured.1 > 0.0 { self.measured.0 / self.measured.1 } else { 1.0 };
        left * speed
    }

    /// Runs (or skips) the next stage, which must be `name`. The key holds `inputs`, the output
    /// hashes of the stage's dependencies and the identity of the code it runs.
    pub fn run(&mut self, name: &'static str, inputs: Value, work: impl FnOnce(&Path) -> Result<Outputs>) -> Result<Manifest> {
        match self.prepare(name, inputs)? {
            Prepared::UpToDate(m) => Ok(m),
            Prepared::Stale(p) => {
                crate::measure::reset_peak_rss();
                let t0 = Instant::now();
                let outputs = work(&p.dir).with_context(|| format!("stage {name} failed"))?;
                let seconds = t0.elapsed().as_secs_f64();
                self.finish(p, outputs, seconds, seconds)
            }
        }
    }

    /// Runs the next stages, named in plan order, at the same time, each on its share of the
    /// threads: independent work (the two trainings) fills the cores better than one stage on
    /// all of them. Results are those of a serial run.
    pub fn run_parallel<'w>(&mut self, jobs: Vec<Job<'w>>) -> Result<()> {
        let mut todo = Vec::new();
        for (name, inputs, work) in jobs {
            if let Prepared::Stale(p) = self.prepare(name, inputs)? {
                todo.push((p, work));
            }
        }
        let runs: Vec<_> = todo
            .into_iter()
            .map(|(p, work)| {
                move || {
                    let t0 = Instant::now();
                    let out = work(&p.dir).with_context(|| format!("stage {} failed", p.name));
                    (p, out, t0.elapsed().as_secs_f64())
                }
            })
            .collect();
        crate::measure::reset_peak_rss();
        let results = lift_cpu::threads::side_by_side(runs);
        // Stages that ran side by side share the wall time they each report.
        let side_by_side = results.len().max(1) as f64;
        for (p, outputs, seconds) in results {
            self.finish(p, outputs?, seconds, seconds / side_by_side)?;
        }
        Ok(())
    }

    /// Checks the next stage's key; clears its folder when it must run.
    fn prepare(&mut self, name: &'static str, inputs: Value) -> Result<Prepared> {
        let spec = self.plan[self.index].clone();
        assert_eq!(spec.name, name, "stages run in plan order");
        let (k, n) = (self.index + 1, self.plan.len());
        self.index += 1;
        let deps: BTreeMap<&str, &str> = spec.deps.iter().map(|d| Ok((*d, self.manifest(d)?.outputs_hash.as_str()))).collect::<Result<_>>()?;
        let code = self.code.of(spec.code);
        let inputs_hash = hash_json(&json!({ "inputs": inputs, "deps": deps, "code": code }));
        let dir = self.dir(name);
        let manifest_path = dir.join("manifest.json");
        let previous = lift_core::io::read_json::<Manifest>(&manifest_path).ok();
        if let Some(m) = previous.as_ref().filter(|m| m.inputs_hash == inputs_hash && !self.forced.contains(name)) {
            self.pending.push(format!("[{k}/{n}] {name}: up to date (skipped)"));
            self.manifests.push(m.clone());
            return Ok(Prepared::UpToDate(m.clone()));
        }
        if previous.is_some() {
            // Finished once with other inputs or code, or forced: its files are stale.
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for line in self.pending.drain(..) {
            println!("{line}");
        }
        println!("[{k}/{n}] {name} … (elapsed {}, ~{} left)", minutes(self.start.elapsed().as_secs_f64()), minutes(self.remaining_estimate(self.index - 1)));
        Ok(Prepared::Stale(Pending { name, spec, dir, inputs, inputs_hash, code }))
    }

    /// Writes a finished stage's manifest; `own` is its share of the wall time (its seconds
    /// unless it ran beside other stages), which calibrates the estimate.
    fn finish(&mut self, p: Pending, outputs: Outputs, seconds: f64, own: f64) -> Result<Manifest> {
        let manifest = Manifest {
            stage: p.name.into(),
            inputs_hash: p.inputs_hash,
            inputs: p.inputs,
            code: p.code,
            outputs_hash: hash_outputs(&outputs)?,
            files: outputs
                .files
                .iter()
                .map(|f| f.strip_prefix(&self.root).map_or_else(|_| std::path::absolute(f).unwrap_or(f.clone()), Path::to_path_buf))
                .collect(),
            outputs: outputs.summary,
            git_commit: lift_core::run::git_commit(),
            seconds,
            peak_rss_mib: crate::measure::peak_rss_mib(),
        };
        lift_core::io::write_json(&p.dir.join("manifest.json"), &manifest)?;
        // Only compute stages calibrate the estimate: a data set or weights already on disk finish
        // in no time and would otherwise scale every later stage down to nothing.
        if p.spec.nominal >= MIN_CALIBRATING_SECONDS {
            self.measured.0 += own;
            self.measured.1 += p.spec.nominal;
        }
        let memory = manifest.peak_rss_mib.map_or_else(String::new, |m| format!(", peak RSS {m:.0} MiB"));
        println!(
            "{} done in {}{memory} (elapsed {}, ~{} left)",
            p.name,
            minutes(seconds),
            minutes(self.start.elapsed().as_secs_f64()),
            minutes(self.remaining_estimate(self.index))
        );
        self.manifests.push(manifest.clone());
        Ok(manifest)
    }
}

/// A stage that has to run.
pub struct Pending {
    name: &'static str,
    spec: StageSpec,
    dir: PathBuf,
    inputs: Value,
    inputs_hash: String,
    code: BTreeMap<Crate, String>,
}

enum Prepared {
    UpToDate(Manifest),
    Stale(Pending),
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
#[path = "stage_tests.rs"]
mod tests;

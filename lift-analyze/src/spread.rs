//! One job cut into shards, run as a part per device or machine and merged back. `--devices` runs
//! a part per device side by side in one process (a thread per device, the CPU threads shared out
//! among them); `--shard I/N` runs one part on a cluster node and `lift-analyze merge` joins the part
//! files. Either way the parts are merged from their files, so the result equals a one-device run.
//! Heatmaps and generations are such jobs.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use lift_core::shard::complete_split;
use lift_core::{run_on, run_on_devices, BackendTask, Devices, MultiBackendTask, Shard};
use serde::de::DeserializeOwned;

/// A job that can be told to do one part of its work, and says where that part's file goes.
pub trait Sharded: BackendTask + Clone + Send {
    /// What the job makes, for messages ("heatmap", "generation").
    const WHAT: &'static str;
    /// The same job, doing only `shard`.
    fn with_shard(self, shard: Shard) -> Self;
    /// The part of the work this job does.
    fn shard(&self) -> Shard;
    /// The file part `shard` of this job writes when it is complete.
    fn part_file(&self, shard: Shard) -> PathBuf;
}

/// What a part file holds: at least which part it is.
pub trait Part: DeserializeOwned {
    /// The part of the split this file is.
    fn shard(&self) -> Shard;
}

/// Runs `job` whole on a single device (`whole` takes its output), or a part per device, then
/// `merge` on the parts' outputs and part files (in shard order).
pub fn spread_and_merge<J, R>(
    job: J,
    devices: &Devices,
    whole: impl FnOnce(J::Output) -> Result<R>,
    merge: impl FnOnce(Vec<J::Output>, Vec<PathBuf>) -> Result<R>,
) -> Result<R>
where
    J: Sharded,
    J::Output: Send,
{
    if !job.shard().is_whole() {
        bail!("a {} shard ({}) runs on one device", J::WHAT, job.shard());
    }
    if devices.len() == 1 {
        return whole(run_on(devices.main(), job)?);
    }
    let count = devices.len();
    let files = (0..count).map(|index| job.part_file(Shard { index, count })).collect();
    let outputs = run_on_devices(devices, Spread(job))?;
    merge(outputs, files)
}

/// Reads the part files `files` of one split (`what` names them in errors), checks that each part
/// is there exactly once, and returns them in shard order with their file names.
pub fn read_parts<P: Part>(files: &[PathBuf], what: &str) -> Result<Vec<(P, String)>> {
    let parts: Vec<P> =
        files.iter().map(|f| lift_core::io::read_json::<P>(f).with_context(|| format!("{} is not a {what} part", f.display()))).collect::<Result<_>>()?;
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let shards: Vec<Shard> = parts.iter().map(P::shard).collect();
    let order: Vec<usize> = complete_split(&shards, &names)?.iter().map(|(shard, _)| shards.iter().position(|s| s == shard).expect("a given part")).collect();
    let mut parts: Vec<Option<P>> = parts.into_iter().map(Some).collect();
    Ok(order.into_iter().map(|k| (parts[k].take().expect("each part once"), names[k].clone())).collect())
}

/// Runs part i of n of the job on device i; the parts' outputs come back in shard order.
struct Spread<J>(J);

impl<J: Sharded> MultiBackendTask for Spread<J>
where
    J::Output: Send,
{
    type Output = Vec<J::Output>;

    fn run<B: AutodiffBackend>(self, devices: Vec<B::Device>) -> Vec<J::Output> {
        let count = devices.len();
        let jobs: Vec<_> = devices
            .into_iter()
            .enumerate()
            .map(|(index, device)| {
                let job = self.0.clone().with_shard(Shard { index, count });
                move || job.run::<B>(device)
            })
            .collect();
        lift_cpu::threads::side_by_side(jobs)
    }
}

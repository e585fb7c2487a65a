//! `--devices`: one job cut into as many shards as devices and run side by side in one process (a
//! thread per device, the CPU threads shared out among them); the caller merges the parts exactly
//! as `lift-analyze merge` joins a cluster's, so the result equals a one-device run.

use burn::tensor::backend::AutodiffBackend;
use lift_core::{BackendTask, MultiBackendTask, Shard};

/// A job that can be told to do one part of its work.
pub trait Sharded: BackendTask + Clone + Send {
    /// The same job, doing only `shard`.
    fn with_shard(self, shard: Shard) -> Self;
}

/// Runs part i of n of the job on device i; the parts' outputs come back in shard order.
pub struct Spread<J>(pub J);

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

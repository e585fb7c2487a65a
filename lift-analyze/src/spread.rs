//! `--devices`: one job cut into as many shards as devices and run side by side in one process (a
//! thread per device); the caller merges the parts exactly as `lift-analyze merge` joins a
//! cluster's, so the result equals a one-device run.

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
        std::thread::scope(|scope| {
            let workers: Vec<_> = devices
                .into_iter()
                .enumerate()
                .map(|(index, device)| {
                    let job = self.0.clone().with_shard(Shard { index, count });
                    scope.spawn(move || job.run::<B>(device))
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        })
    }
}

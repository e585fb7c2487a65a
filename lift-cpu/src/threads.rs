//! The CPU threads: every parallel kernel (ours, flex's, gemm's) runs on a rayon pool. Work
//! started with [`run_in_pool`] runs on one of the pool's workers, so the pool's size is the
//! number of threads used and the calling thread does not compete with the workers for cores.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use anyhow::{Context, Result};
pub use rayon::ThreadPool;

/// The cores this process may use.
pub fn available() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// `f` on a pool of `threads` workers (0: rayon's default, `RAYON_NUM_THREADS` or one per core).
pub fn run_in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    Ok(pool(threads)?.install(f))
}

/// A pool of `threads` workers (0: rayon's default) to run work on with `install`.
pub fn pool(threads: usize) -> Result<ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("lift-cpu-{i}"))
        .build()
        .with_context(|| format!("starting a pool of {threads} CPU threads"))
}

/// Runs `jobs` at the same time and returns their results in order. Each job runs on a pool of
/// its own with an equal share of the calling pool's threads (at least one): jobs started on
/// plain threads would all use rayon's global pool and oversubscribe the cores, and a job never
/// runs nested inside another's waits (which Burn's autodiff graph cannot take). One job runs on
/// the calling thread and pool.
pub fn side_by_side<R: Send, F: FnOnce() -> R + Send>(jobs: Vec<F>) -> Vec<R> {
    if jobs.len() <= 1 {
        return jobs.into_iter().map(|job| job()).collect();
    }
    let pools = job_pools(jobs.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .into_iter()
            .enumerate()
            .map(|(i, job)| {
                let pool = pools.as_ref().map(|pools| &pools[i]);
                // Without a pool of its own the job still runs, on the global pool.
                scope.spawn(move || match pool {
                    Some(pool) => pool.install(job),
                    None => job(),
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}

thread_local! {
    /// The pools of this thread's `side_by_side` calls, by job count and threads to share: a
    /// training step calls it for every batch, and fresh threads would start every step with
    /// cold buffers and page faults.
    #[allow(clippy::type_complexity)]
    static JOB_POOLS: RefCell<HashMap<(usize, usize), Rc<Vec<ThreadPool>>>> = RefCell::default();
}

/// `count` pools sharing the calling pool's threads (None if the system refuses threads).
fn job_pools(count: usize) -> Option<Rc<Vec<ThreadPool>>> {
    let threads = rayon::current_num_threads();
    JOB_POOLS.with(|cache| {
        if let Some(pools) = cache.borrow().get(&(count, threads)) {
            return Some(pools.clone());
        }
        let pools = (0..count)
            .map(|i| {
                let share = (threads / count + usize::from(i < threads % count)).max(1);
                rayon::ThreadPoolBuilder::new().num_threads(share).thread_name(move |k| format!("lift-job{i}-{k}")).build().ok()
            })
            .collect::<Option<Vec<_>>>()?;
        let pools = Rc::new(pools);
        cache.borrow_mut().insert((count, threads), pools.clone());
        Some(pools)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_jobs_share_the_pool_and_keep_their_order() {
        let sizes = |jobs: usize| run_in_pool(5, || side_by_side((0..jobs).map(|i| move || (i, rayon::current_num_threads())).collect())).unwrap();
        assert_eq!(sizes(2), vec![(0, 3), (1, 2)]);
        assert_eq!(sizes(1), vec![(0, 5)]);
        assert_eq!(sizes(7), (0..7).map(|i| (i, 1)).collect::<Vec<_>>());
    }

    #[test]
    fn repeated_side_by_side_calls_reuse_their_threads() {
        let threads = || side_by_side((0..2).map(|_| || std::thread::current().id()).collect());
        let (first, again) = run_in_pool(2, || (threads(), threads())).unwrap();
        assert_eq!(first, again);
        assert_ne!(first[0], first[1]);
    }

    #[test]
    fn work_runs_on_a_pool_of_the_asked_size() {
        assert_eq!(run_in_pool(3, rayon::current_num_threads).unwrap(), 3);
        assert_eq!(run_in_pool(1, rayon::current_thread_index).unwrap(), Some(0));
        assert_eq!(run_in_pool(0, rayon::current_num_threads).unwrap(), rayon::current_num_threads());
    }
}

//! The CPU threads: every parallel kernel (ours, flex's, gemm's) runs on a rayon pool. Work
//! started with [`run_in_pool`] runs on one of the pool's workers, so the pool's size is the
//! number of threads used and the calling thread does not compete with the workers for cores.

use anyhow::{Context, Result};

/// The cores this process may use.
pub fn available() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Whether `B` computes on this process's CPU threads (flex, with or without autodiff).
pub fn on_cpu<B: burn::tensor::backend::Backend>() -> bool {
    #[cfg(feature = "flex")]
    {
        use burn::backend::{flex::Flex, Autodiff};
        use std::any::TypeId;
        [TypeId::of::<Flex>(), TypeId::of::<Autodiff<Flex>>()].contains(&TypeId::of::<B>())
    }
    #[cfg(not(feature = "flex"))]
    false
}

/// `f` on a pool of `threads` workers (0: rayon's default, `RAYON_NUM_THREADS` or one per core).
pub fn run_in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("lift-cpu-{i}"))
        .build()
        .with_context(|| format!("starting a pool of {threads} CPU threads"))?;
    Ok(pool.install(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_a_pool_of_the_asked_size() {
        assert_eq!(run_in_pool(3, rayon::current_num_threads).unwrap(), 3);
        assert_eq!(run_in_pool(1, rayon::current_thread_index).unwrap(), Some(0));
        assert_eq!(run_in_pool(0, rayon::current_num_threads).unwrap(), rayon::current_num_threads());
    }
}

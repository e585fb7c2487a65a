//! How `bench` and the budget's probe time things: a median, timers that pay for warm-up first,
//! and the training step both of them time.

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::train::TrainStep;
use lift_core::config::TrainConfig;
use lift_cpu::threads::ThreadPool;
use lift_train::batch::NoisedBatch;
use lift_train::loss::Denoiser;
use lift_train::step::Diffusion;

/// The median of `values` (the upper one of an even count; NaN sorts last).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Median seconds of `calls` timed calls of `f` after a first one that pays for warm-up: the
/// machine's speed drifts within seconds, and one slow call must not size a 45-minute run.
pub fn seconds_per(calls: usize, mut f: impl FnMut()) -> f64 {
    f();
    let times = (0..calls.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    median(times)
}

/// Median seconds of `f` on each pool, after one warm-up call on each, timed in turns (pool 1,
/// pool 2, pool 1, …) so that the pools share the machine's drift: on a shared machine each core's
/// speed drifts by up to a half within seconds, so thread counts timed one after the other compare
/// different minutes. A warm-up that takes more than 30 s (the paper model on a CPU) is timed
/// itself instead.
pub fn interleaved_medians(pools: &[ThreadPool], iters: usize, mut f: impl FnMut() + Send) -> Vec<f64> {
    let mut timed = |pool: &ThreadPool| {
        let start = Instant::now();
        pool.install(&mut f);
        start.elapsed().as_secs_f64()
    };
    let warm_ups: Vec<f64> = pools.iter().map(&mut timed).collect();
    if warm_ups.iter().any(|&s| s > 30.0) {
        return warm_ups;
    }
    let mut times = vec![Vec::with_capacity(iters); pools.len()];
    for _ in 0..iters.max(1) {
        for (pool, times) in pools.iter().zip(&mut times) {
            times.push(timed(pool));
        }
    }
    times.into_iter().map(median).collect()
}

/// One real training step (loss, backward, clipping, AdamW, EMA) of `model` on `batch` per call,
/// its loss read back, with the training's optimiser for `train`.
pub fn train_steps<B, M>(model: Diffusion<B, M>, batch: NoisedBatch<B>, train: &TrainConfig) -> impl FnMut() + Send
where
    B: AutodiffBackend,
    M: Denoiser<B> + AutodiffModule<B> + 'static,
    M::InnerModule: Denoiser<B::InnerBackend>,
{
    let mut optim = lift_train::optim::adamw(train);
    let mut model = Some(model);
    move || {
        let m = model.take().expect("the model is put back after every step");
        let out = TrainStep::step(&m, batch.clone());
        let m = TrainStep::optimize(m, &mut optim, 1e-4, out.grads);
        let _ = out.item.loss.into_scalar();
        model = Some(m);
    }
}

/// Starts a new peak of resident memory for [`peak_rss_mib`] (Linux 4.0 and later; elsewhere the
/// peak stays the process's).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory of this process since the last [`reset_peak_rss`], MiB (None where
/// `/proc/self/status` is missing).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_timing_takes_the_pools_in_turns() {
        let pools: Vec<_> = [1, 2].iter().map(|&t| lift_cpu::threads::pool(t).unwrap()).collect();
        let mut seen = Vec::new();
        let medians = interleaved_medians(&pools, 3, || seen.push(rayon::current_num_threads()));
        assert_eq!(medians.len(), 2);
        assert_eq!(seen, [1, 2, 1, 2, 1, 2, 1, 2]);
    }

    #[test]
    fn medians_and_warm_up() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 3.0);
        assert!(median(Vec::new()).is_nan());
        let mut calls = 0;
        seconds_per(4, || calls += 1);
        assert_eq!(calls, 5, "one warm-up and four timed calls");
    }

    #[test]
    fn the_peak_counts_memory_touched_after_a_reset() {
        // A higher peak first, which the reset must forget.
        let earlier = vec![1u8; 128 << 20];
        assert_eq!(earlier.iter().step_by(4096).map(|&b| b as usize).sum::<usize>(), 32768);
        drop(earlier);
        reset_peak_rss();
        let Some(before) = peak_rss_mib() else { return };
        let block = vec![1u8; 64 << 20];
        let after = peak_rss_mib().unwrap();
        assert_eq!(block.iter().step_by(4096).map(|&b| b as usize).sum::<usize>(), 16384);
        assert!(after - before >= 63.0, "64 MiB touched, the peak rose by {} MiB", after - before);
    }
}

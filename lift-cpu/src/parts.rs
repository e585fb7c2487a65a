//! Work cut into parts that run side by side on the CPU. Flex runs a small model's many small ops
//! on one thread, so on two cores a batch in parts, one graph per part, outruns the whole batch in
//! one graph. Batch parts are [`Shard`]s of the batch, the split that `--shard` and `--devices` use.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use burn::tensor::{backend::Backend, Tensor};

use crate::backend::on_cpu;
use crate::shard::Shard;
use crate::threads::side_by_side;

/// How big a CPU batch's parts are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartSize {
    /// One part per thread of the pool: for work whose results do not depend on the split.
    PerThread,
    /// Parts of this many images, the last one smaller (0: the whole batch): for work whose
    /// results would otherwise depend on the thread count.
    Images(usize),
}

/// The parts of a batch of `items` in order: one whole part except on the CPU backend.
#[allow(clippy::single_range_in_vec_init)] // one part: the whole batch
pub fn batch_parts<B: Backend>(items: usize, size: PartSize) -> Vec<Range<usize>> {
    if !on_cpu::<B>() {
        return vec![0..items];
    }
    let (count, batch) = match size {
        PartSize::PerThread => (rayon::current_num_threads().min(items), 1),
        PartSize::Images(0) => (1, items),
        PartSize::Images(n) => (items.div_ceil(n), n),
    };
    let count = count.max(1);
    (0..count).map(|index| Shard { index, count }.range(items, batch)).collect()
}

/// `run` on each part of the batch side by side (with that part's rows of every input and its
/// row range), the outputs joined in batch order.
///
/// # Shapes
/// - `inputs`: the batch first, equal batch sizes → the outputs: the batch first
pub fn in_batch_parts<B: Backend, const I: usize, const O: usize>(
    inputs: [Tensor<B, 4>; I],
    size: PartSize,
    run: impl Fn([Tensor<B, 4>; I], Range<usize>) -> [Tensor<B, 4>; O] + Sync,
) -> [Tensor<B, 4>; O] {
    let batch = inputs.first().map_or(0, |x| x.dims()[0]);
    let parts = batch_parts::<B>(batch, size);
    if parts.len() <= 1 {
        return run(inputs, 0..batch);
    }
    let run = &run;
    let jobs: Vec<_> = parts
        .into_iter()
        .map(|rows| {
            let part = inputs.clone().map(|x| x.narrow(0, rows.start, rows.len()));
            move || run(part, rows)
        })
        .collect();
    let done = side_by_side(jobs);
    std::array::from_fn(|k| Tensor::cat(done.iter().map(|part| part[k].clone()).collect(), 0))
}

/// `run` over `work` on as many threads side by side as the pool has (at most one per item), each
/// thread taking the next item nobody has taken, so that a thread on a slower core (a busy
/// sibling, an efficiency core) does fewer; the results in `work`'s order.
pub fn queued<T: Send, R: Send>(work: Vec<T>, run: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = work.len().min(rayon::current_num_threads());
    let work: Vec<Mutex<Option<T>>> = work.into_iter().map(|w| Mutex::new(Some(w))).collect();
    let next = AtomicUsize::new(0);
    let (work, run) = (&work, &run);
    let take = || {
        std::iter::from_fn(|| Some(next.fetch_add(1, Ordering::Relaxed)).filter(|&k| k < work.len()))
            .map(|k| (k, run(work[k].lock().expect("work queue").take().expect("each item once"))))
            .collect::<Vec<_>>()
    };
    let mut done: Vec<_> = side_by_side(vec![take; threads]).into_iter().flatten().collect();
    done.sort_by_key(|(k, _)| *k);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threads::run_in_pool;
    use burn::backend::Flex;

    #[test]
    fn parts_cover_the_batch_in_order() {
        let images = |items, n| batch_parts::<Flex>(items, PartSize::Images(n));
        assert_eq!(images(8, 4), vec![0..4, 4..8]);
        assert_eq!(images(7, 3), vec![0..3, 3..6, 6..7]);
        assert_eq!(images(8, 0), vec![0..8]);
        assert_eq!(images(3, 4), vec![0..3]);
        assert_eq!(images(0, 4), vec![0..0]);
        let per_thread = |items| run_in_pool(3, || batch_parts::<Flex>(items, PartSize::PerThread)).unwrap();
        assert_eq!(per_thread(7), vec![0..2, 2..4, 4..7]);
        assert_eq!(per_thread(2), vec![0..1, 1..2]);
    }

    #[test]
    fn queued_work_comes_back_in_order_from_every_thread() {
        let (results, threads) = run_in_pool(2, || {
            let threads = Mutex::new(std::collections::HashSet::new());
            let results = queued((0..20).collect(), |k: usize| {
                threads.lock().unwrap().insert(std::thread::current().id());
                std::thread::sleep(std::time::Duration::from_millis(2));
                k * k
            });
            (results, threads.into_inner().unwrap().len())
        })
        .unwrap();
        assert_eq!(results, (0..20).map(|k| k * k).collect::<Vec<_>>());
        assert_eq!(threads, 2);
    }
}

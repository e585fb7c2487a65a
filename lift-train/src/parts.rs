//! A CPU training step in concurrent parts: the batch is cut into fixed parts (`train.cpu_part`
//! images), each part's forward and backward run on their own threads in their own autodiff
//! graph, and the parts' gradients are added in batch order. On two cores this is what makes the
//! step scale: flex runs the many small element-wise ops of one graph on a single thread, and a
//! graph's backward holds its lock from start to end. The parts do not depend on the thread
//! count, so neither do the results.

use std::ops::Range;

use burn::module::{AutodiffModule, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use lift_core::config::Precision;
use lift_cpu::queued;

use crate::batch::NoisedBatch;
use crate::clip::add_grads;
use crate::loss::{losses_at, Denoiser, Losses};

/// Gives every parameter a new autodiff leaf (same values, same parameter id), so that a part's
/// graph shares no node with another part's and their backward passes do not wait for each other.
struct FreshLeaves;

impl<B: AutodiffBackend> ModuleMapper<B> for FreshLeaves {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        param.map(|t| if t.is_require_grad() { t.detach().require_grad() } else { t })
    }
}

/// The losses of `net` on `batch` (the parts' losses weighted by their share of the images) and
/// the gradient of their total, the parts computed at the same time.
///
/// # Shapes
/// - every tensor of `batch` has the batch first; `parts` cover `0..batch` in order
pub fn losses_and_grads<B, M>(net: &M, batch: &NoisedBatch<B>, parts: &[Range<usize>], precision: Precision) -> (Losses<B>, GradientsParams)
where
    B: AutodiffBackend,
    M: Denoiser<B> + AutodiffModule<B> + 'static,
{
    let size = batch.x64.dims()[0] as f64;
    // Each part: its network copy, its images and its share of the batch. Each runs on a pool of
    // its own (a part inside another's backward would wait for a graph lock its own thread holds).
    let work: Vec<_> = parts.iter().map(|r| (net.clone().map(&mut FreshLeaves), batch.part(r.clone()), r.len() as f64 / size)).collect();
    let done = queued(work, |(net, part, share)| part_step(&net, &part, share, precision));
    let mut done = done.into_iter();
    let (mut losses, mut grads) = done.next().expect("at least one part");
    for (l, g) in done {
        grads = add_grads::<B, M>(net, grads, g);
        losses = Losses { total: losses.total + l.total, loss_64: losses.loss_64 + l.loss_64, loss_32: losses.loss_32 + l.loss_32 };
    }
    (losses, grads)
}

/// One part's losses, weighted by its `share` of the batch, and their gradient.
fn part_step<B, M>(net: &M, part: &NoisedBatch<B>, share: f64, precision: Precision) -> (Losses<B>, GradientsParams)
where
    B: AutodiffBackend,
    M: Denoiser<B> + AutodiffModule<B>,
{
    let l = losses_at(net, part, precision);
    let total = l.total.mul_scalar(share);
    let grads = GradientsParams::from_grads(total.backward(), net);
    // Detached: adding the parts' losses must not join their graphs.
    let weighted = |t: Tensor<B, 1>| t.detach().mul_scalar(share);
    (Losses { total: total.detach(), loss_64: weighted(l.loss_64), loss_32: weighted(l.loss_32) }, grads)
}

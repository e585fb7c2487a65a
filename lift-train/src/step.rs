//! The Learner's steps: the objective (`loss.rs`) on the batch, whole or in CPU parts, then per
//! optimiser step — after `accumulate` micro-batches — global-norm clipping of the averaged
//! gradient, the AdamW step, an EMA update and, at the end of an epoch, its hook.

use burn::module::{AutodiffModule, Module};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData, Transaction};
use burn::train::metric::{Adaptor, ItemLazy};
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use lift_cpu::PartSize;

use crate::batch::NoisedBatch;
use crate::clip::{clip_grad_norm, scale_grads};
use crate::ema::{ema_update, shadow_copy};
use crate::loss::{losses_at, Denoiser, Losses};
use crate::parts::losses_and_grads;
use crate::plan::StepPlan;

/// The trained network and its EMA shadow; both are saved in every checkpoint.
#[derive(Module, Debug)]
pub struct Diffusion<B: Backend, M> {
    pub net: M,
    pub ema: M,
    #[module(skip)]
    plan: StepPlan,
    #[module(skip)]
    _backend: std::marker::PhantomData<B>,
}

impl<B: Backend, M: Module<B>> Diffusion<B, M> {
    /// Wraps a freshly initialised network; the EMA starts equal to it.
    pub fn new(net: M, plan: StepPlan) -> Self {
        let ema = shadow_copy(&net);
        Self { net, ema, plan, _backend: std::marker::PhantomData }
    }

    /// The step plan (optimiser steps taken, accumulation, hooks).
    pub fn plan(&self) -> &StepPlan {
        &self.plan
    }
}

/// Per-batch output: losses stay on the device until the metrics thread syncs them.
#[derive(Debug)]
pub struct StepOutput<B: Backend> {
    pub loss: Tensor<B, 1>,
    pub loss_64: Tensor<B, 1>,
    pub loss_32: Tensor<B, 1>,
    /// Validation only: the EMA network's loss on the same batch.
    pub ema_loss: Option<Tensor<B, 1>>,
    pub batch_size: usize,
}

/// Host-side numbers of a [`StepOutput`].
#[derive(Debug, Clone)]
pub struct StepStats {
    pub loss: f64,
    pub loss_64: f64,
    pub loss_32: f64,
    pub ema_loss: Option<f64>,
    pub batch_size: usize,
}

impl<B: Backend> ItemLazy for StepOutput<B> {
    type ItemSync = StepStats;

    fn sync(self) -> StepStats {
        // One transfer for all values.
        let mut tx = Transaction::default().register(self.loss).register(self.loss_64).register(self.loss_32);
        if let Some(e) = self.ema_loss.clone() {
            tx = tx.register(e);
        }
        let values: Vec<f64> = tx.execute().into_iter().map(|d: TensorData| d.iter::<f64>().next().unwrap_or(f64::NAN)).collect();
        StepStats { loss: values[0], loss_64: values[1], loss_32: values[2], ema_loss: values.get(3).copied(), batch_size: self.batch_size }
    }
}

impl Adaptor<StepStats> for StepStats {
    fn adapt(&self) -> StepStats {
        self.clone()
    }
}

fn output<B: Backend>(l: Losses<B>, ema_loss: Option<Tensor<B, 1>>, batch_size: usize) -> StepOutput<B> {
    StepOutput { loss: l.total.detach(), loss_64: l.loss_64.detach(), loss_32: l.loss_32.detach(), ema_loss, batch_size }
}

impl<B, M> TrainStep for Diffusion<B, M>
where
    B: AutodiffBackend,
    M: Denoiser<B> + AutodiffModule<B> + 'static,
{
    type Input = NoisedBatch<B>;
    type Output = StepOutput<B>;

    fn step(&self, batch: NoisedBatch<B>) -> TrainOutput<StepOutput<B>> {
        let size = batch.x64.dims()[0];
        let precision = self.plan.train.precision;
        #[allow(clippy::single_range_in_vec_init)] // one part: the whole batch
        let parts = lift_cpu::batch_parts::<B>(size, PartSize::Images(self.plan.train.cpu_part));
        if parts.len() > 1 {
            let (losses, grads) = losses_and_grads(&self.net, &batch, &parts, precision);
            return TrainOutput { grads, item: output(losses, None, size) };
        }
        let losses = losses_at(&self.net, &batch, precision);
        let grads = losses.total.backward();
        let grads = GradientsParams::from_grads(grads, &self.net);
        TrainOutput { grads, item: output(losses, None, size) }
    }

    fn optimize<AB, O>(self, optim: &mut O, lr: f64, grads: GradientsParams) -> Self
    where
        AB: AutodiffBackend,
        O: Optimizer<Self, AB>,
        Self: AutodiffModule<AB>,
    {
        let Some(sum) = self.plan.accumulate::<B, M>(&self.net, grads) else {
            return self; // an inner micro-batch: its gradient waits in the accumulator
        };
        // Burn's multi-device step sums the devices' gradients; accumulation sums micro-batches.
        let scale = self.plan.gradient_scale();
        let grads = if scale < 1.0 { scale_grads::<B, M>(&self.net, sum, scale) } else { sum };
        let grads = clip_grad_norm::<B, M>(&self.net, grads, self.plan.train.grad_clip);
        let mut model = optim.step(lr, self, grads);
        let (step, epoch_end) = model.plan.advance();
        model.ema = ema_update::<B, M>(model.ema, &model.net, model.plan.train.ema_decay_at(step));
        if let Some(epoch) = epoch_end {
            model.plan.end_epoch(&model.net, &model.ema, epoch);
        }
        model
    }
}

impl<B: Backend, M: Denoiser<B>> InferenceStep for Diffusion<B, M> {
    type Input = NoisedBatch<B>;
    type Output = StepOutput<B>;

    fn step(&self, batch: NoisedBatch<B>) -> StepOutput<B> {
        let size = batch.x64.dims()[0];
        let ema_loss = self.ema.losses(&batch).total;
        output(self.net.losses(&batch), Some(ema_loss), size)
    }
}

//! The training objective and the Learner's steps: ε-prediction MSE per scale (in f32 or bf16),
//! then per optimiser step — after `accumulate` micro-batches — global-norm clipping of the
//! averaged gradient, the AdamW step, an EMA update and, at the end of an epoch, its hook.

use burn::module::{AutodiffModule, Module, ModuleDisplay, ModuleMapper, Param};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{FloatDType, Tensor, TensorData, Transaction};
use burn::train::metric::{Adaptor, ItemLazy};
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use lift_core::config::Precision;
use lift_core::pipeline::{sample_baseline, sample_lift};
use lift_core::{BaselineUNet, LiftUNet, NoiseSchedule, SamplingPath};

use crate::batch::NoisedBatch;
use crate::clip::{clip_grad_norm, scale_grads};
use crate::ema::{ema_update, shadow_copy};
use crate::parts::losses_and_grads;
use crate::plan::StepPlan;
use lift_cpu::PartSize;

/// The loss and its parts on one batch.
pub struct Losses<B: Backend> {
    /// loss₆₄ + loss₃₂ (LIFT) or loss₆₄ (baseline).
    pub total: Tensor<B, 1>,
    pub loss_64: Tensor<B, 1>,
    /// Zero for the baseline.
    pub loss_32: Tensor<B, 1>,
}

/// A network trained by noise prediction on [`NoisedBatch`]es.
pub trait Denoiser<B: Backend>: Module<B> + ModuleDisplay {
    /// MSE between predicted and true noise, per scale.
    fn losses(&self, batch: &NoisedBatch<B>) -> Losses<B>;

    /// DDIM from the noise `x64` (and `x32`) along `timesteps` (both scales at the same t):
    /// the fine samples and, for LIFT, the coarse ones.
    fn sample(&self, schedule: &NoiseSchedule, timesteps: &[usize], x64: Tensor<B, 4>, x32: Tensor<B, 4>) -> (Tensor<B, 4>, Option<Tensor<B, 4>>);
}

fn mse<B: Backend>(a: Tensor<B, 4>, b: Tensor<B, 4>) -> Tensor<B, 1> {
    (a - b).square().mean()
}

impl<B: Backend> Denoiser<B> for LiftUNet<B> {
    fn losses(&self, b: &NoisedBatch<B>) -> Losses<B> {
        let (e64, e32) = self.forward(b.x64.clone(), b.x32.clone(), b.t64.clone(), b.t32.clone());
        let (loss_64, loss_32) = (mse(e64, b.eps64.clone()), mse(e32, b.eps32.clone()));
        Losses { total: loss_64.clone() + loss_32.clone(), loss_64, loss_32 }
    }

    fn sample(&self, schedule: &NoiseSchedule, timesteps: &[usize], x64: Tensor<B, 4>, x32: Tensor<B, 4>) -> (Tensor<B, 4>, Option<Tensor<B, 4>>) {
        let (a, b) = sample_lift(self, schedule, &SamplingPath::diagonal(timesteps), x64, x32);
        (a, Some(b))
    }
}

impl<B: Backend> Denoiser<B> for BaselineUNet<B> {
    fn losses(&self, b: &NoisedBatch<B>) -> Losses<B> {
        let loss_64 = mse(self.forward(b.x64.clone(), b.t64.clone()), b.eps64.clone());
        Losses { total: loss_64.clone(), loss_32: loss_64.zeros_like(), loss_64 }
    }

    fn sample(&self, schedule: &NoiseSchedule, timesteps: &[usize], x64: Tensor<B, 4>, _x32: Tensor<B, 4>) -> (Tensor<B, 4>, Option<Tensor<B, 4>>) {
        (sample_baseline(self, schedule, timesteps, x64), None)
    }
}

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

/// Casts every float parameter (the cast's backward returns f32 gradients to the f32 weights).
struct CastParams(FloatDType);

impl<B: Backend> ModuleMapper<B> for CastParams {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let dtype = self.0;
        param.map(|t| t.cast(dtype))
    }
}

impl<B: Backend> NoisedBatch<B> {
    /// The batch in another float format.
    pub fn cast(&self, dtype: FloatDType) -> Self {
        let c4 = |t: &Tensor<B, 4>| t.clone().cast(dtype);
        let c1 = |t: &Tensor<B, 1>| t.clone().cast(dtype);
        Self { x64: c4(&self.x64), x32: c4(&self.x32), eps64: c4(&self.eps64), eps32: c4(&self.eps32), t64: c1(&self.t64), t32: c1(&self.t32) }
    }
}

/// The losses of `net` on `batch` at `precision`, returned in f32.
pub fn losses_at<B: Backend, M: Denoiser<B>>(net: &M, batch: &NoisedBatch<B>, precision: Precision) -> Losses<B> {
    match precision {
        Precision::F32 => net.losses(batch),
        Precision::Bf16 => {
            let l = net.clone().map(&mut CastParams(FloatDType::BF16)).losses(&batch.cast(FloatDType::BF16));
            let f32 = |t: Tensor<B, 1>| t.cast(FloatDType::F32);
            Losses { total: f32(l.total), loss_64: f32(l.loss_64), loss_32: f32(l.loss_32) }
        }
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

//! The training objective and the Learner's steps: ε-prediction MSE per scale, global-norm
//! clipping and an EMA update after every optimiser step.

use burn::module::{AutodiffModule, Module, ModuleDisplay};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData, Transaction};
use burn::train::metric::{Adaptor, ItemLazy};
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use lift_core::{BaselineUNet, LiftUNet};

use crate::batch::NoisedBatch;
use crate::clip::clip_grad_norm;
use crate::ema::{ema_update, shadow_copy};

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
}

impl<B: Backend> Denoiser<B> for BaselineUNet<B> {
    fn losses(&self, b: &NoisedBatch<B>) -> Losses<B> {
        let loss_64 = mse(self.forward(b.x64.clone(), b.t64.clone()), b.eps64.clone());
        Losses { total: loss_64.clone(), loss_32: loss_64.zeros_like(), loss_64 }
    }
}

/// The trained network and its EMA shadow; both are saved in every checkpoint.
#[derive(Module, Debug)]
pub struct Diffusion<B: Backend, M> {
    pub net: M,
    pub ema: M,
    ema_decay: f64,
    grad_clip: f64,
    #[module(skip)]
    _backend: std::marker::PhantomData<B>,
}

impl<B: Backend, M: Module<B>> Diffusion<B, M> {
    /// Wraps a freshly initialised network; the EMA starts equal to it.
    pub fn new(net: M, ema_decay: f64, grad_clip: f64) -> Self {
        let ema = shadow_copy(&net);
        Self { net, ema, ema_decay, grad_clip, _backend: std::marker::PhantomData }
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
        let values: Vec<f64> = tx
            .execute()
            .into_iter()
            .map(|d: TensorData| d.iter::<f64>().next().unwrap_or(f64::NAN))
            .collect();
        StepStats {
            loss: values[0],
            loss_64: values[1],
            loss_32: values[2],
            ema_loss: values.get(3).copied(),
            batch_size: self.batch_size,
        }
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
    M: Denoiser<B> + AutodiffModule<B>,
{
    type Input = NoisedBatch<B>;
    type Output = StepOutput<B>;

    fn step(&self, batch: NoisedBatch<B>) -> TrainOutput<StepOutput<B>> {
        let size = batch.x64.dims()[0];
        let losses = self.net.losses(&batch);
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
        let grads = clip_grad_norm::<B, M>(&self.net, grads, self.grad_clip);
        let mut model = optim.step(lr, self, grads);
        model.ema = ema_update::<B, M>(model.ema, &model.net, model.ema_decay);
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

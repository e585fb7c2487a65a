//! The training objective: ε-prediction MSE per scale, in f32 or bf16, for any network that
//! denoises a [`NoisedBatch`]. The whole-batch step (`step.rs`) and the CPU parts (`parts.rs`) both
//! compute it here.

use burn::module::{Module, ModuleDisplay, ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::Distribution;
use burn::tensor::{FloatDType, Tensor};
use lift_core::config::Precision;
use lift_core::pipeline::{sample_baseline, sample_lift};
use lift_core::seed::seeded_tensor;
use lift_core::single_output_sampling::sample_rebuilt;
use lift_core::{BaselineUNet, LiftUNet, NoiseSchedule, SamplingPath, SingleOutputUNet};

use crate::batch::NoisedBatch;

/// The loss and its parts on one batch.
pub struct Losses<B: Backend> {
    /// loss₆₄ + loss₃₂ (LIFT) or loss₆₄ (baseline, single-output ablations).
    pub total: Tensor<B, 1>,
    pub loss_64: Tensor<B, 1>,
    /// Zero for the networks without a coarse output.
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

impl<B: Backend> Denoiser<B> for SingleOutputUNet<B> {
    fn losses(&self, b: &NoisedBatch<B>) -> Losses<B> {
        // The coarse input is noised at its own t₃₂, but only ε̂₆₄ is predicted and scored.
        let loss_64 = mse(self.forward(b.x64.clone(), b.x32.clone(), b.t64.clone()), b.eps64.clone());
        Losses { total: loss_64.clone(), loss_32: loss_64.zeros_like(), loss_64 }
    }

    fn sample(&self, schedule: &NoiseSchedule, timesteps: &[usize], x64: Tensor<B, 4>, x32: Tensor<B, 4>) -> (Tensor<B, 4>, Option<Tensor<B, 4>>) {
        // The coarse input is rebuilt from x̂₀ at every step; its fresh noise is fixed per step,
        // so the grids of successive epochs compare like for like.
        let (dims, device) = (x32.dims(), x32.device());
        let fresh = |i: usize| seeded_tensor::<B, 4>(dims, Distribution::Normal(0.0, 1.0), 0x5EED_0000 + i as u64, &device);
        let denoise = |a, b, t64, _t32| self.forward(a, b, t64);
        (sample_rebuilt(denoise, schedule, &SamplingPath::diagonal(timesteps), x64, fresh), None)
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

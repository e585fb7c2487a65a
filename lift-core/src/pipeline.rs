//! Sampling loops gluing a model to the DDIM step: both scales start from pure noise and each
//! follows its own timesteps along the path.

use burn::tensor::{backend::Backend, Tensor};

use crate::model::{BaselineUNet, LiftUNet};
use crate::path::SamplingPath;
use crate::sampler::{ddim_step, StepAlphas};
use crate::schedule::NoiseSchedule;

fn alphas(schedule: &NoiseSchedule, t: usize, t_prev: usize) -> StepAlphas {
    StepAlphas { alpha_bar: schedule.alpha_bar(t), alpha_bar_prev: schedule.alpha_bar(t_prev) }
}

fn timestep_tensor<B: Backend>(t: usize, batch: usize, device: &B::Device) -> Tensor<B, 1> {
    Tensor::<B, 1>::ones([batch], device).mul_scalar(t as f64)
}

/// Runs DDIM along `path` from the given initial noise; returns the final (x₆₄, x₃₂).
///
/// # Shapes
/// - `x64`: `[batch, 3, res, res]`, `x32`: `[batch, 3, res/2, res/2]`; outputs the same.
pub fn sample_lift<B: Backend>(
    model: &LiftUNet<B>,
    schedule: &NoiseSchedule,
    path: &SamplingPath,
    mut x64: Tensor<B, 4>,
    mut x32: Tensor<B, 4>,
) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let batch = x64.dims()[0];
    let device = x64.device();
    for step in path.steps() {
        let (eps64, eps32) = model.forward(
            x64.clone(),
            x32.clone(),
            timestep_tensor(step.t[0], batch, &device),
            timestep_tensor(step.t[1], batch, &device),
        );
        x64 = ddim_step(x64, eps64, alphas(schedule, step.t[0], step.t_prev[0])).prev;
        x32 = ddim_step(x32, eps32, alphas(schedule, step.t[1], step.t_prev[1])).prev;
    }
    (x64, x32)
}

/// Runs DDIM for the baseline over descending `timesteps` (the last steps to t = 0).
///
/// # Shapes
/// - `x`: `[batch, 3, res, res]` → the same.
pub fn sample_baseline<B: Backend>(
    model: &BaselineUNet<B>,
    schedule: &NoiseSchedule,
    timesteps: &[usize],
    mut x: Tensor<B, 4>,
) -> Tensor<B, 4> {
    let batch = x.dims()[0];
    let device = x.device();
    for (i, &t) in timesteps.iter().enumerate() {
        let t_prev = timesteps.get(i + 1).copied().unwrap_or(0);
        let eps = model.forward(x.clone(), timestep_tensor(t, batch, &device));
        x = ddim_step(x, eps, alphas(schedule, t, t_prev)).prev;
    }
    x
}

//! Sampling loops gluing a denoiser to the DDIM step: both scales start from pure noise and each
//! follows its own timesteps along the path.

use burn::tensor::{backend::Backend, Tensor};
use lift_cpu::{in_batch_parts, PartSize};

use crate::model::{BaselineUNet, LiftUNet};
use crate::path::SamplingPath;
use crate::sampler::{ddim_step, StepAlphas};
use crate::schedule::NoiseSchedule;
use crate::timesteps::timestep_tensor;

fn alphas(schedule: &NoiseSchedule, t: usize, t_prev: usize) -> StepAlphas {
    StepAlphas { alpha_bar: schedule.alpha_bar(t), alpha_bar_prev: schedule.alpha_bar(t_prev) }
}

/// Runs DDIM along `path` with any two-scale denoiser `(x₆₄, x₃₂, t₆₄, t₃₂) ↦ (ε̂₆₄, ε̂₃₂)`.
///
/// # Shapes
/// - `x64`: `[batch, 3, res, res]`, `x32`: `[batch, 3, res/2, res/2]`; outputs the same.
pub fn sample_joint<B: Backend>(
    denoise: impl Fn(Tensor<B, 4>, Tensor<B, 4>, Tensor<B, 1>, Tensor<B, 1>) -> (Tensor<B, 4>, Tensor<B, 4>),
    schedule: &NoiseSchedule,
    path: &SamplingPath,
    mut x64: Tensor<B, 4>,
    mut x32: Tensor<B, 4>,
) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let batch = x64.dims()[0];
    let device = x64.device();
    for step in path.steps() {
        let t64 = timestep_tensor(step.t[0] as f64, batch, &device);
        let t32 = timestep_tensor(step.t[1] as f64, batch, &device);
        let (eps64, eps32) = denoise(x64.clone(), x32.clone(), t64, t32);
        x64 = ddim_step(x64, eps64, alphas(schedule, step.t[0], step.t_prev[0])).prev;
        x32 = ddim_step(x32, eps32, alphas(schedule, step.t[1], step.t_prev[1])).prev;
    }
    (x64, x32)
}

/// [`sample_joint`] with the LIFT model.
pub fn sample_lift<B: Backend>(
    model: &LiftUNet<B>,
    schedule: &NoiseSchedule,
    path: &SamplingPath,
    x64: Tensor<B, 4>,
    x32: Tensor<B, 4>,
) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let [x64, x32] = in_batch_parts([x64, x32], PartSize::PerThread, |[x64, x32], _| {
        let (x64, x32) = sample_joint(|a, b, c, d| model.forward(a, b, c, d), schedule, path, x64, x32);
        [x64, x32]
    });
    (x64, x32)
}

/// Runs DDIM for the baseline over descending `timesteps` (the last steps to t = 0).
///
/// # Shapes
/// - `x`: `[batch, 3, res, res]` → the same.
pub fn sample_baseline<B: Backend>(model: &BaselineUNet<B>, schedule: &NoiseSchedule, timesteps: &[usize], x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [x] = in_batch_parts([x], PartSize::PerThread, |[mut x], _| {
        let batch = x.dims()[0];
        let device = x.device();
        for (i, &t) in timesteps.iter().enumerate() {
            let t_prev = timesteps.get(i + 1).copied().unwrap_or(0);
            let eps = model.forward(x.clone(), timestep_tensor(t as f64, batch, &device));
            x = ddim_step(x, eps, alphas(schedule, t, t_prev)).prev;
        }
        [x]
    });
    x
}

/// The model's 32×32 input when it is never denoised: the ablations of `generate_for_fid.py`, and
/// super-resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoarseInput {
    /// Fresh N(0, 1) noise at every step ("random32").
    FreshNoise,
    /// The initial noise, unchanged ("fixed32").
    InitialNoise,
    /// A clean image (the initial `x32`), labelled t = 0 (super-resolution).
    Clean,
}

impl CoarseInput {
    /// The 32×32 timestep label at 64×64 timestep `t`: the same t for the noise inputs, as the
    /// original, and 0 for a clean image.
    pub fn label(self, t: usize) -> usize {
        match self {
            Self::Clean => 0,
            Self::FreshNoise | Self::InitialNoise => t,
        }
    }
}

/// DDIM on the 64×64 scale alone with the LIFT model, over descending `timesteps`: the 32×32
/// input is `x32` throughout ([`CoarseInput::InitialNoise`], [`CoarseInput::Clean`]) or `fresh(step)` at each step, at
/// the label [`CoarseInput::label`]; ε̂₃₂ is discarded.
///
/// # Shapes
/// - `x64`: `[batch, 3, res, res]`, `x32` and `fresh(k)`: `[batch, 3, res/2, res/2]` → like `x64`
pub fn sample_fine_only<B: Backend>(
    model: &LiftUNet<B>,
    schedule: &NoiseSchedule,
    timesteps: &[usize],
    x64: Tensor<B, 4>,
    x32: Tensor<B, 4>,
    coarse: CoarseInput,
    fresh: impl Fn(usize) -> Tensor<B, 4> + Sync,
) -> Tensor<B, 4> {
    let [x64] = in_batch_parts([x64, x32], PartSize::PerThread, |[mut x64, x32], rows| {
        let batch = x64.dims()[0];
        let device = x64.device();
        for (i, &t) in timesteps.iter().enumerate() {
            let t_prev = timesteps.get(i + 1).copied().unwrap_or(0);
            let input32 = match coarse {
                CoarseInput::FreshNoise => fresh(i).narrow(0, rows.start, rows.len()),
                CoarseInput::InitialNoise | CoarseInput::Clean => x32.clone(),
            };
            let (t64, t32) = (timestep_tensor(t as f64, batch, &device), timestep_tensor(coarse.label(t) as f64, batch, &device));
            let (eps64, _) = model.forward(x64.clone(), input32, t64, t32);
            x64 = ddim_step(x64, eps64, alphas(schedule, t, t_prev)).prev;
        }
        [x64]
    });
    x64
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::Distribution;
    use std::cell::RefCell;

    type B = Flex;

    #[test]
    fn a_clean_coarse_input_is_labelled_t_zero_and_noise_inputs_the_fine_t() {
        assert_eq!([CoarseInput::Clean, CoarseInput::FreshNoise, CoarseInput::InitialNoise].map(|c| c.label(640)), [0, 640, 640]);
    }

    #[test]
    fn an_oracle_denoiser_recovers_both_clean_images_along_any_path() {
        // ε̂ = (x_t − √ᾱ_t·x₀)/√(1−ᾱ_t) is the exact noise for a known x₀: x̂₀ = x₀ at every
        // step and DDIM keeps the first step's ε = (x_T − √ᾱ_T·x₀)/√(1−ᾱ_T) (x_T is pure noise),
        // ending at √ᾱ₀·x₀ + √(1−ᾱ₀)·ε with ᾱ₀ = 0.9999.
        let dev = Default::default();
        let schedule = NoiseSchedule::reference();
        let clean64 = Tensor::<B, 4>::random([2, 3, 8, 8], Distribution::Uniform(-1.0, 1.0), &dev);
        let clean32 = Tensor::<B, 4>::random([2, 3, 4, 4], Distribution::Uniform(-1.0, 1.0), &dev);
        let path = SamplingPath { timesteps: vec![[999, 500], [600, 500], [300, 100], [0, 0]] };
        let seen = RefCell::new(Vec::new());
        let oracle = |x: Tensor<B, 4>, x0: &Tensor<B, 4>, t: usize| {
            let a = schedule.alpha_bar(t);
            (x - x0.clone() * a.sqrt()).div_scalar((1.0 - a).sqrt())
        };
        let denoise = |x64: Tensor<B, 4>, x32: Tensor<B, 4>, t64: Tensor<B, 1>, t32: Tensor<B, 1>| {
            let (a, b) = (t64.into_data().to_vec::<f32>().unwrap()[0] as usize, t32.into_data().to_vec::<f32>().unwrap()[0] as usize);
            seen.borrow_mut().push([a, b]);
            (oracle(x64, &clean64, a), oracle(x32, &clean32, b))
        };
        let n64 = Tensor::<B, 4>::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &dev);
        let n32 = Tensor::<B, 4>::random([2, 3, 4, 4], Distribution::Normal(0.0, 1.0), &dev);
        let (x64, x32) = sample_joint(denoise, &schedule, &path, n64.clone(), n32.clone());
        assert_eq!(*seen.borrow(), path.timesteps, "each evaluation sees its own (t64, t32)");
        let expect = |x0: &Tensor<B, 4>, n: Tensor<B, 4>, t: usize| {
            let a = schedule.alpha_bar(t);
            let eps = (n - x0.clone() * a.sqrt()).div_scalar((1.0 - a).sqrt());
            x0.clone() * 0.9999f64.sqrt() + eps * 0.01
        };
        let d64: f32 = (x64 - expect(&clean64, n64, 999)).abs().max().into_scalar();
        let d32: f32 = (x32 - expect(&clean32, n32, 500)).abs().max().into_scalar();
        assert!(d64 < 1e-4 && d32 < 1e-4, "{d64} {d32}");
    }
}

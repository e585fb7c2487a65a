//! Sampling the single-output ablation models along a path (`later-experiments.md` §4): they
//! predict ε̂₆₄ only, so the fine scale follows DDIM and the coarse input is rebuilt at every step
//! from the fine scale's x̂₀, re-noised to the path's next t₃₂.

use burn::tensor::{backend::Backend, Tensor};

use crate::model::resample::downsample_2x;
use crate::path::SamplingPath;
use crate::sampler::{ddim_step, StepAlphas};
use crate::schedule::{add_noise, NoiseSchedule};
use crate::timesteps::timestep_tensor;

/// DDIM along `path` with a denoiser `(x₆₄, x₃₂, t₆₄, t₃₂) ↦ ε̂₆₄`. x₃₂ starts as the 2×2 average
/// (bilinear halving) of x₆₄; after step i it is the 2×2 average of that step's x̂₀, noised to the
/// step's next t₃₂ with `fresh(i)`, or left clean when that t₃₂ is 0.
///
/// # Shapes
/// - `x64`: `[batch, 3, res, res]`, `fresh(i)`: `[batch, 3, res/2, res/2]` → like `x64`
pub fn sample_rebuilt<B: Backend>(
    denoise: impl Fn(Tensor<B, 4>, Tensor<B, 4>, Tensor<B, 1>, Tensor<B, 1>) -> Tensor<B, 4>,
    schedule: &NoiseSchedule,
    path: &SamplingPath,
    mut x64: Tensor<B, 4>,
    fresh: impl Fn(usize) -> Tensor<B, 4>,
) -> Tensor<B, 4> {
    let batch = x64.dims()[0];
    let device = x64.device();
    let mut x32 = downsample_2x(x64.clone());
    for (i, step) in path.steps().into_iter().enumerate() {
        let (t64, t32) = (timestep_tensor(step.t[0] as f64, batch, &device), timestep_tensor(step.t[1] as f64, batch, &device));
        let eps64 = denoise(x64.clone(), x32, t64, t32);
        let alphas = StepAlphas { alpha_bar: schedule.alpha_bar(step.t[0]), alpha_bar_prev: schedule.alpha_bar(step.t_prev[0]) };
        let out = ddim_step(x64, eps64, alphas);
        x64 = out.prev;
        let coarse = downsample_2x(out.x0);
        x32 = match step.t_prev[1] {
            0 => coarse,
            t => add_noise(coarse, fresh(i), schedule.alpha_bar(t)),
        };
    }
    x64
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use std::cell::RefCell;

    type B = Flex;

    #[test]
    fn the_coarse_input_is_the_estimate_re_noised_to_the_next_coarse_timestep() {
        // A stub predicting ε̂ = 0 on a flat image of 0.3 keeps every tensor flat, so each value
        // is one number worked out by hand below.
        let dev = Default::default();
        let schedule = NoiseSchedule::reference();
        let a = |t: usize| schedule.alpha_bar(t);
        let seen = RefCell::new(Vec::new());
        let denoise = |x64: Tensor<B, 4>, x32: Tensor<B, 4>, t64: Tensor<B, 1>, t32: Tensor<B, 1>| {
            let first = |t: Tensor<B, 4>| t.into_data().to_vec::<f32>().unwrap()[0] as f64;
            let label = |t: Tensor<B, 1>| t.into_data().to_vec::<f32>().unwrap()[0] as usize;
            assert_eq!(x32.dims(), [1, 3, 2, 2]);
            seen.borrow_mut().push((label(t64), label(t32), first(x32)));
            x64.zeros_like()
        };
        let path = SamplingPath { timesteps: vec![[999, 800], [500, 400], [0, 0]] };
        let fresh = |i: usize| Tensor::<B, 4>::full([1, 3, 2, 2], 0.1 * (i + 1) as f64, &dev);
        let out = sample_rebuilt(denoise, &schedule, &path, Tensor::<B, 4>::full([1, 3, 4, 4], 0.3, &dev), fresh);
        // Step 1 at (999, 800): x₃₂ = the average of the flat 0.3 image. With ε̂ = 0, x̂₀ =
        // 0.3/√ᾱ₉₉₉ clamps to 1, ε = (0.3 − √ᾱ₉₉₉)/√(1 − ᾱ₉₉₉), x₆₄ ← √ᾱ₅₀₀ + √(1 − ᾱ₅₀₀)·ε.
        let eps = (0.3 - a(999).sqrt()) / (1.0 - a(999)).sqrt();
        let x64_1 = a(500).sqrt() + (1.0 - a(500)).sqrt() * eps;
        // Step 2 at (500, 400): x₃₂ = x̂₀ = 1 noised to t₃₂ = 400 with fresh(0) = 0.1.
        let x32_2 = a(400).sqrt() + (1.0 - a(400)).sqrt() * 0.1;
        // Its x̂₀ = x₆₄/√ᾱ₅₀₀ (inside the clamp) and the next t₃₂ is 0: step 3 sees it clean.
        let x0_2 = (x64_1 / a(500).sqrt()).clamp(-1.0, 1.0);
        let expected = [(999, 800, 0.3), (500, 400, x32_2), (0, 0, x0_2)];
        for (got, want) in seen.borrow().iter().zip(expected) {
            assert_eq!((got.0, got.1), (want.0, want.1));
            assert!((got.2 - want.2).abs() < 1e-5, "{got:?} against {want:?}");
        }
        assert_eq!(seen.borrow().len(), 3);
        // The last step (0 → 0, ᾱ₀ = ᾱ_prev) leaves x₆₄ where step 2 put it: √ᾱ₀·x̂₀ + √(1 − ᾱ₀)·ε₂.
        let eps_2 = (x64_1 - a(500).sqrt() * x0_2) / (1.0 - a(500)).sqrt();
        let x64_2 = a(0).sqrt() * x0_2 + (1.0 - a(0)).sqrt() * eps_2;
        let last: f32 = out.into_data().to_vec::<f32>().unwrap()[0];
        assert!((last as f64 - x64_2).abs() < 1e-5, "{last} against {x64_2}");
    }
}

//! DDIM (η = 0, ε-prediction) exactly as the original: x̂₀ clamped to [−1, 1], ε recomputed from
//! the clamped x̂₀, and ᾱ_prev = ᾱ₀ (not 1) after the last evaluation.

use burn::tensor::{backend::Backend, Tensor};

/// The ᾱ pair of one DDIM step at one scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepAlphas {
    /// ᾱ at the timestep being evaluated.
    pub alpha_bar: f64,
    /// ᾱ at the timestep stepped to.
    pub alpha_bar_prev: f64,
}

/// Result of one DDIM step.
pub struct DdimOutput<B: Backend, const D: usize> {
    /// The sample at the previous (less noisy) timestep.
    pub prev: Tensor<B, D>,
    /// The clamped estimate of the clean image.
    pub x0: Tensor<B, D>,
}

/// One deterministic DDIM step from x_t with predicted noise ε̂.
///
/// # Shapes
/// - `x_t`, `eps_hat`: any shape, equal; the output has the same shape.
pub fn ddim_step<B: Backend, const D: usize>(x_t: Tensor<B, D>, eps_hat: Tensor<B, D>, alphas: StepAlphas) -> DdimOutput<B, D> {
    let StepAlphas { alpha_bar: a, alpha_bar_prev: a_prev } = alphas;
    let (sa, s1a) = (a.sqrt(), (1.0 - a).sqrt());
    let x0 = (x_t.clone() - eps_hat * s1a).div_scalar(sa).clamp(-1.0, 1.0);
    // Recomputing ε from the clamped x̂₀ keeps x_prev on the line through x_t and x̂₀.
    let eps = (x_t - x0.clone() * sa).div_scalar(s1a);
    let prev = x0.clone() * a_prev.sqrt() + eps * (1.0 - a_prev).sqrt();
    DdimOutput { prev, x0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    type B = Flex;

    fn step(x: f32, eps: f32, a: f64, a_prev: f64) -> (f32, f32) {
        let dev = Default::default();
        let out =
            ddim_step(Tensor::<B, 1>::from_floats([x], &dev), Tensor::<B, 1>::from_floats([eps], &dev), StepAlphas { alpha_bar: a, alpha_bar_prev: a_prev });
        (out.prev.into_scalar(), out.x0.into_scalar())
    }

    #[test]
    fn step_inside_the_clamp_by_hand() {
        // ᾱ = 0.64 → √ᾱ = 0.8, √(1−ᾱ) = 0.6; ᾱ_prev = 0.96 → √ = 0.979796, √(1−·) = 0.2.
        // x_t = 0.5, ε̂ = 0.25: x̂₀ = (0.5 − 0.6·0.25)/0.8 = 0.4375 (inside [−1,1]);
        // ε = (0.5 − 0.8·0.4375)/0.6 = 0.25; x_prev = 0.979796·0.4375 + 0.2·0.25 = 0.478661.
        let (prev, x0) = step(0.5, 0.25, 0.64, 0.96);
        assert!((x0 - 0.4375).abs() < 1e-6);
        assert!((prev - 0.478_661).abs() < 1e-5, "{prev}");
    }

    #[test]
    fn step_through_the_clamp_by_hand() {
        // ᾱ = 0.36 → √ᾱ = 0.6, √(1−ᾱ) = 0.8; x_t = 1.2, ε̂ = −0.5:
        // raw x̂₀ = (1.2 + 0.4)/0.6 = 2.6667 → clamped to 1;
        // ε = (1.2 − 0.6·1)/0.8 = 0.75 (not −0.5); ᾱ_prev = 0.64:
        // x_prev = 0.8·1 + 0.6·0.75 = 1.25.
        let (prev, x0) = step(1.2, -0.5, 0.36, 0.64);
        assert_eq!(x0, 1.0);
        assert!((prev - 1.25).abs() < 1e-6, "{prev}");
    }

    #[test]
    fn last_step_keeps_a_little_noise() {
        // t = 0 → t_prev = 0: ᾱ = ᾱ_prev = 0.9999 leaves x_t unchanged when x̂₀ is not clamped.
        let (prev, _) = step(0.3, 0.7, 0.9999, 0.9999);
        assert!((prev - 0.3).abs() < 1e-6);
    }
}

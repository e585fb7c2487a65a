//! Group normalisation, computed as one per-(sample, channel) scale and shift.
//!
//! Burn's `GroupNorm` applies γ and β as `[1, C, 1, 1]` broadcasts, which the flex CPU backend
//! walks element by element. Folding the statistics and the affine into `[B, C, 1, 1]` tensors
//! leaves two full-size operations that hit its vectorised per-row path; the result is the same
//! function (PyTorch's GroupNorm, biased variance, ε = 1e-5).

use burn::module::{Module, Param};
use burn::tensor::activation::silu;
use burn::tensor::{backend::Backend, Tensor};

use lift_cpu::NormShape;

/// GroupNorm over `[batch, channels, h, w]` with learnable γ (ones) and β (zeros).
#[derive(Module, Debug)]
pub struct GroupNorm<B: Backend> {
    gamma: Param<Tensor<B, 1>>,
    beta: Param<Tensor<B, 1>>,
    groups: usize,
    epsilon: f64,
}

impl<B: Backend> GroupNorm<B> {
    /// `groups` must divide `channels`.
    pub fn new(groups: usize, channels: usize, device: &B::Device) -> Self {
        assert_eq!(channels % groups, 0, "GroupNorm: {groups} groups do not divide {channels} channels");
        Self { gamma: Param::from_tensor(Tensor::ones([channels], device)), beta: Param::from_tensor(Tensor::zeros([channels], device)), groups, epsilon: 1e-5 }
    }

    /// # Shapes
    /// - `x`: `[batch, channels, h, w]` → the same
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.normalise(x, false)
    }

    /// `silu(self.forward(x))`, fused on the CPU backend.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, h, w]` → the same
    pub fn forward_silu(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.normalise(x, true)
    }

    fn normalise(&self, x: Tensor<B, 4>, with_silu: bool) -> Tensor<B, 4> {
        let [batch, channels, h, w] = x.dims();
        let shape = NormShape { batch, channels, groups: self.groups, positions: h * w, epsilon: self.epsilon, silu: with_silu };
        lift_cpu::group_norm(&shape, x, self.gamma.val(), self.beta.val(), |x| if with_silu { silu(self.composed(x)) } else { self.composed(x) })
    }

    /// The same function from Burn's tensor operations, for every backend.
    fn composed(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [b, c, h, w] = x.dims();
        let g = self.groups;
        let n = (c / g * h * w) as f64;
        let grouped = x.clone().reshape([b, g, c / g * h * w]);
        let mean = grouped.clone().sum_dim(2).div_scalar(n); // [b, g, 1]
        let mean_sq = grouped.square().sum_dim(2).div_scalar(n);
        let var = (mean_sq - mean.clone().square()).clamp_min(0.0);
        let rstd = var.add_scalar(self.epsilon).sqrt().recip(); // [b, g, 1]
                                                                // Per (sample, channel): scale = γ·rstd, shift = β − mean·scale.
        let per_channel = |t: Tensor<B, 3>| t.expand([b, g, c / g]).reshape([b, c]);
        let gamma = self.gamma.val().reshape([1, c]);
        let beta = self.beta.val().reshape([1, c]);
        let scale = per_channel(rstd) * gamma;
        let shift = beta - per_channel(mean) * scale.clone();
        x * scale.reshape([b, c, 1, 1]) + shift.reshape([b, c, 1, 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::nn::GroupNormConfig;
    use burn::tensor::Distribution;

    #[test]
    fn equals_burns_group_norm() {
        let dev = Default::default();
        let x = Tensor::<Flex, 4>::random([3, 16, 5, 7], Distribution::Normal(0.5, 2.0), &dev);
        let ours = GroupNorm::<Flex>::new(4, 16, &dev);
        let reference = GroupNormConfig::new(4, 16).init::<Flex>(&dev);
        let diff: f32 = (ours.forward(x.clone()) - reference.forward(x.clone())).abs().max().into_scalar();
        assert!(diff < 1e-4, "{diff}");
        let diff: f32 = (ours.composed(x.clone()) - reference.forward(x)).abs().max().into_scalar();
        assert!(diff < 1e-4, "composed: {diff}");
    }
}

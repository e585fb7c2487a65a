//! The residual block: GroupNorm, SiLU, conv, plus the time projection (absent in the untimed
//! ablation model), then GroupNorm, SiLU, conv.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};

use super::norm::GroupNorm;
use burn::tensor::activation::silu;
use burn::tensor::{backend::Backend, Tensor};
use lift_cpu::FastForward;

/// A 3×3 convolution with padding 1.
pub fn conv3x3<B: Backend>(c_in: usize, c_out: usize, device: &B::Device) -> Conv2d<B> {
    Conv2dConfig::new([c_in, c_out], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device)
}

/// Residual block conditioned on the time vector (when it has a projection); no dropout (as the original).
#[derive(Module, Debug)]
pub struct ResBlock<B: Backend> {
    norm1: GroupNorm<B>,
    conv1: Conv2d<B>,
    time_proj: Option<Linear<B>>,
    norm2: GroupNorm<B>,
    conv2: Conv2d<B>,
    skip: Option<Conv2d<B>>,
}

impl<B: Backend> ResBlock<B> {
    /// Block from `c_in` to `c_out` channels, conditioned on a `time_dim` vector (`None`: not
    /// conditioned, no projection).
    pub fn new(c_in: usize, c_out: usize, time_dim: Option<usize>, groups: usize, device: &B::Device) -> Self {
        Self {
            norm1: GroupNorm::new(groups, c_in, device),
            conv1: conv3x3(c_in, c_out, device),
            time_proj: time_dim.map(|d| LinearConfig::new(d, c_out).init(device)),
            norm2: GroupNorm::new(groups, c_out, device),
            conv2: conv3x3(c_out, c_out, device),
            skip: (c_in != c_out).then(|| Conv2dConfig::new([c_in, c_out], [1, 1]).init(device)),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, c_in, h, w]`, `t`: `[batch, time_dim]` (ignored without a projection) →
    ///   `[batch, c_out, h, w]`
    pub fn forward(&self, x: Tensor<B, 4>, t: Option<Tensor<B, 2>>) -> Tensor<B, 4> {
        let mut h = self.conv1.fast_forward(self.norm1.forward_silu(x.clone()));
        if let (Some(proj), Some(t)) = (&self.time_proj, t) {
            h = h + proj.forward(silu(t)).unsqueeze_dims::<4>(&[2, 3]);
        }
        let h = self.conv2.fast_forward(self.norm2.forward_silu(h));
        let skip = match &self.skip {
            Some(conv) => conv.fast_forward(x),
            None => x,
        };
        h + skip
    }
}

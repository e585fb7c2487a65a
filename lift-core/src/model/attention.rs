//! Spatial self-attention with a residual connection.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};

use super::norm::GroupNorm;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{backend::Backend, Tensor};
use lift_cpu::FastForward;

/// GroupNorm, 1×1 conv to q, k, v, multi-head softmax attention over positions, 1×1 projection,
/// residual add.
#[derive(Module, Debug)]
pub struct SelfAttention<B: Backend> {
    norm: GroupNorm<B>,
    qkv: Conv2d<B>,
    proj: Conv2d<B>,
    heads: usize,
}

impl<B: Backend> SelfAttention<B> {
    /// Attention over `channels` split into `heads` heads.
    pub fn new(channels: usize, heads: usize, groups: usize, device: &B::Device) -> Self {
        Self {
            norm: GroupNorm::new(groups, channels, device),
            qkv: Conv2dConfig::new([channels, 3 * channels], [1, 1]).init(device),
            proj: Conv2dConfig::new([channels, channels], [1, 1]).init(device),
            heads,
        }
    }

    /// # Shapes
    /// - `x`: `[batch, c, h, w]` → `[batch, c, h, w]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [b, c, h, w] = x.dims();
        let d = c / self.heads;
        let qkv = self.qkv.fast_forward(self.norm.forward(x.clone()));
        // q, k, v are consecutive channel blocks; within each, head-major.
        let heads = |t: Tensor<B, 4>| t.reshape([b, self.heads, d, h * w]).swap_dims(2, 3);
        let mut parts = qkv.chunk(3, 1).into_iter();
        let (q, k, v) = (heads(parts.next().unwrap()), heads(parts.next().unwrap()), heads(parts.next().unwrap()));
        let options = AttentionModuleOptions { scale: Some(1.0 / (d as f64).sqrt()), ..Default::default() };
        let out = attention(q, k, v, None, None, options); // [b, heads, hw, d]
        let out = out.swap_dims(2, 3).reshape([b, c, h, w]);
        x + self.proj.fast_forward(out)
    }
}

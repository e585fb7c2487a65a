//! The LIFT dual-timestep UNet: one network denoises x₆₄ and x₃₂ jointly, each at its own timestep.

use burn::module::Module;
use burn::tensor::{backend::Backend, Tensor};

use super::embedding::{Mlp, TimeEmbedding};
use super::resample::{downsample_2x, upsample_2x};
use super::unet::UNetBody;
use crate::config::ModelConfig;

/// LIFT: x₃₂ is upsampled and concatenated to x₆₄ (6 channels); the two timestep vectors come from
/// one shared time MLP and are combined by a second MLP; the 6 output channels are ε̂₆₄ and an
/// upsampled ε̂₃₂, which is brought back to the coarse scale by 2×2 averaging.
#[derive(Module, Debug)]
pub struct LiftUNet<B: Backend> {
    time: TimeEmbedding<B>,
    combine: Mlp<B>,
    body: UNetBody<B>,
}

impl<B: Backend> LiftUNet<B> {
    /// Builds the model for a validated `config`.
    pub fn new(config: &ModelConfig, device: &B::Device) -> Self {
        Self {
            time: TimeEmbedding::new(config.time_embed_dim, config.time_dim, device),
            combine: Mlp::new(2 * config.time_dim, config.time_dim, device),
            body: UNetBody::new(config, 6, 6, true, device),
        }
    }

    /// Predicts the noise of both scales.
    ///
    /// # Shapes
    /// - `x64`: `[batch, 3, res, res]`, `x32`: `[batch, 3, res/2, res/2]`
    /// - `t64`, `t32`: `[batch]` raw timesteps (0..T−1, fractional allowed)
    /// - output: (ε̂₆₄ `[batch, 3, res, res]`, ε̂₃₂ `[batch, 3, res/2, res/2]`)
    pub fn forward(&self, x64: Tensor<B, 4>, x32: Tensor<B, 4>, t64: Tensor<B, 1>, t32: Tensor<B, 1>) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let t = Tensor::cat(vec![self.time.forward(t64), self.time.forward(t32)], 1);
        let t = self.combine.forward(t);
        let x = Tensor::cat(vec![x64, upsample_2x(x32)], 1);
        let mut out = self.body.forward(x, Some(t)).chunk(2, 1).into_iter();
        let eps64 = out.next().expect("6 output channels");
        let eps32 = downsample_2x(out.next().expect("6 output channels"));
        (eps64, eps32)
    }
}

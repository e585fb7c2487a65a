//! The single-scale baseline: the same UNet with 3 channels in and out and one timestep.

use burn::module::Module;
use burn::tensor::{backend::Backend, Tensor};

use super::embedding::TimeEmbedding;
use super::unet::UNetBody;
use crate::config::ModelConfig;

/// Single-scale ε-prediction UNet.
#[derive(Module, Debug)]
pub struct BaselineUNet<B: Backend> {
    time: TimeEmbedding<B>,
    body: UNetBody<B>,
}

impl<B: Backend> BaselineUNet<B> {
    /// Builds the model for a validated `config`.
    pub fn new(config: &ModelConfig, device: &B::Device) -> Self {
        Self { time: TimeEmbedding::new(config.time_embed_dim, config.time_dim, device), body: UNetBody::new(config, 3, 3, true, device) }
    }

    /// Predicts the noise.
    ///
    /// # Shapes
    /// - `x`: `[batch, 3, res, res]`, `t`: `[batch]` → `[batch, 3, res, res]`
    pub fn forward(&self, x: Tensor<B, 4>, t: Tensor<B, 1>) -> Tensor<B, 4> {
        self.body.forward(x, Some(self.time.forward(t)))
    }
}

//! The single-output ablation models (`later-experiments.md` §4): LIFT's input (x₆₄ and the
//! bilinearly upsampled x₃₂, 6 channels) and UNet body with one output, ε̂₆₄. `single_t` embeds
//! t₆₄ only (the baseline's time embedding) and is never told t₃₂; `no_t` has no time embedding
//! and its residual blocks no time projection.

use burn::module::Module;
use burn::tensor::{backend::Backend, Tensor};

use super::embedding::TimeEmbedding;
use super::resample::upsample_2x;
use super::unet::UNetBody;
use crate::config::ModelConfig;

/// `single_t` (with a time embedding) or `no_t` (without).
#[derive(Module, Debug)]
pub struct SingleOutputUNet<B: Backend> {
    time: Option<TimeEmbedding<B>>,
    body: UNetBody<B>,
}

impl<B: Backend> SingleOutputUNet<B> {
    /// Builds `single_t` (`timed`) or `no_t` for a validated `config`.
    pub fn new(config: &ModelConfig, timed: bool, device: &B::Device) -> Self {
        Self { time: timed.then(|| TimeEmbedding::new(config.time_embed_dim, config.time_dim, device)), body: UNetBody::new(config, 6, 3, timed, device) }
    }

    /// Whether the model sees t₆₄ (`single_t`) or no timestep (`no_t`).
    pub fn is_timed(&self) -> bool {
        self.time.is_some()
    }

    /// Predicts the fine scale's noise.
    ///
    /// # Shapes
    /// - `x64`: `[batch, 3, res, res]`, `x32`: `[batch, 3, res/2, res/2]`, `t64`: `[batch]`
    ///   (unused by `no_t`)
    /// - output: ε̂₆₄ `[batch, 3, res, res]`
    pub fn forward(&self, x64: Tensor<B, 4>, x32: Tensor<B, 4>, t64: Tensor<B, 1>) -> Tensor<B, 4> {
        let x = Tensor::cat(vec![x64, upsample_2x(x32)], 1);
        self.body.forward(x, self.time.as_ref().map(|time| time.forward(t64)))
    }
}

//! What a heatmap differentiates: a network from both scales' noisy inputs to both scales'
//! predicted noise, held out of the autodiff graph for Jacobians.

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use lift_core::{LiftUNet, SingleOutputUNet};

/// What a heatmap differentiates: noisy images at both scales and their timesteps to the
/// predicted noise at both scales. The LIFT UNet is one; tests use maps with known Jacobians.
pub trait DualScale<B: Backend> {
    /// (ε̂₆₄, ε̂₃₂) for x₆₄ `[n, 3, r, r]`, x₃₂ `[n, 3, r/2, r/2]` and timesteps `[n]`.
    fn predict(&self, x64: Tensor<B, 4>, x32: Tensor<B, 4>, t64: Tensor<B, 1>, t32: Tensor<B, 1>) -> (Tensor<B, 4>, Tensor<B, 4>);

    /// False when ε̂₃₂ is not predicted (a zero stands in): its blocks LH and LL are zero and
    /// their probes are skipped.
    fn predicts_coarse(&self) -> bool {
        true
    }
}

impl<B: Backend> DualScale<B> for LiftUNet<B> {
    fn predict(&self, x64: Tensor<B, 4>, x32: Tensor<B, 4>, t64: Tensor<B, 1>, t32: Tensor<B, 1>) -> (Tensor<B, 4>, Tensor<B, 4>) {
        self.forward(x64, x32, t64, t32)
    }
}

impl<B: Backend> DualScale<B> for SingleOutputUNet<B> {
    fn predict(&self, x64: Tensor<B, 4>, x32: Tensor<B, 4>, t64: Tensor<B, 1>, _t32: Tensor<B, 1>) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let zero = x32.zeros_like();
        (self.forward(x64, x32, t64), zero)
    }

    fn predicts_coarse(&self) -> bool {
        false
    }
}

/// A model ready for Jacobians: parameters out of the graph, plus its inner-backend copy.
pub struct Analysed<B: AutodiffBackend, M: AutodiffModule<B> = LiftUNet<B>> {
    pub model: M,
    pub inner: M::InnerModule,
}

impl<B: AutodiffBackend, M> Analysed<B, M>
where
    M: AutodiffModule<B> + DualScale<B>,
    M::InnerModule: DualScale<B::InnerBackend>,
{
    pub fn new(model: M) -> Self {
        let model = model.no_grad();
        let inner = model.valid();
        Self { model, inner }
    }
}

//! The kernels' front: each function computes what Burn's op or layer computes, through the
//! kernels when the backend is flex and they cover the call, through Burn's own op otherwise.
//! Callers never see which ran.

use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::PaddingConfig2d;
use burn::tensor::{backend::Backend, Tensor};

use crate::group_norm::NormShape;
use crate::plan::ConvPlan;

/// `forward` through the kernels on the CPU backend: the same function as the layer's own.
pub trait FastForward<B: Backend> {
    /// # Shapes
    /// - `x`: `[batch, channels_in, h, w]` → `[batch, channels_out, h_out, w_out]`
    fn fast_forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4>;
}

impl<B: Backend> FastForward<B> for Conv2d<B> {
    fn fast_forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match (conv2d_plan(self, x.dims()), &self.bias) {
            (Some(plan), Some(bias)) => convolution(&plan, &(x.clone(), self.weight.val(), bias.val())).unwrap_or_else(|| self.forward(x)),
            _ => self.forward(x),
        }
    }
}

impl<B: Backend> FastForward<B> for ConvTranspose2d<B> {
    fn fast_forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let plan = (self.groups == 1)
            .then(|| ConvPlan::conv_transpose2d(x.dims(), self.weight.dims(), self.stride, self.padding, self.padding_out, self.dilation))
            .flatten();
        match (plan, &self.bias) {
            (Some(plan), Some(bias)) => convolution(&plan, &(x.clone(), self.weight.val(), bias.val())).unwrap_or_else(|| self.forward(x)),
            _ => self.forward(x),
        }
    }
}

/// The kernels' plan for `conv` on an input of `dims`, when they cover the call.
pub(crate) fn conv2d_plan<B: Backend>(conv: &Conv2d<B>, dims: [usize; 4]) -> Option<ConvPlan> {
    // `Same` may pad asymmetrically; the layer's own forward handles it.
    let padding = match conv.padding {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => (top == bottom && left == right).then_some([top, left]),
        PaddingConfig2d::Same => None,
    };
    padding.filter(|_| conv.groups == 1).and_then(|padding| ConvPlan::conv2d(dims, conv.weight.dims(), conv.stride, padding, conv.dilation))
}

/// GroupNorm over `x` with `gamma` and `beta` (then SiLU when `shape.silu`): the kernel on the
/// CPU backend, `composed(x)` (the same function from Burn's ops) elsewhere.
///
/// # Shapes
/// - `x`: `[batch, channels, h, w]`, `gamma`, `beta`: `[channels]` → like `x`
pub fn group_norm<B: Backend>(
    shape: &NormShape,
    x: Tensor<B, 4>,
    gamma: Tensor<B, 1>,
    beta: Tensor<B, 1>,
    composed: impl FnOnce(Tensor<B, 4>) -> Tensor<B, 4>,
) -> Tensor<B, 4> {
    let kernel = crate::flex::on_flex(
        &(x.clone(), gamma, beta),
        |x, g, b| crate::flex::group_norm(shape, x, g, b).map(|(y, _)| y),
        |x, g, b| crate::flex::group_norm_tracked(shape, x, g, b),
    );
    kernel.unwrap_or_else(|| composed(x))
}

/// Input, weight (`W` dimensions) and bias of a convolution or normalisation call.
pub(crate) type Operands<B, const W: usize> = (Tensor<B, 4>, Tensor<B, W>, Tensor<B, 1>);

/// The plan on the kernels when `B` is flex (with or without autodiff); `None` otherwise.
fn convolution<B: Backend>(plan: &ConvPlan, operands: &Operands<B, 4>) -> Option<Tensor<B, 4>> {
    crate::flex::on_flex(operands, |x, w, b| crate::flex::forward(plan, x, w, Some(b)), |x, w, b| crate::flex::forward_tracked(plan, x, w, b))
}

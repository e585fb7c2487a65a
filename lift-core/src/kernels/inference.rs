//! Inference-only fronts of the kernels, for the Inception network and sampling: pooling, a
//! convolution with its ReLU in one pass, and a channel concatenation, each spread over the
//! images or planes on flex without autodiff (flex runs them on one thread); Burn's own ops
//! everywhere else.

#[cfg(feature = "flex")]
use burn::backend::flex::{Flex, FlexTensor};
use burn::nn::conv::Conv2d;
use burn::tensor::activation::relu;
use burn::tensor::{backend::Backend, Tensor};

use super::pool::{PoolKind, PoolPlan};

/// `avg_pool2d(x, kernel, stride, padding, count_include_pad, false)` (no ceil mode).
///
/// # Shapes
/// - `x`: `[batch, channels, h, w]` → `[batch, channels, h_out, w_out]`
pub fn avg_pool2d<B: Backend>(x: Tensor<B, 4>, kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2], count_include_pad: bool) -> Tensor<B, 4> {
    let plan = PoolPlan::new(PoolKind::Average { count_include_pad }, x.dims(), kernel, stride, padding);
    pool(plan, x).unwrap_or_else(|x| burn::tensor::module::avg_pool2d(x, kernel, stride, padding, count_include_pad, false))
}

/// `max_pool2d(x, kernel, stride, padding, [1, 1], false)` (no dilation, no ceil mode).
///
/// # Shapes
/// - `x`: `[batch, channels, h, w]` → `[batch, channels, h_out, w_out]`
pub fn max_pool2d<B: Backend>(x: Tensor<B, 4>, kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> Tensor<B, 4> {
    let plan = PoolPlan::new(PoolKind::Max, x.dims(), kernel, stride, padding);
    pool(plan, x).unwrap_or_else(|x| burn::tensor::module::max_pool2d(x, kernel, stride, padding, [1, 1], false))
}

/// `relu(conv.forward(x))`.
///
/// # Shapes
/// - `x`: `[batch, channels_in, h, w]` → `[batch, channels_out, h_out, w_out]`
pub fn conv2d_relu<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    #[cfg(feature = "flex")]
    let x = match (super::conv2d_plan(conv, x.dims()), &conv.bias) {
        (Some(plan), Some(bias)) => {
            let plan = super::ConvPlan { relu: true, ..plan };
            let operands = (x, conv.weight.val(), bias.val());
            match super::on::<B, Flex, 4>(operands, |x, w, b| super::flex::forward(&plan, x, w, Some(b))) {
                Ok(y) => return y,
                Err((x, ..)) => x,
            }
        }
        _ => x,
    };
    relu(super::conv2d(conv, x))
}

/// `Tensor::cat(parts, 1)`.
///
/// # Shapes
/// - `parts`: `[batch, channels_i, h, w]` each → `[batch, Σ channels_i, h, w]`
pub fn cat_channels<B: Backend>(parts: Vec<Tensor<B, 4>>) -> Tensor<B, 4> {
    #[cfg(feature = "flex")]
    if std::any::TypeId::of::<B>() == std::any::TypeId::of::<Flex>() {
        let primitives: Vec<_> = parts.iter().map(|t| super::cast::<_, Tensor<Flex, 4>>(t.clone()).ok().map(|t| t.into_primitive().tensor())).collect();
        if let Some(y) = primitives.into_iter().collect::<Option<Vec<_>>>().and_then(|p| super::flex::cat_channels(&p)) {
            return from_flex(y);
        }
    }
    Tensor::cat(parts, 1)
}

/// The plan on the kernel when `B` is flex without autodiff; otherwise `x` back.
fn pool<B: Backend>(plan: Option<PoolPlan>, x: Tensor<B, 4>) -> Result<Tensor<B, 4>, Tensor<B, 4>> {
    #[cfg(feature = "flex")]
    if let Some(plan) = plan {
        let xf = super::cast::<_, Tensor<Flex, 4>>(x)?;
        return match super::flex::pool(&plan, &xf.clone().into_primitive().tensor()) {
            Some(y) => Ok(from_flex(y)),
            None => Err(super::cast(xf).unwrap_or_else(|_| unreachable!("B is flex: x was cast"))),
        };
    }
    let _ = plan;
    Err(x)
}

/// A flex tensor as a `Tensor<B, 4>`, for callers that found `B` to be flex.
#[cfg(feature = "flex")]
fn from_flex<B: Backend>(y: FlexTensor) -> Tensor<B, 4> {
    let y = Tensor::<Flex, 4>::from_primitive(burn::tensor::TensorPrimitive::Float(y));
    super::cast(y).unwrap_or_else(|_| unreachable!("B is flex"))
}

//! Inference-only fronts of the kernels, for the Inception network and sampling: pooling, a
//! convolution with its ReLU in one pass, and a channel concatenation, each spread over the
//! images or planes on flex without autodiff (flex runs them on one thread); Burn's own ops
//! everywhere else.

use burn::backend::flex::Flex;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::relu;
use burn::tensor::{backend::Backend, Tensor};

use crate::backend::{flex, Flex as Kind};
use crate::flex::{from_primitive, primitive};
use crate::ops::FastForward;
use crate::plan::ConvPlan;
use crate::pool::{PoolKind, PoolPlan};

/// `avg_pool2d(x, kernel, stride, padding, count_include_pad, false)` (no ceil mode).
///
/// # Shapes
/// - `x`: `[batch, channels, h, w]` → `[batch, channels, h_out, w_out]`
pub fn avg_pool2d<B: Backend>(x: Tensor<B, 4>, kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2], count_include_pad: bool) -> Tensor<B, 4> {
    let plan = PoolPlan::new(PoolKind::Average { count_include_pad }, x.dims(), kernel, stride, padding);
    pool(plan, &x).unwrap_or_else(|| burn::tensor::module::avg_pool2d(x, kernel, stride, padding, count_include_pad, false))
}

/// `max_pool2d(x, kernel, stride, padding, [1, 1], false)` (no dilation, no ceil mode).
///
/// # Shapes
/// - `x`: `[batch, channels, h, w]` → `[batch, channels, h_out, w_out]`
pub fn max_pool2d<B: Backend>(x: Tensor<B, 4>, kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> Tensor<B, 4> {
    let plan = PoolPlan::new(PoolKind::Max, x.dims(), kernel, stride, padding);
    pool(plan, &x).unwrap_or_else(|| burn::tensor::module::max_pool2d(x, kernel, stride, padding, [1, 1], false))
}

/// `relu(conv.forward(x))`.
///
/// # Shapes
/// - `x`: `[batch, channels_in, h, w]` → `[batch, channels_out, h_out, w_out]`
pub fn conv2d_relu<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    if let (Some(Kind::Plain), Some(plan), Some(bias)) = (flex::<B>(), crate::ops::conv2d_plan(conv, x.dims()), &conv.bias) {
        let plan = ConvPlan { relu: true, ..plan };
        let (xf, wf, bf) = (primitive::<B, Flex, 4>(x.clone()), primitive::<B, Flex, 4>(conv.weight.val()), primitive::<B, Flex, 1>(bias.val()));
        if let Some(y) = crate::flex::forward(&plan, &xf, &wf, Some(&bf)) {
            return from_primitive::<Flex, B, 4>(y);
        }
    }
    relu(conv.fast_forward(x))
}

/// `Tensor::cat(parts, 1)`.
///
/// # Shapes
/// - `parts`: `[batch, channels_i, h, w]` each → `[batch, Σ channels_i, h, w]`
pub fn cat_channels<B: Backend>(parts: Vec<Tensor<B, 4>>) -> Tensor<B, 4> {
    if flex::<B>() == Some(Kind::Plain) {
        let primitives: Vec<_> = parts.iter().cloned().map(primitive::<B, Flex, 4>).collect();
        if let Some(y) = crate::flex::cat_channels(&primitives) {
            return from_primitive::<Flex, B, 4>(y);
        }
    }
    Tensor::cat(parts, 1)
}

/// The plan on the kernel when `B` is flex without autodiff and the plan covers the call.
fn pool<B: Backend>(plan: Option<PoolPlan>, x: &Tensor<B, 4>) -> Option<Tensor<B, 4>> {
    if let (Some(Kind::Plain), Some(plan)) = (flex::<B>(), plan) {
        return crate::flex::pool(&plan, &primitive::<B, Flex, 4>(x.clone())).map(from_primitive::<Flex, B, 4>);
    }
    None
}

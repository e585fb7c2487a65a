//! The project's own CPU kernels where flex's are serial at small widths (profiles in
//! `bench/README.md`): convolutions as one GEMM per image over its window matrix, and GroupNorm
//! with its SiLU in one pass, the images spread over rayon's pool, each with its own backward;
//! for inference (the Inception network, sampling) also pooling, conv+ReLU and channel
//! concatenation (`inference.rs`). On every other backend, and for calls the kernels do not cover, Burn's own path runs.

mod adamw;
mod conv;
#[cfg(feature = "flex")]
mod flex;
mod gemm;
mod group_norm;
mod im2col;
mod inference;
mod plan;
mod pool;

use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::PaddingConfig2d;
use burn::tensor::{backend::Backend, Tensor};

pub use adamw::AdamWStep;
pub use group_norm::NormShape;
pub use inference::{avg_pool2d, cat_channels, conv2d_relu, max_pool2d};
pub use plan::{ConvKind, ConvPlan};

/// `conv.forward(x)`, through the kernels on the CPU backend.
///
/// # Shapes
/// - `x`: `[batch, channels_in, h, w]` → `[batch, channels_out, h_out, w_out]`
pub fn conv2d<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    match (conv2d_plan(conv, x.dims()), &conv.bias) {
        (Some(plan), Some(bias)) => run(&plan, x, conv.weight.val(), bias.val()).unwrap_or_else(|x| conv.forward(x)),
        _ => conv.forward(x),
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

/// `conv.forward(x)` for a transposed convolution, through the kernels on the CPU backend.
///
/// # Shapes
/// - `x`: `[batch, channels_in, h, w]` → `[batch, channels_out, h_out, w_out]`
pub fn conv_transpose2d<B: Backend>(conv: &ConvTranspose2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let plan = (conv.groups == 1)
        .then(|| ConvPlan::conv_transpose2d(x.dims(), conv.weight.dims(), conv.stride, conv.padding, conv.padding_out, conv.dilation))
        .flatten();
    match (plan, &conv.bias) {
        (Some(plan), Some(bias)) => run(&plan, x, conv.weight.val(), bias.val()).unwrap_or_else(|x| conv.forward(x)),
        _ => conv.forward(x),
    }
}

/// GroupNorm over `x` with `gamma` and `beta` (then SiLU when `shape.silu`) through the kernel
/// on the CPU backend; `x` back on other backends, where the caller composes it.
///
/// # Shapes
/// - `x`: `[batch, channels, h, w]`, `gamma`, `beta`: `[channels]` → like `x`
pub fn group_norm<B: Backend>(shape: &NormShape, x: Tensor<B, 4>, gamma: Tensor<B, 1>, beta: Tensor<B, 1>) -> Result<Tensor<B, 4>, Tensor<B, 4>> {
    #[cfg(feature = "flex")]
    {
        use burn::backend::{flex::Flex, Autodiff};
        let tensors = match on::<B, Autodiff<Flex>, 1>((x, gamma, beta), |x, g, b| flex::group_norm_tracked(shape, x, g, b)) {
            Ok(y) => return Ok(y),
            Err(tensors) => tensors,
        };
        on::<B, Flex, 1>(tensors, |x, g, b| flex::group_norm(shape, x, g, b).map(|(y, _)| y)).map_err(|(x, ..)| x)
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = (shape, gamma, beta);
        Err(x)
    }
}

/// Burn's AdamW step of one parameter ([`AdamWStep`]) in one pass on the CPU backend: the new
/// parameter and moments, or the operands back on other backends or for tensors it does not cover.
///
/// # Shapes
/// - every operand has the parameter's shape
pub fn adamw<B: Backend, const D: usize>(s: &AdamWStep, operands: adamw::Operands<Tensor<B, D>>) -> Result<[Tensor<B, D>; 3], adamw::Operands<Tensor<B, D>>> {
    #[cfg(feature = "flex")]
    {
        use burn::backend::flex::Flex;
        use burn::tensor::TensorPrimitive;
        if std::any::TypeId::of::<B>() != std::any::TypeId::of::<Flex>() {
            return Err(operands);
        }
        let to_flex = |t: Tensor<B, D>| cast::<_, Tensor<Flex, D>>(t).unwrap_or_else(|_| unreachable!("B is flex")).into_primitive().tensor();
        let from_flex = |t| cast::<_, Tensor<B, D>>(Tensor::<Flex, D>::from_primitive(TensorPrimitive::Float(t))).unwrap_or_else(|_| unreachable!("B is flex"));
        let (param, grad, moments) = operands;
        flex::adamw(s, (to_flex(param), to_flex(grad), moments.map(|ms| ms.map(to_flex))))
            .map(|ts| ts.map(from_flex))
            .map_err(|(p, g, ms)| (from_flex(p), from_flex(g), ms.map(|ms| ms.map(from_flex))))
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = s;
        Err(operands)
    }
}

/// The plan on the kernels when `B` is flex (with or without autodiff); otherwise `x` back.
fn run<B: Backend>(plan: &ConvPlan, x: Tensor<B, 4>, weight: Tensor<B, 4>, bias: Tensor<B, 1>) -> Result<Tensor<B, 4>, Tensor<B, 4>> {
    #[cfg(feature = "flex")]
    {
        use burn::backend::{flex::Flex, Autodiff};
        let tensors = match on::<B, Autodiff<Flex>, 4>((x, weight, bias), |x, w, b| flex::forward_tracked(plan, x, w, b)) {
            Ok(y) => return Ok(y),
            Err(tensors) => tensors,
        };
        on::<B, Flex, 4>(tensors, |x, w, b| flex::forward(plan, x, w, Some(b))).map_err(|(x, ..)| x)
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = (plan, weight, bias);
        Err(x)
    }
}

/// Input, weight (`W` dimensions) and bias of a convolution or normalisation call.
#[cfg(feature = "flex")]
type Operands<B, const W: usize> = (Tensor<B, 4>, Tensor<B, W>, Tensor<B, 1>);

/// `f` on the operands' primitives when `B` is the backend `F`; the operands back when it is
/// not or when `f` declines.
#[cfg(feature = "flex")]
fn on<B: Backend, F: Backend, const W: usize>(
    (x, w, b): Operands<B, W>,
    f: impl FnOnce(&F::FloatTensorPrimitive, &F::FloatTensorPrimitive, &F::FloatTensorPrimitive) -> Option<F::FloatTensorPrimitive>,
) -> Result<Tensor<B, 4>, Operands<B, W>> {
    use burn::tensor::TensorPrimitive;
    let (Ok(xf), Ok(wf), Ok(bf)) = (cast::<_, Tensor<F, 4>>(x.clone()), cast::<_, Tensor<F, W>>(w.clone()), cast::<_, Tensor<F, 1>>(b.clone())) else {
        return Err((x, w, b));
    };
    let y = f(&xf.into_primitive().tensor(), &wf.into_primitive().tensor(), &bf.into_primitive().tensor());
    match y.map(|y| cast::<_, Tensor<B, 4>>(Tensor::<F, 4>::from_primitive(TensorPrimitive::Float(y)))) {
        Some(Ok(y)) => Ok(y),
        Some(Err(_)) => unreachable!("B is F: the operands were cast"),
        None => Err((x, w, b)),
    }
}

/// `t` as a `U` when `T` is `U`: a type test on the backend without narrowing the generic bounds.
#[cfg(feature = "flex")]
fn cast<T: 'static, U: 'static>(t: T) -> Result<U, T> {
    let mut slot = Some(t);
    match (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<U>>() {
        Some(u) => Ok(u.take().expect("filled above")),
        None => Err(slot.expect("untouched")),
    }
}

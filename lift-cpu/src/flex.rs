//! The batched kernels on Burn's CPU backend, with and without autodiff: a custom backward step
//! so that training takes the kernels' gradients instead of flex's serial ones.

use std::borrow::Cow;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::Autodiff;
use burn::tensor::backend::{Backend, BackendTypes};
use burn::tensor::{DType, Tensor, TensorData, TensorMetadata, TensorPrimitive};

use crate::adamw::{AdamWStep, Operands};
use crate::backend::{cast, flex, Flex as Kind};
use crate::group_norm::{self, NormShape};
use crate::ops;
use crate::plan::ConvPlan;
use crate::pool::PoolPlan;

/// The autodiff tensor of the CPU backend.
type Tracked = <Autodiff<Flex> as BackendTypes>::FloatTensorPrimitive;

thread_local! {
    /// The kernel results this thread has handed back (each passes through [`from_primitive`]).
    static KERNEL_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many calls on this thread the kernels have answered (Burn's own ops not counted): what
/// tests and profiles read to know which path ran.
pub fn kernel_calls() -> usize {
    KERNEL_CALLS.with(|n| n.get())
}

/// `plain` on the operands' primitives when `B` is flex, `tracked` when it is autodiff flex;
/// `None` on other backends or when the kernel declines.
pub(crate) fn on_flex<B: Backend, const W: usize>(
    (x, w, b): &ops::Operands<B, W>,
    plain: impl FnOnce(&FlexTensor, &FlexTensor, &FlexTensor) -> Option<FlexTensor>,
    tracked: impl FnOnce(&Tracked, &Tracked, &Tracked) -> Option<Tracked>,
) -> Option<Tensor<B, 4>> {
    match flex::<B>()? {
        Kind::Plain => plain(&primitive::<B, Flex, 4>(x.clone()), &primitive::<B, Flex, W>(w.clone()), &primitive::<B, Flex, 1>(b.clone()))
            .map(from_primitive::<Flex, B, 4>),
        Kind::Tracked => {
            type A = Autodiff<Flex>;
            tracked(&primitive::<B, A, 4>(x.clone()), &primitive::<B, A, W>(w.clone()), &primitive::<B, A, 1>(b.clone())).map(from_primitive::<A, B, 4>)
        }
    }
}

/// The primitive of `t`, for a caller that found `B` to be `F`.
pub(crate) fn primitive<B: Backend, F: Backend, const D: usize>(t: Tensor<B, D>) -> F::FloatTensorPrimitive {
    cast::<_, Tensor<F, D>>(t).into_primitive().tensor()
}

/// A primitive of `F` as a `Tensor<B, D>`, for a caller that found `B` to be `F`.
pub(crate) fn from_primitive<F: Backend, B: Backend, const D: usize>(y: F::FloatTensorPrimitive) -> Tensor<B, D> {
    KERNEL_CALLS.with(|n| n.set(n.get() + 1));
    cast(Tensor::<F, D>::from_primitive(TensorPrimitive::Float(y)))
}

/// The values of an f32 tensor in row-major order, copied only when the tensor is strided.
fn values(t: &FlexTensor) -> Option<Cow<'_, [f32]>> {
    if t.dtype() != DType::F32 {
        return None;
    }
    Some(match t.as_slice::<f32>() {
        Some(v) => Cow::Borrowed(v),
        None => Cow::Owned(t.to_contiguous().as_slice::<f32>()?.to_vec()),
    })
}

/// The values of a tensor the forward already checked to be f32 (its gradients are f32 too).
fn checked(t: &FlexTensor) -> Cow<'_, [f32]> {
    values(t).expect("f32 tensors, checked by the forward")
}

fn tensor(values: Vec<f32>, dims: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, dims))
}

fn dims4(t: &FlexTensor) -> Option<[usize; 4]> {
    t.shape().as_slice().try_into().ok()
}

/// The call's output on plain flex tensors, or `None` when a tensor is not f32 or not of the
/// plan's shapes (the caller then takes Burn's own path).
pub fn forward(plan: &ConvPlan, x: &FlexTensor, weight: &FlexTensor, bias: Option<&FlexTensor>) -> Option<FlexTensor> {
    if dims4(x)? != plan.input_dims() {
        return None;
    }
    let (xv, wv) = (values(x)?, values(weight)?);
    let bv = match bias {
        Some(b) => Some(values(b)?),
        None => None,
    };
    Some(tensor(plan.forward(&xv, &wv, bv.as_deref()), plan.output_dims()))
}

/// The backward step of a convolution with bias: input, weight and bias gradients.
#[derive(Debug)]
struct ConvBackward(ConvPlan);

impl Backward<Flex, 3> for ConvBackward {
    type State = (NodeId, NodeId);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let plan = self.0;
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x_id, w_id) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x_id);
        let w: FlexTensor = checkpointer.retrieve_node_output(w_id);
        let dyv = checked(&dy);
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, tensor(plan.input_gradient(&checked(&w), &dyv), plan.input_dims()));
        }
        if let Some(node) = node_w {
            let grad = plan.weight_gradient(&checked(&x), &dyv);
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(grad, w.shape())));
        }
        if let Some(node) = node_b {
            let grad = plan.bias_gradient(&dyv);
            let len = grad.len();
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(grad, [len])));
        }
    }
}

/// The call on autodiff tensors, recording [`ConvBackward`] when any input is tracked; `None`
/// for a plan with ReLU, whose backward the step does not know.
pub fn forward_tracked(plan: &ConvPlan, x: &Tracked, weight: &Tracked, bias: &Tracked) -> Option<Tracked> {
    if plan.relu {
        return None;
    }
    let y = forward(plan, &x.primitive, &weight.primitive, Some(&bias.primitive))?;
    let nodes = [x.node.clone(), weight.node.clone(), bias.node.clone()];
    Some(match ConvBackward(*plan).prepare::<NoCheckpointing>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(mut prep) => {
            let state = (prep.checkpoint(x), prep.checkpoint(weight));
            prep.finish(state, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(y),
    })
}

fn shape_of(shape: &NormShape, x: &FlexTensor) -> Option<()> {
    let [b, c, h, w] = dims4(x)?;
    (b == shape.batch && c == shape.channels && h * w == shape.positions).then_some(())
}

/// GroupNorm (and SiLU) on plain flex tensors with its statistics, or `None` when a tensor is
/// not f32 or not of `shape`.
pub fn group_norm(shape: &NormShape, x: &FlexTensor, gamma: &FlexTensor, beta: &FlexTensor) -> Option<(FlexTensor, Vec<f32>)> {
    shape_of(shape, x)?;
    let (xv, gv, bv) = (values(x)?, values(gamma)?, values(beta)?);
    let (y, stats) = group_norm::forward(shape, &xv, &gv, &bv);
    Some((tensor(y, dims4(x)?), stats))
}

/// The backward step of GroupNorm (and SiLU): input, γ and β gradients.
#[derive(Debug)]
struct NormBackward(NormShape);

impl Backward<Flex, 3> for NormBackward {
    type State = (NodeId, NodeId, NodeId, Vec<f32>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_g, node_b] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x_id, g_id, b_id, stats) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x_id);
        let gamma: FlexTensor = checkpointer.retrieve_node_output(g_id);
        let beta: FlexTensor = checkpointer.retrieve_node_output(b_id);
        let (dx, dg, db) = group_norm::backward(&self.0, &checked(&x), &checked(&gamma), &checked(&beta), &stats, &checked(&dy));
        let dims = dims4(&x).expect("4-d, checked by the forward");
        let channels = [self.0.channels];
        for (node, grad) in [
            (node_x, tensor(dx, dims)),
            (node_g, FlexTensor::from_data(TensorData::new(dg, channels))),
            (node_b, FlexTensor::from_data(TensorData::new(db, channels))),
        ] {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, grad);
            }
        }
    }
}

/// GroupNorm (and SiLU) on autodiff tensors, recording [`NormBackward`] when any input is tracked.
pub fn group_norm_tracked(shape: &NormShape, x: &Tracked, gamma: &Tracked, beta: &Tracked) -> Option<Tracked> {
    let (y, stats) = group_norm(shape, &x.primitive, &gamma.primitive, &beta.primitive)?;
    let nodes = [x.node.clone(), gamma.node.clone(), beta.node.clone()];
    Some(match NormBackward(*shape).prepare::<NoCheckpointing>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(mut prep) => {
            let state = (prep.checkpoint(x), prep.checkpoint(gamma), prep.checkpoint(beta), stats);
            prep.finish(state, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(y),
    })
}

/// The pooled tensor, or `None` when `x` is not f32 or not of the plan's size.
pub fn pool(plan: &PoolPlan, x: &FlexTensor) -> Option<FlexTensor> {
    let dims = dims4(x)?;
    if dims[0] * dims[1] != plan.planes || [dims[2], dims[3]] != plan.geometry.image {
        return None;
    }
    Some(tensor(plan.forward(&values(x)?), plan.output_dims(dims)))
}

/// `parts` joined along the channels, image by image in parallel, or `None` when a part is not
/// f32 or the parts' batch and sizes differ.
pub fn cat_channels(parts: &[FlexTensor]) -> Option<FlexTensor> {
    use rayon::prelude::*;
    let dims: Vec<[usize; 4]> = parts.iter().map(dims4).collect::<Option<_>>()?;
    let [batch, _, h, w] = *dims.first()?;
    if h * w == 0 || dims.iter().any(|d| d[0] != batch || [d[2], d[3]] != [h, w]) {
        return None;
    }
    let values: Vec<Cow<[f32]>> = parts.iter().map(values).collect::<Option<_>>()?;
    let per_image: Vec<usize> = dims.iter().map(|d| d[1] * h * w).collect();
    let image: usize = per_image.iter().sum();
    let mut out = vec![0.0; batch * image];
    if image > 0 {
        out.par_chunks_mut(image).enumerate().for_each(|(b, dst)| {
            let mut at = 0;
            for (v, &len) in values.iter().zip(&per_image) {
                dst[at..at + len].copy_from_slice(&v[b * len..(b + 1) * len]);
                at += len;
            }
        });
    }
    Some(tensor(out, [batch, image / (h * w), h, w]))
}

/// [`AdamWStep`]'s update on flex tensors: the new parameter and moments, reusing the operands' buffers
/// where nothing else holds them; the operands back when one is not a whole f32 tensor of the
/// parameter's shape.
#[allow(clippy::result_large_err)] // the operands come back whole for the generic fallback
pub fn adamw(s: &AdamWStep, (mut param, grad, moments): Operands<FlexTensor>) -> Result<[FlexTensor; 3], Operands<FlexTensor>> {
    let shape = param.shape();
    let n = shape.num_elements();
    let whole = |t: &FlexTensor| t.dtype() == DType::F32 && t.shape() == shape && t.layout().contiguous_offsets() == Some((0, n)) && t.bytes().len() == 4 * n;
    if !(whole(&param) && whole(&grad) && moments.iter().flatten().all(whole)) {
        return Err((param, grad, moments));
    }
    let first = moments.is_none();
    let [mut m, mut v] = moments.unwrap_or_else(|| [0, 1].map(|_| FlexTensor::zeros(shape.clone(), DType::F32)));
    let g = grad.as_slice::<f32>().expect("checked: whole f32");
    crate::adamw::update(s, param.storage_mut(), g, m.storage_mut(), v.storage_mut(), first);
    Ok([param, m, v])
}

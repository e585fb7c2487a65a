//! Global gradient-norm clipping, as PyTorch's `clip_grad_norm_`: Burn's own `Norm` clipping
//! works per parameter tensor, which is a different (weaker) constraint.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;

struct SquaredNorm<'a, IB: Backend> {
    grads: &'a GradientsParams,
    total: Option<Tensor<IB, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for SquaredNorm<'_, B::InnerBackend> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.grads.get::<B::InnerBackend, D>(param.id) {
            let s = g.square().sum();
            self.total = Some(match self.total.take() {
                Some(t) => t + s,
                None => s,
            });
        }
    }
}

struct Scale<'a, IB: Backend> {
    grads: &'a mut GradientsParams,
    factor: Tensor<IB, 1>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Scale<'_, B::InnerBackend> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            let factor = self.factor.clone().reshape([1; D]);
            self.grads.register::<B::InnerBackend, D>(param.id, g * factor);
        }
    }
}

/// The global L2 norm of all gradients of `module`'s parameters.
pub fn grad_norm<B: AutodiffBackend, M: Module<B>>(module: &M, grads: &GradientsParams) -> Option<Tensor<B::InnerBackend, 1>> {
    let mut acc = SquaredNorm::<B::InnerBackend> { grads, total: None };
    module.visit(&mut acc);
    acc.total.map(|t| t.sqrt())
}

struct Add<'a> {
    sum: &'a mut GradientsParams,
    more: GradientsParams,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Add<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.more.remove::<B::InnerBackend, D>(param.id) {
            let total = match self.sum.remove::<B::InnerBackend, D>(param.id) {
                Some(s) => s + g,
                None => g,
            };
            self.sum.register::<B::InnerBackend, D>(param.id, total);
        }
    }
}

/// `sum + more`, parameter by parameter (gradient accumulation).
pub fn add_grads<B: AutodiffBackend, M: Module<B>>(module: &M, mut sum: GradientsParams, more: GradientsParams) -> GradientsParams {
    module.visit(&mut Add { sum: &mut sum, more });
    sum
}

/// Multiplies every gradient by `factor` (an accumulated sum into a mean).
pub fn scale_grads<B: AutodiffBackend, M: Module<B>>(module: &M, mut grads: GradientsParams, factor: f64) -> GradientsParams {
    let Some(device) = first_grad_device::<B, M>(module, &grads) else { return grads };
    let factor = Tensor::<B::InnerBackend, 1>::from_floats([factor as f32], &device);
    module.visit(&mut Scale::<B::InnerBackend> { grads: &mut grads, factor });
    grads
}

struct FirstDevice<'a, D> {
    grads: &'a GradientsParams,
    device: Option<D>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for FirstDevice<'_, B::Device> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if self.device.is_none() {
            self.device = self.grads.get::<B::InnerBackend, D>(param.id).map(|g| g.device());
        }
    }
}

fn first_grad_device<B: AutodiffBackend, M: Module<B>>(module: &M, grads: &GradientsParams) -> Option<B::Device> {
    let mut v = FirstDevice::<B::Device> { grads, device: None };
    module.visit(&mut v);
    v.device
}

/// Scales all gradients by min(1, max_norm / (‖g‖ + 1e-6)), on the device (no host sync).
pub fn clip_grad_norm<B: AutodiffBackend, M: Module<B>>(module: &M, mut grads: GradientsParams, max_norm: f64) -> GradientsParams {
    if max_norm <= 0.0 {
        return grads;
    }
    if let Some(norm) = grad_norm::<B, M>(module, &grads) {
        let factor = norm.add_scalar(1e-6).recip().mul_scalar(max_norm).clamp_max(1.0);
        module.visit(&mut Scale::<B::InnerBackend> { grads: &mut grads, factor });
    }
    grads
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::nn::{Linear, LinearConfig};

    type B = Autodiff<Flex>;

    /// Linear(4 → 3) on two inputs of tens, loss = the sum of the outputs: by hand every weight's
    /// gradient is 2 · 10 = 20 and every bias's 2, so the global norm is √(12 · 20² + 3 · 2²) = √4812.
    #[test]
    fn the_global_norm_by_hand() {
        let dev = Default::default();
        let net: Linear<B> = LinearConfig::new(4, 3).init(&dev);
        let x = Tensor::<B, 2>::ones([2, 4], &dev).mul_scalar(10.0);
        let grads = GradientsParams::from_grads(net.forward(x).sum().backward(), &net);
        let norm: f32 = grad_norm::<B, _>(&net, &grads).unwrap().into_scalar();
        assert!((norm - 4812f32.sqrt()).abs() < 1e-3, "{norm}");
        let clipped = clip_grad_norm::<B, _>(&net, grads, 1.0);
        let weight = clipped.get::<Flex, 2>(net.weight.id).unwrap().into_data().to_vec::<f32>().unwrap();
        let bias = clipped.get::<Flex, 1>(net.bias.as_ref().unwrap().id).unwrap().into_data().to_vec::<f32>().unwrap();
        let scale = 1.0 / (4812f32.sqrt() + 1e-6);
        assert!(weight.iter().all(|g| (g - 20.0 * scale).abs() < 1e-6), "{weight:?}");
        assert!(bias.iter().all(|g| (g - 2.0 * scale).abs() < 1e-6), "{bias:?}");
    }

    #[test]
    fn clipping_scales_to_the_global_norm() {
        let dev = Default::default();
        let net: Linear<B> = LinearConfig::new(4, 3).init(&dev);
        let x = Tensor::<B, 2>::ones([2, 4], &dev).mul_scalar(10.0);
        let grads = GradientsParams::from_grads(net.forward(x).sum().backward(), &net);
        let before: f32 = grad_norm::<B, _>(&net, &grads).unwrap().into_scalar();
        assert!(before > 1.0, "test needs a large gradient, got {before}");
        let clipped = clip_grad_norm::<B, _>(&net, grads, 1.0);
        let after: f32 = grad_norm::<B, _>(&net, &clipped).unwrap().into_scalar();
        assert!((after - 1.0).abs() < 1e-4, "{after}");
        // A norm below the limit is left alone.
        let grads = GradientsParams::from_grads(net.forward(Tensor::<B, 2>::ones([2, 4], &dev)).sum().backward(), &net);
        let small: f32 = grad_norm::<B, _>(&net, &grads).unwrap().into_scalar();
        let kept: f32 = grad_norm::<B, _>(&net, &clip_grad_norm::<B, _>(&net, grads, 100.0)).unwrap().into_scalar();
        assert!(small < 100.0 && (small - kept).abs() < 1e-6, "{small} {kept}");
    }
}

//! Exponential moving average of the weights (Burn has none): ema ← d·ema + (1−d)·θ after every
//! optimiser step, with no warm-up, as the original's decay-0.9999 EMA.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;

/// Gives every parameter a new id and detaches it: the copy must not share optimiser state or
/// gradients with the network it shadows (both are keyed by parameter id).
struct FreshIds;

impl<B: Backend> ModuleMapper<B> for FreshIds {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (_, tensor, mapper) = param.consume();
        Param::from_mapped_value(ParamId::new(), tensor.detach(), mapper)
    }
}

/// An independent copy of `module` to hold the average.
pub fn shadow_copy<B: Backend, M: Module<B>>(module: &M) -> M {
    module.clone().map(&mut FreshIds).no_grad()
}

struct Collect<IB: Backend>(Vec<Tensor<IB, 1>>);

impl<B: AutodiffBackend> ModuleVisitor<B> for Collect<B::InnerBackend> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let t = param.val().inner();
        let n = t.shape().num_elements();
        self.0.push(t.reshape([n]));
    }
}

struct Blend<IB: Backend> {
    source: std::vec::IntoIter<Tensor<IB, 1>>,
    decay: f64,
}

impl<B: AutodiffBackend> ModuleMapper<B> for Blend<B::InnerBackend> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let theta = self.source.next().expect("EMA and network have the same structure");
        let decay = self.decay;
        param.map(|ema| {
            let ema = ema.inner();
            let theta = theta.reshape(ema.dims());
            Tensor::from_inner(ema.mul_scalar(decay) + theta.mul_scalar(1.0 - decay))
        })
    }
}

/// One EMA update: returns d·ema + (1−d)·net, parameter by parameter (paired by visiting order).
pub fn ema_update<B: AutodiffBackend, M: Module<B>>(ema: M, net: &M, decay: f64) -> M {
    let mut collect = Collect::<B::InnerBackend>(Vec::new());
    net.visit(&mut collect);
    ema.map(&mut Blend { source: collect.0.into_iter(), decay })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::nn::{Linear, LinearConfig};

    type B = Autodiff<Flex>;

    fn weights(m: &Linear<B>) -> Vec<f32> {
        m.weight.val().into_data().to_vec().unwrap()
    }

    #[test]
    fn ema_after_k_steps_equals_the_closed_form() {
        // Network weights θ₁..θ_k set by hand; EMA starts at θ₀. Closed form:
        // e_k = d^k·θ₀ + (1−d)·Σᵢ d^(k−i)·θᵢ.
        let dev = Default::default();
        let mut net: Linear<B> = LinearConfig::new(3, 2).init(&dev);
        let theta0 = weights(&net);
        let mut ema = shadow_copy(&net);
        let d = 0.9;
        let k = 5;
        let mut history = Vec::new();
        for i in 1..=k {
            let w: Vec<f32> = theta0.iter().enumerate().map(|(j, v)| v + (i * (j + 1)) as f32 * 0.1).collect();
            net.weight = Param::from_tensor(Tensor::from_data(burn::tensor::TensorData::new(w.clone(), [3, 2]), &dev));
            history.push(w);
            ema = ema_update(ema, &net, d);
        }
        let got = weights(&ema);
        for j in 0..theta0.len() {
            let mut expected = d.powi(k as i32) * theta0[j] as f64;
            for (i, w) in history.iter().enumerate() {
                expected += (1.0 - d) * d.powi((k - 1 - i) as i32) * w[j] as f64;
            }
            assert!((got[j] as f64 - expected).abs() < 1e-5, "{j}: {} vs {expected}", got[j]);
        }
        // The shadow copy has its own parameter ids.
        assert_ne!(ema.weight.id, net.weight.id);
    }
}

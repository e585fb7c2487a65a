//! Burn's AdamW (update, state, records), each parameter's update in one pass over its values on
//! the CPU (`adamw.rs`) instead of Burn's ~15 tensor ops. Its state is Burn's `AdamWState`, so
//! optimiser checkpoints load in either.

use burn::optim::{AdamW, AdamWConfig, AdamWState, AdaptiveMomentumState, LearningRate, SimpleOptimizer};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::adamw::{AdamWStep, Operands};

/// AdamW with Burn's arithmetic; on the CPU backend in one pass per parameter.
#[derive(Clone)]
pub struct FusedAdamW {
    /// Burn's own, for the other backends.
    burn: AdamW,
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    weight_decay: f32,
}

impl FusedAdamW {
    /// Burn's default betas (0.9, 0.999), ε = 1e-8 and `weight_decay`.
    pub fn new(weight_decay: f32) -> Self {
        let (beta_1, beta_2, epsilon) = (0.9, 0.999, 1e-8);
        let config = AdamWConfig::new().with_beta_1(beta_1).with_beta_2(beta_2).with_epsilon(epsilon).with_weight_decay(weight_decay);
        Self { burn: config.build(), beta_1, beta_2, epsilon, weight_decay }
    }
}

impl<B: Backend> SimpleOptimizer<B> for FusedAdamW {
    type State<const D: usize> = AdamWState<B, D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<B, D>,
        grad: Tensor<B, D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<B, D>, Option<Self::State<D>>) {
        // AMSGrad's extra moment is Burn's alone.
        if state.as_ref().is_some_and(|s| s.momentum.max_moment_2.is_some()) {
            return self.burn.step(lr, tensor, grad, state);
        }
        let time = state.as_ref().map_or(1, |s| s.momentum.time + 1);
        let step = AdamWStep { beta_1: self.beta_1, beta_2: self.beta_2, epsilon: self.epsilon, weight_decay: self.weight_decay, lr, time };
        let moments = state.map(|s| [s.momentum.moment_1, s.momentum.moment_2]);
        match fused(&step, (tensor, grad, moments)) {
            Ok([tensor, moment_1, moment_2]) => (tensor, Some(AdamWState::new(AdaptiveMomentumState { time, moment_1, moment_2, max_moment_2: None }))),
            Err((tensor, grad, moments)) => {
                let state =
                    moments.map(|[moment_1, moment_2]| AdamWState::new(AdaptiveMomentumState { time: time - 1, moment_1, moment_2, max_moment_2: None }));
                self.burn.step(lr, tensor, grad, state)
            }
        }
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &B::Device) -> Self::State<D> {
        <AdamW as SimpleOptimizer<B>>::to_device(state, device)
    }
}

/// The one-pass update when `B` is flex and the operands are whole f32 tensors; the operands back otherwise.
#[allow(clippy::result_large_err)] // the operands come back whole for Burn's step
fn fused<B: Backend, const D: usize>(s: &AdamWStep, operands: Operands<Tensor<B, D>>) -> Result<[Tensor<B, D>; 3], Operands<Tensor<B, D>>> {
    if crate::backend::flex::<B>() == Some(crate::backend::Flex::Plain) {
        use crate::flex::{from_primitive, primitive};
        use burn::backend::Flex;
        let (param, grad, moments) = operands;
        let to_flex = primitive::<B, Flex, D>;
        // The operands declined, handed back without counting as a kernel call.
        let back = |t| crate::backend::cast::<_, Tensor<B, D>>(Tensor::<Flex, D>::from_primitive(burn::tensor::TensorPrimitive::Float(t)));
        return crate::flex::adamw(s, (to_flex(param), to_flex(grad), moments.map(|ms| ms.map(to_flex))))
            .map(|ts| ts.map(from_primitive::<Flex, B, D>))
            .map_err(|(p, g, ms)| (back(p), back(g), ms.map(|ms| ms.map(back))));
    }
    Err(operands)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::adaptor::OptimizerAdaptor;
    use burn::optim::{GradientsParams, Optimizer};
    use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};

    type A = Autodiff<Flex>;

    #[derive(Module, Debug)]
    struct Net<B: Backend> {
        a: Linear<B>,
        b: Linear<B>,
    }

    fn values(net: &Net<A>) -> Vec<f32> {
        struct V(Vec<f32>);
        impl ModuleVisitor<A> for V {
            fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<A, D>>) {
                self.0.extend(p.val().into_data().to_vec::<f32>().unwrap());
            }
        }
        let mut v = V(Vec::new());
        net.visit(&mut v);
        v.0
    }

    /// Steps `steps` of `optim` on a regression loss whose inputs depend on the step alone.
    fn train<O: Optimizer<Net<A>, A>>(mut net: Net<A>, optim: &mut O, steps: std::ops::Range<usize>) -> Net<A> {
        let device = Default::default();
        for k in steps {
            let x =
                Tensor::<A, 1>::from_floats((0..24).map(|i| (i as f32 * 0.1).sin() + k as f32 * 0.3).collect::<Vec<_>>().as_slice(), &device).reshape([4, 6]);
            let loss = net.b.forward(net.a.forward(x)).square().mean();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(1e-2 * (k + 1) as f64, net, grads);
        }
        net
    }

    #[test]
    fn the_fused_steps_are_burn_s_adamw_bit_for_bit_and_share_its_records() {
        let device = Default::default();
        let init = |seed| {
            <A as Backend>::seed(&device, seed);
            Net::<A> { a: LinearConfig::new(6, 16).init(&device), b: LinearConfig::new(16, 3).init(&device) }
        };
        let burn = || AdamWConfig::new().with_weight_decay(0.01).with_epsilon(1e-8).init::<A, Net<A>>();
        let fused = || OptimizerAdaptor::<FusedAdamW, Net<A>, A>::from(FusedAdamW::new(0.01));
        let (mut b, mut f) = (burn(), fused());
        let (nb, nf) = (train(init(3), &mut b, 0..4), train(init(3), &mut f, 0..4));
        assert!(values(&nb) == values(&nf), "four steps");
        assert!(values(&nb) != values(&init(3)), "the steps moved the weights");
        // Each continues from the other's saved state as from its own.
        let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
        let f_from_b = fused().load_record(recorder.load(recorder.record(b.to_record(), ()).unwrap(), &device).unwrap());
        let b_from_f = burn().load_record(recorder.load(recorder.record(f.to_record(), ()).unwrap(), &device).unwrap());
        let reference = values(&train(nb.clone(), &mut b, 4..6));
        assert!(values(&train(nb.clone(), &mut { f_from_b }, 4..6)) == reference, "fused from Burn's record");
        assert!(values(&train(nf, &mut { b_from_f }, 4..6)) == reference, "Burn's from the fused record");
    }
}

//! Seeded parameters, drawn on the host from a stream the call owns (tensors: `seed.rs`).
//!
//! Burn draws parameters lazily, on first use, from one process-wide backend RNG; two threads
//! drawing at once (parallel tests, a loader) interleave in that stream, so even `B::seed` right
//! before building does not name one set of weights. Here every draw comes from a ChaCha8 stream
//! seeded by the caller, in the module's fixed visiting order, identical on every backend.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::Uniform;

use crate::seed::draw;

/// Replaces every lazily initialised parameter of `module` by a draw from `seed`.
///
/// Weights and biases of `Linear`, `Conv2d` and `ConvTranspose2d` get Burn's (and PyTorch's)
/// default `U(−1/√fan_in, 1/√fan_in)`. Parameters already holding a value (constants such as a
/// norm's γ = 1, β = 0) are kept. Any other lazy parameter is a panic naming its path: its
/// distribution is unknown here, and drawing it from the backend would break the seed.
pub fn seeded_module<B: Backend, M: Module<B>>(module: M, seed: u64) -> M {
    module.map(&mut SeededInit { rng: ChaCha8Rng::seed_from_u64(seed), path: Vec::new(), fan_in: None })
}

struct SeededInit {
    rng: ChaCha8Rng,
    /// (field, owning struct) from the root to the parameter being mapped.
    path: Vec<(String, String)>,
    /// Fan-in of the last weight seen; a layer's bias follows its weight in visiting order.
    fan_in: Option<usize>,
}

impl SeededInit {
    fn describe(&self) -> String {
        self.path.iter().map(|(field, _)| field.as_str()).collect::<Vec<_>>().join(".")
    }
}

impl<B: Backend> ModuleMapper<B> for SeededInit {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        if param.is_initialized() {
            return param;
        }
        let shape: [usize; D] = param.lazy_shape().dims();
        let (field, owner) = self.path.last().map(|(f, o)| (f.as_str(), o.as_str())).unwrap_or(("", ""));
        let fan_in = match (owner, field) {
            // Row layout: [d_in, d_out].
            ("Struct:Linear", "weight") => shape[0],
            // Conv2d [c_out, c_in/g, kh, kw]; ConvTranspose2d [c_in, c_out/g, kh, kw]: Burn takes
            // dims 1.. as fan-in for both, as PyTorch does.
            ("Struct:Conv2d" | "Struct:ConvTranspose2d", "weight") => shape[1..].iter().product(),
            ("Struct:Linear" | "Struct:Conv2d" | "Struct:ConvTranspose2d", "bias") => {
                self.fan_in.unwrap_or_else(|| panic!("bias {} visited before its weight", self.describe()))
            }
            _ => panic!("no seeded initialiser for the lazy parameter {} ({owner})", self.describe()),
        };
        if field == "weight" {
            self.fan_in = Some(fan_in);
        }
        let bound = 1.0 / (fan_in as f32).sqrt();
        let n = shape.iter().product();
        let values = draw(&mut self.rng, n, Uniform::new_inclusive(-bound, bound).expect("finite bound"));
        // Fresh layers are trainable; `no_grad()` afterwards still applies.
        let tensor = Tensor::from_data(TensorData::new(values, shape), &param.lazy_device()).require_grad();
        Param::initialized(param.id, tensor)
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex};
    use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::Distribution;

    use super::*;

    fn values<const D: usize>(t: Tensor<Flex, D>) -> Vec<f32> {
        t.into_data().to_vec().unwrap()
    }

    #[test]
    fn a_seed_names_one_set_of_weights_whatever_the_backend_rng_does() {
        let dev = Default::default();
        let build = || LinearConfig::new(4, 3).init::<Flex>(&dev);
        let a = seeded_module(build(), 11);
        Flex::seed(&dev, 99);
        let _noise = Tensor::<Flex, 1>::random([8], Distribution::Default, &dev);
        let b = seeded_module(build(), 11);
        let c: Linear<Flex> = seeded_module(build(), 12);
        assert_eq!(values(a.weight.val()), values(b.weight.val()));
        assert_eq!(values(a.bias.unwrap().val()), values(b.bias.unwrap().val()));
        assert_ne!(values(a.weight.val()), values(c.weight.val()));
    }

    #[test]
    fn draws_stay_inside_the_fan_in_bound_and_fill_it() {
        let dev = Default::default();
        // fan-in 8·3·3 = 72 for both; the transposed conv's is its c_out.
        let conv = seeded_module(Conv2dConfig::new([8, 5], [3, 3]).init::<Flex>(&dev), 1);
        let up = seeded_module(ConvTranspose2dConfig::new([5, 8], [3, 3]).init::<Flex>(&dev), 2);
        let bound = 1.0 / 72f32.sqrt();
        assert!(values(conv.bias.unwrap().val()).iter().all(|x| x.abs() <= bound));
        for weight in [conv.weight.val(), up.weight.val()] {
            let v = values(weight);
            assert!(v.iter().all(|x| x.abs() <= bound));
            let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
            assert!(max > 0.95 * bound, "360 uniform draws should reach near the bound, max {max} of {bound}");
        }
    }

    #[test]
    fn seeded_parameters_are_trainable() {
        let dev = Default::default();
        let net = seeded_module(LinearConfig::new(2, 2).init::<Autodiff<Flex>>(&dev), 3);
        assert!(net.weight.val().is_require_grad());
    }
}

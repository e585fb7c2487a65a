//! Seeded, eager parameter initialisation.
//!
//! Burn draws parameters lazily, on first use, from one process-wide backend RNG. Left alone, a
//! network's weights then depend on which parameter is touched first and on whatever other thread
//! drew random numbers in between. Here the seed and every draw happen under one lock, in the
//! module's fixed visiting order, so a seed names one set of weights.

use std::sync::Mutex;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

static SEED_LOCK: Mutex<()> = Mutex::new(());

/// Runs `draw` with the backend RNG seeded to `seed`, with no other `with_seed` call in between.
pub fn with_seed<B: Backend, T>(device: &B::Device, seed: u64, draw: impl FnOnce() -> T) -> T {
    let _guard = SEED_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    B::seed(device, seed);
    draw()
}

/// Builds a module and draws all its parameters now, from `seed`.
pub fn seeded_module<B: Backend, M: Module<B>>(device: &B::Device, seed: u64, build: impl FnOnce() -> M) -> M {
    with_seed::<B, _>(device, seed, || {
        let module = build();
        module.visit(&mut Materialize);
        module
    })
}

struct Materialize;

impl<B: Backend> ModuleVisitor<B> for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        // `val` runs the lazy initialiser; the tensor itself is not needed.
        let _ = param.val();
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::Flex;
    use burn::nn::{Linear, LinearConfig};

    use super::*;

    fn weights(m: &Linear<Flex>) -> Vec<f32> {
        m.weight.val().into_data().to_vec().unwrap()
    }

    #[test]
    fn a_seed_names_one_set_of_weights_whatever_is_drawn_afterwards() {
        let dev = Default::default();
        let build = || LinearConfig::new(4, 3).init::<Flex>(&dev);
        let a = seeded_module::<Flex, _>(&dev, 11, build);
        // Drawing from the backend RNG before the first use must not change the weights.
        let _noise = with_seed::<Flex, _>(&dev, 99, || Tensor::<Flex, 1>::random([8], burn::tensor::Distribution::Default, &dev));
        let b = seeded_module::<Flex, _>(&dev, 11, build);
        let c = seeded_module::<Flex, _>(&dev, 12, build);
        assert_eq!(weights(&a), weights(&b));
        assert_ne!(weights(&a), weights(&c));
    }
}

//! Deriving independent seeds from (seed, index) pairs, so every random draw of the study depends
//! only on its own coordinates (image, epoch, cell, probe), never on the order work is done in;
//! and tensors drawn on the host from a ChaCha8 stream of such a seed, identical on every backend.

use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Bernoulli, Normal, Uniform};

/// SplitMix64's finaliser applied to `a` combined with `b`: nearby inputs give unrelated outputs.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A tensor of `shape` drawn from `distribution` with the stream `seed`, on the host.
pub fn seeded_tensor<B: Backend, const D: usize>(shape: [usize; D], distribution: Distribution, seed: u64, device: &B::Device) -> Tensor<B, D> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = shape.iter().product();
    let values: Vec<f32> = match distribution {
        Distribution::Default => draw(&mut rng, n, Uniform::new(0.0, 1.0).unwrap()),
        Distribution::Uniform(lo, hi) => draw(&mut rng, n, Uniform::new(lo as f32, hi as f32).expect("uniform bounds")),
        Distribution::Normal(mean, std) => draw(&mut rng, n, Normal::new(mean as f32, std as f32).expect("normal std")),
        Distribution::Bernoulli(p) => {
            let coin = Bernoulli::new(p).expect("bernoulli probability");
            (0..n).map(|_| if rng.sample(coin) { 1.0 } else { 0.0 }).collect()
        }
    };
    Tensor::from_data(TensorData::new(values, shape), device)
}

pub(crate) fn draw(rng: &mut ChaCha8Rng, n: usize, dist: impl rand::distr::Distribution<f32>) -> Vec<f32> {
    (0..n).map(|_| rng.sample(&dist)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    fn values<const D: usize>(t: Tensor<Flex, D>) -> Vec<f32> {
        t.into_data().to_vec().unwrap()
    }

    #[test]
    fn seeds_are_decorrelated_and_stable() {
        assert_ne!(mix(1, 2), mix(2, 1));
        assert_ne!(mix(0, 0), mix(0, 1));
        assert_eq!(mix(42, 7), mix(42, 7));
    }

    #[test]
    fn seeded_tensors_follow_their_distribution() {
        let dev = Default::default();
        let t = values(seeded_tensor::<Flex, 2>([100, 100], Distribution::Normal(2.0, 3.0), 5, &dev));
        let mean = t.iter().sum::<f32>() / t.len() as f32;
        let var = t.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / t.len() as f32;
        assert!((mean - 2.0).abs() < 0.1 && (var.sqrt() - 3.0).abs() < 0.1, "mean {mean} var {var}");
        let u = values(seeded_tensor::<Flex, 1>([1000], Distribution::Uniform(-1.0, 1.0), 5, &dev));
        assert!(u.iter().all(|x| (-1.0..1.0).contains(x)));
        assert_eq!(u, values(seeded_tensor::<Flex, 1>([1000], Distribution::Uniform(-1.0, 1.0), 5, &dev)));
    }
}

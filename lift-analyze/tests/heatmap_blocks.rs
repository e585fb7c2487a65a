//! The heatmap's wiring and normalisation on a map whose four Jacobian blocks are known:
//! ε̂₆₄ = a·x₆₄ + b·E(x₃₂), ε̂₃₂ = c·S(x₆₄) + d·x₃₂, where S takes the top-left pixel of every 2×2
//! block and E = Sᵀ puts each coarse pixel there (zeros elsewhere). No row or column of any block
//! has more than one non-zero entry, so ‖Jᵀr‖² and ‖Jr‖² are exact for any ±1 probe and both
//! estimators must give, per cell (reference-facts.md: ‖J‖²_F/(H_in·W_in·H_out·W_out)):
//!
//! | block | ∂ out / ∂ in | ‖J‖²_F | normalised |
//! |---|---|---|---|
//! | HH | ε̂₆₄ / x₆₄ | 3r²·a² | 3a²/r² |
//! | HL | ε̂₆₄ / x₃₂ | 3(r/2)²·b² | 3b²/r² |
//! | LH | ε̂₃₂ / x₆₄ | 3(r/2)²·c² | 3c²/r² |
//! | LL | ε̂₃₂ / x₃₂ | 3(r/2)²·d² | 12d²/r² |

use std::marker::PhantomData;

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use lift_analyze::clean_images::Images;
use lift_analyze::heatmap::{estimate_cell, Analysed, DualScale};
use lift_analyze::jacobian::Estimator;
use lift_core::grid::{Grid, GridSpec};
use lift_core::seed::seeded_tensor;
use lift_core::NoiseSchedule;

type A = Autodiff<Flex>;

#[derive(Module, Debug)]
struct KnownBlocks<B: Backend> {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
    backend: PhantomData<B>,
}

/// The top-left pixel of every 2×2 block: `[n, 3, r, r]` → `[n, 3, r/2, r/2]`.
fn subsample<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, r, _] = x.dims();
    let h = r / 2;
    x.reshape([n, c, h, 2, h, 2]).slice([0..n, 0..c, 0..h, 0..1, 0..h, 0..1]).reshape([n, c, h, h])
}

/// Each coarse pixel at the top-left of its 2×2 block, zeros elsewhere: the transpose of [`subsample`].
fn embed<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, _] = x.dims();
    let x = x.reshape([n, c, h, 1, h, 1]);
    let x = Tensor::cat(vec![x.clone(), x.zeros_like()], 3);
    Tensor::cat(vec![x.clone(), x.zeros_like()], 5).reshape([n, c, 2 * h, 2 * h])
}

impl<B: Backend> DualScale<B> for KnownBlocks<B> {
    fn predict(&self, x64: Tensor<B, 4>, x32: Tensor<B, 4>, _t64: Tensor<B, 1>, _t32: Tensor<B, 1>) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let fine = x64.clone().mul_scalar(self.a) + embed(x32.clone()).mul_scalar(self.b);
        let coarse = subsample(x64).mul_scalar(self.c) + x32.mul_scalar(self.d);
        (fine, coarse)
    }
}

#[test]
fn a_map_with_known_blocks_gives_each_block_its_normalised_norm() {
    let (a, b, c, d) = (1.0f32, 2.0, 3.0, 0.25);
    let map = Analysed::new(KnownBlocks::<A> { a, b, c, d, backend: PhantomData });
    let r = 8;
    let dev = Default::default();
    let x64 = seeded_tensor::<Flex, 4>([3, 3, r, r], Distribution::Uniform(-1.0, 1.0), 4, &dev);
    let x0 = Images { x32: lift_core::model::resample::downsample_2x(x64.clone()), x64 };
    let grid = Grid::new(GridSpec::TLinspace { points: 5 }, &NoiseSchedule::reference()).unwrap();
    let r2 = (r * r) as f64;
    let sq = |v: f32| (v as f64).powi(2);
    let expected = [("HH", 3.0 * sq(a) / r2), ("HL", 3.0 * sq(b) / r2), ("LH", 3.0 * sq(c) / r2), ("LL", 12.0 * sq(d) / r2)];
    // The differences' rounding: f32 values of O(1) over a step of 1e-3.
    for (estimator, tolerance) in [(Estimator::Vjp, 1e-6), (Estimator::Fd, 1e-3)] {
        for cell in [(0, 4), (3, 1)] {
            let e = estimate_cell(&map, &x0, &grid, cell, 3, (5, 6), estimator, 64);
            for ((name, want), got) in expected.iter().zip([e.hh, e.hl, e.lh, e.ll]) {
                assert!((got.mean - want).abs() <= tolerance * want, "{estimator:?} {cell:?} {name}: {} instead of {want}", got.mean);
                assert!(got.se <= tolerance * want, "{estimator:?} {name}: exact per probe, yet s.e. {}", got.se);
            }
        }
    }
}

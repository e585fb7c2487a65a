//! The two Jacobian estimators on the tiny LIFT model agree, for all four blocks.

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Distribution, Tensor};
use lift_analyze::clean_images::Images;
use lift_analyze::heatmap::{estimate_cell, Analysed};
use lift_analyze::jacobian::Estimator;
use lift_core::grid::{Grid, GridSpec};
use lift_core::model::init::seeded_module;
use lift_core::seed::seeded_tensor;
use lift_core::{LiftConfig, LiftUNet, NoiseSchedule};

type A = Autodiff<Flex>;

#[test]
fn vjp_and_finite_differences_agree_on_the_tiny_model() {
    let config = LiftConfig::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/tiny.toml"))).unwrap();
    let dev = Default::default();
    let model = Analysed::new(seeded_module(LiftUNet::<A>::new(&config.model, &dev), 1));
    let r = config.model.resolution;
    let x64 = seeded_tensor::<Flex, 4>([8, 3, r, r], Distribution::Uniform(-1.0, 1.0), 10, &dev);
    let x0 = Images { x32: lift_core::model::resample::downsample_2x(x64.clone()), x64 };
    let grid = Grid::new(GridSpec::TLinspace { points: 10 }, &NoiseSchedule::reference()).unwrap();
    for cell in [(2, 2), (4, 8), (8, 1)] {
        // Same points, independent probes: the estimates agree within their combined standard error.
        let v = estimate_cell(&model, &x0, &grid, cell, 4, (7, 100), Estimator::Vjp, 64);
        let f = estimate_cell(&model, &x0, &grid, cell, 4, (7, 200), Estimator::Fd, 64);
        for (name, a, b) in [("HH", v.hh, f.hh), ("HL", v.hl, f.hl), ("LH", v.lh, f.lh), ("LL", v.ll, f.ll)] {
            let combined = (a.se.powi(2) + b.se.powi(2)).sqrt();
            assert!(a.mean > 0.0 && b.mean > 0.0);
            assert!((a.mean - b.mean).abs() <= 3.0 * combined, "{cell:?} scale {name}: vjp {a:?} fd {b:?}");
        }
    }
}

/// The dot-product test, for each of the four blocks: for any r and s, (Jᵀr)·s from the reverse
/// pass equals r·(Js) from central differences, up to the differences' O(h²) error — a check of
/// the VJP itself and of which input and output each block pairs, not only of its expectation.
#[test]
fn vjp_is_the_transpose_of_the_finite_difference_jvp() {
    use lift_analyze::jacobian::rademacher;
    let config = LiftConfig::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/tiny.toml"))).unwrap();
    let dev = Default::default();
    let m = Analysed::new(seeded_module(LiftUNet::<A>::new(&config.model, &dev), 2));
    let (r, c) = (config.model.resolution, config.model.coarse_resolution());
    let x64 = seeded_tensor::<Flex, 4>([2, 3, r, r], Distribution::Normal(0.0, 1.0), 20, &dev);
    let x32 = seeded_tensor::<Flex, 4>([2, 3, c, c], Distribution::Normal(0.0, 1.0), 21, &dev);
    let (t64, t32) = (Tensor::<Flex, 1>::from_floats([700.0, 300.0], &dev), Tensor::<Flex, 1>::from_floats([200.0, 900.0], &dev));
    let side = |scale: usize| if scale == 0 { r } else { c };
    // (name, output: 0 = ε̂₆₄ / 1 = ε̂₃₂, input: 0 = x₆₄ / 1 = x₃₂)
    for (name, output, input) in [("HH", 0, 0), ("HL", 0, 1), ("LH", 1, 0), ("LL", 1, 1)] {
        let pr = rademacher::<Flex>([2, 3, side(output), side(output)], 1, &dev);
        let ps = rademacher::<Flex>([2, 3, side(input), side(input)], 2, &dev);
        // Reverse: g = Jᵀ r.
        let (a, b) = (Tensor::<A, 4>::from_inner(x64.clone()).require_grad(), Tensor::<A, 4>::from_inner(x32.clone()).require_grad());
        let (e64, e32) = m.model.forward(a.clone(), b.clone(), Tensor::from_inner(t64.clone()), Tensor::from_inner(t32.clone()));
        let y = if output == 0 { e64 } else { e32 };
        let grads = (y * Tensor::from_inner(pr.clone())).sum().backward();
        let g = if input == 0 { a.grad(&grads) } else { b.grad(&grads) }.unwrap();
        let reverse: f64 = (g * ps.clone()).sum().into_scalar() as f64;
        // Forward by central differences: J s ≈ (f(x + hs) − f(x − hs)) / 2h. Measured here, the
        // f32 rounding adds 0.004–0.01 to r·Js at h = 1e-3 whatever the block, and truncation
        // 0.06–0.09 at 3e-2; at 3e-3 both stay below 0.008, hence the absolute term (the
        // cross-scale LH product is only −0.26).
        let h = 3e-3;
        let f = |step: Tensor<Flex, 4>| {
            let (x, z) = if input == 0 { (x64.clone() + step, x32.clone()) } else { (x64.clone(), x32.clone() + step) };
            let (e64, e32) = m.inner.forward(x, z, t64.clone(), t32.clone());
            if output == 0 {
                e64
            } else {
                e32
            }
        };
        let js = (f(ps.clone().mul_scalar(h)) - f(ps.clone().mul_scalar(-h))).div_scalar(2.0 * h);
        let forward: f64 = (js * pr).sum().into_scalar() as f64;
        assert!(reverse.abs() > 0.1 && (reverse - forward).abs() <= 2e-3 * reverse.abs() + 1e-2, "{name}: Jᵀr·s = {reverse}, r·Js = {forward}");
    }
}

/// Cells stacked into one pass give what they give one at a time (same noise and probes).
#[test]
fn batched_cells_equal_single_cells() {
    use lift_analyze::heatmap::estimate_cells;
    let config = LiftConfig::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/tiny.toml"))).unwrap();
    let dev = Default::default();
    let model = Analysed::new(seeded_module(LiftUNet::<A>::new(&config.model, &dev), 3));
    let r = config.model.resolution;
    let x64 = seeded_tensor::<Flex, 4>([4, 3, r, r], Distribution::Uniform(-1.0, 1.0), 30, &dev);
    let x0 = Images { x32: lift_core::model::resample::downsample_2x(x64.clone()), x64 };
    let grid = Grid::new(GridSpec::TLinspace { points: 6 }, &NoiseSchedule::reference()).unwrap();
    let cells: Vec<(usize, usize)> = (0..6).map(|j| (2, j)).collect();
    let batched = estimate_cells(&model, &x0, &grid, &cells, 2, (7, 8), Estimator::Vjp, 64);
    for (k, &cell) in cells.iter().enumerate() {
        let single = estimate_cell(&model, &x0, &grid, cell, 2, (7, 8), Estimator::Vjp, 4);
        for (a, b) in [(batched[k].hh, single.hh), (batched[k].hl, single.hl), (batched[k].lh, single.lh), (batched[k].ll, single.ll)] {
            assert!((a.mean - b.mean).abs() <= 1e-5 * b.mean.abs(), "{cell:?}: {a:?} vs {b:?}");
        }
    }
}

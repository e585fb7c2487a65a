//! The same numbers on two backends: the tiny LIFT model's forward, one training step's loss and
//! gradient norm, and one Hutchinson estimate, from the same weights and host inputs. Run by the
//! flex-vs-wgpu test and by `cargo xtask cross-check --device cuda` on a GPU machine.

use std::sync::Arc;

use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor, TensorData};
use lift_analyze::clean_images::Images;
use lift_analyze::heatmap::{estimate_cell, Analysed};
use lift_analyze::jacobian::Estimator;
use lift_core::checkpoint::{module_from_bytes, module_to_bytes};
use lift_core::data::ImageSet;
use lift_core::grid::{Grid, GridSpec};
use lift_core::model::init::seeded_module;
use lift_core::{BackendTask, CpuBackend, LiftConfig, LiftUNet, NoiseSchedule};
use lift_train::batch::{EpochLoader, NoiseSource};
use lift_train::clip::grad_norm;
use lift_train::loss::Denoiser;
use serde::Serialize;

/// Everything compared, on one backend.
#[derive(Debug, Clone, Serialize)]
pub struct Numbers {
    pub eps64: Vec<f32>,
    pub eps32: Vec<f32>,
    pub loss: f64,
    pub grad_norm: f64,
    /// The Hutchinson estimates of the four Jacobian blocks.
    pub hutchinson: [f64; 4],
}

/// One compared quantity: its largest difference relative to its largest magnitude.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub name: &'static str,
    pub reference: f64,
    pub other: f64,
    pub relative: f64,
}

/// Both backends' numbers, compared.
#[derive(Debug, Clone, Serialize)]
pub struct CrossCheckReport {
    pub backend: String,
    pub comparisons: Vec<Comparison>,
}

impl CrossCheckReport {
    /// True when every quantity agrees within `tolerance` (relative).
    pub fn passed(&self, tolerance: f64) -> bool {
        self.comparisons.iter().all(|c| c.relative <= tolerance)
    }

    /// One line per quantity.
    pub fn table(&self) -> String {
        let mut s = format!("flex vs {}:\n", self.backend);
        for c in &self.comparisons {
            s.push_str(&format!("  {:<16} flex {:>14.8e}  other {:>14.8e}  relative difference {:.2e}\n", c.name, c.reference, c.other, c.relative));
        }
        s
    }
}

/// Computes [`Numbers`] on backend `B` from serialised weights.
pub fn numbers<B: AutodiffBackend>(config: &LiftConfig, weights: &[u8], device: &B::Device) -> Numbers {
    let model: LiftUNet<B> = module_from_bytes(LiftUNet::new(&config.model, device), weights.to_vec(), device).expect("same config");
    let r = config.model.resolution;
    let host = |n: usize, side: usize, salt: f32| -> Vec<f32> { (0..n * 3 * side * side).map(|i| (i as f32 * 0.37 + salt).sin()).collect() };
    let x64 = Tensor::<B::InnerBackend, 4>::from_data(TensorData::new(host(2, r, 0.0), [2, 3, r, r]), device);
    let c = config.model.coarse_resolution();
    let x32 = Tensor::<B::InnerBackend, 4>::from_data(TensorData::new(host(2, c, 1.0), [2, 3, c, c]), device);
    let t = |v: [f32; 2]| Tensor::<B::InnerBackend, 1>::from_floats(v, device);
    let (e64, e32) = model.valid().forward(x64.clone(), x32.clone(), t([700.0, 20.0]), t([100.0, 950.0]));
    // One training step on a seeded batch of generated images.
    let images = (0..4).map(|k| (0..r * r * 3).map(|i| ((i * (k + 3) * 37) % 256) as u8).collect()).collect();
    let set = Arc::new(ImageSet::from_pixels(r, images).expect("4 images of the right size"));
    let source = Arc::new(NoiseSource::new(set, NoiseSchedule::reference()));
    let batch = EpochLoader::<B>::valid(source, (0..4).collect(), 4, 3, device.clone()).batch_of(1, 0);
    let losses = model.losses(&batch);
    let loss = losses.total.clone().into_scalar().elem::<f64>();
    let grads = GradientsParams::from_grads(losses.total.backward(), &model);
    let norm = grad_norm::<B, _>(&model, &grads).expect("gradients").into_scalar().elem::<f64>();
    // One Hutchinson cell.
    let grid = Grid::new(GridSpec::TLinspace { points: 10 }, &NoiseSchedule::reference()).expect("grid");
    let x0 = Images { x32: lift_core::model::resample::downsample_2x(x64.clone()), x64 };
    let cell = estimate_cell(&Analysed::new(model), &x0, &grid, (3, 6), 2, (5, 6), Estimator::Vjp, 64);
    Numbers {
        eps64: e64.into_data().to_vec().expect("f32"),
        eps32: e32.into_data().to_vec().expect("f32"),
        loss,
        grad_norm: norm,
        hutchinson: [cell.hh.mean, cell.hl.mean, cell.lh.mean, cell.ll.mean],
    }
}

fn compare_scalar(name: &'static str, a: f64, b: f64) -> Comparison {
    Comparison { name, reference: a, other: b, relative: (a - b).abs() / a.abs().max(b.abs()).max(f64::MIN_POSITIVE) }
}

fn compare_vec(name: &'static str, a: &[f32], b: &[f32]) -> Comparison {
    let scale = a.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
    let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max) as f64;
    Comparison { name, reference: scale, other: b.iter().fold(0f32, |m, x| m.max(x.abs())) as f64, relative: worst / scale }
}

/// Runs on the chosen backend and compares with flex; the tiny preset's model, seeded weights.
pub struct CrossCheck {
    pub config: LiftConfig,
    pub seed: u64,
}

impl BackendTask for CrossCheck {
    type Output = CrossCheckReport;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> CrossCheckReport {
        let cpu = Default::default();
        let net = seeded_module(LiftUNet::<CpuBackend>::new(&self.config.model, &cpu), self.seed);
        let weights = module_to_bytes(net).expect("weights serialise");
        let a = numbers::<CpuBackend>(&self.config, &weights, &cpu);
        let b = numbers::<B>(&self.config, &weights, &device);
        CrossCheckReport {
            backend: B::name(&device),
            comparisons: vec![
                compare_vec("forward eps64", &a.eps64, &b.eps64),
                compare_vec("forward eps32", &a.eps32, &b.eps32),
                compare_scalar("train loss", a.loss, b.loss),
                compare_scalar("gradient norm", a.grad_norm, b.grad_norm),
                compare_scalar("hutchinson HH", a.hutchinson[0], b.hutchinson[0]),
                compare_scalar("hutchinson HL", a.hutchinson[1], b.hutchinson[1]),
                compare_scalar("hutchinson LH", a.hutchinson[2], b.hutchinson[2]),
                compare_scalar("hutchinson LL", a.hutchinson[3], b.hutchinson[3]),
            ],
        }
    }
}

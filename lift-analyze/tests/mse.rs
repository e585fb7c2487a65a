//! The MSE tests follow the original's protocol (docs/protocol.md, "MSE tests"): whole batches of
//! 32 images in data-set order, the clean scale given as the image itself at t = 0 and scored
//! against zeros. A network whose output is exactly zero makes every number computable by hand.

use burn::backend::Flex;
use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::Tensor;
use lift_analyze::mse_test::{MseJob, MseReport};
use lift_core::checkpoint::save_module;
use lift_core::run::Weights;
use lift_core::study::MseProtocol;
use lift_core::{run_on, DeviceSpec, LiftConfig, LiftUNet, ModelKind};

mod common;
use common::{fake_run, png_folder};

struct Zero;

impl ModuleMapper<Flex> for Zero {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<Flex, D>>) -> Param<Tensor<Flex, D>> {
        param.map(|t| t.zeros_like())
    }
}

fn mse(protocol: MseProtocol, run: &std::path::Path, data: &std::path::Path) -> MseReport {
    let job = MseJob { run: run.to_path_buf(), weights: Weights::Raw, data: data.to_path_buf(), timestep: 500, samples: 5, protocol, seed: 1, batch: 7 };
    run_on(DeviceSpec::Cpu, job).unwrap().unwrap()
}

#[test]
fn the_reference_protocol_scores_the_clean_scale_against_zeros() {
    let run = fake_run("mse-zero", ModelKind::Lift);
    let config = LiftConfig::load(&run.join("config.toml")).unwrap();
    let zero = LiftUNet::<Flex>::new(&config.model, &Default::default()).map(&mut Zero);
    save_module(zero, &run.join("weights/raw.mpk")).unwrap();
    let data = png_folder("mse-zero", 40);
    let reference = mse(MseProtocol::Reference, &run, &data);
    // 5 images asked for: the first whole batch of 32 (of 39 training images) is used.
    assert_eq!(reference.samples, 32);
    let close = |a: f64, b: f64, tol: f64| (a - b).abs() < tol;
    for t in &reference.tests {
        // ε̂ = 0: a noisy scale's MSE is the mean of ε² over 32·3·16² (or 8²) normals ≈ 1.
        let noisy = |v: f64, n: f64| close(v, 1.0, 5.0 / n.sqrt());
        match t.name.as_str() {
            "1" => assert!(noisy(t.mse_64, 24576.0) && noisy(t.mse_32, 6144.0), "{t:?}"),
            "2a" => assert!(noisy(t.mse_64, 24576.0) && t.mse_32 == 0.0 && t.t32 == 0, "{t:?}"),
            "2b" => assert!(t.mse_64 == 0.0 && noisy(t.mse_32, 6144.0) && t.t64 == 0, "{t:?}"),
            other => panic!("unexpected test {other}"),
        }
        assert_eq!(t.mse_total, (t.mse_64 + t.mse_32) / 2.0);
    }
    // The scales are named by role and this run's real sizes, not the paper's 64×64 and 32×32.
    let table = reference.markdown();
    assert!(table.contains("MSE fine 16×16 | MSE coarse 8×8") && table.contains("clean coarse 8×8 + noisy fine 16×16"), "{table}");
    // The in-distribution variant noises the clean scale at t = 0 and keeps its noise as target.
    let noised = mse(MseProtocol::NoisedT0, &run, &data);
    assert_eq!(noised.samples, 5);
    let two_a = noised.tests.iter().find(|t| t.name == "2a").unwrap();
    assert!(two_a.mse_32 > 0.5, "{two_a:?}");
}

//! Model-level contracts: parameter counts from the facts, determinism and conditioning.

use burn::backend::Flex;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use lift_core::{BaselineUNet, LiftConfig, LiftUNet, ModelConfig};

type B = Flex;

fn model_config(dims: &[usize], time_embed_dim: usize, time_dim: usize) -> ModelConfig {
    ModelConfig {
        dims: dims.to_vec(),
        groups: 8,
        heads: 4,
        attention_min_channels: 128,
        time_embed_dim,
        time_dim,
        resolution: 64,
    }
}

#[test]
fn paper_parameter_counts_match_the_original() {
    // reference-facts.md: 58,475,206 (LIFT) and 58,274,627 (baseline) with [64,128,256,512].
    let config = LiftConfig::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/paper.toml")))
        .unwrap()
        .model;
    let dev = Default::default();
    assert_eq!(LiftUNet::<B>::new(&config, &dev).num_params(), 58_475_206);
    assert_eq!(BaselineUNet::<B>::new(&config, &dev).num_params(), 58_274_627);
}

#[test]
fn three_level_parameter_counts_match_the_original() {
    // reference-facts.md: the write-up's "14.7M baseline" is [64,128,256]: 14,729,795; LIFT 14,930,374.
    let config = model_config(&[64, 128, 256], 64, 256);
    let dev = Default::default();
    assert_eq!(BaselineUNet::<B>::new(&config, &dev).num_params(), 14_729_795);
    assert_eq!(LiftUNet::<B>::new(&config, &dev).num_params(), 14_930_374);
}

#[test]
fn tiny_parameter_counts_by_hand() {
    // dims [32,64,128], embedding 32, time 128. conv(i,o,k) = i·o·k² + o, linear(i,o) = i·o + o,
    // GroupNorm(c) = 2c; res(i,o) = gn(i) + conv(i,o,3) + linear(128,o) + gn(o) + conv(o,o,3)
    // [+ conv(i,o,1) if i≠o]; attn(c) = gn(c) + conv(c,3c,1) + conv(c,c,1).
    //   conv_in 6→32: 1,760      time MLP 32→128→128: 20,736     combine 256→128→128: 49,408
    //   enc 32: 2·res(32,32)=45,504 + down 16,416 = 61,920
    //   enc 64: res(32,64) 65,984 + res(64,64) 82,368 + down 65,600 = 213,952
    //   enc 128: res(64,128) 246,656 + res(128,128) 312,192 + attn 66,304 + down 262,272 = 887,424
    //   mid: 2·312,192 + 66,304 = 690,688
    //   dec 128: up 262,272 + res(256,128) 492,800 + 312,192 + attn 66,304 = 1,133,568
    //   dec 64: up(128) 262,272 + res(192,64) 168,704 + res(64,64) 82,368 = 513,344
    //   dec 32: up(64) 65,600 + res(96,32) 44,416 + res(32,32) 22,752 = 132,768
    //   out: gn 64 + conv 32→6 1,734 = 1,798                           total 3,707,366
    // Baseline: conv_in 3→32 is 864 fewer, no combine MLP (−49,408), conv_out 32→3 is 867 fewer.
    let config = LiftConfig::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/tiny.toml")))
        .unwrap()
        .model;
    assert_eq!(config, model_config(&[32, 64, 128], 32, 128));
    let dev = Default::default();
    assert_eq!(LiftUNet::<B>::new(&config, &dev).num_params(), 3_707_366);
    assert_eq!(BaselineUNet::<B>::new(&config, &dev).num_params(), 3_707_366 - 864 - 49_408 - 867);
}

fn small_config() -> ModelConfig {
    ModelConfig { resolution: 16, ..model_config(&[8, 16], 8, 16) }
}

fn inputs(seed: u64) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let dev = Default::default();
    B::seed(&dev, seed);
    (
        Tensor::random([2, 3, 16, 16], Distribution::Normal(0.0, 1.0), &dev),
        Tensor::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &dev),
    )
}

fn lift(seed: u64) -> LiftUNet<B> {
    let dev = Default::default();
    B::seed(&dev, seed);
    LiftUNet::new(&small_config(), &dev)
}

fn max_abs_diff(a: Tensor<B, 4>, b: Tensor<B, 4>) -> f32 {
    (a - b).abs().max().into_scalar()
}

#[test]
fn lift_forward_shapes_and_determinism() {
    let dev = Default::default();
    let (x64, x32) = inputs(1);
    let t = |v: f32| Tensor::<B, 1>::from_floats([v, v], &dev);
    let (e64a, e32a) = lift(7).forward(x64.clone(), x32.clone(), t(500.0), t(200.0));
    let (e64b, e32b) = lift(7).forward(x64, x32, t(500.0), t(200.0));
    assert_eq!(e64a.dims(), [2, 3, 16, 16]);
    assert_eq!(e32a.dims(), [2, 3, 8, 8]);
    assert_eq!(max_abs_diff(e64a, e64b), 0.0);
    assert_eq!(max_abs_diff(e32a, e32b), 0.0);
}

#[test]
fn changing_t32_alone_changes_eps64() {
    let dev = Default::default();
    let (x64, x32) = inputs(2);
    let model = lift(3);
    let t = |v: f32| Tensor::<B, 1>::from_floats([v, v], &dev);
    let (a, _) = model.forward(x64.clone(), x32.clone(), t(500.0), t(100.0));
    let (b, _) = model.forward(x64.clone(), x32.clone(), t(500.0), t(900.0));
    assert!(max_abs_diff(a.clone(), b) > 1e-4, "t32 does not condition eps64");
    let (c, _) = model.forward(x64, x32, t(400.0), t(100.0));
    assert!(max_abs_diff(a, c) > 1e-4, "t64 does not condition eps64");
}

#[test]
fn baseline_forward_shape() {
    let dev = Default::default();
    let (x, _) = inputs(4);
    let model = BaselineUNet::<B>::new(&small_config(), &dev);
    let y = model.forward(x, Tensor::from_floats([10.0, 999.0], &dev));
    assert_eq!(y.dims(), [2, 3, 16, 16]);
}

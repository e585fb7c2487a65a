//! Model-level contracts: parameter counts from the facts, determinism and conditioning.

use burn::backend::Flex;
use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use lift_core::model::init::seeded_module;
use lift_core::seed::seeded_tensor;
use lift_core::{BaselineUNet, LiftConfig, LiftUNet, ModelConfig};

type B = Flex;

fn model_config(dims: &[usize], time_embed_dim: usize, time_dim: usize) -> ModelConfig {
    ModelConfig { dims: dims.to_vec(), groups: 8, heads: 4, attention_min_channels: 128, time_embed_dim, time_dim, resolution: 64 }
}

#[test]
fn paper_parameter_counts_match_the_original() {
    // reference-facts.md: 58,475,206 (LIFT) and 58,274,627 (baseline) with [64,128,256,512].
    let config = LiftConfig::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/paper.toml"))).unwrap().model;
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
    // dims [16,32,64], embedding 16, time 64, attention at 64 channels. conv(i,o,k) = i·o·k² + o,
    // linear(i,o) = i·o + o, GroupNorm(c) = 2c; res(i,o) = gn(i) + conv(i,o,3) + linear(64,o) + gn(o)
    // + conv(o,o,3) [+ conv(i,o,1) if i≠o]; attn(c) = gn(c) + conv(c,3c,1) + conv(c,c,1).
    //   res(16,16) 5,744  res(16,32) 16,608  res(32,32) 20,704  res(32,64) 61,888  res(64,64) 78,272
    //   res(128,64) 123,520  res(96,32) 42,368  res(48,16) 11,200  attn(64) 16,768
    //   conv_in 6→16: 880      time MLP 16→64→64: 5,248     combine 128→64→64: 12,416
    //   enc 16: 2·5,744 + down conv(16,16,4) 4,112 = 15,600
    //   enc 32: 16,608 + 20,704 + down 16,416 = 53,728
    //   enc 64: 61,888 + 78,272 + 16,768 + down 65,600 = 222,528
    //   mid: 2·78,272 + 16,768 = 173,312
    //   dec 64: up 65,600 + 123,520 + 78,272 + 16,768 = 284,160
    //   dec 32: up(64) 65,600 + 42,368 + 20,704 = 128,672
    //   dec 16: up(32) 16,416 + 11,200 + 5,744 = 33,360
    //   out: gn 32 + conv 16→6 870 = 902                               total 930,806
    // Baseline: conv_in 3→16 is 432 fewer, no combine MLP (−12,416), conv_out 16→3 is 435 fewer.
    let config = LiftConfig::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/tiny.toml"))).unwrap().model;
    let expected = ModelConfig { attention_min_channels: 64, resolution: 32, ..model_config(&[16, 32, 64], 16, 64) };
    assert_eq!(config, expected);
    let dev = Default::default();
    assert_eq!(LiftUNet::<B>::new(&config, &dev).num_params(), 930_806);
    assert_eq!(BaselineUNet::<B>::new(&config, &dev).num_params(), 930_806 - 432 - 12_416 - 435);
}

fn small_config() -> ModelConfig {
    ModelConfig { resolution: 16, ..model_config(&[8, 16], 8, 16) }
}

fn inputs(seed: u64) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let dev = Default::default();
    (
        seeded_tensor([2, 3, 16, 16], Distribution::Normal(0.0, 1.0), 2 * seed, &dev),
        seeded_tensor([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), 2 * seed + 1, &dev),
    )
}

fn lift(seed: u64) -> LiftUNet<B> {
    let dev = Default::default();
    seeded_module(LiftUNet::new(&small_config(), &dev), seed)
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
    let model = seeded_module(BaselineUNet::<B>::new(&small_config(), &dev), 4);
    let y = model.forward(x, Tensor::from_floats([10.0, 999.0], &dev));
    assert_eq!(y.dims(), [2, 3, 16, 16]);
}

#[test]
fn sampling_in_cpu_parts_gives_the_whole_batch_s_images() {
    use lift_core::pipeline::{sample_baseline, sample_lift};
    use lift_core::{NoiseSchedule, SamplingPath};
    let dev = Default::default();
    let (x64, x32) =
        (seeded_tensor([3, 3, 16, 16], Distribution::Normal(0.0, 1.0), 11, &dev), seeded_tensor([3, 3, 8, 8], Distribution::Normal(0.0, 1.0), 12, &dev));
    let (net, base) = (lift(5), seeded_module(BaselineUNet::<B>::new(&small_config(), &dev), 6));
    let (schedule, timesteps) = (NoiseSchedule::reference(), vec![999, 600, 300, 0]);
    let path = SamplingPath::diagonal(&timesteps);
    // One thread samples the batch whole; two and three threads in parts of 2 + 1 and 1 + 1 + 1.
    let on = |threads| {
        lift_cpu::threads::run_in_pool(threads, || {
            let (a, b) = sample_lift(&net, &schedule, &path, x64.clone(), x32.clone());
            (a, b, sample_baseline(&base, &schedule, &timesteps, x64.clone()))
        })
        .unwrap()
    };
    let whole = on(1);
    for threads in [2, 3] {
        let parts = on(threads);
        assert_eq!(parts.0.dims(), [3, 3, 16, 16]);
        assert!(max_abs_diff(whole.0.clone(), parts.0) < 1e-6, "{threads} threads: x64");
        assert!(max_abs_diff(whole.1.clone(), parts.1) < 1e-6, "{threads} threads: x32");
        assert!(max_abs_diff(whole.2.clone(), parts.2) < 1e-6, "{threads} threads: baseline");
    }
}

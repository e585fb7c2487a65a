//! The CPU convolution kernels against Burn's generic path: the same outputs and the same
//! gradients for input, weight and bias, for every convolution the UNets use and a few more.

use burn::backend::{Autodiff, Flex};
use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::{Distribution, Tensor};
use lift_cpu::{kernel_calls, FastForward};

type B = Autodiff<Flex>;

/// The largest difference relative to the reference's largest magnitude.
fn relative_gap<const D: usize>(got: Tensor<Flex, D>, want: Tensor<Flex, D>) -> f32 {
    assert_eq!(got.dims(), want.dims());
    let scale = want.clone().abs().max().into_scalar().max(1e-6);
    (got - want).abs().max().into_scalar() / scale
}

fn input(dims: [usize; 4]) -> Tensor<B, 4> {
    Tensor::<B, 4>::random(dims, Distribution::Normal(0.0, 1.0), &Default::default()).require_grad()
}

/// Output, then the gradients of input, weight and bias, of `<f(x), v>` for a fixed random `v`.
fn value_and_gradients<const W: usize>(
    x: Tensor<B, 4>,
    weight: &Param<Tensor<B, W>>,
    bias: &Param<Tensor<B, 1>>,
    v: &Tensor<B, 4>,
    f: impl Fn(Tensor<B, 4>) -> Tensor<B, 4>,
) -> [Tensor<Flex, 4>; 4] {
    let y = f(x.clone());
    let grads = (y.clone() * v.clone()).sum().backward();
    let w_grad = weight.val().grad(&grads).expect("weight gradient");
    let b_grad = bias.val().grad(&grads).expect("bias gradient");
    [y.inner(), x.grad(&grads).expect("input gradient"), w_grad.unsqueeze::<4>(), b_grad.unsqueeze::<4>()]
}

fn assert_same(name: &str, ours: [Tensor<Flex, 4>; 4], burns: [Tensor<Flex, 4>; 4]) {
    for (what, (a, b)) in ["output", "input grad", "weight grad", "bias grad"].iter().zip(ours.into_iter().zip(burns)) {
        let gap = relative_gap(a, b);
        assert!(gap < 1e-5, "{name}: {what} differs by {gap:e} of its scale");
    }
}

/// Ours against Burn's for one layer (weight, bias), on a random input of `x` dims; the calls the
/// kernels answered while ours ran.
fn compare(
    name: &str,
    x: [usize; 4],
    (w, b): (&Param<Tensor<B, 4>>, &Param<Tensor<B, 1>>),
    ours: impl Fn(Tensor<B, 4>) -> Tensor<B, 4>,
    burns: impl Fn(Tensor<B, 4>) -> Tensor<B, 4>,
) -> usize {
    let x = input(x);
    let v = Tensor::<B, 4>::random(burns(x.clone()).dims(), Distribution::Normal(0.0, 1.0), &Default::default());
    let before = kernel_calls();
    let ours = value_and_gradients(x.clone().detach().require_grad(), w, b, &v, ours);
    let calls = kernel_calls() - before;
    let burns = value_and_gradients(x.detach().require_grad(), w, b, &v, burns);
    assert_same(name, ours, burns);
    calls
}

/// Compares a convolution that the kernels cover (`kernel`) or leave to Burn.
fn check_conv(name: &str, x: [usize; 4], conv: Conv2d<B>, kernel: bool) {
    let calls = compare(name, x, (&conv.weight, conv.bias.as_ref().unwrap()), |x| conv.fast_forward(x), |x| conv.forward(x));
    assert_eq!(calls > 0, kernel, "{name}: {calls} kernel calls");
}

#[test]
fn convolutions_match_burns_values_and_gradients() {
    let dev = Default::default();
    let explicit = |p| PaddingConfig2d::Explicit(p, p, p, p);
    check_conv("3x3 pad 1", [3, 5, 8, 8], Conv2dConfig::new([5, 7], [3, 3]).with_padding(explicit(1)).init(&dev), true);
    check_conv("1x1", [2, 6, 5, 7], Conv2dConfig::new([6, 4], [1, 1]).init(&dev), true);
    let down = Conv2dConfig::new([4, 4], [4, 4]).with_stride([2, 2]).with_padding(explicit(1));
    check_conv("4x4 stride 2", [2, 4, 8, 8], down.init(&dev), true);
    check_conv("batch 1, odd size", [1, 3, 7, 9], Conv2dConfig::new([3, 2], [3, 3]).with_padding(explicit(1)).init(&dev), true);
    let odd = Conv2dConfig::new([2, 3], [3, 2]).with_stride([2, 1]).with_dilation([2, 1]).with_padding(explicit(2));
    check_conv("dilated, strided, rectangular", [2, 2, 9, 6], odd.init(&dev), true);
    // Asymmetric padding goes through Burn's path, which must still work.
    check_conv("asymmetric", [1, 2, 6, 6], Conv2dConfig::new([2, 2], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 0, 2, 1)).init(&dev), false);
}

fn check_transposed(name: &str, x: [usize; 4], conv: ConvTranspose2d<B>) {
    let calls = compare(name, x, (&conv.weight, conv.bias.as_ref().unwrap()), |x| conv.fast_forward(x), |x| conv.forward(x));
    assert!(calls > 0, "{name}: Burn's path ran");
}

#[test]
fn transposed_convolutions_match_burns_values_and_gradients() {
    let dev = Default::default();
    let up = ConvTranspose2dConfig::new([4, 3], [4, 4]).with_stride([2, 2]).with_padding([1, 1]);
    check_transposed("4x4 stride 2 (the UNet's)", [2, 4, 8, 8], up.init(&dev));
    check_transposed("3x3", [3, 2, 5, 6], ConvTranspose2dConfig::new([2, 5], [3, 3]).init(&dev));
    let padded_out = ConvTranspose2dConfig::new([3, 2], [3, 3]).with_stride([2, 2]).with_padding([1, 1]).with_padding_out([1, 1]);
    check_transposed("output padding", [1, 3, 4, 5], padded_out.init(&dev));
}

#[test]
fn inference_without_autodiff_matches_too() {
    let dev = Default::default();
    let conv = Conv2dConfig::new([3, 4], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init::<Flex>(&dev);
    let x = Tensor::<Flex, 4>::random([2, 3, 6, 6], Distribution::Normal(0.0, 1.0), &dev);
    let before = kernel_calls();
    assert!(relative_gap(conv.fast_forward(x.clone()), conv.forward(x.clone())) < 1e-5);
    assert_eq!(kernel_calls(), before + 1, "the kernel ran");
    // A strided (permuted) input is read correctly.
    let xt = x.swap_dims(2, 3);
    assert!(relative_gap(conv.fast_forward(xt.clone()), conv.forward(xt)) < 1e-5);
}

#[test]
fn pooling_matches_burns_without_autodiff() {
    use burn::tensor::module;
    use lift_cpu::{avg_pool2d, max_pool2d};
    let dev = Default::default();
    // The Inception network's pools, the UNets' 2× downsample, and a rectangular one.
    for (dims, k, s, p) in [
        ([2, 5, 35, 35], [3, 3], [1, 1], [1, 1]),
        ([2, 3, 17, 17], [3, 3], [2, 2], [0, 0]),
        ([1, 4, 8, 8], [8, 8], [8, 8], [0, 0]),
        ([3, 2, 16, 16], [2, 2], [2, 2], [0, 0]),
        ([1, 2, 9, 7], [3, 2], [2, 1], [1, 1]),
    ] {
        let x = Tensor::<Flex, 4>::random(dims, Distribution::Normal(0.0, 1.0), &dev);
        let before = kernel_calls();
        let max = relative_gap(max_pool2d(x.clone(), k, s, p), module::max_pool2d(x.clone(), k, s, p, [1, 1], false));
        assert_eq!(kernel_calls(), before + 1, "max pool {dims:?} {k:?}: the kernel ran");
        assert!(max < 1e-6, "max pool {dims:?} {k:?}: {max:e}");
        for include in [true, false] {
            let avg = relative_gap(avg_pool2d(x.clone(), k, s, p, include), module::avg_pool2d(x.clone(), k, s, p, include, false));
            assert!(avg < 1e-6, "average pool {dims:?} {k:?}, count_include_pad {include}: {avg:e}");
        }
    }
    // Under autodiff Burn's path runs, gradients included.
    let x = input([1, 2, 6, 6]);
    let grads = avg_pool2d(x.clone(), [2, 2], [2, 2], [0, 0], true).sum().backward();
    assert!(relative_gap(x.grad(&grads).unwrap(), Tensor::full([1, 2, 6, 6], 0.25, &dev)) < 1e-6);
}

#[test]
fn fused_relu_and_channel_concatenation_match_burns() {
    use burn::tensor::activation::relu;
    use lift_cpu::{cat_channels, conv2d_relu};
    let dev = Default::default();
    for (conv, dims) in [
        (Conv2dConfig::new([3, 5], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)), [2, 3, 9, 7]),
        (Conv2dConfig::new([4, 6], [1, 1]), [3, 4, 5, 5]),
    ] {
        let conv = conv.init::<Flex>(&dev);
        let x = Tensor::<Flex, 4>::random(dims, Distribution::Normal(0.0, 1.0), &dev);
        let want = relu(conv.forward(x.clone()));
        assert!(want.clone().equal_elem(0.0).int().sum().into_scalar() > 0, "some outputs are clipped");
        let before = kernel_calls();
        assert!(relative_gap(conv2d_relu(&conv, x), want) < 1e-5);
        assert_eq!(kernel_calls(), before + 1, "conv+ReLU in one kernel call");
    }
    let parts: Vec<Tensor<Flex, 4>> = [2, 1, 3].iter().map(|&c| Tensor::random([2, c, 4, 3], Distribution::Normal(0.0, 1.0), &dev)).collect();
    let before = kernel_calls();
    assert!(relative_gap(cat_channels(parts.clone()), Tensor::cat(parts, 1)) == 0.0);
    assert_eq!(kernel_calls(), before + 1, "the kernel joined the channels");
    // Under autodiff Burn's ops run, gradients included.
    let x = input([1, 2, 3, 3]);
    let grads = cat_channels(vec![x.clone(), x.clone().mul_scalar(2.0)]).sum().backward();
    assert!(relative_gap(x.grad(&grads).unwrap(), Tensor::full([1, 2, 3, 3], 3.0, &dev)) < 1e-6);
}

/// GroupNorm (then SiLU) through the kernel and through Burn's layer, with random γ and β.
fn check_group_norm(x: [usize; 4], groups: usize, with_silu: bool) {
    use burn::nn::GroupNormConfig;
    use burn::tensor::activation::silu;
    use lift_cpu::{group_norm, NormShape};
    let dev = Default::default();
    let c = x[1];
    let random1 = || Tensor::<B, 1>::random([c], Distribution::Normal(0.5, 1.0), &dev).require_grad();
    let (gamma, beta) = (Param::from_tensor(random1()), Param::from_tensor(random1()));
    let mut layer = GroupNormConfig::new(groups, c).init::<B>(&dev);
    layer.gamma = Some(gamma.clone());
    layer.beta = Some(beta.clone());
    let x = input(x).mul_scalar(2.0).add_scalar(0.3);
    let [b, _, h, w] = x.dims();
    let shape = NormShape { batch: b, channels: c, groups, positions: h * w, epsilon: 1e-5, silu: with_silu };
    let v = Tensor::<B, 4>::random(x.dims(), Distribution::Normal(0.0, 1.0), &dev);
    let kernel = |x| group_norm(&shape, x, gamma.val(), beta.val(), |_| panic!("the kernel declined"));
    let ours = value_and_gradients(x.clone().detach().require_grad(), &gamma, &beta, &v, kernel);
    let reference = |x| if with_silu { silu(layer.forward(x)) } else { layer.forward(x) };
    let burns = value_and_gradients(x.detach().require_grad(), &gamma, &beta, &v, reference);
    assert_same(&format!("group norm, silu {with_silu}"), ours, burns);
}

#[test]
fn group_norm_matches_burns_values_and_gradients() {
    check_group_norm([3, 8, 5, 6], 4, true);
    check_group_norm([2, 6, 4, 4], 3, false);
    check_group_norm([1, 16, 8, 8], 8, true);
}

#[test]
fn gradients_are_the_same_bits_on_any_number_of_threads() {
    use burn::tensor::TensorData;
    let gradients = |threads| {
        lift_cpu::threads::run_in_pool(threads, || {
            let dev = Default::default();
            let conv: Conv2d<B> = Conv2dConfig::new([4, 6], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(&dev);
            let weights: Vec<f32> = (0..6 * 4 * 9).map(|i| (i as f32 * 0.71).cos() * 0.2).collect();
            // Fixed weights and bias: the layer's initialiser draws fresh ones each call.
            let bias = Param::from_tensor(Tensor::from_data(TensorData::new(vec![0.1f32, -0.2, 0.3, 0.0, 0.5, -0.4], [6]), &dev));
            let conv = Conv2d { weight: Param::from_tensor(Tensor::from_data(TensorData::new(weights, [6, 4, 3, 3]), &dev)), bias: Some(bias), ..conv };
            let values: Vec<f32> = (0..6 * 4 * 9 * 9).map(|i| (i as f32 * 0.37).sin()).collect();
            let x = Tensor::<B, 4>::from_data(TensorData::new(values, [6, 4, 9, 9]), &dev).require_grad();
            let grads = conv.fast_forward(x).powi_scalar(2).sum().backward();
            let w = conv.weight.val().grad(&grads).unwrap();
            w.into_data().to_vec::<f32>().unwrap()
        })
        .unwrap()
    };
    assert_eq!(gradients(1), gradients(3));
}

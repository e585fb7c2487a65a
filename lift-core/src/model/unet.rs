//! The UNet body shared by every model (LIFT, the baseline, the single-output ablations): encoder,
//! bottleneck, decoder, output head. The models differ only in input/output channels and in how
//! the time vector is made (or whether there is one).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::{backend::Backend, Tensor};

use super::attention::SelfAttention;
use super::norm::GroupNorm;
use super::resblock::{conv3x3, ResBlock};
use crate::config::ModelConfig;
use lift_cpu::FastForward;

/// Res, Res, optional attention, then a 4×4 stride-2 downsampling conv.
#[derive(Module, Debug)]
struct EncoderLevel<B: Backend> {
    res1: ResBlock<B>,
    res2: ResBlock<B>,
    attn: Option<SelfAttention<B>>,
    down: Conv2d<B>,
}

/// 4×4 stride-2 transposed conv, concat the skip, Res, Res, optional attention.
#[derive(Module, Debug)]
struct DecoderLevel<B: Backend> {
    up: ConvTranspose2d<B>,
    res1: ResBlock<B>,
    res2: ResBlock<B>,
    attn: Option<SelfAttention<B>>,
}

/// The UNet from `c_in` input channels to `c_out` output channels.
#[derive(Module, Debug)]
pub struct UNetBody<B: Backend> {
    conv_in: Conv2d<B>,
    encoder: Vec<EncoderLevel<B>>,
    mid1: ResBlock<B>,
    mid_attn: SelfAttention<B>,
    mid2: ResBlock<B>,
    decoder: Vec<DecoderLevel<B>>,
    norm_out: GroupNorm<B>,
    conv_out: Conv2d<B>,
}

impl<B: Backend> UNetBody<B> {
    /// Builds the body for a validated `config`; `timed` = false leaves out every block's time
    /// projection (the untimed ablation).
    pub fn new(config: &ModelConfig, c_in: usize, c_out: usize, timed: bool, device: &B::Device) -> Self {
        let (g, td, heads) = (config.groups, timed.then_some(config.time_dim), config.heads);
        let attn = |c: usize| (c >= config.attention_min_channels).then(|| SelfAttention::new(c, heads, g, device));
        let mut encoder = Vec::new();
        let mut prev = config.dims[0];
        for &c in &config.dims {
            encoder.push(EncoderLevel {
                res1: ResBlock::new(prev, c, td, g, device),
                res2: ResBlock::new(c, c, td, g, device),
                attn: attn(c),
                down: Conv2dConfig::new([c, c], [4, 4]).with_stride([2, 2]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device),
            });
            prev = c;
        }
        let mid = prev;
        let mut decoder = Vec::new();
        for &c in config.dims.iter().rev() {
            decoder.push(DecoderLevel {
                up: ConvTranspose2dConfig::new([prev, prev], [4, 4]).with_stride([2, 2]).with_padding([1, 1]).init(device),
                res1: ResBlock::new(prev + c, c, td, g, device),
                res2: ResBlock::new(c, c, td, g, device),
                attn: attn(c),
            });
            prev = c;
        }
        Self {
            conv_in: conv3x3(c_in, config.dims[0], device),
            encoder,
            mid1: ResBlock::new(mid, mid, td, g, device),
            mid_attn: SelfAttention::new(mid, heads, g, device),
            mid2: ResBlock::new(mid, mid, td, g, device),
            decoder,
            norm_out: GroupNorm::new(g, config.dims[0], device),
            conv_out: conv3x3(config.dims[0], c_out, device),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, c_in, res, res]`, `t`: `[batch, time_dim]` (`None` for an untimed body) →
    ///   `[batch, c_out, res, res]`
    pub fn forward(&self, x: Tensor<B, 4>, t: Option<Tensor<B, 2>>) -> Tensor<B, 4> {
        let mut h = self.conv_in.fast_forward(x);
        let mut skips = Vec::with_capacity(self.encoder.len());
        for level in &self.encoder {
            h = level.res1.forward(h, t.clone());
            h = level.res2.forward(h, t.clone());
            if let Some(attn) = &level.attn {
                h = attn.forward(h);
            }
            skips.push(h.clone());
            h = level.down.fast_forward(h);
        }
        h = self.mid1.forward(h, t.clone());
        h = self.mid_attn.forward(h);
        h = self.mid2.forward(h, t.clone());
        for level in &self.decoder {
            let skip = skips.pop().expect("one skip per level");
            h = Tensor::cat(vec![level.up.fast_forward(h), skip], 1);
            h = level.res1.forward(h, t.clone());
            h = level.res2.forward(h, t.clone());
            if let Some(attn) = &level.attn {
                h = attn.forward(h);
            }
        }
        self.conv_out.fast_forward(self.norm_out.forward_silu(h))
    }
}

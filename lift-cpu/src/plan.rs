//! Which of the batched kernels a conv2d or conv_transpose2d call maps onto, and in which roles:
//! a transposed convolution is the adjoint of the convolution whose image is its output.

use crate::conv::{add_bias, channel_sums, weight_gradient, windows_adjoint, windows_forward, ConvShape};
use crate::im2col::Geometry;

/// The direction of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKind {
    /// conv2d: the input is the image, the output the window side.
    Forward,
    /// conv_transpose2d: the input is the window side, the output the image.
    Transposed,
}

/// A convolution call the kernels can run: groups 1, symmetric padding, sizes that agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvPlan {
    pub kind: ConvKind,
    pub shape: ConvShape,
    /// ReLU on the output, in the same pass as the bias (inference only: no backward for it).
    pub relu: bool,
}

impl ConvPlan {
    /// conv2d of `x` `[batch, channels, h, w]` with `weight` `[features, channels, kh, kw]`.
    pub fn conv2d(x: [usize; 4], weight: [usize; 4], stride: [usize; 2], padding: [usize; 2], dilation: [usize; 2]) -> Option<Self> {
        let [batch, channels, h, w] = x;
        let [features, w_channels, kh, kw] = weight;
        if w_channels != channels || features == 0 {
            return None;
        }
        let geometry = Geometry::new(channels, [h, w], [kh, kw], stride, padding, dilation)?;
        Some(Self { kind: ConvKind::Forward, shape: ConvShape { batch, features, geometry }, relu: false })
    }

    /// conv_transpose2d of `x` `[batch, features, h, w]` with `weight` `[features, channels, kh, kw]`.
    pub fn conv_transpose2d(
        x: [usize; 4],
        weight: [usize; 4],
        stride: [usize; 2],
        padding: [usize; 2],
        padding_out: [usize; 2],
        dilation: [usize; 2],
    ) -> Option<Self> {
        let [batch, features, h, w] = x;
        let [w_features, channels, kh, kw] = weight;
        if w_features != features || features == 0 {
            return None;
        }
        // (n − 1)·s − 2p + d·(k − 1) + output padding + 1, as PyTorch sizes a transposed conv.
        let mut image = [0; 2];
        for (d, n) in [h, w].into_iter().enumerate() {
            let reach = dilation[d] * [kh, kw][d].checked_sub(1)?;
            image[d] = (n.checked_sub(1)? * stride[d] + reach + padding_out[d] + 1).checked_sub(2 * padding[d])?;
        }
        let geometry = Geometry::new(channels, image, [kh, kw], stride, padding, dilation)?;
        // The output padding rows are read by no window of the input: the sizes must round-trip.
        (geometry.out == [h, w]).then_some(Self { kind: ConvKind::Transposed, shape: ConvShape { batch, features, geometry }, relu: false })
    }

    /// Dimensions of the call's input.
    pub fn input_dims(&self) -> [usize; 4] {
        match self.kind {
            ConvKind::Forward => self.image_dims(),
            ConvKind::Transposed => self.window_dims(),
        }
    }

    /// Dimensions of the call's output.
    pub fn output_dims(&self) -> [usize; 4] {
        match self.kind {
            ConvKind::Forward => self.window_dims(),
            ConvKind::Transposed => self.image_dims(),
        }
    }

    fn image_dims(&self) -> [usize; 4] {
        let g = &self.shape.geometry;
        [self.shape.batch, g.channels, g.image[0], g.image[1]]
    }

    fn window_dims(&self) -> [usize; 4] {
        let g = &self.shape.geometry;
        [self.shape.batch, self.shape.features, g.out[0], g.out[1]]
    }

    /// The output of the call.
    pub fn forward(&self, x: &[f32], weight: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
        match self.kind {
            ConvKind::Forward => windows_forward(&self.shape, x, weight, bias, self.relu),
            ConvKind::Transposed => {
                let mut y = windows_adjoint(&self.shape, weight, x);
                add_bias(&mut y, self.shape.geometry.image[0] * self.shape.geometry.image[1], bias, self.relu);
                y
            }
        }
    }

    /// The gradient of the input from the output's gradient `dy`.
    pub fn input_gradient(&self, weight: &[f32], dy: &[f32]) -> Vec<f32> {
        match self.kind {
            ConvKind::Forward => windows_adjoint(&self.shape, weight, dy),
            ConvKind::Transposed => windows_forward(&self.shape, dy, weight, None, false),
        }
    }

    /// The gradient of the weight from the input `x` and the output's gradient `dy`.
    pub fn weight_gradient(&self, x: &[f32], dy: &[f32]) -> Vec<f32> {
        match self.kind {
            ConvKind::Forward => weight_gradient(&self.shape, x, dy),
            ConvKind::Transposed => weight_gradient(&self.shape, dy, x),
        }
    }

    /// The gradient of the bias from the output's gradient `dy`.
    pub fn bias_gradient(&self, dy: &[f32]) -> Vec<f32> {
        let [batch, channels, ..] = self.output_dims();
        channel_sums(dy, batch, channels)
    }
}

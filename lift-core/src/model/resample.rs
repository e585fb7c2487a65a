//! Exact 2× resampling between the scales, differentiable on every backend.
//!
//! Burn's bilinear `interpolate` has no backward on wgpu/cuda and defaults to align_corners = true;
//! the original used PyTorch's align_corners = false. Upsampling is therefore two matmuls with a
//! fixed interpolation matrix, and downsampling is 2×2 average pooling, which is what bilinear with
//! align_corners = false computes for an exact factor of 2.

use burn::tensor::{backend::Backend, Tensor, TensorData};

use super::embedding::float_dtype;
use lift_cpu::avg_pool2d;

/// Row `o` holds the weights of the input pixels that output pixel `o` reads, for a bilinear
/// 2× upsample with align_corners = false: source = max(0, (o + 0.5)/2 − 0.5), clamped at the end.
pub fn upsample_matrix(n_in: usize) -> Vec<f32> {
    let n_out = 2 * n_in;
    let mut m = vec![0f32; n_out * n_in];
    for o in 0..n_out {
        let src = ((o as f64 + 0.5) / 2.0 - 0.5).max(0.0);
        let i0 = (src.floor() as usize).min(n_in - 1);
        let i1 = (i0 + 1).min(n_in - 1);
        let w1 = src - i0 as f64;
        m[o * n_in + i0] += (1.0 - w1) as f32;
        m[o * n_in + i1] += w1 as f32;
    }
    m
}

/// Applies `out = R·x·Cᵀ` to every image: `rows` is `[out_h, h]` and `cols` `[out_w, w]`, row-major,
/// the rows of each matrix holding the weights of one output pixel. The width is resampled first,
/// as PyTorch does.
///
/// # Shapes
/// - `x`: `[batch, c, h, w]` → `[batch, c, out_h, out_w]`
pub fn resample_separable<B: Backend>(x: Tensor<B, 4>, rows: &[f32], out_h: usize, cols: &[f32], out_w: usize) -> Tensor<B, 4> {
    let [b, c, h, w] = x.dims();
    assert_eq!(rows.len(), out_h * h, "row matrix must be [{out_h}, {h}]");
    assert_eq!(cols.len(), out_w * w, "column matrix must be [{out_w}, {w}]");
    let device = x.device();
    let dtype = x.dtype();
    let transposed = |m: &[f32], n_out: usize, n_in: usize| {
        let mut t = vec![0f32; m.len()];
        for o in 0..n_out {
            for i in 0..n_in {
                t[i * n_out + o] = m[o * n_in + i];
            }
        }
        Tensor::<B, 2>::from_data(TensorData::new(t, [n_in, n_out]), &device).cast(float_dtype(dtype))
    };
    let along_w = x.reshape([b * c * h, w]).matmul(transposed(cols, out_w, w));
    let along_h = along_w.reshape([b, c, h, out_w]).swap_dims(2, 3).reshape([b * c * out_w, h]);
    along_h.matmul(transposed(rows, out_h, h)).reshape([b, c, out_w, out_h]).swap_dims(2, 3)
}

/// Bilinear 2× upsample, align_corners = false.
///
/// # Shapes
/// - `x`: `[batch, c, h, w]` → `[batch, c, 2h, 2w]`
pub fn upsample_2x<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [_, _, h, w] = x.dims();
    resample_separable(x, &upsample_matrix(h), 2 * h, &upsample_matrix(w), 2 * w)
}

/// 2× downsample: bilinear with align_corners = false, which is 2×2 average pooling.
///
/// # Shapes
/// - `x`: `[batch, c, h, w]` → `[batch, c, h/2, w/2]`
pub fn downsample_2x<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    avg_pool2d(x, [2, 2], [2, 2], [0, 0], true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::module::interpolate;
    use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

    type B = Flex;

    fn ramp(b: usize, c: usize, h: usize, w: usize) -> Tensor<B, 4> {
        let n = b * c * h * w;
        let v: Vec<f32> = (0..n).map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0).collect();
        Tensor::from_data(TensorData::new(v, [b, c, h, w]), &Default::default())
    }

    #[test]
    fn bilinear_downsample_equals_average_pooling() {
        let x = ramp(2, 3, 8, 8);
        let bilinear = interpolate(x.clone(), [4, 4], InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false));
        let pooled = downsample_2x(x);
        let diff: f32 = (bilinear - pooled).abs().max().into_scalar();
        assert!(diff < 1e-6, "{diff}");
    }

    #[test]
    fn upsample_by_hand_at_the_border() {
        // One 2×2 image [[a, b], [c, d]] = [[0, 1], [2, 3]].
        // Output row 0 reads source row max(0, −0.25) = 0 only; output column 1 reads source
        // column 0.25: 0.75·a + 0.25·b = 0.25. Output (1, 1): rows 0.25 → 0.75·row0 + 0.25·row1:
        // 0.75·(0.75·0 + 0.25·1) + 0.25·(0.75·2 + 0.25·3) = 0.1875 + 0.5625 = 0.75.
        // Output (3, 3) is the clamped corner: d = 3. Output (0, 0) = a = 0; (0, 3) = b = 1.
        let x = Tensor::<B, 4>::from_data(TensorData::new(vec![0f32, 1., 2., 3.], [1, 1, 2, 2]), &Default::default());
        let y: Vec<f32> = upsample_2x(x).into_data().to_vec().unwrap();
        let at = |r: usize, c: usize| y[r * 4 + c];
        assert!((at(0, 0) - 0.0).abs() < 1e-6);
        assert!((at(0, 1) - 0.25).abs() < 1e-6);
        assert!((at(0, 3) - 1.0).abs() < 1e-6);
        assert!((at(1, 1) - 0.75).abs() < 1e-6);
        assert!((at(3, 3) - 3.0).abs() < 1e-6);
    }

    #[test]
    fn upsample_matches_burn_bilinear_without_corner_alignment() {
        let x = ramp(1, 2, 32, 32);
        let reference = interpolate(x.clone(), [64, 64], InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false));
        let diff: f32 = (reference - upsample_2x(x)).abs().max().into_scalar();
        assert!(diff < 1e-5, "{diff}");
    }
}

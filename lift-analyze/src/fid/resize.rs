//! Resizing to Inception's 299×299 exactly as PyTorch's `F.interpolate(…, align_corners=False)`
//! computes it, as two matrix products (so it runs on every backend).

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use lift_core::model::resample::resample_separable;
pub use lift_core::study::Resize;

/// Side of Inception's input.
pub const INCEPTION_SIZE: usize = 299;

/// `[n_out, n_in]` interpolation weights with PyTorch's arithmetic: the scale as an f32 division,
/// source coordinates in f64, weights in f32; bilinear clamps the source at 0, bicubic does not
/// and clamps its taps to the border instead; the antialiased bicubic is [`antialias_matrix`].
pub fn resize_matrix(resize: Resize, n_in: usize, n_out: usize) -> Vec<f32> {
    if resize == Resize::BicubicAntialias {
        return antialias_matrix(n_in, n_out);
    }
    let scale = (n_in as f32 / n_out as f32) as f64;
    let mut m = vec![0f32; n_out * n_in];
    for o in 0..n_out {
        let src = scale * (o as f64 + 0.5) - 0.5;
        let row = &mut m[o * n_in..(o + 1) * n_in];
        match resize {
            Resize::Bilinear => {
                let src = src.max(0.0);
                let i0 = (src.floor() as usize).min(n_in - 1);
                let l1 = (src - i0 as f64).clamp(0.0, 1.0) as f32;
                let i1 = if i0 < n_in - 1 { i0 + 1 } else { i0 };
                row[i0] += 1.0 - l1;
                row[i1] += l1;
            }
            Resize::BicubicAntialias => unreachable!("handled above"),
            Resize::Bicubic => {
                const A: f32 = -0.75;
                let i0 = src.floor();
                let t = (src - i0) as f32;
                let c1 = |x: f32| ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
                let c2 = |x: f32| ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
                let w = [c2(t + 1.0), c1(t), c1(1.0 - t), c2(2.0 - t)];
                for (j, wj) in w.iter().enumerate() {
                    let tap = (i0 as i64 - 1 + j as i64).clamp(0, n_in as i64 - 1) as usize;
                    row[tap] += wj;
                }
            }
        }
    }
    m
}

/// PIL's cubic filter (a = −0.5) with PyTorch 1.13's arithmetic: the inner branch in f64, the
/// outer one in f32 with fused multiply-adds (what its AVX2 build computes; `bench/resize_reference.py`).
fn antialias_filter(x: f32) -> f32 {
    let x = x.abs();
    if x < 1.0 {
        let d = x as f64;
        ((1.5 * d - 2.5) * d * d + 1.0) as f32
    } else if x < 2.0 {
        let t = (x - 5.0f32).mul_add(x, 8.0).mul_add(x, -4.0);
        (t as f64 * -0.5) as f32
    } else {
        0.0
    }
}

/// `[n_out, n_in]` weights of `F.interpolate(mode='bicubic', antialias=True)`: each output pixel's
/// taps are the input pixels within the filter's support around its centre; taps outside the image
/// are not taken and the rest are renormalised to sum to one (also when upsampling).
pub fn antialias_matrix(n_in: usize, n_out: usize) -> Vec<f32> {
    let scale = n_in as f32 / n_out as f32;
    let (support, invscale) = if scale >= 1.0 { ((2.0 * scale as f64) as f32, (1.0 / scale as f64) as f32) } else { (2.0, 1.0) };
    let mut m = vec![0f32; n_out * n_in];
    for o in 0..n_out {
        let center = (scale as f64 * (o as f64 + 0.5)) as f32;
        let lo = ((((center - support) as f64) + 0.5) as i64).max(0) as usize;
        let hi = ((((center + support) as f64) + 0.5) as i64).min(n_in as i64) as usize;
        let row = &mut m[o * n_in..(o + 1) * n_in];
        let mut total = 0f32;
        for (j, w) in row.iter_mut().enumerate().take(hi).skip(lo) {
            *w = antialias_filter(((((j as f32) - center) as f64 + 0.5) * invscale as f64) as f32);
            total += *w;
        }
        if total != 0.0 {
            row[lo..hi].iter_mut().for_each(|w| *w /= total);
        }
    }
    m
}

/// Images in [0, 1] → Inception's input: resized to 299×299 (the bicubic ones clamped to [0, 1]),
/// then 2x − 1.
///
/// # Shapes
/// - `x`: `[batch, 3, h, w]` → `[batch, 3, 299, 299]`
pub fn inception_input<B: Backend>(x: Tensor<B, 4>, resize: Resize) -> Tensor<B, 4> {
    let [_, _, h, w] = x.dims();
    let n = INCEPTION_SIZE;
    let y = resample_separable(x, &resize_matrix(resize, h, n), n, &resize_matrix(resize, w, n), n);
    let y = if resize == Resize::Bilinear { y } else { y.clamp(0.0, 1.0) };
    y.mul_scalar(2.0).sub_scalar(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sum_to_one() {
        for resize in [Resize::Bilinear, Resize::Bicubic, Resize::BicubicAntialias] {
            let m = resize_matrix(resize, 64, 299);
            for o in 0..299 {
                let s: f32 = m[o * 64..(o + 1) * 64].iter().sum();
                assert!((s - 1.0).abs() < 1e-5, "{resize:?} row {o}: {s}");
            }
        }
    }

    #[test]
    fn antialias_drops_and_renormalises_border_taps() {
        // 2 → 4: scale 0.5, support 2. Output 0: centre 0.25, taps j ∈ [0, 2): arguments
        // j − 0.25 + 0.5 = 0.25 and 1.25: filter 0.25 → (1.5·0.25 − 2.5)·0.0625 + 1 = 0.8671875;
        // 1.25 → −0.5·(((1.25 − 5)·1.25 + 8)·1.25 − 4) = −0.5·(3.3125·1.25 − 4) = −0.0703125.
        // Renormalised by 0.796875: 1.0882353, −0.0882353 (plain bicubic clamps instead).
        let m = antialias_matrix(2, 4);
        assert!((m[0] - 1.088_235_3).abs() < 1e-6 && (m[1] + 0.088_235_3).abs() < 1e-6, "{m:?}");
    }

    #[test]
    fn bilinear_by_hand() {
        // 2 → 4: scale 0.5; output 1 reads source 0.25 → 0.75·x0 + 0.25·x1; output 0 reads
        // −0.25 → clamped to 0 → x0.
        let m = resize_matrix(Resize::Bilinear, 2, 4);
        assert_eq!(&m[0..2], &[1.0, 0.0]);
        assert_eq!(&m[2..4], &[0.75, 0.25]);
    }
}

//! Resizing to Inception's 299×299 exactly as PyTorch's `F.interpolate(…, align_corners=False)`
//! computes it, as two matrix products (so it runs on every backend).

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use lift_core::model::resample::resample_separable;

/// Which interpolation the FID preprocessing uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resize {
    /// Bicubic (A = −0.75), then clamped to [0, 1]: the LIFT original's protocol.
    Bicubic,
    /// Bilinear, no clamp: pytorch-fid's own command line.
    Bilinear,
}

impl std::str::FromStr for Resize {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "bicubic" => Ok(Self::Bicubic),
            "bilinear" => Ok(Self::Bilinear),
            other => anyhow::bail!("unknown resize '{other}': expected bicubic or bilinear"),
        }
    }
}

/// Side of Inception's input.
pub const INCEPTION_SIZE: usize = 299;

/// `[n_out, n_in]` interpolation weights with PyTorch's arithmetic: the scale as an f32 division,
/// source coordinates in f64, weights in f32; bilinear clamps the source at 0, bicubic does not
/// and clamps its taps to the border instead.
pub fn resize_matrix(resize: Resize, n_in: usize, n_out: usize) -> Vec<f32> {
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

/// Images in [0, 1] → Inception's input: resized to 299×299 (bicubic clamped to [0, 1]), then 2x − 1.
///
/// # Shapes
/// - `x`: `[batch, 3, h, w]` → `[batch, 3, 299, 299]`
pub fn inception_input<B: Backend>(x: Tensor<B, 4>, resize: Resize) -> Tensor<B, 4> {
    let [_, _, h, w] = x.dims();
    let n = INCEPTION_SIZE;
    let y = resample_separable(x, &resize_matrix(resize, h, n), n, &resize_matrix(resize, w, n), n);
    let y = if resize == Resize::Bicubic { y.clamp(0.0, 1.0) } else { y };
    y.mul_scalar(2.0).sub_scalar(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sum_to_one() {
        for resize in [Resize::Bilinear, Resize::Bicubic] {
            let m = resize_matrix(resize, 64, 299);
            for o in 0..299 {
                let s: f32 = m[o * 64..(o + 1) * 64].iter().sum();
                assert!((s - 1.0).abs() < 1e-5, "{resize:?} row {o}: {s}");
            }
        }
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

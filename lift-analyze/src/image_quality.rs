//! Full-reference image quality: PSNR and SSIM of an image against the real one, both on [0, 1]
//! CHW pixels (the super-resolution comparison, `later-experiments.md` §6).

use anyhow::{bail, Result};

/// SSIM's Gaussian window: 11 taps, σ = 1.5 (Wang et al. 2004).
const WINDOW: usize = 11;
const SIGMA: f64 = 1.5;
/// SSIM's stabilisers for a dynamic range of 1: (0.01)² and (0.03)².
const C1: f64 = 0.01 * 0.01;
const C2: f64 = 0.03 * 0.03;

/// An image's CHW pixels in [0, 1].
#[derive(Debug, Clone, Copy)]
pub struct Planes<'a> {
    pub pixels: &'a [f64],
    pub channels: usize,
    pub side: usize,
}

impl Planes<'_> {
    fn channel(&self, c: usize) -> &[f64] {
        &self.pixels[c * self.side * self.side..(c + 1) * self.side * self.side]
    }
}

fn same_shape(a: Planes, b: Planes) -> Result<()> {
    if a.channels != b.channels || a.side != b.side || a.pixels.len() != a.channels * a.side * a.side || b.pixels.len() != a.pixels.len() {
        bail!("images of different shapes: {}×{}×{} against {}×{}×{}", a.channels, a.side, a.side, b.channels, b.side, b.side);
    }
    Ok(())
}

/// 10·log₁₀(1 / MSE) in dB (infinite for identical images).
pub fn psnr(a: Planes, b: Planes) -> Result<f64> {
    same_shape(a, b)?;
    let mse = a.pixels.iter().zip(b.pixels).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.pixels.len() as f64;
    Ok(10.0 * (1.0 / mse).log10())
}

/// The normalised 1-D Gaussian taps; the 2-D window is their outer product.
fn gaussian_taps() -> [f64; WINDOW] {
    let mid = (WINDOW / 2) as f64;
    let mut g = [0.0; WINDOW];
    for (i, w) in g.iter_mut().enumerate() {
        *w = (-((i as f64 - mid).powi(2)) / (2.0 * SIGMA * SIGMA)).exp();
    }
    let sum: f64 = g.iter().sum();
    g.map(|w| w / sum)
}

/// `plane` filtered by the window at every position where it fits entirely (no padding).
fn filter_valid(plane: &[f64], side: usize) -> Vec<f64> {
    let g = gaussian_taps();
    let out = side + 1 - WINDOW;
    let rows: Vec<f64> =
        (0..side).flat_map(|y| (0..out).map(move |x| (y, x))).map(|(y, x)| (0..WINDOW).map(|k| g[k] * plane[y * side + x + k]).sum()).collect();
    (0..out).flat_map(|y| (0..out).map(move |x| (y, x))).map(|(y, x)| (0..WINDOW).map(|k| g[k] * rows[(y + k) * out + x]).sum()).collect()
}

/// Mean SSIM over the positions where the window fits, averaged over channels.
pub fn ssim(a: Planes, b: Planes) -> Result<f64> {
    same_shape(a, b)?;
    if a.side < WINDOW {
        bail!("SSIM needs images of at least {WINDOW}×{WINDOW} pixels, not {}×{}", a.side, a.side);
    }
    let n = a.side;
    let mut total = 0.0;
    for c in 0..a.channels {
        let (x, y) = (a.channel(c), b.channel(c));
        let product = |f: &dyn Fn(f64, f64) -> f64| filter_valid(&x.iter().zip(y).map(|(p, q)| f(*p, *q)).collect::<Vec<_>>(), n);
        let (mx, my) = (filter_valid(x, n), filter_valid(y, n));
        let (xx, yy, xy) = (product(&|p, _| p * p), product(&|_, q| q * q), product(&|p, q| p * q));
        let map = (0..mx.len()).map(|i| {
            let (vx, vy, cxy) = (xx[i] - mx[i] * mx[i], yy[i] - my[i] * my[i], xy[i] - mx[i] * my[i]);
            ((2.0 * mx[i] * my[i] + C1) * (2.0 * cxy + C2)) / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2))
        });
        total += map.sum::<f64>() / mx.len() as f64;
    }
    Ok(total / a.channels as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planes(pixels: &[f64], side: usize) -> Planes<'_> {
        Planes { pixels, channels: pixels.len() / (side * side), side }
    }

    #[test]
    fn psnr_by_hand() {
        // Every pixel off by 0.1: MSE 0.01, PSNR 20 dB; off by 0.5 in a quarter of them: MSE 1/16, 12.04 dB.
        let a = vec![0.5; 3 * 4 * 4];
        let b: Vec<f64> = a.iter().map(|v| v + 0.1).collect();
        assert!((psnr(planes(&a, 4), planes(&b, 4)).unwrap() - 20.0).abs() < 1e-9);
        let c: Vec<f64> = a.iter().enumerate().map(|(i, v)| if i % 4 == 0 { v + 0.5 } else { *v }).collect();
        assert!((psnr(planes(&a, 4), planes(&c, 4)).unwrap() - 10.0 * 16f64.log10()).abs() < 1e-9);
        assert!(psnr(planes(&a, 4), planes(&a, 4)).unwrap().is_infinite());
    }

    #[test]
    fn the_window_is_a_normalised_gaussian_of_sigma_one_and_a_half() {
        let g = gaussian_taps();
        assert!((g.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        // Neighbours of the centre: exp(−1 / (2 · 1.5²)) = exp(−2/9); the edge: exp(−25 · 2/9).
        assert!((g[4] / g[5] - (-2.0f64 / 9.0).exp()).abs() < 1e-15 && (g[0] / g[5] - (-50.0f64 / 9.0).exp()).abs() < 1e-15);
        assert_eq!(g[3], g[7]);
    }

    #[test]
    fn ssim_of_flat_images_is_the_luminance_term() {
        // Flat images have no variance: SSIM = (2ab + C1) / (a² + b² + C1) everywhere.
        let (a, b) = (vec![0.2; 2 * 12 * 12], vec![0.6; 2 * 12 * 12]);
        let expected = (2.0 * 0.2 * 0.6 + 1e-4) / (0.04 + 0.36 + 1e-4);
        assert!((ssim(planes(&a, 12), planes(&b, 12)).unwrap() - expected).abs() < 1e-12);
        assert!((ssim(planes(&a, 12), planes(&a, 12)).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ssim_of_an_inverted_checkerboard_by_hand() {
        // One 11×11 window (no room to move): x a checkerboard of 0 and 1, y = 1 − x. With
        // m = Σ w over x's ones: μx = m, μy = 1 − m; x² = x, so σx² = m − m² = σy²; x·y = 0, so
        // σxy = −μx·μy.
        let side = WINDOW;
        let x: Vec<f64> = (0..side * side).map(|i| ((i / side + i % side) % 2) as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| 1.0 - v).collect();
        let g = gaussian_taps();
        let mx: f64 = (0..side * side).map(|i| g[i / side] * g[i % side] * x[i]).sum();
        let my = 1.0 - mx;
        let var = mx - mx * mx;
        let expected = ((2.0 * mx * my + C1) * (-2.0 * mx * my + C2)) / ((mx * mx + my * my + C1) * (2.0 * var + C2));
        assert!((ssim(planes(&x, side), planes(&y, side)).unwrap() - expected).abs() < 1e-12);
        assert!(expected < 0.0, "an inverted pattern is anti-correlated");
    }

    #[test]
    fn shapes_must_agree_and_fit_the_window() {
        let a = vec![0.0; 3 * 16 * 16];
        let b = vec![0.0; 3 * 8 * 8];
        assert!(psnr(planes(&a, 16), planes(&b, 8)).unwrap_err().to_string().contains("different shapes"));
        assert!(ssim(planes(&b, 8), planes(&b, 8)).unwrap_err().to_string().contains("11×11"));
    }
}

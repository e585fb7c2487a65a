//! Sliced Wasserstein distance on Laplacian-pyramid patches (Karras et al. 2018, "Progressive
//! Growing of GANs", appendix D): per pyramid level, 128 random 7×7 neighbourhoods per image,
//! descriptors normalised per channel over each set, then the sliced Wasserstein distance over
//! 4 × 128 random directions. A distribution distance that needs no network weights.

use anyhow::{bail, Result};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

const NHOOD: usize = 7;
const NHOODS_PER_IMAGE: usize = 128;
const DIR_REPEATS: usize = 4;
const DIRS_PER_REPEAT: usize = 128;
const KERNEL: [f32; 5] = [1.0, 4.0, 6.0, 4.0, 1.0];

/// A stack of CHW images of one size.
#[derive(Debug, Clone)]
pub struct Planes {
    pub n: usize,
    pub side: usize,
    /// `n·3·side·side` values.
    pub data: Vec<f32>,
}

/// scipy's `mode='mirror'` index: reflect about the edge pixels, not repeating them.
fn mirror(i: i64, n: i64) -> usize {
    let period = 2 * (n - 1);
    let mut k = i.rem_euclid(period.max(1));
    if k >= n {
        k = period - k;
    }
    k as usize
}

/// 5×5 binomial filter (separable [1 4 6 4 1]/16 twice), mirrored borders, times `gain`.
fn blur(p: &Planes, gain: f32) -> Planes {
    let s = p.side;
    let mut tmp = vec![0f32; p.data.len()];
    let mut out = vec![0f32; p.data.len()];
    for plane in 0..p.n * 3 {
        let base = plane * s * s;
        for y in 0..s {
            for x in 0..s {
                let acc: f32 = (0..5).map(|k| KERNEL[k] * p.data[base + y * s + mirror(x as i64 + k as i64 - 2, s as i64)]).sum();
                tmp[base + y * s + x] = acc / 16.0;
            }
        }
        for y in 0..s {
            for x in 0..s {
                let acc: f32 = (0..5).map(|k| KERNEL[k] * tmp[base + mirror(y as i64 + k as i64 - 2, s as i64) * s + x]).sum();
                out[base + y * s + x] = acc / 16.0 * gain;
            }
        }
    }
    Planes { n: p.n, side: s, data: out }
}

fn pyr_down(p: &Planes) -> Planes {
    let b = blur(p, 1.0);
    let h = p.side / 2;
    let mut data = Vec::with_capacity(p.n * 3 * h * h);
    for plane in 0..p.n * 3 {
        for y in 0..h {
            for x in 0..h {
                data.push(b.data[plane * p.side * p.side + 2 * y * p.side + 2 * x]);
            }
        }
    }
    Planes { n: p.n, side: h, data }
}

fn pyr_up(p: &Planes) -> Planes {
    let s = 2 * p.side;
    let mut z = vec![0f32; p.n * 3 * s * s];
    for plane in 0..p.n * 3 {
        for y in 0..p.side {
            for x in 0..p.side {
                z[plane * s * s + 2 * y * s + 2 * x] = p.data[plane * p.side * p.side + y * p.side + x];
            }
        }
    }
    blur(&Planes { n: p.n, side: s, data: z }, 4.0)
}

/// Laplacian pyramid with `levels` levels, finest first (the last level is the low-pass rest).
pub fn laplacian_pyramid(images: &Planes, levels: usize) -> Vec<Planes> {
    let mut pyramid = vec![images.clone()];
    for _ in 1..levels {
        let down = pyr_down(pyramid.last().expect("non-empty"));
        let up = pyr_up(&down);
        let last = pyramid.last_mut().expect("non-empty");
        for (v, u) in last.data.iter_mut().zip(&up.data) {
            *v -= u;
        }
        pyramid.push(down);
    }
    pyramid
}

/// Random 7×7×3 neighbourhoods, normalised per channel over the whole set: `[count, 147]`.
fn descriptors(level: &Planes, rng: &mut ChaCha8Rng) -> DMatrix<f32> {
    let (s, h) = (level.side, NHOOD / 2);
    let rows = level.n * NHOODS_PER_IMAGE;
    let mut d = DMatrix::<f32>::zeros(rows, 3 * NHOOD * NHOOD);
    for r in 0..rows {
        let img = r / NHOODS_PER_IMAGE;
        let (cx, cy) = (rng.random_range(h..s - h), rng.random_range(h..s - h));
        for c in 0..3 {
            for dy in 0..NHOOD {
                for dx in 0..NHOOD {
                    let v = level.data[((img * 3 + c) * s + cy + dy - h) * s + cx + dx - h];
                    d[(r, (c * NHOOD + dy) * NHOOD + dx)] = v;
                }
            }
        }
    }
    let per_channel = NHOOD * NHOOD;
    for c in 0..3 {
        let cols = c * per_channel..(c + 1) * per_channel;
        let count = (rows * per_channel) as f64;
        let mean = cols.clone().map(|k| d.column(k).iter().map(|v| *v as f64).sum::<f64>()).sum::<f64>() / count;
        let var = cols.clone().map(|k| d.column(k).iter().map(|v| (*v as f64 - mean).powi(2)).sum::<f64>()).sum::<f64>() / count;
        let std = var.sqrt().max(1e-12);
        for k in cols {
            for v in d.column_mut(k).iter_mut() {
                *v = ((*v as f64 - mean) / std) as f32;
            }
        }
    }
    d
}

fn sliced_wasserstein(a: &DMatrix<f32>, b: &DMatrix<f32>, rng: &mut ChaCha8Rng) -> f64 {
    let dim = a.ncols();
    let mut total = 0.0;
    for _ in 0..DIR_REPEATS {
        let mut dirs = DMatrix::<f32>::from_fn(dim, DIRS_PER_REPEAT, |_, _| rng.sample(StandardNormal));
        for mut col in dirs.column_iter_mut() {
            let norm = col.norm();
            col /= norm;
        }
        let (pa, pb) = (a * &dirs, b * &dirs);
        let mut sum = 0.0;
        for k in 0..DIRS_PER_REPEAT {
            let mut x: Vec<f32> = pa.column(k).iter().copied().collect();
            let mut y: Vec<f32> = pb.column(k).iter().copied().collect();
            x.sort_by(f32::total_cmp);
            y.sort_by(f32::total_cmp);
            sum += x.iter().zip(&y).map(|(p, q)| (p - q).abs() as f64).sum::<f64>();
        }
        total += sum / (pa.len() as f64);
    }
    total / DIR_REPEATS as f64
}

/// SWD per pyramid level (×10³, as the paper reports it) and their mean.
#[derive(Debug, Clone, Serialize)]
pub struct SwdReport {
    /// Resolution of each level, finest first.
    pub resolutions: Vec<usize>,
    pub swd_x1e3: Vec<f64>,
    pub mean_x1e3: f64,
    pub images: usize,
}

/// SWD between two image sets of the same size (the larger set is truncated to the smaller).
/// Levels run from the image size down to 16 pixels (64/32/16 for 64×64 images).
pub fn swd(real: &Planes, fake: &Planes, seed: u64) -> Result<SwdReport> {
    if real.side != fake.side {
        bail!("SWD compares images of one size: {} vs {}", real.side, fake.side);
    }
    let n = real.n.min(fake.n);
    if n == 0 {
        bail!("SWD needs images in both sets");
    }
    let take = |p: &Planes| Planes { n, side: p.side, data: p.data[..n * 3 * p.side * p.side].to_vec() };
    let levels = ((real.side as f64 / 16.0).log2().floor() as usize + 1).max(1);
    let (pr, pf) = (laplacian_pyramid(&take(real), levels), laplacian_pyramid(&take(fake), levels));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for (lr, lf) in pr.iter().zip(&pf) {
        let (dr, df) = (descriptors(lr, &mut rng), descriptors(lf, &mut rng));
        out.push(sliced_wasserstein(&dr, &df, &mut rng) * 1e3);
    }
    Ok(SwdReport { resolutions: pr.iter().map(|p| p.side).collect(), mean_x1e3: out.iter().sum::<f64>() / out.len() as f64, swd_x1e3: out, images: n })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, side: usize, seed: u64, scale: f32) -> Planes {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Planes { n, side, data: (0..n * 3 * side * side).map(|_| scale * rng.sample::<f32, _>(StandardNormal)).collect() }
    }

    #[test]
    fn mirror_matches_scipy() {
        // scipy 'mirror' on n = 4: … 2 1 | 0 1 2 3 | 2 1 …
        let got: Vec<usize> = (-2..6).map(|i| mirror(i, 4)).collect();
        assert_eq!(got, vec![2, 1, 0, 1, 2, 3, 2, 1]);
    }

    #[test]
    fn pyramid_reconstructs_the_image() {
        let img = noise(1, 32, 1, 1.0);
        let p = laplacian_pyramid(&img, 2);
        let up = pyr_up(&p[1]);
        let rebuilt: Vec<f32> = p[0].data.iter().zip(&up.data).map(|(a, b)| a + b).collect();
        let err = rebuilt.iter().zip(&img.data).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(err < 1e-5, "{err}");
        assert_eq!(p.iter().map(|l| l.side).collect::<Vec<_>>(), vec![32, 16]);
    }

    #[test]
    fn same_distribution_is_closer_than_a_different_one() {
        let a = noise(24, 32, 1, 1.0);
        let b = noise(24, 32, 2, 1.0);
        // Smooth images: a different distribution of patches.
        let c = laplacian_pyramid(&noise(24, 32, 3, 1.0), 2)[1].clone();
        let c = pyr_up(&c);
        let same = swd(&a, &b, 0).unwrap().mean_x1e3;
        let other = swd(&a, &c, 0).unwrap().mean_x1e3;
        assert!(same < 0.7 * other, "same {same}, other {other}");
        assert_eq!(swd(&a, &a, 0).unwrap().mean_x1e3, swd(&a, &a, 0).unwrap().mean_x1e3);
    }
}

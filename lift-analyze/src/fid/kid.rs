//! Kernel Inception Distance (Bińkowski et al. 2018), as torch-fidelity and clean-fid compute it:
//! the unbiased MMD² between real and generated pool3 features with the cubic polynomial kernel
//! k(x, y) = (xᵀy/d + 1)³, averaged over random subsets, with its standard deviation over them.
//! Unlike FID it has no bias from a small sample, so few hundred images compare fairly.

use anyhow::{bail, Result};
use nalgebra::DMatrix;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// torch-fidelity's defaults: 100 subsets of (at most) 1,000 images.
pub const SUBSETS: usize = 100;
pub const SUBSET_SIZE: usize = 1000;

/// KID over subsets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Kid {
    pub mean: f64,
    /// Standard deviation over the subsets (population, as torch-fidelity).
    pub std: f64,
    pub subsets: usize,
    pub subset_size: usize,
}

/// The unbiased MMD² of two equally sized feature sets (rows), polynomial kernel of degree 3.
pub fn mmd2_unbiased(x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let (m, d) = (x.nrows() as f64, x.ncols() as f64);
    let kernel = |a: &DMatrix<f64>, b: &DMatrix<f64>| (a * b.transpose()).map(|v| (v / d + 1.0).powi(3));
    let (kxx, kyy, kxy) = (kernel(x, x), kernel(y, y), kernel(x, y));
    let off_diagonal = |k: &DMatrix<f64>| k.sum() - k.trace();
    (off_diagonal(&kxx) + off_diagonal(&kyy)) / (m * (m - 1.0)) - 2.0 * kxy.sum() / (m * m)
}

fn rows(features: &[f32], dim: usize, pick: &[usize]) -> DMatrix<f64> {
    DMatrix::from_fn(pick.len(), dim, |r, c| features[pick[r] * dim + c] as f64)
}

/// KID between `real` and `fake` (row-major, `dim` features each): `subsets` subsets of
/// min(`subset_size`, both counts) images drawn without replacement with `seed`.
pub fn kid(real: &[f32], fake: &[f32], dim: usize, subsets: usize, subset_size: usize, seed: u64) -> Result<Kid> {
    let (nr, nf) = (real.len() / dim, fake.len() / dim);
    let m = subset_size.min(nr).min(nf);
    if m < 2 || subsets == 0 {
        bail!("KID needs at least 2 real and 2 generated images (got {nr} and {nf})");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let values: Vec<f64> = (0..subsets)
        .map(|_| {
            let (a, b) = (sample(&mut rng, nr, m).into_vec(), sample(&mut rng, nf, m).into_vec());
            mmd2_unbiased(&rows(real, dim, &a), &rows(fake, dim, &b))
        })
        .collect();
    let mean = values.iter().sum::<f64>() / subsets as f64;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / subsets as f64).sqrt();
    Ok(Kid { mean, std, subsets, subset_size: m })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmd_by_hand() {
        // d = 2, X = {(1,0), (0,1)}, Y = {(1,1), (0,0)}: k = (xᵀy/2 + 1)³.
        // K_XX off-diagonal: x₁ᵀx₂ = 0 → 1 (twice): 2/(2·1) = 1; likewise K_YY: 1.
        // K_XY: (1,0)·(1,1) = 1 → 1.5³ = 3.375; (1,0)·0 → 1; (0,1)·(1,1) → 3.375; → 1: sum 8.75.
        // MMD² = 1 + 1 − 2·8.75/4 = −2.375.
        let x = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 1.0]);
        let y = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 0.0, 0.0]);
        assert!((mmd2_unbiased(&x, &y) + 2.375).abs() < 1e-12);
        // The same set against itself: K_XX off-diagonal 1 → 1 + 1; K_XY sum: diagonal 1.5³ = 3.375
        // twice plus off-diagonal 1 twice = 8.75 → 2 − 4.375 = −2.375 as well (the diagonal is excluded).
        assert!((mmd2_unbiased(&x, &x) + 2.375).abs() < 1e-12);
    }

    #[test]
    fn kid_uses_full_sets_when_small_and_separates_distributions() {
        let real: Vec<f32> = vec![1.0, 0.0, 0.0, 1.0];
        let fake: Vec<f32> = vec![1.0, 1.0, 0.0, 0.0];
        let k = kid(&real, &fake, 2, 3, 1000, 0).unwrap();
        // Subsets of 2 out of 2: every subset is the whole set, so the std is 0.
        assert_eq!((k.subset_size, k.std), (2, 0.0));
        assert!((k.mean + 2.375).abs() < 1e-12);
        // Two Gaussian clouds: a shifted one is farther than a fresh draw of the same.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut cloud = |shift: f32| -> Vec<f32> { (0..200 * 8).map(|_| rand::Rng::random::<f32>(&mut rng) + shift).collect() };
        let (a, b, c) = (cloud(0.0), cloud(0.0), cloud(0.5));
        let same = kid(&a, &b, 8, 10, 100, 2).unwrap().mean;
        let apart = kid(&a, &c, 8, 10, 100, 2).unwrap().mean;
        // Population MMD² of the shift ≈ 1.95 + 8 − 2·3.375 ≈ 3.2 (the pairs' kernel means).
        assert!(same.abs() < 0.3 && apart > 1.5, "same {same}, apart {apart}");
        assert!(kid(&real[..2], &fake, 2, 1, 10, 0).is_err());
    }
}

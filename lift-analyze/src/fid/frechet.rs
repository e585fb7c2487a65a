//! Feature statistics (f64) and the Fréchet distance between two Gaussians:
//! d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2·tr √(Σ₁Σ₂), with tr √(Σ₁Σ₂) = Σᵢ √λᵢ(√Σ₁ Σ₂ √Σ₁),
//! the eigenvalues of a symmetric positive semi-definite matrix (exact also for singular Σ).
//!
//! With Σ₂ = XᵀX/(n−1) from n < d centred samples X, √Σ₁ Σ₂ √Σ₁ = YᵀY/(n−1) with Y = X√Σ₁
//! has the same non-zero eigenvalues as the n×n matrix YYᵀ/(n−1): small sample sets cost n·d²
//! instead of an eigendecomposition of d×d.

use anyhow::{bail, Result};

pub use super::stats_file::FeatureProtocol;
use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Mean and covariance of a feature set.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub mean: DVector<f64>,
    /// Unbiased (N − 1) covariance, as numpy's `np.cov`.
    pub cov: DMatrix<f64>,
    /// The centred samples (n × d), kept when n < d for the low-rank path; not saved.
    pub centred: Option<DMatrix<f64>>,
    /// How the features were taken; None for statistics of another tool (pytorch-fid's files).
    pub protocol: Option<FeatureProtocol>,
}

impl Stats {
    /// Statistics of `n` rows of `dim` features (row-major).
    pub fn from_features(features: &[f32], dim: usize) -> Result<Self> {
        let n = features.len() / dim;
        if n < 2 || features.len() != n * dim {
            bail!("need at least 2 feature vectors of length {dim} (got {} values)", features.len());
        }
        let x = DMatrix::<f64>::from_row_iterator(n, dim, features.iter().map(|v| *v as f64));
        let mean = DVector::from_iterator(dim, x.column_iter().map(|c| c.sum() / n as f64));
        let mut centred = x;
        for mut row in centred.row_iter_mut() {
            row -= mean.transpose();
        }
        let cov = (centred.transpose() * &centred) / (n as f64 - 1.0);
        Ok(Self { n, mean, cov, centred: (n < dim).then_some(centred), protocol: None })
    }
}

/// √A for a symmetric positive semi-definite A (negative rounding eigenvalues treated as 0).
pub fn sqrt_psd(a: &DMatrix<f64>) -> DMatrix<f64> {
    let eig = SymmetricEigen::new(a.clone());
    let root = eig.eigenvalues.map(|l| l.max(0.0).sqrt());
    &eig.eigenvectors * DMatrix::from_diagonal(&root) * eig.eigenvectors.transpose()
}

/// Statistics with √Σ precomputed, to compare many sets against one reference.
pub struct Reference {
    pub stats: Stats,
    pub sqrt_cov: DMatrix<f64>,
}

/// √Σ for Σ = XᵀX/(n−1) from the centred samples X (n × d, n < d) without a d×d
/// eigendecomposition: with XXᵀ/(n−1) = UΛUᵀ, √Σ = Xᵀ U diag(1/((n−1)√λ)) Uᵀ X over λ > 0.
pub fn sqrt_cov_low_rank(centred: &DMatrix<f64>) -> DMatrix<f64> {
    let n1 = centred.nrows() as f64 - 1.0;
    let gram = centred * centred.transpose() / n1;
    let eig = SymmetricEigen::new((&gram + gram.transpose()) * 0.5);
    let largest = eig.eigenvalues.iter().cloned().fold(0.0, f64::max);
    // Centring leaves one zero eigenvalue (and rounding residues ~1e-16 of the largest).
    let weight = eig.eigenvalues.map(|l| if l > largest * 1e-12 { 1.0 / (n1 * l.sqrt()) } else { 0.0 });
    let xu = centred.transpose() * &eig.eigenvectors;
    &xu * DMatrix::from_diagonal(&weight) * xu.transpose()
}

impl Reference {
    pub fn new(stats: Stats) -> Self {
        let sqrt_cov = match &stats.centred {
            Some(x) => sqrt_cov_low_rank(x),
            None => sqrt_psd(&stats.cov),
        };
        Self { stats, sqrt_cov }
    }

    /// The Fréchet distance from this reference to `b`.
    pub fn distance(&self, b: &Stats) -> f64 {
        let a = &self.stats;
        let diff = &a.mean - &b.mean;
        let symmetric = |m: DMatrix<f64>| (&m + m.transpose()) * 0.5;
        let eigenvalues = match &b.centred {
            Some(x) => {
                let y = x * &self.sqrt_cov;
                symmetric(&y * y.transpose() / (b.n as f64 - 1.0)).symmetric_eigenvalues()
            }
            // Symmetrised: the products' rounding leaves it symmetric only to ~1e-16 relative.
            None => symmetric(&self.sqrt_cov * &b.cov * &self.sqrt_cov).symmetric_eigenvalues(),
        };
        let tr_sqrt: f64 = eigenvalues.iter().map(|l| l.max(0.0).sqrt()).sum();
        diff.dot(&diff) + a.cov.trace() + b.cov.trace() - 2.0 * tr_sqrt
    }
}

/// The Fréchet distance between the Gaussians of `a` and `b`.
pub fn frechet_distance(a: &Stats, b: &Stats) -> f64 {
    Reference::new(a.clone()).distance(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    fn features(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n * dim).map(|_| rng.sample::<f32, _>(StandardNormal)).collect()
    }

    #[test]
    fn identical_sets_are_at_distance_zero() {
        let f = features(200, 16, 1);
        let s = Stats::from_features(&f, 16).unwrap();
        assert!(frechet_distance(&s, &s).abs() < 1e-6, "{}", frechet_distance(&s, &s));
        // Fewer samples than dimensions: Σ is singular, the distance still is 0.
        let g = features(10, 32, 2);
        let t = Stats::from_features(&g, 32).unwrap();
        assert!(frechet_distance(&t, &t).abs() < 1e-6);
    }

    #[test]
    fn a_pure_mean_shift_costs_its_squared_norm() {
        let dim = 8;
        let f = features(100, dim, 3);
        let shift: Vec<f32> = (0..dim).map(|k| 0.5 * k as f32 - 1.0).collect();
        let g: Vec<f32> = f.iter().enumerate().map(|(i, v)| v + shift[i % dim]).collect();
        let (a, b) = (Stats::from_features(&f, dim).unwrap(), Stats::from_features(&g, dim).unwrap());
        let expected: f64 = shift.iter().map(|s| (*s as f64).powi(2)).sum();
        assert!((frechet_distance(&a, &b) - expected).abs() < 1e-6, "{} vs {expected}", frechet_distance(&a, &b));
    }

    #[test]
    fn two_by_two_covariances_by_hand() {
        // Σ₁ = diag(1, 4), Σ₂ = diag(4, 9), μ₁ = (0, 0), μ₂ = (1, 2):
        // ‖Δμ‖² = 5; tr Σ₁ + tr Σ₂ = 5 + 13 = 18; √(Σ₁Σ₂) = diag(√4, √36) = diag(2, 6) → trace 8;
        // d² = 5 + 18 − 16 = 7.
        let stats = |mean: Vec<f64>, cov: DMatrix<f64>| Stats { n: 10, mean: DVector::from_vec(mean), cov, centred: None, protocol: None };
        let a = stats(vec![0.0, 0.0], DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 4.0])));
        let b = stats(vec![1.0, 2.0], DMatrix::from_diagonal(&DVector::from_vec(vec![4.0, 9.0])));
        assert!((frechet_distance(&a, &b) - 7.0).abs() < 1e-12);
        // A non-diagonal case: Σ₁ = [[2,1],[1,2]], Σ₂ = I, equal means: √Σ₁ has eigenvalues √3, 1,
        // so tr √(Σ₁Σ₂) = tr √Σ₁ = √3 + 1 and d² = 4 + 2 − 2(√3 + 1) = 4 − 2√3.
        let c = stats(vec![0.0, 0.0], DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 2.0]));
        let d = stats(vec![0.0, 0.0], DMatrix::identity(2, 2));
        assert!((frechet_distance(&c, &d) - (4.0 - 2.0 * 3f64.sqrt())).abs() < 1e-12);
    }

    #[test]
    fn the_low_rank_path_equals_the_full_one() {
        // 12 samples in 32 dimensions: the n×n Gram path against the d×d eigendecomposition.
        let a = Stats::from_features(&features(100, 32, 7), 32).unwrap();
        let b = Stats::from_features(&features(12, 32, 8), 32).unwrap();
        assert!(b.centred.is_some());
        let low = Reference::new(a.clone()).distance(&b);
        let full = Reference::new(a).distance(&Stats { centred: None, ..b });
        // The full path takes square roots of ~1e-16 rounding residues of the 20 zero eigenvalues
        // (each ~1e-8): agreement to 1e-6 relative is all it can give.
        assert!((low - full).abs() < 1e-6 * full, "{low} vs {full}");
    }

    #[test]
    fn the_low_rank_square_root_equals_the_full_one() {
        let s = Stats::from_features(&features(12, 32, 9), 32).unwrap();
        let (low, full) = (sqrt_cov_low_rank(s.centred.as_ref().unwrap()), sqrt_psd(&s.cov));
        // √Σ squared is Σ, and both roots agree (the full one carries ~1e-8 roots of rounding residues).
        assert!((&low * &low - &s.cov).abs().max() < 1e-10 * s.cov.abs().max());
        assert!((&low - &full).abs().max() < 1e-6 * full.abs().max(), "{}", (&low - &full).abs().max());
    }
}

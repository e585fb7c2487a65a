//! Precision and recall (Kynkäänniemi et al., NeurIPS 2019) and density and coverage (Naeem et
//! al., ICML 2020) of generated images' Inception features against the real ones, as the authors'
//! `prdc` package computes them: each point's radius is the distance to its k-th nearest neighbour
//! in its own set; precision is the share of generated points inside some real point's ball,
//! recall the share of real points inside some generated point's ball, density the mean number of
//! real balls holding a generated point over k, coverage the share of real balls holding one.
//! Distances are Euclidean, in f64, "inside" strict (`<`), as `prdc`.

use anyhow::{bail, Result};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// The k of precision and recall (Kynkäänniemi et al. use 3).
pub const PR_NEIGHBOURS: usize = 3;
/// The k of density and coverage (Naeem et al. recommend 5).
pub const DC_NEIGHBOURS: usize = 5;

/// Rows of the real set whose distances are held at once: 512 × 15,803 f64 is 65 MB.
const CHUNK: usize = 512;

/// The four fidelity and diversity measures of one generated set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prdc {
    pub precision: f64,
    pub recall: f64,
    pub density: f64,
    pub coverage: f64,
}

impl Prdc {
    /// Precision and recall at k = 3, density and coverage at k = 5 (each at its authors' k) of
    /// `fake` against balls of the real set made by [`Balls::study`].
    pub fn of(real: &Balls, fake: &[f32]) -> Result<Self> {
        let [pr, dc] = measure(real, &Balls::new(fake, real.points.ncols(), &STUDY_KS)?)[..] else { unreachable!("two k") };
        Ok(Self { precision: pr.precision, recall: pr.recall, density: dc.density, coverage: dc.coverage })
    }
}

/// The ks of [`Prdc::of`].
const STUDY_KS: [usize; 2] = [PR_NEIGHBOURS, DC_NEIGHBOURS];

/// A feature set with each point's distance to its k-th nearest other point, for some ks: the
/// real set's are made once and serve every generated set.
pub struct Balls {
    points: DMatrix<f64>,
    norms: Vec<f64>,
    /// `radii[i][p]`: point p's radius at the i-th k.
    radii: Vec<Vec<f64>>,
    ks: Vec<usize>,
}

impl Balls {
    /// The balls of [`Prdc::of`] (k = 3 and 5).
    pub fn study(features: &[f32], dim: usize) -> Result<Self> {
        Self::new(features, dim, &STUDY_KS)
    }

    /// `features` (row-major, `dim` each) with their radii at every k of `ks`.
    pub fn new(features: &[f32], dim: usize, ks: &[usize]) -> Result<Self> {
        let points = DMatrix::from_fn(features.len() / dim, dim, |r, c| features[r * dim + c] as f64);
        let largest = ks.iter().copied().max().unwrap_or(0);
        if points.nrows() <= largest {
            bail!("precision, recall, density and coverage at k = {largest} need more than {largest} images in each set (got {})", points.nrows());
        }
        let norms = squared_norms(&points);
        let mut radii = vec![Vec::with_capacity(points.nrows()); ks.len()];
        for from in (0..points.nrows()).step_by(CHUNK) {
            let chunk = CHUNK.min(points.nrows() - from);
            let d = distances(&points, from, chunk, &points, &norms);
            for i in 0..chunk {
                // Itself at 0 counts: the k-th other point is the (k+1)-th smallest.
                let mut row: Vec<f64> = d.row(i).iter().copied().collect();
                row[from + i] = 0.0;
                row.sort_unstable_by(f64::total_cmp);
                for (r, &k) in radii.iter_mut().zip(ks) {
                    r.push(row[k]);
                }
            }
        }
        Ok(Self { points, norms, radii, ks: ks.to_vec() })
    }
}

/// Euclidean distances between rows `from..from + chunk` of `a` and every row of `b`:
/// √max(‖a‖² + ‖b‖² − 2a·b, 0), scikit-learn's formula.
fn distances(a: &DMatrix<f64>, from: usize, chunk: usize, b: &DMatrix<f64>, b_norms: &[f64]) -> DMatrix<f64> {
    let rows = a.rows(from, chunk);
    let dot = rows * b.transpose();
    DMatrix::from_fn(chunk, b.nrows(), |i, j| (rows.row(i).norm_squared() + b_norms[j] - 2.0 * dot[(i, j)]).max(0.0).sqrt())
}

fn squared_norms(m: &DMatrix<f64>) -> Vec<f64> {
    m.row_iter().map(|r| r.norm_squared()).collect()
}

/// The four measures at each k the two sets share, in one pass over the real-to-generated
/// distances, as `prdc.compute_prdc(real, fake, nearest_k = k)`.
fn measure(real: &Balls, fake: &Balls) -> Vec<Prdc> {
    let (r, f) = (&real.points, &fake.points);
    // Per k: per generated image how many real balls hold it; per real image whether some
    // generated ball holds it (recall) and whether its own ball holds some generated image.
    let n = real.ks.len();
    let mut inside = vec![vec![0usize; f.nrows()]; n];
    let (mut recalled, mut covered) = (vec![0usize; n], vec![0usize; n]);
    for from in (0..r.nrows()).step_by(CHUNK) {
        let chunk = CHUNK.min(r.nrows() - from);
        let d = distances(r, from, chunk, f, &fake.norms);
        for i in 0..chunk {
            let row = d.row(i);
            let nearest = row.min();
            for q in 0..n {
                let radius = real.radii[q][from + i];
                for (j, &v) in row.iter().enumerate() {
                    inside[q][j] += (v < radius) as usize;
                }
                recalled[q] += row.iter().zip(&fake.radii[q]).any(|(&v, &rf)| v < rf) as usize;
                covered[q] += (nearest < radius) as usize;
            }
        }
    }
    let (n_real, n_fake) = (r.nrows() as f64, f.nrows() as f64);
    (0..n)
        .map(|q| Prdc {
            precision: inside[q].iter().filter(|&&c| c > 0).count() as f64 / n_fake,
            recall: recalled[q] as f64 / n_real,
            density: inside[q].iter().sum::<usize>() as f64 / (real.ks[q] as f64 * n_fake),
            coverage: covered[q] as f64 / n_real,
        })
        .collect()
}

/// The four measures at one k, as `prdc.compute_prdc(real, fake, nearest_k = k)`.
pub fn prdc_at(real: &[f32], fake: &[f32], dim: usize, k: usize) -> Result<Prdc> {
    Ok(measure(&Balls::new(real, dim, &[k])?, &Balls::new(fake, dim, &[k])?)[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points on a line, as 2-D features (y = 0).
    fn line(xs: &[f32]) -> Vec<f32> {
        xs.iter().flat_map(|&x| [x, 0.0]).collect()
    }

    #[test]
    fn hand_computed_on_a_line() {
        // Real 0, 1, 2, 3: 1-NN radii 1, 1, 1, 1. Fake 0.5, 2.5, 10: 1-NN radii 2, 2, 7.5.
        // Precision: 0.5 (within 1 of 0 and 1) and 2.5 yes, 10 no → 2/3.
        // Recall: real 0 is 0.5 < 2 from fake 0.5, 1 and 2 likewise, 3 is 0.5 < 2 from 2.5 → 4/4.
        // Density: 0.5 lies in the balls of 0 and 1, 2.5 in those of 2 and 3, 10 in none → 4/(1·3).
        // Coverage: every real point's nearest fake is 0.5 away, inside its radius 1 → 4/4.
        let p = prdc_at(&line(&[0.0, 1.0, 2.0, 3.0]), &line(&[0.5, 2.5, 10.0]), 2, 1).unwrap();
        assert_eq!(p, Prdc { precision: 2.0 / 3.0, recall: 1.0, density: 4.0 / 3.0, coverage: 1.0 });
    }

    #[test]
    fn boundaries_are_outside_and_radii_skip_the_point_itself() {
        // Real 0, 2, 4 (1-NN radius 2 each); fake 4 and 6 (radius 2 each). Distances of exactly 2
        // are on a ball's edge, which strict "<" leaves outside.
        let p = prdc_at(&line(&[0.0, 2.0, 4.0]), &line(&[4.0, 6.0]), 2, 1).unwrap();
        // Precision: fake 4 is inside real 4's ball (0 < 2), on real 2's edge; 6 is on 4's edge → 1/2.
        // Recall: real 0 is 4 from fake 4, real 2 on fake 4's edge, real 4 inside it → 1/3.
        // Density: fake 4 in one real ball, 6 in none → 1/(1·2). Coverage: only real 4's ball → 1/3.
        assert_eq!(p, Prdc { precision: 0.5, recall: 1.0 / 3.0, density: 0.5, coverage: 1.0 / 3.0 });
    }

    #[test]
    fn too_few_points_for_k_is_an_error() {
        let e = prdc_at(&line(&[0.0, 1.0, 2.0]), &line(&[0.0, 1.0, 2.0, 3.0]), 2, 3).unwrap_err();
        assert!(e.to_string().contains("k = 3") && e.to_string().contains("got 3"), "{e}");
    }
}

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
    /// Precision and recall at k = 3, density and coverage at k = 5: each at its authors' k.
    pub fn of(real: &[f32], fake: &[f32], dim: usize) -> Result<Self> {
        let pr = prdc_at(real, fake, dim, PR_NEIGHBOURS)?;
        let dc = if DC_NEIGHBOURS == PR_NEIGHBOURS { pr } else { prdc_at(real, fake, dim, DC_NEIGHBOURS)? };
        Ok(Self { precision: pr.precision, recall: pr.recall, density: dc.density, coverage: dc.coverage })
    }
}

fn matrix(features: &[f32], dim: usize) -> DMatrix<f64> {
    DMatrix::from_fn(features.len() / dim, dim, |r, c| features[r * dim + c] as f64)
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

/// Each row's distance to its k-th nearest other row: the (k+1)-th smallest counting itself at 0.
fn radii(m: &DMatrix<f64>, k: usize) -> Vec<f64> {
    let norms = squared_norms(m);
    let mut out = Vec::with_capacity(m.nrows());
    for from in (0..m.nrows()).step_by(CHUNK) {
        let chunk = CHUNK.min(m.nrows() - from);
        let d = distances(m, from, chunk, m, &norms);
        for i in 0..chunk {
            let mut row: Vec<f64> = d.row(i).iter().copied().collect();
            row[from + i] = 0.0;
            out.push(*row.select_nth_unstable_by(k, f64::total_cmp).1);
        }
    }
    out
}

/// The four measures at one k, as `prdc.compute_prdc(real, fake, nearest_k = k)`.
pub fn prdc_at(real: &[f32], fake: &[f32], dim: usize, k: usize) -> Result<Prdc> {
    let (r, f) = (matrix(real, dim), matrix(fake, dim));
    if r.nrows() <= k || f.nrows() <= k {
        bail!("precision, recall, density and coverage at k = {k} need more than {k} images in each set ({} real, {} generated)", r.nrows(), f.nrows());
    }
    let (real_radii, fake_radii) = (radii(&r, k), radii(&f, k));
    let fake_norms = squared_norms(&f);
    // Per generated image: how many real balls hold it; per real image: whether some generated
    // ball holds it (recall) and whether its own ball holds some generated image (coverage).
    let mut inside = vec![0usize; f.nrows()];
    let (mut recalled, mut covered) = (0usize, 0usize);
    for from in (0..r.nrows()).step_by(CHUNK) {
        let chunk = CHUNK.min(r.nrows() - from);
        let d = distances(&r, from, chunk, &f, &fake_norms);
        for i in 0..chunk {
            let radius = real_radii[from + i];
            let row = d.row(i);
            for (j, &v) in row.iter().enumerate() {
                inside[j] += (v < radius) as usize;
            }
            recalled += row.iter().zip(&fake_radii).any(|(&v, &rf)| v < rf) as usize;
            covered += (row.min() < radius) as usize;
        }
    }
    let (n_real, n_fake) = (r.nrows() as f64, f.nrows() as f64);
    Ok(Prdc {
        precision: inside.iter().filter(|&&c| c > 0).count() as f64 / n_fake,
        recall: recalled as f64 / n_real,
        density: inside.iter().sum::<usize>() as f64 / (k as f64 * n_fake),
        coverage: covered as f64 / n_real,
    })
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
        assert!(e.to_string().contains("k = 3") && e.to_string().contains("3 real"), "{e}");
    }
}

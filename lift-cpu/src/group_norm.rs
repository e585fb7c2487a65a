//! GroupNorm with an optional SiLU after it, in one pass each way, the samples spread over
//! rayon's pool: Burn's composition of it is ten full-size serial passes on flex.

use rayon::prelude::*;

/// One GroupNorm call over `[batch, channels, positions]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormShape {
    pub batch: usize,
    pub channels: usize,
    pub groups: usize,
    pub positions: usize,
    pub epsilon: f64,
    /// Apply SiLU to the normalised, scaled and shifted values.
    pub silu: bool,
}

impl NormShape {
    fn sample_len(&self) -> usize {
        self.channels * self.positions
    }

    fn group_len(&self) -> usize {
        self.channels / self.groups * self.positions
    }

    fn check(&self, x: &[f32], gamma: &[f32], beta: &[f32]) {
        assert!(self.groups > 0 && self.channels.is_multiple_of(self.groups), "{self:?}: groups must divide channels");
        assert_eq!(x.len(), self.batch * self.sample_len(), "input size for {self:?}");
        assert_eq!((gamma.len(), beta.len()), (self.channels, self.channels), "affine sizes for {self:?}");
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Mean and 1/std (biased variance, as PyTorch) of each group, two-pass in f64.
fn group_stats(values: &[f32], epsilon: f64) -> (f32, f32) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean as f32, (1.0 / (var + epsilon).sqrt()) as f32)
}

/// The output and each (sample, group)'s mean and 1/std, interleaved, for [`backward`].
pub fn forward(s: &NormShape, x: &[f32], gamma: &[f32], beta: &[f32]) -> (Vec<f32>, Vec<f32>) {
    s.check(x, gamma, beta);
    let mut y = vec![0.0; x.len()];
    let mut stats = vec![0.0; 2 * s.batch * s.groups];
    if s.batch == 0 {
        return (y, stats);
    }
    let per_group = s.channels / s.groups;
    y.par_chunks_mut(s.sample_len()).zip(x.par_chunks(s.sample_len())).zip(stats.par_chunks_mut(2 * s.groups)).for_each(|((y_b, x_b), st_b)| {
        for (k, (yg, xg)) in y_b.chunks_mut(s.group_len()).zip(x_b.chunks(s.group_len())).enumerate() {
            let (mean, rstd) = group_stats(xg, s.epsilon);
            st_b[2 * k..2 * k + 2].copy_from_slice(&[mean, rstd]);
            for (j, (yc, xc)) in yg.chunks_mut(s.positions).zip(xg.chunks(s.positions)).enumerate() {
                let c = k * per_group + j;
                let (scale, shift) = (gamma[c] * rstd, beta[c] - mean * gamma[c] * rstd);
                for (o, &v) in yc.iter_mut().zip(xc) {
                    let z = v * scale + shift;
                    *o = if s.silu { z * sigmoid(z) } else { z };
                }
            }
        }
    });
    (y, stats)
}

/// Gradients of input, γ and β from the output's gradient `dy` and [`forward`]'s statistics.
pub fn backward(s: &NormShape, x: &[f32], gamma: &[f32], beta: &[f32], stats: &[f32], dy: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    s.check(x, gamma, beta);
    assert_eq!((dy.len(), stats.len()), (x.len(), 2 * s.batch * s.groups), "gradient and statistics sizes for {s:?}");
    let mut dx = vec![0.0; x.len()];
    let zeros = || (vec![0.0f64; s.channels], vec![0.0f64; s.channels]);
    if s.batch == 0 {
        return (dx, vec![0.0; s.channels], vec![0.0; s.channels]);
    }
    let per_group = s.channels / s.groups;
    let n = s.group_len() as f64;
    let (d_gamma, d_beta) = dx
        .par_chunks_mut(s.sample_len())
        .zip(x.par_chunks(s.sample_len()))
        .zip(dy.par_chunks(s.sample_len()))
        .zip(stats.par_chunks(2 * s.groups))
        .map(|(((dx_b, x_b), dy_b), st_b)| {
            let (mut dg, mut db) = zeros();
            let mut g = vec![0.0f32; s.group_len()];
            for k in 0..s.groups {
                let (mean, rstd) = (st_b[2 * k], st_b[2 * k + 1]);
                let range = k * s.group_len()..(k + 1) * s.group_len();
                let (xg, dyg) = (&x_b[range.clone()], &dy_b[range.clone()]);
                // g = ∂L/∂x̂ = dz·γ, with dz through the SiLU; then the normalisation's adjoint.
                let (mut sum_g, mut sum_gx) = (0.0f64, 0.0f64);
                for j in 0..per_group {
                    let c = k * per_group + j;
                    let cols = j * s.positions..(j + 1) * s.positions;
                    let (mut c_dg, mut c_db) = (0.0f64, 0.0f64);
                    for ((gv, &v), &d) in g[cols.clone()].iter_mut().zip(&xg[cols.clone()]).zip(&dyg[cols]) {
                        let xhat = (v - mean) * rstd;
                        let dz = if s.silu {
                            let z = gamma[c] * xhat + beta[c];
                            let sig = sigmoid(z);
                            d * sig * (1.0 + z * (1.0 - sig))
                        } else {
                            d
                        };
                        c_db += dz as f64;
                        c_dg += (dz * xhat) as f64;
                        *gv = dz * gamma[c];
                        sum_g += *gv as f64;
                        sum_gx += (*gv * xhat) as f64;
                    }
                    dg[c] += c_dg;
                    db[c] += c_db;
                }
                let (mean_g, mean_gx) = ((sum_g / n) as f32, (sum_gx / n) as f32);
                for ((o, &v), &gv) in dx_b[range].iter_mut().zip(xg).zip(&g) {
                    let xhat = (v - mean) * rstd;
                    *o = rstd * (gv - mean_g - xhat * mean_gx);
                }
            }
            (dg, db)
        })
        .collect::<Vec<_>>()
        .into_iter()
        // Added in batch order: the same sums whatever the pool's split.
        .fold(zeros(), |(mut ag, mut ab), (bg, bb)| {
            ag.iter_mut().zip(&bg).for_each(|(a, b)| *a += b);
            ab.iter_mut().zip(&bb).for_each(|(a, b)| *a += b);
            (ag, ab)
        });
    let to_f32 = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect();
    (dx, to_f32(d_gamma), to_f32(d_beta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|i| ((i as f32 + seed) * 0.618).sin() * 2.0 + 0.5).collect()
    }

    /// The loss <forward(x, γ, β), v> in f64, for central differences.
    fn loss(s: &NormShape, x: &[f32], gamma: &[f32], beta: &[f32], v: &[f32]) -> f64 {
        forward(s, x, gamma, beta).0.iter().zip(v).map(|(a, b)| *a as f64 * *b as f64).sum()
    }

    #[test]
    fn normalises_each_group_to_zero_mean_and_unit_variance() {
        let s = NormShape { batch: 2, channels: 4, groups: 2, positions: 6, epsilon: 0.0, silu: false };
        let x = values(48, 1.0);
        let (y, _) = forward(&s, &x, &[1.0; 4], &[0.0; 4]);
        for group in y.chunks(12) {
            let mean = group.iter().sum::<f32>() / 12.0;
            let var = group.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 12.0;
            assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4, "mean {mean}, var {var}");
        }
    }

    #[test]
    fn gradients_match_central_differences() {
        for silu in [false, true] {
            let s = NormShape { batch: 2, channels: 6, groups: 3, positions: 5, epsilon: 1e-5, silu };
            let (x, gamma, beta, v) = (values(60, 1.0), values(6, 2.0), values(6, 3.0), values(60, 4.0));
            let (_, stats) = forward(&s, &x, &gamma, &beta);
            let (dx, dg, db) = backward(&s, &x, &gamma, &beta, &stats, &v);
            let h = 1e-2;
            let nudged = |t: &[f32], i: usize, d: f32| {
                let mut t = t.to_vec();
                t[i] += d;
                t
            };
            for i in [0, 7, 31, 59] {
                let fd = (loss(&s, &nudged(&x, i, h), &gamma, &beta, &v) - loss(&s, &nudged(&x, i, -h), &gamma, &beta, &v)) / (2.0 * h as f64);
                assert!((dx[i] as f64 - fd).abs() < 2e-2 * fd.abs().max(1.0), "silu {silu}: dx[{i}] {} vs {fd}", dx[i]);
            }
            for c in [0, 5] {
                let fd_g = (loss(&s, &x, &nudged(&gamma, c, h), &beta, &v) - loss(&s, &x, &nudged(&gamma, c, -h), &beta, &v)) / (2.0 * h as f64);
                let fd_b = (loss(&s, &x, &gamma, &nudged(&beta, c, h), &v) - loss(&s, &x, &gamma, &nudged(&beta, c, -h), &v)) / (2.0 * h as f64);
                assert!((dg[c] as f64 - fd_g).abs() < 2e-2 * fd_g.abs().max(1.0), "silu {silu}: dγ[{c}] {} vs {fd_g}", dg[c]);
                assert!((db[c] as f64 - fd_b).abs() < 2e-2 * fd_b.abs().max(1.0), "silu {silu}: dβ[{c}] {} vs {fd_b}", db[c]);
            }
        }
    }
}

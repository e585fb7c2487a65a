//! 2-D max and average pooling, separable (along rows, then along columns), the planes spread
//! over rayon's pool: flex pools one plane after another and computes max-pool indices nobody
//! reads, a third of the Inception network's time on two cores (profile in `bench/README.md`).

use rayon::prelude::*;

use crate::im2col::Geometry;

/// What a window reduces to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// The largest value; padding is never chosen.
    Max,
    /// The mean, over the whole window with `count_include_pad`, else over its part inside the image.
    Average { count_include_pad: bool },
}

/// One pooling call on `planes` images of one channel each (batch × channels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolPlan {
    pub kind: PoolKind,
    pub planes: usize,
    pub geometry: Geometry,
}

impl PoolPlan {
    /// The plan for `x` `[batch, channels, h, w]`, or `None` where PyTorch would refuse the call
    /// (padding over half the kernel) or a size is zero.
    pub fn new(kind: PoolKind, x: [usize; 4], kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> Option<Self> {
        let [batch, channels, h, w] = x;
        if (0..2).any(|d| 2 * padding[d] > kernel[d]) || batch * channels == 0 {
            return None;
        }
        let geometry = Geometry::new(1, [h, w], kernel, stride, padding, [1, 1])?;
        Some(Self { kind, planes: batch * channels, geometry })
    }

    /// Dimensions of the output for an input of `x` dims.
    pub fn output_dims(&self, x: [usize; 4]) -> [usize; 4] {
        [x[0], x[1], self.geometry.out[0], self.geometry.out[1]]
    }

    /// The pooled planes of `x` (`planes × h × w` values, row-major).
    pub fn forward(&self, x: &[f32]) -> Vec<f32> {
        let [h, w] = self.geometry.image;
        assert_eq!(x.len(), self.planes * h * w, "pooling input size for {self:?}");
        match self.kind {
            PoolKind::Max => self.separable(x, f32::NEG_INFINITY, f32::max),
            PoolKind::Average { .. } => {
                let mut y = self.separable(x, 0.0, |a, b| a + b);
                let [dy, dx] = self.divisors();
                for (row, d) in y.chunks_exact_mut(dx.len()).zip(dy.iter().cycle()) {
                    row.iter_mut().zip(&dx).for_each(|(v, e)| *v /= d * e);
                }
                y
            }
        }
    }

    /// Every window of every plane reduced with `op` from `start`, first along the image rows,
    /// then along the columns (one generic body per operation, so that its loops vectorise).
    fn separable(&self, x: &[f32], start: f32, op: impl Fn(f32, f32) -> f32 + Sync) -> Vec<f32> {
        let g = &self.geometry;
        let ([h, w], [oh, ow]) = (g.image, g.out);
        let taps: Vec<_> = (0..g.kernel[1]).map(|j| g.span(1, j)).collect();
        let mut y = vec![0.0; self.planes * oh * ow];
        y.par_chunks_mut(oh * ow).zip(x.par_chunks(h * w)).for_each_init(
            || vec![0.0; h * ow],
            |rows, (y_p, x_p)| {
                // rows[r, ox] reduces x[r, ox·s − p + j] over the taps j.
                for (row, src) in rows.chunks_exact_mut(ow).zip(x_p.chunks_exact(w)) {
                    row.fill(start);
                    for &(lo, hi, x0) in &taps {
                        let dst = row[lo..hi].iter_mut();
                        if g.stride[1] == 1 {
                            dst.zip(&src[x0..]).for_each(|(acc, &v)| *acc = op(*acc, v));
                        } else {
                            dst.zip(src[x0..].iter().step_by(g.stride[1])).for_each(|(acc, &v)| *acc = op(*acc, v));
                        }
                    }
                }
                // y[oy, ·] reduces rows[oy·s − p + i, ·] over the taps i.
                y_p.fill(start);
                for i in 0..g.kernel[0] {
                    let (lo, hi, r0) = g.span(0, i);
                    for (n, oy) in (lo..hi).enumerate() {
                        let src = &rows[(r0 + n * g.stride[0]) * ow..][..ow];
                        y_p[oy * ow..][..ow].iter_mut().zip(src).for_each(|(acc, &v)| *acc = op(*acc, v));
                    }
                }
            },
        );
        y
    }

    /// For an average, the divisor of each window as a product of its row and column counts.
    fn divisors(&self) -> [Vec<f32>; 2] {
        let count_include_pad = matches!(self.kind, PoolKind::Average { count_include_pad: true });
        let g = &self.geometry;
        [0, 1].map(|d| {
            let mut counts = vec![0.0f32; g.out[d]];
            for tap in 0..g.kernel[d] {
                let (lo, hi, _) = g.span(d, tap);
                counts[lo..hi].iter_mut().for_each(|c| *c += 1.0);
            }
            if count_include_pad {
                // Without ceil mode every window lies inside the padded image.
                counts.fill(g.kernel[d] as f32);
            }
            counts
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool by its definition, window by window.
    fn direct(p: &PoolPlan, x: &[f32]) -> Vec<f32> {
        let g = &p.geometry;
        let ([h, w], [oh, ow]) = (g.image, g.out);
        let mut y = Vec::new();
        for plane in x.chunks_exact(h * w) {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut inside = Vec::new();
                    for i in 0..g.kernel[0] {
                        for j in 0..g.kernel[1] {
                            let iy = (oy * g.stride[0] + i) as isize - g.padding[0] as isize;
                            let ix = (ox * g.stride[1] + j) as isize - g.padding[1] as isize;
                            if iy >= 0 && ix >= 0 && iy < h as isize && ix < w as isize {
                                inside.push(plane[iy as usize * w + ix as usize]);
                            }
                        }
                    }
                    y.push(match p.kind {
                        PoolKind::Max => inside.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                        PoolKind::Average { count_include_pad } => {
                            let n = if count_include_pad { g.kernel[0] * g.kernel[1] } else { inside.len() };
                            inside.iter().sum::<f32>() / n as f32
                        }
                    });
                }
            }
        }
        y
    }

    #[test]
    fn every_kind_and_geometry_matches_the_definition() {
        let kinds = [PoolKind::Max, PoolKind::Average { count_include_pad: true }, PoolKind::Average { count_include_pad: false }];
        let cases = [
            ([2, 3, 7, 6], [3, 3], [1, 1], [1, 1]),
            ([1, 2, 9, 9], [3, 3], [2, 2], [0, 0]),
            ([2, 1, 8, 8], [2, 2], [2, 2], [0, 0]),
            ([1, 1, 5, 7], [3, 2], [2, 1], [1, 1]),
            ([1, 2, 8, 8], [8, 8], [8, 8], [0, 0]),
        ];
        for kind in kinds {
            for (x, k, s, p) in cases {
                let plan = PoolPlan::new(kind, x, k, s, p).unwrap();
                let values: Vec<f32> = (0..x.iter().product()).map(|i| ((i as f32) * 0.731).sin()).collect();
                let (got, want) = (plan.forward(&values), direct(&plan, &values));
                assert_eq!(got.len(), want.len());
                for (a, b) in got.iter().zip(&want) {
                    assert!((a - b).abs() < 1e-6, "{plan:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn padding_over_half_the_kernel_is_refused() {
        assert!(PoolPlan::new(PoolKind::Max, [1, 1, 8, 8], [3, 3], [1, 1], [2, 2]).is_none());
        assert!(PoolPlan::new(PoolKind::Max, [0, 1, 8, 8], [3, 3], [1, 1], [1, 1]).is_none());
    }
}

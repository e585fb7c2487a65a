//! Batched 2-D convolution as one GEMM per image over its window matrix, the images spread over
//! rayon's pool: the forward, its adjoint (the input gradient, also the transposed convolution)
//! and the weight gradient. Groups are 1; layouts are contiguous NCHW. The window matrix is built
//! a band of output rows at a time in a per-thread buffer that stays in the core's cache; a 1×1
//! convolution reads the image itself.

use std::cell::Cell;
use std::ops::Range;

use rayon::prelude::*;

use crate::gemm::{matmul, MatMut, MatRef};
use crate::im2col::{col2im, im2col, Geometry};

/// Values in one band of the window matrix: 512 KiB, half a core's L2 on the machines we profile.
const BAND_VALUES: usize = 1 << 17;

/// One batched convolution: `batch` images of `geometry`, and `features` channels on the window
/// side (a conv2d's output channels, a conv_transpose2d's input channels). The weight is
/// `[features, geometry.channels, kernel height, kernel width]` in both cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    pub batch: usize,
    pub features: usize,
    pub geometry: Geometry,
}

impl ConvShape {
    fn weight_len(&self) -> usize {
        self.features * self.geometry.window_len()
    }

    /// Values of one image on the window side: features × windows.
    fn feature_len(&self) -> usize {
        self.features * self.geometry.windows()
    }

    /// Let gemm split each product when there are fewer images than workers.
    fn gemm_parallel(&self) -> bool {
        self.batch < rayon::current_num_threads()
    }

    /// Output rows per band of the window matrix.
    fn band_rows(&self) -> usize {
        let [oh, ow] = self.geometry.out;
        (BAND_VALUES / (self.geometry.window_len() * ow)).clamp(1, oh.max(1))
    }

    /// Values of the largest band.
    fn band_values(&self) -> usize {
        self.geometry.window_len() * self.band_rows() * self.geometry.out[1]
    }

    /// The bands of output rows, each with its first window (column of the window matrix) and
    /// its number of windows.
    fn bands(&self) -> impl Iterator<Item = (Range<usize>, usize, usize)> {
        let ([oh, ow], rows) = (self.geometry.out, self.band_rows());
        (0..oh).step_by(rows).map(move |r| (r..(r + rows).min(oh), r * ow, rows.min(oh - r) * ow))
    }
}

thread_local! {
    /// The window-matrix band of the convolution running on this thread.
    static BAND: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// `f` on this thread's band buffer of at least `len` values. A task stolen while `f` waits
/// inside a parallel GEMM finds the buffer taken and works in a fresh one.
fn with_band<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut band = BAND.take();
    if band.len() < len {
        band.resize(len, 0.0);
    }
    let out = f(&mut band[..len]);
    BAND.set(band);
    out
}

/// `y[b] = W · im2col(x[b]) + bias` (then ReLU with `relu`): the conv2d forward.
/// `x` is `[batch, channels, h, w]` → `[batch, features, out h, out w]`.
pub fn windows_forward(s: &ConvShape, x: &[f32], weight: &[f32], bias: Option<&[f32]>, relu: bool) -> Vec<f32> {
    let g = &s.geometry;
    assert_eq!(x.len(), s.batch * g.image_len(), "input size for {s:?}");
    assert_eq!(weight.len(), s.weight_len(), "weight size for {s:?}");
    let w = MatRef::new(weight, s.features, g.window_len());
    let mut y = vec![0.0; s.batch * s.feature_len()];
    if s.batch == 0 {
        return y;
    }
    y.par_chunks_mut(s.feature_len()).zip(x.par_chunks(g.image_len())).for_each(|(y_b, x_b)| {
        if g.is_pointwise() {
            matmul(MatMut::new(y_b, s.features, g.windows()), w, MatRef::new(x_b, g.channels, g.windows()), false, s.gemm_parallel());
        } else {
            with_band(s.band_values(), |buffer| {
                for (rows, first, len) in s.bands() {
                    let cols = &mut buffer[..g.window_len() * len];
                    im2col(g, x_b, rows, cols);
                    let dst = MatMut::new(y_b, s.features, g.windows()).columns(first, len);
                    matmul(dst, w, MatRef::new(cols, g.window_len(), len), false, s.gemm_parallel());
                }
            });
        }
        add_bias(y_b, g.windows(), bias, relu);
    });
    y
}

/// Adds to each `plane`-sized plane of `y` (images × channels, the channel cycling through
/// `bias`) its channel's bias, then ReLU with `relu`: the epilogue of both convolutions.
pub(super) fn add_bias(y: &mut [f32], plane: usize, bias: Option<&[f32]>, relu: bool) {
    if bias.is_none() && !relu {
        return;
    }
    for (k, p) in y.chunks_exact_mut(plane).enumerate() {
        let b = bias.map_or(0.0, |bias| bias[k % bias.len()]);
        if relu {
            p.iter_mut().for_each(|v| *v = (*v + b).max(0.0));
        } else {
            p.iter_mut().for_each(|v| *v += b);
        }
    }
}

/// `dx[b] = col2im(Wᵀ · dy[b])`: the adjoint of [`windows_forward`] in its input, which is the
/// conv2d input gradient and the conv_transpose2d forward.
/// `dy` is `[batch, features, out h, out w]` → `[batch, channels, h, w]`.
pub fn windows_adjoint(s: &ConvShape, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    let g = &s.geometry;
    assert_eq!(dy.len(), s.batch * s.feature_len(), "output gradient size for {s:?}");
    assert_eq!(weight.len(), s.weight_len(), "weight size for {s:?}");
    let mut w_t = vec![0.0; weight.len()];
    transpose(weight, s.features, g.window_len(), &mut w_t);
    let w_t = MatRef::new(&w_t, g.window_len(), s.features);
    let mut dx = vec![0.0; s.batch * g.image_len()];
    if s.batch == 0 {
        return dx;
    }
    dx.par_chunks_mut(g.image_len()).zip(dy.par_chunks(s.feature_len())).for_each(|(dx_b, dy_b)| {
        let dy_b = MatRef::new(dy_b, s.features, g.windows());
        if g.is_pointwise() {
            matmul(MatMut::new(dx_b, g.channels, g.windows()), w_t, dy_b, false, s.gemm_parallel());
            return;
        }
        with_band(s.band_values(), |buffer| {
            for (rows, first, len) in s.bands() {
                let cols = &mut buffer[..g.window_len() * len];
                matmul(MatMut::new(cols, g.window_len(), len), w_t, dy_b.columns(first, len), false, s.gemm_parallel());
                col2im(g, cols, rows, dx_b);
            }
        });
    });
    dx
}

/// `dW = Σ_b dy[b] · im2col(x[b])ᵀ`: the weight gradient of both convolutions. Each image's
/// share is computed on its own and the shares are added in batch order, so the sum does not
/// depend on how the pool split the work (training reproduces exactly on any thread count).
pub fn weight_gradient(s: &ConvShape, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let g = &s.geometry;
    assert_eq!(x.len(), s.batch * g.image_len(), "input size for {s:?}");
    assert_eq!(dy.len(), s.batch * s.feature_len(), "output gradient size for {s:?}");
    let shares: Vec<Vec<f32>> = x
        .par_chunks(g.image_len())
        .zip(dy.par_chunks(s.feature_len()))
        .map(|(x_b, dy_b)| {
            let dy_b = MatRef::new(dy_b, s.features, g.windows());
            let mut share = vec![0.0; s.weight_len()];
            if g.is_pointwise() {
                let x_t = MatRef::new(x_b, g.channels, g.windows()).t();
                matmul(MatMut::new(&mut share, s.features, g.channels), dy_b, x_t, false, s.gemm_parallel());
                return share;
            }
            with_band(s.band_values(), |buffer| {
                for (n, (rows, first, len)) in s.bands().enumerate() {
                    let cols = &mut buffer[..g.window_len() * len];
                    im2col(g, x_b, rows, cols);
                    let cols_t = MatRef::new(cols, g.window_len(), len).t();
                    let dst = MatMut::new(&mut share, s.features, g.window_len());
                    matmul(dst, dy_b.columns(first, len), cols_t, n > 0, s.gemm_parallel());
                }
            });
            share
        })
        .collect();
    sum_in_order(shares, s.weight_len())
}

/// The element-wise sum of `parts`, added first to last.
pub(crate) fn sum_in_order(parts: Vec<Vec<f32>>, len: usize) -> Vec<f32> {
    let mut parts = parts.into_iter();
    let mut total = parts.next().unwrap_or_else(|| vec![0.0; len]);
    for part in parts {
        total.iter_mut().zip(&part).for_each(|(t, p)| *t += p);
    }
    total
}

/// `dst` (`cols × rows`) = `src` (`rows × cols`) transposed, in cache-sized tiles: gemm packs a
/// transposed left operand element by element, slower than this copy of a small weight.
fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    const TILE: usize = 32;
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
}

/// Per channel, the sum over the batch and every position: the bias gradient.
/// `dy` is `[batch, channels, positions]` → `[channels]`.
pub fn channel_sums(dy: &[f32], batch: usize, channels: usize) -> Vec<f32> {
    assert!(batch * channels > 0 && dy.len().is_multiple_of(batch * channels), "channel sums of {} values", dy.len());
    let positions = dy.len() / (batch * channels);
    let mut sums = vec![0.0f64; channels];
    for (k, plane) in dy.chunks_exact(positions).enumerate() {
        sums[k % channels] += plane.iter().map(|&v| v as f64).sum::<f64>();
    }
    sums.into_iter().map(|v| v as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct convolution by its definition: y[b,f,y,x] = Σ w[f,c,i,j]·x[b,c,y·s−p+i·d, …] + bias.
    fn direct(s: &ConvShape, x: &[f32], w: &[f32], bias: &[f32]) -> Vec<f32> {
        let g = &s.geometry;
        let ([h, wd], [kh, kw], [oh, ow]) = (g.image, g.kernel, g.out);
        let mut y = vec![0.0; s.batch * s.features * oh * ow];
        for b in 0..s.batch {
            for f in 0..s.features {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = bias[f] as f64;
                        for c in 0..g.channels {
                            for i in 0..kh {
                                for j in 0..kw {
                                    let iy = (oy * g.stride[0] + i * g.dilation[0]) as isize - g.padding[0] as isize;
                                    let ix = (ox * g.stride[1] + j * g.dilation[1]) as isize - g.padding[1] as isize;
                                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                        continue;
                                    }
                                    let xv = x[((b * g.channels + c) * h + iy as usize) * wd + ix as usize];
                                    acc += (w[((f * g.channels + c) * kh + i) * kw + j] * xv) as f64;
                                }
                            }
                        }
                        y[((b * s.features + f) * oh + oy) * ow + ox] = acc as f32;
                    }
                }
            }
        }
        y
    }

    fn values(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|i| ((i as f32 + seed) * 0.618).sin()).collect()
    }

    fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(a, b)| *a as f64 * *b as f64).sum()
    }

    fn shapes() -> Vec<ConvShape> {
        let g = |c, i, k, st, p| Geometry::new(c, i, k, st, p, [1, 1]).unwrap();
        vec![
            ConvShape { batch: 3, features: 4, geometry: g(2, [6, 5], [3, 3], [1, 1], [1, 1]) },
            ConvShape { batch: 2, features: 3, geometry: g(3, [8, 8], [4, 4], [2, 2], [1, 1]) },
            ConvShape { batch: 1, features: 5, geometry: g(4, [4, 4], [1, 1], [1, 1], [0, 0]) },
            // Window matrices of several bands.
            ConvShape { batch: 2, features: 3, geometry: g(64, [40, 20], [3, 3], [1, 1], [1, 1]) },
            ConvShape { batch: 1, features: 2, geometry: g(64, [41, 30], [3, 3], [2, 2], [0, 0]) },
        ]
    }

    #[test]
    fn the_forward_is_the_direct_convolution() {
        for s in shapes() {
            let g = &s.geometry;
            let (x, w, b) = (values(s.batch * g.image_len(), 1.0), values(s.weight_len(), 2.0), values(s.features, 3.0));
            let want = direct(&s, &x, &w, &b);
            let got = windows_forward(&s, &x, &w, Some(&b), false);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-5, "{s:?}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn the_gradients_are_the_forwards_adjoints() {
        // <conv(x; W), v> = <x, adjoint(W; v)> = <W, weight_gradient(x, v)>, and the bias
        // gradient is the sum of v per channel.
        for s in shapes() {
            let g = &s.geometry;
            let (x, w) = (values(s.batch * g.image_len(), 4.0), values(s.weight_len(), 5.0));
            let v = values(s.batch * s.feature_len(), 6.0);
            let y = windows_forward(&s, &x, &w, None, false);
            let reference = dot(&y, &v);
            let by_input = dot(&x, &windows_adjoint(&s, &w, &v));
            let by_weight = dot(&w, &weight_gradient(&s, &x, &v));
            for got in [by_input, by_weight] {
                assert!((got - reference).abs() < 1e-4 * reference.abs().max(1.0), "{s:?}: {got} vs {reference}");
            }
            let sums = channel_sums(&v, s.batch, s.features);
            let by_hand: f64 = (0..s.batch).map(|b| v[(b * s.features) * g.windows()..][..g.windows()].iter().map(|&v| v as f64).sum::<f64>()).sum();
            assert!((sums[0] as f64 - by_hand).abs() < 1e-4);
        }
    }
}

//! The window matrix of a 2-D convolution and its adjoint: `im2col` gathers every kernel window
//! of an image into a column, `col2im` adds columns back onto the image; both over a band of
//! window rows, so that a convolution can work through its image in cache-sized pieces.

use std::ops::Range;

/// Where a convolution's kernel windows sit on its image (one image, no batch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Channels of the image.
    pub channels: usize,
    /// Image height and width.
    pub image: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    /// Height and width of the grid of windows (the convolution's output).
    pub out: [usize; 2],
}

impl Geometry {
    /// The geometry, or `None` when the padded image holds no window or a size is zero.
    pub fn new(channels: usize, image: [usize; 2], kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2], dilation: [usize; 2]) -> Option<Self> {
        let mut out = [0; 2];
        for d in 0..2 {
            let reach = dilation[d] * kernel[d].checked_sub(1)? + 1;
            let padded = image[d] + 2 * padding[d];
            if stride[d] == 0 || dilation[d] == 0 || padded < reach {
                return None;
            }
            out[d] = (padded - reach) / stride[d] + 1;
        }
        (channels > 0).then_some(Self { channels, image, kernel, stride, padding, dilation, out })
    }

    /// Values in one image: channels × height × width.
    pub fn image_len(&self) -> usize {
        self.channels * self.image[0] * self.image[1]
    }

    /// Rows of the window matrix: channels × kernel height × kernel width.
    pub fn window_len(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    /// Columns of the window matrix: one per window.
    pub fn windows(&self) -> usize {
        self.out[0] * self.out[1]
    }

    /// Along dimension `d`, for kernel tap `tap`: the output range whose input index
    /// `o·stride − padding + tap·dilation` lies inside the image, and the input index at its start.
    pub(super) fn span(&self, d: usize, tap: usize) -> (usize, usize, usize) {
        let (s, len) = (self.stride[d] as isize, self.image[d] as isize);
        let offset = (tap * self.dilation[d]) as isize - self.padding[d] as isize;
        // Smallest o with o·s + offset ≥ 0, and one past the largest with o·s + offset < len.
        let lo = if offset >= 0 { 0 } else { (-offset + s - 1) / s };
        let hi = if len - offset <= 0 { 0 } else { (len - offset + s - 1) / s };
        let (lo, hi) = (lo.min(self.out[d] as isize) as usize, hi.min(self.out[d] as isize) as usize);
        let hi = hi.max(lo);
        (lo, hi, (lo as isize * s + offset).max(0) as usize)
    }

    /// Per kernel row: the window rows within `out_rows` that read inside the image, and the
    /// image row the first of them reads; per kernel column, its [`span`](Self::span).
    #[allow(clippy::type_complexity)]
    fn taps(&self, out_rows: &Range<usize>) -> (Vec<(Range<usize>, usize)>, Vec<(usize, usize, usize)>) {
        let rows = (0..self.kernel[0]).map(|i| {
            let (lo, hi, first) = self.span(0, i);
            let (start, end) = (lo.max(out_rows.start), hi.min(out_rows.end));
            (start..end.max(start), first + (start - lo) * self.stride[0])
        });
        (rows.collect(), (0..self.kernel[1]).map(|j| self.span(1, j)).collect())
    }

    /// True when the window matrix is the image itself: a 1×1 kernel, stride 1, no padding.
    pub fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.padding == [0, 0]
    }
}

/// `cols[(c, i, j), (y, x)] = image[c, y·s − p + i·d, x·s − p + j·d]`, zero outside the image,
/// for the window rows `y` in `out_rows`. `image` is `[channels, height, width]`; `cols` is
/// `[window_len, out_rows.len() × out width]`, row-major.
pub fn im2col(g: &Geometry, image: &[f32], out_rows: Range<usize>, cols: &mut [f32]) {
    assert_eq!(image.len(), g.image_len(), "image of {} values for {g:?}", image.len());
    let ([h, w], ow) = (g.image, g.out[1]);
    assert_eq!(cols.len(), g.window_len() * out_rows.len() * ow, "window matrix size for {g:?}");
    let mut rows = cols.chunks_exact_mut(out_rows.len() * ow);
    let (y_taps, x_taps) = g.taps(&out_rows);
    for plane in image.chunks_exact(h * w) {
        for (ys, iy0) in &y_taps {
            for &(x_lo, x_hi, ix0) in &x_taps {
                let row = rows.next().expect("one row per channel and tap");
                // Only windows that reach past the image need zeros.
                if x_lo > 0 || x_hi < ow || ys.len() < out_rows.len() {
                    row.fill(0.0);
                }
                if x_lo == x_hi {
                    continue;
                }
                for (n, y) in ys.clone().enumerate() {
                    let src = &plane[(iy0 + n * g.stride[0]) * w..][..w];
                    let dst = &mut row[(y - out_rows.start) * ow..][..ow][x_lo..x_hi];
                    if g.stride[1] == 1 {
                        dst.copy_from_slice(&src[ix0..ix0 + dst.len()]);
                    } else {
                        for (k, v) in dst.iter_mut().enumerate() {
                            *v = src[ix0 + k * g.stride[1]];
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every entry of `cols` (window rows `out_rows`) onto the image
/// value it was read from.
pub fn col2im(g: &Geometry, cols: &[f32], out_rows: Range<usize>, image: &mut [f32]) {
    assert_eq!(image.len(), g.image_len(), "image of {} values for {g:?}", image.len());
    assert_eq!(cols.len(), g.window_len() * out_rows.len() * g.out[1], "window matrix size for {g:?}");
    let ([h, w], ow) = (g.image, g.out[1]);
    let mut rows = cols.chunks_exact(out_rows.len() * ow);
    let (y_taps, x_taps) = g.taps(&out_rows);
    for plane in image.chunks_exact_mut(h * w) {
        for (ys, iy0) in &y_taps {
            for &(x_lo, x_hi, ix0) in &x_taps {
                let row = rows.next().expect("one row per channel and tap");
                if x_lo == x_hi {
                    continue;
                }
                for (n, y) in ys.clone().enumerate() {
                    let dst = &mut plane[(iy0 + n * g.stride[0]) * w..][..w];
                    let src = &row[(y - out_rows.start) * ow..][..ow][x_lo..x_hi];
                    if g.stride[1] == 1 {
                        for (d, s) in dst[ix0..ix0 + src.len()].iter_mut().zip(src) {
                            *d += s;
                        }
                    } else {
                        for (k, s) in src.iter().enumerate() {
                            dst[ix0 + k * g.stride[1]] += s;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window value by its definition, with signed arithmetic.
    fn tap(g: &Geometry, image: &[f32], c: usize, (i, j): (usize, usize), (y, x): (usize, usize)) -> f32 {
        let iy = (y * g.stride[0] + i * g.dilation[0]) as isize - g.padding[0] as isize;
        let ix = (x * g.stride[1] + j * g.dilation[1]) as isize - g.padding[1] as isize;
        let [h, w] = g.image;
        if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
            return 0.0;
        }
        image[(c * h + iy as usize) * w + ix as usize]
    }

    fn geometries() -> Vec<Geometry> {
        let cases = [
            (2, [5, 6], [3, 3], [1, 1], [1, 1], [1, 1]),
            (3, [8, 8], [4, 4], [2, 2], [1, 1], [1, 1]),
            (1, [7, 5], [1, 1], [1, 1], [0, 0], [1, 1]),
            (2, [9, 7], [3, 2], [2, 3], [2, 0], [2, 1]),
            (1, [2, 2], [3, 3], [1, 1], [2, 2], [1, 1]),
        ];
        cases.iter().map(|&(c, i, k, s, p, d)| Geometry::new(c, i, k, s, p, d).unwrap()).collect()
    }

    #[test]
    fn windows_read_the_image_as_defined() {
        for g in geometries() {
            let image: Vec<f32> = (0..g.image_len()).map(|v| v as f32 + 1.0).collect();
            let mut cols = vec![f32::NAN; g.window_len() * g.windows()];
            im2col(&g, &image, 0..g.out[0], &mut cols);
            let mut k = 0;
            for c in 0..g.channels {
                for i in 0..g.kernel[0] {
                    for j in 0..g.kernel[1] {
                        for y in 0..g.out[0] {
                            for x in 0..g.out[1] {
                                assert_eq!(cols[k], tap(&g, &image, c, (i, j), (y, x)), "{g:?} at {k}");
                                k += 1;
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(u), v> = <u, col2im(v)> for any u, v.
        for g in geometries() {
            let u: Vec<f32> = (0..g.image_len()).map(|v| (v as f32 * 0.7).sin()).collect();
            let v: Vec<f32> = (0..g.window_len() * g.windows()).map(|v| (v as f32 * 0.3).cos()).collect();
            let mut cols = vec![0.0; v.len()];
            im2col(&g, &u, 0..g.out[0], &mut cols);
            let mut back = vec![0.0; u.len()];
            col2im(&g, &v, 0..g.out[0], &mut back);
            let lhs: f64 = cols.iter().zip(&v).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
            let rhs: f64 = u.iter().zip(&back).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
            assert!((lhs - rhs).abs() < 1e-4 * lhs.abs().max(1.0), "{g:?}: {lhs} vs {rhs}");
        }
    }

    #[test]
    fn bands_of_window_rows_are_slices_of_the_whole_matrix() {
        for g in geometries() {
            let image: Vec<f32> = (0..g.image_len()).map(|v| (v as f32 * 0.9).cos()).collect();
            let mut whole = vec![0.0; g.window_len() * g.windows()];
            im2col(&g, &image, 0..g.out[0], &mut whole);
            let ow = g.out[1];
            let mut back_whole = vec![0.0; g.image_len()];
            col2im(&g, &whole, 0..g.out[0], &mut back_whole);
            let mut back_bands = vec![0.0; g.image_len()];
            for start in 0..g.out[0] {
                let rows = start..(start + 2).min(g.out[0]);
                let mut band = vec![f32::NAN; g.window_len() * rows.len() * ow];
                im2col(&g, &image, rows.clone(), &mut band);
                for (r, got) in band.chunks_exact(rows.len() * ow).enumerate() {
                    assert_eq!(got, &whole[r * g.windows()..][rows.start * ow..rows.end * ow], "{g:?} band {rows:?}");
                }
                // The bands from even starts hold each window row once.
                if start % 2 == 0 {
                    col2im(&g, &band, rows, &mut back_bands);
                }
            }
            let gap = back_whole.iter().zip(&back_bands).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(gap < 1e-5, "{g:?}: {gap}");
        }
    }

    #[test]
    fn sizes_follow_the_convolution_formula() {
        let g = Geometry::new(4, [32, 32], [4, 4], [2, 2], [1, 1], [1, 1]).unwrap();
        assert_eq!(g.out, [16, 16]);
        assert_eq!((g.window_len(), g.windows()), (64, 256));
        assert!(Geometry::new(1, [2, 2], [5, 5], [1, 1], [0, 0], [1, 1]).is_none());
        assert!(Geometry::new(1, [4, 4], [3, 3], [0, 1], [0, 0], [1, 1]).is_none());
    }
}

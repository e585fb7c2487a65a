//! A checked, safe front to the `gemm` crate's strided f32 matrix product.

use gemm::Parallelism;

/// A row-major matrix stored in a slice, read as stored or transposed.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    transposed: bool,
}

impl<'a> MatRef<'a> {
    /// `data` holds `rows × cols` values, row by row.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "matrix of {rows}×{cols} over {} values", data.len());
        Self { data, rows, cols, transposed: false }
    }

    /// The same storage read as its transpose.
    pub fn t(self) -> Self {
        Self { transposed: !self.transposed, ..self }
    }

    /// Logical (rows, cols).
    fn shape(&self) -> (usize, usize) {
        if self.transposed {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }

    /// Logical (column stride, row stride) in elements.
    fn strides(&self) -> (isize, isize) {
        if self.transposed {
            (self.cols as isize, 1)
        } else {
            (1, self.cols as isize)
        }
    }
}

/// `dst = a · b` (or `dst += a · b` with `accumulate`), `dst` row-major of a's rows × b's cols.
/// `parallel` lets gemm split the product over rayon's pool; callers that already run one
/// product per worker pass `false`.
pub fn matmul(dst: &mut [f32], a: MatRef, b: MatRef, accumulate: bool, parallel: bool) {
    let ((m, k), (k2, n)) = (a.shape(), b.shape());
    assert_eq!(k, k2, "inner dimensions {k} and {k2} differ");
    assert_eq!(dst.len(), m * n, "destination of {} values for a {m}×{n} product", dst.len());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    let (a_cs, a_rs) = a.strides();
    let (b_cs, b_rs) = b.strides();
    let parallelism = if parallel { Parallelism::Rayon(0) } else { Parallelism::None };
    // SAFETY: the asserts above and in `MatRef::new` make every index the strides reach lie
    // inside its slice: a's (i, p) at i·a_rs + p·a_cs < rows·cols, likewise b and dst; `dst` is
    // borrowed mutably and does not alias the shared `a` and `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a_cs,
            a_rs,
            b.data.as_ptr(),
            b_cs,
            b_rs,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product by its definition, on logical (row, col) accessors.
    fn naive(a: &[f32], (m, k): (usize, usize), at: bool, b: &[f32], n: usize, bt: bool) -> Vec<f32> {
        let a_at = |i: usize, p: usize| if at { a[p * m + i] } else { a[i * k + p] };
        let b_at = |p: usize, j: usize| if bt { b[j * k + p] } else { b[p * n + j] };
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| a_at(i, p) * b_at(p, j)).sum();
            }
        }
        out
    }

    #[test]
    fn every_transpose_combination_matches_the_definition() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        for (at, bt) in [(false, false), (true, false), (false, true), (true, true)] {
            let ma = if at { MatRef::new(&a, k, m).t() } else { MatRef::new(&a, m, k) };
            let mb = if bt { MatRef::new(&b, n, k).t() } else { MatRef::new(&b, k, n) };
            let want = naive(&a, (m, k), at, &b, n, bt);
            let mut got = vec![1.0; m * n];
            matmul(&mut got, ma, mb, true, false);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - (w + 1.0)).abs() < 1e-5, "accumulate {at} {bt}: {g} vs {}", w + 1.0);
            }
            matmul(&mut got, ma, mb, false, true);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-5, "overwrite {at} {bt}: {g} vs {w}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "inner dimensions")]
    fn mismatched_shapes_are_refused() {
        let a = [0.0; 6];
        matmul(&mut [0.0; 4], MatRef::new(&a, 2, 3), MatRef::new(&a, 2, 3), false, false);
    }
}

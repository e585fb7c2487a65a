//! A checked, safe front to the `gemm` crate's strided f32 matrix product.

use gemm::Parallelism;

/// A row-major matrix stored in a slice (rows `stride` values apart), read as stored or transposed.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    stride: usize,
    transposed: bool,
}

impl<'a> MatRef<'a> {
    /// `data` holds `rows × cols` values, row by row.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "matrix of {rows}×{cols} over {} values", data.len());
        Self { data, rows, cols, stride: cols, transposed: false }
    }

    /// The same storage read as its transpose.
    pub fn t(self) -> Self {
        Self { transposed: !self.transposed, ..self }
    }

    /// Stored columns `start..start + len` (of the matrix as stored, before any transpose).
    pub fn columns(self, start: usize, len: usize) -> Self {
        assert!(start + len <= self.cols, "columns {start}..{} of {}", start + len, self.cols);
        Self { data: &self.data[start.min(self.data.len())..], cols: len, ..self }
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
            (self.stride as isize, 1)
        } else {
            (1, self.stride as isize)
        }
    }
}

/// A row-major destination matrix in a slice, rows `stride` values apart.
#[derive(Debug)]
pub struct MatMut<'a> {
    data: &'a mut [f32],
    rows: usize,
    cols: usize,
    stride: usize,
}

impl<'a> MatMut<'a> {
    /// `data` holds `rows × cols` values, row by row.
    pub fn new(data: &'a mut [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "matrix of {rows}×{cols} over {} values", data.len());
        Self { data, rows, cols, stride: cols }
    }

    /// Columns `start..start + len` of the matrix.
    pub fn columns(self, start: usize, len: usize) -> Self {
        assert!(start + len <= self.cols, "columns {start}..{} of {}", start + len, self.cols);
        let at = start.min(self.data.len());
        Self { data: &mut self.data[at..], cols: len, ..self }
    }
}

/// `dst = a · b` (or `dst += a · b` with `accumulate`), `dst` of a's rows × b's cols.
/// `parallel` lets gemm split the product over rayon's pool; callers that already run one
/// product per worker pass `false`.
pub fn matmul(dst: MatMut, a: MatRef, b: MatRef, accumulate: bool, parallel: bool) {
    let ((m, k), (k2, n)) = (a.shape(), b.shape());
    assert_eq!(k, k2, "inner dimensions {k} and {k2} differ");
    assert_eq!((dst.rows, dst.cols), (m, n), "destination of {}×{} for a {m}×{n} product", dst.rows, dst.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.data.chunks_mut(dst.stride).for_each(|row| row[..n].fill(0.0));
        }
        return;
    }
    let (a_cs, a_rs) = a.strides();
    let (b_cs, b_rs) = b.strides();
    let parallelism = if parallel { Parallelism::Rayon(0) } else { Parallelism::None };
    // SAFETY: every matrix here was built by `new` (which checks rows × cols values) and
    // narrowed by `columns` (which keeps start + cols ≤ the stored cols, the stride unchanged),
    // so its (i, j) at i·stride + j lies inside its slice, and the product's shapes agree by the
    // asserts above; `dst` is borrowed mutably and does not alias the shared `a` and `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.data.as_mut_ptr(),
            1,
            dst.stride as isize,
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
            matmul(MatMut::new(&mut got, m, n), ma, mb, true, false);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - (w + 1.0)).abs() < 1e-5, "accumulate {at} {bt}: {g} vs {}", w + 1.0);
            }
            matmul(MatMut::new(&mut got, m, n), ma, mb, false, true);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-5, "overwrite {at} {bt}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn column_blocks_of_a_wider_matrix_are_products_of_their_blocks() {
        // [a·b₀ | a·b₁] written block by block into a 2×5 destination, b read as column blocks.
        let (a, b): (Vec<f32>, Vec<f32>) = ((0..6).map(|i| i as f32 - 2.0).collect(), (0..15).map(|i| (i as f32 * 0.3).sin()).collect());
        let want = naive(&a, (2, 3), false, &b, 5, false);
        let mut got = vec![f32::NAN; 10];
        for (start, len) in [(0, 2), (2, 3)] {
            let dst = MatMut::new(&mut got, 2, 5).columns(start, len);
            matmul(dst, MatRef::new(&a, 2, 3), MatRef::new(&b, 3, 5).columns(start, len), false, false);
        }
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{g} vs {w}");
        }
        // The transpose of a column block: (b[:, 1..3])ᵀ · aᵀ-shaped product.
        let bt = MatRef::new(&b, 3, 5).columns(1, 2).t();
        let mut out = vec![0.0; 4];
        matmul(MatMut::new(&mut out, 2, 2), bt, MatRef::new(&a, 3, 2), false, false);
        let want: Vec<f32> = (0..4).map(|e| (0..3).map(|p| b[p * 5 + 1 + e / 2] * a[p * 2 + e % 2]).sum()).collect();
        for (g, w) in out.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{g} vs {w}");
        }
    }

    #[test]
    #[should_panic(expected = "inner dimensions")]
    fn mismatched_shapes_are_refused() {
        let a = [0.0; 6];
        matmul(MatMut::new(&mut [0.0; 4], 2, 2), MatRef::new(&a, 2, 3), MatRef::new(&a, 2, 3), false, false);
    }
}

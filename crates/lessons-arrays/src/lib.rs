//! The NumPy → ndarray lessons (`examples/numpy/`, and `arrays_vs_lists`), built on ndarray, faer
//! and rayon only. This library holds the numeric kernels that a lesson explains and a criterion
//! bench measures, kept in one place so both time exactly the same code.

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::mem::MaybeUninit;

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, Zip};

/// Copies an ndarray matrix into a faer matrix (faer has its own layout type).
pub fn to_faer(a: &Array2<f64>) -> faer::Mat<f64> {
    faer::Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

/// Copies a faer matrix into an ndarray matrix.
pub fn from_faer(m: faer::MatRef<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// Matrix product by the textbook triple loop (`i`, `j`, then the dot product over `k`): no
/// blocking, and the inner loop walks `b` down a column, a stride of `n` elements per step.
pub fn matmul_naive(a: &ArrayView2<f64>, b: &ArrayView2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "inner dimensions must agree");
    let mut c = Array2::<f64>::zeros((m, n));
    for i in 0..m {
        for j in 0..n {
            let mut sum = 0.0;
            for p in 0..k {
                sum += a[[i, p]] * b[[p, j]];
            }
            c[[i, j]] = sum;
        }
    }
    c
}

/// Matrix product with faer (cache-blocked, SIMD), on one thread (`faer::Par::Seq`) or over
/// rayon's pool (`faer::Par::rayon(0)`). The ndarray inputs must be in standard (row-major)
/// layout; they are viewed, not copied, and faer writes straight into the output array's buffer.
pub fn matmul_faer(a: &ArrayView2<f64>, b: &ArrayView2<f64>, par: faer::Par) -> Array2<f64> {
    let (m, k) = a.dim();
    let (_, n) = b.dim();
    let a_slice = a.as_slice().expect("a must be in standard layout");
    let b_slice = b.as_slice().expect("b must be in standard layout");
    let lhs = faer::MatRef::from_row_major_slice(a_slice, m, k);
    let rhs = faer::MatRef::from_row_major_slice(b_slice, k, n);
    let mut c = Array2::<f64>::zeros((m, n));
    let out = c.as_slice_mut().expect("a new array is contiguous");
    let dst = faer::MatMut::from_row_major_slice_mut(out, m, n);
    faer::linalg::matmul::matmul(dst, faer::Accum::Replace, lhs, rhs, 1.0, par);
    c
}

/// The STREAM "triad" `z = a·x + y` written as an indexed loop.
pub fn triad_indexed(z: &mut [f64], a: f64, x: &[f64], y: &[f64]) {
    for i in 0..z.len() {
        z[i] = a * x[i] + y[i];
    }
}

/// The triad as an iterator chain: no indices, so no bounds checks.
pub fn triad_iter(z: &mut [f64], a: f64, x: &[f64], y: &[f64]) {
    z.iter_mut()
        .zip(x.iter().zip(y))
        .for_each(|(z, (x, y))| *z = a * x + y);
}

/// The triad in explicit chunks of eight, a shape the compiler maps onto SIMD registers.
pub fn triad_chunked(z: &mut [f64], a: f64, x: &[f64], y: &[f64]) {
    let mut zc = z.chunks_exact_mut(8);
    let mut xc = x.chunks_exact(8);
    let mut yc = y.chunks_exact(8);
    for ((z, x), y) in (&mut zc).zip(&mut xc).zip(&mut yc) {
        for i in 0..8 {
            z[i] = a * x[i] + y[i];
        }
    }
    triad_iter(zc.into_remainder(), a, xc.remainder(), yc.remainder());
}

/// The triad with ndarray's `Zip`, which checks shapes once and then runs a flat loop.
pub fn triad_zip(z: ArrayViewMut1<f64>, a: f64, x: ArrayView1<f64>, y: ArrayView1<f64>) {
    Zip::from(z)
        .and(x)
        .and(y)
        .for_each(|z, &x, &y| *z = a * x + y);
}

/// The triad into a fresh array that `allocator` hands out and takes back: what `&x * a + &y`
/// costs, with the allocator named instead of the global one. Returns the last element written,
/// read back after the whole array has been made visible to the compiler, so no store is dropped
/// (NaN for empty input).
pub fn triad_fresh(allocator: &impl GlobalAlloc, a: f64, x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    if n == 0 {
        return f64::NAN;
    }
    let layout = Layout::array::<f64>(n).expect("an array as long as an existing slice fits");
    // SAFETY: the layout has a non-zero size (n ≥ 1); a null pointer is reported as an allocation
    // failure; every element is written before the slice is formed and read; the block is freed
    // once, with the layout it was allocated with.
    unsafe {
        let ptr = allocator.alloc(layout).cast::<f64>();
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        let fresh = std::slice::from_raw_parts_mut(ptr.cast::<MaybeUninit<f64>>(), n);
        for ((z, &x), &y) in fresh.iter_mut().zip(x).zip(y) {
            z.write(a * x + y);
        }
        let z = black_box(std::slice::from_raw_parts(ptr, n));
        let last = z[n - 1];
        allocator.dealloc(ptr.cast(), layout);
        last
    }
}

/// The triad with `Zip` split across rayon's threads.
pub fn triad_rayon(z: ArrayViewMut1<f64>, a: f64, x: ArrayView1<f64>, y: ArrayView1<f64>) {
    Zip::from(z)
        .and(x)
        .and(y)
        .par_for_each(|z, &x, &y| *z = a * x + y);
}

/// Sums a matrix stored as one `Vec` per row.
pub fn sum_nested(rows: &[Vec<f64>]) -> f64 {
    rows.iter().map(|r| r.iter().sum::<f64>()).sum()
}

/// Sums a matrix by visiting elements in logical row order, whatever its memory layout: with a
/// row-major array this streams through memory, with a column-major one it jumps a whole column
/// length between neighbours.
pub fn sum_rows_first(m: &ArrayView2<f64>) -> f64 {
    let mut total = 0.0;
    for row in m.rows() {
        for &v in row {
            total += v;
        }
    }
    total
}

/// Sums a matrix by visiting elements in logical column order (the mirror of [`sum_rows_first`]).
pub fn sum_columns_first(m: &ArrayView2<f64>) -> f64 {
    let mut total = 0.0;
    for column in m.columns() {
        for &v in column {
            total += v;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};

    #[test]
    fn matmul_variants_agree_with_a_hand_product() {
        let a = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let b = array![[1.0, 0.0, 2.0], [0.0, 1.0, 3.0]];
        let expected = array![[1.0, 2.0, 8.0], [3.0, 4.0, 18.0], [5.0, 6.0, 28.0]];
        assert_eq!(matmul_naive(&a.view(), &b.view()), expected);
        assert_eq!(matmul_faer(&a.view(), &b.view(), faer::Par::Seq), expected);
        assert_eq!(
            matmul_faer(&a.view(), &b.view(), faer::Par::rayon(0)),
            expected
        );
    }

    #[test]
    fn triad_variants_are_bit_identical() {
        let n = 1003; // not a multiple of 8, so the chunked remainder runs too
        let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.37).collect();
        let y: Vec<f64> = (0..n).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let mut expected = vec![0.0; n];
        triad_indexed(&mut expected, 2.5, &x, &y);
        let mut z = vec![0.0; n];
        triad_iter(&mut z, 2.5, &x, &y);
        assert_eq!(z, expected);
        triad_chunked(&mut z, 2.5, &x, &y);
        assert_eq!(z, expected);
        let (xa, ya) = (Array1::from(x), Array1::from(y));
        let mut za = Array1::zeros(n);
        triad_zip(za.view_mut(), 2.5, xa.view(), ya.view());
        assert_eq!(za.to_vec(), expected);
        triad_rayon(za.view_mut(), 2.5, xa.view(), ya.view());
        assert_eq!(za.to_vec(), expected);
        let (xs, ys) = (xa.as_slice().unwrap(), ya.as_slice().unwrap());
        assert_eq!(
            triad_fresh(&std::alloc::System, 2.5, xs, ys),
            expected[n - 1]
        );
        assert_eq!(
            triad_fresh(&mimalloc::MiMalloc, 2.5, xs, ys),
            expected[n - 1]
        );
        assert!(triad_fresh(&std::alloc::System, 2.5, &[], &[]).is_nan());
    }

    #[test]
    fn traversal_orders_sum_the_same_values() {
        let m = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
        assert_eq!(sum_rows_first(&m.view()), 66.0);
        assert_eq!(sum_columns_first(&m.view()), 66.0);
        assert_eq!(sum_nested(&[vec![1.0, 2.0], vec![3.0]]), 6.0);
    }
}

//! Numeric kernels that a lesson explains and a criterion bench measures, kept in one place so
//! both time exactly the same code.

use std::collections::HashMap;
use std::path::Path;

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, Zip};
use polars::prelude::*;

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

/// Matrix product with faer (cache-blocked, SIMD, parallel over rayon's pool). The ndarray inputs
/// must be in standard (row-major) layout; they are viewed, not copied, and faer writes straight
/// into the output array's buffer.
pub fn matmul_faer(a: &ArrayView2<f64>, b: &ArrayView2<f64>, parallel: bool) -> Array2<f64> {
    let (m, k) = a.dim();
    let (_, n) = b.dim();
    let a_slice = a.as_slice().expect("a must be in standard layout");
    let b_slice = b.as_slice().expect("b must be in standard layout");
    let lhs = faer::MatRef::from_row_major_slice(a_slice, m, k);
    let rhs = faer::MatRef::from_row_major_slice(b_slice, k, n);
    let mut c = Array2::<f64>::zeros((m, n));
    let out = c.as_slice_mut().expect("a new array is contiguous");
    let dst = faer::MatMut::from_row_major_slice_mut(out, m, n);
    let par = if parallel {
        faer::Par::rayon(0)
    } else {
        faer::Par::Seq
    };
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
        assert_eq!(matmul_faer(&a.view(), &b.view(), false), expected);
        assert_eq!(matmul_faer(&a.view(), &b.view(), true), expected);
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
    }

    #[test]
    fn traversal_orders_sum_the_same_values() {
        let m = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
        assert_eq!(sum_rows_first(&m.view()), 66.0);
        assert_eq!(sum_columns_first(&m.view()), 66.0);
        assert_eq!(sum_nested(&[vec![1.0, 2.0], vec![3.0]]), 6.0);
    }
}

/// What the hand-written flights aggregation keeps per (carrier, month).
#[derive(Default, Debug, Clone, PartialEq)]
pub struct CarrierMonth {
    pub flights: u32,
    pub delay_sum: f64,
    pub delay_known: u32,
    pub delayed_15: u32,
    pub max_arr_delay: Option<f64>,
}

/// Flights by carrier and month with five aggregations, in polars: count, mean departure delay
/// (nulls skipped), share delayed over 15 minutes, worst arrival delay, cancellations.
pub fn flights_by_carrier_month(flights: &DataFrame) -> PolarsResult<DataFrame> {
    flights
        .clone()
        .lazy()
        .group_by([col("carrier"), col("month")])
        .agg([
            len().alias("flights"),
            col("dep_delay").mean().alias("mean_dep_delay"),
            col("dep_delay")
                .gt(lit(15))
                .mean()
                .alias("share_delayed_15"),
            col("arr_delay").max().alias("max_arr_delay"),
            col("dep_delay").null_count().alias("cancelled"),
        ])
        .sort(["carrier", "month"], Default::default())
        .collect()
}

/// The same aggregation by hand: one single-threaded pass into a HashMap.
pub fn flights_by_carrier_month_by_hand(
    carrier: &StringChunked,
    month: &Int64Chunked,
    dep_delay: &Float64Chunked,
    arr_delay: &Float64Chunked,
) -> HashMap<(String, i64), CarrierMonth> {
    let mut groups: HashMap<(String, i64), CarrierMonth> = HashMap::new();
    let rows = carrier
        .iter()
        .zip(month.iter())
        .zip(dep_delay.iter())
        .zip(arr_delay.iter());
    for (((c, m), d), a) in rows {
        let acc = groups
            .entry((c.unwrap_or_default().to_string(), m.unwrap_or_default()))
            .or_default();
        acc.flights += 1;
        if let Some(d) = d {
            acc.delay_sum += d;
            acc.delay_known += 1;
            acc.delayed_15 += u32::from(d > 15.0);
        }
        if let Some(a) = a {
            acc.max_arr_delay = Some(acc.max_arr_delay.map_or(a, |m: f64| m.max(a)));
        }
    }
    groups
}

/// July's flights from JFK, eager style: read every column of every row of the Parquet file, then
/// filter with a mask.
pub fn july_jfk_eager(parquet: &Path) -> Result<DataFrame, crate::Error> {
    let to_error = |e: PolarsError| crate::Error::Frame {
        path: parquet.to_path_buf(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(parquet).map_err(|e| crate::Error::io(parquet, e))?;
    let all = ParquetReader::new(file).finish().map_err(to_error)?;
    let month = all
        .column("month")
        .map_err(to_error)?
        .as_materialized_series()
        .equal(7);
    let origin = all
        .column("origin")
        .map_err(to_error)?
        .as_materialized_series()
        .equal("JFK");
    let mask = month.map_err(to_error)? & origin.map_err(to_error)?;
    all.filter(&mask).map_err(to_error)
}

/// The same rows, lazily: a Parquet scan with the filter, which the optimiser pushes into it.
pub fn july_jfk_lazy(parquet: &Path) -> PolarsResult<LazyFrame> {
    Ok(LazyFrame::scan_parquet(
        PlPath::new(&parquet.to_string_lossy()),
        ScanArgsParquet::default(),
    )?
    .filter(col("month").eq(lit(7)).and(col("origin").eq(lit("JFK")))))
}

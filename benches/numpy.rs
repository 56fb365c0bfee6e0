//! Criterion benchmarks for the NumPy → ndarray section: the comparisons its lessons report,
//! measured properly. Run with `cargo bench --bench numpy`; add `-- matmul` (or another group
//! name) to run one group.
//!
//! - `nested_vs_array2`: summing an n×n matrix stored as `Vec<Vec<f64>>` or as one `Array2`;
//! - `triad`: `z = a·x + y` as an indexed loop, iterator, chunks, `Zip` and `Zip` + rayon;
//! - `matmul`: the naive triple loop, ndarray's `dot` and faer (1 thread and all threads);
//! - `traversal`: summing a row-major matrix rows first (with the layout) and columns first.
//!
//! Every BenchmarkId carries the size, and throughput is set so criterion reports bytes or
//! elements per second.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use lessons_arrays as kernels;
use ndarray::{Array1, Array2};

// The workspace's global allocator, mimalloc, which the harness installs: the benches measure
// what the lessons run on.
use harness as _;

fn matrix(n: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| ((i * 31 + j * 17) % 101) as f64 / 101.0)
}

fn nested_vs_array2(c: &mut Criterion) {
    let mut group = c.benchmark_group("nested_vs_array2");
    for n in [256, 1024, 2048] {
        let array = matrix(n);
        let nested: Vec<Vec<f64>> = array.rows().into_iter().map(|r| r.to_vec()).collect();
        group.throughput(Throughput::Bytes((8 * n * n) as u64));
        group.bench_with_input(BenchmarkId::new("Vec<Vec<f64>>", n), &nested, |b, m| {
            b.iter(|| kernels::sum_nested(black_box(m)))
        });
        group.bench_with_input(BenchmarkId::new("Array2::sum", n), &array, |b, m| {
            b.iter(|| black_box(m).sum())
        });
    }
    group.finish();
}

fn triad(c: &mut Criterion) {
    let mut group = c.benchmark_group("triad");
    for n in [1 << 12, 1 << 16, 1 << 22] {
        let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let y: Vec<f64> = (0..n).map(|i| (n - i) as f64).collect();
        let (xa, ya) = (Array1::from(x.clone()), Array1::from(y.clone()));
        let mut z = vec![0.0; n];
        let mut za = Array1::<f64>::zeros(n);
        group.throughput(Throughput::Bytes((24 * n) as u64));
        group.bench_function(BenchmarkId::new("indexed", n), |b| {
            b.iter(|| kernels::triad_indexed(&mut z, 1.5, &x, &y))
        });
        group.bench_function(BenchmarkId::new("iterator", n), |b| {
            b.iter(|| kernels::triad_iter(&mut z, 1.5, &x, &y))
        });
        group.bench_function(BenchmarkId::new("chunked", n), |b| {
            b.iter(|| kernels::triad_chunked(&mut z, 1.5, &x, &y))
        });
        group.bench_function(BenchmarkId::new("zip", n), |b| {
            b.iter(|| kernels::triad_zip(za.view_mut(), 1.5, xa.view(), ya.view()))
        });
        group.bench_function(BenchmarkId::new("zip_rayon", n), |b| {
            b.iter(|| kernels::triad_rayon(za.view_mut(), 1.5, xa.view(), ya.view()))
        });
    }
    group.finish();
}

fn matmul(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul");
    group.sample_size(10);
    for n in [64, 256, 512] {
        let (a, b) = (
            matrix(n),
            matrix(n).reversed_axes().as_standard_layout().to_owned(),
        );
        // Throughput in "elements" is the 2n³ floating-point operations: criterion's elem/s is
        // then FLOP/s.
        group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        if n <= 256 {
            group.bench_function(BenchmarkId::new("naive", n), |bench| {
                bench.iter(|| kernels::matmul_naive(&a.view(), &b.view()))
            });
        }
        group.bench_function(BenchmarkId::new("ndarray_dot", n), |bench| {
            bench.iter(|| a.dot(&b))
        });
        group.bench_function(BenchmarkId::new("faer_1_thread", n), |bench| {
            bench.iter(|| kernels::matmul_faer(&a.view(), &b.view(), faer::Par::Seq))
        });
        group.bench_function(BenchmarkId::new("faer_all_threads", n), |bench| {
            bench.iter(|| kernels::matmul_faer(&a.view(), &b.view(), faer::Par::rayon(0)))
        });
    }
    group.finish();
}

fn traversal(c: &mut Criterion) {
    let mut group = c.benchmark_group("traversal");
    group.sample_size(10);
    for n in [512, 2048] {
        let m = matrix(n);
        group.throughput(Throughput::Bytes((8 * n * n) as u64));
        group.bench_function(BenchmarkId::new("with_layout", n), |b| {
            b.iter(|| kernels::sum_rows_first(&m.view()))
        });
        group.bench_function(BenchmarkId::new("against_layout", n), |b| {
            b.iter(|| kernels::sum_columns_first(&m.view()))
        });
    }
    group.finish();
}

criterion_group!(benches, nested_vs_array2, triad, matmul, traversal);

// criterion_main! written out, to register the embedded font first: criterion draws its HTML report
// with plotters, which (built without system-font support) has no font until one is registered.
fn main() {
    harness::plot::register_font();
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}

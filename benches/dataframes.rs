//! Criterion benchmarks for the pandas → polars section, on the full flights table (336,776 rows).
//! Run with `cargo bench --bench dataframes`; add `-- groupby` (or another group name) to run one.
//!
//! - `groupby`: flights by carrier and month with five aggregations, polars against a
//!   hand-written single-threaded HashMap (the lesson's check, timed properly);
//! - `join`: flights ⋈ planes on tailnum, inner, left and anti;
//! - `filter`: July flights from JFK, eager mask on a loaded frame against a lazy Parquet scan with
//!   the filter pushed down (includes reading the file);
//! - `categorical`: a group-by on `dest` stored as strings and as a categorical.
//!
//! Throughput is rows of flights per second.

use criterion::{Criterion, Throughput, criterion_group};
use lessons_frames as kernels;
use polars::prelude::*;

// The workspace's global allocator, mimalloc, which the harness installs: the benches measure
// what the lessons run on.
use harness as _;

fn flights() -> DataFrame {
    kernels::frame("nycflights13_flights.parquet")
        .expect("datasets/nycflights13_flights.parquet is readable")
}

fn groupby(c: &mut Criterion) {
    let df = flights();
    let mut group = c.benchmark_group("groupby");
    group.throughput(Throughput::Elements(df.height() as u64));
    group.bench_function("polars carrier×month", |b| {
        b.iter(|| kernels::flights_by_carrier_month(&df).map(|d| d.height()))
    });
    let carrier = df.column("carrier").unwrap().str().unwrap().clone();
    let month = df.column("month").unwrap().i64().unwrap().clone();
    let dep = df.column("dep_delay").unwrap().f64().unwrap().clone();
    let arr = df.column("arr_delay").unwrap().f64().unwrap().clone();
    group.bench_function("HashMap carrier×month", |b| {
        b.iter(|| kernels::flights_by_carrier_month_by_hand(&carrier, &month, &dep, &arr).len())
    });
    group.finish();
}

fn join(c: &mut Criterion) {
    let df = flights();
    let planes = kernels::frame("nycflights13_planes.csv").expect("planes");
    let mut group = c.benchmark_group("join");
    group.throughput(Throughput::Elements(df.height() as u64));
    for (name, how) in [
        ("inner", JoinType::Inner),
        ("left", JoinType::Left),
        ("anti", JoinType::Anti),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                df.clone()
                    .lazy()
                    .join(
                        planes.clone().lazy(),
                        [col("tailnum")],
                        [col("tailnum")],
                        JoinArgs::new(how.clone()).with_suffix(Some("_plane".into())),
                    )
                    .collect()
                    .map(|d| d.height())
            })
        });
    }
    group.finish();
}

fn filter(c: &mut Criterion) {
    let path = datasets::path("nycflights13_flights.parquet").expect("flights");
    let mut group = c.benchmark_group("filter");
    group.throughput(Throughput::Elements(336_776));
    group.bench_function("eager read + mask", |b| {
        b.iter(|| kernels::july_jfk_eager(&path).map(|d| d.height()))
    });
    group.bench_function("lazy scan, pushed down", |b| {
        b.iter(|| {
            kernels::july_jfk_lazy(&path)
                .and_then(|q| q.collect())
                .map(|d| d.height())
        })
    });
    group.finish();
}

fn categorical(c: &mut Criterion) {
    let df = flights().select(["dest", "dep_delay"]).unwrap();
    let cat = df
        .clone()
        .lazy()
        .with_columns([col("dest").cast(DataType::from_categories(Categories::global()))])
        .collect()
        .unwrap();
    let mut group = c.benchmark_group("categorical");
    group.throughput(Throughput::Elements(df.height() as u64));
    for (name, frame) in [
        ("group-by dest, string", &df),
        ("group-by dest, categorical", &cat),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                frame
                    .clone()
                    .lazy()
                    .group_by([col("dest")])
                    .agg([col("dep_delay").mean()])
                    .collect()
                    .map(|d| d.height())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, groupby, join, filter, categorical);

fn main() {
    harness::plot::register_font();
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}

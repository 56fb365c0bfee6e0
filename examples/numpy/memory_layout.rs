//! # Memory layout and internals (NumPy internals → ndarray)
//!
//! **Question:** What are strides, C and Fortran order, and why does traversal order matter?
//!
//! **Answer:** An array is a pointer to a buffer, a shape and strides: how far to step in memory to
//! move one place along each axis. Row-major (C) order steps 1 along a row, column-major (Fortran)
//! order 1 down a column. A transpose only swaps the strides, so it is a free view, and
//! `as_standard_layout` copies only when the layout is not already row-major. ndarray counts
//! strides in elements, NumPy's `.strides` in bytes. Walking in memory order streams through the
//! cache; walking across it pays a cache line per element.
//!
//! **Evidence:** `c.t()` of a 3 × 4 array has strides [1, 4] over the same buffer after zero
//! allocations (NumPy would report (8, 32) bytes); `as_standard_layout` borrows a C-order input and
//! copies a Fortran-order one into 96 bytes with strides [4, 1]. Summing a 4096 × 4096 row-major
//! matrix (128 MiB) columns first takes 7.8× as long as rows first, all four orders giving the same
//! sum; the claim is at least 2×.
//!
//! **Run:** `cargo run --example memory_layout` (add `-- --quick` for a short run).

use harness::measure::{self, count_allocations};
use harness::plot::BarChart;
use harness::prelude::*;
use lessons_arrays::{sum_columns_first, sum_rows_first};
use ndarray::{Array2, ShapeBuilder};

/// The array's elements in the order they sit in memory.
fn memory_order(a: &Array2<f64>) -> Vec<f64> {
    a.as_slice_memory_order()
        .map(<[f64]>::to_vec)
        .unwrap_or_default()
}

/// Strides in bytes, as NumPy's `.strides` gives them (ndarray counts elements).
fn strides_in_bytes(strides: &[isize]) -> Vec<isize> {
    strides
        .iter()
        .map(|s| s * std::mem::size_of::<f64>() as isize)
        .collect()
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // %%
    // Strides of a 3 × 4 array in each order, in elements (NumPy's .strides are in bytes: ×8).
    let c_order = Array2::from_shape_fn((3, 4), |(i, j)| (4 * i + j) as f64);
    let f_order = Array2::from_shape_fn((3, 4).f(), |(i, j)| (4 * i + j) as f64);
    println!(
        "C order:       shape {:?}, strides {:?} elements (NumPy's .strides: {:?} bytes), memory {:?}",
        c_order.shape(),
        c_order.strides(),
        strides_in_bytes(c_order.strides()),
        memory_order(&c_order)
    );
    println!(
        "Fortran order: shape {:?}, strides {:?} elements (NumPy's .strides: {:?} bytes), memory {:?}",
        f_order.shape(),
        f_order.strides(),
        strides_in_bytes(f_order.strides()),
        memory_order(&f_order)
    );
    let same_values = c_order == f_order;

    // %%
    // A transpose is the same buffer with the strides swapped: no allocation, no copy.
    // (The strides are copied into a fixed array: collecting them into a Vec would allocate.)
    let (transposed, stats) = count_allocations(|| {
        let t = c_order.t();
        ([t.strides()[0], t.strides()[1]], t.as_ptr())
    })?;
    lesson.claim(
        "transpose allocates nothing",
        stats.allocations == 0 && transposed.1 == c_order.as_ptr() && transposed.0 == [1, 4],
        format!(
            "c.t() has strides {:?} over the same buffer (same pointer: {}), after {} allocations",
            transposed.0,
            transposed.1 == c_order.as_ptr(),
            stats.allocations
        ),
        &[("transpose_allocations", stats.allocations as f64)],
    );

    // %%
    // as_standard_layout borrows a row-major array as it is and copies anything else. The counting
    // allocator shows which happened, and the CowArray it returns says so too.
    let (borrowed, kept) = count_allocations(|| c_order.as_standard_layout().is_view())?;
    let (copied, made) = count_allocations(|| {
        let standard = f_order.as_standard_layout();
        (
            standard.is_owned(),
            [standard.strides()[0], standard.strides()[1]],
        )
    })?;
    lesson.claim(
        "as_standard_layout copies only an array that is not already row-major",
        borrowed && kept.allocations == 0 && copied.0 && made.allocated == 8 * f_order.len() && copied.1 == [4, 1] && same_values,
        format!(
            "C-order input: borrowed, {} allocations; Fortran-order input: copied into {} with strides {:?}",
            kept.allocations,
            measure::bytes(made.allocated as f64),
            copied.1
        ),
        &[("copy_bytes", made.allocated as f64)],
    );
    println!(
        "as_slice: C order {}, Fortran order {} (its memory order is contiguous: {})",
        c_order.as_slice().is_some(),
        f_order.as_slice().is_some(),
        f_order.as_slice_memory_order().is_some()
    );

    // %%
    // Traversal. Sum a large row-major matrix visiting rows first (memory order, stride 1) and
    // columns first (each step jumps a whole row of n·8 bytes). The same loops over the transposed
    // view swap the roles. ndarray's own `sum` always follows memory order.
    let n: usize = lesson.pick(4096, 2048);
    let runs: usize = lesson.pick(7, 5);
    let m = Array2::from_shape_fn((n, n), |(i, j)| ((i ^ j) % 7) as f64);
    let cases = [
        (
            "rows first, row-major",
            best_of(runs, || sum_rows_first(&m.view())),
        ),
        (
            "columns first, row-major",
            best_of(runs, || sum_columns_first(&m.view())),
        ),
        (
            "rows first, transposed view",
            best_of(runs, || sum_rows_first(&m.t())),
        ),
        ("ndarray sum (memory order)", best_of(runs, || m.sum())),
    ];
    let with_layout = cases[0].1;
    for (name, timing) in &cases {
        println!(
            "{name:<28} {:>9}  {:>5.1} GB/s  {:.1}× the time of rows first",
            measure::duration(timing.best),
            timing.rate(8.0 * (n * n) as f64) / 1e9,
            timing.secs() / with_layout.secs()
        );
        lesson.metric(format!("traverse_{name}_s"), timing.secs());
    }
    let against = cases[1].1.secs() / with_layout.secs();
    lesson.metric("against_layout_slowdown", against);

    // %%
    // All four visit the same n² numbers; with small integers every partial sum is exact, so the
    // totals must agree exactly whatever the order.
    let totals = [
        sum_rows_first(&m.view()),
        sum_columns_first(&m.view()),
        sum_rows_first(&m.t()),
        m.sum(),
    ];
    // The headline: a matrix far larger than the caches, summed against its layout, costs a
    // cache line per element instead of one per eight; at least twice the time is a large effect
    // on any machine with caches (the exact ratio belongs to `benches/numpy.rs`).
    lesson.claim(
        "walking against the memory layout takes at least twice as long as walking with it",
        against >= 2.0 && totals.iter().all(|&s| s == totals[0]),
        format!(
            "columns first over a {n}×{n} row-major matrix ({}) took {against:.1}× as long as rows first; all four orders sum to {}",
            measure::bytes(8.0 * (n * n) as f64),
            totals[0]
        ),
        &[("total", totals[0]), ("against_layout_slowdown", against)],
    );

    figure!(lesson, "traversal", plot::SIZE, |root| {
        let mut chart = BarChart::new(
            &format!("Summing a {n}×{n} matrix: milliseconds (best of {runs})"),
            "milliseconds",
        );
        for (name, timing) in &cases {
            chart = chart.bar(*name, timing.secs() * 1e3);
        }
        chart.draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}

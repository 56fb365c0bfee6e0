//! # Performance optimisation (NumPy → ndarray, iterators and rayon)
//!
//! **Question:** How do you make numeric code fast, and how fast can it get?
//!
//! **Answer:** Write the work as iterators or `Zip` over contiguous data: the compiler then drops
//! bounds checks and uses SIMD, and rayon spreads it over cores with one word changed. But a kernel
//! that touches each byte once is limited by memory traffic, not arithmetic: once the data outgrow
//! the caches, the indexed loop, the iterator, explicit chunks and `Zip` all run at the speed of
//! memory, and only more cores or less traffic help. A NumPy-style expression that allocates a
//! fresh result for every operation is the slow one.
//!
//! **Evidence:** On 16.8 million doubles (128 MiB per array, 2 threads) the triad z = a·x + y runs
//! in about 13 ms whether written as an indexed loop, an iterator, chunks of 8 or ndarray's Zip —
//! about 31 GB/s against a measured copy bandwidth of 26.5 GB/s — and 11.5 ms with rayon; `&x * a +
//! &y` takes 73 ms, allocating 128 MiB per call and faulting in its pages. All six results are
//! bit-identical; the claim is that the expression is at least twice as slow as the in-place Zip
//! (5.7× here).
//!
//! **Run:** `cargo run --example vectorization_performance` (add `-- --quick` for a short run).

use harness::measure::{self, CountingAllocator, count_allocations};
use harness::plot::BarChart;
use harness::prelude::*;
use lessons_arrays::{triad_chunked, triad_indexed, triad_iter, triad_rayon, triad_zip};
use ndarray::Array1;
use ndarray_rand::RandomExt;
use rand_distr::Uniform;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // %%
    // Arrays large enough to spill out of every cache level: three of 16 M doubles (384 MB) in
    // full mode, 4 M (96 MB) in quick mode.
    let n: usize = lesson.pick(16 << 20, 4 << 20);
    let runs: usize = lesson.pick(10, 5);
    let mut rng = lesson.rng(1);
    let x = Array1::random_using(n, Uniform::new(-1.0, 1.0), &mut rng);
    let y = Array1::random_using(n, Uniform::new(-1.0, 1.0), &mut rng);
    let a = 1.5;
    println!(
        "{} threads; arrays of {n} doubles ({} each)",
        rayon::current_num_threads(),
        measure::bytes(8.0 * n as f64)
    );

    // %%
    // The machine's memory bandwidth, measured two ways: a copy (read 8 bytes, write 8 bytes per
    // element) and a read-only sum. These are the ceilings for streaming kernels.
    let mut dst = vec![0.0; n];
    let t_copy = best_of(runs, || {
        dst.copy_from_slice(x.as_slice().expect("contiguous"))
    });
    let t_read = best_of(runs, || x.sum());
    let copy_gbs = t_copy.rate(16.0 * n as f64) / 1e9;
    let read_gbs = t_read.rate(8.0 * n as f64) / 1e9;
    println!("memory bandwidth: copy {copy_gbs:.1} GB/s, read-only sum {read_gbs:.1} GB/s");
    lesson.metric("copy_bandwidth_gbs", copy_gbs);
    lesson.metric("read_bandwidth_gbs", read_gbs);

    // %%
    // The triad, six ways. Each asks for 24 bytes per element (read x and y, write z). The CPU
    // moves 32: before writing a cache line of z it reads it in (write-allocate), while a large
    // copy uses streaming stores that skip that read. That is why a triad can show more "GB/s"
    // than the copy: the copy's figure is closer to the true traffic.
    let mut z = vec![0.0; n];
    let mut za = Array1::<f64>::zeros(n);
    let mut results: Vec<(&'static str, measure::Timing, Vec<f64>)> = Vec::new();
    {
        // Plain slices for the loop kernels; they borrow x and y, so they stay in this block.
        let (xs, ys) = (
            x.as_slice().expect("contiguous"),
            y.as_slice().expect("contiguous"),
        );
        let t = best_of(runs, || triad_indexed(&mut z, a, xs, ys));
        results.push(("indexed loop", t, z.clone()));
        let t = best_of(runs, || triad_iter(&mut z, a, xs, ys));
        results.push(("iterator zip", t, z.clone()));
        let t = best_of(runs, || triad_chunked(&mut z, a, xs, ys));
        results.push(("chunks of 8", t, z.clone()));
        let t = best_of(runs, || triad_zip(za.view_mut(), a, x.view(), y.view()));
        results.push(("ndarray Zip", t, za.to_vec()));
        let t = best_of(runs, || triad_rayon(za.view_mut(), a, x.view(), y.view()));
        results.push(("Zip + rayon", t, za.to_vec()));
        let t = best_of(runs, || &x * a + &y);
        results.push(("&x * a + &y", t, (&x * a + &y).to_vec()));
    }

    let baseline = results[0].1;
    for (name, t, _) in &results {
        let gbs = t.rate(24.0 * n as f64) / 1e9;
        println!(
            "{name:<14} {:>9}  {gbs:>6.1} GB/s  {:>4.0} % of copy bandwidth  {:.2}× the indexed loop",
            measure::duration(t.best),
            100.0 * gbs / copy_gbs,
            t.speedup_over(&baseline)
        );
        lesson.metric(format!("triad_gbs_{name}"), gbs);
    }

    // %%
    // Every variant computes a·x[i] + y[i] with the same two operations per element, so the
    // results must be identical to the last bit (no reordering of sums is involved).
    let mismatches: Vec<&'static str> = results
        .iter()
        .filter(|r| r.2 != results[0].2)
        .map(|r| r.0)
        .collect();
    lesson.claim(
        "all six variants give the same answer",
        mismatches.is_empty(),
        if mismatches.is_empty() {
            format!(
                "{} results of {n} elements are bit-for-bit identical",
                results.len()
            )
        } else {
            format!("differ from the indexed loop: {}", mismatches.join(", "))
        },
        &[("variants", results.len() as f64)],
    );

    // %%
    // What the NumPy-style expression costs beyond time: it allocates the result on every call
    // (ndarray reuses the temporary of `&x * a` for the `+ &y`); a fresh allocation this large
    // comes straight from the operating system, which zero-fills each new page on first touch.
    // The in-place kernels reuse the output buffer and allocate nothing.
    let (_, expression) = count_allocations(|| &x * a + &y)?;
    let (_, in_place) = count_allocations(|| {
        triad_iter(
            &mut z,
            a,
            x.as_slice().expect("contiguous"),
            y.as_slice().expect("contiguous"),
        );
        triad_zip(za.view_mut(), a, x.view(), y.view());
    })?;
    lesson.claim(
        "the expression allocates a new array per call; the in-place kernels allocate nothing",
        expression.allocated >= 8 * n && in_place.allocations == 0,
        format!(
            "`&x * a + &y`: {} allocation(s), {}; in-place iterator and Zip kernels: {} allocations",
            expression.allocations,
            measure::bytes(expression.allocated as f64),
            in_place.allocations
        ),
        &[("expression_bytes", expression.allocated as f64), ("in_place_allocations", in_place.allocations as f64)],
    );

    // %%
    // The headline, asserted as a large ratio of best times: the expression that allocates its
    // result per call against the same arithmetic written into an existing array with Zip.
    let zip_time = results[3].1;
    let expression_time = results[5].1;
    let slower = zip_time.speedup_over(&expression_time);
    lesson.claim(
        "the allocating expression `&x * a + &y` is at least twice as slow as the in-place Zip",
        slower >= 2.0,
        format!(
            "best of {runs}: `&x * a + &y` {}, ndarray Zip into an existing array {}: {slower:.1}× as long (each call allocates {} and faults in its pages)",
            measure::duration(expression_time.best),
            measure::duration(zip_time.best),
            measure::bytes(8.0 * n as f64)
        ),
        &[("expression_over_zip", slower)],
    );

    figure!(lesson, "triad_bandwidth", plot::SIZE, |root| {
        let mut chart = BarChart::new(
            &format!(
                "z = a·x + y on {} per array: GB/s (best of {runs})",
                measure::bytes(8.0 * n as f64)
            ),
            "GB/s",
        )
        .bar("memory copy", copy_gbs);
        for (name, t, _) in &results {
            chart = chart.bar(*name, t.rate(24.0 * n as f64) / 1e9);
        }
        chart.draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}

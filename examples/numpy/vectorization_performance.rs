//! # Performance optimisation (NumPy → ndarray, iterators and rayon)
//!
//! **Question:** How do you make numeric code fast, and how fast can it get?
//!
//! **Answer:** Write the work as iterators or `Zip` over contiguous data: the compiler then drops
//! bounds checks and uses SIMD, and rayon spreads it over cores with one word changed. But a kernel
//! that touches each byte once is limited by memory traffic, not arithmetic: once the data outgrow
//! the caches, the indexed loop, the iterator, explicit chunks and `Zip` all run at the speed of
//! memory, and only more cores or less traffic help. A NumPy-style expression that allocates a
//! fresh result for every operation is slower, and how much depends on the allocator: glibc's
//! malloc hands every large result out as fresh pages the kernel must zero-fill, while mimalloc
//! (which the workbook runs on) reuses the pages of the last one, leaving only the extra pass over
//! memory.
//!
//! **Evidence:** On 16.8 million doubles (128 MiB per array, 2 threads) the triad z = a·x + y runs
//! in about 10 ms whether written as an indexed loop, an iterator, chunks of 8 or ndarray's Zip —
//! about 40 GB/s against a measured copy bandwidth of 41.5 GB/s — and 8.5 ms with rayon. All six
//! results are bit-identical. `&x * a + &y` allocates 128 MiB per call (claimed: one allocation a
//! call, none for the in-place kernels) and takes 13.4 ms, 1.33× the in-place Zip: its second pass
//! over memory, printed rather than claimed, since a busy machine's timing noise is as large. The
//! same triad into a fresh array takes 61.6 ms from the system allocator, with 32,769 page faults a
//! call, and 10.0 ms from mimalloc, with none: 6.2× (claimed on glibc: at least 2×).
//!
//! **Run:** `cargo run --example vectorization_performance` (add `-- --quick` for a short run).

use std::alloc::System;

use harness::measure::{self, count_allocations};
use harness::plot::BarChart;
use harness::prelude::*;
use lessons_arrays::{
    triad_chunked, triad_fresh, triad_indexed, triad_iter, triad_rayon, triad_zip,
};
use mimalloc::MiMalloc;
use ndarray::Array1;
use ndarray_rand::RandomExt;
use rand_distr::Uniform;

/// The page faults one call of `work` takes once a first call has warmed the allocator (`None`
/// where the system cannot count them).
fn page_faults_of_one_call(work: impl Fn() -> f64) -> Option<u64> {
    work();
    let before = measure::minor_page_faults();
    std::hint::black_box(work());
    before
        .zip(measure::minor_page_faults())
        .map(|(before, after)| after - before)
}

/// A count, or "unknown" where there is none.
fn count_or_unknown(count: Option<u64>) -> String {
    count.map_or("unknown".to_string(), |c| c.to_string())
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // %%
    // Arrays large enough to spill out of every cache level, and above the 32 MiB from which
    // glibc's malloc maps each block afresh: three of 16 M doubles (384 MiB) in full mode, 6 M
    // (144 MiB) in quick mode.
    let n: usize = lesson.pick(16 << 20, 6 << 20);
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
    // (ndarray reuses the temporary of `&x * a` for the `+ &y`), which the allocator must find
    // memory for: the next section shows what that costs.
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
    // Where a fresh result's cost comes from: the allocator. This program runs on mimalloc (the
    // harness installs it as the global allocator), which keeps the pages of a freed array for
    // the next one. The system allocator — glibc's malloc on Linux — maps every block above
    // 32 MiB afresh and unmaps it when it is freed, so each call faults in and zero-fills every
    // 4 KiB page again. The same triad into a fresh array from each allocator, named explicitly:
    let (xs, ys) = (
        x.as_slice().expect("contiguous"),
        y.as_slice().expect("contiguous"),
    );
    let system_faults = page_faults_of_one_call(|| triad_fresh(&System, a, xs, ys));
    let mimalloc_faults = page_faults_of_one_call(|| triad_fresh(&MiMalloc, a, xs, ys));
    let t_system = best_of(runs, || triad_fresh(&System, a, xs, ys));
    let t_mimalloc = best_of(runs, || triad_fresh(&MiMalloc, a, xs, ys));
    let allocator_cost = t_mimalloc.speedup_over(&t_system);
    println!(
        "triad into a fresh array: system allocator {} ({} page faults a call), mimalloc {} ({} page faults a call)",
        measure::duration(t_system.best),
        count_or_unknown(system_faults),
        measure::duration(t_mimalloc.best),
        count_or_unknown(mimalloc_faults)
    );
    lesson.metric("fresh_triad_system_over_mimalloc", allocator_cost);
    // The claim is glibc's behaviour, so it is made where glibc is the system allocator and the
    // kernel does not back every mapping with 2 MiB pages (transparent huge pages set to
    // "always" cuts the faults 512-fold); elsewhere the numbers are printed only.
    let huge_pages_always = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|mode| mode.contains("[always]"));
    if cfg!(all(target_os = "linux", target_env = "gnu")) && !huge_pages_always {
        lesson.claim(
            "a fresh large array from glibc's malloc costs at least twice what it costs from mimalloc",
            allocator_cost >= 2.0,
            format!(
                "best of {runs}, triad into a fresh {} array: system allocator {} with {} page faults a call, mimalloc {} with {}: {allocator_cost:.1}×",
                measure::bytes(8.0 * n as f64),
                measure::duration(t_system.best),
                count_or_unknown(system_faults),
                measure::duration(t_mimalloc.best),
                count_or_unknown(mimalloc_faults)
            ),
            &[("system_over_mimalloc", allocator_cost)],
        );
    }

    // %%
    // With the allocator's pages reused, what is left of the expression's cost is its second pass
    // over memory. The Zip moves 32 bytes per element (read x and y, read z's line before writing
    // it, write z); the expression 48 (`&x * a`: read x, read and write the temporary; `+ &y`:
    // read the temporary and y, write it back), 1.5× as much, and processors that skip reading a
    // line they overwrite whole move less. A 1.2–1.5× difference is printed, not claimed: a busy
    // machine's timing noise is as large.
    let zip_time = results[3].1;
    let expression_time = results[5].1;
    let slower = zip_time.speedup_over(&expression_time);
    println!(
        "best of {runs}: `&x * a + &y` {}, ndarray Zip into an existing array {}: {slower:.2}× as long",
        measure::duration(expression_time.best),
        measure::duration(zip_time.best),
    );
    lesson.metric("expression_over_zip", slower);

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

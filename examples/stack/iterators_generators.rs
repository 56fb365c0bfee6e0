//! # Iterators and generators: comprehensions without the list
//!
//! **Question:** What do list comprehensions and generators become in Rust, and why does laziness
//! matter for memory?
//!
//! **Answer:** A list comprehension `[f(x) for x in xs if p(x)]` is
//! `xs.iter().filter(p).map(f).collect::<Vec<_>>()`; a generator expression is the same chain
//! without `collect`, and a generator function is `std::iter::from_fn` or `successors` around a
//! closure that keeps the state. Iterators are lazy: nothing runs until something pulls values,
//! each value passes through the whole chain before the next, and the compiler fuses the steps into
//! one loop — so a lazy pipeline needs memory for a few values, not for the whole list.
//!
//! **Evidence:** With a counting allocator, summing a filtered, mapped range of ten million numbers
//! lazily peaks at zero bytes of heap, while collecting the intermediate list first peaks at 76
//! MiB; both sums are equal bit for bit. An endless generator behind `take(5)` produces only the
//! values pulled.
//!
//! **Run:** `cargo run --example iterators_generators` (add `-- --quick` for a short run).

use std::cell::Cell;

use harness::measure::{self, count_allocations};
use harness::plot::BarChart;
use harness::prelude::*;

/// A generator: the Collatz sequence from `start`, as `from_fn` around a closure that keeps the
/// current value (Python would `yield` it).
fn collatz(start: u64) -> impl Iterator<Item = u64> {
    let mut current = Some(start);
    std::iter::from_fn(move || {
        let value = current?;
        current = match value {
            1 => None,
            v if v % 2 == 0 => Some(v / 2),
            v => Some(3 * v + 1),
        };
        Some(value)
    })
}

/// The work both pipelines do: keep multiples of 3, square them, and sum.
fn keep(x: &u64) -> bool {
    x.is_multiple_of(3)
}

fn square(x: u64) -> f64 {
    (x as f64) * (x as f64)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    // The claim is about ten million items; quick mode keeps the size and repeats less.
    let n: u64 = 10_000_000;
    let runs: usize = lesson.pick(5, 2);

    // %%
    // A comprehension and a generator expression are the same chain, with and without collect.
    let squares: Vec<u64> = (1..=10).filter(|x| x % 2 == 1).map(|x| x * x).collect();
    println!("[x*x for x in range(1, 11) if x % 2 == 1] → {squares:?}");
    println!(
        "collatz(27) has {} steps and peaks at {}",
        collatz(27).count() - 1,
        collatz(27).max().unwrap_or(0)
    );

    // %%
    // Laziness, observed: an endless generator of 0, 1, 2, … that counts the values it yields.
    // The first five multiples of 7 are 0 … 28, so it must yield exactly 29 values and stop.
    let produced = Cell::new(0u64);
    let first: Vec<u64> = std::iter::from_fn(|| {
        let next = produced.get();
        produced.set(next + 1);
        Some(next)
    })
    .filter(|x| x % 7 == 0)
    .take(5)
    .collect();
    println!(
        "first five multiples of 7 from an endless generator: {first:?} (it yielded {} values)",
        produced.get()
    );
    lesson.claim(
        "an endless generator produces only what is pulled",
        first == [0, 7, 14, 21, 28] && produced.get() == 29,
        format!(
            "take(5) of the multiples of 7 pulled {} values (0 to 28) and no more",
            produced.get()
        ),
        &[("values_yielded", produced.get() as f64)],
    );
    // (`std::iter::successors` would show 30: it computes each successor when it yields the value
    // before, one step ahead of the consumer.)

    // %%
    // The memory claim: the same sum, lazily and after collecting the full list first.
    let (lazy_sum, lazy) = count_allocations(|| (0..n).filter(keep).map(square).sum::<f64>())?;
    let (eager_sum, eager) = count_allocations(|| {
        let all: Vec<u64> = (0..n).collect();
        let kept: Vec<u64> = all.into_iter().filter(keep).collect();
        let squared: Vec<f64> = kept.into_iter().map(square).collect();
        squared.iter().sum::<f64>()
    })?;
    println!(
        "\nsum of squares of the multiples of 3 below {n}: lazy {lazy_sum:.6e} (peak heap {}, {} allocations), collected {eager_sum:.6e} (peak heap {}, {} allocation(s))",
        measure::bytes(lazy.peak as f64),
        lazy.allocations,
        measure::bytes(eager.peak as f64),
        eager.allocations
    );
    lesson.metric("lazy peak bytes", lazy.peak as f64);
    lesson.metric("eager peak bytes", eager.peak as f64);
    lesson.claim(
        "a lazy pipeline over 10M items peaks under 1 MiB of heap while the collected one needs ≥ 80 MB, same result",
        lazy.peak < 1 << 20 && eager.peak >= 80_000_000 && lazy_sum == eager_sum,
        format!(
            "peaks {} vs {}; sums equal bit for bit: {}",
            measure::bytes(lazy.peak as f64),
            measure::bytes(eager.peak as f64),
            lazy_sum == eager_sum
        ),
        &[("lazy_peak_bytes", lazy.peak as f64), ("eager_peak_bytes", eager.peak as f64)],
    );

    // %%
    // The collected version allocates once, not three times: `into_iter().filter().collect()` and a
    // map between types of the same size reuse the first list's buffer in place.

    // %%
    // Laziness is also faster here: the fused loop never writes the intermediate lists to memory.
    let t_lazy = best_of(runs, || (0..n).filter(keep).map(square).sum::<f64>());
    let t_eager = best_of(runs, || {
        let all: Vec<u64> = (0..n).collect();
        let kept: Vec<u64> = all.into_iter().filter(keep).collect();
        kept.into_iter()
            .map(square)
            .collect::<Vec<f64>>()
            .iter()
            .sum::<f64>()
    });
    println!(
        "time: lazy {} vs collected {} ({:.1}× faster lazily; reported, not asserted)",
        measure::duration(t_lazy.best),
        measure::duration(t_eager.best),
        t_lazy.speedup_over(&t_eager)
    );
    lesson.metric("lazy seconds", t_lazy.secs());
    lesson.metric("eager seconds", t_eager.secs());

    figure!(lesson, "peak_heap", plot::SIZE, |root| {
        BarChart::new("Peak heap of one sum over 10M items", "MiB")
            .bar("lazy iterator chain", lazy.peak as f64 / 1048576.0)
            .bar(
                "collect, filter, collect, map, collect",
                eager.peak as f64 / 1048576.0,
            )
            .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}

//! # Data structures: Python's built-ins and their Rust counterparts
//!
//! **Question:** Which core data structures matter for data work, and what do their operations
//! cost?
//!
//! **Answer:** `list` is `Vec`, `deque` is `VecDeque`, `dict` is `HashMap` (but a Python dict keeps
//! insertion order and a `HashMap` does not: `IndexMap` does, `BTreeMap` keeps keys sorted), `set`
//! is `HashSet`, and `heapq` is `BinaryHeap` — a max-heap, where `heapq` is a min-heap, so wrap
//! items in `Reverse`. `Counter` and `defaultdict` are `*map.entry(k).or_insert(0) += 1`.
//! Membership is the cost that matters: a scan is O(n), a binary search O(log n), a hash set O(1)
//! on average.
//!
//! **Evidence:** The lesson times membership tests from a hundred to a million elements and fits
//! the slopes on log-log axes: the linear scan's slope is close to 1, binary search and the hash
//! set stay nearly flat, and at a hundred thousand elements the hash set answers several hundred
//! times faster than the scan (925× in one run, best of five). A word count with the entry API
//! matches a sort-and-count of the same words.
//!
//! **Run:** `cargo run --example data_structures` (add `-- --quick` for a short run).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::hint::black_box;

use catalogue::Catalogue;
use harness::measure::log_log_slope;
use harness::plot::LineChart;
use harness::prelude::*;
use rand::Rng;

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let sizes: Vec<usize> = lesson.pick(
        vec![100, 1_000, 10_000, 100_000, 1_000_000],
        vec![100, 1_000, 10_000, 100_000],
    );
    let queries: usize = lesson.pick(2_000, 400);
    let mut rng = lesson.rng(1);

    // %%
    // Part 1: Counter and defaultdict are the entry API. Count the words of this project's own
    // answers (the catalogue), then check the counts against a second, independent method: sort
    // every word and measure the runs of equal words.
    let catalogue = Catalogue::load()?;
    let text: String = catalogue
        .entries
        .iter()
        .map(|t| format!("{} ", t.answer))
        .collect();
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 3)
        .map(str::to_lowercase)
        .collect();
    // The counts borrow the words (no key is copied), so they live inside this block.
    {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for w in &words {
            *counts.entry(w.as_str()).or_insert(0) += 1;
        }
        let mut sorted: Vec<&str> = words.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        let runs: BTreeMap<&str, usize> = sorted
            .chunk_by(|a, b| a == b)
            .map(|run| (run[0], run.len()))
            .collect();
        let same = runs.len() == counts.len() && runs.iter().all(|(w, n)| counts.get(w) == Some(n));

        // heapq.nlargest is a BinaryHeap of at most k entries, smallest on top (via Reverse).
        let mut top: BinaryHeap<Reverse<(usize, &str)>> = BinaryHeap::new();
        for (w, &n) in &counts {
            top.push(Reverse((n, *w)));
            if top.len() > 8 {
                top.pop();
            }
        }
        let mut top: Vec<(usize, &str)> = top.into_iter().map(|Reverse(p)| p).collect();
        top.sort_by(|a, b| b.cmp(a));
        println!(
            "{} words (longer than 3 letters) in the catalogue's answers, {} distinct; most common: {}",
            words.len(),
            counts.len(),
            top.iter()
                .map(|(n, w)| format!("{w} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        // A deque keeps a sliding window: push at the back, pop at the front, both O(1).
        let mut window: VecDeque<&str> = VecDeque::with_capacity(5);
        for w in &words {
            if window.len() == 5 {
                window.pop_front();
            }
            window.push_back(w);
        }
        println!("the last five words, from a VecDeque window: {:?}", window);
        lesson.claim(
            "the entry-API counter equals a sort-and-count of the same words",
            same,
            format!("{} distinct words, every count equal", runs.len()),
            &[("distinct_words", counts.len() as f64)],
        );
    }

    // %%
    // Part 2: membership. Each structure holds the same n random keys; half the queries are keys
    // it holds, half are not, so a scan cannot always stop early.
    let mut linear = Vec::new();
    let mut binary = Vec::new();
    let mut hashed = Vec::new();
    println!(
        "\n{:>9} {:>14} {:>14} {:>14} {:>10}",
        "n", "linear scan", "binary search", "HashSet", "scan/hash"
    );
    let mut ratio_at_100k = 0.0;
    for &n in &sizes {
        let keys: Vec<u64> = (0..n).map(|_| rng.r#gen::<u64>() | 1).collect();
        let probes: Vec<u64> = (0..queries)
            .map(|i| {
                if i % 2 == 0 {
                    keys[rng.gen_range(0..n)]
                } else {
                    rng.r#gen::<u64>() & !1
                }
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        let set: HashSet<u64> = keys.iter().copied().collect();

        // The scan gets fewer probes at large n so that it finishes in time; costs are per lookup.
        let scan_probes = &probes[..(queries * 1_000 / n.max(1_000)).clamp(20, queries)];
        let per = |t: Timing, k: usize| t.secs() / k as f64;
        let t_scan = per(
            best_of(5, || {
                scan_probes
                    .iter()
                    .filter(|p| black_box(&keys).contains(p))
                    .count()
            }),
            scan_probes.len(),
        );
        let t_bin = per(
            best_of(5, || {
                probes
                    .iter()
                    .filter(|p| black_box(&sorted).binary_search(p).is_ok())
                    .count()
            }),
            queries,
        );
        let t_hash = per(
            best_of(5, || {
                probes
                    .iter()
                    .filter(|p| black_box(&set).contains(*p))
                    .count()
            }),
            queries,
        );
        // All three must agree on which probes are present.
        let found = [
            probes.iter().filter(|p| keys.contains(p)).count(),
            probes
                .iter()
                .filter(|p| sorted.binary_search(p).is_ok())
                .count(),
            probes.iter().filter(|p| set.contains(*p)).count(),
        ];
        ensure!(
            found[0] == found[1] && found[1] == found[2],
            "the structures disagree: {found:?}"
        );
        println!(
            "{n:>9} {:>11.1} ns {:>11.1} ns {:>11.1} ns {:>9.0}×",
            t_scan * 1e9,
            t_bin * 1e9,
            t_hash * 1e9,
            t_scan / t_hash
        );
        linear.push((n as f64, t_scan * 1e9));
        binary.push((n as f64, t_bin * 1e9));
        hashed.push((n as f64, t_hash * 1e9));
        lesson.metric(format!("ns linear {n}"), t_scan * 1e9);
        lesson.metric(format!("ns binary {n}"), t_bin * 1e9);
        lesson.metric(format!("ns hash {n}"), t_hash * 1e9);
        if n == 100_000 {
            ratio_at_100k = t_scan / t_hash;
        }
    }
    // The slopes on log-log axes are the growth exponents: 1 for the scan, about 0 for the rest
    // (binary search's log n and cache misses at large n lift them a little above 0).
    let large: Vec<(f64, f64)> = linear.iter().copied().filter(|p| p.0 >= 1_000.0).collect();
    let slopes = (
        log_log_slope(&large),
        log_log_slope(&binary),
        log_log_slope(&hashed),
    );
    println!(
        "log-log slopes: scan {:.2}, binary search {:.2}, hash {:.2}",
        slopes.0, slopes.1, slopes.2
    );
    lesson.metric("slope linear", slopes.0);
    lesson.metric("slope hash", slopes.2);
    lesson.claim(
        "membership test in a HashSet ≥ 50× faster than a linear scan at n = 100k",
        ratio_at_100k >= 50.0,
        format!("{ratio_at_100k:.0}× faster (best of 5, per lookup)"),
        &[("speedup_at_100k", ratio_at_100k)],
    );
    lesson.claim(
        "a scan's cost grows linearly with n while a hash lookup's barely grows",
        (0.75..1.25).contains(&slopes.0) && slopes.2 < 0.35,
        format!(
            "log-log slopes {:.2} (scan, n ≥ 1000) and {:.2} (hash)",
            slopes.0, slopes.2
        ),
        &[("slope_linear", slopes.0), ("slope_hash", slopes.2)],
    );

    figure!(lesson, "membership", plot::SIZE, |root| {
        LineChart::new(
            "Membership test: cost per lookup against size",
            "elements n",
            "ns per lookup",
        )
        .log_log()
        .series("linear scan (Vec::contains)", linear.clone())
        .series("binary search (sorted Vec)", binary.clone())
        .series("HashSet::contains", hashed.clone())
        .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}

//! # Regular expressions: extracting fields, and engines that cannot explode
//!
//! **Question:** How do you use regular expressions to extract and clean data, and what can go
//! wrong?
//!
//! **Answer:** Write one pattern per record shape with named groups, allow for the mess you expect
//! (case, spacing, optional parts), compile it once, and count the lines that failed to match
//! instead of dropping them silently. What can go wrong is time: a backtracking engine such as
//! Python's `re` can take exponential time on a nested quantifier like `(a+)+` when a match fails —
//! a denial-of-service risk. Rust's `regex` crate guarantees time linear in the input by leaving
//! out look-around and back-references; `fancy-regex` adds them back with backtracking.
//!
//! **Evidence:** The lesson parses messy flight records with one named-group pattern and accounts
//! for every line (parsed or reported), then times the pathological `(a+)+$` on growing inputs: the
//! backtracking engine's time doubles with each extra character, while `regex` stays linear and
//! takes microseconds.
//!
//! **Run:** `cargo run --example regular_expressions` (add `-- --quick` for a short run).

use anyhow::Context;
use harness::measure::{log_log_slope, slope};
use harness::plot::LineChart;
use harness::prelude::*;
use rand::Rng;
use rand::seq::SliceRandom;
use regex::Regex;

/// One flight record's fields, as the messy text should give them back.
#[derive(Debug, PartialEq)]
struct Record {
    carrier: String,
    flight: i64,
    origin: String,
    dest: String,
    delay: Option<i64>,
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let records = lesson.pick(20_000, 2_000);
    let mut rng = lesson.rng(1);

    // Part 1: write real flights out as messy text, the way hand-kept logs look: mixed case, stray
    // spaces, three arrow styles, delays with or without a sign and unit, and "n/a" for unknown.
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?.head(Some(records));
    let carrier = flights.column("carrier")?.str()?;
    let number = flights.column("flight")?.i64()?;
    let origin = flights.column("origin")?.str()?;
    let dest = flights.column("dest")?.str()?;
    let delay = flights.column("dep_delay")?.f64()?;
    let mut truth = Vec::with_capacity(records);
    let mut lines = Vec::with_capacity(records);
    for i in 0..flights.height() {
        let r = Record {
            carrier: carrier.get(i).context("carrier")?.to_string(),
            flight: number.get(i).context("flight")?,
            origin: origin.get(i).context("origin")?.to_string(),
            dest: dest.get(i).context("dest")?.to_string(),
            delay: delay.get(i).map(|d| d as i64),
        };
        let case = |s: &str, rng: &mut rand_chacha::ChaCha8Rng| {
            if rng.gen_bool(0.5) {
                s.to_lowercase()
            } else {
                s.to_string()
            }
        };
        let arrow = ["->", " → ", " to "]
            .choose(&mut rng)
            .copied()
            .unwrap_or("->");
        let pad = " ".repeat(rng.gen_range(0..3));
        let delay_text = match r.delay {
            None => "n/a".to_string(),
            Some(d) if rng.gen_bool(0.5) => format!("{d:+} min"),
            Some(d) => format!("{d}"),
        };
        lines.push(format!(
            "{pad}{}{} {}{arrow}{}{pad} delay:{pad}{delay_text}",
            case(&r.carrier, &mut rng),
            r.flight,
            case(&r.origin, &mut rng),
            case(&r.dest, &mut rng)
        ));
        truth.push(r);
    }
    for line in lines.iter().take(4) {
        println!("messy: {line:?}");
    }

    // One pattern with named groups; `(?i)` ignores case, `\s*` absorbs stray spaces.
    let pattern = Regex::new(
        r"(?i)^\s*(?P<carrier>[a-z0-9]{2})(?P<flight>\d{1,4})\s+(?P<origin>[a-z]{3})\s*(?:->|→|to)\s*(?P<dest>[a-z]{3})\s+delay:\s*(?:(?P<delay>[+-]?\d+)(?:\s*min)?|n/a)\s*$",
    )?;
    let mut parsed = Vec::with_capacity(lines.len());
    let mut unmatched = 0;
    for line in &lines {
        let Some(c) = pattern.captures(line) else {
            unmatched += 1;
            continue;
        };
        parsed.push(Record {
            carrier: c["carrier"].to_uppercase(),
            flight: c["flight"].parse()?,
            origin: c["origin"].to_uppercase(),
            dest: c["dest"].to_uppercase(),
            delay: c.name("delay").map(|d| d.as_str().parse()).transpose()?,
        });
    }
    let recovered = parsed.iter().zip(&truth).filter(|(p, t)| p == t).count();
    println!(
        "{recovered} of {} lines recovered field for field; {unmatched} did not match",
        lines.len()
    );
    lesson.claim(
        "named captures recover every field of every messy line",
        recovered == lines.len() && unmatched == 0,
        format!(
            "{recovered} of {} records equal the flights table's values",
            lines.len()
        ),
        &[
            ("records", lines.len() as f64),
            ("recovered", recovered as f64),
        ],
    );

    // Part 2: the pathological pattern. `^(a+)+$` on "aaa…ab" must fail, and a backtracking engine
    // tries every way of splitting the a's among the groups first: 2^(n−1) of them. The regex crate
    // runs it as an automaton, one pass over the input. The redundant look-ahead `(?!b)` forces
    // fancy-regex onto its backtracking engine (for a pattern without look-around or
    // back-references it hands the whole search to the regex crate).
    let linear = Regex::new(r"^(a+)+$")?;
    let backtracking = fancy_regex::RegexBuilder::new(r"^(a+)+(?!b)$")
        .backtrack_limit(usize::MAX)
        .build()?;
    let delegated = fancy_regex::Regex::new(r"^(a+)+$")?;
    let input = |n: usize| format!("{}b", "a".repeat(n));

    let back_sizes: Vec<usize> = (8..=lesson.pick(22, 18)).step_by(2).collect();
    let mut back_points = Vec::new();
    for &n in &back_sizes {
        let text = input(n);
        let runs = if n >= 18 { 2 } else { 5 };
        ensure!(!backtracking.is_match(&text)?, "the pattern must not match");
        let t = best_of(runs, || {
            backtracking.is_match(&text).map_err(|e| e.to_string())
        });
        back_points.push((n as f64, t.secs() * 1e3));
    }
    let linear_sizes: Vec<usize> = lesson.pick(
        vec![10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000],
        vec![10_000, 30_000, 100_000, 300_000, 1_000_000],
    );
    let mut linear_points = Vec::new();
    for &n in &linear_sizes {
        let text = input(n);
        ensure!(!linear.is_match(&text), "the pattern must not match");
        let t = best_of(5, || linear.is_match(&text));
        linear_points.push((n as f64, t.secs() * 1e3));
    }
    let long = input(*back_sizes.last().unwrap_or(&18) + 10);
    let t_delegated = best_of(5, || delegated.is_match(&long).unwrap_or(true));
    let t_linear_short = best_of(5, || linear.is_match(&long));

    println!("\nbacktracking engine (fancy-regex, ^(a+)+(?!b)$):");
    for (n, ms) in &back_points {
        println!("  n = {n:>2}: {ms:>10.3} ms");
    }
    println!("linear engine (regex, ^(a+)+$):");
    for (n, ms) in &linear_points {
        println!(
            "  n = {n:>9}: {ms:>10.3} ms ({:.2} ns per character)",
            ms * 1e6 / n
        );
    }
    println!(
        "fancy-regex without look-around, n = {}: {:.2} µs (handed to the linear engine; regex itself {:.2} µs)",
        long.len() - 1,
        t_delegated.secs() * 1e6,
        t_linear_short.secs() * 1e6
    );

    // Exponential growth is a straight line in log(time) against n; linear growth is slope 1 on
    // log-log axes. The fitted doubling rate per extra character is the evidence.
    let log2: Vec<(f64, f64)> = back_points.iter().map(|(n, ms)| (*n, ms.log2())).collect();
    let doublings_per_char = slope(&log2[log2.len() / 2..]);
    let linear_exponent = log_log_slope(&linear_points);
    let growth_last_step =
        back_points[back_points.len() - 1].1 / back_points[back_points.len() - 2].1;
    lesson.metric("backtracking doublings per char", doublings_per_char);
    lesson.metric("linear log-log slope", linear_exponent);
    for (n, ms) in &back_points {
        lesson.metric(format!("backtracking ms n{n}"), *ms);
    }
    lesson.claim(
        "the linear engine's time grows linearly with input while the backtracking one explodes",
        (0.8..1.2).contains(&linear_exponent) && doublings_per_char > 0.7 && growth_last_step > 2.0,
        format!(
            "regex: time ∝ n^{linear_exponent:.2} up to {} characters; backtracking: time doubles {doublings_per_char:.2} times per extra character ({growth_last_step:.1}× for the last 2)",
            linear_sizes.last().unwrap_or(&0)
        ),
        &[("linear_exponent", linear_exponent), ("doublings_per_char", doublings_per_char)],
    );

    figure!(lesson, "time_vs_length", plot::SIZE, |root| {
        let (left, right) = root.split_horizontally(plot::SIZE.0 / 2);
        LineChart::new(
            "Backtracking: ^(a+)+(?!b)$",
            "input length n",
            "ms (log scale)",
        )
        .log_y()
        .series("fancy-regex", back_points.clone())
        .draw(&left)?;
        LineChart::new("Automaton: ^(a+)+$", "input length n", "ms")
            .log_log()
            .series("regex", linear_points.clone())
            .draw(&right)?;
    })?;

    lesson.finish()?;
    Ok(())
}

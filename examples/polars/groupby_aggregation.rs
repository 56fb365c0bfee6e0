//! # Group-by and aggregation: split, apply, combine
//!
//! **Question:** How does group-by aggregation work, and what do window functions add?
//!
//! **Answer:** A group-by splits the rows by key, reduces each group's columns to one value per
//! aggregation and combines the results into one row per key; in polars each aggregation is an
//! expression inside `agg`, and groups are found with a parallel hash table. A window expression
//! (`over`, pandas' `groupby().transform`) computes the same per-group value but puts it back on
//! every row, for comparisons such as "this flight's delay against its carrier's mean".
//!
//! **Evidence:** All 336,776 flights grouped by carrier and month give 185 groups whose counts,
//! means, shares and maxima match a hand-written HashMap aggregation (0 mismatches, means within
//! 1e-12). A window mean keeps all 336,776 rows, and each carrier's mean of (delay − carrier mean)
//! is 1.7e-15, so `over` put each carrier's own mean on its rows.
//!
//! **Run:** `cargo run --example groupby_aggregation` (add `-- --quick` for a short run).

use anyhow::Context;
use harness::measure::duration;
use harness::plot::BarChart;
use harness::prelude::*;
use polars::prelude::*;

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let runs = lesson.pick(7, 3);
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?;

    // Several aggregations at once, one expression each. mean() skips nulls (cancelled flights),
    // as pandas does; a boolean's mean is a share.
    let query = || lessons_frames::flights_by_carrier_month(&flights);
    let table = query()?;
    println!(
        "{} (carrier, month) groups from {} flights\n{}",
        table.height(),
        flights.height(),
        table.head(Some(8))
    );

    // The same by hand: one pass, one HashMap.
    let carrier = flights.column("carrier")?.str()?.clone();
    let month = flights.column("month")?.i64()?.clone();
    let dep = flights.column("dep_delay")?.f64()?.clone();
    let arr = flights.column("arr_delay")?.f64()?.clone();
    let groups = lessons_frames::flights_by_carrier_month_by_hand(&carrier, &month, &dep, &arr);

    // Compare every group: keys, counts exactly, means and shares to 1e-12 relative, maxima exactly.
    let (c, m) = (
        table.column("carrier")?.str()?,
        table.column("month")?.i64()?,
    );
    let n = table.column("flights")?.u32()?;
    let mean = table.column("mean_dep_delay")?.f64()?;
    let share = table.column("share_delayed_15")?.f64()?;
    let max = table.column("max_arr_delay")?.f64()?;
    let mut mismatches = 0;
    for i in 0..table.height() {
        let key = (
            c.get(i).context("carrier")?.to_string(),
            m.get(i).context("month")?,
        );
        let Some(acc) = groups.get(&key) else {
            mismatches += 1;
            continue;
        };
        let close =
            |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() <= 1e-12 * b.abs().max(1.0));
        let ok = n.get(i) == Some(acc.flights)
            && close(mean.get(i), acc.delay_sum / acc.delay_known as f64)
            && close(share.get(i), acc.delayed_15 as f64 / acc.delay_known as f64)
            && max.get(i) == acc.max_arr_delay;
        mismatches += usize::from(!ok);
    }
    let total: u32 = groups.values().map(|a| a.flights).sum();
    lesson.claim(
        "polars and a hand-written HashMap give identical results",
        mismatches == 0 && groups.len() == table.height() && total as usize == flights.height(),
        format!("{} groups, {mismatches} mismatches; counts exact, means and shares within 1e-12, maxima exact; {total} flights in all", table.height()),
        &[("groups", table.height() as f64)],
    );

    // Speed: both best of several runs; reported, not asserted (the ratio depends on cores).
    let t_polars = best_of(runs, || query().map(|t| t.height()).unwrap_or(0));
    let t_hand = best_of(runs, || {
        lessons_frames::flights_by_carrier_month_by_hand(&carrier, &month, &dep, &arr).len()
    });
    println!(
        "polars group-by {} vs hand-written HashMap {} ({:.1}×)",
        duration(t_polars.best),
        duration(t_hand.best),
        t_hand.secs() / t_polars.secs()
    );
    lesson.metric("seconds polars groupby", t_polars.secs());
    lesson.metric("seconds hashmap groupby", t_hand.secs());

    // A window expression: each flight's delay against its carrier's mean, kept on every row.
    let windowed = flights
        .clone()
        .lazy()
        .select([
            col("carrier"),
            col("flight"),
            col("dep_delay"),
            (col("dep_delay") - col("dep_delay").mean().over([col("carrier")]))
                .alias("vs_carrier_mean"),
        ])
        .collect()?;
    println!("{}", windowed.head(Some(4)));
    let residual_means = windowed
        .clone()
        .lazy()
        .group_by([col("carrier")])
        .agg([col("vs_carrier_mean").mean().abs().alias("m")])
        .select([col("m").max()])
        .collect()?;
    let worst = residual_means
        .column("m")?
        .f64()?
        .get(0)
        .unwrap_or(f64::NAN);
    lesson.claim(
        "a window mean keeps every row and centres each group",
        windowed.height() == flights.height() && worst < 1e-9,
        format!(
            "{} rows kept; the largest per-carrier mean of (delay − carrier mean) is {worst:.1e}",
            windowed.height()
        ),
        &[],
    );

    // The figure: mean departure delay per airline, names joined from the airlines table.
    let airlines = lessons_frames::frame("nycflights13_airlines.csv")?;
    let by_carrier = flights
        .clone()
        .lazy()
        .group_by([col("carrier")])
        .agg([
            col("dep_delay").mean().alias("mean_dep_delay"),
            len().alias("flights"),
        ])
        .join(
            airlines.lazy(),
            [col("carrier")],
            [col("carrier")],
            JoinArgs::new(JoinType::Left),
        )
        .sort(
            ["mean_dep_delay"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .collect()?;
    println!("{by_carrier}");
    let names: Vec<String> = by_carrier
        .column("name")?
        .str()?
        .into_iter()
        .zip(by_carrier.column("carrier")?.str()?)
        .map(|(n, c)| format!("{} ({})", n.unwrap_or("?"), c.unwrap_or("?")))
        .collect();
    let delays: Vec<f64> = by_carrier
        .column("mean_dep_delay")?
        .f64()?
        .into_no_null_iter()
        .collect();
    figure!(lesson, "delay_by_carrier", (960, 720), |root| {
        let mut chart = BarChart::new("Mean departure delay by airline, New York 2013", "minutes");
        for (name, d) in names.iter().zip(&delays) {
            chart = chart.bar(name.as_str(), *d);
        }
        chart.draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}

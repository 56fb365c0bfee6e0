//! # Merging and joining tables
//!
//! **Question:** What do inner, left, full, semi, anti and cross joins return, and how do you check
//! a join did what you meant?
//!
//! **Answer:** An inner join keeps rows whose key is on both sides; a left join keeps every left
//! row and fills the right side with nulls where nothing matched; a full join keeps both sides'
//! unmatched rows; a semi join keeps the left rows that have a match (without adding columns) and
//! an anti join the ones that have none; a cross join pairs every row with every row. Check a join
//! with row counts: when the right key is unique, left = inner + anti and semi + anti = all, so a
//! count that does not add up reveals duplicate keys or unexpected nulls. Null keys never match by
//! default. On the New York flights, 52,606 flights have no plane in the planes table — 2,512 of
//! them have no tail number at all.
//!
//! **Run:** `cargo run --example merging_joining` (add `-- --quick` for a short run).

use harness::plot::BarChart;
use harness::prelude::*;
use polars::prelude::*;

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?;
    let planes = lessons_frames::frame("nycflights13_planes.csv")?;
    let airports = lessons_frames::frame("nycflights13_airports.csv")?;
    let airlines = lessons_frames::frame("nycflights13_airlines.csv")?;
    let total = flights.height();

    // Before joining: is the right key unique? If not, every join multiplies rows.
    let unique_tails = planes.column("tailnum")?.n_unique()?;
    println!(
        "flights {total}, planes {} (unique tail numbers {unique_tails})",
        planes.height()
    );

    let join = |how: JoinType| -> PolarsResult<DataFrame> {
        flights
            .clone()
            .lazy()
            .join(
                planes.clone().lazy(),
                [col("tailnum")],
                [col("tailnum")],
                JoinArgs::new(how).with_suffix(Some("_plane".into())),
            )
            .collect()
    };
    let inner = join(JoinType::Inner)?;
    let left = join(JoinType::Left)?;
    let full = join(JoinType::Full)?;
    let semi = join(JoinType::Semi)?;
    let anti = join(JoinType::Anti)?;
    let no_tail = flights.column("tailnum")?.null_count();
    let planes_without_flights = planes
        .clone()
        .lazy()
        .join(
            flights.clone().lazy(),
            [col("tailnum")],
            [col("tailnum")],
            JoinArgs::new(JoinType::Anti),
        )
        .collect()?
        .height();
    let counts = [
        ("inner", inner.height()),
        ("left", left.height()),
        ("full", full.height()),
        ("semi", semi.height()),
        ("anti", anti.height()),
    ];
    println!("\n{:<8} {:>9}", "join", "rows");
    for (name, n) in counts {
        println!("{name:<8} {n:>9}");
        lesson.metric(format!("rows {name}"), n as f64);
    }
    println!(
        "flights without a tail number: {no_tail}; planes that never flew from New York in 2013: {planes_without_flights}"
    );
    let algebra = left.height() == inner.height() + anti.height()
        && semi.height() + anti.height() == total
        && left.height() == total
        && full.height() == left.height() + planes_without_flights;
    lesson.claim(
        "inner + anti = left row counts",
        algebra && unique_tails == planes.height(),
        format!(
            "left {} = inner {} + anti {}; semi {} + anti = {total}; full = left + {planes_without_flights} planes without flights",
            left.height(),
            inner.height(),
            anti.height(),
            semi.height()
        ),
        &[("left", left.height() as f64), ("inner", inner.height() as f64), ("anti", anti.height() as f64)],
    );
    lesson.claim(
        "flights whose plane is unknown counted",
        anti.height() == 52_606 && no_tail == 2_512 && anti.column("tailnum")?.null_count() == no_tail,
        format!("{} flights have no matching plane (nycflights13's documented 52,606), {no_tail} of them with no tail number: null keys never match", anti.height()),
        &[("unknown_plane_flights", anti.height() as f64), ("null_tailnum", no_tail as f64)],
    );

    // Which carriers fly unknown planes? An anti join, then a group-by, then names from airlines.
    let unknown_by_carrier = anti
        .clone()
        .lazy()
        .group_by([col("carrier")])
        .agg([len().alias("flights_unknown_plane")])
        .join(
            airlines.clone().lazy(),
            [col("carrier")],
            [col("carrier")],
            JoinArgs::new(JoinType::Left),
        )
        .sort(
            ["flights_unknown_plane"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .collect()?;
    println!("{}", unknown_by_carrier.head(Some(5)));

    // Destinations missing from the airports table (Puerto Rico and the Virgin Islands).
    let missing_dest = flights
        .clone()
        .lazy()
        .join(
            airports.clone().lazy(),
            [col("dest")],
            [col("faa")],
            JoinArgs::new(JoinType::Anti),
        )
        .group_by([col("dest")])
        .agg([len().alias("flights")])
        .sort(["dest"], Default::default())
        .collect()?;
    println!("destinations not in airports: {missing_dest}");

    // Cross join: every carrier at every New York airport (16 × 3 rows), the frame of a full
    // carrier-by-airport table before counting.
    let origins = flights
        .clone()
        .lazy()
        .select([col("origin").unique().sort(Default::default())])
        .collect()?;
    let grid = airlines
        .clone()
        .lazy()
        .select([col("carrier")])
        .cross_join(origins.clone().lazy(), None)
        .collect()?;
    let served = flights
        .clone()
        .lazy()
        .group_by([col("carrier"), col("origin")])
        .agg([len().alias("flights")])
        .collect()?;
    let table = grid
        .clone()
        .lazy()
        .join(
            served.lazy(),
            [col("carrier"), col("origin")],
            [col("carrier"), col("origin")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([col("flights").fill_null(lit(0))])
        .collect()?;
    let zero = table
        .column("flights")?
        .u32()?
        .into_no_null_iter()
        .filter(|&n| n == 0)
        .count();

    // Concat: stacking January and February equals filtering both months.
    let month = |m: i64| flights.clone().lazy().filter(col("month").eq(lit(m)));
    let stacked = concat([month(1), month(2)], UnionArgs::default())?.collect()?;
    let both = flights
        .clone()
        .lazy()
        .filter(col("month").lt_eq(lit(2)))
        .collect()?;
    println!(
        "cross join {} carriers × {} airports = {} rows, {zero} pairs with no flights; concat of January and February = {} rows",
        airlines.height(),
        origins.height(),
        grid.height(),
        stacked.height()
    );
    lesson.claim(
        "a cross join has the product of the sizes, and concat equals the filter",
        grid.height() == airlines.height() * origins.height() && stacked.equals_missing(&both),
        format!(
            "{} = {} × {}; concat and filter both give {} rows, equal",
            grid.height(),
            airlines.height(),
            origins.height(),
            both.height()
        ),
        &[],
    );

    figure!(lesson, "join_sizes", plot::SIZE, |root| {
        let mut chart = BarChart::new("flights ⋈ planes on tailnum: rows returned", "rows");
        for (name, n) in counts {
            chart = chart.bar(name, n as f64);
        }
        chart.draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}

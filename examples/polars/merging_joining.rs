//! # Merging and joining tables
//!
//! **Question:** What do inner, left, full, semi, anti and cross joins return, and how do you check
//! a join did what you meant?
//!
//! **Answer:** An inner join keeps rows whose key is on both sides; a left join keeps every left
//! row and fills the right side with nulls; a full join keeps both sides' unmatched rows; a semi
//! join keeps the left rows that have a match, without adding columns, and an anti join those that
//! have none; a cross join pairs every row with every row. Check a join by what a mistake would
//! change: with a unique right key, a left join has exactly as many rows as the left table and an
//! inner join as many as the semi join — a duplicated key breaks both. polars never matches null
//! keys unless asked, while pandas matches NaN to NaN.
//!
//! **Evidence:** The planes table has 3,322 distinct tail numbers in 3,322 rows, so the left join
//! keeps 336,776 rows for 336,776 flights and inner = semi = 284,170. Listing one plane twice adds
//! 153 rows, one per flight of that plane, and the row-count check catches it. With a null-tailnum
//! plane added, the inner join stays at 284,170 by default and grows by the 2,512 flights without a
//! tail number under `nulls_equal`. 52,606 flights have no plane in the planes table, as
//! nycflights13 documents.
//!
//! **Run:** `cargo run --example merging_joining` (add `-- --quick` for a short run).

use harness::plot::BarChart;
use harness::prelude::*;
use polars::prelude::*;

/// `left` joined with `right` on the tail number, as `args` says (kind, suffix, null keys).
fn on_tailnum(left: &DataFrame, right: &DataFrame, args: JoinArgs) -> PolarsResult<DataFrame> {
    left.clone()
        .lazy()
        .join(
            right.clone().lazy(),
            [col("tailnum")],
            [col("tailnum")],
            args,
        )
        .collect()
}

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

    let with_suffix = |how: JoinType| JoinArgs::new(how).with_suffix(Some("_plane".into()));
    let join = |how: JoinType| on_tailnum(&flights, &planes, with_suffix(how));
    let inner = join(JoinType::Inner)?;
    let left = join(JoinType::Left)?;
    let full = join(JoinType::Full)?;
    let semi = join(JoinType::Semi)?;
    let anti = join(JoinType::Anti)?;
    let no_tail = flights.column("tailnum")?.null_count();
    let planes_without_flights =
        on_tailnum(&planes, &flights, JoinArgs::new(JoinType::Anti))?.height();
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
    // The row-count algebra (inner + anti = left, semi + anti = all) holds for any keys, so it
    // cannot reveal a duplicate. What can: with a unique key on the right, a left join keeps each
    // left row exactly once and an inner join matches no row twice, so it equals the semi join.
    // These are the checks pandas runs for `merge(validate="many_to_one")`.
    lesson.claim(
        "a left join onto unique keys keeps every flight once, and inner = semi",
        unique_tails == planes.height() && left.height() == total && inner.height() == semi.height(),
        format!(
            "planes has {unique_tails} distinct tail numbers in {} rows; left join {} rows for {total} flights; inner {} = semi {}; full = left + {planes_without_flights} planes without flights",
            planes.height(),
            left.height(),
            inner.height(),
            semi.height()
        ),
        &[("left", left.height() as f64), ("inner", inner.height() as f64), ("semi", semi.height() as f64)],
    );

    // The same checks on a planes table with one plane listed twice: every flight of that plane
    // now matches two rows, and both checks fail by exactly that plane's number of flights.
    let twice = planes.slice(0, 1);
    let twice_tail = twice
        .column("tailnum")?
        .str()?
        .get(0)
        .unwrap_or_default()
        .to_string();
    let planes_with_duplicate = planes.vstack(&twice)?;
    let left_with_duplicate = on_tailnum(
        &flights,
        &planes_with_duplicate,
        with_suffix(JoinType::Left),
    )?;
    let flights_of_twice = flights
        .clone()
        .lazy()
        .filter(col("tailnum").eq(lit(twice_tail.clone())))
        .collect()?
        .height();
    let extra = left_with_duplicate.height() as i64 - total as i64;
    lesson.claim(
        "a duplicated right key multiplies rows, and the row-count check catches it",
        flights_of_twice > 0 && extra == flights_of_twice as i64,
        format!(
            "with {twice_tail} listed twice the left join has {} rows for {total} flights: {extra} extra, one per flight of {twice_tail} ({flights_of_twice})",
            left_with_duplicate.height()
        ),
        &[("extra_rows", extra as f64), ("flights_of_duplicated_plane", flights_of_twice as f64)],
    );
    // Null keys: polars never matches a null key unless asked (`nulls_equal`), while pandas'
    // `merge` matches NaN to NaN. Add a plane whose tail number is null and count the matches.
    let null_plane = planes
        .slice(0, 1)
        .lazy()
        .with_column(lit(NULL).cast(DataType::String).alias("tailnum"))
        .collect()?;
    let planes_with_null = planes.vstack(&null_plane)?;
    let inner_rows = |nulls_equal: bool| -> PolarsResult<usize> {
        let mut args = JoinArgs::new(JoinType::Inner);
        args.nulls_equal = nulls_equal;
        Ok(on_tailnum(&flights, &planes_with_null, args)?.height())
    };
    let (polars_default, pandas_like) = (inner_rows(false)?, inner_rows(true)?);
    lesson.claim(
        "polars leaves null keys unmatched unless asked; matching them as pandas does adds every null-key row",
        polars_default == inner.height() && pandas_like == inner.height() + no_tail,
        format!(
            "with a null-tailnum plane added: inner join {polars_default} rows by default (as without it), {pandas_like} with nulls_equal = {} + the {no_tail} flights without a tail number",
            inner.height()
        ),
        &[("inner_default", polars_default as f64), ("inner_nulls_equal", pandas_like as f64)],
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
    // A cross join's size is the product by definition, and a concat of two filters equals one
    // filter by construction: both are printed as worked examples, not claimed.
    ensure!(
        stacked.equals_missing(&both),
        "concat of the two months differs from the filter on both"
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

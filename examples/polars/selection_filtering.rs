//! # Selecting and filtering: .loc, .iloc, masks and query in polars
//!
//! **Question:** How do pandas' .loc, .iloc, boolean masks and query translate to polars, and can
//! SQL do the same?
//!
//! **Answer:** polars has no index, so `.loc` (by label) becomes a filter on a key column and
//! `.iloc` (by position) becomes `slice`, `head` or `gather`. Columns are chosen with `select` — by
//! name, regular expression or dtype — and new ones added with `with_columns`; a boolean mask is an
//! expression inside `filter`, and `query("...")` becomes either that expression or plain SQL
//! through polars' `SQLContext`. Both routes compile to the same lazy plan, so they give the same
//! answer; expressions are checked when the code compiles, SQL strings only when they run.
//!
//! **Evidence:** On the flights table three questions are asked both ways — a mask with a new
//! column (722 rows), a group-by (10 rows) and `isin` with `between` (376 rows) — and the SQL and
//! expression frames are identical each time.
//!
//! **Run:** `cargo run --example selection_filtering` (add `-- --quick` for a short run).

use harness::prelude::*;
use polars::prelude::*;
use polars::sql::SQLContext;

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?;
    println!(
        "flights: {} rows × {} columns",
        flights.height(),
        flights.width()
    );

    // Columns: by name, by pattern (every column starting dep_), by dtype (every f64 column).
    let by_name = flights.select(["carrier", "flight", "origin", "dest"])?;
    let by_pattern = flights.clone().lazy().select([col("^dep_.*$")]).collect()?;
    let by_dtype = flights
        .clone()
        .lazy()
        .select([dtype_col(&DataType::Float64).as_selector().as_expr()])
        .collect()?;
    println!(
        "by name {:?}\nby pattern ^dep_.*$ {:?}\nby dtype f64 {:?}",
        by_name.get_column_names(),
        by_pattern.get_column_names(),
        by_dtype.get_column_names()
    );

    // Rows by position (.iloc): rows 10 to 14.
    let iloc = flights.slice(10, 5);
    let gathered = flights.take(&IdxCa::from_vec("rows".into(), (10..15).collect()))?;
    println!(
        "df.iloc[10:15] → slice(10, 5): {} rows, same as gather: {}",
        iloc.height(),
        iloc.equals_missing(&gathered)
    );

    // Rows by label (.loc) become a filter on a key: flight UA 1545 on 1 January.
    let loc = flights
        .clone()
        .lazy()
        .filter(
            col("carrier")
                .eq(lit("UA"))
                .and(col("flight").eq(lit(1545)))
                .and(col("month").eq(lit(1)))
                .and(col("day").eq(lit(1))),
        )
        .select([
            col("carrier"),
            col("flight"),
            col("origin"),
            col("dest"),
            col("dep_delay"),
        ])
        .collect()?;
    println!("{loc}");

    // A mask and a derived column: long July flights out of JFK that left more than an hour late,
    // with their speed in mph (pandas: df[(df.origin == "JFK") & ...].assign(speed=...)).
    let expression = flights
        .clone()
        .lazy()
        .filter(
            col("origin")
                .eq(lit("JFK"))
                .and(col("month").eq(lit(7)))
                .and(col("dep_delay").gt(lit(60)))
                .and(col("distance").gt_eq(lit(1000))),
        )
        .with_columns([
            (col("distance").cast(DataType::Float64) / (col("air_time") / lit(60.0)))
                .alias("speed_mph"),
        ])
        .select([
            col("day"),
            col("carrier"),
            col("flight"),
            col("dest"),
            col("dep_delay"),
            col("speed_mph"),
        ])
        // Sort on enough keys to make the order total: two UA 257 flights left 132 minutes late.
        .sort(
            ["dep_delay", "day", "carrier", "flight"],
            SortMultipleOptions::default().with_order_descending_multi([true, false, false, false]),
        )
        .collect()?;

    // The same questions in SQL.
    let mut sql = SQLContext::new();
    sql.register("flights", flights.clone().lazy());
    let from_sql = sql
        .execute(
            "SELECT day, carrier, flight, dest, dep_delay, distance / (air_time / 60.0) AS speed_mph
             FROM flights
             WHERE origin = 'JFK' AND month = 7 AND dep_delay > 60 AND distance >= 1000
             ORDER BY dep_delay DESC, day, carrier, flight",
        )?
        .collect()?;
    println!(
        "late long July flights from JFK: {} (expression) and {} (SQL)\n{}",
        expression.height(),
        from_sql.height(),
        expression.head(Some(5))
    );

    // A group-by both ways: July flights from JFK per carrier.
    let grouped_expr = flights
        .clone()
        .lazy()
        .filter(col("origin").eq(lit("JFK")).and(col("month").eq(lit(7))))
        .group_by([col("carrier")])
        .agg([
            len().cast(DataType::Int64).alias("n"),
            col("dep_delay").mean().alias("mean_delay"),
        ])
        .sort(
            ["n", "carrier"],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()?;
    let grouped_sql = sql
        .execute(
            "SELECT carrier, COUNT(*) AS n, AVG(dep_delay) AS mean_delay
             FROM flights WHERE origin = 'JFK' AND month = 7
             GROUP BY carrier ORDER BY n DESC, carrier ASC",
        )?
        .with_columns([col("n").cast(DataType::Int64)])
        .collect()?;
    println!("{grouped_expr}");
    // The per-carrier table is the lesson's evidence to keep, written as CSV.
    let table_path = lesson.out_file("jfk_july_by_carrier.csv");
    CsvWriter::new(std::fs::File::create(&table_path)?).finish(&mut grouped_expr.clone())?;
    lesson.record(ArtefactKind::Table, &table_path)?;

    // isin and between: flights to the three Washington airports in the first week of March.
    let isin_expr = flights
        .clone()
        .lazy()
        .filter(
            col("dest")
                .is_in(
                    lit(Series::new("dc".into(), &["IAD", "DCA", "BWI"])).implode(),
                    false,
                )
                .and(col("month").eq(lit(3)))
                .and(col("day").gt_eq(lit(1)).and(col("day").lt_eq(lit(7)))),
        )
        .select([
            col("year"),
            col("month"),
            col("day"),
            col("carrier"),
            col("flight"),
            col("dest"),
        ])
        .collect()?;
    let isin_sql = sql
        .execute("SELECT year, month, day, carrier, flight, dest FROM flights WHERE dest IN ('IAD', 'DCA', 'BWI') AND month = 3 AND day BETWEEN 1 AND 7")?
        .collect()?;
    println!(
        "flights to IAD, DCA or BWI on 1–7 March: {} (expression), {} (SQL)",
        isin_expr.height(),
        isin_sql.height()
    );

    let pairs = [
        ("mask + new column", &expression, &from_sql),
        ("group-by", &grouped_expr, &grouped_sql),
        ("isin + between", &isin_expr, &isin_sql),
    ];
    let identical = pairs
        .iter()
        .all(|(_, a, b)| a.equals_missing(b) && a.schema() == b.schema());
    for (name, a, _) in &pairs {
        lesson.metric(format!("rows {name}"), a.height() as f64);
    }
    lesson.claim(
        "the SQL and the expression answers are identical",
        identical && expression.height() > 0 && isin_expr.height() > 0,
        pairs
            .iter()
            .map(|(name, a, b)| {
                format!("{name}: {} rows, equal {}", a.height(), a.equals_missing(b))
            })
            .collect::<Vec<_>>()
            .join("; "),
        &[("late_long_jfk_july", expression.height() as f64)],
    );

    // Both routes make the same optimised plan; printing it shows the filter pushed into the scan.
    let plan = sql
        .execute("SELECT carrier FROM flights WHERE origin = 'JFK' AND month = 7")?
        .explain(true)?;
    println!("\nSQL plan:\n{plan}");
    lesson.finish()?;
    Ok(())
}

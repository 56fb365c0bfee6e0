//! # Series and DataFrame: pandas' core objects in polars
//!
//! **Question:** What are a Series and a DataFrame, and how does polars store them differently from
//! pandas?
//!
//! **Answer:** A Series is one named, typed column; a DataFrame is a set of equal-length Series
//! with a schema (name → dtype). polars keeps each column in Apache Arrow format: a contiguous
//! values buffer plus a validity bitmap, so a missing value is a bit, integers stay integers when
//! they have gaps, and strings share one buffer instead of one Python object each. pandas' default
//! NumPy dtypes turn integer columns with gaps into floats; its nullable `Int64` and
//! `pd.ArrowDtype` columns now behave as polars does. A column may be split into chunks; there is
//! no index: rows are positions.
//!
//! **Evidence:** On the penguins the null counts match what the data set documents (2 in each
//! measurement, 11 in sex). The columns arrive in one chunk (the workbook's reader rechunks;
//! polars' parallel CSV reader alone left 4), 2 after stacking the frame on itself, 1 after
//! `rechunk`, and a clean float column converts to an ndarray view that starts at the Arrow
//! buffer's own address (no copy).
//!
//! **Run:** `cargo run --example series_dataframe` (add `-- --quick` for a short run).

use anyhow::Context;
use harness::measure::bytes;
use harness::plot::BarChart;
use harness::prelude::*;
use polars::prelude::*;

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // A Series is a named, typed column; nulls are allowed in any type.
    let depth = Series::new("depth_m".into(), &[Some(12i64), None, Some(30)]);
    println!("{depth}");
    println!(
        "dtype {}, nulls {}, sum {:?} (nulls are skipped, as pandas' skipna does)",
        depth.dtype(),
        depth.null_count(),
        depth.sum::<i64>()?
    );

    // A DataFrame from the bundled CSV: the schema is inferred, "NA" read as null.
    let penguins = lessons_frames::frame("penguins.csv")?;
    println!(
        "\npenguins: {} rows × {} columns\n{:?}",
        penguins.height(),
        penguins.width(),
        penguins.schema()
    );
    println!("{}", penguins.head(Some(5)));
    // pandas' describe(), from expressions (polars' Rust API has no describe of its own): one row
    // per statistic, one column per numeric feature.
    let numeric = [
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
    ];
    let stat = |name: &str, f: fn(Expr) -> Expr| -> PolarsResult<DataFrame> {
        let mut row = vec![lit(name).alias("statistic")];
        row.extend(
            numeric
                .iter()
                .map(|c| f(col(*c).cast(DataType::Float64)).alias(*c)),
        );
        penguins.clone().lazy().select(row).collect()
    };
    let describe = [
        stat("count", |e| e.count().cast(DataType::Float64))?,
        stat("mean", |e| e.mean())?,
        stat("std", |e| e.std(1))?,
        stat("min", |e| e.min())?,
        stat("median", |e| e.median())?,
        stat("max", |e| e.max())?,
    ]
    .into_iter()
    .try_fold(DataFrame::empty(), |acc, row| {
        if acc.width() == 0 {
            Ok(row)
        } else {
            acc.vstack(&row)
        }
    })?;
    println!("{describe}");

    // Null counts per column, the first thing to check in a new table (pandas: df.isna().sum()).
    let nulls: Vec<(String, usize)> = penguins
        .get_columns()
        .iter()
        .map(|c| (c.name().to_string(), c.null_count()))
        .collect();
    println!("null counts: {nulls:?}");
    // The palmerpenguins documentation lists 2 missing values in each measurement and 11 in sex.
    let expected = [
        ("species", 0),
        ("island", 0),
        ("bill_length_mm", 2),
        ("bill_depth_mm", 2),
        ("flipper_length_mm", 2),
        ("body_mass_g", 2),
        ("sex", 11),
        ("year", 0),
    ];
    let matches = expected
        .iter()
        .all(|(name, n)| nulls.iter().any(|(c, m)| c == name && m == n));
    lesson.claim(
        "penguins has the expected null counts per column",
        matches && nulls.len() == expected.len(),
        nulls
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        &[(
            "sex_nulls",
            nulls
                .iter()
                .find(|c| c.0 == "sex")
                .map_or(-1.0, |c| c.1 as f64),
        )],
    );
    // With nulls, flipper length stays an integer column; pandas would turn it into float64.
    println!(
        "flipper_length_mm is {} despite its 2 nulls",
        penguins.column("flipper_length_mm")?.dtype()
    );

    // Chunks: the CSV reader parses in parallel, each thread producing its own chunk, and the
    // workbook's `frame` joins them into one as it reads (it asks the reader to rechunk).
    // Appending one frame to another links the second's chunks in without copying them.
    let original_chunks = penguins
        .column("body_mass_g")?
        .as_materialized_series()
        .n_chunks();
    let mut stacked = penguins.clone();
    stacked.vstack_mut(&penguins)?;
    let chunks_before = stacked
        .column("body_mass_g")?
        .as_materialized_series()
        .n_chunks();
    stacked.as_single_chunk();
    let chunks_after = stacked
        .column("body_mass_g")?
        .as_materialized_series()
        .n_chunks();
    println!(
        "\nas read: {original_chunks} chunk(s) per column; after vstack with itself: {chunks_before}; after rechunk: {chunks_after}"
    );

    // Zero copy: a null-free numeric column in one chunk can be viewed as an ndarray without
    // copying: the view points at the Arrow buffer itself.
    let year = penguins.column("year")?.as_materialized_series().rechunk();
    let year = year.i64()?;
    let buffer = year.cont_slice().context("one chunk without nulls")?;
    let view = year.to_ndarray()?;
    let same_memory = view.as_ptr() == buffer.as_ptr();
    println!(
        "year as ndarray view: {} elements, same address as the Arrow buffer: {same_memory}",
        view.len()
    );
    lesson.claim(
        "appending adds chunks, rechunk joins them, and a clean column converts to ndarray without a copy",
        chunks_before == 2 * original_chunks && chunks_after == 1 && same_memory,
        format!("{original_chunks} chunk(s) as read, {chunks_before} after vstack, {chunks_after} after rechunk; the ndarray view starts at the Arrow buffer's address"),
        &[("chunks_after_vstack", chunks_before as f64)],
    );

    // Memory: Arrow sizes per column. Strings hold their bytes in one buffer plus views.
    let mut sizes: Vec<(String, usize)> = penguins
        .get_columns()
        .iter()
        .map(|c| {
            (
                format!("{} ({})", c.name(), c.dtype()),
                c.as_materialized_series().estimated_size(),
            )
        })
        .collect();
    sizes.sort_by_key(|s| std::cmp::Reverse(s.1));
    for (name, size) in &sizes {
        println!("  {name:<28} {:>10}", bytes(*size as f64));
        lesson.metric(
            format!("bytes {}", name.split(' ').next().unwrap_or(name)),
            *size as f64,
        );
    }
    println!("whole frame: {}", bytes(penguins.estimated_size() as f64));
    figure!(lesson, "column_sizes", plot::SIZE, |root| {
        let mut chart = BarChart::new("Penguins: memory per column (Arrow)", "bytes");
        for (name, size) in &sizes {
            chart = chart.bar(name.as_str(), *size as f64);
        }
        chart.draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}

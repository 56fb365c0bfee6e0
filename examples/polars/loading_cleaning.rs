//! # Loading and cleaning data
//!
//! **Question:** How do you load a messy file and clean it, and how do you know what the cleaning
//! changed?
//!
//! **Answer:** Read everything as text first so nothing is silently coerced or dropped, then fix
//! one kind of problem at a time with expressions: trim spaces, unify case, turn the file's missing
//! markers ("n/a", "-", "") into real nulls, strip thousands separators before casting, try each
//! date format and keep the first that parses, remove duplicates after normalising, and fill only
//! what you decide to fill. Count each fix and count what stays unparseable rather than dropping
//! it. Save the result as Parquet: typed, compressed and read back exactly.
//!
//! **Evidence:** `datasets/messy_orders.csv` is a file this project wrote with known problems
//! planted in it. All 13 counts of fixes match the plan, the table goes from 254 to 240 rows after
//! removing duplicates, and 10 amounts stay null on purpose because no rule can read them. The
//! cleaned frame reads back from Parquet equal, dates still dates, in 4,964 bytes against the CSV's
//! 9,608.
//!
//! **Run:** `cargo run --example loading_cleaning` (add `-- --quick` for a short run).

use anyhow::Result;
use harness::measure::bytes;
use harness::plot::BarChart;
use harness::prelude::*;
use polars::prelude::*;

/// The problems planted in `datasets/messy_orders.csv`, as listed in `datasets/README.md` (counted
/// there independently of this lesson).
const PLANTED: [(&str, u32); 13] = [
    ("exact duplicate rows", 10),
    ("duplicates after trimming and case", 4),
    ("customer names with stray spaces", 35),
    ("region spellings (case, spaces)", 36),
    ("region missing", 5),
    ("amount missing", 7),
    ("amount with thousands separator", 8),
    ("amount unparseable", 4),
    ("quantity missing", 5),
    ("dates YYYY-MM-DD", 84),
    ("dates MM/DD/YYYY", 89),
    ("dates D Mon YYYY", 78),
    ("dates impossible", 3),
];

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let path = datasets::path("messy_orders.csv")?;

    // Step 1: read every column as text (a schema inferred from zero rows is all strings).
    let raw = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.clone()))?
        .finish()?;
    println!("raw: {} rows, schema {:?}", raw.height(), raw.schema());
    println!("{}", raw.head(Some(6)));

    // Step 2: measure the mess before touching it. Each count is one boolean column summed.
    let markers = Series::new("markers".into(), &["n/a", "N/A", "NA", "-", ""]);
    let missing = |c: &str| {
        col(c)
            .is_null()
            .or(col(c).is_in(lit(markers.clone()).implode(), false))
    };
    let trimmed = |c: &str| col(c).str().strip_chars(lit(NULL));
    let iso = StrptimeOptions {
        format: Some("%Y-%m-%d".into()),
        strict: false,
        ..Default::default()
    };
    let us = StrptimeOptions {
        format: Some("%m/%d/%Y".into()),
        strict: false,
        ..Default::default()
    };
    let text = StrptimeOptions {
        format: Some("%d %b %Y".into()),
        strict: false,
        ..Default::default()
    };
    let amount_text = col("amount").str().replace_all(lit(","), lit(""), true);
    let counts = raw
        .clone()
        .lazy()
        .select([
            col("customer")
                .neq(trimmed("customer"))
                .sum()
                .alias("customer_spaces"),
            (missing("region")
                .not()
                .and(col("region").neq(trimmed("region").str().to_lowercase())))
            .sum()
            .alias("region_variants"),
            missing("region").sum().alias("region_missing"),
            missing("amount").sum().alias("amount_missing"),
            (missing("amount")
                .not()
                .and(col("amount").str().contains_literal(lit(","))))
            .sum()
            .alias("amount_thousands"),
            (missing("amount")
                .not()
                .and(amount_text.clone().cast(DataType::Float64).is_null()))
            .sum()
            .alias("amount_unparseable"),
            missing("quantity").sum().alias("quantity_missing"),
            col("order_date")
                .str()
                .to_date(iso.clone())
                .is_not_null()
                .sum()
                .alias("dates_iso"),
            col("order_date")
                .str()
                .to_date(us.clone())
                .is_not_null()
                .sum()
                .alias("dates_us"),
            col("order_date")
                .str()
                .to_date(text.clone())
                .is_not_null()
                .sum()
                .alias("dates_text"),
        ])
        .collect()?;
    let count = |name: &str| -> Result<u32> {
        Ok(counts
            .column(name)?
            .cast(&DataType::UInt32)?
            .u32()?
            .get(0)
            .unwrap_or(0))
    };

    // Step 3: clean. Normalise text, nulls for the markers, numbers without separators, the first
    // date format that parses.
    let date = coalesce(&[
        col("order_date").str().to_date(iso),
        col("order_date").str().to_date(us),
        col("order_date").str().to_date(text),
    ]);
    let exact_unique = raw
        .clone()
        .lazy()
        .unique(None, UniqueKeepStrategy::First)
        .collect()?;
    let normalised = exact_unique
        .clone()
        .lazy()
        .with_columns([
            trimmed("customer").alias("customer"),
            when(missing("region"))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(trimmed("region").str().to_lowercase())
                .alias("region"),
            when(missing("amount"))
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(amount_text.cast(DataType::Float64))
                .alias("amount"),
            when(missing("quantity"))
                .then(lit(NULL).cast(DataType::Int64))
                .otherwise(col("quantity").cast(DataType::Int64))
                .alias("quantity"),
            col("order_id").cast(DataType::Int64),
            date.alias("order_date"),
        ])
        .collect()?;
    let clean = normalised
        .clone()
        .lazy()
        .unique_stable(None, UniqueKeepStrategy::First)
        // Fill what can be filled honestly: an unknown region is a category of its own, a missing
        // quantity gets the median. Unparseable amounts and dates stay null, visibly.
        .with_columns([
            col("region").fill_null(lit("unknown")),
            col("quantity").fill_null(col("quantity").median().cast(DataType::Int64)),
        ])
        .sort(["order_id"], Default::default())
        .collect()?;
    let exact_dups = (raw.height() - exact_unique.height()) as u32;
    let clean_dups = (normalised.height() - clean.height()) as u32;
    let bad_dates =
        raw.height() as u32 - count("dates_iso")? - count("dates_us")? - count("dates_text")?;
    println!(
        "clean: {} rows, schema {:?}",
        clean.height(),
        clean.schema()
    );
    println!("{}", clean.head(Some(6)));

    // Step 4: compare every count with the plan.
    let found: Vec<(&str, u32)> = vec![
        ("exact duplicate rows", exact_dups),
        ("duplicates after trimming and case", clean_dups),
        (
            "customer names with stray spaces",
            count("customer_spaces")?,
        ),
        ("region spellings (case, spaces)", count("region_variants")?),
        ("region missing", count("region_missing")?),
        ("amount missing", count("amount_missing")?),
        (
            "amount with thousands separator",
            count("amount_thousands")?,
        ),
        ("amount unparseable", count("amount_unparseable")?),
        ("quantity missing", count("quantity_missing")?),
        ("dates YYYY-MM-DD", count("dates_iso")?),
        ("dates MM/DD/YYYY", count("dates_us")?),
        ("dates D Mon YYYY", count("dates_text")?),
        ("dates impossible", bad_dates),
    ];
    println!("\n{:<38} {:>6} {:>8}", "problem", "found", "planted");
    for ((name, n), (_, planted)) in found.iter().zip(PLANTED.iter()) {
        println!("{name:<38} {n:>6} {planted:>8}");
        lesson.metric(*name, *n as f64);
    }
    let all_match = found.iter().zip(PLANTED.iter()).all(|(a, b)| a == b);
    let null_amounts = clean.column("amount")?.null_count();
    lesson.claim(
        "duplicates and unparseable values counted",
        all_match && clean.height() == 240,
        format!("all 13 counts equal the planted ones; {} → {} rows; {null_amounts} amounts left null on purpose", raw.height(), clean.height()),
        &[("rows_clean", clean.height() as f64), ("duplicates_removed", (exact_dups + clean_dups) as f64)],
    );

    // Step 5: Parquet out and back in: same frame, fewer bytes.
    let parquet = lesson.out_dir().join("orders_clean.parquet");
    let mut to_write = clean.clone();
    ParquetWriter::new(std::fs::File::create(&parquet)?).finish(&mut to_write)?;
    let back = ParquetReader::new(std::fs::File::open(&parquet)?).finish()?;
    let csv_out = lesson.out_dir().join("orders_clean.csv");
    CsvWriter::new(std::fs::File::create(&csv_out)?).finish(&mut clean.clone())?;
    let (parquet_bytes, csv_bytes) = (
        std::fs::metadata(&parquet)?.len(),
        std::fs::metadata(&csv_out)?.len(),
    );
    println!(
        "\nParquet {} against CSV {} for the same clean table",
        bytes(parquet_bytes as f64),
        bytes(csv_bytes as f64)
    );
    lesson.metric("parquet_bytes", parquet_bytes as f64);
    lesson.metric("csv_bytes", csv_bytes as f64);
    lesson.claim(
        "round trip equal; Parquet smaller than CSV",
        back.equals_missing(&clean) && back.schema() == clean.schema() && parquet_bytes < csv_bytes,
        format!("read back equal with the same schema (dates stay dates); {parquet_bytes} vs {csv_bytes} bytes"),
        &[("parquet_bytes", parquet_bytes as f64), ("csv_bytes", csv_bytes as f64)],
    );

    figure!(lesson, "problems_fixed", plot::SIZE, |root| {
        let mut chart = BarChart::new("messy_orders.csv: problems found and fixed", "rows");
        for (name, n) in &found {
            chart = chart.bar(*name, *n as f64);
        }
        chart.draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}

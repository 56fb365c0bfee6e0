//! The pipeline `pipeline_orchestration` runs: flights and weather extracted from the bundled
//! files, joined by airport and hour, validated, a delay model trained and a report written.
//! The lesson and the worker process it kills both build it from here, so both run the same
//! tasks.

use std::fs::File;

use polars::prelude::*;

use crate::orchestrator::{Error, Pipeline, Task, TaskContext, TaskError};

/// The hour a flight left, and the weather observation it is matched with.
const HOUR_KEYS: [&str; 5] = ["origin", "year", "month", "day", "hour"];

/// The six tasks, declared downstream first: the runner, not the listing, decides the order.
pub fn flights_pipeline() -> Result<Pipeline, Error> {
    Pipeline::new(vec![
        Task::new("report", &["train", "validate"], "report.json", report),
        Task::new("train", &["validate"], "model.json", train),
        Task::new("validate", &["join"], "validated.parquet", validate),
        Task::new(
            "join",
            &["extract_flights", "extract_weather"],
            "joined.parquet",
            join,
        ),
        Task::new("extract_weather", &[], "weather.parquet", extract_weather),
        Task::new("extract_flights", &[], "flights.parquet", extract_flights),
    ])
}

fn read_parquet(ctx: &TaskContext, file: &str) -> Result<DataFrame, TaskError> {
    Ok(ParquetReader::new(File::open(ctx.input(file))?).finish()?)
}

fn write_parquet(ctx: &TaskContext, mut frame: DataFrame) -> Result<(), TaskError> {
    ParquetWriter::new(File::create(ctx.output())?).finish(&mut frame)?;
    Ok(())
}

fn hour_keys() -> Vec<Expr> {
    HOUR_KEYS.iter().map(|k| col(*k)).collect()
}

/// The hour keys as both tables are stored, followed by `measures` as floats.
fn hour_keys_and(measures: &[&str]) -> Vec<Expr> {
    let airport = col("origin").cast(DataType::String);
    let time = HOUR_KEYS[1..].iter().map(|k| col(*k).cast(DataType::Int64));
    let values = measures.iter().map(|m| col(*m).cast(DataType::Float64));
    std::iter::once(airport).chain(time).chain(values).collect()
}

/// Each flight's airport and hour with its delays, in plain types.
fn extract_flights(ctx: &TaskContext) -> Result<(), TaskError> {
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?
        .lazy()
        .select(hour_keys_and(&["dep_delay", "arr_delay"]))
        .collect()?;
    write_parquet(ctx, flights)
}

/// One weather observation per airport and hour. The source repeats a few hours (clock
/// changes): joining with those as they are would copy the flights of those hours.
fn extract_weather(ctx: &TaskContext) -> Result<(), TaskError> {
    let weather = lessons_frames::frame("nycflights13_weather.csv")?
        .lazy()
        .select(hour_keys_and(&["visib", "wind_speed"]))
        .unique_stable(Some(cols(HOUR_KEYS)), UniqueKeepStrategy::First)
        .collect()?;
    write_parquet(ctx, weather)
}

/// Each flight with the weather at its airport in the hour it left (missing where none was
/// observed).
fn join(ctx: &TaskContext) -> Result<(), TaskError> {
    let flights = read_parquet(ctx, "flights.parquet")?;
    let weather = read_parquet(ctx, "weather.parquet")?;
    let joined = flights
        .lazy()
        .join(
            weather.lazy(),
            hour_keys(),
            hour_keys(),
            JoinArgs::new(JoinType::Left),
        )
        .collect()?;
    write_parquet(ctx, joined)
}

/// Checks what a mistake upstream would change, then keeps the flights that have both delays.
/// A failed check is permanent: running it again would fail the same way.
fn validate(ctx: &TaskContext) -> Result<(), TaskError> {
    let flights = read_parquet(ctx, "flights.parquet")?;
    let joined = read_parquet(ctx, "joined.parquet")?;
    if joined.height() != flights.height() {
        return Err(TaskError::Permanent(format!(
            "the join turned {} flights into {} rows: the weather repeats an hour",
            flights.height(),
            joined.height()
        )));
    }
    let with_weather = joined.column("visib")?.len() - joined.column("visib")?.null_count();
    if (with_weather as f64) < 0.9 * joined.height() as f64 {
        return Err(TaskError::Permanent(format!(
            "only {with_weather} of {} flights found their weather",
            joined.height()
        )));
    }
    let complete = joined
        .lazy()
        .filter(
            col("dep_delay")
                .is_not_null()
                .and(col("arr_delay").is_not_null()),
        )
        .collect()?;
    write_parquet(ctx, complete)
}

/// The least-squares line through the points (x, y): its slope and intercept.
fn least_squares(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let slope = sxy / sxx;
    (slope, my - slope * mx)
}

fn delays(frame: &DataFrame) -> Result<(Vec<f64>, Vec<f64>), TaskError> {
    let get = |name: &str| -> Result<Vec<f64>, TaskError> {
        Ok(frame.column(name)?.f64()?.into_no_null_iter().collect())
    };
    Ok((get("dep_delay")?, get("arr_delay")?))
}

/// A one-feature model: arrival delay as a straight line in departure delay.
fn train(ctx: &TaskContext) -> Result<(), TaskError> {
    let validated = read_parquet(ctx, "validated.parquet")?;
    let (departure, arrival) = delays(&validated)?;
    let (slope, intercept) = least_squares(&departure, &arrival);
    let model = serde_json::json!({
        "feature": "dep_delay",
        "target": "arr_delay",
        "slope": slope,
        "intercept": intercept,
        "rows": validated.height(),
    });
    std::fs::write(ctx.output(), serde_json::to_string_pretty(&model)?)?;
    Ok(())
}

/// The model's error, overall and by airport.
fn report(ctx: &TaskContext) -> Result<(), TaskError> {
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ctx.input("model.json"))?)?;
    let (slope, intercept) = (
        model["slope"].as_f64().unwrap_or(f64::NAN),
        model["intercept"].as_f64().unwrap_or(f64::NAN),
    );
    let validated = read_parquet(ctx, "validated.parquet")?;
    let scored = validated
        .lazy()
        .with_column(
            (col("arr_delay") - (lit(slope) * col("dep_delay") + lit(intercept)))
                .pow(2)
                .alias("squared_error"),
        )
        .group_by([col("origin")])
        .agg([
            len().alias("flights"),
            col("squared_error").mean().sqrt().alias("rmse"),
        ])
        .sort(["origin"], SortMultipleOptions::default())
        .collect()?;
    let origins = scored.column("origin")?.str()?;
    let rmse = scored.column("rmse")?.f64()?;
    let by_origin: serde_json::Map<String, serde_json::Value> = (0..scored.height())
        .map(|i| {
            (
                origins.get(i).unwrap_or("?").to_string(),
                serde_json::json!(rmse.get(i)),
            )
        })
        .collect();
    let report = serde_json::json!({ "model": model, "rmse_by_origin": by_origin });
    std::fs::write(ctx.output(), serde_json::to_string_pretty(&report)?)?;
    Ok(())
}

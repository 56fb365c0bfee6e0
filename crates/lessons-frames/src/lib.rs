//! The pandas → polars lessons (`examples/polars/`), and what other lessons share of polars: the
//! bundled files read as DataFrames, linear interpolation as an expression, and the flights
//! queries that a lesson explains and a criterion bench measures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

/// A bundled file that polars could not read, or a query on it that failed.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error(transparent)]
    Data(#[from] datasets::Error),
    #[error("{path}: {message}")]
    Polars { path: PathBuf, message: String },
}

/// Reads a bundled CSV or Parquet file into a polars DataFrame (nulls where the file has `NA` or
/// nothing), each column in one contiguous chunk.
///
/// polars' CSV reader parses in parallel and keeps one chunk per piece it parsed: the planes
/// table's 3,322 rows arrive in 33 chunks, and a left join that gathers from them took 19–23 ms
/// against 6 ms from one chunk (on both polars and polars-python). Reading once into one chunk
/// costs a copy of a table that is small next to what gathers from it.
pub fn frame(file: &str) -> Result<DataFrame, FrameError> {
    let path = datasets::path(file)?;
    let to_error = |e: PolarsError| FrameError::Polars {
        path: path.clone(),
        message: e.to_string(),
    };
    if file.ends_with(".parquet") {
        let handle = std::fs::File::open(&path).map_err(|e| datasets::Error::io(&path, e))?;
        ParquetReader::new(handle)
            .set_rechunk(true)
            .finish()
            .map_err(to_error)
    } else {
        // Types are inferred from the whole file: the weather table's first rows hold only whole
        // numbers in a column that later has decimals.
        CsvReadOptions::default()
            .with_has_header(true)
            .with_rechunk(true)
            .with_infer_schema_length(None)
            .map_parse_options(|o| {
                o.with_null_values(Some(NullValues::AllColumnsSingle("NA".into())))
            })
            .try_into_reader_with_file_path(Some(path.clone()))
            .and_then(|r| r.finish())
            .map_err(to_error)
    }
}

/// Linear interpolation of the nulls in `column` as a polars expression, with `position` (a
/// numeric expression: a row index or a time) as the x axis: each null gets the straight line
/// between the nearest known values before and after it; nulls before the first or after the last
/// known value stay null. (polars' own `interpolate` sits behind a crate feature this workspace
/// does not build; this is the same computation from forward and backward fills.)
pub fn interpolate_linear(column: &str, position: Expr) -> Expr {
    let known = col(column).is_not_null();
    let fill = |e: Expr, forward: bool| {
        e.fill_null_with_strategy(if forward {
            FillNullStrategy::Forward(None)
        } else {
            FillNullStrategy::Backward(None)
        })
    };
    let at = when(known.clone())
        .then(position.clone())
        .otherwise(lit(NULL))
        .cast(DataType::Float64);
    let (prev_v, next_v) = (fill(col(column), true), fill(col(column), false));
    let (prev_x, next_x) = (fill(at.clone(), true), fill(at, false));
    let gap = next_x.clone() - prev_x.clone();
    let line = prev_v.clone()
        + (next_v - prev_v) * (position.cast(DataType::Float64) - prev_x) / gap.clone();
    when(known).then(col(column)).otherwise(line).alias(column)
}

/// What the hand-written flights aggregation keeps per (carrier, month).
#[derive(Default, Debug, Clone, PartialEq)]
pub struct CarrierMonth {
    pub flights: u32,
    pub delay_sum: f64,
    pub delay_known: u32,
    pub delayed_15: u32,
    pub max_arr_delay: Option<f64>,
}

/// Flights by carrier and month with five aggregations, in polars: count, mean departure delay
/// (nulls skipped), share delayed over 15 minutes, worst arrival delay, cancellations.
pub fn flights_by_carrier_month(flights: &DataFrame) -> PolarsResult<DataFrame> {
    flights
        .clone()
        .lazy()
        .group_by([col("carrier"), col("month")])
        .agg([
            len().alias("flights"),
            col("dep_delay").mean().alias("mean_dep_delay"),
            col("dep_delay")
                .gt(lit(15))
                .mean()
                .alias("share_delayed_15"),
            col("arr_delay").max().alias("max_arr_delay"),
            col("dep_delay").null_count().alias("cancelled"),
        ])
        .sort(["carrier", "month"], Default::default())
        .collect()
}

/// Every flight with its plane: a lazy left join of the flights onto the planes table on the tail
/// number, the planes' clashing column names suffixed `_plane`.
pub fn flights_with_planes(flights: &DataFrame, planes: &DataFrame) -> PolarsResult<DataFrame> {
    flights
        .clone()
        .lazy()
        .join(
            planes.clone().lazy(),
            [col("tailnum")],
            [col("tailnum")],
            JoinArgs::new(JoinType::Left).with_suffix(Some("_plane".into())),
        )
        .collect()
}

/// The same aggregation by hand: one single-threaded pass into a HashMap.
pub fn flights_by_carrier_month_by_hand(
    carrier: &StringChunked,
    month: &Int64Chunked,
    dep_delay: &Float64Chunked,
    arr_delay: &Float64Chunked,
) -> HashMap<(String, i64), CarrierMonth> {
    let mut groups: HashMap<(String, i64), CarrierMonth> = HashMap::new();
    let rows = carrier
        .iter()
        .zip(month.iter())
        .zip(dep_delay.iter())
        .zip(arr_delay.iter());
    for (((c, m), d), a) in rows {
        let acc = groups
            .entry((c.unwrap_or_default().to_string(), m.unwrap_or_default()))
            .or_default();
        acc.flights += 1;
        if let Some(d) = d {
            acc.delay_sum += d;
            acc.delay_known += 1;
            acc.delayed_15 += u32::from(d > 15.0);
        }
        if let Some(a) = a {
            acc.max_arr_delay = Some(acc.max_arr_delay.map_or(a, |m: f64| m.max(a)));
        }
    }
    groups
}

/// July's flights from JFK, eager style: read every column of every row of the Parquet file, then
/// filter with a mask.
pub fn july_jfk_eager(parquet: &Path) -> Result<DataFrame, FrameError> {
    let to_error = |e: PolarsError| FrameError::Polars {
        path: parquet.to_path_buf(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(parquet).map_err(|e| datasets::Error::io(parquet, e))?;
    let all = ParquetReader::new(file).finish().map_err(to_error)?;
    let month = all
        .column("month")
        .map_err(to_error)?
        .as_materialized_series()
        .equal(7);
    let origin = all
        .column("origin")
        .map_err(to_error)?
        .as_materialized_series()
        .equal("JFK");
    let mask = month.map_err(to_error)? & origin.map_err(to_error)?;
    all.filter(&mask).map_err(to_error)
}

/// The same rows, lazily: a Parquet scan with the filter, which the optimiser pushes into it.
pub fn july_jfk_lazy(parquet: &Path) -> PolarsResult<LazyFrame> {
    Ok(LazyFrame::scan_parquet(
        PlPath::new(&parquet.to_string_lossy()),
        ScanArgsParquet::default(),
    )?
    .filter(col("month").eq(lit(7)).and(col("origin").eq(lit("JFK")))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_arrive_in_one_chunk_per_column() {
        for file in ["nycflights13_planes.csv", "nycflights13_flights.parquet"] {
            let df = frame(file).unwrap();
            let chunks: Vec<usize> = df.get_columns().iter().map(|c| c.n_chunks()).collect();
            assert!(chunks.iter().all(|&n| n == 1), "{file}: chunks {chunks:?}");
        }
    }

    #[test]
    fn linear_interpolation_fills_inner_gaps_only() {
        let df = df!("v" => [None, Some(1.0), None, None, Some(4.0), None], "t" => [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let out = df
            .lazy()
            .select([interpolate_linear("v", col("t"))])
            .collect()
            .unwrap();
        let v: Vec<Option<f64>> = out
            .column("v")
            .unwrap()
            .f64()
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(
            v,
            vec![None, Some(1.0), Some(2.0), Some(3.0), Some(4.0), None]
        );
        // Uneven positions: the line follows x, not the row count.
        let df = df!("v" => [Some(0.0), None, Some(10.0)], "t" => [0.0, 9.0, 10.0]).unwrap();
        let out = df
            .lazy()
            .select([interpolate_linear("v", col("t"))])
            .collect()
            .unwrap();
        assert_eq!(out.column("v").unwrap().f64().unwrap().get(1), Some(9.0));
    }

    #[test]
    fn bundled_files_read_as_frames() {
        let penguins = frame("penguins.csv").unwrap();
        assert_eq!(penguins.height(), 344);
        assert_eq!(penguins.column("sex").unwrap().null_count(), 11);
        let flights = frame("nycflights13_flights.parquet").unwrap();
        assert!(flights.height() > 300_000);
        assert!(
            frame("no_such_file.csv")
                .unwrap_err()
                .to_string()
                .contains("no_such_file.csv")
        );
    }
}

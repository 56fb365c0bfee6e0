//! # Out-of-core and parallel computing
//!
//! **Question:** How do you process data larger than memory?
//!
//! **Answer:** Never hold it all: store it as many files in partition folders (Parquet, hive-style
//! `month=7/`), and run the query as a lazy plan on a streaming engine, which pushes batches of
//! rows through each step so that memory follows the batch size and the number of groups, not the
//! data. A filter on the partition column skips whole folders before a file is opened. The same
//! works by hand the way Dask does it: each file is a task that maps to partial results that can be
//! added (sums and counts, never means), the tasks run on every core (rayon), and a reduce adds the
//! partials.
//!
//! **Evidence:** 16 copies of the flights table, 5,388,416 rows, written as 192 Parquet files in 12
//! month folders (89.6 MiB on disk, 712 MiB as DataFrames). Flights and mean arrival delay per
//! carrier: the in-memory engine peaks at 136 MiB of heap, the streaming engine at 4.1 MiB and a
//! rayon map-reduce over the files at 1.9 MiB, with the same answer (16 carriers, means within
//! 1e-9); the budget, an eighth of the data (89 MiB), holds the last two and not the first. Reading
//! each file with polars' own parallel reader inside the rayon tasks peaked at 44.5 MiB instead: a
//! rayon worker waiting on polars' pool steals more tasks meanwhile. A filter on the month folder
//! reads only July: 9.2 % of the allocations of the scan of every month.
//!
//! **Run:** `cargo run --example out_of_core_parallel` (add `-- --quick` for a short run).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use harness::measure::{bytes, count_allocations};
use harness::plot::BarChart;
use harness::prelude::*;
use lessons_bigdata::carrier_delays;
use polars::io::HiveOptions;
use polars::prelude::*;
use rayon::prelude::*;

/// What one partition contributes per carrier: its flights, and the sum and number of the known
/// arrival delays. These add up across partitions; means do not (a mean of means weighs a small
/// partition like a big one).
type Partial = BTreeMap<String, (u64, f64, u64)>;

/// The map task: one file's partial aggregates, reading only the two columns it needs. The file
/// is read on the task's own thread (`ParallelStrategy::None`): otherwise polars hands the
/// decoding to its own thread pool, and a rayon worker that waits on another pool steals more
/// tasks meanwhile. Measured here with 72 files: 44.5 MiB at the peak that way, 1.9 MiB this way.
fn partial_of(file: &Path) -> PolarsResult<Partial> {
    let part = ParquetReader::new(std::fs::File::open(file)?)
        .with_columns(Some(vec!["carrier".into(), "arr_delay".into()]))
        .read_parallel(ParallelStrategy::None)
        .finish()?;
    let carriers = part.column("carrier")?.str()?;
    let delays = part.column("arr_delay")?.f64()?;
    let mut partial = Partial::new();
    for (carrier, delay) in carriers.into_iter().zip(delays) {
        let entry = partial
            .entry(carrier.unwrap_or("?").to_string())
            .or_insert((0, 0.0, 0));
        entry.0 += 1;
        if let Some(d) = delay {
            entry.1 += d;
            entry.2 += 1;
        }
    }
    Ok(partial)
}

/// The reduce step: adds two partial aggregates.
fn merge(mut a: Partial, b: Partial) -> Partial {
    for (carrier, (flights, sum, known)) in b {
        let entry = a.entry(carrier).or_insert((0, 0.0, 0));
        entry.0 += flights;
        entry.1 += sum;
        entry.2 += known;
    }
    a
}

/// Every file under `root` as one lazy table, whose folder names (`month=7`) become a column.
fn scan_all(root: &Path) -> PolarsResult<LazyFrame> {
    let files = PlPath::new(&format!("{}/**/*.parquet", root.display()));
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_enabled(),
        ..ScanArgsParquet::default()
    };
    LazyFrame::scan_parquet(files, args)
}

/// The query: flights and mean arrival delay per carrier, over the whole data set.
fn per_carrier(root: &Path) -> PolarsResult<LazyFrame> {
    Ok(scan_all(root)?
        .group_by([col("carrier")])
        .agg([
            len().alias("flights"),
            col("arr_delay").mean().alias("mean_arr_delay"),
        ])
        .sort(["carrier"], SortMultipleOptions::default()))
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    // Step 1: a data set written the way big ones are stored: Parquet files in one folder per
    // month (`month=7/`, hive-style), several files per folder. It is the flights table copied
    // `copies` times, each copy's delays shifted by one minute more, and written one month of one
    // copy at a time: the lesson never holds more than one copy in memory.
    let copies: usize = lesson.pick(16, 6);
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?;
    let root = lesson.fresh_dir("flights_by_month")?;
    let mut files: Vec<PathBuf> = Vec::new();
    let (mut in_memory_bytes, mut rows) = (0usize, 0usize);
    for copy in 0..copies {
        let shifted = flights
            .clone()
            .lazy()
            .with_columns([
                (col("arr_delay") + lit(copy as f64)).alias("arr_delay"),
                (col("dep_delay") + lit(copy as f64)).alias("dep_delay"),
            ])
            .collect()?;
        for mut month in shifted.partition_by(["month"], true)? {
            let m = month
                .column("month")?
                .get(0)?
                .extract::<i64>()
                .context("a month")?;
            // The month lives in the folder name; the file holds the other columns.
            month = month.drop("month")?;
            let folder = root.join(format!("month={m}"));
            std::fs::create_dir_all(&folder)?;
            let file = folder.join(format!("copy-{copy:02}.parquet"));
            ParquetWriter::new(std::fs::File::create(&file)?)
                .with_row_group_size(Some(16_384))
                .finish(&mut month)?;
            in_memory_bytes += month.estimated_size();
            rows += month.height();
            files.push(file);
        }
    }
    let on_disk: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()))
        .sum::<std::io::Result<u64>>()?;
    println!(
        "{rows} rows in {} files under {}: {} of Parquet, {} as DataFrames in memory",
        files.len(),
        root.display(),
        bytes(on_disk as f64),
        bytes(in_memory_bytes as f64)
    );
    lesson.metric("rows", rows as f64);
    lesson.metric("data_in_memory_bytes", in_memory_bytes as f64);

    // Step 2: one lazy query over every file, run by both polars engines. The in-memory engine
    // reads the columns the query needs from every file, then aggregates; the streaming engine
    // pushes batches of rows through the group-by, so its memory follows the batch size and the
    // number of groups, not the data. The allocator counts the heap each one holds at its peak.
    let (in_memory, in_memory_heap) =
        count_allocations(|| per_carrier(&root)?.collect_with_engine(Engine::InMemory))?;
    let (streamed, streamed_heap) =
        count_allocations(|| per_carrier(&root)?.collect_with_engine(Engine::Streaming))?;
    let (in_memory, streamed) = (
        carrier_delays::from_frame(&in_memory?)?,
        carrier_delays::from_frame(&streamed?)?,
    );
    println!(
        "per carrier over all files: in-memory engine peak heap {}, streaming engine {} ({} carriers)",
        bytes(in_memory_heap.peak as f64),
        bytes(streamed_heap.peak as f64),
        streamed.len()
    );
    lesson.metric("in_memory_peak_bytes", in_memory_heap.peak as f64);
    lesson.metric("streaming_peak_bytes", streamed_heap.peak as f64);

    // Step 3: the same job as Dask would run it: each file is a task that maps to partial sums,
    // rayon runs the tasks on every core, and the partials are added up. Each task holds two
    // columns of one file, so memory follows the number of cores, not the number of files.
    let timer = std::time::Instant::now();
    let (mapped, mapped_heap) = count_allocations(|| {
        files
            .par_iter()
            .map(|f| partial_of(f))
            .try_reduce(Partial::new, |a, b| Ok(merge(a, b)))
    })?;
    let parallel_secs = timer.elapsed().as_secs_f64();
    let timer = std::time::Instant::now();
    let serial = files
        .iter()
        .map(|f| partial_of(f))
        .try_fold(Partial::new(), |a, b| b.map(|b| merge(a, b)))?;
    let serial_secs = timer.elapsed().as_secs_f64();
    let mapped = mapped?;
    let by_tasks: BTreeMap<String, (u64, f64)> = mapped
        .iter()
        .map(|(c, &(n, sum, known))| (c.clone(), (n, sum / known as f64)))
        .collect();
    println!(
        "map-reduce over {} file tasks: {:.2} s on {} rayon threads, {serial_secs:.2} s one after another; peak heap {}",
        files.len(),
        parallel_secs,
        rayon::current_num_threads(),
        bytes(mapped_heap.peak as f64)
    );
    lesson.metric("map_reduce_peak_bytes", mapped_heap.peak as f64);
    lesson.metric(
        "map_reduce_serial_over_parallel",
        serial_secs / parallel_secs,
    );
    lesson.claim(
        "streaming, in-memory and map-reduce answers are equal",
        carrier_delays::same(&streamed, &in_memory)
            && carrier_delays::same(&by_tasks, &in_memory)
            && mapped == serial
            && in_memory.values().map(|v| v.0).sum::<u64>() == rows as u64,
        format!(
            "{} carriers, {rows} flights in all three; means agree within 1e-9",
            in_memory.len()
        ),
        &[("carriers", in_memory.len() as f64)],
    );
    // The budget: an eighth of the data set's size in memory. The in-memory engine needs the
    // two columns of every row at once (at least 24 bytes a row: a 16-byte string view and a
    // float, where the whole data set takes about 130 bytes a row, so it cannot fit in an
    // eighth); streaming and map-reduce hold a few batches or files.
    let budget = in_memory_bytes / 8;
    lesson.claim(
        "streaming and map-reduce stay within an eighth of the data's size in memory; the in-memory engine does not",
        streamed_heap.peak < budget && mapped_heap.peak < budget && in_memory_heap.peak > budget,
        format!(
            "budget {}: streaming peak {}, map-reduce peak {} (the in-memory engine peaked at {})",
            bytes(budget as f64),
            bytes(streamed_heap.peak as f64),
            bytes(mapped_heap.peak as f64),
            bytes(in_memory_heap.peak as f64)
        ),
        &[
            ("budget", budget as f64),
            ("streaming_peak", streamed_heap.peak as f64),
            ("map_reduce_peak", mapped_heap.peak as f64),
        ],
    );

    // Step 4: partition pruning. Filtering on the folder column lets the scan skip the other
    // months' folders before opening a file. The work, counted as bytes allocated by the same
    // aggregate over every month and over July alone, falls to about one twelfth.
    let delay_summary = [
        len().alias("flights"),
        col("arr_delay").mean().alias("mean"),
    ];
    let (every_month, every_heap) = count_allocations(|| {
        scan_all(&root)?
            .select(delay_summary.clone())
            .collect_with_engine(Engine::Streaming)
    })?;
    let (july, july_heap) = count_allocations(|| {
        scan_all(&root)?
            .filter(col("month").eq(lit(7)))
            .select(delay_summary.clone())
            .collect_with_engine(Engine::Streaming)
    })?;
    let count = |frame: PolarsResult<DataFrame>| -> Result<u64> {
        frame?
            .column("flights")?
            .cast(&DataType::UInt64)?
            .u64()?
            .get(0)
            .context("a count")
    };
    let (every_month, july) = (count(every_month)?, count(july)?);
    let july_expected = copies as u64
        * flights
            .column("month")?
            .cast(&DataType::Int64)?
            .i64()?
            .into_iter()
            .filter(|m| *m == Some(7))
            .count() as u64;
    let share = july_heap.allocated as f64 / every_heap.allocated as f64;
    println!(
        "July alone: {july} of {every_month} flights; the scan allocated {} against {} for every month ({:.1} %)",
        bytes(july_heap.allocated as f64),
        bytes(every_heap.allocated as f64),
        100.0 * share
    );
    lesson.metric("pruned_allocation_share", share);
    // July holds 8.6 % of the flights; reading the other months as well would make the share
    // 100 %, so a quarter separates the two by far.
    lesson.claim(
        "a filter on the partition column reads only that partition",
        july == july_expected && every_month == rows as u64 && share < 0.25,
        format!(
            "{july} July flights (expected {july_expected}); {:.1} % of the full scan's allocations",
            100.0 * share
        ),
        &[("share", share)],
    );

    figure!(lesson, "peak_heap", plot::SIZE, |root| {
        let mib = |b: usize| b as f64 / 1048576.0;
        BarChart::new(
            &format!(
                "Peak heap, per-carrier delays over {:.1} million rows",
                rows as f64 / 1e6
            ),
            "MiB at the peak, counted by the allocator",
        )
        .bar("the data set as DataFrames", mib(in_memory_bytes))
        .bar("in-memory engine", mib(in_memory_heap.peak))
        .bar("budget (an eighth of the data)", mib(budget))
        .bar("streaming engine", mib(streamed_heap.peak))
        .bar("rayon map-reduce over files", mib(mapped_heap.peak))
        .draw(&root)?;
    })?;

    // The data set is scratch: it goes, the figure and the report stay.
    std::fs::remove_dir_all(&root)?;

    lesson.finish()?;
    Ok(())
}

//! # DataFrame performance: categoricals, lazy plans and streaming
//!
//! **Question:** How do you make dataframe code fast and memory-efficient on data that barely fits,
//! or does not fit, in memory?
//!
//! **Answer:** Store repeated strings as categoricals (one small integer per row plus one
//! dictionary). Go lazy so the optimiser can push filters and column choices into the file scan and
//! read only what the query needs; look at the optimised plan (`explain`) to see what will really
//! be read. When even that is too big, run the same lazy query on the streaming engine, which
//! processes the file in batches so memory follows the batch size, not the file. And keep a table
//! you gather from in one chunk: a parallel reader, vstack or concat leaves a column in pieces, and
//! every row a join fetches by position must first find its piece; `rechunk` once.
//!
//! **Evidence:** The flights' destination column takes 5.1 MiB as strings and 1.3 MiB as a
//! categorical (4.0×, 105 distinct values, counted by the allocator). The lazy plan reads 4 of 19
//! columns with the filter inside the Parquet scan and peaks at 1.1 MiB of heap against 64 MiB
//! eagerly. On 16 copies of the file, a streamed group-by peaks at 31 MiB and the in-memory engine
//! at 744 MiB; doubling the file doubles the in-memory peak and does not grow the streaming one. A
//! left join of the flights onto the planes table takes 8.8 ms with planes in one chunk and 26.1 ms
//! with planes in the 33 pieces polars' CSV reader left it in (3.0×, best of 9 run alternately;
//! claimed: at least 1.5×), with identical results.
//!
//! **Run:** `cargo run --example dataframe_performance` (add `-- --quick` for a short run).

use anyhow::{Context, Result};
use harness::measure::{self, bytes, count_allocations};
use harness::plot::BarChart;
use harness::prelude::*;
use polars::prelude::*;

fn main() -> Outcome {
    // The streaming engine's memory grows with the number of batches in flight, one or more per
    // thread; two threads make the measurement the same on every machine. This runs before polars
    // starts its thread pool and before this program starts any thread.
    // SAFETY: no other thread exists yet, so nothing can read the environment concurrently.
    unsafe { std::env::set_var("POLARS_MAX_THREADS", "2") };
    let mut lesson = start_lesson!()?;
    let copies = lesson.pick(16, 8);
    let runs = lesson.pick(5, 3);
    let path = datasets::path("nycflights13_flights.parquet")?;
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?;

    // Part 1: strings against categoricals. Memory is counted by the allocator while each column
    // is built: polars' own estimated_size counts a string column's character buffer but not the
    // 16-byte view each row carries, so it undercounts short strings several times over.
    let mut sizes = Vec::new();
    println!(
        "{:<10} {:>8} {:>12} {:>12} {:>7} {:>16}",
        "column", "distinct", "string", "categorical", "ratio", "estimated_size"
    );
    for name in ["carrier", "origin", "dest", "tailnum"] {
        let original = flights.column(name)?.as_materialized_series().clone();
        let categories = DataType::from_categories(Categories::global());
        let (categorical, c) = count_allocations(|| original.cast(&categories))?;
        let categorical = categorical?;
        let (text, s) = count_allocations(|| categorical.cast(&DataType::String))?;
        let text = text?;
        let (s, c) = (s.retained.max(0) as usize, c.retained.max(0) as usize);
        println!(
            "{name:<10} {:>8} {:>12} {:>12} {:>6.1}× {:>16}",
            text.n_unique()?,
            bytes(s as f64),
            bytes(c as f64),
            s as f64 / c as f64,
            bytes(text.estimated_size() as f64)
        );
        lesson.metric(format!("bytes string {name}"), s as f64);
        lesson.metric(format!("bytes categorical {name}"), c as f64);
        sizes.push((name, s, c));
    }
    let (_, dest_s, dest_c) = sizes[2];
    lesson.claim(
        "the categorical column is ≥ 3× smaller",
        dest_s as f64 >= 3.0 * dest_c as f64,
        format!("dest: {} as strings, {} as a categorical ({:.1}×; 105 distinct values), counted by the allocator", bytes(dest_s as f64), bytes(dest_c as f64), dest_s as f64 / dest_c as f64),
        &[("dest_string_bytes", dest_s as f64), ("dest_categorical_bytes", dest_c as f64)],
    );

    // Part 2: lazy against eager. The same question: mean delay per carrier of July's JFK flights.
    // Both routes select the same rows and then run the same summary.
    let summarise = |rows: LazyFrame| {
        rows.group_by([col("carrier")])
            .agg([
                col("dep_delay").mean().alias("mean_delay"),
                len().alias("flights"),
            ])
            .sort(["carrier"], Default::default())
    };
    let lazy_query =
        || -> PolarsResult<LazyFrame> { Ok(summarise(lessons_frames::july_jfk_lazy(&path)?)) };
    let plan = lazy_query()?.explain(true)?;
    println!("\noptimised plan:\n{plan}");
    // Eager style: read every column of every row, then filter, then aggregate.
    let eager = || -> Result<DataFrame> {
        Ok(summarise(lessons_frames::july_jfk_eager(&path)?.lazy()).collect()?)
    };
    let (lazy_result, eager_result) = (lazy_query()?.collect()?, eager()?);
    let t_lazy = best_of(runs, || {
        lazy_query()
            .and_then(|q| q.collect())
            .map(|d| d.height())
            .unwrap_or(0)
    });
    let t_eager = best_of(runs, || eager().map(|d| d.height()).unwrap_or(0));
    let (_, lazy_mem) = count_allocations(|| lazy_query().and_then(|q| q.collect()))?;
    let (_, eager_mem) = count_allocations(eager)?;
    println!(
        "lazy {} (peak heap {}) against eager {} (peak heap {}); same result: {}",
        measure::duration(t_lazy.best),
        bytes(lazy_mem.peak as f64),
        measure::duration(t_eager.best),
        bytes(eager_mem.peak as f64),
        lazy_result.equals_missing(&eager_result)
    );
    lesson.metric("seconds lazy", t_lazy.secs());
    lesson.metric("seconds eager", t_eager.secs());
    lesson.metric("peak bytes lazy", lazy_mem.peak as f64);
    lesson.metric("peak bytes eager", eager_mem.peak as f64);
    let scan_line = plan
        .lines()
        .find(|l| l.contains("Parquet SCAN"))
        .unwrap_or_default()
        .to_string();
    // The query names four columns (month, origin, carrier, dep_delay): the scan should read those.
    let projected = plan.contains("PROJECT 4/19 COLUMNS");
    let pushed =
        plan.contains("SELECTION:") && !plan.lines().any(|l| l.trim_start().starts_with("FILTER"));
    lesson.claim(
        "the lazy scan reads fewer columns",
        projected && pushed && lazy_result.equals_missing(&eager_result) && lazy_mem.peak < eager_mem.peak,
        format!("plan: \"{}\" with \"PROJECT 4/19 COLUMNS\" and the filter as the scan's SELECTION; peak heap {} lazy vs {} eager", scan_line.trim(), bytes(lazy_mem.peak as f64), bytes(eager_mem.peak as f64)),
        &[("lazy_peak_bytes", lazy_mem.peak as f64), ("eager_peak_bytes", eager_mem.peak as f64)],
    );

    // Part 3: streaming. Files of k and 2k copies of the flights, written in row groups of 64k rows
    // so that they can be read piece by piece, and one group-by over six of their columns.
    // The budget: 192 MiB. The streaming engine's peak varied between about 35 and 90 MiB from run to
    // run here (it depends on how many row groups are in flight), so the budget leaves a 2× margin;
    // the in-memory engine needs about 370 MiB for 8 copies.
    const BUDGET: usize = 192 << 20;
    let query = |file: &std::path::Path| -> PolarsResult<LazyFrame> {
        Ok(LazyFrame::scan_parquet(
            PlPath::new(&file.to_string_lossy()),
            ScanArgsParquet::default(),
        )?
        .group_by([col("origin"), col("dest")])
        .agg([
            len().alias("flights"),
            col("dep_delay").mean(),
            col("arr_delay").mean(),
            col("air_time").mean(),
            col("distance").mean(),
        ])
        .sort(["origin", "dest"], Default::default()))
    };
    let mut peaks = Vec::new();
    let mut same = true;
    for k in [copies / 2, copies] {
        let file = lesson.out_dir().join(format!("flights_x{k}.parquet"));
        let frames: Vec<LazyFrame> = (0..k).map(|_| flights.clone().lazy()).collect();
        let mut stacked = concat(frames, UnionArgs::default())?.collect()?;
        ParquetWriter::new(std::fs::File::create(&file)?)
            .with_row_group_size(Some(65_536))
            .finish(&mut stacked)?;
        drop(stacked);
        let (in_memory, in_memory_stats) = count_allocations(|| {
            query(&file).and_then(|q| q.collect_with_engine(Engine::InMemory))
        })?;
        let (streamed, streamed_stats) = count_allocations(|| {
            query(&file).and_then(|q| q.collect_with_engine(Engine::Streaming))
        })?;
        let (in_memory, streamed) = (in_memory?, streamed?);
        same &= in_memory.height() == streamed.height()
            && in_memory
                .column("flights")?
                .as_materialized_series()
                .equals(streamed.column("flights")?.as_materialized_series())
            && in_memory
                .column("dep_delay")?
                .f64()?
                .into_iter()
                .zip(streamed.column("dep_delay")?.f64()?)
                .all(|(a, b)| match (a, b) {
                    (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                    (a, b) => a == b,
                });
        println!(
            "\n{k} copies: {} rows, {} of Parquet; peak heap in-memory engine {}, streaming engine {}",
            flights.height() * k,
            bytes(std::fs::metadata(&file)?.len() as f64),
            bytes(in_memory_stats.peak as f64),
            bytes(streamed_stats.peak as f64)
        );
        lesson.metric(
            format!("peak bytes in_memory x{k}"),
            in_memory_stats.peak as f64,
        );
        lesson.metric(
            format!("peak bytes streaming x{k}"),
            streamed_stats.peak as f64,
        );
        peaks.push((in_memory_stats.peak, streamed_stats.peak));
        std::fs::remove_file(&file).context("removing the temporary file")?;
    }
    let (in_memory_growth, streaming_growth) = (
        peaks[1].0 as f64 / peaks[0].0 as f64,
        peaks[1].1 as f64 / peaks[0].1 as f64,
    );
    let (in_memory_peak, streamed_peak) = peaks[1];
    println!(
        "doubling the file: in-memory peak × {in_memory_growth:.2}, streaming peak × {streaming_growth:.2}; same results: {same}"
    );
    lesson.claim(
        "the streaming engine stays under a 192 MiB budget that the in-memory engine exceeds",
        peaks.iter().all(|p| p.1 < BUDGET) && in_memory_peak > BUDGET && in_memory_growth > 1.7 && same,
        format!(
            "{copies} copies: streaming peak {}, in-memory peak {}; doubling the file multiplied them by {streaming_growth:.2} and {in_memory_growth:.2} (the streaming peak varies from run to run with the batches in flight, not with the file)",
            bytes(streamed_peak as f64),
            bytes(in_memory_peak as f64)
        ),
        &[("streaming_peak", streamed_peak as f64), ("in_memory_peak", in_memory_peak as f64), ("streaming_growth", streaming_growth)],
    );

    // Part 4: chunks. A polars column is a list of Arrow arrays ("chunks"); a parallel reader, a
    // vstack or a concat leaves several, and every row fetched by position must first find its
    // chunk. polars' CSV reader parses in parallel and left the 3,322-row planes table in 33
    // chunks (the workbook's `frame` now reads into one). A left join gathers each flight's plane
    // by position, so the same join (every flight with its plane, on the tail number) is timed
    // with planes in one chunk and in 33 pieces of about 100 rows, as the reader left them.
    let planes = lessons_frames::frame("nycflights13_planes.csv")?;
    let piece = planes.height().div_ceil(33);
    let mut pieces = planes.slice(0, piece);
    let mut offset = piece;
    while offset < planes.height() {
        pieces.vstack_mut(&planes.slice(offset as i64, piece))?;
        offset += piece;
    }
    let (one_chunk, many_chunks) = measure::best_of_interleaved(
        runs + 4,
        || lessons_frames::flights_with_planes(&flights, &planes),
        || lessons_frames::flights_with_planes(&flights, &pieces),
    );
    let same_join = lessons_frames::flights_with_planes(&flights, &planes)?
        .equals_missing(&lessons_frames::flights_with_planes(&flights, &pieces)?);
    let chunk_cost = one_chunk.speedup_over(&many_chunks);
    println!(
        "\nflights ⋈ planes (left join): planes in {} chunk {}, in {} chunks {} ({chunk_cost:.1}×); same result: {same_join}",
        planes.first_col_n_chunks(),
        measure::duration(one_chunk.best),
        pieces.first_col_n_chunks(),
        measure::duration(many_chunks.best)
    );
    lesson.metric("chunked_join_over_contiguous", chunk_cost);
    // About 3× on an idle machine; the claim asks for 1.5×, which a busy one still shows.
    lesson.claim(
        "a join that gathers from a table in many chunks takes at least half again as long",
        chunk_cost >= 1.5 && same_join && pieces.first_col_n_chunks() > 1,
        format!(
            "best of {}, run alternately: left join onto planes in {} chunks {}, in one chunk {} ({chunk_cost:.1}×), identical results",
            runs + 4,
            pieces.first_col_n_chunks(),
            measure::duration(many_chunks.best),
            measure::duration(one_chunk.best)
        ),
        &[("chunked_join_over_contiguous", chunk_cost)],
    );

    figure!(lesson, "memory", plot::SIZE, |root| {
        let mb = |b: usize| b as f64 / 1048576.0;
        BarChart::new("Peak heap (MiB)", "MiB")
            .bar("dest as strings", mb(dest_s))
            .bar("dest as categorical", mb(dest_c))
            .bar("eager: read all, then filter", mb(eager_mem.peak))
            .bar("lazy: filter and columns in the scan", mb(lazy_mem.peak))
            .bar("group-by, in-memory engine", mb(in_memory_peak))
            .bar("group-by, streaming engine", mb(streamed_peak))
            .bar("budget", mb(BUDGET))
            .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}

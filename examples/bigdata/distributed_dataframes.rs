//! # Distributed DataFrames
//!
//! **Question:** How do partitions, shuffles and map-reduce work?
//!
//! **Answer:** A distributed engine keeps a table as partitions (files, or blocks of one) and runs
//! one task per partition on whichever executor is free. Operations that look at one row at a time
//! — filter, select, a new column — run where the partition is: one stage, nothing moves. An
//! operation that needs all rows with the same key together — group-by, join, distinct, a sort — is
//! cut into two stages: each task first aggregates its own partition (the map side, which also
//! shrinks the data), then writes its partial results split by a hash of the key (the shuffle), and
//! the next stage's task for one hash bucket reads that bucket from every map task (the reduce
//! side). The shuffle is the cost to watch: it crosses the network, and it is where skewed keys
//! make one task slow.
//!
//! **Evidence:** polars writes the 336,776 flights as 6 Parquet files of uneven size (the seed
//! picks the cuts); a Ballista scheduler and two executors run as three processes on 127.0.0.1,
//! each executor with one task slot. Flights and mean arrival delay per carrier come back from the
//! cluster as 16 groups with polars' counts and means to the last bit, and the late departures from
//! JFK as polars' 8,401 rows. The group-by is planned in 3 stages: a partial aggregate of each file
//! partition, written out shuffled by Hash(carrier) into 6 buckets; a final aggregate of each
//! bucket; a merge of the sorted buckets. The filter is one stage with no shuffle (its predicate
//! goes into the Parquet scan). Both executors wrote shuffle files of their own tasks. A quick run
//! takes about 2.2 s, starting the three processes included.
//!
//! **Run:** `cargo run --example distributed_dataframes` (add `-- --quick` for a short run).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ballista::datafusion::arrow::array::AsArray;
use ballista::datafusion::arrow::compute::cast;
use ballista::datafusion::arrow::datatypes::{DataType as ArrowType, Float64Type, Int64Type};
use ballista::datafusion::arrow::record_batch::RecordBatch;
use ballista::datafusion::execution::SessionStateBuilder;
use ballista::datafusion::physical_plan::{ExecutionPlan, Partitioning, displayable};
use ballista::datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use ballista::prelude::SessionContextExt;
use ballista_core::JobId;
use ballista_scheduler::planner::{DefaultDistributedPlanner, DistributedPlanner};
use harness::prelude::*;
use harness::serve::{ChildGuard, loopback_listener, spawn, workspace_binary};
use polars::prelude::*;
use rand::Rng;

/// The two questions both engines answer: flights and mean arrival delay per carrier (a
/// group-by), and the late departures out of JFK (a filter).
const GROUP_BY: &str = "SELECT carrier, COUNT(*) AS flights, AVG(arr_delay) AS mean_arr_delay \
                        FROM flights GROUP BY carrier ORDER BY carrier";
const FILTER: &str = "SELECT year, month, day, carrier, flight, dep_delay FROM flights \
                      WHERE origin = 'JFK' AND dep_delay > 60";

/// A port on 127.0.0.1 that was free a moment ago. The cluster's processes bind their ports
/// themselves and must be told them in advance; another program could take the port in between,
/// which would make the lesson fail to start, never reach another address.
fn free_port() -> Result<u16> {
    Ok(loopback_listener()?.local_addr()?.port())
}

/// Waits until something accepts connections on 127.0.0.1:`port`, or fails after `deadline`.
fn wait_for_port(port: u16, deadline: Duration) -> Result<()> {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > deadline {
            bail!("nothing listened on 127.0.0.1:{port} after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The query stages Ballista's scheduler makes of a query: DataFusion's physical plan, cut at
/// every change of partitioning into stages that end in a shuffle writer.
async fn stages_of(
    local: &SessionContext,
    sql: &str,
) -> Result<Vec<Arc<dyn ballista_core::execution_plans::ShuffleWriter>>> {
    let plan = local.sql(sql).await?.create_physical_plan().await?;
    let config = local.state().config().options().clone();
    Ok(
        DefaultDistributedPlanner::new().plan_query_stages(
            &JobId::from("lesson"),
            plan,
            &config,
        )?,
    )
}

/// Per carrier: (flights, mean arrival delay), from DataFusion's record batches (cast to one
/// string, integer and float type each: polars writes its strings as Arrow's large strings).
fn carriers_from_batches(batches: &[RecordBatch]) -> Result<BTreeMap<String, (u64, f64)>> {
    let mut answer = BTreeMap::new();
    for batch in batches {
        let carriers = cast(batch.column(0), &ArrowType::Utf8)?;
        let carriers = carriers.as_string_opt::<i32>().context("carrier names")?;
        let flights = cast(batch.column(1), &ArrowType::Int64)?;
        let flights = flights.as_primitive_opt::<Int64Type>().context("counts")?;
        let means = cast(batch.column(2), &ArrowType::Float64)?;
        let means = means.as_primitive_opt::<Float64Type>().context("means")?;
        for i in 0..batch.num_rows() {
            answer.insert(
                carriers.value(i).to_string(),
                (flights.value(i) as u64, means.value(i)),
            );
        }
    }
    Ok(answer)
}

/// Per carrier: (flights, mean arrival delay), from polars.
fn carriers_from_polars(flights: &DataFrame) -> Result<BTreeMap<String, (u64, f64)>> {
    let frame = flights
        .clone()
        .lazy()
        .group_by([col("carrier")])
        .agg([
            len().alias("flights"),
            col("arr_delay").mean().alias("mean_arr_delay"),
        ])
        .collect()?;
    let carriers = frame.column("carrier")?.str()?;
    let counts = frame.column("flights")?.cast(&DataType::UInt64)?;
    let counts = counts.u64()?;
    let means = frame.column("mean_arr_delay")?.f64()?;
    (0..frame.height())
        .map(|i| {
            Ok((
                carriers.get(i).context("a carrier")?.to_string(),
                (
                    counts.get(i).context("a count")?,
                    means.get(i).context("a mean")?,
                ),
            ))
        })
        .collect()
}

/// Files under `dir`, at any depth.
fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() { files_under(&path) } else { 1 }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    // Step 1: the table a distributed engine reads is split into partitions: here polars writes
    // the flights as several Parquet files, one partition each, in a folder both engines read.
    // The seed picks where the files are cut, so partitions differ in size as they do in life.
    let partitions: usize = lesson.pick(6, 4);
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?;
    let table = lesson.fresh_dir("flights_parts")?;
    let mut rng = lesson.rng(1);
    let mut cuts: Vec<usize> = (1..partitions)
        .map(|_| rng.gen_range(1..flights.height()))
        .collect();
    cuts.push(0);
    cuts.push(flights.height());
    cuts.sort_unstable();
    cuts.dedup();
    for (part, bounds) in cuts.windows(2).enumerate() {
        let mut slice = flights.slice(bounds[0] as i64, bounds[1] - bounds[0]);
        let file = table.join(format!("part-{part}.parquet"));
        ParquetWriter::new(std::fs::File::create(&file)?).finish(&mut slice)?;
    }
    let sizes: Vec<usize> = cuts.windows(2).map(|b| b[1] - b[0]).collect();
    println!(
        "{} flights written by polars as {} Parquet files of {sizes:?} rows",
        flights.height(),
        sizes.len()
    );

    // Step 2: a cluster on this machine: a scheduler and two executors, each its own process on
    // 127.0.0.1, each executor with one task slot and its own work folder for shuffle files. The
    // guards kill them when the lesson ends, also when a claim fails.
    let node = workspace_binary("lessons-ballista", "ballista-node")?;
    let scheduler_port = free_port()?;
    let mut cluster: Vec<ChildGuard> = vec![spawn(
        std::process::Command::new(&node)
            .args(["scheduler", &scheduler_port.to_string()])
            .stdout(std::process::Stdio::null()),
    )?];
    wait_for_port(scheduler_port, Duration::from_secs(30))?;
    let mut work_dirs: Vec<PathBuf> = Vec::new();
    for e in 0..2 {
        let work = lesson.fresh_dir(&format!("executor-{e}"))?;
        let flight_port = free_port()?;
        cluster.push(spawn(
            std::process::Command::new(&node)
                .args([
                    "executor",
                    &scheduler_port.to_string(),
                    &flight_port.to_string(),
                    &work.display().to_string(),
                ])
                .stdout(std::process::Stdio::null()),
        )?);
        wait_for_port(flight_port, Duration::from_secs(30))?;
        work_dirs.push(work);
    }
    println!("scheduler on 127.0.0.1:{scheduler_port}, 2 executors");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let table_path = format!("{}/", table.display());
    let (distributed, filtered_rows, group_by_stages, filter_stages) = runtime.block_on(async {
        // Step 3: the client sends SQL to the scheduler (`df://`), which plans it, hands
        // tasks to the executors and returns the result batches.
        let remote = SessionContext::remote(&format!("df://127.0.0.1:{scheduler_port}")).await?;
        remote
            .register_parquet("flights", &table_path, ParquetReadOptions::default())
            .await?;
        let distributed = remote.sql(GROUP_BY).await?.collect().await?;
        let filtered: usize = remote
            .sql(FILTER)
            .await?
            .collect()
            .await?
            .iter()
            .map(|b| b.num_rows())
            .sum();
        // Step 4: the same queries planned the way the scheduler plans them, to read the
        // stages: a local DataFusion context with the same partitions gives the physical
        // plan, and Ballista's planner cuts it where the partitioning changes.
        let state = SessionStateBuilder::new()
            .with_config(SessionConfig::new().with_target_partitions(partitions))
            .with_default_features()
            .build();
        let local = SessionContext::new_with_state(state);
        local
            .register_parquet("flights", &table_path, ParquetReadOptions::default())
            .await?;
        let group_by_stages = stages_of(&local, GROUP_BY).await?;
        let filter_stages = stages_of(&local, FILTER).await?;
        anyhow::Ok((distributed, filtered, group_by_stages, filter_stages))
    })?;

    // The distributed answer equals polars' on the same data.
    let from_cluster = carriers_from_batches(&distributed)?;
    let from_polars = carriers_from_polars(&flights)?;
    let largest_gap = from_cluster
        .iter()
        .zip(&from_polars)
        .map(|((_, a), (_, b))| (a.1 - b.1).abs())
        .fold(0.0, f64::max);
    let same_groups = from_cluster.len() == from_polars.len()
        && from_cluster
            .iter()
            .zip(&from_polars)
            .all(|((ka, a), (kb, b))| ka == kb && a.0 == b.0);
    let polars_filtered = flights
        .clone()
        .lazy()
        .filter(
            col("origin")
                .eq(lit("JFK"))
                .and(col("dep_delay").gt(lit(60))),
        )
        .collect()?
        .height();
    println!(
        "per carrier from the cluster: {} groups, means within {largest_gap:.1e} of polars'; late JFK departures: {filtered_rows} (polars: {polars_filtered})",
        from_cluster.len()
    );
    lesson.claim(
        "the cluster gives polars' answer",
        same_groups && largest_gap < 1e-9 && filtered_rows == polars_filtered,
        format!(
            "{} carriers with equal counts, means within {largest_gap:.1e}; {filtered_rows} late departures from JFK on both",
            from_cluster.len()
        ),
        &[("groups", from_cluster.len() as f64), ("largest_gap", largest_gap)],
    );

    // The plans. A group-by needs every row of a carrier in one place: a first stage reads the
    // partitions and aggregates each one (the map side), then shuffles the partial results by a
    // hash of the carrier so that one task of the next stage sees all of a carrier's partials
    // (the reduce side). A filter keeps or drops each row where it is: one stage, no shuffle.
    let describe = |stages: &[Arc<dyn ballista_core::execution_plans::ShuffleWriter>]| {
        stages
            .iter()
            .map(|s| {
                format!(
                    "stage {} ({} input partitions, output {}):\n{}",
                    s.stage_id(),
                    s.input_partition_count(),
                    match s.shuffle_output_partitioning() {
                        Some(p) => format!("shuffled, {p}"),
                        None => "kept as it is".into(),
                    },
                    displayable(s.as_ref() as &dyn ExecutionPlan).indent(false)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let plans = format!(
        "-- {GROUP_BY}\n{} stages\n{}\n\n-- {FILTER}\n{} stage(s)\n{}\n",
        group_by_stages.len(),
        describe(&group_by_stages),
        filter_stages.len(),
        describe(&filter_stages)
    );
    print!("{plans}");
    let plans_file = lesson.out_file("query_stages.txt");
    harness::catalogue::write_atomically(&plans_file, &plans)?;
    lesson.record(ArtefactKind::Data, &plans_file)?;
    let hash_shuffles = |stages: &[Arc<dyn ballista_core::execution_plans::ShuffleWriter>]| {
        stages
            .iter()
            .filter(|s| {
                matches!(
                    s.shuffle_output_partitioning(),
                    Some(Partitioning::Hash(..))
                )
            })
            .count()
    };
    let group_by_shuffles = hash_shuffles(&group_by_stages);
    let filter_shuffles = hash_shuffles(&filter_stages);
    lesson.metric("group_by_stages", group_by_stages.len() as f64);
    lesson.metric("filter_stages", filter_stages.len() as f64);
    lesson.claim(
        "the group-by has a hash shuffle between stages; the filter has none",
        group_by_stages.len() >= 2
            && group_by_shuffles >= 1
            && filter_stages.len() == 1
            && filter_shuffles == 0,
        format!(
            "group-by: {} stages, {group_by_shuffles} hash shuffle(s); filter: {} stage(s), {filter_shuffles}",
            group_by_stages.len(),
            filter_stages.len()
        ),
        &[
            ("group_by_stages", group_by_stages.len() as f64),
            ("filter_stages", filter_stages.len() as f64),
        ],
    );

    // Both executors did part of the work: each wrote shuffle files of its own tasks.
    let written: Vec<usize> = work_dirs.iter().map(|d| files_under(d)).collect();
    println!("files each executor wrote in its work folder: {written:?}");
    lesson.claim(
        "the tasks ran on both executors",
        written.iter().all(|&w| w > 0),
        format!("files written per executor: {written:?}"),
        &[],
    );

    // The cluster stops before the lesson ends; the data and work folders are scratch.
    drop(cluster);
    std::fs::remove_dir_all(&table)?;
    for dir in &work_dirs {
        std::fs::remove_dir_all(dir)?;
    }

    lesson.finish()?;
    Ok(())
}

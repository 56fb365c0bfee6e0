//! # Cloud storage
//!
//! **Question:** How do data platforms store and prune partitioned data?
//!
//! **Answer:** In an object store (S3 and everything that speaks its protocol) a file is an object
//! under a key, and a folder is only a shared key prefix. Platforms write tables as Parquet files
//! under hive-style keys (`flights/month=7/part-0.parquet`), the partition's value in the key
//! rather than in the file. A query engine lists the keys once, keeps only the objects whose key
//! matches a filter on the partition column (partition pruning) and, inside each object, asks only
//! for the byte ranges of the columns it needs (projection pushdown): every GET is a billed request
//! over the network. Clients reach the store through its HTTP API with signed requests, given an
//! endpoint, a region and keys explicitly.
//!
//! **Evidence:** Flights as 36 Parquet objects under 12 `month=` prefixes (6.0 MiB), uploaded with
//! object_store to an S3 server (s3s over a folder) on 127.0.0.1 with a counting layer in front; a
//! PUT signed with a wrong secret is refused (403) and stores nothing. Flights and mean arrival
//! delay per carrier, read by polars from `s3://`, equal the local answer: the whole year fetches
//! 1.21 MiB (20 % of the stored bytes: each object's last 16 KiB, where the footer is, and the
//! ranges of the 2 columns needed) in 73 ranged GETs. One month (July in the default run) fetches
//! 0.11 MiB, 9 % of that; its only reads of another month's object are the 3,141 bytes of the first
//! object's footer, read for the schema. Given the schema, as a table catalogue would give it, the
//! server sees no request naming another month's key.
//!
//! **Run:** `cargo run --example cloud_storage` (add `-- --quick` for a short run).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Context;
use harness::measure::bytes;
use harness::plot::BarChart;
use harness::prelude::*;
use lessons_bigdata::carrier_delays;
use lessons_bigdata::object_server::{ObjectServer, ServedRequest};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use polars::io::HiveOptions;
use polars::io::cloud::CloudOptions;
use polars::prelude::*;
use rand::Rng;

/// The bucket the lesson creates, and the static keys its server accepts. They are a test pair:
/// the server is on loopback and forgets everything when the lesson ends.
const BUCKET: &str = "workbook";
const ACCESS_KEY: &str = "workbook-access";
const SECRET_KEY: &str = "workbook-secret";
/// Every S3 client needs a region to sign requests with; a local server ignores its value.
const REGION: &str = "us-east-1";

/// The query both sides run: flights and mean arrival delay per carrier.
fn per_carrier(table: LazyFrame) -> LazyFrame {
    table
        .group_by([col("carrier")])
        .agg([
            len().alias("flights"),
            col("arr_delay").mean().alias("mean_arr_delay"),
        ])
        .sort(["carrier"], SortMultipleOptions::default())
}

/// How every scan here reads the table: all files under a glob, with the `month=` folder names
/// as a column.
fn hive_table() -> ScanArgsParquet {
    ScanArgsParquet {
        hive_options: HiveOptions::new_enabled(),
        ..ScanArgsParquet::default()
    }
}

/// The month of an object read (`/workbook/flights/month=7/part-0.parquet` → 7), if it is one.
fn month_of(request: &ServedRequest) -> Option<u32> {
    let (_, rest) = request.path().split_once("month=")?;
    rest.split('/').next()?.parse().ok()
}

/// Whether a read asked for the end of its object (a Parquet footer), given each object's size
/// by its path on the server.
fn reads_to_the_end(request: &ServedRequest, sizes: &BTreeMap<String, u64>) -> bool {
    let last = request
        .range()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(_, end)| end.parse::<u64>().ok());
    let size = sizes.get(request.path());
    matches!((last, size), (Some(last), Some(size)) if last + 1 == *size)
}

/// The bytes of the object reads among `requests`, and how many there were.
fn object_reads(requests: &[ServedRequest]) -> (u64, usize) {
    let reads = requests.iter().filter(|r| r.is_object_read());
    (
        reads.clone().map(ServedRequest::body_bytes).sum(),
        reads.count(),
    )
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    // Step 1: the table as a platform stores it: Parquet files under one key prefix per month
    // (`month=7/`), a few files per month. The month is in the key, so the files leave it out.
    let files_per_month: usize = lesson.pick(3, 2);
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?;
    let local = lesson.fresh_dir("flights_by_month")?;
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for mut month in flights.partition_by(["month"], true)? {
        let m = month
            .column("month")?
            .get(0)?
            .extract::<i64>()
            .context("a month")?;
        month = month.drop("month")?;
        let folder = local.join(format!("month={m}"));
        std::fs::create_dir_all(&folder)?;
        let part_rows = month.height().div_ceil(files_per_month);
        for part in 0..files_per_month {
            let mut slice = month.slice((part * part_rows) as i64, part_rows);
            let file = folder.join(format!("part-{part}.parquet"));
            ParquetWriter::new(std::fs::File::create(&file)?).finish(&mut slice)?;
            files.push((format!("flights/month={m}/part-{part}.parquet"), file));
        }
    }
    let object_sizes: BTreeMap<String, u64> = files
        .iter()
        .map(|(key, file)| Ok((format!("/{BUCKET}/{key}"), std::fs::metadata(file)?.len())))
        .collect::<std::io::Result<_>>()?;
    let stored: u64 = object_sizes.values().sum();
    println!(
        "{} rows as {} Parquet files under 12 month= folders: {}",
        flights.height(),
        files.len(),
        bytes(stored as f64)
    );

    // Step 2: an S3 server on this machine: s3s answers the protocol and keeps the objects in a
    // folder (a bucket is a sub-folder), checks every request's signature against one key pair,
    // and logs what it sends back. The guard inside stops it when the lesson ends, also on failure.
    let server_root = lesson.fresh_dir("object_store")?;
    std::fs::create_dir_all(server_root.join(BUCKET))?;
    let server = ObjectServer::start(&server_root, ACCESS_KEY, SECRET_KEY)?;
    let endpoint = server.endpoint();
    println!("S3 server on {endpoint}, bucket {BUCKET}");

    // Step 3: upload with object_store's S3 client. The endpoint, region and keys are given
    // explicitly: a client left to find them itself would ask the cloud's metadata address and
    // the public bucket host. Plain HTTP is allowed because the server is on loopback.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = |secret: &str| {
        AmazonS3Builder::new()
            .with_endpoint(&endpoint)
            .with_region(REGION)
            .with_bucket_name(BUCKET)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(secret)
            .with_allow_http(true)
            .build()
    };
    let store = client(SECRET_KEY)?;
    for (key, file) in &files {
        let payload = PutPayload::from(std::fs::read(file)?);
        runtime.block_on(store.put(&ObjectPath::from(key.as_str()), payload))?;
    }
    let uploads = server.take_log();
    let puts = uploads
        .iter()
        .filter(|r| r.method() == "PUT" && r.status() == 200)
        .count();
    println!("uploaded: {puts} PUT requests answered 200");

    // A "folder" is a key prefix: listing one month's prefix returns that month's objects only.
    let listed =
        runtime.block_on(store.list_with_delimiter(Some(&ObjectPath::from("flights/month=7"))))?;
    let listed_keys: Vec<String> = listed
        .objects
        .iter()
        .map(|o| o.location.to_string())
        .collect();
    println!("objects under flights/month=7/: {listed_keys:?}");
    server.take_log();

    // A request signed with the wrong secret is refused, and stores nothing.
    let intruder = client("not-the-secret")?;
    let refused = runtime.block_on(intruder.put(
        &ObjectPath::from("flights/month=13/part-0.parquet"),
        PutPayload::from_static(b"not parquet"),
    ));
    let refusals = server.take_log();
    let intruder_stored = server_root.join(BUCKET).join("flights/month=13").exists();
    println!(
        "a PUT signed with a wrong secret: {} (statuses {:?})",
        if refused.is_err() {
            "refused"
        } else {
            "accepted"
        },
        refusals
            .iter()
            .map(ServedRequest::status)
            .collect::<Vec<_>>()
    );
    lesson.claim(
        "the store holds every upload, lists a partition by its prefix and refuses a wrong signature",
        puts == files.len()
            && listed_keys.len() == files_per_month
            && listed_keys.iter().all(|k| k.starts_with("flights/month=7/"))
            && refused.is_err()
            && !refusals.is_empty()
            && refusals.iter().all(|r| r.status() == 403)
            && !intruder_stored,
        format!(
            "{puts} of {} objects stored; {} under month=7/; the wrong secret got {:?}",
            files.len(),
            listed_keys.len(),
            refusals.iter().map(ServedRequest::status).collect::<Vec<_>>()
        ),
        &[("objects", files.len() as f64)],
    );

    // Step 4: polars reads the table back from the server with its cloud reader, given the same
    // explicit endpoint, region and keys. First the whole year: polars lists the keys, then asks
    // each object for its footer and the byte ranges of the two columns the query needs.
    let cloud = CloudOptions::default().with_aws([
        (AmazonS3ConfigKey::Endpoint, endpoint.clone()),
        (AmazonS3ConfigKey::Region, REGION.to_string()),
        (AmazonS3ConfigKey::AccessKeyId, ACCESS_KEY.to_string()),
        (AmazonS3ConfigKey::SecretAccessKey, SECRET_KEY.to_string()),
    ]);
    let store_args = ScanArgsParquet {
        cloud_options: Some(cloud),
        ..hive_table()
    };
    let remote_files = format!("s3://{BUCKET}/flights/**/*.parquet");
    let local_files = format!("{}/**/*.parquet", local.display());
    let from_store = per_carrier(LazyFrame::scan_parquet(
        PlPath::new(&remote_files),
        store_args.clone(),
    )?)
    .collect()?;
    let full_scan = server.take_log();
    let from_disk = per_carrier(LazyFrame::scan_parquet(
        PlPath::new(&local_files),
        hive_table(),
    )?)
    .collect()?;
    let (full_bytes, full_gets) = object_reads(&full_scan);
    println!(
        "whole year from s3://: {} requests, {full_gets} object reads, {} fetched of {} stored ({:.1} %)",
        full_scan.len(),
        bytes(full_bytes as f64),
        bytes(stored as f64),
        100.0 * full_bytes as f64 / stored as f64
    );
    let whole_year_equal = carrier_delays::same(
        &carrier_delays::from_frame(&from_store)?,
        &carrier_delays::from_frame(&from_disk)?,
    );
    lesson.metric("full_scan_bytes", full_bytes as f64);
    lesson.metric("full_scan_gets", full_gets as f64);
    lesson.metric("projected_share", full_bytes as f64 / stored as f64);
    lesson.claim(
        "read from the S3 server, the answer equals the local one",
        whole_year_equal && from_store.height() > 10,
        format!("{} carriers, equal counts and means", from_store.height()),
        &[("carriers", from_store.height() as f64)],
    );
    // The query needs 2 of the table's 18 columns; a reader that fetched whole objects would
    // fetch 100 % of the stored bytes. The reader fetches each object's last 16 KiB (the footer,
    // which says where each column is) and then the two columns' ranges: about a fifth here.
    lesson.claim(
        "the reader fetches only the columns the query needs",
        full_bytes < stored / 4,
        format!(
            "{} fetched of {} stored",
            bytes(full_bytes as f64),
            bytes(stored as f64)
        ),
        &[("share", full_bytes as f64 / stored as f64)],
    );

    // Step 5: one month, picked by the seed. The filter is on the partition column, so polars
    // keeps only the keys under that month's prefix and reads no other month's data. It still
    // needs the table's schema before it plans, and without one it reads it from the footer of the
    // first object it listed (two ranged GETs at the end of the file), whatever its month.
    let asked = lesson.rng(1).gen_range(1..=12u32);
    let in_month = || col("month").eq(lit(asked as i64));
    let month_disk = per_carrier(
        LazyFrame::scan_parquet(PlPath::new(&local_files), hive_table())?.filter(in_month()),
    )
    .collect()?;
    let month_store = per_carrier(
        LazyFrame::scan_parquet(PlPath::new(&remote_files), store_args.clone())?.filter(in_month()),
    )
    .collect()?;
    let pruned_scan = server.take_log();
    let (pruned_bytes, pruned_gets) = object_reads(&pruned_scan);
    let other_months: Vec<&ServedRequest> = pruned_scan
        .iter()
        .filter(|r| r.is_object_read() && month_of(r) != Some(asked))
        .collect();
    let footers_only = other_months
        .iter()
        .all(|r| reads_to_the_end(r, &object_sizes));
    let other_bytes: u64 = other_months.iter().map(|r| r.body_bytes()).sum();
    // What the whole-year scan fetched from that same month's objects.
    let same_month_in_full: u64 = full_scan
        .iter()
        .filter(|r| r.is_object_read() && month_of(r) == Some(asked))
        .map(ServedRequest::body_bytes)
        .sum();
    println!(
        "month {asked} from s3://: {pruned_gets} object reads, {} fetched ({:.1} % of the whole year's); {} reads of other months' objects, {} bytes, footers only: {footers_only}",
        bytes(pruned_bytes as f64),
        100.0 * pruned_bytes as f64 / full_bytes as f64,
        other_months.len(),
        other_bytes
    );
    lesson.metric("pruned_scan_bytes", pruned_bytes as f64);
    lesson.metric("pruned_share", pruned_bytes as f64 / full_bytes as f64);
    lesson.claim(
        "a filter on the partition column reads no other month's data",
        footers_only && carrier_delays::same(&carrier_delays::from_frame(&month_store)?, &carrier_delays::from_frame(&month_disk)?),
        format!(
            "month {asked}: {} reads of other months' objects, all at the end of the file ({other_bytes} bytes of footer); same answer as the local files",
            other_months.len()
        ),
        &[("month", asked as f64), ("other_month_bytes", other_bytes as f64)],
    );
    // Each month holds 7–9 % of the flights. Pruned, the query fetches what the whole-year scan
    // fetched from that month's objects and hardly more (the footers it reads twice, to plan and
    // to scan); unpruned it would fetch all twelve months.
    lesson.claim(
        "the pruned query fetches that month's share of the bytes, not the year's",
        pruned_bytes >= same_month_in_full && pruned_bytes < full_bytes / 4,
        format!(
            "{} for month {asked}; the whole-year scan took {} from its objects and {} in all",
            bytes(pruned_bytes as f64),
            bytes(same_month_in_full as f64),
            bytes(full_bytes as f64)
        ),
        &[("share", pruned_bytes as f64 / full_bytes as f64)],
    );

    // Step 6: the schema given, as a table catalogue (Hive's metastore, Glue, Unity) gives it to
    // the engines of a data platform. Now nothing but the month's own objects is asked for.
    let file_schema = flights.drop("month")?.schema().clone();
    let catalogued = ScanArgsParquet {
        schema: Some(file_schema),
        ..store_args.clone()
    };
    let month_catalogued = per_carrier(
        LazyFrame::scan_parquet(PlPath::new(&remote_files), catalogued)?.filter(in_month()),
    )
    .collect()?;
    let catalogued_scan = server.take_log();
    let (catalogued_bytes, catalogued_gets) = object_reads(&catalogued_scan);
    let keys_named: BTreeSet<Option<u32>> = catalogued_scan
        .iter()
        .filter(|r| r.path().contains("month"))
        .map(month_of)
        .collect();
    println!(
        "month {asked} with the schema given: {} requests, {catalogued_gets} object reads, {}, keys of months {keys_named:?}",
        catalogued_scan.len(),
        bytes(catalogued_bytes as f64)
    );
    lesson.claim(
        "with the schema given, no request names another month's key",
        keys_named == BTreeSet::from([Some(asked)])
            && carrier_delays::same(
                &carrier_delays::from_frame(&month_catalogued)?,
                &carrier_delays::from_frame(&month_disk)?,
            ),
        format!("keys of months {keys_named:?} asked for, month {asked} filtered"),
        &[("requests", catalogued_scan.len() as f64)],
    );

    figure!(lesson, "bytes_fetched", plot::SIZE, |root| {
        let mib = |b: u64| b as f64 / 1048576.0;
        BarChart::new(
            "Bytes the S3 server sent, per query (counted at the server)",
            "MiB",
        )
        .bar("stored: every object", mib(stored))
        .bar("whole year, 2 columns", mib(full_bytes))
        .bar(format!("month {asked}"), mib(pruned_bytes))
        .bar(
            format!("month {asked}, schema given"),
            mib(catalogued_bytes),
        )
        .draw(&root)?;
    })?;

    // The server stops before the lesson ends; the copies of the data are scratch.
    server.stop();
    std::fs::remove_dir_all(&server_root)?;
    std::fs::remove_dir_all(&local)?;

    lesson.finish()?;
    Ok(())
}

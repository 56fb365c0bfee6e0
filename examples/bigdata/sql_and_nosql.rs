//! # SQL and NoSQL
//!
//! **Question:** When do you use SQL, a DataFrame or a key-value store?
//!
//! **Answer:** A SQL database keeps data that many programs share and change: a schema,
//! transactions, and indexes that turn a full scan into a search, chosen by a planner you can ask
//! (`EXPLAIN`). A DataFrame is for analysis inside one program: columnar, fast over whole columns,
//! and the same answer as SQL for the same question. A key-value store serves documents by key at
//! low cost; any other access path, such as a secondary index, is a second table the application
//! keeps, and only a transaction around both writes keeps them in step. Whatever the store, user
//! input goes in as bound parameters, never pasted into the query text.
//!
//! **Evidence:** 336,776 flights go into a SQLite file in one transaction in about 0.2 s (1.7
//! million rows a second). Flights and mean arrival delay per carrier and origin come out the same
//! from SQL and from polars: 35 groups, equal counts, equal means. `EXPLAIN QUERY PLAN` says SCAN
//! flights before an index on the tail number and SEARCH flights USING INDEX after it; one plane's
//! flights then take about 0.1 ms instead of 15 ms (150× faster; the index took 0.2 s to build). A
//! carrier typed as `UA' OR '1'='1` matches every flight when pasted into the SQL and none when
//! bound as a parameter. In redb, 3,322 plane documents and a manufacturer index list the same
//! 1,630 Boeing planes as polars' filter; of 300 changes of manufacturer, 103 crashed half-way:
//! written in one transaction each they left no disagreement between documents and index, made to a
//! copy of the store in two transactions each they left 162.
//!
//! **Run:** `cargo run --example sql_and_nosql` (add `-- --quick` for a short run).

use anyhow::{Context, Result};
use harness::plot::BarChart;
use harness::prelude::*;
use polars::prelude::*;
use rand::Rng;
use rand::seq::SliceRandom;
use redb::{
    Database, MultimapTableDefinition, ReadableDatabase, ReadableMultimapTable, ReadableTable,
    TableDefinition,
};
use rusqlite::{Connection, params};

/// The planes as JSON documents, keyed by tail number.
const PLANES: TableDefinition<&str, &str> = TableDefinition::new("planes");
/// The secondary index: manufacturer → the tail numbers of its planes.
const BY_MANUFACTURER: MultimapTableDefinition<&str, &str> =
    MultimapTableDefinition::new("planes_by_manufacturer");

/// `EXPLAIN QUERY PLAN` of `sql`: SQLite's one-line description of each step, joined.
fn query_plan(db: &Connection, sql: &str, tailnum: &str) -> Result<String> {
    let mut explain = db.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let steps: Vec<String> = explain
        .query_map([tailnum], |row| row.get::<_, String>(3))?
        .collect::<Result<_, _>>()?;
    Ok(steps.join("; "))
}

/// Each plane's flight count and mean arrival delay, one query per tail number.
fn per_plane(db: &Connection, sql: &str, tailnums: &[String]) -> Result<Vec<(i64, Option<f64>)>> {
    let mut query = db.prepare_cached(sql)?;
    tailnums
        .iter()
        .map(|t| Ok(query.query_row([t], |row| Ok((row.get(0)?, row.get(1)?)))?))
        .collect()
}

/// Rewrites plane `tailnum`'s document with a new manufacturer, returning the old one.
fn rewrite_manufacturer(
    txn: &redb::WriteTransaction,
    tailnum: &str,
    new_manufacturer: &str,
) -> Result<String> {
    let mut planes = txn.open_table(PLANES)?;
    let text = planes
        .get(tailnum)?
        .with_context(|| format!("no plane {tailnum}"))?
        .value()
        .to_string();
    let mut document: serde_json::Value = serde_json::from_str(&text)?;
    let old = document["manufacturer"]
        .as_str()
        .context("a plane without a manufacturer")?
        .to_string();
    document["manufacturer"] = new_manufacturer.into();
    planes.insert(tailnum, document.to_string().as_str())?;
    Ok(old)
}

/// Moves plane `tailnum`'s entry in the secondary index from one manufacturer to another.
fn move_index_entry(
    txn: &redb::WriteTransaction,
    tailnum: &str,
    old_manufacturer: &str,
    new_manufacturer: &str,
) -> Result<()> {
    let mut index = txn.open_multimap_table(BY_MANUFACTURER)?;
    index.remove(old_manufacturer, tailnum)?;
    index.insert(new_manufacturer, tailnum)?;
    Ok(())
}

/// How many entries disagree between the documents and the secondary index: a document whose
/// manufacturer does not list it, plus an index entry whose document says otherwise or is gone.
fn index_disagreements(db: &Database) -> Result<usize> {
    let read = db.begin_read()?;
    let planes = read.open_table(PLANES)?;
    let index = read.open_multimap_table(BY_MANUFACTURER)?;
    let mut wrong = 0;
    for entry in planes.iter()? {
        let (tailnum, text) = entry?;
        let document: serde_json::Value = serde_json::from_str(text.value())?;
        let manufacturer = document["manufacturer"].as_str().unwrap_or_default();
        let listed = index
            .get(manufacturer)?
            .filter_map(Result::ok)
            .any(|t| t.value() == tailnum.value());
        wrong += usize::from(!listed);
    }
    for entry in index.iter()? {
        let (manufacturer, tailnums) = entry?;
        for tailnum in tailnums {
            let tailnum = tailnum?;
            let agrees = planes.get(tailnum.value())?.is_some_and(|text| {
                serde_json::from_str::<serde_json::Value>(text.value())
                    .is_ok_and(|d| d["manufacturer"] == manufacturer.value())
            });
            wrong += usize::from(!agrees);
        }
    }
    Ok(wrong)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    // The flights as polars reads them, with the columns this lesson stores, in plain types.
    let all = lessons_frames::frame("nycflights13_flights.parquet")?;
    let rows: usize = lesson.pick(all.height(), 100_000);
    let flights = all
        .head(Some(rows))
        .lazy()
        .select([
            col("month").cast(DataType::Int64),
            col("carrier").cast(DataType::String),
            col("origin").cast(DataType::String),
            col("tailnum").cast(DataType::String),
            col("arr_delay").cast(DataType::Float64),
        ])
        .collect()?;

    // Step 1: the same table in SQLite, a database file with a schema. Rows go in through one
    // prepared statement inside one transaction: outside a transaction SQLite would make every
    // insert durable on its own, a disk sync per row.
    let path = lesson.out_file("flights.sqlite");
    if path.exists() {
        std::fs::remove_file(&path)?;
    }
    let mut db = Connection::open(&path)?;
    db.execute_batch(
        "CREATE TABLE flights (month INTEGER NOT NULL, carrier TEXT NOT NULL, origin TEXT NOT NULL,
                               tailnum TEXT, arr_delay REAL)",
    )?;
    let timer = std::time::Instant::now();
    let tx = db.transaction()?;
    {
        let mut insert = tx.prepare("INSERT INTO flights VALUES (?1, ?2, ?3, ?4, ?5)")?;
        let months = flights.column("month")?.i64()?;
        let carriers = flights.column("carrier")?.str()?;
        let origins = flights.column("origin")?.str()?;
        let tailnums = flights.column("tailnum")?.str()?;
        let delays = flights.column("arr_delay")?.f64()?;
        for i in 0..rows {
            insert.execute(params![
                months.get(i),
                carriers.get(i),
                origins.get(i),
                tailnums.get(i),
                delays.get(i)
            ])?;
        }
    }
    tx.commit()?;
    let load_secs = timer.elapsed().as_secs_f64();
    println!(
        "SQLite: {rows} flights inserted in one transaction in {load_secs:.2} s ({:.0} rows/s)",
        rows as f64 / load_secs
    );
    lesson.metric("sqlite_rows_per_second", rows as f64 / load_secs);

    // The same question asked both ways: flights and mean arrival delay per carrier and origin.
    // SQL's AVG and polars' mean both skip missing values (cancelled flights have no delay).
    let sql = "SELECT carrier, origin, COUNT(*), AVG(arr_delay) FROM flights
               GROUP BY carrier, origin ORDER BY carrier, origin";
    let from_sql: Vec<(String, String, i64, Option<f64>)> = db
        .prepare(sql)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let by_polars = flights
        .clone()
        .lazy()
        .group_by([col("carrier"), col("origin")])
        .agg([
            len().cast(DataType::Int64).alias("flights"),
            col("arr_delay").mean().alias("mean_delay"),
        ])
        .sort(["carrier", "origin"], SortMultipleOptions::default())
        .collect()?;
    let polars_rows: Vec<(String, String, i64, Option<f64>)> = {
        let carriers = by_polars.column("carrier")?.str()?;
        let origins = by_polars.column("origin")?.str()?;
        let counts = by_polars.column("flights")?.i64()?;
        let means = by_polars.column("mean_delay")?.f64()?;
        (0..by_polars.height())
            .map(|i| {
                Ok((
                    carriers.get(i).context("a carrier")?.to_string(),
                    origins.get(i).context("an origin")?.to_string(),
                    counts.get(i).context("a count")?,
                    means.get(i),
                ))
            })
            .collect::<Result<_>>()?
    };
    // Counts must be equal; means may differ in the last bits, as the two engines add in
    // different orders.
    let largest_gap = from_sql
        .iter()
        .zip(&polars_rows)
        .map(|(s, p)| match (s.3, p.3) {
            (Some(a), Some(b)) => (a - b).abs(),
            (None, None) => 0.0,
            _ => f64::INFINITY,
        })
        .fold(0.0, f64::max);
    let same_groups = from_sql.len() == polars_rows.len()
        && from_sql
            .iter()
            .zip(&polars_rows)
            .all(|(s, p)| (&s.0, &s.1, s.2) == (&p.0, &p.1, p.2));
    println!(
        "{} carrier × origin groups from SQL and from polars; the largest difference between their mean delays is {largest_gap:.1e} min",
        from_sql.len()
    );
    lesson.claim(
        "SQL and the DataFrame give the same answer",
        same_groups && largest_gap < 1e-9,
        format!(
            "{} groups with identical counts; mean delays within {largest_gap:.1e}",
            from_sql.len()
        ),
        &[
            ("groups", from_sql.len() as f64),
            ("largest_gap", largest_gap),
        ],
    );

    // Step 2: an index turns a scan into a search. One plane's flights, asked for many planes:
    // without an index SQLite reads every row for each question.
    let lookup = "SELECT COUNT(*), AVG(arr_delay) FROM flights WHERE tailnum = ?1";
    let mut planes_asked: Vec<String> = flights
        .column("tailnum")?
        .str()?
        .unique()?
        .into_iter()
        .flatten()
        .map(str::to_string)
        .collect();
    planes_asked.sort();
    planes_asked.shuffle(&mut lesson.rng(1));
    planes_asked.truncate(lesson.pick(50, 20));
    let plan_before = query_plan(&db, lookup, &planes_asked[0])?;
    let answers_before = per_plane(&db, lookup, &planes_asked)?;
    let runs: usize = 3;
    let scan = best_of(runs, || per_plane(&db, lookup, &planes_asked));
    let timer = std::time::Instant::now();
    db.execute_batch("CREATE INDEX flights_by_tailnum ON flights (tailnum)")?;
    let index_secs = timer.elapsed().as_secs_f64();
    let plan_after = query_plan(&db, lookup, &planes_asked[0])?;
    let answers_after = per_plane(&db, lookup, &planes_asked)?;
    let search = best_of(runs, || per_plane(&db, lookup, &planes_asked));
    let per_query = |t: &harness::measure::Timing| t.secs() / planes_asked.len() as f64;
    let speedup = scan.secs() / search.secs();
    println!("plan without an index: {plan_before}");
    println!("plan with an index:    {plan_after} (built in {index_secs:.2} s)");
    println!(
        "one plane's flights: {:.0} µs per query by scanning, {:.1} µs through the index ({speedup:.0}× faster, best of {runs})",
        1e6 * per_query(&scan),
        1e6 * per_query(&search)
    );
    lesson.metric("scan_us_per_query", 1e6 * per_query(&scan));
    lesson.metric("index_us_per_query", 1e6 * per_query(&search));
    lesson.metric("index_speedup", speedup);
    lesson.claim(
        "the index turns the scan into a search, with the same answers",
        plan_before.starts_with("SCAN flights")
            && plan_after.contains("SEARCH flights USING")
            && plan_after.contains("flights_by_tailnum")
            && answers_before == answers_after,
        format!("before: {plan_before}; after: {plan_after}"),
        &[("planes", planes_asked.len() as f64)],
    );
    // A search reads about log₂(rows) index entries and the plane's own rows; a scan reads every
    // row: at 100,000 rows and above that is hundreds of times less work, so 20× is far inside.
    lesson.claim(
        "the indexed lookup is more than 20× faster",
        speedup > 20.0,
        format!(
            "{speedup:.0}× faster per query, best of {runs} runs over {} planes",
            planes_asked.len()
        ),
        &[("speedup", speedup)],
    );

    // Step 3: parameters keep input as data. A carrier typed by a user with a quote in it,
    // pasted into the SQL text, rewrites the query; bound as a parameter, it is only a value that
    // matches no carrier.
    let typed = "UA' OR '1'='1";
    let pasted: i64 = db.query_row(
        &format!("SELECT COUNT(*) FROM flights WHERE carrier = '{typed}'"),
        [],
        |r| r.get(0),
    )?;
    let bound: i64 = db.query_row(
        "SELECT COUNT(*) FROM flights WHERE carrier = ?1",
        [typed],
        |r| r.get(0),
    )?;
    let united: i64 = db.query_row(
        "SELECT COUNT(*) FROM flights WHERE carrier = ?1",
        ["UA"],
        |r| r.get(0),
    )?;
    println!(
        "carrier = {typed:?}: pasted into the SQL it matches {pasted} rows (every flight); bound as a parameter {bound}; the carrier UA itself has {united}"
    );
    lesson.claim(
        "a bound parameter stays data; pasted text becomes SQL",
        bound == 0 && pasted == rows as i64 && united > 0,
        format!("pasted: {pasted} of {rows} rows; bound: {bound}"),
        &[("pasted", pasted as f64), ("bound", bound as f64)],
    );

    // Step 4: documents in a key-value store. Each plane becomes a JSON document under its tail
    // number in redb, an embedded store with ACID transactions, and a second table maps each
    // manufacturer to its planes: a secondary index, which the application keeps itself.
    let planes = lessons_frames::frame("nycflights13_planes.csv")?;
    let store_path = lesson.out_file("planes.redb");
    if store_path.exists() {
        std::fs::remove_file(&store_path)?;
    }
    let store = Database::create(&store_path)?;
    let documents: Vec<(String, String, String)> = {
        let tailnums = planes.column("tailnum")?.str()?;
        let makers = planes.column("manufacturer")?.str()?;
        let models = planes.column("model")?.str()?;
        let seats = planes.column("seats")?.cast(&DataType::Int64)?;
        let seats = seats.i64()?;
        (0..planes.height())
            .map(|i| {
                let tailnum = tailnums.get(i).context("a tail number")?.to_string();
                let maker = makers.get(i).context("a manufacturer")?.to_string();
                let document = serde_json::json!({
                    "tailnum": tailnum,
                    "manufacturer": maker,
                    "model": models.get(i),
                    "seats": seats.get(i),
                });
                Ok((tailnum, maker, document.to_string()))
            })
            .collect::<Result<_>>()?
    };
    let txn = store.begin_write()?;
    {
        let mut table = txn.open_table(PLANES)?;
        let mut index = txn.open_multimap_table(BY_MANUFACTURER)?;
        for (tailnum, maker, document) in &documents {
            table.insert(tailnum.as_str(), document.as_str())?;
            index.insert(maker.as_str(), tailnum.as_str())?;
        }
    }
    txn.commit()?;
    // The index answers "Boeing's planes" without reading the documents; polars answers it by
    // filtering the table.
    let from_index: Vec<String> = {
        let read = store.begin_read()?;
        let index = read.open_multimap_table(BY_MANUFACTURER)?;
        let mut found = index
            .get("BOEING")?
            .map(|t| Ok(t?.value().to_string()))
            .collect::<Result<Vec<_>>>()?;
        found.sort();
        found
    };
    let from_frame: Vec<String> = {
        let boeing = planes
            .clone()
            .lazy()
            .filter(col("manufacturer").eq(lit("BOEING")))
            .select([col("tailnum")])
            .sort(["tailnum"], SortMultipleOptions::default())
            .collect()?;
        boeing
            .column("tailnum")?
            .str()?
            .into_iter()
            .flatten()
            .map(str::to_string)
            .collect()
    };
    println!(
        "redb: {} plane documents; the manufacturer index lists {} Boeing planes, polars' filter {}",
        documents.len(),
        from_index.len(),
        from_frame.len()
    );

    // Then planes change hands: each change rewrites a document and moves its index entry, and a
    // third of them crash half-way, after the document and before the index. Each change is
    // made to the store in one transaction, where a crash aborts both writes, and to a copy of
    // it as two transactions (document, then index), where it leaves the document committed
    // and the index stale.
    let changes: usize = lesson.pick(300, 100);
    let split_path = lesson.out_file("planes_split.redb");
    std::fs::copy(&store_path, &split_path)?;
    let split = Database::open(&split_path)?;
    let mut rng = lesson.rng(2);
    let mut crashed = 0usize;
    let makers = ["BOEING", "AIRBUS", "EMBRAER", "BOMBARDIER INC"];
    for _ in 0..changes {
        let (tailnum, _, _) = &documents[rng.gen_range(0..documents.len())];
        let maker = makers[rng.gen_range(0..makers.len())];
        let crash = rng.gen_bool(1.0 / 3.0);
        // One transaction: a crash between the two writes aborts both.
        let txn = store.begin_write()?;
        let old = rewrite_manufacturer(&txn, tailnum, maker)?;
        if crash {
            txn.abort()?;
        } else {
            move_index_entry(&txn, tailnum, &old, maker)?;
            txn.commit()?;
        }
        // Two transactions, on the copy: the document is committed before the crash.
        let document_txn = split.begin_write()?;
        let old = rewrite_manufacturer(&document_txn, tailnum, maker)?;
        document_txn.commit()?;
        if crash {
            crashed += 1;
            continue;
        }
        let index_txn = split.begin_write()?;
        move_index_entry(&index_txn, tailnum, &old, maker)?;
        index_txn.commit()?;
    }
    let disagreements = index_disagreements(&store)?;
    let split_disagreements = index_disagreements(&split)?;
    println!(
        "{changes} changes of manufacturer, {crashed} crashed half-way: one transaction each → {disagreements} disagreements between documents and index; two transactions each → {split_disagreements}"
    );
    lesson.metric("index_disagreements_one_transaction", disagreements as f64);
    lesson.metric(
        "index_disagreements_two_transactions",
        split_disagreements as f64,
    );
    lesson.claim(
        "the secondary index answers like the DataFrame, and an aborted transaction leaves it in step",
        from_index == from_frame && crashed > 0 && disagreements == 0,
        format!(
            "{} Boeing planes both ways; {crashed} aborted changes, {disagreements} disagreements",
            from_index.len()
        ),
        &[("crashed", crashed as f64), ("disagreements", disagreements as f64)],
    );
    lesson.claim(
        "without one transaction, a crash leaves the index out of step",
        split_disagreements > 0,
        format!("{crashed} crashes between the two transactions left {split_disagreements} disagreements"),
        &[("split_disagreements", split_disagreements as f64)],
    );
    drop(split);
    std::fs::remove_file(&split_path)?;

    // The figure: what one lookup costs, scanning and through the index.
    figure!(lesson, "lookup_cost", plot::SIZE, |root| {
        BarChart::new(
            "SQLite: one plane's flights, microseconds per query",
            "µs per query (best of several runs)",
        )
        .bar("scan (no index)", 1e6 * per_query(&scan))
        .bar("search (index on tailnum)", 1e6 * per_query(&search))
        .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}

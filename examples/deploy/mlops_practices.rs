//! # Experiment tracking and a model registry
//!
//! **Question:** What is experiment tracking and a model registry?
//!
//! **Answer:** Experiment tracking records every training run — parameters, metrics, the code
//! version, a hash of the data and the seed — so that any result can be found, compared and
//! reproduced from its record alone. A model registry lists the versions of each model with a stage
//! (staging, production, archived) and the run that made each; promotion is a transaction that
//! archives the current production version and promotes the new one, and the store itself should
//! refuse two production versions. A store as small as one SQLite file does both; MLflow is the
//! same idea with a server and a UI.
//!
//! **Evidence:** A SQLite file tracks a sweep of six L2 penalties, each run with its parameters,
//! seed, data hash and code version, and five-fold CV accuracy and log loss. SQL picks the run with
//! the lowest log loss (alpha 0.01: 0.016), the same run Rust picks from the results in memory; the
//! registry adds it as version 2, and one transaction archives version 1 and promotes version 2,
//! while promoting it before archiving is refused by a partial unique index. Re-run from its
//! record, the run reproduces both metrics to the last bit; with one bird removed from the data the
//! re-run is refused because the data's hash changed.
//!
//! **Run:** `cargo run --example mlops_practices` (add `-- --quick` for a short run).

use std::process::Command;

use anyhow::{Context, Result};
use harness::prelude::*;
use lessons_deploy::fit_artefact;
use ndarray::{Array1, Array2, Axis};
use rusqlite::{Connection, params};
use serde_json::json;
use toolkit::artefact::{Encoding, training_data_hash};

/// The tracking database: runs with their parameters and provenance, their metrics, and the
/// registry of model versions with a stage each. The partial unique index lets at most one
/// version of a model be in production: the database itself keeps the registry's promise.
const SCHEMA: &str = "
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    experiment TEXT NOT NULL,
    code_version TEXT NOT NULL,
    data_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    params TEXT NOT NULL
);
CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (run_id, name)
);
CREATE TABLE models (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    stage TEXT NOT NULL CHECK (stage IN ('staging', 'production', 'archived')),
    path TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX one_production ON models(name) WHERE stage = 'production';
";

/// Five-fold stratified cross-validation of the penguin pipeline with L2 penalty `alpha`:
/// mean accuracy and mean log loss over the folds.
fn cross_validate(x: &Array2<f64>, y: &Array1<usize>, alpha: f64, seed: u64) -> Result<(f64, f64)> {
    let folds =
        toolkit::split::stratified_k_fold(y.as_slice().context("contiguous labels")?, 5, seed)?;
    let (mut accuracy, mut loss) = (0.0, 0.0);
    for fold in &folds {
        let model = fit_artefact(
            "cv",
            &x.select(Axis(0), &fold.train),
            &y.select(Axis(0), &fold.train),
            alpha,
        )?;
        let (xv, yv) = (x.select(Axis(0), &fold.test), y.select(Axis(0), &fold.test));
        let p = model.probabilities(&xv)?;
        accuracy += toolkit::metrics::accuracy(&yv, &toolkit::argmax_rows(&p)) / folds.len() as f64;
        let truth = yv.as_slice().context("contiguous labels")?;
        loss += toolkit::metrics::log_loss(p.view(), truth)? / folds.len() as f64;
    }
    Ok((accuracy, loss))
}

/// Records one run and its metrics; returns its id.
fn track(
    db: &Connection,
    code: &str,
    data: &str,
    seed: u64,
    alpha: f64,
    metrics: (f64, f64),
) -> Result<i64> {
    db.execute(
        "INSERT INTO runs (experiment, code_version, data_hash, seed, params) VALUES ('penguins', ?1, ?2, ?3, ?4)",
        params![code, data, seed as i64, json!({ "alpha": alpha }).to_string()],
    )?;
    let run = db.last_insert_rowid();
    for (name, value) in [("cv_accuracy", metrics.0), ("cv_log_loss", metrics.1)] {
        db.execute(
            "INSERT INTO metrics VALUES (?1, ?2, ?3)",
            params![run, name, value],
        )?;
    }
    Ok(run)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Step 1: the tracking store, a SQLite file beside the lesson's output. Each run records
    // the code version (the commit, when this is a git checkout), the data's hash and the seed.
    let path = lesson.out_file("tracking.sqlite");
    let _ = std::fs::remove_file(&path);
    let mut db = Connection::open(&path)?;
    db.execute_batch(SCHEMA)?;
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(harness::workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown".to_string(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_string(),
        );
    let code = format!("workbook {} ({commit})", env!("CARGO_PKG_VERSION"));
    let penguins = datasets::penguins()?;
    let (x, y) = (&penguins.features, &penguins.target);
    let data = training_data_hash(x, y);
    let seed = lesson.seed();

    // Step 2: production today: a model trained with the default penalty, registered as
    // version 1 and promoted.
    let registry = lesson.out_file("registry/penguins");
    let save = |version: i64, alpha: f64| -> Result<String> {
        let file = registry.join(format!("{version}/model.wbm"));
        std::fs::create_dir_all(file.parent().context("a folder")?)?;
        let artefact = fit_artefact(&version.to_string(), x, y, alpha)?;
        harness::catalogue::write_atomically(&file, artefact.to_bytes(Encoding::Binary)?)?;
        Ok(file.to_string_lossy().into_owned())
    };
    let first = track(
        &db,
        &code,
        &data,
        seed,
        1.0,
        cross_validate(x, y, 1.0, seed)?,
    )?;
    db.execute(
        "INSERT INTO models VALUES ('penguins', 1, ?1, 'production', ?2)",
        params![first, save(1, 1.0)?],
    )?;

    // Step 3: an experiment — a sweep of the penalty, every run tracked.
    let alphas = [0.001, 0.01, 0.1, 1.0, 10.0, 100.0];
    let mut results = Vec::new();
    for &alpha in &alphas {
        let metrics = cross_validate(x, y, alpha, seed)?;
        let run = track(&db, &code, &data, seed, alpha, metrics)?;
        println!(
            "  run {run}: alpha {alpha:<6} CV accuracy {:.4}, CV log loss {:.4}",
            metrics.0, metrics.1
        );
        results.push((run, alpha, metrics));
    }

    // Step 4: promote the best run. SQL picks it; the registry adds it as version 2 in
    // staging, then one transaction archives production and promotes the new version.
    let (best_run, best_alpha): (i64, f64) = db.query_row(
        "SELECT r.id, json_extract(r.params, '$.alpha') FROM runs r JOIN metrics m ON m.run_id = r.id
         WHERE m.name = 'cv_log_loss' AND r.experiment = 'penguins' AND r.id != ?1
         ORDER BY m.value, r.id LIMIT 1",
        params![first],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    db.execute(
        "INSERT INTO models VALUES ('penguins', 2, ?1, 'staging', ?2)",
        params![best_run, save(2, best_alpha)?],
    )?;
    // Promoting without archiving first breaks the registry's rule; the index refuses it.
    let refused = db.execute(
        "UPDATE models SET stage = 'production' WHERE name = 'penguins' AND version = 2",
        [],
    );
    let transaction = db.transaction()?;
    transaction.execute(
        "UPDATE models SET stage = 'archived' WHERE name = 'penguins' AND stage = 'production'",
        [],
    )?;
    transaction.execute(
        "UPDATE models SET stage = 'production' WHERE name = 'penguins' AND version = 2",
        [],
    )?;
    transaction.commit()?;
    let stages: Vec<(i64, String, i64)> = db
        .prepare(
            "SELECT version, stage, run_id FROM models WHERE name = 'penguins' ORDER BY version",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_, _>>()?;
    // The same choice computed in Rust from the results in memory: the lowest log loss.
    let expected = results
        .iter()
        .min_by(|a, b| a.2.1.total_cmp(&b.2.1).then(a.0.cmp(&b.0)))
        .map(|r| r.0)
        .context("runs")?;
    println!(
        "  best run {best_run} (alpha {best_alpha}); promoting it before archiving was refused: {}",
        refused
            .as_ref()
            .map_or_else(|e| e.to_string(), |_| "no, it was accepted".to_string())
    );
    for (version, stage, run) in &stages {
        println!("  registry: penguins v{version} ({stage}, from run {run})");
    }
    lesson.claim(
        "the best run is promoted and the previous production model archived",
        best_run == expected
            && stages == vec![(1, "archived".to_string(), first), (2, "production".to_string(), best_run)]
            && refused.is_err(),
        format!("run {best_run} (lowest CV log loss of {}) is production; version 1 archived; a second production version was refused by the index", alphas.len()),
        &[("best_alpha", best_alpha)],
    );

    // Step 5: reproduce the promoted run from its record alone: the recorded parameters and
    // seed, on data whose hash must match the recorded one. The metrics must come back equal
    // to the last bit. The same re-run on data with one bird removed is refused.
    let (params_text, recorded_seed, recorded_hash): (String, i64, String) = db.query_row(
        "SELECT params, seed, data_hash FROM runs WHERE id = ?1",
        params![best_run],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let stored: Vec<(String, f64)> = db
        .prepare("SELECT name, value FROM metrics WHERE run_id = ?1 ORDER BY name")?
        .query_map(params![best_run], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let alpha = serde_json::from_str::<serde_json::Value>(&params_text)?["alpha"]
        .as_f64()
        .context("alpha in the run's parameters")?;
    let rerun = |x: &Array2<f64>, y: &Array1<usize>| -> Result<(f64, f64)> {
        let hash = training_data_hash(x, y);
        anyhow::ensure!(
            hash == recorded_hash,
            "the data's hash {}… is not the run's {}…",
            &hash[..12],
            &recorded_hash[..12]
        );
        cross_validate(x, y, alpha, recorded_seed as u64)
    };
    let again = rerun(x, y)?;
    let identical = stored
        == vec![
            ("cv_accuracy".to_string(), again.0),
            ("cv_log_loss".to_string(), again.1),
        ];
    let rows: Vec<usize> = (1..x.nrows()).collect();
    let changed = rerun(&x.select(Axis(0), &rows), &y.select(Axis(0), &rows));
    println!(
        "  re-run of run {best_run}: accuracy {:.6}, log loss {:.6} — identical to the record: {identical}; with one bird removed: {}",
        again.0,
        again.1,
        changed
            .as_ref()
            .map_or_else(|e| format!("refused ({e})"), |_| "accepted!".into())
    );
    lesson.claim(
        "a re-run from its record gives identical metrics",
        identical && changed.is_err(),
        format!("run {best_run} re-run from its parameters, seed and data hash: both metrics equal to the last bit; changed data refused"),
        &[("alpha", alpha)],
    );
    lesson.record(ArtefactKind::Data, &path)?;

    // The figure: the sweep, with the promoted run marked.
    let loss: Vec<(f64, f64)> = results.iter().map(|r| (r.1, r.2.1)).collect();
    let best = results
        .iter()
        .find(|r| r.0 == best_run)
        .map(|r| (r.1, r.2.1))
        .context("the best run")?;
    figure!(lesson, "sweep", plot::SIZE, |root| {
        plot::LineChart::new(
            "Cross-validated log loss by L2 penalty",
            "alpha (L2 penalty)",
            "mean log loss over 5 folds",
        )
        .log_x()
        .series("runs", loss.clone())
        .series(format!("promoted: alpha {best_alpha}"), vec![best, best])
        .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}

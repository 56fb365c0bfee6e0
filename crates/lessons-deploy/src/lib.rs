//! What the deployment lessons share: the penguin model they serve, requests written from its
//! rows, and the prediction service started as a real process.
//!
//! Each lesson's own point (a load test, a hot swap, a drift alarm) stays in the lesson; this
//! crate only trains the model they all serve and starts the `model-server` binary.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use harness::serve::{ChildGuard, HttpAnswer, HttpConnection, spawn, workspace_binary};
use linfa::ParamGuard;
use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2, ArrayView1, Axis};
use serde_json::{Map, Value, json};
use toolkit::artefact::{Feature, FeatureKind, ModelArtefact};
use toolkit::pipeline::{Column, ColumnTransformer, Pipeline};

/// The penguins split for serving: a fitted artefact, and the held-out birds that have every
/// feature (a request must give them all), as a matrix, labels and JSON rows.
pub struct PenguinModel {
    artefact: ModelArtefact,
    train_x: Array2<f64>,
    train_y: Array1<usize>,
    test_x: Array2<f64>,
    test_y: Array1<usize>,
}

impl PenguinModel {
    /// Fits the penguin pipeline (standardised measurements, one-hot island and sex, multinomial
    /// logistic regression with L2 penalty `alpha`) on a stratified three quarters of the birds
    /// chosen by `seed`, labelled `version`.
    pub fn fit(version: &str, seed: u64, alpha: f64) -> Result<PenguinModel> {
        let penguins = datasets::penguins()?;
        let labels = penguins
            .target
            .as_slice()
            .context("contiguous penguin labels")?;
        let fold = toolkit::split::stratified_k_fold(labels, 4, seed)?.swap_remove(0);
        let x_train = penguins.features.select(Axis(0), &fold.train);
        let y_train = penguins.target.select(Axis(0), &fold.train);
        let artefact = fit_artefact(version, &x_train, &y_train, alpha)?;
        let complete: Vec<usize> = fold
            .test
            .iter()
            .copied()
            .filter(|&i| penguins.features.row(i).iter().all(|v| v.is_finite()))
            .collect();
        let test_x = penguins.features.select(Axis(0), &complete);
        let test_y = penguins.target.select(Axis(0), &complete);
        let accuracy = toolkit::metrics::accuracy(&test_y, &artefact.predict(&test_x)?);
        let artefact = artefact.with_score("test_accuracy", accuracy)?;
        Ok(PenguinModel {
            artefact,
            train_x: x_train,
            train_y: y_train,
            test_x,
            test_y,
        })
    }

    pub fn artefact(&self) -> &ModelArtefact {
        &self.artefact
    }

    /// The rows the model was trained on (NaN where a value is missing): the reference a drift
    /// monitor compares production inputs with.
    pub fn train_x(&self) -> &Array2<f64> {
        &self.train_x
    }

    pub fn train_y(&self) -> &Array1<usize> {
        &self.train_y
    }

    /// The held-out birds with every feature, in schema order (categories as codes).
    pub fn test_x(&self) -> &Array2<f64> {
        &self.test_x
    }

    pub fn test_y(&self) -> &Array1<usize> {
        &self.test_y
    }

    /// Writes the artefact (binary encoding) to `path`, atomically, creating its folder.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let bytes = self
            .artefact
            .to_bytes(toolkit::artefact::Encoding::Binary)?;
        harness::catalogue::write_atomically(path, bytes)?;
        Ok(())
    }
}

/// Fits the penguin pipeline (standardised measurements, one-hot island and sex, multinomial
/// logistic regression with L2 penalty `alpha`) on the given rows (penguin columns: four
/// measurements, then island and sex codes) and wraps it as an artefact labelled `version`.
pub fn fit_artefact(
    version: &str,
    x_train: &Array2<f64>,
    y_train: &Array1<usize>,
    alpha: f64,
) -> Result<ModelArtefact> {
    let penguins = datasets::penguins()?;
    let mut columns: Vec<Column> = penguins
        .numeric
        .iter()
        .map(|c| Column::numeric(c))
        .collect();
    let mut features: Vec<Feature> = penguins
        .numeric
        .iter()
        .map(|c| Feature::numeric(c))
        .collect();
    for (name, levels) in penguins.categorical.iter().zip(&penguins.levels) {
        columns.push(Column::categorical(name));
        features.push(Feature::categorical(name, levels));
    }
    let pipeline = Pipeline::new(
        ColumnTransformer { columns },
        MultiLogisticRegression::default().alpha(alpha).check()?,
    );
    let model = pipeline.fit(&Dataset::new(x_train.clone(), y_train.clone()))?;
    Ok(ModelArtefact::new(
        version,
        model,
        features,
        penguins.classes.clone(),
        x_train,
        y_train,
    )?
    .trained_with("linfa-logistic", "0.8.1"))
}

/// One row as a request gives it: each feature by name, categories by level name.
pub fn row_json(features: &[Feature], row: ArrayView1<f64>) -> Value {
    let fields: Map<String, Value> = features
        .iter()
        .zip(row.iter())
        .map(|(feature, &value)| {
            let value = match feature.kind() {
                FeatureKind::Numeric => json!(value),
                FeatureKind::Categorical { levels } => json!(levels[value as usize]),
            };
            (feature.name().to_string(), value)
        })
        .collect();
    Value::Object(fields)
}

/// A request body for the given rows.
pub fn request_body(features: &[Feature], rows: &Array2<f64>) -> Vec<u8> {
    let rows: Vec<Value> = rows
        .rows()
        .into_iter()
        .map(|r| row_json(features, r))
        .collect();
    json!({ "rows": rows }).to_string().into_bytes()
}

/// One request body per row of `rows`, each asking for that row alone (what a load test sends).
pub fn single_row_bodies(features: &[Feature], rows: &Array2<f64>) -> Vec<Vec<u8>> {
    rows.rows()
        .into_iter()
        .map(|row| {
            json!({ "rows": [row_json(features, row)] })
                .to_string()
                .into_bytes()
        })
        .collect()
}

/// The value of one sample in Prometheus' text format: the line that starts with `series`
/// (a metric name with its labels, as the service writes them) followed by a space.
pub fn scrape(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

/// The `model-server` binary running as a child process on a loopback port, stopped when this
/// is dropped (and by the lesson's `finish` if it is still running).
pub struct ModelServer {
    process: ChildGuard,
    url: String,
}

impl ModelServer {
    /// Builds the binary if needed, starts it with `args` and `--addr 127.0.0.1:0`, and waits
    /// for the line that says where it listens.
    pub fn start(args: &[&str]) -> Result<ModelServer> {
        ModelServer::start_with(Command::new(ModelServer::binary()?).args(args))
    }

    /// The binary's path, built once per process (a lesson may start several servers).
    pub fn binary() -> Result<PathBuf> {
        static BINARY: OnceLock<PathBuf> = OnceLock::new();
        if let Some(path) = BINARY.get() {
            return Ok(path.clone());
        }
        let path = workspace_binary("model-server", "model-server")?;
        Ok(BINARY.get_or_init(|| path).clone())
    }

    /// Starts `command` — the binary itself, or a command that runs it (`chroot ROOT
    /// /model-server …`) — with `--addr 127.0.0.1:0` added, and waits for its address.
    pub fn start_with(command: &mut Command) -> Result<ModelServer> {
        command
            .args(["--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut process = spawn(command)?;
        let stdout = process
            .child_mut()
            .stdout
            .take()
            .context("the server's standard output")?;
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first)?;
        let Some(url) = first.trim().strip_prefix("listening on ") else {
            let mut stderr = String::new();
            if let Some(mut pipe) = process.child_mut().stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            bail!("model-server did not start: {}", stderr.trim());
        };
        harness::serve::check_loopback_url(url)?;
        Ok(ModelServer {
            url: url.to_string(),
            process,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the process is still running (it has not crashed).
    pub fn running(&mut self) -> bool {
        matches!(self.process.child_mut().try_wait(), Ok(None))
    }
}

/// What a load test saw: every request's latency (sorted), how many failed, how long it took.
pub struct LoadReport {
    latencies: Vec<Duration>,
    failed: usize,
    elapsed: Duration,
}

impl LoadReport {
    /// Requests that got an answer (right or wrong).
    pub fn answered(&self) -> usize {
        self.latencies.len()
    }

    /// Requests that failed: no answer, or an answer the check refused.
    pub fn failed(&self) -> usize {
        self.failed
    }

    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Answers per second over the whole test.
    pub fn throughput(&self) -> f64 {
        self.answered() as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency below which a share `q` of the requests fall (nearest rank).
    pub fn quantile(&self, q: f64) -> Duration {
        let last = self.latencies.len().saturating_sub(1);
        self.latencies
            .get((last as f64 * q).round() as usize)
            .copied()
            .unwrap_or_default()
    }

    /// Every latency, shortest first.
    pub fn latencies(&self) -> &[Duration] {
        &self.latencies
    }
}

/// Sends `requests` POSTs to `path` over `connections` kept-alive connections, as fast as answers
/// come back, stopping early at `time_limit`. Request `i` carries `body(i)`; `check(i, sent,
/// answer)` says whether its answer is right. `issued` counts the requests sent so far, for a
/// caller that acts while the load runs.
#[allow(clippy::too_many_arguments)]
pub fn load_test<'a>(
    url: &str,
    path: &str,
    connections: usize,
    requests: usize,
    time_limit: Duration,
    issued: &AtomicUsize,
    body: impl Fn(usize) -> &'a [u8] + Sync,
    check: impl Fn(usize, Instant, &HttpAnswer) -> bool + Sync,
) -> LoadReport {
    let latencies = Mutex::new(Vec::with_capacity(requests));
    let failures = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..connections {
            scope.spawn(|| {
                let mut mine = Vec::new();
                let Ok(mut connection) = HttpConnection::open(url) else {
                    failures.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                loop {
                    let i = issued.fetch_add(1, Ordering::Relaxed);
                    if i >= requests || started.elapsed() > time_limit {
                        break;
                    }
                    let sent = Instant::now();
                    let answer = connection.request("POST", path, body(i));
                    mine.push(sent.elapsed());
                    if !answer.is_ok_and(|a| check(i, sent, &a)) {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(mine);
            });
        }
    });
    let elapsed = started.elapsed();
    let mut latencies = latencies.into_inner().unwrap_or_else(|p| p.into_inner());
    latencies.sort_unstable();
    LoadReport {
        latencies,
        failed: failures.load(Ordering::Relaxed),
        elapsed,
    }
}

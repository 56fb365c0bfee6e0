//! The workbook's prediction service: a model artefact served over HTTP.
//!
//! | route | answer |
//! | --- | --- |
//! | `POST /predict` | `{"rows": [{feature: value, …}]}` → each row's class and class probabilities, and the model version that answered |
//! | `GET /health` | `{"status": "ok", "model_version": …}` |
//! | `GET /model` | the model's metadata: features (with levels), classes, versions, data hash, scores |
//! | `GET /metrics` | Prometheus text: requests by route and status, latency histogram, rows per version, batch sizes |
//! | `POST /admin/reload` | loads the newest version (empty body) or `{"version": "N"}` (a rollback) |
//!
//! Bad input is a 4xx with a JSON body `{"error": …, "field": …}`: malformed JSON 400, a body over
//! the byte limit or too many rows 413, a missing, extra, mistyped or unknown-level feature 422.
//! A reload that fails (a damaged file, an unknown version) answers 404 or 409 and the previous
//! model keeps serving. The binary (`src/main.rs`) is a command line around [`Service`].

mod batch;
pub mod metrics;
pub mod request;
pub mod store;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::batch::Batcher;
use crate::metrics::Metrics;
use crate::request::{RequestError, parse_rows};
pub use crate::store::{LoadError, ModelSource, ModelStore, ServedModel};

/// How the service runs: where its model comes from, its input limits, and batching.
#[derive(Debug, Clone)]
pub struct Config {
    source: ModelSource,
    max_body_bytes: usize,
    max_rows: usize,
    batching: Option<(usize, Duration)>,
}

impl Config {
    /// Serves `source` with the default limits (64 KiB bodies, 256 rows) and no batching.
    pub fn new(source: ModelSource) -> Config {
        Config {
            source,
            max_body_bytes: 64 * 1024,
            max_rows: 256,
            batching: None,
        }
    }

    /// The largest request body accepted, in bytes; a larger one gets 413.
    pub fn max_body_bytes(mut self, bytes: usize) -> Config {
        self.max_body_bytes = bytes;
        self
    }

    /// The most rows one request may carry; more get 413.
    pub fn max_rows(mut self, rows: usize) -> Config {
        self.max_rows = rows.max(1);
        self
    }

    /// Answers requests in batches of up to `max_rows` rows gathered for at most `max_wait`.
    pub fn dynamic_batching(mut self, max_rows: usize, max_wait: Duration) -> Config {
        self.batching = Some((max_rows, max_wait));
        self
    }
}

struct AppState {
    store: ModelStore,
    metrics: Arc<Metrics>,
    max_rows: usize,
    max_body_bytes: usize,
    batcher: Option<Batcher>,
}

/// A loaded service, ready to be routed.
pub struct Service {
    config: Config,
    store: ModelStore,
}

impl Service {
    /// Loads the model; a missing, damaged or inconsistent model is an error here, before any
    /// request.
    pub fn open(config: Config) -> Result<Service, LoadError> {
        let store = ModelStore::open(config.source.clone())?;
        Ok(Service { config, store })
    }

    /// The version that will answer first.
    pub fn version(&self) -> String {
        self.store.current().version().to_string()
    }

    /// The service's routes. Call inside a tokio runtime (batching starts a task on it).
    pub fn into_router(self) -> Router {
        let metrics = Arc::new(Metrics::default());
        let batcher = self
            .config
            .batching
            .map(|(rows, wait)| Batcher::start(rows, wait, Arc::clone(&metrics)));
        let state = Arc::new(AppState {
            store: self.store,
            metrics,
            max_rows: self.config.max_rows,
            max_body_bytes: self.config.max_body_bytes,
            batcher,
        });
        Router::new()
            .route("/predict", post(predict))
            .route("/health", get(health))
            .route("/model", get(model_info))
            .route("/metrics", get(metrics_text))
            .route("/admin/reload", post(reload))
            .fallback(not_found)
            .layer(DefaultBodyLimit::max(self.config.max_body_bytes))
            .layer(middleware::from_fn_with_state(Arc::clone(&state), count))
            .with_state(state)
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

type Shared = State<Arc<AppState>>;

/// A 4xx or 5xx answer with a JSON body naming the problem.
fn refuse(status: StatusCode, message: String, field: Option<&str>) -> Response {
    let mut body = Map::new();
    body.insert("error".into(), Value::String(message));
    if let Some(field) = field {
        body.insert("field".into(), Value::String(field.to_string()));
    }
    (status, axum::Json(Value::Object(body))).into_response()
}

/// A body that could not be read: over the limit (413), or cut off by the client.
fn refuse_body(app: &AppState, rejection: &BytesRejection) -> Response {
    let message = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        format!("the body is over the limit of {} bytes", app.max_body_bytes)
    } else {
        rejection.body_text()
    };
    refuse(rejection.status(), message, None)
}

async fn predict(State(app): Shared, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return refuse_body(&app, &rejection),
    };
    // The model is taken once: a swap during this request does not change who answers it.
    let model = app.store.current();
    let metadata = model.artefact().metadata();
    let rows = match parse_rows(metadata.features(), &body, app.max_rows) {
        Ok(rows) => rows,
        Err(e) => {
            let status = match e {
                RequestError::Malformed(_) => StatusCode::BAD_REQUEST,
                RequestError::TooManyRows { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                RequestError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            };
            return refuse(status, e.to_string(), e.field());
        }
    };
    let n = rows.nrows();
    let probabilities = match &app.batcher {
        Some(batcher) => batcher.probabilities(Arc::clone(&model), rows).await,
        None => model.artefact().probabilities(&rows),
    };
    let probabilities = match probabilities {
        Ok(p) => p,
        // Finite inputs can still overflow the model's arithmetic (a mass of 1e300 grams): the
        // input is at fault, so it is a 422, not a server error.
        Err(toolkit::Error::NotFinite(_)) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the model cannot score these rows: a value is too large to compute with".into(),
                Some("rows"),
            );
        }
        Err(e) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the model failed: {e}"),
                None,
            );
        }
    };
    app.metrics.record_prediction(model.version(), n);
    let classes = metadata.classes();
    let best = toolkit::argmax_rows(&probabilities);
    let predictions: Vec<Value> = probabilities
        .rows()
        .into_iter()
        .zip(best)
        .map(|(row, best)| {
            let by_class: Map<String, Value> = classes
                .iter()
                .zip(row.iter())
                .map(|(class, &p)| (class.clone(), json!(p)))
                .collect();
            json!({ "class": classes[best], "probabilities": by_class })
        })
        .collect();
    axum::Json(json!({ "model_version": model.version(), "predictions": predictions }))
        .into_response()
}

async fn health(State(app): Shared) -> Response {
    axum::Json(json!({ "status": "ok", "model_version": app.store.current().version() }))
        .into_response()
}

async fn model_info(State(app): Shared) -> Response {
    let model = app.store.current();
    let metadata = model.artefact().metadata();
    let features: Vec<Value> = metadata
        .features()
        .iter()
        .map(|f| match f.kind() {
            toolkit::artefact::FeatureKind::Numeric => {
                json!({ "name": f.name(), "kind": "number" })
            }
            toolkit::artefact::FeatureKind::Categorical { levels } => {
                json!({ "name": f.name(), "kind": "category", "levels": levels })
            }
        })
        .collect();
    axum::Json(json!({
        "version": metadata.version(),
        "features": features,
        "classes": metadata.classes(),
        "training_data": metadata.training_data(),
        "trained_with": metadata.trained_with(),
        "scores": metadata.scores(),
    }))
    .into_response()
}

async fn metrics_text(State(app): Shared) -> Response {
    let text = app.metrics.render(app.store.current().version());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn reload(State(app): Shared, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return refuse_body(&app, &rejection),
    };
    let version = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Err(e) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    format!("malformed JSON: {e}"),
                    None,
                );
            }
            Ok(value) => match value.as_object().map(|f| (f.get("version"), f.len())) {
                Some((Some(Value::String(v)), 1)) => Some(v.clone()),
                Some((Some(Value::Number(v)), 1)) => Some(v.to_string()),
                _ => {
                    return refuse(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "expected {\"version\": \"N\"} or an empty body".into(),
                        Some("version"),
                    );
                }
            },
        }
    };
    let state = Arc::clone(&app);
    let outcome = tokio::task::spawn_blocking(move || match version {
        Some(version) => state.store.load_version(&version),
        None => state.store.reload_newest(),
    })
    .await;
    match outcome {
        Ok(Ok(previous)) => axum::Json(json!({
            "model_version": app.store.current().version(),
            "previous_version": previous.version(),
        }))
        .into_response(),
        Ok(Err(e)) => {
            app.metrics.record_refused_reload();
            let status = match e {
                LoadError::UnknownVersion { .. } => StatusCode::NOT_FOUND,
                _ => StatusCode::CONFLICT,
            };
            let serving = app.store.current().version().to_string();
            refuse(
                status,
                format!("{e}; still serving version {serving}"),
                None,
            )
        }
        Err(e) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the reload task failed: {e}"),
            None,
        ),
    }
}

async fn not_found(request: Request) -> Response {
    refuse(
        StatusCode::NOT_FOUND,
        format!(
            "no route {} {} (see /predict, /health, /model, /metrics, /admin/reload)",
            request.method(),
            request.uri().path()
        ),
        None,
    )
}

/// Counts every answer by route and status, and times it.
async fn count(State(app): Shared, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = match request.uri().path() {
        "/predict" => "/predict",
        "/health" => "/health",
        "/model" => "/model",
        "/metrics" => "/metrics",
        "/admin/reload" => "/admin/reload",
        _ => "other",
    };
    let response = next.run(request).await;
    app.metrics
        .record_request(route, response.status().as_u16(), started.elapsed());
    response
}

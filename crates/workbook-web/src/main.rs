//! `workbook-web` (started by `workbook serve`): the workbook's pages served on 127.0.0.1, with a
//! Run button on every ready topic that runs its lesson on this machine and streams the output.
//!
//! Routes: `GET /` (index), `GET /topic/{id}`, `GET /present/{id}`, `GET /crates`,
//! `GET /artefact/{lesson}/{file}` (only files the lesson's latest report lists) and
//! `POST /api/run/{lesson}?mode=quick|full`, which answers with server-sent events: one `data:`
//! line per line the lesson prints, then `event: done` with its exit status. One run at a time; a
//! second gets 409. Unknown topics and files get 404, a planned lesson or a bad mode 400, a body
//! over 1 KiB 413. Pages are read fresh for every request, so a run's new report shows at once.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context as TaskContext, Poll};

use anyhow::Context;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use catalogue::Status;
use clap::Parser;
use pages::{Site, Workbook};
use serde_json::json;

#[derive(Parser)]
#[command(about = "The workbook as a local web app on 127.0.0.1")]
struct Args {
    /// The port on 127.0.0.1 (0 lets the system pick a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

/// What the server shares between requests: the lesson that is running, if one is, with its
/// process group. (Lessons run as `workbook run` runs them: `WORKBOOK_LESSON_DIR` names built
/// binaries to use instead of `cargo run`.)
struct App {
    running: Mutex<Option<Running>>,
}

struct Running {
    lesson: String,
    process_group: u32,
}

impl App {
    fn running(&self) -> MutexGuard<'_, Option<Running>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind((IpAddr::from([127, 0, 0, 1]), args.port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    listener.set_nonblocking(true)?;
    let address: SocketAddr = listener.local_addr()?;
    // Checked now, so that a broken catalogue is one clear line at start, not a 500 per page.
    Workbook::load()?;
    let app = Arc::new(App {
        running: Mutex::new(None),
    });
    let router = Router::new()
        .route("/", get(index))
        .route("/topic/{id}", get(topic))
        .route("/present/{id}", get(present))
        .route("/crates", get(crates))
        .route("/artefact/{lesson}/{file}", get(artefact))
        .route("/api/run/{lesson}", post(run))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(1024))
        .with_state(app.clone());
    println!("the workbook is at http://{address}/ — Ctrl-C stops it");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    });
    // A lesson still running when the server stops goes with it.
    if let Some(running) = app.running().take() {
        kill_group(running.process_group);
    }
    served.context("the server stopped with an error")
}

/// A page, or the error page for a topic that does not exist (404) or a catalogue that cannot be
/// read (500).
fn page_response(page: Result<String, pages::PageError>) -> Response {
    match page {
        Ok(html) => Html(html).into_response(),
        Err(e @ pages::PageError::UnknownTopic(_)) => not_found_page(&e.to_string()),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// 404 with a short page that says what was not found and links back to the index.
fn not_found_page(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(format!(
            "<!doctype html><title>Not found</title><p>{}. <a href=\"/\">All topics</a></p>",
            pages::escape(what)
        )),
    )
        .into_response()
}

async fn index() -> Response {
    page_response(Workbook::load().map(|w| w.index(Site::Live)))
}

async fn topic(Path(id): Path<String>) -> Response {
    page_response(Workbook::load().and_then(|w| w.topic(&id, Site::Live)))
}

async fn present(Path(id): Path<String>) -> Response {
    page_response(Workbook::load().and_then(|w| w.present(&id, Site::Live)))
}

async fn crates() -> Response {
    page_response(Workbook::load().map(|w| w.crates(Site::Live)))
}

async fn not_found() -> Response {
    not_found_page("Nothing at this address")
}

/// A file the lesson's latest report lists, by its plain name; anything else is 404.
async fn artefact(Path((lesson, file)): Path<(String, String)>) -> Response {
    let path = Workbook::load()
        .ok()
        .and_then(|w| w.artefact_path(&lesson, &file));
    let Some(bytes) = path.and_then(|p| std::fs::read(p).ok()) else {
        return (StatusCode::NOT_FOUND, "no such artefact").into_response();
    };
    let kind = match file.rsplit('.').next().unwrap_or_default() {
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "html" => "text/html; charset=utf-8",
        "json" | "ipynb" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    };
    ([(header::CONTENT_TYPE, kind)], bytes).into_response()
}

/// A JSON error `{"error": message}` with its status.
fn refuse(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// Whether `lesson` names a topic's own lesson that is written: 404 if there is no such lesson,
/// 400 if it is planned.
fn runnable(catalogue: &catalogue::Catalogue, lesson: &str) -> Result<(), (StatusCode, String)> {
    let Some(entry) = catalogue
        .entries
        .iter()
        .find(|e| e.lesson == lesson && e.id == lesson)
    else {
        return Err((StatusCode::NOT_FOUND, format!("no lesson named {lesson:?}")));
    };
    if entry.status != Status::Ready {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("{lesson} is planned, not written yet"),
        ));
    }
    Ok(())
}

/// Runs a ready lesson and streams what it prints as server-sent events.
async fn run(
    State(app): State<Arc<App>>,
    Path(lesson): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    _body: Bytes,
) -> Response {
    let workbook = match Workbook::load() {
        Ok(workbook) => workbook,
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    if let Err((status, message)) = runnable(workbook.catalogue(), &lesson) {
        return refuse(status, message);
    }
    let quick = match query.as_slice() {
        [] => true,
        [(name, mode)] if name == "mode" && mode == "quick" => true,
        [(name, mode)] if name == "mode" && mode == "full" => false,
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "the only parameter is mode=quick or mode=full".into(),
            );
        }
    };
    let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(256);
    {
        let mut running = app.running();
        if let Some(other) = running.as_ref() {
            return refuse(
                StatusCode::CONFLICT,
                format!("busy: {} is running; one lesson at a time", other.lesson),
            );
        }
        let started = lesson_command(&lesson, quick)
            .map_err(|e| e.to_string())
            .and_then(|mut c| c.spawn().map_err(|e| e.to_string()));
        let child = match started {
            Ok(child) => child,
            Err(e) => {
                return refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("could not start {lesson}: {e}"),
                );
            }
        };
        *running = Some(Running {
            lesson: lesson.clone(),
            process_group: child.id(),
        });
        let app = app.clone();
        std::thread::spawn(move || stream_child(child, &sender, &app));
    }
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(Events(receiver)),
    )
        .into_response()
}

/// The lesson as a child process leading its own process group (so that `cargo run` and the
/// lesson it starts are stopped together), writing its report to its default folder.
fn lesson_command(lesson: &str, quick: bool) -> Result<Command, catalogue::Error> {
    let mut command = catalogue::lesson_command(lesson)?;
    if quick {
        command.arg("--quick");
    }
    command
        .arg("--out")
        .arg(catalogue::default_out_dir(lesson))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    Ok(command)
}

/// Passes each line the child prints (standard output and error) on as an event, then its exit
/// status, and frees the run slot. A reader who left does not stop the lesson: its output is
/// still read to the end, so that the child never blocks on a full pipe.
fn stream_child(
    mut child: std::process::Child,
    sender: &tokio::sync::mpsc::Sender<Bytes>,
    app: &App,
) {
    let forward = |stream: Option<Box<dyn Read + Send>>| {
        let sender = sender.clone();
        std::thread::spawn(move || {
            if let Some(stream) = stream {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = sender.blocking_send(Bytes::from(format!("data: {line}\n\n")));
                }
            }
        })
    };
    let out = forward(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = forward(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let _ = out.join();
    let _ = err.join();
    let status = child.wait();
    app.running().take();
    let done = match status {
        Ok(status) => json!({ "ok": status.success(), "status": status.to_string() }),
        Err(e) => json!({ "ok": false, "status": e.to_string() }),
    };
    let _ = sender.blocking_send(Bytes::from(format!("event: done\ndata: {done}\n\n")));
}

/// The events of a run as a response body.
struct Events(tokio::sync::mpsc::Receiver<Bytes>);

impl futures_core::Stream for Events {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|event| event.map(Ok))
    }
}

fn kill_group(process_group: u32) {
    // SAFETY: kill with a negative id signals the process group the server created for a lesson
    // it started; the id came from that child.
    unsafe {
        libc::kill(-(process_group as libc::pid_t), libc::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planned_lesson_is_a_bad_request_and_an_unknown_one_not_found() {
        // Every topic of the workbook's own catalogue is written, so the case is checked on a
        // catalogue of one planned topic.
        let catalogue = catalogue::Catalogue::parse(concat!(
            "[[section]]\nid = \"s\"\nnumber = 1\ntitle = \"S\"\npython = \"p\"\npackage = \"lessons-s\"\n",
            "[[topic]]\nid = \"later\"\nsection = \"s\"\nnumber = 1\ntitle = \"t\"\nquestion = \"q\"\n",
            "answer = \"a\"\nlesson = \"later\"\ndifficulty = \"basic\"\nhint = \"h\"\nstatus = \"planned\"\n",
        ))
        .unwrap();
        assert_eq!(
            runnable(&catalogue, "later").unwrap_err().0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            runnable(&catalogue, "sooner").unwrap_err().0,
            StatusCode::NOT_FOUND
        );
    }
}

//! `model-server`: serves a workbook model artefact over HTTP until Ctrl-C or SIGTERM.
//!
//! ```text
//! model-server --model target/workbook/model_persistence/penguins_model.cbor.wbm
//! model-server --model-dir models/ --addr 127.0.0.1:8080 --batch-rows 64 --batch-wait-ms 2
//! ```
//!
//! The first line on standard output is `listening on http://ADDRESS` (with the port the system
//! chose when `--addr` ends in `:0`), so a program that starts the service knows where it is.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{ArgGroup, Parser};
use model_server::{Config, ModelSource, Service};

#[derive(Parser)]
#[command(
    name = "model-server",
    version,
    about = "Serve a workbook model artefact over HTTP: POST /predict, GET /health, GET /model, GET /metrics, POST /admin/reload"
)]
#[command(group(ArgGroup::new("source").required(true).args(["model", "model_dir", "check_health"])))]
struct Args {
    /// One artefact file (re-read by POST /admin/reload).
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// A directory of versions, N/model.wbm; the newest is served, any can be pinned.
    #[arg(long, value_name = "DIR")]
    model_dir: Option<PathBuf>,
    /// Instead of serving: ask the service at this address for /health and exit 0 if it answers
    /// 200 (a container's health check, with no curl in the image).
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["model", "model_dir"])]
    check_health: Option<SocketAddr>,
    /// The address to listen on; port 0 lets the system choose.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// The largest request body accepted (larger ones get 413).
    #[arg(long, default_value_t = 64 * 1024)]
    max_body_bytes: usize,
    /// The most rows one request may carry (more get 413).
    #[arg(long, default_value_t = 256)]
    max_rows: usize,
    /// Batch concurrent requests into model calls of up to this many rows (0: no batching).
    #[arg(long, default_value_t = 0)]
    batch_rows: usize,
    /// How long a batch waits for more rows after its first request, in milliseconds.
    #[arg(long, default_value_t = 2)]
    batch_wait_ms: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("model-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    if let Some(address) = args.check_health {
        return check_health(address);
    }
    let source = match (args.model, args.model_dir) {
        (Some(file), _) => ModelSource::File(file),
        (None, Some(dir)) => ModelSource::Directory(dir),
        (None, None) => anyhow::bail!("give --model FILE or --model-dir DIR"),
    };
    let mut config = Config::new(source)
        .max_body_bytes(args.max_body_bytes)
        .max_rows(args.max_rows);
    if args.batch_rows > 0 {
        config =
            config.dynamic_batching(args.batch_rows, Duration::from_millis(args.batch_wait_ms));
    }
    let service = Service::open(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let address = listener.local_addr()?;
        println!("listening on http://{address}");
        eprintln!(
            "model-server: serving model version {} — try: curl http://{address}/model",
            service.version()
        );
        let router = service.into_router();
        model_server::serve(listener, router, stop_signal())
            .await
            .context("serving")
    })
}

/// One GET /health with a short timeout; an error unless the answer's status is 200.
fn check_health(address: SocketAddr) -> Result<()> {
    use std::io::{Read, Write};
    let timeout = Duration::from_secs(2);
    let mut stream = std::net::TcpStream::connect_timeout(&address, timeout)
        .with_context(|| format!("cannot connect to {address}"))?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let status_line = String::from_utf8_lossy(&answer);
    let status = status_line.split_whitespace().nth(1).unwrap_or("none");
    anyhow::ensure!(status == "200", "{address}/health answered {status}");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM (what `docker stop` sends).
async fn stop_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

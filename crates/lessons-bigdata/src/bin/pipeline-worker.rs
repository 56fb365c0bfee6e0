//! A worker process for `pipeline_orchestration`: runs (or resumes) one run of the flights
//! pipeline, recording every attempt in the state database, so that the lesson can kill it
//! mid-way and resume the run itself.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use lessons_bigdata::flights_pipeline::flights_pipeline;
use lessons_bigdata::orchestrator::{Faults, RetryPolicy, Runner};

#[derive(Parser)]
struct Args {
    /// The SQLite file that holds the run's state.
    #[arg(long)]
    state: PathBuf,
    /// The folder the tasks write their outputs to.
    #[arg(long)]
    workdir: PathBuf,
    /// The run to run or resume.
    #[arg(long)]
    run: String,
    /// A task that starts and never finishes (to be killed from outside).
    #[arg(long)]
    hang_in: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let faults = match &args.hang_in {
        Some(task) => Faults::none().hanging_in(task),
        None => Faults::none(),
    };
    let result = flights_pipeline().and_then(|pipeline| {
        let retry = RetryPolicy::new(3, Duration::from_millis(20), 2.0);
        Runner::new(&pipeline, &args.workdir, &args.state, retry, faults)?.run(&args.run)
    });
    match result {
        Ok(summary) => {
            println!("ran {:?}, skipped {:?}", summary.ran, summary.skipped);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pipeline-worker: {e}");
            ExitCode::FAILURE
        }
    }
}

//! `head-to-head`: the Rust side of `workbook compare`, built in the release profile.
//!
//! ```text
//! head-to-head tasks                                  the tasks and their parity rules, as JSON
//! head-to-head prepare --data DIR [--seed S]          write the synthetic inputs
//! head-to-head run TASK --data DIR [--repeats N] [--threads T]   one JSON line: times and metrics
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

// The global allocator is the harness's: mimalloc (why not glibc's malloc: see
// `harness::measure::CountingAllocator`).
use harness as _;

#[derive(Parser)]
#[command(name = "head-to-head", about = "The Rust side of `workbook compare`")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the tasks, their sizes and parity rules as JSON.
    Tasks,
    /// Print what the table needs to know of this binary beyond its profile: its allocator.
    About,
    /// Write the synthetic inputs both sides read.
    Prepare {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Time one task and print its outcome as one line of JSON.
    Run {
        task: String,
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
        repeats: u16,
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
        threads: u16,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Tasks => println!("{}", serde_json::to_string(head_to_head::TASKS)?),
        Command::About => println!("allocator: mimalloc"),
        Command::Prepare { data, seed } => head_to_head::prepare(&data, seed)?,
        Command::Run {
            task,
            data,
            repeats,
            threads,
        } => {
            let threads = usize::from(threads);
            // Both thread pools get the same count as the Python side: rayon's (the toolkit's
            // models, faer) here, polars' through the variable it reads when its pool starts.
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build_global()
                .context("starting rayon's thread pool")?;
            if std::env::var("POLARS_MAX_THREADS").ok() != Some(threads.to_string()) {
                anyhow::bail!(
                    "set POLARS_MAX_THREADS={threads} for polars' pool (workbook compare does)"
                );
            }
            let outcome = head_to_head::run(&task, &data, usize::from(repeats), threads)?;
            println!("{}", serde_json::to_string(&outcome)?);
        }
    }
    Ok(())
}

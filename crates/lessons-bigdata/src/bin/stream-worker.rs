//! A second process for `stream_processing`: runs one of the processes of the windowing dataflow
//! in a timely cluster on loopback, over the same simulated stream as the lesson.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use lessons_bigdata::event_windows::{
    ARRIVALS, LAG_MS, TICK_MS, Windows, count_windows, simulate, ticks,
};

#[derive(Parser)]
struct Args {
    /// This process's index in the cluster.
    #[arg(long)]
    process: usize,
    /// Every process's address (127.0.0.1:port), in order, separated by commas.
    #[arg(long, value_delimiter = ',')]
    addresses: Vec<String>,
    /// The lesson's seed, from which every process simulates the same stream.
    #[arg(long)]
    seed: u64,
    /// How many events the stream has.
    #[arg(long)]
    events: u64,
    /// Window length and slide in milliseconds.
    #[arg(long)]
    size_ms: u64,
    #[arg(long)]
    slide_ms: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(bad) = args.addresses.iter().find(|a| !a.starts_with("127.0.0.1:")) {
        eprintln!("stream-worker: {bad} is not a loopback address");
        return ExitCode::FAILURE;
    }
    let events = simulate(
        args.events,
        ARRIVALS,
        &mut harness::lesson::generator(args.seed, 1),
    );
    let config = timely::Config {
        communication: timely::CommunicationConfig::Cluster {
            threads: 1,
            process: args.process,
            addresses: args.addresses,
            report: false,
            zerocopy: false,
        },
        worker: timely::WorkerConfig::default(),
    };
    let windows = Windows::sliding(args.size_ms, args.slide_ms);
    match count_windows(config, Arc::new(ticks(&events, TICK_MS, LAG_MS)), windows) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stream-worker: {e}");
            ExitCode::FAILURE
        }
    }
}

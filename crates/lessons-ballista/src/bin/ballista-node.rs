//! One process of the Ballista cluster that `distributed_dataframes` starts on this machine:
//!
//! * `ballista-node scheduler <port>`: the scheduler, which plans each query into stages and
//!   hands their tasks to executors, on 127.0.0.1:`port`;
//! * `ballista-node executor <scheduler-port> <flight-port> <work-dir>`: an executor with one task
//!   slot, which asks the scheduler for tasks, writes its shuffle output under `work-dir` and
//!   serves it to other executors over Arrow Flight on 127.0.0.1:`flight-port`.
//!
//! Everything binds and advertises 127.0.0.1 only. The process runs until it is killed; a bad
//! argument or a failure to start is one line on stderr and exit code 2 or 1.

use std::process::ExitCode;
use std::sync::Arc;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

const LOOPBACK: &str = "127.0.0.1";
const USAGE: &str =
    "usage: ballista-node scheduler <port> | executor <scheduler-port> <flight-port> <work-dir>";

fn port(text: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("not a port number: {text:?}"))
}

async fn scheduler(port: u16) -> Result<(), String> {
    let config = SchedulerConfig {
        bind_host: LOOPBACK.into(),
        external_host: LOOPBACK.into(),
        bind_port: port,
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| e.to_string())?;
    let address = format!("{LOOPBACK}:{port}")
        .parse()
        .map_err(|e| format!("{e}"))?;
    start_server(cluster, address, Arc::new(config))
        .await
        .map_err(|e| e.to_string())
}

async fn executor(scheduler_port: u16, flight_port: u16, work_dir: &str) -> Result<(), String> {
    let config = ExecutorProcessConfig {
        bind_host: LOOPBACK.into(),
        external_host: Some(LOOPBACK.into()),
        port: flight_port,
        scheduler_host: LOOPBACK.into(),
        scheduler_port,
        scheduler_connect_timeout_seconds: 20,
        vcores: 1,
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        work_dir: Some(work_dir.into()),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ballista-node: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match args.as_slice() {
        ["scheduler", p] => port(p).map(|p| runtime.block_on(scheduler(p))),
        ["executor", s, f, dir] => port(s)
            .and_then(|s| Ok((s, port(f)?)))
            .map(|(s, f)| runtime.block_on(executor(s, f, dir))),
        _ => Err(USAGE.to_string()),
    };
    match outcome {
        Err(usage) => {
            eprintln!("ballista-node: {usage}");
            ExitCode::from(2)
        }
        Ok(Err(failure)) => {
            eprintln!("ballista-node: {failure}");
            ExitCode::FAILURE
        }
        Ok(Ok(())) => ExitCode::SUCCESS,
    }
}

//! A worker process for `distributed_tasks_actors`: a ractor_cluster node that connects to the
//! parameter server's node on loopback, then repeatedly asks for the weights, computes a
//! minibatch gradient on its own shard of the data, and pushes it.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use lessons_bigdata::param_server::{BATCH, COOKIE, GROUP, ServerMessage, gradient, shard};
use ractor::{ActorRef, call_t};
use ractor_cluster::NodeServer;
use rand::Rng;

#[derive(Parser)]
struct Args {
    /// The parameter server node's address (127.0.0.1:port).
    #[arg(long)]
    server: SocketAddr,
    /// This worker's number (its shard of the data).
    #[arg(long)]
    worker: u64,
    /// The lesson's seed, from which every process draws the same shards.
    #[arg(long)]
    seed: u64,
    /// Rows in this worker's shard.
    #[arg(long)]
    rows: usize,
    /// Gradient steps to push.
    #[arg(long)]
    steps: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("actor-worker: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    if !args.server.ip().is_loopback() {
        return Err(format!("{} is not a loopback address", args.server));
    }
    // This process is a node too (it listens on an ephemeral loopback port that nobody uses).
    let node = NodeServer::new(
        0,
        COOKIE.to_string(),
        format!("worker-{}", args.worker),
        "127.0.0.1".to_string(),
        None,
        None,
    )
    .with_listen_addr([127, 0, 0, 1].into());
    let (node, _) = ractor::Actor::spawn(None, node, ())
        .await
        .map_err(|e| e.to_string())?;
    ractor_cluster::client_connect(&node, args.server)
        .await
        .map_err(|e| format!("connecting to {}: {e}", args.server))?;
    // The server's group reaches this node once the two nodes have shaken hands.
    let mut members = Vec::new();
    for _ in 0..500 {
        members = ractor::pg::get_members(&GROUP.to_string());
        if !members.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let server: ActorRef<ServerMessage> = members
        .into_iter()
        .next()
        .ok_or("the parameter server's group never arrived")?
        .into();
    let (x, y) = shard(
        args.rows,
        &mut harness::lesson::generator(args.seed, 10 + args.worker),
    );
    let mut rng = harness::lesson::generator(args.seed, 100 + args.worker);
    for step in 0..args.steps {
        let weights = call_t!(server, ServerMessage::Weights, 5_000).map_err(|e| e.to_string())?;
        let rows: Vec<usize> = (0..BATCH).map(|_| rng.gen_range(0..y.len())).collect();
        let g = gradient(&x, &y, &rows, &weights);
        server
            .cast(ServerMessage::Push(args.worker, step, g))
            .map_err(|e| e.to_string())?;
    }
    // The last push must leave before the process ends: one more call, answered after it.
    call_t!(server, ServerMessage::Weights, 5_000).map_err(|e| e.to_string())?;
    Ok(())
}

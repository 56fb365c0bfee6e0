//! `workbook serve`: the workbook as a local web app, for a workshop — the same pages as the
//! gallery, with a Run button that runs a lesson on this machine and streams its output.
//!
//! The server is its own package (`workbook-web`, on axum and tokio), so that this command line
//! stays light and quick to build: `serve` starts it with `cargo run -p workbook-web`, in the dev
//! profile the tests use.

use std::process::{Command, ExitCode};

use anyhow::{Context, Result};

#[derive(clap::Args)]
pub struct Args {
    /// The port on 127.0.0.1 (0, the default, lets the system pick a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let root = catalogue::workspace_root();
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(&root)
        .args(["run", "--quiet", "-p", "workbook-web", "--", "--port"])
        .arg(args.port.to_string())
        .status()
        .context("could not start `cargo run -p workbook-web`")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

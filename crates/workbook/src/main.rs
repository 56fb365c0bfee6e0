//! `workbook`: browse the catalogue of interview topics, run their lessons and read their reports.
//!
//! Learner commands (`list`, `show`, `run`, `search`, `quiz`, `walkthrough`, `serve`, `gallery`,
//! `compare`)
//! each live in a module of [`commands`]; maintainer commands sit under `workbook dev`
//! ([`commands::dev`]). The quiz keeps its cards with [`progress`].

mod commands;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "workbook",
    version,
    about = "Data-science interview questions answered with running Rust code",
    after_help = "Start with `workbook list`, then `workbook show <topic>` and `workbook run <topic>`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List sections and topics with their status.
    List(commands::list::Args),
    /// Show a topic: its question and hint, the project's answer, the last report and how to run it.
    Show(commands::show::Args),
    /// Run a topic's lesson and print its report (or every ready lesson with --all).
    Run(commands::run::Args),
    /// Find topics by words in their title, question and answer.
    Search(commands::search::Args),
    /// Practise: questions, then the answer to grade yourself on, and predictions to check
    /// against measured numbers; spaced repetition remembers what to ask next.
    Quiz(commands::quiz::Args),
    /// Present topics to a room: question, a pause to predict, the lesson live, its claims.
    Walkthrough(commands::walkthrough::Args),
    /// The workbook as a local web app on 127.0.0.1: topic pages, figures, a Run button that
    /// streams a lesson's output, a presenter view.
    Serve(commands::serve::Args),
    /// The workbook as static web pages in a folder (index, topics, figures, code).
    Gallery(commands::gallery::Args),
    /// Time the Rust answers against the Python tools they replace, on the same data, and
    /// check that both give the same answer (needs Python: pip install -r python/requirements.txt).
    Compare(commands::compare::Args),
    /// Maintainer commands: regenerate and check what derives from the catalogue.
    #[command(subcommand)]
    Dev(commands::dev::Command),
}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::List(args) => commands::list::run(args),
        Command::Show(args) => commands::show::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Search(args) => commands::search::run(args),
        Command::Quiz(args) => commands::quiz::run(args),
        Command::Walkthrough(args) => commands::walkthrough::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Gallery(args) => commands::gallery::run(args),
        Command::Compare(args) => commands::compare::run(args),
        Command::Dev(command) => commands::dev::run(command),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`workbook list | head`) would panic.
/// Restoring the default makes the process end quietly, as command-line tools do.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

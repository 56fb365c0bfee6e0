//! `workbook`: browse the catalogue of interview topics, run their lessons and read their reports.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use harness::Report;
use harness::catalogue::{self, Catalogue, Entry, Status};
use harness::lesson::default_out_dir;
use serde::Serialize;

#[derive(Parser)]
#[command(
    name = "workbook",
    version,
    about = "Data-science interview questions answered with running Rust code",
    after_help = "Start with `workbook list`, then `workbook show <topic>` and `workbook run <topic>`."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List sections and topics with their status.
    List {
        /// Only this section (its id, e.g. `numpy`, or its number).
        #[arg(long)]
        section: Option<String>,
        /// One JSON array of entries, for tools.
        #[arg(long)]
        json: bool,
    },
    /// Show a topic: its question, the project's answer, the last report and how to run it.
    Show { topic: String },
    /// Run a topic's lesson and print its report (or every ready lesson with --all).
    Run {
        /// A topic id, lesson name or number.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        topic: Option<String>,
        /// Run every ready lesson, logging each, and print a summary.
        #[arg(long)]
        all: bool,
        /// Small data, a few seconds per lesson.
        #[arg(long)]
        quick: bool,
        /// Seed passed to the lesson.
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (with --all, one sub-folder per lesson).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Find topics by words in their title, question and answer.
    Search {
        #[arg(required = true)]
        words: Vec<String>,
    },
    /// Print the README's topic index, generated from the catalogue; --write updates README.md.
    Index {
        #[arg(long)]
        write: bool,
    },
    /// Check that notebooks/ holds an evcxr notebook for every ready lesson, generated from its
    /// source; --write regenerates them (and removes notebooks of lessons no longer ready).
    Notebooks {
        #[arg(long)]
        write: bool,
    },
}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    match run(cli) {
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

fn run(cli: Cli) -> Result<ExitCode> {
    let catalogue = Catalogue::load()?;
    match cli.command {
        Cmd::List { section, json } => list(&catalogue, section.as_deref(), json),
        Cmd::Show { topic } => show(&catalogue, &topic),
        Cmd::Run {
            all: true,
            quick,
            seed,
            out,
            ..
        } => run_all(&catalogue, quick, seed, out),
        Cmd::Run {
            topic,
            quick,
            seed,
            out,
            ..
        } => {
            let topic = topic.context("name a topic, or pass --all")?;
            run_one(&catalogue, &topic, quick, seed, out)
        }
        Cmd::Search { words } => search(&catalogue, &words.join(" ")),
        Cmd::Index { write } => index(&catalogue, write),
        Cmd::Notebooks { write } => notebooks(&catalogue, write),
    }
}

#[derive(Serialize)]
struct ListedEntry<'a> {
    id: &'a str,
    section: &'a str,
    number: u32,
    title: &'a str,
    lesson: &'a str,
    difficulty: String,
    status: String,
}

fn list(catalogue: &Catalogue, section: Option<&str>, json: bool) -> Result<ExitCode> {
    let sections: Vec<_> = match section {
        None => catalogue.sections.iter().collect(),
        Some(wanted) => {
            let found = catalogue
                .sections
                .iter()
                .find(|s| s.id == wanted || s.number.to_string() == wanted);
            match found {
                Some(s) => vec![s],
                None => {
                    let ids: Vec<&str> = catalogue.sections.iter().map(|s| s.id.as_str()).collect();
                    bail!(
                        "unknown section {wanted:?}; sections are {}",
                        ids.join(", ")
                    );
                }
            }
        }
    };
    if json {
        let entries: Vec<ListedEntry> = sections
            .iter()
            .flat_map(|s| catalogue.in_section(&s.id))
            .map(|e| ListedEntry {
                id: &e.id,
                section: &e.section,
                number: e.number,
                title: &e.title,
                lesson: &e.lesson,
                difficulty: e.difficulty.to_string(),
                status: e.status.to_string(),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(ExitCode::SUCCESS);
    }
    for s in sections {
        let entries: Vec<&Entry> = catalogue.in_section(&s.id).collect();
        let ready = entries.iter().filter(|e| e.status == Status::Ready).count();
        println!(
            "\n{}. {} [{}] — {ready}/{} ready",
            s.number,
            s.title,
            s.id,
            entries.len()
        );
        for e in entries {
            let mark = if e.status == Status::Ready {
                "✓"
            } else {
                "·"
            };
            println!(
                "  {mark} {:>2}  {:<32} {:<13} {}",
                e.number, e.id, e.difficulty, e.title
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(catalogue: &Catalogue, topic: &str) -> Result<ExitCode> {
    let e = catalogue.find(topic)?;
    let section = catalogue
        .section(&e.section)
        .map_or(e.section.clone(), |s| format!("{}. {}", s.number, s.title));
    println!("{} — {} ({}, {})", e.id, e.title, e.difficulty, e.status);
    println!("Section: {section}");
    println!("\nQuestion: {}", e.question);
    println!("\nAnswer: {}", e.answer);
    println!("\nHint for quizzing: {}", e.hint);
    let report_path = default_out_dir(&e.lesson).join("report.json");
    match Report::read(&report_path) {
        Ok(report) => {
            println!(
                "\nLast report ({}, {} mode, seed {}):",
                report_path.display(),
                if report.quick { "quick" } else { "full" },
                report.seed
            );
            print_report(&report, report_path.parent().unwrap_or(Path::new(".")));
        }
        Err(_) if e.status == Status::Ready => {
            println!("\nNo report yet: run the lesson to measure the answer.");
        }
        Err(_) => {}
    }
    if e.status == Status::Ready {
        println!(
            "\nRun it: cargo run --release --example {} (add `-- --quick` for a short run)",
            e.lesson
        );
        println!("    or: workbook run {} [--quick]", e.id);
    } else {
        println!(
            "\nThe lesson `{}` is planned and not written yet.",
            e.lesson
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &Report, dir: &Path) {
    let held = report.claims.iter().filter(|c| c.holds).count();
    println!("  claims: {held}/{} held", report.claims.len());
    for c in &report.claims {
        println!("    {c}");
    }
    if !report.metrics.is_empty() {
        println!("  metrics:");
        for (name, value) in &report.metrics {
            if value.fract() == 0.0 && value.abs() < 1e15 {
                println!("    {name:<40} {value:.0}");
            } else {
                println!("    {name:<40} {value:.6}");
            }
        }
    }
    for f in &report.figures {
        println!("  figure: {}", dir.join(f).display());
    }
}

/// The command that runs a lesson: the example binary built beside this one when there is one,
/// otherwise `cargo run --example` in the workspace (which builds it first).
fn lesson_command(lesson: &str) -> Command {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .map(|dir| {
            dir.join("examples")
                .join(format!("{lesson}{}", std::env::consts::EXE_SUFFIX))
        });
    match beside {
        Some(binary) if binary.is_file() => Command::new(binary),
        _ => {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut command = Command::new(cargo);
            command.current_dir(harness::workspace_root()).args([
                "run",
                "--quiet",
                "--example",
                lesson,
            ]);
            if !cfg!(debug_assertions) {
                command.arg("--release");
            }
            command.arg("--");
            command
        }
    }
}

fn lesson_args(command: &mut Command, quick: bool, seed: Option<u64>, out: &Path) {
    if quick {
        command.arg("--quick");
    }
    if let Some(seed) = seed {
        command.arg("--seed").arg(seed.to_string());
    }
    command.arg("--out").arg(out);
}

fn run_one(
    catalogue: &Catalogue,
    topic: &str,
    quick: bool,
    seed: Option<u64>,
    out: Option<PathBuf>,
) -> Result<ExitCode> {
    let e = catalogue.find(topic)?;
    if e.status != Status::Ready {
        bail!(
            "the lesson `{}` for {} is planned, not written yet",
            e.lesson,
            e.id
        );
    }
    let out = out.unwrap_or_else(|| default_out_dir(&e.lesson));
    let mut command = lesson_command(&e.lesson);
    lesson_args(&mut command, quick, seed, &out);
    let status = command
        .status()
        .with_context(|| format!("could not start lesson {}", e.lesson))?;
    let report_path = out.join("report.json");
    match Report::read(&report_path) {
        Ok(report) => {
            println!("\nReport {}:", report_path.display());
            print_report(&report, &out);
        }
        Err(err) => eprintln!("no report: {err}"),
    }
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        eprintln!("lesson {} failed ({status})", e.lesson);
        ExitCode::FAILURE
    })
}

#[derive(Serialize)]
struct Outcome {
    lesson: String,
    ok: bool,
    exit_code: Option<i32>,
    seconds: f64,
    claims_held: usize,
    claims: usize,
    log: PathBuf,
}

fn run_all(
    catalogue: &Catalogue,
    quick: bool,
    seed: Option<u64>,
    out: Option<PathBuf>,
) -> Result<ExitCode> {
    let logs = harness::workspace_root().join("target/workbook/run-all");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let mut outcomes = Vec::new();
    for lesson in catalogue.ready_lessons() {
        let dir = out
            .as_ref()
            .map_or_else(|| default_out_dir(lesson), |o| o.join(lesson));
        let log = logs.join(format!("{lesson}.log"));
        let file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = lesson_command(lesson);
        lesson_args(&mut command, quick, seed, &dir);
        command
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::from(file));
        let started = Instant::now();
        let status = command
            .status()
            .with_context(|| format!("could not start lesson {lesson}"))?;
        let seconds = started.elapsed().as_secs_f64();
        let report = Report::read(&dir.join("report.json")).ok();
        let outcome = Outcome {
            lesson: lesson.to_string(),
            ok: status.success(),
            exit_code: status.code(),
            seconds,
            claims_held: report
                .as_ref()
                .map_or(0, |r| r.claims.iter().filter(|c| c.holds).count()),
            claims: report.as_ref().map_or(0, |r| r.claims.len()),
            log,
        };
        println!(
            "{:<28} {:<6} {:>7.2} s  {}/{} claims",
            outcome.lesson,
            if outcome.ok { "ok" } else { "FAILED" },
            outcome.seconds,
            outcome.claims_held,
            outcome.claims
        );
        outcomes.push(outcome);
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok).collect();
    let total: f64 = outcomes.iter().map(|o| o.seconds).sum();
    let summary = logs.join("summary.json");
    std::fs::write(&summary, serde_json::to_string_pretty(&outcomes)?)
        .with_context(|| format!("writing {}", summary.display()))?;
    println!(
        "\n{} lessons, {} failed, {total:.1} s in all; logs and summary in {}",
        outcomes.len(),
        failed.len(),
        logs.display()
    );
    for o in &failed {
        println!("  failed: {} (see {})", o.lesson, o.log.display());
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn search(catalogue: &Catalogue, query: &str) -> Result<ExitCode> {
    let hits = catalogue.search(query);
    if hits.is_empty() {
        println!("Nothing matches {query:?}. `workbook list` shows every topic.");
        return Ok(ExitCode::SUCCESS);
    }
    for (score, e) in hits.iter().take(10) {
        println!("{score:>3}  {:<32} {} — {}", e.id, e.title, e.question);
    }
    Ok(ExitCode::SUCCESS)
}

fn index(catalogue: &Catalogue, write: bool) -> Result<ExitCode> {
    let generated = catalogue.markdown_index();
    if !write {
        print!("{generated}");
        return Ok(ExitCode::SUCCESS);
    }
    let path = harness::workspace_root().join("README.md");
    let readme =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let updated = catalogue::splice_index(&readme, &generated)?;
    if updated == readme {
        println!("{} is up to date", path.display());
    } else {
        std::fs::write(&path, updated).with_context(|| format!("writing {}", path.display()))?;
        println!("updated the topic index in {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn notebooks(catalogue: &Catalogue, write: bool) -> Result<ExitCode> {
    let root = harness::workspace_root();
    let folder = root.join("notebooks");
    let mut stale = Vec::new();
    let mut expected = std::collections::BTreeSet::new();
    for lesson in catalogue.ready_lessons() {
        let text = harness::notebook::for_lesson(&root, lesson)?.to_text();
        let path = folder.join(format!("{lesson}.ipynb"));
        expected.insert(path.clone());
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            if write {
                std::fs::write(&path, &text)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            } else {
                stale.push(path);
            }
        }
    }
    // Notebooks of lessons that are no longer ready are generated files too.
    for entry in
        std::fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "ipynb") && !expected.contains(&path) {
            if write {
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing {}", path.display()))?;
                println!("removed {}", path.display());
            } else {
                stale.push(path);
            }
        }
    }
    if write || stale.is_empty() {
        println!(
            "{} notebooks in {} are up to date",
            expected.len(),
            folder.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for path in &stale {
        println!("stale: {}", path.display());
    }
    println!("run `cargo run -- notebooks --write` to regenerate them");
    Ok(ExitCode::FAILURE)
}

//! `workbook run`: runs a lesson (or every ready lesson) and prints its report.
//!
//! Lessons run through `cargo run --example <lesson>` in the workspace, in the dev profile — the
//! profile `cargo test` builds, which is optimised here — so running a lesson after the tests
//! compiles nothing again, whatever profile the CLI itself was built in. `WORKBOOK_LESSON_DIR`
//! names a folder of lesson binaries already built (an installed workbook, or the tests) to run
//! those instead.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use catalogue::{Catalogue, Report, Status};
use serde::Serialize;

#[derive(clap::Args)]
pub struct Args {
    /// A topic id, lesson name or number.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    topic: Option<String>,
    /// Run every ready lesson (of one section with --section), logging each, and print a summary.
    #[arg(long)]
    all: bool,
    /// With --all: only this section's lessons (its id or number).
    #[arg(long, requires = "all")]
    section: Option<String>,
    /// Small data, a few seconds per lesson.
    #[arg(long)]
    quick: bool,
    /// Seed passed to the lesson.
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder (with --all, one sub-folder per lesson).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// The topic `name` (an id or a lesson name), if its lesson is written.
fn ready_entry<'c>(catalogue: &'c Catalogue, name: &str) -> Result<&'c catalogue::Entry> {
    let e = catalogue.find(name)?;
    if e.status != Status::Ready {
        bail!(
            "the lesson `{}` for {} is planned, not written yet",
            e.lesson,
            e.id
        );
    }
    Ok(e)
}

pub fn run(args: Args) -> Result<ExitCode> {
    let catalogue = Catalogue::load()?;
    if let Some(out) = &args.out {
        prepare_out(out)?;
    }
    if args.all {
        return run_all(&catalogue, &args);
    }
    let topic = args
        .topic
        .as_deref()
        .context("name a topic, or pass --all")?;
    let e = ready_entry(&catalogue, topic)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| catalogue::default_out_dir(&e.lesson));
    let mut command = lesson_process(&e.lesson, args.mode(), args.seed, &out)?;
    let status = command
        .status()
        .with_context(|| format!("could not start lesson {}", e.lesson))?;
    let report_path = out.join("report.json");
    let report = Report::read(&report_path);
    if let Ok(report) = &report {
        println!("\nReport {}:", report_path.display());
        super::print_report(report, &out);
    }
    if !status.success() {
        bail!("lesson {} failed ({status})", e.lesson);
    }
    report.with_context(|| format!("lesson {} wrote no readable report", e.lesson))?;
    Ok(ExitCode::SUCCESS)
}

/// An output folder must be a folder we can write: created if missing, refused if it is a file.
pub fn prepare_out(out: &Path) -> Result<()> {
    if out.exists() && !out.is_dir() {
        bail!("--out {} is a file, not a folder", out.display());
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create --out {}", out.display()))?;
    let probe = out.join(format!(".workbook-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("cannot write in --out {}", out.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Quick mode (small data, a few seconds) or the full lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Quick,
    Full,
}

impl Args {
    fn mode(&self) -> Mode {
        if self.quick { Mode::Quick } else { Mode::Full }
    }
}

/// The process that runs `lesson` in `mode` (with `seed`, if given) and writes its report and
/// artefacts to `out`; the caller decides where its output goes and starts it. The quiz and the
/// walkthrough run lessons through this too.
pub fn lesson_process(lesson: &str, mode: Mode, seed: Option<u64>, out: &Path) -> Result<Command> {
    let mut command = catalogue::lesson_command(lesson)?;
    if mode == Mode::Quick {
        command.arg("--quick");
    }
    if let Some(seed) = seed {
        command.arg("--seed").arg(seed.to_string());
    }
    command.arg("--out").arg(out);
    Ok(command)
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

/// Runs one lesson with its output in `log`; an error to start it is written to the log too.
fn run_logged(
    lesson: &str,
    args: &Args,
    out: &Path,
    log: &Path,
) -> Result<std::process::ExitStatus> {
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let started = lesson_process(lesson, args.mode(), args.seed, out).and_then(|mut command| {
        command
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::from(file.try_clone()?));
        command
            .status()
            .with_context(|| format!("could not start lesson {lesson}"))
    });
    if let Err(e) = &started {
        use std::io::Write as _;
        let _ = writeln!(&file, "error: {e:#}");
    }
    started
}

fn run_all(catalogue: &Catalogue, args: &Args) -> Result<ExitCode> {
    let lessons: Vec<&str> = match args.section.as_deref() {
        None => catalogue.ready_lessons(),
        Some(wanted) => catalogue.ready_lessons_in(wanted)?,
    };
    let logs = match &args.out {
        Some(out) => out.join("logs"),
        None => catalogue::workspace_root().join("target/workbook/run-all"),
    };
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let mut outcomes = Vec::new();
    for lesson in lessons {
        let dir = args
            .out
            .as_ref()
            .map_or_else(|| catalogue::default_out_dir(lesson), |o| o.join(lesson));
        let log = logs.join(format!("{lesson}.log"));
        let started = Instant::now();
        // A lesson that cannot start is a failed lesson in the summary, not the end of the run.
        let status = run_logged(lesson, args, &dir, &log);
        let seconds = started.elapsed().as_secs_f64();
        let report = Report::read(&dir.join("report.json")).ok();
        let outcome = Outcome {
            lesson: lesson.to_string(),
            ok: status.as_ref().is_ok_and(|s| s.success()) && report.is_some(),
            exit_code: status.ok().and_then(|s| s.code()),
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
    catalogue::write_atomically(&summary, &serde_json::to_string_pretty(&outcomes)?)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planned_topic_is_a_clear_error() {
        // Every topic of the workbook's own catalogue is written, so the case is checked on a
        // catalogue of one planned topic.
        let catalogue = Catalogue::parse(concat!(
            "[[section]]\nid = \"s\"\nnumber = 1\ntitle = \"S\"\npython = \"p\"\npackage = \"lessons-s\"\n",
            "[[topic]]\nid = \"later\"\nsection = \"s\"\nnumber = 1\ntitle = \"t\"\nquestion = \"q\"\n",
            "answer = \"a\"\nlesson = \"later\"\ndifficulty = \"basic\"\nhint = \"h\"\nstatus = \"planned\"\n",
        ))
        .unwrap();
        let err = ready_entry(&catalogue, "later").unwrap_err().to_string();
        assert_eq!(
            err,
            "the lesson `later` for later is planned, not written yet"
        );
        assert!(ready_entry(&catalogue, "nothing-like-it").is_err());
    }
}

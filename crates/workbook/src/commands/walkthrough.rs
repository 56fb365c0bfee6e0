//! `workbook walkthrough`: presenter mode for a workshop.
//!
//! For each topic: the question on screen, a pause for the room to predict, the lesson running
//! live with its output streaming, then its claims (held or failed) and where its figures are.
//! At a terminal a one-letter command and Enter moves on: Enter for next, `r` re-runs, `n` shows
//! the instructor's notes (follow-ups and pitfalls), `s` skips, `q` quits. With input or output
//! that is not a terminal it runs the topics one after another without waiting. Everything it
//! prints itself fits 80 columns.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use catalogue::{Catalogue, Entry, Report, Status};

use super::run::{Mode, lesson_process};
use super::{WIDTH, print_wrapped};

#[derive(clap::Args)]
pub struct Args {
    /// Topics to present, in order (ids, lesson names or numbers).
    #[arg(required_unless_present = "section")]
    topics: Vec<String>,
    /// Present every ready topic of this section (its id or number).
    #[arg(long, conflicts_with = "topics")]
    section: Option<String>,
    /// Run the full lessons instead of quick mode.
    #[arg(long)]
    full: bool,
    /// Seed passed to every lesson.
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder, one sub-folder per lesson (default: target/workbook/<lesson>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let catalogue = Catalogue::load()?;
    let topics: Vec<&Entry> = match &args.section {
        Some(name) => {
            let section = catalogue.section_named(name)?;
            catalogue
                .in_section(&section.id)
                .filter(|e| e.status == Status::Ready)
                .collect()
        }
        None => args
            .topics
            .iter()
            .map(|t| catalogue.find(t))
            .collect::<Result<_, _>>()?,
    };
    if let Some(planned) = topics.iter().find(|e| e.status != Status::Ready) {
        bail!("{} is planned: its lesson is not written yet", planned.id);
    }
    if topics.is_empty() {
        bail!("that section has no ready topic yet");
    }
    // Keys only when a person is at a terminal on both ends; otherwise run straight through.
    let live = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let mut keys = std::io::stdin().lock().lines();
    let mode = if args.full { Mode::Full } else { Mode::Quick };
    let started = Instant::now();
    // The last run of each topic presented: (topic, claims held, claims), None if it failed.
    let mut results: Vec<(String, Option<(usize, usize)>)> = Vec::new();

    'topics: for (i, topic) in topics.iter().enumerate() {
        let topic_started = Instant::now();
        rule(&format!(" {}/{} · {} ", i + 1, topics.len(), topic.id));
        println!("{} ({})\n", topic.title, topic.difficulty);
        wrapped(&topic.question);
        if live {
            loop {
                match prompt(
                    &mut keys,
                    "\nPredict, then Enter to run it (n notes · s skip · q quit) ",
                )? {
                    Key::Quit => break 'topics,
                    Key::Skip => continue 'topics,
                    Key::Notes => notes(&catalogue, topic),
                    Key::Next | Key::Rerun => break,
                }
            }
        }
        loop {
            let report = present(topic, mode, &args)?;
            let result =
                report.map(|r| (r.claims.iter().filter(|c| c.holds).count(), r.claims.len()));
            // A re-run replaces the topic's result.
            results.retain(|(id, _)| id != &topic.id);
            results.push((topic.id.clone(), result));
            if !live {
                break;
            }
            loop {
                let elapsed = clock(topic_started.elapsed());
                match prompt(
                    &mut keys,
                    &format!(
                        "\n[{elapsed} on this topic] Enter next · r re-run · n notes · q quit "
                    ),
                )? {
                    Key::Next | Key::Skip => continue 'topics,
                    Key::Quit => break 'topics,
                    Key::Notes => notes(&catalogue, topic),
                    Key::Rerun => break,
                }
            }
        }
    }
    rule(" end ");
    let held: usize = results.iter().filter_map(|(_, r)| r.map(|r| r.0)).sum();
    let claims: usize = results.iter().filter_map(|(_, r)| r.map(|r| r.1)).sum();
    let failed: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.is_none_or(|(held, all)| held < all))
        .map(|(id, _)| id.as_str())
        .collect();
    println!(
        "{} of {} topic(s) in {}; claims held {held}/{claims}",
        results.len(),
        topics.len(),
        clock(started.elapsed())
    );
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        println!("did not pass: {}", failed.join(", "));
        Ok(ExitCode::FAILURE)
    }
}

/// Runs the topic's lesson with its output streaming to the screen, then lists its claims and
/// figures. None when the lesson failed to run or wrote no readable report.
fn present(topic: &Entry, mode: Mode, args: &Args) -> Result<Option<Report>> {
    let out = args.out.as_ref().map_or_else(
        || catalogue::default_out_dir(&topic.lesson),
        |o| o.join(&topic.lesson),
    );
    println!(
        "\n$ cargo run --example {}{}\n",
        topic.lesson,
        if mode == Mode::Quick {
            " -- --quick"
        } else {
            ""
        }
    );
    let started = Instant::now();
    let status = lesson_process(&topic.lesson, mode, args.seed, &out)?
        .status()
        .with_context(|| format!("could not start lesson {}", topic.lesson))?;
    let seconds = started.elapsed().as_secs_f64();
    let report = Report::read(&out.join("report.json"));
    match &report {
        Ok(report) => {
            println!();
            rule(&format!(" {} · {seconds:.1} s ", topic.lesson));
            let held = report.claims.iter().filter(|c| c.holds).count();
            println!("claims held: {held}/{}", report.claims.len());
            for c in &report.claims {
                let mark = if c.holds { "held  " } else { "FAILED" };
                wrapped(&format!("{mark} {}", c.claim));
            }
            let figures: Vec<String> = report
                .artefacts_of(catalogue::ArtefactKind::Figure)
                .filter(|a| a.location.ends_with(".png"))
                .map(|a| out.join(&a.location).display().to_string())
                .collect();
            if !figures.is_empty() {
                println!("figures:");
                for f in figures {
                    println!("  {f}");
                }
            }
            Ok(Some(report.clone()))
        }
        Err(e) => {
            println!(
                "\nthe lesson {} did not finish ({status}): {e}",
                topic.lesson
            );
            Ok(None)
        }
    }
}

/// The instructor's notes: the follow-up questions and the pitfalls.
fn notes(catalogue: &Catalogue, topic: &Entry) {
    let owner = catalogue.lesson_owner(topic);
    println!("\nNotes — follow-ups:");
    for f in &owner.follow_ups {
        wrapped(&format!("Q: {}", f.question));
        wrapped(&format!("A: {}", f.answer));
    }
    println!("Pitfalls:");
    for p in &owner.pitfalls {
        wrapped(&format!("- {p}"));
    }
}

enum Key {
    Next,
    Rerun,
    Notes,
    Skip,
    Quit,
}

/// Waits for a command line at the terminal; the end of input quits.
fn prompt(keys: &mut std::io::Lines<std::io::StdinLock<'_>>, text: &str) -> Result<Key> {
    loop {
        print!("{text}");
        std::io::stdout().flush().ok();
        let Some(line) = keys.next().transpose().context("reading a key")? else {
            return Ok(Key::Quit);
        };
        match line.trim() {
            "" => return Ok(Key::Next),
            "r" => return Ok(Key::Rerun),
            "n" => return Ok(Key::Notes),
            "s" => return Ok(Key::Skip),
            "q" => return Ok(Key::Quit),
            other => println!("{other:?} is not a command: Enter, r, n, s or q"),
        }
    }
}

/// A full-width rule with a label: `── 1/3 · broadcasting ───…`.
fn rule(label: &str) {
    let used = 2 + label.chars().count();
    println!("──{label}{}", "─".repeat(WIDTH.saturating_sub(used)));
}

/// Prints `text` wrapped at [`WIDTH`] columns.
fn wrapped(text: &str) {
    print_wrapped("", text);
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

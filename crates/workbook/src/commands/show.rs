//! `workbook show`: one topic — question and hint first (so a reader can try), then the answer in
//! four parts (in 30 seconds, the evidence, in Python, follow-ups and pitfalls), the last report
//! and how to run the lesson.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use catalogue::{Catalogue, Report, Status};

#[derive(clap::Args)]
pub struct Args {
    /// A topic id, lesson name or number.
    topic: String,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let catalogue = Catalogue::load()?;
    let e = catalogue.find(&args.topic)?;
    let section = catalogue
        .section(&e.section)
        .map_or(e.section.clone(), |s| format!("{}. {}", s.number, s.title));
    println!("{} — {} ({}, {})", e.id, e.title, e.difficulty, e.status);
    println!("Section: {section}");
    println!("\nQuestion: {}", e.question);
    println!("\nHint: {}", e.hint);
    super::print_answer(&catalogue, e);
    let owner = catalogue.lesson_owner(e);
    if !owner.pitfalls.is_empty() {
        println!("\nPitfalls:");
        for p in &owner.pitfalls {
            println!("  - {p}");
        }
    }
    let report_path = catalogue::default_out_dir(&e.lesson).join("report.json");
    if report_path.exists() {
        // A report that exists but cannot be read is an error, not a silent "no report".
        let report = Report::read(&report_path)?;
        println!(
            "\nLast report ({}, {} mode, seed {}):",
            report_path.display(),
            if report.quick { "quick" } else { "full" },
            report.seed
        );
        super::print_report(&report, report_path.parent().unwrap_or(Path::new(".")));
    } else if e.status == Status::Ready {
        println!("\nNo report yet: run the lesson to measure the answer.");
    }
    if e.status == Status::Ready {
        println!(
            "\nRun it: cargo run --example {} (add `-- --quick` for a short run)",
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

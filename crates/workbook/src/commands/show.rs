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
    println!("\nIn 30 seconds: {}", e.answer);
    // A common question shares the evidence and the rest with the topic whose lesson it points at.
    let owner = catalogue.lesson_owner(e);
    if owner.id != e.id {
        println!(
            "\n(The rest comes from the topic {}: {})",
            owner.id, owner.title
        );
    }
    if !owner.evidence.is_empty() {
        println!("\nThe evidence: {}", owner.evidence);
    }
    if !owner.python.is_empty() {
        println!("\nIn Python, and the Rust here:");
        for t in &owner.python {
            println!("  Python: {}\n    Rust: {}", t.python, t.rust);
        }
    }
    if !owner.follow_ups.is_empty() {
        println!("\nFollow-ups:");
        for f in &owner.follow_ups {
            println!("  Q: {}\n  A: {}", f.question, f.answer);
        }
    }
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

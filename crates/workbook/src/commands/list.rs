//! `workbook list`: sections and topics with their status.

use std::process::ExitCode;

use anyhow::Result;
use catalogue::{Catalogue, Entry, Status};
use serde::Serialize;

#[derive(clap::Args)]
pub struct Args {
    /// Only this section (its id, e.g. `numpy`, or its number).
    #[arg(long)]
    section: Option<String>,
    /// One JSON array of entries, for tools.
    #[arg(long)]
    json: bool,
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

pub fn run(args: Args) -> Result<ExitCode> {
    let catalogue = Catalogue::load()?;
    let sections: Vec<_> = match args.section.as_deref() {
        None => catalogue.sections.iter().collect(),
        Some(wanted) => vec![catalogue.section_named(wanted)?],
    };
    if args.json {
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

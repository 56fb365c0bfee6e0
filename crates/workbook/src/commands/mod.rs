//! One module per command. Learner commands: [`list`], [`show`], [`run`], [`search`], [`quiz`],
//! [`walkthrough`], [`serve`], [`gallery`] and [`compare`]; maintainer commands: [`dev`].

pub mod compare;
pub mod dev;
pub mod execute;
pub mod gallery;
pub mod list;
pub mod quiz;
pub mod run;
pub mod search;
pub mod serve;
pub mod show;
pub mod walkthrough;

use std::path::Path;

use catalogue::Report;

/// The width of what the quiz and the walkthrough print themselves: an 80-column terminal.
pub const WIDTH: usize = 78;

/// Prints `text` broken between words at [`WIDTH`] columns: the first line starts with `lead`,
/// the others with as many spaces (a hanging indent).
pub fn print_wrapped(lead: &str, text: &str) {
    let hang = " ".repeat(lead.chars().count());
    let mut line = String::from(lead);
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            println!("{line}");
            line.clone_from(&hang);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    if !empty {
        println!("{line}");
    }
}

/// Prints a topic's answer — in 30 seconds, the evidence, the Python calls beside the Rust, the
/// follow-ups — wrapped at [`WIDTH`]. A common question takes everything but its own short answer
/// from the topic whose lesson it points at. `show` and the quiz both reveal an answer this way.
pub fn print_answer(catalogue: &catalogue::Catalogue, entry: &catalogue::Entry) {
    let owner = catalogue.lesson_owner(entry);
    println!();
    print_wrapped("", &format!("In 30 seconds: {}", entry.answer));
    if owner.id != entry.id {
        println!();
        print_wrapped(
            "",
            &format!(
                "(The rest comes from the topic {}: {})",
                owner.id, owner.title
            ),
        );
    }
    if !owner.evidence.is_empty() {
        println!();
        print_wrapped("", &format!("The evidence: {}", owner.evidence));
    }
    if !owner.python.is_empty() {
        println!("\nIn Python, and the Rust here:");
        for t in &owner.python {
            print_wrapped("  Python: ", &t.python);
            print_wrapped("    Rust: ", &t.rust);
        }
    }
    if !owner.follow_ups.is_empty() {
        println!("\nFollow-ups:");
        for f in &owner.follow_ups {
            print_wrapped("  Q: ", &f.question);
            print_wrapped("  A: ", &f.answer);
        }
    }
}

/// Prints a lesson's report: claims, metrics and where its artefacts are.
pub fn print_report(report: &Report, dir: &Path) {
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
    for artefact in &report.artefacts {
        let location = match artefact.kind {
            catalogue::ArtefactKind::Endpoint => artefact.location.clone(),
            _ => dir.join(&artefact.location).display().to_string(),
        };
        println!("  {}: {location}", artefact.kind);
    }
}

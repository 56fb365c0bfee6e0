//! One module per command. Learner commands: [`list`], [`show`], [`run`], [`search`];
//! maintainer commands: [`dev`].

pub mod dev;
pub mod list;
pub mod run;
pub mod search;
pub mod show;

use std::path::Path;

use catalogue::Report;

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

//! `workbook gallery`: the workbook as static web pages in a folder — an index with thumbnails,
//! a page per ready topic (the answer, the latest report's claims and figures, the lesson's code),
//! a presenter view per topic and the crates each lesson uses — to open from disk or host anywhere.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

#[derive(clap::Args)]
pub struct Args {
    /// The folder to write the pages into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<ExitCode> {
    super::run::prepare_out(&args.out)?;
    let workbook = pages::Workbook::load()?;
    let (count, bytes) = workbook
        .write_gallery(&args.out)
        .with_context(|| format!("writing the gallery into {}", args.out.display()))?;
    let ran = workbook
        .catalogue()
        .ready_lessons()
        .iter()
        .filter(|l| workbook.report(l).is_some())
        .count();
    println!(
        "{count} pages ({:.1} MB) in {}; {ran} lessons have a report to show (run `workbook run --all --quick` for the others)",
        bytes as f64 / 1e6,
        args.out.join("index.html").display()
    );
    Ok(ExitCode::SUCCESS)
}

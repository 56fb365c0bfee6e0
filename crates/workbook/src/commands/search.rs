//! `workbook search`: topics ranked by the words of a query.

use std::process::ExitCode;

use anyhow::Result;
use catalogue::Catalogue;

#[derive(clap::Args)]
pub struct Args {
    /// Words to find in titles, questions, answers and hints.
    #[arg(required = true)]
    words: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let catalogue = Catalogue::load()?;
    let query = args.words.join(" ");
    let hits = catalogue.search(&query);
    if hits.is_empty() {
        println!("Nothing matches {query:?}. `workbook list` shows every topic.");
        return Ok(ExitCode::SUCCESS);
    }
    for (score, e) in hits.iter().take(10) {
        println!("{score:>3}  {:<32} {} — {}", e.id, e.title, e.question);
    }
    Ok(ExitCode::SUCCESS)
}

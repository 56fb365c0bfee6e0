//! `workbook quiz`: practise like rustlings, remember like Anki.
//!
//! Each ready topic is a card: its question and hint first; the reader types an answer (or skips),
//! then sees the answer in four parts and grades themself. Topics whose lesson reports numbers
//! also have predict-then-reveal cards: pick an option, then see the value measured on this
//! machine. Cards live in Leitner boxes ([`crate::progress`]); a session asks the cards that are
//! due first, then new ones. With input that is not a terminal the quiz reads one answer per
//! line, so it can be scripted and tested.

use std::io::{BufRead, IsTerminal, Write};
use std::process::{ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use catalogue::{Catalogue, Difficulty, Entry, Prediction, Report, Status};

use super::print_wrapped;
use super::run::{Mode, lesson_process};
use crate::progress::{self, Card, Grade, Progress};

#[derive(clap::Args)]
pub struct Args {
    /// Only this section's topics (its id or number).
    #[arg(long)]
    section: Option<String>,
    /// Only topics of this difficulty.
    #[arg(long, value_parser = ["basic", "intermediate", "advanced"])]
    level: Option<String>,
    /// How many cards this session.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    count: u16,
    /// Run a lesson (quick mode) when a prediction needs its report and there is none yet.
    #[arg(long)]
    run: bool,
    /// Print what is learnt and what is due, by section, and ask nothing.
    #[arg(long)]
    summary: bool,
}

/// One thing to ask: a topic's question, or one of its predictions.
enum Ask<'a> {
    Topic(&'a Entry),
    Predict {
        topic: &'a Entry,
        prediction: &'a Prediction,
        index: usize,
    },
}

impl Ask<'_> {
    /// The card's name in the progress file.
    fn key(&self) -> String {
        match self {
            Ask::Topic(e) => e.id.clone(),
            Ask::Predict { topic, index, .. } => format!("{}#predict{}", topic.id, index + 1),
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let catalogue = Catalogue::load()?;
    let section = match &args.section {
        Some(name) => Some(catalogue.section_named(name)?.id.clone()),
        None => None,
    };
    let level = args.level.as_deref().map(|l| match l {
        "basic" => Difficulty::Basic,
        "intermediate" => Difficulty::Intermediate,
        _ => Difficulty::Advanced,
    });
    let topics: Vec<&Entry> = catalogue
        .entries
        .iter()
        .filter(|e| e.status == Status::Ready)
        .filter(|e| section.as_ref().is_none_or(|s| &e.section == s))
        .filter(|e| level.is_none_or(|l| e.difficulty == l))
        .collect();
    if topics.is_empty() {
        bail!("no ready topic matches the section and level asked for");
    }
    let mut asks = Vec::new();
    for topic in &topics {
        asks.push(Ask::Topic(topic));
        if topic.id == topic.lesson {
            for (index, prediction) in topic.predictions.iter().enumerate() {
                asks.push(Ask::Predict {
                    topic,
                    prediction,
                    index,
                });
            }
        }
    }

    let mut progress = Progress::open(&progress::default_path()?)?;
    if let Some((backup, problem)) = progress.set_aside() {
        eprintln!(
            "note: the progress file could not be read ({problem}); it is kept as {} and the quiz starts afresh",
            backup.display()
        );
    }
    let today = progress::today();
    if args.summary {
        print_summary(&catalogue, &topics, &asks, &progress, today);
        return Ok(ExitCode::SUCCESS);
    }

    // Due cards first (the most overdue, then the lowest box), then cards never seen, in the
    // order of the topic map.
    let mut due: Vec<(&Ask, Card)> = asks
        .iter()
        .filter_map(|a| progress.card(&a.key()).map(|c| (a, c)))
        .filter(|(_, c)| c.due_day <= today)
        .collect();
    due.sort_by_key(|(_, c)| (c.due_day, c.level));
    let fresh = asks.iter().filter(|a| progress.card(&a.key()).is_none());
    let session: Vec<&Ask> = due
        .into_iter()
        .map(|(a, _)| a)
        .chain(fresh)
        .take(usize::from(args.count))
        .collect();
    if session.is_empty() {
        println!("Nothing is due today: every card in this selection was reviewed recently.");
        print_summary(&catalogue, &topics, &asks, &progress, today);
        return Ok(ExitCode::SUCCESS);
    }

    let mut input = Input::new();
    let mut graded: Vec<Grade> = Vec::new();
    for (number, ask) in session.iter().enumerate() {
        let label = format!("── {}/{} ", number + 1, session.len());
        println!(
            "\n{label}{}",
            "─".repeat(super::WIDTH - label.chars().count())
        );
        let grade = match ask {
            Ask::Topic(topic) => ask_topic(&catalogue, topic, &mut input)?,
            Ask::Predict {
                topic, prediction, ..
            } => ask_prediction(topic, prediction, args.run, &mut input)?,
        };
        match grade {
            Step::Graded(grade) => {
                let key = ask.key();
                let card = Card::reviewed(progress.card(&key), grade, today, progress::now_ms());
                progress.record(&key, card)?;
                graded.push(grade);
            }
            Step::Skipped => {}
            Step::Quit => break,
        }
    }
    let count = |g: Grade| graded.iter().filter(|&&x| x == g).count();
    println!();
    print_wrapped(
        "",
        &format!(
            "This session: {} card(s) graded — again {}, hard {}, good {}, easy {}. Progress: {}",
            graded.len(),
            count(Grade::Again),
            count(Grade::Hard),
            count(Grade::Good),
            count(Grade::Easy),
            progress.path().display()
        ),
    );
    Ok(ExitCode::SUCCESS)
}

/// What became of one card.
enum Step {
    Graded(Grade),
    Skipped,
    Quit,
}

fn ask_topic(catalogue: &Catalogue, topic: &Entry, input: &mut Input) -> Result<Step> {
    println!(
        "{} · {} ({})\n",
        topic.section, topic.title, topic.difficulty
    );
    print_wrapped("", &topic.question);
    println!();
    print_wrapped("", &format!("Hint: {}", topic.hint));
    match input.line("\nYour answer (Enter to skip to the answer, q to quit): ")? {
        None => return Ok(Step::Quit),
        Some(line) if line.trim() == "q" => return Ok(Step::Quit),
        Some(_) => {}
    }
    super::print_answer(catalogue, topic);
    loop {
        match input
            .line("\nHow did you do? again (a), hard (h), good (g), easy (e), q to quit: ")?
        {
            None => return Ok(Step::Quit),
            Some(line) if line.trim() == "q" => return Ok(Step::Quit),
            Some(line) => match Grade::parse(&line) {
                Some(grade) => return Ok(Step::Graded(grade)),
                None => println!("Please answer a, h, g or e."),
            },
        }
    }
}

fn ask_prediction(
    topic: &Entry,
    prediction: &Prediction,
    run_missing: bool,
    input: &mut Input,
) -> Result<Step> {
    let report_path = catalogue::default_out_dir(&topic.lesson).join("report.json");
    if !report_path.exists() {
        if !run_missing {
            println!(
                "Predict ({}): no report of the lesson yet — run `workbook run {} --quick`, or quiz with --run. Skipped.",
                topic.id, topic.id
            );
            return Ok(Step::Skipped);
        }
        println!("Running {} (quick) to measure the answer…", topic.lesson);
        let out = catalogue::default_out_dir(&topic.lesson);
        let status = lesson_process(&topic.lesson, Mode::Quick, None, &out)?
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .with_context(|| format!("could not start lesson {}", topic.lesson))?;
        if !status.success() {
            bail!(
                "lesson {} failed ({status}); `workbook run {}` shows why",
                topic.lesson,
                topic.id
            );
        }
    }
    let report = Report::read(&report_path)?;
    let measured = prediction.measured(&report).map_err(anyhow::Error::msg)?;
    let letters = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    println!("Predict · {} ({})\n", topic.title, topic.id);
    print_wrapped("", &prediction.question);
    println!();
    let choices: Vec<String> = prediction
        .options
        .iter()
        .zip(letters)
        .map(|(o, l)| format!("{l}) {}", amount(*o, &prediction.unit)))
        .collect();
    println!("  {}", choices.join("    "));
    let last = letters[prediction.options.len() - 1];
    let choice = loop {
        match input.line(&format!("\nYour prediction (a–{last}, q to quit): "))? {
            None => return Ok(Step::Quit),
            Some(line) if line.trim() == "q" => return Ok(Step::Quit),
            Some(line) => {
                let picked = line.trim().to_ascii_lowercase();
                match letters[..prediction.options.len()]
                    .iter()
                    .position(|l| picked == l.to_string())
                {
                    Some(i) => break i,
                    None => println!("Please answer with a letter from a to {last}."),
                }
            }
        }
    };
    let right = prediction.nearest_option(measured);
    println!();
    print_wrapped(
        "",
        &format!(
            "Measured on this machine: {} ({} mode, seed {}); the nearest option is {}) {}.",
            amount(measured, &prediction.unit),
            if report.quick { "quick" } else { "full" },
            report.seed,
            letters[right],
            amount(prediction.options[right], &prediction.unit)
        ),
    );
    if choice == right {
        println!("Right.");
        Ok(Step::Graded(Grade::Good))
    } else {
        println!(
            "Not this time: `workbook show {}` explains the number.",
            topic.id
        );
        Ok(Step::Graded(Grade::Again))
    }
}

/// A number with its unit: `5.67×`, `85%`, `10 ms`.
fn amount(v: f64, unit: &str) -> String {
    if unit == "×" || unit == "%" {
        format!("{}{unit}", number(v))
    } else {
        format!("{} {unit}", number(v))
    }
}

/// A number as a person writes it: 3 significant digits, no trailing zeros; below 0.01, in
/// scientific notation (`1e-7`, `2.5e-4`), which two decimals would print as 0.
fn number(v: f64) -> String {
    if v != 0.0 && v.abs() < 0.01 {
        let text = format!("{v:.1e}");
        text.replace(".0e", "e")
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}").trim_end_matches(".0").to_string()
    } else {
        let text = format!("{v:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn print_summary(
    catalogue: &Catalogue,
    topics: &[&Entry],
    asks: &[Ask],
    progress: &Progress,
    today: u64,
) {
    println!(
        "\n{:<12} {:>6} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>9}",
        "section", "cards", "new", "box 1", "box 2", "box 3", "box 4", "box 5", "due today"
    );
    for section in &catalogue.sections {
        let in_section: Vec<&Ask> = asks
            .iter()
            .filter(|a| match a {
                Ask::Topic(e) | Ask::Predict { topic: e, .. } => e.section == section.id,
            })
            .collect();
        if in_section.is_empty() {
            continue;
        }
        let cards: Vec<Option<Card>> = in_section.iter().map(|a| progress.card(&a.key())).collect();
        let in_box = |b: u8| cards.iter().flatten().filter(|c| c.level == b).count();
        println!(
            "{:<12} {:>6} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>9}",
            section.id,
            cards.len(),
            cards.iter().filter(|c| c.is_none()).count(),
            in_box(1),
            in_box(2),
            in_box(3),
            in_box(4),
            in_box(5),
            cards
                .iter()
                .flatten()
                .filter(|c| c.due_day <= today)
                .count()
        );
    }
    println!(
        "{} topic(s) selected; progress file {}",
        topics.len(),
        progress.path().display()
    );
}

/// Lines from standard input. At a terminal the prompt waits for the reader; from a pipe or a
/// file the prompt is still printed, so a transcript reads like a session.
struct Input {
    lines: std::io::Lines<std::io::StdinLock<'static>>,
    terminal: bool,
}

impl Input {
    fn new() -> Input {
        let stdin = std::io::stdin();
        Input {
            terminal: stdin.is_terminal(),
            lines: stdin.lock().lines(),
        }
    }

    /// The next line, or None at the end of the input.
    fn line(&mut self, prompt: &str) -> Result<Option<String>> {
        print!("{prompt}");
        std::io::stdout().flush().ok();
        let line = self
            .lines
            .next()
            .transpose()
            .context("reading the answer")?;
        if !self.terminal {
            // Echo what was read, so the transcript shows the answer after its prompt.
            println!("{}", line.as_deref().unwrap_or(""));
        }
        Ok(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_read_as_written_at_every_scale() {
        assert_eq!(number(30000.0), "30000");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(7.0), "7");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(1e-7), "1e-7");
        assert_eq!(number(2.5e-4), "2.5e-4");
        assert_eq!(number(0.0), "0");
        assert_eq!(amount(1e-10, "in probability"), "1e-10 in probability");
    }
}

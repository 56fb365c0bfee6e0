//! `workbook dev execute`: runs notebooks top to bottom in the evcxr kernel's REPL, as a reader
//! running every cell in order would, and reports for each whether its lesson finished with every
//! claim held, and how long it took.
//!
//! evcxr is not part of the build (`cargo install --locked evcxr_repl`, about nine minutes;
//! without `--locked` it does not build). A kernel compiles the notebook's dependencies; with
//! evcxr's build cache on (`:cache`, given to every session here) the first notebook compiles the
//! stack (a cold run) and the next ones reuse it (warm runs). Each notebook's full output goes to
//! `target/notebooks/<lesson>.log`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use catalogue::Catalogue;

#[derive(clap::Args)]
pub struct Args {
    /// The lessons whose notebooks to run (default: every ready lesson, or those of --section).
    lessons: Vec<String>,
    /// Only this section's notebooks (its id or number).
    #[arg(long)]
    section: Option<String>,
    /// Give up on a notebook after this many seconds (a cold kernel compiles its stack first).
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// The size of evcxr's build cache in MiB, shared by every session (`:cache`): the first
    /// notebook compiles the stack, the next ones reuse what they share.
    #[arg(long, default_value_t = 8000)]
    cache_mib: u64,
}

/// How one notebook ran.
struct Outcome {
    lesson: String,
    seconds: f64,
    /// `held/total` from the lesson's last line, if it got that far.
    claims: Option<(usize, usize)>,
    /// Errors the kernel reported for cells (a cell that failed to compile or returned an error),
    /// first lines only. A failed cell's claims are missing from the count, so the last line
    /// alone would not show it.
    cell_errors: Vec<String>,
    /// How many of the notebook's code cells ran to their end, of how many.
    cells_finished: usize,
    cells: usize,
    /// The first line of the first code cell that did not run to its end.
    unfinished: Option<String>,
    timed_out: bool,
}

impl Outcome {
    fn passed(&self) -> bool {
        !self.timed_out
            && self.cell_errors.is_empty()
            && self.unfinished.is_none()
            && self
                .claims
                .is_some_and(|(held, total)| held == total && total > 0)
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let catalogue = Catalogue::load()?;
    let evcxr = find_evcxr()?;
    let lessons: Vec<&str> = match (&args.lessons[..], &args.section) {
        ([], Some(section)) => catalogue.ready_lessons_in(section)?,
        ([], None) => catalogue.ready_lessons(),
        (named, _) => named
            .iter()
            .map(|name| catalogue.find(name).map(|e| e.lesson.as_str()))
            .collect::<Result<_, _>>()?,
    };
    let root = catalogue::workspace_root();
    let logs = root.join("target").join("notebooks");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let mut outcomes = Vec::new();
    for &lesson in &lessons {
        let notebook = root.join("notebooks").join(format!("{lesson}.ipynb"));
        let session = session_input(&notebook)?;
        let code = format!(":cache {}\n{}", args.cache_mib, session.input);
        let log = logs.join(format!("{lesson}.log"));
        print!("{lesson:<32} ");
        let _ = std::io::stdout().flush();
        let outcome = execute(
            &evcxr,
            lesson,
            &code,
            &root.join("notebooks"),
            &log,
            Duration::from_secs(args.timeout),
            &session.first_lines,
        )?;
        let verdict = match (outcome.passed(), outcome.timed_out, outcome.claims) {
            (true, _, Some((held, total))) => format!("passed, {held}/{total} claims held"),
            (_, true, _) => format!("timed out after {} s", args.timeout),
            _ if outcome.unfinished.is_some() || !outcome.cell_errors.is_empty() => {
                format!(
                    "FAILED, {}/{} cells finished",
                    outcome.cells_finished, outcome.cells
                )
            }
            (_, _, Some((held, total))) => format!("FAILED, {held}/{total} claims held"),
            _ => "FAILED before the lesson finished".to_string(),
        };
        println!(
            "{verdict:<36} {:>7.0} s  {}",
            outcome.seconds,
            log.display()
        );
        outcomes.push(outcome);
    }
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    let seconds: f64 = outcomes.iter().map(|o| o.seconds).sum();
    println!(
        "{passed}/{} notebooks ran to the end with every claim held, in {seconds:.0} s",
        outcomes.len()
    );
    for failed in outcomes.iter().filter(|o| !o.passed()) {
        println!("failed: {} (see its log)", failed.lesson);
        if let Some(cell) = &failed.unfinished {
            println!("    first cell that did not finish: {cell}");
        }
        for error in failed.cell_errors.iter().take(3) {
            println!("    {error}");
        }
    }
    Ok(if passed == outcomes.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// evcxr's REPL: `WORKBOOK_EVCXR`, else `evcxr` on the PATH; a clear error if neither runs.
fn find_evcxr() -> Result<PathBuf> {
    let program = std::env::var_os("WORKBOOK_EVCXR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("evcxr"));
    let runs = Command::new(&program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !runs {
        bail!(
            "{} does not run: install evcxr with `cargo install --locked evcxr_repl` (or set WORKBOOK_EVCXR)",
            program.display()
        );
    }
    Ok(program)
}

/// The line separator evcxr's REPL reads as a newline inside one input (`--disable-readline`).
const LINE_SEPARATOR: char = '\u{2028}';

/// What a code cell prints as its last statement, with its index: a cell that fails to compile or
/// returns an error early never prints it.
const FINISHED: &str = "workbook: finished cell";

/// A notebook as one REPL session's input, and the first line of each of its code cells.
struct Session {
    input: String,
    first_lines: Vec<String>,
}

/// The notebook's code cells, in order, as one REPL session's input: one line per cell, its own
/// lines joined by U+2028, so that the REPL evaluates each cell whole as a Jupyter kernel does
/// (and the top-level `let`s of a step stay for the next one). Each cell ends by printing
/// [`FINISHED`] and its index.
fn session_input(notebook: &Path) -> Result<Session> {
    let text = catalogue::read_text(notebook)?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a notebook", notebook.display()))?;
    let cells = json["cells"]
        .as_array()
        .with_context(|| format!("{} has no cells", notebook.display()))?;
    let code: Vec<String> = cells
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .map(|c| match &c["source"] {
            serde_json::Value::Array(lines) => lines.iter().filter_map(|l| l.as_str()).collect(),
            other => other.as_str().unwrap_or_default().to_string(),
        })
        .collect();
    if code.iter().any(|cell| cell.contains(LINE_SEPARATOR)) {
        bail!(
            "{} holds the character U+2028, which the REPL would read as a line break",
            notebook.display()
        );
    }
    let lines: Vec<String> = code
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            format!("{}\nprintln!(\"{FINISHED} {i}\");", cell.trim_end())
                .replace('\n', &LINE_SEPARATOR.to_string())
        })
        .collect();
    Ok(Session {
        input: lines.join("\n") + "\n",
        first_lines: code
            .iter()
            .map(|cell| cell.lines().next().unwrap_or_default().to_string())
            .collect(),
    })
}

/// How many cells printed their [`FINISHED`] line, and the first line of the first that did not.
fn finished_cells(output: &str, first_lines: &[String]) -> (usize, Option<String>) {
    let finished: std::collections::BTreeSet<usize> = output
        .lines()
        .filter_map(|line| line.trim().strip_prefix(FINISHED)?.trim().parse().ok())
        .collect();
    let unfinished = (0..first_lines.len())
        .find(|i| !finished.contains(i))
        .map(|i| format!("{} (cell {i})", first_lines[i]));
    (finished.len(), unfinished)
}

/// Runs one notebook's code through evcxr in `dir` (where its `:dep` paths point from), with its
/// output in `log`; the kernel's process group is killed if it outlives `timeout`.
fn execute(
    evcxr: &Path,
    lesson: &str,
    code: &str,
    dir: &Path,
    log: &Path,
    timeout: Duration,
    first_lines: &[String],
) -> Result<Outcome> {
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let mut command = Command::new(evcxr);
    // evcxr's own cargo profile turns debug assertions and overflow checks on for every crate,
    // which puts per-element index checks into ndarray's iterators (a Zip loop measured 3× slower
    // in the kernel, breaking vectorization_performance's claim). The workspace builds its
    // dependencies without them; cargo's profile variables say the same to the kernel's builds.
    command
        .env("CARGO_PROFILE_DEV_DEBUG_ASSERTIONS", "false")
        .env("CARGO_PROFILE_DEV_OVERFLOW_CHECKS", "false")
        .arg("--disable-readline")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::from(file.try_clone()?))
        .stderr(Stdio::from(file));
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", evcxr.display()))?;
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(code.as_bytes())
            .with_context(|| format!("giving {lesson}'s cells to evcxr"))?;
    }
    let mut timed_out = false;
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if started.elapsed() > timeout {
            // SAFETY: kill with a negative id signals the process group created for this kernel.
            unsafe {
                libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = child.wait();
            timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = std::fs::read_to_string(log).unwrap_or_default();
    let (cells_finished, unfinished) = finished_cells(&output, first_lines);
    Ok(Outcome {
        lesson: lesson.to_string(),
        seconds: started.elapsed().as_secs_f64(),
        claims: claims_held(&output),
        cell_errors: cell_errors(&output),
        cells_finished,
        cells: first_lines.len(),
        unfinished,
        timed_out,
    })
}

/// The first line of every error the kernel reported: a compile error (`error[E…]`, or evcxr's
/// own `[E…] Error:` rendering), a value it could not keep between cells, or an error a cell
/// returned (`Error: …`, which is also how a lesson's own failure prints). Colour codes are
/// stripped first.
fn cell_errors(output: &str) -> Vec<String> {
    const MARKERS: [&str; 5] = [
        "Error:",
        "error[E",
        "cannot be persisted",
        "can't be persisted",
        "Couldn't automatically determine",
    ];
    output
        .lines()
        .map(strip_colour)
        .filter(|line| !line.trim_start().starts_with("Compiling "))
        .filter(|line| MARKERS.iter().any(|m| line.contains(m)))
        .map(|line| line.trim().to_string())
        .collect()
}

/// A line without its ANSI colour codes (`ESC [ … m`).
fn strip_colour(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `held/total` of the last "N/M claims held" line a lesson printed (terminal colour codes
/// the kernel may add are skipped).
fn claims_held(output: &str) -> Option<(usize, usize)> {
    output.lines().rev().find_map(|line| {
        let (counts, _) = line.trim().split_once(" claims held")?;
        let counts = counts
            .rsplit(|c: char| !(c.is_ascii_digit() || c == '/'))
            .next()?;
        let (held, total) = counts.split_once('/')?;
        Some((held.parse().ok()?, total.parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_cell_is_one_line_of_the_session() {
        let dir = std::env::temp_dir().join(format!("workbook-execute-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let notebook = dir.join("demo.ipynb");
        let cells = serde_json::json!({"cells": [
            {"cell_type": "markdown", "source": ["# Title\n", "prose"]},
            {"cell_type": "code", "source": [":opt 2\n", ":dep x = \"1\""]},
            {"cell_type": "code", "source": "let a = 1;\nlet b = a + 1;\n"},
        ]});
        std::fs::write(&notebook, cells.to_string()).unwrap();
        let session = session_input(&notebook).unwrap();
        assert_eq!(
            session.input,
            ":opt 2\u{2028}:dep x = \"1\"\u{2028}println!(\"workbook: finished cell 0\");\nlet a = 1;\u{2028}let b = a + 1;\u{2028}println!(\"workbook: finished cell 1\");\n"
        );
        assert_eq!(session.first_lines, [":opt 2", "let a = 1;"]);
        let output = "workbook: finished cell 0\nsomething failed\n";
        assert_eq!(
            finished_cells(output, &session.first_lines),
            (1, Some("let a = 1; (cell 1)".to_string()))
        );
        let broken = dir.join("broken.ipynb");
        let cells = serde_json::json!({"cells": [{"cell_type": "code", "source": "let s = \"\u{2028}\";"}]});
        std::fs::write(&broken, cells.to_string()).unwrap();
        assert!(session_input(&broken).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_cell_error_is_found_past_colour_codes() {
        let output = "a =\n[1, 2]\n\x1b[91mThe variable `naturals` has type `FromFn<…>` which cannot be persisted.\x1b[0m\n\x1b[31m[E0425] Error:\x1b[0m cannot find value `x`\n1/1 claims held in 1 s\n";
        let errors = cell_errors(output);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[1].starts_with("[E0425] Error:"));
        assert!(cell_errors("   Compiling error-chain v0.12.4\n2/2 claims held\n").is_empty());
    }

    #[test]
    fn the_last_claims_line_decides() {
        let output = "noise\n2/3 claims held in 1.0 s; report: x\nmore\n\x1b[0m3/3 claims held in 2.00 s; report: y\n";
        assert_eq!(claims_held(output), Some((3, 3)));
        assert_eq!(claims_held("error[E0425]: cannot find value"), None);
    }
}

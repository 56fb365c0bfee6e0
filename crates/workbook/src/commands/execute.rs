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
    timed_out: bool,
}

impl Outcome {
    fn passed(&self) -> bool {
        !self.timed_out
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
        let code = format!(":cache {}\n{}", args.cache_mib, code_cells(&notebook)?);
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
        )?;
        let verdict = match (outcome.passed(), outcome.timed_out, outcome.claims) {
            (true, _, Some((held, total))) => format!("passed, {held}/{total} claims held"),
            (_, true, _) => format!("timed out after {} s", args.timeout),
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

/// The notebook's code cells, in order, as one REPL session's input.
fn code_cells(notebook: &Path) -> Result<String> {
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
    Ok(code.join("\n\n") + "\n")
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
    Ok(Outcome {
        lesson: lesson.to_string(),
        seconds: started.elapsed().as_secs_f64(),
        claims: claims_held(&output),
        timed_out,
    })
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
    fn the_last_claims_line_decides() {
        let output = "noise\n2/3 claims held in 1.0 s; report: x\nmore\n\x1b[0m3/3 claims held in 2.00 s; report: y\n";
        assert_eq!(claims_held(output), Some((3, 3)));
        assert_eq!(claims_held("error[E0425]: cannot find value"), None);
    }
}

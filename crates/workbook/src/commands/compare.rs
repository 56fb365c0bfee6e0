//! `workbook compare`: the Rust answers timed against the Python tools they replace, side by side.
//!
//! The Rust side is the `head-to-head` binary, built here in the release profile (what a shipped
//! binary is built in; the lessons' dev profile keeps debug assertions in the project's code). It
//! lists the tasks and writes their inputs; `python/head_to_head.py` reads the same files. Each
//! task runs in rounds, each running both sides once in their own processes with the same thread
//! count, the first side alternating between rounds; the two answers are checked against each
//! other in every round, and the best times over all rounds give the ratio. Each round's own
//! ratio is kept too: how far they spread is how far one run of the table can be trusted. The
//! table is printed and saved under `target/workbook/compare/`; `--all` also records it in
//! `benches/head_to_head.json` and regenerates the README's table from it.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use catalogue::comparison::{self, Comparison, Outcome, Round, Row, Task};

#[derive(clap::Args)]
pub struct Args {
    /// A task (random_forest, matmul, …) or a topic whose tasks to run (forest_vs_boosting, …).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    what: Option<String>,
    /// Every task; also records the table in benches/head_to_head.json and the README.
    #[arg(long)]
    all: bool,
    /// Threads on each side.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    threads: u16,
    /// Timed runs per task, side and round, after one untimed run; the best counts.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    repeats: u16,
    /// Rounds per task: each starts both sides afresh, alternating which goes first.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    rounds: u16,
    /// The seed of the synthetic inputs.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// The Python interpreter that has the packages of python/requirements.txt.
    #[arg(long, default_value = "python3")]
    python: PathBuf,
}

/// What to install, in one line, for a machine without the Python side.
const INSTALL: &str = "pip install -r python/requirements.txt";

pub fn run(args: Args) -> Result<ExitCode> {
    let root = catalogue::workspace_root();
    let python = PythonSide::find(&root, &args.python)?;
    let threads = usize::from(args.threads);
    let rust = RustSide::build(&root, threads)?;
    let tasks = select(&rust.tasks()?, args.what.as_deref())?;
    let out = root.join("target").join("workbook").join("compare");
    let data = out.join(format!("data-seed-{}", args.seed));
    eprintln!("writing the inputs to {}", data.display());
    rust.prepare(&data, args.seed)?;
    let mut rows = Vec::new();
    for task in tasks {
        eprintln!("{}: {} ({}) …", task.name, task.title, task.size);
        let mut rounds = Vec::new();
        for number in 0..args.rounds {
            // The side that runs first meets a machine the other side has not just warmed or
            // heated; alternating spreads that over both.
            let (rust_outcome, python_outcome) = if number % 2 == 0 {
                let rust_outcome = rust.run(&task, &data, args.repeats)?;
                (
                    rust_outcome,
                    python.run(&task, &data, args.repeats, threads)?,
                )
            } else {
                let python_outcome = python.run(&task, &data, args.repeats, threads)?;
                (rust.run(&task, &data, args.repeats)?, python_outcome)
            };
            rounds.push(Round {
                rust: rust_outcome,
                python: python_outcome,
            });
        }
        let row = Row::new(task, rounds).context("a task ran no round")?;
        eprintln!("  {}", summary(&row));
        rows.push(row);
    }
    let record = Comparison {
        recorded: today(),
        machine: machine(),
        threads,
        repeats: usize::from(args.repeats),
        rounds: usize::from(args.rounds),
        seed: args.seed,
        rust: format!("{}, release profile, {}", rustc_version(), rust.about()?),
        python: python.versions,
        rows,
    };
    let table = record.markdown();
    println!("\n{table}");
    let json = serde_json::to_string_pretty(&record)? + "\n";
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    catalogue::write_atomically(&out.join("latest.json"), &json)?;
    catalogue::write_atomically(&out.join("latest.md"), &table)?;
    println!("Saved in {}", out.join("latest.json").display());
    if args.all {
        catalogue::write_atomically(&root.join(comparison::RECORD), &json)?;
        let readme_path = root.join("README.md");
        let readme = catalogue::read_text(&readme_path)?;
        let fresh = comparison::readme_with_table(&readme, Some(&record))
            .map_err(|message| anyhow::anyhow!("README.md: {message}"))?;
        catalogue::write_atomically(&readme_path, fresh)?;
        println!("Recorded in {} and the README's table", comparison::RECORD);
    }
    let disagreeing: Vec<&str> = record
        .rows
        .iter()
        .filter(|r| !r.agrees())
        .map(|r| r.task.name.as_ref())
        .collect();
    if !disagreeing.is_empty() {
        bail!(
            "the two sides' answers disagree on {} (see the table)",
            disagreeing.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The tasks `what` names: one task by name, a topic's tasks, or all of them (`None`).
fn select(tasks: &[Task], what: Option<&str>) -> Result<Vec<Task>> {
    let Some(what) = what else {
        return Ok(tasks.to_vec());
    };
    let chosen: Vec<Task> = tasks
        .iter()
        .filter(|t| t.name == what || t.topic == what)
        .cloned()
        .collect();
    if chosen.is_empty() {
        let mut names: Vec<&str> = tasks
            .iter()
            .flat_map(|t| [t.name.as_ref(), t.topic.as_ref()])
            .collect();
        names.sort();
        names.dedup();
        bail!(
            "no head-to-head task or topic named {what:?}; choose from {}",
            names.join(", ")
        );
    }
    Ok(chosen)
}

/// One line per finished row: both times, the ratio and the parity checks.
fn summary(row: &Row) -> String {
    let checks = row
        .checks
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    format!(
        "Python {} / Rust {} = {:.2}× (rounds {}){}; {checks}",
        comparison::format_seconds(row.python.best()),
        comparison::format_seconds(row.rust.best()),
        row.ratio(),
        row.round_range(),
        if row.ratio() >= row.task.target_ratio {
            String::new()
        } else {
            format!(" (below the target {:.1}×)", row.task.target_ratio)
        }
    )
}

/// The `head-to-head` binary, built in the release profile, and the threads it runs on.
struct RustSide {
    binary: PathBuf,
    threads: usize,
}

impl RustSide {
    fn build(root: &Path, threads: usize) -> Result<RustSide> {
        eprintln!(
            "building the Rust side (head-to-head) in the release profile; the first build \
             compiles polars, linfa and faer once more (about twenty minutes on 2 cores)"
        );
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(root)
            .args(["build", "--quiet", "--release", "-p", "head-to-head"])
            .status()
            .context("could not start cargo")?;
        if !status.success() {
            bail!("building head-to-head failed ({status})");
        }
        let binary = root
            .join("target")
            .join("release")
            .join(format!("head-to-head{}", std::env::consts::EXE_SUFFIX));
        Ok(RustSide { binary, threads })
    }

    /// What the binary prints for `args`. polars sizes its pool from POLARS_MAX_THREADS when it
    /// starts, so every run of the binary is given the thread count.
    fn output(&self, args: &[&str]) -> Result<String> {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env("POLARS_MAX_THREADS", self.threads.to_string())
            .stderr(Stdio::inherit());
        stdout_of(command, "head-to-head")
    }

    fn tasks(&self) -> Result<Vec<Task>> {
        let text = self.output(&["tasks"])?;
        serde_json::from_str(&text).context("head-to-head listed its tasks in an unknown shape")
    }

    fn about(&self) -> Result<String> {
        Ok(self.output(&["about"])?.trim().to_string())
    }

    fn prepare(&self, data: &Path, seed: u64) -> Result<()> {
        let data = data.to_string_lossy();
        self.output(&["prepare", "--data", &data, "--seed", &seed.to_string()])
            .map(drop)
    }

    fn run(&self, task: &Task, data: &Path, repeats: u16) -> Result<Outcome> {
        let data = data.to_string_lossy();
        let (repeats, thread_count) = (repeats.to_string(), self.threads.to_string());
        let args = [
            "run",
            task.name.as_ref(),
            "--data",
            &data,
            "--repeats",
            &repeats,
            "--threads",
            &thread_count,
        ];
        let text = self.output(&args)?;
        serde_json::from_str(&text)
            .with_context(|| format!("head-to-head's outcome of {}", task.name))
    }
}

/// `python/head_to_head.py` under an interpreter that has the pinned packages.
struct PythonSide {
    interpreter: PathBuf,
    script: PathBuf,
    versions: std::collections::BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
struct Versions {
    versions: std::collections::BTreeMap<String, String>,
    missing: Vec<String>,
}

impl PythonSide {
    /// Checks the interpreter and its packages, before anything is built.
    fn find(root: &Path, interpreter: &Path) -> Result<PythonSide> {
        let script = root.join("python").join("head_to_head.py");
        let mut command = Command::new(interpreter);
        command.arg(&script).arg("versions");
        let output = match command.output() {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "{} was not found: install Python 3 (3.11 is what the table was measured with), \
                 then `{INSTALL}`, or name an interpreter with --python",
                interpreter.display()
            ),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("could not start {}", interpreter.display()));
            }
        };
        let report: Versions = serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "{} could not run python/head_to_head.py: {}",
                interpreter.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )
        })?;
        if !report.missing.is_empty() {
            bail!(
                "the Python side lacks {}: `{INSTALL}`",
                report.missing.join(", ")
            );
        }
        Ok(PythonSide {
            interpreter: interpreter.to_path_buf(),
            script,
            versions: report.versions,
        })
    }

    fn run(&self, task: &Task, data: &Path, repeats: u16, threads: usize) -> Result<Outcome> {
        let mut command = Command::new(&self.interpreter);
        command
            .arg(&self.script)
            .args(["run", task.name.as_ref(), "--data"])
            .arg(data)
            .args([
                "--repeats",
                &repeats.to_string(),
                "--threads",
                &threads.to_string(),
            ])
            .stderr(Stdio::inherit());
        let text = stdout_of(command, "python/head_to_head.py")?;
        serde_json::from_str(&text).with_context(|| format!("the Python outcome of {}", task.name))
    }
}

/// Runs `command` to the end and returns what it printed, or an error naming `what`.
fn stdout_of(mut command: Command, what: &str) -> Result<String> {
    let output = command
        .stdout(Stdio::piped())
        .output()
        .with_context(|| format!("could not start {what}"))?;
    if !output.status.success() {
        bail!("{what} failed ({})", output.status);
    }
    String::from_utf8(output.stdout)
        .with_context(|| format!("{what} printed text that is not UTF-8"))
}

/// `rustc --version`, or "rustc" when it cannot be asked.
fn rustc_version() -> String {
    Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "rustc".to_string())
}

/// The processor's name and the number of cores, as the table's reader needs them.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    format!("{model}, {cores} cores")
}

/// Today's date in UTC as `YYYY-MM-DD`: the quiz's day count turned into the civil calendar.
fn today() -> String {
    let days = i64::try_from(crate::progress::today()).unwrap_or(i64::MAX);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date of a day counted from 1970-01-01, by eras of 400 years.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_dates_across_leap_years_and_centuries() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(20_787), (2026, 11, 30));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    fn task(name: &'static str, topic: &'static str) -> Task {
        Task {
            name: name.into(),
            topic: topic.into(),
            title: name.into(),
            size: "".into(),
            target_ratio: 1.0,
            parity: Vec::new().into(),
        }
    }

    #[test]
    fn a_task_or_a_topic_selects_rows_and_anything_else_lists_the_choices() {
        let tasks = [
            task("random_forest", "forest_vs_boosting"),
            task("gradient_boosting", "forest_vs_boosting"),
            task("matmul", "linear_algebra"),
        ];
        assert_eq!(select(&tasks, Some("matmul")).unwrap().len(), 1);
        assert_eq!(select(&tasks, Some("forest_vs_boosting")).unwrap().len(), 2);
        assert_eq!(select(&tasks, None).unwrap().len(), 3);
        let error = select(&tasks, Some("svm")).unwrap_err().to_string();
        assert_eq!(
            error,
            "no head-to-head task or topic named \"svm\"; choose from forest_vs_boosting, gradient_boosting, linear_algebra, matmul, random_forest"
        );
    }
}

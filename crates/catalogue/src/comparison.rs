//! The head-to-head table: the tasks `workbook compare` times on both sides, the record of a run,
//! and the README's performance table generated from the last recorded `workbook compare --all`.
//!
//! The tasks themselves are listed by the Rust side (the `head-to-head` binary prints them as
//! [`Task`]s), so their names, sizes and parity rules have one source; this module is the shape
//! the CLI, the record and the README share.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The markers around the generated performance table in README.md.
pub const TABLE_START: &str = "<!-- head-to-head:start (generated from benches/head_to_head.json, which `workbook compare --all` writes; do not edit) -->";
pub const TABLE_END: &str = "<!-- head-to-head:end -->";

/// The committed record of the last `workbook compare --all`, relative to the workspace root.
pub const RECORD: &str = "benches/head_to_head.json";

/// How closely a number must agree between the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "within")]
pub enum Tolerance {
    /// The same value (counts).
    Exact,
    /// `|rust − python| ≤ within`.
    Absolute(f64),
    /// `|rust − python| ≤ within × |python|`.
    Relative(f64),
}

impl Tolerance {
    /// Whether `rust` and `python` agree within this tolerance (a NaN never does).
    pub fn accepts(self, rust: f64, python: f64) -> bool {
        let gap = (rust - python).abs();
        match self {
            Tolerance::Exact => rust == python,
            Tolerance::Absolute(within) => gap <= within,
            Tolerance::Relative(within) => gap <= within * python.abs(),
        }
    }
}

impl std::fmt::Display for Tolerance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tolerance::Exact => write!(f, "equal"),
            Tolerance::Absolute(within) => write!(f, "within {within}"),
            Tolerance::Relative(within) => write!(f, "within {within:e} relative"),
        }
    }
}

/// One number both sides report and the tolerance they must agree within.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parity {
    pub metric: Cow<'static, str>,
    pub tolerance: Tolerance,
}

/// A row of the head-to-head table, as the Rust side lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The name both sides know the task by.
    pub name: Cow<'static, str>,
    /// The catalogue topic whose lesson answers it (`workbook compare <topic>` runs its rows).
    pub topic: Cow<'static, str>,
    pub title: Cow<'static, str>,
    /// The data, in words.
    pub size: Cow<'static, str>,
    /// The Python / Rust time ratio the row must reach to count as won.
    pub target_ratio: f64,
    pub parity: Cow<'static, [Parity]>,
}

/// What one side measured for one task: its own line of JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub task: String,
    /// The library and settings, as a reader of the table needs them.
    pub tool: String,
    pub threads: usize,
    /// Every timed run in seconds (after one untimed run that warmed caches and the allocator).
    pub seconds: Vec<f64>,
    /// The numbers the parity check compares, and others worth reading.
    pub metrics: BTreeMap<String, f64>,
}

impl Outcome {
    /// The fastest timed run, in seconds.
    pub fn best(&self) -> f64 {
        self.seconds.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// Python's best time over Rust's: above 1, Rust is faster.
fn speedup(rust: &Outcome, python: &Outcome) -> f64 {
    python.best() / rust.best()
}

/// One parity check of a recorded row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub metric: String,
    pub tolerance: Tolerance,
    pub rust: Option<f64>,
    pub python: Option<f64>,
}

impl Check {
    /// Both sides reported the number, and they agree within the tolerance.
    pub fn holds(&self) -> bool {
        match (self.rust, self.python) {
            (Some(rust), Some(python)) => self.tolerance.accepts(rust, python),
            _ => false,
        }
    }
}

/// `metric python / rust ✓` (or `✗`), as the table and the command's progress show a check.
impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} / {} {}",
            self.metric,
            format_metric(self.python),
            format_metric(self.rust),
            if self.holds() { "✓" } else { "✗" }
        )
    }
}

/// Both sides' outcomes of one round: each side run once, in its own process.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    pub rust: Outcome,
    pub python: Outcome,
}

impl Round {
    /// Each parity check of `task` on this round's answers.
    fn checks(&self, task: &Task) -> Vec<Check> {
        task.parity
            .iter()
            .map(|p| Check {
                metric: p.metric.to_string(),
                tolerance: p.tolerance,
                rust: self.rust.metrics.get(p.metric.as_ref()).copied(),
                python: self.python.metrics.get(p.metric.as_ref()).copied(),
            })
            .collect()
    }
}

/// A recorded row: the task, both sides' outcomes over every round, and the parity checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub task: Task,
    /// Every timed run of every round, and the answers of the round whose checks are shown.
    pub rust: Outcome,
    pub python: Outcome,
    /// Python's best over Rust's best in each round, in the order the rounds ran: how far the
    /// ratio moves between processes on the same machine.
    pub round_ratios: Vec<f64>,
    /// The checks of the first round whose answers disagree, or of the last round when all agree.
    pub checks: Vec<Check>,
}

impl Row {
    /// Compares the rounds of `task`; `None` when there is no round.
    pub fn new(task: Task, rounds: Vec<Round>) -> Option<Row> {
        let last = rounds.len().checked_sub(1)?;
        let round_ratios = rounds.iter().map(|r| speedup(&r.rust, &r.python)).collect();
        let checked: Vec<Vec<Check>> = rounds.iter().map(|r| r.checks(&task)).collect();
        let shown = checked
            .iter()
            .position(|checks| !checks.iter().all(Check::holds))
            .unwrap_or(last);
        let checks = checked[shown].clone();
        let (mut rust, mut python) = (rounds[shown].rust.clone(), rounds[shown].python.clone());
        rust.seconds = rounds.iter().flat_map(|r| r.rust.seconds.clone()).collect();
        python.seconds = rounds
            .iter()
            .flat_map(|r| r.python.seconds.clone())
            .collect();
        Some(Row {
            task,
            rust,
            python,
            round_ratios,
            checks,
        })
    }

    /// Python's best time over Rust's, each over every round: above 1, Rust is faster.
    pub fn ratio(&self) -> f64 {
        speedup(&self.rust, &self.python)
    }

    /// The lowest and the highest ratio of a single round.
    pub fn round_spread(&self) -> (f64, f64) {
        self.round_ratios
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), &r| {
                (low.min(r), high.max(r))
            })
    }

    /// The spread of the single rounds' ratios as the table and the progress lines print it.
    pub fn round_range(&self) -> String {
        let (low, high) = self.round_spread();
        format!("{low:.2}–{high:.2}")
    }

    /// Every parity check holds (in every round: the checks shown are a failing round's if any).
    pub fn agrees(&self) -> bool {
        self.checks.iter().all(Check::holds)
    }

    /// The answers agree and Rust reaches the row's target ratio.
    pub fn won(&self) -> bool {
        self.agrees() && self.ratio() >= self.task.target_ratio
    }
}

/// A recorded `workbook compare` run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The day of the run (UTC, `YYYY-MM-DD`).
    pub recorded: String,
    /// The processor and the number of cores the machine has.
    pub machine: String,
    pub threads: usize,
    /// Timed runs per side in each round.
    pub repeats: usize,
    /// Rounds per task; each runs both sides once, alternating which side goes first.
    pub rounds: usize,
    pub seed: u64,
    /// The Rust toolchain and profile, and the allocator the binary runs on.
    pub rust: String,
    /// Python's version and each pinned package's installed version.
    pub python: BTreeMap<String, String>,
    pub rows: Vec<Row>,
}

/// A duration in the unit a reader takes in at a glance.
pub fn format_seconds(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else if seconds >= 1e-3 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{:.0} µs", seconds * 1e6)
    }
}

/// A reported number, short: integers whole, others to six significant digits without trailing
/// zeros (0.9418, 71326.2, 2584454).
fn format_metric(value: Option<f64>) -> String {
    match value {
        None => "—".to_string(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) => {
            let whole_digits = if v.abs() >= 1.0 {
                v.abs().log10().floor() as usize + 1
            } else {
                0
            };
            let text = format!("{v:.*}", 6usize.saturating_sub(whole_digits));
            match text.contains('.') {
                true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
                false => text,
            }
        }
    }
}

impl Comparison {
    /// The markdown table the README shows: one line of conditions, then a row per task.
    pub fn markdown(&self) -> String {
        let versions = self
            .python
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut text = format!(
            "Recorded {} by `workbook compare --all` on {}: {} threads on each side; {} rounds, \
             each running both sides in their own processes (alternating which goes first), {} \
             timed runs a side and round after one warm-up; the ratio is of the best runs, and \
             the range in brackets is the lowest and highest ratio of a single round. Data from \
             seed {}. Rust: {}. Python: {}.\n\n",
            self.recorded,
            self.machine,
            self.threads,
            self.rounds,
            self.repeats,
            self.seed,
            self.rust,
            versions
        );
        text.push_str("| task | data | Python | Rust | Python / Rust | answers agree |\n");
        text.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for row in &self.rows {
            let agreement = row
                .checks
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            let ratio = format!("{:.2}×", row.ratio());
            let spread = format!("({})", row.round_range());
            text.push_str(&format!(
                "| {} | {} | {}: {} | {}: {} | {} | {} |\n",
                row.task.title,
                row.task.size,
                row.python.tool,
                format_seconds(row.python.best()),
                row.rust.tool,
                format_seconds(row.rust.best()),
                if row.won() {
                    format!("**{ratio}** {spread}")
                } else {
                    format!("{ratio} {spread}, target {:.1}×", row.task.target_ratio)
                },
                agreement
            ));
        }
        text
    }
}

/// The README with its performance table regenerated from `record` (none yet: a line saying so).
pub fn readme_with_table(readme: &str, record: Option<&Comparison>) -> Result<String, String> {
    let table = match record {
        Some(comparison) => comparison.markdown(),
        None => "No comparison is recorded yet: run `cargo run -- compare --all`.\n".to_string(),
    };
    crate::generate::splice(readme, TABLE_START, TABLE_END, &table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(task: &str, seconds: &[f64], accuracy: f64) -> Outcome {
        Outcome {
            task: task.to_string(),
            tool: "tool".to_string(),
            threads: 2,
            seconds: seconds.to_vec(),
            metrics: BTreeMap::from([("accuracy".to_string(), accuracy)]),
        }
    }

    fn task() -> Task {
        Task {
            name: "forest".into(),
            topic: "forest_vs_boosting".into(),
            title: "a forest".into(),
            size: "small".into(),
            target_ratio: 1.0,
            parity: vec![Parity {
                metric: "accuracy".into(),
                tolerance: Tolerance::Absolute(0.015),
            }]
            .into(),
        }
    }

    fn round(rust: Outcome, python: Outcome) -> Round {
        Round { rust, python }
    }

    fn row(rounds: Vec<Round>) -> Row {
        Row::new(task(), rounds).expect("at least one round")
    }

    #[test]
    fn a_row_is_won_only_when_faster_and_in_agreement() {
        let fast = row(vec![round(
            outcome("forest", &[0.6, 0.5], 0.94),
            outcome("forest", &[2.0, 1.5], 0.945),
        )]);
        assert_eq!(fast.ratio(), 3.0, "best of each side: 1.5 / 0.5");
        assert!(fast.won());
        let wrong = row(vec![round(
            outcome("forest", &[0.5], 0.90),
            outcome("forest", &[1.5], 0.945),
        )]);
        assert!(
            !wrong.agrees() && !wrong.won(),
            "0.045 apart is outside 0.015"
        );
        let slow = row(vec![round(
            outcome("forest", &[2.0], 0.94),
            outcome("forest", &[1.5], 0.94),
        )]);
        assert!(slow.agrees() && !slow.won(), "0.75× misses the target");
        assert!(Row::new(task(), Vec::new()).is_none());
    }

    #[test]
    fn rounds_pool_their_runs_and_keep_each_round_ratio() {
        let pooled = row(vec![
            round(
                outcome("forest", &[1.0, 1.25], 0.94),
                outcome("forest", &[1.5], 0.94),
            ),
            round(
                outcome("forest", &[2.0], 0.94),
                outcome("forest", &[0.75, 1.0], 0.94),
            ),
        ]);
        assert_eq!(pooled.rust.seconds, [1.0, 1.25, 2.0]);
        assert_eq!(pooled.python.seconds, [1.5, 0.75, 1.0]);
        assert_eq!(pooled.round_ratios, [1.5, 0.375]);
        assert_eq!(pooled.round_spread(), (0.375, 1.5));
        assert_eq!(
            pooled.ratio(),
            0.75,
            "the best runs of all rounds: 0.75 / 1.0"
        );
        assert!(!pooled.won(), "won in one round, lost over both");
    }

    #[test]
    fn a_round_that_disagrees_is_the_one_shown_and_loses_the_row() {
        let flaky = row(vec![
            round(
                outcome("forest", &[0.5], 0.94),
                outcome("forest", &[1.5], 0.94),
            ),
            round(
                outcome("forest", &[0.5], 0.90),
                outcome("forest", &[1.5], 0.94),
            ),
            round(
                outcome("forest", &[0.5], 0.94),
                outcome("forest", &[1.5], 0.94),
            ),
        ]);
        assert!(!flaky.agrees() && !flaky.won());
        assert_eq!(flaky.checks[0].rust, Some(0.90));
        assert_eq!(flaky.rust.metrics["accuracy"], 0.90);
    }

    #[test]
    fn a_metric_one_side_does_not_report_fails_its_check() {
        let mut python = outcome("forest", &[1.0], 0.94);
        python.metrics.clear();
        let row = row(vec![round(outcome("forest", &[0.5], 0.94), python)]);
        assert!(!row.agrees());
    }

    #[test]
    fn tolerances_accept_and_refuse_at_their_edges() {
        assert!(Tolerance::Exact.accepts(185.0, 185.0));
        assert!(!Tolerance::Exact.accepts(185.0, 186.0));
        assert!(Tolerance::Relative(1e-9).accepts(1.0 + 5e-10, 1.0));
        assert!(!Tolerance::Relative(1e-9).accepts(1.0 + 2e-9, 1.0));
        assert!(!Tolerance::Absolute(1.0).accepts(f64::NAN, 0.0));
    }

    #[test]
    fn the_table_names_both_tools_times_and_the_verdict() {
        let row = row(vec![
            round(
                outcome("forest", &[0.5], 0.94),
                outcome("forest", &[1.5], 0.945),
            ),
            round(
                outcome("forest", &[0.6], 0.94),
                outcome("forest", &[1.56], 0.945),
            ),
        ]);
        let comparison = Comparison {
            recorded: "2026-11-30".into(),
            machine: "a machine".into(),
            threads: 2,
            repeats: 5,
            rounds: 2,
            seed: 7,
            rust: "rustc".into(),
            python: BTreeMap::from([("numpy".to_string(), "2.4.6".to_string())]),
            rows: vec![row],
        };
        let table = comparison.markdown();
        assert!(table.contains("| a forest | small | tool: 1.50 s | tool: 500.0 ms | **3.00×** (2.60–3.00) | accuracy 0.945 / 0.94 ✓ |"), "{table}");
        assert_eq!(format_metric(Some(71326.21684935903)), "71326.2");
        assert_eq!(format_metric(Some(2584453.917030165)), "2584454");
        assert_eq!(format_metric(Some(0.33147899382933854)), "0.331479");
        assert_eq!(format_metric(Some(185.0)), "185");
        let readme = format!("intro\n{TABLE_START}\nold\n{TABLE_END}\nrest\n");
        let fresh = readme_with_table(&readme, Some(&comparison)).unwrap();
        assert!(
            fresh.contains("numpy 2.4.6") && !fresh.contains("old") && fresh.ends_with("rest\n")
        );
    }
}

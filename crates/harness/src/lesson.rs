//! The lesson harness: common flags, claims, metrics, figures and the JSON report.
//!
//! A lesson builds a [`Lesson`] from its parsed [`LessonArgs`], records what it measures, and ends
//! with [`Lesson::finish`], which writes `report.json` and turns any claim that did not hold into an
//! error. The report is the contract that the CLI, the tests and later tools read.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::Error;

/// The flags every lesson accepts. Lessons call `LessonArgs::parse()` (from `clap::Parser`).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    about = "A workbook lesson: measures its answer, prints the evidence and checks its claims"
)]
pub struct LessonArgs {
    /// Small data and few repetitions: finishes in a few seconds (what the tests run).
    #[arg(long)]
    pub quick: bool,
    /// Seed for every random generator the lesson uses.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Folder for the report and figures [default: target/workbook/<lesson>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// One statement a lesson measured, whether it held, and the evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claim {
    /// The statement, as a reader would say it.
    pub claim: String,
    /// Whether the measurement supports it.
    pub holds: bool,
    /// The evidence in words, with the numbers that decided it.
    pub evidence: String,
    /// The same numbers by name, for tools.
    #[serde(default)]
    pub values: BTreeMap<String, f64>,
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.holds { "holds" } else { "FAILS" };
        write!(f, "[{mark}] {} — {}", self.claim, self.evidence)
    }
}

/// How the lesson binary was compiled; timings mean little without it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BuildInfo {
    /// `debug` or `release` (whether debug assertions were on).
    pub profile: String,
    /// Number of logical CPUs the lesson saw.
    pub cpus: usize,
}

/// The report a lesson writes to `<out>/report.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub lesson: String,
    pub quick: bool,
    pub seed: u64,
    pub claims: Vec<Claim>,
    pub metrics: BTreeMap<String, f64>,
    /// File names, relative to the report's folder.
    pub figures: Vec<String>,
    pub build: BuildInfo,
    pub duration_s: f64,
}

impl Report {
    /// Reads a report written by a lesson.
    pub fn read(path: &Path) -> Result<Report, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::Report {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// The claims that did not hold.
    pub fn failed(&self) -> impl Iterator<Item = &Claim> {
        self.claims.iter().filter(|c| !c.holds)
    }
}

/// The default output folder of a lesson: `target/workbook/<lesson>` in this workspace.
pub fn default_out_dir(lesson: &str) -> PathBuf {
    crate::workspace_root()
        .join("target")
        .join("workbook")
        .join(lesson)
}

/// Lower-case words of `text` joined by underscores: "faer, 1 thread" → "faer_1_thread".
pub fn snake_case(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// A running lesson.
pub struct Lesson {
    name: String,
    args: LessonArgs,
    out: PathBuf,
    started: Instant,
    claims: Vec<Claim>,
    metrics: BTreeMap<String, f64>,
    figures: Vec<String>,
}

impl Lesson {
    /// Starts a lesson: creates its output folder. `name` is the example's file name.
    pub fn new(name: &str, args: LessonArgs) -> Result<Lesson, Error> {
        let out = args.out.clone().unwrap_or_else(|| default_out_dir(name));
        std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
        Ok(Lesson {
            name: name.to_string(),
            args,
            out,
            started: Instant::now(),
            claims: Vec::new(),
            metrics: BTreeMap::new(),
            figures: Vec::new(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// True in quick mode (small data, few repetitions).
    pub fn quick(&self) -> bool {
        self.args.quick
    }

    pub fn seed(&self) -> u64 {
        self.args.seed
    }

    /// `full` normally, `quick` in quick mode: the one switch for sizes and repetition counts.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.args.quick { quick } else { full }
    }

    /// A fresh generator seeded from `--seed` and a stream number, so that parts of a lesson draw
    /// independent, reproducible streams (the rand 0.8 line that linfa's APIs take).
    pub fn rng(&self, stream: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.args.seed);
        rng.set_stream(stream);
        rng
    }

    /// The folder where the report and figures go.
    pub fn out_dir(&self) -> &Path {
        &self.out
    }

    /// Records a claim with its evidence and returns it for printing.
    pub fn claim(
        &mut self,
        claim: impl Into<String>,
        holds: bool,
        evidence: impl Into<String>,
        values: &[(&str, f64)],
    ) -> &Claim {
        self.claims.push(Claim {
            claim: claim.into(),
            holds,
            evidence: evidence.into(),
            values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        });
        self.claims.last().expect("just pushed")
    }

    /// Records a measured number under a name, with its unit in the name. The name is normalised to
    /// `snake_case` ("triad GB/s, Zip + rayon" → "triad_gb_s_zip_rayon") so tools can rely on it.
    pub fn metric(&mut self, name: impl AsRef<str>, value: f64) {
        self.metrics.insert(snake_case(name.as_ref()), value);
    }

    /// Paths for a figure called `stem` (PNG and SVG), recorded in the report once drawn.
    pub fn figure_paths(&self, stem: &str) -> (PathBuf, PathBuf) {
        (
            self.out.join(format!("{stem}.png")),
            self.out.join(format!("{stem}.svg")),
        )
    }

    /// Records files written in the output folder as figures of this lesson.
    pub fn record_figure(&mut self, path: &Path) -> Result<(), Error> {
        if !path.is_file() {
            return Err(Error::Figure {
                path: path.to_path_buf(),
                message: "the figure was not written".into(),
            });
        }
        let name = path
            .strip_prefix(&self.out)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        if !self.figures.contains(&name) {
            self.figures.push(name);
        }
        Ok(())
    }

    /// The report as it stands.
    pub fn report(&self) -> Report {
        Report {
            lesson: self.name.clone(),
            quick: self.args.quick,
            seed: self.args.seed,
            claims: self.claims.clone(),
            metrics: self.metrics.clone(),
            figures: self.figures.clone(),
            build: BuildInfo {
                profile: if cfg!(debug_assertions) {
                    "debug"
                } else {
                    "release"
                }
                .into(),
                cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            },
            duration_s: self.started.elapsed().as_secs_f64(),
        }
    }

    /// Writes `report.json` and returns the report, or [`Error::ClaimsFailed`] when any claim did
    /// not hold (the report is written either way, so the evidence can be read).
    pub fn finish(self) -> Result<Report, Error> {
        if self.claims.is_empty() {
            return Err(Error::NoClaims(self.name));
        }
        let report = self.report();
        let path = self.out.join("report.json");
        let json = serde_json::to_string_pretty(&report).expect("a report always serialises");
        std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
        let failed: Vec<String> = report.failed().map(|c| c.claim.clone()).collect();
        if failed.is_empty() {
            Ok(report)
        } else {
            Err(Error::ClaimsFailed {
                lesson: report.lesson.clone(),
                failed,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn lesson_in(dir: &Path, extra: &[&str]) -> Lesson {
        let mut argv = vec!["lesson", "--out", dir.to_str().unwrap()];
        argv.extend_from_slice(extra);
        Lesson::new("demo", LessonArgs::try_parse_from(argv).unwrap()).unwrap()
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("harness-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_report_round_trips_through_json() {
        let dir = scratch("roundtrip");
        let mut lesson = lesson_in(&dir, &["--quick", "--seed", "7"]);
        lesson.claim(
            "two is even",
            2 % 2 == 0,
            "2 mod 2 = 0",
            &[("remainder", 0.0)],
        );
        lesson.metric("Speed, GB/s", 1.5);
        let written = lesson.finish().unwrap();
        let read = Report::read(&dir.join("report.json")).unwrap();
        assert_eq!(written, read);
        assert!(read.quick);
        assert_eq!(read.seed, 7);
        assert_eq!(read.metrics.get("speed_gb_s"), Some(&1.5));
        assert_eq!(read.claims[0].values.get("remainder"), Some(&0.0));
    }

    #[test]
    fn a_failed_claim_fails_the_lesson_but_keeps_the_report() {
        let dir = scratch("failed");
        let mut lesson = lesson_in(&dir, &[]);
        lesson.claim("holds", true, "yes", &[]);
        lesson.claim("three is even", 3 % 2 == 0, "3 mod 2 = 1", &[]);
        let err = lesson.finish().unwrap_err();
        assert!(matches!(&err, Error::ClaimsFailed { failed, .. } if failed == &["three is even"]));
        let report = Report::read(&dir.join("report.json")).unwrap();
        assert_eq!(report.failed().count(), 1);
    }

    #[test]
    fn a_lesson_without_claims_is_an_error() {
        let dir = scratch("empty");
        assert!(matches!(
            lesson_in(&dir, &[]).finish(),
            Err(Error::NoClaims(_))
        ));
    }

    #[test]
    fn quick_mode_picks_the_small_size_and_streams_differ() {
        let dir = scratch("pick");
        let lesson = lesson_in(&dir, &["--quick"]);
        assert_eq!(lesson.pick(1000, 10), 10);
        use rand::Rng;
        let (a, b): (u64, u64) = (lesson.rng(1).r#gen(), lesson.rng(2).r#gen());
        assert_ne!(a, b);
        assert_eq!(a, lesson.rng(1).r#gen::<u64>());
    }

    #[test]
    fn a_bad_flag_is_a_parse_error() {
        let err = LessonArgs::try_parse_from(["lesson", "--seed", "x"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
    }

    #[test]
    fn metric_names_become_snake_case() {
        assert_eq!(snake_case("faer, 1 thread"), "faer_1_thread");
        assert_eq!(snake_case("&x * a + &y"), "x_a_y");
    }
}

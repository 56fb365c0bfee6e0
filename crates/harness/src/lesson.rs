//! A running lesson: common flags, claims, metrics, artefacts and the JSON report.
//!
//! A lesson starts with [`start_lesson!`](crate::start_lesson), which names it after its binary
//! and parses the common flags; it records what it measures, and ends with [`Lesson::finish`],
//! which stops anything the lesson still serves, writes `report.json` and turns any claim that did
//! not hold into an error. Recording a claim prints it; `finish` prints where the evidence went.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use catalogue::{Artefact, ArtefactKind, BuildInfo, Claim, Report};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::Error;

/// The flags every lesson accepts.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    about = "A workbook lesson: measures its answer, prints the evidence and checks its claims"
)]
pub struct LessonArgs {
    /// Small data and few repetitions: finishes in a few seconds (what the tests run).
    #[arg(long)]
    pub quick: bool,
    /// Seed for every random stream the lesson draws (each part of a lesson has its own stream).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Folder for the report and artefacts [default: target/workbook/<lesson>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// After the checks, keep the lesson's server running for a person, until Ctrl-C (lessons
    /// that serve a page or an API; the others have nothing to keep running).
    #[arg(long)]
    pub serve: bool,
}

/// Starts the lesson named after the binary being compiled (the example's name), with the flags
/// from the command line: `let mut lesson = start_lesson!()?;`.
#[macro_export]
macro_rules! start_lesson {
    () => {
        $crate::Lesson::start(env!("CARGO_CRATE_NAME"))
    };
}

/// Where [`notebook_settings`] leaves the settings for this process. A kernel loads each cell as
/// a library of its own, with its own copy of every static, so the settings travel through a file
/// named after the process, which all cells share.
fn notebook_settings_file() -> PathBuf {
    std::env::temp_dir().join(format!("workbook-notebook-{}.txt", std::process::id()))
}

/// Settings for a lesson run inside a notebook kernel (evcxr), which has no command line of the
/// lesson's own and compiles the code under a crate name of its own: the generated notebook calls
/// this in its setup cell with the lesson's name and flags (`&["--quick"]`), and `start_lesson!()`
/// then uses them instead of the command line.
pub fn notebook_settings(lesson: &str, flags: &[&str]) -> Result<(), Error> {
    // Checked now, so that a bad flag is reported by the cell that gave it.
    parse_flags(std::iter::once(lesson).chain(flags.iter().copied()))?;
    let path = notebook_settings_file();
    catalogue::write_atomically(&path, format!("{lesson}\n{}", flags.join("\n")))?;
    Ok(())
}

/// Lesson flags given as words (the program name first), parsed as the command line would be.
fn parse_flags<'a>(words: impl Iterator<Item = &'a str>) -> Result<LessonArgs, Error> {
    <LessonArgs as clap::Parser>::try_parse_from(words)
        .map_err(|e| Error::Settings(e.to_string().lines().next().unwrap_or_default().to_string()))
}

/// The lesson name and flags a notebook gave for this process, if it did.
fn notebook_args() -> Result<Option<(String, LessonArgs)>, Error> {
    let Ok(text) = std::fs::read_to_string(notebook_settings_file()) else {
        return Ok(None);
    };
    let mut lines = text.lines();
    let lesson = lines.next().unwrap_or_default().to_string();
    let args = parse_flags(std::iter::once(lesson.as_str()).chain(lines))?;
    Ok(Some((lesson, args)))
}

/// The generator a lesson run with `--seed seed` gets for `stream` ([`Lesson::rng`]): ChaCha8
/// seeded from the number, on the given stream. Lessons that teach reproducibility call it to
/// show what another `--seed` would draw; every other lesson asks [`Lesson::rng`].
pub fn generator(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// What a lesson's `main` returns. A failure prints as one line (`Error: …`, the causes joined
/// with colons) whatever the environment — `RUST_BACKTRACE` included — and exits with status 1.
pub type Outcome = Result<(), Failure>;

/// A lesson's error, kept whole (an [`anyhow::Error`]) but printed on one line.
pub struct Failure(anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Failure {
        Failure(error.into())
    }
}

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

#[doc(hidden)]
pub use anyhow as __anyhow;

/// Returns early with an error made from the message when the condition is false, in a lesson's
/// `main` (an [`Outcome`]) as in its helpers (`anyhow::Result`): anyhow's `ensure!`, for both.
#[macro_export]
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err($crate::lesson::__anyhow::anyhow!($($message)+).into());
        }
    };
}

/// Returns early with an error made from the message, in a lesson's `main` as in its helpers:
/// anyhow's `bail!`, for both.
#[macro_export]
macro_rules! bail {
    ($($message:tt)+) => {
        return Err($crate::lesson::__anyhow::anyhow!($($message)+).into())
    };
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
    artefacts: Vec<Artefact>,
}

impl Lesson {
    /// Starts lesson `name` with the flags on the command line. A bad flag prints clap's usage
    /// message and exits with status 2; `--help` prints the flags.
    pub fn start(name: &str) -> Result<Lesson, Error> {
        restore_sigpipe();
        // Only a kernel reads the notebook's settings: a file left by an ended kernel whose
        // process number the system has since given to this process must not take over a
        // lesson run from the command line (it did: a seed sweep once ran as another lesson).
        let from_notebook = if in_notebook_kernel() {
            notebook_args()?
        } else {
            None
        };
        match from_notebook {
            Some((lesson, args)) => Lesson::with_args(&lesson, args),
            None => Lesson::with_args(name, clap::Parser::parse()),
        }
    }

    /// Starts lesson `name` with settings given in code (a notebook kernel, a test): nothing is
    /// read from the command line.
    pub fn with_args(name: &str, args: LessonArgs) -> Result<Lesson, Error> {
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| catalogue::default_out_dir(name));
        if out.exists() && !out.is_dir() {
            return Err(Error::io(
                &out,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "--out names a file, not a folder",
                ),
            ));
        }
        std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
        Ok(Lesson {
            name: name.to_string(),
            args,
            out,
            started: Instant::now(),
            claims: Vec::new(),
            metrics: BTreeMap::new(),
            artefacts: Vec::new(),
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

    /// True when `--serve` asked to keep the lesson's server running for a person after the
    /// checks.
    pub fn serve_requested(&self) -> bool {
        self.args.serve
    }

    /// `full` normally, `quick` in quick mode: the one switch for sizes and repetition counts.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.args.quick { quick } else { full }
    }

    /// A fresh generator seeded from `--seed` and a stream number, so that parts of a lesson draw
    /// independent, reproducible streams (the rand 0.8 line that linfa's APIs take). This is the
    /// only way a lesson gets randomness: `--seed` reaches every stream.
    pub fn rng(&self, stream: u64) -> ChaCha8Rng {
        generator(self.args.seed, stream)
    }

    /// The folder where the report and artefacts go.
    pub fn out_dir(&self) -> &Path {
        &self.out
    }

    /// The path of a file called `name` in the output folder.
    pub fn out_file(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    /// An empty folder called `name` in the output folder: what an earlier run of the lesson
    /// left there is removed first.
    pub fn fresh_dir(&self, name: &str) -> Result<PathBuf, Error> {
        let dir = self.out_file(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(dir)
    }

    /// Records a claim with its evidence, prints it, and returns whether it held.
    pub fn claim(
        &mut self,
        claim: impl Into<String>,
        holds: bool,
        evidence: impl Into<String>,
        values: &[(&str, f64)],
    ) -> bool {
        let claim = Claim {
            claim: claim.into(),
            holds,
            evidence: evidence.into(),
            values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        };
        println!("{claim}");
        self.claims.push(claim);
        holds
    }

    /// Records a measured number under a name, with its unit in the name. The name is normalised to
    /// `snake_case` ("triad GB/s, Zip + rayon" → "triad_gb_s_zip_rayon") so tools can rely on it.
    pub fn metric(&mut self, name: impl AsRef<str>, value: f64) {
        self.metrics.insert(snake_case(name.as_ref()), value);
    }

    /// Paths for a figure called `stem` (PNG and SVG), recorded once drawn.
    pub fn figure_paths(&self, stem: &str) -> (PathBuf, PathBuf) {
        (
            self.out.join(format!("{stem}.png")),
            self.out.join(format!("{stem}.svg")),
        )
    }

    /// Records a file the lesson wrote in its output folder as evidence of `kind`, after checking
    /// that it is what it claims to be (a PNG decodes, an SVG parses, an HTML page loads nothing
    /// from the network, a CSV has a header and rows of its width).
    ///
    /// Inside the evcxr Jupyter kernel a PNG figure is also shown inline, through evcxr's display
    /// protocol, so a notebook cell shows the lesson's figures where it draws them.
    pub fn record(&mut self, kind: ArtefactKind, path: &Path) -> Result<(), Error> {
        crate::artefact::validate(kind, path)?;
        if kind == ArtefactKind::Figure
            && path.extension().is_some_and(|e| e == "png")
            && in_notebook_kernel()
        {
            let png = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            println!("{}", notebook_display("image/png", &png));
        }
        let location = path
            .strip_prefix(&self.out)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        self.push_artefact(kind, location);
        Ok(())
    }

    /// Records an address the lesson served while it ran; it must be on loopback.
    pub fn record_endpoint(&mut self, url: &str) -> Result<(), Error> {
        crate::serve::check_loopback_url(url)?;
        self.push_artefact(ArtefactKind::Endpoint, url.to_string());
        Ok(())
    }

    fn push_artefact(&mut self, kind: ArtefactKind, location: String) {
        let artefact = Artefact { kind, location };
        if !self.artefacts.contains(&artefact) {
            self.artefacts.push(artefact);
        }
    }

    /// The report as it stands.
    pub fn report(&self) -> Report {
        Report {
            lesson: self.name.clone(),
            quick: self.args.quick,
            seed: self.args.seed,
            claims: self.claims.clone(),
            metrics: self.metrics.clone(),
            artefacts: self.artefacts.clone(),
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

    /// Stops every server and child process the lesson still runs, writes `report.json`
    /// (atomically) and prints where the evidence went. Returns the report, or
    /// [`Error::ClaimsFailed`] when any claim did not hold (the report is written either way, so the
    /// evidence can be read).
    pub fn finish(self) -> Result<Report, Error> {
        let still_running = crate::serve::stop_all();
        if self.claims.is_empty() {
            return Err(Error::NoClaims(self.name));
        }
        let report = self.report();
        let path = self.out.join("report.json");
        catalogue::write_atomically(&path, report.to_json())?;
        let held = report.claims.iter().filter(|c| c.holds).count();
        println!(
            "\n{held}/{} claims held in {:.2} s; report: {}",
            report.claims.len(),
            report.duration_s,
            path.display()
        );
        for artefact in &report.artefacts {
            let location = match artefact.kind {
                ArtefactKind::Endpoint => artefact.location.clone(),
                _ => self.out.join(&artefact.location).display().to_string(),
            };
            println!("  {:<8} {location}", artefact.kind);
        }
        let served = report
            .artefacts
            .iter()
            .any(|a| a.kind == ArtefactKind::Endpoint);
        if self.args.serve && !served {
            println!("--serve: this lesson serves nothing, so nothing is kept running");
        }
        if let Some(program) = still_running.first() {
            return Err(Error::ChildStillRunning {
                program: program.clone(),
                message: "it was still running when the lesson finished; stopped now".into(),
            });
        }
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

/// Rust ignores SIGPIPE, so printing into a closed pipe (`lesson | head`) would panic with
/// "failed printing to stdout". Restoring the default makes the process end quietly, as
/// command-line tools do.
/// Whether this process is evcxr's runtime (the Jupyter kernel or its REPL), which sets
/// `EVCXR_IS_RUNTIME` for the code it runs.
fn in_notebook_kernel() -> bool {
    std::env::var_os("EVCXR_IS_RUNTIME").is_some()
}

/// The text that makes evcxr show `bytes` as content of `mime` type: a marked, base64-encoded
/// block on standard output.
fn notebook_display(mime: &str, bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "EVCXR_BEGIN_CONTENT {mime}\n{}\nEVCXR_END_CONTENT",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: SIG_DFL is a valid handler, and signal() only swaps the process's disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn a_figure_for_the_notebook_is_a_marked_base64_block() {
        let block = notebook_display("image/png", b"\x89PNG");
        assert_eq!(
            block,
            "EVCXR_BEGIN_CONTENT image/png\niVBORw==\nEVCXR_END_CONTENT"
        );
    }

    fn lesson_in(dir: &Path, extra: &[&str]) -> Lesson {
        let mut argv = vec!["lesson", "--out", dir.to_str().unwrap()];
        argv.extend_from_slice(extra);
        Lesson::with_args("demo", LessonArgs::try_parse_from(argv).unwrap()).unwrap()
    }

    #[test]
    fn a_notebook_gives_the_lesson_its_name_and_flags() {
        assert!(notebook_args().unwrap().is_none());
        notebook_settings("broadcasting", &["--quick", "--seed", "7"]).unwrap();
        let (lesson, args) = notebook_args().unwrap().unwrap();
        assert_eq!(lesson, "broadcasting");
        assert!(args.quick);
        assert_eq!(args.seed, 7);
        let bad = notebook_settings("broadcasting", &["--fast"]).unwrap_err();
        assert!(bad.to_string().starts_with("bad lesson settings:"), "{bad}");
        let _ = std::fs::remove_file(notebook_settings_file());
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
        assert!(lesson.claim(
            "two is even",
            2 % 2 == 0,
            "2 mod 2 = 0",
            &[("remainder", 0.0)]
        ));
        lesson.metric("Speed, GB/s", 1.5);
        let table = lesson.out_file("t.csv");
        std::fs::write(&table, "a,b\n1,2\n").unwrap();
        lesson.record(ArtefactKind::Table, &table).unwrap();
        let written = lesson.finish().unwrap();
        let read = Report::read(&dir.join("report.json")).unwrap();
        assert_eq!(written, read);
        assert!(read.quick);
        assert_eq!(read.seed, 7);
        assert_eq!(read.metrics.get("speed_gb_s"), Some(&1.5));
        assert_eq!(read.claims[0].values.get("remainder"), Some(&0.0));
        assert_eq!(
            read.artefacts,
            vec![Artefact {
                kind: ArtefactKind::Table,
                location: "t.csv".into()
            }]
        );
    }

    #[test]
    fn a_failed_claim_fails_the_lesson_but_keeps_the_report() {
        let dir = scratch("failed");
        let mut lesson = lesson_in(&dir, &[]);
        lesson.claim("holds", true, "yes", &[]);
        assert!(!lesson.claim("three is even", 3 % 2 == 0, "3 mod 2 = 1", &[]));
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
    fn an_out_folder_that_is_a_file_is_a_clear_error() {
        let dir = scratch("out-is-file");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("taken");
        std::fs::write(&file, "x").unwrap();
        let args = LessonArgs::try_parse_from(["lesson", "--out", file.to_str().unwrap()]).unwrap();
        let err = Lesson::with_args("demo", args).err().unwrap().to_string();
        assert!(err.contains("names a file"), "{err}");
    }

    #[test]
    fn an_invalid_artefact_is_refused() {
        let dir = scratch("bad-artefact");
        let mut lesson = lesson_in(&dir, &[]);
        let png = lesson.out_file("fake.png");
        std::fs::write(&png, "not a png").unwrap();
        assert!(matches!(
            lesson.record(ArtefactKind::Figure, &png),
            Err(Error::Artefact { .. })
        ));
        assert!(lesson.record_endpoint("http://10.0.0.1:80/").is_err());
        assert!(lesson.record_endpoint("http://127.0.0.1:8080/").is_ok());
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

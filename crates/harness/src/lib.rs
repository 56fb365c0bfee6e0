//! The lessons' runtime: what every lesson uses to run, measure and report.
//!
//! - [`lesson`]: the common flags, [`Lesson`] (claims, metrics, artefacts, the report, seeded
//!   random streams) and [`start_lesson!`];
//! - [`artefact`]: the checks each kind of evidence passes when a lesson records it;
//! - [`serve`]: loopback listeners and child processes that a lesson must stop before it ends;
//! - [`measure`]: best-of-N timing, a counting allocator, small statistics;
//! - [`plot`]: the house style for plotters figures, with an embedded font.
//!
//! The catalogue and the report schema live in the light `catalogue` crate, which the CLI shares;
//! the lessons' content (data loaders, kernels) lives in the lesson packages. Library code returns
//! typed errors ([`Error`]) and never prints, except [`Lesson`], whose job is to print a lesson's
//! claims and where its report went.

pub mod artefact;
pub mod browser;
pub mod figure_file;
pub mod lesson;
pub mod measure;
pub mod plot;
pub mod serve;

use std::path::{Path, PathBuf};

pub use catalogue::{self, ArtefactKind, Claim, Report, workspace_root};
pub use lesson::{Lesson, LessonArgs};
/// The generator behind every random stream of a lesson ([`Lesson::rng`]), re-exported so that
/// code with only this crate in hand can name its type: a notebook kernel keeps a cell's variables
/// for the next cells only when it can write their types down.
pub use rand_chacha::ChaCha8Rng;

/// Everything a lesson usually needs, in one import.
pub mod prelude {
    pub use crate::lesson::{Lesson, LessonArgs, Outcome};
    pub use crate::measure::{Timing, best_of};
    pub use crate::plot;
    pub use crate::{ArtefactKind, bail, ensure, figure, start_lesson};
}

/// The errors of the harness. Each names the file or the thing it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file, and the catalogue's and report's own errors.
    #[error(transparent)]
    Catalogue(#[from] catalogue::Error),
    #[error("{kind} {path} is not valid: {message}")]
    Artefact {
        kind: ArtefactKind,
        path: PathBuf,
        message: String,
    },
    #[error(
        "memory cannot be counted: this program runs without the harness's counting allocator (the harness was built without its `global-allocator` feature, as in a notebook kernel); run the lesson with `cargo run --example`"
    )]
    NoCountingAllocator,
    #[error("lesson {0} recorded no claims; a lesson must check what it states")]
    NoClaims(String),
    #[error("lesson {lesson}: {} claim(s) did not hold: {}", failed.len(), failed.join("; "))]
    ClaimsFailed { lesson: String, failed: Vec<String> },
    #[error("{0} is not a loopback address: lessons serve and connect on 127.0.0.1 only")]
    NotLoopback(String),
    #[error("{0}")]
    Browser(String),
    #[error("{request}: {message}")]
    Http { request: String, message: String },
    #[error("bad lesson settings: {0}")]
    Settings(String),
    #[error("{command}: {message}")]
    Build { command: String, message: String },
    #[error("child process {program} did not stop: {message}")]
    ChildStillRunning { program: String, message: String },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Catalogue(catalogue::Error::io(path, source))
    }
}

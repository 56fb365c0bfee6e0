//! The workbook's shared library: what several lessons, the CLI and the tests use.
//!
//! - [`lesson`]: common flags, claims, metrics, figures and the JSON report;
//! - [`catalogue`]: the one table of sections and topics;
//! - [`data`]: typed loaders for the bundled data sets;
//! - [`plot`]: the house style for plotters figures, with an embedded font;
//! - [`measure`]: best-of-N timing and a counting allocator;
//! - [`kernels`]: the few numeric kernels that a lesson and a bench both measure.
//!
//! Library code returns typed errors ([`Error`]) and never prints; lessons and the CLI report them.

pub mod catalogue;
pub mod data;
pub mod kernels;
pub mod lesson;
pub mod measure;
pub mod notebook;
pub mod plot;

use std::path::{Path, PathBuf};

pub use lesson::{Claim, Lesson, LessonArgs, Report};

/// Everything a lesson usually needs, in one import.
pub mod prelude {
    pub use crate::figure;
    pub use crate::lesson::{Lesson, LessonArgs};
    pub use crate::measure::{Timing, best_of};
    pub use crate::plot;
    pub use clap::Parser as _;
}

/// The errors of the library. Each names the file (and row) or the thing it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("data set {path} is missing: copy it into datasets/ (see datasets/README.md)")]
    MissingData { path: PathBuf },
    /// `row` counts data rows from 1 (the header is line 1 of the file, so row r is line r + 1).
    #[error("{path}, row {row} (line {}): {message}", row + 1)]
    Malformed {
        path: PathBuf,
        row: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Frame { path: PathBuf, message: String },
    #[error("unknown topic {name:?}{}", suggest(suggestions))]
    UnknownTopic {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("the catalogue is invalid: {0}")]
    Catalogue(String),
    #[error("the workspace manifest (Cargo.toml): {0}")]
    Manifest(String),
    #[error("{path} is not a lesson report: {message}")]
    Report { path: PathBuf, message: String },
    #[error("figure {path}: {message}")]
    Figure { path: PathBuf, message: String },
    #[error(
        "memory cannot be counted: the lesson did not install harness::measure::CountingAllocator as its #[global_allocator]"
    )]
    NoCountingAllocator,
    #[error("lesson {0} recorded no claims; a lesson must check what it states")]
    NoClaims(String),
    #[error("lesson {lesson}: {} claim(s) did not hold: {}", failed.len(), failed.join("; "))]
    ClaimsFailed { lesson: String, failed: Vec<String> },
}

fn suggest(names: &[String]) -> String {
    if names.is_empty() {
        "; `workbook list` shows every topic".to_string()
    } else {
        format!("; did you mean {}?", names.join(", "))
    }
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The workspace's root folder (where `Cargo.toml`, `datasets/` and `target/` are), fixed at build
/// time. `WORKBOOK_ROOT` overrides it for a binary moved elsewhere.
pub fn workspace_root() -> PathBuf {
    let root = match std::env::var_os("WORKBOOK_ROOT") {
        Some(root) => PathBuf::from(root),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    };
    std::fs::canonicalize(&root).unwrap_or(root)
}

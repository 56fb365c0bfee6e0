//! The workbook's light core, shared by the CLI, the lessons' harness and the tests:
//!
//! - [`catalogue`]: the one table of sections and topics (`catalogue.toml`);
//! - [`report`]: what a lesson writes (`report.json`: claims, metrics, artefacts);
//! - [`generate`]: the texts derived from the catalogue (README index, the lesson packages'
//!   `[[example]]` entries, the question and answer in each lesson's header);
//! - [`notebook`]: the evcxr notebook generated from a lesson's source;
//! - [`comparison`]: the head-to-head tasks, a recorded `workbook compare` run and the README's
//!   performance table generated from it.
//!
//! It depends on serde, serde_json and toml only, so that the `workbook` command builds in
//! seconds. Library code returns typed errors ([`Error`]) and never prints.

pub mod catalogue;
pub mod comparison;
pub mod generate;
pub mod notebook;
pub mod report;

use std::path::{Path, PathBuf};

pub use catalogue::{
    ArtefactKind, Catalogue, Difficulty, Entry, FollowUp, Prediction, Section, Status, Translation,
};
pub use report::{Artefact, BuildInfo, Claim, Report};

/// The errors of the light core. Each names the file or the thing it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // The cause is part of the message (and not a `source`: thiserror would treat a field of that name as one), so the error prints as one line.
    #[error("cannot read or write {path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("unknown topic {name:?}{}", suggest(suggestions))]
    UnknownTopic {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("unknown section {name:?}; sections are {}", sections.join(", "))]
    UnknownSection { name: String, sections: Vec<String> },
    #[error("the catalogue {path} is invalid: {message}")]
    Catalogue { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("{path} is not a lesson report: {message} (run the lesson again to rewrite it)")]
    Report { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Source { path: PathBuf, message: String },
    #[error("WORKBOOK_LESSON_DIR has no lesson binary {0}")]
    NoLessonBinary(PathBuf),
}

fn suggest(names: &[String]) -> String {
    if names.is_empty() {
        "; `workbook list` shows every topic".to_string()
    } else {
        format!("; did you mean {}?", names.join(", "))
    }
}

impl Error {
    /// An input/output error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            cause: source,
        }
    }
}

/// The workspace's root folder (where `Cargo.toml`, `catalogue.toml`, `datasets/` and `target/`
/// are), fixed at build time. `WORKBOOK_ROOT` overrides it for a binary moved elsewhere.
pub fn workspace_root() -> PathBuf {
    let root = match std::env::var_os("WORKBOOK_ROOT") {
        Some(root) => PathBuf::from(root),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    };
    std::fs::canonicalize(&root).unwrap_or(root)
}

/// The default output folder of a lesson: `<WORKBOOK_OUT_DIR>/<lesson>` when that variable is
/// set, else `target/workbook/<lesson>` in this workspace. `show`, `run`, the quiz and the
/// walkthrough read and write lesson reports there.
pub fn default_out_dir(lesson: &str) -> PathBuf {
    match std::env::var_os("WORKBOOK_OUT_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir).join(lesson),
        None => workspace_root()
            .join("target")
            .join("workbook")
            .join(lesson),
    }
}

/// The command that runs a lesson (arguments to follow): a binary already built in
/// `WORKBOOK_LESSON_DIR` (an installed workbook, the tests), or `cargo run --example` in the
/// workspace, which builds it first if need be, in the dev profile the tests use.
pub fn lesson_command(lesson: &str) -> Result<std::process::Command, Error> {
    if let Some(dir) = std::env::var_os("WORKBOOK_LESSON_DIR") {
        let binary = Path::new(&dir).join(format!("{lesson}{}", std::env::consts::EXE_SUFFIX));
        if !binary.is_file() {
            return Err(Error::NoLessonBinary(binary));
        }
        return Ok(std::process::Command::new(binary));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args(["run", "--quiet", "--example", lesson, "--"]);
    Ok(command)
}

/// Reads a text file, the error naming it.
pub fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Writes a file so that a reader never sees half of it: the contents (text or bytes) go to a
/// temporary file beside it, which then replaces the old one in one rename.
pub fn write_atomically(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), Error> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, contents).map_err(|e| Error::io(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::io(path, e)
    })
}

//! Integration tests of the catalogue, the files derived from it, and the `workbook` command line.
//! The lessons themselves are tested by `tests/lessons.rs`, one named test per ready lesson.

mod catalogue;
mod cli;

use std::path::{Path, PathBuf};

/// The workspace root (where the root Cargo.toml is).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `workbook` binary built for these tests.
pub fn workbook() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_workbook"))
}

/// The lesson binaries sit beside the CLI's, in `<target>/<profile>/examples`; `cargo test` at the
/// workspace root builds them (every lesson package is a member).
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_workbook"))
        .parent()
        .expect("the binary has a folder")
        .join("examples")
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

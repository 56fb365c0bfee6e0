//! The workbook's one integration-test crate: every ready lesson run in quick mode, the catalogue
//! against `examples/` and the README, and the `workbook` CLI.

mod catalogue;
mod cli;
mod lessons;

use std::path::{Path, PathBuf};

/// The workspace root (where Cargo.toml is).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `workbook` binary built for these tests.
pub fn workbook() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_workbook"))
}

/// The example binaries sit beside the test's binaries, in `<target>/<profile>/examples`.
pub fn example_binary(lesson: &str) -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_workbook"))
        .parent()
        .expect("the binary has a folder")
        .join("examples")
        .join(format!("{lesson}{}", std::env::consts::EXE_SUFFIX))
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

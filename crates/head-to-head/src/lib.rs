//! The Rust side of `workbook compare`: the tasks a Python data scientist would time against
//! NumPy, scikit-learn and polars-python, run the way the workbook answers them, on the files
//! both sides read.
//!
//! [`prepare`] writes the synthetic inputs as `.npy` files (the flights come from `datasets/`);
//! [`run`] times one task best-of-several and reports what the Python twin
//! (`python/head_to_head.py`) reports for the same task: the run times and the numbers the
//! parity check compares. [`TASKS`] is the one list of tasks, their sizes and their parity
//! rules; the CLI reads it from this crate's binary (`head-to-head tasks`).

pub mod npy;
pub mod tasks;

use std::path::{Path, PathBuf};

pub use catalogue::comparison::{Outcome, Parity, Task, Tolerance};
pub use tasks::{TASKS, prepare, run};

/// A file that could not be read or written, a malformed input, or a task that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {why}")]
    Format { path: PathBuf, why: String },
    #[error("no task named {0:?}")]
    UnknownTask(String),
    #[error("{task}: {why}")]
    Task { task: String, why: String },
    #[error(transparent)]
    Data(#[from] datasets::Error),
    #[error(transparent)]
    Write(#[from] catalogue::Error),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

//! Where the served model comes from, and the slot it is swapped into.
//!
//! A model is either one artefact file, re-read on reload, or a directory of numbered versions
//! laid out as serving systems do (`DIR/1/model.wbm`, `DIR/2/model.wbm`, …): the newest is
//! served, a reload picks up a newer one, and any version can be pinned (a rollback). The slot is
//! an [`ArcSwap`]: a request takes the current model with one atomic load and keeps it to the
//! end, so a swap never fails a request and every answer comes from exactly one version.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use toolkit::artefact::ModelArtefact;

/// The artefact's file name inside a version directory.
pub const VERSION_FILE: &str = "model.wbm";

/// Why a model could not be loaded; the model being served, if any, stays.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Refused {
        path: PathBuf,
        source: toolkit::Error,
    },
    #[error("{0} holds no version directories (1/{VERSION_FILE}, 2/{VERSION_FILE}, …)")]
    NoVersions(PathBuf),
    #[error("version {version} is not in {dir} (it has {available})")]
    UnknownVersion {
        version: String,
        dir: PathBuf,
        available: String,
    },
    #[error("{path} is labelled version {label}, not {directory}")]
    Mislabelled {
        path: PathBuf,
        label: String,
        directory: u64,
    },
    #[error("this service serves one file ({0}); versions need a model directory")]
    NotADirectory(PathBuf),
}

/// Where models are read from.
#[derive(Debug, Clone)]
pub enum ModelSource {
    File(PathBuf),
    Directory(PathBuf),
}

/// A loaded model and the file it came from.
#[derive(Debug)]
pub struct ServedModel {
    artefact: ModelArtefact,
    path: PathBuf,
}

impl ServedModel {
    pub fn artefact(&self) -> &ModelArtefact {
        &self.artefact
    }

    pub fn version(&self) -> &str {
        self.artefact.metadata().version()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The model slot and its source.
pub struct ModelStore {
    source: ModelSource,
    current: ArcSwap<ServedModel>,
    /// Reloads run one at a time, so two racing reloads cannot interleave read and swap.
    reloading: Mutex<()>,
}

impl ModelStore {
    /// Loads the file, or the newest version of the directory.
    pub fn open(source: ModelSource) -> Result<ModelStore, LoadError> {
        let first = match &source {
            ModelSource::File(path) => read(path)?,
            ModelSource::Directory(dir) => read_version(dir, newest(dir)?)?,
        };
        Ok(ModelStore {
            source,
            current: ArcSwap::from_pointee(first),
            reloading: Mutex::new(()),
        })
    }

    /// The model serving now; keep it for the whole request.
    pub fn current(&self) -> Arc<ServedModel> {
        self.current.load_full()
    }

    /// Re-reads the file, or loads the directory's newest version; returns the model it replaced.
    pub fn reload_newest(&self) -> Result<Arc<ServedModel>, LoadError> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        let next = match &self.source {
            ModelSource::File(path) => read(path)?,
            ModelSource::Directory(dir) => read_version(dir, newest(dir)?)?,
        };
        Ok(self.current.swap(Arc::new(next)))
    }

    /// Loads one version of the directory (a rollback, say); returns the model it replaced.
    pub fn load_version(&self, version: &str) -> Result<Arc<ServedModel>, LoadError> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        let dir = match &self.source {
            ModelSource::Directory(dir) => dir,
            ModelSource::File(path) => return Err(LoadError::NotADirectory(path.clone())),
        };
        let available = versions(dir)?;
        let number = version
            .parse::<u64>()
            .ok()
            .filter(|v| available.contains(v))
            .ok_or_else(|| LoadError::UnknownVersion {
                version: version.to_string(),
                dir: dir.clone(),
                available: available
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let next = read_version(dir, number)?;
        Ok(self.current.swap(Arc::new(next)))
    }
}

fn read(path: &Path) -> Result<ServedModel, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let artefact = ModelArtefact::from_bytes(&bytes).map_err(|source| LoadError::Refused {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(ServedModel {
        artefact,
        path: path.to_path_buf(),
    })
}

fn read_version(dir: &Path, version: u64) -> Result<ServedModel, LoadError> {
    let path = dir.join(version.to_string()).join(VERSION_FILE);
    let model = read(&path)?;
    if model.version() != version.to_string() {
        return Err(LoadError::Mislabelled {
            path,
            label: model.version().to_string(),
            directory: version,
        });
    }
    Ok(model)
}

/// The numbered version directories that hold a model file, in increasing order.
pub fn versions(dir: &Path) -> Result<Vec<u64>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut found: Vec<u64> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u64>().ok())
        .filter(|v| dir.join(v.to_string()).join(VERSION_FILE).is_file())
        .collect();
    found.sort_unstable();
    Ok(found)
}

fn newest(dir: &Path) -> Result<u64, LoadError> {
    versions(dir)?
        .last()
        .copied()
        .ok_or_else(|| LoadError::NoVersions(dir.to_path_buf()))
}

//! The report a lesson writes to `<out>/report.json`: the contract between the lessons (which
//! write it through the harness) and the CLI, the tests and later tools (which read it).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{ArtefactKind, Error};

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

/// A piece of evidence a lesson left behind: a file in its output folder, or an address it served.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Artefact {
    pub kind: ArtefactKind,
    /// A file name relative to the report's folder, or a URL for an endpoint.
    pub location: String,
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
#[serde(deny_unknown_fields)]
pub struct Report {
    pub lesson: String,
    pub quick: bool,
    pub seed: u64,
    pub claims: Vec<Claim>,
    pub metrics: BTreeMap<String, f64>,
    pub artefacts: Vec<Artefact>,
    pub build: BuildInfo,
    pub duration_s: f64,
}

impl Report {
    /// Reads a report written by a lesson; a missing, unreadable or malformed file is an error
    /// that names it.
    pub fn read(path: &Path) -> Result<Report, Error> {
        let text = crate::read_text(path)?;
        serde_json::from_str(&text).map_err(|e| Error::Report {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// The report as the JSON text written to disk.
    pub fn to_json(&self) -> String {
        // A report holds strings, numbers and booleans only, so serialising cannot fail; a
        // non-finite metric becomes null.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The claims that did not hold.
    pub fn failed(&self) -> impl Iterator<Item = &Claim> {
        self.claims.iter().filter(|c| !c.holds)
    }

    /// The artefacts of one kind.
    pub fn artefacts_of(&self, kind: ArtefactKind) -> impl Iterator<Item = &Artefact> {
        self.artefacts.iter().filter(move |a| a.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_round_trips_and_a_broken_one_is_named() {
        let report = Report {
            lesson: "demo".into(),
            quick: true,
            seed: 7,
            claims: vec![Claim {
                claim: "two is even".into(),
                holds: true,
                evidence: "2 mod 2 = 0".into(),
                values: BTreeMap::from([("remainder".to_string(), 0.0)]),
            }],
            metrics: BTreeMap::new(),
            artefacts: vec![Artefact {
                kind: ArtefactKind::Figure,
                location: "a.png".into(),
            }],
            build: BuildInfo {
                profile: "release".into(),
                cpus: 2,
            },
            duration_s: 0.5,
        };
        let dir = std::env::temp_dir().join(format!("catalogue-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.json");
        crate::write_atomically(&path, report.to_json()).unwrap();
        assert_eq!(Report::read(&path).unwrap(), report);
        assert_eq!(report.artefacts_of(ArtefactKind::Figure).count(), 1);
        std::fs::write(&path, "{\"lesson\": 3").unwrap();
        let err = Report::read(&path).unwrap_err().to_string();
        assert!(err.contains("report.json is not a lesson report"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

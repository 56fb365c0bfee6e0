//! Texts derived from the catalogue, never edited by hand: the README's topic index, each lesson
//! package's `[[example]]` entries, and the question and answer in each lesson's `//!` header.
//! `workbook dev sync` writes them; the tests fail when one is stale.

use crate::catalogue::{Catalogue, Entry, LessonSite, Status};
use crate::{ArtefactKind, Error};

/// The markers around the generated index in README.md.
pub const INDEX_START: &str = "<!-- topic-index:start (generated from catalogue.toml by `workbook dev sync`; do not edit) -->";
pub const INDEX_END: &str = "<!-- topic-index:end -->";

/// The markers around the generated `[[example]]` entries in a lesson package's Cargo.toml.
pub const EXAMPLES_START: &str =
    "# lessons:start (generated from catalogue.toml by `workbook dev sync`; do not edit)";
pub const EXAMPLES_END: &str = "# lessons:end";

/// The width the generated header paragraphs are wrapped to, `//! ` included.
const HEADER_WIDTH: usize = 100;

/// The README's topic index.
pub fn markdown_index(catalogue: &Catalogue) -> String {
    let mut out = String::new();
    let ready = catalogue
        .entries
        .iter()
        .filter(|e| e.status == Status::Ready)
        .count();
    out.push_str(&format!(
        "{} entries in {} sections; {} ready. Run a ready lesson with `cargo run --example <lesson>`.\n",
        catalogue.entries.len(),
        catalogue.sections.len(),
        ready
    ));
    for s in &catalogue.sections {
        out.push_str(&format!(
            "\n### {}. {}\n\nFrom Python: {}.\n\n| # | Topic | Question | Lesson | Level | Status |\n|---|---|---|---|---|---|\n",
            s.number, s.title, s.python
        ));
        for e in catalogue.in_section(&s.id) {
            let lesson = match (e.status, catalogue.site(&e.lesson)) {
                (Status::Ready, Some(site)) => {
                    format!("[`{}`]({})", e.lesson, site.source().display())
                }
                _ => format!("`{}`", e.lesson),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                e.number,
                e.title,
                e.question.replace('|', "\\|"),
                lesson,
                e.difficulty,
                e.status
            ));
        }
    }
    out
}

/// Replaces the text between `start` and `end` (both kept) in `text` with `generated`.
pub fn splice(text: &str, start: &str, end: &str, generated: &str) -> Result<String, String> {
    let from = text
        .find(start)
        .ok_or_else(|| format!("lacks the marker {start}"))?;
    let to = text[from..]
        .find(end)
        .map(|offset| from + offset)
        .ok_or_else(|| format!("lacks the marker {end}"))?;
    Ok(format!(
        "{}{start}\n{generated}{}",
        &text[..from],
        &text[to..]
    ))
}

/// The README with its topic index regenerated.
pub fn readme_with_index(catalogue: &Catalogue, readme: &str) -> Result<String, Error> {
    splice(readme, INDEX_START, INDEX_END, &markdown_index(catalogue)).map_err(|message| {
        Error::Source {
            path: "README.md".into(),
            message,
        }
    })
}

/// The `[[example]]` entries of one lesson package: its ready lessons, in topic-map order. The
/// paths are relative to the package's folder (`crates/<package>`).
pub fn example_entries(catalogue: &Catalogue, package: &str) -> String {
    catalogue
        .ready_sites()
        .into_iter()
        .filter(|site| site.package == package)
        .map(|site| {
            format!(
                "[[example]]\nname = \"{}\"\npath = \"../../{}\"\n\n",
                site.name,
                site.source().display()
            )
        })
        .collect()
}

/// A lesson package's manifest with its `[[example]]` entries regenerated.
pub fn manifest_with_examples(
    catalogue: &Catalogue,
    package: &str,
    manifest: &str,
) -> Result<String, Error> {
    splice(
        manifest,
        EXAMPLES_START,
        EXAMPLES_END,
        &example_entries(catalogue, package),
    )
    .map_err(|message| Error::Manifest {
        path: format!("crates/{package}/Cargo.toml").into(),
        message,
    })
}

/// A lesson's source with the question, answer and run line of its `//!` header regenerated from
/// the catalogue; the title line and everything after the header are kept.
pub fn source_with_header(entry: &Entry, site: &LessonSite, source: &str) -> Result<String, Error> {
    let header: Vec<&str> = source
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .collect();
    let title = header
        .first()
        .filter(|l| l.starts_with("//! # "))
        .ok_or_else(|| Error::Source {
            path: site.source(),
            message: "the lesson must open with a `//! # Title` line".into(),
        })?;
    let body: Vec<&str> = source.lines().skip(header.len()).collect();
    let mut out = vec![title.to_string(), "//!".to_string()];
    out.extend(wrap("**Question:**", &entry.question));
    out.push("//!".into());
    out.extend(wrap("**Answer:**", &entry.answer));
    out.push("//!".into());
    if !entry.evidence.is_empty() {
        out.extend(wrap("**Evidence:**", &entry.evidence));
        out.push("//!".into());
    }
    // A lesson that serves (it records endpoints) can keep its server running for a person.
    let run = if entry.artefacts.contains(&ArtefactKind::Endpoint) {
        format!(
            "`cargo run --example {}` (add `-- --quick` for a short run, `-- --serve` to keep its server running for you).",
            site.name
        )
    } else {
        format!(
            "`cargo run --example {}` (add `-- --quick` for a short run).",
            site.name
        )
    };
    out.extend(wrap("**Run:**", &run));
    out.extend(body.iter().map(|l| l.to_string()));
    let mut text = out.join("\n");
    text.push('\n');
    Ok(text)
}

/// `label text…` as `//!` lines of at most [`HEADER_WIDTH`] characters, broken between words.
fn wrap(label: &str, text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = format!("//! {label}");
    for word in text.split_whitespace() {
        if line.chars().count() + 1 + word.chars().count() > HEADER_WIDTH && line.len() > 4 {
            lines.push(std::mem::replace(&mut line, format!("//! {word}")));
        } else {
            line.push(' ');
            line.push_str(word);
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_between_markers_and_keeps_them() {
        let text = "a\n<s>\nold\n<e>\nb\n";
        assert_eq!(
            splice(text, "<s>", "<e>", "new\n").unwrap(),
            "a\n<s>\nnew\n<e>\nb\n"
        );
        assert!(splice("no markers", "<s>", "<e>", "x").is_err());
    }

    #[test]
    fn headers_wrap_at_the_width_and_keep_the_title_and_body() {
        let catalogue = Catalogue::load().unwrap();
        let entry = catalogue.find("broadcasting").unwrap();
        let site = catalogue.site("broadcasting").unwrap();
        let source = "//! # Broadcasting\n//!\n//! **Question:** old\n//!\n//! **Answer:** old\n\nfn main() {}\n";
        let text = source_with_header(entry, &site, source).unwrap();
        assert!(text.starts_with("//! # Broadcasting\n//!\n//! **Question:** What are"));
        assert!(text.ends_with("\n\nfn main() {}\n"));
        assert!(text.lines().all(|l| l.chars().count() <= HEADER_WIDTH));
        // The answer is the catalogue's, word for word, once the wrapping is undone.
        let header: Vec<&str> = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| l.trim_start_matches("//!").trim())
            .collect();
        assert!(
            header
                .join(" ")
                .contains(&format!("**Answer:** {}", entry.answer))
        );
        assert!(text.contains("//! **Run:** `cargo run --example broadcasting`"));
        // Regenerating is idempotent.
        assert_eq!(source_with_header(entry, &site, &text).unwrap(), text);
    }

    #[test]
    fn example_entries_point_at_section_folders() {
        let catalogue = Catalogue::load().unwrap();
        let entries = example_entries(&catalogue, "lessons-arrays");
        assert!(entries.contains(
            "[[example]]\nname = \"broadcasting\"\npath = \"../../examples/numpy/broadcasting.rs\"\n"
        ));
        assert!(!entries.contains("series_dataframe"));
    }
}

/// A file derived from the catalogue: its path relative to the workspace root and the text it must
/// hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub path: std::path::PathBuf,
    pub text: String,
}

/// Every file derived from the catalogue, as it must read: the README (its topic index, and its
/// performance table from the last recorded `workbook compare --all`), the
/// manifest of each package that owns ready lessons (its `[[example]]` entries), each ready lesson
/// (its header) and each ready lesson's notebook (built from the regenerated source).
pub fn derived_files(root: &std::path::Path, catalogue: &Catalogue) -> Result<Vec<Derived>, Error> {
    use std::path::PathBuf;
    let mut derived = Vec::new();
    let readme = crate::read_text(&root.join("README.md"))?;
    let readme = readme_with_index(catalogue, &readme)?;
    let record_path = root.join(crate::comparison::RECORD);
    let record: Option<crate::comparison::Comparison> = match record_path.exists() {
        true => Some(
            serde_json::from_str(&crate::read_text(&record_path)?).map_err(|e| Error::Source {
                path: crate::comparison::RECORD.into(),
                message: e.to_string(),
            })?,
        ),
        false => None,
    };
    derived.push(Derived {
        path: PathBuf::from("README.md"),
        text: crate::comparison::readme_with_table(&readme, record.as_ref()).map_err(
            |message| Error::Source {
                path: "README.md".into(),
                message,
            },
        )?,
    });
    let sites = catalogue.ready_sites();
    let mut packages: Vec<&str> = sites.iter().map(|s| s.package).collect();
    packages.sort();
    packages.dedup();
    for package in packages {
        let path = PathBuf::from("crates").join(package).join("Cargo.toml");
        let manifest = crate::read_text(&root.join(&path)).map_err(|_| Error::Manifest {
            path: path.clone(),
            message: format!("the package {package} that owns ready lessons does not exist"),
        })?;
        derived.push(Derived {
            text: manifest_with_examples(catalogue, package, &manifest)?,
            path,
        });
    }
    let workspace_manifest = crate::read_text(&root.join("Cargo.toml"))?;
    for site in &sites {
        let entry = catalogue.find(site.name)?;
        let source = crate::read_text(&root.join(site.source()))?;
        let source = source_with_header(entry, site, &source)?;
        let notebook =
            crate::notebook::Notebook::from_lesson(site.name, &source, &workspace_manifest)?;
        derived.push(Derived {
            path: site.source(),
            text: source,
        });
        derived.push(Derived {
            path: PathBuf::from("notebooks").join(format!("{}.ipynb", site.name)),
            text: notebook.to_text(),
        });
    }
    Ok(derived)
}

/// Notebooks in `notebooks/` whose lesson is no longer ready: generated files with no source.
pub fn stray_notebooks(
    root: &std::path::Path,
    catalogue: &Catalogue,
) -> Result<Vec<std::path::PathBuf>, Error> {
    let folder = root.join("notebooks");
    let ready = catalogue.ready_lessons();
    let mut stray = Vec::new();
    for entry in std::fs::read_dir(&folder).map_err(|e| Error::io(&folder, e))? {
        let path = entry.map_err(|e| Error::io(&folder, e))?.path();
        let is_notebook = path.extension().is_some_and(|e| e == "ipynb");
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        if is_notebook && !stem.is_some_and(|s| ready.contains(&s.as_str())) {
            stray.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(stray)
}

//! The catalogue: one table (`catalogue.toml` at the workspace root) of every section and topic.
//!
//! The CLI, the generated texts, the harness and the tests all read it, at run time: editing the
//! catalogue needs no rebuild, and a broken one is an error that names the file and the problem.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// Whether a topic's lesson exists and passes, or is still to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ready,
    Planned,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Status::Ready => "ready",
            Status::Planned => "planned",
        })
    }
}

/// How hard an interviewer would consider the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    Basic,
    Intermediate,
    Advanced,
}

impl fmt::Display for Difficulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Difficulty::Basic => "basic",
            Difficulty::Intermediate => "intermediate",
            Difficulty::Advanced => "advanced",
        })
    }
}

/// The kinds of evidence a lesson can leave behind. The harness validates each kind when a
/// lesson records it; the catalogue says which kinds each ready lesson must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtefactKind {
    /// A chart drawn twice, as PNG and SVG.
    Figure,
    /// A standalone HTML page that loads nothing from the network.
    Html,
    /// A CSV table with a header row.
    Table,
    /// A data file the lesson wrote (Parquet, JSON, a notebook…).
    Data,
    /// A saved model.
    Model,
    /// An address the lesson served on loopback while it ran.
    Endpoint,
}

impl fmt::Display for ArtefactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            ArtefactKind::Figure => "figure",
            ArtefactKind::Html => "html",
            ArtefactKind::Table => "table",
            ArtefactKind::Data => "data",
            ArtefactKind::Model => "model",
            ArtefactKind::Endpoint => "endpoint",
        })
    }
}

/// One of the ten sections.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Short name used on the command line (`--section numpy`) and as the lessons' folder
    /// (`examples/<id>/`).
    pub id: String,
    pub number: u32,
    pub title: String,
    /// The Python tools the section translates from.
    pub python: String,
    /// The package (under `crates/`) that owns the section's lessons, unless a topic names its own.
    pub package: String,
}

/// One topic or common question.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Unique name; for a topic with its own lesson, the lesson's name.
    pub id: String,
    /// The section's id.
    pub section: String,
    /// Position in the topic map (1–73).
    pub number: u32,
    pub title: String,
    pub question: String,
    /// "In 30 seconds": the answer as a candidate would say it, without the lesson's numbers.
    pub answer: String,
    /// "The evidence": what the lesson measured, with its numbers (ready entries).
    #[serde(default)]
    pub evidence: String,
    /// "In Python": the calls an interviewer expects, each next to the Rust that does the same
    /// in this workbook (ready entries).
    #[serde(default)]
    pub python: Vec<Translation>,
    /// "Follow-ups": questions an interviewer asks next, with short answers (ready entries).
    #[serde(default)]
    pub follow_ups: Vec<FollowUp>,
    /// The common mistakes on this topic (ready entries).
    #[serde(default)]
    pub pitfalls: Vec<String>,
    /// Predict-then-reveal questions about numbers the lesson's report holds (for the quiz).
    #[serde(default)]
    pub predictions: Vec<Prediction>,
    /// The lesson (`examples/<section>/<lesson>.rs`, where the section is that of the entry whose
    /// id is the lesson's name) that answers the question.
    pub lesson: String,
    pub difficulty: Difficulty,
    /// A nudge for self-quizzing, without giving the answer away.
    pub hint: String,
    pub status: Status,
    /// The package that owns this topic's lesson when it is not the section's package.
    #[serde(default)]
    pub package: Option<String>,
    /// The kinds of evidence the lesson must produce (for the entry that owns the lesson).
    #[serde(default)]
    pub artefacts: Vec<ArtefactKind>,
}

impl Entry {
    /// The prose a search looks through beyond the title and question: the answer, the evidence,
    /// the hint, the Python translations, the follow-ups and the pitfalls.
    fn searchable_text(&self) -> String {
        let mut text = format!("{} {} {}", self.answer, self.evidence, self.hint);
        for t in &self.python {
            text.push_str(&format!(" {} {}", t.python, t.rust));
        }
        for f in &self.follow_ups {
            text.push_str(&format!(" {} {}", f.question, f.answer));
        }
        for p in &self.pitfalls {
            text.push(' ');
            text.push_str(p);
        }
        text
    }
}

/// One Python call and the Rust that does the same job here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    pub python: String,
    pub rust: String,
}

/// A question whose answer is a number the lesson measures: the reader picks one of a few options
/// on a sensible scale, then sees the value from the lesson's latest report on this machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prediction {
    pub question: String,
    /// Which number: a metric of the report (`against_layout_slowdown`), or one metric or number
    /// divided by another (`ns_linear_100000 / ns_hash_100000`, `fold_interval_coverage / 0.01`).
    pub metric: String,
    /// The choices, increasing; the right one is the nearest to the measured value on a log scale.
    pub options: Vec<f64>,
    /// What the numbers count ("×", "%", "ms", "MiB").
    pub unit: String,
}

impl Prediction {
    /// The measured value in `report`, or why it cannot be found there.
    pub fn measured(&self, report: &crate::Report) -> Result<f64, String> {
        let term =
            |text: &str| -> Result<f64, String> {
                let text = text.trim();
                if let Ok(number) = text.parse::<f64>() {
                    return Ok(number);
                }
                report.metrics.get(text).copied().ok_or_else(|| {
                    format!("the report of {} has no metric {text:?}", report.lesson)
                })
            };
        let value = match self.metric.split_once('/') {
            Some((numerator, denominator)) => term(numerator)? / term(denominator)?,
            None => term(&self.metric)?,
        };
        if value.is_finite() && value > 0.0 {
            Ok(value)
        } else {
            Err(format!(
                "{} is {value} in the report of {}",
                self.metric, report.lesson
            ))
        }
    }

    /// The index of the option nearest to `value` on a log scale.
    pub fn nearest_option(&self, value: f64) -> usize {
        let distance = |o: f64| (o.ln() - value.ln()).abs();
        (0..self.options.len())
            .min_by(|&a, &b| distance(self.options[a]).total_cmp(&distance(self.options[b])))
            .unwrap_or(0)
    }

    fn check(&self) -> Result<(), String> {
        let terms: Vec<&str> = self.metric.split('/').map(str::trim).collect();
        if terms.len() > 2 || terms.iter().any(|t| t.is_empty()) {
            return Err(format!(
                "metric {:?} must be a name, or a name or number divided by another",
                self.metric
            ));
        }
        if self.options.len() < 3 || self.options.iter().any(|o| !(o.is_finite() && *o > 0.0)) {
            return Err("a prediction needs at least three positive options".into());
        }
        if !self.options.windows(2).all(|w| w[0] < w[1]) {
            return Err("a prediction's options must increase".into());
        }
        if self.question.trim().is_empty() || self.unit.trim().is_empty() {
            return Err("a prediction needs a question and a unit".into());
        }
        Ok(())
    }
}

/// A question an interviewer asks next, and its short answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub question: String,
    pub answer: String,
}

/// The whole catalogue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    #[serde(rename = "section")]
    pub sections: Vec<Section>,
    #[serde(rename = "topic")]
    pub entries: Vec<Entry>,
}

/// Where a ready lesson lives and what it must produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonSite<'a> {
    /// The lesson's name: its example and its binary.
    pub name: &'a str,
    /// The section folder under `examples/`.
    pub section: &'a str,
    /// The package under `crates/` whose `[[example]]` it is.
    pub package: &'a str,
    /// The kinds of evidence it must produce.
    pub artefacts: &'a [ArtefactKind],
}

impl LessonSite<'_> {
    /// The lesson's source, relative to the workspace root: `examples/<section>/<name>.rs`.
    pub fn source(&self) -> PathBuf {
        Path::new("examples")
            .join(self.section)
            .join(format!("{}.rs", self.name))
    }
}

impl Catalogue {
    /// The catalogue of this workspace (`catalogue.toml` at its root), parsed and validated.
    pub fn load() -> Result<Catalogue, Error> {
        Catalogue::read(&crate::workspace_root().join("catalogue.toml"))
    }

    /// Reads, parses and validates a catalogue file.
    pub fn read(path: &Path) -> Result<Catalogue, Error> {
        Catalogue::parse(&crate::read_text(path)?).map_err(|e| match e {
            Error::Catalogue { message, .. } => Error::Catalogue {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    /// Parses and validates a catalogue text.
    pub fn parse(text: &str) -> Result<Catalogue, Error> {
        let invalid = |message: String| Error::Catalogue {
            path: PathBuf::from("catalogue.toml"),
            message,
        };
        let catalogue: Catalogue = toml::from_str(text).map_err(|e| invalid(one_line(&e, text)))?;
        catalogue.validate().map_err(invalid)?;
        Ok(catalogue)
    }

    fn validate(&self) -> Result<(), String> {
        let bad = |m: String| Err(m);
        let mut section_ids = HashSet::new();
        for s in &self.sections {
            if !section_ids.insert(s.id.as_str()) {
                return bad(format!("section {} appears twice", s.id));
            }
        }
        let mut ids = HashSet::new();
        let mut numbers = HashSet::new();
        for e in &self.entries {
            if !ids.insert(e.id.as_str()) {
                return bad(format!("entry {} appears twice", e.id));
            }
            if !numbers.insert(e.number) {
                return bad(format!("entry {} reuses number {}", e.id, e.number));
            }
            if !section_ids.contains(e.section.as_str()) {
                return bad(format!(
                    "entry {} names unknown section {}",
                    e.id, e.section
                ));
            }
            let snake = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            };
            if !snake(&e.id) || !snake(&e.lesson) || !snake(&e.section) {
                return bad(format!("entry {}: id and lesson must be snake_case", e.id));
            }
            for (field, value) in [
                ("title", &e.title),
                ("question", &e.question),
                ("answer", &e.answer),
                ("hint", &e.hint),
            ] {
                if value.trim().is_empty() {
                    return bad(format!("entry {} has an empty {field}", e.id));
                }
            }
        }
        for s in &self.sections {
            if s.package.trim().is_empty() {
                return bad(format!("section {} names no package", s.id));
            }
        }
        for e in &self.entries {
            let owns_lesson = e.id == e.lesson;
            if !owns_lesson && (!e.artefacts.is_empty() || e.package.is_some()) {
                return bad(format!(
                    "entry {} points at lesson {}: its artefacts and package belong to that entry",
                    e.id, e.lesson
                ));
            }
            let has_parts = !e.evidence.is_empty()
                || !e.python.is_empty()
                || !e.follow_ups.is_empty()
                || !e.pitfalls.is_empty()
                || !e.predictions.is_empty();
            for p in &e.predictions {
                p.check().map_err(|m| format!("entry {}: {m}", e.id))?;
            }
            if !owns_lesson && has_parts {
                return bad(format!(
                    "entry {} points at lesson {}: its evidence, python, follow-ups, pitfalls and predictions are that entry's",
                    e.id, e.lesson
                ));
            }
            if owns_lesson && e.status == Status::Ready {
                let missing: Vec<&str> = [
                    ("evidence", e.evidence.trim().is_empty()),
                    ("python", e.python.is_empty()),
                    ("follow_ups (at least two)", e.follow_ups.len() < 2),
                    ("pitfalls", e.pitfalls.is_empty()),
                ]
                .into_iter()
                .filter_map(|(part, absent)| absent.then_some(part))
                .collect();
                if !missing.is_empty() {
                    return bad(format!(
                        "entry {} is ready but has no {}",
                        e.id,
                        missing.join(", ")
                    ));
                }
                let blank = e
                    .python
                    .iter()
                    .any(|t| t.python.trim().is_empty() || t.rust.trim().is_empty())
                    || e.follow_ups
                        .iter()
                        .any(|f| f.question.trim().is_empty() || f.answer.trim().is_empty())
                    || e.pitfalls.iter().any(|p| p.trim().is_empty());
                if blank {
                    return bad(format!(
                        "entry {} has an empty python, follow-up or pitfall text",
                        e.id
                    ));
                }
            }
            if owns_lesson && e.status == Status::Ready && e.artefacts.is_empty() {
                return bad(format!(
                    "entry {} is ready but lists no artefacts (figure, html, table, data, model, endpoint)",
                    e.id
                ));
            }
        }
        // An entry that points at another topic's lesson cannot be ready before that topic is.
        for e in &self.entries {
            if e.status == Status::Ready
                && let Some(owner) = self.entries.iter().find(|o| o.id == e.lesson)
                && owner.status != Status::Ready
            {
                return bad(format!(
                    "entry {} is ready but its lesson {} is planned",
                    e.id, e.lesson
                ));
            }
        }
        Ok(())
    }

    /// The entry whose lesson `entry` points at (itself when it owns its lesson): the one that
    /// holds the evidence, the Python translations, the follow-ups and the pitfalls.
    pub fn lesson_owner<'a>(&'a self, entry: &'a Entry) -> &'a Entry {
        self.entries
            .iter()
            .find(|o| o.id == entry.lesson)
            .unwrap_or(entry)
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// The section a user named, by id (`numpy`) or number (`2`); an unknown name is an error
    /// that lists the sections.
    pub fn section_named(&self, name: &str) -> Result<&Section, Error> {
        self.sections
            .iter()
            .find(|s| s.id == name || s.number.to_string() == name)
            .ok_or_else(|| Error::UnknownSection {
                name: name.to_string(),
                sections: self.sections.iter().map(|s| s.id.clone()).collect(),
            })
    }

    /// Entries of a section, in topic-map order.
    pub fn in_section<'a>(&'a self, section: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| e.section == section)
    }

    /// Where a lesson lives: the section and package of the entry that owns it (the entry whose id
    /// is the lesson's name, or else the first entry that names it).
    pub fn site(&self, lesson: &str) -> Option<LessonSite<'_>> {
        let owner = self
            .entries
            .iter()
            .find(|e| e.id == lesson)
            .or_else(|| self.entries.iter().find(|e| e.lesson == lesson))?;
        let section = self.section(&owner.section)?;
        Some(LessonSite {
            name: &owner.lesson,
            section: &owner.section,
            package: owner.package.as_deref().unwrap_or(&section.package),
            artefacts: &owner.artefacts,
        })
    }

    /// Where every ready lesson lives, in topic-map order.
    pub fn ready_sites(&self) -> Vec<LessonSite<'_>> {
        self.ready_lessons()
            .into_iter()
            .filter_map(|lesson| self.site(lesson))
            .collect()
    }

    /// The lessons of all ready entries, each once, in topic-map order.
    pub fn ready_lessons(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        let mut sorted: Vec<&Entry> = self.entries.iter().collect();
        sorted.sort_by_key(|e| e.number);
        sorted
            .into_iter()
            .filter(|e| e.status == Status::Ready && seen.insert(e.lesson.as_str()))
            .map(|e| e.lesson.as_str())
            .collect()
    }

    /// The ready lessons of the section a user named (id or number), in site order; an unknown
    /// section is an error that lists the sections.
    pub fn ready_lessons_in(&self, section: &str) -> Result<Vec<&str>, Error> {
        let section = self.section_named(section)?;
        Ok(self
            .ready_sites()
            .into_iter()
            .filter(|site| site.section == section.id)
            .map(|site| site.name)
            .collect())
    }

    /// Finds an entry by id, by lesson name (the entry that owns the lesson first) or by number.
    /// An unknown name is an error that suggests the closest names.
    pub fn find(&self, name: &str) -> Result<&Entry, Error> {
        let name = name.trim();
        let found = self
            .entries
            .iter()
            .find(|e| e.id == name)
            .or_else(|| self.entries.iter().find(|e| e.lesson == name))
            .or_else(|| {
                name.parse::<u32>()
                    .ok()
                    .and_then(|n| self.entries.iter().find(|e| e.number == n))
            });
        found.ok_or_else(|| Error::UnknownTopic {
            name: name.to_string(),
            suggestions: self.suggest(name),
        })
    }

    /// Up to three names close to `name` (by edit distance, or containing it).
    pub fn suggest(&self, name: &str) -> Vec<String> {
        let name = name.to_lowercase().replace(['-', ' '], "_");
        let mut names: Vec<&str> = self
            .entries
            .iter()
            .flat_map(|e| [e.id.as_str(), e.lesson.as_str()])
            .collect();
        names.sort();
        names.dedup();
        let mut scored: Vec<(usize, &str)> = names
            .into_iter()
            .filter_map(|candidate| {
                let distance = edit_distance(&name, candidate);
                let close = distance <= (candidate.len().max(name.len()) / 3).max(2);
                let contains = name.len() >= 3 && candidate.contains(&name);
                (close || contains).then_some((if contains { 0 } else { distance }, candidate))
            })
            .collect();
        scored.sort();
        scored
            .into_iter()
            .take(3)
            .map(|(_, c)| c.to_string())
            .collect()
    }

    /// Entries ranked by how well they match the words: a word found in the id, lesson or title
    /// counts 4, in the question 2, in the answer or hint 1 (a word also matches the start of a
    /// longer word, so "broadcast" finds "broadcasting"). Entries that match nothing are left out.
    pub fn search(&self, query: &str) -> Vec<(u32, &Entry)> {
        let words: Vec<String> = tokens(query)
            .into_iter()
            .filter(|w| w.len() >= 2 && !STOP_WORDS.contains(&w.as_str()))
            .collect();
        let mut hits: Vec<(u32, &Entry)> = self
            .entries
            .iter()
            .map(|e| {
                let head = tokens(&format!("{} {} {}", e.id, e.lesson, e.title));
                let question = tokens(&e.question);
                let rest = tokens(&e.searchable_text());
                let has = |field: &[String], w: &str| {
                    field
                        .iter()
                        .any(|t| t == w || (w.len() >= 4 && t.starts_with(w)))
                };
                let score = words
                    .iter()
                    .map(|w| {
                        4 * has(&head, w) as u32
                            + 2 * has(&question, w) as u32
                            + has(&rest, w) as u32
                    })
                    .sum();
                (score, e)
            })
            .filter(|(score, _)| *score > 0)
            .collect();
        hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.number.cmp(&b.1.number)));
        hits
    }
}

/// A TOML error as one line: "line L, column C: message" (toml's own text draws the line).
fn one_line(error: &toml::de::Error, text: &str) -> String {
    let message = error.message().trim().replace('\n', "; ");
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

const STOP_WORDS: [&str; 16] = [
    "a", "an", "the", "of", "in", "to", "and", "or", "is", "are", "what", "how", "why", "vs", "do",
    "does",
];

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Levenshtein distance between two strings (by characters).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn the_catalogue_parses_and_finds_by_id_lesson_and_number() {
        let c = Catalogue::load().unwrap();
        assert_eq!(
            c.site("broadcasting").unwrap().source(),
            Path::new("examples/numpy/broadcasting.rs")
        );
        assert_eq!(c.find("broadcasting").unwrap().id, "broadcasting");
        assert_eq!(c.find("10").unwrap().id, "broadcasting");
        let err = c.find("brodcasting").unwrap_err().to_string();
        assert!(err.contains("broadcasting"), "{err}");
    }

    #[test]
    fn search_ranks_title_matches_first() {
        let c = Catalogue::load().unwrap();
        let hits = c.search("broadcast shapes");
        assert_eq!(hits[0].1.id, "broadcasting");
        assert!(c.search("zzzz qqqq").is_empty());
    }

    #[test]
    fn a_ready_entry_needs_the_four_parts_and_a_pointer_entry_borrows_them() {
        let head = "[[section]]\nid = \"s\"\nnumber = 1\ntitle = \"S\"\npython = \"p\"\npackage = \"lessons-s\"\n";
        let owner = "[[topic]]\nid = \"x\"\nsection = \"s\"\nnumber = 1\ntitle = \"t\"\nquestion = \"q\"\nanswer = \"a\"\nlesson = \"x\"\ndifficulty = \"basic\"\nhint = \"h\"\nstatus = \"ready\"\nartefacts = [\"figure\"]\n";
        let parts = "evidence = \"e\"\npython = [{ python = \"p\", rust = \"r\" }]\nfollow_ups = [{ question = \"q1\", answer = \"a1\" }, { question = \"q2\", answer = \"a2\" }]\npitfalls = [\"p\"]\n";
        let bare = Catalogue::parse(&format!("{head}{owner}"))
            .unwrap_err()
            .to_string();
        assert!(
            bare.contains(
                "entry x is ready but has no evidence, python, follow_ups (at least two), pitfalls"
            ),
            "{bare}"
        );
        let pointer = "[[topic]]\nid = \"y\"\nsection = \"s\"\nnumber = 2\ntitle = \"t\"\nquestion = \"q\"\nanswer = \"a\"\nlesson = \"x\"\ndifficulty = \"basic\"\nhint = \"h\"\nstatus = \"ready\"\n";
        let c = Catalogue::parse(&format!("{head}{owner}{parts}{pointer}")).unwrap();
        let y = c.find("y").unwrap();
        assert_eq!(c.lesson_owner(y).id, "x");
        assert_eq!(c.lesson_owner(y).follow_ups.len(), 2);
        // The parts have one home: a pointer entry may not carry its own.
        let err = Catalogue::parse(&format!("{head}{owner}{parts}{pointer}evidence = \"e\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("entry y points at lesson x"), "{err}");
    }

    #[test]
    fn duplicates_and_unknown_sections_are_rejected() {
        let entry = |id: &str, section: &str, n: u32| {
            format!(
                "[[topic]]\nid = \"{id}\"\nsection = \"{section}\"\nnumber = {n}\ntitle = \"t\"\nquestion = \"q\"\nanswer = \"a\"\nlesson = \"{id}\"\ndifficulty = \"basic\"\nhint = \"h\"\nstatus = \"planned\"\n"
            )
        };
        let head = "[[section]]\nid = \"s\"\nnumber = 1\ntitle = \"S\"\npython = \"p\"\npackage = \"lessons-s\"\n";
        let twice = format!("{head}{}{}", entry("x", "s", 1), entry("x", "s", 2));
        assert!(
            Catalogue::parse(&twice)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let err = Catalogue::parse("[[section]]\nid = 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2, column 6:") && !err.contains('\n'),
            "{err}"
        );
        let unknown = format!("{head}{}", entry("x", "nope", 1));
        assert!(
            Catalogue::parse(&unknown)
                .unwrap_err()
                .to_string()
                .contains("unknown section")
        );
    }
}

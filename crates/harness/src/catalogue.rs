//! The catalogue: one table (`catalogue.toml` at the workspace root) of every section and topic.
//!
//! The CLI, the README's topic index and the tests all read it. The file is compiled into the
//! library, so the `workbook` binary answers `list`, `show` and `search` from anywhere.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The catalogue's text, as compiled in.
pub const SOURCE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalogue.toml"));

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

/// One of the ten sections.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Short name used on the command line (`--section numpy`).
    pub id: String,
    pub number: u32,
    pub title: String,
    /// The Python tools the section translates from.
    pub python: String,
}

/// One topic or common question.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Unique name; for a topic with its own lesson, the lesson's name.
    pub id: String,
    /// The section's id.
    pub section: String,
    /// Position in the topic map (1–80).
    pub number: u32,
    pub title: String,
    pub question: String,
    /// The project's own short answer, grounded in what the lesson measures.
    pub answer: String,
    /// The example (`examples/<lesson>.rs`) that answers the question.
    pub lesson: String,
    pub difficulty: Difficulty,
    /// A nudge for self-quizzing, without giving the answer away.
    pub hint: String,
    pub status: Status,
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

impl Catalogue {
    /// The compiled-in catalogue, parsed and validated.
    pub fn load() -> Result<Catalogue, Error> {
        Catalogue::parse(SOURCE)
    }

    /// Parses and validates a catalogue text.
    pub fn parse(text: &str) -> Result<Catalogue, Error> {
        let catalogue: Catalogue =
            toml::from_str(text).map_err(|e| Error::Catalogue(e.to_string()))?;
        catalogue.validate()?;
        Ok(catalogue)
    }

    fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::Catalogue(m));
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
            if !snake(&e.id) || !snake(&e.lesson) {
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

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// Entries of a section, in topic-map order.
    pub fn in_section<'a>(&'a self, section: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| e.section == section)
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
                let rest = tokens(&format!("{} {}", e.answer, e.hint));
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

    /// The README's topic index, generated from the catalogue (never edited by hand).
    pub fn markdown_index(&self) -> String {
        let mut out = String::new();
        let ready = self
            .entries
            .iter()
            .filter(|e| e.status == Status::Ready)
            .count();
        out.push_str(&format!(
            "{} entries in {} sections; {} ready. Run a ready lesson with `cargo run --example <lesson>`.\n",
            self.entries.len(),
            self.sections.len(),
            ready
        ));
        for s in &self.sections {
            out.push_str(&format!(
                "\n### {}. {}\n\nFrom Python: {}.\n\n| # | Topic | Question | Lesson | Level | Status |\n|---|---|---|---|---|---|\n",
                s.number, s.title, s.python
            ));
            for e in self.in_section(&s.id) {
                let lesson = match e.status {
                    Status::Ready => format!("[`{0}`](examples/{0}.rs)", e.lesson),
                    Status::Planned => format!("`{}`", e.lesson),
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
}

/// The markers around the generated index in README.md.
pub const INDEX_START: &str = "<!-- topic-index:start (generated from catalogue.toml by `workbook index --write`; do not edit) -->";
pub const INDEX_END: &str = "<!-- topic-index:end -->";

/// Replaces the text between the index markers of `readme` with `index`.
pub fn splice_index(readme: &str, index: &str) -> Result<String, Error> {
    let start = readme
        .find(INDEX_START)
        .ok_or_else(|| Error::Catalogue(format!("README.md lacks the marker {INDEX_START}")))?;
    let end = readme
        .find(INDEX_END)
        .filter(|&end| end > start)
        .ok_or_else(|| Error::Catalogue(format!("README.md lacks the marker {INDEX_END}")))?;
    Ok(format!(
        "{}{INDEX_START}\n{index}{}",
        &readme[..start],
        &readme[end..]
    ))
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
    fn duplicates_and_unknown_sections_are_rejected() {
        let entry = |id: &str, section: &str, n: u32| {
            format!(
                "[[topic]]\nid = \"{id}\"\nsection = \"{section}\"\nnumber = {n}\ntitle = \"t\"\nquestion = \"q\"\nanswer = \"a\"\nlesson = \"{id}\"\ndifficulty = \"basic\"\nhint = \"h\"\nstatus = \"planned\"\n"
            )
        };
        let head = "[[section]]\nid = \"s\"\nnumber = 1\ntitle = \"S\"\npython = \"p\"\n";
        let twice = format!("{head}{}{}", entry("x", "s", 1), entry("x", "s", 2));
        assert!(
            Catalogue::parse(&twice)
                .unwrap_err()
                .to_string()
                .contains("twice")
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

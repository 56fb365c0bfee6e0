//! The quiz's memory: one card per question, in Leitner boxes, kept in the user's data directory.
//!
//! A card moves up a box when it is answered well and back to the first box when it is missed;
//! the box decides how many days pass before it is asked again. The file is JSON with a format
//! version. Every save happens under a lock file and merges with what is on disk (the newer review
//! of each card wins), then writes a temporary file and renames it over the old one — so two
//! quizzes at once keep each other's answers and a crash never leaves half a file. A file that
//! cannot be read, or that a newer workbook wrote, is set aside as a backup, never overwritten.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The progress file's format; a file with a larger number is kept, not read.
const FORMAT: u32 = 1;

/// Days before a card in box 1, 2, … 5 is due again after a review.
const INTERVAL_DAYS: [u32; 5] = [1, 3, 7, 21, 60];

/// How the reader judged their own answer (Anki's four buttons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    Again,
    Hard,
    Good,
    Easy,
}

impl Grade {
    /// `again`/`hard`/`good`/`easy`, their first letters, or 1–4.
    pub fn parse(text: &str) -> Option<Grade> {
        match text.trim().to_ascii_lowercase().as_str() {
            "a" | "again" | "1" => Some(Grade::Again),
            "h" | "hard" | "2" => Some(Grade::Hard),
            "g" | "good" | "3" => Some(Grade::Good),
            "e" | "easy" | "4" => Some(Grade::Easy),
            _ => None,
        }
    }
}

/// What the quiz remembers about one question.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// The Leitner box, 1 to 5.
    pub level: u8,
    /// The day (counted from 1970-01-01) on or after which it is asked again.
    pub due_day: u64,
    pub reviews: u32,
    pub last_grade: Grade,
    /// When it was last reviewed (milliseconds since 1970): the newer review wins a merge.
    pub reviewed_at_ms: u64,
}

impl Card {
    /// The card after a review graded `grade` on `today`.
    pub fn reviewed(previous: Option<Card>, grade: Grade, today: u64, now_ms: u64) -> Card {
        let level = previous.map_or(1, |c| c.level);
        let level = match grade {
            Grade::Again => 1,
            Grade::Hard => level,
            Grade::Good => (level + 1).min(5),
            Grade::Easy => (level + 2).min(5),
        };
        let days = match grade {
            // Missed: first in line at the next session.
            Grade::Again => 0,
            Grade::Hard => (INTERVAL_DAYS[usize::from(level) - 1] / 2).max(1),
            Grade::Good | Grade::Easy => INTERVAL_DAYS[usize::from(level) - 1],
        };
        Card {
            level,
            due_day: today + u64::from(days),
            reviews: previous.map_or(0, |c| c.reviews) + 1,
            last_grade: grade,
            reviewed_at_ms: now_ms,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ProgressFile {
    format: u32,
    cards: BTreeMap<String, Card>,
}

/// The progress file and what it held when it was last read or saved.
pub struct Progress {
    path: PathBuf,
    cards: BTreeMap<String, Card>,
    /// Where an unreadable file was set aside, if one was, to tell the reader once.
    set_aside: Option<(PathBuf, String)>,
}

impl Progress {
    /// The progress kept at `path` (none yet if the file does not exist). An unreadable file is
    /// renamed to a backup beside it and the quiz starts afresh; [`Progress::set_aside`] says so.
    pub fn open(path: &Path) -> Result<Progress> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let _lock = lock(path)?;
        let (cards, set_aside) = match read(path)? {
            Ok(cards) => (cards, None),
            Err(problem) => {
                let backup = backup_name(path);
                std::fs::rename(path, &backup).with_context(|| {
                    format!(
                        "cannot set {} aside as {}",
                        path.display(),
                        backup.display()
                    )
                })?;
                (BTreeMap::new(), Some((backup, problem)))
            }
        };
        Ok(Progress {
            path: path.to_path_buf(),
            cards,
            set_aside,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The backup an unreadable progress file was moved to, and what was wrong with it.
    pub fn set_aside(&self) -> Option<&(PathBuf, String)> {
        self.set_aside.as_ref()
    }

    pub fn card(&self, key: &str) -> Option<Card> {
        self.cards.get(key).copied()
    }

    /// Records a review and saves at once: under the lock, the file is read again, this card is
    /// merged in (another quiz may have saved other cards meanwhile), and the result replaces the
    /// file atomically.
    pub fn record(&mut self, key: &str, card: Card) -> Result<()> {
        let _lock = lock(&self.path)?;
        let mut on_disk = match read(&self.path)? {
            Ok(cards) => cards,
            // Someone damaged the file while we ran: keep it, as at start.
            Err(problem) => {
                let backup = backup_name(&self.path);
                std::fs::rename(&self.path, &backup)
                    .with_context(|| format!("cannot set {} aside", self.path.display()))?;
                self.set_aside = Some((backup, problem));
                BTreeMap::new()
            }
        };
        for (k, mine) in &self.cards {
            merge(&mut on_disk, k, *mine);
        }
        merge(&mut on_disk, key, card);
        let file = ProgressFile {
            format: FORMAT,
            cards: on_disk,
        };
        let text = serde_json::to_string_pretty(&file).context("encoding the progress")?;
        catalogue::write_atomically(&self.path, &text)?;
        self.cards = file.cards;
        Ok(())
    }
}

/// Keeps the newer of two reviews of the same card.
fn merge(cards: &mut BTreeMap<String, Card>, key: &str, card: Card) {
    match cards.get(key) {
        Some(existing) if existing.reviewed_at_ms >= card.reviewed_at_ms => {}
        _ => {
            cards.insert(key.to_string(), card);
        }
    }
}

/// The cards in the file; `Ok(Err(why))` when the file exists but cannot be used.
fn read(path: &Path) -> Result<std::result::Result<BTreeMap<String, Card>, String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(BTreeMap::new())),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Ok(Err("it is not UTF-8 text".into()));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    // The format number is read first, so a newer file is recognised even if its cards changed.
    #[derive(Deserialize)]
    struct Format {
        format: u32,
    }
    Ok(match serde_json::from_str::<Format>(&text) {
        Err(e) => Err(format!("it is not a progress file ({e})")),
        Ok(f) if f.format > FORMAT => Err(format!(
            "a newer workbook wrote it (format {}, this one reads {FORMAT})",
            f.format
        )),
        Ok(_) => match serde_json::from_str::<ProgressFile>(&text) {
            Ok(file) => Ok(file.cards),
            Err(e) => Err(format!("it is not a progress file ({e})")),
        },
    })
}

/// `progress.json` → `progress.json.unreadable-<milliseconds>`.
fn backup_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".unreadable-{}", now_ms()));
    PathBuf::from(name)
}

/// An exclusive lock on `<path>.lock`, held until the returned file is dropped.
fn lock(path: &Path) -> Result<File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    file.lock()
        .with_context(|| format!("cannot lock {}", lock_path.display()))?;
    Ok(file)
}

/// Milliseconds since 1970.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Days since 1970-01-01, in UTC.
pub fn today() -> u64 {
    now_ms() / 86_400_000
}

/// Where the progress file lives: `$WORKBOOK_DATA_DIR`, else the platform's data directory
/// (`$XDG_DATA_HOME` or `~/.local/share` on Linux, `~/Library/Application Support` on macOS,
/// `%APPDATA%` on Windows), in a folder of the workbook's own.
pub fn default_path() -> Result<PathBuf> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let dir = if let Some(dir) = env("WORKBOOK_DATA_DIR") {
        dir
    } else {
        let base = if cfg!(windows) {
            env("APPDATA")
        } else if cfg!(target_os = "macos") {
            env("HOME").map(|h| h.join("Library").join("Application Support"))
        } else {
            env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| h.join(".local").join("share")))
        };
        base.context("no data directory: set WORKBOOK_DATA_DIR (or HOME)")?
            .join("ds-interview-workbook")
    };
    Ok(dir.join("quiz-progress.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_move_cards_between_boxes() {
        let first = Card::reviewed(None, Grade::Good, 100, 1);
        assert_eq!((first.level, first.due_day), (2, 103));
        let easy = Card::reviewed(Some(first), Grade::Easy, 103, 2);
        assert_eq!((easy.level, easy.due_day), (4, 124));
        let missed = Card::reviewed(Some(easy), Grade::Again, 124, 3);
        assert_eq!((missed.level, missed.due_day, missed.reviews), (1, 124, 3));
        let hard = Card::reviewed(Some(missed), Grade::Hard, 124, 4);
        assert_eq!((hard.level, hard.due_day), (1, 125));
        assert_eq!(Grade::parse(" E "), Some(Grade::Easy));
        assert_eq!(Grade::parse("maybe"), None);
    }

    #[test]
    fn two_quizzes_at_once_keep_each_others_answers() {
        let dir = std::env::temp_dir().join(format!("workbook-progress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("quiz-progress.json");
        // Both sessions start from the same (empty) file, as two terminals would.
        let mut one = Progress::open(&path).unwrap();
        let mut two = Progress::open(&path).unwrap();
        one.record("a", Card::reviewed(None, Grade::Good, 5, 100))
            .unwrap();
        two.record("b", Card::reviewed(None, Grade::Easy, 5, 200))
            .unwrap();
        one.record("c", Card::reviewed(None, Grade::Again, 5, 300))
            .unwrap();
        // The same card reviewed in both: the later review wins, whoever saves last.
        two.record("a", Card::reviewed(None, Grade::Hard, 5, 400))
            .unwrap();
        one.record("b", Card::reviewed(None, Grade::Again, 5, 150))
            .unwrap();
        let reread = Progress::open(&path).unwrap();
        assert!(reread.set_aside().is_none());
        assert_eq!(reread.card("a").unwrap().last_grade, Grade::Hard);
        assert_eq!(reread.card("b").unwrap().last_grade, Grade::Easy);
        assert_eq!(reread.card("c").unwrap().last_grade, Grade::Again);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_merge_keeps_the_newer_review_of_each_card() {
        let mut cards = BTreeMap::new();
        let old = Card::reviewed(None, Grade::Good, 1, 10);
        let new = Card::reviewed(None, Grade::Again, 1, 20);
        merge(&mut cards, "x", new);
        merge(&mut cards, "x", old);
        assert_eq!(cards["x"], new);
    }
}

//! The catalogue against the topic map, `examples/` and the README.

use std::collections::BTreeSet;

use harness::catalogue::{self, Catalogue, Status};

use crate::root;

/// The topic map has 63 numbered topics in nine sections of seven, and ten common questions.
#[test]
fn the_catalogue_holds_the_whole_topic_map() {
    let c = Catalogue::load().unwrap();
    assert_eq!(c.sections.len(), 10);
    assert_eq!(c.entries.len(), 73);
    let numbers: BTreeSet<u32> = c.entries.iter().map(|e| e.number).collect();
    assert_eq!(
        numbers,
        (1..=73).collect(),
        "entries are numbered 1–73 as in the topic map"
    );
    for s in &c.sections {
        let count = c.in_section(&s.id).count();
        let expected = if s.number == 10 { 10 } else { 7 };
        assert_eq!(count, expected, "section {} has {count} entries", s.id);
    }
    // Every lesson named by a common question is a topic of its own, or the question's own lesson.
    for e in &c.entries {
        assert!(
            c.entries.iter().any(|o| o.id == e.lesson),
            "{} points at {}, which is no topic",
            e.id,
            e.lesson
        );
    }
}

fn example_names() -> BTreeSet<String> {
    std::fs::read_dir(root().join("examples"))
        .unwrap()
        .filter_map(|entry| {
            let path = entry.unwrap().path();
            let stem = path.file_stem()?.to_string_lossy().into_owned();
            (path.extension()? == "rs").then_some(stem)
        })
        .collect()
}

#[test]
fn every_example_has_a_ready_entry_and_every_ready_entry_an_example() {
    let c = Catalogue::load().unwrap();
    let examples = example_names();
    for name in &examples {
        let owner = c.entries.iter().find(|e| &e.id == name);
        match owner {
            None => panic!("examples/{name}.rs has no catalogue entry"),
            Some(e) => assert_eq!(
                e.status,
                Status::Ready,
                "examples/{name}.rs exists but {} is {}",
                e.id,
                e.status
            ),
        }
    }
    for e in c.entries.iter().filter(|e| e.status == Status::Ready) {
        assert!(
            examples.contains(&e.lesson),
            "{} is ready but examples/{}.rs is missing",
            e.id,
            e.lesson
        );
    }
}

/// Each lesson opens with a `//!` header: a title, the catalogue's question word for word, the
/// project's answer and how to run it.
#[test]
fn lesson_headers_carry_the_catalogue_question() {
    let c = Catalogue::load().unwrap();
    for name in example_names() {
        let source = std::fs::read_to_string(root().join(format!("examples/{name}.rs"))).unwrap();
        let header: Vec<&str> = source
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| l.trim_start_matches("//!").trim())
            .collect();
        assert!(
            header.first().is_some_and(|l| l.starts_with("# ")),
            "{name}: the header starts with a # title"
        );
        let text = header.join(" ");
        let entry = c.find(&name).unwrap();
        let question = format!("**Question:** {}", entry.question);
        assert!(
            text.contains(&question),
            "{name}: header lacks `{question}`"
        );
        assert!(
            text.contains("**Answer:**"),
            "{name}: header lacks the answer"
        );
        assert!(
            text.contains(&format!("**Run:** `cargo run --release --example {name}`")),
            "{name}: header lacks how to run it"
        );
    }
}

#[test]
fn the_readme_index_is_fresh() {
    let c = Catalogue::load().unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let regenerated = catalogue::splice_index(&readme, &c.markdown_index()).unwrap();
    assert!(
        regenerated == readme,
        "README.md's topic index is stale: run `cargo run -- index --write`"
    );
}

#[test]
fn the_notebooks_are_fresh() {
    let c = Catalogue::load().unwrap();
    let ready = c.ready_lessons();
    for lesson in &ready {
        let generated = harness::notebook::for_lesson(root(), lesson).unwrap();
        let path = root().join("notebooks").join(format!("{lesson}.ipynb"));
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated.to_text(),
            "{} is stale or missing: run `cargo run -- notebooks --write`",
            path.display()
        );
        // What is on disk is a valid notebook whose code is the lesson's.
        let json: serde_json::Value = serde_json::from_str(&on_disk).unwrap();
        assert_eq!(harness::notebook::validate(&json), Vec::<String>::new());
        let source = std::fs::read_to_string(root().join(format!("examples/{lesson}.rs"))).unwrap();
        assert_eq!(
            harness::notebook::code_of(&json),
            harness::notebook::lesson_code(&source)
        );
    }
    let notebooks = std::fs::read_dir(root().join("notebooks"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "ipynb")
        })
        .count();
    assert_eq!(
        notebooks,
        ready.len(),
        "a notebook without a ready lesson: run `cargo run -- notebooks --write`"
    );
}

#[test]
fn the_catalogue_file_is_the_compiled_one() {
    let on_disk = std::fs::read_to_string(root().join("catalogue.toml")).unwrap();
    assert_eq!(
        on_disk,
        catalogue::SOURCE,
        "rebuild: catalogue.toml changed since compilation"
    );
}

//! The catalogue against the topic map, `examples/`, the generated files and the seeding rule.

use std::collections::BTreeSet;
use std::path::PathBuf;

use catalogue::generate::{derived_files, stray_notebooks};
use catalogue::{Catalogue, Status};

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

/// Every `.rs` file under `examples/<section>/`.
fn lesson_files() -> BTreeSet<PathBuf> {
    let mut files = BTreeSet::new();
    for section in std::fs::read_dir(root().join("examples")).unwrap() {
        let section = section.unwrap().path();
        assert!(
            section.is_dir(),
            "{}: lessons live in examples/<section>/",
            section.display()
        );
        for file in std::fs::read_dir(&section).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                files.insert(path.strip_prefix(root()).unwrap().to_path_buf());
            }
        }
    }
    files
}

#[test]
fn every_lesson_file_is_a_ready_entry_in_its_section_and_back() {
    let c = Catalogue::load().unwrap();
    let expected: BTreeSet<PathBuf> = c.ready_sites().iter().map(|s| s.source()).collect();
    let found = lesson_files();
    let strays: Vec<&PathBuf> = found.difference(&expected).collect();
    assert!(
        strays.is_empty(),
        "no ready lesson of that section in catalogue.toml: {strays:?}"
    );
    let missing: Vec<&PathBuf> = expected.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "ready in catalogue.toml but missing: {missing:?}"
    );
    for site in c.ready_sites() {
        assert!(
            root()
                .join("crates")
                .join(site.package)
                .join("Cargo.toml")
                .is_file(),
            "{}: its package {} does not exist",
            site.name,
            site.package
        );
    }
}

/// The README index, the lesson packages' [[example]] entries, the headers and the notebooks are
/// all generated from the catalogue and must be fresh: a lesson header's question and answer are
/// the catalogue's, word for word.
#[test]
fn every_derived_file_is_fresh() {
    let c = Catalogue::load().unwrap();
    let mut stale = Vec::new();
    for derived in derived_files(&root(), &c).unwrap() {
        let on_disk = std::fs::read_to_string(root().join(&derived.path)).unwrap_or_default();
        if on_disk != derived.text {
            stale.push(derived.path.display().to_string());
        }
    }
    for stray in stray_notebooks(&root(), &c).unwrap() {
        stale.push(format!("{} (no ready lesson)", stray.display()));
    }
    assert!(
        stale.is_empty(),
        "stale: {stale:?}; run `cargo run -- dev sync`"
    );
}

/// The generated notebooks are valid nbformat and their code is the lesson's.
#[test]
fn the_notebooks_are_valid_and_hold_their_lesson() {
    let c = Catalogue::load().unwrap();
    for site in c.ready_sites() {
        let path = root()
            .join("notebooks")
            .join(format!("{}.ipynb", site.name));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(catalogue::notebook::validate(&json), Vec::<String>::new());
        let source = std::fs::read_to_string(root().join(site.source())).unwrap();
        assert_eq!(
            catalogue::notebook::code_of(&json),
            catalogue::notebook::lesson_code(&source),
            "{}",
            path.display()
        );
    }
}

/// Every random stream of a lesson comes from the harness (`lesson.rng(stream)`), so `--seed`
/// reaches all of them: no lesson builds a generator of its own or fixes a seed.
#[test]
fn lessons_draw_randomness_only_from_the_harness() {
    const FORBIDDEN: [&str; 8] = [
        "seed_from_u64",
        "from_seed",
        "from_entropy",
        "from_os_rng",
        "thread_rng",
        "rand::random",
        "OsRng",
        "StdRng",
    ];
    let mut found = Vec::new();
    for path in lesson_files() {
        let source = std::fs::read_to_string(root().join(&path)).unwrap();
        for (n, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let fixed_generator = code
                .split("generator(")
                .skip(1)
                .any(|rest| rest.trim_start().starts_with(|c: char| c.is_ascii_digit()));
            if fixed_generator || FORBIDDEN.iter().any(|word| code.contains(word)) {
                found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "use lesson.rng(stream) instead:\n{}",
        found.join("\n")
    );
}

/// A notebook kernel compiles cells in order, so an item may use only the items above it: a
/// struct whose field is of a type defined further down compiles in a file but not in a kernel.
/// Checked on the code (comments stripped) with whole-word matches of every later item's name.
#[test]
fn every_lesson_item_uses_only_items_above_it() {
    let kinds = [
        "struct ", "enum ", "fn ", "type ", "const ", "static ", "trait ",
    ];
    let mut forward = Vec::new();
    for path in lesson_files() {
        let source = std::fs::read_to_string(root().join(&path)).unwrap();
        // Top-level items: (name, first line, the code of the item without comments).
        let mut items: Vec<(String, String)> = Vec::new();
        for line in source.lines() {
            let bare = line.trim_start_matches("pub ").trim_start_matches("async ");
            let starts = !line.starts_with(' ') && kinds.iter().any(|k| bare.starts_with(k));
            if starts {
                let after = kinds
                    .iter()
                    .find_map(|k| bare.strip_prefix(k))
                    .unwrap_or("");
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                items.push((name, String::new()));
            }
            if let Some((_, code)) = items.last_mut() {
                let code_part = line.split("//").next().unwrap_or("");
                code.push_str(code_part);
                code.push('\n');
            }
        }
        for (i, (_, code)) in items.iter().enumerate() {
            for (later, _) in &items[i + 1..] {
                // A word followed by a single colon names a field (`page: String`), not the item.
                let used = code.match_indices(later.as_str()).any(|(at, _)| {
                    let before = code[..at].chars().next_back();
                    let rest = &code[at + later.len()..];
                    let whole = !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                        && !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_');
                    let field =
                        rest.trim_start().starts_with(':') && !rest.trim_start().starts_with("::");
                    whole && !field
                });
                if used && later != "main" {
                    forward.push(format!(
                        "{}: {} is used above its definition",
                        path.display(),
                        later
                    ));
                }
            }
        }
    }
    assert!(
        forward.is_empty(),
        "move these items up:\n{}",
        forward.join("\n")
    );
}

/// Where a lesson's `main` starts (its `fn main(` line) and, if it has one, its closing `}` line.
fn main_span(lines: &[&str]) -> Option<(usize, Option<usize>)> {
    let start = lines.iter().position(|l| l.starts_with("fn main("))?;
    Some((start, (start..lines.len()).find(|&i| lines[i] == "}")))
}

/// A notebook kernel compiles cells in order, so a lesson's helpers must come before `main`, which
/// calls them: `main` is the last item of every lesson.
#[test]
fn main_is_the_last_item_of_every_lesson() {
    let mut late = Vec::new();
    for path in lesson_files() {
        let source = std::fs::read_to_string(root().join(&path)).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        let Some((_, end)) = main_span(&lines) else {
            late.push(format!("{}: no `fn main(`", path.display()));
            continue;
        };
        let after: Vec<&str> = end
            .map(|e| {
                lines[e + 1..]
                    .iter()
                    .copied()
                    .filter(|l| !l.trim().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if end.is_none() || !after.is_empty() {
            late.push(format!(
                "{}: {} line(s) after main",
                path.display(),
                after.len()
            ));
        }
    }
    assert!(
        late.is_empty(),
        "move these helpers above main:\n{}",
        late.join("\n")
    );
}

#[test]
fn every_bench_is_registered() {
    // Every Rust file in benches/ is a bench; the folder also keeps the head-to-head record.
    let manifest = std::fs::read_to_string(root().join("crates/benchmarks/Cargo.toml")).unwrap();
    for entry in std::fs::read_dir(root().join("benches")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            assert_eq!(
                path.file_name().unwrap(),
                std::path::Path::new(catalogue::comparison::RECORD)
                    .file_name()
                    .unwrap(),
                "benches/ holds benches and the head-to-head record only"
            );
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            manifest.contains(&format!("path = \"../../benches/{name}\"")),
            "benches/{name} is not a [[bench]] of crates/benchmarks"
        );
    }
}

#[test]
fn a_ready_lesson_must_list_its_artefacts() {
    let text = std::fs::read_to_string(root().join("catalogue.toml")).unwrap();
    let broken = text.replacen("artefacts = [\"figure\"]\n", "", 1);
    let err = Catalogue::parse(&broken).unwrap_err().to_string();
    assert!(err.contains("lists no artefacts"), "{err}");
    let c = Catalogue::parse(&text).unwrap();
    assert!(
        c.entries
            .iter()
            .filter(|e| e.status == Status::Ready)
            .count()
            >= 38
    );
}

/// A lesson whose `main` is split into steps (`    // %%`) becomes a notebook whose steps are
/// cells, and a kernel carries a step's top-level `let`s to the next cell only if it can store
/// them: owned values of a type it can name. A closure or a borrow there (`let f = |x| …`,
/// `let x = &data.features;`, a type written with a `&` that is not `'static`) breaks every cell
/// after it, so those live inside a block or a helper function; an integer without a type
/// (`let runs = lesson.pick(10, 5);`) becomes an i32 before a later cell can ask for a usize; and
/// a polars value is not usable in a later cell at all (see below). The kernel run (`workbook dev
/// execute`) is the full check; this catches the common cases without one.
#[test]
fn stepped_lessons_keep_only_owned_values_between_steps() {
    let mut found = Vec::new();
    for path in lesson_files() {
        let source = std::fs::read_to_string(root().join(&path)).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        let Some((start, Some(end))) = main_span(&lines) else {
            continue;
        };
        let body = &lines[start + 1..end];
        if !body.iter().any(|l| l.starts_with("    // %%")) {
            continue;
        }
        // evcxr links every cell with its own copy of each crate's statics, so a value whose
        // meaning depends on a static is wrong in the next cell. Lessons that use these keep
        // `main` in one cell.
        let kept_whole = [
            // polars hashes column names with a seed kept in a static (foldhash's): a DataFrame
            // made in one cell is not found by name in the next.
            (&["use polars", "lessons_frames::"][..], "polars frames"),
            // candle numbers tensors from a static counter and backpropagation keys gradients by
            // that number: tensors made in two cells share numbers.
            (&["use candle_", "lessons_deep::"][..], "candle tensors"),
            // The harness stops the servers it started through a registry kept in a static: a
            // server started in one cell is unknown to the cell that finishes the lesson.
            (
                &["harness::serve", "lessons_deploy::"][..],
                "running servers",
            ),
        ];
        for (markers, what) in kept_whole {
            if markers.iter().any(|m| source.contains(m)) {
                found.push(format!(
                    "{}: uses {what}, which cannot cross cells; keep main in one piece",
                    path.display()
                ));
            }
        }
        for (n, line) in body.iter().enumerate() {
            let Some(statement) = line.strip_prefix("    let ") else {
                continue;
            };
            let Some((pattern, value)) = statement.split_once(" = ").or_else(|| {
                // `let x =` with the value on the next line.
                statement
                    .strip_suffix(" =")
                    .map(|p| (p, body[n + 1].trim()))
            }) else {
                continue;
            };
            let value = value.trim_start();
            let closure = value.starts_with('|') || value.starts_with("move |");
            // `let (x, y) = (&data.features, &data.target);` borrows too.
            let borrowed_pair = value.strip_prefix("(&").is_some_and(|rest| {
                rest.split_once(',').is_some_and(|(first, _)| {
                    first
                        .chars()
                        .all(|c| c.is_alphanumeric() || "_.[]".contains(c))
                })
            });
            let bare_borrow = value.starts_with('&')
                && value.ends_with(';')
                && value[1..value.len() - 1]
                    .chars()
                    .all(|c| c.is_alphanumeric() || "_.[]".contains(c));
            let written_type = pattern.split_once(':').map_or("", |(_, t)| t);
            let borrowed_type = written_type
                .match_indices('&')
                .any(|(at, _)| !written_type[at + 1..].starts_with("'static"));
            // An integer literal takes its type from its uses; in a kernel, uses in later cells
            // come too late and the value stays an i32.
            let bare_integer = !pattern.contains(':') && {
                // `lesson.pick(10, 3)`, `(lesson.pick(…), …)` and `(1, 2)` alike.
                let literal = value
                    .trim_start_matches('(')
                    .trim_start_matches("lesson.pick(");
                let digits = literal
                    .find(|c: char| !(c.is_ascii_digit() || c == '_'))
                    .unwrap_or(literal.len());
                digits > 0 && !literal[digits..].starts_with(['.', 'f', 'u', 'i'])
            };
            if closure || bare_borrow || borrowed_pair || borrowed_type || bare_integer {
                found.push(format!(
                    "{}:{}: {}",
                    path.display(),
                    start + 2 + n,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a notebook cannot keep these between steps; scope them in a block or a function:\n{}",
        found.join("\n")
    );
}

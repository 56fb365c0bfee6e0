//! Turns a lesson's source into a Jupyter notebook for the evcxr Rust kernel.
//!
//! The format follows the "percent" convention of jupytext, written with Rust comments:
//!
//! * the `//!` header becomes the first, markdown, cell;
//! * an unindented line `// %%` (optionally `// %% a title`) starts a new code cell;
//! * a line `// %% [markdown]` starts a markdown cell made of the `//` comment lines after it;
//! * without markers, every top-level item (a blank line followed by an unindented line) starts a
//!   new code cell, so `use` lines and helper functions land in cells of their own;
//! * inside `main`, a line `    // %%` starts a step: the `//` comment lines right after it become
//!   a markdown cell (the step's prose) and the code down to the next step a code cell, moved one
//!   indent to the left. The notebook then has no `main` at all: the kernel runs the steps one
//!   cell at a time, and the values one step makes are there for the next (the kernel keeps every
//!   top-level `let` that owns its value). The signature, the closing brace and the final `Ok(())`
//!   are the only lines of the lesson a notebook leaves out.
//!
//! Generated code cells are tagged `workbook-setup`: the evcxr `:dep` lines that make the
//! project's crates available, the lesson's settings, and (for a `main` without steps) the call of
//! `main`. Every other code cell is the source, line for line: [`Notebook::source_code`] joins
//! them, and [`lesson_code`] is what they must equal.

use serde_json::{Value, json};

use crate::Error;
use crate::catalogue::LessonSite;

/// The tag carried by cells the generator adds around the lesson's own code.
pub const SETUP_TAG: &str = "workbook-setup";

/// The nbformat version written (4.5 is the first minor version with cell ids).
pub const NBFORMAT: (u64, u64) = (4, 5);

/// One notebook cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub kind: CellKind,
    pub source: String,
    /// Generated cells (setup, the call of `main`) rather than lines of the lesson.
    pub setup: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Markdown,
    Code,
}

/// A notebook in memory; [`Notebook::to_json`] writes nbformat 4.5.
#[derive(Debug, Clone, PartialEq)]
pub struct Notebook {
    pub lesson: String,
    pub cells: Vec<Cell>,
}

/// The lines of a lesson that belong in code cells: everything but the `//!` header and the cell
/// markers. The notebook's lesson cells must join to exactly this.
pub fn lesson_code(source: &str) -> String {
    let lines: Vec<&str> = body_lines(source).collect();
    let (items, main_body) = match stepped_main(&lines) {
        Some(main) => (&lines[..main.start], Some(&lines[main.start + 1..main.end])),
        None => (&lines[..], None),
    };
    let mut code = Vec::new();
    let mut in_markdown = false;
    for &line in items {
        match marker(line) {
            Some(Marker::Markdown) => in_markdown = true,
            Some(Marker::Code) => in_markdown = false,
            None if in_markdown && line.trim_start().starts_with("//") => {}
            None => {
                in_markdown = false;
                code.push(line);
            }
        }
    }
    // A stepped main: its body one indent to the left, without the step markers, the prose right
    // after each marker and the final `Ok(())`.
    let body: Vec<&str> = main_body
        .unwrap_or_default()
        .iter()
        .map(|l| outdent(l))
        .collect();
    let last = body.iter().rposition(|l| !l.trim().is_empty());
    let mut in_prose = false;
    for (i, &line) in body.iter().enumerate() {
        let prose = in_prose && line.starts_with("//");
        let final_ok = Some(i) == last && line == "Ok(())";
        if step_marker(line).is_some() {
            in_prose = true;
        } else if !(prose || final_ok) {
            in_prose = false;
            code.push(line);
        }
    }
    collapse_blank(&code.join("\n"))
}

/// Where `main` starts and ends (the lines `fn main(…` and its closing `}`), if its body is split
/// into steps by `    // %%` lines.
struct SteppedMain {
    start: usize,
    end: usize,
}

fn stepped_main(lines: &[&str]) -> Option<SteppedMain> {
    let start = lines.iter().position(|l| l.starts_with("fn main("))?;
    let end = (start..lines.len()).find(|&i| lines[i] == "}")?;
    lines[start + 1..end]
        .iter()
        .any(|l| l.strip_prefix("    ").and_then(step_marker).is_some())
        .then_some(SteppedMain { start, end })
}

/// A line of main's body, one indent (four spaces) to the left.
fn outdent(line: &str) -> &str {
    line.strip_prefix("    ").unwrap_or(line.trim_start())
}

/// The title of a step marker (`// %%` or `// %% a title`; empty without one).
fn step_marker(line: &str) -> Option<&str> {
    let rest = line.trim_end().strip_prefix("// %%")?;
    (rest.is_empty() || rest.starts_with(' ')).then(|| rest.trim())
}

/// Whether a raw string literal is open after `line`, given whether one was open before it: the
/// number of `#`s of the open literal (`r##"…"##` has two), or `None`.
fn raw_string_after(line: &str, open: Option<usize>) -> Option<usize> {
    let mut open = open;
    let mut rest = line;
    loop {
        match open {
            Some(hashes) => {
                let closer = format!("\"{}", "#".repeat(hashes));
                match rest.find(&closer) {
                    Some(at) => {
                        rest = &rest[at + closer.len()..];
                        open = None;
                    }
                    None => return open,
                }
            }
            None => {
                // An opener is `r`, any number of `#`, then `"`, with no identifier character
                // just before the `r`; nothing is looked for after a line comment.
                let code = rest.split("//").next().unwrap_or_default();
                let opener = code.match_indices('r').find_map(|(at, _)| {
                    let before = code[..at].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        return None;
                    }
                    let after = &code[at + 1..];
                    let hashes = after.chars().take_while(|&c| c == '#').count();
                    after[hashes..]
                        .starts_with('"')
                        .then_some((at + 1 + hashes + 1, hashes))
                });
                match opener {
                    Some((end, hashes)) => {
                        rest = &rest[end..];
                        open = Some(hashes);
                    }
                    None => return None,
                }
            }
        }
    }
}

/// A markdown cell of prose, without blank lines or spaces at either end.
fn markdown_cell(text: &str) -> Cell {
    Cell {
        kind: CellKind::Markdown,
        source: text.trim().to_string(),
        setup: false,
    }
}

/// Ends the code cell being gathered: its lines, blank lines at both ends trimmed, become a code
/// cell unless nothing is left.
fn flush_code(cells: &mut Vec<Cell>, lines: &mut Vec<&str>) {
    let code = trim_blank(lines);
    if !code.is_empty() {
        cells.push(Cell {
            kind: CellKind::Code,
            source: code.join("\n"),
            setup: false,
        });
    }
    lines.clear();
}

/// The cells of a stepped main's body: the code before the first step, then for each step its
/// prose (a markdown cell, with the marker's title as a heading) and its code.
fn step_cells(body: &[&str]) -> Vec<Cell> {
    let body: Vec<&str> = body.iter().map(|l| outdent(l)).collect();
    let mut cells = Vec::new();
    let mut code: Vec<&str> = Vec::new();
    let mut prose: Option<Vec<String>> = None;
    for (i, &line) in body.iter().enumerate() {
        if let Some(title) = step_marker(line) {
            flush_code(&mut cells, &mut code);
            prose = Some(if title.is_empty() {
                Vec::new()
            } else {
                vec![format!("### {title}"), String::new()]
            });
            continue;
        }
        if let Some(text) = prose.as_mut() {
            if let Some(comment) = line.strip_prefix("//") {
                text.push(comment.strip_prefix(' ').unwrap_or(comment).to_string());
                continue;
            }
            let text = prose.take().unwrap_or_default();
            if !text.is_empty() {
                cells.push(markdown_cell(&text.join("\n")));
            }
        }
        // The body's final `Ok(())` returns from main, which a notebook does not have.
        if line == "Ok(())" && body[i + 1..].iter().all(|l| l.trim().is_empty()) {
            continue;
        }
        code.push(line);
    }
    flush_code(&mut cells, &mut code);
    cells
}

/// Trims blank lines at both ends and collapses each run of blank lines into one, so that cell
/// boundaries (where the generator drops the blank lines between cells) compare equal.
fn collapse_blank(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() && out.last().is_none_or(|l| l.trim().is_empty()) {
            continue;
        }
        out.push(line);
    }
    trim_blank(&out).join("\n")
}

enum Marker {
    Code,
    Markdown,
}

fn marker(line: &str) -> Option<Marker> {
    // Only unindented markers count: a cell boundary inside a function would cut it in two.
    let rest = line.trim_end().strip_prefix("// %%")?;
    if rest.trim_start().starts_with("[markdown]") {
        Some(Marker::Markdown)
    } else {
        Some(Marker::Code)
    }
}

/// The source after the `//!` header (and the blank lines that follow it).
fn body_lines(source: &str) -> impl Iterator<Item = &str> {
    source.lines().skip_while(|l| l.starts_with("//!"))
}

fn header(source: &str) -> String {
    source
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.strip_prefix("//!").unwrap_or(l))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

fn trim_blank<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let start = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(start, |e| e + 1);
    lines[start..end].to_vec()
}

/// Whether `line` names a path in crate `ident` (`ident::…` not preceded by an identifier
/// character), as a `use` line or in the code itself (`rayon::current_num_threads()`).
fn names_path(line: &str, ident: &str) -> bool {
    let needle = format!("{ident}::");
    line.match_indices(&needle).any(|(at, _)| {
        line[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

/// The evcxr `:dep` lines for the crates a lesson's `use` lines name. Versions and features come
/// from the workspace manifest so that the notebook builds what the lesson builds.
fn dependency_lines(code: &str, manifest: &str) -> Result<Vec<String>, Error> {
    let invalid = |message: String| Error::Manifest {
        path: "Cargo.toml".into(),
        message,
    };
    let table: toml::Table =
        toml::from_str(manifest).map_err(|e| invalid(format!("does not parse: {e}")))?;
    let deps = table
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table())
        .ok_or_else(|| invalid("no [workspace.dependencies] table".into()))?;
    let mut lines = Vec::new();
    for (name, spec) in deps {
        let ident = name.replace('-', "_");
        let used = code.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with(&format!("use {ident};")) || names_path(l, &ident)
        });
        if !used {
            continue;
        }
        let spec = match spec {
            // The library crates of this workspace, found from the notebooks/ folder.
            toml::Value::Table(t) if t.contains_key("path") => {
                let path = t["path"].as_str().unwrap_or_default();
                format!("{{ path = \"../{path}\" }}")
            }
            other => other.to_string(),
        };
        lines.push(format!(":dep {name} = {spec}"));
    }
    Ok(lines)
}

impl Notebook {
    /// Builds the notebook of one lesson from its source and the workspace's `Cargo.toml` text.
    pub fn from_lesson(lesson: &str, source: &str, manifest: &str) -> Result<Notebook, Error> {
        let mut cells = vec![markdown_cell(&header(source))];
        // The lesson's own code optimised as the dev profile builds it (opt-level 2): the lessons
        // time their loops, and unoptimised cells would change the ratios they claim.
        let mut setup = vec![":opt 2".to_string()];
        setup.extend(dependency_lines(source, manifest)?);
        cells.push(Cell {
            kind: CellKind::Code,
            source: setup.join("\n"),
            setup: true,
        });
        // A kernel has no command line of the lesson's own: its name and flags are given here.
        cells.push(Cell {
            kind: CellKind::Code,
            source: format!(
                "// The lesson's settings (a kernel has no command line): drop \"--quick\" for the full run.\nharness::lesson::notebook_settings(\"{lesson}\", &[\"--quick\"])?;"
            ),
            setup: true,
        });

        let all_lines: Vec<&str> = body_lines(source).collect();
        let stepped = stepped_main(&all_lines);
        let lines = match &stepped {
            Some(main) => &all_lines[..main.start],
            None => &all_lines[..],
        };
        let mut current: Vec<&str> = Vec::new();
        let mut markdown: Option<Vec<&str>> = None;
        let mut raw_string_open: Option<usize> = None;
        for (i, line) in lines.iter().enumerate() {
            if let Some(m) = marker(line) {
                flush_code(&mut cells, &mut current);
                if let Marker::Markdown = m {
                    markdown = Some(Vec::new());
                }
                continue;
            }
            if let Some(text) = markdown.as_mut() {
                if let Some(comment) = line.trim_start().strip_prefix("//") {
                    text.push(comment.strip_prefix(' ').unwrap_or(comment));
                    continue;
                }
                let text = markdown.take().unwrap_or_default();
                cells.push(markdown_cell(&text.join("\n")));
            }
            // A new top-level item after a blank line starts a new cell, unless the line is inside
            // a raw string literal (a page's HTML or script with blank lines of its own).
            let item_start = raw_string_open.is_none()
                && i > 0
                && lines[i - 1].trim().is_empty()
                && !line.is_empty()
                && !line.starts_with(char::is_whitespace)
                && !line.starts_with('}')
                && !line.starts_with(')');
            if item_start && !trim_blank(&current).is_empty() {
                flush_code(&mut cells, &mut current);
            }
            raw_string_open = raw_string_after(line, raw_string_open);
            current.push(line);
        }
        if let Some(text) = markdown.take() {
            cells.push(markdown_cell(&text.join("\n")));
        }
        flush_code(&mut cells, &mut current);
        match stepped {
            Some(main) => cells.extend(step_cells(&all_lines[main.start + 1..main.end])),
            None => cells.push(Cell {
                kind: CellKind::Code,
                source: "if let Err(error) = main() {\n    eprintln!(\"{error:?}\");\n}".into(),
                setup: true,
            }),
        }
        Ok(Notebook {
            lesson: lesson.to_string(),
            cells,
        })
    }

    /// The lesson's own code cells joined by blank lines, the generated setup cells left out.
    pub fn source_code(&self) -> String {
        let cells: Vec<&str> = self
            .cells
            .iter()
            .filter(|c| c.kind == CellKind::Code && !c.setup)
            .map(|c| c.source.as_str())
            .collect();
        collapse_blank(&cells.join("\n\n"))
    }

    /// The notebook as nbformat 4.5 JSON, with the evcxr kernel named in its metadata. Cell ids are
    /// stable (`<lesson>-<index>`), so regenerating an unchanged lesson gives the same file.
    pub fn to_json(&self) -> Value {
        let cells: Vec<Value> = self
            .cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let id = format!("{}-{i}", self.lesson.replace('_', "-"));
                let metadata = if cell.setup {
                    json!({ "tags": [SETUP_TAG] })
                } else {
                    json!({})
                };
                match cell.kind {
                    CellKind::Markdown => json!({
                        "cell_type": "markdown", "id": id, "metadata": metadata,
                        "source": source_lines(&cell.source),
                    }),
                    CellKind::Code => json!({
                        "cell_type": "code", "id": id, "metadata": metadata,
                        "execution_count": null, "outputs": [],
                        "source": source_lines(&cell.source),
                    }),
                }
            })
            .collect();
        json!({
            "nbformat": NBFORMAT.0,
            "nbformat_minor": NBFORMAT.1,
            "metadata": {
                "kernelspec": { "name": "rust", "display_name": "Rust", "language": "rust" },
                "language_info": {
                    "name": "Rust", "file_extension": ".rs", "mimetype": "text/rust",
                    "codemirror_mode": "rust", "pygment_lexer": "rust",
                },
                "workbook": { "lesson": self.lesson, "generated_by": "workbook dev sync" },
            },
            "cells": cells,
        })
    }

    /// The JSON text written to `notebooks/<lesson>.ipynb` (two-space indent, as serde_json pretty-prints; Jupyter reads any).
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The notebook of a lesson of this workspace, built from its source and the root `Cargo.toml`
/// under `root`.
pub fn for_lesson(root: &std::path::Path, site: &LessonSite) -> Result<Notebook, Error> {
    let source = crate::read_text(&root.join(site.source()))?;
    let manifest = crate::read_text(&root.join("Cargo.toml"))?;
    Notebook::from_lesson(site.name, &source, &manifest)
}

/// Jupyter stores a cell's source as a list of lines, each but the last ending in a newline.
fn source_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i < last {
                format!("{l}\n")
            } else {
                l.to_string()
            }
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// Checks a notebook's JSON against the parts of the nbformat 4 schema that readers rely on: the
/// version, a metadata object, and cells with a known type, a unique valid id (from 4.5 on), a
/// metadata object and a source; code cells with `outputs` and `execution_count`. Returns every
/// problem found; an empty list means valid.
pub fn validate(notebook: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let major = notebook.get("nbformat").and_then(Value::as_u64);
    let minor = notebook.get("nbformat_minor").and_then(Value::as_u64);
    if major != Some(4) {
        problems.push(format!("nbformat is {major:?}, not 4"));
    }
    if minor.is_none() {
        problems.push("nbformat_minor is missing".into());
    }
    if !notebook.get("metadata").is_some_and(Value::is_object) {
        problems.push("metadata is not an object".into());
    }
    let Some(cells) = notebook.get("cells").and_then(Value::as_array) else {
        problems.push("cells is not a list".into());
        return problems;
    };
    let mut ids = std::collections::HashSet::new();
    for (i, cell) in cells.iter().enumerate() {
        let kind = cell.get("cell_type").and_then(Value::as_str);
        if !matches!(kind, Some("code" | "markdown" | "raw")) {
            problems.push(format!("cell {i}: cell_type {kind:?}"));
        }
        if !cell.get("metadata").is_some_and(Value::is_object) {
            problems.push(format!("cell {i}: metadata is not an object"));
        }
        let source_ok = match cell.get("source") {
            Some(Value::String(_)) => true,
            Some(Value::Array(parts)) => parts.iter().all(Value::is_string),
            _ => false,
        };
        if !source_ok {
            problems.push(format!(
                "cell {i}: source is neither text nor a list of text"
            ));
        }
        if minor.is_some_and(|m| m >= 5) {
            match cell.get("id").and_then(Value::as_str) {
                Some(id)
                    if (1..=64).contains(&id.len())
                        && id
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
                {
                    if !ids.insert(id.to_string()) {
                        problems.push(format!("cell {i}: duplicate id {id:?}"));
                    }
                }
                other => problems.push(format!("cell {i}: invalid id {other:?}")),
            }
        }
        if kind == Some("code") {
            if !cell.get("outputs").is_some_and(Value::is_array) {
                problems.push(format!("cell {i}: a code cell needs outputs"));
            }
            if !cell
                .get("execution_count")
                .is_some_and(|c| c.is_null() || c.is_u64())
            {
                problems.push(format!("cell {i}: a code cell needs execution_count"));
            }
        }
    }
    problems
}

/// The text of a cell's `source` field, whichever of the two forms it takes.
pub fn cell_text(cell: &Value) -> String {
    match cell.get("source") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// Reads back the lesson code of a notebook's JSON: its code cells without the setup tag, joined.
pub fn code_of(notebook: &Value) -> String {
    notebook
        .get("cells")
        .and_then(Value::as_array)
        .map(|cells| {
            cells
                .iter()
                .filter(|c| c.get("cell_type").and_then(Value::as_str) == Some("code"))
                .filter(|c| {
                    !c.pointer("/metadata/tags")
                        .and_then(Value::as_array)
                        .is_some_and(|t| t.iter().any(|t| t == SETUP_TAG))
                })
                .map(cell_text)
                .collect::<Vec<_>>()
                .join("\n\n")
        })
        .map(|code| collapse_blank(&code))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[workspace.dependencies]
harness = { path = "crates/harness" }
ndarray = { version = "=0.16.1", features = ["rayon"] }
anyhow = "=1.0.100"
polars = "=0.52.0"
"#;

    const SOURCE: &str = "//! # Title\n//!\n//! **Question:** why?\n\nuse anyhow::Result;\nuse ndarray::Array1;\n\n/// Doubles.\nfn double(x: f64) -> f64 {\n    x * 2.0\n\n    // still inside\n}\n\n// %% [markdown]\n// Some *prose*.\n// %% the main part\nfn main() -> Result<()> {\n    let a = Array1::from(vec![1.0]);\n\n    println!(\"{}\", double(a[0]));\n    Ok(())\n}\n";

    #[test]
    fn cells_follow_items_and_markers() {
        let nb = Notebook::from_lesson("demo_lesson", SOURCE, MANIFEST).unwrap();
        let kinds: Vec<_> = nb.cells.iter().map(|c| (c.kind, c.setup)).collect();
        use CellKind::*;
        assert_eq!(
            kinds,
            vec![
                (Markdown, false),
                (Code, true),
                (Code, true),
                (Code, false),
                (Code, false),
                (Markdown, false),
                (Code, false),
                (Code, true)
            ]
        );
        assert_eq!(nb.cells[0].source, "# Title\n\n**Question:** why?");
        assert_eq!(
            nb.cells[1].source,
            ":opt 2\n:dep anyhow = \"=1.0.100\"\n:dep ndarray = { features = [\"rayon\"], version = \"=0.16.1\" }"
        );
        assert!(
            nb.cells[2]
                .source
                .contains("harness::lesson::notebook_settings(\"demo_lesson\", &[\"--quick\"])?;")
        );
        assert!(nb.cells[4].source.contains("// still inside\n}"));
        assert_eq!(nb.cells[5].source, "Some *prose*.");
    }

    #[test]
    fn code_cells_equal_the_source_without_header_and_markers() {
        let nb = Notebook::from_lesson("demo_lesson", SOURCE, MANIFEST).unwrap();
        assert_eq!(nb.source_code(), lesson_code(SOURCE));
        assert!(!lesson_code(SOURCE).contains("%%"));
        assert!(!lesson_code(SOURCE).contains("prose"));
        let json = nb.to_json();
        assert!(validate(&json).is_empty(), "{:?}", validate(&json));
        assert_eq!(code_of(&json), nb.source_code());
        // The JSON survives a round trip through its text.
        let back: Value = serde_json::from_str(&nb.to_text()).unwrap();
        assert_eq!(back, json);
    }

    const STEPPED: &str = "//! # Steps\n\nuse anyhow::Result;\n\nfn helper() -> f64 {\n    1.0\n}\n\nfn main() -> Result<()> {\n    let mut total = 0.0;\n\n    // %%\n    // First, *add* one.\n    // Still the first step's prose.\n    total += helper();\n    // a comment that stays in the code\n    let kept = total;\n\n    // %% The end\n    // Then print.\n\n    println!(\"{kept}\");\n    Ok(())\n}\n";

    #[test]
    fn a_main_with_steps_becomes_one_cell_per_step() {
        let nb = Notebook::from_lesson("demo_lesson", STEPPED, MANIFEST).unwrap();
        let cells: Vec<(CellKind, bool, &str)> = nb
            .cells
            .iter()
            .map(|c| (c.kind, c.setup, c.source.as_str()))
            .collect();
        use CellKind::*;
        assert_eq!(
            cells[3..],
            [
                (Code, false, "use anyhow::Result;"),
                (Code, false, "fn helper() -> f64 {\n    1.0\n}"),
                (Code, false, "let mut total = 0.0;"),
                (
                    Markdown,
                    false,
                    "First, *add* one.\nStill the first step's prose."
                ),
                (
                    Code,
                    false,
                    "total += helper();\n// a comment that stays in the code\nlet kept = total;"
                ),
                (Markdown, false, "### The end\n\nThen print."),
                (Code, false, "println!(\"{kept}\");"),
            ]
        );
        // No main, so no generated call of it.
        assert!(!nb.cells.iter().any(|c| c.source.contains("main(")));
        assert_eq!(nb.source_code(), lesson_code(STEPPED));
        assert!(!lesson_code(STEPPED).contains("prose"));
        assert!(lesson_code(STEPPED).contains("// a comment that stays"));
    }

    #[test]
    fn a_raw_string_with_blank_lines_stays_in_one_cell() {
        let source = "//! # Page\n\nconst PAGE: &str = r##\"<html>\n\nfunction f() {\n}\n\"##;\n\nfn main() {\n}\n";
        let nb = Notebook::from_lesson("demo_lesson", source, MANIFEST).unwrap();
        let page = nb
            .cells
            .iter()
            .find(|c| c.source.starts_with("const PAGE"))
            .unwrap();
        assert!(page.source.ends_with("\"##;"), "{}", page.source);
        assert!(nb.cells.iter().any(|c| c.source.starts_with("fn main()")));
        assert_eq!(raw_string_after("let a = r#\"x\"#; let b = 1;", None), None);
        assert_eq!(raw_string_after("let a = r\"open", None), Some(0));
        assert_eq!(
            raw_string_after("closed\"# and r##\"again", Some(1)),
            Some(2)
        );
        assert_eq!(raw_string_after("let error = 1; // r\"not", None), None);
    }

    #[test]
    fn a_crate_named_only_in_a_path_is_a_dependency() {
        assert!(names_path("rayon::current_num_threads(),", "rayon"));
        assert!(names_path(
            "let n = (rayon::current_num_threads());",
            "rayon"
        ));
        assert!(!names_path("my_rayon::x", "rayon"));
        assert!(!names_path("harness::plot", "rayon"));
    }

    #[test]
    fn validation_finds_broken_notebooks() {
        let nb = Notebook::from_lesson("demo_lesson", SOURCE, MANIFEST).unwrap();
        let mut json = nb.to_json();
        json["nbformat"] = json!(3);
        json["cells"][1]["id"] = json!("demo-lesson-0");
        json["cells"][2].as_object_mut().unwrap().remove("outputs");
        json["cells"][3]["source"] = json!(42);
        let problems = validate(&json);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[1].contains("duplicate id"));
    }
}

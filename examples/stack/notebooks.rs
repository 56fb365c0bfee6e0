//! # Notebooks: Jupyter for Rust lessons
//!
//! **Question:** How do Jupyter notebooks fit a Rust workflow, and how are this project's notebooks
//! made?
//!
//! **Answer:** Jupyter runs Rust through the evcxr kernel, which compiles each cell as it runs and
//! takes dependencies from `:dep` lines. Notebooks are good for exploring and poor for review: JSON
//! diffs, hidden state, cells run out of order. So this project keeps each lesson's `.rs` file as
//! the single source and generates its notebook from it, and the tests fail when a notebook is
//! stale. A lesson's steps (`// %%` lines in `main`) become cells: the kernel keeps each step's
//! owned values for the next, so borrows and closures stay inside a step.
//!
//! **Evidence:** The lesson builds the notebook of every ready lesson and checks that each is valid
//! nbformat 4, that its first cell is the lesson's header as markdown, and that its code cells put
//! the lesson's source back together; its own notebook has a markdown and a code cell per step and
//! no `main`. The generator is `catalogue::notebook`, and `workbook dev sync` writes them to
//! `notebooks/`.
//!
//! **Run:** `cargo run --example notebooks` (add `-- --quick` for a short run).

use anyhow::Context;
use catalogue::Catalogue;
use catalogue::notebook::{self, Notebook};
use harness::prelude::*;
use serde_json::Value;

// %% [markdown]
// ## Build, write and read back
// Each notebook is generated from `examples/<section>/<lesson>.rs` and the workspace manifest (for the
// `:dep` lines), written as JSON, parsed again and checked against the source.

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let root = catalogue::workspace_root();
    let catalogue = Catalogue::load()?;

    // %% Every lesson's notebook
    // Each ready lesson's notebook is built, written to the output folder, read back and checked.
    let (mut notebooks, mut valid, mut faithful, mut committed_fresh, mut cells): (
        usize,
        usize,
        usize,
        usize,
        usize,
    ) = (0, 0, 0, 0, 0);
    {
        // (The lesson sites borrow the catalogue, so the loop stays inside this block.)
        let lessons = catalogue.ready_sites();
        println!(
            "{:<28} {:>6} {:>6} {:>9}  checks",
            "lesson", "cells", "code", "JSON"
        );
        for site in &lessons {
            let name = site.name;
            notebooks += 1;
            let book = notebook::for_lesson(&root, site)?;
            let text = book.to_text();
            let path = lesson.out_file(&format!("{name}.ipynb"));
            std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
            lesson.record(ArtefactKind::Data, &path)?;

            // Read the file back as any Jupyter client would, then check it.
            let json: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
            let problems = notebook::validate(&json);
            let source = std::fs::read_to_string(root.join(site.source()))?;
            let same_code = notebook::code_of(&json) == notebook::lesson_code(&source);
            let fresh =
                std::fs::read_to_string(root.join("notebooks").join(format!("{name}.ipynb")))
                    .is_ok_and(|committed| committed == text);
            valid += problems.is_empty() as usize;
            faithful += same_code as usize;
            committed_fresh += fresh as usize;
            cells += book.cells.len();
            let code_cells = book
                .cells
                .iter()
                .filter(|c| c.kind == notebook::CellKind::Code)
                .count();
            println!(
                "{name:<28} {:>6} {code_cells:>6} {:>9}  {}{}{}",
                book.cells.len(),
                harness::measure::bytes(text.len() as f64),
                if problems.is_empty() {
                    "valid"
                } else {
                    "INVALID"
                },
                if same_code {
                    ", code = source"
                } else {
                    ", code differs"
                },
                if fresh {
                    ", notebooks/ fresh"
                } else {
                    ", notebooks/ stale"
                },
            );
            for problem in problems {
                println!("    {problem}");
            }
        }
    }
    lesson.metric("notebooks", notebooks as f64);
    lesson.metric("cells", cells as f64);
    lesson.claim(
        "a valid nbformat 4 notebook whose code cells equal the source",
        valid == notebooks && faithful == notebooks && notebooks > 0,
        format!(
            "{valid} of {notebooks} notebooks pass the nbformat 4.5 checks and {faithful} have exactly the lesson's code; {committed_fresh} match notebooks/"
        ),
        &[("valid", valid as f64), ("faithful", faithful as f64)],
    );

    // %% Damage must be caught
    // The two checks are only worth something if they catch damage. Change one character of one
    // code cell and drop one cell id, and both must complain.
    let own_source = catalogue
        .site("notebooks")
        .context("notebooks is in the catalogue")?
        .source();
    let source = std::fs::read_to_string(root.join(own_source))?;
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let own = Notebook::from_lesson("notebooks", &source, &manifest)?;
    let mut damaged = own.to_json();
    let code_cell = damaged["cells"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .position(|c| c["cell_type"] == "code" && c["metadata"] == serde_json::json!({}))
        })
        .context("the lesson has no code cell")?;
    let first_line = damaged["cells"][code_cell]["source"][0]
        .as_str()
        .unwrap_or_default()
        .replacen("use", "usE", 1);
    damaged["cells"][code_cell]["source"][0] = Value::String(first_line);
    damaged["cells"][0]
        .as_object_mut()
        .context("cell 0 is not an object")?
        .remove("id");
    let caught_code = notebook::code_of(&damaged) != notebook::lesson_code(&source);
    let caught_schema = !notebook::validate(&damaged).is_empty();
    lesson.claim(
        "the checks catch a changed cell and a missing id",
        caught_code && caught_schema,
        format!("code comparison caught the edit: {caught_code}; validation caught the id: {caught_schema}"),
        &[],
    );

    // %% Steps become cells
    // A lesson whose `main` is split by `// %%` lines has no `main` in its notebook: each step is
    // a markdown cell (its prose) and a code cell, which the kernel runs in order, keeping the
    // values one step makes for the next. This lesson is written that way, so its own notebook
    // must show it: no cell defines `main`, and besides the header and the one `// %% [markdown]`
    // block above `main`, every markdown cell is the prose of a step.
    let steps = source
        .lines()
        .filter(|l| l.starts_with("    // %%"))
        .count();
    let markdown = own
        .cells
        .iter()
        .filter(|c| c.kind == notebook::CellKind::Markdown)
        .count();
    let defines_main = own
        .cells
        .iter()
        .any(|c| c.source.lines().any(|l| l.starts_with("fn main(")));
    println!(
        "this lesson's own notebook: {} cells, {markdown} of them markdown (the header, the `// %% [markdown]` block and {steps} steps' prose)",
        own.cells.len()
    );
    lesson.claim(
        "a main in steps becomes one markdown and one code cell per step, and no main",
        steps >= 3 && markdown == 2 + steps && !defines_main,
        format!("{steps} steps in the source, {markdown} markdown cells; a cell defines main: {defines_main}"),
        &[("steps", steps as f64)],
    );

    lesson.finish()?;
    Ok(())
}

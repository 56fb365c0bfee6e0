//! The `workbook` command line, end to end.

use harness::Report;

use crate::{scratch, workbook};

fn run(args: &[&str]) -> (bool, String, String) {
    let output = workbook().args(args).output().expect("workbook starts");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn list_json_has_every_entry_in_ten_sections() {
    let (ok, stdout, stderr) = run(&["list", "--json"]);
    assert!(ok, "{stderr}");
    let entries: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("one JSON array");
    assert_eq!(entries.len(), 73);
    let sections: std::collections::BTreeSet<&str> = entries
        .iter()
        .map(|e| e["section"].as_str().unwrap())
        .collect();
    assert_eq!(sections.len(), 10);
    for e in &entries {
        for field in ["id", "section", "title", "lesson", "status"] {
            assert!(e[field].is_string(), "entry {e} lacks {field}");
        }
    }
    let broadcasting = entries.iter().find(|e| e["id"] == "broadcasting").unwrap();
    assert_eq!(broadcasting["status"], "ready");
}

#[test]
fn list_filters_by_section_and_rejects_an_unknown_one() {
    let (ok, stdout, _) = run(&["list", "--section", "numpy"]);
    assert!(ok);
    assert!(
        stdout.contains("memory_layout") && !stdout.contains("series_dataframe"),
        "{stdout}"
    );
    let (ok, _, stderr) = run(&["list", "--section", "nump"]);
    assert!(!ok);
    assert!(
        stderr.contains("unknown section") && stderr.contains("numpy"),
        "{stderr}"
    );
}

#[test]
fn show_prints_question_answer_and_how_to_run() {
    let (ok, stdout, stderr) = run(&["show", "broadcasting"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("Question: What are the broadcasting rules"),
        "{stdout}"
    );
    assert!(stdout.contains("Answer: "), "{stdout}");
    assert!(
        stdout.contains("cargo run --release --example broadcasting"),
        "{stdout}"
    );
}

#[test]
fn an_unknown_topic_is_an_error_with_suggestions() {
    let (ok, stdout, stderr) = run(&["show", "brodcasting"]);
    assert!(!ok, "{stdout}");
    assert!(stderr.contains("unknown topic \"brodcasting\""), "{stderr}");
    assert!(stderr.contains("did you mean broadcasting"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn search_ranks_the_matching_topic_first() {
    let (ok, stdout, _) = run(&["search", "strides", "transpose"]);
    assert!(ok);
    assert!(
        stdout
            .lines()
            .next()
            .unwrap_or("")
            .contains("memory_layout"),
        "{stdout}"
    );
}

#[test]
fn run_executes_a_lesson_and_prints_its_report() {
    let out = scratch("cli-run");
    let out_arg = out.to_string_lossy().into_owned();
    let (ok, stdout, stderr) = run(&["run", "indexing_slicing", "--quick", "--out", &out_arg]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("claims: 3/3 held"), "{stdout}");
    let report = Report::read(&out.join("report.json")).unwrap();
    assert!(report.quick);
}

#[test]
fn running_a_planned_topic_is_a_clear_error() {
    let (ok, _, stderr) = run(&["run", "dashboard"]);
    assert!(!ok);
    assert!(stderr.contains("planned"), "{stderr}");
}

#[test]
fn a_bad_lesson_flag_is_a_usage_error_not_a_panic() {
    let output = std::process::Command::new(crate::example_binary("memory_layout"))
        .args(["--seed", "forty-two"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid value 'forty-two'"), "{stderr}");
}

#[test]
fn notebooks_are_reported_fresh() {
    let (ok, stdout, stderr) = run(&["notebooks"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("are up to date"), "{stdout}");
}

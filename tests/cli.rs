//! The `workbook` command line, end to end, including what it does with bad input: every case a
//! clear one-line error and a non-zero exit, never a panic.

use std::process::Command;

use catalogue::Report;

use crate::{examples_dir, root, scratch, workbook};

struct Outcome {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_command(command: &mut Command) -> Outcome {
    let output = command.output().expect("the program starts");
    Outcome {
        ok: output.status.success(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn run(args: &[&str]) -> Outcome {
    run_command(
        workbook()
            .args(args)
            .env("WORKBOOK_LESSON_DIR", examples_dir()),
    )
}

/// A bad input's outcome: non-zero, one line on standard error naming the problem, no panic.
fn assert_clear_error(outcome: &Outcome, expected: &str) {
    assert!(!outcome.ok, "succeeded: {}", outcome.stdout);
    assert!(!outcome.stderr.contains("panicked"), "{}", outcome.stderr);
    assert!(outcome.stderr.contains(expected), "{}", outcome.stderr);
    assert_eq!(
        outcome.stderr.trim().lines().count(),
        1,
        "not one line: {}",
        outcome.stderr
    );
}

/// A workspace root holding only `catalogue.toml` with `text`, for the catalogue-error cases.
fn root_with_catalogue(name: &str, text: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("catalogue.toml"), text).unwrap();
    dir
}

#[test]
fn list_json_has_every_entry_in_ten_sections() {
    let out = run(&["list", "--json"]);
    assert!(out.ok, "{}", out.stderr);
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(&out.stdout).expect("one JSON array");
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
    let out = run(&["list", "--section", "numpy"]);
    assert!(out.ok);
    assert!(
        out.stdout.contains("memory_layout") && !out.stdout.contains("series_dataframe"),
        "{}",
        out.stdout
    );
    let out = run(&["list", "--section", "nump"]);
    assert_clear_error(&out, "unknown section \"nump\"; sections are stack, numpy");
}

#[test]
fn show_prints_question_and_hint_before_the_four_parts_of_the_answer() {
    let out = run(&["show", "broadcasting"]);
    assert!(out.ok, "{}", out.stderr);
    let at = |heading: &str| {
        out.stdout
            .find(heading)
            .unwrap_or_else(|| panic!("no {heading:?} in:\n{}", out.stdout))
    };
    let order = [
        at("Question: What are the broadcasting rules"),
        at("Hint: "),
        at("In 30 seconds: "),
        at("The evidence: "),
        at("In Python, and the Rust here:"),
        at("Follow-ups:"),
        at("Pitfalls:"),
    ];
    assert!(order.is_sorted(), "{}", out.stdout);
    assert!(
        out.stdout.contains("cargo run --example broadcasting"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_unknown_topic_is_an_error_with_suggestions() {
    for command in ["show", "run"] {
        let out = run(&[command, "brodcasting"]);
        assert_clear_error(
            &out,
            "unknown topic \"brodcasting\"; did you mean broadcasting",
        );
    }
}

#[test]
fn search_ranks_the_matching_topic_first() {
    let out = run(&["search", "strides", "transpose"]);
    assert!(out.ok);
    assert!(
        out.stdout
            .lines()
            .next()
            .unwrap_or("")
            .contains("memory_layout"),
        "{}",
        out.stdout
    );
}

#[test]
fn run_executes_a_lesson_and_prints_its_report() {
    let out_dir = scratch("cli-run");
    let out_arg = out_dir.to_string_lossy().into_owned();
    let out = run(&["run", "indexing_slicing", "--quick", "--out", &out_arg]);
    assert!(out.ok, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("claims: 3/3 held"), "{}", out.stdout);
    let report = Report::read(&out_dir.join("report.json")).unwrap();
    assert!(report.quick);
}

#[test]
fn a_search_without_words_is_a_usage_error() {
    let out = run(&["search"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("required"), "{}", out.stderr);
}

#[test]
fn a_bad_seed_is_a_usage_error() {
    let out = run(&["run", "broadcasting", "--seed", "forty-two"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("invalid value 'forty-two'"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"));
}

#[test]
fn an_out_folder_that_is_a_file_or_cannot_be_made_is_refused() {
    let dir = scratch("cli-out-file");
    let file = dir.join("taken");
    std::fs::write(&file, "x").unwrap();
    let file_arg = file.to_string_lossy().into_owned();
    assert_clear_error(
        &run(&["run", "broadcasting", "--quick", "--out", &file_arg]),
        "is a file, not a folder",
    );
    // A folder under a file cannot be created, whoever runs the test (root may write anywhere).
    let under = file.join("sub").to_string_lossy().into_owned();
    assert_clear_error(
        &run(&["run", "broadcasting", "--quick", "--out", &under]),
        "cannot create --out",
    );
}

#[test]
fn a_corrupt_or_missing_catalogue_is_named() {
    let broken = root_with_catalogue("cli-bad-catalogue", "[[section]]\nid = 3\n");
    let commands: [&[&str]; 5] = [
        &["list"],
        &["show", "broadcasting"],
        &["run", "broadcasting", "--quick"],
        &["search", "strides"],
        &["dev", "check"],
    ];
    for args in commands {
        let out = run_command(workbook().args(args).env("WORKBOOK_ROOT", &broken));
        assert_clear_error(&out, "catalogue.toml is invalid: line 2, column 6");
    }
    let empty = scratch("cli-no-catalogue");
    let out = run_command(
        workbook()
            .args(["show", "broadcasting"])
            .env("WORKBOOK_ROOT", &empty),
    );
    assert_clear_error(&out, "catalogue.toml");
}

#[test]
fn a_corrupt_report_is_an_error_not_a_silent_gap() {
    let text = std::fs::read_to_string(root().join("catalogue.toml")).unwrap();
    let fake = root_with_catalogue("cli-bad-report", &text);
    let folder = fake.join("target/workbook/broadcasting");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("report.json"), "{\"lesson\": ").unwrap();
    let out = run_command(
        workbook()
            .args(["show", "broadcasting"])
            .env("WORKBOOK_ROOT", &fake),
    );
    assert_clear_error(&out, "report.json is not a lesson report");
}

#[cfg(unix)]
#[test]
fn run_all_summarises_each_lesson_and_counts_failures() {
    // A folder of lesson binaries holding only one of the seven NumPy lessons: `run --all` runs
    // that one, reports the six it cannot start as failed, and fails as a whole.
    let bin = scratch("cli-run-all-bin");
    std::os::unix::fs::symlink(
        examples_dir().join("indexing_slicing"),
        bin.join("indexing_slicing"),
    )
    .unwrap();
    let out_dir = scratch("cli-run-all-out");
    let out_arg = out_dir.to_string_lossy().into_owned();
    let out = run_command(
        workbook()
            .args([
                "run",
                "--all",
                "--section",
                "numpy",
                "--quick",
                "--out",
                &out_arg,
            ])
            .env("WORKBOOK_LESSON_DIR", &bin),
    );
    assert!(!out.ok, "{}", out.stdout);
    assert!(out.stdout.contains("7 lessons, 6 failed"), "{}", out.stdout);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("indexing_slicing"))
        .unwrap();
    assert!(
        line.contains(" ok ") && line.contains("3/3 claims"),
        "{line}"
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("logs/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary.as_array().unwrap().len(), 7);
    let log = std::fs::read_to_string(out_dir.join("logs/broadcasting.log")).unwrap();
    assert!(log.contains("no lesson binary"), "{log}");
}

#[test]
fn dev_check_finds_every_derived_file_fresh() {
    let out = run(&["dev", "check"]);
    assert!(out.ok, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("derived files are up to date"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_lesson_with_bad_flags_or_a_file_as_out_exits_cleanly() {
    let binary = examples_dir().join("memory_layout");
    let out = run_command(Command::new(&binary).args(["--seed", "forty-two"]));
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("invalid value 'forty-two'"),
        "{}",
        out.stderr
    );
    let dir = scratch("lesson-out-file");
    let file = dir.join("taken");
    std::fs::write(&file, "x").unwrap();
    let out = run_command(Command::new(&binary).arg("--quick").arg("--out").arg(&file));
    assert_clear_error(&out, "names a file, not a folder");
}

#[cfg(unix)]
#[test]
fn a_lesson_piped_into_head_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = scratch("lesson-head");
    let mut child = Command::new(examples_dir().join("broadcasting"))
        .args(["--quick", "--out"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as `head -1` does.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!first.is_empty());
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
}

/// The quiz driven through a pipe: each line is an answer, a grade or a prediction.
fn quiz(data: &std::path::Path, reports: &std::path::Path, args: &[&str], input: &str) -> Outcome {
    use std::io::Write as _;
    let mut child = workbook()
        .arg("quiz")
        .args(args)
        .env("WORKBOOK_DATA_DIR", data)
        .env("WORKBOOK_OUT_DIR", reports)
        .env("WORKBOOK_LESSON_DIR", examples_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the quiz starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("answers written");
    let output = child.wait_with_output().expect("the quiz ends");
    Outcome {
        ok: output.status.success(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn progress_cards(data: &std::path::Path) -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(data.join("quiz-progress.json")).expect("progress saved");
    let file: serde_json::Value = serde_json::from_str(&text).expect("progress is JSON");
    file["cards"].as_object().expect("cards").clone()
}

#[test]
fn the_quiz_grades_answers_saves_progress_and_asks_new_cards_next_time() {
    let dir = scratch("quiz_sessions");
    let (data, reports) = (dir.join("data"), dir.join("reports"));
    // Two topic cards of the stack section: an answer and a grade each.
    let first = quiz(
        &data,
        &reports,
        &["--section", "stack", "--count", "2"],
        "polars, ndarray, linfa, plotters\ng\n\ne\n",
    );
    assert!(first.ok, "{}", first.stderr);
    assert!(first.stdout.contains("In 30 seconds: "), "{}", first.stdout);
    assert!(first.stdout.contains("The evidence: "), "{}", first.stdout);
    assert!(
        first
            .stdout
            .contains("2 card(s) graded — again 0, hard 0, good 1, easy 1"),
        "{}",
        first.stdout
    );
    let cards = progress_cards(&data);
    assert_eq!(cards.len(), 2, "{cards:?}");
    assert_eq!(cards["stack_overview"]["level"], 2);
    assert_eq!(cards["reproducible_environments"]["level"], 3);
    // The next session starts with cards not seen yet; an invalid grade is asked again.
    let second = quiz(
        &data,
        &reports,
        &["--section", "stack", "--count", "1"],
        "\nmaybe\na\n",
    );
    assert!(second.ok, "{}", second.stderr);
    assert!(
        second.stdout.contains("How do Jupyter notebooks fit"),
        "{}",
        second.stdout
    );
    assert!(
        second.stdout.contains("Please answer a, h, g or e."),
        "{}",
        second.stdout
    );
    let cards = progress_cards(&data);
    assert_eq!(cards.len(), 3);
    assert_eq!(cards["notebooks"]["level"], 1);
    // The summary counts them by box; a missed card is due again today.
    let summary = quiz(&data, &reports, &["--section", "stack", "--summary"], "");
    assert!(summary.ok, "{}", summary.stderr);
    let row = summary
        .stdout
        .lines()
        .find(|l| l.starts_with("stack"))
        .expect("a row for the stack section");
    let numbers: Vec<&str> = row.split_whitespace().collect();
    // section, cards, new, box 1..5, due today
    assert_eq!(numbers[3..], ["1", "1", "1", "0", "0", "1"], "{row}");
}

#[test]
fn a_prediction_is_checked_against_the_measured_number() {
    let dir = scratch("quiz_prediction");
    let (data, reports) = (dir.join("data"), dir.join("reports"));
    // The advanced NumPy topics: vectorization_performance, its two predictions, memory_layout,
    // its prediction. Each topic card is skipped to its answer and graded; each prediction picks
    // an option, and the lesson runs (quick) first when there is no report yet.
    let out = quiz(
        &data,
        &reports,
        &[
            "--section",
            "numpy",
            "--level",
            "advanced",
            "--count",
            "5",
            "--run",
        ],
        "\ng\nb\nc\n\ng\nc\n",
    );
    assert!(out.ok, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Summing a 128 MiB row-major matrix"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stdout.matches("Measured on this machine: ").count(),
        3,
        "{}",
        out.stdout
    );
    let cards = progress_cards(&data);
    // A prediction is right (good: box 2) when the option picked is the nearest to the measured
    // value on a log scale, and wrong (again: box 1) otherwise: the grade follows the measurement.
    for (lesson, card, value, options, picked) in [
        (
            "vectorization_performance",
            "predict1",
            ("expression_over_zip", ""),
            [1.3f64, 3.0, 6.0, 20.0],
            1,
        ),
        (
            "vectorization_performance",
            "predict2",
            ("fresh_triad_system_over_mimalloc", ""),
            [1.0, 1.5, 6.0, 50.0],
            2,
        ),
        (
            "memory_layout",
            "predict1",
            ("against_layout_slowdown", ""),
            [1.1, 2.0, 8.0, 50.0],
            2,
        ),
    ] {
        let report = Report::read(&reports.join(lesson).join("report.json")).unwrap();
        let measured = match value {
            (metric, "") => report.metrics[metric],
            (numerator, denominator) => report.metrics[numerator] / report.metrics[denominator],
        };
        let nearest = (0..options.len())
            .min_by(|&a, &b| {
                (options[a].ln() - measured.ln())
                    .abs()
                    .total_cmp(&(options[b].ln() - measured.ln()).abs())
            })
            .unwrap();
        let card = &cards[&format!("{lesson}#{card}")];
        let expected_box = if nearest == picked { 2 } else { 1 };
        assert_eq!(
            card["level"], expected_box,
            "{lesson}: measured {measured}, {card}"
        );
    }
}

#[test]
fn an_unreadable_or_newer_progress_file_is_kept_and_the_quiz_starts_afresh() {
    for (name, text) in [
        ("quiz_corrupt", "{ this is not json"),
        ("quiz_future", r#"{"format": 99, "cards": {}}"#),
    ] {
        let dir = scratch(name);
        let (data, reports) = (dir.join("data"), dir.join("reports"));
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("quiz-progress.json"), text).unwrap();
        let out = quiz(
            &data,
            &reports,
            &["--section", "stack", "--count", "1"],
            "\ng\n",
        );
        assert!(out.ok, "{}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains("could not be read"), "{}", out.stderr);
        let backups: Vec<_> = std::fs::read_dir(&data)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".unreadable-"))
            .collect();
        assert_eq!(backups.len(), 1, "{name}: the old file is kept");
        assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), text);
        assert_eq!(
            progress_cards(&data).len(),
            1,
            "{name}: the new answer is saved"
        );
    }
}

#[test]
fn quiz_flags_are_checked() {
    let out = run(&["quiz", "--level", "expert"]);
    assert!(!out.ok);
    assert!(out.stderr.contains("expert"), "{}", out.stderr);
    let out = run(&["quiz", "--count", "0"]);
    assert!(!out.ok);
    let out = run(&["quiz", "--section", "nump"]);
    assert_clear_error(&out, "unknown section \"nump\"");
}

#[test]
fn the_walkthrough_runs_two_lessons_and_shows_their_claims() {
    let dir = scratch("walkthrough");
    let out = run_command(
        workbook()
            .args(["walkthrough", "broadcasting", "memory_layout", "--out"])
            .arg(&dir)
            .env("WORKBOOK_LESSON_DIR", examples_dir())
            .stdin(std::process::Stdio::null()),
    );
    assert!(out.ok, "{}\n{}", out.stdout, out.stderr);
    for expected in [
        "1/2 · broadcasting",
        "2/2 · memory_layout",
        "What are the broadcasting rules",
        "$ cargo run --example memory_layout -- --quick",
        "figures:",
        "2 of 2 topic(s) in",
    ] {
        assert!(
            out.stdout.contains(expected),
            "no {expected:?} in:\n{}",
            out.stdout
        );
    }
    // Each lesson's claims are listed with their outcome, all held.
    for lesson in ["broadcasting", "memory_layout"] {
        let report = Report::read(&dir.join(lesson).join("report.json")).unwrap();
        let line = format!("claims held: {0}/{0}", report.claims.len());
        assert!(
            out.stdout.contains(&line),
            "no {line:?} in:\n{}",
            out.stdout
        );
    }
    // What the walkthrough prints itself fits an 80-column terminal.
    for line in out.stdout.lines().filter(|l| l.starts_with("──")) {
        assert!(line.chars().count() <= 80, "{line}");
    }
}

#[test]
fn the_gallery_links_every_ready_topic_to_a_page_it_wrote() {
    let out = scratch("gallery");
    let outcome = run(&["gallery", "--out", out.to_str().unwrap()]);
    assert!(outcome.ok, "{}", outcome.stderr);
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    let catalogue = catalogue::Catalogue::load().unwrap();
    let ready: Vec<&catalogue::Entry> = catalogue
        .entries
        .iter()
        .filter(|e| e.status == catalogue::Status::Ready)
        .collect();
    for entry in &ready {
        let page = format!("{}.html", entry.id);
        assert!(index.contains(&format!("href=\"{page}\"")), "{page}");
        let html = std::fs::read_to_string(out.join(&page)).unwrap();
        assert!(html.contains(&pages::escape(&entry.question)), "{page}");
        assert!(out.join(format!("present-{}.html", entry.id)).is_file());
        // A static page has no Run button and loads nothing from elsewhere.
        assert!(!html.contains("class=\"run\""), "{page}");
        assert!(!html.contains("src=\"http"), "{page}");
    }
    assert!(out.join("crates.html").is_file());
}

#[test]
fn a_gallery_into_a_file_is_a_clear_error() {
    let dir = scratch("gallery-file");
    let file = dir.join("taken");
    std::fs::write(&file, "x").unwrap();
    assert_clear_error(
        &run(&["gallery", "--out", file.to_str().unwrap()]),
        "is a file, not a folder",
    );
}

#[test]
fn compare_without_python_or_its_packages_says_what_to_install() {
    // Checked before anything is built, so neither case compiles the head-to-head binary.
    let missing = scratch("compare-no-python").join("python3");
    assert_clear_error(
        &run(&["compare", "--all", "--python", missing.to_str().unwrap()]),
        "was not found: install Python 3 (3.11 is what the table was measured with), then `pip install -r python/requirements.txt`",
    );
    // An interpreter whose packages are incomplete, as python/head_to_head.py reports them.
    let dir = scratch("compare-no-polars");
    let fake = dir.join("python3");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho '{\"versions\": {\"python\": \"3.11.7\"}, \"missing\": [\"polars==1.35.2\"]}'\nexit 3\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_clear_error(
        &run(&["compare", "matmul", "--python", fake.to_str().unwrap()]),
        "the Python side lacks polars==1.35.2: `pip install -r python/requirements.txt`",
    );
    for (args, flag) in [
        (["compare", "--all", "--threads", "0"], "--threads"),
        (["compare", "matmul", "--rounds", "0"], "--rounds"),
    ] {
        let zero = run(&args);
        assert_eq!(zero.code, Some(2), "{}", zero.stderr);
        assert!(
            zero.stderr
                .contains(&format!("invalid value '0' for '{flag}")),
            "{}",
            zero.stderr
        );
    }
}

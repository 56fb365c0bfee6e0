//! Runs every ready lesson in quick mode and checks its report: exit 0, every claim held, and
//! each figure written and well formed.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use harness::Report;
use harness::catalogue::Catalogue;

use crate::{example_binary, scratch};

/// Lessons time things, so they run one at a time even when the test harness runs tests in
/// parallel; otherwise two lessons would share the two cores and skew each other's ratios.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

macro_rules! lesson_tests {
    ($($lesson:ident),* $(,)?) => {
        /// The lessons this file tests; a test below checks it equals the catalogue's ready list.
        const TESTED: &[&str] = &[$(stringify!($lesson)),*];
        $(
            #[test]
            fn $lesson() {
                run_and_check(stringify!($lesson));
            }
        )*
    };
}

lesson_tests!(
    ndarray_basics,
    indexing_slicing,
    broadcasting,
    linear_algebra,
    random_numbers,
    vectorization_performance,
    memory_layout,
    arrays_vs_lists,
    stack_overview,
    reproducible_environments,
    notebooks,
    data_structures,
    iterators_generators,
    dates_times,
    regular_expressions,
    supervised_vs_unsupervised,
    feature_engineering,
    evaluation_metrics,
    cross_validation,
    bias_variance_tradeoff,
    regularization,
    dimensionality_reduction,
    series_dataframe,
    loading_cleaning,
    selection_filtering,
    groupby_aggregation,
    time_series,
    merging_joining,
    dataframe_performance,
    missing_data,
    estimator_api,
    pipelines,
    model_selection,
    classic_algorithms,
    clustering,
    feature_extraction,
    model_persistence,
    forest_vs_boosting,
);

#[test]
fn every_ready_lesson_is_tested_here() {
    let catalogue = Catalogue::load().unwrap();
    let mut ready = catalogue.ready_lessons();
    let mut tested = TESTED.to_vec();
    ready.sort();
    tested.sort();
    assert_eq!(
        tested, ready,
        "add new ready lessons to lesson_tests! in tests/lessons.rs"
    );
}

fn run_and_check(lesson: &str) {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let out = scratch(&format!("lessons/{lesson}"));
    let binary = example_binary(lesson);
    assert!(
        binary.is_file(),
        "{} is not built (cargo test builds examples)",
        binary.display()
    );
    let output = Command::new(&binary)
        .args(["--quick", "--seed", "42", "--out"])
        .arg(&out)
        .output()
        .expect("the lesson starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{lesson} exited with {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );

    let report = Report::read(&out.join("report.json")).expect("the lesson wrote its report");
    assert_eq!(report.lesson, lesson);
    assert!(report.quick, "the report records quick mode");
    assert_eq!(report.seed, 42);
    assert!(!report.claims.is_empty(), "{lesson} checks no claims");
    for claim in &report.claims {
        assert!(claim.holds, "{lesson}: claim failed: {claim}");
        assert!(
            !claim.evidence.trim().is_empty(),
            "{lesson}: claim without evidence: {}",
            claim.claim
        );
    }
    // Lessons draw a figure wherever a picture explains; these report tables and files only.
    const NO_FIGURE: &[&str] = &[
        "reproducible_environments",
        "notebooks",
        "selection_filtering",
    ];
    assert_eq!(
        report.figures.is_empty(),
        NO_FIGURE.contains(&lesson),
        "{lesson}: figures {:?}",
        report.figures
    );
    for figure in &report.figures {
        check_figure(&out.join(figure));
    }
    eprintln!(
        "{lesson}: {} claims held in {:.2} s",
        report.claims.len(),
        report.duration_s
    );
}

/// A PNG must have its signature, a header chunk with a non-zero size and an end chunk; an SVG
/// must be one `<svg>` element with drawing inside.
fn check_figure(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match path.extension().and_then(|e| e.to_str()) {
        Some("png") => {
            assert!(bytes.len() > 100, "{} is nearly empty", path.display());
            assert_eq!(
                &bytes[..8],
                b"\x89PNG\r\n\x1a\n",
                "{} lacks the PNG signature",
                path.display()
            );
            assert_eq!(
                &bytes[12..16],
                b"IHDR",
                "{} lacks the PNG header chunk",
                path.display()
            );
            let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
            let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
            assert!(width > 0 && height > 0, "{} has no pixels", path.display());
            assert_eq!(
                &bytes[bytes.len() - 8..bytes.len() - 4],
                b"IEND",
                "{} is truncated",
                path.display()
            );
        }
        Some("svg") => {
            let text = String::from_utf8(bytes).expect("SVG is UTF-8");
            let body = text.trim();
            assert!(
                body.starts_with("<svg") || body.starts_with("<?xml"),
                "{} does not start an SVG",
                path.display()
            );
            assert!(body.ends_with("</svg>"), "{} is truncated", path.display());
            assert!(
                text.matches("<svg").count() == 1,
                "{} nests or repeats <svg>",
                path.display()
            );
            assert!(
                text.contains("<text")
                    && (text.contains("<rect")
                        || text.contains("<path")
                        || text.contains("<polyline")
                        || text.contains("<circle")),
                "{} draws nothing",
                path.display()
            );
        }
        other => panic!("{}: unexpected figure type {other:?}", path.display()),
    }
}

/// `workbook run --all --quick` runs every ready lesson, logs each and exits 0 when all pass.
#[test]
fn run_all_runs_every_ready_lesson_and_summarises() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let out = scratch("run-all");
    let output = crate::workbook()
        .args(["run", "--all", "--quick", "--out"])
        .arg(&out)
        .output()
        .expect("workbook starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let catalogue = Catalogue::load().unwrap();
    let ready = catalogue.ready_lessons();
    for lesson in &ready {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(lesson))
            .unwrap_or_else(|| panic!("no summary line for {lesson}:\n{stdout}"));
        assert!(line.contains(" ok "), "{line}");
        assert!(
            out.join(lesson).join("report.json").is_file(),
            "{lesson} wrote no report"
        );
    }
    assert!(
        stdout.contains(&format!("{} lessons, 0 failed", ready.len())),
        "{stdout}"
    );
}

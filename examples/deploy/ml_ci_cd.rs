//! # Continuous integration for a model
//!
//! **Question:** What belongs in continuous integration for a model?
//!
//! **Answer:** Besides the code's tests, two gates. A data gate runs on every new batch before it
//! can train anything: the schema (names and order), value ranges, known category levels, null
//! rates against the training data, and a drift test against the training distribution — each a
//! named test that fails with a message. A model gate runs on every candidate before it can replace
//! production: on a frozen holdout set it must not lose accuracy, must stay calibrated (log loss,
//! not accuracy alone), must keep the feature schema and must predict the same after being saved
//! and loaded. Results go out in the format CI systems read (JUnit XML).
//!
//! **Evidence:** Six CSV batches of 200 birds go through five data checks. The clean one passes
//! all; a renamed column fails the schema check, masses in kilograms fail the value ranges, 40 % of
//! sexes missing fails the null rates (42 % against 3 % in training), a misspelt island fails the
//! known levels, and a bill gauge reading 4 mm long — every value still in range — fails only the
//! drift test (KS p ≈ 1e-6 to 1e-8). Three candidate models meet the gate on the frozen holdout: a
//! retrained model is promoted; one trained on kilograms is rejected (accuracy about 35 % against
//! 99 %, McNemar p ≈ 1e-17); an over-regularised one keeps its accuracy (McNemar finds no
//! significant loss) and is rejected on log loss alone (about 0.18 against 0.04). Results are
//! written as JUnit XML.
//!
//! **Run:** `cargo run --example ml_ci_cd` (add `-- --quick` for a short run).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use harness::catalogue::write_atomically;
use harness::prelude::*;
use lessons_deploy::{PenguinModel, fit_artefact};
use rand::Rng;
use rand::seq::SliceRandom;
use toolkit::artefact::{Encoding, FeatureKind, ModelArtefact};

/// A batch of training data as it arrives: a CSV file's header and cells.
struct Batch {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// One check's outcome: passed, or failed with a message.
type Check = Result<(), String>;

const COLUMNS: [&str; 7] = [
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
    "island",
    "sex",
    "species",
];

fn read_batch(path: &Path) -> Result<Batch> {
    let mut reader = csv::Reader::from_path(path).with_context(|| path.display().to_string())?;
    let header = reader.headers()?.iter().map(str::to_string).collect();
    let rows = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_string).collect()))
        .collect::<Result<_, _>>()?;
    Ok(Batch { header, rows })
}

/// The data checks, each a named test over a batch, against the production model's schema and
/// training data.
fn data_checks(batch: &Batch, production: &PenguinModel) -> Vec<(&'static str, Check)> {
    let features = production.artefact().metadata().features();
    let column = |name: &str| batch.header.iter().position(|h| h == name);
    // Schema: exactly the expected columns, in order.
    let schema = if batch.header == COLUMNS {
        Ok(())
    } else {
        Err(format!(
            "columns are [{}], expected [{}]",
            batch.header.join(", "),
            COLUMNS.join(", ")
        ))
    };
    let mut ranges = Ok(());
    let mut levels = Ok(());
    let mut nulls = Ok(());
    let mut drift = Ok(());
    for (j, feature) in features.iter().enumerate() {
        let Some(at) = column(feature.name()) else {
            continue;
        };
        let cells: Vec<&str> = batch.rows.iter().map(|r| r[at].as_str()).collect();
        let missing = cells.iter().filter(|c| c.is_empty() || **c == "NA").count();
        let present = production
            .train_x()
            .column(j)
            .iter()
            .filter(|v| v.is_finite())
            .count();
        let reference_rate = 1.0 - present as f64 / production.train_x().nrows() as f64;
        // Null rate: no more than the training data's plus 5 points.
        let rate = missing as f64 / cells.len().max(1) as f64;
        if rate > reference_rate + 0.05 && nulls.is_ok() {
            nulls = Err(format!(
                "{}: {:.0} % missing, the training data had {:.0} %",
                feature.name(),
                100.0 * rate,
                100.0 * reference_rate
            ));
        }
        let given: Vec<&str> = cells
            .iter()
            .copied()
            .filter(|c| !c.is_empty() && *c != "NA")
            .collect();
        match feature.kind() {
            FeatureKind::Numeric => {
                let values: Vec<f64> = given.iter().filter_map(|c| c.parse().ok()).collect();
                // Ranges: the training data's, widened by half their width on each side (a new
                // bird may beat the record; a unit error lands far outside).
                let reference: Vec<f64> = production
                    .train_x()
                    .column(j)
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                let (min, max) = reference
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                        (lo.min(v), hi.max(v))
                    });
                let (low, high) = (min - 0.5 * (max - min), max + 0.5 * (max - min));
                let outside = values.iter().filter(|v| !(low..=high).contains(*v)).count();
                if (outside > 0 || values.len() < given.len()) && ranges.is_ok() {
                    ranges = Err(format!(
                        "{}: {outside} values outside {low:.1} to {high:.1}, {} not numbers",
                        feature.name(),
                        given.len() - values.len()
                    ));
                }
                // Drift: a two-sample KS test against the training values, flagged at p < 0.001.
                let p =
                    toolkit::metrics::ks_two_sample(&reference, &values).map_or(1.0, |t| t.p_value);
                if p < 0.001 && drift.is_ok() {
                    drift = Err(format!(
                        "{}: KS p = {p:.1e} against the training data",
                        feature.name()
                    ));
                }
            }
            FeatureKind::Categorical { levels: known } => {
                if let Some(unknown) = given.iter().find(|c| !known.iter().any(|k| k == *c))
                    && levels.is_ok()
                {
                    levels = Err(format!("{}: unknown level {unknown:?}", feature.name()));
                }
            }
        }
    }
    vec![
        ("schema", schema),
        ("value ranges", ranges),
        ("known levels", levels),
        ("null rates", nulls),
        ("drift against training", drift),
    ]
}

/// P(X ≥ k) for X ~ Binomial(n, 1/2).
fn binomial_upper_tail(k: usize, n: usize) -> f64 {
    let mut term = 0.5f64.powi(n as i32); // P(X = 0)
    let mut tail = if k == 0 { term } else { 0.0 };
    for x in 1..=n {
        term *= (n - x + 1) as f64 / x as f64;
        if x >= k {
            tail += term;
        }
    }
    tail.min(1.0)
}

/// The model gate: a candidate replaces production only if every check passes on the frozen
/// holdout set.
fn model_gate(
    candidate: &ModelArtefact,
    production: &PenguinModel,
) -> Result<Vec<(&'static str, Check)>> {
    let (x, y) = (production.test_x(), production.test_y());
    let current = production.artefact();
    let (p_new, p_old) = (candidate.probabilities(x)?, current.probabilities(x)?);
    let (new_right, old_right) = (
        toolkit::argmax_rows(&p_new)
            .iter()
            .zip(y)
            .map(|(p, t)| p == t)
            .collect::<Vec<_>>(),
        toolkit::argmax_rows(&p_old)
            .iter()
            .zip(y)
            .map(|(p, t)| p == t)
            .collect::<Vec<_>>(),
    );
    let accuracy_of =
        |right: &[bool]| right.iter().filter(|&&r| r).count() as f64 / right.len() as f64;
    let (acc_new, acc_old) = (accuracy_of(&new_right), accuracy_of(&old_right));
    // McNemar's exact test on the birds the two models disagree about: is the candidate wrong
    // where production is right more often than chance allows (one-sided, 5 %)? A fixed
    // tolerance would be meaningless on 83 birds, where one bird is 1.2 points.
    let worse = new_right
        .iter()
        .zip(&old_right)
        .filter(|(n, o)| !**n && **o)
        .count();
    let better = new_right
        .iter()
        .zip(&old_right)
        .filter(|(n, o)| **n && !**o)
        .count();
    let p_worse = binomial_upper_tail(worse, worse + better);
    let truth = y.as_slice().context("contiguous labels")?;
    let (loss_new, loss_old) = (
        toolkit::metrics::log_loss(p_new.view(), truth)?,
        toolkit::metrics::log_loss(p_old.view(), truth)?,
    );
    let (new_features, old_features) = (
        candidate.metadata().features(),
        current.metadata().features(),
    );
    let schema = if new_features.len() == old_features.len()
        && new_features
            .iter()
            .zip(old_features)
            .all(|(a, b)| a.name() == b.name() && a.kind() == b.kind())
    {
        Ok(())
    } else {
        Err("the candidate expects other features than production".to_string())
    };
    let accuracy = if p_worse >= 0.05 {
        Ok(())
    } else {
        Err(format!(
            "holdout accuracy {:.1} % against production's {:.1} %: wrong on {worse} birds production gets right, right on {better} it gets wrong (McNemar p = {p_worse:.1e})",
            100.0 * acc_new,
            100.0 * acc_old
        ))
    };
    let calibration = if loss_new <= loss_old * 1.5 + 0.01 {
        Ok(())
    } else {
        Err(format!(
            "holdout log loss {loss_new:.3} against production's {loss_old:.3}"
        ))
    };
    let back = ModelArtefact::from_bytes(&candidate.to_bytes(Encoding::Binary)?)?;
    let round_trip = if back.probabilities(x)? == p_new {
        Ok(())
    } else {
        Err("the saved candidate predicts differently after loading".to_string())
    };
    Ok(vec![
        ("same feature schema", schema),
        ("holdout accuracy", accuracy),
        ("holdout log loss", calibration),
        ("save and load round trip", round_trip),
    ])
}

/// Prints each failed check's message, adds every check to the CSV table, and returns the names
/// of the failed ones.
fn tabulate(
    suite: &str,
    checks: &[(&'static str, Check)],
    table: &mut String,
) -> Vec<&'static str> {
    let mut failed = Vec::new();
    for (name, check) in checks {
        let message = check.as_ref().err().map_or("", String::as_str);
        if check.is_err() {
            println!("        {name}: {message}");
            failed.push(*name);
        }
        let outcome = if check.is_ok() { "pass" } else { "fail" };
        let _ = writeln!(
            table,
            "{suite},{name},{outcome},\"{}\"",
            message.replace('"', "'")
        );
    }
    failed
}

/// A JUnit XML report, the format CI systems display test results from.
fn junit(suites: &[(String, Vec<(&'static str, Check)>)]) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for (suite, checks) in suites {
        let failures = checks.iter().filter(|(_, c)| c.is_err()).count();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
            escape(suite),
            checks.len()
        );
        for (name, check) in checks {
            match check {
                Ok(()) => {
                    let _ = writeln!(xml, "    <testcase name=\"{}\"/>", escape(name));
                }
                Err(message) => {
                    let _ = writeln!(
                        xml,
                        "    <testcase name=\"{}\"><failure message=\"{}\"/></testcase>",
                        escape(name),
                        escape(message)
                    );
                }
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// The over-regularised candidate's L2 penalty: its answers stay mostly right, its probabilities flatten.
const ALPHA: f64 = 20.0;

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Step 1: production — the model serving today, its training data the reference.
    let production = PenguinModel::fit("1", lesson.seed(), 1.0)?;
    let penguins = datasets::penguins()?;

    // Step 2: new batches of data arrive as CSV files. One is clean: 200 birds drawn from the
    // survey. Four others carry one fault each, of the kinds that reach real pipelines.
    let mut rng = lesson.rng(1);
    let drawn: Vec<usize> = (0..200)
        .map(|_| rng.gen_range(0..penguins.features.nrows()))
        .collect();
    let cell = |i: usize, j: usize| -> String {
        let v = penguins.features[[i, j]];
        if !v.is_finite() {
            String::new()
        } else if j < 4 {
            v.to_string()
        } else {
            penguins.levels[j - 4][v as usize].clone()
        }
    };
    let clean: Vec<Vec<String>> = drawn
        .iter()
        .map(|&i| {
            let mut row: Vec<String> = (0..6).map(|j| cell(i, j)).collect();
            row.push(penguins.classes[penguins.target[i]].clone());
            row
        })
        .collect();
    let write = |name: &str, header: &[&str], rows: &[Vec<String>]| -> Result<std::path::PathBuf> {
        let path = lesson.out_file(&format!("batches/{name}.csv"));
        std::fs::create_dir_all(path.parent().context("a folder")?)?;
        let mut text = header.join(",") + "\n";
        for row in rows {
            text += &(row.join(",") + "\n");
        }
        write_atomically(&path, text)?;
        Ok(path)
    };
    let mut renamed = COLUMNS;
    renamed[3] = "body_mass";
    let in_kilograms: Vec<Vec<String>> = clean
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r[3] = r[3]
                .parse::<f64>()
                .map_or(String::new(), |g| (g / 1000.0).to_string());
            r
        })
        .collect();
    let mut order: Vec<usize> = (0..clean.len()).collect();
    order.shuffle(&mut rng);
    let sex_missing: Vec<Vec<String>> = clean
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let mut r = r.clone();
            if order[k] < clean.len() * 2 / 5 {
                r[5] = String::new();
            }
            r
        })
        .collect();
    let misspelt: Vec<Vec<String>> = clean
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if r[4] == "Dream" {
                r[4] = "dream".into();
            }
            r
        })
        .collect();
    // A bill gauge replaced mid-season that reads 4 mm long: every value still in range.
    let biased: Vec<Vec<String>> = clean
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r[0] = r[0]
                .parse::<f64>()
                .map_or(String::new(), |v| format!("{:.1}", v + 4.0));
            r
        })
        .collect();
    let batches = vec![
        ("clean", write("clean", &COLUMNS, &clean)?, None),
        (
            "a renamed column",
            write("renamed", &renamed, &clean)?,
            Some("schema"),
        ),
        (
            "mass in kilograms",
            write("kilograms", &COLUMNS, &in_kilograms)?,
            Some("value ranges"),
        ),
        (
            "40 % of sexes missing",
            write("sex_missing", &COLUMNS, &sex_missing)?,
            Some("null rates"),
        ),
        (
            "an island misspelt",
            write("misspelt", &COLUMNS, &misspelt)?,
            Some("known levels"),
        ),
        (
            "a biased bill gauge",
            write("biased", &COLUMNS, &biased)?,
            Some("drift against training"),
        ),
    ];

    // Step 3: run the data checks on every batch, as CI runs tests.
    let mut suites = Vec::new();
    let mut caught = 0;
    let mut clean_passed = false;
    let mut table = String::from("suite,check,outcome,message\n");
    for (what, path, expected) in &batches {
        let batch = read_batch(path)?;
        let checks = data_checks(&batch, &production);
        let verdict = if checks.iter().all(|(_, c)| c.is_ok()) {
            "passes every check"
        } else {
            "fails:"
        };
        println!("  data: {what:<22} {verdict}");
        let failed = tabulate(&format!("data: {what}"), &checks, &mut table);
        match expected {
            None => clean_passed = failed.is_empty(),
            Some(check) => caught += usize::from(failed.contains(check)),
        }
        suites.push((format!("data: {what}"), checks));
    }
    let faulty = batches.len() - 1;
    lesson.claim(
        "the data checks reject each corrupted batch and accept the clean one",
        clean_passed && caught == faulty,
        format!("the clean batch passes all five checks; each of the {faulty} faulty batches fails the check meant for its fault ({caught}/{faulty})"),
        &[("caught", caught as f64)],
    );

    // Step 4: candidate models go through the gate against production on the frozen holdout.
    // A retrained model (the same recipe); one trained on the kilogram batch's units (an
    // upstream bug that reached training); one so heavily regularised that its probabilities
    // are nearly flat — still mostly right, badly calibrated.
    let (x, y) = (production.train_x(), production.train_y());
    let mut kilograms = x.clone();
    kilograms.column_mut(3).mapv_inplace(|g| g / 1000.0);
    let candidates: Vec<(&str, ModelArtefact, bool)> = vec![
        ("retrained", fit_artefact("2", x, y, 0.5)?, true),
        (
            "trained on kilograms",
            fit_artefact("2", &kilograms, y, 1.0)?,
            false,
        ),
        ("over-regularised", fit_artefact("2", x, y, ALPHA)?, false),
    ];
    let mut right_calls = 0;
    let mut caught_by_log_loss_alone = false;
    for (what, candidate, should_pass) in &candidates {
        let checks = model_gate(candidate, &production)?;
        let passed = checks.iter().all(|(_, c)| c.is_ok());
        println!(
            "  model: {what:<22} {}",
            if passed { "promoted" } else { "rejected:" }
        );
        let failed = tabulate(&format!("model: {what}"), &checks, &mut table);
        right_calls += usize::from(passed == *should_pass);
        if *what == "over-regularised" {
            caught_by_log_loss_alone = failed == ["holdout log loss"];
        }
        suites.push((format!("model: {what}"), checks));
    }
    lesson.claim(
        "the gate rejects degraded models and accepts a good one",
        right_calls == candidates.len() && caught_by_log_loss_alone,
        format!(
            "{right_calls} of {} candidates judged as expected: the retrained model promoted, the unit-bug and flat models rejected; the flat one kept its accuracy and was caught by log loss alone: {caught_by_log_loss_alone}",
            candidates.len()
        ),
        &[("right_calls", right_calls as f64)],
    );

    // The results as CI shows them: a JUnit XML report and the same as a table.
    let report = lesson.out_file("gate.xml");
    write_atomically(&report, junit(&suites))?;
    lesson.record(ArtefactKind::Data, &report)?;
    let csv_path = lesson.out_file("checks.csv");
    write_atomically(&csv_path, table)?;
    lesson.record(ArtefactKind::Table, &csv_path)?;

    lesson.finish()?;
    Ok(())
}

//! # Deploying a model, end to end
//!
//! **Question:** How would you deploy a model?
//!
//! **Answer:** Train and persist the whole pipeline with its metadata (schema, versions, data hash,
//! scores); serve it behind a validated API with health and metrics; deploy each new version beside
//! the old one and switch atomically; monitor inputs, predictions and latency against what the
//! previous version did; and keep the previous version loadable, so that a rollback is one reload
//! that restores its answers exactly — and practise the rollback, under traffic, before you need
//! it.
//!
//! **Evidence:** Version 1 is trained, saved and served; a probe of 83 birds is kept byte for byte.
//! Under traffic of 20,000 (quick) or 48,000 requests on 16 connections, version 2 — retrained on
//! data from a bill gauge that read 5 mm long, its file sound in every check — is deployed a
//! quarter of the way in. A monitor comparing predicted class shares per 500 answers with version
//! 1's (chi-square, p < 0.001) raises the alarm about 450–470 answers later and never in the 10
//! (24) windows before; the rollback pins version 1. No request fails across both changes, and
//! afterwards the probe's 10,755-byte answer is byte-identical to version 1's.
//!
//! **Run:** `cargo run --example end_to_end_deployment` (add `-- --quick` for a short run, `--
//! --serve` to keep its server running for you).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::Result;
use harness::prelude::*;
use harness::serve::{http_get, http_post};
use lessons_deploy::{
    LoadReport, ModelServer, PenguinModel, fit_artefact, load_test, request_body, single_row_bodies,
};
use rand::Rng;
use serde_json::Value;

/// The monitor's window (answers) and its alarm level for the chi-square test of class shares.
const WINDOW: usize = 500;
const ALARM_P: f64 = 0.001;

/// The chi-square statistic of observed class counts against expected shares, and its p-value
/// for classes − 1 = 2 degrees of freedom (for two, the survival function is exp(−x/2)).
fn class_shift_p(counts: &[usize; 3], shares: &[f64; 3]) -> f64 {
    let n: usize = counts.iter().sum();
    let x2: f64 = counts
        .iter()
        .zip(shares)
        .map(|(&o, &s)| {
            let e = (s * n as f64).max(1e-9);
            (o as f64 - e).powi(2) / e
        })
        .sum();
    (-x2 / 2.0).exp()
}

/// How many of `answers` (each: from version 2?, predicted class) fell in each class.
fn class_counts(answers: &[(bool, usize)]) -> [usize; 3] {
    let mut counts = [0usize; 3];
    for &(_, class) in answers {
        counts[class] += 1;
    }
    counts
}

/// Each class's share of `answers`.
fn class_shares(answers: &[(bool, usize)]) -> [f64; 3] {
    class_counts(answers).map(|c| c as f64 / answers.len().max(1) as f64)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Step 1: train and persist. Version 1 is the penguin pipeline, saved with its metadata into
    // the serving directory's version 1.
    let v1 = PenguinModel::fit("1", lesson.seed(), 1.0)?;
    // The serving directory starts empty: versions left by an earlier run in the same output
    // folder would be served as the newest.
    let models = lesson.out_file("models");
    match std::fs::remove_dir_all(&models) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    v1.save(&models.join("1/model.wbm"))?;
    println!(
        "trained version 1: holdout accuracy {:.1} %, data {}…",
        100.0
            * v1.artefact()
                .metadata()
                .score("test_accuracy")
                .unwrap_or(f64::NAN),
        &v1.artefact().metadata().training_data()[..12]
    );

    // Step 2: serve and query. The service starts on the newest version; a probe of every
    // held-out bird is kept, byte for byte, as version 1's answer.
    let server = ModelServer::start(&["--model-dir", &models.to_string_lossy()])?;
    let url = server.url().to_string();
    lesson.record_endpoint(&url)?;
    let features = v1.artefact().metadata().features().to_vec();
    let probe = request_body(&features, v1.test_x());
    let before = http_post(&format!("{url}/predict"), &probe)?;
    ensure!(
        before.status() == 200,
        "the probe failed: {}",
        before.body()
    );
    println!(
        "serving on {url}; the probe's {} birds answered by version 1",
        v1.test_x().nrows()
    );

    // Step 3: a bad version ships. Version 2 was retrained on a season whose bill gauge read
    // 5 mm long — every value in range, every check of the file passes — so on real birds it
    // sees bills 5 mm shorter than it learnt and calls more of them Adelie.
    let mut biased = v1.train_x().clone();
    biased.column_mut(0).mapv_inplace(|b| b + 5.0);
    let v2 = fit_artefact("2", &biased, v1.train_y(), 1.0)?;
    let differs = v2.probabilities(v1.test_x())? != v1.artefact().probabilities(v1.test_x())?;
    ensure!(
        differs,
        "version 2 must answer differently for the rollback to show"
    );

    // Step 4: production traffic runs throughout. A quarter of the way in, version 2 is
    // deployed; a monitor watches the share of each predicted class per 500 answers against the
    // shares version 1 gave before the deployment (chi-square, alarm at p < 0.001) and, on the
    // first alarm, rolls back by pinning version 1. No request may fail across either change.
    let requests = lesson.pick(48_000, 20_000);
    let mut rng = lesson.rng(1);
    let birds: Vec<usize> = (0..requests)
        .map(|_| rng.gen_range(0..v1.test_x().nrows()))
        .collect();
    let bodies = single_row_bodies(&features, v1.test_x());
    let classes = v1.artefact().metadata().classes().to_vec();
    let answers: Mutex<Vec<(bool, usize)>> = Mutex::new(Vec::with_capacity(requests));
    let issued = AtomicUsize::new(0);
    let deployed_at: OnceLock<usize> = OnceLock::new();
    let (report, alarm_window, rolled_back) =
        std::thread::scope(|scope| -> Result<(LoadReport, Option<usize>, bool)> {
            let load = scope.spawn(|| {
                load_test(
                    &url,
                    "/predict",
                    16,
                    requests,
                    Duration::from_secs(60),
                    &issued,
                    |i| &bodies[birds[i]],
                    |_, _, answer| {
                        let Ok(value) = serde_json::from_str::<Value>(answer.body()) else {
                            return false;
                        };
                        let class = classes
                            .iter()
                            .position(|c| value["predictions"][0]["class"] == c.as_str());
                        let version = value["model_version"].as_str();
                        match (answer.status(), class, version) {
                            (200, Some(class), Some(v @ ("1" | "2"))) => {
                                answers
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .push((v == "2", class));
                                true
                            }
                            _ => false,
                        }
                    },
                )
            });
            while issued.load(Ordering::Relaxed) < requests / 4 && !load.is_finished() {
                std::thread::sleep(Duration::from_millis(1));
            }
            let baseline = answers.lock().unwrap_or_else(|p| p.into_inner()).clone();
            std::fs::create_dir_all(models.join("2"))?;
            harness::catalogue::write_atomically(
                &models.join("2/model.wbm"),
                v2.to_bytes(toolkit::artefact::Encoding::Binary)?,
            )?;
            let deploy = http_post(&format!("{url}/admin/reload"), b"")?;
            ensure!(
                deploy.status() == 200,
                "the deployment failed: {}",
                deploy.body()
            );
            let _ = deployed_at.set(answers.lock().unwrap_or_else(|p| p.into_inner()).len());
            let shares = class_shares(&baseline);
            // The monitor: every full window of answers since the deployment, tested as it fills.
            let mut checked = *deployed_at.get().unwrap_or(&0) / WINDOW;
            let mut alarm = None;
            while !load.is_finished() && alarm.is_none() {
                let seen = answers.lock().unwrap_or_else(|p| p.into_inner()).clone();
                while (checked + 1) * WINDOW <= seen.len() && alarm.is_none() {
                    let counts = class_counts(&seen[checked * WINDOW..(checked + 1) * WINDOW]);
                    if class_shift_p(&counts, &shares) < ALARM_P {
                        alarm = Some(checked);
                    }
                    checked += 1;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let mut rolled_back = false;
            if alarm.is_some() {
                let rollback = http_post(&format!("{url}/admin/reload"), br#"{"version": "1"}"#)?;
                rolled_back = rollback.status() == 200;
            }
            let report = load
                .join()
                .map_err(|_| anyhow::anyhow!("the load thread panicked"))?;
            Ok((report, alarm, rolled_back))
        })?;
    let answers = answers.into_inner().unwrap_or_else(|p| p.into_inner());
    let deployed = deployed_at.get().copied().unwrap_or(0);

    // The same test over the windows before the deployment counts the monitor's false alarms.
    let shares = class_shares(&answers[..deployed]);
    let window_counts = |w: usize| class_counts(&answers[w * WINDOW..(w + 1) * WINDOW]);
    let quiet_windows = deployed / WINDOW;
    let false_alarms = (0..quiet_windows)
        .filter(|&w| class_shift_p(&window_counts(w), &shares) < ALARM_P)
        .count();
    let delay = alarm_window.map(|w| (w + 1) * WINDOW - deployed);
    let by_two = answers.iter().filter(|a| a.0).count();
    println!(
        "{} requests: version 2 went live after answer {deployed}; the monitor's alarm came {} answers later; {} answers came from version 2; {} failed",
        report.answered(),
        delay.map_or("never".into(), |d| d.to_string()),
        by_two,
        report.failed()
    );
    lesson.claim(
        "the monitor catches the bad version within two windows, and never before it",
        delay.is_some_and(|d| d <= 2 * WINDOW) && false_alarms == 0,
        format!(
            "alarm {} answers after the deployment (bound {}); {false_alarms} alarms in the {quiet_windows} windows before it",
            delay.map_or("never".into(), |d| d.to_string()),
            2 * WINDOW
        ),
        &[("false_alarms", false_alarms as f64)],
    );

    // Step 5: after the rollback the service answers exactly as version 1 did: the probe's
    // answer is the same bytes as before the deployment.
    let after = http_post(&format!("{url}/predict"), &probe)?;
    let health: Value = serde_json::from_str(http_get(&format!("{url}/health"))?.body())?;
    let identical = after.status() == 200 && after.body() == before.body();
    println!(
        "after the rollback: serving version {}, probe answer identical to version 1's: {identical}",
        health["model_version"]
    );
    lesson.claim(
        "after rollback the service answers exactly as before, and no request failed",
        rolled_back && identical && report.failed() == 0 && report.answered() == requests && by_two > 0,
        format!(
            "the probe's {}-byte answer is byte-identical to version 1's; {}/{requests} requests answered across the deployment and the rollback",
            after.body().len(),
            report.answered() - report.failed()
        ),
        &[("failed", report.failed() as f64)],
    );

    // The figure: each class's share of the answers per window, with the deployment and the
    // rollback marked where the shares jump and return.
    let windows = answers.len() / WINDOW;
    let share_series = |class: usize| -> Vec<(f64, f64)> {
        (0..windows)
            .map(|w| {
                (
                    (w * WINDOW + WINDOW / 2) as f64,
                    100.0 * window_counts(w)[class] as f64 / WINDOW as f64,
                )
            })
            .collect()
    };
    let mut chart = plot::LineChart::new(
        "Predicted class shares per 500 answers",
        "answers",
        "share of answers (%)",
    );
    for (c, name) in classes.iter().enumerate() {
        chart = chart.series(name.clone(), share_series(c));
    }
    chart = chart.series(
        "version 2 deployed",
        vec![(deployed as f64, 0.0), (deployed as f64, 80.0)],
    );
    if let Some(w) = alarm_window {
        let at = ((w + 1) * WINDOW) as f64;
        chart = chart.series("alarm → rollback", vec![(at, 0.0), (at, 80.0)]);
    }
    figure!(lesson, "rollback", plot::SIZE, |root| {
        chart.draw(&root)?;
    })?;

    drop(server);
    lesson.finish()?;
    Ok(())
}
